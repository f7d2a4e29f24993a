/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACERS_RECORD_H
#define BPFD_TRACERS_RECORD_H

/*
 * The header of every record a BPF program writes to the shared ring
 * buffer. Included by the daemon and, as text, by every tracer program
 * BCC compiles, so it uses only <linux/types.h> types.
 *
 * Records arrive in one ring buffer for all tracers, in the order their
 * space was reserved: a cgroup's creation record therefore precedes every
 * event from a process inside it.
 */

#include <linux/types.h>

enum bpfd_record_type {
	/* Not an event: cgroup @cgroup_id was created at the path that follows. */
	BPFD_RECORD_CGROUP_MKDIR = 0,
	/* Types 1.. are tracers: 1 + their index in the tracer table. */
	BPFD_RECORD_TRACER_BASE = 1,
};

enum {
	BPFD_TRACERS_MAX = 32,	/* bound of per-tracer maps */
	BPFD_COMM_LEN = 16,
	BPFD_PF_PATH_MAX = 256,	/* bytes of a path the in-kernel prefilter compares */
};

/*
 * In-kernel prefilters (bpfd_prefilter[type]): when a tracer's every rule
 * names something its program can test, events no rule can match are
 * dropped before they leave the kernel.
 */
enum bpfd_prefilter_mode {
	BPFD_PF_ACTIVE = 1 << 0,	/* drop what no test below lets through */
	BPFD_PF_COMM = 1 << 1,		/* the comm is in bpfd_pf_comms */
	BPFD_PF_PATH = 1 << 2,		/* the file name is (or starts with) one in bpfd_pf_paths */
	BPFD_PF_UID = 1 << 3,		/* the real uid is in bpfd_pf_uids */
	BPFD_PF_CONTAINER = 1 << 4,	/* the task's cgroup is a container's (bpfd_containers) */
	/*
	 * Bits 8..15: the lengths (bit 8 + n - 1 for n bytes, n = 1..8) to which
	 * a file name's first word is cut for bpfd_pf_words. None set: the trie
	 * alone decides.
	 */
	BPFD_PF_WORDS = 0xff << 8,
};

#define BPFD_PF_WORD_LEN(n) (1u << (8 + (n) - 1))

/*
 * The gate before the trie, for the file names a process passes to the
 * kernel. Once the name is copied into the trie key, its first 8 bytes
 * are looked up in bpfd_pf_words, an array of BPFD_PF_WORD_SLOTS bitmasks
 * of record types indexed by a hash of a word: a few instructions and one
 * array load, against a call and a walk for the trie. Each value of the
 * rules sets its tracer's bit in one slot: an exact name with its first 8
 * bytes (through its NUL, zeros after it), a prefix with its first 8
 * bytes or, when shorter, all n of them, hashed with n
 * (BPFD_PF_WORD_LEN(n) in the mode). A name whose word, cut to each such
 * length, finds its bit in no slot starts like no value and is dropped;
 * any other goes on to the trie, which decides. Two words sharing a slot
 * only send more names to the trie.
 *
 * Words are 8 bytes loaded from memory as they lie there: the name's first
 * byte is the word's lowest (little-endian, like the tracers' registers,
 * x86-64).
 */
enum { BPFD_PF_WORD_SLOTS = 65536, BPFD_PF_WORD_SLOT_BITS = 16 };

/* @w with every byte after its first NUL (in memory order) zeroed. */
static inline __attribute__((always_inline)) __u64 bpfd_pf_word_cut(__u64 w)
{
	/* Flags each zero byte; the lowest flag is always a real one. */
	__u64 z = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;

	return z ? w & (((z & -z) << 1) - 1) : w;
}

/* The slot of the first @n bytes (1..8) of word @w. */
static inline __attribute__((always_inline)) __u32 bpfd_pf_word_slot(__u64 w, unsigned int n)
{
	if (n < 8)
		w &= (1ULL << (8 * n)) - 1;
	return (__u32)(((w ^ n) * 0x9e3779b97f4a7c15ULL) >> (64 - BPFD_PF_WORD_SLOT_BITS));
}

#ifndef __bpf__
/*
 * The daemon's side: the word value @text (@len bytes, no NUL) sets, and
 * its length class, 1..8; 0 for an empty prefix, which every name starts
 * with (the gate cannot be used for its tracer).
 */
static inline unsigned int bpfd_pf_value_word(const char *text, unsigned long len, int prefix,
					      __u64 *w)
{
	/* An exact name through its NUL, a prefix its own bytes. */
	unsigned long n = prefix ? len : len + 1, i;

	if (n > 8)
		n = 8;
	*w = 0;
	for (i = 0; i < n && i < len; i++)
		((unsigned char *)w)[i] = (unsigned char)text[i];
	return prefix ? (unsigned int)n : 8;
}
#endif

/* Keys of the prefilter maps; their values are bitmasks of record types. */
struct bpfd_pf_comm_key {
	char comm[BPFD_COMM_LEN];
};

struct bpfd_pf_path_key {
	__u32 prefixlen;	/* in bits, LPM trie style */
	char path[BPFD_PF_PATH_MAX];
};

struct bpfd_record {
	__u64 ktime_ns;		/* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;	/* cgroup2 id, bpf_get_current_cgroup_id() */
	__s64 retval;
	/*
	 * The process's start (its leader's start_boottime, ns since boot):
	 * with pid, it names the process even after its pid is reused.
	 */
	__u64 start_ns;
	__u32 type;		/* enum bpfd_record_type */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 ppid;		/* real_parent's tgid */
	__u32 uid;		/* real ids */
	__u32 gid;
	__u32 mntns;		/* mount namespace inode */
	__u32 pidns;		/* active pid namespace inode */
	char comm[BPFD_COMM_LEN];
};

/* BPFD_RECORD_CGROUP_MKDIR: the header, then this. */
enum { BPFD_CGROUP_PATH_MAX = 4096 };
struct bpfd_cgroup_record {
	struct bpfd_record hdr;	/* cgroup_id: the new cgroup's id */
	char path[BPFD_CGROUP_PATH_MAX];	/* NUL-terminated, may be cut short */
};

#endif
