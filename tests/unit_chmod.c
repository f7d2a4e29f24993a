// SPDX-License-Identifier: MIT
/*
 * unit.chmod: the chmod tracer's decoder on hand-made records: the keys a
 * permission change gives an event, and records whose lengths lie. The
 * decoder is the drop-ins' reading chmod.toml: its layout must be struct
 * chmod_record's, and its events those of the hand-written decoder it
 * replaced, byte for byte in JSON and text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/strbuf.h"
#include "tracer.h"
#include "tracers/chmod/chmod.h"
#include "tracers/dropin/desc.h"

extern const struct tracer_ops chmod_tracer;

/* A record with @path (walked, @flags) then @arg (with its NUL; NULL: none). */
static size_t make(struct chmod_record *r, uint32_t sys, uint32_t mode, const char *path,
		   uint32_t flags, const char *arg)
{
	size_t plen = strlen(path), alen = arg ? strlen(arg) + 1 : 0;

	memset(r, 0, sizeof(*r));
	r->hdr.type = BPFD_RECORD_TRACER_BASE + 7;
	r->syscall = sys;
	r->mode = mode;
	r->path_flags = flags;
	r->path_len = (uint16_t)plen;
	r->arg_len = (uint16_t)alen;
	memcpy(r->buf, path, plen);
	if (arg)
		memcpy(r->buf + plen, arg, alen);
	return offsetof(struct chmod_record, buf) + plen + alen;
}

static void expect_key(const struct event *ev, const char *key, const char *want)
{
	size_t len;
	const char *v = event_get_data(ev, key, &len);

	if (!want) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
}

static int decode(const struct chmod_record *r, size_t size, struct event *ev, int64_t ret)
{
	event_init(ev);
	ev->returnval = ret;
	strcpy(ev->command, "chmod");
	return tracer_decode(&chmod_tracer, r, size, ev);
}

static void test_fchmod_setuid(void **state)
{
	struct chmod_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t n = make(r, CHMOD_SYS_FCHMOD, 04755, "/usr/local/bin/tool", BPFD_PATH_FILE, NULL);

	(void)state;
	assert_int_equal(decode(r, n, ev, 0), 0);
	expect_key(ev, "filename", "/usr/local/bin/tool");
	expect_key(ev, "argument", NULL);
	expect_key(ev, "resolved", "true");
	expect_key(ev, "mode", "4755");
	expect_key(ev, "setuid", "true");
	expect_key(ev, "setgid", "false");
	expect_key(ev, "world_writable", "false");
	expect_key(ev, "syscall", "fchmod");
	expect_key(ev, "command", "chmod");
	expect_key(ev, "returnval", "0");
	free(r);
	free(ev);
}

static void test_named(void **state)
{
	struct chmod_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t n;

	(void)state;
	/* chmod("x", 0666) in /tmp: joined to the cwd's path, not resolved. */
	n = make(r, CHMOD_SYS_CHMOD, 0666, "/tmp", BPFD_PATH_BASE, "x");
	assert_int_equal(decode(r, n, ev, 0), 0);
	expect_key(ev, "filename", "/tmp/x");
	expect_key(ev, "argument", "x");
	expect_key(ev, "resolved", "false");
	expect_key(ev, "mode", "0666");
	expect_key(ev, "setuid", "false");
	expect_key(ev, "world_writable", "true");
	expect_key(ev, "syscall", "chmod");

	/* A failed fchmodat2 through the 32-bit entry; the type bits above 07777 go. */
	n = make(r, CHMOD_SYS_FCHMODAT2 | CHMOD_SYS_COMPAT, 0102755, "/etc", BPFD_PATH_BASE,
		 "../etc/./passwd");
	assert_int_equal(decode(r, n, ev, -1), 0);
	expect_key(ev, "filename", "/etc/passwd");
	expect_key(ev, "argument", "../etc/./passwd");
	expect_key(ev, "mode", "2755");
	expect_key(ev, "setuid", "false");
	expect_key(ev, "setgid", "true");
	expect_key(ev, "world_writable", "false");
	expect_key(ev, "syscall", "compat_fchmodat2");
	expect_key(ev, "returnval", "-1");

	/* fchmod of a bad descriptor: no file, no name. */
	n = make(r, CHMOD_SYS_FCHMOD, 0777, "", 0, NULL);
	assert_int_equal(decode(r, n, ev, -9), 0);
	expect_key(ev, "filename", "");
	expect_key(ev, "resolved", "false");
	expect_key(ev, "mode", "0777");
	free(r);
	free(ev);
}

