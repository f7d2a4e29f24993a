/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_TCPDROP_H
#define BPFD_TRACERS_TCPDROP_H

/*
 * The tcpdrop tracer's record, shared by tcpdrop.bpf.c and tcpdrop.c. The
 * program never writes it to the ring buffer: it aggregates drops in
 * bpfd_tcpdrop_flows, one record per flow, and the daemon drains that map
 * once a second (tcpdrop.c), handing each record on as if it had come
 * from the ring buffer.
 */

#include "../tcp/tcp.h"

/* A flow: drops of the same packets' 4-tuple for the same reason. */
struct tcpdrop_key {
	struct tcp_tuple tuple;	/* state: 0, the socket's state is in the record */
	__u32 reason;		/* enum skb_drop_reason of the running kernel */
	__u32 pad;
};

struct tcpdrop_record {
	/*
	 * The owning socket's process (as when it connected, listened or
	 * accepted) and cgroup; no pid and cgroup 0 where there is none.
	 * ktime_ns: the first drop.
	 */
	struct bpfd_record hdr;
	struct tcp_tuple tuple;
	__u32 reason;
	__u8 tcpflags;		/* every TCP flag seen in the flow's dropped packets */
	__u8 pad[3];
	__u64 count;		/* drops since the last drain */
};

enum { TCPDROP_FLOWS_MAX = 8192 };

#endif
