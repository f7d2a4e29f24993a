/*
 * Shared by every tracer program: maps, the record header and the
 * submission path. BCC compiles this once, followed by each tracer's
 * source; tracer functions are named bpfd_<tracer>_<hook> so that they
 * never clash and `bpftool prog` shows whose they are.
 *
 * Struct offsets come from the running kernel's BTF as -DBPFD_OFF_* flags
 * (btf_offsets.c): the headers BCC compiles against may belong to another
 * kernel, so no kernel struct is ever dereferenced through them.
 */
/*
 * No kernel header of its own: BCC's helpers.h brings the types and
 * helpers. <uapi/linux/ptrace.h> (for struct pt_regs) pulled in much of
 * arch/x86's headers, which clang parses three times per compile (BCC's
 * tracepoint, rewriter and code generation passes): ~0.1 s of daemon
 * start. Registers are read at their BTF offsets instead.
 */

/*
 * bpf_probe_read_user() and _str() under names of our own. BCC 0.26's
 * rewriter looks "bpf_probe_read_user" up in /proc/kallsyms at every call
 * of a helper by those names (a fallback for kernels before 5.5, which
 * bpfd's ring buffer rules out anyway), and each look-up rebuilds a hash
 * table of every kernel symbol (bcc_syms.cc, KSyms::resolve_name: the
 * table never reaches the symbol count because names repeat). That cost
 * ~100 ms of daemon start per call site; these names skip the check.
 */
static long (*bpfd_read_user)(void *dst, u32 size, const void *src) =
	(void *)BPF_FUNC_probe_read_user;
static long (*bpfd_read_user_str)(void *dst, u32 size, const void *src) =
	(void *)BPF_FUNC_probe_read_user_str;

#ifndef BPFD_RINGBUF_PAGES
/*
 * 32 MiB: ~300,000 records, enough for the daemon to be kept off the CPU
 * for a good part of a second by producers on every core (three
 * open/close loops on two cores lost ~110,000 events from 8 MiB in one of
 * five runs).
 */
#define BPFD_RINGBUF_PAGES 8192
#endif
#define BPFD_WAKE_BATCH 128		/* wake the reader after this many records ... */
#define BPFD_WAKE_NS 2000000ULL		/* ... or when it has not been woken for 2 ms */

struct bpfd_wake {
	u64 pending;
	u64 last_ns;
};

BPF_RINGBUF_OUTPUT(bpfd_events, BPFD_RINGBUF_PAGES);
/* Records the ring buffer had no room for, per record type. */
BPF_PERCPU_ARRAY(bpfd_lost, u64, BPFD_TRACERS_MAX);
/* Non-zero: the tracer's records are wanted (set by the daemon on start). */
BPF_ARRAY(bpfd_enabled, u32, BPFD_TRACERS_MAX);
/*
 * Processes whose activity is never reported: the daemon and whatever it
 * starts. Children inherit the mark at fork (bpfd_ignore_fork below).
 */
BPF_HASH(bpfd_ignored, u32, u8, 4096);
/* The daemon (record.h, struct bpfd_daemon_info): written by it, never compiled in. */
BPF_ARRAY(bpfd_daemon, struct bpfd_daemon_info, 1);
/* Per CPU: counting records there needs no atomic, and no line shared between CPUs. */
BPF_PERCPU_ARRAY(bpfd_wake_state, struct bpfd_wake, 1);
/*
 * The cgroup2 ids of containers' cgroups. Filled here as cgroups are
 * created (so that a container's first act is judged without waiting for
 * the daemon), then corrected by the daemon, which knows every runtime's
 * naming, and seeded by it at start for cgroups that already exist.
 * Pruned here when a cgroup is removed: anyone who may create cgroups
 * (root, a user with a delegated subtree, root in a container with its own
 * cgroup namespace) would otherwise fill it by churning container-like names.
 */
BPF_HASH(bpfd_containers, u64, u8, 65536);
/*
 * Processes (thread groups, by tgid) that run a program inside a container:
 * they exec'd in a container's cgroup outside the host's mount namespace, or
 * descend from one that did. A runtime's own set-up (runc init, before it
 * execs the container's program) is not marked. One entry per process, not
 * per thread, forgotten when the process's last thread exits.
 */
