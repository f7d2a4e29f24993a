// SPDX-License-Identifier: MIT
/* The process table (proctable.c): records in, ancestry out, bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/proctable.h"
#include "lib/strbuf.h"
#include "tracers/common/record.h"

/* A start in ns that lands in tick @n whatever USER_HZ is (up to 1000). */
static uint64_t tick(const struct proc_table *t, uint64_t n)
{
	return n * t->tick_ns + t->tick_ns / 2;
}

static void fork_rec(struct proc_table *t, uint32_t parent, uint64_t pstart, const char *comm,
		     uint32_t child, uint64_t cstart)
{
	struct bpfd_proc_record r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = BPFD_RECORD_PROC_FORK;
	r.hdr.pid = parent;
	r.hdr.start_ns = tick(t, pstart);
	memcpy(r.hdr.comm, comm, strlen(comm));
	r.child = child;
	r.child_start_ns = tick(t, cstart);
	assert_int_equal(proc_table_handle(t, &r, sizeof(r)), 0);
}

static void exec_rec(struct proc_table *t, uint32_t pid, uint64_t start, uint32_t ppid,
		     uint64_t pstart, const char *comm, const char *exe, const char *argv,
		     size_t argv_len)
{
	char buf[sizeof(struct bpfd_proc_record) + 512];
	struct bpfd_proc_record *r = (struct bpfd_proc_record *)buf;
	size_t exe_len = strlen(exe);

	memset(buf, 0, sizeof(buf));
	r->hdr.type = BPFD_RECORD_PROC_EXEC;
	r->hdr.pid = pid;
	r->hdr.ppid = ppid;
	r->hdr.start_ns = tick(t, start);
	r->parent_start_ns = tick(t, pstart);
	memcpy(r->hdr.comm, comm, strlen(comm));
	r->exe_len = exe_len;
	r->argv_len = argv_len;
	memcpy(r->buf, exe, exe_len);
	memcpy(r->buf + exe_len, argv, argv_len);
	assert_int_equal(proc_table_handle(t, buf, sizeof(*r) + exe_len + argv_len), 0);
}

static void exit_rec(struct proc_table *t, uint32_t pid, uint64_t start)
{
	struct bpfd_record r;

	memset(&r, 0, sizeof(r));
	r.type = BPFD_RECORD_PROC_EXIT;
	r.pid = r.tid = pid;
	r.start_ns = tick(t, start);
	assert_int_equal(proc_table_handle(t, &r, sizeof(r)), 0);
}

static void enrich(struct proc_table *t, struct event *ev, uint32_t pid, uint64_t start,
		   size_t depth)
{
	event_init(ev);
	ev->pid = pid;
	ev->start_ns = tick(t, start);
	proc_table_enrich(t, ev, depth);
}

static bool str_is(const char *s, size_t len, const char *want)
{
	return s && len == strlen(want) && !memcmp(s, want, len);
}

/* A chain whose middle exited is still named in full; exits free what nobody needs. */
static void test_chain_survives_exit(void **state)
{
	static struct event ev;
	struct proc_table t;

	(void)state;
	assert_int_equal(proc_table_init(&t, 64), 0);
	assert_int_equal(proc_table_seed(&t, 1, 0, 0, 0, "init", "/sbin/init", 10, "init\0", 5), 0);
	fork_rec(&t, 1, 0, "init", 100, 10);
	exec_rec(&t, 100, 10, 1, 0, "nginx", "/usr/sbin/nginx", "nginx\0-g\0off\0", 13);
	fork_rec(&t, 100, 10, "nginx", 200, 20);
	exec_rec(&t, 200, 20, 100, 10, "sh", "/usr/bin/dash", "sh\0-c\0x\0", 8);
	fork_rec(&t, 200, 20, "sh", 300, 30);
	exit_rec(&t, 200, 20);	/* the middle one goes before its child runs */
	exec_rec(&t, 300, 30, 1, 0, "id", "/usr/bin/id", "id\0", 3);

	enrich(&t, &ev, 300, 30, 16);
	assert_true(ev.has_process);
	assert_true(str_is(ev.exe, ev.exe_len, "/usr/bin/id"));
	assert_int_equal(ev.n_ancestors, 3);
	assert_int_equal(ev.ancestors[0].pid, 200);
	assert_true(str_is(ev.ancestors[0].command, ev.ancestors[0].command_len, "sh"));
	assert_true(str_is(ev.ancestors[0].argv, ev.ancestors[0].argv_len, "sh -c x"));
	assert_true(str_is(ev.ancestors[1].exe, ev.ancestors[1].exe_len, "/usr/sbin/nginx"));
	assert_true(str_is(ev.ancestors[2].command, ev.ancestors[2].command_len, "init"));
	assert_int_equal(t.kept, 1);

	/* The depth asked for, no more. */
	enrich(&t, &ev, 300, 30, 1);
	assert_int_equal(ev.n_ancestors, 1);

	/* The last one goes: its exited parent with it, nginx and init stay. */
	exit_rec(&t, 300, 30);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.kept, 0);
	assert_null(proc_table_find(&t, 200, tick(&t, 20)));
	proc_table_release(&t);
}

