// SPDX-License-Identifier: MIT
/*
 * The actions against real processes, files and commands: kill and
 * interrupt (and a reused pid left alone), exec (stdin, variables,
 * timeout), file (JSON lines, reopen), rate limits and dedup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "action.h"
#include "config.h"
#include "lib/loop.h"
#include "lib/proc.h"
#include "rules.h"

static struct loop loop;
static struct action_env env;
static char dir[] = "/tmp/bpfd-unit-actions-XXXXXX";

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(loop_init(&loop), 0);
	env = (struct action_env){ .loop = &loop, .daemon_pid = getpid(), .cgroup_mount = "" };
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	loop_release(&loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct config *config(const char *text)
{
	char err[CONFIG_ERROR_MAX];
	struct config *cfg;

	if (config_load("test.conf", text, strlen(text), action_config_check, NULL, &cfg, err))
		fail_msg("config: %s", err);
	return cfg;
}

/* A process that waits to be signalled, and its start time as the kernel keeps it. */
static pid_t start_sleeper(uint64_t *start_ns)
{
	uint64_t ticks;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(process_start_ticks(pid, &ticks), 0);
	*start_ns = ticks * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
	return pid;
}

static void make_event(struct event *ev, pid_t pid, uint64_t start_ns)
{
	event_init(ev);
	ev->tracer = "exec";
	ev->hostname = "host";
	ev->pid = ev->tid = (uint32_t)pid;
	ev->start_ns = start_ns;
	snprintf(ev->command, sizeof(ev->command), "sleep");
	event_add_str(ev, "filename", "/bin/sleep");
	event_add_str(ev, "argv", "sleep 30");
}

static int run_named(struct action_set *set, const char *name, const struct event *ev,
		     const char *rule)
{
	struct action_input in = { .ev = ev, .rule = rule };
	struct strbuf json = STRBUF_INIT;
	char err[256];
	struct action *a = action_set_get(set, name, err, sizeof(err));
	int r;

	if (!a)
		fail_msg("action %s: %s", name, err);
	assert_int_equal(event_to_json(ev, &json), 0);
	in.json = json.buf;
	in.json_len = json.len;
	r = action_run(a, &in);
	strbuf_release(&json);
	return r;
}

static const struct action *get(struct action_set *set, const char *name)
{
	char err[256];

	return action_set_get(set, name, err, sizeof(err));
}

