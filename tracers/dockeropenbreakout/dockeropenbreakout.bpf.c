/*
 * dockeropenbreakout: a successful open, by a process inside a container,
 * of a file that lies outside the container's root filesystem. Decided here
 * from the opened struct file and the opening task (docs/tracers.md), never from
 * path strings:
 *
 *  1. the file's mount belongs to another mount namespace than the opener's
 *     (/proc/<pid>/root/... of a host process, an fd handed in);
 *  2. the file's dentry is not below its mount's root (open_by_handle_at
 *     walking out of a bind mount: "shocker");
 *  3. the opener, though in a container's cgroup, runs in the host's mount
 *     namespace (nsenter --mount=/proc/1/ns/mnt);
 *  4. the file is reached through a mount of the whole host root
 *     filesystem (-v /:/host): the host root's superblock, mounted at its
 *     root.
 *
 * "Inside a container" means: in a container's cgroup (bpfd_containers) and
 * marked contained (bpfd_contained), which a process becomes by executing a
 * program in a container's cgroup outside the host's mount namespace, or by
 * descending from one. The runtime's set-up before that exec (runc init
 * reopening its fifo through /proc/self/fd) is therefore never judged.
 *
 * The sys_exit tracepoints are shared with the open tracer, whose programs
 * take the TRACEPOINT_PROBE names; these are named functions with the
 * (stable) layout of a syscall-exit record.
 */

struct bpfd_dob_sys_exit {
	u64 common;		/* common_type, flags, preempt_count, pid */
	int nr;
	long ret;
};

/*
 * The host's mount namespace and root filesystem, which the tracer's start
 * hook writes (dockeropenbreakout.c) before the tracer is switched on.
 */
BPF_ARRAY(bpfd_dob_host, struct dob_host, 1);

/* The host's identity, or NULL while it is not written yet (then nothing is judged). */
static __always_inline struct dob_host *bpfd_dob_host_get(void)
{
	u32 zero = 0;
	struct dob_host *h = bpfd_dob_host.lookup(&zero);

	return h && h->mntns ? h : NULL;
}

/* sched_process_exec: mark programs started inside a container. */
int bpfd_dob_exec(void *ctx)
{
	u64 cgroup = bpfd_cgroup_id();
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	void *task = (void *)bpf_get_current_task();
	void *nsproxy, *mnt_ns;
	struct dob_host *host;
	u32 mntns = 0;

	if (!bpfd_containers.lookup(&cgroup))
		return 0;
	host = bpfd_dob_host_get();
	if (!host)
		return 0;
	nsproxy = bpfd_read_ptr(task, BPFD_OFF_TASK_NSPROXY);
	mnt_ns = nsproxy ? bpfd_read_ptr(nsproxy, BPFD_OFF_NSPROXY_MNT_NS) : NULL;
	if (mnt_ns)
		BPFD_KGET(mntns, (char *)mnt_ns + BPFD_OFF_MNT_NS_NS_INUM);
	if (mntns && mntns != host->mntns)
		bpfd_mark_contained(tgid);
	return 0;
}

static __always_inline u32 bpfd_dob_ns_inum(void *mnt_ns)
{
	u32 inum = 0;

	/* Internal mounts (pipes, sockets) have no namespace, or MNT_NS_INTERNAL (1). */
	if ((unsigned long)mnt_ns < 4096)
		return 0;
	BPFD_KGET(inum, (char *)mnt_ns + BPFD_OFF_MNT_NS_NS_INUM);
	return inum;
}

/* Is @dentry below @root? Unknown (too deep) counts as yes: no false alarm. */
static __always_inline int bpfd_dob_below(void *dentry, void *root)
{
	void *parent;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 64; i++) {
		if (dentry == root)
			return 1;
		parent = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_PARENT);
		if (!parent || parent == dentry)
			return 0;
		dentry = parent;
	}
	return 1;
}

/*
 * The path of @dentry from the root of its mount (@mnt_root), leaf first:
 * for a file of the host, its path on the host. A dentry outside the
 * mount's root (case 2) is followed up to its filesystem's root. Mounts are
 * not crossed: the verifier's cost of a walk that switches between mounts
 * and dentries grows with every choice of the two.
 */
static __always_inline void bpfd_dob_resolve(struct dob_record *r, void *mnt_root, void *dentry)
{
	void *parent, *name;
	u32 n;

	r->truncated = 1;
#pragma clang loop unroll(disable)
	for (n = 0; n < DOB_DEPTH_MAX; n++) {
		if (dentry == mnt_root) {
			r->truncated = 0;
			break;
		}
		parent = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_PARENT);
		if (!parent || parent == dentry) {
			r->truncated = 0;
			break;
		}
		name = bpfd_read_ptr(dentry, BPFD_OFF_DENTRY_NAME);
		if (bpf_probe_read_kernel_str(r->names[n & (DOB_DEPTH_MAX - 1)], DOB_NAME_MAX,
					      name) < 0)
			r->names[n & (DOB_DEPTH_MAX - 1)][0] = '\0';
		dentry = parent;
	}
	r->depth = n;
}

