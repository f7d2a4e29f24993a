/* SPDX-License-Identifier: MIT */
#ifndef BPFD_RULEBOOK_H
#define BPFD_RULEBOOK_H

/*
 * The daemon's live rules (docs/rules.md): those of the rules directory and those
 * created over the socket, and the compiled ruleset the pipeline matches
 * against.
 *
 * - A file's rules belong to that file. Files are read in load order (by
 *   name, `*.local.toml` after the others); two files with one rule name:
 *   the later wins, with a warning. The lists and overrides of all files
 *   are collected first and every file's rules are read against them, so
 *   a change to any file reads them all again. `rm` removes a file's rule
 *   until the file changes. An edit that breaks a file keeps its last good
 *   rules active, and the error is reported; so is an override of a rule
 *   or list that does not exist.
 * - A rule created over the socket lives until `rm` or a restart and
 *   replaces a rule of the same name (file or socket) while it lives.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rules.h"

/* Rules one daemon holds at most by default: files and created ones together. */
enum { RULEBOOK_RULES_MAX = 10000 };

struct rulebook;

/* Called for each problem found while loading (file:line: message). */
typedef void (*rulebook_report_fn)(const char *message);

/*
 * What the rulebook asks of the daemon's actions, each with @ctx: @kind
 * judges a rule's action names while it is read; @resolve returns the
 * instance that runs action @name (NULL with the reason in @err when there
 * can be none). Every rule's actions are resolved, and bound to the rule
 * (rule_bind_action), each time the set of active rules is built: the
 * event path runs rule_action_instance() and never looks a name up.
 * Instances must live as long as the rulebook.
 */
struct rulebook_actions {
	rule_action_fn kind;
	void *(*resolve)(void *ctx, const char *name, char *err, size_t size);
	void *ctx;
};

/* @actions may be NULL: any action name is accepted and nothing is bound. */
struct rulebook *rulebook_new(const char *dir, const struct rulebook_actions *actions,
			      rulebook_report_fn report);
void rulebook_free(struct rulebook *rb);

/* The most rules it holds (config max_rules); 0: RULEBOOK_RULES_MAX. */
void rulebook_set_max_rules(struct rulebook *rb, size_t max);

/*
 * Re-reads the rules directory (a missing directory holds no rules).
 * Returns true when the active rules changed.
 */
bool rulebook_reload(struct rulebook *rb);

/*
 * The drop-in tracers changed (a reload): every rule file is read again,
 * against the tracers' keys as they are now, and the created rules are
 * bound to their tracers' new slots; a rule whose tracer is gone (a file's
 * last good version, a created rule) is dropped and reported.
 */
void rulebook_tracers_changed(struct rulebook *rb);

/*
 * Adds or replaces a rule from @text (create_rule), read against the
 * directory's lists and overrides. @file names the source
 * for the default name and messages. 0 with the rule's name in @name and
 * whether it replaced one in *@replaced, or -EINVAL with @err filled
 * (-E2BIG when the most rules it may hold are already held).
 */
int rulebook_create(struct rulebook *rb, const char *file, const char *text, size_t len,
		    char *name, size_t name_size, bool *replaced, struct rule_error *err);

/* Removes the rule @name: 0, or -ENOENT. */
int rulebook_remove(struct rulebook *rb, const char *name);

/* The active rules, sorted by name; @source says where each came from. */
size_t rulebook_count(const struct rulebook *rb);
const struct rule *rulebook_at(const struct rulebook *rb, size_t i, const char **source);

/* The compiled set of the active rules (rebuilt on every change). */
const struct ruleset *rulebook_ruleset(const struct rulebook *rb);

#endif
