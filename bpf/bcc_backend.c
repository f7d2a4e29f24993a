// SPDX-License-Identifier: MIT
/*
 * The BPF backend on BCC: the only file of bpfd that includes BCC.
 *
 * libbcc drags libLLVM and libclang in with it, 70-170 ms before main() of
 * every run, so it is dlopen()ed here, when the daemon starts, rather than
 * linked: client commands never load it. The BCC headers serve only for
 * the prototypes (typeof) and constants.
 *
 * BCC compiles and loads; attaching is bpfd's own, through BPF links
 * (libbpf's bpf(2) wrappers): a tracepoint's or a uprobe's perf event with
 * the program linked to it, a raw tracepoint's link. Each attachment is
 * then one link fd, which is what keeps it, and what a later daemon can
 * be handed or find pinned.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <bcc/bcc_common.h>
#include <bcc/bcc_syms.h>
#include <bcc/bcc_version.h>
#include <bcc/libbpf.h>

#include "bpf/bpf_backend.h"
#include "bpf/kmem.h"
#include "bpf/uprobe.h"

#define BCC_LIBRARY "libbcc.so.0"

/* The libbcc functions bpfd calls, resolved with dlsym(). */
#define BCC_SYMBOLS(X)                                                                             \
	X(bpf_module_create_c_from_string)                                                         \
	X(bpf_module_destroy)                                                                      \
	X(bpf_module_license)                                                                      \
	X(bpf_module_kern_version)                                                                 \
	X(bpf_function_start)                                                                      \
	X(bpf_function_size)                                                                       \
	X(bpf_table_fd)                                                                            \
	X(bpf_num_tables)                                                                          \
	X(bpf_table_name)                                                                          \
	X(bcc_func_load)                                                                           \
	X(bpf_update_elem)                                                                         \
	X(bpf_delete_elem)                                                                         \
	X(bcc_resolve_symname)

struct bcc_api {
#define BCC_API_MEMBER(fn) __typeof__(&fn) fn;
	BCC_SYMBOLS(BCC_API_MEMBER)
#undef BCC_API_MEMBER
};

enum { BCC_LINKS_MAX = 64, BCC_PROGS_MAX = 64 };

struct bcc_link {
	int fd;				/* BPF link; -1 when free */
	/* A tail-call slot: the prog array (fd >= 0) and the index; fd is the program's. */
	int tail_map;
	unsigned int tail_index;
};

struct bcc_prog {
	char name[64];
	int fd;
};

struct bcc_backend {
	struct bpf_backend base;
	void *dl;
	struct bcc_api api;
	void *module;
	struct bcc_link links[BCC_LINKS_MAX];
	struct bcc_prog progs[BCC_PROGS_MAX];
	size_t n_progs;
};

static struct bcc_backend *to_bcc(struct bpf_backend *b)
{
	return (struct bcc_backend *)b;
}

static const char *bcc_version(struct bpf_backend *b)
{
	(void)b;
	return LIBBCC_VERSION;
}

/*
 * BCC writes compiler diagnostics to stderr and some warnings to stdout,
 * and stdout belongs to the stdout action. While BCC works, both go to a
 * memfd; what it said is returned to the caller.
 */
struct bcc_capture {
	int memfd, saved_out, saved_err;
};

static void capture_begin(struct bcc_capture *c)
{
	fflush(stdout);
	fflush(stderr);
	c->memfd = memfd_create("bpfd-bcc-output", MFD_CLOEXEC);
	c->saved_out = c->memfd < 0 ? -1 : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	c->saved_err = c->memfd < 0 ? -1 : fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (c->saved_out >= 0)
		dup2(c->memfd, STDOUT_FILENO);
	if (c->saved_err >= 0)
		dup2(c->memfd, STDERR_FILENO);
}

