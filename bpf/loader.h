/* SPDX-License-Identifier: MIT */
#ifndef BPFD_LOADER_H
#define BPFD_LOADER_H

/*
 * Loads the compiled-in tracers into the kernel.
 *
 * The compile runs in a short-lived child process: it loads libbcc (and
 * with it LLVM), assembles one BPF source (the common part and every wanted
 * tracer), compiles it once, loads and attaches each tracer's programs, and
 * hands the daemon the fds that keep them alive (maps, and the BPF links
 * that attach the programs) over a unix socket before it exits. The daemon itself never maps LLVM: its
 * memory stays small and its address space free of a compiler.
 *
 * A tracer that fails (its binary is missing, a hook will not attach, its
 * program fails to compile or verify) is marked failed with the reason;
 * the others run. Closing the fds detaches everything, so a daemon killed
 * with SIGKILL leaves nothing attached.
 *
 * Every attachment is a BPF link (a tracepoint's or uprobe's perf event
 * linked with BPF_LINK_CREATE, a raw tracepoint's link), and the daemon
 * holds each one's fd in common_fds and the tracers' link_fds: what a
 * later daemon would pin or be handed to keep the programs attached.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/btf_offsets.h"
#include "tracer.h"

enum tracer_state { TRACER_DISABLED, TRACER_LOADED, TRACER_FAILED };

const char *tracer_state_name(enum tracer_state s);

enum {
	LOADER_ERR_LEN = 512,
	LOADER_LINKS_MAX = 24,	/* a tracer's attachments: filechange has 18 */
	LOADER_TRACERS_MAX = 32,
	LOADER_MAPS_MAX = 8,	/* a tracer's own maps (tracer_ops.maps) */
	LOADER_SHARED_MAX = 64,	/* the main module's maps, which drop-ins share */
	LOADER_MAP_NAME_LEN = 64,
};

/* A map of the main module, which a drop-in's module uses as its own (shared_begin.bpf.h). */
struct loader_shared_map {
	char name[LOADER_MAP_NAME_LEN];
	int fd;
};

struct loaded_tracer {
	const struct tracer_ops *ops;
	enum tracer_state state;
	char error[LOADER_ERR_LEN];
	/* Loaded without some optional hooks: which, and what is not reported. */
	char note[LOADER_ERR_LEN];
	/*
	 * Attachments, closing them detaches: BPF link fds, but a tail-call
	 * hook's, which is its program's (the prog array holds its slot).
	 */
	int link_fds[LOADER_LINKS_MAX];
	int n_links;
	/* The program of its first uretprobe, to attach to more binaries; -1 if none. */
	int uprobe_prog_fd;
	int map_fds[LOADER_MAPS_MAX];	/* tracer_ops.maps, in order */
	int n_maps;
	struct tracer_drain drain;	/* what its tick drained (daemon side) */
};

typedef int (*loader_sample_fn)(void *ctx, void *data, size_t size);

struct ring_buffer;

struct loader {
	struct loaded_tracer tracers[LOADER_TRACERS_MAX];
	size_t n_tracers;		/* == tracer_count */
	int common_fds[LOADER_LINKS_MAX];	/* the common and io_uring programs' links */
	int n_common;
	int events_fd, enabled_fd, ignored_fd, lost_fd;
	int containers_fd, contained_fd;	/* container cgroups and processes */
	int map_full_fd;		/* failed inserts per counted map (record.h) */
	int prefilter_fd, prefiltered_fd, pf_comms_fd, pf_paths_fd, pf_uids_fd;	/* record.h */
	int pf_idents_fd, pf_ident_hint_fd;	/* bpfd_pf_idents, bpfd_pf_ident_hint */
	int pf_meta_fd;			/* bpfd_pf_meta */
	int daemon_fd;			/* bpfd_daemon: what the programs know of the daemon */
	/*
	 * bpfd_compat_progs, held only to keep it filled: the kernel empties a
	 * prog array when its last file descriptor is closed.
	 */
	int compat_progs_fd;
	/*
	 * The shared io_uring programs (tracers/common/io_uring.bpf.c) are attached:
	 * opens, connects and accepts through io_uring are seen. Else, when a
	 * tracer that has io_uring handlers is loaded, io_uring_note says why
	 * not.
	 */
	int io_uring;
	char io_uring_note[LOADER_ERR_LEN];
	double compile_ms;		/* in the loader process, compile to attach */
	char bcc_version[32];
	struct ring_buffer *ring;
	/* Every map of the main module: what a drop-in compiled later is given. */
	struct loader_shared_map shared[LOADER_SHARED_MAX];
	int n_shared;
};

