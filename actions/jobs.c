// SPDX-License-Identifier: MIT
#include "actions/jobs.h"

void job_queue_init(struct job_queue *q, size_t max_running, size_t max_waiting)
{
	*q = (struct job_queue){ .max_running = max_running, .max_waiting = max_waiting };
}

bool job_queue_full(const struct job_queue *q)
{
	return q->n_running >= q->max_running && q->n_waiting + q->n_deferred >= q->max_waiting;
}

void job_queue_push(struct job_queue *q, struct job *j)
{
	j->next = NULL;
	j->at_ms = 0;
	if (q->waiting_tail)
		q->waiting_tail->next = j;
	else
		q->waiting = j;
	q->waiting_tail = j;
	q->n_waiting++;
}

void job_queue_defer(struct job_queue *q, struct job *j, int64_t at_ms)
{
	j->at_ms = at_ms;
	j->next = q->deferred;
	q->deferred = j;
	q->n_deferred++;
}

void job_queue_due(struct job_queue *q, int64_t now_ms)
{
	struct job **pp = &q->deferred, *j;

	while ((j = *pp)) {
		if (j->at_ms > now_ms) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		q->n_deferred--;
		job_queue_push(q, j);
	}
}

struct job *job_queue_take(struct job_queue *q)
{
	struct job *j = q->waiting;

	if (!j || q->n_running >= q->max_running)
		return NULL;
	q->waiting = j->next;
	if (!q->waiting)
		q->waiting_tail = NULL;
	q->n_waiting--;
	j->next = NULL;
	return j;
}

void job_queue_run(struct job_queue *q, struct job *j, int64_t deadline_ms)
{
	j->at_ms = deadline_ms;
	j->next = q->running;
	q->running = j;
	q->n_running++;
}

void job_queue_done(struct job_queue *q, struct job *j)
{
	struct job **pp;

	for (pp = &q->running; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			q->n_running--;
			return;
		}
	}
}

struct job *job_queue_expired(struct job_queue *q, int64_t now_ms)
{
	struct job *j;

	for (j = q->running; j; j = j->next) {
		if (j->at_ms && j->at_ms <= now_ms) {
			j->at_ms = 0;
			return j;
		}
	}
	return NULL;
}

int64_t job_queue_next(const struct job_queue *q)
{
	const struct job *j;
	int64_t next = 0;

	for (j = q->running; j; j = j->next)
		if (j->at_ms && (!next || j->at_ms < next))
			next = j->at_ms;
	for (j = q->deferred; j; j = j->next)
		if (!next || j->at_ms < next)
			next = j->at_ms;
	return next;
}

size_t job_queue_pending(const struct job_queue *q)
{
	return q->n_waiting + q->n_deferred + q->n_running;
}
