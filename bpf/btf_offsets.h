/* SPDX-License-Identifier: MIT */
#ifndef BPFD_BTF_OFFSETS_H
#define BPFD_BTF_OFFSETS_H

/*
 * Offsets of the kernel struct members tracer programs read, taken from the
 * running kernel's BTF (/sys/kernel/btf/vmlinux), never from headers that
 * may belong to another kernel version. They reach the BPF programs as
 * -D flags (BPFD_OFF_<NAME>=<bytes>).
 */

#include <stddef.h>

/*
 * X(name, struct, member path): the member path may cross anonymous
 * structs and unions, and uses '.' for nested members.
 */
#define BTF_OFFSETS(X)							\
	X(TASK_TGID, "task_struct", "tgid")				\
	X(TASK_PID, "task_struct", "pid")				\
	X(TASK_REAL_PARENT, "task_struct", "real_parent")		\
	X(TASK_GROUP_LEADER, "task_struct", "group_leader")		\
	X(TASK_START_BOOTTIME, "task_struct", "start_boottime")		\
	X(TASK_NSPROXY, "task_struct", "nsproxy")			\
	X(TASK_THREAD_PID, "task_struct", "thread_pid")			\
	X(TASK_MM, "task_struct", "mm")					\
	X(TASK_FS, "task_struct", "fs")					\
	X(NSPROXY_MNT_NS, "nsproxy", "mnt_ns")				\
	X(MNT_NS_NS_INUM, "mnt_namespace", "ns.inum")			\
	X(MNT_NS_ROOT, "mnt_namespace", "root")				\
	X(PID_LEVEL, "pid", "level")					\
	X(PID_NUMBERS, "pid", "numbers")				\
	X(UPID_NS, "upid", "ns")					\
	X(PID_NS_NS_INUM, "pid_namespace", "ns.inum")			\
	X(MM_ARG_START, "mm_struct", "arg_start")			\
	X(MM_ARG_END, "mm_struct", "arg_end")				\
	X(PT_REGS_DI, "pt_regs", "di")					\
	X(PT_REGS_SI, "pt_regs", "si")					\
	X(PT_REGS_DX, "pt_regs", "dx")					\
	X(PT_REGS_AX, "pt_regs", "ax")					\
	X(PT_REGS_BX, "pt_regs", "bx")					\
	X(PT_REGS_CX, "pt_regs", "cx")					\
	X(PT_REGS_ORIG_AX, "pt_regs", "orig_ax")			\
	X(PT_REGS_R10, "pt_regs", "r10")				\
	X(PT_REGS_R8, "pt_regs", "r8")					\
	X(TASK_TI_STATUS, "task_struct", "thread_info.status")		\
	X(TASK_COMM, "task_struct", "comm")				\
	X(TASK_FILES, "task_struct", "files")				\
	X(FILES_FDT, "files_struct", "fdt")				\
	X(FDTABLE_MAX_FDS, "fdtable", "max_fds")			\
	X(FDTABLE_FD, "fdtable", "fd")					\
	X(FILE_PATH_MNT, "file", "f_path.mnt")				\
	X(FILE_PATH_DENTRY, "file", "f_path.dentry")			\
	X(MOUNT_MNT, "mount", "mnt")					\
	X(MOUNT_PARENT, "mount", "mnt_parent")				\
	X(MOUNT_MOUNTPOINT, "mount", "mnt_mountpoint")			\
	X(MOUNT_NS, "mount", "mnt_ns")					\
	X(VFSMOUNT_ROOT, "vfsmount", "mnt_root")			\
	X(VFSMOUNT_SB, "vfsmount", "mnt_sb")				\
	X(DENTRY_PARENT, "dentry", "d_parent")				\
	X(DENTRY_NAME, "dentry", "d_name.name")				\
	X(DENTRY_NAME_LEN, "dentry", "d_name.len")			\
	X(FS_ROOT_MNT, "fs_struct", "root.mnt")				\
	X(FS_ROOT_DENTRY, "fs_struct", "root.dentry")			\
	X(FS_PWD_MNT, "fs_struct", "pwd.mnt")				\
	X(FS_PWD_DENTRY, "fs_struct", "pwd.dentry")			\
	X(FILE_INODE, "file", "f_inode")				\
	X(INODE_MODE, "inode", "i_mode")				\
	X(INODE_RDEV, "inode", "i_rdev")				\
	X(INODE_NLINK, "inode", "i_nlink")				\
	X(MM_EXE_FILE, "mm_struct", "exe_file")				\
	X(SB_ROOT, "super_block", "s_root")				\
	X(SB_DEV, "super_block", "s_dev")				\
	X(DENTRY_INODE, "dentry", "d_inode")				\
	X(INODE_INO, "inode", "i_ino")					\
	X(INODE_SB, "inode", "i_sb")					\
	X(TASK_CGROUPS, "task_struct", "cgroups")			\
	X(CSS_SET_SUBSYS, "css_set", "subsys")				\
	X(CSS_CGROUP, "cgroup_subsys_state", "cgroup")			\
	X(CGROUP_KN, "cgroup", "kn")					\
	X(KERNFS_NODE_ID, "kernfs_node", "id")				\
	X(FILE_PRIVATE_DATA, "file", "private_data")			\
	X(SOCKET_SK, "socket", "sk")					\
	X(SK_FAMILY, "sock_common", "skc_family")			\
	X(SK_STATE, "sock_common", "skc_state")				\
	X(SK_DADDR, "sock_common", "skc_daddr")				\
	X(SK_RCV_SADDR, "sock_common", "skc_rcv_saddr")			\
	X(SK_DPORT, "sock_common", "skc_dport")				\
	X(SK_NUM, "sock_common", "skc_num")				\
	X(SK_V6_DADDR, "sock_common", "skc_v6_daddr")			\
	X(SK_V6_RCV_SADDR, "sock_common", "skc_v6_rcv_saddr")		\
	X(SK_PROTOCOL, "sock", "sk_protocol")				\
	X(SK_ERR, "sock", "sk_err")					\
	X(SKB_SK, "sk_buff", "sk")					\
	X(SKB_HEAD, "sk_buff", "head")					\
	X(SKB_NETWORK_HEADER, "sk_buff", "network_header")

