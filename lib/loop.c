// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

enum { LOOP_BATCH = 64 };

int loop_init(struct loop *l)
{
	l->stop = false;
	l->batch = NULL;
	l->batch_n = 0;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void loop_release(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static int ctl(struct loop *l, int op, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(l->epfd, op, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

int loop_add(struct loop *l, struct loop_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, w, events);
}

int loop_modify(struct loop *l, struct loop_watch *w, uint32_t events)
{
	if (w->events == events)
		return 0;
	return ctl(l, EPOLL_CTL_MOD, w, events);
}

void loop_remove(struct loop *l, struct loop_watch *w)
{
	int i;

	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	for (i = 0; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == w)
			l->batch[i].data.ptr = NULL;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n, i;

	n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->batch = evs;
	l->batch_n = n;
	for (i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;

		/* NULL: removed by an earlier callback of this batch. */
		if (w)
			w->fn(w, evs[i].events);
	}
	l->batch = NULL;
	l->batch_n = 0;
	return n;
}

int64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
