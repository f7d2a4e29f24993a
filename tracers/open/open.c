// SPDX-License-Identifier: MIT
/* open: files opened through the open family of syscalls (docs/tracers.md). */
#include <errno.h>
#include <string.h>

#include "pathname.h"
#include "tracer.h"
#include "tracers/open/open.h"
#include "open_bpf.h"
#include "tracers/open/open_flags.h"
#include "open_io_uring_bpf.h"

static const struct tracer_hook open_hooks[] = {
	/* One program on each of the family's exits (open.bpf.c says why). */
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_open", "bpfd_open_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat", "bpfd_open_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat2", "bpfd_open_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_creat", "bpfd_open_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_open_by_handle_at", "bpfd_open_sys_exit" },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_submit_req",
	  "tracepoint__io_uring__io_uring_submit_req", .io_uring = true },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_complete",
	  "tracepoint__io_uring__io_uring_complete", .io_uring = true },
	/* The 32-bit entry: as exec.c says. */
	{ TRACER_HOOK_TAIL_CALL, "bpfd_compat_progs", "bpfd_open_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "raw_tracepoint__sys_exit", .compat = true },
	{ 0 },
};

static const char *const open_keys[] = { "filename", "argument", "resolved", "identity",
					  "flags",    "syscall",  "command",  "returnval", NULL };

/*
 * data.syscall: which way the open came (enum open_syscall), then through
 * the 32-bit entry (OPEN_SYS_COMPAT), which io_uring never is.
 */
static const char *const syscall_names[2][OPEN_SYS_COUNT] = {
	{
		[OPEN_SYS_OPEN] = "open",
		[OPEN_SYS_OPENAT] = "openat",
		[OPEN_SYS_OPENAT2] = "openat2",
		[OPEN_SYS_CREAT] = "creat",
		[OPEN_SYS_OPEN_BY_HANDLE_AT] = "open_by_handle_at",
		[OPEN_SYS_IO_URING_OPENAT] = "io_uring_openat",
		[OPEN_SYS_IO_URING_OPENAT2] = "io_uring_openat2",
	},
	{
		[OPEN_SYS_OPEN] = "compat_open",
		[OPEN_SYS_OPENAT] = "compat_openat",
		[OPEN_SYS_OPENAT2] = "compat_openat2",
		[OPEN_SYS_CREAT] = "compat_creat",
		[OPEN_SYS_OPEN_BY_HANDLE_AT] = "compat_open_by_handle_at",
	},
};

/*
 * The flags' text for @flags. A process opens with the same flags again
 * and again, so the last text is kept: the event points at it, which is
 * safe because an event lives only until the next record is decoded.
 */
static const char *flags_text(uint64_t flags, size_t *len)
{
	static _Thread_local uint64_t last = UINT64_MAX;
	static _Thread_local char text[256];
	static _Thread_local size_t text_len;

	if (flags != last) {
		text_len = open_flags_format(flags, text, sizeof(text));
		last = flags;
	}
	*len = text_len;
	return text;
}

static int open_decode(const void *raw, size_t size, struct event *ev)
{
	const struct open_record *r = raw;
	size_t head = offsetof(struct open_record, buf);
	const char *flags, *sysname = NULL;
	uint32_t sys;
	size_t n;
	int err;

	if (size < head || r->path_len > BPFD_PATH_MAX || r->arg_len > OPEN_FILENAME_MAX ||
	    r->ident.tail_len >= BPFD_IDENT_TAIL_MAX ||
	    (size_t)r->path_len + r->arg_len + r->ident.tail_len > size - head)
		return -EINVAL;
	sys = r->syscall & ~(uint32_t)OPEN_SYS_COMPAT;
	if (sys < OPEN_SYS_COUNT)
		sysname = syscall_names[(r->syscall & OPEN_SYS_COMPAT) != 0][sys];
	if (!sysname)
		return -EINVAL;
	/* open_by_handle_at has no name: the handle says which file. */
	err = pathname_add_event_keys(ev, r->buf, r->path_len, r->path_flags,
				      r->buf + r->path_len, r->arg_len);
	if (err)
		return err;
	ev->ident_ino = r->ident.ino;
	ev->ident_dev = r->ident.dev;
	ev->ident_depth = r->ident.depth;
	ev->ident_tail = r->buf + r->path_len + r->arg_len;
	ev->ident_tail_len = r->ident.tail_len;
	flags = flags_text(r->flags, &n);
	err = event_add_data(ev, "flags", flags, n);
	if (!err)
		err = event_add_str(ev, "syscall", sysname);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops open_tracer = {
	.name = "open",
	.description = "files opened (open, openat, openat2, creat, open_by_handle_at, "
		       "32-bit entry, io_uring), the result",
	.bpf_source = bpfd_open_bpf_source,
	.io_uring_source = bpfd_open_io_uring_bpf_source,
	.hooks = open_hooks,
	.keys = open_keys,
	.prefilter = BPFD_PF_COMM | BPFD_PF_PATH | BPFD_PF_LEAF | BPFD_PF_UID | BPFD_PF_CONTAINER |
		     BPFD_PF_IDENT | BPFD_PF_IDENT_DIRS,
	.decode = open_decode,
};