/* The longest path and name a record can hold decode whole. */
static void test_longest(void **state)
{
	struct chmod_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t n, len;
	const char *v;

	(void)state;
	make(r, CHMOD_SYS_FCHMODAT, 01777, "", BPFD_PATH_BASE, NULL);
	r->path_len = BPFD_PATH_MAX;
	r->buf[0] = '/';
	memset(r->buf + 1, 'a', BPFD_PATH_MAX - 1);
	r->arg_len = CHMOD_FILENAME_MAX;
	memset(r->buf + BPFD_PATH_MAX, 'b', CHMOD_FILENAME_MAX - 1);
	r->buf[BPFD_PATH_MAX + CHMOD_FILENAME_MAX - 1] = '\0';
	n = offsetof(struct chmod_record, buf) + BPFD_PATH_MAX + CHMOD_FILENAME_MAX;
	assert_int_equal(n, sizeof(*r));
	assert_int_equal(decode(r, n, ev, 0), 0);
	v = event_get_data(ev, "filename", &len);
	assert_non_null(v);
	assert_int_equal(len, BPFD_PATH_MAX + CHMOD_FILENAME_MAX);
	expect_key(ev, "mode", "1777");
	expect_key(ev, "world_writable", "true");
	free(r);
	free(ev);
}

/* Records too short for what they say they hold, or saying too much: -EINVAL. */
static void test_bad_records(void **state)
{
	struct chmod_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t head = offsetof(struct chmod_record, buf), n;

	(void)state;
	n = make(r, CHMOD_SYS_CHMOD, 0644, "/tmp", BPFD_PATH_BASE, "x");
	assert_int_equal(decode(r, 0, ev, 0), -EINVAL);
	assert_int_equal(decode(r, sizeof(struct bpfd_record), ev, 0), -EINVAL);
	assert_int_equal(decode(r, head - 1, ev, 0), -EINVAL);
	/* Cut short: the name's last byte is missing. */
	assert_int_equal(decode(r, n - 1, ev, 0), -EINVAL);
	assert_int_equal(decode(r, n, ev, 0), 0);
	/* Lengths past their fields, whatever the size says. */
	r->path_len = BPFD_PATH_MAX + 1;
	assert_int_equal(decode(r, sizeof(*r), ev, 0), -EINVAL);
	r->path_len = 4;
	r->arg_len = CHMOD_FILENAME_MAX + 1;
	assert_int_equal(decode(r, sizeof(*r), ev, 0), -EINVAL);
	r->arg_len = 0xffff;
	assert_int_equal(decode(r, sizeof(*r), ev, 0), -EINVAL);
	/* Lengths that each fit but together pass the record's end. */
	r->path_len = BPFD_PATH_MAX;
	r->arg_len = CHMOD_FILENAME_MAX;
	assert_int_equal(decode(r, sizeof(*r) - 1, ev, 0), -EINVAL);
	/* An unknown syscall. */
	n = make(r, CHMOD_SYS_COUNT, 0644, "/tmp/x", BPFD_PATH_FILE, NULL);
	assert_int_equal(decode(r, n, ev, 0), -EINVAL);
	r->syscall = CHMOD_SYS_CHMOD | 1u << 16;
	assert_int_equal(decode(r, n, ev, 0), -EINVAL);
	r->syscall = CHMOD_SYS_COUNT | CHMOD_SYS_COMPAT;
	assert_int_equal(decode(r, n, ev, 0), -EINVAL);
	free(r);
	free(ev);
}

/* The table entry: the keys rules may use are the ones decode emits. */
static void test_ops(void **state)
{
	struct chmod_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t i, n = make(r, CHMOD_SYS_CHMOD, 04755, "/tmp", BPFD_PATH_BASE, "../x");

	(void)state;
	assert_string_equal(chmod_tracer.name, "chmod");
	assert_int_equal(decode(r, n, ev, 0), 0);
	for (i = 0; i < ev->n_data; i++)
		assert_true(tracer_has_key(&chmod_tracer, ev->data[i].key));
	assert_true(tracer_has_key(&chmod_tracer, "mode"));
	assert_true(tracer_has_key(&chmod_tracer, "world_writable"));
	free(r);
	free(ev);
}

