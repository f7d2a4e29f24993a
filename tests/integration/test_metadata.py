#!/usr/bin/env python3
"""Container metadata: docker containers' events carry their name, image,
image id and labels (also one that exits at once), rules on them match and
do not match, `trace --container NAME` narrows to one; podman's carry name
image and labels; a container run through containerd with the CRI plugin's
annotations carries its pod; a cgroup a user names like a running docker container never gets
its name."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bpfdtest import Daemon, Docker, Podman, Trace, require_root, run_tests, unique

D = None
T = None
DOCKER = None
PODMAN = None
TAG = "bpfd-test-meta:" + unique("v")
RULE_IMAGE = TAG
USER = 64000 + os.getpid() % 1000


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2" and fields[3] == "/":
                return fields[4]
    return None


def docker(*args):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def run_named(name, *argv, labels=("team=red", "tier=web")):
    args = ["--rm", "--name", name, "--network", "none"]
    for l in labels:
        args += ["--label", l]
    return DOCKER.run(*args, TAG, *argv, check=False)


def image_id():
    return docker("image", "inspect", "-f", "{{.Id}}", TAG).stdout.strip()


def test_docker_events_carry_name_image_labels():
    name, word = unique("meta"), unique("mdw")
    # The process exits at once: learned when its cgroup was made.
    run_named(name, "cat", "/etc/" + word)
    evs = [T.wait_for(lambda e: e["tracer"] == "exec" and e["data"].get("argv") == "cat /etc/" + word,
                      what="exec"),
           T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == "/etc/" + word,
                      what="open")]
    for ev in evs:
        assert ev.get("container_name") == name, ev
        assert ev.get("container_image") == TAG, ev
        assert ev.get("container_image_id") == image_id(), ev
        assert ev.get("container_labels") == {"team": "red", "tier": "web"}, ev
        assert "k8s_pod" not in ev, ev
    # Every event of the container, not only these.
    cid = evs[0]["container_id"]
    mine = T.all(lambda e: e["container_id"] == cid)
    assert mine and all(e.get("container_name") == name for e in mine), mine
    # The text line shows them too.
    out = subprocess.run([os.environ["BPFD"], "-s", D.socket, "status"], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL).stdout
    assert "container metadata:" in out, out
    st = D.status()["container_meta"]
    assert st["known"] >= 1 and st["capacity"] >= st["entries"], st


def test_rules_on_metadata():
    name, hit, miss = unique("rl"), unique("mdhit"), unique("mdmiss")
    run_named(name, "cat", "/etc/" + hit)
    run_named(unique("other"), "cat", "/etc/" + miss, labels=("team=blue",))
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == "/etc/" + hit
                    and "meta-rule" in e["rules"], what="rule hit")
    assert ev["container_name"] == name
    T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == "/etc/" + miss,
               what="the other container's open")
    time.sleep(0.3)
    assert not T.all(lambda e: e["data"].get("filename") == "/etc/" + miss
                     and "meta-rule" in e["rules"])


def test_trace_container_by_name():
    name = unique("tn")
    r = DOCKER.run("-d", "--name", name, "--network", "none", TAG, "sleep", "30")
    try:
        narrowed = Trace(D, "--container", name)
        w1, w2 = unique("mdin"), unique("mdout")
        docker("exec", name, "cat", "/etc/" + w1)
        run_named(unique("nn"), "cat", "/etc/" + w2)
        narrowed.wait_for(lambda e: e["data"].get("filename") == "/etc/" + w1)
        T.wait_for(lambda e: e["data"].get("filename") == "/etc/" + w2)
        got = list(narrowed.events)
        narrowed.stop()
        assert got and all(e.get("container_name") == name for e in got), got
    finally:
        docker("rm", "-f", name)


def test_podman_name_and_image():
    if not PODMAN.ok:
        print("  (podman: %s)" % PODMAN.reason)
        return
    name, word = unique("pm"), unique("mdpw")
    subprocess.run(["podman", "run", "--rm", "--pull", "never", "--network", "none", "--name", name,
                    "--label", "team=red", "--label", "app.kubernetes.io/name=shop", "--ulimit", "nofile=1024:1024", "--ulimit",
                    "nproc=1024:1024", Podman.IMAGE, "cat", "/etc/" + word], env=PODMAN.env,
                   capture_output=True, stdin=subprocess.DEVNULL)
    ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == "/etc/" + word,
                    what="podman open")
    assert ev["container_runtime"] == "podman", ev
    assert ev.get("container_name") == name, ev
    assert ev.get("container_image") == Podman.IMAGE, ev
    assert ev.get("container_image_id", "").startswith("sha256:"), ev
    # Labels come from libpod's database (bolt_state.db), read once when the cgroup appeared.
    assert ev.get("container_labels") == {"team": "red", "app.kubernetes.io/name": "shop"}, ev
    # A rule on a podman label decides too.
    assert "meta-podman" in ev["rules"], ev


CTR_SOCK = "/run/docker/containerd/containerd.sock"


def ctr(ns, *args, timeout=60):
    return subprocess.run(["ctr", "-a", CTR_SOCK, "-n", ns] + list(args), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=timeout)


def ctr_cleanup(ns):
    """Empties and removes containerd namespace @ns: containers, images, snapshots, content."""
    for c in ctr(ns, "containers", "ls", "-q").stdout.split():
        ctr(ns, "tasks", "kill", "-s", "KILL", c)
        ctr(ns, "tasks", "delete", "-f", c)
        ctr(ns, "containers", "delete", c)
    for i in ctr(ns, "images", "ls", "-q").stdout.split():
        ctr(ns, "images", "rm", "--sync", i)
    for line in ctr(ns, "snapshots", "ls").stdout.splitlines()[1:]:
        if line.split():
            ctr(ns, "snapshots", "rm", line.split()[0])
    for d in ctr(ns, "content", "ls", "-q").stdout.split():
        ctr(ns, "content", "rm", d)
    subprocess.run(["ctr", "-a", CTR_SOCK, "namespaces", "rm", ns], capture_output=True)


def ctr_unusable():
    """Why a container cannot be run through containerd's CRI annotations here, or None."""
    if not shutil.which("ctr"):
        return "ctr is not installed (it comes with docker.io's containerd)"
    if not os.path.exists(CTR_SOCK):
        return "dockerd's containerd has no socket at %s" % CTR_SOCK
    return None


