/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_EXEC_H
#define BPFD_TRACERS_EXEC_H

/* The exec tracer's record, shared by exec.bpf.c and exec.c. */

#include "record.h"

enum {
	EXEC_FILENAME_MAX = 4096,	/* PATH_MAX */
	EXEC_ARGV_MAX = 16384,		/* documented cap of data.argv */
	EXEC_FAILED_ARGS_MAX = 256,	/* arguments read for a failed exec */
};

enum exec_flags {
	EXEC_ARGV_TRUNCATED = 1 << 0,
	/* argv bytes are NUL-separated strings (else one string). */
	EXEC_ARGV_NUL_SEPARATED = 1 << 1,
};

struct exec_record {
	struct bpfd_record hdr;		/* retval: 0, or the failed exec's -errno */
	__u32 flags;			/* enum exec_flags */
	__u16 argv_off;			/* where the arguments start in buf */
	__u16 argv_len;			/* bytes of arguments */
	/* filename (NUL-terminated), then at argv_off the arguments */
	char buf[EXEC_FILENAME_MAX + EXEC_ARGV_MAX];
};

#endif
