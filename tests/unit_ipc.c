// SPDX-License-Identifier: MIT
/*
 * unit.ipc: framing, the incremental reader, the blocking client helpers
 * over socketpairs, and ipc_listen() on paths under a temporary directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

/* ---- helpers ---- */

/* A payload whose bytes depend on @seed and position, so that misplaced bytes show. */
static char *pattern(size_t len, unsigned int seed)
{
	char *p = malloc(len + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (char)('a' + (i * 7 + seed) % 26);
	p[len] = '\0';
	return p;
}

static void expect_frame(struct ipc_reader *r, const void *want, size_t want_len)
{
	const char *payload = NULL;
	size_t len = (size_t)-1;

	assert_int_equal(ipc_reader_next(r, &payload, &len), 1);
	assert_int_equal(len, want_len);
	if (want_len)
		assert_memory_equal(payload, want, want_len);
	/* The reader promises a NUL after every payload. */
	assert_int_equal(payload[len], '\0');
}

static void expect_need_more(struct ipc_reader *r)
{
	const char *payload;
	size_t len;

	assert_int_equal(ipc_reader_next(r, &payload, &len), 0);
}

/* A bare header announcing @len bytes, for lengths ipc_frame_append() refuses. */
static void raw_header(unsigned char hdr[IPC_HEADER_LEN], uint32_t len)
{
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* ---- framing ---- */

static void test_append_header_is_big_endian(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *payload = pattern(0x0102, 1);

	(void)state;
	assert_int_equal(ipc_frame_append(&out, payload, 0x0102), 0);
	assert_int_equal(out.len, IPC_HEADER_LEN + 0x0102);
	assert_memory_equal(out.buf, "\x00\x00\x01\x02", 4);
	assert_memory_equal(out.buf + 4, payload, 0x0102);

	/* A second frame goes after the first, a zero-length one is just a header. */
	assert_int_equal(ipc_frame_append(&out, NULL, 0), 0);
	assert_int_equal(out.len, 2 * IPC_HEADER_LEN + 0x0102);
	assert_memory_equal(out.buf + 4 + 0x0102, "\x00\x00\x00\x00", 4);
	free(payload);
	strbuf_release(&out);
}

static void test_append_rejects_oversized(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *payload = pattern(IPC_FRAME_MAX + 1, 2);

	(void)state;
	strbuf_addstr(&out, "keep");
	assert_int_equal(ipc_frame_append(&out, payload, IPC_FRAME_MAX + 1), -EMSGSIZE);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.buf, "keep");
	assert_int_equal(ipc_frame_append(&out, payload, SIZE_MAX), -EMSGSIZE);
	assert_int_equal(out.len, 4);
	free(payload);
	strbuf_release(&out);
}

/*
 * A frame written in place is the frame ipc_frame_append() makes of the
 * same payload; too long or aborted, it is taken back and what came before
 * it stays.
 */
static void test_frame_in_place(void **state)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char *big = pattern(IPC_FRAME_MAX + 1, 5);
	struct ipc_reader r;
	size_t start;

	(void)state;
	assert_int_equal(ipc_frame_append(&a, "{\"x\":1}", 7), 0);
	assert_int_equal(ipc_frame_append(&a, "", 0), 0);
	assert_int_equal(ipc_frame_append(&a, big, IPC_FRAME_MAX), 0);

	assert_int_equal(ipc_frame_open(&b, &start), 0);
	assert_int_equal(start, 0);
	strbuf_addstr(&b, "{\"x\":1}");
	assert_int_equal(ipc_frame_close(&b, start), 0);
	assert_int_equal(ipc_frame_open(&b, &start), 0);
	assert_int_equal(start, IPC_HEADER_LEN + 7);
	assert_int_equal(ipc_frame_close(&b, start), 0);
	assert_int_equal(ipc_frame_open(&b, &start), 0);
	strbuf_add(&b, big, IPC_FRAME_MAX);
	assert_int_equal(ipc_frame_close(&b, start), 0);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.buf, a.buf, a.len);

	/* One byte over the limit: taken back, the frames before intact. */
	assert_int_equal(ipc_frame_open(&b, &start), 0);
	strbuf_add(&b, big, IPC_FRAME_MAX + 1);
	assert_int_equal(ipc_frame_close(&b, start), -EMSGSIZE);
	assert_int_equal(b.len, a.len);
	assert_int_equal(b.buf[b.len], '\0');

	/* Aborted half-way: as if never opened; aborting twice changes nothing. */
	assert_int_equal(ipc_frame_open(&b, &start), 0);
	strbuf_addstr(&b, "{\"half");
	ipc_frame_abort(&b, start);
	ipc_frame_abort(&b, start);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.buf, a.buf, a.len);

	/* And a reader takes them out as the frames they are. */
	ipc_reader_init(&r, IPC_FRAME_MAX);
	ipc_reader_feed(&r, b.buf, b.len);
	expect_frame(&r, "{\"x\":1}", 7);
	expect_frame(&r, "", 0);
	expect_frame(&r, big, IPC_FRAME_MAX);
	expect_need_more(&r);
	ipc_reader_release(&r);
	free(big);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_round_trip(void **state)
{
	const char *json = "{\"op\":\"status\"}";
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;

	(void)state;
	ipc_reader_init(&r, 0);
	assert_int_equal(r.max_frame, IPC_FRAME_MAX);
	expect_need_more(&r);
	assert_int_equal(ipc_frame_append(&out, json, strlen(json)), 0);
	assert_int_equal(ipc_reader_feed(&r, out.buf, out.len), 0);
	assert_int_equal(ipc_reader_pending(&r), out.len);
	expect_frame(&r, json, strlen(json));
	assert_int_equal(ipc_reader_pending(&r), 0);
	expect_need_more(&r);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

static void test_zero_length_frame(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;

	(void)state;
	ipc_reader_init(&r, 0);
	ipc_frame_append(&out, "", 0);
	ipc_frame_append(&out, "{}", 2);
	ipc_reader_feed(&r, out.buf, out.len);
	expect_frame(&r, "", 0);
	expect_frame(&r, "{}", 2);
	expect_need_more(&r);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

static void test_byte_by_byte(void **state)
{
	const char *msgs[] = { "{\"op\":\"version\"}", "", "x", "{\"op\":\"tracers\"}" };
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	size_t i, m = 0, fed = 0;
	const char *payload;
	size_t len;
	int ret;

	(void)state;
	for (i = 0; i < 4; i++)
		ipc_frame_append(&out, msgs[i], strlen(msgs[i]));
	ipc_reader_init(&r, 0);
	for (i = 0; i < out.len; i++) {
		assert_int_equal(ipc_reader_feed(&r, out.buf + i, 1), 0);
		fed++;
		while ((ret = ipc_reader_next(&r, &payload, &len)) == 1) {
			assert_true(m < 4);
			assert_int_equal(len, strlen(msgs[m]));
			assert_memory_equal(payload, msgs[m], len);
			fed -= IPC_HEADER_LEN + len;
			m++;
		}
		assert_int_equal(ret, 0);
		assert_int_equal(ipc_reader_pending(&r), fed);
	}
	assert_int_equal(m, 4);
	assert_int_equal(ipc_reader_pending(&r), 0);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

static void test_header_split(void **state)
{
	const char *json = "{\"op\":\"list_rules\"}";
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;

	(void)state;
	ipc_frame_append(&out, json, strlen(json));
	ipc_reader_init(&r, 0);
	ipc_reader_feed(&r, out.buf, 1);
	expect_need_more(&r);
	ipc_reader_feed(&r, out.buf + 1, 2);
	expect_need_more(&r);
	ipc_reader_feed(&r, out.buf + 3, 1);	/* header complete, no payload yet */
	expect_need_more(&r);
	assert_int_equal(ipc_reader_pending(&r), 4);
	ipc_reader_feed(&r, out.buf + 4, 5);
	expect_need_more(&r);
	ipc_reader_feed(&r, out.buf + 9, out.len - 9);
	expect_frame(&r, json, strlen(json));
	ipc_reader_release(&r);
	strbuf_release(&out);
}

/* Three frames cut in two at every possible byte, including inside each header. */
static void test_every_split_point(void **state)
{
	const char *msgs[] = { "{\"ok\":true}", "", "{\"tracer\":\"exec\"}" };
	struct strbuf out = STRBUF_INIT;
	size_t cut, i;

	(void)state;
	for (i = 0; i < 3; i++)
		ipc_frame_append(&out, msgs[i], strlen(msgs[i]));
	for (cut = 0; cut <= out.len; cut++) {
		struct ipc_reader r;
		const char *payload;
		size_t len, m = 0;

		ipc_reader_init(&r, 0);
		ipc_reader_feed(&r, out.buf, cut);
		while (ipc_reader_next(&r, &payload, &len) == 1) {
			assert_memory_equal(payload, msgs[m], len);
			m++;
		}
		ipc_reader_feed(&r, out.buf + cut, out.len - cut);
		while (ipc_reader_next(&r, &payload, &len) == 1) {
			assert_int_equal(len, strlen(msgs[m]));
			assert_memory_equal(payload, msgs[m], len);
			m++;
		}
		assert_int_equal(m, 3);
		assert_int_equal(ipc_reader_pending(&r), 0);
		ipc_reader_release(&r);
	}
	strbuf_release(&out);
}

static void test_many_frames_one_feed(void **state)
{
	enum { N = 1000 };
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		char *p = pattern(i % 300, (unsigned int)i);

		assert_int_equal(ipc_frame_append(&out, p, i % 300), 0);
		free(p);
	}
	ipc_reader_init(&r, 0);
	ipc_reader_feed(&r, out.buf, out.len);
	for (i = 0; i < N; i++) {
		char *p = pattern(i % 300, (unsigned int)i);

		expect_frame(&r, p, i % 300);
		free(p);
	}
	expect_need_more(&r);
	assert_int_equal(ipc_reader_pending(&r), 0);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

/* A payload stays valid (and NUL-terminated) until the next call, even when more is fed later. */
static void test_payload_survives_until_next_call(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	const char *payload;
	size_t len;
	char copy[8];

	(void)state;
	ipc_frame_append(&out, "first", 5);
	ipc_frame_append(&out, "second", 6);
	ipc_reader_init(&r, 0);
	ipc_reader_feed(&r, out.buf, out.len - 2);
	assert_int_equal(ipc_reader_next(&r, &payload, &len), 1);
	assert_string_equal(payload, "first");
	memcpy(copy, payload, 6);
	assert_int_equal(ipc_reader_pending(&r), IPC_HEADER_LEN + 4);
	expect_need_more(&r);
	ipc_reader_feed(&r, out.buf + out.len - 2, 2);
	assert_int_equal(ipc_reader_next(&r, &payload, &len), 1);
	assert_string_equal(payload, "second");
	assert_string_equal(copy, "first");
	ipc_reader_release(&r);
	strbuf_release(&out);
}

static void test_exactly_max_accepted(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char *payload = pattern(IPC_FRAME_MAX, 3);
	struct ipc_reader r;
	size_t off;

	(void)state;
	assert_int_equal(ipc_frame_append(&out, payload, IPC_FRAME_MAX), 0);
	assert_memory_equal(out.buf, "\x00\x10\x00\x00", 4);
	ipc_reader_init(&r, IPC_FRAME_MAX);
	/* In read()-sized pieces, as the daemon would feed it. */
	for (off = 0; off < out.len; off += 65536) {
		size_t n = out.len - off < 65536 ? out.len - off : 65536;

		if (off)
			expect_need_more(&r);
		ipc_reader_feed(&r, out.buf + off, n);
	}
	expect_frame(&r, payload, IPC_FRAME_MAX);
	ipc_reader_release(&r);
	free(payload);
	strbuf_release(&out);
}

static void test_oversized_rejected_and_stays_failed(void **state)
{
	unsigned char hdr[IPC_HEADER_LEN];
	struct strbuf ok = STRBUF_INIT;
	struct ipc_reader r;
	const char *payload;
	size_t len;

	(void)state;
	ipc_reader_init(&r, 0);
	raw_header(hdr, IPC_FRAME_MAX + 1);
	/* Rejected on the header alone: no payload needs to arrive first. */
	ipc_reader_feed(&r, hdr, sizeof(hdr));
	assert_int_equal(ipc_reader_next(&r, &payload, &len), -EMSGSIZE);
	assert_true(r.failed);
	assert_int_equal(ipc_reader_next(&r, &payload, &len), -EMSGSIZE);

	/* A well-formed frame afterwards does not revive the stream, nor is it kept. */
	ipc_frame_append(&ok, "{}", 2);
	assert_int_equal(ipc_reader_feed(&r, ok.buf, ok.len), 0);
	assert_int_equal(ipc_reader_next(&r, &payload, &len), -EMSGSIZE);
	assert_int_equal(ipc_reader_pending(&r), 0);
	ipc_reader_release(&r);
	strbuf_release(&ok);
}

/* A good frame, then a huge length: the good one comes out intact, then the error. */
static void test_oversized_after_good_frame(void **state)
{
	unsigned char hdr[IPC_HEADER_LEN];
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	const char *payload;
	size_t len;

	(void)state;
	ipc_frame_append(&out, "{\"op\":\"status\"}", 15);
	raw_header(hdr, 0xffffffffu);
	strbuf_add(&out, hdr, sizeof(hdr));
	ipc_reader_init(&r, 0);
	ipc_reader_feed(&r, out.buf, out.len);
	expect_frame(&r, "{\"op\":\"status\"}", 15);
	assert_int_equal(ipc_reader_next(&r, &payload, &len), -EMSGSIZE);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

static void test_custom_max_frame(void **state)
{
	unsigned char hdr[IPC_HEADER_LEN];
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	const char *payload;
	size_t len;

	(void)state;
	ipc_reader_init(&r, 10);
	ipc_frame_append(&out, "0123456789", 10);
	ipc_reader_feed(&r, out.buf, out.len);
	expect_frame(&r, "0123456789", 10);
	raw_header(hdr, 11);
	ipc_reader_feed(&r, hdr, sizeof(hdr));
	assert_int_equal(ipc_reader_next(&r, &payload, &len), -EMSGSIZE);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

/* ---- blocking helpers over socketpairs ---- */

struct writer {
	int fd;
	const char *data;
	size_t len;
	size_t chunk;
	bool close_after;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off, n;

	for (off = 0; off < w->len; off += n) {
		n = w->len - off < w->chunk ? w->len - off : w->chunk;
		write_all(w->fd, w->data + off, n);
		if (off % 4096 < w->chunk)
			usleep(50);	/* let the reader see partial frames */
	}
	if (w->close_after)
		close(w->fd);
	return NULL;
}

enum { ALARMS_MAX = 1000 };

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	static const struct itimerval off;

	(void)sig;
	/*
	 * Bounded, so that a slow run (valgrind) where each signal lands
	 * before the interrupted call made progress cannot livelock.
	 */
	if (++alarms >= ALARMS_MAX)
		setitimer(ITIMER_REAL, &off, NULL);
}

/*
 * SIGALRM every 500 us without SA_RESTART, so blocking read()/sendmsg()
 * calls in the test thread return EINTR or short counts. Helper threads
 * block the signal so that it lands on the thread under test.
 */
static void alarms_start(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 500 }, { 0, 500 } };

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	alarms = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void alarms_stop(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	/* The handler stays: a last SIGALRM may still be on its way (valgrind delays them). */
	setitimer(ITIMER_REAL, &it, NULL);
}

static void start_thread_without_alarm(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void test_recv_small_chunks(void **state)
{
	enum { BIG = 300000 };
	char *big = pattern(BIG, 4);
	struct strbuf stream = STRBUF_INIT, out = STRBUF_INIT;
	struct writer w;
	struct ipc_reader r;
	pthread_t t;
	int sv[2];

	(void)state;
	ipc_frame_append(&stream, "{\"ok\":true}", 11);
	ipc_frame_append(&stream, "", 0);
	ipc_frame_append(&stream, big, BIG);
	ipc_frame_append(&stream, "{\"notice\":\"lost\",\"lost\":3}", 26);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	w = (struct writer){ .fd = sv[1], .data = stream.buf, .len = stream.len, .chunk = 7,
			     .close_after = true };
	start_thread_without_alarm(&t, writer_main, &w);

	ipc_reader_init(&r, 0);
	strbuf_addstr(&out, "previous content is replaced");
	alarms_start();
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 1);
	assert_int_equal(out.len, 11);
	assert_string_equal(out.buf, "{\"ok\":true}");
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 1);
	assert_int_equal(out.len, 0);
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 1);
	assert_int_equal(out.len, BIG);
	assert_memory_equal(out.buf, big, BIG);
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 1);
	assert_string_equal(out.buf, "{\"notice\":\"lost\",\"lost\":3}");
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 0);
	alarms_stop();

	pthread_join(t, NULL);
	close(sv[0]);
	ipc_reader_release(&r);
	strbuf_release(&stream);
	strbuf_release(&out);
	free(big);
}

