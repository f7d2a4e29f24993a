// SPDX-License-Identifier: MIT
#include "protocol/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int fail(char err[REQUEST_ERROR_MAX], const char *fmt, const char *what)
{
	snprintf(err, REQUEST_ERROR_MAX, fmt, what);
	return -EINVAL;
}

/* The op's arguments: strings (or null, meaning absent) within their bounds. */
static int check_args(const struct request_op *op, json_t *req, char err[REQUEST_ERROR_MAX])
{
	const struct request_arg *a;

	for (a = op->args; a->name; a++) {
		json_t *v = json_object_get(req, a->name);

		if (!v || json_is_null(v)) {
			if (a->required)
				return fail(err, "bad request: '%s' must be a string", a->name);
			continue;
		}
		if (!json_is_string(v))
			return fail(err, "bad request: '%s' must be a string", a->name);
		if (json_string_length(v) > a->max)
			return fail(err, "bad request: '%s' is too long", a->name);
	}
	return 0;
}

int request_decode(const struct request_op *ops, const char *payload, size_t len, json_t **json,
		   const struct request_op **op, char err[REQUEST_ERROR_MAX])
{
	const struct request_op *o;
	json_error_t jerr;
	json_t *req, *name;
	int r;

	*json = NULL;
	*op = NULL;
	/* Duplicated keys are refused: which one the daemon obeyed would be a guess. */
	req = json_loadb(payload, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!req)
		return fail(err, "bad JSON: %s", jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return fail(err, "%s", "bad request: not a JSON object");
	}
	name = json_object_get(req, "op");
	if (!name) {
		json_decref(req);
		return fail(err, "%s", "bad request: missing 'op'");
	}
	if (!json_is_string(name)) {
		json_decref(req);
		return fail(err, "%s", "bad request: 'op' must be a string");
	}
	for (o = ops; o->name; o++)
		if (strcmp(o->name, json_string_value(name)) == 0)
			break;
	if (!o->name) {
		char shown[64];

		snprintf(shown, sizeof(shown), "%s", json_string_value(name));
		json_decref(req);
		return fail(err, "unknown op '%s'", shown);
	}
	r = check_args(o, req, err);
	if (r < 0) {
		json_decref(req);
		return r;
	}
	*json = req;
	*op = o;
	return 0;
}
