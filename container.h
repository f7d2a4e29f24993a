/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CONTAINER_H
#define BPFD_CONTAINER_H

/*
 * Container awareness (docs/containers.md): which runtime and container an event came
 * from, derived from the event's own cgroup.
 *
 * Two parts. container_from_cgroup_path() is a pure parser: a cgroup path
 * in, a runtime and id out, no I/O. struct cgroup_cache maps the cgroup id
 * that BPF programs record (bpf_get_current_cgroup_id(), the inode number
 * of the cgroup's directory in the cgroup2 hierarchy) to that container,
 * learning paths as cgroups are created and resolving misses through a
 * resolver, so that a process that has already exited is still attributed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CONTAINER_RUNTIME_HOST "not-found"

struct container_info {
	const char *runtime;		/* static string: "docker", ..., "not-found" */
	char id[CONTAINER_ID_MAX + 1];	/* "" for the host */
	/*
	 * For a container a user runs (rootless docker, podman under
	 * user@UID.service), that user's uid; -1 for the system's containers
	 * and the host. Never from the path: from the kernel's word on who
	 * created the cgroup (cgroup_cache_learn). The parser leaves it -1.
	 */
	int64_t owner_uid;
};

/*
 * Derives runtime and id from @path, a cgroup path as found in the
 * cgroup2 hierarchy, in /proc/PID/cgroup (with or without the
 * "N:controllers:" prefix) or in a v1 hierarchy. Host paths, malformed and
 * over-long paths give CONTAINER_RUNTIME_HOST and "".
 * Returns true when a container was recognised.
 */
bool container_from_cgroup_path(const char *path, struct container_info *out);

/* True when @runtime is one of the names container_from_cgroup_path() gives. */
bool container_runtime_known(const char *runtime);

/* Every runtime name, NULL-terminated, CONTAINER_RUNTIME_HOST last. */
extern const char *const container_runtimes[];

/*
 * Finds the cgroup path of cgroup id @id and writes it (relative to the
 * hierarchy root, starting with '/') to @path. 0, or a negative errno
 * (-ENOENT when no such cgroup exists any more).
 */
struct cgroup_resolver {
	int (*resolve)(void *ctx, uint64_t id, char *path, size_t size);
	/*
	 * Optional: the uid owning the directory of the cgroup at @path (as
	 * resolve() writes them) in *@uid: its creator's, since the kernel
	 * makes a new cgroup's directory its creator's. 0 or -errno.
	 */
	int (*owner)(void *ctx, const char *path, uint32_t *uid);
	void *ctx;
};

struct cgroup_cache;

/*
 * A cache of at most @capacity cgroup ids, least recently used evicted
 * first. @resolver may be NULL (then only learned ids are known). The cache
 * keeps a copy of *@resolver.
 */
struct cgroup_cache *cgroup_cache_new(size_t capacity, const struct cgroup_resolver *resolver);
void cgroup_cache_free(struct cgroup_cache *cache);

/*
 * Records that cgroup @id has path @path (a cgroup_mkdir event, a scan) and
 * was made by, or belongs to, @uid: the creating task's real uid from the
 * kernel, or the directory's owner. Whose container it is (owner_uid) is
 * decided by the container's own cgroup, the outermost one the path names:
 * @uid when that is @path itself, else its directory's owner (asked of the
 * resolver; @uid when there is none). Root's containers are the system's;
 * any other uid's, that user's. A user can name a cgroup anything in a
 * subtree delegated to them, but not make it root's.
 */
int cgroup_cache_learn(struct cgroup_cache *cache, uint64_t id, const char *path, uint32_t uid);

/*
 * The container of cgroup @id. On a miss the resolver is asked once; an id
 * it cannot resolve is cached as the host. Never NULL: the result points
 * into the cache and stays valid until the next call on @cache.
 */
const struct container_info *cgroup_cache_lookup(struct cgroup_cache *cache, uint64_t id);

struct cgroup_cache_stats {
	uint64_t hits, misses, resolve_failures, evictions;
	size_t entries, capacity;
};
void cgroup_cache_stats(const struct cgroup_cache *cache, struct cgroup_cache_stats *out);

/*
 * The OS side: the cgroup2 mount point from /proc/self/mountinfo (NULL
 * when there is none), a resolver that uses open_by_handle_at() on it, and
 * a scan that teaches @cache every cgroup below it (at most @max_entries).
 */
const char *cgroup2_mount_point(void);
struct cgroup_resolver cgroup_fs_resolver(const char *mount_point);
int cgroup_cache_scan(struct cgroup_cache *cache, const char *mount_point, size_t max_entries);

#endif
