// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container_meta.h"
#include "ipc.h"
#include "protocol/request.h"
#include "lib/log.h"
#include "lib/strbuf.h"

struct client {
	struct loop_watch watch;
	struct server *server;
	uint32_t id;
	struct ipc_reader in;
	struct strbuf out;
	size_t out_off;		/* bytes of out already written */
	bool subscriber;
	bool closing;		/* close once out is written */
	bool dead;		/* closed; freed by server_reap() */
	struct trace_filter filter;
	struct peer_cred cred;
	bool admin;		/* an admin when it connected: any slot, no per-uid limit */
	uint64_t sent, dropped, unreported_drops;
	int64_t progress_ms;	/* last time out shrank, or was empty */
	int64_t partial_ms;	/* since when a partial frame waits, 0 if none */
	int64_t unsent_ms;	/* since when events wait to be sent, 0 if none */
	int64_t active_ms;	/* accepted, or the last request came in */
	bool blocked;		/* the socket is full: EPOLLOUT says when to go on */
	struct client *next;
};

struct server {
	size_t queue_max;		/* bytes queued for one subscriber */
	/* SERVER_STALL_MS, SERVER_PARTIAL_MS, SERVER_IDLE_MS by default */
	int64_t stall_ms, partial_ms, idle_ms;
	struct loop *loop;
	struct loop_watch listen;
	const struct request_op *ops;
	server_request_fn fn;
	server_admin_fn is_admin;
	void *ctx;
	struct client *clients;
	size_t n_clients, n_subscribers;
	uint32_t next_id;
	uint64_t dropped_total;		/* over every subscriber there ever was */
	/* An event's frame for subscribers that could not take it in place (server_publish()). */
	struct strbuf frame;
	uint64_t refused, disconnected;
	/* server_warn()'s budget: lines logged in the interval begun at log_start_ms. */
	int64_t log_start_ms;
	unsigned int log_lines;
	uint64_t log_suppressed;
};

/* Slots are only worth reserving if a burst of connects cannot fail before accept(). */
_Static_assert((int)IPC_LISTEN_BACKLOG >= (int)SERVER_CLIENTS_MAX,
	       "listen backlog below the client limit");

/* Says how many warnings the interval that ended did not log; starts the next one. */
static void log_interval_end(struct server *s, int64_t now)
{
	if (s->log_suppressed)
		log_warn("%llu more warnings about clients not logged in the last %.0f s",
			 (unsigned long long)s->log_suppressed,
			 (now - s->log_start_ms) / 1000.0);
	s->log_start_ms = now;
	s->log_lines = 0;
	s->log_suppressed = 0;
}

void server_warn(struct server *s, const char *fmt, ...)
{
	int64_t now = loop_now_ms();
	char line[512];
	va_list ap;

	if (now - s->log_start_ms >= SERVER_LOG_INTERVAL_MS)
		log_interval_end(s, now);
	if (s->log_lines >= SERVER_LOG_BURST) {
		s->log_suppressed++;
		return;
	}
	s->log_lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warn("%s", line);
}

static void client_close(struct client *c)
{
	if (c->dead)
		return;
	loop_remove(c->server->loop, &c->watch);
	close(c->watch.fd);
	c->dead = true;
	c->server->n_clients--;
	if (c->subscriber)
		c->server->n_subscribers--;
}

static size_t queued(const struct client *c)
{
	return c->out.len - c->out_off;
}

/*
 * Replies are over their limit: the client's requests wait (in the socket,
 * then in the client's send()) until it reads. Subscribers drop instead.
 */
static bool replies_full(const struct client *c)
{
	return !c->subscriber && queued(c) >= SERVER_REPLY_QUEUE_MAX;
}

static void client_update_events(struct client *c)
{
	uint32_t ev = (replies_full(c) ? 0 : EPOLLIN) | (queued(c) ? EPOLLOUT : 0);

	if (!c->dead)
		loop_modify(c->server->loop, &c->watch, ev);
}

