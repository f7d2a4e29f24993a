// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tracers/bashreadline/probes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracers/bashreadline/prober.h"

/* Linux 6.8: a mount namespace's 64-bit id, never reused like its inode number. */
#ifndef NS_GET_MNTNS_ID
#define NS_GET_MNTNS_ID _IOR(0xb7, 0x5, uint64_t)
#endif

enum { USERNS_DEPTH_MAX = 33 };	/* the kernel nests at most 32 */

int bash_probes_init(struct bash_probes *bp, struct loop *loop, int prog_fd,
		     const char *bash_path, uint32_t host_mntns)
{
	struct stat st;
	size_t i;

	memset(bp, 0, sizeof(*bp));
	bp->prog_fd = -1;
	bp->loop = loop;
	bp->host_mntns = host_mntns;
	for (i = 0; i < BASH_PROBES_MAX; i++)
		bp->probes[i].fd = -1;
	for (i = 0; i < BASH_PROBERS_MAX; i++)
		bp->probers[i] = (struct bash_prober){ .bp = bp, .reply.fd = -1 };
	bp->closer.exited.fd = -1;
	if (prog_fd < 0)
		return 0;
	bp->ns = calloc(BASH_PROBES_NS_MAX, sizeof(*bp->ns));
	if (!bp->ns)
		return -ENOMEM;
	if (stat(bash_path, &st) == 0) {
		bp->host_dev = st.st_dev;
		bp->host_ino = st.st_ino;
	}
	if (stat("/proc/self/ns/user", &st) == 0)
		bp->host_userns = (uint32_t)st.st_ino;
	/* Inside a container the same path is looked up from its root. */
	while (*bash_path == '/')
		bash_path++;
	snprintf(bp->bash_path, sizeof(bp->bash_path), "%s", bash_path);
	bp->prog_fd = prog_fd;
	return 0;
}

const struct bash_probe *bash_probes_find(const struct bash_probes *bp,
					  const struct bash_file_id *id)
{
	size_t i;

	for (i = 0; i < BASH_PROBES_MAX; i++) {
		const struct bash_probe *p = &bp->probes[i];

		if (p->fd >= 0 && p->id.dev == id->dev && p->id.ino == id->ino &&
		    p->id.real == id->real)
			return p;
	}
	return NULL;
}

bool bash_probes_over_quota(const struct bash_probes *bp, uint32_t owner)
{
	size_t i, mine = 0, users = 0;

	if (!owner)
		return false;
	for (i = 0; i < BASH_PROBES_MAX; i++) {
		if (bp->probes[i].fd < 0 || !bp->probes[i].owner)
			continue;
		users++;
		mine += bp->probes[i].owner == owner;
	}
	return mine >= BASH_PROBES_PER_OWNER || users >= BASH_PROBES_USERS_MAX;
}

size_t bash_probes_busy(const struct bash_probes *bp)
{
	size_t i, n = 0;

	for (i = 0; i < BASH_PROBERS_MAX; i++)
		n += bp->probers[i].busy;
	return n;
}

/* --- closing perf events, off the loop --- */

static void start_closer(struct bash_probes *bp);

static void closer_exited(struct child *c, int status)
{
	struct bash_probes *bp = c->ctx;

	(void)status;
	bp->closer_busy = false;
	start_closer(bp);
}

/*
 * Closing a uprobe's last perf event fd takes the kernel ~80 ms (and
 * several at once are no faster): a forked copy of the daemon holds the
 * fds and its exit closes them, while the daemon drops its own copies,
 * which costs nothing. One closer at a time; the rest wait in closing[].
 *
 * With @after_us, the closer first waits for the daemon to exit (the end
 * of a pipe whose other end only the daemon holds; 5 s at most, for a
 * tracer stopped while the daemon goes on): each close holds the
 * kernel's event_mutex for those ~80 ms, and the daemon's own exit, which
 * detaches its tracepoints under the same mutex, would wait behind every
 * one of them.
 */
