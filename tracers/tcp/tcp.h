/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCP_H
#define BPFD_TRACERS_TCP_H

/*
 * What the network tracers (tcpconnect, tcpaccept, tcpdrop) share: a TCP
 * connection's two ends, as the kernel's struct sock holds them.
 */

#include "../common/record.h"

/*
 * @saddr, @sport: this host's end (skc_rcv_saddr, skc_num); @daddr,
 * @dport: the other end. IPv4 addresses take the first 4 bytes. Ports in
 * host order.
 */
struct tcp_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family;		/* AF_INET or AF_INET6 */
	__u8 state;		/* the socket's TCP state (TCP_ESTABLISHED ...); 0: no socket */
	__u8 pad;
};

/*
 * The keys the network tracers' in-kernel prefilter tests
 * (bpfd_tcp_pf_mode[type], tcp.bpf.h; written by tcp_prefilter.c).
 */
enum tcp_pf_key {
	TCP_PF_SADDR = 1 << 0,
	TCP_PF_DADDR = 1 << 1,
	TCP_PF_SPORT = 1 << 2,
	TCP_PF_DPORT = 1 << 3,
};

#endif
