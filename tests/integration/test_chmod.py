#!/usr/bin/env python3
"""The chmod tracer: permission changes seen from the kernel, with their result.

Real processes change modes every way the kernel offers (chmod, fchmod,
fchmodat with a dirfd, fchmodat2 with and without AT_EMPTY_PATH, the 32-bit
entry) and as the users who would try it: an unprivileged user making its
own file setuid (setpriv), the same user as root of its own user namespace
(unshare -Ur), a refused chmod of root's file (EPERM), a container. Each is
seen in `bpfd trace --json` with its keys, and the example rule
(examples/rules/setuid_bit.toml) matches a file made setuid, setgid or
world-writable, and not a plain 0644 nor a refused attempt.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from bpfdtest import (Daemon, Docker, Trace, check_event_shape, require_root, run_tests,
                      run_to_end, unique)

D = None
T = None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
PYTHON = "/usr/bin/python3"
WORK = None      # a directory all users may read
OWN = None       # WORK/own: nobody's directory
ROOT_FILE = None  # WORK/root-file: root's, mode 0644
HELPER = None    # the static helper below, under a name of its own

# One system call through the 32-bit entry (int $0x80), its result printed.
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
	/* The name where a 32-bit call can point: below 4 GiB. */
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
			 -1, 0);
	long r = -1;

	if (low == MAP_FAILED || argc != 4)
		return 3;
	snprintf(low, 4096, "%s", argv[2]);
	/* int80-chmod NAME MODE: chmod(NAME, MODE) (15) */
	if (strcmp(argv[1], "int80-chmod") == 0)
		r = int80(15, (long)low, strtol(argv[3], NULL, 8), 0);
	/* int80-fchmod NAME MODE: fchmod(open(NAME), MODE) (94) */
	else if (strcmp(argv[1], "int80-fchmod") == 0)
		r = int80(94, open(low, O_RDONLY), strtol(argv[3], NULL, 8), 0);
	printf("%ld\n", r);
	return r < 0;
}
"""


def run(argv, cwd=None, check=True):
    """Runs @argv to its end; returns (pid, its output)."""
    return run_to_end(argv, cwd=cwd, check=check, timeout=30)


def py(code, user=(), cwd=None, check=True):
    """Runs python @code (as @user: a setpriv prefix); returns its pid."""
    return run(list(user) + [PYTHON, "-c", code], cwd=cwd, check=check)[0]


def new_file(path, mode=0o644, owner=None):
    with open(path, "w") as f:
        f.write("x\n")
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def chmod_of(pid, what="chmod"):
    ev = T.wait_for(lambda e: e["tracer"] == "chmod" and e["pid"] == pid,
                    what="%s by %d" % (what, pid), timeout=5)
    check_event_shape(ev)
    return ev


def expect(ev, **want):
    for k, v in want.items():
        got = ev["data"].get(k)
        assert got == v, "data.%s is %r, not %r: %s" % (k, got, v, ev["data"])


def matched(ev):
    return "setuid_bit" in ev["rules"]


def test_chmod_by_name_plain_0644():
    """A plain mode: every key, and the example rule does not fire."""
    f = new_file(os.path.join(WORK, unique("plain")), 0o600)
    pid = py("import os; os.chmod(%r, 0o644)" % os.path.basename(f), cwd=WORK)
    ev = chmod_of(pid)
    expect(ev, filename=f, argument=os.path.basename(f), resolved="false", mode="0644",
           setuid="false", setgid="false", world_writable="false", syscall="chmod",
           command="python3", returnval="0")
    assert ev["returnval"] == 0 and ev["uid"] == 0, ev
    assert not matched(ev), ev["rules"]
    assert os.stat(f).st_mode & 0o7777 == 0o644


def test_fchmod_setuid_path_from_the_kernel():
    """fchmod: the descriptor's file, walked in the kernel, whatever name opened it."""
    f = new_file(os.path.join(WORK, unique("suid")))
    link = os.path.join(WORK, unique("link"))
    os.symlink(f, link)
    pid = py("import os; fd = os.open(%r, os.O_RDONLY); os.fchmod(fd, 0o4755)" % link)
    ev = chmod_of(pid)
    expect(ev, filename=f, resolved="true", mode="4755", setuid="true", setgid="false",
           world_writable="false", syscall="fchmod", returnval="0")
    assert "argument" not in ev["data"], ev["data"]
    assert matched(ev), ev["rules"]


