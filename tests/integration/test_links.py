#!/usr/bin/env python3
"""Every program the daemon attaches is attached through a BPF link the daemon
holds (a tracepoint's or a uprobe's perf event linked to its program, a raw
tracepoint's link): `bpftool link list` shows each one while it runs and none
once it has stopped, after SIGTERM and after kill -9 alike; it holds no bare
perf event. What the programs know of the daemon, its pid, is in the
bpfd_daemon map it writes, not compiled in. A user without privileges cannot
take the daemon's links away."""
import json
import os
import signal
import struct
import subprocess
import time

from bpfdtest import Daemon, held_links, require_root, run_tests

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def bpftool(*args):
    out = subprocess.run(["bpftool", "-j"] + list(args), capture_output=True, text=True,
                         check=True, stdin=subprocess.DEVNULL).stdout
    return json.loads(out or "[]")


def link_ids():
    return {l["id"] for l in bpftool("link", "list")}


def perf_events(pid):
    """The perf event fds process @pid holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def gone(ids, timeout=5):
    """Waits until none of link @ids is in the kernel; returns those left."""
    deadline = time.time() + timeout
    left = ids & link_ids()
    while left and time.time() < deadline:
        time.sleep(0.1)
        left = ids & link_ids()
    return left


def test_every_attachment_is_a_held_link():
    d = Daemon().start()
    try:
        st = {t["name"]: t["state"] for t in d.status()["tracers"]}
        assert all(s == "loaded" for s in st.values()), st
        links = held_links(d.pid)
        ids = {int(l["link_id"]) for l in links}
        assert len(ids) == len(links) >= 20, links
        # Each one is the kernel's, listed by bpftool.
        assert ids <= link_ids(), ids - link_ids()
        kinds = {l["link_type"] for l in links}
        assert kinds == {"perf", "raw_tracepoint"}, kinds
        names = [l.get("tp_name") for l in links]
        for tp in ("sched_process_exec", "sched_process_fork", "sys_exit_openat",
                   "cgroup_mkdir", "sys_exit"):
            assert tp in names, (tp, names)
        # The bashreadline tracer's uretprobe is a link too.
        probes = [l for l in links if l.get("event_type") == "uretprobe"]
        assert len(probes) == 1 and probes[0].get("name", "").endswith("bash"), links
        # No bare perf event: the link is what holds it.
        assert perf_events(d.pid) == 0, perf_events(d.pid)

        assert d.stop(signal.SIGTERM) == 0, d.stderr()
        left = gone(ids)
        assert not left, "links left after SIGTERM: %s" % sorted(left)
    finally:
        d.cleanup()


def test_kill_9_leaves_no_link():
    d = Daemon("--tracers", "exec,open").start()
    try:
        ids = {int(l["link_id"]) for l in held_links(d.pid)}
        assert len(ids) >= 10, ids
        d.stop(signal.SIGKILL)
        left = gone(ids)
        assert not left, "links left after kill -9: %s" % sorted(left)
    finally:
        d.cleanup()


def daemon_map_value(pid):
    """The value of bpfd_daemon[0] among the maps process @pid holds."""
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = f.read()
        except OSError:
            continue
        for line in info.splitlines():
            if not line.startswith("map_id:"):
                continue
            mid = line.split()[1]
            if bpftool("map", "show", "id", mid).get("name") != "bpfd_daemon":
                continue
            entry = bpftool("map", "lookup", "id", mid, "key", "0", "0", "0", "0")
            return bytes(int(b, 16) for b in entry["value"])
    raise AssertionError("the daemon holds no bpfd_daemon map")


def test_daemon_pid_is_in_the_map():
    d = Daemon("--tracers", "exec").start()
    try:
        value = daemon_map_value(d.pid)
        assert len(value) == 32, value
        tgid, = struct.unpack("<I", value[:4])
        assert tgid == d.pid, (tgid, d.pid)
        assert value[4:] == bytes(28), value
    finally:
        d.cleanup()


def test_nobody_cannot_detach_the_links():
    """A user who would blind the daemon: bpftool cannot reach its links."""
    d = Daemon("--tracers", "exec").start()
    try:
        ids = {int(l["link_id"]) for l in held_links(d.pid)}
        for lid in sorted(ids):
            r = subprocess.run(NOBODY + ["bpftool", "link", "detach", "id", str(lid)],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            assert r.returncode != 0, r
        assert ids <= link_ids()
        assert {int(l["link_id"]) for l in held_links(d.pid)} == ids
    finally:
        d.cleanup()


def main():
    require_root()
    return run_tests([test_every_attachment_is_a_held_link, test_kill_9_leaves_no_link,
                      test_daemon_pid_is_in_the_map, test_nobody_cannot_detach_the_links])


if __name__ == "__main__":
    raise SystemExit(main())
