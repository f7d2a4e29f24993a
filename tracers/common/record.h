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
	/*
	 * Not events: the process table's (struct bpfd_proc_record). Sent for
	 * every process of the host, whatever the rules and the tracers'
	 * prefilters, while bpfd_enabled[BPFD_RECORD_PROC_FORK] is set.
	 */
	BPFD_RECORD_PROC_FORK = 1,	/* a new process (not a thread) */
	BPFD_RECORD_PROC_EXEC = 2,	/* a process ran a new program */
	BPFD_RECORD_PROC_EXIT = 3,	/* a process's last thread exited */
	/* Types 4.. are tracers: 4 + their index in the tracer table. */
	BPFD_RECORD_TRACER_BASE = 4,
};

enum {
	BPFD_TRACERS_MAX = 32,	/* bound of per-tracer maps */
	BPFD_COMM_LEN = 16,
	BPFD_PF_PATH_MAX = 256,	/* bytes of a path the in-kernel prefilter compares */
	BPFD_PF_IDENTS_MAX = 1024,	/* files and directories known by identity (bpfd_pf_idents) */
	BPFD_PF_IDENT_DEPTH_MAX = 32,	/* parent directories looked up for a directory's identity */
	/*
	 * Slots of bpfd_compat_progs (common.bpf.c): a tracer's compat program
	 * sits at its record type, so record types up to 15 may have one.
	 */
	BPFD_COMPAT_SLOTS = 16,
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
	 * With BPFD_PF_PATH, every file name is an exact value: a name whose
	 * last component is none of theirs is dropped before its path is built.
	 */
	BPFD_PF_LEAF = 1 << 5,
	/*
	 * The opened file's identity (device, inode) is looked up in
	 * bpfd_pf_idents: a file some rule names exactly is recognised however
	 * it was reached (a hard link, a bind mount, a chroot). Set with or
	 * without BPFD_PF_ACTIVE: the daemon needs the hit to match by it.
	 */
	BPFD_PF_IDENT = 1 << 6,
	/* The same for the file's parent directories, for rules' directory prefixes. */
	BPFD_PF_IDENT_DIRS = 1 << 7,
	/*
	 * The task's cgroup is a container's whose metadata (name, image,
	 * labels, pod) some rule's metadata filters hold for: bpfd_pf_meta
	 * has the record types it lets through. A container the daemon has
	 * not judged yet (no entry) passes.
	 */
	BPFD_PF_META = 1 << 8,
	/*
	 * The event's kind (tracer_ops.pf_kinds: filechange's `operation`),
	 * which the program knows before any path is walked, is one of
	 * bpfd_pf_config.kinds.
	 */
	BPFD_PF_KIND = 1 << 9,
	/*
	 * With BPFD_PF_PATH, some rule's value is a path's end (`*` then "/NAME"):
	 * a path whose last component is one of theirs (in bpfd_pf_paths
	 * behind BPFD_PF_LEAF_TAG, as BPFD_PF_LEAF's) passes too.
	 */
	BPFD_PF_SUFFIX = 1 << 10,
};

/*
 * The first byte of a last component's key in bpfd_pf_paths: no path
 * begins with it, so components and paths share the trie.
 */
#define BPFD_PF_LEAF_TAG '\x01'


/* bpfd_prefilter[type]: one tracer's prefilter. */
struct bpfd_pf_config {
	__u32 mode;		/* enum bpfd_prefilter_mode */
	__u32 kinds;		/* BPFD_PF_KIND: bit n lets the tracer's kind n through */
	/*
	 * BPFD_PF_PATH: the bytes every file name of the tracer's rules begins
	 * with (at most 8, those set in @lead_mask), as they lie in memory. A
	 * name that does not begin with them is dropped without a trie walk.
	 */
	__u64 lead;
	__u64 lead_mask;
	/* BPFD_PF_LEAF, BPFD_PF_SUFFIX: the same for the last components' keys. */
	__u64 leaf_lead;
	__u64 leaf_lead_mask;
};

/* Keys of the prefilter maps; their values are bitmasks of record types. */
struct bpfd_pf_comm_key {
	char comm[BPFD_COMM_LEN];
};

