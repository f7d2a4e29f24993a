// SPDX-License-Identifier: MIT
/*
 * The webhook action on a real loop against a real HTTP server (a forked
 * child answering from a script): settings checked, the JSON and Slack
 * bodies, retries until a 2xx, failures, drops, and release with a POST
 * in flight. The daemon-level tests are tests/integration/test_action_webhook.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "action.h"
#include "config.h"
#include "lib/loop.h"
#include "rules.h"

static struct loop loop;
static struct action_env env;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(loop_init(&loop), 0);
	env = (struct action_env){ .loop = &loop, .daemon_pid = getpid(), .cgroup_mount = "" };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	loop_release(&loop);
	return 0;
}

/*
 * A server on 127.0.0.1 that answers its connections one at a time with
 * the statuses of @script in order (0: read the request, never answer),
 * one request per connection, and writes each request body to @out as
 * "<length>\n<body>".
 */
struct server {
	pid_t pid;
	int port;
	int out;		/* the read end */
};

static void serve(int lfd, const int *script, int wfd)
{
	char req[65536];
	size_t n, len;
	ssize_t r;
	char *end, *cl;
	int fd;

	for (; *script >= 0; script++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(1);
		n = 0;
		for (;;) {
			r = read(fd, req + n, sizeof(req) - 1 - n);
			if (r <= 0)
				_exit(2);
			n += r;
			req[n] = '\0';
			end = strstr(req, "\r\n\r\n");
			cl = strcasestr(req, "Content-Length:");
			if (end && cl && n >= (size_t)(end + 4 - req) + strtoul(cl + 15, NULL, 10))
				break;
		}
		len = strtoul(cl + 15, NULL, 10);
		dprintf(wfd, "%zu\n", len);
		if (write(wfd, end + 4, len) != (ssize_t)len)
			_exit(3);
		if (*script == 0) {
			pause();
			_exit(0);
		}
		dprintf(fd, "HTTP/1.1 %d X\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope\n",
			*script);
		close(fd);
	}
	_exit(0);
}

static struct server server_start(const int *script)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct server s;
	int lfd, p[2];

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(pipe(p), 0);
	s.port = ntohs(sa.sin_port);
	s.pid = fork();
	assert_true(s.pid >= 0);
	if (s.pid == 0) {
		close(p[0]);
		serve(lfd, script, p[1]);
	}
	close(lfd);
	close(p[1]);
	s.out = p[0];
	return s;
}

/* The next request body the server got (static buffer), NULL at its end. */
static const char *server_body(struct server *s)
{
	static char buf[65536];
	size_t len = 0, n = 0;
	char c;

	while (read(s->out, &c, 1) == 1 && c != '\n')
		len = len * 10 + (size_t)(c - '0');
	if (!len)
		return NULL;
	while (n < len) {
		ssize_t r = read(s->out, buf + n, len - n);

		if (r <= 0)
			return NULL;
		n += r;
	}
	buf[n] = '\0';
	return buf;
}

static void server_stop(struct server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	close(s->out);
}

/* A port nothing listens on: one the kernel just gave and took back. */
static int closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static struct config *config(const char *text)
{
	char err[CONFIG_ERROR_MAX];
	struct config *cfg;

	if (config_load("test.conf", text, strlen(text), action_config_check, NULL, &cfg, err))
		fail_msg("config: %s", err);
	return cfg;
}

static struct action *get(struct action_set *set, const char *name)
{
	char err[256];
	struct action *a = action_set_get(set, name, err, sizeof(err));

	if (!a || !action_usable(a))
		fail_msg("action %s: %s", name, err);
	return a;
}

static void make_event(struct event *ev)
{
	event_init(ev);
	ev->tracer = "exec";
	ev->hostname = "host";
	ev->pid = ev->tid = 4242;
	snprintf(ev->command, sizeof(ev->command), "sh");
	event_add_str(ev, "filename", "/bin/sh");
	event_add_str(ev, "argv", "sh -c 'a <b> & c'\nsecond line");
	event_add_str(ev, "command", "sh");
	event_add_str(ev, "returnval", "0");
}

