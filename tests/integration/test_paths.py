#!/usr/bin/env python3
"""Events say what the kernel did, not what the process typed (issue 16).

Every way of naming a file that a rule on its path used to miss, played by
the user who would try it: an unprivileged user (setpriv) on a test file it
may read, root on /etc/shadow, a user in its own user and mount namespace,
a container. Each must match the rule on the file's real path, and its
benign twin (the same trick on another file) must not. Then the exec
tracer: the real path of what ran, a script's interpreter, fileless
programs (memfd, a deleted binary) and a shell whose stdin is a socket.
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
CAT = None       # a copy of cat with a name of its own
RACER = None     # the C helper of test_name_rewritten_by_a_second_thread

# Opens a file while a second thread rewrites the name between the kernel's
# copy of it and the syscall's return, keeping every descriptor open so that
# each open has a number of its own. Prints the descriptors that really are
# the target (by inode).
RACER_SOURCE = r"""
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char name[4096];
static const char *target, *decoy;
static volatile int stop;

static void *flip(void *arg)
{
	(void)arg;
	while (!stop) {
		memcpy(name, decoy, strlen(decoy) + 1);
		memcpy(name, target, strlen(target) + 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct stat want, got;
	struct timespec t0, t;
	pthread_t th;
	int i, fd;

	if (argc != 4 || stat(argv[1], &want) < 0)
		return 2;
	target = argv[1];
	decoy = argv[2];
	memcpy(name, target, strlen(target) + 1);
	pthread_create(&th, NULL, flip, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < atoi(argv[3]); i++) {
		fd = open(name, O_RDONLY);
		if (fd >= 0 && fstat(fd, &got) == 0 && got.st_ino == want.st_ino &&
		    got.st_dev == want.st_dev)
			printf("%d\n", fd);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 2)
			break;
	}
	stop = 1;
	pthread_join(th, NULL);
	return 0;
}
"""


def run(argv, cwd=None, stdin=subprocess.DEVNULL, check=True):
    """Runs @argv to its end; returns (pid, completed output)."""
    p = subprocess.Popen(argv, cwd=cwd, stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (argv, p.returncode, err))
    return p.pid, out


def opens_of(pid):
    return T.all(lambda e: e["tracer"] == "open" and e["pid"] == pid)


def expect_match(pid, rule, filename, argument=None, resolved="true"):
    """The open of @pid matches @rule on @filename, keeping what it typed."""
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["pid"] == pid and rule in e["rules"],
                    what="open by %d matching %s" % (pid, rule), timeout=5)
    assert ev["data"]["filename"] == filename, ev["data"]
    assert ev["data"]["resolved"] == resolved, ev["data"]
    if argument is not None:
        assert ev["data"].get("argument") == argument, ev["data"]
    return ev


def expect_no_match(pid, rule):
    """Called after a later event arrived: the ring buffer keeps their order."""
    bad = [e for e in opens_of(pid) if rule in e["rules"]]
    assert not bad, bad


def attack(argv, cwd=None, twin_argv=None, twin_cwd=None, filename=None, argument=None,
           rule="target", resolved="true", check=True):
    """The benign twin first, then the attack: the attack must match, the twin not."""
    twin_pid = run(twin_argv, cwd=twin_cwd, check=False)[0] if twin_argv else None
    pid = run(argv, cwd=cwd, check=check)[0]
    ev = expect_match(pid, rule, filename or TARGET, argument, resolved)
    if twin_pid:
        expect_no_match(twin_pid, rule)
    return ev


def test_relative_to_the_cwd():
    attack(NOBODY + [CAT, "target"], cwd=os.path.dirname(TARGET),
           twin_argv=NOBODY + [CAT, "target"], twin_cwd=os.path.dirname(TWIN),
           argument="target")
    attack([CAT, "shadow"], cwd="/etc", rule="shadow", filename="/etc/shadow",
           twin_argv=[CAT, "passwd"], twin_cwd="/etc", argument="shadow")


def test_failed_open_joined_to_the_cwd():
    """No file to walk: the name joined to the cwd's path, normalised."""
    attack(NOBODY + [CAT, "../etc/./shadow"], cwd="/usr", rule="shadow",
           filename="/etc/shadow", resolved="false", check=False,
           twin_argv=NOBODY + [CAT, "../etc/shadow"], twin_cwd="/usr/lib")


def test_dirfd():
    code = ("import os,sys; d=os.open(sys.argv[1], os.O_RDONLY|os.O_DIRECTORY); "
            "os.open('target', os.O_RDONLY, dir_fd=d)")
    attack(NOBODY + [PYTHON, "-c", code, os.path.dirname(TARGET)],
           twin_argv=NOBODY + [PYTHON, "-c", code, os.path.dirname(TWIN)], argument="target")


def test_dotdot_and_slashes():
    sec = os.path.dirname(TARGET)
    dotted = sec + "/../twin/../sec/./target"
    attack(NOBODY + [CAT, dotted], twin_argv=NOBODY + [CAT, sec + "/../twin/target"],
           argument=dotted)
    slashes = "/" + sec.replace("/", "//") + "///target"
    attack(NOBODY + [CAT, slashes], argument=slashes)
    attack([CAT, "/tmp/../etc//shadow"], rule="shadow", filename="/etc/shadow")


def test_symlink():
    link, twin_link = os.path.join(WORK, "link"), os.path.join(WORK, "twin-link")
    os.symlink(TARGET, link)
    os.symlink(TWIN, twin_link)
    attack(NOBODY + [CAT, link], twin_argv=NOBODY + [CAT, twin_link], argument=link)


def test_proc_self_root():
    attack(NOBODY + [CAT, "/proc/self/root" + TARGET], argument="/proc/self/root" + TARGET)
    attack([CAT, "/proc/self/root/etc/shadow"], rule="shadow", filename="/etc/shadow")


def test_bind_mount_in_own_mount_namespace():
    mnt = os.path.join(WORK, "mnt")
    os.makedirs(mnt, exist_ok=True)  # run once more with kernel_loads = false
    os.chmod(mnt, 0o755)
    script = 'mount --bind "$1" "$2" && exec "$3" "$2"/target'
    ns = ["unshare", "-Urm", "sh", "-c", script, "sh"]
    attack(NOBODY + ns + [os.path.dirname(TARGET), mnt, CAT],
           twin_argv=NOBODY + ns + [os.path.dirname(TWIN), mnt, CAT],
           argument=mnt + "/target")


def test_chroot():
    code = "import os,sys; os.chroot(sys.argv[1]); os.open(sys.argv[2], os.O_RDONLY)"
    # An unprivileged user chroots in its own user namespace.
    attack(NOBODY + ["unshare", "-Ur", PYTHON, "-c", code, WORK, "/sec/target"],
           twin_argv=NOBODY + ["unshare", "-Ur", PYTHON, "-c", code, WORK, "/twin/target"],
           argument="/sec/target")
    attack([PYTHON, "-c", code, "/etc", "/shadow"], rule="shadow", filename="/etc/shadow",
           argument="/shadow")


def test_symlink_retargeted_right_after_the_open():
    link = os.path.join(WORK, "moving")
    os.symlink(TARGET, link)
    code = ("import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); "
            "os.symlink(sys.argv[2], sys.argv[1] + '.new'); os.rename(sys.argv[1] + '.new', sys.argv[1])")
    ev = attack([PYTHON, "-c", code, link, TWIN], argument=link)
    assert os.path.realpath(link) == TWIN  # what a later realpath would have said
    assert ev["data"]["filename"] == TARGET


def test_name_rewritten_by_a_second_thread():
    decoy = os.path.join(WORK, "sec", "decoy0")  # as long as "target"
    with open(decoy, "w") as f:
        f.write("decoy\n")
    os.chmod(decoy, 0o644)
    racer = make_program(WORK, unique("race"), RACER)
    pid, out = run(NOBODY + [racer, TARGET, decoy, "900"])
    fds = sorted(int(x) for x in out.split())
    assert fds, "the racer never opened the target"
    deadline = time.time() + 5
    while True:
        # A failed open opened nothing: its name is read at the exit (and a torn
        # copy the kernel refused may read as the target by then), so only the
        # opens that returned a descriptor are compared.
        got = sorted(e["returnval"] for e in opens_of(pid)
                     if "target" in e["rules"] and e["returnval"] >= 0)
        if len(got) >= len(fds) or time.time() > deadline:
            break
        time.sleep(0.1)
    assert all(e["data"]["filename"] == TARGET for e in opens_of(pid)), opens_of(pid)[:3]
    # Exactly the opens of the target matched, whatever the name said at the exit.
    assert got == fds, "opens of the target: %s; matched: %s" % (fds, got)


def test_container_opens_its_own_shadow():
    if not DOCKER.ok:
        print("  (no docker: %s)" % DOCKER.reason)
        return
    name = unique("paths")
    try:
        DOCKER.run("--name", name, Docker.IMAGE, "sh", "-c",
                   "echo x > /etc/shadow && cd /etc && cat shadow")
        cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True,
                             text=True, check=True, stdin=subprocess.DEVNULL).stdout.strip()
        ev = T.wait_for(lambda e: e["tracer"] == "open" and e["container_id"] == cid
                        and "shadow" in e["rules"] and e["command"] == "cat",
                        what="the container's cat of its /etc/shadow")
        assert ev["data"]["filename"] == "/etc/shadow", ev["data"]
        assert ev["data"]["argument"] == "shadow", ev["data"]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, stdin=subprocess.DEVNULL)


