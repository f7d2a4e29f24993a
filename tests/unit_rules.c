// SPDX-License-Identifier: MIT
/*
 * unit.rules: the rule schema (every error with its line and message), the
 * matching semantics over the table of examples that docs/rules.md shows
 * (the doc's table is generated from examples[] below and checked to be
 * verbatim in the doc), the glob matcher against fnmatch(3), the example
 * rules of examples/rules/, and rulesets against brute-force rule_matches()
 * over random rules and events.
 *
 * `unit.rules --doc-table` prints the table for docs/rules.md.
 *
 * The tracer table is the daemon's own (tracers.c, the bpfd-tracers
 * library): the keys rules are checked against are the real tracers'.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "event.h"
#include "container_meta.h"
#include "rules.h"
#include "tracer.h"

/* ---- helpers ---- */

static struct rule *parse_file(const char *file, const char *text)
{
	struct rule_error err;
	struct rule *r = NULL;
	int ret;

	ret = rule_parse(file, text, strlen(text), NULL, NULL, &r, &err);
	if (ret)
		print_error("unexpected error %d at line %u: %s\n--- rule:\n%s\n---\n", ret, err.line,
			    err.message, text);
	assert_int_equal(ret, 0);
	assert_non_null(r);
	return r;
}

static struct rule *parse(const char *text)
{
	return parse_file("test.toml", text);
}

static void expect_error_file(const char *file, const char *text, unsigned int line,
			      const char *substr)
{
	struct rule_error err;
	struct rule *r = (struct rule *)1;
	int ret;

	ret = rule_parse(file, text, strlen(text), NULL, NULL, &r, &err);
	if (ret != -EINVAL || err.line != line || !strstr(err.message, substr))
		print_error("want -EINVAL at line %u with \"%s\"; got %d at line %u: \"%s\"\n"
			    "--- rule:\n%s\n---\n",
			    line, substr, ret, err.line, err.message, text);
	assert_int_equal(ret, -EINVAL);
	assert_null(r);
	assert_int_equal(err.line, line);
	assert_non_null(strstr(err.message, substr));
}

static void expect_error(const char *text, unsigned int line, const char *substr)
{
	expect_error_file("test.toml", text, line, substr);
}

/*
 * An event from its notation in docs/rules.md: the tracer, then KEY=VALUE
 * (VALUE may be "double quoted" to hold spaces). pid tid ppid uid gid
 * cgroup_id mntns pidns set the numeric fields; returnval sets the field
 * and data.returnval, as the tracers do; runtime= and container_id= the
 * container; every other key is a data key. Unset: 0, the host, no data.
 */
static void build_event(struct event *ev, const char *spec)
{
	static const struct {
		const char *name;
		size_t offset;
		int size;
	} nums[] = {
		{ "pid", offsetof(struct event, pid), 4 },
		{ "tid", offsetof(struct event, tid), 4 },
		{ "ppid", offsetof(struct event, ppid), 4 },
		{ "uid", offsetof(struct event, uid), 4 },
		{ "gid", offsetof(struct event, gid), 4 },
		{ "cgroup_id", offsetof(struct event, cgroup_id), 8 },
		{ "mntns", offsetof(struct event, mntns), 8 },
		{ "pidns", offsetof(struct event, pidns), 8 },
	};
	char *p, *key, *val, *end;
	size_t i;

	event_init(ev);
	p = event_scratch_alloc(ev, strlen(spec) + 1);
	assert_non_null(p);
	strcpy(p, spec);
	ev->tracer = p;
	p += strcspn(p, " ");
	if (*p)
		*p++ = '\0';
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		key = p;
		val = strchr(p, '=');
		assert_non_null(val);
		*val++ = '\0';
		if (*val == '"') {
			val++;
			end = strchr(val, '"');
			assert_non_null(end);
		} else {
			end = val + strcspn(val, " ");
		}
		p = *end ? end + 1 : end;
		*end = '\0';
		for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			if (strcmp(key, nums[i].name))
				continue;
			if (nums[i].size == 4)
				*(uint32_t *)((char *)ev + nums[i].offset) = strtoul(val, NULL, 10);
			else
				*(uint64_t *)((char *)ev + nums[i].offset) = strtoull(val, NULL, 10);
			break;
		}
		if (i < sizeof(nums) / sizeof(nums[0]))
			continue;
		if (!strcmp(key, "runtime")) {
			ev->container_runtime = val;
			for (i = 0; container_runtimes[i]; i++)
				if (!strcmp(container_runtimes[i], val))
					ev->container_runtime = container_runtimes[i];
		} else if (!strcmp(key, "container_id")) {
			ev->container_id = val;
		} else if (!strcmp(key, "ancestor")) {
			/* The process table's: nearest first, as often as given. */
			assert_true(ev->n_ancestors < EVENT_ANCESTORS_MAX);
			ev->has_process = true;
			ev->ancestors[ev->n_ancestors++] = (struct event_process){
				.pid = 1, .command = val, .command_len = strlen(val)
			};
		} else {
			if (!strcmp(key, "returnval"))
				ev->returnval = strtoll(val, NULL, 10);
			assert_int_equal(event_add_str(ev, key, val), 0);
		}
	}
}

static struct event *new_event(const char *spec)
{
	struct event *ev = malloc(sizeof(*ev));

	assert_non_null(ev);
	build_event(ev, spec);
	return ev;
}

/*
 * @rel (a file or directory of the source tree) into @path. __FILE__ is
 * relative to the build root, where meson runs tests; "../" covers a run
 * from a sub-directory of it.
 */
static void find_source(const char *rel, char *path, size_t size)
{
	static const char *const prefixes[] = { "", "../" };
	const char *slash = strrchr(__FILE__, '/');
	int dir_len = slash ? (int)(slash - __FILE__) : 1;
	const char *dir = slash ? __FILE__ : ".";
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (i && dir[0] == '/')
			break;
		snprintf(path, size, "%s%.*s/../%s", prefixes[i], dir_len, dir, rel);
		if (access(path, F_OK) == 0)
			return;
	}
	print_error("cannot find %s from %s: run the test from the build directory "
		    "(meson test)\n",
		    rel, __FILE__);
	fail();
}

static FILE *open_source(const char *rel, char *path, size_t size)
{
	FILE *f;

	find_source(rel, path, size);
	f = fopen(path, "re");
	if (!f)
		print_error("%s: %s\n", path, strerror(errno));
	assert_non_null(f);
	return f;
}

