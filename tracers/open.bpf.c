/*
 * open: the open family of syscalls with their result.
 *
 * The file name is read at the syscall's exit, not its entry: by then the
 * kernel has copied it, so the user page is resident and the read cannot
 * fail on a page that was not faulted in yet.
 */

struct open_stash {
	u64 filename;
	u64 flags;
	u32 syscall;
};

BPF_HASH(open_stashes, u32, struct open_stash, 10240);

static __always_inline int bpfd_open_enter(const char *filename, u64 flags, u32 syscall)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct open_stash s = { .filename = (u64)filename, .flags = flags, .syscall = syscall };

	if (bpfd_skip(BPFD_TRACER_TYPE))
		return 0;
	open_stashes.update(&tid, &s);
	return 0;
}

static __always_inline int bpfd_open_exit(long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct open_stash *s = open_stashes.lookup(&tid);
	struct open_record *r;
	u64 len;
	int n = 0;

	if (!s)
		return 0;
	r = bpfd_scratch();
	if (!r)
		goto out;
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->flags = s->flags;
	r->syscall = s->syscall;
	if (s->filename) {
		n = bpf_probe_read_user_str(r->filename, sizeof(r->filename), (void *)s->filename);
		if (n < 0)
			n = 0;
	}
	if (n > OPEN_FILENAME_MAX)
		n = OPEN_FILENAME_MAX;
	len = BPFD_BOUND(n, 2 * OPEN_FILENAME_MAX);
	r->filename_len = len;
	bpfd_submit(r, offsetof(struct open_record, filename) + len, BPFD_TRACER_TYPE);
out:
	open_stashes.delete(&tid);
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_open)
{
	return bpfd_open_enter(args->filename, (u32)args->flags, OPEN_SYS_OPEN);
}

TRACEPOINT_PROBE(syscalls, sys_enter_openat)
{
	return bpfd_open_enter(args->filename, (u32)args->flags, OPEN_SYS_OPENAT);
}

TRACEPOINT_PROBE(syscalls, sys_enter_openat2)
{
	u64 flags = 0;

	/* struct open_how starts with its u64 flags. */
	bpf_probe_read_user(&flags, sizeof(flags), args->how);
	return bpfd_open_enter(args->filename, flags, OPEN_SYS_OPENAT2);
}

TRACEPOINT_PROBE(syscalls, sys_enter_creat)
{
	/* creat(2) is open(O_CREAT|O_WRONLY|O_TRUNC). */
	return bpfd_open_enter(args->pathname, 01101, OPEN_SYS_CREAT);
}

TRACEPOINT_PROBE(syscalls, sys_enter_open_by_handle_at)
{
	return bpfd_open_enter(NULL, (u32)args->flags, OPEN_SYS_OPEN_BY_HANDLE_AT);
}

TRACEPOINT_PROBE(syscalls, sys_exit_open)
{
	return bpfd_open_exit(args->ret);
}

TRACEPOINT_PROBE(syscalls, sys_exit_openat)
{
	return bpfd_open_exit(args->ret);
}

TRACEPOINT_PROBE(syscalls, sys_exit_openat2)
{
	return bpfd_open_exit(args->ret);
}

TRACEPOINT_PROBE(syscalls, sys_exit_creat)
{
	return bpfd_open_exit(args->ret);
}

TRACEPOINT_PROBE(syscalls, sys_exit_open_by_handle_at)
{
	return bpfd_open_exit(args->ret);
}
