/*
 * tcpconnect: outbound TCP connection attempts and their outcome.
 *
 * sock:inet_sock_set_state only. A connect() moves the socket from CLOSE
 * to SYN_SENT in the connecting task (process context): that task is
 * remembered per socket. The answer moves it on later, mostly in softirq,
 * where the current task is whoever the interrupt hit: to ESTABLISHED, or
 * back to CLOSE with the reason in sk_err (ECONNREFUSED for a reset,
 * ETIMEDOUT when the SYNs went unanswered; none when the process closed
 * the socket first). The event carries the remembered task, so a
 * non-blocking connect is attributed like a blocking one.
 */
#include "tcpconnect.h"
#include "tcp.bpf.h"

/*
 * Sockets in SYN_SENT and who put them there. LRU: a socket that never
 * leaves SYN_SENT as far as this program sees (attached mid-connect) is
 * evicted, never left to fill the map.
 */
BPF_TABLE("lru_hash", u64, struct bpfd_record, bpfd_tcpconnect_pending, 16384);

TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
	u64 sk = (u64)args->skaddr;
	struct tcpconnect_record r;
	struct bpfd_record *who;
	int err = 0;

	if (args->protocol != BPFD_IPPROTO_TCP)
		return 0;
	if (args->newstate == BPFD_TCP_SYN_SENT) {
		/* connect() itself: the task is the connecting one. */
		if (bpfd_skip(BPFD_TRACER_TYPE))
			return 0;
		bpfd_fill(&r.hdr, BPFD_TRACER_TYPE);
		bpfd_tcpconnect_pending.update(&sk, &r.hdr);
		return 0;
	}
	if (args->oldstate != BPFD_TCP_SYN_SENT)
		return 0;
	who = bpfd_tcpconnect_pending.lookup(&sk);
	if (!who)
		return 0;
	__builtin_memcpy(&r.hdr, who, sizeof(r.hdr));
	bpfd_tcpconnect_pending.delete(&sk);
	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	/*
	 * The ends from the tracepoint's record, not the socket: by the move
	 * to CLOSE the kernel has already let go of the local port (skc_num).
	 */
	__builtin_memset(&r.tuple, 0, sizeof(r.tuple));
	r.tuple.family = args->family;
	r.tuple.sport = args->sport;
	r.tuple.dport = args->dport;
	r.tuple.state = args->newstate;
	if (args->family == BPFD_AF_INET6) {
		__builtin_memcpy(r.tuple.saddr, args->saddr_v6, 16);
		__builtin_memcpy(r.tuple.daddr, args->daddr_v6, 16);
	} else {
		__builtin_memcpy(r.tuple.saddr, args->saddr, 4);
		__builtin_memcpy(r.tuple.daddr, args->daddr, 4);
	}
	if (args->newstate != BPFD_TCP_ESTABLISHED) {
		bpf_probe_read_kernel(&err, sizeof(err), (char *)sk + BPFD_OFF_SK_ERR);
		r.hdr.retval = err ? -err : TCPCONNECT_CLOSED;
	}
	if (bpfd_tcp_prefiltered(BPFD_TRACER_TYPE, &r.tuple))
		return 0;
	r.hdr.ktime_ns = bpf_ktime_get_boot_ns();
	r.hdr.type = BPFD_TRACER_TYPE;
	bpfd_submit(&r, sizeof(r), BPFD_TRACER_TYPE);
	return 0;
}