BPF_HASH(bpfd_contained, u32, u8, 65536);
/* Inserts into the maps above that failed, per CPU (enum bpfd_counted_map). */
BPF_PERCPU_ARRAY(bpfd_map_full, u64, BPFD_MAPS_COUNTED);
/* The prefilters (record.h): per record type, the mode and the drops. */
BPF_ARRAY(bpfd_prefilter, struct bpfd_pf_config, BPFD_TRACERS_MAX);
BPF_PERCPU_ARRAY(bpfd_prefiltered, u64, BPFD_TRACERS_MAX);
BPF_HASH(bpfd_pf_comms, struct bpfd_pf_comm_key, u32, 4096);
BPF_LPM_TRIE(bpfd_pf_paths, struct bpfd_pf_path_key, u32, 16384);
BPF_HASH(bpfd_pf_uids, u32, u32, 4096);
/*
 * Per container cgroup (by cgroup2 id), the record types whose rules on
 * container metadata may match it, written by the daemon once it knows the
 * container's metadata and again when the rules change; removed with the
 * cgroup. No entry: not known yet, the event passes.
 */
BPF_HASH(bpfd_pf_meta, u64, u32, 65536);
BPF_PERCPU_ARRAY(bpfd_pf_key, struct bpfd_pf_path_key, 1);
BPF_HASH(bpfd_pf_idents, struct bpfd_pf_ident_key, struct bpfd_pf_ident, BPFD_PF_IDENTS_MAX);
BPF_ARRAY(bpfd_pf_ident_hint, struct bpfd_pf_ident_hint, 1);

/*
 * bpfd_fill_task()'s results for the last few tasks seen on each CPU: ten
 * kernel reads were most of a record's cost, and one task usually makes
 * many records in a row. An entry holds while
 *  - it is the same task: same task_struct address and tid (a thread that
 *    execs takes its leader's tid) and bpfd_task_gen has not moved, which
 *    it does whenever any task exits, so that a task at a freed task's
 *    address is never taken for it;
 *  - no task has returned from setns() or unshare() since (the generation
 *    moves then too): those are how a running task changes its nsproxy,
 *    hence its mount namespace; its own pid namespace and its process's
 *    start never change while it is the same task (exec's new nsproxy, for
 *    a time namespace, keeps the other namespaces);
 *  - real_parent is the same pointer: reparenting happens in the exiting
 *    parent after its exit tracepoint, so the generation alone would miss
 *    it; a new parent is never at the old one's address while the old one
 *    is still the parent.
 */
#define BPFD_TASK_CACHE_SLOTS 8	/* a power of 2 */
struct bpfd_task_entry {
	u64 task;
	u64 gen;
	u64 real_parent;
	u64 start_ns;
	u32 tid, ppid, mntns, pidns;
};
BPF_PERCPU_ARRAY(bpfd_task_cache, struct bpfd_task_entry, BPFD_TASK_CACHE_SLOTS);
BPF_ARRAY(bpfd_task_gen, u64, 1);

static __always_inline void bpfd_task_gen_bump(void)
{
	u32 zero = 0;
	u64 *gen = bpfd_task_gen.lookup(&zero);

	if (gen)
		__sync_fetch_and_add(gen, 1);
}

/* On the return from setns() and unshare(): see bpfd_task_cache. */
int bpfd_task_ns_changed(void *ctx)
{
	bpfd_task_gen_bump();
	return 0;
}

/* True when the daemon does not want the tracer's records. */
static __always_inline int bpfd_tracer_off(u32 type)
{
	u32 *on = bpfd_enabled.lookup(&type);

	return !on || !*on;
}

/* True for the daemon and what it started: never reported. */
static __always_inline int bpfd_task_ignored(void)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpfd_ignored.lookup(&tgid) != NULL;
}

/*
 * Counts a failed insert into counted map @map: a full map blinds whoever
 * relies on it, so `bpfd status` must be able to say so.
 */
static __always_inline void bpfd_map_failed(u32 map)
{
	u64 *n = bpfd_map_full.lookup(&map);

	if (n)
		(*n)++;
}

/* Marks the thread group @tgid as running inside a container. */
static __always_inline void bpfd_mark_contained(u32 tgid)
{
	u8 one = 1;

	if (bpfd_contained.update(&tgid, &one) < 0)
		bpfd_map_failed(BPFD_MAP_CONTAINED);
}

static __always_inline int bpfd_skip(u32 type)
{
	return bpfd_tracer_off(type) || bpfd_task_ignored();
}

