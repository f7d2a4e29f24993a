// SPDX-License-Identifier: MIT
/*
 * The syslog action's messages byte by byte (RFC 5424: PRI, TIMESTAMP,
 * header fields, SD-PARAM escaping, SD-NAMEs, truncation), its octet
 * counting frames (RFC 6587), its settings, and one datagram through a
 * real unix socket. The daemon-level tests (rsyslogd over UDP and TCP, a
 * collector that never reads) are tests/integration/test_action_syslog.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "action.h"
#include "actions/syslog.h"
#include "config.h"
#include "lib/loop.h"

/* 2026-12-03T10:47:39.277210429Z */
#define EVENT_NS 1796294859277210429ull

static struct event ev;

static void make_event(void)
{
	event_init(&ev);
	ev.tracer = "exec";
	ev.time_ns = EVENT_NS;
	ev.hostname = "web1";
	ev.pid = 4242;
	ev.uid = 1000;
	snprintf(ev.command, sizeof(ev.command), "sh");
	ev.container_runtime = "docker";
	ev.container_id = "3f4e5a6b7c8d";
}

static const struct syslog_format fmt = {
	.facility = 3, .severity = 4, .procid = 77, .max_size = SYSLOG_SIZE_DEFAULT,
};

static char *format(const struct syslog_format *f, const char *rule, const char *msg,
		    bool *truncated)
{
	struct strbuf sb = STRBUF_INIT;
	bool t;

	assert_int_equal(syslog_format_message(f, &ev, rule, msg, strlen(msg), &sb,
					       truncated ? truncated : &t), 0);
	return sb.buf;
}

static void test_whole_message(void **state)
{
	char *m;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	make_event();
	m = format(&fmt, "container_shell", "{\"tracer\":\"exec\"}", NULL);
	assert_string_equal(m, "<28>1 2026-12-03T10:47:39.277210+00:00 web1 bpfd 77 "
			       "container_shell [bpfd@32473 tracer=\"exec\" "
			       "rule=\"container_shell\" pid=\"4242\" uid=\"1000\" "
			       "command=\"sh\" container_id=\"3f4e5a6b7c8d\"] "
			       "{\"tracer\":\"exec\"}");
	free(m);
}

static void test_pri_and_codes(void **state)
{
	struct syslog_format f = fmt;
	char *m;

	(void)state;
	make_event();
	assert_int_equal(syslog_facility_parse("kern"), 0);
	assert_int_equal(syslog_facility_parse("authpriv"), 10);
	assert_int_equal(syslog_facility_parse("local7"), 23);
	assert_int_equal(syslog_facility_parse("23"), 23);
	assert_int_equal(syslog_facility_parse("24"), -1);
	assert_int_equal(syslog_facility_parse("local8"), -1);
	assert_int_equal(syslog_facility_parse(""), -1);
	assert_int_equal(syslog_severity_parse("emerg"), 0);
	assert_int_equal(syslog_severity_parse("err"), 3);
	assert_int_equal(syslog_severity_parse("error"), 3);
	assert_int_equal(syslog_severity_parse("debug"), 7);
	assert_int_equal(syslog_severity_parse("8"), -1);
	assert_int_equal(syslog_severity_parse("-1"), -1);
	assert_int_equal(syslog_severity_parse("loud"), -1);

	/* local4.warning: 20 * 8 + 4; kern.emerg: 0; local7.debug: the largest, 191. */
	f.facility = 20;
	f.severity = 4;
	m = format(&f, "r", "x", NULL);
	assert_true(strncmp(m, "<164>1 ", 7) == 0);
	free(m);
	f.facility = 0;
	f.severity = 0;
	m = format(&f, "r", "x", NULL);
	assert_true(strncmp(m, "<0>1 ", 5) == 0);
	free(m);
	f.facility = 23;
	f.severity = 7;
	m = format(&f, "r", "x", NULL);
	assert_true(strncmp(m, "<191>1 ", 7) == 0);
	free(m);

	/* severity = rule: the event's priority on the syslog ladder, warning without one. */
	assert_int_equal(syslog_severity_parse("rule"), SYSLOG_SEVERITY_RULE);
	f.facility = 3;
	f.severity = SYSLOG_SEVERITY_RULE;
	m = format(&f, "r", "x", NULL);
	assert_true(strncmp(m, "<28>1 ", 6) == 0);
	free(m);
	{
		static const struct {
			const char *priority, *pri;
		} ladder[] = { { "critical", "<26>1 " }, { "error", "<27>1 " },
			       { "notice", "<29>1 " }, { "debug", "<31>1 " } };

		for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
			ev.priority = ladder[i].priority;
			m = format(&f, "r", "x", NULL);
			assert_true(strncmp(m, ladder[i].pri, 6) == 0);
			assert_non_null(strstr(m, " priority=\""));
			free(m);
		}
	}
	ev.priority = NULL;
}

