// SPDX-License-Identifier: MIT
/* Option parsing: options before and after the command, values, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static int run_nothing(const struct cli *cli)
{
	(void)cli;
	return 0;
}

static const enum cli_opt_id daemon_opts[] = { OPT_RULES_DIR, OPT_CONFIG, OPT_TRACERS, OPT_HELP };
static const enum cli_opt_id trace_opts[] = { OPT_JSON, OPT_TRACER, OPT_RULE, OPT_CONTAINER,
					      OPT_HELP };
static const enum cli_opt_id no_opts[] = { OPT_HELP };

const struct cli_command cli_commands[] = {
	{ "daemon", "", "daemon", daemon_opts, 0, 0, run_nothing },
	{ "trace", "", "trace", trace_opts, 0, 0, run_nothing },
	{ "rm", "RULE_NAME...", "rm", no_opts, 1, -1, run_nothing },
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
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
