// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "container_meta.h"

#include "lib/boltdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	LABEL_KEY_MAX = 256,
	PATH_MAX_META = 4096,
	NAMESPACES_MAX = 64,	/* containerd namespaces looked through for a bundle */
};

#define LABEL_PREFIX "container_label."

void container_meta_release(struct container_meta *m)
{
	if (!m)
		return;
	json_decref(m->fields);
	free(m->json);
	m->fields = NULL;
	m->json = NULL;
	m->json_len = 0;
}

bool container_meta_key(const char *key)
{
	static const char *const keys[] = { "container_name", "container_image", "k8s_namespace",
					    "k8s_pod", NULL };
	size_t i, n;

	if (!strncmp(key, LABEL_PREFIX, sizeof(LABEL_PREFIX) - 1)) {
		n = strlen(key + sizeof(LABEL_PREFIX) - 1);
		return n && n <= LABEL_KEY_MAX;
	}
	for (i = 0; keys[i]; i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

const char *container_meta_get(const struct container_meta *m, const char *key, size_t *len)
{
	const json_t *v;

	if (!m || !m->fields)
		return NULL;
	if (!strncmp(key, LABEL_PREFIX, sizeof(LABEL_PREFIX) - 1))
		v = json_object_get(json_object_get(m->fields, "container_labels"),
				    key + sizeof(LABEL_PREFIX) - 1);
	else
		v = json_object_get(m->fields, key);
	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

/* A value worth keeping: a non-empty string within the bound, without NULs. */
static bool keepable(const json_t *v, size_t max)
{
	size_t n = json_string_length(v);

	return json_is_string(v) && n && n <= max && strlen(json_string_value(v)) == n;
}

/* Sets @key of @m to string @v when it is one worth keeping. */
static int put(struct container_meta *m, const char *key, const json_t *v)
{
	if (!keepable(v, CONTAINER_META_VALUE_MAX))
		return 0;
	return json_object_set_new(m->fields, key, json_string(json_string_value(v))) ? -ENOMEM
										       : 0;
}

static int put_str(struct container_meta *m, const char *key, const char *s)
{
	json_t *v = json_string(s);
	int r = v ? put(m, key, v) : 0;

	json_decref(v);
	return r;
}

/* The string labels of object @labels, at most CONTAINER_META_LABELS_MAX. */
static int put_labels(struct container_meta *m, const json_t *labels)
{
	const char *key;
	json_t *v, *out;
	size_t n = 0;

	if (!json_is_object(labels) || !json_object_size(labels))
		return 0;
	out = json_object();
	if (!out)
		return -ENOMEM;
	json_object_foreach((json_t *)labels, key, v) {
		if (n == CONTAINER_META_LABELS_MAX)
			break;
		if (!*key || strlen(key) > LABEL_KEY_MAX || !json_is_string(v) ||
		    json_string_length(v) > CONTAINER_META_VALUE_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			continue;
		if (json_object_set_new(out, key, json_string(json_string_value(v)))) {
			json_decref(out);
			return -ENOMEM;
		}
		n++;
	}
	if (!n) {
		json_decref(out);
		return 0;
	}
	return json_object_set_new(m->fields, "container_labels", out) ? -ENOMEM : 0;
}

int container_meta_encode(struct container_meta *m)
{
	char *s;
	size_t n;

	free(m->json);
	m->json = NULL;
	m->json_len = 0;
	if (!json_object_size(m->fields))
		return 0;
	s = json_dumps(m->fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		return -ENOMEM;
	/* "{...}" becomes ",..." : what follows container_id in an event. */
	n = strlen(s);
	s[0] = ',';
	s[n - 1] = '\0';
	m->json = s;
	m->json_len = n - 1;
	return 0;
}

static int load(const char *text, size_t len, json_t **root)
{
	json_error_t e;

	*root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	return *root ? 0 : -EINVAL;
}

/* The parsers' common end: -ENOENT for nothing known, else the encoding. */
static int finish(struct container_meta *m, int r)
{
	if (!r && !json_object_size(m->fields))
		r = -ENOENT;
	if (!r)
		r = container_meta_encode(m);
	if (r)
		container_meta_release(m);
	return r;
}

/*
 * The keys in event order: the parsers fill a scratch object, and this
 * copies it into m->fields in that order, whatever order the file had.
 */
static const char *const key_order[] = {
	"container_name", "container_image", "container_image_id", "container_labels",
	"k8s_namespace",  "k8s_pod",	     "k8s_pod_uid",	   "k8s_container",
	NULL,
};

static int order_fields(struct container_meta *m)
{
	json_t *sorted = json_object(), *v;
	size_t i;

	if (!sorted)
		return -ENOMEM;
	for (i = 0; key_order[i]; i++) {
		v = json_object_get(m->fields, key_order[i]);
		if (v && json_object_set(sorted, key_order[i], v)) {
			json_decref(sorted);
			return -ENOMEM;
		}
	}
	json_decref(m->fields);
	m->fields = sorted;
	return 0;
}

static int begin(struct container_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->fields = json_object();
	return m->fields ? 0 : -ENOMEM;
}

int container_meta_from_event(const json_t *event, struct container_meta *m)
{
	const char *label;
	json_t *v, *lv;
	size_t i;
	int r = begin(m);

	for (i = 0; !r && key_order[i]; i++) {
		v = json_object_get(event, key_order[i]);
		if (!v)
			continue;
		if (!json_is_string(v) && !json_is_object(v))
			r = -EINVAL;
		json_object_foreach(json_is_object(v) ? v : NULL, label, lv)
			if (!json_is_string(lv))
				r = -EINVAL;
		if (!r && json_object_set(m->fields, key_order[i], v))
			r = -ENOMEM;
	}
	if (!r && !json_object_size(m->fields))
		r = -ENOENT;
	if (r)
		container_meta_release(m);
	return r;
}

int container_meta_from_docker(const char *text, size_t len, struct container_meta *m)
{
	json_t *root, *config, *name;
	int r;

	r = load(text, len, &root);
	if (r)
		return r;
	r = begin(m);
	if (r || !json_is_object(root)) {
		json_decref(root);
		return finish(m, r ? r : -EINVAL);
	}
	config = json_object_get(root, "Config");
	name = json_object_get(root, "Name");
	/* docker keeps the name with a leading '/'; the user typed it without. */
	if (json_is_string(name) && json_string_value(name)[0] == '/')
		r = put_str(m, "container_name", json_string_value(name) + 1);
	else
		r = put(m, "container_name", name);
	if (!r)
		r = put(m, "container_image", json_object_get(config, "Image"));
	if (!r)
		r = put(m, "container_image_id", json_object_get(root, "Image"));
	if (!r)
		r = put_labels(m, json_object_get(config, "Labels"));
	json_decref(root);
	if (!r)
		r = order_fields(m);
	return finish(m, r);
}

/* Annotation names of containerd's CRI plugin and CRI-O, to event keys. */
static const struct {
	const char *annotation;
	const char *key;
} oci_annotations[] = {
	{ "io.kubernetes.cri.sandbox-namespace", "k8s_namespace" },
	{ "io.kubernetes.cri.sandbox-name", "k8s_pod" },
	{ "io.kubernetes.cri.sandbox-uid", "k8s_pod_uid" },
	{ "io.kubernetes.cri.container-name", "k8s_container" },
	{ "io.kubernetes.cri.image-name", "container_image" },
	{ "io.kubernetes.pod.namespace", "k8s_namespace" },
	{ "io.kubernetes.pod.name", "k8s_pod" },
	{ "io.kubernetes.pod.uid", "k8s_pod_uid" },
	{ "io.kubernetes.container.name", "k8s_container" },
	{ "io.kubernetes.cri-o.ImageName", "container_image" },
	{ NULL, NULL },
};

/* CRI-O's container labels: a JSON object encoded as one annotation's string. */
static int put_crio_labels(struct container_meta *m, const json_t *annotations)
{
	const json_t *v = json_object_get(annotations, "io.kubernetes.cri-o.Labels");
	json_t *labels;
	int r;

	if (!json_is_string(v) || json_string_length(v) > CONTAINER_META_FILE_MAX)
		return 0;
	if (load(json_string_value(v), json_string_length(v), &labels))
		return 0;
	r = put_labels(m, labels);
	json_decref(labels);
	return r;
}

int container_meta_from_oci(const char *text, size_t len, struct container_meta *m)
{
	json_t *root, *annotations;
	size_t i;
	int r;

	r = load(text, len, &root);
	if (r)
		return r;
	r = begin(m);
	annotations = json_object_get(root, "annotations");
	if (r || !json_is_object(root) || !json_is_object(annotations)) {
		/* Not an object: not a config.json; one without annotations names nothing. */
		r = r ? r : json_is_object(root) ? -ENOENT : -EINVAL;
		json_decref(root);
		return finish(m, r);
	}
	for (i = 0; !r && oci_annotations[i].annotation; i++)
		r = put(m, oci_annotations[i].key,
			json_object_get(annotations, oci_annotations[i].annotation));
	/* Kubernetes names the container: that is the name its user gave it. */
	if (!r && json_object_get(m->fields, "k8s_container"))
		r = put(m, "container_name", json_object_get(m->fields, "k8s_container"));
	if (!r)
		r = put_crio_labels(m, annotations);
	json_decref(root);
	if (!r)
		r = order_fields(m);
	return finish(m, r);
}

int container_meta_from_podman(const char *text, size_t len, const char *id,
			       struct container_meta *m)
{
	json_t *root, *c = NULL, *meta = NULL, *v;
	const char *image_id;
	char buf[80];
	size_t i;
	int r;

	r = load(text, len, &root);
	if (r)
		return r;
	if (!json_is_array(root)) {
		json_decref(root);
		return -EINVAL;
	}
	for (i = 0; i < json_array_size(root) && !c; i++) {
		v = json_object_get(json_array_get(root, i), "id");
		if (json_is_string(v) && !strcmp(json_string_value(v), id))
			c = json_array_get(root, i);
	}
	r = begin(m);
	if (!r && c) {
		r = put(m, "container_name", json_array_get(json_object_get(c, "names"), 0));
		v = json_object_get(c, "metadata");
		if (json_is_string(v) && load(json_string_value(v), json_string_length(v), &meta))
			meta = NULL;
	}
	if (!r && meta)
		r = put(m, "container_image", json_object_get(meta, "image-name"));
	/* podman's image ids are the bare digest; docker's and CRI's say which. */
	v = json_object_get(c, "image");
	image_id = json_is_string(v) ? json_string_value(v) : "";
	if (!r && strlen(image_id) == 64) {
		snprintf(buf, sizeof(buf), "sha256:%s", image_id);
		r = put_str(m, "container_image_id", buf);
	}
	json_decref(meta);
	json_decref(root);
	if (!r)
		r = order_fields(m);
	return finish(m, r);
}

int container_meta_from_podman_config(const char *text, size_t len, const char *id,
				      struct container_meta *m)
{
	json_t *root, *v;
	char buf[80];
	int r;

	r = load(text, len, &root);
	if (r)
		return r;
	v = json_object_get(root, "id");
	if (!json_is_object(root) || !json_is_string(v) || strcmp(json_string_value(v), id)) {
		json_decref(root);
		return -EINVAL;
	}
	r = begin(m);
	if (!r)
		r = put(m, "container_name", json_object_get(root, "name"));
	v = json_object_get(root, "rootfsImageName");
	if (!r)
		r = put(m, "container_image", keepable(v, CONTAINER_META_VALUE_MAX)
			? v : json_object_get(root, "RawImageName"));
	v = json_object_get(root, "rootfsImageID");
	if (!r && json_is_string(v) && json_string_length(v) == 64) {
		snprintf(buf, sizeof(buf), "sha256:%s", json_string_value(v));
		r = put_str(m, "container_image_id", buf);
	}
	if (!r)
		r = put_labels(m, json_object_get(root, "labels"));
	json_decref(root);
	if (!r)
		r = order_fields(m);
	return finish(m, r);
}

/* ------------------------------------------------------------------ */
/* Reading the runtimes' files                                          */

/*
 * @path opened for reading if it is a regular file owned by @owner (root's
 * for -1), its status in *@st: a user's home is the user's to fill, so no
 * symlink at the end, no FIFO to block on, no file of someone else's. An
 * fd, or a negative errno.
 */
static int open_owned(const char *path, int64_t owner, struct stat *st)
{
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		r = -errno;
	else if (!S_ISREG(st->st_mode))
		r = -EINVAL;
	else if ((int64_t)st->st_uid != (owner < 0 ? 0 : owner))
		r = -EPERM;
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * The bytes of @path into *@buf (malloc'ed, NUL-terminated) if it is a
 * file open_owned() takes, of at most CONTAINER_META_FILE_MAX bytes.
 */
static int read_state(const char *path, int64_t owner, char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *b;
	int fd, r = 0;

	fd = open_owned(path, owner, &st);
	if (fd < 0)
		return fd;
	if (st.st_size > CONTAINER_META_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	b = malloc(CONTAINER_META_FILE_MAX + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got <= CONTAINER_META_FILE_MAX) {
		n = read(fd, b + got, CONTAINER_META_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (!r && got > CONTAINER_META_FILE_MAX)
		r = -EFBIG;	/* grew since the fstat */
	if (r) {
		free(b);
		return r;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

struct container_meta_entry {
	uint64_t id;
	struct container_meta_entry *hash_next;
	struct container_meta meta;	/* fields NULL while not known */
	uint64_t next_try_ns;
	uint8_t attempts;		/* CONTAINER_META_ATTEMPTS: no more */
};

struct container_meta_cache {
	struct container_meta_paths paths;
	size_t capacity, n_used, next_victim;	/* evicted in the order learned */
	unsigned int hash_bits;
	struct container_meta_entry **buckets;
	struct container_meta_entry *entries;
	uint64_t reads, read_failures, evictions;
	size_t known;
	container_meta_watch_fn watch;
	void *watch_ctx;
};

static void tell(const struct container_meta_cache *c, const struct container_meta_entry *e,
		 bool forget)
{
	if (c->watch)
		c->watch(c->watch_ctx, e->id, e->meta.fields ? &e->meta : NULL, forget);
}

static bool settled(const struct container_meta_entry *e)
{
	return e->meta.fields || e->attempts >= CONTAINER_META_ATTEMPTS;
}

static const char *const default_bundles[] = {
	"/run/containerd/io.containerd.runtime.v2.task",
	"/run/docker/containerd/daemon/io.containerd.runtime.v2.task",
	NULL,
};

struct container_meta_cache *container_meta_cache_new(size_t capacity,
						      const struct container_meta_paths *paths)
{
	struct container_meta_cache *c;
	unsigned int bits = 1;

	if (!capacity || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (((size_t)1 << bits) < capacity * 2)
		bits++;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->capacity = capacity;
	c->hash_bits = bits;
	c->buckets = calloc((size_t)1 << bits, sizeof(*c->buckets));
	c->entries = calloc(capacity, sizeof(*c->entries));
	if (!c->buckets || !c->entries) {
		container_meta_cache_free(c);
		errno = ENOMEM;
		return NULL;
	}
	if (paths)
		c->paths = *paths;
	if (!c->paths.docker)
		c->paths.docker = "/var/lib/docker/containers";
	if (!c->paths.podman)
		c->paths.podman = "/var/lib/containers/storage/overlay-containers";
	if (!c->paths.podman_user)
		c->paths.podman_user = ".local/share/containers/storage/overlay-containers";
	if (!c->paths.podman_db)
		c->paths.podman_db = "/var/lib/containers/storage/libpod/bolt_state.db";
	if (!c->paths.podman_db_user)
		c->paths.podman_db_user = ".local/share/containers/storage/libpod/bolt_state.db";
	if (!c->paths.bundles)
		c->paths.bundles = default_bundles;
	if (!c->paths.crio)
		c->paths.crio = "/run/containers/storage/overlay-containers";
	return c;
}

void container_meta_cache_free(struct container_meta_cache *c)
{
	size_t i;

	if (!c)
		return;
	if (c->entries)
		for (i = 0; i < c->n_used; i++)
			container_meta_release(&c->entries[i].meta);
	free(c->entries);
	free(c->buckets);
	free(c);
}

static size_t bucket_of(const struct container_meta_cache *c, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - c->hash_bits));
}

static struct container_meta_entry *find(const struct container_meta_cache *c, uint64_t id)
{
	struct container_meta_entry *e;

	for (e = c->buckets[bucket_of(c, id)]; e; e = e->hash_next)
		if (e->id == id)
			return e;
	return NULL;
}

static struct container_meta_entry *insert(struct container_meta_cache *c, uint64_t id)
{
	struct container_meta_entry *e, **pp;
	size_t b;

	if (c->n_used < c->capacity) {
		e = &c->entries[c->n_used++];
	} else {
		e = &c->entries[c->next_victim];
		c->next_victim = (c->next_victim + 1) % c->capacity;
		pp = &c->buckets[bucket_of(c, e->id)];
		while (*pp != e)
			pp = &(*pp)->hash_next;
		*pp = e->hash_next;
		if (e->meta.fields)
			c->known--;
		container_meta_release(&e->meta);
		tell(c, e, true);
		c->evictions++;
	}
	memset(e, 0, sizeof(*e));
	e->id = id;
	b = bucket_of(c, id);
	e->hash_next = c->buckets[b];
	c->buckets[b] = e;
	return e;
}

enum state_kind { STATE_DOCKER, STATE_OCI, STATE_PODMAN };

/* Reads and parses one file: 0, -ENOENT when absent, or another -errno. */
static int parse_file(struct container_meta_cache *c, const char *path, int64_t owner,
		      enum state_kind kind, const char *id, struct container_meta *m)
{
	size_t len;
	char *buf;
	int r;

	c->reads++;
	r = read_state(path, owner, &buf, &len);
	if (r)
		return r;
	if (kind == STATE_DOCKER)
		r = container_meta_from_docker(buf, len, m);
	else if (kind == STATE_OCI)
		r = container_meta_from_oci(buf, len, m);
	else
		r = container_meta_from_podman(buf, len, id, m);
	free(buf);
	/* The file is there but says nothing of this container: not worth a retry. */
	return r == -ENOENT ? -ENODATA : r;
}

static int join(char *out, const char *a, const char *b, const char *c, const char *d)
{
	int n = snprintf(out, PATH_MAX_META, "%s/%s%s%s%s%s", a, b, c ? "/" : "", c ? c : "",
			 d ? "/" : "", d ? d : "");

	return n < 0 || n >= PATH_MAX_META ? -ENAMETOOLONG : 0;
}

/* A user's home from the password database: rootless runtimes keep state there. */
static int home_of(int64_t uid, char *out, size_t size)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) || !res || !res->pw_dir ||
	    res->pw_dir[0] != '/')
		return -ENOENT;
	return snprintf(out, size, "%s", res->pw_dir) < (int)size ? 0 : -ENAMETOOLONG;
}

/* An OCI bundle's config.json under any containerd namespace, or CRI-O's. */
static int load_bundle(struct container_meta_cache *c, const char *id,
		       struct container_meta *m)
{
	char path[PATH_MAX_META];
	struct dirent *de;
	size_t i, seen;
	int r = -ENOENT;
	DIR *d;

	for (i = 0; r == -ENOENT && c->paths.bundles[i]; i++) {
		d = opendir(c->paths.bundles[i]);
		for (seen = 0; d && r == -ENOENT && seen < NAMESPACES_MAX && (de = readdir(d));) {
			if (de->d_name[0] == '.')
				continue;
			seen++;
			if (!join(path, c->paths.bundles[i], de->d_name, id, "config.json"))
				r = parse_file(c, path, -1, STATE_OCI, id, m);
		}
		if (d)
			closedir(d);
	}
	if (r == -ENOENT && !join(path, c->paths.crio, id, "userdata", "config.json"))
		r = parse_file(c, path, -1, STATE_OCI, id, m);
	return r;
}

/*
 * Container @id's configuration in libpod's bolt database at @path, owned
 * by @owner (root's for -1), as for read_state(): the file is opened
 * without blocking, and read only by the pages a lookup needs.
 */
static int read_podman_db(struct container_meta_cache *c, const char *path, int64_t owner,
			  const char *id, struct container_meta *m)
{
	const char *const keys[] = { "ctr", id, "config" };
	struct stat st;
	size_t len;
	char *buf;
	int fd, r;

	c->reads++;
	fd = open_owned(path, owner, &st);
	if (fd < 0)
		return fd;
	r = boltdb_get(fd, (uint64_t)st.st_size, keys, 3, CONTAINER_META_FILE_MAX, &buf, &len);
	close(fd);
	if (r)
		return r;
	r = container_meta_from_podman_config(buf, len, id, m);
	free(buf);
	return r == -ENOENT ? -ENODATA : r;
}

/*
 * The runtime's state of container @info into @m. Root's containers are
 * read from the system's runtimes; a user's only from that user's own
 * store, owned by them, and never from the system's: anyone may name a
 * cgroup like a container root runs.
 */
static int load_meta(struct container_meta_cache *c, const struct container_info *info,
		     struct container_meta *m, bool last)
{
	char path[PATH_MAX_META], home[PATH_MAX_META / 2], dir[PATH_MAX_META];
	bool user = info->owner_uid >= 0;
	int r;

	if (user) {
		r = home_of(info->owner_uid, home, sizeof(home));
		if (r)
			return r;
	}
	if (!strcmp(info->runtime, "docker")) {
		if (user)
			r = join(dir, home, ".local/share/docker/containers", NULL, NULL);
		else
			r = snprintf(dir, sizeof(dir), "%s", c->paths.docker) < (int)sizeof(dir)
				    ? 0
				    : -ENAMETOOLONG;
		if (!r)
			r = join(path, dir, info->id, "config.v2.json", NULL);
		return r ? r : parse_file(c, path, info->owner_uid, STATE_DOCKER, info->id, m);
	}
	if (!strcmp(info->runtime, "podman")) {
		/*
		 * libpod's database has the labels; its storage's containers.json
		 * only the name and image, for when the database cannot be read
		 * (podman's sqlite database, or a page being written on the last try).
		 */
		if (user)
			r = join(path, home, c->paths.podman_db_user, NULL, NULL);
		else
			r = snprintf(path, sizeof(path), "%s", c->paths.podman_db) < (int)sizeof(path)
				    ? 0
				    : -ENAMETOOLONG;
		if (!r)
			r = read_podman_db(c, path, info->owner_uid, info->id, m);
		if (!r || r == -ENOMEM || (r == -EAGAIN && !last))
			return r;
		if (user)
			r = join(path, home, c->paths.podman_user, "containers.json", NULL);
		else
			r = join(path, c->paths.podman, "containers.json", NULL, NULL);
		return r ? r : parse_file(c, path, info->owner_uid, STATE_PODMAN, info->id, m);
	}
	if (!user && (!strcmp(info->runtime, "kube") || !strcmp(info->runtime, "containerd") ||
		      !strcmp(info->runtime, "cri-o")))
		return load_bundle(c, info->id, m);
	return -EOPNOTSUPP;
}

/* One read of the state of @e's container: after it, @e is known or tried once more. */
static void try_load(struct container_meta_cache *c, struct container_meta_entry *e,
		     const struct container_info *info, uint64_t now_ns)
{
	int r = load_meta(c, info, &e->meta, e->attempts + 1 >= CONTAINER_META_ATTEMPTS);

	e->attempts++;
	if (!r) {
		c->known++;
		tell(c, e, false);
		return;
	}
	c->read_failures++;
	/* Only a file not written yet, or being written, is worth another look. */
	if (r != -ENOENT && r != -EAGAIN)
		e->attempts = CONTAINER_META_ATTEMPTS;
	e->next_try_ns = now_ns + (100000000ull << e->attempts);	/* 200 ms, 400 ms, ... */
	if (settled(e))
		tell(c, e, false);
}

const struct container_meta *container_meta_cache_get(struct container_meta_cache *c,
						      uint64_t cgroup_id,
						      const struct container_info *info,
						      uint64_t now_ns)
{
	struct container_meta_entry *e;

	if (!c || !info->id[0])
		return NULL;
	e = find(c, cgroup_id);
	if (!e) {
		e = insert(c, cgroup_id);
		try_load(c, e, info, now_ns);
	} else if (!e->meta.fields && e->attempts < CONTAINER_META_ATTEMPTS &&
		   now_ns >= e->next_try_ns) {
		try_load(c, e, info, now_ns);
	}
	return e->meta.fields ? &e->meta : NULL;
}

void container_meta_cache_learn(struct container_meta_cache *c, uint64_t cgroup_id,
				const struct container_info *info, uint64_t now_ns)
{
	struct container_meta_entry *e;

	if (!c || !info->id[0])
		return;
	/* A cgroup id made anew (ids are inode numbers) starts over. */
	e = find(c, cgroup_id);
	if (e) {
		if (e->meta.fields)
			c->known--;
		container_meta_release(&e->meta);
		e->attempts = 0;
		e->next_try_ns = 0;
		tell(c, e, true);
	}
	container_meta_cache_get(c, cgroup_id, info, now_ns);
}

void container_meta_cache_watch(struct container_meta_cache *c, container_meta_watch_fn fn,
				void *ctx)
{
	if (!c)
		return;
	c->watch = fn;
	c->watch_ctx = ctx;
}

void container_meta_cache_foreach_settled(const struct container_meta_cache *c,
					  container_meta_watch_fn fn, void *ctx)
{
	size_t i;

	for (i = 0; c && i < c->n_used; i++)
		if (settled(&c->entries[i]))
			fn(ctx, c->entries[i].id,
			   c->entries[i].meta.fields ? &c->entries[i].meta : NULL, false);
}

void container_meta_cache_stats(const struct container_meta_cache *c,
				struct container_meta_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	out->entries = c->n_used;
	out->capacity = c->capacity;
	out->known = c->known;
	out->reads = c->reads;
	out->read_failures = c->read_failures;
	out->evictions = c->evictions;
}
