/* SPDX-License-Identifier: MIT */
/*
 * Container awareness (docs/containers.md): cgroup path → runtime and id, and the
 * cgroup id → container cache the pipeline asks for every event.
 *
 * Reading a path. A path is a list of components. A component may be the
 * "leaf" of a container: the cgroup a runtime created for it. The FIRST leaf
 * in the path wins. Components after it are cgroups the container made for
 * itself (systemd inside it, podman's "container" subgroup, nspawn's
 * "payload"), named as the container's root chose, in its own cgroup
 * namespace: they never change the answer. Otherwise a container could
 * name a cgroup of its own after another container and have its events
 * (and a container action meant for them) attributed to that one. So
 * runtimes that nest (docker in docker, kind's pods inside a docker
 * container) are reported as the container that holds them.
 *
 * Leaves, as the runtimes create them (<id> is 64 lowercase hex digits,
 * which is what every OCI runtime here writes; anything else is not a leaf):
 *
 *   docker          /docker/<id>                      cgroupfs driver, v1 and v2
 *                   .../docker-<id>.scope             systemd driver, rootful or rootless
 *   containerd      /<namespace>/<id>                 no orchestrator (ctr, nerdctl with
 *                                                     cgroupfs): containerd's default
 *                                                     cgroupsPath is "/" namespace "/" id.
 *                                                     Accepted only directly below the root
 *                                                     or below another container's leaf, so
 *                                                     that a hex name deep in some service's
 *                                                     tree is not taken for a container.
 *                   .../nerdctl-<id>.scope            nerdctl, systemd driver
 *                   .../cri-containerd-<id>.scope     the CRI plugin, systemd driver
 *                   ...<slice>:cri-containerd:<id>    a systemd-style cgroupsPath handed to
 *                                                     runc with the cgroupfs driver
 *                                                     (SystemdCgroup = false) becomes this
 *                                                     literal name; also :docker:, :crio:,
 *                                                     :libpod:, :nerdctl:
 *   cri-o           .../crio-<id>.scope, .../crio-<id> (cgroupfs), /crio/<id>
 *   podman          .../libpod-<id>.scope             machine.slice, user slices
 *                   /libpod_parent/libpod-<id>        cgroupfs manager
 *   lxc             /lxc/<name>                       LXC < 4
 *                   /lxc.payload/<name>               LXD on cgroup v1
 *                   /lxc.payload.<name>               LXC >= 4, LXD on cgroup v2
 *   systemd-nspawn  /machine.slice/machine-<name>.scope     name unescaped (\x2d → -)
 *   rkt             /machine.slice/machine-rkt\x2d<uuid>.scope
 *   lxc-libvirt     /machine.slice/machine-lxc\x2d<N>\x2d<name>.scope, or without <N>\x2d
 *                   (older libvirt); /machine/<name>.libvirt-lxc without systemd
 *   garden          /garden/<handle>
 *   kube            any leaf with "kubepods" before it in the path, whatever runtime
 *                   made it (docs/containers.md), and a bare <id> anywhere below "kubepods"
 *                   (cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>)
 *
 * Not containers, so attributed to whatever encloses them (usually the
 * host): the monitors that run on a container's behalf but outside it
 * (conmon in libpod-conmon-<id>.scope and crio-conmon-<id>.scope, LXC's
 * lxc.monitor.<name>, nspawn's "supervisor" subgroup of the machine
 * scope); libvirt's VMs, which share machine.slice with nspawn
 * (machine-qemu\x2d...); and a Kubernetes pod's own cgroup without a
 * container leaf below it.
 *
 * openvz, gvisor, firejail and wsl have no pattern: nothing in a cgroup
 * path tells them from the host. gVisor's sandbox lives in whatever cgroup
 * its OCI caller (docker, containerd) gives it and is reported as that
 * caller; firejail makes no cgroup of its own; WSL distributions run inside
 * a VM; OpenVZ containers exist only on OpenVZ's own kernels, which predate
 * cgroup2, under a bare CTID. The names are in container_runtimes[] so that
 * rules naming them still validate.
 *
 * Malformed leaves (a short or non-hex id, an empty or over-long name, a
 * bad escape) are simply not leaves, so such a path falls back to the
 * enclosing container or the host; nothing is ever truncated into an id.
 * A path longer than 4096 bytes (counting a /proc/PID/cgroup prefix) is
 * the host whatever it says: the resolver (readlink into a PATH_MAX
 * buffer) never yields one, so it can only be garbage, and refusing it
 * keeps the parser's work bounded.
 */
