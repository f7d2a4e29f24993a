// SPDX-License-Identifier: MIT
/*
 * hooks.c against a fake backend: which hooks are attached, a program
 * shared by several tracers attached once (the compat sys_exit program,
 * the io_uring programs), optional hooks a kernel lacks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bpf/bpf_backend.h"
#include "bpf/hooks.h"

/* A kernel with some tracepoints missing, and one that refuses a program. */
struct fake {
	struct bpf_backend base;
	const char *missing;	/* "category:name" the kernel lacks, or NULL */
	const char *refused;	/* a function that fails to load (-EINVAL), or NULL */
	char attached[16][128];	/* "target function", by link id */
	bool live[16];
	int n;
};

static int fake_attach(struct bpf_backend *b, const char *function, const char *target,
		       char *err, size_t err_size)
{
	struct fake *f = (struct fake *)b;

	if (f->missing && strcmp(target, f->missing) == 0) {
		snprintf(err, err_size, "attaching tracepoint %s: No such file or directory",
			 target);
		return -ENOENT;
	}
	if (f->refused && strcmp(function, f->refused) == 0) {
		snprintf(err, err_size, "loading %s: Invalid argument", function);
		return -EINVAL;
	}
	if (f->n == 16)
		return -ENOSPC;
	snprintf(f->attached[f->n], sizeof(f->attached[0]), "%s %s", target, function);
	f->live[f->n] = true;
	return f->n++;
}

static int fake_tp(struct bpf_backend *b, const char *function, const char *category,
		   const char *event, char *err, size_t err_size)
{
	char target[128];

	snprintf(target, sizeof(target), "%s:%s", category, event);
	return fake_attach(b, function, target, err, err_size);
}

static int fake_raw(struct bpf_backend *b, const char *function, const char *event, char *err,
		    size_t err_size)
{
	return fake_attach(b, function, event, err, err_size);
}

static int fake_tail(struct bpf_backend *b, const char *function, const char *array,
		     unsigned int index, char *err, size_t err_size)
{
	char target[128];

	snprintf(target, sizeof(target), "%s[%u]", array, index);
	return fake_attach(b, function, target, err, err_size);
}

static void fake_detach(struct bpf_backend *b, int link)
{
	((struct fake *)b)->live[link] = false;
}

static const struct bpf_backend_ops fake_ops = {
	.name = "fake",
	.attach_tracepoint = fake_tp,
	.attach_raw_tracepoint = fake_raw,
	.attach_tail_call = fake_tail,
	.detach = fake_detach,
};

/* How many live links run @function on @target. */
static int live(const struct fake *f, const char *target, const char *function)
{
	char want[128];
	int i, n = 0;

	snprintf(want, sizeof(want), "%s %s", target, function);
	for (i = 0; i < f->n; i++)
		n += f->live[i] && strcmp(f->attached[i], want) == 0;
	return n;
}

static const struct tracer_hook exec_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_prepare_exec", "prepare",
	  .optional = "the interpreter is not reported" },
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_exec", "process_exec" },
	{ TRACER_HOOK_TAIL_CALL, "progs", "exec_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "compat_exit", .compat = true },
	{ 0 },
};
static const struct tracer_ops exec_ops = { .name = "exec", .hooks = exec_hooks };

static const struct tracer_hook open_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat", "openat" },
	{ TRACER_HOOK_TAIL_CALL, "progs", "open_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "compat_exit", .compat = true },
	{ 0 },
};
static const struct tracer_ops open_ops = { .name = "open", .hooks = open_hooks };

static const struct tracer_config compat_on = { .compat_syscalls = true };

static void test_all_attached(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct hooks_shared shared = { .n = 0 };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, &shared, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, 4);
	assert_string_equal(note, "");
	assert_int_equal(live(&f, "sched:sched_prepare_exec", "prepare"), 1);
	assert_int_equal(live(&f, "progs[1]", "exec_compat"), 1);
	assert_int_equal(live(&f, "sys_exit", "compat_exit"), 1);
}

