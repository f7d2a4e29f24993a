// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/metrics.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ipc.h"
#include "lib/log.h"
#include "lib/netaddr.h"

/*
 * libmicrohttpd is loaded when a metrics address is configured, not
 * linked: with it come GnuTLS and its libraries, which every client
 * command would otherwise load at each start (~2 ms here). As for libcurl
 * (actions/webhook.c), the header serves for the prototypes and constants;
 * mhd.NAME is MHD_NAME.
 */
#define METRICS_LIBMHD "libmicrohttpd.so.12"

#define MHD_SYMBOLS(X)                                                                             \
	X(start_daemon) X(stop_daemon) X(get_daemon_info) X(run) X(get_timeout)                    \
	X(create_response_from_buffer) X(add_response_header) X(queue_response)                    \
	X(destroy_response) X(lookup_connection_value) X(is_feature_supported)

static struct {
#define MHD_MEMBER(fn) __typeof__(&MHD_##fn) fn;
	MHD_SYMBOLS(MHD_MEMBER)
#undef MHD_MEMBER
} mhd;

static int mhd_load(char *err, size_t size)
{
	static bool loaded;
	const char *missing = NULL;
	void *lib;

	if (loaded)
		return 0;
	lib = dlopen(METRICS_LIBMHD, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, size, "the metrics server needs libmicrohttpd: %s (Debian: apt-get "
			 "install libmicrohttpd12)", dlerror());
		return -ENOENT;
	}
#define MHD_RESOLVE(fn)                                                                            \
	mhd.fn = (__typeof__(mhd.fn))dlsym(lib, "MHD_" #fn);                                      \
	if (!mhd.fn && !missing)                                                                   \
		missing = "MHD_" #fn;
	MHD_SYMBOLS(MHD_RESOLVE)
#undef MHD_RESOLVE
	if (missing) {
		snprintf(err, size, "%s has no %s", METRICS_LIBMHD, missing);
		dlclose(lib);
		return -ENOENT;
	}
	loaded = true;
	return 0;
}

struct metrics_server {
	struct MHD_Daemon *mhd;
	struct loop *loop;
	struct loop_watch watch;	/* MHD's epoll fd */
	int listen_fd;			/* handed to MHD, which closes it */
	char *unix_path;		/* removed at the end; NULL for TCP */
	char *token;			/* NULL: none asked for */
	size_t token_len;
	char *cert, *key;		/* PEM, for MHD's TLS */
	metrics_page_fn page;
	void *ctx;
	struct metrics_server_stats stats;
	int64_t warn_next_ms;		/* MHD's complaints are logged at most every few seconds */
	int64_t run_at_ms;		/* when MHD_run() is due (run_mhd()) */
};

enum { METRICS_WARN_MS = 10000, METRICS_RUN_MS = 500 };

bool metrics_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	size_t i;

	/* Every byte of @b is read whatever @a holds: the time tells the length only. */
	for (i = 0; i < blen; i++)
		diff |= (unsigned char)(b[i] ^ (i < alen ? a[i] : 0));
	return diff == 0;
}

/*
 * Reads a secret (a token, a TLS key): a regular file of root's (the
 * daemon's user's) that neither its group nor others may read or write.
 * The file opened is the one checked. 0 and a NUL-terminated *@out, or
 * -errno with the reason in @err.
 */
