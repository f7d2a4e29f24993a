#!/usr/bin/env python3
"""No blind entries (issue 16): opens the syscall tracepoints never see.

Played by an unprivileged user (setpriv) on a test file it may read: an open
through the 32-bit entry (`int $0x80` from a 64-bit process, absolute and
relative to a dirfd) and opens through io_uring (IORING_OP_OPENAT relative to
a dirfd, OPENAT2, one forced to an io-wq worker, one into the fixed-file
table). Each must match the rule on the file's real path with the
submitter's pid and command and say which way it came (data.syscall); its
benign twin, the same on another file, must not match. Failed io_uring
opens (a missing relative name; /etc/shadow with O_DIRECTORY, ENOTDIR;
one in an io-wq worker) are reported like failed syscalls: the name joined
to the dirfd's path, not resolved, with the result. Then a daemon with
`compat_syscalls = false`: no compat events, and no sys_exit hook attached.
"""
import errno
import os
import shutil
import subprocess
import sys
import tempfile

from bpfdtest import Daemon, Trace, require_root, run_tests, unique

D = None
T = None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
WORK = None      # a directory all users may read
TARGET = None    # WORK/sec/target: the file the "target" rule names
TWIN = None      # WORK/twin/target: same name, another file
HELPER = None    # the C helper below, under a name of its own

# Opens argv's file one way and prints the result (a descriptor, 0 for a
# fixed-file slot, or -errno). No liburing: the raw io_uring system calls.
HELPER_SOURCE = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A string below 4 GiB, where a 32-bit system call can point. */
static char *low(const char *s)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);

	if (p == MAP_FAILED)
		exit(3);
	snprintf(p, 4096, "%s", s);
	return p;
}

/* A system call through the 32-bit entry, from this 64-bit process. */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static int open_flags = O_RDONLY, delay;

static int ring_open(const char *dir, const char *name, int op, int async, int fixed)
{
	struct io_uring_params p = { 0 };
	struct io_uring_sqe *sqes, *sqe;
	struct io_uring_cqe *cqe;
	struct open_how how = { .flags = open_flags };
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
	char *sq, *cq;
	int fd, dfd = AT_FDCWD, files[2] = { -1, -1 };

	fd = syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		return -100;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(*cqe), PROT_READ | PROT_WRITE,
		  MAP_SHARED, fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqe), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -101;
	if (fixed && syscall(__NR_io_uring_register, fd, IORING_REGISTER_FILES, files, 2) < 0)
		return -102;
	if (dir)
		dfd = open(dir, O_RDONLY | O_DIRECTORY);
	sqe = &sqes[0];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = dfd;
	sqe->addr = (unsigned long)name;
	if (op == IORING_OP_OPENAT2) {
		sqe->addr2 = (unsigned long)&how;
		sqe->len = sizeof(how);
	} else {
		sqe->open_flags = open_flags;
	}
	if (async)
		sqe->flags |= IOSQE_ASYNC;
	if (delay) {
		/*
		 * Behind a 300 ms timeout it is linked to: the open is issued
		 * (and fails) long after its submission.
		 */
		static struct __kernel_timespec ts = { .tv_nsec = 300000000 };

		sqe[1] = *sqe;
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_TIMEOUT;
		sqe->addr = (unsigned long)&ts;
		sqe->len = 1;
		sqe->timeout_flags = IORING_TIMEOUT_ETIME_SUCCESS;
		sqe->flags = IOSQE_IO_LINK;
		sqe->user_data = 1;
	}
	if (fixed)
		sqe->file_index = 2;	/* slot 1 */
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	sq_array[0] = 0;
	sq_array[1] = 1;
	__atomic_store_n(sq_tail, 1 + delay, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, fd, 1 + delay, 1 + delay, IORING_ENTER_GETEVENTS, NULL,
		    0) < 0)
		return -103;
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	/* The open's completion: user_data 0 (the timeout's is 1). */
	for (; *cq_head != __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE); (*cq_head)++)
		if (cqe[*cq_head & (p.cq_entries - 1)].user_data == 0)
			return cqe[*cq_head & (p.cq_entries - 1)].res;
	return -104;
}

