/*
 * What the network tracers' programs share (tcpconnect, tcpaccept,
 * tcpdrop): reading a socket's ends, the socket behind an fd, and the
 * in-kernel prefilter on addresses and ports. Each of their sources
 * includes this file; the guard keeps one copy when several are compiled
 * into one module.
 */
#ifndef BPFD_TCP_BPF_H
#define BPFD_TCP_BPF_H

#include "tcp.h"

#define BPFD_AF_INET 2
#define BPFD_AF_INET6 10
#define BPFD_IPPROTO_TCP 6
#define BPFD_TCP_ESTABLISHED 1
#define BPFD_TCP_SYN_SENT 2
#define BPFD_TCP_CLOSE 7
#define BPFD_TCP_LISTEN 10

/* A system call's exit record: its layout has not changed since tracepoints had one. */
struct bpfd_tcp_sys_exit {
	u64 common;		/* common_type, flags, preempt_count, pid */
	int nr;
	long ret;
};

/* IPv4 addresses are prefiltered as IPv4-mapped IPv6 ones (::ffff:a.b.c.d), in one trie. */
struct bpfd_tcp_pf_addr_key {
	u32 prefixlen;		/* 8 + the address's bits */
	u8 key;			/* enum tcp_pf_key */
	u8 addr[16];
};

struct bpfd_tcp_pf_port_key {
	u16 port;
	u16 key;		/* enum tcp_pf_key */
};

/*
 * The network tracers' prefilter, per record type: which keys it tests
 * (TCP_PF_* bits, tcp.h; 0: off). An event passes when one of them holds
 * the event's value for the tracer (the maps' values are bitmasks of record
 * types), that is when at least one rule can match it.
 */
BPF_ARRAY(bpfd_tcp_pf_mode, u32, BPFD_TRACERS_MAX);
BPF_LPM_TRIE(bpfd_tcp_pf_addrs, struct bpfd_tcp_pf_addr_key, u32, 4096);
BPF_HASH(bpfd_tcp_pf_ports, struct bpfd_tcp_pf_port_key, u32, 16384);

static __always_inline u16 bpfd_tcp_ntohs(u16 x)
{
	return __builtin_bswap16(x);
}

/* @sk's ends and state, read through the BTF offsets of struct sock_common. */
static __always_inline void bpfd_tcp_sk_tuple(void *sk, struct tcp_tuple *t)
{
	u16 dport = 0;

	__builtin_memset(t, 0, sizeof(*t));
	bpf_probe_read_kernel(&t->family, sizeof(t->family), (char *)sk + BPFD_OFF_SK_FAMILY);
	bpf_probe_read_kernel(&t->state, sizeof(t->state), (char *)sk + BPFD_OFF_SK_STATE);
	bpf_probe_read_kernel(&t->sport, sizeof(t->sport), (char *)sk + BPFD_OFF_SK_NUM);
	bpf_probe_read_kernel(&dport, sizeof(dport), (char *)sk + BPFD_OFF_SK_DPORT);
	t->dport = bpfd_tcp_ntohs(dport);
	if (t->family == BPFD_AF_INET6) {
		bpf_probe_read_kernel(t->saddr, 16, (char *)sk + BPFD_OFF_SK_V6_RCV_SADDR);
		bpf_probe_read_kernel(t->daddr, 16, (char *)sk + BPFD_OFF_SK_V6_DADDR);
	} else {
		bpf_probe_read_kernel(t->saddr, 4, (char *)sk + BPFD_OFF_SK_RCV_SADDR);
		bpf_probe_read_kernel(t->daddr, 4, (char *)sk + BPFD_OFF_SK_DADDR);
	}
}

/* True for a TCP socket of IPv4 or IPv6 (not MPTCP's, not a unix one). */
static __always_inline int bpfd_tcp_sk_is_tcp(void *sk)
{
	u16 family = 0, protocol = 0;

	bpf_probe_read_kernel(&family, sizeof(family), (char *)sk + BPFD_OFF_SK_FAMILY);
	bpf_probe_read_kernel(&protocol, sizeof(protocol), (char *)sk + BPFD_OFF_SK_PROTOCOL);
	return (family == BPFD_AF_INET || family == BPFD_AF_INET6) && protocol == BPFD_IPPROTO_TCP;
}

/*
 * The struct sock behind the current task's @fd, or NULL. Only called for
 * an fd a socket call has just succeeded on (accept's result, listen's
 * argument), so the file is a socket and private_data its struct socket.
 */
static __always_inline void *bpfd_tcp_fd_sock(long fd)
{
	void *file = bpfd_fd_file((void *)bpf_get_current_task(), fd);
	void *sock = file ? bpfd_read_ptr(file, BPFD_OFF_FILE_PRIVATE_DATA) : NULL;

	return sock ? bpfd_read_ptr(sock, BPFD_OFF_SOCKET_SK) : NULL;
}

static __always_inline int bpfd_tcp_pf_addr(u32 bit, u8 key, const struct tcp_tuple *t,
					    const u8 *addr)
{
	struct bpfd_tcp_pf_addr_key k = {};
	u32 *types;

	k.prefixlen = 8 + 128;
	k.key = key;
	if (t->family == BPFD_AF_INET6) {
		__builtin_memcpy(k.addr, addr, 16);
	} else {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(k.addr + 12, addr, 4);
	}
	types = bpfd_tcp_pf_addrs.lookup(&k);
	return types && (*types & bit);
}

static __always_inline int bpfd_tcp_pf_port(u32 bit, u16 key, u16 port)
{
	struct bpfd_tcp_pf_port_key k = { .port = port, .key = key };
	u32 *types = bpfd_tcp_pf_ports.lookup(&k);

	return types && (*types & bit);
}

/*
 * True when the prefilter of record type @type drops an event with ends
 * @t (no rule can match it); counts it then. Addresses and ports only:
 * the keys that tell one connection from another on a busy server.
 */
static __always_inline int bpfd_tcp_prefiltered(u32 type, const struct tcp_tuple *t)
{
	u32 *modep = bpfd_tcp_pf_mode.lookup(&type), mode, bit = 1u << (type & 31);

	mode = modep ? *modep : 0;
	if (!mode)
		return 0;
	if ((mode & TCP_PF_DPORT) && bpfd_tcp_pf_port(bit, TCP_PF_DPORT, t->dport))
		return 0;
	if ((mode & TCP_PF_SPORT) && bpfd_tcp_pf_port(bit, TCP_PF_SPORT, t->sport))
		return 0;
	if ((mode & TCP_PF_DADDR) && bpfd_tcp_pf_addr(bit, TCP_PF_DADDR, t, t->daddr))
		return 0;
	if ((mode & TCP_PF_SADDR) && bpfd_tcp_pf_addr(bit, TCP_PF_SADDR, t, t->saddr))
		return 0;
	bpfd_prefiltered_out(type);
	return 1;
}

#endif