static void test_recv_eof_before_any_byte(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	ipc_reader_init(&r, 0);
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 0);
	close(sv[0]);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

/* Cuts a valid frame short at @keep bytes, then EOF. */
static void eof_after(size_t keep, int want)
{
	struct strbuf frame = STRBUF_INIT, out = STRBUF_INIT;
	struct ipc_reader r;
	int sv[2];

	ipc_frame_append(&frame, "{\"op\":\"status\"}", 15);
	assert_true(keep <= frame.len);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	write_all(sv[1], frame.buf, keep);
	close(sv[1]);
	ipc_reader_init(&r, 0);
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), want);
	close(sv[0]);
	ipc_reader_release(&r);
	strbuf_release(&frame);
	strbuf_release(&out);
}

static void test_recv_eof_inside_frame(void **state)
{
	(void)state;
	eof_after(2, -EPROTO);			/* inside the header */
	eof_after(IPC_HEADER_LEN, -EPROTO);	/* header only */
	eof_after(IPC_HEADER_LEN + 7, -EPROTO);	/* inside the payload */
}

static void test_recv_frame_then_eof(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ipc_send_frame(sv[1], "{\"ok\":true}", 11), 0);
	close(sv[1]);
	ipc_reader_init(&r, 0);
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 1);
	assert_string_equal(out.buf, "{\"ok\":true}");
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), 0);
	close(sv[0]);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

