// SPDX-License-Identifier: MIT
/*
 * bench_chmod_decode: the cost of decoding one chmod record into an event
 * (the chmod tracer's decode: since chmod.toml, the drop-ins' decoder
 * reading its description), on the records of a few typical calls, in
 * ROUNDS rounds; the fastest round and the mean, in ns per record.
 *
 *   build/bench/bench_chmod_decode [iterations]
 *   build/bench/bench_chmod_decode --print	the events, as JSON then text
 *
 * --print is how unit.chmod's expected events were made: the same records
 * through the decoder before and after, compared byte for byte. Where the
 * tracer is described (chmod_desc.h), it also times reading chmod.toml,
 * what the description adds to every start of the daemon and the client.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/chmod/chmod.h"
#if __has_include("chmod_desc.h")
#include "chmod_desc.h"
#include "tracers/dropin/dropin.h"
#define DESCRIBED 1
#endif

extern const struct tracer_ops chmod_tracer;

/* The first RECORDS are timed; --print shows them all. */
enum { ROUNDS = 5, RECORDS = 3, PRINTED = 9 };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* A record of call @sys with @mode, walked path @path (@flags), then @arg (NULL: none). */
static size_t make(struct chmod_record *r, uint32_t sys, uint32_t mode, const char *path,
		   uint32_t flags, const char *arg)
{
	size_t plen = strlen(path), alen = arg ? strlen(arg) + 1 : 0;

	memset(r, 0, offsetof(struct chmod_record, buf));
	r->hdr.type = BPFD_RECORD_TRACER_BASE + 7;
	r->syscall = sys;
	r->mode = mode;
	r->path_flags = flags;
	r->path_len = (uint16_t)plen;
	r->arg_len = (uint16_t)alen;
	memcpy(r->buf, path, plen);
	if (arg)
		memcpy(r->buf + plen, arg, alen);
	return offsetof(struct chmod_record, buf) + plen + alen;
}

/* The common fields the pipeline fills before decode (any fixed values do). */
static void start(struct event *ev, int64_t ret)
{
	event_init(ev);
	ev->tracer = "chmod";
	ev->time_ns = 1795869062ull * 1000000000ull;
	ev->hostname = "build-42.example.org";
	ev->pid = 48213;
	ev->tid = 48213;
	ev->ppid = 48190;
	ev->uid = 1000;
	ev->gid = 1000;
	strcpy(ev->command, "chmod");
	ev->returnval = ret;
}

int main(int argc, char **argv)
{
	static struct chmod_record recs[PRINTED];
	size_t sizes[PRINTED];
	int64_t rets[PRINTED] = { 0, 0, -1, -9, 0, 0, -13, 0, 0 };
	long n = argc > 1 ? atol(argv[1]) : 3000000;
	double best = 1e30, mean = 0;
	struct strbuf sb = STRBUF_INIT;
	struct event *ev = malloc(sizeof(*ev));
	int r, i;

	if (!ev)
		return 1;
	/* chmod u+s on a file by descriptor; chmod("x", 0666) in /tmp; a failed 32-bit fchmodat2. */
	sizes[0] = make(&recs[0], CHMOD_SYS_FCHMOD, 0104755, "/usr/local/bin/tool",
			BPFD_PATH_FILE, NULL);
	sizes[1] = make(&recs[1], CHMOD_SYS_CHMOD, 0666, "/tmp", BPFD_PATH_BASE, "x");
	sizes[2] = make(&recs[2], CHMOD_SYS_FCHMODAT2 | CHMOD_SYS_COMPAT, 02755, "/etc",
			BPFD_PATH_BASE, "../etc/./passwd");
	/* A bad descriptor; outside the root; a truncated walk; an absolute name; AT_EMPTY_PATH. */
	sizes[3] = make(&recs[3], CHMOD_SYS_FCHMOD, 0777, "", 0, NULL);
	sizes[4] = make(&recs[4], CHMOD_SYS_FCHMOD, 0, "/etc/shadow",
			BPFD_PATH_FILE | BPFD_PATH_OUTSIDE_ROOT, NULL);
	sizes[5] = make(&recs[5], CHMOD_SYS_FCHMODAT, 01777, "/a/b",
			BPFD_PATH_BASE | BPFD_PATH_TRUNCATED, "c");
	sizes[6] = make(&recs[6], CHMOD_SYS_CHMOD | CHMOD_SYS_COMPAT, 0100644, "/home/u",
			BPFD_PATH_BASE, "/etc/./shadow");
	sizes[7] = make(&recs[7], CHMOD_SYS_FCHMODAT2, 0700, "/srv/dir", BPFD_PATH_FILE, NULL);
	/* A name JSON escapes, every bit of the mode set. */
	sizes[8] = make(&recs[8], CHMOD_SYS_FCHMODAT, 0177777, "/tmp", BPFD_PATH_BASE,
			"a\"b\\c\n\x01");
	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		for (i = 0; i < PRINTED; i++) {
			start(ev, rets[i]);
			if (tracer_decode(&chmod_tracer, &recs[i], sizes[i], ev) < 0)
				return 1;
			strbuf_reset(&sb);
			event_to_json(ev, &sb);
			printf("%s\n", sb.buf);
			strbuf_reset(&sb);
			event_to_text(ev, &sb);
			printf("%s\n", sb.buf);
		}
		return 0;
	}
	if (n < ROUNDS * RECORDS)
		n = 3000000;
	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), ns;
		long k;

		for (k = 0; k < n / ROUNDS; k++) {
			i = (int)(k % RECORDS);
			start(ev, rets[i]);
			if (tracer_decode(&chmod_tracer, &recs[i], sizes[i], ev) < 0)
				return 1;
		}
		ns = (now_ns() - t0) / (double)(n / ROUNDS);
		best = ns < best ? ns : best;
		mean += ns / ROUNDS;
	}
	printf("chmod decode: %ld records, %d rounds: best %.1f ns/record, mean %.1f\n", n, ROUNDS,
	       best, mean);
#ifdef DESCRIBED
	{
		static struct dropin_builtin b;
		char err[DROPIN_ERROR_MAX];
		double t0 = now_ns();
		int k;

		for (k = 0; k < 1000; k++)
			if (dropin_builtin_init(&b, "chmod", bpfd_chmod_desc_source, err,
						sizeof(err)) < 0)
				return 1;
		printf("chmod.toml read: %.1f us\n", (now_ns() - t0) / 1000 / 1e3);
	}
#endif
	strbuf_release(&sb);
	free(ev);
	return 0;
}
