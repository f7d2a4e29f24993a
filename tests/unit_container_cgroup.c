/* SPDX-License-Identifier: MIT */
/*
 * unit.container_cgroup: a container's top cgroup from a path, the choice
 * of its init, the paused list; and, against fake cgroup trees of plain
 * files in a temporary directory, what freeze, kill, the process listing
 * and the container scan read and write (no root, no real cgroups).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/cgroup.h"

#define ID_A "18972ac924553163ad57e5207f3a34af7c5e9917edd3cac5b5a45a0a4d50378a"
#define ID_B "e13ad6f215b5d90ce218dd4e992954ff42b1a6cb4cb742ec685e278e2bf0025d"
#define ID_C "18972ac9e8a7afd999004481ae3c0db9eeccff8fcf2134325b33bab5a62f0bbf"

static void expect_top(const char *path, const char *top, const char *runtime, const char *id)
{
	struct container_info info;
	char out[CGROUP_REL_PATH_MAX];

	assert_int_equal(container_cgroup_top(path, out, sizeof(out), &info), 0);
	assert_string_equal(out, top);
	assert_string_equal(info.runtime, runtime);
	assert_string_equal(info.id, id);
}

static void test_top(void **state)
{
	struct container_info info;
	char out[CGROUP_REL_PATH_MAX];

	(void)state;
	expect_top("/docker/" ID_A, "/docker/" ID_A, "docker", ID_A);
	expect_top("/docker/" ID_A "/", "/docker/" ID_A, "docker", ID_A);
	/* Sub-cgroups the container made: the whole container. */
	expect_top("/docker/" ID_A "/inner/deeper", "/docker/" ID_A, "docker", ID_A);
	expect_top("/libpod_parent/libpod-" ID_A "/container", "/libpod_parent/libpod-" ID_A,
		   "podman", ID_A);
	expect_top("/system.slice/docker-" ID_A ".scope/init.scope",
		   "/system.slice/docker-" ID_A ".scope", "docker", ID_A);
	/*
	 * A container nested in another is part of it: its name was the outer
	 * container's to choose (docs/containers.md).
	 */
	expect_top("/docker/" ID_A "/docker/" ID_B "/x", "/docker/" ID_A, "docker", ID_A);
	expect_top("/kubepods/besteffort/pod7d63f522-66a9-4124-8f05-99ff8a983e8e/" ID_A,
		   "/kubepods/besteffort/pod7d63f522-66a9-4124-8f05-99ff8a983e8e/" ID_A, "kube",
		   ID_A);
	expect_top("/lxc.payload.web/sub", "/lxc.payload.web", "lxc", "web");

	assert_int_equal(container_cgroup_top("/user.slice/session-1.scope", out, sizeof(out), &info),
			 -ENOENT);
	assert_int_equal(container_cgroup_top("/", out, sizeof(out), &info), -ENOENT);
	assert_int_equal(container_cgroup_top("/docker/" ID_A "/x", out, 10, &info), -ENAMETOOLONG);
}

static void test_init_choice(void **state)
{
	/* docker: the shim (100) started the init (200) and an exec'd process (300). */
	struct container_proc docker[] = {
		{ .pid = 300, .ppid = 100, .nspid = 7, .start = 50 },
		{ .pid = 200, .ppid = 100, .nspid = 1, .start = 90 },
		{ .pid = 201, .ppid = 200, .nspid = 2, .start = 91 },
	};
	/* Unknown namespace pids: the oldest of those started from outside. */
	struct container_proc old[] = {
		{ .pid = 40, .ppid = 30, .start = 20 },
		{ .pid = 35, .ppid = 1, .start = 10 },
		{ .pid = 41, .ppid = 35, .start = 5 },
	};
	/* Everyone's parent inside (not a real tree): the lowest pid. */
	struct container_proc loop[] = {
		{ .pid = 9, .ppid = 8 },
		{ .pid = 8, .ppid = 9 },
	};
	struct container_proc tie[] = {
		{ .pid = 12, .ppid = 1, .start = 5 },
		{ .pid = 11, .ppid = 1, .start = 5 },
	};

	(void)state;
	assert_int_equal(container_init_choose(docker, 3), 1);
	assert_int_equal(container_init_choose(old, 3), 1);
	assert_int_equal(container_init_choose(loop, 2), 1);
	assert_int_equal(container_init_choose(tie, 2), 1);
	assert_int_equal(container_init_choose(docker, 1), 0);
	assert_int_equal(container_init_choose(NULL, 0), -1);
}

