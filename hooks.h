/* SPDX-License-Identifier: MIT */
#ifndef BPFD_HOOKS_H
#define BPFD_HOOKS_H

/*
 * Attaching a tracer's hooks (tracer_hook, tracer.h) through a backend
 * (bpf_backend.h), in the loader process. Plain C over the backend's ops,
 * so that unit tests run it against a fake backend.
 *
 * Two rules beyond "attach each hook":
 *  - a program already attached for a tracer loaded before (the same BPF
 *    function on the same target) is not attached again: the compat
 *    sys_exit program serves every tracer that needs the 32-bit entry, and
 *    attached twice it would run twice on every system call of the host
 *    (each tracer's own part of it is a tail call, TRACER_HOOK_TAIL_CALL);
 *  - an optional hook (tracer_hook.optional) missing from the kernel
 *    (-ENOENT) is skipped, and said so in the tracer's note.
 */

#include <stddef.h>

#include "tracer.h"

struct bpf_backend;

enum { HOOKS_SHARED_MAX = 16 };

/*
 * The programs attached by the tracers loaded so far (function and
 * target), owned by the caller: zeroed before the first tracer, passed to
 * every hooks_attach() and hooks_attached() after.
 */
struct hooks_shared {
	const struct tracer_hook *hooks[HOOKS_SHARED_MAX];
	size_t n;
};

/*
 * Attaches the hooks of @ops (compat hooks only while @cfg says so; a
 * tail-call hook into slot @slot, the tracer's record type), the
 * backend's link ids in @links (room for @links_max) and their number in
 * *@n_links. 0, or a negative errno with @err saying which hook failed; on
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

#endif
