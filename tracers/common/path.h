/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_PATH_H
#define BPFD_TRACERS_PATH_H

/*
 * A file's path as the kernel knows it, built in BPF by walking its dentries
 * and mounts (path.bpf.c). Shared by the programs and the daemon's decoders.
 */

#include <linux/types.h>

enum {
	BPFD_PATH_MAX = 4096,		/* bytes of a resolved path (PATH_MAX) */
	BPFD_PATH_DEPTH_MAX = 64,	/* components and mount crossings walked */
};

enum bpfd_path_flags {
	/* The path is the opened (executed) file's, from its dentries. */
	BPFD_PATH_FILE = 1 << 0,
	/*
	 * The path is the directory a relative argument starts from (the cwd
	 * or the dirfd's): the daemon joins the argument to it.
	 */
	BPFD_PATH_BASE = 1 << 1,
	/* Deeper than BPFD_PATH_DEPTH_MAX or longer than BPFD_PATH_MAX: the path's start is missing. */
	BPFD_PATH_TRUNCATED = 1 << 2,
	/*
	 * The walk reached the top of the file's mount tree (or a dentry that
	 * is its own parent) without meeting the opener's root: the file lies
	 * outside it, and the path is from that top (the host's, for a
	 * container's breakout).
	 */
	BPFD_PATH_OUTSIDE_ROOT = 1 << 3,
};

/*
 * How the kernel recognised an opened file by its identity
 * (bpfd_pf_idents), when it did: which identity, and at what depth.
 */
struct bpfd_path_ident {
	__u64 ino;
	__u32 dev;		/* kernel dev_t */
	/* 0: not recognised; 1: the file itself; n > 1: its parent n - 1 levels up */
	__u16 depth;
	/*
	 * For a parent: bytes of the names below it, "/sub/file", from the
	 * dentries (the path walked may show a mount point's name instead);
	 * 0 when they need more than BPFD_IDENT_TAIL_MAX - 1.
	 */
	__u16 tail_len;
};

enum { BPFD_IDENT_TAIL_MAX = 256 };

#endif
