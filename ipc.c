// SPDX-License-Identifier: MIT
/*
 * Framing and sockets of the control protocol (docs/protocol.md). Library
 * code: every function returns 0 (or a count, or an fd) or a negative errno
 * and logs nothing; the caller decides what a failure means to the user.
 */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	IPC_PARENT_MODE = 0755,
	IPC_RECV_CHUNK = 16384,
};

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int ipc_frame_append(struct strbuf *out, const void *payload, size_t len)
{
	unsigned char hdr[IPC_HEADER_LEN];
	int err;

	if (len > IPC_FRAME_MAX)
		return -EMSGSIZE;
	/* Grow once up front so that a failure leaves @out as it was, never half a frame. */
	err = strbuf_grow(out, IPC_HEADER_LEN + len);
	if (err < 0)
		return err;
	put_be32(hdr, (uint32_t)len);
	strbuf_add(out, hdr, sizeof(hdr));
	strbuf_add(out, payload, len);
	return 0;
}

int ipc_frame_open(struct strbuf *out, size_t *start)
{
	int r = strbuf_grow(out, IPC_HEADER_LEN);

	if (r < 0)
		return r;
	/* Written by ipc_frame_close(); zero until then, like a frame of nothing. */
	*start = out->len;
	memset(out->buf + out->len, 0, IPC_HEADER_LEN);
	out->len += IPC_HEADER_LEN;
	out->buf[out->len] = '\0';
	return 0;
}

void ipc_frame_abort(struct strbuf *out, size_t start)
{
	if (start >= out->len)
		return;
	out->len = start;
	out->buf[start] = '\0';
}

int ipc_frame_close(struct strbuf *out, size_t start)
{
	size_t len = out->len - start - IPC_HEADER_LEN;

	if (len > IPC_FRAME_MAX) {
		ipc_frame_abort(out, start);
		return -EMSGSIZE;
	}
	put_be32((unsigned char *)out->buf + start, (uint32_t)len);
	return 0;
}

void ipc_reader_init(struct ipc_reader *r, size_t max_frame)
{
	*r = (struct ipc_reader){
		.in = STRBUF_INIT,
		.max_frame = max_frame ? max_frame : IPC_FRAME_MAX,
	};
}

void ipc_reader_release(struct ipc_reader *r)
{
	strbuf_release(&r->in);
	r->taken = 0;
	r->nul_saved = false;
}

/* Puts back the byte that the last payload's terminating NUL replaced. */
static void reader_restore(struct ipc_reader *r)
{
	if (r->nul_saved) {
		r->in.buf[r->taken] = r->saved;
		r->nul_saved = false;
	}
}

/*
 * Drops the frames already handed out. Done lazily, when the reader needs
 * more bytes, so that a read() holding many small frames costs one memmove
 * rather than one per frame.
 */
static void reader_compact(struct ipc_reader *r)
{
	reader_restore(r);
	if (r->taken) {
		strbuf_consume(&r->in, r->taken);
		r->taken = 0;
	}
}

int ipc_reader_feed(struct ipc_reader *r, const void *data, size_t len)
{
	reader_compact(r);
	/* After a bad length nothing can be framed again: keeping the bytes would only grow. */
	if (r->failed)
		return 0;
	return strbuf_add(&r->in, data, len);
}

int ipc_reader_next(struct ipc_reader *r, const char **payload, size_t *len)
{
	size_t avail, n;

	if (r->failed)
		return -EMSGSIZE;
	reader_restore(r);
	avail = r->in.len - r->taken;
	if (avail < IPC_HEADER_LEN) {
		reader_compact(r);
		return 0;
	}
	n = get_be32((const unsigned char *)r->in.buf + r->taken);
	/*
	 * Judged on the header alone, before any payload arrives: a peer
	 * announcing 4 GiB must not make us buffer up to it first.
	 */
	if (n > r->max_frame) {
		r->failed = true;
		strbuf_release(&r->in);
		r->taken = 0;
		return -EMSGSIZE;
	}
	if (avail - IPC_HEADER_LEN < n) {
		reader_compact(r);
		return 0;
	}
	*payload = r->in.buf + r->taken + IPC_HEADER_LEN;
	*len = n;
	r->taken += IPC_HEADER_LEN + n;
	/* strbuf keeps a NUL after its last byte; only a frame followed by more needs one. */
	if (r->taken < r->in.len) {
		r->saved = r->in.buf[r->taken];
		r->in.buf[r->taken] = '\0';
		r->nul_saved = true;
	}
	return 1;
}

size_t ipc_reader_pending(const struct ipc_reader *r)
{
	return r->in.len - r->taken;
}

/* Fills @sa for @path. Linux keeps no NUL when the path fills sun_path; we always want one. */
static int unix_addr(struct sockaddr_un *sa, socklen_t *salen, const char *path)
{
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	*salen = offsetof(struct sockaddr_un, sun_path) + n + 1;
	return 0;
}

