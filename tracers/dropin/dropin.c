// SPDX-License-Identifier: MIT
/*
 * Drop-in tracers (dropin.h): the generic tracer_ops, its decoder, the C
 * the program is compiled with, and the tracers directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pathname.h"
#include "tracers/common/path.h"
#include "tracers/common/record.h"
#include "tracers/dropin/dropin.h"

enum {
	DROPIN_DESC_FILE_MAX = 65536,		/* bytes of NAME.toml */
	DROPIN_SOURCE_FILE_MAX = 262144,	/* bytes of NAME.bpf.c */
	FLAGS_TEXT_MAX = 512,			/* a flags field's text */
};

struct dropin_tracer {
	struct tracer_ops ops;			/* first: what the table holds */
	struct dropin_desc desc;
	struct tracer_hook hooks[DROPIN_HOOKS_MAX + 1];
	const char *keys[DROPIN_KEYS_MAX + 3];
	const char *address_keys[DROPIN_FIELDS_MAX + 1];
	const char *port_keys[DROPIN_FIELDS_MAX + 1];
	char name[DROPIN_NAME_MAX * 2];
	char *path;
	char *source;
	char *failed;
};

/* ---- Decoding ---- */

static uint64_t read_uint(const unsigned char *p, uint32_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

static int64_t read_sint(const unsigned char *p, uint32_t size)
{
	uint64_t v = read_uint(p, size);

	if (size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ULL << (8 * size);
	return (int64_t)v;
}

static int add_text(struct event *ev, const struct dropin_field *f, const char *text)
{
	size_t len = strlen(text);
	char *v = event_scratch_alloc(ev, len + 1);

	if (!v)
		return -ENOSPC;
	memcpy(v, text, len + 1);
	return event_add_data_key(ev, f->name, strlen(f->name), v, len);
}

static void format_flags(const struct dropin_field *f, uint64_t v, char *out, size_t size)
{
	size_t len = 0, i, n;
	uint64_t rest = v;

	out[0] = '\0';
	if (!v) {
		snprintf(out, size, "0");
		return;
	}
	for (i = 0; i < f->n_values; i++) {
		const struct dropin_value *fv = &f->values[i];

		if ((v & fv->value) != fv->value || !(rest & fv->value))
			continue;
		n = strlen(fv->name);
		/* Room for it, a "|" and the rest in hex: else the rest keeps its bits. */
		if (len + n + 1 + 19 >= size)
			break;
		if (len)
			out[len++] = '|';
		memcpy(out + len, fv->name, n);
		len += n;
		out[len] = '\0';
		rest &= ~fv->value;
	}
	if (rest)
		snprintf(out + len, size - len, "%s0x%llx", len ? "|" : "", (unsigned long long)rest);
}

/*
 * A path field at @p, in a record of @size bytes from @rec: its lengths are
 * the program's word, checked against the field and the record's end.
 */
static int decode_path(const struct dropin_field *f, const unsigned char *rec, size_t size,
		       const unsigned char *p, struct event *ev)
{
	const char *buf = (const char *)p + 8;
	size_t room = size - (size_t)(buf - (const char *)rec);
	uint32_t flags = (uint32_t)read_uint(p, 4);
	uint16_t len = (uint16_t)read_uint(p + 4, 2), arg_len = (uint16_t)read_uint(p + 6, 2);

	if (len > BPFD_PATH_MAX || arg_len > f->max || (size_t)len + arg_len > room)
		return -EINVAL;
	return pathname_add_event_keys(ev, buf, len, flags, buf + len, arg_len);
}

/* The boolean keys of @f's bits in value @v. */
static int add_bits(struct event *ev, const struct dropin_field *f, uint64_t v)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < f->n_bits; i++)
		err = event_add_str(ev, f->bits[i].name,
				    (v & f->bits[i].value) == f->bits[i].value ? "true" : "false");
	return err;
}