def test_fchmodat_with_a_dirfd():
    """fchmodat: the name joined to the dirfd's path, `..` and `.` normalised."""
    sub = os.path.join(WORK, unique("sub"))
    os.mkdir(sub)
    f = new_file(os.path.join(WORK, unique("sgid")))
    name = "../." + "/" + os.path.basename(f)
    pid = py("import os; d = os.open(%r, os.O_RDONLY | os.O_DIRECTORY); "
             "os.chmod(%r, 0o2750, dir_fd=d)" % (sub, name))
    ev = chmod_of(pid)
    expect(ev, filename=f, argument=name, resolved="false", mode="2750", setuid="false",
           setgid="true", world_writable="false", syscall="fchmodat", returnval="0")
    assert matched(ev), ev["rules"]


def test_fchmodat2_and_empty_path():
    """fchmodat2 (Linux 6.6) by name, and with AT_EMPTY_PATH on a descriptor (its file)."""
    f = new_file(os.path.join(WORK, unique("at2")))
    code = ("import ctypes, os\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "r = libc.syscall(452, -100, %r, 0o0646, 0)\n"
            "assert r == 0, ctypes.get_errno()\n"
            "fd = os.open(%r, os.O_RDONLY)\n"
            "r = libc.syscall(452, fd, b'', 0o0640, 0x1000)\n"
            "assert r == 0, ctypes.get_errno()\n" % (f.encode(), f))
    pid = py(code)
    by_name = T.wait_for(lambda e: e["tracer"] == "chmod" and e["pid"] == pid
                         and e["data"]["mode"] == "0646", what="fchmodat2 by name", timeout=5)
    expect(by_name, filename=f, resolved="false", world_writable="true", syscall="fchmodat2")
    assert "argument" not in by_name["data"], by_name["data"]
    assert matched(by_name), by_name["rules"]
    empty = T.wait_for(lambda e: e["tracer"] == "chmod" and e["pid"] == pid
                       and e["data"]["mode"] == "0640", what="fchmodat2 AT_EMPTY_PATH", timeout=5)
    expect(empty, filename=f, resolved="true", world_writable="false", syscall="fchmodat2",
           returnval="0")
    assert not matched(empty), empty["rules"]


def test_setuid_by_an_unprivileged_user_on_its_own_file():
    """nobody may make its own file setuid (to itself): seen, with its uid, and matched."""
    f = new_file(os.path.join(OWN, unique("mine")), 0o755, owner=65534)
    pid = py("import os; os.chmod(%r, 0o4755)" % f, user=NOBODY)
    ev = chmod_of(pid)
    assert ev["uid"] == 65534 and ev["gid"] == 65534, ev
    expect(ev, filename=f, resolved="false", mode="4755", setuid="true", returnval="0")
    assert matched(ev), ev["rules"]
    assert os.stat(f).st_mode & 0o4000


def test_setuid_as_root_of_a_user_namespace():
    """unshare -Ur: root inside, nobody outside; the event has the real (host) uid."""
    f = new_file(os.path.join(OWN, unique("ns")), 0o755, owner=65534)
    pid = run(NOBODY + ["unshare", "-Ur", PYTHON, "-c",
                        "import os; assert os.getuid() == 0; os.chmod(%r, 0o6755)" % f])[0]
    ev = chmod_of(pid)
    assert ev["uid"] == 65534, ev
    expect(ev, filename=f, mode="6755", setuid="true", setgid="true", returnval="0")
    assert matched(ev), ev["rules"]


def test_world_writable():
    f = new_file(os.path.join(WORK, unique("ww")))
    pid = py("import os; os.chmod(%r, 0o666)" % f)
    ev = chmod_of(pid)
    expect(ev, filename=f, mode="0666", world_writable="true", setuid="false", returnval="0")
    assert matched(ev), ev["rules"]
    # A sticky directory open to all (like /tmp) is not what the rule is for.
    d = os.path.join(WORK, unique("sticky"))
    os.mkdir(d)
    pid = py("import os; os.chmod(%r, 0o1777)" % d)
    ev = chmod_of(pid)
    expect(ev, filename=d, mode="1777", world_writable="true", returnval="0")
    assert not matched(ev), ev["rules"]


