// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "actions/cgroup.h"
#include "container_meta.h"
#include "bpf/loader.h"
#include "daemon/pipeline.h"
#include "daemon/proctable.h"
#include "protocol/replies.h"
#include "lib/log.h"
#include "protocol/request.h"
#include "daemon/rulebook.h"
#include "rules.h"
#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/common/record.h"

static json_t *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *error_reply(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static void add_subscriber(void *ctx, const struct subscriber_info *s)
{
	const char *prio = s->filter->min_priority >= 0 ?
				   rule_priority_name(s->filter->min_priority) : "";
	json_t *tags = json_array();
	size_t i;

	for (i = 0; tags && i < s->filter->n_tags; i++)
		json_array_append_new(tags, json_string(s->filter->tags[i]));
	json_array_append_new(ctx, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o*, s:I, s:I, s:I}", "id",
					     (json_int_t)s->id, "tracer", s->filter->tracer,
					     "rule", s->filter->rule, "container",
					     s->filter->container, "priority", prio, "tags", tags,
					     "sent", (json_int_t)s->sent,
					     "dropped", (json_int_t)s->dropped, "queued",
					     (json_int_t)s->queued));
}

/*
 * The active rules by priority, and the events they matched by the
 * highest priority among the rules each matched.
 */
static json_t *rules_status_json(struct control *d)
{
	size_t counts[RULE_PRIORITY_COUNT] = { 0 }, i;
	json_t *rules = json_object(), *events = json_object();
	int p;

	for (i = 0; i < rulebook_count(d->rules); i++)
		counts[rule_priority(rulebook_at(d->rules, i, NULL))]++;
	for (p = 0; rules && events && p < RULE_PRIORITY_COUNT; p++) {
		json_object_set_new(rules, rule_priority_name(p), json_integer((json_int_t)counts[p]));
		json_object_set_new(events, rule_priority_name(p),
				    json_integer((json_int_t)d->pipeline->priority_matched[p]));
	}
	return json_pack("{s:I, s:o*, s:o*}", "active", (json_int_t)rulebook_count(d->rules),
			 "by_priority", rules, "matched_by_priority", events);
}

/*
 * The process table (proctable.h): its bound, what it holds and what it
 * could not; "enabled": false when ancestors = 0 switched it off.
 */
static json_t *process_table_json(struct control *d)
{
	const struct proc_table *t = d->pipeline->procs;
	uint64_t lost = 0;
	uint32_t type;

	if (!t)
		return json_pack("{s:b}", "enabled", 0);
	for (type = BPFD_RECORD_PROC_FORK; type <= BPFD_RECORD_PROC_EXIT; type++)
		lost += loader_lost(d->loader, type);
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I}",
			 "enabled", 1, "ancestors", (json_int_t)d->pipeline->ancestors, "entries",
			 (json_int_t)t->n, "capacity", (json_int_t)t->capacity, "exited_kept",
			 (json_int_t)t->kept, "bytes", (json_int_t)t->bytes,
			 "seeded", (json_int_t)t->seeded, "forks", (json_int_t)t->forks, "execs",
			 (json_int_t)t->execs, "exits", (json_int_t)t->exits, "evicted",
			 (json_int_t)t->evicted, "dropped", (json_int_t)t->dropped, "unknown",
			 (json_int_t)t->unknown, "records", (json_int_t)d->pipeline->proc_records,
			 "lost", (json_int_t)lost);
}

/* The kernel maps a workload can fill, and the cgroup records that feed the cache. */
static json_t *kernel_maps_json(struct control *d)
{
	struct loader_map_stats st[BPFD_MAPS_COUNTED];
	json_t *maps = json_array();
	size_t i, n = loader_map_stats(d->loader, st, BPFD_MAPS_COUNTED);

	for (i = 0; i < n; i++)
		st[i].failed += d->pipeline->map_failed[i];	/* the daemon's own inserts */
	for (i = 0; i < n; i++)
		json_array_append_new(maps, json_pack("{s:s, s:I, s:I, s:I}", "name", st[i].name,
						      "entries", (json_int_t)st[i].entries,
						      "capacity", (json_int_t)st[i].capacity,
						      "failed", (json_int_t)st[i].failed));
	return maps;
}

