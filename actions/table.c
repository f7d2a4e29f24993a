// SPDX-License-Identifier: MIT
/*
 * The compiled-in actions and what they share. Adding one: write
 * actions/NAME.c with a `const struct action_ops NAME_action`, list it in
 * meson.build and add one line to action_table[].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "lib/journal.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "rules.h"

extern const struct action_ops stdout_action;
extern const struct action_ops kill_action;
extern const struct action_ops interrupt_action;
extern const struct action_ops exec_action;
extern const struct action_ops file_action;
extern const struct action_ops pause_action;
extern const struct action_ops resume_action;
extern const struct action_ops kill_container_action;
extern const struct action_ops checkpoint_action;
extern const struct action_ops webhook_action;
extern const struct action_ops syslog_action;

const struct action_ops *const action_table[] = {
	&stdout_action,
	&kill_action,
	&interrupt_action,
	&exec_action,
	&file_action,
	&pause_action,
	&resume_action,
	&kill_container_action,
	&checkpoint_action,
	&webhook_action,
	&syslog_action,
	NULL,
};

enum {
	ACTION_NAME_MAX = 128,
	FAILURE_LOG_INTERVAL_MS = 10000,
	DEDUP_SLOTS = 1024,		/* per rule and action: recent distinct events */
	ACTION_INSTANCES_MAX = 256,
};

/* Rate limit and dedup state of one (rule, action) pair. */
struct action_limiter {
	struct action_limiter *next;
	char *rule;			/* "" for events of a tracer without rules */
	double tokens;
	int64_t refilled_ms;
	struct {
		uint64_t fingerprint;
		int64_t seen_ms;
	} *recent;			/* DEDUP_SLOTS, when dedup is on */
};

struct action_set {
	const struct action_env *env;
	const struct config *cfg;
	struct action **items;
	size_t n;
};

const struct action_ops *action_type_find(const char *type)
{
	size_t i;

	for (i = 0; action_table[i]; i++)
		if (strcmp(action_table[i]->name, type) == 0)
			return action_table[i];
	return NULL;
}

/* The type of "type" or "type:instance". */
static const struct action_ops *type_of(const char *name)
{
	const char *colon = strchr(name, ':');
	char type[ACTION_NAME_MAX];

	if (!colon)
		return action_type_find(name);
	if ((size_t)(colon - name) >= sizeof(type) || !colon[1])
		return NULL;
	memcpy(type, name, colon - name);
	type[colon - name] = '\0';
	return action_type_find(type);
}

bool action_name_known(const char *name)
{
	return strlen(name) < ACTION_NAME_MAX && type_of(name) != NULL;
}

int action_kind(const char *name, char *why, size_t size)
{
	const struct action_ops *ops = action_name_known(name) ? type_of(name) : NULL;

	(void)why;
	(void)size;
	if (!ops)
		return RULE_ACTION_UNKNOWN;
	return ops->destructive ? RULE_ACTION_DESTRUCTIVE : RULE_ACTION_OK;
}

static void list_types(char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; action_table[i] && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
				action_table[i]->name);
}

int action_config_check(void *ctx, const char *section, const char *key, const char *value,
			char *err, size_t size)
{
	const struct action_ops *ops = type_of(section);
	char types[512];
	size_t i;
	uint32_t count;
	int64_t ms;

	(void)ctx;
	if (!ops || strlen(section) >= ACTION_NAME_MAX) {
		list_types(types, sizeof(types));
		snprintf(err, size, "unknown action \"%s\" (sections are daemon or an action: %s, "
			 "optionally as type:instance)", section, types);
		return -EINVAL;
	}
	if (!key)
		return ops->destructive ? 1 : 0;
	if (strcmp(key, "rate_limit") == 0) {
		if (config_parse_rate(value, &count, &ms) < 0) {
			snprintf(err, size, "rate_limit: \"%s\" is not a rate like 10/s, 100/min, "
				 "5/h", value);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "dedup_window") == 0) {
		if (config_parse_duration_ms(value, &ms) < 0) {
			snprintf(err, size, "dedup_window: \"%s\" is not a duration like 30s, 5m",
				 value);
			return -EINVAL;
		}
		return 0;
	}
	for (i = 0; ops->keys && ops->keys[i]; i++)
		if (strcmp(ops->keys[i], key) == 0)
			break;
	if (!ops->keys || !ops->keys[i]) {
		size_t off = 0;

		types[0] = '\0';
		for (i = 0; ops->keys && ops->keys[i]; i++)
			off += snprintf(types + off, sizeof(types) - off, "%s, ", ops->keys[i]);
		snprintf(err, size, "unknown key \"%s\" for action %s (known: %srate_limit, "
			 "dedup_window)", key, ops->name, types);
		return -EINVAL;
	}
	return ops->check ? ops->check(key, value, err, size) : 0;
}

