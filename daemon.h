/* SPDX-License-Identifier: MIT */
#ifndef BPFD_DAEMON_H
#define BPFD_DAEMON_H

/*
 * `bpfd daemon`: loads the tracers, serves the control socket and runs the
 * event pipeline in one event loop until SIGINT or SIGTERM.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "action.h"
#include "config.h"
#include "identity.h"
#include "bash_probes.h"
#include "container.h"
#include "loader.h"
#include "loop.h"

struct proc_table;
#include "pipeline.h"
#include "rulebook.h"
#include "server.h"

/* NULL: not given on the command line (then the config's, then the default). */
struct daemon_options {
	const char *socket_path;
	const char *rules_dir;
	const char *config_path;
	bool config_explicit;		/* --config given: it must exist */
	const char *tracers;		/* comma-separated, NULL for all */
	const char *bash_path;
	const char *cgroup_hierarchy;	/* "v2", a v1 controller, NULL: v2 if mounted */
	bool debug;			/* -d: debug logging whatever the config says */
};

/*
 * Who may do what over the socket (docs/protocol.md): root and the
 * config's admin users and groups may use every op; members of the
 * socket's group the read-only ones.
 */
enum { ACCESS_IDS_MAX = 64 };
struct access_policy {
	uid_t admin_uids[ACCESS_IDS_MAX];
	size_t n_admin_uids;
	gid_t admin_gids[ACCESS_IDS_MAX];
	size_t n_admin_gids;
	bool has_read_gid;
	gid_t read_gid;			/* the socket's group */
};

struct daemon {
	struct daemon_options opts;	/* resolved: command line, config, defaults */
	struct config *start_config;	/* the config read at start (opts point into it) */
	struct config *config;		/* the config in use (SIGHUP rereads it) */
	struct action_set *actions;
	struct action_env action_env;
	struct cgroup_resolver resolver;
	struct access_policy access;
	struct loop loop;
	struct loader loader;
	struct cgroup_cache *cgroups;
	struct container_meta_cache *container_meta;
	struct proc_table *procs;	/* NULL: ancestors = 0 */
	struct paused_containers *paused;	/* what `pause` froze, for `bpfd resume` */
	struct pipeline pipeline;
	struct bash_probes bash;
	struct rulebook *rules;
	struct loop_watch rules_watch;	/* inotify on the rules directory */
	int rules_wd;
	struct identity_table identities;	/* the rules' files by identity */
	struct loop_watch identities_watch;	/* its inotify: their directories */
	int64_t reload_at_ms;		/* a reload is due (debounced), 0: none */
	uint32_t prefiltered_tracers;	/* tracer indexes whose in-kernel prefilter is on */
	unsigned int host_mntns;	/* the host's mount namespace inode */
	unsigned int host_root_dev;	/* the host root's device, kernel encoding */
	struct server *server;
	int listen_fd;
	struct loop_watch ring;
	struct loop_watch signals;
	int64_t started_ms;
	int64_t ready_ms;
	int64_t last_ring_wake_ms;
	/* Losses already announced in the log, and when the next may be. */
	uint64_t logged_kernel_lost, logged_sub_dropped;
	int64_t loss_log_next_ms;
	bool draining;
	bool ring_more;			/* the last read stopped at RING_BATCH */
	char hostname[256];
	char kheaders_merged[4096];
	char kheaders_used[4096];
	char cgroup_mount[4096];	/* the hierarchy events are attributed by */
	int cgroup_root;		/* its hierarchy id: 0 for cgroup2 */
	int cgroup_subsys;		/* its v1 controller's index, -1 for cgroup2 */
};

/* The rules changed (a reload, create_rule, remove_rule): update the kernel's prefilters. */
void daemon_rules_changed(struct daemon *d);

/* Runs the daemon; returns the process exit code. */
int daemon_main(const struct daemon_options *opts);

#endif
