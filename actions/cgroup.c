// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "actions/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/proc.h"

enum {
	CGROUP_DEPTH_MAX = 64,
	/* Signalling passes without a freezer: what forked during one is caught by the next. */
	KILL_PASSES_UNFROZEN = 4,
};

bool cgroup_v1_mount_point(const char *controller, char *out, size_t size)
{
	char line[4096], mnt[4096], fstype[64], opts[2048];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (!found && f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");
		char *tok, *save;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %2047s", fstype, opts) != 2 ||
		    strcmp(fstype, "cgroup") != 0)
			continue;
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, controller) == 0)
				found = true;
	}
	if (f)
		fclose(f);
	if (found)
		snprintf(out, size, "%s", mnt);
	return found;
}

void cgroup_hierarchy_init(struct cgroup_hierarchy *h, const char *mount, bool cgroup2)
{
	snprintf(h->mount, sizeof(h->mount), "%s", mount ? mount : "");
	h->cgroup2 = cgroup2;
	h->freezer[0] = '\0';
	if (!cgroup2 && !cgroup_v1_mount_point("freezer", h->freezer, sizeof(h->freezer)))
		h->freezer[0] = '\0';
}

static bool same_container(const struct container_info *a, const struct container_info *b)
{
	return strcmp(a->runtime, b->runtime) == 0 && strcmp(a->id, b->id) == 0;
}

int container_cgroup_top(const char *path, char *top, size_t size, struct container_info *info)
{
	char cur[CGROUP_REL_PATH_MAX];
	struct container_info up;
	size_t len;
	char *slash;

	if (!container_from_cgroup_path(path, info))
		return -ENOENT;
	len = strlen(path);
	if (len >= sizeof(cur))
		return -ENAMETOOLONG;
	memcpy(cur, path, len + 1);
	while (len > 1 && cur[len - 1] == '/')
		cur[--len] = '\0';
	for (;;) {
		slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;	/* the parent is the root: never a container */
		*slash = '\0';
		if (!container_from_cgroup_path(cur, &up) || !same_container(&up, info)) {
			*slash = '/';
			break;
		}
	}
	if (strlen(cur) >= size)
		return -ENAMETOOLONG;
	memcpy(top, cur, strlen(cur) + 1);
	return 0;
}

static bool pid_listed(const struct container_proc *procs, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (procs[i].pid == pid)
			return true;
	return false;
}

/* True when @a is a better init than @b (both started by something outside). */
static bool better_init(const struct container_proc *a, const struct container_proc *b)
{
	if ((a->nspid == 1) != (b->nspid == 1))
		return a->nspid == 1;
	if (a->start != b->start)
		return a->start < b->start;
	return a->pid < b->pid;
}

ssize_t container_init_choose(const struct container_proc *procs, size_t n)
{
	ssize_t best = -1, lowest = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (lowest < 0 || procs[i].pid < procs[lowest].pid)
			lowest = (ssize_t)i;
		if (pid_listed(procs, n, procs[i].ppid))
			continue;
		if (best < 0 || better_init(&procs[i], &procs[best]))
			best = (ssize_t)i;
	}
	return best >= 0 ? best : lowest;
}

