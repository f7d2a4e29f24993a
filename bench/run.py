#!/usr/bin/env python3
"""bpfd's benchmarks (docs/performance.md): daemon start time, the cost of
tracing an open()/close() loop with every event delivered to a
`bpfd trace --json` subscriber, the daemon's memory once steady, and the
same loop with every open dropped by the in-kernel prefilter, next to the
reference programs of bench/tpfloor, and (`failedopen`) a loop of opens of a
relative name that does not exist, with the same rule.

With `compat`: a getppid() loop bare and with the open tracer loaded with
and without its compat hook (`compat_syscalls`), and with --compat-shared
with exec, open and dockeropenbreakout, which share it, the program that runs on
every system call of the host to see the 32-bit entry.

With `network`: a loopback connect/send/close loop with the network
tracers (rules matching nothing; every event delivered) and the cost of
tcpdrop in a SYN flood whose every packet the kernel drops.

With `fork`: what the process table costs the whole host (its fork, exec
and exit records bypass the rules' prefilters): a fork-and-exit loop and a
fork+exec loop bare, under a daemon with every tracer and rules that
match nothing (`ancestors = 0`: no table), and the same with the table
(default), with the daemon's own CPU time per process.

With `proctable`: the process table's memory with 10,000 (`--procs`) more
processes (each a `sleep` exec'd by bench/forkloop hold), from `bpfd
status` and the daemon's RSS.

usage: bench/run.py [--build DIR] [--runs N] [--iterations N] [--bpf-stats]
                    [--only start,delivery,prefilter,failedopen,compat,network,fork,proctable]
                    [--against BPFD]... [--also LINE]... [--rules-dir DIR]
                    [--delivery-target FILE]
                    [--conn-iterations N] [--flood-packets N] [--forks N]
Run as root on an otherwise idle machine; prints a table of medians.
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_openloop(openloop, path, n, cpu=None, cwd=None):
    """Seconds for @n open()/close() of @path; on CPU @cpu alone if given.
    With @cwd, @path is a relative name that does not exist there: every
    open fails with ENOENT."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    out = subprocess.run([openloop, path, str(n)] + (["enoent"] if cwd else []), cwd=cwd,
                         capture_output=True, text=True, check=True, preexec_fn=pin)
    return float(out.stdout)


def daemon_programs(pid):
    """{program id: (run_time_ns, run_cnt)} of the BPF programs that use the
    maps daemon @pid holds (bpftool; the counts need kernel.bpf_stats_enabled)."""
    maps = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                maps.update(int(l.split(":")[1]) for l in f if l.startswith("map_id:"))
        except OSError:
            continue
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True)
    if out.returncode != 0:
        return {}
    return {p["id"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out.stdout) if maps & set(p.get("map_ids", []))}


def ns_per_call(before, after, calls):
    """The program that ran about @calls times between two daemon_programs()
    snapshots, and its nanoseconds per run; None when none did."""
    runs = {k: (after[k][0] - before.get(k, (0, 0))[0], after[k][1] - before.get(k, (0, 0))[1])
            for k in after}
    near = [k for k in runs if calls <= runs[k][1] < 1.5 * calls]
    if not near:
        return None
    k = min(near, key=lambda k: runs[k][1])
    return runs[k][0] / runs[k][1]


