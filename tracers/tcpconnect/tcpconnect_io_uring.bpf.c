/*
 * tcpconnect through io_uring (IORING_OP_CONNECT): handlers the shared
 * io_uring programs call (tracers/common/io_uring.bpf.c).
 *
 * At the submission, in the submitting task, the request names its socket
 * by descriptor (req->cqe.fd; the file is only looked up when the request
 * is issued) or by fixed-file slot (REQ_F_FIXED_FILE): the socket and the
 * submitter go into bpfd_tcpconnect_io_uring, which the move to SYN_SENT
 * takes (tcpconnect.bpf.c), in whichever thread of the process runs it.
 * The request's completion deletes what is left (a connect that failed
 * before SYN_SENT), so that a later connect on a socket at the same
 * address is never taken for this one.
 */
#include "../common/io_uring.bpf.h"

#define BPFD_IO_URING_TCPCONNECT 1

/* The TCP socket behind @file, or NULL. */
static __always_inline void *bpfd_tcpconnect_io_uring_sock(void *file)
{
	void *sock = file ? bpfd_read_ptr(file, BPFD_OFF_FILE_PRIVATE_DATA) : NULL;
	void *sk = sock ? bpfd_read_ptr(sock, BPFD_OFF_SOCKET_SK) : NULL;

	return sk && bpfd_tcp_sk_is_tcp(sk) ? sk : NULL;
}

static __always_inline int bpfd_tcpconnect_io_uring_submit(void *ctx, void *req, u64 flags)
{
	struct bpfd_record r;
	void *file, *sk;
	int fd = -1;
	u64 key;

	if (bpfd_skip(BPFD_TRACER_TYPE))
		return 0;
	BPFD_KGET(fd, (char *)req + BPFD_OFF_IO_KIOCB_CQE_FD);
	if (flags & BPFD_REQ_F_FIXED_FILE)
		file = bpfd_io_uring_fixed_file(ctx, (u32)fd);
	else
		file = bpfd_fd_file((void *)bpf_get_current_task(), fd);
	/*
	 * private_data is a struct socket only for a socket's file: for
	 * another, the reads below find no TCP socket (probe reads, no fault).
	 */
	sk = bpfd_tcpconnect_io_uring_sock(file);
	if (!sk)
		return 0;
	bpfd_fill(&r, BPFD_TRACER_TYPE);
	key = (u64)sk;
	bpfd_tcpconnect_io_uring.update(&key, &r);
	return 0;
}

static __always_inline int bpfd_tcpconnect_io_uring_complete(void *req)
{
	void *sk = bpfd_tcpconnect_io_uring_sock(bpfd_read_ptr(req, BPFD_OFF_IO_KIOCB_FILE));
	u64 key = (u64)sk;

	if (sk)
		bpfd_tcpconnect_io_uring.delete(&key);
	return 0;
}
