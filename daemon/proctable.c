// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon/proctable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracers/common/path.h"
#include "tracers/common/record.h"

_Static_assert((int)CONFIG_ANCESTORS_MAX == (int)EVENT_ANCESTORS_MAX,
	       "the config accepts as many ancestors as an event holds");

/*
 * Every table's state gets a version of its own, never reused (events key
 * their JSON's process part by it, event.h process_version): one counter
 * for all tables, bumped by every change.
 */
static uint64_t proc_table_versions;

static void changed(struct proc_table *t)
{
	t->version = ++proc_table_versions;
}

static size_t bucket_of(const struct proc_table *t, uint32_t pid)
{
	/* Fibonacci hashing: pids come in runs. */
	return (size_t)((pid * 2654435769u) >> 7) & (t->n_buckets - 1);
}

int proc_table_init(struct proc_table *t, size_t capacity)
{
	long hz = sysconf(_SC_CLK_TCK);

	memset(t, 0, sizeof(*t));
	if (!capacity)
		capacity = PROC_TABLE_CAPACITY;
	if (capacity > PROC_TABLE_CAPACITY_MAX)
		capacity = PROC_TABLE_CAPACITY_MAX;
	t->capacity = capacity;
	t->n_buckets = 64;
	while (t->n_buckets < capacity)
		t->n_buckets <<= 1;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->bytes = t->n_buckets * sizeof(*t->buckets);
	t->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	changed(t);
	return 0;
}

static void image_put(struct proc_table *t, struct proc_image *img)
{
	if (!img || --img->refs)
		return;
	t->bytes -= sizeof(*img) + img->exe_len + img->argv_len + 2;
	t->images--;
	free(img);
}

