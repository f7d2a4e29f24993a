#!/usr/bin/env python3
"""Connections through io_uring (IORING_OP_CONNECT, IORING_OP_ACCEPT), on
loopback only, from a program of the test's own that makes the io_uring
system calls itself, as an unprivileged user (setpriv): tcpconnect and
tcpaccept report them with the submitter's pid, thread and command (also
when IOSQE_ASYNC makes an iou-wrk worker run them), data.syscall says
io_uring; a refused io_uring connect is reported refused. One program per
io_uring tracepoint serves the open, tcpconnect and tcpaccept tracers
(the daemon's BPF links say where each is attached), and status says io_uring is
seen; a daemon without such a tracer attaches none and says why."""
import errno
import os
import shutil
import socket
import subprocess
import sys
import tempfile

from bpfdtest import Daemon, Trace, held_links, require_root, run_tests, unique

D = None
T = None
WORK = None
HELPER = None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

# pair ASYNC: a listener on 127.0.0.1, an io_uring ACCEPT on it and an
# io_uring CONNECT to it, submitted together; prints the listening port,
# the connecting socket's port and both results. refused PORT: an io_uring
# CONNECT to a closed port; prints its result.
HELPER_SOURCE = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct io_uring_params p;
static struct io_uring_sqe *sqes;
static char *sq, *cq;
static int ring;

static void ring_setup(void)
{
	ring = syscall(__NR_io_uring_setup, 8, &p);
	if (ring < 0)
		exit(100);
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED, ring,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE, MAP_SHARED, ring,
		    IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		exit(101);
}

/* Queues sqe @i (filled by the caller) as the next entry. */
static void ring_queue(unsigned i)
{
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
	unsigned *array = (unsigned *)(sq + p.sq_off.array);
	unsigned t = *tail;

	array[t & (p.sq_entries - 1)] = i;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
}

