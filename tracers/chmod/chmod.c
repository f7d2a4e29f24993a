// SPDX-License-Identifier: MIT
/* chmod: permission changes (chmod, fchmod, fchmodat, fchmodat2) (docs/tracers.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pathname.h"
#include "tracer.h"
#include "tracers/chmod/chmod.h"
#include "chmod_bpf.h"

static const struct tracer_hook chmod_hooks[] = {
	/* One program on every exit (chmod.bpf.c); Linux 6.6 added fchmodat2. */
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_chmod", "bpfd_chmod_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_fchmod", "bpfd_chmod_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_fchmodat", "bpfd_chmod_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_fchmodat2", "bpfd_chmod_sys_exit",
	  .optional = "fchmodat2 calls are not reported (Linux 6.6 added it)" },
	/* The 32-bit entry: the raw sys_exit program's tail call (exec.c says how). */
	{ TRACER_HOOK_TAIL_CALL, "bpfd_compat_progs", "bpfd_chmod_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "raw_tracepoint__sys_exit", .compat = true },
	{ 0 },
};

static const char *const chmod_keys[] = {
	"filename", "argument", "resolved", "mode", "setuid", "setgid", "world_writable", "syscall",
	"command", "returnval", NULL,
};

/* data.syscall (enum chmod_syscall), then through the 32-bit entry (CHMOD_SYS_COMPAT). */
static const char *const syscall_names[2][CHMOD_SYS_COUNT] = {
	{
		[CHMOD_SYS_CHMOD] = "chmod",
		[CHMOD_SYS_FCHMOD] = "fchmod",
		[CHMOD_SYS_FCHMODAT] = "fchmodat",
		[CHMOD_SYS_FCHMODAT2] = "fchmodat2",
	},
	{
		[CHMOD_SYS_CHMOD] = "compat_chmod",
		[CHMOD_SYS_FCHMOD] = "compat_fchmod",
		[CHMOD_SYS_FCHMODAT] = "compat_fchmodat",
		[CHMOD_SYS_FCHMODAT2] = "compat_fchmodat2",
	},
};

static const char *flag_text(uint32_t mode, uint32_t bit)
{
	return mode & bit ? "true" : "false";
}

static int chmod_decode(const void *raw, size_t size, struct event *ev)
{
	const struct chmod_record *r = raw;
	size_t head = offsetof(struct chmod_record, buf);
	uint32_t mode, sys;
	const char *sysname = NULL;
	char *text;
	int err;

	/* The size first: the lengths inside are only read once the header is there. */
	if (size < head || r->path_len > BPFD_PATH_MAX || r->arg_len > CHMOD_FILENAME_MAX ||
	    (size_t)r->path_len + r->arg_len > size - head)
		return -EINVAL;
	/* What the kernel applies of the mode (chmod_common(): S_IALLUGO). */
	mode = r->mode & 07777;
	sys = r->syscall & ~(uint32_t)CHMOD_SYS_COMPAT;
	if (sys < CHMOD_SYS_COUNT)
		sysname = syscall_names[(r->syscall & CHMOD_SYS_COMPAT) != 0][sys];
	if (!sysname)
		return -EINVAL;
	err = pathname_add_event_keys(ev, r->buf, r->path_len, r->path_flags, r->buf + r->path_len,
				      r->arg_len);
	if (err)
		return err;
	/* As chmod(1) and stat(1) show it: four octal digits. */
	text = event_scratch_alloc(ev, 5);
	if (!text)
		return -ENOSPC;
	snprintf(text, 5, "%04o", (unsigned int)mode);
	err = event_add_data(ev, "mode", text, 4);
	if (!err)
		err = event_add_str(ev, "setuid", flag_text(mode, 04000));
	if (!err)
		err = event_add_str(ev, "setgid", flag_text(mode, 02000));
	if (!err)
		err = event_add_str(ev, "world_writable", flag_text(mode, 00002));
	if (!err)
		err = event_add_str(ev, "syscall", sysname);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops chmod_tracer = {
	.name = "chmod",
	.description = "permission changes (chmod, fchmod, fchmodat, fchmodat2, 32-bit entry), "
		       "the result",
	.bpf_source = bpfd_chmod_bpf_source,
	.hooks = chmod_hooks,
	.keys = chmod_keys,
	.prefilter = BPFD_PF_COMM | BPFD_PF_UID | BPFD_PF_CONTAINER,
	.decode = chmod_decode,
};
