#!/usr/bin/env python3
"""The systemd journal, for real without systemd as pid 1: the test enters
a mount namespace of its own, puts a scratch directory over /run and its own
journald.conf over /etc/systemd/journald.conf (nothing of the host's is
touched), starts /lib/systemd/systemd-journald there and runs the daemons in
the same namespace. With `journal = on` the stdout action's events and the
daemon's log are journal entries with their fields, found with `journalctl
--directory=... BPFD_RULE=...`; with `journal = auto` a standard output that
is the journal stream (JOURNAL_STREAM, as systemd sets it) chooses the
journal, and without it events go to standard output as before. Hostile: a
journald that stops reading (SIGSTOP) cannot stall the daemon."""
import ctypes
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bpfdtest import (BPFD, Daemon, cgroup2_mount, make_program, require_root, run_tests,
                      unique, wait_until)

JOURNALD = "/lib/systemd/systemd-journald"
TMP = None
JOURNALD_PROC = None
PROGS = {}
ON = None           # the daemon with journal = on

JOURNALD_CONF = """[Journal]
Storage=volatile
RateLimitIntervalSec=0
ReadKMsg=no
ForwardToSyslog=no
ForwardToWall=no
ForwardToConsole=no
"""


def private_namespace():
    """This process (and so its children) in a mount namespace of its own,
    with a scratch /run and the test's journald.conf."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    subprocess.check_call(["mount", "--make-rprivate", "/"])
    run = os.path.join(TMP, "run")
    os.makedirs(run)
    subprocess.check_call(["mount", "--bind", run, "/run"])
    conf = os.path.join(TMP, "journald.conf")
    with open(conf, "w") as f:
        f.write(JOURNALD_CONF)
    if os.path.exists("/etc/systemd/journald.conf"):
        subprocess.check_call(["mount", "--bind", conf, "/etc/systemd/journald.conf"])
    # Volatile storage never writes there; a scratch one in case it did.
    if os.path.isdir("/var/log/journal"):
        os.makedirs(os.path.join(TMP, "varlog"))
        subprocess.check_call(["mount", "--bind", os.path.join(TMP, "varlog"),
                               "/var/log/journal"])


def start_journald():
    global JOURNALD_PROC
    JOURNALD_PROC = subprocess.Popen([JOURNALD], stdout=open(os.path.join(TMP, "journald.out"),
                                                             "wb"),
                                     stderr=subprocess.STDOUT)
    wait_until(lambda: os.path.exists("/run/systemd/journal/socket") and journal_dir(),
               "journald's socket and journal")


def journal_dir():
    dirs = glob.glob("/run/log/journal/*/")
    return dirs[0] if dirs else None


def entries(*matches):
    r = subprocess.run(["journalctl", "--directory=" + journal_dir(), "--no-pager", "-o",
                        "json"] + list(matches), capture_output=True, text=True, timeout=30)
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]


def wait_entries(*matches, count=1, timeout=10):
    deadline = time.time() + timeout
    while True:
        got = entries(*matches)
        if len(got) >= count:
            return got
        assert time.time() < deadline, "%d journal entries with %s within %ss" % (
            len(got), " ".join(matches), timeout)
        time.sleep(0.1)


class JournalDaemon(Daemon):
    """A daemon whose output may be the journal: standard output and error
    on @stream (a connection to journald's stdout socket, announced in
    JOURNAL_STREAM as systemd does), or files; ready when its `ready:` line
    is in the journal or on standard error."""

    def __init__(self, *args, stream=None, journal_env=None, tmpdir=None):
        super().__init__(*args, tmpdir=tmpdir)
        self.stream = stream
        self.journal_env = journal_env

    def start(self, wait=True, timeout=60):
        cmd = [BPFD, "daemon", "-s", self.socket,
               "--rules-dir", os.path.join(self.tmp, "rules")] + self.args
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        out, err = open(self.stdout_path, "wb"), open(self.stderr_path, "wb")
        if self.stream:
            st = os.fstat(self.stream.fileno())
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
            out = err = self.stream.fileno()
        elif self.journal_env:
            env["JOURNAL_STREAM"] = self.journal_env
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                     env=env)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited with %d:\n%s" % (self.proc.returncode,
                                                                      self.stderr()))
            if "bpfd info: ready:" in self.stderr():
                return
            if any(e["MESSAGE"].startswith("ready:")
                   for e in entries("_PID=%d" % self.proc.pid, "SYSLOG_IDENTIFIER=bpfd")):
                return
            time.sleep(0.2)
        raise AssertionError("daemon not ready after %ds" % timeout)


def daemon(name, config, **kw):
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    os.makedirs(os.path.join(tmp, "rules"))
    PROGS[name] = make_program(tmp, unique("jn"))
    with open(os.path.join(tmp, "rules", "j_%s.toml" % name), "w") as f:
        # The "on" rule's priority and tags become PRIORITY, BPFD_PRIORITY and BPFD_TAG.
        meta = "priority = 'error'\ntags = ['T1059', 'test']\n" if name == "on" else ""
        f.write("tracer = 'exec'\nactions = ['stdout']\n%s[filterEvents.command]\n"
                "values = ['%s']\n" % (meta, os.path.basename(PROGS[name])))
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write(config)
    return JournalDaemon("--tracers", "exec", "--config", conf, tmpdir=tmp, **kw).start()


def run(name):
    p = subprocess.Popen([PROGS[name]])
    p.wait()
    return p.pid


def action(d, name):
    for a in d.status()["actions"]:
        if a["name"] == name:
            return a
    raise AssertionError("no action %s" % name)


def test_journal_on_fields():
    pid = run("on")
    e = wait_entries("BPFD_RULE=j_on")[0]
    name = os.path.basename(PROGS["on"])
    assert e["_TRANSPORT"] == "journal" and e["_PID"] == str(ON.pid), e
    # An error rule's events are err (3) on the syslog ladder: `journalctl -p err` finds them.
    assert e["SYSLOG_IDENTIFIER"] == "bpfd" and e["PRIORITY"] == "3", e
    assert e["BPFD_PRIORITY"] == "error", e
    # A field given twice is a list in journalctl's JSON.
    assert e["BPFD_TAG"] == ["T1059", "test"], e
    assert e["BPFD_TRACER"] == "exec" and e["BPFD_PID"] == str(pid), e
    assert e["BPFD_UID"] == "0" and e["BPFD_COMMAND"] == name, e
    assert "CONTAINER_ID" not in e, e
    # MESSAGE is the line `stdout` prints; BPFD_EVENT the event's JSON.
    assert " exec pid=%d " % pid in e["MESSAGE"] and "rules=j_on" in e["MESSAGE"], e
    ev = json.loads(e["BPFD_EVENT"])
    assert ev["pid"] == pid and ev["rules"] == ["j_on"], ev
    # The daemon's log is in the journal too, with its priority, and neither
    # goes to the daemon's standard output or error.
    ready = [x for x in entries("_PID=%d" % ON.pid, "PRIORITY=6")
             if x["MESSAGE"].startswith("ready:")]
    assert ready and ready[0]["SYSLOG_IDENTIFIER"] == "bpfd", ready
    assert ON.stdout() == "" and "ready:" not in ON.stderr(), (ON.stdout(), ON.stderr())


def test_journal_container_id():
    root = os.path.join(cgroup2_mount(), "bpfd-test-" + unique("jn"))
    cid = os.urandom(32).hex()
    cg = os.path.join(root, "docker-%s.scope" % cid)
    os.makedirs(cg)
    try:
        p = subprocess.Popen(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec "$2"', "sh", cg,
                              PROGS["on"]])
        p.wait()
        e = wait_entries("BPFD_RULE=j_on", "CONTAINER_ID=" + cid)[0]
        assert e["BPFD_PID"] == str(p.pid), e
        assert json.loads(e["BPFD_EVENT"])["container_id"] == cid, e
    finally:
        os.rmdir(cg)
        os.rmdir(root)


def test_journald_stopped_does_not_stall():
    # journald's socket queues this many datagrams; a flood beyond them.
    with open("/proc/sys/net/unix/max_dgram_qlen") as f:
        qlen = int(f.read())
    runs = qlen + 300
    before = action(ON, "stdout")["runs"]
    os.kill(JOURNALD_PROC.pid, signal.SIGSTOP)
    try:
        flood = subprocess.Popen(["sh", "-c", 'i=0; while [ $i -lt %d ]; do "$0"; '
                                  'i=$((i+1)); done' % runs, PROGS["on"]])
        slowest = 0
        while flood.poll() is None:
            t0 = time.time()
            ON.status()
            slowest = max(slowest, time.time() - t0)
            time.sleep(0.1)
        t0 = time.time()
        wait_until(lambda: action(ON, "stdout")["runs"] >= before + runs,
                   "%d runs of stdout" % runs, 30)
        a = action(ON, "stdout")
        slowest = max(slowest, time.time() - t0)
        print("  %d events with journald stopped (its queue: %d): %s, slowest status %.2fs"
              % (runs, qlen, {k: a[k] for k in ("runs", "dropped", "failures")}, slowest))
        assert slowest < 1.5, "status took %.1fs" % slowest
        # journald's queue took some; the rest was dropped and counted.
        assert a["dropped"] >= runs - qlen - 100, a
    finally:
        os.kill(JOURNALD_PROC.pid, signal.SIGCONT)
    # Once journald reads again (an event made while it drains its queue may
    # still be dropped), entries arrive again.
    deadline = time.time() + 15
    while True:
        pid = run("on")
        try:
            wait_entries("BPFD_RULE=j_on", "BPFD_PID=%d" % pid, timeout=1)
            break
        except AssertionError:
            assert time.time() < deadline, "no entry since journald was resumed: %s" % (
                action(ON, "stdout"))


def test_auto_with_journal_stream():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("/run/systemd/journal/stdout")
    s.shutdown(socket.SHUT_RD)
    # The stream's header, as systemd writes it for a service: identifier,
    # unit, priority, level prefix, forward to syslog, kmsg, console.
    s.sendall(b"bpfd\n\n6\n0\n0\n0\n0\n")
    d = daemon("auto", "[daemon]\nlog_level = info\n", stream=s)
    s.close()
    try:
        pid = run("auto")
        e = wait_entries("BPFD_RULE=j_auto")[0]
        assert e["_TRANSPORT"] == "journal" and e["BPFD_PID"] == str(pid), e
        assert json.loads(e["BPFD_EVENT"])["pid"] == pid, e
        # Its log: entries of its own, not lines of the stream.
        ready = [x for x in entries("_PID=%d" % d.pid, "_TRANSPORT=journal")
                 if x["MESSAGE"].startswith("ready:")]
        assert ready and ready[0]["PRIORITY"] == "6", ready
    finally:
        d.cleanup()


def test_auto_falls_back_to_stdout():
    # No JOURNAL_STREAM, and one that names another file: standard output.
    for env in (None, "1:1"):
        d = daemon("plain", "[daemon]\njournal = auto\n", journal_env=env)
        try:
            pid = run("plain")
            wait_until(lambda: " exec pid=%d " % pid in d.stdout(), "the event on stdout")
            assert "bpfd info: ready:" in d.stderr(), d.stderr()
            assert not entries("BPFD_RULE=j_plain"), entries("BPFD_RULE=j_plain")
            assert not entries("_PID=%d" % d.pid), entries("_PID=%d" % d.pid)
        finally:
            d.cleanup()


def main():
    global TMP, ON
    require_root()
    if not os.path.exists(JOURNALD) or not shutil.which("journalctl"):
        print("SKIP: no systemd-journald or journalctl (Debian: apt-get install systemd)")
        return 77
    TMP = tempfile.mkdtemp(prefix="bpfd-jn-")
    private_namespace()
    start_journald()
    ON = daemon("on", "[daemon]\njournal = on\n")
    try:
        status = run_tests([
            test_journal_on_fields,
            test_journal_container_id,
            test_journald_stopped_does_not_stall,
        ])
        ON.cleanup()
        ON = None
        status |= run_tests([
            test_auto_with_journal_stream,
            test_auto_falls_back_to_stdout,
        ])
    finally:
        if ON:
            ON.cleanup()
        if JOURNALD_PROC.poll() is None:
            os.kill(JOURNALD_PROC.pid, signal.SIGCONT)
            JOURNALD_PROC.terminate()
            JOURNALD_PROC.wait(10)
        # The mounts are this namespace's alone; undone so that TMP can go.
        for m in ("/var/log/journal", "/etc/systemd/journald.conf", "/run"):
            subprocess.call(["umount", "-l", m], stderr=subprocess.DEVNULL)
        shutil.rmtree(TMP, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
