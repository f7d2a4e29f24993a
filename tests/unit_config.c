// SPDX-License-Identifier: MIT
/* The INI config: daemon keys, action sections, errors as file:line: message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "action.h"
#include "config.h"
#include "lib/log.h"

static int load(const char *text, struct config **cfg, char *err)
{
	return config_load("bpfd.conf", text, strlen(text), action_config_check, NULL, cfg, err);
}

static void expect_error(const char *text, const char *message)
{
	char err[CONFIG_ERROR_MAX];
	struct config *cfg = (struct config *)1;

	assert_int_equal(load(text, &cfg, err), -EINVAL);
	assert_null(cfg);
	if (strcmp(err, message) != 0)
		fail_msg("config error\n  got:      %s\n  expected: %s", err, message);
}

/* For messages that list the action types, which grow. */
static void expect_error_prefix(const char *text, const char *prefix)
{
	char err[CONFIG_ERROR_MAX];
	struct config *cfg = (struct config *)1;

	assert_int_equal(load(text, &cfg, err), -EINVAL);
	assert_null(cfg);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("config error\n  got:      %s\n  expected: %s...", err, prefix);
}

/*
 * Keys a tracer declares (tracer_ops.options; the table is
 * the real tracer table, whose bashreadline declares `bash`): kept for the
 * tracer, the last one given wins, and a value too long is refused (the
 * line's bound comes first: TRACER_OPTION_VALUE_MAX is the loader's).
 */
static void test_tracer_keys(void **state)
{
	char err[CONFIG_ERROR_MAX], text[TRACER_OPTION_VALUE_MAX + 64];
	struct config *cfg;
	size_t n;

	(void)state;
	assert_int_equal(load("[daemon]\nbash = /opt/bash\nbash = /opt/bash5\n", &cfg, err), 0);
	assert_int_equal(cfg->daemon.tracer_cfg.n_settings, 1);
	assert_string_equal(tracer_config_get(&cfg->daemon.tracer_cfg, "bash"), "/opt/bash5");
	config_free(cfg);

	assert_int_equal(load("[daemon]\ntracers = exec\n", &cfg, err), 0);
	assert_int_equal(cfg->daemon.tracer_cfg.n_settings, 0);
	assert_string_equal(tracer_config_get(&cfg->daemon.tracer_cfg, "bash"), "/bin/bash");
	config_free(cfg);

	n = (size_t)snprintf(text, sizeof(text), "[daemon]\nbash = /");
	memset(text + n, 'b', TRACER_OPTION_VALUE_MAX);
	strcpy(text + n + TRACER_OPTION_VALUE_MAX, "\n");
	expect_error_prefix(text, "bpfd.conf:2: line longer than");
}

