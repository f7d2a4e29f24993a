/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_OPEN_H
#define BPFD_TRACERS_OPEN_H

/* The open tracer's record, shared by open.bpf.c and open.c. */

#include "../common/path.h"
#include "../common/record.h"

enum { OPEN_FILENAME_MAX = 4096 };

enum open_syscall {
	OPEN_SYS_OPEN,
	OPEN_SYS_OPENAT,
	OPEN_SYS_OPENAT2,
	OPEN_SYS_CREAT,
	OPEN_SYS_OPEN_BY_HANDLE_AT,
	OPEN_SYS_IO_URING_OPENAT,	/* an io_uring request (IORING_OP_OPENAT) */
	OPEN_SYS_IO_URING_OPENAT2,
	OPEN_SYS_COUNT,
	/* Or'd in: the call came through the 32-bit entry (int $0x80, sysenter, a 32-bit process). */
	OPEN_SYS_COMPAT = 1 << 8,
};

struct open_record {
	struct bpfd_record hdr;		/* retval: the fd or -errno */
	__u64 flags;			/* open(2) flags as passed */
	__u32 syscall;			/* enum open_syscall, OPEN_SYS_COMPAT */
	__u32 path_flags;		/* enum bpfd_path_flags: what the path is */
	__u16 path_len;			/* bytes of the path at buf[0], no NUL; 0: none */
	__u16 arg_len;			/* bytes of the argument after it, with its NUL; 0: none */
	__u32 pad;
	struct bpfd_path_ident ident;	/* how the prefilter knew the file, if it did */
	/*
	 * the path the kernel walked, the file name as passed (user memory),
	 * then ident's names below a directory (ident.tail_len bytes)
	 */
	char buf[BPFD_PATH_MAX + OPEN_FILENAME_MAX + BPFD_IDENT_TAIL_MAX];
};

#endif
