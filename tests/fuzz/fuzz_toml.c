// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the TOML reader (toml.c). Not built by meson; build
 * and run by hand, from the top of the tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. toml.c strbuf.c \
 *       tests/fuzz/fuzz_toml.c -o /tmp/fuzz_toml
 *   mkdir -p /tmp/fuzz_toml_corpus
 *   /tmp/fuzz_toml -max_total_time=60 /tmp/fuzz_toml_corpus tests/fuzz/corpus_toml
 *
 * (new inputs go to the first directory; tests/fuzz/corpus_toml is the seed
 * corpus: the documents of tests/toml/.) Besides crashes and sanitizer
 * reports, it checks what every outcome promises: an error has a line
 * inside the document and a UTF-8 message; a tree respects TOML_MAX_DEPTH,
 * holds only UTF-8 strings, has unique keys, and every lookup finds its key.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/toml.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4, cp = s[i] & 0x07;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* @depth: of @v's container levels so far (root 0). */
static void walk(const struct toml_value *v, unsigned int depth, unsigned int lines)
{
	size_t i, j;

	check(v->line >= 1 && v->line <= lines);
	switch (v->type) {
	case TOML_STRING:
		check(v->string.ptr != NULL && v->string.ptr[v->string.len] == '\0');
		check(utf8_valid((const unsigned char *)v->string.ptr, v->string.len));
		break;
	case TOML_INTEGER:
	case TOML_BOOLEAN:
		break;
	case TOML_ARRAY:
		check(depth <= TOML_MAX_DEPTH);
		for (i = 0; i < toml_array_len(v); i++)
			walk(toml_array_at(v, i), depth + 1, lines);
		break;
	case TOML_TABLE:
		check(depth <= TOML_MAX_DEPTH);
		for (i = 0; i < toml_table_len(v); i++) {
			const struct toml_entry *e = toml_table_at(v, i);

			check(e->key != NULL && e->key[e->key_len] == '\0');
			check(utf8_valid((const unsigned char *)e->key, e->key_len));
			check(e->line >= 1 && e->line <= lines);
			check(toml_getn(v, e->key, e->key_len) == e->value);
			/* Unique keys; a quadratic check, so only for small tables. */
			for (j = 0; j < i && toml_table_len(v) < 64; j++)
				check(toml_table_at(v, j)->key_len != e->key_len ||
				      memcmp(toml_table_at(v, j)->key, e->key, e->key_len) != 0);
			walk(e->value, depth + 1, lines);
		}
		break;
	default:
		check(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root = (struct toml_value *)1;
	struct toml_error err;
	unsigned int lines = 1;
	size_t i;
	int ret;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	ret = toml_parse((const char *)data, size, &root, &err);
	if (ret < 0) {
		check(root == NULL);
		check(ret == -EINVAL || ret == -EFBIG || ret == -ENOMEM);
		if (ret == -EINVAL)
			check(err.line >= 1 && err.line <= lines);
		check(err.message[0] != '\0');
		check(memchr(err.message, '\0', sizeof(err.message)) != NULL);
		check(utf8_valid((const unsigned char *)err.message, strlen(err.message)));
		return 0;
	}
	check(ret == 0 && root != NULL && root->type == TOML_TABLE);
	walk(root, 0, lines);
	toml_free(root);
	return 0;
}
