// SPDX-License-Identifier: MIT
/*
 * What the network tracers (tcpconnect, tcpaccept, tcpdrop) share on the
 * daemon's side: the data keys of a connection's two ends, and the
 * in-kernel prefilter on addresses and ports (tcp.bpf.h tests it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpfmap.h"
#include "rules.h"
#include "tracer.h"
#include "tracers/tcp/tcp_common.h"

const char *const tcp_address_keys[] = { "saddr", "daddr", NULL };
const char *const tcp_port_keys[] = { "sport", "dport", NULL };

/* Keys of the BPF maps (tcp.bpf.h): the same layout as the program's. */
struct tcp_pf_addr_key {
	uint32_t prefixlen;
	uint8_t key;
	uint8_t addr[16];
};

struct tcp_pf_port_key {
	uint16_t port;
	uint16_t key;
};

enum {
	PF_MODE,
	PF_ADDRS,
	PF_PORTS,
	/* A rule's ports beyond this many (a wide range) leave the prefilter off. */
	PF_PORTS_PER_RULE = 1024,
	PF_KEYS_MAX = 16384,	/* the larger map's size */
};

static int add_address(struct event *ev, const char *key, unsigned int family, const uint8_t *a)
{
	char *text = event_scratch_alloc(ev, INET6_ADDRSTRLEN);

	if (!text)
		return -ENOSPC;
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, text, INET6_ADDRSTRLEN))
		return -EINVAL;
	return event_add_data(ev, key, text, strlen(text));
}

int tcp_tuple_add(struct event *ev, const struct tcp_tuple *t)
{
	int err = add_address(ev, "saddr", t->family, t->saddr);

	if (!err)
		err = event_add_int(ev, "sport", t->sport);
	if (!err)
		err = add_address(ev, "daddr", t->family, t->daddr);
	if (!err)
		err = event_add_int(ev, "dport", t->dport);
	if (!err)
		err = event_add_str(ev, "family", t->family == AF_INET6 ? "ipv6" : "ipv4");
	return err;
}

const char *tcp_state_name(unsigned int state)
{
	static const char *const names[] = {
		"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

/* ---- The prefilter ---- */

static const struct {
	const char *name;
	unsigned int bit;	/* enum tcp_pf_key */
	bool address;
} pf_keys[] = {
	/* Tried in this order for each rule: the other end first, it is what rules name. */
	{ "dport", TCP_PF_DPORT, false },
	{ "daddr", TCP_PF_DADDR, true },
	{ "sport", TCP_PF_SPORT, false },
	{ "saddr", TCP_PF_SADDR, true },
};

struct pf_writer {
	const int *fds;
	unsigned int key;	/* enum tcp_pf_key */
	uint32_t bit;		/* the tracer's record type's bit */
	size_t ports;		/* counted ports of the rule (counting pass) */
	bool write;
	int err;
};

static void set_bit(struct pf_writer *w, int fd, const void *key)
{
	uint32_t types = 0;
	int err;

	if (w->err)
		return;
	if (bpfmap_lookup(fd, key, &types) < 0)
		types = 0;
	types |= w->bit;
	err = bpfmap_update(fd, key, &types, 0);
	if (err < 0)
		w->err = err;
}

static void on_ports(void *ctx, unsigned int lo, unsigned int hi)
{
	struct pf_writer *w = ctx;
	struct tcp_pf_port_key k = { .key = (uint16_t)w->key };
	unsigned int p;

	w->ports += hi - lo + 1;
	if (!w->write)
		return;
	for (p = lo; p <= hi; p++) {
		k.port = (uint16_t)p;
		set_bit(w, w->fds[PF_PORTS], &k);
	}
}

static void on_address(void *ctx, const uint8_t addr[16], unsigned int bits)
{
	struct pf_writer *w = ctx;
	struct tcp_pf_addr_key k;

	if (!w->write)
		return;
	memset(&k, 0, sizeof(k));
	k.prefixlen = 8 + bits;
	k.key = (uint8_t)w->key;
	memcpy(k.addr, addr, sizeof(k.addr));
	set_bit(w, w->fds[PF_ADDRS], &k);
}

/* Passes @r's values on key @i to the writer; true when it has them (and they fit). */
static bool plan_key(const struct rule *r, size_t i, struct pf_writer *w)
{
	w->key = pf_keys[i].bit;
	w->ports = 0;
	if (pf_keys[i].address)
		return rule_prefilter_addresses(r, pf_keys[i].name, on_address, w);
	if (!rule_prefilter_ports(r, pf_keys[i].name, on_ports, w))
		return false;
	return w->ports <= PF_PORTS_PER_RULE;
}

/*
 * Clears @bit in every element of @fd (keys of @key_size bytes), deleting
 * those left with none. Deletions wait until the walk is over: a walk from
 * a deleted key starts again from the first.
 */
static int strip_bit(int fd, size_t key_size, uint32_t bit)
{
	char *keys = calloc(PF_KEYS_MAX + 1, key_size), *key = NULL;
	size_t n = 0, i;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (n < PF_KEYS_MAX && bpfmap_next_key(fd, key, keys + n * key_size) == 0) {
		uint32_t types = 0;

		key = keys + n * key_size;
		if (bpfmap_lookup(fd, key, &types) < 0 || !(types & bit))
			continue;
		types &= ~bit;
		if (types) {
			err = bpfmap_update(fd, key, &types, 0);
			if (err < 0)
				break;
			continue;
		}
		/* Kept for deletion: the next key goes into the following slot. */
		n++;
	}
	for (i = 0; !err && i < n; i++)
		err = bpfmap_delete(fd, keys + i * key_size);
	free(keys);
	return err;
}

int tcp_rules_changed(const int *fds, const struct rule *const *rules, size_t n, size_t index)
{
	uint32_t type = tracer_record_type(index), off = 0, mode = 0;
	struct pf_writer w = { .fds = fds, .bit = 1u << type };
	size_t i, k;
	int err;

	/* Off while the maps are rewritten: every event passes meanwhile. */
	err = bpfmap_update(fds[PF_MODE], &type, &off, 0);
	if (!err)
		err = strip_bit(fds[PF_ADDRS], sizeof(struct tcp_pf_addr_key), w.bit);
	if (!err)
		err = strip_bit(fds[PF_PORTS], sizeof(struct tcp_pf_port_key), w.bit);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		const struct rule *r = rules[i];

		for (k = 0; k < sizeof(pf_keys) / sizeof(pf_keys[0]); k++) {
			w.write = false;
			if (plan_key(r, k, &w))
				break;
		}
		/* A rule no address or port narrows: any event may match it. */
		if (k == sizeof(pf_keys) / sizeof(pf_keys[0]))
			return 0;
		w.write = true;
		plan_key(r, k, &w);
		if (w.err)
			return w.err;
		mode |= pf_keys[k].bit;
	}
	if (!n)
		return 0;
	err = bpfmap_update(fds[PF_MODE], &type, &mode, 0);
	return err < 0 ? err : 1;
}
