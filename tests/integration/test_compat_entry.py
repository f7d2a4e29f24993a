#!/usr/bin/env python3
"""The 32-bit entry for the exec tracer and dockeropenbreakout (issue 16).

A failed exec through `int $0x80` (execve 11, execveat 358) from a 64-bit
process, which the syscalls:sys_exit_exec* tracepoints skip, is reported
like any failed exec: its -errno, its argv (read as 32-bit pointers), its
name joined to the cwd or dirfd and normalised, and data.syscall saying it
came through the 32-bit entry; its benign twin on a name no rule names is
dropped. A successful one is reported from sched_process_exec as before.
One raw sys_exit program serves exec, open and dockeropenbreakout, and
none is attached with `compat_syscalls = false`.
dockeropenbreakout sees opens through the 32-bit entry from a real docker
container: a static helper copied into the busybox image opens a host file
through a `-v /:/host` mount (reported) and the container's own file (not).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import (Daemon, Docker, Trace, require_root, run_tests, run_to_end, unique)

D = None
T = None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
WORK = None      # a directory all users may read
HELPER = None    # the static helper below, under a name of its own
MISSING = None   # WORK/gone/prog: the failed exec the "target" rule names
TRUE = os.path.realpath(shutil.which("true"))   # the "true" rule: a successful exec

# Makes one system call through the 32-bit entry and prints its result.
HELPER_SOURCE = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Memory below 4 GiB, where a 32-bit system call can point. */
static char *low_area(void)
{
	char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);

	if (p == MAP_FAILED)
		exit(3);
	return p;
}

static char *low(const char *s)
{
	char *p = low_area();

	snprintf(p, 4096, "%s", s);
	return p;
}

/* argv as the 32-bit entry reads it: 32-bit pointers, then 0. */
static uint32_t *low_argv(char **argv, int argc)
{
	uint32_t *v = (uint32_t *)low_area();
	int i;

	for (i = 0; i < argc; i++)
		v[i] = (uint32_t)(uintptr_t)low(argv[i]);
	v[argc] = 0;
	return v;
}

static long int80(long nr, long a, long b, long c, long d, long e)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	long r = -1;

	/* int80-execve PATH ARG...: execve(PATH, [ARG...], NULL) */
	if (argc >= 3 && strcmp(argv[1], "int80-execve") == 0)
		r = int80(11, (long)low(argv[2]), (long)low_argv(argv + 3, argc - 3), 0, 0, 0);
	/* int80-execveat DIR NAME ARG...: execveat(open(DIR), NAME, [ARG...], NULL, 0) */
	else if (argc >= 4 && strcmp(argv[1], "int80-execveat") == 0)
		r = int80(358, open(argv[2], O_RDONLY | O_DIRECTORY), (long)low(argv[3]),
			  (long)low_argv(argv + 4, argc - 4), 0, 0);
	/* int80-open PATH: open(PATH, O_RDONLY) */
	else if (argc == 3 && strcmp(argv[1], "int80-open") == 0)
		r = int80(5, (long)low(argv[2]), O_RDONLY, 0, 0, 0);
	printf("%ld\n", r);
	return r < 0;
}
"""


def run(argv, cwd=None, check=True):
    """Runs @argv to its end; returns (pid, its output)."""
    return run_to_end(argv, cwd=cwd, check=check, timeout=20)


def failed_exec(pid):
    return T.wait_for(lambda e: e["tracer"] == "exec" and e["pid"] == pid and e["returnval"] < 0
                      and "target" in e["rules"], what="the failed exec of %d" % pid, timeout=5)


def no_exec_reported(pid):
    """Called after a later event arrived: the ring buffer keeps their order."""
    bad = T.all(lambda e: e["tracer"] == "exec" and e["pid"] == pid)
    assert not bad, bad