/* Submits @n, waits for @n completions; their results by user_data in @res. */
static void ring_run(unsigned n, int *res)
{
	unsigned *head = (unsigned *)(cq + p.cq_off.head), *tail = (unsigned *)(cq + p.cq_off.tail);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	unsigned got = 0;

	if (syscall(__NR_io_uring_enter, ring, n, n, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		exit(102);
	while (got < n) {
		while (*head == __atomic_load_n(tail, __ATOMIC_ACQUIRE))
			if (syscall(__NR_io_uring_enter, ring, 0, 1, IORING_ENTER_GETEVENTS, NULL,
				    0) < 0)
				exit(103);
		res[cqes[*head & (p.cq_entries - 1)].user_data] = cqes[*head & (p.cq_entries - 1)].res;
		__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
		got++;
	}
}

static void prep_connect(struct io_uring_sqe *sqe, int fd, struct sockaddr_in *to, int async)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_CONNECT;
	sqe->fd = fd;
	sqe->addr = (unsigned long)to;
	sqe->off = sizeof(*to);
	sqe->flags = async ? IOSQE_ASYNC : 0;
	sqe->user_data = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int res[2] = { -1000, -1000 }, lfd, cfd, async;

	if (argc != 3)
		return 2;
	ring_setup();
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(argv[1], "stale") == 0) {
		/*
		 * An io_uring connect that fails before SYN_SENT (an IPv6
		 * address on an IPv4 socket: EAFNOSUPPORT), then connect(2) on
		 * the same socket: the second is no io_uring connect.
		 */
		struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_port = htons(1) };

		six.sin6_addr.s6_addr[15] = 1;
		memset(&sqes[1], 0, sizeof(sqes[1]));
		sqes[1].opcode = IORING_OP_CONNECT;
		sqes[1].fd = cfd;
		sqes[1].addr = (unsigned long)&six;
		sqes[1].off = sizeof(six);
		sqes[1].user_data = 1;
		ring_queue(1);
		ring_run(1, res);
		a.sin_port = htons(atoi(argv[2]));
		printf("%d %d\n", res[1], connect(cfd, (struct sockaddr *)&a, sizeof(a)));
		return 0;
	}
	if (strcmp(argv[1], "refused") == 0) {
		a.sin_port = htons(atoi(argv[2]));
		prep_connect(&sqes[1], cfd, &a, 0);
		ring_queue(1);
		ring_run(1, res);
		printf("%d\n", res[1]);
		return 0;
	}
	async = atoi(argv[2]);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		return 3;
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_ACCEPT;
	sqes[0].fd = lfd;
	sqes[0].flags = async ? IOSQE_ASYNC : 0;
	sqes[0].user_data = 0;
	prep_connect(&sqes[1], cfd, &a, async);
	ring_queue(0);
	ring_queue(1);
	ring_run(2, res);
	len = sizeof(a);
	{
		struct sockaddr_in c;
		socklen_t clen = sizeof(c);

		getsockname(cfd, (struct sockaddr *)&c, &clen);
		printf("%d %d %d %d\n", ntohs(a.sin_port), ntohs(c.sin_port), res[0], res[1]);
	}
	return 0;
}
"""


def run(argv):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    assert p.returncode == 0, "%s failed (%d): %s %s" % (argv, p.returncode, out, err)
    return p.pid, out.split()


def of(tracer, pid, **data):
    def pred(e):
        return (e["tracer"] == tracer and e["pid"] == pid and
                all(str(e["data"].get(k)) == str(v) for k, v in data.items()))
    return pred


def submitter(ev, pid):
    """The event is the submitting thread's, never an iou-wrk worker's."""
    assert ev["tid"] == pid and ev["uid"] == 65534, ev
    assert ev["command"] == os.path.basename(HELPER)[:15], ev
    assert ev["data"]["command"] == ev["command"], ev


def pair(async_):
    pid, out = run(NOBODY + [HELPER, "pair", str(async_)])
    port, cport, acc, con = (int(x) for x in out)
    assert acc >= 0 and con == 0, out
    ev = T.wait_for(of("tcpconnect", pid, dport=port, sport=cport), what="io_uring connect")
    assert ev["data"]["syscall"] == "io_uring_connect", ev
    assert ev["data"]["outcome"] == "established" and ev["returnval"] == 0, ev
    assert ev["data"]["daddr"] == "127.0.0.1", ev
    submitter(ev, pid)
    ev = T.wait_for(of("tcpaccept", pid, event="accept", sport=port, dport=cport),
                    what="io_uring accept")
    assert ev["data"]["syscall"] == "io_uring_accept" and ev["returnval"] == acc, ev
    submitter(ev, pid)
    # listen(2) was a system call.
    ev = T.wait_for(of("tcpaccept", pid, event="listen", sport=port), what="listen")
    assert ev["data"]["syscall"] == "listen", ev


def test_connect_and_accept_inline():
    pair(0)


def test_connect_and_accept_in_io_wq_workers():
    """IOSQE_ASYNC: both run in iou-wrk threads of the process."""
    pair(1)


def test_refused_connect():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pid, out = run(NOBODY + [HELPER, "refused", str(port)])
    assert int(out[0]) < 0, out
    ev = T.wait_for(of("tcpconnect", pid, dport=port), what="refused io_uring connect")
    assert ev["data"]["outcome"] == "refused", ev
    assert ev["data"]["syscall"] == "io_uring_connect", ev
    submitter(ev, pid)


def test_a_failed_io_uring_connect_leaves_nothing_behind():
    """The failed request's completion forgets its socket: the process's next
    connect(2) on it is reported as connect, not as the io_uring request."""
    pid, out = run(NOBODY + [HELPER, "stale", str(D_PORT)])
    assert int(out[0]) == -errno.EAFNOSUPPORT and out[1] == "0", out
    ev = T.wait_for(of("tcpconnect", pid, dport=D_PORT), what="connect after a failed request")
    assert ev["data"]["syscall"] == "connect" and ev["data"]["outcome"] == "established", ev
    assert not T.all(of("tcpconnect", pid, syscall="io_uring_connect")), "a stale io_uring entry"


def test_a_plain_connect_says_connect():
    pid, out = run(NOBODY + [sys.executable, "-c",
                             "import socket; s = socket.socket(); "
                             "s.connect(('127.0.0.1', %d))" % D_PORT])
    ev = T.wait_for(of("tcpconnect", pid, dport=D_PORT), what="plain connect")
    assert ev["data"]["syscall"] == "connect", ev


def test_one_program_per_io_uring_tracepoint():
    """open, tcpconnect and tcpaccept loaded: each io_uring tracepoint once."""
    names = [x.get("tp_name") for x in held_links(D.pid)]
    assert names.count("io_uring_submit_req") == 1, names
    assert names.count("io_uring_complete") == 1, names
    st = D.status()
    assert st["io_uring"] == {"seen": True, "reason": ""}, st["io_uring"]


def test_status_says_why_io_uring_is_not_seen():
    """Without a tracer that has io_uring handlers, no io_uring hook, and status says so."""
    d = Daemon("--tracers", "exec")
    try:
        d.start()
        st = d.status()
        assert st["io_uring"]["seen"] is False, st["io_uring"]
        assert "no tracer that sees io_uring" in st["io_uring"]["reason"], st["io_uring"]
        names = [x.get("tp_name") for x in held_links(d.pid)]
        assert names and not [n for n in names if n and n.startswith("io_uring")], names
        text = d.cli("status").stdout
        assert "io_uring: not seen: no tracer that sees io_uring is loaded" in text, text
    finally:
        d.cleanup()


def test_tcpaccept_alone_attaches_only_the_completion():
    """tcpaccept has no submission handler: only io_uring_complete is attached, and works."""
    d = Daemon("--tracers", "tcpaccept")
    try:
        d.start()
        names = [x.get("tp_name") for x in held_links(d.pid)]
        assert names.count("io_uring_complete") == 1, names
        assert "io_uring_submit_req" not in names, names
        assert d.status()["io_uring"]["seen"] is True
        t = Trace(d)
        try:
            pid, out = run(NOBODY + [HELPER, "pair", "1"])
            port, cport = int(out[0]), int(out[1])
            ev = t.wait_for(of("tcpaccept", pid, event="accept", sport=port, dport=cport),
                            what="io_uring accept")
            assert ev["data"]["syscall"] == "io_uring_accept", ev
            submitter(ev, pid)
        finally:
            t.stop()
    finally:
        d.cleanup()


D_PORT = None
LISTENER = None


def main():
    global D, T, WORK, HELPER, D_PORT, LISTENER
    require_root()
    WORK = tempfile.mkdtemp(prefix="iou-net-")
    os.chmod(WORK, 0o755)
    src = os.path.join(WORK, "helper.c")
    with open(src, "w") as f:
        f.write(HELPER_SOURCE)
    HELPER = os.path.join(WORK, unique("iounet"))
    subprocess.run(["cc", "-O2", src, "-o", HELPER], check=True, stdin=subprocess.DEVNULL)
    os.chmod(HELPER, 0o755)
    LISTENER = socket.socket()
    LISTENER.bind(("127.0.0.1", 0))
    LISTENER.listen(8)
    D_PORT = LISTENER.getsockname()[1]
    D = Daemon("--tracers", "open,tcpconnect,tcpaccept")
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_connect_and_accept_inline,
            test_connect_and_accept_in_io_wq_workers,
            test_refused_connect,
            test_a_plain_connect_says_connect,
            test_a_failed_io_uring_connect_leaves_nothing_behind,
            test_one_program_per_io_uring_tracepoint,
            test_status_says_why_io_uring_is_not_seen,
            test_tcpaccept_alone_attaches_only_the_completion,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        LISTENER.close()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