static void test_recv_oversized(void **state)
{
	unsigned char hdr[IPC_HEADER_LEN];
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader r;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	raw_header(hdr, IPC_FRAME_MAX + 1);
	write_all(sv[1], hdr, sizeof(hdr));
	ipc_reader_init(&r, 0);
	/* Fails without waiting for the megabyte the header announced. */
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), -EMSGSIZE);
	assert_int_equal(ipc_recv_frame(sv[0], &r, &out), -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
	ipc_reader_release(&r);
	strbuf_release(&out);
}

struct slow_reader {
	int fd;
	struct strbuf got;
};

static void *slow_reader_main(void *arg)
{
	struct slow_reader *s = arg;
	char buf[3000];
	ssize_t n;

	while ((n = read(s->fd, buf, sizeof(buf))) > 0) {
		strbuf_add(&s->got, buf, (size_t)n);
		usleep(20);
	}
	return NULL;
}

/* A whole maximum-size frame through a small socket buffer, with signals interrupting. */
static void test_send_large_frame_interrupted(void **state)
{
	char *big = pattern(IPC_FRAME_MAX, 5);
	struct slow_reader s = { .got = STRBUF_INIT };
	struct ipc_reader r;
	int sv[2], sndbuf = 4096;
	pthread_t t;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	s.fd = sv[1];
	start_thread_without_alarm(&t, slow_reader_main, &s);

	alarms_start();
	assert_int_equal(ipc_send_frame(sv[0], big, IPC_FRAME_MAX), 0);
	assert_int_equal(ipc_send_frame(sv[0], "{}", 2), 0);
	alarms_stop();
	assert_true(alarms > 0);
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);

	ipc_reader_init(&r, 0);
	ipc_reader_feed(&r, s.got.buf, s.got.len);
	expect_frame(&r, big, IPC_FRAME_MAX);
	expect_frame(&r, "{}", 2);
	assert_int_equal(ipc_reader_pending(&r), 0);
	ipc_reader_release(&r);
	strbuf_release(&s.got);
	free(big);
}

