/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CONTAINER_CGROUP_H
#define BPFD_CONTAINER_CGROUP_H

/*
 * Acting on a whole container through its cgroup, for the container
 * actions (pause, resume, kill-container, checkpoint) and `bpfd resume`.
 *
 * A container is the cgroup its runtime made for it plus whatever
 * sub-cgroups it made inside: its "top" cgroup is the highest one whose
 * path still names the same container. Freezing, killing and listing
 * processes act on the top, so a process in a nested sub-cgroup takes its
 * whole container with it.
 *
 * Paths are relative to a hierarchy's mount point and start with '/', as
 * the cgroup resolver (container.h) gives them. Functions return 0 or a
 * negative errno and never log.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container.h"

enum {
	CGROUP_REL_PATH_MAX = 4096,
	/* Containers one scan reports; cgroups it visits. */
	CONTAINER_SCAN_MAX = 4096,
	CONTAINER_SCAN_CGROUPS_MAX = 65536,
	/* Processes one container may have for kill and init lookup. */
	CONTAINER_PIDS_MAX = 65536,
	PAUSED_CONTAINERS_MAX = 1024,
};

/*
 * The hierarchy the daemon attributes events by, as actions need it:
 * @mount and whether it is cgroup2; for a v1 hierarchy, where the freezer
 * controller is mounted ("" when it is not).
 */
struct cgroup_hierarchy {
	char mount[CGROUP_REL_PATH_MAX];
	bool cgroup2;
	char freezer[CGROUP_REL_PATH_MAX];
};

/* Fills @h for @mount; looks the v1 freezer up in /proc/self/mountinfo. */
void cgroup_hierarchy_init(struct cgroup_hierarchy *h, const char *mount, bool cgroup2);

/* Where v1 @controller's hierarchy is mounted, into @out: true when found. */
bool cgroup_v1_mount_point(const char *controller, char *out, size_t size);

/*
 * Pure: the top cgroup of the container @path lies in, into @top, and
 * that container into *@info. -ENOENT when @path is not in a container,
 * -ENAMETOOLONG when @top is too small.
 */
int container_cgroup_top(const char *path, char *top, size_t size, struct container_info *info);

/* A process of a container, for container_init_choose(). */
struct container_proc {
	pid_t pid;		/* as the host sees it */
	pid_t ppid;
	pid_t nspid;		/* in its innermost pid namespace (NSpid's last field), 0: unknown */
	uint64_t start;		/* start time, clock ticks since boot */
};

/*
 * Pure: the index in @procs of the container's init, the process a
 * checkpoint starts its tree from. Among the processes whose parent is
 * not in @procs (the runtime's shim started them: the init, and what
 * `docker exec` added), the one that is pid 1 of its pid namespace, else
 * the one that started first, ties to the lowest pid; with no such
 * process, the lowest pid. -1 when @n is 0.
 */
ssize_t container_init_choose(const struct container_proc *procs, size_t n);

/*
 * A container's top cgroup, opened. The container actions act through
 * these descriptors, never by path again: a cgroup renamed, or removed and
 * made anew under the same name, after it was checked is not the one
 * acted on.
 */
struct cgroup_dir {
	int fd;		/* its directory in the hierarchy events are attributed by */
	/*
	 * Its freezer's directory: a dup of fd on cgroup2 (or when the v1
	 * hierarchy is the freezer's), the same path in the v1 freezer
	 * hierarchy otherwise; -1 when there is no freezer.
	 */
	int freezer_fd;
};

#define CGROUP_DIR_INIT { .fd = -1, .freezer_fd = -1 }

/* Opens cgroup @path of @h (an admin named it: `bpfd resume`). 0, or a negative errno. */
int cgroup_dir_open(const struct cgroup_hierarchy *h, const char *path, struct cgroup_dir *d);

