// SPDX-License-Identifier: MIT
/*
 * The network workloads of bpfd's benchmarks (docs/performance.md), on
 * loopback only; each prints the elapsed seconds.
 *
 * usage: connloop conn [N]    N times: connect to a listener of its own on
 *                             127.0.0.1, send one byte, close; a thread
 *                             accepts, reads and closes (N: 20,000)
 *        connloop flood [N]   N TCP SYNs from 16 source ports to a closed
 *                             port of 127.0.0.1 through a raw socket (root):
 *                             each is dropped (NO_SOCKET) and answered with a
 *                             reset, which is dropped too (N: 1,000,000)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *acceptor(void *arg)
{
	int l = *(int *)arg, c;
	char b;

	while ((c = accept(l, NULL, NULL)) >= 0) {
		(void)!read(c, &b, 1);
		close(c);
	}
	return NULL;
}

static int conn(long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	pthread_t th;
	double t0;
	long i;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0) {
		perror("listener");
		return 1;
	}
	pthread_create(&th, NULL, acceptor, &l);
	t0 = now();
	for (i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    write(s, "x", 1) != 1) {
			perror("connect");
			return 1;
		}
		close(s);
	}
	printf("%.6f\n", now() - t0);
	return 0;
}

static uint16_t checksum(const void *p, size_t len, uint32_t sum)
{
	const uint16_t *w = p;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int flood(long n)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char pkts[16][40];
	double t0;
	long i;
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW), p;

	if (s < 0) {
		perror("raw socket (root?)");
		return 1;
	}
	for (p = 0; p < 16; p++) {
		unsigned char *ip = pkts[p], *tcp = ip + 20, pseudo[12 + 20];
		uint16_t sport = htons(40000 + p), dport = htons(9), c;

		memset(ip, 0, 40);
		ip[0] = 0x45;
		ip[3] = 40;
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &dst.sin_addr, 4);
		memcpy(ip + 16, &dst.sin_addr, 4);
		memcpy(tcp, &sport, 2);
		memcpy(tcp + 2, &dport, 2);
		tcp[12] = 5 << 4;
		tcp[13] = 0x02;	/* SYN */
		tcp[14] = 0xfa;
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_TCP;
		pseudo[10] = 0;
		pseudo[11] = 20;
		memcpy(pseudo + 12, tcp, 20);
		c = checksum(pseudo, sizeof(pseudo), 0);
		memcpy(tcp + 16, &c, 2);
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if (sendto(s, pkts[i % 16], 40, 0, (struct sockaddr *)&dst, sizeof(dst)) != 40) {
			perror("sendto");
			return 1;
		}
	printf("%.6f\n", now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "conn"))
		return conn(argc > 2 ? atol(argv[2]) : 20000);
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return flood(argc > 2 ? atol(argv[2]) : 1000000);
	fprintf(stderr, "usage: connloop conn|flood [N]\n");
	return 2;
}
