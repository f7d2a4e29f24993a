// SPDX-License-Identifier: MIT
/* unit.event: the event model, its JSON and text forms, time and open flags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "event.h"

#define T_2026 1795869062ull	/* 2026-11-28T12:31:02Z */
#define NS 1000000000ull

static void fill_exec(struct event *ev)
{
	event_init(ev);
	ev->tracer = "exec";
	ev->time_ns = T_2026 * NS + 123456789;
	ev->hostname = "h";
	ev->pid = 1234;
	ev->tid = 1235;
	ev->ppid = 1;
	ev->uid = 1000;
	ev->gid = 100;
	strcpy(ev->command, "bash");
	ev->returnval = 0;
	ev->cgroup_id = 1;
	ev->mntns = 4026531841ull;
	ev->pidns = 4026531836ull;
	ev->rules[ev->n_rules++] = "a";
	ev->rules[ev->n_rules++] = "b";
	assert_int_equal(event_add_str(ev, "filename", "/usr/bin/ls"), 0);
	assert_int_equal(event_add_str(ev, "argv", "ls -l"), 0);
	assert_int_equal(event_add_str(ev, "command", "bash"), 0);
	assert_int_equal(event_add_int(ev, "returnval", 0), 0);
}

static void fill_open(struct event *ev)
{
	event_init(ev);
	ev->tracer = "open";
	ev->time_ns = T_2026 * NS + 5;
	ev->hostname = "host.example";
	ev->pid = 77;
	ev->tid = 78;
	ev->ppid = 76;
	ev->uid = 0;
	strcpy(ev->command, "cat");
	ev->returnval = -2;
	ev->cgroup_id = UINT64_MAX;
	ev->container_runtime = "docker";
	ev->container_id = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";
	assert_int_equal(event_add_str(ev, "filename", "/etc/shadow"), 0);
	assert_int_equal(event_add_str(ev, "flags", "O_RDONLY|O_CLOEXEC"), 0);
	assert_int_equal(event_add_str(ev, "command", "cat"), 0);
	assert_int_equal(event_add_int(ev, "returnval", -2), 0);
}

/* The event's JSON, parsed back; u64 beyond long long are read as reals. */
static json_t *to_json(const struct event *ev, struct strbuf *sb)
{
	json_error_t err;
	json_t *root;

	strbuf_reset(sb);
	assert_int_equal(event_to_json(ev, sb), 0);
	assert_int_equal(strlen(sb->buf), sb->len);
	root = json_loadb(sb->buf, sb->len, JSON_ALLOW_NUL, &err);
	if (!root)
		root = json_loadb(sb->buf, sb->len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &err);
	if (!root)
		fail_msg("invalid JSON (%s): %s", err.text, sb->buf);
	return root;
}

