/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CONTROL_H
#define BPFD_CONTROL_H

/*
 * The control protocol's ops (docs/protocol.md): one handler per op in one
 * table. The replies that do not need a daemon (tracers, the local half of
 * version) are built here too, so that client and daemon print the same.
 */

#include <jansson.h>

#include "server.h"

struct daemon;

/* The server_request_fn of the daemon: @ctx is the struct daemon. */
json_t *control_handle(void *ctx, struct server *s, struct client *c,
		       const struct request_op *op, json_t *request);

/* The server_admin_fn of the daemon: root, admin_users, admin_groups. */
bool control_peer_is_admin(void *ctx, const struct peer_cred *p);

struct rule;

/* A rule as list_rules shows it: {"name","tracer","actions","source"}. */
json_t *control_rule_json(const struct rule *r, const char *source);

/* {"ok":true,"tracers":[...]} from the compiled-in table. */
json_t *control_tracers_reply(void);

/* {"ok":true,"version":...,"commit":...,"bcc":@bcc,"kernel":...}. */
json_t *control_version_reply(const char *bcc);

#endif
