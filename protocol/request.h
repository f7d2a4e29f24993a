/* SPDX-License-Identifier: MIT */
#ifndef BPFD_REQUEST_H
#define BPFD_REQUEST_H

/*
 * Decoding one request frame of the control protocol (docs/protocol.md):
 * the JSON, the op and the types and sizes of its arguments. Every way a
 * client can get a request wrong is caught here, so that the daemon's
 * handlers (control.c) only see requests they can serve; and this is
 * what the protocol fuzz target (tests/fuzz/fuzz_protocol.c) runs. The
 * ops themselves, with their arguments, are one table in control.c.
 */

#include <jansson.h>
#include <stddef.h>

enum { REQUEST_ERROR_MAX = 320 };

/* A string argument: its name and the longest value accepted, in bytes. */
struct request_arg {
	const char *name;
	size_t max;
	int required;
};

/* Who may call an op: reading is for the socket's group too, changing is not. */
enum request_access { REQUEST_ACCESS_NONE, REQUEST_ACCESS_READ, REQUEST_ACCESS_ADMIN };

struct client;

/*
 * An op's handler: @ctx is the dispatcher's, @request the decoded object.
 * Returns the reply (the caller takes the reference), or NULL when the
 * handler queued its replies itself.
 */
typedef json_t *(*request_handler_fn)(void *ctx, struct client *c, json_t *request);

/*
 * One op of the protocol: the one table of them (control.c) is what the
 * decoder checks a request against and what the dispatcher runs.
 */
struct request_op {
	const char *name;
	const struct request_arg *args;	/* ends with a NULL name */
	enum request_access needs;
	request_handler_fn handler;
};

/*
 * Decodes @len bytes of @payload against @ops (ending with a NULL name).
 * On success, 0, *@json (a new reference to the request object) and *@op;
 * otherwise -EINVAL and the error reply's message in @err ("bad JSON:
 * ...", "unknown op 'x'", "bad request: ...").
 */
int request_decode(const struct request_op *ops, const char *payload, size_t len, json_t **json,
		   const struct request_op **op, char err[REQUEST_ERROR_MAX]);

#endif
