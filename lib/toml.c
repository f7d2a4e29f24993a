// SPDX-License-Identifier: MIT
/*
 * A TOML 1.0 reader for rule files (toml.h says what it takes). Written from
 * the TOML 1.0.0 specification; where the text leaves a case open, it does
 * what python3-tomli does, since that is the oracle the tests compare with.
 *
 * One pass over the input, no tokenizer: each construct is recognised by its
 * first bytes. Recursion happens only for arrays and inline tables inside
 * values, and every container checks TOML_MAX_DEPTH before it recurses.
 * Library code: no logging, no global state; errors go to struct toml_error.
 */
#include "lib/toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"

enum {
	/*
	 * Below this many keys a linear scan beats hashing; above it, hash so
	 * that a table of many keys does not make parsing quadratic.
	 */
	TABLE_INDEX_MIN = 8,
	/* Longest key name quoted in an error message, in bytes. */
	KEY_NAME_MAX = 64,
};

/*
 * How a table came to exist decides what may add to it later (TOML 1.0,
 * "Table" and "Keys"): a table named only as the parent in a header may
 * still get its own header once; a header-defined table never again, and
 * dotted keys cannot reach into it from outside; a table made by dotted keys
 * is closed when its section ends; an inline table is complete as written.
 */
enum table_origin {
	TABLE_IMPLICIT,
	TABLE_HEADER,
	TABLE_DOTTED,
	TABLE_INLINE,
};

struct key_part {
	char *s;	/* owned until moved into a table */
	size_t len;
};

/* A dotted key as written: a.b."c d". */
struct key {
	struct key_part *parts;
	size_t n;
	size_t alloc;
	unsigned int line;
};

struct parser {
	const char *p;
	const char *end;
	unsigned int line;
	/* Counts table headers: a table made by dotted keys belongs to one. */
	unsigned int section;
	struct toml_value *root;
	struct toml_value *current;	/* where key/value lines go */
	struct toml_error *err;
};

/* A printable description of one character, returned by value so it can sit in an argument list. */
struct char_desc {
	char s[24];
};

static int parse_value(struct parser *ps, unsigned int depth, struct toml_value **out);

/* ---- errors ---- */

/* Cuts a trailing partial UTF-8 sequence, so a clipped message stays valid UTF-8. */
static void clip_utf8(char *s)
{
	size_t len = strlen(s), lead = len, cont = 0, need;
	unsigned char c;

	while (lead > 0 && cont < 3 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80) {
		lead--;
		cont++;
	}
	if (lead == 0)
		return;
	c = (unsigned char)s[lead - 1];
	if (c < 0xc0)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (cont + 1 < need)
		s[lead - 1] = '\0';
}

static int fail(struct parser *ps, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	ps->err->line = line;
	va_start(ap, fmt);
	vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
	va_end(ap);
	clip_utf8(ps->err->message);
	return -EINVAL;
}

static int fail_nomem(struct parser *ps)
{
	ps->err->line = 0;
	snprintf(ps->err->message, sizeof(ps->err->message), "out of memory");
	return -ENOMEM;
}

/* ---- characters ---- */

/* The byte @off ahead, or -1 past the end (the input may hold NUL bytes). */
static int peek(const struct parser *ps, size_t off)
{
	if ((size_t)(ps->end - ps->p) <= off)
		return -1;
	return (unsigned char)ps->p[off];
}

static bool starts_with(const struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static bool is_ws(int c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
	       c == '-';
}

/* Control characters TOML forbids raw in strings and comments (tab aside, which callers allow). */
static bool is_control(int c)
{
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

/* What may follow a number or boolean: it must not run into another word. */
static bool is_value_end(int c)
{
	return c == -1 || is_ws(c) || c == '\n' || c == '\r' || c == '#' || c == ',' || c == ']' ||
	       c == '}';
}

/*
 * Length of the UTF-8 sequence at @s (@n bytes available) and its code point,
 * or 0 when it is not valid UTF-8: overlong forms, surrogates and anything
 * past U+10FFFF are refused, as Python's strict decoder refuses them.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static struct char_desc describe(const struct parser *ps)
{
	struct char_desc d;
	int c = peek(ps, 0);
	uint32_t cp;

	if (c == -1)
		snprintf(d.s, sizeof(d.s), "the end of the file");
	else if (c == '\n')
		snprintf(d.s, sizeof(d.s), "the end of the line");
	else if (c == ' ')
		snprintf(d.s, sizeof(d.s), "a space");
	else if (c == '\t')
		snprintf(d.s, sizeof(d.s), "a tab");
	else if (c > ' ' && c < 0x7f)
		snprintf(d.s, sizeof(d.s), "'%c'", c);
	else if (c < 0x80 || !utf8_decode((const unsigned char *)ps->p, ps->end - ps->p, &cp))
		snprintf(d.s, sizeof(d.s), "U+%04X", (unsigned int)c);
	else
		snprintf(d.s, sizeof(d.s), "U+%04X", (unsigned int)cp);
	return d;
}

/* ---- key names in messages ---- */

static bool is_bare_key(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_bare_key_char((unsigned char)s[i]))
			return false;
	return true;
}

struct key_name {
	char s[KEY_NAME_MAX + 8];
};

/* Appends @len bytes of @s to @name->s at *@pos, stopping short of the limit. */
static void name_add(struct key_name *name, size_t *pos, const char *s, size_t len)
{
	size_t room = KEY_NAME_MAX - *pos;

	if (*pos >= KEY_NAME_MAX)
		return;
	if (len > room)
		len = room;
	memcpy(name->s + *pos, s, len);
	*pos += len;
}

/*
 * The first @n parts of @k as TOML would write them (a.b."c d"), clipped to
 * KEY_NAME_MAX bytes with "...". Control characters are escaped so that the
 * message stays one printable line.
 */
static struct key_name key_name(const struct key *k, size_t n)
{
	struct key_name name;
	size_t pos = 0, i, j;
	char esc[8];

	for (i = 0; i < n; i++) {
		const struct key_part *part = &k->parts[i];

		if (i)
			name_add(&name, &pos, ".", 1);
		if (is_bare_key(part->s, part->len)) {
			name_add(&name, &pos, part->s, part->len);
			continue;
		}
		name_add(&name, &pos, "\"", 1);
		for (j = 0; j < part->len; j++) {
			unsigned char c = (unsigned char)part->s[j];

			if (c == '"' || c == '\\') {
				esc[0] = '\\';
				esc[1] = (char)c;
				name_add(&name, &pos, esc, 2);
			} else if (is_control(c)) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				name_add(&name, &pos, esc, 6);
			} else {
				name_add(&name, &pos, (const char *)&c, 1);
			}
		}
		name_add(&name, &pos, "\"", 1);
	}
	if (pos >= KEY_NAME_MAX) {
		name.s[KEY_NAME_MAX] = '\0';
		clip_utf8(name.s);
		strcat(name.s, "...");
	} else {
		name.s[pos] = '\0';
	}
	return name;
}