struct loader_request {
	const char *const *wanted;	/* tracer names, NULL-terminated; NULL: all */
	const struct tracer_config *cfg;
	const struct kernel_offsets *offsets;
	pid_t daemon;			/* never reported */
	int cgroup_root;		/* hierarchy attributed by: 0 cgroup2, else a v1 id */
	int cgroup_v1_subsys;		/* its controller's index, -1 for cgroup2 */
	unsigned int ringbuf_pages;	/* size of the event ring buffer; 0: default */
	/* Where the drop-ins in tracer_table came from (tracer_load_dropins()), or NULL. */
	const char *tracers_dir;
	/*
	 * In the loader process: a hash of each drop-in's source as the daemon
	 * read it; one that differs from the loader's read fails. NULL: none.
	 */
	const uint64_t *source_hash;
	/*
	 * A reload (loader_reload_start()): only the drop-ins in @wanted are
	 * compiled, against these maps of the running daemon; the tracers'
	 * numbering is the daemon's tracer_table, retired slots included.
	 */
	const struct loader_shared_map *shared;
	int n_shared;
	/*
	 * A reload's tracers, slot by slot (the daemon's tracer_table with the
	 * new drop-ins at the slots they will take), and which to compile.
	 */
	const struct tracer_ops *const *slots;
	size_t n_slots;
	const bool *compile;
};

/*
 * The loader process is this binary run again as `bpfd __loader FD`
 * (bpfd.c hands it here): it reads its request from socket FD, loads,
 * sends the result back and exits. Returns an exit code if it fails early.
 */
#define LOADER_EXEC_ARG "__loader"
int loader_exec_main(int sock);

/*
 * Loads the tracers through a loader process. 0, or a negative errno with
 * the reason in @err when nothing could be loaded at all (no libbcc, the
 * common program fails); a single tracer's failure is in its entry.
 */
int loader_load(struct loader *l, const struct loader_request *req, char *err, size_t err_size);

/*
 * A reload of drop-in tracers, running in a loader process while the
 * daemon goes on: the socket polls readable when its result is there.
 */
struct loader_reload {
	int sock;
	pid_t pid;
	size_t n_slots;		/* the tracers as the loader process numbers them */
};

/*
 * Starts compiling and attaching the drop-ins of @req->slots that
 * @req->compile marks (the loader process reads their files again and
 * checks their sources against those of @req->slots), using the maps of @l.
 * 0, or a negative errno with the reason in @err.
 */
int loader_reload_start(const struct loader *l, const struct loader_request *req,
			struct loader_reload *r, char *err, size_t err_size);

/*
 * Reads the result of reload @r into @out (reset first; the slots that were
 * compiled are TRACER_LOADED or TRACER_FAILED, with their link fds) and
 * reaps the loader process. 0, or a negative errno with the reason in @err
 * (@out holds no fd then).
 */
int loader_reload_finish(struct loader_reload *r, struct loader *out, char *err, size_t err_size);

/* Stops reload @r (kills its loader process): the daemon stops or gave up on it. */
void loader_reload_abort(struct loader_reload *r);

/*
 * Moves slot @index of @from (a reload's result) into @l, whose slot must
 * hold nothing attached. Its record type stays switched off: see
 * loader_set_enabled().
 */
void loader_take_slot(struct loader *l, struct loader *from, size_t index);

/* Detaches slot @index's programs and forgets its fds: a drop-in removed or replaced. */
void loader_release_slot(struct loader *l, size_t index);

/* Switches the records of tracer slot @index on or off in the kernel. 0 or -errno. */
int loader_set_enabled(struct loader *l, size_t index, bool on);

/* Opens the shared ring buffer; returns an fd that polls readable with records. */
int loader_ring_open(struct loader *l, loader_sample_fn fn, void *ctx);

/* Hands every waiting record to the callback: the count, or a negative errno. */
int loader_ring_consume(struct loader *l);

