#!/usr/bin/env python3
"""The webhook action against a real HTTP server run by the test: the JSON
and Slack bodies, retries until a 2xx, failures counted for a server that
is down or too slow (and the daemon never waits for it), drops when the
queue is full, and a config reload with a POST in flight."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bpfdtest import Daemon, Trace, make_program, require_root, run_tests, unique

D = None
T = None
SERVER = None
TLS_SERVER = None   # None when openssl cannot make a certificate here
TMP = None
PROGS = {}      # instance ("slack") -> the program its rule matches


class Handler(BaseHTTPRequestHandler):
    """Records every POST by path; the path says how to answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = self.path
        srv = self.server
        with srv.cond:
            srv.requests.setdefault(path, []).append((dict(self.headers), body))
            n = len(srv.requests[path])
            srv.cond.notify_all()
        if path == "/flaky" and n <= 2:
            status = 500
        elif path.startswith("/slow"):
            time.sleep(10)
            status = 200
        elif path == "/hold":
            time.sleep(0.4)
            status = 200
        else:
            status = 200
        try:
            reply = b"ok\n" if status == 200 else b"try again\n"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except OSError:  # the client gave up (timeout)
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.requests = {}
        self.cond = threading.Condition()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.server_address[1])

    def posts(self, path):
        with self.cond:
            return list(self.requests.get(path, []))

    def wait(self, path, count=1, timeout=10):
        deadline = time.time() + timeout
        with self.cond:
            while len(self.requests.get(path, [])) < count:
                left = deadline - time.time()
                assert left > 0, "%d POSTs to %s within %ss, not %d" % (
                    len(self.requests.get(path, [])), path, timeout, count)
                self.cond.wait(left)
            return list(self.requests[path])


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def action(name):
    for a in D.status()["actions"]:
        if a["name"] == name:
            return a
    raise AssertionError("no action %s in status" % name)


def wait_action(name, pred, what, timeout=10):
    deadline = time.time() + timeout
    while True:
        a = action(name)
        if pred(a):
            return a
        assert time.time() < deadline, "%s: %s" % (what, a)
        time.sleep(0.05)


def run(instance):
    p = subprocess.Popen([PROGS[instance]])
    p.wait()
    return p.pid


def other_event_reaches_trace(timeout=10):
    """An event of the rule without actions gets to `bpfd trace`."""
    pid = run("other")
    T.wait_for(lambda e: e["pid"] == pid and e["rules"] == ["wh_other"], timeout=timeout,
               what="event of pid %d" % pid)


def config_text(slow_url):
    return """
[webhook]
url = {url}/json
header = X-Bpfd-Test: yes

[webhook:slack]
url = {url}/slack
format = slack

[webhook:flaky]
url = {url}/flaky
backoff = 100ms

[webhook:down]
url = http://127.0.0.1:{closed}/
retries = 2
backoff = 50ms

[webhook:slow]
url = {slow_url}
timeout = 3s
retries = 0

[webhook:burst]
url = {url}/hold
queue = 2
max_in_flight = 1
retries = 0

[webhook:nourl]
format = slack

[webhook:tls]
url = {tls}/tls
insecure = true

[webhook:tlsstrict]
url = {tls}/tlsstrict
retries = 0
""".format(url=SERVER.url, closed=closed_port(), slow_url=slow_url,
           tls=TLS_SERVER.url if TLS_SERVER else "https://127.0.0.1:1")


def test_json_body():
    pid = run("webhook")
    headers, body = SERVER.wait("/json")[0]
    ev = json.loads(body)
    assert ev["tracer"] == "exec" and ev["pid"] == pid, ev
    assert ev["command"] == os.path.basename(PROGS["webhook"]), ev
    assert ev["data"]["filename"] == PROGS["webhook"], ev
    assert ev["rules"] == ["wh_webhook"], ev
    assert headers["Content-Type"] == "application/json", headers
    assert headers["User-Agent"].startswith("bpfd/"), headers
    assert headers["X-Bpfd-Test"] == "yes", headers
    a = wait_action("webhook", lambda a: a["pending"] == 0, "still pending")
    assert a["type"] == "webhook" and a["runs"] == 1 and a["failures"] == 0, a