/* The description lays the record out as chmod.h does: the program and the decoder agree. */
static void test_layout(void **state)
{
	const struct dropin_desc *d = chmod_tracer.desc;
	static const char *const keys[] = {
		"filename", "argument", "resolved", "mode", "setuid", "setgid", "world_writable",
		"syscall", "command", "returnval", NULL,
	};
	size_t i;

	(void)state;
	assert_non_null(d);
	assert_null(chmod_tracer.decode);
	assert_ptr_equal(chmod_tracer.description, d->description);
	assert_string_equal(d->name, "chmod");
	assert_int_equal(d->n_hooks, 0);
	assert_int_equal(d->n_fields, 3);
	assert_string_equal(d->fields[0].name, "filename");
	assert_int_equal(d->fields[0].offset, offsetof(struct chmod_record, path_flags));
	assert_int_equal(d->fields[0].max, CHMOD_FILENAME_MAX);
	assert_string_equal(d->fields[1].name, "mode");
	assert_int_equal(d->fields[1].offset, offsetof(struct chmod_record, mode));
	assert_string_equal(d->fields[2].name, "syscall");
	assert_int_equal(d->fields[2].offset, offsetof(struct chmod_record, syscall));
	assert_int_equal(d->fields[2].size, sizeof(uint32_t));
	assert_int_equal(d->record_min, offsetof(struct chmod_record, buf));
	assert_int_equal(d->record_size, sizeof(struct chmod_record));
	/* The keys rules know, in the order events have them. */
	for (i = 0; keys[i]; i++) {
		assert_non_null(chmod_tracer.keys[i]);
		assert_string_equal(chmod_tracer.keys[i], keys[i]);
	}
	assert_null(chmod_tracer.keys[i]);
}

/*
 * Events of the hand-written decoder chmod.toml replaced, on the same
 * records (bench/bench_chmod_decode --print on both): the common fields,
 * then these.
 */
#define JSON_HEAD                                                                                  \
	"{\"tracer\":\"chmod\",\"time\":\"2026-11-28T12:31:02.000000000Z\","                          \
	"\"hostname\":\"build-42.example.org\",\"pid\":48213,\"tid\":48213,\"ppid\":48190,"         \
	"\"uid\":1000,\"gid\":1000,\"command\":\"chmod\",\"returnval\":%lld,\"cgroup_id\":0,"       \
	"\"mntns\":0,\"pidns\":0,\"container_runtime\":\"not-found\",\"container_id\":\"\","        \
	"\"rules\":[],\"data\":%s"
#define TEXT_HEAD                                                                                  \
	"2026-11-28T12:31:02.000000000Z chmod pid=48213 ppid=48190 uid=1000 command=chmod "         \
	"returnval=%lld container=not-found %s"