static void test_paused_list(void **state)
{
	struct paused_containers *p = paused_containers_new();
	struct container_info a = { .runtime = "docker", .id = ID_A };
	struct container_info b = { .runtime = "docker", .id = ID_B };
	struct container_info many = { .runtime = "lxc" };
	size_t i;

	(void)state;
	assert_non_null(p);
	assert_int_equal(paused_containers_add(p, &a, "/docker/" ID_A), 1);
	assert_int_equal(paused_containers_add(p, &b, "/docker/" ID_B), 1);
	/* Again: refreshed and now the newest, not added twice. */
	assert_int_equal(paused_containers_add(p, &a, "/docker/" ID_A), 0);
	assert_int_equal(paused_containers_count(p), 2);
	assert_string_equal(paused_containers_at(p, 0)->info.id, ID_B);
	assert_string_equal(paused_containers_find(p, ID_A)->path, "/docker/" ID_A);
	paused_containers_remove(p, ID_B);
	paused_containers_remove(p, "nosuch");
	assert_null(paused_containers_find(p, ID_B));
	assert_int_equal(paused_containers_count(p), 1);
	/* Bounded: the oldest goes first. */
	for (i = 0; i < PAUSED_CONTAINERS_MAX; i++) {
		snprintf(many.id, sizeof(many.id), "c%zu", i);
		assert_true(paused_containers_add(p, &many, "/lxc/x") >= 0);
	}
	assert_int_equal(paused_containers_count(p), PAUSED_CONTAINERS_MAX);
	assert_null(paused_containers_find(p, ID_A));
	assert_non_null(paused_containers_find(p, "c0"));
	paused_containers_free(p);
	paused_containers_free(NULL);
}

/* A fake hierarchy: directories and plain files under a temporary root. */
struct fake {
	char root[256];
};

