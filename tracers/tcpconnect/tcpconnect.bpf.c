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
 *
 * A connect through io_uring (IORING_OP_CONNECT) moves the socket to
 * SYN_SENT in the submitter, or in an io-wq worker (iou-wrk-N) of its
 * process: the submission (tcpconnect_io_uring.bpf.c) left the submitter
 * for the socket in bpfd_tcpconnect_io_uring, taken here.
 */
#include "tcpconnect.h"
#include "../tcp/tcp.bpf.h"

struct bpfd_tcpconnect_who {
	struct bpfd_record hdr;
	u32 syscall;		/* enum tcpconnect_syscall */
	u32 pad;
};

/*
 * Sockets in SYN_SENT and who put them there. LRU: a socket that never
 * leaves SYN_SENT as far as this program sees (attached mid-connect) is
 * evicted, never left to fill the map.
 */
BPF_TABLE("lru_hash", u64, struct bpfd_tcpconnect_who, bpfd_tcpconnect_pending, 16384);

#ifdef BPFD_IO_URING
/*
 * Sockets an io_uring connect request was submitted for, and its
 * submitter: from the submission to the move to SYN_SENT, or to the
 * request's completion, which deletes the entry.
 */
BPF_TABLE("lru_hash", u64, struct bpfd_record, bpfd_tcpconnect_io_uring, 4096);

/*
 * The submitter of an io_uring connect on @sk, into @who, when the
 * current task is of its process (the submitter itself or its worker):
 * 1, and the entry is taken; else 0.
 */
static __always_inline int bpfd_tcpconnect_io_uring_who(u64 sk, struct bpfd_tcpconnect_who *who)
{
	struct bpfd_record *r = bpfd_tcpconnect_io_uring.lookup(&sk);

	if (!r || r->pid != bpf_get_current_pid_tgid() >> 32)
		return 0;
	__builtin_memcpy(&who->hdr, r, sizeof(who->hdr));
	who->syscall = TCPCONNECT_SYS_IO_URING;
	bpfd_tcpconnect_io_uring.delete(&sk);
	return 1;
}
#endif

TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
	u64 sk = (u64)args->skaddr;
	struct tcpconnect_record r;
	struct bpfd_tcpconnect_who *who, w;
	int err = 0;

	if (args->protocol != BPFD_IPPROTO_TCP)
		return 0;
	if (args->newstate == BPFD_TCP_SYN_SENT) {
		/* connect() itself: the task is the connecting one. */
		if (bpfd_skip(BPFD_TRACER_TYPE))
			return 0;
#ifdef BPFD_IO_URING
		if (!bpfd_tcpconnect_io_uring_who(sk, &w))
#endif
		{
			bpfd_fill(&w.hdr, BPFD_TRACER_TYPE);
			w.syscall = TCPCONNECT_SYS_CONNECT;
		}
		w.pad = 0;
		bpfd_tcpconnect_pending.update(&sk, &w);
		return 0;
	}
	if (args->oldstate != BPFD_TCP_SYN_SENT)
		return 0;
	who = bpfd_tcpconnect_pending.lookup(&sk);
	if (!who)
		return 0;
	__builtin_memcpy(&r.hdr, &who->hdr, sizeof(r.hdr));
	r.syscall = who->syscall;
	r.pad = 0;
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
		BPFD_KGET(err, (char *)sk + BPFD_OFF_SK_ERR);
		r.hdr.retval = err ? -err : TCPCONNECT_CLOSED;
	}
	if (bpfd_tcp_prefiltered(BPFD_TRACER_TYPE, &r.tuple))
		return 0;
	r.hdr.ktime_ns = bpf_ktime_get_boot_ns();
	r.hdr.type = BPFD_TRACER_TYPE;
	bpfd_submit(&r, sizeof(r), BPFD_TRACER_TYPE);
	return 0;
}
