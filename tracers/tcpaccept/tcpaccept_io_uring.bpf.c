/*
 * tcpaccept through io_uring (IORING_OP_ACCEPT), which returns from no
 * accept system call: a handler the shared io_uring program on
 * io_uring:io_uring_complete calls (tracers/common/io_uring.bpf.c). The new
 * connection is the descriptor the request returned in the submitter's
 * file table (shared by its io-wq workers), or the fixed-file slot it went
 * into; the event is the submitter's (pid, thread, command), not a
 * worker's.
 */
#include "../common/io_uring.bpf.h"

#define BPFD_IO_URING_TCPACCEPT 1

static __always_inline int bpfd_tcpaccept_io_uring_complete(void *ctx, void *req, long res)
{
	struct tcpaccept_record r;
	void *task, *file, *sock, *sk;
	u32 slot = 0;

	if (res < 0 || bpfd_skip(BPFD_TRACER_TYPE))
		return 0;
	task = bpfd_io_uring_submitter(req);
	BPFD_KGET(slot, (char *)req + BPFD_OFF_IO_ACCEPT_FILE_SLOT);
	file = bpfd_io_uring_result_file(ctx, task, slot, res);
	sock = file ? bpfd_read_ptr(file, BPFD_OFF_FILE_PRIVATE_DATA) : NULL;
	sk = sock ? bpfd_read_ptr(sock, BPFD_OFF_SOCKET_SK) : NULL;
	if (!sk || !bpfd_tcp_sk_is_tcp(sk))
		return 0;
	bpfd_tcp_sk_tuple(sk, &r.tuple);
	if (bpfd_tcp_prefiltered(BPFD_TRACER_TYPE, &r.tuple))
		return 0;
	bpfd_fill(&r.hdr, BPFD_TRACER_TYPE);
	bpfd_io_uring_attribute(&r.hdr, task);
	r.hdr.retval = res;
	r.event = TCPACCEPT_ACCEPT;
	r.syscall = TCPACCEPT_SYS_IO_URING;
	bpfd_submit(&r, sizeof(r), BPFD_TRACER_TYPE);
	return 0;
}