def test_failed_int80_execve_relative():
    """Joined to the cwd and normalised, like any failed exec; argv read as 32-bit pointers."""
    twin = run(NOBODY + [HELPER, "int80-execve", "gone/../gone/other", "x"], cwd=WORK,
               check=False)[0]
    pid, res = run(NOBODY + [HELPER, "int80-execve", "./gone//../gone/prog", "prog", "-a",
                             "two words"], cwd=WORK, check=False)
    ev = failed_exec(pid)
    assert int(res) == -2 and ev["returnval"] == -2, (ev, res)
    d = ev["data"]
    assert d["filename"] == MISSING, d
    assert d["argument"] == "./gone//../gone/prog", d
    assert d["resolved"] == "false", d
    assert d["syscall"] == "compat_execve", d
    assert d["argv"] == "prog -a two words", d
    assert ev["uid"] == 65534 and ev["command"] == os.path.basename(HELPER), ev
    # A failed exec ran nothing: no descriptors, no fileless flag.
    assert "stdin" not in d and "fileless" not in d, d
    no_exec_reported(twin)


def test_failed_int80_execveat_dirfd():
    pid, res = run(NOBODY + [HELPER, "int80-execveat", os.path.join(WORK, "gone"), "prog",
                             "p"], check=False)
    ev = failed_exec(pid)
    d = ev["data"]
    assert d["filename"] == MISSING and d["argument"] == "prog", d
    assert d["syscall"] == "compat_execveat" and d["argv"] == "p", d
    assert ev["returnval"] == int(res) == -2, (ev, res)


def test_failed_int80_execve_of_a_file_not_executable():
    """EACCES: the file is there, the exec still failed; an empty argv is empty."""
    path = os.path.join(WORK, "gone", "prog")
    with open(path, "w") as f:
        f.write("not a program\n")
    os.chmod(path, 0o644)
    try:
        pid, res = run(NOBODY + [HELPER, "int80-execve", path], check=False)
        ev = failed_exec(pid)
        assert ev["returnval"] == int(res) == -13, (ev, res)
        assert ev["data"]["filename"] == MISSING and ev["data"]["argv"] == "", ev["data"]
        assert ev["data"]["syscall"] == "compat_execve", ev["data"]
    finally:
        os.unlink(path)


def test_native_failed_exec_says_execve():
    code = "import os\ntry:\n os.execv('%s', ['n'])\nexcept OSError:\n pass\n" % MISSING
    pid = run(NOBODY + [sys.executable, "-c", code])[0]
    ev = failed_exec(pid)
    assert ev["data"]["syscall"] == "execve", ev["data"]


def test_successful_int80_execve():
    """sched_process_exec fires whatever the entry: reported as before, no syscall key."""
    true = TRUE
    pid = run(NOBODY + [HELPER, "int80-execve", true, "true", "compat"])[0]
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["pid"] == pid and e["returnval"] == 0,
                    what="the int $0x80 exec of true")
    assert ev["data"]["filename"] == true and ev["data"]["argv"] == "true compat", ev["data"]
    assert "syscall" not in ev["data"], ev["data"]


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


def test_one_sys_exit_program():
    """exec, open and dockeropenbreakout loaded: one program runs on every system call."""
    st = D.status()
    loaded = {t["name"] for t in st["tracers"] if t["state"] == "loaded"}
    assert {"exec", "open", "dockeropenbreakout"} <= loaded, st["tracers"]
    assert sys_exit_hooks(D.pid) == 1, sys_exit_hooks(D.pid)


def test_compat_switched_off():
    """compat_syscalls = false: no sys_exit program, no failed compat exec; native ones still."""
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\ncompat_syscalls = false\n")
    os.makedirs(os.path.join(tmp, "rules"))
    shutil.copy(os.path.join(D.tmp, "rules", "target.toml"), os.path.join(tmp, "rules"))
    d = Daemon("--tracers", "exec,dockeropenbreakout", "--config", conf, tmpdir=tmp)
    try:
        d.start()
        assert sys_exit_hooks(d.pid) == 0, "compat_syscalls = false left the hook attached"
        t = Trace(d)
        try:
            pid = run(NOBODY + [HELPER, "int80-execve", MISSING], check=False)[0]
            code = "import os\ntry:\n os.execv('%s', ['n'])\nexcept OSError:\n pass\n" % MISSING
            last = run(NOBODY + [sys.executable, "-c", code])[0]
            t.wait_for(lambda e: e["pid"] == last and "target" in e["rules"],
                       what="the native failed exec after the compat one")
            bad = t.all(lambda e: e["pid"] == pid or
                        e["data"].get("syscall", "").startswith("compat_"))
            assert not bad, bad
        finally:
            t.stop()
    finally:
        d.cleanup()


