#!/usr/bin/env python3
"""The filechange tracer: deletes, renames, truncation, timestamp and owner
changes seen from the kernel, by any program, with their result.

Real processes make every call the tracer hooks (python's os and ctypes,
coreutils, the 32-bit entry through int $0x80), by absolute and relative
names, through dirfds, symlinks and a cwd that is a symlink, as root, as
nobody, in a container. Each is seen in `bpfd trace --json` with the paths
the kernel walked and its keys. The hostile cases: nobody renaming onto a
symlink it controls (the link is replaced: the event says so, and the
link's target is untouched), nobody reaching a directory through a symlink
(the event has the real directory), a process flooding deletes (counted:
seen, or lost in the kernel's ring buffer, the daemon unharmed), the
task prefilter dropping what no rule matches before any path is walked,
and the path prefilter, which nobody cannot walk a watched file past.
"""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import (Daemon, Docker, Trace, check_event_shape, require_root, run_tests,
                      run_to_end, unique)

D = None
T = None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
PYTHON = "/usr/bin/python3"
WORK = None     # a directory all users may read
OWN = None      # WORK/own: nobody's directory
HELPER = None   # the static helper below, under a name of its own

# System calls through the 32-bit entry (int $0x80), their result printed.
HELPER_SOURCE = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	/* Names and times where a 32-bit call can point: below 4 GiB. */
	char *low = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
			 -1, 0);
	char *second = low + 4096;
	int *times = (int *)(low + 6144);
	long r = -1;

	if (low == MAP_FAILED || argc != 4)
		return 3;
	snprintf(low, 4096, "%s", argv[2]);
	snprintf(second, 2048, "%s", argv[3]);
	if (strcmp(argv[1], "unlink") == 0)		/* unlink(NAME) (10) */
		r = int80(10, (long)low, 0, 0);
	else if (strcmp(argv[1], "rename") == 0)	/* rename(A, B) (38) */
		r = int80(38, (long)low, (long)second, 0);
	else if (strcmp(argv[1], "chown16") == 0)	/* lchown16(NAME, UID, -1) (16) */
		r = int80(16, (long)low, atol(second), 0xffff);
	else if (strcmp(argv[1], "ftruncate64") == 0)	/* ftruncate64(open(NAME), LEN) (194) */
		r = int80(194, open(low, O_WRONLY), atol(second) & 0xffffffff, atol(second) >> 32);
	else if (strcmp(argv[1], "utime") == 0) {	/* utime(NAME, {SEC, SEC}) (30) */
		times[0] = times[1] = atoi(second);
		r = int80(30, (long)low, (long)times, 0);
	}
	printf("%ld\n", r);
	return r < 0;
}
"""


def run(argv, cwd=None, check=True):
    """Runs @argv to its end; returns (pid, its output)."""
    return run_to_end(argv, cwd=cwd, check=check, timeout=60)


def py(code, user=(), cwd=None, check=True):
    """Runs python @code (as @user: a setpriv prefix); returns its pid."""
    return run(list(user) + [PYTHON, "-c", code], cwd=cwd, check=check)[0]


def new_file(path, owner=None):
    with open(path, "w") as f:
        f.write("0123456789\n")
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def change_of(pid, what, pred=lambda e: True, timeout=5):
    ev = T.wait_for(lambda e: e["tracer"] == "filechange" and e["pid"] == pid and pred(e),
                    what="%s by %d" % (what, pid), timeout=timeout)
    check_event_shape(ev)
    return ev


def expect(ev, **want):
    for k, v in want.items():
        got = ev["data"].get(k)
        assert got == v, "data.%s is %r, not %r: %s" % (k, got, v, ev["data"])


def op(name):
    return lambda e: e["data"]["operation"] == name


def test_deletes():
    """unlink by a relative name, rm (unlinkat), rmdir and rm -r's AT_REMOVEDIR."""
    f = new_file(os.path.join(WORK, unique("del")))
    pid = py("import os; os.unlink(%r)" % os.path.basename(f), cwd=WORK)
    ev = change_of(pid, "unlink")
    expect(ev, operation="delete", filename=f, argument=os.path.basename(f), resolved="false",
           syscall="unlink", command="python3", returnval="0")
    f = new_file(os.path.join(WORK, unique("rm")))
    pid = run(["rm", f])[0]
    ev = change_of(pid, "rm")
    expect(ev, operation="delete", filename=f, syscall="unlinkat", flags="0", command="rm")
    assert "argument" not in ev["data"], ev["data"]
    d = os.path.join(WORK, unique("dir"))
    os.mkdir(d)
    pid = py("import os; os.rmdir(%r)" % d)
    expect(change_of(pid, "rmdir"), operation="delete", filename=d, syscall="rmdir")
    d = os.path.join(WORK, unique("tree"))
    os.makedirs(os.path.join(d, "sub"))
    pid = run(["rm", "-r", d])[0]
    ev = change_of(pid, "rm -r", lambda e: e["data"]["filename"] == d)
    expect(ev, syscall="unlinkat", flags="AT_REMOVEDIR", returnval="0")
    # A refused delete: reported with its error.
    pid = py("import os\ntry:\n    os.unlink('/etc/hostname')\nexcept PermissionError:\n    pass",
             user=NOBODY)
    ev = change_of(pid, "a refused unlink")
    assert ev["returnval"] == -13 and ev["uid"] == 65534, ev    # -EACCES
    expect(ev, filename="/etc/hostname", returnval="-13")
    assert os.path.exists("/etc/hostname")