def test_containerd_cri_annotations():
    """A container started through containerd (dockerd's, with ctr) in a Kubernetes pod's
    cgroup, its bundle's config.json annotated as containerd's CRI plugin annotates it: its
    events carry the pod, namespace, pod uid, container name and image, also when it exits
    at once; a rule on k8s_namespace matches it and not a docker container."""
    why = ctr_unusable()
    if why:
        print("  (containerd: %s)" % why)
        return
    ns = unique("bpfd-cri")
    pod_uid = "%08x-%04x-4%03x-8%03x-%012x" % (os.getpid(), os.getpid() % 65536, 0x19, 0x19,
                                               int(time.time() * 1000))
    cid = ("%064x" % (int(time.time() * 1e6) * 7919 + os.getpid()))[-64:]
    pod, word, other = unique("web"), unique("mdcri"), unique("mdnotk8s")
    cgroup = "/kubepods/besteffort/pod%s/%s" % (pod_uid, cid)
    tar = os.path.join(D.tmp, "busybox.tar")
    try:
        r = subprocess.run(["docker", "save", "-o", tar, Docker.IMAGE], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        r = ctr(ns, "images", "import", "--base-name", "localhost/bpfd-test-busybox", tar)
        assert r.returncode == 0, r.stderr
        image = ctr(ns, "images", "ls", "-q").stdout.split()[0]
        annotations = {
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.container-name": "shop-web",
            "io.kubernetes.cri.sandbox-name": pod,
            "io.kubernetes.cri.sandbox-namespace": "shop",
            "io.kubernetes.cri.sandbox-uid": pod_uid,
            "io.kubernetes.cri.image-name": "docker.io/library/nginx:1.25",
        }
        args = ["run", "--rm", "--cgroup", cgroup]
        for k, v in annotations.items():
            args += ["--annotation", "%s=%s" % (k, v)]
        r = ctr(ns, *args, image, cid, "cat", "/etc/" + word)
        assert "/etc/" + word in r.stderr, r.stderr    # cat's "No such file", from inside
        ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == "/etc/" + word,
                        what="the containerd container's open")
        assert ev["container_runtime"] == "kube" and ev["container_id"] == cid, ev
        assert ev.get("k8s_namespace") == "shop", ev
        assert ev.get("k8s_pod") == pod, ev
        assert ev.get("k8s_pod_uid") == pod_uid, ev
        assert ev.get("k8s_container") == "shop-web", ev
        assert ev.get("container_name") == "shop-web", ev
        assert ev.get("container_image") == "docker.io/library/nginx:1.25", ev
        assert "meta-k8s" in ev["rules"], ev
        # Its exec too: every event of the container.
        ex = T.wait_for(lambda e: e["tracer"] == "exec" and e["container_id"] == cid, what="its exec")
        assert ex.get("k8s_pod") == pod, ex
        # A docker container's open: no k8s keys, and the rule does not match it.
        run_named(unique("notk8s"), "cat", "/etc/" + other)
        ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == "/etc/" + other,
                        what="the docker container's open")
        assert "k8s_namespace" not in ev and "meta-k8s" not in ev["rules"], ev
    finally:
        ctr_cleanup(ns)
        for h in os.listdir("/sys/fs/cgroup"):
            base = os.path.join("/sys/fs/cgroup", h)
            for d in (cgroup, os.path.dirname(cgroup), "/kubepods/besteffort", "/kubepods"):
                try:
                    os.rmdir(base + d)
                except OSError:
                    pass


