// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <dirent.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>

#include "action.h"
#include "bpf/btf_offsets.h"
#include "bpf/kmem.h"
#include "config.h"
#include "container.h"
#include "actions/cgroup.h"
#include "container_meta.h"
#include "daemon/control.h"
#include "ipc.h"
#include "bpf/kheaders.h"
#include "bpf/bpfmap.h"
#include "bpf/loader.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/journal.h"
#include "lib/notify.h"
#include "protocol/replies.h"
#include "daemon/identity.h"
#include "daemon/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/prefilter.h"
#include "daemon/proctable.h"
#include "daemon/rulebook.h"
#include "daemon/server.h"

/*
 * A reload of the drop-in tracers (reload_dropins()): what changed in the
 * tracers directory, compiled by a loader process while the daemon runs
 * the tracers as they are, then switched over at once (apply_dropins()).
 */
enum { DROPIN_RELOAD_TIMEOUT_MS = 120000 };
#define REFUSED_NOTE "its files changed and the new version is refused"

struct dropin_plan {
	struct tracer_ops *ops;	/* the new version; NULL: removed */
	size_t old;		/* the slot of the running version; SIZE_MAX: added */
	size_t slot;		/* the slot the new version takes; SIZE_MAX: none */
	bool compiled;		/* sent to the loader process */
};

struct dropin_reload {
	struct dropin_plan plan[TRACERS_MAX];
	size_t n;
	bool running, again;	/* a loader process works; a SIGHUP came meanwhile */
	struct loader_reload run;
	struct loop_watch watch;
	int64_t started_ms;
	/* The tracers as the loader process must number them, and which to compile. */
	const struct tracer_ops *slots[LOADER_TRACERS_MAX];
	bool compile[LOADER_TRACERS_MAX];
	/* A slot retired at reload N is given again only at a later one (tracer_retire()). */
	uint64_t generation;
	uint64_t retired_at[LOADER_TRACERS_MAX];
};

struct daemon {
	struct daemon_options opts;	/* resolved: command line, config, defaults */
	struct config *start_config;	/* the config read at start (opts point into it) */
	struct config *config;		/* the config in use (SIGHUP rereads it) */
	struct action_set *actions;
	struct action_env action_env;
	struct cgroup_resolver resolver;
	struct access_policy access;
	struct control control;		/* what the control ops see of it */
	struct loop loop;
	struct loader loader;
	struct cgroup_cache *cgroups;
	struct container_meta_cache *container_meta;
	struct proc_table *procs;	/* NULL: ancestors = 0 */
	struct paused_containers *paused;	/* what `pause` froze, for `bpfd resume` */
	struct pipeline pipeline;
	/* What each tracer's start hook made (tracer_ops.start), by tracer index; NULL: none. */
	void *tracer_state[LOADER_TRACERS_MAX];
	bool tracers_dir_default;	/* the default tracers directory: may be missing */
	struct dropin_reload dropins;	/* SIGHUP's reload of the drop-ins */
	struct kernel_offsets offsets;	/* read at start, for what a reload compiles */
	char tracers_dir_abs[PATH_MAX];	/* a relative --tracers-dir, made absolute */
	struct rulebook *rules;
	struct loop_watch rules_watch;	/* inotify on the rules directory */
	int rules_wd;
	struct identity_table identities;	/* the rules' files by identity */
	struct tracer_config tracer_cfg;	/* the tracers' options: config, then command line */
	struct loop_watch identities_watch;	/* its inotify: their directories */
	int64_t reload_at_ms;		/* a reload is due (debounced), 0: none */
	uint32_t prefiltered_tracers;	/* tracer indexes whose in-kernel prefilter is on */
	unsigned int host_mntns;	/* the host's mount namespace inode */
	const char *host_proc;		/* a process in it: tracer_context.host_proc */
	struct server *server;
	struct metrics_server *metrics;	/* NULL: no metrics address */
	int listen_fd;
	struct loop_watch ring;
	struct loop_watch signals;
	int64_t started_ms;
	int64_t ready_ms;
	int64_t last_ring_wake_ms;
	/* Losses already announced in the log, and when the next may be. */
	uint64_t logged_kernel_lost, logged_sub_dropped;
	int64_t loss_log_next_ms;
	bool draining;
	bool ring_more;			/* the last read stopped at RING_BATCH */
	char hostname[256];
	char kheaders_merged[4096];
	char kheaders_used[4096];
	char cgroup_mount[4096];	/* the hierarchy events are attributed by */
	int cgroup_root;		/* its hierarchy id: 0 for cgroup2 */
	int cgroup_subsys;		/* its v1 controller's index, -1 for cgroup2 */
	struct daemon_restart restart;	/* SIGUSR2 and the restart op (restart.h is control.h's) */
	char self[PATH_MAX];		/* the binary as it was started: what a restart runs */
	uint64_t stamp;			/* what the programs were built from (loader_stamp); 0: not known */
	struct loader *old;		/* a predecessor's programs, until new ones replace them */
	struct daemon_kept kept;	/* keep = true (control.h) */
	char keep_dir[PATH_MAX];	/* its pins, in the BPF filesystem */
	char keep_meta[PATH_MAX];	/* what they are */
	char old_names[LOADER_TRACERS_MAX][LOADER_NAME_LEN];
	size_t n_old_names;
};


enum {
	CGROUP_CACHE_CAPACITY = 8192,
	CGROUP_SCAN_MAX = 65536,
	/* After a wakeup, keep reading this long: records may come without one. */
	DRAIN_MS = 10,
	DRAIN_POLL_MS = 4,
	RING_BATCH = 1024,	/* records read before the loop serves other fds */
	RING_BATCH_MS = 20,	/* ... at most for this long */
	TICK_MS = 1000,
	RULES_SETTLE_MS = 100,	/* a change in the rules directory is read this much later */
	TRACERS_WANTED_MAX = 32,
	LOSS_LOG_MS = 10000,	/* losses are logged at most this often */
	/* A daemon that holds the socket while it exits is waited for this long. */
	DYING_WAIT_MS = 10000,
	DYING_POLL_MS = 50,
	PF_EXITING_FLAG = 0x4,	/* include/linux/sched.h: PF_EXITING */
	RESTART_FLUSH_MS = 1000,	/* a restart waits this long for queues to reach clients */
	RESTART_HOLD_MS = 3000,		/* ... and its successor this long for subscribers */
	RESTART_POLL_MS = 20,		/* ... looking this often */
};

#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
#define BPFFS "/sys/fs/bpf"
#define DEFAULT_RULES_DIR "/etc/bpfd/rules"
#define DEFAULT_TRACERS_DIR "/etc/bpfd/tracers.d"

static const char *const default_actions_stdout[] = { "stdout" };

/* Rules judge their action names by the instances this daemon would run. */
static int rule_action_kind(void *set, const char *name, char *why, size_t size)
{
	return action_set_kind(set, name, why, size);
}

/* A rule going into force gets its instances (made now, so that status lists them). */
static void *rule_action_resolve(void *set, const char *name, char *err, size_t size)
{
	return action_set_get(set, name, err, size);
}

/* For nftw's callback: the containers map, the cgroup2 mount's length, failures. */
static int seed_fd = -1;
static size_t seed_mount_len;
static uint64_t seed_failed;

/* BCC finds tracepoints through tracefs; mount it where it is missing. */
static int ensure_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	log_info("mounted tracefs at /sys/kernel/tracing");
	return 0;
}

static int prepare_headers(struct daemon *d)
{
	struct kheaders kh;
	struct utsname u;
	const char *tmp = getenv("TMPDIR");
	int r;

	uname(&u);
	r = kheaders_find("/", u.release, &kh);
	if (r == -ENOENT) {
		log_error("no kernel headers found for kernel %s (looked in /lib/modules and "
			  "/usr/src): install them with `apt-get install %s`",
			  u.release, KHEADERS_PACKAGE);
		return r;
	}
	if (r < 0) {
		log_error("looking for kernel headers: %s", strerror(-r));
		return r;
	}
	if (!kh.exact)
		log_warn("no kernel headers for the running kernel %s: using those of %s (%s); "
			 "tracers read kernel structs through BTF, so this is safe",
			 u.release, kh.release, kh.build);
	snprintf(d->kheaders_used, sizeof(d->kheaders_used), "%s", kh.build);
	r = kheaders_prepare(&kh, tmp && *tmp ? tmp : "/tmp", d->kheaders_merged,
			     sizeof(d->kheaders_merged));
	if (r < 0)
		log_error("preparing kernel headers from %s: %s", kh.build, strerror(-r));
	return r;
}

/* Splits a comma-separated list of tracer names into @names (pointing into @buf). */
static const char *const *parse_tracer_list(const char *list, char *buf, size_t size,
					    const char **names, size_t max)
{
	size_t n = 0;
	char *save, *tok;

	if (!list)
		return NULL;
	snprintf(buf, size, "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok && n + 1 < max; tok = strtok_r(NULL, ", ", &save))
		names[n++] = tok;
	names[n] = NULL;
	return names;
}

/*
 * Whether /proc/2 is kthreadd, a kernel thread (PF_KTHREAD in the flags,
 * field 9 of its stat). Kernel threads run in the initial mount namespace
 * and share pid 1's root (CLONE_FS): the host's, also seen from a
 * container started with --pid=host. In a container's own pid namespace
 * pid 2 is an ordinary process and is not used.
 */
static bool pid2_is_kernel_thread(void)
{
	char buf[512], *p;
	unsigned long flags;
	ssize_t n;
	int fd = open("/proc/2/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* after the comm, which may hold anything */
	/* ") S ppid pgrp session tty_nr tpgid flags" */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x00200000;	/* PF_KTHREAD */
}

/*
 * The host's mount namespace, and a process in it whose /proc entries show
 * the host (tracers look at its root): pid 1 where readable; else kthreadd
 * (pid 1 can be out of reach: in a container without all of pid 1's
 * capabilities, ptrace access to it is refused, while a kernel thread's is
 * not); else the daemon itself (it runs on the host).
 */
static void host_identity(unsigned int *mntns, const char **proc)
{
	bool kthread = pid2_is_kernel_thread();
	struct stat st;

	*mntns = 0;
	*proc = "/proc/self";
	if (stat("/proc/1/ns/mnt", &st) == 0)
		*proc = "/proc/1";
	else if (kthread && stat("/proc/2/ns/mnt", &st) == 0)
		*proc = "/proc/2";
	else if (stat("/proc/self/ns/mnt", &st) < 0)
		return;
	*mntns = (unsigned int)st.st_ino;
}

/*
 * What the kernel's container maps cannot have seen: cgroups that existed
 * before the daemon, and processes already running inside containers.
 */
static int seed_cgroup(const char *fpath, const struct stat *st, int type, struct FTW *ftw)
{
	struct container_info info;
	uint64_t id = st->st_ino;
	uint8_t one = 1;

	(void)ftw;
	if (type == FTW_D && container_from_cgroup_path(fpath + seed_mount_len, &info) &&
	    bpfmap_update(seed_fd, &id, &one, 0) < 0)
		seed_failed++;
	return 0;
}

static void seed_containers(struct daemon *d, const char *cg2)
{
	char path[64], line[4096];
	struct container_info info;
	struct dirent *de;
	struct stat st;
	uint8_t one = 1;
	DIR *proc;
	FILE *f;

	if (!cg2 || d->loader.containers_fd < 0)
		return;
	seed_fd = d->loader.containers_fd;
	seed_mount_len = strlen(cg2);
	seed_failed = 0;
	nftw(cg2, seed_cgroup, 16, FTW_PHYS);
	d->pipeline.map_failed[BPFD_MAP_CONTAINERS] += seed_failed;

	proc = opendir("/proc");
	while (proc && (de = readdir(proc))) {
		uint32_t pid = (uint32_t)strtoul(de->d_name, NULL, 10);

		if (!pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/ns/mnt", pid);
		if (stat(path, &st) < 0 || st.st_ino == d->host_mntns)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "0::", 3) == 0 && container_from_cgroup_path(line, &info)) {
				if (bpfmap_update(d->loader.contained_fd, &pid, &one, 0) < 0)
					d->pipeline.map_failed[BPFD_MAP_CONTAINED]++;
				break;
			}
		}
		if (f)
			fclose(f);
	}
	if (proc)
		closedir(proc);
}

