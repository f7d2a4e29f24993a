#!/usr/bin/env python3
"""The daemon under valgrind for a start / trace / rule change / stop cycle,
with a drop-in tracer and one refused beside the built-ins (chmod among them,
decoded from its description):
no invalid accesses, no uses of uninitialised memory, no leaks, in bpfd's
own code (tests/valgrind.supp explains the one suppression). The BCC
compile runs in the loader process, which valgrind does not follow."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, require_root, run_tests

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TMP = None


def test_start_trace_rules_stop_clean():
    sock = os.path.join(TMP, "bpfd.sock")
    log = os.path.join(TMP, "valgrind.log")
    err = open(os.path.join(TMP, "daemon.err"), "w+")
    # A drop-in tracer (its description, its decoder) and one refused for its description.
    td = os.path.join(TMP, "tracers.d")
    os.mkdir(td, 0o755)
    for f in ("nschange.toml", "nschange.bpf.c"):
        shutil.copy(os.path.join(ROOT, "examples", "tracers", f), td)
    with open(os.path.join(td, "wrong.toml"), "w") as f:
        f.write('[[hook]]\ntracepoint = "syscalls:sys_exit_setns"\n[[field]]\nname = "x"\n')
    with open(os.path.join(td, "wrong.bpf.c"), "w") as f:
        f.write("\n")
    for f in os.listdir(td):
        os.chmod(os.path.join(td, f), 0o644)
    d = subprocess.Popen(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                          "--errors-for-leak-kinds=definite,indirect,possible",
                          "--suppressions=" + os.path.join(ROOT, "tests", "valgrind.supp"),
                          "--log-file=" + log, BPFD, "daemon", "-s", sock, "--rules-dir",
                          os.path.join(TMP, "rules"), "--tracers", "exec,open,chmod,nschange,wrong",
                          "--tracers-dir", td],
                         stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.time() + 240
        while "ready:" not in open(err.name).read():
            assert d.poll() is None, open(err.name).read()
            assert time.time() < deadline, "not ready under valgrind"
            time.sleep(0.2)

        def cli(*args, **kw):
            return subprocess.run([BPFD, "-s", sock] + list(args), capture_output=True, text=True,
                                  timeout=60, **kw)

        trace = subprocess.Popen([BPFD, "-s", sock, "trace", "--json"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
        time.sleep(1)
        rule = ('name = "vg"\ntracer = "open"\nactions = ["stdout"]\n'
                '[filterEvents.filename]\nvalues = ["/etc/hostname"]\n')
        assert cli("create", "-", input=rule).returncode == 0
        subprocess.run(["cat", "/etc/hostname"], capture_output=True, check=True)
        assert "vg" in cli("ls").stdout
        assert cli("rm", "vg").returncode == 0
        assert cli("status").returncode == 0
        subprocess.run(["ls", "/etc"], capture_output=True, check=True)
        # The drop-in's events and chmod's, decoded from their descriptions (the open
        # tracer's flood may cost some: retried).
        target = os.path.join(TMP, "mode")
        open(target, "w").close()
        deadline = time.time() + 60
        while True:
            subprocess.run(["unshare", "-U", "true"], check=True)
            subprocess.run(["chmod", "4755", "sub/../mode"], cwd=TMP, capture_output=True)
            os.chmod(target, 0o644)
            st = json.loads(cli("status", "--json").stdout)
            if all(any(t["name"] == n and t["events"] for t in st["tracers"])
                   for n in ("nschange", "chmod")):
                break
            assert time.time() < deadline, "no drop-in or chmod event under valgrind: %s" % st["tracers"]
            time.sleep(0.5)
        time.sleep(1)
        trace.terminate()
        out = trace.communicate(timeout=30)[0]
        assert out.count(b"\n") > 0, "no events under valgrind"
        d.terminate()
        d.wait(120)
        text = open(log).read()
        summary = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        assert summary, text[-3000:]
        assert summary.group(1) == "0", text[-6000:]
        for kind in ("definitely lost", "indirectly lost", "possibly lost"):
            m = re.search(kind + r": ([\d,]+) bytes", text)
            assert not m or m.group(1) == "0", text[-6000:]

    finally:
        # A failed check leaves no daemon behind.
        if d.poll() is None:
            d.kill()
            d.wait()


def main():
    global TMP
    require_root()
    if os.environ.get("BPFD_SANITIZED"):
        print("SKIP: valgrind cannot run a binary built with AddressSanitizer")
        return 77
    if not shutil.which("valgrind"):
        print("SKIP: valgrind is not installed (scripts/setup installs it)")
        return 77
    TMP = tempfile.mkdtemp(prefix="bpfd-vg-")
    try:
        return run_tests([test_start_trace_rules_stop_clean])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
