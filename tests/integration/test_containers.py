#!/usr/bin/env python3
"""Real containers: docker containers' events carry the runtime and the
full id docker reports, also for a process that exits at once;
`trace --container` narrows the stream to one container; and
dockeropenbreakout reports each of its four conditions with a real
container, and nothing for ordinary containers or host processes."""
import os
import subprocess
import sys
import tempfile
import time

from bpfdtest import (Daemon, Docker, Podman, Trace, require_root, run_tests, type_lines,
                      unique)

D = None
T = None
DOCKER = None


def docker_run(*args):
    """Runs a container to completion; returns its full id."""
    cidfile = tempfile.mktemp(prefix="bpfd-cid-")
    try:
        r = DOCKER.run("--rm", "--cidfile", cidfile, *args, check=False)
        if not os.path.exists(cidfile):
            raise AssertionError("docker run %s: %s" % (" ".join(args), r.stderr))
        with open(cidfile) as f:
            return f.read().strip()
    finally:
        if os.path.exists(cidfile):
            os.unlink(cidfile)


def test_exec_and_open_in_docker_attributed():
    word = unique("dk")
    cid = docker_run(Docker.IMAGE, "cat", "/etc/" + word)
    assert len(cid) == 64, cid
    ex = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("argv") == "cat /etc/" + word,
                    what="exec in the container")
    assert ex["container_runtime"] == "docker", ex
    assert ex["container_id"] == cid, (ex["container_id"], cid)
    assert ex["data"]["argv"] == "cat /etc/" + word
    op = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == "/etc/" + word,
                    what="open in the container")
    assert op["container_runtime"] == "docker" and op["container_id"] == cid, op
    assert op["returnval"] == -2
    # The container ran in its own namespaces.
    assert op["mntns"] != os.stat("/proc/self/ns/mnt").st_ino
    assert op["pidns"] != os.stat("/proc/self/ns/pid").st_ino


def test_process_that_exits_at_once():
    word = unique("qk")
    cid = docker_run(Docker.IMAGE, "echo", word)
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("argv") == "echo " + word)
    assert ev["container_runtime"] == "docker" and ev["container_id"] == cid, ev
    inspect = subprocess.run(["docker", "inspect", "--format", "{{.Id}}", cid],
                             capture_output=True, text=True)
    # --rm removed it: the event was attributed all the same.
    assert inspect.returncode != 0


def test_host_events_stay_host():
    word = unique("hs")
    subprocess.run(["cat", "/tmp/" + word], capture_output=True)
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == "/tmp/" + word)
    assert ev["container_runtime"] == "not-found" and ev["container_id"] == ""


def test_trace_container_prefix():
    name = unique("ct")
    cid = DOCKER.run("-d", "--name", name, Docker.IMAGE, "sleep", "30").stdout.strip()
    try:
        narrowed = Trace(D, "--container", cid[:12])
        word1, word2 = unique("in"), unique("out")
        subprocess.run(["docker", "exec", name, "cat", "/etc/" + word1], capture_output=True)
        docker_run(Docker.IMAGE, "cat", "/etc/" + word2)
        narrowed.wait_for(lambda e: e["data"].get("filename") == "/etc/" + word1)
        # The other container's open reached the unfiltered subscriber...
        T.wait_for(lambda e: e["data"].get("filename") == "/etc/" + word2)
        narrowed_events = list(narrowed.events)
        narrowed.stop()
        # ...but not this one, which saw its container only.
        assert narrowed_events and all(e["container_id"] == cid for e in narrowed_events), \
            {e["container_id"] for e in narrowed_events}
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def breakouts(pred=lambda e: True):
    return T.all(lambda e: e["tracer"] == "dockeropenbreakout" and pred(e))


def wait_breakout(cid, reason, path):
    ev = T.wait_for(lambda e: e["tracer"] == "dockeropenbreakout" and e["container_id"] == cid
                    and e["data"]["path"] == path and e["data"]["reason"] == reason,
                    what="breakout %s %s" % (reason, path))
    assert ev["container_runtime"] == "docker"
    assert set(ev["data"]) == {"filename", "path", "reason", "command", "returnval"}, ev["data"]
    assert int(ev["data"]["returnval"]) >= 0
    return ev


