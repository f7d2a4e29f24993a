/* SPDX-License-Identifier: MIT */
#ifndef BPFD_NETADDR_H
#define BPFD_NETADDR_H

/*
 * A listening address written by a person: "HOST:PORT" with an IPv4
 * literal, "[IPV6]:PORT", or an absolute unix socket path. No names are
 * resolved: what a daemon listens on is never a DNS answer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct netaddr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool unix_path;			/* an AF_UNIX path */
};

/* 0 and *@out, or -EINVAL with the reason in @err. */
int netaddr_parse(const char *s, struct netaddr *out, char *err, size_t size);

/* True for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and unix sockets: only this host reaches it. */
bool netaddr_is_local(const struct netaddr *a);

#endif