def execs_of(pid, pred=lambda e: True, what="exec"):
    return T.wait_for(lambda e: e["tracer"] == "exec" and e["pid"] == pid and e["returnval"] == 0
                      and pred(e), what=what, timeout=5)


def test_exec_through_a_symlink():
    prog = make_program(WORK, unique("real"))
    link = os.path.join(WORK, unique("ln"))
    os.symlink(prog, link)
    pid, _ = run([link])
    ev = execs_of(pid)
    assert ev["data"]["filename"] == prog, ev["data"]
    assert ev["data"]["argument"] == link, ev["data"]
    assert ev["data"]["fileless"] == "false", ev["data"]


def test_exec_of_a_script():
    script = os.path.join(WORK, unique("scr"))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    pid, _ = run(["./" + os.path.basename(script)], cwd=WORK)
    ev = execs_of(pid)
    assert ev["data"]["filename"] == script, ev["data"]
    assert ev["data"]["argument"] == "./" + os.path.basename(script), ev["data"]
    assert ev["data"]["interpreter"] == os.path.realpath("/bin/sh"), ev["data"]


def test_fileless_memfd():
    code = ("import os; fd=os.memfd_create('payload'); "
            "os.write(fd, open('/bin/true','rb').read()); os.execve(fd, ['payload'], {})")
    pid, _ = run(NOBODY + [PYTHON, "-c", code])
    ev = execs_of(pid, lambda e: e["data"]["argv"] == "payload", what="fexecve of a memfd")
    assert ev["data"]["fileless"] == "true", ev["data"]
    assert ev["data"]["filename"] == "/memfd:payload", ev["data"]
    assert "fileless" in ev["rules"], ev["rules"]