/* Restores stdout/stderr; what was written meanwhile goes to @buf. */
static void capture_end(struct bcc_capture *c, char *buf, size_t size)
{
	ssize_t n = 0;

	fflush(stdout);
	fflush(stderr);
	if (c->saved_out >= 0) {
		dup2(c->saved_out, STDOUT_FILENO);
		close(c->saved_out);
	}
	if (c->saved_err >= 0) {
		dup2(c->saved_err, STDERR_FILENO);
		close(c->saved_err);
	}
	if (c->memfd >= 0 && buf && size) {
		n = pread(c->memfd, buf, size - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	if (c->memfd >= 0)
		close(c->memfd);
}

/* Keeps the lines of compiler output that say "error" (clang's format). */
static void keep_errors(char *text)
{
	char *out = text, *line = text, *nl;

	while (*line) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		if (memmem(line, nl - line, "error", 5)) {
			if (out != text)
				*out++ = ' ';
			memmove(out, line, nl - line);
			out += nl - line;
		}
		line = *nl ? nl + 1 : nl;
	}
	*out = '\0';
}

static int bcc_compile(struct bpf_backend *b, const char *source, const char *const *cflags,
		       int ncflags, char *err, size_t err_size)
{
	struct bcc_backend *bb = to_bcc(b);
	struct bcc_capture cap;
	char *said = malloc(65536);

	if (bb->module)
		return -EBUSY;
	capture_begin(&cap);
	bb->module = bb->api.bpf_module_create_c_from_string(source, 0, (const char **)cflags,
								 ncflags, true, NULL);
	capture_end(&cap, said, said ? 65536 : 0);
	if (!bb->module) {
		if (said) {
			keep_errors(said);
			snprintf(err, err_size, "BPF compile failed: %s",
				 *said ? said : "(no message)");
		} else {
			snprintf(err, err_size, "BPF compile failed");
		}
		free(said);
		return -EINVAL;
	}
	free(said);
	return 0;
}

/*
 * The verifier's reason for a rejection: its last line before the
 * "processed N insns" summary. A program compiled with debug information
 * (a drop-in's) has its source lines in the log, "; TEXT @ FILE:LINE"
 * before the instructions of each: the last one before the reason, when
 * it is the program's own file (not BCC's main.c, the common program),
 * is said after the reason in @where.
 */
static const char *verifier_reason(char *log, char *where, size_t where_size)
{
	char *end = log + strlen(log), *line, *reason = NULL, *at;

	where[0] = '\0';
	for (;;) {
		while (end > log && end[-1] == '\n')
			*--end = '\0';
		line = end;
		while (line > log && line[-1] != '\n')
			line--;
		if (!reason && (line == log || strncmp(line, "processed ", 10) != 0))
			reason = line;
		if (reason && line != reason && strncmp(line, "; ", 2) == 0 &&
		    (at = strstr(line, " @ ")) && strncmp(at + 3, "main.c:", 7) != 0) {
			snprintf(where, where_size, " (at %s: %.*s)", at + 3, (int)(at - line - 2),
				 line + 2);
			return reason;
		}
		if (line == log)
			return reason;
		end = line;
		/* Only the lines of the instructions just before the reason. */
		if (reason && strncmp(line, "; ", 2) == 0)
			return reason;
	}
}

/* Loads @function once; attaching it again reuses the fd. */
static int bcc_load(struct bcc_backend *bb, const char *function, int type, char *err,
		    size_t err_size)
{
	struct bcc_prog *p;
	size_t i;
	void *insns, *patched = NULL;
	size_t size;
	struct bcc_capture cap;
	char *log;
	int fd, e;

	for (i = 0; i < bb->n_progs; i++)
		if (strcmp(bb->progs[i].name, function) == 0)
			return bb->progs[i].fd;
	if (bb->n_progs == BCC_PROGS_MAX || strlen(function) >= sizeof(p->name))
		return -ENOSPC;
	insns = bb->api.bpf_function_start(bb->module, function);
	size = bb->api.bpf_function_size(bb->module, function);
	if (!insns) {
		snprintf(err, err_size, "no BPF function %s", function);
		return -ENOENT;
	}
	if (bb->base.kmem_cast) {
		/* BCC's copy is what a second load of the function would find: patch a copy. */
		patched = malloc(size);
		if (!patched) {
			snprintf(err, err_size, "out of memory");
			return -ENOMEM;
		}
		memcpy(patched, insns, size);
		kmem_patch(patched, size / sizeof(struct bpf_insn), bb->base.kmem_cast);
		insns = patched;
	}
	log = calloc(1, 1 << 20);
	capture_begin(&cap);
	fd = bb->api.bcc_func_load(bb->module, type, function, insns, size,
				   bb->api.bpf_module_license(bb->module),
				   bb->api.bpf_module_kern_version(bb->module), 0, log,
				   log ? 1 << 20 : 0, NULL, -1);
	e = errno ? errno : EINVAL;
	capture_end(&cap, NULL, 0);
	free(patched);
	if (fd < 0) {
		char where[512] = "";
		const char *reason = log ? verifier_reason(log, where, sizeof(where)) : "";

		snprintf(err, err_size, "loading %s: %s%s%s%s", function, strerror(e),
			 log && *log ? ": " : "", reason, where);
		free(log);
		return -e;
	}
	free(log);
	p = &bb->progs[bb->n_progs++];
	snprintf(p->name, sizeof(p->name), "%s", function);
	p->fd = fd;
	return fd;
}

static int link_slot(struct bcc_backend *bb)
{
	int i;

	for (i = 0; i < BCC_LINKS_MAX; i++)
		if (bb->links[i].fd < 0)
			return i;
	return -ENOSPC;
}

static const char *const tracefs_events[] = {
	"/sys/kernel/tracing/events",
	"/sys/kernel/debug/tracing/events",
};

/*
 * The id of tracepoint @category:@event (tracefs events/CAT/NAME/id), or
 * -ENOENT when this kernel has no such tracepoint.
 */
static int tracepoint_id(const char *category, const char *event)
{
	char path[512], buf[32];
	int fd, e = -ENOENT;
	ssize_t n;
	size_t i;

	for (i = 0; i < sizeof(tracefs_events) / sizeof(tracefs_events[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s/id", tracefs_events[i], category,
				     event) >= sizeof(path))
			return -ENAMETOOLONG;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			e = -errno;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -EINVAL;
		buf[n] = '\0';
		n = atoi(buf);
		return n > 0 ? (int)n : -EINVAL;
	}
	return e;
}

/*
 * Links program @prog to tracepoint @category:@event through a perf event
 * of the tracepoint (cpu 0's serves every CPU): the link fd, or a
 * negative errno. The link holds the perf event; its fd is closed here.
 */
static int tracepoint_link(int prog, const char *category, const char *event)
{
	struct perf_event_attr attr;
	int id = tracepoint_id(category, event), fd, link, e;

	if (id < 0)
		return id;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (unsigned int)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	link = bpf_link_create(prog, fd, BPF_PERF_EVENT, NULL);	/* libbpf 1.x: -errno */
	e = link < 0 ? link : 0;
	if (!e && ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		e = -errno;
		close(link);
	}
	close(fd);
	return e ? e : link;
}

/*
 * Loads @function and attaches it to tracepoint @category:@event, or with
 * no @category to raw tracepoint @event (BPF_RAW_TRACEPOINT_OPEN, whose fd
 * is a link since Linux 5.7).
 */
static int bcc_attach_tp(struct bcc_backend *bb, const char *function, const char *category,
			 const char *event, char *err, size_t err_size)
{
	int prog, slot, fd;

	if (!bb->module)
		return -EINVAL;
	slot = link_slot(bb);
	if (slot < 0)
		return slot;
	prog = bcc_load(bb, function, category ? BPF_PROG_TYPE_TRACEPOINT
					       : BPF_PROG_TYPE_RAW_TRACEPOINT, err, err_size);
	if (prog < 0)
		return prog;
	if (category) {
		fd = tracepoint_link(prog, category, event);
	} else {
		fd = bpf_raw_tracepoint_open(event, prog);	/* libbpf 1.x: -errno */
	}
	if (fd < 0) {
		snprintf(err, err_size, "attaching %stracepoint %s%s%s: %s", category ? "" : "raw ",
			 category ? category : "", category ? ":" : "", event, strerror(-fd));
		return fd;
	}
	bb->links[slot].fd = fd;
	return slot;
}

static int bcc_attach_tracepoint(struct bpf_backend *b, const char *function,
				 const char *category, const char *event, char *err,
				 size_t err_size)
{
	return bcc_attach_tp(to_bcc(b), function, category, event, err, err_size);
}

static int bcc_attach_raw_tracepoint(struct bpf_backend *b, const char *function,
				     const char *event, char *err, size_t err_size)
{
	return bcc_attach_tp(to_bcc(b), function, NULL, event, err, err_size);
}

static int bcc_attach_probe(struct bpf_backend *b, const char *function, const char *binary,
			    const char *symbol, bool retprobe, char *err, size_t err_size)
{
	struct bcc_backend *bb = to_bcc(b);
	struct bcc_symbol sym = { 0 };
	struct bcc_symbol_option opt = { .use_debug_file = 1,
					 .check_debug_file_crc = 1,
					 .use_symbol_type = (1 << 2) /* STT_FUNC */ };
	const char *kind = retprobe ? "uretprobe" : "uprobe";
	int prog, slot, fd;

	if (!bb->module)
		return -EINVAL;
	if (access(binary, R_OK) < 0) {
		int e = errno;

		snprintf(err, err_size, "%s on %s:%s: %s", kind, binary, symbol, strerror(e));
		return -e;
	}
	slot = link_slot(bb);
	if (slot < 0)
		return slot;
	if (bb->api.bcc_resolve_symname(binary, symbol, 0, -1, &opt, &sym) < 0) {
		snprintf(err, err_size, "%s on %s: no symbol %s", kind, binary, symbol);
		free((void *)sym.module);
		return -ENOENT;
	}
	free((void *)sym.module);
	prog = bcc_load(bb, function, BPF_PROG_TYPE_KPROBE, err, err_size);
	if (prog < 0)
		return prog;
	fd = uprobe_attach(prog, binary, sym.offset, retprobe);
	if (fd < 0) {
		snprintf(err, err_size, "%s on %s:%s: %s", kind, binary, symbol, strerror(-fd));
		return fd;
	}
	bb->links[slot].fd = fd;
	return slot;
}

static int bcc_attach_uretprobe(struct bpf_backend *b, const char *function, const char *binary,
				const char *symbol, char *err, size_t err_size)
{
	return bcc_attach_probe(b, function, binary, symbol, true, err, err_size);
}

static int bcc_attach_uprobe(struct bpf_backend *b, const char *function, const char *binary,
			     const char *symbol, char *err, size_t err_size)
{
	return bcc_attach_probe(b, function, binary, symbol, false, err, err_size);
}

static int bcc_attach_tail_call(struct bpf_backend *b, const char *function, const char *array,
				unsigned int index, char *err, size_t err_size)
{
	struct bcc_backend *bb = to_bcc(b);
	int prog, slot, map, fd, e;

	if (!bb->module)
		return -EINVAL;
	slot = link_slot(bb);
	if (slot < 0)
		return slot;
	map = bb->api.bpf_table_fd(bb->module, array);
	if (map < 0) {
		snprintf(err, err_size, "no BPF map %s", array);
		return -ENOENT;
	}
	prog = bcc_load(bb, function, BPF_PROG_TYPE_RAW_TRACEPOINT, err, err_size);
	if (prog < 0)
		return prog;
	/* Its own fd for the daemon to hold, like an attachment's. */
	fd = fcntl(prog, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || bb->api.bpf_update_elem(map, &index, &prog, 0) < 0) {
		e = errno ? errno : EINVAL;
		snprintf(err, err_size, "%s in %s[%u]: %s", function, array, index, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	bb->links[slot].fd = fd;
	bb->links[slot].tail_map = map;
	bb->links[slot].tail_index = index;
	return slot;
}

static void bcc_detach(struct bpf_backend *b, int link)
{
	struct bcc_backend *bb = to_bcc(b);
	struct bcc_link *l;

	if (link < 0 || link >= BCC_LINKS_MAX || bb->links[link].fd < 0)
		return;
	l = &bb->links[link];
	if (l->tail_map >= 0)
		bb->api.bpf_delete_elem(l->tail_map, &l->tail_index);
	l->tail_map = -1;
	/* Closing a link detaches its program (a perf event's goes with it). */
	close(l->fd);
	l->fd = -1;
}

static int bcc_map_fd(struct bpf_backend *b, const char *name)
{
	struct bcc_backend *bb = to_bcc(b);
	int fd;

	if (!bb->module)
		return -EINVAL;
	fd = bb->api.bpf_table_fd(bb->module, name);
	return fd < 0 ? -ENOENT : fd;
}

static const char *bcc_map_name(struct bpf_backend *b, size_t index)
{
	struct bcc_backend *bb = to_bcc(b);

	if (!bb->module || index >= bb->api.bpf_num_tables(bb->module))
		return NULL;
	return bb->api.bpf_table_name(bb->module, index);
}

static int bcc_link_fd(struct bpf_backend *b, int link)
{
	struct bcc_backend *bb = to_bcc(b);

	if (link < 0 || link >= BCC_LINKS_MAX || bb->links[link].fd < 0)
		return -ENOENT;
	return bb->links[link].fd;
}

static int bcc_prog_fd(struct bpf_backend *b, const char *function)
{
	struct bcc_backend *bb = to_bcc(b);
	size_t i;

	for (i = 0; i < bb->n_progs; i++)
		if (strcmp(bb->progs[i].name, function) == 0)
			return bb->progs[i].fd;
	return -ENOENT;
}

static void bcc_destroy(struct bpf_backend *b)
{
	struct bcc_backend *bb = to_bcc(b);
	size_t i;

	if (!bb)
		return;
	for (i = 0; i < BCC_LINKS_MAX; i++)
		bcc_detach(b, (int)i);
	for (i = 0; i < bb->n_progs; i++)
		close(bb->progs[i].fd);
	if (bb->module)
		bb->api.bpf_module_destroy(bb->module);
	/* libbcc stays mapped: LLVM's static destructors do not survive dlclose(). */
	free(bb);
}

static const struct bpf_backend_ops bcc_backend_ops = {
	.name = "bcc",
	.version = bcc_version,
	.compile = bcc_compile,
	.attach_tracepoint = bcc_attach_tracepoint,
	.attach_raw_tracepoint = bcc_attach_raw_tracepoint,
	.attach_uretprobe = bcc_attach_uretprobe,
	.attach_uprobe = bcc_attach_uprobe,
	.attach_tail_call = bcc_attach_tail_call,
	.detach = bcc_detach,
	.map_fd = bcc_map_fd,
	.map_name = bcc_map_name,
	.link_fd = bcc_link_fd,
	.prog_fd = bcc_prog_fd,
	.destroy = bcc_destroy,
};

struct bpf_backend *bcc_backend_new(char *err, size_t err_size)
{
	struct bcc_backend *bb = calloc(1, sizeof(*bb));
	size_t i;

	if (!bb) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	bb->dl = dlopen(BCC_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!bb->dl) {
		snprintf(err, err_size, "cannot load %s (install libbpfcc): %s", BCC_LIBRARY,
			 dlerror());
		free(bb);
		return NULL;
	}
#define BCC_API_RESOLVE(fn)                                                                        \
	bb->api.fn = (__typeof__(&fn))dlsym(bb->dl, #fn);                                          \
	if (!bb->api.fn) {                                                                         \
		snprintf(err, err_size, "%s lacks %s", BCC_LIBRARY, #fn);                          \
		free(bb);                                                                          \
		return NULL;                                                                       \
	}
	BCC_SYMBOLS(BCC_API_RESOLVE)
#undef BCC_API_RESOLVE
	for (i = 0; i < BCC_LINKS_MAX; i++)
		bb->links[i].fd = bb->links[i].tail_map = -1;
	bb->base.ops = &bcc_backend_ops;
	return &bb->base;
}
