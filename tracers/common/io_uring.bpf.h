/*
 * What the tracers' io_uring handlers share (tracers/*_io_uring.bpf.c): the
 * opcodes they act on, the request's submitter, and the ring's fixed-file
 * table. Only compiled when the io_uring hooks are on (BPFD_IO_URING: every
 * io_uring offset was in the kernel's BTF and io_uring is not disabled);
 * the guard keeps one copy when several tracers include it.
 */
#ifndef BPFD_IO_URING_BPF_H
#define BPFD_IO_URING_BPF_H

/* enum io_uring_op (include/uapi/linux/io_uring.h): uapi, fixed. */
#define BPFD_IORING_OP_ACCEPT 13
#define BPFD_IORING_OP_CONNECT 16
#define BPFD_IORING_OP_OPENAT 18
#define BPFD_IORING_OP_OPENAT2 28
#define BPFD_IORING_FILE_INDEX_ALLOC 0xffffffffu
/* req->flags: REQ_F_FIXED_FILE is IOSQE_FIXED_FILE's bit (uapi), bit 0. */
#define BPFD_REQ_F_FIXED_FILE 1ULL
/* io_uring keeps flags in a fixed file's pointer's low bits (io_uring/filetable.h, FFS_*). */
#define BPFD_IORING_FFS_MASK (~3UL)

/* The file in slot @idx of io_uring @ctx's fixed-file table, or NULL. */
static __always_inline void *bpfd_io_uring_fixed_file(void *ctx, u32 idx)
{
	void *nodes, *node;
	u32 nr = 0;

	bpf_probe_read_kernel(&nr, sizeof(nr), (char *)ctx + BPFD_OFF_IO_RING_CTX_FILES_NR);
	if (idx >= nr)
		return NULL;
	nodes = bpfd_read_ptr(ctx, BPFD_OFF_IO_RING_CTX_FILES);
	node = nodes ? bpfd_read_ptr((char *)nodes + (u64)idx * sizeof(void *), 0) : NULL;
	if (!node)
		return NULL;
	return (void *)((unsigned long)bpfd_read_ptr(node, BPFD_OFF_IO_RSRC_NODE_FILE_PTR) &
			BPFD_IORING_FFS_MASK);
}

/*
 * The task that submitted @req: the one whose io_uring context the request
 * carries (req->tctx->task); the current task when that cannot be read.
 * A request may run in an io-wq worker (iou-wrk-N) of the submitter's
 * process, which shares its files but has a thread and comm of its own.
 */
static __always_inline void *bpfd_io_uring_submitter(void *req)
{
	void *tctx = bpfd_read_ptr(req, BPFD_OFF_IO_KIOCB_TCTX);
	void *task = tctx ? bpfd_read_ptr(tctx, BPFD_OFF_IO_URING_TASK_TASK) : NULL;

	return task ? task : (void *)bpf_get_current_task();
}

/*
 * A file that a request's result or slot names: slot @slot of io_uring
 * @ctx's fixed-file table (io_open's and io_accept's file_slot: the slot + 1,
 * or IORING_FILE_INDEX_ALLOC, and then the result is the slot), else
 * descriptor @res of @task.
 */
static __always_inline void *bpfd_io_uring_result_file(void *ctx, void *task, u32 slot, long res)
{
	if (slot)
		return bpfd_io_uring_fixed_file(ctx, slot == BPFD_IORING_FILE_INDEX_ALLOC
							     ? (u32)res : slot - 1);
	return bpfd_fd_file(task, res);
}

/* @r was filled in the current task: make its thread and command @task's. */
static __always_inline void bpfd_io_uring_attribute(struct bpfd_record *r, void *task)
{
	if (task == (void *)bpf_get_current_task())
		return;
	bpf_probe_read_kernel(&r->tid, sizeof(r->tid), (char *)task + BPFD_OFF_TASK_PID);
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), (char *)task + BPFD_OFF_TASK_COMM);
}

#endif