def test_renames_both_paths():
    """rename by name, renameat with two dirfds, renameat2 with its flags, mv."""
    a = new_file(os.path.join(WORK, unique("a")))
    b = os.path.join(WORK, unique("b"))
    pid = py("import os; os.rename(%r, %r)" % (a, b))
    ev = change_of(pid, "rename")
    expect(ev, operation="rename", filename=a, target=b, resolved="false", syscall="rename")
    assert "argument" not in ev["data"] and "target_argument" not in ev["data"], ev["data"]
    src = os.path.join(WORK, unique("src"))
    dst = os.path.join(WORK, unique("dst"))
    os.mkdir(src)
    os.mkdir(dst)
    new_file(os.path.join(src, "f"))
    pid = py("import os\ns = os.open(%r, os.O_RDONLY | os.O_DIRECTORY)\n"
             "d = os.open(%r, os.O_RDONLY | os.O_DIRECTORY)\n"
             "os.rename('./f', '../%s/g', src_dir_fd=s, dst_dir_fd=d)"
             % (src, dst, os.path.basename(dst)))
    ev = change_of(pid, "renameat")
    expect(ev, filename=os.path.join(src, "f"), argument="./f",
           target=os.path.join(dst, "g"), target_argument="../%s/g" % os.path.basename(dst),
           syscall="renameat", returnval="0")
    # renameat2: RENAME_EXCHANGE swaps two files; RENAME_NOREPLACE refuses an existing target.
    x = new_file(os.path.join(WORK, unique("x")))
    y = new_file(os.path.join(WORK, unique("y")))
    code = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "assert libc.syscall(316, -100, %r, -100, %r, 2) == 0, ctypes.get_errno()\n"
            "assert libc.syscall(316, -100, %r, -100, %r, 1) == -1\n"
            % (x.encode(), y.encode(), x.encode(), y.encode()))
    pid = py(code)
    ev = change_of(pid, "RENAME_EXCHANGE", lambda e: e["returnval"] == 0)
    expect(ev, filename=x, target=y, flags="RENAME_EXCHANGE", syscall="renameat2")
    ev = change_of(pid, "RENAME_NOREPLACE", lambda e: e["returnval"] != 0)
    expect(ev, filename=x, target=y, flags="RENAME_NOREPLACE", returnval="-17")  # -EEXIST
    # mv, into a hidden name.
    m = new_file(os.path.join(WORK, unique("mv")))
    pid = run(["mv", m, os.path.join(WORK, ".hidden")])[0]
    ev = change_of(pid, "mv", op("rename"))
    expect(ev, filename=m, target=os.path.join(WORK, ".hidden"), command="mv")