const char *action_setting(const struct action *a, const char *key, const char *def)
{
	const char *v = config_get(a->settings, key);

	return v ? v : def;
}

void action_set_timer(struct action *a, int64_t when_ms)
{
	a->timer_ms = when_ms;
}

static void log_failure(struct action *a, const char *fmt, va_list ap)
{
	int64_t now = loop_now_ms();
	char msg[1024];

	if (now < a->log_next_ms) {
		a->log_suppressed++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (a->log_suppressed)
		log_warn("action %s failed: %s (and %llu more failures not logged)", a->name, msg,
			 (unsigned long long)a->log_suppressed);
	else
		log_warn("action %s failed: %s", a->name, msg);
	a->log_suppressed = 0;
	a->log_next_ms = now + FAILURE_LOG_INTERVAL_MS;
}

void action_failed(struct action *a, const char *fmt, ...)
{
	va_list ap;

	a->stats.failures++;
	va_start(ap, fmt);
	log_failure(a, fmt, ap);
	va_end(ap);
}

static void failed_errno(struct action *a, int err)
{
	action_failed(a, "%s", strerror(-err));
}

int action_signal_event(struct action *a, const struct event *ev, int sig, const char *verb)
{
	int r = process_signal(ev->pid, ev->start_ns, sig, a->env->daemon_pid);

	if (r == -ESRCH)
		action_failed(a, "process %u (%s) is gone or its pid was reused: not signalled",
			      ev->pid, ev->command);
	else if (r == -EPERM)
		action_failed(a, "refusing to %s pid %u (pid 1 or bpfd itself)", verb, ev->pid);
	else if (r < 0)
		action_failed(a, "pid %u: %s", ev->pid, strerror(-r));
	return 0;
}

void action_dropped(struct action *a, const char *why)
{
	int64_t now = loop_now_ms();

	a->stats.dropped++;
	if (now >= a->log_next_ms) {
		log_warn("action %s: event dropped: %s", a->name, why);
		a->log_next_ms = now + FAILURE_LOG_INTERVAL_MS;
	}
}

/* ------------------------------------------------------------------ */
/* Instances                                                            */

static void limiters_free(struct action_limiter *l)
{
	while (l) {
		struct action_limiter *next = l->next;

		free(l->rule);
		free(l->recent);
		free(l);
		l = next;
	}
}

static void action_free(struct action *a)
{
	if (!a)
		return;
	if (a->ops->release && !a->broken)
		a->ops->release(a);
	limiters_free(a->limiters);
	config_section_free(a->settings);
	free(a->broken_reason);
	free(a->name);
	free(a);
}

static int configure(struct action *a, const struct config *cfg, char *err, size_t size)
{
	const char *v;
	int r;

	config_section_free(a->settings);
	a->settings = config_section_dup(config_section(cfg, a->name));
	a->rate_count = 0;
	a->dedup_ms = 0;
	v = action_setting(a, "rate_limit", NULL);
	if (v)
		config_parse_rate(v, &a->rate_count, &a->rate_period_ms);
	v = action_setting(a, "dedup_window", NULL);
	if (v)
		config_parse_duration_ms(v, &a->dedup_ms);
	a->priv = NULL;
	a->broken = false;
	free(a->broken_reason);
	a->broken_reason = NULL;
	if (!a->ops->init)
		return 0;
	err[0] = '\0';
	r = a->ops->init(a, err, size);
	if (r < 0) {
		if (!err[0])
			snprintf(err, size, "%s", strerror(-r));
		a->broken = true;
		a->broken_reason = strdup(err);
	}
	return r;
}

struct action_set *action_set_new(const struct action_env *env, const struct config *cfg)
{
	struct action_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->env = env;
	set->cfg = cfg;
	return set;
}

void action_set_free(struct action_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		action_free(set->items[i]);
	free(set->items);
	free(set);
}

static struct action *find(const struct action_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->items[i]->name, name) == 0)
			return set->items[i];
	return NULL;
}

