#!/usr/bin/env python3
"""What tracers declare for themselves (tracer_ops in tracer.h), seen from
outside: an option a tracer declares (bashreadline's `bash`) reaches it
from the config's [daemon] section and from the command line, which wins,
through the loader process; the tracer's own `status` object is there,
with its zeroes, when the tracer does not run; bad values are refused with
a message naming them, and the daemon keeps running."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bpfdtest import BPFD, Daemon, require_root, run_tests  # noqa: E402

# The keys and order of `bash_probes` in docs/protocol.md.
BASH_PROBES_KEYS = ["attached", "attached_total", "released", "failures", "timeouts", "refused",
                    "dropped", "namespaces", "probers", "users"]


def write_config(where, text):
    """A config file in @where: a Daemon's directory, or a directory."""
    path = os.path.join(getattr(where, "tmp", where), "bpfd.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def tracer(st, name):
    return {t["name"]: t for t in st["tracers"]}[name]


def test_option_from_config_and_command_line():
    # Paths that do not exist: the tracer fails alone, naming the path it
    # was given, before any compiling, so each daemon starts quickly.
    d = Daemon()
    conf = write_config(d, "[daemon]\nbash = /nonexistent-from-config/bash\n")
    d.args = ["--config", conf, "--tracers", "exec,bashreadline"]
    try:
        d.start()
        st = d.status()
        bash = tracer(st, "bashreadline")
        assert bash["state"] == "failed", bash
        assert bash["error"].startswith("/nonexistent-from-config/bash: "), bash
        assert tracer(st, "exec")["state"] == "loaded", st["tracers"]
        # Its status object, although it does not run: zeroes, as documented.
        b = st["bash_probes"]
        assert list(b.keys()) == BASH_PROBES_KEYS, b
        assert all(b[k] == 0 for k in BASH_PROBES_KEYS[:-1]) and b["users"] == {}, b
        # Where the status documents it: after cgroup_cache, before kernel_maps.
        keys = list(st.keys())
        assert keys.index("bash_probes") == keys.index("cgroup_cache") + 1, keys
        assert keys.index("kernel_maps") == keys.index("bash_probes") + 1, keys
    finally:
        d.cleanup()

    d = Daemon()
    conf = write_config(d, "[daemon]\nbash = /nonexistent-from-config/bash\n")
    d.args = ["--config", conf, "--tracers", "exec,bashreadline",
              "--bash", "/nonexistent-from-cli/bash"]
    try:
        d.start()
        bash = tracer(d.status(), "bashreadline")
        assert bash["error"].startswith("/nonexistent-from-cli/bash: "), bash
    finally:
        d.cleanup()


def test_bad_options_refused_by_name():
    d = tempfile.mkdtemp(prefix="hooks-")
    # Unknown as an option of `daemon`; a tracer option's value missing.
    r = subprocess.run([BPFD, "daemon", "--bashh", "/x"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "unknown option '--bashh' for daemon" in r.stderr, r
    r = subprocess.run([BPFD, "daemon", "--bash"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "option '--bash' needs a value (PATH)" in r.stderr, r
    # Only `daemon` takes the tracers' options.
    r = subprocess.run([BPFD, "status", "--bash", "/x"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "unknown option '--bash' for status" in r.stderr, r
    # The config: the tracer's key is known, a misspelt one is named.
    good = write_config(d, "[daemon]\nbash = /usr/bin/bash\n")
    r = subprocess.run([BPFD, "check", "--config", good], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r
    bad = write_config(d, "[daemon]\nbsh = /usr/bin/bash\n")
    r = subprocess.run([BPFD, "check", "--config", bad], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and 'unknown key "bsh" in [daemon]' in r.stderr, r
    assert "tracers, bash, cgroup_hierarchy" in r.stderr, r
    # `bpfd daemon --help` shows the option as it always did.
    r = subprocess.run([BPFD, "daemon", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert "--bash PATH            bash binary for bashreadline (default /bin/bash)" \
        in r.stdout, r.stdout


def main():
    require_root()
    return run_tests([
        test_option_from_config_and_command_line,
        test_bad_options_refused_by_name,
    ])


if __name__ == "__main__":
    sys.exit(main())
