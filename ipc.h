/* SPDX-License-Identifier: MIT */
#ifndef BPFD_IPC_H
#define BPFD_IPC_H

/*
 * Framing of the control protocol (docs/protocol.md): every message is a
 * 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
 * This file knows bytes and sockets, nothing about ops.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

enum {
	IPC_FRAME_MAX = 1 << 20,	/* largest payload accepted: 1 MiB */
	IPC_HEADER_LEN = 4,
	/*
	 * Connections the kernel holds until the daemon accepts them: at least
	 * the daemon's client limit, so that a burst of connects is answered
	 * (served, or refused in a frame) rather than failed with EAGAIN. The
	 * kernel caps it at net.core.somaxconn (4096 since Linux 5.4).
	 */
	IPC_LISTEN_BACKLOG = 1024,
};

#define IPC_DEFAULT_SOCKET "/run/bpfd/bpfd.sock"

/* Appends a frame carrying @len bytes of @payload to @out. 0, -EMSGSIZE, -ENOMEM. */
int ipc_frame_append(struct strbuf *out, const void *payload, size_t len);

/*
 * A frame whose payload is written in place, after its length prefix:
 * ipc_frame_open() appends the prefix's room to @out and says where the
 * frame starts (*@start); the caller appends the payload to @out, then
 * ipc_frame_close() writes the prefix. A payload over IPC_FRAME_MAX is
 * taken back (@out as before the open) with -EMSGSIZE; so is anything
 * after ipc_frame_abort(). Nothing is copied: an encoder writes the
 * payload where it is sent from.
 */
int ipc_frame_open(struct strbuf *out, size_t *start);
int ipc_frame_close(struct strbuf *out, size_t start);
void ipc_frame_abort(struct strbuf *out, size_t start);

/*
 * An incremental frame decoder: feed it whatever read() returned, take
 * whole frames out. It never holds more than one frame's worth of bytes
 * beyond what it was fed.
 */
struct ipc_reader {
	struct strbuf in;
	size_t max_frame;	/* IPC_FRAME_MAX unless set otherwise */
	bool failed;		/* an oversized length was seen: stream unusable */
	/*
	 * Private: bytes at the front of `in` already handed out as frames,
	 * dropped on the next call so the last payload stays valid until then;
	 * and the byte that the last payload's NUL terminator overwrote.
	 */
	size_t taken;
	bool nul_saved;
	char saved;
};

/* @max_frame 0 means IPC_FRAME_MAX. */
void ipc_reader_init(struct ipc_reader *r, size_t max_frame);
void ipc_reader_release(struct ipc_reader *r);

/* Appends @len received bytes. 0 or -ENOMEM. */
int ipc_reader_feed(struct ipc_reader *r, const void *data, size_t len);

/*
 * Takes the next whole frame: on 1, *@payload and *@len give its bytes,
 * valid until the next call on @r and followed by a NUL byte (so text can
 * go to string APIs; an embedded NUL still ends it early there). 0: more
 * bytes are needed. -EMSGSIZE: the length prefix is over max_frame (the
 * stream cannot be resynchronised; every later call fails the same way,
 * and fed bytes are discarded).
 */
int ipc_reader_next(struct ipc_reader *r, const char **payload, size_t *len);

/* Bytes received but not yet returned as frames. */
size_t ipc_reader_pending(const struct ipc_reader *r);

/*
 * Blocking helpers for the client side. ipc_connect() returns a connected
 * CLOEXEC fd or a negative errno. ipc_send_frame() writes one whole frame.
 * ipc_recv_frame() reads one whole frame into @out (replacing its content):
 * 1 on a frame, 0 on orderly EOF before any byte, negative errno otherwise
 * (-EPROTO on EOF inside a frame, -EMSGSIZE on an oversized length).
 */
int ipc_connect(const char *path);
int ipc_send_frame(int fd, const void *payload, size_t len);
int ipc_recv_frame(int fd, struct ipc_reader *r, struct strbuf *out);

/*
 * Server side: creates the listening socket at @path with mode @mode
 * (creating the parent directory, mode 0755, when missing). A stale socket
 * file (nothing listening) is replaced; a live daemon on it gives -EADDRINUSE;
 * anything else at @path (file, directory, symlink) is left alone: -EEXIST.
 * A path too long for sun_path (107 bytes) gives -ENAMETOOLONG.
 * Returns a non-blocking CLOEXEC fd or a negative errno.
 */
int ipc_listen(const char *path, unsigned int mode);

#endif
