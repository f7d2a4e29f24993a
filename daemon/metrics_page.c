// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/metrics_page.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A family whose samples are one member of each element of a status array. */
struct family {
	const char *name;
	const char *type;		/* "counter" or "gauge" */
	const char *help;
	const char *key;		/* "member" or "object.member" of each element */
	double scale;			/* 0: the value as it is */
};

/* One value of `status`, a number or a boolean at "object.member" (or a top member). */
struct single {
	const char *name;
	const char *type;
	const char *help;
	const char *path;
};

static const struct family tracer_families[] = {
	{ "bpfd_events_total", "counter", "Events decoded, per tracer.", "events", 0 },
	{ "bpfd_events_matched_total", "counter",
	  "Events that passed the rules (every event of a tracer without rules), per tracer.",
	  "matched", 0 },
	{ "bpfd_events_lost_total", "counter",
	  "Events lost: the kernel's ring buffer was full, or the record did not decode.", "lost",
	  0 },
	{ "bpfd_events_prefiltered_total", "counter",
	  "Events the in-kernel prefilter dropped because no rule could match them.",
	  "prefiltered", 0 },
	{ "bpfd_tracer_prefilter", "gauge", "1 when the tracer's in-kernel prefilter is on.",
	  "prefilter", 0 },
	{ "bpfd_bpf_run_seconds_total", "counter",
	  "Time the tracer's BPF programs ran (while kernel.bpf_stats_enabled is 1).",
	  "run_time_ns", 1e-9 },
	{ "bpfd_bpf_runs_total", "counter",
	  "Runs of the tracer's BPF programs (while kernel.bpf_stats_enabled is 1).", "run_count",
	  0 },
	{ "bpfd_aggregated_records_total", "counter",
	  "Records a tracer that aggregates in the kernel drained.", "aggregated.records", 0 },
	{ "bpfd_aggregated_events_total", "counter",
	  "Events those records stood for.", "aggregated.events", 0 },
	{ "bpfd_aggregated_full_total", "counter",
	  "Times the tracer's aggregation map was full.", "aggregated.full", 0 },
};

static const struct family action_families[] = {
	{ "bpfd_action_runs_total", "counter", "Times the action ran.", "runs", 0 },
	{ "bpfd_action_failures_total", "counter", "Runs of the action that failed.", "failures",
	  0 },
	{ "bpfd_action_suppressed_total", "counter",
	  "Runs the action's rate limit or dedup suppressed.", "suppressed", 0 },
	{ "bpfd_action_dropped_total", "counter",
	  "Runs dropped because the action's queue was full.", "dropped", 0 },
	{ "bpfd_action_pending", "gauge", "Runs of the action waiting or in progress.", "pending",
	  0 },
};

static const struct family map_families[] = {
	{ "bpfd_kernel_map_entries", "gauge", "Entries a kernel map holds.", "entries", 0 },
	{ "bpfd_kernel_map_capacity", "gauge", "Entries a kernel map may hold.", "capacity", 0 },
	{ "bpfd_kernel_map_failed_inserts_total", "counter",
	  "Inserts into a kernel map that failed (it was full).", "failed", 0 },
};

