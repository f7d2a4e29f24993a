// SPDX-License-Identifier: MIT
/*
 * The metrics page writer (daemon/metrics_page.c) and the metrics
 * address parser (lib/netaddr.c): the exposition format's HELP and TYPE
 * lines and grouping, label escaping, a status turned into families, and
 * the bound of a page of 10,000 rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "daemon/metrics_page.h"
#include "lib/netaddr.h"

static const char status_text[] =
	"{\"ok\":true,\"pid\":1,\"uptime_s\":12.5,"
	"\"tracers\":["
	"{\"name\":\"exec\",\"state\":\"loaded\",\"error\":\"\",\"events\":42,\"matched\":7,"
	"\"lost\":3,\"prefilter\":true,\"prefiltered\":100,\"run_time_ns\":1500000000,"
	"\"run_count\":9},"
	"{\"name\":\"open\",\"state\":\"failed\",\"error\":\"no \\\"hook\\\"\",\"events\":0,"
	"\"matched\":0,\"lost\":0,\"prefilter\":false,\"prefiltered\":0}],"
	"\"events\":{\"seen\":42,\"matched\":7,\"lost\":3,\"subscriber_dropped\":5},"
	"\"subscribers\":[{\"id\":1},{\"id\":2}],"
	"\"actions\":[{\"name\":\"we\\\\ird\\\"one\\n\",\"type\":\"exec\",\"runs\":4,"
	"\"failures\":1,\"suppressed\":2,\"dropped\":0,\"pending\":0,\"error\":\"\"}],"
	"\"cgroup_cache\":{\"entries\":10,\"capacity\":8192,\"hits\":5,\"misses\":6},"
	"\"kernel_maps\":[{\"name\":\"bpfd_containers\",\"entries\":2,\"capacity\":4096,"
	"\"failed\":1}],"
	"\"io_uring\":{\"seen\":true,\"reason\":\"\"},"
	"\"bash_probes\":{\"attached\":1,\"attached_total\":3,\"users\":[]},"
	"\"clients\":{\"connected\":1,\"limit\":1024,\"refused\":0,\"disconnected\":0},"
	"\"rules\":{\"active\":2,\"by_priority\":{\"info\":1,\"critical\":1},"
	"\"matched_by_priority\":{\"info\":0,\"critical\":6}}}";

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static json_t *version(void)
{
	return load("{\"version\":\"1.2.3\",\"bcc\":\"0.26.0\",\"kernel\":\"6.18.0\"}");
}

struct rules {
	size_t n;
	size_t name_len;
	char name[256];
};

static const char *rule_at(void *ctx, size_t i, uint64_t *matches)
{
	struct rules *r = ctx;
	int n = snprintf(r->name, sizeof(r->name), "rule_%zu_", i);

	/* Padded to the longest name a rule may have (128 bytes). */
	memset(r->name + n, 'x', r->name_len - (size_t)n);
	r->name[r->name_len] = '\0';
	*matches = i;
	return r->name;
}

static char *write_page(const char *status_json, struct rules *rules, int *err)
{
	struct strbuf out = STRBUF_INIT;
	json_t *status = load(status_json), *v = version();
	struct metrics_server_stats st = { .scrapes = 1 };
	char *page;

	*err = metrics_page_write(&out, status, v, rule_at, rules, rules ? rules->n : 0, &st);
	json_decref(status);
	json_decref(v);
	page = strdup(out.buf ? out.buf : "");
	strbuf_release(&out);
	return page;
}