def test_truncate():
    """truncate by name, ftruncate (coreutils truncate), the new length."""
    f = new_file(os.path.join(WORK, unique("t")))
    pid = py("import os; os.truncate(%r, 3)" % f)
    expect(change_of(pid, "truncate"), operation="truncate", filename=f, length="3",
           syscall="truncate", resolved="false")
    pid = run(["truncate", "-s", "0", f])[0]
    ev = change_of(pid, "ftruncate", op("truncate"))
    expect(ev, filename=f, length="0", syscall="ftruncate", resolved="true", command="truncate")
    assert os.path.getsize(f) == 0


def test_timestamps():
    """touch -d (utimensat with times), touch (now), utime/utimes/futimesat
    through ctypes, futimens (utimensat(fd, NULL)): the descriptor's file."""
    f = new_file(os.path.join(WORK, unique("ts")))
    pid = run(["touch", "-d", "2001-01-01 00:00:00 UTC", f])[0]
    ev = change_of(pid, "touch -d", op("timestamps"))
    expect(ev, filename=f, times="set", atime="2001-01-01T00:00:00.000000000Z",
           mtime="2001-01-01T00:00:00.000000000Z", command="touch")
    assert os.stat(f).st_mtime == 978307200
    pid = run(["touch", f])[0]
    ev = change_of(pid, "touch", op("timestamps"))
    expect(ev, filename=f, times="now")
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "t = (ctypes.c_long * 4)(86400, 0, 172800, 5)\n"
            "assert libc.syscall(132, %r, t) == 0\n"          # utime(name, {a, m})
            "assert libc.syscall(235, %r, t) == 0\n"          # utimes(name, tv[2])
            "d = os.open(%r, os.O_RDONLY)\n"
            "assert libc.syscall(261, d, %r, t) == 0\n"       # futimesat(dfd, name, tv)
            "fd = os.open(%r, os.O_RDONLY)\n"
            "os.utime(fd, (3, 4))\n"                          # utimensat(fd, NULL, ts)
            % (f.encode(), f.encode(), WORK, os.path.basename(f).encode(), f))
    pid = py(code)
    ev = change_of(pid, "utime", lambda e: e["data"]["syscall"] == "utime")
    expect(ev, filename=f, times="set", atime="1970-01-02T00:00:00.000000000Z",
           mtime="1970-01-01T00:00:00.000000000Z")
    ev = change_of(pid, "utimes", lambda e: e["data"]["syscall"] == "utimes")
    expect(ev, filename=f, atime="1970-01-02T00:00:00.000000000Z",
           mtime="1970-01-03T00:00:00.000005000Z")
    ev = change_of(pid, "futimesat", lambda e: e["data"]["syscall"] == "futimesat")
    expect(ev, filename=f, argument=os.path.basename(f), resolved="false")
    ev = change_of(pid, "futimens", lambda e: e["data"]["syscall"] == "utimensat")
    expect(ev, filename=f, resolved="true", atime="1970-01-01T00:00:03.000000000Z",
           mtime="1970-01-01T00:00:04.000000000Z")


def test_owner():
    """chown, lchown on a symlink (the link), fchown through a symlink (the
    file), chown(1) (fchownat): the new ids, -1 unchanged."""
    f = new_file(os.path.join(WORK, unique("own")))
    link = os.path.join(WORK, unique("link"))
    os.symlink(f, link)
    pid = py("import os; os.chown(%r, 65534, -1)" % f)
    expect(change_of(pid, "chown"), operation="owner", filename=f, new_uid="65534",
           new_gid="-1", syscall="chown")
    pid = py("import os; os.lchown(%r, -1, 65534)" % link)
    expect(change_of(pid, "lchown"), filename=link, new_uid="-1", new_gid="65534",
           syscall="lchown")
    pid = py("import os; fd = os.open(%r, os.O_RDONLY); os.fchown(fd, 0, 0)" % link)
    expect(change_of(pid, "fchown"), filename=f, resolved="true", new_uid="0", new_gid="0",
           syscall="fchown")
    pid = run(["chown", "-h", "1:1", link])[0]
    ev = change_of(pid, "chown -h", op("owner"))
    expect(ev, filename=link, new_uid="1", new_gid="1", syscall="fchownat",
           flags="AT_SYMLINK_NOFOLLOW")
    assert os.lstat(link).st_uid == 1


