#!/usr/bin/env python3
"""The container image, run the way docs/deploy.md says (the minimal
--cap-add form: --privileged cannot run here). The image is built with
scripts/image when its debootstrap cache exists (seconds when only the
source changed); without that cache the test skips and says how to make it.

With the image's daemon running, the host's `bpfd` talks to it through the
mounted socket directory, and it must attribute events as a daemon on the
host does: an exec in another container with `docker` and that container's
full id (also on the daemon's own stdout, JSON lines per the image's
config), a `-v /:/host` escape as host-root-filesystem, and a line typed
into the host's bash."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, SKIP, Docker, Trace, require_root, run_tests, type_lines, unique

SOURCE = os.environ.get("BPFD_SOURCE_ROOT",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CACHE = os.environ.get("BPFD_IMAGE_CACHE", "/var/cache/bpfd-image")
TARBALL = os.path.join(CACHE, "bookworm-minbase.tar")
# One tag per source tree, so that worktrees building at once do not
# replace each other's image.
TAG = "bpfd:it-" + hashlib.sha1(SOURCE.encode()).hexdigest()[:10]
BUILD_TIMEOUT = 240  # within meson's 300 s for the whole test

DOCKER = None
IMG = None


def run_args(name, sockdir, image):
    """docs/deploy.md's minimal run line, with a private socket directory."""
    return ["docker", "run", "-d", "--pull", "never", "--name", name,
            "--pid=host", "--uts=host",
            "-v", "/lib/modules:/lib/modules:ro",
            "-v", "/usr/src:/usr/src:ro",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
            "-v", "/sys/kernel/tracing:/sys/kernel/tracing",
            "-v", "/sys/kernel/btf:/sys/kernel/btf:ro",
            "-v", sockdir + ":/run/bpfd",
            "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE",
            image]


