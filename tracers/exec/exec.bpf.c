/*
 * exec: every execve/execveat, successful or not.
 *
 * A successful exec is reported from sched_process_exec, in the new
 * program: data.filename is the path of the file it runs (mm->exe_file,
 * walked by path.bpf.c), its arguments are read in one go from the new
 * mm's arg_start..arg_end, which is what the program really received (no
 * race with a parent rewriting argv). A failed exec is reported from the
 * syscall's exit, reading argv from the old image, which is intact since
 * the exec failed, through the argument registers saved at entry.
 */

/*
 * Tasks whose exec runs an interpreter (a script, binfmt_misc): marked at
 * sched_prepare_exec (Linux 6.10, when the kernel has it), where the kernel
 * still says so (bprm->interp differs from bprm->filename), read and
 * cleared at sched_process_exec, which follows in the same task. An exec
 * killed in between leaves an entry the LRU drops.
 */
BPF_TABLE("lru_hash", u64, u8, bpfd_exec_scripts, 1024);

/*
 * sched_prepare_exec's record (Linux 6.10, include/trace/events/sched.h):
 * laid out here rather than by TRACEPOINT_PROBE, which BCC builds from the
 * tracepoint's format file and so fails to compile on a kernel without it.
 * There the hook is optional (exec.c): execs are reported, their
 * interpreters are not.
 */
struct bpfd_exec_prepare_args {
	u64 common;		/* common_type, flags, preempt_count, pid */
	u32 data_loc_interp;
	u32 data_loc_filename;
	int pid;
	u32 data_loc_comm;
};

int bpfd_exec_prepare(struct bpfd_exec_prepare_args *args)
{
	struct bpfd_path_area *area;
	u32 li = args->data_loc_interp, lf = args->data_loc_filename, i;
	u64 task = bpf_get_current_task();
	u8 one = 1;
	int differ = 0;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	if ((li >> 16) == (lf >> 16)) {
		area = bpfd_scratch();
		if (!area)
			return 0;
		area = bpfd_path_area(area);
		bpf_probe_read_kernel_str(area->buf, 256, (char *)args + (li & 0xFFFF));
		bpf_probe_read_kernel_str(&area->buf[256], 256, (char *)args + (lf & 0xFFFF));
#pragma clang loop unroll(disable)
		for (i = 0; i < 256; i++) {
			if (area->buf[i] != area->buf[256 + i]) {
				differ = 1;
				break;
			}
			if (!area->buf[i])
				break;
		}
		if (!differ)
			return 0;
	}
	bpfd_exec_scripts.update(&task, &one);
	return 0;
}

/*
 * The in-kernel prefilter before anything is walked: the task's tests,
 * then, for a name that failed to execute, its last component.
 * 1: send, 0: drop, 2: send if the walked path passes.
 */
static __always_inline int bpfd_exec_prefilter(const struct bpfd_pf_config *pf,
					       const char *user_name, struct bpfd_path_area *area)
{
	u32 mode = pf ? pf->mode : 0;

	if (!(mode & BPFD_PF_ACTIVE) || bpfd_pf_task_passes(BPFD_TRACER_TYPE, mode))
		return 1;
	if (!(mode & BPFD_PF_PATH))
		return 0;
	if (!user_name)
		return 2;
	if (mode & BPFD_PF_LEAF)
		return bpfd_pf_user_leaf_passes(BPFD_TRACER_TYPE, user_name, area, pf);
	/*
	 * With a prefix among the names, an absolute name is tested by where
	 * it begins (a shell's search of its PATH fails in each directory
	 * before the one that has the program); a relative one passes.
	 */
	return pf && pf->lead_mask ? bpfd_pf_failed_name(area, pf, user_name, 0) != 0 : 1;
}

/*
 * execve(filename, argv, envp) and execveat(dfd, filename, argv, envp, flags):
 * @name_arg is the argument that holds the file name; argv follows it.
 * @syscall: enum exec_syscall, with EXEC_SYS_COMPAT for a call through the
 * 32-bit entry, whose arguments are in other registers and whose argv is
 * an array of 32-bit pointers.
 */
