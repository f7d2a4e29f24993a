/* SPDX-License-Identifier: MIT */
#ifndef BPFD_EVENT_H
#define BPFD_EVENT_H

/*
 * The event model: what every stage after decoding sees (docs/protocol.md §4.4).
 *
 * An event does not own its strings. The tracer's decode function points
 * `data[].value` into the raw sample or into the event's own scratch space,
 * and the event lives only while the pipeline handles one sample. Anything
 * that needs an event later (a subscriber queue, an action) takes the
 * serialized JSON instead.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

struct container_meta;

enum {
	EVENT_DATA_MAX = 16,		/* data keys one event may carry */
	EVENT_RULES_MAX = 32,		/* rule names listed in one event */
	EVENT_TAGS_MAX = 32,		/* tags of those rules listed in one event */
	EVENT_COMM_LEN = 16,		/* TASK_COMM_LEN */
	CONTAINER_ID_MAX = 128,		/* longest container id kept */
	EVENT_SCRATCH = 24576,		/* bytes for values decode builds (argv) */
	EVENT_ANCESTORS_MAX = 16,	/* ancestors one event may name */
};

/* One ancestor of the event's process (proctable.h): strings not owned. */
struct event_process {
	uint32_t pid;
	const char *command;	/* its comm */
	size_t command_len;
	const char *exe;	/* NULL: not known */
	size_t exe_len;
	const char *argv;	/* what the process had in its argument area, cut */
	size_t argv_len;
};

struct event_kv {
	const char *key;	/* NUL-terminated */
	size_t key_len;
	const char *value;	/* need not be NUL-terminated */
	size_t len;
};

struct event {
	const char *tracer;
	uint64_t time_ns;		/* wall clock, ns since the epoch, UTC */
	const char *hostname;
	uint32_t pid;			/* tgid */
	uint32_t tid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t gid;
	/*
	 * The process's start, ns since boot (not in JSON): with pid it names
	 * the process, so an action never signals a reused pid.
	 */
	uint64_t start_ns;
	char command[EVENT_COMM_LEN + 1];
	int64_t returnval;
	uint64_t cgroup_id;
	uint64_t mntns;
	uint64_t pidns;
	const char *container_runtime;	/* static string, "not-found" for the host */
	const char *container_id;	/* "" for the host */
	/*
	 * The uid whose container it is when a user, not the system, runs it
	 * (rootless docker, podman): -1 for the system's containers and the host.
	 */
	int64_t container_owner_uid;
	/*
	 * The container's name, image, labels and pod (container_meta.h),
	 * NULL where none is known. Not owned: the metadata cache's.
	 */
	const struct container_meta *container_meta;
	/*
	 * The identity the kernel recognised the event's file by (struct
	 * bpfd_path_ident, tracers/common/path.h; not in JSON): the pipeline turns it
	 * into the name of the rules' file (`identity`). depth 0: none.
	 */
	uint64_t ident_ino;
	uint32_t ident_dev;
	uint32_t ident_depth;
	/* Below a directory: the names under it ("/sub/file"), or none when too long. */
	const char *ident_tail;
	size_t ident_tail_len;

	/*
	 * The process table's (proctable.h): with @has_process the JSON has
	 * `ancestors` (nearest first) and, when known, `exe`. Not owned.
	 */
	bool has_process;
	const char *exe;		/* NULL: not known */
	size_t exe_len;
	size_t n_ancestors;
	/*
	 * Not 0: the process part is what the table's state @process_version
	 * gives for this pid and start time, and any other event with the
	 * same three has the same part (its JSON is made once for them).
	 * Versions are never reused. 0: made each time.
	 */
	uint64_t process_version;

