// SPDX-License-Identifier: MIT
/*
 * uprobe.c: a uprobe is attached through a BPF link that holds its perf
 * event (the returned fd is the link, no perf event fd is left open), and
 * a failure leaves no fd behind. The attaching cases need root (a BPF
 * program and the uprobe PMU) and skip without it.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf/uprobe.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* A kprobe-type program that returns 0, or -errno (no privilege). */
static int trivial_program(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bpfd_unit", "GPL", insns, 2, NULL);
}

/* A file no process maps: probed at offset 0, nothing ever hits it. */
static void probe_target(char *path, size_t size)
{
	char nops[64];
	int fd;

	snprintf(path, size, "/tmp/bpfd-unit-uprobe-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(nops, 0x90, sizeof(nops));
	assert_int_equal(write(fd, nops, sizeof(nops)), (ssize_t)sizeof(nops));
	close(fd);
}

static void test_no_program_leaves_no_fd(void **state)
{
	char path[64];
	int before, r;

	(void)state;
	probe_target(path, sizeof(path));
	before = open_fds();
	/* As root the perf event opens and the link fails: the event is closed. */
	r = uprobe_attach(-1, path, 0, true);
	assert_true(r < 0);
	assert_int_equal(open_fds(), before);
	unlink(path);
}

static void test_missing_binary(void **state)
{
	int before = open_fds(), prog = trivial_program(), r;

	(void)state;
	r = uprobe_attach(prog >= 0 ? prog : -1, "/nonexistent/bpfd-unit-bash", 0, true);
	assert_true(r < 0);
	if (prog >= 0)
		close(prog);
	assert_int_equal(open_fds(), before);
}

static void test_attached_through_a_link(void **state)
{
	char path[64], fdpath[64], target[64] = "", info[1024];
	int prog, before, link, fd;
	ssize_t n;

	(void)state;
	prog = trivial_program();
	if (prog < 0)
		skip();		/* no privilege to load BPF */
	probe_target(path, sizeof(path));
	before = open_fds();
	link = uprobe_attach(prog, path, 0, true);
	if (link == -EACCES || link == -EPERM || link == -EOPNOTSUPP) {
		close(prog);
		unlink(path);
		skip();
	}
	assert_true(link >= 0);
	/* One fd more: the link; the perf event is the link's, not ours. */
	assert_int_equal(open_fds(), before + 1);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", link);
	assert_true(readlink(fdpath, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "anon_inode:bpf_link");
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fdinfo/%d", link);
	fd = open(fdpath, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, info, sizeof(info) - 1);
	close(fd);
	assert_true(n > 0);
	info[n] = '\0';
	assert_non_null(strstr(info, "link_type:\tperf\n"));
	assert_non_null(strstr(info, "event_type:\turetprobe\n"));
	assert_int_equal(fcntl(link, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(link);
	close(prog);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_program_leaves_no_fd),
		cmocka_unit_test(test_missing_binary),
		cmocka_unit_test(test_attached_through_a_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
