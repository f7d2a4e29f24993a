// SPDX-License-Identifier: MIT
/* Option parsing: options before and after the command, values, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

static int run_nothing(const struct cli *cli)
{
	(void)cli;
	return 0;
}

static const enum cli_opt_id daemon_opts[] = { OPT_RULES_DIR, OPT_CONFIG, OPT_TRACERS, OPT_HELP };
static const enum cli_opt_id trace_opts[] = { OPT_JSON, OPT_TRACER, OPT_RULE, OPT_CONTAINER,
					      OPT_HELP };
static const enum cli_opt_id no_opts[] = { OPT_HELP };
static const enum cli_opt_id load_opts[] = { OPT_TRACERS, OPT_TRACER_OPTIONS, OPT_HELP };

const struct cli_command cli_commands[] = {
	{ "daemon", "", "daemon", daemon_opts, 0, 0, run_nothing },
	{ "trace", "", "trace", trace_opts, 0, 0, run_nothing },
	{ "rm", "RULE_NAME...", "rm", no_opts, 1, -1, run_nothing },
	{ "load", "", "load", load_opts, 0, 0, run_nothing },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL },
};

/* Parses a NULL-terminated word list (copied: cli_parse reorders argv). */
static int parse(struct cli *cli, char *err, char **words)
{
	static char *argv[32];
	int argc = 0;

	argv[argc++] = "bpfd";
	while (*words)
		argv[argc++] = *words++;
	argv[argc] = NULL;
	return cli_parse(argc, argv, cli_commands, cli, err, 256);
}

#define PARSE(cli, err, ...) parse(cli, err, (char *[]){ __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "daemon"), 0);
	assert_string_equal(cli.command->name, "daemon");
	assert_string_equal(cli.socket_path, "/run/bpfd/bpfd.sock");
	assert_false(cli.debug);
	assert_null(cli.rules_dir);
	assert_int_equal(cli.n_args, 0);
}

static void test_options_before_and_after(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "-d", "--socket", "/tmp/a.sock", "daemon", "--rules-dir",
			       "/r", "--config=/c.conf", "--tracers", "exec,open"), 0);
	assert_true(cli.debug);
	assert_string_equal(cli.socket_path, "/tmp/a.sock");
	assert_string_equal(cli.rules_dir, "/r");
	assert_string_equal(cli.config_path, "/c.conf");
	assert_string_equal(cli.tracers, "exec,open");

	assert_int_equal(PARSE(&cli, err, "trace", "--json", "-s/tmp/b.sock", "--tracer", "exec",
			       "-d"), 0);
	assert_true(cli.json);
	assert_true(cli.debug);
	assert_string_equal(cli.socket_path, "/tmp/b.sock");
	assert_string_equal(cli.tracer, "exec");

	/* A command's option before the command name. */
	assert_int_equal(PARSE(&cli, err, "--json", "trace"), 0);
	assert_true(cli.json);
}

static void test_grpc_addr_alias(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "--grpc-addr", "/tmp/g.sock", "trace"), 0);
	assert_string_equal(cli.socket_path, "/tmp/g.sock");
}

static void test_socket_from_environment(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	setenv("BPFD_SOCKET", "/tmp/env.sock", 1);
	assert_int_equal(parse(&cli, err, (char *[]){ "trace", NULL }), 0);
	assert_string_equal(cli.socket_path, "/tmp/env.sock");
	assert_true(cli.socket_explicit);
	/* -s wins over the environment. */
	assert_int_equal(parse(&cli, err, (char *[]){ "-s", "/tmp/opt.sock", "trace", NULL }), 0);
	assert_string_equal(cli.socket_path, "/tmp/opt.sock");
	unsetenv("BPFD_SOCKET");
	assert_int_equal(parse(&cli, err, (char *[]){ "trace", NULL }), 0);
	assert_string_equal(cli.socket_path, "/run/bpfd/bpfd.sock");
	assert_false(cli.socket_explicit);
}

static void test_arguments(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "rm", "a", "-d", "b", "--", "-c"), 0);
	assert_int_equal(cli.n_args, 3);
	assert_string_equal(cli.args[0], "a");
	assert_string_equal(cli.args[1], "b");
	assert_string_equal(cli.args[2], "-c");
	assert_true(cli.debug);
}