/* Writes as much as the socket takes now (and closes @c if it was closing). */
static void client_send(struct client *c)
{
	ssize_t n;

	while (queued(c)) {
		n = send(c->watch.fd, c->out.buf + c->out_off, queued(c),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->blocked = true;
			break;
		}
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->blocked = false;
		c->out_off += n;
		c->progress_ms = loop_now_ms();
	}
	if (!queued(c)) {
		strbuf_reset(&c->out);
		c->out_off = 0;
		c->unsent_ms = 0;
		c->progress_ms = loop_now_ms();
		if (c->closing) {
			client_close(c);
			return;
		}
	} else if (c->out_off > c->out.len / 2) {
		strbuf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
}

static int queue_frame(struct client *c, const char *payload, size_t len)
{
	return ipc_frame_append(&c->out, payload, len);
}

int server_queue_reply(struct client *c, const char *payload, size_t len)
{
	int r = queue_frame(c, payload, len);

	if (r < 0)
		client_close(c);
	return r;
}

static void queue_json(struct client *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);

	if (!text)
		client_close(c);
	else
		server_queue_reply(c, text, strlen(text));
	free(text);
}

static void queue_error(struct client *c, const char *msg)
{
	json_t *r = json_pack("{s:b, s:s}", "ok", 0, "error", msg);

	if (r)
		queue_json(c, r);
	json_decref(r);
}

static void handle_frame(struct client *c, const char *payload, size_t len)
{
	const struct request_op *op;
	json_t *req, *reply;
	char msg[REQUEST_ERROR_MAX];

	/* Requests after `trace` are not read: the connection only streams. */
	if (c->subscriber)
		return;
	c->active_ms = loop_now_ms();
	if (request_decode(c->server->ops, payload, len, &req, &op, msg) < 0) {
		queue_error(c, msg);
		return;
	}
	reply = c->server->fn(c->server->ctx, c->server, c, op, req);
	json_decref(req);
	if (reply) {
		queue_json(c, reply);
		json_decref(reply);
	}
}

/*
 * Answers the requests read so far, as long as the replies are under
 * their limit; the rest wait in c->in (at most one read's worth) until
 * client_write() has drained them.
 */
static void client_handle_frames(struct client *c)
{
	const char *payload;
	size_t len;
	int r = 0;

	while (!c->closing && !replies_full(c) &&
	       (r = ipc_reader_next(&c->in, &payload, &len)) == 1) {
		handle_frame(c, payload, len);
		if (c->dead)
			return;
	}
	if (r == -EMSGSIZE) {
		/* The stream cannot be resynchronised: say why, then hang up. */
		queue_error(c, "frame too large: the limit is 1048576 bytes");
		c->closing = true;
	}
	/* Whole requests held back are the stall timeout's business, not a half-sent frame. */
	c->partial_ms = ipc_reader_pending(&c->in) && !replies_full(c)
				? (c->partial_ms ? c->partial_ms : loop_now_ms())
				: 0;
}

