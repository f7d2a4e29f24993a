// SPDX-License-Identifier: MIT
/* The open tracer's flag names (tracers/open/open_flags.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracers/open/open_flags.h"

static void expect_flags(uint64_t flags, const char *want)
{
	char buf[256];
	size_t n = open_flags_format(flags, buf, sizeof(buf));

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_open_flags(void **state)
{
	char buf[16];
	size_t n;

	(void)state;
	expect_flags(0, "O_RDONLY");
	expect_flags(01 | 0100 | 01000, "O_WRONLY|O_CREAT|O_TRUNC");
	expect_flags(02000000, "O_RDONLY|O_CLOEXEC");
	expect_flags(02 | 0200 | 0100, "O_RDWR|O_CREAT|O_EXCL");
	expect_flags(03, "O_ACCMODE");
	expect_flags(0100000 | 02000000, "O_RDONLY|O_LARGEFILE|O_CLOEXEC");
	expect_flags(0200000 | 04000 | 02000000, "O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC");
	expect_flags(01 | 04010000, "O_WRONLY|O_SYNC");
	expect_flags(01 | 010000, "O_WRONLY|O_DSYNC");
	expect_flags(04000000, "O_RDONLY|__O_SYNC");
	expect_flags(02 | 020200000, "O_RDWR|O_TMPFILE");
	expect_flags(020000000, "O_RDONLY|__O_TMPFILE");
	expect_flags(010000000 | 02000000, "O_RDONLY|O_CLOEXEC|O_PATH");
	expect_flags(0400 | 02000 | 020000 | 040000 | 0400000 | 01000000,
		     "O_RDONLY|O_NOCTTY|O_APPEND|O_ASYNC|O_DIRECT|O_NOFOLLOW|O_NOATIME");
	expect_flags(01 | 0x80000000ull, "O_WRONLY|0x80000000");
	expect_flags(0x40000000 | 0x100000000ull | 02000000, "O_RDONLY|O_CLOEXEC|0x140000000");
	expect_flags(UINT64_MAX,
		     "O_ACCMODE|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_ASYNC|"
		     "O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_SYNC|O_PATH|O_TMPFILE|"
		     "0xffffffffff80003c");

	/* Truncated: size - 1 bytes, NUL-terminated, a prefix of the whole. */
	n = open_flags_format(02000000, buf, 8);
	assert_int_equal(n, 7);
	assert_string_equal(buf, "O_RDONL");
	n = open_flags_format(0, buf, 1);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	n = open_flags_format(0, buf, 0);
	assert_int_equal(n, 0);
	assert_int_equal(buf[0], 'x');
	n = open_flags_format(0, buf, 9);
	assert_int_equal(n, 8);
	assert_string_equal(buf, "O_RDONLY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
