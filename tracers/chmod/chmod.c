// SPDX-License-Identifier: MIT
/*
 * chmod: permission changes (chmod, fchmod, fchmodat, fchmodat2) (docs/tracers.md).
 * Its program is C (chmod.bpf.c); its record is described in chmod.toml, in
 * the drop-ins' format, and decoded by their decoder (tracers/dropin/).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tracer.h"
#include "tracers/chmod/chmod.h"
#include "tracers/dropin/dropin.h"
#include "chmod_bpf.h"
#include "chmod_desc.h"

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

/* Filled from chmod.toml before main(): what .desc, .keys and .description point to. */
static struct dropin_builtin chmod_desc;

static void __attribute__((constructor)) chmod_describe(void)
{
	char err[DROPIN_ERROR_MAX];

	/* Embedded at build time: failing is the build's bug (unit.chmod reads it too). */
	if (dropin_builtin_init(&chmod_desc, "chmod", bpfd_chmod_desc_source, err,
				sizeof(err)) < 0) {
		fprintf(stderr, "bpfd: the built-in chmod tracer's description: %s\n", err);
		abort();
	}
}

const struct tracer_ops chmod_tracer = {
	.name = "chmod",
	.description = chmod_desc.desc.description,
	.bpf_source = bpfd_chmod_bpf_source,
	.hooks = chmod_hooks,
	.keys = chmod_desc.keys,
	.prefilter = BPFD_PF_COMM | BPFD_PF_UID | BPFD_PF_CONTAINER,
	.desc = &chmod_desc.desc,
	.decode_desc = dropin_decode,
};
