/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCPCONNECT_H
#define BPFD_TRACERS_TCPCONNECT_H

/* The tcpconnect tracer's record, shared by tcpconnect.bpf.c and tcpconnect.c. */

#include "tcp.h"

/*
 * The outcome of a connection attempt (record.hdr.retval): 0 established,
 * else -errno as the socket's error said it (-ECONNREFUSED: reset;
 * -ETIMEDOUT: no answer), or TCPCONNECT_CLOSED when the process closed the
 * socket before there was an answer.
 */
enum { TCPCONNECT_CLOSED = 1 };

struct tcpconnect_record {
	struct bpfd_record hdr;	/* the connecting process, as at connect() */
	struct tcp_tuple tuple;
};

#endif
