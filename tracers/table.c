// SPDX-License-Identifier: MIT
/*
 * The compiled-in tracers, from tracer_names in meson.build (tracer_list.h):
 * adding one is its folder tracers/NAME (its program, its record, a `const
 * struct tracer_ops NAME_tracer` and a meson.build saying which files are
 * which) and its name at the end of that list, whose order fixes each
 * tracer's record type (docs/writing-a-tracer.md).
 */
#include <string.h>

#include "tracer.h"
#include "tracer_list.h"

#define BPFD_TRACER(name) extern const struct tracer_ops name##_tracer;
BPFD_TRACER_LIST
#undef BPFD_TRACER

#define BPFD_TRACER(name) &name##_tracer,
const struct tracer_ops *const tracer_table[] = {
	BPFD_TRACER_LIST
	NULL,
};
#undef BPFD_TRACER

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
