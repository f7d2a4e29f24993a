// SPDX-License-Identifier: MIT
/*
 * webhook: POSTs each event to the section's `url` over HTTP(S), as the
 * event's JSON object (`format = json`) or as a Slack-compatible
 * {"text": "..."} with a one-line summary (`format = slack`).
 *
 * Never blocks the loop: transfers run on libcurl's multi interface, its
 * sockets watched by the daemon's epoll loop and its timeouts driven by the
 * action's timer. A POST that gets no 2xx answer (or no answer) is tried
 * again after `backoff`, doubling each time, until `retries` more attempts
 * failed; then it counts as one failure. At most `max_in_flight` POSTs run
 * at once and `queue` more wait (for a slot or for their next attempt);
 * events beyond that are dropped and counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <dlfcn.h>

#include <curl/curl.h>
#include <jansson.h>

#include "action.h"
#include "lib/strbuf.h"
#include "actions/jobs.h"

/*
 * libcurl is loaded when the first webhook is set up, not linked: every
 * other bpfd command, the client's above all, would otherwise pay for
 * loading it and the thirty-odd libraries it needs at each start (~9 ms
 * here). As with libbcc (bcc_backend.c), curl.h serves only for the
 * prototypes and constants; these functions are resolved with dlsym(),
 * and called as curl.NAME for curl_NAME.
 */
#define WEBHOOK_LIBCURL "libcurl.so.4"

#define CURL_SYMBOLS(X)                                                                            \
	X(global_init) X(easy_init) X(easy_cleanup) X(easy_setopt) X(easy_getinfo)                 \
	X(easy_strerror) X(multi_init) X(multi_cleanup) X(multi_add_handle)                        \
	X(multi_remove_handle) X(multi_assign) X(multi_info_read) X(multi_setopt)                  \
	X(multi_socket_action) X(multi_strerror) X(slist_append) X(slist_free_all)

static struct {
#define CURL_MEMBER(fn) __typeof__(&curl_##fn) fn;
	CURL_SYMBOLS(CURL_MEMBER)
#undef CURL_MEMBER
} curl;

/* Loads and initialises libcurl once per process; never undone (exit does). */
static int curl_load(char *err, size_t size)
{
	static bool loaded;
	const char *missing = NULL;
	void *lib;

	if (loaded)
		return 0;
	lib = dlopen(WEBHOOK_LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, size, "the webhook action needs libcurl: %s (Debian: apt-get install "
			 "libcurl4)", dlerror());
		return -ENOENT;
	}
#define CURL_RESOLVE(fn)                                                                           \
	curl.fn = (__typeof__(curl.fn))dlsym(lib, "curl_" #fn);                                   \
	if (!curl.fn && !missing)                                                                  \
		missing = "curl_" #fn;
	CURL_SYMBOLS(CURL_RESOLVE)
#undef CURL_RESOLVE
	if (missing) {
		snprintf(err, size, "%s has no %s", WEBHOOK_LIBCURL, missing);
		dlclose(lib);
		return -ENOENT;
	}
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, size, "libcurl failed to initialise");
		dlclose(lib);
		return -EIO;
	}
	loaded = true;
	return 0;
}

#ifndef BPFD_PROJECT_VERSION
#define BPFD_PROJECT_VERSION ""
#endif

enum {
	WEBHOOK_DEFAULT_RETRIES = 3,
	WEBHOOK_DEFAULT_QUEUE = 1000,
	WEBHOOK_DEFAULT_IN_FLIGHT = 4,
	WEBHOOK_RETRIES_LIMIT = 100,
	WEBHOOK_QUEUE_LIMIT = 100000,
	WEBHOOK_IN_FLIGHT_LIMIT = 64,
	WEBHOOK_BACKOFF_MAX_MS = 60000,
	WEBHOOK_ANSWER_KEPT = 120,	/* bytes of a failed answer quoted in the log */
	WEBHOOK_SLACK_VALUE_MAX = 300,	/* bytes of one data value in a Slack summary */
};
#define WEBHOOK_DEFAULT_TIMEOUT "5s"
#define WEBHOOK_DEFAULT_BACKOFF "1s"

/* One event to deliver, from run() until it succeeded or failed for good. */
struct webhook_post {
	struct job job;			/* its place in the queue; deferred: its next attempt */
	char *body;
	size_t len;
	CURL *easy;			/* made at the first attempt, reused after */
	unsigned attempts;
	char error[CURL_ERROR_SIZE];
	char answer[WEBHOOK_ANSWER_KEPT + 1];	/* the start of the response body */
	size_t answer_len;
};

