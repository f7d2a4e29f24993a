// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/journal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

/* libsystemd's soname, as Debian's libsystemd0 ships it. */
#define JOURNAL_LIBSYSTEMD "libsystemd.so.0"

static struct {
	bool active;
	__typeof__(&sd_journal_sendv) sendv;
} journal;

bool journal_stream_is(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/*
 * libsystemd opens its socket at the first sd_journal_sendv() and offers
 * no way to make it non-blocking (journal_fd_nonblock() is internal). It
 * is a socket() call in a process with one thread at this point, so it
 * gets the lowest free descriptor: found before the first entry, checked
 * to be a unix datagram socket after it.
 */
static void make_nonblocking(int fd)
{
	int type = 0, domain = 0, flags;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM)
		return;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX)
		return;
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int journal_open(enum journal_mode mode, char *err, size_t size)
{
	struct iovec iov[3];
	void *lib;
	int next;

	if (mode == JOURNAL_OFF || (mode == JOURNAL_AUTO && !journal_stream_is(STDOUT_FILENO) &&
				    !journal_stream_is(STDERR_FILENO)))
		return 0;
	lib = dlopen(JOURNAL_LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, size, "the journal needs libsystemd: %s (Debian: apt-get install "
			 "libsystemd0)", dlerror());
		return -ENOENT;
	}
	journal.sendv = (__typeof__(journal.sendv))dlsym(lib, "sd_journal_sendv");
	if (!journal.sendv) {
		snprintf(err, size, "%s has no sd_journal_sendv", JOURNAL_LIBSYSTEMD);
		dlclose(lib);
		return -ENOENT;
	}
	next = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	if (next >= 0)
		close(next);
	iov[0] = (struct iovec){ .iov_base = "MESSAGE=logging to the journal",
				 .iov_len = strlen("MESSAGE=logging to the journal") };
	iov[1] = (struct iovec){ .iov_base = "PRIORITY=6", .iov_len = 10 };
	iov[2] = (struct iovec){ .iov_base = "SYSLOG_IDENTIFIER=bpfd", .iov_len = 22 };
	journal.sendv(iov, 3);
	if (next >= 0)
		make_nonblocking(next);
	journal.active = true;
	return 1;
}

bool journal_active(void)
{
	return journal.active;
}

int journal_send(const struct iovec *iov, size_t n)
{
	if (!journal.active)
		return -ENOTCONN;
	return journal.sendv(iov, (int)n);
}

int journal_priority_of_level(int level)
{
	/* error, warning, info, debug: syslog's err, warning, info, debug. */
	static const int priority[] = { 3, 4, 6, 7 };

	return level >= 0 && level < 4 ? priority[level] : 6;
}
