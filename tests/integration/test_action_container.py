#!/usr/bin/env python3
"""The container actions against real docker containers: `pause` freezes
the container a matching program ran in (cgroup2's cgroup.freeze here,
the v1 freezer with a daemon attributing by a v1 hierarchy), `bpfd resume
PREFIX` thaws it and its processes run on; `resume` thaws; `kill-container`
leaves no process of the container alive; `checkpoint` runs CRIU, whose
failure on this machine is counted and logged with CRIU's own reason; a
host process matching a container rule is a counted failure that touches
nothing."""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

from bpfdtest import (Daemon, Docker, cgroup2_mount, make_program, require_root, run_tests,
                      unique, wait_until)

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
D = None
DOCKER = None
WORDS = {}          # action -> the program name its rule matches
CONTAINERS = []     # names to remove at the end


CG2 = None


def rule(name, word, actions):
    return ('name = "%s"\ntracer = "exec"\nactions = %s\n\n[filterEvents.command]\n'
            'values = ["%s"]\n' % (name, json.dumps(actions), word))


def start_daemon(*args):
    """A daemon on the exec tracer with one rule per container action."""
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    os.makedirs(os.path.join(tmp, "rules"))
    words = {a: unique(a[:2]) for a in ("pause", "resume", "kill-container", "checkpoint")}
    for action, word in words.items():
        with open(os.path.join(tmp, "rules", action + ".toml"), "w") as f:
            f.write(rule(action.replace("-", "_"), word, [action]))
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[checkpoint]\ndirectory = %s\ntimeout = 30s\n" % os.path.join(tmp, "ckpt"))
    d = Daemon("--tracers", "exec", "--config", conf, *args, tmpdir=tmp).start()
    return d, words


def container(*cmd):
    """A running container (removed at the end); returns (name, full id)."""
    name = unique("ca")
    cid = DOCKER.run("-d", "--name", name, Docker.IMAGE, *(cmd or ("sleep", "300"))).stdout.strip()
    CONTAINERS.append(name)
    return name, cid


def install_script(name, word, slow=False):
    """/tmp/WORD in the container: a script whose process is named WORD. A
    slow one sleeps first, so that it is still there when the freeze lands
    (bpfd acts after the exec, not before it)."""
    body = ("sleep 1\\n" if slow else "") + "echo ran\\n"
    subprocess.run(["docker", "exec", name, "sh", "-c",
                    "printf '#!/bin/sh\\n%s' > /tmp/%s && chmod +x /tmp/%s" % (body, word, word)],
                   check=True, capture_output=True)


def read(path):
    with open(path) as f:
        return f.read()


def frozen_v2(cid):
    return "frozen 1" in read(os.path.join(CG2, "docker", cid, "cgroup.events")).splitlines()


def action_stats(d, name):
    for a in d.status()["actions"]:
        if a["name"] == name:
            return a
    return {"runs": 0, "failures": 0}


