/* SPDX-License-Identifier: MIT */
#ifndef BPFD_IDENTITY_H
#define BPFD_IDENTITY_H

/*
 * Files the rules name, known by their identity (device and inode, as the
 * daemon's mount namespace, the host's, sees them), so that the kernel
 * recognises an opened file however it was reached: a hard link, a bind
 * mount, a chroot (bpfd_pf_idents, tracers/common/path.bpf.c). Each exact
 * `filename` value of a rule names a file; each prefix ending in "/" names
 * a directory, whose files are recognised through their parents.
 *
 * The names are stat'ed when the rules change and again whenever a
 * directory holding one changes (inotify): a file replaced by a rename, as
 * `passwd` replaces /etc/shadow, is known by its new inode from then on.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "tracers/common/record.h"

struct rulebook;

/* Names known by identity at most; the kernel map holds as many. */
enum { IDENTITY_NAMES_MAX = 1024 };

struct identity_name {
	char *path;		/* absolute; a directory's without its trailing "/" */
	bool dir;
	uint32_t types;		/* record types whose rules name it */
	bool found;		/* it exists: dev and ino hold */
	uint32_t dev;		/* kernel dev_t */
	uint64_t ino;
};

struct identity_table {
	struct identity_name *names;
	size_t n, alloc;
	size_t skipped;		/* names beyond IDENTITY_NAMES_MAX, left to match by name */
	int map_fd;		/* bpfd_pf_idents (borrowed), -1: none */
	int hint_fd;		/* bpfd_pf_ident_hint (borrowed), -1: none */
	int inotify_fd;		/* the directories that hold the names */
	int *wds;		/* their watches */
	size_t n_wds;
	void *written;		/* the map's keys as last written (struct bpfd_pf_ident_key) */
	size_t n_written;
	struct bpfd_pf_ident_hint hint;	/* as last written */
};

/* An empty table that writes to no map yet (map_fd, hint_fd). 0, or a negative errno. */
int identity_init(struct identity_table *t);
void identity_release(struct identity_table *t);

/*
 * Replaces the names with those of @rb's rules, for the tracers whose
 * prefilter can test identities, and writes them. @modes (indexed by
 * record type, BPFD_TRACERS_MAX of them) get BPFD_PF_IDENT and
 * BPFD_PF_IDENT_DIRS where a tracer's rules name files or directories.
 * 0, or a negative errno.
 */
int identity_set_rules(struct identity_table *t, const struct rulebook *rb, uint32_t *modes);

/*
 * Called when inotify_fd is readable: drains it and, when a watched
 * directory changed, stats the names again and rewrites the map.
 */
int identity_on_inotify(struct identity_table *t);

/*
 * Adds `identity` to @ev (record type @type) when the kernel recognised
 * its file (ev->ident_depth) and the name it goes by among the rules
 * differs from `filename`: the rule's file itself, or for a directory the
 * directory followed by the names below it the kernel read from the
 * file's dentries (ev->ident_tail; "/[...]" when they were too long). 0,
 * or a negative errno (-ENOENT: nothing to add).
 */
int identity_add_event_key(const struct identity_table *t, uint32_t type, struct event *ev);

#endif
