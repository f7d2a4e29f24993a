// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int process_start_ticks(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long v;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = '\0';
	/* The comm (field 2) may hold spaces and parentheses: skip to its last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* p is before field 3; field 22 is the start time. */
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		if (field == 22)
			break;
		while (*p && *p != ' ')
			p++;
	}
	if (sscanf(p, "%llu", &v) != 1)
		return -EINVAL;
	*ticks = v;
	return 0;
}

uint64_t process_ns_to_ticks(uint64_t start_ns)
{
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0)
		hz = 100;
	return start_ns / (1000000000ull / (uint64_t)hz);
}

int process_signal(pid_t pid, uint64_t start_ns, int sig, pid_t self)
{
	uint64_t ticks;
	int fd, r;

	if (pid <= 1 || pid == self)
		return -EPERM;
	if (!start_ns)
		return -ENODATA;
	/*
	 * The pidfd pins whichever process holds @pid now. If /proc then
	 * shows the expected start time, the pidfd is that process: had it
	 * died and the pid been reused in between, the start time would
	 * differ, or the pidfd would refer to a dead process and the signal
	 * would fail with ESRCH.
	 */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	r = process_start_ticks(pid, &ticks);
	if (r == 0 && ticks != process_ns_to_ticks(start_ns))
		r = -ESRCH;
	if (r == 0 && syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		r = -errno;
	close(fd);
	return r;
}
