#!/usr/bin/env python3
"""What `meson install` ships: the tree it installs, the systemd unit
(`systemd-analyze verify`, and the daemon's Type=notify readiness), the man
page (it says what `bpfd help` says), and bash completion."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, Daemon, require_root, run_tests

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.path.dirname(os.path.abspath(BPFD))
STAGE = None


def installed(path):
    return os.path.join(STAGE, path.lstrip("/"))


def test_install_tree():
    global STAGE
    STAGE = tempfile.mkdtemp(prefix="bpfd-stage-")
    env = dict(os.environ, DESTDIR=STAGE)
    r = subprocess.run(["meson", "install", "-C", BUILD, "--quiet", "--no-rebuild"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    prefix = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], capture_output=True,
                            text=True, check=True).stdout
    prefix = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix).group(1)
    want = [prefix + "/sbin/bpfd", prefix + "/share/man/man8/bpfd.8",
            prefix + "/share/bash-completion/completions/bpfd",
            prefix + "/share/doc/bpfd/README.md", prefix + "/share/doc/bpfd/actions.md",
            "/etc/bpfd/bpfd.conf", "/etc/bpfd/rules/lists.toml",
            "/etc/bpfd/rules/credential_access.toml", "/etc/bpfd/rules/persistence.toml",
            prefix + "/share/doc/bpfd/examples/rules/password_files.toml",
            prefix + "/share/doc/bpfd/detections.md"]
    unit = [p for p in ("/lib/systemd/system/bpfd.service", "/usr/lib/systemd/system/bpfd.service")
            if os.path.exists(installed(p))]
    assert unit, "no unit installed"
    for p in want:
        assert os.path.exists(installed(p)), "not installed: " + p
    assert os.access(installed(prefix + "/sbin/bpfd"), os.X_OK)
    # The installed config and rules are valid as they are.
    r = subprocess.run([BPFD, "check", "--config", installed("/etc/bpfd/bpfd.conf")]
                       + [os.path.join(installed("/etc/bpfd/rules"), f)
                          for f in sorted(os.listdir(installed("/etc/bpfd/rules")))],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # Nothing from the tests or benchmarks is installed.
    for dirpath, _, files in os.walk(STAGE):
        for f in files:
            assert not f.startswith(("unit.", "bench_", "openloop", "shocker")), f


def test_unit_verifies():
    if not shutil.which("systemd-analyze"):
        raise AssertionError("systemd-analyze missing (scripts/setup installs systemd)")
    unit = [installed(p) for p in ("/lib/systemd/system/bpfd.service",
                                   "/usr/lib/systemd/system/bpfd.service")
            if os.path.exists(installed(p))][0]
    text = open(unit).read()
    for line in ("Type=notify", "Restart=on-failure", "RuntimeDirectory=bpfd",
                 "ExecReload=/bin/kill -HUP $MAINPID"):
        assert line in text, line
    # --keep: a crash leaves the programs recording (docs/architecture.md, "Keeping the programs").
    exec_start = re.search(r"^ExecStart=(\S+) daemon --keep$", text, re.M)
    assert exec_start, text
    # Verified as installed, with ExecStart pointing into the staging tree
    # (verify checks that the program exists; it is not installed on this host).
    staged = os.path.join(tempfile.mkdtemp(), "bpfd.service")
    with open(staged, "w") as f:
        f.write(text.replace(exec_start.group(1), installed(exec_start.group(1))))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", staged], capture_output=True,
                       text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr


def test_type_notify_readiness():
    """The daemon tells $NOTIFY_SOCKET READY=1 once its tracers are attached."""
    tmp = tempfile.mkdtemp(prefix="bpfd-notify-")
    path = os.path.join(tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    os.environ["NOTIFY_SOCKET"] = path
    d = Daemon("--tracers", "exec", tmpdir=tmp)
    try:
        d.start(wait=False)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        msg = sock.recv(4096).decode()
        assert msg.startswith("READY=1"), msg
        assert "ready:" in d.stderr(), "READY=1 came before the tracers were attached"
        d.proc.send_signal(signal.SIGHUP)
        assert sock.recv(4096).decode() == "RELOADING=1"
        assert sock.recv(4096).decode() == "READY=1"
        d.stop()
        assert sock.recv(4096).decode() == "STOPPING=1"
    finally:
        d.cleanup()
        sock.close()


def man_text():
    """The man page's words, roff escapes and font changes removed."""
    text = open(os.path.join(ROOT, "docs", "bpfd.8")).read()
    text = re.sub(r"\\f[BIRP]", "", text).replace("\\-", "-").replace('"', "")
    text = re.sub(r"^\.[A-Z]{1,2} ?", "", text, flags=re.M)
    return re.sub(r"\s+", " ", text)


