#!/usr/bin/env python3
"""bpfd against its peers on the same workloads (docs/performance-comparison.md).

Workloads (small C programs in bench/, timed from inside):
  open      N open()/close() of one file                      (bench/openloop)
  exec      N posix_spawn()+exec of a copy of /bin/true         (bench/execloop)
  bash      N lines typed into an interactive bash on a pty      (bench/readlineloop)
  throughput  P openloops on P files at once, every event delivered

Configurations, run one after the other in every round (A B C A B C ...):
  bare                  the workload alone
  bpfd filtered         bpfd daemon with a rule that matches nothing in the
                        workload: the in-kernel prefilter drops every event
  bpfd delivered        bpfd daemon, every event to a `bpfd trace --json` subscriber
  bpftrace filtered     a bpftrace script filtering on the same key in the kernel
  bpftrace unfiltered   a bpftrace script printing every event (pipe to this harness)
  <tool>-bpfcc          bcc's opensnoop / execsnoop / bashreadline, where they load

Every output stream (the subscriber's, bpftrace's, bcc's) is read by this
harness through a pipe and the workload's events are counted in it.

usage: bench/compare.py [--runs N] [--quick] [--json-out FILE] [--only open,exec,...]
Run as root. Prints one table of medians; see --help for the sizes.
"""
import argparse
import ctypes
import fcntl
import glob
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOST_RE = re.compile(rb"[Ll]ost (\d+) (?:events|samples)")


# ---------------------------------------------------------------- helpers

_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """In every process this harness starts: SIGTERM when the harness dies,
    so that no tracer outlives an interrupted run (and skews the next)."""
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    # A shell's background job starts with SIGINT ignored, and the tools
    # are stopped with SIGINT (bpftrace and bcc's tools print their last
    # events then): give it back its default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen(cmd, **kw):
    return subprocess.Popen(cmd, preexec_fn=die_with_parent, **kw)


def proc_cpu_s(pid):
    """utime + stime of a process, in seconds (None once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / CLK_TCK
    except OSError:
        return None


def proc_rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def stop(proc, sig=signal.SIGTERM, timeout=20):
    """Stops one process we started, by its pid; kills it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Sink(threading.Thread):
    """A tool's standard output, written to a file in /dev/shm (memory: the
    writer never waits for a disk, nor for this harness). A thread reads what
    was added every 20 ms and counts the lines with the workload's marker
    (the tools also see every other process of the machine) and the lines
    that report lost events, noting when the count last grew."""

    def __init__(self, path, marker):
        super().__init__(daemon=True)
        self.path = path
        self.marker = marker
        self.file = open(path, "wb")
        self.reader = open(path, "rb")
        self.tail = b""
        self.head = b""
        self.count = self.lost = 0
        self.first_data = None
        self.last_event = None
        self.watching = True
        self.stopped = threading.Event()
        self.start()

    def _consume(self):
        while True:
            chunk = self.reader.read(4 << 20)
            if not chunk:
                return
            now = time.monotonic()
            if self.first_data is None:
                self.first_data = now
            if len(self.head) < 4096:
                self.head += chunk[:4096]
            data = self.tail + chunk
            end = data.rfind(b"\n") + 1
            whole, self.tail = data[:end], data[end:]
            n = whole.count(self.marker)
            if n:
                self.count += n
                if self.watching:
                    self.last_event = now
            if b"ost " in whole:
                self.lost += sum(int(m) for m in LOST_RE.findall(whole))

    def run(self):
        while not self.stopped.is_set():
            self._consume()
            self.stopped.wait(0.02)

    def wait_count(self, expected, quiet, timeout=120.0):
        """Until `expected` events arrived, or none for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline and self.count < expected:
            if self.count != last:
                last, since = self.count, time.monotonic()
            elif time.monotonic() - since > quiet:
                return
            time.sleep(0.02)

    def finish(self):
        """Stops watching: call it before stopping the tool, whose exit
        flushes what it buffered (counted, but not as a time of arrival)."""
        self.stopped.set()
        self.join(10)
        self.watching = False

    def count_all(self):
        """Once the tool has exited: counts the rest, removes the file."""
        self.file.close()
        self._consume()
        self.count += self.tail.count(self.marker)
        self.tail = b""
        self.reader.close()
        os.unlink(self.path)


def spawn_sink(cmd, marker, out_path, stderr_path, env=None):
    sink = Sink(out_path, marker)
    proc = popen(cmd, stdout=sink.file, stderr=open(stderr_path, "wb"),
                            stdin=subprocess.DEVNULL, env=env)
    return proc, sink


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def failure_reason(text):
    """The line that says why a tool did not start: a Python exception's
    last line (with the call that raised it), else the first error line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_.]*(Exception|Error)\b", lines[i]):
            # The bcc call that raised it: attach_kprobe, attach_kretfunc ...
            frames = [m.group(1) for m in (re.search(r", in (attach_\w+|load_func)$", x)
                                           for x in lines[:i]) if m]
            attach = [f for f in frames if f.startswith("attach_")]
            where = (attach or frames)[-1:] if frames else []
            return lines[i] + ("" if not where else " (in %s)" % where[0])
    for line in lines:
        if re.search(r"error|fail|cannot|unable", line, re.I) and "RLIMIT_MEMLOCK" not in line:
            return line
    return lines[-1] if lines else "exited without output"


