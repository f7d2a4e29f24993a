// SPDX-License-Identifier: MIT
/*
 * unit.dropin: drop-in tracers (tracers/dropin/): the description reader
 * on the shipped example and on malformed descriptions, the generic
 * decoder on good, short and hostile records, the C given to the program,
 * and the tracers directory's ownership and permission checks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "event.h"
#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/common/path.h"
#include "tracers/dropin/desc.h"
#include "tracers/dropin/dropin.h"

static char err[DROPIN_ERROR_MAX];

static int parse(const char *text, struct dropin_desc *d)
{
	err[0] = '\0';
	return dropin_desc_parse("/x/t.toml", "t", text, strlen(text), d, err, sizeof(err));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static const struct dropin_field *field(const struct dropin_desc *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return &d->fields[i];
	fail_msg("no field %s", name);
	return NULL;
}

/* The shipped example reads, and its record is laid out as C would. */
static void test_example(void **state)
{
	struct dropin_desc *d = malloc(sizeof(*d));
	size_t len;
	char *text = slurp(EXAMPLES "/nschange.toml", &len);

	(void)state;
	assert_int_equal(dropin_desc_parse(EXAMPLES "/nschange.toml", "nschange", text, len, d, err,
					   sizeof(err)), 0);
	assert_string_equal(d->name, "nschange");
	assert_int_equal(d->n_hooks, 2);
	assert_int_equal(d->hooks[0].kind, TRACER_HOOK_TRACEPOINT);
	assert_string_equal(d->hooks[0].target, "syscalls:sys_exit_setns");
	assert_string_equal(d->hooks[0].function, "tracepoint__syscalls__sys_exit_setns");
	assert_int_equal(d->prefilter, BPFD_PF_COMM | BPFD_PF_UID | BPFD_PF_CONTAINER);
	assert_int_equal(d->n_fields, 4);
	/* call (u32 enum) right after the header, namespaces (u64) aligned to 8 */
	assert_int_equal(field(d, "call")->offset, sizeof(struct bpfd_record));
	assert_int_equal(field(d, "namespaces")->offset, sizeof(struct bpfd_record) + 8);
	assert_int_equal(field(d, "namespaces")->size, 8);
	assert_int_equal(field(d, "fd")->offset, sizeof(struct bpfd_record) + 16);
	assert_int_equal(field(d, "error")->offset, sizeof(struct bpfd_record) + 20);
	assert_int_equal(d->record_size, sizeof(struct bpfd_record) + 24);
	free(text);
	free(d);
}

/* Every shipped example reads. */
static void test_examples(void **state)
{
	static const char *const names[] = { "dnslookup", "nschange", "ptrace" };
	struct dropin_desc *d = malloc(sizeof(*d));
	char path[512];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *text;

		snprintf(path, sizeof(path), "%s/%s.toml", EXAMPLES, names[i]);
		text = slurp(path, &len);
		if (dropin_desc_parse(path, names[i], text, len, d, err, sizeof(err)))
			fail_msg("%s", err);
		free(text);
	}
	/* ptrace: a request's name from the enum, a target's pid signed. */
	assert_int_equal(d->n_fields, 3);
	assert_int_equal(field(d, "request")->type, DROPIN_ENUM);
	assert_int_equal(field(d, "request")->n_values, 10);
	free(d);
}

/* A description's start: a hook, then a field's table. */
#define FIELD "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\n"

