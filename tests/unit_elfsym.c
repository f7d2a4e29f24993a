// SPDX-License-Identifier: MIT
/* The ELF symbol reader behind container uprobes: real and malformed files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "elfsym.h"

/* A function of this very binary: its offset must be found. */
int unit_elfsym_marker(int x);
int unit_elfsym_marker(int x)
{
	return x + 1;
}

static void test_finds_own_function(void **state)
{
	uint64_t off = 0;

	(void)state;
	assert_int_equal(elf_symbol_offset("/proc/self/exe", "unit_elfsym_marker", &off), 0);
	assert_true(off > 0);
	assert_int_equal(elf_symbol_offset("/proc/self/exe", "main", &off), 0);
}

static void test_missing_symbol(void **state)
{
	uint64_t off;

	(void)state;
	assert_int_equal(elf_symbol_offset("/proc/self/exe", "no_such_function_here", &off),
			 -ENOENT);
	assert_int_equal(elf_symbol_offset("/nonexistent/file", "main", &off), -ENOENT);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_malformed_files(void **state)
{
	char path[] = "/tmp/unit-elfsym-XXXXXX";
	unsigned char buf[4096];
	uint64_t off;
	FILE *self;
	size_t n;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	write_file(path, "not an elf file at all, just text", 33);
	assert_int_equal(elf_symbol_offset(path, "main", &off), -ENOEXEC);

	write_file(path, "", 0);
	assert_int_equal(elf_symbol_offset(path, "main", &off), -ENOEXEC);

	/* A real header whose section table lies past the end. */
	self = fopen("/proc/self/exe", "rb");
	assert_non_null(self);
	n = fread(buf, 1, sizeof(buf), self);
	fclose(self);
	write_file(path, buf, n);
	assert_int_equal(elf_symbol_offset(path, "main", &off), -ENOEXEC);

	/* The header with random bytes behind the magic: never a crash. */
	for (int round = 0; round < 200; round++) {
		for (size_t i = 16; i < 128; i++)
			buf[i] = (unsigned char)rand();
		write_file(path, buf, 128 + (size_t)(rand() % 2048));
		elf_symbol_offset(path, "main", &off);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_own_function),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_malformed_files),
	};

	return cmocka_run_group_tests_name("elfsym", tests, NULL, NULL);
}
