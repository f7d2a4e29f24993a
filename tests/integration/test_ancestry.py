#!/usr/bin/env python3
"""Process ancestry (issue 19): every event's `exe` and `ancestors` from the
daemon's process table, fed by the kernel's fork, exec and exit records and
seeded from /proc.

A chain of four whose middle process exited before the last one ran; a
process started before the daemon; a double fork; the example rule on a
web server's shell and a rule on any ancestor, matching and not; processes
that lie about their name; and an unprivileged user's fork storm, which
must neither grow the table past its bound nor cost anyone else's events.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bpfdtest import Daemon, Trace, make_program, require_root, run_tests, unique

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
D = None
T = None
WORK = None          # a directory every user may read
PRE = None           # the process started before the daemon
PRE_NAMES = None     # its (shell, child) programs
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
TABLE_SIZE = 1024    # process_table_size in this module's config: the bound the storm meets

# Every test program is a copy named "anc" + something: this rule streams
# their execs (the exec tracer has rules here, so only matched events are sent).
ANC_RULE = """tracer = "exec"
actions = []
[filterEvents.command]
values = ["anc*"]
"""

# Every shell, so that the ones the example rule must not match are seen.
SHELLS_RULE = """tracer = "exec"
actions = []
[filterEvents.command]
values = ["sh", "bash"]
"""

# Any ancestor named like the test's "server" program, and a shell.
ANY_ANCESTOR_RULE = """tracer = "exec"
actions = []
[filterEvents.ancestor_command]
values = ["ancsrv*"]
[filterEvents.command]
values = ["ancleafany"]
"""


def prog(name, source="/bin/sh"):
    return make_program(WORK, name, source)


def execs_of(command):
    return lambda e: e["tracer"] == "exec" and e["command"] == command


def chain(ev):
    return [(a["pid"], a["command"]) for a in ev["ancestors"]]


def test_chain_with_exited_middle():
    """top -> mid -> sub -> leaf: mid starts sub in the background and exits;
    sub waits, checks it was reparented (mid is gone), then runs leaf. The
    leaf's event still names mid, with its exe."""
    tag = unique("")[:6]
    top, mid, sub = prog("anctop" + tag), prog("ancmid" + tag), prog("ancsub" + tag)
    leaf = prog("ancleaf" + tag, "/bin/true")
    stat = os.path.join(WORK, "stat" + tag)
    script = ('%s -c \'%s -c "sleep 0.5; cat /proc/\\$\\$/stat > %s; %s; true" & exit 0\'; '
              'sleep 1.5; true') % (mid, sub, stat, leaf)
    subprocess.run([top, "-c", script], check=True, timeout=20)
    ev_leaf = T.wait_for(execs_of(os.path.basename(leaf)), what="exec of the leaf")
    ev_mid = T.wait_for(execs_of(os.path.basename(mid)), what="exec of mid")
    ev_sub = T.wait_for(execs_of(os.path.basename(sub)), what="exec of sub")
    ev_top = T.wait_for(execs_of(os.path.basename(top)), what="exec of top")
    # sub was reparented before leaf ran: mid had exited.
    with open(stat) as f:
        sub_ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    assert sub_ppid != ev_mid["pid"], "mid had not exited before leaf ran"
    want = [(ev_sub["pid"], os.path.basename(sub)), (ev_mid["pid"], os.path.basename(mid)),
            (ev_top["pid"], os.path.basename(top))]
    assert chain(ev_leaf)[:3] == want, chain(ev_leaf)
    assert len(ev_leaf["ancestors"]) == 4, ev_leaf["ancestors"]  # the default depth
    assert ev_leaf["exe"] == leaf, ev_leaf
    assert ev_leaf["ancestors"][1]["exe"] == mid, ev_leaf["ancestors"][1]
    # argv as the process has it (the shell's own, cut at 256 bytes).
    assert ev_leaf["ancestors"][0]["argv"].startswith(sub + " -c sleep 0.5"), \
        ev_leaf["ancestors"][0]
    assert ev_leaf["ancestors"][2]["exe"] == top


def test_process_started_before_daemon():
    """A shell started before the daemon (from /proc at start) runs a child now."""
    shell, child = PRE_NAMES
    PRE.stdin.write(b"go\n")
    PRE.stdin.flush()
    ev = T.wait_for(execs_of(os.path.basename(child)), what="exec of the pre-started shell's child")
    assert ev["ancestors"][0]["pid"] == PRE.pid, ev["ancestors"]
    assert ev["ancestors"][0]["command"] == os.path.basename(shell), ev["ancestors"]
    assert ev["ancestors"][0]["exe"] == shell, ev["ancestors"]
    assert ev["ancestors"][1]["pid"] == os.getpid(), ev["ancestors"]
    assert ev["ancestors"][1]["exe"] == os.path.realpath(sys.executable), ev["ancestors"]
    PRE.wait(10)