def test_compat_entry():
    """int $0x80 from a 64-bit process: the tracepoints' blind spot."""
    f = new_file(os.path.join(WORK, unique("c32")))
    g = os.path.join(WORK, unique("c32g"))
    pid = run([HELPER, "rename", os.path.basename(f), g], cwd=WORK)[0]
    expect(change_of(pid, "compat rename"), operation="rename", filename=f, target=g,
           syscall="compat_rename", returnval="0")
    pid = run([HELPER, "ftruncate64", g, str((1 << 32) + 5)])[0]
    expect(change_of(pid, "compat ftruncate64", op("truncate")), filename=g,
           length=str((1 << 32) + 5), syscall="compat_ftruncate64", resolved="true")
    pid = run([HELPER, "utime", g, "86400"])[0]
    expect(change_of(pid, "compat utime"), filename=g, times="set",
           atime="1970-01-02T00:00:00.000000000Z", syscall="compat_utime")
    pid = run([HELPER, "chown16", g, "4242"])[0]
    expect(change_of(pid, "compat lchown16"), filename=g, new_uid="4242", new_gid="-1",
           syscall="compat_lchown16")
    pid = run([HELPER, "unlink", g, "-"])[0]
    expect(change_of(pid, "compat unlink"), operation="delete", filename=g,
           syscall="compat_unlink", returnval="0")
    assert not os.path.exists(g)


def test_hostile_symlinks():
    """nobody, in its own directory: a rename onto a symlink to /etc/cron.d
    replaces the link (the event's target is the link, cron.d is untouched);
    a cwd and a dirfd reached through a symlink give the real directory."""
    real = os.path.join(OWN, unique("real"))
    os.mkdir(real)
    os.chown(real, 65534, 65534)
    lnk = os.path.join(OWN, unique("lnk"))
    os.symlink(real, lnk)
    evil = os.path.join(OWN, unique("evil"))
    os.symlink("/etc/cron.d", evil)
    before = sorted(os.listdir("/etc/cron.d")) if os.path.isdir("/etc/cron.d") else None
    mine = new_file(os.path.join(OWN, unique("job")), owner=65534)
    pid = py("import os; os.rename(%r, %r)" % (mine, evil), user=NOBODY)
    ev = change_of(pid, "rename onto a symlink")
    assert ev["uid"] == 65534, ev
    expect(ev, filename=mine, target=evil, returnval="0")
    assert not os.path.islink(evil) and os.path.isfile(evil)
    if before is not None:
        assert sorted(os.listdir("/etc/cron.d")) == before
    new_file(os.path.join(real, "f"), owner=65534)
    pid = py("import os; os.chdir(%r); os.rename('f', 'g')" % lnk, user=NOBODY)
    ev = change_of(pid, "rename in a symlinked cwd")
    expect(ev, filename=os.path.join(real, "f"), target=os.path.join(real, "g"), argument="f")
    pid = py("import os; d = os.open(%r, os.O_RDONLY); os.unlink('g', dir_fd=d)" % lnk,
             user=NOBODY)
    expect(change_of(pid, "unlink by a symlinked dirfd"), filename=os.path.join(real, "g"))


def test_user_namespace():
    """unshare -Ur: root inside, nobody outside; the event has the real uid."""
    f = new_file(os.path.join(OWN, unique("ns")), owner=65534)
    pid = run(NOBODY + ["unshare", "-Ur", PYTHON, "-c",
                        "import os; assert os.getuid() == 0; os.unlink(%r)" % f])[0]
    ev = change_of(pid, "unlink in a user namespace")
    assert ev["uid"] == 65534, ev
    expect(ev, filename=f, returnval="0")


