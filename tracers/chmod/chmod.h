/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_CHMOD_H
#define BPFD_TRACERS_CHMOD_H

/* The chmod tracer's record, shared by chmod.bpf.c and chmod.c. */

#include "../common/path.h"
#include "../common/record.h"

enum { CHMOD_FILENAME_MAX = 4096 };

enum chmod_syscall {
	CHMOD_SYS_CHMOD,
	CHMOD_SYS_FCHMOD,
	CHMOD_SYS_FCHMODAT,
	CHMOD_SYS_FCHMODAT2,
	CHMOD_SYS_COUNT,
	/* Or'd in: the call came through the 32-bit entry. */
	CHMOD_SYS_COMPAT = 1 << 8,
};

struct chmod_record {
	struct bpfd_record hdr;		/* retval: 0 or -errno */
	__u32 mode;			/* the mode as passed (umode_t: its low 16 bits) */
	__u32 syscall;			/* enum chmod_syscall, CHMOD_SYS_COMPAT */
	__u32 path_flags;		/* enum bpfd_path_flags: what the path is */
	__u16 path_len;			/* bytes of the path at buf[0], no NUL; 0: none */
	__u16 arg_len;			/* bytes of the name as passed after it, with its NUL; 0: none */
	/* the path the kernel walked, then the file name as passed (user memory) */
	char buf[BPFD_PATH_MAX + CHMOD_FILENAME_MAX];
};

#endif
