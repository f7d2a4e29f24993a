// SPDX-License-Identifier: MIT
/*
 * btf_offsets: member offsets resolved from a small BTF blob built in memory
 * (anonymous unions, nested members, qualifiers), error texts, the -D flags,
 * and the running kernel's BTF when there is one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "bpf/btf_offsets.h"

#define VMLINUX "/sys/kernel/btf/vmlinux"

/* Ways to spoil the fixture, one test each. */
enum variant {
	FIX_GOOD,
	FIX_NO_ARG_END,		/* mm_struct lacks arg_end */
	FIX_BITFIELD_PID,	/* task_struct.pid is a 22-bit bitfield */
	FIX_NO_UPID,		/* no struct upid at all */
	FIX_NS_NOT_STRUCT,	/* mnt_namespace.ns is an int: "ns.inum" cannot go on */
	FIX_NO_IO_OPEN_NAME,	/* io_open lacks filename: io_uring is off, the rest loads */
	FIX_NO_IO_URING,	/* no io_uring struct at all (a kernel without io_uring) */
};

/* The offsets the fixture lays out, in bytes. */
static const long expected[BTF_OFF_COUNT] = {
	[BTF_OFF_TASK_TGID] = 36,	/* 32 (anon union) + 0 (anon struct) + 4 */
	[BTF_OFF_TASK_PID] = 32,
	[BTF_OFF_TASK_REAL_PARENT] = 48,
	[BTF_OFF_TASK_GROUP_LEADER] = 104,
	[BTF_OFF_TASK_START_BOOTTIME] = 112,
	[BTF_OFF_TASK_NSPROXY] = 64,
	[BTF_OFF_TASK_THREAD_PID] = 72,
	[BTF_OFF_TASK_MM] = 8,
	[BTF_OFF_TASK_FS] = 80,
	[BTF_OFF_NSPROXY_MNT_NS] = 24,
	[BTF_OFF_MNT_NS_NS_INUM] = 40,	/* ns at 16, inum at 24 within it */
	[BTF_OFF_MNT_NS_ROOT] = 56,
	[BTF_OFF_PID_LEVEL] = 4,
	[BTF_OFF_PID_NUMBERS] = 96,
	[BTF_OFF_UPID_NS] = 8,
	[BTF_OFF_PID_NS_NS_INUM] = 160,	/* ns (a const typedef) at 136 */
	[BTF_OFF_MM_ARG_START] = 312,	/* in an anonymous struct in an anonymous union */
	[BTF_OFF_MM_ARG_END] = 320,
	[BTF_OFF_PT_REGS_DI] = 112,
	[BTF_OFF_PT_REGS_SI] = 104,
	[BTF_OFF_PT_REGS_DX] = 96,
	[BTF_OFF_PT_REGS_AX] = 80,
	[BTF_OFF_PT_REGS_BX] = 40,
	[BTF_OFF_PT_REGS_CX] = 88,
	[BTF_OFF_PT_REGS_ORIG_AX] = 120,
	[BTF_OFF_PT_REGS_R10] = 56,
	[BTF_OFF_PT_REGS_R8] = 72,
	[BTF_OFF_TASK_TI_STATUS] = 4,	/* thread_info at 0, status at 4 within it */
	[BTF_OFF_TASK_COMM] = 120,
	[BTF_OFF_IO_KIOCB_FILE] = 0,
	[BTF_OFF_IO_KIOCB_OPCODE] = 64,
	[BTF_OFF_IO_KIOCB_TCTX] = 80,
	[BTF_OFF_IO_KIOCB_CQE_FD] = 108,	/* cqe at 96: user_data, res, union { flags; fd; } */
	[BTF_OFF_IO_URING_TASK_TASK] = 16,
	[BTF_OFF_IO_OPEN_DFD] = 8,
	[BTF_OFF_IO_OPEN_FILE_SLOT] = 12,
	[BTF_OFF_IO_OPEN_FILENAME] = 16,
	[BTF_OFF_FILENAME_NAME] = 0,
	[BTF_OFF_IO_ACCEPT_FILE_SLOT] = 28,
	[BTF_OFF_IO_OPEN_HOW_FLAGS] = 24,	/* how at 24, flags at 0 within it */
	[BTF_OFF_IO_RING_CTX_FILES_NR] = 200,	/* file_table.data at 200: nr, then nodes */
	[BTF_OFF_IO_RING_CTX_FILES] = 208,
	[BTF_OFF_IO_RSRC_NODE_FILE_PTR] = 16,
	[BTF_OFF_TASK_FILES] = 88,
	[BTF_OFF_FILES_FDT] = 32,
	[BTF_OFF_FDTABLE_MAX_FDS] = 0,
	[BTF_OFF_FDTABLE_FD] = 8,
	[BTF_OFF_FILE_PATH_MNT] = 64,	/* f_path at 64, mnt at 0 within it */
	[BTF_OFF_FILE_PATH_DENTRY] = 72,
	[BTF_OFF_MOUNT_MNT] = 32,
	[BTF_OFF_MOUNT_PARENT] = 16,
	[BTF_OFF_MOUNT_MOUNTPOINT] = 24,
	[BTF_OFF_MOUNT_NS] = 232,
	[BTF_OFF_VFSMOUNT_ROOT] = 0,
	[BTF_OFF_VFSMOUNT_SB] = 8,
	[BTF_OFF_DENTRY_PARENT] = 24,
	[BTF_OFF_DENTRY_NAME] = 40,	/* d_name at 32, name at 8 within it */
	[BTF_OFF_DENTRY_NAME_LEN] = 36,	/* d_name's union { struct { hash; len; }; hash_len; } */
	[BTF_OFF_FS_ROOT_MNT] = 24,	/* fs_struct.root at 24 */
	[BTF_OFF_FS_ROOT_DENTRY] = 32,
	[BTF_OFF_FS_PWD_MNT] = 40,
	[BTF_OFF_FS_PWD_DENTRY] = 48,
	[BTF_OFF_FILE_INODE] = 32,
	[BTF_OFF_INODE_MODE] = 0,
	[BTF_OFF_INODE_RDEV] = 56,
	[BTF_OFF_INODE_NLINK] = 72,	/* in union { const i_nlink; __i_nlink; } */
	[BTF_OFF_MM_EXE_FILE] = 408,
	[BTF_OFF_SB_ROOT] = 104,
	[BTF_OFF_SB_DEV] = 16,
	[BTF_OFF_DENTRY_INODE] = 48,
	[BTF_OFF_INODE_INO] = 64,
	[BTF_OFF_INODE_SB] = 40,
	[BTF_OFF_TASK_CGROUPS] = 96,
	[BTF_OFF_CSS_SET_SUBSYS] = 0,
	[BTF_OFF_CSS_CGROUP] = 0,
	[BTF_OFF_FILE_PRIVATE_DATA] = 120,
	[BTF_OFF_SOCKET_SK] = 24,
	[BTF_OFF_SK_DADDR] = 0,
	[BTF_OFF_SK_RCV_SADDR] = 4,
	[BTF_OFF_SK_DPORT] = 12,
	[BTF_OFF_SK_NUM] = 14,
	[BTF_OFF_SK_FAMILY] = 16,
	[BTF_OFF_SK_STATE] = 18,
	[BTF_OFF_SK_V6_DADDR] = 56,
	[BTF_OFF_SK_V6_RCV_SADDR] = 72,
	[BTF_OFF_SK_PROTOCOL] = 300,
	[BTF_OFF_SK_ERR] = 320,
	[BTF_OFF_SKB_SK] = 24,
	[BTF_OFF_SKB_NETWORK_HEADER] = 184,
	[BTF_OFF_SKB_HEAD] = 200,
	[BTF_OFF_CGROUP_KN] = 184,
	[BTF_OFF_KERNFS_NODE_ID] = 72,
};

