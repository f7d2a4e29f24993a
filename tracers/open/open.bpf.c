/*
 * open: the open family of syscalls with their result.
 *
 * One program per syscall exit and none at entry: the arguments are read
 * from the registers saved at entry (bpfd_syscall_args). The file's path
 * comes from the kernel (path.bpf.c): for an open that succeeded, the new
 * descriptor's struct file; for one that failed, the directory a relative
 * name starts from (cwd or dirfd), which the daemon joins the name to. The
 * name as passed is read from user memory too, but only to be reported: a
 * second thread may have rewritten it since the kernel copied it.
 */

#define BPFD_AT_FDCWD -100

/* What bpfd_open_report() needs of an open, however it was made. */
struct bpfd_open_call {
	void *task;		/* the opener: whose files and root (a request's submitter) */
	void *file;		/* the opened file, or NULL */
	const char *filename;	/* the name as passed, in user memory, or NULL */
	int kernel_name;	/* ... but in kernel memory (io_uring's copy of it) */
	const void *how;	/* openat2's struct open_how (user memory), or NULL: flags */
	long dfd;		/* the directory a relative name starts from */
	u64 flags;
};

/*
 * The prefilter's tests that need no file (the task's): 1 with the mode
 * the rest must apply in *@mode (0: none), 0 when the open is dropped.
 * Most opens on a busy host are dropped by the prefilter, and nothing else
 * is looked up for them, not even the tracer's switch (the prefilters are
 * written before the tracers switch on, and the daemon's own opens that it
 * drops are counted in `prefiltered` too). The task's tests are the
 * cheapest: when one lets the event through, done, but for the file's
 * identity, which the daemon needs to match by.
 */
static __always_inline int bpfd_open_task_passes(struct bpfd_pf_config *pf, u32 *mode)
{
	*mode = pf ? pf->mode : 0;
	if ((*mode & BPFD_PF_ACTIVE) && bpfd_pf_task_passes(BPFD_TRACER_TYPE, *mode))
		*mode &= BPFD_PF_IDENT | BPFD_PF_IDENT_DIRS;
	return !((*mode & BPFD_PF_ACTIVE) && !(*mode & BPFD_PF_PATH));
}

/* The first byte of @c's name, from where it is. */
static __always_inline long bpfd_open_first(const struct bpfd_open_call *c, char *first)
{
	return c->kernel_name ? bpf_probe_read_kernel(first, 1, c->filename)
			      : bpfd_read_user(first, 1, c->filename);
}

/*
 * The rest of the prefilter, the path and the record, for open @c that
 * returned @ret, made by @syscall (enum open_syscall). Every way in (the
 * syscall tracepoints, the 32-bit entry, io_uring) ends here, so that each
 * is tested and reported alike. A failed open with a kernel name
 * (@c->kernel_name) has had its last component tested already: mode has no
 * BPFD_PF_LEAF then.
 */
