/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CONTROL_H
#define BPFD_CONTROL_H

/*
 * The control protocol's ops (docs/protocol.md): one table, control_ops,
 * of {name, arguments, who may call it, handler}, that the server decodes
 * requests against (request.c) and control_handle() runs. The handlers see
 * the daemon only through struct control: what they read and the one
 * thing they ask of it (the rules changed).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/request.h"
#include "daemon/server.h"

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

struct loader;
struct pipeline;
struct action_set;
struct rulebook;
struct cgroup_cache;
struct container_meta_cache;
struct paused_containers;

/* What the ops use of the daemon; the daemon owns all of it and fills it before serving. */
/* A restart (docs/architecture.md, "Restart"): what status says of it. */
struct daemon_restart {
	bool requested;		/* asked for: the loop stops, the programs are handed over */
	bool successor;		/* this daemon took over from a predecessor */
	bool adopted;		/* ... its programs as they were, nothing compiled */
	int64_t requested_ms;	/* when the predecessor was asked (CLOCK_MONOTONIC ms) */
	int64_t ready_ms;	/* when this one was ready to read events */
	uint64_t dropped;	/* the predecessor's records of tracers this one has not */
	unsigned int count;	/* restarts since the daemon was first started */
	int fd;			/* the predecessor's handover, until adopted; -1 */
	int subscribers;	/* the predecessor's `trace` subscribers, awaited back */
	int64_t hold_until_ms;	/* the ring is read from then, or once they are back */
};

/* keep = true (docs/architecture.md, "Keeping the programs"): what status says of it. */
struct daemon_kept {
	bool pinned;		/* the programs are pinned now: a crash leaves them recording */
	bool recovered;		/* this daemon took over programs a daemon left pinned */
	bool adopted;		/* ... as they were, nothing compiled */
	bool repin;		/* the programs changed (a drop-in reload): pin them again */
};

struct control {
	struct server *server;
	const struct access_policy *access;
	struct loader *loader;
	const struct pipeline *pipeline;
	const uint32_t *prefiltered_tracers;	/* tracer indexes whose prefilter is on */
	const struct action_set *actions;
	struct rulebook *rules;
	struct cgroup_cache *cgroups;
	struct container_meta_cache *container_meta;
	struct paused_containers *paused;
	/* What each tracer's start hook made, by index (tracer_ops.status reads it). */
	void *const *tracer_state;
	const char *cgroup_mount;		/* "" when none is mounted */
	bool cgroup2;
	int64_t started_ms;
	/* create_rule and remove_rule changed the rules: the daemon updates what depends on them. */
	void (*rules_changed)(void *owner);
	const struct daemon_restart *restart;
	const struct daemon_kept *kept;
	/* The restart op: the daemon hands its programs to a new image of itself. */
	void (*restart_fn)(void *owner);
	void *owner;
};

/* Every op, ending with a NULL name: the server's table (server_new). */
extern const struct request_op control_ops[];

/* The server_request_fn: @ctx is the struct control; checks who may call @op, then runs it. */
json_t *control_handle(void *ctx, struct server *s, struct client *c,
		       const struct request_op *op, json_t *request);

/* The server_admin_fn: root, admin_users, admin_groups. */
bool control_peer_is_admin(void *ctx, const struct peer_cred *p);

struct rule;

/*
 * The daemon's health and every counter it keeps, as `status` answers
 * (docs/protocol.md); the metrics page is written from it too.
 */
json_t *control_status(struct control *d);

/* A rule as list_rules shows it: {"name","tracer","actions","source","matches"}. */
json_t *control_rule_json(const struct rule *r, const char *source);

#endif
