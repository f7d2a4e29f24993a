// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpfmap.h"
#include "strbuf.h"
#include "common_bpf.h"
#include "tracers/record.h"

const char *tracer_state_name(enum tracer_state s)
{
	switch (s) {
	case TRACER_LOADED:
		return "loaded";
	case TRACER_FAILED:
		return "failed";
	default:
		return "disabled";
	}
}

static bool wanted_has(const char *const *wanted, const char *name)
{
	if (!wanted)
		return true;
	for (; *wanted; wanted++)
		if (strcmp(*wanted, name) == 0)
			return true;
	return false;
}

/* The common program, then each tracer in @include, as one source. */
static int assemble(struct strbuf *src, const struct loader *l, const bool *include)
{
	size_t i;
	int err = strbuf_addstr(src, bpfd_common_bpf_source);

	for (i = 0; !err && i < l->n_tracers; i++) {
		if (!include[i])
			continue;
		err = strbuf_addf(src, "\n#define BPFD_TRACER_TYPE %u\n%s\n#undef BPFD_TRACER_TYPE\n",
				  tracer_record_type(i), l->tracers[i].ops->bpf_source);
	}
	return err;
}

struct cflags {
	char storage[BTF_OFF_COUNT + 6][BTF_CFLAG_LEN];
	const char *argv[BTF_OFF_COUNT + 8];
	int n;
};

static void cflags_build(struct cflags *c, const struct kernel_offsets *o, pid_t self)
{
	btf_offsets_cflags(o, c->storage, c->argv);
	c->n = 0;
	while (c->argv[c->n])
		c->n++;
	snprintf(c->storage[BTF_OFF_COUNT + 2], BTF_CFLAG_LEN, "-DBPFD_DAEMON_TGID=%d", (int)self);
	c->argv[c->n++] = c->storage[BTF_OFF_COUNT + 2];
	snprintf(c->storage[BTF_OFF_COUNT + 3], BTF_CFLAG_LEN, "-DBPFD_NR_CPUS=%d",
		 bpfmap_possible_cpus());
	c->argv[c->n++] = c->storage[BTF_OFF_COUNT + 3];
	c->argv[c->n] = NULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Compiles the tracers marked in @include with a new backend. */
static struct bpf_backend *compile(struct loader *l, backend_factory new_backend,
				   const bool *include, const struct cflags *c, char *err,
				   size_t err_size)
{
	struct strbuf src = STRBUF_INIT;
	struct bpf_backend *b = new_backend(err, err_size);

	if (!b)
		return NULL;
	if (assemble(&src, l, include) < 0 ||
	    b->ops->compile(b, src.buf, c->argv, c->n, err, err_size) < 0) {
		b->ops->destroy(b);
		b = NULL;
	}
	strbuf_release(&src);
	return b;
}

static void tracer_fail(struct loaded_tracer *t, const char *why)
{
	t->state = TRACER_FAILED;
	snprintf(t->error, sizeof(t->error), "%s", why);
}

static int attach_tracer(struct loader *l, struct loaded_tracer *t,
			 const struct tracer_config *cfg)
{
	const struct tracer_hook *h;
	char err[LOADER_ERR_LEN] = "";
	int link = 0;

	for (h = t->ops->hooks; h->target; h++) {
		if (t->n_links == LOADER_LINKS_MAX) {
			link = -ENOSPC;
			snprintf(err, sizeof(err), "too many hooks");
			break;
		}
		if (h->kind == TRACER_HOOK_TRACEPOINT) {
			char category[64];
			const char *colon = strchr(h->target, ':');

			if (!colon || (size_t)(colon - h->target) >= sizeof(category)) {
				link = -EINVAL;
				snprintf(err, sizeof(err), "bad tracepoint %s", h->target);
				break;
			}
			snprintf(category, sizeof(category), "%.*s", (int)(colon - h->target),
				 h->target);
			link = l->backend->ops->attach_tracepoint(l->backend, h->function, category,
								  colon + 1, err, sizeof(err));
		} else {
			link = l->backend->ops->attach_uretprobe(l->backend, h->function,
								 t->ops->binary(cfg), h->target,
								 err, sizeof(err));
		}
		if (link < 0)
			break;
		t->links[t->n_links++] = link;
	}
	if (link >= 0)
		return 0;
	while (t->n_links)
		l->backend->ops->detach(l->backend, t->links[--t->n_links]);
	tracer_fail(t, err);
	return link;
}

/* The common program's own hooks: ignore inheritance and cgroup creation. */
static const struct tracer_hook common_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_fork", "tracepoint__sched__sched_process_fork" },
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_exit", "tracepoint__sched__sched_process_exit" },
	{ TRACER_HOOK_TRACEPOINT, "cgroup:cgroup_mkdir", "tracepoint__cgroup__cgroup_mkdir" },
	{ 0 },
};

static const struct tracer_ops common_ops = {
	.name = "common",
	.hooks = common_hooks,
	.keys = (const char *const[]){ NULL },
};