static void start_closer_when(struct bash_probes *bp, bool after_us)
{
	int wait[2] = { -1, -1 };
	size_t i;

	if (bp->closer_busy || !bp->n_closing)
		return;
	if (after_us && pipe2(wait, O_CLOEXEC) < 0)
		wait[0] = wait[1] = -1;
	switch (child_fork(&bp->closer, bp->loop, closer_exited, bp)) {
	case 0:
		if (wait[0] >= 0 && bp->n_closing < sizeof(bp->closing) / sizeof(bp->closing[0])) {
			bp->closing[bp->n_closing] = wait[0];
			child_close_fds(bp->closing, bp->n_closing + 1);
			/* At most 5 s: a tracer stopped while the daemon runs must not keep them. */
			while (poll(&(struct pollfd){ .fd = wait[0], .events = POLLIN }, 1, 5000) < 0 &&
			       errno == EINTR)
				;
		} else {
			child_close_fds(bp->closing, bp->n_closing);
		}
		_exit(0);
	case 1:
		bp->closer_busy = true;
		break;
	default:
		break;	/* cannot fork: close them here, slowly */
	}
	for (i = 0; i < bp->n_closing; i++)
		close(bp->closing[i]);
	bp->n_closing = 0;
	/* wait[1] stays open: the daemon's exit closes it, and the closer goes on. */
	if (wait[0] >= 0)
		close(wait[0]);
}

static void start_closer(struct bash_probes *bp)
{
	start_closer_when(bp, false);
}

static void close_later(struct bash_probes *bp, int fd)
{
	if (bp->n_closing == sizeof(bp->closing) / sizeof(bp->closing[0]))
		close(fd);
	else
		bp->closing[bp->n_closing++] = fd;
}

static void release_probe(struct bash_probes *bp, struct bash_probe *p)
{
	close_later(bp, p->fd);
	p->fd = -1;
	bp->n_probes--;
	bp->stats.released++;
}

/* --- mount namespaces --- */

static struct bash_ns *ns_find(struct bash_probes *bp, const struct bash_ns *key)
{
	size_t i;

	for (i = 0; i < bp->n_ns; i++)
		if (bp->ns[i].id == key->id && bp->ns[i].root_dev == key->root_dev &&
		    bp->ns[i].root_ino == key->root_ino)
			return &bp->ns[i];
	return NULL;
}

static void ns_forget(struct bash_probes *bp, struct bash_ns *ns)
{
	if (ns->probe >= 0 && !--bp->probes[ns->probe].users)
		bp->probes[ns->probe].unused_since_ms = loop_now_ms();
	*ns = bp->ns[--bp->n_ns];
}

/*
 * Whose namespace @nsfd is: made by the system (owned by the initial user
 * namespace), or by the user who made the outermost user namespace above
 * it (nested ones made inside are still that user's).
 */
static void ns_owner(const struct bash_probes *bp, int nsfd, struct bash_ns *ns)
{
	struct stat st;
	uid_t uid = 0;
	int userns = ioctl(nsfd, NS_GET_USERNS), parent, depth;

	ns->system = false;
	ns->owner = UINT32_MAX;	/* unknown: an unprivileged owner */
	if (userns < 0)
		return;
	for (depth = 0; depth < USERNS_DEPTH_MAX; depth++) {
		if (fstat(userns, &st) < 0)
			break;
		if (st.st_ino == bp->host_userns) {
			ns->system = true;
			ns->owner = 0;
			break;
		}
		parent = ioctl(userns, NS_GET_PARENT);
		if (parent < 0)
			break;
		if (fstat(parent, &st) == 0 && st.st_ino == bp->host_userns) {
			close(parent);
			if (ioctl(userns, NS_GET_OWNER_UID, &uid) == 0)
				ns->owner = uid;
			break;
		}
		close(userns);
		userns = parent;
	}
	close(userns);
}

/*
 * The identity of @pid's root directory from what the kernel has cached
 * (a FUSE root is not asked: AT_STATX_DONT_SYNC), never by a call that
 * may wait.
 */
static int root_of(pid_t pid, uint64_t *dev, uint64_t *ino)
{
	char path[64];
	struct statx root;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO, &root) < 0)
		return -errno;
	*dev = (uint64_t)root.stx_dev_major << 32 | root.stx_dev_minor;
	*ino = root.stx_ino;
	return 0;
}

/*
 * The mount namespace and root of @pid: 0 with @ns filled in, 1 for the
 * host's own namespace (never probed here), or -errno. Only procfs and
 * nsfs are touched.
 */
static int ns_of(const struct bash_probes *bp, pid_t pid, struct bash_ns *ns)
{
	char path[64];
	struct stat st;
	uint64_t id, root_dev, root_ino;
	int fd;

	if (root_of(pid, &root_dev, &root_ino) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_ino == bp->host_mntns) {
		close(fd);
		return 1;
	}
	*ns = (struct bash_ns){ .ino = (uint32_t)st.st_ino, .probe = -1, .root_fd = -1,
				.mountinfo_fd = -1, .state = BASH_NS_QUEUED, .seen_gen = bp->gen,
				.root_dev = root_dev, .root_ino = root_ino };
	ns->id = ioctl(fd, NS_GET_MNTNS_ID, &id) == 0 ? id : st.st_ino;
	ns_owner(bp, fd, ns);
	close(fd);
	return 0;
}