int dropin_decode(const void *descp, const void *rec, size_t size, struct event *ev)
{
	const struct dropin_desc *d = descp;
	const unsigned char *r = rec;
	char text[FLAGS_TEXT_MAX];
	size_t i, j;
	int err = 0;

	/* The size first: every field lies inside the description's record. */
	if (!d || size < d->record_min || d->record_min < sizeof(struct bpfd_record) ||
	    d->record_min > d->record_size)
		return -EINVAL;
	/* Past its description's record a record holds nothing the decoder reads. */
	if (size > d->record_size)
		size = d->record_size;
	for (i = 0; !err && i < d->n_fields; i++) {
		const struct dropin_field *f = &d->fields[i];
		const unsigned char *p = r + f->offset;
		uint64_t u;
		int64_t s;

		if (f->offset > d->record_size || f->size > d->record_size - f->offset)
			return -EINVAL;
		/* Only a path may reach past record_min, its bytes checked by decode_path(). */
		if (f->type != DROPIN_PATH && f->offset + f->size > size)
			return -EINVAL;
		switch (f->type) {
		case DROPIN_U8: case DROPIN_U16: case DROPIN_U32: case DROPIN_U64:
		case DROPIN_S8: case DROPIN_S16: case DROPIN_S32: case DROPIN_S64:
			if (f->type >= DROPIN_S8 && f->format == DROPIN_DECIMAL) {
				snprintf(text, sizeof(text), "%lld", (long long)read_sint(p, f->size));
			} else {
				u = read_uint(p, f->size);
				snprintf(text, sizeof(text),
					 f->format == DROPIN_HEX ? "0x%llx" :
					 f->format == DROPIN_OCTAL ? "0%llo" : "%llu",
					 (unsigned long long)u);
				/* 0 in octal is "0", not "00". */
				if (f->format == DROPIN_OCTAL && !u)
					text[1] = '\0';
			}
			err = add_text(ev, f, text);
			if (!err)
				err = add_bits(ev, f, read_uint(p, f->size));
			break;
		case DROPIN_STRING:
			/* Up to the first NUL, never past the field: the program may fill it all. */
			err = event_add_data_key(ev, f->name, strlen(f->name), (const char *)p,
						 strnlen((const char *)p, f->size));
			break;
		case DROPIN_BYTES: {
			char *hex = event_scratch_alloc(ev, 2 * f->size + 1);

			if (!hex)
				return -ENOSPC;
			for (j = 0; j < f->size; j++)
				snprintf(hex + 2 * j, 3, "%02x", p[j]);
			err = event_add_data_key(ev, f->name, strlen(f->name), hex, 2 * f->size);
			break;
		}
		case DROPIN_IPV4:
		case DROPIN_IPV6:
			if (!inet_ntop(f->type == DROPIN_IPV4 ? AF_INET : AF_INET6, p, text,
				       sizeof(text)))
				return -EINVAL;
			err = add_text(ev, f, text);
			break;
		case DROPIN_PORT:
			snprintf(text, sizeof(text), "%llu", (unsigned long long)read_uint(p, 2));
			err = add_text(ev, f, text);
			break;
		case DROPIN_ERRNO: {
			const char *name;

			s = read_sint(p, 4);
			if (s < 0)
				s = -s;
			name = s ? strerrorname_np((int)s) : NULL;
			if (name)
				snprintf(text, sizeof(text), "%s", name);
			else
				snprintf(text, sizeof(text), "%lld", (long long)s);
			err = add_text(ev, f, text);
			break;
		}
		case DROPIN_FLAGS:
			format_flags(f, read_uint(p, f->size), text, sizeof(text));
			err = add_text(ev, f, text);
			if (!err)
				err = add_bits(ev, f, read_uint(p, f->size));
			break;
		case DROPIN_ENUM:
			u = read_uint(p, f->size);
			for (j = 0; j < f->n_values && f->values[j].value != u; j++)
				;
			if (j < f->n_values)
				err = event_add_data_key(ev, f->name, strlen(f->name),
							 f->values[j].name,
							 strlen(f->values[j].name));
			else if (f->strict)
				return -EINVAL;
			else {
				snprintf(text, sizeof(text), "%llu", (unsigned long long)u);
				err = add_text(ev, f, text);
			}
			break;
		case DROPIN_MODE: {
			/* What the kernel applies (S_IALLUGO), as chmod(1) and stat(1) show it. */
			char *m = event_scratch_alloc(ev, 5);

			if (!m)
				return -ENOSPC;
			u = read_uint(p, 4) & 07777;
			for (j = 0; j < 4; j++)
				m[j] = (char)('0' + ((u >> (3 * (3 - j))) & 7));
			m[4] = '\0';
			err = event_add_data_key(ev, f->name, strlen(f->name), m, 4);
			if (!err)
				err = add_bits(ev, f, u);
			break;
		}
		case DROPIN_PATH:
			err = decode_path(f, r, size, p, ev);
			break;
		default:
			return -EINVAL;
		}
	}
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

/* ---- The C the program is compiled with ---- */

static const char *c_type(const struct dropin_field *f)
{
	static const char *const by_size[2][9] = {
		{ [1] = "__u8", [2] = "__u16", [4] = "__u32", [8] = "__u64" },
		{ [1] = "__s8", [2] = "__s16", [4] = "__s32", [8] = "__s64" },
	};

	switch (f->type) {
	case DROPIN_S8: case DROPIN_S16: case DROPIN_S32: case DROPIN_S64: case DROPIN_ERRNO:
		return by_size[1][f->size];
	case DROPIN_STRING:
		return "char";
	case DROPIN_BYTES: case DROPIN_IPV4: case DROPIN_IPV6:
		return "__u8";
	default:
		return by_size[0][f->size];
	}
}

static bool is_array(const struct dropin_field *f)
{
	return f->type == DROPIN_STRING || f->type == DROPIN_BYTES || f->type == DROPIN_IPV4 ||
	       f->type == DROPIN_IPV6;
}

int dropin_c_header(const struct dropin_desc *d, struct strbuf *out)
{
	uint32_t off = sizeof(struct bpfd_record);
	size_t i, j, k;
	int err;

	err = strbuf_addf(out, "\n/* bpfd: drop-in %s, its record as %s.toml lays it out */\n"
			  "struct bpfd_dropin_record {\n\tstruct bpfd_record hdr;\n", d->name,
			  d->name);
	/* In the layout's order: a path last (desc.c, layout()). */
	for (k = 0; !err && k < 2 * d->n_fields; k++) {
		const struct dropin_field *f = &d->fields[k % d->n_fields];

		i = k % d->n_fields;
		if ((k < d->n_fields) == (f->type == DROPIN_PATH))
			continue;
		if (f->offset > off)
			err = strbuf_addf(out, "\tchar __bpfd_pad%zu[%u];\n", i, f->offset - off);
		if (!err && f->type == DROPIN_PATH)
			/* The head path.h's helpers fill (bpfd_path_copy()), then the bytes. */
			err = strbuf_addf(out, "\t__u32 %s_flags;\n\t__u16 %s_len;\n"
					  "\t__u16 %s_arg_len;\n\tchar %s[BPFD_PATH_MAX + %u];\n",
					  f->name, f->name, f->name, f->name, f->max);
		else if (!err && is_array(f))
			err = strbuf_addf(out, "\t%s %s[%u];\n", c_type(f), f->name, f->size);
		else if (!err)
			err = strbuf_addf(out, "\t%s %s;\n", c_type(f), f->name);
		off = f->offset + f->size;
	}
	if (!err && d->record_size > off)
		err = strbuf_addf(out, "\tchar __bpfd_pad_end[%u];\n", d->record_size - off);
	if (!err)
		err = strbuf_addf(out, "};\n_Static_assert(sizeof(struct bpfd_dropin_record) == %u, "
				  "\"the record's size is not the description's\");\n",
				  d->record_size);
	for (i = 0; !err && i < d->n_fields; i++) {
		const struct dropin_field *f = &d->fields[i];

		err = strbuf_addf(out, "_Static_assert(__builtin_offsetof(struct bpfd_dropin_record, "
				  "%s) == %u, \"field %s is not where the description puts it\");\n",
				  f->name, f->offset + (f->type == DROPIN_PATH ? 8 : 0), f->name);
		for (j = 0; !err && j < f->n_values; j++) {
			err = strbuf_addstr(out, "#define BPFD_");
			for (k = 0; !err && f->name[k]; k++)
				err = strbuf_addch(out, (char)(f->name[k] >= 'a' && f->name[k] <= 'z' ?
							      f->name[k] - 32 : f->name[k]));
			if (!err)
				err = strbuf_addch(out, '_');
			for (k = 0; !err && f->values[j].name[k]; k++) {
				char c = f->values[j].name[k];

				err = strbuf_addch(out, (char)(c >= 'a' && c <= 'z' ? c - 32 : c));
			}
			if (!err)
				err = strbuf_addf(out, " %lluULL\n",
						  (unsigned long long)f->values[j].value);
		}
	}
	if (err)
		return err;
	/*
	 * The record starts zeroed (copied from a map nothing writes), so a
	 * field the program leaves alone is 0 or "" rather than what the
	 * CPU's scratch area held before.
	 */
	return strbuf_addstr(out,
		"BPF_ARRAY(bpfd_dropin_zero, struct bpfd_dropin_record, 1);\n"
		"\n"
		"/* NULL: no record now (switched off, prefiltered out, the daemon's own). */\n"
		"static __always_inline struct bpfd_dropin_record *bpfd_dropin_begin(void)\n"
		"{\n"
		"\tstruct bpfd_pf_config *pf;\n"
		"\tstruct bpfd_dropin_record *r, *zero;\n"
		"\tu32 k = 0;\n"
		"\n"
		"\tif (bpfd_tracer_off(BPFD_TRACER_TYPE))\n"
		"\t\treturn 0;\n"
		"\tpf = bpfd_prefilter_config(BPFD_TRACER_TYPE);\n"
		"\tif (pf && (pf->mode & BPFD_PF_ACTIVE) &&\n"
		"\t    !bpfd_pf_task_passes(BPFD_TRACER_TYPE, pf->mode)) {\n"
		"\t\tbpfd_prefiltered_out(BPFD_TRACER_TYPE);\n"
		"\t\treturn 0;\n"
		"\t}\n"
		"\tif (bpfd_task_ignored())\n"
		"\t\treturn 0;\n"
		"\tr = bpfd_scratch();\n"
		"\tzero = bpfd_dropin_zero.lookup(&k);\n"
		"\tif (!r || !zero)\n"
		"\t\treturn 0;\n"
		"\tbpf_probe_read_kernel(r, sizeof(*r), zero);\n"
		"\tbpfd_fill(&r->hdr, BPFD_TRACER_TYPE);\n"
		"\treturn r;\n"
		"}\n"
		"\n"
		"static __always_inline void bpfd_dropin_submit(struct bpfd_dropin_record *r)\n"
		"{\n"
		"\tbpfd_submit(r, sizeof(*r), BPFD_TRACER_TYPE);\n"
		"}\n"
		"\n"
		"/*\n"
		" * A uprobe's argument @n (0 to 3, the x86-64 calling convention) and a\n"
		" * uretprobe's return value, read at their BTF offsets: struct pt_regs\n"
		" * is not defined for the program.\n"
		" */\n"
		"static __always_inline u64 bpfd_uprobe_arg(void *ctx, int n)\n"
		"{\n"
		"\tlong off = n == 0 ? BPFD_OFF_PT_REGS_DI : n == 1 ? BPFD_OFF_PT_REGS_SI :\n"
		"\t\t   n == 2 ? BPFD_OFF_PT_REGS_DX : BPFD_OFF_PT_REGS_CX;\n"
		"\n"
		"\treturn *(u64 *)((char *)ctx + off);\n"
		"}\n"
		"\n"
		"static __always_inline u64 bpfd_uprobe_ret(void *ctx)\n"
		"{\n"
		"\treturn *(u64 *)((char *)ctx + BPFD_OFF_PT_REGS_AX);\n"
		"}\n");
}

/* ---- The tracer ---- */

/*
 * Appends @source with a #line directive before each of its lines (but
 * those that continue a line ending with a backslash): the compiler's
 * messages name the drop-in's file and line, even where BCC inserts text
 * into the source it compiles (the struct of a TRACEPOINT_PROBE's args).
 */
static int add_numbered(struct strbuf *out, const char *path, const char *source, size_t len)
{
	size_t line = 1, i = 0, end;
	bool continued = false;
	int err = 0;

	while (!err && i < len) {
		end = i;
		while (end < len && source[end] != '\n')
			end++;
		if (!continued)
			err = strbuf_addf(out, "#line %zu \"%s\"\n", line, path);
		if (!err)
			err = strbuf_add(out, source + i, end - i);
		if (!err)
			err = strbuf_addch(out, '\n');
		continued = end > i && source[end - 1] == '\\';
		i = end + 1;
		line++;
	}
	return err;
}

struct tracer_ops *dropin_new(const struct dropin_desc *d, const char *path, const char *source,
			      size_t source_len)
{
	struct dropin_tracer *t = calloc(1, sizeof(*t));
	struct strbuf src = STRBUF_INIT;
	size_t i, nk = 0, na = 0, np = 0;

	if (!t)
		return NULL;
	t->desc = *d;
	t->path = strdup(path);
	if (!t->path || dropin_c_header(&t->desc, &src) < 0 ||
	    add_numbered(&src, path, source, source_len) < 0) {
		strbuf_release(&src);
		free(t->path);
		free(t);
		return NULL;
	}
	t->source = src.buf;
	for (i = 0; i < t->desc.n_hooks; i++) {
		const struct dropin_hook *h = &t->desc.hooks[i];

		t->hooks[i] = (struct tracer_hook){ .kind = h->kind, .target = h->target,
						    .function = h->function,
						    .optional = h->optional[0] ? h->optional : NULL,
						    .binary = h->binary[0] ? h->binary : NULL };
	}
	nk = dropin_desc_keys(&t->desc, false, t->keys, DROPIN_KEYS_MAX);
	for (i = 0; i < t->desc.n_fields; i++) {
		const struct dropin_field *f = &t->desc.fields[i];

		if (!f->key)
			continue;
		if (f->type == DROPIN_IPV4 || f->type == DROPIN_IPV6)
			t->address_keys[na++] = f->name;
		else if (f->type == DROPIN_PORT)
			t->port_keys[np++] = f->name;
	}
	t->keys[nk++] = "command";
	t->keys[nk++] = "returnval";
	t->ops = (struct tracer_ops){
		.name = t->desc.name,
		.description = t->desc.description[0] ? t->desc.description : "a drop-in tracer",
		.bpf_source = t->source,
		.hooks = t->hooks,
		.keys = t->keys,
		.address_keys = na ? t->address_keys : NULL,
		.port_keys = np ? t->port_keys : NULL,
		.prefilter = t->desc.prefilter,
		.desc = &t->desc,
		.decode_desc = dropin_decode,
		.own_module = true,
		.source_path = t->path,
	};
	return &t->ops;
}

struct tracer_ops *dropin_new_failed(const char *name, const char *path, const char *why)
{
	struct dropin_tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->path = strdup(path);
	t->failed = strdup(why);
	if (!t->path || !t->failed) {
		dropin_free(&t->ops);
		return NULL;
	}
	t->keys[0] = NULL;
	t->hooks[0].target = NULL;
	t->ops = (struct tracer_ops){ .name = t->name, .description = "a drop-in tracer",
				      .hooks = t->hooks, .keys = t->keys, .own_module = true,
				      .source_path = t->path, .failed = t->failed };
	return &t->ops;
}

void dropin_free(struct tracer_ops *ops)
{
	struct dropin_tracer *t = (struct dropin_tracer *)ops;

	if (!t)
		return;
	free(t->path);
	free(t->source);
	free(t->failed);
	free(t);
}

int dropin_builtin_init(struct dropin_builtin *b, const char *name, const char *text,
			char *err, size_t err_size)
{
	char where[DROPIN_NAME_MAX * 2 + 16];
	size_t n;
	int r;

	snprintf(where, sizeof(where), "tracers/%s/%s.toml", name, name);
	r = dropin_desc_parse_builtin(where, name, text, strlen(text), &b->desc, err, err_size);
	if (r < 0)
		return r;
	n = dropin_desc_keys(&b->desc, false, b->keys, DROPIN_KEYS_MAX);
	b->keys[n++] = "command";
	b->keys[n++] = "returnval";
	b->keys[n] = NULL;
	return 0;
}

/* ---- The tracers directory ---- */

/* What makes a file or directory unsafe to run as root: NULL when it is safe. */
static const char *unsafe(const struct stat *st, bool dir)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return dir ? "is not a directory" : "is not a regular file";
	if (st->st_uid != 0)
		return "is not owned by root";
	if (st->st_mode & S_IWGRP)
		return "is writable by its group";
	if (st->st_mode & S_IWOTH)
		return "is writable by others";
	return NULL;
}