/*
 * io_uring's structs (tracers/common/io_uring.bpf.h): optional. A kernel built
 * without io_uring, or with another layout of its request, has the other
 * offsets and loads the tracers without their io_uring hooks
 * (kernel_offsets.io_uring says why); every one of these must be there
 * for the hooks to be compiled at all.
 */
#define BTF_OFFSETS_IO_URING(X)						\
	X(IO_KIOCB_FILE, "io_kiocb", "file")				\
	X(IO_KIOCB_OPCODE, "io_kiocb", "opcode")			\
	X(IO_KIOCB_TCTX, "io_kiocb", "tctx")				\
	X(IO_KIOCB_CQE_FD, "io_kiocb", "cqe.fd")			\
	X(IO_URING_TASK_TASK, "io_uring_task", "task")			\
	X(IO_OPEN_DFD, "io_open", "dfd")				\
	X(IO_OPEN_FILE_SLOT, "io_open", "file_slot")			\
	X(IO_OPEN_FILENAME, "io_open", "filename")			\
	X(IO_OPEN_HOW_FLAGS, "io_open", "how.flags")			\
	X(FILENAME_NAME, "filename", "name")				\
	X(IO_ACCEPT_FILE_SLOT, "io_accept", "file_slot")		\
	X(IO_RING_CTX_FILES_NR, "io_ring_ctx", "file_table.data.nr")	\
	X(IO_RING_CTX_FILES, "io_ring_ctx", "file_table.data.nodes")	\
	X(IO_RSRC_NODE_FILE_PTR, "io_rsrc_node", "file_ptr")

enum btf_offset_id {
#define BTF_OFFSET_ENUM(name, s, m) BTF_OFF_##name,
	BTF_OFFSETS(BTF_OFFSET_ENUM)
	BTF_OFFSETS_IO_URING(BTF_OFFSET_ENUM)
#undef BTF_OFFSET_ENUM
	BTF_OFF_COUNT
};

struct kernel_offsets {
	long off[BTF_OFF_COUNT];	/* bytes from the start of the struct */
	long upid_size;			/* sizeof(struct upid), to index pid.numbers[] */
	int kmem_cast;			/* kfunc bpf_rdonly_cast's BTF id, or 0 (bpf/kmem.h) */
	/*
	 * Every offset of BTF_OFFSETS_IO_URING() was found; else those are -1
	 * and io_uring_missing names the first one missing.
	 */
	int io_uring;
	char io_uring_missing[128];
};

/*
 * Reads every offset from the BTF file at @path. 0, or a negative errno;
 * on failure @err (when non-NULL) names what was missing. A missing
 * io_uring offset is no failure: see kernel_offsets.io_uring.
 */
int btf_offsets_read(const char *path, struct kernel_offsets *out, char *err, size_t err_size);

/*
 * The value of enumerator @name (e.g. "pids_cgrp_id") in any enum of the
 * BTF at @path: 0 and *@value, -ENOENT, or another negative errno.
 */
int btf_enum_value(const char *path, const char *name, long *value);

/*
 * Writes the offsets as compiler flags "-DBPFD_OFF_TASK_TGID=2324" ... (a
 * missing optional one as -1), then
 * "-DBPFD_UPID_SIZE=<n>" last, into @storage, which must have
 * BTF_CFLAG_COUNT (BTF_OFF_COUNT + 1) rows, and pointers to them into @argv,
 * which must have BTF_CFLAG_COUNT + 1 (BTF_OFF_COUNT + 2) entries: the flags
 * and a NULL terminator.
 */
enum { BTF_CFLAG_LEN = 64, BTF_CFLAG_COUNT = BTF_OFF_COUNT + 1 };
void btf_offsets_cflags(const struct kernel_offsets *o, char storage[][BTF_CFLAG_LEN],
			const char **argv);

#endif