static const char *kind_of(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_BOOLEAN:
		return "a boolean";
	case TOML_ARRAY:
		return v->priv.array_of_tables ? "an array of tables" : "an array";
	case TOML_TABLE:
		return v->priv.origin == TABLE_INLINE ? "an inline table" : "a table";
	}
	return "a value";
}

/* ---- the tree ---- */

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_BOOLEAN:
		return "boolean";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "unknown";
}

void toml_free(struct toml_value *v)
{
	size_t i;

	if (!v)
		return;
	switch (v->type) {
	case TOML_STRING:
		free(v->string.ptr);
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->array.len; i++)
			toml_free(v->array.items[i]);
		free(v->array.items);
		break;
	case TOML_TABLE:
		for (i = 0; i < v->table.len; i++) {
			free(v->table.entries[i].key);
			toml_free(v->table.entries[i].value);
		}
		free(v->table.entries);
		free(v->priv.index);
		break;
	default:
		break;
	}
	free(v);
}

static struct toml_value *value_new(enum toml_type type, unsigned int line)
{
	struct toml_value *v = calloc(1, sizeof(*v));

	if (v) {
		v->type = type;
		v->line = line;
	}
	return v;
}

/*
 * FNV-1a, unseeded: the parser keeps no state between calls. Crafted
 * collisions could slow one parse down, but only for someone who may write
 * rules (root or the socket's group), within TOML_MAX_INPUT.
 */
static uint32_t key_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void index_put(struct toml_value *t, size_t pos)
{
	const struct toml_entry *e = &t->table.entries[pos];
	uint32_t mask = t->priv.index_size - 1;
	uint32_t i = key_hash(e->key, e->key_len) & mask;

	while (t->priv.index[i])
		i = (i + 1) & mask;
	t->priv.index[i] = (uint32_t)pos + 1;
}

/* Keeps the index at most half full; 0 or -ENOMEM (the table is unchanged then). */
static int index_reserve(struct toml_value *t, size_t n)
{
	uint32_t size = t->priv.index_size ? t->priv.index_size : 32;
	uint32_t *index;
	size_t i;

	if (n < TABLE_INDEX_MIN || (t->priv.index_size && n * 2 <= t->priv.index_size))
		return 0;
	while (n * 2 > size)
		size *= 2;
	index = calloc(size, sizeof(*index));
	if (!index)
		return -ENOMEM;
	free(t->priv.index);
	t->priv.index = index;
	t->priv.index_size = size;
	for (i = 0; i < t->table.len; i++)
		index_put(t, i);
	return 0;
}

static struct toml_entry *table_find(const struct toml_value *t, const char *key, size_t len)
{
	struct toml_entry *e;
	uint32_t mask, i, pos;
	size_t k;

	if (!t->priv.index_size) {
		for (k = 0; k < t->table.len; k++) {
			e = &t->table.entries[k];
			if (e->key_len == len && memcmp(e->key, key, len) == 0)
				return e;
		}
		return NULL;
	}
	mask = t->priv.index_size - 1;
	for (i = key_hash(key, len) & mask; (pos = t->priv.index[i]); i = (i + 1) & mask) {
		e = &t->table.entries[pos - 1];
		if (e->key_len == len && memcmp(e->key, key, len) == 0)
			return e;
	}
	return NULL;
}

/*
 * Adds @v under the key @part, taking both on success (part->s becomes NULL).
 * The caller has checked that the key is new. 0 or -ENOMEM.
 */
static int table_add(struct toml_value *t, struct key_part *part, unsigned int line,
		     struct toml_value *v)
{
	struct toml_entry *entries;
	size_t alloc;

	if (t->table.len == t->priv.alloc) {
		alloc = t->priv.alloc ? t->priv.alloc * 2 : 4;
		entries = realloc(t->table.entries, alloc * sizeof(*entries));
		if (!entries)
			return -ENOMEM;
		t->table.entries = entries;
		t->priv.alloc = alloc;
	}
	if (index_reserve(t, t->table.len + 1) < 0)
		return -ENOMEM;
	t->table.entries[t->table.len] = (struct toml_entry){
		.key = part->s,
		.key_len = part->len,
		.line = line,
		.value = v,
	};
	t->table.len++;
	if (t->priv.index_size)
		index_put(t, t->table.len - 1);
	part->s = NULL;
	return 0;
}

