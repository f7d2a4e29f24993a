/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCPACCEPT_H
#define BPFD_TRACERS_TCPACCEPT_H

/* The tcpaccept tracer's record, shared by tcpaccept.bpf.c and tcpaccept.c. */

#include "../tcp/tcp.h"

enum tcpaccept_event {
	TCPACCEPT_ACCEPT,	/* accept(2) returned a connection (retval: its fd) */
	TCPACCEPT_LISTEN,	/* a socket started listening */
};

/* Which way it came (data.syscall). */
enum tcpaccept_syscall {
	TCPACCEPT_SYS_ACCEPT,
	TCPACCEPT_SYS_ACCEPT4,
	TCPACCEPT_SYS_LISTEN,
	TCPACCEPT_SYS_IO_URING,		/* an io_uring request (IORING_OP_ACCEPT) */
	TCPACCEPT_SYS_COUNT,
};

struct tcpaccept_record {
	struct bpfd_record hdr;
	struct tcp_tuple tuple;
	__u32 event;		/* enum tcpaccept_event */
	__u32 syscall;		/* enum tcpaccept_syscall */
};

#endif