static const char *json_str(json_t *obj, const char *key, size_t *len)
{
	json_t *v = json_object_get(obj, key);

	assert_true(json_is_string(v));
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

static json_int_t json_int(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static char *text_of(const struct event *ev, struct strbuf *sb);
static void round_trip(const struct event *ev);

/* ---- building ---- */

static void test_init_defaults(void **state)
{
	struct event ev;

	(void)state;
	memset(&ev, 0xa5, sizeof(ev));
	event_init(&ev);
	assert_string_equal(ev.container_runtime, "not-found");
	assert_string_equal(ev.container_id, "");
	assert_string_equal(ev.tracer, "");
	assert_int_equal(ev.n_data, 0);
	assert_int_equal(ev.n_rules, 0);
	assert_int_equal(ev.scratch_used, 0);
	assert_int_equal(ev.pid, 0);
	assert_int_equal(ev.command[0], 0);
}

static void test_add_data_overflow(void **state)
{
	static const char *keys[] = { "k0",  "k1",  "k2",  "k3",  "k4",  "k5",
				      "k6",  "k7",  "k8",  "k9",  "k10", "k11",
				      "k12", "k13", "k14", "k15", "k16" };
	struct event ev;
	size_t len;

	(void)state;
	event_init(&ev);
	for (int i = 0; i < EVENT_DATA_MAX; i++)
		assert_int_equal(event_add_data(&ev, keys[i], "v", 1), 0);
	assert_int_equal(event_add_data(&ev, keys[EVENT_DATA_MAX], "v", 1), -ENOSPC);
	assert_int_equal(event_add_str(&ev, keys[EVENT_DATA_MAX], "v"), -ENOSPC);
	assert_int_equal(event_add_int(&ev, keys[EVENT_DATA_MAX], 1), -ENOSPC);
	/* A failed add_int must not have used scratch space. */
	assert_int_equal(ev.scratch_used, 0);
	assert_int_equal(ev.n_data, EVENT_DATA_MAX);

	/* data is a map: an existing key is replaced, even when full. */
	assert_int_equal(event_add_str(&ev, "k3", "new"), 0);
	assert_int_equal(ev.n_data, EVENT_DATA_MAX);
	assert_string_equal(event_get_data(&ev, "k3", &len), "new");
	assert_int_equal(len, 3);
	assert_null(event_get_data(&ev, "nope", &len));
	assert_non_null(event_get_data(&ev, "k0", NULL));
}

static void test_add_int_and_scratch(void **state)
{
	struct event ev;
	const char *v;
	size_t len;

	(void)state;
	event_init(&ev);
	assert_int_equal(event_add_int(&ev, "neg", INT64_MIN), 0);
	v = event_get_data(&ev, "neg", &len);
	assert_int_equal(len, 20);
	assert_memory_equal(v, "-9223372036854775808", 20);
	assert_int_equal(event_add_int(&ev, "max", INT64_MAX), 0);
	v = event_get_data(&ev, "max", &len);
	assert_int_equal(len, 19);
	assert_string_equal(v, "9223372036854775807");
	assert_int_equal(event_add_int(&ev, "zero", 0), 0);
	assert_string_equal(event_get_data(&ev, "zero", NULL), "0");

	/* 21 + 20 + 2 bytes are used: leave room for exactly one more 20-digit number. */
	assert_int_equal(ev.scratch_used, 43);
	assert_non_null(event_scratch_alloc(&ev, EVENT_SCRATCH - 43 - 21));
	assert_int_equal(event_add_int(&ev, "a", INT64_MIN), 0);
	assert_int_equal(ev.scratch_used, EVENT_SCRATCH);
	assert_int_equal(event_add_int(&ev, "b", 0), -ENOSPC);
	assert_null(event_get_data(&ev, "b", NULL));
	assert_int_equal(ev.n_data, 4);
	/* Earlier values are intact. */
	assert_string_equal(event_get_data(&ev, "neg", NULL), "-9223372036854775808");
	assert_string_equal(event_get_data(&ev, "a", NULL), "-9223372036854775808");

	/* One byte short of a 20-digit number and its NUL. */
	event_init(&ev);
	assert_non_null(event_scratch_alloc(&ev, EVENT_SCRATCH - 20));
	assert_int_equal(event_add_int(&ev, "x", INT64_MIN), -ENOSPC);
	assert_int_equal(ev.scratch_used, EVENT_SCRATCH - 20);
	assert_int_equal(event_add_int(&ev, "x", -999999999999999999ll), 0);
	assert_int_equal(ev.scratch_used, EVENT_SCRATCH);
}

static void test_scratch_alloc(void **state)
{
	struct event ev;
	char *a, *b;

	(void)state;
	event_init(&ev);
	a = event_scratch_alloc(&ev, 100);
	b = event_scratch_alloc(&ev, 200);
	assert_non_null(a);
	assert_ptr_equal(b, a + 100);
	memset(a, 'a', 100);
	memset(b, 'b', 200);
	assert_null(event_scratch_alloc(&ev, EVENT_SCRATCH - 299));
	assert_int_equal(ev.scratch_used, 300);
	assert_non_null(event_scratch_alloc(&ev, EVENT_SCRATCH - 300));
	assert_null(event_scratch_alloc(&ev, 1));
	assert_non_null(event_scratch_alloc(&ev, 0));
	assert_null(event_scratch_alloc(&ev, SIZE_MAX));
	/* event_init gives the space back. */
	event_init(&ev);
	assert_ptr_equal(event_scratch_alloc(&ev, 1), a);
}

static void test_json_keys_and_types(void **state)
{
	static const char *order[] = {
		"tracer", "time", "hostname", "pid", "tid", "ppid", "uid", "gid", "command",
		"returnval", "cgroup_id", "mntns", "pidns", "container_runtime", "container_id",
		"rules", "data",
	};
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root, *v, *rules, *data;
	const char *key;
	size_t i = 0;

	(void)state;
	fill_exec(&ev);
	root = to_json(&ev, &sb);
	assert_true(!strncmp(sb.buf, "{\"tracer\":", 10));
	assert_null(strchr(sb.buf, '\n'));

	assert_int_equal(json_object_size(root), sizeof(order) / sizeof(order[0]));
	json_object_foreach(root, key, v) {
		assert_string_equal(key, order[i]);
		i++;
	}
	assert_string_equal(json_str(root, "tracer", NULL), "exec");
	assert_string_equal(json_str(root, "time", NULL), "2026-11-28T12:31:02.123456789Z");
	assert_string_equal(json_str(root, "hostname", NULL), "h");
	assert_int_equal(json_int(root, "pid"), 1234);
	assert_int_equal(json_int(root, "tid"), 1235);
	assert_int_equal(json_int(root, "ppid"), 1);
	assert_int_equal(json_int(root, "uid"), 1000);
	assert_int_equal(json_int(root, "gid"), 100);
	assert_string_equal(json_str(root, "command", NULL), "bash");
	assert_int_equal(json_int(root, "returnval"), 0);
	assert_int_equal(json_int(root, "cgroup_id"), 1);
	assert_int_equal(json_int(root, "mntns"), 4026531841ll);
	assert_int_equal(json_int(root, "pidns"), 4026531836ll);
	assert_string_equal(json_str(root, "container_runtime", NULL), "not-found");
	assert_string_equal(json_str(root, "container_id", NULL), "");

	rules = json_object_get(root, "rules");
	assert_true(json_is_array(rules));
	assert_int_equal(json_array_size(rules), 2);
	assert_string_equal(json_string_value(json_array_get(rules, 0)), "a");
	assert_string_equal(json_string_value(json_array_get(rules, 1)), "b");

	data = json_object_get(root, "data");
	assert_true(json_is_object(data));
	assert_int_equal(json_object_size(data), 4);
	assert_string_equal(json_str(data, "filename", NULL), "/usr/bin/ls");
	assert_string_equal(json_str(data, "argv", NULL), "ls -l");
	assert_string_equal(json_str(data, "command", NULL), "bash");
	assert_string_equal(json_str(data, "returnval", NULL), "0");
	/* data keeps the tracer's order */
	i = 0;
	json_object_foreach(data, key, v) {
		static const char *dorder[] = { "filename", "argv", "command", "returnval" };

		assert_string_equal(key, dorder[i++]);
	}
	json_decref(root);
	strbuf_release(&sb);
}

static void test_json_exact(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	fill_exec(&ev);
	ev.uid = 0;
	ev.gid = 0;
	ev.tid = 1234;
	assert_int_equal(event_to_json(&ev, &sb), 0);
	assert_string_equal(sb.buf,
		"{\"tracer\":\"exec\",\"time\":\"2026-11-28T12:31:02.123456789Z\",\"hostname\":\"h\","
		"\"pid\":1234,\"tid\":1234,\"ppid\":1,\"uid\":0,\"gid\":0,\"command\":\"bash\","
		"\"returnval\":0,\"cgroup_id\":1,\"mntns\":4026531841,\"pidns\":4026531836,"
		"\"container_runtime\":\"not-found\",\"container_id\":\"\",\"rules\":[\"a\",\"b\"],"
		"\"data\":{\"filename\":\"/usr/bin/ls\",\"argv\":\"ls -l\",\"command\":\"bash\","
		"\"returnval\":\"0\"}}");
	strbuf_release(&sb);
}

static void test_json_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	fill_exec(&ev);
	assert_int_equal(strbuf_addstr(&sb, "prefix:"), 0);
	assert_int_equal(event_to_json(&ev, &sb), 0);
	assert_true(!strncmp(sb.buf, "prefix:{\"tracer\":\"exec\",", 24));
	assert_int_equal(sb.buf[sb.len - 1], '}');
	strbuf_release(&sb);
}

static void test_json_escaping(void **state)
{
	static const char raw[] = "q\"b\\s/n\nt\tr\rb\bf\fx\x01y\x1f" "del\x7f";
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;
	const char *s;
	size_t len;

	(void)state;
	fill_exec(&ev);
	ev.n_data = 0;
	assert_int_equal(event_add_str(&ev, "v", raw), 0);
	strcpy(ev.command, "a\"b\\c\n");
	ev.hostname = "tab\there";
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf,
		"\"v\":\"q\\\"b\\\\s/n\\nt\\tr\\rb\\bf\\fx\\u0001y\\u001fdel\x7f\""));
	assert_non_null(strstr(sb.buf, "\"command\":\"a\\\"b\\\\c\\n\""));
	assert_non_null(strstr(sb.buf, "\"hostname\":\"tab\\there\""));
	s = json_str(json_object_get(root, "data"), "v", &len);
	assert_int_equal(len, sizeof(raw) - 1);
	assert_memory_equal(s, raw, len);
	assert_string_equal(json_str(root, "command", NULL), "a\"b\\c\n");
	json_decref(root);
	strbuf_release(&sb);
}