/* @pid's event as JSON, in @out (cleared first). */
static const char *json_of(struct proc_table *t, struct event *ev, uint32_t pid, uint64_t start,
			   struct strbuf *out)
{
	enrich(t, ev, pid, start, 4);
	out->len = 0;
	assert_int_equal(event_to_json(ev, out), 0);
	return out->buf;
}

/*
 * An event's JSON names its ancestors as the table has them now: made once
 * for a process's events in a row, made again when the table changed (a
 * parent that ran another program since) or is another table.
 */
static void test_json_follows_the_table(void **state)
{
	static struct event ev;
	struct strbuf a = { 0 }, b = { 0 };
	struct proc_table t;

	(void)state;
	assert_int_equal(proc_table_init(&t, 64), 0);
	assert_int_equal(proc_table_seed(&t, 1, 0, 0, 0, "init", "/sbin/init", 10, "init\0", 5), 0);
	fork_rec(&t, 1, 0, "init", 100, 10);
	exec_rec(&t, 100, 10, 1, 0, "bash", "/usr/bin/bash", "bash\0", 5);
	fork_rec(&t, 100, 10, "bash", 200, 20);
	exec_rec(&t, 200, 20, 100, 10, "cat", "/usr/bin/cat", "cat\0", 4);

	json_of(&t, &ev, 200, 20, &a);
	assert_non_null(strstr(a.buf, "\"exe\":\"/usr/bin/bash\""));
	json_of(&t, &ev, 200, 20, &b);
	assert_string_equal(a.buf, b.buf);

	/* The parent runs another program: the child's next event says so. */
	exec_rec(&t, 100, 10, 1, 0, "python3", "/usr/bin/python3", "python3\0", 8);
	json_of(&t, &ev, 200, 20, &b);
	assert_non_null(strstr(b.buf, "\"exe\":\"/usr/bin/python3\""));
	assert_null(strstr(b.buf, "/usr/bin/bash"));

	/* Another table with the same pids and start times: its own ancestors. */
	proc_table_release(&t);
	assert_int_equal(proc_table_init(&t, 64), 0);
	assert_int_equal(proc_table_seed(&t, 1, 0, 0, 0, "init", "/sbin/init", 10, "init\0", 5), 0);
	fork_rec(&t, 1, 0, "init", 100, 10);
	exec_rec(&t, 100, 10, 1, 0, "sshd", "/usr/sbin/sshd", "sshd\0", 5);
	fork_rec(&t, 100, 10, "sshd", 200, 20);
	exec_rec(&t, 200, 20, 100, 10, "cat", "/usr/bin/cat", "cat\0", 4);
	json_of(&t, &ev, 200, 20, &a);
	assert_non_null(strstr(a.buf, "/usr/sbin/sshd"));
	assert_null(strstr(a.buf, "python3"));
	proc_table_release(&t);
	free(a.buf);
	free(b.buf);
}

/*
 * A run of events of one process pays the look-ups once: the next event
 * (in another struct event) gets the same ancestors, and any change of the
 * table, another process, another depth or an unknown process does not
 * reuse them.
 */
