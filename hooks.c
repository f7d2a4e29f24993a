// SPDX-License-Identifier: MIT
#include "hooks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf_backend.h"

static bool hook_wanted(const struct tracer_hook *h, const struct tracer_config *cfg)
{
	return !h->compat || (cfg && cfg->compat_syscalls);
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
	const char *colon;

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
		if (!ops->binary) {
			snprintf(err, err_size, "uretprobe %s: the tracer names no binary",
				 h->target);
			return -EINVAL;
		}
		return b->ops->attach_uretprobe(b, h->function, ops->binary(cfg), h->target, err,
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
	for (h = ops->hooks; h->target; h++) {
		if (!hook_wanted(h, cfg) || hook_shared(shared, h))
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
		if (hook_wanted(h, cfg) && !hook_shared(shared, h) && shared->n < HOOKS_SHARED_MAX)
			shared->hooks[shared->n++] = h;
}