/*
 * Holds on to @pid's root and mount table for the prober. Opening either
 * touches procfs only: the root's O_PATH open jumps through the magic link
 * without asking the file system, and mountinfo takes its references at
 * open. 0 or -errno.
 */
static int ns_hold(struct bash_ns *ns, pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	ns->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	ns->mountinfo_fd = ns->root_fd < 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (ns->mountinfo_fd >= 0)
		return 0;
	if (ns->root_fd >= 0)
		close(ns->root_fd);
	ns->root_fd = -1;
	return -ESRCH;
}

static void ns_let_go(struct bash_ns *ns)
{
	if (ns->root_fd >= 0)
		close(ns->root_fd);
	if (ns->mountinfo_fd >= 0)
		close(ns->mountinfo_fd);
	ns->root_fd = ns->mountinfo_fd = -1;
}

/* Nothing more to do for @ns until its processes are gone. */
static void ns_done(struct bash_ns *ns)
{
	ns->state = BASH_NS_DONE;
	ns_let_go(ns);
}

/*
 * Whether this scan already found a process in the namespace with inode
 * @ino and this root: then it is the same namespace (its inode number
 * cannot be reused while it has processes), and no nsfs call is needed.
 */
static bool seen_this_scan(struct bash_probes *bp, uint64_t ino, uint64_t root_dev,
			   uint64_t root_ino)
{
	bool seen = false;
	size_t i;

	for (i = 0; i < bp->n_ns && !seen; i++)
		seen = bp->ns[i].seen_gen == bp->gen && bp->ns[i].ino == ino &&
		       bp->ns[i].root_dev == root_dev && bp->ns[i].root_ino == root_ino;
	/*
	 * Every entry of that namespace and root is alive: one learned from an
	 * exec may stand beside one the scan made, and neither may be let go
	 * while the namespace has processes.
	 */
	for (i = 0; seen && i < bp->n_ns; i++)
		if (bp->ns[i].ino == ino && bp->ns[i].root_dev == root_dev &&
		    bp->ns[i].root_ino == root_ino)
			bp->ns[i].seen_gen = bp->gen;
	return seen;
}

/* --- probers --- */

static void run_queue(struct bash_probes *bp);

static void prober_done(struct bash_prober *pr)
{
	struct bash_probes *bp = pr->bp;
	struct bash_ns *ns;

	if (pr->reply.fd >= 0) {
		loop_remove(bp->loop, &pr->reply);
		close(pr->reply.fd);
		pr->reply.fd = -1;
	}
	/* Replied and queued again, or done: only a prober that did neither leaves it probing. */
	ns = ns_find(bp, &pr->ns);
	if (ns && ns->state == BASH_NS_PROBING)
		ns_done(ns);
}

/* Takes a prober's reply into the table. */
static void apply_reply(struct bash_probes *bp, struct bash_ns *ns,
			const struct bash_prober_reply *reply, int pfd)
{
	const struct bash_probe *found = bash_probes_find(bp, &reply->id);
	size_t i;

	if (!reply->err && reply->shared && !found &&
	    (reply->id.dev != bp->host_dev || reply->id.ino != bp->host_ino)) {
		/* Released since the fork: probe it again (the fds are still held). */
		ns->state = BASH_NS_QUEUED;
		return;
	}
	ns_done(ns);
	if (reply->err == -EDQUOT)
		bp->stats.refused++;
	else if (reply->err == -ENOENT || reply->err == -ESRCH)
		;	/* no bash there, or the namespace went: nothing to probe */
	else if (reply->err < 0)
		bp->stats.failures++;
	if (reply->err < 0)
		return;
	if (reply->id.dev == bp->host_dev && reply->id.ino == bp->host_ino)
		return;		/* the host's bash, probed at load */
	if (found) {
		/* Attached twice (two probers at once): one is enough. */
		if (pfd >= 0)
			close_later(bp, pfd);
		ns->probe = (int)(found - bp->probes);
		bp->probes[ns->probe].users++;
		bp->probes[ns->probe].unused_since_ms = 0;
		return;
	}
	for (i = 0; i < BASH_PROBES_MAX && bp->probes[i].fd >= 0; i++)
		;
	if (i == BASH_PROBES_MAX ||
	    bash_probes_over_quota(bp, ns->owner)) {
		close_later(bp, pfd);
		if (i == BASH_PROBES_MAX)
			bp->stats.dropped++;
		else
			bp->stats.refused++;
		return;
	}
	bp->probes[i] = (struct bash_probe){ .id = reply->id, .fd = pfd, .owner = ns->owner,
					     .users = 1 };
	ns->probe = (int)i;
	bp->n_probes++;
	bp->stats.attached_total++;
}

