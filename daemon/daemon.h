/* SPDX-License-Identifier: MIT */
#ifndef BPFD_DAEMON_H
#define BPFD_DAEMON_H

/*
 * `bpfd daemon`: loads the tracers, serves the control socket and runs the
 * event pipeline in one event loop until SIGINT or SIGTERM.
 */

#include <stdbool.h>

#include "tracer.h"

/* NULL: not given on the command line (then the config's, then the default). */
struct daemon_options {
	const char *socket_path;
	const char *rules_dir;
	const char *tracers_dir;	/* drop-in tracers; NULL: the config's, else the default */
	const char *config_path;
	bool config_explicit;		/* --config given: it must exist */
	const char *tracers;		/* comma-separated, NULL for all */
	struct tracer_config tracer_cfg;	/* the tracers' options given (tracer_ops.options) */
	const char *cgroup_hierarchy;	/* "v2", a v1 controller, NULL: v2 if mounted */
	const char *metrics;		/* --metrics ADDRESS: over the config's metrics */
	bool debug;			/* -d: debug logging whatever the config says */
	char *const *argv;		/* the command line, which a restart runs again */
	bool cleanup;			/* --cleanup: remove what keep = true pinned, and exit */
	bool keep;			/* --keep: keep = true whatever the config says */
};

/* Runs the daemon; returns the process exit code. */
int daemon_main(const struct daemon_options *opts);

#endif
