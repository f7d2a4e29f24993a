#!/usr/bin/env python3
"""Actions against hostile workloads, each attack played by whoever would
really make it:

- an unprivileged user with a delegated cgroup subtree names a cgroup after
  a real docker container, triggers a `pause` or `kill-container` rule from
  it and removes it before the daemon acts: the real container must be
  neither frozen nor killed;
- 40 rules match one event: every rule's action runs;
- a program whose name holds a newline reaches an `exec` action: its
  BPFD_* variables carry no raw control character;
- a user who can write the `file` action's directory plants a FIFO (the
  daemon must not hang) or a symlink (it must not be followed);
- the daemon's standard output is a pipe nobody reads: `bpfd status` still
  answers within 1 s while events flood the `stdout` action;
- `default_actions = kill` without `force` is refused at start;
- a daemon killed with SIGKILL is replaced at once: the new one waits for
  the old one to finish dying instead of refusing to start.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bpfdtest import (BPFD, Daemon, Docker, cgroup2_mount, make_program, require_root, run_tests,
                      unique, wait_until)

UID = 64123           # an account that exists nowhere: the attacker
D = None              # the shared daemon
TMP = None            # its directory, and the attacker's (mode 1777 below)
WORDS = {}            # rule -> the program name that triggers it
DOCKER = None
CLEANUP = []          # callables, run last to first


def as_attacker(script, cgroup=None, timeout=30):
    """@script run by sh as UID (no groups), started inside @cgroup if given."""
    enter = "echo $$ > %s/cgroup.procs && " % cgroup if cgroup else ""
    return subprocess.run(
        ["sh", "-c", enter + 'exec setpriv --reuid=%d --regid=%d --clear-groups sh -c "$0"'
         % (UID, UID), script], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout)


def action_stats(name):
    for a in D.status()["actions"]:
        if a["name"] == name:
            return a
    return {"runs": 0, "failures": 0, "dropped": 0}


def rule(name, word, actions):
    return ('name = "%s"\ntracer = "exec"\nactions = %s\n\n[filterEvents.command]\n'
            'values = [%s]\n' % (name, json.dumps(actions), json.dumps(word)))


MANY = 40


def setup():
    global D, TMP
    TMP = tempfile.mkdtemp(prefix="bpfd-hostile-")
    os.chmod(TMP, 0o755)
    rules = os.path.join(TMP, "rules")
    os.makedirs(rules)
    for w in ("pause", "kill-container", "many", "env", "flood", "file"):
        WORDS[w] = unique(w[:2])
    # A command name with a newline in it, as anyone may name a program.
    WORDS["env"] = WORDS["env"][:10] + "\nFAKE"
    conf = []
    for action in ("pause", "kill-container"):
        with open(os.path.join(rules, action + ".toml"), "w") as f:
            f.write(rule(action.replace("-", "_"), WORDS[action], [action]))
    for i in range(MANY):
        with open(os.path.join(rules, "many%02d.toml" % i), "w") as f:
            f.write(rule("many%02d" % i, WORDS["many"], ["file:m%02d" % i]))
        conf.append("[file:m%02d]\npath = %s/m%02d.jsonl\n" % (i, TMP, i))
    with open(os.path.join(rules, "env.toml"), "w") as f:
        f.write(rule("env_it", WORDS["env"], ["exec:env"]))
    conf.append("[exec:env]\ncommand = env > %s/env.out\n" % TMP)
    with open(os.path.join(rules, "flood.toml"), "w") as f:
        f.write(rule("flood_it", WORDS["flood"], ["stdout"]))
    # The `file` action writes into a directory the attacker owns (an app's log directory).
    drop = os.path.join(TMP, "drop")
    os.makedirs(drop)
    os.chown(drop, UID, UID)
    with open(os.path.join(rules, "file.toml"), "w") as f:
        f.write(rule("file_it", WORDS["file"], ["file:shared"]))
    conf.append("[file:shared]\npath = %s/events.jsonl\n" % drop)
    with open(os.path.join(TMP, "bpfd.conf"), "w") as f:
        f.write("\n".join(conf))
    D = PipedDaemon("--tracers", "exec", "--config", os.path.join(TMP, "bpfd.conf"),
                    tmpdir=TMP).start()
    # Programs the attacker runs: copies of /bin/true it may execute.
    bindir = os.path.join(TMP, "bin")
    os.makedirs(bindir)
    os.chmod(bindir, 0o755)
    for w in WORDS.values():
        make_program(bindir, w)


class PipedDaemon(Daemon):
    """A daemon whose standard output is a pipe that nobody reads."""

    def start(self, wait=True, timeout=60):
        r, w = os.pipe()
        self.stdout_pipe = r
        cmd = [BPFD, "daemon", "-s", self.socket,
               "--rules-dir", os.path.join(self.tmp, "rules")] + self.args
        self.proc = subprocess.Popen(cmd, stdout=w, stderr=open(self.stderr_path, "wb"),
                                     stdin=subprocess.DEVNULL)
        os.close(w)
        if wait:
            self.wait_ready(timeout)
        return self


def program(word):
    return os.path.join(TMP, "bin", word)


# --- 6: the container actions' target -------------------------------------------------------

def frozen(cg2, cid):
    with open(os.path.join(cg2, "docker", cid, "cgroup.events")) as f:
        return "frozen 1" in f.read().splitlines()


def real_container_and_subtree():
    """A real container, and a cgroup subtree delegated to the attacker: (cg2, id, subtree)."""
    if not DOCKER.ok:
        raise AssertionError("docker: " + DOCKER.reason)
    cg2 = cgroup2_mount()
    name = unique("hv")
    cid = DOCKER.run("-d", "--name", name, Docker.IMAGE, "sleep", "300").stdout.strip()
    CLEANUP.append(lambda: subprocess.run(["docker", "rm", "-f", name], capture_output=True,
                                          stdin=subprocess.DEVNULL))
    CLEANUP.append(lambda: open(os.path.join(cg2, "docker", cid, "cgroup.freeze"), "w")
                   .write("0") if os.path.exists(os.path.join(cg2, "docker", cid)) else None)
    # The delegated subtree: the user owns it and its interface files.
    sub = os.path.join(cg2, unique("bpfd-hostile-"))
    os.mkdir(sub)
    CLEANUP.append(lambda: remove_cgroup_tree(sub))
    for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
        os.chown(os.path.join(sub, f), UID, UID)
    return cg2, cid, sub


def trigger_from_gone_cgroup(action, sub, cid):
    """The user makes SUB/docker/<cid>, runs @action's rule program in it and removes
    it. bpfd reads events within milliseconds, so a user racing it wins now and
    then; SIGSTOP makes bpfd the slower one every time."""
    fake = os.path.join(sub, "docker", cid)
    before = action_stats(action)
    script = ('mkdir -p %(fake)s && sh -c \'echo $$ > %(fake)s/cgroup.procs; exec %(prog)s\'; '
              'rmdir %(fake)s' % {"fake": fake, "prog": program(WORDS[action])})
    os.kill(D.pid, signal.SIGSTOP)
    try:
        r = as_attacker(script, cgroup=sub)
    finally:
        os.kill(D.pid, signal.SIGCONT)
    assert r.returncode == 0, "attacker script failed (%d): %s" % (r.returncode, r.stderr)
    wait_until(lambda: action_stats(action)["runs"] > before["runs"], "the rule's run")
    time.sleep(0.2)
    return before


def test_named_like_a_container_pause():
    """A user with a delegated subtree names a cgroup after a real container and
    triggers a `pause` rule from it: bpfd must not freeze the real container
    (before: when the event's cgroup was gone, it looked the container up by id)."""
    cg2, cid, sub = real_container_and_subtree()
    before = trigger_from_gone_cgroup("pause", sub, cid)
    assert not frozen(cg2, cid), "bpfd froze the real container %s" % cid
    assert action_stats("pause")["failures"] > before["failures"], action_stats("pause")
    assert "its cgroup (id" in D.stderr(), D.stderr()[-2000:]


def test_named_like_a_container_kill_container():
    """The same with a `kill-container` rule: the real container keeps running."""
    cg2, cid, sub = real_container_and_subtree()
    before = trigger_from_gone_cgroup("kill-container", sub, cid)
    state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", cid],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout
    assert state.strip() == "true", "bpfd killed the real container %s" % cid
    assert action_stats("kill-container")["failures"] > before["failures"]


# --- 7: every matching rule runs ---------------------------------------------------------

def test_forty_matching_rules_all_run():
    """One event matching 40 rules (a user's program names itself after them): each
    rule's `file` action writes its line (before: the rules after the 32nd were
    silently skipped, kill actions with them)."""
    r = as_attacker(program(WORDS["many"]))
    assert r.returncode == 0, r.stderr
    paths = [os.path.join(TMP, "m%02d.jsonl" % i) for i in range(MANY)]

    def written():
        return [p for p in paths if os.path.exists(p) and os.path.getsize(p) > 0]
    try:
        wait_until(lambda: len(written()) == MANY, "all %d files written" % MANY, timeout=5)
    except AssertionError:
        raise AssertionError("only %d of %d rules ran their action" % (len(written()), MANY))
    with open(paths[-1]) as f:
        ev = json.loads(f.readline())
    assert len(ev["rules"]) == 32 and ev["rules_omitted"] == MANY - 32, ev


def test_exec_env_has_no_raw_control_characters():
    """A user's program named "x<newline>FAKE" reaches an `exec` action whose command
    writes its environment to a file: BPFD_COMMAND holds the newline escaped, so a
    line such as the shipped `exec:notify` example logs cannot be forged."""
    r = as_attacker("exec '%s'" % program(WORDS["env"]))
    assert r.returncode == 0, r.stderr
    out = os.path.join(TMP, "env.out")
    wait_until(lambda: os.path.exists(out) and "BPFD_PID=" in open(out).read(), "the exec action")
    with open(out) as f:
        lines = f.read().splitlines()
    first, rest = WORDS["env"].split("\n")
    assert "BPFD_COMMAND=%s\\x0a%s" % (first, rest) in lines, \
        [l for l in lines if l.startswith("BPFD_")]
    assert rest not in lines, "a raw newline reached the environment"


def status_time():
    """Seconds `bpfd status` takes to answer (it must answer)."""
    start = time.time()
    D.cli("status", "--json", timeout=5)
    return time.time() - start


def file_runs(n, what):
    assert as_attacker(program(WORDS["file"])).returncode == 0
    wait_until(lambda: action_stats("file:shared")["runs"] >= n, what)


def swap_file(cmd):
    """The attacker replaces the `file` action's file; logrotate then sends SIGHUP."""
    path = os.path.join(TMP, "drop", "events.jsonl")
    r = as_attacker("rm -f %s && %s %s" % (path, cmd, path))
    assert r.returncode == 0, r.stderr
    os.kill(D.pid, signal.SIGHUP)
    time.sleep(0.3)
    return path


def test_file_path_swapped_for_symlink():
    """A user who owns the `file` action's directory swaps the file for a symlink to a
    file of root's and waits for logrotate's SIGHUP: the symlink is not followed."""
    victim = os.path.join(TMP, "victim")
    with open(victim, "w") as f:
        f.write("root's\n")
    before = action_stats("file:shared")
    file_runs(before["runs"] + 1, "the first run")
    swap_file("ln -s %s" % victim)
    file_runs(before["runs"] + 2, "the second run")
    time.sleep(0.3)
    with open(victim) as f:
        assert f.read() == "root's\n", "bpfd followed the symlink into " + victim
    assert action_stats("file:shared")["failures"] > before["failures"]
    assert "a symbolic link: not followed" in D.stderr(), D.stderr()[-2000:]


def test_file_path_swapped_for_fifo():
    """The same user puts a FIFO there instead: reopening it must not wait for a
    reader (before: the daemon hung in open() for good)."""
    before = action_stats("file:shared")
    path = swap_file("mkfifo -m 666")
    try:
        took = status_time()
    except subprocess.TimeoutExpired:
        # Let the daemon go (it waits for a reader) so that the tests after run.
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        raise AssertionError("bpfd hung opening the FIFO the user put at " + path)
    assert took < 1.0, "status took %.2fs" % took
    file_runs(before["runs"] + 1, "a run after the swap")
    assert action_stats("file:shared")["failures"] > before["failures"]


def test_stdout_pipe_nobody_reads():
    """The daemon's standard output is a pipe whose reader stopped; a user floods the
    `stdout` action: `bpfd status` still answers within 1 s (before: the daemon
    blocked in write() for good)."""
    r = as_attacker("for i in $(seq 500); do %s; done" % program(WORDS["flood"]), timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        worst = max(status_time() for _ in range(3))
    except subprocess.TimeoutExpired:
        drain(D.stdout_pipe)    # let the daemon go, so that the tests after run
        raise AssertionError("bpfd status did not answer: the daemon blocks on its stdout")
    print("status with stdout stalled: %.3fs" % worst)
    assert worst < 1.0, "status took %.2fs" % worst
    wait_until(lambda: action_stats("stdout")["runs"] >= 500, "the flood's runs", timeout=20)


def test_restart_right_after_sigkill():
    """A second daemon on a live one's socket is refused at once; after `kill -9` of
    the daemon a new one started straight away waits for the old one to finish dying
    (about a second: the kernel releases its BPF programs) and starts (before: it
    exited with "another bpfd daemon is running")."""
    global D
    second = Daemon("--tracers", "exec", tmpdir=TMP)
    second.stderr_path = os.path.join(TMP, "second.err")
    start = time.time()
    second.start(wait=False)
    assert second.proc.wait(10) == 1, second.stderr()
    assert time.time() - start < 5 and "another bpfd daemon is running" in second.stderr()

    old = D
    os.kill(old.pid, signal.SIGKILL)
    start = time.time()
    third = Daemon("--tracers", "exec", tmpdir=TMP)
    third.stderr_path = os.path.join(TMP, "third.err")
    third.start(wait=False)
    try:
        third.wait_ready(30)
    finally:
        old.proc.wait(30)
        D = third       # stopped and cleaned up by main()
    print("restart after SIGKILL: ready in %.2fs" % (time.time() - start))


def test_destructive_default_actions_need_force():
    """`default_actions = kill` would kill every process a tracer without rules
    reports: refused, with file:line, unless `default_actions_force = true`
    (before: accepted, where a rule without a filter is refused)."""
    conf = os.path.join(TMP, "kill-default.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nlog_level = info\ndefault_actions = stdout, kill\n")
    r = subprocess.run([BPFD, "check", "--config", conf], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "%s:3: default_actions: kill acts on processes" % conf in r.stderr, r.stderr
    with open(conf, "a") as f:
        f.write("default_actions_force = true\n")
    r = subprocess.run([BPFD, "check", "--config", conf], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 0, r.stderr


def drain(fd):
    os.set_blocking(fd, False)
    try:
        while os.read(fd, 1 << 16):
            pass
    except BlockingIOError:
        pass


def remove_cgroup_tree(path):
    """rmdir a cgroup and what is below it, deepest first, moving stray processes out."""
    if not os.path.isdir(path):
        return
    for dirpath, dirnames, _ in sorted(os.walk(path), key=lambda t: -t[0].count("/")):
        try:
            with open(os.path.join(dirpath, "cgroup.procs")) as f:
                pids = f.read().split()
            for p in pids:
                with open(os.path.join(cgroup2_mount(), "cgroup.procs"), "w") as f:
                    f.write(p)
            with open(os.path.join(dirpath, "cgroup.freeze"), "w") as f:
                f.write("0")
        except OSError:
            pass
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def main():
    global DOCKER
    require_root()
    DOCKER = Docker()
    try:
        setup()
        rc = run_tests([
            test_named_like_a_container_pause,
            test_named_like_a_container_kill_container,
            test_forty_matching_rules_all_run,
            test_exec_env_has_no_raw_control_characters,
            test_file_path_swapped_for_symlink,
            test_file_path_swapped_for_fifo,
            test_stdout_pipe_nobody_reads,
            test_destructive_default_actions_need_force,
            test_restart_right_after_sigkill,
        ])
    finally:
        for f in reversed(CLEANUP):
            try:
                f()
            except Exception as e:  # cleanup goes on whatever fails
                print("cleanup: %s" % e)
        try:
            if D:
                D.cleanup()
        finally:
            shutil.rmtree(TMP or "/nonexistent", ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
