/*
 * tcpdrop: TCP packets the kernel drops (skb:kfree_skb, with its reason),
 * counted per flow in the kernel: a flood is one record per flow and
 * reason, with a count, which the daemon drains once a second (tcpdrop.c).
 *
 * A drop happens in softirq more often than not, where the current task is
 * whoever the interrupt hit: the event is attributed to the process that
 * owns the socket instead (rx_sk, else skb->sk), remembered per socket
 * when it connected, listened or accepted, in process context. A packet no
 * socket wanted has no owner: no pid, cgroup 0.
 */
#include "tcpdrop.h"
#include "../tcp/tcp.bpf.h"

#define BPFD_ETH_P_IP 0x0800
#define BPFD_ETH_P_IPV6 0x86DD

BPF_HASH(bpfd_tcpdrop_flows, struct tcpdrop_key, struct tcpdrop_record, TCPDROP_FLOWS_MAX);
/* Drops of a new flow that found bpfd_tcpdrop_flows full: counted, not reported. */
BPF_PERCPU_ARRAY(bpfd_tcpdrop_full, u64, 1);
/*
 * Per socket, the process that connected, listened or accepted with it
 * (its record header as then). Deleted when the socket closes; LRU so that
 * sockets this program never saw close cannot fill it.
 */
BPF_TABLE("lru_hash", u64, struct bpfd_record, bpfd_tcpdrop_owners, 65536);

/*
 * The leading fields of sock:inet_sock_set_state's record, the same since
 * the tracepoint appeared (4.16); everything else is read from the socket.
 * (The TRACEPOINT_PROBE name is tcpconnect's.)
 */
struct bpfd_tcpdrop_state_args {
	u64 common;
	const void *skaddr;
	int oldstate;
	int newstate;
};

static __always_inline void bpfd_tcpdrop_own(void *sk)
{
	struct bpfd_record h;
	u64 key = (u64)sk;

	bpfd_fill(&h, BPFD_TRACER_TYPE);
	bpfd_tcpdrop_owners.update(&key, &h);
}

int bpfd_tcpdrop_set_state(struct bpfd_tcpdrop_state_args *args)
{
	void *sk = (void *)args->skaddr;
	u64 key = (u64)sk;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	/* connect() and listen(): process context, the owner is current. */
	if (args->newstate == BPFD_TCP_SYN_SENT || args->newstate == BPFD_TCP_LISTEN) {
		if (bpfd_tcp_sk_is_tcp(sk))
			bpfd_tcpdrop_own(sk);
	} else if (args->newstate == BPFD_TCP_CLOSE && bpfd_tcpdrop_owners.lookup(&key)) {
		bpfd_tcpdrop_owners.delete(&key);
	}
	return 0;
}

