// SPDX-License-Identifier: MIT
/* Lookups in the tracer table (tracers.c, or a test's own table). */
#include <string.h>

#include "tracer.h"

const struct tracer_ops *tracer_find(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < tracer_count; i++) {
		if (strcmp(tracer_table[i]->name, name) == 0) {
			if (index)
				*index = i;
			return tracer_table[i];
		}
	}
	return NULL;
}

static int listed(const char *const *list, const char *key)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

int tracer_has_key(const struct tracer_ops *t, const char *key)
{
	return listed(t->keys, key);
}

enum tracer_key_kind tracer_key_kind(const struct tracer_ops *t, const char *key)
{
	if (listed(t->address_keys, key))
		return TRACER_KEY_ADDRESS;
	if (listed(t->port_keys, key))
		return TRACER_KEY_PORT;
	return TRACER_KEY_STRING;
}
