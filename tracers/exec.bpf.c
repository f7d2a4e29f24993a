/*
 * exec: every execve/execveat, successful or not.
 *
 * A successful exec is reported from sched_process_exec, in the new
 * program: its arguments are read in one go from the new mm's
 * arg_start..arg_end, which is what the program really received (no race
 * with a parent rewriting argv). A failed exec is reported from the
 * syscall's exit, reading argv from the old image, which is intact since
 * the exec failed, through the argument registers saved at entry.
 */

/* The in-kernel prefilter (record.h): the comm, then the file name. */
static __always_inline int bpfd_exec_prefilter_passes(const char *filename)
{
	u32 mode = bpfd_prefilter_mode(BPFD_TRACER_TYPE);

	if (!(mode & BPFD_PF_ACTIVE))
		return 1;
	if (bpfd_pf_task_passes(BPFD_TRACER_TYPE, mode))
		return 1;
	return (mode & BPFD_PF_PATH) && bpfd_pf_path_passes(BPFD_TRACER_TYPE, filename);
}

/*
 * execve(filename, argv, envp) and execveat(dfd, filename, argv, envp, flags):
 * @name_arg is the argument that holds the file name; argv follows it.
 */
static __always_inline int bpfd_exec_exit(long ret, int name_arg)
{
	struct bpfd_syscall_args a;
	const char *filename;
	const char *const *argv;
	struct exec_record *r;
	u32 off, i;
	u64 o;
	int n;

	/* A successful exec is reported from sched_process_exec. */
	if (ret >= 0 || bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	bpfd_syscall_args(&a);
	filename = (const char *)bpfd_syscall_arg(&a, name_arg);
	argv = (const char *const *)bpfd_syscall_arg(&a, name_arg + 1);
	n = bpfd_read_user_str(r->buf, EXEC_FILENAME_MAX, filename);
	if (n <= 0) {
		r->buf[0] = '\0';
		n = 1;
	}
	/* Dropped before the header's reads. */
	if (!bpfd_exec_prefilter_passes(r->buf)) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	if (bpfd_task_ignored())
		return 0;
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->flags = EXEC_ARGV_NUL_SEPARATED;
	r->argv_off = EXEC_FILENAME_MAX;

	off = 0;
	for (i = 0; i < EXEC_FAILED_ARGS_MAX; i++) {
		const char *arg = NULL;

		if (!argv || bpfd_read_user(&arg, sizeof(arg), &argv[i]) < 0 || !arg)
			break;
		if (off >= EXEC_ARGV_MAX) {
			r->flags |= EXEC_ARGV_TRUNCATED;
			break;
		}
		o = BPFD_BOUND(off, EXEC_ARGV_MAX);
		n = bpfd_read_user_str(&r->buf[EXEC_FILENAME_MAX + o], EXEC_ARGV_MAX - o, arg);
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
	/* The failure record keeps the fixed filename slot: failures are rare. */
	bpfd_submit(r, offsetof(struct exec_record, buf) + EXEC_FILENAME_MAX + off,
		    BPFD_TRACER_TYPE);
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_execve)
{
	return bpfd_exec_exit(args->ret, 0);
}

TRACEPOINT_PROBE(syscalls, sys_exit_execveat)
{
	return bpfd_exec_exit(args->ret, 1);
}

TRACEPOINT_PROBE(sched, sched_process_exec)
{
	struct exec_record *r;
	void *task, *mm;
	u64 start = 0, end = 0, len;
	u16 off;
	u64 n;

	if (bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	off = args->data_loc_filename & 0xFFFF;
	n = bpf_probe_read_kernel_str(r->buf, EXEC_FILENAME_MAX, (char *)args + off);
	if ((s64)n <= 0) {
		r->buf[0] = '\0';
		n = 1;
	}
	/* Dropped before the header's reads, which a new program always misses in the cache. */
	if (!bpfd_exec_prefilter_passes(r->buf)) {
		bpfd_prefiltered_out(BPFD_TRACER_TYPE);
		return 0;
	}
	if (bpfd_task_ignored())
		return 0;
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->flags = EXEC_ARGV_NUL_SEPARATED;
	if (n > EXEC_FILENAME_MAX)
		n = EXEC_FILENAME_MAX;
	n = BPFD_BOUND(n, 2 * EXEC_FILENAME_MAX);
	r->argv_off = n;

	task = (void *)bpf_get_current_task();
	mm = bpfd_read_ptr(task, BPFD_OFF_TASK_MM);
	if (mm) {
		bpf_probe_read_kernel(&start, sizeof(start), (char *)mm + BPFD_OFF_MM_ARG_START);
		bpf_probe_read_kernel(&end, sizeof(end), (char *)mm + BPFD_OFF_MM_ARG_END);
	}
	len = end > start ? end - start : 0;
	if (len > EXEC_ARGV_MAX) {
		len = EXEC_ARGV_MAX;
		r->flags |= EXEC_ARGV_TRUNCATED;
	}
	len = BPFD_BOUND(len, 2 * EXEC_ARGV_MAX);
	if (len && bpfd_read_user(&r->buf[n], len, (void *)start) < 0)
		len = 0;
	r->argv_len = len;
	/*
	 * A program started in a container wakes the daemon at once: it probes
	 * the container's bash through /proc/PID/root, which lasts only as
	 * long as the process (`bash -c true` is gone within milliseconds).
	 */
	bpfd_submit_wake(r, offsetof(struct exec_record, buf) + n + len, BPFD_TRACER_TYPE,
			 bpfd_containers.lookup(&r->hdr.cgroup_id) != NULL);
	return 0;
}
