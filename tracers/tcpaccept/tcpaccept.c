// SPDX-License-Identifier: MIT
/* tcpaccept: inbound TCP connections accepted, and sockets that start listening. */
#include <errno.h>
#include <string.h>

#include "tracer.h"
#include "tracers/tcp/tcp_common.h"
#include "tracers/tcpaccept/tcpaccept.h"
#include "tcpaccept_bpf.h"
#include "tcpaccept_io_uring_bpf.h"

static const struct tracer_hook tcpaccept_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_accept", "tracepoint__syscalls__sys_exit_accept" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_accept4",
	  "tracepoint__syscalls__sys_exit_accept4" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_listen", "tracepoint__syscalls__sys_exit_listen" },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_complete",
	  "tracepoint__io_uring__io_uring_complete", .io_uring = true },
	{ 0 },
};

static const char *const tcpaccept_keys[] = { TCP_TUPLE_KEYS, "event", "syscall", "command",
					       "returnval", NULL };
static const char *const tcpaccept_maps[] = { TCP_PREFILTER_MAPS, NULL };

/* data.syscall: which way the connection or the listen came. */
static const char *const syscalls[TCPACCEPT_SYS_COUNT] = {
	[TCPACCEPT_SYS_ACCEPT] = "accept",
	[TCPACCEPT_SYS_ACCEPT4] = "accept4",
	[TCPACCEPT_SYS_LISTEN] = "listen",
	[TCPACCEPT_SYS_IO_URING] = "io_uring_accept",
};

static int tcpaccept_decode(const void *raw, size_t size, struct event *ev)
{
	const struct tcpaccept_record *r = raw;
	int err;

	if (size < sizeof(*r) || r->event > TCPACCEPT_LISTEN || r->syscall >= TCPACCEPT_SYS_COUNT)
		return -EINVAL;
	err = tcp_tuple_add(ev, &r->tuple);
	if (!err)
		err = event_add_str(ev, "event", r->event == TCPACCEPT_LISTEN ? "listen" : "accept");
	if (!err)
		err = event_add_str(ev, "syscall", syscalls[r->syscall]);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops tcpaccept_tracer = {
	.name = "tcpaccept",
	.description = "inbound TCP connections accepted (IPv4, IPv6), and sockets that start "
		       "listening",
	.bpf_source = bpfd_tcpaccept_bpf_source,
	.io_uring_source = bpfd_tcpaccept_io_uring_bpf_source,
	.hooks = tcpaccept_hooks,
	.keys = tcpaccept_keys,
	.address_keys = tcp_address_keys,
	.port_keys = tcp_port_keys,
	.maps = tcpaccept_maps,
	.rules_changed = tcp_rules_changed,
	.decode = tcpaccept_decode,
};
