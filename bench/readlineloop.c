// SPDX-License-Identifier: MIT
/*
 * The bash readline workload of bpfd's comparative benchmarks
 * (bench/compare.py): start an interactive bash on a pseudo-terminal, type
 * N comment lines "# WORD I" into it (each one a readline() call that bash
 * returns and then ignores), then "exit", and print the elapsed seconds
 * from the start of bash until it exited.
 *
 * usage: readlineloop BASH WORD [N]   (N defaults to 20,000)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	char line[256], out[65536];
	size_t len = 0, off = 0;
	long n, i = 0;
	int master, status;
	int done = 0;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: readlineloop BASH WORD [N]\n");
		return 2;
	}
	n = argc > 3 ? atol(argv[3]) : 20000;
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		/* No rc files, no history file, an empty prompt. */
		setenv("PS1", "", 1);
		setenv("HISTFILE", "/dev/null", 1);
		setenv("TERM", "dumb", 1);
		execl(argv[1], argv[1], "--norc", "--noprofile", "-i", (char *)NULL);
		_exit(127);
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };

		if (len == off && !done) {
			if (i < n)
				len = snprintf(line, sizeof(line), "# %s %ld\n", argv[2], i++);
			else {
				len = snprintf(line, sizeof(line), "exit\n");
				done = 1;
			}
			off = 0;
		}
		if (off < len)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (p.revents & POLLIN) {
			/* The echo and prompts: read and forget. */
			if (read(master, out, sizeof(out)) < 0 && errno != EAGAIN)
				break; /* EIO: bash has gone */
		} else if (p.revents & (POLLHUP | POLLERR)) {
			break;
		}
		if ((p.revents & POLLOUT) && off < len) {
			ssize_t w = write(master, line + off, len - off);

			if (w > 0)
				off += w;
			else if (w < 0 && errno != EAGAIN)
				break;
		}
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "readlineloop: bash did not exit with 0\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (i < n) {
		fprintf(stderr, "readlineloop: bash went away after %ld lines\n", i);
		return 1;
	}
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