# ---------------------------------------------------------------- workloads

class Workload:
    def __init__(self, name, title, n, expected, cmd, marker_json, marker_text):
        self.name = name
        self.title = title
        self.n = n                  # operations, the denominator of CPU per 1M
        self.expected = expected    # events the workload makes
        self.cmds = cmd             # a list of argument lists, run at once
        self.marker_json = marker_json   # how an event of it looks in bpfd's JSON
        self.marker_text = marker_text   # ... in bpftrace's output

    def run(self):
        """Runs the workload's processes; returns (seconds, start time)."""
        t0 = time.monotonic()
        procs = [popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in self.cmds]
        outs = [p.communicate() for p in procs]
        wall = time.monotonic() - t0
        for p, (out, err) in zip(procs, outs):
            if p.returncode != 0:
                raise RuntimeError("workload %s failed: %s" % (self.name, err.strip()))
        if len(procs) == 1:
            return float(outs[0][0]), t0
        return wall, t0


# bpftrace programs. Each starts by touching a file from BEGIN, which runs
# once every probe is attached: the harness takes that as "ready".
BT_READY = 'BEGIN { system("touch %s"); }\n'

BT_OPEN_ALL = r"""
tracepoint:syscalls:sys_enter_open { @f[tid] = args->filename; }
tracepoint:syscalls:sys_enter_openat { @f[tid] = args->filename; }
tracepoint:syscalls:sys_enter_openat2 { @f[tid] = args->filename; }
tracepoint:syscalls:sys_enter_creat { @f[tid] = args->pathname; }
tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat,
tracepoint:syscalls:sys_exit_openat2, tracepoint:syscalls:sys_exit_creat
/@f[tid]/
{
	printf("open pid=%d comm=%s ret=%d filename=%s\n", pid, comm, args->ret, str(@f[tid]));
	delete(@f[tid]);
}
END { clear(@f); }
"""

# The password_files rule (examples/rules/password_files.toml) in bpftrace:
# the same file names, tested in the kernel.
BT_OPEN_PASSWORD_FILES_ENTER = r"""
tracepoint:syscalls:sys_enter_%s
{
	$f = str(args->%s);
	if ($f == "/etc/passwd" || $f == "/etc/shadow" || $f == "/etc/gshadow" ||
	    $f == "/etc/sudoers" || $f == "/etc/sudoers.d" ||
	    strncmp($f, "/etc/sudoers.d/", 15) == 0) {
		@f[tid] = args->%s;
	}
}
"""
BT_OPEN_FILTERED = "".join(BT_OPEN_PASSWORD_FILES_ENTER % (sc, arg, arg) for sc, arg in
                           (("open", "filename"), ("openat", "filename"),
                            ("openat2", "filename"), ("creat", "pathname"))) + r"""
tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat,
tracepoint:syscalls:sys_exit_openat2, tracepoint:syscalls:sys_exit_creat
/@f[tid]/
{
	printf("open pid=%d comm=%s ret=%d filename=%s\n", pid, comm, args->ret, str(@f[tid]));
	delete(@f[tid]);
}
END { clear(@f); }
"""