def test_failed_chmod_eperm():
    """nobody on root's file: refused, reported with -EPERM, not matched (nothing changed)."""
    pid = py("import os\ntry:\n    os.chmod(%r, 0o4777)\nexcept PermissionError:\n"
             "    pass\nelse:\n    raise SystemExit(1)" % ROOT_FILE, user=NOBODY)
    ev = chmod_of(pid)
    assert ev["returnval"] == -1 and ev["uid"] == 65534, ev
    expect(ev, filename=ROOT_FILE, mode="4777", setuid="true", world_writable="true",
           returnval="-1", syscall="chmod")
    assert not matched(ev), ev["rules"]
    assert os.stat(ROOT_FILE).st_mode & 0o7777 == 0o644


def test_compat_entry():
    """int $0x80 from a 64-bit process: chmod (15) and fchmod (94), the tracepoints' blind spot."""
    f = new_file(os.path.join(WORK, unique("c32")))
    pid = run([HELPER, "int80-chmod", os.path.basename(f), "4711"], cwd=WORK)[0]
    ev = chmod_of(pid, "compat chmod")
    expect(ev, filename=f, argument=os.path.basename(f), mode="4711", setuid="true",
           syscall="compat_chmod", returnval="0")
    assert matched(ev), ev["rules"]
    pid = run([HELPER, "int80-fchmod", f, "0600"])[0]
    ev = chmod_of(pid, "compat fchmod")
    expect(ev, filename=f, resolved="true", mode="0600", syscall="compat_fchmod",
           returnval="0")
    assert os.stat(f).st_mode & 0o7777 == 0o600


def test_container():
    """A container's chmod: its own view of the path, and its container."""
    docker = Docker()
    if not docker.ok:
        print("  (no docker: %s)" % docker.reason)
        return
    name = unique("chmod")
    try:
        docker.run("--name", name, Docker.IMAGE, "sh", "-c",
                   "echo x > /tmp/sh2 && cd /tmp && busybox chmod 4755 sh2")
        cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True,
                             text=True, check=True, stdin=subprocess.DEVNULL).stdout.strip()
        # Not runc's own chmods while it sets the container up: the program's.
        ev = T.wait_for(lambda e: e["tracer"] == "chmod" and e["container_id"] == cid
                        and e["command"] == "busybox", what="the container's chmod",
                        timeout=10)
        assert ev["container_runtime"] == "docker", ev
        expect(ev, filename="/tmp/sh2", argument="sh2", mode="4755", setuid="true",
               returnval="0")
        assert matched(ev), ev["rules"]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True,
                       stdin=subprocess.DEVNULL)
        docker.stop()


def test_deep_directory():
    """Hiding in a path deeper than the kernel walk (64 steps): the path is
    cut at its start ([...]), the mode is whole, and the rule on it fires."""
    top = os.path.join(WORK, unique("deep"))
    d = top
    for _ in range(70):
        d = os.path.join(d, "d")
    os.makedirs(d)
    f = new_file(os.path.join(d, "sh"))
    pid = py("import os; os.chmod('sh', 0o4755)", cwd=d)
    ev = chmod_of(pid)
    assert ev["data"]["filename"].startswith("[...]/d/d/"), ev["data"]
    assert ev["data"]["filename"].endswith("/d/d/sh"), ev["data"]
    expect(ev, argument="sh", mode="4755", setuid="true", returnval="0")
    assert matched(ev), ev["rules"]
    assert os.stat(f).st_mode & 0o4000


def chmod_status():
    return [t for t in D.status()["tracers"] if t["name"] == "chmod"][0]


