/* SPDX-License-Identifier: MIT */
#ifndef BPFD_ACTION_H
#define BPFD_ACTION_H

/*
 * Actions (docs/actions.md): each type is one `const struct action_ops` in its own
 * file under actions/, listed once in action_table[] (actions.c).
 *
 * A rule names an action as a type ("webhook") or as type:instance
 * ("webhook:slack"); the instance's settings are the config section of the
 * same name. An instance (struct action) is made the first time a rule or
 * the config names it and lives until the config changes it.
 *
 * The common layer (actions.c) owns what every action shares: the rate
 * limit and dedup window (keys `rate_limit`, `dedup_window` in any
 * section), the run/failure/suppressed/dropped counters `status` shows, and
 * rate-limited logging of failures. An action's run() must never block the
 * event loop: anything slow goes through env->loop and the action's timer.
 *
 * Processes an action starts need no marking: the daemon's in-kernel
 * "ignored" mark passes to every child at fork (tracers/common/common.bpf.c), so
 * nothing they do is ever reported and an action cannot trigger itself.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "event.h"
#include "lib/loop.h"

struct action;
struct action_set;
struct paused_containers;

/* What one run of an action gets. */
struct action_input {
	const struct event *ev;
	/* The event as one JSON object (docs/protocol.md §4.4), built once for every action. */
	const char *json;
	size_t json_len;
	/* The rule that ran the action; NULL for a tracer without rules. */
	const char *rule;
};

/* What the daemon lends every action. */
struct action_env {
	struct loop *loop;
	pid_t daemon_pid;
	/*
	 * The mount point of the cgroup hierarchy events are attributed by
	 * ("/sys/fs/cgroup/unified"), "" when none; and whether it is cgroup2.
	 */
	const char *cgroup_mount;
	bool cgroup2;
	/*
	 * The path of cgroup @id relative to cgroup_mount ("/docker/<id>"):
	 * 0 or a negative errno. NULL when unknown.
	 */
	int (*cgroup_path)(void *ctx, uint64_t id, char *path, size_t size);
	void *cgroup_ctx;
	/*
	 * The containers `pause` froze, for `resume` and `bpfd resume`
	 * (container_cgroup.h). NULL: not kept.
	 */
	struct paused_containers *paused;
	/* The config output setting, for `stdout`. */
	enum config_output output;
};

struct action_ops {
	const char *name;
	/* One line for `bpfd help` and docs. */
	const char *summary;
	/*
	 * Acts on processes or containers: a rule without any filter that
	 * names it is refused unless it says `force = true`.
	 */
	bool destructive;
	/*
	 * Keys its config section may hold besides rate_limit and
	 * dedup_window, NULL-terminated (may be NULL: none).
	 */
	const char *const *keys;
	/*
	 * Checks one setting's value while the config is read: 0, or -EINVAL
	 * with a message in @err. May be NULL (any value).
	 */
	int (*check)(const char *key, const char *value, char *err, size_t size);
	/*
	 * Makes the instance's state from a->settings (NULL: no section) into
	 * a->priv. 0, or a negative errno with the reason in @err ("no `url`
	 * in [webhook:slack]"): the instance then cannot be used. May be NULL.
	 */
	int (*init)(struct action *a, char *err, size_t size);
	/* Frees a->priv; work still in flight is abandoned (killed, dropped). */
	void (*release)(struct action *a);
	/*
	 * Runs on one event. 0 when done or queued; a negative errno when it
	 * failed at once (counted and logged by the common layer). Failures
	 * found later are reported with action_failed().
	 */
	int (*run)(struct action *a, const struct action_input *in);
	/* Pushes out what run() buffered; called when the loop goes idle. May be NULL. */
	void (*flush)(struct action *a);
	/* Called at or after the time set with action_set_timer(). May be NULL. */
	void (*timer)(struct action *a, int64_t now_ms);
	/* SIGHUP: reopen files (logrotate). May be NULL. */
	void (*reopen)(struct action *a);
	/* Work in flight (queued, running), for status. May be NULL. */
	size_t (*pending)(const struct action *a);
};

struct action_stats {
	uint64_t runs;		/* runs started (not suppressed) */
	uint64_t failures;	/* runs that failed, at once or later */
	uint64_t suppressed;	/* skipped by rate_limit or dedup_window */
	uint64_t dropped;	/* not run: a queue was full */
};

