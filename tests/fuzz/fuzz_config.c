// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the config reader: any bytes through config_load()
 * must give a config or a "file:line: message" error, never a crash or a
 * leak, and a config must answer lookups.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERROR_MAX];
	struct config *cfg = NULL;
	size_t i, j;

	if (config_load("fuzz.conf", (const char *)data, size, NULL, NULL, &cfg, err) < 0) {
		if (strncmp(err, "fuzz.conf", 9) != 0)
			abort();
		return 0;
	}
	for (i = 0; i < cfg->n_sections; i++) {
		const struct config_section *s = &cfg->sections[i];

		if (config_section(cfg, s->name) != s)
			abort();
		for (j = 0; j < s->n_entries; j++)
			if (!config_get(s, s->entries[j].key) || !config_line(s, s->entries[j].key))
				abort();
	}
	config_free(cfg);
	return 0;
}