static void test_send_errors(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ipc_send_frame(sv[0], "x", IPC_FRAME_MAX + 1), -EMSGSIZE);
	close(sv[1]);
	/* A vanished peer is an error return, not a SIGPIPE that kills the client. */
	assert_int_equal(ipc_send_frame(sv[0], "{}", 2), -EPIPE);
	close(sv[0]);
	assert_int_equal(ipc_send_frame(sv[0], "{}", 2), -EBADF);
}

/* ---- ipc_listen / ipc_connect ---- */

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int listen_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/unit.ipc.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int listen_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmp_path(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < size);
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Accepts one connection on non-blocking @lfd, which a connect() has already queued. */
static int accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_listen_connect_exchange(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct ipc_reader cr, sr;
	char path[128];
	int lfd, cfd, sfd;

	(void)state;
	tmp_path(path, sizeof(path), "exchange.sock");
	lfd = ipc_listen(path, 0660);
	assert_true(lfd >= 0);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);

	cfd = ipc_connect(path);
	assert_true(cfd >= 0);
	assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	sfd = accept_one(lfd);

	ipc_reader_init(&cr, 0);
	ipc_reader_init(&sr, 0);
	/* Two requests pipelined on one connection, answered in order. */
	assert_int_equal(ipc_send_frame(cfd, "{\"op\":\"version\"}", 16), 0);
	assert_int_equal(ipc_send_frame(cfd, "{\"op\":\"status\"}", 15), 0);
	assert_int_equal(ipc_recv_frame(sfd, &sr, &out), 1);
	assert_string_equal(out.buf, "{\"op\":\"version\"}");
	assert_int_equal(ipc_recv_frame(sfd, &sr, &out), 1);
	assert_string_equal(out.buf, "{\"op\":\"status\"}");
	assert_int_equal(ipc_send_frame(sfd, "{\"ok\":true}", 11), 0);
	assert_int_equal(ipc_recv_frame(cfd, &cr, &out), 1);
	assert_string_equal(out.buf, "{\"ok\":true}");

	close(sfd);
	close(cfd);
	close(lfd);
	unlink(path);
	ipc_reader_release(&cr);
	ipc_reader_release(&sr);
	strbuf_release(&out);
}