/* Appends @v to @a, taking it on success. 0 or -ENOMEM. */
static int array_push(struct toml_value *a, struct toml_value *v)
{
	struct toml_value **items;
	size_t alloc;

	if (a->array.len == a->priv.alloc) {
		alloc = a->priv.alloc ? a->priv.alloc * 2 : 4;
		items = realloc(a->array.items, alloc * sizeof(*items));
		if (!items)
			return -ENOMEM;
		a->array.items = items;
		a->priv.alloc = alloc;
	}
	a->array.items[a->array.len++] = v;
	return 0;
}

static int check_depth(struct parser *ps, unsigned int depth)
{
	if (depth > TOML_MAX_DEPTH)
		return fail(ps, ps->line, "tables and arrays nest deeper than %d levels",
			    TOML_MAX_DEPTH);
	return 0;
}

/* A new empty table of @origin at @depth into *@out: 0, or the error (depth, memory). */
static int table_new(struct parser *ps, unsigned int line, unsigned int depth,
		     enum table_origin origin, struct toml_value **out)
{
	struct toml_value *t;
	int err;

	err = check_depth(ps, depth);
	if (err)
		return err;
	t = value_new(TOML_TABLE, line);
	if (!t)
		return fail_nomem(ps);
	t->priv.depth = depth;
	t->priv.origin = origin;
	t->priv.section = ps->section;
	*out = t;
	return 0;
}

/* Makes a new table of @origin under @part of @t into *@out: 0, or the error. */
static int add_table(struct parser *ps, struct toml_value *t, struct key_part *part,
		     unsigned int line, enum table_origin origin, struct toml_value **out)
{
	struct toml_value *child;
	int err;

	err = table_new(ps, line, t->priv.depth + 1, origin, &child);
	if (err)
		return err;
	if (table_add(t, part, line, child) < 0) {
		toml_free(child);
		return fail_nomem(ps);
	}
	*out = child;
	return 0;
}

/* ---- whitespace, comments, line ends ---- */

static void skip_ws(struct parser *ps)
{
	while (is_ws(peek(ps, 0)))
		ps->p++;
}

/* At '#': skips the comment up to (not over) its newline. */
static int skip_comment(struct parser *ps)
{
	int c;

	ps->p++;
	while ((c = peek(ps, 0)) != -1 && c != '\n') {
		if (is_control(c) && c != '\t')
			return fail(ps, ps->line, "control character %s in a comment",
				    describe(ps).s);
		ps->p++;
	}
	return 0;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static int skip_blank(struct parser *ps)
{
	int c, err;

	for (;;) {
		c = peek(ps, 0);
		if (is_ws(c)) {
			ps->p++;
		} else if (c == '\n') {
			ps->p++;
			ps->line++;
		} else if (c == '#') {
			err = skip_comment(ps);
			if (err)
				return err;
		} else {
			return 0;
		}
	}
}

/* After a key/value or a header: optional whitespace and comment, then a newline or the end. */
static int expect_line_end(struct parser *ps, const char *after)
{
	int c, err;

	skip_ws(ps);
	if (peek(ps, 0) == '#') {
		err = skip_comment(ps);
		if (err)
			return err;
	}
	c = peek(ps, 0);
	if (c == -1)
		return 0;
	if (c == '\n') {
		ps->p++;
		ps->line++;
		return 0;
	}
	if (c == '\r')
		return fail(ps, ps->line, "a carriage return must be followed by a newline");
	return fail(ps, ps->line, "expected the end of the line after %s, found %s", after,
		    describe(ps).s);
}

/* ---- strings ---- */

static int add_bytes(struct parser *ps, struct strbuf *out, const char *s, size_t len)
{
	if (len && strbuf_add(out, s, len) < 0)
		return fail_nomem(ps);
	return 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t utf8_encode(uint32_t cp, char *buf)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | cp >> 6);
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | cp >> 12);
		buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | cp >> 18);
	buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At a backslash in a basic string: one escape sequence, appended to @out. */