def test_slack_body():
    pid = run("slack")
    headers, body = SERVER.wait("/slack")[0]
    msg = json.loads(body)
    assert list(msg) == ["text"], msg
    text = msg["text"]
    assert "\n" not in text, text
    name = os.path.basename(PROGS["slack"])
    for want in ("rule wh_slack", "exec by " + name, "pid %d" % pid,
                 "filename=" + PROGS["slack"], "argv=" + PROGS["slack"]):
        assert want in text, (want, text)
    assert "command=" not in text and "returnval=" not in text, text


def test_retries_until_success():
    run("flaky")
    posts = SERVER.wait("/flaky", 3)
    assert len({body for _, body in posts}) == 1, "retries POST the same event"
    a = wait_action("webhook:flaky", lambda a: a["pending"] == 0, "still pending")
    time.sleep(0.3)  # a 4th POST would come now
    assert len(SERVER.posts("/flaky")) == 3, SERVER.posts("/flaky")
    assert a["failures"] == 0 and a["runs"] == 1, a


def test_server_down():
    run("down")
    # 3 attempts 50 and 100 ms apart, each refused at once.
    a = wait_action("webhook:down", lambda a: a["failures"] == 1, "no failure counted")
    assert a["pending"] == 0, a
    assert "action webhook:down failed: POST http://127.0.0.1:" in D.stderr(), D.stderr()
    assert "(3 attempts)" in D.stderr(), D.stderr()
    # The daemon goes on: status answers and other events reach trace.
    t0 = time.time()
    D.status()
    assert time.time() - t0 < 1.5, "status took %.1fs" % (time.time() - t0)
    other_event_reaches_trace()


def test_slow_server_does_not_block():
    start = time.time()
    run("slow")
    SERVER.wait("/slow")
    # The POST hangs in the server; the daemon does not wait for it (a
    # daemon that did would answer after the 3 s timeout).
    t0 = time.time()
    a = action("webhook:slow")
    assert time.time() - t0 < 1.5, "status took %.1fs" % (time.time() - t0)
    assert a["pending"] == 1 and a["failures"] == 0, a
    other_event_reaches_trace(timeout=1.5)
    a = wait_action("webhook:slow", lambda a: a["failures"] == 1, "no timeout failure")
    assert a["pending"] == 0, a
    assert time.time() - start < 7, "timeout = 3s took %.1fs" % (time.time() - start)
    assert "Operation timed out" in D.stderr() or "timed out" in D.stderr(), D.stderr()


def test_queue_full_drops():
    for _ in range(20):
        run("burst")
    a = wait_action("webhook:burst", lambda a: a["runs"] == 20, "not 20 runs")
    # One in flight (0.4 s each), two waiting: the rest had no room.
    assert a["dropped"] >= 10, a
    a = wait_action("webhook:burst", lambda a: a["pending"] == 0, "still pending")
    assert len(SERVER.posts("/hold")) == 20 - a["dropped"], (len(SERVER.posts("/hold")), a)
    assert a["failures"] == 0, a


def test_https():
    if not TLS_SERVER:
        print("skipped: openssl could not make a test certificate")
        return
    pid = run("tls")
    _, body = TLS_SERVER.wait("/tls")[0]
    assert json.loads(body)["pid"] == pid, body
    wait_action("webhook:tls", lambda a: a["pending"] == 0, "still pending")
    # Without `insecure` the self-signed certificate is refused.
    run("tlsstrict")
    a = wait_action("webhook:tlsstrict", lambda a: a["failures"] == 1, "no failure")
    assert not TLS_SERVER.posts("/tlsstrict"), "POSTed to an unverified server"
    assert a["pending"] == 0, a


