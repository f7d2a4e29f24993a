// SPDX-License-Identifier: MIT
/*
 * The client commands: they talk to the daemon over the control socket
 * (or, for `tracers` and `version`, answer from what is compiled in) and
 * print text or, with --json, JSON.
 */
#define _GNU_SOURCE
#include "cli/client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/replies.h"
#include "event.h"
#include "ipc.h"
#include "action.h"
#include "config.h"
#include "rules.h"
#include "lib/strbuf.h"
#include "tracer.h"

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s)
		printf("%s\n", s);
	free(s);
}

/* One line of a table: printf, without the blanks an empty last column leaves. */
static void __attribute__((format(printf, 1, 2))) table_row(const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	if (r >= 0) {
		while (line.len && line.buf[line.len - 1] == ' ')
			line.len--;
		printf("%.*s\n", (int)line.len, line.buf);
	}
	strbuf_release(&line);
}

static int connect_daemon(const struct cli *cli)
{
	int fd = ipc_connect(cli->socket_path);

	if (fd < 0)
		fprintf(stderr, "bpfd: cannot reach the daemon at %s: %s\n", cli->socket_path,
			strerror(-fd));
	return fd;
}

/*
 * A reply in several frames (list_rules: every frame but the last says
 * "more"): appends the arrays of @next to those of @reply. 1 when more
 * frames follow, 0 on the last, -EPROTO when @next is not a part.
 */
static int merge_part(json_t *reply, json_t *next)
{
	const char *key;
	json_t *v;

	if (!json_is_true(json_object_get(next, "ok")))
		return -EPROTO;
	json_object_foreach(next, key, v)
		if (json_is_array(v) && json_array_extend(json_object_get(reply, key), v) < 0)
			return -EPROTO;
	return json_is_true(json_object_get(next, "more"));
}

/* Receives one reply, all its frames: 1, or what ipc_recv_frame() failed with. */
static int recv_reply(int fd, struct ipc_reader *r, json_t **reply, json_error_t *jerr)
{
	struct strbuf frame = STRBUF_INIT;
	json_t *next;
	int rc = ipc_recv_frame(fd, r, &frame);

	*reply = rc == 1 ? json_loadb(frame.buf, frame.len, 0, jerr) : NULL;
	while (*reply && json_is_true(json_object_get(*reply, "more"))) {
		rc = ipc_recv_frame(fd, r, &frame);
		if (rc != 1) {
			rc = rc ? rc : -EPROTO;
			break;
		}
		next = json_loadb(frame.buf, frame.len, 0, jerr);
		rc = next ? merge_part(*reply, next) : -EPROTO;
		json_decref(next);
		if (rc < 0)
			break;
		if (rc == 0)
			json_object_del(*reply, "more");
		rc = 1;
	}
	if (rc != 1) {
		json_decref(*reply);
		*reply = NULL;
	}
	strbuf_release(&frame);
	return rc;
}

/*
 * Sends @request and returns the reply (NULL after printing why). With
 * @quiet, an unreachable daemon is not reported.
 */
static json_t *request(const struct cli *cli, json_t *req, bool quiet)
{
	struct ipc_reader r;
	json_error_t jerr = { .text = "" };
	json_t *reply = NULL;
	char *text;
	int fd, rc;

	fd = quiet ? ipc_connect(cli->socket_path) : connect_daemon(cli);
	if (fd < 0)
		return NULL;
	text = json_dumps(req, JSON_COMPACT);
	ipc_reader_init(&r, IPC_FRAME_MAX);
	rc = text ? ipc_send_frame(fd, text, strlen(text)) : -ENOMEM;
	if (rc == 0)
		rc = recv_reply(fd, &r, &reply, &jerr);
	if (rc == 1) {
		if (!reply && !quiet)
			fprintf(stderr, "bpfd: bad reply from the daemon: %s\n", jerr.text);
	} else if (!quiet) {
		fprintf(stderr, "bpfd: no reply from the daemon at %s: %s\n", cli->socket_path,
			rc == 0 ? "connection closed" : strerror(-rc));
	}
	free(text);
	ipc_reader_release(&r);
	close(fd);
	return reply;
}