static void test_json_nul_in_value(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;
	const char *s;
	size_t len;

	(void)state;
	fill_exec(&ev);
	ev.n_data = 0;
	assert_int_equal(event_add_data(&ev, "argv", "ls\0-l\0", 6), 0);
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf, "\"argv\":\"ls\\u0000-l\\u0000\""));
	s = json_str(json_object_get(root, "data"), "argv", &len);
	assert_int_equal(len, 6);
	assert_memory_equal(s, "ls\0-l\0", 6);
	json_decref(root);
	strbuf_release(&sb);
}

#define FFFD "\xef\xbf\xbd"

static const struct {
	const char *in;
	size_t len;
	const char *out;
} utf8_cases[] = {
#define C(in, out) { in, sizeof(in) - 1, out }
	C("\xff", FFFD),
	C("\xfe\xff", FFFD FFFD),
	C("a\x80z", "a" FFFD "z"),				/* lone continuation */
	C("\xbf\xbf", FFFD FFFD),
	C("\xc0\xaf", FFFD FFFD),				/* overlong '/' */
	C("\xc1\xbf", FFFD FFFD),
	C("\xe0\x80\xaf", FFFD FFFD FFFD),			/* overlong, 3 bytes */
	C("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD),		/* overlong, 4 bytes */
	C("\xed\xa0\x80", FFFD FFFD FFFD),			/* surrogate U+D800 */
	C("\xed\xbf\xbf", FFFD FFFD FFFD),			/* surrogate U+DFFF */
	C("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD),		/* U+110000 */
	C("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD),
	C("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD),	/* 5-byte form */
	C("\xe2\x82", FFFD),					/* truncated at the end */
	C("\xe2\x82z", FFFD "z"),				/* truncated, then ASCII */
	C("\xf0\x9f\x98", FFFD),				/* truncated 4-byte */
	C("\xf0\x9f\x98\xe2\x82\xac", FFFD "\xe2\x82\xac"),	/* truncated, then valid */
	C("\xc3", FFFD),
	C("x\xc3(", "x" FFFD "("),
	C("\"\xff\\", "\"" FFFD "\\"),
#undef C
};

static void test_json_invalid_utf8(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		json_t *root;
		const char *s;
		size_t len;

		fill_exec(&ev);
		ev.n_data = 0;
		assert_int_equal(event_add_data(&ev, "v", utf8_cases[i].in, utf8_cases[i].len), 0);
		/* The same sanitising for every string of the event. */
		ev.hostname = utf8_cases[i].in;
		memcpy(ev.command, utf8_cases[i].in, utf8_cases[i].len);
		ev.command[utf8_cases[i].len] = '\0';
		ev.rules[0] = utf8_cases[i].in;
		root = to_json(&ev, &sb);
		s = json_str(json_object_get(root, "data"), "v", &len);
		assert_int_equal(len, strlen(utf8_cases[i].out));
		assert_memory_equal(s, utf8_cases[i].out, len);
		assert_string_equal(json_str(root, "hostname", NULL), utf8_cases[i].out);
		assert_string_equal(json_str(root, "command", NULL), utf8_cases[i].out);
		assert_string_equal(json_string_value(json_array_get(json_object_get(root, "rules"),
								     0)),
				    utf8_cases[i].out);
		json_decref(root);
	}
	strbuf_release(&sb);
}

static void test_json_invalid_utf8_key(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;

	(void)state;
	event_init(&ev);
	assert_int_equal(event_add_str(&ev, "k\xff", "v"), 0);
	root = to_json(&ev, &sb);
	assert_string_equal(json_str(json_object_get(root, "data"), "k" FFFD, NULL), "v");
	json_decref(root);
	strbuf_release(&sb);
}

static void test_json_valid_utf8_kept(void **state)
{
	static const char s[] = "h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 "
				"\xef\xbf\xbd \xf4\x8f\xbf\xbf \xc2\x80 \xed\x9f\xbf \xee\x80\x80";
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;

	(void)state;
	fill_exec(&ev);
	ev.n_data = 0;
	assert_int_equal(event_add_str(&ev, "filename", s), 0);
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf, s));
	assert_string_equal(json_str(json_object_get(root, "data"), "filename", NULL), s);
	json_decref(root);
	strbuf_release(&sb);
}

static void test_json_numbers(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;

	(void)state;
	fill_open(&ev);
	ev.mntns = UINT64_MAX;
	ev.pidns = UINT64_MAX - 1;
	ev.pid = UINT32_MAX;
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf, "\"returnval\":-2,"));
	assert_non_null(strstr(sb.buf, "\"cgroup_id\":18446744073709551615,"));
	assert_non_null(strstr(sb.buf, "\"mntns\":18446744073709551615,"));
	assert_non_null(strstr(sb.buf, "\"pidns\":18446744073709551614,"));
	assert_non_null(strstr(sb.buf, "\"pid\":4294967295,"));
	assert_true(json_is_number(json_object_get(root, "cgroup_id")));
	json_decref(root);

	ev.returnval = INT64_MIN;
	ev.cgroup_id = 0;
	ev.mntns = ev.pidns = 0;
	root = to_json(&ev, &sb);
	assert_int_equal(json_int(root, "returnval"), INT64_MIN);
	assert_int_equal(json_int(root, "cgroup_id"), 0);
	json_decref(root);
	ev.returnval = INT64_MAX;
	root = to_json(&ev, &sb);
	assert_int_equal(json_int(root, "returnval"), INT64_MAX);
	json_decref(root);
	strbuf_release(&sb);
}