/*
 * Kernel memory by plain loads (bpf/kmem.h): bpfd_kmem(p) is p as read-only
 * untrusted memory (the kfunc bpf_rdonly_cast(p, 0), which the loader
 * patches in for helper number BPFD_KMEM_CALL), whose loads read 0 where
 * nothing is mapped. BPFD_KREAD(type, addr) is the value of @type at
 * kernel address @addr, 0 when unreadable: one load, or without the kfunc
 * a bpf_probe_read_kernel() (15-20 ns a call). BPFD_KGET(dst, addr) reads
 * @dst's type into @dst.
 */
#ifdef BPFD_KMEM_CALL
static const volatile char *(*bpfd_kmem)(const void *p, u32 btf_id) = (void *)BPFD_KMEM_CALL;
#define BPFD_KREAD(type, addr) (*(const volatile type *)bpfd_kmem((const void *)(addr), 0))
#else
#define BPFD_KREAD(type, addr)                                                  \
	({                                                                      \
		type v_ = 0;                                                    \
		bpf_probe_read_kernel(&v_, sizeof(v_), (const void *)(addr));   \
		v_;                                                             \
	})
#endif

#define BPFD_KGET(dst, addr) ((dst) = BPFD_KREAD(__typeof__(dst), addr))

static __always_inline void *bpfd_read_ptr(void *base, long off)
{
	return (void *)BPFD_KREAD(u64, (char *)base + off);
}

/*
 * The id of the task's cgroup in the hierarchy the daemon attributes by:
 * cgroup2's (bpf_get_current_cgroup_id()), or, on a host without one, a v1
 * controller's (task->cgroups->subsys[N]->cgroup->kn->id, with N the
 * controller's index from the kernel's BTF as BPFD_CGROUP_V1_SUBSYS).
 */
static __always_inline u64 bpfd_cgroup_id(void)
{
#ifdef BPFD_CGROUP_V1_SUBSYS
	void *task = (void *)bpf_get_current_task();
	void *cset, *css, *cgrp, *kn;
	u64 id = 0;

	cset = bpfd_read_ptr(task, BPFD_OFF_TASK_CGROUPS);
	css = cset ? bpfd_read_ptr(cset, BPFD_OFF_CSS_SET_SUBSYS +
					     BPFD_CGROUP_V1_SUBSYS * sizeof(void *)) : NULL;
	cgrp = css ? bpfd_read_ptr(css, BPFD_OFF_CSS_CGROUP) : NULL;
	kn = cgrp ? bpfd_read_ptr(cgrp, BPFD_OFF_CGROUP_KN) : NULL;
	if (kn)
		BPFD_KGET(id, (char *)kn + BPFD_OFF_KERNFS_NODE_ID);
	return id;
#else
	return bpf_get_current_cgroup_id();
#endif
}

/*
 * The fields of the record header read through kernel pointers: ppid, the
 * process's start, the mount and pid namespaces (ten reads).
 */
static __always_inline void bpfd_fill_task(struct bpfd_record *r, void *task, void *parent)
{
	void *leader, *nsproxy, *mnt_ns, *pid, *pid_ns;
	u32 level = 0;

	r->ppid = 0;
	if (parent)
		BPFD_KGET(r->ppid, (char *)parent + BPFD_OFF_TASK_TGID);

	r->start_ns = 0;
	leader = bpfd_read_ptr(task, BPFD_OFF_TASK_GROUP_LEADER);
	if (leader)
		BPFD_KGET(r->start_ns, (char *)leader + BPFD_OFF_TASK_START_BOOTTIME);

	r->mntns = 0;
	nsproxy = bpfd_read_ptr(task, BPFD_OFF_TASK_NSPROXY);
	mnt_ns = nsproxy ? bpfd_read_ptr(nsproxy, BPFD_OFF_NSPROXY_MNT_NS) : NULL;
	if (mnt_ns)
		BPFD_KGET(r->mntns, (char *)mnt_ns + BPFD_OFF_MNT_NS_NS_INUM);

	/*
	 * The active pid namespace is the one the task's struct pid was
	 * allocated in: numbers[level].ns. nsproxy->pid_ns_for_children
	 * differs after unshare(CLONE_NEWPID) without a fork.
	 */
	r->pidns = 0;
	pid = bpfd_read_ptr(task, BPFD_OFF_TASK_THREAD_PID);
	if (pid) {
		BPFD_KGET(level, (char *)pid + BPFD_OFF_PID_LEVEL);
		level &= 0x3f;	/* MAX_PID_NS_LEVEL is 32 */
		pid_ns = bpfd_read_ptr(pid, BPFD_OFF_PID_NUMBERS + level * BPFD_UPID_SIZE +
						    BPFD_OFF_UPID_NS);
		if (pid_ns)
			BPFD_KGET(r->pidns, (char *)pid_ns + BPFD_OFF_PID_NS_NS_INUM);
	}
}

