/*
 * chmod: permission changes (chmod, fchmod, fchmodat, fchmodat2) with their
 * result, at the syscall's exit; the arguments come from the registers
 * saved at entry (bpfd_syscall_args), so there is no entry program.
 *
 * The file's path comes from the kernel (path.bpf.c): for fchmod the
 * descriptor's struct file; for a call by name, which leaves no file
 * behind at its exit, the directory the name starts from (cwd, dirfd or
 * root), which the daemon joins the name to, as for a failed open.
 */

#define BPFD_CHMOD_AT_FDCWD -100

/*
 * Reports call @syscall (enum chmod_syscall, CHMOD_SYS_COMPAT) that
 * returned @ret, with its arguments in @a. Every way in (the four
 * tracepoints, the 32-bit entry) ends here.
 */
static __always_inline int bpfd_chmod_report(long ret, u32 syscall,
					     const struct bpfd_syscall_args *a)
{
	struct bpfd_pf_config *pf;
	struct bpfd_path_root start = {};
	struct bpfd_path_area *area;
	struct chmod_record *r;
	const char *filename = NULL;
	void *task;
	long dfd = BPFD_CHMOD_AT_FDCWD;
	u32 sys = syscall & ~(u32)CHMOD_SYS_COMPAT, kind = BPFD_PATH_BASE, len, plen, mode;
	int n = 0;
	char first = 0;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	/* The task's tests only: most rules on permission changes name who or where. */
	pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	if (pf && (pf->mode & BPFD_PF_ACTIVE) && !bpfd_pf_task_passes(BPFD_TRACER_TYPE, pf->mode)) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	if (bpfd_task_ignored())
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	task = (void *)bpf_get_current_task();
	if (sys == CHMOD_SYS_FCHMOD) {
		/* fchmod(fd, mode): the descriptor's file, also when the call failed (EPERM). */
		mode = (u32)bpfd_syscall_arg(a, 1);
		bpfd_path_start_file(bpfd_fd_file(task, (int)bpfd_syscall_arg(a, 0)), &start);
		kind = BPFD_PATH_FILE;
	} else {
		/* chmod(filename, mode), fchmodat(dfd, filename, mode[, flags]) */
		if (sys == CHMOD_SYS_CHMOD) {
			filename = (const char *)bpfd_syscall_arg(a, 0);
			mode = (u32)bpfd_syscall_arg(a, 1);
		} else {
			dfd = (int)bpfd_syscall_arg(a, 0);
			filename = (const char *)bpfd_syscall_arg(a, 1);
			mode = (u32)bpfd_syscall_arg(a, 2);
		}
		if (filename && bpfd_read_user(&first, 1, filename) == 0) {
			bpfd_path_start_base(task, dfd, first, &start);
			/*
			 * An empty name that succeeded: fchmodat2's AT_EMPTY_PATH,
			 * the dirfd's own file (the cwd's for AT_FDCWD).
			 */
			if (!first && ret == 0)
				kind = BPFD_PATH_FILE;
		}
	}
	len = bpfd_path_resolve(area, task, &start, kind);
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->mode = mode & 0xffff;	/* umode_t */
	r->syscall = syscall;
	r->path_flags = area->flags;
	plen = bpfd_path_copy(r->buf, area, len);
	r->path_len = plen;
	plen = BPFD_BOUND(plen, 2 * BPFD_PATH_MAX);
	if (filename && kind == BPFD_PATH_BASE) {
		n = bpfd_read_user_str(&r->buf[plen], CHMOD_FILENAME_MAX, filename);
		if (n < 0)
			n = 0;
	}
	if (n > CHMOD_FILENAME_MAX)
		n = CHMOD_FILENAME_MAX;
	r->arg_len = n;
	bpfd_submit(r, offsetof(struct chmod_record, buf) + plen +
			       BPFD_BOUND(n, 2 * CHMOD_FILENAME_MAX),
		    BPFD_TRACER_TYPE);
	return 0;
}

static __always_inline int bpfd_chmod_exit(long ret, u32 syscall)
{
	struct bpfd_syscall_args a;

	bpfd_syscall_args(&a);
	return bpfd_chmod_report(ret, syscall, &a);
}

/*
 * One program on the four exits (chmod.c), told apart by the x86-64
 * number: the report is compiled and verified once. fchmodat2 (Linux 6.6)
 * is an optional hook: on a kernel without it the program is attached to
 * the other three.
 */
int bpfd_chmod_sys_exit(struct bpfd_sys_exit_args *args)
{
	u32 syscall;

	switch (bpfd_sys_exit_nr(args)) {
	case 90:
		syscall = CHMOD_SYS_CHMOD;
		break;
	case 91:
		syscall = CHMOD_SYS_FCHMOD;
		break;
	case 268:
		syscall = CHMOD_SYS_FCHMODAT;
		break;
	case 452:
		syscall = CHMOD_SYS_FCHMODAT2;
		break;
	default:
		return 0;
	}
	return bpfd_chmod_exit(args->ret, syscall);
}

/*
 * The same calls through the 32-bit entry, which the tracepoints above
 * never see (common.bpf.c, BPFD_COMPAT_PROGRAM): the i386 numbers
 * (arch/x86/entry/syscalls/syscall_32.tbl), arguments in the 64-bit
 * calls' order.
 */
static __always_inline int bpfd_chmod_compat_exit(long nr, long ret)
{
	struct bpfd_syscall_args a;
	u32 syscall;

	switch (nr) {
	case 15:
		syscall = CHMOD_SYS_CHMOD;
		break;
	case 94:
		syscall = CHMOD_SYS_FCHMOD;
		break;
	case 306:
		syscall = CHMOD_SYS_FCHMODAT;
		break;
	case 452:
		syscall = CHMOD_SYS_FCHMODAT2;
		break;
	default:
		return 0;
	}
	bpfd_compat_syscall_args(&a);
	return bpfd_chmod_report(ret, syscall | CHMOD_SYS_COMPAT, &a);
}

BPFD_COMPAT_PROGRAM(bpfd_chmod_compat, bpfd_chmod_compat_exit)
