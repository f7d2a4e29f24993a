// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "bpf/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "bpf/bpf_backend.h"
#include "bpf/bpfmap.h"
#include "common_bpf.h"
#include "bpf/hooks.h"
#include "bpf/kmem.h"
#include "io_uring_bpf.h"
#include "lib/strbuf.h"
#include "tracers/common/record.h"

const char *tracer_state_name(enum tracer_state s)
{
	switch (s) {
	case TRACER_LOADED:
		return "loaded";
	case TRACER_FAILED:
		return "failed";
	default:
		return "disabled";
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- The loader process: compile, load, attach. ---- */

#define IO_URING_DISABLED "/proc/sys/kernel/io_uring_disabled"

/*
 * Where the loader process pins the main module's maps for the drop-ins'
 * modules: a BPF filesystem of its own, mounted in a mount namespace of its
 * own, which nobody else sees and which goes away with the process.
 */
#define LOADER_PINS "/sys/fs/bpf"

struct compile_job {
	const struct loader_request *req;
	bool include[LOADER_TRACERS_MAX];
	bool io_uring;		/* compile the io_uring handlers and programs */
	int kmem_cast;		/* read kernel memory by loads: the kfunc's id (bpf/kmem.h) */
	char storage[BTF_CFLAG_COUNT + 4][BTF_CFLAG_LEN];	/* and 4 of ours */
	const char *cflags[BTF_CFLAG_COUNT + 12];	/* 4 + 4 literal of ours at most, NULL */
	int n_cflags;
};

static bool wanted_has(const char *const *wanted, const char *name)
{
	if (!wanted)
		return true;
	for (; *wanted; wanted++)
		if (strcmp(*wanted, name) == 0)
			return true;
	return false;
}

/*
 * True when the tracepoint sched:sched_process_exit says whether the exiting
 * task was its process's last thread (group_dead, added after Linux 6.1):
 * the common program then forgets a process's contained mark at its last
 * thread, else at its leader's exit.
 */
static bool exit_has_group_dead(void)
{
	static const char *const formats[] = {
		"/sys/kernel/tracing/events/sched/sched_process_exit/format",
		"/sys/kernel/debug/tracing/events/sched/sched_process_exit/format",
	};
	char buf[2048];
	bool found = false;
	size_t i;
	ssize_t n;
	int fd;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]) && !found; i++) {
		fd = open(formats[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			found = strstr(buf, " group_dead;") != NULL;
		}
	}
	return found;
}

static void cflags_build(struct compile_job *job)
{
	char (*slot)[BTF_CFLAG_LEN] = &job->storage[BTF_CFLAG_COUNT];

	btf_offsets_cflags(job->req->offsets, job->storage, job->cflags);
	job->n_cflags = BTF_CFLAG_COUNT;
	snprintf(*slot, BTF_CFLAG_LEN, "-DBPFD_NR_CPUS=%d", bpfmap_possible_cpus());
	job->cflags[job->n_cflags++] = *slot++;
	snprintf(*slot, BTF_CFLAG_LEN, "-DBPFD_CGROUP_ROOT=%d", job->req->cgroup_root);
	job->cflags[job->n_cflags++] = *slot++;
	if (job->req->cgroup_v1_subsys >= 0) {
		snprintf(*slot, BTF_CFLAG_LEN, "-DBPFD_CGROUP_V1_SUBSYS=%d",
			 job->req->cgroup_v1_subsys);
		job->cflags[job->n_cflags++] = *slot++;
	}
	if (job->req->ringbuf_pages) {
		snprintf(*slot, BTF_CFLAG_LEN, "-DBPFD_RINGBUF_PAGES=%u", job->req->ringbuf_pages);
		job->cflags[job->n_cflags++] = *slot++;
	}
	if (exit_has_group_dead())
		job->cflags[job->n_cflags++] = "-DBPFD_EXIT_GROUP_DEAD";
	if (job->io_uring)
		job->cflags[job->n_cflags++] = "-DBPFD_IO_URING";
	/* The daemon tried the kfunc (kmem_usable()): an id here is one the kernel takes. */
	job->kmem_cast = job->req->offsets->kmem_cast;
	if (job->kmem_cast)
		job->cflags[job->n_cflags++] = KMEM_CFLAG;
	/*
	 * No debug info. BCC asks clang for it (-g) to give the kernel BTF of
	 * the programs and maps, which these programs do not need (no CO-RE,
	 * no spin locks, no typed map values); making and carrying it through
	 * LLVM was ~15% of the compile, i.e. of the daemon's start. What is
	 * lost: source lines in verifier messages and in `bpftool prog dump`.
	 */
	job->cflags[job->n_cflags++] = "-g0";
	job->cflags[job->n_cflags] = NULL;
}

/*
 * The common program, then each tracer in @include, as one source. With
 * @io_uring, each tracer's io_uring handlers follow its source, in its
 * BPFD_TRACER_TYPE, and the shared io_uring programs that call them come
 * last (tracers/common/io_uring.bpf.c).
 */
static int assemble(struct strbuf *src, const bool *include, bool io_uring)
{
	const struct tracer_ops *t;
	bool handlers = false;
	size_t i;
	int err = strbuf_addstr(src, bpfd_common_bpf_source);

	for (i = 0; !err && i < tracer_count; i++) {
		t = tracer_table[i];
		if (!include[i])
			continue;
		handlers |= io_uring && t->io_uring_source;
		err = strbuf_addf(src, "\n#define BPFD_TRACER_TYPE %u\n%s\n%s\n#undef BPFD_TRACER_TYPE\n",
				  tracer_record_type(i), t->bpf_source,
				  io_uring && t->io_uring_source ? t->io_uring_source : "");
	}
	if (!err && handlers)
		err = strbuf_addf(src, "\n%s", bpfd_io_uring_bpf_source);
	return err;
}

/* Compiles the tracers marked in @include with a new backend. */
static struct bpf_backend *compile(const struct compile_job *job, const bool *include, char *err,
				   size_t err_size)
{
	struct strbuf src = STRBUF_INIT;
	struct bpf_backend *b = bcc_backend_new(err, err_size);

	if (!b)
		return NULL;
	b->kmem_cast = job->kmem_cast;
	if (assemble(&src, include, job->io_uring) < 0 ||
	    b->ops->compile(b, src.buf, job->cflags, job->n_cflags, err, err_size) < 0) {
		b->ops->destroy(b);
		b = NULL;
	}
	strbuf_release(&src);
	return b;
}

/*
 * A tracer with its own module (a drop-in): the common program, its maps
 * declared pinned where pin_shared() put the main module's (shared_begin.bpf.h),
 * then the tracer. Attached to a backend of its own, which must stay alive
 * until its fds are sent; NULL with the compiler's message in @err.
 */
/*
 * A drop-in's flags: the job's without "-g0". With debug information the
 * kernel gets the program's line table, and the verifier's message says
 * at which line of NAME.bpf.c it refused it; a drop-in's module is small,
 * so what that costs the compile is small too.
 */
static int own_cflags(const struct compile_job *job, const char **out)
{
	int i, n = 0;

	for (i = 0; i < job->n_cflags; i++)
		if (strcmp(job->cflags[i], "-g0"))
			out[n++] = job->cflags[i];
	out[n] = NULL;
	return n;
}

static struct bpf_backend *compile_own(const struct compile_job *job, size_t index, char *err,
				       size_t err_size)
{
	const char *cflags[BTF_CFLAG_COUNT + 12];
	struct strbuf src = STRBUF_INIT;
	struct bpf_backend *b = bcc_backend_new(err, err_size);

	if (!b)
		return NULL;
	b->kmem_cast = job->kmem_cast;
	if (strbuf_addf(&src, "#define BPFD_DROPIN 1\n#define BPFD_SHARED_PINS \"%s\"\n%s\n"
			"#define BPFD_TRACER_TYPE %u\n%s", LOADER_PINS,
			bpfd_common_bpf_source, tracer_record_type(index),
			tracer_table[index]->bpf_source) < 0) {
		snprintf(err, err_size, "out of memory");
		b->ops->destroy(b);
		b = NULL;
	} else if (b->ops->compile(b, src.buf, cflags, own_cflags(job, cflags), err,
				   err_size) < 0) {
		b->ops->destroy(b);
		b = NULL;
	}
	strbuf_release(&src);
	return b;
}

static void tracer_fail(struct loaded_tracer *t, const char *why)
{
	t->state = TRACER_FAILED;
	snprintf(t->error, sizeof(t->error), "%s", why);
}

