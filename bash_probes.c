// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "bash_probes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "elfsym.h"
#include "uprobe.h"

#define BASH_SYMBOL "readline"

void bash_probes_init(struct bash_probes *bp, int prog_fd, const char *bash_path,
		      uint32_t host_mntns)
{
	struct stat st;

	memset(bp, 0, sizeof(*bp));
	bp->prog_fd = prog_fd;
	bp->host_mntns = host_mntns;
	if (stat(bash_path, &st) == 0) {
		bp->host_dev = st.st_dev;
		bp->host_ino = st.st_ino;
	}
	/* Inside a container the same path is looked up from its root. */
	while (*bash_path == '/')
		bash_path++;
	snprintf(bp->bash_path, sizeof(bp->bash_path), "%s", bash_path);
}

void bash_probes_release(struct bash_probes *bp)
{
	size_t i;

	for (i = 0; i < bp->n_probes; i++)
		close(bp->probes[i].fd);
	bp->n_probes = 0;
}

static bool probed(const struct bash_probes *bp, dev_t dev, ino_t ino)
{
	size_t i;

	if (dev == bp->host_dev && ino == bp->host_ino)
		return true;
	for (i = 0; i < bp->n_probes; i++)
		if (bp->probes[i].dev == dev && bp->probes[i].ino == ino)
			return true;
	return false;
}

int bash_probes_pid(struct bash_probes *bp, pid_t pid)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	char root[64], path[64];
	uint64_t offset;
	struct stat st;
	int rootfd, fd, pfd, r;

	if (bp->prog_fd < 0 || !bp->bash_path[0])
		return 0;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	/* Resolved as inside the container: its absolute symlinks stay in it. */
	fd = syscall(__NR_openat2, rootfd, bp->bash_path, &how, sizeof(how));
	r = fd < 0 ? -errno : 0;
	close(rootfd);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || probed(bp, st.st_dev, st.st_ino)) {
		close(fd);
		return 0;
	}
	if (bp->n_probes == BASH_PROBES_MAX) {
		close(fd);
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = elf_symbol_offset(path, BASH_SYMBOL, &offset);
	pfd = r < 0 ? r : uprobe_attach(bp->prog_fd, path, offset, true);
	close(fd);
	if (pfd < 0) {
		bp->failures++;
		return pfd;
	}
	bp->probes[bp->n_probes++] = (struct bash_probe){ .dev = st.st_dev, .ino = st.st_ino,
							   .fd = pfd };
	bp->attached++;
	return 1;
}

/* Records @ns as seen; false when it already was. */
static bool see(struct bash_probes *bp, uint32_t ns)
{
	size_t i;

	for (i = 0; i < bp->n_seen; i++)
		if (bp->seen[i] == ns)
			return false;
	/* Forget all when full: namespaces come and go, looking again is cheap. */
	if (bp->n_seen == BASH_PROBES_SEEN)
		bp->n_seen = 0;
	bp->seen[bp->n_seen++] = ns;
	return true;
}

void bash_probes_scan(struct bash_probes *bp)
{
	struct dirent *de;
	char path[64];
	struct stat st;
	DIR *proc;

	if (bp->prog_fd < 0)
		return;
	proc = opendir("/proc");
	while (proc && (de = readdir(proc))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
		if (stat(path, &st) < 0 || st.st_ino == bp->host_mntns || !see(bp, st.st_ino))
			continue;
		bash_probes_pid(bp, pid);
	}
	if (proc)
		closedir(proc);
}