/* The restarts this daemon went through (docs/architecture.md, "Restart"). */
static json_t *restart_json(const struct daemon_restart *r)
{
	if (!r)
		return json_object();
	/* A successor is ready once it reads events: it may wait for subscribers first. */
	return json_pack("{s:I, s:b, s:b, s:b, s:f, s:I}", "restarts", (json_int_t)r->count,
			 "handed_over", r->successor, "adopted", r->adopted, "reading",
			 !r->successor || r->ready_ms, "handover_ms",
			 r->successor && r->ready_ms ? (double)(r->ready_ms - r->requested_ms)
						     : 0.0,
			 "dropped", (json_int_t)r->dropped);
}

json_t *control_status(struct control *d)
{
	json_t *reply;
	json_t *tracers = json_array(), *actions = json_array(), *subs = json_array();
	uint64_t seen = 0, matched = 0, lost = 0;
	struct cgroup_cache_stats cs;
	struct server_stats ss;
	uint64_t run_ns, run_cnt;
	bool run_stats = loader_run_stats_enabled();
	size_t i;

	for (i = 0; i < d->loader->n_tracers; i++) {
		const struct loaded_tracer *t = &d->loader->tracers[i];
		const struct tracer_counters *n = &d->pipeline->counters[i];
		uint64_t l = loader_lost(d->loader, tracer_record_type(i)) + n->decode_errors;

		/* A drop-in a reload removed or replaced (tracer_retire()). */
		if (tracer_retired(i))
			continue;
		seen += n->events;
		matched += n->matched;
		lost += l;
		json_t *one = json_pack(
			"{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:I}", "name", t->ops->name, "state",
			tracer_state_name(t->state), "error", t->error, "events",
			(json_int_t)n->events, "matched", (json_int_t)n->matched, "lost",
			(json_int_t)l, "prefilter", (*d->prefiltered_tracers >> i) & 1, "prefiltered",
			(json_int_t)loader_prefiltered(d->loader, tracer_record_type(i)));

		/* Loaded without optional hooks, or a new version a reload refused. */
		if (one && t->note[0])
			json_object_set_new(one, "note", json_string(t->note));
		/* Tracers that aggregate in the kernel: what their drains folded together. */
		if (one && t->ops->tick)
			json_object_set_new(one, "aggregated",
					    json_pack("{s:I, s:I, s:I}", "records",
						      (json_int_t)t->drain.records, "events",
						      (json_int_t)t->drain.events, "full",
						      (json_int_t)t->drain.full));
		/* The kernel's count of the programs' runs: only while kernel.bpf_stats_enabled. */
		if (one && run_stats && t->state == TRACER_LOADED &&
		    loader_run_stats(d->loader, i, &run_ns, &run_cnt) == 0) {
			json_object_set_new(one, "run_time_ns", json_integer((json_int_t)run_ns));
			json_object_set_new(one, "run_count", json_integer((json_int_t)run_cnt));
		}
		json_array_append_new(tracers, one);
	}
	for (i = 0; i < action_set_count(d->actions); i++) {
		const struct action *a = action_set_at(d->actions, i);

		json_array_append_new(
			actions,
			json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "name", a->name, "type",
				  a->ops->name, "runs", (json_int_t)a->stats.runs, "failures",
				  (json_int_t)a->stats.failures, "suppressed",
				  (json_int_t)a->stats.suppressed, "dropped",
				  (json_int_t)a->stats.dropped, "pending",
				  (json_int_t)(a->ops->pending && !a->broken ? a->ops->pending(a) : 0),
				  "error", a->broken_reason ? a->broken_reason : ""));
	}
	server_each_subscriber(d->server, add_subscriber, subs);
	server_stats(d->server, &ss);
	cgroup_cache_stats(d->cgroups, &cs);
	reply = json_pack("{s:b, s:I, s:f, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, "
			  "s:{s:I, s:I, s:I, s:I}}",
			  "ok", 1, "pid", (json_int_t)getpid(), "uptime_s",
			  (loop_now_ms() - d->started_ms) / 1000.0, "tracers", tracers, "events",
			  "seen", (json_int_t)seen, "matched", (json_int_t)matched, "lost",
			  (json_int_t)lost, "subscriber_dropped",
			  (json_int_t)server_dropped_total(d->server), "subscribers", subs, "actions",
			  actions,
			  "cgroup_cache", "entries", (json_int_t)cs.entries, "capacity",
			  (json_int_t)cs.capacity, "hits", (json_int_t)cs.hits, "misses",
			  (json_int_t)cs.misses);
	/* The tracers' own objects (tracer_ops.status), running or not. */
	for (i = 0; reply && i < tracer_count; i++)
		if (tracer_table[i]->status)
			json_object_set_new(reply, tracer_table[i]->status_name,
					    tracer_table[i]->status(i < d->loader->n_tracers
									? d->tracer_state[i]
									: NULL));
	if (reply) {
		json_object_set_new(reply, "kernel_maps", kernel_maps_json(d));
		/* Whether what goes through io_uring is seen (docs/tracers.md). */
		json_object_set_new(reply, "io_uring",
				    json_pack("{s:b, s:s}", "seen", d->loader->io_uring, "reason",
					      d->loader->io_uring ? "" : d->loader->io_uring_note));
		struct container_meta_stats ms;

		container_meta_cache_stats(d->container_meta, &ms);
		json_object_set_new(reply, "container_meta",
				    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "entries",
					      (json_int_t)ms.entries, "capacity",
					      (json_int_t)ms.capacity, "known", (json_int_t)ms.known,
					      "reads", (json_int_t)ms.reads, "read_failures",
					      (json_int_t)ms.read_failures, "evictions",
					      (json_int_t)ms.evictions));
		json_object_set_new(
			reply, "cgroup_records",
			json_pack("{s:I, s:I}", "received", (json_int_t)d->pipeline->cgroup_records,
				  "lost", (json_int_t)loader_lost(d->loader,
								  BPFD_RECORD_CGROUP_MKDIR)));
		json_object_set_new(reply, "process_table", process_table_json(d));
		json_object_set_new(reply, "restart", restart_json(d->restart));
		json_object_set_new(reply, "kept",
				    json_pack("{s:b, s:b, s:b, s:I}", "pinned",
					      d->kept && d->kept->pinned, "recovered",
					      d->kept && d->kept->recovered, "adopted",
					      d->kept && d->kept->adopted, "replayed",
					      (json_int_t)d->pipeline->replayed));
		json_object_set_new(
			reply, "clients",
			json_pack("{s:I, s:I, s:I, s:I, s:I}", "connected", (json_int_t)ss.clients,
				  "limit", (json_int_t)SERVER_CLIENTS_MAX, "admin_slots",
				  (json_int_t)SERVER_ADMIN_SLOTS, "refused", (json_int_t)ss.refused,
				  "disconnected", (json_int_t)ss.disconnected));
		json_object_set_new(reply, "rules", rules_status_json(d));
	}
	return reply;
}

