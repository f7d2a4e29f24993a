"""Harness for bpfd's integration tests: a real daemon, real BPF, real workloads.

Each test module starts its own daemon on a private socket, subscribes with
`bpfd trace --json` and asserts on the events that arrive. Tests need root
and a kernel that loads BPF; without root they exit 77 (meson: skipped).
"""
import atexit
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

BPFD = os.environ.get("BPFD", "bpfd")
SKIP = 77


def _isolate():
    """Whatever a test module and its children leave in the temporary
    directory goes with it: TMPDIR (and tempfile's directory) is a scratch
    directory of this run, removed when the module exits; sticky and
    writable by all like /tmp, so that tests acting as other users can use
    it. Children read /dev/null unless given another stdin: started from a
    terminal, no test may wait for it."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # Short: paths below it go into bpftrace scripts (64-byte strings) and
    # INI lines (200 bytes).
    scratch = tempfile.mkdtemp(prefix="bpfd-")
    os.chmod(scratch, 0o1777)
    os.environ["TMPDIR"] = tempfile.tempdir = scratch
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)


_isolate()


def require_root():
    if os.geteuid() != 0:
        print("SKIP: integration tests need root (they load BPF programs)")
        sys.exit(SKIP)


def unique(prefix="bt"):
    """A short unique word, usable as a process name (comm keeps 15 bytes)."""
    return prefix + uuid.uuid4().hex[:10]


class Daemon:
    """`bpfd daemon` on a temporary socket, stopped with SIGTERM."""

    def __init__(self, *args, tmpdir=None):
        self.tmp = tmpdir or tempfile.mkdtemp(prefix="bpfd-it-")
        self.socket = os.path.join(self.tmp, "bpfd.sock")
        self.stdout_path = os.path.join(self.tmp, "daemon.out")
        self.stderr_path = os.path.join(self.tmp, "daemon.err")
        self.args = list(args)
        self.proc = None

    def start(self, wait=True, timeout=60):
        cmd = [BPFD, "daemon", "-s", self.socket,
               "--rules-dir", os.path.join(self.tmp, "rules")] + self.args
        self.proc = subprocess.Popen(cmd, stdout=open(self.stdout_path, "wb"),
                                     stderr=open(self.stderr_path, "wb"),
                                     stdin=subprocess.DEVNULL)
        if wait:
            self.wait_ready(timeout)
        return self

    def write_rules(self, rules):
        """Rule files in the daemon's rules directory: {name: TOML text}."""
        os.makedirs(os.path.join(self.tmp, "rules"), exist_ok=True)
        for name, text in rules.items():
            with open(os.path.join(self.tmp, "rules", name + ".toml"), "w") as f:
                f.write(text)
        return self

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited with %d:\n%s" % (self.proc.returncode, self.stderr()))
            if "bpfd info: ready:" in self.stderr():
                return
            time.sleep(0.05)
        raise AssertionError("daemon not ready after %ds:\n%s" % (timeout, self.stderr()))

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    @property
    def pid(self):
        return self.proc.pid

    def cli(self, *args, check=True, timeout=30):
        r = subprocess.run([BPFD, "-s", self.socket] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("bpfd %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
        return r

    def status(self):
        return json.loads(self.cli("status", "--json").stdout)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("daemon did not stop within %ds" % timeout)
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        reports = self.sanitizer_reports()
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert not reports, "sanitizer reports from the daemon:\n" + reports

    def sanitizer_reports(self):
        """What AddressSanitizer, LeakSanitizer or UBSan said, in a sanitized build."""
        if not os.environ.get("BPFD_SANITIZED") or not os.path.exists(self.stderr_path):
            return ""
        text = self.stderr()
        marks = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
        if not any(m in text for m in marks):
            return ""
        start = min(text.find(m) for m in marks if m in text)
        return text[max(0, start - 200):start + 6000]


class Trace:
    """`bpfd trace --json`, its events collected by a thread."""

    def __init__(self, daemon, *args):
        self.daemon = daemon
        before = len(daemon.status()["subscribers"])
        self.proc = subprocess.Popen([BPFD, "-s", daemon.socket, "trace", "--json"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.events = []
        self.bad_lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self._wait_subscribed(before)

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                self.bad_lines.append(line)
                continue
            with self.cond:
                self.events.append(ev)
                self.cond.notify_all()

    def _wait_subscribed(self, before, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.daemon.status()["subscribers"]) > before:
                return
            time.sleep(0.05)
        raise AssertionError("trace client never subscribed")

    def wait_for(self, pred, timeout=10, what="event"):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for ev in self.events:
                    if pred(ev):
                        return ev
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("no %s within %ss (%d events seen)" % (what, timeout, len(self.events)))
                self.cond.wait(left)

    def all(self, pred):
        with self.cond:
            return [e for e in self.events if pred(e)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        return self.proc.stderr.read().decode(errors="replace")


def type_lines(argv, lines, settle=0.3, start=0.3):
    """Runs @argv under a pty, types @lines (then `exit`); returns (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PS1"] = "$ "
        os.execvp(argv[0], argv)
    output = b""
    try:
        time.sleep(start)
        for line in list(lines) + ["exit"]:
            data = line.encode() + b"\r"
            while data:  # the pty takes long lines in pieces
                n = os.write(fd, data[:1024])
                data = data[n:]
                try:
                    while select.select([fd], [], [], 0.01)[0]:
                        output += os.read(fd, 65536)
                except OSError:  # the program exited and closed the pty
                    pass
            time.sleep(settle)
        deadline = time.time() + 10
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    break
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return status, output


def cgroup2_mount():
    """Where the cgroup2 hierarchy is mounted."""
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt
    raise AssertionError("no cgroup2 mount")


def run_to_end(argv, cwd=None, check=True, timeout=30):
    """Runs @argv to its end; returns (pid, its output). With @check, it must succeed."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=cwd)
    out, err = p.communicate(timeout=timeout)
    if check:
        assert p.returncode == 0, "%s failed (%d): %s %s" % (argv, p.returncode, out, err)
    return p.pid, out.strip()


def wait_until(pred, what, timeout=10):
    """Polls @pred every 50 ms until it holds; fails after @timeout seconds."""
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def held_links(pid):
    """The BPF links process @pid holds, each its fdinfo as a dict (link_id,
    link_type, prog_id, tp_name, event_type, ...), plus "fd"."""
    links = []
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if "link_id" not in info:
            continue
        info = {k.strip(): v.strip() for k, v in info.items()}
        info["fd"] = int(fd)
        links.append(info)
    return links


def make_program(tmpdir, name, source="/bin/true"):
    """A copy of @source called @name, so that its events are ours alone."""
    path = os.path.join(tmpdir, name)
    shutil.copy(source, path)
    os.chmod(path, 0o755)
    return path


EVENT_KEYS = {
    "tracer": str, "time": str, "hostname": str, "pid": int, "tid": int, "ppid": int,
    "uid": int, "gid": int, "command": str, "returnval": int, "cgroup_id": int, "mntns": int,
    "pidns": int, "container_runtime": str, "container_id": str, "rules": list, "data": dict,
}


# Present only for a container a user runs (rootless), not the system;
# exe when the process table knows it, ancestors unless `ancestors = 0`.
OPTIONAL_EVENT_KEYS = {"container_owner_uid": int, "exe": str, "ancestors": list, "priority": str,
                       "tags": list}


def check_event_shape(ev):
    """Every key of the event frame (docs/protocol.md §4.4) with its JSON type;
    data values are strings."""
    keys = set(ev) - set(k for k in OPTIONAL_EVENT_KEYS if k in ev)
    assert keys == set(EVENT_KEYS), "event keys differ: %s" % sorted(keys ^ set(EVENT_KEYS))
    for k, t in OPTIONAL_EVENT_KEYS.items():
        assert k not in ev or isinstance(ev[k], t), "%s is %r, not %s" % (k, ev[k], t.__name__)
    for k, t in EVENT_KEYS.items():
        assert isinstance(ev[k], t), "%s is %r, not %s" % (k, ev[k], t.__name__)
    for k, v in ev["data"].items():
        assert isinstance(v, str), "data.%s is not a string" % k
    assert ev["time"].endswith("Z") and len(ev["time"]) == 30, ev["time"]


def run_tests(tests):
    """Runs test functions in order; prints a summary line meson and CI can read."""
    passed = failed = 0
    for t in tests:
        name = t.__name__
        start = time.time()
        try:
            t()
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (name, time.time() - start))
            traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.1fs)" % (name, time.time() - start))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


class Docker:
    """A usable docker for tests: starts dockerd when none runs (and stops
    only what it started) and imports a small busybox image."""

    IMAGE = "bpfd-test-busybox:latest"

    def __init__(self):
        self.started = None
        self.reason = None
        if not shutil.which("docker") or not shutil.which("dockerd"):
            self.reason = "docker is not installed (scripts/setup installs docker.io)"
            return
        if not self._ping():
            self.log = open(tempfile.mktemp(prefix="bpfd-dockerd-", suffix=".log"), "w")
            # Not this module's scratch TMPDIR: dockerd's containerd (and
            # its shims, which make the console sockets of `docker run -t`
            # there) may outlive this module and serve the next one.
            env = dict(os.environ)
            env.pop("TMPDIR", None)
            self.started = subprocess.Popen(["dockerd"], stdout=self.log, stderr=self.log,
                                            stdin=subprocess.DEVNULL, env=env)
            # Stopped however the module ends, so that no test leaves a
            # dockerd behind for the next one.
            atexit.register(self.stop)
            deadline = time.time() + 60
            while not self._ping():
                if self.started.poll() is not None or time.time() > deadline:
                    self.reason = "dockerd did not start (see %s)" % self.log.name
                    return
                time.sleep(0.2)
        self._image()

    @property
    def ok(self):
        return self.reason is None

    def _ping(self):
        return subprocess.run(["docker", "version"], capture_output=True).returncode == 0

    def _image(self):
        if subprocess.run(["docker", "image", "inspect", self.IMAGE], capture_output=True).returncode == 0:
            return
        busybox = shutil.which("busybox") or "/bin/busybox"
        root = tempfile.mkdtemp(prefix="bpfd-rootfs-")
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "data"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
        for cmd in ("sh", "cat", "echo", "ls", "sleep", "true", "nsenter", "head"):
            os.symlink("busybox", os.path.join(root, "bin", cmd))
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", self.IMAGE], stdin=tar.stdout, check=True,
                       capture_output=True)
        tar.wait()
        shutil.rmtree(root, ignore_errors=True)

    BASH_IMAGE = "bpfd-test-bash:latest"

    def bash_image(self, fresh=False):
        """An image with a copy of the host's bash and its libraries: another file.

        fresh: a new image of its own (a unique tag and one unique file, so
        that docker shares no layer, hence no bash inode, with an image
        another test run on this host made or is removing meanwhile)."""
        name = self.BASH_IMAGE
        if fresh:
            name = "bpfd-test-bash:" + unique("fresh")
        elif subprocess.run(["docker", "image", "inspect", name],
                            capture_output=True).returncode == 0:
            return name
        root = tempfile.mkdtemp(prefix="bpfd-rootfs-")
        ldd = subprocess.run(["ldd", "/bin/bash"], capture_output=True, text=True).stdout
        files = ["/bin/bash"] + [l.split("=>")[-1].split()[0] for l in ldd.splitlines()
                                 if "/" in l]
        for f in files:
            dst = os.path.join(root, f.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(os.path.realpath(f), dst)
        with open(os.path.join(root, "bpfd-image"), "w") as f:
            f.write(name + "\n")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", name], stdin=tar.stdout, check=True,
                       capture_output=True)
        tar.wait()
        shutil.rmtree(root, ignore_errors=True)
        return name

    def run(self, *args, check=True):
        # Never pull: no registry is reachable, and tests use the local image.
        r = subprocess.run(["docker", "run", "--pull", "never"] + list(args), capture_output=True,
                           text=True)
        if check and r.returncode != 0:
            raise AssertionError("docker run %s: %s" % (" ".join(args), r.stderr))
        return r

    def stop(self):
        if self.started:
            self.started.terminate()
            try:
                self.started.wait(30)
            except subprocess.TimeoutExpired:
                self.started.kill()
                self.started.wait()
            self.started = None


class Podman:
    """podman as it runs here: cgroupfs, runc, no network, explicit ulimits
    within the hard limits of this machine's root (see MACHINE.md)."""

    IMAGE = "localhost/bpfd-test-busybox:latest"

    def __init__(self):
        self.reason = None
        if not shutil.which("podman"):
            self.reason = "podman is not installed (scripts/setup installs it)"
            return
        self.conf = tempfile.mkdtemp(prefix="bpfd-podman-")
        with open(os.path.join(self.conf, "containers.conf"), "w") as f:
            f.write('[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n'
                    'events_logger = "file"\n')
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(self.conf, "containers.conf"))
        if subprocess.run(["podman", "image", "exists", self.IMAGE], env=self.env).returncode:
            root = tempfile.mkdtemp(prefix="bpfd-rootfs-")
            for d in ("bin", "etc", "proc", "sys", "dev", "tmp"):
                os.makedirs(os.path.join(root, d), exist_ok=True)
            shutil.copy(shutil.which("busybox") or "/bin/busybox", os.path.join(root, "bin"))
            for cmd in ("sh", "cat", "echo", "true"):
                os.symlink("busybox", os.path.join(root, "bin", cmd))
            tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
            r = subprocess.run(["podman", "import", "-", self.IMAGE], stdin=tar.stdout,
                               capture_output=True, text=True, env=self.env)
            tar.wait()
            shutil.rmtree(root, ignore_errors=True)
            if r.returncode:
                self.reason = "podman import failed: " + r.stderr
                return
        probe = self.run("true")
        if probe.returncode:
            self.reason = "podman cannot run a container here: " + probe.stderr

    @property
    def ok(self):
        return self.reason is None

    def run(self, *args):
        return subprocess.run(["podman", "run", "--rm", "--pull", "never", "--network", "none",
                               "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                               self.IMAGE] + list(args), capture_output=True, text=True,
                              env=self.env)

    def run_cid(self, *args):
        """Runs to completion; returns the full container id."""
        cidfile = tempfile.mktemp(prefix="bpfd-cid-")
        r = subprocess.run(["podman", "run", "--rm", "--pull", "never", "--network", "none",
                            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                            "--cidfile", cidfile, self.IMAGE] + list(args),
                           capture_output=True, text=True, env=self.env)
        if not os.path.exists(cidfile):
            raise AssertionError("podman run: " + r.stderr)
        with open(cidfile) as f:
            cid = f.read().strip()
        os.unlink(cidfile)
        return cid