static int wait_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_kill_and_interrupt(void **state)
{
	struct action_set *set = action_set_new(&env, NULL);
	struct event ev;
	uint64_t start;
	pid_t pid;
	int status;

	(void)state;
	pid = start_sleeper(&start);
	make_event(&ev, pid, start);
	assert_int_equal(run_named(set, "kill", &ev, "r"), 0);
	status = wait_status(pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(get(set, "kill")->stats.runs, 1);
	assert_int_equal(get(set, "kill")->stats.failures, 0);

	pid = start_sleeper(&start);
	make_event(&ev, pid, start);
	assert_int_equal(run_named(set, "interrupt", &ev, "r"), 0);
	status = wait_status(pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
	action_set_free(set);
}

static void test_reused_pid_not_signalled(void **state)
{
	struct action_set *set = action_set_new(&env, NULL);
	struct event ev;
	uint64_t start, tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	pid_t pid;

	(void)state;
	/*
	 * The event's process started earlier than the one now holding its
	 * pid: the pid was reused, the process there must live.
	 */
	pid = start_sleeper(&start);
	make_event(&ev, pid, start - 3 * tick);
	assert_int_equal(run_named(set, "kill", &ev, "r"), 0);
	usleep(50000);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
	assert_int_equal(get(set, "kill")->stats.failures, 1);

	/* Never pid 1, never the daemon itself. */
	make_event(&ev, 1, start);
	run_named(set, "kill", &ev, "r");
	make_event(&ev, getpid(), start);
	run_named(set, "kill", &ev, "r");
	assert_int_equal(get(set, "kill")->stats.failures, 3);

	kill(pid, SIGKILL);
	wait_status(pid);
	/* Gone: a failure, not a crash. */
	make_event(&ev, pid, start);
	run_named(set, "kill", &ev, "r");
	assert_int_equal(get(set, "kill")->stats.failures, 4);
	action_set_free(set);
}

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static size_t count_lines(const char *path)
{
	const char *s = slurp(path), *p;
	size_t n = 0;

	for (p = s; p && *p; p++)
		n += *p == '\n';
	return n;
}

/* Runs the loop until @set has nothing pending, at most @ms. */
static void settle(struct action_set *set, int ms)
{
	int64_t end = loop_now_ms() + ms;
	size_t i, pending;

	do {
		int t = action_set_timers(set, loop_now_ms());

		loop_run_once(&loop, t >= 0 && t < 20 ? t : 20);
		action_set_timers(set, loop_now_ms());
		pending = 0;
		for (i = 0; i < action_set_count(set); i++) {
			const struct action *a = action_set_at(set, i);

			if (a->ops->pending)
				pending += a->ops->pending(a);
		}
	} while (pending && loop_now_ms() < end);
}

static void test_exec(void **state)
{
	char text[1024], out[256], vars[256];
	struct action_set *set;
	struct config *cfg;
	struct event ev;
	const char *s;

	(void)state;
	snprintf(out, sizeof(out), "%s/stdin", dir);
	snprintf(vars, sizeof(vars), "%s/vars", dir);
	snprintf(text, sizeof(text),
		 "[exec]\ncommand = cat > %s; echo \"$BPFD_PID $BPFD_COMMAND $BPFD_RULE "
		 "$BPFD_DATA_FILENAME\" > %s\n"
		 "[exec:hang]\ncommand = sleep 30\ntimeout = 300ms\n",
		 out, vars);
	cfg = config(text);
	set = action_set_new(&env, cfg);
	make_event(&ev, 4242, 1);
	assert_int_equal(run_named(set, "exec", &ev, "watch-sleep"), 0);
	settle(set, 5000);
	assert_int_equal(get(set, "exec")->stats.failures, 0);
	s = slurp(out);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"tracer\":\"exec\""));
	assert_non_null(strstr(s, "\"pid\":4242"));
	assert_string_equal(s + strlen(s) - 2, "}\n");
	assert_string_equal(slurp(vars), "4242 sleep watch-sleep /bin/sleep\n");

	/* A command that hangs is killed at its timeout, and counted. */
	int64_t t0 = loop_now_ms();

	assert_int_equal(run_named(set, "exec:hang", &ev, "r"), 0);
	settle(set, 5000);
	assert_true(loop_now_ms() - t0 < 3000);
	assert_int_equal(get(set, "exec:hang")->stats.runs, 1);
	assert_int_equal(get(set, "exec:hang")->stats.failures, 1);
	action_set_free(set);
	config_free(cfg);
}

static void test_exec_bounded(void **state)
{
	struct action_set *set;
	struct config *cfg;
	struct event ev;
	int i;

	(void)state;
	cfg = config("[exec]\ncommand = sleep 0.2\nmax_running = 2\nqueue = 3\n");
	set = action_set_new(&env, cfg);
	make_event(&ev, 4242, 1);
	for (i = 0; i < 10; i++)
		run_named(set, "exec", &ev, "r");
	assert_int_equal(get(set, "exec")->ops->pending(get(set, "exec")), 5);
	assert_int_equal(get(set, "exec")->stats.dropped, 5);
	settle(set, 5000);
	assert_int_equal(get(set, "exec")->ops->pending(get(set, "exec")), 0);
	assert_int_equal(get(set, "exec")->stats.failures, 0);
	action_set_free(set);
	config_free(cfg);
}

static void test_unusable_instance(void **state)
{
	struct action_set *set = action_set_new(&env, NULL);
	char why[256];

	(void)state;
	assert_int_equal(action_set_kind(set, "exec:nothing", why, sizeof(why)),
			 RULE_ACTION_UNKNOWN);
	assert_string_equal(why, "no `command` in [exec:nothing] of the config");
	assert_int_equal(action_set_kind(set, "kill", why, sizeof(why)), RULE_ACTION_DESTRUCTIVE);
	assert_int_equal(action_set_kind(set, "stdout:x", why, sizeof(why)), RULE_ACTION_OK);
	assert_int_equal(action_set_kind(set, "nope", why, sizeof(why)), RULE_ACTION_UNKNOWN);
	assert_int_equal(action_kind("file:audit", why, sizeof(why)), RULE_ACTION_OK);
	assert_int_equal(action_kind("file:", why, sizeof(why)), RULE_ACTION_UNKNOWN);
	action_set_free(set);
}

