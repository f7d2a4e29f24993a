// SPDX-License-Identifier: MIT
/* Request decoding: every way a client can get a request wrong, and the right ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/request.h"

/*
 * The decoder is generic over a table of ops; the daemon's table, with its
 * handlers, is control.c's control_ops (which links the whole daemon).
 * These are the schemas of its ops that the cases below exercise, checked
 * against the daemon's by tests/integration/test_protocol.py.
 */
static const struct request_arg no_args[] = { { NULL, 0, 0 } };
static const struct request_arg trace_args[] = {
	{ "tracer", 63, 0 }, { "rule", 255, 0 }, { "container", 128, 0 }, { NULL, 0, 0 },
};
static const struct request_arg create_args[] = {
	{ "file", 255, 0 }, { "content", (size_t)-1, 1 }, { NULL, 0, 0 },
};
static const struct request_arg remove_args[] = { { "name", 255, 1 }, { NULL, 0, 0 } };
static const struct request_op ops[] = {
	{ "version", no_args, REQUEST_ACCESS_READ, NULL },
	{ "status", no_args, REQUEST_ACCESS_READ, NULL },
	{ "tracers", no_args, REQUEST_ACCESS_READ, NULL },
	{ "trace", trace_args, REQUEST_ACCESS_READ, NULL },
	{ "create_rule", create_args, REQUEST_ACCESS_ADMIN, NULL },
	{ "remove_rule", remove_args, REQUEST_ACCESS_ADMIN, NULL },
	{ "list_rules", no_args, REQUEST_ACCESS_READ, NULL },
	{ NULL, NULL, REQUEST_ACCESS_NONE, NULL },
};

static void expect_error(const char *text, const char *message)
{
	const struct request_op *op;
	char err[REQUEST_ERROR_MAX];
	json_t *req = (json_t *)1;

	assert_int_equal(request_decode(ops, text, strlen(text), &req, &op, err), -EINVAL);
	assert_null(req);
	assert_null(op);
	if (strncmp(err, message, strlen(message)) != 0)
		fail_msg("%s\n  got:      %s\n  expected: %s", text, err, message);
}

static void test_good_requests(void **state)
{
	static const char *const good[] = {
		"{\"op\":\"status\"}",
		"{\"op\":\"trace\",\"tracer\":\"exec\",\"rule\":null,\"container\":\"ab\"}",
		"{\"op\":\"create_rule\",\"content\":\"tracer = \\\"exec\\\"\"}",
		"{\"op\":\"remove_rule\",\"name\":\"x\",\"extra\":[1,2]}",
		"{\"op\":\"list_rules\"}",
		"{\"op\":\"version\"}",
		"{\"op\":\"tracers\"}",
	};
	const struct request_op *op;
	char err[REQUEST_ERROR_MAX];
	json_t *req;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (request_decode(ops, good[i], strlen(good[i]), &req, &op, err) != 0)
			fail_msg("%s: %s", good[i], err);
		assert_non_null(op);
		assert_string_equal(op->name, json_string_value(json_object_get(req, "op")));
		json_decref(req);
	}
}

static void test_bad_requests(void **state)
{
	char big[400];

	(void)state;
	expect_error("", "bad JSON: ");
	expect_error("{\"op\":", "bad JSON: ");
	expect_error("{\"op\":\"status\",\"op\":\"trace\"}", "bad JSON: duplicate object key");
	expect_error("[1]", "bad request: not a JSON object");
	expect_error("\"status\"", "bad request: not a JSON object");
	expect_error("{}", "bad request: missing 'op'");
	expect_error("{\"op\":7}", "bad request: 'op' must be a string");
	expect_error("{\"op\":\"frobnicate\"}", "unknown op 'frobnicate'");
	expect_error("{\"op\":\"trace\",\"tracer\":7}", "bad request: 'tracer' must be a string");
	expect_error("{\"op\":\"create_rule\"}", "bad request: 'content' must be a string");
	expect_error("{\"op\":\"remove_rule\",\"name\":null}", "bad request: 'name' must be a string");
	/* A NUL inside a string never reaches the handlers (C strings would cut it). */
	expect_error("{\"op\":\"trace\",\"rule\":\"a\\u0000b\"}", "bad JSON: \\u0000 is not allowed");
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"op\":\"trace\",\"tracer\":\"", 24);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	expect_error(big, "bad request: 'tracer' is too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_requests),
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