static __always_inline void bpfd_fill(struct bpfd_record *r, u32 type)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u64 uid_gid = bpf_get_current_uid_gid();
	void *task = (void *)bpf_get_current_task();
	u32 zero = 0, slot = (u32)pid_tgid & (BPFD_TASK_CACHE_SLOTS - 1);
	u64 *gen = bpfd_task_gen.lookup(&zero);
	struct bpfd_task_entry *c = bpfd_task_cache.lookup(&slot);
	void *parent;
	u64 g;

	r->ktime_ns = bpf_ktime_get_boot_ns();
	r->cgroup_id = bpfd_cgroup_id();
	r->retval = 0;
	r->type = type;
	r->pid = pid_tgid >> 32;
	r->tid = (u32)pid_tgid;
	r->uid = (u32)uid_gid;
	r->gid = uid_gid >> 32;
	bpf_get_current_comm(r->comm, sizeof(r->comm));

	parent = bpfd_read_ptr(task, BPFD_OFF_TASK_REAL_PARENT);
	if (!gen || !c) {
		bpfd_fill_task(r, task, parent);
		return;
	}
	/* Read before the fields: a change meanwhile leaves an entry that no longer matches. */
	g = *(volatile u64 *)gen;
	if (c->task == (u64)task && c->tid == r->tid && c->gen == g &&
	    c->real_parent == (u64)parent) {
		r->ppid = c->ppid;
		r->start_ns = c->start_ns;
		r->mntns = c->mntns;
		r->pidns = c->pidns;
		return;
	}
	bpfd_fill_task(r, task, parent);
	c->task = (u64)task;
	c->tid = r->tid;
	c->gen = g;
	c->real_parent = (u64)parent;
	c->ppid = r->ppid;
	c->start_ns = r->start_ns;
	c->mntns = r->mntns;
	c->pidns = r->pidns;
}

/*
 * The first three arguments of the current task's system call, from the
 * user registers saved at its entry, which a syscall exit still sees
 * intact. This spares tracers an entry program and a map to carry the
 * arguments to the exit. x86-64: rdi, rsi, rdx.
 *
 * bpf_task_pt_regs() returns a pointer the verifier knows the type of
 * (struct pt_regs, from the kernel's BTF): plain loads from it are checked
 * against that type and run as guarded loads, ~25 ns cheaper per call than
 * a bpf_probe_read_kernel() of the three registers. The offsets are the
 * BTF's (BPFD_OFF_PT_REGS_*), whole registers, hence the indexes.
 */
#if BPFD_OFF_PT_REGS_DX % 8 || BPFD_OFF_PT_REGS_SI % 8 || BPFD_OFF_PT_REGS_DI % 8
#error "pt_regs registers are not 8-byte aligned"
#endif
struct bpfd_syscall_args {
	u64 dx, si, di;
};

static __always_inline void bpfd_syscall_args(struct bpfd_syscall_args *a)
{
	volatile u64 *regs = (volatile u64 *)bpf_task_pt_regs(bpf_get_current_task_btf());

	a->dx = regs[BPFD_OFF_PT_REGS_DX / 8];
	a->si = regs[BPFD_OFF_PT_REGS_SI / 8];
	a->di = regs[BPFD_OFF_PT_REGS_DI / 8];
}

/*
 * The record of every syscalls:sys_exit_* tracepoint (their format files:
 * the common fields, then int __syscall_nr and long ret): a tracer with one
 * program for several exits, attached to each, reads the number to tell
 * them apart. One program is compiled and verified once; a program per
 * exit, each inlining the same report, costs that again for every exit.
 */
struct bpfd_sys_exit_args {
	u64 common;		/* common_type, flags, preempt_count, pid */
	long syscall_nr;	/* int __syscall_nr, padded */
	long ret;
};

/*
 * The x86-64 number of the call (arch/x86/entry/syscalls/syscall_64.tbl),
 * an x32 call's without its __X32_SYSCALL_BIT.
 */
static __always_inline long bpfd_sys_exit_nr(const struct bpfd_sys_exit_args *args)
{
	return args->syscall_nr & ~0x40000000L;
}

