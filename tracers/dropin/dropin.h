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

#endif
