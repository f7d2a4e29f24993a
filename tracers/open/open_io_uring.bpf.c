/*
 * open through io_uring (IORING_OP_OPENAT, OPENAT2), which makes no open
 * system call: handlers the shared io_uring programs call
 * (tracers/common/io_uring.bpf.c), reported through bpfd_open_report() like the
 * syscalls.
 *
 * An open that succeeded is seen at the request's completion: the file is
 * the new descriptor's in the submitter's file table (which its io-wq
 * workers share) or the fixed-file slot it went into. One that failed has
 * no file, and by its completion the kernel has put the request's copy of
 * the name (io_openat2() does as soon as the open is done): the name and
 * dirfd are kept from the submission, when struct io_open holds the
 * kernel's copy (io_open.filename->name), keyed by the request, and taken
 * (always deleted) at its completion. From kernel memory: no user thread
 * can rewrite it in between.
 */
#include "../common/io_uring.bpf.h"

#define BPFD_IO_URING_OPEN 1

struct bpfd_open_io_uring_name {
	s64 dfd;
	s64 len;				/* of name, with its NUL */
	char name[OPEN_FILENAME_MAX];
};

BPF_PERCPU_ARRAY(bpfd_open_io_uring_scratch, struct bpfd_open_io_uring_name, 1);
/*
 * Names of open requests in flight. LRU and bounded: a request never
 * completed (its ring torn down) is evicted, not left to fill the map; more
 * than this many opens in flight at once lose the oldest's name, and that
 * open is then not reported if it fails (a success needs no name).
 */
BPF_TABLE("lru_hash", u64, struct bpfd_open_io_uring_name, bpfd_open_io_uring_names, 512);

static __always_inline int bpfd_open_io_uring_submit(void *req)
{
	struct bpfd_open_io_uring_name *n;
	void *fname, *name;
	u64 key = (u64)req;
	u32 zero = 0;
	int dfd = BPFD_AT_FDCWD;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	n = bpfd_open_io_uring_scratch.lookup(&zero);
	if (!n)
		return 0;
	fname = bpfd_read_ptr(req, BPFD_OFF_IO_OPEN_FILENAME);
	name = fname ? bpfd_read_ptr(fname, BPFD_OFF_FILENAME_NAME) : NULL;
	if (!name)
		return 0;
	n->len = bpf_probe_read_kernel_str(n->name, sizeof(n->name), name);
	if (n->len <= 0)
		return 0;
	BPFD_KGET(dfd, (char *)req + BPFD_OFF_IO_OPEN_DFD);
	n->dfd = dfd;
	bpfd_open_io_uring_names.update(&key, n);
	return 0;
}

/*
 * The prefilter's test of a failed open's last component, as
 * bpfd_pf_user_leaf_passes() does for a name in user memory: @n's name is
 * in the map, read where it is.
 */
static __always_inline int bpfd_open_io_uring_leaf_passes(struct bpfd_open_io_uring_name *n,
							  struct bpfd_pf_config *pf)
{
	long len = n->len, i;

	if (!pf || len <= 1 || len >= BPFD_PF_PATH_MAX)
		return 1;
	i = len - 1;
#pragma clang loop unroll(disable)
	while (i > 0 && n->name[(i - 1) & (BPFD_PF_PATH_MAX - 1)] != '/')
		i--;
	return bpfd_pf_leaf_passes(BPFD_TRACER_TYPE, &n->name[i & (BPFD_PF_PATH_MAX - 1)], pf);
}

static __always_inline int bpfd_open_io_uring_complete(void *ctx, void *req, u8 op, long res)
{
	struct bpfd_open_call c = { .dfd = BPFD_AT_FDCWD };
	struct bpfd_open_io_uring_name *n = NULL;
	struct bpfd_pf_config *pf;
	u64 key = (u64)req;
	u32 slot = 0, mode;

	if (res < 0) {
		n = bpfd_open_io_uring_names.lookup(&key);
		if (!n)
			return 0;
	}
	pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	if (!bpfd_open_task_passes(pf, &mode)) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		goto out;
	}
	c.task = bpfd_io_uring_submitter(req);
	/* The request's struct io_open is at its start (io_kiocb_to_cmd). */
	BPFD_KGET(c.flags, (char *)req + BPFD_OFF_IO_OPEN_HOW_FLAGS);
	if (n) {
		if ((mode & BPFD_PF_LEAF) && !bpfd_open_io_uring_leaf_passes(n, pf)) {
			bpfd_prefiltered_out(BPFD_TRACER_TYPE);
			goto out;
		}
		mode &= ~BPFD_PF_LEAF;
		c.filename = n->name;
		c.kernel_name = 1;
		c.dfd = n->dfd;
	} else {
		BPFD_KGET(slot, (char *)req + BPFD_OFF_IO_OPEN_FILE_SLOT);
		c.file = bpfd_io_uring_result_file(ctx, c.task, slot, res);
		if (!c.file)
			goto out;
	}
	bpfd_open_report(res, op == BPFD_IORING_OP_OPENAT ? OPEN_SYS_IO_URING_OPENAT
							: OPEN_SYS_IO_URING_OPENAT2,
			 pf, mode, &c);
out:
	/* After the report: n points into the entry. */
	bpfd_open_io_uring_names.delete(&key);
	return 0;
}
