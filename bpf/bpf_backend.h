/* SPDX-License-Identifier: MIT */
#ifndef BPFD_BPF_BACKEND_H
#define BPFD_BPF_BACKEND_H

/*
 * What the daemon needs from a BPF toolchain, as an ops struct so that the
 * rest of bpfd never includes BCC (bcc_backend.c is the one file that does)
 * and so that tests can put a fake behind it.
 *
 * A backend holds one compiled module: the common program followed by the
 * tracers' programs, compiled together because parsing kernel headers
 * dominates the compile time. It only ever runs in the short-lived loader
 * process (loader.c), which hands the program, map and attachment fds to
 * the daemon and exits. Every attachment is a BPF link, so that its one fd
 * keeps the program attached wherever it is held.
 */

#include <stdbool.h>
#include <stddef.h>

struct bpf_backend;

struct bpf_backend_ops {
	const char *name;
	/* Library version, e.g. "0.26.0". */
	const char *(*version)(struct bpf_backend *b);
	/* Compiles @source; on failure the compiler's message is in @err. */
	int (*compile)(struct bpf_backend *b, const char *source, const char *const *cflags,
		       int ncflags, char *err, size_t err_size);
	/*
	 * Loads BPF function @function and attaches it. Returns a link id
	 * (>= 0) for detach(), or a negative errno with the reason in @err.
	 */
	int (*attach_tracepoint)(struct bpf_backend *b, const char *function,
				 const char *category, const char *event, char *err,
				 size_t err_size);
	int (*attach_raw_tracepoint)(struct bpf_backend *b, const char *function,
				     const char *event, char *err, size_t err_size);
	int (*attach_uretprobe)(struct bpf_backend *b, const char *function, const char *binary,
				const char *symbol, char *err, size_t err_size);
	/* A uprobe: at @symbol's entry. */
	int (*attach_uprobe)(struct bpf_backend *b, const char *function, const char *binary,
			     const char *symbol, char *err, size_t err_size);
	/*
	 * Loads @function as a raw tracepoint program (the type of the
	 * programs that tail-call it) and puts it in slot @index of the
	 * module's BPF_PROG_ARRAY @array. A link id, whose detach empties the
	 * slot, or a negative errno with the reason in @err.
	 */
	int (*attach_tail_call)(struct bpf_backend *b, const char *function, const char *array,
				unsigned int index, char *err, size_t err_size);
	void (*detach)(struct bpf_backend *b, int link);
	/* The fd of map @name of the compiled module, or a negative errno. */
	int (*map_fd)(struct bpf_backend *b, const char *name);
	/* The name of the compiled module's map @index, from 0; NULL past the last. */
	const char *(*map_name)(struct bpf_backend *b, size_t index);
	/*
	 * The fd that holds attachment @link: while any copy of it is open
	 * the program stays attached, so it can be handed to another process.
	 * A BPF link fd; for a tail call, the program's fd.
	 */
	int (*link_fd)(struct bpf_backend *b, int link);
	/* The fd of loaded program @function, or a negative errno. */
	int (*prog_fd)(struct bpf_backend *b, const char *function);
	/* Detaches everything, frees the module. */
	void (*destroy)(struct bpf_backend *b);
};

struct bpf_backend {
	const struct bpf_backend_ops *ops;
	/*
	 * kfunc bpf_rdonly_cast's BTF id when the programs were compiled to
	 * call it (bpf/kmem.h): their calls are patched to it at load. 0: none.
	 */
	int kmem_cast;
};

/*
 * The BCC backend: dlopen()s libbcc, so that only the daemon pays for
 * loading LLVM. NULL with the reason in @err when libbcc cannot be loaded.
 */
struct bpf_backend *bcc_backend_new(char *err, size_t err_size);

#endif
