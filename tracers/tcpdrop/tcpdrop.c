// SPDX-License-Identifier: MIT
/*
 * tcpdrop: TCP packets the kernel drops, with the kernel's reason,
 * aggregated per flow in the kernel (tcpdrop.bpf.c) and drained here once a
 * second: each drained flow is one event with data.count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpfmap.h"
#include "tracer.h"
#include "tracers/tcp/tcp_common.h"
#include "tracers/tcpdrop/tcpdrop.h"
#include "tcpdrop_bpf.h"

static const struct tracer_hook tcpdrop_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "skb:kfree_skb", "tracepoint__skb__kfree_skb" },
	/* Who owns a socket: its connect() and listen(), its accept(). */
	{ TRACER_HOOK_TRACEPOINT, "sock:inet_sock_set_state", "bpfd_tcpdrop_set_state" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_accept", "bpfd_tcpdrop_accept" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_accept4", "bpfd_tcpdrop_accept" },
	{ 0 },
};

static const char *const tcpdrop_keys[] = { TCP_TUPLE_KEYS, "reason", "tcpflags", "state",
					     "count", "command", NULL };
static const char *const tcpdrop_maps[] = { TCP_PREFILTER_MAPS, "bpfd_tcpdrop_flows",
					     "bpfd_tcpdrop_full", NULL };
enum { MAP_FLOWS = 3, MAP_FULL = 4 };

/*
 * The names of the running kernel's enum skb_drop_reason, from the
 * kfree_skb tracepoint's print format: `{ 3, "NO_SOCKET" }, ...`. They
 * change between kernels (values are renumbered as reasons are added), so
 * none is written here.
 */
enum { REASONS_MAX = 512, REASON_LEN = 40 };
static char reason_names[REASONS_MAX][REASON_LEN];

static const char *const format_files[] = {
	"/sys/kernel/tracing/events/skb/kfree_skb/format",
	"/sys/kernel/debug/tracing/events/skb/kfree_skb/format",
};

static void load_reasons(void)
{
	static int loaded;
	char *text = NULL, *p;
	size_t cap = 0;
	FILE *f = NULL;
	size_t i;

	if (loaded)
		return;
	loaded = 1;
	for (i = 0; !f && i < sizeof(format_files) / sizeof(format_files[0]); i++)
		f = fopen(format_files[i], "re");
	if (!f)
		return;
	/* The print fmt is one long line; the enum's pairs are the only `{ N, "NAME" }`. */
	while (getline(&text, &cap, f) > 0) {
		for (p = strstr(text, "{ "); p; p = strstr(p + 1, "{ ")) {
			char name[REASON_LEN];
			unsigned int v;

			if (sscanf(p, "{ %u, \"%39[A-Z0-9_]\" }", &v, name) == 2 && v < REASONS_MAX)
				snprintf(reason_names[v], REASON_LEN, "%s", name);
		}
	}
	free(text);
	fclose(f);
}

static int add_reason(struct event *ev, unsigned int reason)
{
	if (reason < REASONS_MAX && reason_names[reason][0])
		return event_add_str(ev, "reason", reason_names[reason]);
	return event_add_int(ev, "reason", reason);
}

static int add_flags(struct event *ev, unsigned int flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	char *text = event_scratch_alloc(ev, 40);
	size_t n = 0, i;

	if (!text)
		return -ENOSPC;
	text[0] = '\0';
	for (i = 0; i < 8; i++)
		if (flags & (1u << i))
			n += snprintf(text + n, 40 - n, "%s%s", n ? "|" : "", names[i]);
	return event_add_data(ev, "tcpflags", text, n);
}

static int tcpdrop_decode(const void *raw, size_t size, struct event *ev)
{
	const struct tcpdrop_record *r = raw;
	int err;

	if (size < sizeof(*r))
		return -EINVAL;
	err = tcp_tuple_add(ev, &r->tuple);
	if (!err)
		err = add_reason(ev, r->reason);
	if (!err)
		err = add_flags(ev, r->tcpflags);
	if (!err)
		err = event_add_str(ev, "state", tcp_state_name(r->tuple.state));
	if (!err)
		err = event_add_int(ev, "count", (int64_t)r->count);
	/* The owner's comm; none without an owner. */
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	return err;
}

/*
 * Drains the flows: their keys first (a walk from a deleted key starts
 * over), then each flow read and deleted in one step, so that a drop
 * counted meanwhile goes to a new flow for the next drain, not lost
 * between a read and a delete.
 */
static int tcpdrop_tick(const int *fds, tracer_emit_fn emit, void *ctx, struct tracer_drain *drain)
{
	static struct tcpdrop_key keys[TCPDROP_FLOWS_MAX];
	struct tcpdrop_record r;
	const void *prev = NULL;
	uint64_t full = 0;
	size_t n = 0, i;

	load_reasons();
	while (n < TCPDROP_FLOWS_MAX && bpfmap_next_key(fds[MAP_FLOWS], prev, &keys[n]) == 0)
		prev = &keys[n++];
	for (i = 0; i < n; i++) {
		if (bpfmap_lookup_and_delete(fds[MAP_FLOWS], &keys[i], &r) < 0)
			continue;
		drain->records++;
		drain->events += r.count;
		emit(ctx, &r, sizeof(r));
	}
	if (bpfmap_percpu_sum(fds[MAP_FULL], 0, &full) == 0)
		drain->full = full;
	return 0;
}

const struct tracer_ops tcpdrop_tracer = {
	.name = "tcpdrop",
	.description = "TCP packets the kernel drops, with its reason, counted per flow each second",
	.bpf_source = bpfd_tcpdrop_bpf_source,
	.hooks = tcpdrop_hooks,
	.keys = tcpdrop_keys,
	.address_keys = tcp_address_keys,
	.port_keys = tcp_port_keys,
	.maps = tcpdrop_maps,
	.tick = tcpdrop_tick,
	.rules_changed = tcp_rules_changed,
	.decode = tcpdrop_decode,
};
