/* SPDX-License-Identifier: MIT */
#ifndef BPFD_LOOP_H
#define BPFD_LOOP_H

/*
 * The daemon's one event loop: epoll and fd callbacks, nothing else.
 * A watch is embedded in whatever owns the fd; the loop keeps a pointer.
 */

#include <stdbool.h>
#include <stdint.h>

struct loop_watch;
struct epoll_event;
typedef void (*loop_fn)(struct loop_watch *w, uint32_t events);

struct loop_watch {
	int fd;
	loop_fn fn;
	void *ctx;
	uint32_t events;
};

struct loop {
	int epfd;
	bool stop;
	/* The events loop_run_once() is dispatching, for loop_remove(). */
	struct epoll_event *batch;
	int batch_n;
};

int loop_init(struct loop *l);
void loop_release(struct loop *l);

/* Watches w->fd for @events (EPOLLIN, EPOLLOUT...). 0 or -errno. */
int loop_add(struct loop *l, struct loop_watch *w, uint32_t events);
int loop_modify(struct loop *l, struct loop_watch *w, uint32_t events);
/*
 * Stops watching. A callback may remove (and free) any watch, its own or
 * another whose event is still waiting in the batch being dispatched: that
 * event is dropped, never delivered to freed memory.
 */
void loop_remove(struct loop *l, struct loop_watch *w);

/* Waits up to @timeout_ms (-1: forever) and runs the callbacks. Count or -errno. */
int loop_run_once(struct loop *l, int timeout_ms);

/* Monotonic milliseconds. */
int64_t loop_now_ms(void);

#endif
