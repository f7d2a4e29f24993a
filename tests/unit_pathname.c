// SPDX-License-Identifier: MIT
/*
 * unit.pathname: failed opens' names joined to their directory and
 * normalised, and the keys a walked path gives an event.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pathname.h"
#include "tracers/path.h"

static void expect_norm(const char *base, const char *name, const char *want)
{
	char out[64];
	ssize_t n = pathname_normalize(base, strlen(base), name, strlen(name), out, sizeof(out));

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(out, want);
}

static void test_normalize(void **state)
{
	(void)state;
	expect_norm("/etc", "shadow", "/etc/shadow");
	expect_norm("/usr", "../etc/./shadow", "/etc/shadow");
	expect_norm("/", "//etc///shadow", "/etc/shadow");
	expect_norm("/tmp", "/../../etc/shadow", "/etc/shadow");	/* never above "/" */
	expect_norm("/a/b", "..", "/a");
	expect_norm("/a", "../..", "/");
	expect_norm("", "", "/");
	expect_norm("/jail", "/etc/x", "/jail/etc/x");	/* an absolute name from a chroot's root */
	expect_norm("/a/", "b/", "/a/b");
}

static void test_normalize_too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(pathname_normalize("/abc", 4, "defg", 4, out, sizeof(out)),
			 -ENAMETOOLONG);
	/* Exactly fits: "/abc/de" and its NUL. */
	assert_int_equal(pathname_normalize("/abc", 4, "de", 2, out, sizeof(out)), 7);
	assert_string_equal(out, "/abc/de");
	assert_int_equal(pathname_normalize("", 0, "", 0, out, 1), -ENAMETOOLONG);
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

static void test_event_keys(void **state)
{
	struct event ev;

	(void)state;
	/* An opened file: its path; the argument kept as it was passed (with its NUL). */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "/etc/shadow", 11, BPFD_PATH_FILE, "shadow",
						 7), 0);
	expect_key(&ev, "filename", "/etc/shadow");
	expect_key(&ev, "argument", "shadow");
	expect_key(&ev, "resolved", "true");

	/* The same name: no argument key. */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "/etc/shadow", 11, BPFD_PATH_FILE,
						 "/etc/shadow", 12), 0);
	expect_key(&ev, "argument", NULL);

	/* Outside the opener's root. */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "/memfd:x", 8,
						 BPFD_PATH_FILE | BPFD_PATH_OUTSIDE_ROOT,
						 "/dev/fd/3", 10), 0);
	expect_key(&ev, "resolved", "outside-root");

	/* A failed open: joined to the walked directory. */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "/usr", 4, BPFD_PATH_BASE, "../etc/shadow",
						 14), 0);
	expect_key(&ev, "filename", "/etc/shadow");
	expect_key(&ev, "argument", "../etc/shadow");
	expect_key(&ev, "resolved", "false");

	/* No directory walked (a bad dirfd): the name as passed. */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "", 0, 0, "x/y", 4), 0);
	expect_key(&ev, "filename", "x/y");
	expect_key(&ev, "argument", NULL);

	/* Cut at its start. */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "/deep/file", 10,
						 BPFD_PATH_FILE | BPFD_PATH_TRUNCATED, "", 0), 0);
	expect_key(&ev, "filename", PATHNAME_TRUNCATED_MARK "/deep/file");
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "/deep", 5,
						 BPFD_PATH_BASE | BPFD_PATH_TRUNCATED, "a/../b", 6),
			 0);
	expect_key(&ev, "filename", PATHNAME_TRUNCATED_MARK "/deep/b");

	/* open_by_handle_at that failed: nothing at all. */
	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, "", 0, 0, "", 0), 0);
	expect_key(&ev, "filename", "");
	expect_key(&ev, "argument", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_too_long),
		cmocka_unit_test(test_event_keys),
	};

	return cmocka_run_group_tests_name("pathname", tests, NULL, NULL);
}