/*
 * Attaches every hook of @ops (hooks.c: shared programs once, optional
 * ones when the kernel has them), storing the attachment fds in @fds.
 */
static int attach_hooks(struct bpf_backend *b, const struct tracer_ops *ops,
			const struct tracer_config *cfg, unsigned int slot,
			const struct hooks_shared *shared, int *fds, int *n_fds, char *note,
			size_t note_size, char *err, size_t err_size)
{
	int links[LOADER_LINKS_MAX];
	int n = 0, r;

	r = hooks_attach(b, ops, cfg, slot, shared, links, LOADER_LINKS_MAX, &n, note, note_size,
			 err, err_size);
	if (r < 0)
		return r;
	for (*n_fds = 0; *n_fds < n; (*n_fds)++)
		fds[*n_fds] = b->ops->link_fd(b, links[*n_fds]);
	return 0;
}

/* The fds of the tracer's own maps (tracer_ops.maps), which the daemon works with. */
static int tracer_maps(struct bpf_backend *b, struct loaded_tracer *t, char *err, size_t err_size)
{
	const char *const *name;

	for (name = t->ops->maps; name && *name; name++) {
		int fd = b->ops->map_fd(b, *name);

		if (t->n_maps == LOADER_MAPS_MAX || fd < 0) {
			snprintf(err, err_size, "map %s: %s", *name,
				 fd < 0 ? "not in the compiled module" : "too many maps");
			t->n_maps = 0;
			return -ENOENT;
		}
		t->map_fds[t->n_maps++] = fd;
	}
	return 0;
}

/* The common program's own hooks: ignore inheritance, cgroup creation, the task cache. */
static const struct tracer_hook common_hooks[] = {
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_fork", "tracepoint__sched__sched_process_fork" },
	/* The process table's (proc.bpf.c): forks, execs; exits share the exit hook. */
	{ TRACER_HOOK_RAW_TRACEPOINT, "sched_process_fork", "raw_tracepoint__sched_process_fork" },
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_exec", "bpfd_proc_exec" },
	{ TRACER_HOOK_TRACEPOINT, "sched:sched_process_exit", "tracepoint__sched__sched_process_exit" },
	{ TRACER_HOOK_TRACEPOINT, "task:task_newtask", "tracepoint__task__task_newtask" },
	{ TRACER_HOOK_TRACEPOINT, "cgroup:cgroup_mkdir", "tracepoint__cgroup__cgroup_mkdir" },
	{ TRACER_HOOK_TRACEPOINT, "cgroup:cgroup_rmdir", "tracepoint__cgroup__cgroup_rmdir" },
	/* The task cache's invalidation (common.bpf.c, bpfd_task_cache). */
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_setns", "bpfd_task_ns_changed" },
	{ TRACER_HOOK_TRACEPOINT, "syscalls:sys_exit_unshare", "bpfd_task_ns_changed" },
	{ 0 },
};

static const struct tracer_ops common_ops = {
	.name = "common",
	.hooks = common_hooks,
	.keys = (const char *const[]){ NULL },
};

/*
 * Whether io_uring can be traced here: 0, or -ENOENT with @why saying what
 * is missing. Without every io_uring offset (a kernel without io_uring,
 * or another layout of its structs) the handlers cannot be compiled; with
 * io_uring disabled (kernel.io_uring_disabled = 2) no ring can be made.
 */
static int io_uring_traceable(const struct loader_request *req, char *why, size_t why_size)
{
	char buf[16] = "";
	ssize_t n = 0;
	int fd;

	if (!req->offsets->io_uring) {
		snprintf(why, why_size, "io_uring's structs are not in the kernel's BTF (%s)",
			 req->offsets->io_uring_missing);
		return -ENOENT;
	}
	fd = open(IO_URING_DISABLED, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 0 && atoi(buf) == 2) {
		snprintf(why, why_size, "io_uring is disabled (%s is 2)", IO_URING_DISABLED);
		return -ENOENT;
	}
	return 0;
}

/*
 * Attaches the shared io_uring programs the loaded tracers list (hooks.c:
 * each once, all or none); their links go with the common program's. A
 * failure only leaves io_uring unseen, with the reason in @l.
 */
static void attach_io_uring(struct bpf_backend *b, struct loader *l, const struct compile_job *job,
			    const struct hooks_shared *shared)
{
	int links[LOADER_LINKS_MAX], n = 0, i, r;
	char why[LOADER_ERR_LEN];

	l->io_uring = 0;
	if (!hooks_io_uring_wanted(shared)) {
		snprintf(l->io_uring_note, sizeof(l->io_uring_note),
			 "no tracer that sees io_uring is loaded");
		return;
	}
	if (!job->io_uring)	/* io_uring_traceable() or the compiler said why */
		return;
	r = hooks_attach_io_uring(b, shared, links, LOADER_LINKS_MAX - l->n_common, &n, why,
				  sizeof(why));
	if (r < 0) {
		snprintf(l->io_uring_note, sizeof(l->io_uring_note), "%s", why);
		return;
	}
	for (i = 0; i < n; i++)
		l->common_fds[l->n_common++] = b->ops->link_fd(b, links[i]);
	l->io_uring = 1;
	l->io_uring_note[0] = '\0';
}

static const char *uprobe_function(const struct tracer_ops *ops)
{
	const struct tracer_hook *h;

	for (h = ops->hooks; h->target; h++)
		if (h->kind == TRACER_HOOK_URETPROBE)
			return h->function;
	return NULL;
}

static int mark_ignored(int fd, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	uint8_t mark = 1;

	return bpfmap_update(fd, &key, &mark, 0);
}

static int pin_shared(const struct loader *l, char *err, size_t err_size)
{
	static bool pinned;
	char path[sizeof(LOADER_PINS) + LOADER_MAP_NAME_LEN + 1];
	int i;

	if (pinned)
		return 0;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("bpf", LOADER_PINS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
		snprintf(err, err_size, "a BPF filesystem of the loader's own at %s: %s",
			 LOADER_PINS, strerror(errno));
		return -errno;
	}
	for (i = 0; i < l->n_shared; i++) {
		snprintf(path, sizeof(path), "%s/%s", LOADER_PINS, l->shared[i].name);
		if (bpf_obj_pin(l->shared[i].fd, path) < 0) {
			snprintf(err, err_size, "pinning map %s: %s", l->shared[i].name,
				 strerror(errno));
			return -errno;
		}
	}
	pinned = true;
	return 0;
}

/* The main module's maps, by name, for the drop-ins: compiled now or at a reload. */
static void collect_shared(struct bpf_backend *b, struct loader *l)
{
	const char *name;
	size_t i;
	int fd;

	for (i = 0; (name = b->ops->map_name(b, i)) && l->n_shared < LOADER_SHARED_MAX; i++) {
		fd = b->ops->map_fd(b, name);
		if (fd < 0 || strlen(name) >= LOADER_MAP_NAME_LEN || strchr(name, '/'))
			continue;
		snprintf(l->shared[l->n_shared].name, LOADER_MAP_NAME_LEN, "%s", name);
		l->shared[l->n_shared++].fd = fd;
	}
}

/*
 * Each drop-in in @own in a module of its own: one that does not compile
 * or verify fails alone, with the compiler's or the verifier's message,
 * and costs the others no second compile. Its backend is never destroyed:
 * the process exits once the fds are sent.
 */
static void load_own(struct loader *l, const struct compile_job *job, const bool *own)
{
	char why[LOADER_ERR_LEN];
	size_t i;

	for (i = 0; i < l->n_tracers; i++) {
		struct loaded_tracer *t = &l->tracers[i];
		struct bpf_backend *own_b;

		if (!own[i])
			continue;
		if (pin_shared(l, why, sizeof(why)) < 0) {
			tracer_fail(t, why);
			continue;
		}
		own_b = compile_own(job, i, why, sizeof(why));
		if (!own_b) {
			tracer_fail(t, why);
			continue;
		}
		if (attach_hooks(own_b, t->ops, job->req->cfg, tracer_record_type(i), NULL,
				 t->link_fds, &t->n_links, t->note, sizeof(t->note), why,
				 sizeof(why)) == 0)
			t->state = TRACER_LOADED;
		else
			tracer_fail(t, why);
	}
}

/*
 * In the loader process, for a reload: the drop-ins in @req->wanted,
 * against the daemon's maps (@req->shared), nothing else.
 */