static void test_enrich_follows_the_table(void **state)
{
	static struct event a, b;
	struct proc_table t;
	uint64_t unknown;

	(void)state;
	assert_int_equal(proc_table_init(&t, 64), 0);
	assert_int_equal(proc_table_seed(&t, 1, 0, 0, 0, "init", "/sbin/init", 10, "init\0", 5), 0);
	fork_rec(&t, 1, 0, "init", 100, 10);
	exec_rec(&t, 100, 10, 1, 0, "bash", "/usr/bin/bash", "bash\0-l\0", 8);
	fork_rec(&t, 100, 10, "bash", 200, 20);
	exec_rec(&t, 200, 20, 100, 10, "cat", "/usr/bin/cat", "cat\0", 4);
	fork_rec(&t, 1, 0, "init", 300, 30);

	enrich(&t, &a, 200, 20, 4);
	enrich(&t, &b, 200, 20, 4);
	assert_int_equal(a.process_version, b.process_version);
	assert_true(str_is(b.exe, b.exe_len, "/usr/bin/cat"));
	assert_int_equal(b.n_ancestors, 2);
	assert_int_equal(b.ancestors[0].pid, 100);
	assert_true(str_is(b.ancestors[0].argv, b.ancestors[0].argv_len, "bash -l"));
	assert_true(str_is(b.ancestors[1].command, b.ancestors[1].command_len, "init"));

	/* Another depth. */
	enrich(&t, &b, 200, 20, 1);
	assert_int_equal(b.n_ancestors, 1);
	enrich(&t, &b, 200, 20, 4);
	assert_int_equal(b.n_ancestors, 2);

	/* Another process in between: its own, then the first one's again. */
	enrich(&t, &b, 300, 30, 4);
	assert_true(str_is(b.exe, b.exe_len, "/sbin/init"));	/* a fork runs its parent's */
	assert_true(str_is(b.ancestors[0].command, b.ancestors[0].command_len, "init"));
	assert_int_equal(b.n_ancestors, 1);
	enrich(&t, &b, 200, 20, 4);
	assert_int_equal(b.n_ancestors, 2);
	assert_int_equal(b.ancestors[0].pid, 100);

	/* The parent runs another program: the next event of the same process says so. */
	exec_rec(&t, 100, 10, 1, 0, "python3", "/usr/bin/python3", "python3\0", 8);
	enrich(&t, &b, 200, 20, 4);
	assert_true(b.process_version > a.process_version);
	assert_true(str_is(b.ancestors[0].exe, b.ancestors[0].exe_len, "/usr/bin/python3"));
	assert_true(str_is(b.ancestors[0].command, b.ancestors[0].command_len, "python3"));

	/* The same pid with another start is another process: not known, counted each time. */
	unknown = t.unknown;
	enrich(&t, &b, 200, 21, 4);
	assert_int_equal(b.process_version, 0);
	assert_null(b.exe);
	enrich(&t, &b, 200, 21, 4);
	assert_int_equal(t.unknown, unknown + 2);

	/* Its exit: the next event of the same pid and start finds nothing. */
	exit_rec(&t, 200, 20);
	enrich(&t, &b, 200, 20, 4);
	assert_int_equal(b.process_version, 0);
	assert_null(b.exe);
	proc_table_release(&t);
}

/* A fork runs its parent's program: exe and argv shared until it execs. */
static void test_fork_shares_image(void **state)
{
	static struct event ev;
	struct proc_table t;
	size_t images;

	(void)state;
	assert_int_equal(proc_table_init(&t, 64), 0);
	exec_rec(&t, 10, 1, 1, 0, "bash", "/usr/bin/bash", "bash\0", 5);
	images = t.images;
	fork_rec(&t, 10, 1, "bash", 11, 2);
	fork_rec(&t, 11, 2, "bash", 12, 3);	/* a double fork */
	exit_rec(&t, 11, 2);
	assert_int_equal(t.images, images);
	enrich(&t, &ev, 12, 3, 8);
	assert_true(str_is(ev.exe, ev.exe_len, "/usr/bin/bash"));
	assert_int_equal(ev.n_ancestors, 2);
	assert_int_equal(ev.ancestors[0].pid, 11);
	assert_int_equal(ev.ancestors[1].pid, 10);
	proc_table_release(&t);
}

/* A pid reused after an exit is another process: it inherits nothing. */
static void test_pid_reuse(void **state)
{
	static struct event ev;
	struct proc_table t;

	(void)state;
	assert_int_equal(proc_table_init(&t, 64), 0);
	exec_rec(&t, 50, 1, 1, 0, "sshd", "/usr/sbin/sshd", "sshd\0", 5);
	fork_rec(&t, 50, 1, "sshd", 60, 2);
	exec_rec(&t, 60, 2, 50, 1, "bash", "/usr/bin/bash", "bash\0", 5);
	exit_rec(&t, 60, 2);
	exit_rec(&t, 50, 1);
	/* pid 60 again, started later, by another parent: none of the old chain. */
	fork_rec(&t, 1, 0, "systemd", 60, 900);
	enrich(&t, &ev, 60, 900, 8);
	assert_null(ev.exe);
	assert_int_equal(ev.n_ancestors, 0);	/* its parent, pid 1, is not in the table */
	/* And an event of the old pid 60 finds nothing either. */
	enrich(&t, &ev, 60, 2, 8);
	assert_int_equal(ev.n_ancestors, 0);
	assert_true(t.unknown >= 1);
	proc_table_release(&t);
}

/*
 * Bounded: a fork loop of exiting processes leaves nothing; live ones fill
 * the table, then new ones are dropped and counted, never evicting a live one;
 * exited entries kept for descendants are evicted oldest first.
 */