static int run(struct action *a, const struct event *ev)
{
	struct action_input in = { .ev = ev, .rule = "shells" };
	struct strbuf json = STRBUF_INIT;
	int r;

	assert_int_equal(event_to_json(ev, &json), 0);
	in.json = json.buf;
	in.json_len = json.len;
	r = action_run(a, &in);
	strbuf_release(&json);
	return r;
}

/* Runs the loop as the daemon does until @a has nothing pending (or @ms pass). */
static void settle(struct action_set *set, struct action *a, int ms)
{
	int64_t deadline = loop_now_ms() + ms;
	int t;

	while (a->ops->pending(a) && loop_now_ms() < deadline) {
		t = action_set_timers(set, loop_now_ms());
		loop_run_once(&loop, t < 0 || t > 50 ? 50 : t);
		action_set_flush(set);
	}
}

static void test_settings_checked(void **state)
{
	static const char *const bad[][2] = {
		{ "url", "ftp://example.com/" }, { "url", "example.com" },
		{ "url", "http:///path" }, { "url", "http://a b/" },
		{ "format", "xml" }, { "timeout", "0" }, { "timeout", "soon" },
		{ "retries", "101" }, { "backoff", "x" }, { "queue", "-1" },
		{ "max_in_flight", "0" }, { "header", "no colon" }, { "header", ": x" },
		{ "insecure", "maybe" },
	};
	static const char *const good[][2] = {
		{ "url", "https://hooks.slack.com/services/T/B/x" }, { "url", "HTTP://h:8080" },
		{ "format", "slack" }, { "timeout", "250ms" }, { "retries", "0" },
		{ "backoff", "0" }, { "queue", "0" }, { "max_in_flight", "64" },
		{ "header", "Authorization: Bearer x" }, { "insecure", "yes" },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(action_config_check(NULL, "webhook:x", bad[i][0], bad[i][1], err,
						     sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, bad[i][0]));
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(action_config_check(NULL, "webhook", good[i][0], good[i][1], err,
						     sizeof(err)), 0);
}

static void test_no_url(void **state)
{
	struct config *cfg = config("[webhook:slack]\nformat = slack\n");
	struct action_set *set = action_set_new(&env, cfg);
	char why[256];

	(void)state;
	assert_int_equal(action_set_kind(set, "webhook:slack", why, sizeof(why)),
			 RULE_ACTION_UNKNOWN);
	assert_string_equal(why, "no `url` in [webhook:slack] of the config");
	assert_int_equal(action_set_kind(set, "webhook", why, sizeof(why)), RULE_ACTION_UNKNOWN);
	action_set_free(set);
	config_free(cfg);
}

static void test_json_with_retries(void **state)
{
	static const int script[] = { 500, 503, 204, -1 };
	struct server s = server_start(script);
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct event ev;
	char text[256];
	int64_t t0;

	(void)state;
	snprintf(text, sizeof(text), "[webhook]\nurl = http://127.0.0.1:%d/hook\nbackoff = 100ms\n",
		 s.port);
	cfg = config(text);
	set = action_set_new(&env, cfg);
	a = get(set, "webhook");
	make_event(&ev);
	t0 = loop_now_ms();
	assert_int_equal(run(a, &ev), 0);
	assert_int_equal(a->ops->pending(a), 1);
	settle(set, a, 5000);
	/* 100 ms, then 200 ms between the attempts. */
	assert_true(loop_now_ms() - t0 >= 300);
	assert_int_equal(a->ops->pending(a), 0);
	assert_int_equal(a->stats.runs, 1);
	assert_int_equal(a->stats.failures, 0);
	for (int i = 0; i < 3; i++) {
		const char *body = server_body(&s);

		assert_non_null(body);
		assert_true(body[0] == '{');
		assert_non_null(strstr(body, "\"pid\":4242"));
		assert_non_null(strstr(body, "\"filename\":\"/bin/sh\""));
	}
	action_set_free(set);
	config_free(cfg);
	server_stop(&s);
}

static void test_slack_text(void **state)
{
	static const int script[] = { 200, -1 };
	struct server s = server_start(script);
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct event ev;
	char text[256];

	(void)state;
	snprintf(text, sizeof(text), "[webhook:slack]\nurl = http://127.0.0.1:%d/\nformat = slack\n",
		 s.port);
	cfg = config(text);
	set = action_set_new(&env, cfg);
	a = get(set, "webhook:slack");
	make_event(&ev);
	ev.rules[0] = "shells";
	ev.n_rules = 1;
	ev.container_runtime = "docker";
	ev.container_id = "0123456789abcdef0123";
	assert_int_equal(run(a, &ev), 0);
	settle(set, a, 5000);
	assert_int_equal(a->stats.failures, 0);
	assert_string_equal(server_body(&s),
			    "{\"text\":\"bpfd on host: rule shells: exec by sh (pid 4242, uid 0) in "
			    "docker container 0123456789ab: filename=/bin/sh argv=sh -c 'a &lt;b&gt; "
			    "&amp; c' second line\"}");
	action_set_free(set);
	config_free(cfg);
	server_stop(&s);
}

static void test_failure_and_drops(void **state)
{
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct event ev;
	char text[256];
	int i;

	(void)state;
	snprintf(text, sizeof(text), "[webhook]\nurl = http://127.0.0.1:%d/\nretries = 1\n"
		 "backoff = 10ms\nqueue = 2\nmax_in_flight = 1\n", closed_port());
	cfg = config(text);
	set = action_set_new(&env, cfg);
	a = get(set, "webhook");
	make_event(&ev);
	for (i = 0; i < 5; i++)
		assert_int_equal(run(a, &ev), 0);
	/* One in flight, two waiting, two dropped. */
	assert_int_equal(a->ops->pending(a), 3);
	assert_int_equal(a->stats.dropped, 2);
	settle(set, a, 5000);
	assert_int_equal(a->ops->pending(a), 0);
	assert_int_equal(a->stats.failures, 3);
	assert_int_equal(a->timer_ms, 0);
	action_set_free(set);
	config_free(cfg);
}

static void test_release_in_flight(void **state)
{
	static const int script[] = { 0, -1 };
	struct server s = server_start(script);
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct event ev;
	struct pollfd got = { .fd = s.out, .events = POLLIN };
	char text[256];
	int64_t deadline;

	(void)state;
	snprintf(text, sizeof(text), "[webhook]\nurl = http://127.0.0.1:%d/\ntimeout = 30s\n",
		 s.port);
	cfg = config(text);
	set = action_set_new(&env, cfg);
	a = get(set, "webhook");
	make_event(&ev);
	assert_int_equal(run(a, &ev), 0);
	/* Until the server has the request: curl's socket is on the loop then. */
	deadline = loop_now_ms() + 5000;
	while (loop_now_ms() < deadline) {
		int t = action_set_timers(set, loop_now_ms());

		loop_run_once(&loop, t < 0 || t > 20 ? 20 : t);
		action_set_flush(set);
		if (poll(&got, 1, 0) == 1)
			break;
	}
	assert_non_null(server_body(&s));
	assert_int_equal(a->ops->pending(a), 1);
	action_set_free(set);
	config_free(cfg);
	server_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_checked),
		cmocka_unit_test(test_no_url),
		cmocka_unit_test(test_json_with_retries),
		cmocka_unit_test(test_slack_text),
		cmocka_unit_test(test_failure_and_drops),
		cmocka_unit_test(test_release_in_flight),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("webhook", tests, setup, teardown);
}