static int attach_dropins(struct loader *l, const struct loader_request *req, char *err,
			  size_t err_size)
{
	struct compile_job job = { .req = req };
	bool own[LOADER_TRACERS_MAX] = { false };
	double t0 = now_ms();
	int i, ignored = -1;
	size_t t;

	for (i = 0; i < req->n_shared && i < LOADER_SHARED_MAX; i++) {
		l->shared[l->n_shared++] = req->shared[i];
		if (strcmp(req->shared[i].name, "bpfd_ignored") == 0)
			ignored = req->shared[i].fd;
	}
	if (ignored < 0) {
		snprintf(err, err_size, "the daemon sent no bpfd_ignored map");
		return -EPROTO;
	}
	i = mark_ignored(ignored, getpid());
	if (i < 0) {
		snprintf(err, err_size, "marking the loader ignored: %s", strerror(-i));
		return i;
	}
	for (t = 0; t < l->n_tracers; t++) {
		struct loaded_tracer *lt = &l->tracers[t];

		/* The placeholders of the slots not to compile are retired (register_reload()). */
		if (!lt->ops->own_module || tracer_retired(t) || lt->state == TRACER_FAILED)
			continue;
		if (lt->ops->failed)
			tracer_fail(lt, lt->ops->failed);
		else
			own[t] = true;
	}
	cflags_build(&job);
	load_own(l, &job, own);
	l->compile_ms = now_ms() - t0;
	return 0;
}

/*
 * In the loader process: fills @l with fds. The backend is returned in
 * *@backend and must stay alive (its fds open) until they are sent.
 */
static int compile_and_attach(struct loader *l, const struct loader_request *req,
			      struct bpf_backend **backend, char *err, size_t err_size)
{
	struct compile_job job = { .req = req };
	struct hooks_shared shared = { .n = 0 };
	bool own[LOADER_TRACERS_MAX] = { false };
	struct bpf_backend *b;
	double t0 = now_ms();
	uint32_t one = 1;
	size_t i, n_included = 0;
	int r;

	for (i = 0; i < l->n_tracers; i++) {
		struct loaded_tracer *t = &l->tracers[i];
		const char *bin;

		if (!wanted_has(req->wanted, t->ops->name) || t->state == TRACER_FAILED)
			continue;
		if (t->ops->failed) {
			tracer_fail(t, t->ops->failed);
			continue;
		}
		/* Compiled apart, after the main module (compile_own()). */
		if (t->ops->own_module) {
			own[i] = true;
			continue;
		}
		/* A missing binary fails the tracer before it costs a compile. */
		bin = t->ops->binary ? t->ops->binary(req->cfg) : NULL;
		if (bin && access(bin, R_OK) < 0) {
			snprintf(t->error, sizeof(t->error), "%s: %s", bin, strerror(errno));
			t->state = TRACER_FAILED;
			continue;
		}
		job.include[i] = true;
		n_included++;
	}
	job.io_uring = io_uring_traceable(req, l->io_uring_note, sizeof(l->io_uring_note)) == 0;
	cflags_build(&job);

	b = compile(&job, job.include, err, err_size);
	if (!b && job.io_uring && n_included) {
		/*
		 * The io_uring programs are what a kernel's tracepoints or
		 * structs may break (their records are read as tracefs has
		 * them): without them, before blaming a tracer.
		 */
		snprintf(l->io_uring_note, sizeof(l->io_uring_note),
			 "the io_uring programs do not compile: %s", err);
		job.io_uring = false;
		cflags_build(&job);
		b = compile(&job, job.include, err, err_size);
	}
	if (!b && n_included) {
		/*
		 * One tracer's program may be what fails: compile each alone to
		 * find out which, then the good ones together.
		 */
		char why[LOADER_ERR_LEN];
		bool alone[LOADER_TRACERS_MAX];
		struct bpf_backend *single;

		for (i = 0; i < l->n_tracers; i++) {
			if (!job.include[i])
				continue;
			memset(alone, 0, sizeof(alone));
			alone[i] = true;
			single = compile(&job, alone, why, sizeof(why));
			if (single) {
				single->ops->destroy(single);
			} else {
				job.include[i] = false;
				tracer_fail(&l->tracers[i], why);
			}
		}
		b = compile(&job, job.include, err, err_size);
	}
	if (!b)
		return -EINVAL;
	*backend = b;
	snprintf(l->bcc_version, sizeof(l->bcc_version), "%s", b->ops->version(b));

