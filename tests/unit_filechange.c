// SPDX-License-Identifier: MIT
/*
 * unit.filechange: the filechange tracer's decoder on hand-made records:
 * the keys each kind of change gives an event, and records whose lengths
 * lie.
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
#include "tracers/filechange/filechange.h"

extern const struct tracer_ops filechange_tracer;

/* One walked path (@flags) and the name as passed (NULL: none). */
struct part {
	const char *path;
	uint32_t flags;
	const char *arg;
};

/* A record of call @sys with @src, then (for a rename) @dst. */
static size_t make(struct filechange_record *r, uint32_t sys, struct part src,
		   const struct part *dst)
{
	size_t off = 0, n;

	memset(r, 0, sizeof(*r));
	r->hdr.type = BPFD_RECORD_TRACER_BASE + 8;
	r->syscall = sys;
	r->path_flags = src.flags;
	n = strlen(src.path);
	memcpy(r->buf, src.path, n);
	r->path_len = (uint16_t)n;
	off += n;
	if (src.arg) {
		n = strlen(src.arg) + 1;
		memcpy(r->buf + off, src.arg, n);
		r->arg_len = (uint16_t)n;
		off += n;
	}
	if (dst) {
		r->target_flags = dst->flags;
		n = strlen(dst->path);
		memcpy(r->buf + off, dst->path, n);
		r->target_len = (uint16_t)n;
		off += n;
		n = strlen(dst->arg) + 1;
		memcpy(r->buf + off, dst->arg, n);
		r->target_arg_len = (uint16_t)n;
		off += n;
	}
	return offsetof(struct filechange_record, buf) + off;
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

static int decode(const struct filechange_record *r, size_t size, struct event *ev)
{
	event_init(ev);
	ev->returnval = 0;
	strcpy(ev->command, "mv");
	return filechange_tracer.decode(r, size, ev);
}

static void test_unlinkat_removedir(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t n = make(r, FC_SYS_UNLINKAT, (struct part){ "/root", BPFD_PATH_BASE, "./.ssh/../x" },
			NULL);

	(void)state;
	r->flags = 0x200;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "operation", "delete");
	expect_key(ev, "filename", "/root/x");
	expect_key(ev, "argument", "./.ssh/../x");
	expect_key(ev, "resolved", "false");
	expect_key(ev, "flags", "AT_REMOVEDIR");
	expect_key(ev, "syscall", "unlinkat");
	expect_key(ev, "target", NULL);
	expect_key(ev, "length", NULL);
	expect_key(ev, "returnval", "0");
	free(r);
	free(ev);
}

static void test_rename_both_paths(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	struct part dst = { "/etc/cron.d", BPFD_PATH_BASE, "../cron.d/job" };
	size_t n = make(r, FC_SYS_RENAMEAT2 | FC_SYS_COMPAT,
			(struct part){ "/tmp", BPFD_PATH_BASE, "job" }, &dst);

	(void)state;
	r->flags = 1 | 2 | 0x40;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "operation", "rename");
	expect_key(ev, "filename", "/tmp/job");
	expect_key(ev, "argument", "job");
	expect_key(ev, "target", "/etc/cron.d/job");
	expect_key(ev, "target_argument", "../cron.d/job");
	expect_key(ev, "flags", "RENAME_NOREPLACE|RENAME_EXCHANGE|0x40");
	expect_key(ev, "syscall", "compat_renameat2");
	/* Through a bad dirfd (no directory walked): the name as passed. */
	dst.path = "";
	dst.flags = 0;
	dst.arg = "x";
	n = make(r, FC_SYS_RENAME, (struct part){ "/", BPFD_PATH_BASE, "/a/b" }, &dst);
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "filename", "/a/b");
	expect_key(ev, "argument", NULL);
	expect_key(ev, "target", "x");
	expect_key(ev, "flags", NULL);
	free(r);
	free(ev);
}

static void test_truncate_owner(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t n = make(r, FC_SYS_FTRUNCATE64 | FC_SYS_COMPAT,
			(struct part){ "/var/log/auth.log", BPFD_PATH_FILE, NULL }, NULL);

	(void)state;
	r->length = 1ULL << 33;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "operation", "truncate");
	expect_key(ev, "filename", "/var/log/auth.log");
	expect_key(ev, "resolved", "true");
	expect_key(ev, "length", "8589934592");
	expect_key(ev, "syscall", "compat_ftruncate64");
	n = make(r, FC_SYS_FCHOWNAT, (struct part){ "/tmp", BPFD_PATH_BASE, "sh" }, NULL);
	r->uid = 0;
	r->gid = (uint32_t)-1;
	r->flags = 0x100;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "operation", "owner");
	expect_key(ev, "filename", "/tmp/sh");
	expect_key(ev, "new_uid", "0");
	expect_key(ev, "new_gid", "-1");
	expect_key(ev, "flags", "AT_SYMLINK_NOFOLLOW");
	expect_key(ev, "length", NULL);
	free(r);
	free(ev);
}

