// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/pipeline.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "daemon/rulebook.h"
#include "rules.h"
#include "bpf/bpfmap.h"
#include "container_meta.h"
#include "daemon/prefilter.h"
#include "daemon/identity.h"
#include "daemon/proctable.h"
#include "daemon/server.h"
#include "tracer.h"
#include "tracers/common/record.h"

void pipeline_init(struct pipeline *p, struct cgroup_cache *cgroups, struct server *server,
		   const char *hostname)
{
	memset(p, 0, sizeof(*p));
	p->containers_fd = -1;
	p->pf_meta_fd = -1;
	p->cgroups = cgroups;
	p->server = server;
	p->hostname = hostname;
	pipeline_sync_clock(p);
}

void pipeline_release(struct pipeline *p)
{
	strbuf_release(&p->json);
	free(p->matched);
	p->matched = NULL;
	p->matched_cap = 0;
}

static int64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void pipeline_sync_clock(struct pipeline *p)
{
	/* Sandwich the boot clock between two reads of the real one. */
	int64_t r0 = ts_ns(CLOCK_REALTIME);
	int64_t b = ts_ns(CLOCK_BOOTTIME);
	int64_t r1 = ts_ns(CLOCK_REALTIME);

	p->boot_to_real_ns = r0 + (r1 - r0) / 2 - b;
}

static void fill_common(struct pipeline *p, const struct bpfd_record *r, struct event *ev)
{
	const struct container_info *c;

	ev->time_ns = r->ktime_ns + p->boot_to_real_ns;
	ev->hostname = p->hostname;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	ev->start_ns = r->start_ns;
	memcpy(ev->command, r->comm, sizeof(r->comm));
	ev->command[sizeof(r->comm)] = '\0';
	ev->returnval = r->retval;
	ev->cgroup_id = r->cgroup_id;
	ev->mntns = r->mntns;
	ev->pidns = r->pidns;
	c = cgroup_cache_lookup(p->cgroups, r->cgroup_id);
	ev->container_runtime = c->runtime;
	ev->container_id = c->id;
	ev->container_owner_uid = c->owner_uid;
	/* Learned at the cgroup's creation; read here only for one that came before. */
	ev->container_meta = container_meta_cache_get(p->meta, r->cgroup_id, c, r->ktime_ns);
	/* Beside the container: who the process is and who started it. */
	if (p->procs)
		proc_table_enrich(p->procs, ev, p->ancestors);
}

/*
 * Corrects the kernel's mark of cgroup @id, which it gave by the name's
 * 64-hex id alone. The record may be read after the cgroup was removed, and
 * the kernel has then already dropped the mark (cgroup_rmdir): a mark added
 * here is checked against the cgroup's existence afterwards, so that a churn
 * of cgroups never leaves marks behind. The other order is covered by the
 * kernel: a removal after the check drops the mark.
 */
static void mark_container(struct pipeline *p, uint64_t id, const char *path)
{
	struct container_info info;
	char now[64];
	uint8_t one = 1;
	int r;

	if (!container_from_cgroup_path(path, &info)) {
		bpfmap_delete(p->containers_fd, &id);
		return;
	}
	r = bpfmap_update(p->containers_fd, &id, &one, BPF_NOEXIST);
	if (r == -EEXIST)
		return;
	if (r < 0) {
		p->map_failed[BPFD_MAP_CONTAINERS]++;
		return;
	}
	/* Only whether it is there: a path too long for @now says so too. */
	if (p->resolver && p->resolver->resolve &&
	    p->resolver->resolve(p->resolver->ctx, id, now, sizeof(now)) == -ENOENT)
		bpfmap_delete(p->containers_fd, &id);
}

