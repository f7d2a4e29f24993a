#!/usr/bin/env python3
"""Drop-in tracers reloaded while the daemon runs (SIGHUP): one added
(compiled alone, the others left as they are, its rules taking effect),
one changed in its program and its record (the new version switched on
before the old one off: every namespace change made across the swap is
reported), one changed into C that does not compile (refused, the running
version stays, status says why), one removed (detached, its rules dropped)
and added again (a slot given back), while another drop-in's events keep
coming without a gap."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from bpfdtest import (Daemon, Trace, check_event_shape, require_root, run_tests, wait_until)

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLES = os.path.join(ROOT, "examples", "tracers")
D = None
T = None
TD = None

PTRACE_PY = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
child = int(sys.argv[1])
r = libc.ptrace(16, child, None, None)
print(os.getpid(), r)
if r == 0:
    os.waitpid(child, 0)
    libc.ptrace(17, child, None, None)
"""


def copy_example(name):
    for ext in (".toml", ".bpf.c"):
        dst = os.path.join(TD, name + ext)
        shutil.copy(os.path.join(EXAMPLES, name + ext), dst)
        os.chmod(dst, 0o644)


def rewrite(name, old, new):
    path = os.path.join(TD, name)
    with open(path) as f:
        text = f.read()
    assert old in text, (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def tracers():
    return {t["name"]: t for t in D.status()["tracers"]}


def listed():
    return [t["name"] for t in json.loads(D.cli("tracers", "--json").stdout)["tracers"]]


def hup_and_wait(line):
    """SIGHUP, then wait for @line in the daemon's log (after what it said so far).
    Signals sent before the daemon read the last one would be one signal."""
    before = D.stderr().count(line)
    D.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: D.stderr().count(line) > before, line, timeout=60)


def ptrace_attach():
    target = subprocess.Popen(["sleep", "30"])
    try:
        out = subprocess.run([sys.executable, "-c", PTRACE_PY, str(target.pid)],
                             capture_output=True, text=True, check=True).stdout.split()
    finally:
        target.kill()
        target.wait()
    return int(out[0]), int(out[1])


class Unshares:
    """`unshare -U true`, again and again, in a thread: the pids to find in `trace`."""

    def __init__(self):
        self.pids = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stop.is_set() and len(self.pids) < 400:
            p = subprocess.Popen(["unshare", "-U", "true"])
            self.pids.append(p.pid)
            p.wait()
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def all_seen(self):
        def missing():
            got = {e["pid"] for e in T.all(lambda e: e["tracer"] == "nschange")}
            return [p for p in self.pids if p not in got]
        try:
            wait_until(lambda: not missing(), "every unshare across the reload reported",
                       timeout=20)
        except AssertionError:
            # What was lost to a full ring buffer or a slow subscriber is counted:
            # say it, to tell a machine too busy from a gap in the switch.
            st = D.status()
            raise AssertionError("%d of %d unshares not reported; nschange: %s; "
                                 "subscribers dropped %s" % (
                                     len(missing()), len(self.pids), tracers()["nschange"],
                                     st["events"].get("subscriber_dropped")))


def setup():
    global TD
    TD = tempfile.mkdtemp(prefix="bpfd-it-reload-")
    os.chmod(TD, 0o755)
    copy_example("nschange")
    with open(os.path.join(EXAMPLES, "rules", "process_injection.toml")) as f:
        injection = f.read()
    d = Daemon("--tracers-dir", TD)
    d.write_rules({
        "every_nschange": 'tracer = "nschange"\nactions = []\n',
        # ptrace is not there yet: this file is refused at start, taken at the reload.
        "process_injection": injection,
    })
    return d


def test_added():
    """A drop-in added: compiled alone while the others run on, then its rule applies."""
    assert "ptrace" not in tracers()
    assert 'unknown tracer "ptrace"' in D.stderr()
    nschange_events = tracers()["nschange"]["events"]
    copy_example("ptrace")
    with Unshares() as u:
        hup_and_wait("drop-in ptrace loaded")
    u.all_seen()
    st = tracers()
    assert st["ptrace"]["state"] == "loaded", st["ptrace"]
    # nschange was not compiled again: same slot, its counts go on.
    assert st["nschange"]["events"] >= nschange_events + len(u.pids), st["nschange"]
    assert "nschange replaced" not in D.stderr()
    assert "ptrace" in listed()
    pid, r = ptrace_attach()
    assert r == 0
    ev = T.wait_for(lambda e: e["tracer"] == "ptrace" and e["pid"] == pid, what="ptrace attach")
    check_event_shape(ev)
    assert ev["data"]["request"] == "PTRACE_ATTACH", ev
    assert "process_injection" in ev["rules"], ev["rules"]