static void test_times(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	struct part p = { "/etc/passwd", BPFD_PATH_FILE, NULL };
	int64_t ts[4] = { 978307200, 5, 0, (1L << 30) - 2 };
	int32_t tv[4] = { 0, 0, 86400, 7 };
	int64_t ub[2] = { 1, 2 };
	int64_t tl[4] = { 1, 1000000, 2, 2882303761517117440LL };
	size_t n;

	(void)state;
	/* utimensat: an explicit access time, the modification time left alone. */
	n = make(r, FC_SYS_UTIMENSAT, p, NULL);
	r->times_kind = FC_TIMES_TIMESPEC;
	r->times_len = 32;
	memcpy(r->times, ts, 32);
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "operation", "timestamps");
	expect_key(ev, "times", "set");
	expect_key(ev, "atime", "2001-01-01T00:00:00.000000005Z");
	expect_key(ev, "mtime", "omit");
	expect_key(ev, "flags", "0");
	/* NULL times: now. */
	r->times_len = 0;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "times", "now");
	expect_key(ev, "atime", NULL);
	/* Both UTIME_NOW: now too. */
	ts[1] = ts[3] = (1L << 30) - 1;
	memcpy(r->times, ts, 32);
	r->times_len = 32;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "times", "now");
	expect_key(ev, "atime", "now");
	/* compat utimes: 32-bit timevals, microseconds. */
	n = make(r, FC_SYS_UTIMES | FC_SYS_COMPAT, p, NULL);
	r->times_kind = FC_TIMES_TIMEVAL | FC_TIMES_32;
	r->times_len = 16;
	memcpy(r->times, tv, 16);
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "atime", "1970-01-01T00:00:00.000000000Z");
	expect_key(ev, "mtime", "1970-01-02T00:00:00.000007000Z");
	expect_key(ev, "syscall", "compat_utimes");
	/* utimes with microseconds out of range (the kernel refuses them): as passed. */
	n = make(r, FC_SYS_UTIMES, p, NULL);
	r->times_kind = FC_TIMES_TIMEVAL;
	r->times_len = 32;
	memcpy(r->times, tl, 32);
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "atime", "1.1000000");
	expect_key(ev, "mtime", "2.2882303761517117440");
	/* utime: seconds. */
	n = make(r, FC_SYS_UTIME, p, NULL);
	r->times_kind = FC_TIMES_UTIMBUF;
	r->times_len = 16;
	memcpy(r->times, ub, 16);
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "mtime", "1970-01-01T00:00:02.000000000Z");
	/* Unreadable times. */
	r->times_len = FC_TIMES_UNREADABLE;
	assert_int_equal(decode(r, n, ev), 0);
	expect_key(ev, "times", "unreadable");
	/* Fewer bytes than the layout needs, or no layout: refused. */
	r->times_len = 8;
	assert_int_equal(decode(r, n, ev), -EINVAL);
	r->times_len = 16;
	r->times_kind = FC_TIMES_NONE;
	assert_int_equal(decode(r, n, ev), -EINVAL);
	r->times_kind = FC_TIMES_COUNT;
	assert_int_equal(decode(r, n, ev), -EINVAL);
	free(r);
	free(ev);
}

