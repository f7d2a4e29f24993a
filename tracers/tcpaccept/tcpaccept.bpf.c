/*
 * tcpaccept: connections accepted, and sockets that start listening.
 *
 * At the exit of accept(2)/accept4(2) and listen(2), in the process that
 * made the call: the new connection's socket exists only in softirq before
 * that (its state changes run there, with no owner yet), and accept's
 * result names it. The socket is found through the returned (or passed)
 * fd: task->files->fdt->fd[fd]->private_data->sk.
 */
#include "tcpaccept.h"
#include "../tcp/tcp.bpf.h"

static __always_inline int bpfd_tcpaccept_report(long fd, long ret, u32 event, u32 syscall)
{
	struct tcpaccept_record r;
	void *sk;

	if (ret < 0 || bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	sk = bpfd_tcp_fd_sock(fd);
	if (!sk || !bpfd_tcp_sk_is_tcp(sk))
		return 0;
	bpfd_tcp_sk_tuple(sk, &r.tuple);
	if (bpfd_tcp_prefiltered(BPFD_TRACER_TYPE, &r.tuple) || bpfd_task_ignored())
		return 0;
	bpfd_fill(&r.hdr, BPFD_TRACER_TYPE);
	r.hdr.retval = ret;
	r.event = event;
	r.syscall = syscall;
	bpfd_submit(&r, sizeof(r), BPFD_TRACER_TYPE);
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_accept)
{
	return bpfd_tcpaccept_report(args->ret, args->ret, TCPACCEPT_ACCEPT,
				     TCPACCEPT_SYS_ACCEPT);
}

TRACEPOINT_PROBE(syscalls, sys_exit_accept4)
{
	return bpfd_tcpaccept_report(args->ret, args->ret, TCPACCEPT_ACCEPT,
				     TCPACCEPT_SYS_ACCEPT4);
}

/* listen(fd, backlog): the fd from the registers saved at entry. */
TRACEPOINT_PROBE(syscalls, sys_exit_listen)
{
	struct bpfd_syscall_args a;

	if (args->ret < 0)
		return 0;
	bpfd_syscall_args(&a);
	return bpfd_tcpaccept_report((int)bpfd_syscall_arg(&a, 0), args->ret, TCPACCEPT_LISTEN,
				     TCPACCEPT_SYS_LISTEN);
}