class Daemon:
    def __init__(self, bpfd, tmp, *args):
        self.bpfd = bpfd
        self.sock = os.path.join(tmp, "bench.sock")
        self.err = os.path.join(tmp, "daemon.err")
        start = time.monotonic()
        self.proc = subprocess.Popen([bpfd, "daemon", "-s", self.sock] + list(args),
                                     stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        while True:
            if self.proc.poll() is not None:
                sys.exit("daemon exited: " + open(self.err).read())
            if "ready:" in open(self.err).read():
                break
            time.sleep(0.01)
        self.ready_s = time.monotonic() - start

    def status(self):
        out = subprocess.run([self.bpfd, "-s", self.sock, "status", "--json"],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    def memory(self):
        fields = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    fields[k] = int(v.split()[0]) / 1024.0
        return fields

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


med = statistics.median


def measure_start(args, bpfd, tmp):
    """`bpfd version` without a daemon, and daemon start until ready."""
    version = []
    for _ in range(50):
        t = time.monotonic()
        subprocess.run([bpfd, "-s", os.path.join(tmp, "none.sock"), "version"],
                       capture_output=True, check=True)
        version.append(time.monotonic() - t)

    ready = []
    for _ in range(args.runs):
        d = Daemon(bpfd, tmp)
        ready.append(d.ready_s)
        d.stop()

    return [
        ("`bpfd version` (client, no daemon)", "%.1f ms" % (med(version) * 1e3),
         "max %.1f ms over 50 runs" % (max(version) * 1e3)),
        ("daemon start until every tracer is attached", "%.2f s" % med(ready),
         "min %.2f max %.2f" % (min(ready), max(ready))),
    ]


def also_configs(args, tmp):
    """--also: a config file per LINE, by LINE."""
    out = {}
    for n, line in enumerate(args.also or []):
        path = os.path.join(tmp, "also-%d.conf" % n)
        with open(path, "w") as f:
            f.write("[daemon]\n%s\n" % line)
        out[line] = path
    return out


def measure_delivery(args, bpfd, tmp, openloop, target, b_rules=None):
    """The open/close loop with every event delivered to a subscriber:
    this build, each --also setting of it and each --against build, in the
    same rounds, each traced loop bracketed by bare ones. With @b_rules
    (--rules-dir), this build's daemon loads that rules directory and the
    loop opens a file its rules match (--delivery-target): every event is
    still delivered, after the whole set of rules matched it. The other
    builds load no rules."""
    n = args.iterations
    also = also_configs(args, tmp)
    variants = [("this build", bpfd, ["--rules-dir", b_rules] if b_rules else [])]
    variants += [("this build, " + line, bpfd, ["--config", path]) for line, path in also.items()]
    variants += [(b, b, []) for b in args.against or []]
    res = {v[0]: {"traced": [], "ratio": [], "cpu": [], "delivered": [], "lost": [],
                  "dropped": [], "mem": None} for v in variants}
    bare = []

    def traced(b, extra, r):
        d = Daemon(b, tmp, "--tracers", "open", *extra)
        # The subscriber prints to /dev/null: what is measured is delivery,
        # not the disk. Every event reached it when its queue is empty and
        # nothing was dropped (it would have been told, on stderr).
        sub = subprocess.Popen([b, "-s", d.sock, "trace", "--json", "--tracer", "open"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not d.status()["subscribers"]:
            time.sleep(0.01)
        cpu0 = d.cpu_s()
        t = run_openloop(openloop, target, n)
        # Let the last events through. Each status request runs a client,
        # whose own opens are events too: the queue rarely stays empty, so
        # what is left may be a few of those (under 256 KiB, against ~1 GB
        # of JSON for a million events).
        deadline = time.time() + 30
        while True:
            st = d.status()
            subs = st["subscribers"]
            if (subs[0]["sent"] + subs[0]["dropped"] >= n and subs[0]["queued"] < 256 << 10) \
                    or time.time() > deadline:
                break
            time.sleep(0.1)
        time.sleep(0.2)
        r["cpu"].append(d.cpu_s() - cpu0)
        r["mem"] = d.memory()
        r["lost"].append(st["events"]["lost"])
        r["dropped"].append(subs[0]["dropped"])
        r["delivered"].append(subs[0]["sent"])
        sub.terminate()
        sub.wait()
        d.stop()
        return t

    for rnd in range(args.runs):
        before = run_openloop(openloop, target, n)
        bare.append(before)
        for i in range(len(variants)):
            name, b, extra = variants[(rnd + i) % len(variants)]
            r = res[name]
            t = traced(b, extra, r)
            after = run_openloop(openloop, target, n)
            bare.append(after)
            r["traced"].append(t)
            r["ratio"].append(t / ((before + after) / 2))
            before = after

    what = "" if not b_rules else " (this build: rules of %s)" % b_rules
    rows = [("%d open()/close() of %s, bare%s" % (n, target, what), "%.3f s" % med(bare),
             "min %.3f max %.3f" % (min(bare), max(bare)))]
    for name, _, _ in variants:
        r = res[name]
        cpu = [c * 1e6 / n for c in r["cpu"]]
        mem = r["mem"]
        rows += [
            ("%s: traced, every event to trace --json" % name, "%.3f s" % med(r["traced"]),
             "min %.3f max %.3f" % (min(r["traced"]), max(r["traced"]))),
            ("  slowdown (median of ratios to the bracketing bare loops)",
             "%.2fx" % med(r["ratio"]), "min %.2fx max %.2fx" % (min(r["ratio"]),
                                                                 max(r["ratio"]))),
            ("  daemon CPU per million events", "%.2f s" % med(cpu),
             "min %.2f max %.2f" % (min(cpu), max(cpu))),
            ("  events delivered (open events, all processes) / lost / dropped",
             "%d" % min(r["delivered"]), "of %d; lost %d, dropped %d (worst run)" %
             (n, max(r["lost"]), max(r["dropped"]))),
            ("  daemon RSS after the run", "%.1f MB" % mem["VmRSS"],
             "anonymous %.1f MB, file %.1f MB, shmem %.1f MB" % (mem["RssAnon"], mem["RssFile"],
                                                                mem["RssShmem"])),
        ]
    return rows


def measure_prefilter(args, bpfd, tmp, openloop, target, failed=False):
    """The open/close loop with the password_files rule: dropped in the kernel.
    @failed: a loop of opens of a relative name that does not exist instead
    (ENOENT), which that rule's prefix sends to the daemon to be joined to
    the cwd and matched there."""
    n = args.iterations
    what = "failed-open loop (ENOENT, relative)" if failed else "same loop"
    cwd = tmp if failed else None
    if failed:
        target = "bpfd-bench-no-such-file"
    # The in-kernel prefilter: the old README's password_files rule loaded,
    # the loop opens a file no rule names; nothing reaches the daemon. Each
    # round also runs the loop under the two reference programs of
    # bench/tpfloor: one that returns at once (what any program on the
    # tracepoint costs) and one that only reads the file name from user
    # memory (what any file name prefilter costs before it tests anything).
    # The differences measured are tens of ns per open: every loop runs on
    # one CPU (the last), so that none of them pays for moving between CPUs.
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "examples", "rules", "password_files.toml"), rules)
    # --rules-dir: this build loads that directory instead (the rule
    # library); the --against builds keep password_files, which any build reads.
    own_rules = args.rules_dir or rules
    tpfloor = os.path.join(args.build, "bench", "tpfloor")
    cpu = max(os.sched_getaffinity(0))
    # This machine's speed moves in phases of a few seconds: every measured
    # loop is bracketed by bare loops, and its ratio is to their mean.
    # Other builds (--against) run in the same rounds, in turns.
    also = also_configs(args, tmp)
    binaries = [bpfd] + list(also) + (args.against or [])
    dropped = []
    prog_ns = {}
    if args.bpf_stats:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)

    def reference(kind):
        ref = subprocess.Popen([tpfloor, kind], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        if ref.stdout.readline().strip() != "ready":
            sys.exit("tpfloor %s failed" % kind)
        t = run_openloop(openloop, target, n, cpu, cwd)
        ref.stdin.close()
        ref.wait()
        return t

    def prefiltered(d):
        return [t for t in d.status()["tracers"] if t["name"] == "open"][0]["prefiltered"]

    def traced(k):
        b, conf = (bpfd, ["--config", also[k]]) if k in also else (k, [])
        d = Daemon(b, tmp, "--tracers", "open", "--rules-dir", own_rules if b == bpfd else rules,
                   *conf)
        before = prefiltered(d)
        t = run_openloop(openloop, target, n, cpu, cwd)
        dropped.append(prefiltered(d) - before)
        if args.bpf_stats:
            # The program's own time per open, apart from the loop's.
            progs = daemon_programs(d.proc.pid)
            run_openloop(openloop, target, n, cpu, cwd)
            ns = ns_per_call(progs, daemon_programs(d.proc.pid), n)
            if ns is not None:
                prog_ns.setdefault(k, []).append(ns)
        d.stop()
        return t

    bare = []
    times = {k: [] for k in ["empty", "read"] + binaries}
    ratios = {k: [] for k in times}
    for rnd in range(args.runs):
        order = ["empty", "read"] + [binaries[(rnd + i) % len(binaries)]
                                     for i in range(len(binaries))]
        before = run_openloop(openloop, target, n, cpu, cwd)
        bare.append(before)
        for k in order:
            t = reference(k) if k in ("empty", "read") else traced(k)
            after = run_openloop(openloop, target, n, cpu, cwd)
            bare.append(after)
            times[k].append(t)
            ratios[k].append(t / ((before + after) / 2))
            before = after

    def slowdowns(k):
        return "%.3fx" % med(ratios[k]), "%.3fx" % (min(times[k]) / min(bare))
    own = "rules of %s" % args.rules_dir if args.rules_dir else "password_files rule"
    rows = [
        ("%s, %s (in-kernel prefilter), bare" % (what, own), "%.3f s" % med(bare),
         "min %.3f max %.3f" % (min(bare), max(bare))),
        ("%s, %s, traced" % (what, own), "%.3f s" % med(times[bpfd]),
         "min %.3f max %.3f" % (min(times[bpfd]), max(times[bpfd]))),
        ("prefilter slowdown (median of ratios to the bracketing bare loops)",
         slowdowns(bpfd)[0], "events dropped in the kernel: min %d" % min(dropped)),
        ("prefilter slowdown (fastest traced / fastest bare)", slowdowns(bpfd)[1], ""),
        ("  reference: a program that returns at once (tpfloor empty)", slowdowns("empty")[0],
         "fastest / fastest bare %s" % slowdowns("empty")[1]),
        ("  reference: one that only reads the file name (tpfloor read)", slowdowns("read")[0],
         "fastest / fastest bare %s" % slowdowns("read")[1]),
    ]
    for b in binaries[1:]:
        name = ("  this build, %s: median ratio / fastest" % b if b in also
                else "  against %s (password_files): median ratio / fastest" % b)
        rows.append((name, slowdowns(b)[0], "fastest / fastest bare %s" % slowdowns(b)[1]))
    if args.bpf_stats:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=True)
        for b in binaries:
            ns = prog_ns.get(b, [])
            rows.append(("  open program per call (bpf_stats), %s" % b,
                         "%.0f ns" % med(ns) if ns else "-",
                         "min %.0f max %.0f" % (min(ns), max(ns)) if ns else "not found"))
    return rows


def measure_compat(args, bpfd, tmp):
    """A getppid() loop: bare, then under the open tracer with and without the compat hook."""
    loop = os.path.join(args.build, "bench", "syscallloop")
    n = args.iterations * 10
    cpu = max(os.sched_getaffinity(0))
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules, exist_ok=True)

    def run_loop():
        out = subprocess.run([loop, str(n)], capture_output=True, text=True, check=True,
                             preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        return float(out.stdout)

    def traced(compat, tracers="open"):
        conf = os.path.join(tmp, "compat.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\ncompat_syscalls = %s\n" % ("true" if compat else "false"))
        d = Daemon(bpfd, tmp, "--tracers", tracers, "--rules-dir", rules, "--config", conf)
        t = run_loop()
        d.stop()
        return t

    def floor():
        # tpfloor sysexit: a raw sys_exit program that returns at once,
        # alone (no syscall tracepoint of the open tracer loaded).
        ref = subprocess.Popen([os.path.join(args.build, "bench", "tpfloor"), "sysexit"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if ref.stdout.readline().strip() != "ready":
            sys.exit("tpfloor sysexit failed")
        t = run_loop()
        ref.stdin.close()
        ref.wait()
        return t

    # As in the prefilter part: every traced loop bracketed by bare loops.
    # "three": exec, open and dockeropenbreakout, which share the one
    # sys_exit program (docs/tracers.md, "No blind entries").
    ratios = {True: [], False: [], "floor": [], "three": []}
    configs = (True, False, "floor") + (("three",) if args.compat_shared else ())
    bare = []
    for rnd in range(args.runs):
        before = run_loop()
        bare.append(before)
        for compat in (configs if rnd % 2 == 0 else configs[::-1]):
            if compat == "floor":
                t = floor()
            elif compat == "three":
                t = traced(True, "exec,open,dockeropenbreakout")
            else:
                t = traced(compat)
            after = run_loop()
            bare.append(after)
            ratios[compat].append(t / ((before + after) / 2))
            before = after
    per_call = med(bare) / n * 1e9
    shared = [
        ("  exec, open, dockeropenbreakout with the compat hook", "%.3fx" % med(ratios["three"]),
         "+%.1f ns per system call" % ((med(ratios["three"]) - 1) * per_call)),
    ] if args.compat_shared else []
    return [
        ("getppid() loop, bare", "%.3f s" % med(bare), "%d calls, %.1f ns each" % (n, per_call)),
        ("  open tracer with the compat hook (median ratio)", "%.3fx" % med(ratios[True]),
         "+%.1f ns per system call" % ((med(ratios[True]) - 1) * per_call)),
    ] + shared + [
        ("  open tracer, compat_syscalls = false", "%.3fx" % med(ratios[False]),
         "+%.1f ns per system call" % ((med(ratios[False]) - 1) * per_call)),
        ("  reference: a raw sys_exit program that returns at once (tpfloor sysexit)",
         "%.3fx" % med(ratios["floor"]),
         "+%.1f ns per system call" % ((med(ratios["floor"]) - 1) * per_call)),
    ]


NET_TRACERS = "tcpconnect,tcpaccept,tcpdrop"
# Rules that match no loopback traffic: each network tracer's prefilter is on.
NET_RULES = {t: 'tracer = "%s"\nactions = []\n[filterEvents.daddr]\nvalues = ["169.254.169.254"]\n'
             % t for t in NET_TRACERS.split(",")}


def measure_network(args, bpfd, tmp):
    """A loopback connect/send/close loop bare, with the network tracers and
    rules that match nothing (prefiltered in the kernel), and with every
    event delivered; then a SYN flood to a closed port, every packet
    dropped, with and without tcpdrop (packets per second)."""
    connloop = os.path.join(args.build, "bench", "connloop")
    n, flood_n = args.conn_iterations, args.flood_packets
    rules = os.path.join(tmp, "net-rules")
    os.makedirs(rules, exist_ok=True)
    for name, text in NET_RULES.items():
        with open(os.path.join(rules, name + ".toml"), "w") as f:
            f.write(text)

    def loop(kind, count):
        return float(subprocess.run([connloop, kind, str(count)], capture_output=True,
                                    text=True, check=True).stdout)

    def traced(kind, count, *daemon_args, subscribe=False):
        d = Daemon(bpfd, tmp, "--tracers", NET_TRACERS, *daemon_args)
        sub = None
        if subscribe:
            sub = subprocess.Popen([bpfd, "-s", d.sock, "trace", "--json"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while not d.status()["subscribers"]:
                time.sleep(0.01)
        t = loop(kind, count)
        time.sleep(1.5)     # a drain of tcpdrop's flows
        st = d.status()
        if sub:
            sub.terminate()
            sub.wait()
        d.stop()
        return t, st

    times = {k: [] for k in ("bare", "nomatch", "all", "flood_bare", "flood")}
    events = lost = prefiltered = 0
    agg = None
    empty_rules = os.path.join(tmp, "no-rules")
    os.makedirs(empty_rules, exist_ok=True)
    for _ in range(args.runs):
        times["bare"].append(loop("conn", n))
        t, st = traced("conn", n, "--rules-dir", rules)
        times["nomatch"].append(t)
        prefiltered = sum(x["prefiltered"] for x in st["tracers"])
        t, st = traced("conn", n, "--rules-dir", empty_rules, subscribe=True)
        times["all"].append(t)
        events = st["events"]["seen"]
        lost = max(lost, st["events"]["lost"])
        times["flood_bare"].append(loop("flood", flood_n))
        t, st = traced("flood", flood_n, "--rules-dir", empty_rules)
        times["flood"].append(t)
        agg = [x for x in st["tracers"] if x["name"] == "tcpdrop"][0]["aggregated"]

    def us(k):
        return "%.1f us" % (med(times[k]) / n * 1e6)

    def pps(k):
        return "%.0f k/s" % (flood_n / med(times[k]) / 1e3)
    return [
        ("loopback connect/send/close, bare (per iteration)", us("bare"),
         "%d iterations, median of %d" % (n, args.runs)),
        ("  network tracers, rules matching nothing", us("nomatch"),
         "%.2fx; prefiltered in the kernel: %d" % (med(times["nomatch"]) / med(times["bare"]),
                                                   prefiltered)),
        ("  network tracers, every event to trace --json", us("all"),
         "%.2fx; events %d (last run), lost %d" % (med(times["all"]) / med(times["bare"]),
                                                    events, lost)),
        ("SYN flood to a closed port, every packet dropped, bare", pps("flood_bare"),
         "%d packets" % flood_n),
        ("  with tcpdrop (drops counted per flow in the kernel)", pps("flood"),
         "%.2fx the time; last run: %d drops into %d events, %d not kept"
         % (med(times["flood"]) / med(times["flood_bare"]), agg["events"], agg["records"],
            agg["full"])),
    ]


# A rule per tracer that no event matches: every tracer loaded, its prefilter on.
FORK_RULES = {
    "exec": 'tracer = "exec"\nactions = []\n[filterEvents.command]\nvalues = ["bpfd-bench-none"]\n',
    "open": 'tracer = "open"\nactions = []\n[filterEvents.filename]\nvalues = ["/bpfd-bench-none"]\n',
}


def measure_fork(args, bpfd, tmp):
    """A fork-and-exit loop and a fork+exec loop: bare, with bpfd without
    the process table (ancestors = 0) and with it (the default)."""
    loop = os.path.join(args.build, "bench", "forkloop")
    prog = os.path.join(tmp, "forkbench-true")
    shutil.copy("/bin/true", prog)
    rules = os.path.join(tmp, "fork-rules")
    os.makedirs(rules, exist_ok=True)
    for name, text in FORK_RULES.items():
        with open(os.path.join(rules, name + ".toml"), "w") as f:
            f.write(text)
    n_fork, n_exec = args.forks, args.forks // 4

    cpu = max(os.sched_getaffinity(0))

    def run(kind):
        # On the last CPU alone, as the compat part: the daemon runs wherever it may.
        argv = [loop, "fork", str(n_fork)] if kind == "fork" else [loop, "exec", str(n_exec), prog]
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             preexec_fn=lambda: os.sched_setaffinity(0, {cpu})).stdout.split()
        # CPU seconds of the loop and its children: what each process cost
        # the host, BPF programs included, less disturbed than the wall clock.
        return float(out[1])

    def traced(table):
        conf = os.path.join(tmp, "fork.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nancestors = %d\n" % (4 if table else 0))
        d = Daemon(bpfd, tmp, "--rules-dir", rules, "--config", conf)
        out = {}
        for kind in ("fork", "exec"):
            c0 = d.cpu_s()
            t = run(kind)
            time.sleep(0.2)  # the daemon drains the records the loop left
            out[kind] = (t, d.cpu_s() - c0)
        st = d.status().get("process_table", {})
        d.stop()
        return out, st

    res = {k: {"bare": [], False: [], True: [], "cpu0": [], "cpu1": []} for k in ("fork", "exec")}
    lost = 0
    for rnd in range(args.runs):
        for kind in ("fork", "exec"):
            res[kind]["bare"].append(run(kind))
        for table in ((False, True) if rnd % 2 == 0 else (True, False)):
            out, st = traced(table)
            lost += st.get("lost", 0)
            for kind in ("fork", "exec"):
                res[kind][table].append(out[kind][0])
                res[kind]["cpu1" if table else "cpu0"].append(out[kind][1])
        for kind in ("fork", "exec"):
            res[kind]["bare"].append(run(kind))
    rows = []
    for kind, n, what in (("fork", n_fork, "fork-and-exit loop"),
                          ("exec", n_exec, "fork+exec loop (a copy of /bin/true)")):
        r = res[kind]
        bare_us = med(r["bare"]) / n * 1e6
        rows += [
            ("%s, bare" % what, "%.1f us" % bare_us,
             "CPU per process (loop and children), %d processes" % n),
            ("  bpfd, ancestors = 0 (no process table)", "%.1f us" % (med(r[False]) / n * 1e6),
             "%.3fx; daemon CPU %.2f us per process" % (med(r[False]) / med(r["bare"]),
                                                      med(r["cpu0"]) / n * 1e6)),
            ("  bpfd, process table (default)", "%.1f us" % (med(r[True]) / n * 1e6),
             "%.3fx; daemon CPU %.2f us per process" % (med(r[True]) / med(r["bare"]),
                                                      med(r["cpu1"]) / n * 1e6)),
        ]
    rows.append(("  process table records lost", "%d" % lost, "over every run"))
    return rows


def measure_proctable(args, bpfd, tmp):
    """The process table before, with --procs (10,000) more sleeping processes, and after."""
    loop = os.path.join(args.build, "bench", "forkloop")
    rules = os.path.join(tmp, "pt-rules")
    os.makedirs(rules, exist_ok=True)
    n = args.procs
    rows = []
    for rnd in range(args.runs):
        d = Daemon(bpfd, tmp, "--rules-dir", rules, "--tracers", "exec")
        time.sleep(0.5)
        st0, m0 = d.status()["process_table"], d.memory()
        holder = subprocess.Popen([loop, "hold", str(n)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        made = int(holder.stdout.readline().split()[1])
        time.sleep(1.0)
        st1, m1 = d.status()["process_table"], d.memory()
        holder.stdin.close()
        holder.wait(60)
        time.sleep(1.0)
        st2, m2 = d.status()["process_table"], d.memory()
        d.stop()
        rows.append((made, st0, st1, st2, m0, m1, m2))
    made, st0, st1, st2, m0, m1, m2 = sorted(rows, key=lambda r: r[2]["bytes"] - r[1]["bytes"])[
        len(rows) // 2]
    per = (st1["bytes"] - st0["bytes"]) / max(1, st1["entries"] - st0["entries"])
    return [
        ("process table, idle host", "%d entries" % st0["entries"],
         "%.0f KiB heap; daemon RSS %.1f MiB" % (st0["bytes"] / 1024, m0["VmRSS"])),
        ("  with %d more sleeping processes" % made, "%d entries" % st1["entries"],
         "%.2f MiB heap (%.0f bytes per process); daemon RSS %.1f MiB (+%.1f)"
         % (st1["bytes"] / 2**20, per, m1["VmRSS"], m1["VmRSS"] - m0["VmRSS"])),
        ("  after they are killed", "%d entries" % st2["entries"],
         "%.0f KiB heap; daemon RSS %.1f MiB" % (st2["bytes"] / 1024, m2["VmRSS"])),
    ]


PARTS = ("start", "delivery", "prefilter", "failedopen", "compat", "network", "fork",
         "proctable")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=1000000)
    ap.add_argument("--against", action="append", metavar="BPFD",
                    help="delivery, prefilter and failedopen parts: another bpfd binary measured "
                         "(in the prefilter parts in the same rounds; repeatable), to compare builds")
    ap.add_argument("--also", action="append", metavar="LINE",
                    help="delivery, prefilter and failedopen parts: this build once more in "
                         "each round with LINE in its config's [daemon] section (e.g. "
                         "'compat_syscalls = false', 'ancestors = 0'); repeatable")
    ap.add_argument("--conn-iterations", type=int, default=20000,
                    help="network part: connect/send/close iterations per loop")
    ap.add_argument("--compat-shared", action="store_true",
                    help="compat part: also exec, open and dockeropenbreakout together, "
                         "which share the sys_exit program (a daemon start more per round)")
    ap.add_argument("--flood-packets", type=int, default=1000000,
                    help="network part: SYNs per flood")
    ap.add_argument("--forks", type=int, default=20000,
                    help="fork part: processes per fork-and-exit loop (a quarter for fork+exec)")
    ap.add_argument("--procs", type=int, default=10000,
                    help="proctable part: sleeping processes added to the table")
    ap.add_argument("--bpf-stats", action="store_true",
                    help="prefilter parts: also each build's open program's own time per call "
                         "(switches kernel.bpf_stats_enabled on while they run)")
    ap.add_argument("--rules-dir", metavar="DIR",
                    help="delivery, prefilter and failedopen parts: this build's daemon loads DIR "
                         "(the rule library: rules/) instead of no rules or password_files; the "
                         "--against builds keep theirs")
    ap.add_argument("--delivery-target", metavar="FILE",
                    help="delivery part: the file the loop opens (default: a file of its own; "
                         "/etc/shadow with --rules-dir, which the library's rules match)")
    ap.add_argument("--only", default=",".join(PARTS),
                    help="comma-separated parts to run: " + ", ".join(PARTS))
    args = ap.parse_args()
    parts = args.only.split(",")
    for p in parts:
        if p not in PARTS:
            ap.error("--only: unknown part %r (parts: %s)" % (p, ", ".join(PARTS)))
    bpfd = os.path.join(args.build, "bpfd")
    # Absolute: the failedopen loop runs in another directory.
    openloop = os.path.abspath(os.path.join(args.build, "bench", "openloop"))
    tmp = tempfile.mkdtemp(prefix="bpfd-bench-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    target = os.path.join(tmp, "target")
    open(target, "w").close()

    rows = []
    if "start" in parts:
        rows += measure_start(args, bpfd, tmp)
    if "delivery" in parts:
        dtarget = args.delivery_target or ("/etc/shadow" if args.rules_dir else target)
        rows += measure_delivery(args, bpfd, tmp, openloop, dtarget, args.rules_dir)
    if "prefilter" in parts:
        rows += measure_prefilter(args, bpfd, tmp, openloop, target)
    if "failedopen" in parts:
        rows += measure_prefilter(args, bpfd, tmp, openloop, target, failed=True)
    if "compat" in parts:
        rows += measure_compat(args, bpfd, tmp)
    if "network" in parts:
        rows += measure_network(args, bpfd, tmp)
    if "fork" in parts:
        rows += measure_fork(args, bpfd, tmp)
    if "proctable" in parts:
        rows += measure_proctable(args, bpfd, tmp)
    w = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print("%-*s  %12s  %s" % (w, name, value, note))


if __name__ == "__main__":
    main()
