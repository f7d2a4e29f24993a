#!/usr/bin/env python3
"""Rules against real events: the example rules, containerRuntimes and
container_id filters with real docker containers, create/ls/rm/check, the
watched rules directory (add, edit, break, delete) and trace --rule."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import (BPFD, Daemon, Docker, Trace, make_program, require_root, run_tests,
                      type_lines, unique)

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
D = None
T = None
DOCKER = None
RULES = None


def write_rule(name, text):
    path = os.path.join(RULES, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)  # one whole file, as an editor saves it
    return path


def rule_names():
    return [r["name"] for r in json.loads(D.cli("ls", "--json").stdout)["rules"]]


def wait_rules(pred, what, timeout=5):
    deadline = time.time() + timeout
    while True:
        names = rule_names()
        if pred(names):
            return names
        assert time.time() < deadline, "%s: rules are %s" % (what, names)
        time.sleep(0.05)


def test_example_rules_loaded():
    names = rule_names()
    for want in ("bashreadline", "password_files", "setuid_binaries"):
        assert want in names, names
    ls = D.cli("ls").stdout.splitlines()
    assert ls[0].split() == ["NAME", "TRACER", "PRIORITY", "ACTIONS", "TAGS"], ls[0]
    assert any(l.split()[:4] == ["password_files", "open", "warning", "stdout"] for l in ls), ls


def test_password_files_rule():
    subprocess.run(["cat", "/etc/shadow"], capture_output=True, check=True)
    other = os.path.join(D.tmp, unique("nf"))
    open(other, "w").close()
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == "/etc/shadow"
                    and e["command"] == "cat", what="open of /etc/shadow")
    assert "password_files" in ev["rules"], ev["rules"]
    time.sleep(0.3)
    # The open tracer has rules: an open no rule names is not streamed.
    assert not T.all(lambda e: e["tracer"] == "open" and e["data"]["filename"] == other)
    st = {t["name"]: t for t in D.status()["tracers"]}
    assert st["open"]["events"] > st["open"]["matched"], st["open"]


def test_reverse_shell_rule():
    """The example rule: a shell whose stdin is a socket matches; the same
    shell with a pipe as its stdin does not."""
    import socket
    a, b = socket.socketpair()
    try:
        marker = unique("rs")
        subprocess.run(["sh", "-c", "true " + marker], stdin=b, capture_output=True, check=True)
        subprocess.run(["sh", "-c", "true " + marker + "p"], stdin=subprocess.PIPE,
                       capture_output=True, check=True)
    finally:
        a.close()
        b.close()
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and marker in e["data"].get("argv", "")
                    and e["data"].get("stdin") == "socket", what="the shell on a socket")
    assert "reverse_shell" in ev["rules"], ev["rules"]
    time.sleep(0.3)
    assert not T.all(lambda e: e["tracer"] == "exec" and "reverse_shell" in e["rules"]
                     and marker + "p" in e["data"].get("argv", "")), "a pipe is not a socket"


def test_bashreadline_rule():
    line = "echo " + unique("rl")
    type_lines(["/bin/bash", "--norc", "--noprofile", "-i"], [line])
    ev = T.wait_for(lambda e: e["tracer"] == "bashreadline" and e["data"]["command"] == line)
    assert ev["rules"] == ["bashreadline"], ev["rules"]


def test_setuid_binaries_rule_docker_only():
    # On the host a "ping" is not matched (the rule wants docker or kube)...
    host_ping = make_program(D.tmp, "ping")
    subprocess.run([host_ping], check=True)
    # ...inside a docker container it is.
    DOCKER.run("--rm", Docker.IMAGE, "sh", "-c",
               "ln -s /bin/busybox /tmp/ping && /tmp/ping -c 1 -W 1 127.0.0.1", check=False)
    ev = T.wait_for(lambda e: e["tracer"] == "exec" and e["command"] == "ping"
                    and e["container_runtime"] == "docker", what="ping in a container")
    assert "setuid_binaries" in ev["rules"]
    assert not T.all(lambda e: e["tracer"] == "exec" and e["data"].get("filename") == host_ping)


def test_runtime_and_container_id_filters():
    word = unique("rt")
    prog = make_program(D.tmp, word)
    rule_docker = "tracer = 'exec'\nactions = []\ncontainerRuntimes = ['docker']\n" \
                  "[filterEvents.argv]\nvalues = ['* %s']\n" % word
    rule_host = "tracer = 'exec'\nactions = []\ncontainerRuntimes = ['not-found']\n" \
                "[filterEvents.filename]\nvalues = ['%s']\n" % prog
    for name, text in (("only_docker", rule_docker), ("only_host", rule_host)):
        r = subprocess.run([BPFD, "-s", D.socket, "create", "-"], input="name = '%s'\n%s" % (name, text),
                           capture_output=True, text=True)
        assert r.returncode == 0 and "created " + name in r.stdout, r
    subprocess.run([prog], check=True)
    keep = unique("kp")
    cid = DOCKER.run("-d", "--name", keep, Docker.IMAGE, "sleep", "30").stdout.strip()
    try:
        subprocess.run(["docker", "exec", keep, "echo", word], check=True, capture_output=True)
        host = T.wait_for(lambda e: e["data"].get("filename") == prog)
        assert host["rules"] == ["only_host"], host["rules"]
        inside = T.wait_for(lambda e: e["data"].get("argv") == "echo " + word)
        assert inside["rules"] == ["only_docker"] and inside["container_id"] == cid, inside
        # A filter on container_id: this container, not another one.
        text = "name = 'one_container'\ntracer = 'exec'\nactions = []\n" \
               "[filterEvents.container_id]\nvalues = ['%s']\n" % cid
        r = subprocess.run([BPFD, "-s", D.socket, "create", "-"], input=text,
                           capture_output=True, text=True)
        assert r.returncode == 0, r
        w2 = unique("c2")
        subprocess.run(["docker", "exec", keep, "echo", w2], check=True, capture_output=True)
        DOCKER.run("--rm", Docker.IMAGE, "echo", w2)
        ev = T.wait_for(lambda e: e["data"].get("argv") == "echo " + w2 and
                        "one_container" in e["rules"])
        assert ev["container_id"] == cid
        time.sleep(0.3)
        others = T.all(lambda e: e["data"].get("argv") == "echo " + w2 and e["container_id"] != cid)
        assert all("one_container" not in e["rules"] for e in others), others
    finally:
        subprocess.run(["docker", "rm", "-f", keep], capture_output=True)
        for name in ("only_docker", "only_host", "one_container"):
            D.cli("rm", name, check=False)


def test_create_ls_rm_round_trip():
    path = os.path.join(D.tmp, "roundtrip.toml")
    with open(path, "w") as f:
        f.write("tracer = 'open'\nactions = ['stdout']\n[filterEvents.filename]\n"
                "values = ['/nonexistent/roundtrip']\n")
    r = D.cli("create", path)
    assert "created roundtrip" in r.stdout, r.stdout
    assert "replaced roundtrip" in D.cli("create", path).stdout
    assert "roundtrip" in rule_names()
    r = D.cli("rm", "roundtrip", "nosuchrule", check=False)
    assert r.returncode == 1 and "no rule named 'nosuchrule'" in r.stderr, r
    assert "removed roundtrip" in r.stdout
    assert "roundtrip" not in rule_names()
    bad = D.cli("create", "-", check=False)
    assert bad.returncode == 1


def test_rules_directory_is_watched():
    word = unique("wd")
    target = os.path.join(D.tmp, word)
    rule = "tracer = 'open'\nactions = []\n[filterEvents.filename]\nvalues = ['%s']\n" % target
    path = write_rule("watched.toml", rule)
    wait_rules(lambda n: "watched" in n, "a new file")
    open(target, "w").close()
    T.wait_for(lambda e: e["data"].get("filename") == target and "watched" in e["rules"])
    # An edit that breaks the file keeps its last good version, and says why.
    write_rule("watched.toml", "tracer = 'open'\nbogus = 1\n")
    deadline = time.time() + 5
    while "watched.toml:2:" not in D.stderr():
        assert time.time() < deadline, D.stderr()[-500:]
        time.sleep(0.05)
    assert "watched" in rule_names()
    # A good edit takes effect; deleting the file removes the rule.
    write_rule("watched.toml", rule.replace("actions = []", "actions = ['stdout']"))
    wait_rules(lambda n: "watched" in n, "edited file")
    os.unlink(path)
    wait_rules(lambda n: "watched" not in n, "a deleted file")
    # A broken file next to good ones: they keep working.
    write_rule("broken.toml", "tracer = 'nosuchtracer'\n")
    deadline = time.time() + 5
    while "broken.toml:1:" not in D.stderr():
        assert time.time() < deadline, D.stderr()[-500:]
        time.sleep(0.05)
    assert "password_files" in rule_names() and "broken" not in rule_names()
    os.unlink(os.path.join(RULES, "broken.toml"))


def test_trace_rule_narrows():
    t = Trace(D, "--rule", "password_files")
    subprocess.run(["cat", "/etc/passwd"], capture_output=True, check=True)
    t.wait_for(lambda e: e["data"].get("filename") == "/etc/passwd")
    time.sleep(0.3)
    events = list(t.events)
    t.stop()
    assert events and all("password_files" in e["rules"] for e in events)


def test_check_command():
    good = os.path.join(ROOT, "examples", "rules", "password_files.toml")
    r = subprocess.run([BPFD, "check", good], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r
    bad = os.path.join(D.tmp, "bad.toml")
    with open(bad, "w") as f:
        f.write("tracer = 'exec'\nactions = ['stdout']\n\n[filterEvents.nosuchkey]\nvalues = ['x']\n")
    r = subprocess.run([BPFD, "check", good, bad], capture_output=True, text=True)
    assert r.returncode == 1, r
    assert r.stderr.startswith(bad + ":4:"), r.stderr


def test_in_kernel_prefilter():
    # Alone, password_files names only file names: the kernel drops the rest.
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    os.makedirs(os.path.join(tmp, "rules"))
    shutil.copy(os.path.join(ROOT, "examples", "rules", "password_files.toml"),
                os.path.join(tmp, "rules"))
    d = Daemon("--tracers", "open", tmpdir=tmp).start()
    try:
        t = Trace(d)
        opn = lambda: {x["name"]: x for x in d.status()["tracers"]}["open"]
        assert opn()["prefilter"] is True, opn()
        before = opn()
        target = os.path.join(tmp, unique("un"))
        open(target, "w").close()
        openloop = os.path.join(os.path.dirname(os.path.abspath(BPFD)), "bench", "openloop")
        subprocess.run([openloop, target, "20000"], check=True, capture_output=True)
        subprocess.run(["cat", "/etc/shadow"], check=True, capture_output=True)
        ev = t.wait_for(lambda e: e["data"].get("filename") == "/etc/shadow")
        assert ev["rules"] == ["password_files"]
        after = opn()
        assert after["prefiltered"] - before["prefiltered"] >= 20000, (before, after)
        # What reached the daemon is what could match, not the 20,000 opens.
        assert after["events"] - before["events"] < 1000, (before, after)
        assert not t.all(lambda e: e["data"].get("filename") == target)
        # A rule the kernel cannot test turns the prefilter off; the open is then seen
        # in the daemon (events grow) and still matches nothing but its rule.
        r = subprocess.run([BPFD, "-s", d.socket, "create", "-"], capture_output=True, text=True,
                           input="name = 'middle_glob'\ntracer = 'open'\nactions = []\n"
                                 "[filterEvents.filename]\nvalues = ['/nonexistent/*/x']\n")
        assert r.returncode == 0, r
        assert opn()["prefilter"] is False
        seen = opn()["events"]
        subprocess.run([openloop, target, "2000"], check=True, capture_output=True)
        deadline = time.time() + 5
        while opn()["events"] - seen < 2000:
            assert time.time() < deadline, opn()
            time.sleep(0.1)
        assert not t.all(lambda e: e["data"].get("filename") == target)
        d.cli("rm", "middle_glob")
        assert opn()["prefilter"] is True
        t.stop()
    finally:
        d.cleanup()


def check_prefilter_keeps(values, match, drop):
    """Rule `edges` names @values (globs; "{tmp}" is the test's directory,
    "{w}/" the directory the names are opened in): every open of @match
    arrives, every one of @drop is dropped in the kernel. @drop's names are
    opened first, relative to their directory: the kernel tests the path
    it resolved, as the event reports it."""
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    work = os.path.join(tmp, "work")
    values, match, drop = ([v.replace("{tmp}", tmp).replace("{w}", work) for v in xs]
                           for xs in (values, match, drop))
    os.makedirs(os.path.join(tmp, "rules"))
    with open(os.path.join(tmp, "rules", "edges.toml"), "w") as f:
        f.write("tracer = 'open'\nactions = []\n[filterEvents.filename]\nvalues = [%s]\n"
                % ", ".join("'%s'" % v for v in values))
    d = Daemon("--tracers", "open", tmpdir=tmp).start()
    try:
        t = Trace(d)
        opn = lambda: {x["name"]: x for x in d.status()["tracers"]}["open"]
        assert opn()["prefilter"] is True, opn()
        os.makedirs(work)
        path = lambda n: os.path.join(work, n)
        for name in match + drop:
            open(path(name), "w").close()
        before = opn()
        script = "import sys\nfor n in sys.argv[1:]:\n    open(n).close()\n"
        subprocess.run([sys.executable, "-c", script] + drop + match, cwd=work, check=True)
        for name in match:
            ev = t.wait_for(lambda e, n=name: e["tracer"] == "open" and
                            e["data"].get("filename") == path(n), what=name)
            assert ev["rules"] == ["edges"], ev
        after = opn()
        assert after["prefiltered"] - before["prefiltered"] >= len(drop), (before, after)
        time.sleep(0.3)
        for name in drop:
            assert not t.all(lambda e, n=name: e["data"].get("filename") == path(n)), name
        t.stop()
    finally:
        d.cleanup()


def test_prefilter_from_the_first_event():
    # Opens that no rule can match, made all through the daemon's start:
    # the prefilter holds the rules before the tracer switches on, so none
    # of them reaches the daemon, not even the first.
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    os.makedirs(os.path.join(tmp, "rules"))
    # Exact names only: with a prefix among them every failed open of the
    # host would go to the daemon (docs/rules.md), and a busy host has many.
    with open(os.path.join(tmp, "rules", "shadow.toml"), "w") as f:
        f.write('tracer = "open"\nactions = []\n'
                '[filterEvents.filename]\nvalues = ["/etc/shadow", "/etc/gshadow"]\n')
    target = os.path.join(tmp, unique("un"))
    open(target, "w").close()
    openloop = os.path.join(os.path.dirname(os.path.abspath(BPFD)), "bench", "openloop")
    busy = subprocess.Popen([openloop, target, "1000000000"], stdout=subprocess.DEVNULL)
    d = Daemon("--tracers", "open", tmpdir=tmp)
    try:
        d.start()
        opn = {x["name"]: x for x in d.status()["tracers"]}["open"]
        assert opn["prefilter"] is True, opn
        assert opn["prefiltered"] > 1000, opn
        assert opn["events"] == opn["matched"], opn
    finally:
        busy.kill()
        busy.wait()
        d.cleanup()


def test_prefilter_keeps_every_match():
    # The kernel's file name test on the edges of its trie: short exact
    # names, a 7-byte one, a short prefix, long names. Every open a value
    # matches must arrive; the others, also those that start like a value
    # (a longer or shorter name, one more byte), are dropped in the kernel.
    check_prefilter_keeps(
        ["{w}/ab", "{w}/abcdefg", "{w}/bq*", "{w}/long-name-of-a-file"],
        ["ab", "abcdefg", "bq", "bqz-and-more", "long-name-of-a-file"],
        ["ab2", "a", "abcdefgh", "abcdef", "b", "bz", "long-name-of-a-fil",
         "long-name-of-a-file2"])
    # Exact names only: the opened file's own name is tested first.
    check_prefilter_keeps(
        ["{w}/ab", "{w}/abcdefg", "{w}/long-name-of-a-file"],
        ["ab", "abcdefg", "long-name-of-a-file"],
        ["ab2", "a", "abcdefgh", "abcdef", "b", "long-name-of-a-fil", "long-name-of-a-file2"])


def test_prefilter_lead_keeps_every_match():
    # Values that share their first bytes: the kernel turns names away on
    # those bytes before the trie. A name shorter than the lead comes right
    # after longer ones, whose bytes are still in the kernel's buffer past
    # its NUL; a name may differ from the lead in its last byte only. The
    # paths' lead is their directory's; with exact values only, the last
    # components' lead is theirs.
    check_prefilter_keeps(
        ["{w}/abcdefghij", "{w}/abcdefghk*", "{w}/abcdefgh"],
        ["abcdefghij", "abcdefghk", "abcdefghkl", "abcdefgh"],
        ["abcdefghijk", "abcdefgX", "abcdefg", "abc", "a", "Abcdefghij", "abcdefghi"])
    check_prefilter_keeps(
        ["{w}/xyz1", "{w}/xyz2*"],
        ["xyz1", "xyz2", "xyz2more"],
        ["xyz12345678", "xy", "x", "xyz", "xyz3", "xyZ1"])
    check_prefilter_keeps(
        ["{w}/abcdefghij", "{w}/abcdefgh"],
        ["abcdefghij", "abcdefgh"],
        ["abcdefghijk", "abcdefgX", "abcdefg", "abc", "a", "Abcdefghij", "abcdefghi"])


def test_prefilter_by_container_and_uid():
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    os.makedirs(os.path.join(tmp, "rules"))
    shutil.copy(os.path.join(ROOT, "examples", "rules", "container_shell.toml"),
                os.path.join(tmp, "rules"))
    with open(os.path.join(tmp, "rules", "uid_only.toml"), "w") as f:
        f.write("tracer = 'open'\nactions = []\n[filterEvents.uid]\nvalues = [54321]\n")
    # Testable only as "in a container": argv is not something the kernel tests.
    with open(os.path.join(tmp, "rules", "docker_echo.toml"), "w") as f:
        f.write("tracer = 'exec'\nactions = []\ncontainerRuntimes = ['docker']\n"
                "[filterEvents.argv]\nvalues = ['echo bpfd-*']\n")
    d = Daemon("--tracers", "exec,open", tmpdir=tmp).start()
    try:
        t = Trace(d)
        st = lambda: {x["name"]: x for x in d.status()["tracers"]}
        assert st()["exec"]["prefilter"] and st()["open"]["prefilter"], st()
        before = st()
        # Host execs and root's opens cannot match: dropped in the kernel.
        prog = make_program(tmp, unique("hx"))
        for _ in range(50):
            subprocess.run([prog], check=True)
        after = st()
        assert after["exec"]["prefiltered"] - before["exec"]["prefiltered"] >= 50, after["exec"]
        assert after["open"]["prefiltered"] > before["open"]["prefiltered"], after["open"]
        # A shell in a container passes the kernel and matches.
        DOCKER.run("--rm", Docker.IMAGE, "sh", "-c", "true")
        ev = t.wait_for(lambda e: e["tracer"] == "exec" and e["container_runtime"] == "docker"
                        and e["command"] == "sh", what="a shell in a container")
        assert "container_shell" in ev["rules"], ev["rules"]
        word = unique("bpfd-")
        DOCKER.run("--rm", Docker.IMAGE, "echo", word)
        ev = t.wait_for(lambda e: e["data"].get("argv") == "echo " + word)
        assert ev["rules"] == ["docker_echo"], ev
        # The uid rule: an open by uid 54321 passes, root's do not.
        target = os.path.join(tmp, unique("uo"))
        open(target, "w").close()
        os.chmod(target, 0o644)
        os.chmod(tmp, 0o755)
        subprocess.run(["setpriv", "--reuid=54321", "--regid=54321", "--clear-groups",
                        "cat", target], check=True, capture_output=True)
        ev = t.wait_for(lambda e: e["tracer"] == "open" and e["data"]["filename"] == target)
        assert ev["uid"] == 54321 and ev["rules"] == ["uid_only"], ev
        t.stop()
    finally:
        d.cleanup()


def main():
    global D, T, DOCKER, RULES
    require_root()
    DOCKER = Docker()
    if not DOCKER.ok:
        print("SKIP: " + DOCKER.reason)
        return 77
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    RULES = os.path.join(tmp, "rules")
    shutil.copytree(os.path.join(ROOT, "examples", "rules"), RULES)
    D = Daemon(tmpdir=tmp)
    D.start()
    T = Trace(D)
    try:
        return run_tests([
            test_example_rules_loaded,
            test_reverse_shell_rule,
            test_password_files_rule,
            test_bashreadline_rule,
            test_setuid_binaries_rule_docker_only,
            test_runtime_and_container_id_filters,
            test_create_ls_rm_round_trip,
            test_rules_directory_is_watched,
            test_trace_rule_narrows,
            test_check_command,
            test_in_kernel_prefilter,
            test_prefilter_from_the_first_event,
            test_prefilter_keeps_every_match,
            test_prefilter_lead_keeps_every_match,
            test_prefilter_by_container_and_uid,
        ])
    finally:
        T.stop()
        D.cleanup()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