def test_double_fork():
    """top forks a subshell that forks dbl and exits at once (a daemon's
    double fork): dbl's child names dbl, the gone subshell, then top."""
    tag = unique("")[:6]
    top, dbl = prog("anctop2" + tag), prog("ancdbl" + tag)
    leaf = prog("ancdleaf" + tag, "/bin/true")
    subprocess.run([top, "-c", '( %s -c "sleep 0.3; %s; true" & ) ; sleep 1; true' % (dbl, leaf)],
                   check=True, timeout=20)
    ev = T.wait_for(execs_of(os.path.basename(leaf)), what="exec of the double-forked leaf")
    ev_top = T.wait_for(execs_of(os.path.basename(top)), what="exec of top")
    ev_dbl = T.wait_for(execs_of(os.path.basename(dbl)), what="exec of dbl")
    a = ev["ancestors"]
    assert a[0]["pid"] == ev_dbl["pid"] and a[0]["command"] == os.path.basename(dbl), a
    # The subshell: a fork of top that never exec'd, top's program and name.
    assert a[1]["pid"] not in (ev_top["pid"], ev_dbl["pid"]), a
    assert a[1]["command"] == os.path.basename(top) and a[1]["exe"] == top, a
    assert a[2]["pid"] == ev_top["pid"], a
    # dbl's own parent is the subshell too, even when the kernel already
    # reparented it (the subshell exits at once: ppid is then 1).
    assert ev_dbl["ancestors"][0]["pid"] == a[1]["pid"], (ev_dbl, a)
    assert ev_dbl["ppid"] in (1, a[1]["pid"]), ev_dbl


def test_web_server_shell_rule():
    """The example rule: a shell whose parent is called nginx matches; the same
    shell under another parent, or nginx's grandchild shell, does not."""
    marker = unique("ws")
    os.makedirs(os.path.join(WORK, "srv"), exist_ok=True)
    nginx = make_program(os.path.join(WORK, "srv"), "nginx", "/bin/sh")
    other = prog("ancnotweb" + marker[-4:])
    sh_ok = 'sh -c "true %s-yes"; true' % marker
    subprocess.run([nginx, "-c", sh_ok], check=True, timeout=20)
    subprocess.run([other, "-c", 'sh -c "true %s-no"; true' % marker], check=True, timeout=20)
    # Grandchild: nginx -> bash -> sh.
    subprocess.run([nginx, "-c", 'bash -c \'sh -c "true %s-grand"; true\'; true' % marker],
                   check=True, timeout=20)
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["command"] == "sh"
                    and marker + "-yes" in e["data"].get("argv", ""), what="shell under nginx")
    assert "web_server_shell" in ev["rules"], ev["rules"]
    assert ev["ancestors"][0]["command"] == "nginx", ev["ancestors"]
    for suffix, parent in (("-no", os.path.basename(other)), ("-grand", "bash")):
        ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["command"] == "sh" and
                        marker + suffix in e["data"].get("argv", ""), what="shell " + suffix)
        assert ev["ancestors"][0]["command"] == parent, ev["ancestors"]
        assert "web_server_shell" not in ev["rules"] and "shells" in ev["rules"], ev["rules"]


def test_any_ancestor_rule():
    """ancestor_command: the named program anywhere up the chain, not only the parent."""
    tag = unique("")[:6]
    srv = prog("ancsrv" + tag)
    nosrv = prog("ancnos" + tag)
    os.makedirs(os.path.join(WORK, "any"), exist_ok=True)
    leaf = make_program(os.path.join(WORK, "any"), "ancleafany", "/bin/true")
    subprocess.run([srv, "-c", "sh -c '%s; true'; true" % leaf], check=True, timeout=20)
    ev = T.wait_for(lambda e: execs_of("ancleafany")(e) and "any_ancestor" in e["rules"],
                    what="leaf under the server")
    assert ev["ancestors"][0]["command"] == "sh", ev["ancestors"]
    assert ev["ancestors"][1]["command"] == os.path.basename(srv), ev["ancestors"]
    subprocess.run([nosrv, "-c", "sh -c '%s; true'; true" % leaf], check=True, timeout=20)
    ev_no = T.wait_for(lambda e: execs_of("ancleafany")(e) and e["ancestors"][1]["command"]
                       == os.path.basename(nosrv), what="leaf under another parent")
    assert "any_ancestor" not in ev_no["rules"], ev_no["rules"]


def test_liars_are_named_by_the_kernel():
    """A parent that calls itself nginx in argv[0] (exec -a) and then in its comm
    (/proc/self/comm) is still named by its exec: comm "dash", exe /usr/bin/dash,
    argv as it has it; the web-server rule does not believe it."""
    marker = unique("lie")
    leaf = prog("ancliar" + marker[-4:], "/bin/true")
    script = ("printf nginx > /proc/self/comm; sh -c 'true %s'; %s; true" % (marker, leaf))
    subprocess.run(["bash", "-c", "exec -a nginx /usr/bin/dash -c \"%s\"" % script],
                   check=True, timeout=20)
    ev = T.wait_for(execs_of(os.path.basename(leaf)), what="exec of the liar's child")
    parent = ev["ancestors"][0]
    assert parent["exe"] == "/usr/bin/dash", parent
    assert parent["command"] == "dash", parent
    assert parent["argv"].startswith("nginx -c"), parent  # what the process has, marked so in docs
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["command"] == "sh" and
                    marker in e["data"].get("argv", ""), what="the liar's shell")
    assert ev["ancestors"][0]["command"] == "dash", ev["ancestors"]
    assert "web_server_shell" not in ev["rules"], ev["rules"]


