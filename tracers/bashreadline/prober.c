// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tracers/bashreadline/prober.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracers/bashreadline/elfsym.h"
#include "lib/mountinfo.h"
#include "bpf/uprobe.h"

#define BASH_SYMBOL "readline"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

enum {
	MOUNTINFO_MAX = 1 << 20,	/* a namespace with more mounts than fit: not shared */
	LAYERS_MAX = 128,
};

static int openat2_path(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = resolve };
	int fd = (int)syscall(__NR_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Up to @size - 1 bytes from @fd, NUL-terminated; -EFBIG when there is more. */
static int read_small(int fd, char *buf, size_t size)
{
	size_t done = 0;
	ssize_t n;

	while (done < size - 1 && (n = read(fd, buf + done, size - 1 - done)) > 0)
		done += (size_t)n;
	buf[done] = '\0';
	return done == size - 1 ? -EFBIG : 0;
}

/*
 * Under an overlay the uprobe binds to the layer's file, which fstat does
 * not show: st_dev is the overlay's own (another for each container of
 * one image) and st_ino the file's first layer's even after a copy-up.
 * So the file is looked for in the layers, top down, by its path in the
 * mount, and believed only when all layers are on one file system (inode
 * numbers are then unique among them, and the overlay shows the real
 * ones) and the overlay's inode number is that file's.
 */
static int overlay_identity(int fd, const struct stat *st, const struct bash_ns *ns,
			    struct bash_file_id *id)
{
	char link[64], path[4096], rootpath[4096], rel[4096], *info, *line, *layers[LAYERS_MAX];
	struct statx stx;
	dev_t layers_dev = 0;
	ssize_t n;
	size_t rootlen;
	int i, nl, r;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return -errno;
	/* The file's path and the namespace's root as this process sees them. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || n == sizeof(path) - 1)
		return -EINVAL;
	path[n] = '\0';
	snprintf(link, sizeof(link), "/proc/self/fd/%d", ns->root_fd);
	n = readlink(link, rootpath, sizeof(rootpath) - 1);
	if (n <= 0 || n == sizeof(rootpath) - 1)
		return -EINVAL;
	rootpath[n] = '\0';
	rootlen = strcmp(rootpath, "/") ? (size_t)n : 0;
	if (strncmp(path, rootpath, rootlen) || path[rootlen] != '/')
		return -EINVAL;

	info = malloc(MOUNTINFO_MAX);
	if (!info)
		return -ENOMEM;
	r = read_small(ns->mountinfo_fd, info, MOUNTINFO_MAX);
	line = r ? NULL : mountinfo_line(info, stx.stx_mnt_id);
	nl = line ? mountinfo_overlay_layers(line, layers, LAYERS_MAX) : -EINVAL;
	/* Mount points in mountinfo are relative to the process's root. */
	r = nl > 0 ? mountinfo_path_in_mount(line, path + rootlen, rel, sizeof(rel)) : -EINVAL;
	for (i = 0; !r && i < nl; i++) {
		struct stat lst;

		if (stat(layers[i], &lst) < 0 || (i && lst.st_dev != layers_dev))
			r = -EXDEV;
		layers_dev = lst.st_dev;
	}
	for (i = 0; !r && i < nl; i++) {
		int dir = open(layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC), f;
		struct statfs sfs;
		struct stat lst;

		f = dir < 0 ? -errno : openat2_path(dir, rel + 1, O_PATH | O_NOFOLLOW,
						    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
							    RESOLVE_NO_XDEV);
		if (dir >= 0)
			close(dir);
		if (f == -ENOENT)
			continue;
		if (f < 0) {
			r = f;
			break;
		}
		r = fstat(f, &lst) < 0 || fstatfs(f, &sfs) < 0 ? -errno : 0;
		close(f);
		if (!r && S_ISREG(lst.st_mode) && lst.st_ino == st->st_ino &&
		    lst.st_size == st->st_size && sfs.f_type != OVERLAYFS_SUPER_MAGIC) {
			*id = (struct bash_file_id){ .dev = lst.st_dev, .ino = lst.st_ino, .real = true };
			free(info);
			return 0;
		}
		break;
	}
	free(info);
	return r < 0 ? r : -ESTALE;
}

int bash_file_identity(int fd, const struct stat *st, const struct bash_ns *ns,
		       struct bash_file_id *id)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	*id = (struct bash_file_id){ .dev = st->st_dev, .ino = st->st_ino,
				     .real = sfs.f_type != OVERLAYFS_SUPER_MAGIC };
	/*
	 * An overlay's layer paths are those its mounter gave: believed only
	 * when the system mounted it. Otherwise, or when unsure, the file is
	 * this mount's alone: never two files taken for one.
	 */
	if (!id->real && ns->system)
		overlay_identity(fd, st, ns, id);
	return 0;
}

/* Opens, identifies and probes; *pfd is the perf event when one was attached. */
static int probe(const struct bash_probes *bp, const struct bash_ns *ns,
		 struct bash_prober_reply *reply, int *pfd)
{
	char path[64];
	struct statfs sfs;
	struct stat st, rst;
	uint64_t offset;
	int fd, rfd, r;

	/* Resolved as inside the container (its absolute symlinks stay in it); O_PATH opens nothing. */
	fd = openat2_path(ns->root_fd, bp->bash_path, O_PATH, RESOLVE_IN_ROOT);
	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0 ? -errno : 0;
	if (!r && (!S_ISREG(st.st_mode) || sfs.f_type == FUSE_SUPER_MAGIC))
		r = -EPERM;
	if (!r)
		r = bash_file_identity(fd, &st, ns, &reply->id);
	if (r < 0)
		goto out;
	if ((reply->id.dev == bp->host_dev && reply->id.ino == bp->host_ino) ||
	    bash_probes_find(bp, &reply->id)) {
		reply->shared = 1;
		goto out;
	}
	if (bash_probes_over_quota(bp, ns->owner)) {
		r = -EDQUOT;
		goto out;
	}
	/* The same inode for reading: a regular file, so the open cannot wait. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rfd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (rfd < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(rfd, &rst) < 0 || rst.st_dev != st.st_dev || rst.st_ino != st.st_ino)
		r = -ESTALE;
	if (!r)
		r = elf_symbol_offset_fd(rfd, BASH_SYMBOL, &offset);
	if (!r) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", rfd);
		*pfd = uprobe_attach(bp->prog_fd, path, offset, true);
		r = *pfd < 0 ? *pfd : 0;
	}
	close(rfd);
out:
	close(fd);
	return r;
}

void bash_prober_run(const struct bash_probes *bp, const struct bash_ns *ns, int sock)
{
	struct bash_prober_reply reply = { 0 };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int pfd = -1;

	/* Die with the daemon, whatever the file does to us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	reply.err = probe(bp, ns, &reply, &pfd);
	if (pfd >= 0) {
		struct cmsghdr *cm;

		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pfd, sizeof(int));
	}
	sendmsg(sock, &msg, MSG_NOSIGNAL);
}
