/* SPDX-License-Identifier: MIT */
#ifndef BPFD_REQUEST_H
#define BPFD_REQUEST_H

/*
 * Decoding one request frame of the control protocol (docs/protocol.md):
 * the JSON, the op and the types and sizes of its arguments. Every way a
 * client can get a request wrong is caught here, so that the daemon's
 * handlers (control.c) only see requests they can serve; and this is
 * what the protocol fuzz target (tests/fuzz/fuzz_protocol.c) runs.
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

struct request_op {
	const char *name;
	const struct request_arg *args;	/* ends with a NULL name */
};

/* Every op, ending with a NULL name. */
extern const struct request_op request_ops[];

/*
 * Decodes @len bytes of @payload. On success, 0, *@json (a new reference
 * to the request object) and *@op; otherwise -EINVAL and the error reply's
 * message in @err ("bad JSON: ...", "unknown op 'x'", "bad request: ...").
 */
int request_decode(const char *payload, size_t len, json_t **json, const struct request_op **op,
		   char err[REQUEST_ERROR_MAX]);

#endif
