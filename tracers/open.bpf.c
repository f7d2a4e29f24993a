/*
 * open: the open family of syscalls with their result.
 *
 * One program per syscall exit and none at entry: the arguments are read
 * from the registers saved at entry (bpfd_syscall_args), and the file name
 * from user memory, which the kernel has just copied, so the page is
 * resident and the read cannot fail on a page not faulted in yet.
 */

/*
 * @name_arg, @flags_arg: which syscall argument holds the file name and the
 * flags (-1: none; for flags, @flags is the value).
 */
static __always_inline int bpfd_open_exit(long ret, int name_arg, int flags_arg, u64 flags,
					  u32 syscall)
{
	const char *filename = NULL;
	struct bpfd_pf_config *pf;
	struct bpfd_syscall_args a;
	struct open_record *r;
	u32 mode;
	u64 len;
	int n = 0;

	/*
	 * The prefilter comes first: most opens on a busy host are dropped by
	 * it, and nothing else is looked up for them, not even the tracer's
	 * switch (the prefilters are written before the tracers switch on, and
	 * the daemon's own opens that it drops are counted in `prefiltered`
	 * too). The task's tests are the cheapest: when one lets the event
	 * through, done.
	 */
	pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	mode = pf ? pf->mode : 0;
	if ((mode & BPFD_PF_ACTIVE) && bpfd_pf_task_passes(BPFD_TRACER_TYPE, mode))
		mode = 0;
	bpfd_syscall_args(&a);
	if (name_arg >= 0)
		filename = (const char *)bpfd_syscall_arg(&a, name_arg);
	/* Dropped here, before anything else is read or written. */
	if ((mode & BPFD_PF_ACTIVE) &&
	    !((mode & BPFD_PF_PATH) && bpfd_pf_user_path_passes(BPFD_TRACER_TYPE, filename, pf))) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	if (bpfd_tracer_off(BPFD_TRACER_TYPE) || bpfd_task_ignored())
		return 0;
	if (syscall == OPEN_SYS_OPENAT2)	/* struct open_how starts with its u64 flags */
		bpfd_read_user(&flags, sizeof(flags), (void *)bpfd_syscall_arg(&a, flags_arg));
	else if (flags_arg >= 0)
		flags = (u32)bpfd_syscall_arg(&a, flags_arg);
	r = bpfd_scratch();
	if (!r)
		return 0;
	if (filename) {
		n = bpfd_read_user_str(r->filename, sizeof(r->filename), filename);
		if (n < 0)
			n = 0;
	}
	if (n <= 0)
		r->filename[0] = '\0';
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->flags = flags;
	r->syscall = syscall;
	if (n > OPEN_FILENAME_MAX)
		n = OPEN_FILENAME_MAX;
	len = BPFD_BOUND(n, 2 * OPEN_FILENAME_MAX);
	r->filename_len = len;
	bpfd_submit(r, offsetof(struct open_record, filename) + len, BPFD_TRACER_TYPE);
	return 0;
}

/* open(filename, flags, mode) */
TRACEPOINT_PROBE(syscalls, sys_exit_open)
{
	return bpfd_open_exit(args->ret, 0, 1, 0, OPEN_SYS_OPEN);
}

/* openat(dfd, filename, flags, mode) */
TRACEPOINT_PROBE(syscalls, sys_exit_openat)
{
	return bpfd_open_exit(args->ret, 1, 2, 0, OPEN_SYS_OPENAT);
}

/* openat2(dfd, filename, how, size) */
TRACEPOINT_PROBE(syscalls, sys_exit_openat2)
{
	return bpfd_open_exit(args->ret, 1, 2, 0, OPEN_SYS_OPENAT2);
}

/* creat(filename, mode) is open(O_CREAT|O_WRONLY|O_TRUNC). */
TRACEPOINT_PROBE(syscalls, sys_exit_creat)
{
	return bpfd_open_exit(args->ret, 0, -1, 01101, OPEN_SYS_CREAT);
}

/* open_by_handle_at(mount_fd, handle, flags): no name to report. */
TRACEPOINT_PROBE(syscalls, sys_exit_open_by_handle_at)
{
	return bpfd_open_exit(args->ret, -1, 2, 0, OPEN_SYS_OPEN_BY_HANDLE_AT);
}
