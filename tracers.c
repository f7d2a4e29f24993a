// SPDX-License-Identifier: MIT
/*
 * The compiled-in tracers. Adding one: write tracers/NAME.{h,bpf.c,c} with
 * a `const struct tracer_ops NAME_tracer`, list the files in meson.build and
 * add one line here. The order fixes each tracer's record type.
 */
#include <string.h>

#include "tracer.h"

extern const struct tracer_ops exec_tracer;
extern const struct tracer_ops open_tracer;
extern const struct tracer_ops bashreadline_tracer;
extern const struct tracer_ops dockeropenbreakout_tracer;
extern const struct tracer_ops tcpconnect_tracer;
extern const struct tracer_ops tcpaccept_tracer;
extern const struct tracer_ops tcpdrop_tracer;
extern const struct tracer_ops chmod_tracer;

const struct tracer_ops *const tracer_table[] = {
	&exec_tracer,
	&open_tracer,
	&bashreadline_tracer,
	&dockeropenbreakout_tracer,
	&tcpconnect_tracer,
	&tcpaccept_tracer,
	&tcpdrop_tracer,
	&chmod_tracer,
	NULL,
};

const size_t tracer_count = sizeof(tracer_table) / sizeof(tracer_table[0]) - 1;

/*
 * Record types index the kernel's per-type arrays (bpfd_enabled, bpfd_lost,
 * bpfd_prefilter, ...) and are bits of the prefilters' u32 type masks: every
 * tracer's, after the cgroup and process table records, must be below
 * BPFD_TRACERS_MAX.
 */
_Static_assert(BPFD_RECORD_TRACER_BASE + sizeof(tracer_table) / sizeof(tracer_table[0]) - 1 <=
		       BPFD_TRACERS_MAX,
	       "more tracers than record types BPFD_TRACERS_MAX allows");