int main(int argc, char **argv)
{
	long r = -1;

	if (argc == 3 && strcmp(argv[1], "int80-open") == 0)
		r = int80(5, (long)low(argv[2]), O_RDONLY, 0);
	else if (argc == 4 && strcmp(argv[1], "int80-openat") == 0)
		r = int80(295, open(argv[2], O_RDONLY | O_DIRECTORY), (long)low(argv[3]), O_RDONLY);
	else if (argc == 3 && strcmp(argv[1], "int80-execve") == 0)
		r = int80(11, (long)low(argv[2]), 0, 0);
	else if (argc == 4 && strcmp(argv[1], "uring-openat") == 0)
		r = ring_open(argv[2], argv[3], IORING_OP_OPENAT, 0, 0);
	else if (argc == 4 && strcmp(argv[1], "uring-openat-async") == 0)
		r = ring_open(argv[2], argv[3], IORING_OP_OPENAT, 1, 0);
	else if (argc == 4 && strcmp(argv[1], "uring-openat2") == 0)
		r = ring_open(argv[2], argv[3], IORING_OP_OPENAT2, 0, 0);
	else if (argc == 3 && strcmp(argv[1], "uring-fixed") == 0)
		r = ring_open(NULL, argv[2], IORING_OP_OPENAT, 0, 1);
	else if (argc == 4 && strcmp(argv[1], "uring-openat-dir") == 0) {
		open_flags = O_RDONLY | O_DIRECTORY;
		r = ring_open(argv[2], argv[3], IORING_OP_OPENAT, 0, 0);
	} else if (argc == 4 && strcmp(argv[1], "uring-openat-delayed") == 0) {
		delay = 1;
		r = ring_open(argv[2], argv[3], IORING_OP_OPENAT, 0, 0);
	} else if (argc == 4 && strcmp(argv[1], "uring-openat2-dir") == 0) {
		open_flags = O_RDONLY | O_DIRECTORY;
		r = ring_open(argv[2], argv[3], IORING_OP_OPENAT2, 1, 0);
	}
	printf("%ld\n", r);
	/* A failed open is a result too; the ring's own failures are < -99. */
	return r < -99 || r == -1;
}
"""


def run(argv):
    """Runs @argv to its end; returns (pid, its output)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    assert p.returncode == 0, "%s failed (%d): %s %s" % (argv, p.returncode, out, err)
    return p.pid, out.strip()


def attack(mode, syscall, *args, twin_args=None, argument=None):
    """The benign twin first, then the attack: the attack must match, the twin not."""
    twin_pid = run(NOBODY + [HELPER, mode] + list(twin_args))[0] if twin_args else None
    pid, res = run(NOBODY + [HELPER, mode] + list(args))
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["pid"] == pid
                    and "target" in e["rules"], what="%s by %d" % (mode, pid), timeout=5)
    assert ev["data"]["filename"] == TARGET, ev["data"]
    assert ev["data"]["resolved"] == "true", ev["data"]
    assert ev["data"]["syscall"] == syscall, ev["data"]
    assert ev["data"].get("argument") == argument, ev["data"]
    # The submitter, not an io-wq worker: its thread, its command, its user.
    assert ev["tid"] == pid and ev["command"] == os.path.basename(HELPER), ev
    assert ev["uid"] == 65534 and ev["returnval"] == int(res), (ev, res)
    if twin_pid:
        bad = T.all(lambda e: e["tracer"] == "open" and e["pid"] == twin_pid
                    and "target" in e["rules"])
        assert not bad, bad
    return ev


def test_int80_absolute():
    attack("int80-open", "compat_open", TARGET, twin_args=[TWIN])


def test_int80_relative_to_a_dirfd():
    attack("int80-openat", "compat_openat", os.path.dirname(TARGET), "target",
           twin_args=[os.path.dirname(TWIN), "target"], argument="target")


def test_io_uring_openat_relative():
    attack("uring-openat", "io_uring_openat", os.path.dirname(TARGET), "target",
           twin_args=[os.path.dirname(TWIN), "target"])


def test_io_uring_openat2():
    attack("uring-openat2", "io_uring_openat2", os.path.dirname(TARGET), "target",
           twin_args=[os.path.dirname(TWIN), "target"])


def test_io_uring_in_an_io_wq_worker():
    """IOSQE_ASYNC: the open runs in an iou-wrk thread, reported as the submitter's."""
    attack("uring-openat-async", "io_uring_openat", os.path.dirname(TARGET), "target",
           twin_args=[os.path.dirname(TWIN), "target"])


def test_io_uring_fixed_file():
    """Into the fixed-file table: no descriptor, the slot's file is walked."""
    attack("uring-fixed", "io_uring_openat", TARGET, twin_args=[TWIN])


def sys_exit_hooks(pid):
    """The raw tracepoint links on sys_exit the process @pid holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = f.read()
        except OSError:
            continue
        if "link_type:\traw_tracepoint" in info and "tp_name:\tsys_exit\n" in info:
            n += 1
    return n


def failed(mode, syscall, dirname, name, want, twin_dir, errno_):
    """A failed io_uring open: the rule on the joined name matches, the twin's not."""
    twin_pid = run(NOBODY + [HELPER, mode, twin_dir, name])[0]
    pid, res = run(NOBODY + [HELPER, mode, dirname, name])
    assert int(res) == -errno_, res
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["pid"] == pid
                    and "failed" in e["rules"], what="%s by %d" % (mode, pid), timeout=5)
    d = ev["data"]
    assert d["filename"] == want and d["resolved"] == "false", d
    assert d["argument"] == name and d["syscall"] == syscall, d
    assert "O_DIRECTORY" in d["flags"] or errno_ != errno.ENOTDIR, d
    assert ev["returnval"] == -errno_ and ev["tid"] == pid, ev
    assert ev["command"] == os.path.basename(HELPER) and ev["uid"] == 65534, ev
    bad = T.all(lambda e: e["tracer"] == "open" and e["pid"] == twin_pid
                and "failed" in e["rules"])
    assert not bad, bad


