#!/usr/bin/env python3
"""A file is a file however it is named (issue 16): rules recognise the
files they name by identity (device and inode).

Each test plays someone who reaches a file a rule names under another name
the kernel's path walk cannot see through: a hard link, a bind mount of
the file or of its directory on a root of their own (pivot_root in their
own user and mount namespace), a chroot jail, a container given the
directory as a volume. Each must match the rule with `data.identity`
naming the rule's file; the same trick on a benign twin (another file with
the same name) must not. A file replaced by a rename is known by its new
inode, a container's own /etc/shadow still matches by name, and a prefix
rule matches through its directory's identity, even when the path the
attacker chose is excluded.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import Daemon, Docker, Trace, make_program, require_root, run_tests, unique

D = None
T = None
DOCKER = None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
PYTHON = "/usr/bin/python3"
WORK = None      # a directory all users may read
TARGET = None    # WORK/sec/target: the file the "target" rule names
TWIN = None      # WORK/twin/target: same name, another file
PFX = None       # WORK/pfx: the directory the "pfx" rule's prefix names
CAT = None       # a copy of cat with a name of its own

# In a new user and mount namespace: a tmpfs as the new root, @src (a file
# or directory) bind-mounted on it as @name, pivot_root into it, then open
# each further argument. The host's root is no longer above any mount the
# opener sees, so the kernel's path is the one inside the new root.
PIVOT = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def ok(r):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
new, src, name = sys.argv[1:4]
ok(libc.mount(b"none", new.encode(), b"tmpfs", 0, None))
dst = os.path.join(new, name)
if os.path.isdir(src):
    os.mkdir(dst)
else:
    open(dst, "w").close()
ok(libc.mount(src.encode(), dst.encode(), None, 4096, None))  # MS_BIND
os.mkdir(os.path.join(new, "old"))
ok(libc.syscall(155, new.encode(), os.path.join(new, "old").encode()))  # pivot_root
os.chdir("/")
for p in sys.argv[4:]:
    os.close(os.open(p, os.O_RDONLY))
"""


def run(argv, cwd=None, check=True):
    """Runs @argv to its end; returns its pid."""
    p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (argv, p.returncode, err))
    return p.pid


def opens_of(pid):
    return T.all(lambda e: e["tracer"] == "open" and e["pid"] == pid)


def expect_match(pid, rule, filename, identity, timeout=5):
    """@pid's open of @filename matches @rule, by the identity of @identity."""
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["pid"] == pid and rule in e["rules"]
                    and e["data"]["filename"] == filename,
                    what="open of %s by %d matching %s" % (filename, pid, rule), timeout=timeout)
    assert ev["data"].get("identity") == identity, ev["data"]
    return ev


def expect_no_match(pid, rule):
    """Called after a later event arrived: the ring buffer keeps their order."""
    bad = [e for e in opens_of(pid) if rule in e["rules"]]
    assert not bad, bad


def attack(argv, twin_argv, filename, rule="target", identity=None):
    """The benign twin first, then the attack: the attack must match, the twin not."""
    twin_pid = run(twin_argv)
    pid = run(argv)
    ev = expect_match(pid, rule, filename, identity or TARGET)
    expect_no_match(twin_pid, rule)
    return ev


def links_dir():
    """A directory of this test's, where anyone may make links."""
    d = os.path.join(WORK, unique("ln"))
    os.mkdir(d)
    os.chmod(d, 0o1777)
    return d


def new_root():
    d = os.path.join(WORK, unique("root"))
    os.mkdir(d)
    os.chmod(d, 0o755)
    return d


def pivot(src, name, *paths, user=True):
    """argv: pivot into a new root holding @src as @name and open @paths (as nobody by default)."""
    ns = ["unshare", "-Urm"] if user else ["unshare", "-m"]
    return (NOBODY if user else []) + ns + [PYTHON, "-c", PIVOT, new_root(), src, name] + \
        list(paths)


def test_hard_link_by_a_user():
    # protected_hardlinks lets a user link a file it may read and write.
    ln = links_dir()
    attack(NOBODY + ["sh", "-c", 'ln "$1" "$2" && exec "$3" "$2"', "sh", TARGET, ln + "/a", CAT],
           NOBODY + ["sh", "-c", 'ln "$1" "$2" && exec "$3" "$2"', "sh", TWIN, ln + "/b", CAT],
           ln + "/a")


def test_bind_mount_of_the_file_by_a_user():
    attack(pivot(TARGET, "f", "/f"), pivot(TWIN, "f", "/f"), "/f")


def test_bind_mount_of_the_file_by_root():
    attack(pivot(TARGET, "f", "/f", user=False), pivot(TWIN, "f", "/f", user=False), "/f")


def test_bind_mount_of_the_directory_by_a_user():
    attack(pivot(os.path.dirname(TARGET), "x", "/x/target"),
           pivot(os.path.dirname(TWIN), "x", "/x/target"), "/x/target")


def test_chroot_jail_by_a_user():
    # A jail holding a link to the file, entered in a user namespace.
    code = "import os,sys; os.chroot(sys.argv[1]); os.close(os.open(sys.argv[2], os.O_RDONLY))"
    jail, twin_jail = links_dir(), links_dir()
    os.link(TARGET, jail + "/t")
    os.link(TWIN, twin_jail + "/t")
    attack(NOBODY + ["unshare", "-Ur", PYTHON, "-c", code, jail, "/t"],
           NOBODY + ["unshare", "-Ur", PYTHON, "-c", code, twin_jail, "/t"], jail + "/t")


