// SPDX-License-Identifier: MIT
/*
 * The process table's workload (bench/run.py --only fork): N processes
 * made one after the other, each waited for, and the elapsed seconds.
 *
 * usage: forkloop fork N            fork(); the child _exit()s at once
 *        forkloop exec N PROGRAM    fork(); the child execs PROGRAM (no arguments)
 *        forkloop hold N            N children exec `sleep 600` and stay; "ready" is
 *                                   printed, and at EOF on stdin they are killed
 *
 * Prints the elapsed seconds, then the CPU seconds of the loop and of its
 * children (user and system): the kernel's work for each process, BPF
 * programs at its fork, exec and exit included, which other tenants of a
 * shared machine disturb far less than the elapsed time.
 *
 * fork(), not posix_spawn: a fork copies the parent, which the daemon's
 * records must follow (the child runs the parent's program until it execs).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
	       kids.ru_stime.tv_sec +
	       (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
		kids.ru_stime.tv_usec) / 1e6;
}

/* N sleeping processes, for the process table's memory at N. */
static int hold(long n)
{
	char *args[] = { "sleep", "600", NULL };
	pid_t *pids = calloc(n, sizeof(*pids));
	char buf[64];
	long i;

	if (!pids)
		return 1;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("forkloop: fork");
			break;
		}
		if (pids[i] == 0) {
			execv("/bin/sleep", args);
			_exit(127);
		}
	}
	n = i;
	printf("ready %ld\n", n);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	char *args[2] = { NULL, NULL };
	int exec_mode, status;
	long n, i;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(atol(argv[2]));
	if (argc < 3 || (strcmp(argv[1], "fork") && strcmp(argv[1], "exec")) ||
	    (!strcmp(argv[1], "exec") && argc < 4)) {
		fprintf(stderr, "usage: forkloop fork N | forkloop exec N PROGRAM\n");
		return 2;
	}
	exec_mode = !strcmp(argv[1], "exec");
	n = atol(argv[2]);
	args[0] = exec_mode ? argv[3] : NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0) {
			perror("forkloop: fork");
			return 1;
		}
		if (pid == 0) {
			if (exec_mode)
				execv(args[0], args);
			_exit(exec_mode ? 127 : 0);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "forkloop: child did not exit with 0\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f %.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, cpu_s());
	return 0;
}
