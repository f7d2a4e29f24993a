#!/usr/bin/env python3
"""The end-to-end pipeline: real BPF programs, real processes, `bpfd trace --json`.

One daemon for the whole module; each test drives a workload nobody else
could produce (unique names) and waits for its events.
"""
import errno
import os
import subprocess
import sys
import time

from bpfdtest import (Daemon, Trace, check_event_shape, make_program, require_root,
                      run_tests, type_lines, unique)

D = None
T = None

EXEC_ARGV_MAX = 16384
BASH_LINE_MAX = 8192
MARK = " [...]"


def test_exec_with_long_argv():
    name = unique("ex")
    prog = make_program(D.tmp, name)
    # Hundreds of arguments, several kilobytes in all.
    args = ["arg%03d-%s" % (i, "x" * 10) for i in range(300)]
    p = subprocess.run([prog] + args)
    assert p.returncode == 0
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == prog,
                    what="exec event of " + name)
    check_event_shape(ev)
    assert ev["data"]["argv"] == " ".join([prog] + args), ev["data"]["argv"][:200]
    assert len(ev["data"]["argv"]) > 4000
    assert ev["command"] == name[:15] and ev["data"]["command"] == ev["command"]
    assert ev["returnval"] == 0 and ev["data"]["returnval"] == "0"
    assert ev["ppid"] == os.getpid(), (ev["ppid"], os.getpid())
    assert ev["uid"] == 0 and ev["gid"] == 0
    assert ev["pid"] == ev["tid"]
    assert ev["container_runtime"] == "not-found" and ev["container_id"] == ""
    assert ev["rules"] == []
    assert ev["hostname"] == os.uname().nodename


def test_exec_truncated_argv():
    name = unique("tr")
    prog = make_program(D.tmp, name)
    args = ["y" * 1000 for _ in range(30)]  # 30 KB: over the cap
    subprocess.run([prog] + args, check=True)
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == prog)
    argv = ev["data"]["argv"]
    assert argv.endswith(MARK), argv[-40:]
    assert len(argv) <= EXEC_ARGV_MAX + len(MARK), len(argv)
    assert argv.startswith(prog + " yyy")


def test_exec_failure():
    missing = os.path.join(D.tmp, unique("nope"))
    argv = [missing, "first", "second arg"]
    try:
        os.spawnv(os.P_WAIT, missing, argv)
    except OSError:
        pass
    # Python's spawnv forks, and the child's execve fails with ENOENT.
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == missing,
                    what="failed exec")
    check_event_shape(ev)
    assert ev["returnval"] == -errno.ENOENT, ev["returnval"]
    assert ev["data"]["returnval"] == str(-errno.ENOENT)
    assert ev["data"]["argv"] == " ".join(argv), ev["data"]["argv"]


def test_open_success_and_failure():
    path = os.path.join(D.tmp, unique("file"))
    with open(path, "w") as f:
        f.write("x")
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    os.close(fd)
    missing = path + "-missing"
    try:
        os.open(missing, os.O_RDONLY)
    except FileNotFoundError:
        pass
    me = os.getpid()
    ok = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == path
                    and e["pid"] == me and e["data"]["flags"] == "O_RDONLY|O_CLOEXEC",
                    what="open of " + path)
    check_event_shape(ok)
    assert ok["returnval"] == fd, (ok["returnval"], fd)
    assert ok["data"]["returnval"] == str(fd)
    bad = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == missing,
                     what="failed open")
    assert bad["returnval"] == -errno.ENOENT and bad["data"]["returnval"] == "-2"
    assert bad["data"]["flags"].startswith("O_RDONLY")


def test_openat2_flags():
    # openat2() passes its flags in a struct in user memory (struct
    # open_how), read only for an open the prefilter let through.
    import ctypes
    path = os.path.join(D.tmp, unique("file2"))
    open(path, "w").close()
    libc = ctypes.CDLL(None, use_errno=True)
    how = (ctypes.c_uint64 * 3)(os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0, 0)
    fd = libc.syscall(437, -100, path.encode(), ctypes.byref(how), ctypes.sizeof(how))
    assert fd >= 0, ctypes.get_errno()
    os.close(fd)
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == path
                    and "O_CREAT" not in e["data"]["flags"], what="openat2 of " + path)
    assert set(ev["data"]["flags"].split("|")) == {"O_RDONLY", "O_NOFOLLOW", "O_CLOEXEC"}, ev
    assert ev["returnval"] == fd