/* The v1 controllers tried, in order, on a host without cgroup2. */
static const char *const v1_controllers[] = { "pids", "memory", "cpu", "cpuacct", "devices",
					       "freezer", "blkio", "cpuset", NULL };

/* Hierarchy id of v1 @controller from /proc/cgroups, or -1. */
static int v1_hierarchy_id(const char *controller)
{
	char line[256], name[64];
	int hier, n, enabled, id = -1;
	FILE *f = fopen("/proc/cgroups", "re");

	/* "#subsys_name hierarchy num_cgroups enabled", then a line each. */
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %d %d %d", name, &hier, &n, &enabled) == 4 &&
		    strcmp(name, controller) == 0 && hier > 0 && enabled)
			id = hier;
	if (f)
		fclose(f);
	return id;
}

/*
 * Whether SIGKILL is pending for process @pid (/proc/PID/status: SigPnd,
 * where the kernel puts a fatal signal for each thread, or ShdPnd): sent,
 * but the process has not run since to start exiting, which on a busy
 * machine takes a while.
 */
static bool sigkill_pending(int pid)
{
	char path[64], line[256];
	unsigned long long pending;
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if ((sscanf(line, "SigPnd: %llx", &pending) == 1 ||
		     sscanf(line, "ShdPnd: %llx", &pending) == 1) &&
		    (pending & (1ULL << (SIGKILL - 1))))
			yes = true;
	}
	fclose(f);
	return yes;
}

/*
 * Whether the daemon listening on @path is on its way out: its pid (the
 * socket's peer credentials are the listener's) is gone or exiting
 * (PF_EXITING in /proc/PID/stat's flags). A daemon killed with SIGKILL
 * keeps its socket, and so answers connect(), until the kernel has
 * released its BPF programs: a second or more.
 */
static bool listener_dying(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char stat_path[64], buf[1024], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0) {
		close(fd);
		return false;	/* a full backlog, another pid namespace: taken as live */
	}
	close(fd);
	snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)cred.pid);
	fd = open(stat_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* "pid (comm) S ppid pgrp session tty tpgid flags": comm may hold spaces. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return p[2] == 'Z' || p[2] == 'X' || (flags & PF_EXITING_FLAG) ||
	       sigkill_pending((int)cred.pid);
}

/*
 * Listens on the configured socket. A daemon already there is waited for
 * (up to DYING_WAIT_MS) while it is dying, so that a restart right after
 * a SIGKILL succeeds; one that lives is refused at once (-EADDRINUSE).
 */
static int listen_once_dead(struct daemon *d)
{
	unsigned int mode = d->config && d->config->daemon.has_socket_mode
				    ? d->config->daemon.socket_mode : 0660;
	int64_t deadline = loop_now_ms() + DYING_WAIT_MS;
	bool said = false;
	int fd;

	for (;;) {
		fd = ipc_listen(d->opts.socket_path, mode);
		if (fd != -EADDRINUSE || loop_now_ms() >= deadline ||
		    !listener_dying(d->opts.socket_path))
			return fd;
		if (!said)
			log_info("%s: the daemon there is exiting: waiting for it (at most %d s)",
				 d->opts.socket_path, DYING_WAIT_MS / 1000);
		said = true;
		usleep(DYING_POLL_MS * 1000);
	}
}

/*
 * The cgroup hierarchy events are attributed by: cgroup2 when mounted (or
 * asked for), else a v1 controller's, whose ids the BPF programs then read
 * from the task's css_set.
 */
static int choose_hierarchy(struct daemon *d, const char *want)
{
	const char *const *c;
	char enumerator[64];
	long subsys;

	if (!want || strcmp(want, "v2") == 0) {
		const char *cg2 = cgroup2_mount_point();

		if (cg2) {
			snprintf(d->cgroup_mount, sizeof(d->cgroup_mount), "%s", cg2);
			d->cgroup_root = 0;
			d->cgroup_subsys = -1;
			return 0;
		}
		if (want) {
			log_error("--cgroup-hierarchy v2: no cgroup2 hierarchy is mounted");
			return -ENOENT;
		}
	}
	for (c = v1_controllers; *c; c++) {
		if (want && strcmp(want, *c) != 0)
			continue;
		snprintf(enumerator, sizeof(enumerator), "%s_cgrp_id", *c);
		d->cgroup_root = v1_hierarchy_id(*c);
		if (d->cgroup_root <= 0 ||
		    !cgroup_v1_mount_point(*c, d->cgroup_mount, sizeof(d->cgroup_mount)) ||
		    btf_enum_value(BTF_VMLINUX, enumerator, &subsys) < 0)
			continue;
		d->cgroup_subsys = (int)subsys;
		log_info("attributing events by the cgroup v1 hierarchy of %s (%s)", *c,
			 d->cgroup_mount);
		return 0;
	}
	if (want)
		log_error("--cgroup-hierarchy %s: not a mounted v1 controller (%s...) nor v2", want,
			  v1_controllers[0]);
	d->cgroup_mount[0] = '\0';
	d->cgroup_root = 0;
	d->cgroup_subsys = -1;
	return want ? -ENOENT : 0;
}

/* A program started in a container: for the tracers that want to know (contained_exec). */
static void contained_exec(void *ctx, int pid)
{
	struct daemon *d = ctx;
	size_t i;

	for (i = 0; i < d->loader.n_tracers; i++)
		if (d->tracer_state[i] && d->loader.tracers[i].ops->contained_exec)
			d->loader.tracers[i].ops->contained_exec(d->tracer_state[i], pid);
}

/* The tracers' start hooks (tracer_ops.start): what they run beside their programs. */
static void start_tracers(struct daemon *d, const struct tracer_config *cfg)
{
	struct tracer_context ctx = { .loop = &d->loop, .cfg = cfg, .host_mntns = d->host_mntns,
				      .host_proc = d->host_proc };
	size_t i;
	int err;

	for (i = 0; i < d->loader.n_tracers; i++) {
		const struct loaded_tracer *t = &d->loader.tracers[i];

		if (!t->ops->start || t->state != TRACER_LOADED)
			continue;
		ctx.uprobe_prog_fd = t->uprobe_prog_fd;
		ctx.map_fds = t->map_fds;
		ctx.n_maps = (size_t)t->n_maps;
		err = t->ops->start(&ctx, &d->tracer_state[i]);
		if (err < 0)
			log_error("tracer %s: starting: %s", t->ops->name, strerror(-err));
		if (d->tracer_state[i] && t->ops->contained_exec)
			d->pipeline.contained_exec = contained_exec;
	}
	d->pipeline.contained_exec_ctx = d;
}

/*
 * Reads at most RING_BATCH records, for at most RING_BATCH_MS, so that
 * clients and timers get their turn however fast events come and however
 * slow each one is to handle; d->ring_more says records were left.
 */
static int consume_ring(struct daemon *d)
{
	struct timespec now;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d->pipeline.batch_deadline_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec +
					(int64_t)RING_BATCH_MS * 1000000;
	d->pipeline.batch_left = RING_BATCH;
	n = loader_ring_consume(&d->loader);
	d->ring_more = n == -EAGAIN;
	return n;
}

/*
 * Reads @l's ring to its end (a restart hands over, a predecessor's
 * programs go), in batches, until @until_ms (loop_now_ms(); 0: no bound).
 */
static void drain_ring(struct daemon *d, struct loader *l, int64_t until_ms)
{
	int n;

	do {
		d->pipeline.batch_deadline_ns = INT64_MAX;
		d->pipeline.batch_left = RING_BATCH;
		n = loader_ring_consume(l);
	} while ((n > 0 || n == -EAGAIN) && (!until_ms || loop_now_ms() < until_ms));
}

static void on_ring(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;

	(void)events;
	d->last_ring_wake_ms = loop_now_ms();
	d->draining = true;
	consume_ring(d);
}

static void watch_rules_dir(struct daemon *d);

static void report_rule_problem(const char *message)
{
	log_error("%s", message);
}

