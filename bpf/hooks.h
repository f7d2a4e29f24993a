/* SPDX-License-Identifier: MIT */
#ifndef BPFD_HOOKS_H
#define BPFD_HOOKS_H

/*
 * Attaching a tracer's hooks (tracer_hook, tracer.h) through a backend
 * (bpf_backend.h), in the loader process. Plain C over the backend's ops,
 * so that unit tests run it against a fake backend.
 *
 * The one place where a program several tracers share is attached once.
 * Rules beyond "attach each hook":
 *  - a program already attached for a tracer loaded before (the same BPF
 *    function on the same target) is not attached again: the compat
 *    sys_exit program serves every tracer that needs the 32-bit entry, and
 *    attached twice it would run twice on every system call of the host
 *    (each tracer's own part of it is a tail call, TRACER_HOOK_TAIL_CALL);
 *  - the io_uring hooks (tracer_hook.io_uring) are shared programs too
 *    (tracers/common/io_uring.bpf.c), but not the tracer's to attach: each one a
 *    loaded tracer lists is attached once, after the tracers, by
 *    hooks_attach_io_uring(), all or none, and a failure leaves io_uring
 *    unseen rather than failing a tracer;
 *  - an optional hook (tracer_hook.optional) missing from the kernel
 *    (-ENOENT) is skipped, and said so in the tracer's note.
 */

#include <stdbool.h>
#include <stddef.h>

#include "tracer.h"

struct bpf_backend;

/* Every hook of every tracer: loader.h's 32 tracers of 16 hooks at most. */
enum { HOOKS_SHARED_MAX = 512 };

/*
 * The shared programs the tracers loaded so far list (function and
 * target): attached by hooks_attach(), except the io_uring ones, which
 * hooks_attach_io_uring() attaches. Owned by the caller: zeroed before the
 * first tracer, passed to every call below after.
 */
struct hooks_shared {
	const struct tracer_hook *hooks[HOOKS_SHARED_MAX];
	size_t n;
};

/*
 * Attaches the hooks of @ops but its io_uring ones (compat hooks only
 * while @cfg says so; a tail-call hook into slot @slot, the tracer's
 * record type), the backend's link ids in @links (room for @links_max)
 * and their number in *@n_links. 0, or a negative errno with @err saying which hook failed; on
 * a failure every link attached here is detached again. Optional hooks
 * the kernel lacks are named in @note (with what is lost), "" when none.
 */
int hooks_attach(struct bpf_backend *b, const struct tracer_ops *ops,
		 const struct tracer_config *cfg, unsigned int slot,
		 const struct hooks_shared *shared, int *links, int links_max, int *n_links,
		 char *note, size_t note_size, char *err, size_t err_size);

/*
 * Records the hooks of @ops as attached, once the tracer has loaded (a
 * tracer that failed detached its own and shares nothing).
 */
void hooks_attached(struct hooks_shared *shared, const struct tracer_ops *ops,
		    const struct tracer_config *cfg);

/*
 * Attaches each io_uring hook a tracer recorded in @shared lists, once
 * (the backend's link ids in @links, room for @links_max, their number in
 * *@n_links): 1 when they are attached, 0 when no loaded tracer lists one
 * (nothing attached), or a negative errno with @err saying which failed.
 * All or none: one io_uring program without the other sees half of a
 * request, so on a failure those attached here are detached again.
 */
int hooks_attach_io_uring(struct bpf_backend *b, const struct hooks_shared *shared, int *links,
			  int links_max, int *n_links, char *err, size_t err_size);

/* True when a tracer recorded in @shared lists an io_uring hook. */
bool hooks_io_uring_wanted(const struct hooks_shared *shared);

#endif
