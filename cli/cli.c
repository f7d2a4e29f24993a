// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

const struct cli_option cli_options[] = {
	{ OPT_HELP, "help", 'h', NULL, "show help" },
	{ OPT_DEBUG, "debug", 'd', NULL, "enable debug logging" },
	{ OPT_SOCKET, "socket", 's', "PATH", "control socket (default " IPC_DEFAULT_SOCKET ")" },
	{ OPT_SOCKET, "grpc-addr", 0, "PATH", "alias of --socket" },
	{ OPT_JSON, "json", 0, NULL, "print JSON" },
	{ OPT_RULES_DIR, "rules-dir", 0, "DIR", "rules directory (default /etc/bpfd/rules)" },
	{ OPT_CONFIG, "config", 0, "FILE", "config file (default /etc/bpfd/bpfd.conf)" },
	{ OPT_TRACERS_DIR, "tracers-dir", 0, "DIR",
	  "drop-in tracers directory (default /etc/bpfd/tracers.d)" },
	{ OPT_TRACERS, "tracers", 0, "LIST", "comma-separated tracers to load (default all)" },
	{ OPT_TRACER, "tracer", 0, "NAME", "only events of this tracer" },
	{ OPT_RULE, "rule", 0, "NAME", "only events that matched this rule" },
	{ OPT_CONTAINER, "container", 0, "ID", "only events of this container (an id prefix or its name)" },
	{ OPT_METRICS, "metrics", 0, "ADDRESS",
	  "serve Prometheus metrics at HOST:PORT, [IPV6]:PORT or a unix socket path" },
	{ OPT_CLEANUP, "cleanup", 0, NULL,
	  "remove the programs a daemon with keep = true left pinned, and exit" },
	{ OPT_KEEP, "keep", 0, NULL,
	  "keep = true: the programs pinned, recording on if the daemon dies (a crash)" },
	{ OPT_PRIORITY, "priority", 0, "PRIORITY",
	  "only events of rules of this priority or above (debug info notice warning error "
	  "critical)" },
	{ OPT_TAG, "tag", 0, "TAG", "only events of rules carrying this tag (repeatable: any of them)" },
	{ OPT_CGROUP_HIERARCHY, "cgroup-hierarchy", 0, "NAME",
	  "cgroups to attribute by: v2 (default) or a v1 controller (pids, memory...)" },
	{ 0, NULL, 0, NULL, NULL },
};

static const enum cli_opt_id global_options[] = { OPT_DEBUG, OPT_SOCKET, OPT_HELP };

static const struct cli_option *option_by_id(enum cli_opt_id id)
{
	const struct cli_option *o;

	for (o = cli_options; o->long_name; o++)
		if (o->id == id)
			return o;
	return NULL;
}

static bool command_takes(const struct cli_command *c, enum cli_opt_id id)
{
	const enum cli_opt_id *p;
	size_t i;

	for (i = 0; i < sizeof(global_options) / sizeof(global_options[0]); i++)
		if (global_options[i] == id)
			return true;
	if (!c)
		return false;
	for (p = c->options; *p != OPT_HELP; p++)
		if (*p == id)
			return true;
	return false;
}

/* The option spelled @arg ("--name", "--name=v", "-x"), and its value part. */
static const struct cli_option *lookup(const char *arg, const char **inline_value)
{
	const struct cli_option *o;
	size_t n;

	*inline_value = NULL;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');

		n = eq ? (size_t)(eq - name) : strlen(name);
		for (o = cli_options; o->long_name; o++) {
			if (strlen(o->long_name) == n && strncmp(o->long_name, name, n) == 0) {
				*inline_value = eq ? eq + 1 : NULL;
				return o;
			}
		}
		return NULL;
	}
	for (o = cli_options; o->long_name; o++) {
		if (o->short_name && o->short_name == arg[1]) {
			*inline_value = arg[2] ? arg + 2 : NULL;
			return o;
		}
	}
	return NULL;
}