/* @base + @path + "/" + @file into @out. */
static int join(char *out, size_t size, const char *base, const char *path, const char *file)
{
	int n = snprintf(out, size, "%s%s%s%s", base, path, file ? "/" : "", file ? file : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * Like a shell's `echo V > FILE` for @file in directory @dirfd: cgroup
 * files ignore O_TRUNC, plain files (tests) need it.
 */
static int write_string_at(int dirfd, const char *file, const char *value)
{
	ssize_t len = (ssize_t)strlen(value), w;
	int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	w = write(fd, value, len);
	if (w != len) {
		int r = w < 0 ? -errno : -EIO;

		close(fd);
		return r;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int open_dir(const char *base, const char *path)
{
	char dir[CGROUP_REL_PATH_MAX * 2];
	int fd, r = join(dir, sizeof(dir), base, path, NULL);

	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

void cgroup_dir_close(struct cgroup_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->freezer_fd >= 0)
		close(d->freezer_fd);
	d->fd = d->freezer_fd = -1;
}

/*
 * The freezer of top cgroup @d->fd at @top into @d->freezer_fd (-1:
 * none). A v1 freezer hierarchy apart from the attributing one holds other
 * directories: the same path there is the container's (runtimes make it
 * in every hierarchy, and only root can make one there outside a subtree
 * delegated to a user, who then names only their own cgroups).
 */
static int open_freezer(const struct cgroup_hierarchy *h, struct cgroup_dir *d, const char *top)
{
	int fd;

	if (h->cgroup2 || strcmp(h->freezer, h->mount) == 0) {
		d->freezer_fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 3);
		return d->freezer_fd < 0 ? -errno : 0;
	}
	if (!h->freezer[0])
		return 0;
	fd = open_dir(h->freezer, top);
	if (fd < 0 && fd != -ENOENT)
		return fd;
	d->freezer_fd = fd < 0 ? -1 : fd;
	return 0;
}

/* Keeps @fd as @d's top cgroup and opens its freezer: 0, or a negative errno (@fd closed). */
static int take_dir(const struct cgroup_hierarchy *h, int fd, const char *top,
		    struct cgroup_dir *d)
{
	int r;

	d->fd = fd;
	r = open_freezer(h, d, top);
	if (r < 0)
		cgroup_dir_close(d);
	return r;
}

int cgroup_dir_open(const struct cgroup_hierarchy *h, const char *path, struct cgroup_dir *d)
{
	int fd;

	d->fd = d->freezer_fd = -1;
	if (!h->mount[0])
		return -EOPNOTSUPP;
	fd = open_dir(h->mount, path);
	return fd < 0 ? fd : take_dir(h, fd, path, d);
}

static bool same_dir(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cgroup_dir_open_event(const struct cgroup_hierarchy *h, const char *path, uint64_t id,
			  const char *top, struct cgroup_dir *d)
{
	size_t top_len = strlen(top), i;
	struct stat st;
	int fd, up, named, r;

	d->fd = d->freezer_fd = -1;
	if (!h->mount[0])
		return -EOPNOTSUPP;
	if (strncmp(path, top, top_len) != 0 || (path[top_len] && path[top_len] != '/'))
		return -EINVAL;
	fd = open_dir(h->mount, path);
	if (fd < 0)
		return fd;
	/* The name may lead elsewhere since it was resolved: the inode says whose it is. */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != id) {
		close(fd);
		return -ESTALE;
	}
	/* Up to the top through the directory itself, not through names. */
	for (i = top_len; path[i]; i++) {
		if (path[i] != '/' || !path[i + 1] || path[i + 1] == '/')
			continue;
		up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = -errno;
		close(fd);
		if (up < 0)
			return r;
		fd = up;
	}
	/* Moved between the open and the climb: the top reached is not the one named. */
	named = open_dir(h->mount, top);
	if (named < 0 || !same_dir(fd, named)) {
		if (named >= 0)
			close(named);
		close(fd);
		return named == -ENOENT ? -ENOENT : -ESTALE;
	}
	close(named);
	return take_dir(h, fd, top, d);
}

struct pid_list {
	pid_t *pids;
	size_t n, cap;
};

static int pid_list_add(struct pid_list *l, pid_t pid)
{
	size_t i;

	/* A process shows in one cgroup only; threads' pids are not in cgroup.procs. */
	for (i = 0; i < l->n; i++)
		if (l->pids[i] == pid)
			return 0;
	if (l->n == CONTAINER_PIDS_MAX)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		pid_t *p = realloc(l->pids, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->pids = p;
		l->cap = cap;
	}
	l->pids[l->n++] = pid;
	return 0;
}

/* The processes of directory @dirfd (a cgroup) and of its descendants. */
static int collect_pids(int dirfd, struct pid_list *l, int depth)
{
	struct dirent *de;
	long pid;
	DIR *d;
	FILE *f;
	int fd, r = 0;

	if (depth > CGROUP_DEPTH_MAX)
		return -ELOOP;
	fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (r == 0 && fscanf(f, "%ld", &pid) == 1)
		if (pid > 0)
			r = pid_list_add(l, (pid_t)pid);
	fclose(f);
	if (r < 0)
		return r;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while (r == 0 && (de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;	/* removed meanwhile */
		r = collect_pids(sub, l, depth + 1);
		close(sub);
		if (r == -ENOENT)
			r = 0;
	}
	closedir(d);
	return r;
}

int container_cgroup_pids(const struct cgroup_dir *d, pid_t **pids, size_t *n)
{
	struct pid_list l = { 0 };
	int r;

	*pids = NULL;
	*n = 0;
	r = collect_pids(d->fd, &l, 0);
	if (r < 0) {
		free(l.pids);
		return r;
	}
	*pids = l.pids;
	*n = l.n;
	return 0;
}

/* PPid and the last NSpid field of /proc/@pid/status. */
static int read_status(pid_t pid, pid_t *ppid, pid_t *nspid)
{
	char path[64], line[512];
	bool have_ppid = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	*nspid = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "PPid:", 5) == 0) {
			*ppid = (pid_t)strtol(line + 5, NULL, 10);
			have_ppid = true;
		} else if (strncmp(line, "NSpid:", 6) == 0) {
			char *p = line + 6, *end;
			long v;

			for (;;) {
				v = strtol(p, &end, 10);
				if (end == p)
					break;
				*nspid = (pid_t)v;
				p = end;
			}
		}
	}
	fclose(f);
	return have_ppid ? 0 : -EINVAL;
}

int container_cgroup_init_pid(const struct cgroup_dir *d, pid_t *pid)
{
	struct container_proc *procs;
	size_t n, i, k = 0;
	pid_t *pids;
	ssize_t best;
	int r;

	r = container_cgroup_pids(d, &pids, &n);
	if (r < 0)
		return r;
	procs = calloc(n ? n : 1, sizeof(*procs));
	if (!procs) {
		free(pids);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct container_proc *p = &procs[k];

		p->pid = pids[i];
		/* Gone since the listing: not a candidate. */
		if (read_status(p->pid, &p->ppid, &p->nspid) < 0 ||
		    process_start_ticks(p->pid, &p->start) < 0)
			continue;
		k++;
	}
	best = container_init_choose(procs, k);
	if (best >= 0)
		*pid = procs[best].pid;
	free(procs);
	free(pids);
	return best >= 0 ? 0 : -ESRCH;
}

int container_cgroup_freeze(const struct cgroup_hierarchy *h, const struct cgroup_dir *d,
			    bool frozen)
{
	int r;

	if (d->freezer_fd < 0)
		return -EOPNOTSUPP;
	if (h->cgroup2)
		r = write_string_at(d->freezer_fd, "cgroup.freeze", frozen ? "1" : "0");
	else
		r = write_string_at(d->freezer_fd, "freezer.state", frozen ? "FROZEN" : "THAWED");
	/* The cgroup is there but the file is not: a cgroup2 freezer needs Linux 5.2. */
	if (r == -ENOENT && faccessat(d->freezer_fd, h->cgroup2 ? "cgroup.procs" : "tasks", F_OK,
				      0) == 0)
		r = -EOPNOTSUPP;
	return r;
}

/* SIGKILL through a pidfd: the pid cannot be reused between the open and the signal. */
static int pid_kill(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* One pass: SIGKILL to every listed process but pid 1 and @self. */
static int kill_listed(const struct cgroup_dir *d, pid_t self, size_t *killed)
{
	pid_t *pids;
	size_t n, i;
	int r;

	r = container_cgroup_pids(d, &pids, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		if (pids[i] <= 1 || pids[i] == self)
			continue;
		if (pid_kill(pids[i]) == 0)
			(*killed)++;
	}
	free(pids);
	return (int)n;
}

int container_cgroup_kill(const struct cgroup_hierarchy *h, const struct cgroup_dir *d,
			  pid_t self, const char **how, size_t *killed)
{
	int r, frozen, pass;

	*killed = 0;
	*how = "cgroup.kill";
	if (h->cgroup2) {
		r = write_string_at(d->fd, "cgroup.kill", "1");
		if (r != -ENOENT)
			return r;
		/* No cgroup.kill before Linux 5.14: the way below, if the cgroup exists. */
	}
	*how = "freeze and signal";
	/*
	 * Frozen, nothing in the cgroup can fork or exit, so the listing is
	 * complete and its pids stay theirs; the kills land when it thaws.
	 */
	frozen = container_cgroup_freeze(h, d, true);
	if (frozen < 0 && frozen != -EOPNOTSUPP)
		return frozen;
	if (frozen < 0)
		*how = "signal without a freezer";
	for (pass = 0; pass < (frozen == 0 ? 1 : KILL_PASSES_UNFROZEN); pass++) {
		r = kill_listed(d, self, killed);
		if (r <= 0)
			break;
	}
	if (frozen == 0)
		container_cgroup_freeze(h, d, false);
	return r < 0 ? r : 0;
}

struct find_state {
	const char *prefix;
	size_t prefix_len;
	struct container_found *out;
	size_t max, n, visited;
};

static void found_add(struct find_state *s, const struct container_info *info, const char *path)
{
	if (strncmp(info->id, s->prefix, s->prefix_len) != 0)
		return;
	if (s->n < s->max) {
		s->out[s->n].info = *info;
		snprintf(s->out[s->n].path, sizeof(s->out[s->n].path), "%s", path);
	}
	s->n++;
}

/*
 * Walks cgroup @rel (its directory is @abs). @within is the container
 * @rel's parent belongs to (NULL: none): a cgroup of the same container is
 * not its top.
 */
static void find_walk(struct find_state *s, char *abs, size_t abs_len, size_t rel_off,
		      const struct container_info *within, int depth)
{
	struct container_info info;
	const struct container_info *here = within;
	struct dirent *de;
	DIR *d;

	if (depth > CGROUP_DEPTH_MAX || s->visited++ >= CONTAINER_SCAN_CGROUPS_MAX)
		return;
	if (abs_len > rel_off && container_from_cgroup_path(abs + rel_off, &info)) {
		if (!within || !same_container(within, &info))
			found_add(s, &info, abs + rel_off);
		here = &info;
	}
	d = opendir(abs);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (abs_len + 1 + len >= CGROUP_REL_PATH_MAX * 2)
			continue;
		abs[abs_len] = '/';
		memcpy(abs + abs_len + 1, de->d_name, len + 1);
		find_walk(s, abs, abs_len + 1 + len, rel_off, here, depth + 1);
		abs[abs_len] = '\0';
	}
	closedir(d);
}

int container_cgroup_find(const struct cgroup_hierarchy *h, const char *prefix,
			  struct container_found *out, size_t max, size_t *n)
{
	struct find_state s = { .prefix = prefix, .prefix_len = strlen(prefix), .out = out,
				.max = max };
	char *abs;
	size_t len = strlen(h->mount);

	*n = 0;
	if (!h->mount[0])
		return -EOPNOTSUPP;
	if (len >= CGROUP_REL_PATH_MAX)
		return -ENAMETOOLONG;
	abs = malloc(CGROUP_REL_PATH_MAX * 2);
	if (!abs)
		return -ENOMEM;
	memcpy(abs, h->mount, len + 1);
	/* A mount point "/" would make every relative path start after it. */
	while (len > 0 && abs[len - 1] == '/')
		abs[--len] = '\0';
	find_walk(&s, abs, len, len, NULL, 0);
	free(abs);
	*n = s.n;
	return 0;
}

bool container_of_self(struct container_info *out)
{
	char line[CGROUP_REL_PATH_MAX + 256];
	bool found = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	while (!found && f && fgets(line, sizeof(line), f))
		found = container_from_cgroup_path(line, out);
	if (f)
		fclose(f);
	return found;
}

struct paused_containers {
	struct container_found **items;	/* oldest first */
	size_t n, cap;
};

struct paused_containers *paused_containers_new(void)
{
	return calloc(1, sizeof(struct paused_containers));
}

void paused_containers_free(struct paused_containers *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->items[i]);
	free(p->items);
	free(p);
}

