/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CONFIG_H
#define BPFD_CONFIG_H

/*
 * The daemon's INI config (/etc/bpfd/bpfd.conf, --config), read with
 * libinih. `[daemon]` holds the daemon's settings; every other section
 * configures an action: `[webhook]` the bare type, `[webhook:slack]` an
 * instance a rule names as "webhook:slack". docs/config.md has every key.
 *
 * The reader knows the [daemon] keys itself and asks a checker (the
 * actions, actions.c) about every other section, so that any bad line is
 * reported as "file:line: message" while the file is read.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/journal.h"
#include "tracer.h"

/* The largest process_table_size accepted (the process table's own limit, proctable.h). */
enum {
	CONFIG_PROCESS_TABLE_MAX = 1 << 22,
	CONFIG_ANCESTORS_MAX = 16,	/* the most ancestors an event may name (event.h) */
};

enum { CONFIG_ERROR_MAX = 640 };

struct config_entry {
	char *key;
	char *value;
	int line;
};

struct config_section {
	char *name;
	int line;		/* of its [header] */
	struct config_entry *entries;
	size_t n_entries;
};

enum config_output { CONFIG_OUTPUT_TEXT, CONFIG_OUTPUT_JSON };

/* [daemon]: what is not set stays NULL / 0 / false and the default applies. */
struct config_daemon {
	const char *rules_dir;
	const char *tracers_dir;	/* drop-in tracers (docs/writing-a-tracer.md) */
	const char *socket;
	const char *socket_group;
	const char *admin_users;	/* comma-separated names or uids: every op, like root */
	const char *admin_groups;	/* comma-separated names or gids */
	const char *tracers;
	/* Keys the tracers declare (tracer_ops.options), values owned. */
	struct tracer_config tracer_cfg;
	const char *cgroup_hierarchy;
	bool has_socket_mode;
	unsigned int socket_mode;
	size_t ring_buffer_bytes;	/* 0: default */
	size_t subscriber_queue_bytes;	/* 0: default */
	int64_t client_stall_ms;	/* 0: default */
	uint64_t max_rules;		/* 0: default */
	int64_t client_frame_ms;	/* 0: default */
	int64_t client_idle_ms;		/* 0: default */
	bool has_log_level;
	int log_level;			/* enum log_level */
	enum config_output output;
	/* What events of a tracer without rules go to; NULL: ["stdout"]. */
	char **default_actions;
	size_t n_default_actions;
	bool has_default_actions;
	/* A destructive default action (kill...) is meant: default_actions_force = true. */
	bool default_actions_force;
	/* compat_syscalls = false: no hook on every system call for the 32-bit entry. */
	bool has_compat_syscalls;
	bool compat_syscalls;
	/* kernel_loads = false: the programs read kernel memory with the helper (bpf/kmem.h). */
	bool has_kernel_loads;
	bool kernel_loads;
	/* keep = true: the programs pinned, recording on while no daemon runs (a crash). */
	bool keep;
	/* ancestors = N: ancestors named per event, 0: no process table at all. */
	bool has_ancestors;
	unsigned int ancestors;
	uint64_t process_table_size;	/* entries; 0: default; at most CONFIG_PROCESS_TABLE_MAX */
	/* journal = auto|on|off: the log and `stdout` to the systemd journal (lib/journal.h). */
	enum journal_mode journal;
	/* The metrics server (docs/config.md, metrics*); NULL address: none. */
	struct config_metrics {
		const char *address;	/* HOST:PORT, [IPV6]:PORT or /path (netaddr.h) */
		const char *tls_cert, *tls_key;	/* PEM files: HTTPS */
		const char *token_file;	/* a bearer token every request must carry */
		bool insecure;		/* another host may reach it without TLS and token */
		int64_t timeout_ms;	/* a connection's idle limit; 0: default */
	} metrics;
};

struct config {
	char *path;
	struct config_daemon daemon;
	struct config_section *sections;	/* every section but [daemon] */
	size_t n_sections;
};

/*
 * Asked about each line of a section other than [daemon]: @key is NULL
 * for the section header itself, and for each action of default_actions.
 * Returns 0, or -EINVAL with a message (no file or line: the reader adds
 * them) in @err; for a header, 1 when that action is destructive (acts on
 * processes or containers).
 */
typedef int (*config_check_fn)(void *ctx, const char *section, const char *key,
			       const char *value, char *err, size_t size);

/*
 * Reads the config in @path (or @len bytes of @text when @text is non-NULL,
 * named @path in messages). On success *@out owns a new config; on failure
 * @err says "path:line: message" (or "path: message") and a negative errno
 * is returned: -ENOENT when the file does not exist.
 */
int config_load(const char *path, const char *text, size_t len, config_check_fn check,
		void *ctx, struct config **out, char err[CONFIG_ERROR_MAX]);
void config_free(struct config *cfg);

/* Section @name, or NULL. */
const struct config_section *config_section(const struct config *cfg, const char *name);

/* The value of @key in @section (which may be NULL), or NULL. */
const char *config_get(const struct config_section *section, const char *key);

/* The line @key was set on, or 0. */
int config_line(const struct config_section *section, const char *key);

/* A copy of @s that owns its strings (NULL for NULL, or when out of memory). */
struct config_section *config_section_dup(const struct config_section *s);
void config_section_free(struct config_section *s);

/* True when the two sections (either may be NULL) hold the same settings. */
bool config_section_equal(const struct config_section *a, const struct config_section *b);

/*
 * Value parsers shared by the daemon and the actions; each returns 0 or
 * -EINVAL and never writes to *out on failure.
 *
 * Durations: "250ms", "10s", "5m", "1h", a bare number means seconds.
 * Sizes: "4096", "64K", "8M", "1G" (powers of 1024).
 * Rates: "10/s", "100/min", "5/h", "1/d": at most N in each such period.
 * Booleans: true/false, yes/no, on/off, 1/0.
 */
int config_parse_duration_ms(const char *s, int64_t *out);
int config_parse_size(const char *s, size_t *out);
int config_parse_uint(const char *s, uint64_t max, uint64_t *out);
int config_parse_rate(const char *s, uint32_t *count, int64_t *period_ms);
int config_parse_bool(const char *s, bool *out);

#endif
