/* SPDX-License-Identifier: MIT */
#ifndef BPFD_KHEADERS_H
#define BPFD_KHEADERS_H

/*
 * Kernel headers for BCC (docs/headers.md).
 *
 * BCC compiles tracer sources against kernel headers. They are looked for
 * at /lib/modules/RELEASE/build (with ../source for Debian's split
 * packages), then under /usr/src/linux-headers-*. With none for the running
 * release, the closest installed version is used with a warning; with none
 * at all, the caller reports which package to install.
 *
 * Debian splits headers into an arch half (linux-headers-V-amd64: generated
 * headers, .config) and a common half (linux-headers-V-common: everything
 * else). BCC only combines the two when they sit at /lib/modules/RELEASE
 * {build,source} of the *running* release; BCC_KERNEL_SOURCE takes one
 * directory. So for any other layout kheaders_prepare() builds one merged
 * tree of symlinks and points BCC_KERNEL_SOURCE at it.
 */

#include <stdbool.h>
#include <stddef.h>

enum { KHEADERS_PATH_MAX = 4096 };

struct kheaders {
	char release[256];		/* e.g. "6.1.0-56-amd64" */
	char build[KHEADERS_PATH_MAX];	/* arch half (or the whole tree) */
	char source[KHEADERS_PATH_MAX];	/* common half, "" when not split */
	bool exact;			/* matches the running release */
	bool native;			/* BCC finds it by itself: /lib/modules/RUNNING/build */
};

/*
 * Looks for headers for kernel @release under @root ("/" normally; tests
 * pass a fixture tree). 0 and *@out filled, or -ENOENT when none at all.
 */
int kheaders_find(const char *root, const char *release, struct kheaders *out);

/*
 * Makes @kh usable by BCC: nothing for native headers; otherwise builds a
 * merged symlink tree in a new directory under @tmpdir and sets
 * BCC_KERNEL_SOURCE to it. The directory's path is written to @merged
 * ("" when none was made); kheaders_cleanup() removes it.
 * 0 or a negative errno.
 */
int kheaders_prepare(const struct kheaders *kh, const char *tmpdir, char *merged, size_t size);
void kheaders_cleanup(const char *merged);

/*
 * Orders kernel version strings numerically ("6.1.0-56" < "6.18.44"):
 * how far @candidate is from @running, smaller is closer; a candidate not
 * newer than the running kernel wins a tie.
 */
long kheaders_distance(const char *running, const char *candidate);

/* The Debian package that provides headers on this kind of host. */
#define KHEADERS_PACKAGE "linux-headers-amd64"

#endif
