/* SPDX-License-Identifier: MIT */
#ifndef BPFD_PREFILTER_H
#define BPFD_PREFILTER_H

/*
 * In-kernel prefilters: when every rule of a tracer names something its
 * BPF program can test (the comm, through the data key `command`; the real
 * uid; being in a container, through `containerRuntimes` without
 * "not-found"; the file name, exactly or by a literal prefix), the program
 * drops the events no rule can match before they leave the kernel. The rules decide; the
 * prefilter only spares the kernel and the daemon the events that cannot
 * match, so it never changes which events match.
 *
 * The BPF maps are rewritten when the rules change, without a recompile.
 */

#include <stdbool.h>
#include <stdint.h>

struct container_meta;
struct container_meta_cache;
struct identity_table;
struct rulebook;

struct prefilter_maps {
	int mode_fd;	/* bpfd_prefilter */
	int comms_fd;	/* bpfd_pf_comms */
	int paths_fd;	/* bpfd_pf_paths */
	int uids_fd;	/* bpfd_pf_uids */
	/* The rules' files by identity (bpfd_pf_idents); NULL: none. */
	struct identity_table *identities;
	/* Per container cgroup, the types its metadata lets through (bpfd_pf_meta); -1: none. */
	int meta_fd;
	const struct container_meta_cache *meta;	/* the containers known; may be NULL */
};

/*
 * The record types (a bitmask) whose rules on container metadata may match
 * a container with metadata @m (NULL: none known): what bpfd_pf_meta holds
 * for its cgroup.
 */
uint32_t prefilter_meta_types(const struct rulebook *rb, const struct container_meta *m);

/* Writes cgroup @cgroup_id's entry of bpfd_pf_meta (@fd) for @m, or removes it (@forget). */
int prefilter_meta_mark(int fd, const struct rulebook *rb, uint64_t cgroup_id,
			const struct container_meta *m, bool forget);

/*
 * Rewrites the prefilters from @rb's active rules. *@active gets a bitmask
 * of the tracer indexes whose prefilter is on. 0 or a negative errno (then
 * every prefilter is off: events pass, nothing is lost).
 */
int prefilter_apply(const struct prefilter_maps *m, const struct rulebook *rb, uint32_t *active);

#endif
