// SPDX-License-Identifier: MIT
/*
 * The compiled-in actions. Adding one: write actions/NAME.c with a
 * `const struct action_ops NAME_action`, list it in meson.build and add
 * one line here.
 */
#include <errno.h>
#include <string.h>

#include "action.h"

extern const struct action_ops stdout_action;

const struct action_ops *const action_table[] = {
	&stdout_action,
	NULL,
};

const size_t action_count = sizeof(action_table) / sizeof(action_table[0]) - 1;

struct action_counters action_counters[sizeof(action_table) / sizeof(action_table[0])];

const struct action_ops *action_find(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < action_count; i++) {
		if (strcmp(action_table[i]->name, name) == 0) {
			if (index)
				*index = i;
			return action_table[i];
		}
	}
	return NULL;
}

static void run_one(size_t i, const struct event *ev)
{
	action_counters[i].runs++;
	if (action_table[i]->run(ev) < 0)
		action_counters[i].failures++;
}

void actions_run_default(const struct event *ev)
{
	static size_t stdout_index = (size_t)-1;

	if (stdout_index == (size_t)-1 && !action_find("stdout", &stdout_index))
		return;
	run_one(stdout_index, ev);
}

void actions_flush(void)
{
	size_t i;

	for (i = 0; i < action_count; i++)
		if (action_table[i]->flush)
			action_table[i]->flush();
}

/* The type of "type:instance". */
static const struct action_ops *action_of(const char *name, size_t *index)
{
	const char *colon = strchr(name, ':');
	char type[64];

	if (!colon)
		return action_find(name, index);
	if ((size_t)(colon - name) >= sizeof(type))
		return NULL;
	memcpy(type, name, colon - name);
	type[colon - name] = '\0';
	return action_find(type, index);
}

int actions_run_named(const char *name, const struct event *ev)
{
	size_t i;

	if (!action_of(name, &i))
		return -ENOENT;
	run_one(i, ev);
	return 0;
}

bool action_name_known(const char *name)
{
	return action_of(name, NULL) != NULL;
}