static const struct golden {
	uint32_t sys, mode;
	const char *path;
	uint32_t flags;
	const char *arg;
	int64_t ret;
	const char *json, *text;
} goldens[] = {
	{ CHMOD_SYS_FCHMOD, 0104755, "/usr/local/bin/tool", BPFD_PATH_FILE,
	  NULL, 0,
	  "{\"filename\":\"/usr/local/bin/tool\",\"resolved\":\"true\",\"mode\":\"4755\","
	  "\"setuid\":\"true\",\"setgid\":\"false\",\"world_writable\":\"false\","
	  "\"syscall\":\"fchmod\",\"command\":\"chmod\",\"returnval\":\"0\"}}",
	  "filename=/usr/local/bin/tool resolved=true mode=4755 setuid=true setgid=false "
	  "world_writable=false syscall=fchmod" },
	{ CHMOD_SYS_CHMOD, 0666, "/tmp", BPFD_PATH_BASE,
	  "x", 0,
	  "{\"filename\":\"/tmp/x\",\"argument\":\"x\",\"resolved\":\"false\",\"mode\":\"0666\","
	  "\"setuid\":\"false\",\"setgid\":\"false\",\"world_writable\":\"true\","
	  "\"syscall\":\"chmod\",\"command\":\"chmod\",\"returnval\":\"0\"}}",
	  "filename=/tmp/x argument=x resolved=false mode=0666 setuid=false setgid=false "
	  "world_writable=true syscall=chmod" },
	{ CHMOD_SYS_FCHMODAT2 | CHMOD_SYS_COMPAT, 02755, "/etc", BPFD_PATH_BASE,
	  "../etc/./passwd", -1,
	  "{\"filename\":\"/etc/passwd\",\"argument\":\"../etc/./passwd\","
	  "\"resolved\":\"false\",\"mode\":\"2755\",\"setuid\":\"false\",\"setgid\":\"true\","
	  "\"world_writable\":\"false\",\"syscall\":\"compat_fchmodat2\",\"command\":\"chmod\","
	  "\"returnval\":\"-1\"}}",
	  "filename=/etc/passwd argument=../etc/./passwd resolved=false mode=2755 setuid=false "
	  "setgid=true world_writable=false syscall=compat_fchmodat2" },
	{ CHMOD_SYS_FCHMOD, 0777, "", 0,
	  NULL, -9,
	  "{\"filename\":\"\",\"resolved\":\"false\",\"mode\":\"0777\",\"setuid\":\"false\","
	  "\"setgid\":\"false\",\"world_writable\":\"true\",\"syscall\":\"fchmod\","
	  "\"command\":\"chmod\",\"returnval\":\"-9\"}}",
	  "filename=\"\" resolved=false mode=0777 setuid=false setgid=false world_writable=true "
	  "syscall=fchmod" },
	{ CHMOD_SYS_FCHMOD, 0, "/etc/shadow", BPFD_PATH_FILE | BPFD_PATH_OUTSIDE_ROOT,
	  NULL, 0,
	  "{\"filename\":\"/etc/shadow\",\"resolved\":\"outside-root\",\"mode\":\"0000\","
	  "\"setuid\":\"false\",\"setgid\":\"false\",\"world_writable\":\"false\","
	  "\"syscall\":\"fchmod\",\"command\":\"chmod\",\"returnval\":\"0\"}}",
	  "filename=/etc/shadow resolved=outside-root mode=0000 setuid=false setgid=false "
	  "world_writable=false syscall=fchmod" },
	{ CHMOD_SYS_FCHMODAT, 01777, "/a/b", BPFD_PATH_BASE | BPFD_PATH_TRUNCATED,
	  "c", 0,
	  "{\"filename\":\"[...]/a/b/c\",\"argument\":\"c\",\"resolved\":\"false\","
	  "\"mode\":\"1777\",\"setuid\":\"false\",\"setgid\":\"false\","
	  "\"world_writable\":\"true\",\"syscall\":\"fchmodat\",\"command\":\"chmod\","
	  "\"returnval\":\"0\"}}",
	  "filename=[...]/a/b/c argument=c resolved=false mode=1777 setuid=false setgid=false "
	  "world_writable=true syscall=fchmodat" },
	{ CHMOD_SYS_CHMOD | CHMOD_SYS_COMPAT, 0100644, "/home/u", BPFD_PATH_BASE,
	  "/etc/./shadow", -13,
	  "{\"filename\":\"/home/u/etc/shadow\",\"argument\":\"/etc/./shadow\","
	  "\"resolved\":\"false\",\"mode\":\"0644\",\"setuid\":\"false\",\"setgid\":\"false\","
	  "\"world_writable\":\"false\",\"syscall\":\"compat_chmod\",\"command\":\"chmod\","
	  "\"returnval\":\"-13\"}}",
	  "filename=/home/u/etc/shadow argument=/etc/./shadow resolved=false mode=0644 "
	  "setuid=false setgid=false world_writable=false syscall=compat_chmod" },
	{ CHMOD_SYS_FCHMODAT2, 0700, "/srv/dir", BPFD_PATH_FILE,
	  NULL, 0,
	  "{\"filename\":\"/srv/dir\",\"resolved\":\"true\",\"mode\":\"0700\","
	  "\"setuid\":\"false\",\"setgid\":\"false\",\"world_writable\":\"false\","
	  "\"syscall\":\"fchmodat2\",\"command\":\"chmod\",\"returnval\":\"0\"}}",
	  "filename=/srv/dir resolved=true mode=0700 setuid=false setgid=false "
	  "world_writable=false syscall=fchmodat2" },
	{ CHMOD_SYS_FCHMODAT, 0177777, "/tmp", BPFD_PATH_BASE,
	  "a\"b\\c\n\x01", 0,
	  "{\"filename\":\"/tmp/a\\\"b\\\\c\\n\\u0001\",\"argument\":\"a\\\"b\\\\c\\n\\u0001\","
	  "\"resolved\":\"false\",\"mode\":\"7777\",\"setuid\":\"true\",\"setgid\":\"true\","
	  "\"world_writable\":\"true\",\"syscall\":\"fchmodat\",\"command\":\"chmod\","
	  "\"returnval\":\"0\"}}",
	  "filename=\"/tmp/a\\\"b\\\\c\\n\\x01\" argument=\"a\\\"b\\\\c\\n\\x01\" "
	  "resolved=false mode=7777 setuid=true setgid=true world_writable=true "
	  "syscall=fchmodat" },
};

static void test_same_events(void **state)
{
	struct chmod_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	struct strbuf sb = STRBUF_INIT;
	char want[2048];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];

		n = make(r, g->sys, g->mode, g->path, g->flags, g->arg);
		assert_int_equal(decode(r, n, ev, g->ret), 0);
		ev->tracer = "chmod";
		ev->time_ns = 1795869062ull * 1000000000ull;
		ev->hostname = "build-42.example.org";
		ev->pid = 48213;
		ev->tid = 48213;
		ev->ppid = 48190;
		ev->uid = 1000;
		ev->gid = 1000;
		strbuf_reset(&sb);
		assert_int_equal(event_to_json(ev, &sb), 0);
		snprintf(want, sizeof(want), JSON_HEAD, (long long)g->ret, g->json);
		assert_string_equal(sb.buf, want);
		strbuf_reset(&sb);
		assert_int_equal(event_to_text(ev, &sb), 0);
		snprintf(want, sizeof(want), TEXT_HEAD, (long long)g->ret, g->text);
		assert_string_equal(sb.buf, want);
	}
	strbuf_release(&sb);
	free(r);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fchmod_setuid),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_same_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
