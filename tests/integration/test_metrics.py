#!/usr/bin/env python3
"""The metrics server (docs/deploy.md, "Metrics"): a real Prometheus scraping a
real daemon, `promtool` on the page and the shipped alerting rules, a unix
socket, TLS and a bearer token, the refusals, an unprivileged user holding
connections open while events keep flowing, and the fleet files
(deploy/prometheus, deploy/grafana, deploy/kubernetes).
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from bpfdtest import Daemon, Trace, make_program, require_root, run_tests, unique, wait_until

SOURCE = os.environ.get("BPFD_SOURCE_ROOT",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ALERTS = os.path.join(SOURCE, "deploy", "prometheus", "alerts.yml")
DASHBOARD = os.path.join(SOURCE, "deploy", "grafana", "bpfd-fleet.json")
MANIFEST = os.path.join(SOURCE, "deploy", "kubernetes", "bpfd.yaml")

CONNECTIONS_MAX = 16      # METRICS_CONNECTIONS_MAX, daemon/metrics.h
CONNECTIONS_PER_IP = 4    # METRICS_CONNECTIONS_PER_IP
TIMEOUT_S = 2             # metrics_timeout below

D = None                  # the main daemon: 127.0.0.1, no token
T = None
PORT = None
RULE = "metrics_rule"
WORKLOAD = unique("mx")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def daemon_sockets(pid):
    """The sockets process @pid holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def get(url, headers=None, context=None, timeout=10):
    """(status, headers, body) of a GET; HTTP errors are answers too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def page():
    code, headers, body = get("http://127.0.0.1:%d/metrics" % PORT)
    assert code == 200, (code, body[:300])
    return headers, body


def sample(body, name, labels=None):
    """The value of @name{@labels...} in a page, or None."""
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in (labels or {}).items()):
            return float(m.group(3))
    return None


def promtool(*args, stdin=None):
    return subprocess.run(["promtool"] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=60)


def write_config(tmp, lines):
    path = os.path.join(tmp, "bpfd.conf")
    with open(path, "w") as f:
        f.write("[daemon]\n" + "".join(l + "\n" for l in lines))
    return path


def run_workload(n):
    prog = make_program(D.tmp, WORKLOAD)
    for _ in range(n):
        subprocess.run([prog], check=True)
    return prog


def test_page_passes_promtool():
    headers, body = page()
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    r = promtool("check", "metrics", stdin=body)
    assert r.returncode == 0, r.stdout + r.stderr
    for family in ("bpfd_events_total", "bpfd_events_lost_total", "bpfd_events_prefiltered_total",
                   "bpfd_rule_matches_total", "bpfd_action_runs_total",
                   "bpfd_action_failures_total", "bpfd_action_suppressed_total",
                   "bpfd_subscribers", "bpfd_subscriber_dropped_total",
                   "bpfd_cgroup_cache_entries", "bpfd_kernel_map_entries",
                   "bpfd_kernel_map_failed_inserts_total", "bpfd_build_info",
                   "bpfd_tracer_state"):
        assert "# TYPE %s " % family in body, family
    assert sample(body, "bpfd_tracer_state", {"tracer": "exec", "state": "loaded"}) == 1
    assert sample(body, "bpfd_tracer_state", {"tracer": "open", "state": "disabled"}) == 1
    version = json.loads(D.cli("version", "--json").stdout)
    info = [l for l in body.splitlines() if l.startswith("bpfd_build_info{")]
    assert len(info) == 1 and ('kernel="%s"' % os.uname().release) in info[0], info
    # The numbers are status's: one trace subscriber, the same kernel maps.
    st = D.status()
    assert sample(body, "bpfd_subscribers") == len(st["subscribers"])
    for m in st["kernel_maps"]:
        assert sample(body, "bpfd_kernel_map_capacity", {"map": m["name"]}) == m["capacity"]
    assert version


def test_other_paths_and_methods():
    code, _, body = get("http://127.0.0.1:%d/" % PORT)
    assert code == 404, code
    code, _, _ = get("http://127.0.0.1:%d/metrics/x" % PORT)
    assert code == 404, code
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % PORT, data=b"x=1",
                                 method="POST")
    try:
        urllib.request.urlopen(req, timeout=10)
        assert False, "POST answered 2xx"
    except urllib.error.HTTPError as e:
        assert e.code == 405, e.code
    # A request line past the per-connection memory: refused or cut, the daemon unharmed.
    try:
        code = get("http://127.0.0.1:%d/metrics?%s" % (PORT, "a" * 40000))[0]
    except OSError:
        code = None
    assert code in (None, 413, 414, 431), code
    page()


def test_rule_matches_counted():
    before = sample(page()[1], "bpfd_rule_matches_total", {"rule": RULE}) or 0
    prog = run_workload(5)
    wait_until(lambda: len(T.all(lambda e: e["data"].get("filename") == prog)) >= 5,
               "the workload's 5 events")
    body = page()[1]
    assert sample(body, "bpfd_rule_matches_total", {"rule": RULE}) == before + 5, body[-2000:]
    # The rule has the default priority: it and its matches count under warning.
    assert sample(body, "bpfd_rules_by_priority", {"priority": "warning"}) >= 1, body[-2000:]
    assert sample(body, "bpfd_events_matched_by_priority_total",
                  {"priority": "warning"}) >= before + 5, body[-2000:]
    ls = json.loads(D.cli("ls", "--json").stdout)
    rule = [r for r in ls["rules"] if r["name"] == RULE][0]
    assert rule["matches"] == before + 5, rule


def test_prometheus_scrapes():
    tmp = tempfile.mkdtemp(prefix="prom-")
    web = free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files: [%s]\n"
                "scrape_configs:\n  - job_name: bpfd\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % (json.dumps(ALERTS), PORT))
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    prom = subprocess.Popen(["prometheus", "--config.file", os.path.join(tmp, "prometheus.yml"),
                             "--storage.tsdb.path", os.path.join(tmp, "data"),
                             "--web.listen-address", "127.0.0.1:%d" % web],
                            stdout=log, stderr=log, cwd=tmp)

    def query(q):
        code, _, body = get("http://127.0.0.1:%d/api/v1/query?%s" %
                            (web, urllib.parse.urlencode({"query": q})), timeout=5)
        if code != 200:
            return None
        res = json.loads(body)["data"]["result"]
        return float(res[0]["value"][1]) if res else None

    def value(q):
        try:
            return query(q)
        except (OSError, ValueError):
            return None

    try:
        wait_until(lambda: value('up{job="bpfd"}') == 1, "Prometheus scraping bpfd (up == 1)",
                   timeout=60)
        events = value('bpfd_events_total{tracer="exec"}')
        matches = value('bpfd_rule_matches_total{rule="%s"}' % RULE) or 0
        assert events is not None
        run_workload(3)
        wait_until(lambda: (value('bpfd_rule_matches_total{rule="%s"}' % RULE) or 0)
                   >= matches + 3, "the rule's matches grown in Prometheus", timeout=30)
        wait_until(lambda: (value('bpfd_events_total{tracer="exec"}') or 0) >= events + 3,
                   "exec events grown in Prometheus", timeout=30)
        assert value('bpfd_tracer_state{tracer="exec",state="loaded"}') == 1
        # The shipped alerts load and evaluate against the real series.
        code, _, body = get("http://127.0.0.1:%d/api/v1/rules" % web)
        groups = json.loads(body)["data"]["groups"]
        assert {r["name"] for g in groups for r in g["rules"]} >= {
            "BpfdTracerFailed", "BpfdEventsLost", "BpfdActionFailing"}, groups
        assert all(r["health"] in ("ok", "unknown") for g in groups for r in g["rules"]), groups
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(30)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_bpf_run_stats():
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        was = f.read().strip()
    if was == "0":
        assert sample(page()[1], "bpfd_bpf_runs_total", {"tracer": "exec"}) is None
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        run_workload(3)
        body = page()[1]
        assert (sample(body, "bpfd_bpf_runs_total", {"tracer": "exec"}) or 0) >= 3, \
            [l for l in body.splitlines() if "bpf_run" in l]
        assert (sample(body, "bpfd_bpf_run_seconds_total", {"tracer": "exec"}) or 0) > 0
        st = [t for t in D.status()["tracers"] if t["name"] == "exec"][0]
        assert st["run_count"] >= 3 and st["run_time_ns"] > 0, st
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(was)


def test_slow_clients_cannot_stall_the_loop():
    """As nobody: 200 connections that never finish their headers. The loop
    serves events and `status` meanwhile; at most CONNECTIONS_MAX are held,
    and after metrics_timeout every one is cut and scrapes work again."""
    holder = r'''
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    # Past the server's limit and the listen backlog, connect() waits: cut short.
    s = socket.socket()
    s.settimeout(0.2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    except OSError:
        s.close()
time.sleep(0.5)
def alive():
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            n += s.recv(1) != b""
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n
print("held", alive(), flush=True)
deadline = time.time() + hold
while time.time() < deadline and alive():
    time.sleep(0.2)
print("left", alive(), flush=True)
'''
    before = daemon_sockets(D.pid)
    proc = subprocess.Popen(["setpriv", "--reuid", "nobody", "--regid", "nogroup",
                             "--clear-groups", sys.executable, "-c", holder, str(PORT), "200",
                             str(TIMEOUT_S * 6 + 4)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("held "), line
        # What the daemon took in, watched for a second: the rest waits in the
        # kernel's listen backlog.
        taken = []
        for _ in range(10):
            taken.append(daemon_sockets(D.pid) - before)
            time.sleep(0.1)
        assert 0 < max(taken) <= CONNECTIONS_MAX, \
            "%s connections taken (bound %d; client: %s)" % (taken, CONNECTIONS_MAX,
                                                            line.strip())
        # The event path and the control socket do not wait for them.
        prog = make_program(D.tmp, WORKLOAD + "s")
        t0 = time.time()
        subprocess.run([prog], check=True)
        T.wait_for(lambda e: e["data"].get("filename") == prog, timeout=5,
                   what="an event while the metrics server is full")
        D.cli("status", timeout=5)
        assert time.time() - t0 < 5
        line = proc.stdout.readline()
        assert line.strip() == "left 0", "connections still open after metrics_timeout: " + line
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    page()
    assert D.proc.poll() is None


def start_other(lines, wait=True):
    d = Daemon("--tracers", "exec")
    os.makedirs(d.tmp, exist_ok=True)
    d.args += ["--config", write_config(d.tmp, lines)]
    return d.start(wait=wait)


def test_unix_socket_and_token():
    tmp = tempfile.mkdtemp(prefix="mx-")
    path = os.path.join(tmp, "metrics.sock")
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("s3cret-token\n")
    os.chmod(token, 0o600)
    d = start_other(["metrics = " + path, "metrics_token_file = " + token])
    try:
        def curl(*args):
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--unix-socket", path] + list(args) +
                               ["http://localhost/metrics"], capture_output=True, text=True,
                               timeout=30)
            return r.stdout
        assert curl() == "401"
        assert curl("-H", "Authorization: Bearer wrong-token") == "401"
        assert curl("-H", "Authorization: Bearer s3cret-token-and-more") == "401"
        assert curl("-H", "Authorization: Bearer s3cret-token") == "200"
        r = subprocess.run(["curl", "-sf", "--unix-socket", path, "-H",
                            "Authorization: Bearer s3cret-token", "http://localhost/metrics"],
                           capture_output=True, text=True, timeout=30)
        assert "bpfd_metrics_unauthorized_total 3" in r.stdout, r.stdout[-1500:]
    finally:
        d.cleanup()
    assert not os.path.exists(path), "the unix socket was left behind"
    shutil.rmtree(tmp, ignore_errors=True)


def test_tls_and_token_on_any_address():
    tmp = tempfile.mkdtemp(prefix="mx-")
    cert, key, token = (os.path.join(tmp, n) for n in ("tls.crt", "tls.key", "token"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    with open(token, "w") as f:
        f.write("tls-token")
    os.chmod(token, 0o400)
    port = free_port()
    d = start_other(["metrics = 0.0.0.0:%d" % port, "metrics_tls_cert = " + cert,
                     "metrics_tls_key = " + key, "metrics_token_file = " + token])
    try:
        ctx = ssl.create_default_context(cafile=cert)
        url = "https://127.0.0.1:%d/metrics" % port
        assert get(url, context=ctx)[0] == 401
        assert get(url, {"Authorization": "Bearer nope"}, context=ctx)[0] == 401
        code, _, body = get(url, {"Authorization": "Bearer tls-token"}, context=ctx)
        assert code == 200 and "bpfd_build_info{" in body, (code, body[:200])
        # Plain HTTP to the TLS port gets no page.
        try:
            code = get("http://127.0.0.1:%d/metrics" % port, timeout=5)[0]
        except OSError:
            code = None
        assert code != 200
    finally:
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def test_refusals():
    """Settings that would expose the page or a secret: the daemon refuses to start."""
    tmp = tempfile.mkdtemp(prefix="mx-")
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("t")
    cases = [
        (["metrics = 0.0.0.0:%d" % free_port()], "reachable from other hosts"),
        (["metrics = 0.0.0.0:%d" % free_port(), "metrics_token_file = " + token],
         "reachable from other hosts"),
    ]
    os.chmod(token, 0o644)
    cases.append((["metrics = 127.0.0.1:%d" % free_port(), "metrics_token_file = " + token],
                  "neither its group's nor others'"))
    cases.append((["metrics = 127.0.0.1:%d" % PORT], "cannot listen"))
    for lines, message in cases:
        d = start_other(lines, wait=False)
        try:
            assert d.proc.wait(30) == 1, lines
            assert message in d.stderr(), (lines, d.stderr())
            assert "ready:" not in d.stderr()
        finally:
            d.cleanup()
    # Told so, a daemon serves another host without TLS or token.
    port = free_port()
    d = start_other(["metrics = 0.0.0.0:%d" % port, "metrics_insecure = true"])
    try:
        assert get("http://127.0.0.1:%d/metrics" % port)[0] == 200
        # Where other hosts connect, one address holds PER_IP connections at most.
        before = daemon_sockets(d.pid)
        socks = []
        for _ in range(12):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            socks.append(c)
        time.sleep(1)
        taken = daemon_sockets(d.pid) - before
        for c in socks:
            c.close()
        assert 0 < taken <= CONNECTIONS_PER_IP, "%d connections from one address" % taken
    finally:
        d.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def test_shipped_alerts_pass_promtool():
    r = promtool("check", "rules", ALERTS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_dashboard_names_real_metrics():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert exprs and dash["uid"] and dash["title"]
    body = page()[1]
    families = set(re.findall(r"^# TYPE (\S+) ", body, re.M)) | {"up"}
    used = set()
    for e in exprs:
        used |= set(re.findall(r"\b(bpfd_[a-z0-9_]+)", e))
    # Families the test daemon may lack: run stats (bpf_stats off), the process table.
    optional = {"bpfd_bpf_run_seconds_total", "bpfd_process_table_entries"}
    missing = used - families - optional
    assert not missing, missing
    assert {"bpfd_rule_matches_total", "bpfd_events_total"} <= used
    assert any("instance" in e for e in exprs) and any("by (rule)" in e for e in exprs)
    with open(ALERTS) as f:
        alerts = f.read()
    missing = set(re.findall(r"\b(bpfd_[a-z0-9_]+)", alerts)) - families
    assert not missing, missing


def test_kubernetes_scrapes_with_tls_and_token():
    import yaml
    with open(MANIFEST) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
    tpl = ds["spec"]["template"]
    ann = tpl["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/scheme"] == "https"
    bpfd = [c for c in tpl["spec"]["containers"] if c["name"] == "bpfd"][0]
    assert {"name": "metrics", "containerPort": int(ann["prometheus.io/port"]),
            "protocol": "TCP"} in bpfd["ports"]
    conf = [d for d in docs if d["kind"] == "ConfigMap" and
            d["metadata"]["name"] == "bpfd-config"][0]["data"]["bpfd.conf"]
    keys = dict(re.findall(r"^(metrics\w*) = (\S+)$", conf, re.M))
    assert keys["metrics"].endswith(":" + ann["prometheus.io/port"]), keys
    mounts = {m["mountPath"] for m in bpfd["volumeMounts"]}
    for k in ("metrics_tls_cert", "metrics_tls_key", "metrics_token_file"):
        assert os.path.dirname(keys[k]) in mounts, k
    secrets = {v["name"]: v["secret"] for v in tpl["spec"]["volumes"] if "secret" in v}
    assert all(s["defaultMode"] == 0o400 for s in secrets.values()), secrets


def main():
    global D, T, PORT
    require_root()
    PORT = free_port()
    D = Daemon("--tracers", "exec")
    os.makedirs(D.tmp, exist_ok=True)
    D.args += ["--config", write_config(D.tmp, ["metrics_timeout = %ds" % TIMEOUT_S]),
               "--metrics", "127.0.0.1:%d" % PORT]
    D.write_rules({RULE: 'tracer = "exec"\n[filterEvents.command]\nvalues = ["%s*"]\n'
                   % WORKLOAD})
    D.start()
    T = Trace(D)
    try:
        rc = run_tests([
            test_page_passes_promtool,
            test_other_paths_and_methods,
            test_rule_matches_counted,
            test_prometheus_scrapes,
            test_bpf_run_stats,
            test_slow_clients_cannot_stall_the_loop,
            test_unix_socket_and_token,
            test_tls_and_token_on_any_address,
            test_refusals,
            test_shipped_alerts_pass_promtool,
            test_dashboard_names_real_metrics,
            test_kubernetes_scrapes_with_tls_and_token,
        ])
    finally:
        T.stop()
        D.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