def test_container():
    """A container's deletes and renames: its own view of the paths, and its container."""
    docker = Docker()
    if not docker.ok:
        print("  (no docker: %s)" % docker.reason)
        return
    name = unique("fc")
    try:
        docker.run("--name", name, Docker.IMAGE, "sh", "-c",
                   "echo x > /tmp/a && cd /tmp && busybox mv a .b && busybox rm /tmp/.b")
        cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True,
                             text=True, check=True, stdin=subprocess.DEVNULL).stdout.strip()
        mine = lambda e: e["tracer"] == "filechange" and e["container_id"] == cid \
            and e["command"] == "busybox"
        ev = T.wait_for(lambda e: mine(e) and e["data"]["operation"] == "rename",
                        what="the container's mv", timeout=10)
        assert ev["container_runtime"] == "docker", ev
        expect(ev, filename="/tmp/a", argument="a", target="/tmp/.b", target_argument=".b")
        ev = T.wait_for(lambda e: mine(e) and e["data"]["operation"] == "delete",
                        what="the container's rm", timeout=10)
        expect(ev, filename="/tmp/.b", returnval="0")
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True,
                       stdin=subprocess.DEVNULL)
        docker.stop()


def status():
    return [t for t in D.status()["tracers"] if t["name"] == "filechange"][0]


def test_flood_is_counted():
    """nobody creating and deleting files as fast as it can: every delete is
    an event the daemon decoded or counted as lost in the kernel's ring
    buffer; every decoded one reached the subscriber or was counted as
    dropped for it; the daemon keeps serving."""
    n = 20000
    d = os.path.join(OWN, unique("flood"))
    os.mkdir(d)
    os.chown(d, 65534, 65534)
    st0, full0 = status(), D.status()
    pid = py("import os\nos.chdir(%r)\nfor i in range(%d):\n"
             "    os.close(os.open('f', os.O_CREAT | os.O_WRONLY, 0o600)); os.unlink('f')"
             % (d, n), user=NOBODY)
    deadline = time.time() + 20
    while time.time() < deadline:
        st, full = status(), D.status()
        decoded = st["events"] - st0["events"]
        lost = st["lost"] - st0["lost"]
        seen = len(T.all(lambda e: e["tracer"] == "filechange" and e["pid"] == pid))
        dropped = full["events"]["subscriber_dropped"] - full0["events"]["subscriber_dropped"]
        if decoded + lost >= n and seen + dropped >= n:
            break
        time.sleep(0.2)
    print("  %d deletes: %d decoded, %d lost in the kernel; %d to the subscriber, %d dropped "
          "for it" % (n, decoded, lost, seen, dropped))
    assert decoded + lost >= n, (decoded, lost)
    assert seen + dropped >= n, (seen, dropped)
    assert status()["state"] == "loaded"


def test_prefilter_keeps_what_the_rules_match():
    """Rules on the comm and the uid only: the kernel drops the other calls
    (counted) before any path is walked. Last: it replaces the rules."""
    named = unique("fcn")
    prog = os.path.join(WORK, named)
    shutil.copy(os.path.realpath(PYTHON), prog)
    rule = os.path.join(WORK, "named.toml")
    with open(rule, "w") as f:
        f.write('name = "named"\ntracer = "filechange"\nactions = []\n'
                'filterEvents.command.values = ["%s"]\n' % named)
    D.cli("rm", "every_change")
    D.cli("create", rule)
    assert status()["prefilter"] is True, status()
    before = status()["prefiltered"]
    n = 50
    f = os.path.join(WORK, unique("pf"))
    pid = py("import os\nfor i in range(%d):\n    open(%r, 'w').close(); os.unlink(%r)"
             % (n, f, f))
    by_named = run([prog, "-c", "import os; open(%r, 'w').close(); os.unlink(%r)" % (f, f)])[0]
    ev = change_of(by_named, "the named program's unlink")
    assert ev["rules"] == ["named"], ev["rules"]
    assert not T.all(lambda e: e["tracer"] == "filechange" and e["pid"] == pid), "not dropped"
    assert status()["prefiltered"] - before >= n, (before, status())