	l->events_fd = b->ops->map_fd(b, "bpfd_events");
	l->enabled_fd = b->ops->map_fd(b, "bpfd_enabled");
	l->ignored_fd = b->ops->map_fd(b, "bpfd_ignored");
	l->lost_fd = b->ops->map_fd(b, "bpfd_lost");
	l->containers_fd = b->ops->map_fd(b, "bpfd_containers");
	l->contained_fd = b->ops->map_fd(b, "bpfd_contained");
	l->map_full_fd = b->ops->map_fd(b, "bpfd_map_full");
	l->prefilter_fd = b->ops->map_fd(b, "bpfd_prefilter");
	l->prefiltered_fd = b->ops->map_fd(b, "bpfd_prefiltered");
	l->pf_comms_fd = b->ops->map_fd(b, "bpfd_pf_comms");
	l->pf_paths_fd = b->ops->map_fd(b, "bpfd_pf_paths");
	l->pf_uids_fd = b->ops->map_fd(b, "bpfd_pf_uids");
	l->pf_idents_fd = b->ops->map_fd(b, "bpfd_pf_idents");
	l->pf_ident_hint_fd = b->ops->map_fd(b, "bpfd_pf_ident_hint");
	l->compat_progs_fd = b->ops->map_fd(b, "bpfd_compat_progs");
	l->pf_meta_fd = b->ops->map_fd(b, "bpfd_pf_meta");
	l->daemon_fd = b->ops->map_fd(b, "bpfd_daemon");
	if (l->events_fd < 0 || l->enabled_fd < 0 || l->ignored_fd < 0 || l->lost_fd < 0 ||
	    l->containers_fd < 0 || l->contained_fd < 0 || l->map_full_fd < 0 ||
	    l->prefilter_fd < 0 || l->prefiltered_fd < 0 || l->pf_comms_fd < 0 ||
	    l->pf_paths_fd < 0 || l->pf_uids_fd < 0 || l->pf_idents_fd < 0 ||
	    l->pf_ident_hint_fd < 0 || l->compat_progs_fd < 0 || l->pf_meta_fd < 0 ||
	    l->daemon_fd < 0) {
		snprintf(err, err_size, "the compiled module lacks its maps");
		return -ENOENT;
	}
	collect_shared(b, l);
	/* The daemon and this process are ignored before anything is attached. */
	r = mark_ignored(l->ignored_fd, req->daemon);
	if (!r)
		r = mark_ignored(l->ignored_fd, getpid());
	if (r < 0) {
		snprintf(err, err_size, "marking the daemon ignored: %s", strerror(-r));
		return r;
	}
	r = attach_hooks(b, &common_ops, req->cfg, 0, NULL, l->common_fds, &l->n_common, NULL, 0,
			 err, err_size);
	if (r < 0)
		return r;
	/* The cgroup records are wanted from the start. */
	r = bpfmap_update(l->enabled_fd, &(uint32_t){ BPFD_RECORD_CGROUP_MKDIR }, &one, 0);
	if (r < 0) {
		snprintf(err, err_size, "enabling cgroup records: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < l->n_tracers; i++) {
		struct loaded_tracer *t = &l->tracers[i];
		char why[LOADER_ERR_LEN];

		if (!job.include[i] || t->state == TRACER_FAILED)
			continue;
		if (attach_hooks(b, t->ops, req->cfg, tracer_record_type(i), &shared, t->link_fds,
				 &t->n_links, t->note, sizeof(t->note), why, sizeof(why)) == 0 &&
		    tracer_maps(b, t, why, sizeof(why)) == 0) {
			t->state = TRACER_LOADED;
			hooks_attached(&shared, t->ops, req->cfg);
		} else {
			tracer_fail(t, why);
		}
		t->uprobe_prog_fd = uprobe_function(t->ops) ?
			b->ops->prog_fd(b, uprobe_function(t->ops)) : -1;
	}
	load_own(l, &job, own);
	attach_io_uring(b, l, &job, &shared);
	l->compile_ms = now_ms() - t0;
	return 0;
}

/* ---- Handing the result over: one message, the fds as SCM_RIGHTS. ---- */

struct loader_wire {
	int err;
	char message[2048];
	double compile_ms;
	char bcc_version[32];
	int n_common;
	int io_uring;
	char io_uring_note[LOADER_ERR_LEN];
	struct {
		enum tracer_state state;
		char error[LOADER_ERR_LEN];
		char note[LOADER_ERR_LEN];
		int n_links;
		int n_maps;
		bool has_prog;
	} tracers[LOADER_TRACERS_MAX];
	/* The main module's maps, whose fds follow the tracers' (not in a reload's result). */
	int n_shared;
	char shared[LOADER_SHARED_MAX][LOADER_MAP_NAME_LEN];
};

enum {
	WIRE_MAPS = 17,
	WIRE_FDS_MAX = WIRE_MAPS + LOADER_LINKS_MAX * (LOADER_TRACERS_MAX + 1) +
		       LOADER_TRACERS_MAX * (1 + LOADER_MAPS_MAX) + LOADER_SHARED_MAX,
};

/*
 * The fds in wire order: maps, common links, each tracer's links, the
 * shared maps. A reload's result (@tracers_only) has the tracers' alone.
 */
static int wire_fds(struct loader *l, int **slots, bool tracers_only)
{
	int n = 0, i;
	size_t t;

	if (tracers_only)
		goto tracers;
	slots[n++] = &l->events_fd;
	slots[n++] = &l->enabled_fd;
	slots[n++] = &l->ignored_fd;
	slots[n++] = &l->lost_fd;
	slots[n++] = &l->containers_fd;
	slots[n++] = &l->contained_fd;
	slots[n++] = &l->map_full_fd;
	slots[n++] = &l->prefilter_fd;
	slots[n++] = &l->prefiltered_fd;
	slots[n++] = &l->pf_comms_fd;
	slots[n++] = &l->pf_paths_fd;
	slots[n++] = &l->pf_uids_fd;
	slots[n++] = &l->pf_idents_fd;
	slots[n++] = &l->pf_ident_hint_fd;
	slots[n++] = &l->compat_progs_fd;
	slots[n++] = &l->pf_meta_fd;
	slots[n++] = &l->daemon_fd;
	for (i = 0; i < l->n_common; i++)
		slots[n++] = &l->common_fds[i];
tracers:
	for (t = 0; t < l->n_tracers; t++) {
		for (i = 0; i < l->tracers[t].n_links; i++)
			slots[n++] = &l->tracers[t].link_fds[i];
		if (l->tracers[t].uprobe_prog_fd >= 0)
			slots[n++] = &l->tracers[t].uprobe_prog_fd;
		for (i = 0; i < l->tracers[t].n_maps; i++)
			slots[n++] = &l->tracers[t].map_fds[i];
	}
	for (i = 0; !tracers_only && i < l->n_shared; i++)
		slots[n++] = &l->shared[i].fd;
	return n;
}

/* Sends @len bytes of @buf with the @n fds of @fds beside them. 0 or a negative errno. */
static int send_with_fds(int sock, const void *buf, size_t len, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (n > WIRE_FDS_MAX)
		return -E2BIG;
	if (n > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

/* @l as the wire says it (the fds, in wire_fds() order, beside it); their count. */
static int fill_wire(struct loader_wire *w, struct loader *l, int err, const char *message,
		     bool tracers_only, int **slots)
{
	int n = 0, i;
	size_t t;

	w->err = err;
	snprintf(w->message, sizeof(w->message), "%s", message);
	if (!err) {
		w->compile_ms = l->compile_ms;
		snprintf(w->bcc_version, sizeof(w->bcc_version), "%s", l->bcc_version);
		w->n_common = l->n_common;
		w->io_uring = l->io_uring;
		memcpy(w->io_uring_note, l->io_uring_note, LOADER_ERR_LEN);
		w->n_shared = tracers_only ? 0 : l->n_shared;
		for (i = 0; i < w->n_shared; i++)
			memcpy(w->shared[i], l->shared[i].name, LOADER_MAP_NAME_LEN);
		n = wire_fds(l, slots, tracers_only);
	}
	for (t = 0; t < l->n_tracers; t++) {
		w->tracers[t].state = l->tracers[t].state;
		memcpy(w->tracers[t].error, l->tracers[t].error, LOADER_ERR_LEN);
		memcpy(w->tracers[t].note, l->tracers[t].note, LOADER_ERR_LEN);
		w->tracers[t].n_links = err ? 0 : l->tracers[t].n_links;
		w->tracers[t].has_prog = !err && l->tracers[t].uprobe_prog_fd >= 0;
		w->tracers[t].n_maps = err ? 0 : l->tracers[t].n_maps;
	}
	return n;
}

static void send_result(int sock, struct loader *l, int err, const char *message,
			bool tracers_only)
{
	struct loader_wire *w = calloc(1, sizeof(*w));
	int *slots[WIRE_FDS_MAX], fds[WIRE_FDS_MAX];
	int n, i;

	if (!w)
		return;
	n = fill_wire(w, l, err, message, tracers_only, slots);
	for (i = 0; i < n; i++)
		fds[i] = *slots[i];
	(void)!send_with_fds(sock, w, sizeof(*w), fds, n);
	free(w);
}

static void loader_reset(struct loader *l)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	l->events_fd = l->enabled_fd = l->ignored_fd = l->lost_fd = -1;
	l->containers_fd = l->contained_fd = l->map_full_fd = -1;
	l->prefilter_fd = l->prefiltered_fd = l->pf_comms_fd = l->pf_paths_fd = -1;
	l->pf_uids_fd = l->pf_idents_fd = l->pf_ident_hint_fd = l->compat_progs_fd = -1;
	l->pf_meta_fd = l->daemon_fd = -1;
	l->n_tracers = tracer_count;
	for (i = 0; i < LOADER_TRACERS_MAX; i++) {
		l->tracers[i].ops = i < tracer_count ? tracer_table[i] : NULL;
		l->tracers[i].state = TRACER_DISABLED;
		l->tracers[i].uprobe_prog_fd = -1;
	}
}

static void check_sources(struct loader *l, const uint64_t *hashes);

static void __attribute__((noreturn)) loader_child(int sock, const struct loader_request *req)
{
	struct bpf_backend *b = NULL;
	struct loader l;
	char err[2048] = "";
	sigset_t none;
	int r;

	/* Die with the daemon; take SIGINT/SIGTERM like any process. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (getppid() != req->daemon)
		_exit(1);
	loader_reset(&l);
	check_sources(&l, req->source_hash);
	if (req->shared)
		r = attach_dropins(&l, req, err, sizeof(err));
	else
		r = compile_and_attach(&l, req, &b, err, sizeof(err));
	send_result(sock, &l, r, err, req->shared != NULL);
	/*
	 * No destroy: the daemon holds copies of the fds now, and the process
	 * exit closes ours. (Destroying would also unregister uprobes.)
	 */
	_exit(0);
}

static int take_wire(struct loader *l, const struct loader_wire *w, int *fds, int n_fds,
		     bool tracers_only, const char *from, char *err, size_t err_size);

static int receive_result(int sock, struct loader *l, bool tracers_only, char *err,
			  size_t err_size)
{
	struct loader_wire *w = calloc(1, sizeof(*w));
	char cbuf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
	struct iovec iov;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	int fds[WIRE_FDS_MAX], n_fds = 0, i;
	ssize_t n;

	if (!w)
		return -ENOMEM;
	iov = (struct iovec){ .iov_base = w, .iov_len = sizeof(*w) };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	/* Nothing received (the loader died): no control data to look at. */
	if (n <= 0)
		msg.msg_controllen = 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			n_fds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), n_fds * sizeof(int));
		}
	}
	if (n != (ssize_t)sizeof(*w)) {
		snprintf(err, err_size, "the loader process died before it finished (see the log)");
		for (i = 0; i < n_fds; i++)
			close(fds[i]);
		free(w);
		return -EPROTO;
	}
	if (msg.msg_flags & MSG_CTRUNC)
		n_fds = -1;
	n = take_wire(l, w, fds, n_fds, tracers_only, "the loader process", err, err_size);
	free(w);
	return (int)n;
}

/*
 * @l from the wire @w and the @n_fds fds beside it (-1: some were lost),
 * in wire_fds() order; every fd is closed on a failure. @from names the
 * sender in messages.
 */
