/* SPDX-License-Identifier: MIT */
#ifndef BPFD_SERVER_H
#define BPFD_SERVER_H

/*
 * The control socket's connections (SPEC §8): reads request frames, hands
 * each parsed request to a handler (control.c), queues the replies, and
 * streams events to `trace` subscribers.
 *
 * Every resource a client can grow is bounded: frame size, the number of
 * clients, each client's output queue. A subscriber that cannot keep up
 * loses events (counted, and told how many); one that reads nothing for
 * SERVER_STALL_MS is disconnected; the daemon never waits for a client.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "loop.h"

enum {
	SERVER_CLIENTS_MAX = 256,
	SERVER_QUEUE_MAX = 8 << 20,	/* default bytes queued for one client */
	SERVER_SOCKBUF = 4 << 20,	/* socket send buffer of a subscriber */
	SERVER_STALL_MS = 30000,	/* a subscriber reading nothing this long is cut off */
	SERVER_PARTIAL_MS = 10000,	/* a half-sent frame this old is dropped */
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
enum { SERVER_PEER_GROUPS_MAX = 64 };
struct peer_cred {
	bool known;		/* false: the kernel did not say (treated as nobody) */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[SERVER_PEER_GROUPS_MAX];	/* supplementary groups */
	size_t n_groups;
};

/* The credentials of @c's peer. */
const struct peer_cred *server_client_cred(const struct client *c);

struct request_op;

/*
 * Handles one request, already decoded and checked (request.c): @op and
 * its JSON. Returns the reply object (the server takes the reference) or
 * NULL when the handler replied itself.
 */
typedef json_t *(*server_request_fn)(void *ctx, struct server *s, struct client *c,
				     const struct request_op *op, json_t *request);

struct server *server_new(struct loop *loop, int listen_fd, server_request_fn fn, void *ctx);

/* Bytes one subscriber may have queued before its events are dropped. */
void server_set_queue_max(struct server *s, size_t bytes);

/*
 * How long a client with frames waiting may read nothing, and how long a
 * half-sent frame may wait, before the client is disconnected; 0: default.
 */
void server_set_timeouts(struct server *s, int64_t stall_ms, int64_t partial_ms);
void server_free(struct server *s);

struct trace_filter {
	char tracer[64];
	const char *tracer_name;	/* the tracer table's own string: compared by address */
	char rule[256];
	char container[CONTAINER_ID_MAX + 1];	/* an id prefix */
};

/* Turns @c into a subscriber with @filter (after queueing {"ok":true}). */
void server_subscribe(struct server *s, struct client *c, const struct trace_filter *filter);

/* True when some subscriber wants @ev: the caller then encodes it. */
bool server_wants(struct server *s, const struct event *ev);

/* Queues the event's JSON (@json, @len) to every subscriber that wants it. */
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

size_t server_client_count(const struct server *s);

/* Events dropped for slow subscribers since start, over all of them. */
uint64_t server_dropped_total(const struct server *s);

#endif