def host_sleeper():
    return subprocess.Popen(["sleep", "60"])


def test_breakout_foreign_mount_namespace():
    # A --pid=host container reads a host process's files through /proc/PID/root.
    host = host_sleeper()
    try:
        path = "/proc/%d/root/etc/hostname" % host.pid
        cid = docker_run("--pid=host", "--cap-add", "SYS_PTRACE", Docker.IMAGE, "cat", path)
    finally:
        host.kill()
        host.wait()
    ev = wait_breakout(cid, "foreign-mount-namespace", "/etc/hostname")
    assert ev["data"]["filename"] == path
    assert ev["command"] == "cat"


def test_breakout_outside_mount_root():
    # "shocker": open_by_handle_at from a bind-mounted host file to the fs root.
    helper = os.path.abspath(os.environ.get("BPFD_SHOCKER", ""))
    assert os.path.exists(helper), "BPFD_SHOCKER: the static helper is missing"
    d = tempfile.mkdtemp(prefix="bpfd-shocker-")
    with open(os.path.join(d, "file"), "w") as f:
        f.write("x")
    cid = docker_run("--cap-add", "DAC_READ_SEARCH", "-v", d + "/file:/data/file",
                     "-v", helper + ":/shocker:ro", Docker.IMAGE, "/shocker", "/data/file",
                     "etc/hostname")
    ev = wait_breakout(cid, "outside-mount-root", "/etc/hostname")
    assert ev["data"]["filename"] == "etc/hostname"


def test_breakout_host_mount_namespace():
    # nsenter into a host process's mount namespace from a --pid=host container.
    host = host_sleeper()
    try:
        cid = docker_run("--pid=host", "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE",
                         "--security-opt", "seccomp=unconfined", Docker.IMAGE, "nsenter",
                         "--mount=/proc/%d/ns/mnt" % host.pid, "cat", "/etc/hostname")
    finally:
        host.kill()
        host.wait()
    wait_breakout(cid, "host-mount-namespace", "/etc/hostname")


def test_breakout_host_root_filesystem():
    cid = docker_run("-v", "/:/host", Docker.IMAGE, "cat", "/host/etc/hostname")
    ev = wait_breakout(cid, "host-root-filesystem", "/etc/hostname")
    assert ev["data"]["filename"] == "/host/etc/hostname"


def test_ordinary_containers_and_host_never_reported():
    vol = tempfile.mkdtemp(prefix="bpfd-vol-")
    with open(os.path.join(vol, "f"), "w") as f:
        f.write("x")
    word = unique("ok")
    cid = docker_run("-v", vol + ":/data", Docker.IMAGE, "sh", "-c",
                     "cat /etc/hostname /etc/resolv.conf /etc/hosts /data/f /bin/busybox "
                     "> /dev/null; cat /etc/" + word)
    # A host process reading into a container is the host's business.
    name = unique("hr")
    cont = DOCKER.run("-d", "--name", name, Docker.IMAGE, "sleep", "30").stdout.strip()
    try:
        pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", name],
                             capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["cat", "/proc/%s/root/etc/hostname" % pid], capture_output=True,
                       check=True)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    # The last open of the first container has been seen: everything before it too.
    T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == "/etc/" + word)
    time.sleep(0.5)
    assert not breakouts(lambda e: e["container_id"] in (cid, cont)), breakouts()
    assert not breakouts(lambda e: e["container_runtime"] == "not-found"), breakouts()


