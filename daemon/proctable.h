/* SPDX-License-Identifier: MIT */
#ifndef BPFD_PROCTABLE_H
#define BPFD_PROCTABLE_H

/*
 * The process table: who started whom, so that an event names its
 * process's executable and its ancestors even after they exited. Fed by
 * the common program's fork, exec and exit records (tracers/common/record.h,
 * struct bpfd_proc_record) and seeded from /proc at start; a core
 * enrichment stage beside container attribution, not a tracer.
 *
 * A process is named by its pid and its start, so that a pid reused after
 * an exit never inherits the old process's ancestry. The start is kept in
 * the clock ticks /proc/PID/stat gives it in (USER_HZ), the precision the
 * /proc seed and the kernel's records share.
 *
 * Bounded: at most @capacity entries. A process's entry goes when it has
 * exited and no entry descends from it (children are counted); an exited
 * entry kept for its descendants is evicted, oldest exit first, when a new
 * process needs its place. Live processes are never evicted: when the
 * table is full of them, a new process is not recorded (`dropped`).
 * What a process runs (exe, argv) is shared between a process and the
 * children it forks until one of them execs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

enum {
	PROC_TABLE_CAPACITY = 32768,	/* default entries */
	PROC_ANCESTORS_DEFAULT = 4,	/* ancestors per event (docs/performance.md) */
	PROC_TABLE_CAPACITY_MAX = CONFIG_PROCESS_TABLE_MAX,	/* what the config accepts */
	PROC_ARGV_MAX = 256,		/* bytes of argv kept (tracers/common/record.h BPFD_PROC_ARGV_MAX) */
	PROC_EXE_MAX = 4096,		/* bytes of an exe's path kept */
};

/* What a process runs: refcounted, immutable once made. */
struct proc_image {
	uint32_t refs;
	uint16_t exe_len;
	uint16_t argv_len;
	char data[];		/* exe, NUL, argv (spaces between arguments), NUL */
};

struct proc_entry {
	struct proc_entry *hnext;		/* the bucket's chain */
	struct proc_entry *lru_prev, *lru_next;	/* exited, kept for descendants */
	uint64_t start;				/* ticks since boot */
	uint64_t parent_start;
	uint32_t pid;
	uint32_t ppid;				/* 0: none known */
	uint32_t children;			/* entries whose parent this is */
	bool exited;
	bool in_lru;
	char comm[EVENT_COMM_LEN + 1];
	struct proc_image *image;		/* NULL: not known */
};

struct proc_table {
	struct proc_entry **buckets;
	size_t n_buckets;			/* a power of two */
	size_t capacity;
	size_t n;
	size_t kept;				/* exited, kept for descendants */
	size_t images;				/* images alive */
	size_t bytes;				/* heap of entries, images and buckets */
	uint64_t tick_ns;			/* ns per clock tick */
	struct proc_entry *lru_head, *lru_tail;	/* oldest exit first */
	/* Counters for `bpfd status`. */
	uint64_t forks, execs, exits, seeded;
	uint64_t evicted;	/* exited entries dropped for room while descendants lived */
	uint64_t dropped;	/* new processes not recorded: the table was full of live ones */
	uint64_t unknown;	/* events of a process the table did not know */
	uint64_t bad_records;
	uint64_t version;	/* this state's (event.h process_version); changes with it */
	/*
	 * What proc_table_enrich() gave the last event of a known process,
	 * kept while @version holds (0: nothing kept): the events of one
	 * process come in runs, and a run pays the look-ups once. Pointers
	 * into the table, valid while its version is the same.
	 */
	struct proc_enrich_run {
		uint64_t version;
		uint32_t pid;
		uint64_t start_ns;
		size_t depth;
		const char *exe;
		size_t exe_len;
		size_t n_ancestors;
		struct event_process ancestors[EVENT_ANCESTORS_MAX];
	} last;
};

/* @capacity entries (0: PROC_TABLE_CAPACITY). 0 or -ENOMEM. */
int proc_table_init(struct proc_table *t, size_t capacity);
void proc_table_release(struct proc_table *t);

/*
 * The record types BPFD_RECORD_PROC_*: updates the table. 0, -EINVAL for a
 * short or malformed record (counted), -ENOMEM.
 */
int proc_table_handle(struct proc_table *t, const void *rec, size_t size);

/*
 * Adds a process found running (/proc): @start_ticks and @parent_ticks as
 * /proc/PID/stat gives them, @argv NUL-separated as /proc/PID/cmdline.
 * A process already known is left as it is. 0, -ENOSPC when full, -ENOMEM.
 */
int proc_table_seed(struct proc_table *t, uint32_t pid, uint64_t start_ticks, uint32_t ppid,
		    uint64_t parent_ticks, const char *comm, const char *exe, size_t exe_len,
		    const char *argv, size_t argv_len);

/* Seeds from every process in @proc_dir ("/proc"). Returns how many, or -errno. */
int proc_table_seed_proc(struct proc_table *t, const char *proc_dir);

/* The entry of process (@pid, @start_ns), or NULL. */
struct proc_entry *proc_table_find(const struct proc_table *t, uint32_t pid, uint64_t start_ns);

/*
 * Sets @ev's exe and up to @depth ancestors (nearest first) from the
 * table, for the process the event's pid and start_ns name. Pointers into
 * the table: valid until it next changes. An event of the same process as
 * the last one, the table unchanged, gets the same without a look-up.
 */
void proc_table_enrich(struct proc_table *t, struct event *ev, size_t depth);

#endif
