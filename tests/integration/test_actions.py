#!/usr/bin/env python3
"""Actions against real processes: kill (and what it must leave alone), exec
(stdin, variables, a hanging command killed at its timeout while events keep
flowing), file (JSON lines, rename + SIGHUP), rate limits on a burst of
10,000 events, the config (bad lines, reload, default_actions, output) and
the refusal of unfiltered destructive rules."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, Daemon, Trace, make_program, require_root, run_tests, unique

D = None        # exec + open, rules with actions
T = None
TMP = None
NAMES = {}


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def action(daemon, name):
    for a in daemon.status()["actions"]:
        if a["name"] == name:
            return a
    raise AssertionError("no action %s in status: %s" % (name, daemon.status()["actions"]))


def wait_action(daemon, name, pred, what, timeout=10):
    deadline = time.time() + timeout
    while True:
        a = action(daemon, name)
        if pred(a):
            return a
        assert time.time() < deadline, "%s: %s is %s" % (what, name, a)
        time.sleep(0.05)


def setup():
    global D, T, TMP
    TMP = tempfile.mkdtemp(prefix="bpfd-actions-")
    for key in ("kill", "spared", "exec", "hang", "file", "burst", "other"):
        NAMES[key] = unique(key[:3])
    NAMES["burst_path"] = os.path.join(TMP, unique("burst"))
    open(NAMES["burst_path"], "w").close()
    conf = os.path.join(TMP, "bpfd.conf")
    write(conf, """
[daemon]
default_actions = none

[exec]
command = cd {tmp} && echo $$ > exec-$BPFD_PID.sh; cat > exec-$BPFD_PID.json; env | grep ^BPFD_ | sort > exec-$BPFD_PID.env
timeout = 10s

[exec:hang]
command = sleep 600
timeout = 1s

[file]
path = {tmp}/events.jsonl

[file:burst]
path = {tmp}/burst.jsonl
rate_limit = 5/h
""".format(tmp=TMP))
    D = Daemon("--tracers", "exec,open", "--config", conf, tmpdir=TMP)
    rules = os.path.join(TMP, "rules")
    os.mkdir(rules)
    write(os.path.join(rules, "kill.toml"), """
tracer = "exec"
actions = ["kill"]
[filterEvents.command]
values = ["%s"]
""" % NAMES["kill"])
    write(os.path.join(rules, "exec.toml"), """
tracer = "exec"
actions = ["exec"]
[filterEvents.command]
values = ["%s"]
""" % NAMES["exec"])
    write(os.path.join(rules, "hang.toml"), """
tracer = "exec"
actions = ["exec:hang"]
[filterEvents.command]
values = ["%s"]
""" % NAMES["hang"])
    write(os.path.join(rules, "file.toml"), """
tracer = "exec"
actions = ["file"]
[filterEvents.command]
values = ["%s"]
""" % NAMES["file"])
    write(os.path.join(rules, "other.toml"), """
tracer = "exec"
actions = []
[filterEvents.command]
values = ["%s", "%s"]
""" % (NAMES["other"], NAMES["spared"]))
    write(os.path.join(rules, "burst.toml"), """
