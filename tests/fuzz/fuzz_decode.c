// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the tracers' decoders (tracer_ops.decode, the real
 * tracer table of tracers.c): the first byte picks the tracer (modulo
 * tracer_count, so a tracer added to the table is fuzzed at once), the rest
 * is its raw record. Decode must give an error it is allowed to or a
 * bounded event (tests/decode_check.h), which must serialize. Built and run
 * by scripts/fuzz; the seeds are tests/fuzz/corpus_decode (valid records,
 * written by `BPFD_DECODE_CORPUS=DIR build/tests/unit.decode`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_check.h"
#include "event.h"
#include "lib/strbuf.h"
#include "tracer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event ev;
	static struct strbuf json = STRBUF_INIT;
	const struct tracer_ops *t;
	char why[256];
	char *rec;
	size_t n;
	int err;

	if (size < 1 || !tracer_count)
		return 0;
	t = tracer_table[data[0] % tracer_count];
	n = size - 1;
	/*
	 * A copy of exactly the record's bytes: aligned as the ring buffer
	 * hands records over, with ASan's redzone right after its end.
	 */
	rec = malloc(n);
	if (!rec && n)
		return 0;
	if (n)
		memcpy(rec, data + 1, n);
	decode_check_prepare(t, rec, n, &ev);
	err = tracer_decode(t, rec, n, &ev);
	if (decode_check(t, rec, n, rec, rec + n, err, &ev, &json, why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz_decode: %s\n", why);
		abort();
	}
	if (!err) {
		strbuf_reset(&json);
		if (event_to_text(&ev, &json) < 0)
			abort();
	}
	free(rec);
	return 0;
}