static void test_json_rules_and_data_empty(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;

	(void)state;
	event_init(&ev);
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf, "\"rules\":[],\"data\":{}}"));
	assert_true(json_is_array(json_object_get(root, "rules")));
	assert_int_equal(json_array_size(json_object_get(root, "rules")), 0);
	assert_int_equal(json_object_size(json_object_get(root, "data")), 0);
	assert_string_equal(json_str(root, "tracer", NULL), "");
	assert_string_equal(json_str(root, "time", NULL), "1970-01-01T00:00:00.000000000Z");
	json_decref(root);

	/* NULL strings are written as "" rather than crashing. */
	ev.tracer = NULL;
	ev.hostname = NULL;
	ev.container_id = NULL;
	root = to_json(&ev, &sb);
	assert_string_equal(json_str(root, "hostname", NULL), "");
	json_decref(root);

	ev.rules[ev.n_rules++] = "only";
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf, "\"rules\":[\"only\"]"));
	json_decref(root);
	strbuf_release(&sb);
}

static void test_json_big_values(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;
	char *big = malloc(65536);
	size_t len;

	(void)state;
	/* All escapes, the worst case for the size estimate. */
	memset(big, '\x01', 65536);
	event_init(&ev);
	for (int i = 0; i < EVENT_DATA_MAX; i++) {
		static const char *k[] = { "0", "1", "2",  "3",  "4",  "5",  "6",  "7",
					   "8", "9", "10", "11", "12", "13", "14", "15" };

		assert_int_equal(event_add_data(&ev, k[i], big, 65536), 0);
	}
	while (ev.n_rules < EVENT_RULES_MAX)
		ev.rules[ev.n_rules++] = "\x02\x03\x04";
	ev.priority = "\x05\x06";
	while (ev.n_tags < EVENT_TAGS_MAX)
		ev.tags[ev.n_tags++] = "\x02\x03\x04\x05\x06\x07\x08\x09";
	memset(ev.command, '\x1f', EVENT_COMM_LEN);
	root = to_json(&ev, &sb);
	json_str(json_object_get(root, "data"), "7", &len);
	assert_int_equal(len, 65536);
	json_decref(root);

	/* And the worst case of the text form. */
	strbuf_reset(&sb);
	assert_int_equal(event_to_text(&ev, &sb), 0);
	assert_int_equal(strlen(sb.buf), sb.len);
	free(big);
	strbuf_release(&sb);
}

/* ---- text ---- */

/*
 * The writers look at eight bytes at a time: put each special byte at every
 * offset of strings around word sizes, and check both forms.
 */
static void test_word_boundaries(void **state)
{
	static const struct {
		const char *in, *json, *text;
	} specials[] = {
		{ "\"", "\"", "\\\"" },
		{ "\\", "\\", "\\\\" },
		{ "\n", "\n", "\\n" },
		{ "\x01", "\x01", "\\x01" },
		{ "\x7f", "\x7f", "\\x7f" },
		{ "\xff", FFFD, FFFD },
		{ "\xc3\xa9", "\xc3\xa9", "\xc3\xa9" },
		{ "\xe2\x82", FFFD, FFFD },
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	};
	struct strbuf sb = STRBUF_INIT;
	char in[64], json_want[64], text_want[128];

	(void)state;
	for (size_t sp = 0; sp < sizeof(specials) / sizeof(specials[0]); sp++) {
		size_t slen = strlen(specials[sp].in);

		for (size_t len = slen; len <= 26; len++) {
			for (size_t k = 0; k + slen <= len; k++) {
				size_t tail = len - k - slen;
				struct event ev;
				json_t *root;
				const char *got;
				size_t got_len;

				memset(in, 'a', len);
				memcpy(in + k, specials[sp].in, slen);
				snprintf(json_want, sizeof(json_want), "%.*s%s%.*s", (int)k, in,
					 specials[sp].json, (int)tail, in + k + slen);
				/* A quote in the value quotes it. */
				snprintf(text_want, sizeof(text_want), " v=%s%.*s%s%.*s%s",
					 sp ? "" : "\"", (int)k, in, specials[sp].text, (int)tail,
					 in + k + slen, sp ? "" : "\"");

				event_init(&ev);
				ev.tracer = "t";
				assert_int_equal(event_add_data(&ev, "v", in, len), 0);
				root = to_json(&ev, &sb);
				got = json_str(json_object_get(root, "data"), "v", &got_len);
				assert_int_equal(got_len, strlen(json_want));
				assert_memory_equal(got, json_want, got_len);
				json_decref(root);

				text_of(&ev, &sb);
				got = strstr(sb.buf, " v=");
				assert_non_null(got);
				if (strcmp(got, text_want))
					fail_msg("text %s, want %s", got, text_want);
				round_trip(&ev);
			}
		}
	}
	strbuf_release(&sb);
}


/* The JSON shows this event's process and place, whatever came before it. */
static void assert_json_is(const struct event *ev, struct strbuf *sb)
{
	json_t *root = to_json(ev, sb);

	assert_string_equal(json_str(root, "hostname", NULL), ev->hostname);
	assert_int_equal(json_int(root, "pid"), ev->pid);
	assert_int_equal(json_int(root, "tid"), ev->tid);
	assert_int_equal(json_int(root, "ppid"), ev->ppid);
	assert_int_equal(json_int(root, "uid"), ev->uid);
	assert_int_equal(json_int(root, "gid"), ev->gid);
	assert_string_equal(json_str(root, "command", NULL), ev->command);
	assert_int_equal(json_int(root, "returnval"), ev->returnval);
	assert_int_equal(json_int(root, "cgroup_id"), ev->cgroup_id);
	assert_int_equal(json_int(root, "mntns"), ev->mntns);
	assert_int_equal(json_int(root, "pidns"), ev->pidns);
	assert_string_equal(json_str(root, "container_runtime", NULL), ev->container_runtime);
	assert_string_equal(json_str(root, "container_id", NULL), ev->container_id);
	json_decref(root);
}

/*
 * event_to_json() keeps the encoded process and place of the last event:
 * every field they cover, changed alone between two events (and changed
 * back), shows in the next event's JSON; so do strings in reused buffers
 * and strings too long to be kept.
 */