static ssize_t paused_index(const struct paused_containers *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->items[i]->info.id, id) == 0)
			return (ssize_t)i;
	return -1;
}

void paused_containers_remove(struct paused_containers *p, const char *id)
{
	ssize_t i = p ? paused_index(p, id) : -1;

	if (i < 0)
		return;
	free(p->items[i]);
	memmove(&p->items[i], &p->items[i + 1], (p->n - i - 1) * sizeof(*p->items));
	p->n--;
}

int paused_containers_add(struct paused_containers *p, const struct container_info *info,
			  const char *path)
{
	struct container_found *e;
	bool known = paused_index(p, info->id) >= 0;

	paused_containers_remove(p, info->id);
	if (p->n == PAUSED_CONTAINERS_MAX)
		paused_containers_remove(p, p->items[0]->info.id);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct container_found **items = realloc(p->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		p->items = items;
		p->cap = cap;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->info = *info;
	snprintf(e->path, sizeof(e->path), "%s", path);
	p->items[p->n++] = e;
	return known ? 0 : 1;
}

const struct container_found *paused_containers_find(const struct paused_containers *p,
						    const char *id)
{
	ssize_t i = p ? paused_index(p, id) : -1;

	return i >= 0 ? p->items[i] : NULL;
}

size_t paused_containers_count(const struct paused_containers *p)
{
	return p ? p->n : 0;
}

const struct container_found *paused_containers_at(const struct paused_containers *p, size_t i)
{
	return p && i < p->n ? p->items[i] : NULL;
}
