/* SPDX-License-Identifier: MIT */
#ifndef BPFD_TRACER_H
#define BPFD_TRACER_H

/*
 * Tracers (docs/tracers.md): each is one `const struct tracer_ops` in its own file
 * under tracers/, listed once in tracer_table[] (tracers/table.c). A tracer is a
 * BPF program source (embedded at build time from tracers/NAME.bpf.c), the
 * hooks it attaches to, the data keys it emits, and a decode function that
 * turns one of its raw records into an event. Drop-in tracers
 * (tracers/dropin/) are tracer_ops made at run time from a description,
 * registered after the built-ins.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "tracers/common/record.h"

struct bpf_backend;
struct rule;

/*
 * What a tracer's tick (below) drained, for `bpfd status`: kept per tracer
 * by the daemon, added to by every tick.
 */
struct tracer_drain {
	uint64_t records;	/* records drained (each one event) */
	uint64_t events;	/* what the program folded into them (e.g. drops counted) */
	uint64_t full;		/* what the program could not keep: its map was full */
};

/* A tracer's tick hands each record it makes to @emit, as if from the ring buffer. */
typedef int (*tracer_emit_fn)(void *ctx, const void *rec, size_t size);

enum tracer_hook_kind {
	TRACER_HOOK_TRACEPOINT,		/* target "category:name" */
	TRACER_HOOK_URETPROBE,		/* target "symbol" in the tracer's binary */
	TRACER_HOOK_RAW_TRACEPOINT,	/* target "name", e.g. "sys_exit" */
	/*
	 * target: a BPF_PROG_ARRAY of the common program that raw tracepoint
	 * programs tail-call (bpfd_compat_progs); the function goes in the
	 * slot of the tracer's record type.
	 */
	TRACER_HOOK_TAIL_CALL,
	TRACER_HOOK_UPROBE,		/* target "symbol" in the hook's or the tracer's binary */
};

struct tracer_hook {
	enum tracer_hook_kind kind;
	const char *target;
	const char *function;	/* BPF function in the tracer's source */
	/*
	 * The hook sees the 32-bit (compat) system calls, at the cost of a
	 * program run on every system call of the host: attached only while
	 * tracer_config.compat_syscalls is on.
	 */
	bool compat;
	/*
	 * An io_uring tracepoint: served by the one shared program on it
	 * (tracers/common/io_uring.bpf.c), which calls the tracer's handlers
	 * (tracer_ops.io_uring_source). Attached once for all tracers, after
	 * them (hooks.c), and only when io_uring can be traced; listed here so
	 * that `bpfd tracers` shows what the tracer sees.
	 */
	bool io_uring;
	/*
	 * Non-NULL: the hook may be missing from the kernel (a tracepoint of a
	 * later version), and this says what the tracer cannot report without
	 * it. The tracer loads without the hook; the daemon logs this once.
	 * A hook that is there but fails to attach still fails the tracer.
	 */
	const char *optional;
	/* A uprobe's binary; NULL: the tracer's (tracer_ops.binary). */
	const char *binary;
};

/*
 * A setting a tracer declares (tracer_ops.options): given as `--NAME VALUE`
 * to `bpfd daemon` or as `NAME = VALUE` in the config's [daemon] section
 * (the command line wins), shown by `bpfd daemon --help`. Names are one
 * namespace with the daemon's own options and keys: keep them distinct.
 */
struct tracer_option {
	const char *name;
	const char *metavar;	/* the value's name in the help, e.g. "PATH" */
	const char *help;	/* what it sets; the help adds "(default DEFAULT)" */
	const char *def;	/* the value when not given */
};

enum {
	TRACER_OPTIONS_MAX = 8,		/* declared by all tracers together */
	TRACER_OPTION_VALUE_MAX = 4096,	/* bytes of a value, with the NUL */
};

/* One tracer option given a value (on the command line or in the config). */
struct tracer_setting {
	const char *name;
	const char *value;
};

