#!/usr/bin/env python3
"""Rules from a Kubernetes ConfigMap volume: a real daemon watches a rules
directory laid out and updated the way kubelet's atomic writer does it.

    rules/..2026_11_28_15_04_05.000000001/   the files of one version
    rules/..data -> ..2026_11_28_15_04_05.000000001
    rules/NAME.toml -> ..data/NAME.toml     one link per key

An update writes a new timestamped directory, points a new `..data_tmp`
link at it and renames that over `..data` (one atomic step: every key
changes at once), then adds links for new keys, removes those of deleted
keys and removes the old directory. The daemon must take each update
within a second or two; `bpfd ls` shows it."""
import datetime
import os
import shutil
import sys
import time

from bpfdtest import Daemon, require_root, run_tests, unique

D = None
RULES = None
LATENCY = 2.0  # seconds an update may take to show in `bpfd ls`


class ConfigMapDir:
    """A directory written like kubelet writes a ConfigMap volume."""

    def __init__(self, path):
        self.path = path
        self.keys = {}
        os.makedirs(path, exist_ok=True)

    def _stamp(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.strftime("..%Y_%m_%d_%H_%M_%S.") + "%09d" % (time.time_ns() % 1000000000)

    def write(self, keys):
        """Publishes @keys ({name: text}) as the new version; returns when done."""
        old = None
        data = os.path.join(self.path, "..data")
        if os.path.islink(data):
            old = os.readlink(data)
        stamp = self._stamp()
        tsdir = os.path.join(self.path, stamp)
        os.mkdir(tsdir)
        for name, text in keys.items():
            with open(os.path.join(tsdir, name), "w") as f:
                f.write(text)
        tmp = os.path.join(self.path, "..data_tmp")
        os.symlink(stamp, tmp)
        os.rename(tmp, data)  # the atomic swap
        for name in keys:
            link = os.path.join(self.path, name)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", name), link)
        for name in set(self.keys) - set(keys):
            os.unlink(os.path.join(self.path, name))
        if old:
            shutil.rmtree(os.path.join(self.path, old))
        self.keys = dict(keys)


def rule(tracer, command, actions="stdout"):
    return ('tracer = "%s"\nactions = ["%s"]\n[filterEvents.command]\nvalues = ["%s"]\n'
            % (tracer, actions, command))


def listed():
    """{rule name: (tracer, actions)} from `bpfd ls` (NAME TRACER PRIORITY ACTIONS TAGS)."""
    out = D.cli("ls").stdout.splitlines()[1:]
    return {l.split()[0]: (l.split()[1], l.split()[3]) for l in out if l.strip()}


def wait_listed(pred, what):
    start = time.time()
    while True:
        got = listed()
        if pred(got):
            return time.time() - start
        if time.time() - start > LATENCY:
            raise AssertionError("%s not in `bpfd ls` within %.1fs: %s\n%s"
                                 % (what, LATENCY, got, D.stderr()[-2000:]))
        time.sleep(0.05)


def test_initial_version_loaded():
    assert listed() == {"alpha": ("exec", "stdout")}, listed()


def test_changed_key():
    """Only `..data` changes: alpha.toml is the same link, now to another file."""
    w = unique("cm")
    RULES.write({"alpha.toml": rule("open", w)})
    took = wait_listed(lambda got: got.get("alpha", ("",))[0] == "open", "alpha on open")
    print("changed key took %.2fs" % took)


def test_added_and_removed_keys():
    RULES.write({"alpha.toml": rule("open", "x"), "beta.toml": rule("exec", "y")})
    wait_listed(lambda got: set(got) == {"alpha", "beta"}, "beta added")
    RULES.write({"beta.toml": rule("exec", "y", "kill")})
    took = wait_listed(lambda got: got == {"beta": ("exec", "kill")}, "alpha gone, beta with kill")
    print("removed key took %.2fs" % took)


def test_bad_version_keeps_last_good():
    """A broken rule in an update is reported; the rule's last good version stays."""
    RULES.write({"beta.toml": 'tracer = "exec"\nactions = ["stdout"]\n[filterEvents.command\n'})
    deadline = time.time() + LATENCY
    while "beta.toml:" not in D.stderr():
        assert time.time() < deadline, "no report of the broken beta.toml:\n" + D.stderr()[-2000:]
        time.sleep(0.05)
    assert listed() == {"beta": ("exec", "kill")}, listed()
    RULES.write({"beta.toml": rule("exec", "y")})
    wait_listed(lambda got: got == {"beta": ("exec", "stdout")}, "beta fixed")


def test_no_hidden_entries_read():
    """`..data` and the timestamped directories are never taken for rules."""
    assert all(not n.startswith(".") for n in listed())
    assert "/.." not in D.stderr(), D.stderr()[-2000:]


def main():
    global D, RULES
    require_root()
    D = Daemon("--tracers", "exec,open")
    RULES = ConfigMapDir(os.path.join(D.tmp, "rules"))
    RULES.write({"alpha.toml": rule("exec", unique("cm"))})
    D.start()
    try:
        return run_tests([
            test_initial_version_loaded,
            test_changed_key,
            test_added_and_removed_keys,
            test_bad_version_keeps_last_good,
            test_no_hidden_entries_read,
        ])
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
