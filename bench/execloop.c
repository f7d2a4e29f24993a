// SPDX-License-Identifier: MIT
/*
 * The exec workload of bpfd's comparative benchmarks (bench/compare.py):
 * run PROGRAM (with no arguments but its own name) N times, one after the
 * other, each waited for, and print the elapsed seconds.
 *
 * usage: execloop PROGRAM [N]   (N defaults to 20,000)
 *
 * posix_spawn (a vfork-style clone then execve) keeps the fork's own cost
 * small, so the figure is mostly the exec.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct timespec a, b;
	char *args[2];
	long n, i;
	int err, status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: execloop PROGRAM [N]\n");
		return 2;
	}
	n = argc > 2 ? atol(argv[2]) : 20000;
	args[0] = argv[1];
	args[1] = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		err = posix_spawn(&pid, argv[1], NULL, NULL, args, environ);
		if (err) {
			fprintf(stderr, "execloop: %s: %s\n", argv[1], strerror(err));
			return 1;
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "execloop: %s did not exit with 0\n", argv[1]);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