static void test_json_runs_follow_changes(void **state)
{
	static char long_host[200];
	char host[32] = "host-a", id[80] = "aaaa", runtime[16] = "docker";
	struct strbuf sb = STRBUF_INIT;
	struct event base, ev;

	(void)state;
	memset(long_host, 'h', sizeof(long_host) - 1);
	event_init(&base);
	base.tracer = "open";
	base.time_ns = T_2026 * NS;
	base.hostname = host;
	base.pid = 10;
	base.tid = 11;
	base.ppid = 9;
	base.uid = 1000;
	base.gid = 1001;
	strcpy(base.command, "cat");
	base.returnval = 3;
	base.cgroup_id = 5000;
	base.mntns = 4026531841ull;
	base.pidns = 4026531836ull;
	base.container_runtime = runtime;
	base.container_id = id;

	for (int field = 0; field < 15; field++) {
		assert_json_is(&base, &sb);
		ev = base;
		switch (field) {
		case 0: ev.pid++; break;
		case 1: ev.tid++; break;
		case 2: ev.ppid++; break;
		case 3: ev.uid++; break;
		case 4: ev.gid++; break;
		case 5: strcpy(ev.command, "cau"); break;
		case 6: strcpy(ev.command, "cat2"); break;
		case 7: strcpy(host, "host-b"); break;	/* same pointer, new text */
		case 8: ev.hostname = long_host; break;
		case 9: ev.cgroup_id++; break;
		case 10: ev.mntns++; break;
		case 11: ev.pidns++; break;
		case 12: strcpy(runtime, "podman"); break;
		case 13: strcpy(id, "aaab"); break;
		case 14: ev.container_owner_uid = 1000; break;
		}
		assert_json_is(&ev, &sb);
		assert_json_is(&ev, &sb);
		strcpy(host, "host-a");
		strcpy(runtime, "docker");
		strcpy(id, "aaaa");
	}
	/* Too long to keep, twice in a row. */
	memset(id, 'b', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	base.hostname = long_host;
	assert_json_is(&base, &sb);
	id[0] = 'c';
	assert_json_is(&base, &sb);
	strbuf_release(&sb);
}



static char *text_of(const struct event *ev, struct strbuf *sb)
{
	strbuf_reset(sb);
	assert_int_equal(event_to_text(ev, sb), 0);
	assert_int_equal(strlen(sb->buf), sb->len);
	assert_null(strchr(sb->buf, '\n'));
	assert_null(strchr(sb->buf, '\r'));
	return sb->buf;
}

static void test_text_exec(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	fill_exec(&ev);
	assert_string_equal(text_of(&ev, &sb),
			    "2026-11-28T12:31:02.123456789Z exec pid=1234 ppid=1 uid=1000 "
			    "command=bash returnval=0 container=not-found rules=a,b "
			    "filename=/usr/bin/ls argv=\"ls -l\"");
	strbuf_release(&sb);
}

/* A matched event's priority and tags: in JSON, in text, and from JSON to text. */
static void test_rule_meta(void **state)
{
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	struct event ev;
	json_t *root;

	(void)state;
	fill_exec(&ev);
	root = to_json(&ev, &sb);
	assert_null(json_object_get(root, "priority"));	/* none without it */
	assert_null(json_object_get(root, "tags"));
	json_decref(root);
	ev.priority = "error";
	ev.tags[ev.n_tags++] = "T1003.008";
	ev.tags[ev.n_tags++] = "credential";
	root = to_json(&ev, &sb);
	assert_non_null(strstr(sb.buf, "\"rules\":[\"a\",\"b\"],\"priority\":\"error\","
				       "\"tags\":[\"T1003.008\",\"credential\"],\"data\""));
	json_decref(root);
	assert_int_equal(event_json_to_text(sb.buf, sb.len, &line), 0);
	assert_non_null(strstr(line.buf, " rules=a,b priority=error filename="));
	assert_string_equal(text_of(&ev, &sb),
			    "2026-11-28T12:31:02.123456789Z exec pid=1234 ppid=1 uid=1000 "
			    "command=bash returnval=0 container=not-found rules=a,b priority=error "
			    "filename=/usr/bin/ls argv=\"ls -l\"");
	strbuf_release(&sb);
	strbuf_release(&line);
}

static void test_text_open_container(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	fill_open(&ev);
	assert_string_equal(text_of(&ev, &sb),
			    "2026-11-28T12:31:02.000000005Z open pid=77 ppid=76 uid=0 command=cat "
			    "returnval=-2 container=docker:3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
			    "3a4b5c6d7e8f9a0b1c2d3e4f filename=/etc/shadow flags=O_RDONLY|O_CLOEXEC");
	strbuf_release(&sb);
}

/* A user's container: the owner in JSON, in text, and back from JSON to text. */
static void test_container_owner(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	fill_open(&ev);
	ev.container_owner_uid = 1000;
	assert_non_null(strstr(text_of(&ev, &sb), " container_owner_uid=1000 "));
	strbuf_reset(&sb);
	assert_int_equal(event_to_json(&ev, &sb), 0);
	assert_non_null(strstr(sb.buf, "\"container_id\":\"3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
				      "3a4b5c6d7e8f9a0b1c2d3e4f\",\"container_owner_uid\":1000,"));
	round_trip(&ev);
	/* The system's containers have none. */
	fill_open(&ev);
	strbuf_reset(&sb);
	assert_int_equal(event_to_json(&ev, &sb), 0);
	assert_null(strstr(sb.buf, "container_owner_uid"));
	strbuf_release(&sb);
}

/* The process table's exe and ancestors: JSON, text, and back from JSON to text. */
static void test_ancestors(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	fill_exec(&ev);
	ev.has_process = true;
	ev.exe = "/usr/bin/ls";
	ev.exe_len = 11;
	ev.n_ancestors = 2;
	ev.ancestors[0] = (struct event_process){ .pid = 9, .command = "sh", .command_len = 2,
						  .exe = "/usr/bin/dash", .exe_len = 13,
						  .argv = "sh -c \"ls\"", .argv_len = 10 };
	ev.ancestors[1] = (struct event_process){ .pid = 1, .command = "nginx x", .command_len = 7 };
	assert_int_equal(event_to_json(&ev, &sb), 0);
	assert_non_null(strstr(sb.buf, ",\"exe\":\"/usr/bin/ls\",\"ancestors\":[{\"pid\":9,"
				      "\"command\":\"sh\",\"exe\":\"/usr/bin/dash\",\"argv\":"
				      "\"sh -c \\\"ls\\\"\"},{\"pid\":1,\"command\":\"nginx x\"}],"
				      "\"rules\""));
	strbuf_reset(&sb);
	assert_non_null(strstr(text_of(&ev, &sb),
			       " container=not-found exe=/usr/bin/ls ancestors=\"9:sh,1:nginx x\" "
			       "rules=a,b"));
	round_trip(&ev);
	/* The table on, nothing known: an empty list, no exe. */
	fill_exec(&ev);
	ev.has_process = true;
	strbuf_reset(&sb);
	assert_int_equal(event_to_json(&ev, &sb), 0);
	assert_non_null(strstr(sb.buf, "\"ancestors\":[],\"rules\""));
	assert_null(strstr(sb.buf, "\"exe\""));
	round_trip(&ev);
	strbuf_release(&sb);
}

static void test_text_bashreadline(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	event_init(&ev);
	ev.tracer = "bashreadline";
	ev.time_ns = T_2026 * NS;
	ev.pid = 10;
	ev.ppid = 9;
	strcpy(ev.command, "bash");
	assert_int_equal(event_add_str(&ev, "command", "cat /etc/shadow"), 0);
	/* data.command differs from the comm: it is printed. */
	assert_string_equal(text_of(&ev, &sb),
			    "2026-11-28T12:31:02.000000000Z bashreadline pid=10 ppid=9 uid=0 "
			    "command=bash returnval=0 container=not-found "
			    "data.command=\"cat /etc/shadow\"");
	/* A data.returnval unlike the returnval too. */
	assert_int_equal(event_add_str(&ev, "returnval", "7"), 0);
	assert_non_null(strstr(text_of(&ev, &sb), "\" data.returnval=7"));
	strbuf_release(&sb);
}

static void test_text_escaping(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	const char *line;

	(void)state;
	event_init(&ev);
	ev.tracer = "t";
	strcpy(ev.command, "Web Content");
	assert_int_equal(event_add_str(&ev, "nl", "a\nb\tc\rd"), 0);
	assert_int_equal(event_add_str(&ev, "q", "say \"hi\""), 0);
	assert_int_equal(event_add_str(&ev, "bs", "C:\\x"), 0);
	assert_int_equal(event_add_str(&ev, "empty", ""), 0);
	assert_int_equal(event_add_data(&ev, "ctl", "\x01\x1b[31m\x7f\0z", 9), 0);
	assert_int_equal(event_add_str(&ev, "c1", "\xc2\x9b" "2J \xc3\xa9"), 0);
	assert_int_equal(event_add_str(&ev, "bad", "\xff\xc0"), 0);
	assert_int_equal(event_add_str(&ev, "apos", "it's"), 0);
	line = text_of(&ev, &sb);
	assert_string_equal(line,
			    "1970-01-01T00:00:00.000000000Z t pid=0 ppid=0 uid=0 "
			    "command=\"Web Content\" returnval=0 container=not-found "
			    "nl=a\\nb\\tc\\rd q=\"say \\\"hi\\\"\" bs=C:\\\\x empty=\"\" "
			    "ctl=\\x01\\x1b[31m\\x7f\\x00z c1=\"\\xc2\\x9b2J \xc3\xa9\" "
			    "bad=" FFFD FFFD " apos=\"it's\"");
	/* No byte below 0x20 or DEL ever reaches the terminal. */
	for (const char *p = line; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	strbuf_release(&sb);
}

static void test_text_rules_quoted(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;

	(void)state;
	event_init(&ev);
	ev.tracer = "exec";
	ev.rules[ev.n_rules++] = "shell in container";
	ev.rules[ev.n_rules++] = "b";
	assert_non_null(strstr(text_of(&ev, &sb), " rules=\"shell in container,b\""));
	strbuf_release(&sb);
}

static void round_trip(const struct event *ev)
{
	struct strbuf json = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;

	assert_int_equal(event_to_json(ev, &json), 0);
	assert_int_equal(event_to_text(ev, &a), 0);
	assert_int_equal(event_json_to_text(json.buf, json.len, &b), 0);
	if (strcmp(a.buf, b.buf))
		fail_msg("drift:\n struct: %s\n json:   %s\n from:   %s", a.buf, b.buf, json.buf);
	assert_int_equal(a.len, b.len);
	strbuf_release(&json);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* More rules matched than an event lists: the count of the others, in JSON and text alike. */
static void test_rules_omitted(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;
	size_t i;

	(void)state;
	fill_exec(&ev);
	ev.n_rules = 0;
	for (i = 0; i < EVENT_RULES_MAX; i++)
		ev.rules[ev.n_rules++] = "r";
	ev.rules_omitted = 8;
	root = to_json(&ev, &sb);
	assert_int_equal(json_array_size(json_object_get(root, "rules")), EVENT_RULES_MAX);
	assert_int_equal(json_integer_value(json_object_get(root, "rules_omitted")), 8);
	json_decref(root);
	round_trip(&ev);
	strbuf_reset(&sb);
	assert_int_equal(event_to_text(&ev, &sb), 0);
	assert_non_null(strstr(sb.buf, ",r rules_omitted=8"));
	strbuf_release(&sb);
}

static void test_json_to_text_same_line(void **state)
{
	struct event ev;

	(void)state;
	fill_exec(&ev);
	round_trip(&ev);
	fill_open(&ev);
	round_trip(&ev);

	event_init(&ev);
	round_trip(&ev);

	/* Every awkward byte, in every string. */
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		fill_open(&ev);
		ev.tracer = utf8_cases[i].in;
		ev.hostname = utf8_cases[i].in;
		ev.container_id = utf8_cases[i].in;
		memcpy(ev.command, utf8_cases[i].in, utf8_cases[i].len);
		ev.command[utf8_cases[i].len] = '\0';
		ev.rules[ev.n_rules++] = utf8_cases[i].in;
		assert_int_equal(event_add_data(&ev, "v", utf8_cases[i].in, utf8_cases[i].len), 0);
		round_trip(&ev);
	}

	/* A comm of ill-formed bytes grows past ev->command once sanitised. */
	fill_exec(&ev);
	memset(ev.command, 0xff, EVENT_COMM_LEN);
	assert_int_equal(event_add_data(&ev, "command", ev.command, EVENT_COMM_LEN), 0);
	round_trip(&ev);
	/* Equal only after sanitising: skipped on both sides. */
	assert_int_equal(event_add_data(&ev, "command", "\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe"
					"\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe", EVENT_COMM_LEN), 0);
	round_trip(&ev);

	/* Controls, NUL, quotes, C1, empty values, big numbers. */
	fill_open(&ev);
	ev.returnval = INT64_MIN;
	ev.cgroup_id = ev.mntns = ev.pidns = UINT64_MAX;
	ev.pid = ev.ppid = ev.uid = UINT32_MAX;
	ev.time_ns = UINT64_MAX;
	strcpy(ev.command, "a b\"c\\\n");
	ev.n_data = 0;
	assert_int_equal(event_add_data(&ev, "argv", "x\0y \"z\" \\ \x01\x7f\xc2\x85", 14), 0);
	assert_int_equal(event_add_str(&ev, "empty", ""), 0);
	assert_int_equal(event_add_str(&ev, "command", "a b\"c\\\n"), 0);
	assert_int_equal(event_add_int(&ev, "returnval", INT64_MIN), 0);
	ev.rules[ev.n_rules++] = "r 1";
	ev.rules[ev.n_rules++] = "";
	round_trip(&ev);

	/* bashreadline: data.command is not the comm. */
	fill_exec(&ev);
	ev.tracer = "bashreadline";
	ev.n_data = 0;
	ev.n_rules = 0;
	assert_int_equal(event_add_str(&ev, "command", "echo \xe6\x97\xa5\t|"), 0);
	round_trip(&ev);
}

/* Random bytes, biased towards the interesting ones, in every string: JSON stays valid, text agrees. */
static void test_random_bytes(void **state)
{
	static const unsigned char pool[] = {
		'a', ' ', '"', '\\', '\'', '\n', 0, 0x01, 0x1f, 0x7f, 0x80, 0x9b, 0xbf, 0xc0, 0xc2,
		0xc3, 0xa9, 0xe0, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0xf4, 0x8f, 0xf5, 0xff,
	};
	struct strbuf sb = STRBUF_INIT;
	unsigned seed = 12345;
	char bufs[6][40];

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		struct event ev;
		size_t lens[6];
		json_t *root;

		for (int b = 0; b < 6; b++) {
			lens[b] = (seed = seed * 1103515245 + 12345) >> 16 & 31;
			for (size_t j = 0; j < lens[b]; j++) {
				seed = seed * 1103515245 + 12345;
				bufs[b][j] = (seed >> 16) & 1 ? pool[(seed >> 17) % sizeof(pool)]
							     : (char)(seed >> 20);
			}
			bufs[b][lens[b]] = '\0';
		}
		event_init(&ev);
		ev.tracer = bufs[0];
		ev.hostname = bufs[1];
		ev.container_id = bufs[2];
		memcpy(ev.command, bufs[3], lens[3] < EVENT_COMM_LEN ? lens[3] : EVENT_COMM_LEN);
		ev.rules[ev.n_rules++] = bufs[4];
		assert_int_equal(event_add_data(&ev, "v", bufs[5], lens[5]), 0);
		assert_int_equal(event_add_data(&ev, "command", bufs[3], lens[3]), 0);
		root = to_json(&ev, &sb);
		json_decref(root);
		text_of(&ev, &sb);
		round_trip(&ev);
	}
	strbuf_release(&sb);
}

static char *json_without(const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;
	char *s;

	fill_exec(&ev);
	assert_int_equal(event_to_json(&ev, &sb), 0);
	root = json_loads(sb.buf, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_object_del(root, key), 0);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	strbuf_release(&sb);
	return s;
}

static char *json_with(const char *key, json_t *value)
{
	struct strbuf sb = STRBUF_INIT;
	struct event ev;
	json_t *root;
	char *s;

	fill_exec(&ev);
	assert_int_equal(event_to_json(&ev, &sb), 0);
	root = json_loads(sb.buf, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_object_set_new(root, key, value), 0);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	strbuf_release(&sb);
	return s;
}

static void expect_einval(const char *json)
{
	struct strbuf sb = STRBUF_INIT;

	if (event_json_to_text(json, strlen(json), &sb) != -EINVAL)
		fail_msg("accepted: %s", json);
	strbuf_release(&sb);
}

static void test_json_to_text_rejects(void **state)
{
	static const char *keys[] = {
		"tracer", "time", "hostname", "pid", "tid", "ppid", "uid", "gid", "command",
		"returnval", "cgroup_id", "mntns", "pidns", "container_runtime", "container_id",
		"rules", "data",
	};
	static const char *bad_times[] = {
		"", "2026-11-28", "2026-11-28T12:31:02", "2026-11-28T12:31:02.Z",
		"2026-11-28T12:31:02.1234567890Z", "2026-02-30T00:00:00Z", "1969-12-31T23:59:59Z",
		"2026-11-28 12:31:02Z", "2026-11-28T12:31:02+01:00", "2026-13-01T00:00:00Z",
		"2026-11-28T25:00:00Z", "2026-11-28T12:31:02.5Zx", "x026-11-28T12:31:02Z",
	};
	struct strbuf sb = STRBUF_INIT;
	char *s;

	(void)state;
	expect_einval("");
	expect_einval("[]");
	expect_einval("42");
	expect_einval("\"event\"");
	expect_einval("null");
	expect_einval("{}");
	expect_einval("{\"tracer\":\"exec\"");
	expect_einval("{\"tracer\":\"exec\"} trailing");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		s = json_without(keys[i]);
		expect_einval(s);
		free(s);
	}
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		s = json_with("time", json_string(bad_times[i]));
		expect_einval(s);
		free(s);
	}

