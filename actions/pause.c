// SPDX-License-Identifier: MIT
/*
 * pause: freezes the event's whole container (its top cgroup, so a process
 * in a nested sub-cgroup takes the container with it): cgroup.freeze on
 * cgroup2, the v1 freezer's freezer.state otherwise. The write returns at
 * once; the kernel stops the tasks in the background. The container is
 * remembered so that `bpfd resume PREFIX` can thaw it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "actions/container_target.h"

static int pause_run(struct action *a, const struct action_input *in)
{
	const struct cgroup_hierarchy *h = container_action_hierarchy(a);
	struct container_target t;
	char why[512];
	int r;

	if (container_target_of(a, in->ev, "pausing", &t, why, sizeof(why)) < 0) {
		action_failed(a, "%s", why);
		return 0;
	}
	r = container_cgroup_freeze(h, &t.dir, true);
	container_target_release(&t);
	if (r < 0) {
		action_failed(a, "freezing container %s (cgroup %s): %s", t.info.id, t.path,
			      r == -EOPNOTSUPP ? "no freezer in this cgroup hierarchy"
					       : strerror(-r));
		return 0;
	}
	/* Events already on their way from the container pause it again: say it once. */
	if (!a->env->paused || paused_containers_add(a->env->paused, &t.info, t.path) != 0)
		log_info("paused %s container %s (cgroup %s): pid %u (%s)%s%s", t.info.runtime,
			 t.info.id, t.path, in->ev->pid, in->ev->command, in->rule ? ", rule " : "",
			 in->rule ? in->rule : "");
	return 0;
}

const struct action_ops pause_action = {
	.name = "pause",
	.summary = "freeze the event's whole container (cgroup freezer); `bpfd resume` thaws it",
	.destructive = true,
	.init = container_action_init,
	.release = container_action_release,
	.run = pause_run,
};