/* Settings a tracer may read when it loads. */
struct tracer_config {
	/* Tracer options given (tracer_config_get() adds the defaults). */
	struct tracer_setting settings[TRACER_OPTIONS_MAX];
	size_t n_settings;
	bool compat_syscalls;	/* attach the compat hooks ([daemon] compat_syscalls) */
};

struct loop;
struct json_t;

/*
 * What a tracer's start hook gets: the little of the daemon it may use.
 * The struct lives for the call; what it points to (and the fds), until
 * the tracer's stop hook returns.
 */
struct tracer_context {
	struct loop *loop;		/* for its own fds, children and timers */
	const struct tracer_config *cfg;	/* its options: tracer_config_get() */
	int uprobe_prog_fd;		/* its first uretprobe's program, to attach more; or -1 */
	const int *map_fds;		/* tracer_ops.maps, in order */
	size_t n_maps;
	/*
	 * The host: its mount namespace's inode, and a process in it
	 * ("/proc/1", else "/proc/2" where pid 1 is out of reach and pid 2
	 * is kthreadd, else "/proc/self") to look at its root through.
	 */
	uint32_t host_mntns;
	const char *host_proc;
};

struct tracer_ops {
	const char *name;
	const char *description;
	const char *bpf_source;
	/*
	 * The tracer's io_uring handlers (tracers/NAME_io_uring.bpf.c),
	 * compiled after bpf_source when the io_uring hooks are on, or NULL.
	 */
	const char *io_uring_source;
	const struct tracer_hook *hooks;	/* ends with a NULL target */
	const char *const *keys;		/* data keys emitted, NULL-terminated */
	/*
	 * The binary uprobes attach to, or NULL: lets a tracer whose binary
	 * is missing fail alone, with a reason, before any compiling.
	 */
	const char *(*binary)(const struct tracer_config *cfg);
	/*
	 * Turns raw record @rec of @size bytes into @ev (the common header
	 * fields are filled by the caller). 0, or -EINVAL for a record that
	 * is too short or inconsistent.
	 */
	int (*decode)(const void *rec, size_t size, struct event *ev);
	/*
	 * What the program's in-kernel prefilter can test (record.h:
	 * BPFD_PF_COMM, the data key "command" is the comm; BPFD_PF_PATH, the
	 * data key "filename" (or those of pf_path_keys); BPFD_PF_LEAF, its
	 * last component before the path is built; BPFD_PF_SUFFIX, its last
	 * component for values `*` then "/NAME"; BPFD_PF_UID; BPFD_PF_CONTAINER), 0
	 * for none. See prefilter.c.
	 */
	unsigned int prefilter;
	/*
	 * BPFD_PF_PATH: the data keys that hold paths the program tests,
	 * NULL-terminated; a rule with values on any one of them is testable,
	 * and the program lets an event through when any of its paths is one
	 * of any key's values. NULL: "filename" alone.
	 */
	const char *const *pf_path_keys;
	/*
	 * BPFD_PF_KIND: the data key (pf_kind_key) whose values are the
	 * tracer's kinds of event, pf_kinds[0..] (at most 32, NULL after the
	 * last), which its program knows before it builds anything: bit n of
	 * bpfd_pf_config.kinds lets kind n through.
	 */
	const char *pf_kind_key;
	const char *const *pf_kinds;
	/*
	 * Data keys holding an IP address (rules take CIDRs: `10.0.0.0/8`,
	 * `::1/128`, a bare address) and a port (rules take ports and ranges,
	 * "8000-8999"), NULL-terminated, or NULL. Both are also in @keys.
	 */
	const char *const *address_keys;
	const char *const *port_keys;
	/*
	 * The tracer's own BPF maps the daemon works with (names in its
	 * source), NULL-terminated, or NULL. The loader hands over their fds
	 * in this order; the hooks below get them.
	 */
	const char *const *maps;
	/*
	 * Called about once a second while the tracer is loaded, for the
	 * program's state the daemon must collect: e.g. counts aggregated in
	 * the kernel. Every record made goes to @emit(@ctx, ...); what was
	 * drained is added to @drain. 0 or a negative errno. NULL: none.
	 */
	int (*tick)(const int *map_fds, tracer_emit_fn emit, void *ctx, struct tracer_drain *drain);
	/*
	 * An in-kernel prefilter kept in the tracer's own maps, rewritten
	 * whenever the rules change: @rules are the @n active rules of this
	 * tracer, @index is the tracer's index. 1 when it is on (it drops
	 * events none of @rules can match), 0 when it is off (every event
	 * passes), or a negative errno (then off). NULL: none.
	 */
	int (*rules_changed)(const int *map_fds, const struct rule *const *rules, size_t n,
			     size_t index);
	/* Settings the tracer reads (struct tracer_option), ending with a NULL name; or NULL. */
	const struct tracer_option *options;
	/*
	 * After the tracer loaded, before it is switched on: sets up what the
	 * tracer does beside its programs (maps to fill, helper processes)
	 * and returns it in *@state (may stay NULL; left NULL on failure). 0
	 * or a negative errno: the daemon logs it and the tracer runs without.
	 * NULL: none.
	 */
	int (*start)(const struct tracer_context *ctx, void **state);
	/* Undoes start (never blocks on the kernel); gets NULL when start made nothing. */
	void (*stop)(void *state);
	/* On every turn of the loop: does what is due; ms until next due, or -1. NULL: none. */
	int (*timers)(void *state, int64_t now_ms);
	/* About once a second, beside tick. NULL: none. */
	void (*periodic)(void *state);
	/*
	 * `status` gets the object this returns under the key @status_name;
	 * @state is NULL when the tracer is not running (then its zeroes).
	 */
	const char *status_name;
	struct json_t *(*status)(const void *state);
	/*
	 * The line `bpfd status` (the client) prints of that object, on
	 * stdout; NULL: none. Called with what the daemon sent, which may
	 * lack any key.
	 */
	void (*status_text)(const struct json_t *status);
	/*
	 * Each of this tracer's events is a process that ran a program: the
	 * daemon tells the tracers that have contained_exec about the ones
	 * in containers.
	 */
	bool exec_events;
	/*
	 * Every event of this tracer is worth a look on its own (a line typed
	 * at a shell, a file opened outside a container's root): a rule with
	 * no filter on it is meant, and `bpfd check` does not warn of it.
	 */
	bool sparse;
	/*
	 * Process @pid ran a program in a container (from a tracer with
	 * exec_events). On the event path: must not block, queues its work.
	 */
	void (*contained_exec)(void *state, int pid);
	/*
	 * A tracer whose record is described (tracers/dropin/: a drop-in,
	 * or a built-in with its NAME.toml, such as chmod):
	 * decode_desc(desc, ...) decodes its records instead of decode. A
	 * drop-in's program is also compiled as a BCC module of its own
	 * (own_module), which shares the common program's maps, so that one
	 * that fails costs the others nothing.
	 */
	const void *desc;
	int (*decode_desc)(const void *desc, const void *rec, size_t size, struct event *ev);
	bool own_module;
	/* The file its program comes from, for `bpfd tracers`; NULL: built in. */
	const char *source_path;
	/* Non-NULL: the tracer cannot load, and why (its description is wrong). */
	const char *failed;
};