static int handle_cgroup(struct pipeline *p, const void *rec, size_t size)
{
	const struct bpfd_cgroup_record *r = rec;
	char path[BPFD_CGROUP_PATH_MAX + 1];
	size_t head = offsetof(struct bpfd_cgroup_record, path);
	size_t n;
	int err;

	if (size < head)
		return -EINVAL;
	n = strnlen(r->path, size - head < BPFD_CGROUP_PATH_MAX ? size - head
								 : BPFD_CGROUP_PATH_MAX);
	memcpy(path, r->path, n);
	path[n] = '\0';
	p->cgroup_records++;
	/*
	 * The kernel marked the cgroup by its name's 64-hex id alone; this
	 * parser knows every runtime: it adds what the kernel could not tell
	 * (lxc, nspawn) and removes what is not a container (a conmon's).
	 */
	if (p->containers_fd >= 0)
		mark_container(p, r->hdr.cgroup_id, path);
	err = cgroup_cache_learn(p->cgroups, r->hdr.cgroup_id, path, r->hdr.uid);
	/*
	 * The runtime wrote its state before it made the cgroup: read now,
	 * it names even a container that is gone before its events are read.
	 */
	if (!err)
		container_meta_cache_learn(p->meta, r->hdr.cgroup_id,
					   cgroup_cache_lookup(p->cgroups, r->hdr.cgroup_id),
					   r->hdr.ktime_ns);
	return err;
}

void pipeline_meta_settled(void *ctx, uint64_t cgroup_id, const struct container_meta *m,
			   bool forget)
{
	struct pipeline *p = ctx;

	if (prefilter_meta_mark(p->pf_meta_fd, p->rules, cgroup_id, m, forget))
		p->pf_meta_failed++;
}

/* The event's JSON, encoded once for every action and subscriber that wants it. */
static const char *event_json(struct pipeline *p, size_t *len)
{
	if (!p->json_done) {
		strbuf_reset(&p->json);
		if (event_to_json(&p->ev, &p->json) < 0)
			strbuf_reset(&p->json);
		p->json_done = true;
	}
	*len = p->json.len;
	return p->json.len ? p->json.buf : NULL;
}

static void run_action(struct pipeline *p, struct action *a, const char *rule)
{
	struct action_input in = { .ev = &p->ev, .rule = rule };

	if (action_wants_json(a))
		in.json = event_json(p, &in.json_len);
	action_run(a, &in);
}

/*
 * Each distinct action of the matched rules runs once (docs/rules.md), for the
 * first rule that names it (whose rate limit it then uses). The instances
 * were bound to the rules when their set was built (rulebook.c); however
 * many rules and actions, an instance is marked with the event's number
 * when it runs, so a second rule naming it finds it marked.
 */
static void run_rule_actions(struct pipeline *p, const struct rule *const *matched, size_t n)
{
	struct action *action;
	size_t i, j;

	if (!p->actions)
		return;
	p->event_seq++;
	for (i = 0; i < n; i++) {
		for (j = 0; j < rule_action_count(matched[i]); j++) {
			action = rule_action_instance(matched[i], j);
			/* NULL: it could not be made, which rulebook.c reported. */
			if (!action || action->event_seq == p->event_seq)
				continue;
			action->event_seq = p->event_seq;
			run_action(p, action, rule_name(matched[i]));
		}
	}
}

/* Room for every rule of a tracer that has @n: 0, or -ENOMEM. */
static int matched_reserve(struct pipeline *p, size_t n)
{
	const struct rule **m;

	if (n <= p->matched_cap)
		return 0;
	m = realloc(p->matched, n * sizeof(*m));
	if (!m)
		return -ENOMEM;
	p->matched = m;
	p->matched_cap = n;
	return 0;
}

static void run_default_actions(struct pipeline *p)
{
	size_t i;

	for (i = 0; i < p->n_default_actions; i++)
		run_action(p, p->default_actions[i], NULL);
}

/*
 * The priority (the highest) and tags (each once, in rule order) of the
 * @n rules @ev matched: what subscribers filter on and events show.
 */
static enum rule_priority event_add_rule_meta(struct event *ev, const struct rule *const *rules,
					      size_t n)
{
	enum rule_priority top = RULE_PRIORITY_DEBUG;
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		const struct rule *r = rules[i];

		if (rule_priority(r) > top)
			top = rule_priority(r);
		for (j = 0; j < rule_tag_count(r) && ev->n_tags < EVENT_TAGS_MAX; j++) {
			const char *tag = rule_tag(r, j);

			for (k = 0; k < ev->n_tags; k++)
				if (ev->tags[k] == tag || !strcmp(ev->tags[k], tag))
					break;
			if (k == ev->n_tags)
				ev->tags[ev->n_tags++] = tag;
		}
	}
	ev->priority = rule_priority_name(top);
	return top;
}