static json_t *op_restart(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;

	(void)c;
	(void)req;
	if (!d->restart_fn)
		return error_reply("this daemon cannot restart itself");
	d->restart_fn(d->owner);
	return json_pack("{s:b, s:I}", "ok", 1, "pid", (json_int_t)getpid());
}

static json_t *op_status(void *ctx, struct client *c, json_t *req)
{
	(void)c;
	(void)req;
	return control_status(ctx);
}

static json_t *op_tracers(void *ctx, struct client *c, json_t *req)
{
	(void)ctx;
	(void)c;
	(void)req;
	return reply_tracers();
}

static json_t *op_version(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;

	(void)c;
	(void)req;
	return reply_version(d->loader->bcc_version[0] ? d->loader->bcc_version : NULL);
}

/* Copies optional string member @key of @req into @out; an error message or NULL. */
static json_t *string_arg(json_t *req, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(req, key);

	out[0] = '\0';
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		return error_reply("bad request: '%s' must be a string", key);
	if (json_string_length(v) >= size)
		return error_reply("bad request: '%s' is too long", key);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return NULL;
}

static json_t *op_trace(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;
	struct trace_filter f;
	json_t *err, *tags;
	char prio[16];

	if ((err = string_arg(req, "tracer", f.tracer, sizeof(f.tracer))) ||
	    (err = string_arg(req, "rule", f.rule, sizeof(f.rule))) ||
	    (err = string_arg(req, "container", f.container, sizeof(f.container))))
		return err;
	f.min_priority = -1;
	if ((err = string_arg(req, "priority", prio, sizeof(prio))))
		return err;
	if (prio[0] && (f.min_priority = rule_priority_parse(prio)) < 0)
		return error_reply("unknown priority '%s' (debug, info, notice, warning, error or "
				   "critical)", prio);
	/* Tags: an array of strings, checked here (request_arg holds strings only). */
	f.n_tags = 0;
	tags = json_object_get(req, "tags");
	if (tags && !json_is_null(tags)) {
		size_t i;
		json_t *t;

		if (!json_is_array(tags) || json_array_size(tags) > TRACE_FILTER_TAGS_MAX)
			return error_reply("bad request: 'tags' must be an array of at most %d strings",
					   TRACE_FILTER_TAGS_MAX);
		json_array_foreach(tags, i, t) {
			const char *why;

			if (!json_is_string(t))
				return error_reply("bad request: 'tags' must be an array of strings");
			if (!rule_tag_valid(json_string_value(t), json_string_length(t), &why))
				return error_reply("bad tag '%.64s': %s", json_string_value(t), why);
			memcpy(f.tags[f.n_tags++], json_string_value(t), json_string_length(t) + 1);
		}
	}
	f.tracer_name = NULL;
	if (f.tracer[0]) {
		const struct tracer_ops *t = tracer_find(f.tracer, NULL);

		if (!t)
			return error_reply("unknown tracer '%s'", f.tracer);
		f.tracer_name = t->name;
	}
	server_subscribe(d->server, c, &f);
	return NULL;
}