static char *read_all(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (!got)
			break;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- the table of examples (docs/rules.md) ---- */

struct example {
	const char *rule;	/* TOML, lines separated by \n */
	const char *event;	/* build_event() notation */
	bool match;
	const char *why;
};

#define R_CMD "tracer = \"exec\"\nfilterEvents.command.values = [\"sshd\", \"ping\"]"
#define R_OLD                                                                                      \
	"tracer = \"exec\"\n[filterEvents.command]\nvalues = [\"sshd\", \"ping\"]\n"               \
	"containerRuntimes = [\"docker\", \"kube\"]"

static const struct example examples[] = {
	{ R_CMD, "exec command=ping", true, "equal to one of the values" },
	{ R_CMD, "exec command=ping6", false, "values without `*` `?` `[` match exactly" },
	{ "tracer = \"exec\"\nfilterEvents.command.values = [\"ping*\"]", "exec command=ping6",
	  true, "`*` matches any bytes" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/etc/*\"]",
	  "open filename=/etc/ssl/private/host.key", true, "`*` also crosses `/`" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/home/*/.ssh/id_*\"]",
	  "open filename=/home/ann/.ssh/id_ed25519", true, "several `*`" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/tmp/file?.txt\"]",
	  "open filename=/tmp/file10.txt", false, "`?` is exactly one byte" },
	{ "tracer = \"exec\"\nfilterEvents.command.values = [\"[bd]ash\"]", "exec command=dash",
	  true, "`[...]` is one byte of a set" },
	{ "tracer = \"exec\"\nfilterEvents.command.values = [\"[!a-c]*\"]", "exec command=bash",
	  false, "`[!...]` is one byte not in the set; `a-c` is a range" },
	{ "tracer = \"exec\"\nfilterEvents.command.values = [\"[[:digit:]]*\"]",
	  "exec command=7z", true, "character classes" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = ['/tmp/\\*']", "open filename=/tmp/x",
	  false, "`\\` makes `*` literal (a TOML literal string keeps the `\\`)" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = ['/tmp/\\*']", "open filename=/tmp/*",
	  true, "... so only a file named `*` matches" },
	{ "tracer = \"exec\"\nfilterEvents.command.exclude = [\"sshd\"]", "exec command=sshd", false,
	  "`exclude`: none of these may match" },
	{ "tracer = \"exec\"\nfilterEvents.command.exclude = [\"sshd\"]", "exec command=bash", true,
	  "`exclude` alone: everything else" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalues = [\"/etc/*\"]\n"
	  "exclude = [\"/etc/ld.so.cache\", \"*.so*\"]",
	  "open filename=/etc/ld.so.cache", false, "`values`, then `exclude`" },
	{ "tracer = \"open\"\nfilterEvents.command.values = [\"cat\"]\n"
	  "filterEvents.filename.values = [\"/etc/shadow\"]",
	  "open command=cat filename=/etc/passwd", false, "AND across keys" },
	{ "tracer = \"open\"\nfilterEvents.command.values = [\"cat\"]\n"
	  "filterEvents.filename.values = [\"/etc/shadow\"]",
	  "open command=cat filename=/etc/shadow", true, "every key holds" },
	{ "tracer = \"exec\"\nfilterEvents.argv.values = [\"*\"]", "exec command=ls", false,
	  "an event without the key never matches a filter on it" },
	{ "tracer = \"exec\"\nfilterEvents.argv.exclude = [\"*--help*\"]", "exec command=ls", false,
	  "... not even an exclude-only one" },
	{ "tracer = \"exec\"\nfilterEvents.argv.values = [\"curl * http://*\"]",
	  "exec command=curl argv=\"curl -s http://example.com/x.sh\"", true,
	  "`argv` is space-joined" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [0]", "exec command=ls uid=0", true,
	  "a TOML integer" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"0\"]", "exec command=ls uid=1000", false,
	  "a number in a string" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\">=1000\"]", "exec command=ls uid=1000",
	  true, "`>=`" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\">=1000\"]", "exec command=ls uid=999",
	  false, "`>=`" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"<1000\"]", "exec command=ls uid=999",
	  true, "`<`" },
	{ "tracer = \"exec\"\nfilterEvents.pid.values = [\"<=100\", \">9000\"]",
	  "exec command=ls pid=500", false, "comparisons are alternatives too (OR)" },
	{ "tracer = \"exec\"\nfilterEvents.pid.values = [\"!=1\"]", "exec command=ls pid=1", false,
	  "`!=`" },
	{ "tracer = \"exec\"\nfilterEvents.gid.values = [\"=4\"]", "exec command=ls gid=4", true,
	  "`=` is the same as no operator" },
	{ "tracer = \"exec\"\nfilterEvents.uid.exclude = [\"<1000\"]", "exec command=ls uid=0", false,
	  "`exclude` with a comparison: system users out" },
	{ "tracer = \"exec\"\nfilterEvents.uid.exclude = [\"!=0\"]", "exec command=ls uid=0", true,
	  "`exclude` `!=0`: root only" },
	{ "tracer = \"open\"\nfilterEvents.returnval.values = [\"<0\"]",
	  "open filename=/etc/shadow returnval=-13", true, "failed opens (-EACCES)" },
	{ "tracer = \"open\"\nfilterEvents.returnval.values = [-2]",
	  "open filename=/etc/shadow returnval=3", false, "negative integers" },
	{ "tracer = \"exec\"\nfilterEvents.ppid.values = [\">1\"]\nfilterEvents.uid.values = [0]",
	  "exec command=id ppid=1 uid=0", false, "AND across numeric keys" },
	{ "tracer = \"exec\"\nfilterEvents.cgroup_id.values = [\"18446744073709551615\"]",
	  "exec command=ls cgroup_id=18446744073709551615", true, "64-bit unsigned fields" },
	{ "tracer = \"exec\"\ncontainerRuntimes = [\"docker\", \"kube\"]",
	  "exec command=ls runtime=docker container_id=4b1f", true, "one of the runtimes" },
	{ "tracer = \"exec\"\ncontainerRuntimes = [\"docker\", \"kube\"]", "exec command=ls", false,
	  "a host process is not-found" },
	{ "tracer = \"exec\"\ncontainerRuntimes = [\"not-found\"]", "exec command=ls", true,
	  "`not-found`: host processes" },
	{ "tracer = \"exec\"\ncontainerRuntimes = [\"not-found\"]",
	  "exec command=ls runtime=podman container_id=4b1f", false, "`not-found`: host processes" },
	{ R_OLD, "exec command=ping runtime=kube container_id=c1", true,
	  "the old README's layout: runtimes of the rule" },
	{ R_OLD, "exec command=ping", false, "command matches, runtime does not" },
	{ "tracer = \"exec\"\nfilterEvents.container_runtime.exclude = [\"not-found\"]",
	  "exec command=sh runtime=lxc container_id=web", true, "any container" },
	{ "tracer = \"exec\"\nfilterEvents.container_id.values = [\"4b1f*\"]",
	  "exec command=sh runtime=docker container_id=4b1fe2", true, "a container by id" },
	{ "tracer = \"exec\"\nfilterEvents.container_id.values = [\"\"]", "exec command=sh", true,
	  "a host process has the container id `\"\"`" },
	{ "tracer = \"bashreadline\"\nfilterEvents.command.values = [\"*curl *\"]",
	  "bashreadline command=\"curl -s http://example.com/x.sh\"", true,
	  "bashreadline's command is the line typed" },
	{ "tracer = \"open\"", "open filename=/etc/hosts command=cat", true,
	  "no filter: every event of the tracer" },
	{ "tracer = \"exec\"", "open filename=/etc/hosts", false,
	  "a rule applies to its tracer's events only" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/etc/shadow\"]",
	  "open filename=/tmp/x/shadow identity=/etc/shadow", true,
	  "the file by its identity: a hard link, a bind mount, a chroot" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalues = [\"/etc/*\"]\nexclude = [\"/tmp/*\"]",
	  "open filename=/tmp/x/shadow identity=/etc/shadow", true,
	  "each name judged whole: an excluded path does not hide the file" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalues = [\"/etc/*\"]\nexclude = [\"/etc/motd\"]",
	  "open filename=/tmp/x/motd identity=/etc/motd", false,
	  "an excluded file is excluded under any name" },
};

#define N_EXAMPLES (sizeof(examples) / sizeof(examples[0]))

/* The markdown table of examples[] (docs/rules.md holds it verbatim). */
static char *doc_table(void)
{
	char *buf = NULL;
	size_t len = 0, i;
	const char *p;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fprintf(f, "| # | rule | event | matches | why |\n|---|---|---|---|---|\n");
	for (i = 0; i < N_EXAMPLES; i++) {
		const struct example *x = &examples[i];

		/* A | would end the cell. */
		assert_null(strchr(x->rule, '|'));
		assert_null(strchr(x->event, '|'));
		assert_null(strchr(x->why, '|'));
		fprintf(f, "| %zu | `", i + 1);
		for (p = x->rule; *p; p++) {
			if (*p == '\n')
				fputs("`<br>`", f);
			else
				fputc(*p, f);
		}
		fprintf(f, "` | `%s` | %s | %s |\n", x->event, x->match ? "yes" : "no", x->why);
	}
	fclose(f);
	return buf;
}

static void test_examples(void **state)
{
	size_t i;

	for (i = 0; i < N_EXAMPLES; i++) {
		struct rule *r = parse(examples[i].rule);
		struct event *ev = new_event(examples[i].event);
		const struct rule *out[2];
		struct ruleset *s = ruleset_new(&r, 1);
		size_t n, t = 0;

		if (rule_matches(r, ev) != examples[i].match)
			print_error("example %zu: %s\n  %s\n  want %s\n", i + 1, examples[i].rule,
				    examples[i].event, examples[i].match ? "match" : "no match");
		assert_int_equal(rule_matches(r, ev), examples[i].match);
		/* The ruleset agrees, under the event's own tracer. */
		assert_non_null(s);
		assert_non_null(tracer_find(ev->tracer, &t));
		n = ruleset_match(s, t, ev, out, 2);
		assert_int_equal(n, examples[i].match ? 1 : 0);
		ruleset_free(s);
		rule_free(r);
		free(ev);
	}
}

/* Both paths: the rule alone and the indexed ruleset. */
static bool matches_both(struct rule *r, const struct event *ev)
{
	const struct rule *out[2];
	struct ruleset *s = ruleset_new(&r, 1);
	bool alone = rule_matches(r, ev);
	size_t n;

	assert_non_null(s);
	n = ruleset_match(s, 0, ev, out, 2);
	ruleset_free(s);
	assert_int_equal(n, alone ? 1 : 0);
	return alone;
}

/* parent_command, parent_exe (the nearest ancestor), ancestor_command and ancestor_exe (any). */
static void test_ancestor_keys(void **state)
{
	static struct event ev;
	struct rule *parent, *any, *exe, *excl, *glob;

	(void)state;
	parent = parse("tracer = \"exec\"\n[filterEvents.parent_command]\n"
		       "values = [\"nginx\", \"httpd\"]\n"
		       "[filterEvents.command]\nvalues = [\"sh\"]\n");
	any = parse("tracer = \"exec\"\n[filterEvents.ancestor_command]\nvalues = [\"nginx\"]\n");
	exe = parse("tracer = \"exec\"\n[filterEvents.parent_exe]\nvalues = [\"/usr/sbin/*\"]\n");
	excl = parse("tracer = \"exec\"\n[filterEvents.ancestor_exe]\n"
		     "exclude = [\"/usr/sbin/cron\"]\n[filterEvents.command]\nvalues = [\"sh\"]\n");
	glob = parse("tracer = \"exec\"\n[filterEvents.ancestor_command]\n"
		     "values = [\"php-fpm*\"]\n");

	event_init(&ev);
	ev.tracer = "exec";
	assert_int_equal(event_add_str(&ev, "command", "sh"), 0);
	/* No ancestors known: filters with values do not hold, an exclude does. */
	assert_false(matches_both(parent, &ev));
	assert_false(matches_both(any, &ev));
	assert_true(matches_both(excl, &ev));

	ev.has_process = true;
	ev.n_ancestors = 3;
	ev.ancestors[0] = (struct event_process){ .pid = 3, .command = "nginx", .command_len = 5,
						  .exe = "/usr/sbin/nginx", .exe_len = 15 };
	ev.ancestors[1] = (struct event_process){ .pid = 2, .command = "php-fpm8.2",
						  .command_len = 10 };
	ev.ancestors[2] = (struct event_process){ .pid = 1, .command = "systemd", .command_len = 7,
						  .exe = "/usr/lib/systemd/systemd", .exe_len = 24 };
	assert_true(matches_both(parent, &ev));
	assert_true(matches_both(any, &ev));
	assert_true(matches_both(exe, &ev));
	assert_true(matches_both(excl, &ev));
	assert_true(matches_both(glob, &ev));

	/* nginx is the grandparent now: parent_command no longer holds, ancestor_command does. */
	ev.ancestors[0] = (struct event_process){ .pid = 4, .command = "bash", .command_len = 4,
						  .exe = "/usr/bin/bash", .exe_len = 13 };
	ev.ancestors[1] = (struct event_process){ .pid = 3, .command = "nginx", .command_len = 5,
						  .exe = "/usr/sbin/cron", .exe_len = 14 };
	assert_false(matches_both(parent, &ev));
	assert_true(matches_both(any, &ev));
	assert_false(matches_both(exe, &ev));
	/* Any ancestor excluded excludes the event. */
	assert_false(matches_both(excl, &ev));
	assert_false(matches_both(glob, &ev));
	rule_free(parent);
	rule_free(any);
	rule_free(exe);
	rule_free(excl);
	rule_free(glob);
}

/* exe: the process's own executable, which a renamed program cannot change. */
static void test_exe_key(void **state)
{
	static struct event ev;
	struct rule *r;

	(void)state;
	r = parse("tracer = \"exec\"\n[filterEvents.filename]\nvalues = [\"/usr/sbin/useradd\"]\n"
		  "[filterEvents.exe]\nexclude = [\"/usr/bin/dpkg\"]\n");
	event_init(&ev);
	ev.tracer = "exec";
	assert_int_equal(event_add_str(&ev, "filename", "/usr/sbin/useradd"), 0);
	assert_int_equal(event_add_str(&ev, "command", "dpkg"), 0);
	/* Not known: an exclude-only filter holds, as for a data key the event lacks. */
	assert_true(matches_both(r, &ev));
	/* A program named dpkg, run from elsewhere: still matched. */
	ev.exe = "/tmp/x/dpkg";
	ev.exe_len = strlen(ev.exe);
	assert_true(matches_both(r, &ev));
	ev.exe = "/usr/bin/dpkg";
	ev.exe_len = strlen(ev.exe);
	assert_false(matches_both(r, &ev));
	rule_free(r);
}

static void test_doc_table_in_sync(void **state)
{
	char path[4200], *doc, *table, *begin, *end;
	size_t len;
	FILE *f = open_source("docs/rules.md", path, sizeof(path));

	doc = read_all(f, &len);
	fclose(f);
	table = doc_table();
	begin = strstr(doc, "<!-- examples:begin -->\n");
	end = strstr(doc, "<!-- examples:end -->");
	assert_non_null(begin);
	assert_non_null(end);
	begin += strlen("<!-- examples:begin -->\n");
	if ((size_t)(end - begin) != strlen(table) || memcmp(begin, table, end - begin))
		print_error("%s: the table of examples differs from tests/unit_rules.c; "
			    "regenerate it with `unit.rules --doc-table`\n",
			    path);
	assert_int_equal(end - begin, strlen(table));
	assert_memory_equal(begin, table, end - begin);
	free(table);
	free(doc);
}

/* ---- the schema ---- */

struct error_case {
	const char *text;
	unsigned int line;
	const char *message;
};

static const struct error_case error_cases[] = {
	/* TOML errors come through with their line */
	{ "tracer = \"exec\"\nactions = [\"stdout\"\n", 3, "" },
	{ "tracer = \"exec\"\nx = 1.5\n", 2, "float" },
	/* top level */
	{ "tracer = \"exec\"\nactoins = [\"stdout\"]\n", 2,
	  "unknown key \"actoins\" (expected name, tracer, actions, containerRuntimes, force, "
	  "priority, description, tags or filterEvents)" },
	{ "program = \"exec\"\n", 1, "the tracer is now \"tracer\"" },
	{ "actions = []\n", 0, "missing \"tracer\" (compiled in: exec, open, bashreadline, "
			       "dockeropenbreakout, tcpconnect, tcpaccept, tcpdrop, chmod, filechange)" },
	{ "tracer = \"execve\"\n", 1,
	  "unknown tracer \"execve\" (compiled in: exec, open, bashreadline, dockeropenbreakout, "
	  "tcpconnect, tcpaccept, tcpdrop, chmod, filechange)" },
	{ "tracer = 1\n", 1, "\"tracer\" must be a string, not an integer" },
	{ "tracer = [\"exec\"]\n", 1, "\"tracer\" must be a string, not an array" },
	{ "tracer = \"exec\"\nname = true\n", 2, "\"name\" must be a string, not a boolean" },
	{ "tracer = \"exec\"\nname = \"a b\"\n", 2, "bad rule name \"a b\"" },
	{ "tracer = \"exec\"\nname = \"\"\n", 2, "bad rule name \"\"" },
	{ "tracer = \"exec\"\nname = \"-rf\"\n", 2, "bad rule name \"-rf\"" },
	{ "tracer = \"exec\"\nname = \".hidden\"\n", 2, "bad rule name" },
	{ "tracer = \"exec\"\nname = \"a\\nb\"\n", 2, "bad rule name \"a\\x0ab\"" },
	{ "tracer = \"exec\"\nactions = \"stdout\"\n", 2,
	  "\"actions\" must be an array of strings, not a string" },
	{ "tracer = \"exec\"\nactions = [\"stdout\", 3]\n", 2,
	  "an action must be a string, not an integer" },
	{ "tracer = \"exec\"\nactions = [\n\"stdout\",\n\"\"]\n", 4, "empty action name" },
	{ "tracer = \"exec\"\nforce = \"yes\"\n", 2, "\"force\" must be a boolean, not a string" },
	{ "tracer = \"exec\"\ncontainerRuntimes = \"docker\"\n", 2,
	  "\"containerRuntimes\" must be an array of strings" },
	{ "tracer = \"exec\"\ncontainerRuntimes = []\n", 2,
	  "\"containerRuntimes\" is empty (leave it out to match every runtime)" },
	{ "tracer = \"exec\"\ncontainerRuntimes = [\n  \"docker\",\n  \"dokcer\",\n]\n", 4,
	  "unknown container runtime \"dokcer\" (known: docker kube containerd" },
	{ "tracer = \"exec\"\ncontainerRuntimes = [\"host\"]\n", 2,
	  "unknown container runtime \"host\"" },
	{ "tracer = \"exec\"\nfilterEvents = 3\n", 2, "\"filterEvents\" must be a table" },
	/* filter keys */
	{ "tracer = \"exec\"\n[filterEvents.flags]\nvalues = [\"O_RDONLY\"]\n", 2,
	  "filter key \"flags\": the exec tracer never emits it (its keys: filename, argument, "
	  "resolved, interpreter, fileless, stdin, stdout, stderr, argv, syscall, command, pid, tid, ppid, uid, gid, returnval, cgroup_id, mntns, pidns, container_id, "
	  "container_runtime, container_name, container_image, container_label.KEY, "
	  "k8s_namespace, k8s_pod, exe, parent_command, parent_exe, ancestor_command, "
	  "ancestor_exe)" },
	{ "tracer = \"bashreadline\"\nfilterEvents.returnval.values = [0]\n", 2,
	  "filter key \"returnval\": the bashreadline tracer never emits it (its keys: command, "
	  "pid, tid, ppid, uid, gid, cgroup_id, mntns, pidns, container_id, container_runtime, "
	  "container_name, container_image, container_label.KEY, k8s_namespace, k8s_pod, "
	  "exe, parent_command, parent_exe, ancestor_command, ancestor_exe)" },
	{ "tracer = \"open\"\nfilterEvents.comm.values = [\"x\"]\n", 2, "filter key \"comm\"" },
	{ "tracer = \"open\"\nfilterEvents.filename = [\"/etc/shadow\"]\n", 2,
	  "filterEvents.filename must be a table ([filterEvents.filename] with values = [...]), "
	  "not an array" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalus = [\"/etc/shadow\"]\n", 3,
	  "unknown key \"valus\" in [filterEvents.filename] (expected values, exclude or "
	  "containerRuntimes)" },
	{ "tracer = \"open\"\n\n[filterEvents.filename]\n", 3,
	  "[filterEvents.filename] needs a non-empty values or exclude" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalues = []\nexclude = []\n", 2,
	  "needs a non-empty values or exclude" },
	{ "tracer = \"open\"\n[filterEvents.filename]\ncontainerRuntimes = [\"docker\"]\n", 2,
	  "needs a non-empty values or exclude" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalues = \"/etc/shadow\"\n", 3,
	  "filterEvents.filename.values must be an array, not a string" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nvalues = [\"/a\", 1]\n", 3,
	  "filterEvents.filename.values: a value must be a string, not an integer" },
	{ "tracer = \"open\"\n[filterEvents.filename]\nexclude = [\"a\\u0000b\"]\n", 3,
	  "holds a NUL byte" },
	/* globs */
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/etc/[ab\"]\n", 2,
	  "filterEvents.filename.values: bad glob \"/etc/[ab\": unclosed [ (write \\[ for a "
	  "literal [)" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = ['/tmp/*\\']\n", 2,
	  "it ends with a lone \\" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[z-a]\"]\n", 2, "reversed range" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[[:word:]]\"]\n", 2,
	  "unknown [:class:]" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[[:alpha:]\"]\n", 2,
	  "unclosed [" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[[:alpha]]\"]\n", 2,
	  "unclosed [:" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[[=a=]]\"]\n", 2,
	  "[= and [. (collation) are not supported" },
	{ "tracer = \"open\"\nfilterEvents.filename.exclude = [\"/[[.a.]]\"]\n", 2,
	  "filterEvents.filename.exclude: bad glob" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[[:alpha:]-z]\"]\n", 2,
	  "a range cannot start or end with a [:class:]" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"/[a-[:alpha:]]\"]\n", 2,
	  "a range cannot start or end with a [:class:]" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"[]\"]\n", 2, "unclosed [" },
	{ "tracer = \"open\"\nfilterEvents.filename.values = [\"[!]\"]\n", 2, "unclosed [" },
	/* numbers */
	{ "tracer = \"exec\"\n[filterEvents.uid]\nvalues = [\n  0,\n  \"root\",\n]\n", 5,
	  "filterEvents.uid.values: bad value \"root\": a number or a comparison =N !=N <N <=N "
	  ">N >=N, N a decimal integer" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"\"]\n", 2, "bad value \"\"" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\">\"]\n", 2, "bad value \">\"" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"> 5\"]\n", 2, "bad value \"> 5\"" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"5 \"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"+5\"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"=>5\"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"--5\"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"0x10\"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"1e3\"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"<>1\"]\n", 2, "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [true]\n", 2,
	  "filterEvents.uid.values: a value must be an integer or a string, not a boolean" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [-1]\n", 2,
	  "filterEvents.uid.values: -1 is out of range (0 to 4294967295)" },
	{ "tracer = \"exec\"\nfilterEvents.uid.values = [\"4294967296\"]\n", 2,
	  "filterEvents.uid.values: \"4294967296\" is out of range (0 to 4294967295)" },
	{ "tracer = \"exec\"\nfilterEvents.pid.exclude = [\">=-1\"]\n", 2,
	  "filterEvents.pid.exclude: \">=-1\" is out of range" },
	{ "tracer = \"exec\"\nfilterEvents.cgroup_id.values = [\"18446744073709551616\"]\n", 2,
	  "bad value" },
	{ "tracer = \"exec\"\nfilterEvents.mntns.values = [-5]\n", 2,
	  "-5 is out of range (0 to 18446744073709551615)" },
	{ "tracer = \"exec\"\nfilterEvents.returnval.values = [\"9223372036854775808\"]\n", 2,
	  "out of range (-9223372036854775808 to 9223372036854775807)" },
	{ "tracer = \"exec\"\nfilterEvents.returnval.values = [\"-9223372036854775809\"]\n", 2,
	  "bad value" },
	/* container_runtime as a filter key: a closed set */
	{ "tracer = \"exec\"\nfilterEvents.container_runtime.values = [\"dock*\"]\n", 2,
	  "filterEvents.container_runtime.values: unknown container runtime \"dock*\"" },
	/* containerRuntimes in several places must agree */
	{ "tracer = \"exec\"\ncontainerRuntimes = [\"docker\"]\n[filterEvents.command]\n"
	  "values = [\"sh\"]\ncontainerRuntimes = [\"kube\"]\n",
	  5, "\"containerRuntimes\" differs from the one on line 2" },
	{ "tracer = \"exec\"\n[filterEvents]\ncontainerRuntimes = [\"docker\"]\n"
	  "[filterEvents.command]\nvalues = [\"sh\"]\ncontainerRuntimes = [\"docker\", \"lxc\"]\n",
	  6, "differs from the one on line 3" },
};

static void test_schema_errors(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
		expect_error(error_cases[i].text, error_cases[i].line, error_cases[i].message);
}

static int only_stdout(void *ctx, const char *name, char *why, size_t size)
{
	if (!strcmp(name, "kill"))
		return RULE_ACTION_DESTRUCTIVE;
	if (!strcmp(name, "webhook:broken")) {
		snprintf(why, size, "no `url` in [webhook:broken]");
		return RULE_ACTION_UNKNOWN;
	}
	return !strcmp(name, "stdout") || !strcmp(name, "webhook:slack") ? RULE_ACTION_OK
									 : RULE_ACTION_UNKNOWN;
}

/* A judge that counts its calls through its context pointer. */
static int counting_judge(void *ctx, const char *name, char *why, size_t size)
{
	(*(int *)ctx)++;
	return RULE_ACTION_OK;
}

/* The judge gets the caller's context; the owner binds each action to what runs it. */
static void test_action_context_and_binding(void **state)
{
	const char *text = "tracer = \"exec\"\nactions = [\"stdout\", \"file:a\"]\n";
	struct rule_error err;
	struct rule *r = NULL;
	int calls = 0, one, two;

	(void)state;
	assert_int_equal(rule_parse("a.toml", text, strlen(text), counting_judge, &calls, &r, &err),
			 0);
	assert_int_equal(calls, 2);
	assert_null(rule_action_instance(r, 0));
	assert_null(rule_action_instance(r, 1));
	assert_int_equal(rule_bind_action(r, 1, &two), 0);
	assert_null(rule_action_instance(r, 0));
	assert_ptr_equal(rule_action_instance(r, 1), &two);
	assert_int_equal(rule_bind_action(r, 0, &one), 0);
	assert_ptr_equal(rule_action_instance(r, 0), &one);
	/* Past the rule's actions: refused, and nothing is read there. */
	assert_int_equal(rule_bind_action(r, 2, &one), -EINVAL);
	assert_null(rule_action_instance(r, 2));
	/* Rebinding (a rebuilt set) replaces. */
	assert_int_equal(rule_bind_action(r, 0, NULL), 0);
	assert_null(rule_action_instance(r, 0));
	rule_free(r);
	r = parse("tracer = \"exec\"\n");
	assert_int_equal(rule_bind_action(r, 0, &one), -EINVAL);
	assert_null(rule_action_instance(r, 0));
	rule_free(r);
}

static void test_actions(void **state)
{
	const char *text = "tracer = \"exec\"\nactions = [\"stdout\", \"webhook:slack\", "
			   "\"stdout\"]\nforce = true\n";
	struct rule_error err;
	struct rule *r = NULL;

	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), 0);
	assert_int_equal(rule_action_count(r), 2);
	assert_string_equal(rule_action(r, 0), "stdout");
	assert_string_equal(rule_action(r, 1), "webhook:slack");
	assert_null(rule_action(r, 2));
	assert_true(rule_forced(r));
	assert_true(rule_unfiltered(r));
	assert_int_equal(rule_tracer(r), 0);
	rule_free(r);

	text = "tracer = \"exec\"\nactions = [\n\"stdout\",\n\"kil\"]\n";
	r = (struct rule *)1;
	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), -EINVAL);
	assert_null(r);
	assert_int_equal(err.line, 4);
	assert_string_equal(err.message, "unknown action \"kil\"");

	/* An action that cannot run says why. */
	text = "tracer = \"exec\"\nactions = [\"webhook:broken\"]\n";
	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.message, "action \"webhook:broken\": no `url` in [webhook:broken]");

	/* A destructive action needs a filter, runtimes, or force. */
	text = "tracer = \"exec\"\nactions = [\"stdout\", \"kill\"]\n";
	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.message, "\"kill\" acts on processes or containers and this "
					     "rule has no filter"));
	text = "tracer = \"exec\"\nactions = [\"kill\"]\nforce = true\n";
	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), 0);
	rule_free(r);
	text = "tracer = \"exec\"\nactions = [\"kill\"]\ncontainerRuntimes = [\"docker\"]\n";
	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), 0);
	rule_free(r);
	text = "tracer = \"exec\"\nactions = [\"kill\"]\n[filterEvents.command]\n"
	       "values = [\"nc\"]\n";
	assert_int_equal(rule_parse("a.toml", text, strlen(text), only_stdout, NULL, &r, &err), 0);
	rule_free(r);

	/* Defaults: no actions, not forced; a filter or runtimes make it filtered. */
	r = parse("tracer = \"dockeropenbreakout\"\n");
	assert_int_equal(rule_action_count(r), 0);
	assert_false(rule_forced(r));
	assert_int_equal(rule_tracer(r), 3);
	rule_free(r);
	r = parse("tracer = \"open\"\ncontainerRuntimes = [\"docker\"]\n");
	assert_false(rule_unfiltered(r));
	rule_free(r);
	r = parse("tracer = \"open\"\nfilterEvents.uid.values = [0]\n");
	assert_false(rule_unfiltered(r));
	rule_free(r);
	/* An empty [filterEvents] is no filter. */
	r = parse("tracer = \"open\"\nactions = []\n[filterEvents]\n");
	assert_true(rule_unfiltered(r));
	rule_free(r);
}

