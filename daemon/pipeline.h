/* SPDX-License-Identifier: MIT */
#ifndef BPFD_PIPELINE_H
#define BPFD_PIPELINE_H

/*
 * The event path, one direction only (docs/architecture.md, "The data path"):
 *
 *   BPF record -> decode (the tracer) -> container (cgroup cache)
 *              -> rules -> actions and subscribers
 *
 * pipeline_handle_record() takes one raw record from the ring buffer and
 * runs it through every stage. It never blocks: actions and subscribers
 * queue what they cannot do at once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "event.h"
#include "lib/strbuf.h"
#include "rules.h"
#include "tracers/common/record.h"

struct server;
struct container_meta_cache;
struct container_meta;
struct rulebook;
struct action_set;
struct action;
struct rule;
struct proc_table;

enum { PIPELINE_DEFAULT_ACTIONS_MAX = 16 };	/* as many as config.c accepts */

struct tracer_counters {
	uint64_t events;	/* decoded */
	uint64_t matched;	/* passed the rules */
	uint64_t decode_errors;
};

struct pipeline {
	struct cgroup_cache *cgroups;	/* not owned */
	struct container_meta_cache *meta;	/* names, images, labels; not owned, may be NULL */
	struct server *server;		/* subscribers; not owned, may be NULL */
	int containers_fd;		/* the kernel's set of container cgroups, or -1 */
	int pf_meta_fd;			/* bpfd_pf_meta: containers judged by metadata, or -1 */
	uint64_t pf_meta_failed;	/* writes to it that failed (its events pass) */
	/* Tells whether a cgroup still exists; not owned, may be NULL. */
	const struct cgroup_resolver *resolver;
	/* The daemon's inserts into the counted kernel maps that failed (record.h). */
	uint64_t map_failed[BPFD_MAPS_COUNTED];
	/*
	 * Called for each event of a tracer with exec_events whose process is
	 * in a container (tracer_ops.contained_exec); NULL: nobody listens.
	 */
	void (*contained_exec)(void *ctx, int pid);
	void *contained_exec_ctx;
	/* Who started whom (exe, ancestors); not owned, NULL: no ancestry. */
	struct proc_table *procs;
	size_t ancestors;		/* ancestors named per event */
	const struct rulebook *rules;	/* the live rules; may be NULL */
	/* The rules' files by identity, naming what the kernel recognised; may be NULL. */
	const struct identity_table *identities;
	struct action_set *actions;	/* may be NULL: no actions run */
	/* What events of a tracer without rules go to (config default_actions). */
	struct action *default_actions[PIPELINE_DEFAULT_ACTIONS_MAX];
	size_t n_default_actions;
	const char *hostname;
	int64_t boot_to_real_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	/*
	 * Records made before this (CLOCK_BOOTTIME ns) were made while no
	 * daemon ran (keep = true): their events are "replayed". 0: none.
	 */
	uint64_t replay_before_ns;
	uint64_t replayed;		/* such events */
	struct tracer_counters counters[32];
	uint64_t unknown_records;
	uint64_t cgroup_records;
	/* Events rules matched, by the highest priority of those rules. */
	uint64_t priority_matched[RULE_PRIORITY_COUNT];
	uint64_t proc_records;		/* the process table's fork, exec, exit records */
	/* Every rule an event matched: as many as its tracer has rules (grown when needed). */
	const struct rule **matched;
	size_t matched_cap;
	uint64_t event_seq;		/* numbers events, to run each action once per event */
	struct event ev;		/* the event being handled */
	struct strbuf json;		/* its JSON, when someone wants it */
	bool json_done;			/* json holds this event's */
	/*
	 * Records the current read of the ring buffer may still handle (0: no
	 * limit): with producers faster than the daemon a read would never
	 * end, and the control socket would wait.
	 */
	size_t batch_left;
	/*
	 * ... and until when (CLOCK_MONOTONIC, ns; 0: no limit): on a CPU
	 * shared with the workloads, or with hundreds of subscribers to copy
	 * each event to, a batch of records can take seconds, and `status`
	 * would wait for it.
	 */
	int64_t batch_deadline_ns;
};

/* Records between two looks at the clock while a batch has a deadline. */
enum { PIPELINE_CLOCK_EVERY = 32 };

void pipeline_init(struct pipeline *p, struct cgroup_cache *cgroups, struct server *server,
		   const char *hostname);
void pipeline_release(struct pipeline *p);

/* Re-reads the clocks: call now and then so that wall time follows adjustments. */
void pipeline_sync_clock(struct pipeline *p);

/* Handles one record of @size bytes. 0, or -EINVAL for a malformed record. */
int pipeline_handle_record(struct pipeline *p, const void *rec, size_t size);

/* The ring buffer callback: @ctx is the pipeline. */
int pipeline_sample(void *ctx, void *data, size_t size);

/*
 * container_meta_cache_watch()'s callback (@ctx the pipeline): a container
 * whose metadata is settled is judged by the live rules in bpfd_pf_meta.
 */
void pipeline_meta_settled(void *ctx, uint64_t cgroup_id, const struct container_meta *m,
			   bool forget);

#endif
