/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ACTIONS_JOBS_H
#define BPFD_ACTIONS_JOBS_H

/*
 * The bounded work of an action that runs in the background (exec,
 * webhook, checkpoint; docs/actions.md states each one's limits): jobs
 * waiting in arrival order for a slot, jobs deferred until a time (a
 * webhook's next attempt), and at most max_running jobs running, each with
 * a deadline. The queue only links and counts: what a job is, how it is
 * started, stopped and freed stays with its action, and the action's timer
 * (action_set_timer) is set from job_queue_next().
 *
 * A job is a struct job inside the action's own job struct (job_of()).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct job {
	struct job *next;
	/* Running: its deadline; deferred: when it may wait for a slot. 0: none. */
	int64_t at_ms;
};

/* The action's struct that holds @j as member @member. */
#define job_of(j, type, member) ((type *)((char *)(j) - offsetof(type, member)))

struct job_queue {
	/* Read-only outside jobs.c (to walk them, e.g. when releasing). */
	struct job *waiting, *waiting_tail;	/* first in, first out */
	struct job *deferred;
	struct job *running;
	size_t n_waiting, n_deferred, n_running;
	size_t max_running;	/* slots */
	size_t max_waiting;	/* waiting and deferred jobs together */
};

void job_queue_init(struct job_queue *q, size_t max_running, size_t max_waiting);

/* True when a new job would find neither a free slot nor room to wait: drop it. */
bool job_queue_full(const struct job_queue *q);

/* Appends @j to the jobs waiting for a slot. */
void job_queue_push(struct job_queue *q, struct job *j);

/* Keeps @j until @at_ms, counted as waiting; job_queue_due() then queues it. */
void job_queue_defer(struct job_queue *q, struct job *j, int64_t at_ms);

/* Appends the deferred jobs whose time has come to the waiting ones. */
void job_queue_due(struct job_queue *q, int64_t now_ms);

/* The first waiting job, taken off the queue, when a slot is free; NULL otherwise. */
struct job *job_queue_take(struct job_queue *q);

/* @j (taken, or new when a slot is free) runs from now until @deadline_ms (0: none). */
void job_queue_run(struct job_queue *q, struct job *j, int64_t deadline_ms);

/* @j no longer runs: its slot is free. */
void job_queue_done(struct job_queue *q, struct job *j);

/*
 * A running job whose deadline is at or before @now_ms, its deadline
 * cleared so that it is returned once; NULL when there is none.
 */
struct job *job_queue_expired(struct job_queue *q, int64_t now_ms);

/* The earliest deadline of a running job or time of a deferred one; 0: none. */
int64_t job_queue_next(const struct job_queue *q);

/* Jobs waiting, deferred and running: an action's `pending` in status. */
size_t job_queue_pending(const struct job_queue *q);

#endif