static bool has_line(const char *page, const char *line)
{
	size_t n = strlen(line);
	const char *p = page;

	while ((p = strstr(p, line))) {
		if ((p == page || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/*
 * The format's structure: every sample's family was announced by one HELP
 * and one TYPE line just before its samples, and no family comes twice.
 */
static void check_structure(const char *page)
{
	char *copy = strdup(page), *save = NULL, *line;
	char family[256] = "", help_of[256] = "";
	char seen[512][128];
	size_t n_seen = 0, i, samples = 0;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[256];

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%255s", help_of), 1);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char type[32];

			assert_int_equal(sscanf(line + 7, "%255s %31s", family, type), 2);
			assert_string_equal(family, help_of);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			/* A counter's name ends in _total, nothing else's does. */
			size_t len = strlen(family);

			assert_int_equal(strcmp(type, "counter") == 0,
					 len > 6 && strcmp(family + len - 6, "_total") == 0);
			for (i = 0; i < n_seen; i++)
				assert_string_not_equal(seen[i], family);
			assert_true(n_seen < 512);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", family);
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(sscanf(line, "%255[a-zA-Z0-9_:]", name), 1);
		assert_string_equal(name, family);
		samples++;
	}
	assert_true(samples > 0);
	free(copy);
}

static void test_escaping(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(metrics_label_escape(&sb, "a\\b\"c\nd"), 0);
	assert_string_equal(sb.buf, "a\\\\b\\\"c\\nd");
	strbuf_reset(&sb);
	assert_int_equal(metrics_label_escape(&sb, "plain"), 0);
	assert_string_equal(sb.buf, "plain");
	strbuf_release(&sb);
}

static void test_status_families(void **state)
{
	int err;
	char *page = write_page(status_text, NULL, &err);

	(void)state;
	assert_int_equal(err, 0);
	check_structure(page);
	assert_true(has_line(page, "bpfd_build_info{version=\"1.2.3\",bcc=\"0.26.0\","
				   "kernel=\"6.18.0\"} 1"));
	assert_true(has_line(page, "bpfd_events_total{tracer=\"exec\"} 42"));
	assert_true(has_line(page, "bpfd_rules_by_priority{priority=\"critical\"} 1"));
	assert_true(has_line(page,
			     "bpfd_events_matched_by_priority_total{priority=\"critical\"} 6"));
	assert_true(has_line(page, "bpfd_events_lost_total{tracer=\"exec\"} 3"));
	assert_true(has_line(page, "bpfd_events_prefiltered_total{tracer=\"exec\"} 100"));
	assert_true(has_line(page, "bpfd_tracer_prefilter{tracer=\"open\"} 0"));
	assert_true(has_line(page, "bpfd_tracer_state{tracer=\"open\",state=\"failed\"} 1"));
	assert_true(has_line(page, "bpfd_tracer_state{tracer=\"open\",state=\"loaded\"} 0"));
	assert_true(has_line(page, "bpfd_tracer_state{tracer=\"exec\",state=\"loaded\"} 1"));
	/* Run time in seconds; only the tracers the kernel counted have it. */
	assert_true(has_line(page, "bpfd_bpf_run_seconds_total{tracer=\"exec\"} 1.5"));
	assert_true(has_line(page, "bpfd_bpf_runs_total{tracer=\"exec\"} 9"));
	assert_null(strstr(page, "bpfd_bpf_runs_total{tracer=\"open\"}"));
	/* A label value with a backslash, a quote and a newline. */
	assert_true(has_line(page, "bpfd_action_runs_total{action=\"we\\\\ird\\\"one\\n\"} 4"));
	assert_true(has_line(page, "bpfd_action_failures_total{action=\"we\\\\ird\\\"one\\n\"} 1"));
	assert_true(has_line(page,
			     "bpfd_action_suppressed_total{action=\"we\\\\ird\\\"one\\n\"} 2"));
	assert_true(has_line(page, "bpfd_subscribers 2"));
	assert_true(has_line(page, "bpfd_subscriber_dropped_total 5"));
	assert_true(has_line(page, "bpfd_cgroup_cache_entries 10"));
	assert_true(has_line(page, "bpfd_kernel_map_entries{map=\"bpfd_containers\"} 2"));
	assert_true(has_line(page,
			     "bpfd_kernel_map_failed_inserts_total{map=\"bpfd_containers\"} 1"));
	assert_true(has_line(page, "bpfd_io_uring_seen 1"));
	assert_true(has_line(page, "bpfd_uptime_seconds 12.5"));
	/* A tracer's own status object: its numbers, named after it. */
	assert_true(has_line(page, "bpfd_bash_probes_attached 1"));
	assert_true(has_line(page, "# TYPE bpfd_bash_probes_attached_total counter"));
	assert_true(has_line(page, "bpfd_metrics_scrapes_total 1"));
	/* Nothing of a section status lacks (no process table here). */
	assert_null(strstr(page, "bpfd_process_table"));
	free(page);
}

static void test_process_table(void **state)
{
	int err;
	char *page = write_page("{\"process_table\":{\"enabled\":true,\"ancestors\":4,"
				"\"entries\":5,\"capacity\":32768,\"forks\":7,\"lost\":2}}", NULL,
				&err);

	(void)state;
	assert_int_equal(err, 0);
	check_structure(page);
	assert_true(has_line(page, "bpfd_process_table_forks_total 7"));
	assert_true(has_line(page, "bpfd_process_table_lost_total 2"));
	assert_true(has_line(page, "bpfd_process_table_ancestors 4"));
	/* What the object lacks is not made up. */
	assert_null(strstr(page, "bpfd_process_table_execs_total"));
	/* Nor does a disabled table's "enabled" become a family of its own. */
	assert_null(strstr(page, "bpfd_process_table_enabled"));
	free(page);
}

static void test_rules_page_bounded(void **state)
{
	struct rules rules = { .n = 10000, .name_len = 128 };
	int err;
	char *page = write_page(status_text, &rules, &err);
	size_t len = strlen(page);

	(void)state;
	assert_int_equal(err, 0);
	check_structure(page);
	assert_true(has_line(page, "# TYPE bpfd_rule_matches_total counter"));
	rule_at(&rules, 9999, &(uint64_t){ 0 });
	{
		char line[400];

		snprintf(line, sizeof(line), "bpfd_rule_matches_total{rule=\"%s\"} 9999",
			 rules.name);
		assert_true(has_line(page, line));
	}
	/* ~170 bytes a rule: a big page, far below the bound. */
	assert_true(len > 10000 * 128);
	assert_true(len < 2 * 1024 * 1024);
	assert_true(len < METRICS_PAGE_MAX);
	free(page);
}

static void test_page_limit(void **state)
{
	/* More rules than max_rules allows: the writer stops at the bound. */
	struct rules rules = { .n = METRICS_PAGE_MAX / 128 + 1000, .name_len = 128 };
	struct strbuf out = STRBUF_INIT;
	json_t *status = load(status_text), *v = version();

	(void)state;
	assert_int_equal(metrics_page_write(&out, status, v, rule_at, &rules, rules.n, NULL),
			 -E2BIG);
	assert_true(out.len <= METRICS_PAGE_MAX);
	strbuf_release(&out);
	json_decref(status);
	json_decref(v);
}

static void test_addresses(void **state)
{
	static const char *const local[] = { "127.0.0.1:9377", "127.1.2.3:1", "[::1]:9377",
					     "[::ffff:127.0.0.1]:80", "/run/bpfd/metrics.sock" };
	static const char *const remote[] = { "0.0.0.0:9377", "10.0.0.1:9377", "[::]:9377",
					      "[2001:db8::1]:443" };
	static const char *const bad[] = { "", "9377", "localhost:9377", "127.0.0.1", "127.0.0.1:",
					   "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:9x",
					   "::1:9377", "[::1]9377", "[nothost]:1", "relative/path",
					   ":9377" };
	struct netaddr a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		assert_int_equal(netaddr_parse(local[i], &a, err, sizeof(err)), 0);
		assert_true(netaddr_is_local(&a));
	}
	for (i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		assert_int_equal(netaddr_parse(remote[i], &a, err, sizeof(err)), 0);
		assert_false(netaddr_is_local(&a));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(netaddr_parse(bad[i], &a, err, sizeof(err)), -EINVAL);
		/* The message quotes what was given. */
		assert_non_null(strstr(err, bad[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_status_families),
		cmocka_unit_test(test_process_table),
		cmocka_unit_test(test_rules_page_bounded),
		cmocka_unit_test(test_page_limit),
		cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