static void fake_mkdir(struct fake *f, const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void fake_write(struct fake *f, const char *rel, const char *text)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *fake_read(struct fake *f, const char *rel, char *buf, size_t size)
{
	char path[1024];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	snprintf(f->root, sizeof(f->root), "/tmp/bpfd-unit-cg-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_freeze_files(void **state)
{
	struct fake *f = *state;
	struct cgroup_hierarchy v2 = { .cgroup2 = true }, v1 = { .cgroup2 = false };
	struct cgroup_dir d1 = CGROUP_DIR_INIT, d2 = CGROUP_DIR_INIT, d3 = CGROUP_DIR_INIT;
	char buf[64];

	snprintf(v2.mount, sizeof(v2.mount), "%s/unified", f->root);
	snprintf(v1.mount, sizeof(v1.mount), "%s/pids", f->root);
	snprintf(v1.freezer, sizeof(v1.freezer), "%s/freezer", f->root);
	fake_mkdir(f, "/unified");
	fake_mkdir(f, "/unified/docker");
	fake_mkdir(f, "/unified/docker/" ID_A);
	fake_write(f, "/unified/docker/" ID_A "/cgroup.freeze", "0\n");
	fake_mkdir(f, "/pids");
	fake_mkdir(f, "/pids/docker");
	fake_mkdir(f, "/pids/docker/" ID_A);
	fake_mkdir(f, "/freezer");
	fake_mkdir(f, "/freezer/docker");
	fake_mkdir(f, "/freezer/docker/" ID_A);
	fake_write(f, "/freezer/docker/" ID_A "/freezer.state", "THAWED\n");

	assert_int_equal(cgroup_dir_open(&v2, "/docker/" ID_A, &d2), 0);
	assert_int_equal(cgroup_dir_open(&v1, "/docker/" ID_A, &d1), 0);
	assert_int_equal(container_cgroup_freeze(&v2, &d2, true), 0);
	assert_string_equal(fake_read(f, "/unified/docker/" ID_A "/cgroup.freeze", buf, sizeof(buf)),
			    "1");
	assert_int_equal(container_cgroup_freeze(&v2, &d2, false), 0);
	assert_string_equal(fake_read(f, "/unified/docker/" ID_A "/cgroup.freeze", buf, sizeof(buf)),
			    "0");
	/* v1: the freezer hierarchy, whatever hierarchy events come from. */
	assert_int_equal(container_cgroup_freeze(&v1, &d1, true), 0);
	assert_string_equal(fake_read(f, "/freezer/docker/" ID_A "/freezer.state", buf, sizeof(buf)),
			    "FROZEN");
	assert_int_equal(container_cgroup_freeze(&v1, &d1, false), 0);
	assert_string_equal(fake_read(f, "/freezer/docker/" ID_A "/freezer.state", buf, sizeof(buf)),
			    "THAWED");

	/* A gone cgroup, a cgroup without a freezer file, a hierarchy without a freezer. */
	assert_int_equal(cgroup_dir_open(&v2, "/docker/" ID_B, &d3), -ENOENT);
	fake_mkdir(f, "/unified/docker/" ID_B);
	fake_write(f, "/unified/docker/" ID_B "/cgroup.procs", "");
	assert_int_equal(cgroup_dir_open(&v2, "/docker/" ID_B, &d3), 0);
	assert_int_equal(container_cgroup_freeze(&v2, &d3, true), -EOPNOTSUPP);
	cgroup_dir_close(&d3);
	cgroup_dir_close(&d1);
	v1.freezer[0] = '\0';
	assert_int_equal(cgroup_dir_open(&v1, "/docker/" ID_A, &d1), 0);
	assert_int_equal(container_cgroup_freeze(&v1, &d1, true), -EOPNOTSUPP);
	cgroup_dir_close(&d1);
	cgroup_dir_close(&d2);
	cgroup_dir_close(&d2);	/* twice: harmless */
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

static void test_pids_recursive(void **state)
{
	struct fake *f = *state;
	struct cgroup_hierarchy h = { .cgroup2 = true };
	struct cgroup_dir d;
	pid_t *pids;
	size_t n;

	snprintf(h.mount, sizeof(h.mount), "%s", f->root);
	fake_mkdir(f, "/docker");
	fake_mkdir(f, "/docker/" ID_A);
	fake_mkdir(f, "/docker/" ID_A "/inner");
	fake_mkdir(f, "/docker/" ID_A "/inner/deeper");
	fake_write(f, "/docker/" ID_A "/cgroup.procs", "30\n10\n");
	fake_write(f, "/docker/" ID_A "/inner/cgroup.procs", "");
	fake_write(f, "/docker/" ID_A "/inner/deeper/cgroup.procs", "20\n");
	assert_int_equal(cgroup_dir_open(&h, "/docker/" ID_A, &d), 0);
	assert_int_equal(container_cgroup_pids(&d, &pids, &n), 0);
	cgroup_dir_close(&d);
	assert_int_equal(n, 3);
	qsort(pids, n, sizeof(*pids), cmp_pid);
	assert_int_equal(pids[0], 10);
	assert_int_equal(pids[1], 20);
	assert_int_equal(pids[2], 30);
	free(pids);
	assert_int_equal(cgroup_dir_open(&h, "/docker/" ID_B, &d), -ENOENT);
}

static void test_find(void **state)
{
	struct fake *f = *state;
	struct cgroup_hierarchy h = { .cgroup2 = true };
	struct container_found found[4];
	size_t n;

	snprintf(h.mount, sizeof(h.mount), "%s/", f->root);	/* a trailing slash too */
	fake_mkdir(f, "/docker");
	fake_mkdir(f, "/docker/" ID_A);
	fake_mkdir(f, "/docker/" ID_A "/inner");
	fake_mkdir(f, "/docker/" ID_A "/docker");
	fake_mkdir(f, "/docker/" ID_A "/docker/" ID_B);
	fake_mkdir(f, "/docker/" ID_C);
	fake_mkdir(f, "/user.slice");

	assert_int_equal(container_cgroup_find(&h, "", found, 4, &n), 0);
	assert_int_equal(n, 2);
	/* A common prefix: both, each at its top cgroup. */
	assert_int_equal(container_cgroup_find(&h, "18972ac9", found, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(found[0].path + strlen("/docker/"), found[0].info.id);
	assert_string_equal(found[1].path + strlen("/docker/"), found[1].info.id);
	/* A cgroup nested in a container is no container of its own, whatever its name. */
	assert_int_equal(container_cgroup_find(&h, "e13a", found, 4, &n), 0);
	assert_int_equal(n, 0);
	/* Counted beyond the room given. */
	assert_int_equal(container_cgroup_find(&h, "", found, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(container_cgroup_find(&h, "ffff", found, 4, &n), 0);
	assert_int_equal(n, 0);
}


static uint64_t fstat_ino(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static uint64_t fake_ino(struct fake *f, const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/*
 * An event's cgroup is opened only while its name still leads to it, and
 * its top through "..": a cgroup renamed or made anew under the old name
 * is refused.
 */
static void test_open_event(void **state)
{
	struct fake *f = *state;
	struct cgroup_hierarchy h = { .cgroup2 = true };
	struct cgroup_dir d;
	const char *sub = "/docker/" ID_A "/inner/deeper";
	char from[4096], to[4096];
	uint64_t id;

	snprintf(h.mount, sizeof(h.mount), "%s", f->root);
	fake_mkdir(f, "/docker");
	fake_mkdir(f, "/docker/" ID_A);
	fake_mkdir(f, "/docker/" ID_A "/inner");
	fake_mkdir(f, sub);
	id = fake_ino(f, sub);
	assert_int_equal(cgroup_dir_open_event(&h, sub, id, "/docker/" ID_A, &d), 0);
	assert_int_equal(fstat_ino(d.fd), fake_ino(f, "/docker/" ID_A));
	cgroup_dir_close(&d);
	/* Not that cgroup's id; a top that is not an ancestor. */
	assert_int_equal(cgroup_dir_open_event(&h, sub, id + 1, "/docker/" ID_A, &d), -ESTALE);
	assert_int_equal(cgroup_dir_open_event(&h, sub, id, "/docker/" ID_B, &d), -EINVAL);
	assert_int_equal(d.fd, -1);
	/* Gone, then made anew under the same name: another inode. */
	snprintf(from, sizeof(from), "%s%s", f->root, sub);
	assert_int_equal(rmdir(from), 0);
	assert_int_equal(cgroup_dir_open_event(&h, sub, id, "/docker/" ID_A, &d), -ENOENT);
	fake_mkdir(f, "/docker/" ID_A "/x");
	fake_mkdir(f, sub);
	snprintf(to, sizeof(to), "%s/docker/" ID_A "/x", f->root);
	assert_int_equal(rmdir(to), 0);
	if (fake_ino(f, sub) != id)
		assert_int_equal(cgroup_dir_open_event(&h, sub, id, "/docker/" ID_A, &d), -ESTALE);
}

/* Two cgroups that name themselves after one container are both reported. */
static void test_find_same_id_twice(void **state)
{
	struct fake *f = *state;
	struct cgroup_hierarchy h = { .cgroup2 = true };
	struct container_found found[4];
	size_t n;

	snprintf(h.mount, sizeof(h.mount), "%s", f->root);
	fake_mkdir(f, "/docker");
	fake_mkdir(f, "/docker/" ID_A);
	fake_mkdir(f, "/user");
	fake_mkdir(f, "/user/docker");
	fake_mkdir(f, "/user/docker/" ID_A);
	assert_int_equal(container_cgroup_find(&h, ID_A, found, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_not_equal(found[0].path, found[1].path);
}

/* Without cgroup.kill: freeze, SIGKILL what cgroup.procs lists, thaw. */
static void test_kill_by_signals(void **state)
{
	struct fake *f = *state;
	struct cgroup_hierarchy h = { .cgroup2 = true };
	struct cgroup_dir d;
	const char *how;
	char procs[64], buf[16];
	size_t killed;
	int status;
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_true(child > 0);
	snprintf(h.mount, sizeof(h.mount), "%s", f->root);
	fake_mkdir(f, "/docker");
	fake_mkdir(f, "/docker/" ID_A);
	fake_mkdir(f, "/docker/" ID_A "/sub");
	fake_write(f, "/docker/" ID_A "/cgroup.freeze", "0\n");
	/* pid 1 and the caller are never signalled, even when listed. */
	snprintf(procs, sizeof(procs), "1\n%d\n", (int)getpid());
	fake_write(f, "/docker/" ID_A "/cgroup.procs", procs);
	snprintf(procs, sizeof(procs), "%d\n", (int)child);
	fake_write(f, "/docker/" ID_A "/sub/cgroup.procs", procs);

	assert_int_equal(cgroup_dir_open(&h, "/docker/" ID_A, &d), 0);
	assert_int_equal(container_cgroup_kill(&h, &d, getpid(), &how, &killed), 0);
	assert_string_equal(how, "freeze and signal");
	assert_int_equal(killed, 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Thawed again. */
	assert_string_equal(fake_read(f, "/docker/" ID_A "/cgroup.freeze", buf, sizeof(buf)), "0");

	/* With cgroup.kill the kernel does it all: "1" is written there. */
	fake_write(f, "/docker/" ID_A "/cgroup.kill", "");
	assert_int_equal(container_cgroup_kill(&h, &d, getpid(), &how, &killed), 0);
	assert_string_equal(how, "cgroup.kill");
	cgroup_dir_close(&d);
	assert_string_equal(fake_read(f, "/docker/" ID_A "/cgroup.kill", buf, sizeof(buf)), "1");
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_init_choice),
		cmocka_unit_test(test_paused_list),
	};
	const struct CMUnitTest fake_tree[] = {
		cmocka_unit_test_setup_teardown(test_freeze_files, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_pids_recursive, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_find, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_open_event, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_find_same_id_twice, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_kill_by_signals, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests_name("pure", pure, NULL, NULL) |
	       cmocka_run_group_tests_name("fake cgroup trees", fake_tree, NULL, NULL);
}
