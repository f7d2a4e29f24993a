/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACER_H
#define BPFD_TRACER_H

/*
 * Tracers (SPEC §4): each is one `const struct tracer_ops` in its own file
 * under tracers/, listed once in tracer_table[] (tracers.c). A tracer is a
 * BPF program source (embedded at build time from tracers/NAME.bpf.c), the
 * hooks it attaches to, the data keys it emits, and a decode function that
 * turns one of its raw records into an event.
 */

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct bpf_backend;

enum tracer_hook_kind {
	TRACER_HOOK_TRACEPOINT,		/* target "category:name" */
	TRACER_HOOK_URETPROBE,		/* target "symbol" in the tracer's binary */
};

struct tracer_hook {
	enum tracer_hook_kind kind;
	const char *target;
	const char *function;	/* BPF function in the tracer's source */
};

/* Settings a tracer may read when it loads. */
struct tracer_config {
	const char *bash_path;	/* bashreadline: the bash binary */
};

struct tracer_ops {
	const char *name;
	const char *description;
	const char *bpf_source;
	const struct tracer_hook *hooks;	/* ends with a NULL target */
	const char *const *keys;		/* data keys emitted, NULL-terminated */
	/*
	 * The binary uprobes attach to, or NULL: lets a tracer whose binary
	 * is missing fail alone, with a reason, before any compiling.
	 */
	const char *(*binary)(const struct tracer_config *cfg);
	/*
	 * Turns raw record @rec of @size bytes into @ev (the common header
	 * fields are filled by the caller). 0, or -EINVAL for a record that
	 * is too short or inconsistent.
	 */
	int (*decode)(const void *rec, size_t size, struct event *ev);
	/*
	 * What the program's in-kernel prefilter can test (record.h:
	 * BPFD_PF_COMM, the data key "command" is the comm; BPFD_PF_PATH, the
	 * data key "filename"; BPFD_PF_LEAF, its last component before the path is
	 * built; BPFD_PF_UID; BPFD_PF_CONTAINER), 0 for none.
	 * See prefilter.c.
	 */
	unsigned int prefilter;
};

extern const struct tracer_ops *const tracer_table[];
extern const size_t tracer_count;

/* The tracer named @name, or NULL. Its index in *@index when non-NULL. */
const struct tracer_ops *tracer_find(const char *name, size_t *index);

/* Record type of tracer @index in the shared ring buffer (record.h). */
static inline uint32_t tracer_record_type(size_t index)
{
	return 1 + (uint32_t)index;
}

/* True when tracer @t emits data key @key. */
int tracer_has_key(const struct tracer_ops *t, const char *key);

#endif