static int take_wire(struct loader *l, const struct loader_wire *w, int *fds, int n_fds,
		     bool tracers_only, const char *from, char *err, size_t err_size)
{
	int *slots[WIRE_FDS_MAX];
	int want, i, r;
	size_t t;

	for (t = 0; t < l->n_tracers; t++) {
		l->tracers[t].state = w->tracers[t].state;
		memcpy(l->tracers[t].error, w->tracers[t].error, LOADER_ERR_LEN);
		l->tracers[t].error[LOADER_ERR_LEN - 1] = '\0';
		memcpy(l->tracers[t].note, w->tracers[t].note, LOADER_ERR_LEN);
		l->tracers[t].note[LOADER_ERR_LEN - 1] = '\0';
	}
	if (w->err) {
		snprintf(err, err_size, "%s", w->message);
		r = w->err < 0 ? w->err : -w->err;
		goto fail;
	}
	l->compile_ms = w->compile_ms;
	memcpy(l->bcc_version, w->bcc_version, sizeof(l->bcc_version) - 1);
	l->n_common = w->n_common;
	l->io_uring = w->io_uring;
	memcpy(l->io_uring_note, w->io_uring_note, LOADER_ERR_LEN);
	l->io_uring_note[LOADER_ERR_LEN - 1] = '\0';
	for (t = 0; t < l->n_tracers; t++) {
		l->tracers[t].n_links = w->tracers[t].n_links;
		/* A placeholder >= 0 so that wire_fds() counts a slot for it. */
		l->tracers[t].uprobe_prog_fd = w->tracers[t].has_prog ? 0 : -1;
		l->tracers[t].n_maps = w->tracers[t].n_maps;
	}
	l->n_shared = 0;
	for (i = 0; !tracers_only && i < w->n_shared && i < LOADER_SHARED_MAX; i++) {
		memcpy(l->shared[i].name, w->shared[i], LOADER_MAP_NAME_LEN);
		l->shared[i].name[LOADER_MAP_NAME_LEN - 1] = '\0';
		l->shared[i].fd = 0;
		l->n_shared++;
	}
	want = wire_fds(l, slots, tracers_only);
	if (want != n_fds) {
		snprintf(err, err_size, "%s sent %d fds, %d expected", from, n_fds, want);
		l->n_common = 0;
		l->n_shared = 0;
		for (t = 0; t < l->n_tracers; t++) {
			l->tracers[t].n_links = 0;
			l->tracers[t].uprobe_prog_fd = -1;
			l->tracers[t].n_maps = 0;
		}
		r = -EPROTO;
		goto fail;
	}
	for (i = 0; i < want; i++)
		*slots[i] = fds[i];
	return 0;
fail:
	for (i = 0; i < n_fds; i++)
		close(fds[i]);
	return r;
}

/*
 * The request as it crosses exec into the loader process: no pointers.
 * The loader is a fresh image of this binary (not a bare fork) so that
 * nothing of the daemon's heap lingers in it, and so that a daemon run
 * under valgrind does not also run LLVM under it.
 */
enum { WIRE_NAME_LEN = 64, WIRE_DIR_LEN = 4096, WIRE_REQUEST_MAGIC = 0x62706672 };
struct wire_request {
	uint32_t magic;
	uint32_t n_wanted;		/* UINT32_MAX: all tracers */
	char wanted[LOADER_TRACERS_MAX][WIRE_NAME_LEN];
	/* tracer_config's settings: name and value, "" names unused */
	char option_names[TRACER_OPTIONS_MAX][WIRE_NAME_LEN];
	char option_values[TRACER_OPTIONS_MAX][TRACER_OPTION_VALUE_MAX];
	uint32_t compat_syscalls;
	struct kernel_offsets offsets;
	int32_t daemon;
	int32_t cgroup_root, cgroup_v1_subsys;
	uint32_t ringbuf_pages;
	/*
	 * The drop-ins: their directory, which the loader reads again, and
	 * every tracer's name as the daemon numbered them, which it checks.
	 */
	char tracers_dir[WIRE_DIR_LEN];
	uint32_t n_tracers;
	char names[LOADER_TRACERS_MAX][WIRE_NAME_LEN];
	/* Of each drop-in's source (its record's layout included), 0 for the others. */
	uint64_t source_hash[LOADER_TRACERS_MAX];
	/* A reload (loader_request.shared): the daemon's maps, their fds beside the request. */
	uint32_t n_shared;
	char shared[LOADER_SHARED_MAX][LOADER_MAP_NAME_LEN];
	uint8_t compile[LOADER_TRACERS_MAX];	/* a reload's: the slots to compile */
};

/* FNV-1a of @s: a drop-in's source as the daemon read it, against the loader's read. */
static uint64_t source_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (s && *s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void wire_request_fill(struct wire_request *w, const struct loader_request *req)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->magic = WIRE_REQUEST_MAGIC;
	w->n_wanted = UINT32_MAX;
	if (req->wanted) {
		for (i = 0; req->wanted[i] && i < LOADER_TRACERS_MAX; i++)
			snprintf(w->wanted[i], WIRE_NAME_LEN, "%s", req->wanted[i]);
		w->n_wanted = (uint32_t)i;
	}
	for (i = 0; req->cfg && i < req->cfg->n_settings && i < TRACER_OPTIONS_MAX; i++) {
		const struct tracer_setting *o = &req->cfg->settings[i];

		if (!o->value)
			continue;
		snprintf(w->option_names[i], WIRE_NAME_LEN, "%s", o->name);
		snprintf(w->option_values[i], TRACER_OPTION_VALUE_MAX, "%s", o->value);
	}
	w->compat_syscalls = req->cfg && req->cfg->compat_syscalls;
	w->offsets = *req->offsets;
	w->daemon = req->daemon;
	w->cgroup_root = req->cgroup_root;
	w->cgroup_v1_subsys = req->cgroup_v1_subsys;
	w->ringbuf_pages = req->ringbuf_pages;
	if (req->tracers_dir)
		snprintf(w->tracers_dir, WIRE_DIR_LEN, "%s", req->tracers_dir);
	if (req->slots) {
		w->n_tracers = (uint32_t)req->n_slots;
		for (i = 0; i < req->n_slots && i < LOADER_TRACERS_MAX; i++) {
			snprintf(w->names[i], WIRE_NAME_LEN, "%s", req->slots[i]->name);
			w->compile[i] = req->compile && req->compile[i];
			if (w->compile[i])
				w->source_hash[i] = source_hash(req->slots[i]->bpf_source);
		}
	} else {
		w->n_tracers = (uint32_t)tracer_count;
		for (i = 0; i < tracer_count && i < LOADER_TRACERS_MAX; i++) {
			snprintf(w->names[i], WIRE_NAME_LEN, "%s", tracer_table[i]->name);
			if (tracer_table[i]->own_module)
				w->source_hash[i] = source_hash(tracer_table[i]->bpf_source);
		}
	}
	for (i = 0; req->shared && i < (size_t)req->n_shared && i < LOADER_SHARED_MAX; i++)
		memcpy(w->shared[i], req->shared[i].name, LOADER_MAP_NAME_LEN);
	w->n_shared = req->shared ? (uint32_t)i : 0;
}

/*
 * In the loader process, for a reload: the daemon's numbering of @w->names,
 * the drop-ins to compile read again from their directory at their slots,
 * and in every other drop-in slot a retired placeholder.
 */
static int register_reload(struct wire_request *w)
{
	struct tracer_ops *found[TRACERS_MAX];
	size_t n_found = 0;
	char err[512];
	uint32_t i;
	size_t j;
	int r = 0;

	if (w->n_tracers < tracer_builtin_count || w->n_tracers > TRACERS_MAX)
		return -ESTALE;
	for (i = 0; i < tracer_builtin_count; i++)
		if (strcmp(w->names[i], tracer_table[i]->name))
			return -ESTALE;
	if (tracer_read_dropins(w->tracers_dir, true, NULL, found, TRACERS_MAX, &n_found, err,
				sizeof(err)) < 0) {
		fprintf(stderr, "bpfd: the loader process: %s\n", err);
		return -EPERM;
	}
	for (i = (uint32_t)tracer_count; !r && i < w->n_tracers; i++) {
		struct tracer_ops *ops = NULL;
		bool placeholder = !w->compile[i];

		for (j = 0; !placeholder && j < n_found; j++) {
			if (found[j] && strcmp(found[j]->name, w->names[i]) == 0) {
				ops = found[j];
				found[j] = NULL;
			}
		}
		if (!ops) {
			ops = tracer_dropin_failed("", "", placeholder ? "not reloaded" :
						"its files are gone");
			placeholder = true;
		}
		if (!ops || tracer_register(ops) < 0) {
			tracer_dropin_free(ops);
			r = -ESTALE;
		} else if (placeholder) {
			tracer_retire(i);
		}
	}
	for (j = 0; j < n_found; j++)
		tracer_dropin_free(found[j]);
	return r;
}

