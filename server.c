// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "request.h"
#include "log.h"
#include "strbuf.h"

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
	uint64_t sent, dropped, unreported_drops;
	int64_t progress_ms;	/* last time out shrank, or was empty */
	int64_t partial_ms;	/* since when a partial frame waits, 0 if none */
	int64_t unsent_ms;	/* since when events wait to be sent, 0 if none */
	bool blocked;		/* the socket is full: EPOLLOUT says when to go on */
	struct client *next;
};

struct server {
	size_t queue_max;		/* bytes queued for one subscriber */
	int64_t stall_ms, partial_ms;	/* SERVER_STALL_MS, SERVER_PARTIAL_MS by default */
	struct loop *loop;
	struct loop_watch listen;
	server_request_fn fn;
	void *ctx;
	struct client *clients;
	size_t n_clients, n_subscribers;
	uint32_t next_id;
	uint64_t dropped_total;		/* over every subscriber there ever was */
};

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

static void client_update_events(struct client *c)
{
	uint32_t ev = EPOLLIN | (queued(c) ? EPOLLOUT : 0);

	if (!c->dead)
		loop_modify(c->server->loop, &c->watch, ev);
}

/* Writes as much as the socket takes now. */
static void client_write(struct client *c)
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
	client_update_events(c);
}

static int queue_frame(struct client *c, const char *payload, size_t len)
{
	return ipc_frame_append(&c->out, payload, len);
}

static void queue_json(struct client *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);

	if (!text || queue_frame(c, text, strlen(text)) < 0)
		client_close(c);
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
	if (request_decode(payload, len, &req, &op, msg) < 0) {
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

static void client_read(struct client *c)
{
	char buf[65536];
	const char *payload;
	size_t len;
	ssize_t n;
	int r;

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
	while ((r = ipc_reader_next(&c->in, &payload, &len)) == 1) {
		handle_frame(c, payload, len);
		if (c->dead)
			return;
	}
	if (r == -EMSGSIZE) {
		/* The stream cannot be resynchronised: say why, then hang up. */
		queue_error(c, "frame too large: the limit is 1048576 bytes");
		c->closing = true;
	}
	c->partial_ms = ipc_reader_pending(&c->in) ? (c->partial_ms ? c->partial_ms : loop_now_ms())
						   : 0;
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

/*
 * A unix socket's peer credentials are those of the process that
 * connected, fixed at connect(): read once, checked for every request.
 */
static void read_peer(int fd, struct peer_cred *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[SERVER_PEER_GROUPS_MAX];

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc))
		return;
	p->known = true;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	/* Linux 4.13+; more groups than fit are not needed to decide. */
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		p->n_groups = len / sizeof(gid_t);
		memcpy(p->groups, groups, p->n_groups * sizeof(gid_t));
	}
}

uint64_t server_dropped_total(const struct server *s)
{
	return s->dropped_total;
}

const struct peer_cred *server_client_cred(const struct client *c)
{
	return &c->cred;
}

static void server_accept(struct loop_watch *w, uint32_t events)
{
	struct server *s = w->ctx;
	struct client *c;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(s->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (s->n_clients >= SERVER_CLIENTS_MAX) {
			static const char busy[] = "{\"ok\":false,\"error\":\"too many clients\"}";
			struct strbuf f = STRBUF_INIT;

			if (ipc_frame_append(&f, busy, sizeof(busy) - 1) == 0)
				(void)!send(fd, f.buf, f.len, MSG_NOSIGNAL | MSG_DONTWAIT);
			strbuf_release(&f);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->server = s;
		c->id = ++s->next_id;
		read_peer(fd, &c->cred);
		c->watch = (struct loop_watch){ .fd = fd, .fn = client_event, .ctx = c };
		ipc_reader_init(&c->in, IPC_FRAME_MAX);
		c->progress_ms = loop_now_ms();
		if (loop_add(s->loop, &c->watch, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->clients;
		s->clients = c;
		s->n_clients++;
	}
}

struct server *server_new(struct loop *loop, int listen_fd, server_request_fn fn, void *ctx)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = loop;
	s->queue_max = SERVER_QUEUE_MAX;
	s->stall_ms = SERVER_STALL_MS;
	s->partial_ms = SERVER_PARTIAL_MS;
	s->fn = fn;
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

void server_set_timeouts(struct server *s, int64_t stall_ms, int64_t partial_ms)
{
	s->stall_ms = stall_ms > 0 ? stall_ms : SERVER_STALL_MS;
	s->partial_ms = partial_ms > 0 ? partial_ms : SERVER_PARTIAL_MS;
}

static void client_free(struct client *c)
{
	ipc_reader_release(&c->in);
	strbuf_release(&c->out);
	free(c);
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
			client_write(c);
	for (c = s->clients; c; c = c->next)
		client_close(c);
	server_reap(s);
	loop_remove(s->loop, &s->listen);
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

static bool filter_matches(const struct trace_filter *f, const struct event *ev)
{
	size_t i;

	/* ev->tracer is the table's string too: an address compare per event. */
	if (f->tracer_name && f->tracer_name != ev->tracer)
		return false;
	if (f->container[0] &&
	    strncmp(f->container, ev->container_id, strlen(f->container)) != 0)
		return false;
	if (f->rule[0]) {
		for (i = 0; i < ev->n_rules; i++)
			if (strcmp(f->rule, ev->rules[i]) == 0)
				break;
		if (i == ev->n_rules)
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

void server_publish(struct server *s, const struct event *ev, const char *json, size_t len)
{
	struct client *c;

	for (c = s->clients; c; c = c->next) {
		if (!c->subscriber || c->dead || c->closing || !filter_matches(&c->filter, ev))
			continue;
		report_drops(c);
		if (queued(c) + len + IPC_HEADER_LEN > c->server->queue_max ||
		    queue_frame(c, json, len) < 0) {
			c->dropped++;
			c->unreported_drops++;
			s->dropped_total++;
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

void server_tick(struct server *s)
{
	int64_t now = loop_now_ms();
	struct client *c;

	for (c = s->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (queued(c) && now - c->progress_ms > s->stall_ms) {
			log_warn("client %u read nothing for %.1f s: disconnected", c->id,
				 s->stall_ms / 1000.0);
			client_close(c);
		} else if (c->partial_ms && now - c->partial_ms > s->partial_ms) {
			log_warn("client %u left a frame half-sent for %.1f s: disconnected", c->id,
				 s->partial_ms / 1000.0);
			client_close(c);
		}
	}
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

size_t server_client_count(const struct server *s)
{
	return s->n_clients;
}