static void client_read(struct client *c)
{
	char buf[65536];
	ssize_t n;

	/* Hang-ups still come (EPOLLHUP); the next send() sees them. */
	if (replies_full(c))
		return;
	n = recv(c->watch.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	/* A subscriber has nothing more to say; what it sends is ignored. */
	if (c->subscriber || c->closing)
		return;
	if (ipc_reader_feed(&c->in, buf, n) < 0) {
		client_close(c);
		return;
	}
	client_handle_frames(c);
}

/*
 * Writes what the socket takes; then requests held back while the replies
 * were full have their turn (their replies go out on EPOLLOUT). Whoever
 * drained the queue, this or server_flush(), must serve them: the client
 * may have nothing more to send that would wake us.
 */
static void client_write(struct client *c)
{
	client_send(c);
	if (!c->dead && !c->subscriber && ipc_reader_pending(&c->in))
		client_handle_frames(c);
	if (!c->dead)
		client_update_events(c);
}

static void client_event(struct loop_watch *w, uint32_t events)
{
	struct client *c = w->ctx;

	if (c->dead)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(c);
	if (!c->dead)
		client_write(c);
}

static int gid_cmp(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A unix socket's peer credentials are those of the process that
 * connected, fixed at connect(): read once, checked for every request.
 */

static void read_peer(int fd, struct peer_cred *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc))
		return;
	p->known = true;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	/*
	 * Linux 4.13+. A user may be in up to NGROUPS_MAX (65536) groups: ask
	 * for the size first (ERANGE says it), then take them all. Without
	 * them the peer keeps its uid and primary group: it may get less,
	 * never more.
	 */
	len = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) < 0 && errno != ERANGE)
		return;
	if (!len || !(p->groups = malloc(len)))
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) < 0) {
		free(p->groups);
		p->groups = NULL;
		return;
	}
	p->n_groups = len / sizeof(gid_t);
	qsort(p->groups, p->n_groups, sizeof(gid_t), gid_cmp);
}

bool peer_cred_has_gid(const struct peer_cred *p, gid_t g)
{
	return p->gid == g ||
	       (p->n_groups && bsearch(&g, p->groups, p->n_groups, sizeof(gid_t), gid_cmp));
}

uint64_t server_dropped_total(const struct server *s)
{
	return s->dropped_total;
}

const struct peer_cred *server_client_cred(const struct client *c)
{
	return &c->cred;
}

static size_t uid_clients(const struct server *s, uid_t uid)
{
	const struct client *c;
	size_t n = 0;

	for (c = s->clients; c; c = c->next)
		if (!c->dead && !c->admin && c->cred.uid == uid)
			n++;
	return n;
}

/*
 * Why @c may not have a slot, or NULL: admins may take every slot, others
 * leave SERVER_ADMIN_SLOTS free and hold SERVER_CLIENTS_PER_UID each.
 */
static const char *no_slot(const struct server *s, const struct client *c)
{
	if (s->n_clients >= SERVER_CLIENTS_MAX)
		return "too many clients";
	if (c->admin)
		return NULL;
	if (s->n_clients >= SERVER_CLIENTS_MAX - SERVER_ADMIN_SLOTS)
		return "too many clients (the rest are kept for admins)";
	if (uid_clients(s, c->cred.uid) >= SERVER_CLIENTS_PER_UID)
		return "too many connections from your uid";
	return NULL;
}