#define _GNU_SOURCE
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	/* longest path accepted, without the NUL; a longer one is not a cgroup */
	CGROUP_PATH_MAX = 4096,
	OCI_ID_LEN = 64,
	UUID_LEN = 36,
	/* systemd unit names are at most 255 bytes */
	MACHINE_NAME_MAX = 255,
	/* containerd refuses longer namespace names */
	CONTAINERD_NAMESPACE_MAX = 76,
	/* exportfs FILEID_KERNFS: the handle of a kernfs node is its u64 id */
	FILEID_KERNFS = 0xfe,
};

static const char rt_docker[] = "docker";
static const char rt_kube[] = "kube";
static const char rt_containerd[] = "containerd";
static const char rt_crio[] = "cri-o";
static const char rt_podman[] = "podman";
static const char rt_lxc[] = "lxc";
static const char rt_nspawn[] = "systemd-nspawn";
static const char rt_garden[] = "garden";
static const char rt_rkt[] = "rkt";
static const char rt_lxc_libvirt[] = "lxc-libvirt";

/* openvz ... wsl have no cgroup pattern (see the top of the file). */
const char *const container_runtimes[] = {
	rt_docker,
	rt_kube,
	rt_containerd,
	rt_crio,
	rt_podman,
	rt_lxc,
	rt_nspawn,
	rt_garden,
	rt_rkt,
	rt_lxc_libvirt,
	"openvz",
	"gvisor",
	"firejail",
	"wsl",
	CONTAINER_RUNTIME_HOST,
	NULL,
};

bool container_runtime_known(const char *runtime)
{
	size_t i;

	if (!runtime)
		return false;
	for (i = 0; container_runtimes[i]; i++)
		if (!strcmp(runtime, container_runtimes[i]))
			return true;
	return false;
}

/* A piece of the path: not NUL-terminated. */
struct span {
	const char *s;
	size_t len;
};

static bool span_eq(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.len == n && !memcmp(a.s, lit, n);
}

static bool span_starts(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.len >= n && !memcmp(a.s, lit, n);
}

static bool span_ends(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.len >= n && !memcmp(a.s + a.len - n, lit, n);
}

static struct span span_drop_front(struct span a, size_t n)
{
	return (struct span){ a.s + n, a.len - n };
}

static struct span span_drop_back(struct span a, size_t n)
{
	return (struct span){ a.s, a.len - n };
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Runtimes write ids in lowercase; an uppercase "id" is someone else's name. */
static bool is_lower_hex(struct span a)
{
	size_t i;

	for (i = 0; i < a.len; i++)
		if (!is_digit(a.s[i]) && !(a.s[i] >= 'a' && a.s[i] <= 'f'))
			return false;
	return true;
}

static bool is_oci_id(struct span a)
{
	return a.len == OCI_ID_LEN && is_lower_hex(a);
}

static bool is_uuid(struct span a)
{
	size_t i;

	if (a.len != UUID_LEN)
		return false;
	for (i = 0; i < a.len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? a.s[i] != '-' : hex_value(a.s[i]) < 0)
			return false;
	}
	return true;
}

/*
 * The id ends up in JSON, in text output and in rule matches: refuse what
 * could not have been a container name rather than carry it around.
 */
