// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the rule reader: TOML text through rule_parse()
 * and, when a rule comes out, through matching. Built and run by
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

/* The tracer table rules validate against, without the BPF programs. */
static const char *const exec_keys[] = { "filename", "argv", "command", "returnval", NULL };
static const char *const open_keys[] = { "filename", "flags", "command", "returnval", NULL };
static const char *const bash_keys[] = { "command", NULL };
static const char *const dob_keys[] = { "filename", "path", "reason", "command", "returnval",
					NULL };
static const struct tracer_hook no_hooks[] = { { 0 } };
static const struct tracer_ops fake[] = {
	{ .name = "exec", .keys = exec_keys, .hooks = no_hooks },
	{ .name = "open", .keys = open_keys, .hooks = no_hooks },
	{ .name = "bashreadline", .keys = bash_keys, .hooks = no_hooks },
	{ .name = "dockeropenbreakout", .keys = dob_keys, .hooks = no_hooks },
};
const struct tracer_ops *const tracer_table[] = { &fake[0], &fake[1], &fake[2], &fake[3], NULL };
const size_t tracer_count = 4;

const struct tracer_ops *tracer_find(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < tracer_count; i++) {
		if (strcmp(tracer_table[i]->name, name) == 0) {
			if (index)
				*index = i;
			return tracer_table[i];
		}
	}
	return NULL;
}

int tracer_has_key(const struct tracer_ops *t, const char *key)
{
	const char *const *k;

	for (k = t->keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

static bool any_action(const char *name)
{
	return strcmp(name, "stdout") == 0 || strncmp(name, "webhook", 7) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_error err;
	struct rule *r = NULL;
	struct ruleset *set;
	struct event ev;
	const struct rule *matched[4];

	if (rule_parse("fuzz.toml", (const char *)data, size, any_action, &r, &err) < 0) {
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