static void test_file_and_reopen(void **state)
{
	char text[1024], path[256], moved[256];
	struct action_set *set;
	struct config *cfg;
	struct event ev;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	snprintf(moved, sizeof(moved), "%s/events.jsonl.1", dir);
	snprintf(text, sizeof(text), "[file]\npath = %s\n", path);
	cfg = config(text);
	set = action_set_new(&env, cfg);
	make_event(&ev, 4242, 1);
	for (i = 0; i < 3; i++)
		run_named(set, "file", &ev, "r");
	action_set_flush(set);
	assert_int_equal(count_lines(path), 3);
	/* logrotate: rename, then SIGHUP (reopen); lines go to the new file. */
	assert_int_equal(rename(path, moved), 0);
	run_named(set, "file", &ev, "r");
	action_set_reopen(set);
	run_named(set, "file", &ev, "r");
	action_set_flush(set);
	assert_int_equal(count_lines(moved), 4);
	assert_int_equal(count_lines(path), 1);
	assert_int_equal(get(set, "file")->stats.failures, 0);
	action_set_free(set);
	config_free(cfg);
}

static void test_rate_limit_and_dedup(void **state)
{
	char text[1024], path[256];
	struct action_set *set;
	struct config *cfg;
	struct event ev;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/limited.jsonl", dir);
	snprintf(text, sizeof(text),
		 "[file]\npath = %s\nrate_limit = 5/h\n"
		 "[file:dedup]\npath = %s\ndedup_window = 1h\n",
		 path, path);
	cfg = config(text);
	set = action_set_new(&env, cfg);

	/* A burst of 10,000: five runs per rule, the rest suppressed and counted. */
	for (i = 0; i < 10000; i++) {
		make_event(&ev, 1000 + i, 1);
		run_named(set, "file", &ev, "burst");
	}
	assert_int_equal(get(set, "file")->stats.runs, 5);
	assert_int_equal(get(set, "file")->stats.suppressed, 9995);
	/* Another rule has its own budget. */
	run_named(set, "file", &ev, "other-rule");
	assert_int_equal(get(set, "file")->stats.runs, 6);

	/* Dedup: the same process doing the same thing runs once. */
	make_event(&ev, 77, 1);
	for (i = 0; i < 100; i++)
		run_named(set, "file:dedup", &ev, "r");
	event_add_str(&ev, "filename", "/bin/other");
	run_named(set, "file:dedup", &ev, "r");
	assert_int_equal(get(set, "file:dedup")->stats.runs, 2);
	assert_int_equal(get(set, "file:dedup")->stats.suppressed, 99);
	action_set_flush(set);
	assert_int_equal(count_lines(path), 8);
	action_set_free(set);
	config_free(cfg);
}

static void test_reconfigure(void **state)
{
	char text[1024], a[256], b[256];
	struct action_set *set;
	const struct config_section *kill_settings;
	struct config *one, *two;
	struct event ev;

	(void)state;
	snprintf(a, sizeof(a), "%s/a.jsonl", dir);
	snprintf(b, sizeof(b), "%s/b.jsonl", dir);
	snprintf(text, sizeof(text), "[file]\npath = %s\n[kill]\nrate_limit = 1/s\n", a);
	one = config(text);
	set = action_set_new(&env, one);
	make_event(&ev, 4242, 1);
	run_named(set, "file", &ev, "r");
	kill_settings = get(set, "kill")->settings;
	/* [file] changes (remade, counters kept), [kill] does not. */
	snprintf(text, sizeof(text), "[file]\npath = %s\n[kill]\nrate_limit = 1/s\n", b);
	two = config(text);
	action_set_reconfigure(set, two);
	config_free(one);
	run_named(set, "file", &ev, "r");
	action_set_flush(set);
	assert_int_equal(count_lines(a), 1);
	assert_int_equal(count_lines(b), 1);
	assert_int_equal(get(set, "file")->stats.runs, 2);
	/* Unchanged: the same settings (its own copy, which outlives config one). */
	assert_ptr_equal(get(set, "kill")->settings, kill_settings);
	assert_string_equal(config_get(get(set, "kill")->settings, "rate_limit"), "1/s");
	action_set_free(set);
	config_free(two);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_and_interrupt),
		cmocka_unit_test(test_reused_pid_not_signalled),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_exec_bounded),
		cmocka_unit_test(test_unusable_instance),
		cmocka_unit_test(test_file_and_reopen),
		cmocka_unit_test(test_rate_limit_and_dedup),
		cmocka_unit_test(test_reconfigure),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("actions", tests, setup, teardown);
}
