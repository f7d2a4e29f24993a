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

int tracer_has_key(const struct tracer_ops *t, const char *key)
{
	const char *const *k;

	for (k = t->keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}