def test_io_uring_failed_open_of_a_missing_relative_name():
    """ENOENT: no file, the name the kernel copied joined to the dirfd's path."""
    failed("uring-openat", "io_uring_openat", os.path.dirname(TARGET), "missing",
           os.path.join(os.path.dirname(TARGET), "missing"), os.path.dirname(TWIN),
           errno.ENOENT)


def test_io_uring_failed_open_of_etc_shadow():
    """O_DIRECTORY on a regular file: ENOTDIR, relative to /etc, with `..` in the name."""
    failed("uring-openat-dir", "io_uring_openat", "/etc", "../etc/shadow", "/etc/shadow",
           os.path.dirname(TWIN), errno.ENOTDIR)


def test_io_uring_failed_openat2_in_an_io_wq_worker():
    """IOSQE_ASYNC: fails in an iou-wrk thread, reported as the submitter's."""
    failed("uring-openat2-dir", "io_uring_openat2", "/etc", "shadow", "/etc/shadow",
           os.path.dirname(TWIN), errno.ENOTDIR)


def test_io_uring_failed_open_issued_long_after_its_submission():
    """Linked behind a timeout: the name is kept from the submission to the failure."""
    failed("uring-openat-delayed", "io_uring_openat", os.path.dirname(TARGET), "missing",
           os.path.join(os.path.dirname(TARGET), "missing"), os.path.dirname(TWIN),
           errno.ENOENT)


def test_compat_switched_off():
    assert sys_exit_hooks(D.pid) == 1, "the default daemon has no sys_exit hook"
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\ncompat_syscalls = false\n")
    os.makedirs(os.path.join(tmp, "rules"))
    shutil.copy(os.path.join(D.tmp, "rules", "target.toml"), os.path.join(tmp, "rules"))
    d = Daemon("--tracers", "open", "--config", conf, tmpdir=tmp)
    try:
        d.start()
        assert sys_exit_hooks(d.pid) == 0, "compat_syscalls = false left the hook attached"
        t = Trace(d)
        try:
            pid = run(NOBODY + [HELPER, "int80-open", TARGET])[0]
            # A native open after it: the ring buffer keeps their order.
            last = run(NOBODY + [HELPER, "uring-openat", os.path.dirname(TARGET), "target"])[0]
            t.wait_for(lambda e: e["pid"] == last and "target" in e["rules"],
                       what="the io_uring open after the compat one")
            bad = t.all(lambda e: e["pid"] == pid or
                        e["data"].get("syscall", "").startswith("compat_"))
            assert not bad, bad
        finally:
            t.stop()
    finally:
        d.cleanup()


def setup():
    global WORK, TARGET, TWIN, HELPER
    WORK = tempfile.mkdtemp(prefix="blind-")
    for d in ("sec", "twin"):
        os.mkdir(os.path.join(WORK, d))
        with open(os.path.join(WORK, d, "target"), "w") as f:
            f.write(d + "\n")
        os.chmod(os.path.join(WORK, d, "target"), 0o644)
        os.chmod(os.path.join(WORK, d), 0o755)
    os.chmod(WORK, 0o755)
    TARGET = os.path.join(WORK, "sec", "target")
    TWIN = os.path.join(WORK, "twin", "target")
    src = os.path.join(WORK, "helper.c")
    with open(src, "w") as f:
        f.write(HELPER_SOURCE)
    HELPER = os.path.join(WORK, unique("blind"))
    subprocess.run(["cc", "-O2", src, "-o", HELPER], check=True, stdin=subprocess.DEVNULL)
    os.chmod(HELPER, 0o755)
    d = Daemon("--tracers", "open")
    os.makedirs(os.path.join(d.tmp, "rules"))
    with open(os.path.join(d.tmp, "rules", "target.toml"), "w") as f:
        f.write('tracer = "open"\nactions = []\nfilterEvents.filename.values = ["%s"]\n'
                % TARGET)
    # Failed opens: a name in WORK/sec that does not exist, and /etc/shadow.
    with open(os.path.join(d.tmp, "rules", "failed.toml"), "w") as f:
        f.write('tracer = "open"\nactions = []\nfilterEvents.filename.values = ["%s", "%s"]\n'
                % (os.path.join(WORK, "sec", "missing"), "/etc/shadow"))
    return d


def main():
    global D, T
    require_root()
    D = setup()
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_int80_absolute,
            test_int80_relative_to_a_dirfd,
            test_io_uring_openat_relative,
            test_io_uring_openat2,
            test_io_uring_in_an_io_wq_worker,
            test_io_uring_fixed_file,
            test_io_uring_failed_open_of_a_missing_relative_name,
            test_io_uring_failed_open_of_etc_shadow,
            test_io_uring_failed_openat2_in_an_io_wq_worker,
            test_io_uring_failed_open_issued_long_after_its_submission,
            test_compat_switched_off,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
