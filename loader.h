/* SPDX-License-Identifier: MIT */
#ifndef BPFD_LOADER_H
#define BPFD_LOADER_H

/*
 * Loads the compiled-in tracers into the kernel through a BPF backend:
 * assembles one BPF source (the common part and every wanted tracer),
 * compiles it once, attaches each tracer's hooks and switches it on. A
 * tracer that fails (its binary is missing, a hook will not attach, its
 * program fails to compile or verify) is marked failed with the reason;
 * the others run.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf_backend.h"
#include "btf_offsets.h"
#include "tracer.h"

enum tracer_state { TRACER_DISABLED, TRACER_LOADED, TRACER_FAILED };

const char *tracer_state_name(enum tracer_state s);

enum { LOADER_ERR_LEN = 512, LOADER_LINKS_MAX = 16 };

struct loaded_tracer {
	const struct tracer_ops *ops;
	enum tracer_state state;
	char error[LOADER_ERR_LEN];
	int links[LOADER_LINKS_MAX];
	int n_links;
};

struct loader {
	struct bpf_backend *backend;	/* owned */
	struct loaded_tracer tracers[32];
	size_t n_tracers;		/* == tracer_count */
	int common_links[4];
	int n_common_links;
	int enabled_fd, ignored_fd, lost_fd;
	double compile_ms;
};

/*
 * @wanted: NULL-terminated tracer names, or NULL for all. @self: the
 * daemon's tgid, never reported. On a failure that stops every tracer (no
 * compiler, the common program fails) returns a negative errno with the
 * reason in @err; a single tracer's failure is recorded in its entry.
 * @new_backend makes a fresh backend (a compile attempt needs its own).
 */
typedef struct bpf_backend *(*backend_factory)(char *err, size_t err_size);

int loader_load(struct loader *l, backend_factory new_backend, const char *const *wanted,
		const struct tracer_config *cfg, const struct kernel_offsets *offsets,
		pid_t self, char *err, size_t err_size);

/* Opens the shared ring buffer; see bpf_backend_ops.ring_open. */
int loader_ring_open(struct loader *l, bpf_sample_fn fn, void *ctx);

/* Switches every loaded tracer on (records start flowing). */
int loader_start(struct loader *l);

/* Kernel-side losses (ring buffer full) of record type @type. */
uint64_t loader_lost(struct loader *l, uint32_t type);

/* Detaches everything and frees the backend. Safe on a zeroed loader. */
void loader_unload(struct loader *l);

#endif
