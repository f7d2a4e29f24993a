// SPDX-License-Identifier: MIT
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bpf/kheaders.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KCONFIG_H "include/linux/kconfig.h"
/* kconfig.h starts with #include <generated/autoconf.h>: without it nothing compiles. */
#define AUTOCONF_H "include/generated/autoconf.h"
#define MERGED_PREFIX "bpfd-kheaders-"

/*
 * The split halves share only a few directories (arch/, arch/x86/,
 * arch/x86/include/, include/): anything deeper than this is a symlink
 * loop, not a header tree.
 */
enum { MERGE_MAX_DEPTH = 16 };

/* Version components weighed by kheaders_distance(), each capped below its weight. */
enum { VERSION_PARTS = 4, VERSION_PART_MAX = 999 };

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool has_file(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	if (!dir[0] || snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_dir(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return false;
	return is_dir(path);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- versions ---- */

/*
 * Leading numeric components of a release, split at '.' and '-':
 * "6.18.44-fc-v857" -> 6 18 44, "6.1.0-56-amd64" -> 6 1 0 56. Parsing stops
 * at the first component that is not all digits (the flavour). Returns how
 * many were read.
 */
static int version_parts(const char *s, long long part[VERSION_PARTS])
{
	int n = 0;

	memset(part, 0, sizeof(long long) * VERSION_PARTS);
	while (n < VERSION_PARTS && *s >= '0' && *s <= '9') {
		long long v = 0;

		while (*s >= '0' && *s <= '9') {
			if (v <= VERSION_PART_MAX)
				v = v * 10 + (*s - '0');
			s++;
		}
		/* "0rc3" is not a plain number, and nothing after it counts either. */
		if (*s && *s != '.' && *s != '-')
			break;
		part[n++] = v > VERSION_PART_MAX ? VERSION_PART_MAX : v;
		if (!*s)
			break;
		s++;
	}
	return n;
}

/*
 * A version as one number: major * 1e9 + minor * 1e6 + patch * 1e3 + the
 * distribution's ABI number ("-56" in Debian's 6.1.0-56). Every component is
 * capped at 999, so a higher component always outweighs all lower ones:
 * 6.1.0-56 is far from 6.18.44, and 6.17.0 is close to it.
 */
static long long version_value(const long long part[VERSION_PARTS])
{
	long long v = 0;
	int i;

	for (i = 0; i < VERSION_PARTS; i++)
		v = v * (VERSION_PART_MAX + 1) + part[i];
	return v;
}

/*
 * Distance = 2 * |running - candidate| (in version_value() units), plus one
 * when the candidate is newer: of two candidates equally far away, the older
 * one wins, since structures older headers declare are more likely to still
 * exist. LONG_MAX when either string has no leading number.
 */
long kheaders_distance(const char *running, const char *candidate)
{
	long long r[VERSION_PARTS], c[VERSION_PARTS];
	long long vr, vc, d;

	if (!running || !candidate || !version_parts(running, r) || !version_parts(candidate, c))
		return LONG_MAX;
	vr = version_value(r);
	vc = version_value(c);
	d = vr > vc ? vr - vc : vc - vr;
	d = 2 * d + (vc > vr);
	return d > LONG_MAX ? LONG_MAX : (long)d;
}

/* ---- finding ---- */

struct finder {
	const char *running;
	int root_fd;			/* O_PATH of @root, for openat2(RESOLVE_IN_ROOT) */
	char root[PATH_MAX];		/* realpath of @root */
	struct kheaders best;
	bool have_best;
	bool best_configured;
	long best_distance;
};

/*
 * Real absolute path of @rel (relative to the root), resolving symlinks as if
 * the root were "/": Debian's /lib/modules/V/build is an absolute symlink,
 * and a fixture tree (or a host filesystem mounted elsewhere) must resolve it
 * inside itself. openat2() does exactly that; where it is missing (before
 * Linux 5.6, or filtered by seccomp) or /proc is not mounted, realpath() is
 * the same thing for root "/".
 */
static int resolve(const struct finder *f, const char *rel, char *out, size_t size)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[PATH_MAX], real[PATH_MAX];
	long fd;

	fd = syscall(SYS_openat2, f->root_fd, rel, &how, sizeof(how));
	if (fd >= 0) {
		char proc[64];
		ssize_t n;

		snprintf(proc, sizeof(proc), "/proc/self/fd/%ld", fd);
		n = readlink(proc, out, size);
		close((int)fd);
		if (n > 0 && (size_t)n < size && out[0] == '/') {
			out[n] = '\0';
			return 0;
		}
	} else if (errno != ENOSYS && errno != EPERM && errno != EAGAIN) {
		/* EAGAIN: a rename raced RESOLVE_IN_ROOT's ".." checks. */
		return -errno;
	}

	if (snprintf(path, sizeof(path), "%s/%s", f->root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!realpath(path, real))
		return -errno;
	if (strlen(real) >= size)
		return -ENAMETOOLONG;
	strcpy(out, real);
	return 0;
}

/* Like resolve(), but only for directories. */
static int resolve_dir(const struct finder *f, const char *rel, char *out, size_t size)
{
	int err = resolve(f, rel, out, size);

	if (err < 0)
		return err;
	return is_dir(out) ? 0 : -ENOTDIR;
}

/*
 * Whether candidate @a beats the best one so far. Configured trees (with generated/autoconf.h) first,
 * since the others cannot compile anything; then the running release, then
 * what BCC finds by itself, then the closest version. Equal candidates keep
 * the one found first: /lib/modules before /usr/src, names in sorted order.
 */
static bool better(const struct kheaders *a, bool a_conf, long a_dist, const struct finder *f)
{
	if (!f->have_best)
		return true;
	if (a_conf != f->best_configured)
		return a_conf;
	if (a->exact != f->best.exact)
		return a->exact;
	if (a->native != f->best.native)
		return a->native;
	return a_dist < f->best_distance;
}

/*
 * Offers one candidate: @build and @source are real paths (@source "" when
 * the tree is not split). Unusable ones (no kconfig.h) are dropped.
 */
static void consider(struct finder *f, const char *release, const char *build,
		     const char *source, bool in_lib_modules)
{
	struct kheaders kh;
	bool configured;
	long dist;

	if (strlen(release) >= sizeof(kh.release) || strlen(build) >= sizeof(kh.build) ||
	    strlen(source) >= sizeof(kh.source))
		return;
	if (!has_file(build, KCONFIG_H) && !has_file(source, KCONFIG_H))
		return;

	memset(&kh, 0, sizeof(kh));
	strcpy(kh.release, release);
	strcpy(kh.build, build);
	strcpy(kh.source, source);
	kh.exact = strcmp(release, f->running) == 0;
	/*
	 * BCC (src/cc/frontends/clang/loader.cc, 0.26) compiles in
	 * /lib/modules/RUNNING/source when build and source are both there,
	 * else in build, and gives up unless kconfig.h is in that directory.
	 */
	kh.native = in_lib_modules && kh.exact && has_file(source[0] ? source : build, KCONFIG_H);
	configured = has_file(build, AUTOCONF_H) || has_file(source, AUTOCONF_H);
	dist = kheaders_distance(f->running, release);

	if (better(&kh, configured, dist, f)) {
		f->best = kh;
		f->have_best = true;
		f->best_configured = configured;
		f->best_distance = dist;
	}
}

static int skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* /lib/modules/REL/build, with REL/source as its other half when that differs. */
static void scan_lib_modules(struct finder *f)
{
	struct dirent **names;
	char dir[PATH_MAX];
	int i, n;

	if (resolve_dir(f, "lib/modules", dir, sizeof(dir)) < 0)
		return;
	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		char rel[PATH_MAX], build[PATH_MAX], source[PATH_MAX];
		const char *release = names[i]->d_name;

		snprintf(rel, sizeof(rel), "lib/modules/%s/build", release);
		if (resolve_dir(f, rel, build, sizeof(build)) < 0)
			continue;
		snprintf(rel, sizeof(rel), "lib/modules/%s/source", release);
		if (resolve_dir(f, rel, source, sizeof(source)) < 0 || strcmp(source, build) == 0)
			source[0] = '\0';
		consider(f, release, build, source, true);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The version part of a /usr/src entry's name, or NULL when it holds no kernel tree. */
static const char *usr_src_version(const char *name, bool *headers)
{
	const char *v = NULL;

	if (has_prefix(name, "linux-headers-")) {
		v = name + strlen("linux-headers-");
		*headers = true;
	} else if (has_prefix(name, "linux-")) {
		v = name + strlen("linux-");	/* linux-6.1.7, not linux-kbuild-6.1 */
		*headers = false;
	}
	return v && *v >= '0' && *v <= '9' ? v : NULL;
}

/*
 * The common half of a Debian arch half linux-headers-V-[FEATURESET-]FLAVOUR:
 * linux-headers-V-common[-FEATURESET] (Debian; -rt-amd64 pairs with
 * -common-rt), else linux-headers-V (Ubuntu's -generic, which links into it).
 * V is the numeric part of the version ("6.1.0-56"). Writes the real path
 * of the first that exists into @out; 0 or -ENOENT.
 */
static int find_common_half(const struct finder *f, const char *version, const char *build,
			    char *out, size_t size)
{
	char base[256], featureset[256] = "", tries[3][PATH_MAX];
	const char *p = version, *flavour, *dash;
	size_t len;
	int i;

	/* Skip the numeric components: digits, '.', and "-DIGITS" parts. */
	while (*p >= '0' && *p <= '9') {
		while ((*p >= '0' && *p <= '9') || *p == '.')
			p++;
		if (*p == '-' && p[1] >= '0' && p[1] <= '9')
			p++;
	}
	if (*p != '-' || p == version)
		return -ENOENT;
	len = (size_t)(p - version);
	if (len >= sizeof(base))
		return -ENOENT;
	memcpy(base, version, len);
	base[len] = '\0';
	flavour = p + 1;
	dash = strrchr(flavour, '-');
	if (dash && (size_t)(dash - flavour) < sizeof(featureset)) {
		memcpy(featureset, flavour, (size_t)(dash - flavour));
		featureset[dash - flavour] = '\0';
	}

	snprintf(tries[0], sizeof(tries[0]), "usr/src/linux-headers-%s-common%s%s", base,
		 featureset[0] ? "-" : "", featureset);
	snprintf(tries[1], sizeof(tries[1]), "usr/src/linux-headers-%s-common", base);
	snprintf(tries[2], sizeof(tries[2]), "usr/src/linux-headers-%s", base);
	for (i = 0; i < 3; i++)
		if (resolve_dir(f, tries[i], out, size) == 0 && strcmp(out, build) != 0)
			return 0;
	return -ENOENT;
}

/*
 * /usr/src: arch halves (those with generated headers or a .config) paired
 * with their common half, then whole trees with kconfig.h that are nobody's
 * half.
 */
static void scan_usr_src(struct finder *f)
{
	struct dirent **names;
	char dir[PATH_MAX];
	char (*halves)[PATH_MAX];
	int i, j, n, n_halves = 0;

	if (resolve_dir(f, "usr/src", dir, sizeof(dir)) < 0)
		return;
	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0)
		return;
	halves = calloc((size_t)n + 1, sizeof(*halves));
	if (!halves)
		goto out;

	for (i = 0; i < n; i++) {
		char rel[PATH_MAX], build[PATH_MAX], source[PATH_MAX] = "";
		const char *version;
		bool headers;

		version = usr_src_version(names[i]->d_name, &headers);
		if (!version)
			continue;
		snprintf(rel, sizeof(rel), "usr/src/%s", names[i]->d_name);
		if (resolve_dir(f, rel, build, sizeof(build)) < 0)
			continue;
		if (!has_dir(build, "include/generated") && !has_file(build, ".config"))
			continue;
		if (headers && find_common_half(f, version, build, source, sizeof(source)) == 0)
			strcpy(halves[n_halves++], source);
		consider(f, version, build, source, false);
	}

	for (i = 0; i < n; i++) {
		char rel[PATH_MAX], build[PATH_MAX];
		const char *version;
		bool headers, half = false;

		version = usr_src_version(names[i]->d_name, &headers);
		/* A common half (-common, -common-rt) never compiles alone. */
		if (!version || strstr(version, "-common"))
			continue;
		snprintf(rel, sizeof(rel), "usr/src/%s", names[i]->d_name);
		if (resolve_dir(f, rel, build, sizeof(build)) < 0)
			continue;
		if (has_dir(build, "include/generated") || has_file(build, ".config"))
			continue;	/* an arch half: done above */
		for (j = 0; j < n_halves && !half; j++)
			half = strcmp(halves[j], build) == 0;
		if (!half)
			consider(f, version, build, "", false);
	}
	free(halves);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int kheaders_find(const char *root, const char *release, struct kheaders *out)
{
	struct finder f;

	if (!root || !release || !out)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.running = release;
	if (!realpath(root, f.root))
		return -errno;
	f.root_fd = open(f.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f.root_fd < 0)
		return -errno;

	scan_lib_modules(&f);
	scan_usr_src(&f);
	close(f.root_fd);

	if (!f.have_best)
		return -ENOENT;
	*out = f.best;
	return 0;
}

/* ---- merging the split halves ---- */

/* Three paths grown and shrunk in step while walking: merged tree, arch half, common half. */
struct merge {
	char dst[PATH_MAX];
	char arch[PATH_MAX];
	char common[PATH_MAX];
};

static int path_push(char *path, size_t *len, const char *name)
{
	size_t n = strlen(name);

	*len = strlen(path);
	if (*len + 1 + n >= PATH_MAX)
		return -ENAMETOOLONG;
	path[*len] = '/';
	memcpy(path + *len + 1, name, n + 1);
	return 0;
}

/*
 * Whether both halves have a directory named like this, so the merged tree
 * needs a directory there too. Real directories on both sides do. Through a
 * symlink (both halves' scripts/ link to linux-kbuild) only when both
 * resolve to directories, and distinct ones: the same directory reached
 * twice is simply linked.
 */
static bool both_dirs(const char *a, const char *b)
{
	struct stat la, lb, sa, sb;

	if (lstat(a, &la) < 0 || lstat(b, &lb) < 0)
		return false;
	if (S_ISDIR(la.st_mode) && S_ISDIR(lb.st_mode))
		return la.st_dev != lb.st_dev || la.st_ino != lb.st_ino;
	if (!S_ISLNK(la.st_mode) && !S_ISLNK(lb.st_mode))
		return false;
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return false;
	return S_ISDIR(sa.st_mode) && S_ISDIR(sb.st_mode) &&
	       (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino);
}

static bool exists_nofollow(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int merge_dir(struct merge *m, int depth);

/* Fills m->dst/@name for an entry of the arch half. */
static int merge_arch_entry(struct merge *m, const char *name, int depth)
{
	size_t ld, la, lc;
	int err;

	if ((err = path_push(m->dst, &ld, name)) < 0)
		return err;
	if ((err = path_push(m->arch, &la, name)) < 0)
		goto out_dst;
	if ((err = path_push(m->common, &lc, name)) < 0)
		goto out_arch;

	if (both_dirs(m->arch, m->common)) {
		if (mkdir(m->dst, 0755) < 0)
			err = -errno;
		else
			err = merge_dir(m, depth + 1);
	} else if (symlink(m->arch, m->dst) < 0) {
		/* The arch half wins any conflict that is not two directories. */
		err = -errno;
	}

	m->common[lc] = '\0';
out_arch:
	m->arch[la] = '\0';
out_dst:
	m->dst[ld] = '\0';
	return err;
}

/* Links m->dst/@name to the common half's entry when the arch half has none. */
static int merge_common_entry(struct merge *m, const char *name)
{
	size_t ld, la, lc;
	int err;

	if ((err = path_push(m->dst, &ld, name)) < 0)
		return err;
	if ((err = path_push(m->arch, &la, name)) < 0)
		goto out_dst;
	if ((err = path_push(m->common, &lc, name)) < 0)
		goto out_arch;

	if (!exists_nofollow(m->arch) && symlink(m->common, m->dst) < 0)
		err = -errno;

	m->common[lc] = '\0';
out_arch:
	m->arch[la] = '\0';
out_dst:
	m->dst[ld] = '\0';
	return err;
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* Fills the directory m->dst with arch ∪ common, recursing where both have a directory. */
static int merge_dir(struct merge *m, int depth)
{
	struct dirent *d;
	DIR *dir;
	int err = 0;

	if (depth > MERGE_MAX_DEPTH)
		return -ELOOP;

	dir = opendir(m->arch);
	if (!dir)
		return -errno;
	for (errno = 0; !err && (d = readdir(dir)); errno = 0)
		if (!is_dot(d->d_name))
			err = merge_arch_entry(m, d->d_name, depth);
	if (!err && errno)
		err = -errno;
	closedir(dir);
	if (err)
		return err;

	dir = opendir(m->common);
	if (!dir)
		return -errno;
	for (errno = 0; !err && (d = readdir(dir)); errno = 0)
		if (!is_dot(d->d_name))
			err = merge_common_entry(m, d->d_name);
	if (!err && errno)
		err = -errno;
	closedir(dir);
	return err;
}

static int set_kernel_source(const char *dir)
{
	return setenv("BCC_KERNEL_SOURCE", dir, 1) < 0 ? -errno : 0;
}

int kheaders_prepare(const struct kheaders *kh, const char *tmpdir, char *merged, size_t size)
{
	struct merge *m;
	int err;

	if (!kh || !merged || !size || kh->build[0] != '/')
		return -EINVAL;
	merged[0] = '\0';
	/* BCC finds these by itself; BCC_KERNEL_SOURCE would lose the source half. */
	if (kh->native)
		return 0;
	if (!kh->source[0])
		return set_kernel_source(kh->build);

	if (!tmpdir || !tmpdir[0])
		tmpdir = "/tmp";
	if (snprintf(merged, size, "%s/" MERGED_PREFIX "XXXXXX", tmpdir) >= (int)size) {
		merged[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(merged)) {
		err = -errno;
		merged[0] = '\0';
		return err;
	}

	m = malloc(sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto fail;
	}
	err = -ENAMETOOLONG;
	if (strlen(merged) >= sizeof(m->dst) || strlen(kh->build) >= sizeof(m->arch) ||
	    strlen(kh->source) >= sizeof(m->common)) {
		free(m);
		goto fail;
	}
	strcpy(m->dst, merged);
	strcpy(m->arch, kh->build);
	strcpy(m->common, kh->source);
	err = merge_dir(m, 0);
	free(m);
	if (err < 0)
		goto fail;
	/* BCC refuses a tree without it (and would then look for /sys/kernel/kheaders.tar.xz). */
	if (!has_file(merged, KCONFIG_H)) {
		err = -ENOENT;
		goto fail;
	}
	err = set_kernel_source(merged);
	if (err < 0)
		goto fail;
	return 0;

fail:
	kheaders_cleanup(merged);
	merged[0] = '\0';
	return err;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* Errors are ignored: remove as much as possible. */
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void kheaders_cleanup(const char *merged)
{
	const char *base;
	struct stat st;

	if (!merged || merged[0] != '/')
		return;
	base = strrchr(merged, '/') + 1;
	/* Only ever a directory kheaders_prepare() made, never what a symlink points at. */
	if (!has_prefix(base, MERGED_PREFIX) || lstat(merged, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	nftw(merged, remove_entry, 16, FTW_PHYS | FTW_DEPTH | FTW_MOUNT);
}