/*
 * Whether every directory above @real (a canonical path) is safe too:
 * owned by root and writable by no one else, but for a sticky one (/tmp),
 * whose entries only their owners may rename. Whoever could write to one
 * could put a tracers directory of their own in this one's place. NULL when
 * safe, else the directory in @where and what is wrong.
 */
static const char *unsafe_parent(const char *real, char *where, size_t where_size)
{
	struct stat st;
	char *slash;

	snprintf(where, where_size, "%s", real);
	while ((slash = strrchr(where, '/'))) {
		if (slash == where)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(where, &st) < 0)
			return strerror(errno);
		if (!S_ISDIR(st.st_mode))
			return "is not a directory";
		if (st.st_uid != 0)
			return "is not owned by root";
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
			return "is writable by others than root (and not sticky)";
		if (where[1] == '\0')
			break;
	}
	return NULL;
}

/* Reads @name in @dirfd, checked as unsafe() says, at most @max bytes, into *@out (NUL-ended). */
static int read_checked(int dirfd, const char *dir, const char *name, size_t max, char **out,
			size_t *len, char *why, size_t why_size)
{
	struct stat st;
	const char *bad = NULL;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	*out = NULL;
	if (fd < 0) {
		int e = errno;

		snprintf(why, why_size, "%s/%s: %s", dir, name,
			 e == ELOOP ? "is a symbolic link (refused)" : strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || (bad = unsafe(&st, false))) {
		snprintf(why, why_size, "%s/%s: %s: refused, a drop-in runs with the daemon's "
			 "power (chown root, chmod go-w)", dir, name, bad ? bad : strerror(errno));
		close(fd);
		return -EPERM;
	}
	if ((size_t)st.st_size > max) {
		snprintf(why, why_size, "%s/%s: larger than %zu bytes", dir, name, max);
		close(fd);
		return -EFBIG;
	}
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < max && (n = read(fd, buf + got, max - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, why_size, "%s/%s: %s", dir, name, strerror(errno));
			free(buf);
			close(fd);
			return -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Registers @ops, reporting why not; frees it when it is not registered. */
static void add(struct tracer_ops *ops, void (*report)(const char *message))
{
	char msg[DROPIN_ERROR_MAX + 128];
	int r;

	if (!ops)
		return;
	r = tracer_register(ops);
	if (r == 0) {
		if (ops->failed && report) {
			snprintf(msg, sizeof(msg), "drop-in %s refused: %s", ops->name, ops->failed);
			report(msg);
		}
		return;
	}
	if (report) {
		if (r == -EEXIST)
			snprintf(msg, sizeof(msg), "drop-in %s (%s): refused: a tracer has that "
				 "name already", ops->name, ops->source_path);
		else
			snprintf(msg, sizeof(msg), "drop-in %s (%s): refused: bpfd runs at most %d "
				 "tracers", ops->name, ops->source_path, (int)TRACERS_MAX);
		report(msg);
	}
	dropin_free(ops);
}

/* The drop-in @name of @dir (@dirfd): its tracer, failed when it cannot be used; NULL: no memory. */
static struct tracer_ops *read_one(int dirfd, const char *dir, const char *name)
{
	struct tracer_ops *ops;
	char file[DROPIN_NAME_MAX * 2 + 16], path[4096 + DROPIN_NAME_MAX + 16];
	char why[DROPIN_ERROR_MAX], *text = NULL, *source = NULL;
	struct dropin_desc *d = malloc(sizeof(*d));
	size_t len = 0, source_len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s.bpf.c", dir, name);
	if (!d)
		return dropin_new_failed(name, path, "out of memory");
	snprintf(file, sizeof(file), "%s.toml", name);
	r = read_checked(dirfd, dir, file, DROPIN_DESC_FILE_MAX, &text, &len, why, sizeof(why));
	if (!r) {
		char where[4096 + DROPIN_NAME_MAX + 16];

		snprintf(where, sizeof(where), "%s/%s", dir, file);
		r = dropin_desc_parse(where, name, text, len, d, why, sizeof(why));
	}
	if (!r) {
		snprintf(file, sizeof(file), "%s.bpf.c", name);
		r = read_checked(dirfd, dir, file, DROPIN_SOURCE_FILE_MAX, &source, &source_len,
				 why, sizeof(why));
	}
	if (!r && memchr(source, '\0', source_len)) {
		snprintf(why, sizeof(why), "%.400s: holds a NUL byte: not C source", path);
		r = -EINVAL;
	}
	if (r)
		ops = dropin_new_failed(name, path, why);
	else
		ops = dropin_new(d, path, source, source_len);
	free(text);
	free(source);
	free(d);
	return ops;
}

int tracer_read_dropins(const char *dir, bool missing_ok, void (*report)(const char *message),
			struct tracer_ops **out, size_t max, size_t *n_out, char *err,
			size_t err_size)
{
	char *names[TRACERS_MAX + 1], abs[PATH_MAX], real[PATH_MAX], above[PATH_MAX];
	size_t n = 0, i, len;
	struct dirent *e;
	struct stat st;
	const char *bad = NULL;
	DIR *dp;
	int fd;

	/* Absolute: the compiler's messages and `bpfd tracers` name the files by it. */
	if (dir[0] != '/') {
		if (!realpath(dir, abs)) {
			if (errno == ENOENT && missing_ok)
				return 0;
			snprintf(err, err_size, "tracers directory %s: %s", dir, strerror(errno));
			return -errno;
		}
		dir = abs;
	}
	/* The path goes into #line directives: no quote, backslash or newline. */
	if (dir[0] != '/' || strpbrk(dir, "\"\\\n") || strlen(dir) >= 4096) {
		snprintf(err, err_size, "tracers directory %.256s: not an absolute path without "
			 "quotes, backslashes or newlines", dir);
		return -EINVAL;
	}
	if (!realpath(dir, real)) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, err_size, "tracers directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	bad = unsafe_parent(real, above, sizeof(above));
	if (bad) {
		snprintf(err, err_size, "tracers directory %s: %s above it %s: refused, its "
			 "drop-ins would run with the daemon's power (chown root, chmod go-w)",
			 dir, above, bad);
		return -EPERM;
	}
	/* What was checked: a symbolic link on the way, retargeted since, is not followed again. */
	fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, err_size, "tracers directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || (bad = unsafe(&st, true))) {
		snprintf(err, err_size, "tracers directory %s: %s: refused, its drop-ins would run "
			 "with the daemon's power (chown root, chmod go-w)", dir,
			 bad ? bad : strerror(errno));
		close(fd);
		return -EPERM;
	}
	dp = fdopendir(fd);
	if (!dp) {
		snprintf(err, err_size, "tracers directory %s: %s", dir, strerror(errno));
		close(fd);
		return -EIO;
	}
	while ((e = readdir(dp))) {
		len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".toml") || e->d_name[0] == '.')
			continue;
		if (n == TRACERS_MAX) {
			if (report)
				report("tracers directory: more drop-ins than bpfd can run; the "
				       "rest are ignored");
			break;
		}
		names[n] = strndup(e->d_name, len - 5);
		if (names[n])
			n++;
	}
	/* In the order of their names: the daemon and its loader number them alike. */
	qsort(names, n, sizeof(names[0]), by_name);
	for (i = 0; i < n; i++) {
		if (dropin_name_valid(names[i], strlen(names[i]))) {
			struct tracer_ops *ops = *n_out < max ? read_one(dirfd(dp), dir, names[i]) : NULL;

			if (ops)
				out[(*n_out)++] = ops;
		} else if (report) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s/%.64s.toml: ignored: a tracer's name is "
				 "[a-z][a-z0-9_]* of at most %d characters", dir, names[i],
				 DROPIN_NAME_MAX - 1);
			report(msg);
		}
		free(names[i]);
	}
	closedir(dp);
	return 0;
}

int tracer_load_dropins(const char *dir, bool missing_ok, void (*report)(const char *message),
			char *err, size_t err_size)
{
	struct tracer_ops *found[TRACERS_MAX];
	size_t n = 0, i;
	int r = tracer_read_dropins(dir, missing_ok, report, found, TRACERS_MAX, &n, err, err_size);

	for (i = 0; i < n; i++)
		add(found[i], report);
	return r;
}

void tracer_dropin_free(struct tracer_ops *ops)
{
	dropin_free(ops);
}

struct tracer_ops *tracer_dropin_failed(const char *name, const char *path, const char *why)
{
	return dropin_new_failed(name, path, why);
}