static void test_timestamp_offset(void **state)
{
	char *m;

	(void)state;
	make_event();
	/* POSIX TZ: the sign is west of Greenwich, so these are +05:30 and -03:00. */
	setenv("TZ", "<+0530>-5:30", 1);
	tzset();
	m = format(&fmt, "r", "x", NULL);
	assert_non_null(strstr(m, " 2026-12-03T16:17:39.277210+05:30 "));
	free(m);
	setenv("TZ", "<-03>3", 1);
	tzset();
	m = format(&fmt, "r", "x", NULL);
	assert_non_null(strstr(m, " 2026-12-03T07:47:39.277210-03:00 "));
	free(m);
	setenv("TZ", "UTC", 1);
	tzset();
}

static char *param_value(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(syslog_add_param_value(&sb, s, len), 0);
	return sb.buf ? sb.buf : strdup("");
}

static void test_param_escaping(void **state)
{
	char *v;

	(void)state;
	v = param_value("a\"b\\c]d", 7);
	assert_string_equal(v, "a\\\"b\\\\c\\]d");
	free(v);
	/* A newline cannot forge a second line, nor a NUL cut the message. */
	v = param_value("x\nFAKE\0y", 8);
	assert_string_equal(v, "x\\x0aFAKE\\x00y");
	free(v);
	/* UTF-8 is kept; bytes that are not UTF-8 are written out. */
	v = param_value("caf\xc3\xa9", 5);
	assert_string_equal(v, "caf\xc3\xa9");
	free(v);
	v = param_value("\xff\xc3(\xe2\x82", 5);
	assert_string_equal(v, "\\xff\\xc3(\\xe2\\x82");
	free(v);
	/* Overlong and surrogate encodings are not UTF-8 either. */
	v = param_value("\xc0\xaf\xed\xa0\x80", 5);
	assert_string_equal(v, "\\xc0\\xaf\\xed\\xa0\\x80");
	free(v);
	v = param_value("\x7f", 1);
	assert_string_equal(v, "\\x7f");
	free(v);
}

static void test_hostile_fields(void **state)
{
	char *m;

	(void)state;
	make_event();
	snprintf(ev.command, sizeof(ev.command), "x\"] evil=\"1");
	ev.hostname = "bad host\n";
	m = format(&fmt, "r", "x", NULL);
	/* The command stays inside its own PARAM-VALUE; the hostname is one token. */
	assert_non_null(strstr(m, " command=\"x\\\"\\] evil=\\\"1\" "));
	assert_non_null(strstr(m, " bad_host_ bpfd "));
	free(m);
}

static void test_nil_values(void **state)
{
	char *m;

	(void)state;
	make_event();
	ev.hostname = "";
	ev.container_id = "";
	m = format(&fmt, NULL, "x", NULL);
	/* No rule: MSGID is the NILVALUE and there is no rule param; no container: no id. */
	assert_non_null(strstr(m, "+00:00 - bpfd 77 - [bpfd@32473 tracer=\"exec\" pid=\"4242\" "
				  "uid=\"1000\" command=\"sh\"] x"));
	free(m);
}

static void test_msgid_is_cut(void **state)
{
	char rule[129];
	char *m, *p;

	(void)state;
	make_event();
	memset(rule, 'r', 128);
	rule[128] = '\0';
	m = format(&fmt, rule, "x", NULL);
	/* MSGID keeps 32 characters; the rule param has the whole name. */
	p = strstr(m, " bpfd 77 ");
	assert_non_null(p);
	assert_int_equal(strcspn(p + 9, " "), SYSLOG_MSGID_MAX);
	assert_non_null(strstr(m, rule));
	free(m);
}