static __always_inline int bpfd_open_report(long ret, u32 syscall, struct bpfd_pf_config *pf,
					    u32 mode, const struct bpfd_open_call *c)
{
	struct bpfd_path_area *area;
	struct open_record *r;
	struct bpfd_path_root start = {};
	struct bpfd_pf_ident_ctx ic;
	void *dentry = NULL;
	u32 len = 0, plen, kind = BPFD_PATH_BASE, k;
	u64 flags = c->flags;
	int n = 0, known, lead, fail;
	char first = 0;

	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	if (c->file)
		bpfd_path_start_file(c->file, &start);
	/*
	 * A file a rule names, or one under a directory a rule's prefix
	 * names, is recognised by its identity first: under another name (a
	 * hard link, a bind mount, a chroot) no name test would let it through.
	 */
	known = bpfd_pf_ident_passes(BPFD_TRACER_TYPE, mode, c->file, area, &ic);
	/*
	 * Else the file name is tested as the kernel resolved it, before the
	 * path is built. With exact names only, its last component (the
	 * dentry's name, or for a failed open the name's) must be one of the
	 * rules': most opens stop there. With a prefix among them, one pass up
	 * the file's directories without their names tests the parents'
	 * identities and leaves the top directory to test against the lead:
	 * `/tmp/...` is dropped there for rules on `/etc/...`. A failed open
	 * is tested by its last component, or with a prefix among the names,
	 * by where its name joined to its directory begins.
	 */
	lead = (mode & BPFD_PF_ACTIVE) && !(mode & BPFD_PF_LEAF) && pf && pf->lead_mask;
	if (known) {
		/* Nothing to drop. */
	} else if ((mode & BPFD_PF_LEAF) && c->file) {
		dentry = start.dentry;
		if (dentry && !bpfd_pf_leaf_passes(BPFD_TRACER_TYPE,
						   bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_NAME), pf))
			goto drop;
	} else if ((mode & BPFD_PF_LEAF) &&
		   !bpfd_pf_user_leaf_passes(BPFD_TRACER_TYPE, c->filename, area, pf)) {
		goto drop;
	} else if (lead || (c->file && (mode & BPFD_PF_IDENT_DIRS))) {
		fail = 2;
		if (!c->file) {
			fail = lead ? bpfd_pf_failed_name(area, pf, c->filename, c->kernel_name) : 1;
			if (!fail)
				goto drop;
			if (c->filename && bpfd_open_first(c, &first) == 0)
				bpfd_path_start_base(c->task, c->dfd, first, &start);
		}
		if (fail == 2) {
			known = bpfd_pf_scan(area, &ic, c->file ? mode : 0, start.mnt, start.dentry);
			if (!known && lead && !bpfd_pf_top_passes(area, pf, !c->file))
				goto drop;
		}
	}
	/* Read back: one state for the walk below, whichever way led here. */
	known = *(volatile u16 *)&area->ident.depth;
	if (c->file)
		kind = BPFD_PATH_FILE;
	else if (!start.dentry && c->filename && bpfd_open_first(c, &first) == 0)
		bpfd_path_start_base(c->task, c->dfd, first, &start);
	len = bpfd_path_resolve(area, c->task, &start, kind);
	if (!known && (mode & BPFD_PF_ACTIVE) && c->file && len &&
	    !(area->flags & BPFD_PATH_TRUNCATED) &&
	    !bpfd_pf_walked_path_passes(BPFD_TRACER_TYPE, area, pf))
		goto drop;
	if (bpfd_tracer_off(BPFD_TRACER_TYPE) || bpfd_task_ignored())
		return 0;
	if (c->how)	/* struct open_how starts with its u64 flags */
		bpfd_read_user(&flags, sizeof(flags), c->how);
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	/*
	 * An io_uring request may complete in an io-wq worker (iou-wrk-N) of
	 * the submitter's process: the thread and command are the submitter's.
	 */
	if (c->task != (void *)bpf_get_current_task()) {
		BPFD_KGET(r->hdr.tid, (char *)c->task + BPFD_OFF_TASK_PID);
		bpf_probe_read_kernel(r->hdr.comm, sizeof(r->hdr.comm),
				      (char *)c->task + BPFD_OFF_TASK_COMM);
	}
	r->hdr.retval = ret;
	r->flags = flags;
	r->syscall = syscall;
	r->path_flags = area->flags;
	r->ident = area->ident;
	plen = bpfd_path_copy(r->buf, area, len);
	r->path_len = plen;
	plen = BPFD_BOUND(plen, 2 * BPFD_PATH_MAX);
	if (c->filename) {
		n = c->kernel_name ? bpf_probe_read_kernel_str(&r->buf[plen], OPEN_FILENAME_MAX,
							       c->filename)
				   : bpfd_read_user_str(&r->buf[plen], OPEN_FILENAME_MAX, c->filename);
		if (n < 0)
			n = 0;
	}
	if (n > OPEN_FILENAME_MAX)
		n = OPEN_FILENAME_MAX;
	r->arg_len = n;
	n = BPFD_BOUND(n, 2 * OPEN_FILENAME_MAX);
	k = area->ident.tail_len;
	if (area->ident.depth > 1 && k && k < BPFD_IDENT_TAIL_MAX)
		bpf_probe_read_kernel(&r->buf[(plen + n) & (4 * BPFD_PATH_MAX - 1)],
				      k & (BPFD_IDENT_TAIL_MAX - 1),
				      &area->tail[(BPFD_IDENT_TAIL_MAX - k) & (BPFD_IDENT_TAIL_MAX - 1)]);
	else
		r->ident.tail_len = k = 0;
	bpfd_submit(r, offsetof(struct open_record, buf) + plen + n +
			       BPFD_BOUND(k, 2 * BPFD_IDENT_TAIL_MAX),
		    BPFD_TRACER_TYPE);
	return 0;
drop:
	bpfd_prefiltered_out(BPFD_TRACER_TYPE);
	return 0;
}

/*
 * The exits hand the report the call through map memory, whose contents
 * the verifier does not follow: each syscall's arguments would otherwise be
 * a state of its own all through the walks (many times the time to check,
 * or more than the verifier accepts).
 */
struct bpfd_open_exit_call {
	struct bpfd_open_call c;
	long ret;
	u32 syscall;
};
BPF_PERCPU_ARRAY(bpfd_open_calls, struct bpfd_open_exit_call, 1);

