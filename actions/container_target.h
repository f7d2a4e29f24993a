/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ACTIONS_CONTAINER_TARGET_H
#define BPFD_ACTIONS_CONTAINER_TARGET_H

/*
 * What the container actions (pause, resume, kill-container, checkpoint)
 * share: the container an event came from, found as the top cgroup of the
 * event's cgroup in the hierarchy the daemon attributes by.
 */

#include "action.h"
#include "actions/cgroup.h"

struct container_target {
	struct container_info info;
	char path[CGROUP_REL_PATH_MAX];	/* its top cgroup, relative to the mount */
	struct cgroup_dir dir;		/* that cgroup, opened: act through it */
};

/*
 * The container actions' a->priv begins with a struct cgroup_hierarchy,
 * made from the action's env: container_action_init() makes just that,
 * an action with more state embeds it as its first member.
 */
int container_action_init(struct action *a, char *err, size_t size);
void container_action_release(struct action *a);
const struct cgroup_hierarchy *container_action_hierarchy(const struct action *a);

/*
 * The container of @ev into @t, its top cgroup opened (release it with
 * container_target_release()): 0, or a negative errno with the reason in
 * @why, worded for action_failed() ("pid 42 is not in a container: not
 * pausing", @doing being "pausing"). Refuses the container bpfd itself
 * runs in.
 *
 * Only the cgroup the event came from, or its container's top ancestor,
 * is ever the target (cgroup_dir_open_event()). When that cgroup is gone
 * the run fails: a cgroup found by the container's id instead could be
 * anyone's, since anyone with a cgroup of their own (a delegated subtree,
 * a container's cgroup namespace) can name it like another container.
 */
int container_target_of(const struct action *a, const struct event *ev, const char *doing,
			struct container_target *t, char *why, size_t size);
void container_target_release(struct container_target *t);

#endif
