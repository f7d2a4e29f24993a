// SPDX-License-Identifier: MIT
/*
 * bench_ancestry: what naming ancestors costs per event, by depth: the
 * process table's look-ups (proc_table_enrich) and the JSON they add
 * (event_to_json), for an event 16 generations deep in a table of 10,000
 * processes. Chooses the default of `[daemon] ancestors`
 * (docs/performance.md). "enrich ns" is an event of the same process as
 * the last one (the table keeps that result); "lookup ns" alternates two
 * processes, so that every event looks its ancestors up.
 *
 *   build/bench/bench_ancestry [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/proctable.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { ROUNDS = 5, CHAIN = 17, OTHERS = 10000, SIBLING = 5000 };

int main(int argc, char **argv)
{
	static const size_t depths[] = { 0, 1, 2, 4, 8, 16 };
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct strbuf sb = STRBUF_INIT;
	struct proc_table t;
	static struct event ev;
	char exe[64], argv_area[64], comm[16];
	uint32_t pid;
	size_t d;

	if (n < ROUNDS * 10)
		n = 1000000;
	if (proc_table_init(&t, 32768) < 0)
		return 1;
	/* A chain pid 1000 <- 1001 <- ... <- 1016, and 10,000 others beside it. */
	for (pid = 1000; pid < 1000 + CHAIN; pid++) {
		int l = snprintf(argv_area, sizeof(argv_area), "prog%u --config /etc/prog%u.conf",
				 pid, pid);

		snprintf(exe, sizeof(exe), "/usr/local/bin/prog%u", pid);
		snprintf(comm, sizeof(comm), "prog%u", pid);
		for (int i = 0; i < l; i++)
			argv_area[i] = argv_area[i] == ' ' ? '\0' : argv_area[i];
		if (proc_table_seed(&t, pid, pid, pid > 1000 ? pid - 1 : 0, pid - 1, comm, exe,
				    strlen(exe), argv_area, l + 1) < 0)
			return 1;
	}
	/* A sibling of the chain's last process, as deep: events alternating with it look up. */
	if (proc_table_seed(&t, SIBLING, SIBLING, 1000 + CHAIN - 2, 1000 + CHAIN - 2, "sibling",
			    "/usr/local/bin/sibling", 22, "sibling\0", 8) < 0)
		return 1;
	for (pid = 20000; pid < 20000 + OTHERS; pid++)
		proc_table_seed(&t, pid, pid, 1000, 1000, "sleep", "/usr/bin/sleep", 14,
				"sleep\0" "600", 10);

	printf("%-8s %12s %12s %12s %12s\n", "depth", "enrich ns", "lookup ns", "+json ns",
	       "json bytes");
	for (d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		double best_e = 1e30, best_l = 1e30, best_j = 1e30;

		for (int r = 0; r < ROUNDS; r++) {
			double s = now_ns(), e, l, j;

			for (long i = 0; i < n / ROUNDS; i++) {
				pid = i & 1 ? SIBLING : 1000 + CHAIN - 1;
				event_init(&ev);
				ev.tracer = "exec";
				ev.pid = pid;
				ev.start_ns = (uint64_t)pid * t.tick_ns;
				if (depths[d])
					proc_table_enrich(&t, &ev, depths[d]);
			}
			l = (now_ns() - s) / (n / ROUNDS);
			best_l = l < best_l ? l : best_l;
			s = now_ns();

			for (long i = 0; i < n / ROUNDS; i++) {
				event_init(&ev);
				ev.tracer = "exec";
				ev.pid = 1000 + CHAIN - 1;
				ev.start_ns = (uint64_t)(1000 + CHAIN - 1) * t.tick_ns;
				if (depths[d])
					proc_table_enrich(&t, &ev, depths[d]);
			}
			e = (now_ns() - s) / (n / ROUNDS);
			s = now_ns();
			for (long i = 0; i < n / ROUNDS; i++) {
				strbuf_reset(&sb);
				if (event_to_json(&ev, &sb) < 0)
					return 1;
			}
			j = (now_ns() - s) / (n / ROUNDS);
			best_e = e < best_e ? e : best_e;
			best_j = j < best_j ? j : best_j;
		}
		printf("%-8zu %12.1f %12.1f %12.1f %12zu\n", depths[d], best_e, best_l, best_j,
		       sb.len);
	}
	proc_table_release(&t);
	strbuf_release(&sb);
	return 0;
}
