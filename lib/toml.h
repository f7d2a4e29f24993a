/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TOML_H
#define BPFD_TOML_H

/*
 * A reader for the TOML 1.0 documents that rule files are (docs/rules.md).
 *
 * Everything of TOML 1.0 except dates/times and floats: comments, the four
 * string forms with all escapes, integers (decimal, 0x, 0o, 0b, underscores),
 * booleans, arrays (several lines, trailing comma, mixed types), tables,
 * arrays of tables, dotted headers and keys, quoted keys and inline tables,
 * with TOML's rules against defining a key or table twice. A date, time or
 * float is an error that names the feature, so a rule author learns that the
 * document is fine TOML that rule files do not take.
 *
 * The input is bytes: it must be UTF-8 (a byte order mark is refused, as
 * python3-tomli refuses it), CRLF counts as LF (also inside multi-line
 * strings, whose values get "\n"), and it may hold at most TOML_MAX_INPUT
 * bytes. Containers nest at most TOML_MAX_DEPTH deep, counting tables and
 * arrays from the root, so code walking a tree recursively is bounded too.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TOML_MAX_INPUT = 1 << 20,	/* bytes; a rule file is a few hundred */
	TOML_MAX_DEPTH = 64,		/* tables and arrays, root excluded */
	TOML_ERROR_MAX = 256,		/* room for two quoted key names and the text */
};

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_BOOLEAN,
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_entry;

/*
 * One value of the tree. Read the member that `type` names; everything is
 * owned by the tree and freed by toml_free() on the root. `line` (1-based)
 * is where the value starts; for a table, the line of the header that
 * defined it (or first named it as a parent, if none did), of its `{`, or
 * of the dotted key that defined it.
 */
struct toml_value {
	enum toml_type type;
	unsigned int line;
	union {
		/* UTF-8, NUL-terminated, but may hold NULs (from \u0000): use len. */
		struct {
			char *ptr;
			size_t len;
		} string;
		int64_t integer;
		bool boolean;
		struct {
			struct toml_value **items;
			size_t len;
		} array;
		/* Keys in the order the document first named them. */
		struct {
			struct toml_entry *entries;
			size_t len;
		} table;
	};
	/* Private to toml.c: what the parser needs to enforce TOML's redefinition rules. */
	struct {
		size_t alloc;
		uint32_t *index;	/* hash of entry positions, once a table grows */
		uint32_t index_size;
		unsigned int depth;
		unsigned int section;
		unsigned char origin;
		bool array_of_tables;
	} priv;
};

/* A key of a table. `key` is NUL-terminated, may hold NULs: use key_len. */
struct toml_entry {
	char *key;
	size_t key_len;
	unsigned int line;	/* where the key was first written */
	struct toml_value *value;
};

/* `line` is 1-based (0 when no line applies: size limit, out of memory). */
struct toml_error {
	unsigned int line;
	char message[TOML_ERROR_MAX];	/* UTF-8, no trailing newline or position */
};

/*
 * Parses @len bytes of @text (no terminating NUL needed). On 0, *@root is a
 * table the caller frees with toml_free(). On error *@root is NULL, @err
 * (may be NULL) says where and why, and the return value is -EINVAL (the
 * document is not valid TOML or uses a feature rule files refuse), -EFBIG
 * (@len over TOML_MAX_INPUT) or -ENOMEM. The caller prints `file:line: message`.
 */
int toml_parse(const char *text, size_t len, struct toml_value **root, struct toml_error *err);

/* Frees @v and everything under it. NULL is fine. */
void toml_free(struct toml_value *v);

/*
 * The value of @key in @table; NULL when @table is NULL, not a table, or has
 * no such key. toml_getn() takes a length, for keys that hold NULs.
 */
const struct toml_value *toml_get(const struct toml_value *table, const char *key);
const struct toml_value *toml_getn(const struct toml_value *table, const char *key, size_t len);

/* The entry of @key (its line, its value) or NULL, as for toml_get(). */
const struct toml_entry *toml_get_entry(const struct toml_value *table, const char *key);
const struct toml_entry *toml_get_entry_n(const struct toml_value *table, const char *key,
					  size_t len);

/*
 * Iteration: for (i = 0; i < toml_table_len(t); i++) e = toml_table_at(t, i).
 * A length is 0 for NULL or for a value of another type; *_at() return NULL
 * out of range.
 */
size_t toml_table_len(const struct toml_value *table);
const struct toml_entry *toml_table_at(const struct toml_value *table, size_t i);
size_t toml_array_len(const struct toml_value *array);
const struct toml_value *toml_array_at(const struct toml_value *array, size_t i);

/* "string", "integer", "boolean", "array", "table": for error messages. */
const char *toml_type_name(enum toml_type type);

#endif
