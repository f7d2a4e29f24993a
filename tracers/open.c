// SPDX-License-Identifier: MIT
/* open: files opened through the open family of syscalls (SPEC §4). */
#include <errno.h>
#include <string.h>

#include "../tracer.h"
#include "open.h"
#include "open_bpf.h"

static const struct tracer_hook open_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_open", "tracepoint__syscalls__sys_exit_open" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat", "tracepoint__syscalls__sys_exit_openat" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat2", "tracepoint__syscalls__sys_exit_openat2" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_creat", "tracepoint__syscalls__sys_exit_creat" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_open_by_handle_at",
	  "tracepoint__syscalls__sys_exit_open_by_handle_at" },
	{ 0 },
};

static const char *const open_keys[] = { "filename", "flags", "command", "returnval", NULL };

static int open_decode(const void *raw, size_t size, struct event *ev)
{
	const struct open_record *r = raw;
	size_t head = offsetof(struct open_record, filename);
	char *flags;
	size_t n;
	int err;

	if (size < head || r->filename_len > sizeof(r->filename) || r->filename_len > size - head)
		return -EINVAL;
	/* open_by_handle_at has no name: the handle says which file. */
	err = event_add_data(ev, "filename", r->filename, strnlen(r->filename, r->filename_len));
	if (err)
		return err;
	flags = event_scratch_alloc(ev, 256);
	if (!flags)
		return -ENOSPC;
	n = open_flags_format(r->flags, flags, 256);
	err = event_add_data(ev, "flags", flags, n);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops open_tracer = {
	.name = "open",
	.description = "files opened (open, openat, openat2, creat, open_by_handle_at) and the result",
	.bpf_source = bpfd_open_bpf_source,
	.hooks = open_hooks,
	.keys = open_keys,
	.prefilter = BPFD_PF_COMM | BPFD_PF_PATH | BPFD_PF_UID | BPFD_PF_CONTAINER,
	.decode = open_decode,
};