static void add_field(struct btf *btf, const char *name, int type, long byte_off)
{
	assert_int_equal(btf__add_field(btf, name, type, (__u32)(byte_off * 8), 0), 0);
}

/*
 * A miniature vmlinux: just the structs bpfd reads, with the members at
 * made-up offsets, hidden the way the kernel hides them (anonymous unions
 * and structs, a typedef behind const).
 */
static struct btf *build_btf(enum variant v)
{
	struct btf *btf = btf__new_empty();
	int t_int, t_uint, t_long, t_ptr, ns_common, ns_ref, anon_s, anon_u, upid, t;

	assert_non_null(btf);
	t_int = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	t_uint = btf__add_int(btf, "unsigned int", 4, 0);
	t_long = btf__add_int(btf, "long unsigned int", 8, 0);
	t_ptr = btf__add_ptr(btf, 0);	/* void * */
	assert_true(t_int > 0 && t_uint > 0 && t_long > 0 && t_ptr > 0);

	ns_common = btf__add_struct(btf, "ns_common", 32);
	add_field(btf, "stashed", t_ptr, 0);
	add_field(btf, "ops", t_ptr, 8);
	add_field(btf, "inum", t_uint, 24);

	/* task_struct: pid/tgid inside union { struct { pid; tgid; }; long raw; } at 32. */
	anon_s = btf__add_struct(btf, NULL, 8);
	if (v == FIX_BITFIELD_PID)
		assert_int_equal(btf__add_field(btf, "pid", t_int, 0, 22), 0);
	else
		add_field(btf, "pid", t_int, 0);
	add_field(btf, "tgid", t_int, 4);
	anon_u = btf__add_union(btf, NULL, 8);
	add_field(btf, NULL, anon_s, 0);
	add_field(btf, "raw", t_long, 0);
	t = btf__add_struct(btf, "thread_info", 8);
	add_field(btf, "flags", t_uint, 0);
	add_field(btf, "status", t_uint, 4);
	anon_s = t;
	t = btf__add_struct(btf, "task_struct", 136);
	assert_true(t > 0);
	add_field(btf, "thread_info", anon_s, 0);
	add_field(btf, "mm", t_ptr, 8);
	add_field(btf, NULL, anon_u, 32);
	add_field(btf, "real_parent", t_ptr, 48);
	add_field(btf, "nsproxy", t_ptr, 64);
	add_field(btf, "thread_pid", t_ptr, 72);
	add_field(btf, "fs", t_ptr, 80);
	add_field(btf, "files", t_ptr, 88);
	add_field(btf, "cgroups", t_ptr, 96);
	add_field(btf, "group_leader", t_ptr, 104);
	add_field(btf, "start_boottime", t_long, 112);
	add_field(btf, "comm", t_long, 120);