static int parse_escape(struct parser *ps, struct strbuf *out)
{
	int c = peek(ps, 1), digits, d, i;
	uint32_t cp = 0;
	char buf[4];
	size_t n;

	switch (c) {
	case 'b':
		buf[0] = '\b';
		break;
	case 't':
		buf[0] = '\t';
		break;
	case 'n':
		buf[0] = '\n';
		break;
	case 'f':
		buf[0] = '\f';
		break;
	case 'r':
		buf[0] = '\r';
		break;
	case '"':
		buf[0] = '"';
		break;
	case '\\':
		buf[0] = '\\';
		break;
	case 'u':
	case 'U':
		digits = c == 'u' ? 4 : 8;
		for (i = 0; i < digits; i++) {
			d = hex_value(peek(ps, 2 + i));
			if (d < 0)
				return fail(ps, ps->line,
					    "\\%c must be followed by %d hexadecimal digits", c,
					    digits);
			cp = cp << 4 | (uint32_t)d;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return fail(ps, ps->line, "\\%c%.*s is not a Unicode scalar value", c,
				    digits, ps->p + 2);
		n = utf8_encode(cp, buf);
		ps->p += 2 + digits;
		return add_bytes(ps, out, buf, n);
	default:
		ps->p++;
		if (c > ' ' && c < 0x7f)
			return fail(ps, ps->line, "invalid escape sequence \\%c", c);
		return fail(ps, ps->line, "invalid escape sequence: '\\' followed by %s",
			    describe(ps).s);
	}
	ps->p += 2;
	return add_bytes(ps, out, buf, 1);
}

static int control_in_string(struct parser *ps)
{
	return fail(ps, ps->line, "control character %s in a string (write it as an escape)",
		    describe(ps).s);
}

/* At '"': a basic string on one line. */
static int parse_basic_string(struct parser *ps, struct strbuf *out)
{
	const char *run;
	int c, err;

	ps->p++;
	for (;;) {
		run = ps->p;
		while ((c = peek(ps, 0)) != -1 && c != '"' && c != '\\' &&
		       (!is_control(c) || c == '\t'))
			ps->p++;
		err = add_bytes(ps, out, run, ps->p - run);
		if (err)
			return err;
		if (c == '"') {
			ps->p++;
			return 0;
		}
		if (c == '\\') {
			err = parse_escape(ps, out);
			if (err)
				return err;
			continue;
		}
		if (c == -1 || c == '\n')
			return fail(ps, ps->line,
				    "unterminated string (a \"...\" string ends on its line)");
		return control_in_string(ps);
	}
}

/* At "'": a literal string on one line, no escapes. */
static int parse_literal_string(struct parser *ps, struct strbuf *out)
{
	const char *run;
	int c, err;

	ps->p++;
	run = ps->p;
	while ((c = peek(ps, 0)) != -1 && c != '\'' && (!is_control(c) || c == '\t'))
		ps->p++;
	err = add_bytes(ps, out, run, ps->p - run);
	if (err)
		return err;
	if (c == '\'') {
		ps->p++;
		return 0;
	}
	if (c == -1 || c == '\n')
		return fail(ps, ps->line, "unterminated string (a '...' string ends on its line)");
	return control_in_string(ps);
}

/*
 * At the closing delimiter @q (three of them): up to two more quotes right
 * before it belong to the content ("""a""""" is `a""`), as TOML 1.0 allows.
 */
static int close_multiline(struct parser *ps, struct strbuf *out, char q)
{
	size_t extra = 0;
	char quotes[2] = { q, q };

	while (extra < 2 && peek(ps, 3 + extra) == q)
		extra++;
	ps->p += 3 + extra;
	return add_bytes(ps, out, quotes, extra);
}

/* At '"""': a multi-line basic string. */
static int parse_ml_basic_string(struct parser *ps, struct strbuf *out)
{
	unsigned int start = ps->line;
	const char *run;
	int c, err;

	ps->p += 3;
	/* A newline right after the opening delimiter is trimmed. */
	if (peek(ps, 0) == '\n') {
		ps->p++;
		ps->line++;
	}
	for (;;) {
		run = ps->p;
		while ((c = peek(ps, 0)) != -1 && c != '"' && c != '\\' &&
		       (!is_control(c) || c == '\t' || c == '\n')) {
			if (c == '\n')
				ps->line++;
			ps->p++;
		}
		err = add_bytes(ps, out, run, ps->p - run);
		if (err)
			return err;
		if (c == -1)
			return fail(ps, ps->line,
				    "unterminated multi-line string (opened on line %u)", start);
		if (c == '"') {
			if (starts_with(ps, "\"\"\""))
				return close_multiline(ps, out, '"');
			ps->p++;
			err = add_bytes(ps, out, "\"", 1);
			if (err)
				return err;
			continue;
		}
		if (c != '\\')
			return control_in_string(ps);
		c = peek(ps, 1);
		if (!is_ws(c) && c != '\n') {
			err = parse_escape(ps, out);
			if (err)
				return err;
			continue;
		}
		/*
		 * A line-ending backslash: it and all whitespace and newlines
		 * after it vanish. Only whitespace may sit between it and the newline.
		 */
		ps->p++;
		skip_ws(ps);
		c = peek(ps, 0);
		if (c != '\n' && c != -1)
			return fail(ps, ps->line,
				    "only whitespace may follow a line-ending backslash, found %s",
				    describe(ps).s);
		while ((c = peek(ps, 0)) == '\n' || is_ws(c)) {
			if (c == '\n')
				ps->line++;
			ps->p++;
		}
	}
}

/* At "'''": a multi-line literal string. */
static int parse_ml_literal_string(struct parser *ps, struct strbuf *out)
{
	unsigned int start = ps->line;
	const char *run;
	int c, err;

	ps->p += 3;
	if (peek(ps, 0) == '\n') {
		ps->p++;
		ps->line++;
	}
	for (;;) {
		run = ps->p;
		while ((c = peek(ps, 0)) != -1 && c != '\'' &&
		       (!is_control(c) || c == '\t' || c == '\n')) {
			if (c == '\n')
				ps->line++;
			ps->p++;
		}
		err = add_bytes(ps, out, run, ps->p - run);
		if (err)
			return err;
		if (c == -1)
			return fail(ps, ps->line,
				    "unterminated multi-line string (opened on line %u)", start);
		if (c != '\'')
			return control_in_string(ps);
		if (starts_with(ps, "'''"))
			return close_multiline(ps, out, '\'');
		ps->p++;
		err = add_bytes(ps, out, "'", 1);
		if (err)
			return err;
	}
}

/* A string value in any of the four forms. */
static int parse_string_value(struct parser *ps, struct toml_value **out)
{
	struct strbuf sb = STRBUF_INIT;
	struct toml_value *v;
	unsigned int line = ps->line;
	int err;

	if (starts_with(ps, "\"\"\""))
		err = parse_ml_basic_string(ps, &sb);
	else if (starts_with(ps, "'''"))
		err = parse_ml_literal_string(ps, &sb);
	else if (peek(ps, 0) == '"')
		err = parse_basic_string(ps, &sb);
	else
		err = parse_literal_string(ps, &sb);
	if (!err && !sb.buf && strbuf_grow(&sb, 0) < 0)
		err = fail_nomem(ps);
	if (err) {
		strbuf_release(&sb);
		return err;
	}
	v = value_new(TOML_STRING, line);
	if (!v) {
		strbuf_release(&sb);
		return fail_nomem(ps);
	}
	v->string.ptr = sb.buf;
	v->string.len = sb.len;
	*out = v;
	return 0;
}

/* ---- keys ---- */

static void key_release(struct key *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->parts[i].s);
	free(k->parts);
	*k = (struct key){ 0 };
}