/*
 * In the loader process: the drop-ins of @w's directory, registered as the
 * daemon registered them. 0, or -ESTALE when the directory changed between
 * the two reads (the tracers would be numbered differently).
 */
static int register_dropins(struct wire_request *w)
{
	char err[512];
	uint32_t i;

	w->tracers_dir[WIRE_DIR_LEN - 1] = '\0';
	for (i = 0; i < w->n_tracers && i < LOADER_TRACERS_MAX; i++)
		w->names[i][WIRE_NAME_LEN - 1] = '\0';
	if (w->n_shared)
		return register_reload(w);
	if (w->tracers_dir[0] && tracer_load_dropins(w->tracers_dir, true, NULL, err,
						     sizeof(err)) < 0) {
		fprintf(stderr, "bpfd: the loader process: %s\n", err);
		return -EPERM;
	}
	if (w->n_tracers != tracer_count)
		return -ESTALE;
	for (i = 0; i < w->n_tracers && i < LOADER_TRACERS_MAX; i++) {
		w->names[i][WIRE_NAME_LEN - 1] = '\0';
		if (strcmp(w->names[i], tracer_table[i]->name))
			return -ESTALE;
	}
	return 0;
}

/*
 * A drop-in whose files changed between the daemon's read and the loader's:
 * the daemon would decode its records by another layout. It fails.
 */
static void check_sources(struct loader *l, const uint64_t *hashes)
{
	size_t i;

	for (i = 0; hashes && i < l->n_tracers && i < LOADER_TRACERS_MAX; i++) {
		const struct tracer_ops *t = l->tracers[i].ops;

		if (t->own_module && !t->failed && hashes[i] != source_hash(t->bpf_source))
			tracer_fail(&l->tracers[i], "its files changed while the daemon started: "
				    "restart the daemon");
	}
}

/* Receives the request and, for a reload, the daemon's maps beside it. */
static int receive_request(int sock, struct wire_request *w, int *fds, int *n_fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * LOADER_SHARED_MAX)];
	struct iovec iov = { .iov_base = w, .iov_len = sizeof(*w) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	*n_fds = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			*n_fds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(cm), *n_fds * sizeof(int));
		}
	}
	if (n != (ssize_t)sizeof(*w) || w->magic != WIRE_REQUEST_MAGIC ||
	    (w->n_wanted > LOADER_TRACERS_MAX && w->n_wanted != UINT32_MAX) ||
	    w->n_shared > LOADER_SHARED_MAX || (int)w->n_shared != *n_fds ||
	    (msg.msg_flags & MSG_CTRUNC))
		return -EPROTO;
	return 0;
}

int loader_exec_main(int sock)
{
	static struct wire_request w;
	static const char *wanted[LOADER_TRACERS_MAX + 1];
	static struct loader_shared_map shared[LOADER_SHARED_MAX];
	static struct tracer_config cfg;
	struct loader_request req = { 0 };
	int fds[LOADER_SHARED_MAX], n_fds;
	uint32_t i;

	if (receive_request(sock, &w, fds, &n_fds) < 0) {
		fprintf(stderr, "bpfd: the loader process got no valid request\n");
		return 1;
	}
	if (w.n_wanted != UINT32_MAX) {
		for (i = 0; i < w.n_wanted; i++) {
			w.wanted[i][WIRE_NAME_LEN - 1] = '\0';
			wanted[i] = w.wanted[i];
		}
		wanted[w.n_wanted] = NULL;
		req.wanted = wanted;
	}
	for (i = 0; i < w.n_shared; i++) {
		memcpy(shared[i].name, w.shared[i], LOADER_MAP_NAME_LEN);
		shared[i].name[LOADER_MAP_NAME_LEN - 1] = '\0';
		shared[i].fd = fds[i];
	}
	if (w.n_shared) {
		req.shared = shared;
		req.n_shared = (int)w.n_shared;
	}
	for (i = 0; i < TRACER_OPTIONS_MAX; i++) {
		w.option_names[i][WIRE_NAME_LEN - 1] = '\0';
		w.option_values[i][TRACER_OPTION_VALUE_MAX - 1] = '\0';
		/* Names the daemon checked; one this binary does not know is ignored. */
		if (w.option_names[i][0])
			tracer_config_set(&cfg, w.option_names[i], w.option_values[i]);
	}
	if (register_dropins(&w) < 0) {
		fprintf(stderr, "bpfd: the loader process: the tracers directory changed while "
			"loading: start again\n");
		return 1;
	}
	cfg.compat_syscalls = w.compat_syscalls != 0;
	req.cfg = &cfg;
	req.source_hash = w.source_hash;
	req.offsets = &w.offsets;
	req.daemon = w.daemon;
	req.cgroup_root = w.cgroup_root;
	req.cgroup_v1_subsys = w.cgroup_v1_subsys;
	req.ringbuf_pages = w.ringbuf_pages;
	loader_child(sock, &req);
}

/* In the child: becomes the loader process; returns only if exec failed. */
static void exec_loader(int sock)
{
	char fd[16], self[4096];
	ssize_t n;

	/*
	 * The binary's own path rather than exec of /proc/self/exe itself:
	 * under valgrind only the former names bpfd (valgrind answers the
	 * readlink for its guest).
	 */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	/* The socket is the one fd that must survive exec. */
	if (fcntl(sock, F_SETFD, 0) < 0)
		return;
	snprintf(fd, sizeof(fd), "%d", sock);
	execl(self, "bpfd", LOADER_EXEC_ARG, fd, (char *)NULL);
	fcntl(sock, F_SETFD, FD_CLOEXEC);
}

int loader_load(struct loader *l, const struct loader_request *req, char *err, size_t err_size)
{
	struct wire_request *w;
	int sv[2], status, r;
	pid_t pid;

	loader_reset(l);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, err_size, "socketpair: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		snprintf(err, err_size, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		exec_loader(sv[1]);
		/* No exec (no /proc?): load from this copy of the daemon instead. */
		loader_child(sv[1], req);
	}
	close(sv[1]);
	w = malloc(sizeof(*w));
	if (!w) {
		r = -ENOMEM;
		snprintf(err, err_size, "out of memory");
	} else {
		wire_request_fill(w, req);
		/* A child that runs loader_child() itself reads nothing: no harm. */
		r = send(sv[0], w, sizeof(*w), MSG_NOSIGNAL) == (ssize_t)sizeof(*w) ? 0 : -errno;
		free(w);
		if (r < 0 && r != -EPIPE && r != -ECONNRESET)
			snprintf(err, err_size, "sending the loader its request: %s", strerror(-r));
		r = receive_result(sv[0], l, false, err, err_size);
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0) {
		r = loader_set_daemon(l, req->daemon);
		if (r < 0)
			snprintf(err, err_size, "writing bpfd_daemon: %s", strerror(-r));
	}
	return r;
}

int loader_reload_start(const struct loader *l, const struct loader_request *req,
			struct loader_reload *r, char *err, size_t err_size)
{
	struct loader_request own = *req;
	struct wire_request *w;
	int sv[2], fds[LOADER_SHARED_MAX], i, ret;
	pid_t pid;

