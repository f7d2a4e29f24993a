// SPDX-License-Identifier: MIT
/*
 * toml_dump FILE: parses FILE with toml.c and prints its tree as one line of
 * JSON, in the shape json.dumps(tomli.load(f)) has (tables as objects in key
 * order, integers as numbers), so tests/integration/test_toml_oracle.py can
 * compare the two. Exit 0 with the JSON, 1 with `FILE:LINE: message` on
 * stderr when the document is refused, 2 on a usage or I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/strbuf.h"
#include "lib/toml.h"

static json_t *to_json(const struct toml_value *v)
{
	json_t *j = NULL, *item;
	size_t i;

	switch (v->type) {
	case TOML_STRING:
		return json_stringn(v->string.ptr, v->string.len);
	case TOML_INTEGER:
		return json_integer(v->integer);
	case TOML_BOOLEAN:
		return json_boolean(v->boolean);
	case TOML_ARRAY:
		j = json_array();
		for (i = 0; j && i < toml_array_len(v); i++) {
			item = to_json(toml_array_at(v, i));
			if (!item || json_array_append_new(j, item) < 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case TOML_TABLE:
		j = json_object();
		for (i = 0; j && i < toml_table_len(v); i++) {
			const struct toml_entry *e = toml_table_at(v, i);

			item = to_json(e->value);
			if (!item || json_object_setn_new(j, e->key, e->key_len, item) < 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct strbuf text = STRBUF_INIT;
	struct toml_value *root;
	struct toml_error err;
	char chunk[65536];
	json_t *json;
	size_t n;
	FILE *f;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: toml_dump FILE\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (strbuf_add(&text, chunk, n) < 0)
			return 2;
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", argv[1]);
		return 2;
	}
	fclose(f);

	ret = toml_parse(text.buf, text.len, &root, &err);
	strbuf_release(&text);
	if (ret < 0) {
		fprintf(stderr, "%s:%u: %s\n", argv[1], err.line, err.message);
		return ret == -EINVAL || ret == -EFBIG ? 1 : 2;
	}
	json = to_json(root);
	toml_free(root);
	if (!json || json_dumpf(json, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) < 0) {
		fprintf(stderr, "%s: cannot encode JSON\n", argv[1]);
		return 2;
	}
	putchar('\n');
	json_decref(json);
	return 0;
}