BT_EXEC_ALL = r"""
tracepoint:syscalls:sys_enter_execve, tracepoint:syscalls:sys_enter_execveat
{
	printf("exec pid=%d comm=%s filename=%s\n", pid, comm, str(args->filename));
	join(args->argv);
}
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat
{
	printf("exit pid=%d comm=%s ret=%d\n", pid, comm, args->ret);
}
"""

# The bench_nomatch exec rule below in bpftrace: the same comm test.
BT_EXEC_FILTERED = r"""
tracepoint:syscalls:sys_enter_execve, tracepoint:syscalls:sys_enter_execveat
/comm == "bpfd-nomatch"/
{
	printf("exec pid=%d comm=%s filename=%s\n", pid, comm, str(args->filename));
	join(args->argv);
}
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat
/comm == "bpfd-nomatch"/
{
	printf("exit pid=%d comm=%s ret=%d\n", pid, comm, args->ret);
}
"""

BT_BASH_ALL = r"""
uretprobe:/bin/bash:readline
{
	printf("readline pid=%d line=%s\n", pid, str(retval));
}
"""

EXEC_NOMATCH_RULE = """# Matches nothing the benchmark runs: every exec is dropped in the kernel.
name = "bench_nomatch"
tracer = "exec"
actions = []

[filterEvents.command]
values = ["bpfd-nomatch"]
"""


# ---------------------------------------------------------------- runners

