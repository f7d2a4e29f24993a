// SPDX-License-Identifier: MIT
/*
 * dockeropenbreakout: files opened from inside a container that lie outside
 * its root filesystem (docs/tracers.md); the conditions are in the .bpf.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "bpf/bpfmap.h"
#include "tracer.h"
#include "tracers/dockeropenbreakout/dockeropenbreakout.h"
#include "dockeropenbreakout_bpf.h"

static const struct tracer_hook dob_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_exec", "bpfd_dob_exec" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_open", "bpfd_dob_exit_open" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat", "bpfd_dob_exit_openat" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat2", "bpfd_dob_exit_openat2" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_creat", "bpfd_dob_exit_creat" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_open_by_handle_at",
	  "bpfd_dob_exit_open_by_handle_at" },
	/* Opens through the 32-bit entry: as exec.c says. */
	{ TRACER_HOOK_TAIL_CALL, "bpfd_compat_progs", "bpfd_dob_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "raw_tracepoint__sys_exit", .compat = true },
	{ 0 },
};

static const char *const dob_keys[] = { "filename", "path", "reason", "command", "returnval",
					NULL };

static const char *const dob_maps[] = { "bpfd_dob_host", NULL };

/*
 * Tells the program the host's identity (bpfd_dob_host): the mount
 * namespace the daemon found, and the root filesystem of a process in it
 * (the daemon's own "/" when that one's is out of reach).
 */
static int dob_start(const struct tracer_context *ctx, void **state)
{
	struct dob_host host = { .mntns = ctx->host_mntns };
	char root[64];
	struct stat st;
	uint32_t zero = 0;

	(void)state;
	if (ctx->n_maps < 1)
		return -EBADF;
	/* Without it nothing can be judged: the program stays silent (bpfd_dob_host_get). */
	if (!host.mntns)
		return -ENOENT;
	snprintf(root, sizeof(root), "%s/root/", ctx->host_proc ? ctx->host_proc : "/proc/self");
	if (stat(root, &st) == 0 || stat("/", &st) == 0)
		/* The kernel's dev_t: major in the top 12 bits, minor in the low 20. */
		host.root_dev = (major(st.st_dev) << 20) | minor(st.st_dev);
	return bpfmap_update(ctx->map_fds[0], &zero, &host, 0);
}

static const char *const dob_reasons[] = {
	[DOB_FOREIGN_MOUNT_NS] = "foreign-mount-namespace",
	[DOB_OUTSIDE_MOUNT_ROOT] = "outside-mount-root",
	[DOB_HOST_MOUNT_NS] = "host-mount-namespace",
	[DOB_HOST_ROOT_FS] = "host-root-filesystem",
};

/* Joins the components (leaf first) into "/a/b/c"; "..." first when cut short. */
static int dob_add_path(struct event *ev, const struct dob_record *r)
{
	size_t len = r->truncated ? 3 : 0, n, i;
	char *out, *p;

	for (i = 0; i < r->depth; i++)
		len += 1 + strnlen(r->names[i], DOB_NAME_MAX);
	out = event_scratch_alloc(ev, len + 2);
	if (!out)
		return -ENOSPC;
	p = out;
	if (r->truncated) {
		memcpy(p, "...", 3);
		p += 3;
	}
	for (i = r->depth; i-- > 0;) {
		n = strnlen(r->names[i], DOB_NAME_MAX);
		*p++ = '/';
		memcpy(p, r->names[i], n);
		p += n;
	}
	if (p == out)
		*p++ = '/';
	*p = '\0';
	return event_add_data(ev, "path", out, p - out);
}

static int dob_decode(const void *raw, size_t size, struct event *ev)
{
	const struct dob_record *r = raw;
	int err;

	if (size < sizeof(*r) || r->depth > DOB_DEPTH_MAX ||
	    r->filename_len > sizeof(r->filename) || r->reason < DOB_FOREIGN_MOUNT_NS ||
	    r->reason > DOB_HOST_ROOT_FS)
		return -EINVAL;
	err = event_add_data(ev, "filename", r->filename, strnlen(r->filename, r->filename_len));
	if (!err)
		err = dob_add_path(ev, r);
	if (!err)
		err = event_add_str(ev, "reason", dob_reasons[r->reason]);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

const struct tracer_ops dockeropenbreakout_tracer = {
	.name = "dockeropenbreakout",
	.description = "files opened from inside a container that lie outside its root filesystem",
	.bpf_source = bpfd_dockeropenbreakout_bpf_source,
	.hooks = dob_hooks,
	.keys = dob_keys,
	.decode = dob_decode,
	.maps = dob_maps,
	.start = dob_start,
	.sparse = true,
};
