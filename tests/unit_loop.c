// SPDX-License-Identifier: MIT
/*
 * The event loop: a callback that removes and frees another watch whose
 * event is in the same batch must not see that watch called.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/loop.h"

static struct loop loop;
static struct loop_watch *watches[2];
static int calls;

/* Whichever runs first removes and frees the other. */
static void removes_other(struct loop_watch *w, uint32_t events)
{
	int i = w == watches[0] ? 1 : 0;
	struct loop_watch *other = watches[i];

	(void)events;
	calls++;
	loop_remove(&loop, other);
	close(other->fd);
	free(other);
	watches[i] = NULL;
	loop_remove(&loop, w);
}

static void test_remove_in_batch(void **state)
{
	int p[2][2], i;

	(void)state;
	assert_int_equal(loop_init(&loop), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pipe(p[i]), 0);
		assert_int_equal(write(p[i][1], "x", 1), 1);
		watches[i] = calloc(1, sizeof(*watches[i]));
		*watches[i] = (struct loop_watch){ .fd = p[i][0], .fn = removes_other };
		assert_int_equal(loop_add(&loop, watches[i], EPOLLIN), 0);
	}
	/* Both are ready: one batch holds both events. */
	assert_int_equal(loop_run_once(&loop, 1000), 2);
	assert_int_equal(calls, 1);
	assert_int_equal(loop_run_once(&loop, 0), 0);
	for (i = 0; i < 2; i++) {
		if (watches[i]) {
			close(watches[i]->fd);
			free(watches[i]);
		}
		close(p[i][1]);
	}
	loop_release(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_in_batch),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