def test_lone_event_arrives_promptly():
    """Subscribers get events in batches (256 KiB or 2 ms): a lone event on
    an otherwise idle daemon still arrives within milliseconds, not at the
    next event or the daemon's once-a-second tick."""
    worst = 0.0
    for i in range(5):
        time.sleep(0.3)
        path = os.path.join(D.tmp, unique("lone"))
        t0 = time.monotonic()
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
        T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == path,
                   what="open of " + path)
        worst = max(worst, time.monotonic() - t0)
    assert worst < 0.5, "a lone event took %.3f s" % worst


def test_bashreadline():
    word = unique("line")
    line = "echo " + word
    longline = "echo " + word + "L" + "z" * (BASH_LINE_MAX + 2000)
    after = "echo after-" + word
    status, out = type_lines(["/bin/bash", "--norc", "--noprofile", "-i"],
                             [line, longline, after])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    ev = T.wait_for(lambda e: e["tracer"] == "bashreadline" and e["data"]["command"] == line,
                    what="bashreadline event")
    check_event_shape(ev)
    assert ev["command"] == "bash"
    assert set(ev["data"]) == {"command"}, ev["data"]
    lg = T.wait_for(lambda e: e["tracer"] == "bashreadline"
                    and e["data"]["command"].startswith("echo " + word + "L"),
                    what="long bashreadline event")
    assert lg["data"]["command"].endswith(MARK)
    assert len(lg["data"]["command"]) == BASH_LINE_MAX - 1 + len(MARK), len(lg["data"]["command"])
    # bash went on working after the long line.
    T.wait_for(lambda e: e["tracer"] == "bashreadline" and e["data"]["command"] == after)


def ns_inode(pid, ns):
    return os.stat("/proc/%d/ns/%s" % (pid, ns)).st_ino


def test_namespaces_match_proc():
    name = unique("sl")
    prog = make_program(D.tmp, name, "/bin/sleep")
    p = subprocess.Popen([prog, "30"])
    try:
        ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == prog)
        assert ev["pid"] == p.pid
        assert ev["ppid"] == os.getpid()
        assert ev["mntns"] == ns_inode(p.pid, "mnt"), (ev["mntns"], ns_inode(p.pid, "mnt"))
        assert ev["pidns"] == ns_inode(p.pid, "pid"), (ev["pidns"], ns_inode(p.pid, "pid"))
    finally:
        p.kill()
        p.wait()


def test_pidns_after_unshare_without_fork():
    # unshare --pid without --fork: the exec'd program still lives in the
    # old pid namespace; only its children would enter the new one.
    name = unique("un")
    prog = make_program(D.tmp, name, "/bin/sleep")
    p = subprocess.Popen(["unshare", "--pid", prog, "30"])
    try:
        ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == prog)
        active = ns_inode(ev["pid"], "pid")
        # A pid namespace nobody entered yet has no pid_for_children link to
        # open: that is how /proc shows the unshare happened.
        try:
            children = ns_inode(ev["pid"], "pid_for_children")
        except FileNotFoundError:
            children = None
        assert children != active, "unshare did not create a pid namespace"
        assert ev["pidns"] == active == ns_inode(os.getpid(), "pid"), (ev["pidns"], active)
        assert ev["mntns"] == ns_inode(ev["pid"], "mnt")
    finally:
        p.kill()
        p.wait()


# A workload that changes its own mount namespace twice without forking or
# exec'ing, opening a marker file before and after each change: the BPF side
# caches per task what it reads through kernel pointers, and this is what
# must invalidate it. It prints its namespaces, then waits for stdin to close.
NS_WORKLOAD = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS = 0x00020000
def touch(path):
    for _ in range(3):
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
before, inside, back = sys.argv[1:4]
host = os.open("/proc/self/ns/mnt", os.O_RDONLY)
first = os.stat("/proc/self/ns/mnt").st_ino
touch(before)
if libc.unshare(CLONE_NEWNS) != 0:
    sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
second = os.stat("/proc/self/ns/mnt").st_ino
touch(inside)
if libc.setns(host, CLONE_NEWNS) != 0:
    sys.exit("setns: " + os.strerror(ctypes.get_errno()))