class Harness:
    def __init__(self, args):
        self.args = args
        self.bpfd = os.path.join(args.build, "bpfd")
        self.tmp = tempfile.mkdtemp(prefix="cmp-")
        # The tools' outputs: memory, not disk.
        self.shm = tempfile.mkdtemp(prefix="bpfd-cmp-",
                                    dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.conf = os.path.join(self.tmp, "bpfd.conf")
        with open(self.conf, "w") as f:
            f.write("[daemon]\ndefault_actions = none\n")
        # Deeper buffers than the defaults (32M and 8M): a config knob, shown
        # in its own row of the throughput case.
        self.big_conf = os.path.join(self.tmp, "bpfd-big.conf")
        with open(self.big_conf, "w") as f:
            f.write("[daemon]\ndefault_actions = none\nring_buffer_size = 64M\n"
                    "subscriber_queue_size = 64M\n")
        self.empty_rules = os.path.join(self.tmp, "rules-none")
        os.makedirs(self.empty_rules)
        self.pw_rules = os.path.join(self.tmp, "rules-open")
        os.makedirs(self.pw_rules)
        shutil.copy(os.path.join(ROOT, "examples", "rules", "password_files.toml"), self.pw_rules)
        self.exec_rules = os.path.join(self.tmp, "rules-exec")
        os.makedirs(self.exec_rules)
        with open(os.path.join(self.exec_rules, "bench_nomatch.toml"), "w") as f:
            f.write(EXEC_NOMATCH_RULE)
        self.bcc_failed = {}
        self.seq = 0

    def path(self, name):
        self.seq += 1
        return os.path.join(self.tmp, "%s.%d" % (name, self.seq))

    def out_path(self, name):
        self.seq += 1
        return os.path.join(self.shm, "%s.%d" % (name, self.seq))

    # -- bare
    def run_bare(self, w):
        secs, _ = w.run()
        return {"time_s": secs}

    # -- bpfd
    def run_bpfd(self, w, tracer, rules_dir, subscribe, conf=None):
        err = self.path("daemon.err")
        sock = os.path.join(self.tmp, "bpfd.sock")
        t0 = time.monotonic()
        daemon = popen([self.bpfd, "daemon", "-s", sock, "--tracers", tracer,
                                   "--rules-dir", rules_dir, "--config", conf or self.conf],
                                  stdout=subprocess.DEVNULL, stderr=open(err, "wb"),
                                  stdin=subprocess.DEVNULL)
        sub = sink = None
        try:
            while "ready:" not in read_text(err):
                if daemon.poll() is not None or time.monotonic() - t0 > 120:
                    return {"error": "bpfd did not start: " + failure_reason(read_text(err))}
                time.sleep(0.01)
            ready = time.monotonic() - t0
            status = self.bpfd_status(sock)
            tr = [t for t in status["tracers"] if t["name"] == tracer][0]
            if tr["state"] != "loaded":
                return {"error": "bpfd tracer %s %s: %s" % (tracer, tr["state"], tr["error"])}
            sub_err = self.path("trace.err")
            if subscribe:
                sub, sink = spawn_sink([self.bpfd, "-s", sock, "trace", "--json",
                                        "--tracer", tracer], w.marker_json,
                                       self.out_path("trace.out"), sub_err)
                deadline = time.monotonic() + 30
                while not self.bpfd_status(sock)["subscribers"]:
                    if sub.poll() is not None or time.monotonic() > deadline:
                        return {"error": "subscriber did not connect: " + read_text(sub_err)}
                    time.sleep(0.01)
            before = self.bpfd_status(sock)
            tr0 = [t for t in before["tracers"] if t["name"] == tracer][0]
            cpu0 = proc_cpu_s(daemon.pid)
            scpu0 = proc_cpu_s(sub.pid) if sub else None
            secs, start = w.run()
            if sink:
                # Until every event of the workload arrived; failing that
                # (events lost), until the daemon has next to nothing queued
                # for the subscriber and no more of them come. Each status
                # request is a client whose own opens are events too, so the
                # queue rarely stays empty: under 256 KiB is drained. (The
                # subscriber also gets the other processes' events: the
                # figures are taken as soon as it can.)
                sink.wait_count(w.expected, quiet=1.0)
                deadline = time.monotonic() + 30
                while sink.count < w.expected and time.monotonic() < deadline:
                    s = self.bpfd_status(sock)
                    if all(x["queued"] < 256 << 10 for x in s["subscribers"]):
                        sink.wait_count(w.expected, quiet=0.5)
                        break
                    time.sleep(0.1)
            after = self.bpfd_status(sock)
            cpu = proc_cpu_s(daemon.pid) - cpu0
            scpu = proc_cpu_s(sub.pid) - scpu0 if sub else None
            rss = proc_rss_mb(daemon.pid)
            tr1 = [t for t in after["tracers"] if t["name"] == tracer][0]
            res = {"time_s": secs, "ready_s": ready, "cpu_s": cpu, "client_cpu_s": scpu,
                   "rss_mb": rss, "kernel_lost": tr1["lost"] - tr0["lost"],
                   "prefiltered": tr1["prefiltered"] - tr0["prefiltered"],
                   "prefilter": tr1["prefilter"]}
            if sub:
                dropped = sum(x["dropped"] for x in after["subscribers"])
                sink.finish()
                stop(sub, signal.SIGINT)
                sink.count_all()
                notices = sum(int(n) for n in re.findall(r"lost (\d+) events", read_text(sub_err)))
                res.update(delivered=sink.count, sub_dropped=dropped,
                           lost=res["kernel_lost"] + max(dropped, notices))
                if sink.last_event is not None:
                    res["events_per_s"] = sink.count / max(sink.last_event - start, 1e-9)
            else:
                res.update(delivered=0, lost=res["kernel_lost"])
            return res
        finally:
            stop(sub)
            stop(daemon)
            if sink and not sink.file.closed:
                sink.finish()
                sink.count_all()

    def bpfd_status(self, sock):
        out = subprocess.run([self.bpfd, "-s", sock, "status", "--json"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError("bpfd status: " + out.stderr.strip())
        return json.loads(out.stdout)

    def measure_peer(self, w, proc, sink, err, t0, is_ready, delivering):
        """bpftrace and bcc's tools: wait until ready, run the workload,
        wait for the output to settle, stop the tool with SIGINT, count."""
        try:
            while not is_ready():
                if proc.poll() is not None or time.monotonic() - t0 > 120:
                    sink.finish()
                    sink.count_all()
                    text = read_text(err) + "\n" + sink.head.decode(errors="replace")
                    return {"error": "failed to load: " + failure_reason(text),
                            "stderr": text[-4000:]}
                time.sleep(0.01)
            ready = time.monotonic() - t0
            cpu0 = proc_cpu_s(proc.pid)
            secs, start = w.run()
            # bpftrace and bcc print from a user-space loop fed by a perf
            # buffer: wait until the output stops growing.
            sink.wait_count(w.expected if delivering else 1, quiet=1.0 if delivering else 0.2)
            cpu = proc_cpu_s(proc.pid) - cpu0
            rss = proc_rss_mb(proc.pid)
            sink.finish()
            stop(proc, signal.SIGINT)
            sink.count_all()
            lost = sink.lost + sum(int(m) for m in LOST_RE.findall(read_text(err).encode()))
            res = {"time_s": secs, "ready_s": ready, "cpu_s": cpu, "client_cpu_s": None,
                   "rss_mb": rss, "delivered": sink.count, "lost": lost}
            if delivering and sink.last_event is not None:
                res["events_per_s"] = sink.count / max(sink.last_event - start, 1e-9)
            return res
        finally:
            stop(proc, signal.SIGINT)
            if not sink.file.closed:
                sink.finish()
                sink.count_all()

    # -- bpftrace
    def run_bpftrace(self, w, program, delivering):
        ready_file = self.path("bpftrace.ready")
        err = self.path("bpftrace.err")
        prog = BT_READY % ready_file + program
        t0 = time.monotonic()
        proc, sink = spawn_sink(["bpftrace", "--unsafe", "-B", "full", "-e", prog],
                                w.marker_text, self.out_path("bpftrace.out"), err)
        return self.measure_peer(w, proc, sink, err, t0, lambda: os.path.exists(ready_file),
                                 delivering)

    # -- bcc's tools
    def bcc_command(self, tool):
        """bcc's tools look for the running kernel's headers only under
        /lib/modules/$(uname -r); Debian has just another release's headers
        here. Give the tool a private mount namespace where that directory
        holds links to them (nothing changes outside the namespace)."""
        exe = shutil.which(tool)
        if exe is None:
            return None, "not installed (Debian package bpfcc-tools)"
        release = os.uname().release
        if os.path.exists("/lib/modules/%s/build" % release):
            return [exe], None
        arch = sorted(glob.glob("/usr/src/linux-headers-*-amd64"))
        if not arch:
            return [exe], None
        build = arch[-1]
        common = build[:-len("amd64")] + "common"
        script = ("mount -t tmpfs bpfd-bench /lib/modules && mkdir -p /lib/modules/%s && "
                  "ln -s %s /lib/modules/%s/build && ln -s %s /lib/modules/%s/source && exec %s"
                  % (release, build, release, common, release, exe))
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], None

    def run_bcc(self, w, tool):
        if tool in self.bcc_failed:
            return {"error": self.bcc_failed[tool], "skipped": True}
        cmd, why = self.bcc_command(tool)
        if cmd is None:
            self.bcc_failed[tool] = why
            return {"error": why}
        err = self.path(tool + ".err")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        t0 = time.monotonic()
        proc, sink = spawn_sink(cmd, w.marker_text, self.out_path(tool + ".out"), err, env=env)
        # Ready once the tool printed its column header (after attaching).
        res = self.measure_peer(w, proc, sink, err, t0, lambda: sink.first_data is not None, True)
        if "error" in res:
            self.bcc_failed[tool] = res["error"]
        return res


def plan(h, args):
    """The workloads and, for each, its configurations in running order:
    (name, kind, group, function). Rows of one group do the same work."""
    b = os.path.join(args.build, "bench")
    tmp = h.tmp
    out = []
    if "open" in args.only:
        target = os.path.join(tmp, "target-open")
        open(target, "w").close()
        w = Workload("open", "%s open()/close()" % f"{args.open_n:,}", args.open_n, args.open_n,
                     [[os.path.join(b, "openloop"), target, str(args.open_n)]],
                     ('"filename":"%s"' % target).encode(), ("filename=%s\n" % target).encode())
        out.append((w, [
            ("bare", "bare", None, lambda w=w: h.run_bare(w)),
            ("bpfd, password_files rule (in-kernel prefilter)", "bpfd", "filtered",
             lambda w=w: h.run_bpfd(w, "open", h.pw_rules, False)),
            ("bpftrace, same file-name filter in the kernel", "bpftrace", "filtered",
             lambda w=w: h.run_bpftrace(w, BT_OPEN_FILTERED, False)),
            ("bpfd, every event to trace --json", "bpfd", "delivered",
             lambda w=w: h.run_bpfd(w, "open", h.empty_rules, True)),
            ("bpftrace, every event printed", "bpftrace", "delivered",
             lambda w=w: h.run_bpftrace(w, BT_OPEN_ALL, True)),
            ("opensnoop-bpfcc", "bcc", "delivered", lambda w=w: h.run_bcc(w, "opensnoop-bpfcc")),
        ]))
    if "exec" in args.only:
        prog = os.path.join(tmp, "true")
        shutil.copy("/bin/true", prog)
        w = Workload("exec", "%s exec() of /bin/true" % f"{args.exec_n:,}", args.exec_n,
                     args.exec_n, [[os.path.join(b, "execloop"), prog, str(args.exec_n)]],
                     ('"filename":"%s"' % prog).encode(), ("filename=%s\n" % prog).encode())
        out.append((w, [
            ("bare", "bare", None, lambda w=w: h.run_bare(w)),
            ("bpfd, rule on a command nothing runs (in-kernel prefilter)", "bpfd", "filtered",
             lambda w=w: h.run_bpfd(w, "exec", h.exec_rules, False)),
            ("bpftrace, same comm filter in the kernel", "bpftrace", "filtered",
             lambda w=w: h.run_bpftrace(w, BT_EXEC_FILTERED, False)),
            ("bpfd, every event to trace --json", "bpfd", "delivered",
             lambda w=w: h.run_bpfd(w, "exec", h.empty_rules, True)),
            ("bpftrace, every event printed", "bpftrace", "delivered",
             lambda w=w: h.run_bpftrace(w, BT_EXEC_ALL, True)),
            ("execsnoop-bpfcc", "bcc", "delivered", lambda w=w: h.run_bcc(w, "execsnoop-bpfcc")),
        ]))
    if "bash" in args.only:
        word = "bpfdbench%d" % os.getpid()
        w = Workload("bash", "%s lines typed into bash" % f"{args.bash_n:,}", args.bash_n,
                     args.bash_n,
                     [[os.path.join(b, "readlineloop"), "/bin/bash", word, str(args.bash_n)]],
                     ("# %s " % word).encode(), ("# %s " % word).encode())
        out.append((w, [
            ("bare", "bare", None, lambda w=w: h.run_bare(w)),
            ("bpfd, every event to trace --json", "bpfd", "delivered",
             lambda w=w: h.run_bpfd(w, "bashreadline", h.empty_rules, True)),
            ("bpftrace, every event printed", "bpftrace", "delivered",
             lambda w=w: h.run_bpftrace(w, BT_BASH_ALL, True)),
            ("bashreadline-bpfcc", "bcc", "delivered",
             lambda w=w: h.run_bcc(w, "bashreadline-bpfcc")),
        ]))
    if "throughput" in args.only:
        p = args.producers
        each = args.tp_n // p
        cmds = []
        for i in range(p):
            f = os.path.join(tmp, "tp-%d" % i)
            open(f, "w").close()
            cmds.append([os.path.join(b, "openloop"), f, str(each)])
        w = Workload("throughput", "%d producers x %s open()/close()" % (p, f"{each:,}"),
                     each * p, each * p, cmds,
                     ('"filename":"%s/tp-' % tmp).encode(), ("filename=%s/tp-" % tmp).encode())
        out.append((w, [
            ("bare", "bare", None, lambda w=w: h.run_bare(w)),
            ("bpfd, every event to trace --json", "bpfd", "delivered",
             lambda w=w: h.run_bpfd(w, "open", h.empty_rules, True)),
            ("bpfd, every event to trace --json, 64M ring and queue", "bpfd-tuned",
             "delivered", lambda w=w: h.run_bpfd(w, "open", h.empty_rules, True, h.big_conf)),
            ("bpftrace, every event printed", "bpftrace", "delivered",
             lambda w=w: h.run_bpftrace(w, BT_OPEN_ALL, True)),
        ]))
    return out


# ---------------------------------------------------------------- report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(workloads, results):
    rows = []
    for w, configs in workloads:
        bare = med(r.get("time_s") for r in results[(w.name, "bare")])
        for name, kind, group, _ in configs:
            runs = results[(w.name, name)]
            ok = [r for r in runs if "error" not in r]
            row = {"workload": w.name, "workload_title": w.title, "config": name, "kind": kind,
                   "group": group, "operations": w.n, "expected_events": w.expected,
                   "runs": len(ok), "attempts": len([r for r in runs if not r.get("skipped")]),
                   "raw": runs}
            errors = sorted({r["error"] for r in runs if "error" in r})
            if errors:
                row["errors"] = errors
            if ok:
                times = [r["time_s"] for r in ok]
                row.update(time_median_s=med(times), time_min_s=min(times), time_max_s=max(times))
                if bare:
                    row["slowdown"] = row["time_median_s"] / bare
                    row["slowdown_min"] = row["time_min_s"] / bare
                    row["slowdown_max"] = row["time_max_s"] / bare
                for key in ("delivered", "ready_s", "rss_mb", "events_per_s"):
                    v = med(r.get(key) for r in ok)
                    if v is not None:
                        row[key + ("_median" if key == "delivered" else "")] = v
                deliv = [r["delivered"] for r in ok if "delivered" in r]
                if deliv:
                    row["delivered_min"] = min(deliv)
                lost = [r["lost"] for r in ok if "lost" in r]
                if lost:
                    row["lost_max"] = max(lost)
                    row["lost_total"] = sum(lost)
                eps = [r["events_per_s"] for r in ok if "events_per_s" in r]
                if eps:
                    row["events_per_s_min"] = min(eps)
                    row["events_per_s_max"] = max(eps)
                for key in ("cpu_s", "client_cpu_s"):
                    v = med(r.get(key) for r in ok)
                    if v is not None:
                        row[key.replace("_s", "") + "_s_per_1M"] = v * 1e6 / w.n
                pf = [r["prefiltered"] for r in ok if "prefiltered" in r]
                if pf:
                    row["prefiltered_min"] = min(pf)
            rows.append(row)
    return rows


def fmt(v, spec, none="-"):
    return none if v is None else spec % v


def table(rows):
    head = ["workload", "config", "median s", "min–max s", "slowdown ×", "delivered", "lost",
            "daemon CPU s/1M", "client CPU s/1M", "ready s", "RSS MB"]
    lines = []
    for r in rows:
        if "time_median_s" not in r:
            reason = r.get("errors", ["no run"])[0]
            lines.append([r["workload"], r["config"], reason] + [""] * 8)
            continue
        delivered = "-"
        if "delivered_median" in r:
            delivered = "%d/%d" % (r["delivered_median"], r["expected_events"]) \
                if r["group"] == "delivered" else "%d" % r["delivered_median"]
        slow = fmt(r.get("slowdown"), "%.2f")
        if r["kind"] != "bare" and r.get("slowdown") is not None:
            slow += " (%.2f–%.2f)" % (r["slowdown_min"], r["slowdown_max"])
        extra = ""
        if r["runs"] < r["attempts"]:
            extra = " [%d of %d runs failed]" % (r["attempts"] - r["runs"], r["attempts"])
        lines.append([
            r["workload"], r["config"] + extra, "%.3f" % r["time_median_s"],
            "%.3f–%.3f" % (r["time_min_s"], r["time_max_s"]), slow, delivered,
            fmt(r.get("lost_max"), "%d"), fmt(r.get("cpu_s_per_1M"), "%.2f"),
            fmt(r.get("client_cpu_s_per_1M"), "%.2f"), fmt(r.get("ready_s"), "%.2f"),
            fmt(r.get("rss_mb"), "%.1f")])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def targets(rows, tp_target):
    """bpfd against each peer of the same workload and group."""
    verdicts = []
    by = {}
    for r in rows:
        by.setdefault((r["workload"], r["group"]), []).append(r)
    for (wl, group), rs in by.items():
        if group is None:
            continue
        mine = [r for r in rs if r["kind"] == "bpfd"]
        if not mine:
            continue
        m = mine[0]
        for p in rs:
            if p["kind"].startswith("bpfd"):
                continue
            what = "%s %s: bpfd vs %s" % (wl, group, p["config"])
            if "slowdown" not in p:
                verdicts.append((what, None, "peer did not run: %s" % p.get("errors", ["?"])[0]))
                continue
            if "slowdown" not in m:
                verdicts.append((what, False, "bpfd did not run: %s" % m.get("errors", ["?"])[0]))
                continue
            ok = m["slowdown"] <= p["slowdown"]
            note = "slowdown %.2f× vs %.2f×" % (m["slowdown"], p["slowdown"])
            if p.get("lost_max") == 0:
                ok = ok and m.get("lost_max") == 0
                note += "; lost %s vs 0" % m.get("lost_max")
            if group == "delivered":
                note += "; delivered %s vs %s of %d" % (
                    fmt(m.get("delivered_min"), "%d"), fmt(p.get("delivered_min"), "%d"),
                    m["expected_events"])
            verdicts.append((what, ok, note))
    for r in rows:
        if r["workload"] == "throughput" and r["kind"].startswith("bpfd"):
            eps = r.get("events_per_s")
            ok = eps is not None and eps >= tp_target and r.get("lost_max") == 0
            what = "throughput, %s: ≥ %s events/s end to end, 0 lost" % (
                r["config"], f"{tp_target:,}")
            verdicts.append((what, ok,
                             "%s events/s (min %s, max %s), lost %s" % (
                                 fmt(eps, "%.0f"), fmt(r.get("events_per_s_min"), "%.0f"),
                                 fmt(r.get("events_per_s_max"), "%.0f"), r.get("lost_max"))))
    return verdicts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--open-n", type=int, default=1000000, help="open()/close() pairs")
    ap.add_argument("--exec-n", type=int, default=20000, help="exec()s of /bin/true")
    ap.add_argument("--bash-n", type=int, default=20000, help="lines typed into bash")
    ap.add_argument("--tp-n", type=int, default=1000000,
                    help="throughput case: open()/close() pairs over all producers")
    ap.add_argument("--producers", type=int, default=3)
    ap.add_argument("--only", default="open,exec,bash,throughput",
                    help="comma-separated workloads to run")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: tiny workloads, one run (the table's numbers mean little)")
    ap.add_argument("--json-out", help="write every run and the summary here")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
        args.open_n, args.exec_n, args.bash_n, args.tp_n = 20000, 200, 200, 30000
    args.only = set(args.only.split(","))
    if os.geteuid() != 0:
        sys.exit("bench/compare.py: needs root (it loads BPF programs)")
    for exe in ("bpfd", "bench/openloop", "bench/execloop", "bench/readlineloop"):
        if not os.access(os.path.join(args.build, exe), os.X_OK):
            sys.exit("bench/compare.py: %s/%s missing: run scripts/build first" % (args.build, exe))
    if shutil.which("bpftrace") is None:
        sys.exit("bench/compare.py: bpftrace missing: run scripts/setup")

    # SIGTERM (a test's timeout) ends the run through the finally blocks,
    # which stop every tool started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench/compare.py: terminated"))
    h = Harness(args)
    workloads = plan(h, args)
    results = {(w.name, c[0]): [] for w, cs in workloads for c in cs}
    t_start = time.monotonic()
    try:
        for rnd in range(args.runs):
            for w, configs in workloads:
                for name, kind, group, fn in configs:
                    t = time.monotonic()
                    try:
                        res = fn()
                    except Exception as e:  # one failed run is a result, not the end
                        res = {"error": "%s: %s" % (type(e).__name__, e)}
                    res["round"] = rnd
                    results[(w.name, name)].append(res)
                    print("round %d/%d %-10s %-58s %s (%.1f s)" % (
                        rnd + 1, args.runs, w.name, name,
                        "%.3f s" % res["time_s"] if "time_s" in res else res["error"][:80],
                        time.monotonic() - t), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(h.tmp, ignore_errors=True)
        shutil.rmtree(h.shm, ignore_errors=True)

    rows = summarize(workloads, results)
    verdicts = targets(rows, 200000)
    print(table(rows))
    print()
    for what, ok, note in verdicts:
        print("- %s: %s (%s)" % (what, {True: "met", False: "NOT met", None: "no peer"}[ok], note))
    total = time.monotonic() - t_start
    print("\n%d runs per configuration, %.0f s in all; kernel %s, %d CPUs" % (
        args.runs, total, os.uname().release, os.cpu_count()))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": {k: (sorted(v) if isinstance(v, set) else v)
                                for k, v in vars(args).items()},
                       "kernel": os.uname().release, "cpus": os.cpu_count(),
                       "seconds": total, "rows": rows,
                       "targets": [{"what": a, "met": b, "note": c} for a, b, c in verdicts]},
                      f, indent=1)


if __name__ == "__main__":
    main()