/*
 * The tracers: the built-in ones (tracers/table.c) in the order of
 * tracer_names, then those registered when the daemon starts (drop-ins).
 * Record type BPFD_RECORD_TRACER_BASE + index: at most TRACERS_MAX.
 */
enum { TRACERS_MAX = BPFD_TRACERS_MAX - BPFD_RECORD_TRACER_BASE };
extern const struct tracer_ops *tracer_table[TRACERS_MAX + 1];
extern size_t tracer_count;
/* How many of them are built in. */
extern const size_t tracer_builtin_count;

/* Adds @t after the others. 0, -EEXIST for a name taken, -ENOSPC when the table is full. */
int tracer_register(const struct tracer_ops *t);

/*
 * A reload of the drop-ins (docs/writing-a-tracer.md) takes drop-in slot
 * @index out of use: tracer_find() and every listing skip it, and its ops
 * stay, to decode the records of it still in flight. Record types are
 * slot indexes, so a slot is only given again (tracer_reuse()) at a later
 * reload, long after its programs were detached and its records read.
 */
void tracer_retire(size_t index);
bool tracer_retired(size_t index);

/*
 * Puts @t in retired slot @index. The ops that were there (the caller
 * frees them), or NULL when the slot is not retired or @t's name is taken.
 */
const struct tracer_ops *tracer_reuse(size_t index, const struct tracer_ops *t);

