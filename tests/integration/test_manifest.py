#!/usr/bin/env python3
"""deploy/kubernetes/bpfd.yaml, checked without a cluster: its objects and
their references, the DaemonSet's host access (hostPID, the host paths the
image needs, capabilities, probes, resources), and its ConfigMaps' rules and
config through `bpfd check`. Needs no root (suite 'unit')."""
import configparser
import os
import re
import subprocess
import sys
import tempfile

from bpfdtest import BPFD, SKIP, run_tests

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed (scripts/setup installs it)")
    sys.exit(SKIP)

SOURCE = os.environ.get("BPFD_SOURCE_ROOT",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MANIFEST = os.path.join(SOURCE, "deploy", "kubernetes", "bpfd.yaml")

API = {"Namespace": "v1", "ServiceAccount": "v1", "ConfigMap": "v1", "DaemonSet": "apps/v1"}
# What the image needs from the host (docs/deploy.md; test_image.py runs it so).
HOST_PATHS = {"/lib/modules": True, "/usr/src": True, "/sys/fs/cgroup": True,
              "/sys/kernel/tracing": False, "/sys/kernel/btf": True, "/run/bpfd": False}
# The smallest set test_image.py shows to work (docker here knows no BPF, PERFMON).
NEEDED_CAPS = {"SYS_ADMIN", "SYS_PTRACE"}

DOCS = []


def objects(kind):
    return [d for d in DOCS if d["kind"] == kind]


def one(kind, name=None):
    found = [d for d in objects(kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, "%d %s objects named %s" % (len(found), kind, name)
    return found[0]


def daemonset():
    return one("DaemonSet")


def pod():
    return daemonset()["spec"]["template"]["spec"]


def bpfd_container():
    cs = [c for c in pod()["containers"] if c["name"] == "bpfd"]
    assert len(cs) == 1, [c["name"] for c in pod()["containers"]]
    return cs[0]


def mount(container, path):
    ms = [m for m in container.get("volumeMounts", []) if m["mountPath"] == path]
    assert len(ms) == 1, "%s: %d mounts at %s" % (container["name"], len(ms), path)
    return ms[0]


def volume(name):
    vs = [v for v in pod()["volumes"] if v["name"] == name]
    assert len(vs) == 1, "%d volumes named %s" % (len(vs), name)
    return vs[0]


def config_text():
    """The bpfd.conf the DaemonSet's --config names, from its ConfigMap."""
    cmd = bpfd_container()["command"]
    path = cmd[cmd.index("--config") + 1]
    m = mount(bpfd_container(), os.path.dirname(path))
    cm = one("ConfigMap", volume(m["name"])["configMap"]["name"])
    return cm["data"][os.path.basename(path)]


def config():
    c = configparser.ConfigParser(inline_comment_prefixes=(";",), comment_prefixes=(";", "#"),
                                  interpolation=None)
    c.read_string(config_text())
    return c


def test_kinds_and_namespace():
    kinds = sorted(d["kind"] for d in DOCS)
    for k in ("Namespace", "ServiceAccount", "DaemonSet"):
        assert kinds.count(k) == 1, kinds
    assert kinds.count("ConfigMap") >= 2, kinds
    ns = one("Namespace")["metadata"]["name"]
    for d in DOCS:
        assert d["apiVersion"] == API[d["kind"]], (d["kind"], d["apiVersion"])
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == ns, (d["kind"], d["metadata"])
    assert pod()["serviceAccountName"] == one("ServiceAccount")["metadata"]["name"]


def test_selector_matches_template():
    ds = daemonset()
    sel = ds["spec"]["selector"]["matchLabels"]
    labels = ds["spec"]["template"]["metadata"]["labels"]
    assert sel and all(labels.get(k) == v for k, v in sel.items()), (sel, labels)


def test_host_access():
    p = pod()
    assert p.get("hostPID") is True, "hostPID must be true"
    tol = p.get("tolerations", [])
    assert any(t.get("operator") == "Exists" and "key" not in t for t in tol), \
        "no toleration for every taint: %s" % tol
    c = bpfd_container()
    for path, ro in HOST_PATHS.items():
        m = mount(c, path)
        v = volume(m["name"])
        assert v.get("hostPath", {}).get("path") == path, (path, v)
        if ro:
            assert m.get("readOnly") is True, "%s must be read-only" % path
    sc = c["securityContext"]
    assert not sc.get("privileged"), "the manifest uses capabilities, not privileged"
    caps = set(sc["capabilities"]["add"])
    assert NEEDED_CAPS <= caps, caps
    assert all(cap == cap.upper() and not cap.startswith("CAP_") for cap in caps), caps


def test_command_runs_the_daemon():
    cmd = bpfd_container()["command"]
    assert os.path.basename(cmd[0]) == "bpfd" and cmd[1] == "daemon", cmd


def test_every_mount_has_a_volume_and_every_volume_is_used():
    names = [v["name"] for v in pod()["volumes"]]
    assert len(names) == len(set(names)), names
    used = set()
    for c in pod()["containers"] + pod().get("initContainers", []):
        for m in c.get("volumeMounts", []):
            assert m["name"] in names, "%s mounts %s: no such volume" % (c["name"], m["name"])
            used.add(m["name"])
    assert used == set(names), "volumes no container mounts: %s" % (set(names) - used)
    for v in pod()["volumes"]:
        if "configMap" in v:
            one("ConfigMap", v["configMap"]["name"])


def test_probes_and_resources():
    c = bpfd_container()
    for probe in ("readinessProbe", "livenessProbe"):
        cmd = c[probe]["exec"]["command"]
        assert os.path.basename(cmd[0]) == "bpfd" and cmd[1] == "status", (probe, cmd)
    for c in pod()["containers"]:
        res = c.get("resources", {})
        assert res.get("requests") and res.get("limits"), "%s: no requests or limits" % c["name"]
        assert "memory" in res["limits"], c["name"]


def test_rules_configmap_mounted_as_directory():
    """Whole ConfigMap at the rules directory, no subPath: kubelet's updates reach it."""
    rules_dir = config()["daemon"]["rules_dir"]
    m = mount(bpfd_container(), rules_dir)
    assert "subPath" not in m, "a subPath mount never sees ConfigMap updates"
    v = volume(m["name"])
    cm = one("ConfigMap", v["configMap"]["name"])
    assert cm["data"] and all(k.endswith(".toml") for k in cm["data"]), list(cm["data"])


def rules_configmap():
    return one("ConfigMap", volume(mount(bpfd_container(), config()["daemon"]["rules_dir"])["name"])
               ["configMap"]["name"])


def test_rules_pass_bpfd_check():
    """The ConfigMap as the daemon reads it: a rules directory, lists and overrides included."""
    with tempfile.TemporaryDirectory() as d:
        for name, text in rules_configmap()["data"].items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        r = subprocess.run([BPFD, "check", "--rules-dir", d], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "warning" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_configmap_is_the_library():
    """Every file of rules/ as it is, and fleet.local.toml adding the file action to every rule."""
    data = rules_configmap()["data"]
    lib = sorted(f for f in os.listdir(os.path.join(SOURCE, "rules")) if f.endswith(".toml"))
    assert sorted(data) == sorted(lib + ["fleet.local.toml"]), sorted(data)
    names = []
    for f in lib:
        with open(os.path.join(SOURCE, "rules", f)) as fh:
            text = fh.read()
        assert data[f] == text, "%s differs from rules/%s: run scripts/manifest" % (f, f)
        names += re.findall(r'^name = "([^"]+)"', text, re.M)
    overridden = re.findall(r'^rule = "([^"]+)"\nactions = \["file"\]$', data["fleet.local.toml"],
                            re.M)
    assert sorted(overridden) == sorted(names), set(names) ^ set(overridden)
    r = subprocess.run([os.path.join(SOURCE, "scripts", "manifest"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_config_passes_bpfd_check():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bpfd.conf")
        with open(path, "w") as f:
            f.write(config_text())
        r = subprocess.run([BPFD, "check", "--config", path], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    c = config()
    assert c["daemon"]["output"] == "json", "events on stdout are for log pipelines: output = json"
    sock = c["daemon"].get("socket", "/run/bpfd/bpfd.sock")
    assert os.path.dirname(sock) == "/run/bpfd", sock


def test_file_action_shipped_by_the_sidecar():
    """The [file] action's path is on a volume the Fluent Bit sidecar tails."""
    path = config()["file"]["path"]
    ev = mount(bpfd_container(), os.path.dirname(path))
    side = [c for c in pod()["containers"] if c["name"] != "bpfd"]
    assert side, "no sidecar"
    for c in side:
        m = mount(c, os.path.dirname(path))
        assert m["name"] == ev["name"], (c["name"], m["name"], ev["name"])
        cfgm = [x for x in c["volumeMounts"] if "configMap" in volume(x["name"])]
        text = "".join(one("ConfigMap", volume(x["name"])["configMap"]["name"])["data"].get(
            "fluent-bit.conf", "") for x in cfgm)
        assert re.search(r"^\s*Path\s+%s\s*$" % re.escape(path), text, re.M), text


def main():
    with open(MANIFEST) as f:
        DOCS.extend(d for d in yaml.safe_load_all(f) if d)
    return run_tests([
        test_kinds_and_namespace,
        test_selector_matches_template,
        test_host_access,
        test_command_runs_the_daemon,
        test_every_mount_has_a_volume_and_every_volume_is_used,
        test_probes_and_resources,
        test_rules_configmap_mounted_as_directory,
        test_rules_pass_bpfd_check,
        test_configmap_is_the_library,
        test_config_passes_bpfd_check,
        test_file_action_shipped_by_the_sidecar,
    ])


if __name__ == "__main__":
    sys.exit(main())
