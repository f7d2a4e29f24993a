// SPDX-License-Identifier: MIT
/*
 * syslog: each event as one RFC 5424 message (actions/syslog.h) to the
 * local syslog socket (a unix datagram socket, /dev/log by default), or to
 * a collector over UDP or TCP (`address = udp://HOST:PORT`,
 * `tcp://HOST:PORT`, octet-counting frames).
 *
 * Never blocks the loop. Every socket is non-blocking. A datagram that
 * cannot be sent at once is lost: counted as a failure, or as dropped when
 * the receiver's queue is full. On TCP, messages wait in a bounded queue
 * while the connection is made, is busy, or is down; an event that finds
 * it full is dropped and counted. A connection that fails or breaks is a
 * failure, and the next attempt comes after `backoff`, doubled each time
 * up to SYSLOG_BACKOFF_MAX_MS, and only while messages wait.
 *
 * HOST is an IP address: a name would be looked up with getaddrinfo(),
 * which blocks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "actions/syslog.h"
#include "lib/strbuf.h"
#include "rules.h"

enum {
	SYSLOG_DEFAULT_QUEUE = 1000,
	SYSLOG_QUEUE_LIMIT = 100000,
	SYSLOG_BACKOFF_MAX_MS = 30000,
};
#define SYSLOG_DEFAULT_ADDRESS "/dev/log"
#define SYSLOG_DEFAULT_FACILITY "daemon"
#define SYSLOG_DEFAULT_SEVERITY "rule"
#define SYSLOG_DEFAULT_TIMEOUT "5s"
#define SYSLOG_DEFAULT_BACKOFF "1s"

/* ------------------------------------------------------------------ */
/* Messages                                                             */

static const char *const facility_names[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const severity_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static int code_parse(const char *s, const char *const *names, int n)
{
	char *end;
	long v;
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end || v >= n ? -1 : (int)v;
}

int syslog_facility_parse(const char *s)
{
	return code_parse(s, facility_names, 24);
}

int syslog_severity_parse(const char *s)
{
	if (strcmp(s, "error") == 0)
		return 3;
	if (strcmp(s, "warn") == 0)
		return 4;
	if (strcmp(s, "rule") == 0)
		return SYSLOG_SEVERITY_RULE;
	return code_parse(s, severity_names, 8);
}

int syslog_severity_of(const struct syslog_format *f, const struct event *ev)
{
	return f->severity == SYSLOG_SEVERITY_RULE ? rule_priority_severity(ev->priority)
						   : f->severity;
}

bool syslog_sd_name_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (i == SYSLOG_SD_NAME_MAX || name[i] < 33 || name[i] > 126 || name[i] == '=' ||
		    name[i] == ']' || name[i] == '"')
			return false;
	return i > 0;
}

/* The length of the valid UTF-8 character at @s (of @len bytes), 0 when not one. */
static size_t utf8_char(const unsigned char *s, size_t len)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int syslog_add_param_value(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	int r = 0;

	while (i < len && !r) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\' || c == ']') {
			r = strbuf_addch(sb, '\\');
			if (!r)
				r = strbuf_addch(sb, c);
			i++;
			continue;
		}
		n = c < 0x20 || c == 0x7f ? 0 : utf8_char(p + i, len - i);
		if (!n) {
			r = strbuf_addf(sb, "\\x%02x", c);
			i++;
			continue;
		}
		r = strbuf_add(sb, p + i, n);
		i += n;
	}
	return r;
}