/* True for {"ok":true}; otherwise prints the error. */
static bool reply_ok(json_t *reply)
{
	json_t *err;

	if (json_is_true(json_object_get(reply, "ok")))
		return true;
	err = json_object_get(reply, "error");
	fprintf(stderr, "bpfd: %s\n", json_is_string(err) ? json_string_value(err)
							  : "the daemon refused the request");
	return false;
}

int cmd_version(const struct cli *cli)
{
	json_t *local = reply_version(NULL);
	json_t *req = json_pack("{s:s}", "op", "version");
	json_t *remote = request(cli, req, true);

	json_decref(req);
	if (remote && !json_is_true(json_object_get(remote, "ok"))) {
		json_decref(remote);
		remote = NULL;
	}
	if (cli->json) {
		json_t *out = json_pack("{s:O, s:O}", "client", local, "daemon",
					remote ? remote : json_null());

		json_object_del(json_object_get(out, "client"), "ok");
		if (remote)
			json_object_del(json_object_get(out, "daemon"), "ok");
		print_json(out);
		json_decref(out);
	} else {
		printf("bpfd %s (commit %s)\nbcc: %s (built against)\nkernel: %s\n",
		       json_string_value(json_object_get(local, "version")),
		       json_string_value(json_object_get(local, "commit")),
		       json_string_value(json_object_get(local, "bcc")),
		       json_string_value(json_object_get(local, "kernel")));
		if (remote)
			printf("daemon: bpfd %s (commit %s), bcc %s, at %s\n",
			       json_string_value(json_object_get(remote, "version")),
			       json_string_value(json_object_get(remote, "commit")),
			       json_string_value(json_object_get(remote, "bcc")), cli->socket_path);
		else
			printf("daemon: not reachable at %s\n", cli->socket_path);
	}
	json_decref(local);
	json_decref(remote);
	return 0;
}

static const char *jstr(json_t *o, const char *key);

