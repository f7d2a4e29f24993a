/* SPDX-License-Identifier: MIT */
#ifndef BPFD_BOLTDB_H
#define BPFD_BOLTDB_H

/*
 * A reader of bbolt database files, enough to look up a value under a path
 * of nested buckets: podman (up to 4.x) keeps its containers' configuration,
 * labels included, in one (libpod/bolt_state.db). Read-only, without the
 * writer's lock: the file is read with bounded preads while podman may be
 * writing it, so every page is checked against the file and the meta page,
 * descents are bounded, and a page that does not fit says -EAGAIN (try
 * again later) rather than anything being trusted.
 *
 * Functions return 0 or a negative errno and never log.
 */

#include <stddef.h>
#include <stdint.h>

enum {
	BOLTDB_DEPTH_MAX = 8,		/* branch levels of one bucket's tree */
	BOLTDB_PAGE_MAX = 4 << 20,	/* bytes of one page with its overflow */
	BOLTDB_PATH_MAX = 4,		/* buckets of one lookup */
};

/*
 * The value of key @path[@n - 1] under buckets @path[0 .. n - 2] of the
 * database open at @fd (@size bytes), into *@val (malloc'ed, @max bytes at
 * most, NUL-terminated), *@len its length. -ENOENT when a bucket or the key
 * is absent or the last is a bucket, -EINVAL when the file is not a bbolt
 * database, -EAGAIN when a page is inconsistent (being written), -EFBIG
 * when the value is larger than @max.
 */
int boltdb_get(int fd, uint64_t size, const char *const *path, size_t n, size_t max,
	       char **val, size_t *len);

#endif
