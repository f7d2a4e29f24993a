#!/usr/bin/env python3
"""The syslog action against a real rsyslogd started by the test (its own
config: imudp and imtcp on 127.0.0.1, RFC 5424 lines to a file): the
matching events arrive over UDP and TCP with their structured data; with
rsyslogd stopped the action counts failures and the daemon carries on
(events still reach `trace`), and sending resumes when it is back, TCP's
queued messages first. The unix datagram transport to a socket the test
binds. Hostile: a collector that accepts the TCP connection and never
reads cannot stall the loop or grow the daemon's memory beyond the queue."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bpfdtest import (BPFD, Daemon, Trace, make_program, require_root, run_tests, unique,
                      wait_until)

RSYSLOGD = "/usr/sbin/rsyslogd"
D = None
T = None
RSYSLOG = None
TMP = None
PROGS = {}      # rule suffix -> the program its rule matches
UNIX = None     # the socket the unix instance sends to
STALL = None    # the collector that never reads

LINE = re.compile(r'^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[bpfd@32473((?: [a-z_]+="(?:[^"\\]|\\.)*")*)\] (.*)$')
PARAM = re.compile(r' ([a-z_]+)="((?:[^"\\]|\\.)*)"')


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Rsyslogd:
    """rsyslogd -n with a config of its own: UDP and TCP on 127.0.0.1, every
    message as an RFC 5424 line (RSYSLOG_SyslogProtocol23Format) in a file."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "rsyslog")
        os.makedirs(self.dir)
        self.udp = free_port(socket.SOCK_DGRAM)
        self.tcp = free_port()
        self.out = os.path.join(self.dir, "messages.log")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write("""global(workDirectory="{d}" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
*.* action(type="omfile" file="{out}" template="RSYSLOG_SyslogProtocol23Format")
""".format(d=self.dir, udp=self.udp, tcp=self.tcp, out=self.out))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                                     stdout=open(os.path.join(self.dir, "rsyslogd.out"), "ab"),
                                     stderr=subprocess.STDOUT)
        wait_until(lambda: self._listening(), "rsyslogd listening on %d/tcp and %d/udp"
                   % (self.tcp, self.udp))

    def _listening(self):
        assert self.proc.poll() is None, "rsyslogd exited: %s" % self.log()
        ports = set()
        for name in ("/proc/net/tcp", "/proc/net/udp"):
            with open(name) as f:
                for line in f.readlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    if name.endswith("udp") or state == "0A":
                        ports.add((name[-3:], int(local.split(":")[1], 16)))
        return ("tcp", self.tcp) in ports and ("udp", self.udp) in ports

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def log(self):
        with open(os.path.join(self.dir, "rsyslogd.out"), errors="replace") as f:
            return f.read()

    def lines(self):
        try:
            with open(self.out, errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_line(self, needle, count=1, timeout=10):
        deadline = time.time() + timeout
        while True:
            found = [l for l in self.lines() if needle in l]
            if len(found) >= count:
                return found
            assert time.time() < deadline, "%d lines with %r within %ss, not %d:\n%s" % (
                len(found), needle, timeout, count, "\n".join(self.lines()[-5:]))
            time.sleep(0.05)


class NeverReads:
    """A TCP collector that accepts and never reads: its receive buffer as
    small as the kernel allows, so that its window closes at once."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def accept(self, timeout=10):
        self.sock.settimeout(timeout)
        c, _ = self.sock.accept()
        self.conns.append(c)

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


def parse(line):
    """An RFC 5424 line: (pri, timestamp, host, app, procid, msgid, {param: value}, msg)."""
    m = LINE.match(line)
    assert m, "not an RFC 5424 line with bpfd's SD element: %r" % line
    params = {k: re.sub(r'\\(["\\\]])', r"\1", v) for k, v in PARAM.findall(m.group(7))}
    return (int(m.group(1)), m.group(2), m.group(3), m.group(4), int(m.group(5)), m.group(6),
            params, m.group(8))


def action(name):
    for a in D.status()["actions"]:
        if a["name"] == name:
            return a
    raise AssertionError("no action %s in status" % name)


def wait_action(name, pred, what, timeout=15):
    deadline = time.time() + timeout
    while True:
        a = action(name)
        if pred(a):
            return a
        assert time.time() < deadline, "%s: %s" % (what, a)
        time.sleep(0.05)


def run(which, *args):
    p = subprocess.Popen([PROGS[which]] + list(args))
    p.wait()
    return p.pid


def other_event_reaches_trace(timeout=10):
    pid = run("other")
    T.wait_for(lambda e: e["pid"] == pid, timeout=timeout, what="event of pid %d" % pid)


def check_message(line, which, pid, pri, priority="warning"):
    name = os.path.basename(PROGS[which])
    got_pri, stamp, host, app, procid, msgid, params, msg = parse(line)
    assert got_pri == pri, (got_pri, line)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$", stamp), stamp
    assert host == socket.gethostname(), (host, line)
    assert app == "bpfd" and procid == D.pid and msgid == "sl_" + which, line
    assert params == {"tracer": "exec", "rule": "sl_" + which, "priority": priority,
                      "pid": str(pid), "uid": "0", "command": name}, params
    return msg


def test_udp_json():
    pid = run("udp")
    line = RSYSLOG.wait_line(os.path.basename(PROGS["udp"]))[0]
    # local3.err: 19 * 8 + 3
    msg = check_message(line, "udp", pid, 155)
    ev = json.loads(msg)
    assert ev["pid"] == pid and ev["rules"] == ["sl_udp"], ev
    assert ev["data"]["filename"] == PROGS["udp"], ev
    a = action("syslog:udp")
    assert a["runs"] == 1 and a["failures"] == 0 and a["dropped"] == 0, a


def test_tcp_text():
    pid = run("tcp")
    line = RSYSLOG.wait_line(os.path.basename(PROGS["tcp"]))[0]
    # The defaults: facility daemon, severity the rule's priority (warning): 3 * 8 + 4.
    msg = check_message(line, "tcp", pid, 28)
    assert msg.startswith("20") and " exec pid=%d " % pid in msg, msg
    assert "rules=sl_tcp" in msg and "filename=" + PROGS["tcp"] in msg, msg
    a = wait_action("syslog:tcp", lambda a: a["pending"] == 0, "still pending")
    assert a["runs"] == 1 and a["failures"] == 0, a


def test_hostile_command_name():
    """A program named to break out of its PARAM-VALUE stays inside it."""
    pid = run("evil")
    name = os.path.basename(PROGS["evil"])
    line = RSYSLOG.wait_line(" pid=\"%d\" " % pid)[0]
    # rsyslog keeps the SD as it came: escaped, one element, no param `x`.
    assert '\\\\\\"\\] x=\\"' in line, line
    msg = check_message(line, "evil", pid, 28)
    assert json.loads(msg)["command"] == name, msg


def test_unix_datagram():
    pid = run("unix")
    UNIX.settimeout(10)
    data = UNIX.recv(65536).decode()
    # A critical rule's events are crit: daemon.crit, 3 * 8 + 2.
    msg = check_message(data, "unix", pid, 26, "critical")
    assert json.loads(msg)["pid"] == pid, msg
    assert action("syslog:unix")["failures"] == 0


def test_rsyslogd_down_and_back():
    RSYSLOG.stop()
    # TCP: rsyslogd closing the connection is a failure already; the
    # message waits in the queue while connecting again fails.
    tcp_pid = run("tcp")
    a = wait_action("syslog:tcp", lambda a: a["failures"] >= 2 and a["pending"] == 1,
                    "no failure counted with rsyslogd down")
    # UDP: a datagram goes nowhere; the port's ICMP error, reported at the
    # next send, counts it.
    for _ in range(3):
        run("udp")
    wait_action("syslog:udp", lambda a: a["failures"] >= 1, "no UDP failure counted")
    assert "action syslog:udp failed: sending to udp://127.0.0.1:%d: Connection refused" \
        % RSYSLOG.udp in D.stderr(), D.stderr()
    assert "action syslog:tcp failed: " in D.stderr(), D.stderr()
    # The daemon is unaffected: status answers at once, events reach trace.
    t0 = time.time()
    D.status()
    assert time.time() - t0 < 1.5, "status took %.1fs" % (time.time() - t0)
    other_event_reaches_trace()

    RSYSLOG.start()
    # The message queued while it was down arrives, and new ones too.
    lines = RSYSLOG.wait_line(" pid=%d " % tcp_pid, timeout=40)
    check_message(lines[0], "tcp", tcp_pid, 28)
    wait_action("syslog:tcp", lambda a: a["pending"] == 0, "queue not sent")
    tcp_pid = run("tcp")
    RSYSLOG.wait_line(" pid=%d " % tcp_pid)
    udp_pid = run("udp")
    RSYSLOG.wait_line('"pid":%d,' % udp_pid)
    assert len(RSYSLOG.lines()) >= 5, RSYSLOG.lines()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_collector_never_reads():
    # The kernel completes the connection in the listener's backlog: the
    # collector need not even accept it to stall it.
    queue = 50
    runs, arg = 3000, "A" * 15000      # ~16 KiB messages: 48 MB in all
    before = rss_kib(D.pid)
    script = 'i=0; while [ $i -lt %d ]; do "$0" "$1"; i=$((i+1)); done' % runs
    start = time.time()
    flood = subprocess.Popen(["sh", "-c", script, PROGS["stall"], arg])
    # While the flood goes on, the loop answers.
    slowest = 0
    while flood.poll() is None:
        t0 = time.time()
        D.status()
        slowest = max(slowest, time.time() - t0)
        time.sleep(0.2)
    a = wait_action("syslog:stall", lambda a: a["runs"] + a["suppressed"] >= runs * 0.9,
                    "the flood's events did not all reach the action", timeout=30)
    after = rss_kib(D.pid)
    print("  %d events of ~16 KiB in %.1fs to a collector that never reads: %s; "
          "rss %d -> %d KiB; slowest status %.2fs"
          % (runs, time.time() - start, {k: a[k] for k in ("runs", "dropped", "pending",
                                                            "failures")},
             before, after, slowest))
    assert slowest < 1.5, "status took %.1fs during the flood" % slowest
    # One connection, never broken: a stalled collector is no failure, only drops.
    STALL.accept()
    assert a["failures"] == 0, a
    assert a["pending"] <= queue, a
    # The kernel takes a few MB (the socket's buffers); the rest is dropped.
    assert a["dropped"] >= a["runs"] - queue - 600, a
    # Without the bound the queue would hold ~48 MB. (AddressSanitizer keeps
    # freed memory in quarantine: there the RSS says nothing of the bound.)
    assert os.environ.get("BPFD_SANITIZED") or after - before < 20 * 1024, "rss grew from %d to %d KiB" % (before, after)
    other_event_reaches_trace()


def test_bad_address_refused():
    conf = os.path.join(TMP, "bad.conf")
    with open(conf, "w") as f:
        f.write("[syslog:fleet]\naddress = tcp://logs.example.com:514\n")
    r = subprocess.run([BPFD, "check", "--config", conf], capture_output=True, text=True)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert 'bad.conf:2: address: "tcp://logs.example.com:514": the host must be an IP address' \
        in r.stderr, r.stderr


def main():
    global D, T, RSYSLOG, TMP, UNIX, STALL
    require_root()
    if not os.path.exists(RSYSLOGD):
        print("SKIP: no rsyslogd (Debian: apt-get install rsyslog)")
        return 77
    TMP = tempfile.mkdtemp(prefix="bpfd-it-")
    RSYSLOG = Rsyslogd(TMP)
    RSYSLOG.start()
    UNIX = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    UNIX.bind(os.path.join(TMP, "log.sock"))
    STALL = NeverReads()
    rules = os.path.join(TMP, "rules")
    os.makedirs(rules)
    for which in ("udp", "tcp", "unix", "stall", "evil", "other"):
        actions = "" if which == "other" else "'syslog:%s'" % which
        # comm keeps 15 bytes: "e", 6 hex digits and a try at closing the value.
        name = "e" + unique("")[:6] + '\\"] x="' if which == "evil" else unique("sl")
        PROGS[which] = make_program(TMP, name)
        with open(os.path.join(rules, "sl_%s.toml" % which), "w") as f:
            meta = "priority = 'critical'\n" if which == "unix" else ""
            f.write("tracer = 'exec'\nactions = [%s]\n%s[filterEvents.command]\n"
                    "values = ['%s']\n" % (actions, meta, os.path.basename(PROGS[which])))
    with open(os.path.join(TMP, "bpfd.conf"), "w") as f:
        f.write("""
[syslog:udp]
address = udp://127.0.0.1:{udp}
facility = local3
severity = err

[syslog:tcp]
address = tcp://127.0.0.1:{tcp}
format = text
backoff = 200ms

[syslog:unix]
address = {unix}

[syslog:evil]
address = udp://127.0.0.1:{udp}

[syslog:stall]
address = tcp://127.0.0.1:{stall}
queue = 50
max_size = 65000
""".format(udp=RSYSLOG.udp, tcp=RSYSLOG.tcp, unix=os.path.join(TMP, "log.sock"),
           stall=STALL.port))
    D = Daemon("--tracers", "exec", "--config", os.path.join(TMP, "bpfd.conf"), tmpdir=TMP)
    D.start()
    T = Trace(D, "--rule", "sl_other")
    try:
        status = run_tests([
            test_udp_json,
            test_tcp_text,
            test_hostile_command_name,
            test_unix_datagram,
            test_rsyslogd_down_and_back,
            test_collector_never_reads,
            test_bad_address_refused,
        ])
    finally:
        T.stop()
        t0 = time.time()
        rc = D.stop()
        stop_s = time.time() - t0
        err = D.stderr()
        RSYSLOG.stop()
        STALL.close()
        UNIX.close()
        D.cleanup()
        shutil.rmtree(TMP, ignore_errors=True)
    if rc != 0 or stop_s > 5:
        print("FAIL daemon stop: exit %s after %.1fs\n%s" % (rc, stop_s, err))
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
