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
struct rule_library;
struct container_meta;

enum {
	RULE_ERROR_MAX = 512,
	RULE_DESCRIPTION_MAX = 1024,	/* bytes of a rule's description */
	RULE_TAGS_MAX = 32,		/* tags of one rule */
	RULE_TAG_MAX = 64,		/* bytes of one tag */
	RULE_LIST_NAME_MAX = 64,	/* bytes of a list's name */
};

/*
 * How much a match matters, the syslog ladder without its top two (a rule
 * cannot know the host is unusable): higher is more urgent.
 */
enum rule_priority {
	RULE_PRIORITY_DEBUG,
	RULE_PRIORITY_INFO,
	RULE_PRIORITY_NOTICE,
	RULE_PRIORITY_WARNING,
	RULE_PRIORITY_ERROR,
	RULE_PRIORITY_CRITICAL,
	RULE_PRIORITY_COUNT,
};

/* A rule without `priority` has this one: what every rule meant before rules had one. */
#define RULE_PRIORITY_DEFAULT RULE_PRIORITY_WARNING

/* "debug" ... "critical"; NULL out of range. */
const char *rule_priority_name(enum rule_priority p);
/* The priority named @s, or -1. */
int rule_priority_parse(const char *s);
/*
 * Its syslog severity code (RFC 5424: critical 2 ... debug 7) for the
 * priority named @s; warning's (4) for NULL or a name it does not know.
 */
int rule_priority_severity(const char *s);

/*
 * Is @s (@len bytes) a tag? 1 to RULE_TAG_MAX bytes of A-Z a-z 0-9 _ . : -;
 * one that looks like an ATT&CK id (T or TA then a digit) must be one:
 * T1234, T1234.567, TA1234. False with the reason in @why otherwise.
 */
bool rule_tag_valid(const char *s, size_t len, const char **why);

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

/* The same, with @lib's lists and overrides (NULL: none): what `bpfd create` reads. */
int rule_parse_with(const char *file, const char *text, size_t len, struct rule_library *lib,
		    rule_action_fn action_kind, void *action_ctx, struct rule **out,
		    struct rule_error *err);

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
enum rule_priority rule_priority(const struct rule *r);
const char *rule_description(const struct rule *r);	/* "" when it has none */
size_t rule_tag_count(const struct rule *r);
const char *rule_tag(const struct rule *r, size_t i);
bool rule_has_tag(const struct rule *r, const char *tag);
/* The line the rule starts on in its file (its [[rule]] header; 1 for a one-rule file). */
unsigned int rule_line(const struct rule *r);

/*
 * A set of rule files read together (docs/rules.md, "Rule libraries"):
 * each file (a rule_doc) may hold one rule at its top level or several
 * `[[rule]]` tables, named lists (`[lists]`) and overrides of other
 * files' rules and lists (`[[override]]`). The library collects the lists
 * and overrides of every file first; then each file's rules are parsed
 * against it, lists expanded into plain values (so that the prefilter
 * sees them) and overrides applied.
 */
struct rule_doc;
struct rule_library;

/* Reads the TOML of one file: 0 and *@out, or -EINVAL with @err (its line), or -ENOMEM. */
int rule_doc_read(const char *file, const char *text, size_t len, struct rule_doc **out,
		  struct rule_error *err);
void rule_doc_free(struct rule_doc *doc);
const char *rule_doc_file(const struct rule_doc *doc);

struct rule_library *rule_library_new(void);
void rule_library_free(struct rule_library *lib);

/*
 * Adds @doc's lists and overrides (@doc is borrowed: it must outlive
 * @lib). -EINVAL with @err for a bad list or override, or a list defined
 * twice (then nothing of @doc is added); -ENOMEM.
 */
int rule_library_add(struct rule_library *lib, const struct rule_doc *doc,
		     struct rule_error *err);

/*
 * Parses @doc's rules against @lib (NULL: no lists, no overrides): 0 with
 * *@out, an array of *@n rules the caller frees (each with rule_free, the
 * array with free); rules an override disables are left out. -EINVAL
 * with @err (the file's first error: no rule of it is kept), -ENOMEM.
 * Counts in @lib which lists and overrides were used.
 */
int rule_doc_rules(const struct rule_doc *doc, struct rule_library *lib,
		   rule_action_fn action_kind, void *action_ctx, struct rule ***out, size_t *n,
		   struct rule_error *err);

/*
 * What the library holds that nothing used, once every doc's rules were
 * parsed: @fn(ctx, file, line, message) for each override of a rule or
 * list that does not exist (@error true) and each list no rule uses
 * (@error false).
 */
void rule_library_unused(const struct rule_library *lib,
			 void (*fn)(void *ctx, bool error, const char *file, unsigned int line,
				    const char *message),
			 void *ctx);
/* Forgets which lists and overrides were used (before parsing the docs again). */
void rule_library_reset_use(struct rule_library *lib);

/*
 * `bpfd check`'s lints of one rule (docs/rules.md, "Lints"): @fn with a
 * message for each filter that can never hold (every value excluded, a
 * list left empty) and for a rule without any filter on a tracer that is
 * not sparse (it matches every event). Returns how many.
 */
size_t rule_lint(const struct rule *r, void (*fn)(void *ctx, const char *message), void *ctx);

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

/* What a value rule_prefilter_values() reports stands for. */
enum rule_value_kind {
	RULE_VALUE_EXACT,	/* the whole string */
	RULE_VALUE_PREFIX,	/* a string's beginning (`/etc/cron*`) */
	RULE_VALUE_LEAF,	/* a path's last component: `*` then "/.bash_history" */
};

/*
 * What a BPF program can test of @r ahead of the daemon: when @r has a
 * `values` filter on string key @key whose every value is an exact string
 * or a literal followed by one trailing `*` (a prefix), or with @leaves
 * `*` and "/" followed by a literal (a path that ends in it), calls @fn
 * with each literal and its kind (a leaf: the literal's last component),
 * and returns true; an event whose @key is none of them cannot match @r.
 * False (and no call) otherwise.
 */
bool rule_prefilter_values(const struct rule *r, const char *key, bool leaves,
			   void (*fn)(void *ctx, const char *s, size_t len,
				      enum rule_value_kind kind),
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
