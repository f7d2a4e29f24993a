#!/usr/bin/env python3
"""The chmod tracer's cost: a loop of chmod() calls, bare, then under a
daemon that loads only the chmod tracer (every call reported to the daemon,
then every call dropped by the in-kernel prefilter), and the chmod
program's own time per call from the kernel's bpf_stats.

    python3 bench/chmod_cost.py [--build build] [--runs 3] [--calls 200000]

Root; it switches kernel.bpf_stats_enabled on while it runs.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

from syscall_cost import compile_loop, measure

LOOP = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

int main(int argc, char **argv)
{
	long i, n = atol(argv[2]);
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		if (chmod(argv[1], i & 1 ? 0600 : 0644) < 0)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--calls", type=int, default=200000)
    args = ap.parse_args()
    bpfd = os.path.abspath(os.path.join(args.build, "bpfd"))
    tmp = tempfile.mkdtemp(prefix="bpfd-chmod-bench-")
    exe = compile_loop(tmp, LOOP, "chmodloop")
    target = os.path.join(tmp, "f")
    open(target, "w").close()
    other = {"other": 'tracer = "chmod"\nactions = []\nfilterEvents.command.values = ["nomatch"]\n'}
    setups = [
        ("bare (no daemon)", None, False),
        ("reported (no rules), absolute name", {}, False),
        ("reported (no rules), relative name (cwd walked)", {}, True),
        ("dropped in the kernel (a rule on another comm)", other, False),
    ]
    try:
        rows = [(label, statistics.median(ns), statistics.median(prog) if prog else None)
                for label, ns, prog in measure(bpfd, tmp, "chmod", exe, target, args.calls,
                                               args.runs, setups, "bpfd_chmod_sys_")]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("chmod() loop, %d calls of %s, median of %d runs" % (args.calls, target, args.runs))
    for label, ns, prog in rows:
        print("  %-50s %7.0f ns/call%s" % (label, ns,
              "" if prog is None else ", program %.0f ns/call" % prog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
