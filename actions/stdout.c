// SPDX-License-Identifier: MIT
/*
 * stdout: one line per event on the daemon's standard output, every field
 * and the data: the text form `bpfd trace` prints, or JSON lines when the
 * config says `output = json`.
 *
 * Lines are buffered and written when the event loop goes idle, so a burst
 * of events costs one write per burst rather than one per event. Every
 * instance shares the one standard output.
 *
 * A write never blocks the loop: standard output may be a pipe whose
 * reader stopped reading (`bpfd daemon | less`, a stuck log shipper).
 * A pipe, FIFO or terminal is written through a second, non-blocking
 * open of it (/proc/self/fd/1: the O_NONBLOCK flag would otherwise be set
 * on a description other processes share); a socket (journald's stdout)
 * with MSG_DONTWAIT; a file or device as it is. What cannot be written yet
 * waits, up to STDOUT_BUFFER_MAX bytes; lines beyond that are dropped and
 * counted.
 *
 * When the daemon writes to the systemd journal (lib/journal.h), each event
 * is one journal entry instead: the line as MESSAGE and the event's key
 * fields as fields of their own (BPFD_RULE=, CONTAINER_ID=...), so that
 * `journalctl BPFD_RULE=NAME` finds them. An entry journald has no room
 * for is dropped and counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "action.h"
#include "lib/journal.h"
#include "lib/strbuf.h"
#include "rules.h"

enum { STDOUT_BUFFER_MAX = 1 << 20 };

static struct strbuf stdout_pending = STRBUF_INIT;

/* How standard output is written without blocking; decided at the first write. */
static struct {
	bool known;
	bool socket;
	int fd;
} out = { .fd = STDOUT_FILENO };

static void stdout_choose(void)
{
	struct stat st;
	int fd;

	out.known = true;
	if (fstat(STDOUT_FILENO, &st) < 0)
		return;
	out.socket = S_ISSOCK(st.st_mode);
	if (!S_ISFIFO(st.st_mode) && !(S_ISCHR(st.st_mode) && isatty(STDOUT_FILENO)))
		return;
	fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0)
		out.fd = fd;
}