struct bpfd_pf_path_key {
	__u32 prefixlen;	/* in bits, LPM trie style */
	char path[BPFD_PF_PATH_MAX];
};

/*
 * bpfd_pf_idents: a file's identity as the kernel keeps it (i_sb->s_dev,
 * i_ino), and the record types whose rules name it, as a file or as the
 * directory of a prefix.
 */
struct bpfd_pf_ident_key {
	__u64 ino;
	__u32 dev;		/* kernel dev_t: major << 20 | minor */
	__u32 pad;		/* 0 */
};

struct bpfd_pf_ident {
	__u32 file_types;
	__u32 dir_types;
};

/*
 * bpfd_pf_ident_hint[0]: bit (ino % 1024) is set for each inode number in
 * bpfd_pf_idents, files and directories apart, so that most inodes are
 * ruled out by a bit test instead of a hash lookup per parent directory.
 */
enum { BPFD_PF_IDENT_HINT_BITS = 1024 };
struct bpfd_pf_ident_hint {
	__u64 file[BPFD_PF_IDENT_HINT_BITS / 64];
	__u64 dir[BPFD_PF_IDENT_HINT_BITS / 64];
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

/*
 * BPFD_RECORD_CGROUP_MKDIR: the header, then the path, only as long as it
 * is (with its NUL): a churn of cgroups costs the ring buffer what their
 * names cost, not 4 KiB each. hdr.uid is the creator's real uid, the
 * kernel's word on whose cgroup it is.
 */
enum { BPFD_CGROUP_PATH_MAX = 4096 };
struct bpfd_cgroup_record {
	struct bpfd_record hdr;	/* cgroup_id: the new cgroup's id */
	char path[BPFD_CGROUP_PATH_MAX];	/* NUL-terminated, may be cut short */
};

/*
 * The process table's records, kept small: one is sent per fork and per
 * exit of every process of the host. The header's pid and start_ns name
 * the process the record is about:
 *  - FORK: the header is the parent's (the forking task's, comm included);
 *    @child and @child_start_ns name the new process.
 *  - EXEC: the header is the process's after its exec (new comm);
 *    @parent_start_ns names its real parent (hdr.ppid), then @exe_len
 *    bytes of the executable's path (mm->exe_file, walked in the kernel,
 *    at most BPFD_PATH_MAX) and @argv_len bytes of its argument area, NUL-separated, cut at
 *    BPFD_PROC_ARGV_MAX.
 *  - EXIT: only ktime_ns, type, pid, tid and start_ns are filled.
 */
enum {
	BPFD_PROC_ARGV_MAX = 256,	/* bytes of a process's argument area kept */
};
struct bpfd_proc_record {
	struct bpfd_record hdr;
	__u64 child_start_ns;	/* FORK */
	__u64 parent_start_ns;	/* EXEC */
	__u32 child;		/* FORK: tgid */
	__u16 exe_len;		/* EXEC: without a NUL */
	__u16 argv_len;
	__u32 path_flags;	/* EXEC: enum bpfd_path_flags of the exe's walk */
	__u32 pad;
	char buf[];		/* EXEC: the exe's path, then argv */
};

/*
 * What the programs know of the daemon that reads them: bpfd_daemon[0]
 * (common.bpf.c), written by the daemon once the programs are loaded and
 * before the tracers are switched on. A map rather than compiled in, so
 * that programs that outlive one daemon can be adopted by the next, which
 * writes its own.
 */
struct bpfd_daemon_info {
	__u32 tgid;		/* its process: its mark in bpfd_ignored is never dropped */
	__u32 reserved[7];	/* zero: room for more without a new layout */
};

/*
 * The kernel maps whose inserts can fail when they are full, as indexes of
 * bpfd_map_full (per CPU, failed inserts): `bpfd status` shows them with
 * each map's occupancy.
 */
enum bpfd_counted_map {
	BPFD_MAP_CONTAINERS,	/* bpfd_containers */
	BPFD_MAP_CONTAINED,	/* bpfd_contained */
	BPFD_MAP_IGNORED,	/* bpfd_ignored */
	BPFD_MAPS_COUNTED,
};

#endif
