/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_EXEC_H
#define BPFD_TRACERS_EXEC_H

/* The exec tracer's record, shared by exec.bpf.c and exec.c. */

#include "../common/path.h"
#include "../common/record.h"

enum {
	EXEC_FILENAME_MAX = 4096,	/* PATH_MAX */
	EXEC_ARGV_MAX = 16384,		/* documented cap of data.argv */
	EXEC_FAILED_ARGS_MAX = 256,	/* arguments read for a failed exec */
};

enum exec_flags {
	EXEC_ARGV_TRUNCATED = 1 << 0,
	/* argv bytes are NUL-separated strings (else one string). */
	EXEC_ARGV_NUL_SEPARATED = 1 << 1,
	/* The executable has no name on disk: no link left (a memfd, a deleted file). */
	EXEC_FILELESS = 1 << 2,
	/*
	 * The file executed was a script (or a binfmt_misc file): the kernel
	 * ran an interpreter, whose path follows the argument.
	 */
	EXEC_SCRIPT = 1 << 3,
};

/* What a standard descriptor of the new program is: data.stdin, stdout, stderr. */
enum exec_stdio {
	EXEC_STDIO_NONE,
	EXEC_STDIO_TTY,
	EXEC_STDIO_PIPE,
	EXEC_STDIO_SOCKET,
	EXEC_STDIO_FILE,
};

/*
 * Which call a failed exec came through: data.syscall. A successful exec
 * is reported after the kernel made the task's call a native execve
 * (arch/x86 set_personality_64bit() rewrites orig_ax and clears
 * TS_COMPAT), so it says none.
 */
enum exec_syscall {
	EXEC_SYS_NONE,
	EXEC_SYS_EXECVE,
	EXEC_SYS_EXECVEAT,
	EXEC_SYS_COUNT,
	/* Or'd in: the call came through the 32-bit entry. */
	EXEC_SYS_COMPAT = 1 << 7,
};

struct exec_record {
	struct bpfd_record hdr;		/* retval: 0, or the failed exec's -errno */
	__u32 flags;			/* enum exec_flags */
	__u32 path_flags;		/* enum bpfd_path_flags: what the path is */
	__u16 path_len;			/* bytes of the path at buf[0], no NUL; 0: none */
	__u16 arg_len;			/* bytes of the file name as passed, after it, with its NUL */
	__u16 interp_len;		/* bytes of the interpreter's path, after that, no NUL */
	__u16 argv_off;			/* where the arguments start in buf */
	__u16 argv_len;			/* bytes of arguments */
	__u8 stdio[3];			/* enum exec_stdio of fds 0, 1 and 2 (successful execs) */
	__u8 syscall;			/* enum exec_syscall, EXEC_SYS_COMPAT */
	/*
	 * The path the kernel walked (the executable's, or for a script or a
	 * failed exec the directory a relative name starts from), the name as
	 * passed, the interpreter's path, then at argv_off the arguments.
	 */
	char buf[BPFD_PATH_MAX + EXEC_FILENAME_MAX + BPFD_PATH_MAX + EXEC_ARGV_MAX];
};

#endif
