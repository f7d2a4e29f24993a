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

/*
 * @dfd_arg, @name_arg, @flags_arg: which syscall argument holds the
 * directory fd, the file name and the flags (-1: none; for flags, @flags is
 * the value; without a dirfd the cwd is the base).
 */
static __always_inline int bpfd_open_exit(long ret, int dfd_arg, int name_arg, int flags_arg,
					  u64 flags, u32 syscall)
{
	const char *filename = NULL;
	struct bpfd_pf_config *pf;
	struct bpfd_path_area *area;
	struct bpfd_syscall_args a;
	struct open_record *r;
	struct bpfd_path_root start = {};
	void *task, *file = NULL, *dentry;
	u32 mode, len = 0, plen, kind = BPFD_PATH_BASE, k;
	int n = 0, names, known;
	char first = 0;
	long dfd = BPFD_AT_FDCWD;

	/*
	 * The prefilter comes first: most opens on a busy host are dropped by
	 * it, and nothing else is looked up for them, not even the tracer's
	 * switch (the prefilters are written before the tracers switch on, and
	 * the daemon's own opens that it drops are counted in `prefiltered`
	 * too). The task's tests are the cheapest: when one lets the event
	 * through, done, but for the file's identity, which the daemon needs
	 * to match by.
	 */
	pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	mode = pf ? pf->mode : 0;
	if ((mode & BPFD_PF_ACTIVE) && bpfd_pf_task_passes(BPFD_TRACER_TYPE, mode))
		mode &= BPFD_PF_IDENT | BPFD_PF_IDENT_DIRS;
	if ((mode & BPFD_PF_ACTIVE) && !(mode & BPFD_PF_PATH))
		goto drop;
	bpfd_syscall_args(&a);
	if (name_arg >= 0)
		filename = (const char *)bpfd_syscall_arg(&a, name_arg);
	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	task = (void *)bpf_get_current_task();
	if (ret >= 0)
		file = bpfd_fd_file(task, ret);
	/*
	 * A file a rule names, or one under a directory a rule's prefix
	 * names, is recognised by its identity first: under another name (a
	 * hard link, a bind mount, a chroot) no name test would let it through.
	 */
	known = bpfd_pf_ident_passes(BPFD_TRACER_TYPE, mode, file, area);
	/*
	 * Else the file name is tested as the kernel resolved it. Before the
	 * path is built, its last component (the dentry's name, or for a failed
	 * open the name's) must be one of the rules' when they are all exact
	 * names: most opens stop there, at the cost of the fd table's reads.
	 * A failed open is tested by that alone, or not at all.
	 */
	if (known) {
		/* Nothing to drop. */
	} else if ((mode & BPFD_PF_LEAF) && file) {
		dentry = bpfd_read_ptr(file, BPFD_OFF_FILE_PATH_DENTRY);
		if (dentry && !bpfd_pf_leaf_passes(BPFD_TRACER_TYPE,
						   bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_NAME), pf))
			goto drop;
	} else if ((mode & BPFD_PF_LEAF) &&
		   !bpfd_pf_user_leaf_passes(BPFD_TRACER_TYPE, filename, area, pf)) {
		goto drop;
	}
	if (file) {
		bpfd_path_start_file(file, &start);
		kind = BPFD_PATH_FILE;
	} else if (filename && bpfd_read_user(&first, 1, filename) == 0) {
		if (dfd_arg >= 0)
			dfd = (int)bpfd_syscall_arg(&a, dfd_arg);
		bpfd_path_start_base(task, dfd, first, &start);
	}
	/*
	 * Without the last component's test (a prefix among the rules'
	 * names), a first walk reads no names, only the way up, and tests the
	 * top directory against the lead: `/tmp/...` is dropped there for
	 * rules on `/etc/...`. One copy of the walk serves both passes: the
	 * verifier checks it once per pass, not once per call site.
	 */
	names = known || !((mode & BPFD_PF_ACTIVE) && file && !(mode & BPFD_PF_LEAF) && pf &&
			   pf->lead_mask);
#pragma clang loop unroll(disable)
	for (k = 0; k < 2; k++) {
		len = bpfd_path_resolve(area, task, &start, kind, names);
		if (names)
			break;
		if (!bpfd_pf_top_passes(area, pf))
			goto drop;
		names = 1;
	}
	if (!known && (mode & BPFD_PF_ACTIVE) && file && len &&
	    !(area->flags & BPFD_PATH_TRUNCATED) &&
	    !bpfd_pf_walked_path_passes(BPFD_TRACER_TYPE, area, pf))
		goto drop;
	if (bpfd_tracer_off(BPFD_TRACER_TYPE) || bpfd_task_ignored())
		return 0;
	if (syscall == OPEN_SYS_OPENAT2)	/* struct open_how starts with its u64 flags */
		bpfd_read_user(&flags, sizeof(flags), (void *)bpfd_syscall_arg(&a, flags_arg));
	else if (flags_arg >= 0)
		flags = (u32)bpfd_syscall_arg(&a, flags_arg);
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->flags = flags;
	r->syscall = syscall;
	r->path_flags = area->flags;
	r->ident = area->ident;
	plen = bpfd_path_copy(r->buf, area, len);
	r->path_len = plen;
	plen = BPFD_BOUND(plen, 2 * BPFD_PATH_MAX);
	if (filename) {
		n = bpfd_read_user_str(&r->buf[plen], OPEN_FILENAME_MAX, filename);
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

/* open(filename, flags, mode) */
TRACEPOINT_PROBE(syscalls, sys_exit_open)
{
	return bpfd_open_exit(args->ret, -1, 0, 1, 0, OPEN_SYS_OPEN);
}

/* openat(dfd, filename, flags, mode) */
TRACEPOINT_PROBE(syscalls, sys_exit_openat)
{
	return bpfd_open_exit(args->ret, 0, 1, 2, 0, OPEN_SYS_OPENAT);
}

/* openat2(dfd, filename, how, size) */
TRACEPOINT_PROBE(syscalls, sys_exit_openat2)
{
	return bpfd_open_exit(args->ret, 0, 1, 2, 0, OPEN_SYS_OPENAT2);
}

/* creat(filename, mode) is open(O_CREAT|O_WRONLY|O_TRUNC). */
TRACEPOINT_PROBE(syscalls, sys_exit_creat)
{
	return bpfd_open_exit(args->ret, -1, 0, -1, 01101, OPEN_SYS_CREAT);
}

/* open_by_handle_at(mount_fd, handle, flags): no name, but a file once it succeeded. */
TRACEPOINT_PROBE(syscalls, sys_exit_open_by_handle_at)
{
	return bpfd_open_exit(args->ret, -1, -1, 2, 0, OPEN_SYS_OPEN_BY_HANDLE_AT);
}
