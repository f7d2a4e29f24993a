/*
 * The process table's fork and exec records (record.h, struct
 * bpfd_proc_record; the exit's is in common.bpf.c). Part of the common
 * program, after path.bpf.c, whose walk gives the executable's path.
 */

/*
 * A raw tracepoint: it is handed the child's task, whose start names the
 * new process (the sched:sched_process_fork event only has its pid). A new
 * thread (same tgid as the forking task) is not a process: no record.
 */
RAW_TRACEPOINT_PROBE(sched_process_fork)
{
	void *child = (void *)ctx->args[1];
	struct bpfd_proc_record r;
	u32 tgid = 0;

	if (bpfd_proc_off())
		return 0;
	BPFD_KGET(tgid, (char *)child + BPFD_OFF_TASK_TGID);
	if (tgid == bpf_get_current_pid_tgid() >> 32)
		return 0;
	__builtin_memset(&r, 0, sizeof(r));
	bpfd_fill(&r.hdr, BPFD_RECORD_PROC_FORK);
	r.child = tgid;
	BPFD_KGET(r.child_start_ns, (char *)child + BPFD_OFF_TASK_START_BOOTTIME);
	bpfd_submit(&r, sizeof(r), BPFD_RECORD_PROC_FORK);
	return 0;
}

/*
 * After an exec: the new comm, the executable as the kernel holds it
 * (mm->exe_file's path, walked like exec's) and the start of the argument
 * area. Independent of the exec tracer and its prefilter.
 */
int bpfd_proc_exec(void *ctx)
{
	struct bpfd_proc_record *r;
	struct bpfd_path_root start;
	struct bpfd_path_area *area;
	void *task, *mm, *exe, *parent;
	u64 arg_start = 0, arg_end = 0, len;
	u32 plen, base;

	if (bpfd_proc_off())
		return 0;
	r = bpfd_scratch();
	if (!r)
		return 0;
	area = bpfd_path_area(r);
	task = (void *)bpf_get_current_task();
	bpfd_fill(&r->hdr, BPFD_RECORD_PROC_EXEC);
	parent = bpfd_read_ptr(task, BPFD_OFF_TASK_REAL_PARENT);
	r->parent_start_ns = bpfd_proc_start(parent);
	r->child = 0;
	r->child_start_ns = 0;
	r->pad = 0;
	mm = bpfd_read_ptr(task, BPFD_OFF_TASK_MM);
	exe = mm ? bpfd_read_ptr(mm, BPFD_OFF_MM_EXE_FILE) : NULL;
	bpfd_path_start_file(exe, &start);
	plen = bpfd_path_resolve(area, task, &start, BPFD_PATH_FILE);
	r->path_flags = area->flags;
	r->exe_len = bpfd_path_copy(r->buf, area, plen);
	base = BPFD_BOUND(r->exe_len, 2 * BPFD_PATH_MAX);
	if (mm) {
		BPFD_KGET(arg_start, (char *)mm + BPFD_OFF_MM_ARG_START);
		BPFD_KGET(arg_end, (char *)mm + BPFD_OFF_MM_ARG_END);
	}
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > BPFD_PROC_ARGV_MAX)
		len = BPFD_PROC_ARGV_MAX;
	len = BPFD_BOUND(len, 2 * BPFD_PROC_ARGV_MAX);
	if (len && bpfd_read_user(&r->buf[base], len, (void *)arg_start) < 0)
		len = 0;
	r->argv_len = len;
	bpfd_submit(r, offsetof(struct bpfd_proc_record, buf) + base + len, BPFD_RECORD_PROC_EXEC);
	return 0;
}
