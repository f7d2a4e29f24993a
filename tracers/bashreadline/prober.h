/* SPDX-License-Identifier: MIT */
#ifndef BPFD_BASH_PROBER_H
#define BPFD_BASH_PROBER_H

/*
 * The prober: a short-lived copy of the daemon (bash_probes.c forks it)
 * that does for one mount namespace what may block, for as long as a
 * hostile file makes it: finds bash in the namespace's root, opens it with
 * O_PATH (no open of a FIFO or device ever waits or has side effects),
 * refuses anything but a regular file on a local file system (not FUSE,
 * whose every call its owner may leave unanswered), works out the file's
 * identity, reads the ELF with a bounded budget (elfsym.c) and attaches
 * the uprobe. The daemon kills it when it overruns its time budget.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "probes.h"

/* What the prober sends back, with the perf event fd when it attached one. */
struct bash_prober_reply {
	int32_t err;		/* 0, or a negative errno (-EDQUOT: over the owner's quota) */
	uint32_t shared;	/* 1: the file already has a probe; no fd comes */
	struct bash_file_id id;
};

/*
 * In the prober: probes the bash of namespace @ns (through its process)
 * and sends the reply on @sock. @bp is the daemon's state as it was at
 * the fork: which files are probed and how many each owner has.
 */
void bash_prober_run(const struct bash_probes *bp, const struct bash_ns *ns, int sock);

/*
 * The identity the kernel's uprobe binds to for the file open as @fd
 * (@st its fstat), found from namespace @ns's root. An overlay's layers
 * are looked at only when the system made the namespace (its mounts are
 * root's, their layer paths can be believed). 0 or -errno; id->real is
 * false when the real file could not be told.
 */
int bash_file_identity(int fd, const struct stat *st, const struct bash_ns *ns,
		       struct bash_file_id *id);

#endif