int pipeline_handle_record(struct pipeline *p, const void *rec, size_t size)
{
	const struct ruleset *set;
	const struct bpfd_record *r = rec;
	const struct tracer_ops *t;
	struct tracer_counters *cnt;
	struct event *ev = &p->ev;
	size_t index;
	int err;

	if (size < sizeof(*r)) {
		p->unknown_records++;
		return -EINVAL;
	}
	if (r->type == BPFD_RECORD_CGROUP_MKDIR)
		return handle_cgroup(p, rec, size);
	if (r->type >= BPFD_RECORD_PROC_FORK && r->type <= BPFD_RECORD_PROC_EXIT) {
		p->proc_records++;
		return p->procs ? proc_table_handle(p->procs, rec, size) : 0;
	}
	index = r->type - BPFD_RECORD_TRACER_BASE;
	if (r->type < BPFD_RECORD_TRACER_BASE || index >= tracer_count) {
		p->unknown_records++;
		return -EINVAL;
	}
	t = tracer_table[index];
	cnt = &p->counters[index];

	/* decode */
	p->json_done = false;
	event_init(ev);
	ev->tracer = t->name;
	fill_common(p, r, ev);
	err = tracer_decode(t, rec, size, ev);
	if (err) {
		cnt->decode_errors++;
		return err;
	}
	cnt->events++;
	if (r->ktime_ns < p->replay_before_ns) {
		ev->replayed = true;
		p->replayed++;
	}

	/* A program started in a container: tracers may have work there. */
	if (p->contained_exec && t->exec_events && ev->container_id[0])
		p->contained_exec(p->contained_exec_ctx, (int)ev->pid);

	/* The file the kernel recognised by its identity, by the name the rules know it by. */
	if (ev->ident_depth && p->identities)
		identity_add_event_key(p->identities, r->type, ev);

	/* rules: a tracer without rules passes every event to `stdout` (docs/rules.md). */
	set = p->rules ? rulebook_ruleset(p->rules) : NULL;
	if (!set || !ruleset_count(set, index)) {
		cnt->matched++;
		run_default_actions(p);
	} else {
		size_t n, i;

		/* Every matching rule runs its actions: no event can have a kill skipped. */
		if (matched_reserve(p, ruleset_count(set, index)) < 0)
			return -ENOMEM;
		n = ruleset_match(set, index, ev, p->matched, p->matched_cap);
		if (!n)
			return 0;
		cnt->matched++;
		ev->n_rules = n < EVENT_RULES_MAX ? n : EVENT_RULES_MAX;
		ev->rules_omitted = n - ev->n_rules;
		for (i = 0; i < ev->n_rules; i++)
			ev->rules[i] = rule_name(p->matched[i]);
		for (i = 0; i < n; i++)
			rule_count_match(p->matched[i]);
		p->priority_matched[event_add_rule_meta(ev, p->matched, n)]++;
		run_rule_actions(p, p->matched, n);
	}

	/*
	 * subscribers: the JSON an action made is copied to them; otherwise
	 * the server encodes it straight into a subscriber's queue.
	 */
	if (p->server && server_wants(p->server, ev)) {
		if (!p->json_done)
			server_publish(p->server, ev, NULL, 0);
		else if (p->json.len)
			server_publish(p->server, ev, p->json.buf, p->json.len);
	}
	return 0;
}

int pipeline_sample(void *ctx, void *data, size_t size)
{
	struct pipeline *p = ctx;

	/* A bad record is counted, never a reason to stop reading. */
	pipeline_handle_record(p, data, size);
	/* libbpf has consumed this record; the rest waits for the next turn. */
	if (!p->batch_left)
		return 0;
	if (--p->batch_left && p->batch_deadline_ns &&
	    p->batch_left % PIPELINE_CLOCK_EVERY == 0) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec >= p->batch_deadline_ns)
			p->batch_left = 0;
	}
	return p->batch_left ? 0 : -EAGAIN;
}
