#!/usr/bin/env python3
"""keep = true (docs/architecture.md, "Keeping the programs"): the daemon
pins its programs, maps and ring buffer in the BPF filesystem, so that a
daemon killed with SIGKILL leaves them recording; the next one adopts them
(nothing compiled), delivers what they recorded meanwhile marked
"replayed", and its rule's action runs on it. A clean stop and
`bpfd daemon --cleanup` remove everything; what another user planted in
the pins' place is refused."""
import json
import os
import signal
import subprocess
import sys
import time

from bpfdtest import BPFD, Daemon, make_program, require_root, run_tests, unique, wait_until

D = None
PROG = None
EVENTS = None


def bpf_programs():
    r = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                       check=True)
    return {p["id"] for p in json.loads(r.stdout)}


def ignored_pids():
    """The keys of the programs' bpfd_ignored map: the tasks they never report."""
    r = subprocess.run(["bpftool", "map", "dump", "pinned",
                        os.path.join("/sys/fs/bpf/bpfd", keep_dir_name(), "002"), "-j"],
                       capture_output=True, text=True, check=True)
    return {int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
            for e in json.loads(r.stdout)}


def meta():
    return D.socket + ".kept"


def pins():
    return D.status()["kept"]


def file_events():
    if not os.path.exists(EVENTS):
        return []
    with open(EVENTS) as f:
        return [json.loads(line) for line in f if '"keep_prog"' in line]


def start():
    D.start(timeout=120)


def test_crash_then_replay():
    start()
    assert pins()["pinned"], pins()
    assert os.stat(meta()).st_mode & 0o777 == 0o600
    ours = bpf_programs()
    dead = D.pid
    D.proc.send_signal(signal.SIGKILL)
    D.proc.wait()
    # No daemon runs: the programs are still loaded and still record.
    assert ours <= bpf_programs()
    pids = []
    for _ in range(5):
        p = subprocess.Popen([PROG])
        p.wait()
        pids.append(p.pid)
    open(D.stderr_path, "w").close()
    start()
    assert "the programs a daemon left pinned adopted, nothing compiled" in D.stderr(), \
        D.stderr()
    wait_until(lambda: {e["pid"] for e in file_events()} >= set(pids), "the replayed events")
    replayed = [e for e in file_events() if e["pid"] in pids]
    assert len(replayed) == 5 and all(e.get("replayed") is True for e in replayed), replayed
    k = pins()
    assert k["recovered"] and k["adopted"] and k["replayed"] >= 5 and k["pinned"], k
    # The dead daemon's pid is no longer ignored: a process given it later is seen.
    ignored = ignored_pids()
    assert D.pid in ignored and dead not in ignored, (D.pid, dead, ignored)
    # Made while this daemon runs: not replayed.
    p = subprocess.Popen([PROG])
    p.wait()
    wait_until(lambda: p.pid in {e["pid"] for e in file_events()}, "a live event")
    assert "replayed" not in [e for e in file_events() if e["pid"] == p.pid][0]


def test_clean_stop_removes_everything():
    D.stop()
    assert not os.path.exists(meta())
    assert not os.path.exists(os.path.join("/sys/fs/bpf/bpfd", keep_dir_name()))
    wait_until(lambda: not (bpf_programs() - BASELINE), "no program left after a clean stop",
               timeout=10)


def keep_dir_name():
    h = 14695981039346656037
    for c in D.socket.encode():
        h = ((h ^ c) * 1099511628211) % (1 << 64)
    return "%016x" % h


def test_cleanup_after_a_crash():
    start()
    D.proc.send_signal(signal.SIGKILL)
    D.proc.wait()
    assert os.path.exists(meta())
    assert bpf_programs() - BASELINE, "nothing pinned"
    r = subprocess.run([BPFD, "daemon", "-s", D.socket] + D.args + ["--cleanup"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "cleanup: removed" in r.stderr, r.stderr
    assert not os.path.exists(meta())
    assert not os.path.exists(os.path.join("/sys/fs/bpf/bpfd", keep_dir_name()))
    # Nothing of ours is loaded any more (bpftool prog, as a person would look).
    wait_until(lambda: not (bpf_programs() - BASELINE), "the programs gone", timeout=10)


def test_planted_meta_refused():
    """The socket's directory writable by others (a mistake the daemon cannot
    rule out): nobody replaces the meta file of a crashed daemon with one of
    its own, byte for byte the real one, which would describe the pins as it
    likes. Not root's: refused, the pins removed, the daemon starts afresh."""
    start()
    D.proc.send_signal(signal.SIGKILL)
    D.proc.wait()
    with open(meta(), "rb") as f:
        real = f.read()
    mode = os.stat(D.tmp).st_mode & 0o777
    os.chmod(D.tmp, 0o777)
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            sys.executable, "-c",
                            "import os, sys\n"
                            "t = sys.argv[1] + '.x'\n"
                            "open(t, 'wb').write(sys.stdin.buffer.read())\n"
                            "os.chmod(t, 0o600)\n"
                            "os.rename(t, sys.argv[1])\n", meta()],
                           input=real, capture_output=True)
        assert r.returncode == 0, r.stderr
        assert os.stat(meta()).st_uid == 65534
        open(D.stderr_path, "w").close()
        start()
    finally:
        os.chmod(D.tmp, mode)
    assert "cannot be taken over" in D.stderr() and "not what a bpfd daemon kept" in \
        D.stderr(), D.stderr()
    assert not pins()["recovered"] and pins()["pinned"]
    assert os.stat(meta()).st_uid == 0
    D.stop()


def main():
    global D, PROG, EVENTS, BASELINE
    require_root()
    D = Daemon("--tracers", "exec")
    PROG = make_program(D.tmp, unique("kp"))
    EVENTS = os.path.join(D.tmp, "events.jsonl")
    conf = os.path.join(D.tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[file]\npath = %s\n\n[daemon]\ndefault_actions = none\nkeep = true\n" % EVENTS)
    D.args += ["--config", conf]
    D.write_rules({"keep_prog": 'tracer = "exec"\nactions = ["file"]\n'
                                '[filterEvents.command]\nvalues = ["%s"]\n'
                                % os.path.basename(PROG)})
    BASELINE = bpf_programs()
    try:
        return run_tests([
            test_crash_then_replay,
            test_clean_stop_removes_everything,
            test_cleanup_after_a_crash,
            test_planted_meta_refused,
        ])
    finally:
        if D.proc and D.proc.poll() is None:
            D.stop()
        subprocess.run([BPFD, "daemon", "-s", D.socket] + D.args + ["--cleanup"],
                       capture_output=True)
        D.cleanup()


BASELINE = set()

if __name__ == "__main__":
    sys.exit(main())
