// SPDX-License-Identifier: MIT
/* Lookups in the tracer table (tracers.c, or a test's own table). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tracer.h"

const struct tracer_ops *tracer_find(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < tracer_count; i++) {
		if (!tracer_retired(i) && strcmp(tracer_table[i]->name, name) == 0) {
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

const struct tracer_option *tracer_option_find(const char *name, const struct tracer_ops **t)
{
	const struct tracer_option *o;
	size_t i;

	for (i = 0; i < tracer_count; i++) {
		for (o = tracer_table[i]->options; o && o->name; o++) {
			if (strcmp(o->name, name) == 0) {
				if (t)
					*t = tracer_table[i];
				return o;
			}
		}
	}
	return NULL;
}

const char *tracer_option_names(char *buf, size_t size)
{
	const struct tracer_option *o;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < tracer_count; i++)
		for (o = tracer_table[i]->options; o && o->name && n < size; o++)
			n += (size_t)snprintf(buf + n, size - n, "%s, ", o->name);
	return buf;
}

const char *tracer_config_get(const struct tracer_config *cfg, const char *name)
{
	const struct tracer_option *o;
	size_t i;

	for (i = 0; cfg && i < cfg->n_settings; i++)
		if (strcmp(cfg->settings[i].name, name) == 0 && cfg->settings[i].value)
			return cfg->settings[i].value;
	o = tracer_option_find(name, NULL);
	return o ? o->def : NULL;
}

int tracer_config_set(struct tracer_config *cfg, const char *name, const char *value)
{
	const struct tracer_option *o = tracer_option_find(name, NULL);
	size_t i;

	if (!o)
		return -ENOENT;
	if (value && strlen(value) >= TRACER_OPTION_VALUE_MAX)
		return -E2BIG;
	for (i = 0; i < cfg->n_settings; i++) {
		if (strcmp(cfg->settings[i].name, o->name) == 0) {
			cfg->settings[i].value = value;
			return 0;
		}
	}
	if (cfg->n_settings == TRACER_OPTIONS_MAX)
		return -ENOSPC;
	/* The declared name: it outlives whatever @name pointed into. */
	cfg->settings[cfg->n_settings++] = (struct tracer_setting){ o->name, value };
	return 0;
}
