/*
 * io_uring's two tracepoints, one program each for every tracer loaded.
 *
 * The loader appends this source after the tracers' (loader.c, assemble())
 * when the io_uring hooks are on, and attaches it once: a second program
 * on the same tracepoint per tracer would run per tracer for every request
 * of the host. Each tracer keeps its io_uring code in its own
 * tracers/NAME_io_uring.bpf.c, compiled in its own BPFD_TRACER_TYPE block
 * and only when the tracer is loaded; that file defines BPFD_IO_URING_NAME,
 * and the programs below call its handlers. The loader attaches a program
 * only when a loaded tracer lists its tracepoint among its hooks. Adding
 * one: its file, its tracer_ops.io_uring_source, a line below, the hooks
 * (with .io_uring) in its tracer_ops.
 */
#include "io_uring.bpf.h"

/*
 * A request was prepared (the kernel has copied its arguments: an open's
 * name is in struct io_open) and is about to be issued, in the submitting
 * task (or the SQPOLL thread).
 */
TRACEPOINT_PROBE(io_uring, io_uring_submit_req)
{
	void *req = args->req;
	u8 op = args->opcode;

	(void)req;
	(void)op;
#ifdef BPFD_IO_URING_OPEN
	if (op == BPFD_IORING_OP_OPENAT || op == BPFD_IORING_OP_OPENAT2)
		return bpfd_open_io_uring_submit(req);
#endif
#ifdef BPFD_IO_URING_TCPCONNECT
	if (op == BPFD_IORING_OP_CONNECT)
		return bpfd_tcpconnect_io_uring_submit(args->ctx, req, args->flags);
#endif
	return 0;
}

/*
 * A request's completion is posted: the submitter's task (inline or task
 * work) or an io-wq worker. Multishot requests' intermediate completions
 * come without their request (req is NULL) and are skipped.
 */
TRACEPOINT_PROBE(io_uring, io_uring_complete)
{
	void *req = args->req, *ctx = args->ctx;
	long res = args->res;
	u8 op = 0;

	(void)ctx;
	(void)res;
	if (!req)
		return 0;
	BPFD_KGET(op, (char *)req + BPFD_OFF_IO_KIOCB_OPCODE);
#ifdef BPFD_IO_URING_OPEN
	if (op == BPFD_IORING_OP_OPENAT || op == BPFD_IORING_OP_OPENAT2)
		return bpfd_open_io_uring_complete(ctx, req, op, res);
#endif
#ifdef BPFD_IO_URING_TCPCONNECT
	if (op == BPFD_IORING_OP_CONNECT)
		return bpfd_tcpconnect_io_uring_complete(req);
#endif
#ifdef BPFD_IO_URING_TCPACCEPT
	if (op == BPFD_IORING_OP_ACCEPT)
		return bpfd_tcpaccept_io_uring_complete(ctx, req, res);
#endif
	return 0;
}