static void test_bounded(void **state)
{
	static struct event ev;
	struct proc_table t;
	uint32_t pid;

	(void)state;
	assert_int_equal(proc_table_init(&t, 1024), 0);
	exec_rec(&t, 2, 1, 1, 0, "sh", "/bin/sh", "sh\0", 3);
	for (pid = 1000; pid < 101000; pid++) {
		fork_rec(&t, 2, 1, "sh", pid, pid);
		exit_rec(&t, pid, pid);
	}
	assert_int_equal(t.n, 1);
	assert_int_equal(t.images, 1);

	for (pid = 1000; pid < 3000; pid++)
		fork_rec(&t, 2, 1, "sh", pid, 200000 + pid);
	assert_int_equal(t.n, 1024);
	assert_int_equal(t.dropped, 3000 - 1000 - 1023);
	assert_int_equal(t.evicted, 0);

	/* Exited parents with live children: kept, then evicted oldest first. */
	for (pid = 1000; pid < 1000 + 1023; pid++)
		exit_rec(&t, pid, 200000 + pid);
	assert_int_equal(t.n, 1);
	fork_rec(&t, 2, 1, "sh", 5000, 300000);
	fork_rec(&t, 5000, 300000, "sh", 5001, 300001);
	exit_rec(&t, 5000, 300000);
	assert_int_equal(t.kept, 1);
	for (pid = 6000; pid < 6000 + 1021; pid++)
		fork_rec(&t, 2, 1, "sh", pid, 400000 + pid);
	assert_int_equal(t.n, 1024);
	fork_rec(&t, 2, 1, "sh", 9000, 500000);
	assert_int_equal(t.evicted, 1);
	assert_int_equal(t.kept, 0);
	/* The child lost that part of its chain, nothing else. */
	enrich(&t, &ev, 5001, 300001, 8);
	assert_int_equal(ev.n_ancestors, 0);
	assert_non_null(proc_table_find(&t, 9000, tick(&t, 500000)));
	proc_table_release(&t);
}

/* Malformed records are refused and counted, never read past their end. */
static void test_bad_records(void **state)
{
	char buf[sizeof(struct bpfd_proc_record) + 16];
	struct bpfd_proc_record *r = (struct bpfd_proc_record *)buf;
	struct proc_table t;

	(void)state;
	assert_int_equal(proc_table_init(&t, 64), 0);
	memset(buf, 0, sizeof(buf));
	r->hdr.type = BPFD_RECORD_PROC_EXEC;
	r->exe_len = 4000;
	assert_int_equal(proc_table_handle(&t, buf, sizeof(buf)), -EINVAL);
	r->hdr.type = BPFD_RECORD_PROC_FORK;
	assert_int_equal(proc_table_handle(&t, buf, 10), -EINVAL);
	assert_int_equal(t.bad_records, 2);
	assert_int_equal(t.n, 0);
	proc_table_release(&t);
}

/* /proc: this process and its parent are found, with exe and argv. */
static void test_seed_proc(void **state)
{
	static struct event ev;
	struct proc_table t;
	char exe[4096];
	ssize_t n;
	FILE *f;
	unsigned long long start = 0;
	char line[1024], *rp;
	int dir;

	(void)state;
	assert_int_equal(proc_table_init(&t, 0), 0);
	assert_true(proc_table_seed_proc(&t, "/proc") > 1);
	f = fopen("/proc/self/stat", "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	rp = strrchr(line, ')');
	for (int i = 0; i < 20; i++)
		rp = strchr(rp + 1, ' ');
	start = strtoull(rp + 1, NULL, 10);
	event_init(&ev);
	ev.pid = getpid();
	ev.ppid = getppid();
	ev.start_ns = start * t.tick_ns;
	proc_table_enrich(&t, &ev, 4);
	/*
	 * As the table read it, through its /proc/PID directory: under valgrind,
	 * readlink("/proc/self/exe") names the guest, the directory's "exe"
	 * the tool running it.
	 */
	snprintf(line, sizeof(line), "/proc/%d", (int)getpid());
	dir = open(line, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir >= 0);
	n = readlinkat(dir, "exe", exe, sizeof(exe));
	close(dir);
	assert_true(n > 0);
	assert_true(str_is(ev.exe, ev.exe_len, (exe[n] = '\0', exe)));
	assert_true(ev.n_ancestors >= 1);
	assert_int_equal(ev.ancestors[0].pid, getppid());
	proc_table_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_survives_exit),
		cmocka_unit_test(test_json_follows_the_table),
		cmocka_unit_test(test_enrich_follows_the_table),
		cmocka_unit_test(test_fork_shares_image),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_seed_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