static bool set_leaf(struct container_info *out, const char *runtime, struct span id)
{
	size_t i;

	if (id.len == 0 || id.len > CONTAINER_ID_MAX)
		return false;
	if (span_eq(id, ".") || span_eq(id, ".."))
		return false;
	for (i = 0; i < id.len; i++) {
		unsigned char c = id.s[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return false;
	}
	out->runtime = runtime;
	memcpy(out->id, id.s, id.len);
	out->id[id.len] = '\0';
	return true;
}

static void set_host(struct container_info *out)
{
	out->runtime = CONTAINER_RUNTIME_HOST;
	out->id[0] = '\0';
	out->owner_uid = -1;
}

/* systemd's unit name escaping: "\xNN" for any byte; nothing else uses '\'. */
static int unit_unescape(struct span in, char *buf, size_t size, size_t *len)
{
	size_t i, n = 0;

	for (i = 0; i < in.len; i++) {
		char c = in.s[i];

		if (c == '\\') {
			int hi, lo;

			if (in.len - i < 4 || in.s[i + 1] != 'x')
				return -EINVAL;
			hi = hex_value(in.s[i + 2]);
			lo = hex_value(in.s[i + 3]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 3;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		buf[n++] = c;
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

/*
 * machine-<name>.scope: systemd-machined's unit for a registered machine.
 * nspawn registers the bare name, libvirt "lxc-<N>-<name>" (older libvirt
 * "lxc-<name>") and "qemu-..." for VMs, rkt "rkt-<uuid>". An nspawn
 * container whose name starts with "lxc-" or "rkt-" is misread; machined
 * gives no way to tell.
 */
static bool classify_machine(struct span escaped, struct container_info *out, bool *nspawn)
{
	char name[MACHINE_NAME_MAX + 1];
	struct span n;
	size_t len;

	if (unit_unescape(escaped, name, sizeof(name), &len) < 0)
		return false;
	n = (struct span){ name, len };
	if (span_starts(n, "qemu-"))
		return false;
	if (span_starts(n, "rkt-")) {
		n = span_drop_front(n, 4);
		return is_uuid(n) && set_leaf(out, rt_rkt, n);
	}
	if (span_starts(n, "lxc-")) {
		size_t i;

		n = span_drop_front(n, 4);
		for (i = 0; i < n.len && is_digit(n.s[i]); i++)
			;
		if (i > 0 && i + 1 < n.len && n.s[i] == '-')
			n = span_drop_front(n, i + 1);
		return set_leaf(out, rt_lxc_libvirt, n);
	}
	*nspawn = set_leaf(out, rt_nspawn, n);
	return *nspawn;
}

/* <prefix>-<id>.scope, the systemd driver's name for an OCI container. */
static bool classify_scope(struct span name, struct container_info *out, bool *nspawn)
{
	static const struct {
		const char *prefix;
		const char *runtime;
	} scopes[] = {
		{ "docker-", rt_docker },
		{ "cri-containerd-", rt_containerd },
		{ "crio-", rt_crio },
		{ "libpod-", rt_podman },
		{ "nerdctl-", rt_containerd },
	};
	size_t i;

	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		struct span id;

		if (!span_starts(name, scopes[i].prefix))
			continue;
		id = span_drop_front(name, strlen(scopes[i].prefix));
		return is_oci_id(id) && set_leaf(out, scopes[i].runtime, id);
	}
	if (span_starts(name, "machine-"))
		return classify_machine(span_drop_front(name, 8), out, nspawn);
	return false;
}

/* <slice>:<prefix>:<id>, see the top of the file. */
static bool classify_colon(struct span c, struct container_info *out)
{
	static const struct {
		const char *prefix;
		const char *runtime;
	} prefixes[] = {
		{ "cri-containerd", rt_containerd },
		{ "docker", rt_docker },
		{ "crio", rt_crio },
		{ "libpod", rt_podman },
		{ "nerdctl", rt_containerd },
	};
	const char *last, *prev;
	struct span id, prefix;
	size_t i;

	last = memrchr(c.s, ':', c.len);
	prev = last ? memrchr(c.s, ':', last - c.s) : NULL;
	if (!prev)
		return false;
	id = (struct span){ last + 1, c.s + c.len - last - 1 };
	prefix = (struct span){ prev + 1, last - prev - 1 };
	if (!is_oci_id(id))
		return false;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (span_eq(prefix, prefixes[i].prefix))
			return set_leaf(out, prefixes[i].runtime, id);
	return false;
}

/*
 * Could @s be a containerd namespace ([A-Za-z0-9]+ joined by single '.',
 * '_' or '-')? systemd units pass that test, so their suffixes are refused.
 */
static bool containerd_namespace_like(struct span s)
{
	size_t i;

	if (s.len == 0 || s.len > CONTAINERD_NAMESPACE_MAX)
		return false;
	if (span_ends(s, ".slice") || span_ends(s, ".scope") || span_ends(s, ".service"))
		return false;
	for (i = 0; i < s.len; i++) {
		if (is_alnum(s.s[i]))
			continue;
		if (s.s[i] != '.' && s.s[i] != '_' && s.s[i] != '-')
			return false;
		if (i == 0 || i + 1 == s.len || !is_alnum(s.s[i - 1]))
			return false;
	}
	return true;
}

/* A component without ':' or ".scope": the cgroupfs drivers' names. */
static bool classify_plain(const char *path, struct span c, struct span parent, bool parent_top,
			   struct container_info *out)
{
	struct span id;

	if (span_starts(c, "lxc.monitor"))
		return false;
	if (span_starts(c, "crio-") && is_oci_id(id = span_drop_front(c, 5)))
		return set_leaf(out, rt_crio, id);
	if (span_starts(c, "libpod-") && is_oci_id(id = span_drop_front(c, 7)))
		return set_leaf(out, rt_podman, id);
	if (span_starts(c, "lxc.payload."))
		return set_leaf(out, rt_lxc, span_drop_front(c, 12));
	if (span_eq(parent, "docker") && is_oci_id(c))
		return set_leaf(out, rt_docker, c);
	if (span_eq(parent, "crio") && is_oci_id(c))
		return set_leaf(out, rt_crio, c);
	if (span_eq(parent, "lxc") || span_eq(parent, "lxc.payload"))
		return set_leaf(out, rt_lxc, c);
	if (span_eq(parent, "garden"))
		return set_leaf(out, rt_garden, c);
	if (span_eq(parent, "machine") && span_ends(c, ".libvirt-lxc")) {
		id = span_drop_back(c, strlen(".libvirt-lxc"));
		/* libvirt prefixes '_' to names that could clash with cgroupfs files */
		if (span_starts(id, "_"))
			id = span_drop_front(id, 1);
		return set_leaf(out, rt_lxc_libvirt, id);
	}
	if (!is_oci_id(c))
		return false;
	if (memmem(path, c.s - path, "kubepods", 8))
		return set_leaf(out, rt_kube, c);
	if (parent_top && containerd_namespace_like(parent))
		return set_leaf(out, rt_containerd, c);
	return false;
}

/*
 * Is component @c a container leaf? @parent is the component before it
 * (len 0 at the top), @parent_top whether the parent sits directly below the
 * root. @path is where the path starts: "kubepods"
 * anywhere before the id makes the container "kube". A component that
 * fails one form is tried as the next, so that an LXC container may be
 * called "web.scope" or "a:b".
 */
static bool classify(const char *path, struct span c, struct span parent, bool parent_top,
		     struct container_info *out, bool *nspawn)
{
	const char *colon = memrchr(c.s, ':', c.len);
	const char *id_start = c.s;

	*nspawn = false;
	if (colon && classify_colon(c, out))
		id_start = colon + 1;
	else if (!(span_ends(c, ".scope") && classify_scope(span_drop_back(c, 6), out, nspawn)) &&
		 !classify_plain(path, c, parent, parent_top, out))
		return false;
	if (memmem(path, id_start - path, "kubepods", 8))
		out->runtime = rt_kube;
	return true;
}

/* "N:controllers:" of a /proc/PID/cgroup line. */
static bool strip_proc_prefix(const char **p, const char *end)
{
	const char *s = *p;

	if (s < end && *s == '/')
		return true;
	if (s == end || !is_digit(*s))
		return false;
	while (s < end && is_digit(*s))
		s++;
	if (s == end || *s != ':')
		return false;
	s = memchr(s + 1, ':', end - s - 1);
	if (!s)
		return false;
	*p = s + 1;
	return true;
}

/*
 * container_from_cgroup_path(), and in *@leaf_end where the container's own
 * cgroup ends in @path (the end of the leaf component).
 */
static bool parse_path(const char *path, struct container_info *out, size_t *leaf_end)
{
	struct container_info leaf;
	bool nspawn = false, parent_top = false, first = true;
	struct span parent = { "", 0 };
	const char *p, *s, *end;
	size_t len;

	if (!out)
		return false;
	set_host(out);
	if (!path)
		return false;
	len = strnlen(path, CGROUP_PATH_MAX + 1);
	if (len > CGROUP_PATH_MAX)
		return false;
	p = path;
	end = path + len;
	if (!strip_proc_prefix(&p, end))
		return false;
	/* tolerate a line straight from fgets() */
	while (end > p && end[-1] == '\n')
		end--;
	if (p == end || *p != '/')
		return false;

	s = p;
	while (s < end) {
		struct span c;

		while (s < end && *s == '/')
			s++;
		if (s == end)
			break;
		c.s = s;
		while (s < end && *s != '/')
			s++;
		c.len = s - c.s;

		if (classify(p, c, parent, parent_top, &leaf, &nspawn)) {
			/* nspawn's own process, next to the payload: not in the container */
			while (s < end && *s == '/')
				s++;
			if (nspawn && end - s >= 10 && !memcmp(s, "supervisor", 10) &&
			    (end - s == 10 || s[10] == '/'))
				return false;
			*leaf_end = c.s + c.len - path;
			*out = leaf;
			out->owner_uid = -1;
			return true;
		}
		parent = c;
		parent_top = first;
		first = false;
	}
	return false;
}

bool container_from_cgroup_path(const char *path, struct container_info *out)
{
	size_t leaf_end;

	return parse_path(path, out, &leaf_end);
}

/*
 * The cache. Entries live in one array allocated at creation, chained into
 * power-of-two hash buckets and an intrusive LRU list whose head is the
 * most recently used entry; so lookup, insert and eviction are O(1) and the
 * cache never allocates on the event path except to copy a path.
 */
struct cgroup_entry {
	uint64_t id;
	struct cgroup_entry *hash_next;
	struct cgroup_entry *lru_prev, *lru_next;
	char *path;			/* NULL when the resolver failed */
	struct container_info info;
};

struct cgroup_cache {
	struct cgroup_resolver resolver;
	size_t capacity, n_used;	/* entries[0..n_used) are in use */
	unsigned int hash_bits;
	struct cgroup_entry **buckets;
	struct cgroup_entry *entries;
	struct cgroup_entry lru;	/* sentinel: lru.lru_next is the newest */
	struct container_info host;	/* for misses nothing can resolve */
	uint64_t hits, misses, resolve_failures, evictions;
};

static const struct container_info host_info = { .runtime = CONTAINER_RUNTIME_HOST,
						 .owner_uid = -1 };

static size_t bucket_of(const struct cgroup_cache *cache, uint64_t id)
{
	/* Fibonacci hashing: cgroup ids are sequential inode numbers */
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - cache->hash_bits));
}

static void lru_unlink(struct cgroup_entry *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
}

static void lru_push_front(struct cgroup_cache *cache, struct cgroup_entry *e)
{
	e->lru_prev = &cache->lru;
	e->lru_next = cache->lru.lru_next;
	cache->lru.lru_next->lru_prev = e;
	cache->lru.lru_next = e;
}

static struct cgroup_entry *cache_find(const struct cgroup_cache *cache, uint64_t id)
{
	struct cgroup_entry *e;

	for (e = cache->buckets[bucket_of(cache, id)]; e; e = e->hash_next)
		if (e->id == id)
			return e;
	return NULL;
}

static void hash_remove(struct cgroup_cache *cache, struct cgroup_entry *victim)
{
	struct cgroup_entry **pp = &cache->buckets[bucket_of(cache, victim->id)];

	while (*pp != victim)
		pp = &(*pp)->hash_next;
	*pp = victim->hash_next;
}

/* A slot for a new @id: unused, or the least recently used entry. */
static struct cgroup_entry *cache_insert(struct cgroup_cache *cache, uint64_t id)
{
	struct cgroup_entry *e;
	size_t b;

	if (cache->n_used < cache->capacity) {
		e = &cache->entries[cache->n_used++];
	} else {
		e = cache->lru.lru_prev;
		lru_unlink(e);
		hash_remove(cache, e);
		free(e->path);
		cache->evictions++;
	}
	e->id = id;
	e->path = NULL;
	set_host(&e->info);
	b = bucket_of(cache, id);
	e->hash_next = cache->buckets[b];
	cache->buckets[b] = e;
	lru_push_front(cache, e);
	return e;
}

struct cgroup_cache *cgroup_cache_new(size_t capacity, const struct cgroup_resolver *resolver)
{
	struct cgroup_cache *cache;
	unsigned int bits = 1;

	if (capacity == 0 || capacity > SIZE_MAX / 4 / sizeof(struct cgroup_entry)) {
		errno = EINVAL;
		return NULL;
	}
	/* at least two buckets per entry keeps chains short */
	while (bits < 63 && ((size_t)1 << bits) < capacity * 2)
		bits++;
	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return NULL;
	cache->capacity = capacity;
	cache->hash_bits = bits;
	cache->buckets = calloc((size_t)1 << bits, sizeof(*cache->buckets));
	cache->entries = calloc(capacity, sizeof(*cache->entries));
	if (!cache->buckets || !cache->entries) {
		cgroup_cache_free(cache);
		errno = ENOMEM;
		return NULL;
	}
	if (resolver)
		cache->resolver = *resolver;
	cache->lru.lru_next = cache->lru.lru_prev = &cache->lru;
	set_host(&cache->host);
	return cache;
}

void cgroup_cache_free(struct cgroup_cache *cache)
{
	size_t i;

	if (!cache)
		return;
	if (cache->entries)
		for (i = 0; i < cache->n_used; i++)
			free(cache->entries[i].path);
	free(cache->entries);
	free(cache->buckets);
	free(cache);
}

/*
 * Parses @path into @info with its owner: @uid's when @path is the
 * container's own cgroup, else the container cgroup's directory owner's
 * (see cgroup_cache_learn()). Root's containers are the system's.
 */
static void parse_owned(const struct cgroup_cache *cache, const char *path, uint32_t uid,
			struct container_info *info)
{
	char leaf[CGROUP_PATH_MAX + 1];
	size_t leaf_end;

	if (!parse_path(path, info, &leaf_end))
		return;
	if (path[leaf_end] && cache->resolver.owner) {
		memcpy(leaf, path, leaf_end);
		leaf[leaf_end] = '\0';
		cache->resolver.owner(cache->resolver.ctx, leaf, &uid);
	}
	info->owner_uid = uid != 0 ? (int64_t)uid : -1;
}

int cgroup_cache_learn(struct cgroup_cache *cache, uint64_t id, const char *path, uint32_t uid)
{
	struct cgroup_entry *e;
	char *copy;

	if (!cache || !path)
		return -EINVAL;
	if (strnlen(path, CGROUP_PATH_MAX + 1) > CGROUP_PATH_MAX)
		return -ENAMETOOLONG;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	e = cache_find(cache, id);
	if (e) {
		lru_unlink(e);
		lru_push_front(cache, e);
		free(e->path);
	} else {
		e = cache_insert(cache, id);
	}
	e->path = copy;
	parse_owned(cache, copy, uid, &e->info);
	return 0;
}

const struct container_info *cgroup_cache_lookup(struct cgroup_cache *cache, uint64_t id)
{
	char path[CGROUP_PATH_MAX + 1];
	struct cgroup_entry *e;
	uint32_t uid;
	int r;

	if (!cache)
		return &host_info;
	e = cache_find(cache, id);
	if (e) {
		cache->hits++;
		lru_unlink(e);
		lru_push_front(cache, e);
		return &e->info;
	}
	cache->misses++;
	/* Without a resolver a miss teaches nothing: keep the slots for learned ids. */
	if (!cache->resolver.resolve)
		return &cache->host;
	path[0] = '\0';
	r = cache->resolver.resolve(cache->resolver.ctx, id, path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	e = cache_insert(cache, id);
	/*
	 * A failure is remembered as the host, so that events from a cgroup we
	 * cannot resolve do not ask again each time; cgroup_cache_learn() is
	 * the way back.
	 */
	if (r < 0 || path[0] != '/') {
		cache->resolve_failures++;
		return &e->info;
	}
	/* No creation record: the owner of the directory, as for a scan. */
	if (!cache->resolver.owner || cache->resolver.owner(cache->resolver.ctx, path, &uid) < 0)
		uid = 0;
	parse_owned(cache, path, uid, &e->info);
	/* Without the copy the entry still answers; only the path is lost. */
	e->path = strdup(path);
	return &e->info;
}

void cgroup_cache_stats(const struct cgroup_cache *cache, struct cgroup_cache_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!cache)
		return;
	out->hits = cache->hits;
	out->misses = cache->misses;
	out->resolve_failures = cache->resolve_failures;
	out->evictions = cache->evictions;
	out->entries = cache->n_used;
	out->capacity = cache->capacity;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' in paths as \ooo. */
static void mountinfo_unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/*
 * "36 35 98:0 /root /mnt rw,noatime master:1 - cgroup2 cgroup2 rw": fields
 * 4 and 5 are the mounted root and the mount point, the type follows "-".
 * Returns the mount point when the line is a cgroup2 mount, NULL otherwise;
 * *@whole tells whether it mounts the hierarchy's root, not a subtree.
 */
static char *mountinfo_cgroup2(char *line, bool *whole)
{
	char *field[6], *tok, *save = NULL;
	size_t n = 0;

	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (n < 6) {
			field[n++] = tok;
			continue;
		}
		if (strcmp(tok, "-"))
			continue;
		tok = strtok_r(NULL, " \n", &save);
		if (!tok || strcmp(tok, "cgroup2"))
			return NULL;
		*whole = !strcmp(field[3], "/");
		mountinfo_unescape(field[4]);
		return field[4];
	}
	return NULL;
}

/*
 * Not thread-safe: the daemon asks from its one thread. A host without
 * cgroup2 is asked again next time, in case it gets mounted.
 */
const char *cgroup2_mount_point(void)
{
	static char mount_point[CGROUP_PATH_MAX + 1];
	char fallback[CGROUP_PATH_MAX + 1] = "";
	char *line = NULL, *mnt;
	size_t cap = 0;
	bool whole;
	FILE *f;

	if (mount_point[0])
		return mount_point;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		mnt = mountinfo_cgroup2(line, &whole);
		if (!mnt || strlen(mnt) > CGROUP_PATH_MAX)
			continue;
		/* a bind mount of a subtree would shift every path: prefer the root */
		if (whole) {
			strcpy(mount_point, mnt);
			break;
		}
		if (!fallback[0])
			strcpy(fallback, mnt);
	}
	free(line);
	fclose(f);
	if (!mount_point[0] && fallback[0])
		strcpy(mount_point, fallback);
	return mount_point[0] ? mount_point : NULL;
}

/*
 * The cgroup id BPF records (bpf_get_current_cgroup_id()) is the kernfs
 * node id, and since v5.5 ("kernfs: convert kernfs_node->id from union
 * kernfs_node_id to u64") a kernfs file handle is exactly that u64, typed
 * FILEID_KERNFS: what name_to_handle_at() returns for a cgroup directory.
 * So the handle is built from the id, no lookup needed. Older kernels used
 * another handle type; bpfd's ring buffers need v5.8 anyway. Needs
 * CAP_DAC_READ_SEARCH.
 */
static int fs_owner(void *ctx, const char *path, uint32_t *uid)
{
	struct stat st;
	int mount_fd, r = 0;

	if (!ctx || !path || path[0] != '/')
		return -EINVAL;
	mount_fd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mount_fd < 0)
		return -errno;
	if (fstatat(mount_fd, path[1] ? path + 1 : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else
		*uid = st.st_uid;
	close(mount_fd);
	return r;
}

static int fs_resolve(void *ctx, uint64_t id, char *path, size_t size)
{
	const char *mount_point = ctx;
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + sizeof(uint64_t)];
	} handle;
	char proc[64], link[CGROUP_PATH_MAX + 1];
	size_t mlen, rlen;
	const char *rel;
	int mount_fd, fd, r;
	ssize_t n;

	if (!mount_point || !path || size == 0)
		return -EINVAL;
	/* an O_PATH fd is refused as mount_fd (EBADF) */
	mount_fd = open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mount_fd < 0)
		return -errno;
	handle.fh.handle_bytes = sizeof(uint64_t);
	handle.fh.handle_type = FILEID_KERNFS;
	memcpy(handle.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(mount_fd, &handle.fh, O_PATH | O_CLOEXEC);
	r = -errno;
	close(mount_fd);
	if (fd < 0)
		return r == -ESTALE ? -ENOENT : r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	r = -errno;
	close(fd);
	if (n < 0)
		return r;
	if ((size_t)n >= sizeof(link) - 1)
		return -ENAMETOOLONG;
	link[n] = '\0';
	/* removed between open and readlink */
	if (n >= 10 && !strcmp(link + n - 10, " (deleted)"))
		return -ENOENT;

	mlen = strlen(mount_point);
	while (mlen > 1 && mount_point[mlen - 1] == '/')
		mlen--;
	if (mlen == 1 && mount_point[0] == '/')
		mlen = 0;
	if (strncmp(link, mount_point, mlen) || (link[mlen] != '/' && link[mlen] != '\0'))
		return -EXDEV;
	rel = link[mlen] ? link + mlen : "/";
	rlen = strlen(rel);
	if (rlen >= size)
		return -ENAMETOOLONG;
	memcpy(path, rel, rlen + 1);
	return 0;
}