static void daemon_rules_changed(struct daemon *d)
{
	struct prefilter_maps m = { .mode_fd = d->loader.prefilter_fd,
				    .comms_fd = d->loader.pf_comms_fd,
				    .paths_fd = d->loader.pf_paths_fd,
				    .uids_fd = d->loader.pf_uids_fd,
				    .identities = &d->identities,
				    .meta_fd = d->loader.pf_meta_fd,
				    .meta = d->container_meta };
	size_t i;
	int err;

	/* Before the tracers load: daemon_main() comes back here once they have. */
	if (!d->loader.n_tracers || m.mode_fd < 0)
		return;
	d->identities.map_fd = d->loader.pf_idents_fd;
	d->identities.hint_fd = d->loader.pf_ident_hint_fd;
	err = prefilter_apply(&m, d->rules, &d->prefiltered_tracers);
	if (err < 0)
		log_warn("updating the in-kernel prefilters: %s (every event goes to the daemon)",
			 strerror(-err));
	if (d->identities.skipped)
		log_warn("rules name more than %d files: %zu are matched by name only, not by identity",
			 IDENTITY_NAMES_MAX, d->identities.skipped);
	/* Tracers whose prefilter lives in their own maps: each gets its own rules. */
	for (i = 0; i < d->loader.n_tracers; i++) {
		const struct loaded_tracer *t = &d->loader.tracers[i];
		const struct rule **rules;
		size_t k, n = 0;

		if (!t->ops->rules_changed || t->state != TRACER_LOADED)
			continue;
		rules = calloc(rulebook_count(d->rules) + 1, sizeof(*rules));
		if (!rules) {
			log_warn("updating the %s prefilter: out of memory (its events all go to "
				 "the daemon)", t->ops->name);
			continue;
		}
		for (k = 0; k < rulebook_count(d->rules); k++) {
			const struct rule *r = rulebook_at(d->rules, k, NULL);

			if (rule_tracer(r) == i)
				rules[n++] = r;
		}
		err = t->ops->rules_changed(t->map_fds, rules, n, i);
		free(rules);
		if (err > 0)
			d->prefiltered_tracers |= 1u << i;
		else if (err < 0)
			log_warn("updating the %s prefilter: %s (its events all go to the daemon)",
				 t->ops->name, strerror(-err));
	}
}

/* The control ops' way to say the rules changed (create_rule, remove_rule). */
static void rules_changed(void *owner)
{
	daemon_rules_changed(owner);
}

static void reload_rules(struct daemon *d)
{
	d->reload_at_ms = 0;
	if (rulebook_reload(d->rules)) {
		log_info("rules: %zu active", rulebook_count(d->rules));
		daemon_rules_changed(d);
	}
	watch_rules_dir(d);
}

/*
 * Watches the rules directory so that adding, changing or deleting a file
 * takes effect at once. Every change schedules one re-read of the whole
 * directory a moment later: an editor's or a ConfigMap's update is several
 * events (ConfigMaps swap a `..data` symlink), and a file is read whole.
 */
static void watch_rules_dir(struct daemon *d)
{
	uint32_t mask = IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
			IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

	if (d->rules_watch.fd < 0 || d->rules_wd >= 0 || !d->opts.rules_dir)
		return;
	d->rules_wd = inotify_add_watch(d->rules_watch.fd, d->opts.rules_dir, mask);
}

static void on_rules_dir(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	char *p;

	(void)events;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(struct inotify_event) +
						((struct inotify_event *)p)->len) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			/* The directory itself went away: watch again when it is back. */
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
				d->rules_wd = -1;
		}
	}
	d->reload_at_ms = loop_now_ms() + RULES_SETTLE_MS;
}

/* A directory holding a file the rules name changed: the file may be another now. */
static void on_identities(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	int err;

	(void)events;
	err = identity_on_inotify(&d->identities);
	if (err < 0)
		log_warn("updating the rules' files by identity: %s", strerror(-err));
}

static void setup_rules(struct daemon *d)
{
	int fd, err;
	struct rulebook_actions actions = { .kind = rule_action_kind,
					    .resolve = rule_action_resolve, .ctx = d->actions };

	d->rules_wd = -1;
	d->rules = rulebook_new(d->opts.rules_dir, &actions, report_rule_problem);
	if (!d->rules)
		return;
	if (d->config)
		rulebook_set_max_rules(d->rules, d->config->daemon.max_rules);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d->rules_watch = (struct loop_watch){ .fd = fd, .fn = on_rules_dir, .ctx = d };
	if (fd >= 0 && loop_add(&d->loop, &d->rules_watch, EPOLLIN) < 0) {
		close(fd);
		d->rules_watch.fd = -1;
	}
	/* Quietly: the line below says how many rules the daemon starts with. */
	rulebook_reload(d->rules);
	watch_rules_dir(d);
	if (d->opts.rules_dir && access(d->opts.rules_dir, F_OK) < 0)
		log_info("rules directory %s does not exist (yet): no rules", d->opts.rules_dir);
	else
		log_info("rules: %zu active from %s", rulebook_count(d->rules), d->opts.rules_dir);
	d->pipeline.rules = d->rules;
	/* Without inotify, files are known by the identity they had when the rules changed. */
	err = identity_init(&d->identities);
	if (err < 0)
		log_warn("watching the directories of the rules' files: %s", strerror(-err));
	d->identities_watch = (struct loop_watch){ .fd = d->identities.inotify_fd,
						   .fn = on_identities, .ctx = d };
	if (d->identities_watch.fd >= 0)
		loop_add(&d->loop, &d->identities_watch, EPOLLIN);
	d->pipeline.identities = &d->identities;
}

/* Reads the config: 0 and *@out (NULL when the default file does not exist). */
static int read_config(const struct daemon_options *o, struct config **out)
{
	char err[CONFIG_ERROR_MAX];
	int r;

	*out = NULL;
	if (!o->config_path)
		return 0;
	r = config_load(o->config_path, NULL, 0, action_config_check, NULL, out, err);
	if (r == -ENOENT && !o->config_explicit)
		return 0;
	if (r < 0)
		log_error("%s", err);
	return r;
}

/*
 * The journal, when the config says so or systemd connected the daemon's
 * output to it (lib/journal.h): before anything else is logged, and while
 * the daemon has one thread. -1 when `journal = on` cannot be had.
 */
static int open_journal(struct daemon *d)
{
	enum journal_mode mode = d->config ? d->config->daemon.journal : JOURNAL_AUTO;
	char err[256];
	int r = journal_open(mode, err, sizeof(err));

	if (r < 0 && mode == JOURNAL_ON) {
		log_error("journal = on: %s", err);
		return -1;
	}
	if (r < 0)
		log_warn("standard output is the journal, but %s: writing to it as a stream", err);
	return 0;
}

/* "alice, 1001" into ids: names through passwd/group, numbers as they are. */
static size_t resolve_ids(const char *list, bool users, unsigned int *out, size_t max)
{
	char buf[1024], *save, *tok, *end;
	size_t n = 0;

	if (!list)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok && n < max; tok = strtok_r(NULL, ", ", &save)) {
		unsigned long v = strtoul(tok, &end, 10);

		if (*tok && !*end) {
			out[n++] = (unsigned int)v;
		} else if (users && getpwnam(tok)) {
			out[n++] = getpwnam(tok)->pw_uid;
		} else if (!users && getgrnam(tok)) {
			out[n++] = getgrnam(tok)->gr_gid;
		} else {
			log_warn("%s: no such %s: ignored", tok, users ? "user" : "group");
		}
	}
	return n;
}