static void test_connect_errors(void **state)
{
	char path[128], longpath[200];

	(void)state;
	tmp_path(path, sizeof(path), "nobody-here.sock");
	assert_int_equal(ipc_connect(path), -ENOENT);
	assert_int_equal(ipc_connect(""), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ipc_connect(longpath), -ENAMETOOLONG);
}

/* sun_path holds 108 bytes: 107 of path and the NUL. */
static void test_listen_path_length_limit(void **state)
{
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path) + 8];
	size_t base;
	int fd;

	(void)state;
	tmp_path(path, sizeof(path), "");
	base = strlen(path);
	memset(path + base, 'p', sizeof(sa.sun_path) - base);
	path[sizeof(sa.sun_path)] = '\0';	/* 108 bytes: one too many */
	assert_int_equal(ipc_listen(path, 0660), -ENAMETOOLONG);
	assert_false(is_socket(path));

	path[sizeof(sa.sun_path) - 1] = '\0';	/* 107 bytes: the longest that fits */
	fd = ipc_listen(path, 0660);
	assert_true(fd >= 0);
	assert_true(is_socket(path));
	close(fd);
	unlink(path);

	assert_int_equal(ipc_listen("", 0660), -EINVAL);
}

static void test_listen_replaces_stale_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[128];
	int fd, cfd, sfd;

	(void)state;
	tmp_path(path, sizeof(path), "stale.sock");
	/* A daemon that died: its socket file stays, nothing listens on it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd);
	assert_true(is_socket(path));
	assert_int_equal(ipc_connect(path), -ECONNREFUSED);

	fd = ipc_listen(path, 0660);
	assert_true(fd >= 0);
	cfd = ipc_connect(path);
	assert_true(cfd >= 0);
	sfd = accept_one(fd);
	close(sfd);
	close(cfd);
	close(fd);
	unlink(path);
}

static void test_listen_detects_live_daemon(void **state)
{
	char path[128];
	int fd, cfd, sfd;

	(void)state;
	tmp_path(path, sizeof(path), "live.sock");
	fd = ipc_listen(path, 0660);
	assert_true(fd >= 0);
	assert_int_equal(ipc_listen(path, 0660), -EADDRINUSE);
	assert_int_equal(ipc_listen(path, 0660), -EADDRINUSE);

	/* The running daemon's socket is untouched: clients still reach it. */
	sfd = accept_one(fd);	/* the probe's connection */
	close(sfd);
	sfd = accept_one(fd);
	close(sfd);
	cfd = ipc_connect(path);
	assert_true(cfd >= 0);
	sfd = accept_one(fd);
	assert_int_equal(ipc_send_frame(sfd, "{}", 2), 0);
	close(sfd);
	close(cfd);
	close(fd);
	unlink(path);
}

