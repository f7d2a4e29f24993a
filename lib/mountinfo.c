// SPDX-License-Identifier: MIT
#include "lib/mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Undoes mountinfo's escapes (\ooo octal, and overlay's "\:" for a colon
 * in a layer path) in place, up to the first unescaped @sep (then cut
 * there). The rest after @sep, or NULL.
 */
static char *unescape_until(char *s, char sep)
{
	char *out = s;

	while (*s && *s != sep) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else if (s[0] == '\\' && s[1]) {
			*out++ = s[1];
			s += 2;
		} else {
			*out++ = *s++;
		}
	}
	if (!*s) {
		*out = '\0';
		return NULL;
	}
	*out = '\0';
	return s + 1;
}

int mountinfo_overlay_layers(char *line, char **layers, int max)
{
	char *opts = strstr(line, " - overlay "), *opt[64], *save, *rest;
	int n = 0, n_opt = 0, i;

	if (!opts || !(opts = strchr(opts + strlen(" - overlay "), ' ')))	/* past the source */
		return -EINVAL;
	/* Commas within values are escaped (\054): a plain one separates options. */
	for (rest = strtok_r(opts + 1, ",", &save); rest; rest = strtok_r(NULL, ",", &save)) {
		if (n_opt == 64)
			return -EINVAL;
		opt[n_opt++] = rest;
	}
	/* The upper layer first: its files hide the lower ones'. */
	for (i = 0; i < n_opt; i++)
		if (strncmp(opt[i], "upperdir=", 9) == 0) {
			if (n)
				return -EINVAL;
			layers[n] = opt[i] + 9;
			unescape_until(layers[n++], '\0');
		}
	for (i = 0; i < n_opt; i++) {
		/* Data-only layers ("::", "datadir+") hold no names: not handled, not shared. */
		if (strncmp(opt[i], "datadir+=", 9) == 0 || strstr(opt[i], "::"))
			return -EINVAL;
		if (strncmp(opt[i], "lowerdir=", 9) && strncmp(opt[i], "lowerdir+=", 10))
			continue;
		for (rest = strchr(opt[i], '=') + 1; rest;) {
			if (n == max)
				return -EINVAL;
			layers[n] = rest;
			rest = unescape_until(rest, ':');
			if (!*layers[n++])
				return -EINVAL;
		}
	}
	return n;
}

char *mountinfo_line(char *info, uint64_t mnt_id)
{
	char *line, *save;

	for (line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strtoull(line, NULL, 10) == mnt_id)
			return line;
	return NULL;
}

int mountinfo_path_in_mount(char *line, const char *path, char *out, size_t size)
{
	char *f[5], *save = NULL;
	size_t len;
	int i;

	for (i = 0; i < 5; i++) {
		f[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!f[i])
			return -EINVAL;
	}
	unescape_until(f[3], '\0');
	unescape_until(f[4], '\0');
	len = strcmp(f[4], "/") ? strlen(f[4]) : 0;
	if (strncmp(path, f[4], len) || path[len] != '/')
		return -EINVAL;
	if ((size_t)snprintf(out, size, "%s%s", strcmp(f[3], "/") ? f[3] : "", path + len) >= size)
		return -ENAMETOOLONG;
	return 0;
}