static void test_names(void **state)
{
	char text[512], name[200];
	struct rule *r;

	r = parse_file("/etc/bpfd/rules/password_files.toml", "tracer = \"open\"\n");
	assert_string_equal(rule_name(r), "password_files");
	rule_free(r);
	r = parse_file("rel/dir/x.y.toml", "tracer = \"open\"\n");
	assert_string_equal(rule_name(r), "x.y");
	rule_free(r);
	r = parse_file("no-suffix", "tracer = \"open\"\n");
	assert_string_equal(rule_name(r), "no-suffix");
	rule_free(r);
	r = parse_file("a.toml", "name = \"b\"\ntracer = \"open\"\n");
	assert_string_equal(rule_name(r), "b");
	rule_free(r);
	r = parse_file("-", "name = \"from_stdin\"\ntracer = \"open\"\n");
	assert_string_equal(rule_name(r), "from_stdin");
	rule_free(r);
	r = parse_file(NULL, "name = \"from_socket\"\ntracer = \"open\"\n");
	assert_string_equal(rule_name(r), "from_socket");
	rule_free(r);

	expect_error_file("-", "tracer = \"open\"\n", 0, "a rule read from stdin needs a \"name\"");
	expect_error_file(NULL, "tracer = \"open\"\n", 0, "a rule read from stdin needs a \"name\"");
	expect_error_file("/rules/my rule.toml", "tracer = \"open\"\n", 0,
			  "the file name gives the bad rule name \"my rule\": set \"name\"");
	expect_error_file("/rules/.toml", "tracer = \"open\"\n", 0, "bad rule name \".toml\"");
	expect_error_file("/rules/", "tracer = \"open\"\n", 0, "bad rule name \"\"");

	/* 128 bytes are fine, 129 are not. */
	memset(name, 'n', 128);
	name[128] = '\0';
	snprintf(text, sizeof(text), "name = \"%s\"\ntracer = \"open\"\n", name);
	r = parse(text);
	assert_int_equal(strlen(rule_name(r)), 128);
	rule_free(r);
	snprintf(text, sizeof(text), "name = \"%sn\"\ntracer = \"open\"\n", name);
	expect_error(text, 1, "bad rule name");
	/* The message quotes at most a few dozen bytes of it. */
	{
		struct rule_error err;

		assert_int_equal(rule_parse("x", text, strlen(text), NULL, NULL, &r, &err), -EINVAL);
		assert_non_null(strstr(err.message, "...\""));
		assert_true(strlen(err.message) < 200);
	}
}