def open_status():
    return {x["name"]: x for x in D.status()["tracers"]}["open"]


def test_kernel_prefilter_on_metadata():
    """Every rule of the open tracer is one the kernel can test (metadata, file names): a
    container whose metadata no rule's filters hold for has its opens dropped in the
    kernel (status's prefiltered grows, none reaches the daemon), while a matching
    container's opens arrive, also one that exits at once."""
    assert open_status()["prefilter"] is True, open_status()
    miss_name, miss, hit, hit2 = unique("pfmiss"), unique("pfm"), unique("pfh"), unique("pfh")
    DOCKER.run("-d", "--name", miss_name, "--network", "none", "--label", "team=blue", TAG,
               "sleep", "30")
    try:
        # Its metadata is learned when its cgroup appears; wait until it is judged.
        deadline = time.time() + 10
        while time.time() < deadline and D.status()["container_meta"]["known"] < 1:
            time.sleep(0.1)
        time.sleep(0.5)
        before = open_status()
        docker("exec", miss_name, "sh", "-c",
                   'i=0; while [ $i -lt 300 ]; do cat /etc/%s 2>/dev/null; i=$((i+1)); done; '
                   'cat /etc/mdseen-%s' % (miss, miss))
        # The one open a rule (on file names) lets through arrives; the 300 before it do not.
        T.wait_for(lambda e: e["data"].get("filename") == "/etc/mdseen-" + miss,
                   what="the non-matching container's open of a watched file")
        after = open_status()
        assert after["prefiltered"] - before["prefiltered"] >= 300, (before, after)
        assert not T.all(lambda e: e["data"].get("filename") == "/etc/" + miss)
        # A matching container that exits at once: its open arrives and matches.
        run_named(unique("pfhit"), "cat", "/etc/" + hit)
        ev = T.wait_for(lambda e: e["data"].get("filename") == "/etc/" + hit and
                        "meta-rule" in e["rules"], what="the matching container's open")
        assert ev.get("container_labels", {}).get("team") == "red", ev
        # And one that runs on, after the daemon judged it.
        name = unique("pfrun")
        DOCKER.run("-d", "--name", name, "--network", "none", "--label", "team=red", TAG,
                   "sleep", "30")
        try:
            time.sleep(0.5)
            docker("exec", name, "cat", "/etc/" + hit2)
            T.wait_for(lambda e: e["data"].get("filename") == "/etc/" + hit2 and
                       "meta-rule" in e["rules"], what="the running matching container's open")
        finally:
            docker("rm", "-f", name)
    finally:
        docker("rm", "-f", miss_name)