/* connect() restarted on EINTR: an interrupted unix connect leaves the socket unconnected. */
static int connect_retry(int fd, const struct sockaddr_un *sa, socklen_t salen)
{
	int ret;

	do
		ret = connect(fd, (const struct sockaddr *)sa, salen);
	while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno != EISCONN)
		return -errno;
	return 0;
}

int ipc_connect(const char *path)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int fd, err;

	err = unix_addr(&sa, &salen, path);
	if (err < 0)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect_retry(fd, &sa, salen);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

int ipc_send_frame(int fd, const void *payload, size_t len)
{
	unsigned char hdr[IPC_HEADER_LEN];
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (len > IPC_FRAME_MAX)
		return -EMSGSIZE;
	put_be32(hdr, (uint32_t)len);
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(hdr) };
	iov[1] = (struct iovec){ .iov_base = (void *)payload, .iov_len = len };

	/* Header and payload in one call: no copy of a large payload, no tiny packet. */
	while (msg.msg_iovlen) {
		/* MSG_NOSIGNAL: a vanished peer is -EPIPE here, not a SIGPIPE that kills us. */
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		/* A signal can cut a blocking send short: step past what went out. */
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov->iov_len) {
			n -= msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= n;
		}
	}
	return 0;
}

int ipc_recv_frame(int fd, struct ipc_reader *r, struct strbuf *out)
{
	char buf[IPC_RECV_CHUNK];
	const char *payload;
	size_t len;
	ssize_t n;
	int ret;

	for (;;) {
		/* Bytes left over from an earlier read may already hold the next frame. */
		ret = ipc_reader_next(r, &payload, &len);
		if (ret < 0)
			return ret;
		if (ret > 0) {
			strbuf_reset(out);
			ret = strbuf_add(out, payload, len);
			return ret < 0 ? ret : 1;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return ipc_reader_pending(r) ? -EPROTO : 0;
		ret = ipc_reader_feed(r, buf, (size_t)n);
		if (ret < 0)
			return ret;
	}
}

/* mkdir -p for @dir (modified in place, restored), new directories mode IPC_PARENT_MODE. */
static int make_dirs(char *dir)
{
	struct stat st;
	char *slash;
	int err;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = make_dirs(dir);
		*slash = '/';
		if (err < 0)
			return err;
	}
	if (mkdir(dir, IPC_PARENT_MODE) < 0) {
		/* Someone else made it meanwhile: fine if it is a directory. */
		if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return -errno;
	}
	/* mkdir() applied the umask; clients must be able to reach the socket inside. */
	if (chmod(dir, IPC_PARENT_MODE) < 0)
		return -errno;
	return 0;
}

/* The directory part of @path into @dir ("." for a bare name). */
static void parent_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, size, ".");
		return;
	}
	if (slash == path)
		slash++;	/* "/name": the parent is "/" */
	snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * Whether a daemon answers on the socket at @sa: 1 yes, 0 no (a stale file
 * left by one that died), or a negative errno when we cannot tell. The probe
 * is non-blocking so that a live daemon with a full backlog reads as live
 * (-EAGAIN) instead of making us wait for it.
 */
static int socket_is_live(const struct sockaddr_un *sa, socklen_t salen)
{
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect_retry(fd, sa, salen);
	close(fd);
	switch (err) {
	case 0:
	case -EAGAIN:
		return 1;
	case -ECONNREFUSED:
	case -ENOENT:		/* removed since we looked: nothing to replace */
		return 0;
	default:
		return err;
	}
}

static int listen_locked(const char *path, const struct sockaddr_un *sa, socklen_t salen,
			 unsigned int mode)
{
	struct stat st;
	int fd, err;

	if (lstat(path, &st) == 0) {
		/* Only ever remove a socket: a file or symlink there is someone else's. */
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		err = socket_is_live(sa, salen);
		if (err < 0)
			return err;
		if (err > 0)
			return -EADDRINUSE;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)sa, salen) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	/*
	 * bind() created the file with the umask's mode. Fix it before
	 * listen(): until then every connect() is refused, so nobody gets in
	 * through the wrong mode.
	 */
	if (chmod(path, mode & 07777) < 0 || listen(fd, IPC_LISTEN_BACKLOG) < 0) {
		err = -errno;
		unlink(path);
		close(fd);
		return err;
	}
	return fd;
}

int ipc_listen(const char *path, unsigned int mode)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa;
	socklen_t salen;
	int dfd, err;

	err = unix_addr(&sa, &salen, path);
	if (err < 0)
		return err;
	parent_dir(path, dir, sizeof(dir));
	err = make_dirs(dir);
	if (err < 0)
		return err;

	/*
	 * Probe, unlink and bind are check-then-act: two daemons starting at
	 * once could each find the file stale and the second unlink the
	 * first's fresh socket. A lock on the directory serialises them (the
	 * second then finds a live daemon). Where the lock cannot be had we
	 * carry on unlocked, as we would without it.
	 */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		while (flock(dfd, LOCK_EX) < 0 && errno == EINTR)
			;
	}
	err = listen_locked(path, &sa, salen, mode);
	if (dfd >= 0)
		close(dfd);	/* releases the lock */
	return err;
}
