/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCPACCEPT_H
#define BPFD_TRACERS_TCPACCEPT_H

/* The tcpaccept tracer's record, shared by tcpaccept.bpf.c and tcpaccept.c. */

#include "tcp.h"

enum tcpaccept_event {
	TCPACCEPT_ACCEPT,	/* accept(2) returned a connection (retval: its fd) */
	TCPACCEPT_LISTEN,	/* a socket started listening */
};

struct tcpaccept_record {
	struct bpfd_record hdr;
	struct tcp_tuple tuple;
	__u32 event;		/* enum tcpaccept_event */
	__u32 pad;
};

#endif