/*
 * A socket curl asked us to watch. Freed as soon as curl is done with it,
 * even from another socket's callback: loop_remove() drops its events still
 * waiting in the batch being dispatched.
 */
struct webhook_socket {
	struct webhook_socket *next;
	struct action *a;
	struct loop_watch watch;
};

struct webhook {
	char *url;
	char *url_shown;		/* scheme://host[:port]: the path may be a secret */
	bool slack, insecure;
	int64_t timeout_ms, backoff_ms;
	unsigned retries;
	struct curl_slist *headers;

	CURLM *multi;
	int64_t curl_due_ms;		/* when curl wants its timeout run; 0: never */
	bool closing;			/* release() is tearing the multi handle down */
	/*
	 * `max_in_flight` slots; `queue` posts ready and waiting for one or
	 * deferred to their next attempt.
	 */
	struct job_queue jobs;
	struct webhook_socket *sockets;
};

static const char *const webhook_keys[] = {
	"url", "format", "timeout", "retries", "backoff", "queue", "max_in_flight", "header",
	"insecure", NULL
};

/* The part of an http(s) URL after "://", or NULL for any other URL. */
static const char *url_rest(const char *url)
{
	if (strncasecmp(url, "http://", 7) == 0)
		return url + 7;
	if (strncasecmp(url, "https://", 8) == 0)
		return url + 8;
	return NULL;
}

static int webhook_check(const char *key, const char *value, char *err, size_t size)
{
	const char *rest, *p;
	int64_t ms;
	uint64_t n;
	bool b;

	if (strcmp(key, "url") == 0) {
		rest = url_rest(value);
		if (!rest || !*rest || *rest == '/') {
			snprintf(err, size, "url: \"%s\" is not an http:// or https:// URL", value);
			return -EINVAL;
		}
		for (p = value; *p; p++) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				snprintf(err, size, "url: \"%s\" has spaces or control characters "
					 "(percent-encode them)", value);
				return -EINVAL;
			}
		}
	}
	if (strcmp(key, "format") == 0 && strcmp(value, "json") && strcmp(value, "slack")) {
		snprintf(err, size, "format: \"%s\" is not json or slack", value);
		return -EINVAL;
	}
	if (strcmp(key, "timeout") == 0 && (config_parse_duration_ms(value, &ms) < 0 || !ms)) {
		snprintf(err, size, "timeout: \"%s\" is not a duration like 5s", value);
		return -EINVAL;
	}
	if (strcmp(key, "backoff") == 0 && config_parse_duration_ms(value, &ms) < 0) {
		snprintf(err, size, "backoff: \"%s\" is not a duration like 1s", value);
		return -EINVAL;
	}
	if (strcmp(key, "retries") == 0 &&
	    config_parse_uint(value, WEBHOOK_RETRIES_LIMIT, &n) < 0) {
		snprintf(err, size, "retries: \"%s\" is not a number from 0 to %d", value,
			 WEBHOOK_RETRIES_LIMIT);
		return -EINVAL;
	}
	if (strcmp(key, "queue") == 0 && config_parse_uint(value, WEBHOOK_QUEUE_LIMIT, &n) < 0) {
		snprintf(err, size, "queue: \"%s\" is not a number from 0 to %d", value,
			 WEBHOOK_QUEUE_LIMIT);
		return -EINVAL;
	}
	if (strcmp(key, "max_in_flight") == 0 &&
	    (config_parse_uint(value, WEBHOOK_IN_FLIGHT_LIMIT, &n) < 0 || !n)) {
		snprintf(err, size, "max_in_flight: \"%s\" is not a number from 1 to %d", value,
			 WEBHOOK_IN_FLIGHT_LIMIT);
		return -EINVAL;
	}
	if (strcmp(key, "header") == 0) {
		p = strchr(value, ':');
		if (!p || p == value || strpbrk(value, "\r\n")) {
			snprintf(err, size, "header: \"%s\" is not one line like "
				 "\"Authorization: Bearer TOKEN\"", value);
			return -EINVAL;
		}
	}
	if (strcmp(key, "insecure") == 0 && config_parse_bool(value, &b) < 0) {
		snprintf(err, size, "insecure: \"%s\" is not true or false", value);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Curl's sockets and timer on the daemon's loop                        */

static void drain(struct action *a);
static void arm_timer(struct action *a);

static void socket_ready(struct loop_watch *lw, uint32_t events)
{
	struct webhook_socket *ws = lw->ctx;
	struct action *a = ws->a;
	struct webhook *w = a->priv;
	int flags = 0, running;

	if (events & (EPOLLIN | EPOLLHUP))
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & EPOLLERR)
		flags |= CURL_CSELECT_ERR;
	curl.multi_socket_action(w->multi, lw->fd, flags, &running);
	drain(a);
}