/* A key, dotted or not, with whitespace allowed around the dots. */
static int parse_key(struct parser *ps, struct key *k)
{
	struct strbuf sb = STRBUF_INIT;
	struct key_part *parts;
	const char *run;
	int c, err;

	k->line = ps->line;
	for (;;) {
		skip_ws(ps);
		c = peek(ps, 0);
		if (k->n == TOML_MAX_DEPTH)
			return fail(ps, ps->line, "a key has more than %d parts", TOML_MAX_DEPTH);
		if (c == '"' || c == '\'') {
			if (starts_with(ps, "\"\"\"") || starts_with(ps, "'''"))
				return fail(ps, ps->line, "a multi-line string cannot be a key");
			if (c == '"')
				err = parse_basic_string(ps, &sb);
			else
				err = parse_literal_string(ps, &sb);
		} else if (is_bare_key_char(c)) {
			run = ps->p;
			while (is_bare_key_char(peek(ps, 0)))
				ps->p++;
			err = add_bytes(ps, &sb, run, ps->p - run);
		} else if (c > ' ' && c < 0x7f) {
			return fail(ps, ps->line,
				    "expected a key, found %s (a key is A-Za-z0-9_- or quoted)",
				    describe(ps).s);
		} else {
			return fail(ps, ps->line, "expected a key, found %s", describe(ps).s);
		}
		if (!err && !sb.buf && strbuf_grow(&sb, 0) < 0)
			err = fail_nomem(ps);
		if (!err && k->n == k->alloc) {
			parts = realloc(k->parts, (k->alloc ? k->alloc * 2 : 4) * sizeof(*parts));
			if (parts) {
				k->parts = parts;
				k->alloc = k->alloc ? k->alloc * 2 : 4;
			} else {
				err = fail_nomem(ps);
			}
		}
		if (err) {
			strbuf_release(&sb);
			return err;
		}
		k->parts[k->n++] = (struct key_part){ .s = sb.buf, .len = sb.len };
		sb = (struct strbuf)STRBUF_INIT;
		skip_ws(ps);
		if (peek(ps, 0) != '.')
			return 0;
		ps->p++;
	}
}

/* ---- key/value pairs ---- */

/*
 * Walks the dotted parts of @k but the last from @t, creating tables, and
 * checks that the last part is new: *@parent is the table the value goes into.
 */
static int resolve_dotted(struct parser *ps, struct toml_value *t, struct key *k,
			  struct toml_value **parent)
{
	struct toml_entry *e;
	struct toml_value *v;
	size_t i;
	int err;

	for (i = 0; i + 1 < k->n; i++) {
		e = table_find(t, k->parts[i].s, k->parts[i].len);
		if (!e) {
			err = add_table(ps, t, &k->parts[i], k->line, TABLE_DOTTED, &t);
			if (err)
				return err;
			continue;
		}
		v = e->value;
		if (v->type != TOML_TABLE)
			return fail(ps, k->line, "cannot set %s: %s is already %s (line %u)",
				    key_name(k, k->n).s, key_name(k, i + 1).s, kind_of(v), e->line);
		switch (v->priv.origin) {
		case TABLE_INLINE:
			return fail(ps, k->line,
				    "cannot set %s: %s is an inline table (line %u), which cannot be extended",
				    key_name(k, k->n).s, key_name(k, i + 1).s, e->line);
		case TABLE_HEADER:
			return fail(ps, k->line,
				    "cannot set %s: %s is a table with its own header (line %u); "
				    "set the key under that header",
				    key_name(k, k->n).s, key_name(k, i + 1).s, v->line);
		case TABLE_DOTTED:
			if (v->priv.section != ps->section)
				return fail(ps, k->line,
					    "cannot set %s: table %s was closed after line %u",
					    key_name(k, k->n).s, key_name(k, i + 1).s, e->line);
			break;
		case TABLE_IMPLICIT:
			/* Named in passing by a header; these dotted keys define it. */
			v->priv.origin = TABLE_DOTTED;
			v->priv.section = ps->section;
			v->line = k->line;
			break;
		}
		t = v;
	}
	e = table_find(t, k->parts[k->n - 1].s, k->parts[k->n - 1].len);
	if (e)
		return fail(ps, k->line, "key %s is defined twice (first on line %u)",
			    key_name(k, k->n).s, e->line);
	*parent = t;
	return 0;
}

/* `key = value` into @t, up to the value's end: used at top level and in inline tables. */
static int parse_keyval(struct parser *ps, struct toml_value *t)
{
	struct key k = { 0 };
	struct toml_value *parent = NULL, *v = NULL;
	int err;

	err = parse_key(ps, &k);
	if (err)
		goto out;
	if (peek(ps, 0) != '=') {
		err = fail(ps, ps->line, "expected '=' after the key %s, found %s",
			   key_name(&k, k.n).s, describe(ps).s);
		goto out;
	}
	ps->p++;
	skip_ws(ps);
	err = resolve_dotted(ps, t, &k, &parent);
	if (err)
		goto out;
	err = parse_value(ps, parent->priv.depth + 1, &v);
	if (err)
		goto out;
	if (table_add(parent, &k.parts[k.n - 1], k.line, v) < 0) {
		toml_free(v);
		err = fail_nomem(ps);
	}
out:
	key_release(&k);
	return err;
}