/* @compat: the open came through the 32-bit entry, whose arguments are elsewhere. */
static __always_inline int bpfd_dob_exit(long ret, int name_arg, int compat)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	u64 cgroup;
	void *task, *files, *fdt, *fds, *file, *mnt, *dentry, *sb, *mnt_root, *s_root;
	void *nsproxy, *task_ns;
	u32 max_fds = 0, task_mntns, file_mntns, s_dev = 0, reason = 0;
	struct bpfd_syscall_args a;
	struct dob_host *host;
	struct dob_record *r;
	int n = 0;

	if (ret < 0 || bpfd_tracer_off(BPFD_TRACER_TYPE))
		return 0;
	/* Host processes are never reported: for them, one lookup is all this costs. */
	if (!bpfd_contained.lookup(&tgid))
		return 0;
	cgroup = bpfd_cgroup_id();
	if (!bpfd_containers.lookup(&cgroup) || bpfd_task_ignored())
		return 0;
	host = bpfd_dob_host_get();
	if (!host)
		return 0;

	task = (void *)bpf_get_current_task();
	files = bpfd_read_ptr(task, BPFD_OFF_TASK_FILES);
	fdt = files ? bpfd_read_ptr(files, BPFD_OFF_FILES_FDT) : NULL;
	if (!fdt)
		return 0;
	BPFD_KGET(max_fds, (char *)fdt + BPFD_OFF_FDTABLE_MAX_FDS);
	if ((u64)ret >= max_fds)
		return 0;
	fds = bpfd_read_ptr(fdt, BPFD_OFF_FDTABLE_FD);
	file = fds ? bpfd_read_ptr((char *)fds + ret * sizeof(void *), 0) : NULL;
	if (!file)
		return 0;
	mnt = bpfd_read_ptr(file, BPFD_OFF_FILE_PATH_MNT);
	dentry = bpfd_read_ptr(file, BPFD_OFF_FILE_PATH_DENTRY);
	if (!mnt || !dentry)
		return 0;

	nsproxy = bpfd_read_ptr(task, BPFD_OFF_TASK_NSPROXY);
	task_ns = nsproxy ? bpfd_read_ptr(nsproxy, BPFD_OFF_NSPROXY_MNT_NS) : NULL;
	task_mntns = bpfd_dob_ns_inum(task_ns);
	file_mntns = bpfd_dob_ns_inum(bpfd_read_ptr((char *)mnt - BPFD_OFF_MOUNT_MNT,
						    BPFD_OFF_MOUNT_NS));
	mnt_root = bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_ROOT);
	sb = bpfd_read_ptr(mnt, BPFD_OFF_VFSMOUNT_SB);
	s_root = sb ? bpfd_read_ptr(sb, BPFD_OFF_SB_ROOT) : NULL;
	if (sb)
		BPFD_KGET(s_dev, (char *)sb + BPFD_OFF_SB_DEV);

	if (task_mntns == host->mntns)
		reason = DOB_HOST_MOUNT_NS;
	else if (file_mntns && file_mntns != task_mntns)
		reason = DOB_FOREIGN_MOUNT_NS;
	else if (s_dev == host->root_dev && mnt_root == s_root)
		reason = DOB_HOST_ROOT_FS;
	else if (mnt_root != s_root && !bpfd_dob_below(dentry, mnt_root))
		reason = DOB_OUTSIDE_MOUNT_ROOT;
	if (!reason)
		return 0;

	r = bpfd_scratch();
	if (!r)
		return 0;
	bpfd_fill(&r->hdr, BPFD_TRACER_TYPE);
	r->hdr.retval = ret;
	r->reason = reason;
	if (compat)
		bpfd_compat_syscall_args(&a);
	else
		bpfd_syscall_args(&a);
	if (name_arg >= 0)
		n = bpfd_read_user_str(r->filename, sizeof(r->filename),
					    (void *)bpfd_syscall_arg(&a, name_arg));
	if (n < 0)
		n = 0;
	r->filename_len = n;
	bpfd_dob_resolve(r, mnt_root, dentry);
	bpfd_submit(r, sizeof(*r), BPFD_TRACER_TYPE);
	return 0;
}

int bpfd_dob_exit_open(struct bpfd_dob_sys_exit *args)
{
	return bpfd_dob_exit(args->ret, 0, 0);
}

int bpfd_dob_exit_openat(struct bpfd_dob_sys_exit *args)
{
	return bpfd_dob_exit(args->ret, 1, 0);
}

int bpfd_dob_exit_openat2(struct bpfd_dob_sys_exit *args)
{
	return bpfd_dob_exit(args->ret, 1, 0);
}

int bpfd_dob_exit_creat(struct bpfd_dob_sys_exit *args)
{
	return bpfd_dob_exit(args->ret, 0, 0);
}

int bpfd_dob_exit_open_by_handle_at(struct bpfd_dob_sys_exit *args)
{
	return bpfd_dob_exit(args->ret, -1, 0);
}

/*
 * The open family through the 32-bit entry (int $0x80, also from a 64-bit
 * process), from the raw sys_exit program (common.bpf.c): the i386
 * numbers of open, openat, openat2, creat and open_by_handle_at
 * (arch/x86/entry/syscalls/syscall_32.tbl), judged like any other open.
 */
static __always_inline int bpfd_dob_compat_exit(long nr, long ret)
{
	int name_arg;

	switch (nr) {
	case 5:		/* open(filename, flags, mode) */
	case 8:		/* creat(filename, mode) */
		name_arg = 0;
		break;
	case 295:	/* openat(dfd, filename, flags, mode) */
	case 437:	/* openat2(dfd, filename, how, size) */
		name_arg = 1;
		break;
	case 342:	/* open_by_handle_at(mount_fd, handle, flags) */
		name_arg = -1;
		break;
	default:
		return 0;
	}
	return bpfd_dob_exit(ret, name_arg, 1);
}

BPFD_COMPAT_PROGRAM(bpfd_dob_compat, bpfd_dob_compat_exit)