json_t *control_rule_json(const struct rule *r, const char *source)
{
	json_t *actions = json_array();
	size_t i;

	json_t *tags = json_array();

	for (i = 0; i < rule_action_count(r); i++)
		json_array_append_new(actions, json_string(rule_action(r, i)));
	for (i = 0; tags && i < rule_tag_count(r); i++)
		json_array_append_new(tags, json_string(rule_tag(r, i)));
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o*, s:s, s:I}", "name", rule_name(r), "tracer",
			 tracer_table[rule_tracer(r)]->name, "actions", actions, "source",
			 source ? source : "", "priority", rule_priority_name(rule_priority(r)),
			 "tags", tags, "description", rule_description(r), "matches",
			 (json_int_t)rule_match_count(r));
}

static json_t *op_create_rule(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;
	char file[256], name[256];
	struct rule_error err = { 0 };
	json_t *content = json_object_get(req, "content"), *e;
	bool replaced = false;
	int r;

	(void)c;
	if ((e = string_arg(req, "file", file, sizeof(file))))
		return e;
	if (!json_is_string(content))
		return error_reply("bad request: 'content' must be a string");
	r = rulebook_create(d->rules, file[0] ? file : "-", json_string_value(content),
			    json_string_length(content), name, sizeof(name), &replaced, &err);
	if (r == -ENOMEM)
		return error_reply("out of memory");
	if (r < 0) {
		if (err.line)
			return error_reply("%s:%u: %s", file[0] ? file : "-", err.line, err.message);
		return error_reply("%s: %s", file[0] ? file : "-", err.message);
	}
	d->rules_changed(d->owner);
	return json_pack("{s:b, s:s, s:b}", "ok", 1, "name", name, "replaced", replaced);
}

static json_t *op_remove_rule(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;
	json_t *name = json_object_get(req, "name");

	(void)c;
	if (!json_is_string(name))
		return error_reply("bad request: 'name' must be a string");
	if (rulebook_remove(d->rules, json_string_value(name)) < 0)
		return error_reply("no rule named '%s'", json_string_value(name));
	d->rules_changed(d->owner);
	return json_pack("{s:b}", "ok", 1);
}

/*
 * The rules, in frames of at most LIST_RULES_FRAME bytes: 10,000 rules
 * are more than one frame (IPC_FRAME_MAX) holds. Every frame but the last
 * says "more":true; all are built now, so they show one moment's rules.
 */
enum { LIST_RULES_FRAME = 256 * 1024 };

static const char list_head[] = "{\"ok\":true,\"rules\":[";
static const char list_more[] = "],\"more\":true}";

static json_t *op_list_rules(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;
	struct strbuf frame = STRBUF_INIT;
	json_t *reply = NULL, *rule;
	const char *source;
	size_t i, n = 0;
	char *text;
	int err;

	(void)req;
	for (i = 0; i < rulebook_count(d->rules); i++) {
		const struct rule *r = rulebook_at(d->rules, i, &source);

		rule = control_rule_json(r, source);
		text = rule ? json_dumps(rule, JSON_COMPACT) : NULL;
		json_decref(rule);
		if (!text)
			goto nomem;
		/* An entry is a few KiB at most (a 128-byte name, a path): far below a frame. */
		if (n && frame.len + 1 + strlen(text) + sizeof(list_more) > LIST_RULES_FRAME) {
			if (strbuf_add(&frame, list_more, sizeof(list_more) - 1) < 0) {
				free(text);
				goto nomem;
			}
			if (server_queue_reply(c, frame.buf, frame.len) < 0) {
				free(text);
				goto out;	/* the client is closed */
			}
			strbuf_reset(&frame);
			n = 0;
		}
		err = strbuf_addf(&frame, "%s%s", n++ ? "," : list_head, text);
		free(text);
		if (err < 0)
			goto nomem;
	}
	if (strbuf_addf(&frame, "%s]}", n ? "" : list_head) < 0)
		goto nomem;
	server_queue_reply(c, frame.buf, frame.len);
	goto out;
nomem:
	reply = error_reply("out of memory");
out:
	strbuf_release(&frame);
	return reply;
}

