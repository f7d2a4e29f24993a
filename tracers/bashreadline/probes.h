/* SPDX-License-Identifier: MIT */
#ifndef BPFD_BASH_PROBES_H
#define BPFD_BASH_PROBES_H

/*
 * bashreadline inside containers. A uprobe belongs to one file, and a
 * container's bash is another file than the host's: when a container
 * appears, its bash (found through /proc/PID/root, resolved inside the
 * container's root) gets the bashreadline program attached as well. A
 * uprobe reaches processes already running the file, so a shell started
 * before the probe is seen from its next line on.
 *
 * Containers are noticed from their exec events and by a scan of /proc
 * for mount namespaces not seen before (call bash_probes_scan() now and
 * then, bash_probes_timers() on every turn of the loop).
 *
 * The file belongs to whoever made the container, so it is never touched
 * from the event loop: a prober process (bash_prober.c) opens, reads and
 * probes it and hands the probe back over a socket, within
 * BASH_PROBER_MS or it is killed. One probe serves every namespace whose
 * bash is the same file (by the identity the kernel's uprobe binds to),
 * and goes when none of them has a process left. See docs/architecture.md,
 * "Probing a container's bash", for the limits.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../lib/child.h"
#include "../../lib/loop.h"

enum {
	BASH_PROBES_MAX = 256,		/* probes attached at once */
	BASH_PROBES_PER_OWNER = 8,	/* of them, made for one unprivileged user */
	BASH_PROBES_USERS_MAX = 128,	/* made for all of them: half is kept for root's */
	BASH_PROBES_NS_MAX = 4096,	/* mount namespaces tracked (half at most users') */
	BASH_NS_PER_OWNER = 64,		/* of them, one unprivileged user's */
	BASH_PROBERS_MAX = 2,		/* prober processes at once */
	BASH_QUEUE_MAX = 64,		/* namespaces waiting (each holds two fds) */
	BASH_QUEUE_PER_OWNER = 4,	/* of them, one unprivileged user's */
	BASH_PROBER_MS = 2000,		/* a prober's time budget */
	BASH_RELEASE_MS = 3000,		/* an unused probe of a shared file is kept this long */
};

/*
 * What a probe is attached to: the real file the kernel's uprobe binds to
 * (under an overlay, the layer's file) when @real, else the file as seen
 * through the container's root, which is never shared by another mount.
 */
struct bash_file_id {
	uint64_t dev, ino;
	bool real;
};

struct bash_probe {
	struct bash_file_id id;
	int fd;			/* the perf event; closing it detaches; -1: a free slot */
	uint32_t owner;		/* the user it was made for (0: the system) */
	uint32_t users;		/* namespaces resolved to it */
	int64_t unused_since_ms;
};

enum bash_ns_state { BASH_NS_QUEUED, BASH_NS_PROBING, BASH_NS_DONE };

/*
 * A mount namespace and root directory that had a process: resolved to a
 * probe, or waiting. The root is part of the key because a runtime's
 * process is in the container's namespace a moment before its root is
 * (pivot_root, chroot), and a chroot has the same namespace as its parent.
 */
struct bash_ns {
	uint64_t id;		/* never reused (inode number before Linux 6.8) */
	uint64_t root_dev, root_ino;
	uint32_t ino;
	uint32_t owner;		/* uid of the user who made it; 0: root, no quota */
	bool system;		/* owned by the initial user namespace: its mounts are root's */
	enum bash_ns_state state;
	/*
	 * While queued or probing: its root directory (O_PATH) and its
	 * mountinfo, opened from a process in it when it was seen, so that
	 * the prober gets there even when that process is gone by then (a
	 * container that runs `bash -c true`). Both -1 otherwise.
	 */
	int root_fd, mountinfo_fd;
	int probe;		/* index in probes[], -1: none */
	uint32_t seen_gen;	/* the last scan that found a process in it */
};

struct bash_probes;

struct bash_prober {
	struct bash_probes *bp;
	struct child child;
	struct loop_watch reply;	/* our end of the socketpair, -1: closed */
	struct bash_ns ns;		/* the key of what it probes */
	int64_t deadline_ms;
	bool busy, replied, timed_out;
};

/* Counters for `bpfd status`. */
struct bash_probe_stats {
	uint64_t attached_total, released, failures, timeouts, refused, dropped;
};

struct bash_probes {
	int prog_fd;			/* bashreadline's program, -1: nothing to do */
	struct loop *loop;
	char bash_path[256];		/* inside containers, e.g. "bin/bash" */
	uint32_t host_mntns;		/* the daemon's own: its bash is probed at load */
	dev_t host_dev;			/* the host's bash, probed at load */
	ino_t host_ino;
	uint32_t host_userns;
	struct bash_probe probes[BASH_PROBES_MAX];
	size_t n_probes;		/* attached now */
	struct bash_ns *ns;		/* BASH_PROBES_NS_MAX of them */
	size_t n_ns;
	uint32_t gen;
	struct bash_prober probers[BASH_PROBERS_MAX];
	/* Perf events to close: the kernel takes ~80 ms each, a closer process does it. */
	int closing[BASH_PROBES_MAX * 2];
	size_t n_closing;
	struct child closer;
	bool closer_busy;
	struct bash_probe_stats stats;
};

/* @prog_fd is borrowed; @bash_path is the host's bash (absolute). 0 or -ENOMEM. */
int bash_probes_init(struct bash_probes *bp, struct loop *loop, int prog_fd,
		     const char *bash_path, uint32_t host_mntns);

/*
 * Detaches every probe without waiting for the kernel (a closer process
 * outlives the call) and kills the probers. Accepts a zeroed @bp.
 */
void bash_probes_release(struct bash_probes *bp);

/*
 * Process @pid ran something: when its mount namespace was not seen
 * before, its bash is queued for probing. Never blocks. 1 when queued,
 * 0 when there was nothing to do, or -errno (-ENOSPC: dropped, counted).
 */
int bash_probes_pid(struct bash_probes *bp, pid_t pid);

/*
 * Looks for mount namespaces not seen before, and releases the probes
 * of files no namespace with a process resolves to any more.
 */
void bash_probes_scan(struct bash_probes *bp);

/* Kills probers over their budget. Milliseconds until the next deadline, or -1. */
int bash_probes_timers(struct bash_probes *bp, int64_t now_ms);

/* The probe of file @id, or NULL. */
const struct bash_probe *bash_probes_find(const struct bash_probes *bp,
					  const struct bash_file_id *id);

/* Prober processes running now. */
size_t bash_probes_busy(const struct bash_probes *bp);

/*
 * Whether a new probe for @owner would exceed a quota: BASH_PROBES_PER_OWNER
 * for one user, BASH_PROBES_USERS_MAX for all users together; root has none.
 */
bool bash_probes_over_quota(const struct bash_probes *bp, uint32_t owner);

#endif
