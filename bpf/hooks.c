// SPDX-License-Identifier: MIT
#include "bpf/hooks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/bpf_backend.h"

/*
 * Whether @ops, loaded with @cfg, needs hook @h: a compat hook while the
 * config says so, an io_uring hook when the tracer has io_uring handlers.
 */
static bool hook_wanted(const struct tracer_ops *ops, const struct tracer_hook *h,
			const struct tracer_config *cfg)
{
	if (h->compat && !(cfg && cfg->compat_syscalls))
		return false;
	return !h->io_uring || ops->io_uring_source;
}

static bool hook_same(const struct tracer_hook *a, const struct tracer_hook *b)
{
	return a->kind == b->kind && strcmp(a->target, b->target) == 0 &&
	       strcmp(a->function, b->function) == 0;
}

static bool hook_shared(const struct hooks_shared *shared, const struct tracer_hook *h)
{
	size_t i;

	for (i = 0; shared && i < shared->n; i++)
		if (hook_same(shared->hooks[i], h))
			return true;
	return false;
}

static int hook_attach(struct bpf_backend *b, const struct tracer_ops *ops,
		       const struct tracer_config *cfg, unsigned int slot,
		       const struct tracer_hook *h, char *err, size_t err_size)
{
	char category[64];
	const char *colon, *binary;

	switch (h->kind) {
	case TRACER_HOOK_TRACEPOINT:
		colon = strchr(h->target, ':');
		if (!colon || (size_t)(colon - h->target) >= sizeof(category)) {
			snprintf(err, err_size, "bad tracepoint %s", h->target);
			return -EINVAL;
		}
		snprintf(category, sizeof(category), "%.*s", (int)(colon - h->target), h->target);
		return b->ops->attach_tracepoint(b, h->function, category, colon + 1, err,
						 err_size);
	case TRACER_HOOK_RAW_TRACEPOINT:
		return b->ops->attach_raw_tracepoint(b, h->function, h->target, err, err_size);
	case TRACER_HOOK_TAIL_CALL:
		return b->ops->attach_tail_call(b, h->function, h->target, slot, err, err_size);
	case TRACER_HOOK_URETPROBE:
	case TRACER_HOOK_UPROBE:
		/* The hook's own binary (a drop-in's), else the tracer's. */
		binary = h->binary ? h->binary : ops && ops->binary ? ops->binary(cfg) : NULL;
		if (!binary) {
			snprintf(err, err_size, "uprobe %s: the tracer names no binary", h->target);
			return -EINVAL;
		}
		if (h->kind == TRACER_HOOK_UPROBE)
			return b->ops->attach_uprobe(b, h->function, binary, h->target, err,
						     err_size);
		return b->ops->attach_uretprobe(b, h->function, binary, h->target, err,
						err_size);
	}
	snprintf(err, err_size, "hook %s: unknown kind", h->target);
	return -EINVAL;
}

/* Appends "TARGET is not in this kernel: WHAT IS LOST" to @note. */
static void note_missing(char *note, size_t note_size, const struct tracer_hook *h)
{
	size_t len = strnlen(note, note_size);

	if (len + 1 >= note_size)
		return;
	snprintf(note + len, note_size - len, "%s%s is not in this kernel: %s", len ? "; " : "",
		 h->target, h->optional);
}

int hooks_attach(struct bpf_backend *b, const struct tracer_ops *ops,
		 const struct tracer_config *cfg, unsigned int slot,
		 const struct hooks_shared *shared, int *links, int links_max, int *n_links,
		 char *note, size_t note_size, char *err, size_t err_size)
{
	const struct tracer_hook *h;
	char why[512];
	int n = 0, link = 0;

	if (note_size)
		note[0] = '\0';
	/* Room to record them all once loaded: a hook left out would be attached twice. */
	for (h = ops->hooks; shared && h->target; h++)
		n++;
	if (shared && shared->n + (size_t)n > HOOKS_SHARED_MAX) {
		snprintf(err, err_size, "too many hooks");
		return -ENOSPC;
	}
	n = 0;
	for (h = ops->hooks; h->target; h++) {
		/* io_uring hooks: hooks_attach_io_uring(), once the tracers are loaded. */
		if (!hook_wanted(ops, h, cfg) || h->io_uring || hook_shared(shared, h))
			continue;
		if (n == links_max) {
			link = -ENOSPC;
			snprintf(err, err_size, "too many hooks");
			break;
		}
		why[0] = '\0';
		link = hook_attach(b, ops, cfg, slot, h, why, sizeof(why));
		if (link == -ENOENT && h->optional) {
			note_missing(note, note_size, h);
			link = 0;
			continue;
		}
		if (link < 0) {
			snprintf(err, err_size, "%s", why[0] ? why : strerror(-link));
			break;
		}
		links[n++] = link;
	}
	if (link < 0) {
		while (n)
			b->ops->detach(b, links[--n]);
		return link;
	}
	*n_links = n;
	return 0;
}

void hooks_attached(struct hooks_shared *shared, const struct tracer_ops *ops,
		    const struct tracer_config *cfg)
{
	const struct tracer_hook *h;

	for (h = ops->hooks; h->target; h++)
		if (hook_wanted(ops, h, cfg) && !hook_shared(shared, h) &&
		    shared->n < HOOKS_SHARED_MAX)
			shared->hooks[shared->n++] = h;
}

bool hooks_io_uring_wanted(const struct hooks_shared *shared)
{
	size_t i;

	for (i = 0; i < shared->n; i++)
		if (shared->hooks[i]->io_uring)
			return true;
	return false;
}

int hooks_attach_io_uring(struct bpf_backend *b, const struct hooks_shared *shared, int *links,
			  int links_max, int *n_links, char *err, size_t err_size)
{
	const struct tracer_hook *h;
	char why[512];
	int n = 0, link = 0;
	size_t i;

	for (i = 0; i < shared->n; i++) {
		h = shared->hooks[i];
		if (!h->io_uring)
			continue;
		if (n == links_max) {
			link = -ENOSPC;
			snprintf(err, err_size, "too many hooks");
			break;
		}
		why[0] = '\0';
		/* Tracepoints of the shared io_uring source: no tracer's slot or binary. */
		link = hook_attach(b, NULL, NULL, 0, h, why, sizeof(why));
		if (link < 0) {
			snprintf(err, err_size, "%s", why[0] ? why : strerror(-link));
			break;
		}
		links[n++] = link;
	}
	if (link < 0) {
		while (n)
			b->ops->detach(b, links[--n]);
		return link;
	}
	*n_links = n;
	return n > 0;
}