struct action {
	const struct action_ops *ops;
	char *name;				/* "webhook" or "webhook:slack" */
	/*
	 * Its config section, NULL for none: the action's own copy, so that
	 * pointers into it stay valid however often the config is reread.
	 */
	struct config_section *settings;
	const struct action_env *env;
	struct action_stats stats;
	void *priv;

	/* Common layer state. */
	uint32_t rate_count;			/* 0: no rate limit */
	int64_t rate_period_ms;
	int64_t dedup_ms;			/* 0: no dedup */
	struct action_limiter *limiters;	/* per rule */
	int64_t timer_ms;			/* 0: no timer */
	int64_t log_next_ms;			/* failures are logged at most this often */
	uint64_t log_suppressed;
	uint64_t event_seq;			/* the pipeline's last event it ran for */
	bool broken;				/* init failed: every run fails */
	char *broken_reason;
};

/* The compiled-in action types, NULL-terminated. */
extern const struct action_ops *const action_table[];
const struct action_ops *action_type_find(const char *type);

/* True when @name is a known type, or type:instance of one. */
bool action_name_known(const char *name);

/*
 * A rule_action_fn (rules.h) judging names by type alone, for `bpfd check`:
 * unknown, ok, or destructive.
 */
int action_kind(const char *name, char *why, size_t size);

/*
 * Like action_kind(), and also unknown (with the reason in @why) when the
 * instance @set would make for @name cannot run (its config section lacks
 * a required key, a file cannot be opened...).
 */
int action_set_kind(struct action_set *set, const char *name, char *why, size_t size);

/*
 * The config checker (config_check_fn) for action sections: section names
 * must be action types or type:instance, keys those of the type.
 */
int action_config_check(void *ctx, const char *section, const char *key, const char *value,
			char *err, size_t size);

/* For actions: a setting of the instance, or @def when not set. */
const char *action_setting(const struct action *a, const char *key, const char *def);

/* Asks for a->ops->timer() at @when_ms (monotonic, loop_now_ms()); 0 cancels. */
void action_set_timer(struct action *a, int64_t when_ms);

/* For actions: a run that failed after run() returned. Counted and logged (rate-limited). */
void action_failed(struct action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * For kill and interrupt: @sig to the event's process through a pidfd, only
 * while its pid still names it (proc.c); failures counted and logged, with
 * @verb ("kill") in the message. Returns 0 (failures are reported here).
 */
int action_signal_event(struct action *a, const struct event *ev, int sig, const char *verb);

/* For actions: an event not acted on because a queue was full. */
void action_dropped(struct action *a, const char *why);

/*
 * The set of instances the daemon runs. @cfg may be NULL (no config); the
 * set keeps a pointer to it until action_set_reconfigure().
 */
struct action_set *action_set_new(const struct action_env *env, const struct config *cfg);
void action_set_free(struct action_set *set);

/*
 * Switches to @cfg: instances whose section changed are remade (their
 * work in flight abandoned), the others keep their state and counters.
 */
void action_set_reconfigure(struct action_set *set, const struct config *cfg);

/*
 * The instance @name, made on first use. NULL with the reason in @err for
 * an unknown type; an instance whose init failed is returned and fails
 * every run (its reason in @err too, and 0 from action_usable()).
 */
struct action *action_set_get(struct action_set *set, const char *name, char *err, size_t size);
bool action_usable(const struct action *a);

/*
 * Runs @a on @in unless its rate limit or dedup window for in->rule
 * suppresses it. Returns what run() returned, 0 when suppressed.
 */
int action_run(struct action *a, const struct action_input *in);

/*
 * Whether run() uses in->json: every action but `stdout` in its text form
 * to a standard output that is not the journal. The pipeline encodes the
 * JSON only for those that do.
 */
bool action_wants_json(const struct action *a);

/* Every instance, for status, in the order they were made. */
size_t action_set_count(const struct action_set *set);
const struct action *action_set_at(const struct action_set *set, size_t i);

/* Loop hooks: flush when idle, run due timers, reopen on SIGHUP. */
void action_set_flush(struct action_set *set);
/* Runs due timers; returns ms until the next one, -1 when none. */
int action_set_timers(struct action_set *set, int64_t now_ms);
void action_set_reopen(struct action_set *set);

#endif
