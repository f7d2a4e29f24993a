// SPDX-License-Identifier: MIT
/*
 * Container attribution cost: cgroup_cache_lookup() with a warm cache (the
 * per-event cost in the pipeline), and the cache's memory at its bound.
 *
 * usage: bench_attribution [ENTRIES] [LOOKUPS]
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "container.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t capacity = argc > 1 ? strtoul(argv[1], NULL, 10) : 8192;
	size_t lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
	struct mallinfo2 before = mallinfo2(), after;
	struct cgroup_cache *c;
	char path[256];
	volatile const char *sink;
	double t0, t1;
	size_t i;

	c = cgroup_cache_new(capacity, NULL);
	if (!c)
		return 1;
	/* Fill it to the bound with docker-style paths of 64-hex ids. */
	for (i = 0; i < capacity; i++) {
		snprintf(path, sizeof(path), "/docker/%064zx", i * 7919 + 1);
		cgroup_cache_learn(c, 1000 + i, path, 0);
	}
	after = mallinfo2();
	t0 = now_ns();
	for (i = 0; i < lookups; i++)
		sink = cgroup_cache_lookup(c, 1000 + (i * 2654435761u) % capacity)->id;
	t1 = now_ns();
	(void)sink;
	printf("cgroup cache: %zu entries, %.1f ns per warm lookup, %.0f KiB in all (%.0f B per "
	       "entry)\n",
	       capacity, (t1 - t0) / lookups, (after.uordblks - before.uordblks) / 1024.0,
	       (double)(after.uordblks - before.uordblks) / capacity);
	cgroup_cache_free(c);
	return 0;
}
