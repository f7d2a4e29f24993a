#!/usr/bin/env python3
"""The filechange tracer's cost: a tight loop that creates a file and
unlinks it, bare, then under a daemon that loads only the filechange tracer
(every unlink reported to the daemon, then every unlink dropped by the
in-kernel prefilter: by its task and operation tests, then by its path
test, then with the rule library's filechange rules, by absolute and by
relative name), then bare again; and the filechange program's own time per
unlink from the kernel's bpf_stats. With --against OLD_BUILD, the
library's rows are measured with that build's bpfd too, in the same run.

    python3 bench/filechange_cost.py [--build build] [--against OLD_BUILD] [--runs 3]
                                     [--calls 200000] [--dir /dev/shm]

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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, n = atol(argv[2]);
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		int fd = open(argv[1], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		if (fd < 0 || close(fd) < 0 || unlink(argv[1]) < 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
"""


def library_rules():
    """The library's lists and its filechange rules, as rule files of their own."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules")
    out = {}
    for name in sorted(os.listdir(root)):
        if not name.endswith(".toml"):
            continue
        with open(os.path.join(root, name)) as f:
            text = f.read()
        if name == "lists.toml":
            out["lists"] = text
            continue
        head, *rules = text.split("[[rule]]")
        keep = [r for r in rules if 'tracer = "filechange"' in r]
        if keep:
            out[name[:-5]] = "".join("[[rule]]" + r for r in keep).replace(
                'actions = ["stdout"]', "actions = []")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--dir", default="/dev/shm",
                    help="where the loop's file is: a tmpfs keeps the disk out of it")
    ap.add_argument("--against", metavar="OLD_BUILD",
                    help="measure the library's rows with this build's bpfd too")
    args = ap.parse_args()
    bpfd = os.path.abspath(os.path.join(args.build, "bpfd"))
    tmp = tempfile.mkdtemp(prefix="bpfd-filechange-bench-")
    exe = compile_loop(tmp, LOOP, "unlinkloop")
    work = tempfile.mkdtemp(prefix="bpfd-filechange-loop-", dir=args.dir)
    target = os.path.join(work, "f")
    other = {"other": 'tracer = "filechange"\nactions = []\n'
                      'filterEvents.command.values = ["nomatch"]\n'}
    owners = {"owners": 'tracer = "filechange"\nactions = []\n'
                        'filterEvents.operation.values = ["owner"]\n'}
    paths = {"paths": 'tracer = "filechange"\nactions = []\n'
                      'filterEvents.filename.values = ["/etc/cron*", "*/.bash_history"]\n'}
    library = library_rules()
    setups = [
        ("bare (no daemon)", None, False),
        ("reported (no rules), absolute name", {}, False),
        ("reported (no rules), relative name (cwd walked)", {}, True),
        ("dropped in the kernel (a rule on another comm)", other, False),
        ("dropped in the kernel (a rule on operation owner)", owners, False),
        ("dropped in the kernel (a rule on paths), absolute", paths, False),
        ("dropped in the kernel (a rule on paths), relative", paths, True),
        ("the library's filechange rules, absolute", library, False),
        ("the library's filechange rules, relative", library, True),
    ]
    if args.against:
        old = os.path.abspath(os.path.join(args.against, "bpfd"))
        setups += [
            ("the library's, absolute, " + args.against, library, False, old),
            ("the library's, relative, " + args.against, library, True, old),
        ]
    setups.append(("bare (no daemon), again", None, False))
    try:
        rows = measure(bpfd, tmp, "filechange", exe, target, args.calls, args.runs, setups,
                       "bpfd_fc_sys_exi")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print("create+unlink loop, %d of %s, %d runs" % (args.calls, target, args.runs))
    for label, ns, prog in rows:
        print("  %-52s loop %s ns/call (median %.0f)%s" % (
            label, ", ".join("%.0f" % x for x in ns), statistics.median(ns),
            "" if not prog else "; program %s ns/call" % ", ".join("%.0f" % x for x in prog)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