def test_missing_url():
    a = action("webhook:nourl")
    assert "no `url` in [webhook:nourl] of the config" in D.stderr(), D.stderr()
    assert "no `url`" in (a.get("error") or ""), a


def test_reload_with_post_in_flight():
    run("slow")
    SERVER.wait("/slow", 2)
    assert action("webhook:slow")["pending"] == 1
    # A changed section remakes the instance: its transfer is abandoned.
    with open(os.path.join(TMP, "bpfd.conf"), "w") as f:
        f.write(config_text(SERVER.url + "/slow2"))
    os.kill(D.pid, signal.SIGHUP)
    wait_action("webhook:slow", lambda a: a["pending"] == 0, "transfer not dropped")
    run("slow")
    SERVER.wait("/slow2")
    # And stopping with one in flight is clean too (see main).


def test_bad_url_refused():
    tmp = tempfile.mkdtemp(prefix="bpfd-it-")
    conf = os.path.join(tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("[webhook:ftp]\nurl = ftp://example.com/\n")
    d = Daemon("--config", conf, tmpdir=tmp)
    try:
        d.start(wait=False)
        rc = d.proc.wait(30)
        assert rc != 0, rc
        assert 'url: "ftp://example.com/" is not an http:// or https:// URL' in d.stderr(), \
            d.stderr()
    finally:
        d.cleanup()


def tls_server():
    """An HTTPS server with a fresh self-signed certificate, or None."""
    if not shutil.which("openssl"):
        return None
    d = tempfile.mkdtemp(prefix="bpfd-tls-")
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                       capture_output=True)
    if r.returncode:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    shutil.rmtree(d, ignore_errors=True)
    return Server(tls=ctx)


def main():
    global D, T, SERVER, TLS_SERVER, TMP
    require_root()
    # The daemon must reach the test's server directly.
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY"):
        os.environ.pop(k, None)
    SERVER = Server()
    TLS_SERVER = tls_server()
    TMP = tempfile.mkdtemp(prefix="bpfd-it-")
    rules = os.path.join(TMP, "rules")
    os.makedirs(rules)
    for inst in ("webhook", "slack", "flaky", "down", "slow", "burst", "tls", "tlsstrict",
                 "other"):
        actions = {"webhook": "'webhook'", "other": ""}.get(inst, "'webhook:%s'" % inst)
        PROGS[inst] = make_program(TMP, unique("wh"))
        with open(os.path.join(rules, "wh_%s.toml" % inst), "w") as f:
            f.write("tracer = 'exec'\nactions = [%s]\n[filterEvents.command]\n"
                    "values = ['%s']\n" % (actions, os.path.basename(PROGS[inst])))
    with open(os.path.join(TMP, "bpfd.conf"), "w") as f:
        f.write(config_text(SERVER.url + "/slow"))
    D = Daemon("--tracers", "exec", "--config", os.path.join(TMP, "bpfd.conf"), tmpdir=TMP)
    D.start()
    T = Trace(D)
    try:
        status = run_tests([
            test_json_body,
            test_slack_body,
            test_retries_until_success,
            test_server_down,
            test_slow_server_does_not_block,
            test_queue_full_drops,
            test_https,
            test_missing_url,
            test_reload_with_post_in_flight,
            test_bad_url_refused,
        ])
    finally:
        T.stop()
        # A POST to /slow2 is still in flight: stopping must not wait for it.
        t0 = time.time()
        rc = D.stop()
        stop_s = time.time() - t0
        err = D.stderr()
        D.cleanup()
        SERVER.shutdown()
        if TLS_SERVER:
            TLS_SERVER.shutdown()
    if rc != 0 or stop_s > 5:
        print("FAIL daemon stop: exit %s after %.1fs\n%s" % (rc, stop_s, err))
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