/* A new instance of action @name, configured (possibly broken), not in @set yet. */
static struct action *instance_new(struct action_set *set, const char *name, char *err,
				   size_t size)
{
	const struct action_ops *ops = strlen(name) < ACTION_NAME_MAX ? type_of(name) : NULL;
	struct action *a;

	if (!ops) {
		snprintf(err, size, "unknown action \"%s\"", name);
		return NULL;
	}
	if (set->n == ACTION_INSTANCES_MAX) {
		snprintf(err, size, "more than %d action instances", ACTION_INSTANCES_MAX);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->name = strdup(name))) {
		free(a);
		snprintf(err, size, "out of memory");
		return NULL;
	}
	a->ops = ops;
	a->env = set->env;
	configure(a, set->cfg, err, size);
	return a;
}

static int instance_add(struct action_set *set, struct action *a, char *err, size_t size)
{
	struct action **items = realloc(set->items, (set->n + 1) * sizeof(*items));

	if (!items) {
		snprintf(err, size, "out of memory");
		return -ENOMEM;
	}
	set->items = items;
	set->items[set->n++] = a;
	return 0;
}

struct action *action_set_get(struct action_set *set, const char *name, char *err, size_t size)
{
	struct action *a;

	err[0] = '\0';
	a = find(set, name);
	if (a) {
		if (a->broken)
			snprintf(err, size, "%s", a->broken_reason ? a->broken_reason : "unusable");
		return a;
	}
	a = instance_new(set, name, err, size);
	if (a && instance_add(set, a, err, size) < 0) {
		action_free(a);
		return NULL;
	}
	return a;
}

int action_set_kind(struct action_set *set, const char *name, char *why, size_t size)
{
	int kind = action_kind(name, why, size);
	struct action *a;

	if (kind == RULE_ACTION_UNKNOWN || !set)
		return kind;
	why[0] = '\0';
	a = find(set, name);
	if (a) {
		if (!action_usable(a))
			snprintf(why, size, "%s", a->broken_reason ? a->broken_reason : "unusable");
		return action_usable(a) ? kind : RULE_ACTION_UNKNOWN;
	}
	/*
	 * Not in use yet: tried on an instance of its own, which is not kept,
	 * so that a refused rule leaves no row behind in `bpfd status`. The
	 * rules in force get theirs with action_set_get().
	 */
	a = instance_new(set, name, why, size);
	if (a && !action_usable(a))
		kind = RULE_ACTION_UNKNOWN;
	action_free(a);
	return a ? kind : RULE_ACTION_UNKNOWN;
}

bool action_usable(const struct action *a)
{
	return a && !a->broken;
}

void action_set_reconfigure(struct action_set *set, const struct config *cfg)
{
	char err[CONFIG_ERROR_MAX];
	size_t i;

	for (i = 0; i < set->n; i++) {
		struct action *a = set->items[i];
		const struct config_section *now = config_section(cfg, a->name);

		if (config_section_equal(a->settings, now))
			continue;
		if (a->ops->release && !a->broken)
			a->ops->release(a);
		limiters_free(a->limiters);
		a->limiters = NULL;
		a->timer_ms = 0;
		if (configure(a, cfg, err, sizeof(err)) < 0)
			log_error("action %s: %s", a->name, err);
		else
			log_info("action %s: new settings", a->name);
	}
	set->cfg = cfg;
}

size_t action_set_count(const struct action_set *set)
{
	return set ? set->n : 0;
}

const struct action *action_set_at(const struct action_set *set, size_t i)
{
	return set->items[i];
}

/* ------------------------------------------------------------------ */
/* Rate limit and dedup                                                 */

static struct action_limiter *limiter(struct action *a, const char *rule)
{
	struct action_limiter *l;

	if (!rule)
		rule = "";
	for (l = a->limiters; l; l = l->next)
		if (strcmp(l->rule, rule) == 0)
			return l;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->rule = strdup(rule))) {
		free(l);
		return NULL;
	}
	l->tokens = a->rate_count;
	l->refilled_ms = loop_now_ms();
	l->next = a->limiters;
	a->limiters = l;
	return l;
}