	if (!l->n_shared) {
		snprintf(err, err_size, "the daemon holds no maps to share");
		return -ENOENT;
	}
	own.shared = l->shared;
	own.n_shared = l->n_shared;
	w = malloc(sizeof(*w));
	if (!w) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	wire_request_fill(w, &own);
	for (i = 0; i < l->n_shared; i++)
		fds[i] = l->shared[i].fd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		snprintf(err, err_size, "socketpair: %s", strerror(errno));
		free(w);
		return ret;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(err, err_size, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(w);
		return ret;
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		exec_loader(sv[1]);
		loader_child(sv[1], &own);
	}
	close(sv[1]);
	ret = send_with_fds(sv[0], w, sizeof(*w), fds, l->n_shared);
	free(w);
	if (ret < 0 && ret != -EPIPE && ret != -ECONNRESET) {
		snprintf(err, err_size, "sending the loader its request: %s", strerror(-ret));
		kill(pid, SIGKILL);
		close(sv[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return ret;
	}
	r->sock = sv[0];
	r->pid = pid;
	r->n_slots = req->n_slots;
	return 0;
}

int loader_reload_finish(struct loader_reload *r, struct loader *out, char *err, size_t err_size)
{
	int ret;

	loader_reset(out);
	/* Slots past the daemon's tracers: the new drop-ins, registered once they load. */
	if (r->n_slots > out->n_tracers && r->n_slots <= LOADER_TRACERS_MAX)
		out->n_tracers = r->n_slots;
	ret = receive_result(r->sock, out, true, err, err_size);
	close(r->sock);
	r->sock = -1;
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
	return ret;
}

void loader_reload_abort(struct loader_reload *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (r->sock >= 0)
		close(r->sock);
	r->sock = -1;
	r->pid = 0;
}

/* ---- The daemon's side. ---- */

int loader_ring_open(struct loader *l, loader_sample_fn fn, void *ctx)
{
	l->ring = ring_buffer__new(l->events_fd, fn, ctx, NULL);
	if (!l->ring)
		return errno ? -errno : -EINVAL;
	return ring_buffer__epoll_fd(l->ring);
}

int loader_ring_consume(struct loader *l)
{
	if (!l->ring)
		return -EINVAL;
	return ring_buffer__consume(l->ring);
}

int loader_set_daemon(struct loader *l, pid_t tgid)
{
	struct bpfd_daemon_info info = { .tgid = (uint32_t)tgid };
	uint32_t zero = 0;

	return bpfmap_update(l->daemon_fd, &zero, &info, 0);
}

int loader_take_daemon(struct loader *l, pid_t tgid)
{
	struct bpfd_daemon_info info = { 0 };
	uint32_t zero = 0, old;
	int r;

	if (bpf_map_lookup_elem(l->daemon_fd, &zero, &info) == 0 && info.tgid &&
	    info.tgid != (uint32_t)tgid) {
		old = info.tgid;
		bpf_map_delete_elem(l->ignored_fd, &old);
	}
	r = mark_ignored(l->ignored_fd, tgid);
	return r < 0 ? r : loader_set_daemon(l, tgid);
}

int loader_start(struct loader *l)
{
	uint32_t one = 1, type;
	size_t i;
	int r;

	for (i = 0; i < l->n_tracers; i++) {
		if (l->tracers[i].state != TRACER_LOADED)
			continue;
		type = tracer_record_type(i);
		r = bpfmap_update(l->enabled_fd, &type, &one, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int loader_enable_type(struct loader *l, uint32_t type)
{
	uint32_t one = 1;

	return bpfmap_update(l->enabled_fd, &type, &one, 0);
}

uint64_t loader_lost(struct loader *l, uint32_t type)
{
	uint64_t sum = 0;

	if (l->lost_fd < 0 || bpfmap_percpu_sum(l->lost_fd, type, &sum) < 0)
		return 0;
	return sum;
}

uint64_t loader_prefiltered(struct loader *l, uint32_t type)
{
	uint64_t sum = 0;

	if (l->prefiltered_fd < 0 || bpfmap_percpu_sum(l->prefiltered_fd, type, &sum) < 0)
		return 0;
	return sum;
}

size_t loader_map_stats(struct loader *l, struct loader_map_stats *out, size_t n)
{
	const struct {
		const char *name;
		int fd;
	} maps[BPFD_MAPS_COUNTED] = {
		[BPFD_MAP_CONTAINERS] = { "bpfd_containers", l->containers_fd },
		[BPFD_MAP_CONTAINED] = { "bpfd_contained", l->contained_fd },
		[BPFD_MAP_IGNORED] = { "bpfd_ignored", l->ignored_fd },
	};
	size_t i;

	for (i = 0; i < n && i < BPFD_MAPS_COUNTED; i++) {
		out[i].name = maps[i].name;
		out[i].entries = out[i].capacity = out[i].failed = 0;
		if (maps[i].fd < 0)
			continue;
		bpfmap_occupancy(maps[i].fd, &out[i].entries, &out[i].capacity);
		if (l->map_full_fd >= 0)
			bpfmap_percpu_sum(l->map_full_fd, (uint32_t)i, &out[i].failed);
	}
	return i;
}

int loader_run_stats(struct loader *l, size_t index, uint64_t *run_ns, uint64_t *run_cnt)
{
	const struct loaded_tracer *t = &l->tracers[index];
	uint32_t seen[LOADER_LINKS_MAX + 1], id;
	uint64_t ns, cnt;
	size_t n_seen = 0, j;
	int i, err;

	*run_ns = *run_cnt = 0;
	if (index >= l->n_tracers)
		return -EINVAL;
	for (i = 0; i <= t->n_links; i++) {
		int fd = i < t->n_links ? t->link_fds[i] : t->uprobe_prog_fd;

		if (fd < 0)
			continue;
		err = bpfmap_prog_run_stats(fd, &id, &ns, &cnt);
		if (err < 0)
			return err;
		for (j = 0; j < n_seen && seen[j] != id; j++)
			;
		if (j < n_seen)
			continue;
		seen[n_seen++] = id;
		*run_ns += ns;
		*run_cnt += cnt;
	}
	return 0;
}

bool loader_run_stats_enabled(void)
{
	return bpfmap_run_stats_enabled();
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int loader_set_enabled(struct loader *l, size_t index, bool on)
{
	uint32_t type = tracer_record_type(index), value = on;

	return bpfmap_update(l->enabled_fd, &type, &value, 0);
}

/* Zeroes the kernel's per-CPU counters of record type @type in map @fd. */
static void zero_counter(int fd, uint32_t type)
{
	int cpus = bpfmap_possible_cpus();
	uint64_t *zeros = cpus > 0 ? calloc((size_t)cpus, sizeof(*zeros)) : NULL;

	if (zeros)
		bpfmap_update(fd, &type, zeros, 0);
	free(zeros);
}

void loader_release_slot(struct loader *l, size_t index)
{
	struct loaded_tracer *t = &l->tracers[index];

	loader_set_enabled(l, index, false);
	while (t->n_links)
		close_fd(&t->link_fds[--t->n_links]);
	close_fd(&t->uprobe_prog_fd);
	while (t->n_maps)
		close_fd(&t->map_fds[--t->n_maps]);
	t->state = TRACER_DISABLED;
}

void loader_take_slot(struct loader *l, struct loader *from, size_t index)
{
	struct loaded_tracer *t = &l->tracers[index], *f = &from->tracers[index];

	loader_release_slot(l, index);
	/* A slot given again starts its counts anew. */
	zero_counter(l->lost_fd, tracer_record_type(index));
	zero_counter(l->prefiltered_fd, tracer_record_type(index));
	t->ops = tracer_table[index];
	t->state = f->state;
	memcpy(t->error, f->error, sizeof(t->error));
	memcpy(t->note, f->note, sizeof(t->note));
	memcpy(t->link_fds, f->link_fds, sizeof(t->link_fds));
	t->n_links = f->n_links;
	t->uprobe_prog_fd = f->uprobe_prog_fd;
	memcpy(t->map_fds, f->map_fds, sizeof(t->map_fds));
	t->n_maps = f->n_maps;
	memset(&t->drain, 0, sizeof(t->drain));
	f->n_links = f->n_maps = 0;
	f->uprobe_prog_fd = -1;
	if (index >= l->n_tracers)
		l->n_tracers = index + 1;
}

void loader_unload(struct loader *l)
{
	size_t t;

	if (!l->n_tracers)	/* never loaded */
		return;
	if (l->ring)
		ring_buffer__free(l->ring);
	l->ring = NULL;
	for (t = 0; t < l->n_tracers; t++) {
		while (l->tracers[t].n_links)
			close_fd(&l->tracers[t].link_fds[--l->tracers[t].n_links]);
		close_fd(&l->tracers[t].uprobe_prog_fd);
		while (l->tracers[t].n_maps)
			close_fd(&l->tracers[t].map_fds[--l->tracers[t].n_maps]);
	}
	while (l->n_common)
		close_fd(&l->common_fds[--l->n_common]);
	close_fd(&l->events_fd);
	close_fd(&l->enabled_fd);
	close_fd(&l->ignored_fd);
	close_fd(&l->lost_fd);
	close_fd(&l->containers_fd);
	close_fd(&l->contained_fd);
	close_fd(&l->map_full_fd);
	close_fd(&l->prefilter_fd);
	close_fd(&l->prefiltered_fd);
	close_fd(&l->pf_comms_fd);
	close_fd(&l->pf_paths_fd);
	close_fd(&l->pf_uids_fd);
	close_fd(&l->pf_idents_fd);
	close_fd(&l->pf_ident_hint_fd);
	close_fd(&l->compat_progs_fd);
	close_fd(&l->pf_meta_fd);
	close_fd(&l->daemon_fd);
}

/* What loader_handover() sends before the fds: the stamp and the tracers' names. */
enum { HANDOVER_MAGIC = 0x62706668 };
struct handover_head {
	uint32_t magic;
	uint32_t n_tracers;
	uint64_t stamp;
	char names[LOADER_TRACERS_MAX][LOADER_NAME_LEN];
};

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 1099511628211ULL;
	return h;
}

uint64_t loader_stamp(const struct loader_request *req)
{
	struct wire_request *w = malloc(sizeof(*w));
	uint64_t h = 14695981039346656037ULL;
	struct utsname u;
	size_t i;

	if (!w)
		return 0;
	/* The request, byte for byte: wire_request_fill() zeroes what it does not set. */
	wire_request_fill(w, req);
	/* Not the daemon's pid: what the programs know of the daemon is in bpfd_daemon. */
	w->daemon = 0;
	h = fnv_bytes(h, w, sizeof(*w));
	free(w);
	/* Every source compiled in, each tracer's (a refused drop-in has none). */
	h = fnv_bytes(h, bpfd_common_bpf_source, strlen(bpfd_common_bpf_source));
	h = fnv_bytes(h, bpfd_io_uring_bpf_source, strlen(bpfd_io_uring_bpf_source));
	for (i = 0; i < tracer_count; i++) {
		const struct tracer_ops *t = tracer_table[i];

		h = fnv_bytes(h, t->name, strlen(t->name) + 1);
		if (t->bpf_source)
			h = fnv_bytes(h, t->bpf_source, strlen(t->bpf_source) + 1);
		if (t->io_uring_source)
			h = fnv_bytes(h, t->io_uring_source, strlen(t->io_uring_source) + 1);
	}
	/* Another kernel, even of the same release, is another build of the programs. */
	if (uname(&u) == 0) {
		h = fnv_bytes(h, u.release, strlen(u.release));
		h = fnv_bytes(h, u.version, strlen(u.version));
	}
	return h ? h : 1;
}

int loader_handover(struct loader *l, uint64_t stamp, int *fd, char *err, size_t err_size)
{
	struct handover_head *head = calloc(1, sizeof(*head));
	int sv[2], r;
	size_t t;

	if (!head) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		snprintf(err, err_size, "socketpair: %s", strerror(errno));
		free(head);
		return r;
	}
	head->magic = HANDOVER_MAGIC;
	head->stamp = stamp;
	head->n_tracers = (uint32_t)l->n_tracers;
	for (t = 0; t < l->n_tracers && t < LOADER_TRACERS_MAX; t++)
		if (l->tracers[t].ops)
			snprintf(head->names[t], LOADER_NAME_LEN, "%s", l->tracers[t].ops->name);
	r = send(sv[0], head, sizeof(*head), MSG_NOSIGNAL) == (ssize_t)sizeof(*head) ? 0 : -errno;
	free(head);
	if (r == 0) {
		/* In flight in the socket, the kernel holds every program, link and map. */
		send_result(sv[0], l, 0, "", false);
	}
	close(sv[0]);
	if (r < 0 || fcntl(sv[1], F_SETFD, 0) < 0) {
		r = r < 0 ? r : -errno;
		snprintf(err, err_size, "handing the programs over: %s", strerror(-r));
		close(sv[1]);
		return r;
	}
	*fd = sv[1];
	return 0;
}

int loader_adopt(struct loader *l, int fd, uint64_t stamp, bool *same,
		 char names[][LOADER_NAME_LEN], size_t *n_names, char *err, size_t err_size)
{
	struct handover_head *head = calloc(1, sizeof(*head));
	ssize_t n;
	size_t t;
	int r;

	loader_reset(l);
	if (!head) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	do
		n = recv(fd, head, sizeof(*head), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*head) || head->magic != HANDOVER_MAGIC ||
	    head->n_tracers > LOADER_TRACERS_MAX) {
		snprintf(err, err_size, "the predecessor's handover is not one bpfd reads");
		free(head);
		return -EPROTO;
	}
	*same = head->stamp == stamp && head->n_tracers == tracer_count;
	*n_names = head->n_tracers;
	for (t = 0; t < head->n_tracers; t++) {
		memcpy(names[t], head->names[t], LOADER_NAME_LEN);
		names[t][LOADER_NAME_LEN - 1] = '\0';
	}
	/* The fds come laid out by the predecessor's tracers, whatever this binary has. */
	l->n_tracers = head->n_tracers;
	for (t = 0; t < LOADER_TRACERS_MAX; t++)
		l->tracers[t].ops = t < head->n_tracers && *same ? tracer_table[t] : NULL;
	free(head);
	r = receive_result(fd, l, false, err, err_size);
	if (r < 0)
		loader_reset(l);
	return r;
}

/* What loader_pin() writes to its meta file: the handover's head, then the wire. */
struct pinned {
	struct handover_head head;
	struct loader_wire wire;
	int32_t n_fds;
};

void loader_unpin(const char *dir, const char *meta)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	/* The meta file first: a half-removed set is never taken for a whole one. */
	unlink(meta);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	closedir(d);
	rmdir(dir);
}

int loader_pin(struct loader *l, uint64_t stamp, const char *dir, const char *meta, char *err,
	       size_t err_size)
{
	struct pinned *p = calloc(1, sizeof(*p));
	int *slots[WIRE_FDS_MAX];
	char path[PATH_MAX], tmp[PATH_MAX];
	int n, i, fd, r = 0;
	size_t t;

	if (!p) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	loader_unpin(dir, meta);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, err_size, "%s: %s", dir, strerror(errno));
		goto out;
	}
	p->head.magic = HANDOVER_MAGIC;
	p->head.stamp = stamp;
	p->head.n_tracers = (uint32_t)l->n_tracers;
	for (t = 0; t < l->n_tracers && t < LOADER_TRACERS_MAX; t++)
		if (l->tracers[t].ops)
			snprintf(p->head.names[t], LOADER_NAME_LEN, "%s", l->tracers[t].ops->name);
	n = fill_wire(&p->wire, l, 0, "", false, slots);
	p->n_fds = n;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%03d", dir, i);
		if (bpf_obj_pin(*slots[i], path) < 0) {
			r = -errno;
			snprintf(err, err_size, "pinning %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", meta);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, p, sizeof(*p)) != (ssize_t)sizeof(*p) || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, meta) < 0) {
		r = -errno;
		snprintf(err, err_size, "%s: %s", meta, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		goto fail;
	}
	goto out;
fail:
	loader_unpin(dir, meta);
out:
	free(p);
	return r;
}