tracer = "open"
actions = ["file:burst"]
[filterEvents.filename]
values = ["%s"]
""" % NAMES["burst_path"])
    D.start()
    T = Trace(D)


def test_kill_matching_process_only():
    victim = make_program(TMP, NAMES["kill"], "/bin/sleep")
    spared = make_program(TMP, NAMES["spared"], "/bin/sleep")
    p1 = subprocess.Popen([victim, "30"])
    p2 = subprocess.Popen([spared, "30"])
    try:
        assert p1.wait(10) == -signal.SIGKILL, p1.returncode
        T.wait_for(lambda e: e["command"] == NAMES["spared"], what="the spared process's exec")
        time.sleep(0.3)
        assert p2.poll() is None, "a process no kill rule matches was killed"
    finally:
        p2.kill()
        p2.wait()
    a = action(D, "kill")
    assert a["runs"] >= 1 and a["failures"] == 0, a


def test_exec_command_gets_event():
    prog = make_program(TMP, NAMES["exec"])
    p = subprocess.run([prog, "--flag"], check=True)
    ev = T.wait_for(lambda e: e["command"] == NAMES["exec"], what="exec event")
    path = os.path.join(TMP, "exec-%d.env" % ev["pid"])
    deadline = time.time() + 10
    while not os.path.exists(path) or not open(path).read().endswith("\n"):
        assert time.time() < deadline, "the exec action's command did not run"
        time.sleep(0.05)
    got = json.load(open(os.path.join(TMP, "exec-%d.json" % ev["pid"])))
    assert got["pid"] == ev["pid"] and got["tracer"] == "exec", got
    assert got["data"]["argv"] == prog + " --flag", got["data"]
    assert got["rules"] == ["exec"], got["rules"]
    env = dict(l.split("=", 1) for l in open(path).read().splitlines())
    assert env["BPFD_PID"] == str(ev["pid"]), env
    assert env["BPFD_COMMAND"] == NAMES["exec"], env
    assert env["BPFD_RULE"] == "exec", env
    assert env["BPFD_DATA_FILENAME"] == prog, env
    assert env["BPFD_CONTAINER_RUNTIME"] == "not-found", env
    # The command (a shell) and what it ran (cat, env, grep, sort) are never reported.
    shell = int(open(os.path.join(TMP, "exec-%d.sh" % ev["pid"])).read())
    time.sleep(0.3)
    mine = T.all(lambda e: shell in (e["pid"], e["ppid"]))
    assert not mine, mine


def test_exec_timeout_does_not_stop_events():
    prog = make_program(TMP, NAMES["hang"])
    subprocess.run([prog], check=True)
    T.wait_for(lambda e: e["command"] == NAMES["hang"], what="hang event")
    # While the command hangs, events keep flowing.
    other = make_program(TMP, NAMES["other"])
    start = time.time()
    subprocess.run([other], check=True)
    T.wait_for(lambda e: e["command"] == NAMES["other"], timeout=2, what="event during a hang")
    assert time.time() - start < 2
    a = wait_action(D, "exec:hang", lambda a: a["failures"] == 1, "killed at its timeout",
                    timeout=10)
    assert a["pending"] == 0, a
    assert "ran longer than its timeout" in D.stderr(), D.stderr()[-2000:]


def test_file_lines_and_reopen():
    prog = make_program(TMP, NAMES["file"])
    path = os.path.join(TMP, "events.jsonl")
    for _ in range(3):
        subprocess.run([prog], check=True)
    deadline = time.time() + 10
    while not os.path.exists(path) or len(open(path).read().splitlines()) < 3:
        assert time.time() < deadline, "three lines were not written"
        time.sleep(0.05)
    lines = open(path).read().splitlines()
    assert len(lines) == 3
    for l in lines:
        ev = json.loads(l)
        assert ev["command"] == NAMES["file"] and ev["rules"] == ["file"], ev
    # logrotate: move the file, SIGHUP, and the next lines go to a new file.
    os.rename(path, path + ".1")
    D.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while "config" not in D.stderr() or "reloaded" not in D.stderr():
        assert time.time() < deadline, "SIGHUP was not handled"
        time.sleep(0.05)
    subprocess.run([prog], check=True)
    while not os.path.exists(path) or not open(path).read():
        assert time.time() < deadline, "no new file after SIGHUP"
        time.sleep(0.05)
    assert len(open(path).read().splitlines()) == 1
    assert len(open(path + ".1").read().splitlines()) == 3


def test_rate_limit_on_a_burst():
    target = NAMES["burst_path"]  # made before the daemon started: exactly 10,000 opens
    before = D.status()["events"]["lost"]
    subprocess.run([sys.executable, "-c",
                    "import os\nfor _ in range(10000): os.close(os.open(%r, os.O_RDONLY))" % target],
                   check=True)
    a = wait_action(D, "file:burst", lambda a: a["runs"] + a["suppressed"] >= 10000,
                    "10,000 matching events", timeout=20)
    assert D.status()["events"]["lost"] == before, "events were lost: the count would be off"
    assert a["runs"] == 5, a
    assert a["suppressed"] == 9995, a
    time.sleep(0.2)
    assert len(open(os.path.join(TMP, "burst.jsonl")).read().splitlines()) == 5


def test_unfiltered_destructive_rule_refused():
    r = subprocess.run([BPFD, "-s", D.socket, "create", "-"], input='name = "everyone"\n'
                       'tracer = "exec"\nactions = ["kill"]\n', capture_output=True, text=True)
    assert r.returncode == 1, r
    assert "has no filter" in r.stderr and "force = true" in r.stderr, r.stderr
    r = subprocess.run([BPFD, "check", "-"], input='name = "x"\ntracer = "exec"\n'
                       'actions = ["interrupt"]\n', capture_output=True, text=True)
    assert r.returncode == 1 and "has no filter" in r.stderr, r
    # An action the config cannot support is named with the reason.
    r = subprocess.run([BPFD, "-s", D.socket, "create", "-"], input='name = "hook"\n'
                       'tracer = "exec"\nactions = ["exec:missing"]\n', capture_output=True,
                       text=True)
    assert r.returncode == 1, r
    assert "no `command` in [exec:missing]" in r.stderr, r.stderr


def test_bad_config_is_fatal_at_start():
    tmp = tempfile.mkdtemp(prefix="bpfd-badconf-")
    conf = os.path.join(tmp, "bpfd.conf")
    write(conf, "[daemon]\nlog_level = info\n\n[exec]\ncommand = true\ntimeout = forever\n")
    d = Daemon("--config", conf, tmpdir=tmp)
    d.start(wait=False)
    assert d.proc.wait(30) == 1
    assert "%s:6: timeout: \"forever\" is not a duration" % conf in d.stderr(), d.stderr()
    # `bpfd check --config` says the same without a daemon; the example is valid.
    r = subprocess.run([BPFD, "check", "--config", conf], capture_output=True, text=True)
    assert r.returncode == 1 and ":6: timeout:" in r.stderr, r
    d.cleanup()
    root = os.environ.get("BPFD_SOURCE_ROOT", os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    r = subprocess.run([BPFD, "check", "--config", os.path.join(root, "examples", "bpfd.conf")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r
    # --config naming a file that does not exist is fatal too; the default is optional.
    d = Daemon("--config", "/nonexistent/bpfd.conf", tmpdir=tempfile.mkdtemp())
    d.start(wait=False)
    assert d.proc.wait(30) == 1
    assert "/nonexistent/bpfd.conf: No such file or directory" in d.stderr(), d.stderr()
    d.cleanup()


def test_default_actions_output_and_reload():
    """A tracer without rules: stdout JSON lines, then `none` after a reload,
    then a broken config that leaves the one in use."""
    tmp = tempfile.mkdtemp(prefix="bpfd-defaults-")
    conf = os.path.join(tmp, "bpfd.conf")
    write(conf, "[daemon]\noutput = json\n")
    d = Daemon("--tracers", "exec", "--config", conf, tmpdir=tmp)
    d.start()
    t = Trace(d)
    try:
        first, second, third = unique("a"), unique("b"), unique("c")
        subprocess.run([make_program(tmp, first)], check=True)
        t.wait_for(lambda e: e["command"] == first, what="first exec")
        deadline = time.time() + 5
        while first not in d.stdout():
            assert time.time() < deadline, "stdout action did not print"
            time.sleep(0.05)
        line = [l for l in d.stdout().splitlines() if first in l][0]
        assert json.loads(line)["command"] == first, line

        write(conf, "[daemon]\ndefault_actions = none\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while d.stderr().count("reloaded") < 1:
            assert time.time() < deadline, "no reload"
            time.sleep(0.05)
        subprocess.run([make_program(tmp, second)], check=True)
        t.wait_for(lambda e: e["command"] == second, what="second exec (trace still gets it)")
        time.sleep(0.3)
        assert second not in d.stdout(), "default_actions = none still printed"

        write(conf, "[daemon]\ndefault_actions = stdout\noutput = yaml\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "keeping the settings in use" not in d.stderr():
            assert time.time() < deadline, "a bad config on reload was not reported"
            time.sleep(0.05)
        assert "%s:3: output: \"yaml\" is not text or json" % conf in d.stderr()
        subprocess.run([make_program(tmp, third)], check=True)
        t.wait_for(lambda e: e["command"] == third, what="third exec")
        time.sleep(0.3)
        assert third not in d.stdout(), "the broken config was applied"
        assert d.proc.poll() is None
    finally:
        t.stop()
        d.cleanup()


def create_rule(name, text):
    return subprocess.run([BPFD, "-s", D.socket, "create", "-"], input='name = "%s"\n%s' % (name, text),
                          capture_output=True, text=True)


def test_rule_actions_resolved_when_the_rules_change():
    """Each rule's actions are instances made when the rule goes in force (status lists
    them before any event); one event matched by two rules naming the same instance runs
    it once; and an admin naming ever more instances meets the limit with a clear error."""
    cmd = unique("dup")
    rule = 'tracer = "exec"\nactions = ["stdout:dup"]\n[filterEvents.command]\nvalues = ["%s"]\n' % cmd
    for name in ("dup_a", "dup_b"):
        r = create_rule(name, rule)
        assert r.returncode == 0, r.stderr
    assert action(D, "stdout:dup")["runs"] == 0
    subprocess.run([make_program(TMP, cmd)], check=True)
    a = wait_action(D, "stdout:dup", lambda a: a["runs"] >= 1, "the matched event")
    ev = T.wait_for(lambda e: e["data"].get("command") == cmd, what="the event of %s" % cmd)
    assert ev["rules"] == ["dup_a", "dup_b"], ev["rules"]
    time.sleep(0.3)
    assert action(D, "stdout:dup")["runs"] == 1, action(D, "stdout:dup")
    lines = [l for l in D.stdout().splitlines() if cmd in l]
    assert len(lines) == 1, lines
    # Ever more instances: refused at the limit, by name, and the daemon lives on.
    made = []
    refused = None
    for i in range(300):
        r = create_rule("cap%d" % i, 'tracer = "exec"\nactions = ["stdout:cap%d"]\n'
                        '[filterEvents.command]\nvalues = ["%s"]\n' % (i, cmd))
        if r.returncode != 0:
            refused = r
            break
        made.append("cap%d" % i)
    assert refused is not None, "300 instances were all made"
    assert "more than 256 action instances" in refused.stderr, refused.stderr
    assert len(D.status()["actions"]) == 256
    for name in made + ["dup_a", "dup_b"]:
        D.cli("rm", name)
    assert D.proc.poll() is None
    subprocess.run([make_program(TMP, cmd)], check=True)
    time.sleep(0.3)
    assert action(D, "stdout:dup")["runs"] == 1, "a removed rule still ran its action"


def main():
    require_root()
    setup()
    try:
        return run_tests([
            test_kill_matching_process_only,
            test_exec_command_gets_event,
            test_exec_timeout_does_not_stop_events,
            test_file_lines_and_reopen,
            test_rate_limit_on_a_burst,
            test_unfiltered_destructive_rule_refused,
            test_bad_config_is_fatal_at_start,
            test_default_actions_output_and_reload,
            # Last: it leaves the daemon at its most instances.
            test_rule_actions_resolved_when_the_rules_change,
        ])
    finally:
        T.stop()
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
