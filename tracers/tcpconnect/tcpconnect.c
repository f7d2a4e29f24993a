// SPDX-License-Identifier: MIT
/* tcpconnect: outbound TCP connection attempts and their outcome. */
#include <errno.h>
#include <string.h>

#include "tracer.h"
#include "tracers/tcp/tcp_common.h"
#include "tracers/tcpconnect/tcpconnect.h"
#include "tcpconnect_bpf.h"
#include "tcpconnect_io_uring_bpf.h"

static const struct tracer_hook tcpconnect_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "sock:inet_sock_set_state",
	  "tracepoint__sock__inet_sock_set_state" },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_submit_req",
	  "tracepoint__io_uring__io_uring_submit_req", .io_uring = true },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_complete",
	  "tracepoint__io_uring__io_uring_complete", .io_uring = true },
	{ 0 },
};

static const char *const tcpconnect_keys[] = { TCP_TUPLE_KEYS, "outcome", "syscall", "command",
						"returnval", NULL };
static const char *const tcpconnect_maps[] = { TCP_PREFILTER_MAPS, NULL };

static const char *outcome(int64_t retval)
{
	switch (retval) {
	case 0:
		return "established";
	case -ECONNREFUSED:
		return "refused";
	case -ETIMEDOUT:
		return "timedout";
	case TCPCONNECT_CLOSED:
		return "closed";
	default:
		return "error";
	}
}

static int tcpconnect_decode(const void *raw, size_t size, struct event *ev)
{
	const struct tcpconnect_record *r = raw;
	int err;

	if (size < sizeof(*r) || r->syscall > TCPCONNECT_SYS_IO_URING)
		return -EINVAL;
	err = tcp_tuple_add(ev, &r->tuple);
	if (!err)
		err = event_add_str(ev, "outcome", outcome(ev->returnval));
	if (!err)
		err = event_add_str(ev, "syscall", r->syscall == TCPCONNECT_SYS_IO_URING
							   ? "io_uring_connect" : "connect");
	/* The process closed the socket first: no error of the connection's own. */
	if (ev->returnval == TCPCONNECT_CLOSED)
		ev->returnval = 0;
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops tcpconnect_tracer = {
	.name = "tcpconnect",
	.description = "outbound TCP connections (IPv4, IPv6) and their outcome: established, "
		       "refused, timed out",
	.bpf_source = bpfd_tcpconnect_bpf_source,
	.io_uring_source = bpfd_tcpconnect_io_uring_bpf_source,
	.hooks = tcpconnect_hooks,
	.keys = tcpconnect_keys,
	.address_keys = tcp_address_keys,
	.port_keys = tcp_port_keys,
	.maps = tcpconnect_maps,
	.rules_changed = tcp_rules_changed,
	.decode = tcpconnect_decode,
};