/* TIMESTAMP: the event's local time with microseconds and the UTC offset. */
static int add_timestamp(struct strbuf *sb, uint64_t time_ns)
{
	time_t sec = (time_t)(time_ns / 1000000000ull);
	long off, usec = (long)(time_ns % 1000000000ull / 1000);
	struct tm tm;

	if (!localtime_r(&sec, &tm))
		return strbuf_addch(sb, '-');
	off = tm.tm_gmtoff / 60;
	return strbuf_addf(sb, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld:%02ld",
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			   tm.tm_sec, usec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/*
 * A header field (HOSTNAME, MSGID): printable US-ASCII, at most @max bytes;
 * anything else becomes '_', and nothing at all the NILVALUE "-".
 */
static int add_header_field(struct strbuf *sb, const char *s, size_t max)
{
	size_t i;
	int r = 0;

	if (!s || !*s)
		return strbuf_addch(sb, '-');
	for (i = 0; s[i] && i < max && !r; i++)
		r = strbuf_addch(sb, s[i] > 32 && s[i] < 127 ? s[i] : '_');
	return r;
}

static int add_param(struct strbuf *sb, const char *name, const char *value, size_t len)
{
	int r;

	/* The names are this file's constants: a bad one is a bug caught by the unit test. */
	if (!syslog_sd_name_valid(name))
		return -EINVAL;
	r = strbuf_addf(sb, " %s=\"", name);
	if (!r)
		r = syslog_add_param_value(sb, value, len);
	if (!r)
		r = strbuf_addch(sb, '"');
	return r;
}

int syslog_format_message(const struct syslog_format *f, const struct event *ev,
			  const char *rule, const char *msg, size_t msg_len, struct strbuf *out,
			  bool *truncated)
{
	size_t start = out->len, room, cut;
	char num[24];
	int r;

	*truncated = false;
	r = strbuf_addf(out, "<%d>1 ", f->facility * 8 + syslog_severity_of(f, ev));
	r = r ?: add_timestamp(out, ev->time_ns);
	r = r ?: strbuf_addch(out, ' ');
	r = r ?: add_header_field(out, ev->hostname, SYSLOG_HOSTNAME_MAX);
	r = r ?: strbuf_addf(out, " bpfd %d ", (int)f->procid);
	r = r ?: add_header_field(out, rule, SYSLOG_MSGID_MAX);
	r = r ?: strbuf_addstr(out, " [" SYSLOG_SD_ID);
	r = r ?: add_param(out, "tracer", ev->tracer, strlen(ev->tracer));
	if (rule && *rule)
		r = r ?: add_param(out, "rule", rule, strlen(rule));
	if (ev->priority)
		r = r ?: add_param(out, "priority", ev->priority, strlen(ev->priority));
	snprintf(num, sizeof(num), "%u", ev->pid);
	r = r ?: add_param(out, "pid", num, strlen(num));
	snprintf(num, sizeof(num), "%u", ev->uid);
	r = r ?: add_param(out, "uid", num, strlen(num));
	r = r ?: add_param(out, "command", ev->command, strnlen(ev->command,
							      sizeof(ev->command)));
	if (ev->container_id && *ev->container_id)
		r = r ?: add_param(out, "container_id", ev->container_id,
				   strlen(ev->container_id));
	if (!r && out->len - start + 2 + msg_len > f->max_size) {
		*truncated = true;
		snprintf(num, sizeof(num), "%zu", msg_len);
		r = add_param(out, "truncated", num, strlen(num));
	}
	r = r ?: strbuf_addstr(out, "] ");
	if (r)
		goto fail;
	if (out->len - start > f->max_size) {
		r = -E2BIG;
		goto fail;
	}
	room = f->max_size - (out->len - start);
	cut = msg_len;
	if (cut > room) {
		/* Back to the start of a character, so that what is kept is still UTF-8. */
		cut = room;
		while (cut && ((unsigned char)msg[cut] & 0xc0) == 0x80)
			cut--;
	}
	r = strbuf_add(out, msg, cut);
	if (!r)
		return 0;
fail:
	out->len = start;
	if (out->buf)
		out->buf[start] = '\0';
	return r;
}

int syslog_frame_octets(struct strbuf *out, const char *msg, size_t len)
{
	int r = strbuf_addf(out, "%zu ", len);

	return r ?: strbuf_add(out, msg, len);
}

/* ------------------------------------------------------------------ */
/* Settings                                                             */

enum syslog_transport { SYSLOG_UNIX, SYSLOG_UDP, SYSLOG_TCP };

struct syslog_address {
	enum syslog_transport transport;
	struct sockaddr_storage sa;
	socklen_t len;
};

/*
 * "/dev/log", "udp://127.0.0.1:514", "tcp://[::1]:6514": 0, or -EINVAL
 * with the reason in @err.
 */
static int address_parse(const char *s, struct syslog_address *out, char *err, size_t size)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->sa;
	struct sockaddr_un *un = (struct sockaddr_un *)&out->sa;
	char host[INET6_ADDRSTRLEN + 1];
	const char *rest, *colon;
	size_t hlen;
	char *end;
	long port;

	memset(out, 0, sizeof(*out));
	if (s[0] == '/') {
		if (strlen(s) >= sizeof(un->sun_path)) {
			snprintf(err, size, "address: \"%s\" is longer than a socket path may be "
				 "(%zu bytes)", s, sizeof(un->sun_path) - 1);
			return -EINVAL;
		}
		out->transport = SYSLOG_UNIX;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, s);
		out->len = sizeof(*un);
		return 0;
	}
	if (strncmp(s, "udp://", 6) == 0)
		out->transport = SYSLOG_UDP;
	else if (strncmp(s, "tcp://", 6) == 0)
		out->transport = SYSLOG_TCP;
	else
		goto bad;
	rest = s + 6;
	if (*rest == '[') {
		colon = strstr(rest, "]:");
		if (!colon)
			goto bad;
		hlen = colon - rest - 1;
		rest++;
		colon++;
	} else {
		colon = strrchr(rest, ':');
		if (!colon)
			goto bad;
		hlen = colon - rest;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, rest, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || port < 1 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*in6);
		return 0;
	}
	snprintf(err, size, "address: \"%s\": the host must be an IP address (a name would be "
		 "looked up on the daemon's event loop, which must never wait)", s);
	return -EINVAL;