class ImageDaemon:
    """The image's daemon in a container; what Trace needs of a Daemon."""

    def __init__(self, image):
        self.name = unique("bpfd-it-image-")
        self.tmp = tempfile.mkdtemp(prefix="bpfd-it-image-")
        self.socket = os.path.join(self.tmp, "bpfd.sock")
        self.image = image
        self.started = False

    def start(self, timeout=180):
        r = subprocess.run(run_args(self.name, self.tmp, self.image), capture_output=True,
                           text=True)
        if r.returncode:
            raise AssertionError("docker run of the image: " + r.stderr)
        self.started = True
        self.id = r.stdout.strip()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "bpfd info: ready:" in self.logs()[1]:
                return self
            state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", self.name],
                                   capture_output=True, text=True).stdout.strip()
            if state != "true":
                raise AssertionError("the image's daemon exited:\n" + self.logs()[1])
            time.sleep(0.2)
        raise AssertionError("the image's daemon not ready after %ds:\n%s"
                             % (timeout, self.logs()[1]))

    def logs(self):
        r = subprocess.run(["docker", "logs", self.name], capture_output=True, text=True,
                           errors="replace")
        return r.stdout, r.stderr

    def cli(self, *args, check=True, timeout=30):
        r = subprocess.run([BPFD, "-s", self.socket] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("bpfd %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                              r.stderr))
        return r

    def status(self):
        return json.loads(self.cli("status", "--json").stdout)

    def cleanup(self):
        if self.started:
            subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def docker_run(*args):
    """Runs a busybox container to completion; returns its full id."""
    cidfile = os.path.join(tempfile.mkdtemp(prefix="bpfd-cid-"), "cid")
    try:
        r = DOCKER.run("--rm", "--cidfile", cidfile, *args, check=False)
        if not os.path.exists(cidfile):
            raise AssertionError("docker run %s: %s" % (" ".join(args), r.stderr))
        with open(cidfile) as f:
            return f.read().strip()
    finally:
        shutil.rmtree(os.path.dirname(cidfile), ignore_errors=True)


def test_image_content():
    """The entrypoint, the baked-in rules and config, no kernel headers."""
    out = subprocess.run(["docker", "image", "inspect", "-f",
                          "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", IMG],
                         capture_output=True, text=True, check=True).stdout.split()
    assert json.loads(out[0]) == ["/usr/sbin/bpfd"] and json.loads(out[1]) == ["daemon"], out
    r = subprocess.run(["docker", "run", "--rm", "--pull", "never", "--entrypoint", "/bin/sh", IMG,
                        "-c", "ls /etc/bpfd/rules; ls /usr/src /lib/modules 2>&1;"
                        " bpfd check /etc/bpfd/rules/*.toml && bpfd check --config /etc/bpfd/bpfd.conf"
                        " && echo checked"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for rule in ("lists.toml", "credential_access.toml", "execution.toml"):
        assert rule in r.stdout, r.stdout
    assert "linux-headers" not in r.stdout, "kernel headers are baked into the image:\n" + r.stdout
    assert "checked" in r.stdout, r.stdout


def test_socket_and_docker_exec():
    """The host's client through the mounted directory, and `docker exec`."""
    st = D.status()
    states = {t["name"]: t["state"] for t in st["tracers"]}
    assert states == {"exec": "loaded", "open": "loaded", "bashreadline": "loaded",
                      "dockeropenbreakout": "loaded", "tcpconnect": "loaded",
                      "tcpaccept": "loaded", "tcpdrop": "loaded", "chmod": "loaded",
                      "filechange": "loaded"}, states
    ls = D.cli("ls").stdout
    assert "shadow_files_read" in ls and "reverse_shell" in ls, ls
    r = subprocess.run(["docker", "exec", D.name, "bpfd", "version"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "daemon: bpfd" in r.stdout, r.stdout + r.stderr


def test_exec_in_another_container_attributed():
    word = unique("im")
    rule = os.path.join(D.tmp, word + ".toml")
    with open(rule, "w") as f:
        f.write('tracer = "exec"\nactions = ["stdout"]\n[filterEvents.command]\nvalues = ["%s"]\n'
                % word)
    D.cli("create", rule)
    cid = docker_run(Docker.IMAGE, "sh", "-c", "cp /bin/busybox /tmp/%s && /tmp/%s true" % (word, word))
    assert len(cid) == 64, cid
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["command"] == word,
                    what="exec of %s in container %s" % (word, cid[:12]))
    assert ev["container_runtime"] == "docker", ev
    assert ev["container_id"] == cid, (ev["container_id"], cid)
    # The library's rules may match it too (exec_from_tmp_in_container): the event lists each.
    assert word in ev["rules"], ev["rules"]
    # --uts=host: events name the host, not the daemon's container.
    assert ev["hostname"] == os.uname().nodename, ev["hostname"]
    # The image's config says output = json: the same event on its stdout.
    deadline = time.time() + 10
    while True:
        lines = [json.loads(l) for l in D.logs()[0].splitlines() if l.startswith("{")]
        mine = [e for e in lines if e["command"] == word and e["tracer"] == "exec"]
        if mine or time.time() > deadline:
            break
        time.sleep(0.2)
    assert mine and mine[0]["container_id"] == cid, "no JSON line for the exec on the daemon's stdout"
    D.cli("rm", word)


def test_breakout_host_root_filesystem():
    """The host's root, as the containerized daemon must know it (pid 1's is unreadable)."""
    cid = docker_run("-v", "/:/host", Docker.IMAGE, "cat", "/host/etc/hostname")
    ev = T.wait_for(lambda e: e["tracer"] == "dockeropenbreakout" and e["container_id"] == cid,
                    what="breakout event")
    assert ev["data"]["reason"] == "host-root-filesystem", ev["data"]
    assert ev["data"]["path"] == "/etc/hostname", ev["data"]


def test_host_bash_line():
    """The host's bash, not the image's, is probed. The image's rules are the
    library, whose bashreadline rules match what they detect, not every line:
    the line is one of those (in a throwaway shell)."""
    line = "unset HISTFILE # " + unique("ib")
    status, out = type_lines(["/bin/bash", "--norc", "--noprofile", "-i"], [line])
    assert os.WIFEXITED(status), status
    ev = T.wait_for(lambda e: e["tracer"] == "bashreadline" and e["data"]["command"] == line,
                    what="bashreadline event from the host's bash")
    assert ev["container_runtime"] == "not-found", ev


def image():
    """The image to test: built now from the debootstrap cache, or None and why."""
    if os.environ.get("BPFD_TEST_IMAGE"):
        return os.environ["BPFD_TEST_IMAGE"], None
    if not os.path.exists(TARBALL):
        return None, ("no debootstrap cache at %s: run scripts/image once (about 2 minutes, "
                      "needs deb.debian.org), or set BPFD_TEST_IMAGE to an image" % TARBALL)
    start = time.time()
    try:
        r = subprocess.run([os.path.join(SOURCE, "scripts", "image"), TAG], capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError("scripts/image took more than %ds" % BUILD_TIMEOUT)
    if r.returncode:
        raise AssertionError("scripts/image %s failed:\n%s" % (TAG, r.stderr))
    print("built %s with scripts/image in %.0f s" % (TAG, time.time() - start))
    return TAG, None


def main():
    global DOCKER, IMG, D, T
    require_root()
    if os.environ.get("BPFD_SANITIZED"):
        print("SKIP: the image holds its own build of bpfd; a sanitized build adds nothing here")
        return SKIP
    DOCKER = Docker()
    if not DOCKER.ok:
        print("SKIP: " + DOCKER.reason)
        return SKIP
    D = T = None
    try:
        IMG, why = image()
        if not IMG:
            print("SKIP: " + why)
            return SKIP
        D = ImageDaemon(IMG).start()
        T = Trace(D)
        return run_tests([
            test_image_content,
            test_socket_and_docker_exec,
            test_exec_in_another_container_attributed,
            test_breakout_host_root_filesystem,
            test_host_bash_line,
        ])
    finally:
        if T:
            T.stop()
        if D:
            if os.environ.get("BPFD_TEST_VERBOSE"):
                print(D.logs()[1])
            D.cleanup()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