static ssize_t stdout_write(const char *buf, size_t len)
{
	if (!out.known)
		stdout_choose();
	if (out.socket)
		return send(STDOUT_FILENO, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(out.fd, buf, len);
}

static void stdout_flush(struct action *a)
{
	size_t off = 0;
	ssize_t n;

	(void)a;
	while (off < stdout_pending.len) {
		n = stdout_write(stdout_pending.buf + off, stdout_pending.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		/* Full: the rest waits for the next flush. Closed or failing: dropped. */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			off = stdout_pending.len;
		if (n <= 0)
			break;
		off += n;
	}
	strbuf_consume(&stdout_pending, off);
}

/*
 * Formatting a line costs about as much as the rest of the pipeline: skip
 * it when standard output is /dev/null (a daemon started that way wants
 * only subscribers and other actions).
 */
static bool stdout_discards(void)
{
	static int discards = -1;
	struct stat st;

	if (discards < 0)
		discards = fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode) &&
			   st.st_rdev == makedev(1, 3);
	return discards;
}

enum { JOURNAL_FIELDS_MAX = 11 + EVENT_RULES_MAX + EVENT_TAGS_MAX };

/* One field of an entry in @sb: its start offset kept in @at (the buffer may move). */
static int field_add(struct strbuf *sb, size_t *at, size_t *n, const char *name, const char *value,
		     size_t len)
{
	at[(*n)++] = sb->len;
	if (strbuf_addstr(sb, name) || strbuf_addch(sb, '=') || strbuf_add(sb, value, len) ||
	    strbuf_addch(sb, '\0'))
		return -ENOMEM;
	return 0;
}

/*
 * The event as one journal entry: MESSAGE (the line `stdout` would print),
 * PRIORITY, SYSLOG_IDENTIFIER, and its key fields, BPFD_EVENT its JSON.
 * Fields are NUL-separated in one buffer, each sent without its NUL.
 */
static int stdout_journal(struct action *a, const struct action_input *in)
{
	static struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	const struct event *ev = in->ev;
	struct iovec iov[JOURNAL_FIELDS_MAX];
	size_t at[JOURNAL_FIELDS_MAX], n = 0, i;
	char num[24];
	int r;

	strbuf_reset(&sb);
	strbuf_reset(&line);
	if (a->env->output == CONFIG_OUTPUT_JSON && in->json)
		r = strbuf_add(&line, in->json, in->json_len);
	else
		r = event_to_text(ev, &line);
	r = r ?: field_add(&sb, at, &n, "MESSAGE", line.buf, line.len);
	/* The rule's priority on the syslog ladder: `journalctl -p err` finds the worst. */
	num[0] = (char)('0' + rule_priority_severity(ev->priority));
	r = r ?: field_add(&sb, at, &n, "PRIORITY", num, 1);
	if (ev->priority)
		r = r ?: field_add(&sb, at, &n, "BPFD_PRIORITY", ev->priority,
				   strlen(ev->priority));
	for (i = 0; i < ev->n_tags && !r; i++)
		r = field_add(&sb, at, &n, "BPFD_TAG", ev->tags[i], strlen(ev->tags[i]));
	r = r ?: field_add(&sb, at, &n, "SYSLOG_IDENTIFIER", "bpfd", 4);
	r = r ?: field_add(&sb, at, &n, "BPFD_TRACER", ev->tracer, strlen(ev->tracer));
	/* A field may repeat: each rule the event matched, for `journalctl BPFD_RULE=`. */
	for (i = 0; i < ev->n_rules && !r; i++)
		r = field_add(&sb, at, &n, "BPFD_RULE", ev->rules[i], strlen(ev->rules[i]));
	if (ev->container_id && *ev->container_id)
		r = r ?: field_add(&sb, at, &n, "CONTAINER_ID", ev->container_id,
				   strlen(ev->container_id));
	snprintf(num, sizeof(num), "%u", ev->pid);
	r = r ?: field_add(&sb, at, &n, "BPFD_PID", num, strlen(num));
	snprintf(num, sizeof(num), "%u", ev->uid);
	r = r ?: field_add(&sb, at, &n, "BPFD_UID", num, strlen(num));
	r = r ?: field_add(&sb, at, &n, "BPFD_COMMAND", ev->command,
			   strnlen(ev->command, sizeof(ev->command)));
	if (in->json)
		r = r ?: field_add(&sb, at, &n, "BPFD_EVENT", in->json, in->json_len);
	if (r)
		return r;
	for (i = 0; i < n; i++) {
		size_t end = i + 1 < n ? at[i + 1] : sb.len;

		iov[i] = (struct iovec){ .iov_base = sb.buf + at[i], .iov_len = end - at[i] - 1 };
	}
	r = journal_send(iov, n);
	if (r == -EAGAIN) {
		action_dropped(a, "journald is not reading, its queue is full");
		return 0;
	}
	return r;
}

static int stdout_run(struct action *a, const struct action_input *in)
{
	size_t before = stdout_pending.len;
	int err;

	if (journal_active())
		return stdout_journal(a, in);
	if (stdout_discards())
		return 0;
	if (before >= STDOUT_BUFFER_MAX) {
		stdout_flush(a);
		before = stdout_pending.len;
		if (before >= STDOUT_BUFFER_MAX) {
			action_dropped(a, "standard output is not being read, its buffer is full");
			return 0;
		}
	}
	if (a->env->output == CONFIG_OUTPUT_JSON)
		err = in->json ? strbuf_add(&stdout_pending, in->json, in->json_len)
			       : event_to_json(in->ev, &stdout_pending);
	else
		err = event_to_text(in->ev, &stdout_pending);
	if (!err)
		err = strbuf_addch(&stdout_pending, '\n');
	if (err) {
		stdout_pending.len = before;	/* no half line */
		if (stdout_pending.buf)
			stdout_pending.buf[before] = '\0';
	}
	return err;
}

const struct action_ops stdout_action = {
	.name = "stdout",
	.summary = "print the event on the daemon's standard output (text, or JSON lines)",
	.run = stdout_run,
	.flush = stdout_flush,
};
