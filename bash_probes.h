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
 * then).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum { BASH_PROBES_MAX = 256, BASH_PROBES_SEEN = 4096 };

struct bash_probe {
	dev_t dev;
	ino_t ino;
	int fd;		/* the perf event; closing it detaches */
};

struct bash_probes {
	int prog_fd;			/* bashreadline's program, -1: nothing to do */
	char bash_path[256];		/* inside containers, e.g. "bin/bash" */
	uint32_t host_mntns;
	dev_t host_dev;			/* the host's bash, probed at load */
	ino_t host_ino;
	struct bash_probe probes[BASH_PROBES_MAX];
	size_t n_probes;
	uint32_t seen[BASH_PROBES_SEEN];	/* mount namespaces looked at */
	size_t n_seen;
	uint64_t attached, failures;
};

/* @prog_fd is borrowed; @bash_path is the host's bash (absolute). */
void bash_probes_init(struct bash_probes *bp, int prog_fd, const char *bash_path,
		      uint32_t host_mntns);
void bash_probes_release(struct bash_probes *bp);

/*
 * Looks at process @pid's root for a bash not probed yet and attaches.
 * 1 when a probe was added, 0 when there was nothing to do, or -errno.
 */
int bash_probes_pid(struct bash_probes *bp, pid_t pid);

/* Tries every process in a mount namespace not seen before. */
void bash_probes_scan(struct bash_probes *bp);

#endif
