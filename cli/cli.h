/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CLI_H
#define BPFD_CLI_H

/*
 * Command-line parsing (docs/bpfd.8): `bpfd [GLOBAL OPTIONS] COMMAND [OPTIONS]
 * [ARGS]`, options accepted before and after the command name, one table
 * of commands with their options, arity and help.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tracer.h"

enum cli_opt_id {
	OPT_HELP,
	OPT_DEBUG,
	OPT_SOCKET,
	OPT_JSON,
	OPT_RULES_DIR,
	OPT_CONFIG,
	OPT_TRACERS,
	OPT_TRACER,
	OPT_RULE,
	OPT_CONTAINER,
	/* Listed by a command that takes the tracers' options (tracer_ops.options). */
	OPT_TRACER_OPTIONS,
	OPT_CGROUP_HIERARCHY,
	OPT_TRACERS_DIR,
	OPT_METRICS,
	OPT_CLEANUP,
	OPT_KEEP,
	OPT_PRIORITY,
	OPT_TAG,
};

enum { CLI_TAGS_MAX = 16 };	/* --tag given at most this often (the daemon's bound) */

struct cli_option {
	enum cli_opt_id id;
	const char *long_name;
	char short_name;	/* 0: none */
	const char *arg;	/* name of the value, NULL for a flag */
	const char *help;
};

struct cli;

struct cli_command {
	const char *name;
	const char *args;	/* usage of the arguments, "" for none */
	const char *summary;
	const enum cli_opt_id *options;	/* beyond the global ones; ends with OPT_HELP */
	int min_args, max_args;	/* max -1: unlimited */
	int (*run)(const struct cli *cli);
};

struct cli {
	const struct cli_command *command;
	bool help;
	bool debug;
	bool json;
	const char *socket_path;
	bool socket_explicit;		/* -s given */
	const char *rules_dir;
	const char *tracers_dir;
	const char *config_path;
	const char *tracers;
	const char *tracer;
	const char *rule;
	const char *container;
	const char *priority;
	const char *tags[CLI_TAGS_MAX];	/* --tag, repeatable */
	size_t n_tags;
	struct tracer_config tracer_cfg;	/* the tracers' options given (values in argv) */
	const char *cgroup_hierarchy;
	const char *metrics;		/* daemon --metrics ADDRESS */
	bool cleanup;			/* daemon --cleanup: remove what keep = true pinned */
	bool keep;			/* daemon --keep: keep = true */
	char **args;
	int n_args;
};

extern const struct cli_option cli_options[];
extern const struct cli_command cli_commands[];	/* ends with a NULL name */

/*
 * Parses @argv into @cli (pointing into @argv). 0, or -EINVAL with a
 * message naming what is wrong in @err (a usage error: exit 2). With
 * --help, cli->help is set and the command may be NULL.
 */
int cli_parse(int argc, char **argv, const struct cli_command *commands, struct cli *cli,
	      char *err, size_t err_size);

/* Prints usage of @command (NULL: the whole program) to @out. */
void cli_usage(FILE *out, const struct cli_command *command);

#endif