	t = btf__add_struct(btf, "nsproxy", 64);
	add_field(btf, "count", t_int, 0);
	add_field(btf, "uts_ns", t_ptr, 8);
	add_field(btf, "ipc_ns", t_ptr, 16);
	add_field(btf, "mnt_ns", t_ptr, 24);

	t = btf__add_struct(btf, "mnt_namespace", 64);
	add_field(btf, "pad", t_long, 0);
	add_field(btf, "ns", v == FIX_NS_NOT_STRUCT ? t_int : ns_common, 16);
	add_field(btf, "root", t_ptr, 56);

	if (v != FIX_NO_UPID) {
		upid = btf__add_struct(btf, "upid", 16);
		add_field(btf, "nr", t_int, 0);
		add_field(btf, "ns", t_ptr, 8);
	} else {
		upid = t_long;
	}
	t = btf__add_array(btf, t_uint, upid, 1);
	assert_true(t > 0);
	{
		int numbers = t;

		t = btf__add_struct(btf, "pid", 112);
		add_field(btf, "count", t_int, 0);
		add_field(btf, "level", t_uint, 4);
		add_field(btf, "numbers", numbers, 96);
	}

	/* pid_namespace.ns is a "const ns_common_t": the path must see through both. */
	ns_ref = btf__add_typedef(btf, "ns_common_t", ns_common);
	ns_ref = btf__add_const(btf, ns_ref);
	assert_true(ns_ref > 0);
	t = btf__add_struct(btf, "pid_namespace", 192);
	add_field(btf, "idr", t_ptr, 0);
	add_field(btf, "ns", ns_ref, 136);