static void test_usage_errors(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "frobnicate"), -EINVAL);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));

	assert_int_equal(PARSE(&cli, err, "daemon", "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--bogus'"));

	/* An option of another command. */
	assert_int_equal(PARSE(&cli, err, "daemon", "--json"), -EINVAL);
	assert_non_null(strstr(err, "'--json' for daemon"));

	assert_int_equal(PARSE(&cli, err, "trace", "--tracer"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));

	assert_int_equal(PARSE(&cli, err, "trace", "--json=yes"), -EINVAL);
	assert_non_null(strstr(err, "takes no value"));

	assert_int_equal(PARSE(&cli, err, "rm"), -EINVAL);
	assert_non_null(strstr(err, "missing argument"));

	assert_int_equal(PARSE(&cli, err, "trace", "extra"), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument 'extra'"));

	assert_int_equal(PARSE(&cli, err, "-d"), -EINVAL);
	assert_non_null(strstr(err, "no command"));
}

static void test_help(void **state)
{
	struct cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "--help"), 0);
	assert_true(cli.help);
	assert_null(cli.command);
	assert_int_equal(PARSE(&cli, err, "rm", "-h"), 0);
	assert_true(cli.help);
	assert_string_equal(cli.command->name, "rm");
}

/*
 * The tracers' options (tracer_ops.options; the table is the real one (tracers.c),
 * whose bashreadline declares `bash`): taken by a command that lists
 * OPT_TRACER_OPTIONS only, in both spellings, into cli.tracer_cfg.
 */
static void test_tracer_options(void **state)
{
	char err[256], long_value[TRACER_OPTION_VALUE_MAX + 16];
	struct cli cli;

	(void)state;
	assert_int_equal(PARSE(&cli, err, "load", "--bash", "/opt/bash"), 0);
	assert_string_equal(tracer_config_get(&cli.tracer_cfg, "bash"), "/opt/bash");
	assert_int_equal(cli.tracer_cfg.n_settings, 1);
	assert_int_equal(PARSE(&cli, err, "--bash=/b1", "load", "--tracers", "bashreadline",
			       "--bash=/b2"), 0);
	assert_string_equal(tracer_config_get(&cli.tracer_cfg, "bash"), "/b2");
	assert_int_equal(cli.tracer_cfg.n_settings, 1);
	assert_string_equal(cli.tracers, "bashreadline");

	/* Not given: the declared default. */
	assert_int_equal(PARSE(&cli, err, "load"), 0);
	assert_int_equal(cli.tracer_cfg.n_settings, 0);
	assert_string_equal(tracer_config_get(&cli.tracer_cfg, "bash"), "/bin/bash");
	assert_null(tracer_config_get(&cli.tracer_cfg, "no-such-option"));

	assert_int_equal(PARSE(&cli, err, "load", "--bash"), -EINVAL);
	assert_string_equal(err, "option '--bash' needs a value (PATH)");
	/* A command without them does not take them. */
	assert_int_equal(PARSE(&cli, err, "daemon", "--bash", "/x"), -EINVAL);
	assert_string_equal(err, "unknown option '--bash' for daemon");
	assert_int_equal(PARSE(&cli, err, "load", "--bashful", "/x"), -EINVAL);
	assert_string_equal(err, "unknown option '--bashful' for load");

	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(PARSE(&cli, err, "load", "--bash", long_value), -EINVAL);
	assert_string_equal(err, "option '--bash': the value is too long");
}

/* tracer_config_set(): what it refuses, and a value replaced, not added. */
static void test_tracer_config_set(void **state)
{
	struct tracer_config cfg = { 0 };
	int i;

	(void)state;
	assert_int_equal(tracer_config_set(&cfg, "nope", "x"), -ENOENT);
	assert_int_equal(cfg.n_settings, 0);
	for (i = 0; i < 2 * TRACER_OPTIONS_MAX; i++)
		assert_int_equal(tracer_config_set(&cfg, "bash", i % 2 ? "/a" : "/b"), 0);
	assert_int_equal(cfg.n_settings, 1);
	assert_string_equal(tracer_config_get(&cfg, "bash"), "/a");
	/* NULL: back to the default. */
	assert_int_equal(tracer_config_set(&cfg, "bash", NULL), 0);
	assert_string_equal(tracer_config_get(&cfg, "bash"), "/bin/bash");
}

/* `bpfd load --help` lists the tracers' options where the command lists them. */
static void test_tracer_options_help(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void)state;
	assert_non_null(out);
	cli_usage(out, &cli_commands[3]);
	fclose(out);
	/* As every option is shown, after the ones listed before it. */
	assert_non_null(strstr(text, "      --tracers LIST         comma-separated tracers to load "
				     "(default all)\n"
				     "      --bash PATH            bash binary for bashreadline "
				     "(default /bin/bash)\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options_before_and_after),
		cmocka_unit_test(test_grpc_addr_alias),
		cmocka_unit_test(test_socket_from_environment),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_tracer_options),
		cmocka_unit_test(test_tracer_config_set),
		cmocka_unit_test(test_tracer_options_help),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