static const struct single singles[] = {
	{ "bpfd_uptime_seconds", "gauge", "Seconds since the daemon started.", "uptime_s" },
	{ "bpfd_subscriber_dropped_total", "counter",
	  "Events dropped for slow trace subscribers, over all of them.",
	  "events.subscriber_dropped" },
	{ "bpfd_rules", "gauge", "Active rules.", "rules.active" },
	{ "bpfd_cgroup_cache_entries", "gauge", "Cgroups the cgroup cache holds.",
	  "cgroup_cache.entries" },
	{ "bpfd_cgroup_cache_capacity", "gauge", "Cgroups the cgroup cache may hold.",
	  "cgroup_cache.capacity" },
	{ "bpfd_cgroup_cache_hits_total", "counter", "Lookups the cgroup cache answered.",
	  "cgroup_cache.hits" },
	{ "bpfd_cgroup_cache_misses_total", "counter", "Lookups the cgroup cache missed.",
	  "cgroup_cache.misses" },
	{ "bpfd_cgroup_records_total", "counter", "Cgroup creation records received.",
	  "cgroup_records.received" },
	{ "bpfd_cgroup_records_lost_total", "counter",
	  "Cgroup creation records lost in the kernel's ring buffer.", "cgroup_records.lost" },
	{ "bpfd_container_meta_entries", "gauge", "Containers whose metadata is cached.",
	  "container_meta.entries" },
	{ "bpfd_container_meta_capacity", "gauge", "Containers whose metadata may be cached.",
	  "container_meta.capacity" },
	{ "bpfd_container_meta_known", "gauge", "Cached containers with metadata found.",
	  "container_meta.known" },
	{ "bpfd_container_meta_reads_total", "counter", "Reads of runtimes' state files.",
	  "container_meta.reads" },
	{ "bpfd_container_meta_read_failures_total", "counter",
	  "Reads of runtimes' state files that failed.", "container_meta.read_failures" },
	{ "bpfd_container_meta_evictions_total", "counter",
	  "Containers evicted from the metadata cache.", "container_meta.evictions" },
	{ "bpfd_process_table_entries", "gauge", "Processes the process table holds.",
	  "process_table.entries" },
	{ "bpfd_process_table_capacity", "gauge", "Processes the process table may hold.",
	  "process_table.capacity" },
	{ "bpfd_process_table_bytes", "gauge", "Bytes the process table uses.",
	  "process_table.bytes" },
	{ "bpfd_process_table_exited_kept", "gauge",
	  "Exited processes the process table keeps for their descendants.",
	  "process_table.exited_kept" },
	{ "bpfd_process_table_seeded", "gauge", "Processes read from /proc at start.",
	  "process_table.seeded" },
	{ "bpfd_process_table_ancestors", "gauge", "Ancestors each event names.",
	  "process_table.ancestors" },
	{ "bpfd_process_table_forks_total", "counter", "Forks the process table recorded.",
	  "process_table.forks" },
	{ "bpfd_process_table_execs_total", "counter", "Execs the process table recorded.",
	  "process_table.execs" },
	{ "bpfd_process_table_exits_total", "counter", "Exits the process table recorded.",
	  "process_table.exits" },
	{ "bpfd_process_table_evicted_total", "counter",
	  "Processes evicted from the full process table.", "process_table.evicted" },
	{ "bpfd_process_table_dropped_total", "counter",
	  "Processes the process table could not hold.", "process_table.dropped" },
	{ "bpfd_process_table_unknown_total", "counter",
	  "Events of processes the process table did not know.", "process_table.unknown" },
	{ "bpfd_process_table_records_total", "counter",
	  "Fork, exec and exit records received.", "process_table.records" },
	{ "bpfd_process_table_lost_total", "counter",
	  "Fork, exec and exit records lost in the kernel's ring buffer.", "process_table.lost" },
	{ "bpfd_clients", "gauge", "Clients connected to the control socket.",
	  "clients.connected" },
	{ "bpfd_clients_limit", "gauge", "Clients the control socket accepts at most.",
	  "clients.limit" },
	{ "bpfd_clients_admin_slots", "gauge", "Of those, the slots kept for root and the admins.",
	  "clients.admin_slots" },
	{ "bpfd_clients_refused_total", "counter",
	  "Connections to the control socket refused: no slot.", "clients.refused" },
	{ "bpfd_clients_disconnected_total", "counter",
	  "Clients cut off: stalled, half-sent frame, idle.", "clients.disconnected" },
	{ "bpfd_io_uring_seen", "gauge", "1 when what goes through io_uring is seen.",
	  "io_uring.seen" },
	{ "bpfd_restarts_total", "counter",
	  "Restarts without a gap (bpfd restart, SIGUSR2) since the daemon was first started.",
	  "restart.restarts" },
	{ "bpfd_restart_adopted", "gauge",
	  "1 when this daemon took its predecessor's programs as they were, nothing compiled.",
	  "restart.adopted" },
	{ "bpfd_programs_pinned", "gauge",
	  "1 when the programs are pinned (keep = true): a crash leaves them recording.",
	  "kept.pinned" },
	{ "bpfd_replayed_events_total", "counter",
	  "Events recorded while no daemon ran, delivered since (keep = true).", "kept.replayed" },
};

