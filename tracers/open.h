/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_OPEN_H
#define BPFD_TRACERS_OPEN_H

/* The open tracer's record, shared by open.bpf.c and open.c. */

#include "record.h"

enum { OPEN_FILENAME_MAX = 4096 };

enum open_syscall {
	OPEN_SYS_OPEN,
	OPEN_SYS_OPENAT,
	OPEN_SYS_OPENAT2,
	OPEN_SYS_CREAT,
	OPEN_SYS_OPEN_BY_HANDLE_AT,
};

struct open_record {
	struct bpfd_record hdr;		/* retval: the fd or -errno */
	__u64 flags;			/* open(2) flags as passed */
	__u32 syscall;			/* enum open_syscall */
	__u32 filename_len;		/* bytes in filename, with the NUL; 0: none */
	char filename[OPEN_FILENAME_MAX];
};

#endif