def test_prefilter_on_operation():
    """A rule on `operation` alone: the kernel drops the other operations
    (counted) before any path is walked, and sends the rule's. Last: it
    replaces the rules."""
    rule = os.path.join(WORK, "owners.toml")
    with open(rule, "w") as f:
        f.write('name = "owners"\ntracer = "filechange"\nactions = []\n'
                'filterEvents.operation.values = ["owner", "trunc*"]\n')
    D.cli("rm", "named")
    D.cli("create", rule)
    assert status()["prefilter"] is True, status()
    before = status()["prefiltered"]
    n = 50
    f = os.path.join(WORK, unique("op"))
    pid = py("import os\nfor i in range(%d):\n    open(%r, 'w').close(); os.rename(%r, %r + 'x')"
             "; os.unlink(%r + 'x')\nopen(%r, 'w').close(); os.chown(%r, 1, 1)\n"
             "os.truncate(%r, 1)" % (n, f, f, f, f, f, f, f))
    ev = change_of(pid, "the chown", op("owner"))
    assert ev["rules"] == ["owners"], ev["rules"]
    change_of(pid, "the truncate", op("truncate"))
    assert not T.all(lambda e: e["tracer"] == "filechange" and e["pid"] == pid and
                     e["data"]["operation"] in ("delete", "rename")), "not dropped"
    assert status()["prefiltered"] - before >= 2 * n, (before, status())


def test_prefilter_on_paths():
    """Rules on paths only (a prefix, an exact name, a name's end, a rename's
    target): the kernel tests each path as the event will carry it and drops
    the rest (counted). nobody tries to slip a watched file past it: relative
    names, a dirfd, a cwd through a symlink, "..", "//" and "." in the name,
    a long name whose ".." come after the first 256 bytes, the 32-bit entry,
    a descriptor, a rename out of and into the watched places: every one is
    seen. Last: it replaces the rules."""
    base = os.path.join(OWN, unique("pfp"))
    dirs = {k: os.path.join(base, k) for k in ("watched", "plain", "into", "deep")}
    for d in [base] + list(dirs.values()):
        os.mkdir(d)
        os.chown(d, 65534, 65534)
    long_dir = os.path.join(dirs["deep"], "a" * 250)
    os.mkdir(long_dir)
    os.chown(long_dir, 65534, 65534)
    exact = os.path.join(dirs["plain"], "exact")
    rules = {"paths": 'filterEvents.filename.values = ["%s/*", "%s", "*/.pf_history"]\n'
                      % (dirs["watched"], exact),
             "into": 'filterEvents.target.values = ["%s/*"]\n' % dirs["into"]}
    D.cli("rm", "owners")
    for name, text in rules.items():
        rule = os.path.join(WORK, name + ".toml")
        with open(rule, "w") as f:
            f.write('name = "%s"\ntracer = "filechange"\nactions = []\n%s' % (name, text))
        D.cli("create", rule)
    assert status()["prefilter"] is True, status()
    link = os.path.join(base, "link")
    os.symlink(dirs["watched"], link)
    w, plain = dirs["watched"], dirs["plain"]

    def seen(code, name, want, cwd=None):
        for f in [os.path.join(w, n) for n in ("v", "t")] + [exact] + \
                [os.path.join(plain, n) for n in (".pf_history", "r", "s")]:
            if not os.path.exists(f):
                new_file(f, owner=65534)
        pid = py(code, user=NOBODY, cwd=cwd, check=False)
        ev = change_of(pid, name, lambda e: e["data"].get(want[0]) == want[1])
        assert ev["rules"], ev
        return ev

    v = os.path.join(w, "v")
    seen("import os; os.unlink(%r)" % v, "an absolute name", ("filename", v))
    seen("import os; os.unlink('v')", "a name relative to the cwd", ("filename", v), cwd=w)
    seen("import os; os.unlink('v', dir_fd=os.open(%r, os.O_RDONLY))" % w, "a dirfd",
         ("filename", v))
    seen("import os; os.chdir(%r); os.unlink('v')" % link, "a cwd through a symlink",
         ("filename", v))
    seen("import os; os.unlink(%r)" % os.path.join(plain, "..", "watched", "v"), "..",
         ("filename", v))
    seen("import os; os.unlink(%r)" % (w + "//v"), "//", ("filename", v))
    seen("import os; os.unlink(%r)" % (w + "/./v"), "/./", ("filename", v))
    seen("import os; os.unlink(%r)" % os.path.join(long_dir, "..", "..", "watched", "v"),
         "a long name", ("filename", v))
    seen("import os; os.unlink(%r)" % exact, "an exact name", ("filename", exact))
    seen("import os; os.unlink('.pf_history')", "a name's end", ("filename",
         os.path.join(plain, ".pf_history")), cwd=plain)
    seen("import os; os.truncate(os.open(%r, os.O_WRONLY), 0)" % os.path.join(
        plain, ".pf_history"), "a descriptor's name's end", ("operation", "truncate"))
    seen("import os; os.chown(os.open(%r, os.O_RDONLY), -1, -1)" % os.path.join(w, "t"),
         "a descriptor", ("filename", os.path.join(w, "t")))
    seen("import os; os.rename(%r, %r)" % (os.path.join(w, "t"), os.path.join(plain, "t")),
         "a rename out", ("target", os.path.join(plain, "t")))
    seen("import os; os.rename(%r, 'x')" % os.path.join(plain, "r"), "a rename into",
         ("target", os.path.join(dirs["into"], "x")), cwd=dirs["into"])
    pid = run(NOBODY + [HELPER, "unlink", v, "-"], check=False)[0]
    change_of(pid, "the 32-bit entry", lambda e: e["data"]["filename"] == v)
    # The rest of the tree: dropped in the kernel, after the walk.
    before = status()["prefiltered"]
    n = 50
    f = os.path.join(plain, unique("pf"))
    pid = py("import os\nfor i in range(%d):\n    open(%r, 'w').close(); os.unlink(%r)\n"
             "os.rename(%r, %r)" % (n, f, f, os.path.join(plain, "s"),
                                    os.path.join(plain, "s2")), user=NOBODY)
    new_file(v, owner=65534)
    mark = py("import os; os.unlink(%r)" % v, user=NOBODY)
    change_of(mark, "the unlink after")
    assert not T.all(lambda e: e["tracer"] == "filechange" and e["pid"] == pid), "not dropped"
    assert status()["prefiltered"] - before >= n, (before, status())