bad:
	snprintf(err, size, "address: \"%s\" is not a socket path (/dev/log), udp://HOST:PORT or "
		 "tcp://HOST:PORT", s);
	return -EINVAL;
}

static const char *const syslog_keys[] = {
	"address", "facility", "severity", "format", "max_size", "queue", "timeout", "backoff",
	NULL
};

static int syslog_check(const char *key, const char *value, char *err, size_t size)
{
	struct syslog_address addr;
	int64_t ms;
	uint64_t n;

	if (strcmp(key, "address") == 0)
		return address_parse(value, &addr, err, size);
	if (strcmp(key, "facility") == 0 && syslog_facility_parse(value) < 0) {
		snprintf(err, size, "facility: \"%s\" is not a facility (kern, user, mail, daemon, "
			 "auth, syslog, ..., authpriv, ..., local0 to local7, or 0 to 23)", value);
		return -EINVAL;
	}
	if (strcmp(key, "severity") == 0 && syslog_severity_parse(value) < 0) {
		snprintf(err, size, "severity: \"%s\" is not one of emerg, alert, crit, err, "
			 "warning, notice, info, debug (or 0 to 7), or rule", value);
		return -EINVAL;
	}
	if (strcmp(key, "format") == 0 && strcmp(value, "json") && strcmp(value, "text")) {
		snprintf(err, size, "format: \"%s\" is not json or text", value);
		return -EINVAL;
	}
	if (strcmp(key, "max_size") == 0 &&
	    (config_parse_uint(value, SYSLOG_SIZE_MAX, &n) < 0 || n < SYSLOG_SIZE_MIN)) {
		snprintf(err, size, "max_size: \"%s\" is not a number of bytes from %d to %d",
			 value, SYSLOG_SIZE_MIN, SYSLOG_SIZE_MAX);
		return -EINVAL;
	}
	if (strcmp(key, "queue") == 0 &&
	    (config_parse_uint(value, SYSLOG_QUEUE_LIMIT, &n) < 0 || !n)) {
		snprintf(err, size, "queue: \"%s\" is not a number from 1 to %d", value,
			 SYSLOG_QUEUE_LIMIT);
		return -EINVAL;
	}
	if (strcmp(key, "timeout") == 0 && (config_parse_duration_ms(value, &ms) < 0 || !ms)) {
		snprintf(err, size, "timeout: \"%s\" is not a duration like 5s", value);
		return -EINVAL;
	}
	if (strcmp(key, "backoff") == 0 &&
	    (config_parse_duration_ms(value, &ms) < 0 || ms < 10 || ms > SYSLOG_BACKOFF_MAX_MS)) {
		snprintf(err, size, "backoff: \"%s\" is not a duration from 10ms to 30s", value);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */

/* One framed message waiting for the TCP connection. */
struct syslog_queued {
	struct syslog_queued *next;
	size_t len;
	char buf[];
};

struct syslog {
	struct syslog_address addr;
	char *address;			/* as configured, for messages */
	struct syslog_format fmt;
	int64_t timeout_ms, backoff_ms;

	int fd;				/* -1: none */
	bool connecting, connected;	/* TCP */
	bool watched;
	struct loop_watch watch;
	int64_t backoff_now_ms;		/* the wait after the next failure */
	int64_t retry_ms;		/* TCP: no attempt before; 0: at once */
	int64_t deadline_ms;		/* TCP: the connect in progress gives up then */

	/* TCP: frames waiting, the first @head_off bytes of the head already sent. */
	struct syslog_queued *head, **tail;
	size_t queued, queue_max, head_off;

	struct strbuf msg, line;
};

static void sock_close(struct action *a)
{
	struct syslog *s = a->priv;

	if (s->watched)
		loop_remove(a->env->loop, &s->watch);
	s->watched = false;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connecting = s->connected = false;
}

static int watch_for(struct action *a, uint32_t events)
{
	struct syslog *s = a->priv;
	int r;

	if (s->watched)
		return loop_modify(a->env->loop, &s->watch, events);
	s->watch.fd = s->fd;
	r = loop_add(a->env->loop, &s->watch, events);
	s->watched = r == 0;
	return r;
}

static void arm_timer(struct action *a)
{
	struct syslog *s = a->priv;

	if (s->connecting)
		action_set_timer(a, s->deadline_ms);
	else if (!s->connected && s->head)
		action_set_timer(a, s->retry_ms ? s->retry_ms : loop_now_ms());
	else
		action_set_timer(a, 0);
}

/* A TCP connection that failed or broke: counted, and tried again after the backoff. */
static void tcp_failed(struct action *a, const char *what, int err)
{
	struct syslog *s = a->priv;

	sock_close(a);
	/* The receiver drops a frame cut short: the head goes again whole. */
	s->head_off = 0;
	action_failed(a, "%s %s: %s (%zu message%s waiting)", what, s->address, strerror(err),
		      s->queued, s->queued == 1 ? "" : "s");
	s->retry_ms = loop_now_ms() + s->backoff_now_ms;
	s->backoff_now_ms *= 2;
	if (s->backoff_now_ms > SYSLOG_BACKOFF_MAX_MS)
		s->backoff_now_ms = SYSLOG_BACKOFF_MAX_MS;
	arm_timer(a);
}

/* Writes what waits until done or the socket is full. */
static void tcp_pump(struct action *a)
{
	struct syslog *s = a->priv;
	struct syslog_queued *q;
	ssize_t n;

	while ((q = s->head)) {
		n = send(s->fd, q->buf + s->head_off, q->len - s->head_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch_for(a, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n < 0) {
			tcp_failed(a, "sending to", errno);
			return;
		}
		s->head_off += n;
		if (s->head_off < q->len)
			continue;
		s->head = q->next;
		if (!s->head)
			s->tail = &s->head;
		s->head_off = 0;
		s->queued--;
		free(q);
	}
	/* Nothing to write: watch only for the peer closing. */
	watch_for(a, EPOLLIN);
}

static void tcp_connected(struct action *a)
{
	struct syslog *s = a->priv;

	s->connecting = false;
	s->connected = true;
	s->backoff_now_ms = s->backoff_ms;
	s->retry_ms = 0;
	arm_timer(a);
	tcp_pump(a);
}

static void tcp_connect(struct action *a)
{
	struct syslog *s = a->priv;

	s->fd = socket(s->addr.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		tcp_failed(a, "connecting to", errno);
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&s->addr.sa, s->addr.len) == 0) {
		tcp_connected(a);
		return;
	}
	if (errno != EINPROGRESS) {
		tcp_failed(a, "connecting to", errno);
		return;
	}
	s->connecting = true;
	s->deadline_ms = loop_now_ms() + s->timeout_ms;
	if (watch_for(a, EPOLLOUT) < 0) {
		tcp_failed(a, "connecting to", ENOMEM);
		return;
	}
	arm_timer(a);
}

static void tcp_ready(struct loop_watch *w, uint32_t events)
{
	struct action *a = w->ctx;
	struct syslog *s = a->priv;
	socklen_t len = sizeof(int);
	char sink[512];
	int err = 0;
	ssize_t n;

	if (s->connecting) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			tcp_failed(a, "connecting to", err);
		else
			tcp_connected(a);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		/* A collector says nothing: what it sends is dropped, its close noticed. */
		n = recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0) {
			tcp_failed(a, "connection closed by", ECONNRESET);
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			tcp_failed(a, "connection to", errno);
			return;
		}
	}
	if (events & EPOLLOUT)
		tcp_pump(a);
}

