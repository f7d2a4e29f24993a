/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ACTION_H
#define BPFD_ACTION_H

/*
 * Actions (SPEC §7): each is one `const struct action_ops` in its own file
 * under actions/, listed once in action_table[] (actions.c). An action
 * runs on an event that passed the rules; it never blocks the event loop.
 */

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

struct action_ops {
	const char *name;
	/* Runs on @ev. 0, or a negative errno (counted as a failure). */
	int (*run)(const struct event *ev);
	/* Pushes out whatever run() buffered; called when the loop goes idle. */
	void (*flush)(void);
};

struct action_counters {
	uint64_t runs, failures;
};

extern const struct action_ops *const action_table[];
extern const size_t action_count;
extern struct action_counters action_counters[];

const struct action_ops *action_find(const char *name, size_t *index);

/* Runs the actions for an event no rule governs: `stdout` (SPEC §6). */
void actions_run_default(const struct event *ev);

/*
 * Runs action @name (a type, or type:instance whose settings come from the
 * config) on @ev. -ENOENT for an unknown type.
 */
int actions_run_named(const char *name, const struct event *ev);

/* True when @name names an action bpfd has (for rule validation). */
bool action_name_known(const char *name);

/* Flushes every action's buffered output. */
void actions_flush(void);

#endif