/* The old README's rule, byte for byte, and the other layouts of its era. */
static void test_old_readme_layout(void **state)
{
	static const char *const readme =
		"tracer = \"exec\"\n"
		"actions = [\"stdout\"]\n"
		"[filterEvents]\n"
		"[filterEvents.command]\n"
		"values = [\"sshd\", \"dbus-daemon-lau\", \"ping\", \"ping6\", \"critical-stack-\", "
		"\"pmmcli\", \"filemng\", \"PassengerAgent\", \"bwrap\", \"osdetect\", \"nginxmng\", "
		"\"sw-engine-fpm\", \"start-stop-daem\"]\n"
		"containerRuntimes = [\"docker\",\"kube\"]\n";
	static const char *const variants[] = {
		/* runtimes at the top level */
		"tracer = \"exec\"\ncontainerRuntimes = [\"kube\", \"docker\"]\n"
		"[filterEvents.command]\nvalues = [\"ping\"]\n",
		/* in [filterEvents] itself, as the original repository once had it */
		"tracer = \"exec\"\n[filterEvents]\ncontainerRuntimes = [\"docker\", \"kube\"]\n"
		"[filterEvents.command]\nvalues = [\"ping\"]\n",
		/* in two places, the same set */
		"tracer = \"exec\"\ncontainerRuntimes = [\"docker\", \"kube\"]\n"
		"[filterEvents.command]\nvalues = [\"ping\"]\n"
		"containerRuntimes = [\"kube\", \"docker\", \"kube\"]\n",
	};
	struct event *ev;
	struct rule *r;
	size_t i;

	r = parse_file("setuid_binaries.toml", readme);
	assert_string_equal(rule_name(r), "setuid_binaries");
	ev = new_event("exec command=ping6 runtime=docker container_id=abc");
	assert_true(rule_matches(r, ev));
	build_event(ev, "exec command=PassengerAgent runtime=kube container_id=abc");
	assert_true(rule_matches(r, ev));
	build_event(ev, "exec command=ping6");
	assert_false(rule_matches(r, ev));
	build_event(ev, "exec command=ping6 runtime=containerd container_id=abc");
	assert_false(rule_matches(r, ev));
	build_event(ev, "exec command=bash runtime=docker container_id=abc");
	assert_false(rule_matches(r, ev));
	rule_free(r);

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		r = parse(variants[i]);
		build_event(ev, "exec command=ping runtime=kube container_id=abc");
		assert_true(rule_matches(r, ev));
		build_event(ev, "exec command=ping");
		assert_false(rule_matches(r, ev));
		rule_free(r);
	}
	free(ev);
}

/* Every operator at, below and above its number, on signed and unsigned fields. */
static void test_operators(void **state)
{
	static const struct {
		const char *op;
		bool below, at, above;
	} ops[] = {
		{ "", false, true, false },   { "=", false, true, false },
		{ "!=", true, false, true },  { "<", true, false, false },
		{ "<=", true, true, false },  { ">", false, false, true },
		{ ">=", false, true, true },
	};
	static const struct {
		const char *field;
		const char *tracer;
		int64_t n;
	} points[] = {
		{ "returnval", "open", -13 }, { "returnval", "open", 0 },
		{ "returnval", "exec", 7 },   { "uid", "exec", 1000 },
		{ "pid", "open", 1 },	      { "mntns", "exec", 4026531840 },
		{ "pidns", "exec", 4026531836 }, { "tid", "exec", 77 },
		{ "ppid", "dockeropenbreakout", 2 }, { "gid", "exec", 100 },
		{ "cgroup_id", "open", 12345 },
	};
	char text[256], spec[128];
	struct event *ev = new_event("exec");
	size_t o, p, d;

	for (p = 0; p < sizeof(points) / sizeof(points[0]); p++) {
		for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			struct rule *r, *rx;

			snprintf(text, sizeof(text), "tracer = \"%s\"\nfilterEvents.%s.values = [\"%s%" PRId64 "\"]\n",
				 points[p].tracer, points[p].field, ops[o].op, points[p].n);
			r = parse(text);
			snprintf(text, sizeof(text), "tracer = \"%s\"\nfilterEvents.%s.exclude = [\"%s%" PRId64 "\"]\n",
				 points[p].tracer, points[p].field, ops[o].op, points[p].n);
			rx = parse(text);
			for (d = 0; d < 3; d++) {
				bool want = d == 0 ? ops[o].below : d == 1 ? ops[o].at : ops[o].above;

				snprintf(spec, sizeof(spec), "%s %s=%" PRId64, points[p].tracer,
					 points[p].field, points[p].n - 1 + (int64_t)d);
				build_event(ev, spec);
				if (rule_matches(r, ev) != want)
					print_error("%s%" PRId64 " on %s\n", ops[o].op, points[p].n,
						    spec);
				assert_int_equal(rule_matches(r, ev), want);
				/* exclude is the negation */
				assert_int_equal(rule_matches(rx, ev), !want);
			}
			rule_free(r);
			rule_free(rx);
		}
	}
	free(ev);
}

static void test_numbers(void **state)
{
	struct event *ev = new_event("open returnval=-9223372036854775807");
	struct rule *r;

	/* The extremes of each range, as integers and as strings. */
	r = parse("tracer = \"open\"\nfilterEvents.returnval.values = "
		  "[\"-9223372036854775808\", -9223372036854775807, 9223372036854775807]\n");
	assert_true(rule_matches(r, ev));
	ev->returnval = INT64_MIN;
	assert_true(rule_matches(r, ev));
	ev->returnval = INT64_MAX;
	assert_true(rule_matches(r, ev));
	ev->returnval = 0;
	assert_false(rule_matches(r, ev));
	rule_free(r);

	r = parse("tracer = \"open\"\nfilterEvents.returnval.values = [\"<-9223372036854775807\"]\n");
	ev->returnval = INT64_MIN;
	assert_true(rule_matches(r, ev));
	ev->returnval = INT64_MIN + 1;
	assert_false(rule_matches(r, ev));
	rule_free(r);

	r = parse("tracer = \"open\"\nfilterEvents.uid.values = [\"4294967295\", \"=007\"]\n"
		  "filterEvents.cgroup_id.values = [\">9223372036854775807\"]\n");
	ev->uid = UINT32_MAX;
	ev->cgroup_id = (uint64_t)INT64_MAX + 1;
	assert_true(rule_matches(r, ev));
	ev->uid = 7;
	assert_true(rule_matches(r, ev));
	ev->cgroup_id = INT64_MAX;
	assert_false(rule_matches(r, ev));
	rule_free(r);

	/* "-0" is 0; leading zeros are decimal, not octal. */
	r = parse("tracer = \"open\"\nfilterEvents.pid.values = [\"-0\", \"010\"]\n");
	ev->pid = 0;
	assert_true(rule_matches(r, ev));
	ev->pid = 10;
	assert_true(rule_matches(r, ev));
	ev->pid = 8;
	assert_false(rule_matches(r, ev));
	rule_free(r);

	/* Many "=N": a sorted array, so each one is found. */
	{
		char *text = malloc(100000);
		size_t o, i;

		assert_non_null(text);
		o = sprintf(text, "tracer = \"open\"\nfilterEvents.pid.values = [");
		for (i = 0; i < 5000; i++)
			o += sprintf(text + o, "%zu, ", (i * 7919) % 100000);
		sprintf(text + o, "\"<3\"]\n");
		r = parse(text);
		for (i = 0; i < 5000; i++) {
			ev->pid = (i * 7919) % 100000;
			assert_true(rule_matches(r, ev));
		}
		ev->pid = 2;
		assert_true(rule_matches(r, ev));
		ev->pid = 7918;
		assert_false(rule_matches(r, ev));
		rule_free(r);
		free(text);
	}
	free(ev);
}

/* Exact sets above the hashing threshold, with duplicates and values that hold NULs. */
static void test_exact_sets(void **state)
{
	struct event *ev = new_event("open filename=/x command=cat");
	char *text = malloc(200000), value[64];
	struct rule *r;
	size_t o, i;

	assert_non_null(text);
	o = sprintf(text, "tracer = \"open\"\nfilterEvents.filename.values = [");
	for (i = 0; i < 3000; i++)
		o += sprintf(text + o, "\"/f/%zu\", \"/f/%zu\", ", i, i);
	o += sprintf(text + o, "]\nfilterEvents.command.exclude = [");
	for (i = 0; i < 20; i++)
		o += sprintf(text + o, "\"bad%zu\",", i);
	sprintf(text + o, "]\n");
	r = parse(text);
	for (i = 0; i < 3000; i++) {
		snprintf(value, sizeof(value), "/f/%zu", i);
		assert_int_equal(event_add_str(ev, "filename", value), 0);
		assert_true(rule_matches(r, ev));
	}
	assert_int_equal(event_add_str(ev, "filename", "/f/3000"), 0);
	assert_false(rule_matches(r, ev));
	/* Length-delimited: "/f/1" followed by more bytes is not "/f/1". */
	assert_int_equal(event_add_data(ev, "filename", "/f/1\0zz", 7), 0);
	assert_false(rule_matches(r, ev));
	assert_int_equal(event_add_data(ev, "filename", "/f/12345", 4), 0);
	assert_true(rule_matches(r, ev));
	assert_int_equal(event_add_str(ev, "command", "bad7"), 0);
	assert_false(rule_matches(r, ev));
	assert_int_equal(event_add_str(ev, "command", "bad20"), 0);
	assert_true(rule_matches(r, ev));
	rule_free(r);
	free(text);
	free(ev);
}

/* ---- globs ---- */

static bool glob_matches(const char *pattern, const char *value, size_t len)
{
	char text[512];
	struct event *ev;
	struct rule *r;
	bool m;

	snprintf(text, sizeof(text), "tracer = \"exec\"\nfilterEvents.argv.values = ['%s']\n",
		 pattern);
	r = parse(text);
	ev = new_event("exec");
	assert_int_equal(event_add_data(ev, "argv", value, len), 0);
	m = rule_matches(r, ev);
	rule_free(r);
	free(ev);
	return m;
}