def test_fileless_deleted_binary():
    prog = make_program(WORK, unique("del"))
    code = ("import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.unlink(sys.argv[1]); "
            "os.execve(fd, ['deleted'], {})")
    pid, _ = run([PYTHON, "-c", code, prog])
    ev = execs_of(pid, lambda e: e["data"]["argv"] == "deleted", what="exec of a deleted binary")
    assert ev["data"]["fileless"] == "true", ev["data"]
    assert ev["data"]["filename"] == prog, ev["data"]
    assert "fileless" in ev["rules"], ev["rules"]
    # Its benign twin: the same binary, still on disk.
    twin = make_program(WORK, unique("kept"))
    pid, _ = run([twin])
    ev = execs_of(pid)
    assert ev["data"]["fileless"] == "false" and "fileless" not in ev["rules"], ev


def test_shell_with_a_socket_as_stdin():
    import socket
    sh = make_program(WORK, unique("sh"), "/bin/sh")
    a, b = socket.socketpair()
    try:
        pid, _ = run([sh, "-c", "exit 0"], stdin=a)
        twin_pid, _ = run([sh, "-c", "exit 0"])
    finally:
        a.close()
        b.close()
    ev = execs_of(pid)
    assert ev["data"]["stdin"] == "socket", ev["data"]
    assert ev["data"]["stdout"] == "pipe" and ev["data"]["stderr"] == "pipe", ev["data"]
    assert "reverse_shell" in ev["rules"], ev["rules"]
    ev = execs_of(twin_pid)
    assert ev["data"]["stdin"] == "file" and "reverse_shell" not in ev["rules"], ev


