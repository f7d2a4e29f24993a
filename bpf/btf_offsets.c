// SPDX-License-Identifier: MIT
#include "bpf/btf_offsets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

/*
 * Anonymous structs and unions nest a few levels deep at most (task_struct's
 * randomized-layout wrappers); a deeper chain means malformed BTF.
 */
enum { ANON_MAX_DEPTH = 8 };

/* The longest member path in BTF_OFFSETS(), with its NUL. */
enum { MEMBER_PATH_MAX = 128 };

static const struct {
	const char *name;
	const char *type;
	const char *member;
	bool io_uring;		/* optional: one of BTF_OFFSETS_IO_URING() */
} wanted[BTF_OFF_COUNT] = {
#define BTF_OFFSET_ENTRY(n, s, m) [BTF_OFF_##n] = { #n, s, m, false },
#define BTF_OFFSET_IO_URING(n, s, m) [BTF_OFF_##n] = { #n, s, m, true },
	BTF_OFFSETS(BTF_OFFSET_ENTRY)
	BTF_OFFSETS_IO_URING(BTF_OFFSET_IO_URING)
#undef BTF_OFFSET_IO_URING
#undef BTF_OFFSET_ENTRY
};

static void set_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!err || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* The struct or union behind @id once typedefs and qualifiers are skipped, else NULL. */
static const struct btf_type *composite(const struct btf *btf, __u32 id)
{
	const struct btf_type *t;

	__s32 resolved = btf__resolve_type(btf, id);

	if (resolved < 0)
		return NULL;
	t = btf__type_by_id(btf, (__u32)resolved);
	return t && btf_is_composite(t) ? t : NULL;
}

/*
 * An old-style bitfield: the member's int type itself carries a bit
 * size or offset (BTF without the kind_flag member encoding).
 */
static bool int_bitfield(const struct btf *btf, __u32 type_id)
{
	__s32 id = btf__resolve_type(btf, type_id);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, (__u32)id);

	return t && btf_is_int(t) && (btf_int_offset(t) || btf_int_bits(t) != t->size * 8);
}

/*
 * Looks for member @name in the struct/union @t, descending into anonymous
 * members, whose own offsets add up. On success *@bit_off is the offset from
 * the start of @t in bits and *@type the member's type id. 0, -ENOENT, or
 * -EINVAL for a bitfield.
 */
static int find_member(const struct btf *btf, const struct btf_type *t, const char *name,
		       int depth, __u32 *bit_off, __u32 *type)
{
	const struct btf_member *m = btf_members(t);
	__u16 i, n = btf_vlen(t);
	int err;

	if (depth > ANON_MAX_DEPTH)
		return -ENOENT;
	/* Named members first: an anonymous member never hides a direct one. */
	for (i = 0; i < n; i++) {
		const char *mname = btf__name_by_offset(btf, m[i].name_off);

		if (!mname || strcmp(mname, name) != 0)
			continue;
		if (btf_member_bitfield_size(t, i) || int_bitfield(btf, m[i].type))
			return -EINVAL;
		*bit_off = btf_member_bit_offset(t, i);
		*type = m[i].type;
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct btf_type *inner;
		__u32 off;

		if (m[i].name_off)
			continue;
		inner = composite(btf, m[i].type);
		if (!inner)
			continue;
		err = find_member(btf, inner, name, depth + 1, &off, type);
		if (err == -ENOENT)
			continue;
		if (err < 0)
			return err;
		*bit_off = btf_member_bit_offset(t, i) + off;
		return 0;
	}
	return -ENOENT;
}

/*
 * Byte offset of the member path @path ("ns.inum") in struct @type_name.
 * 0 or a negative errno, with @err saying which part failed.
 */