static void test_compat_hooks_follow_the_config(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct tracer_config off = { .compat_syscalls = false };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &off, 1, NULL, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(live(&f, "sys_exit", "compat_exit"), 0);
	assert_int_equal(live(&f, "progs[1]", "exec_compat"), 0);
	/* No config at all: no compat hooks either. */
	assert_int_equal(hooks_attach(&f.base, &open_ops, NULL, 1, NULL, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(live(&f, "sys_exit", "compat_exit"), 0);
}

static void test_shared_program_attached_once(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct hooks_shared shared = { .n = 0 };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	assert_int_equal(hooks_attach(&f.base, &open_ops, &compat_on, 2, &shared, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, 3);
	hooks_attached(&shared, &open_ops, &compat_on);
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, &shared, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	/*
	 * exec's own two and its tail call; the sys_exit program is open's
	 * link, running once, and calls both tracers' programs.
	 */
	assert_int_equal(n, 3);
	assert_int_equal(live(&f, "sys_exit", "compat_exit"), 1);
	assert_int_equal(live(&f, "progs[2]", "open_compat"), 1);
	assert_int_equal(live(&f, "progs[1]", "exec_compat"), 1);
}

static void test_failed_tracer_shares_nothing(void **state)
{
	struct fake f = { .base.ops = &fake_ops, .refused = "compat_exit" };
	struct hooks_shared shared = { .n = 0 };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	/* open fails on its last hook: what it attached before is detached. */
	assert_int_equal(hooks_attach(&f.base, &open_ops, &compat_on, 1, &shared, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "loading compat_exit: Invalid argument");
	assert_int_equal(live(&f, "syscalls:sys_exit_openat", "openat"), 0);
	assert_int_equal(live(&f, "progs[1]", "open_compat"), 0);
	/* Not recorded as attached: exec attaches the program itself. */
	f.refused = NULL;
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, &shared, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, 4);
	assert_int_equal(live(&f, "sys_exit", "compat_exit"), 1);
	assert_int_equal(live(&f, "progs[1]", "exec_compat"), 1);
}

static void test_optional_hook_missing(void **state)
{
	struct fake f = { .base.ops = &fake_ops, .missing = "sched:sched_prepare_exec" };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, NULL, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(live(&f, "sched:sched_process_exec", "process_exec"), 1);
	assert_string_equal(note, "sched:sched_prepare_exec is not in this kernel: "
				  "the interpreter is not reported");
}

static void test_optional_hook_that_fails_otherwise(void **state)
{
	struct fake f = { .base.ops = &fake_ops, .refused = "prepare" };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	/* There but refused: the tracer fails, it is not loaded half-blind. */
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, NULL, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "loading prepare: Invalid argument");
	assert_int_equal(live(&f, "sched:sched_prepare_exec", "prepare"), 0);
}

static void test_required_hook_missing(void **state)
{
	struct fake f = { .base.ops = &fake_ops, .missing = "sched:sched_process_exec" };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, NULL, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "attaching tracepoint sched:sched_process_exec: "
				 "No such file or directory");
	/* The optional hook attached before it is detached again. */
	assert_int_equal(live(&f, "sched:sched_prepare_exec", "prepare"), 0);
}

static void test_too_many_hooks(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	char note[256], err[256];
	int links[2], n = -1;

	(void)state;
	assert_int_equal(hooks_attach(&f.base, &exec_ops, &compat_on, 1, NULL, links, 2, &n, note,
				      sizeof(note), err, sizeof(err)),
			 -ENOSPC);
	assert_string_equal(err, "too many hooks");
	assert_int_equal(live(&f, "sched:sched_prepare_exec", "prepare"), 0);
	assert_int_equal(live(&f, "sched:sched_process_exec", "process_exec"), 0);
}

/* Tracers with io_uring handlers, as open, tcpconnect and tcpaccept list them. */
static const struct tracer_hook uopen_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_openat", "openat" },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_submit_req", "submit", .io_uring = true },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_complete", "complete", .io_uring = true },
	{ 0 },
};
static const struct tracer_ops uopen_ops = { .name = "open", .hooks = uopen_hooks,
					     .io_uring_source = "handlers" };

static const struct tracer_hook uconnect_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "sock:inet_sock_set_state", "set_state" },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_submit_req", "submit", .io_uring = true },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_complete", "complete", .io_uring = true },
	{ 0 },
};
static const struct tracer_ops uconnect_ops = { .name = "tcpconnect", .hooks = uconnect_hooks,
						.io_uring_source = "handlers" };

static const struct tracer_hook uaccept_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_accept4", "accept4" },
	{ TRACER_HOOK_TRACEPOINT, "io_uring:io_uring_complete", "complete", .io_uring = true },
	{ 0 },
};
static const struct tracer_ops uaccept_ops = { .name = "tcpaccept", .hooks = uaccept_hooks,
					       .io_uring_source = "handlers" };

/* Attaches @ops as the loader does and records it as loaded. */
static void load(struct fake *f, const struct tracer_ops *ops, struct hooks_shared *shared,
		 int expect_links)
{
	char note[256], err[256];
	int links[8], n = -1;

	assert_int_equal(hooks_attach(&f->base, ops, &compat_on, 1, shared, links, 8, &n, note,
				      sizeof(note), err, sizeof(err)),
			 0);
	assert_int_equal(n, expect_links);
	hooks_attached(shared, ops, &compat_on);
}