static void print_joined(const char *label, json_t *arr)
{
	size_t i;
	json_t *v;

	printf("  %-12s", label);
	json_array_foreach(arr, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\n");
}

/*
 * The running daemon's tracers (the built-ins and its drop-ins), else,
 * when no daemon answers, the built-ins this binary has.
 */
int cmd_tracers(const struct cli *cli)
{
	json_t *req = json_pack("{s:s}", "op", "tracers");
	json_t *reply = req ? request(cli, req, true) : NULL, *t;
	size_t i;

	json_decref(req);
	if (!reply || !json_is_true(json_object_get(reply, "ok"))) {
		json_decref(reply);
		reply = reply_tracers();
	}

	if (cli->json) {
		json_object_del(reply, "ok");
		print_json(reply);
	} else {
		json_array_foreach(json_object_get(reply, "tracers"), i, t) {
			printf("%s%s\n  %-12s%s\n", i ? "\n" : "",
			       json_string_value(json_object_get(t, "name")), "description",
			       json_string_value(json_object_get(t, "description")));
			print_joined("hooks", json_object_get(t, "hooks"));
			print_joined("keys", json_object_get(t, "keys"));
			if (json_object_get(t, "source"))
				printf("  %-12s%s\n", "source", jstr(t, "source"));
			if (json_object_get(t, "error"))
				printf("  %-12s%s\n", "error", jstr(t, "error"));
		}
	}
	json_decref(reply);
	return 0;
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int cmd_status(const struct cli *cli)
{
	json_t *req = json_pack("{s:s}", "op", "status");
	json_t *reply = request(cli, req, false), *v, *ev;
	size_t i;

	json_decref(req);
	if (!reply)
		return 1;
	if (!reply_ok(reply)) {
		json_decref(reply);
		return 1;
	}
	if (cli->json) {
		print_json(reply);
		json_decref(reply);
		return 0;
	}
	ev = json_object_get(reply, "events");
	printf("daemon: pid %lld, up %.1f s\n", (long long)jint(reply, "pid"),
	       json_number_value(json_object_get(reply, "uptime_s")));
	printf("events: %lld seen, %lld matched, %lld lost\n\n", (long long)jint(ev, "seen"),
	       (long long)jint(ev, "matched"), (long long)jint(ev, "lost"));
	table_row("%-18s %-9s %12s %12s %10s %12s  %s", "TRACER", "STATE", "EVENTS", "MATCHED",
	       "LOST", "PREFILTERED", "ERROR");
	json_array_foreach(json_object_get(reply, "tracers"), i, v) {
		char pf[32] = "off";

		if (json_is_true(json_object_get(v, "prefilter")) || jint(v, "prefiltered"))
			snprintf(pf, sizeof(pf), "%lld", (long long)jint(v, "prefiltered"));
		table_row("%-18s %-9s %12lld %12lld %10lld %12s  %s", jstr(v, "name"),
		       jstr(v, "state"), (long long)jint(v, "events"), (long long)jint(v, "matched"),
		       (long long)jint(v, "lost"), pf, jstr(v, "error"));
	}
	/* Tracers that aggregate in the kernel: one line each. */
	json_array_foreach(json_object_get(reply, "tracers"), i, v) {
		json_t *agg = json_object_get(v, "aggregated");

		if (agg && !strcmp(jstr(v, "state"), "loaded"))
			printf("%s aggregated: %lld events into %lld records, %lld not kept (map "
			       "full)\n",
			       jstr(v, "name"), (long long)jint(agg, "events"),
			       (long long)jint(agg, "records"), (long long)jint(agg, "full"));
	}
	/* What goes through io_uring: seen, or why not (docs/tracers.md). */
	v = json_object_get(reply, "io_uring");
	if (v && json_is_true(json_object_get(v, "seen")))
		printf("io_uring: seen (opens, connects, accepts)\n");
	else if (v)
		printf("io_uring: not seen: %s\n", jstr(v, "reason"));
	printf("\n");
	table_row("%-22s %10s %10s %11s %9s %9s  %s", "ACTION", "RUNS", "FAILURES", "SUPPRESSED",
	       "DROPPED", "PENDING", "ERROR");
	json_array_foreach(json_object_get(reply, "actions"), i, v)
		table_row("%-22s %10lld %10lld %11lld %9lld %9lld  %s", jstr(v, "name"),
		       (long long)jint(v, "runs"), (long long)jint(v, "failures"),
		       (long long)jint(v, "suppressed"), (long long)jint(v, "dropped"),
		       (long long)jint(v, "pending"), jstr(v, "error"));
	v = json_object_get(reply, "rules");
	if (v) {
		static const char *const prios[] = { "critical", "error", "warning", "notice",
						     "info", "debug" };

		printf("\nrules: %lld active (", (long long)jint(v, "active"));
		for (i = 0; i < 6; i++)
			printf("%s%s %lld", i ? ", " : "", prios[i],
			       (long long)jint(json_object_get(v, "by_priority"), prios[i]));
		printf("); events matched by priority:");
		for (i = 0; i < 6; i++)
			printf("%s %s %lld", i ? "," : "", prios[i],
			       (long long)jint(json_object_get(v, "matched_by_priority"), prios[i]));
		printf("\n");
	}
	printf("\nsubscribers: %zu\n", json_array_size(json_object_get(reply, "subscribers")));
	json_array_foreach(json_object_get(reply, "subscribers"), i, v) {
		struct strbuf tags = STRBUF_INIT;
		json_t *t;
		size_t k;

		json_array_foreach(json_object_get(v, "tags"), k, t)
			if (strbuf_addf(&tags, "%s%s", k ? "," : "", json_string_value(t)) < 0)
				break;
		printf("  #%lld tracer=%s rule=%s container=%s priority=%s tags=%s sent=%lld "
		       "dropped=%lld\n",
		       (long long)jint(v, "id"), *jstr(v, "tracer") ? jstr(v, "tracer") : "*",
		       *jstr(v, "rule") ? jstr(v, "rule") : "*",
		       *jstr(v, "container") ? jstr(v, "container") : "*",
		       *jstr(v, "priority") ? jstr(v, "priority") : "*",
		       tags.buf ? tags.buf : "*",
		       (long long)jint(v, "sent"), (long long)jint(v, "dropped"));
		strbuf_release(&tags);
	}
	v = json_object_get(reply, "cgroup_cache");
	printf("cgroup cache: %lld of %lld entries, %lld hits, %lld misses\n",
	       (long long)jint(v, "entries"), (long long)jint(v, "capacity"),
	       (long long)jint(v, "hits"), (long long)jint(v, "misses"));
	v = json_object_get(reply, "container_meta");
	printf("container metadata: %lld of %lld cgroups, %lld known, %lld reads, %lld failed, "
	       "%lld evicted\n",
	       (long long)jint(v, "entries"), (long long)jint(v, "capacity"),
	       (long long)jint(v, "known"), (long long)jint(v, "reads"),
	       (long long)jint(v, "read_failures"), (long long)jint(v, "evictions"));
	v = json_object_get(reply, "cgroup_records");
	printf("cgroup records: %lld received, %lld lost\n", (long long)jint(v, "received"),
	       (long long)jint(v, "lost"));
	v = json_object_get(reply, "clients");
	printf("clients: %lld of %lld connected (%lld kept for admins), %lld refused, "
	       "%lld disconnected\n",
	       (long long)jint(v, "connected"), (long long)jint(v, "limit"),
	       (long long)jint(v, "admin_slots"), (long long)jint(v, "refused"),
	       (long long)jint(v, "disconnected"));
	/* What tracers keep beside their programs (their status_text hook). */
	for (i = 0; i < tracer_count; i++) {
		const struct tracer_ops *t = tracer_table[i];

		if (t->status_name && t->status_text)
			t->status_text(json_object_get(reply, t->status_name));
	}
	printf("\n");
	table_row("%-18s %10s %10s %10s", "KERNEL MAP", "ENTRIES", "CAPACITY", "FAILED");
	json_array_foreach(json_object_get(reply, "kernel_maps"), i, v)
		table_row("%-18s %10lld %10lld %10lld", jstr(v, "name"),
			  (long long)jint(v, "entries"), (long long)jint(v, "capacity"),
			  (long long)jint(v, "failed"));
	json_decref(reply);
	return 0;
}

/*
 * Handles one streamed frame; text mode converts, JSON mode copies. A
 * restart notice sets *@restarting: the connection will close, and the
 * successor listens on the same socket.
 */
static void trace_frame(const struct cli *cli, const char *payload, size_t len,
			struct strbuf *line, bool *restarting)
{
	static const char notice[] = "{\"notice\"";

	if (len >= sizeof(notice) - 1 && memcmp(payload, notice, sizeof(notice) - 1) == 0) {
		json_t *n = json_loadb(payload, len, 0, NULL);

		fflush(stdout);
		if (!strcmp(jstr(n, "notice"), "restart"))
			*restarting = true;
		else if (!strcmp(jstr(n, "notice"), "lost"))
			fprintf(stderr, "bpfd: lost %lld events: this client read too slowly\n",
				(long long)jint(n, "lost"));
		json_decref(n);
		return;
	}
	if (cli->json) {
		fwrite(payload, 1, len, stdout);
		putchar('\n');
		return;
	}
	strbuf_reset(line);
	if (event_json_to_text(payload, len, line) == 0) {
		fwrite(line->buf, 1, line->len, stdout);
		putchar('\n');
	}
}

/*
 * After a restart notice: the daemon's socket again, as soon as its
 * successor accepts (the listening socket is handed over, so connections
 * wait in its backlog meanwhile), within RECONNECT_MS.
 */
static int reconnect(const struct cli *cli)
{
	enum { RECONNECT_MS = 60000, RECONNECT_POLL_MS = 20 };
	int waited, fd = -1;

	for (waited = 0; waited < RECONNECT_MS; waited += RECONNECT_POLL_MS) {
		fd = ipc_connect(cli->socket_path);
		if (fd >= 0) {
			if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 },
				       sizeof(int)) < 0)
				setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 }, sizeof(int));
			return fd;
		}
		usleep(RECONNECT_POLL_MS * 1000);
	}
	fprintf(stderr, "bpfd: the daemon restarted and did not come back at %s: %s\n",
		cli->socket_path, strerror(-fd));
	return -1;
}