/*
 * The same for a system call made through the 32-bit entry (int $0x80,
 * also from a 64-bit process, sysenter, a 32-bit program): its arguments
 * are in ebx, ecx, edx, of which the kernel uses the low halves only (a
 * 64-bit process may leave anything in the high ones).
 */
static __always_inline void bpfd_compat_syscall_args(struct bpfd_syscall_args *a)
{
	volatile u64 *regs = (volatile u64 *)bpf_task_pt_regs(bpf_get_current_task_btf());

	a->di = (u32)regs[BPFD_OFF_PT_REGS_BX / 8];
	a->si = (u32)regs[BPFD_OFF_PT_REGS_CX / 8];
	a->dx = (u32)regs[BPFD_OFF_PT_REGS_DX / 8];
}

/*
 * The number of the 32-bit (compat) system call the current task is in, or
 * -1 for any other: the syscalls:* tracepoints never see those (the kernel
 * skips them when in_ia32_syscall()), a raw sys_exit program does, and
 * tells them by the task's TS_COMPAT status bit (arch/x86's
 * in_ia32_syscall(), set at every 32-bit entry and cleared at the return).
 * One load through the task's BTF pointer for a native call: this runs on
 * every system call of the host.
 */
#define BPFD_TS_COMPAT 0x0002
#if BPFD_OFF_TASK_TI_STATUS % 4 || BPFD_OFF_PT_REGS_ORIG_AX % 8
#error "thread_info.status or pt_regs.orig_ax is not aligned"
#endif
static __always_inline long bpfd_compat_syscall_nr(void)
{
	void *task = bpf_get_current_task_btf();
	volatile u64 *regs;

	if (!(((volatile u32 *)task)[BPFD_OFF_TASK_TI_STATUS / 4] & BPFD_TS_COMPAT))
		return -1;
	regs = (volatile u64 *)bpf_task_pt_regs(task);
	return (long)regs[BPFD_OFF_PT_REGS_ORIG_AX / 8];
}

static __always_inline u64 bpfd_syscall_arg(const struct bpfd_syscall_args *a, int n)
{
	return n == 0 ? a->di : n == 1 ? a->si : a->dx;
}

/*
 * The one program on raw_syscalls' sys_exit, for the system calls made
 * through the 32-bit entry, which the syscalls:* tracepoints skip. It runs
 * on every system call of the host, so there is one whichever tracers need
 * it, and a native call costs it one load of the task's status. A compat
 * call is handed on by tail calls to the compat programs of the loaded
 * tracers that have one (BPFD_COMPAT_PROGRAM below), each at the slot of
 * its record type, each handing on to the slots after its own: every
 * program is verified alone (one program running them all in turn was
 * past the verifier's budget), and a slot left empty (a tracer not loaded
 * or without compat program) costs a failed tail call. The loader fills
 * the slots (hooks.c, TRACER_HOOK_TAIL_CALL) and attaches this once.
 */
BPF_PROG_ARRAY(bpfd_compat_progs, BPFD_COMPAT_SLOTS);

static __always_inline void bpfd_compat_chain(void *ctx, u32 after)
{
	u32 i;

#pragma unroll
	for (i = 1; i < BPFD_COMPAT_SLOTS; i++)
		if (i > after)
			bpfd_compat_progs.call(ctx, i);
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
	if (bpfd_compat_syscall_nr() < 0)
		return 0;
	bpfd_compat_chain(ctx, 0);
	return 0;
}

/*
 * A tracer's compat program @name: @handler(nr, ret) for every compat call
 * (it returns at once for a number not its own), then the next tracers'.
 */
#define BPFD_COMPAT_PROGRAM(name, handler)                                              \
	int name(struct bpf_raw_tracepoint_args *ctx)                                   \
	{                                                                               \
		long nr = bpfd_compat_syscall_nr();                                     \
                                                                                        \
		if (nr >= 0)                                                            \
			handler(nr, (long)ctx->args[1]);                                \
		bpfd_compat_chain(ctx, BPFD_TRACER_TYPE);                               \
		return 0;                                                               \
	}

/*
 * Wakes the reader only every BPFD_WAKE_BATCH records or when it has slept
 * for BPFD_WAKE_NS: a wakeup per record costs the traced process more than
 * the tracing itself. The daemon drains the buffer for a while after every
 * wakeup, so a record written without one is read within a few ms.
 */
