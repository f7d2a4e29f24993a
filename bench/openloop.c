// SPDX-License-Identifier: MIT
/*
 * The open/close workload of bpfd's benchmarks: open() and close() one file
 * N times and print the elapsed seconds.
 *
 * usage: openloop FILE [N [enoent]]   (N defaults to 1,000,000)
 *
 * With "enoent", every open must fail with ENOENT: the loop of failed opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	long n, i;
	int fd, enoent;

	if (argc < 2) {
		fprintf(stderr, "usage: openloop FILE [N]\n");
		return 2;
	}
	n = argc > 2 ? atol(argv[2]) : 1000000;
	enoent = argc > 3 && !strcmp(argv[3], "enoent");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		fd = open(argv[1], O_RDONLY);
		if (enoent && fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || enoent) {
			perror(argv[1]);
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