static int tcp_send(struct action *a, const char *msg, size_t len)
{
	struct syslog *s = a->priv;
	struct syslog_queued *q;
	char prefix[24];
	int plen;

	if (s->queued >= s->queue_max) {
		action_dropped(a, s->connected ? "the collector is not reading, the queue is full"
					       : "not connected, the queue is full");
		return 0;
	}
	plen = snprintf(prefix, sizeof(prefix), "%zu ", len);
	q = malloc(sizeof(*q) + plen + len);
	if (!q)
		return -ENOMEM;
	q->next = NULL;
	q->len = plen + len;
	memcpy(q->buf, prefix, plen);
	memcpy(q->buf + plen, msg, len);
	*s->tail = q;
	s->tail = &q->next;
	s->queued++;
	if (s->connected)
		tcp_pump(a);
	else if (!s->connecting && (!s->retry_ms || s->retry_ms <= loop_now_ms()))
		tcp_connect(a);
	else
		arm_timer(a);
	return 0;
}

static int dgram_open(struct action *a)
{
	struct syslog *s = a->priv;

	s->fd = socket(s->addr.sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* Connected, so that a UDP port without a listener reports ECONNREFUSED. */
	if (connect(s->fd, (struct sockaddr *)&s->addr.sa, s->addr.len) < 0) {
		int err = -errno;

		sock_close(a);
		return err;
	}
	return 0;
}

static int dgram_send(struct action *a, const char *msg, size_t len)
{
	struct syslog *s = a->priv;
	int attempt, err = 0;

	for (attempt = 0; attempt < 2; attempt++) {
		if (s->fd < 0 && (err = dgram_open(a)) < 0)
			break;
		if (send(s->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		err = -errno;
		if (err == -EAGAIN || err == -EWOULDBLOCK) {
			action_dropped(a, "the syslog socket's queue is full");
			return 0;
		}
		/*
		 * On UDP the error is an earlier datagram's (the port's ICMP
		 * unreachable): that one is counted lost and this one sent
		 * again. A local syslog daemon that restarted has a new socket
		 * at the path: connect again. Once.
		 */
		if (s->addr.transport == SYSLOG_UDP && err == -ECONNREFUSED && !attempt) {
			action_failed(a, "sending to %s: %s", s->address, strerror(-err));
			continue;
		}
		if (s->addr.transport != SYSLOG_UNIX ||
		    (err != -ECONNREFUSED && err != -ENOTCONN && err != -ECONNRESET))
			break;
		sock_close(a);
	}
	action_failed(a, "sending to %s: %s", s->address, strerror(-err));
	return 0;
}

static int syslog_run(struct action *a, const struct action_input *in)
{
	struct syslog *s = a->priv;
	const char *msg = in->json;
	size_t msg_len = in->json_len;
	bool truncated;
	int r;

	strbuf_reset(&s->msg);
	strbuf_reset(&s->line);
	if (s->fmt.text || !msg) {
		r = s->fmt.text ? event_to_text(in->ev, &s->msg) : event_to_json(in->ev, &s->msg);
		if (r < 0)
			return r;
		msg = s->msg.buf;
		msg_len = s->msg.len;
	}
	r = syslog_format_message(&s->fmt, in->ev, in->rule, msg, msg_len, &s->line, &truncated);
	if (r == -E2BIG) {
		action_failed(a, "the message's header is longer than max_size (%zu bytes)",
			      s->fmt.max_size);
		return 0;
	}
	if (r < 0)
		return r;
	if (s->addr.transport == SYSLOG_TCP)
		return tcp_send(a, s->line.buf, s->line.len);
	return dgram_send(a, s->line.buf, s->line.len);
}

static void syslog_timer(struct action *a, int64_t now_ms)
{
	struct syslog *s = a->priv;

	if (s->connecting && now_ms >= s->deadline_ms)
		tcp_failed(a, "connecting to", ETIMEDOUT);
	else if (!s->connected && !s->connecting && s->head && now_ms >= s->retry_ms)
		tcp_connect(a);
	else
		arm_timer(a);
}

static size_t syslog_pending(const struct action *a)
{
	const struct syslog *s = a->priv;

	return s ? s->queued : 0;
}

static void syslog_release(struct action *a)
{
	struct syslog *s = a->priv;
	struct syslog_queued *q;

	if (!s)
		return;
	sock_close(a);
	while ((q = s->head)) {
		s->head = q->next;
		free(q);
	}
	strbuf_release(&s->msg);
	strbuf_release(&s->line);
	free(s->address);
	free(s);
	a->priv = NULL;
	action_set_timer(a, 0);
}

static int syslog_init(struct action *a, char *err, size_t size)
{
	const char *address = action_setting(a, "address", SYSLOG_DEFAULT_ADDRESS);
	struct syslog *s;
	int64_t ms;
	uint64_t n;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = address_parse(address, &s->addr, err, size);
	if (r < 0) {
		free(s);
		return r;
	}
	s->fd = -1;
	s->tail = &s->head;
	s->watch = (struct loop_watch){ .fd = -1, .fn = tcp_ready, .ctx = a };
	s->address = strdup(address);
	s->fmt.facility = syslog_facility_parse(action_setting(a, "facility",
								SYSLOG_DEFAULT_FACILITY));
	s->fmt.severity = syslog_severity_parse(action_setting(a, "severity",
								SYSLOG_DEFAULT_SEVERITY));
	s->fmt.procid = a->env->daemon_pid;
	s->fmt.text = strcmp(action_setting(a, "format", "json"), "text") == 0;
	s->fmt.max_size = SYSLOG_SIZE_DEFAULT;
	if (config_parse_uint(action_setting(a, "max_size", ""), SYSLOG_SIZE_MAX, &n) == 0 &&
	    n >= SYSLOG_SIZE_MIN)
		s->fmt.max_size = n;
	s->queue_max = SYSLOG_DEFAULT_QUEUE;
	if (config_parse_uint(action_setting(a, "queue", ""), SYSLOG_QUEUE_LIMIT, &n) == 0 && n)
		s->queue_max = n;
	s->timeout_ms = 5000;
	if (config_parse_duration_ms(action_setting(a, "timeout", SYSLOG_DEFAULT_TIMEOUT),
				     &ms) == 0 && ms > 0)
		s->timeout_ms = ms;
	s->backoff_ms = 1000;
	if (config_parse_duration_ms(action_setting(a, "backoff", SYSLOG_DEFAULT_BACKOFF),
				     &ms) == 0 && ms >= 10)
		s->backoff_ms = ms;
	s->backoff_now_ms = s->backoff_ms;
	a->priv = s;
	if (!s->address || s->fmt.facility < 0 || s->fmt.severity < 0) {
		r = s->address ? -EINVAL : -ENOMEM;
		syslog_release(a);
		return r;
	}
	return 0;
}

const struct action_ops syslog_action = {
	.name = "syslog",
	.summary = "send the event as an RFC 5424 message to /dev/log, or over UDP or TCP",
	.keys = syslog_keys,
	.check = syslog_check,
	.init = syslog_init,
	.release = syslog_release,
	.run = syslog_run,
	.timer = syslog_timer,
	.pending = syslog_pending,
};
