// SPDX-License-Identifier: MIT
/*
 * The syscall-heavy workload of bpfd's compat hook benchmark: getppid() N
 * times, about the cheapest system call there is, so that what a program
 * on every system call's exit costs shows; prints the elapsed seconds.
 *
 * usage: syscallloop [N]   (N defaults to 10,000,000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	long n, i;

	n = argc > 1 ? atol(argv[1]) : 10000000;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);	/* not cached by the C library */
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