static __always_inline void bpfd_submit_wake(void *rec, u64 size, u32 type, int wake_now)
{
	u32 zero = 0;
	u64 flags = BPF_RB_NO_WAKEUP;
	struct bpfd_wake *w = bpfd_wake_state.lookup(&zero);

	if (w) {
		u64 now = ((struct bpfd_record *)rec)->ktime_ns;

		if (wake_now || ++w->pending >= BPFD_WAKE_BATCH || now - w->last_ns > BPFD_WAKE_NS) {
			flags = BPF_RB_FORCE_WAKEUP;
			w->pending = 0;
			w->last_ns = now;
		}
	}
	if (bpfd_events.ringbuf_output(rec, size, flags) < 0) {
		u64 *lost = bpfd_lost.lookup(&type);

		if (lost)
			(*lost)++;
	}
}

static __always_inline void bpfd_submit(void *rec, u64 size, u32 type)
{
	bpfd_submit_wake(rec, size, type, 0);
}

static __always_inline struct bpfd_pf_config *bpfd_prefilter_config(u32 type)
{
	return bpfd_prefilter.lookup(&type);
}

static __always_inline u32 bpfd_prefilter_mode(u32 type)
{
	struct bpfd_pf_config *pf = bpfd_prefilter_config(type);

	return pf ? pf->mode : 0;
}

/* True when the prefilter lets the current task's comm through. */
static __always_inline int bpfd_pf_comm_passes(u32 type)
{
	struct bpfd_pf_comm_key k = {};
	u32 *types;

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	types = bpfd_pf_comms.lookup(&k);
	return types && (*types & (1u << (type & 31)));
}

/*
 * The tests that need no file name: the comm, the real uid, being in a
 * container. True when one of those the mode uses lets the event through.
 */
static __always_inline int bpfd_pf_task_passes(u32 type, u32 mode)
{
	u32 bit = 1u << (type & 31), uid, *types;
	u64 cgroup;

	if ((mode & BPFD_PF_COMM) && bpfd_pf_comm_passes(type))
		return 1;
	if (mode & BPFD_PF_UID) {
		uid = (u32)bpf_get_current_uid_gid();
		types = bpfd_pf_uids.lookup(&uid);
		if (types && (*types & bit))
			return 1;
	}
	if (mode & BPFD_PF_CONTAINER) {
		cgroup = bpfd_cgroup_id();
		if (bpfd_containers.lookup(&cgroup))
			return 1;
	}
	if (mode & BPFD_PF_META) {
		cgroup = bpfd_cgroup_id();
		/* Not a container: it has no metadata for a rule to match. */
		if (bpfd_containers.lookup(&cgroup)) {
			types = bpfd_pf_meta.lookup(&cgroup);
			if (!types || (*types & bit))
				return 1;
		}
	}
	return 0;
}

/* True when the prefilter lets the NUL-terminated @path (kernel memory) through. */
static __always_inline int bpfd_pf_path_passes(u32 type, const char *path)
{
	u32 zero = 0, *types;
	struct bpfd_pf_path_key *k = bpfd_pf_key.lookup(&zero);

	if (!k)
		return 1;
	k->prefixlen = BPFD_PF_PATH_MAX * 8;
	bpf_probe_read_kernel(k->path, sizeof(k->path), path);
	types = bpfd_pf_paths.lookup(k);
	return types && (*types & (1u << (type & 31)));
}

/*
 * The same for a path in user memory, read straight into the lookup key:
 * an event the prefilter drops costs no other copy. @pf: the tracer's
 * prefilter, whose lead turns most names away before the trie.
 */
static __always_inline int bpfd_pf_user_path_passes(u32 type, const char *path,
						    const struct bpfd_pf_config *pf)
{
	u32 zero = 0, *types;
	struct bpfd_pf_path_key *k = bpfd_pf_key.lookup(&zero);
	u64 lead;

	if (!k || !pf)
		return 1;
	k->prefixlen = BPFD_PF_PATH_MAX * 8;
	if (!path || bpfd_read_user_str(k->path, sizeof(k->path), path) <= 0)
		k->path[0] = '\0';
	/*
	 * The bytes after the NUL of a short name are a previous name's, but
	 * the lead has no NUL: the name's own NUL, inside the compared bytes,
	 * already differs from it.
	 */
	__builtin_memcpy(&lead, k->path, sizeof(lead));
	if ((lead & pf->lead_mask) != pf->lead)
		return 0;
	types = bpfd_pf_paths.lookup(k);
	return types && (*types & (1u << (type & 31)));
}