/*
 * Tells the programs which process is the daemon (bpfd_daemon, record.h's
 * struct bpfd_daemon_info): loader_load() does, before the tracers are
 * switched on; a daemon that adopts loaded programs does again. 0 or -errno.
 */
int loader_set_daemon(struct loader *l, pid_t tgid);

/*
 * Programs a daemon that is gone loaded (kept pinned): @tgid becomes their
 * daemon, ignored, and the dead one's ignore mark goes, so that no process
 * given its pid later is left unseen. 0 or a negative errno.
 */
int loader_take_daemon(struct loader *l, pid_t tgid);

/* Switches every loaded tracer on (records start flowing). */
int loader_start(struct loader *l);

/* Kernel-side losses (ring buffer full) of record type @type. */
/*
 * Switches on the records of @type that are not a tracer's (the process
 * table's, BPFD_RECORD_PROC_FORK). 0 or -errno.
 */
int loader_enable_type(struct loader *l, uint32_t type);

uint64_t loader_lost(struct loader *l, uint32_t type);

/* Events of record type @type the in-kernel prefilter dropped. */
uint64_t loader_prefiltered(struct loader *l, uint32_t type);

/* A kernel map's occupancy, capacity and failed inserts, for `status`. */
struct loader_map_stats {
	const char *name;
	uint64_t entries, capacity, failed;
};

/*
 * Fills @out with the counted maps (record.h's enum bpfd_counted_map);
 * returns how many, at most @n. Counting walks each map's keys in batches:
 * a few system calls even for a full map.
 */
size_t loader_map_stats(struct loader *l, struct loader_map_stats *out, size_t n);

/*
 * The run time and run count of tracer @index's programs (each counted
 * once, however many hooks it has; a program several tracers share is
 * none's). The kernel counts only while kernel.bpf_stats_enabled is 1
 * (loader_run_stats_enabled()). 0 or -errno.
 */
int loader_run_stats(struct loader *l, size_t index, uint64_t *run_ns, uint64_t *run_cnt);
bool loader_run_stats_enabled(void);

/* Closes everything, which detaches every program. Safe on a zeroed loader. */
void loader_unload(struct loader *l);

/*
 * A restart without a gap (docs/architecture.md, "Restart"): the daemon
 * hands what it loaded to its successor, a new image of the binary in the
 * same process, and the programs go on writing into the same ring buffer
 * meanwhile.
 *
 * loader_stamp() is what @req would build, in one number: the request as
 * the loader process would get it, every tracer's source, the kernel.
 * loader_handover() puts @l's fds, the tracers' names and @stamp into a
 * socket and returns, in *@fd, its other end, which survives exec; @l is
 * left as it is (if exec fails, the daemon goes on with it). loader_adopt(), in the successor, takes them
 * back into @l, *@same when the stamp is @stamp, and the old tracers'
 * names in @names (LOADER_TRACERS_MAX × LOADER_NAME_LEN, *@n_names of
 * them): a record's type means the tracer of that name there.
 */
enum { LOADER_NAME_LEN = 64 };
uint64_t loader_stamp(const struct loader_request *req);
int loader_handover(struct loader *l, uint64_t stamp, int *fd, char *err, size_t err_size);
int loader_adopt(struct loader *l, int fd, uint64_t stamp, bool *same,
		 char names[][LOADER_NAME_LEN], size_t *n_names, char *err, size_t err_size);

/*
 * keep = true (docs/architecture.md, "Keeping the programs"): @l's fds
 * pinned in @dir of the BPF filesystem, one file each in wire order, and
 * what they are (the tracers' names, @stamp, their layout) in the file
 * @meta, written whole or not at all. loader_adopt_pins() opens them again,
 * as loader_adopt() takes a handover; loader_unpin() removes them all.
 */
int loader_pin(struct loader *l, uint64_t stamp, const char *dir, const char *meta, char *err,
	       size_t err_size);
int loader_adopt_pins(struct loader *l, const char *dir, const char *meta, uint64_t stamp,
		      bool *same, char names[][LOADER_NAME_LEN], size_t *n_names, char *err,
		      size_t err_size);
void loader_unpin(const char *dir, const char *meta);

#endif