def test_tracer_listed():
    r = subprocess.run([os.environ.get("BPFD", "bpfd"), "tracers"], capture_output=True,
                       text=True, check=True)
    block = r.stdout.split("\nfilechange\n", 1)[1].split("\n\n")[0]
    assert "tracepoint:syscalls:sys_exit_renameat2 (optional)" in block, block
    assert "tracepoint:syscalls:sys_exit_utimensat" in block, block
    assert "keys        operation, filename, argument, resolved, target, target_argument, " \
           "flags, length, new_uid, new_gid, times, atime, mtime, syscall, command, " \
           "returnval" in block, block
    assert status()["state"] == "loaded", status()


def setup():
    global WORK, OWN, HELPER
    WORK = tempfile.mkdtemp(prefix="filechange-")
    os.chmod(WORK, 0o755)
    OWN = os.path.join(WORK, "own")
    os.mkdir(OWN)
    os.chown(OWN, 65534, 65534)
    src = os.path.join(WORK, "helper.c")
    with open(src, "w") as f:
        f.write(HELPER_SOURCE)
    HELPER = os.path.join(WORK, unique("fc32"))
    subprocess.run(["cc", "-O2", src, "-o", HELPER], check=True, stdin=subprocess.DEVNULL)
    d = Daemon("--tracers", "filechange")
    # `trace` streams what some rule matches: this one, every change.
    d.write_rules({"every_change": 'tracer = "filechange"\nactions = []\n'})
    return d


def main():
    global D, T
    require_root()
    D = setup()
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_tracer_listed,
            test_deletes,
            test_renames_both_paths,
            test_truncate,
            test_timestamps,
            test_owner,
            test_compat_entry,
            test_hostile_symlinks,
            test_user_namespace,
            test_container,
            test_flood_is_counted,
            test_prefilter_keeps_what_the_rules_match,
            test_prefilter_on_operation,
            test_prefilter_on_paths,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
