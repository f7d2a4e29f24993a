// SPDX-License-Identifier: MIT
/*
 * filechange: files deleted, renamed, truncated, timestamped or given a new
 * owner, by any program (docs/tracers.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pathname.h"
#include "tracer.h"
#include "tracers/filechange/filechange.h"
#include "filechange_bpf.h"

#define FC_EXIT(name)                                                                  \
	{ .kind = TRACER_HOOK_TRACEPOINT, .target = "syscalls:sys_exit_" name,                 \
	  .function = "bpfd_fc_sys_exit" }

static const struct tracer_hook filechange_hooks[] = {
	/* One program on every exit (filechange.bpf.c). */
	FC_EXIT("unlink"), FC_EXIT("unlinkat"), FC_EXIT("rmdir"),
	FC_EXIT("rename"), FC_EXIT("renameat"),
	/* Linux 3.15 added renameat2: a kernel without it has renameat's only. */
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_renameat2", "bpfd_fc_sys_exit",
	  .optional = "renameat2 calls (mv's, RENAME_EXCHANGE) are not reported" },
	FC_EXIT("truncate"), FC_EXIT("ftruncate"),
	FC_EXIT("utime"), FC_EXIT("utimes"), FC_EXIT("utimensat"), FC_EXIT("futimesat"),
	FC_EXIT("chown"), FC_EXIT("fchown"), FC_EXIT("lchown"), FC_EXIT("fchownat"),
	/* The 32-bit entry: the raw sys_exit program's tail call (exec.c says how). */
	{ TRACER_HOOK_TAIL_CALL, "bpfd_compat_progs", "bpfd_filechange_compat", .compat = true },
	{ TRACER_HOOK_RAW_TRACEPOINT, "sys_exit", "raw_tracepoint__sys_exit", .compat = true },
	{ 0 },
};

static const char *const filechange_keys[] = {
	"operation", "filename", "argument", "resolved", "target", "target_argument", "flags", "length", "new_uid", "new_gid", "times", "atime", "mtime", "syscall",
	"command", "returnval", NULL,
};

/* data.operation; NULL-terminated, as the prefilter's kinds (tracer_ops.pf_kinds). */
static const char *const operation_names[FC_OP_COUNT + 1] = {
	[FC_OP_DELETE] = "delete",
	[FC_OP_RENAME] = "rename",
	[FC_OP_TRUNCATE] = "truncate",
	[FC_OP_TIMESTAMPS] = "timestamps",
	[FC_OP_OWNER] = "owner",
};

/* Each call: its name (data.syscall, "compat_" before it through the 32-bit entry), what it does. */
static const struct {
	const char *name;
	enum filechange_operation op;
} calls[FC_SYS_COUNT] = {
	[FC_SYS_UNLINK] = { "unlink", FC_OP_DELETE },
	[FC_SYS_UNLINKAT] = { "unlinkat", FC_OP_DELETE },
	[FC_SYS_RMDIR] = { "rmdir", FC_OP_DELETE },
	[FC_SYS_RENAME] = { "rename", FC_OP_RENAME },
	[FC_SYS_RENAMEAT] = { "renameat", FC_OP_RENAME },
	[FC_SYS_RENAMEAT2] = { "renameat2", FC_OP_RENAME },
	[FC_SYS_TRUNCATE] = { "truncate", FC_OP_TRUNCATE },
	[FC_SYS_FTRUNCATE] = { "ftruncate", FC_OP_TRUNCATE },
	[FC_SYS_UTIME] = { "utime", FC_OP_TIMESTAMPS },
	[FC_SYS_UTIMES] = { "utimes", FC_OP_TIMESTAMPS },
	[FC_SYS_UTIMENSAT] = { "utimensat", FC_OP_TIMESTAMPS },
	[FC_SYS_FUTIMESAT] = { "futimesat", FC_OP_TIMESTAMPS },
	[FC_SYS_CHOWN] = { "chown", FC_OP_OWNER },
	[FC_SYS_FCHOWN] = { "fchown", FC_OP_OWNER },
	[FC_SYS_LCHOWN] = { "lchown", FC_OP_OWNER },
	[FC_SYS_FCHOWNAT] = { "fchownat", FC_OP_OWNER },
	[FC_SYS_TRUNCATE64] = { "truncate64", FC_OP_TRUNCATE },
	[FC_SYS_FTRUNCATE64] = { "ftruncate64", FC_OP_TRUNCATE },
	[FC_SYS_UTIMENSAT_TIME64] = { "utimensat_time64", FC_OP_TIMESTAMPS },
	[FC_SYS_CHOWN16] = { "chown16", FC_OP_OWNER },
	[FC_SYS_FCHOWN16] = { "fchown16", FC_OP_OWNER },
	[FC_SYS_LCHOWN16] = { "lchown16", FC_OP_OWNER },
};

/* Adds @n bytes of @text, built on the stack, as data.@key: a copy in the event's scratch. */
static int add_copy(struct event *ev, const char *key, const char *text, size_t n)
{
	char *out = event_scratch_alloc(ev, n ? n : 1);

	if (!out)
		return -ENOSPC;
	memcpy(out, text, n);
	return event_add_data_key(ev, key, strlen(key), out, n);
}

