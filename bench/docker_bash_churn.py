#!/usr/bin/env python3
"""Container churn against bash probing, with real docker containers.

Runs N (default 300) short-lived docker containers of one image, each
running bash, PARALLEL at a time, against a daemon of its own, then reports
as JSON: the most probes attached at once, the probes made and released,
the slowest `bpfd status` seen meanwhile, whether bash in a new container is
still probed, and how long the daemon takes to stop. Needs root and docker.

  sudo BPFD=build/bpfd python3 bench/docker_bash_churn.py [N] [PARALLEL]

The daemon probes a bash at a path of its own (--bash), so that other
containers on the host do not change the counts.
"""
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from bpfdtest import Trace, require_root, type_lines, unique  # noqa: E402
from test_hostile_probes import Workload, bash_layer, docker_image  # noqa: E402


def main():
    require_root()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    parallel = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    w = Workload()
    d = w.daemon()
    image = None
    slowest = 0.0
    peak = 0
    try:
        image = docker_image(bash_layer(w))

        def one(_):
            subprocess.run(["docker", "run", "--rm", "--pull", "never", image, w.bash, "-c",
                            "sleep 1.5"], capture_output=True, stdin=subprocess.DEVNULL)

        def status():
            nonlocal slowest
            start = time.time()
            st = json.loads(d.cli("status", "--json").stdout)["bash_probes"]
            slowest = max(slowest, time.time() - start)
            return st

        start = time.time()
        with ThreadPoolExecutor(parallel) as pool:
            futures = [pool.submit(one, i) for i in range(n)]
            while not all(f.done() for f in futures):
                peak = max(peak, status()["attached"])
                time.sleep(0.5)
        churn_s = time.time() - start
        after = status()
        deadline = time.time() + 10
        while status()["attached"] and time.time() < deadline:
            time.sleep(0.5)
        released = status()

        t = Trace(d)
        line = "echo " + unique("bn")
        type_lines(["docker", "run", "--pull", "never", "-it", "--rm", image, w.bash, "--norc",
                    "-i"], ["true", line], settle=0.5, start=2.5)
        try:
            t.wait_for(lambda e: e["tracer"] == "bashreadline" and e["data"]["command"] == line)
            probed = True
        except AssertionError:
            probed = False
        t.stop()

        start = time.time()
        d.proc.send_signal(signal.SIGTERM)
        d.proc.wait(60)
        stop_s = time.time() - start
        print(json.dumps({"containers": n, "parallel": parallel, "churn_s": round(churn_s, 1),
                          "peak_attached": peak, "after_churn": after,
                          "after_release": released, "new_container_probed": probed,
                          "slowest_status_s": round(slowest, 3), "stop_s": round(stop_s, 2)},
                         indent=1))
    finally:
        if image:
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True,
                           stdin=subprocess.DEVNULL)
        w.close()
        d.cleanup()


if __name__ == "__main__":
    sys.exit(main())
