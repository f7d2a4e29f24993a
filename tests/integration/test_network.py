#!/usr/bin/env python3
"""The network tracers with real traffic on this machine only: loopback,
and network namespaces joined by a veth pair that the tests create and
remove (10.201.x addresses inside them). tcpconnect reports a refused, a
timed-out (a DROP rule inside a namespace) and a non-blocking connect with
the connecting process, also from a docker container; tcpaccept the listen
and the accept; tcpdrop aggregates a SYN flood in the kernel into one
event per flow with a count, shows it in status, and status answers
within 1 s meanwhile. Address and port rules (CIDRs, ranges, exclude) and
their in-kernel prefilter."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from bpfdtest import Daemon, Docker, Trace, require_root, run_tests, unique

D = None
T = None
DOCKER = None
NETNS = None
HERE = os.path.dirname(os.path.abspath(__file__))
NOBODY = 65534

# A raw-socket SYN flood: SYNs from @nports source ports, @n packets in all, at most 10 s.
FLOOD = r'''
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst, dport, n, nports = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
pkts = []
for i in range(nports):
    tcp = struct.pack("!HHIIBBHHH", 40000 + i, dport, 1000 + i, 0, 5 << 4, 0x02, 64240, 0, 0)
    c = csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    pkts.append(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, sa, da) + tcp)
deadline = time.time() + 10
for i in range(n):
    s.sendto(pkts[i % nports], (dst, 0))
    if time.time() > deadline:
        break
print(i + 1)
'''


class Netns:
    """Two network namespaces, A (10.201.N.1) and B (10.201.N.2), joined by
    a veth pair; removed (with the pair) by close()."""

    def __init__(self):
        tag = unique("")[:8]
        self.a, self.b = "bpfd-test-a" + tag, "bpfd-test-b" + tag
        self.addr_a, self.addr_b = "10.201.7.1", "10.201.7.2"
        self.made = []
        for ns in (self.a, self.b):
            self._ip("netns", "add", ns)
            self.made.append(ns)
        va, vb = "bva" + tag, "bvb" + tag
        self._ip("link", "add", va, "type", "veth", "peer", "name", vb)
        self._ip("link", "set", va, "netns", self.a)
        self._ip("link", "set", vb, "netns", self.b)
        for ns, dev, addr in ((self.a, va, self.addr_a), (self.b, vb, self.addr_b)):
            self._ip("-n", ns, "addr", "add", addr + "/24", "dev", dev)
            self._ip("-n", ns, "link", "set", dev, "up")
            self._ip("-n", ns, "link", "set", "lo", "up")

    @staticmethod
    def _ip(*args):
        subprocess.run(["ip"] + list(args), check=True, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=10)

    def exec(self, ns, argv, **kw):
        return ["ip", "netns", "exec", ns] + argv

    def close(self):
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=10)
        self.made = []


def python(code, *args):
    return [sys.executable, "-c", code] + [str(a) for a in args]


def as_nobody(argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + argv


def run(argv, timeout=20):
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)


def of(tracer, **data):
    """A predicate: an event of @tracer whose data has every key of @data."""
    def pred(e):
        return e["tracer"] == tracer and all(str(e["data"].get(k)) == str(v)
                                             for k, v in data.items())
    return pred


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


CONNECT = r'''
import socket, sys, os
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 200)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as e:
    print(e.errno)
'''


def test_refused_connect_as_unprivileged_user():
    port = closed_port()
    p = subprocess.Popen(as_nobody(python(CONNECT, "127.0.0.1", port)), stdout=subprocess.PIPE,
                         text=True, stdin=subprocess.DEVNULL)
    out, _ = p.communicate(timeout=20)
    assert out.strip() == "111", out
    ev = T.wait_for(of("tcpconnect", dport=port, outcome="refused"), what="refused connect")
    assert ev["pid"] == p.pid and ev["uid"] == NOBODY, ev
    assert ev["returnval"] == -111 and ev["data"]["daddr"] == "127.0.0.1", ev
    assert ev["data"]["family"] == "ipv4" and int(ev["data"]["sport"]) > 0, ev
    assert ev["container_runtime"] == "not-found", ev
    # The SYN no socket wanted: a drop without an owner, never the softirq's task.
    drop = T.wait_for(of("tcpdrop", sport=port, reason="NO_SOCKET"), what="the SYN's drop")
    assert drop["pid"] == 0 and drop["container_runtime"] == "not-found", drop
    assert drop["data"]["tcpflags"] == "SYN" and int(drop["data"]["count"]) >= 1, drop
    assert drop["data"]["daddr"] == "127.0.0.1" and drop["data"]["state"] == "", drop

    # IPv6 on loopback as well.
    p = subprocess.Popen(python(CONNECT, "::1", port), stdout=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    p.communicate(timeout=20)
    ev = T.wait_for(of("tcpconnect", dport=port, outcome="refused", family="ipv6"),
                    what="refused IPv6 connect")
    assert ev["pid"] == p.pid and ev["data"]["daddr"] == "::1", ev


def test_timed_out_connect_through_a_drop_rule():
    port = 9999
    r = run(NETNS.exec(NETNS.b, ["iptables", "-A", "INPUT", "-p", "tcp", "--dport", str(port),
                                 "-j", "DROP"]))
    assert r.returncode == 0, r.stderr
    p = subprocess.Popen(NETNS.exec(NETNS.a, python(CONNECT, NETNS.addr_b, port)),
                         stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    out, _ = p.communicate(timeout=20)
    assert out.strip() == "110", out
    ev = T.wait_for(of("tcpconnect", daddr=NETNS.addr_b, dport=port), what="timed-out connect")
    # The outcome came from a timer in softirq: the event still names the connecting process.
    assert ev["data"]["outcome"] == "timedout" and ev["returnval"] == -110, ev
    assert ev["pid"] == p.pid and ev["data"]["saddr"] == NETNS.addr_a, ev
    drop = T.wait_for(of("tcpdrop", daddr=NETNS.addr_a, sport=port, reason="NETFILTER_DROP"),
                      what="the SYNs' drop in the other namespace")
    assert drop["data"]["saddr"] == NETNS.addr_b and drop["pid"] == 0, drop


SERVER = r'''
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(int(sys.argv[3]))
print("listening", flush=True)
if sys.argv[4] == "accept":
    c, _ = l.accept()
    c.recv(10)
else:
    time.sleep(float(sys.argv[4]))
'''

NONBLOCKING = r'''
import select, socket, sys
s = socket.socket()
s.setblocking(False)
err = s.connect_ex((sys.argv[1], int(sys.argv[2])))
assert err == 115, err                  # EINPROGRESS: the handshake ends in softirq
select.select([], [s], [], 5)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), s.getsockname()[1], flush=True)
s.send(b"x")
'''


def test_nonblocking_connect_and_accept_across_namespaces():
    port = 8081
    srv = subprocess.Popen(NETNS.exec(NETNS.b, python(SERVER, NETNS.addr_b, port, 8, "accept")),
                           stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert srv.stdout.readline().strip() == "listening"
        cli = subprocess.Popen(NETNS.exec(NETNS.a, python(NONBLOCKING, NETNS.addr_b, port)),
                               stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        out, _ = cli.communicate(timeout=20)
        err, sport = out.split()
        assert err == "0", out
        srv.wait(timeout=20)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    ev = T.wait_for(of("tcpconnect", daddr=NETNS.addr_b, dport=port, sport=sport),
                    what="the non-blocking connect")
    assert ev["data"]["outcome"] == "established" and ev["returnval"] == 0, ev
    assert ev["pid"] == cli.pid and ev["data"]["command"] == ev["command"], ev
    listen = T.wait_for(of("tcpaccept", event="listen", sport=port, saddr=NETNS.addr_b),
                        what="listen")
    assert listen["pid"] == srv.pid, listen
    acc = T.wait_for(of("tcpaccept", event="accept", sport=port, dport=sport), what="accept")
    assert acc["pid"] == srv.pid and acc["data"]["daddr"] == NETNS.addr_a, acc
    assert acc["returnval"] >= 0, acc


def test_listen_backlog_overflowed():
    """A listener with a backlog of 1 that never accepts, and 8 handshakes
    whose last ACKs are held back (a DROP rule in the client's namespace)
    until all are in the SYN queue, then let through: the queue overflows
    (the kernel's ListenOverflows counts it). This kernel frees an
    overflowing ACK as consumed, not dropped: what tcpdrop sees are the
    packets of those connections arriving later at the listener, dropped
    there, attributed to the process that listens."""
    port = 8082
    hold = ["-p", "tcp", "--dport", str(port), "--tcp-flags", "ALL", "ACK", "-j", "DROP"]
    srv = subprocess.Popen(NETNS.exec(NETNS.b, python(SERVER, NETNS.addr_b, port, 1, 6)),
                           stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    clients = r'''
import socket, subprocess, sys, time
socks = []
for i in range(8):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((sys.argv[1], int(sys.argv[2])))
    socks.append(s)
time.sleep(0.1)
subprocess.run(["iptables", "-D", "OUTPUT"] + sys.argv[3:], check=True)
time.sleep(1.5)
'''
    try:
        assert srv.stdout.readline().strip() == "listening"
        r = run(NETNS.exec(NETNS.a, ["iptables", "-A", "OUTPUT"] + hold))
        assert r.returncode == 0, r.stderr
        r = run(NETNS.exec(NETNS.a, python(clients, NETNS.addr_b, port, *hold)))
        assert r.returncode == 0, r.stderr
        ev = T.wait_for(lambda e: of("tcpdrop", sport=port, saddr=NETNS.addr_b, state="LISTEN")(e),
                        timeout=10, what="a drop at the overflowed listener")
        stats = run(NETNS.exec(NETNS.b, ["nstat", "-az", "TcpExtListenOverflows"])).stdout
    finally:
        srv.kill()
        srv.wait()
    assert int(stats.split()[-2]) > 0, stats
    assert ev["pid"] == srv.pid and ev["command"] == "python3", ev
    assert ev["container_runtime"] == "not-found" and int(ev["data"]["count"]) >= 1, ev


def test_connect_inside_a_docker_container():
    if not DOCKER.ok:
        print("  (skipped: %s)" % DOCKER.reason)
        return
    cidfile = tempfile.mktemp(prefix="bpfd-cid-")
    port = 8083
    script = ("busybox nc -l -p %d >/dev/null & sleep 0.3; echo hi | busybox nc 127.0.0.1 %d; "
              "wait" % (port, port))
    try:
        r = DOCKER.run("--rm", "--cidfile", cidfile, "--network", "none", Docker.IMAGE,
                       "sh", "-c", script, check=False)
        with open(cidfile) as f:
            cid = f.read().strip()
    finally:
        if os.path.exists(cidfile):
            os.unlink(cidfile)
    assert len(cid) == 64, r.stderr
    ev = T.wait_for(of("tcpconnect", dport=port, daddr="127.0.0.1", outcome="established"),
                    what="the container's connect")
    assert ev["container_runtime"] == "docker" and ev["container_id"] == cid, ev
    assert ev["command"] == "busybox", ev
    listen = T.wait_for(of("tcpaccept", event="listen", sport=port), what="the container's listen")
    assert listen["container_id"] == cid, listen
    acc = T.wait_for(of("tcpaccept", event="accept", sport=port), what="the container's accept")
    assert acc["container_id"] == cid and acc["data"]["dport"] == ev["data"]["sport"], acc


def test_syn_flood_aggregated_and_status_answers():
    """20,000 SYNs from 16 source ports against a listener in the other
    namespace: the drops (the attacker's kernel drops every SYN-ACK, the
    listener every RST) come as one event per flow with a count; status
    shows the aggregation and answers within 1 s all along."""
    port = 8084
    before = D.status()
    agg0 = [t for t in before["tracers"] if t["name"] == "tcpdrop"][0]["aggregated"]
    srv = subprocess.Popen(NETNS.exec(NETNS.b, python(SERVER, NETNS.addr_b, port, 16, 8)),
                           stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert srv.stdout.readline().strip() == "listening"
        flood = subprocess.Popen(NETNS.exec(NETNS.a, python(FLOOD, NETNS.addr_a, NETNS.addr_b,
                                                            port, 20000, 16)),
                                 stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        worst = 0.0
        deadline = time.time() + 15
        while flood.poll() is None and time.time() < deadline:
            t0 = time.time()
            r = D.cli("status", "--json", timeout=5)
            worst = max(worst, time.time() - t0)
            json.loads(r.stdout)
        out, _ = flood.communicate(timeout=15)
        assert int(out) == 20000, out
        t0 = time.time()
        D.cli("status")
        worst = max(worst, time.time() - t0)
        assert worst < 1.0, "status took %.2f s during the flood" % worst

        def flows(pred):
            return T.all(lambda e: e["tracer"] == "tcpdrop" and pred(e["data"]))

        def total(evs):
            return sum(int(e["data"]["count"]) for e in evs)

        def attacker(d):
            return (d["saddr"] == NETNS.addr_a and d["dport"] == str(port)
                    and d["reason"] == "NO_SOCKET")

        deadline = time.time() + 10
        while total(flows(attacker)) < 20000 and time.time() < deadline:
            time.sleep(0.2)
        seen = flows(attacker)
        # Every SYN-ACK the attacker's kernel dropped, counted; a few events per flow, not 20,000.
        assert total(seen) == 20000, total(seen)
        assert len({e["data"]["sport"] for e in seen}) == 16, seen[:3]
        assert len(seen) <= 16 * 4, len(seen)
        assert all(e["pid"] == 0 and e["container_runtime"] == "not-found" for e in seen)
        listener = flows(lambda d: d["saddr"] == NETNS.addr_b and d["sport"] == str(port)
                         and d["state"] == "LISTEN")
        assert listener and all(e["pid"] == srv.pid for e in listener), listener[:3]
    finally:
        srv.kill()
        srv.wait()
    agg = [t for t in D.status()["tracers"] if t["name"] == "tcpdrop"][0]["aggregated"]
    assert agg["events"] - agg0["events"] >= 20000, (agg0, agg)
    assert agg["records"] - agg0["records"] < 1000, (agg0, agg)
    text = D.cli("status").stdout
    assert "tcpdrop aggregated:" in text, text


def write_rule(name, text):
    path = os.path.join(D.tmp, "rules", name + ".toml")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def tracer_status(name):
    return [t for t in D.status()["tracers"] if t["name"] == name][0]


def test_address_and_port_rules_with_prefilter():
    """Rules on CIDRs, port ranges and exclude match as written; the
    in-kernel prefilter drops what no rule can match (status counts it)."""
    a, b = unique("net"), unique("net")
    write_rule(a, 'tracer = "tcpconnect"\nactions = []\n'
               '[filterEvents.daddr]\nvalues = ["169.254.169.254", "10.201.0.0/16", "::1/128"]\n'
               'exclude = ["10.201.7.0/30"]\n')
    write_rule(b, 'tracer = "tcpconnect"\nactions = []\n'
               '[filterEvents.dport]\nvalues = ["7000-7010", 7020]\nexclude = [7005]\n')
    try:
        deadline = time.time() + 10
        while not tracer_status("tcpconnect")["prefilter"] and time.time() < deadline:
            time.sleep(0.1)
        assert tracer_status("tcpconnect")["prefilter"], tracer_status("tcpconnect")
        before = tracer_status("tcpconnect")["prefiltered"]
        tr = Trace(D, "--tracer", "tcpconnect")
        try:
            ports = [7000, 7005, 7010, 7011, 7020, 7030]
            for port in ports:
                run(python(CONNECT, "127.0.0.1", port))
            run(python(CONNECT, "::1", 7030))
            run(NETNS.exec(NETNS.a, python(CONNECT, NETNS.addr_b, 7031)))
            tr.wait_for(of("tcpconnect", dport=7020), what="a port rule's match")
            tr.wait_for(of("tcpconnect", dport=7030, daddr="::1"), what="an address rule's match")
            time.sleep(0.5)
            got = sorted(int(e["data"]["dport"]) for e in tr.all(lambda e: True))
        finally:
            tr.stop()
        # 7005 is excluded, 7011 and 7030 (IPv4) match nothing, 10.201.7.2 is excluded.
        assert got == [7000, 7010, 7020, 7030], got
        ev = T.wait_for(of("tcpconnect", dport=7020))
        assert b in ev.get("rules", []), ev
        # 7011 and 7030 to 127.0.0.1 never left the kernel; 7005 and 10.201.7.2 did (exclude
        # and a CIDR with an excluded block are the daemon's to judge).
        assert tracer_status("tcpconnect")["prefiltered"] - before >= 2
    finally:
        for n in (a, b):
            os.unlink(os.path.join(D.tmp, "rules", n + ".toml"))
    deadline = time.time() + 10
    while tracer_status("tcpconnect")["prefilter"] and time.time() < deadline:
        time.sleep(0.1)
    assert not tracer_status("tcpconnect")["prefilter"]


def test_bad_address_and_port_values_rejected():
    for key, value in (("daddr", '"10.0.0.0/33"'), ("daddr", '"example.com"'),
                       ("dport", '"9000-8000"'), ("dport", "70000"), ("sport", '"80-"')):
        path = os.path.join(D.tmp, "bad.toml")
        with open(path, "w") as f:
            f.write('tracer = "tcpconnect"\n[filterEvents.%s]\nvalues = [%s]\n' % (key, value))
        r = D.cli("check", path, check=False)
        assert r.returncode != 0 and key in r.stderr + r.stdout, (key, value, r.stderr)
        os.unlink(path)


def main():
    global D, T, DOCKER, NETNS
    require_root()
    DOCKER = Docker()
    NETNS = Netns()
    D = Daemon("--tracers", "tcpconnect,tcpaccept,tcpdrop")
    os.makedirs(os.path.join(D.tmp, "rules"))
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_refused_connect_as_unprivileged_user,
            test_timed_out_connect_through_a_drop_rule,
            test_nonblocking_connect_and_accept_across_namespaces,
            test_listen_backlog_overflowed,
            test_connect_inside_a_docker_container,
            test_syn_flood_aggregated_and_status_answers,
            test_address_and_port_rules_with_prefilter,
            test_bad_address_and_port_values_rejected,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        NETNS.close()
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