struct flag_name {
	uint32_t bit;
	const char *name;
};

/* include/uapi/linux/fcntl.h, include/uapi/linux/fs.h */
static const struct flag_name at_flags[] = {
	{ 0x100, "AT_SYMLINK_NOFOLLOW" },
	{ 0x200, "AT_REMOVEDIR" },
	{ 0x400, "AT_SYMLINK_FOLLOW" },
	{ 0x800, "AT_NO_AUTOMOUNT" },
	{ 0x1000, "AT_EMPTY_PATH" },
	{ 0 },
};

static const struct flag_name rename_flags[] = {
	{ 1 << 0, "RENAME_NOREPLACE" },
	{ 1 << 1, "RENAME_EXCHANGE" },
	{ 1 << 2, "RENAME_WHITEOUT" },
	{ 0 },
};

/*
 * data.flags: the names of @flags' bits joined by "|", a bit without a name
 * in hex; "0" for none.
 */
static int add_flags(struct event *ev, uint32_t flags, const struct flag_name *names)
{
	char text[160];
	size_t n = 0;
	uint32_t rest = flags;
	int w;

	if (!flags)
		return event_add_str(ev, "flags", "0");
	for (; names->bit; names++) {
		if (!(flags & names->bit))
			continue;
		w = snprintf(text + n, sizeof(text) - n, "%s%s", n ? "|" : "", names->name);
		if (w < 0 || (size_t)w >= sizeof(text) - n)
			return -ENOSPC;
		n += (size_t)w;
		rest &= ~names->bit;
	}
	if (rest) {
		w = snprintf(text + n, sizeof(text) - n, "%s0x%x", n ? "|" : "", (unsigned int)rest);
		if (w < 0 || (size_t)w >= sizeof(text) - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return add_copy(ev, "flags", text, n);
}

/* utimensat's special nanosecond values (include/uapi/linux/stat.h). */
#define FC_UTIME_NOW ((1L << 30) - 1)
#define FC_UTIME_OMIT ((1L << 30) - 2)

/* One time set: seconds and nanoseconds, or a word for the special values. */
struct fc_time {
	int64_t sec;
	int64_t nsec;
	const char *word;	/* "now", "omit" or NULL */
	int raw;		/* nsec holds a value out of the layout's range, as passed */
};

static int64_t times_member(const uint8_t *p, size_t i, int narrow)
{
	int32_t v32;
	int64_t v64;

	if (narrow) {
		memcpy(&v32, p + 4 * i, 4);
		return v32;
	}
	memcpy(&v64, p + 8 * i, 8);
	return v64;
}

/*
 * The two times (access, modification) the call's times argument holds,
 * by its layout @kind. Returns -EINVAL for a layout this tracer does not
 * write or too few bytes for it.
 */
static int times_of(const struct filechange_record *r, struct fc_time t[2])
{
	int narrow = (r->times_kind & FC_TIMES_32) != 0;
	unsigned int kind = r->times_kind & ~(unsigned int)FC_TIMES_32;
	size_t per = narrow ? 4 : 8, need;
	int i;

	need = (kind == FC_TIMES_UTIMBUF ? 2 : 4) * per;
	if (kind == FC_TIMES_NONE || kind >= FC_TIMES_COUNT || r->times_len < need)
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		t[i].word = NULL;
		t[i].raw = 0;
		if (kind == FC_TIMES_UTIMBUF) {
			t[i].sec = times_member(r->times, (size_t)i, narrow);
			t[i].nsec = 0;
			continue;
		}
		t[i].sec = times_member(r->times, 2 * (size_t)i, narrow);
		t[i].nsec = times_member(r->times, 2 * (size_t)i + 1, narrow);
		if (kind == FC_TIMES_TIMEVAL) {
			if (t[i].nsec >= 0 && t[i].nsec < 1000000)
				t[i].nsec *= 1000;
			else
				t[i].raw = 1;
		} else if (t[i].nsec == FC_UTIME_NOW) {
			t[i].word = "now";
		} else if (t[i].nsec == FC_UTIME_OMIT) {
			t[i].word = "omit";
		}
	}
	return 0;
}

/* data.atime, data.mtime: UTC, to the nanosecond ("2001-02-03T04:05:06.000000000Z"). */
static int add_time(struct event *ev, const char *key, const struct fc_time *t)
{
	char text[64];
	struct tm tm;
	time_t sec = (time_t)t->sec;
	int n;

	if (t->word)
		return event_add_str(ev, key, t->word);
	if (t->raw || t->nsec < 0 || t->nsec > 999999999 || !gmtime_r(&sec, &tm)) {
		/* Out of range (the kernel refuses it): the numbers as passed. */
		n = snprintf(text, sizeof(text), "%lld.%lld", (long long)t->sec, (long long)t->nsec);
	} else {
		n = snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, (long long)t->nsec);
	}
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENOSPC;
	return add_copy(ev, key, text, (size_t)n);
}

