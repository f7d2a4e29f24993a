/* SPDX-License-Identifier: MIT */
#ifndef BPFD_STRBUF_H
#define BPFD_STRBUF_H

/*
 * A growable byte buffer. The bytes are always NUL-terminated after `len`
 * (when `buf` is non-NULL) so that text can be passed to C string APIs.
 * A strbuf owns its memory: strbuf_release() frees it.
 */

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { 0 }

void strbuf_release(struct strbuf *sb);

/* Makes room for @extra more bytes (plus the NUL). 0 or -ENOMEM. */
int strbuf_grow(struct strbuf *sb, size_t extra);

int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* Drops the first @n bytes. */
void strbuf_consume(struct strbuf *sb, size_t n);

static inline void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

#endif
