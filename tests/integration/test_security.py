#!/usr/bin/env python3
"""Who may use the control socket: its mode and group, read-only ops for the
socket's group, rule changes only for root and the config's admins, explicit
and logged refusals. Clients run as `nobody` through setpriv."""
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, Daemon, require_root, run_tests, unique

GROUP = "bpfdit" + unique("")[:6]
NOBODY = 65534
D = None
CONF = None
GID = None

RULE = 'name = "%s"\ntracer = "exec"\nactions = []\n[filterEvents.command]\nvalues = ["x"]\n'


def write_conf(extra=""):
    with open(CONF + ".tmp", "w") as f:
        f.write("[daemon]\nsocket_group = %s\nsocket_mode = 0666\n%s" % (GROUP, extra))
    os.rename(CONF + ".tmp", CONF)


def as_nobody(*args, groups=(), stdin=None):
    """bpfd ARGS run as uid/gid nobody with @groups as supplementary groups."""
    cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY]
    cmd += ["--groups=" + ",".join(str(g) for g in groups)] if groups else ["--clear-groups"]
    cmd += [BPFD, "-s", D.socket] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=30)


def setup():
    global D, CONF, GID
    subprocess.run(["groupadd", GROUP], check=True)
    GID = int(subprocess.run(["getent", "group", GROUP], capture_output=True, text=True,
                             check=True).stdout.split(":")[2])
    tmp = tempfile.mkdtemp(prefix="bpfd-sec-")
    os.chmod(tmp, 0o755)  # nobody must reach the socket inside
    CONF = os.path.join(tmp, "bpfd.conf")
    write_conf()
    D = Daemon("--tracers", "exec", "--config", CONF, tmpdir=tmp)
    D.start()


def test_socket_mode_and_group():
    st = os.stat(D.socket)
    assert stat.S_IMODE(st.st_mode) == 0o666, oct(st.st_mode)
    assert st.st_gid == GID, (st.st_gid, GID)


def test_outsider_refused_everything():
    r = as_nobody("status")
    assert r.returncode == 1, r
    assert "permission denied: op 'status'" in r.stderr, r.stderr
    assert "you are uid %d" % NOBODY in r.stderr, r.stderr
    assert "refused op status from uid %d" % NOBODY in D.stderr(), D.stderr()[-2000:]


def test_group_reads_but_cannot_change():
    r = as_nobody("status", "--json", groups=[GID])
    assert r.returncode == 0, r
    assert json.loads(r.stdout)["ok"] is True
    assert as_nobody("ls", groups=[GID]).returncode == 0
    assert as_nobody("tracers", groups=[GID]).returncode == 0
    # trace is read-only: it subscribes (then we stop it).
    p = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                          "--groups=%d" % GID, BPFD, "-s", D.socket, "trace", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while not D.status()["subscribers"]:
        assert p.poll() is None, p.stderr.read()
        assert time.time() < deadline, "the group member's trace never subscribed"
        time.sleep(0.05)
    p.terminate()
    p.wait()
    name = unique("sec")
    r = as_nobody("create", "-", groups=[GID], stdin=RULE % name)
    assert r.returncode == 1, r
    assert "permission denied: op 'create_rule' changes the daemon" in r.stderr, r.stderr
    r = as_nobody("rm", "anything", groups=[GID])
    assert r.returncode == 1 and "permission denied: op 'remove_rule'" in r.stderr, r
    assert name not in D.cli("ls").stdout


def test_admin_users_may_change_rules():
    write_conf("admin_users = nobody\n")
    before = D.stderr().count("reloaded")
    D.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while D.stderr().count("reloaded") == before:
        assert time.time() < deadline, "no reload"
        time.sleep(0.05)
    name = unique("adm")
    r = as_nobody("create", "-", stdin=RULE % name)
    assert r.returncode == 0, r
    assert name in D.cli("ls").stdout
    assert as_nobody("rm", name).returncode == 0


def main():
    require_root()
    if subprocess.run(["which", "setpriv"], capture_output=True).returncode != 0:
        print("SKIP: setpriv (util-linux) missing")
        return 77
    setup()
    try:
        return run_tests([
            test_socket_mode_and_group,
            test_outsider_refused_everything,
            test_group_reads_but_cannot_change,
            test_admin_users_may_change_rules,
        ])
    finally:
        D.cleanup()
        subprocess.run(["groupdel", GROUP])


if __name__ == "__main__":
    sys.exit(main())
