/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_DROPIN_H
#define BPFD_TRACERS_DROPIN_H

/*
 * Drop-in tracers (docs/writing-a-tracer.md, "Drop-in tracers"): a tracer
 * made at run time from NAME.toml (desc.h) and NAME.bpf.c, whose
 * tracer_ops work from the description: its hooks, its keys, decode_desc.
 */

#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/dropin/desc.h"

/*
 * Decodes record @rec (@size bytes) of the drop-in described by @desc
 * (a struct dropin_desc) into @ev: every field as a data key, then
 * "command" and "returnval". 0, -EINVAL for a record shorter than the
 * description's, -ENOSPC when the event has no room left.
 */
int dropin_decode(const void *desc, const void *rec, size_t size, struct event *ev);

/*
 * Appends to @out what the program is compiled with after the common
 * program: struct bpfd_dropin_record laid out as @d says (with checks
 * that the compiler agrees), the names of flags and enum values, and
 * bpfd_dropin_begin() / bpfd_dropin_submit(). 0 or -ENOMEM.
 */
int dropin_c_header(const struct dropin_desc *d, struct strbuf *out);

/*
 * A tracer from description @d (copied) and program @source (@path, for
 * the compiler's messages): its tracer_ops, owned by the caller, freed
 * with dropin_free(). NULL when out of memory.
 */
struct tracer_ops *dropin_new(const struct dropin_desc *d, const char *path, const char *source,
			      size_t source_len);

/* A tracer that is shown failed with @why (its name @name). NULL when out of memory. */
struct tracer_ops *dropin_new_failed(const char *name, const char *path, const char *why);

void dropin_free(struct tracer_ops *ops);

/*
 * A built-in tracer whose records are described in the drop-ins' format
 * (tracers/NAME/NAME.toml, embedded as a string): its description and the
 * keys it gives rules, for its tracer_ops (.desc, .keys, .description,
 * .decode_desc = dropin_decode), so that the built-in and the drop-ins are
 * read and decoded by the same code.
 */
struct dropin_builtin {
	struct dropin_desc desc;
	const char *keys[DROPIN_KEYS_MAX + 3];	/* the fields', "command", "returnval", NULL */
};

/*
 * Reads the description @text of built-in tracer @name into @b. 0, or a
 * negative errno with what is wrong in @err: a bug of the build, which
 * the tracer's unit test catches.
 */
int dropin_builtin_init(struct dropin_builtin *b, const char *name, const char *text,
			char *err, size_t err_size);

#endif