static void on_reply(struct loop_watch *w, uint32_t events)
{
	struct bash_prober *pr = w->ctx;
	struct bash_probes *bp = pr->bp;
	struct bash_prober_reply reply;
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	struct bash_ns *ns;
	int pfd = -1, fds[4], n_fds = 0, i;
	ssize_t n;

	(void)events;
	n = recvmsg(w->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EAGAIN)
		return;
	for (cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			n_fds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(cm), (size_t)n_fds * sizeof(int));
		}
	/* One fd with an attached reply, none otherwise: anything else is not taken. */
	if (n_fds == 1 && n == (ssize_t)sizeof(reply) && !reply.err && !reply.shared)
		pfd = fds[0];
	else
		for (i = 0; i < n_fds; i++)
			close_later(bp, fds[i]);
	ns = ns_find(bp, &pr->ns);
	if (n == (ssize_t)sizeof(reply) && ns && ns->state == BASH_NS_PROBING) {
		pr->replied = true;
		apply_reply(bp, ns, &reply, pfd);
	} else if (pfd >= 0) {
		close_later(bp, pfd);
	}
	prober_done(pr);
	start_closer(bp);
}

static void prober_exited(struct child *c, int status)
{
	struct bash_prober *pr = c->ctx;
	struct bash_probes *bp = pr->bp;

	(void)status;
	/* The exit may be dispatched before the reply it sent: take that first. */
	if (pr->reply.fd >= 0)
		on_reply(&pr->reply, EPOLLIN);
	if (!pr->replied) {
		bp->stats.failures++;
		bp->stats.timeouts += pr->timed_out;
	}
	prober_done(pr);
	pr->busy = false;
	run_queue(bp);
}

static int start_prober(struct bash_probes *bp, struct bash_prober *pr, struct bash_ns *ns)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	ns->state = BASH_NS_PROBING;
	r = child_fork(&pr->child, bp->loop, prober_exited, pr);
	if (r == 0) {
		child_close_fds((const int[]){ sv[1], bp->prog_fd, ns->root_fd, ns->mountinfo_fd },
				4);
		bash_prober_run(bp, ns, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		ns_done(ns);
		return r;
	}
	*pr = (struct bash_prober){ .bp = bp, .child = pr->child, .ns = *ns, .busy = true,
				    .deadline_ms = loop_now_ms() + BASH_PROBER_MS };
	pr->reply = (struct loop_watch){ .fd = sv[0], .fn = on_reply, .ctx = pr };
	r = loop_add(bp->loop, &pr->reply, EPOLLIN);
	if (r < 0) {
		close(sv[0]);
		pr->reply.fd = -1;
		child_kill(&pr->child);
	}
	return 0;
}

/* The next namespace to probe: the system's containers before users' namespaces. */
static struct bash_ns *next_queued(struct bash_probes *bp)
{
	struct bash_ns *first = NULL;
	size_t i;

	for (i = 0; i < bp->n_ns; i++) {
		if (bp->ns[i].state != BASH_NS_QUEUED)
			continue;
		if (!bp->ns[i].owner)
			return &bp->ns[i];
		if (!first)
			first = &bp->ns[i];
	}
	return first;
}

static void run_queue(struct bash_probes *bp)
{
	struct bash_ns *ns;
	size_t i;

	for (i = 0; i < BASH_PROBERS_MAX; i++) {
		if (bp->probers[i].busy)
			continue;
		ns = next_queued(bp);
		if (!ns)
			return;
		if (start_prober(bp, &bp->probers[i], ns) < 0)
			bp->stats.failures++;
	}
}

int bash_probes_timers(struct bash_probes *bp, int64_t now_ms)
{
	int64_t next = -1;
	size_t i;

	for (i = 0; i < BASH_PROBERS_MAX; i++) {
		struct bash_prober *pr = &bp->probers[i];

		if (!pr->busy || pr->timed_out)
			continue;
		if (now_ms >= pr->deadline_ms) {
			/* Its exit, once the kernel lets it go, frees the slot. */
			child_kill(&pr->child);
			pr->timed_out = true;
			prober_done(pr);
		} else if (next < 0 || pr->deadline_ms - now_ms < next) {
			next = pr->deadline_ms - now_ms;
		}
	}
	return (int)next;
}

/*
 * Records and queues @ns (filled in by ns_of) unless the table, or an
 * unprivileged owner's share of it or of the queue, is full.
 */
