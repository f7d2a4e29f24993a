#!/usr/bin/env python3
"""The filechange tracer's cost: a tight loop that creates a file and
unlinks it, bare, then under a daemon that loads only the filechange tracer
(every unlink reported to the daemon, then every unlink dropped by the
in-kernel prefilter, then the rule library's filechange rules, which the
kernel cannot decide), and the filechange program's own time per unlink
from the kernel's bpf_stats.

    python3 bench/filechange_cost.py [--build build] [--runs 3] [--calls 200000] [--dir /dev/shm]

Root; it switches kernel.bpf_stats_enabled on while it runs.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

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


def programs(pid):
    """{id: (name, run_time_ns, run_cnt)} of the programs using daemon @pid's maps."""
    maps = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                maps.update(int(l.split(":")[1]) for l in f if l.startswith("map_id:"))
        except OSError:
            continue
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                         check=True)
    return {p["id"]: (p.get("name", ""), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out.stdout) if maps & set(p.get("map_ids", []))}


def start(bpfd, tmp, rules):
    rdir = os.path.join(tmp, "rules")
    shutil.rmtree(rdir, ignore_errors=True)
    os.makedirs(rdir)
    for name, text in rules.items():
        with open(os.path.join(rdir, name + ".toml"), "w") as f:
            f.write(text)
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\ndefault_actions = none\n")
    err = open(os.path.join(tmp, "daemon.err"), "w+")
    p = subprocess.Popen([bpfd, "daemon", "-s", os.path.join(tmp, "s"), "--tracers", "filechange",
                          "--rules-dir", rdir, "--config", conf],
                         stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        err.seek(0)
        if "ready:" in err.read():
            return p
        if p.poll() is not None:
            break
        time.sleep(0.1)
    err.seek(0)
    raise SystemExit("daemon did not start:\n" + err.read())


def loop(exe, path, calls, relative):
    """Seconds for @calls creates and unlinks of @path, or of its base name from its directory."""
    if relative:
        return float(subprocess.run([exe, os.path.basename(path), str(calls)],
                                    cwd=os.path.dirname(path), capture_output=True, text=True,
                                    check=True).stdout)
    return float(subprocess.run([exe, path, str(calls)], capture_output=True, text=True,
                                check=True).stdout)


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
    args = ap.parse_args()
    bpfd = os.path.abspath(os.path.join(args.build, "bpfd"))
    tmp = tempfile.mkdtemp(prefix="bpfd-filechange-bench-")
    src = os.path.join(tmp, "loop.c")
    with open(src, "w") as f:
        f.write(LOOP)
    exe = os.path.join(tmp, "unlinkloop")
    subprocess.run(["cc", "-O2", src, "-o", exe], check=True)
    work = tempfile.mkdtemp(prefix="bpfd-filechange-loop-", dir=args.dir)
    target = os.path.join(work, "f")
    other = {"other": 'tracer = "filechange"\nactions = []\n'
                      'filterEvents.command.values = ["nomatch"]\n'}
    owners = {"owners": 'tracer = "filechange"\nactions = []\n'
                        'filterEvents.operation.values = ["owner"]\n'}
    setups = [
        ("bare (no daemon)", None, False),
        ("reported (no rules), absolute name", {}, False),
        ("reported (no rules), relative name (cwd walked)", {}, True),
        ("dropped in the kernel (a rule on another comm)", other, False),
        ("dropped in the kernel (a rule on operation owner)", owners, False),
        ("the library's filechange rules (none matches)", library_rules(), False),
    ]
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    rows = []
    try:
        for label, rules, relative in setups:
            d = start(bpfd, tmp, rules) if rules is not None else None
            try:
                secs, per_call = [], []
                for _ in range(args.runs):
                    before = programs(d.pid) if d else {}
                    secs.append(loop(exe, target, args.calls, relative))
                    if d:
                        after = programs(d.pid)
                        for pid_, (name, ns, cnt) in after.items():
                            b = before.get(pid_, (name, 0, 0))
                            if name.startswith("bpfd_fc_sys_exi") and cnt - b[2] >= args.calls:
                                per_call.append((ns - b[1]) / (cnt - b[2]))
                rows.append((label, [x / args.calls * 1e9 for x in secs], per_call))
            finally:
                if d:
                    d.terminate()
                    d.wait(30)
    finally:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=True)
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
