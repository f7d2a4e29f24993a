// SPDX-License-Identifier: MIT
/*
 * Rule matching cost per event (docs/rules.md, "Filter tables"):
 * ruleset_match() with 1 rule of 100 exact filenames, then with 1,000 such
 * rules (100,000 distinct values), on open events that match no rule and
 * on events that match exactly one. The target is at most 2x between the
 * two. For contrast it also times 1,000 rules the index cannot help (a
 * glob each), which are checked one by one.
 *
 * usage: bench_rules [EVENTS]   (exits 2 when a ratio is over 2x)
 *
 * It links the tracers' library (bpfd-tracers): the real tracer table.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "rules.h"
#include "tracer.h"

enum {
	VALUES = 100,
	MANY = 1000,
	POOL = 4096,	/* distinct filenames cycled through */
	OPEN = 1,	/* index of the open tracer */
	RUNS = 9,
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double min(double a, double b)
{
	return a < b ? a : b;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Rule @i: 100 filenames of its own, or one glob of its own (@glob). */
static struct rule *make_rule(size_t i, bool glob)
{
	static char text[16384];
	struct rule_error err;
	struct rule *r;
	size_t o, v;

	o = snprintf(text, sizeof(text), "name = \"r%zu\"\ntracer = \"open\"\nactions = [\"stdout\"]\n"
					 "[filterEvents.filename]\nvalues = [",
		     i);
	if (glob) {
		o += snprintf(text + o, sizeof(text) - o, "\"/srv/r%zu/*\"", i);
	} else {
		for (v = 0; v < VALUES; v++)
			o += snprintf(text + o, sizeof(text) - o, "\"/srv/data/r%zu/file%zu.db\",", i,
				      v);
	}
	snprintf(text + o, sizeof(text) - o, "]\n");
	if (rule_parse(NULL, text, strlen(text), NULL, NULL, &r, &err)) {
		fprintf(stderr, "bench_rules: rule %zu: %u: %s\n", i, err.line, err.message);
		exit(1);
	}
	return r;
}

/* Nanoseconds per ruleset_match() over @n events whose filenames cycle through @names. */
static double time_match(const struct ruleset *s, char **names, size_t n, size_t *matches)
{
	static struct event ev;
	const struct rule *out[8];
	size_t i, m = 0;
	double t0, t1;

	event_init(&ev);
	ev.tracer = "open";
	event_add_str(&ev, "filename", "");
	event_add_str(&ev, "flags", "O_RDONLY|O_CLOEXEC");
	event_add_str(&ev, "command", "postgres");
	event_add_str(&ev, "returnval", "7");
	ev.returnval = 7;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		const char *name = names[i % POOL];

		ev.data[0].value = name;
		ev.data[0].len = strlen(name);
		m += ruleset_match(s, OPEN, &ev, out, 8);
	}
	t1 = now_ns();
	*matches = m;
	return (t1 - t0) / n;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	struct rule **many = calloc(MANY, sizeof(*many)), **globs = calloc(MANY, sizeof(*globs));
	char **none = calloc(POOL, sizeof(*none)), **one1 = calloc(POOL, sizeof(*one1));
	char **one1000 = calloc(POOL, sizeof(*one1000));
	struct ruleset *s1, *s1000, *sglob;
	double a_none, a_one, b_none, b_one, g_none;
	size_t i, m_a_none, m_a_one, m_b_none, m_b_one, m_g;
	int run;

	if (!many || !globs || !none || !one1 || !one1000)
		return 1;
	for (i = 0; i < MANY; i++) {
		many[i] = make_rule(i, false);
		globs[i] = make_rule(i, true);
	}
	/* Filenames like the rules', none of them in any rule. */
	for (i = 0; i < POOL; i++) {
		if (asprintf(&none[i], "/srv/data/r%zu/file%zu.wal", rnd() % MANY,
			     rnd() % VALUES) < 0 ||
		    asprintf(&one1[i], "/srv/data/r0/file%zu.db", rnd() % VALUES) < 0 ||
		    asprintf(&one1000[i], "/srv/data/r%zu/file%zu.db", rnd() % MANY,
			     rnd() % VALUES) < 0)
			return 1;
	}
	s1 = ruleset_new(many, 1);
	s1000 = ruleset_new(many, MANY);
	sglob = ruleset_new(globs, MANY);
	if (!s1 || !s1000 || !sglob)
		return 1;

	/*
	 * The machine is shared and noisy: the cases take turns, RUNS times,
	 * and each keeps its best run (the one least disturbed).
	 */
	a_none = a_one = b_none = b_one = g_none = 1e18;
	for (run = 0; run < RUNS; run++) {
		a_none = min(a_none, time_match(s1, none, n, &m_a_none));
		b_none = min(b_none, time_match(s1000, none, n, &m_b_none));
		a_one = min(a_one, time_match(s1, one1, n, &m_a_one));
		b_one = min(b_one, time_match(s1000, one1000, n, &m_b_one));
		g_none = min(g_none, time_match(sglob, none, n / 1000, &m_g));
	}
	if (m_a_none || m_b_none || m_g || m_a_one != n || m_b_one != n) {
		fprintf(stderr, "bench_rules: wrong match counts %zu %zu %zu %zu %zu\n", m_a_none,
			m_b_none, m_g, m_a_one, m_b_one);
		return 1;
	}
	printf("rule matching, %zu open events per case, best of %d runs:\n", n, RUNS);
	printf("  %-44s %8.1f ns/event\n", "1 rule x 100 values, event matches none", a_none);
	printf("  %-44s %8.1f ns/event\n", "1 rule x 100 values, event matches it", a_one);
	printf("  %-44s %8.1f ns/event\n", "1000 rules x 100 values, matches none", b_none);
	printf("  %-44s %8.1f ns/event\n", "1000 rules x 100 values, matches one", b_one);
	printf("  ratio 1000 rules / 1 rule: %.2fx (matches none), %.2fx (matches one); "
	       "target <= 2x\n",
	       b_none / a_none, b_one / a_one);
	printf("  %-44s %8.1f ns/event (not indexable: checked one by one)\n",
	       "1000 rules x 1 glob, matches none", g_none);

	ruleset_free(s1);
	ruleset_free(s1000);
	ruleset_free(sglob);
	for (i = 0; i < MANY; i++) {
		rule_free(many[i]);
		rule_free(globs[i]);
	}
	for (i = 0; i < POOL; i++) {
		free(none[i]);
		free(one1[i]);
		free(one1000[i]);
	}
	free(many);
	free(globs);
	free(none);
	free(one1);
	free(one1000);
	return (b_none / a_none > 2 || b_one / a_one > 2) ? 2 : 0;
}