static __always_inline int bpfd_tcpdrop_accepted(long fd)
{
	void *sk;

	if (fd < 0 || bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	sk = bpfd_tcp_fd_sock(fd);
	if (sk && bpfd_tcp_sk_is_tcp(sk))
		bpfd_tcpdrop_own(sk);
	return 0;
}

int bpfd_tcpdrop_accept(struct bpfd_tcp_sys_exit *args)
{
	return bpfd_tcpdrop_accepted(args->ret);
}

/*
 * The packet's addresses, ports and flags into @k (as seen from this host,
 * with the help of @sk when there is one). 0, or -1 for a packet that is
 * not TCP.
 */
static __always_inline int bpfd_tcpdrop_parse(void *skb, void *sk, u16 protocol,
					      struct tcpdrop_key *k, u8 *flags)
{
	struct tcp_tuple *t = &k->tuple;
	u8 saddr[16] = {}, daddr[16] = {}, vihl = 0, proto = 0;
	u16 nh = 0, ports[2] = {}, num = 0;
	char *head, *ip, *th;

	head = bpfd_read_ptr(skb, BPFD_OFF_SKB_HEAD);
	BPFD_KGET(nh, (char *)skb + BPFD_OFF_SKB_NETWORK_HEADER);
	if (!head || nh == 0xffff)
		return -1;
	ip = head + nh;
	bpf_probe_read_kernel(&vihl, 1, ip);
	if (protocol == BPFD_ETH_P_IP && (vihl >> 4) == 4) {
		bpf_probe_read_kernel(&proto, 1, ip + 9);
		bpf_probe_read_kernel(saddr, 4, ip + 12);
		bpf_probe_read_kernel(daddr, 4, ip + 16);
		th = ip + (vihl & 0xf) * 4;
		t->family = BPFD_AF_INET;
	} else if (protocol == BPFD_ETH_P_IPV6 && (vihl >> 4) == 6) {
		/* A TCP header right after the fixed header: extension headers are not walked. */
		bpf_probe_read_kernel(&proto, 1, ip + 6);
		bpf_probe_read_kernel(saddr, 16, ip + 8);
		bpf_probe_read_kernel(daddr, 16, ip + 24);
		th = ip + 40;
		t->family = BPFD_AF_INET6;
	} else {
		return -1;
	}
	if (proto != BPFD_IPPROTO_TCP)
		return -1;
	bpf_probe_read_kernel(ports, sizeof(ports), th);
	bpf_probe_read_kernel(flags, 1, th + 13);
	ports[0] = bpfd_tcp_ntohs(ports[0]);
	ports[1] = bpfd_tcp_ntohs(ports[1]);
	if (sk)
		BPFD_KGET(num, (char *)sk + BPFD_OFF_SK_NUM);
	/*
	 * Incoming unless the socket's own port is the packet's source: this
	 * host's end is then the packet's source, else its destination.
	 */
	if (sk && num == ports[0] && num != ports[1]) {
		__builtin_memcpy(t->saddr, saddr, 16);
		__builtin_memcpy(t->daddr, daddr, 16);
		t->sport = ports[0];
		t->dport = ports[1];
	} else {
		__builtin_memcpy(t->saddr, daddr, 16);
		__builtin_memcpy(t->daddr, saddr, 16);
		t->sport = ports[1];
		t->dport = ports[0];
	}
	return 0;
}

/*
 * The tracepoint's record has a field of this type, which no header BCC
 * compiles with declares (the kernel's is in its BTF only): an enum is an
 * int, its values are the kernel's, named by tcpdrop.c from the format.
 */
enum skb_drop_reason { BPFD_SKB_DROP_REASON_ANY };

TRACEPOINT_PROBE(skb, kfree_skb)
{
	void *skb = args->skbaddr, *sk = args->rx_sk;
	struct tcpdrop_record r, *v;
	struct bpfd_record *owner;
	struct tcpdrop_key k = {};
	u32 zero = 0;
	u64 key, *full;
	u8 flags = 0;

	if (args->protocol != BPFD_ETH_P_IP && args->protocol != BPFD_ETH_P_IPV6)
		return 0;
	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	if (!sk)
		sk = bpfd_read_ptr(skb, BPFD_OFF_SKB_SK);
	if (bpfd_tcpdrop_parse(skb, sk, args->protocol, &k, &flags) < 0)
		return 0;
	k.reason = args->reason;
	/* A flood: the flow is there already, one atomic add. */
	v = bpfd_tcpdrop_flows.lookup(&k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		v->tcpflags |= flags;
		return 0;
	}
	if (bpfd_tcp_prefiltered(BPFD_TRACER_TYPE, &k.tuple))
		return 0;
	__builtin_memset(&r, 0, sizeof(r));
	key = (u64)sk;
	owner = sk ? bpfd_tcpdrop_owners.lookup(&key) : NULL;
	if (owner)
		__builtin_memcpy(&r.hdr, owner, sizeof(r.hdr));
	r.hdr.ktime_ns = bpf_ktime_get_boot_ns();
	r.hdr.type = BPFD_TRACER_TYPE;
	r.hdr.retval = 0;
	__builtin_memcpy(&r.tuple, &k.tuple, sizeof(r.tuple));
	if (sk)
		bpf_probe_read_kernel(&r.tuple.state, 1, (char *)sk + BPFD_OFF_SK_STATE);
	r.reason = k.reason;
	r.tcpflags = flags;
	r.count = 1;
	if (bpfd_tcpdrop_flows.insert(&k, &r) == 0)
		return 0;
	/* Another CPU made the flow meanwhile, or the map is full. */
	v = bpfd_tcpdrop_flows.lookup(&k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		return 0;
	}
	full = bpfd_tcpdrop_full.lookup(&zero);
	if (full)
		(*full)++;
	return 0;
}
