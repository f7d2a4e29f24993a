"""What bench/chmod_cost.py and bench/filechange_cost.py share: a compiled
loop of system calls, run bare and under a daemon that loads one tracer
with given rules, with that tracer's program's own time per call from the
kernel's bpf_stats (switched on while it runs)."""
import json
import os
import shutil
import subprocess
import time


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


def start(bpfd, tmp, tracer, rules):
    """A daemon loading only @tracer, with @rules ({name: TOML}), ready."""
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
    p = subprocess.Popen([bpfd, "daemon", "-s", os.path.join(tmp, "s"), "--tracers", tracer,
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


def compile_loop(tmp, source, name):
    """@source (C) compiled in @tmp as @name: its path."""
    src = os.path.join(tmp, name + ".c")
    with open(src, "w") as f:
        f.write(source)
    exe = os.path.join(tmp, name)
    subprocess.run(["cc", "-O2", src, "-o", exe], check=True)
    return exe


def loop(exe, path, calls, relative):
    """Seconds the loop @exe takes for @calls of @path, or of its base name from its directory."""
    if relative:
        return float(subprocess.run([exe, os.path.basename(path), str(calls)],
                                    cwd=os.path.dirname(path), capture_output=True, text=True,
                                    check=True).stdout)
    return float(subprocess.run([exe, path, str(calls)], capture_output=True, text=True,
                                check=True).stdout)


def measure(bpfd, tmp, tracer, exe, target, calls, runs, setups, program_prefix):
    """For each (label, rules or None for no daemon, relative[, another bpfd binary]) of
    @setups: (label, the loop's ns per call in each run, the program's ns per call in
    each run, from the programs whose name starts with @program_prefix)."""
    rows = []
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        for label, rules, relative, *binary in setups:
            d = start(binary[0] if binary else bpfd, tmp, tracer, rules) \
                if rules is not None else None
            try:
                secs, per_call = [], []
                for _ in range(runs):
                    before = programs(d.pid) if d else {}
                    secs.append(loop(exe, target, calls, relative))
                    if d:
                        for pid_, (name, ns, cnt) in programs(d.pid).items():
                            b = before.get(pid_, (name, 0, 0))
                            if name.startswith(program_prefix) and cnt - b[2] >= calls:
                                per_call.append((ns - b[1]) / (cnt - b[2]))
                rows.append((label, [x / calls * 1e9 for x in secs], per_call))
            finally:
                if d:
                    d.terminate()
                    d.wait(30)
    finally:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=True)
    return rows