static void test_daemon_section(void **state)
{
	const char *text = "; comment\n"
			   "# another\n"
			   "[daemon]\n"
			   "rules_dir = /srv/rules\n"
			   "socket = /run/x/bpfd.sock\n"
			   "socket_mode = 0600\n"
			   "socket_group = adm\n"
			   "tracers = exec,open\n"
			   "ring_buffer_size = 16M\n"
			   "subscriber_queue_size = 1M\n"
			   "client_stall_timeout = 45s\n"
			   "client_frame_timeout = 2s\n"
			   "client_idle_timeout = 5m\n"
			   "log_level = debug\n"
			   "output = json\n"
			   "journal = on\n"
			   "default_actions = stdout, file\n"
			   "metrics = [::1]:9377\n"
			   "metrics_tls_cert = /etc/bpfd/tls.crt\n"
			   "metrics_tls_key = /etc/bpfd/tls.key\n"
			   "metrics_token_file = /etc/bpfd/token\n"
			   "metrics_insecure = yes\n"
			   "metrics_timeout = 3s\n"
			   "[file]\n"
			   "path = /var/log/bpfd.jsonl   ; inline comment\n";
	char err[CONFIG_ERROR_MAX];
	struct config *cfg;

	(void)state;
	assert_int_equal(load(text, &cfg, err), 0);
	assert_string_equal(cfg->daemon.rules_dir, "/srv/rules");
	assert_string_equal(cfg->daemon.metrics.address, "[::1]:9377");
	assert_string_equal(cfg->daemon.metrics.tls_cert, "/etc/bpfd/tls.crt");
	assert_string_equal(cfg->daemon.metrics.tls_key, "/etc/bpfd/tls.key");
	assert_string_equal(cfg->daemon.metrics.token_file, "/etc/bpfd/token");
	assert_true(cfg->daemon.metrics.insecure);
	assert_int_equal(cfg->daemon.metrics.timeout_ms, 3000);
	assert_string_equal(cfg->daemon.socket, "/run/x/bpfd.sock");
	assert_true(cfg->daemon.has_socket_mode);
	assert_int_equal(cfg->daemon.socket_mode, 0600);
	assert_string_equal(cfg->daemon.socket_group, "adm");
	assert_string_equal(cfg->daemon.tracers, "exec,open");
	assert_int_equal(cfg->daemon.ring_buffer_bytes, 16 << 20);
	assert_int_equal(cfg->daemon.subscriber_queue_bytes, 1 << 20);
	assert_int_equal(cfg->daemon.client_stall_ms, 45000);
	assert_int_equal(cfg->daemon.client_frame_ms, 2000);
	assert_int_equal(cfg->daemon.client_idle_ms, 300000);
	assert_int_equal(cfg->daemon.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg->daemon.output, CONFIG_OUTPUT_JSON);
	assert_int_equal(cfg->daemon.journal, JOURNAL_ON);
	assert_int_equal(cfg->daemon.n_default_actions, 2);
	assert_string_equal(cfg->daemon.default_actions[1], "file");
	assert_int_equal(cfg->n_sections, 1);
	assert_string_equal(config_get(config_section(cfg, "file"), "path"), "/var/log/bpfd.jsonl");
	assert_int_equal(config_line(config_section(cfg, "file"), "path"), 25);
	config_free(cfg);
}

static void test_instances(void **state)
{
	const char *text = "[webhook:slack]\n"
			   "url = https://hooks.example/x\n"
			   "rate_limit = 10/min\n"
			   "dedup_window = 30s\n"
			   "[exec]\n"
			   "command = /usr/bin/logger -t bpfd\n"
			   "timeout = 500ms\n";
	char err[CONFIG_ERROR_MAX];
	struct config *cfg;

	(void)state;
	assert_int_equal(config_load("bpfd.conf", text, strlen(text), NULL, NULL, &cfg, err), 0);
	assert_int_equal(cfg->n_sections, 2);
	assert_string_equal(config_get(config_section(cfg, "webhook:slack"), "rate_limit"), "10/min");
	assert_null(config_section(cfg, "webhook"));
	assert_true(config_section_equal(config_section(cfg, "exec"), config_section(cfg, "exec")));
	assert_false(config_section_equal(config_section(cfg, "exec"), NULL));
	assert_false(cfg->daemon.has_default_actions);
	config_free(cfg);

	/* "none": tracers without rules stream to `trace` only. */
	assert_int_equal(load("[daemon]\ndefault_actions = none\n", &cfg, err), 0);
	assert_true(cfg->daemon.has_default_actions);
	assert_int_equal(cfg->daemon.n_default_actions, 0);
	config_free(cfg);
}

