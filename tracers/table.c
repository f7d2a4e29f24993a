// SPDX-License-Identifier: MIT
/*
 * The compiled-in tracers, from tracer_names in meson.build (tracer_list.h):
 * adding one is its folder tracers/NAME (its program, its record, a `const
 * struct tracer_ops NAME_tracer` and a meson.build saying which files are
 * which) and its name at the end of that list, whose order fixes each
 * tracer's record type (docs/writing-a-tracer.md).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tracer.h"
#include "tracer_list.h"

#define BPFD_TRACER(name) extern const struct tracer_ops name##_tracer;
BPFD_TRACER_LIST
#undef BPFD_TRACER

#define BPFD_TRACER(name) &name##_tracer,
static const struct tracer_ops *const builtin[] = {
	BPFD_TRACER_LIST
};
#undef BPFD_TRACER

#define BPFD_TRACER(name) &name##_tracer,
/* The built-ins first, then what tracer_register() adds; NULL after the last. */
const struct tracer_ops *tracer_table[TRACERS_MAX + 1] = {
	BPFD_TRACER_LIST
};
#undef BPFD_TRACER

const size_t tracer_builtin_count = sizeof(builtin) / sizeof(builtin[0]);
size_t tracer_count = sizeof(builtin) / sizeof(builtin[0]);

/* Slots a reload of the drop-ins took out of use (tracer_retire()). */
static bool retired[TRACERS_MAX];

int tracer_register(const struct tracer_ops *t)
{
	if (tracer_find(t->name, NULL))
		return -EEXIST;
	if (tracer_count >= TRACERS_MAX)
		return -ENOSPC;
	tracer_table[tracer_count++] = t;
	tracer_table[tracer_count] = NULL;
	return 0;
}

void tracer_retire(size_t index)
{
	if (index >= tracer_builtin_count && index < tracer_count)
		retired[index] = true;
}

bool tracer_retired(size_t index)
{
	return index < TRACERS_MAX && retired[index];
}

const struct tracer_ops *tracer_reuse(size_t index, const struct tracer_ops *t)
{
	const struct tracer_ops *was;

	if (!tracer_retired(index) || index >= tracer_count || tracer_find(t->name, NULL))
		return NULL;
	was = tracer_table[index];
	tracer_table[index] = t;
	retired[index] = false;
	return was;
}

/*
 * Record types index the kernel's per-type arrays (bpfd_enabled, bpfd_lost,
 * bpfd_prefilter, ...) and are bits of the prefilters' u32 type masks: every
 * tracer's, after the cgroup and process table records, must be below
 * BPFD_TRACERS_MAX.
 */
_Static_assert(sizeof(builtin) / sizeof(builtin[0]) <= TRACERS_MAX,
	       "more tracers than record types BPFD_TRACERS_MAX allows");