int cmd_trace(const struct cli *cli)
{
	static char outbuf[1 << 18];
	static char buf[1 << 18];
	json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", "trace", "tracer",
				cli->tracer ? cli->tracer : "", "rule", cli->rule ? cli->rule : "",
				"container", cli->container ? cli->container : "", "priority",
				cli->priority ? cli->priority : "");
	struct ipc_reader r;
	struct strbuf line = STRBUF_INIT;
	char *text = json_dumps(req, JSON_COMPACT);
	const char *payload;
	size_t len;
	json_t *reply;
	struct pollfd pfd[2];
	bool first = true, restarting = false;
	ssize_t n;
	int fd, rc, status = 1;

	if (cli->n_tags) {
		json_t *tags = json_array();

		for (size_t i = 0; i < cli->n_tags; i++)
			json_array_append_new(tags, json_string(cli->tags[i]));
		json_object_set_new(req, "tags", tags);
		free(text);
		text = json_dumps(req, JSON_COMPACT);
	}
	json_decref(req);
	fd = connect_daemon(cli);
	if (fd < 0) {
		free(text);
		return 1;
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	/* Room for bursts while this process waits for the CPU. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 }, sizeof(int)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 }, sizeof(int));
	ipc_reader_init(&r, IPC_FRAME_MAX);
subscribe:
	rc = ipc_send_frame(fd, text, strlen(text));
	if (rc < 0) {
		fprintf(stderr, "bpfd: sending to the daemon: %s\n", strerror(-rc));
		goto out;
	}
	for (;;) {
		while ((rc = ipc_reader_next(&r, &payload, &len)) == 1) {
			if (first) {
				first = false;
				reply = json_loadb(payload, len, 0, NULL);
				if (!reply || !reply_ok(reply)) {
					json_decref(reply);
					goto out;
				}
				json_decref(reply);
				continue;
			}
			trace_frame(cli, payload, len, &line, &restarting);
		}
		if (rc < 0) {
			fprintf(stderr, "bpfd: bad frame from the daemon: %s\n", strerror(-rc));
			goto out;
		}
		/* Everything decoded is printed before waiting for more. */
		fflush(stdout);
		/*
		 * Wait for events, and notice when whoever reads our output has
		 * gone (`bpfd trace | head -1`): a pipe's write end then polls
		 * POLLERR, without waiting for the next event to fail a write.
		 */
		pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = STDOUT_FILENO, .events = 0 };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (pfd[1].revents & (POLLERR | POLLHUP)) {
			status = 0;
			goto out;
		}
		if (!(pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 && restarting) {
			/* The successor listens on the same socket: subscribe there. */
			close(fd);
			fd = reconnect(cli);
			if (fd < 0)
				goto out;
			ipc_reader_release(&r);
			ipc_reader_init(&r, IPC_FRAME_MAX);
			first = true;
			restarting = false;
			fprintf(stderr, "bpfd: the daemon restarted; tracing again\n");
			goto subscribe;
		}
		if (n <= 0) {
			fprintf(stderr, "bpfd: the daemon closed the connection\n");
			goto out;
		}
		if (ipc_reader_feed(&r, buf, n) < 0)
			goto out;
	}