def test_changed():
    """nschange's program and record changed: the new version replaces the old
    one without a blind moment, and its new field is in the events."""
    rewrite("nschange.toml", '[[field]]\nname = "error"',
            '[[field]]\nname = "marker"\ntype = "u32"\n\n[[field]]\nname = "error"')
    rewrite("nschange.bpf.c", "r->fd = -1;", "r->fd = -7;\n\t\tr->marker = 7;")
    with Unshares() as u:
        hup_and_wait("drop-in nschange replaced")
        time.sleep(0.5)
    u.all_seen()
    subprocess.run(["unshare", "-U", "true"], check=True)
    ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["data"].get("marker") == "7",
                    what="the new version's event")
    assert ev["data"]["fd"] == "-7", ev
    assert tracers()["nschange"]["state"] == "loaded"
    assert "ptrace replaced" not in D.stderr()


def test_changed_broken():
    """A change that does not compile: refused with the compiler's message; the
    running version stays and says so in status."""
    rewrite("nschange.bpf.c", "r->marker = 7;", "r->marker = 7 +;")
    try:
        hup_and_wait("its new version is refused")
        st = tracers()["nschange"]
        assert st["state"] == "loaded", st
        assert "the new version is refused" in st.get("note", ""), st
        assert os.path.join(TD, "nschange.bpf.c") + ":" in st["note"], st
        p = subprocess.Popen(["unshare", "-U", "true"])
        p.wait()
        ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["pid"] == p.pid,
                        what="the running version's event")
        assert ev["data"]["marker"] == "7", ev
    finally:
        rewrite("nschange.bpf.c", "r->marker = 7 +;", "r->marker = 7;")
    # Back to the running version: the refusal is no longer shown.
    D.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "note" not in tracers()["nschange"], "the note cleared")


def test_writable_file_refused_at_reload():
    """A drop-in file someone else may write, written by nobody: the reload
    refuses the new version, the running one stays."""
    path = os.path.join(TD, "nschange.bpf.c")
    os.chmod(path, 0o666)
    try:
        subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh",
                        "-c", "echo '/* nobody was here */' >> " + path], check=True)
        hup_and_wait("its new version is refused")
        st = tracers()["nschange"]
        assert st["state"] == "loaded", st
        assert "nschange.bpf.c: is writable by its group: refused" in st["note"], st
    finally:
        os.chmod(path, 0o644)
        rewrite("nschange.bpf.c", "/* nobody was here */\n", "")
    D.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "note" not in tracers()["nschange"], "the note cleared")


def test_removed_and_added_again():
    """ptrace removed: detached, gone from status and `bpfd tracers`, its rule
    dropped; added again: it gets a slot back and reports."""
    for ext in (".toml", ".bpf.c"):
        os.unlink(os.path.join(TD, "ptrace" + ext))
    hup_and_wait("drop-in ptrace removed")
    assert "ptrace" not in tracers()
    assert "ptrace" not in listed()
    assert "rule 'process_injection' dropped: its tracer is gone" in D.stderr()
    pid, r = ptrace_attach()
    assert r == 0
    time.sleep(0.5)
    assert not T.all(lambda e: e["tracer"] == "ptrace" and e["pid"] == pid)
    # A second reload with no change compiles nothing.
    hup_and_wait("SIGHUP: reloading")
    copy_example("ptrace")
    hup_and_wait("drop-in ptrace loaded")
    pid, r = ptrace_attach()
    ev = T.wait_for(lambda e: e["tracer"] == "ptrace" and e["pid"] == pid,
                    what="ptrace attach after adding it again")
    assert "process_injection" in ev["rules"], ev["rules"]


def test_reload_compiles_only_the_changed():
    """Every reload compiled only what changed (the log names what the loader
    process was given), and a reload without a change compiled nothing."""
    lines = [l.split("compiling ", 1)[1].split(";")[0] for l in D.stderr().splitlines()
             if "drop-in tracers: compiling " in l]
    assert lines == ["ptrace", "nschange", "nschange", "ptrace"], lines


def main():
    global D, T
    require_root()
    D = setup()
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_added,
            test_changed,
            test_changed_broken,
            test_writable_file_refused_at_reload,
            test_removed_and_added_again,
            test_reload_compiles_only_the_changed,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(TD, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
