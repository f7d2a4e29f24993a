// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bpf/bpfmap.h"
#include "pathname.h"
#include "daemon/rulebook.h"
#include "rules.h"
#include "tracer.h"
#include "tracers/common/record.h"

/* What changes a directory's entries: a file created, renamed in or out, removed. */
#define WATCH_MASK                                                                                 \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |    \
	 IN_ONLYDIR)

int identity_init(struct identity_table *t)
{
	memset(t, 0, sizeof(*t));
	t->map_fd = t->hint_fd = -1;
	t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return t->inotify_fd < 0 ? -errno : 0;
}

static void names_clear(struct identity_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->names[i].path);
	free(t->names);
	t->names = NULL;
	t->n = t->alloc = 0;
	t->skipped = 0;
}

void identity_release(struct identity_table *t)
{
	if (!t)
		return;
	names_clear(t);
	if (t->inotify_fd >= 0)
		close(t->inotify_fd);
	t->inotify_fd = -1;
	free(t->wds);
	free(t->written);
	t->wds = NULL;
	t->written = NULL;
	t->n_wds = t->n_written = 0;
}

struct collect_ctx {
	struct identity_table *t;
	uint32_t type;
	bool dirs_ok;
	int err;
};

/*
 * rule_prefilter_values() callback: an absolute exact name is a file's; a
 * prefix is a directory's only when it ends in "/" (`/etc/ssh/`): the
 * directory of `/etc/sh` would be /etc, far more than the rule names. "/"
 * itself is left out: its name already holds every path from the root.
 */
static void collect(void *ctx, const char *s, size_t len, enum rule_value_kind kind)
{
	struct collect_ctx *c = ctx;
	struct identity_table *t = c->t;
	struct identity_name *n;
	bool prefix = kind == RULE_VALUE_PREFIX;
	size_t i;

	if (c->err || !len || s[0] != '/' || memchr(s, '\0', len))
		return;
	if (prefix) {
		if (!c->dirs_ok || s[len - 1] != '/')
			return;
		while (len > 1 && s[len - 1] == '/')
			len--;
		if (len == 1)
			return;
	}
	for (i = 0; i < t->n; i++) {
		n = &t->names[i];
		if (n->dir == prefix && strlen(n->path) == len && !memcmp(n->path, s, len)) {
			n->types |= 1u << c->type;
			return;
		}
	}
	if (t->n == IDENTITY_NAMES_MAX) {
		t->skipped++;
		return;
	}
	if (t->n == t->alloc) {
		size_t alloc = t->alloc ? 2 * t->alloc : 16;
		struct identity_name *grown = realloc(t->names, alloc * sizeof(*grown));

		if (!grown) {
			c->err = -ENOMEM;
			return;
		}
		t->names = grown;
		t->alloc = alloc;
	}
	n = &t->names[t->n];
	memset(n, 0, sizeof(*n));
	n->path = strndup(s, len);
	if (!n->path) {
		c->err = -ENOMEM;
		return;
	}
	n->dir = prefix;
	n->types = 1u << c->type;
	t->n++;
}

/* Watches the directory holding each name; drops the watches no name needs any more. */
static void watch_dirs(struct identity_table *t)
{
	int *wds = calloc(t->n ? t->n : 1, sizeof(*wds));
	size_t i, j, n = 0;
	char *slash;
	int wd;

	if (!wds)
		return;
	for (i = 0; i < t->n; i++) {
		slash = strrchr(t->names[i].path, '/');
		*slash = '\0';
		wd = inotify_add_watch(t->inotify_fd, slash == t->names[i].path ? "/" :
								   t->names[i].path,
				       WATCH_MASK);
		*slash = '/';
		for (j = 0; wd >= 0 && j < n && wds[j] != wd; j++)
			;
		if (wd >= 0 && j == n)
			wds[n++] = wd;
	}
	for (i = 0; i < t->n_wds; i++) {
		for (j = 0; j < n && wds[j] != t->wds[i]; j++)
			;
		if (j == n)
			inotify_rm_watch(t->inotify_fd, t->wds[i]);
	}
	free(t->wds);
	t->wds = wds;
	t->n_wds = n;
}

static void hint_set(struct bpfd_pf_ident_hint *h, bool dir, uint64_t ino)
{
	uint64_t *bits = dir ? h->dir : h->file;

	bits[(ino / 64) % (BPFD_PF_IDENT_HINT_BITS / 64)] |= 1ULL << (ino % 64);
}

/*
 * Stats every name and writes the map: new and changed identities first,
 * then the ones gone are deleted, so that a file that stays is never
 * missing from it; the hint the kernel tests first has both while that
 * happens. The watches are set up before the stats: a change after a stat
 * is then always seen.
 */