/*
 * Open-family call @syscall (enum open_syscall) returned @ret, made through
 * the 32-bit entry when @compat. Its arguments are in the order of the
 * 64-bit calls, the 32-bit entry's too.
 */
static __always_inline int bpfd_open_exit(long ret, u32 syscall, int compat)
{
	struct bpfd_pf_config *pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	int dfd_arg = -1, name_arg = 0, flags_arg = 1;
	struct bpfd_open_exit_call *call;
	struct bpfd_syscall_args a;
	u32 mode, zero = 0;
	u64 flags = 0;

	switch (syscall) {
	case OPEN_SYS_OPEN:		/* open(filename, flags, mode) */
		break;
	case OPEN_SYS_OPENAT:		/* openat(dfd, filename, flags, mode) */
	case OPEN_SYS_OPENAT2:		/* openat2(dfd, filename, how, size) */
		dfd_arg = 0, name_arg = 1, flags_arg = 2;
		break;
	case OPEN_SYS_CREAT:		/* creat(filename, mode): open(O_CREAT|O_WRONLY|O_TRUNC) */
		flags_arg = -1, flags = 01101;
		break;
	case OPEN_SYS_OPEN_BY_HANDLE_AT: /* (mount_fd, handle, flags): no name, a file */
		name_arg = -1, flags_arg = 2;
		break;
	default:
		return 0;
	}
	if (!bpfd_open_task_passes(pf, &mode)) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	call = bpfd_open_calls.lookup(&zero);
	if (!call)
		return 0;
	if (compat)
		bpfd_compat_syscall_args(&a);
	else
		bpfd_syscall_args(&a);
	__builtin_memset(&call->c, 0, sizeof(call->c));
	call->c.task = (void *)bpf_get_current_task();
	call->c.dfd = dfd_arg >= 0 ? (int)bpfd_syscall_arg(&a, dfd_arg) : BPFD_AT_FDCWD;
	if (name_arg >= 0)
		call->c.filename = (const char *)bpfd_syscall_arg(&a, name_arg);
	call->c.flags = flags;
	if (syscall == OPEN_SYS_OPENAT2)
		call->c.how = (const void *)bpfd_syscall_arg(&a, flags_arg);
	else if (flags_arg >= 0)
		call->c.flags = (u32)bpfd_syscall_arg(&a, flags_arg);
	if (ret >= 0)
		call->c.file = bpfd_fd_file(call->c.task, ret);
	call->ret = ret;
	call->syscall = syscall | (compat ? OPEN_SYS_COMPAT : 0);
	return bpfd_open_report(*(volatile long *)&call->ret, *(volatile u32 *)&call->syscall, pf,
				mode, &call->c);
}

/*
 * One program for the five syscalls:sys_exit_* tracepoints of the family,
 * attached to each (open.c), telling them apart by the x86-64 number: the
 * report and its walks are compiled and verified once, not five times
 * (most of the daemon's start).
 */
int bpfd_open_sys_exit(struct bpfd_sys_exit_args *args)
{
	u32 syscall;

	switch (bpfd_sys_exit_nr(args)) {
	case 2:
		syscall = OPEN_SYS_OPEN;
		break;
	case 257:
		syscall = OPEN_SYS_OPENAT;
		break;
	case 437:
		syscall = OPEN_SYS_OPENAT2;
		break;
	case 85:
		syscall = OPEN_SYS_CREAT;
		break;
	case 304:
		syscall = OPEN_SYS_OPEN_BY_HANDLE_AT;
		break;
	default:
		return 0;
	}
	return bpfd_open_exit(args->ret, syscall, 0);
}

/*
 * The open family through the 32-bit entry, which the tracepoints above
 * never see: compat call @nr returned @ret (bpfd_open_compat, called from
 * the raw sys_exit program of common.bpf.c). The i386 numbers (arch/x86/
 * entry/syscalls/syscall_32.tbl).
 */
static __always_inline int bpfd_open_compat_exit(long nr, long ret)
{
	u32 syscall;

	switch (nr) {
	case 5:
		syscall = OPEN_SYS_OPEN;
		break;
	case 295:
		syscall = OPEN_SYS_OPENAT;
		break;
	case 437:
		syscall = OPEN_SYS_OPENAT2;
		break;
	case 8:
		syscall = OPEN_SYS_CREAT;
		break;
	case 342:
		syscall = OPEN_SYS_OPEN_BY_HANDLE_AT;
		break;
	default:
		return 0;
	}
	return bpfd_open_exit(ret, syscall, 1);
}

BPFD_COMPAT_PROGRAM(bpfd_open_compat, bpfd_open_compat_exit)
