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
#include <elf.h>
#include <sys/stat.h>

#include "tracers/bashreadline/elfsym.h"

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

/* A header and one symbol table that claims @table bytes at 0x2000; the file is sparse. */
static void write_hostile(const char *path, uint64_t table, off_t size)
{
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				       EV_CURRENT },
			  .e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_shoff = 0x1000,
			  .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			  .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 2 };
	Elf64_Shdr sh[2] = { { 0 }, { .sh_type = SHT_DYNSYM, .sh_offset = 0x2000, .sh_size = table,
				      .sh_link = 1, .sh_entsize = sizeof(Elf64_Sym) } };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &eh, sizeof(eh), 0), (ssize_t)sizeof(eh));
	assert_int_equal(pwrite(fd, sh, sizeof(sh), 0x1000), (ssize_t)sizeof(sh));
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/* Hostile files: read within a budget, never mapped, never waited on. */
static void test_hostile_files(void **state)
{
	char dir[] = "/tmp/unit-elfsym-XXXXXX", path[64];
	uint64_t off;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bash", dir);

	/* A 3 GiB table (a sparse file): refused before reading it. */
	write_hostile(path, 3ULL << 30, 0x2000 + (3LL << 30));
	assert_int_equal(elf_symbol_offset(path, "readline", &off), -EFBIG);

	/* A table within the budget that the file no longer holds (truncated): a short read. */
	write_hostile(path, 1 << 20, 0x4000);
	assert_int_equal(elf_symbol_offset(path, "readline", &off), -ENOENT);

	/* A FIFO where the binary was: the open does not wait for a writer. */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_true(elf_symbol_offset(path, "readline", &off) < 0);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_own_function),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_hostile_files),
	};

	return cmocka_run_group_tests_name("elfsym", tests, NULL, NULL);
}
