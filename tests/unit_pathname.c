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
#include "tracers/common/path.h"

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

/* The keys of @path (@flags) and @arg, which is passed with its NUL as records hold it. */
static void expect_keys(const char *path, uint32_t flags, const char *arg, const char *filename,
			const char *argument, const char *resolved)
{
	struct event ev;

	event_init(&ev);
	assert_int_equal(pathname_add_event_keys(&ev, path, strlen(path), flags, arg,
						 strlen(arg) + 1), 0);
	expect_key(&ev, "filename", filename);
	expect_key(&ev, "argument", argument);
	expect_key(&ev, "resolved", resolved);
}

static void test_event_keys(void **state)
{
	(void)state;
	/* An opened file: its path; the argument kept as it was passed. */
	expect_keys("/etc/shadow", BPFD_PATH_FILE, "shadow", "/etc/shadow", "shadow", "true");
	/* The same name: no argument key. */
	expect_keys("/etc/shadow", BPFD_PATH_FILE, "/etc/shadow", "/etc/shadow", NULL, "true");
	/* Outside the opener's root. */
	expect_keys("/memfd:x", BPFD_PATH_FILE | BPFD_PATH_OUTSIDE_ROOT, "/dev/fd/3", "/memfd:x",
		    "/dev/fd/3", "outside-root");
	/* A failed open: joined to the walked directory. */
	expect_keys("/usr", BPFD_PATH_BASE, "../etc/shadow", "/etc/shadow", "../etc/shadow",
		    "false");
	/* No directory walked (a bad dirfd): the name as passed. */
	expect_keys("", 0, "x/y", "x/y", NULL, "false");
	/* Cut at its start. */
	expect_keys("/deep/file", BPFD_PATH_FILE | BPFD_PATH_TRUNCATED, "",
		    PATHNAME_TRUNCATED_MARK "/deep/file", NULL, "true");
	expect_keys("/deep", BPFD_PATH_BASE | BPFD_PATH_TRUNCATED, "a/../b",
		    PATHNAME_TRUNCATED_MARK "/deep/b", "a/../b", "false");
	/* open_by_handle_at that failed: nothing at all. */
	expect_keys("", 0, "", "", NULL, "false");
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
