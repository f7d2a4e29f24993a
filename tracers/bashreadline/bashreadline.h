/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_BASHREADLINE_H
#define BPFD_TRACERS_BASHREADLINE_H

/* The bashreadline tracer's record, shared by bashreadline.bpf.c and .c. */

#include "../common/record.h"

enum { BASHREADLINE_LINE_MAX = 8192 };	/* documented cap, with the NUL */

enum bashreadline_flags {
	BASHREADLINE_TRUNCATED = 1 << 0,
};

struct bashreadline_record {
	struct bpfd_record hdr;
	__u32 flags;
	__u32 line_len;		/* bytes in line, with the NUL */
	char line[BASHREADLINE_LINE_MAX];
};

#endif