static int read_file(const char *path, bool secret, char **out, size_t *len, char *err,
		     size_t size)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;

	if (fd < 0) {
		e = -errno;
		snprintf(err, size, "%s: %s", path, strerror(errno));
		return e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, size, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (secret && (st.st_uid != geteuid() || (st.st_mode & 077))) {
		snprintf(err, size, "%s: a secret must be the daemon's user's (uid %u) and "
			 "neither its group's nor others' to read or write (chmod 600); it is uid "
			 "%u, mode %04o", path, (unsigned)geteuid(), (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	if (st.st_size > METRICS_SECRET_MAX) {
		snprintf(err, size, "%s: larger than %d bytes", path, METRICS_SECRET_MAX);
		close(fd);
		return -EFBIG;
	}
	buf = malloc(METRICS_SECRET_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, METRICS_SECRET_MAX + 1);
	e = errno;
	close(fd);
	if (n < 0 || n > METRICS_SECRET_MAX) {
		snprintf(err, size, "%s: %s", path, n < 0 ? strerror(e) : "too large");
		free(buf);
		return n < 0 ? -e : -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

static int read_token(struct metrics_server *m, const char *path, char *err, size_t size)
{
	size_t len, i;
	int r = read_file(path, true, &m->token, &len, err, size);

	if (r < 0)
		return r;
	/* One line; the newline an editor adds is not part of it. */
	while (len && (m->token[len - 1] == '\n' || m->token[len - 1] == '\r' ||
		       m->token[len - 1] == ' ' || m->token[len - 1] == '\t'))
		m->token[--len] = '\0';
	for (i = 0; i < len; i++)
		if (m->token[i] <= ' ' || m->token[i] == 0x7f)
			break;
	if (!len || i < len) {
		snprintf(err, size, "%s: %s", path, !len ? "empty: no token"
			 : "the token must be one word of printable characters");
		return -EINVAL;
	}
	m->token_len = len;
	return 0;
}

static void mhd_log(void *ctx, const char *fmt, va_list ap)
{
	struct metrics_server *m = ctx;
	char msg[256];
	int64_t now = loop_now_ms();

	/* A client can make MHD complain at will: a few lines, not a flood. */
	if (now < m->warn_next_ms)
		return;
	m->warn_next_ms = now + METRICS_WARN_MS;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("metrics server: %s", msg);
}

static void on_connection(void *ctx, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct metrics_server *m = ctx;

	(void)c;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		m->stats.connections++;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int code, const char *text,
			      const char *header, const char *value)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (header)
		mhd.add_response_header(r, header, value);
	ret = mhd.queue_response(c, code, r);
	mhd.destroy_response(r);
	return ret;
}

static bool authorized(struct metrics_server *m, struct MHD_Connection *c)
{
	static const char bearer[] = "Bearer ";
	const char *h;

	if (!m->token)
		return true;
	h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, bearer, sizeof(bearer) - 1) != 0)
		return false;
	h += sizeof(bearer) - 1;
	return metrics_token_equal(h, strlen(h), m->token, m->token_len);
}

static enum MHD_Result serve_page(struct metrics_server *m, struct MHD_Connection *c)
{
	struct strbuf page = STRBUF_INIT;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int err;

	m->stats.scrapes++;
	err = m->page(m->ctx, &page, &m->stats);
	if (err == -EAGAIN) {
		strbuf_release(&page);
		return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the daemon is starting\n", NULL,
			      NULL);
	}
	if (err < 0) {
		strbuf_release(&page);
		log_warn("metrics: writing the page: %s", strerror(-err));
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the page could not be written\n",
			      NULL, NULL);
	}
	/* MHD frees the page with free() once sent; to a HEAD it sends the headers only. */
	r = mhd.create_response_from_buffer(
		page.len, page.buf ? page.buf : (void *)"",
		page.buf ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		strbuf_release(&page);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	ret = mhd.queue_response(c, MHD_HTTP_OK, r);
	mhd.destroy_response(r);
	return ret;
}

/*
 * MHD calls this when a request's headers are in, and again for each part
 * of its body. Every answer is given at that first call: nothing here
 * reads a body, and a request with one is answered and its connection
 * closed without reading it (MHD's rule for an early answer).
 */
static enum MHD_Result on_request(void *ctx, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_ctx)
{
	struct metrics_server *m = ctx;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	(void)version;
	(void)upload;
	(void)req_ctx;
	if (*upload_size)
		return MHD_NO;	/* answered already: the body is not read */
	if (!authorized(m, c)) {
		m->stats.unauthorized++;
		return answer(c, MHD_HTTP_UNAUTHORIZED, "a bearer token is needed\n",
			      MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"bpfd\"");
	}
	if (strcmp(url, "/metrics") != 0) {
		m->stats.not_found++;
		return answer(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n",
			      NULL, NULL);
	}
	if (!get && !head) {
		m->stats.not_found++;
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics only\n",
			      MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	return serve_page(m, c);
}

static void run_mhd(struct metrics_server *m);

static void on_ready(struct loop_watch *w, uint32_t events)
{
	struct metrics_server *m = w->ctx;

	(void)events;
	run_mhd(m);
}

/* Runs MHD and notes when it must run next, whatever its fds say. */
static void run_mhd(struct metrics_server *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	mhd.run(m->mhd);
	/*
	 * At its connection limit MHD stops watching the listening socket,
	 * and takes it back only in a later MHD_run(): one that nothing on
	 * its fds may ever cause once the connections it cut were its last.
	 * Hence a run at least every METRICS_RUN_MS.
	 */
	if (mhd.get_timeout(m->mhd, &ms) != MHD_YES || ms > METRICS_RUN_MS)
		ms = METRICS_RUN_MS;
	m->run_at_ms = loop_now_ms() + (int64_t)ms;
}

int metrics_server_due(struct metrics_server *m)
{
	int64_t left;

	if (!m)
		return -1;
	left = m->run_at_ms - loop_now_ms();
	return left < 0 ? 0 : (int)left;
}

void metrics_server_tick(struct metrics_server *m)
{
	if (m && loop_now_ms() >= m->run_at_ms)
		run_mhd(m);
}

static int listen_on(struct metrics_server *m, const struct netaddr *a, const char *text,
		     char *err, size_t size)
{
	int fd, one = 1, e;

	if (a->unix_path) {
		/* As reachable as a loopback port: a token, when set, is asked for. */
		fd = ipc_listen(text, 0666);
		if (fd < 0) {
			snprintf(err, size, "%s: cannot listen: %s", text, strerror(-fd));
			return fd;
		}
		m->unix_path = strdup(text);
		if (!m->unix_path) {
			close(fd);
			unlink(text);
			return -ENOMEM;
		}
		return fd;
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(fd, METRICS_CONNECTIONS_MAX) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, size, "%s: cannot listen: %s", text, strerror(e));
	return -e;
}

int metrics_server_start(struct loop *loop, const struct metrics_options *o,
			 metrics_page_fn page, void *ctx, struct metrics_server **out,
			 char *err, size_t size)
{
	int64_t timeout_ms = o->timeout_ms ? o->timeout_ms : METRICS_DEFAULT_TIMEOUT_MS;
	const union MHD_DaemonInfo *info;
	struct metrics_server *m;
	struct netaddr a;
	size_t len;
	bool tls = o->tls_cert || o->tls_key;
	int r;

	r = netaddr_parse(o->address, &a, err, size);
	if (r < 0)
		return r;
	if (!o->tls_cert != !o->tls_key) {
		snprintf(err, size, "metrics_tls_cert and metrics_tls_key go together: one is "
			 "missing");
		return -EINVAL;
	}
	if (!netaddr_is_local(&a) && !o->insecure && (!tls || !o->token_file)) {
		snprintf(err, size, "%s is reachable from other hosts: set metrics_tls_cert, "
			 "metrics_tls_key and metrics_token_file, or metrics_insecure = true",
			 o->address);
		return -EPERM;
	}
	r = mhd_load(err, size);
	if (r < 0)
		return r;
	if (tls && mhd.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, size, "%s was built without TLS", METRICS_LIBMHD);
		return -EOPNOTSUPP;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->page = page;
	m->ctx = ctx;
	m->watch.fd = -1;
	m->listen_fd = -1;
	if ((o->token_file && (r = read_token(m, o->token_file, err, size)) < 0) ||
	    (tls && ((r = read_file(o->tls_cert, false, &m->cert, &len, err, size)) < 0 ||
		     (r = read_file(o->tls_key, true, &m->key, &len, err, size)) < 0)))
		goto fail;
	r = m->listen_fd = listen_on(m, &a, o->address, err, size);
	if (r < 0)
		goto fail;
	/*
	 * MHD_USE_EPOLL without a thread of its own: the loop watches MHD's
	 * epoll fd and calls MHD_run(), which never waits.
	 */
	m->mhd = mhd.start_daemon(
		MHD_USE_EPOLL | (tls ? MHD_USE_TLS : 0), 0, NULL, NULL, on_request, m,
		MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS_MAX,
		/* Locally every client is 127.0.0.1 or has no address: no such limit. */
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)(netaddr_is_local(&a) ? 0 : METRICS_CONNECTIONS_PER_IP),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)((timeout_ms + 999) / 1000),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONNECTION_MEMORY,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
		tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, m->cert,
		MHD_OPTION_HTTPS_MEM_KEY, m->key,
		MHD_OPTION_END);
	if (!m->mhd) {
		snprintf(err, size, "%s: libmicrohttpd would not start%s", o->address,
			 tls ? " (is the certificate or key not PEM?)" : "");
		r = -EINVAL;
		goto fail;
	}
	m->listen_fd = -1;	/* MHD's now */
	info = mhd.get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(err, size, "libmicrohttpd has no epoll fd");
		r = -EINVAL;
		goto fail;
	}
	m->watch = (struct loop_watch){ .fd = info->epoll_fd, .fn = on_ready, .ctx = m };
	r = loop_add(loop, &m->watch, EPOLLIN);
	if (r < 0) {
		snprintf(err, size, "watching libmicrohttpd's epoll fd: %s", strerror(-r));
		m->watch.fd = -1;
		goto fail;
	}
	run_mhd(m);
	*out = m;
	return 0;
fail:
	metrics_server_free(m);
	return r;
}

void metrics_server_free(struct metrics_server *m)
{
	if (!m)
		return;
	if (m->watch.fd >= 0)
		loop_remove(m->loop, &m->watch);
	if (m->mhd)
		mhd.stop_daemon(m->mhd);	/* closes the listening socket too */
	else if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->unix_path) {
		unlink(m->unix_path);
		free(m->unix_path);
	}
	if (m->token) {
		explicit_bzero(m->token, m->token_len);
		free(m->token);
	}
	if (m->key) {
		explicit_bzero(m->key, strlen(m->key));
		free(m->key);
	}
	free(m->cert);
	free(m);
}