/* FNV-1a over what makes two events "the same" for dedup. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * Two events are the same when one process of one tracer did the same
 * thing: same pid, start time and data (file name, argv, line...). The
 * time and the thread do not count.
 */
static uint64_t fingerprint(const struct event *ev)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	h = fnv(h, ev->tracer, strlen(ev->tracer));
	h = fnv(h, &ev->pid, sizeof(ev->pid));
	h = fnv(h, &ev->start_ns, sizeof(ev->start_ns));
	for (i = 0; i < ev->n_data; i++) {
		h = fnv(h, ev->data[i].key, strlen(ev->data[i].key) + 1);
		h = fnv(h, ev->data[i].value, ev->data[i].len);
		h = fnv(h, "", 1);
	}
	return h;
}

static bool duplicate(struct action *a, struct action_limiter *l, const struct event *ev,
		      int64_t now)
{
	uint64_t fp;
	size_t slot;

	if (!l->recent) {
		l->recent = calloc(DEDUP_SLOTS, sizeof(*l->recent));
		if (!l->recent)
			return false;
	}
	fp = fingerprint(ev);
	slot = fp % DEDUP_SLOTS;
	if (l->recent[slot].fingerprint == fp && l->recent[slot].seen_ms &&
	    now - l->recent[slot].seen_ms < a->dedup_ms)
		return true;
	l->recent[slot].fingerprint = fp;
	l->recent[slot].seen_ms = now;
	return false;
}

static bool rate_limited(struct action *a, struct action_limiter *l, int64_t now)
{
	double per_ms = (double)a->rate_count / (double)a->rate_period_ms;

	l->tokens += (double)(now - l->refilled_ms) * per_ms;
	if (l->tokens > a->rate_count)
		l->tokens = a->rate_count;
	l->refilled_ms = now;
	if (l->tokens < 1.0)
		return true;
	l->tokens -= 1.0;
	return false;
}

static bool suppressed(struct action *a, const struct action_input *in)
{
	struct action_limiter *l;
	int64_t now;

	if (!a->rate_count && !a->dedup_ms)
		return false;
	l = limiter(a, in->rule);
	if (!l)
		return false;
	now = loop_now_ms();
	/* A duplicate does not use up the rate: it would not have run anyway. */
	if (a->dedup_ms && duplicate(a, l, in->ev, now))
		return true;
	return a->rate_count && rate_limited(a, l, now);
}

bool action_wants_json(const struct action *a)
{
	/* The journal's entries carry the JSON (BPFD_EVENT=) whatever the output. */
	return a->ops != &stdout_action || a->env->output == CONFIG_OUTPUT_JSON ||
	       journal_active();
}

int action_run(struct action *a, const struct action_input *in)
{
	int r;

	if (suppressed(a, in)) {
		a->stats.suppressed++;
		return 0;
	}
	a->stats.runs++;
	if (a->broken) {
		action_failed(a, "%s", a->broken_reason ? a->broken_reason : "unusable");
		return -EINVAL;
	}
	r = a->ops->run(a, in);
	if (r < 0)
		failed_errno(a, r);
	return r;
}

/* ------------------------------------------------------------------ */
/* Loop hooks                                                           */

void action_set_flush(struct action_set *set)
{
	size_t i;

	for (i = 0; set && i < set->n; i++)
		if (set->items[i]->ops->flush && !set->items[i]->broken)
			set->items[i]->ops->flush(set->items[i]);
}

int action_set_timers(struct action_set *set, int64_t now_ms)
{
	int64_t next = -1;
	size_t i;

	for (i = 0; set && i < set->n; i++) {
		struct action *a = set->items[i];

		if (a->timer_ms && a->timer_ms <= now_ms && a->ops->timer && !a->broken) {
			a->timer_ms = 0;
			a->ops->timer(a, now_ms);
		}
		if (a->timer_ms && (next < 0 || a->timer_ms - now_ms < next))
			next = a->timer_ms > now_ms ? a->timer_ms - now_ms : 0;
	}
	return (int)(next > 100000 ? 100000 : next);
}

void action_set_reopen(struct action_set *set)
{
	size_t i;

	for (i = 0; set && i < set->n; i++)
		if (set->items[i]->ops->reopen && !set->items[i]->broken)
			set->items[i]->ops->reopen(set->items[i]);
}