int loader_load(struct loader *l, backend_factory new_backend, const char *const *wanted,
		const struct tracer_config *cfg, const struct kernel_offsets *offsets,
		pid_t self, char *err, size_t err_size)
{
	bool include[32] = { 0 };
	struct loaded_tracer common = { .ops = &common_ops };
	struct cflags c;
	double t0 = now_ms();
	size_t i, n_included = 0;
	uint32_t one = 1, self_key = (uint32_t)self;
	uint8_t mark = 1;
	int r;

	memset(l, 0, sizeof(*l));
	l->enabled_fd = l->ignored_fd = l->lost_fd = -1;
	l->n_tracers = tracer_count;
	for (i = 0; i < tracer_count; i++) {
		struct loaded_tracer *t = &l->tracers[i];
		const char *bin;

		t->ops = tracer_table[i];
		t->state = TRACER_DISABLED;
		if (!wanted_has(wanted, t->ops->name))
			continue;
		/* A missing binary fails the tracer before it costs a compile. */
		bin = t->ops->binary ? t->ops->binary(cfg) : NULL;
		if (bin && access(bin, R_OK) < 0) {
			snprintf(t->error, sizeof(t->error), "%s: %s", bin, strerror(errno));
			t->state = TRACER_FAILED;
			continue;
		}
		include[i] = true;
		n_included++;
	}
	cflags_build(&c, offsets, self);

	l->backend = compile(l, new_backend, include, &c, err, err_size);
	if (!l->backend && n_included) {
		/*
		 * One tracer's program may be what fails: compile each alone to
		 * find out which, then the good ones together.
		 */
		char why[LOADER_ERR_LEN];
		bool alone[32];
		struct bpf_backend *b;

		for (i = 0; i < l->n_tracers; i++) {
			if (!include[i])
				continue;
			memset(alone, 0, sizeof(alone));
			alone[i] = true;
			b = compile(l, new_backend, alone, &c, why, sizeof(why));
			if (b)
				b->ops->destroy(b);
			else {
				include[i] = false;
				tracer_fail(&l->tracers[i], why);
			}
		}
		l->backend = compile(l, new_backend, include, &c, err, err_size);
	}
	if (!l->backend)
		return -EINVAL;
	l->compile_ms = now_ms() - t0;

	l->enabled_fd = l->backend->ops->map_fd(l->backend, "bpfd_enabled");
	l->ignored_fd = l->backend->ops->map_fd(l->backend, "bpfd_ignored");
	l->lost_fd = l->backend->ops->map_fd(l->backend, "bpfd_lost");
	if (l->enabled_fd < 0 || l->ignored_fd < 0 || l->lost_fd < 0) {
		snprintf(err, err_size, "the compiled module lacks its maps");
		return -ENOENT;
	}
	/* The daemon is ignored before anything is attached. */
	r = bpfmap_update(l->ignored_fd, &self_key, &mark, 0);
	if (r < 0) {
		snprintf(err, err_size, "marking the daemon ignored: %s", strerror(-r));
		return r;
	}
	r = attach_tracer(l, &common, cfg);
	if (r < 0) {
		snprintf(err, err_size, "%s", common.error);
		return r;
	}
	memcpy(l->common_links, common.links, sizeof(int) * common.n_links);
	l->n_common_links = common.n_links;
	/* The cgroup records are wanted from the start. */
	one = 1;
	r = bpfmap_update(l->enabled_fd, &(uint32_t){ BPFD_RECORD_CGROUP_MKDIR }, &one, 0);
	if (r < 0) {
		snprintf(err, err_size, "enabling cgroup records: %s", strerror(-r));
		return r;
	}

	for (i = 0; i < l->n_tracers; i++) {
		if (!include[i])
			continue;
		if (attach_tracer(l, &l->tracers[i], cfg) == 0)
			l->tracers[i].state = TRACER_LOADED;
	}
	return 0;
}

int loader_ring_open(struct loader *l, bpf_sample_fn fn, void *ctx)
{
	return l->backend->ops->ring_open(l->backend, "bpfd_events", fn, ctx);
}

int loader_start(struct loader *l)
{
	uint32_t one = 1, type;
	size_t i;
	int r;

	for (i = 0; i < l->n_tracers; i++) {
		if (l->tracers[i].state != TRACER_LOADED)
			continue;
		type = tracer_record_type(i);
		r = bpfmap_update(l->enabled_fd, &type, &one, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

uint64_t loader_lost(struct loader *l, uint32_t type)
{
	uint64_t sum = 0;

	if (l->lost_fd < 0 || bpfmap_percpu_sum(l->lost_fd, type, &sum) < 0)
		return 0;
	return sum;
}

void loader_unload(struct loader *l)
{
	size_t i;

	if (!l->backend)
		return;
	for (i = 0; i < l->n_tracers; i++)
		while (l->tracers[i].n_links)
			l->backend->ops->detach(l->backend,
						l->tracers[i].links[--l->tracers[i].n_links]);
	while (l->n_common_links)
		l->backend->ops->detach(l->backend, l->common_links[--l->n_common_links]);
	l->backend->ops->destroy(l->backend);
	l->backend = NULL;
}
