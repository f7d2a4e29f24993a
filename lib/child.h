/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CHILD_H
#define BPFD_CHILD_H

/*
 * Processes the actions start (exec's commands, checkpoint's CRIU): spawned
 * without blocking the loop, in a process group of their own (so that a
 * timeout can kill what they started too), with no signals blocked or
 * ignored (the daemon blocks and ignores some), and watched through a pidfd
 * in the event loop, which reaps them and reports how they ended.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/loop.h"

struct child;

/* @status as waitpid() gives it, or a negative errno when waiting failed. */
typedef void (*child_exit_fn)(struct child *c, int status);

struct child {
	pid_t pid;
	struct loop *loop;
	struct loop_watch exited;	/* the pidfd */
	child_exit_fn on_exit;
	void *ctx;
	bool killed;			/* child_kill() was called */
};

/* The child's standard input, output and error: fds to give it, -1 for /dev/null. */
struct child_stdio {
	int in, out, err;
};

/*
 * Starts @path with @argv and @envp. On exit @fn is called from the loop
 * (the watch is already removed and the pidfd closed then; @c may be freed
 * inside @fn). 0, or a negative errno (nothing left running).
 */
int child_spawn(struct child *c, struct loop *loop, const char *path, char *const argv[],
		char *const envp[], const struct child_stdio *io, child_exit_fn fn, void *ctx);

/*
 * Like fork(): 0 in the new process (a copy of the caller, in a process
 * group of its own, which must end with _exit()), 1 in the caller, which
 * watches it as child_spawn() does, or a negative errno. For work that
 * needs the caller's fds and must not block it; the copy inherits the
 * caller's signal mask and dispositions.
 */
int child_fork(struct child *c, struct loop *loop, child_exit_fn fn, void *ctx);

/*
 * In a child_fork() copy: closes every fd from 3 up except the @n in
 * @keep, so that it holds nothing of the caller's it does not need (a
 * listening socket it kept open would make a daemon that died look alive).
 */
void child_close_fds(const int *keep, size_t n);

/* SIGKILL to the child's process group; its exit still comes through @fn. */
void child_kill(struct child *c);

/* Kills the group, reaps the child now and stops watching it; @fn is not called. */
void child_abandon(struct child *c);

/*
 * Stops watching without waiting for the exit (at the daemon's stop: what
 * outlives it is reaped by init). Kills nothing: child_kill() first for that.
 */
void child_detach(struct child *c);

#endif