	/*
	 * The rules that matched, in rule order: the first EVENT_RULES_MAX
	 * (every one runs its actions), and how many more were left out of
	 * the list (JSON "rules_omitted", only when not 0).
	 */
	const char *rules[EVENT_RULES_MAX];
	size_t n_rules;
	size_t rules_omitted;
	/*
	 * Recorded while no daemon ran (keep = true, docs/architecture.md), and
	 * delivered by the next: JSON "replayed": true, only when so.
	 */
	bool replayed;
	/*
	 * The highest priority of the rules that matched ("warning"...; NULL
	 * when none did), and their tags, each once, the first EVENT_TAGS_MAX
	 * (docs/rules.md). Not owned: the rules'.
	 */
	const char *priority;
	const char *tags[EVENT_TAGS_MAX];
	size_t n_tags;

	struct event_kv data[EVENT_DATA_MAX];
	size_t n_data;

	/* The first n_ancestors are set (not cleared by event_init()). */
	struct event_process ancestors[EVENT_ANCESTORS_MAX];

	/* Room for values decode formats (returnval as text, ...). */
	char scratch[EVENT_SCRATCH];
	size_t scratch_used;
};

/* Resets @ev to an empty event: no data, no rules, host container. */
void event_init(struct event *ev);

/*
 * Adds data key @key with @len bytes of @value. The bytes are not copied.
 * A key already present gets the new value. Returns 0, or -ENOSPC when the
 * event already has EVENT_DATA_MAX keys.
 */
int event_add_data_key(struct event *ev, const char *key, size_t key_len, const char *value,
		       size_t len);

/*
 * The same with the key's length taken here, where a literal key's is a
 * constant: decoding pays no strlen or strcmp per key and event.
 */
static inline int event_add_data(struct event *ev, const char *key, const char *value, size_t len)
{
	return event_add_data_key(ev, key, __builtin_strlen(key), value, len);
}

/*
 * @len bytes of the event's scratch space, for a value decode builds, or
 * NULL when the scratch space is used up.
 */
char *event_scratch_alloc(struct event *ev, size_t len);

/* Like event_add_data() for a NUL-terminated value. */
static inline int event_add_str(struct event *ev, const char *key, const char *value)
{
	return event_add_data(ev, key, value, value ? __builtin_strlen(value) : 0);
}

/*
 * Formats @value in decimal into the event's scratch space and adds it as
 * data key @key. Returns 0, -ENOSPC when scratch or data slots run out.
 */
int event_add_int_key(struct event *ev, const char *key, size_t key_len, int64_t value);

static inline int event_add_int(struct event *ev, const char *key, int64_t value)
{
	return event_add_int_key(ev, key, __builtin_strlen(key), value);
}

/* The value of data key @key, or NULL; its length in *@len when non-NULL. */
const char *event_get_data(const struct event *ev, const char *key, size_t *len);

/*
 * Appends the event as one JSON object (docs/protocol.md §4.4 key names and types, no
 * trailing newline) to @out. Invalid UTF-8 in data values is replaced by
 * U+FFFD so that the output is always valid JSON. Returns 0 or -ENOMEM.
 */
int event_to_json(const struct event *ev, struct strbuf *out);

/*
 * event_to_json() for a buffer with a bound (a subscriber's queue): writes
 * only when the encoding's worst case (a few times the event's strings)
 * leaves @out at most @max_len bytes long, so that @out never grows past
 * about its bound. -ENOBUFS, nothing written, when it might not.
 */
int event_to_json_bounded(const struct event *ev, struct strbuf *out, size_t max_len);

/*
 * Appends the event as one line of text (the `bpfd trace` and `stdout`
 * format, no trailing newline) to @out. Control characters in values are
 * escaped so that one event is always one line. Returns 0 or -ENOMEM.
 */
int event_to_text(const struct event *ev, struct strbuf *out);

/*
 * Text form of a JSON event object (as produced by event_to_json), for
 * clients that receive JSON and print text. Returns 0, -EINVAL when
 * @json is not an event object, or -ENOMEM.
 */
int event_json_to_text(const char *json, size_t len, struct strbuf *out);

/* RFC 3339 UTC time with nanoseconds: "2026-11-28T12:31:02.123456789Z". */
enum { EVENT_TIME_LEN = 31 };
void event_format_time(uint64_t time_ns, char buf[EVENT_TIME_LEN]);

#endif
