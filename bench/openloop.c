// SPDX-License-Identifier: MIT
/*
 * The open/close workload of bpfd's benchmarks: open() and close() one file
 * N times and print the elapsed seconds.
 *
 * usage: openloop FILE [N]   (N defaults to 1,000,000)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	long n, i;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: openloop FILE [N]\n");
		return 2;
	}
	n = argc > 2 ? atol(argv[2]) : 1000000;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		fd = open(argv[1], O_RDONLY);
		if (fd < 0) {
			perror(argv[1]);
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
