/*
 * nschange: namespace changes through setns(2) and unshare(2), at the
 * call's exit (nschange.toml). The arguments come from the registers
 * saved at the call's entry (bpfd_syscall_args), as in built-in tracers.
 * bpfd gives this file struct bpfd_dropin_record (from nschange.toml),
 * BPFD_CALL_SETNS and BPFD_CALL_UNSHARE (the enum's values), and
 * bpfd_dropin_begin() / bpfd_dropin_submit().
 */

static __always_inline int nschange_report(long ret, u32 call)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();
	struct bpfd_syscall_args a;

	if (!r)
		return 0;
	bpfd_syscall_args(&a);
	r->hdr.retval = ret;
	r->call = call;
	if (call == BPFD_CALL_SETNS) {
		r->fd = (s32)bpfd_syscall_arg(&a, 0);
		r->namespaces = bpfd_syscall_arg(&a, 1);
	} else {
		r->fd = -1;
		r->namespaces = bpfd_syscall_arg(&a, 0);
	}
	r->error = ret < 0 ? (s32)ret : 0;
	bpfd_dropin_submit(r);
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_setns)
{
	return nschange_report(args->ret, BPFD_CALL_SETNS);
}

TRACEPOINT_PROBE(syscalls, sys_exit_unshare)
{
	return nschange_report(args->ret, BPFD_CALL_UNSHARE);
}
