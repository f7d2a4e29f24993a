// SPDX-License-Identifier: MIT
/*
 * file: appends each event as one JSON line to the file `path` of its
 * config section. Lines are buffered and written when the loop goes idle
 * (or when 256 KiB are pending). SIGHUP reopens the path, so that
 * logrotate can move the file away: lines written after the rename go to
 * the old file until then, none are lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "lib/strbuf.h"

enum { FILE_BUFFER_MAX = 256 << 10, FILE_PENDING_MAX = 8 << 20 };

struct file_action {
	int fd;
	mode_t mode;
	struct strbuf pending;
};

static const char *const file_keys[] = { "path", "mode", NULL };

static int file_check(const char *key, const char *value, char *err, size_t size)
{
	char *end;
	unsigned long mode;

	if (strcmp(key, "path") == 0 && value[0] != '/') {
		snprintf(err, size, "path: \"%s\" is not an absolute path", value);
		return -EINVAL;
	}
	if (strcmp(key, "mode") == 0) {
		errno = 0;
		mode = strtoul(value, &end, 8);
		if (!*value || *end || errno || mode > 0777) {
			snprintf(err, size, "mode: \"%s\" is not an octal file mode like 0640",
				 value);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Whoever can write the file's directory may have put something else
 * there: a symlink to a file of root's (not followed: -ELOOP), a FIFO or
 * a device (opening one must not wait for a reader, and writing to it is
 * not logging: -EINVAL). Only a regular file is appended to.
 */
static int file_open(struct action *a, struct file_action *f)
{
	const char *path = action_setting(a, "path", NULL);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
			    O_NONBLOCK, f->mode);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	return 0;
}

static const char *file_open_error(int r)
{
	return r == -ELOOP    ? "a symbolic link: not followed"
	       : r == -EINVAL ? "not a regular file"
			      : strerror(-r);
}

static int file_init(struct action *a, char *err, size_t size)
{
	const char *path = action_setting(a, "path", NULL);
	struct file_action *f;
	int r;

	if (!path) {
		snprintf(err, size, "no `path` in [%s] of the config", a->name);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->mode = (mode_t)strtoul(action_setting(a, "mode", "0640"), NULL, 8);
	r = file_open(a, f);
	if (r < 0) {
		snprintf(err, size, "%s: %s", path, file_open_error(r));
		free(f);
		return r;
	}
	a->priv = f;
	return 0;
}

static void file_flush(struct action *a)
{
	struct file_action *f = a->priv;
	size_t off = 0;
	ssize_t n;

	if (!f->pending.len)
		return;
	if (f->fd < 0 && file_open(a, f) < 0)
		goto keep;
	while (off < f->pending.len) {
		n = write(f->fd, f->pending.buf + off, f->pending.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			action_failed(a, "writing %s: %s", action_setting(a, "path", ""),
				      strerror(errno));
			break;
		}
		off += n;
	}
	strbuf_consume(&f->pending, off);
keep:
	/* A file that cannot be written keeps a bounded backlog, then drops. */
	if (f->pending.len > FILE_PENDING_MAX) {
		action_dropped(a, "file not writable, backlog full");
		strbuf_reset(&f->pending);
	}
}

static int file_run(struct action *a, const struct action_input *in)
{
	struct file_action *f = a->priv;
	int r;

	r = in->json ? strbuf_add(&f->pending, in->json, in->json_len)
		     : event_to_json(in->ev, &f->pending);
	if (!r)
		r = strbuf_addch(&f->pending, '\n');
	if (f->pending.len >= FILE_BUFFER_MAX)
		file_flush(a);
	return r;
}

static void file_reopen(struct action *a)
{
	struct file_action *f = a->priv;
	int r;

	file_flush(a);
	r = file_open(a, f);
	if (r < 0)
		action_failed(a, "reopening %s: %s", action_setting(a, "path", ""),
			      file_open_error(r));
}

static void file_release(struct action *a)
{
	struct file_action *f = a->priv;

	if (!f)
		return;
	file_flush(a);
	if (f->fd >= 0)
		close(f->fd);
	strbuf_release(&f->pending);
	free(f);
	a->priv = NULL;
}

const struct action_ops file_action = {
	.name = "file",
	.summary = "append the event as a JSON line to a file (reopened on SIGHUP)",
	.keys = file_keys,
	.check = file_check,
	.init = file_init,
	.release = file_release,
	.run = file_run,
	.flush = file_flush,
	.reopen = file_reopen,
};
