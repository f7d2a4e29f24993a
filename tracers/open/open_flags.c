// SPDX-License-Identifier: MIT
/*
 * The open tracer's data.flags: open(2) flags by name (docs/tracers.md).
 * A file of its own so that the unit tests link it without the tracer's
 * BPF program.
 */
#include <stdio.h>
#include <string.h>

#include "tracers/open/open_flags.h"

/*
 * The values of include/uapi/asm-generic/fcntl.h, which x86-64 uses, in
 * octal as written there. They are spelled out rather than taken from
 * <fcntl.h>: glibc defines O_LARGEFILE as 0 on 64-bit and hides the
 * __O_SYNC and __O_TMPFILE halves, yet the kernel hands all of them to the
 * syscall tracepoints.
 */
enum {
	K_O_ACCMODE	= 00000003,
	K_O_RDONLY	= 00000000,
	K_O_WRONLY	= 00000001,
	K_O_RDWR	= 00000002,
	K_O_CREAT	= 00000100,
	K_O_EXCL	= 00000200,
	K_O_NOCTTY	= 00000400,
	K_O_TRUNC	= 00001000,
	K_O_APPEND	= 00002000,
	K_O_NONBLOCK	= 00004000,
	K_O_DSYNC	= 00010000,
	K_FASYNC	= 00020000,
	K_O_DIRECT	= 00040000,
	K_O_LARGEFILE	= 00100000,
	K_O_DIRECTORY	= 00200000,
	K_O_NOFOLLOW	= 00400000,
	K_O_NOATIME	= 01000000,
	K_O_CLOEXEC	= 02000000,
	K___O_SYNC	= 04000000,
	K_O_PATH	= 010000000,
	K___O_TMPFILE	= 020000000,
};

struct open_flag_name {
	uint32_t bits;		/* all of them must be set */
	uint32_t unless;	/* none of these may be set */
	const char *name;
};

/*
 * In the order printed. O_SYNC is __O_SYNC|O_DSYNC since Linux 2.6.33 and
 * O_TMPFILE is __O_TMPFILE|O_DIRECTORY: the pair prints as the one name,
 * the halves only when alone.
 */
static const struct open_flag_name open_flag_names[] = {
	{ K_O_CREAT, 0, "O_CREAT" },
	{ K_O_EXCL, 0, "O_EXCL" },
	{ K_O_NOCTTY, 0, "O_NOCTTY" },
	{ K_O_TRUNC, 0, "O_TRUNC" },
	{ K_O_APPEND, 0, "O_APPEND" },
	{ K_O_NONBLOCK, 0, "O_NONBLOCK" },
	{ K_O_DSYNC, K___O_SYNC, "O_DSYNC" },
	{ K_FASYNC, 0, "O_ASYNC" },
	{ K_O_DIRECT, 0, "O_DIRECT" },
	{ K_O_LARGEFILE, 0, "O_LARGEFILE" },
	{ K_O_DIRECTORY, K___O_TMPFILE, "O_DIRECTORY" },
	{ K_O_NOFOLLOW, 0, "O_NOFOLLOW" },
	{ K_O_NOATIME, 0, "O_NOATIME" },
	{ K_O_CLOEXEC, 0, "O_CLOEXEC" },
	{ K___O_SYNC | K_O_DSYNC, 0, "O_SYNC" },
	{ K___O_SYNC, K_O_DSYNC, "__O_SYNC" },
	{ K_O_PATH, 0, "O_PATH" },
	{ K___O_TMPFILE | K_O_DIRECTORY, 0, "O_TMPFILE" },
	{ K___O_TMPFILE, K_O_DIRECTORY, "__O_TMPFILE" },
};

static char *put(char *p, const char *name)
{
	size_t n = strlen(name);

	memcpy(p, name, n);
	return p + n;
}

size_t open_flags_format(uint64_t flags, char *buf, size_t size)
{
	/* Every name once, "|0x" and 16 hex digits: well under 256. */
	char tmp[256], *p = tmp;
	uint64_t known = K_O_ACCMODE;
	size_t n;

	switch (flags & K_O_ACCMODE) {
	case K_O_RDONLY:
		p = put(p, "O_RDONLY");
		break;
	case K_O_WRONLY:
		p = put(p, "O_WRONLY");
		break;
	case K_O_RDWR:
		p = put(p, "O_RDWR");
		break;
	default:
		/* 3: no read, no write, ioctl only; the kernel accepts it for devices. */
		p = put(p, "O_ACCMODE");
		break;
	}
	for (size_t i = 0; i < sizeof(open_flag_names) / sizeof(open_flag_names[0]); i++) {
		const struct open_flag_name *f = &open_flag_names[i];

		known |= f->bits;
		if ((flags & f->bits) != f->bits || (flags & f->unless))
			continue;
		*p++ = '|';
		n = strlen(f->name);
		memcpy(p, f->name, n);
		p += n;
	}
	if (flags & ~known)
		p += snprintf(p, tmp + sizeof(tmp) - p, "|0x%llx",
			      (unsigned long long)(flags & ~known));

	if (!size)
		return 0;
	n = p - tmp;
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}