static void test_globs(void **state)
{
	static const struct {
		const char *pattern, *value;
		bool match;
	} cases[] = {
		{ "*", "", true },
		{ "?", "", false },
		{ "a*", "a", true },
		{ "*a", "ba/a", true },
		{ "a*b*c", "aXbYbZc", true },
		{ "a*b*c", "aXbYbZ", false },
		{ "[]]", "]", true },
		{ "[!]]", "]", false },
		{ "[!]]", "x", true },
		{ "[^a]", "b", true },
		{ "[a-]", "-", true },
		{ "[--/]", ".", true },
		{ "[\\]]", "]", true },
		{ "[\\!a]", "!", true },
		{ "\\[a]", "[a]", true },
		{ "\\[a]*", "[a]", true },
		{ "[[:upper:][:digit:]]", "Q", true },
		{ "[[:upper:][:digit:]]", "q", false },
		{ "[[:space:]]", "\t", true },
		{ "[[:punct:]]", "_", true },
		{ "[[:xdigit:]]", "g", false },
		{ "[[]", "[", true },
		{ "[a[]", "[", true },
		{ "/etc/*.conf", "/etc/ssh/sshd_config", false },
		{ "/etc/*.conf", "/etc/a/b.conf", true },
		{ "*\\*", "x*", true },
		{ "*\\*", "x", false },
		{ "\\a*", "ab", true },
		/* no * ? [ at all: exact, so the backslash is a plain byte */
		{ "C:\\dir", "C:\\dir", true },
		{ "C:\\dir", "C:dir", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool m = glob_matches(cases[i].pattern, cases[i].value, strlen(cases[i].value));

		if (m != cases[i].match)
			print_error("'%s' on \"%s\": want %d\n", cases[i].pattern, cases[i].value,
				    cases[i].match);
		assert_int_equal(m, cases[i].match);
	}
	/* Bytes, not C strings: fnmatch() would stop at the NUL and say yes. */
	assert_false(glob_matches("*.conf", "a.conf\0.sh", 10));
	assert_true(glob_matches("*.sh", "a.conf\0.sh", 10));
	assert_true(glob_matches("a?b", "a\0b", 3));
}

/* Long values are matched whole, and many stars cost O(pattern × value). */
static void test_glob_long_values(void **state)
{
	size_t len = EVENT_SCRATCH - 64;
	char *value = malloc(len);
	struct timespec t0, t1;
	double ms;

	assert_non_null(value);
	memset(value, 'a', len);
	value[len - 1] = 'x';
	assert_true(glob_matches("*x", value, len));
	assert_false(glob_matches("*y", value, len));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(glob_matches("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*y", value, len));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* ~1M steps; exponential backtracking would never finish. */
	assert_true(ms < 2000);
	free(value);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across runs and platforms. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t rndn(size_t n)
{
	return rnd() % n;
}

/* glob_match() against glibc's fnmatch() on random patterns it accepts. */
static void test_glob_vs_fnmatch(void **state)
{
	static const char *const atoms[] = {
		"a", "b", "/", ".", "-", "*", "?", "[", "]", "!", "^", "\\", ":",
		"[:alpha:]", "[:digit:]", "[:punct:]", "1",
	};
	static const char schars[] = "ab/.-]![\\:^1Z";
	size_t tried = 0, compared = 0, matched = 0;
	char pattern[64], value[16], text[256];
	struct event *ev = new_event("exec");

	rng_state = 42;
	while (compared < 20000 && tried < 400000) {
		struct rule_error err;
		struct rule *r = NULL;
		size_t n = 1 + rndn(7), i, o = 0, v;

		tried++;
		for (i = 0; i < n; i++)
			o += sprintf(pattern + o, "%s", atoms[rndn(sizeof(atoms) / sizeof(atoms[0]))]);
		/* Patterns without * ? [ are exact values, not globs. */
		if (!strpbrk(pattern, "*?["))
			continue;
		snprintf(text, sizeof(text),
			 "tracer = \"exec\"\nfilterEvents.argv.values = ['%s']\n", pattern);
		if (rule_parse("g.toml", text, strlen(text), NULL, NULL, &r, &err))
			continue;
		compared++;
		for (v = 0; v < 8; v++) {
			size_t vl = rndn(6), k;
			bool mine, theirs;

			for (k = 0; k < vl; k++)
				value[k] = schars[rndn(sizeof(schars) - 1)];
			value[vl] = '\0';
			assert_int_equal(event_add_str(ev, "argv", value), 0);
			mine = rule_matches(r, ev);
			theirs = fnmatch(pattern, value, 0) == 0;
			if (mine != theirs)
				print_error("pattern '%s' value '%s': ours %d, fnmatch %d\n", pattern,
					    value, mine, theirs);
			assert_int_equal(mine, theirs);
			matched += mine;
		}
		rule_free(r);
	}
	/* The generator must actually exercise both outcomes. */
	assert_true(compared >= 20000);
	assert_true(matched > 1000);
	free(ev);
}

/* ---- examples/rules ---- */

static struct rule *parse_example(const char *name)
{
	char rel[256], path[4200], *text;
	struct rule_error err;
	struct rule *r = NULL;
	size_t len;
	FILE *f;
	int ret;

	snprintf(rel, sizeof(rel), "examples/rules/%s", name);
	f = open_source(rel, path, sizeof(path));
	text = read_all(f, &len);
	fclose(f);
	ret = rule_parse(path, text, len, only_stdout, NULL, &r, &err);
	if (ret)
		print_error("%s:%u: %s\n", path, err.line, err.message);
	assert_int_equal(ret, 0);
	free(text);
	return r;
}

static void test_example_files(void **state)
{
	char path[4200];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	find_source("examples/rules", path, sizeof(path));
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct rule *r;

		if (len < 6 || strcmp(de->d_name + len - 5, ".toml"))
			continue;
		r = parse_example(de->d_name);
		/* The name is the file's: `rm NAME` works as the old README shows. */
		assert_int_equal(strlen(rule_name(r)), len - 5);
		assert_memory_equal(rule_name(r), de->d_name, len - 5);
		rule_free(r);
		n++;
	}
	closedir(d);
	assert_true(n >= 7);
}

/* The example rules do what docs/rules.md says they do. */
static void test_example_semantics(void **state)
{
	static const struct {
		const char *file, *event;
		bool match;
	} cases[] = {
		{ "bashreadline.toml", "bashreadline command=\"sudo bpfd trace\"", true },
		{ "password_files.toml", "open filename=/etc/shadow command=sudo returnval=4", true },
		{ "password_files.toml", "open filename=/etc/sudoers.d/README command=sudo", true },
		{ "password_files.toml", "open filename=/etc/sudoers.d command=sudo", true },
		{ "password_files.toml", "open filename=/etc/gshadow command=vigr", true },
		{ "password_files.toml", "open filename=/etc/passwd command=useradd", true },
		{ "password_files.toml", "open filename=/etc/hosts command=curl", false },
		{ "password_files.toml", "open filename=/etc/shadow- command=cat", false },
		{ "setuid_binaries.toml", "exec command=ping runtime=docker container_id=c", true },
		{ "setuid_binaries.toml", "exec command=ping", false },
		{ "setuid_binaries.toml", "exec command=bash runtime=kube container_id=c", false },
		{ "container_shell.toml", "exec command=bash runtime=docker container_id=c", true },
		{ "container_shell.toml", "exec command=sh runtime=cri-o container_id=c", true },
		{ "container_shell.toml", "exec command=bash", false },
		{ "container_shell.toml", "exec command=python3 runtime=docker container_id=c",
		  false },
		{ "ssh_keys.toml", "open filename=/root/.ssh/id_rsa command=cat", true },
		{ "ssh_keys.toml", "open filename=/home/ann/.ssh/id_ed25519 command=scp", true },
		{ "ssh_keys.toml", "open filename=/etc/ssh/ssh_host_ed25519_key command=cat", true },
		{ "ssh_keys.toml", "open filename=/root/.ssh/authorized_keys command=sshd", false },
		{ "ssh_keys.toml", "open filename=/home/ann/.ssh/id_ed25519.pub command=cat", false },
		{ "ssh_keys.toml", "open filename=/home/ann/.ssh/known_hosts command=ssh", false },
		{ "container_package_managers.toml",
		  "exec command=apt-get runtime=docker container_id=c", true },
		{ "container_package_managers.toml", "exec command=pip3 runtime=kube container_id=c",
		  true },
		{ "container_package_managers.toml", "exec command=apt-get", false },
		{ "container_package_managers.toml",
		  "exec command=bash runtime=docker container_id=c", false },
		{ "container_breakout.toml",
		  "dockeropenbreakout filename=/etc/shadow reason=host-root-filesystem runtime=docker "
		  "container_id=c returnval=3",
		  true },
		{ "container_breakout.toml", "open filename=/etc/shadow", false },
		{ "container_metadata_address.toml",
		  "tcpconnect daddr=169.254.169.254 dport=80 runtime=docker container_id=c", true },
		{ "container_metadata_address.toml",
		  "tcpconnect daddr=fd00:ec2::254 dport=80 runtime=kube container_id=c", true },
		{ "container_metadata_address.toml", "tcpconnect daddr=169.254.169.254 dport=80",
		  false },
		{ "container_metadata_address.toml",
		  "tcpconnect daddr=169.254.169.253 runtime=docker container_id=c", false },
		{ "container_outbound_unlisted.toml",
		  "tcpconnect daddr=203.0.113.9 runtime=docker container_id=c", true },
		{ "container_outbound_unlisted.toml",
		  "tcpconnect daddr=2001:db8::1 runtime=docker container_id=c", true },
		{ "container_outbound_unlisted.toml",
		  "tcpconnect daddr=10.1.2.3 runtime=docker container_id=c", false },
		{ "container_outbound_unlisted.toml",
		  "tcpconnect daddr=::ffff:192.168.1.1 runtime=docker container_id=c", false },
		{ "container_outbound_unlisted.toml", "tcpconnect daddr=203.0.113.9", false },
		{ "web_server_shell.toml", "exec command=sh ancestor=nginx ancestor=systemd", true },
		{ "web_server_shell.toml", "exec command=bash ancestor=php-fpm8.2", true },
		{ "web_server_shell.toml", "exec command=sh ancestor=bash ancestor=nginx", false },
		{ "web_server_shell.toml", "exec command=python3 ancestor=nginx", false },
		{ "web_server_shell.toml", "exec command=sh", false },
		{ "listen_overflow_flood.toml", "tcpdrop state=LISTEN count=100", true },
		{ "listen_overflow_flood.toml", "tcpdrop state=LISTEN count=20000", true },
		{ "listen_overflow_flood.toml", "tcpdrop state=LISTEN count=99", false },
		{ "listen_overflow_flood.toml", "tcpdrop state=ESTABLISHED count=500", false },
		{ "setuid_bit.toml", "chmod mode=4755 command=cp returnval=0", true },
		{ "setuid_bit.toml", "chmod mode=2755 command=python3 returnval=0", true },
		{ "setuid_bit.toml", "chmod mode=6711 command=sh returnval=0", true },
		{ "setuid_bit.toml", "chmod mode=0666 command=chmod returnval=0", true },
		{ "setuid_bit.toml", "chmod mode=0757 command=chmod returnval=0", true },
		{ "setuid_bit.toml", "chmod mode=3777 command=chmod returnval=0", true },
		{ "setuid_bit.toml", "chmod mode=0644 command=chmod returnval=0", false },
		{ "setuid_bit.toml", "chmod mode=1777 command=chmod returnval=0", false },
		{ "setuid_bit.toml", "chmod mode=1755 command=chmod returnval=0", false },
		{ "setuid_bit.toml", "chmod mode=4755 command=chmod returnval=-1", false },
		{ "setuid_bit.toml", "chmod mode=4755 command=dpkg returnval=0", false },
		{ "setuid_bit.toml", "chmod mode=0666 command=rpm returnval=0", false },
	};
	struct event *ev = new_event("exec");
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rule *r = parse_example(cases[i].file);

		build_event(ev, cases[i].event);
		if (rule_matches(r, ev) != cases[i].match)
			print_error("%s on %s: want %d\n", cases[i].file, cases[i].event,
				    cases[i].match);
		assert_int_equal(rule_matches(r, ev), cases[i].match);
		rule_free(r);
	}
	free(ev);
}

/* ---- address and port keys ---- */

static void test_addresses_and_ports(void **state)
{
	static const struct {
		const char *filter, *event;
		bool match;
	} cases[] = {
		{ "daddr.values = [\"10.0.0.0/8\"]", "daddr=10.255.1.2", true },
		{ "daddr.values = [\"10.0.0.0/8\"]", "daddr=11.0.0.1", false },
		{ "daddr.values = [\"10.1.2.3/8\"]", "daddr=10.9.9.9", true },	/* host bits cleared */
		{ "daddr.values = [\"192.168.1.7\"]", "daddr=192.168.1.7", true },
		{ "daddr.values = [\"192.168.1.7\"]", "daddr=192.168.1.8", false },
		{ "daddr.values = [\"::1/128\"]", "daddr=::1", true },
		{ "daddr.values = [\"2001:db8::/32\"]", "daddr=2001:db8:ffff::1", true },
		{ "daddr.values = [\"2001:db8::/32\"]", "daddr=2001:db9::1", false },
		{ "daddr.values = [\"0.0.0.0/0\"]", "daddr=8.8.8.8", true },
		{ "daddr.values = [\"0.0.0.0/0\"]", "daddr=::1", false },
		/* An IPv6 socket's IPv4 peer is the same address. */
		{ "daddr.values = [\"127.0.0.0/8\"]", "daddr=::ffff:127.0.0.1", true },
		{ "daddr.exclude = [\"10.0.0.0/8\"]", "daddr=10.0.0.1", false },
		{ "daddr.exclude = [\"10.0.0.0/8\"]", "daddr=172.16.0.1", true },
		{ "daddr.exclude = [\"10.0.0.0/8\"]", "dport=80", false },	/* no address */
		{ "saddr.values = [\"10.0.0.0/24\"]\nfilterEvents.saddr.exclude = [\"10.0.0.1\"]",
		  "saddr=10.0.0.1", false },
		{ "dport.values = [443, \"8000-8999\"]", "dport=443", true },
		{ "dport.values = [443, \"8000-8999\"]", "dport=8999", true },
		{ "dport.values = [443, \"8000-8999\"]", "dport=9000", false },
		{ "dport.values = [\"1-65535\"]\nfilterEvents.dport.exclude = [22]", "dport=22",
		  false },
		{ "sport.values = [\"0-1023\"]", "sport=0", true },
		{ "sport.values = [\"0-1023\"]", "sport=x", false },
	};
	struct event *ev = new_event("tcpconnect");
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rule *r;
		char spec[256];

		snprintf(text, sizeof(text), "tracer = \"tcpconnect\"\nfilterEvents.%s\n",
			 cases[i].filter);
		r = parse_file("net.toml", text);
		snprintf(spec, sizeof(spec), "tcpconnect %s", cases[i].event);
		build_event(ev, spec);
		if (rule_matches(r, ev) != cases[i].match)
			print_error("%s on %s: want %d\n", cases[i].filter, cases[i].event,
				    cases[i].match);
		assert_int_equal(rule_matches(r, ev), cases[i].match);
		rule_free(r);
	}
	free(ev);
}