def test_replaced_file_is_known_by_its_new_inode():
    ln = links_dir()
    os.link(TARGET, ln + "/old")
    # As passwd replaces /etc/shadow: a new file renamed over it.
    tmp = TARGET + ".new"
    with open(tmp, "w") as f:
        f.write("new\n")
    os.chmod(tmp, 0o666)
    os.rename(tmp, TARGET)
    os.link(TARGET, ln + "/new")
    # The daemon learns the new inode from inotify, at once but not synchronously.
    deadline = time.time() + 5
    while True:
        old_pid = run(NOBODY + [CAT, ln + "/old"])
        pid = run(NOBODY + [CAT, ln + "/new"])
        try:
            expect_match(pid, "target", ln + "/new", TARGET, timeout=1)
            break
        except AssertionError:
            if time.time() > deadline:
                raise
    # The old inode is another file now: no longer the one the rule names.
    expect_no_match(old_pid, "target")


def test_prefix_rule_through_a_bind_mounted_directory():
    # The path the attacker chose (/x/...) is excluded by "pfx_ex": the identity still matches.
    twin_pid = run(pivot(PFX + "twin", "x", "/x/sub/file"))
    pid = run(pivot(PFX, "x", "/x/sub/file"))
    ev = expect_match(pid, "pfx", "/x/sub/file", PFX + "/sub/file")
    assert "pfx_ex" in ev["rules"], ev["rules"]
    expect_no_match(twin_pid, "pfx")
    expect_no_match(twin_pid, "pfx_ex")
    # A mount of a directory below it: the names under the rule's directory
    # are the dentries', not the mount point's. What pfx_ex excludes by the
    # file's own name stays excluded under any name.
    pid = run(pivot(PFX + "/sub", "y", "/y/file", "/y/skip"))
    expect_match(pid, "pfx", "/y/file", PFX + "/sub/file")
    ev = expect_match(pid, "pfx", "/y/skip", PFX + "/sub/skip")
    assert "pfx_ex" not in ev["rules"], ev["rules"]


def test_container_volume_and_its_own_shadow():
    if not DOCKER.ok:
        print("  (no docker: %s)" % DOCKER.reason)
        return
    name = unique("ident")
    try:
        DOCKER.run("--name", name, "-v", os.path.dirname(TARGET) + ":/x:ro",
                   "-v", os.path.dirname(TWIN) + ":/y:ro", Docker.IMAGE, "sh", "-c",
                   "cat /y/target && cat /x/target && echo x > /etc/shadow && cat /etc/shadow")
        cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True,
                             text=True, check=True, stdin=subprocess.DEVNULL).stdout.strip()

        def in_container(rule):
            return T.wait_for(lambda e: e["tracer"] == "open" and e["container_id"] == cid
                              and rule in e["rules"] and e["command"] == "cat",
                              what="the container's cat matching %s" % rule)
        ev = in_container("target")
        assert ev["data"]["filename"] == "/x/target", ev["data"]
        assert ev["data"]["identity"] == TARGET, ev["data"]
        # Its own /etc/shadow is another inode: it matches by name, as before.
        ev = in_container("shadow")
        assert ev["data"]["filename"] == "/etc/shadow", ev["data"]
        assert "identity" not in ev["data"], ev["data"]
        bad = T.all(lambda e: e["container_id"] == cid and e["data"].get("filename") == "/y/target"
                    and e["rules"])
        assert not bad, bad
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, stdin=subprocess.DEVNULL)


def setup():
    global WORK, TARGET, TWIN, PFX, CAT
    WORK = tempfile.mkdtemp(prefix="identity-")
    os.chmod(WORK, 0o755)
    for d in ("sec", "twin", "pfx/sub", "pfxtwin/sub"):
        os.makedirs(os.path.join(WORK, d))
    for f in ("sec/target", "twin/target", "pfx/sub/file", "pfx/sub/skip", "pfxtwin/sub/file"):
        with open(os.path.join(WORK, f), "w") as out:
            out.write(f + "\n")
        # Root's files, which the user may read, and write: protected_hardlinks
        # lets it link only those.
        os.chmod(os.path.join(WORK, f), 0o666)
    for d in ("sec", "twin", "pfx", "pfx/sub", "pfxtwin", "pfxtwin/sub"):
        os.chmod(os.path.join(WORK, d), 0o755)
    TARGET = os.path.join(WORK, "sec", "target")
    TWIN = os.path.join(WORK, "twin", "target")
    PFX = os.path.join(WORK, "pfx")
    CAT = make_program(WORK, unique("cat"), "/bin/cat")
    rule = 'tracer = "open"\nactions = []\n[filterEvents.filename]\nvalues = ["%s"]\n'
    rules = {
        "target": rule % TARGET,
        "shadow": rule % "/etc/shadow",
        "pfx": rule % (PFX + "/*"),
        "pfx_ex": rule % (PFX + "/*") + 'exclude = ["/x/*", "%s/sub/skip"]\n' % PFX,
    }
    return Daemon("--tracers", "open").write_rules(rules)


def main():
    global D, T, DOCKER
    require_root()
    D = setup()
    try:
        D.start()
        T = Trace(D)
        DOCKER = Docker()
        return run_tests([
            test_hard_link_by_a_user,
            test_bind_mount_of_the_file_by_a_user,
            test_bind_mount_of_the_file_by_root,
            test_bind_mount_of_the_directory_by_a_user,
            test_chroot_jail_by_a_user,
            test_prefix_rule_through_a_bind_mounted_directory,
            test_container_volume_and_its_own_shadow,
            test_replaced_file_is_known_by_its_new_inode,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