static void test_sd_names(void **state)
{
	char name[40];

	(void)state;
	assert_true(syslog_sd_name_valid("tracer"));
	assert_true(syslog_sd_name_valid("container_id"));
	assert_false(syslog_sd_name_valid(""));
	assert_false(syslog_sd_name_valid("a=b"));
	assert_false(syslog_sd_name_valid("a b"));
	assert_false(syslog_sd_name_valid("a]"));
	assert_false(syslog_sd_name_valid("a\""));
	assert_false(syslog_sd_name_valid("caf\xc3\xa9"));
	memset(name, 'n', 32);
	name[32] = '\0';
	assert_true(syslog_sd_name_valid(name));
	name[32] = 'n';
	name[33] = '\0';
	assert_false(syslog_sd_name_valid(name));
	assert_true(syslog_sd_name_valid(SYSLOG_SD_ID));
}

static void test_truncation(void **state)
{
	struct syslog_format f = fmt;
	char *msg = malloc(5001), *m, num[32];
	bool truncated;
	size_t i;

	(void)state;
	make_event();
	f.max_size = SYSLOG_SIZE_MIN;
	memset(msg, 'a', 5000);
	msg[5000] = '\0';
	m = format(&f, "r", msg, &truncated);
	assert_true(truncated);
	assert_int_equal(strlen(m), SYSLOG_SIZE_MIN);
	snprintf(num, sizeof(num), " truncated=\"%d\"] aaa", 5000);
	assert_non_null(strstr(m, num));
	free(m);

	/* Two-byte characters: the cut never splits one. */
	for (i = 0; i + 1 < 5000; i += 2) {
		msg[i] = '\xc3';
		msg[i + 1] = '\xa9';
	}
	for (f.max_size = SYSLOG_SIZE_MIN; f.max_size < SYSLOG_SIZE_MIN + 4; f.max_size++) {
		m = format(&f, "r", msg, &truncated);
		assert_true(truncated);
		assert_true(strlen(m) <= f.max_size && strlen(m) >= f.max_size - 1);
		assert_true((unsigned char)m[strlen(m) - 1] == 0xa9);
		free(m);
	}

	/* A message that fits is not marked. */
	f.max_size = SYSLOG_SIZE_DEFAULT;
	msg[100] = '\0';
	m = format(&f, "r", msg, &truncated);
	assert_false(truncated);
	assert_null(strstr(m, "truncated="));
	free(m);
	free(msg);
}