/* The settings that apply at once, at start and on SIGHUP. */
static void apply_config(struct daemon *d)
{
	const struct config_daemon *c = d->config ? &d->config->daemon : NULL;

	if (!d->opts.debug)
		log_max_level = c && c->has_log_level ? c->log_level : LOG_LVL_INFO;
	d->action_env.output = c ? c->output : CONFIG_OUTPUT_TEXT;
	d->access.n_admin_uids = resolve_ids(c ? c->admin_users : NULL, true,
					     d->access.admin_uids, ACCESS_IDS_MAX);
	d->access.n_admin_gids = resolve_ids(c ? c->admin_groups : NULL, false,
					     d->access.admin_gids, ACCESS_IDS_MAX);
	if (d->server) {
		server_set_queue_max(d->server, c && c->subscriber_queue_bytes
							 ? c->subscriber_queue_bytes
							 : SERVER_QUEUE_MAX);
		server_set_timeouts(d->server, c ? c->client_stall_ms : 0,
				    c ? c->client_frame_ms : 0, c ? c->client_idle_ms : 0);
	}
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * Makes the instances the config names (its sections, default_actions),
 * so that status shows them and a broken one is reported now, and hands
 * the pipeline the default actions resolved (instances live as long as
 * the set: the event path never looks them up by name).
 */
static void instantiate_actions(struct daemon *d)
{
	const struct config_daemon *c = d->config ? &d->config->daemon : NULL;
	const char *const *names = default_actions_stdout;
	size_t i, n_names = 1;
	char err[CONFIG_ERROR_MAX];
	struct action *a;

	for (i = 0; d->config && i < d->config->n_sections; i++) {
		a = action_set_get(d->actions, d->config->sections[i].name, err, sizeof(err));
		if (a && !action_usable(a))
			log_error("%s:%d: action %s: %s", d->config->path,
				  d->config->sections[i].line, a->name, err);
	}
	if (c && c->has_default_actions) {
		names = (const char *const *)c->default_actions;
		n_names = c->n_default_actions;
	}
	d->pipeline.n_default_actions = 0;
	for (i = 0; i < n_names && i < PIPELINE_DEFAULT_ACTIONS_MAX; i++) {
		a = action_set_get(d->actions, names[i], err, sizeof(err));
		if (a && !action_usable(a))
			log_error("default action %s: %s", a->name, err);
		if (a)
			d->pipeline.default_actions[d->pipeline.n_default_actions++] = a;
	}
}

/* SIGHUP: a bad config is reported and the one in use stays. */
/* Whether two configs give the tracers' options the same values. */
static bool same_tracer_options(const struct tracer_config *a, const struct tracer_config *b)
{
	const struct tracer_option *o;
	size_t i;

	for (i = 0; i < tracer_count; i++)
		for (o = tracer_table[i]->options; o && o->name; o++)
			if (!same(tracer_config_get(a, o->name), tracer_config_get(b, o->name)))
				return false;
	return true;
}

static void reload_config(struct daemon *d)
{
	const struct config_daemon *was, *now;
	struct config *cfg;
	char names[256];

	if (read_config(&d->opts, &cfg) < 0) {
		log_error("config not reloaded: keeping the settings in use");
		return;
	}
	if (cfg && d->start_config) {
		was = &d->start_config->daemon;
		now = &cfg->daemon;
		if (!same(was->socket, now->socket) || !same(was->rules_dir, now->rules_dir) ||
		    !same(was->tracers, now->tracers) ||
		    !same(was->tracers_dir, now->tracers_dir) ||
		    !same_tracer_options(&was->tracer_cfg, &now->tracer_cfg) ||
		    !same(was->cgroup_hierarchy, now->cgroup_hierarchy) ||
		    was->ring_buffer_bytes != now->ring_buffer_bytes ||
		    was->socket_mode != now->socket_mode ||
		    !same(was->socket_group, now->socket_group) ||
		    was->compat_syscalls != now->compat_syscalls ||
		    (was->has_kernel_loads && !was->kernel_loads) !=
			    (now->has_kernel_loads && !now->kernel_loads) ||
		    was->has_ancestors != now->has_ancestors || was->ancestors != now->ancestors ||
		    was->process_table_size != now->process_table_size ||
		    was->journal != now->journal)
			log_warn("config: socket, rules_dir, tracers, tracers_dir, "
				 "%scgroup_hierarchy, "
				 "ring_buffer_size, compat_syscalls, kernel_loads, ancestors, "
				 "process_table_size, "
				 "journal and socket settings take effect at the next start",
				 tracer_option_names(names, sizeof(names)));
		if (!same(was->metrics.address, now->metrics.address) ||
		    !same(was->metrics.tls_cert, now->metrics.tls_cert) ||
		    !same(was->metrics.tls_key, now->metrics.tls_key) ||
		    !same(was->metrics.token_file, now->metrics.token_file) ||
		    was->metrics.insecure != now->metrics.insecure ||
		    was->metrics.timeout_ms != now->metrics.timeout_ms)
			log_warn("config: the metrics settings take effect at the next start (the "
				 "token, certificate and key files are read then too)");
	}
	action_set_reconfigure(d->actions, cfg);
	if (d->config != d->start_config)
		config_free(d->config);
	d->config = cfg;
	apply_config(d);
	instantiate_actions(d);
	rulebook_set_max_rules(d->rules, cfg ? cfg->daemon.max_rules : 0);
	log_info("config %s reloaded", cfg ? cfg->path : "(none)");
}

static void report_dropin(const char *message)
{
	log_error("%s", message);
}

/*
 * The drop-in tracers (tracer_load_dropins()): each one refused is logged
 * and shown failed. A tracers directory anyone but root may write (or
 * that cannot be read) is refused whole: the daemon runs the built-in
 * tracers without any drop-in, rather than not watching at all.
 */
static void load_dropins(struct daemon *d)
{
	char err[1024];
	size_t before = tracer_count;
	int r;

	/* Absolute: the compiler's messages name the files by it; the loader reads it. */
	if (d->opts.tracers_dir[0] != '/') {
		if (!realpath(d->opts.tracers_dir, d->tracers_dir_abs)) {
			log_error("tracers directory %s: %s; no drop-in tracer is loaded",
				  d->opts.tracers_dir, strerror(errno));
			d->opts.tracers_dir = NULL;
			return;
		}
		d->opts.tracers_dir = d->tracers_dir_abs;
	}
	r = tracer_load_dropins(d->opts.tracers_dir, d->tracers_dir_default, report_dropin, err,
				sizeof(err));
	if (r < 0) {
		log_error("%s; no drop-in tracer is loaded", err);
		d->opts.tracers_dir = NULL;
		return;
	}
	if (tracer_count > before)
		log_info("drop-in tracers: %zu from %s", tracer_count - before,
			 d->opts.tracers_dir);
}

/* Command line first, then the config, then the defaults. */
static void resolve_options(struct daemon *d)
{
	const struct config_daemon *c = d->start_config ? &d->start_config->daemon : NULL;
	struct daemon_options *o = &d->opts;
	size_t i;

	if (!o->socket_path)
		o->socket_path = c && c->socket ? c->socket : IPC_DEFAULT_SOCKET;
	if (!o->rules_dir)
		o->rules_dir = c && c->rules_dir ? c->rules_dir : DEFAULT_RULES_DIR;
	/* Only the default may be missing: a directory named must be there. */
	d->tracers_dir_default = !o->tracers_dir && !(c && c->tracers_dir);
	if (!o->tracers_dir)
		o->tracers_dir = c && c->tracers_dir ? c->tracers_dir : DEFAULT_TRACERS_DIR;
	if (!o->tracers && c)
		o->tracers = c->tracers;
	/* The tracers' options: the config's, then the command line's over them. */
	if (c)
		d->tracer_cfg = c->tracer_cfg;
	for (i = 0; i < o->tracer_cfg.n_settings; i++)
		tracer_config_set(&d->tracer_cfg, o->tracer_cfg.settings[i].name,
				  o->tracer_cfg.settings[i].value);
	if (!o->cgroup_hierarchy && c)
		o->cgroup_hierarchy = c->cgroup_hierarchy;
}

/* The socket's group: `socket_group`, else `bpfd` when that group exists. */
static void socket_group(struct daemon *d, const char *path, const char *group)
{
	struct group *gr = getgrnam(group ? group : "bpfd");

	if (!gr) {
		if (group)
			log_warn("socket_group %s: no such group; %s stays root's only", group,
				 path);
		return;
	}
	if (chown(path, 0, gr->gr_gid) < 0) {
		log_warn("%s: cannot give it to group %s: %s", path, gr->gr_name,
			 strerror(errno));
		return;
	}
	d->access.has_read_gid = true;
	d->access.read_gid = gr->gr_gid;
}


/* ---- Reloading the drop-in tracers (docs/writing-a-tracer.md, "Reload") ---- */

struct dropin_scan {
	struct tracer_ops *ops[TRACERS_MAX];
	size_t n;
};

/* Takes the scanned drop-in named @name out of @sc; NULL when there is none. */
static struct tracer_ops *scan_take(struct dropin_scan *sc, const char *name)
{
	struct tracer_ops *ops;
	size_t i;

	for (i = 0; i < sc->n; i++) {
		ops = sc->ops[i];
		if (ops && strcmp(ops->name, name) == 0) {
			sc->ops[i] = NULL;
			return ops;
		}
	}
	return NULL;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether drop-in @b, read now, is @a as it runs: the same program, record and fate. */
static bool same_dropin(const struct tracer_ops *a, const struct tracer_ops *b)
{
	return same_text(a->bpf_source, b->bpf_source) && same_text(a->failed, b->failed) &&
	       same_text(a->source_path, b->source_path);
}

/*
 * A slot for a new drop-in: one retired at an earlier reload, whose programs
 * are detached and whose records were read long since, else the next free.
 * SIZE_MAX when every record type is taken.
 */
static size_t free_slot(struct daemon *d, size_t *next)
{
	struct dropin_reload *rl = &d->dropins;
	size_t i, k;

	for (i = tracer_builtin_count; i < tracer_count; i++) {
		bool taken = false;

		if (!tracer_retired(i) || rl->retired_at[i] >= rl->generation ||
		    d->loader.tracers[i].n_links)
			continue;
		for (k = 0; k < rl->n; k++)
			taken |= rl->plan[k].slot == i;
		if (!taken)
			return i;
	}
	if (*next >= TRACERS_MAX || *next >= LOADER_TRACERS_MAX)
		return SIZE_MAX;
	return (*next)++;
}

/* Whether --tracers (or `tracers`) lets drop-in @name run. */
static bool dropin_wanted(struct daemon *d, const char *name)
{
	const char *names[TRACERS_WANTED_MAX];
	const char *const *wanted;
	char buf[1024];

	wanted = parse_tracer_list(d->opts.tracers, buf, sizeof(buf), names, TRACERS_WANTED_MAX);
	for (; wanted && *wanted; wanted++)
		if (strcmp(*wanted, name) == 0)
			return true;
	return !wanted;
}

/* Puts @ops in @slot of the tracer table (a retired one, or the next). 0 or -errno. */
static int place(size_t slot, struct tracer_ops *ops)
{
	const struct tracer_ops *was;

	if (slot == tracer_count)
		return tracer_register(ops);
	was = tracer_reuse(slot, ops);
	if (!was)
		return -EBUSY;
	tracer_dropin_free((struct tracer_ops *)was);
	return 0;
}

/* Takes the running slot @index out of use: its programs detached, its name free. */
static void retire_slot(struct daemon *d, size_t index)
{
	tracer_retire(index);
	loader_release_slot(&d->loader, index);
	d->dropins.retired_at[index] = d->dropins.generation;
}

/*
 * Switches to what the reload planned, at once: removed drop-ins detached,
 * new ones switched on, a changed one's new version on before its old one
 * off (no blind moment; an event in between may be reported twice). A new
 * version that failed leaves the running one in place. @res is the loader
 * process's result, NULL when it failed with @why.
 */
static void apply_dropins(struct daemon *d, struct loader *res, const char *why)
{
	struct dropin_reload *rl = &d->dropins;
	size_t i;

	/* The programs are no longer one build of one request: a restart compiles afresh. */
	d->stamp = 0;
	d->kept.repin = true;
	for (i = 0; i < rl->n; i++) {
		struct dropin_plan *p = &rl->plan[i];
		const char *name = p->ops ? p->ops->name : tracer_table[p->old]->name;
		struct loaded_tracer *t;
		bool ok;

		if (!p->ops) {
			retire_slot(d, p->old);
			log_info("drop-in %s removed", name);
			continue;
		}
		ok = p->compiled && res && res->tracers[p->slot].state == TRACER_LOADED;
		if (p->old != SIZE_MAX && !ok) {
			const char *err = p->ops->failed ? p->ops->failed :
					  p->slot == SIZE_MAX ? "no record type is left (restart "
								"the daemon)" :
					  res ? res->tracers[p->slot].error : why;

			log_error("drop-in %s: its new version is refused, the running one stays: "
				  "%s", name, err);
			snprintf(d->loader.tracers[p->old].note, LOADER_ERR_LEN, "%s: %s",
				 REFUSED_NOTE, err);
			tracer_dropin_free(p->ops);
			continue;
		}
		if (p->slot == SIZE_MAX) {
			log_error("drop-in %s: refused: bpfd runs at most %d tracers", name,
				  (int)TRACERS_MAX);
			tracer_dropin_free(p->ops);
			continue;
		}
		if (p->old != SIZE_MAX)
			tracer_retire(p->old);
		if (place(p->slot, p->ops) < 0) {
			log_error("drop-in %s: no slot for it", name);
			tracer_dropin_free(p->ops);
			continue;
		}
		t = &d->loader.tracers[p->slot];
		if (res && p->compiled) {
			loader_take_slot(&d->loader, res, p->slot);
		} else {
			loader_release_slot(&d->loader, p->slot);
			t->ops = p->ops;
			t->note[0] = '\0';
			t->state = p->ops->failed || p->compiled ? TRACER_FAILED : TRACER_DISABLED;
			snprintf(t->error, sizeof(t->error), "%s",
				 p->ops->failed ? p->ops->failed : p->compiled ? why : "");
			if (p->slot >= d->loader.n_tracers)
				d->loader.n_tracers = p->slot + 1;
		}
		memset(&d->pipeline.counters[p->slot], 0, sizeof(d->pipeline.counters[p->slot]));
		if (ok && loader_set_enabled(&d->loader, p->slot, true) < 0)
			log_error("drop-in %s: switching it on failed", name);
		if (p->old != SIZE_MAX)
			retire_slot(d, p->old);
		if (ok)
			log_info("drop-in %s %s", name, p->old != SIZE_MAX ? "replaced" : "loaded");
		else if (t->state == TRACER_FAILED)
			log_error("drop-in %s refused: %s", name, t->error);
	}
	rl->n = 0;
	rulebook_tracers_changed(d->rules);
	log_info("rules: %zu active", rulebook_count(d->rules));
	daemon_rules_changed(d);
	watch_rules_dir(d);
}

static void reload_dropins(struct daemon *d);

/* The loader process of a reload is done (or gone): switch over. */
static void on_dropin_reload(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	struct dropin_reload *rl = &d->dropins;
	struct loader *res = calloc(1, sizeof(*res));
	char err[2048] = "out of memory";
	int r = -ENOMEM;

	(void)events;
	loop_remove(&d->loop, &rl->watch);
	if (res)
		r = loader_reload_finish(&rl->run, res, err, sizeof(err));
	else
		loader_reload_abort(&rl->run);
	kheaders_cleanup(d->kheaders_merged);
	d->kheaders_merged[0] = '\0';
	if (r < 0)
		log_error("reloading drop-in tracers: %s", err);
	else
		log_info("drop-in tracers compiled in %.0f ms", res->compile_ms);
	apply_dropins(d, r < 0 ? NULL : res, err);
	if (res) {
		loader_unload(res);
		free(res);
	}
	rl->running = false;
	if (rl->again) {
		rl->again = false;
		reload_dropins(d);
	}
}

/* A reload's loader process that never finishes is stopped. */
static void check_dropin_reload(struct daemon *d, int64_t now)
{
	struct dropin_reload *rl = &d->dropins;

	if (!rl->running || now - rl->started_ms < DROPIN_RELOAD_TIMEOUT_MS)
		return;
	loop_remove(&d->loop, &rl->watch);
	loader_reload_abort(&rl->run);
	kheaders_cleanup(d->kheaders_merged);
	d->kheaders_merged[0] = '\0';
	log_error("reloading drop-in tracers: the loader process ran %d s; stopped",
		  DROPIN_RELOAD_TIMEOUT_MS / 1000);
	apply_dropins(d, NULL, "the compile took too long");
	rl->running = false;
}

/* Says which drop-ins a reload compiles (and so, which it leaves alone). */
static void log_compiling(const struct dropin_reload *rl)
{
	char names[1024] = "";
	size_t i, o = 0;

	for (i = 0; i < rl->n && o < sizeof(names); i++)
		if (rl->plan[i].compiled)
			o += snprintf(names + o, sizeof(names) - o, "%s%s", o ? ", " : "",
				      rl->plan[i].ops->name);
	log_info("drop-in tracers: compiling %s; the others run on as they are", names);
}

/* Starts the loader process on what the plan compiles; false when none is needed. */
static bool compile_dropins(struct daemon *d)
{
	struct dropin_reload *rl = &d->dropins;
	struct loader_request req;
	size_t i, n_slots = tracer_count;
	char err[2048];
	bool any = false;

	memset(rl->compile, 0, sizeof(rl->compile));
	for (i = 0; i < tracer_count; i++)
		rl->slots[i] = tracer_table[i];
	for (i = 0; i < rl->n; i++) {
		struct dropin_plan *p = &rl->plan[i];

		if (!p->compiled)
			continue;
		rl->slots[p->slot] = p->ops;
		rl->compile[p->slot] = true;
		if (p->slot >= n_slots)
			n_slots = p->slot + 1;
		any = true;
	}
	if (!any)
		return false;
	if (prepare_headers(d) < 0) {
		apply_dropins(d, NULL, "no kernel headers to compile with");
		return true;
	}
	req = (struct loader_request){ .cfg = &d->tracer_cfg, .offsets = &d->offsets,
				       .daemon = getpid(), .cgroup_root = d->cgroup_root,
				       .cgroup_v1_subsys = d->cgroup_subsys,
				       .tracers_dir = d->opts.tracers_dir, .slots = rl->slots,
				       .n_slots = n_slots, .compile = rl->compile };
	if (d->config && d->config->daemon.ring_buffer_bytes)
		req.ringbuf_pages = d->config->daemon.ring_buffer_bytes / 4096;
	if (loader_reload_start(&d->loader, &req, &rl->run, err, sizeof(err)) < 0) {
		kheaders_cleanup(d->kheaders_merged);
		d->kheaders_merged[0] = '\0';
		log_error("reloading drop-in tracers: %s", err);
		apply_dropins(d, NULL, err);
		return true;
	}
	rl->watch = (struct loop_watch){ .fd = rl->run.sock, .fn = on_dropin_reload, .ctx = d };
	if (loop_add(&d->loop, &rl->watch, EPOLLIN) < 0) {
		loader_reload_abort(&rl->run);
		apply_dropins(d, NULL, "watching the loader process failed");
		return true;
	}
	rl->running = true;
	rl->started_ms = loop_now_ms();
	log_compiling(rl);
	return true;
}

/*
 * SIGHUP: the tracers directory read again and compared with the drop-ins
 * running. Unchanged ones are left alone (not recompiled); removed ones are
 * detached; added and changed ones are compiled by a loader process while
 * the daemon goes on, then switched over (apply_dropins()), and the rules
 * are read again against the tracers as they are then. Without a change,
 * only the rules are read again.
 */
static void reload_dropins(struct daemon *d)
{
	struct dropin_reload *rl = &d->dropins;
	struct dropin_scan sc = { .n = 0 };
	struct tracer_ops *now;
	char err[1024];
	size_t i, next = tracer_count;

	if (rl->running) {
		rl->again = true;
		return;
	}
	if (!d->opts.tracers_dir || !d->loader.n_shared) {
		reload_rules(d);
		return;
	}
	if (tracer_read_dropins(d->opts.tracers_dir, d->tracers_dir_default, report_dropin,
				sc.ops, TRACERS_MAX, &sc.n, err, sizeof(err)) < 0) {
		log_error("%s; the drop-ins run as they are", err);
		reload_rules(d);
		return;
	}
	rl->n = 0;
	rl->generation++;
	for (i = tracer_builtin_count; i < tracer_count; i++) {
		if (tracer_retired(i))
			continue;
		now = scan_take(&sc, tracer_table[i]->name);
		if (now && same_dropin(tracer_table[i], now)) {
			tracer_dropin_free(now);
			/* Back to the version that runs: a refusal of another is old news. */
			if (strncmp(d->loader.tracers[i].note, REFUSED_NOTE, strlen(REFUSED_NOTE)) == 0)
				d->loader.tracers[i].note[0] = '\0';
			continue;
		}
		rl->plan[rl->n++] = (struct dropin_plan){ .ops = now, .old = i, .slot = SIZE_MAX };
	}
	for (i = 0; i < sc.n; i++) {
		if (!sc.ops[i])
			continue;
		if (rl->n == TRACERS_MAX) {
			tracer_dropin_free(sc.ops[i]);
			continue;
		}
		rl->plan[rl->n++] = (struct dropin_plan){ .ops = sc.ops[i], .old = SIZE_MAX,
							  .slot = SIZE_MAX };
	}
	if (!rl->n) {
		reload_rules(d);
		return;
	}
	for (i = 0; i < rl->n; i++) {
		struct dropin_plan *p = &rl->plan[i];

		/* A changed one that cannot load keeps its running version: no slot. */
		if (!p->ops || (p->ops->failed && p->old != SIZE_MAX))
			continue;
		p->slot = free_slot(d, &next);
		p->compiled = p->slot != SIZE_MAX && !p->ops->failed &&
			      dropin_wanted(d, p->ops->name);
	}
	if (!compile_dropins(d))
		apply_dropins(d, NULL, "");
}

static void daemon_request_restart(struct daemon *d)
{
	if (d->restart.requested)
		return;
	d->restart.requested = true;
	d->restart.requested_ms = loop_now_ms();
	d->loop.stop = true;
}

static void request_restart(void *owner)
{
	log_info("restart requested: the programs handed over");
	daemon_request_restart(owner);
}

static void on_signal(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = w->ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_info("signal %d: stopping", (int)si.ssi_signo);
			d->loop.stop = true;
			break;
		case SIGUSR2:
			log_info("SIGUSR2: restarting, the programs handed over");
			daemon_request_restart(d);
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading the config and the rules, reopening files");
			notify_send("RELOADING=1");
			reload_config(d);
			action_set_reopen(d->actions);
			/* The rules follow the drop-ins, which they name. */
			reload_dropins(d);
			notify_send("READY=1");
			break;
		}
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	d->signals = (struct loop_watch){ .fd = fd, .fn = on_signal, .ctx = d };
	return loop_add(&d->loop, &d->signals, EPOLLIN);
}

/* The process table, unless `ancestors = 0` wants none: 0 or -ENOMEM. */
static int init_process_table(struct daemon *d)
{
	const struct config_daemon *c = d->config ? &d->config->daemon : NULL;
	size_t depth = c && c->has_ancestors ? c->ancestors : PROC_ANCESTORS_DEFAULT;

	if (!depth)
		return 0;
	d->procs = malloc(sizeof(*d->procs));
	if (!d->procs || proc_table_init(d->procs, c ? c->process_table_size : 0) < 0) {
		free(d->procs);
		d->procs = NULL;
		return -ENOMEM;
	}
	d->pipeline.procs = d->procs;
	d->pipeline.ancestors = depth;
	return 0;
}

/*
 * The kernel's fork, exec and exit records first, then the processes
 * already running from /proc: none falls in between (a record of a process
 * also found in /proc changes nothing the table already has, or brings it
 * up to date).
 */
static void seed_process_table(struct daemon *d)
{
	double t0 = loop_now_ms();
	int r;

	if (!d->procs)
		return;
	r = loader_enable_type(&d->loader, BPFD_RECORD_PROC_FORK);
	if (r < 0) {
		log_error("process table: switching its records on: %s; events name no ancestors",
			  strerror(-r));
		return;
	}
	r = proc_table_seed_proc(d->procs, "/proc");
	if (r < 0)
		log_warn("process table: reading /proc: %s", strerror(-r));
	else
		log_debug("process table: %d processes from /proc in %.0f ms", r,
			  loop_now_ms() - t0);
}

/* Loads and attaches the tracers, switched off until loader_start(). */
/*
 * Programs taken over from another daemon (@what, for the log): when @same
 * (the stamps agree) they are this daemon's, nothing to compile; else they
 * record on in d->old until the ones it compiles replace them
 * (retire_predecessor()). Whether they were adopted.
 */
static bool take_over(struct daemon *d, struct loader *got, bool same, const char *what)
{
	if (!same) {
		log_info("%s differ from this daemon's tracers: compiling them; they record "
			 "meanwhile", what);
		d->old = got;
		return false;
	}
	d->loader = *got;
	free(got);
	d->loader.compile_ms = 0;
	snprintf(d->kheaders_used, sizeof(d->kheaders_used), "none: the programs were adopted");
	log_info("%s adopted, nothing compiled", what);
	return true;
}

/*
 * keep = true's pins (docs/architecture.md, "Keeping the programs"): one
 * directory per control socket, so that daemons on other sockets keep
 * their own, and the meta file beside the socket.
 */
static void keep_paths(struct daemon *d)
{
	uint64_t h = 14695981039346656037ULL;
	const char *c;

	for (c = d->opts.socket_path; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	snprintf(d->keep_dir, sizeof(d->keep_dir), BPFFS "/bpfd/%016llx", (unsigned long long)h);
	snprintf(d->keep_meta, sizeof(d->keep_meta), "%s.kept", d->opts.socket_path);
}

/* The BPF filesystem at /sys/fs/bpf (mounted when it is not) and bpfd's directory in it. */
static int ensure_bpffs(void)
{
	struct statfs st;

	if ((statfs(BPFFS, &st) < 0 || st.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", BPFFS, "bpf", 0, "mode=0700") < 0)
		return -errno;
	if (mkdir(BPFFS "/bpfd", 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool keep_on(const struct daemon *d)
{
	return d->opts.keep || (d->config && d->config->daemon.keep);
}

/* The programs pinned again, as they are now (after a start, a restart, a drop-in reload). */
static void keep_pin(struct daemon *d)
{
	char err[512];
	int r;

	if (!keep_on(d))
		return;
	r = ensure_bpffs();
	if (r == 0)
		r = loader_pin(&d->loader, d->stamp, d->keep_dir, d->keep_meta, err, sizeof(err));
	else
		snprintf(err, sizeof(err), BPFFS ": %s", strerror(-r));
	d->kept.pinned = r == 0;
	if (r < 0)
		log_error("keep: the programs are not pinned (a crash would take them): %s", err);
	else
		log_debug("keep: the programs pinned in %s", d->keep_dir);
}

/*
 * A daemon that did not stop cleanly (kill -9, a crash) left its programs
 * pinned: they recorded on. True when they are what this daemon would
 * build: adopted, and what the ring holds is delivered as replayed. Else
 * they record on in d->old until the new ones replace them.
 */
static bool adopt_kept(struct daemon *d)
{
	struct loader *got;
	struct timespec now;
	char err[512];
	bool same = false;
	int r;

	if (access(d->keep_meta, F_OK) != 0)
		return false;
	got = calloc(1, sizeof(*got));
	r = got ? loader_adopt_pins(got, d->keep_dir, d->keep_meta, d->stamp, &same, d->old_names,
				    &d->n_old_names, err, sizeof(err))
		: -ENOMEM;
	if (r == 0)
		r = loader_take_daemon(got, getpid());
	if (r < 0) {
		log_warn("keep: the programs a daemon left pinned cannot be taken over: %s; "
			 "removed, loading afresh", got ? err : "out of memory");
		if (got && got->n_tracers)
			loader_unload(got);
		free(got);
		loader_unpin(d->keep_dir, d->keep_meta);
		return false;
	}
	/* What they recorded until now was recorded while no daemon ran. */
	clock_gettime(CLOCK_BOOTTIME, &now);
	d->pipeline.replay_before_ns = (uint64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	d->kept.recovered = true;
	d->kept.adopted = take_over(d, got, same, "keep: the programs a daemon left pinned");
	if (d->kept.adopted)
		log_info("keep: what they recorded while no daemon ran is delivered as replayed");
	return d->kept.adopted;
}

/*
 * A successor: the predecessor's programs, maps and ring buffer (loader_adopt).
 * True when they are what this daemon would build (the stamps agree): no
 * compile. Else they stay in d->old, recording, until the ones this daemon
 * compiles replace them (retire_predecessor()).
 */
static bool adopt(struct daemon *d)
{
	struct loader *got = calloc(1, sizeof(*got));
	char err[512];
	bool same = false;
	int r;

	r = got ? loader_adopt(got, d->restart.fd, d->stamp, &same, d->old_names,
			       &d->n_old_names, err, sizeof(err))
		: -ENOMEM;
	close(d->restart.fd);
	d->restart.fd = -1;
	if (r < 0) {
		log_error("restart: taking the predecessor's programs over: %s; loading afresh",
			  got ? err : "out of memory");
		free(got);
		return false;
	}
	d->restart.adopted = take_over(d, got, same, "restart: the predecessor's programs");
	return d->restart.adopted;
}

/* A record of the predecessor's programs: read when its tracer is the one of that type here. */
static int old_sample(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct bpfd_record *r = data;
	size_t index;

	if (size >= sizeof(*r) && r->type >= BPFD_RECORD_TRACER_BASE) {
		index = r->type - BPFD_RECORD_TRACER_BASE;
		if (index >= d->n_old_names || index >= tracer_count ||
		    strcmp(d->old_names[index], tracer_table[index]->name) != 0) {
			d->restart.dropped++;
			return 0;
		}
	}
	return pipeline_sample(&d->pipeline, data, size);
}

/*
 * The new programs record now: the predecessor's are switched off, what
 * they recorded meanwhile is read, and they go. An event in the moment
 * both were on may be reported twice; none falls between them.
 */
static void retire_predecessor(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->old->n_tracers; i++)
		loader_set_enabled(d->old, i, false);
	if (loader_ring_open(d->old, old_sample, d) >= 0)
		drain_ring(d, d->old, 0);
	loader_unload(d->old);
	free(d->old);
	d->old = NULL;
	log_info("restart: the predecessor's programs replaced (%llu of their records were of "
		 "tracers this daemon has not)", (unsigned long long)d->restart.dropped);
}

static int load_tracers(struct daemon *d)
{
	struct kernel_offsets offsets;
	const struct config_daemon *c = d->config ? &d->config->daemon : NULL;
	struct tracer_config *cfg = &d->tracer_cfg;
	struct loader_request req;
	const char *names[TRACERS_WANTED_MAX];
	const char *const *wanted;
	char listbuf[1024], err[2048];
	size_t i;
	int r, ring;

	wanted = parse_tracer_list(d->opts.tracers, listbuf, sizeof(listbuf), names,
				   TRACERS_WANTED_MAX);
	for (i = 0; wanted && wanted[i]; i++) {
		if (!tracer_find(wanted[i], NULL)) {
			log_error("--tracers: unknown tracer '%s' (see `bpfd tracers`)", wanted[i]);
			return -EINVAL;
		}
	}
	/* On unless switched off: see docs/performance.md for its cost. */
	cfg->compat_syscalls = !c || !c->has_compat_syscalls || c->compat_syscalls;
	r = btf_offsets_read(BTF_VMLINUX, &offsets, err, sizeof(err));
	/* Kernel memory by plain loads, when the kernel takes the kfunc (bpf/kmem.h). */
	if (r == 0 && ((c && c->has_kernel_loads && !c->kernel_loads) ||
		       !kmem_usable(offsets.kmem_cast)))
		offsets.kmem_cast = 0;
	d->offsets = offsets;
	if (r < 0) {
		log_error("reading kernel struct offsets from %s: %s", BTF_VMLINUX, err);
		return r;
	}
	r = ensure_tracefs();
	if (r < 0) {
		log_error("tracefs is not mounted and mounting it failed: %s", strerror(-r));
		return r;
	}
	req = (struct loader_request){ .wanted = wanted, .cfg = cfg, .offsets = &offsets,
				       .daemon = getpid() };
	req.cgroup_root = d->cgroup_root;
	req.tracers_dir = d->opts.tracers_dir;
	req.cgroup_v1_subsys = d->cgroup_subsys;
	if (d->config && d->config->daemon.ring_buffer_bytes)
		req.ringbuf_pages = d->config->daemon.ring_buffer_bytes / 4096;
	d->stamp = loader_stamp(&req);
	if (d->restart.fd >= 0 && adopt(d))
		goto loaded;
	if (!d->restart.successor && !d->old && adopt_kept(d))
		goto loaded;
	r = prepare_headers(d);
	if (r < 0)
		return r;
	r = loader_load(&d->loader, &req, err, sizeof(err));
	/* The merged header tree is only needed while compiling. */
	kheaders_cleanup(d->kheaders_merged);
	d->kheaders_merged[0] = '\0';
	if (r < 0) {
		log_error("loading tracers: %s", err);
		return r;
	}
loaded:
	for (i = 0; i < d->loader.n_tracers; i++) {
		const struct loaded_tracer *t = &d->loader.tracers[i];

		if (t->state == TRACER_FAILED)
			log_error("tracer %s failed: %s", t->ops->name, t->error);
		else if (t->state == TRACER_LOADED && t->note[0])
			log_warn("tracer %s loaded without optional hooks: %s", t->ops->name,
				 t->note);
		else if (t->state == TRACER_LOADED)
			log_debug("tracer %s loaded", t->ops->name);
	}
	for (i = 0; i < d->loader.n_tracers && !d->loader.io_uring; i++) {
		const struct loaded_tracer *t = &d->loader.tracers[i];

		if (t->state == TRACER_LOADED && t->ops->io_uring_source) {
			log_warn("io_uring hooks not attached: opens, connects and accepts made "
				 "through io_uring are not seen: %s", d->loader.io_uring_note);
			break;
		}
	}
	ring = loader_ring_open(&d->loader, pipeline_sample, &d->pipeline);
	if (ring < 0) {
		log_error("opening the event ring buffer: %s", strerror(-ring));
		return ring;
	}
	d->ring = (struct loop_watch){ .fd = ring, .fn = on_ring, .ctx = d };
	/* A successor reads the ring once its predecessor's subscribers are back (run()). */
	if (d->restart.successor && d->restart.subscribers > 0) {
		d->restart.hold_until_ms = loop_now_ms() + RESTART_HOLD_MS;
		return 0;
	}
	return loop_add(&d->loop, &d->ring, EPOLLIN);
}

/*
 * Losses are counted where they happen and shown in status; the log says
 * so too, at most every LOSS_LOG_MS, so that nobody loses events unawares.
 * (Action queues log their own drops, rate-limited, in actions.c.)
 */
static void report_losses(struct daemon *d, int64_t now)
{
	uint64_t kernel = 0, dropped = 0;
	size_t i;

	if (now < d->loss_log_next_ms)
		return;
	for (i = 0; i < d->loader.n_tracers; i++)
		kernel += loader_lost(&d->loader, tracer_record_type(i));
	dropped = server_dropped_total(d->server);
	if (kernel > d->logged_kernel_lost) {
		log_warn("%llu events lost in the kernel's ring buffer (the daemon could not keep "
			 "up; ring_buffer_size in the config); %llu in all, per tracer in status",
			 (unsigned long long)(kernel - d->logged_kernel_lost),
			 (unsigned long long)kernel);
		d->loss_log_next_ms = now + LOSS_LOG_MS;
	}
	if (dropped > d->logged_sub_dropped) {
		log_warn("%llu events dropped for slow trace subscribers (they are told how many); "
			 "per subscriber in status",
			 (unsigned long long)(dropped - d->logged_sub_dropped));
		d->loss_log_next_ms = now + LOSS_LOG_MS;
	}
	d->logged_kernel_lost = kernel;
	d->logged_sub_dropped = dropped;
}

static int emit_record(void *ctx, const void *rec, size_t size)
{
	return pipeline_handle_record(ctx, rec, size);
}

/* The tracers' periodic work (tracer_ops.tick): drains of what they aggregate in the kernel. */
static void tick_tracers(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->loader.n_tracers; i++) {
		struct loaded_tracer *t = &d->loader.tracers[i];

		if (t->ops->tick && t->state == TRACER_LOADED)
			t->ops->tick(t->map_fds, emit_record, &d->pipeline, &t->drain);
		if (t->ops->periodic && d->tracer_state[i])
			t->ops->periodic(d->tracer_state[i]);
	}
}

/* The tracers' timers (tracer_ops.timers): ms until the first is due next, or -1. */
static int tracer_timers(struct daemon *d, int64_t now_ms)
{
	int due, first = -1;
	size_t i;

	for (i = 0; i < d->loader.n_tracers; i++) {
		if (!d->tracer_state[i] || !d->loader.tracers[i].ops->timers)
			continue;
		due = d->loader.tracers[i].ops->timers(d->tracer_state[i], now_ms);
		if (due >= 0 && (first < 0 || due < first))
			first = due;
	}
	return first;
}

/* The tracers' stop hooks, before their programs go. */
static void stop_tracers(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->loader.n_tracers; i++) {
		if (d->tracer_state[i] && d->loader.tracers[i].ops->stop)
			d->loader.tracers[i].ops->stop(d->tracer_state[i]);
		d->tracer_state[i] = NULL;
	}
}

static void count_subscriber(void *ctx, const struct subscriber_info *info)
{
	(void)info;
	(*(int *)ctx)++;
}

/*
 * A successor holds the ring until the predecessor's subscribers are back
 * (`bpfd trace` reconnects by itself), at most RESTART_HOLD_MS: what the
 * programs record meanwhile waits in the ring for them.
 */
static void release_ring(struct daemon *d)
{
	int subs = 0;

	server_each_subscriber(d->server, count_subscriber, &subs);
	if (subs < d->restart.subscribers && loop_now_ms() < d->restart.hold_until_ms)
		return;
	d->restart.hold_until_ms = 0;
	if (loop_add(&d->loop, &d->ring, EPOLLIN) < 0)
		log_error("restart: watching the ring buffer: %s", strerror(errno));
	d->restart.ready_ms = loop_now_ms();
	log_info("restart: reading events (%d of %d subscribers back), %lld ms after the "
		 "request", subs, d->restart.subscribers,
		 (long long)(d->restart.ready_ms - d->restart.requested_ms));
	consume_ring(d);
}

static void run(struct daemon *d)
{
	int64_t next_tick = loop_now_ms() + TICK_MS, now;
	int timeout, due;

	while (!d->loop.stop) {
		timeout = d->ring_more ? 0 : d->draining ? DRAIN_POLL_MS : TICK_MS;
		due = action_set_timers(d->actions, loop_now_ms());
		if (due >= 0 && due < timeout)
			timeout = due;
		due = server_flush_due(d->server, loop_now_ms());
		if (due >= 0 && due < timeout)
			timeout = due;
		due = tracer_timers(d, loop_now_ms());
		if (due >= 0 && due < timeout)
			timeout = due;
		due = metrics_server_due(d->metrics);
		if (due >= 0 && due < timeout)
			timeout = due;
		if (d->reload_at_ms) {
			int64_t due = d->reload_at_ms - loop_now_ms();

			timeout = due <= 0 ? 0 : (due < timeout ? (int)due : timeout);
		}
		if (d->restart.hold_until_ms && timeout > RESTART_POLL_MS)
			timeout = RESTART_POLL_MS;
		loop_run_once(&d->loop, timeout);
		if (d->restart.hold_until_ms)
			release_ring(d);
		if (d->kept.repin) {
			d->kept.repin = false;
			keep_pin(d);
		}
		metrics_server_tick(d->metrics);
		now = loop_now_ms();
		if (d->reload_at_ms && now >= d->reload_at_ms)
			reload_rules(d);
		if (d->draining) {
			int n = consume_ring(d);

			if (n <= 0 && !d->ring_more && now - d->last_ring_wake_ms > DRAIN_MS)
				d->draining = false;
		}
		action_set_flush(d->actions);
		server_flush(d->server);
		server_reap(d->server);
		if (now >= next_tick) {
			server_tick(d->server);
			server_reap(d->server);
			pipeline_sync_clock(&d->pipeline);
			report_losses(d, now);
			tick_tracers(d);
			check_dropin_reload(d, now);
			/* A rules directory created after start is picked up. */
			if (d->rules_wd < 0 && d->opts.rules_dir &&
			    access(d->opts.rules_dir, F_OK) == 0)
				reload_rules(d);
			next_tick = now + TICK_MS;
		}
	}
}

static const char *metrics_rule_at(void *ctx, size_t i, uint64_t *matches)
{
	const struct rule *r = rulebook_at(ctx, i, NULL);

	*matches = r ? rule_match_count(r) : 0;
	return r ? rule_name(r) : NULL;
}

/* The metrics page: what `status` answers, the rules' matches and the version. */
static int metrics_page(void *ctx, struct strbuf *out, const struct metrics_server_stats *stats)
{
	struct daemon *d = ctx;
	json_t *status, *version;
	int r = -ENOMEM;

	/* Served from run() on, when struct control is filled; earlier: "not yet" (503). */
	if (!d->control.server)
		return -EAGAIN;
	status = control_status(&d->control);
	version = reply_version(d->loader.bcc_version[0] ? d->loader.bcc_version : NULL);
	if (status && version)
		r = metrics_page_write(out, status, version, metrics_rule_at, d->rules,
				       rulebook_count(d->rules), stats);
	json_decref(status);
	json_decref(version);
	return r;
}

/* The metrics server, when an address is set (--metrics, else the config's). 0 or -errno. */
static int start_metrics(struct daemon *d)
{
	const struct config_metrics *c = d->config ? &d->config->daemon.metrics : NULL;
	struct metrics_options o = { 0 };
	char err[512];
	int r;

	if (c)
		o = (struct metrics_options){ .address = c->address, .tls_cert = c->tls_cert,
					      .tls_key = c->tls_key, .token_file = c->token_file,
					      .insecure = c->insecure,
					      .timeout_ms = c->timeout_ms };
	if (d->opts.metrics)
		o.address = d->opts.metrics;
	if (!o.address)
		return 0;
	r = metrics_server_start(&d->loop, &o, metrics_page, d, &d->metrics, err, sizeof(err));
	if (r < 0) {
		log_error("metrics: %s", err);
		return r;
	}
	log_info("metrics: serving /metrics on %s%s%s", o.address,
		 o.tls_cert ? " over TLS" : "", o.token_file ? ", with a bearer token" : "");
	return 0;
}

static void queued_bytes(void *ctx, const struct subscriber_info *info)
{
	*(size_t *)ctx += info->queued;
}

static void count_subscriber(void *ctx, const struct subscriber_info *info);

/*
 * The restart itself: what the ring holds is delivered, the queues are
 * written to their clients, then the programs, maps and ring buffer are
 * handed over (loader_handover()) to a new image of the binary as it was
 * started (an upgrade's, if it was replaced), in this process. Returns
 * only if that fails, having undone it: the daemon goes on.
 */
static void restart_exec(struct daemon *d)
{
	char env[160], err[512];
	int64_t until = loop_now_ms() + RESTART_FLUSH_MS;
	size_t queued;
	int fd, subs = 0;

	drain_ring(d, &d->loader, until);
	action_set_flush(d->actions);
	/* `bpfd trace` connects again when the successor listens (docs/protocol.md). */
	server_notice_subscribers(d->server, "{\"notice\":\"restart\"}");
	do {
		server_flush(d->server);
		queued = 0;
		server_each_subscriber(d->server, queued_bytes, &queued);
		if (queued)
			usleep(2000);
	} while (queued && loop_now_ms() < until);
	server_each_subscriber(d->server, count_subscriber, &subs);
	if (loader_handover(&d->loader, d->stamp, &fd, err, sizeof(err)) < 0) {
		log_error("restart: %s; going on as before", err);
		goto undo;
	}
	snprintf(env, sizeof(env), "%d,%d,%d,%lld,%u", fd, d->listen_fd, subs,
		 (long long)d->restart.requested_ms, d->restart.count + 1);
	/* The socket stays: connections made meanwhile wait in its backlog. */
	if (fcntl(d->listen_fd, F_SETFD, 0) < 0 || setenv("BPFD_HANDOVER", env, 1) < 0) {
		log_error("restart: %s; going on as before", strerror(errno));
		close(fd);
		goto undo;
	}
	/* Probers and their probes go with this image; the successor makes its own. */
	stop_tracers(d);
	/* The same pid goes on: the service manager hears READY=1 from the new image. */
	notify_send("RELOADING=1");
	log_info("restart: running %s", d->self);
	fflush(NULL);
	execv(d->self, d->opts.argv);
	log_error("restart: exec %s: %s; going on as before", d->self, strerror(errno));
	unsetenv("BPFD_HANDOVER");
	close(fd);
	fcntl(d->listen_fd, F_SETFD, FD_CLOEXEC);
	start_tracers(d, &d->tracer_cfg);
undo:
	d->restart.requested = false;
	d->loop.stop = false;
}

/*
 * BPFD_HANDOVER, which a predecessor set for its successor (restart_exec()):
 * the handover's fd, the listening socket's, its subscribers, when it was
 * asked, its restart count. Taken out of the environment at once, so that
 * no child inherits it.
 */
static void take_handover(struct daemon *d)
{
	const char *h = getenv("BPFD_HANDOVER");
	long long requested;
	int fd, listen_fd, subs;
	unsigned int count;
	struct stat st;

	d->restart.fd = -1;
	if (!h)
		return;
	if (sscanf(h, "%d,%d,%d,%lld,%u", &fd, &listen_fd, &subs, &requested, &count) != 5 ||
	    fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || fstat(listen_fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode)) {
		log_error("BPFD_HANDOVER=%s: not a handover from a bpfd daemon: starting afresh", h);
		unsetenv("BPFD_HANDOVER");
		return;
	}
	unsetenv("BPFD_HANDOVER");
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
	d->restart = (struct daemon_restart){ .successor = true, .fd = fd, .subscribers = subs,
					      .requested_ms = requested, .count = count };
	d->listen_fd = listen_fd;
	log_info("restart %u: taking over from the predecessor", count);
}

static void daemon_release(struct daemon *d)
{
	if (d->dropins.running) {
		loop_remove(&d->loop, &d->dropins.watch);
		loader_reload_abort(&d->dropins.run);
	}
	if (d->rules_watch.fd >= 0)
		close(d->rules_watch.fd);
	rulebook_free(d->rules);
	identity_release(&d->identities);
	/* Before the loop goes: actions watch their children through it. */
	action_set_flush(d->actions);
	action_set_free(d->actions);
	metrics_server_free(d->metrics);
	stop_tracers(d);
	loader_unload(&d->loader);
	if (d->server)
		server_free(d->server);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->opts.socket_path);
	}
	if (d->signals.fd > 0)
		close(d->signals.fd);
	kheaders_cleanup(d->kheaders_merged);
	pipeline_release(&d->pipeline);
	cgroup_cache_free(d->cgroups);
	container_meta_cache_free(d->container_meta);
	if (d->procs) {
		proc_table_release(d->procs);
		free(d->procs);
		d->procs = NULL;
	}
	paused_containers_free(d->paused);
	loop_release(&d->loop);
	if (d->config != d->start_config)
		config_free(d->config);
	config_free(d->start_config);
}

int daemon_main(const struct daemon_options *opts)
{
	struct daemon d = { .opts = *opts, .listen_fd = -1, .signals.fd = -1,
			    .rules_watch.fd = -1, .rules_wd = -1,
			    .identities.inotify_fd = -1 };
	const char *cg2;
	size_t i, loaded = 0;
	int r;

	d.started_ms = loop_now_ms();
	take_handover(&d);
	/* What a restart runs: this binary, or its upgrade at the same path. */
	if (!realpath("/proc/self/exe", d.self))
		d.self[0] = '\0';
	host_identity(&d.host_mntns, &d.host_proc);
	if (read_config(opts, &d.start_config) < 0)
		return 1;
	d.config = d.start_config;
	if (open_journal(&d) < 0) {
		config_free(d.start_config);
		return 1;
	}
	resolve_options(&d);
	keep_paths(&d);
	if (opts->cleanup) {
		loader_unpin(d.keep_dir, d.keep_meta);
		log_info("cleanup: removed what keep = true pinned for %s (%s, %s)",
			 d.opts.socket_path, d.keep_dir, d.keep_meta);
		daemon_release(&d);
		return 0;
	}
	/* Drop-ins before the rules, which name them by tracer. */
	load_dropins(&d);
	if (!opts->debug && d.config && d.config->daemon.has_log_level)
		log_max_level = d.config->daemon.log_level;
	if (geteuid() != 0)
		log_warn("not running as root: loading BPF programs will likely fail");
	if (loop_init(&d.loop) < 0 || setup_signals(&d) < 0) {
		log_error("setting up the event loop: %s", strerror(errno));
		daemon_release(&d);
		return 1;
	}
	/* The socket first: a second daemon must not get as far as loading BPF. */
	if (!d.restart.successor)
		d.listen_fd = listen_once_dead(&d);
	if (d.listen_fd < 0) {
		if (d.listen_fd == -EADDRINUSE)
			log_error("%s: another bpfd daemon is running on this socket",
				  d.opts.socket_path);
		else
			log_error("%s: cannot listen: %s", d.opts.socket_path,
				  strerror(-d.listen_fd));
		d.listen_fd = -1;
		daemon_release(&d);
		return 1;
	}

	if (gethostname(d.hostname, sizeof(d.hostname) - 1) < 0)
		snprintf(d.hostname, sizeof(d.hostname), "localhost");
	socket_group(&d, d.opts.socket_path, d.config ? d.config->daemon.socket_group : NULL);
	if (choose_hierarchy(&d, d.opts.cgroup_hierarchy) < 0) {
		daemon_release(&d);
		return 1;
	}
	cg2 = d.cgroup_mount[0] ? d.cgroup_mount : NULL;
	d.resolver = cgroup_fs_resolver(cg2);
	d.cgroups = cgroup_cache_new(CGROUP_CACHE_CAPACITY, cg2 ? &d.resolver : NULL);
	d.container_meta = container_meta_cache_new(CONTAINER_META_CACHE_CAPACITY, NULL);
	if (!d.cgroups || !d.container_meta) {
		log_error("out of memory");
		daemon_release(&d);
		return 1;
	}
	if (!cg2)
		log_warn("no cgroup hierarchy mounted: events cannot be attributed to containers");
	/* Requests are served from run() on, when every part struct control names is made. */
	d.server = server_new(&d.loop, d.listen_fd, control_ops, control_handle,
			      control_peer_is_admin, &d.control);
	if (!d.server) {
		log_error("out of memory");
		daemon_release(&d);
		return 1;
	}
	pipeline_init(&d.pipeline, d.cgroups, d.server, d.hostname);
	d.pipeline.meta = d.container_meta;
	if (init_process_table(&d) < 0) {
		log_error("out of memory");
		daemon_release(&d);
		return 1;
	}
	d.paused = paused_containers_new();
	d.action_env = (struct action_env){ .loop = &d.loop, .daemon_pid = getpid(),
					    .cgroup_mount = d.cgroup_mount,
					    .cgroup2 = d.cgroup_subsys < 0, .paused = d.paused };
	if (cg2) {
		d.action_env.cgroup_path = d.resolver.resolve;
		d.action_env.cgroup_ctx = d.resolver.ctx;
	}
	d.actions = action_set_new(&d.action_env, d.config);
	if (!d.actions || !d.paused) {
		log_error("out of memory");
		daemon_release(&d);
		return 1;
	}
	d.pipeline.actions = d.actions;
	apply_config(&d);
	instantiate_actions(&d);
	/* Rules before tracers: events are filtered from the first one. */
	setup_rules(&d);
	if (!d.rules) {
		log_error("out of memory");
		daemon_release(&d);
		return 1;
	}

	/* Before the slow part: a bad metrics setting fails the start at once. */
	if (start_metrics(&d) < 0) {
		daemon_release(&d);
		return 1;
	}
	r = load_tracers(&d);
	if (r < 0) {
		daemon_release(&d);
		return 1;
	}
	/*
	 * Cgroups created from now on arrive as records; learn the ones that
	 * already exist (after attaching, so that none falls in between).
	 */
	if (cg2)
		cgroup_cache_scan(d.cgroups, cg2, CGROUP_SCAN_MAX);
	seed_containers(&d, cg2);
	seed_process_table(&d);
	d.pipeline.containers_fd = d.loader.containers_fd;
	d.pipeline.pf_meta_fd = d.loader.pf_meta_fd;
	container_meta_cache_watch(d.container_meta, pipeline_meta_settled, &d.pipeline);
	d.pipeline.resolver = &d.resolver;
	/*
	 * The tracers switch on last: by then the prefilters hold the rules
	 * and the containers already running, so that the first event is
	 * judged in the kernel like every later one.
	 */
	daemon_rules_changed(&d);
	d.control = (struct control){ .server = d.server, .access = &d.access, .loader = &d.loader,
				      .pipeline = &d.pipeline,
				      .prefiltered_tracers = &d.prefiltered_tracers,
				      .actions = d.actions, .rules = d.rules, .cgroups = d.cgroups,
				      .container_meta = d.container_meta, .paused = d.paused,
				      .tracer_state = d.tracer_state, .cgroup_mount = d.cgroup_mount,
				      .cgroup2 = d.cgroup_subsys < 0, .started_ms = d.started_ms,
				      .rules_changed = rules_changed, .owner = &d,
				      .restart = &d.restart, .kept = &d.kept,
				      .restart_fn = d.self[0] && d.opts.argv ? request_restart : NULL };
	start_tracers(&d, &d.tracer_cfg);
	r = loader_start(&d.loader);
	if (r < 0) {
		log_error("switching the tracers on: %s", strerror(-r));
		daemon_release(&d);
		return 1;
	}
	if (d.old)
		retire_predecessor(&d);
	if (keep_on(&d))
		keep_pin(&d);
	else if (d.kept.recovered || access(d.keep_meta, F_OK) == 0)
		/* keep was switched off: what was pinned is this daemon's now, or gone. */
		loader_unpin(d.keep_dir, d.keep_meta);
	/* Compiling left LLVM's heap large; give it back. */
	malloc_trim(0);

	for (i = 0; i < d.loader.n_tracers; i++)
		loaded += d.loader.tracers[i].state == TRACER_LOADED;
	d.ready_ms = loop_now_ms();
	log_info("ready: %zu of %zu tracers loaded in %lld ms (compile %.0f ms, headers %s, "
		 "kernel memory read by %s), socket %s",
		 loaded, d.loader.n_tracers, (long long)(d.ready_ms - d.started_ms),
		 d.loader.compile_ms, d.kheaders_used,
		 d.offsets.kmem_cast ? "loads" : "bpf_probe_read_kernel", d.opts.socket_path);

	r = notify_send("READY=1\nSTATUS=tracers attached");
	if (r < 0)
		log_warn("telling the service manager we are ready: %s", strerror(-r));

	if (d.restart.successor && !d.restart.hold_until_ms)
		d.restart.ready_ms = loop_now_ms();
	run(&d);
	while (d.restart.requested) {
		restart_exec(&d);
		run(&d);
	}
	/* A clean stop takes everything with it: nothing pinned records on. */
	if (d.kept.pinned)
		loader_unpin(d.keep_dir, d.keep_meta);
	notify_send("STOPPING=1");
	daemon_release(&d);
	log_info("stopped");
	return 0;
}