int loader_adopt_pins(struct loader *l, const char *dir, const char *meta, uint64_t stamp,
		      bool *same, char names[][LOADER_NAME_LEN], size_t *n_names, char *err,
		      size_t err_size)
{
	struct pinned *p = calloc(1, sizeof(*p));
	char path[PATH_MAX];
	int fds[WIRE_FDS_MAX], i, fd, r;
	struct stat st;
	size_t t;

	loader_reset(l);
	if (!p) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	fd = open(meta, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* Root's file, written by a daemon: nothing anyone else could have placed. */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) || read(fd, p, sizeof(*p)) != (ssize_t)sizeof(*p) ||
	    p->head.magic != HANDOVER_MAGIC || p->head.n_tracers > LOADER_TRACERS_MAX ||
	    p->n_fds < 0 || p->n_fds > WIRE_FDS_MAX) {
		snprintf(err, err_size, "%s: not what a bpfd daemon kept", meta);
		r = -EPROTO;
		goto out;
	}
	*same = p->head.stamp == stamp && p->head.n_tracers == tracer_count;
	*n_names = p->head.n_tracers;
	for (t = 0; t < p->head.n_tracers; t++) {
		memcpy(names[t], p->head.names[t], LOADER_NAME_LEN);
		names[t][LOADER_NAME_LEN - 1] = '\0';
	}
	l->n_tracers = p->head.n_tracers;
	for (t = 0; t < LOADER_TRACERS_MAX; t++)
		l->tracers[t].ops = t < p->head.n_tracers && *same ? tracer_table[t] : NULL;
	for (i = 0; i < p->n_fds; i++) {
		snprintf(path, sizeof(path), "%s/%03d", dir, i);
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			snprintf(err, err_size, "%s: %s", path, strerror(errno));
			while (i--)
				close(fds[i]);
			r = -EPROTO;
			goto out;
		}
	}
	r = take_wire(l, &p->wire, fds, p->n_fds, false, meta, err, err_size);
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		loader_reset(l);
	free(p);
	return r;
}
