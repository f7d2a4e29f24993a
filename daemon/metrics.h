/* SPDX-License-Identifier: MIT */
#ifndef BPFD_METRICS_H
#define BPFD_METRICS_H

/*
 * The metrics server (docs/deploy.md, "Metrics"): GET /metrics over HTTP
 * or HTTPS, served by libmicrohttpd from the daemon's own event loop.
 *
 * MHD runs in its "external epoll" mode: its epoll fd is one watch of the
 * loop, and MHD_run() does the non-blocking work that is ready, then
 * returns. The page is written when it is asked for, on the loop's thread,
 * from the numbers `status` reads: there is no second thread and nothing
 * shared to lock. What a client can grow is bounded: connections
 * (METRICS_CONNECTIONS_MAX, and METRICS_CONNECTIONS_PER_IP from one
 * address when other hosts can connect), the memory each may use (its
 * request's headers included), and how long one may sit idle
 * (metrics_timeout).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/loop.h"
#include "lib/strbuf.h"
#include "daemon/metrics_page.h"

enum {
	METRICS_CONNECTIONS_MAX = 16,
	/* On an address other hosts reach: one host may not take every slot. */
	METRICS_CONNECTIONS_PER_IP = 4,
	METRICS_CONNECTION_MEMORY = 32 * 1024,	/* per connection: request line and headers */
	METRICS_DEFAULT_TIMEOUT_MS = 10000,
	METRICS_SECRET_MAX = 64 * 1024,	/* a token or PEM file */
};

struct metrics_options {
	const char *address;		/* HOST:PORT, [IPV6]:PORT or /path */
	const char *tls_cert, *tls_key;	/* PEM files; both or neither */
	const char *token_file;		/* NULL: no token asked for */
	bool insecure;			/* serve another host without TLS and a token */
	int64_t timeout_ms;		/* 0: METRICS_DEFAULT_TIMEOUT_MS */
};

/*
 * Writes the page into @out (metrics_page_write()): 0, -EAGAIN while the
 * daemon is not ready (a 503), or another -errno (a 500).
 */
typedef int (*metrics_page_fn)(void *ctx, struct strbuf *out,
			       const struct metrics_server_stats *stats);

struct metrics_server;

/*
 * Listens on @o->address and serves from @loop. 0 and *@out, or -errno
 * with the reason in @err (a bad address, a token file others may read, a
 * non-local address without TLS and a token, no libmicrohttpd).
 */
int metrics_server_start(struct loop *loop, const struct metrics_options *o,
			 metrics_page_fn page, void *ctx, struct metrics_server **out,
			 char *err, size_t size);

/* Milliseconds until the server has timed work (an idle connection to close); -1: none. */
int metrics_server_due(struct metrics_server *m);

/* Does that work when it is due. Call after each turn of the loop. */
void metrics_server_tick(struct metrics_server *m);

/* Stops listening, closes every connection and removes a unix socket it made. NULL is fine. */
void metrics_server_free(struct metrics_server *m);

/* Equal bytes, in a time that depends on the lengths only. */
bool metrics_token_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