static void test_header_too_long(void **state)
{
	struct syslog_format f = fmt;
	struct strbuf sb = STRBUF_INIT;
	bool truncated;

	(void)state;
	make_event();
	f.max_size = 100;
	assert_int_equal(syslog_format_message(&f, &ev, "r", "x", 1, &sb, &truncated), -E2BIG);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_octet_framing(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(syslog_frame_octets(&sb, "<28>1 - - bpfd 1 - - hi", 23), 0);
	assert_string_equal(sb.buf, "23 <28>1 - - bpfd 1 - - hi");
	/* The count is of bytes, a newline inside included. */
	strbuf_reset(&sb);
	assert_int_equal(syslog_frame_octets(&sb, "a\nb\xc3\xa9", 5), 0);
	assert_int_equal(sb.len, 7);
	assert_memory_equal(sb.buf, "5 a\nb\xc3\xa9", 7);
	strbuf_release(&sb);
}

static void check_bad(const char *key, const char *value, const char *want)
{
	char err[512] = "";

	assert_int_equal(action_config_check(NULL, "syslog:x", key, value, err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, want))
		fail_msg("%s = %s: \"%s\" lacks \"%s\"", key, value, err, want);
}

static void check_good(const char *key, const char *value)
{
	char err[512] = "";

	if (action_config_check(NULL, "syslog:x", key, value, err, sizeof(err)) != 0)
		fail_msg("%s = %s refused: %s", key, value, err);
}

static void test_settings(void **state)
{
	(void)state;
	check_good("address", "/dev/log");
	check_good("address", "udp://127.0.0.1:514");
	check_good("address", "tcp://[::1]:6514");
	check_good("facility", "local3");
	check_good("severity", "crit");
	check_good("format", "text");
	check_good("max_size", "2048");
	check_good("queue", "100000");
	check_good("backoff", "250ms");
	check_bad("address", "tcp://logs.example.com:514", "must be an IP address");
	check_bad("address", "tcp://127.0.0.1", "is not a socket path");
	check_bad("address", "tcp://127.0.0.1:0", "is not a socket path");
	check_bad("address", "tcp://127.0.0.1:65536", "is not a socket path");
	check_bad("address", "http://127.0.0.1:514", "is not a socket path");
	check_bad("address", "dev/log", "is not a socket path");
	check_bad("facility", "local8", "is not a facility");
	check_bad("severity", "loud", "is not one of emerg");
	check_bad("format", "xml", "is not json or text");
	check_bad("max_size", "100", "from 2048 to 65000");
	check_bad("queue", "0", "from 1 to 100000");
	check_bad("backoff", "1h", "from 10ms to 30s");
	check_bad("url", "x", "unknown key \"url\" for action syslog");
}

/* One event through a real unix datagram socket, as to /dev/log. */
static void test_unix_datagram(void **state)
{
	char dir[] = "/tmp/bpfd-syslog-XXXXXX", path[128], conf[512], err[CONFIG_ERROR_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct action_env env = { .daemon_pid = 99, .cgroup_mount = "" };
	struct action_input in = { .ev = &ev, .rule = "unit_rule", .json = "{}", .json_len = 2 };
	struct config *cfg = NULL;
	struct action_set *set;
	struct action *a;
	struct loop loop;
	char buf[SYSLOG_SIZE_DEFAULT + 1];
	ssize_t n;
	int fd;

	(void)state;
	make_event();
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(loop_init(&loop), 0);
	env.loop = &loop;
	snprintf(conf, sizeof(conf), "[syslog]\naddress = %s\nfacility = local0\nseverity = crit\n",
		 path);
	assert_int_equal(config_load("t.conf", conf, strlen(conf), action_config_check, NULL, &cfg,
				     err), 0);
	set = action_set_new(&env, cfg);
	a = action_set_get(set, "syslog", err, sizeof(err));
	assert_true(action_usable(a));
	assert_int_equal(action_run(a, &in), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	/* local0.crit = 16 * 8 + 2 */
	assert_true(strncmp(buf, "<130>1 ", 7) == 0);
	assert_non_null(strstr(buf, " web1 bpfd 99 unit_rule [bpfd@32473 "));
	assert_true(n > 4 && strcmp(buf + n - 4, "] {}") == 0);
	assert_int_equal(a->stats.failures, 0);

	/* The syslog daemon gone: a counted failure, not a stall. */
	close(fd);
	unlink(path);
	assert_int_equal(action_run(a, &in), 0);
	assert_int_equal(a->stats.failures, 1);
	/* Back, at a new socket: the action connects again. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(action_run(a, &in), 0);
	assert_int_equal(a->stats.failures, 1);
	assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0);

	action_set_free(set);
	config_free(cfg);
	loop_release(&loop);
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* An instance of [syslog] with @settings, on @loop. */
static struct action *instance(struct loop *loop, struct action_env *env, const char *settings,
			       struct config **cfg, struct action_set **set)
{
	char conf[512], err[CONFIG_ERROR_MAX];
	struct action *a;

	*env = (struct action_env){ .loop = loop, .daemon_pid = 99, .cgroup_mount = "" };
	snprintf(conf, sizeof(conf), "[syslog]\n%s", settings);
	assert_int_equal(config_load("t.conf", conf, strlen(conf), action_config_check, NULL, cfg,
				     err), 0);
	*set = action_set_new(env, *cfg);
	a = action_set_get(*set, "syslog", err, sizeof(err));
	assert_true(action_usable(a));
	return a;
}

/* Two events over TCP: two octet-counted frames, back to back, no newline. */
static void test_tcp_frames(void **state)
{
	struct action_input in = { .ev = &ev, .rule = "r", .json = "{\"n\":1}", .json_len = 7 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct action_env env;
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct loop loop;
	char settings[128], buf[4096], *p, *end;
	size_t got = 0, frames = 0, n;
	int lfd, cfd, i;

	(void)state;
	make_event();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(loop_init(&loop), 0);
	snprintf(settings, sizeof(settings), "address = tcp://127.0.0.1:%d\n", ntohs(sa.sin_port));
	a = instance(&loop, &env, settings, &cfg, &set);
	assert_int_equal(action_run(a, &in), 0);
	assert_int_equal(action_run(a, &in), 0);
	for (i = 0; i < 50 && a->ops->pending(a); i++)
		loop_run_once(&loop, 20);
	assert_int_equal(a->ops->pending(a), 0);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	while (frames < 2) {
		ssize_t r = recv(cfd, buf + got, sizeof(buf) - 1 - got, 0);

		assert_true(r > 0);
		got += r;
		buf[got] = '\0';
		for (frames = 0, p = buf; p < buf + got; frames++) {
			n = strtoul(p, &end, 10);
			if (*end != ' ' || end + 1 + n > buf + got)
				break;
			assert_true(strncmp(end + 1, "<28>1 ", 6) == 0);
			assert_memory_equal(end + 1 + n - 7, "{\"n\":1}", 7);
			p = end + 1 + n;
		}
	}
	assert_int_equal(p - buf, got);
	assert_null(memchr(buf, '\n', got));
	assert_int_equal(a->stats.failures, 0);
	action_set_free(set);
	config_free(cfg);
	loop_release(&loop);
	close(cfd);
	close(lfd);
}

/* Nobody listening: a failure per attempt, and at most `queue` messages wait. */
static void test_tcp_queue_bound(void **state)
{
	struct action_input in = { .ev = &ev, .rule = "r", .json = "{}", .json_len = 2 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct action_env env;
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct loop loop;
	char settings[128];
	int fd, i;

	(void)state;
	make_event();
	/* A port just freed: nothing listens there. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	assert_int_equal(loop_init(&loop), 0);
	snprintf(settings, sizeof(settings), "address = tcp://127.0.0.1:%d\nqueue = 3\n"
		 "backoff = 10s\n", ntohs(sa.sin_port));
	a = instance(&loop, &env, settings, &cfg, &set);
	for (i = 0; i < 10; i++) {
		assert_int_equal(action_run(a, &in), 0);
		loop_run_once(&loop, 10);
	}
	assert_int_equal(a->ops->pending(a), 3);
	assert_int_equal(a->stats.dropped, 7);
	/* One refused connection; the next attempt waits for the backoff. */
	assert_int_equal(a->stats.failures, 1);
	assert_true(a->timer_ms > loop_now_ms() + 5000);
	action_set_free(set);
	config_free(cfg);
	loop_release(&loop);
}

/* A collector whose accept queue is full never answers the SYN: `timeout` ends the attempt. */
static void test_tcp_connect_timeout(void **state)
{
	struct action_input in = { .ev = &ev, .rule = "r", .json = "{}", .json_len = 2 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct action_env env;
	struct action_set *set;
	struct config *cfg;
	struct action *a;
	struct loop loop;
	char settings[128];
	int lfd, filler[2], i;
	int64_t start;

	(void)state;
	make_event();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	/* Backlog 0 keeps one connection waiting to be accepted; these fill it. */
	for (i = 0; i < 2; i++) {
		filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		connect(filler[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100000);
	assert_int_equal(loop_init(&loop), 0);
	snprintf(settings, sizeof(settings), "address = tcp://127.0.0.1:%d\ntimeout = 300ms\n"
		 "backoff = 10s\n", ntohs(sa.sin_port));
	a = instance(&loop, &env, settings, &cfg, &set);
	start = loop_now_ms();
	assert_int_equal(action_run(a, &in), 0);
	while (!a->stats.failures && loop_now_ms() - start < 3000) {
		int wait = action_set_timers(set, loop_now_ms());

		loop_run_once(&loop, wait < 0 || wait > 50 ? 50 : wait);
	}
	assert_int_equal(a->stats.failures, 1);
	assert_true(loop_now_ms() - start >= 300);
	assert_int_equal(a->ops->pending(a), 1);
	action_set_free(set);
	config_free(cfg);
	loop_release(&loop);
	close(filler[0]);
	close(filler[1]);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_message),
		cmocka_unit_test(test_pri_and_codes),
		cmocka_unit_test(test_timestamp_offset),
		cmocka_unit_test(test_param_escaping),
		cmocka_unit_test(test_hostile_fields),
		cmocka_unit_test(test_nil_values),
		cmocka_unit_test(test_msgid_is_cut),
		cmocka_unit_test(test_sd_names),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_header_too_long),
		cmocka_unit_test(test_octet_framing),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_unix_datagram),
		cmocka_unit_test(test_tcp_frames),
		cmocka_unit_test(test_tcp_queue_bound),
		cmocka_unit_test(test_tcp_connect_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