/* Every malformed description: refused, the file, line and key named. */
static void test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "", "/x/t.toml:1: hook: the tracer attaches to nothing" },
		{ "description = 1\n[[hook]]\ntracepoint = \"a:b\"\n",
		  "/x/t.toml:1: description: is a integer, not a string" },
		{ "[[hook]]\ntracepoint = \"a:b\"\nbogus = 1\n", "/x/t.toml:3: hook[1].bogus: unknown key" },
		{ "[[hook]]\ntracepoint = \"ab\"\n", "/x/t.toml:2: hook[1].tracepoint: \"ab\" is not \"category:name\"" },
		{ "[[hook]]\ntracepoint = \"a:b:c\"\n", "is not \"category:name\"" },
		{ "[[hook]]\nfunction = \"f\"\n", "/x/t.toml:1: hook[1]: names none of tracepoint" },
		{ "[[hook]]\ntracepoint = \"a:b\"\nraw_tracepoint = \"c\"\n",
		  "/x/t.toml:3: hook[1].raw_tracepoint: a hook has one of" },
		{ "[[hook]]\nuprobe = \"readline\"\nfunction = \"f\"\n",
		  "hook[1]: a uprobe needs binary" },
		{ "[[hook]]\nuprobe = \"readline\"\nbinary = \"/bin/bash\"\n",
		  "hook[1]: a uprobe needs function" },
		{ "[[hook]]\nuretprobe = \"readline\"\nbinary = \"bash\"\nfunction = \"f\"\n",
		  "/x/t.toml:3: hook[1].binary: \"bash\" is not an absolute path" },
		{ "[[hook]]\ntracepoint = \"a:b\"\nbinary = \"/bin/bash\"\n",
		  "binary is only for uprobes" },
		{ "[[hook]]\ntracepoint = \"a:b\"\nfunction = \"f-g\"\n", "is not a C function name" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[hook]]\ntracepoint = \"a:b\"\n", "a:b is hooked twice" },
		{ "hook = 1\n", "/x/t.toml:1: hook: is a integer: write [[hook]] tables" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\ntype = \"u8\"\n", "field[1]: has no name" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"x\"\n", "field x: has no type" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"X\"\ntype = \"u8\"\n",
		  "/x/t.toml:4: field[1].name: \"X\" is not [a-z][a-z0-9_]*" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"x\"\ntype = \"u128\"\n",
		  "/x/t.toml:5: field[1].type: \"u128\" is not one of" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"command\"\ntype = \"u8\"\n",
		  "field command: every drop-in event has command already" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"s\"\ntype = \"string\"\n",
		  "field s: a string needs max" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"s\"\ntype = \"string\"\nmax = 4097\n",
		  "/x/t.toml:6: field s.max: 4097 is not between 2 and 4096" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"s\"\ntype = \"bytes\"\nmax = 4\n",
		  "field s.max: a bytes takes length" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"s\"\ntype = \"u8\"\nmax = 4\n",
		  "field s.max: only strings and paths have max and bytes length" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"flags\"\n",
		  "field f.values: a flags needs its names" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"flags\"\nsize = 3\n"
		  "values = { A = 1 }\n", "field f.size: 3 is not 1, 2, 4 or 8" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"flags\"\nsize = 1\n"
		  "values = { A = 256 }\n", "field f.values: A: the value is not an integer between 0 and 255" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"flags\"\n"
		  "values = { A = 0 }\n", "A: a flag of value 0 is never set" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"enum\"\n"
		  "values = { A = 1, B = 1 }\n", "A and B have the same value" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"enum\"\n"
		  "values = { \"a-b\" = 1 }\n", "is not letters, digits and _" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"string\"\nmax = 8\n"
		  "format = \"hex\"\n", "field f.format: only integers have a format" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"u8\"\nformat = \"roman\"\n",
		  "field f.format: \"roman\" is not decimal, hex or octal" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"f\"\ntype = \"u8\"\n[[field]]\n"
		  "name = \"f\"\ntype = \"u8\"\n", "field: f is named twice" },
		{ "prefilter = [\"filename\"]\n[[hook]]\ntracepoint = \"a:b\"\n",
		  "/x/t.toml:1: prefilter: \"filename\" is not one of command, uid, container" },
		{ "[[hook]]\ntracepoint = \"a:b\"\n[[field]]\nname = \"a\"\ntype = \"string\"\nmax = 4096\n"
		  "[[field]]\nname = \"b\"\ntype = \"string\"\nmax = 4096\n[[field]]\nname = \"c\"\n"
		  "type = \"string\"\nmax = 4096\n[[field]]\nname = \"d\"\ntype = \"string\"\nmax = 4096\n",
		  "the record is larger than 16384 bytes at field d" },
		{ "[[hook]]\ntracepoint = \"a:b\"\nwhen = 1979-05-27\n", "/x/t.toml:3: " },
		{ "[[hook]]\ntracepoint = \"a:\\u0001b\"\n", "holds a control character" },
		{ "unknown = 1\n", "/x/t.toml:1: unknown: unknown key (known: description, prefilter" },
		{ "prefilter = [\"command\\u0000x\"]\n[[hook]]\ntracepoint = \"a:b\"\n",
		  "/x/t.toml:1: prefilter: \"command\" is not one of" },
		{ "[[hook]]\ntracepoint = \"a:b\"\nfunction = \"f\\u0000g\"\n",
		  "hook[1].function: holds a control character" },
		/* Paths, modes, bits, strict enums. */
		{ FIELD "name = \"p\"\ntype = \"path\"\nmax = 8\n",
		  "field p: a path is named filename" },
		{ FIELD "name = \"filename\"\ntype = \"path\"\n", "field filename: a path needs max" },
		{ FIELD "name = \"filename\"\ntype = \"path\"\nmax = 4097\n",
		  "field filename.max: 4097 is not between 2 and 4096" },
		{ FIELD "name = \"filename\"\ntype = \"path\"\nmax = 8\n[[field]]\n"
		  "name = \"argument\"\ntype = \"u8\"\n", "field: argument is named twice" },
		{ FIELD "name = \"s\"\ntype = \"string\"\nmax = 8\nbits = { a = 1 }\n",
		  "field s.bits: only unsigned integers, flags and modes have bits" },
		{ FIELD "name = \"m\"\ntype = \"mode\"\nbits = { a = 0 }\n",
		  "/x/t.toml:6: field m.bits: a: the bits are not an integer between 1 and 4294967295" },
		{ FIELD "name = \"m\"\ntype = \"u16\"\nbits = { a = 0x10000 }\n",
		  "the bits are not an integer between 1 and 65535" },
		{ FIELD "name = \"m\"\ntype = \"u8\"\nbits = { A = 1 }\n",
		  "field m.bits: \"A\" is not a key's name" },
		{ FIELD "name = \"m\"\ntype = \"u8\"\nbits = 1\n",
		  "field m.bits: is a integer, not a table of names and bits" },
		{ FIELD "name = \"m\"\ntype = \"u8\"\nbits = { n = 1 }\n[[field]]\nname = \"n\"\n"
		  "type = \"u8\"\n", "field: n is named twice" },
		{ FIELD "name = \"m\"\ntype = \"u8\"\nbits = { returnval = 1 }\n",
		  "field: every event has returnval already" },
		{ FIELD "name = \"m\"\ntype = \"u32\"\nstrict = true\n",
		  "field m.strict: only an enum is strict" },
		{ FIELD "name = \"m\"\ntype = \"mode\"\nformat = \"hex\"\n",
		  "field m.format: only integers have a format" },
		{ FIELD "name = \"m\"\ntype = \"u32\"\nbits = { a = 1, b = 2, c = 4, d = 8, e = 16, "
		  "f = 32, g = 64, h = 128 }\n[[field]]\nname = \"x\"\ntype = \"u8\"\n[[field]]\n"
		  "name = \"y\"\ntype = \"u8\"\n[[field]]\nname = \"z\"\ntype = \"u8\"\n"
		  "[[field]]\nname = \"filename\"\ntype = \"path\"\nmax = 8\n",
		  "field: the fields give 15 keys, more than 14" },
		{ FIELD "name = \"m\"\ntype = \"u32\"\nbits = { a = 1, b = 2, c = 4, d = 8, e = 16, "
		  "f = 32, g = 64, h = 128, i = 256 }\n", "field m.bits: more than 8 names" },
	};
	struct dropin_desc *d = malloc(sizeof(*d));
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].text, d) != -EINVAL || !strstr(err, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
	}
	/* More fields than an event has data keys for. */
	{
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(strbuf_addstr(&sb, "[[hook]]\ntracepoint = \"a:b\"\n"), 0);
		for (i = 0; i <= DROPIN_FIELDS_MAX; i++)
			assert_int_equal(strbuf_addf(&sb, "[[field]]\nname = \"f%zu\"\ntype = \"u8\"\n", i),
					 0);
		assert_int_equal(parse(sb.buf, d), -EINVAL);
		assert_non_null(strstr(err, "field: more than 14"));
		strbuf_release(&sb);
	}
	/* A built-in's description has no hooks: its C has them. */
	{
		const char *hooked = "[[hook]]\ntracepoint = \"a:b\"\n";

		assert_int_equal(dropin_desc_parse_builtin("/x/t.toml", "t", hooked, strlen(hooked),
							   d, err, sizeof(err)), -EINVAL);
	}
	assert_non_null(strstr(err, "/x/t.toml:1: hook: unknown key (known: description, "
				    "prefilter, [[field]]; a built-in's hooks are in its C)"));
	assert_int_equal(dropin_desc_parse_builtin("/x/t.toml", "t", "", 0, d, err, sizeof(err)), 0);
	assert_int_equal(d->n_hooks, 0);
	/* A tracer's name: from the file's, checked. */
	assert_int_equal(dropin_desc_parse("/x/T.toml", "T", "", 0, d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the tracer's name \"T\" is not"));
	free(d);
}

static const char *const all_types =
	"description = \"every type\"\n"
	"[[hook]]\nraw_tracepoint = \"sys_exit\"\n"
	"[[hook]]\nuretprobe = \"readline\"\nbinary = \"/bin/bash\"\nfunction = \"f_ret\"\n"
	"optional = \"no lines\"\n"
	"[[field]]\nname = \"small\"\ntype = \"u8\"\n"
	"[[field]]\nname = \"neg\"\ntype = \"s16\"\n"
	"[[field]]\nname = \"mode\"\ntype = \"u32\"\nformat = \"octal\"\n"
	"[[field]]\nname = \"addr\"\ntype = \"u64\"\nformat = \"hex\"\n"
	"[[field]]\nname = \"path\"\ntype = \"string\"\nmax = 8\n"
	"[[field]]\nname = \"raw\"\ntype = \"bytes\"\nlength = 3\nkey = false\n"
	"[[field]]\nname = \"src\"\ntype = \"ipv4\"\n"
	"[[field]]\nname = \"dst\"\ntype = \"ipv6\"\n"
	"[[field]]\nname = \"dport\"\ntype = \"port\"\n"
	"[[field]]\nname = \"error\"\ntype = \"errno\"\n"
	"[[field]]\nname = \"flags\"\ntype = \"flags\"\nsize = 2\nvalues = { R = 1, W = 2, RW = 3, X = 4 }\n"
	"[[field]]\nname = \"kind\"\ntype = \"enum\"\nsize = 1\nvalues = { a = 0, b = 7 }\n";

static const char *value(const struct event *ev, const char *key)
{
	static char buf[512];
	size_t len;
	const char *v = event_get_data(ev, key, &len);

	if (!v)
		return NULL;
	assert_true(len < sizeof(buf));
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

static void put(unsigned char *rec, const struct dropin_desc *d, const char *name, const void *v,
		size_t n)
{
	memcpy(rec + field(d, name)->offset, v, n);
}

static void test_decode(void **state)
{
	struct dropin_desc *d = malloc(sizeof(*d));
	struct event *ev = malloc(sizeof(*ev));
	unsigned char *rec;
	struct strbuf json = STRBUF_INIT;
	uint8_t small = 200, kind = 7;
	int16_t neg = -5;
	uint32_t mode = 0755;
	uint64_t addr = 0xdeadbeef;
	uint16_t dport = 443, flags = 3 | 4 | 0x100;
	int32_t error = -EPERM;
	struct in_addr src;
	struct in6_addr dst;

	(void)state;
	assert_int_equal(parse(all_types, d), 0);
	assert_int_equal(d->record_size % 8, 0);
	rec = calloc(1, d->record_size);
	put(rec, d, "small", &small, 1);
	put(rec, d, "neg", &neg, 2);
	put(rec, d, "mode", &mode, 4);
	put(rec, d, "addr", &addr, 8);
	put(rec, d, "path", "/etc/pa", 8);
	put(rec, d, "raw", "\x01\xab\xff", 3);
	inet_pton(AF_INET, "10.1.2.3", &src);
	inet_pton(AF_INET6, "2001:db8::1", &dst);
	put(rec, d, "src", &src, 4);
	put(rec, d, "dst", &dst, 16);
	put(rec, d, "dport", &dport, 2);
	put(rec, d, "error", &error, 4);
	put(rec, d, "flags", &flags, 2);
	put(rec, d, "kind", &kind, 1);

	event_init(ev);
	snprintf(ev->command, sizeof(ev->command), "cmd");
	ev->returnval = -1;
	assert_int_equal(dropin_decode(d, rec, d->record_size, ev), 0);
	assert_string_equal(value(ev, "small"), "200");
	assert_string_equal(value(ev, "neg"), "-5");
	assert_string_equal(value(ev, "mode"), "0755");
	assert_string_equal(value(ev, "addr"), "0xdeadbeef");
	assert_string_equal(value(ev, "path"), "/etc/pa");
	assert_string_equal(value(ev, "raw"), "01abff");
	assert_string_equal(value(ev, "src"), "10.1.2.3");
	assert_string_equal(value(ev, "dst"), "2001:db8::1");
	assert_string_equal(value(ev, "dport"), "443");
	assert_string_equal(value(ev, "error"), "EPERM");
	/* Names in their order, each bit once; what no name covers in hex. */
	assert_string_equal(value(ev, "flags"), "R|W|X|0x100");
	assert_string_equal(value(ev, "kind"), "b");
	assert_string_equal(value(ev, "command"), "cmd");
	assert_string_equal(value(ev, "returnval"), "-1");
	ev->tracer = "t";
	assert_int_equal(event_to_json(ev, &json), 0);
	assert_non_null(strstr(json.buf, "\"flags\":\"R|W|X|0x100\""));
	assert_non_null(strstr(json.buf, "\"error\":\"EPERM\""));
	strbuf_release(&json);

	/* A string that fills its field with no NUL: cut at the field's end. */
	memset(rec + field(d, "path")->offset, 'A', 8);
	kind = 3;
	put(rec, d, "kind", &kind, 1);
	mode = 0;
	put(rec, d, "mode", &mode, 4);
	error = 0;
	put(rec, d, "error", &error, 4);
	flags = 0;
	put(rec, d, "flags", &flags, 2);
	event_init(ev);
	assert_int_equal(dropin_decode(d, rec, d->record_size, ev), 0);
	assert_string_equal(value(ev, "path"), "AAAAAAAA");
	assert_string_equal(value(ev, "kind"), "3");
	assert_string_equal(value(ev, "mode"), "0");
	assert_string_equal(value(ev, "error"), "0");
	assert_string_equal(value(ev, "flags"), "0");

	/* Short records: refused before any field is read (ASan checks the reads). */
	{
		size_t n;

		for (n = 0; n < d->record_size; n += 7) {
			unsigned char *shorter = malloc(n ? n : 1);

			memcpy(shorter, rec, n);
			event_init(ev);
			assert_int_equal(dropin_decode(d, shorter, n, ev), -EINVAL);
			free(shorter);
		}
	}
	/* A longer record is decoded by the description: what follows is ignored. */
	{
		unsigned char *longer = calloc(1, d->record_size + 64);

		memcpy(longer, rec, d->record_size);
		memset(longer + d->record_size, 'Z', 64);
		event_init(ev);
		assert_int_equal(dropin_decode(d, longer, d->record_size + 64, ev), 0);
		assert_string_equal(value(ev, "path"), "AAAAAAAA");
		free(longer);
	}
	free(rec);
	free(ev);
	free(d);
}

/*
 * A path (laid out last whatever its place in the list), a mode with bits,
 * a strict enum: what chmod.toml uses, on records whose lengths lie.
 */
static const char *const path_mode =
	"[[hook]]\ntracepoint = \"a:b\"\n"
	"[[field]]\nname = \"filename\"\ntype = \"path\"\nmax = 16\n"
	"[[field]]\nname = \"mode\"\ntype = \"mode\"\n"
	"bits = { setuid = 0o4000, sticky = 0o1000, other_write = 2 }\n"
	"[[field]]\nname = \"call\"\ntype = \"enum\"\nsize = 2\nstrict = true\n"
	"values = { one = 1, two = 2 }\n"
	"[[field]]\nname = \"n\"\ntype = \"u8\"\nbits = { low = 1 }\nkey = false\n";

/* Puts a path's head and bytes in @rec of @d; the record's size up to them. */
static size_t put_path(unsigned char *rec, const struct dropin_desc *d, uint32_t flags,
		       const char *path, const char *arg, size_t arg_len)
{
	uint32_t off = field(d, "filename")->offset;
	uint16_t len = (uint16_t)strlen(path), alen = (uint16_t)arg_len;

	memcpy(rec + off, &flags, 4);
	memcpy(rec + off + 4, &len, 2);
	memcpy(rec + off + 6, &alen, 2);
	memcpy(rec + off + 8, path, len);
	memcpy(rec + off + 8 + len, arg, arg_len);
	return off + 8 + len + arg_len;
}

static void test_path_mode(void **state)
{
	struct dropin_desc *d = malloc(sizeof(*d));
	struct event *ev = malloc(sizeof(*ev));
	struct strbuf c = STRBUF_INIT;
	static const char *const order[] = { "filename", "argument", "resolved", "mode", "setuid",
					     "sticky", "other_write", "call", "n", "low",
					     "command", "returnval" };
	struct tracer_ops *t;
	unsigned char *rec;
	uint32_t mode = 0104757;
	uint16_t call = 2, len16;
	uint8_t n = 3;
	size_t size, i, k;

	(void)state;
	assert_int_equal(parse(path_mode, d), 0);
	/* The fixed fields in order, then the path at 4 bytes' alignment. */
	assert_int_equal(field(d, "mode")->offset, sizeof(struct bpfd_record));
	assert_int_equal(field(d, "call")->offset, sizeof(struct bpfd_record) + 4);
	assert_int_equal(field(d, "n")->offset, sizeof(struct bpfd_record) + 6);
	assert_int_equal(field(d, "filename")->offset, sizeof(struct bpfd_record) + 8);
	assert_int_equal(d->record_min, sizeof(struct bpfd_record) + 16);
	assert_int_equal(d->record_size, (sizeof(struct bpfd_record) + 16 + 4096 + 16 + 7) & ~7u);
	rec = calloc(1, d->record_size);
	put(rec, d, "mode", &mode, 4);
	put(rec, d, "call", &call, 2);
	put(rec, d, "n", &n, 1);
	size = put_path(rec, d, BPFD_PATH_BASE, "/tmp", "../etc/x", 9);

	event_init(ev);
	assert_int_equal(dropin_decode(d, rec, size, ev), 0);
	assert_int_equal(ev->n_data, sizeof(order) / sizeof(order[0]));
	for (i = 0; i < ev->n_data; i++)
		assert_string_equal(ev->data[i].key, order[i]);
	assert_string_equal(value(ev, "filename"), "/etc/x");
	assert_string_equal(value(ev, "argument"), "../etc/x");
	assert_string_equal(value(ev, "resolved"), "false");
	assert_string_equal(value(ev, "mode"), "4757");
	assert_string_equal(value(ev, "setuid"), "true");
	assert_string_equal(value(ev, "sticky"), "false");
	assert_string_equal(value(ev, "other_write"), "true");
	assert_string_equal(value(ev, "call"), "two");
	assert_string_equal(value(ev, "n"), "3");
	assert_string_equal(value(ev, "low"), "true");

	/* Every size short of the path's bytes: refused (ASan checks the reads). */
	for (k = 0; k < size; k++) {
		unsigned char *shorter = malloc(k ? k : 1);

		memcpy(shorter, rec, k);
		event_init(ev);
		assert_int_equal(dropin_decode(d, shorter, k, ev), -EINVAL);
		free(shorter);
	}
	/* Lengths past the field, whatever the record's size. */
	size = put_path(rec, d, BPFD_PATH_FILE, "/f", "", 0);
	event_init(ev);
	assert_int_equal(dropin_decode(d, rec, size, ev), 0);
	assert_string_equal(value(ev, "resolved"), "true");
	assert_null(value(ev, "argument"));
	len16 = 4097;
	memcpy(rec + field(d, "filename")->offset + 4, &len16, 2);
	assert_int_equal(dropin_decode(d, rec, d->record_size, ev), -EINVAL);
	len16 = 2;
	memcpy(rec + field(d, "filename")->offset + 4, &len16, 2);
	len16 = 17;
	memcpy(rec + field(d, "filename")->offset + 6, &len16, 2);
	assert_int_equal(dropin_decode(d, rec, d->record_size, ev), -EINVAL);
	len16 = 0xffff;
	memcpy(rec + field(d, "filename")->offset + 6, &len16, 2);
	assert_int_equal(dropin_decode(d, rec, d->record_size, ev), -EINVAL);
	/* The longest path and name fit the record exactly. */
	len16 = 4096;
	memcpy(rec + field(d, "filename")->offset + 4, &len16, 2);
	len16 = 16;
	memcpy(rec + field(d, "filename")->offset + 6, &len16, 2);
	size = field(d, "filename")->offset + 8 + 4096 + 16;
	event_init(ev);
	assert_int_equal(dropin_decode(d, rec, size, ev), 0);
	assert_int_equal(dropin_decode(d, rec, size - 1, ev), -EINVAL);
	/* A strict enum's unnamed value refuses the record. */
	size = put_path(rec, d, BPFD_PATH_FILE, "/f", "", 0);
	call = 3;
	put(rec, d, "call", &call, 2);
	event_init(ev);
	assert_int_equal(dropin_decode(d, rec, size, ev), -EINVAL);

	/* Rules' keys: the path's three and the bits, not a key = false field's. */
	t = dropin_new(d, "/x/t.bpf.c", "", 0);
	assert_non_null(t);
	assert_true(tracer_has_key(t, "argument"));
	assert_true(tracer_has_key(t, "resolved"));
	assert_true(tracer_has_key(t, "other_write"));
	assert_false(tracer_has_key(t, "n"));
	assert_false(tracer_has_key(t, "low"));
	dropin_free(t);
	/* The program's struct: the path last, its head named after it. */
	assert_int_equal(dropin_c_header(d, &c), 0);
	assert_non_null(strstr(c.buf, "\t__u32 mode;\n\t__u16 call;\n\t__u8 n;\n"
				      "\tchar __bpfd_pad0[1];\n\t__u32 filename_flags;\n"
				      "\t__u16 filename_len;\n\t__u16 filename_arg_len;\n"
				      "\tchar filename[BPFD_PATH_MAX + 16];\n"));
	assert_non_null(strstr(c.buf, "#define BPFD_CALL_TWO 2ULL\n"));
	strbuf_release(&c);
	free(rec);
	free(ev);
	free(d);
}

/* The tracer from a description: its keys, hooks and the C its program gets. */
static void test_ops(void **state)
{
	struct dropin_desc *d = malloc(sizeof(*d));
	struct tracer_ops *t;
	struct strbuf c = STRBUF_INIT;
	const char *src = "int f_ret(void *ctx) { return 0; }\n";

	(void)state;
	assert_int_equal(parse(all_types, d), 0);
	t = dropin_new(d, "/x/t.bpf.c", src, strlen(src));
	assert_non_null(t);
	assert_string_equal(t->name, "t");
	assert_string_equal(t->description, "every type");
	assert_true(t->own_module);
	assert_string_equal(t->source_path, "/x/t.bpf.c");
	assert_int_equal(t->hooks[0].kind, TRACER_HOOK_RAW_TRACEPOINT);
	assert_string_equal(t->hooks[0].function, "raw_tracepoint__sys_exit");
	assert_int_equal(t->hooks[1].kind, TRACER_HOOK_URETPROBE);
	assert_string_equal(t->hooks[1].binary, "/bin/bash");
	assert_string_equal(t->hooks[1].optional, "no lines");
	assert_null(t->hooks[2].target);
	assert_true(tracer_has_key(t, "small"));
	assert_true(tracer_has_key(t, "command"));
	assert_true(tracer_has_key(t, "returnval"));
	assert_false(tracer_has_key(t, "raw"));	/* key = false */
	assert_int_equal(tracer_key_kind(t, "src"), TRACER_KEY_ADDRESS);
	assert_int_equal(tracer_key_kind(t, "dst"), TRACER_KEY_ADDRESS);
	assert_int_equal(tracer_key_kind(t, "dport"), TRACER_KEY_PORT);
	assert_int_equal(tracer_key_kind(t, "path"), TRACER_KEY_STRING);
	/* The program's file follows the generated C, its lines its own. */
	assert_non_null(strstr(t->bpf_source, "struct bpfd_dropin_record {\n\tstruct bpfd_record hdr;\n"
					    "\t__u8 small;\n\tchar __bpfd_pad1[1];\n\t__s16 neg;\n"));
	assert_non_null(strstr(t->bpf_source, "#line 1 \"/x/t.bpf.c\"\nint f_ret"));
	dropin_free(t);
	/* Every line numbered, but those continuing a line that ends with a backslash. */
	src = "#define X \\\n\t1\nint a;\n\nint b;";
	t = dropin_new(d, "/x/t.bpf.c", src, strlen(src));
	assert_non_null(t);
	assert_non_null(strstr(t->bpf_source, "#line 1 \"/x/t.bpf.c\"\n#define X \\\n\t1\n"
					    "#line 3 \"/x/t.bpf.c\"\nint a;\n#line 4 \"/x/t.bpf.c\"\n\n"
					    "#line 5 \"/x/t.bpf.c\"\nint b;\n"));
	assert_non_null(strstr(t->bpf_source, "#define BPFD_FLAGS_RW 3ULL\n"));
	assert_non_null(strstr(t->bpf_source, "#define BPFD_KIND_B 7ULL\n"));
	assert_int_equal(dropin_c_header(d, &c), 0);
	assert_non_null(strstr(c.buf, "\tchar path[8];\n"));
	assert_non_null(strstr(c.buf, "\t__u8 dst[16];\n"));
	assert_non_null(strstr(c.buf, "_Static_assert(sizeof(struct bpfd_dropin_record) == "));
	strbuf_release(&c);
	dropin_free(t);

	t = dropin_new_failed("bad", "/x/bad.bpf.c", "it is wrong");
	assert_non_null(t);
	assert_string_equal(t->failed, "it is wrong");
	assert_null(t->hooks[0].target);
	assert_null(t->keys[0]);
	dropin_free(t);
	free(d);
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static char reported[8][1024];
static size_t n_reported;

static void report(const char *message)
{
	if (n_reported < 8)
		snprintf(reported[n_reported++], sizeof(reported[0]), "%s", message);
}

static void remove_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The directory and its files: root's, written by nobody else, else refused. */
static void test_directory(void **state)
{
	char dir[] = "/tmp/bpfd-unit-dropin-XXXXXX", path[600];
	const char *desc = "[[hook]]\ntracepoint = \"syscalls:sys_exit_setns\"\n";
	size_t before = tracer_count;
	const struct tracer_ops *t;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0775), 0);
	/* Group-writable: refused whole. */
	assert_int_equal(tracer_load_dropins(dir, false, report, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "is writable by its group"));
	assert_int_equal(tracer_count, before);
	assert_int_equal(chmod(dir, 0755), 0);
	/* Missing: an error unless allowed. */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(tracer_load_dropins(path, true, report, err, sizeof(err)), 0);
	assert_int_equal(tracer_load_dropins(path, false, report, err, sizeof(err)), -ENOENT);

	write_file(dir, "good.toml", desc, 0644);
	write_file(dir, "good.bpf.c", "\n", 0644);
	write_file(dir, "other.toml", desc, 0646);
	write_file(dir, "other.bpf.c", "\n", 0644);
	write_file(dir, "broken.toml", "[[hook]]\ntracepoint = 5\n", 0644);
	write_file(dir, "nosource.toml", desc, 0644);
	write_file(dir, "notroot.toml", desc, 0644);
	write_file(dir, "notroot.bpf.c", "\n", 0644);
	snprintf(path, sizeof(path), "%s/notroot.bpf.c", dir);
	assert_int_equal(chown(path, 65534, 65534), 0);
	write_file(dir, "chmod.toml", desc, 0644);	/* a built-in's name */
	write_file(dir, "chmod.bpf.c", "\n", 0644);
	snprintf(path, sizeof(path), "%s/Bad.toml", dir);
	assert_int_equal(symlink("good.toml", path), 0);
	n_reported = 0;
	assert_int_equal(tracer_load_dropins(dir, false, report, err, sizeof(err)), 0);
	/* broken, good, nosource, notroot, other: in the order of their names. */
	assert_int_equal(tracer_count, before + 5);
	t = tracer_table[before];
	assert_string_equal(t->name, "broken");
	assert_non_null(t->failed);
	assert_non_null(strstr(t->failed, "/broken.toml:2: hook[1].tracepoint: is a integer"));
	t = tracer_table[before + 1];
	assert_string_equal(t->name, "good");
	assert_null(t->failed);
	t = tracer_table[before + 2];
	assert_string_equal(t->name, "nosource");
	assert_non_null(strstr(t->failed, "/nosource.bpf.c: No such file or directory"));
	t = tracer_table[before + 3];
	assert_string_equal(t->name, "notroot");
	assert_non_null(strstr(t->failed, "/notroot.bpf.c: is not owned by root: refused"));
	t = tracer_table[before + 4];
	assert_string_equal(t->name, "other");
	assert_non_null(strstr(t->failed, "/other.toml: is writable by others: refused"));
	/* Bad.toml (a name no tracer may have) and chmod (taken) are reported, not registered. */
	assert_int_equal(n_reported, 6);
	assert_non_null(strstr(reported[0], "Bad.toml: ignored"));
	assert_non_null(strstr(reported[2], "drop-in chmod"));
	assert_non_null(strstr(reported[2], "a tracer has that name already"));
	assert_null(tracer_table[tracer_count]);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_path_mode),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