def docker_state(name):
    out = subprocess.run(["docker", "inspect", "-f", "{{json .State}}", name], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def docker_state_id(name):
    r = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def test_pause_then_bpfd_resume():
    name, cid = container()
    install_script(name, WORDS["pause"], slow=True)
    # The program is frozen with its container: this `docker exec` waits.
    ex = subprocess.Popen(["docker", "exec", name, "/tmp/" + WORDS["pause"]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: frozen_v2(cid), "the container's cgroup to be frozen")
        time.sleep(1.5)  # longer than the program's sleep
        assert ex.poll() is None, "the program ran on in a frozen container"
        st = action_stats(D, "pause")
        assert st["runs"] >= 1 and st["failures"] == 0, st
        assert "paused docker container %s" % cid in D.stderr()
        # docker keeps its own pause state: it knows nothing of this.
        assert docker_state(name)["Paused"] is False
    finally:
        r = D.cli("resume", cid[:12], check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "resumed docker container " + cid, r.stdout
    assert not frozen_v2(cid)
    out, _ = ex.communicate(timeout=10)
    assert ex.returncode == 0 and out.strip() == "ran", (ex.returncode, out)
    again = subprocess.run(["docker", "exec", name, "echo", "alive"], capture_output=True, text=True,
                           timeout=10)
    assert again.stdout.strip() == "alive"
    # Thawing a running container again is harmless; --json gives the reply.
    r = D.cli("resume", "--json", cid)
    assert json.loads(r.stdout) == {"ok": True, "container": cid, "runtime": "docker"}, r.stdout


def procs(cg):
    return read(os.path.join(cg, "cgroup.procs")).split()


def test_pause_from_a_nested_cgroup_freezes_the_container():
    name, cid = container()
    install_script(name, WORDS["pause"], slow=True)
    top = os.path.join(CG2, "docker", cid)
    inner = os.path.join(top, "inner")
    os.mkdir(inner)
    try:
        before = set(procs(top))
        ex = subprocess.Popen(["docker", "exec", name, "sh", "-c",
                               "sleep 1; exec /tmp/" + WORDS["pause"]],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: set(procs(top)) - before, "the exec'd shell")
        # The shell moves into a sub-cgroup of the container before it runs the program.
        for pid in set(procs(top)) - before:
            with open(os.path.join(inner, "cgroup.procs"), "w") as f:
                f.write(pid)
        wait_until(lambda: frozen_v2(cid), "the whole container to be frozen")
        assert read(os.path.join(top, "cgroup.freeze")).strip() == "1"
        assert read(os.path.join(inner, "cgroup.freeze")).strip() == "0"
        assert "frozen 1" in read(os.path.join(inner, "cgroup.events"))
        time.sleep(1.5)
        assert ex.poll() is None, "the program ran on in a frozen container"
        D.cli("resume", cid[:8])
        out, _ = ex.communicate(timeout=10)
        assert out.strip() == "ran"
    finally:
        D.cli("resume", cid, check=False)
        # Empty once the program is done; docker removes the container's cgroup after it.
        for _ in range(2):
            try:
                os.rmdir(inner)
            except OSError:
                pass
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_resume_errors():
    r = D.cli("resume", "ffffzzzz", check=False)
    assert r.returncode == 1 and "no container matches 'ffffzzzz'" in r.stderr, r.stderr
    # Two of our containers whose ids share a first digit make that digit
    # ambiguous (17 containers at most, by pigeonhole; about 5 usually).
    # Other containers on the host may share it too: "at least 2".
    ours = {}
    while True:
        _, cid = container()
        ours.setdefault(cid[0], []).append(cid)
        if len(ours[cid[0]]) == 2:
            digit = cid[0]
            break
    r = D.cli("resume", digit, check=False)
    m = re.search(r"'%s' matches (\d+) containers" % digit, r.stderr)
    assert r.returncode == 1 and m and int(m.group(1)) >= 2, r.stderr


def test_resume_action():
    name, cid = container()
    install_script(name, WORDS["resume"])
    before = action_stats(D, "resume")
    subprocess.run(["docker", "exec", name, "/tmp/" + WORDS["resume"]], check=True,
                   capture_output=True, timeout=10)
    wait_until(lambda: action_stats(D, "resume")["runs"] > before["runs"], "a resume run")
    assert action_stats(D, "resume")["failures"] == before["failures"]
    assert read(os.path.join(CG2, "docker", cid, "cgroup.freeze")).strip() == "0"


def test_kill_container():
    name, cid = container("sh", "-c", "sleep 300 & sleep 300 & wait")
    install_script(name, WORDS["kill-container"])
    cg = os.path.join(CG2, "docker", cid)
    assert len(procs(cg)) >= 3
    subprocess.run(["docker", "exec", name, "/tmp/" + WORDS["kill-container"]],
                   capture_output=True, timeout=10)
    wait_until(lambda: not docker_state(name)["Running"], "the container to exit")
    state = docker_state(name)
    assert state["Status"] == "exited" and state["ExitCode"] == 137, state
    # Every process went: the cgroup is empty or already removed.
    assert not os.path.exists(cg) or procs(cg) == []
    assert action_stats(D, "kill-container")["failures"] == 0
    assert "killed docker container %s (cgroup /docker/%s, cgroup.kill)" % (cid, cid) in D.stderr()


def criu_check_errors():
    """CRIU's error texts from `criu check`, [] when it passes."""
    r = subprocess.run(["criu", "check"], capture_output=True, text=True)
    if r.returncode == 0:
        return []
    return [l.split("): ", 1)[1] for l in (r.stdout + r.stderr).splitlines()
            if l.startswith("Error (") and "): " in l]


def test_checkpoint():
    name, cid = container()
    install_script(name, WORDS["checkpoint"])
    errors = criu_check_errors()
    before = action_stats(D, "checkpoint")
    subprocess.run(["docker", "exec", name, "/tmp/" + WORDS["checkpoint"]], check=True,
                   capture_output=True, timeout=10)
    ckpt = os.path.join(D.tmp, "ckpt")
    if errors:
        # This machine: CRIU cannot run, and says why.
        wait_until(lambda: action_stats(D, "checkpoint")["failures"] > before["failures"],
                   "the checkpoint to fail", timeout=30)
        line = [l for l in D.stderr().splitlines()
                if "criu dump of container %s failed: " % cid in l]
        assert line, D.stderr()[-2000:]
        assert errors[-1] in line[0] and errors[0] in line[0], (errors, line[0])
        dirs = [x for x in os.listdir(ckpt) if x.startswith(cid + "-")]
        assert len(dirs) == 1 and re.fullmatch(cid + r"-\d{8}T\d{6}Z", dirs[0]), dirs
        assert errors[-1] in read(os.path.join(ckpt, dirs[0], "criu-dump.log"))
        assert docker_state(name)["Running"]
    else:
        wait_until(lambda: "checkpointed container " + cid in D.stderr(), "the checkpoint",
                   timeout=60)
        dirs = [x for x in os.listdir(ckpt) if x.startswith(cid + "-")]
        assert dirs and any(f.endswith(".img") for f in os.listdir(os.path.join(ckpt, dirs[0])))
        assert docker_state(name)["Running"]  # leave_running defaults to true


def test_host_process_is_not_paused():
    before = action_stats(D, "pause")
    host = make_program(D.tmp, WORDS["pause"])
    r = subprocess.run([host], timeout=10)
    assert r.returncode == 0
    wait_until(lambda: action_stats(D, "pause")["failures"] > before["failures"],
               "the pause failure")
    assert re.search(r"action pause failed: pid \d+ is not in a container: not pausing",
                     D.stderr()), D.stderr()[-2000:]
    for name in CONTAINERS:
        cid = docker_state_id(name)
        if cid and os.path.exists(os.path.join(CG2, "docker", cid)):
            assert not frozen_v2(cid), name


def test_resume_reply_matches_the_doc():
    # The shape of the documented reply frame, from a real resume.
    text = read(os.path.join(ROOT, "docs", "protocol.md"))
    m = re.search(r"^Reply \(op resume_container\):\n```json\n(.*?)\n```", text, re.M)
    assert m, "docs/protocol.md lacks the resume_container reply"
    doc = json.loads(m.group(1))
    name, cid = container()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(D.socket)
    body = json.dumps({"op": "resume_container", "container": cid[:10]}).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    reply = json.loads(s.recv(n, socket.MSG_WAITALL))
    s.close()
    assert sorted(reply) == sorted(doc) and reply["container"] == cid, reply


def test_v1_freezer_and_kill():
    # A daemon attributing by the v1 pids hierarchy freezes with the v1
    # freezer and kills by freezing, signalling and thawing.
    d, words = start_daemon("--cgroup-hierarchy", "pids")
    try:
        name, cid = container("sh", "-c", "sleep 300 & sleep 300 & wait")
        install_script(name, words["pause"], slow=True)
        install_script(name, words["kill-container"])
        state = "/sys/fs/cgroup/freezer/docker/%s/freezer.state" % cid
        ex = subprocess.Popen(["docker", "exec", name, "/tmp/" + words["pause"]],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: read(state).strip() == "FROZEN", "freezer.state FROZEN")
        assert not frozen_v2(cid)  # the cgroup2 freezer is not what froze it
        time.sleep(1.5)
        assert ex.poll() is None, "the program ran on in a frozen container"
        r = d.cli("resume", cid[:12])
        assert r.stdout.strip() == "resumed docker container " + cid
        assert read(state).strip() == "THAWED"
        out, _ = ex.communicate(timeout=10)
        assert out.strip() == "ran"
        subprocess.run(["docker", "exec", name, "/tmp/" + words["kill-container"]],
                       capture_output=True, timeout=10)
        wait_until(lambda: not docker_state(name)["Running"], "the container to exit")
        assert docker_state(name)["ExitCode"] == 137
        assert "freeze and signal" in d.stderr(), d.stderr()[-2000:]
        assert action_stats(d, "kill-container")["failures"] == 0
        assert action_stats(d, "pause")["failures"] == 0
    finally:
        d.cleanup()


def test_daemon_alive():
    assert D.proc.poll() is None and D.status()["ok"]


def main():
    global D, DOCKER, WORDS, CG2
    require_root()
    DOCKER = Docker()
    if not DOCKER.ok:
        print("SKIP: " + DOCKER.reason)
        return 77
    CG2 = cgroup2_mount()
    D, WORDS = start_daemon()
    try:
        return run_tests([
            test_pause_then_bpfd_resume,
            test_pause_from_a_nested_cgroup_freezes_the_container,
            test_resume_errors,
            test_resume_action,
            test_kill_container,
            test_checkpoint,
            test_host_process_is_not_paused,
            test_resume_reply_matches_the_doc,
            test_v1_freezer_and_kill,
            test_daemon_alive,
        ])
    finally:
        for name in CONTAINERS:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        D.cleanup()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
