// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the rule reader: TOML text through rule_parse()
 * and, when a rule comes out, through matching; and the same text as a
 * file of a rules directory (rule_doc_read(), its lists and overrides in a
 * library, its [[rule]] tables against them, the lints). Built and run by
 * scripts/fuzz (CI runs it for a bounded time); the seed corpus is
 * tests/fuzz/corpus_rules (the example rules and the TOML corpus).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "rules.h"
#include "tracer.h"

/* The tracer table: the daemon's own (tracers.c), as scripts/fuzz links it. */

static int any_action(void *ctx, const char *name, char *why, size_t size)
{
	(void)why;
	(void)size;
	if (strcmp(name, "kill") == 0)
		return RULE_ACTION_DESTRUCTIVE;
	return strcmp(name, "stdout") == 0 || strncmp(name, "webhook", 7) == 0
		       ? RULE_ACTION_OK
		       : RULE_ACTION_UNKNOWN;
}

static void no_message(void *ctx, const char *message)
{
	(void)ctx;
	if (!message[0])
		abort();
}

static void no_unused(void *ctx, bool error, const char *file, unsigned int line,
		      const char *message)
{
	(void)ctx;
	(void)error;
	(void)file;
	(void)line;
	if (!message[0])
		abort();
}

/* The input as a rules directory's one file: it may use its own lists and overrides. */
static void as_library_file(const uint8_t *data, size_t size)
{
	struct rule_library *lib = rule_library_new();
	struct rule_doc *doc = NULL;
	struct rule **rules = NULL;
	struct rule_error err;
	size_t n = 0, i;

	if (!lib)
		return;
	if (rule_doc_read("fuzz.toml", (const char *)data, size, &doc, &err) == 0 &&
	    rule_library_add(lib, doc, &err) == 0 &&
	    rule_doc_rules(doc, lib, any_action, NULL, &rules, &n, &err) == 0) {
		for (i = 0; i < n; i++) {
			rule_lint(rules[i], no_message, NULL);
			rule_free(rules[i]);
		}
		free(rules);
		rule_library_unused(lib, no_unused, NULL);
	}
	rule_doc_free(doc);
	rule_library_free(lib);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_error err;
	struct rule *r = NULL;
	struct ruleset *set;
	struct event ev;
	const struct rule *matched[4];

	as_library_file(data, size);
	if (rule_parse("fuzz.toml", (const char *)data, size, any_action, NULL, &r, &err) < 0) {
		if (err.message[0] == '\0' || strnlen(err.message, sizeof(err.message)) ==
						      sizeof(err.message))
			abort();
		return 0;
	}
	/* A parsed rule must be usable: match it against a plain event. */
	event_init(&ev);
	ev.tracer = tracer_table[rule_tracer(r)]->name;
	ev.pid = 1;
	event_add_str(&ev, "filename", "/etc/shadow");
	event_add_str(&ev, "command", "cat");
	set = ruleset_new(&r, 1);
	if (set) {
		size_t n = ruleset_match(set, rule_tracer(r), &ev, matched, 4);

		if (n > 1 || (n == 1) != rule_matches(r, &ev))
			abort();
		ruleset_free(set);
	}
	rule_free(r);
	return 0;
}