static void set_option(struct cli *cli, const struct cli_option *o, const char *value)
{
	switch (o->id) {
	case OPT_HELP: cli->help = true; break;
	case OPT_DEBUG: cli->debug = true; break;
	case OPT_JSON: cli->json = true; break;
	case OPT_SOCKET: cli->socket_path = value; cli->socket_explicit = true; break;
	case OPT_RULES_DIR: cli->rules_dir = value; break;
	case OPT_TRACERS_DIR: cli->tracers_dir = value; break;
	case OPT_CONFIG: cli->config_path = value; break;
	case OPT_TRACERS: cli->tracers = value; break;
	case OPT_TRACER: cli->tracer = value; break;
	case OPT_RULE: cli->rule = value; break;
	case OPT_CONTAINER: cli->container = value; break;
	case OPT_PRIORITY: cli->priority = value; break;
	case OPT_TAG: cli->tags[cli->n_tags++] = value; break;	/* cli_parse checked the room */
	case OPT_TRACER_OPTIONS: break;	/* set_tracer_option() */
	case OPT_CGROUP_HIERARCHY: cli->cgroup_hierarchy = value; break;
	case OPT_METRICS: cli->metrics = value; break;
	case OPT_CLEANUP: cli->cleanup = true; break;
	case OPT_KEEP: cli->keep = true; break;
	}
}

/* "--NAME" or "--NAME=VALUE" naming a tracer's option: the option, and the value part. */
static const struct tracer_option *lookup_tracer_option(const char *arg,
							 const char **inline_value)
{
	char name[64];
	const char *eq;
	size_t n;

	*inline_value = NULL;
	if (arg[1] != '-')
		return NULL;
	eq = strchr(arg + 2, '=');
	n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	if (n >= sizeof(name))
		return NULL;
	memcpy(name, arg + 2, n);
	name[n] = '\0';
	*inline_value = eq ? eq + 1 : NULL;
	return tracer_option_find(name, NULL);
}