static void test_listen_never_clobbers_other_files(void **state)
{
	char path[128], link[128], buf[16] = { 0 };
	struct stat st;
	int fd;

	(void)state;
	tmp_path(path, sizeof(path), "regular");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	write_all(fd, "keep me", 7);
	close(fd);
	assert_int_equal(ipc_listen(path, 0660), -EEXIST);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "keep me");
	close(fd);

	/* Nor a symlink (not even followed), nor a directory. */
	tmp_path(link, sizeof(link), "link.sock");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ipc_listen(link, 0660), -EEXIST);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	tmp_path(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(ipc_listen(path, 0660), -EEXIST);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void check_mode(const char *name, unsigned int mode, mode_t mask)
{
	mode_t old = umask(mask);
	char path[128];
	struct stat st;
	int fd;

	tmp_path(path, sizeof(path), name);
	fd = ipc_listen(path, mode);
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	close(fd);
	unlink(path);
}

static void test_listen_applies_mode(void **state)
{
	(void)state;
	/* Whatever the umask, the socket gets exactly the mode asked for. */
	check_mode("mode-a.sock", 0660, 022);
	check_mode("mode-b.sock", 0660, 077);
	check_mode("mode-c.sock", 0660, 0);
	check_mode("mode-d.sock", 0600, 022);
}

static void test_listen_creates_parent_dirs(void **state)
{
	char path[128], dir[128];
	mode_t old;
	struct stat st;
	int fd;

	(void)state;
	tmp_path(path, sizeof(path), "run/bpfd/bpfd.sock");
	old = umask(077);
	fd = ipc_listen(path, 0660);
	umask(old);
	assert_true(fd >= 0);
	assert_true(is_socket(path));
	tmp_path(dir, sizeof(dir), "run");
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	tmp_path(dir, sizeof(dir), "run/bpfd");
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	close(fd);

	/* An existing parent keeps its mode. */
	assert_int_equal(chmod(dir, 0700), 0);
	unlink(path);
	fd = ipc_listen(path, 0660);
	assert_true(fd >= 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	close(fd);
	unlink(path);
}

static void test_listen_parent_not_a_directory(void **state)
{
	char file[128], path[128];
	int fd;

	(void)state;
	tmp_path(file, sizeof(file), "plainfile");
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	tmp_path(path, sizeof(path), "plainfile/bpfd.sock");
	assert_int_equal(ipc_listen(path, 0660), -ENOTDIR);
}

int main(void)
{
	const struct CMUnitTest framing[] = {
		cmocka_unit_test(test_append_header_is_big_endian),
		cmocka_unit_test(test_append_rejects_oversized),
		cmocka_unit_test(test_frame_in_place),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_zero_length_frame),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_header_split),
		cmocka_unit_test(test_every_split_point),
		cmocka_unit_test(test_many_frames_one_feed),
		cmocka_unit_test(test_payload_survives_until_next_call),
		cmocka_unit_test(test_exactly_max_accepted),
		cmocka_unit_test(test_oversized_rejected_and_stays_failed),
		cmocka_unit_test(test_oversized_after_good_frame),
		cmocka_unit_test(test_custom_max_frame),
	};
	const struct CMUnitTest blocking[] = {
		cmocka_unit_test(test_recv_small_chunks),
		cmocka_unit_test(test_recv_eof_before_any_byte),
		cmocka_unit_test(test_recv_eof_inside_frame),
		cmocka_unit_test(test_recv_frame_then_eof),
		cmocka_unit_test(test_recv_oversized),
		cmocka_unit_test(test_send_large_frame_interrupted),
		cmocka_unit_test(test_send_errors),
	};
	const struct CMUnitTest sockets[] = {
		cmocka_unit_test(test_listen_connect_exchange),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_listen_path_length_limit),
		cmocka_unit_test(test_listen_replaces_stale_socket),
		cmocka_unit_test(test_listen_detects_live_daemon),
		cmocka_unit_test(test_listen_never_clobbers_other_files),
		cmocka_unit_test(test_listen_applies_mode),
		cmocka_unit_test(test_listen_creates_parent_dirs),
		cmocka_unit_test(test_listen_parent_not_a_directory),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("framing", framing, NULL, NULL);
	failed += cmocka_run_group_tests_name("blocking", blocking, NULL, NULL);
	failed += cmocka_run_group_tests_name("listen", sockets, listen_setup, listen_teardown);
	return failed ? 1 : 0;
}
