// SPDX-License-Identifier: MIT
/* exec: every program execution, including failed ones (docs/tracers.md). */
#include <errno.h>
#include <string.h>

#include "pathname.h"
#include "tracer.h"
#include "tracers/exec/exec.h"
#include "exec_bpf.h"

/* Appended to argv when the arguments were longer than EXEC_ARGV_MAX. */
#define EXEC_TRUNCATED_MARK " [...]"

static const struct tracer_hook exec_hooks[] = {
	/* Linux 6.10: without it, the exec tracer does not know a script ran an interpreter. */
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_prepare_exec", "bpfd_exec_prepare",
	  .optional = "a script's interpreter (data.interpreter) is not reported, and "
		      "data.filename is the interpreter's path (Linux 6.10 added it)" },
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_exec", "tracepoint__sched__sched_process_exec" },
	/* Failed execs: one program on both exits (exec.bpf.c). */
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_execve", "bpfd_exec_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_execveat", "bpfd_exec_sys_exit" },
	/*
	 * Failed execs through the 32-bit entry: its program in the slot the raw
	 * sys_exit program (common.bpf.c) tail-calls, which open and
	 * dockeropenbreakout share: attached once.
	 */
	{ TRACER_HOOK_TAIL_CALL, "bpfd_compat_progs", "bpfd_exec_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "raw_tracepoint__sys_exit", .compat = true },
	{ 0 },
};

static const char *const exec_keys[] = {
	"filename", "argument", "resolved", "interpreter", "fileless", "stdin", "stdout", "stderr",
	"argv", "syscall", "command", "returnval", NULL,
};

/* data.syscall of a failed exec (enum exec_syscall), then through the 32-bit entry. */
static const char *const syscall_names[2][EXEC_SYS_COUNT] = {
	{ [EXEC_SYS_EXECVE] = "execve", [EXEC_SYS_EXECVEAT] = "execveat" },
	{ [EXEC_SYS_EXECVE] = "compat_execve", [EXEC_SYS_EXECVEAT] = "compat_execveat" },
};

static const char *const stdio_names[] = {
	[EXEC_STDIO_NONE] = "none",
	[EXEC_STDIO_TTY] = "tty",
	[EXEC_STDIO_PIPE] = "pipe",
	[EXEC_STDIO_SOCKET] = "socket",
	[EXEC_STDIO_FILE] = "file",
};

/*
 * Joins NUL-separated arguments with spaces. A trailing NUL ends the last
 * argument; a string cut by the cap has none.
 */
static int exec_add_argv(struct event *ev, const char *args, size_t len, bool truncated)
{
	size_t mark = truncated ? strlen(EXEC_TRUNCATED_MARK) : 0;
	char *out;
	size_t i;

	while (len && args[len - 1] == '\0')
		len--;
	out = event_scratch_alloc(ev, len + mark + 1);
	if (!out)
		return -ENOSPC;
	for (i = 0; i < len; i++)
		out[i] = args[i] ? args[i] : ' ';
	memcpy(out + len, EXEC_TRUNCATED_MARK, mark);
	out[len + mark] = '\0';
	return event_add_data(ev, "argv", out, len + mark);
}

static int exec_decode(const void *raw, size_t size, struct event *ev)
{
	static const char *const stdio_keys[] = { "stdin", "stdout", "stderr" };
	const struct exec_record *r = raw;
	size_t head = offsetof(struct exec_record, buf);
	const char *arg;
	uint32_t sys;
	size_t i;
	int err;

	if (size < head || r->path_len > BPFD_PATH_MAX || r->arg_len > EXEC_FILENAME_MAX ||
	    r->interp_len > BPFD_PATH_MAX ||
	    (size_t)r->path_len + r->arg_len + r->interp_len > r->argv_off ||
	    (size_t)r->argv_off + r->argv_len > sizeof(r->buf) ||
	    (size_t)r->argv_off + r->argv_len > size - head)
		return -EINVAL;
	sys = r->syscall & ~(uint32_t)EXEC_SYS_COMPAT;
	if (sys >= EXEC_SYS_COUNT || (sys == EXEC_SYS_NONE && r->syscall))
		return -EINVAL;
	arg = r->buf + r->path_len;
	err = pathname_add_event_keys(ev, r->buf, r->path_len, r->path_flags, arg, r->arg_len);
	if (!err && (r->flags & EXEC_SCRIPT))
		err = event_add_data(ev, "interpreter", arg + r->arg_len, r->interp_len);
	/* A failed exec ran nothing: no executable, no descriptors of its own. */
	if (!err && ev->returnval == 0) {
		err = event_add_str(ev, "fileless", r->flags & EXEC_FILELESS ? "true" : "false");
		for (i = 0; !err && i < 3; i++)
			err = event_add_str(ev, stdio_keys[i],
					    r->stdio[i] < sizeof(stdio_names) / sizeof(stdio_names[0])
						    ? stdio_names[r->stdio[i]]
						    : "none");
	}
	if (!err)
		err = exec_add_argv(ev, r->buf + r->argv_off, r->argv_len,
				    r->flags & EXEC_ARGV_TRUNCATED);
	if (!err && sys != EXEC_SYS_NONE)
		err = event_add_str(ev, "syscall",
				    syscall_names[(r->syscall & EXEC_SYS_COMPAT) != 0][sys]);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops exec_tracer = {
	.name = "exec",
	.description = "program executions (execve, execveat), including failed ones",
	.bpf_source = bpfd_exec_bpf_source,
	.hooks = exec_hooks,
	.keys = exec_keys,
	.prefilter = BPFD_PF_COMM | BPFD_PF_PATH | BPFD_PF_LEAF | BPFD_PF_UID | BPFD_PF_CONTAINER,
	.decode = exec_decode,
	.exec_events = true,
};