/* The status members the tables above write; the others' numbers are written generically. */
static const char *const written[] = {
	"ok", "pid", "uptime_s", "tracers", "events", "subscribers", "actions", "cgroup_cache",
	"kernel_maps", "io_uring", "container_meta", "cgroup_records", "process_table", "clients",
	"rules", "restart", "kept",
};

struct page {
	struct strbuf *out;
	int err;
};

static void put(struct page *p, const char *s, size_t len)
{
	if (p->err)
		return;
	if (p->out->len + len > METRICS_PAGE_MAX)
		p->err = -E2BIG;
	else if (strbuf_add(p->out, s, len) < 0)
		p->err = -ENOMEM;
}

static void puts_(struct page *p, const char *s)
{
	put(p, s, strlen(s));
}

static void putf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct page *p, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Only numbers and names of ours come here: they fit. */
	if (n < 0 || (size_t)n >= sizeof(buf))
		p->err = p->err ? p->err : -EINVAL;
	else
		put(p, buf, (size_t)n);
}

int metrics_label_escape(struct strbuf *out, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n"
											: NULL;

		if (!esc)
			continue;
		if (strbuf_add(out, run, (size_t)(s - run)) < 0 || strbuf_addstr(out, esc) < 0)
			return -ENOMEM;
		run = s + 1;
	}
	return strbuf_add(out, run, (size_t)(s - run)) < 0 ? -ENOMEM : 0;
}

static void put_label_value(struct page *p, const char *s)
{
	size_t start = p->out->len;

	if (p->err)
		return;
	if (metrics_label_escape(p->out, s) < 0) {
		p->err = -ENOMEM;
	} else if (p->out->len > METRICS_PAGE_MAX) {
		/* A value that crosses the bound is taken back: the page ends before it. */
		p->out->len = start;
		p->out->buf[start] = '\0';
		p->err = -E2BIG;
	}
}

/* HELP text escapes backslash and newline only (the format's rule). */
static void put_header(struct page *p, const char *name, const char *type, const char *help)
{
	putf(p, "# HELP %s ", name);
	for (; *help; help++) {
		if (*help == '\\')
			puts_(p, "\\\\");
		else if (*help == '\n')
			puts_(p, "\\n");
		else
			put(p, help, 1);
	}
	putf(p, "\n# TYPE %s %s\n", name, type);
}

/* A number or boolean as a sample value; false when @v is neither. */
static bool put_value(struct page *p, const json_t *v, double scale)
{
	if (json_is_integer(v) && !scale)
		putf(p, " %" PRId64 "\n", (int64_t)json_integer_value(v));
	else if (json_is_number(v))
		putf(p, " %.9g\n", json_number_value(v) * (scale ? scale : 1));
	else if (json_is_boolean(v))
		puts_(p, json_is_true(v) ? " 1\n" : " 0\n");
	else
		return false;
	return true;
}

static bool is_value(const json_t *v)
{
	return json_is_number(v) || json_is_boolean(v);
}

/* The member at "a" or "a.b" of @o. */
static const json_t *at_path(const json_t *o, const char *path)
{
	const char *dot = strchr(path, '.');
	char head[64];

	if (!dot)
		return json_object_get(o, path);
	if ((size_t)(dot - path) >= sizeof(head))
		return NULL;
	memcpy(head, path, (size_t)(dot - path));
	head[dot - path] = '\0';
	return json_object_get(json_object_get(o, head), dot + 1);
}

/* One family over @array's elements, labelled @label = each element's "name"; none: nothing. */
static void put_family(struct page *p, const struct family *f, const json_t *array,
		       const char *label)
{
	const json_t *el;
	size_t i;
	bool any = false;

	json_array_foreach(array, i, el)
		any = any || (json_is_string(json_object_get(el, "name")) &&
			      is_value(at_path(el, f->key)));
	if (!any)
		return;
	put_header(p, f->name, f->type, f->help);
	json_array_foreach(array, i, el) {
		const json_t *name = json_object_get(el, "name"), *v = at_path(el, f->key);

		if (!json_is_string(name) || !is_value(v))
			continue;
		putf(p, "%s{%s=\"", f->name, label);
		put_label_value(p, json_string_value(name));
		puts_(p, "\"}");
		put_value(p, v, f->scale);
	}
}

