// SPDX-License-Identifier: MIT
/* bashreadline: lines typed into interactive bash shells (docs/tracers.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "tracers/bashreadline/probes.h"
#include "tracer.h"
#include "tracers/bashreadline/bashreadline.h"
#include "bashreadline_bpf.h"

#define BASHREADLINE_DEFAULT_BASH "/bin/bash"
#define BASHREADLINE_TRUNCATED_MARK " [...]"

static const struct tracer_hook bashreadline_hooks[] = {
	{ TRACER_HOOK_URETPROBE, "readline", "bpfd_bashreadline_ret" },
	{ 0 },
};

/* data.command is the line typed, as in the original bpfd; no returnval. */
static const char *const bashreadline_keys[] = { "command", NULL };

/* `--bash PATH`, `[daemon] bash = PATH`. */
static const struct tracer_option bashreadline_options[] = {
	{ "bash", "PATH", "bash binary for bashreadline", BASHREADLINE_DEFAULT_BASH },
	{ 0 },
};

static const char *bashreadline_binary(const struct tracer_config *cfg)
{
	const char *path = tracer_config_get(cfg, "bash");

	return path && *path ? path : BASHREADLINE_DEFAULT_BASH;
}

/*
 * Containers' bash gets the program too (bash_probes.h): from now on, for
 * the namespaces the scan finds and those of programs started in
 * containers (contained_exec).
 */
static int bashreadline_start(const struct tracer_context *ctx, void **state)
{
	uint32_t own_mntns = ctx->host_mntns;
	struct bash_probes *bp;
	struct stat st;
	int err;

	if (ctx->uprobe_prog_fd < 0)
		return 0;
	/*
	 * The namespace whose bash the tracer probed at load is the daemon's
	 * own. On a host that is the host's; in a container (the image, run
	 * with --pid=host) the host's is one more namespace to scan, whose
	 * bash is probed through a host process's root (kthreadd's, as pid
	 * 1's is out of reach there) and kept while the host has processes.
	 */
	if (stat("/proc/self/ns/mnt", &st) == 0)
		own_mntns = (uint32_t)st.st_ino;
	bp = calloc(1, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	err = bash_probes_init(bp, ctx->loop, ctx->uprobe_prog_fd, bashreadline_binary(ctx->cfg),
			       own_mntns);
	if (err < 0) {
		bash_probes_release(bp);
		free(bp);
		return err;
	}
	bash_probes_scan(bp);
	*state = bp;
	return 0;
}

static void bashreadline_stop(void *state)
{
	bash_probes_release(state);
	free(state);
}

static int bashreadline_timers(void *state, int64_t now_ms)
{
	return bash_probes_timers(state, now_ms);
}

static void bashreadline_periodic(void *state)
{
	bash_probes_scan(state);
}

static void bashreadline_contained_exec(void *state, int pid)
{
	bash_probes_pid(state, pid);
}

/* The probes made for unprivileged users, per user: who uses their quota. */
static json_t *bash_probe_users(const struct bash_probes *bp)
{
	json_t *users = json_object();
	char uid[16];
	size_t i;

	for (i = 0; bp && i < BASH_PROBES_MAX; i++) {
		const struct bash_probe *p = &bp->probes[i];

		if (p->fd < 0 || !p->owner)
			continue;
		snprintf(uid, sizeof(uid), "%u", p->owner);
		json_object_set_new(users, uid,
				    json_integer(json_integer_value(json_object_get(users, uid)) + 1));
	}
	return users;
}

/* "bash_probes" in `status` (docs/protocol.md). */
static json_t *bashreadline_status(const void *state)
{
	static const struct bash_probes none;
	const struct bash_probes *bp = state ? state : &none;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "attached",
			 (json_int_t)bp->n_probes, "attached_total",
			 (json_int_t)bp->stats.attached_total, "released",
			 (json_int_t)bp->stats.released, "failures", (json_int_t)bp->stats.failures,
			 "timeouts", (json_int_t)bp->stats.timeouts, "refused",
			 (json_int_t)bp->stats.refused, "dropped", (json_int_t)bp->stats.dropped,
			 "namespaces", (json_int_t)bp->n_ns, "probers",
			 (json_int_t)(state ? bash_probes_busy(bp) : 0), "users",
			 bash_probe_users(state));
}

static int bashreadline_decode(const void *raw, size_t size, struct event *ev)
{
	const struct bashreadline_record *r = raw;
	size_t head = offsetof(struct bashreadline_record, line);
	size_t len, mark;
	char *out;

	if (size < head || r->line_len > sizeof(r->line) || r->line_len > size - head)
		return -EINVAL;
	len = strnlen(r->line, r->line_len);
	if (!(r->flags & BASHREADLINE_TRUNCATED))
		return event_add_data(ev, "command", r->line, len);
	mark = strlen(BASHREADLINE_TRUNCATED_MARK);
	out = event_scratch_alloc(ev, len + mark + 1);
	if (!out)
		return -ENOSPC;
	memcpy(out, r->line, len);
	memcpy(out + len, BASHREADLINE_TRUNCATED_MARK, mark + 1);
	return event_add_data(ev, "command", out, len + mark);
}

/* A count of the status object, 0 when missing. */
static long long status_count(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void probes_status_text(const json_t *v)
{
	printf("bash probes: %lld attached (%lld made, %lld released), %lld failed "
	       "(%lld timed out), %lld refused (quota), %lld dropped; %lld namespaces, "
	       "%lld probers\n",
	       status_count(v, "attached"), status_count(v, "attached_total"),
	       status_count(v, "released"), status_count(v, "failures"),
	       status_count(v, "timeouts"), status_count(v, "refused"),
	       status_count(v, "dropped"), status_count(v, "namespaces"),
	       status_count(v, "probers"));
}

const struct tracer_ops bashreadline_tracer = {
	.name = "bashreadline",
	.description = "lines typed into interactive bash shells (uretprobe on readline)",
	.bpf_source = bpfd_bashreadline_bpf_source,
	.hooks = bashreadline_hooks,
	.keys = bashreadline_keys,
	.binary = bashreadline_binary,
	.decode = bashreadline_decode,
	.options = bashreadline_options,
	.start = bashreadline_start,
	.stop = bashreadline_stop,
	.timers = bashreadline_timers,
	.periodic = bashreadline_periodic,
	.status_name = "bash_probes",
	.status_text = probes_status_text,
	.status = bashreadline_status,
	.contained_exec = bashreadline_contained_exec,
	.sparse = true,
};
