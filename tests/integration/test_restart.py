#!/usr/bin/env python3
"""A restart without a gap (docs/architecture.md, "Restart"): `bpfd restart`
and SIGUSR2 hand the daemon's programs, maps and ring buffer to a new image
of the binary in the same process. Under a steady workload of a program of
our own, every exec of it is written by the file action and streamed to a
`bpfd trace` that reconnects by itself, each exactly once: when the programs
are adopted (nothing compiled), and when the config changed so that they
are compiled again while the old ones record. Only root may ask for it."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from bpfdtest import BPFD, Daemon, require_root, run_tests, make_program, unique, wait_until

D = None
PROG = None
EVENTS = None
CONF = None


class Workload:
    """PROG run again and again in a thread: the pids that must be reported."""

    def __init__(self, count, pause=0.005):
        self.count, self.pause = count, pause
        self.pids = []
        self.thread = threading.Thread(target=self.run)

    def run(self):
        for _ in range(self.count):
            p = subprocess.Popen([PROG])
            self.pids.append(p.pid)
            p.wait()
            time.sleep(self.pause)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join()


class Subscriber:
    """`bpfd trace --json --rule restart_prog`: the pids it printed, and its stderr."""

    def __init__(self):
        self.proc = subprocess.Popen([BPFD, "-s", D.socket, "trace", "--json", "--rule",
                                      "restart_prog"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.pids = []
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()
        wait_until(lambda: D.status()["subscribers"], "the subscriber")

    def read(self):
        for line in self.proc.stdout:
            self.pids.append(json.loads(line)["pid"])

    def stop(self):
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


def file_pids():
    with open(EVENTS) as f:
        return [json.loads(line)["pid"] for line in f if '"restart_prog"' in line]


def exactly_once(got, want, what):
    want = set(want)
    missing = want - set(got)
    doubled = sorted(p for p in set(got) if got.count(p) > 1)
    assert not missing and not doubled, "%s: %d of %d missing, doubled %s" % (
        what, len(missing), len(want), doubled)


def restarts():
    """status's count; None when the request met the restart (its connection closed)."""
    try:
        return D.status()["restart"]["restarts"]
    except (AssertionError, ValueError):
        return None


def test_restart_adopts_without_a_gap():
    pid, before = D.pid, restarts()
    sub = Subscriber()
    with Workload(600) as w:
        time.sleep(0.5)
        r = D.cli("restart")
        assert "the programs adopted, nothing compiled" in r.stdout, r.stdout
        time.sleep(0.5)
        D.proc.send_signal(signal.SIGUSR2)
        wait_until(lambda: restarts() == before + 2, "the SIGUSR2 restart", timeout=30)
        time.sleep(0.5)
        D.cli("restart")
    wait_until(lambda: len(set(file_pids()) & set(w.pids)) == len(w.pids),
               "every exec in the file", timeout=20)
    wait_until(lambda: len(set(sub.pids) & set(w.pids)) == len(w.pids),
               "every exec in trace", timeout=20)
    time.sleep(0.3)
    err = sub.stop()
    exactly_once(file_pids(), w.pids, "the file action")
    exactly_once(sub.pids, w.pids, "bpfd trace")
    assert err.count("the daemon restarted; tracing again") == 3, err
    st = D.status()
    assert st["pid"] == pid, (st["pid"], pid)
    r = st["restart"]
    assert r["restarts"] == before + 3 and r["handed_over"] and r["adopted"], r
    # No compile: ready within a second even on a busy machine (the figure is in docs/performance.md).
    assert 0 < r["handover_ms"] < 1000, r
    assert "nothing compiled" in D.stderr()
    assert st["events"]["lost"] == 0, st["events"]


def test_changed_config_compiles_while_the_old_programs_record():
    """ring_buffer_size changed: the programs are built anew; the old ones
    record until the new ones are on, and what they recorded is delivered."""
    before = restarts()
    with open(CONF) as f:
        text = f.read()
    with open(CONF, "w") as f:
        f.write(text + "ring_buffer_size = 16M\n")
    with Workload(300, pause=0.02) as w:
        time.sleep(0.3)
        r = D.cli("restart", timeout=300)
        assert "the tracers compiled again" in r.stdout, r.stdout
    wait_until(lambda: len(set(file_pids()) & set(w.pids)) == len(w.pids),
               "every exec in the file", timeout=20)
    time.sleep(0.3)
    exactly_once(file_pids(), w.pids, "the file action")
    r = D.status()["restart"]
    assert r["restarts"] == before + 1 and not r["adopted"], r
    assert "the predecessor's programs replaced" in D.stderr()
    # Back to the first config: the next restart compiles once more, then adopts.
    with open(CONF, "w") as f:
        f.write(text)


def test_only_root_restarts_it():
    """nobody may reach the socket at most as a reader: the restart op is an
    admin's; SIGUSR2 from another user is refused by the kernel."""
    before, pid = restarts(), D.pid
    os.chmod(D.tmp, 0o755)
    os.chmod(D.socket, 0o666)
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BPFD,
                            "-s", D.socket, "restart"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0, r.stdout
        assert "root, admin_users and admin_groups only" in r.stderr, r.stderr
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "kill", "-USR2", str(pid)], capture_output=True, text=True)
        assert r.returncode != 0, "nobody signalled the daemon"
    finally:
        os.chmod(D.socket, 0o660)
    time.sleep(0.3)
    assert restarts() == before and D.status()["pid"] == pid


def test_forged_handover_starts_afresh():
    """BPFD_HANDOVER naming fds that are no handover: refused, the daemon starts as usual."""
    d = Daemon("--tracers", "exec")
    d.write_rules({})
    env = dict(os.environ, BPFD_HANDOVER="0,1,0,0,1")
    d.proc = subprocess.Popen([BPFD, "daemon", "-s", d.socket, "--rules-dir",
                               os.path.join(d.tmp, "rules")] + d.args,
                              stdout=open(d.stdout_path, "wb"), stderr=open(d.stderr_path, "wb"),
                              stdin=subprocess.DEVNULL, env=env)
    try:
        d.wait_ready(120)
        assert "not a handover from a bpfd daemon: starting afresh" in d.stderr(), d.stderr()
        assert not d.status()["restart"]["handed_over"]
    finally:
        d.cleanup()


def main():
    global D, PROG, EVENTS, CONF
    require_root()
    D = Daemon("--tracers", "exec")
    PROG = make_program(D.tmp, unique("rs"))
    EVENTS = os.path.join(D.tmp, "events.jsonl")
    CONF = os.path.join(D.tmp, "bpfd.conf")
    with open(CONF, "w") as f:
        # [daemon] last: a test adds to it.
        f.write("[file]\npath = %s\n\n[daemon]\ndefault_actions = none\n" % EVENTS)
    D.args += ["--config", CONF]
    D.write_rules({"restart_prog": 'tracer = "exec"\nactions = ["file"]\n'
                                   '[filterEvents.command]\nvalues = ["%s"]\n'
                                   % os.path.basename(PROG)})
    D.start(timeout=120)
    try:
        return run_tests([
            test_restart_adopts_without_a_gap,
            test_changed_config_compiles_while_the_old_programs_record,
            test_only_root_restarts_it,
            test_forged_handover_starts_afresh,
        ])
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