static const struct cli_command *find_command(const struct cli_command *commands,
					      const char *name)
{
	const struct cli_command *c;

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cli_parse(int argc, char **argv, const struct cli_command *commands, struct cli *cli,
	      char *err, size_t err_size)
{
	const struct tracer_option *to;
	const struct cli_option *o;
	const char *value;
	bool only_args = false;
	int i;

	memset(cli, 0, sizeof(*cli));
	cli->socket_path = IPC_DEFAULT_SOCKET;
	/* Like -s, for a whole shell session (or a test) at once. */
	if (getenv("BPFD_SOCKET") && *getenv("BPFD_SOCKET")) {
		cli->socket_path = getenv("BPFD_SOCKET");
		cli->socket_explicit = true;
	}

	/* First pass: find the command, skipping option values. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && argv[i][1]) {
			o = lookup(argv[i], &value);
			if (o && o->arg && !value)
				i++;
			else if (!o && lookup_tracer_option(argv[i], &value) && !value)
				i++;
			continue;
		}
		cli->command = find_command(commands, argv[i]);
		if (!cli->command) {
			snprintf(err, err_size, "unknown command '%s'", argv[i]);
			return -EINVAL;
		}
		break;
	}

	/*
	 * Second pass: options against the global ones and the command's;
	 * the other words after the command are its arguments, moved to the
	 * front of argv (argv[1..]) in order.
	 */
	{
		bool seen_command = false;
		int w = 1;

		for (i = 1; i < argc; i++) {
			if (!only_args && strcmp(argv[i], "--") == 0) {
				only_args = true;
				continue;
			}
			if (!only_args && argv[i][0] == '-' && argv[i][1]) {
				o = lookup(argv[i], &value);
				if (!o && command_takes(cli->command, OPT_TRACER_OPTIONS) &&
				    (to = lookup_tracer_option(argv[i], &value))) {
					if (!value && i + 1 >= argc) {
						snprintf(err, err_size, "option '%s' needs a value (%s)",
							 argv[i], to->metavar);
						return -EINVAL;
					}
					if (!value)
						value = argv[++i];
					if (tracer_config_set(&cli->tracer_cfg, to->name, value) < 0) {
						snprintf(err, err_size, "option '--%s': the value is too long",
							 to->name);
						return -EINVAL;
					}
					continue;
				}
				if (!o || !command_takes(cli->command, o->id)) {
					snprintf(err, err_size, "unknown option '%s'%s%s", argv[i],
						 cli->command ? " for " : "",
						 cli->command ? cli->command->name : "");
					return -EINVAL;
				}
				if (o->arg && !value) {
					if (i + 1 >= argc) {
						snprintf(err, err_size, "option '%s' needs a value (%s)",
							 argv[i], o->arg);
						return -EINVAL;
					}
					value = argv[++i];
				} else if (!o->arg && value) {
					snprintf(err, err_size, "option '--%s' takes no value",
						 o->long_name);
					return -EINVAL;
				}
				if (o->id == OPT_TAG && cli->n_tags == CLI_TAGS_MAX) {
					snprintf(err, err_size, "option '--tag' given more than %d times",
						 CLI_TAGS_MAX);
					return -EINVAL;
				}
				set_option(cli, o, value);
				continue;
			}
			if (!seen_command && cli->command) {
				seen_command = true;
				continue;
			}
			argv[w++] = argv[i];
		}
		cli->args = argv + 1;
		cli->n_args = w - 1;
	}
	if (cli->help)
		return 0;
	if (!cli->command) {
		snprintf(err, err_size, "no command given");
		return -EINVAL;
	}
	if (cli->n_args < cli->command->min_args) {
		snprintf(err, err_size, "%s: missing argument %s", cli->command->name,
			 cli->command->args);
		return -EINVAL;
	}
	if (cli->command->max_args >= 0 && cli->n_args > cli->command->max_args) {
		snprintf(err, err_size, "%s: unexpected argument '%s'", cli->command->name,
			 cli->args[cli->command->max_args]);
		return -EINVAL;
	}
	return 0;
}

static void print_option(FILE *out, const struct cli_option *o)
{
	char left[64];

	if (o->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	fprintf(out, "  %-26s %s\n", left, o->help);
}

/* The tracers' options (tracer_ops.options), as print_option() shows the others. */
static void print_tracer_options(FILE *out)
{
	const struct tracer_option *to;
	char left[64], help[256];
	size_t i;

	for (i = 0; i < tracer_count; i++) {
		for (to = tracer_table[i]->options; to && to->name; to++) {
			snprintf(left, sizeof(left), "    --%s %s", to->name, to->metavar);
			snprintf(help, sizeof(help), "%s (default %s)", to->help, to->def);
			fprintf(out, "  %-26s %s\n", left, help);
		}
	}
}

void cli_usage(FILE *out, const struct cli_command *command)
{
	const struct cli_command *c;
	const struct cli_option *o;
	const enum cli_opt_id *p;
	size_t i;

	if (!command) {
		fprintf(out, "bpfd - run BPF tracers with rules on Linux as a daemon. Container aware.\n\n"
			     "Usage: bpfd [OPTIONS] COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
		for (c = cli_commands; c->name; c++)
			fprintf(out, "  %-10s %s\n", c->name, c->summary);
		fprintf(out, "\nOptions:\n");
	} else {
		fprintf(out, "Usage: bpfd %s [OPTIONS]%s%s\n\n%s\n\nOptions:\n", command->name,
			*command->args ? " " : "", command->args, command->summary);
		for (p = command->options; *p != OPT_HELP; p++) {
			if (*p == OPT_TRACER_OPTIONS)
				print_tracer_options(out);
			for (o = cli_options; o->long_name; o++)
				if (o->id == *p)
					print_option(out, o);
		}
	}
	for (i = 0; i < sizeof(global_options) / sizeof(global_options[0]); i++)
		for (o = cli_options; o->long_name; o++)
			if (o->id == global_options[i])
				print_option(out, o);
	if (!command)
		fprintf(out, "\nRun 'bpfd COMMAND --help' for a command's options.\n");
	(void)option_by_id;
}