/* ---- values ---- */

static int fail_float(struct parser *ps, unsigned int line)
{
	return fail(ps, line, "floats are not supported in rule files");
}

/* Digits of @radix with single underscores between them, into *@acc, bounded by @limit. */
static int parse_digits(struct parser *ps, int radix, uint64_t limit, uint64_t *acc)
{
	unsigned int line = ps->line;
	int c, d;

	*acc = 0;
	d = hex_value(peek(ps, 0));
	if (d < 0 || d >= radix)
		return fail(ps, line, "expected a digit, found %s", describe(ps).s);
	for (;;) {
		c = peek(ps, 0);
		if (c == '_') {
			d = hex_value(peek(ps, 1));
			if (d < 0 || d >= radix)
				return fail(ps, line,
					    "an underscore in a number must sit between digits");
			ps->p++;
			continue;
		}
		d = hex_value(c);
		if (d < 0 || d >= radix)
			return 0;
		if (*acc > (limit - (uint64_t)d) / (uint64_t)radix)
			return fail(ps, line, "integer out of range (64-bit signed)");
		*acc = *acc * (uint64_t)radix + (uint64_t)d;
		ps->p++;
	}
}

/* YYYY- or HH: at the value's start: a date or a time, which TOML has but rule files do not. */
static bool looks_like_datetime(const struct parser *ps)
{
	return (is_digit(peek(ps, 0)) && is_digit(peek(ps, 1)) && is_digit(peek(ps, 2)) &&
		is_digit(peek(ps, 3)) && peek(ps, 4) == '-') ||
	       (is_digit(peek(ps, 0)) && is_digit(peek(ps, 1)) && peek(ps, 2) == ':');
}

static int parse_number(struct parser *ps, struct toml_value **out)
{
	unsigned int line = ps->line;
	bool sign = false, neg = false;
	uint64_t acc, limit = INT64_MAX;
	struct toml_value *v;
	int c = peek(ps, 0), radix = 10, err;

	if (c == '+' || c == '-') {
		sign = true;
		neg = c == '-';
		ps->p++;
	}
	if ((starts_with(ps, "inf") || starts_with(ps, "nan")) && is_value_end(peek(ps, 3)))
		return fail_float(ps, line);
	c = peek(ps, 0);
	if (!is_digit(c))
		return fail(ps, line, "expected a number after the sign, found %s", describe(ps).s);
	if (!sign && looks_like_datetime(ps))
		return fail(ps, line, "dates and times are not supported in rule files");
	if (c == '0' && (peek(ps, 1) == 'x' || peek(ps, 1) == 'o' || peek(ps, 1) == 'b')) {
		radix = peek(ps, 1) == 'x' ? 16 : peek(ps, 1) == 'o' ? 8 : 2;
		if (sign)
			return fail(ps, line,
				    "a sign is not allowed on a hexadecimal, octal or binary integer");
		ps->p += 2;
		err = parse_digits(ps, radix, limit, &acc);
	} else {
		if (c == '0' && (is_digit(peek(ps, 1)) || peek(ps, 1) == '_'))
			return fail(ps, line, "leading zeros are not allowed in integers");
		if (neg)
			limit = (uint64_t)INT64_MAX + 1;
		err = parse_digits(ps, 10, limit, &acc);
		c = peek(ps, 0);
		if (!err && (c == '.' || c == 'e' || c == 'E'))
			return fail_float(ps, line);
	}
	if (err)
		return err;
	if (!is_value_end(peek(ps, 0)))
		return fail(ps, line, "invalid integer: unexpected %s", describe(ps).s);
	v = value_new(TOML_INTEGER, line);
	if (!v)
		return fail_nomem(ps);
	if (neg)
		v->integer = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		v->integer = (int64_t)acc;
	*out = v;
	return 0;
}

static int parse_array(struct parser *ps, unsigned int depth, struct toml_value **out)
{
	unsigned int line = ps->line;
	struct toml_value *a, *item;
	int c, err;

	err = check_depth(ps, depth);
	if (err)
		return err;
	a = value_new(TOML_ARRAY, line);
	if (!a)
		return fail_nomem(ps);
	a->priv.depth = depth;
	ps->p++;
	for (;;) {
		err = skip_blank(ps);
		if (err)
			goto fail;
		if (peek(ps, 0) == ']')
			break;
		if (peek(ps, 0) == -1) {
			err = fail(ps, ps->line, "unterminated array (opened on line %u)", line);
			goto fail;
		}
		err = parse_value(ps, depth + 1, &item);
		if (err)
			goto fail;
		if (array_push(a, item) < 0) {
			toml_free(item);
			err = fail_nomem(ps);
			goto fail;
		}
		err = skip_blank(ps);
		if (err)
			goto fail;
		c = peek(ps, 0);
		if (c == ',') {
			ps->p++;
			continue;
		}
		if (c == ']')
			break;
		if (c == -1)
			err = fail(ps, ps->line, "unterminated array (opened on line %u)", line);
		else
			err = fail(ps, ps->line, "expected ',' or ']' in the array, found %s",
				   describe(ps).s);
		goto fail;
	}
	ps->p++;
	*out = a;
	return 0;
fail:
	toml_free(a);
	return err;
}