/* @mount_point is kept, not copied: it must outlive the resolver. */
struct cgroup_resolver cgroup_fs_resolver(const char *mount_point)
{
	struct cgroup_resolver r = { 0 };

	if (mount_point) {
		r.resolve = fs_resolve;
		r.owner = fs_owner;
		r.ctx = (void *)mount_point;
	}
	return r;
}

/*
 * Breadth first, one directory fd open at a time (a deep tree must not
 * cost a deep fd stack), with at most @max_entries directories ever queued.
 * Returns how many cgroups were learned, or a negative errno. The id learned
 * is st_ino, which equals the kernfs id on 64-bit kernels since v5.5.
 */
int cgroup_cache_scan(struct cgroup_cache *cache, const char *mount_point, size_t max_entries)
{
	char **queue = NULL;
	size_t head = 0, len = 0, alloc = 0;
	int mount_fd, learned = 0, r = 0;

	if (!cache || !mount_point)
		return -EINVAL;
	if (max_entries == 0)
		return 0;
	if (max_entries > INT32_MAX)
		max_entries = INT32_MAX;
	mount_fd = open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mount_fd < 0)
		return -errno;
	queue = malloc(sizeof(*queue));
	if (!queue || !(queue[0] = strdup("/"))) {
		r = -ENOMEM;
		goto out;
	}
	alloc = len = 1;

	while (head < len) {
		char *rel = queue[head];
		struct dirent *de;
		struct stat st;
		DIR *dir;
		int dfd;

		queue[head++] = NULL;
		dfd = openat(mount_fd, rel[1] ? rel + 1 : ".",
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* cgroups come and go while we walk: skip what vanished */
		if (dfd < 0 || fstat(dfd, &st) < 0) {
			if (dfd >= 0)
				close(dfd);
			free(rel);
			continue;
		}
		r = cgroup_cache_learn(cache, st.st_ino, rel, st.st_uid);
		if (r < 0) {
			close(dfd);
			free(rel);
			goto out;
		}
		learned++;
		dir = fdopendir(dfd);
		if (!dir) {
			close(dfd);
			free(rel);
			continue;
		}
		while (len < max_entries && (de = readdir(dir))) {
			size_t rlen = strlen(rel), nlen = strlen(de->d_name);
			char *child;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (de->d_type == DT_UNKNOWN) {
				if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISDIR(st.st_mode))
					continue;
			} else if (de->d_type != DT_DIR) {
				continue;
			}
			if (rlen + 1 + nlen > CGROUP_PATH_MAX)
				continue;
			if (len == alloc) {
				size_t na = alloc * 2 < max_entries ? alloc * 2 : max_entries;
				char **nq = realloc(queue, na * sizeof(*queue));

				if (!nq) {
					r = -ENOMEM;
					break;
				}
				queue = nq;
				alloc = na;
			}
			child = malloc(rlen + 1 + nlen + 1);
			if (!child) {
				r = -ENOMEM;
				break;
			}
			/* "/" + name at the root, rel + "/" + name below it */
			snprintf(child, rlen + 1 + nlen + 1, "%s/%s", rel[1] ? rel : "",
				 de->d_name);
			queue[len++] = child;
		}
		closedir(dir);
		free(rel);
		if (r < 0)
			goto out;
	}
out:
	while (head < len)
		free(queue[head++]);
	free(queue);
	close(mount_fd);
	return r < 0 ? r : learned;
}
