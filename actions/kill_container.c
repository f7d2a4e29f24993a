// SPDX-License-Identifier: MIT
/*
 * kill-container: SIGKILL to every process of the event's container (its
 * top cgroup and everything below): cgroup2's cgroup.kill, which the kernel
 * applies atomically, or on older kernels and v1 hierarchies freeze, kill
 * each listed process, thaw. The runtime then sees its init die and marks
 * the container exited. Never pid 1 nor bpfd, nor bpfd's own container.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "actions/container_target.h"

static int kill_container_run(struct action *a, const struct action_input *in)
{
	const struct cgroup_hierarchy *h = container_action_hierarchy(a);
	struct container_target t;
	const char *how;
	size_t killed;
	char why[512];
	int r;

	if (container_target_of(a, in->ev, "killing it", &t, why, sizeof(why)) < 0) {
		action_failed(a, "%s", why);
		return 0;
	}
	r = container_cgroup_kill(h, &t.dir, a->env->daemon_pid, &how, &killed);
	container_target_release(&t);
	if (r < 0) {
		action_failed(a, "killing container %s (cgroup %s, %s): %s", t.info.id, t.path, how,
			      strerror(-r));
		return 0;
	}
	paused_containers_remove(a->env->paused, t.info.id);
	if (strcmp(how, "cgroup.kill") == 0)
		log_info("killed %s container %s (cgroup %s, cgroup.kill): pid %u (%s)%s%s",
			 t.info.runtime, t.info.id, t.path, in->ev->pid, in->ev->command,
			 in->rule ? ", rule " : "", in->rule ? in->rule : "");
	else
		log_info("killed %s container %s (cgroup %s, %s: %zu processes): pid %u (%s)%s%s",
			 t.info.runtime, t.info.id, t.path, how, killed, in->ev->pid,
			 in->ev->command, in->rule ? ", rule " : "", in->rule ? in->rule : "");
	return 0;
}

const struct action_ops kill_container_action = {
	.name = "kill-container",
	.summary = "SIGKILL every process of the event's container (cgroup.kill, or freeze and "
		   "signal)",
	.destructive = true,
	.init = container_action_init,
	.release = container_action_release,
	.run = kill_container_run,
};