static int parse_inline_table(struct parser *ps, unsigned int depth, struct toml_value **out)
{
	unsigned int line = ps->line;
	struct toml_value *t;
	int c, err;

	err = table_new(ps, line, depth, TABLE_INLINE, &t);
	if (err)
		return err;
	ps->p++;
	skip_ws(ps);
	if (peek(ps, 0) == '}') {
		ps->p++;
		*out = t;
		return 0;
	}
	for (;;) {
		err = parse_keyval(ps, t);
		if (err)
			goto fail;
		skip_ws(ps);
		c = peek(ps, 0);
		if (c == '}')
			break;
		if (c == ',') {
			ps->p++;
			skip_ws(ps);
			if (peek(ps, 0) == '}') {
				err = fail(ps, ps->line,
					   "a trailing comma is not allowed in an inline table");
				goto fail;
			}
			continue;
		}
		if (c == '\n' || c == -1 || c == '#')
			err = fail(ps, ps->line,
				   "unterminated inline table (opened on line %u; it must end on "
				   "the line of its last value)", line);
		else
			err = fail(ps, ps->line,
				   "expected ',' or '}' in the inline table, found %s",
				   describe(ps).s);
		goto fail;
	}
	ps->p++;
	*out = t;
	return 0;
fail:
	toml_free(t);
	return err;
}

/* Any value; @depth is its own depth, checked if it is a container. */
static int parse_value(struct parser *ps, unsigned int depth, struct toml_value **out)
{
	unsigned int line = ps->line;
	struct toml_value *v;
	int c = peek(ps, 0);

	switch (c) {
	case '"':
	case '\'':
		return parse_string_value(ps, out);
	case '[':
		return parse_array(ps, depth, out);
	case '{':
		return parse_inline_table(ps, depth, out);
	case 't':
	case 'f':
		if ((starts_with(ps, "true") && is_value_end(peek(ps, 4))) ||
		    (starts_with(ps, "false") && is_value_end(peek(ps, 5)))) {
			v = value_new(TOML_BOOLEAN, line);
			if (!v)
				return fail_nomem(ps);
			v->boolean = c == 't';
			ps->p += c == 't' ? 4 : 5;
			*out = v;
			return 0;
		}
		break;
	case 'i':
	case 'n':
		if ((starts_with(ps, "inf") || starts_with(ps, "nan")) && is_value_end(peek(ps, 3)))
			return fail_float(ps, line);
		break;
	case '+':
	case '-':
		return parse_number(ps, out);
	default:
		if (is_digit(c))
			return parse_number(ps, out);
		break;
	}
	if (c == '.' && is_digit(peek(ps, 1)))
		return fail_float(ps, line);
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return fail(ps, line, "expected a value, found %s (strings must be quoted)",
			    describe(ps).s);
	return fail(ps, line, "expected a value, found %s", describe(ps).s);
}

/* ---- table headers ---- */

/* At '[': a [table] or [[array of tables]] header line. */
static int parse_header(struct parser *ps)
{
	unsigned int line = ps->line;
	bool aot = peek(ps, 1) == '[';
	struct toml_value *t = ps->root, *v, *a;
	const char *open = aot ? "[[" : "[", *close = aot ? "]]" : "]";
	struct key k = { 0 };
	struct toml_entry *e;
	struct key_part *last;
	size_t i;
	int err;

	ps->p += aot ? 2 : 1;
	err = parse_key(ps, &k);
	if (err)
		goto out;
	if (!starts_with(ps, close)) {
		/* For "[[a]", describe what follows the lone ']'. */
		if (aot && peek(ps, 0) == ']')
			ps->p++;
		err = fail(ps, line, "expected '%s' after %s%s, found %s", close, open,
			   key_name(&k, k.n).s, describe(ps).s);
		goto out;
	}
	ps->p += strlen(close);

	/* Parents: create what is missing, step into the last table of an array of tables. */
	for (i = 0; i + 1 < k.n; i++) {
		e = table_find(t, k.parts[i].s, k.parts[i].len);
		if (!e) {
			err = add_table(ps, t, &k.parts[i], line, TABLE_IMPLICIT, &t);
			if (err)
				goto out;
			continue;
		}
		v = e->value;
		if (v->type == TOML_TABLE && v->priv.origin != TABLE_INLINE) {
			t = v;
		} else if (v->type == TOML_ARRAY && v->priv.array_of_tables) {
			t = v->array.items[v->array.len - 1];
		} else {
			err = fail(ps, line, "cannot define %s%s%s: %s is already %s (line %u)",
				   open, key_name(&k, k.n).s, close, key_name(&k, i + 1).s,
				   kind_of(v), e->line);
			goto out;
		}
	}

	last = &k.parts[k.n - 1];
	e = table_find(t, last->s, last->len);
	if (!aot) {
		if (!e) {
			err = add_table(ps, t, last, line, TABLE_HEADER, &t);
			if (err)
				goto out;
		} else if (e->value->type == TOML_TABLE &&
			   e->value->priv.origin == TABLE_IMPLICIT) {
			/* [a.b] named [a] in passing; this is its definition. */
			t = e->value;
			t->priv.origin = TABLE_HEADER;
			t->line = line;
			e->line = line;
		} else if (e->value->type == TOML_TABLE &&
			   e->value->priv.origin == TABLE_HEADER) {
			err = fail(ps, line, "table [%s] is defined twice (first on line %u)",
				   key_name(&k, k.n).s, e->value->line);
			goto out;
		} else if (e->value->type == TOML_TABLE &&
			   e->value->priv.origin == TABLE_DOTTED) {
			err = fail(ps, line,
				   "table [%s] is already defined by dotted keys (line %u)",
				   key_name(&k, k.n).s, e->value->line);
			goto out;
		} else {
			err = fail(ps, line, "cannot define table [%s]: it is already %s (line %u)",
				   key_name(&k, k.n).s, kind_of(e->value), e->line);
			goto out;
		}
	} else {
		if (!e) {
			err = check_depth(ps, t->priv.depth + 1);
			if (err)
				goto out;
			a = value_new(TOML_ARRAY, line);
			if (!a || table_add(t, last, line, a) < 0) {
				toml_free(a);
				err = fail_nomem(ps);
				goto out;
			}
			a->priv.depth = t->priv.depth + 1;
			a->priv.array_of_tables = true;
		} else if (e->value->type == TOML_ARRAY && e->value->priv.array_of_tables) {
			a = e->value;
		} else {
			err = fail(ps, line,
				   "cannot define array of tables [[%s]]: it is already %s (line %u)",
				   key_name(&k, k.n).s, kind_of(e->value), e->line);
			goto out;
		}
		err = table_new(ps, line, a->priv.depth + 1, TABLE_HEADER, &t);
		if (err)
			goto out;
		if (array_push(a, t) < 0) {
			toml_free(t);
			err = fail_nomem(ps);
			goto out;
		}
	}
	ps->section++;
	ps->current = t;
	err = expect_line_end(ps, "a table header");
out:
	key_release(&k);
	return err;
}

