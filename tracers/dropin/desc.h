/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_DROPIN_DESC_H
#define BPFD_TRACERS_DROPIN_DESC_H

/*
 * A drop-in tracer's description, NAME.toml (docs/writing-a-tracer.md,
 * "Drop-in tracers"): what its program attaches to and the fields of its
 * record. The reader lays the record out (each field at its natural
 * alignment after the common header) so that the daemon's decoder and the
 * C struct it gives the program (dropin_c_header()) cannot disagree.
 *
 * Everything is bounded: a description holds at most DROPIN_FIELDS_MAX
 * fields and DROPIN_HOOKS_MAX hooks, names are short identifiers, and the
 * whole record fits in DROPIN_RECORD_MAX bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracer.h"

enum {
	DROPIN_NAME_MAX = 32,		/* tracer, field and value names, with the NUL */
	DROPIN_FUNCTION_MAX = 64,	/* a BPF function's name, with the NUL */
	DROPIN_TARGET_MAX = 128,	/* a hook's target ("category:name", a symbol) */
	DROPIN_PATH_MAX = 256,		/* a uprobe's binary */
	DROPIN_TEXT_MAX = 256,		/* the description, an optional hook's note */
	DROPIN_HOOKS_MAX = 8,
	/* Each field is a data key, beside "command" and "returnval": EVENT_DATA_MAX in all. */
	DROPIN_FIELDS_MAX = 14,
	DROPIN_VALUES_MAX = 64,		/* names of one flags or enum field */
	DROPIN_BITS_MAX = 8,		/* boolean keys one field's bits give (bits) */
	/* Keys an event gets from its fields (a path gives 3, a bit 1), beside those two. */
	DROPIN_KEYS_MAX = 14,
	DROPIN_STRING_MAX = 4096,	/* bytes of a string field, its NUL included */
	DROPIN_BYTES_MAX = 256,		/* bytes of a bytes field */
	DROPIN_RECORD_MAX = 16384,	/* the whole record, header included */
	DROPIN_ERROR_MAX = 512,
};

enum dropin_type {
	DROPIN_U8, DROPIN_U16, DROPIN_U32, DROPIN_U64,
	DROPIN_S8, DROPIN_S16, DROPIN_S32, DROPIN_S64,
	DROPIN_STRING,		/* char[max], NUL-terminated or cut at max */
	DROPIN_BYTES,		/* __u8[length], shown in hex */
	DROPIN_IPV4,		/* __u8[4], network order (struct in_addr) */
	DROPIN_IPV6,		/* __u8[16] (struct in6_addr) */
	DROPIN_PORT,		/* __u16, host order */
	DROPIN_ERRNO,		/* __s32: 0, or an error number (either sign): its name */
	DROPIN_FLAGS,		/* an unsigned integer of size bytes: the names of its bits */
	DROPIN_ENUM,		/* an unsigned integer of size bytes: the name of its value */
	DROPIN_MODE,		/* __u32, a file's mode: its permission bits (07777), 4 octal digits */
	/*
	 * A file's path (tracers/common/path.h) and the name as passed: __u32
	 * flags (enum bpfd_path_flags), __u16 len, __u16 arg_len, then char
	 * buf[BPFD_PATH_MAX + max], the path's len bytes then arg_len of the
	 * name. Always last in the record, which may end after those bytes.
	 */
	DROPIN_PATH,
	DROPIN_TYPE_COUNT,
};

enum dropin_format { DROPIN_DECIMAL, DROPIN_HEX, DROPIN_OCTAL };

struct dropin_value {
	char name[DROPIN_NAME_MAX];
	uint64_t value;
};

struct dropin_field {
	char name[DROPIN_NAME_MAX];
	enum dropin_type type;
	enum dropin_format format;	/* integers */
	bool key;			/* rules may test it */
	uint32_t offset;		/* from the record's start */
	uint32_t size;			/* bytes in the record */
	struct dropin_value values[DROPIN_VALUES_MAX];	/* flags, enum */
	size_t n_values;
	bool strict;			/* enum: a value without a name refuses the record */
	uint32_t max;			/* path: bytes of the name as passed, its NUL included */
	/* Each a boolean key, "true" when all of its value's bits are set. */
	struct dropin_value bits[DROPIN_BITS_MAX];
	size_t n_bits;
};

struct dropin_hook {
	enum tracer_hook_kind kind;	/* tracepoint, raw tracepoint, uprobe, uretprobe */
	char target[DROPIN_TARGET_MAX];
	char function[DROPIN_FUNCTION_MAX];
	char binary[DROPIN_PATH_MAX];	/* uprobes */
	char optional[DROPIN_TEXT_MAX];	/* "": required */
};

struct dropin_desc {
	char name[DROPIN_NAME_MAX];
	char description[DROPIN_TEXT_MAX];
	struct dropin_hook hooks[DROPIN_HOOKS_MAX];
	size_t n_hooks;
	struct dropin_field fields[DROPIN_FIELDS_MAX];
	size_t n_fields;
	unsigned int prefilter;		/* BPFD_PF_COMM, BPFD_PF_UID, BPFD_PF_CONTAINER */
	uint32_t record_size;		/* the whole record, a multiple of 8 */
	/* The shortest record: record_size, or where a path field's bytes start. */
	uint32_t record_min;
};

/* True for a name a tracer or field may have: [a-z][a-z0-9_]*, shorter than DROPIN_NAME_MAX. */
bool dropin_name_valid(const char *name, size_t len);

/*
 * Reads description @text (@len bytes) of tracer @name, from file @path
 * (for messages). 0, or a negative errno with "PATH:LINE: KEY: what is
 * wrong" in @err.
 */
int dropin_desc_parse(const char *path, const char *name, const char *text, size_t len,
		      struct dropin_desc *d, char *err, size_t err_size);

/*
 * The same for a built-in tracer's description (tracers/NAME/NAME.toml,
 * embedded in the daemon): its hooks are the tracer's C (tracer_ops.hooks),
 * so it has none.
 */
int dropin_desc_parse_builtin(const char *path, const char *name, const char *text, size_t len,
			      struct dropin_desc *d, char *err, size_t err_size);

/*
 * The data keys the fields of @d give an event, in the order the decoder
 * adds them (only the fields with key = true unless @all), into @out (at
 * most @max). Their count. The names point into @d.
 */
size_t dropin_desc_keys(const struct dropin_desc *d, bool all, const char **out, size_t max);

/* The type's name as descriptions write it ("u32", "string", ...). */
const char *dropin_type_name(enum dropin_type t);

#endif
