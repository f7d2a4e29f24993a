// SPDX-License-Identifier: MIT
/*
 * bpfd: one binary, the daemon and its client, chosen by the first
 * argument (docs/bpfd.8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "daemon/daemon.h"
#include "bpf/loader.h"
#include "lib/log.h"

#define DEFAULT_CONFIG "/etc/bpfd/bpfd.conf"

static char *const *main_argv;

static int cmd_daemon(const struct cli *cli)
{
	struct daemon_options o = {
		.socket_path = cli->socket_explicit ? cli->socket_path : NULL,
		.rules_dir = cli->rules_dir,
		.tracers_dir = cli->tracers_dir,
		.config_path = cli->config_path ? cli->config_path : DEFAULT_CONFIG,
		.config_explicit = cli->config_path != NULL,
		.tracers = cli->tracers,
		.tracer_cfg = cli->tracer_cfg,
		.cgroup_hierarchy = cli->cgroup_hierarchy,
		.metrics = cli->metrics,
		.debug = cli->debug,
		.argv = main_argv,
		.cleanup = cli->cleanup,
		.keep = cli->keep,
	};

	return daemon_main(&o);
}

static const enum cli_opt_id daemon_opts[] = { OPT_RULES_DIR, OPT_CONFIG, OPT_TRACERS,
					       OPT_TRACERS_DIR, OPT_TRACER_OPTIONS,
					       OPT_CGROUP_HIERARCHY, OPT_METRICS, OPT_CLEANUP,
					       OPT_KEEP, OPT_HELP };
static const enum cli_opt_id trace_opts[] = { OPT_JSON, OPT_TRACER, OPT_RULE, OPT_CONTAINER,
					      OPT_PRIORITY, OPT_TAG, OPT_HELP };
static const enum cli_opt_id json_opts[] = { OPT_JSON, OPT_HELP };
static const enum cli_opt_id no_opts[] = { OPT_HELP };
static const enum cli_opt_id check_opts[] = { OPT_CONFIG, OPT_TRACERS_DIR, OPT_RULES_DIR,
					      OPT_HELP };

static int cmd_help(const struct cli *cli);

const struct cli_command cli_commands[] = {
	{ "daemon", "", "Start the daemon (in the foreground).", daemon_opts, 0, 0, cmd_daemon },
	{ "create", "RULE_FILE...", "Create or replace rules from TOML files ('-': stdin).",
	  no_opts, 1, -1, cmd_create },
	{ "rm", "RULE_NAME...", "Remove rules.", no_opts, 1, -1, cmd_rm },
	{ "ls", "", "List the rules: NAME TRACER PRIORITY ACTIONS TAGS.", json_opts, 0, 0, cmd_ls },
	{ "resume", "CONTAINER...", "Thaw containers (an id or a unique prefix) that pause froze.",
	  json_opts, 1, -1, cmd_resume },
	{ "restart", "",
	  "Restart the daemon without a gap: its programs handed to a new image of it.",
	  json_opts, 0, 0, cmd_restart },
	{ "check", "[RULE_FILE...]",
	  "Validate rule files, and with --config a config file (no daemon needed).",
	  check_opts, 0, -1,
	  cmd_check },
	{ "trace", "", "Live trace the events that pass the rules, like tail -f.", trace_opts, 0,
	  0, cmd_trace },
	{ "status", "", "Show the daemon's health: tracers, counters, subscribers.", json_opts, 0,
	  0, cmd_status },
	{ "tracers", "",
	  "List the tracers, their hooks and data keys: the daemon's, drop-ins included, "
	  "else the compiled-in ones.", json_opts, 0,
	  0, cmd_tracers },
	{ "version", "", "Show the version information (and the daemon's).", json_opts, 0, 0,
	  cmd_version },
	{ "help", "[COMMAND]", "Show the help of a command (the same as COMMAND --help).", no_opts,
	  0, 1, cmd_help },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL },
};

static int cmd_help(const struct cli *cli)
{
	const struct cli_command *c;

	if (!cli->n_args) {
		cli_usage(stdout, NULL);
		return 0;
	}
	for (c = cli_commands; c->name; c++) {
		if (strcmp(c->name, cli->args[0]) == 0) {
			cli_usage(stdout, c);
			return 0;
		}
	}
	fprintf(stderr, "bpfd: help: unknown command '%s'\n\n", cli->args[0]);
	cli_usage(stderr, NULL);
	return 2;
}

int main(int argc, char **argv)
{
	struct cli cli;
	char err[512];

	main_argv = argv;
	/* The daemon's loader process (loader.c), not a command. */
	if (argc == 3 && strcmp(argv[1], LOADER_EXEC_ARG) == 0)
		return loader_exec_main(atoi(argv[2]));

	if (cli_parse(argc, argv, cli_commands, &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, "bpfd: %s\n\n", err);
		cli_usage(stderr, cli.command);
		return 2;
	}
	if (cli.help) {
		cli_usage(stdout, cli.command);
		return 0;
	}
	if (cli.debug)
		log_max_level = LOG_LVL_DEBUG;
	return cli.command->run(&cli);
}