/* ---- the document ---- */

static int parse_document(struct parser *ps)
{
	int c, err;

	for (;;) {
		skip_ws(ps);
		c = peek(ps, 0);
		if (c == -1)
			return 0;
		if (c == '\n') {
			ps->p++;
			ps->line++;
			continue;
		}
		if (c == '#') {
			err = skip_comment(ps);
		} else if (c == '[') {
			err = parse_header(ps);
		} else {
			err = parse_keyval(ps, ps->current);
			if (!err)
				err = expect_line_end(ps, "a value");
		}
		if (err)
			return err;
	}
}

/* Whole-input checks up front: UTF-8 everywhere, so later code may trust multi-byte sequences. */
static int check_encoding(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->p;
	size_t n = ps->end - ps->p, i = 0, len;
	unsigned int line = 1;
	uint32_t cp;

	if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return fail(ps, 1,
			    "a byte order mark is not allowed (save the file as UTF-8 without BOM)");
	while (i < n) {
		if (s[i] < 0x80) {
			line += s[i] == '\n';
			i++;
			continue;
		}
		len = utf8_decode(s + i, n - i, &cp);
		if (!len)
			return fail(ps, line, "invalid UTF-8 (byte 0x%02x)", s[i]);
		i += len;
	}
	return 0;
}

/* A copy of @text with every CRLF turned into LF, NUL-terminated. */
static char *normalize_newlines(const char *text, size_t len, size_t *out_len)
{
	char *buf = malloc(len + 1);
	size_t i, n = 0;

	if (!buf)
		return NULL;
	for (i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		buf[n++] = text[i];
	}
	buf[n] = '\0';
	*out_len = n;
	return buf;
}

int toml_parse(const char *text, size_t len, struct toml_value **root, struct toml_error *err)
{
	struct toml_error scratch;
	struct parser ps = { 0 };
	size_t n;
	char *buf;
	int ret;

	*root = NULL;
	if (!err)
		err = &scratch;
	*err = (struct toml_error){ 0 };
	ps.err = err;
	ps.line = 1;
	if (len > TOML_MAX_INPUT) {
		snprintf(err->message, sizeof(err->message), "larger than %d bytes",
			 TOML_MAX_INPUT);
		return -EFBIG;
	}
	buf = normalize_newlines(len ? text : "", len, &n);
	if (!buf)
		return fail_nomem(&ps);
	ps.p = buf;
	ps.end = buf + n;
	ret = check_encoding(&ps);
	if (!ret) {
		ret = table_new(&ps, 1, 0, TABLE_HEADER, &ps.root);
	}
	if (!ret) {
		ps.current = ps.root;
		ret = parse_document(&ps);
	}
	free(buf);
	if (ret) {
		toml_free(ps.root);
		return ret;
	}
	*root = ps.root;
	return 0;
}

/* ---- lookups ---- */

const struct toml_value *toml_getn(const struct toml_value *table, const char *key, size_t len)
{
	const struct toml_entry *e;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	e = table_find(table, key, len);
	return e ? e->value : NULL;
}

const struct toml_value *toml_get(const struct toml_value *table, const char *key)
{
	return toml_getn(table, key, strlen(key));
}

const struct toml_entry *toml_get_entry(const struct toml_value *table, const char *key)
{
	return toml_get_entry_n(table, key, strlen(key));
}

const struct toml_entry *toml_get_entry_n(const struct toml_value *table, const char *key,
					  size_t len)
{
	if (!table || table->type != TOML_TABLE)
		return NULL;
	return table_find(table, key, len);
}

size_t toml_table_len(const struct toml_value *table)
{
	return table && table->type == TOML_TABLE ? table->table.len : 0;
}

const struct toml_entry *toml_table_at(const struct toml_value *table, size_t i)
{
	return i < toml_table_len(table) ? &table->table.entries[i] : NULL;
}

size_t toml_array_len(const struct toml_value *array)
{
	return array && array->type == TOML_ARRAY ? array->array.len : 0;
}

const struct toml_value *toml_array_at(const struct toml_value *array, size_t i)
{
	return i < toml_array_len(array) ? array->array.items[i] : NULL;
}