static void test_io_uring_programs_attached_once(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct hooks_shared shared = { .n = 0 };
	char err[256];
	int links[8], n = -1;

	(void)state;
	/* The tracers attach their own hooks only. */
	load(&f, &uopen_ops, &shared, 1);
	load(&f, &uconnect_ops, &shared, 1);
	load(&f, &uaccept_ops, &shared, 1);
	assert_int_equal(live(&f, "io_uring:io_uring_complete", "complete"), 0);
	assert_true(hooks_io_uring_wanted(&shared));
	assert_int_equal(hooks_attach_io_uring(&f.base, &shared, links, 8, &n, err, sizeof(err)),
			 1);
	assert_int_equal(n, 2);
	/* One program per tracepoint for the three tracers. */
	assert_int_equal(live(&f, "io_uring:io_uring_submit_req", "submit"), 1);
	assert_int_equal(live(&f, "io_uring:io_uring_complete", "complete"), 1);
}

static void test_io_uring_only_what_is_listed(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct hooks_shared shared = { .n = 0 };
	char err[256];
	int links[8], n = -1;

	(void)state;
	/* tcpaccept alone lists only the completion. */
	load(&f, &uaccept_ops, &shared, 1);
	assert_int_equal(hooks_attach_io_uring(&f.base, &shared, links, 8, &n, err, sizeof(err)),
			 1);
	assert_int_equal(n, 1);
	assert_int_equal(live(&f, "io_uring:io_uring_submit_req", "submit"), 0);
	assert_int_equal(live(&f, "io_uring:io_uring_complete", "complete"), 1);
}

static void test_io_uring_none_wanted(void **state)
{
	struct fake f = { .base.ops = &fake_ops };
	struct hooks_shared shared = { .n = 0 };
	struct tracer_ops no_handlers = uopen_ops;
	char err[256];
	int links[8], n = -1;

	(void)state;
	/* A tracer without io_uring handlers does not want the programs that would call them. */
	no_handlers.io_uring_source = NULL;
	load(&f, &no_handlers, &shared, 1);
	load(&f, &exec_ops, &shared, 4);
	assert_false(hooks_io_uring_wanted(&shared));
	assert_int_equal(hooks_attach_io_uring(&f.base, &shared, links, 8, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(live(&f, "io_uring:io_uring_submit_req", "submit"), 0);
	assert_int_equal(live(&f, "io_uring:io_uring_complete", "complete"), 0);
}

static void test_io_uring_all_or_none(void **state)
{
	struct fake f = { .base.ops = &fake_ops, .missing = "io_uring:io_uring_complete" };
	struct hooks_shared shared = { .n = 0 };
	char err[256];
	int links[8], n = -1;

	(void)state;
	load(&f, &uopen_ops, &shared, 1);
	assert_int_equal(hooks_attach_io_uring(&f.base, &shared, links, 8, &n, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "attaching tracepoint io_uring:io_uring_complete: "
				 "No such file or directory");
	/* The submission's program alone would see half of each request: detached. */
	assert_int_equal(live(&f, "io_uring:io_uring_submit_req", "submit"), 0);
	/* The tracer itself keeps its own hook. */
	assert_int_equal(live(&f, "syscalls:sys_exit_openat", "openat"), 1);
}

static void test_io_uring_of_a_failed_tracer(void **state)
{
	struct fake f = { .base.ops = &fake_ops, .refused = "set_state" };
	struct hooks_shared shared = { .n = 0 };
	char note[256], err[256];
	int links[8], n = -1;

	(void)state;
	/* tcpconnect fails: not recorded, so its io_uring programs are not wanted. */
	assert_int_equal(hooks_attach(&f.base, &uconnect_ops, &compat_on, 1, &shared, links, 8, &n,
				      note, sizeof(note), err, sizeof(err)),
			 -EINVAL);
	assert_false(hooks_io_uring_wanted(&shared));
	load(&f, &uaccept_ops, &shared, 1);
	assert_int_equal(hooks_attach_io_uring(&f.base, &shared, links, 8, &n, err, sizeof(err)),
			 1);
	assert_int_equal(live(&f, "io_uring:io_uring_submit_req", "submit"), 0);
	assert_int_equal(live(&f, "io_uring:io_uring_complete", "complete"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_attached),
		cmocka_unit_test(test_compat_hooks_follow_the_config),
		cmocka_unit_test(test_shared_program_attached_once),
		cmocka_unit_test(test_failed_tracer_shares_nothing),
		cmocka_unit_test(test_optional_hook_missing),
		cmocka_unit_test(test_optional_hook_that_fails_otherwise),
		cmocka_unit_test(test_required_hook_missing),
		cmocka_unit_test(test_too_many_hooks),
		cmocka_unit_test(test_io_uring_programs_attached_once),
		cmocka_unit_test(test_io_uring_only_what_is_listed),
		cmocka_unit_test(test_io_uring_none_wanted),
		cmocka_unit_test(test_io_uring_all_or_none),
		cmocka_unit_test(test_io_uring_of_a_failed_tracer),
	};

	return cmocka_run_group_tests_name("hooks", tests, NULL, NULL);
}