static void add_block(void *ctx, const uint8_t addr[16], unsigned int bits)
{
	unsigned int *n = ctx;

	(void)addr;
	*n += bits;
}

static void add_range(void *ctx, unsigned int lo, unsigned int hi)
{
	unsigned int *n = ctx;

	*n += hi - lo + 1;
}

static void test_address_and_port_prefilter_values(void **state)
{
	struct rule *r = parse_file("p.toml", "tracer = \"tcpdrop\"\n"
					      "filterEvents.daddr.values = [\"10.0.0.0/8\", \"::1\"]\n"
					      "filterEvents.dport.values = [\"80-81\", 443]\n");
	unsigned int n = 0;

	assert_true(rule_prefilter_addresses(r, "daddr", add_block, &n));
	assert_int_equal(n, 96 + 8 + 128);
	n = 0;
	assert_true(rule_prefilter_ports(r, "dport", add_range, &n));
	assert_int_equal(n, 3);
	assert_false(rule_prefilter_addresses(r, "saddr", add_block, &n));
	assert_false(rule_prefilter_ports(r, "sport", add_range, &n));
	/* Address keys are not strings to the string prefilter. */
	assert_false(rule_prefilter_values(r, "daddr", false, NULL, NULL));
	rule_free(r);
}

static void test_bad_addresses_and_ports(void **state)
{
	static const char *const bad[] = {
		"daddr.values = [\"10.0.0.0/33\"]",	"daddr.values = [\"::1/129\"]",
		"daddr.values = [\"example.com\"]",	"daddr.values = [\"10.0.0.0/\"]",
		"daddr.values = [\"10.0.0.0/+8\"]",	"daddr.values = [7]",
		"dport.values = [70000]",		"dport.values = [-1]",
		"dport.values = [\"9000-8000\"]",	"dport.values = [\"80-\"]",
		"dport.values = [\"http\"]",		"dport.values = [\"1-2-3\"]",
		"sport.exclude = [\"0123456\"]",
	};
	struct rule_error err;
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rule *r = NULL;

		snprintf(text, sizeof(text), "tracer = \"tcpconnect\"\nfilterEvents.%s\n", bad[i]);
		if (rule_parse("bad.toml", text, strlen(text), NULL, NULL, &r, &err) != -EINVAL)
			print_error("accepted: %s\n", bad[i]);
		assert_null(r);
		assert_non_null(strstr(err.message, "filterEvents."));
	}
}

/* ---- rulesets ---- */

static void test_ruleset_order_and_dedup(void **state)
{
	struct rule *rules[6];
	const struct rule *out[8];
	struct event *ev = new_event("exec command=ping uid=0");
	struct ruleset *s;
	size_t n;

	rules[0] = parse_file("a.toml", "tracer = \"exec\"\nfilterEvents.command.values = "
					"[\"ping\", \"ping\", \"sshd\"]\n");
	rules[1] = parse_file("b.toml", "tracer = \"exec\"\nfilterEvents.uid.values = [0]\n");
	rules[2] = parse_file("c.toml", "tracer = \"open\"\n");
	rules[3] = parse_file("d.toml", "tracer = \"exec\"\nfilterEvents.command.values = "
					"[\"ping\"]\nfilterEvents.uid.values = [1]\n");
	rules[4] = rules[0];	/* given twice: listed once, where it came first */
	rules[5] = parse_file("e.toml", "tracer = \"exec\"\nfilterEvents.command.values = "
					"[\"p*\"]\n");
	s = ruleset_new(rules, 6);
	assert_non_null(s);
	assert_int_equal(ruleset_count(s, 0), 4);
	assert_int_equal(ruleset_count(s, 1), 1);
	assert_int_equal(ruleset_count(s, 2), 0);
	assert_int_equal(ruleset_count(s, 99), 0);

	n = ruleset_match(s, 0, ev, out, 8);
	assert_int_equal(n, 3);
	assert_ptr_equal(out[0], rules[0]);
	assert_ptr_equal(out[1], rules[1]);
	assert_ptr_equal(out[2], rules[5]);
	/* At most max, the first ones in order. */
	assert_int_equal(ruleset_match(s, 0, ev, out, 2), 2);
	assert_ptr_equal(out[0], rules[0]);
	assert_ptr_equal(out[1], rules[1]);
	assert_int_equal(ruleset_match(s, 0, ev, out, 0), 0);
	assert_int_equal(ruleset_match(s, 99, ev, out, 8), 0);
	assert_int_equal(ruleset_match(NULL, 0, ev, out, 8), 0);

	build_event(ev, "open filename=/x");
	assert_int_equal(ruleset_match(s, 1, ev, out, 8), 1);
	assert_ptr_equal(out[0], rules[2]);
	ruleset_free(s);

	/* An empty set. */
	s = ruleset_new(NULL, 0);
	assert_non_null(s);
	assert_int_equal(ruleset_count(s, 0), 0);
	assert_int_equal(ruleset_match(s, 0, ev, out, 8), 0);
	ruleset_free(s);
	ruleset_free(NULL);

	rule_free(rules[0]);
	rule_free(rules[1]);
	rule_free(rules[2]);
	rule_free(rules[3]);
	rule_free(rules[5]);
	rule_free(NULL);
	free(ev);
}

/* 1,000 rules of 100 exact values each: every value finds its rule, and only it. */
static void test_ruleset_many(void **state)
{
	enum { RULES = 1000, VALUES = 100 };
	struct rule **rules = calloc(RULES, sizeof(*rules));
	const struct rule *out[4];
	char *text = malloc(4096), value[64];
	struct event *ev = new_event("open command=cat");
	struct ruleset *s;
	size_t i, v, o;

	assert_non_null(rules);
	assert_non_null(text);
	for (i = 0; i < RULES; i++) {
		o = sprintf(text, "tracer = \"open\"\nfilterEvents.filename.values = [");
		for (v = 0; v < VALUES; v++)
			o += sprintf(text + o, "\"/r%zu/v%zu\",", i, v);
		sprintf(text + o, "]\n");
		rules[i] = parse(text);
	}
	s = ruleset_new(rules, RULES);
	assert_non_null(s);
	for (i = 0; i < RULES; i += 37) {
		for (v = 0; v < VALUES; v += 13) {
			snprintf(value, sizeof(value), "/r%zu/v%zu", i, v);
			assert_int_equal(event_add_str(ev, "filename", value), 0);
			assert_int_equal(ruleset_match(s, 1, ev, out, 4), 1);
			assert_ptr_equal(out[0], rules[i]);
		}
	}
	assert_int_equal(event_add_str(ev, "filename", "/r1/v100"), 0);
	assert_int_equal(ruleset_match(s, 1, ev, out, 4), 0);
	ruleset_free(s);
	for (i = 0; i < RULES; i++)
		rule_free(rules[i]);
	free(rules);
	free(text);
	free(ev);
}


/* Rules indexed by different metadata keys: each by its own (they are one field, told apart by name). */
static void test_ruleset_meta_keys(void **state)
{
	struct rule *rules[2];
	const struct rule *out[4];
	struct event *ev = new_event("open filename=/x");
	struct container_meta m;
	json_t *j;
	struct ruleset *s;

	(void)state;
	rules[0] = parse_file("img.toml", "tracer = \"open\"\nfilterEvents.container_image.values = "
					  "[\"nginx:1.25\"]\nfilterEvents.'container_label.team'.values = "
					  "[\"red\"]\n");
	rules[1] = parse_file("lab.toml", "tracer = \"open\"\n"
					  "filterEvents.'container_label.app.kubernetes.io/name'.values = "
					  "[\"shop\"]\n");
	s = ruleset_new(rules, 2);
	assert_non_null(s);
	j = json_pack("{s:s, s:{s:s, s:s}}", "container_image", "nginx:1.25", "container_labels",
		      "team", "red", "app.kubernetes.io/name", "web");
	assert_int_equal(container_meta_from_event(j, &m), 0);
	ev->container_meta = &m;
	assert_int_equal(ruleset_match(s, 1, ev, out, 4), 1);
	assert_ptr_equal(out[0], rules[0]);
	container_meta_release(&m);
	json_decref(j);
	j = json_pack("{s:s, s:{s:s}}", "container_image", "redis", "container_labels",
		      "app.kubernetes.io/name", "shop");
	assert_int_equal(container_meta_from_event(j, &m), 0);
	assert_int_equal(ruleset_match(s, 1, ev, out, 4), 1);
	assert_ptr_equal(out[0], rules[1]);
	container_meta_release(&m);
	json_decref(j);
	ev->container_meta = NULL;
	assert_int_equal(ruleset_match(s, 1, ev, out, 4), 0);
	ruleset_free(s);
	rule_free(rules[0]);
	rule_free(rules[1]);
	free(ev);
}

/* ---- the property: ruleset_match() == rule_matches() over every rule ---- */

static const char *const p_strings[] = { "a", "b", "ab", "ba", "", "/x", "/x/y", "sh" };
static const char *const p_globs[] = { "a*", "*b", "?", "/x*", "[ab]", "*", "[!a]*" };
static const char *const p_numbers[] = { "0", "1", "2", "<1", ">=2", "!=1", "<=0", ">5" };
static const char *const p_ids[] = { "", "c1", "c2" };

static void gen_values(char *buf, size_t *o, bool numeric, size_t n)
{
	size_t i;

	*o += sprintf(buf + *o, "[");
	for (i = 0; i < n; i++) {
		if (numeric)
			*o += sprintf(buf + *o, "\"%s\",", p_numbers[rndn(8)]);
		else if (rndn(4) == 0)
			*o += sprintf(buf + *o, "'%s',", p_globs[rndn(7)]);
		else
			*o += sprintf(buf + *o, "'%s',", p_strings[rndn(8)]);
	}
	*o += sprintf(buf + *o, "]");
}

static struct rule *gen_rule(size_t k)
{
	static const char *const extra[] = { "uid", "pid", "container_id", "container_runtime",
					     "returnval" };
	char buf[2048], name[32];
	size_t t = rndn(tracer_count), o = 0, n_filters = rndn(4), i, j;
	const char *used[8];
	size_t n_used = 0;

	snprintf(name, sizeof(name), "r%zu", k);
	o += sprintf(buf + o, "name = \"%s\"\ntracer = \"%s\"\n", name, tracer_table[t]->name);
	if (rndn(4) == 0) {
		o += sprintf(buf + o, "containerRuntimes = [\"%s\"", rndn(2) ? "docker" : "not-found");
		if (rndn(2))
			o += sprintf(buf + o, ", \"kube\"");
		o += sprintf(buf + o, "]\n");
	}
	for (i = 0; i < n_filters; i++) {
		const char *key;
		bool numeric, dup = false;
		size_t nv, nx;

		/* A data key of the tracer, or a field. */
		if (rndn(2)) {
			size_t nk = 0;

			while (tracer_table[t]->keys[nk])
				nk++;
			key = tracer_table[t]->keys[rndn(nk)];
		} else {
			key = extra[rndn(5)];
		}
		if (!strcmp(key, "returnval") && !tracer_has_key(tracer_table[t], "returnval"))
			continue;
		/* Addresses and ports have values of their own (test_addresses_and_ports). */
		if (tracer_key_kind(tracer_table[t], key) != TRACER_KEY_STRING)
			continue;
		for (j = 0; j < n_used; j++)
			dup |= !strcmp(used[j], key);
		if (dup)
			continue;
		used[n_used++] = key;
		numeric = !strcmp(key, "uid") || !strcmp(key, "pid") || !strcmp(key, "returnval");
		o += sprintf(buf + o, "[filterEvents.%s]\n", key);
		nv = rndn(4);
		nx = rndn(3) == 0 ? 1 + rndn(2) : 0;
		if (!nv && !nx)
			nv = 1;
		if (!strcmp(key, "container_id")) {
			o += sprintf(buf + o, "values = [\"%s\"]\n", p_ids[rndn(3)]);
		} else if (!strcmp(key, "container_runtime")) {
			o += sprintf(buf + o, "%s = [\"%s\"]\n", rndn(2) ? "values" : "exclude",
				     rndn(2) ? "docker" : "not-found");
		} else {
			if (nv || rndn(3) == 0) {
				o += sprintf(buf + o, "values = ");
				gen_values(buf, &o, numeric, nv);
				o += sprintf(buf + o, "\n");
			}
			if (nx) {
				o += sprintf(buf + o, "exclude = ");
				gen_values(buf, &o, numeric, nx);
				o += sprintf(buf + o, "\n");
			}
		}
	}
	assert_true(o < sizeof(buf));
	return parse(buf);
}

