/*
 * ptrace: requests that attach to a process or write to it, at the call's
 * exit (ptrace.toml). The arguments come from the registers saved at the
 * call's entry. bpfd gives this file struct bpfd_dropin_record and
 * BPFD_REQUEST_* (the enum's values, from ptrace.toml).
 */

/* The requests ptrace.toml names: the others are not reported. */
static __always_inline int ptrace_wanted(u64 request)
{
	switch (request) {
	case BPFD_REQUEST_PTRACE_TRACEME:
	case BPFD_REQUEST_PTRACE_POKETEXT:
	case BPFD_REQUEST_PTRACE_POKEDATA:
	case BPFD_REQUEST_PTRACE_POKEUSER:
	case BPFD_REQUEST_PTRACE_SETREGS:
	case BPFD_REQUEST_PTRACE_SETFPREGS:
	case BPFD_REQUEST_PTRACE_ATTACH:
	case BPFD_REQUEST_PTRACE_SETFPXREGS:
	case BPFD_REQUEST_PTRACE_SETREGSET:
	case BPFD_REQUEST_PTRACE_SEIZE:
		return 1;
	}
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_ptrace)
{
	struct bpfd_syscall_args a;
	struct bpfd_dropin_record *r;
	u64 request;

	/* The request first: a debugger's reads cost no record. */
	bpfd_syscall_args(&a);
	request = bpfd_syscall_arg(&a, 0);
	if (!ptrace_wanted(request))
		return 0;
	r = bpfd_dropin_begin();
	if (!r)
		return 0;
	r->hdr.retval = args->ret;
	r->request = (u32)request;
	r->target = (s32)bpfd_syscall_arg(&a, 1);
	r->error = args->ret < 0 ? (s32)args->ret : 0;
	bpfd_dropin_submit(r);
	return 0;
}