static int refresh(struct identity_table *t)
{
	struct bpfd_pf_ident_hint hint = t->hint, both;
	uint32_t zero = 0;
	struct bpfd_pf_ident_key *keys = calloc(t->n ? t->n : 1, sizeof(*keys));
	struct bpfd_pf_ident *vals = calloc(t->n ? t->n : 1, sizeof(*vals));
	struct bpfd_pf_ident_key *old = t->written;
	size_t i, j, n = 0;
	struct stat st;
	int err = 0, r;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	watch_dirs(t);
	for (i = 0; i < t->n; i++) {
		struct identity_name *name = &t->names[i];
		struct bpfd_pf_ident_key k = { 0 };

		name->found = stat(name->path, &st) == 0 && (!name->dir || S_ISDIR(st.st_mode));
		if (!name->found)
			continue;
		name->dev = (major(st.st_dev) << 20) | minor(st.st_dev);
		name->ino = st.st_ino;
		k.dev = name->dev;
		k.ino = name->ino;
		for (j = 0; j < n && memcmp(&keys[j], &k, sizeof(k)); j++)
			;
		if (j == n)
			keys[n++] = k;
		if (name->dir)
			vals[j].dir_types |= name->types;
		else
			vals[j].file_types |= name->types;
	}
	memset(&t->hint, 0, sizeof(t->hint));
	for (i = 0; i < t->n; i++)
		if (t->names[i].found)
			hint_set(&t->hint, t->names[i].dir, t->names[i].ino);
	both = t->hint;
	for (i = 0; i < BPFD_PF_IDENT_HINT_BITS / 64; i++) {
		both.file[i] |= hint.file[i];
		both.dir[i] |= hint.dir[i];
	}
	if (t->hint_fd >= 0)
		bpfmap_update(t->hint_fd, &zero, &both, 0);
	for (i = 0; t->map_fd >= 0 && i < n; i++) {
		r = bpfmap_update(t->map_fd, &keys[i], &vals[i], 0);
		if (r < 0 && !err)
			err = r;
	}
	for (i = 0; t->map_fd >= 0 && i < t->n_written; i++) {
		for (j = 0; j < n && memcmp(&keys[j], &old[i], sizeof(*old)); j++)
			;
		if (j == n)
			bpfmap_delete(t->map_fd, &old[i]);
	}
	if (t->hint_fd >= 0) {
		r = bpfmap_update(t->hint_fd, &zero, &t->hint, 0);
		if (r < 0 && !err)
			err = r;
	}
	free(vals);
	free(t->written);
	t->written = keys;
	t->n_written = n;
	return err;
}

int identity_set_rules(struct identity_table *t, const struct rulebook *rb, uint32_t *modes)
{
	struct collect_ctx c = { .t = t };
	uint32_t type;
	size_t i;
	int err;

	names_clear(t);
	for (i = 0; i < rulebook_count(rb) && !c.err; i++) {
		const struct rule *r = rulebook_at(rb, i, NULL);
		unsigned int caps = tracer_table[rule_tracer(r)]->prefilter;

		if (!(caps & BPFD_PF_IDENT))
			continue;
		c.type = tracer_record_type(rule_tracer(r));
		/* A directory needs the parents' test: without it, exact names only. */
		c.dirs_ok = caps & BPFD_PF_IDENT_DIRS;
		rule_prefilter_values(r, PATHNAME_KEY, false, collect, &c);
	}
	if (c.err)
		names_clear(t);
	for (i = 0; i < t->n; i++)
		for (type = 0; type < BPFD_TRACERS_MAX; type++)
			if (t->names[i].types & (1u << type))
				modes[type] |= t->names[i].dir ? BPFD_PF_IDENT | BPFD_PF_IDENT_DIRS
							       : BPFD_PF_IDENT;
	err = refresh(t);
	return c.err ? c.err : err;
}

int identity_on_inotify(struct identity_table *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	/* However many changes, one refresh: bounded by the names, not by the churn. */
	while (read(t->inotify_fd, buf, sizeof(buf)) > 0)
		changed = true;
	return changed ? refresh(t) : 0;
}

int identity_add_event_key(const struct identity_table *t, uint32_t type, struct event *ev)
{
	const struct identity_name *name = NULL;
	const char *file, *tail = ev->ident_tail;
	size_t len, dlen, tlen = ev->ident_tail_len, i;
	char *out;

	if (!ev->ident_depth)
		return -ENOENT;
	for (i = 0; i < t->n && !name; i++) {
		const struct identity_name *n = &t->names[i];

		if (n->found && n->dev == ev->ident_dev && n->ino == ev->ident_ino &&
		    n->dir == (ev->ident_depth > 1) && (n->types & (1u << type)))
			name = n;
	}
	file = event_get_data(ev, PATHNAME_KEY, &len);
	if (!name || !file)
		return -ENOENT;
	if (ev->ident_depth == 1) {
		tlen = 0;
	} else if (!tlen || !tail) {
		/* Names too long to carry: still below the directory, as its prefix rules say. */
		tail = "/" PATHNAME_TRUNCATED_MARK;
		tlen = strlen(tail);
	}
	dlen = strlen(name->path);
	if (dlen + tlen == len && !memcmp(file, name->path, dlen) && !memcmp(file + dlen, tail, tlen))
		return -ENOENT;
	out = event_scratch_alloc(ev, dlen + tlen);
	if (!out)
		return -ENOSPC;
	memcpy(out, name->path, dlen);
	memcpy(out + dlen, tail, tlen);
	return event_add_data(ev, PATHNAME_IDENTITY_KEY, out, dlen + tlen);
}
