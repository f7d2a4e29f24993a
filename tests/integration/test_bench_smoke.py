"""The benchmarks' smoke runs: bench/compare.py --quick (tiny workloads, one
run of every configuration) and bench/run.py with one short round. They
assert the harnesses work, not any speed: every configuration gives a row,
with numbers or with the reason it could not run (bcc's opensnoop and
execsnoop need kprobes or fentry), and run.py's reference programs
(bench/tpfloor) load and attach.
"""
import re
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpfdtest import BPFD, SKIP, require_root, run_tests  # noqa: E402

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.path.dirname(os.path.abspath(BPFD))

# Every configuration bench/compare.py runs, by workload.
EXPECTED = {
    "open": ["bare", "bpfd, password_files rule (in-kernel prefilter)",
             "bpftrace, same file-name filter in the kernel",
             "bpfd, every event to trace --json", "bpftrace, every event printed",
             "opensnoop-bpfcc"],
    "exec": ["bare", "bpfd, rule on a command nothing runs (in-kernel prefilter)",
             "bpftrace, same comm filter in the kernel",
             "bpfd, every event to trace --json", "bpftrace, every event printed",
             "execsnoop-bpfcc"],
    "bash": ["bare", "bpfd, every event to trace --json", "bpftrace, every event printed",
             "bashreadline-bpfcc"],
    "throughput": ["bare", "bpfd, every event to trace --json",
                   "bpfd, every event to trace --json, 64M ring and queue",
                   "bpftrace, every event printed"],
}


def test_quick_run_gives_every_row():
    out = tempfile.NamedTemporaryFile(prefix="bpfd-bench-", suffix=".json", delete=False).name
    start = time.time()
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "compare.py"), "--quick",
                        "--build", BUILD, "--json-out", out],
                       capture_output=True, text=True, timeout=110)
    took = time.time() - start
    print(r.stdout)
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out) as f:
        result = json.load(f)
    os.unlink(out)
    rows = {(x["workload"], x["config"]): x for x in result["rows"]}
    for wl, configs in EXPECTED.items():
        for c in configs:
            row = rows.get((wl, c))
            assert row is not None, "no row for %s / %s" % (wl, c)
            if "time_median_s" in row:
                assert row["time_median_s"] > 0, row
                if row["kind"] != "bare":
                    assert row.get("ready_s") is not None, row
                    assert row.get("rss_mb"), row
                    assert "lost_max" in row, row
                if row["group"] == "delivered":
                    assert row.get("delivered_median", 0) > 0, row
            else:
                # Not run: the row carries the reason.
                assert row.get("errors") and row["errors"][0], row
    # bpfd itself must run every one of its configurations, delivering
    # every event of the workload where it delivers.
    for (wl, c), row in rows.items():
        if row["kind"].startswith("bpfd"):
            assert "time_median_s" in row, row
            if row["group"] == "delivered":
                assert row["delivered_median"] + row["lost_max"] >= row["expected_events"], row
            else:
                assert row["delivered_median"] == 0, row
    # The text table has a line for every row.
    for wl, c in rows:
        assert "| %s | %s" % (wl, c) in r.stdout, (wl, c)
    assert took < 60, "the smoke run took %.0f s" % took


def test_run_py_one_short_round():
    # Every part, each as small as it goes: the parts' sizes, not their logic, make a real run long.
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--build", BUILD,
                        "--runs", "1", "--iterations", "3000", "--conn-iterations", "300",
                        "--flood-packets", "3000", "--forks", "400", "--procs", "300",
                        "--against", os.path.abspath(BPFD)],
                       capture_output=True, text=True, timeout=150)
    print(r.stdout)
    assert r.returncode == 0, r.stderr[-3000:]
    for row in ("prefilter slowdown (median of ratios to the bracketing bare loops)",
                "prefilter slowdown (fastest traced / fastest bare)",
                "reference: a program that returns at once (tpfloor empty)",
                "reference: one that only reads the file name (tpfloor read)",
                "against %s (password_files): median ratio / fastest" % os.path.abspath(BPFD)):
        assert row in r.stdout, row
    # Every open of the loop was dropped in the kernel.
    m = re.search(r"events dropped in the kernel: min (\d+)", r.stdout)
    assert m and int(m.group(1)) >= 3000, r.stdout


def main():
    require_root()
    if os.environ.get("BPFD_SANITIZED"):
        print("SKIP: benchmark timings of a sanitized build mean nothing")
        return SKIP
    if subprocess.run(["sh", "-c", "command -v bpftrace"], capture_output=True).returncode:
        print("SKIP: bpftrace is not installed (scripts/setup installs it)")
        return SKIP
    return run_tests([test_quick_run_gives_every_row, test_run_py_one_short_round])


if __name__ == "__main__":
    sys.exit(main())
