#!/usr/bin/env python3
"""Load and faults, on loopback only: 200 concurrent trace clients while a
workload runs (each gets every event or an explicit drop count, status keeps
answering); a subscriber that never reads (cut off, the others unaffected;
its queue bounded when its queue is the one events are encoded into);
a half-sent frame; deeply nested JSON; and the daemon's start-up faults (no
kernel headers, an unusable socket directory)."""
import json
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time

from bpfdtest import BPFD, Daemon, require_root, run_tests, unique

D = None
CLIENTS = 200
OPENS = 2000


def send_frame(s, body):
    s.sendall(struct.pack(">I", len(body)) + body)


class Subscriber:
    """A raw `trace` connection whose frames are parsed as they come."""

    def __init__(self, path, tracer="open", target=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        send_frame(self.sock, json.dumps({"op": "trace", "tracer": tracer}).encode())
        self.buf = b""
        self.target = target
        self.seen = 0       # events on target
        self.lost = 0       # from "lost" notices
        self.frames = 0

    def feed(self):
        data = self.sock.recv(1 << 20)
        if not data:
            return False
        self.buf += data
        off = 0
        while len(self.buf) - off >= 4:
            n = struct.unpack_from(">I", self.buf, off)[0]
            if len(self.buf) - off < 4 + n:
                break
            body = self.buf[off + 4:off + 4 + n]
            off += 4 + n
            self.frames += 1
            if body.startswith(b'{"notice"'):
                self.lost += json.loads(body)["lost"]
            elif self.target and self.target in body:
                f = json.loads(body)
                self.seen += f.get("data", {}).get("filename") == self.target.decode()
        self.buf = self.buf[off:]
        return True

    @property
    def done(self):
        return self.seen + self.lost >= OPENS


def status_json():
    """The status op over a socket of our own (no client process to start)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(D.socket)
        s.settimeout(30)
        send_frame(s, b'{"op":"status"}')
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        return json.loads(s.recv(n, socket.MSG_WAITALL))


def setup():
    global D
    tmp = tempfile.mkdtemp(prefix="bpfd-load-")
    conf = os.path.join(tmp, "bpfd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\ndefault_actions = none\nclient_stall_timeout = 2s\n"
                "client_frame_timeout = 1s\nmax_rules = 500\n")
    D = Daemon("--tracers", "exec,open", "--config", conf, tmpdir=tmp)
    D.start()


def test_200_concurrent_subscribers():
    target = os.path.join(D.tmp, unique("load"))
    open(target, "w").close()
    subs = [Subscriber(D.socket, target=target.encode()) for _ in range(CLIENTS)]
    sel = selectors.DefaultSelector()
    for s in subs:
        sel.register(s.sock, selectors.EVENT_READ, s)
    deadline = time.time() + 15
    while len(status_json()["subscribers"]) < CLIENTS:
        assert time.time() < deadline, "not all clients subscribed"
        for key, _ in sel.select(0.05):
            key.data.feed()
    workload = subprocess.Popen([sys.executable, "-c",
                                 "import os\nfor _ in range(%d): os.close(os.open(%r, os.O_RDONLY))"
                                 % (OPENS, target)])
    worst = 0.0
    last_status = 0.0
    deadline = time.time() + 60
    while not all(s.done for s in subs):
        assert time.time() < deadline, "events still missing after 60 s: %s" % [
            (s.seen, s.lost) for s in subs if not s.done][:5]
        for key, _ in sel.select(0.05):
            key.data.feed()
        if time.time() - last_status > 0.5:
            t0 = time.time()
            assert status_json()["ok"]  # the daemon keeps answering under load
            worst = max(worst, time.time() - t0)
            last_status = time.time()
    assert workload.wait() == 0
    # AddressSanitizer makes the daemon some times slower. Every event now
    # carries its ancestors and metadata too, and this process reads 200
    # streams on the same two CPUs: about 2 s at worst here, a frozen
    # daemon never answers.
    limit = 6.0 if os.environ.get("BPFD_SANITIZED") else 3.0
    assert worst < limit, "status took %.1f s under load" % worst
    for i, s in enumerate(subs):
        assert s.seen == OPENS or s.lost > 0, \
            "client %d saw %d of %d events and no drop count" % (i, s.seen, OPENS)
    print("  200 clients: %d saw every event, worst status %.2f s" % (
        sum(s.seen == OPENS for s in subs), worst))
    for s in subs:
        s.sock.close()


def test_never_reading_subscriber_is_cut_off():
    target = os.path.join(D.tmp, unique("stall"))
    open(target, "w").close()
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(D.socket)
    send_frame(stalled, json.dumps({"op": "trace", "tracer": "open"}).encode())
    reader = Subscriber(D.socket, target=target.encode())
    kernel_lost = lambda: {t["name"]: t for t in status_json()["tracers"]}["open"]["lost"]
    lost_before = kernel_lost()
    time.sleep(0.3)
    subprocess.run([os.path.join(os.path.dirname(BPFD), "bench", "openloop"), target, "100000"],
                   check=True, capture_output=True)
    # The reader is unaffected: it gets its events, or counted drops, or they
    # were lost in the kernel's ring buffer before any subscriber (a slow,
    # sanitized daemon loses some there; counted in status).
    reader.sock.settimeout(1)
    deadline = time.time() + 20
    in_kernel = 0
    while reader.seen + reader.lost + in_kernel < 100000 and time.time() < deadline:
        try:
            if not reader.feed():
                break
        except socket.timeout:
            in_kernel = kernel_lost() - lost_before
    assert reader.seen + reader.lost + in_kernel >= 100000, (reader.seen, reader.lost, in_kernel)
    # ... and the one that never reads is disconnected after client_stall_timeout.
    deadline = time.time() + 6
    while "read nothing for 2.0 s: disconnected" not in D.stderr():
        assert time.time() < deadline, "the stalled subscriber was not cut off"
        time.sleep(0.1)
    reader.sock.close()
    stalled.close()


def test_never_reading_subscriber_ahead_of_a_reader():
    """The daemon encodes an event straight into the queue of the subscriber
    it meets first (the one that connected last) and copies it to the others.
    A subscriber that never reads, met first, fills its queue to the limit:
    it drops (counted) and never holds more than the limit, and the reader
    behind it still gets every event whole."""
    target = os.path.join(D.tmp, unique("ahead"))
    open(target, "w").close()
    reader = Subscriber(D.socket, target=target.encode())
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(D.socket)
    send_frame(stalled, json.dumps({"op": "trace", "tracer": "open"}).encode())
    kernel_lost = lambda: {t["name"]: t for t in status_json()["tracers"]}["open"]["lost"]
    lost_before = kernel_lost()
    time.sleep(0.3)
    n = 30000
    loop = subprocess.Popen([os.path.join(os.path.dirname(BPFD), "bench", "openloop"), target,
                             str(n)], stdout=subprocess.DEVNULL)
    # Every queue, seen while the one that never reads is connected (it is
    # cut off after client_stall_timeout); it connected last: the highest id.
    worst, stalled_drops = 0, 0

    def look():
        nonlocal worst, stalled_drops
        subs = status_json()["subscribers"]
        worst = max([worst] + [x["queued"] for x in subs])
        last = max(subs, key=lambda x: x["id"])
        stalled_drops = max(stalled_drops, last["dropped"])

    reader.sock.settimeout(0.01)
    while loop.poll() is None:
        last = time.time()
        try:
            while time.time() - last < 0.2 and reader.feed():
                pass
        except socket.timeout:
            pass
        look()
    assert loop.wait() == 0
    look()  # once more after the loop, well within client_stall_timeout
    assert stalled_drops > 0, "the subscriber that never reads dropped nothing"
    assert 0 < worst <= 8 << 20, "a queue held %d bytes: the limit is 8 MiB" % worst
    reader.sock.settimeout(1)
    deadline = time.time() + 20
    in_kernel = 0
    while reader.seen + reader.lost + in_kernel < n and time.time() < deadline:
        try:
            if not reader.feed():
                break
        except socket.timeout:
            in_kernel = kernel_lost() - lost_before
    assert reader.seen + reader.lost + in_kernel >= n, (reader.seen, reader.lost, in_kernel)
    print("  reader: %d of %d events, %d dropped; the fullest queue %d bytes" % (
        reader.seen, n, reader.lost, worst))
    reader.sock.close()
    stalled.close()


def test_client_count_limit():
    idle = []
    try:
        for _ in range(256):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(D.socket)
            idle.append(s)
        time.sleep(0.5)
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        extra.connect(D.socket)
        extra.settimeout(10)
        n = struct.unpack(">I", extra.recv(4, socket.MSG_WAITALL))[0]
        reply = json.loads(extra.recv(n, socket.MSG_WAITALL))
        assert reply == {"ok": False, "error": "too many clients"}, reply
        assert extra.recv(1) == b""
        extra.close()
    finally:
        for s in idle:
            s.close()
    time.sleep(0.3)
    assert status_json()["ok"]


def test_half_sent_frame_is_dropped():
    before = status_json()["clients"]["disconnected"]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(D.socket)
    s.sendall(b"\x00\x00")  # half a length prefix, then nothing
    s.settimeout(6)
    t0 = time.time()
    assert s.recv(1) == b"", "connection not closed"
    assert time.time() - t0 < 5
    assert status_json()["clients"]["disconnected"] == before + 1
    # Logged, unless earlier tests used up the warnings' budget (10 lines in
    # 5 s, docs/protocol.md): then the count of those not logged says so.
    deadline = time.time() + 7
    while not ("left a frame half-sent" in D.stderr() or
               "more warnings about clients not logged" in D.stderr()):
        assert time.time() < deadline, "the half-sent frame was not logged"
        time.sleep(0.1)
    s.close()


def test_deeply_nested_and_garbage():
    for body in (b"[" * 100000, b"{\"op\":" * 50000, os.urandom(4096),
                 b"{\"op\":\"status\"", b"\xff\xfe\x00{}"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(D.socket)
            send_frame(s, body)
            n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
            reply = json.loads(s.recv(n, socket.MSG_WAITALL))
            assert reply["ok"] is False and reply["error"], reply
    assert status_json()["ok"]


def test_rule_count_limit():
    rules = os.path.join(D.tmp, "rules.new")
    os.mkdir(rules)
    # max_rules = 500 here (the default, 10,000, works the same way, only slower to fill).
    for i in range(501):
        with open(os.path.join(rules, "r%05d.toml" % i), "w") as f:
            f.write('tracer = "exec"\n[filterEvents.command]\nvalues = ["x%d"]\n' % i)
    os.rename(rules, os.path.join(D.tmp, "rules"))  # the directory appears whole
    deadline = time.time() + 30
    while "skipped: more than 500 rules" not in D.stderr():
        assert time.time() < deadline, "the 501st rule file was not refused"
        time.sleep(0.1)
    ls = json.loads(D.cli("ls", "--json").stdout)["rules"]
    assert len(ls) == 500, len(ls)
    r = subprocess.run([BPFD, "-s", D.socket, "create", "-"], capture_output=True, text=True,
                       input='name = "one_more"\ntracer = "exec"\n')
    assert r.returncode == 1 and "too many rules: the limit is 500" in r.stderr, r
    # A rule file over 1 MiB is refused by name; the daemon stays up.
    subprocess.run(["rm", "-rf", os.path.join(D.tmp, "rules")], check=True)
    os.mkdir(os.path.join(D.tmp, "rules"))
    with open(os.path.join(D.tmp, "rules", "huge.toml"), "w") as f:
        f.write('tracer = "exec"\n# ' + "x" * (1 << 20) + "\n")
    deadline = time.time() + 10
    while "huge.toml" not in D.stderr():
        assert time.time() < deadline, "the oversized rule file was not reported"
        time.sleep(0.1)
    assert status_json()["ok"]
    assert json.loads(D.cli("ls", "--json").stdout)["rules"] == []


def test_no_kernel_headers_one_clear_message():
    # A private mount namespace where the header directories are empty.
    tmp = tempfile.mkdtemp(prefix="bpfd-nohdr-")
    sock = os.path.join(tmp, "s.sock")
    script = ("mount -t tmpfs none /usr/src && mount -t tmpfs none /lib/modules && "
              "exec %s daemon -s %s --rules-dir %s/rules" % (BPFD, sock, tmp))
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r
    errors = [l for l in r.stderr.splitlines() if " error: " in l]
    assert len(errors) == 1, r.stderr
    assert "no kernel headers found" in errors[0] and "linux-headers-amd64" in errors[0], errors


def test_unusable_socket_directory():
    r = subprocess.run([BPFD, "daemon", "-s", "/proc/bpfd/bpfd.sock"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, r
    assert "/proc/bpfd/bpfd.sock: cannot listen" in r.stderr, r.stderr
    # A missing rules directory is fine (checked in the lifecycle tests too).
    assert status_json()["ok"]


def main():
    require_root()
    setup()
    try:
        return run_tests([
            test_200_concurrent_subscribers,
            test_never_reading_subscriber_is_cut_off,
            test_never_reading_subscriber_ahead_of_a_reader,
            test_client_count_limit,
            test_half_sent_frame_is_dropped,
            test_deeply_nested_and_garbage,
            test_rule_count_limit,
            test_no_kernel_headers_one_clear_message,
            test_unusable_socket_directory,
        ])
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