out:
	fflush(stdout);
	free(text);
	strbuf_release(&line);
	ipc_reader_release(&r);
	if (fd >= 0)
		close(fd);
	return status;
}

/* Reads @path ("-": stdin) whole into @out. 0 or -errno. */
static int read_input(const char *path, struct strbuf *out)
{
	char buf[65536];
	ssize_t n;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (out->len + n > IPC_FRAME_MAX / 2 || strbuf_add(out, buf, n) < 0) {
			n = -1;
			errno = EFBIG;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return n < 0 ? -errno : 0;
}

int cmd_create(const struct cli *cli)
{
	int i, status = 0;

	for (i = 0; i < cli->n_args; i++) {
		const char *file = cli->args[i];
		struct strbuf text = STRBUF_INIT;
		json_t *req, *reply;
		int r = read_input(file, &text);

		if (r < 0) {
			fprintf(stderr, "bpfd: %s: %s\n", file, strerror(-r));
			status = 1;
			strbuf_release(&text);
			continue;
		}
		req = json_pack("{s:s, s:s, s:s%}", "op", "create_rule", "file", file, "content",
				text.buf ? text.buf : "", text.len);
		strbuf_release(&text);
		reply = request(cli, req, false);
		json_decref(req);
		if (!reply)
			return 1;	/* no daemon: the others would fail the same way */
		if (reply_ok(reply))
			printf("%s %s\n", json_is_true(json_object_get(reply, "replaced")) ?
						  "replaced" : "created",
			       jstr(reply, "name"));
		else
			status = 1;
		json_decref(reply);
	}
	return status;
}

int cmd_rm(const struct cli *cli)
{
	int i, status = 0;

	for (i = 0; i < cli->n_args; i++) {
		json_t *req = json_pack("{s:s, s:s}", "op", "remove_rule", "name", cli->args[i]);
		json_t *reply = request(cli, req, false);

		json_decref(req);
		if (!reply)
			return 1;
		if (reply_ok(reply))
			printf("removed %s\n", cli->args[i]);
		else
			status = 1;
		json_decref(reply);
	}
	return status;
}

int cmd_resume(const struct cli *cli)
{
	int i, status = 0;

	for (i = 0; i < cli->n_args; i++) {
		json_t *req = json_pack("{s:s, s:s}", "op", "resume_container", "container",
					cli->args[i]);
		json_t *reply = request(cli, req, false);

		json_decref(req);
		if (!reply)
			return 1;
		if (!reply_ok(reply))
			status = 1;
		else if (cli->json)
			print_json(reply);
		else
			printf("resumed %s container %s\n", jstr(reply, "runtime"),
			       jstr(reply, "container"));
		json_decref(reply);
	}
	return status;
}

/* status's restart object, or NULL (no reply: the daemon is not back yet). */
static json_t *restart_status(const struct cli *cli)
{
	json_t *req = json_pack("{s:s}", "op", "status");
	json_t *reply = request(cli, req, true), *r = NULL;

	json_decref(req);
	if (reply && json_is_true(json_object_get(reply, "ok")))
		r = json_incref(json_object_get(reply, "restart"));
	json_decref(reply);
	return r;
}

int cmd_restart(const struct cli *cli)
{
	enum { WAIT_MS = 600000, POLL_MS = 20 };
	json_t *req = json_pack("{s:s}", "op", "restart"), *reply, *before, *after = NULL;
	json_int_t count;
	int waited;

	before = restart_status(cli);
	count = json_integer_value(json_object_get(before, "restarts"));
	json_decref(before);
	reply = request(cli, req, false);
	json_decref(req);
	if (!reply)
		return 1;
	if (!reply_ok(reply)) {
		json_decref(reply);
		return 1;
	}
	json_decref(reply);
	/* The successor answers once it runs: its restarts count one more. */
	for (waited = 0; waited < WAIT_MS; waited += POLL_MS) {
		after = restart_status(cli);
		if (after && json_integer_value(json_object_get(after, "restarts")) > count &&
		    json_is_true(json_object_get(after, "reading")))
			break;
		json_decref(after);
		after = NULL;
		usleep(POLL_MS * 1000);
	}
	if (!after) {
		fprintf(stderr, "bpfd: the daemon did not come back at %s\n", cli->socket_path);
		return 1;
	}
	if (cli->json)
		print_json(after);
	else
		printf("restarted: %s, ready %.0f ms after the request\n",
		       json_is_true(json_object_get(after, "adopted"))
			       ? "the programs adopted, nothing compiled"
			       : "the tracers compiled again",
		       json_number_value(json_object_get(after, "handover_ms")));
	json_decref(after);
	return 0;
}

int cmd_ls(const struct cli *cli)
{
	json_t *req = json_pack("{s:s}", "op", "list_rules");
	json_t *reply = request(cli, req, false), *r, *a;
	size_t i, j;

	json_decref(req);
	if (!reply)
		return 1;
	if (!reply_ok(reply)) {
		json_decref(reply);
		return 1;
	}
	if (cli->json) {
		json_object_del(reply, "ok");
		print_json(reply);
	} else {
		int w = 4;

		/* Columns as wide as their longest entry, as `docker ps` does. */
		json_array_foreach(json_object_get(reply, "rules"), i, r)
			if ((int)strlen(jstr(r, "name")) > w)
				w = (int)strlen(jstr(r, "name"));
		table_row("%-*s  %-18s  %-8s  %-20s  %s", w, "NAME", "TRACER", "PRIORITY", "ACTIONS",
			  "TAGS");
		json_array_foreach(json_object_get(reply, "rules"), i, r) {
			struct strbuf actions = STRBUF_INIT, tags = STRBUF_INIT;

			json_array_foreach(json_object_get(r, "actions"), j, a)
				if (strbuf_addf(&actions, "%s%s", j ? "," : "", json_string_value(a)) < 0)
					break;
			json_array_foreach(json_object_get(r, "tags"), j, a)
				if (strbuf_addf(&tags, "%s%s", j ? "," : "", json_string_value(a)) < 0)
					break;
			table_row("%-*s  %-18s  %-8s  %-20s  %s", w, jstr(r, "name"), jstr(r, "tracer"),
				  jstr(r, "priority"), actions.buf ? actions.buf : "",
				  tags.buf ? tags.buf : "");
			strbuf_release(&actions);
			strbuf_release(&tags);
		}
	}
	json_decref(reply);
	return 0;
}

/* `bpfd check` judges action names by type alone: there is no daemon's set of instances. */
static int check_action(void *ctx, const char *name, char *why, size_t size)
{
	return action_kind(name, why, size);
}

static void report_dropin(const char *message)
{
	fprintf(stderr, "bpfd check: %s\n", message);
}

struct check_file {
	char *path;
	bool local;
	struct rule_doc *doc;
	struct rule **rules;
	size_t n_rules;
};

static int check_file_order(const void *a, const void *b)
{
	const struct check_file *x = a, *y = b;

	if (x->local != y->local)
		return x->local ? 1 : -1;
	return strcmp(x->path, y->path);
}

static bool is_local_file(const char *path)
{
	size_t n = strlen(path);

	return n > 11 && !strcmp(path + n - 11, ".local.toml");
}

/* The `*.toml` files of @dir, as the daemon reads them (rulebook.c). */
static int add_dir_files(const char *dir, struct check_file **files, size_t *n)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct check_file *grown;

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".toml"))
			continue;
		grown = realloc(*files, (*n + 1) * sizeof(**files));
		if (!grown)
			break;
		*files = grown;
		memset(&grown[*n], 0, sizeof(**files));
		if (asprintf(&grown[*n].path, "%s/%s", dir, de->d_name) < 0)
			break;
		grown[*n].local = is_local_file(de->d_name);
		(*n)++;
	}
	closedir(d);
	return 0;
}

