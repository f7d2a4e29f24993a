#!/usr/bin/env python3
"""The daemon's lifecycle: start, failures of single tracers, a second daemon,
stale sockets, SIGTERM and kill -9 leaving no BPF programs behind, and the
client's behaviour without a daemon."""
import json
import os
import signal
import subprocess
import sys
import time

from bpfdtest import BPFD, Daemon, Trace, make_program, require_root, run_tests, unique


def bpf_prog_ids():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"] for p in json.loads(out or "[]")}


def daemon_prog_ids(pid):
    """The programs that use the maps process @pid holds (its ring buffer and
    the others), so that other daemons running meanwhile on this host do not
    count."""
    maps = set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("map_id:"):
                        maps.add(int(line.split()[1]))
        except OSError:
            pass
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"] for p in json.loads(out or "[]") if maps & set(p.get("map_ids", []))}


def tracer_states(d):
    return {t["name"]: t for t in d.status()["tracers"]}


def test_sigterm_detaches_everything():
    d = Daemon().start()
    try:
        during = daemon_prog_ids(d.pid)
        assert len(during) >= 10, "expected the daemon's programs, found %d" % len(during)
        assert os.path.exists(d.socket)
        rc = d.stop(signal.SIGTERM)
        assert rc == 0, (rc, d.stderr())
        assert not os.path.exists(d.socket), "socket left behind"
        # The kernel frees the programs of a tail-call table (the compat
        # programs) from a work queue once the table's last descriptor is
        # closed: a moment after the daemon's exit.
        deadline = time.time() + 5
        left = during & bpf_prog_ids()
        while left and time.time() < deadline:
            time.sleep(0.1)
            left = during & bpf_prog_ids()
        assert not left, "programs still loaded after SIGTERM: %s" % sorted(left)
        assert "stopped" in d.stderr()
    finally:
        d.cleanup()


def test_second_daemon_refused_and_stale_socket_replaced():
    d = Daemon().start()
    try:
        second = subprocess.run([BPFD, "daemon", "-s", d.socket], capture_output=True,
                                text=True, timeout=30)
        assert second.returncode == 1, second
        assert "another bpfd daemon is running" in second.stderr, second.stderr
        assert d.proc.poll() is None, "the first daemon died"
        d.status()
        held = daemon_prog_ids(d.pid)
        assert len(held) >= 10, "expected the daemon's programs, found %d" % len(held)

        # kill -9 leaves the socket file but no BPF programs.
        d.stop(signal.SIGKILL)
        assert os.path.exists(d.socket)
        time.sleep(0.5)
        left = held & bpf_prog_ids()
        assert not left, "programs left after kill -9: %s" % sorted(left)

        d2 = Daemon(tmpdir=d.tmp).start()
        try:
            assert d2.status()["ok"] is True
        finally:
            assert d2.stop() == 0
    finally:
        d.cleanup()


def test_failed_tracer_leaves_others_running():
    d = Daemon("--bash", "/nonexistent/bash").start()
    try:
        st = tracer_states(d)
        assert st["bashreadline"]["state"] == "failed", st["bashreadline"]
        assert "/nonexistent/bash" in st["bashreadline"]["error"]
        assert st["exec"]["state"] == "loaded" and st["open"]["state"] == "loaded"
        t = Trace(d, "--tracer", "exec")
        prog = make_program(d.tmp, unique("fl"))
        subprocess.run([prog], check=True)
        t.wait_for(lambda e: e["data"].get("filename") == prog)
        assert all(e["tracer"] == "exec" for e in t.events)
        t.stop()
        assert "tracer bashreadline failed" in d.stderr()
    finally:
        d.cleanup()


def test_tracers_option_selects():
    d = Daemon("--tracers", "exec").start()
    try:
        st = tracer_states(d)
        assert st["exec"]["state"] == "loaded"
        assert st["open"]["state"] == "disabled" and st["bashreadline"]["state"] == "disabled"
    finally:
        d.cleanup()
    bad = subprocess.run([BPFD, "daemon", "-s", "/tmp/bpfd-none.sock", "--tracers", "nosuch"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "unknown tracer 'nosuch'" in bad.stderr, bad


def test_stdout_action_without_rules():
    d = Daemon("--tracers", "exec").start()
    try:
        prog = make_program(d.tmp, unique("so"))
        subprocess.run([prog, "hello"], check=True)
        deadline = time.time() + 10
        while prog not in d.stdout() and time.time() < deadline:
            time.sleep(0.1)
        line = [l for l in d.stdout().splitlines() if prog in l]
        assert line, d.stdout()[-500:]
        assert " exec " in line[0] and "argv=\"%s hello\"" % prog in line[0], line[0]
        actions = {a["name"]: a for a in d.status()["actions"]}
        assert actions["stdout"]["runs"] >= 1
    finally:
        d.cleanup()


def test_client_without_daemon():
    sock = "/tmp/bpfd-test-nobody-%d.sock" % os.getpid()
    for cmd in (["status"], ["trace"]):
        r = subprocess.run([BPFD, "-s", sock] + cmd, capture_output=True, text=True)
        assert r.returncode == 1, r
        assert sock in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    v = subprocess.run([BPFD, "-s", sock, "version"], capture_output=True, text=True)
    assert v.returncode == 0 and "not reachable at " + sock in v.stdout, v
    t = subprocess.run([BPFD, "tracers", "--json"], capture_output=True, text=True)
    names = [x["name"] for x in json.loads(t.stdout)["tracers"]]
    assert names == ["exec", "open", "bashreadline", "dockeropenbreakout", "tcpconnect",
                     "tcpaccept", "tcpdrop", "chmod", "filechange"], names


def test_usage_errors_exit_2():
    for args in (["frob"], ["status", "--nope"], ["trace", "--tracer"], []):
        r = subprocess.run([BPFD] + args, capture_output=True, text=True)
        assert r.returncode == 2, (args, r)
        assert r.stderr.startswith("bpfd: "), r.stderr
    r = subprocess.run([BPFD, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "Commands:" in r.stdout


def test_client_commands_do_not_load_llvm():
    env = dict(os.environ, LD_DEBUG="files")
    for cmd in (["version"], ["tracers"], ["status"]):
        r = subprocess.run([BPFD, "-s", "/nonexistent.sock"] + cmd, capture_output=True,
                           text=True, env=env)
        assert "libbcc" not in r.stderr and "libLLVM" not in r.stderr, cmd


def main():
    require_root()
    return run_tests([
        test_sigterm_detaches_everything,
        test_second_daemon_refused_and_stale_socket_replaced,
        test_failed_tracer_leaves_others_running,
        test_tracers_option_selects,
        test_stdout_action_without_rules,
        test_client_without_daemon,
        test_usage_errors_exit_2,
        test_client_commands_do_not_load_llvm,
    ])


if __name__ == "__main__":
    sys.exit(main())