static void put_single(struct page *p, const char *name, const char *type, const char *help,
		       const json_t *v, double scale)
{
	if (!is_value(v))
		return;
	put_header(p, name, type, help);
	puts_(p, name);
	put_value(p, v, scale);
}

static void put_tracer_states(struct page *p, const json_t *tracers)
{
	static const char *const states[] = { "loaded", "failed", "disabled" };
	const json_t *el;
	size_t i, s;

	if (!json_array_size(tracers))
		return;
	put_header(p, "bpfd_tracer_state", "gauge",
		   "1 for the tracer's state (loaded, failed: its error is in status; disabled).");
	json_array_foreach(tracers, i, el) {
		const char *name = json_string_value(json_object_get(el, "name"));
		const char *state = json_string_value(json_object_get(el, "state"));

		if (!name || !state)
			continue;
		for (s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
			puts_(p, "bpfd_tracer_state{tracer=\"");
			put_label_value(p, name);
			putf(p, "\",state=\"%s\"} %d\n", states[s], strcmp(state, states[s]) == 0);
		}
	}
}

static void put_action_broken(struct page *p, const json_t *actions)
{
	const json_t *el;
	size_t i;

	if (!json_array_size(actions))
		return;
	put_header(p, "bpfd_action_broken", "gauge",
		   "1 when the action could not be set up (its error is in status).");
	json_array_foreach(actions, i, el) {
		const char *name = json_string_value(json_object_get(el, "name"));
		const char *error = json_string_value(json_object_get(el, "error"));

		if (!name)
			continue;
		puts_(p, "bpfd_action_broken{action=\"");
		put_label_value(p, name);
		putf(p, "\"} %d\n", error && error[0]);
	}
}

/* Metric name characters: [a-zA-Z0-9_]; anything else becomes '_'. */
static void put_name_part(struct page *p, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		put(p, &c, 1);
	}
}

static bool is_written(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		if (strcmp(key, written[i]) == 0)
			return true;
	return false;
}

/*
 * What tracers add to status (tracer_ops.status: "bash_probes"...): each
 * number of their object, as a gauge bpfd_OBJECT_MEMBER. Their meaning is
 * the tracer's (docs/tracers.md), a gauge promises nothing more.
 */
static void put_tracer_objects(struct page *p, const json_t *status)
{
	const char *key, *member;
	const json_t *obj, *v;
	char name[160];

	json_object_foreach((json_t *)status, key, obj) {
		if (is_written(key) || !json_is_object(obj))
			continue;
		json_object_foreach((json_t *)obj, member, v) {
			if (!is_value(v) || strlen(key) + strlen(member) + 7 > sizeof(name))
				continue;
			snprintf(name, sizeof(name), "bpfd_%s_%s", key, member);
			puts_(p, "# HELP ");
			put_name_part(p, name);
			putf(p, " status: %s.%s (a tracer's own).\n# TYPE ", key, member);
			put_name_part(p, name);
			/* A member named so says it only grows. */
			puts_(p, strlen(member) > 6 &&
					 strcmp(member + strlen(member) - 6, "_total") == 0
				 ? " counter\n" : " gauge\n");
			put_name_part(p, name);
			put_value(p, v, 0);
		}
	}
}

static void put_build_info(struct page *p, const json_t *version)
{
	static const char *const labels[] = { "version", "bcc", "kernel" };
	size_t i;

	put_header(p, "bpfd_build_info", "gauge",
		   "1, labelled with bpfd's version, the libbcc in use and the running kernel.");
	puts_(p, "bpfd_build_info{");
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		const char *v = json_string_value(json_object_get(version, labels[i]));

		putf(p, "%s%s=\"", i ? "," : "", labels[i]);
		put_label_value(p, v ? v : "");
		puts_(p, "\"");
	}
	puts_(p, "} 1\n");
}

