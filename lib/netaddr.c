// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static int fail(char *err, size_t size, const char *s, const char *why)
{
	snprintf(err, size, "\"%s\" %s", s, why);
	return -EINVAL;
}

static int parse_port(const char *p, unsigned short *out)
{
	char *end;
	unsigned long v;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	v = strtoul(p, &end, 10);
	if (*end || v == 0 || v > 65535)
		return -EINVAL;
	*out = (unsigned short)v;
	return 0;
}

int netaddr_parse(const char *s, struct netaddr *out, char *err, size_t size)
{
	static const char usage[] = "is not HOST:PORT (an IPv4 address), [IPV6]:PORT or an "
				    "absolute unix socket path";
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
	const char *colon;
	char host[INET6_ADDRSTRLEN + 1];
	unsigned short port;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (s[0] == '/') {
		n = strlen(s);
		if (n >= sizeof(un->sun_path))
			return fail(err, size, s, "is too long for a unix socket path");
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, s, n + 1);
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		out->unix_path = true;
		return 0;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return fail(err, size, s, usage);
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return fail(err, size, s, "has no IPv6 address between [ and ]");
		if (parse_port(close + 2, &port) < 0)
			return fail(err, size, s, "has no port from 1 to 65535");
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		out->len = sizeof(*in6);
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return fail(err, size, s, usage);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strchr(host, ':'))
		return fail(err, size, s, "has an IPv6 address without [ ]: write [IPV6]:PORT");
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return fail(err, size, s, "has no IPv4 address (names are not resolved)");
	if (parse_port(colon + 1, &port) < 0)
		return fail(err, size, s, "has no port from 1 to 65535");
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	out->len = sizeof(*in4);
	return 0;
}

bool netaddr_is_local(const struct netaddr *a)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&a->ss;

	if (a->unix_path)
		return true;
	if (a->ss.ss_family == AF_INET)
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	if (a->ss.ss_family == AF_INET6) {
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}