def test_prefilter_keeps_what_the_rules_match():
    """Rules on the comm and the uid only: the kernel drops the other calls
    (counted), and still sends a named program's and nobody's, whatever the
    mode. Last: it replaces the rules the other tests use."""
    named = unique("cm")
    prog = os.path.join(WORK, named)
    shutil.copy(os.path.realpath(PYTHON), prog)
    rule = os.path.join(WORK, "named.toml")
    with open(rule, "w") as f:
        f.write('name = "named"\ntracer = "chmod"\nactions = []\n'
                'filterEvents.command.values = ["%s"]\n' % named)
    uid_rule = os.path.join(WORK, "nobody.toml")
    with open(uid_rule, "w") as f:
        f.write('name = "nobody"\ntracer = "chmod"\nactions = []\n'
                'filterEvents.uid.values = [65534]\n')
    D.cli("rm", "every_chmod")
    D.cli("rm", "setuid_bit")
    D.cli("create", rule)
    D.cli("create", uid_rule)
    assert chmod_status()["prefilter"] is True, chmod_status()
    f = new_file(os.path.join(WORK, unique("pf")))
    before = chmod_status()["prefiltered"]
    n = 20
    pid = py("import os\nfor i in range(%d): os.chmod(%r, 0o4755 if i & 1 else 0o644)" % (n, f))
    mine = new_file(os.path.join(OWN, unique("pf")), owner=65534)
    by_nobody = py("import os; os.chmod(%r, 0o600)" % mine, user=NOBODY)
    by_named = run([prog, "-c", "import os; os.chmod(%r, 0o4711)" % f])[0]
    ev = chmod_of(by_named, "the named program's chmod")
    assert ev["rules"] == ["named"], ev["rules"]
    expect(ev, filename=f, mode="4711", setuid="true")
    ev = chmod_of(by_nobody, "nobody's chmod")
    assert ev["rules"] == ["nobody"] and ev["uid"] == 65534, ev
    assert not T.all(lambda e: e["tracer"] == "chmod" and e["pid"] == pid), "not dropped"
    assert chmod_status()["prefiltered"] - before >= n, (before, chmod_status())


def test_tracer_listed():
    r = subprocess.run([os.environ.get("BPFD", "bpfd"), "tracers"], capture_output=True,
                       text=True, check=True)
    block = r.stdout.split("\nchmod\n", 1)[1].split("\n\n")[0]
    assert "tracepoint:syscalls:sys_exit_fchmodat2 (optional)" in block, block
    assert "keys        filename, argument, resolved, mode, setuid, setgid, world_writable, " \
           "syscall, command, returnval" in block, block
    st = D.status()
    t = [x for x in st["tracers"] if x["name"] == "chmod"][0]
    assert t["state"] == "loaded", t


def setup():
    global WORK, OWN, ROOT_FILE, HELPER
    WORK = tempfile.mkdtemp(prefix="chmod-")
    os.chmod(WORK, 0o755)
    OWN = os.path.join(WORK, "own")
    os.mkdir(OWN)
    os.chown(OWN, 65534, 65534)
    ROOT_FILE = new_file(os.path.join(WORK, "root-file"), 0o644)
    src = os.path.join(WORK, "helper.c")
    with open(src, "w") as f:
        f.write(HELPER_SOURCE)
    HELPER = os.path.join(WORK, unique("c32"))
    subprocess.run(["cc", "-O2", src, "-o", HELPER], check=True, stdin=subprocess.DEVNULL)
    root = os.environ.get("BPFD_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(root, "examples", "rules", "setuid_bit.toml")) as f:
        example = f.read().replace('actions = ["stdout"]', "actions = []")
    d = Daemon("--tracers", "chmod")
    d.write_rules({
        "setuid_bit": example,
        # `trace` streams what some rule matches: this one, every chmod.
        "every_chmod": 'tracer = "chmod"\nactions = []\n',
    })
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
            test_chmod_by_name_plain_0644,
            test_fchmod_setuid_path_from_the_kernel,
            test_fchmodat_with_a_dirfd,
            test_fchmodat2_and_empty_path,
            test_setuid_by_an_unprivileged_user_on_its_own_file,
            test_setuid_as_root_of_a_user_namespace,
            test_world_writable,
            test_failed_chmod_eperm,
            test_compat_entry,
            test_deep_directory,
            test_container,
            test_prefilter_keeps_what_the_rules_match,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