static void put_rules(struct page *p, metrics_rule_fn rule_at, void *ctx, size_t n)
{
	uint64_t matches;
	const char *name;
	size_t i;

	if (!n || !rule_at)
		return;
	put_header(p, "bpfd_rule_matches_total", "counter",
		   "Events the rule matched since it was read (a changed file starts again).");
	for (i = 0; i < n && !p->err; i++) {
		name = rule_at(ctx, i, &matches);
		if (!name)
			continue;
		puts_(p, "bpfd_rule_matches_total{rule=\"");
		put_label_value(p, name);
		putf(p, "\"} %" PRIu64 "\n", matches);
	}
}

/* status's rules.by_priority and rules.matched_by_priority, labelled by priority. */
static void put_priorities(struct page *p, const json_t *rules)
{
	static const struct {
		const char *member, *name, *type, *help;
	} sets[] = {
		{ "by_priority", "bpfd_rules_by_priority", "gauge", "Active rules of each priority." },
		{ "matched_by_priority", "bpfd_events_matched_by_priority_total", "counter",
		  "Events matched since start, by the highest priority of the rules they matched." },
	};
	const char *key;
	const json_t *obj, *v;
	size_t i;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		obj = json_object_get(rules, sets[i].member);
		if (!json_is_object(obj) || !json_object_size(obj))
			continue;
		put_header(p, sets[i].name, sets[i].type, sets[i].help);
		json_object_foreach((json_t *)obj, key, v) {
			if (!is_value(v))
				continue;
			putf(p, "%s{priority=\"", sets[i].name);
			put_label_value(p, key);
			puts_(p, "\"}");
			put_value(p, v, 0);
		}
	}
}

static void put_server(struct page *p, const struct metrics_server_stats *s)
{
	if (!s)
		return;
	put_header(p, "bpfd_metrics_scrapes_total", "counter", "Metrics pages served.");
	putf(p, "bpfd_metrics_scrapes_total %" PRIu64 "\n", s->scrapes);
	put_header(p, "bpfd_metrics_unauthorized_total", "counter",
		   "Requests to the metrics server without the right bearer token.");
	putf(p, "bpfd_metrics_unauthorized_total %" PRIu64 "\n", s->unauthorized);
	put_header(p, "bpfd_metrics_not_found_total", "counter",
		   "Requests to the metrics server for another path or method.");
	putf(p, "bpfd_metrics_not_found_total %" PRIu64 "\n", s->not_found);
	put_header(p, "bpfd_metrics_connections_total", "counter",
		   "Connections the metrics server accepted.");
	putf(p, "bpfd_metrics_connections_total %" PRIu64 "\n", s->connections);
}

int metrics_page_write(struct strbuf *out, const json_t *status, const json_t *version,
		       metrics_rule_fn rule_at, void *rule_ctx, size_t n_rules,
		       const struct metrics_server_stats *server)
{
	const json_t *tracers = json_object_get(status, "tracers");
	const json_t *actions = json_object_get(status, "actions");
	const json_t *subs = json_object_get(status, "subscribers");
	struct page p = { .out = out };
	json_t *count;
	size_t i;

	put_build_info(&p, version);
	put_tracer_states(&p, tracers);
	for (i = 0; i < sizeof(tracer_families) / sizeof(tracer_families[0]); i++)
		put_family(&p, &tracer_families[i], tracers, "tracer");
	put_action_broken(&p, actions);
	for (i = 0; i < sizeof(action_families) / sizeof(action_families[0]); i++)
		put_family(&p, &action_families[i], actions, "action");
	for (i = 0; i < sizeof(map_families) / sizeof(map_families[0]); i++)
		put_family(&p, &map_families[i], json_object_get(status, "kernel_maps"), "map");
	if (json_is_array(subs)) {
		count = json_integer((json_int_t)json_array_size(subs));
		put_single(&p, "bpfd_subscribers", "gauge", "Trace subscribers connected.", count,
			   0);
		json_decref(count);
	}
	for (i = 0; i < sizeof(singles) / sizeof(singles[0]); i++)
		put_single(&p, singles[i].name, singles[i].type, singles[i].help,
			   at_path(status, singles[i].path), 0);
	put_priorities(&p, json_object_get(status, "rules"));
	put_tracer_objects(&p, status);
	put_server(&p, server);
	put_rules(&p, rule_at, rule_ctx, n_rules);
	return p.err;
}
