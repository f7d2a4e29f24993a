/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCPCONNECT_H
#define BPFD_TRACERS_TCPCONNECT_H

/* The tcpconnect tracer's record, shared by tcpconnect.bpf.c and tcpconnect.c. */

#include "../tcp/tcp.h"

/*
 * The outcome of a connection attempt (record.hdr.retval): 0 established,
 * else -errno as the socket's error said it (-ECONNREFUSED: reset;
 * -ETIMEDOUT: no answer), or TCPCONNECT_CLOSED when the process closed the
 * socket before there was an answer.
 */
enum { TCPCONNECT_CLOSED = 1 };

/* Which way the connect came (data.syscall). */
enum tcpconnect_syscall {
	TCPCONNECT_SYS_CONNECT,		/* connect(2) */
	TCPCONNECT_SYS_IO_URING,	/* an io_uring request (IORING_OP_CONNECT) */
};

struct tcpconnect_record {
	struct bpfd_record hdr;	/* the connecting process, as at connect() */
	struct tcp_tuple tuple;
	__u32 syscall;		/* enum tcpconnect_syscall */
	__u32 pad;
};

#endif