	/* mm_struct: arg_start/arg_end in struct { struct { ...; }; } inside a union at 296. */
	anon_s = btf__add_struct(btf, NULL, 40);
	add_field(btf, "start_stack", t_long, 8);
	add_field(btf, "arg_start", t_long, 16);
	if (v != FIX_NO_ARG_END)
		add_field(btf, "arg_end", t_long, 24);
	t = btf__add_struct(btf, NULL, 40);
	add_field(btf, NULL, anon_s, 0);
	anon_u = btf__add_union(btf, NULL, 40);
	add_field(btf, NULL, t, 0);
	add_field(btf, "cacheline_pad", t_long, 0);
	t = btf__add_struct(btf, "mm_struct", 512);
	add_field(btf, "mmap_base", t_long, 0);
	add_field(btf, NULL, anon_u, 296);
	add_field(btf, "start_brk", t_long, 400);
	add_field(btf, "exe_file", t_ptr, 408);

	/* pt_regs: the x86-64 layout, plain members. */
	t = btf__add_struct(btf, "pt_regs", 168);
	add_field(btf, "bx", t_long, 40);
	add_field(btf, "r10", t_long, 56);
	add_field(btf, "r8", t_long, 72);
	add_field(btf, "ax", t_long, 80);
	add_field(btf, "cx", t_long, 88);
	add_field(btf, "dx", t_long, 96);
	add_field(btf, "si", t_long, 104);
	add_field(btf, "di", t_long, 112);
	add_field(btf, "orig_ax", t_long, 120);

	/* io_uring's request, its open, the ring's fixed-file table (structs by value). */
	if (v == FIX_NO_IO_URING)
		goto no_io_uring;
	anon_u = btf__add_union(btf, NULL, 4);
	add_field(btf, "flags", t_uint, 0);
	add_field(btf, "fd", t_int, 0);
	anon_s = btf__add_struct(btf, "io_cqe", 16);
	add_field(btf, "user_data", t_long, 0);
	add_field(btf, "res", t_int, 8);
	add_field(btf, NULL, anon_u, 12);
	t = btf__add_struct(btf, "io_kiocb", 128);
	add_field(btf, "file", t_ptr, 0);
	add_field(btf, "opcode", t_uint, 64);
	add_field(btf, "tctx", t_ptr, 80);
	add_field(btf, "cqe", anon_s, 96);
	t = btf__add_struct(btf, "io_uring_task", 64);
	add_field(btf, "task", t_ptr, 16);
	t = btf__add_struct(btf, "filename", 32);
	add_field(btf, "name", t_ptr, 0);
	add_field(btf, "uptr", t_ptr, 8);
	t = btf__add_struct(btf, "io_accept", 48);
	add_field(btf, "file", t_ptr, 0);
	add_field(btf, "file_slot", t_uint, 28);
	anon_s = btf__add_struct(btf, "open_how", 24);
	add_field(btf, "flags", t_long, 0);
	t = btf__add_struct(btf, "io_open", 64);
	add_field(btf, "file", t_ptr, 0);
	add_field(btf, "dfd", t_int, 8);
	add_field(btf, "file_slot", t_uint, 12);
	if (v != FIX_NO_IO_OPEN_NAME)
		add_field(btf, "filename", t_ptr, 16);
	add_field(btf, "how", anon_s, 24);
	anon_s = btf__add_struct(btf, "io_rsrc_data", 16);
	add_field(btf, "nr", t_uint, 0);
	add_field(btf, "nodes", t_ptr, 8);
	anon_u = btf__add_struct(btf, "io_file_table", 32);
	add_field(btf, "data", anon_s, 0);
	add_field(btf, "bitmap", t_ptr, 16);
	t = btf__add_struct(btf, "io_ring_ctx", 512);
	add_field(btf, "file_table", anon_u, 200);
	t = btf__add_struct(btf, "io_rsrc_node", 32);
	add_field(btf, "file_ptr", t_long, 16);
no_io_uring:

	/* The file and mount structs dockeropenbreakout walks; nested by value. */
	t = btf__add_struct(btf, "files_struct", 64);
	add_field(btf, "count", t_int, 0);
	add_field(btf, "fdt", t_ptr, 32);
	t = btf__add_struct(btf, "fdtable", 32);
	add_field(btf, "max_fds", t_uint, 0);
	add_field(btf, "fd", t_ptr, 8);
	{
		int path, vfsmount, qstr;

		path = btf__add_struct(btf, "path", 16);
		add_field(btf, "mnt", t_ptr, 0);
		add_field(btf, "dentry", t_ptr, 8);
		t = btf__add_struct(btf, "file", 128);
		add_field(btf, "f_mode", t_uint, 0);
		add_field(btf, "f_inode", t_ptr, 32);
		add_field(btf, "f_path", path, 64);
		add_field(btf, "private_data", t_ptr, 120);
		t = btf__add_struct(btf, "fs_struct", 56);
		add_field(btf, "users", t_int, 0);
		add_field(btf, "root", path, 24);
		add_field(btf, "pwd", path, 40);
		t = btf__add_const(btf, t_uint);
		anon_u = btf__add_union(btf, NULL, 4);
		add_field(btf, "i_nlink", t, 0);
		add_field(btf, "__i_nlink", t_uint, 0);
		t = btf__add_struct(btf, "inode", 128);
		add_field(btf, "i_mode", t_uint, 0);
		add_field(btf, "i_sb", t_ptr, 40);
		add_field(btf, "i_rdev", t_uint, 56);
		add_field(btf, "i_ino", t_long, 64);
		add_field(btf, NULL, anon_u, 72);
		vfsmount = btf__add_struct(btf, "vfsmount", 24);
		add_field(btf, "mnt_root", t_ptr, 0);
		add_field(btf, "mnt_sb", t_ptr, 8);
		t = btf__add_struct(btf, "mount", 256);
		add_field(btf, "mnt_parent", t_ptr, 16);
		add_field(btf, "mnt_mountpoint", t_ptr, 24);
		add_field(btf, "mnt", vfsmount, 32);
		add_field(btf, "mnt_ns", t_ptr, 232);
		anon_s = btf__add_struct(btf, NULL, 8);
		add_field(btf, "hash", t_uint, 0);
		add_field(btf, "len", t_uint, 4);
		anon_u = btf__add_union(btf, NULL, 8);
		add_field(btf, NULL, anon_s, 0);
		add_field(btf, "hash_len", t_long, 0);
		qstr = btf__add_struct(btf, "qstr", 16);
		add_field(btf, NULL, anon_u, 0);
		add_field(btf, "name", t_ptr, 8);
		t = btf__add_struct(btf, "dentry", 192);
		add_field(btf, "d_parent", t_ptr, 24);
		add_field(btf, "d_name", qstr, 32);
		add_field(btf, "d_inode", t_ptr, 48);
		t = btf__add_struct(btf, "super_block", 256);
		add_field(btf, "s_dev", t_uint, 16);
		add_field(btf, "s_root", t_ptr, 104);
		/* The cgroup v1 chain: task->cgroups->subsys[i]->cgroup->kn->id. */
		t = btf__add_struct(btf, "css_set", 128);
		add_field(btf, "subsys", t_ptr, 0);
		t = btf__add_struct(btf, "cgroup_subsys_state", 64);
		add_field(btf, "cgroup", t_ptr, 0);
		t = btf__add_struct(btf, "cgroup", 256);
		add_field(btf, "kn", t_ptr, 184);
		t = btf__add_struct(btf, "kernfs_node", 128);
		add_field(btf, "id", t_long, 72);
		/* What the network tracers read of sockets and packets. */
		t = btf__add_struct(btf, "socket", 64);
		add_field(btf, "sk", t_ptr, 24);
		t = btf__add_struct(btf, "sock_common", 136);
		add_field(btf, "skc_daddr", t_uint, 0);
		add_field(btf, "skc_rcv_saddr", t_uint, 4);
		add_field(btf, "skc_dport", t_uint, 12);
		add_field(btf, "skc_num", t_uint, 14);
		add_field(btf, "skc_family", t_uint, 16);
		add_field(btf, "skc_state", t_uint, 18);
		add_field(btf, "skc_v6_daddr", t_long, 56);
		add_field(btf, "skc_v6_rcv_saddr", t_long, 72);
		t = btf__add_struct(btf, "sock", 512);
		add_field(btf, "sk_protocol", t_uint, 300);
		add_field(btf, "sk_err", t_int, 320);
		t = btf__add_struct(btf, "sk_buff", 232);
		add_field(btf, "sk", t_ptr, 24);
		add_field(btf, "network_header", t_uint, 184);
		add_field(btf, "head", t_ptr, 200);
	}
	return btf;
}