def test_bash_inside_a_container():
    image = DOCKER.bash_image(fresh=True)  # a new image: its bash was never probed
    try:
        # Made, not attached now: other containers' probes come and go meanwhile.
        before = D.status()["bash_probes"]["attached_total"]
        # The first container with this bash gets it probed... The daemon
        # finds the binary through /proc/PID/root of the exec it saw, so the
        # process must outlive the exec event's trip to the daemon: a bash
        # that exits at once can be gone before then (so it was once under
        # the sanitizers).
        # (The image has no `sleep`: bash waits 2 s on a pipe it holds itself.)
        docker_run(image, "/bin/bash", "-c", "read -t 2 <> <(:)")
        deadline = time.time() + 10
        while D.status()["bash_probes"]["attached_total"] == before:
            assert time.time() < deadline, "the container's bash was never probed"
            time.sleep(0.1)
        # ...and a shell typed into in a container of that image is seen.
        line = "echo " + unique("cb")
        cidfile = tempfile.mktemp(prefix="bpfd-cid-")
        status, out = type_lines(["docker", "run", "--pull", "never", "-it", "--rm", "--cidfile",
                                  cidfile, image, "/bin/bash", "--norc", "-i"], [line],
                                 settle=0.5, start=1.5)
        with open(cidfile) as f:
            cid = f.read().strip()
        os.unlink(cidfile)
        ev = T.wait_for(lambda e: e["tracer"] == "bashreadline" and e["data"]["command"] == line,
                        what="bashreadline in the container (%r)" % out[-200:])
        assert ev["container_runtime"] == "docker" and ev["container_id"] == cid, ev
        assert ev["command"] == "bash"
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


def test_podman_attributed():
    podman = Podman()
    if not podman.ok:
        # Not a silent pass: say why, and fail where podman is expected to work.
        raise AssertionError("podman unusable: " + podman.reason)
    word = unique("pm")
    cid = podman.run_cid("cat", "/etc/" + word)
    assert len(cid) == 64, cid
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("argv") == "cat /etc/" + word,
                    what="exec in the podman container")
    assert ev["container_runtime"] == "podman" and ev["container_id"] == cid, ev
    op = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == "/etc/" + word)
    assert op["container_runtime"] == "podman" and op["container_id"] == cid, op


def test_attribution_by_a_v1_hierarchy():
    # A host with cgroup v1 only gives every task the cgroup2 root; the
    # daemon then attributes by a v1 controller's hierarchy. Here, where
    # both exist, the v1 path is forced with --cgroup-hierarchy.
    if not os.path.isdir("/sys/fs/cgroup/pids/docker") and not os.path.isdir("/sys/fs/cgroup/pids"):
        raise AssertionError("no v1 pids hierarchy on this host")
    d = Daemon("--cgroup-hierarchy", "pids", "--tracers", "exec").start()
    try:
        assert "cgroup v1 hierarchy of pids" in d.stderr()
        t = Trace(d)
        name = unique("v1")
        cid = DOCKER.run("-d", "--name", name, Docker.IMAGE, "sleep", "30").stdout.strip()
        try:
            ev = t.wait_for(lambda e: e["data"].get("argv") == "sleep 30" and e["container_id"] == cid,
                            what="exec attributed through the v1 hierarchy")
            assert ev["container_runtime"] == "docker"
            ino = os.stat("/sys/fs/cgroup/pids/docker/" + cid).st_ino
            assert ev["cgroup_id"] == ino, (ev["cgroup_id"], ino)
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        t.stop()
    finally:
        d.cleanup()


def main():
    global D, T, DOCKER
    require_root()
    DOCKER = Docker()
    if not DOCKER.ok:
        print("SKIP: " + DOCKER.reason)
        return 77
    D = Daemon().start()
    T = Trace(D)
    try:
        return run_tests([
            test_exec_and_open_in_docker_attributed,
            test_process_that_exits_at_once,
            test_host_events_stay_host,
            test_trace_container_prefix,
            test_breakout_foreign_mount_namespace,
            test_breakout_outside_mount_root,
            test_breakout_host_mount_namespace,
            test_breakout_host_root_filesystem,
            test_ordinary_containers_and_host_never_reported,
            test_bash_inside_a_container,
            test_podman_attributed,
            test_attribution_by_a_v1_hierarchy,
        ])
    finally:
        T.stop()
        D.cleanup()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
