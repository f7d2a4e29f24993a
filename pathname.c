// SPDX-License-Identifier: MIT
#include "pathname.h"

#include <errno.h>
#include <string.h>

#include "tracers/common/path.h"

/* Appends the components of @s (@len bytes) to @out (@o bytes so far, starting with "/"). */
static ssize_t append_components(const char *s, size_t len, char *out, size_t o, size_t out_size)
{
	size_t i = 0;

	while (i < len) {
		const char *c = s + i;
		const char *slash = memchr(c, '/', len - i);
		size_t n = slash ? (size_t)(slash - c) : len - i;

		i += n + 1;
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		/* A separator unless at "/", the component, and room for the NUL. */
		if ((o > 1) + n + 1 > out_size - o)
			return -ENAMETOOLONG;
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
	}
	return (ssize_t)o;
}

ssize_t pathname_normalize(const char *base, size_t base_len, const char *name, size_t name_len,
			   char *out, size_t out_size)
{
	ssize_t o;

	if (out_size < 2)
		return -ENAMETOOLONG;
	out[0] = '/';
	o = append_components(base, base_len, out, 1, out_size);
	if (o >= 0)
		o = append_components(name, name_len, out, (size_t)o, out_size);
	if (o < 0)
		return o;
	out[o] = '\0';
	return o;
}

int pathname_add_event_keys(struct event *ev, const char *path, size_t path_len,
			    uint32_t path_flags, const char *arg, size_t arg_len)
{
	static const struct pathname_keys keys = {
		.filename = PATHNAME_KEY, .argument = "argument", .resolved = "resolved",
	};

	return pathname_add_event_keys_as(ev, &keys, path, path_len, path_flags, arg, arg_len);
}

int pathname_add_event_keys_as(struct event *ev, const struct pathname_keys *keys,
			       const char *path, size_t path_len, uint32_t path_flags,
			       const char *arg, size_t arg_len)
{
	size_t mark = path_flags & BPFD_PATH_TRUNCATED ? strlen(PATHNAME_TRUNCATED_MARK) : 0;
	const char *name = path, *resolved = "false";
	size_t len = path_len;
	ssize_t n;
	char *out;
	int err;

	arg_len = strnlen(arg, arg_len);
	if (path_flags & BPFD_PATH_FILE) {
		resolved = path_flags & BPFD_PATH_OUTSIDE_ROOT ? "outside-root" : "true";
	} else if ((path_flags & BPFD_PATH_BASE) || (arg_len && arg[0] == '/')) {
		/* A failed call: its name joined to the directory walked (none: the name alone). */
		out = event_scratch_alloc(ev, path_len + arg_len + 2);
		if (!out)
			return -ENOSPC;
		n = pathname_normalize(path, path_len, arg, arg_len, out, path_len + arg_len + 2);
		if (n < 0)
			return (int)n;
		name = out;
		len = (size_t)n;
	} else {
		/* Relative to a directory the kernel had no path for (a bad dirfd): as passed. */
		name = arg;
		len = arg_len;
	}
	if (mark) {
		out = event_scratch_alloc(ev, mark + len);
		if (!out)
			return -ENOSPC;
		memcpy(out, PATHNAME_TRUNCATED_MARK, mark);
		memcpy(out + mark, name, len);
		name = out;
		len += mark;
	}
	err = event_add_data(ev, keys->filename, name, len);
	if (!err && arg_len && (arg_len != len || memcmp(arg, name, len) != 0))
		err = event_add_data(ev, keys->argument, arg, arg_len);
	if (!err && keys->resolved)
		err = event_add_str(ev, keys->resolved, resolved);
	return err;
}
