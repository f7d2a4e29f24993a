// SPDX-License-Identifier: MIT
/*
 * resume: thaws the event's whole container, undoing `pause` (the same
 * cgroup file, at the container's top cgroup). A frozen container runs
 * nothing and so sends no events: a `resume` rule only sees events that
 * left the container before it froze. The usual way back from `pause` is
 * `bpfd resume` (the resume_container op, control.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "actions/container_target.h"

static int resume_run(struct action *a, const struct action_input *in)
{
	const struct cgroup_hierarchy *h = container_action_hierarchy(a);
	struct container_target t;
	char why[512];
	int r;

	if (container_target_of(a, in->ev, "resuming", &t, why, sizeof(why)) < 0) {
		action_failed(a, "%s", why);
		return 0;
	}
	r = container_cgroup_freeze(h, &t.dir, false);
	container_target_release(&t);
	if (r < 0) {
		action_failed(a, "thawing container %s (cgroup %s): %s", t.info.id, t.path,
			      r == -EOPNOTSUPP ? "no freezer in this cgroup hierarchy"
					       : strerror(-r));
		return 0;
	}
	if (paused_containers_find(a->env->paused, t.info.id)) {
		log_info("resumed %s container %s (cgroup %s)", t.info.runtime, t.info.id, t.path);
		paused_containers_remove(a->env->paused, t.info.id);
	}
	return 0;
}

const struct action_ops resume_action = {
	.name = "resume",
	.summary = "thaw the event's whole container (undoes pause)",
	.init = container_action_init,
	.release = container_action_release,
	.run = resume_run,
};