/* Records too short for what they say they hold, or saying too much: -EINVAL. */
static void test_bad_records(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	struct part dst = { "/b", BPFD_PATH_BASE, "c" };
	size_t head = offsetof(struct filechange_record, buf), n;

	(void)state;
	n = make(r, FC_SYS_RENAME, (struct part){ "/tmp", BPFD_PATH_BASE, "x" }, &dst);
	assert_int_equal(decode(r, 0, ev), -EINVAL);
	assert_int_equal(decode(r, sizeof(struct bpfd_record), ev), -EINVAL);
	assert_int_equal(decode(r, head - 1, ev), -EINVAL);
	/* Cut short: the target's last byte is missing. */
	assert_int_equal(decode(r, n - 1, ev), -EINVAL);
	assert_int_equal(decode(r, n, ev), 0);
	/* Each length past its field, whatever the size says. */
	r->target_len = BPFD_PATH_MAX + 1;
	assert_int_equal(decode(r, sizeof(*r), ev), -EINVAL);
	r->target_len = 2;
	r->target_arg_len = FILECHANGE_NAME_MAX + 1;
	assert_int_equal(decode(r, sizeof(*r), ev), -EINVAL);
	r->target_arg_len = 0xffff;
	assert_int_equal(decode(r, sizeof(*r), ev), -EINVAL);
	r->target_arg_len = 2;
	r->path_len = 0xffff;
	assert_int_equal(decode(r, sizeof(*r), ev), -EINVAL);
	r->path_len = 4;
	r->arg_len = FILECHANGE_NAME_MAX + 1;
	assert_int_equal(decode(r, sizeof(*r), ev), -EINVAL);
	/* All four at their limits: the whole buffer, not a byte less. */
	r->path_len = BPFD_PATH_MAX;
	r->arg_len = FILECHANGE_NAME_MAX;
	r->target_len = BPFD_PATH_MAX;
	r->target_arg_len = FILECHANGE_NAME_MAX;
	assert_int_equal(decode(r, head + sizeof(r->buf) - 1, ev), -EINVAL);
	/* Unknown calls. */
	n = make(r, FC_SYS_COUNT, (struct part){ "/tmp/x", BPFD_PATH_FILE, NULL }, NULL);
	assert_int_equal(decode(r, n, ev), -EINVAL);
	r->syscall = FC_SYS_UNLINK | 1u << 16;
	assert_int_equal(decode(r, n, ev), -EINVAL);
	r->syscall = FC_SYS_COUNT | FC_SYS_COMPAT;
	assert_int_equal(decode(r, n, ev), -EINVAL);
	free(r);
	free(ev);
}

/* The longest record the program writes: every part at its limit. */
static void test_longest(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	size_t off = 0;

	(void)state;
	memset(r, 0, sizeof(*r));
	r->syscall = FC_SYS_RENAMEAT;
	r->path_flags = r->target_flags = BPFD_PATH_BASE;
	r->path_len = r->target_len = BPFD_PATH_MAX;
	r->arg_len = r->target_arg_len = FILECHANGE_NAME_MAX;
	r->buf[0] = '/';
	memset(r->buf + 1, 'a', BPFD_PATH_MAX - 1);
	off = BPFD_PATH_MAX;
	memset(r->buf + off, 'b', FILECHANGE_NAME_MAX - 1);
	off += FILECHANGE_NAME_MAX;
	r->buf[off] = '/';
	memset(r->buf + off + 1, 'c', BPFD_PATH_MAX - 1);
	off += BPFD_PATH_MAX;
	memset(r->buf + off, 'd', FILECHANGE_NAME_MAX - 1);
	off += FILECHANGE_NAME_MAX;
	assert_int_equal(off, sizeof(r->buf));
	assert_int_equal(decode(r, sizeof(*r), ev), 0);
	expect_key(ev, "operation", "rename");
	free(r);
	free(ev);
}

/* The table entry: the keys rules may use are the ones decode emits. */
static void test_ops(void **state)
{
	struct filechange_record *r = malloc(sizeof(*r));
	struct event *ev = malloc(sizeof(*ev));
	struct part dst = { "/b", BPFD_PATH_BASE, "c" };
	uint32_t sys;
	size_t i, n;

	(void)state;
	assert_string_equal(filechange_tracer.name, "filechange");
	for (sys = 0; sys < FC_SYS_COUNT; sys++) {
		n = make(r, sys, (struct part){ "/tmp", BPFD_PATH_BASE, "x" }, &dst);
		if (sys == FC_SYS_UTIME || sys == FC_SYS_UTIMES || sys == FC_SYS_UTIMENSAT ||
		    sys == FC_SYS_FUTIMESAT || sys == FC_SYS_UTIMENSAT_TIME64) {
			r->times_kind = FC_TIMES_TIMESPEC;
			r->times_len = 32;
		}
		assert_int_equal(decode(r, n, ev), 0);
		for (i = 0; i < ev->n_data; i++)
			assert_true(tracer_has_key(&filechange_tracer, ev->data[i].key));
	}
	free(r);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlinkat_removedir),
		cmocka_unit_test(test_rename_both_paths),
		cmocka_unit_test(test_truncate_owner),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