#define BAD(key, value)                          \
	do {                                     \
		s = json_with(key, value);       \
		expect_einval(s);                \
		free(s);                         \
	} while (0)
	BAD("tracer", json_integer(1));
	BAD("pid", json_string("1"));
	BAD("pid", json_integer(-1));
	BAD("pid", json_integer(4294967296ll));
	BAD("pid", json_real(1.5));
	BAD("uid", json_null());
	BAD("returnval", json_string("0"));
	BAD("cgroup_id", json_integer(-1));
	BAD("cgroup_id", json_string("1"));
	BAD("command", json_true());
	BAD("rules", json_object());
	BAD("rules", json_pack("[s,i]", "a", 1));
	BAD("data", json_array());
	BAD("data", json_pack("{s:i}", "k", 1));
	/* EVENT_DATA_MAX + 1 keys. */
	BAD("data", json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			      "1", "", "2", "", "3", "", "4", "", "5", "", "6", "", "7", "", "8", "",
			      "9", "", "10", "", "11", "", "12", "", "13", "", "14", "", "15", "",
			      "16", "", "17", ""));
#undef BAD

	/* Integers too big for jansson where the text needs them are refused. */
	expect_einval("{\"tracer\":\"exec\",\"time\":\"2026-11-28T12:31:02.123456789Z\","
		      "\"hostname\":\"h\",\"pid\":18446744073709551615,\"tid\":1,\"ppid\":0,"
		      "\"uid\":0,\"gid\":0,\"command\":\"c\",\"returnval\":0,\"cgroup_id\":1,"
		      "\"mntns\":1,\"pidns\":1,\"container_runtime\":\"not-found\","
		      "\"container_id\":\"\",\"rules\":[],\"data\":{}}");
	expect_einval("{\"tracer\":\"exec\",\"time\":\"2026-11-28T12:31:02.123456789Z\","
		      "\"hostname\":\"h\",\"pid\":1,\"tid\":1,\"ppid\":0,"
		      "\"uid\":0,\"gid\":0,\"command\":\"c\",\"returnval\":-18446744073709551615,"
		      "\"cgroup_id\":1,\"mntns\":1,\"pidns\":1,\"container_runtime\":\"not-found\","
		      "\"container_id\":\"\",\"rules\":[],\"data\":{}}");

	/* Nothing was appended by the failures above; a good event still works. */
	s = json_with("time", json_string("2026-11-28T12:31:02.5Z"));
	assert_int_equal(event_json_to_text(s, strlen(s), &sb), 0);
	assert_true(!strncmp(sb.buf, "2026-11-28T12:31:02.500000000Z exec pid=1234 ", 45));
	free(s);
	s = json_with("time", json_string("2024-02-29T23:59:59Z"));
	strbuf_reset(&sb);
	assert_int_equal(event_json_to_text(s, strlen(s), &sb), 0);
	assert_true(!strncmp(sb.buf, "2024-02-29T23:59:59.000000000Z exec ", 36));
	free(s);
	/* Pretty-printed JSON with big u64s is fine too. */
	s = json_with("cgroup_id", json_integer(1));
	{
		json_t *root = json_loads(s, 0, NULL);
		char *pretty = json_dumps(root, JSON_INDENT(2));
		char *p = strstr(pretty, "\"cgroup_id\": 1");
		size_t size = strlen(pretty) + 32;
		char *big = malloc(size);

		if (!big || !p)
			fail();
		snprintf(big, size, "%.*s\"cgroup_id\":\t18446744073709551615%s", (int)(p - pretty),
			pretty, p + strlen("\"cgroup_id\": 1"));
		strbuf_reset(&sb);
		assert_int_equal(event_json_to_text(big, strlen(big), &sb), 0);
		free(big);
		free(pretty);
		json_decref(root);
	}
	free(s);
	strbuf_release(&sb);
}