static int member_offset(const struct btf *btf, const char *type_name, const char *path,
			 long *out, char *err, size_t err_size)
{
	char buf[MEMBER_PATH_MAX], *name, *save = NULL;
	const struct btf_type *t;
	__s32 id;
	long total = 0;
	int r;

	id = btf__find_by_name_kind(btf, type_name, BTF_KIND_STRUCT);
	if (id < 0) {
		set_err(err, err_size, "struct %s: not in the kernel's BTF", type_name);
		return -ENOENT;
	}
	t = btf__type_by_id(btf, (__u32)id);
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		set_err(err, err_size, "struct %s: member path %s too long", type_name, path);
		return -ENAMETOOLONG;
	}

	for (name = strtok_r(buf, ".", &save); name; name = strtok_r(NULL, ".", &save)) {
		__u32 bit_off = 0, member_type = 0;

		if (!t) {
			set_err(err, err_size, "struct %s: in member %s, %s is not inside a struct",
				type_name, path, name);
			return -EINVAL;
		}
		r = find_member(btf, t, name, 0, &bit_off, &member_type);
		if (r == -ENOENT) {
			set_err(err, err_size, "struct %s: no member %s", type_name, path);
			return r;
		}
		if (r < 0 || bit_off % 8) {
			set_err(err, err_size, "struct %s: member %s is a bitfield", type_name,
				path);
			return -EINVAL;
		}
		total += bit_off / 8;
		/* The next path component, if any, is looked up in this member's type. */
		t = composite(btf, member_type);
	}
	*out = total;
	return 0;
}

int btf_offsets_read(const char *path, struct kernel_offsets *out, char *err, size_t err_size)
{
	struct btf *btf;
	__s32 id;
	long long size;
	int i, r = 0;

	if (!path || !out)
		return -EINVAL;
	if (err && err_size)
		err[0] = '\0';

	/* libbpf 1.x: NULL and errno on failure. */
	btf = btf__parse(path, NULL);
	if (!btf) {
		char why[128];

		r = errno ? -errno : -EINVAL;
		libbpf_strerror(r, why, sizeof(why));
		set_err(err, err_size, "cannot read BTF from %s: %s", path, why);
		/* libbpf's own codes (-LIBBPF_ERRNO__FORMAT ...) mean nothing to callers. */
		return -r >= __LIBBPF_ERRNO__START ? -EINVAL : r;
	}

	/* All of it, the name's unused bytes too: the loader sends it whole. */
	memset(out, 0, sizeof(*out));
	out->io_uring = 1;
	for (i = 0; i < BTF_OFF_COUNT && !r; i++) {
		if (!wanted[i].io_uring) {
			r = member_offset(btf, wanted[i].type, wanted[i].member, &out->off[i], err,
					  err_size);
			continue;
		}
		/* Optional: the first one missing switches the io_uring hooks off, and says why. */
		out->off[i] = -1;
		if (out->io_uring &&
		    member_offset(btf, wanted[i].type, wanted[i].member, &out->off[i],
				  out->io_uring_missing, sizeof(out->io_uring_missing)) < 0) {
			out->io_uring = 0;
			out->off[i] = -1;
		}
	}
	if (r < 0)
		goto out;
	if (!out->io_uring) {
		for (i = 0; i < BTF_OFF_COUNT; i++)
			if (wanted[i].io_uring)
				out->off[i] = -1;
	}

	id = btf__find_by_name_kind(btf, "upid", BTF_KIND_STRUCT);
	size = id < 0 ? -1 : btf__resolve_size(btf, (__u32)id);
	if (size <= 0) {
		set_err(err, err_size, "struct upid: no size in the kernel's BTF");
		r = -ENOENT;
		goto out;
	}
	out->upid_size = (long)size;
	id = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC);
	out->kmem_cast = id > 0 ? id : 0;
out:
	btf__free(btf);
	return r;
}

void btf_offsets_cflags(const struct kernel_offsets *o, char storage[][BTF_CFLAG_LEN],
			const char **argv)
{
	int i;

	for (i = 0; i < BTF_OFF_COUNT; i++) {
		snprintf(storage[i], BTF_CFLAG_LEN, "-DBPFD_OFF_%s=%ld", wanted[i].name, o->off[i]);
		argv[i] = storage[i];
	}
	snprintf(storage[i], BTF_CFLAG_LEN, "-DBPFD_UPID_SIZE=%ld", o->upid_size);
	argv[i] = storage[i];
	argv[i + 1] = NULL;
}

int btf_enum_value(const char *path, const char *name, long *value)
{
	struct btf *btf = btf__parse(path, NULL);
	__u32 id, n;
	int r = -ENOENT;

	if (!btf)
		return errno ? -errno : -EINVAL;
	n = btf__type_cnt(btf);
	for (id = 1; id < n && r; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;
		__u16 i;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++) {
			if (strcmp(btf__name_by_offset(btf, e[i].name_off), name) == 0) {
				*value = e[i].val;
				r = 0;
				break;
			}
		}
	}
	btf__free(btf);
	return r;
}