third = os.stat("/proc/self/ns/mnt").st_ino
touch(back)
print(first, second, third, flush=True)
sys.stdin.read()
"""


def test_mntns_follows_unshare_and_setns_without_fork():
    before, inside, back = (os.path.join(D.tmp, unique("ns")) for _ in range(3))
    p = subprocess.Popen([sys.executable, "-c", NS_WORKLOAD, before, inside, back],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        first, second, third = (int(x) for x in p.stdout.readline().split())
        assert first != second and first == third, (first, second, third)
        for path, want in ((before, first), (inside, second), (back, third)):
            ev = T.wait_for(lambda e: e["tracer"] == "open" and e["pid"] == p.pid
                            and e["data"]["filename"] == path, what="open of " + path)
            seen = {e["mntns"] for e in T.all(lambda e: e["tracer"] == "open" and
                                              e["pid"] == p.pid and
                                              e["data"]["filename"] == path)}
            assert seen == {want}, (path, seen, want)
    finally:
        p.stdin.close()
        p.wait()


# A child opens a marker, its parent exits, the child opens another: the
# second open names the new parent (the same cache, invalidated by the
# real_parent pointer).
REPARENT_WORKLOAD = r"""
import os, sys, time
first, second = sys.argv[1:3]
r, w = os.pipe()
if os.fork() == 0:
    os.close(os.open(first, os.O_RDONLY | os.O_CREAT, 0o600))
    os.write(w, b"x")
    while os.getppid() == parent:
        time.sleep(0.01)
    os.close(os.open(second, os.O_RDONLY | os.O_CREAT, 0o600))
    print(os.getpid(), parent, os.getppid(), flush=True)
    os._exit(0)
os.read(r, 1)
"""


def test_ppid_follows_reparenting():
    first, second = (os.path.join(D.tmp, unique("rp")) for _ in range(2))
    code = "import os\nparent = os.getpid()\n" + REPARENT_WORKLOAD
    p = subprocess.run([sys.executable, "-c", code, first, second], stdout=subprocess.PIPE,
                       text=True, timeout=30)
    # The child outlives the parent and holds the pipe: run() returns after both.
    child, parent, reaper = (int(x) for x in p.stdout.split())
    assert parent != reaper
    a = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == first)
    b = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == second)
    assert a["pid"] == b["pid"] == child, (a["pid"], b["pid"], child)
    assert a["ppid"] == parent and b["ppid"] == reaper, (a["ppid"], b["ppid"], parent, reaper)


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    raise AssertionError("no cgroup2 mount")


def test_docker_style_cgroup_attribution():
    cid = os.urandom(32).hex()
    parent = os.path.join(cgroup2_root(), "docker")
    made_parent = not os.path.isdir(parent)
    if made_parent:
        os.mkdir(parent)
    cg = os.path.join(parent, cid)
    os.mkdir(cg)
    name = unique("ct")
    prog = make_program(D.tmp, name)
    try:
        # The process joins the cgroup, execs, and exits at once.
        subprocess.run(["sh", "-c", "echo $$ > %s/cgroup.procs && exec %s" % (cg, prog)],
                       check=True)
    finally:
        os.rmdir(cg)
        if made_parent:
            os.rmdir(parent)
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == prog,
                    what="exec in the docker cgroup")
    assert ev["container_runtime"] == "docker", ev
    assert ev["container_id"] == cid
    assert ev["cgroup_id"] != 1


def test_daemon_never_reported():
    mine = T.all(lambda e: e["pid"] == D.pid)
    assert not mine, mine[:2]


def main():
    global D, T
    require_root()
    D = Daemon().start()
    T = Trace(D)
    try:
        rc = run_tests([
            test_exec_with_long_argv,
            test_exec_truncated_argv,
            test_exec_failure,
            test_open_success_and_failure,
            test_openat2_flags,
            test_lone_event_arrives_promptly,
            test_bashreadline,
            test_namespaces_match_proc,
            test_pidns_after_unshare_without_fork,
            test_mntns_follows_unshare_and_setns_without_fork,
            test_ppid_follows_reparenting,
            test_docker_style_cgroup_attribution,
            test_daemon_never_reported,
        ])
        assert not T.bad_lines, T.bad_lines[:3]
    finally:
        T.stop()
        D.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
