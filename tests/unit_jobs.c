// SPDX-License-Identifier: MIT
/* The background actions' job queue: its limits, its order, deadlines and deferred jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "actions/jobs.h"

struct item {
	int id;
	struct job job;		/* not first: job_of() must find the item */
};

static int id_of(struct job *j)
{
	return j ? job_of(j, struct item, job)->id : -1;
}

/* Two slots, three waiting: the sixth job is refused, the others run in arrival order. */
static void test_limits_and_order(void **state)
{
	struct item it[6];
	struct job_queue q;
	struct job *j;
	int i;

	(void)state;
	job_queue_init(&q, 2, 3);
	for (i = 0; i < 6; i++) {
		it[i].id = i;
		if (i == 5) {
			assert_true(job_queue_full(&q));
			break;
		}
		assert_false(job_queue_full(&q));
		job_queue_push(&q, &it[i].job);
		if (i < 2)
			job_queue_run(&q, job_queue_take(&q), 0);
	}
	assert_int_equal(job_queue_pending(&q), 5);
	/* No free slot: nothing is taken. */
	assert_null(job_queue_take(&q));
	job_queue_done(&q, &it[0].job);
	assert_false(job_queue_full(&q));
	j = job_queue_take(&q);
	assert_int_equal(id_of(j), 2);
	job_queue_run(&q, j, 0);
	assert_null(job_queue_take(&q));
	job_queue_done(&q, &it[1].job);
	job_queue_done(&q, &it[2].job);
	assert_int_equal(id_of(job_queue_take(&q)), 3);
	assert_int_equal(id_of(job_queue_take(&q)), 4);
	assert_null(job_queue_take(&q));
	assert_int_equal(job_queue_pending(&q), 0);
}

/* No room to wait (checkpoint): full exactly when every slot is taken. */
static void test_no_waiting(void **state)
{
	struct item a = { .id = 1 }, b = { .id = 2 };
	struct job_queue q;

	(void)state;
	job_queue_init(&q, 1, 0);
	assert_false(job_queue_full(&q));
	job_queue_run(&q, &a.job, 100);
	assert_true(job_queue_full(&q));
	job_queue_done(&q, &b.job);	/* not running: nothing changes */
	assert_true(job_queue_full(&q));
	job_queue_done(&q, &a.job);
	assert_false(job_queue_full(&q));
}

/* Deadlines: the earliest is the timer; each expired job is returned once. */
static void test_deadlines(void **state)
{
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct job_queue q;

	(void)state;
	job_queue_init(&q, 3, 0);
	assert_int_equal(job_queue_next(&q), 0);
	job_queue_run(&q, &a.job, 300);
	job_queue_run(&q, &b.job, 100);
	job_queue_run(&q, &c.job, 0);	/* no deadline */
	assert_int_equal(job_queue_next(&q), 100);
	assert_null(job_queue_expired(&q, 99));
	assert_int_equal(id_of(job_queue_expired(&q, 100)), 2);
	assert_null(job_queue_expired(&q, 100));
	assert_int_equal(job_queue_next(&q), 300);
	assert_int_equal(id_of(job_queue_expired(&q, 1000)), 1);
	assert_null(job_queue_expired(&q, 1000));
	assert_int_equal(job_queue_next(&q), 0);
	/* Expired jobs still hold their slot until they are done. */
	assert_int_equal(job_queue_pending(&q), 3);
}

/* Deferred jobs count as waiting, and queue behind the waiting ones when due. */
static void test_deferred(void **state)
{
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct job_queue q;

	(void)state;
	job_queue_init(&q, 1, 2);
	job_queue_run(&q, &a.job, 0);
	job_queue_defer(&q, &b.job, 500);
	job_queue_push(&q, &c.job);
	assert_true(job_queue_full(&q));
	assert_int_equal(job_queue_next(&q), 500);
	job_queue_due(&q, 499);
	assert_int_equal(q.n_deferred, 1);
	job_queue_due(&q, 500);
	assert_int_equal(q.n_deferred, 0);
	assert_int_equal(q.n_waiting, 2);
	assert_int_equal(job_queue_next(&q), 0);
	job_queue_done(&q, &a.job);
	assert_int_equal(id_of(job_queue_take(&q)), 3);
	job_queue_done(&q, &c.job);
	assert_int_equal(id_of(job_queue_take(&q)), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_and_order),
		cmocka_unit_test(test_no_waiting),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_deferred),
	};

	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
