#!/usr/bin/env python3
"""Restarts under load (docs/performance.md, "Restarting"): a daemon with the
open tracer and one rule on a file of ours, a workload that opens it about
RATE times a second (openloop in batches), `bpfd restart` every second, and
`bpfd trace --json --rule` counting what it gets across them (it reconnects
by itself). Prints each restart's time from request to ready, the events
opened, delivered and counted lost, then the time of restarts that compile
(the config changed in between).

usage: bench/restart.py [BUILD_DIR] [--restarts N] [--rate R]   (as root)"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--restarts", type=int, default=20)
    ap.add_argument("--rate", type=int, default=100000)
    ap.add_argument("--compiles", type=int, default=3)
    a = ap.parse_args()
    bpfd = os.path.abspath(os.path.join(a.build, "bpfd"))
    openloop = os.path.abspath(os.path.join(a.build, "bench", "openloop"))
    tmp = tempfile.mkdtemp(prefix="bpfd-bench-restart-")
    sock = os.path.join(tmp, "bpfd.sock")
    target = os.path.join(tmp, "target")
    open(target, "w").close()
    os.mkdir(os.path.join(tmp, "rules"))
    with open(os.path.join(tmp, "rules", "r.toml"), "w") as f:
        f.write('tracer = "open"\nactions = []\n[filterEvents.filename]\nvalues = ["%s"]\n'
                % target)
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\ndefault_actions = none\n")
    err = open(os.path.join(tmp, "daemon.err"), "w")
    d = subprocess.Popen([bpfd, "daemon", "-s", sock, "--rules-dir", os.path.join(tmp, "rules"),
                          "--config", conf, "--tracers", "open"], stdout=subprocess.DEVNULL,
                         stderr=err)
    try:
        while "ready:" not in open(err.name).read():
            assert d.poll() is None, open(err.name).read()
            time.sleep(0.1)
        trace = subprocess.Popen("'%s' -s '%s' trace --json --rule r | wc -l" % (bpfd, sock),
                                 shell=True, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        batch = a.rate // 10
        opened = [0]
        stop = threading.Event()

        def work():
            while not stop.is_set():
                t = time.time()
                subprocess.run([openloop, target, str(batch)], stdout=subprocess.DEVNULL)
                opened[0] += batch
                time.sleep(max(0.0, 0.1 - (time.time() - t)))

        w = threading.Thread(target=work)
        w.start()
        adopted = []
        for _ in range(a.restarts):
            time.sleep(1.0)
            out = subprocess.run([bpfd, "-s", sock, "restart"], capture_output=True,
                                 text=True).stdout
            m = re.search(r"ready (\d+) ms", out)
            adopted.append(int(m.group(1)) if m else None)
            if not m:
                print("restart said: %r" % out, file=sys.stderr)
        time.sleep(1.0)
        stop.set()
        w.join()
        time.sleep(2.0)
        st = json.loads(subprocess.run([bpfd, "-s", sock, "status", "--json"],
                                       capture_output=True, text=True).stdout)
        subprocess.run(["pkill", "-f", "%s -s %s trace" % (bpfd, sock)])
        got = int(trace.communicate(timeout=30)[0].split()[0])
        ok = [x for x in adopted if x is not None]
        print("restarts, programs adopted: %d, ready after %s ms (median %s, max %s)" % (
            len(ok), ok, statistics.median(ok) if ok else "-", max(ok) if ok else "-"))
        print("opened %d times at ~%d/s; trace got %d; lost in the kernel %d; subscriber "
              "dropped %d" % (opened[0], a.rate, got, st["events"]["lost"],
                              st["events"]["subscriber_dropped"]))
        compiled = []
        for i in range(a.compiles):
            with open(conf, "w") as f:
                f.write("[daemon]\ndefault_actions = none\nring_buffer_size = %s\n"
                        % ("16M" if i % 2 == 0 else "32M"))
            out = subprocess.run([bpfd, "-s", sock, "restart"], capture_output=True,
                                 text=True).stdout
            m = re.search(r"ready (\d+) ms", out)
            compiled.append(int(m.group(1)) if m else None)
        print("restarts that compile: ready after %s ms" % compiled)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
