// SPDX-License-Identifier: MIT
/* The reader of drop-in tracers' descriptions (desc.h, docs/writing-a-tracer.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/toml.h"
#include "pathname.h"
#include "tracers/common/path.h"
#include "tracers/common/record.h"
#include "tracers/dropin/desc.h"

static const struct {
	const char *name;
	uint32_t size;		/* 0: given by the field (string, bytes) or by `size` (flags, enum) */
} types[DROPIN_TYPE_COUNT] = {
	[DROPIN_U8] = { "u8", 1 },	[DROPIN_U16] = { "u16", 2 },
	[DROPIN_U32] = { "u32", 4 },	[DROPIN_U64] = { "u64", 8 },
	[DROPIN_S8] = { "s8", 1 },	[DROPIN_S16] = { "s16", 2 },
	[DROPIN_S32] = { "s32", 4 },	[DROPIN_S64] = { "s64", 8 },
	[DROPIN_STRING] = { "string", 0 },
	[DROPIN_BYTES] = { "bytes", 0 },
	[DROPIN_IPV4] = { "ipv4", 4 },
	[DROPIN_IPV6] = { "ipv6", 16 },
	[DROPIN_PORT] = { "port", 2 },
	[DROPIN_ERRNO] = { "errno", 4 },
	[DROPIN_FLAGS] = { "flags", 0 },
	[DROPIN_ENUM] = { "enum", 0 },
	[DROPIN_MODE] = { "mode", 4 },
	[DROPIN_PATH] = { "path", 0 },
};

/* A path field's head before its bytes: __u32 flags, __u16 len, __u16 arg_len (desc.h). */
enum { PATH_HEAD = 8 };

/* Data keys every drop-in event has (dropin.c): no field may take them. */
static const char *const reserved_keys[] = { "command", "returnval", NULL };

/* The keys a path field gives besides its own (pathname_add_event_keys()). */
static const char *const path_keys[] = { "argument", "resolved" };

size_t dropin_desc_keys(const struct dropin_desc *d, bool all, const char **out, size_t max)
{
	size_t n = 0, i, j;

	for (i = 0; i < d->n_fields; i++) {
		const struct dropin_field *f = &d->fields[i];

		if (!all && !f->key)
			continue;
		if (n < max)
			out[n++] = f->name;
		for (j = 0; f->type == DROPIN_PATH && j < 2; j++)
			if (n < max)
				out[n++] = path_keys[j];
		for (j = 0; j < f->n_bits; j++)
			if (n < max)
				out[n++] = f->bits[j].name;
	}
	return n;
}

const char *dropin_type_name(enum dropin_type t)
{
	return t < DROPIN_TYPE_COUNT ? types[t].name : "?";
}

