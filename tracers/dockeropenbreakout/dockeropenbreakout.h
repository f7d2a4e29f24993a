/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_DOCKEROPENBREAKOUT_H
#define BPFD_TRACERS_DOCKEROPENBREAKOUT_H

/* The dockeropenbreakout tracer's record, shared by its .bpf.c and .c. */

#include "../common/record.h"

enum {
	DOB_FILENAME_MAX = 4096,
	DOB_NAME_MAX = 256,	/* NAME_MAX + 1 */
	DOB_DEPTH_MAX = 32,	/* path components resolved */
};

/* Which condition of the dockeropenbreakout section of docs/tracers.md held. */
enum dob_reason {
	DOB_FOREIGN_MOUNT_NS = 1,	/* the file's mount is in another mount namespace */
	DOB_OUTSIDE_MOUNT_ROOT = 2,	/* the dentry is not below its mount's root */
	DOB_HOST_MOUNT_NS = 3,		/* a containerized process in the host's mount namespace */
	DOB_HOST_ROOT_FS = 4,		/* a mount of the whole host root filesystem */
};

/* bpfd_dob_host[0]: the host, as the kernel sees it. */
struct dob_host {
	__u32 mntns;		/* its mount namespace's inode */
	__u32 root_dev;		/* its root's device, the kernel's encoding (major << 20 | minor) */
};

struct dob_record {
	struct bpfd_record hdr;		/* retval: the new fd */
	__u32 reason;			/* enum dob_reason */
	__u32 depth;			/* components in names[] */
	__u32 truncated;		/* the walk stopped before the root */
	__u32 filename_len;		/* bytes in filename, with the NUL */
	char filename[DOB_FILENAME_MAX];	/* as passed to the syscall */
	char names[DOB_DEPTH_MAX][DOB_NAME_MAX];	/* leaf first */
};

#endif