static void gen_event(struct event *ev)
{
	size_t t = rndn(tracer_count), k;
	const char *const *keys = tracer_table[t]->keys;

	event_init(ev);
	ev->tracer = tracer_table[t]->name;
	for (k = 0; keys[k]; k++) {
		if (rndn(4) == 0)
			continue;	/* sometimes an event lacks a key */
		if (!strcmp(keys[k], "returnval")) {
			ev->returnval = (int64_t)rndn(5) - 2;
			assert_int_equal(event_add_int(ev, "returnval", ev->returnval), 0);
		} else {
			const char *v = rndn(2) ? p_strings[rndn(8)] : p_globs[rndn(7)];

			assert_int_equal(event_add_str(ev, keys[k], v), 0);
		}
	}
	ev->uid = rndn(7);
	ev->pid = rndn(7);
	switch (rndn(3)) {
	case 0:
		break;
	case 1:
		ev->container_runtime = container_runtimes[0];
		ev->container_id = p_ids[1 + rndn(2)];
		break;
	default:
		ev->container_runtime = "kube";	/* not the static string: strcmp path */
		ev->container_id = p_ids[1 + rndn(2)];
		break;
	}
}

static void test_ruleset_property(void **state)
{
	enum { ROUNDS = 60, EVENTS = 400 };
	struct event *ev = malloc(sizeof(*ev));
	size_t round;
	uint64_t total_matches = 0;

	assert_non_null(ev);
	rng_state = 7;
	for (round = 0; round < ROUNDS; round++) {
		size_t n = 1 + rndn(round < 10 ? 8 : 120), i, e;
		struct rule **rules = calloc(n + 4, sizeof(*rules));
		const struct rule **want = calloc(n + 4, sizeof(*want));
		const struct rule **got = calloc(n + 4, sizeof(*got));
		size_t given;
		struct ruleset *s;

		assert_non_null(rules);
		assert_non_null(want);
		assert_non_null(got);
		for (i = 0; i < n; i++)
			rules[i] = gen_rule(i);
		/* Some repeats: they count once, at their first place. */
		given = n;
		for (i = 0; i < 4 && rndn(2); i++)
			rules[given++] = rules[rndn(n)];
		s = ruleset_new(rules, given);
		assert_non_null(s);
		for (e = 0; e < EVENTS; e++) {
			size_t n_want = 0, n_got, t = 0, max;

			gen_event(ev);
			assert_non_null(tracer_find(ev->tracer, &t));
			for (i = 0; i < n; i++)
				if (rule_matches(rules[i], ev))
					want[n_want++] = rules[i];
			max = rndn(4) == 0 ? rndn(3) : n + 4;
			n_got = ruleset_match(s, t, ev, got, max);
			if (n_want > max)
				n_want = max;
			if (n_got != n_want)
				print_error("round %zu event %zu: %zu matches, brute force %zu\n",
					    round, e, n_got, n_want);
			assert_int_equal(n_got, n_want);
			for (i = 0; i < n_got; i++)
				assert_ptr_equal(got[i], want[i]);
			total_matches += n_got;
		}
		ruleset_free(s);
		for (i = 0; i < n; i++)
			rule_free(rules[i]);
		free(rules);
		free(want);
		free(got);
	}
	/* The generator produces matches, not only misses. */
	assert_true(total_matches > 1000);
	free(ev);
}

/* Random bytes and cut-off rules come back as errors, never crashes. */
static void test_garbage(void **state)
{
	static const char *const base =
		"name = \"x\"\ntracer = \"open\"\nactions = [\"stdout\"]\n"
		"containerRuntimes = [\"docker\"]\n[filterEvents.filename]\n"
		"values = [\"/etc/[a-z]*\", \"/x\"]\nexclude = [\"*~\"]\n"
		"[filterEvents.uid]\nvalues = [\">=1000\", 0]\n";
	char buf[512];
	size_t len = strlen(base), i, cut;

	rng_state = 99;
	for (cut = 0; cut <= len; cut++) {
		struct rule_error err;
		struct rule *r = NULL;

		if (rule_parse("x.toml", base, cut, NULL, NULL, &r, &err) == 0)
			rule_free(r);
	}
	for (i = 0; i < 20000; i++) {
		struct rule_error err;
		struct rule *r = NULL;
		size_t k;

		memcpy(buf, base, len);
		for (k = 0; k < 1 + rndn(4); k++)
			buf[rndn(len)] = " \n\"'[]*?\\=<>-0aZ{},.#"[rndn(22)];
		if (rule_parse("x.toml", buf, len, NULL, NULL, &r, &err) == 0)
			rule_free(r);
		else
			assert_true(strlen(err.message) > 0);
	}
}


/* ---- metadata, rule files with several rules, lists, overrides, lints ---- */

static void test_metadata(void **state)
{
	struct rule *r;
	const char *why;

	(void)state;
	r = parse("tracer = \"exec\"\n");
	assert_int_equal(rule_priority(r), RULE_PRIORITY_WARNING);
	assert_string_equal(rule_description(r), "");
	assert_int_equal(rule_tag_count(r), 0);
	rule_free(r);
	r = parse("tracer = \"exec\"\npriority = \"critical\"\ndescription = \"two\\nlines\"\n"
		  "tags = [\"T1003.008\", \"TA0006\", \"credential\", \"T1003.008\", \"mitre:x\"]\n");
	assert_int_equal(rule_priority(r), RULE_PRIORITY_CRITICAL);
	assert_string_equal(rule_description(r), "two lines");
	assert_int_equal(rule_tag_count(r), 4);	/* the repeated one once */
	assert_string_equal(rule_tag(r, 0), "T1003.008");
	assert_true(rule_has_tag(r, "credential"));
	assert_false(rule_has_tag(r, "T1003"));
	rule_free(r);
	expect_error("tracer = \"exec\"\npriority = \"alert\"\n", 2, "unknown priority \"alert\"");
	expect_error("tracer = \"exec\"\npriority = 3\n", 2, "\"priority\" must be a string");
	expect_error("tracer = \"exec\"\ntags = [\"T12\"]\n", 2, "looks like an ATT&CK id");
	expect_error("tracer = \"exec\"\ntags = [\"T1003.8\"]\n", 2, "looks like an ATT&CK id");
	expect_error("tracer = \"exec\"\ntags = [\"a b\"]\n", 2, "bad tag \"a b\"");
	expect_error("tracer = \"exec\"\ntags = [\"\"]\n", 2, "1 to 64 bytes");
	expect_error("tracer = \"exec\"\ndescription = \"a\\u0007b\"\n", 2, "control byte \\x07");
	{
		char text[2200] = "tracer = \"exec\"\ndescription = \"";
		size_t o = strlen(text);

		memset(text + o, 'x', 1025);
		strcpy(text + o + 1025, "\"\n");
		expect_error(text, 2, "longer than 1024 bytes");
	}
	{
		char text[4096] = "tracer = \"exec\"\ntags = [";
		int i;

		for (i = 0; i < 33; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "\"t%d\",", i);
		strcat(text, "]\n");
		expect_error(text, 2, "more than 32 tags");
	}
	assert_true(rule_tag_valid("T1611", 5, &why));
	assert_false(rule_tag_valid("TA06", 4, &why));
	assert_true(rule_tag_valid("Tactic", 6, &why));	/* not a T and a digit: a word */
	assert_int_equal(rule_priority_parse("notice"), RULE_PRIORITY_NOTICE);
	assert_int_equal(rule_priority_parse("emerg"), -1);
	assert_string_equal(rule_priority_name(RULE_PRIORITY_INFO), "info");
}

/* A set of documents read as a rules directory is: library first, then rules. */
struct docset {
	struct rule_doc *docs[8];
	size_t n;
	struct rule_library *lib;
	struct rule **rules[8];
	size_t n_rules[8];
};

static void docset_read(struct docset *ds, const char *const *files, const char *const *texts,
			size_t n)
{
	struct rule_error err;
	size_t i;

	memset(ds, 0, sizeof(*ds));
	ds->lib = rule_library_new();
	assert_non_null(ds->lib);
	for (i = 0; i < n; i++) {
		assert_int_equal(rule_doc_read(files[i], texts[i], strlen(texts[i]), &ds->docs[i],
					       &err), 0);
		if (rule_library_add(ds->lib, ds->docs[i], &err))
			print_error("%s:%u: %s\n", files[i], err.line, err.message);
	}
	ds->n = n;
}

/* Parses doc @i: 0, or -EINVAL with @err. */
static int docset_rules(struct docset *ds, size_t i, struct rule_error *err)
{
	return rule_doc_rules(ds->docs[i], ds->lib, NULL, NULL, &ds->rules[i], &ds->n_rules[i],
			      err);
}

static void docset_free(struct docset *ds)
{
	size_t i, k;

	for (i = 0; i < ds->n; i++) {
		for (k = 0; k < ds->n_rules[i]; k++)
			rule_free(ds->rules[i][k]);
		free(ds->rules[i]);
		rule_doc_free(ds->docs[i]);
	}
	rule_library_free(ds->lib);
}

static void collect_value(void *ctx, const char *s, size_t len, enum rule_value_kind kind)
{
	char *out = ctx;

	snprintf(out + strlen(out), 512 - strlen(out), "%s%.*s%s,",
		 kind == RULE_VALUE_LEAF ? "*/" : "", (int)len, s,
		 kind == RULE_VALUE_PREFIX ? "*" : "");
}

struct unused_seen {
	char text[1024];
	size_t errors, warnings;
};

static void collect_unused(void *ctx, bool error, const char *file, unsigned int line,
			   const char *message)
{
	struct unused_seen *u = ctx;

	snprintf(u->text + strlen(u->text), sizeof(u->text) - strlen(u->text), "%s:%u:%s: %s\n",
		 file, line, error ? "error" : "warning", message);
	if (error)
		u->errors++;
	else
		u->warnings++;
}

static void test_lists_and_rule_tables(void **state)
{
	static const char *const files[] = { "lists.toml", "rules.toml" };
	static const char *const texts[] = {
		"[lists]\nshells = [\"sh\", \"bash\"]\nroots = [0]\nspare = [\"x\"]\n",
		"[[rule]]\nname = \"shell\"\ntracer = \"exec\"\npriority = \"error\"\n"
		"[rule.filterEvents.command]\nvalues = [\"@shells\", \"zsh\"]\n"
		"[rule.filterEvents.uid]\nvalues = [\"@roots\"]\n"
		"[[rule]]\nname = \"other\"\ntracer = \"open\"\n"
		"filterEvents.command.exclude = [\"@shells\"]\n",
	};
	struct docset ds;
	struct rule_error err;
	struct unused_seen u = { .text = "" };
	char values[512] = "";
	struct event *ev;

	(void)state;
	docset_read(&ds, files, texts, 2);
	assert_int_equal(docset_rules(&ds, 0, &err), 0);
	assert_int_equal(ds.n_rules[0], 0);
	assert_int_equal(docset_rules(&ds, 1, &err), 0);
	assert_int_equal(ds.n_rules[1], 2);
	assert_string_equal(rule_name(ds.rules[1][0]), "shell");
	assert_int_equal(rule_line(ds.rules[1][0]), 1);
	assert_int_equal(rule_priority(ds.rules[1][1]), RULE_PRIORITY_WARNING);
	/* Expanded at load: the prefilter sees plain values. */
	assert_true(rule_prefilter_values(ds.rules[1][0], "command", false, collect_value, values));
	assert_string_equal(values, "sh,bash,zsh,");
	ev = new_event("exec command=bash uid=0");
	assert_true(rule_matches(ds.rules[1][0], ev));
	free(ev);
	ev = new_event("exec command=bash uid=1");
	assert_false(rule_matches(ds.rules[1][0], ev));
	free(ev);
	ev = new_event("open command=sh filename=/x");
	assert_false(rule_matches(ds.rules[1][1], ev));
	free(ev);
	rule_library_unused(ds.lib, collect_unused, &u);
	assert_int_equal(u.errors, 0);
	assert_int_equal(u.warnings, 1);
	assert_non_null(strstr(u.text, "lists.toml:4:warning: list \"spare\" is not used"));
	docset_free(&ds);
}

static void expect_doc_error(const char *const *files, const char *const *texts, size_t n,
			     size_t which, unsigned int line, const char *substr)
{
	struct docset ds;
	struct rule_error err = { 0 };
	int ret;

	docset_read(&ds, files, texts, n);
	ret = docset_rules(&ds, which, &err);
	if (ret != -EINVAL || err.line != line || !strstr(err.message, substr))
		print_error("want line %u \"%s\", got %d line %u \"%s\"\n", line, substr, ret,
			    err.line, err.message);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(err.line, line);
	assert_non_null(strstr(err.message, substr));
	assert_null(ds.rules[which]);
	docset_free(&ds);
}