/*
 * data.times: "now" when the call sets the clock's time (no times, or
 * each one UTIME_NOW or UTIME_OMIT), "set" when it sets a time of its
 * choosing (touch -d, touch -r, timestomping), "unreadable" when its
 * times could not be read; then atime and mtime.
 */
static int add_times(struct event *ev, const struct filechange_record *r)
{
	struct fc_time t[2];
	int err;

	if (r->times_len == 0)
		return event_add_str(ev, "times", "now");
	if (r->times_len == FC_TIMES_UNREADABLE)
		return event_add_str(ev, "times", "unreadable");
	err = times_of(r, t);
	if (err)
		return err;
	err = event_add_str(ev, "times", t[0].word && t[1].word ? "now" : "set");
	if (!err)
		err = add_time(ev, "atime", &t[0]);
	if (!err)
		err = add_time(ev, "mtime", &t[1]);
	return err;
}

static int filechange_decode(const void *raw, size_t size, struct event *ev)
{
	static const struct pathname_keys target_keys = {
		/* No target_resolved: a target is always a name, as `resolved` says. */
		.filename = "target", .argument = "target_argument", .resolved = NULL,
	};
	const struct filechange_record *r = raw;
	size_t head = offsetof(struct filechange_record, buf), parts;
	uint32_t sys, compat;
	const char *buf = r->buf, *sysname;
	char name[32];
	enum filechange_operation op;
	int err, n;

	/* The size first: the lengths inside are only read once the header is there. */
	if (size < head || r->path_len > BPFD_PATH_MAX || r->arg_len > FILECHANGE_NAME_MAX ||
	    r->target_len > BPFD_PATH_MAX || r->target_arg_len > FILECHANGE_NAME_MAX)
		return -EINVAL;
	parts = (size_t)r->path_len + r->arg_len + r->target_len + r->target_arg_len;
	if (parts > size - head)
		return -EINVAL;
	compat = r->syscall & FC_SYS_COMPAT;
	sys = r->syscall & ~(uint32_t)FC_SYS_COMPAT;
	if (sys >= FC_SYS_COUNT || (r->syscall & ~(uint32_t)(FC_SYS_COMPAT | 0xff)))
		return -EINVAL;
	sysname = calls[sys].name;
	op = calls[sys].op;
	n = snprintf(name, sizeof(name), "%s%s", compat ? "compat_" : "", sysname);
	err = event_add_str(ev, "operation", operation_names[op]);
	if (!err)
		err = pathname_add_event_keys(ev, buf, r->path_len, r->path_flags,
					      buf + r->path_len, r->arg_len);
	buf += r->path_len + r->arg_len;
	if (!err && op == FC_OP_RENAME)
		err = pathname_add_event_keys_as(ev, &target_keys, buf, r->target_len,
						 r->target_flags, buf + r->target_len,
						 r->target_arg_len);
	if (err)
		return err;
	switch (op) {
	case FC_OP_DELETE:
		if (sys == FC_SYS_UNLINKAT)
			err = add_flags(ev, r->flags, at_flags);
		break;
	case FC_OP_RENAME:
		if (sys == FC_SYS_RENAMEAT2)
			err = add_flags(ev, r->flags, rename_flags);
		break;
	case FC_OP_TRUNCATE:
		err = event_add_int(ev, "length", (int64_t)r->length);
		break;
	case FC_OP_TIMESTAMPS:
		err = add_times(ev, r);
		if (!err && sys == FC_SYS_UTIMENSAT)
			err = add_flags(ev, r->flags, at_flags);
		break;
	case FC_OP_OWNER:
		/* -1: that id is left as it is. */
		err = event_add_int(ev, "new_uid", (int32_t)r->uid);
		if (!err)
			err = event_add_int(ev, "new_gid", (int32_t)r->gid);
		if (!err && sys == FC_SYS_FCHOWNAT)
			err = add_flags(ev, r->flags, at_flags);
		break;
	case FC_OP_COUNT:	/* calls[] names an operation for every call */
		break;
	}
	if (!err)
		err = add_copy(ev, "syscall", name, (size_t)n);
	if (!err)
		err = event_add_str(ev, "command", ev->command);
	if (!err)
		err = event_add_int(ev, "returnval", ev->returnval);
	return err;
}

/* What the prefilter tests as paths: either of a rename's. */
static const char *const path_keys[] = { "filename", "target", NULL };

const struct tracer_ops filechange_tracer = {
	.name = "filechange",
	.description = "files deleted, renamed, truncated, timestamped or chowned (unlink, rename, "
		       "truncate, utimensat, chown families, 32-bit entry), the result",
	.bpf_source = bpfd_filechange_bpf_source,
	.hooks = filechange_hooks,
	.keys = filechange_keys,
	.prefilter = BPFD_PF_COMM | BPFD_PF_UID | BPFD_PF_CONTAINER | BPFD_PF_PATH |
		     BPFD_PF_SUFFIX | BPFD_PF_KIND,
	.pf_path_keys = path_keys,
	.pf_kind_key = "operation",
	.pf_kinds = operation_names,
	.decode = filechange_decode,
};
