/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCP_COMMON_H
#define BPFD_TRACERS_TCP_COMMON_H

/*
 * The daemon's side of what the network tracers share (tcp.c): the data
 * keys of a connection's ends, and their in-kernel prefilter.
 */

#include <stddef.h>

#include "../../event.h"
#include "tcp.h"

struct rule;

/* The maps every network tracer lists first in its tracer_ops.maps. */
#define TCP_PREFILTER_MAPS "bpfd_tcp_pf_mode", "bpfd_tcp_pf_addrs", "bpfd_tcp_pf_ports"

/* The keys the tuple gives: saddr, sport, daddr, dport, family. */
#define TCP_TUPLE_KEYS "saddr", "sport", "daddr", "dport", "family"
extern const char *const tcp_address_keys[];	/* saddr, daddr */
extern const char *const tcp_port_keys[];	/* sport, dport */

/* Adds @t's keys to @ev (text in @ev's scratch). 0 or a negative errno. */
int tcp_tuple_add(struct event *ev, const struct tcp_tuple *t);

/* The state's name as the kernel's tcp_states.h has it, "" for 0 (no socket). */
const char *tcp_state_name(unsigned int state);

/*
 * tracer_ops.rules_changed of the network tracers: writes tracer @index's
 * part of the address trie and the port set (the maps of
 * TCP_PREFILTER_MAPS, first in @map_fds) from its rules. On (1) when each
 * of its rules has `values` on an address or port key; off (0) otherwise.
 */
int tcp_rules_changed(const int *map_fds, const struct rule *const *rules, size_t n, size_t index);

#endif