def test_man_page_says_what_help_says():
    man = man_text()
    top = subprocess.run([BPFD, "help"], capture_output=True, text=True, check=True).stdout
    commands = re.findall(r"^  (\w+)\s+(.+)$", top.split("Commands:")[1].split("Options:")[0], re.M)
    assert len(commands) >= 11, commands
    for name, summary in commands:
        assert summary.strip() in man, "man page lacks the summary of %s: %s" % (name, summary)
        helptext = subprocess.run([BPFD, "help", name], capture_output=True, text=True,
                                  check=True).stdout
        # -h says the same as help COMMAND.
        assert helptext == subprocess.run([BPFD, name, "-h"], capture_output=True,
                                          text=True).stdout
        for opt, desc in re.findall(r"^\s+(?:-\w, )?(--[\w-]+)(?: [A-Z]+)?\s+(.+)$", helptext, re.M):
            assert opt in man, "man page lacks %s (%s)" % (opt, name)
            assert desc.strip() in man, "man page lacks the help of %s: %s" % (opt, desc)
    for word in ("SIGHUP", "SIGTERM", "SIGINT", "/etc/bpfd/bpfd.conf", "/etc/bpfd/rules",
                 "/run/bpfd/bpfd.sock", "EXIT STATUS", "NOTIFY_SOCKET"):
        assert word in man, word


def test_bash_completion():
    script = """
source %s
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _bpfd; echo "${COMPREPLY[*]}"; }
comp bpfd ""
comp bpfd tr
comp bpfd trace --
comp bpfd trace --tracer ""
comp bpfd daemon --tr
""" % os.path.join(ROOT, "completions", "bpfd")
    env = dict(os.environ, PATH=BUILD + ":" + os.environ["PATH"])
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                         check=True).stdout.splitlines()
    assert set(out[0].split()) >= {"daemon", "create", "rm", "ls", "check", "trace", "status",
                                   "tracers", "version", "help"}, out[0]
    assert out[1].split() == ["trace", "tracers"], out[1]
    assert {"--json", "--tracer", "--rule", "--container"} <= set(out[2].split()), out[2]
    assert out[3].split() == ["exec", "open", "bashreadline", "dockeropenbreakout", "tcpconnect",
                             "tcpaccept", "tcpdrop", "chmod", "filechange"], out[3]
    assert out[4].split() == ["--tracers", "--tracers-dir"], out[4]


def test_bash_completion_rule_names():
    tmp = tempfile.mkdtemp(prefix="bpfd-comp-")
    os.mkdir(os.path.join(tmp, "rules"))
    with open(os.path.join(tmp, "rules", "watch_passwd.toml"), "w") as f:
        f.write('tracer = "open"\n[filterEvents.filename]\nvalues = ["/etc/passwd"]\n')
    d = Daemon("--tracers", "open", tmpdir=tmp)
    d.start()
    try:
        script = """
source %s
COMP_WORDS=(bpfd -s %s rm w); COMP_CWORD=4; _bpfd; echo "${COMPREPLY[*]}"
""" % (os.path.join(ROOT, "completions", "bpfd"), d.socket)
        env = dict(os.environ, PATH=BUILD + ":" + os.environ["PATH"])
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                             check=True).stdout.strip()
        assert out == "watch_passwd", out
    finally:
        d.cleanup()


def main():
    require_root()
    try:
        return run_tests([
            test_install_tree,
            test_unit_verifies,
            test_type_notify_readiness,
            test_man_page_says_what_help_says,
            test_bash_completion,
            test_bash_completion_rule_names,
        ])
    finally:
        if STAGE:
            shutil.rmtree(STAGE, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