void proc_table_release(struct proc_table *t)
{
	struct proc_entry *e, *next;
	size_t b;

	for (b = 0; t->buckets && b < t->n_buckets; b++) {
		for (e = t->buckets[b]; e; e = next) {
			next = e->hnext;
			image_put(t, e->image);
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->n = 0;
}

/*
 * A new image: @exe and @argv (NUL-separated, as the argument area holds
 * them) cut to their limits; the NULs between arguments become spaces.
 */
static struct proc_image *image_new(struct proc_table *t, const char *exe, size_t exe_len,
				    const char *argv, size_t argv_len)
{
	struct proc_image *img;
	size_t i;

	exe_len = exe ? strnlen(exe, exe_len < PROC_EXE_MAX ? exe_len : PROC_EXE_MAX) : 0;
	if (argv_len > PROC_ARGV_MAX)
		argv_len = PROC_ARGV_MAX;
	/* The area ends with the last argument's NUL: not a separator. */
	while (argv_len && argv[argv_len - 1] == '\0')
		argv_len--;
	img = malloc(sizeof(*img) + exe_len + argv_len + 2);
	if (!img)
		return NULL;
	img->refs = 1;
	img->exe_len = exe_len;
	img->argv_len = argv_len;
	if (exe_len)
		memcpy(img->data, exe, exe_len);
	img->data[exe_len] = '\0';
	for (i = 0; i < argv_len; i++)
		img->data[exe_len + 1 + i] = argv[i] ? argv[i] : ' ';
	img->data[exe_len + 1 + argv_len] = '\0';
	t->bytes += sizeof(*img) + exe_len + argv_len + 2;
	t->images++;
	return img;
}

static struct proc_entry *find_ticks(const struct proc_table *t, uint32_t pid, uint64_t start)
{
	struct proc_entry *e;

	for (e = t->buckets[bucket_of(t, pid)]; e; e = e->hnext)
		if (e->pid == pid && e->start == start)
			return e;
	return NULL;
}

/* The live process with @pid, whatever its start: for a parent whose start is not known. */
static struct proc_entry *find_live(const struct proc_table *t, uint32_t pid)
{
	struct proc_entry *e;

	for (e = t->buckets[bucket_of(t, pid)]; e; e = e->hnext)
		if (e->pid == pid && !e->exited)
			return e;
	return NULL;
}

struct proc_entry *proc_table_find(const struct proc_table *t, uint32_t pid, uint64_t start_ns)
{
	return t->buckets ? find_ticks(t, pid, start_ns / t->tick_ns) : NULL;
}

static void lru_unlink(struct proc_table *t, struct proc_entry *e)
{
	if (!e->in_lru)
		return;
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
	e->in_lru = false;
	t->kept--;
}

static void lru_append(struct proc_table *t, struct proc_entry *e)
{
	e->lru_prev = t->lru_tail;
	e->lru_next = NULL;
	if (t->lru_tail)
		t->lru_tail->lru_next = e;
	else
		t->lru_head = e;
	t->lru_tail = e;
	e->in_lru = true;
	t->kept++;
}

static void unhash(struct proc_table *t, struct proc_entry *e)
{
	struct proc_entry **pp = &t->buckets[bucket_of(t, e->pid)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
}

/*
 * Frees @e, then each ancestor that only it kept: an exited parent whose
 * last descendant entry this was. Iterative: a chain can be long.
 */
static void entry_free(struct proc_table *t, struct proc_entry *e)
{
	struct proc_entry *parent;

	while (e) {
		parent = e->ppid ? find_ticks(t, e->ppid, e->parent_start) : NULL;
		lru_unlink(t, e);
		unhash(t, e);
		image_put(t, e->image);
		free(e);
		t->n--;
		t->bytes -= sizeof(*e);
		e = NULL;
		/* A parent evicted and seen again later may count fewer: never below 0. */
		if (parent && parent->children && !--parent->children && parent->exited)
			e = parent;
	}
}

/*
 * A new entry for (@pid, @start): linked to its parent's entry when that
 * is known. NULL when the table is full of live processes, or on ENOMEM.
 */
static struct proc_entry *entry_new(struct proc_table *t, uint32_t pid, uint64_t start,
				    uint32_t ppid, uint64_t parent_start)
{
	struct proc_entry *e, *parent;
	size_t b;

	if (t->n >= t->capacity) {
		if (!t->lru_head) {
			t->dropped++;
			return NULL;
		}
		/* The oldest exit whose descendants live: they lose this part of their chain. */
		e = t->lru_head;
		t->evicted++;
		e->children = 0;
		entry_free(t, e);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	e->start = start;
	e->ppid = ppid;
	e->parent_start = parent_start;
	parent = ppid ? find_ticks(t, ppid, parent_start) : NULL;
	if (parent)
		parent->children++;
	b = bucket_of(t, pid);
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	t->n++;
	t->bytes += sizeof(*e);
	return e;
}

static void entry_set_comm(struct proc_entry *e, const char *comm)
{
	size_t n = strnlen(comm, EVENT_COMM_LEN);

	memcpy(e->comm, comm, n);
	e->comm[n] = '\0';
}

static int handle_fork(struct proc_table *t, const struct bpfd_proc_record *r)
{
	uint64_t start = r->child_start_ns / t->tick_ns;
	uint64_t pstart = r->hdr.start_ns / t->tick_ns;
	struct proc_entry *parent, *e;

	t->forks++;
	if (!r->child || find_ticks(t, r->child, start))
		return 0;
	e = entry_new(t, r->child, start, r->hdr.pid, pstart);
	if (!e)
		return t->n >= t->capacity ? 0 : -ENOMEM;
	entry_set_comm(e, r->hdr.comm);
	/* A fork runs its parent's program until it execs. */
	parent = find_ticks(t, r->hdr.pid, pstart);
	if (parent && parent->image) {
		e->image = parent->image;
		e->image->refs++;
	}
	return 0;
}

static int handle_exec(struct proc_table *t, const struct bpfd_proc_record *r, size_t size)
{
	size_t head = offsetof(struct bpfd_proc_record, buf);
	uint64_t start = r->hdr.start_ns / t->tick_ns;
	struct proc_image *img;
	struct proc_entry *e;
	const char *exe = r->buf;

	if (size < head || r->exe_len > BPFD_PATH_MAX || r->argv_len > BPFD_PROC_ARGV_MAX ||
	    head + r->exe_len + r->argv_len > size) {
		t->bad_records++;
		return -EINVAL;
	}
	t->execs++;
	e = find_ticks(t, r->hdr.pid, start);
	if (!e) {
		/* Its fork was not recorded (lost, or before the table): from the exec's own word. */
		e = entry_new(t, r->hdr.pid, start, r->hdr.ppid, r->parent_start_ns / t->tick_ns);
		if (!e)
			return t->n >= t->capacity ? 0 : -ENOMEM;
	}
	entry_set_comm(e, r->hdr.comm);
	img = image_new(t, exe, r->exe_len, r->buf + r->exe_len, r->argv_len);
	if (!img)
		return -ENOMEM;
	image_put(t, e->image);
	e->image = img;
	return 0;
}

static void handle_exit(struct proc_table *t, const struct bpfd_record *r)
{
	struct proc_entry *e = find_ticks(t, r->pid, r->start_ns / t->tick_ns);

	t->exits++;
	if (!e || e->exited)
		return;
	e->exited = true;
	if (!e->children)
		entry_free(t, e);
	else
		lru_append(t, e);
}

int proc_table_handle(struct proc_table *t, const void *rec, size_t size)
{
	const struct bpfd_record *h = rec;

	changed(t);
	if (size < sizeof(*h)) {
		t->bad_records++;
		return -EINVAL;
	}
	switch (h->type) {
	case BPFD_RECORD_PROC_FORK:
		if (size < offsetof(struct bpfd_proc_record, buf))
			break;
		return handle_fork(t, rec);
	case BPFD_RECORD_PROC_EXEC:
		return handle_exec(t, rec, size);
	case BPFD_RECORD_PROC_EXIT:
		handle_exit(t, h);
		return 0;
	}
	t->bad_records++;
	return -EINVAL;
}

int proc_table_seed(struct proc_table *t, uint32_t pid, uint64_t start_ticks, uint32_t ppid,
		    uint64_t parent_ticks, const char *comm, const char *exe, size_t exe_len,
		    const char *argv, size_t argv_len)
{
	struct proc_entry *e;

	changed(t);
	if (find_ticks(t, pid, start_ticks))
		return 0;
	e = entry_new(t, pid, start_ticks, ppid, parent_ticks);
	if (!e)
		return t->n >= t->capacity ? -ENOSPC : -ENOMEM;
	entry_set_comm(e, comm);
	if (exe_len || argv_len) {
		e->image = image_new(t, exe, exe_len, argv, argv_len);
		if (!e->image)
			return -ENOMEM;
	}
	t->seeded++;
	return 0;
}

/* ---- Seeding from /proc ---- */

struct seed_proc {
	uint32_t pid, ppid;
	uint64_t start;
};

/*
 * /proc/PID/stat: the comm in parentheses may hold anything, ')' too, so
 * the fields are read after the last ')'. Fields 4 (ppid) and 22 (start).
 */
static int read_stat(int dir, struct seed_proc *p, char comm[EVENT_COMM_LEN + 1])
{
	char buf[1024], *lp, *rp, *s;
	unsigned long long start;
	unsigned int ppid;
	ssize_t n;
	size_t len;
	int fd, i;

	fd = openat(dir, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -EINVAL;
	len = rp - lp - 1;
	if (len > EVENT_COMM_LEN)
		len = EVENT_COMM_LEN;
	memcpy(comm, lp + 1, len);
	comm[len] = '\0';
	/* After ") ": state(3) ppid(4) ... starttime(22). */
	s = rp + 2;
	if (sscanf(s, "%*c %u", &ppid) != 1)
		return -EINVAL;
	for (i = 3; i < 22 && s; i++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	if (!s || sscanf(s, "%llu", &start) != 1)
		return -EINVAL;
	p->ppid = ppid;
	p->start = start;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct seed_proc *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The start of the process @pid among @procs (sorted by pid), or 0. */
static uint64_t start_of(const struct seed_proc *by_pid, size_t n, uint32_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (by_pid[mid].pid == pid)
			return by_pid[mid].start;
		if (by_pid[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct seed_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int proc_table_seed_proc(struct proc_table *t, const char *proc_dir)
{
	struct seed_proc *procs = NULL, *by_pid = NULL, *grown;
	size_t n = 0, cap = 0, i, seeded = 0;
	char comm[EVENT_COMM_LEN + 1], exe[PROC_EXE_MAX], argv[PROC_ARGV_MAX], name[32];
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(proc_dir);
	if (!d)
		return -errno;
	/* First every process's pid, parent and start: a parent's start names it. */
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		int dir;

		if (*end || !pid || pid > UINT32_MAX)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			grown = realloc(procs, cap * sizeof(*procs));
			if (!grown) {
				r = -ENOMEM;
				break;
			}
			procs = grown;
		}
		dir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		procs[n].pid = pid;
		if (read_stat(dir, &procs[n], comm) == 0)
			n++;
		close(dir);
	}
	closedir(d);
	if (!r && n) {
		by_pid = malloc(n * sizeof(*by_pid));
		if (!by_pid)
			r = -ENOMEM;
	}
	if (r) {
		free(procs);
		return r;
	}
	memcpy(by_pid, procs, n * sizeof(*by_pid));
	qsort(by_pid, n, sizeof(*by_pid), cmp_pid);
	/* Parents before children, so that each child is counted in its parent's entry. */
	qsort(procs, n, sizeof(*procs), cmp_start);
	for (i = 0; i < n; i++) {
		struct seed_proc p;
		ssize_t exe_len, argv_len = 0;
		int dir, fd;

		snprintf(name, sizeof(name), "%s/%u", proc_dir, procs[i].pid);
		dir = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		/* Read again: the pid may have been reused since the first pass. */
		if (read_stat(dir, &p, comm) < 0 || p.start != procs[i].start) {
			close(dir);
			continue;
		}
		exe_len = readlinkat(dir, "exe", exe, sizeof(exe));
		if (exe_len < 0 || (size_t)exe_len >= sizeof(exe))
			exe_len = 0;
		fd = openat(dir, "cmdline", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			argv_len = read(fd, argv, sizeof(argv));
			close(fd);
		}
		close(dir);
		if (argv_len < 0)
			argv_len = 0;
		r = proc_table_seed(t, procs[i].pid, procs[i].start, p.ppid,
				    start_of(by_pid, n, p.ppid), comm, exe, exe_len, argv, argv_len);
		if (r == -ENOMEM)
			break;
		seeded += r == 0;
		r = 0;
	}
	free(procs);
	free(by_pid);
	return r ? r : (int)seeded;
}

/* ---- Events ---- */

static void set_process(struct event_process *p, const struct proc_entry *e)
{
	p->pid = e->pid;
	p->command = e->comm;
	p->command_len = strlen(e->comm);
	p->exe = e->image && e->image->exe_len ? e->image->data : NULL;
	p->exe_len = e->image ? e->image->exe_len : 0;
	p->argv = e->image ? e->image->data + e->image->exe_len + 1 : NULL;
	p->argv_len = e->image ? e->image->argv_len : 0;
}

/* The last event's result, when @ev names the same process in the same state of the table. */
static bool enrich_from_last(const struct proc_table *t, struct event *ev, size_t depth)
{
	const struct proc_enrich_run *l = &t->last;

	if (!l->version || l->version != t->version || l->pid != ev->pid ||
	    l->start_ns != ev->start_ns || l->depth != depth)
		return false;
	ev->process_version = l->version;
	ev->exe = l->exe;
	ev->exe_len = l->exe_len;
	ev->n_ancestors = l->n_ancestors;
	memcpy(ev->ancestors, l->ancestors, l->n_ancestors * sizeof(l->ancestors[0]));
	return true;
}

static void enrich_keep(struct proc_table *t, const struct event *ev, size_t depth)
{
	struct proc_enrich_run *l = &t->last;

	l->version = ev->process_version;
	l->pid = ev->pid;
	l->start_ns = ev->start_ns;
	l->depth = depth;
	l->exe = ev->exe;
	l->exe_len = ev->exe_len;
	l->n_ancestors = ev->n_ancestors;
	memcpy(l->ancestors, ev->ancestors, ev->n_ancestors * sizeof(l->ancestors[0]));
}

void proc_table_enrich(struct proc_table *t, struct event *ev, size_t depth)
{
	struct proc_entry *e, *parent;
	size_t n = 0;

	ev->has_process = true;
	if (depth > EVENT_ANCESTORS_MAX)
		depth = EVENT_ANCESTORS_MAX;
	if (enrich_from_last(t, ev, depth))
		return;
	e = proc_table_find(t, ev->pid, ev->start_ns);
	/* Known: what follows depends on the table, the pid and the start time only. */
	ev->process_version = e ? t->version : 0;
	if (!e) {
		t->unknown++;
		/* Not recorded (the table was full): its live parent, by pid, is still worth naming. */
		parent = ev->ppid ? find_live(t, ev->ppid) : NULL;
	} else {
		if (e->image && e->image->exe_len) {
			ev->exe = e->image->data;
			ev->exe_len = e->image->exe_len;
		}
		parent = e->ppid ? find_ticks(t, e->ppid, e->parent_start) : NULL;
	}
	while (parent && n < depth) {
		set_process(&ev->ancestors[n++], parent);
		/* pid 0 has no entry; a loop in a corrupt table ends at the depth. */
		parent = parent->ppid ? find_ticks(t, parent->ppid, parent->parent_start) : NULL;
	}
	ev->n_ancestors = n;
	/* An unknown process is counted at each of its events: not kept. */
	t->last.version = 0;
	if (e)
		enrich_keep(t, ev, depth);
}