/* Paths' values for the prefilter: exact, prefixes, and with leaves a path's end. */
static void test_path_prefilter_values(void **state)
{
	struct rule *r = parse("tracer = \"filechange\"\n"
			       "filterEvents.filename.values = [\"/etc/passwd\", \"/etc/cron*\", "
			       "\"*/.bash_history\", \"*/.config/fish/fish_history\"]\n");
	char values[512] = "";
	static const char *const not_ends[] = { "*/a*", "*/", "*/x/", "*x", "*/a?b", "/*/x" };
	char text[128];
	size_t i;

	(void)state;
	/* Without leaves, a path's end is not testable: the rule is not. */
	assert_false(rule_prefilter_values(r, "filename", false, collect_value, values));
	assert_string_equal(values, "");
	assert_true(rule_prefilter_values(r, "filename", true, collect_value, values));
	assert_string_equal(values, "/etc/passwd,/etc/cron*,*/.bash_history,*/fish_history,");
	rule_free(r);
	for (i = 0; i < sizeof(not_ends) / sizeof(not_ends[0]); i++) {
		snprintf(text, sizeof(text),
			 "tracer = \"filechange\"\nfilterEvents.filename.values = [\"%s\"]\n",
			 not_ends[i]);
		r = parse(text);
		assert_false(rule_prefilter_values(r, "filename", true, collect_value, values));
		rule_free(r);
	}
}

static void test_rule_file_errors(void **state)
{
	static const char *const one[] = { "f.toml" };
	const char *texts[1];
	struct rule_error err;
	struct rule_library *lib;
	struct rule_doc *a, *b;
	struct rule *r = NULL;

	(void)state;
	texts[0] = "[[rule]]\nname = \"x\"\ntracer = \"exec\"\n"
		   "filterEvents.command.values = [\"@nope\"]\n";
	expect_doc_error(one, texts, 1, 0, 4,
			 "rule \"x\": filterEvents.command.values: unknown list \"nope\"");
	texts[0] = "[[rule]]\ntracer = \"exec\"\n";
	expect_doc_error(one, texts, 1, 0, 1, "a [[rule]] needs a \"name\"");
	texts[0] = "[[rule]]\nname = \"x\"\ntracer = \"exec\"\n[[rule]]\nname = \"x\"\ntracer = "
		   "\"open\"\n";
	expect_doc_error(one, texts, 1, 0, 4, "rule \"x\" is defined twice in this file (line 1)");
	texts[0] = "tracer = \"exec\"\n[[rule]]\nname = \"x\"\ntracer = \"exec\"\n";
	expect_doc_error(one, texts, 1, 0, 2, "not both");
	texts[0] = "[[rule]]\nname = \"x\"\ntracer = \"exec\"\nlists = 1\n";
	expect_doc_error(one, texts, 1, 0, 4, "unknown key \"lists\"");
	/* A list's item cannot be a list. */
	lib = rule_library_new();
	texts[0] = "[lists]\na = [\"@b\"]\n";
	assert_int_equal(rule_doc_read("f.toml", texts[0], strlen(texts[0]), &a, &err), 0);
	assert_int_equal(rule_library_add(lib, a, &err), -EINVAL);
	assert_non_null(strstr(err.message, "lists do not nest"));
	/* Defined twice across files. */
	texts[0] = "[lists]\nshells = [\"sh\"]\n";
	rule_doc_free(a);
	assert_int_equal(rule_doc_read("a.toml", texts[0], strlen(texts[0]), &a, &err), 0);
	assert_int_equal(rule_doc_read("b.toml", texts[0], strlen(texts[0]), &b, &err), 0);
	assert_int_equal(rule_library_add(lib, a, &err), 0);
	assert_int_equal(rule_library_add(lib, b, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.message, "list \"shells\" is already defined in a.toml:2"));
	/* Overrides: a rule or a list, known keys only. */
	texts[0] = "[[override]]\nrule = \"x\"\nlist = \"y\"\n";
	rule_doc_free(b);
	assert_int_equal(rule_doc_read("b.toml", texts[0], strlen(texts[0]), &b, &err), 0);
	assert_int_equal(rule_library_add(lib, b, &err), -EINVAL);
	assert_non_null(strstr(err.message, "either a \"rule\" or a \"list\""));
	rule_doc_free(b);
	texts[0] = "[[override]]\nrule = \"x\"\nenabld = false\n";
	assert_int_equal(rule_doc_read("b.toml", texts[0], strlen(texts[0]), &b, &err), 0);
	assert_int_equal(rule_library_add(lib, b, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.message, "unknown or bad key \"enabld\""));
	rule_doc_free(b);
	/* One rule (create): lists and overrides belong in files of a directory. */
	texts[0] = "name = \"x\"\ntracer = \"exec\"\n[lists]\na = [\"sh\"]\n";
	assert_int_equal(rule_parse_with("-", texts[0], strlen(texts[0]), lib, NULL, NULL, &r, &err),
			 -EINVAL);
	assert_non_null(strstr(err.message, "lists and overrides belong"));
	/* But it reads the directory's lists. */
	texts[0] = "name = \"x\"\ntracer = \"exec\"\nfilterEvents.command.values = [\"@shells\"]\n";
	assert_int_equal(rule_parse_with("-", texts[0], strlen(texts[0]), lib, NULL, NULL, &r, &err),
			 0);
	rule_free(r);
	rule_doc_free(a);
	rule_library_free(lib);
}

static void test_overrides(void **state)
{
	static const char *const files[] = { "shipped.toml", "site.local.toml" };
	static const char *const texts[] = {
		"[lists]\nshells = [\"sh\"]\n"
		"[[rule]]\nname = \"shell\"\ntracer = \"exec\"\nactions = [\"stdout\"]\n"
		"tags = [\"T1059\"]\n"
		"filterEvents.command.values = [\"@shells\"]\n"
		"[[rule]]\nname = \"noisy\"\ntracer = \"open\"\n"
		"filterEvents.filename.values = [\"/etc/passwd\"]\n",
		"[[override]]\nrule = \"noisy\"\nenabled = false\n"
		"[[override]]\nrule = \"shell\"\npriority = \"info\"\nactions = [\"file\"]\n"
		"tags = [\"local\"]\n"
		"[override.filterEvents.uid]\nexclude = [1000]\n"
		"[override.filterEvents.command]\nexclude = [\"bash\"]\nvalues = [\"bash\", \"zsh\"]\n"
		"[[override]]\nlist = \"shells\"\nitems = [\"fish\"]\n"
		"[[override]]\nrule = \"gone\"\nenabled = false\n"
		"[[override]]\nlist = \"nolist\"\nitems = [\"x\"]\n",
	};
	struct docset ds;
	struct rule_error err;
	struct unused_seen u = { .text = "" };
	const struct rule *r;
	struct event *ev;

	(void)state;
	docset_read(&ds, files, texts, 2);
	assert_int_equal(docset_rules(&ds, 0, &err), 0);
	/* "noisy" is disabled: left out. */
	assert_int_equal(ds.n_rules[0], 1);
	r = ds.rules[0][0];
	assert_string_equal(rule_name(r), "shell");
	assert_int_equal(rule_priority(r), RULE_PRIORITY_INFO);
	assert_int_equal(rule_action_count(r), 2);
	assert_string_equal(rule_action(r, 1), "file");
	assert_int_equal(rule_tag_count(r), 2);
	assert_true(rule_has_tag(r, "local"));
	ev = new_event("exec command=fish uid=0");	/* the list, extended */
	assert_true(rule_matches(r, ev));
	free(ev);
	ev = new_event("exec command=zsh uid=0");	/* values appended */
	assert_true(rule_matches(r, ev));
	free(ev);
	ev = new_event("exec command=bash uid=0");	/* ... and excluded again */
	assert_false(rule_matches(r, ev));
	free(ev);
	ev = new_event("exec command=sh uid=1000");	/* a key the rule had no filter on */
	assert_false(rule_matches(r, ev));
	free(ev);
	assert_int_equal(docset_rules(&ds, 1, &err), 0);
	rule_library_unused(ds.lib, collect_unused, &u);
	assert_int_equal(u.errors, 2);
	assert_non_null(strstr(u.text, "site.local.toml:17:error: override of rule \"gone\": no "
				       "such rule"));
	assert_non_null(strstr(u.text, "override of list \"nolist\": no such list"));
	docset_free(&ds);

	/* An override's filter key is checked against the rule's tracer. */
	{
		static const char *const f2[] = { "a.toml", "b.toml" };
		const char *t2[] = {
			"[[rule]]\nname = \"s\"\ntracer = \"exec\"\n",
			"[[override]]\nrule = \"s\"\n[override.filterEvents.flags]\nexclude = [\"x\"]\n",
		};

		/* ... and an error in it names the override's file and line. */
		expect_doc_error(f2, t2, 2, 0, 0,
				 "rule \"s\": the override at b.toml:3: filter key \"flags\": the exec "
				 "tracer never emits");
		t2[1] = "[[override]]\nrule = \"s\"\nactions = [1]\n";
		expect_doc_error(f2, t2, 2, 0, 0,
				 "rule \"s\": the override at b.toml:3: an action must be a string");
		t2[1] = "[[override]]\nrule = \"s\"\n[override.filterEvents.uid]\nexclude = [\"x\"]\n";
		expect_doc_error(f2, t2, 2, 0, 0, "the override at b.toml:4: filterEvents.uid.exclude: "
						  "bad value \"x\"");
	}
}

static void collect_lint(void *ctx, const char *message)
{
	char *out = ctx;

	snprintf(out + strlen(out), 1024 - strlen(out), "%s\n", message);
}

static void test_lints(void **state)
{
	static const char *const files[] = { "l.toml" };
	static const char *const texts[] = {
		"[lists]\nnone = []\n"
		"[[rule]]\nname = \"contradiction\"\ntracer = \"exec\"\n"
		"filterEvents.uid.values = [0]\nfilterEvents.uid.exclude = [\"=0\"]\n"
		"[[rule]]\nname = \"all_excluded\"\ntracer = \"exec\"\n"
		"filterEvents.command.values = [\"sh\", \"bash\"]\n"
		"filterEvents.command.exclude = [\"*sh\"]\n"
		"[[rule]]\nname = \"empty\"\ntracer = \"exec\"\n"
		"filterEvents.command.values = [\"@none\"]\n"
		"[[rule]]\nname = \"everything\"\ntracer = \"open\"\n"
		"[[rule]]\nname = \"sparse\"\ntracer = \"bashreadline\"\n"
		"[[rule]]\nname = \"slash\"\ntracer = \"open\"\n"
		"filterEvents.filename.values = [\"/var/log/\", \"/etc/x\"]\n"
		"[[rule]]\nname = \"fine\"\ntracer = \"exec\"\n"
		"filterEvents.command.values = [\"sh\", \"bash\"]\n"
		"filterEvents.command.exclude = [\"bash\"]\n",
	};
	struct docset ds;
	struct rule_error err;
	char out[1024];
	size_t i;
	struct event *ev;

	(void)state;
	docset_read(&ds, files, texts, 1);
	assert_int_equal(docset_rules(&ds, 0, &err), 0);
	assert_int_equal(ds.n_rules[0], 7);
	for (i = 0; i < ds.n_rules[0]; i++) {
		out[0] = '\0';
		rule_lint(ds.rules[0][i], collect_lint, out);
		if (i == 0 || i == 1)
			assert_non_null(strstr(out, "excludes every one of its values"));
		else if (i == 2)
			assert_non_null(strstr(out, "names only lists that hold nothing"));
		else if (i == 3)
			assert_non_null(strstr(out, "matches every event of the open tracer"));
		else if (i == 5)
			assert_non_null(strstr(out, "\"/var/log/\" ends with / and can never match a "
						    "file: \"/var/log/*\""));
		else
			assert_string_equal(out, "");
	}
	/* A list left empty matches nothing, rather than everything. */
	ev = new_event("exec command=sh");
	assert_false(rule_matches(ds.rules[0][2], ev));
	free(ev);
	docset_free(&ds);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_doc_table_in_sync),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_action_context_and_binding),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_old_readme_layout),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_exact_sets),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_glob_long_values),
		cmocka_unit_test(test_glob_vs_fnmatch),
		cmocka_unit_test(test_example_files),
		cmocka_unit_test(test_example_semantics),
		cmocka_unit_test(test_addresses_and_ports),
		cmocka_unit_test(test_address_and_port_prefilter_values),
		cmocka_unit_test(test_bad_addresses_and_ports),
		cmocka_unit_test(test_ruleset_order_and_dedup),
		cmocka_unit_test(test_ruleset_many),
		cmocka_unit_test(test_ruleset_meta_keys),
		cmocka_unit_test(test_ancestor_keys),
		cmocka_unit_test(test_exe_key),
		cmocka_unit_test(test_ruleset_property),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_lists_and_rule_tables),
		cmocka_unit_test(test_path_prefilter_values),
		cmocka_unit_test(test_rule_file_errors),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_lints),
	};

	if (argc > 1 && !strcmp(argv[1], "--doc-table")) {
		char *table = doc_table();

		fputs(table, stdout);
		free(table);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
