// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "actions/container_target.h"

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

int container_target_of(const struct action *a, const struct event *ev, const char *doing,
			struct container_target *t, char *why, size_t size)
{
	const struct cgroup_hierarchy *h = container_action_hierarchy(a);
	struct container_info self;
	char path[CGROUP_REL_PATH_MAX];
	int r;

	t->dir = (struct cgroup_dir)CGROUP_DIR_INIT;
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
	r = a->env->cgroup_path(a->env->cgroup_ctx, ev->cgroup_id, path, sizeof(path));
	if (r < 0) {
		snprintf(why, size, "container %s: its cgroup (id %llu) is gone (%s): not %s",
			 ev->container_id, (unsigned long long)ev->cgroup_id, strerror(-r), doing);
		return r;
	}
	/* Renamed since the event: its name no longer says it is that container. */
	if (container_cgroup_top(path, t->path, sizeof(t->path), &t->info) < 0 ||
	    strcmp(t->info.id, ev->container_id) != 0) {
		snprintf(why, size, "container %s: its cgroup (id %llu) is now %s, not that "
			 "container's: not %s", ev->container_id,
			 (unsigned long long)ev->cgroup_id, path, doing);
		return -ESTALE;
	}
	r = cgroup_dir_open_event(h, path, ev->cgroup_id, t->path, &t->dir);
	if (r < 0) {
		snprintf(why, size, "container %s: opening its cgroup %s (id %llu): %s: not %s",
			 ev->container_id, t->path, (unsigned long long)ev->cgroup_id,
			 r == -ESTALE ? "renamed or replaced meanwhile" : strerror(-r), doing);
		return r;
	}
	return 0;
}

void container_target_release(struct container_target *t)
{
	cgroup_dir_close(&t->dir);
}
