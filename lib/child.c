// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_exited(struct loop_watch *w, uint32_t events)
{
	struct child *c = w->ctx;
	int status = 0;
	pid_t r;

	(void)events;
	r = waitpid(c->pid, &status, WNOHANG);
	if (r == 0)
		return;
	loop_remove(c->loop, &c->exited);
	close(c->exited.fd);
	c->exited.fd = -1;
	c->on_exit(c, r < 0 ? -errno : status);
}

static void give_fd(posix_spawn_file_actions_t *fa, int fd, int target, int flags)
{
	if (fd >= 0)
		posix_spawn_file_actions_adddup2(fa, fd, target);
	else
		posix_spawn_file_actions_addopen(fa, target, "/dev/null", flags, 0);
}

/* Watches the started child through a pidfd; kills and reaps it when that fails. */
static int watch(struct child *c, struct loop *loop)
{
	int pidfd, r;

	pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (pidfd < 0) {
		r = -errno;
		goto fail;
	}
	c->exited = (struct loop_watch){ .fd = pidfd, .fn = child_exited, .ctx = c };
	r = loop_add(loop, &c->exited, EPOLLIN);
	if (r < 0) {
		close(pidfd);
		c->exited.fd = -1;
		goto fail;
	}
	return 0;
fail:
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	return r;
}

int child_spawn(struct child *c, struct loop *loop, const char *path, char *const argv[],
		char *const envp[], const struct child_stdio *io, child_exit_fn fn, void *ctx)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int r;

	*c = (struct child){ .loop = loop, .on_exit = fn, .ctx = ctx };
	c->exited.fd = -1;
	/*
	 * The daemon blocks SIGINT/SIGTERM/SIGHUP (signalfd) and ignores
	 * SIGPIPE, and both would be inherited: reset them.
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawn_file_actions_init(&fa);
	give_fd(&fa, io->in, STDIN_FILENO, O_RDONLY);
	give_fd(&fa, io->out, STDOUT_FILENO, O_WRONLY);
	give_fd(&fa, io->err, STDERR_FILENO, O_WRONLY);
	r = -posix_spawn(&c->pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0)
		return r;

	return watch(c, loop);
}

int child_fork(struct child *c, struct loop *loop, child_exit_fn fn, void *ctx)
{
	int r;

	*c = (struct child){ .loop = loop, .on_exit = fn, .ctx = ctx };
	c->exited.fd = -1;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		setpgid(0, 0);
		return 0;
	}
	r = watch(c, loop);
	return r < 0 ? r : 1;
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

void child_close_fds(const int *keep, size_t n)
{
	int sorted[n + 1], lo = 3;
	size_t i;

	memcpy(sorted, keep, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	sorted[n] = INT_MAX;	/* past the last: the range up to the end */
	for (i = 0; i <= n; i++) {
		if (sorted[i] < lo)
			continue;
		if (sorted[i] > lo)
			close_range((unsigned int)lo, (unsigned int)sorted[i] - 1, 0);
		lo = sorted[i] == INT_MAX ? INT_MAX : sorted[i] + 1;
	}
}

void child_kill(struct child *c)
{
	/* The group: what the child started goes too. */
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	c->killed = true;
}

void child_abandon(struct child *c)
{
	if (c->exited.fd < 0)
		return;
	child_kill(c);
	waitpid(c->pid, NULL, 0);
	loop_remove(c->loop, &c->exited);
	close(c->exited.fd);
	c->exited.fd = -1;
}

void child_detach(struct child *c)
{
	if (c->exited.fd < 0)
		return;
	loop_remove(c->loop, &c->exited);
	close(c->exited.fd);
	c->exited.fd = -1;
}