def prefiltered(d, tracer):
    return [t for t in d.status()["tracers"] if t["name"] == tracer][0]["prefiltered"]


def test_failed_opens_and_execs_with_a_prefix_rule():
    """With a prefix among the names, a failed open is dropped in the kernel
    by where its name joined to its directory begins, and a failed exec of
    an absolute name by how that name begins: a user's ways of writing a
    name under the prefix (relative, "..", "//", "/./") still reach the
    rule, and failed opens and execs elsewhere never reach the daemon."""
    sec = os.path.dirname(TARGET)
    d = Daemon("--tracers", "open,exec")
    d.write_rules({
        "under": 'tracer = "open"\nactions = []\nfilterEvents.filename.values = ["%s/*"]\n' % sec,
        "run_under": 'tracer = "exec"\nactions = []\nfilterEvents.filename.values = ["%s/*"]\n'
                     % sec,
    })
    d.start()
    t = Trace(d)
    try:
        twin = os.path.dirname(TWIN)
        ways = [  # (argv, cwd): each fails, each names something under sec
            ([CAT, "nosuch1"], sec),
            ([CAT, "../sec/nosuch2"], twin),
            ([CAT, "./nosuch3"], sec),
            ([CAT, "/" + sec.replace("/", "//") + "/nosuch4"], None),
            ([CAT, sec + "/nosuch5"], None),
            ([CAT, "/./" + sec + "/nosuch6"], None),
            ([CAT, "/usr/../" + sec + "/nosuch7"], None),
        ]
        pids = [run(NOBODY + argv, cwd=cwd, check=False)[0] for argv, cwd in ways]
        for pid, (argv, _) in zip(pids, ways):
            ev = t.wait_for(lambda e: e["tracer"] == "open" and e["pid"] == pid and
                            "under" in e["rules"], what="failed open %s" % argv[-1], timeout=5)
            assert ev["data"]["resolved"] == "false" and int(ev["returnval"]) < 0, ev
            assert ev["data"]["filename"] == sec + "/" + argv[-1].rsplit("/", 1)[-1], ev["data"]
        # A failed exec of an absolute name under sec, written with "//".
        pid = run(NOBODY + [PYTHON, "-c", "import os,sys\ntry: os.execv(sys.argv[1], ['x'])\n"
                            "except OSError: pass", "//" + sec.lstrip("/") + "/nosuch-exec"],
                  check=False)[0]
        t.wait_for(lambda e: e["tracer"] == "exec" and e["pid"] == pid and
                   "run_under" in e["rules"], what="failed exec under sec", timeout=5)
        # Elsewhere (another top directory than sec's): dropped in the kernel.
        n = 300
        before = prefiltered(d, "open"), prefiltered(d, "exec")
        code = ("import os\nfor i in range(%d):\n"
                "    for n in ('nosuch', '/usr/nosuch'):\n"
                "        try: os.open(n, os.O_RDONLY)\n"
                "        except OSError: pass\n"
                "    try: os.execv('/usr/nosuch', ['x'])\n"
                "    except OSError: pass\n" % n)
        pid = run(NOBODY + [PYTHON, "-c", code], cwd="/usr")[0]
        # A later event: everything before it was read.
        last = run(NOBODY + [CAT, "nosuch8"], cwd=sec, check=False)[0]
        t.wait_for(lambda e: e["pid"] == last and "under" in e["rules"], what="last open")
        after = prefiltered(d, "open"), prefiltered(d, "exec")
        assert after[0] - before[0] >= 2 * n, (before, after)
        assert after[1] - before[1] >= n, (before, after)
        assert not t.all(lambda e: e["pid"] == pid and e["rules"]), "a benign failure matched"
    finally:
        t.stop()
        d.cleanup()


def test_kernel_memory_by_loads():
    # This kernel takes the kfunc bpf_rdonly_cast (bpf/kmem.h): every walk
    # below runs on plain loads, not bpf_probe_read_kernel() calls.
    assert "kernel memory read by loads" in D.stderr(), D.stderr()