static int enqueue(struct bash_probes *bp, struct bash_ns *ns, pid_t pid)
{
	size_t i, queued = 0, all_queued = 0, mine = 0, users = 0;
	int r;

	for (i = 0; i < bp->n_ns; i++) {
		bool waiting = bp->ns[i].state == BASH_NS_QUEUED;

		all_queued += waiting;
		users += bp->ns[i].owner != 0;
		if (!ns->owner || bp->ns[i].owner != ns->owner)
			continue;
		mine++;
		queued += waiting;
	}
	if (bp->n_ns == BASH_PROBES_NS_MAX || all_queued >= BASH_QUEUE_MAX ||
	    (ns->owner && (queued >= BASH_QUEUE_PER_OWNER || mine >= BASH_NS_PER_OWNER ||
			   users >= BASH_PROBES_NS_MAX / 2))) {
		/* Not remembered: the next scan that finds it running tries again. */
		bp->stats.dropped++;
		return -ENOSPC;
	}
	r = ns_hold(ns, pid);
	if (r < 0)
		return r;	/* gone already */
	bp->ns[bp->n_ns++] = *ns;
	run_queue(bp);
	return 1;
}

int bash_probes_pid(struct bash_probes *bp, pid_t pid)
{
	struct bash_ns ns;
	int r;

	if (bp->prog_fd < 0 || !bp->bash_path[0])
		return 0;
	r = ns_of(bp, pid, &ns);
	if (r)
		return r < 0 ? r : 0;
	if (ns_find(bp, &ns))
		return 0;
	return enqueue(bp, &ns, pid);
}

void bash_probes_scan(struct bash_probes *bp)
{
	int64_t now = loop_now_ms();
	struct dirent *de;
	struct bash_ns ns, *known;
	uint64_t root_dev, root_ino;
	char path[64];
	struct stat st;
	size_t i;
	DIR *proc;

	if (bp->prog_fd < 0)
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	bp->gen++;
	while ((de = readdir(proc))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);

		if (pid <= 0)
			continue;
		/* Most processes are the host's: a stat tells, before opening anything. */
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
		if (stat(path, &st) < 0 || st.st_ino == bp->host_mntns ||
		    root_of(pid, &root_dev, &root_ino) < 0 ||
		    seen_this_scan(bp, st.st_ino, root_dev, root_ino) || ns_of(bp, pid, &ns))
			continue;
		known = ns_find(bp, &ns);
		if (known) {
			known->seen_gen = bp->gen;
			seen_this_scan(bp, st.st_ino, root_dev, root_ino);
		} else {
			enqueue(bp, &ns, pid);
		}
	}
	closedir(proc);
	/* Namespaces with no process left let go of their probes. */
	for (i = bp->n_ns; i-- > 0;)
		if (bp->ns[i].state == BASH_NS_DONE && bp->ns[i].seen_gen != bp->gen)
			ns_forget(bp, &bp->ns[i]);
	/*
	 * A probe of the real file waits a little (the next container of its
	 * image likely comes soon); one of a file as one mount showed it goes
	 * now, as its mount may be gone and its device number reused.
	 */
	for (i = 0; i < BASH_PROBES_MAX; i++) {
		struct bash_probe *p = &bp->probes[i];

		if (p->fd >= 0 && !p->users &&
		    (!p->id.real || now - p->unused_since_ms >= BASH_RELEASE_MS))
			release_probe(bp, p);
	}
	start_closer(bp);
}

void bash_probes_release(struct bash_probes *bp)
{
	size_t i;

	if (!bp->loop)
		return;	/* never initialised */

	for (i = 0; i < BASH_PROBERS_MAX; i++) {
		struct bash_prober *pr = &bp->probers[i];

		if (!pr->busy)
			continue;
		prober_done(pr);
		child_kill(&pr->child);
		child_detach(&pr->child);
		pr->busy = false;
	}
	for (i = 0; i < BASH_PROBES_MAX; i++)
		if (bp->probes[i].fd >= 0)
			release_probe(bp, &bp->probes[i]);
	/* The closer still running and the last one outlive the daemon: never waited for. */
	if (bp->closer_busy)
		child_detach(&bp->closer);
	bp->closer_busy = false;
	start_closer_when(bp, true);
	if (bp->closer_busy)
		child_detach(&bp->closer);
	bp->closer_busy = false;
	for (i = 0; i < bp->n_ns; i++)
		ns_let_go(&bp->ns[i]);
	free(bp->ns);
	bp->ns = NULL;
	bp->n_ns = 0;
	bp->prog_fd = -1;
}
