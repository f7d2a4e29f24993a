// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what a client controls: bytes fed to the frame
 * decoder (ipc.c) in pieces whose sizes the input chooses, and each whole
 * frame through the request decoder (request.c). Every frame must decode
 * to a known op or to an error message; nothing may crash or leak.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "protocol/request.h"

/*
 * Argument shapes like the daemon's ops (control.c, which links the whole
 * daemon): optional, required and bounded strings.
 */
static const struct request_arg no_args[] = { { NULL, 0, 0 } };
static const struct request_arg trace_args[] = {
	{ "tracer", 63, 0 }, { "rule", 255, 0 }, { "container", 128, 0 }, { NULL, 0, 0 },
};
static const struct request_arg create_args[] = {
	{ "file", 255, 0 }, { "content", (size_t)-1, 1 }, { NULL, 0, 0 },
};
static const struct request_op ops[] = {
	{ "status", no_args, REQUEST_ACCESS_READ, NULL },
	{ "trace", trace_args, REQUEST_ACCESS_READ, NULL },
	{ "create_rule", create_args, REQUEST_ACCESS_ADMIN, NULL },
	{ NULL, NULL, REQUEST_ACCESS_NONE, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_reader r;
	const char *payload;
	size_t len, off = 0, chunk;
	int ret;

	if (size < 1)
		return 0;
	/* The first byte sets how the stream is cut into reads. */
	chunk = 1 + data[0] % 64;
	data++;
	size--;
	/* Small frames: the 1 MiB limit would make the fuzzer allocate for nothing. */
	ipc_reader_init(&r, 4096);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (ipc_reader_feed(&r, data + off, n) < 0)
			abort();
		off += n;
		while ((ret = ipc_reader_next(&r, &payload, &len)) == 1) {
			const struct request_op *op;
			char err[REQUEST_ERROR_MAX];
			json_t *req;

			if (payload[len] != '\0')
				abort();
			if (request_decode(ops, payload, len, &req, &op, err) == 0) {
				if (!op || !json_is_object(req))
					abort();
				json_decref(req);
			} else if (!err[0]) {
				abort();
			}
		}
		if (ret == -EMSGSIZE)
			break;
		if (ret != 0)
			abort();
	}
	ipc_reader_release(&r);
	return 0;
}