static void test_errors(void **state)
{
	char err[CONFIG_ERROR_MAX];
	struct config *cfg;

	(void)state;
	expect_error("[daemon]\nrules_dir = /x\nlog_level = loud\n",
		     "bpfd.conf:3: log_level: \"loud\" is not one of error, warning, info, debug");
	expect_error("[daemon]\nsocket_mode = 999\n",
		     "bpfd.conf:2: socket_mode: \"999\" is not an octal mode like 0660");
	expect_error("[daemon]\nrulesdir = /x\n",
		     "bpfd.conf:2: unknown key \"rulesdir\" in [daemon] (known: rules_dir, tracers_dir, socket, "
		     "socket_mode, socket_group, admin_users, admin_groups, tracers, bash, cgroup_hierarchy, ring_buffer_size, "
		     "subscriber_queue_size, client_stall_timeout, client_frame_timeout, "
		     "client_idle_timeout, max_rules, log_level, output, default_actions, "
		     "default_actions_force, compat_syscalls, kernel_loads, keep, ancestors, "
		     "process_table_size, "
		     "journal, metrics...)");
	expect_error("[daemon]\nkeep = maybe\n",
		     "bpfd.conf:2: keep: \"maybe\" is not true or false");
	expect_error("[daemon]\njournal = systemd\n",
		     "bpfd.conf:2: journal: \"systemd\" is not auto, on or off");
	expect_error("[daemon]\nmetrics = localhost:9377\n",
		     "bpfd.conf:2: metrics: \"localhost:9377\" has no IPv4 address (names are not "
		     "resolved)");
	expect_error("[daemon]\nmetrics = 127.0.0.1:99999\n",
		     "bpfd.conf:2: metrics: \"127.0.0.1:99999\" has no port from 1 to 65535");
	expect_error("[daemon]\nmetrics_token_file = token\n",
		     "bpfd.conf:2: metrics_token_file: \"token\" is not an absolute path");
	expect_error("[daemon]\nmetrics_timeout = 10ms\n",
		     "bpfd.conf:2: metrics_timeout: \"10ms\" is not a duration between 1s and 1h");
	expect_error("[daemon]\nmetrics_tokenfile = /x\n",
		     "bpfd.conf:2: unknown key \"metrics_tokenfile\" in [daemon] (the metrics keys: metrics, "
		     "metrics_tls_cert, metrics_tls_key, metrics_token_file, metrics_insecure, "
		     "metrics_timeout)");
	expect_error("[daemon]\nkernel_loads = sometimes\n",
		     "bpfd.conf:2: kernel_loads: \"sometimes\" is not true or false");
	expect_error("[daemon]\ncompat_syscalls = maybe\n",
		     "bpfd.conf:2: compat_syscalls: \"maybe\" is not true or false");
	expect_error_prefix("\n\n[webhok]\nurl = http://x\n",
			    "bpfd.conf:4: [webhok]: unknown action \"webhok\" (sections are daemon "
			    "or an action: stdout, kill, interrupt, exec, file");
	expect_error("[exec]\ncommand = x\ncomand = y\n",
		     "bpfd.conf:3: unknown key \"comand\" for action exec (known: command, timeout, "
		     "max_running, queue, rate_limit, dedup_window)");
	expect_error("[exec]\ncommand = x\ntimeout = soon\n",
		     "bpfd.conf:3: timeout: \"soon\" is not a duration like 10s");
	expect_error("[kill]\nrate_limit = 10 per second\n",
		     "bpfd.conf:2: rate_limit: \"10 per second\" is not a rate like 10/s, 100/min, 5/h");
	expect_error("[exec]\ncommand = x\ncommand = y\n",
		     "bpfd.conf:3: \"command\" set twice in [exec]");
	expect_error("[daemon]\nthis line has no equals sign\n",
		     "bpfd.conf:2: not a [section], a key = value line or a comment");
	expect_error("orphan = 1\n",
		     "bpfd.conf:1: \"orphan\" outside any section (daemon settings go under [daemon])");
	expect_error("[daemon]\ndefault_actions = stdout, none\n",
		     "bpfd.conf:2: default_actions: \"none\" cannot be combined with actions");
	/* A destructive default action is refused, as in a rule without a filter... */
	expect_error_prefix("[daemon]\nlog_level = info\ndefault_actions = stdout, kill:x\n",
			    "bpfd.conf:3: default_actions: kill:x acts on processes or containers");
	/* ... unless forced, before or after. */
	assert_int_equal(load("[daemon]\ndefault_actions = pause\ndefault_actions_force = yes\n",
			      &cfg, err), 0);
	assert_true(cfg->daemon.default_actions_force);
	config_free(cfg);
	/* The compat hook is on unless switched off. */
	assert_int_equal(load("[daemon]\ncompat_syscalls = false\n", &cfg, err), 0);
	assert_true(cfg->daemon.has_compat_syscalls && !cfg->daemon.compat_syscalls);
	assert_false(cfg->daemon.has_kernel_loads);
	config_free(cfg);
	assert_int_equal(load("[daemon]\nkernel_loads = false\n", &cfg, err), 0);
	assert_true(cfg->daemon.has_kernel_loads && !cfg->daemon.kernel_loads);
	config_free(cfg);
	/* Ancestry: a depth up to 16, 0 for none; a table of 1024 processes at least. */
	assert_int_equal(load("[daemon]\nancestors = 0\nprocess_table_size = 1024\n", &cfg, err), 0);
	assert_true(cfg->daemon.has_ancestors && cfg->daemon.ancestors == 0);
	assert_int_equal(cfg->daemon.process_table_size, 1024);
	config_free(cfg);
	expect_error("[daemon]\nancestors = 17\n",
		     "bpfd.conf:2: ancestors: \"17\" is not a number from 0 to 16");
	expect_error("[daemon]\nprocess_table_size = 100\n",
		     "bpfd.conf:2: process_table_size: \"100\" is not a number from 1024 to 4194304");
	expect_error_prefix("[daemon]\ndefault_actions = stdout, bogus\n",
			    "bpfd.conf:2: default_actions: unknown action \"bogus\" (sections are "
			    "daemon or an action: stdout, kill");
	expect_error("[file]\npath = relative.log\n",
		     "bpfd.conf:2: path: \"relative.log\" is not an absolute path");
	expect_error("[exec]\ncommand = x\n  continued\n",
		     "bpfd.conf:3: indented line: values are one line each in bpfd's config");

	/* A line longer than libinih reads is refused, not split. */
	{
		char text[600];

		snprintf(text, sizeof(text), "[exec]\ncommand = %0400d\n", 7);
		assert_int_equal(load(text, &cfg, err), -EINVAL);
		assert_string_equal(err, "bpfd.conf:2: line longer than 199 characters");
	}
	/* A missing file is -ENOENT with the path named. */
	assert_int_equal(config_load("/nonexistent/bpfd.conf", NULL, 0, NULL, NULL, &cfg, err),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/bpfd.conf: No such file or directory");
}

static void test_values(void **state)
{
	int64_t ms;
	size_t size;
	uint32_t count;
	uint64_t n;
	bool b;

	(void)state;
	assert_int_equal(config_parse_duration_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(config_parse_duration_ms("10", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(config_parse_duration_ms("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(config_parse_duration_ms("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(config_parse_duration_ms("-1s", &ms), -EINVAL);
	assert_int_equal(config_parse_duration_ms("1.5s", &ms), -EINVAL);
	assert_int_equal(config_parse_duration_ms("99999999999999999999s", &ms), -EINVAL);

	assert_int_equal(config_parse_size("64K", &size), 0);
	assert_int_equal(size, 65536);
	assert_int_equal(config_parse_size("8MiB", &size), 0);
	assert_int_equal(size, 8 << 20);
	assert_int_equal(config_parse_size("1T", &size), -EINVAL);

	assert_int_equal(config_parse_rate("100/min", &count, &ms), 0);
	assert_int_equal(count, 100);
	assert_int_equal(ms, 60000);
	assert_int_equal(config_parse_rate("0/s", &count, &ms), -EINVAL);
	assert_int_equal(config_parse_rate("5", &count, &ms), -EINVAL);
	assert_int_equal(config_parse_rate("5/fortnight", &count, &ms), -EINVAL);

	assert_int_equal(config_parse_uint("17", 100, &n), 0);
	assert_int_equal(n, 17);
	assert_int_equal(config_parse_uint("170", 100, &n), -EINVAL);
	assert_int_equal(config_parse_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("maybe", &b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_section),
		cmocka_unit_test(test_tracer_keys),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