static __always_inline int bpfd_exec_exit(long ret, int name_arg, u32 syscall)
{
	int compat = syscall & EXEC_SYS_COMPAT;
	struct bpfd_path_root start = {};
	struct bpfd_path_area *area;
	struct bpfd_syscall_args a;
	const char *filename;
	const char *const *argv;
	struct exec_record *r;
	void *task;
	u32 off, i, len, base;
	char first = 0;
	u64 o;
	int n;

	/* A successful exec is reported from sched_process_exec. */
	if (ret >= 0 || bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	if (compat)
		bpfd_compat_syscall_args(&a);
	else
		bpfd_syscall_args(&a);
	filename = (const char *)bpfd_syscall_arg(&a, name_arg);
	argv = (const char *const *)bpfd_syscall_arg(&a, name_arg + 1);
	/* Dropped before the header's reads. */
	if (!bpfd_exec_prefilter(bpfd_prefilter_config(BPFD_TRACER_TYPE), filename, area)) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	if (bpfd_task_ignored())
		return 0;
	task = (void *)bpf_get_current_task();
	if (filename && bpfd_read_user(&first, 1, filename) == 0)
		bpfd_path_start_base(task, name_arg ? (int)bpfd_syscall_arg(&a, 0) : -100, first,
				     &start);
	len = bpfd_path_resolve(area, task, &start, BPFD_PATH_BASE);
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->flags = EXEC_ARGV_NUL_SEPARATED;
	r->path_flags = area->flags;
	r->path_len = bpfd_path_copy(r->buf, area, len);
	base = BPFD_BOUND(r->path_len, 2 * BPFD_PATH_MAX);
	n = bpfd_read_user_str(&r->buf[base], EXEC_FILENAME_MAX, filename);
	if (n <= 0) {
		r->buf[base] = '\0';
		n = 1;
	}
	r->arg_len = n;
	r->interp_len = 0;
	r->stdio[0] = r->stdio[1] = r->stdio[2] = EXEC_STDIO_NONE;
	r->syscall = syscall;
	base = BPFD_BOUND(base + n, 4 * BPFD_PATH_MAX);
	r->argv_off = base;

	off = 0;
	for (i = 0; i < EXEC_FAILED_ARGS_MAX; i++) {
		const char *arg = NULL;
		u32 arg32 = 0;

		if (!argv)
			break;
		if (compat) {
			if (bpfd_read_user(&arg32, sizeof(arg32), (const u32 *)argv + i) < 0)
				break;
			arg = (const char *)(unsigned long)arg32;
		} else if (bpfd_read_user(&arg, sizeof(arg), &argv[i]) < 0) {
			break;
		}
		if (!arg)
			break;
		if (off >= EXEC_ARGV_MAX) {
			r->flags |= EXEC_ARGV_TRUNCATED;
			break;
		}
		o = BPFD_BOUND(off, EXEC_ARGV_MAX);
		n = bpfd_read_user_str(&r->buf[base + o], EXEC_ARGV_MAX - o, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (i == EXEC_FAILED_ARGS_MAX)
		r->flags |= EXEC_ARGV_TRUNCATED;
	if (off > EXEC_ARGV_MAX)
		off = EXEC_ARGV_MAX;
	off = BPFD_BOUND(off, 2 * EXEC_ARGV_MAX);
	r->argv_len = off;
	bpfd_submit(r, offsetof(struct exec_record, buf) + base + off, BPFD_TRACER_TYPE);
	return 0;
}

/*
 * One program on both exits (exec.c), told apart by the number: execve 59
 * and execveat 322, x32's 520 and 545. The exit is compiled and verified
 * once.
 */
int bpfd_exec_sys_exit(struct bpfd_sys_exit_args *args)
{
	long nr = bpfd_sys_exit_nr(args);
	int at = nr == 322 || nr == 545;

	if (nr != 59 && nr != 520 && !at)
		return 0;
	return bpfd_exec_exit(args->ret, at, at ? EXEC_SYS_EXECVEAT : EXEC_SYS_EXECVE);
}

/*
 * A failed exec through the 32-bit entry (execve 11, execveat 358 in
 * arch/x86/entry/syscalls/syscall_32.tbl), which the tracepoints above
 * never see: from the raw sys_exit program (common.bpf.c). A successful
 * one is reported from sched_process_exec like any other.
 */
static __always_inline int bpfd_exec_compat_exit(long nr, long ret)
{
	int at = nr == 358;

	if (nr != 11 && !at)
		return 0;
	/* One call of the exit for both: the verifier checks it once. */
	return bpfd_exec_exit(ret, at, (at ? EXEC_SYS_EXECVEAT : EXEC_SYS_EXECVE) | EXEC_SYS_COMPAT);
}

BPFD_COMPAT_PROGRAM(bpfd_exec_compat, bpfd_exec_compat_exit)

/*
 * What descriptor @fd of @task is: from its inode's type, and for a
 * character device its major (ttys: 4, 5, and the ptys' 136-143).
 */
static __always_inline u8 bpfd_exec_stdio(void *task, int fd)
{
	void *file = bpfd_fd_file(task, fd), *inode;
	u32 rdev = 0, major;
	u16 mode = 0;

	if (!file)
		return EXEC_STDIO_NONE;
	inode = bpfd_read_ptr(file, BPFD_OFF_FILE_INODE);
	if (!inode)
		return EXEC_STDIO_FILE;
	BPFD_KGET(mode, (char *)inode + BPFD_OFF_INODE_MODE);
	switch (mode & 0170000) {
	case 0140000:
		return EXEC_STDIO_SOCKET;
	case 0010000:
		return EXEC_STDIO_PIPE;
	case 0020000:
		BPFD_KGET(rdev, (char *)inode + BPFD_OFF_INODE_RDEV);
		major = rdev >> 20;	/* the kernel's dev_t: MINORBITS is 20 */
		if (major == 4 || major == 5 || (major >= 136 && major <= 143))
			return EXEC_STDIO_TTY;
		return EXEC_STDIO_FILE;
	}
	return EXEC_STDIO_FILE;
}

TRACEPOINT_PROBE(sched, sched_process_exec)
{
	struct bpfd_path_root start;
	struct bpfd_path_area *area;
	struct bpfd_pf_config *pf;
	struct exec_record *r;
	void *task, *mm, *exe, *inode;
	u64 start_arg = 0, end_arg = 0, len, key;
	u32 k, plen, kind, nlink = 1, base = 0;
	int script, verdict;
	char first = 0;
	u16 off;
	long n = 0;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	task = (void *)bpf_get_current_task();
	key = (u64)task;
	script = bpfd_exec_scripts.lookup(&key) != NULL;
	if (script)
		bpfd_exec_scripts.delete(&key);
	pf = bpfd_prefilter_config(BPFD_TRACER_TYPE);
	verdict = bpfd_exec_prefilter(pf, NULL, area);
	if (!verdict) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	if (bpfd_task_ignored())
		return 0;
	mm = bpfd_read_ptr(task, BPFD_OFF_TASK_MM);
	exe = mm ? bpfd_read_ptr(mm, BPFD_OFF_MM_EXE_FILE) : NULL;
	off = args->data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel(&first, 1, (char *)args + off);

	/*
	 * Two walks through one copy of the code: the verifier checks the
	 * walk once per pass. Without a script, the executable's path; with
	 * one, the directory its name starts from (the kernel no longer
	 * holds the script's file here), then the interpreter's path.
	 */
#pragma clang loop unroll(disable)
	for (k = 0; k < 2; k++) {
		start.mnt = start.dentry = NULL;
		kind = BPFD_PATH_FILE;
		if (k == 0 && script) {
			kind = BPFD_PATH_BASE;
			bpfd_path_start_base(task, -100, first, &start);
		} else if (k == 1 && !script) {
			break;
		} else {
			bpfd_path_start_file(exe, &start);
		}
		plen = bpfd_path_resolve(area, task, &start, kind);
		if (k == 1) {
			r->interp_len = bpfd_path_copy(&r->buf[BPFD_BOUND(base, 4 * BPFD_PATH_MAX)],
						       area, plen);
			base += r->interp_len;
			break;
		}
		if (verdict == 2 && !script && plen && !(area->flags & BPFD_PATH_TRUNCATED) &&
		    !bpfd_pf_walked_path_passes(BPFD_TRACER_TYPE, area, pf)) {
			bpfd_prefiltered_out(BPFD_TRACER_TYPE);
			return 0;
		}
		r->path_flags = area->flags;
		r->path_len = bpfd_path_copy(r->buf, area, plen);
		base = BPFD_BOUND(r->path_len, 2 * BPFD_PATH_MAX);
		n = bpf_probe_read_kernel_str(&r->buf[base], EXEC_FILENAME_MAX, (char *)args + off);
		if (n <= 0) {
			r->buf[base] = '\0';
			n = 1;
		}
		r->arg_len = n;
		r->interp_len = 0;
		base += n;
	}

	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->flags = EXEC_ARGV_NUL_SEPARATED | (script ? EXEC_SCRIPT : 0);
	r->syscall = EXEC_SYS_NONE;
	inode = exe ? bpfd_read_ptr(exe, BPFD_OFF_FILE_INODE) : NULL;
	if (inode)
		BPFD_KGET(nlink, (char *)inode + BPFD_OFF_INODE_NLINK);
	if (!nlink && !script)
		r->flags |= EXEC_FILELESS;
	r->stdio[0] = bpfd_exec_stdio(task, 0);
	r->stdio[1] = bpfd_exec_stdio(task, 1);
	r->stdio[2] = bpfd_exec_stdio(task, 2);

	base = BPFD_BOUND(base, 4 * BPFD_PATH_MAX);
	r->argv_off = base;
	if (mm) {
		BPFD_KGET(start_arg, (char *)mm + BPFD_OFF_MM_ARG_START);
		BPFD_KGET(end_arg, (char *)mm + BPFD_OFF_MM_ARG_END);
	}
	len = end_arg > start_arg ? end_arg - start_arg : 0;
	if (len > EXEC_ARGV_MAX) {
		len = EXEC_ARGV_MAX;
		r->flags |= EXEC_ARGV_TRUNCATED;
	}
	len = BPFD_BOUND(len, 2 * EXEC_ARGV_MAX);
	if (len && bpfd_read_user(&r->buf[base], len, (void *)start_arg) < 0)
		len = 0;
	r->argv_len = len;
	/*
	 * A program started in a container wakes the daemon at once: it probes
	 * the container's bash through /proc/PID/root, which lasts only as
	 * long as the process (`bash -c true` is gone within milliseconds).
	 */
	bpfd_submit_wake(r, offsetof(struct exec_record, buf) + base + len, BPFD_TRACER_TYPE,
			 bpfd_containers.lookup(&r->hdr.cgroup_id) != NULL);
	return 0;
}