static void check_unused(void *ctx, bool error, const char *file, unsigned int line,
			 const char *message)
{
	int *status = ctx;

	fprintf(stderr, "%s:%u: %s%s\n", file, line, error ? "" : "warning: ", message);
	if (error)
		*status = 1;
}

struct lint_ctx {
	const char *file;
	const struct rule *rule;
	size_t warnings;
};

static void check_lint(void *ctx, const char *message)
{
	struct lint_ctx *l = ctx;

	fprintf(stderr, "%s:%u: warning: %s\n", l->file, rule_line(l->rule), message);
	l->warnings++;
}

/*
 * The rule files given, and those of --rules-dir, read as the daemon reads
 * a rules directory: every file's lists and overrides first, then each
 * file's rules; then the lints. Exit status: 1 for any error, else 0
 * (warnings do not change it).
 */
static int check_rules(const struct cli *cli, int status)
{
	struct check_file *files = NULL;
	struct rule_library *lib = rule_library_new();
	struct rule_error err;
	size_t n = 0, i, k, j, warnings = 0;
	int i_arg;

	if (!lib)
		return 1;
	for (i_arg = 0; i_arg < cli->n_args; i_arg++) {
		struct check_file *grown = realloc(files, (n + 1) * sizeof(*files));

		if (!grown)
			return 1;
		files = grown;
		memset(&files[n], 0, sizeof(*files));
		files[n].path = strdup(cli->args[i_arg]);
		files[n].local = is_local_file(cli->args[i_arg]);
		n++;
	}
	if (cli->rules_dir) {
		size_t first = n;
		int r = add_dir_files(cli->rules_dir, &files, &n);

		if (r < 0) {
			fprintf(stderr, "%s: %s\n", cli->rules_dir, strerror(-r));
			status = 1;
		}
		qsort(files + first, n - first, sizeof(*files), check_file_order);
	}
	for (i = 0; i < n; i++) {
		struct strbuf text = STRBUF_INIT;
		int r = read_input(files[i].path, &text);

		if (r < 0) {
			fprintf(stderr, "%s: %s\n", files[i].path, strerror(-r));
			status = 1;
		} else if (rule_doc_read(files[i].path, text.buf ? text.buf : "", text.len,
					 &files[i].doc, &err) < 0) {
			fprintf(stderr, "%s:%u: %s\n", files[i].path, err.line, err.message);
			status = 1;
		} else if (rule_library_add(lib, files[i].doc, &err) < 0) {
			fprintf(stderr, "%s:%u: %s\n", files[i].path, err.line, err.message);
			status = 1;
		}
		strbuf_release(&text);
	}
	for (i = 0; i < n; i++) {
		if (!files[i].doc)
			continue;
		if (rule_doc_rules(files[i].doc, lib, check_action, NULL, &files[i].rules,
				   &files[i].n_rules, &err) < 0) {
			if (err.line)
				fprintf(stderr, "%s:%u: %s\n", files[i].path, err.line, err.message);
			else
				fprintf(stderr, "%s: %s\n", files[i].path, err.message);
			status = 1;
			continue;
		}
		if (!files[i].n_rules)
			printf("%s: ok: no rules (lists and overrides)\n", files[i].path);
		for (k = 0; k < files[i].n_rules; k++) {
			const struct rule *r = files[i].rules[k];
			struct lint_ctx l = { .file = files[i].path, .rule = r };

			printf("%s: ok: rule %s, tracer %s\n", files[i].path, rule_name(r),
			       tracer_table[rule_tracer(r)]->name);
			rule_lint(r, check_lint, &l);
			warnings += l.warnings;
		}
	}
	/* A name given twice: the later file wins, as in the daemon. */
	for (i = 0; i < n; i++)
		for (k = 0; k < files[i].n_rules; k++)
			for (j = i + 1; j < n; j++)
				for (size_t m = 0; m < files[j].n_rules; m++)
					if (!strcmp(rule_name(files[i].rules[k]),
						    rule_name(files[j].rules[m])))
						fprintf(stderr, "%s:%u: warning: rule \"%s\" is also "
							"defined in %s, which wins\n",
							files[i].path, rule_line(files[i].rules[k]),
							rule_name(files[i].rules[k]), files[j].path);
	rule_library_unused(lib, check_unused, &status);
	for (i = 0; i < n; i++) {
		for (k = 0; k < files[i].n_rules; k++)
			rule_free(files[i].rules[k]);
		free(files[i].rules);
		rule_doc_free(files[i].doc);
		free(files[i].path);
	}
	free(files);
	rule_library_free(lib);
	return status;
}

int cmd_check(const struct cli *cli)
{
	int status = 0;

	if (cli->config_path) {
		char err[CONFIG_ERROR_MAX];
		struct config *cfg;

		if (config_load(cli->config_path, NULL, 0, action_config_check, NULL, &cfg, err) < 0) {
			fprintf(stderr, "%s\n", err);
			status = 1;
		} else {
			printf("%s: ok: %zu action section%s\n", cli->config_path, cfg->n_sections,
			       cfg->n_sections == 1 ? "" : "s");
			config_free(cfg);
		}
	} else if (!cli->n_args && !cli->rules_dir) {
		fprintf(stderr, "bpfd check: give rule files, --rules-dir DIR, or --config FILE\n");
		return 2;
	}
	/* Rules on drop-in tracers are checked against their descriptions' keys. */
	if (cli->tracers_dir) {
		char err[1024];

		if (tracer_load_dropins(cli->tracers_dir, false, report_dropin, err,
					sizeof(err)) < 0) {
			fprintf(stderr, "bpfd check: %s\n", err);
			return 1;
		}
	}

	return check_rules(cli, status);
}