enum { RESUME_CANDIDATES_MAX = 16 };

/*
 * The container @prefix names among those bpfd paused and those in the
 * cgroup hierarchy: NULL and *@out, or an error reply. An exact id wins
 * over ids it is a prefix of (lxc names).
 */
static json_t *resume_target(struct control *d, const struct cgroup_hierarchy *h,
			     const char *prefix, struct container_found *out)
{
	struct container_found *found = calloc(RESUME_CANDIDATES_MAX, sizeof(*found));
	const struct container_found *p;
	size_t n = 0, shown, i, j;
	json_t *err = NULL;
	int r;

	if (!found)
		return error_reply("out of memory");
	r = container_cgroup_find(h, prefix, found, RESUME_CANDIDATES_MAX, &n);
	if (r < 0 && r != -EOPNOTSUPP) {
		free(found);
		return error_reply("looking for containers in %s: %s", h->mount, strerror(-r));
	}
	/* Paused ones the scan did not see (their cgroup moved, or a scan cut short). */
	for (i = 0; (p = paused_containers_at(d->paused, i)); i++) {
		if (strncmp(p->info.id, prefix, strlen(prefix)) != 0)
			continue;
		shown = n < RESUME_CANDIDATES_MAX ? n : RESUME_CANDIDATES_MAX;
		for (j = 0; j < shown; j++)
			if (strcmp(found[j].info.id, p->info.id) == 0)
				break;
		if (j < shown)
			continue;
		if (n < RESUME_CANDIDATES_MAX)
			found[n] = *p;
		n++;
	}
	shown = n < RESUME_CANDIDATES_MAX ? n : RESUME_CANDIDATES_MAX;
	for (i = 0; i < shown; i++)
		if (strcmp(found[i].info.id, prefix) == 0)
			break;
	if (i == shown && n == 1)
		i = 0;
	/* Names are anyone's to choose: of two cgroups claiming one id, neither is guessed. */
	for (j = 0; i < shown && j < shown; j++)
		if (j != i && strcmp(found[j].info.id, found[i].info.id) == 0)
			break;
	if (i < shown && j < shown)
		err = error_reply("container %s is claimed by two cgroups, %s and %s: not "
				  "choosing", found[i].info.id, found[i].path, found[j].path);
	else if (i < shown)
		*out = found[i];
	else if (n == 0)
		err = error_reply("no container matches '%s'", prefix);
	else
		err = error_reply("'%s' matches %zu containers", prefix, n);
	free(found);
	return err;
}

static json_t *op_resume_container(void *ctx, struct client *c, json_t *req)
{
	struct control *d = ctx;
	struct cgroup_dir dir = CGROUP_DIR_INIT;
	struct cgroup_hierarchy h;
	struct container_found *t;
	char prefix[CONTAINER_ID_MAX + 1];
	json_t *err, *reply;
	int r;

	(void)c;
	if ((err = string_arg(req, "container", prefix, sizeof(prefix))))
		return err;
	if (!prefix[0])
		return error_reply("bad request: 'container' (an id or a prefix of one) is required");
	if (!d->cgroup_mount[0])
		return error_reply("no cgroup hierarchy is mounted: no containers to resume");
	t = malloc(sizeof(*t));
	if (!t)
		return error_reply("out of memory");
	cgroup_hierarchy_init(&h, d->cgroup_mount, d->cgroup2);
	if ((err = resume_target(d, &h, prefix, t))) {
		free(t);
		return err;
	}
	r = cgroup_dir_open(&h, t->path, &dir);
	if (r == 0)
		r = container_cgroup_freeze(&h, &dir, false);
	cgroup_dir_close(&dir);
	if (r < 0) {
		if (r == -ENOENT)
			paused_containers_remove(d->paused, t->info.id);
		reply = error_reply("thawing container %s (cgroup %s): %s", t->info.id, t->path,
				    r == -ENOENT ? "it is gone"
				    : r == -EOPNOTSUPP ? "no freezer in this cgroup hierarchy"
						       : strerror(-r));
		free(t);
		return reply;
	}
	paused_containers_remove(d->paused, t->info.id);
	log_info("resumed %s container %s (cgroup %s): asked by a client", t->info.runtime,
		 t->info.id, t->path);
	reply = json_pack("{s:b, s:s, s:s}", "ok", 1, "container", t->info.id, "runtime",
			  t->info.runtime);
	free(t);
	return reply;
}

