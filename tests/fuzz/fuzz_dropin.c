// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for drop-in tracers' descriptions (tracers/dropin/):
 * the reader, then, for a description it takes, the C given to the
 * program and the decoder on a record made of the rest of the input.
 * Built and run by scripts/fuzz. The input is a description, then,
 * after a line "%%", a record's bytes (none: a record of zeroes).
 *
 * Besides crashes and sanitizer reports (a read past the record is one:
 * the record is copied to a buffer of exactly its size), it checks what
 * every outcome promises: an error names the file; a description is
 * within its bounds, its fields inside its record, which is a multiple of
 * 8 no larger than DROPIN_RECORD_MAX, a path the last of them; a record
 * shorter than the description's shortest is refused, a longer one
 * decoded unless a path's lengths or a strict enum's value refuse it; a
 * decoded event has at most its fields' keys and "command" and
 * "returnval".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "lib/strbuf.h"
#include "tracers/dropin/desc.h"
#include "tracers/dropin/dropin.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dropin_desc d;
	static struct event ev;
	static char err[DROPIN_ERROR_MAX];
	const uint8_t *sep = memmem(data, size, "\n%%\n", 4);
	size_t text_len = sep ? (size_t)(sep - data) : size, i, rec_len, n_keys;
	const char *keys[DROPIN_KEYS_MAX + 1];
	bool may_refuse = false;
	struct strbuf c = STRBUF_INIT;
	unsigned char *rec;
	int r;

	r = dropin_desc_parse("/d/f.toml", "f", (const char *)data, text_len, &d, err, sizeof(err));
	if (r < 0) {
		check(strncmp(err, "/d/f.toml", 9) == 0);
		return 0;
	}
	check(d.n_hooks >= 1 && d.n_hooks <= DROPIN_HOOKS_MAX);
	check(d.n_fields <= DROPIN_FIELDS_MAX);
	check(d.record_size % 8 == 0 && d.record_size <= DROPIN_RECORD_MAX);
	check(d.record_min >= sizeof(struct bpfd_record) && d.record_min <= d.record_size);
	for (i = 0; i < d.n_fields; i++) {
		const struct dropin_field *f = &d.fields[i];

		check(f->offset >= sizeof(struct bpfd_record));
		check(f->offset + f->size <= d.record_size);
		check(dropin_name_valid(f->name, strlen(f->name)));
		if (f->type == DROPIN_PATH) {
			check(f->offset + 8 == d.record_min);
			check(d.record_size - (f->offset + f->size) < 8);
			may_refuse = true;
		} else {
			check(f->offset + f->size <= d.record_min);
		}
		if (f->type == DROPIN_ENUM && f->strict)
			may_refuse = true;
	}
	n_keys = dropin_desc_keys(&d, true, keys, DROPIN_KEYS_MAX + 1);
	check(n_keys <= DROPIN_KEYS_MAX);
	for (i = 0; i < d.n_hooks; i++)
		check(d.hooks[i].target[0] && d.hooks[i].function[0]);
	check(dropin_c_header(&d, &c) == 0);
	strbuf_release(&c);

	rec_len = sep ? size - text_len - 4 : d.record_size;
	rec = malloc(rec_len ? rec_len : 1);
	if (!rec)
		return 0;
	if (sep)
		memcpy(rec, sep + 4, rec_len);
	else
		memset(rec, 0, rec_len);
	event_init(&ev);
	r = dropin_decode(&d, rec, rec_len, &ev);
	if (rec_len < d.record_min)
		check(r == -EINVAL);
	else if (!may_refuse)
		check(r == 0 || r == -ENOSPC);
	else
		check(r == 0 || r == -ENOSPC || r == -EINVAL || r == -ENAMETOOLONG);
	check(ev.n_data <= n_keys + 2);
	free(rec);
	return 0;
}