/* Writes the fixture's raw BTF to a temporary file; its path goes to @path. */
static void write_btf(enum variant v, char *path, size_t size)
{
	struct btf *btf = build_btf(v);
	const char *tmp = getenv("TMPDIR");
	const void *raw;
	__u32 raw_size;
	int fd;

	raw = btf__raw_data(btf, &raw_size);
	assert_non_null(raw);
	snprintf(path, size, "%s/unit-btf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, raw, raw_size), (ssize_t)raw_size);
	close(fd);
	btf__free(btf);
}

static int read_variant(enum variant v, struct kernel_offsets *o, char *err, size_t err_size)
{
	char path[PATH_MAX];
	int r;

	write_btf(v, path, sizeof(path));
	r = btf_offsets_read(path, o, err, err_size);
	unlink(path);
	return r;
}

static void test_resolves_fixture(void **state)
{
	struct kernel_offsets o;
	char err[256] = "stale";
	int i;

	(void)state;
	memset(&o, 0xff, sizeof(o));
	assert_int_equal(read_variant(FIX_GOOD, &o, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	for (i = 0; i < BTF_OFF_COUNT; i++) {
		if (o.off[i] != expected[i])
			fail_msg("offset %d: %ld, expected %ld", i, o.off[i], expected[i]);
	}
	assert_int_equal(o.upid_size, 16);
	assert_int_equal(o.io_uring, 1);
	assert_string_equal(o.io_uring_missing, "");
	/* No kfunc bpf_rdonly_cast in the fixture: the programs read with the helper. */
	assert_int_equal(o.kmem_cast, 0);
}

static void test_missing_member(void **state)
{
	struct kernel_offsets o;
	char err[256] = "";

	(void)state;
	assert_int_equal(read_variant(FIX_NO_ARG_END, &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "mm_struct"));
	assert_non_null(strstr(err, "arg_end"));
	assert_string_equal(err, "struct mm_struct: no member arg_end");
}

static void test_bitfield_refused(void **state)
{
	struct kernel_offsets o;
	char err[256] = "";

	(void)state;
	assert_int_equal(read_variant(FIX_BITFIELD_PID, &o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "struct task_struct: member pid is a bitfield");
}

static void test_missing_struct(void **state)
{
	struct kernel_offsets o;
	char err[256] = "";

	(void)state;
	/* upid is both an offset's struct and upid_size's: the first use reports it. */
	assert_int_equal(read_variant(FIX_NO_UPID, &o, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "struct upid: not in the kernel's BTF");
}

static void test_path_through_non_struct(void **state)
{
	struct kernel_offsets o;
	char err[256] = "";

	(void)state;
	assert_int_equal(read_variant(FIX_NS_NOT_STRUCT, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mnt_namespace"));
	assert_non_null(strstr(err, "ns.inum"));
}

/*
 * io_uring's offsets are optional: without one (another layout) or without
 * any (no io_uring in the kernel) the rest is read, io_uring is off with
 * the first missing one named, and its offsets are -1.
 */
static void check_no_io_uring(enum variant v, const char *missing)
{
	struct kernel_offsets o;
	char err[256] = "stale";
	int i;

	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(read_variant(v, &o, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(o.io_uring, 0);
	assert_string_equal(o.io_uring_missing, missing);
	assert_int_equal(o.off[BTF_OFF_TASK_TGID], expected[BTF_OFF_TASK_TGID]);
	assert_int_equal(o.off[BTF_OFF_SKB_HEAD], expected[BTF_OFF_SKB_HEAD]);
	assert_int_equal(o.upid_size, 16);
	assert_int_equal(o.off[BTF_OFF_IO_KIOCB_OPCODE], -1);
	assert_int_equal(o.off[BTF_OFF_IO_OPEN_FILENAME], -1);
	assert_int_equal(o.off[BTF_OFF_IO_RSRC_NODE_FILE_PTR], -1);
	/* The flags still define every name, as -1: the io_uring sources are left out. */
	{
		char storage[BTF_CFLAG_COUNT][BTF_CFLAG_LEN];
		const char *argv[BTF_CFLAG_COUNT + 1];

		btf_offsets_cflags(&o, storage, argv);
		assert_string_equal(argv[BTF_OFF_IO_OPEN_FILENAME],
				    "-DBPFD_OFF_IO_OPEN_FILENAME=-1");
	}
	for (i = 0; i < BTF_OFF_COUNT; i++)
		assert_true(o.off[i] == expected[i] || o.off[i] == -1);
}

static void test_io_uring_optional(void **state)
{
	(void)state;
	check_no_io_uring(FIX_NO_IO_OPEN_NAME, "struct io_open: no member filename");
	check_no_io_uring(FIX_NO_IO_URING, "struct io_kiocb: not in the kernel's BTF");
}

static void test_unreadable_file(void **state)
{
	struct kernel_offsets o;
	char err[256] = "";
	char path[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	libbpf_print_fn_t old_print;
	int fd;

	(void)state;
	assert_int_equal(btf_offsets_read("/nonexistent/btf", &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/btf"));

	/* Not BTF at all. */
	snprintf(path, sizeof(path), "%s/unit-btf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage, not BTF", 16), 16);
	close(fd);
	/* libbpf reports the failed ELF parse on stderr by default. */
	old_print = libbpf_set_print(NULL);
	assert_int_equal(btf_offsets_read(path, &o, err, sizeof(err)), -EINVAL);
	libbpf_set_print(old_print);
	assert_non_null(strstr(err, path));
	unlink(path);

	/* A NULL err is allowed. */
	assert_int_equal(btf_offsets_read("/nonexistent/btf", &o, NULL, 0), -ENOENT);
}

static void test_cflags(void **state)
{
	struct kernel_offsets o;
	char storage[BTF_CFLAG_COUNT][BTF_CFLAG_LEN];
	const char *argv[BTF_CFLAG_COUNT + 1];
	char want[BTF_CFLAG_LEN];
	int i;

	(void)state;
	assert_int_equal(BTF_CFLAG_COUNT, BTF_OFF_COUNT + 1);
	for (i = 0; i < BTF_OFF_COUNT; i++)
		o.off[i] = 1000 + i;
	o.off[BTF_OFF_TASK_NSPROXY] = 1840;
	o.upid_size = 16;
	memset(argv, 0x5a, sizeof(argv));

	btf_offsets_cflags(&o, storage, argv);
	assert_string_equal(argv[BTF_OFF_TASK_TGID], "-DBPFD_OFF_TASK_TGID=1000");
	assert_string_equal(argv[BTF_OFF_TASK_NSPROXY], "-DBPFD_OFF_TASK_NSPROXY=1840");
	/* By name, not position: the list grows in the middle. */
	snprintf(want, sizeof(want), "-DBPFD_OFF_MNT_NS_NS_INUM=%d", 1000 + BTF_OFF_MNT_NS_NS_INUM);
	assert_string_equal(argv[BTF_OFF_MNT_NS_NS_INUM], want);
	snprintf(want, sizeof(want), "-DBPFD_OFF_MM_ARG_END=%d", 1000 + BTF_OFF_MM_ARG_END);
	assert_string_equal(argv[BTF_OFF_MM_ARG_END], want);
	assert_string_equal(argv[BTF_OFF_COUNT], "-DBPFD_UPID_SIZE=16");
	assert_null(argv[BTF_OFF_COUNT + 1]);
	for (i = 0; i < BTF_CFLAG_COUNT; i++)
		assert_ptr_equal(argv[i], storage[i]);
}

/* The running kernel's BTF: every member must be there, at plausible offsets. */
static void test_running_kernel(void **state)
{
	struct kernel_offsets o;
	char err[256] = "";
	int i;

	(void)state;
	if (access(VMLINUX, R_OK) != 0)
		skip();
	assert_int_equal(btf_offsets_read(VMLINUX, &o, err, sizeof(err)), 0);
	/* This kernel has io_uring: a missing offset would silently switch it off. */
	assert_string_equal(o.io_uring_missing, "");
	assert_int_equal(o.io_uring, 1);
	for (i = 0; i < BTF_OFF_COUNT; i++)
		assert_true(o.off[i] >= 0 && o.off[i] < 16384);
	/* Pointers are 8-byte aligned; tgid directly follows pid. */
	assert_int_equal(o.off[BTF_OFF_TASK_NSPROXY] % 8, 0);
	assert_int_equal(o.off[BTF_OFF_TASK_MM] % 8, 0);
	assert_int_equal(o.off[BTF_OFF_TASK_TGID], o.off[BTF_OFF_TASK_PID] + 4);
	assert_int_equal(o.off[BTF_OFF_MM_ARG_END], o.off[BTF_OFF_MM_ARG_START] + 8);
	/* struct upid { int nr; struct pid_namespace *ns; } since 5.x. */
	assert_int_equal(o.off[BTF_OFF_UPID_NS], 8);
	assert_int_equal(o.upid_size, 16);
	/* The kfunc the programs' kernel reads are patched to (bpf/kmem.h). */
	assert_true(o.kmem_cast > 0);
}

int main(void)
{
	const struct CMUnitTest fixture[] = {
		cmocka_unit_test(test_resolves_fixture),
		cmocka_unit_test(test_missing_member),
		cmocka_unit_test(test_bitfield_refused),
		cmocka_unit_test(test_missing_struct),
		cmocka_unit_test(test_path_through_non_struct),
		cmocka_unit_test(test_io_uring_optional),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_cflags),
	};
	const struct CMUnitTest kernel[] = {
		cmocka_unit_test(test_running_kernel),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("btf_offsets fixture", fixture, NULL, NULL);
	failed += cmocka_run_group_tests_name("btf_offsets vmlinux", kernel, NULL, NULL);
	return failed ? 1 : 0;
}