static enum request_access peer_access(const struct access_policy *a, const struct peer_cred *p)
{
	size_t i;

	if (!p->known)
		return REQUEST_ACCESS_NONE;
	if (p->uid == 0)
		return REQUEST_ACCESS_ADMIN;
	for (i = 0; i < a->n_admin_uids; i++)
		if (a->admin_uids[i] == p->uid)
			return REQUEST_ACCESS_ADMIN;
	for (i = 0; i < a->n_admin_gids; i++)
		if (peer_cred_has_gid(p, a->admin_gids[i]))
			return REQUEST_ACCESS_ADMIN;
	if (a->has_read_gid && peer_cred_has_gid(p, a->read_gid))
		return REQUEST_ACCESS_READ;
	return REQUEST_ACCESS_NONE;
}

bool control_peer_is_admin(void *ctx, const struct peer_cred *p)
{
	struct control *d = ctx;

	return peer_access(d->access, p) == REQUEST_ACCESS_ADMIN;
}

static json_t *refuse(struct server *s, const struct request_op *op, const struct peer_cred *p)
{
	const char *why = op->needs == REQUEST_ACCESS_ADMIN
				  ? "changes the daemon: root, admin_users and admin_groups only"
				  : "root, admin_users, admin_groups and the socket's group only";

	server_warn(s, "refused op %s from uid %u (pid %d): %s", op->name, (unsigned)p->uid,
		    (int)p->pid, why);
	return error_reply("permission denied: op '%s' %s (you are uid %u)", op->name,
			   op->needs == REQUEST_ACCESS_ADMIN ? "changes the daemon: root, admin_users "
						       "and admin_groups only"
						     : "is for root, admin_users, admin_groups "
						       "and the socket's group only",
			   (unsigned)p->uid);
}

json_t *control_handle(void *ctx, struct server *s, struct client *c, const struct request_op *op,
		       json_t *req)
{
	struct control *d = ctx;

	if (peer_access(d->access, server_client_cred(c)) < op->needs)
		return refuse(s, op, server_client_cred(c));
	return op->handler(ctx, c, req);
}

static const struct request_arg no_args[] = { { NULL, 0, 0 } };
static const struct request_arg trace_args[] = {
	{ "tracer", 63, 0 },
	{ "rule", 255, 0 },
	{ "container", 128, 0 },
	{ "priority", 16, 0 },
	{ NULL, 0, 0 },
};
/* The content is bounded by the frame (1 MiB). */
static const struct request_arg create_args[] = {
	{ "file", 255, 0 },
	{ "content", (size_t)-1, 1 },
	{ NULL, 0, 0 },
};
static const struct request_arg remove_args[] = {
	{ "name", 255, 1 },
	{ NULL, 0, 0 },
};
/* A container id (CONTAINER_ID_MAX) or a prefix of one. */
static const struct request_arg resume_args[] = {
	{ "container", 128, 1 },
	{ NULL, 0, 0 },
};

const struct request_op control_ops[] = {
	{ "version", no_args, REQUEST_ACCESS_READ, op_version },
	{ "status", no_args, REQUEST_ACCESS_READ, op_status },
	{ "tracers", no_args, REQUEST_ACCESS_READ, op_tracers },
	{ "trace", trace_args, REQUEST_ACCESS_READ, op_trace },
	{ "create_rule", create_args, REQUEST_ACCESS_ADMIN, op_create_rule },
	{ "remove_rule", remove_args, REQUEST_ACCESS_ADMIN, op_remove_rule },
	{ "list_rules", no_args, REQUEST_ACCESS_READ, op_list_rules },
	{ "resume_container", resume_args, REQUEST_ACCESS_ADMIN, op_resume_container },
	{ "restart", no_args, REQUEST_ACCESS_ADMIN, op_restart },
	{ NULL, NULL, REQUEST_ACCESS_NONE, NULL },
};