/* ---- time ---- */

static void test_time(void **state)
{
	char buf[EVENT_TIME_LEN];

	(void)state;
	event_format_time(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	event_format_time(T_2026 * NS + 123456789, buf);
	assert_string_equal(buf, "2026-11-28T12:31:02.123456789Z");
	event_format_time(T_2026 * NS + 5, buf);
	assert_string_equal(buf, "2026-11-28T12:31:02.000000005Z");
	event_format_time(T_2026 * NS + 100000000, buf);
	assert_string_equal(buf, "2026-11-28T12:31:02.100000000Z");
	/* Across second, day and year boundaries, forwards and back: the cache must follow. */
	event_format_time(T_2026 * NS + 999999999, buf);
	assert_string_equal(buf, "2026-11-28T12:31:02.999999999Z");
	event_format_time((T_2026 + 1) * NS, buf);
	assert_string_equal(buf, "2026-11-28T12:31:03.000000000Z");
	event_format_time(T_2026 * NS + 999999999, buf);
	assert_string_equal(buf, "2026-11-28T12:31:02.999999999Z");
	event_format_time(1709251199ull * NS + 999999999, buf);
	assert_string_equal(buf, "2024-02-29T23:59:59.999999999Z");
	event_format_time(1709251200ull * NS, buf);
	assert_string_equal(buf, "2024-03-01T00:00:00.000000000Z");
	event_format_time(1767225599ull * NS + 1, buf);
	assert_string_equal(buf, "2025-12-31T23:59:59.000000001Z");
	event_format_time(1767225600ull * NS, buf);
	assert_string_equal(buf, "2026-01-01T00:00:00.000000000Z");
	event_format_time(UINT64_MAX, buf);
	assert_string_equal(buf, "2554-07-21T23:34:33.709551615Z");
	assert_int_equal(strlen(buf), EVENT_TIME_LEN - 1);
}

int main(void)
{
	const struct CMUnitTest build_tests[] = {
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_add_data_overflow),
		cmocka_unit_test(test_add_int_and_scratch),
		cmocka_unit_test(test_scratch_alloc),
	};
	const struct CMUnitTest json_tests[] = {
		cmocka_unit_test(test_json_keys_and_types),
		cmocka_unit_test(test_json_exact),
		cmocka_unit_test(test_json_appends),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_json_nul_in_value),
		cmocka_unit_test(test_json_invalid_utf8),
		cmocka_unit_test(test_json_invalid_utf8_key),
		cmocka_unit_test(test_json_valid_utf8_kept),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_rules_and_data_empty),
		cmocka_unit_test(test_json_big_values),
		cmocka_unit_test(test_word_boundaries),
		cmocka_unit_test(test_json_runs_follow_changes),
	};
	const struct CMUnitTest text_tests[] = {
		cmocka_unit_test(test_text_exec),
		cmocka_unit_test(test_rule_meta),
		cmocka_unit_test(test_text_open_container),
		cmocka_unit_test(test_container_owner),
		cmocka_unit_test(test_ancestors),
		cmocka_unit_test(test_text_bashreadline),
		cmocka_unit_test(test_text_escaping),
		cmocka_unit_test(test_text_rules_quoted),
		cmocka_unit_test(test_json_to_text_same_line),
		cmocka_unit_test(test_rules_omitted),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_json_to_text_rejects),
	};
	const struct CMUnitTest format_tests[] = {
		cmocka_unit_test(test_time),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("event build", build_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("event json", json_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("event text", text_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("event formats", format_tests, NULL, NULL);
	return failed ? 1 : 0;
}
