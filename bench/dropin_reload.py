#!/usr/bin/env python3
"""What drop-in tracers cost the daemon's start and what a reload of one
changed drop-in costs: a daemon started with the built-ins alone, then with
the three shipped drop-ins (examples/tracers/), the time to `ready` of
each; then, under the second, nschange.bpf.c changed and SIGHUP sent
--reloads times: the time from the signal to the log's `drop-in nschange
replaced`, and the loader process's compile-to-attach time it reports.

    python3 bench/dropin_reload.py [--build build] [--reloads 5]

Root. Prints the medians and the spread (min-max).
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples", "tracers")


def start(bpfd, tmp, *args):
    err = open(os.path.join(tmp, "err"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen([bpfd, "daemon", "-s", os.path.join(tmp, "s.sock"), "--rules-dir",
                          os.path.join(tmp, "rules")] + list(args),
                         stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    while "bpfd info: ready:" not in log(tmp):
        if p.poll() is not None:
            sys.exit("daemon exited:\n" + log(tmp))
        if time.monotonic() - t0 > 120:
            p.kill()
            sys.exit("daemon not ready after 120 s")
        time.sleep(0.02)
    return p, time.monotonic() - t0


def log(tmp):
    with open(os.path.join(tmp, "err"), errors="replace") as f:
        return f.read()


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def spread(xs):
    return "median %.0f ms (%.0f-%.0f, n=%d)" % (statistics.median(xs) * 1e3, min(xs) * 1e3,
                                                  max(xs) * 1e3, len(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reloads", type=int, default=5)
    ap.add_argument("--starts", type=int, default=3)
    a = ap.parse_args()
    bpfd = os.path.join(a.build, "bpfd")
    tmp = tempfile.mkdtemp(prefix="bpfd-bench-reload-")
    td = os.path.join(tmp, "tracers.d")
    os.makedirs(os.path.join(tmp, "rules"))
    os.mkdir(td, 0o755)
    os.chmod(tmp, 0o755)
    try:
        bare, dropins = [], []
        for _ in range(a.starts):
            p, t = start(bpfd, tmp, "--tracers-dir", td)
            bare.append(t)
            stop(p)
        for f in os.listdir(EXAMPLES):
            if f.endswith((".toml", ".bpf.c")):
                shutil.copy(os.path.join(EXAMPLES, f), os.path.join(td, f))
                os.chmod(os.path.join(td, f), 0o644)
        for _ in range(a.starts):
            p, t = start(bpfd, tmp, "--tracers-dir", td)
            dropins.append(t)
            stop(p)
        p, _ = start(bpfd, tmp, "--tracers-dir", td)
        reload_s, compile_ms = [], []
        src = os.path.join(td, "nschange.bpf.c")
        for i in range(a.reloads):
            with open(src, "a") as f:
                f.write("/* change %d */\n" % i)
            before = log(tmp).count("drop-in nschange replaced")
            t0 = time.monotonic()
            p.send_signal(signal.SIGHUP)
            while log(tmp).count("drop-in nschange replaced") == before:
                if time.monotonic() - t0 > 120:
                    sys.exit("no reload after 120 s:\n" + log(tmp))
                time.sleep(0.005)
            reload_s.append(time.monotonic() - t0)
            compile_ms.append(float(re.findall(r"drop-in tracers compiled in (\d+) ms",
                                               log(tmp))[-1]) / 1e3)
        stop(p)
        print("start, built-ins only:          " + spread(bare))
        print("start, with the 3 drop-ins:     " + spread(dropins))
        print("reload of one changed drop-in:  " + spread(reload_s))
        print("  of which the loader's compile and attach: " + spread(compile_ms))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
