#!/usr/bin/env python3
"""The docs test: every command example in README.md and docs/*.md is run,
so that the docs cannot rot.

How examples are written (and read here):
- ```console blocks: a line starting with "# " is a command (a root shell);
  the lines after it, up to the next command, are its output as pasted from
  a real run. A command ending in <<'EOF' takes the lines up to EOF as its
  input.
- ```sh blocks: every line that is not empty and not a comment is a command
  (a line ending in a backslash goes on on the next).
- Two or more spaces then "(...)" end a command with a note, which is not
  run; "(exits N)" says the command is expected to exit with N.
- A command with "# not run here: REASON" is skipped, and must say why (in
  an sh block, such a comment on a line of its own marks the commands after
  it)
  (systemctl without systemd, kubectl without a cluster...); so is
  ./scripts/test, which runs this test.

Commands run in a scratch directory that holds links to the source tree's
build/, examples/ and scripts/, with BPFD_SOCKET set to a private socket,
so `build/bpfd ...` reaches this test's daemon. `bpfd daemon` (and
./scripts/run) starts that daemon in the background, replacing the one
before. `bpfd trace` without a pipe runs for 3 s.

What is checked: the exit status; for output shown in the docs, that each
shown line without a digit (a table row, a message) and each "exit N" is a
line of the real output, that the first word of every other shown line
that starts with a word (not a time, a number or a path) starts a line of
the real output, and that a shown JSON object has the same keys as the
real one. Values (pids, times, counts) may differ.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, require_root, run_tests

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.path.dirname(os.path.abspath(BPFD))
NOTE = re.compile(r"\s{2,}\((.*)\)\s*$")
NOT_RUN = re.compile(r"#\s*not run here:\s*(\S.*)$")


class Command:
    def __init__(self, where, text, output=(), stdin=None):
        self.where = where
        self.text = text
        self.output = list(output)
        self.stdin = stdin
        self.skip = None
        self.status = 0
        m = NOT_RUN.search(text)
        if m:
            self.skip = m.group(1)
        self.note = ""
        m = NOTE.search(self.text)
        if m:
            self.note = m.group(1)
            exits = re.match(r"exits (\d+)", self.note)
            if exits:
                self.status = int(exits.group(1))
            self.text = self.text[:m.start()]
        self.text = re.sub(r"\s+#.*$", "", self.text).strip() if not self.skip else self.text


def parse(path):
    """The commands of one markdown file, in order."""
    cmds = []
    lines = open(path).read().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        where = "%s:%d" % (os.path.relpath(path, ROOT), start)
        if lang == "console":
            j = 0
            while j < len(body):
                if not body[j].startswith("# "):
                    j += 1
                    continue
                text, stdin = body[j][2:], None
                j += 1
                here = re.search(r"<<'(\w+)'\s*$", text)
                if here:
                    stdin = []
                    while j < len(body) and body[j] != here.group(1):
                        stdin.append(body[j])
                        j += 1
                    j += 1
                    text = text[:here.start()].rstrip()
                    stdin = "\n".join(stdin) + "\n"
                out = []
                while j < len(body) and not body[j].startswith("# "):
                    out.append(body[j])
                    j += 1
                cmds.append(Command(where, text, out, stdin))
        elif lang in ("sh", "shell", "bash"):
            block_skip = None
            k = 0
            while k < len(body):
                line, first = body[k], k
                m = NOT_RUN.match(line.strip())
                if m:
                    block_skip = m.group(1)    # marks the rest of the block
                # A line ending in a backslash goes on on the next one.
                while line.endswith("\\") and k + 1 < len(body):
                    k += 1
                    line = line[:-1] + " " + body[k].strip()
                k += 1
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                c = Command("%s:%d" % (os.path.relpath(path, ROOT), start + first + 1), line)
                if block_skip and not c.skip:
                    c.skip = block_skip
                cmds.append(c)
    return cmds


class Runner:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bpfd-docs-")
        for name in ("build", "examples", "rules", "scripts"):
            os.symlink(os.path.join(ROOT, name), os.path.join(self.dir, name))
        self.env = dict(os.environ, BPFD_SOCKET=os.path.join(self.dir, "bpfd.sock"),
                        PATH=BUILD + ":" + os.environ["PATH"])
        self.daemon = None
        self.ran = self.skipped = 0
        # A live host opens files and runs programs all the time; examples
        # such as `bpfd trace | head -1` wait for that. So does this test.
        self.ticker = subprocess.Popen(
            ["sh", "-c", "while :; do cat /etc/hostname >/dev/null; sleep 0.2; done"],
            stdin=subprocess.DEVNULL, start_new_session=True)

    def stop_daemon(self):
        """SIGTERM to the daemon's process group; the daemon is the direct
        child (start_daemon execs it), so waiting for the child waits for it."""
        if not self.daemon:
            return
        try:
            os.killpg(self.daemon.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.daemon.pid, signal.SIGKILL)
            self.daemon.wait()
        self.daemon = None

    def start_daemon(self, c):
        self.stop_daemon()
        log = open(os.path.join(self.dir, "daemon.err"), "w+")
        # exec: the daemon (./scripts/run execs it too) is our child, and
        # nothing is left for init to reap when it stops.
        self.daemon = subprocess.Popen(["sh", "-c", "exec " + c.text], cwd=self.dir, env=self.env,
                                       stdout=open(os.path.join(self.dir, "daemon.out"), "w"),
                                       stderr=log, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        deadline = time.time() + 180
        while "bpfd info: ready:" not in open(log.name).read():
            assert self.daemon.poll() is None, "%s: `%s` exited:\n%s" % (
                c.where, c.text, open(log.name).read()[-3000:])
            assert time.time() < deadline, "%s: `%s` not ready" % (c.where, c.text)
            time.sleep(0.1)

    def run(self, c):
        if c.text.startswith("./scripts/test"):
            c.skip = "the test suite: this test is part of it"
        if c.skip:
            assert len(c.skip) > 10, "%s: say why it is not run: %s" % (c.where, c.text)
            self.skipped += 1
            return
        self.ran += 1
        if re.match(r"^(build/)?bpfd daemon\b", c.text) or c.text.startswith("./scripts/run"):
            self.start_daemon(c)
            # What the docs show of the daemon's log.
            self.check_log(c, self.read("daemon.err"))
            return
        timeout, tolerate_timeout = 120, False
        if re.match(r"^(build/)?bpfd trace\b", c.text) and "|" not in c.text:
            timeout, tolerate_timeout = 3, True
        # "(then, in another terminal: CMD)": CMD runs once the command has started.
        then = re.match(r"then(?:, in another terminal)?: (.+)$", c.note)
        daemon_out = len(self.read("daemon.out"))
        proc = subprocess.Popen(["bash", "-c", c.text], cwd=self.dir, env=self.env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        if then:
            time.sleep(1.5)
            subprocess.run(["bash", "-c", then.group(1)], cwd=self.dir, env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        try:
            out, _ = proc.communicate(c.stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            assert tolerate_timeout, "%s: `%s` did not finish in %d s" % (c.where, c.text, timeout)
            self.check_output(c, out)
            return
        assert proc.returncode == c.status, "%s: `%s` exited %d (the docs say %d):\n%s" % (
            c.where, c.text, proc.returncode, c.status, out[-4000:])
        if c.note.startswith("the daemon's standard output then shows"):
            deadline = time.time() + 10
            while time.time() < deadline and not self.read("daemon.out")[daemon_out:].strip():
                time.sleep(0.1)
            out = self.read("daemon.out")[daemon_out:]
        self.check_output(c, out)

    def read(self, name):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def check_log(self, c, log):
        """Each info line shown, up to its first word with a digit, was logged
        (warnings depend on the machine: a kernel without headers here)."""
        for shown in c.output:
            m = re.match(r"^\S+Z (bpfd info: .*)$", shown)
            if not m:
                continue
            words = []
            for w in m.group(1).split():
                if re.search(r"\d", w):
                    break
                words.append(w)
            want = " ".join(words)
            assert want in log, "%s: `%s`: the daemon logged no %r; it logged:\n%s" % (
                c.where, c.text, want, log[-3000:])

    def check_output(self, c, out):
        real = out.splitlines()
        for shown in c.output:
            s = shown.strip()
            if not s:
                continue
            if s.startswith("{"):
                want = json.loads(s)
                got = [json.loads(l) for l in real if l.startswith("{")]
                assert got, "%s: `%s` printed no JSON" % (c.where, c.text)
                assert set(got[0]) == set(want), "%s: `%s`: keys %s, the docs show %s" % (
                    c.where, c.text, sorted(got[0]), sorted(want))
                continue
            shape = text_event_shape(s)
            if shape:
                assert shape in [text_event_shape(l) for l in real], \
                    "%s: `%s`: no event line like %r (tracer and keys); got:\n%s" % (
                        c.where, c.text, shown, out[-3000:])
                continue
            norm = " ".join(s.split())
            reals = [" ".join(l.split()) for l in real]
            # No number in it (a table row, a message), or an exit status: the whole line.
            if not re.search(r"\d", norm) or re.match(r"^exit \d+$", norm):
                assert norm in reals, "%s: `%s`: no output line %r; got:\n%s" % (
                    c.where, c.text, norm, out[-3000:])
                continue
            word = s.split()[0]
            if not re.match(r"^[A-Za-z][\w:-]*$", word):
                continue    # a time, a number, a path: values that change
            assert any(l.strip().startswith(word) for l in real), \
                "%s: `%s`: no output line starts with %r (the docs show %r); got:\n%s" % (
                    c.where, c.text, word, shown, out[-3000:])


EVENT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z (\w+) pid=")


def text_event_shape(line):
    """An event's text line as its tracer and its keys in order; None for other lines."""
    m = EVENT_LINE.match(line.strip())
    if not m:
        return None
    # Keys outside quoted values: drop the quoted strings first.
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line.strip())
    return (m.group(1),) + tuple(re.findall(r" ([\w.]+)=", bare))


def test_every_documented_command_works():
    files = [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
        if f.endswith(".md"))
    runner = Runner()
    try:
        for path in files:
            for c in parse(path):
                t0 = time.time()
                runner.run(c)
                if time.time() - t0 > 5:
                    print("  %s: `%s` took %.1f s" % (c.where, c.text[:60], time.time() - t0))
            runner.stop_daemon()
    finally:
        runner.stop_daemon()
        os.killpg(runner.ticker.pid, signal.SIGKILL)
        runner.ticker.wait()
        shutil.rmtree(runner.dir, ignore_errors=True)
    print("  %d documented commands run, %d marked as not runnable here" % (runner.ran,
                                                                          runner.skipped))
    assert runner.ran >= 15, runner.ran


def main():
    require_root()
    return run_tests([test_every_documented_command_works])


if __name__ == "__main__":
    sys.exit(main())
