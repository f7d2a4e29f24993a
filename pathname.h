/* SPDX-License-Identifier: MIT */
#ifndef BPFD_PATHNAME_H
#define BPFD_PATHNAME_H

/*
 * File names in events: the path a tracer's program walked in the kernel
 * (tracers/common/path.h), and, for an open or exec that failed, the name as
 * passed joined to the directory it starts from.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

/* The data key of a file's path, and of the name of the rules' file it is (identity.h). */
#define PATHNAME_KEY "filename"
#define PATHNAME_IDENTITY_KEY "identity"

/* Put before a path whose start the kernel's walk could not reach. */
#define PATHNAME_TRUNCATED_MARK "[...]"

/*
 * Joins @name (@name_len bytes; a leading "/" changes nothing) to @base
 * (@base_len bytes, a path from "/", the task's root for an absolute name)
 * and normalises the result lexically:
 * empty and "." components go, ".." takes away the one before it (never
 * above "/"). Symlinks are not followed: there is no file to follow them
 * in. Writes the result, NUL-terminated, to @out. Returns its length, or
 * -ENAMETOOLONG when it needs more than @out_size bytes.
 */
ssize_t pathname_normalize(const char *base, size_t base_len, const char *name, size_t name_len,
			   char *out, size_t out_size);

/*
 * Adds the data keys a path gives an event: `filename` (the path the kernel
 * walked, or for a failed call @arg joined to the walked directory),
 * `resolved` (`true`, `false` or `outside-root`) and `argument` (@arg, when
 * it differs from `filename`). @path_flags: enum bpfd_path_flags. @arg may
 * hold its NUL. 0, or a negative errno.
 */
int pathname_add_event_keys(struct event *ev, const char *path, size_t path_len,
			    uint32_t path_flags, const char *arg, size_t arg_len);

/* The names of the three keys, for an event with more than one path (a rename's target). */
struct pathname_keys {
	const char *filename;
	const char *argument;
	const char *resolved;	/* NULL: not added */
};

/* pathname_add_event_keys() under the key names @keys. */
int pathname_add_event_keys_as(struct event *ev, const struct pathname_keys *keys,
			       const char *path, size_t path_len, uint32_t path_flags,
			       const char *arg, size_t arg_len);

#endif
