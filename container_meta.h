/* SPDX-License-Identifier: MIT */
#ifndef BPFD_CONTAINER_META_H
#define BPFD_CONTAINER_META_H

/*
 * What a container is, beyond its id: the name its user gave it, the image
 * it was started from, its labels and, under Kubernetes, its pod. Learned
 * once per container cgroup from the state each runtime keeps on the host
 * (docs/containers.md), never per event.
 *
 * Two parts, as in container.h. The parsers turn one runtime file's bytes
 * into a struct container_meta and do no I/O, so unit tests feed them
 * recorded files. struct container_meta_cache keys what was learned by the
 * cgroup id it was learned for, and reads the runtime files itself: files
 * root's runtimes keep, and, for a container a user runs, files in that
 * user's home, read as hostile input (no blocking open, regular file owned
 * by the user, size cap, bounded JSON).
 *
 * Functions return 0 or a negative errno and never log.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "container.h"

enum {
	CONTAINER_META_VALUE_MAX = 512,		/* bytes of one name, image, label value */
	CONTAINER_META_LABELS_MAX = 64,		/* labels kept of one container */
	CONTAINER_META_FILE_MAX = 1 << 20,	/* bytes of one runtime file read */
	CONTAINER_META_CACHE_CAPACITY = 1024,	/* container cgroups remembered */
	CONTAINER_META_ATTEMPTS = 5,		/* reads of a container's state before giving up */
};

/*
 * The metadata of one container. @fields is a JSON object holding only the
 * keys known, in event order (container_name, container_image,
 * container_image_id, container_labels, k8s_namespace, k8s_pod,
 * k8s_pod_uid, k8s_container); @json is the same object encoded as it
 * follows container_id in an event (",\"container_name\":...", no braces),
 * made once so that events copy it.
 */
struct container_meta {
	json_t *fields;
	char *json;
	size_t json_len;
};

/* Releases what @m holds; accepts a zeroed struct. */
void container_meta_release(struct container_meta *m);

/*
 * True for the keys a rule may filter on: container_name, container_image,
 * container_label.KEY (a KEY of 1 to 256 bytes), k8s_namespace, k8s_pod.
 */
bool container_meta_key(const char *key);

/* The value of string key @key ("container_name", "container_label.KEY", ...) or NULL. */
const char *container_meta_get(const struct container_meta *m, const char *key, size_t *len);

/*
 * The parsers: @text (@len bytes) as the runtime writes it, into a fresh
 * @m (zeroed by the caller). -EINVAL when it is not that file, -ENOENT
 * when it names nothing (an OCI config.json without any known annotation).
 *
 * docker's /var/lib/docker/containers/<id>/config.v2.json: Name (without
 * its leading '/'), Config.Image, Image, Config.Labels.
 */
int container_meta_from_docker(const char *text, size_t len, struct container_meta *m);

/*
 * An OCI bundle's config.json: the annotations of containerd's CRI plugin
 * (io.kubernetes.cri.*) and CRI-O's (io.kubernetes.pod.*,
 * io.kubernetes.container.name, io.kubernetes.cri-o.ImageName and Labels).
 */
int container_meta_from_oci(const char *text, size_t len, struct container_meta *m);

/*
 * podman's storage containers.json (every container of one store): the
 * entry of container @id, its name and the image name and id its
 * metadata records. Labels are only in libpod's database: the fallback
 * when that cannot be read.
 */
int container_meta_from_podman(const char *text, size_t len, const char *id,
			       struct container_meta *m);

/*
 * podman's configuration of container @id as libpod keeps it in its
 * database (the value of key "config" in bucket "ctr"/<id> of
 * libpod/bolt_state.db): name, rootfsImageName (else RawImageName),
 * rootfsImageID and labels. -EINVAL when its "id" is not @id.
 */
int container_meta_from_podman_config(const char *text, size_t len, const char *id,
				      struct container_meta *m);

/*
 * The metadata keys of event object @event (as event_to_json() wrote them)
 * into a fresh @m: -ENOENT when it has none, -EINVAL when one has the wrong
 * type. For clients that print the text of JSON events.
 */
int container_meta_from_event(const json_t *event, struct container_meta *m);

/* Encodes m->fields into m->json: 0 or -ENOMEM. The parsers call it. */
int container_meta_encode(struct container_meta *m);

/*
 * Where the runtimes keep their state; NULL members take the default
 * (docs/containers.md). Tests point them at fixtures.
 */
struct container_meta_paths {
	const char *docker;		/* /var/lib/docker/containers */
	const char *podman;		/* /var/lib/containers/storage/overlay-containers */
	const char *podman_user;	/* .local/share/containers/storage/overlay-containers, in a home */
	const char *podman_db;		/* /var/lib/containers/storage/libpod/bolt_state.db */
	const char *podman_db_user;	/* .local/share/containers/storage/libpod/bolt_state.db */
	const char *const *bundles;	/* directories of <namespace>/<id>/config.json, NULL-ended */
	const char *crio;		/* /run/containers/storage/overlay-containers */
};

struct container_meta_cache;

struct container_meta_cache *container_meta_cache_new(size_t capacity,
						      const struct container_meta_paths *paths);
void container_meta_cache_free(struct container_meta_cache *cache);

/*
 * The metadata of the container that cgroup @cgroup_id belongs to (@info,
 * as the cgroup cache decided it), or NULL while it is not known. The
 * first call for a cgroup reads the runtime's state (a few bounded,
 * non-blocking reads of local files); a container whose state is not
 * there yet is tried again on later calls, at most CONTAINER_META_ATTEMPTS
 * times, at least @retry_ns apart (@now_ns is monotonic). State is read
 * only from where the container's owner could have written it: the
 * system's runtimes for a container root runs, the user's own store for
 * one a user runs. The result stays valid until the next call.
 */
const struct container_meta *container_meta_cache_get(struct container_meta_cache *cache,
						      uint64_t cgroup_id,
						      const struct container_info *info,
						      uint64_t now_ns);

/* Learns cgroup @cgroup_id at once (its creation was seen): as a first get. */
void container_meta_cache_learn(struct container_meta_cache *cache, uint64_t cgroup_id,
				const struct container_info *info, uint64_t now_ns);

/*
 * Told when what is known of cgroup @cgroup_id's container is settled:
 * its metadata @m, or NULL when it will not be known (its state was not
 * found in CONTAINER_META_ATTEMPTS reads, or is not readable); or, with
 * @forget, that the cache let go of the cgroup (evicted, or made anew).
 */
typedef void (*container_meta_watch_fn)(void *ctx, uint64_t cgroup_id,
					const struct container_meta *m, bool forget);

/* Calls @fn as cgroups settle from now on (NULL: no more). */
void container_meta_cache_watch(struct container_meta_cache *cache, container_meta_watch_fn fn,
				void *ctx);

/* Calls @fn (with @forget false) for every cgroup settled now. */
void container_meta_cache_foreach_settled(const struct container_meta_cache *cache,
					  container_meta_watch_fn fn, void *ctx);

struct container_meta_stats {
	size_t entries, capacity, known;
	uint64_t reads, read_failures, evictions;
};
void container_meta_cache_stats(const struct container_meta_cache *cache,
				struct container_meta_stats *out);

#endif