static void socket_free(struct action *a, struct webhook_socket *ws)
{
	struct webhook *w = a->priv;
	struct webhook_socket **p;

	loop_remove(a->env->loop, &ws->watch);
	for (p = &w->sockets; *p; p = &(*p)->next) {
		if (*p == ws) {
			*p = ws->next;
			break;
		}
	}
	free(ws);
}

/* CURLMOPT_SOCKETFUNCTION: what to watch on socket @s. */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct action *a = userp;
	struct webhook *w = a->priv;
	struct webhook_socket *ws = socketp;
	uint32_t events = 0;
	int r;

	(void)easy;
	if (w->closing)
		return 0;
	if (what == CURL_POLL_REMOVE) {
		if (ws)
			socket_free(a, ws);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (ws) {
		r = loop_modify(a->env->loop, &ws->watch, events);
		/*
		 * Curl (7.88's resolver) may close a socket before it says so, and
		 * its next socket can get the same number: epoll forgot the old.
		 */
		if (r == -ENOENT)
			r = loop_add(a->env->loop, &ws->watch, events);
		return r < 0 ? -1 : 0;
	}

	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -1;
	ws->a = a;
	ws->watch = (struct loop_watch){ .fd = s, .fn = socket_ready, .ctx = ws };
	r = loop_add(a->env->loop, &ws->watch, events);
	if (r < 0) {
		free(ws);
		return -1;
	}
	ws->next = w->sockets;
	w->sockets = ws;
	curl.multi_assign(w->multi, s, ws);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: run curl's timeout in @timeout_ms, -1: never. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct action *a = userp;
	struct webhook *w = a->priv;

	(void)multi;
	w->curl_due_ms = timeout_ms < 0 ? 0 : loop_now_ms() + timeout_ms;
	if (!w->closing)
		arm_timer(a);
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: curl's sockets must not leak into `exec` commands. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	(void)clientp;
	(void)purpose;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* CURLOPT_WRITEFUNCTION: the answer's start is kept for the log, the rest dropped. */
static size_t keep_answer(char *data, size_t size, size_t n, void *userp)
{
	struct webhook_post *p = userp;
	size_t len = size * n, room = WEBHOOK_ANSWER_KEPT - p->answer_len, i;

	for (i = 0; i < len && i < room; i++) {
		unsigned char c = data[i];

		p->answer[p->answer_len++] = c < ' ' || c == 0x7f ? ' ' : c;
	}
	p->answer[p->answer_len] = '\0';
	return len;
}

/* ------------------------------------------------------------------ */
/* Posts                                                                */

static void post_free(struct webhook_post *p)
{
	if (!p)
		return;
	if (p->easy)
		curl.easy_cleanup(p->easy);
	free(p->body);
	free(p);
}

static int post_setup(struct action *a, struct webhook_post *p)
{
	struct webhook *w = a->priv;
	CURL *e = curl.easy_init();

	if (!e)
		return -ENOMEM;
	p->easy = e;
	curl.easy_setopt(e, CURLOPT_URL, w->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl.easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl.easy_setopt(e, CURLOPT_POST, 1L);
	curl.easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
	curl.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
	curl.easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
	curl.easy_setopt(e, CURLOPT_USERAGENT, "bpfd/" BPFD_PROJECT_VERSION);
	/* The daemon's signals go through a signalfd: curl must not touch them. */
	curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl.easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_answer);
	curl.easy_setopt(e, CURLOPT_WRITEDATA, p);
	curl.easy_setopt(e, CURLOPT_ERRORBUFFER, p->error);
	curl.easy_setopt(e, CURLOPT_PRIVATE, p);
	if (w->insecure) {
		curl.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
}

/* Starts queued posts while there is a free slot. */
static void start_queued(struct action *a)
{
	struct webhook *w = a->priv;
	struct webhook_post *p;
	struct job *q;
	CURLMcode mc;

	while ((q = job_queue_take(&w->jobs))) {
		p = job_of(q, struct webhook_post, job);
		if (!p->easy && post_setup(a, p) < 0) {
			action_failed(a, "POST %s: out of memory", w->url_shown);
			post_free(p);
			continue;
		}
		p->error[0] = '\0';
		p->answer[0] = '\0';
		p->answer_len = 0;
		p->attempts++;
		mc = curl.multi_add_handle(w->multi, p->easy);
		if (mc != CURLM_OK) {
			action_failed(a, "POST %s: %s", w->url_shown, curl.multi_strerror(mc));
			post_free(p);
			continue;
		}
		/* Curl's own timeout (`timeout`) ends it: no deadline of the queue's. */
		job_queue_run(&w->jobs, &p->job, 0);
	}
}

/* The wait before attempt @attempts + 1: backoff, doubled each time, capped. */
static int64_t retry_delay(const struct webhook *w, unsigned attempts)
{
	int64_t d = w->backoff_ms;
	unsigned i;

	for (i = 1; i < attempts && d < WEBHOOK_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < WEBHOOK_BACKOFF_MAX_MS ? d : WEBHOOK_BACKOFF_MAX_MS;
}

/* A finished attempt: done, tried again later, or failed for good. */
static void attempt_done(struct action *a, struct webhook_post *p, CURLcode result, long code)
{
	struct webhook *w = a->priv;
	char why[CURL_ERROR_SIZE + WEBHOOK_ANSWER_KEPT + 32];

	if (result == CURLE_OK && code >= 200 && code < 300) {
		post_free(p);
		return;
	}
	if (p->attempts <= w->retries) {
		job_queue_defer(&w->jobs, &p->job, loop_now_ms() + retry_delay(w, p->attempts));
		return;
	}
	if (result != CURLE_OK)
		snprintf(why, sizeof(why), "%s", p->error[0] ? p->error
							     : curl.easy_strerror(result));
	else if (p->answer_len)
		snprintf(why, sizeof(why), "HTTP %ld: %s", code, p->answer);
	else
		snprintf(why, sizeof(why), "HTTP %ld", code);
	action_failed(a, "POST %s: %s (%u attempt%s)", w->url_shown, why, p->attempts,
		      p->attempts == 1 ? "" : "s");
	post_free(p);
}

/* The action's timer: the earlier of curl's timeout and the next retry. */
static void arm_timer(struct action *a)
{
	struct webhook *w = a->priv;
	int64_t next = w->curl_due_ms, retry = job_queue_next(&w->jobs);

	if (retry && (!next || retry < next))
		next = retry;
	action_set_timer(a, next);
}

/* After curl ran: handles finished transfers, starts waiting ones. */
static void drain(struct action *a)
{
	struct webhook *w = a->priv;
	struct webhook_post *p;
	CURLMsg *msg;
	CURLcode result;
	CURL *easy;
	long code;
	int left;

	while ((msg = curl.multi_info_read(w->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is only valid until the handle is removed. */
		easy = msg->easy_handle;
		result = msg->data.result;
		p = NULL;
		code = 0;
		curl.easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&p);
		curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
		curl.multi_remove_handle(w->multi, easy);
		job_queue_done(&w->jobs, &p->job);
		attempt_done(a, p, result, code);
	}
	start_queued(a);
	arm_timer(a);
}

static void webhook_timer(struct action *a, int64_t now_ms)
{
	struct webhook *w = a->priv;
	int running;

	if (w->curl_due_ms && w->curl_due_ms <= now_ms) {
		/* Cleared first: curl sets its next timeout while it runs. */
		w->curl_due_ms = 0;
		curl.multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	job_queue_due(&w->jobs, now_ms);
	drain(a);
}

/* ------------------------------------------------------------------ */
/* Bodies                                                               */

/*
 * Appends @s (@len bytes of valid UTF-8) to @sb for a Slack "text": on one
 * line, at most @max bytes (cut on a character boundary), with the three
 * characters Slack's markup reserves escaped.
 */
static int add_slack_text(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	size_t i;
	int r = 0;

	if (len > max) {
		len = max;
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len && !r; i++) {
		switch (s[i]) {
		case '&': r = strbuf_addstr(sb, "&amp;"); break;
		case '<': r = strbuf_addstr(sb, "&lt;"); break;
		case '>': r = strbuf_addstr(sb, "&gt;"); break;
		case '\n': case '\r': case '\t': r = strbuf_addch(sb, ' '); break;
		default: r = strbuf_addch(sb, s[i]); break;
		}
	}
	if (!r && len < strlen(s))
		r = strbuf_addstr(sb, "…");
	return r;
}

static const char *json_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/*
 * {"text": "..."} for Slack: one line saying which rule matched what,
 * taken from the event's JSON (valid UTF-8 already, unlike raw data).
 */
static int slack_body(const char *event_json, size_t len, char **out, size_t *out_len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *ev, *rules, *data, *v, *body;
	const char *runtime, *key, *s, *sep;
	size_t i, n;
	int r = 0;

	ev = json_loadb(event_json, len, 0, NULL);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return -EINVAL;
	}
	r |= strbuf_addf(&sb, "bpfd on %s: ", json_str(ev, "hostname"));
	rules = json_object_get(ev, "rules");
	n = json_array_size(rules);
	if (n)
		r |= strbuf_addstr(&sb, n > 1 ? "rules " : "rule ");
	json_array_foreach(rules, i, v) {
		r |= strbuf_addstr(&sb, i ? ", " : "");
		s = json_string_value(v);
		if (s)
			r |= add_slack_text(&sb, s, strlen(s), WEBHOOK_SLACK_VALUE_MAX);
	}
	r |= strbuf_addstr(&sb, n ? ": " : "");
	s = json_str(ev, "command");
	r |= strbuf_addf(&sb, "%s by ", json_str(ev, "tracer"));
	r |= add_slack_text(&sb, s, strlen(s), WEBHOOK_SLACK_VALUE_MAX);
	r |= strbuf_addf(&sb, " (pid %lld, uid %lld)",
			 (long long)json_integer_value(json_object_get(ev, "pid")),
			 (long long)json_integer_value(json_object_get(ev, "uid")));
	runtime = json_str(ev, "container_runtime");
	if (*runtime && strcmp(runtime, "not-found") != 0) {
		/* Twelve characters, as `docker ps` shows ids. */
		r |= strbuf_addf(&sb, " in %s container %.12s", runtime,
				 json_str(ev, "container_id"));
	}
	data = json_object_get(ev, "data");
	sep = ": ";
	json_object_foreach(data, key, v) {
		s = json_string_value(v);
		/* Said already, or nothing to say: a successful exec or open. */
		if (!s || strcmp(key, "command") == 0 ||
		    (strcmp(key, "returnval") == 0 && strcmp(s, "0") == 0))
			continue;
		r |= strbuf_addf(&sb, "%s%s=", sep, key);
		sep = " ";
		r |= add_slack_text(&sb, s, strlen(s), WEBHOOK_SLACK_VALUE_MAX);
	}
	json_decref(ev);
	if (r) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	body = json_pack("{s:s%}", "text", sb.buf, sb.len);
	strbuf_release(&sb);
	*out = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!*out)
		return -ENOMEM;
	*out_len = strlen(*out);
	return 0;
}

static int webhook_run(struct action *a, const struct action_input *in)
{
	struct webhook *w = a->priv;
	struct strbuf sb = STRBUF_INIT;
	struct webhook_post *p;
	const char *json = in->json;
	size_t json_len = in->json_len;
	int r;

	if (job_queue_full(&w->jobs)) {
		action_dropped(a, "queue full");
		return 0;
	}
	if (!json) {
		if (event_to_json(in->ev, &sb) < 0) {
			strbuf_release(&sb);
			return -ENOMEM;
		}
		json = sb.buf;
		json_len = sb.len;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	if (w->slack) {
		r = slack_body(json, json_len, &p->body, &p->len);
	} else {
		p->body = malloc(json_len);
		r = p->body ? 0 : -ENOMEM;
		if (p->body)
			memcpy(p->body, json, json_len);
		p->len = json_len;
	}
	strbuf_release(&sb);
	if (r < 0) {
		post_free(p);
		return r;
	}
	job_queue_push(&w->jobs, &p->job);
	start_queued(a);
	arm_timer(a);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Instances                                                            */

/* "https://hooks.example.com" of "https://user:pw@hooks.example.com/T0/B0/secret". */
static char *url_origin(const char *url)
{
	const char *rest = url_rest(url), *end, *at;
	char *s;

	end = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', end - rest);
	if (at)
		rest = at + 1;
	if (asprintf(&s, "%.*s%.*s", (int)(url_rest(url) - url), url, (int)(end - rest),
		     rest) < 0)
		return NULL;
	return s;
}

static void webhook_release(struct action *a)
{
	struct webhook *w = a->priv;
	struct job *q, *next;

	if (!w)
		return;
	for (q = w->jobs.running; q; q = next) {
		next = q->next;
		curl.multi_remove_handle(w->multi, job_of(q, struct webhook_post, job)->easy);
		post_free(job_of(q, struct webhook_post, job));
	}
	for (q = w->jobs.waiting; q; q = next) {
		next = q->next;
		post_free(job_of(q, struct webhook_post, job));
	}
	for (q = w->jobs.deferred; q; q = next) {
		next = q->next;
		post_free(job_of(q, struct webhook_post, job));
	}
	/*
	 * Curl still owns the sockets of connections it keeps for reuse and
	 * closes them in curl_multi_cleanup(): off the loop first, while their
	 * fds are surely theirs.
	 */
	while (w->sockets)
		socket_free(a, w->sockets);
	w->closing = true;
	if (w->multi)
		curl.multi_cleanup(w->multi);
	curl.slist_free_all(w->headers);
	free(w->url_shown);
	free(w->url);
	free(w);
	a->priv = NULL;
	action_set_timer(a, 0);
}

static int webhook_init(struct action *a, char *err, size_t size)
{
	const char *url = action_setting(a, "url", NULL), *header;
	struct curl_slist *h;
	struct webhook *w;
	size_t queue_max, max_in_flight;
	int64_t ms;
	uint64_t n;
	int r;

	if (!url) {
		snprintf(err, size, "no `url` in [%s] of the config", a->name);
		return -EINVAL;
	}
	if (!url_rest(url)) {
		snprintf(err, size, "url: \"%s\" is not an http:// or https:// URL", url);
		return -EINVAL;
	}
	/* Once per process, and only when a webhook is used. */
	r = curl_load(err, size);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	a->priv = w;
	/* Copies: the config the settings live in may go while the instance stays. */
	w->url = strdup(url);
	w->url_shown = url_origin(url);
	w->slack = strcmp(action_setting(a, "format", "json"), "slack") == 0;
	config_parse_bool(action_setting(a, "insecure", "false"), &w->insecure);
	w->timeout_ms = 5000;
	if (config_parse_duration_ms(action_setting(a, "timeout", WEBHOOK_DEFAULT_TIMEOUT),
				     &ms) == 0 && ms > 0)
		w->timeout_ms = ms;
	w->backoff_ms = 1000;
	if (config_parse_duration_ms(action_setting(a, "backoff", WEBHOOK_DEFAULT_BACKOFF),
				     &ms) == 0)
		w->backoff_ms = ms;
	w->retries = WEBHOOK_DEFAULT_RETRIES;
	if (config_parse_uint(action_setting(a, "retries", ""), WEBHOOK_RETRIES_LIMIT, &n) == 0)
		w->retries = n;
	queue_max = WEBHOOK_DEFAULT_QUEUE;
	if (config_parse_uint(action_setting(a, "queue", ""), WEBHOOK_QUEUE_LIMIT, &n) == 0)
		queue_max = n;
	max_in_flight = WEBHOOK_DEFAULT_IN_FLIGHT;
	if (config_parse_uint(action_setting(a, "max_in_flight", ""), WEBHOOK_IN_FLIGHT_LIMIT,
			      &n) == 0 && n)
		max_in_flight = n;
	job_queue_init(&w->jobs, max_in_flight, queue_max);

	/* Curl would wait for "100 Continue" before sending a larger body. */
	w->headers = h = curl.slist_append(NULL, "Content-Type: application/json");
	if (h)
		h = curl.slist_append(w->headers, "Expect:");
	header = action_setting(a, "header", NULL);
	if (h && header)
		h = curl.slist_append(w->headers, header);
	w->multi = curl.multi_init();
	if (!w->url || !w->url_shown || !h || !w->multi) {
		webhook_release(a);
		return -ENOMEM;
	}
	curl.multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl.multi_setopt(w->multi, CURLMOPT_SOCKETDATA, a);
	curl.multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl.multi_setopt(w->multi, CURLMOPT_TIMERDATA, a);
	return 0;
}

static size_t webhook_pending(const struct action *a)
{
	const struct webhook *w = a->priv;

	return w ? job_queue_pending(&w->jobs) : 0;
}

const struct action_ops webhook_action = {
	.name = "webhook",
	.summary = "POST the event as JSON (or a Slack message) to a URL, with retries",
	.keys = webhook_keys,
	.check = webhook_check,
	.init = webhook_init,
	.release = webhook_release,
	.run = webhook_run,
	.timer = webhook_timer,
	.pending = webhook_pending,
};