/*
 * Opens @top, the top cgroup of the container that the event's cgroup
 * @path (whose id is @id) lies in, without trusting either name: the
 * directory at @path must be cgroup @id (a cgroup's id is its directory's
 * inode number), @top is reached from it through "..", and the directory
 * now at @top must be the one reached. -ENOENT when the cgroup is gone,
 * -ESTALE when a name no longer leads to it (renamed, or replaced by
 * another), -EINVAL when @top is not an ancestor of @path.
 */
int cgroup_dir_open_event(const struct cgroup_hierarchy *h, const char *path, uint64_t id,
			  const char *top, struct cgroup_dir *d);

/* Closes what cgroup_dir_open*() opened; accepts CGROUP_DIR_INIT. */
void cgroup_dir_close(struct cgroup_dir *d);

/*
 * Every process in cgroup @d and below it, at most CONTAINER_PIDS_MAX: 0
 * with *@pids (malloc'ed, the caller frees) and *@n, or a negative errno.
 */
int container_cgroup_pids(const struct cgroup_dir *d, pid_t **pids, size_t *n);

/* The container's init (container_init_choose() over /proc): 0 and *@pid, or -ESRCH. */
int container_cgroup_init_pid(const struct cgroup_dir *d, pid_t *pid);

/*
 * Freezes (@frozen) or thaws cgroup @d and everything below it:
 * cgroup.freeze on cgroup2, freezer.state (FROZEN, THAWED) of the v1
 * freezer hierarchy otherwise. Returns at once: the kernel finishes
 * freezing in the background (cgroup.events says "frozen 1" then).
 * -EOPNOTSUPP when the hierarchy has no freezer.
 */
int container_cgroup_freeze(const struct cgroup_hierarchy *h, const struct cgroup_dir *d,
			    bool frozen);

/*
 * SIGKILLs every process in cgroup @d and below: with cgroup2's
 * cgroup.kill when the kernel has it (5.14), else by freezing the cgroup
 * (so that nothing forks in between), signalling each process it lists
 * and thawing it (without a freezer: a few passes of signals). Never
 * signals pid 1 nor @self. *@how says which way ("cgroup.kill", "freeze
 * and signal", "signal without a freezer"); *@killed how many processes
 * were signalled the other ways. 0, or a negative errno.
 */
int container_cgroup_kill(const struct cgroup_hierarchy *h, const struct cgroup_dir *d,
			  pid_t self, const char **how, size_t *killed);

/* One container a scan found: its top cgroup. */
struct container_found {
	struct container_info info;
	char path[CGROUP_REL_PATH_MAX];
};

/*
 * The containers under @h's mount whose id begins with @prefix ("" for
 * all), at most @max into @out: 0 and *@n (which counts them all, also
 * those beyond @max), or a negative errno. Two top cgroups that claim the
 * same id (anyone may name a cgroup like a container) are two entries.
 */
int container_cgroup_find(const struct cgroup_hierarchy *h, const char *prefix,
			  struct container_found *out, size_t max, size_t *n);

/* The container the calling process runs in (from /proc/self/cgroup): true when in one. */
bool container_of_self(struct container_info *out);

/*
 * The containers `pause` froze, by id, so that `bpfd resume` can name them
 * by a short prefix and find their cgroup. At most PAUSED_CONTAINERS_MAX:
 * the oldest is forgotten first (it is still found by a scan).
 */
struct paused_containers;

struct paused_containers *paused_containers_new(void);
void paused_containers_free(struct paused_containers *p);
/* Records (or refreshes) container @info at @path: 1 when it was not recorded, 0, or -ENOMEM. */
int paused_containers_add(struct paused_containers *p, const struct container_info *info,
			  const char *path);
void paused_containers_remove(struct paused_containers *p, const char *id);
/* The entry of container @id, or NULL. */
const struct container_found *paused_containers_find(const struct paused_containers *p,
						    const char *id);
size_t paused_containers_count(const struct paused_containers *p);
/* The @i-th entry (0 is the oldest): NULL past the end. */
const struct container_found *paused_containers_at(const struct paused_containers *p, size_t i);

#endif