bool dropin_name_valid(const char *name, size_t len)
{
	size_t i;

	if (!len || len >= DROPIN_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return false;
	for (i = 1; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

/* A C identifier (a BPF function's name) shorter than DROPIN_FUNCTION_MAX. */
static bool c_ident_valid(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= DROPIN_FUNCTION_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

struct reader {
	const char *path;
	char *err;
	size_t err_size;
};

static int __attribute__((format(printf, 4, 5))) fail(struct reader *r, unsigned int line,
						       const char *key, const char *fmt, ...)
{
	char what[DROPIN_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(r->err, r->err_size, "%s:%u: %s: %s", r->path, line, key, what);
	else
		snprintf(r->err, r->err_size, "%s: %s: %s", r->path, key, what);
	return -EINVAL;
}

/* A string value without NULs or control characters, shorter than @max. */
static int get_string(struct reader *r, const struct toml_entry *e, const char *key, char *out,
		      size_t max)
{
	size_t i;

	if (e->value->type != TOML_STRING)
		return fail(r, e->line, key, "is a %s, not a string",
			    toml_type_name(e->value->type));
	if (e->value->string.len >= max)
		return fail(r, e->line, key, "longer than %zu bytes", max - 1);
	for (i = 0; i < e->value->string.len; i++)
		if ((unsigned char)e->value->string.ptr[i] < 0x20)
			return fail(r, e->line, key, "holds a control character");
	memcpy(out, e->value->string.ptr, e->value->string.len);
	out[e->value->string.len] = '\0';
	return 0;
}

static int get_int(struct reader *r, const struct toml_entry *e, const char *key, int64_t lo,
		   int64_t hi, int64_t *out)
{
	if (e->value->type != TOML_INTEGER)
		return fail(r, e->line, key, "is a %s, not an integer",
			    toml_type_name(e->value->type));
	if (e->value->integer < lo || e->value->integer > hi)
		return fail(r, e->line, key, "%lld is not between %lld and %lld",
			    (long long)e->value->integer, (long long)lo, (long long)hi);
	*out = e->value->integer;
	return 0;
}

static int get_bool(struct reader *r, const struct toml_entry *e, const char *key, bool *out)
{
	if (e->value->type != TOML_BOOLEAN)
		return fail(r, e->line, key, "is a %s, not true or false",
			    toml_type_name(e->value->type));
	*out = e->value->boolean;
	return 0;
}

static const struct {
	const char *key;
	enum tracer_hook_kind kind;
} hook_kinds[] = {
	{ "tracepoint", TRACER_HOOK_TRACEPOINT },
	{ "raw_tracepoint", TRACER_HOOK_RAW_TRACEPOINT },
	{ "uprobe", TRACER_HOOK_UPROBE },
	{ "uretprobe", TRACER_HOOK_URETPROBE },
};

/* "category:name", each part a tracefs name. */
static bool tracepoint_valid(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *p;

	if (!colon || colon == s || !colon[1] || strchr(colon + 1, ':'))
		return false;
	for (p = s; *p; p++)
		if (p != colon && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

static int read_hook(struct reader *r, const struct toml_value *t, size_t i, struct dropin_hook *h)
{
	char key[64];
	bool has_kind = false;
	size_t k, j;
	int err = 0;

	memset(h, 0, sizeof(*h));
	for (k = 0; !err && k < toml_table_len(t); k++) {
		const struct toml_entry *e = toml_table_at(t, k);
		bool known = false;

		snprintf(key, sizeof(key), "hook[%zu].%.32s", i + 1, e->key);
		for (j = 0; j < sizeof(hook_kinds) / sizeof(hook_kinds[0]); j++) {
			if (strcmp(e->key, hook_kinds[j].key))
				continue;
			known = true;
			if (has_kind)
				return fail(r, e->line, key, "a hook has one of tracepoint, "
					    "raw_tracepoint, uprobe, uretprobe");
			has_kind = true;
			h->kind = hook_kinds[j].kind;
			err = get_string(r, e, key, h->target, sizeof(h->target));
			if (err)
				return err;
			if (!h->target[0])
				return fail(r, e->line, key, "is empty");
			if (h->kind == TRACER_HOOK_TRACEPOINT && !tracepoint_valid(h->target))
				return fail(r, e->line, key, "\"%s\" is not \"category:name\"",
					    h->target);
			if (h->kind != TRACER_HOOK_TRACEPOINT &&
			    !c_ident_valid(h->target, strlen(h->target)))
				return fail(r, e->line, key, "\"%s\" is not a name", h->target);
		}
		if (known)
			continue;
		if (strcmp(e->key, "function") == 0) {
			err = get_string(r, e, key, h->function, sizeof(h->function));
			if (!err && !c_ident_valid(h->function, strlen(h->function)))
				err = fail(r, e->line, key, "\"%s\" is not a C function name",
					   h->function);
		} else if (strcmp(e->key, "binary") == 0) {
			err = get_string(r, e, key, h->binary, sizeof(h->binary));
			if (!err && h->binary[0] != '/')
				err = fail(r, e->line, key, "\"%s\" is not an absolute path",
					   h->binary);
		} else if (strcmp(e->key, "optional") == 0) {
			err = get_string(r, e, key, h->optional, sizeof(h->optional));
			if (!err && !h->optional[0])
				err = fail(r, e->line, key, "says what is lost without the hook: "
					   "it cannot be empty");
		} else {
			err = fail(r, e->line, key, "unknown key (known: tracepoint, raw_tracepoint, "
				   "uprobe, uretprobe, function, binary, optional)");
		}
	}
	if (err)
		return err;
	snprintf(key, sizeof(key), "hook[%zu]", i + 1);
	if (!has_kind)
		return fail(r, t->line, key, "names none of tracepoint, raw_tracepoint, uprobe, "
			    "uretprobe");
	if ((h->kind == TRACER_HOOK_UPROBE || h->kind == TRACER_HOOK_URETPROBE) != !!h->binary[0])
		return fail(r, t->line, key, h->binary[0] ? "binary is only for uprobes" :
			    "a uprobe needs binary (the executable or library to probe)");
	if (h->function[0])
		return 0;
	/* What BCC's TRACEPOINT_PROBE and RAW_TRACEPOINT_PROBE name their functions. */
	if (h->kind == TRACER_HOOK_TRACEPOINT) {
		char target[DROPIN_TARGET_MAX], *colon;

		memcpy(target, h->target, sizeof(target));
		colon = strchr(target, ':');
		*colon = '\0';
		if (snprintf(h->function, sizeof(h->function), "tracepoint__%s__%s", target,
			     colon + 1) >= (int)sizeof(h->function))
			return fail(r, t->line, key, "the tracepoint's name is too long: give "
				    "function");
	} else if (h->kind == TRACER_HOOK_RAW_TRACEPOINT) {
		char target[DROPIN_TARGET_MAX];

		memcpy(target, h->target, sizeof(target));
		if (snprintf(h->function, sizeof(h->function), "raw_tracepoint__%s", target) >=
		    (int)sizeof(h->function))
			return fail(r, t->line, key, "the raw tracepoint's name is too long: give "
				    "function");
	} else {
		return fail(r, t->line, key, "a uprobe needs function (its BPF function)");
	}
	return 0;
}

static enum dropin_type type_by_name(const char *s)
{
	int t;

	for (t = 0; t < DROPIN_TYPE_COUNT; t++)
		if (strcmp(types[t].name, s) == 0)
			return (enum dropin_type)t;
	return DROPIN_TYPE_COUNT;
}

static bool is_integer(enum dropin_type t)
{
	return t <= DROPIN_S64;
}

static int read_values(struct reader *r, const struct toml_entry *e, const char *key,
		       struct dropin_field *f)
{
	const struct toml_value *t = e->value;
	uint64_t max = f->size == 8 ? UINT64_MAX : (1ULL << (8 * f->size)) - 1;
	size_t k, j;

	if (t->type != TOML_TABLE)
		return fail(r, e->line, key, "is a %s, not a table of names and values",
			    toml_type_name(t->type));
	if (!toml_table_len(t))
		return fail(r, e->line, key, "names no value");
	if (toml_table_len(t) > DROPIN_VALUES_MAX)
		return fail(r, e->line, key, "more than %d names", DROPIN_VALUES_MAX);
	for (k = 0; k < toml_table_len(t); k++) {
		const struct toml_entry *v = toml_table_at(t, k);
		struct dropin_value *out = &f->values[k];
		size_t i;

		if (!v->key_len || v->key_len >= DROPIN_NAME_MAX)
			return fail(r, v->line, key, "a name must have 1 to %d characters",
				    DROPIN_NAME_MAX - 1);
		for (i = 0; i < v->key_len; i++) {
			char c = v->key[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_'))
				return fail(r, v->line, key, "name \"%.*s\" is not letters, digits "
					    "and _", (int)v->key_len < 64 ? (int)v->key_len : 64,
					    v->key);
		}
		if (v->value->type != TOML_INTEGER || v->value->integer < 0 ||
		    (uint64_t)v->value->integer > max)
			return fail(r, v->line, key, "%s: the value is not an integer between 0 "
				    "and %llu", v->key, (unsigned long long)max);
		if (f->type == DROPIN_FLAGS && v->value->integer == 0)
			return fail(r, v->line, key, "%s: a flag of value 0 is never set", v->key);
		memcpy(out->name, v->key, v->key_len);
		out->name[v->key_len] = '\0';
		out->value = (uint64_t)v->value->integer;
		for (j = 0; j < k; j++)
			if (f->type == DROPIN_ENUM && f->values[j].value == out->value)
				return fail(r, v->line, key, "%s and %s have the same value",
					    f->values[j].name, out->name);
	}
	f->n_values = toml_table_len(t);
	return 0;
}

/* bits = { NAME = VALUE, ... }: a boolean key each, true when all of VALUE's bits are set. */
static int read_bits(struct reader *r, const struct toml_entry *e, const char *key,
		     struct dropin_field *f)
{
	const struct toml_value *t = e->value;
	uint64_t max = f->size == 8 ? UINT64_MAX : (1ULL << (8 * f->size)) - 1;
	size_t k;

	if (t->type != TOML_TABLE)
		return fail(r, e->line, key, "is a %s, not a table of names and bits",
			    toml_type_name(t->type));
	if (!toml_table_len(t))
		return fail(r, e->line, key, "names no bit");
	if (toml_table_len(t) > DROPIN_BITS_MAX)
		return fail(r, e->line, key, "more than %d names", DROPIN_BITS_MAX);
	for (k = 0; k < toml_table_len(t); k++) {
		const struct toml_entry *v = toml_table_at(t, k);
		struct dropin_value *out = &f->bits[k];

		if (!dropin_name_valid(v->key, v->key_len))
			return fail(r, v->line, key, "\"%.*s\" is not a key's name: "
				    "[a-z][a-z0-9_]*", v->key_len < 64 ? (int)v->key_len : 64,
				    v->key);
		if (v->value->type != TOML_INTEGER || v->value->integer <= 0 ||
		    (uint64_t)v->value->integer > max)
			return fail(r, v->line, key, "%s: the bits are not an integer between 1 "
				    "and %llu", v->key, (unsigned long long)max);
		memcpy(out->name, v->key, v->key_len);
		out->name[v->key_len] = '\0';
		out->value = (uint64_t)v->value->integer;
	}
	f->n_bits = toml_table_len(t);
	return 0;
}

static int read_field(struct reader *r, const struct toml_value *t, size_t i,
		      struct dropin_field *f)
{
	const struct toml_entry *e, *values = NULL, *length = NULL, *size = NULL, *format = NULL;
	const struct toml_entry *bits = NULL, *strict = NULL;
	char key[64], s[DROPIN_NAME_MAX];
	int64_t n;
	size_t k;
	int err = 0;

	memset(f, 0, sizeof(*f));
	f->type = DROPIN_TYPE_COUNT;
	f->key = true;
	for (k = 0; !err && k < toml_table_len(t); k++) {
		e = toml_table_at(t, k);
		snprintf(key, sizeof(key), "field[%zu].%.32s", i + 1, e->key);
		if (strcmp(e->key, "name") == 0) {
			err = get_string(r, e, key, f->name, sizeof(f->name));
			if (!err && !dropin_name_valid(f->name, strlen(f->name)))
				err = fail(r, e->line, key, "\"%s\" is not [a-z][a-z0-9_]*",
					   f->name);
		} else if (strcmp(e->key, "type") == 0) {
			err = get_string(r, e, key, s, sizeof(s));
			if (!err) {
				f->type = type_by_name(s);
				if (f->type == DROPIN_TYPE_COUNT)
					err = fail(r, e->line, key, "\"%s\" is not one of u8, u16, "
						   "u32, u64, s8, s16, s32, s64, string, bytes, "
						   "ipv4, ipv6, port, errno, flags, enum, mode, "
						   "path", s);
			}
		} else if (strcmp(e->key, "key") == 0) {
			err = get_bool(r, e, key, &f->key);
		} else if (strcmp(e->key, "max") == 0 || strcmp(e->key, "length") == 0) {
			length = e;
		} else if (strcmp(e->key, "size") == 0) {
			size = e;
		} else if (strcmp(e->key, "format") == 0) {
			format = e;
		} else if (strcmp(e->key, "values") == 0) {
			values = e;
		} else if (strcmp(e->key, "bits") == 0) {
			bits = e;
		} else if (strcmp(e->key, "strict") == 0) {
			strict = e;
			err = get_bool(r, e, key, &f->strict);
		} else {
			err = fail(r, e->line, key, "unknown key (known: name, type, max, length, "
				   "size, format, values, bits, strict, key)");
		}
	}
	if (err)
		return err;
	snprintf(key, sizeof(key), "field[%zu]", i + 1);
	if (!f->name[0])
		return fail(r, t->line, key, "has no name");
	snprintf(key, sizeof(key), "field %s", f->name);
	for (k = 0; reserved_keys[k]; k++)
		if (strcmp(f->name, reserved_keys[k]) == 0)
			return fail(r, t->line, key, "every drop-in event has %s already",
				    f->name);
	if (f->type == DROPIN_TYPE_COUNT)
		return fail(r, t->line, key, "has no type");
	f->size = types[f->type].size;

	/*
	 * A path's keys are the ones every file has in rules (filename,
	 * argument, resolved: pathname_add_event_keys()), so it has that name.
	 */
	if (f->type == DROPIN_PATH && strcmp(f->name, PATHNAME_KEY))
		return fail(r, t->line, key, "a path is named %s (its keys: %s, argument, "
			    "resolved)", PATHNAME_KEY, PATHNAME_KEY);

	/* max (strings, a path's name as passed) and length (bytes): the bytes the field takes. */
	if (f->type == DROPIN_STRING || f->type == DROPIN_BYTES || f->type == DROPIN_PATH) {
		const char *want = f->type == DROPIN_BYTES ? "length" : "max";
		int64_t hi = f->type == DROPIN_BYTES ? DROPIN_BYTES_MAX : DROPIN_STRING_MAX;

		if (!length)
			return fail(r, t->line, key, "a %s needs %s", types[f->type].name, want);
		snprintf(key, sizeof(key), "field %s.%s", f->name, length->key);
		if (strcmp(length->key, want))
			return fail(r, length->line, key, "a %s takes %s", types[f->type].name,
				    want);
		err = get_int(r, length, key, f->type == DROPIN_BYTES ? 1 : 2, hi, &n);
		if (err)
			return err;
		f->size = (uint32_t)n;
		if (f->type == DROPIN_PATH) {
			f->max = (uint32_t)n;
			f->size = PATH_HEAD + BPFD_PATH_MAX + (uint32_t)n;
		}
	} else if (length) {
		snprintf(key, sizeof(key), "field %s.%s", f->name, length->key);
		return fail(r, length->line, key, "only strings and paths have max and bytes "
			    "length");
	}

	/* size: the integer under flags and enum. */
	if (f->type == DROPIN_FLAGS || f->type == DROPIN_ENUM) {
		f->size = 4;
		if (size) {
			snprintf(key, sizeof(key), "field %s.size", f->name);
			err = get_int(r, size, key, 1, 8, &n);
			if (err)
				return err;
			if (n != 1 && n != 2 && n != 4 && n != 8)
				return fail(r, size->line, key, "%lld is not 1, 2, 4 or 8",
					    (long long)n);
			f->size = (uint32_t)n;
		}
		snprintf(key, sizeof(key), "field %s.values", f->name);
		if (!values)
			return fail(r, t->line, key, "a %s needs its names: values = { NAME = "
				    "VALUE, ... }", types[f->type].name);
		err = read_values(r, values, key, f);
		if (err)
			return err;
	} else if (size) {
		snprintf(key, sizeof(key), "field %s.size", f->name);
		return fail(r, size->line, key, "only flags and enum take size (integers have "
			    "theirs in the type)");
	} else if (values) {
		snprintf(key, sizeof(key), "field %s.values", f->name);
		return fail(r, values->line, key, "only flags and enum have values");
	}
	if (strict && f->type != DROPIN_ENUM) {
		snprintf(key, sizeof(key), "field %s.strict", f->name);
		return fail(r, strict->line, key, "only an enum is strict");
	}

	if (bits) {
		snprintf(key, sizeof(key), "field %s.bits", f->name);
		if (!(f->type <= DROPIN_U64 || f->type == DROPIN_FLAGS || f->type == DROPIN_MODE))
			return fail(r, bits->line, key, "only unsigned integers, flags and modes "
				    "have bits");
		err = read_bits(r, bits, key, f);
		if (err)
			return err;
	}

	if (format) {
		snprintf(key, sizeof(key), "field %s.format", f->name);
		if (!is_integer(f->type))
			return fail(r, format->line, key, "only integers have a format");
		err = get_string(r, format, key, s, sizeof(s));
		if (err)
			return err;
		if (strcmp(s, "decimal") == 0)
			f->format = DROPIN_DECIMAL;
		else if (strcmp(s, "hex") == 0)
			f->format = DROPIN_HEX;
		else if (strcmp(s, "octal") == 0)
			f->format = DROPIN_OCTAL;
		else
			return fail(r, format->line, key, "\"%s\" is not decimal, hex or octal", s);
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned int bit;
} prefilters[] = {
	{ "command", BPFD_PF_COMM },
	{ "uid", BPFD_PF_UID },
	{ "container", BPFD_PF_CONTAINER },
};

static int read_prefilter(struct reader *r, const struct toml_entry *e, struct dropin_desc *d)
{
	size_t k, j;

	if (e->value->type != TOML_ARRAY)
		return fail(r, e->line, "prefilter", "is a %s, not an array",
			    toml_type_name(e->value->type));
	for (k = 0; k < toml_array_len(e->value); k++) {
		const struct toml_value *v = toml_array_at(e->value, k);

		if (v->type != TOML_STRING)
			return fail(r, v->line, "prefilter", "holds a %s, not a string",
				    toml_type_name(v->type));
		for (j = 0; j < sizeof(prefilters) / sizeof(prefilters[0]); j++)
			if (v->string.len == strlen(prefilters[j].name) &&
			    memcmp(v->string.ptr, prefilters[j].name, v->string.len) == 0)
				break;
		if (j == sizeof(prefilters) / sizeof(prefilters[0]))
			return fail(r, v->line, "prefilter", "\"%.64s\" is not one of command, uid, "
				    "container", v->string.ptr);
		d->prefilter |= prefilters[j].bit;
	}
	return 0;
}

/* Natural alignment, after the common header: what the C compiler does for the struct. */
static int layout(struct reader *r, struct dropin_desc *d)
{
	uint64_t off = sizeof(struct bpfd_record);
	size_t i, k;

	d->record_min = 0;
	/* A path's bytes go last whatever its place in the list: its length varies. */
	for (k = 0; k < 2 * d->n_fields; k++) {
		struct dropin_field *f = &d->fields[k % d->n_fields];
		uint32_t align = 1;

		i = k % d->n_fields;
		if ((k < d->n_fields) == (f->type == DROPIN_PATH))
			continue;
		if (is_integer(f->type) || f->type == DROPIN_PORT || f->type == DROPIN_ERRNO ||
		    f->type == DROPIN_FLAGS || f->type == DROPIN_ENUM || f->type == DROPIN_MODE)
			align = f->size;
		if (f->type == DROPIN_PATH)
			align = 4;
		off = (off + align - 1) & ~(uint64_t)(align - 1);
		f->offset = (uint32_t)off;
		if (f->type == DROPIN_PATH)
			d->record_min = (uint32_t)off + PATH_HEAD;
		off += f->size;
		if (off > DROPIN_RECORD_MAX)
			return fail(r, 0, "field", "the record is larger than %d bytes at field %s",
				    DROPIN_RECORD_MAX, d->fields[i].name);
	}
	/* The struct's size: a multiple of its alignment, 8 (the header's). */
	off = (off + 7) & ~(uint64_t)7;
	if (off > DROPIN_RECORD_MAX)
		return fail(r, 0, "field", "the record is larger than %d bytes", DROPIN_RECORD_MAX);
	d->record_size = (uint32_t)off;
	if (!d->record_min)
		d->record_min = d->record_size;
	return 0;
}

/* Each key once, none an event has already, at most DROPIN_KEYS_MAX of them. */
static int check_keys(struct reader *r, const struct dropin_desc *d)
{
	const char *keys[DROPIN_FIELDS_MAX * (DROPIN_BITS_MAX + 3)];
	size_t n = dropin_desc_keys(d, true, keys, sizeof(keys) / sizeof(keys[0])), i, j;

	if (n > DROPIN_KEYS_MAX)
		return fail(r, 0, "field", "the fields give %zu keys, more than %d (an event "
			    "has %d with command and returnval)", n, DROPIN_KEYS_MAX,
			    DROPIN_KEYS_MAX + 2);
	for (i = 0; i < n; i++) {
		for (j = 0; reserved_keys[j]; j++)
			if (strcmp(keys[i], reserved_keys[j]) == 0)
				return fail(r, 0, "field", "every event has %s already", keys[i]);
		for (j = 0; j < i; j++)
			if (strcmp(keys[i], keys[j]) == 0)
				return fail(r, 0, "field", "%s is named twice", keys[i]);
	}
	return 0;
}

static int parse(const char *path, const char *name, const char *text, size_t len,
		 struct dropin_desc *d, char *err, size_t err_size, bool builtin)
{
	struct reader r = { .path = path, .err = err, .err_size = err_size };
	struct toml_value *root = NULL;
	struct toml_error terr;
	const struct toml_entry *e;
	size_t k, i, j;
	int ret;

	memset(d, 0, sizeof(*d));
	if (!dropin_name_valid(name, strlen(name))) {
		snprintf(err, err_size, "%s: the tracer's name \"%.64s\" is not [a-z][a-z0-9_]* "
			 "of at most %d characters", path, name, DROPIN_NAME_MAX - 1);
		return -EINVAL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	ret = toml_parse(text, len, &root, &terr);
	if (ret < 0) {
		snprintf(err, err_size, "%s:%u: %s", path, terr.line, terr.message);
		return ret;
	}
	for (k = 0; !ret && k < toml_table_len(root); k++) {
		e = toml_table_at(root, k);
		if (strcmp(e->key, "description") == 0) {
			ret = get_string(&r, e, "description", d->description,
					 sizeof(d->description));
		} else if (strcmp(e->key, "prefilter") == 0) {
			ret = read_prefilter(&r, e, d);
		} else if ((!builtin && strcmp(e->key, "hook") == 0) || strcmp(e->key, "field") == 0) {
			bool hook = e->key[0] == 'h';
			size_t max = hook ? DROPIN_HOOKS_MAX : DROPIN_FIELDS_MAX;
			size_t n = toml_array_len(e->value);

			if (e->value->type != TOML_ARRAY)
				ret = fail(&r, e->line, e->key, "is a %s: write [[%s]] tables",
					   toml_type_name(e->value->type), e->key);
			else if (n > max)
				ret = fail(&r, e->line, e->key, "more than %zu", max);
			for (i = 0; !ret && i < n; i++) {
				const struct toml_value *t = toml_array_at(e->value, i);

				if (t->type != TOML_TABLE)
					ret = fail(&r, t->line, e->key, "holds a %s: write [[%s]] "
						   "tables", toml_type_name(t->type), e->key);
				else if (hook)
					ret = read_hook(&r, t, i, &d->hooks[d->n_hooks++]);
				else
					ret = read_field(&r, t, i, &d->fields[d->n_fields++]);
			}
		} else {
			ret = fail(&r, e->line, e->key, builtin ? "unknown key (known: description, "
				   "prefilter, [[field]]; a built-in's hooks are in its C)" :
				   "unknown key (known: description, prefilter, [[hook]], [[field]])");
		}
	}
	if (!ret && !builtin && !d->n_hooks)
		ret = fail(&r, 1, "hook", "the tracer attaches to nothing: add a [[hook]]");
	if (!ret)
		ret = check_keys(&r, d);
	for (i = 0; !ret && i < d->n_hooks; i++)
		for (j = 0; !ret && j < i; j++)
			if (d->hooks[i].kind == d->hooks[j].kind &&
			    strcmp(d->hooks[i].target, d->hooks[j].target) == 0 &&
			    strcmp(d->hooks[i].binary, d->hooks[j].binary) == 0)
				ret = fail(&r, 0, "hook", "%s is hooked twice", d->hooks[i].target);
	if (!ret)
		ret = layout(&r, d);
	toml_free(root);
	return ret;
}

int dropin_desc_parse(const char *path, const char *name, const char *text, size_t len,
		      struct dropin_desc *d, char *err, size_t err_size)
{
	return parse(path, name, text, len, d, err, err_size, false);
}

int dropin_desc_parse_builtin(const char *path, const char *name, const char *text, size_t len,
			      struct dropin_desc *d, char *err, size_t err_size)
{
	return parse(path, name, text, len, d, err, err_size, true);
}