/* Decodes @rec with @t's decode or decode_desc (see struct tracer_ops). */
static inline int tracer_decode(const struct tracer_ops *t, const void *rec, size_t size,
				struct event *ev)
{
	if (t->decode)
		return t->decode(rec, size, ev);
	if (t->decode_desc)
		return t->decode_desc(t->desc, rec, size, ev);
	return -EINVAL;
}

/*
 * Drop-in tracers (tracers/dropin/, docs/writing-a-tracer.md): registers
 * each NAME.toml and NAME.bpf.c of directory @dir, in the order of their
 * names, after the built-ins. A drop-in that cannot be used (a wrong
 * description, a file anyone but root may write) is registered failed,
 * with the reason in its `failed`, and @report(message) is called for it.
 * 0 (also for a missing @dir when @missing_ok), or a negative errno with
 * the reason in @err when the directory itself is refused or unreadable.
 */
int tracer_load_dropins(const char *dir, bool missing_ok, void (*report)(const char *message),
			char *err, size_t err_size);

/*
 * Reads the drop-ins of @dir as tracer_load_dropins() does, in the same
 * order, into @out (at most @max; their count in *@n_out, which starts at
 * 0), failed ones too, instead of registering them: the caller owns them
 * (tracer_dropin_free()). What a reload compares with the drop-ins running.
 */
int tracer_read_dropins(const char *dir, bool missing_ok, void (*report)(const char *message),
			struct tracer_ops **out, size_t max, size_t *n_out, char *err,
			size_t err_size);

/* Frees a drop-in's tracer (from tracer_read_dropins(), or one a reload retired). */
void tracer_dropin_free(struct tracer_ops *ops);

/*
 * A failed drop-in named @name (its files @path, the reason @why): what holds
 * a slot that is not compiled. NULL when out of memory.
 */
struct tracer_ops *tracer_dropin_failed(const char *name, const char *path, const char *why);

/* The tracer named @name, or NULL. Its index in *@index when non-NULL. */
const struct tracer_ops *tracer_find(const char *name, size_t *index);

/* Record type of tracer @index in the shared ring buffer (record.h). */
static inline uint32_t tracer_record_type(size_t index)
{
	return BPFD_RECORD_TRACER_BASE + (uint32_t)index;
}

/* The tracer option named @name (struct tracer_option) and its tracer, or NULL. */
const struct tracer_option *tracer_option_find(const char *name, const struct tracer_ops **t);

/* Every tracer's option names, each followed by ", " (for messages), in @buf. */
const char *tracer_option_names(char *buf, size_t size);

/*
 * The value of tracer option @name in @cfg (NULL: none given), else its
 * declared default (NULL for an option no tracer declares).
 */
const char *tracer_config_get(const struct tracer_config *cfg, const char *name);

/*
 * Gives option @name @value in @cfg (replacing an earlier one; @value is
 * borrowed). 0, -ENOENT when no tracer declares @name, -E2BIG when
 * @value is too long, -ENOSPC when @cfg is full.
 */
int tracer_config_set(struct tracer_config *cfg, const char *name, const char *value);

/* True when tracer @t emits data key @key. */
int tracer_has_key(const struct tracer_ops *t, const char *key);

/* What kind of value data key @key of @t holds (see address_keys, port_keys). */
enum tracer_key_kind { TRACER_KEY_STRING, TRACER_KEY_ADDRESS, TRACER_KEY_PORT };
enum tracer_key_kind tracer_key_kind(const struct tracer_ops *t, const char *key);

#endif
