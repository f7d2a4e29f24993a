#!/usr/bin/env python3
"""Real containers: docker containers' events carry the runtime and the
full id docker reports, also for a process that exits at once, and
`trace --container` narrows the stream to one container."""
import os
import subprocess
import sys
import tempfile

from bpfdtest import Daemon, Docker, Trace, require_root, run_tests, unique

D = None
T = None
DOCKER = None


def docker_run(*args):
    """Runs a container to completion; returns its full id."""
    cidfile = tempfile.mktemp(prefix="bpfd-cid-")
    try:
        DOCKER.run("--rm", "--cidfile", cidfile, *args, check=False)
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
        ])
    finally:
        T.stop()
        D.cleanup()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