def test_status_counts_the_table():
    st = D.status()["process_table"]
    assert st["enabled"] and st["ancestors"] == 4, st
    assert 0 < st["entries"] <= st["capacity"] == TABLE_SIZE, st
    assert st["seeded"] > 0 and st["forks"] > 0 and st["execs"] > 0 and st["exits"] > 0, st
    assert st["lost"] == 0, st


STORM = r"""
import os, sys, time
n_live, n_churn = int(sys.argv[1]), int(sys.argv[2])
deadline = time.time() + 20
kids = []
for i in range(n_live):
    pid = os.fork()
    if pid == 0:
        time.sleep(6)
        os._exit(0)
    kids.append(pid)
done = 0
for i in range(n_churn):
    if time.time() > deadline:
        break
    done += 1
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
for pid in kids:
    os.waitpid(pid, 0)
print("done", n_live + done)
"""


def test_unprivileged_fork_storm():
    """nobody keeps more live processes than the table holds and forks
    up to 20,000 more (20 s) that exit at once: the table stays at its bound (new ones
    are dropped and counted, never a live entry evicted), its memory stays
    bounded, and root's events meanwhile still arrive, named by their
    live parent."""
    before = D.status()["process_table"]
    script = os.path.join(WORK, "storm.py")
    with open(script, "w") as f:
        f.write(STORM)
    storm = subprocess.Popen(NOBODY + [sys.executable, script, str(TABLE_SIZE + 500), "20000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    leaf = prog("ancstorm" + unique("")[:6], "/bin/true")
    peak = before
    seen = 0
    try:
        deadline = time.time() + 40
        while storm.poll() is None and time.time() < deadline:
            subprocess.run([leaf], check=True)
            seen += 1
            st = D.status()["process_table"]
            assert st["entries"] <= st["capacity"], st
            if st["entries"] > peak["entries"] or st["bytes"] > peak["bytes"]:
                peak = st
            time.sleep(0.2)
        out, err = storm.communicate(timeout=30)
    finally:
        if storm.poll() is None:
            storm.kill()
    words = out.split()
    assert words[:1] == [b"done"], (out, err)
    forked = int(words[1])
    after = D.status()["process_table"]
    assert after["dropped"] > before["dropped"], after
    # Every fork of the storm reached the table, whatever the prefilters.
    assert after["forks"] - before["forks"] >= forked >= TABLE_SIZE + 5000, (forked, after)
    assert after["lost"] == 0, after
    # Entries are ~100 bytes plus what they run (shared): far below 1 KiB each at the bound.
    assert peak["bytes"] < TABLE_SIZE * 1024, peak
    # Root's leaf ran every round: each exec arrived, each names the test as an ancestor.
    evs = T.all(execs_of(os.path.basename(leaf)))
    assert len(evs) == seen, (len(evs), seen)
    for ev in evs:
        assert ev["ancestors"] and ev["ancestors"][0]["pid"] == os.getpid(), ev["ancestors"]
    # Once the storm is over its entries go: the table is not left full.
    time.sleep(0.5)
    final = D.status()["process_table"]
    assert final["entries"] < TABLE_SIZE - 500, final


def main():
    global D, T, WORK, PRE, PRE_NAMES
    require_root()
    WORK = tempfile.mkdtemp(prefix="bpfd-anc-")
    os.chmod(WORK, 0o755)
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules)
    shutil.copy(os.path.join(ROOT, "examples", "rules", "web_server_shell.toml"), rules)
    with open(os.path.join(rules, "anc.toml"), "w") as f:
        f.write(ANC_RULE)
    with open(os.path.join(rules, "shells.toml"), "w") as f:
        f.write(SHELLS_RULE)
    with open(os.path.join(rules, "any_ancestor.toml"), "w") as f:
        f.write(ANY_ANCESTOR_RULE)
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nprocess_table_size = %d\n" % TABLE_SIZE)
    tag = unique("")[:6]
    PRE_NAMES = (prog("ancpre" + tag), prog("ancprekid" + tag, "/bin/true"))
    PRE = subprocess.Popen([PRE_NAMES[0], "-c", "read x; %s; true" % PRE_NAMES[1]],
                           stdin=subprocess.PIPE)
    D = Daemon("--config", conf, "--tracers", "exec", tmpdir=tmp)
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_chain_with_exited_middle,
            test_process_started_before_daemon,
            test_double_fork,
            test_web_server_shell_rule,
            test_any_ancestor_rule,
            test_liars_are_named_by_the_kernel,
            test_status_counts_the_table,
            test_unprivileged_fork_storm,
        ])
    finally:
        if PRE.poll() is None:
            PRE.kill()
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
