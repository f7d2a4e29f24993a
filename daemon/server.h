/* SPDX-License-Identifier: MIT */
#ifndef BPFD_SERVER_H
#define BPFD_SERVER_H

/*
 * The control socket's connections (docs/protocol.md): reads request frames, hands
 * each parsed request to a handler (control.c), queues the replies, and
 * streams events to `trace` subscribers.
 *
 * Every resource a client can grow is bounded: frame size, the number of
 * clients (overall and per uid, with slots only admins may take), each
 * client's output queue. A client whose replies pile up is not read from
 * until they drain; a subscriber that cannot keep up loses events (counted,
 * and told how many); one that reads nothing for SERVER_STALL_MS is
 * disconnected, and so is a connection idle for SERVER_IDLE_MS; the daemon
 * never waits for a client. What a client makes the daemon log is rate
 * limited, so it cannot flood the log either.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "rules.h"
#include "lib/loop.h"

enum {
	SERVER_CLIENTS_MAX = 256,
	/*
	 * Of SERVER_CLIENTS_MAX, slots that only admins (root, admin_users,
	 * admin_groups) may take: members of the socket's group cannot lock
	 * root out, however many connections they open.
	 */
	SERVER_ADMIN_SLOTS = 32,
	/* Connections one uid that is not an admin may hold: no user locks out the others. */
	SERVER_CLIENTS_PER_UID = 32,
	SERVER_QUEUE_MAX = 8 << 20,	/* default bytes queued for one subscriber */
	/*
	 * Reply bytes queued for a client before the daemon stops reading its
	 * requests (until they drain): a client that pipelines requests and
	 * never reads holds this plus one reply, not more.
	 */
	SERVER_REPLY_QUEUE_MAX = 256 * 1024,
	SERVER_SOCKBUF = 4 << 20,	/* socket send buffer of a subscriber */
	SERVER_STALL_MS = 30000,	/* a subscriber reading nothing this long is cut off */
	SERVER_PARTIAL_MS = 10000,	/* a half-sent frame this old is dropped */
	SERVER_IDLE_MS = 60000,		/* a connection with nothing to do this long is closed */
	/* Warnings about clients: this many lines an interval, the rest counted. */
	SERVER_LOG_BURST = 10,
	SERVER_LOG_INTERVAL_MS = 5000,
	/*
	 * Events for a subscriber are sent once this many bytes are queued or
	 * the oldest has waited SERVER_FLUSH_MS: one send (and one wakeup of
	 * the reader) per few hundred events rather than per ring buffer
	 * batch, which halves the system time of the daemon and the client.
	 */
	SERVER_FLUSH_BYTES = 256 * 1024,
	SERVER_FLUSH_MS = 2,
};

struct server;
struct client;

/* Who is on the other end of a connection (SO_PEERCRED, SO_PEERGROUPS at connect). */
struct peer_cred {
	bool known;		/* false: the kernel did not say (treated as nobody) */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, all of them, sorted; owned */
	size_t n_groups;
};

/* True when @p's primary or a supplementary group is @g. */
bool peer_cred_has_gid(const struct peer_cred *p, gid_t g);

/* The credentials of @c's peer. */
const struct peer_cred *server_client_cred(const struct client *c);

struct request_op;

/*
 * Handles one request, already decoded and checked (request.c) against
 * the server's table of ops: @op, one of them, and its JSON. Returns the reply object (the server takes the reference) or
 * NULL when the handler replied itself.
 */
typedef json_t *(*server_request_fn)(void *ctx, struct server *s, struct client *c,
				     const struct request_op *op, json_t *request);

/* True when @p may use the slots kept for admins (and is not limited per uid). */
typedef bool (*server_admin_fn)(void *ctx, const struct peer_cred *p);

/* @ops: the protocol's ops (ending with a NULL name) that requests are decoded against. */
struct server *server_new(struct loop *loop, int listen_fd, const struct request_op *ops,
			  server_request_fn fn, server_admin_fn is_admin, void *ctx);

/* Bytes one subscriber may have queued before its events are dropped. */
void server_set_queue_max(struct server *s, size_t bytes);

/*
 * How long a client with frames waiting may read nothing, how long a
 * half-sent frame may wait, and how long a connection that is not a
 * subscriber may sit with nothing to do, before the client is
 * disconnected; 0: default.
 */
void server_set_timeouts(struct server *s, int64_t stall_ms, int64_t partial_ms,
			 int64_t idle_ms);
void server_free(struct server *s);

/*
 * Queues @len bytes of JSON @payload as one frame for @c: for a handler
 * whose reply takes several frames. 0, or -errno and @c is closed.
 */
int server_queue_reply(struct client *c, const char *payload, size_t len);

/*
 * Logs a warning about what a client did, at most SERVER_LOG_BURST lines
 * every SERVER_LOG_INTERVAL_MS over all clients; how many more there were
 * is logged when the interval ends.
 */
void server_warn(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum { TRACE_FILTER_TAGS_MAX = 16 };

struct trace_filter {
	char tracer[64];
	const char *tracer_name;	/* the tracer table's own string: compared by address */
	char rule[256];
	char container[CONTAINER_ID_MAX + 1];	/* an id prefix */
	int min_priority;		/* enum rule_priority; -1: any event */
	/* An event passes when one of its rules carries one of these (none: any event). */
	char tags[TRACE_FILTER_TAGS_MAX][RULE_TAG_MAX + 1];
	size_t n_tags;
};

/* Turns @c into a subscriber with @filter (after queueing {"ok":true}). */
void server_subscribe(struct server *s, struct client *c, const struct trace_filter *filter);

/* True when some subscriber wants @ev: the caller then encodes it. */
bool server_wants(struct server *s, const struct event *ev);

/*
 * Queues the event's JSON (@json, @len) to every subscriber that wants it.
 * @json NULL: the event is encoded here, once, straight into the first
 * such subscriber's queue, and copied from there to the others.
 */
void server_publish(struct server *s, const struct event *ev, const char *json, size_t len);

/*
 * Writes what is queued; call when a batch of events is done. Events for
 * a subscriber wait until SERVER_FLUSH_BYTES are queued or the first of
 * them is SERVER_FLUSH_MS old; replies are written at once.
 */
void server_flush(struct server *s);

/*
 * Milliseconds until server_flush() has events to send that it held back
 * (0: now), or -1 when none are waiting: the longest the loop may sleep.
 */
int server_flush_due(const struct server *s, int64_t now_ms);

/* Housekeeping, about once a second: cuts off stalled clients. */
void server_tick(struct server *s);

/* Frees clients closed during the last loop iteration. */
void server_reap(struct server *s);

struct subscriber_info {
	uint32_t id;
	const struct trace_filter *filter;
	uint64_t sent, dropped;
	size_t queued;		/* bytes waiting to be written to it */
};

/* Calls @fn for each subscriber. */
void server_each_subscriber(struct server *s, void (*fn)(void *ctx, const struct subscriber_info *),
			    void *ctx);

/* Queues the notice frame @notice (a JSON object) to every subscriber. */
void server_notice_subscribers(struct server *s, const char *notice);

struct server_stats {
	size_t clients;		/* connected now */
	uint64_t refused;	/* connections refused: no slot for them */
	uint64_t disconnected;	/* clients cut off: stalled, half-sent frame, idle */
};

void server_stats(const struct server *s, struct server_stats *out);

/* Events dropped for slow subscribers since start, over all of them. */
uint64_t server_dropped_total(const struct server *s);

#endif