def test_dockeropenbreakout_through_int80():
    docker = Docker()
    if not docker.ok:
        print("SKIP: " + docker.reason)
        return
    try:
        def contained(*args):
            cidfile = tempfile.mktemp(prefix="bpfd-cid-")
            try:
                r = docker.run("--rm", "--cidfile", cidfile, "-v", "/:/host",
                               "-v", HELPER + ":/int80:ro", Docker.IMAGE, *args, check=False)
                assert os.path.exists(cidfile), r.stderr
                with open(cidfile) as f:
                    return f.read().strip(), r
            finally:
                if os.path.exists(cidfile):
                    os.unlink(cidfile)

        # The container's own file first (its twin): not a breakout.
        own, r = contained("/int80", "int80-open", "/etc/hostname")
        assert r.returncode == 0, (r.stdout, r.stderr)
        cid, r = contained("/int80", "int80-open", "/host/etc/hostname")
        assert r.returncode == 0, (r.stdout, r.stderr)
        ev = T.wait_for(lambda e: e["tracer"] == "dockeropenbreakout" and e["container_id"] == cid,
                        what="the int $0x80 breakout", timeout=20)
        assert ev["data"]["reason"] == "host-root-filesystem", ev["data"]
        assert ev["data"]["path"] == "/etc/hostname", ev["data"]
        assert ev["data"]["filename"] == "/host/etc/hostname", ev["data"]
        assert ev["command"] == "int80", ev
        assert ev["returnval"] == int(r.stdout.strip()) >= 0, (ev, r.stdout)
        assert not T.all(lambda e: e["tracer"] == "dockeropenbreakout"
                         and e["container_id"] == own), "the container's own file was reported"
    finally:
        docker.stop()


def setup():
    global WORK, HELPER, MISSING
    WORK = tempfile.mkdtemp(prefix="compat-")
    os.mkdir(os.path.join(WORK, "gone"))
    os.chmod(os.path.join(WORK, "gone"), 0o755)
    os.chmod(WORK, 0o755)
    MISSING = os.path.join(WORK, "gone", "prog")
    src = os.path.join(WORK, "helper.c")
    with open(src, "w") as f:
        f.write(HELPER_SOURCE)
    # Static: it runs in the busybox container too.
    HELPER = os.path.join(WORK, "int80")
    subprocess.run(["cc", "-O2", "-static", src, "-o", HELPER], check=True,
                   stdin=subprocess.DEVNULL)
    os.chmod(HELPER, 0o755)
    d = Daemon("--tracers", "exec,open,dockeropenbreakout")
    os.makedirs(os.path.join(d.tmp, "rules"))
    with open(os.path.join(d.tmp, "rules", "target.toml"), "w") as f:
        f.write('tracer = "exec"\nactions = []\nfilterEvents.filename.values = ["%s"]\n'
                % MISSING)
    # The open tracer's prefilter on: other tests' and benchmarks' opens on
    # this shared machine are dropped in the kernel, not queued before ours.
    with open(os.path.join(d.tmp, "rules", "quiet.toml"), "w") as f:
        f.write('tracer = "open"\nactions = []\nfilterEvents.filename.values = ["%s"]\n'
                % MISSING)
    with open(os.path.join(d.tmp, "rules", "true.toml"), "w") as f:
        f.write('tracer = "exec"\nactions = []\nfilterEvents.filename.values = ["%s"]\n'
                % TRUE)
    return d


def main():
    global D, T
    require_root()
    D = setup()
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_failed_int80_execve_relative,
            test_failed_int80_execveat_dirfd,
            test_failed_int80_execve_of_a_file_not_executable,
            test_native_failed_exec_says_execve,
            test_successful_int80_execve,
            test_one_sys_exit_program,
            test_compat_switched_off,
            test_dockeropenbreakout_through_int80,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
