// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "container_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int container_action_init(struct action *a, char *err, size_t size)
{
	struct cgroup_hierarchy *h = calloc(1, sizeof(*h));

	(void)err;
	(void)size;
	if (!h)
		return -ENOMEM;
	cgroup_hierarchy_init(h, a->env->cgroup_mount, a->env->cgroup2);
	a->priv = h;
	return 0;
}

void container_action_release(struct action *a)
{
	free(a->priv);
	a->priv = NULL;
}

const struct cgroup_hierarchy *container_action_hierarchy(const struct action *a)
{
	return a->priv;
}

/* The top cgroup of container @id, by a scan of the hierarchy. */
static int find_by_id(const struct cgroup_hierarchy *h, const char *id,
		      struct container_target *t)
{
	struct container_found found;
	size_t n;
	int r = container_cgroup_find(h, id, &found, 1, &n);

	if (r < 0)
		return r;
	/* A prefix of a longer name (lxc) would match too: the id must be whole. */
	if (n != 1 || strcmp(found.info.id, id) != 0)
		return -ENOENT;
	t->info = found.info;
	snprintf(t->path, sizeof(t->path), "%s", found.path);
	return 0;
}

int container_target_of(const struct action *a, const struct event *ev, const char *doing,
			struct container_target *t, char *why, size_t size)
{
	const struct cgroup_hierarchy *h = container_action_hierarchy(a);
	struct container_info self;
	char path[CGROUP_REL_PATH_MAX];
	int r = -ENOENT;

	if (!ev->container_id[0]) {
		snprintf(why, size, "pid %u is not in a container: not %s", ev->pid, doing);
		return -EINVAL;
	}
	if (container_of_self(&self) && strcmp(self.id, ev->container_id) == 0) {
		snprintf(why, size, "container %s holds bpfd itself: not %s", ev->container_id,
			 doing);
		return -EPERM;
	}
	if (!h || !h->mount[0] || !a->env->cgroup_path) {
		snprintf(why, size, "container %s: no cgroup hierarchy to find it in: not %s",
			 ev->container_id, doing);
		return -EOPNOTSUPP;
	}
	if (a->env->cgroup_path(a->env->cgroup_ctx, ev->cgroup_id, path, sizeof(path)) == 0 &&
	    container_cgroup_top(path, t->path, sizeof(t->path), &t->info) == 0 &&
	    strcmp(t->info.id, ev->container_id) == 0)
		return 0;
	r = find_by_id(h, ev->container_id, t);
	if (r < 0)
		snprintf(why, size, "container %s: its cgroup is gone (%s): not %s",
			 ev->container_id, strerror(-r), doing);
	return r;
}