def test_user_cgroup_named_like_a_running_container():
    mount = cgroup2_mount()
    name = unique("victim")
    victim = DOCKER.run("-d", "--name", name, "--network", "none", "--label", "team=red", TAG,
                        "sleep", "30").stdout.strip()
    root = os.path.join(mount, "bpfd-test-" + unique("md"))
    home = os.path.join(root, "user@%d.service" % USER)
    marker = "/tmp/bpfd-md-" + unique("own")
    try:
        # The victim's own events are named: the control for what follows.
        w = unique("mdvw")
        docker("exec", name, "cat", "/etc/" + w)
        ev = T.wait_for(lambda e: e["data"].get("filename") == "/etc/" + w, what="victim's open")
        assert ev.get("container_name") == name, ev
        os.mkdir(root)
        os.mkdir(home)
        for f in ("", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
            os.chown(os.path.join(home, f), USER, USER)
        leaf = os.path.join(home, "docker-%s.scope" % victim)
        p = subprocess.Popen(["setpriv", "--reuid=%d" % USER, "--regid=%d" % USER,
                              "--clear-groups", "sh", "-c",
                              'read go; mkdir "$1" && echo $$ > "$1/cgroup.procs" && exec cat "$2"',
                              "sh", leaf, marker], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        with open(os.path.join(home, "cgroup.procs"), "w") as f:
            f.write(str(p.pid))
        p.stdin.write("go\n")
        p.stdin.close()
        p.wait(10)
        ev = T.wait_for(lambda e: e["tracer"] == "open" and e["data"].get("filename") == marker,
                        what="the user's open")
        assert ev["container_id"] == victim and ev.get("container_owner_uid") == USER, ev
        for k in ("container_name", "container_image", "container_labels"):
            assert k not in ev, ev
    finally:
        docker("rm", "-f", name)
        for d in (os.path.join(home, "docker-%s.scope" % victim), home, root):
            for _ in range(50):
                try:
                    if os.path.isdir(d):
                        os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)


def main():
    global D, T, DOCKER, PODMAN
    require_root()
    if not cgroup2_mount() or not shutil.which("setpriv"):
        print("SKIP: needs a cgroup2 mount and setpriv")
        return 77
    DOCKER = Docker()
    if not DOCKER.ok:
        print("SKIP: " + DOCKER.reason)
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    docker("tag", Docker.IMAGE, TAG)
    PODMAN = Podman()
    D = Daemon()
    os.makedirs(os.path.join(D.tmp, "rules"))
    with open(os.path.join(D.tmp, "rules", "meta.toml"), "w") as f:
        f.write("name = 'meta-rule'\ntracer = 'open'\nactions = []\n"
                "[filterEvents.container_image]\nvalues = ['%s']\n"
                "[filterEvents.'container_label.team']\nvalues = ['red']\n" % RULE_IMAGE)
    with open(os.path.join(D.tmp, "rules", "podman.toml"), "w") as f:
        f.write("name = 'meta-podman'\ntracer = 'open'\nactions = []\n"
                "[filterEvents.'container_label.app.kubernetes.io/name']\nvalues = ['shop']\n")
    with open(os.path.join(D.tmp, "rules", "k8s.toml"), "w") as f:
        f.write("name = 'meta-k8s'\ntracer = 'open'\nactions = []\n"
                "[filterEvents.k8s_namespace]\nvalues = ['shop']\n")
    # The open tracer has rules: what the tests wait for passes through this one.
    with open(os.path.join(D.tmp, "rules", "seen.toml"), "w") as f:
        f.write("name = 'seen'\ntracer = 'open'\nactions = []\n"
                "[filterEvents.filename]\nvalues = ['/etc/md*', '/tmp/bpfd-md-*']\n")
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_docker_events_carry_name_image_labels,
            test_rules_on_metadata,
            test_trace_container_by_name,
            test_podman_name_and_image,
            test_containerd_cri_annotations,
            test_kernel_prefilter_on_metadata,
            test_user_cgroup_named_like_a_running_container,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        docker("rmi", TAG)
        if PODMAN and PODMAN.ok:
            shutil.rmtree(PODMAN.conf, ignore_errors=True)
        DOCKER.stop()


if __name__ == "__main__":
    sys.exit(main())
