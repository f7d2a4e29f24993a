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

#include <stdint.h>

struct identity_table;
struct rulebook;

struct prefilter_maps {
	int mode_fd;	/* bpfd_prefilter */
	int comms_fd;	/* bpfd_pf_comms */
	int paths_fd;	/* bpfd_pf_paths */
	int uids_fd;	/* bpfd_pf_uids */
	/* The rules' files by identity (bpfd_pf_idents); NULL: none. */
	struct identity_table *identities;
};

/*
 * Rewrites the prefilters from @rb's active rules. *@active gets a bitmask
 * of the tracer indexes whose prefilter is on. 0 or a negative errno (then
 * every prefilter is off: events pass, nothing is lost).
 */
int prefilter_apply(const struct prefilter_maps *m, const struct rulebook *rb, uint32_t *active);

#endif
