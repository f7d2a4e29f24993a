// SPDX-License-Identifier: MIT
/*
 * unit.chmod: the chmod tracer's decoder on hand-made records: the keys a
 * permission change gives an event, and records whose lengths lie.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tracer.h"
#include "tracers/chmod/chmod.h"

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
	return chmod_tracer.decode(r, size, ev);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fchmod_setuid),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
