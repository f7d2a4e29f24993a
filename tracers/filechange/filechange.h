/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_FILECHANGE_H
#define BPFD_TRACERS_FILECHANGE_H

/* The filechange tracer's record, shared by filechange.bpf.c and filechange.c. */

#include "../common/path.h"
#include "../common/record.h"

enum {
	FILECHANGE_NAME_MAX = 4096,	/* bytes of a name as passed, with its NUL */
	FILECHANGE_TIMES_MAX = 32,	/* bytes of the times argument kept (two timespecs) */
};

enum filechange_syscall {
	FC_SYS_UNLINK,
	FC_SYS_UNLINKAT,
	FC_SYS_RMDIR,
	FC_SYS_RENAME,
	FC_SYS_RENAMEAT,
	FC_SYS_RENAMEAT2,
	FC_SYS_TRUNCATE,
	FC_SYS_FTRUNCATE,
	FC_SYS_UTIME,
	FC_SYS_UTIMES,
	FC_SYS_UTIMENSAT,
	FC_SYS_FUTIMESAT,
	FC_SYS_CHOWN,
	FC_SYS_FCHOWN,
	FC_SYS_LCHOWN,
	FC_SYS_FCHOWNAT,
	/* The 32-bit entry's own calls, with no 64-bit twin. */
	FC_SYS_TRUNCATE64,
	FC_SYS_FTRUNCATE64,
	FC_SYS_UTIMENSAT_TIME64,
	FC_SYS_CHOWN16,
	FC_SYS_FCHOWN16,
	FC_SYS_LCHOWN16,
	FC_SYS_COUNT,
	/* Or'd in: the call came through the 32-bit entry. */
	FC_SYS_COMPAT = 1 << 8,
};

/*
 * What a call does: data.operation, and the tracer's kinds for the
 * in-kernel prefilter (BPFD_PF_KIND, bit FC_OP_*).
 */
enum filechange_operation {
	FC_OP_DELETE,
	FC_OP_RENAME,
	FC_OP_TRUNCATE,
	FC_OP_TIMESTAMPS,
	FC_OP_OWNER,
	FC_OP_COUNT,
};

/* How the times argument of the timestamp calls is laid out (times_kind). */
enum filechange_times {
	FC_TIMES_NONE,		/* not a timestamp call */
	FC_TIMES_UTIMBUF,	/* utime: actime, modtime (seconds) */
	FC_TIMES_TIMEVAL,	/* utimes, futimesat: two { sec, usec } */
	FC_TIMES_TIMESPEC,	/* utimensat: two { sec, nsec }, UTIME_NOW, UTIME_OMIT */
	FC_TIMES_COUNT,
	/* Or'd in: 32-bit members (the compat calls' old_time32 layouts). */
	FC_TIMES_32 = 1 << 4,
};

struct filechange_record {
	struct bpfd_record hdr;		/* retval: 0 or -errno */
	__u64 length;			/* truncate: the new length as passed */
	__u32 syscall;			/* enum filechange_syscall, FC_SYS_COMPAT */
	__u32 flags;			/* unlinkat, renameat2, utimensat, fchownat: as passed */
	__u32 uid;			/* chown: the new owner as passed (-1: unchanged) */
	__u32 gid;
	__u32 path_flags;		/* enum bpfd_path_flags of the file's walk */
	__u32 target_flags;		/* the same for a rename's target */
	__u16 times_kind;		/* enum filechange_times, FC_TIMES_32 */
	/* bytes of times read; 0: the pointer was NULL (now); 0xffff: unreadable */
	__u16 times_len;
	__u8 times[FILECHANGE_TIMES_MAX];
	/*
	 * Bytes of each part of buf, in this order: the path walked (no NUL),
	 * the name as passed (with its NUL), then a rename's target's the same.
	 */
	__u16 path_len;
	__u16 arg_len;
	__u16 target_len;
	__u16 target_arg_len;
	char buf[2 * (BPFD_PATH_MAX + FILECHANGE_NAME_MAX)];
};

#define FC_TIMES_UNREADABLE 0xffff

#endif