def test_kernel_memory_by_the_helper():
    # kernel_loads = false: the same programs compiled to read with
    # bpf_probe_read_kernel(), what a kernel without the kfunc runs.
    assert "kernel memory read by bpf_probe_read_kernel" in D.stderr(), D.stderr()


def setup(*daemon_args):
    global WORK, TARGET, TWIN, CAT, RACER
    if WORK:
        return daemon(*daemon_args)
    WORK = tempfile.mkdtemp(prefix="paths-")
    for d in ("sec", "twin"):
        os.mkdir(os.path.join(WORK, d))
        with open(os.path.join(WORK, d, "target"), "w") as f:
            f.write(d + "\n")
        os.chmod(os.path.join(WORK, d, "target"), 0o644)
        os.chmod(os.path.join(WORK, d), 0o755)
    os.chmod(WORK, 0o755)
    TARGET = os.path.join(WORK, "sec", "target")
    TWIN = os.path.join(WORK, "twin", "target")
    CAT = make_program(WORK, unique("cat"), "/bin/cat")
    src = os.path.join(WORK, "racer.c")
    with open(src, "w") as f:
        f.write(RACER_SOURCE)
    RACER = os.path.join(WORK, "racer")
    subprocess.run(["cc", "-O2", "-pthread", src, "-o", RACER], check=True,
                   stdin=subprocess.DEVNULL)
    return daemon(*daemon_args)


def daemon(*daemon_args):
    rules = {
        "target": 'tracer = "open"\nactions = []\nfilterEvents.filename.values = ["%s"]\n' % TARGET,
        "shadow": 'tracer = "open"\nactions = []\nfilterEvents.filename.values = ["/etc/shadow"]\n',
        "fileless": 'tracer = "exec"\nactions = []\nfilterEvents.fileless.values = ["true"]\n',
        "reverse_shell": 'tracer = "exec"\nactions = []\nfilterEvents.stdin.values = ["socket"]\n',
        # `trace` shows the events rules match: this one shows every program run from WORK.
        "work": 'tracer = "exec"\nactions = []\nfilterEvents.filename.values = ["%s/*"]\n' % WORK,
    }
    d = Daemon("--tracers", "open,exec", *daemon_args)
    os.makedirs(os.path.join(d.tmp, "rules"))
    for name, text in rules.items():
        with open(os.path.join(d.tmp, "rules", name + ".toml"), "w") as f:
            f.write(text)
    return d


def main():
    global D, T, DOCKER
    require_root()
    DOCKER = Docker()
    every = [
        test_kernel_memory_by_loads,
        test_relative_to_the_cwd,
        test_failed_open_joined_to_the_cwd,
        test_failed_opens_and_execs_with_a_prefix_rule,
        test_dirfd,
        test_dotdot_and_slashes,
        test_symlink,
        test_proc_self_root,
        test_bind_mount_in_own_mount_namespace,
        test_chroot,
        test_symlink_retargeted_right_after_the_open,
        test_name_rewritten_by_a_second_thread,
        test_container_opens_its_own_shadow,
        test_exec_through_a_symlink,
        test_exec_of_a_script,
        test_fileless_memfd,
        test_fileless_deleted_binary,
        test_shell_with_a_socket_as_stdin,
    ]
    # Again with the helper's reads (kernel_loads = false), the walks that
    # differ: mounts, chroot, dirfd, the exec's file and descriptors.
    helper = [
        test_kernel_memory_by_the_helper,
        test_relative_to_the_cwd,
        test_failed_open_joined_to_the_cwd,
        test_dirfd,
        test_dotdot_and_slashes,
        test_bind_mount_in_own_mount_namespace,
        test_chroot,
        test_exec_through_a_symlink,
        test_fileless_memfd,
        test_shell_with_a_socket_as_stdin,
    ]
    fd, helper_conf = tempfile.mkstemp(prefix="bpfd-paths-", suffix=".conf")
    os.write(fd, b"[daemon]\nkernel_loads = false\n")
    os.close(fd)
    failed = 0
    try:
        for tests, args in ((every, ()), (helper, ("--config", helper_conf))):
            D = setup(*args)
            try:
                D.start()
                T = Trace(D)
                failed |= run_tests(tests)
            finally:
                if T:
                    T.stop()
                    T = None
                D.cleanup()
        return failed
    finally:
        os.unlink(helper_conf)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
