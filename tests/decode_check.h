/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TESTS_DECODE_CHECK_H
#define BPFD_TESTS_DECODE_CHECK_H

/*
 * What a tracer's decode (tracer_ops.decode) promises whatever the record,
 * checked the same way by unit.decode and the decode fuzz target: an error
 * it is allowed to give, or a bounded event. Header only: the fuzz target
 * is compiled by scripts/fuzz, not by meson.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/common/record.h"

/*
 * Fills @ev as the pipeline does before decode (pipeline.c, fill_common)
 * from the header of @rec when there is one: decode reads the comm and
 * the return value from the event.
 */
static inline void decode_check_prepare(const struct tracer_ops *t, const void *rec, size_t size,
					struct event *ev)
{
	const struct bpfd_record *r = rec;

	event_init(ev);
	ev->tracer = t->name;
	if (size < sizeof(*r))
		return;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	ev->start_ns = r->start_ns;
	memcpy(ev->command, r->comm, sizeof(r->comm));
	ev->command[sizeof(r->comm)] = '\0';
	ev->returnval = r->retval;
	ev->cgroup_id = r->cgroup_id;
	ev->mntns = r->mntns;
	ev->pidns = r->pidns;
}

/* True when [@p, @p + @len) lies within [@lo, @hi). */
static inline int decode_check_within(const char *p, size_t len, const char *lo, const char *hi)
{
	return p >= lo && p <= hi && len <= (size_t)(hi - p);
}

/*
 * Checks what t->decode(@rec, @size, @ev) returned (@err) and left in @ev.
 * An error must be one a decoder gives (-EINVAL for a record too short or
 * inconsistent; -ENOSPC, -ENAMETOOLONG when what it builds does not fit the
 * event), and a record shorter than the common header is always -EINVAL.
 * An event's keys must be the tracer's own (tracer_ops.keys), at most
 * EVENT_DATA_MAX; a value pointing into the record must end within it, one
 * in the event's scratch within what was allocated, and any other (static
 * text) is read through to its length. @rec_lo, @rec_hi: the memory the
 * record was placed in (a value there must be within @rec, @size).
 * 0, or -1 with what is wrong in @why.
 */
static inline int decode_check(const struct tracer_ops *t, const void *rec, size_t size,
			       const char *rec_lo, const char *rec_hi, int err,
			       const struct event *ev, struct strbuf *json, char *why,
			       size_t why_size)
{
	const char *start = rec, *end = start + size;
	volatile unsigned char sum = 0;
	size_t i, j;

	if (size < sizeof(struct bpfd_record) && err != -EINVAL) {
		snprintf(why, why_size, "%s: a record of %zu bytes (shorter than the header): %d, "
			 "not -EINVAL", t->name, size, err);
		return -1;
	}
	if (err) {
		if (err == -EINVAL || err == -ENOSPC || err == -ENAMETOOLONG)
			return 0;
		snprintf(why, why_size, "%s: decode returned %d", t->name, err);
		return -1;
	}
	if (ev->n_data > EVENT_DATA_MAX || ev->scratch_used > EVENT_SCRATCH) {
		snprintf(why, why_size, "%s: %zu keys, %zu bytes of scratch", t->name, ev->n_data,
			 ev->scratch_used);
		return -1;
	}
	for (i = 0; i < ev->n_data; i++) {
		const struct event_kv *kv = &ev->data[i];

		if (!kv->key || !tracer_has_key(t, kv->key)) {
			snprintf(why, why_size, "%s: key \"%s\" is not among the tracer's keys",
				 t->name, kv->key ? kv->key : "(null)");
			return -1;
		}
		if (!kv->value && kv->len) {
			snprintf(why, why_size, "%s: %s: no value but %zu bytes", t->name, kv->key,
				 kv->len);
			return -1;
		}
		if (kv->value >= rec_lo && kv->value < rec_hi) {
			if (!decode_check_within(kv->value, kv->len, start, end)) {
				snprintf(why, why_size, "%s: %s: %zu bytes at %td of a %zu-byte record",
					 t->name, kv->key, kv->len, kv->value - start, size);
				return -1;
			}
		} else if (kv->value >= ev->scratch && kv->value < ev->scratch + EVENT_SCRATCH) {
			if (!decode_check_within(kv->value, kv->len, ev->scratch,
						 ev->scratch + ev->scratch_used)) {
				snprintf(why, why_size, "%s: %s: %zu bytes past the scratch used",
					 t->name, kv->key, kv->len);
				return -1;
			}
		}
		/* Wherever it lies, every byte of it can be read. */
		for (j = 0; j < kv->len; j++)
			sum += (unsigned char)kv->value[j];
	}
	if (ev->ident_tail_len && ev->ident_tail >= rec_lo && ev->ident_tail < rec_hi &&
	    !decode_check_within(ev->ident_tail, ev->ident_tail_len, start, end)) {
		snprintf(why, why_size, "%s: identity tail of %zu bytes past the record", t->name,
			 ev->ident_tail_len);
		return -1;
	}
	(void)sum;
	/* And the event is one a subscriber can be sent. */
	if (json) {
		strbuf_reset(json);
		if (event_to_json(ev, json) < 0) {
			snprintf(why, why_size, "%s: event_to_json failed", t->name);
			return -1;
		}
	}
	return 0;
}

#endif