/* Counts an event the prefilter dropped. */
static __always_inline void bpfd_prefiltered_out(u32 type)
{
	u64 *n = bpfd_prefiltered.lookup(&type);

	if (n)
		(*n)++;
}

/*
 * Per-CPU room to build a record bigger than the BPF stack allows. It is
 * larger than any record so that lengths can be bounded for the verifier
 * with a mask (BPFD_BOUND) after they were clamped to their real limit.
 */
#define BPFD_SCRATCH_SIZE 65536
/* The empty asm stops the compiler from dropping a mask it can prove redundant. */
#define BPFD_BOUND(x, pow2)                                                                         \
	({                                                                                         \
		u64 __v = (u64)(x);                                                                \
		asm volatile("" : "+r"(__v));                                                      \
		__v & ((pow2) - 1);                                                                \
	})
struct bpfd_scratch {
	char buf[BPFD_SCRATCH_SIZE];
};
/*
 * Indexed by CPU rather than a per-CPU array, whose values are limited to
 * 32 KiB. Tracepoint and uprobe programs do not nest on one CPU (the kernel
 * skips a program while another runs there), so a slot is never shared.
 */
BPF_ARRAY(bpfd_scratch_map, struct bpfd_scratch, BPFD_NR_CPUS);

static __always_inline void *bpfd_scratch(void)
{
	u32 cpu = bpf_get_smp_processor_id();

	return bpfd_scratch_map.lookup(&cpu);
}

TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32;
	u32 child = args->child_pid;
	u8 one = 1;

	if (bpfd_ignored.lookup(&parent) && bpfd_ignored.update(&child, &one) < 0)
		bpfd_map_failed(BPFD_MAP_IGNORED);
	return 0;
}

/*
 * A new process inherits its parent's contained mark; a new thread needs
 * none, its thread group's is looked up. task_newtask, not
 * sched_process_fork: only it says whether the clone made a thread, and it
 * runs before the new task can.
 */
TRACEPOINT_PROBE(task, task_newtask)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32;

	if (!(args->clone_flags & 0x00010000 /* CLONE_THREAD */) &&
	    bpfd_contained.lookup(&parent))
		bpfd_mark_contained(args->pid);
	return 0;
}

/*
 * The process table's records (record.h, struct bpfd_proc_record): every
 * process of the host, not only those some tracer reports, so that an
 * event names the ancestors it descends from even when their own events
 * were never wanted. Off while the daemon keeps no table (ancestors = 0).
 * Processes the daemon ignores (itself, what it starts) are left out.
 */
static __always_inline int bpfd_proc_off(void)
{
	return bpfd_tracer_off(BPFD_RECORD_PROC_FORK) || bpfd_task_ignored();
}

/* The start (ns since boot) of the process whose thread @task is. */
static __always_inline u64 bpfd_proc_start(void *task)
{
	void *leader = task ? bpfd_read_ptr(task, BPFD_OFF_TASK_GROUP_LEADER) : NULL;
	u64 ns = 0;

	if (leader)
		BPFD_KGET(ns, (char *)leader + BPFD_OFF_TASK_START_BOOTTIME);
	return ns;
}

/* The exit of a process's last thread: what the table keeps of it may go. */
static __always_inline void bpfd_proc_exit(void *task, u64 pid_tgid)
{
	struct bpfd_record r;

	if (bpfd_proc_off())
		return;
	__builtin_memset(&r, 0, sizeof(r));
	r.ktime_ns = bpf_ktime_get_boot_ns();
	r.type = BPFD_RECORD_PROC_EXIT;
	r.pid = pid_tgid >> 32;
	r.tid = (u32)pid_tgid;
	r.start_ns = bpfd_proc_start(task);
	bpfd_submit(&r, sizeof(r), BPFD_RECORD_PROC_EXIT);
}

/* True when @tgid is the daemon's process (bpfd_daemon). */
static __always_inline int bpfd_is_daemon(u32 tgid)
{
	u32 zero = 0;
	struct bpfd_daemon_info *d = bpfd_daemon.lookup(&zero);

	return d && d->tgid == tgid;
}

TRACEPOINT_PROBE(sched, sched_process_exit)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u32 tid = (u32)pid_tgid, tgid = pid_tgid >> 32;

	bpfd_task_gen_bump();
#ifdef BPFD_EXIT_GROUP_DEAD
	if (args->group_dead)
		bpfd_proc_exit((void *)bpf_get_current_task(), pid_tgid);
#else
	if (tid == tgid)
		bpfd_proc_exit((void *)bpf_get_current_task(), pid_tgid);