/* Says why in a frame (if the socket takes it now), then hangs up. */
static void refuse_client(struct server *s, struct client *c, const char *why)
{
	struct strbuf f = STRBUF_INIT;
	char reply[128];
	int n = snprintf(reply, sizeof(reply), "{\"ok\":false,\"error\":\"%s\"}", why);

	if (ipc_frame_append(&f, reply, n) == 0)
		(void)!send(c->watch.fd, f.buf, f.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	strbuf_release(&f);
	s->refused++;
	server_warn(s, "refused a connection from uid %u (pid %d): %s", (unsigned)c->cred.uid,
		    (int)c->cred.pid, why);
}

static void client_free(struct client *c)
{
	ipc_reader_release(&c->in);
	strbuf_release(&c->out);
	free(c->cred.groups);
	free(c);
}

static void server_accept(struct loop_watch *w, uint32_t events)
{
	struct server *s = w->ctx;
	struct client *c;
	const char *why;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(s->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->server = s;
		c->watch = (struct loop_watch){ .fd = fd, .fn = client_event, .ctx = c };
		read_peer(fd, &c->cred);
		c->admin = c->cred.known && s->is_admin && s->is_admin(s->ctx, &c->cred);
		ipc_reader_init(&c->in, IPC_FRAME_MAX);
		why = no_slot(s, c);
		if (why)
			refuse_client(s, c, why);
		if (why || loop_add(s->loop, &c->watch, EPOLLIN) < 0) {
			close(fd);
			client_free(c);
			continue;
		}
		c->id = ++s->next_id;
		c->progress_ms = c->active_ms = loop_now_ms();
		c->next = s->clients;
		s->clients = c;
		s->n_clients++;
	}
}

struct server *server_new(struct loop *loop, int listen_fd, const struct request_op *ops,
			  server_request_fn fn, server_admin_fn is_admin, void *ctx)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = loop;
	s->queue_max = SERVER_QUEUE_MAX;
	s->stall_ms = SERVER_STALL_MS;
	s->partial_ms = SERVER_PARTIAL_MS;
	s->idle_ms = SERVER_IDLE_MS;
	s->log_start_ms = loop_now_ms();
	s->fn = fn;
	s->is_admin = is_admin;
	s->ops = ops;
	s->ctx = ctx;
	s->listen = (struct loop_watch){ .fd = listen_fd, .fn = server_accept, .ctx = s };
	if (loop_add(loop, &s->listen, EPOLLIN) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void server_set_queue_max(struct server *s, size_t bytes)
{
	s->queue_max = bytes;
}

void server_set_timeouts(struct server *s, int64_t stall_ms, int64_t partial_ms,
			 int64_t idle_ms)
{
	s->stall_ms = stall_ms > 0 ? stall_ms : SERVER_STALL_MS;
	s->partial_ms = partial_ms > 0 ? partial_ms : SERVER_PARTIAL_MS;
	s->idle_ms = idle_ms > 0 ? idle_ms : SERVER_IDLE_MS;
}

void server_reap(struct server *s)
{
	struct client **pp = &s->clients, *c;

	while ((c = *pp)) {
		if (c->dead) {
			*pp = c->next;
			client_free(c);
		} else {
			pp = &c->next;
		}
	}
}

void server_free(struct server *s)
{
	struct client *c;

	if (!s)
		return;
	/* What the sockets take now, events held back for a batch included. */
	for (c = s->clients; c; c = c->next)
		if (!c->dead && queued(c))
			client_send(c);
	for (c = s->clients; c; c = c->next)
		client_close(c);
	server_reap(s);
	loop_remove(s->loop, &s->listen);
	strbuf_release(&s->frame);
	free(s);
}

void server_subscribe(struct server *s, struct client *c, const struct trace_filter *filter)
{
	static const char ok[] = "{\"ok\":true}";

	if (queue_frame(c, ok, sizeof(ok) - 1) < 0) {
		client_close(c);
		return;
	}
	/*
	 * A deep socket buffer on top of the queue absorbs a subscriber that is
	 * briefly not scheduled; FORCE lifts wmem_max (the daemon is root).
	 */
	if (setsockopt(c->watch.fd, SOL_SOCKET, SO_SNDBUFFORCE, &(int){ SERVER_SOCKBUF },
		       sizeof(int)) < 0)
		setsockopt(c->watch.fd, SOL_SOCKET, SO_SNDBUF, &(int){ SERVER_SOCKBUF },
			   sizeof(int));
	c->filter = *filter;
	c->subscriber = true;
	s->n_subscribers++;
}

/* `trace --container X`: a prefix of the container's id, or its name. */
static bool container_named(const char *x, const struct event *ev)
{
	const char *name = container_meta_get(ev->container_meta, "container_name", NULL);

	return (ev->container_id[0] && !strncmp(x, ev->container_id, strlen(x))) ||
	       (name && !strcmp(x, name));
}

static bool filter_matches(const struct trace_filter *f, const struct event *ev)
{
	size_t i;

	/* ev->tracer is the table's string too: an address compare per event. */
	if (f->tracer_name && f->tracer_name != ev->tracer)
		return false;
	if (f->container[0] && !container_named(f->container, ev))
		return false;
	if (f->rule[0]) {
		for (i = 0; i < ev->n_rules; i++)
			if (strcmp(f->rule, ev->rules[i]) == 0)
				break;
		if (i == ev->n_rules)
			return false;
	}
	/* No rule matched, no priority: below any priority asked for. */
	if (f->min_priority >= 0 &&
	    (!ev->priority || rule_priority_parse(ev->priority) < f->min_priority))
		return false;
	if (f->n_tags) {
		size_t j;

		for (i = 0; i < ev->n_tags; i++)
			for (j = 0; j < f->n_tags; j++)
				if (!strcmp(ev->tags[i], f->tags[j]))
					return true;
		return false;
	}
	return true;
}

bool server_wants(struct server *s, const struct event *ev)
{
	struct client *c;

	if (!s->n_subscribers)
		return false;
	for (c = s->clients; c; c = c->next)
		if (c->subscriber && !c->dead && !c->closing && filter_matches(&c->filter, ev))
			return true;
	return false;
}

/* A drop for @c: counted, and told when there is room again. */
static void count_drop(struct server *s, struct client *c)
{
	c->dropped++;
	c->unreported_drops++;
	s->dropped_total++;
}

/* After losses, once there is room again, tells the client how many. */
static void report_drops(struct client *c)
{
	char notice[96];
	int n;

	if (!c->unreported_drops || queued(c) > c->server->queue_max / 2)
		return;
	n = snprintf(notice, sizeof(notice), "{\"notice\":\"lost\",\"lost\":%llu}",
		     (unsigned long long)c->unreported_drops);
	if (queue_frame(c, notice, n) == 0)
		c->unreported_drops = 0;
}

/*
 * @ev's frame, encoded once aside (s->frame) for subscribers that cannot
 * take it in place. 0 or -errno.
 */
static int encode_aside(struct server *s, const struct event *ev, const char **frame,
			size_t *frame_len)
{
	size_t start;
	int r;

	strbuf_reset(&s->frame);
	r = ipc_frame_open(&s->frame, &start);
	if (r == 0)
		r = event_to_json(ev, &s->frame);
	if (r == 0)
		r = ipc_frame_close(&s->frame, start);
	if (r < 0)
		return r;
	*frame = s->frame.buf;
	*frame_len = s->frame.len;
	return 0;
}

/*
 * Queues @ev for @c, the first subscriber that wants it, encoded straight
 * into @c's queue: the one copy between the encoder and the socket is the
 * kernel's. On success *@frame and *@frame_len are the whole frame, its
 * length prefix included, for the other subscribers to copy. Where the
 * encoder's worst case would take the queue over its limit, the event is
 * encoded aside and taken if it fits after all: the limit counts the
 * bytes of the events, as for the others. -ENOBUFS: no room for it.
 */
static int queue_event_in_place(struct server *s, struct client *c, const struct event *ev,
				const char **frame, size_t *frame_len)
{
	size_t start;
	int r;

	r = ipc_frame_open(&c->out, &start);
	if (r == 0)
		r = event_to_json_bounded(ev, &c->out, c->out_off + s->queue_max);
	if (r == 0)
		r = ipc_frame_close(&c->out, start);
	if (r == 0) {
		*frame = c->out.buf + start;
		*frame_len = c->out.len - start;
		return 0;
	}
	ipc_frame_abort(&c->out, start);
	if (r != -ENOBUFS)
		return r;
	r = encode_aside(s, ev, frame, frame_len);
	if (r < 0)
		return r;
	if (queued(c) + *frame_len > s->queue_max)
		return -ENOBUFS;
	return strbuf_add(&c->out, *frame, *frame_len);
}

void server_publish(struct server *s, const struct event *ev, const char *json, size_t len)
{
	const char *frame = NULL;
	size_t frame_len = 0;
	struct client *c;
	int r;

	for (c = s->clients; c; c = c->next) {
		if (!c->subscriber || c->dead || c->closing || !filter_matches(&c->filter, ev))
			continue;
		report_drops(c);
		if (json)
			r = queued(c) + len + IPC_HEADER_LEN > s->queue_max
				    ? -ENOBUFS
				    : queue_frame(c, json, len);
		else if (frame)
			r = queued(c) + frame_len > s->queue_max
				    ? -ENOBUFS
				    : strbuf_add(&c->out, frame, frame_len);
		else
			r = queue_event_in_place(s, c, ev, &frame, &frame_len);
		if (r < 0) {
			count_drop(s, c);
			continue;
		}
		c->sent++;
		if (!c->unsent_ms)
			c->unsent_ms = loop_now_ms();
	}
}

/* True when @c's queued events may wait for more to send them in one go. */
static bool hold_back(const struct client *c, int64_t now)
{
	return c->subscriber && c->unsent_ms && queued(c) < SERVER_FLUSH_BYTES &&
	       now - c->unsent_ms < SERVER_FLUSH_MS;
}

void server_flush(struct server *s)
{
	int64_t now = loop_now_ms();
	struct client *c;

	for (c = s->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->subscriber)
			report_drops(c);
		if (queued(c) && !hold_back(c, now))
			client_write(c);
	}
}

int server_flush_due(const struct server *s, int64_t now_ms)
{
	const struct client *c;
	int64_t due = -1, d;

	for (c = s->clients; c; c = c->next) {
		if (c->dead || !queued(c) || !c->unsent_ms || c->blocked)
			continue;
		d = c->unsent_ms + SERVER_FLUSH_MS - now_ms;
		if (d < 0)
			d = 0;
		if (due < 0 || d < due)
			due = d;
	}
	return (int)due;
}

/* Cuts @c off, saying why in a rate-limited line. */
static void client_cut_off(struct client *c, const char *why, int64_t ms)
{
	c->server->disconnected++;
	server_warn(c->server, "client %u (uid %u, pid %d) %s for %.1f s: disconnected", c->id,
		    (unsigned)c->cred.uid, (int)c->cred.pid, why, ms / 1000.0);
	client_close(c);
}

void server_tick(struct server *s)
{
	int64_t now = loop_now_ms();
	struct client *c;

	for (c = s->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (queued(c) && now - c->progress_ms > s->stall_ms)
			client_cut_off(c, "read nothing", s->stall_ms);
		else if (c->partial_ms && now - c->partial_ms > s->partial_ms)
			client_cut_off(c, "left a frame half-sent", s->partial_ms);
		else if (!c->subscriber && !queued(c) && !ipc_reader_pending(&c->in) &&
			 now - c->active_ms > s->idle_ms)
			client_cut_off(c, "sent no request", s->idle_ms);
	}
	/* A flood that stopped still gets its count logged. */
	if (s->log_suppressed && now - s->log_start_ms >= SERVER_LOG_INTERVAL_MS)
		log_interval_end(s, now);
}

void server_each_subscriber(struct server *s, void (*fn)(void *ctx, const struct subscriber_info *),
			    void *ctx)
{
	struct client *c;
	struct subscriber_info info;

	for (c = s->clients; c; c = c->next) {
		if (!c->subscriber || c->dead)
			continue;
		info = (struct subscriber_info){ .id = c->id, .filter = &c->filter,
						 .sent = c->sent, .dropped = c->dropped,
						 .queued = queued(c) };
		fn(ctx, &info);
	}
}

void server_notice_subscribers(struct server *s, const char *notice)
{
	struct client *c;

	for (c = s->clients; c; c = c->next)
		if (c->subscriber && !c->dead && !c->closing)
			(void)!queue_frame(c, notice, strlen(notice));
}

void server_stats(const struct server *s, struct server_stats *out)
{
	*out = (struct server_stats){ .clients = s->n_clients, .refused = s->refused,
				      .disconnected = s->disconnected };
}
