/* SPDX-License-Identifier: MIT */
#ifndef BPFD_RULES_H
#define BPFD_RULES_H

/*
 * Rules (docs/rules.md): TOML rule files parsed into rules, rules compiled into
 * per-tracer filter tables, events matched against them.
 *
 * A rule file holds one rule:
 *
 *   name = "setuid_binaries"          # optional: the file name minus .toml
 *   tracer = "exec"                   # required, a compiled-in tracer
 *   actions = ["stdout"]              # action types or type:instance; may be empty
 *   containerRuntimes = ["docker"]    # optional
 *   force = true                      # optional (see actions, docs/actions.md)
 *   [filterEvents.command]            # a filter on a data key or a numeric field
 *   values = ["sshd", "ping*"]        # OR; globs with * ? [
 *   exclude = ["ping6"]               # none of these
 *
 * Within a key, values are alternatives; across keys (and runtimes) all
 * must hold. An event without the key never satisfies a filter on it.
 * Numeric keys (pid tid ppid uid gid returnval cgroup_id mntns pidns) take
 * numbers (TOML integers or strings) or comparisons "=N" "!=N" "<N" "<=N"
 * ">N" ">=N". `container_id` and the tracer's data keys are strings,
 * except address keys, which take CIDRs ("10.0.0.0/8", "::1/128", a bare
 * address), and port keys, which take ports and ranges (443, "8000-8999").
 * The old README's layout, where `containerRuntimes` follows a
 * `[filterEvents.KEY]` header (so TOML puts it inside that table), means
 * the rule's runtimes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct rule;
struct container_meta;

enum { RULE_ERROR_MAX = 512 };

/* A problem in a rule file: the line (0: none applies) and the message. */
struct rule_error {
	unsigned int line;
	char message[RULE_ERROR_MAX];
};

/*
 * What a rule reader asks about an action name (type or type:instance):
 * RULE_ACTION_UNKNOWN (or unusable: then @why, when set, says why),
 * RULE_ACTION_OK, or RULE_ACTION_DESTRUCTIVE for one that acts on
 * processes or containers (kill, pause...): a rule naming one must have a
 * filter or say `force = true`.
 */
enum { RULE_ACTION_UNKNOWN = -1, RULE_ACTION_OK = 0, RULE_ACTION_DESTRUCTIVE = 1 };
typedef int (*rule_action_fn)(void *ctx, const char *name, char *why, size_t size);

/*
 * Parses one rule from @len bytes of TOML. @file names it (its base name
 * minus ".toml" is the default name; NULL or "-" means stdin, which then
 * needs a `name`). @action_kind judges action names, given @action_ctx;
 * NULL accepts any as RULE_ACTION_OK. 0 and *@out, or -EINVAL with @err filled (the caller
 * prints `file:line: message`), or -ENOMEM.
 */
int rule_parse(const char *file, const char *text, size_t len, rule_action_fn action_kind,
	       void *action_ctx, struct rule **out, struct rule_error *err);

void rule_free(struct rule *r);

/* Accessors: a rule is immutable once parsed. */
const char *rule_name(const struct rule *r);
size_t rule_tracer(const struct rule *r);	/* index in tracer_table[] */
/*
 * The one change to a parsed rule: a reload of the drop-ins gave its
 * tracer another slot (tracer_retire()). Binds @r to the slot that has its
 * tracer's name now; false when none has (the drop-in was removed).
 */
bool rule_rebind(struct rule *r);
size_t rule_action_count(const struct rule *r);
const char *rule_action(const struct rule *r, size_t i);
bool rule_forced(const struct rule *r);
/* True when the rule has no filter and no runtime restriction. */
bool rule_unfiltered(const struct rule *r);

/*
 * What runs action @i of @r, as its owner resolved it when the rule went
 * into a set (rule_bind_action): the event path reads it, never a name.
 * NULL when nothing is bound.
 */
void *rule_action_instance(const struct rule *r, size_t i);

/*
 * Binds action @i of @r to @instance (owned by the caller, which keeps it
 * alive while the rule is in force). The rule is otherwise immutable.
 * 0, -EINVAL for no such action, or -ENOMEM.
 */
int rule_bind_action(struct rule *r, size_t i, void *instance);

/*
 * The events @r matched since it was read: the pipeline counts each
 * (a rule's file that changes starts a new rule, and a new count).
 */
void rule_count_match(const struct rule *r);
uint64_t rule_match_count(const struct rule *r);

/*
 * What a BPF program can test of @r ahead of the daemon: when @r has a
 * `values` filter on string key @key whose every value is an exact string
 * or a literal followed by one trailing `*` (a prefix), calls @fn with each
 * literal and whether it is a prefix, and returns true; an event whose @key
 * is none of them cannot match @r. False (and no call) otherwise.
 */
bool rule_prefilter_values(const struct rule *r, const char *key,
			   void (*fn)(void *ctx, const char *s, size_t len, bool prefix),
			   void *ctx);

/*
 * The same for numeric field @key ("uid"...): when its `values` are all
 * plain numbers or "=N" (no other comparison), calls @fn with each.
 */
bool rule_prefilter_numbers(const struct rule *r, const char *key,
			    void (*fn)(void *ctx, uint64_t value), void *ctx);

/*
 * The same for address key @key (tracer_ops.address_keys): when @r has
 * `values` on it, calls @fn with each block (IPv4 as IPv4-mapped IPv6,
 * @bits of 128) and returns true.
 */
bool rule_prefilter_addresses(const struct rule *r, const char *key,
			      void (*fn)(void *ctx, const uint8_t addr[16], unsigned int bits),
			      void *ctx);

/* The same for port key @key: each port range, @lo..@hi inclusive. */
bool rule_prefilter_ports(const struct rule *r, const char *key,
			  void (*fn)(void *ctx, unsigned int lo, unsigned int hi), void *ctx);

/*
 * True when @r only matches events from containers: its runtimes are
 * listed and "not-found" is not among them.
 */
bool rule_requires_container(const struct rule *r);

/*
 * True when @r filters on container metadata (container_name,
 * container_image, container_label.KEY, k8s_namespace, k8s_pod): it can
 * match only events of a container whose metadata holds those filters.
 */
bool rule_on_container_meta(const struct rule *r);

/* Do @r's filters on container metadata all hold for @m (NULL: none known)? */
bool rule_container_meta_holds(const struct rule *r, const struct container_meta *m);

/* Does @r alone hold for @ev? (The reference semantics; rulesets index it.) */
bool rule_matches(const struct rule *r, const struct event *ev);

/*
 * A set of rules compiled for matching: per tracer, exact values go into
 * hash tables so that matching one event costs about the same with 1 or
 * 1000 rules of 100 values each.
 */
struct ruleset;

/* Compiles @n rules (borrowed: they must outlive the set). NULL: no memory. */
struct ruleset *ruleset_new(struct rule *const *rules, size_t n);
void ruleset_free(struct ruleset *s);

/* Number of rules for tracer @tracer; 0 means every event of it passes. */
size_t ruleset_count(const struct ruleset *s, size_t tracer);

/*
 * Fills @matched with the rules @ev matches (each once, in the order they
 * were given to ruleset_new), at most @max; returns how many matched.
 */
size_t ruleset_match(const struct ruleset *s, size_t tracer, const struct event *ev,
		     const struct rule **matched, size_t max);

#endif