#endif
	/*
	 * Keep the daemon's own mark; forget exited tasks. Looked up first: a
	 * lookup takes no lock, a delete does, and most tasks have no mark
	 * (so bpfd_daemon is read only for the few that have one).
	 */
	if (bpfd_ignored.lookup(&tid) && !bpfd_is_daemon(tid))
		bpfd_ignored.delete(&tid);
	/*
	 * A process's contained mark goes with its last thread (group_dead).
	 * Kernels whose tracepoint lacks the field (6.1) forget it with the
	 * leader: a process whose leader exits before its other threads loses
	 * its mark early there.
	 */
#ifdef BPFD_EXIT_GROUP_DEAD
	if (args->group_dead && bpfd_contained.lookup(&tgid))
		bpfd_contained.delete(&tgid);
#else
	if (tid == tgid && bpfd_contained.lookup(&tgid))
		bpfd_contained.delete(&tgid);
#endif
	return 0;
}

/* True when the 64 bytes of @path ending before @end are lowercase hex. */
static __always_inline int bpfd_hex64_before(const char *path, int end)
{
	int i;

	if (end < 64)
		return 0;
	for (i = 0; i < 64; i++) {
		char c = path[(end - 64 + i) & (BPFD_CGROUP_PATH_MAX - 1)];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

/*
 * True when @path (@len bytes with the NUL) ends in a container id, the
 * 64 hex digits docker, containerd, cri-o and podman name their cgroups by:
 * `/docker/<id>`, `.../<id>` under kubepods, `docker-<id>.scope`,
 * `cri-containerd-<id>.scope`, `crio-<id>.scope`, `libpod-<id>.scope`.
 * Other names (lxc, nspawn) are recognised by the daemon a moment later.
 */
static __always_inline int bpfd_path_has_container_id(const char *path, int len)
{
	int end = len - 1;

	if (end < 64 || end >= BPFD_CGROUP_PATH_MAX)
		return 0;
	if (bpfd_hex64_before(path, end))
		return 1;
	return end > 70 && path[(end - 6) & (BPFD_CGROUP_PATH_MAX - 1)] == '.' &&
	       bpfd_hex64_before(path, end - 6);
}

/*
 * Cgroup creation, so that the daemon knows a cgroup's path before any
 * event from inside it arrives, and still knows it once the cgroup is gone.
 * Only the hierarchy events are attributed by (BPFD_CGROUP_ROOT: 0 for
 * cgroup2): its ids are what bpfd_cgroup_id() returns.
 */
TRACEPOINT_PROBE(cgroup, cgroup_mkdir)
{
	struct bpfd_cgroup_record *r = bpfd_scratch();
	u32 type = BPFD_RECORD_CGROUP_MKDIR;
	u8 one = 1;
	u16 off;
	int len;

	if (!r || args->root != BPFD_CGROUP_ROOT)
		return 0;
	bpfd_fill(&r->hdr, type);
	r->hdr.cgroup_id = args->id;
	off = args->data_loc_path & 0xFFFF;
	len = bpf_probe_read_kernel_str(r->path, sizeof(r->path), (char *)args + off);
	if (len <= 0)
		return 0;
	if (bpfd_path_has_container_id(r->path, len) &&
	    bpfd_containers.update(&r->hdr.cgroup_id, &one) < 0)
		bpfd_map_failed(BPFD_MAP_CONTAINERS);
	/*
	 * Every cgroup is sent, not only the container-like ones: the daemon
	 * recognises runtimes by names this program does not know (lxc,
	 * nspawn), and attributes the events of processes gone by the time it
	 * reads them by these records. Each costs its path's length.
	 */
	if (len > BPFD_CGROUP_PATH_MAX)
		len = BPFD_CGROUP_PATH_MAX;
	bpfd_submit(r, offsetof(struct bpfd_cgroup_record, path) +
			       BPFD_BOUND(len, 2 * BPFD_CGROUP_PATH_MAX),
		    type);
	return 0;
}

/*
 * A removed cgroup is no container any more. Whatever the daemon learned
 * from its path stays in its own bounded cache, for events still queued.
 */
TRACEPOINT_PROBE(cgroup, cgroup_rmdir)
{
	u64 id = args->id;

	if (args->root == BPFD_CGROUP_ROOT && bpfd_containers.lookup(&id)) {
		bpfd_containers.delete(&id);
		bpfd_pf_meta.delete(&id);
	}
	return 0;
}
