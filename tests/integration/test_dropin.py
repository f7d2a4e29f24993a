#!/usr/bin/env python3
"""Drop-in tracers: the shipped nschange, ptrace and dnslookup (a uprobe)
tracers (examples/tracers/) loaded from a temporary root-owned directory,
triggered for real (unshare, setns through nsenter, ptrace attaches,
getaddrinfo, as root, as nobody, in a container), matched by their example
rules and seen in `trace --json` with their keys; beside it a drop-in
whose C does not compile (refused with file:line), one whose program uses
a field its description lacks, one the verifier refuses, and one whose
description is wrong, each
shown failed while the others run; and a tracers directory its group may
write, refused whole while the built-in tracers run."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bpfdtest import (BPFD, Daemon, Docker, Trace, check_event_shape, require_root, run_tests,
                      unique, wait_until)

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLES = os.path.join(ROOT, "examples", "tracers")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
D = None
T = None
TD = None

BROKEN_C = """\
TRACEPOINT_PROBE(syscalls, sys_exit_setns)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin()
	if (r)
		bpfd_dropin_submit(r);
	return 0;
}
"""

# Compiles only with a field `count` the description does not have.
MISSING_FIELD_C = """\
TRACEPOINT_PROBE(syscalls, sys_exit_setns)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();

	if (!r)
		return 0;
	r->count = 1;
	bpfd_dropin_submit(r);
	return 0;
}
"""

# Compiles, but reads past the end of its record: the verifier refuses it.
UNVERIFIED_C = """\
TRACEPOINT_PROBE(syscalls, sys_exit_setns)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();
	volatile u32 far = 1 << 20;

	if (!r)
		return 0;
	r->value = *(u32 *)((char *)r + far);
	bpfd_dropin_submit(r);
	return 0;
}
"""

# A uprobe: gethostname(name, len) in the C library, with its length argument.
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
UPROBE_TOML = """\
description = "gethostname calls"
[[hook]]
uprobe = "gethostname"
binary = "%s"
function = "hostcall_enter"
[[field]]
name = "len"
type = "u64"
""" % LIBC
UPROBE_C = """\
int hostcall_enter(struct pt_regs *ctx)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();

	if (!r)
		return 0;
	r->len = bpfd_uprobe_arg(ctx, 1);
	bpfd_dropin_submit(r);
	return 0;
}
"""

# A hook this kernel lacks, marked optional: the drop-in loads without it.
OPTIONAL_TOML = """\
[[hook]]
tracepoint = "syscalls:sys_exit_setns"
function = "on_exit"
[[hook]]
tracepoint = "syscalls:sys_exit_no_such_call"
function = "on_exit"
optional = "no_such_call is not reported"
"""
OPTIONAL_C = """\
int on_exit(void *ctx)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();

	if (r)
		bpfd_dropin_submit(r);
	return 0;
}
"""

# Sends its header only, not the field its description promises: every
# record is refused by the daemon's check (counted), and nothing else breaks.
SHORT_TOML = """\
[[hook]]
tracepoint = "syscalls:sys_exit_unshare"
[[field]]
name = "path"
type = "string"
max = 256
"""
SHORT_C = """\
TRACEPOINT_PROBE(syscalls, sys_exit_unshare)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();

	if (r)
		bpfd_submit(r, sizeof(r->hdr) + 8, BPFD_TRACER_TYPE);
	return 0;
}
"""

SETNS_TOML = '[[hook]]\ntracepoint = "syscalls:sys_exit_setns"\n'

# truncate(2) with the file's path as chmod reports it: the path helpers of
# tracers/common/path.bpf.c filling a path field, the name as passed after it.
PATH_TOML = """\
[[hook]]
tracepoint = "syscalls:sys_exit_truncate"
[[field]]
name = "filename"
type = "path"
max = 256
[[field]]
name = "mode"
type = "mode"
bits = { other_write = 0o2 }
"""
PATH_C = """\
TRACEPOINT_PROBE(syscalls, sys_exit_truncate)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();
	struct bpfd_path_root start = {};
	struct bpfd_syscall_args a;
	struct bpfd_path_area *area;
	const char *name;
	void *task = (void *)bpf_get_current_task();
	char first = 0;
	u32 len, plen;
	int n;

	if (!r)
		return 0;
	bpfd_syscall_args(&a);
	name = (const char *)bpfd_syscall_arg(&a, 0);
	r->hdr.retval = args->ret;
	r->mode = 0666;
	/* The directory the name starts from (the cwd: AT_FDCWD), joined by the daemon. */
	if (bpfd_read_user(&first, 1, name) == 0)
		bpfd_path_start_base(task, -100, first, &start);
	area = bpfd_path_area(r);
	len = bpfd_path_resolve(area, task, &start, BPFD_PATH_BASE);
	r->filename_flags = area->flags;
	plen = bpfd_path_copy(r->filename, area, len);
	r->filename_len = plen;
	plen = BPFD_BOUND(plen, 2 * BPFD_PATH_MAX);
	n = bpfd_read_user_str(&r->filename[plen], 256, name);
	if (n < 0)
		n = 0;
	r->filename_arg_len = n;
	/* Up to the name's end only: the record's length varies with the path's. */
	bpfd_submit(r, __builtin_offsetof(struct bpfd_dropin_record, filename) + plen +
		    BPFD_BOUND(n, 512), BPFD_TRACER_TYPE);
	return 0;
}
"""

# A path whose lengths say more than the field holds: every record refused.
LYING_PATH_TOML = """\
[[hook]]
tracepoint = "syscalls:sys_exit_unshare"
[[field]]
name = "filename"
type = "path"
max = 16
"""
LYING_PATH_C = """\
TRACEPOINT_PROBE(syscalls, sys_exit_unshare)
{
	struct bpfd_dropin_record *r = bpfd_dropin_begin();

	if (!r)
		return 0;
	r->filename_flags = BPFD_PATH_FILE;
	r->filename_len = 2;
	r->filename_arg_len = 17;
	r->filename[0] = '/';
	bpfd_dropin_submit(r);
	return 0;
}
"""


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def make_dir():
    d = tempfile.mkdtemp(prefix="bpfd-it-dropin-")
    os.chmod(d, 0o755)
    return d


def setup():
    global TD
    TD = make_dir()
    for f in ("nschange.toml", "nschange.bpf.c", "ptrace.toml", "ptrace.bpf.c",
              "dnslookup.toml", "dnslookup.bpf.c"):
        shutil.copy(os.path.join(EXAMPLES, f), os.path.join(TD, f))
        os.chmod(os.path.join(TD, f), 0o644)
    write(os.path.join(TD, "hostcall.toml"), UPROBE_TOML)
    write(os.path.join(TD, "hostcall.bpf.c"), UPROBE_C)
    write(os.path.join(TD, "short.toml"), SHORT_TOML)
    write(os.path.join(TD, "short.bpf.c"), SHORT_C)
    write(os.path.join(TD, "truncpath.toml"), PATH_TOML)
    write(os.path.join(TD, "truncpath.bpf.c"), PATH_C)
    write(os.path.join(TD, "liarpath.toml"), LYING_PATH_TOML)
    write(os.path.join(TD, "liarpath.bpf.c"), LYING_PATH_C)
    write(os.path.join(TD, "optional.toml"), OPTIONAL_TOML)
    write(os.path.join(TD, "optional.bpf.c"), OPTIONAL_C)
    write(os.path.join(TD, "broken.toml"), SETNS_TOML)
    write(os.path.join(TD, "broken.bpf.c"), BROKEN_C)
    write(os.path.join(TD, "nofield.toml"), SETNS_TOML +
          '[[field]]\nname = "counter"\ntype = "u32"\n')
    write(os.path.join(TD, "nofield.bpf.c"), MISSING_FIELD_C)
    write(os.path.join(TD, "unverified.toml"), SETNS_TOML +
          '[[field]]\nname = "value"\ntype = "u32"\n')
    write(os.path.join(TD, "unverified.bpf.c"), UNVERIFIED_C)
    write(os.path.join(TD, "wrongdesc.toml"), SETNS_TOML +
          '[[field]]\nname = "path"\ntype = "string"\n')
    write(os.path.join(TD, "wrongdesc.bpf.c"), "\n")
    with open(os.path.join(EXAMPLES, "rules", "user_namespace.toml")) as f:
        example = f.read()
    with open(os.path.join(EXAMPLES, "rules", "process_injection.toml")) as f:
        injection = f.read()
    with open(os.path.join(EXAMPLES, "rules", "tunnel_lookup.toml")) as f:
        tunnel = f.read()
    d = Daemon("--tracers", "chmod,nschange,ptrace,dnslookup,hostcall,optional,short,broken,"
               "nofield,unverified,wrongdesc,truncpath,liarpath", "--tracers-dir", TD)
    d.write_rules({
        "user_namespace": example,
        # `trace` streams what some rule matches: this one, every namespace change.
        "every_nschange": 'tracer = "nschange"\nactions = []\n',
        "every_hostcall": 'tracer = "hostcall"\nactions = []\n',
        "process_injection": injection,
        "every_ptrace": 'tracer = "ptrace"\nactions = []\n',
        "tunnel_lookup": tunnel,
        "every_dnslookup": 'tracer = "dnslookup"\nactions = []\n',
        "every_truncpath": 'tracer = "truncpath"\nactions = []\n',
        "truncated_here": 'tracer = "truncpath"\nactions = []\n'
                          '[filterEvents.other_write]\nvalues = ["true"]\n'
                          '[filterEvents.filename]\nvalues = ["%s/*"]\n' % TD,
    })
    return d


def tracers():
    return {t["name"]: t for t in D.status()["tracers"]}


def test_loaded_and_failed():
    st = tracers()
    assert st["nschange"]["state"] == "loaded", st["nschange"]
    assert st["chmod"]["state"] == "loaded", st["chmod"]
    # The compiler's message, at the drop-in's own file and line.
    b = st["broken"]
    assert b["state"] == "failed", b
    assert os.path.join(TD, "broken.bpf.c") + ":3:" in b["error"], b["error"]
    assert "error: expected ';'" in b["error"], b["error"]
    n = st["nofield"]
    assert n["state"] == "failed", n
    assert "nofield.bpf.c:7:" in n["error"] and "no member named 'count'" in n["error"], n
    v = st["unverified"]
    assert v["state"] == "failed", v
    # The verifier's reason, with the program it refused.
    assert v["error"].startswith("loading tracepoint__syscalls__sys_exit_setns: Permission "
                                 "denied: "), v
    assert "memory access" in v["error"], v
    # And where in the drop-in's file: its programs carry their line table.
    assert v["error"].endswith("(at unverified.bpf.c:8: r->value = *(u32 *)((char *)r + "
                               "far);)"), v
    w = st["wrongdesc"]
    assert w["state"] == "failed", w
    assert os.path.join(TD, "wrongdesc.toml") + ":3: field path: a string needs max" in w["error"], w
    err = D.stderr()
    assert "tracer broken failed" in err and "drop-in wrongdesc refused" in err, err
    # An optional hook the kernel lacks: loaded without it, and said so.
    assert st["optional"]["state"] == "loaded", st["optional"]
    assert "tracer optional loaded without optional hooks: syscalls:sys_exit_no_such_call " \
        "is not in this kernel: no_such_call is not reported" in err, err


def test_listed_by_the_daemon():
    """`bpfd tracers` asks the running daemon: the drop-in, its hooks, keys and source."""
    import json
    ts = {t["name"]: t for t in json.loads(D.cli("tracers", "--json").stdout)["tracers"]}
    n = ts["nschange"]
    assert n["source"] == os.path.join(TD, "nschange.bpf.c"), n
    assert n["hooks"] == ["tracepoint:syscalls:sys_exit_setns",
                          "tracepoint:syscalls:sys_exit_unshare"], n
    assert n["keys"] == ["call", "namespaces", "fd", "error", "command", "returnval"], n
    assert "a string needs max" in ts["wrongdesc"]["error"], ts["wrongdesc"]
    text = D.cli("tracers").stdout
    assert "source      " + os.path.join(TD, "nschange.bpf.c") in text, text
    # No daemon on the socket: the built-ins of this binary.
    r = subprocess.run([BPFD, "-s", os.path.join(TD, "none.sock"), "tracers", "--json"],
                       capture_output=True, text=True, check=True)
    names = [t["name"] for t in json.loads(r.stdout)["tracers"]]
    assert "chmod" in names and "nschange" not in names, names


def test_short_records_refused():
    """A program that sends less than its description says, or a path whose
    lengths pass its field: each record is refused (before a field is read,
    for the short one), counted as lost, and no event is made."""
    before = tracers()
    for _ in range(3):
        subprocess.run(["unshare", "-n", "true"], check=True)
    # liarpath's records are long enough, but its path's lengths pass its field.
    for name in ("short", "liarpath"):
        wait_until(lambda: tracers()[name]["lost"] - before[name]["lost"] >= 3,
                   name + "'s records counted")
        st = tracers()[name]
        assert st["state"] == "loaded" and st["events"] == 0, st
        assert not T.all(lambda e: e["tracer"] == name)
    # The tracer beside it on the same hook still reports.
    assert tracers()["nschange"]["events"] > 0


def test_path_field():
    """A drop-in's path field, filled with the path helpers chmod uses: the
    name as passed joined to the walked cwd, the keys a built-in's file has,
    and a rule on them."""
    assert tracers()["truncpath"]["state"] == "loaded", tracers()["truncpath"]
    target = os.path.join(TD, "target")
    write(target, "x" * 10)
    os.makedirs(os.path.join(TD, "sub"), exist_ok=True)
    pid = subprocess.Popen(["python3", "-c", "import os; os.truncate('sub/../target', 0)"],
                           cwd=TD)
    pid.wait()
    e = T.wait_for(lambda e: e["tracer"] == "truncpath" and e["pid"] == pid.pid)
    assert e["data"]["filename"] == target, e
    assert e["data"]["argument"] == "sub/../target", e
    assert e["data"]["resolved"] == "false", e
    assert e["data"]["mode"] == "0666" and e["data"]["other_write"] == "true", e
    assert "truncated_here" in e["rules"], e
    assert os.path.getsize(target) == 0
    # A name that is not there: the call fails, the path is still the one asked for.
    pid = subprocess.Popen(["python3", "-c", "import os\ntry: os.truncate('/nonexistent/x', 0)\n"
                            "except OSError: pass"], cwd=TD)
    pid.wait()
    e = T.wait_for(lambda e: e["tracer"] == "truncpath" and e["pid"] == pid.pid)
    assert e["data"]["filename"] == "/nonexistent/x" and e["returnval"] == -2, e
    assert "argument" not in e["data"] and "truncated_here" not in e["rules"], e
    # The keys rules see: the path's three, the bit.
    out = D.cli("tracers").stdout
    block = out.split("truncpath\n", 1)[1]
    assert "keys        filename, argument, resolved, mode, other_write, command, returnval" \
        in block, out


def test_check_against_the_description():
    """`bpfd check --tracers-dir`: a rule on a drop-in is checked against its keys."""
    rule = os.path.join(EXAMPLES, "rules", "user_namespace.toml")
    r = subprocess.run([BPFD, "check", "--tracers-dir", TD, rule], capture_output=True, text=True)
    assert r.returncode == 0 and "ok: rule user_namespace, tracer nschange" in r.stdout, r
    bad = os.path.join(TD, "..", unique("rule") + ".toml")
    write(bad, 'tracer = "nschange"\n[filterEvents.nosuch]\nvalues = ["x"]\n')
    try:
        r = subprocess.run([BPFD, "check", "--tracers-dir", TD, bad], capture_output=True,
                           text=True)
    finally:
        os.unlink(bad)
    assert r.returncode == 1, r
    assert 'filter key "nosuch": the nschange tracer never emits it (its keys: call, ' \
        'namespaces, fd, error, command' in r.stderr, r.stderr
    r = subprocess.run([BPFD, "check", rule], capture_output=True, text=True)
    assert r.returncode == 1 and 'unknown tracer "nschange"' in r.stderr, r


def test_unshare_user_namespace_matches():
    """unshare -U: the event with its keys, matched by the example rule."""
    subprocess.run(["unshare", "-U", "true"], check=True)
    ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["command"] == "unshare"
                    and "CLONE_NEWUSER" in e["data"]["namespaces"], what="unshare -U")
    check_event_shape(ev)
    assert ev["data"]["call"] == "unshare", ev
    assert ev["data"]["namespaces"] == "CLONE_NEWUSER", ev
    assert ev["data"]["fd"] == "-1", ev
    assert ev["data"]["error"] == "0" and ev["data"]["returnval"] == "0", ev
    assert ev["container_runtime"] == "not-found", ev
    assert "user_namespace" in ev["rules"], ev["rules"]


def test_unshare_net_not_matched():
    """unshare -n: seen, but the example rule wants a user namespace."""
    marker = unique("ns")
    prog = os.path.join(TD, "..", marker)
    shutil.copy("/usr/bin/unshare", prog)
    try:
        subprocess.run([prog, "-n", "true"], check=True)
        ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["command"] == marker[:15],
                        what="unshare -n")
    finally:
        os.unlink(prog)
    assert ev["data"]["namespaces"] == "CLONE_NEWNET", ev
    assert ev["rules"] == ["every_nschange"], ev["rules"]


def test_refused_as_nobody():
    """nobody may not make a network namespace: EPERM, seen, not matched."""
    marker = unique("nb")
    prog = os.path.join(TD, "..", marker)
    shutil.copy("/usr/bin/unshare", prog)
    os.chmod(prog, 0o755)
    try:
        r = subprocess.run(NOBODY + [prog, "-n", "true"], capture_output=True)
        assert r.returncode != 0
        ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["command"] == marker[:15],
                        what="refused unshare")
    finally:
        os.unlink(prog)
    assert ev["uid"] == 65534, ev
    assert ev["data"]["error"] == "EPERM", ev
    assert ev["data"]["returnval"] == "-1", ev


def test_setns():
    """nsenter into another process's UTS namespace: setns with a descriptor and its type."""
    holder = subprocess.Popen(["unshare", "-u", "sleep", "30"])
    try:
        wait_until(lambda: os.readlink("/proc/%d/ns/uts" % holder.pid) !=
                   os.readlink("/proc/self/ns/uts"), "the holder's own UTS namespace")
        subprocess.run(["nsenter", "-t", str(holder.pid), "-u", "true"], check=True)
    finally:
        holder.kill()
        holder.wait()
    ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["command"] == "nsenter"
                    and e["data"]["call"] == "setns", what="setns")
    assert ev["data"]["namespaces"] == "CLONE_NEWUTS", ev
    assert int(ev["data"]["fd"]) >= 0, ev
    assert ev["data"]["error"] == "0", ev
    assert ev["rules"] == ["every_nschange"], ev["rules"]


PTRACE_PY = """
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
child = int(sys.argv[1])
r = libc.ptrace(%d, child, None, None)
print(os.getpid(), r, ctypes.get_errno())
if r == 0:
    os.waitpid(child, 0)
    libc.ptrace(2, child, None, None)   # PTRACE_PEEKDATA: not reported
    libc.ptrace(17, child, None, None)  # PTRACE_DETACH
"""


def ptrace_as(request, user=()):
    target = subprocess.Popen(["sleep", "30"])
    try:
        out = subprocess.run(list(user) + [sys.executable, "-c", PTRACE_PY % request,
                                           str(target.pid)],
                             capture_output=True, text=True, check=True).stdout.split()
    finally:
        target.kill()
        target.wait()
    return int(out[0]), int(out[1]), target.pid


def test_ptrace_attach_matches():
    """PTRACE_ATTACH by root: the target, matched by the example rule; the
    PEEKDATA after it is not reported (left out in the kernel)."""
    pid, r, target = ptrace_as(16)
    assert r == 0
    ev = T.wait_for(lambda e: e["tracer"] == "ptrace" and e["pid"] == pid, what="ptrace attach")
    check_event_shape(ev)
    assert ev["data"]["request"] == "PTRACE_ATTACH", ev
    assert ev["data"]["target"] == str(target), ev
    assert ev["data"]["error"] == "0", ev
    assert "process_injection" in ev["rules"], ev["rules"]
    time.sleep(0.3)
    seen = [e["data"]["request"] for e in T.all(lambda e: e["tracer"] == "ptrace"
                                                 and e["pid"] == pid)]
    assert seen == ["PTRACE_ATTACH"], seen


def test_ptrace_refused_as_nobody():
    """nobody attaching to root's process: EPERM, seen, not matched."""
    pid, r, target = ptrace_as(16, NOBODY)
    assert r == -1
    ev = T.wait_for(lambda e: e["tracer"] == "ptrace" and e["pid"] == pid,
                    what="refused ptrace attach")
    assert ev["uid"] == 65534 and ev["data"]["error"] == "EPERM", ev
    assert ev["rules"] == ["every_ptrace"], ev["rules"]


def lookup(host, service):
    """getaddrinfo(host, service) with AI_NUMERICHOST: no query leaves the machine.
    The name as bytes: python passes it as it is, however long."""
    return int(subprocess.run([sys.executable, "-c", "import os, socket\n"
                               "print(os.getpid(), flush=True)\n"
                               "try:\n socket.getaddrinfo(%r, %r, flags=socket.AI_NUMERICHOST)\n"
                               "except OSError:\n pass\n" % (host.encode(), service)],
                              capture_output=True, text=True, check=True).stdout)


def test_dnslookup_uprobe():
    """The shipped uprobe drop-in: the name and service a process looked up,
    matched by the example rule for a tunnel's name and not for another."""
    pid = lookup("abc.trycloudflare.com", "https")
    ev = T.wait_for(lambda e: e["tracer"] == "dnslookup" and e["pid"] == pid, what="lookup")
    check_event_shape(ev)
    assert ev["data"]["host"] == "abc.trycloudflare.com", ev
    assert ev["data"]["service"] == "https", ev
    assert "tunnel_lookup" in ev["rules"], ev["rules"]
    pid = lookup("example.org", None)
    ev = T.wait_for(lambda e: e["tracer"] == "dnslookup" and e["pid"] == pid, what="lookup")
    assert ev["data"]["host"] == "example.org" and ev["data"]["service"] == "", ev
    assert ev["rules"] == ["every_dnslookup"], ev["rules"]
    # A name longer than the field: cut at its 255 bytes and a NUL.
    long_name = "a" * 300 + ".example"
    pid = lookup(long_name, None)
    ev = T.wait_for(lambda e: e["tracer"] == "dnslookup" and e["pid"] == pid, what="lookup")
    assert ev["data"]["host"] == long_name[:255], ev


def test_uprobe():
    """A drop-in on a uprobe: python's socket.gethostname() calls the C library's."""
    p = subprocess.run([sys.executable, "-c", "import os, socket; socket.gethostname(); "
                        "print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(p.stdout)
    ev = T.wait_for(lambda e: e["tracer"] == "hostcall" and e["pid"] == pid, what="gethostname")
    assert int(ev["data"]["len"]) > 0, ev
    assert ev["rules"] == ["every_hostcall"], ev["rules"]
    st = tracers()["hostcall"]
    assert st["state"] == "loaded", st


def test_prefilter():
    """Rules on the command only: the kernel drops the other namespace changes
    (counted) and sends the named program's. Last of the daemon's tests: it
    replaces the rules the others use."""
    named = unique("pf")
    prog = os.path.join(TD, "..", named)
    shutil.copy("/usr/bin/unshare", prog)
    rule = os.path.join(TD, "..", named + ".toml")
    write(rule, 'name = "named"\ntracer = "nschange"\nactions = []\n'
          'filterEvents.command.values = ["%s"]\n' % named)
    try:
        D.cli("rm", "every_nschange")
        D.cli("rm", "user_namespace")
        D.cli("create", rule)
        wait_until(lambda: tracers()["nschange"]["prefilter"] is True, "the prefilter on")
        before = tracers()["nschange"]["prefiltered"]
        for _ in range(5):
            subprocess.run(["unshare", "-n", "true"], check=True)
        p = subprocess.Popen([prog, "-n", "true"])
        p.wait()
        ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["pid"] == p.pid,
                        what="the named program's unshare")
        assert ev["rules"] == ["named"], ev["rules"]
        assert tracers()["nschange"]["prefiltered"] - before >= 5, tracers()["nschange"]
    finally:
        os.unlink(prog)
        os.unlink(rule)


def test_nobody_s_directory_refused():
    """A user's own tracers directory with its drop-in: refused, not run as root."""
    nd = make_dir()
    os.chown(nd, 65534, 65534)
    for f in ("nschange.toml", "nschange.bpf.c"):
        with open(os.path.join(EXAMPLES, f)) as src:
            text = src.read()
        # Written by nobody, as an attacker who owns the directory would.
        subprocess.run(NOBODY + ["sh", "-c", "cat > %s" % os.path.join(nd, f)], input=text,
                       text=True, check=True)
    d = Daemon("--tracers", "chmod", "--tracers-dir", nd)
    try:
        d.start()
        names = [t["name"] for t in d.status()["tracers"]]
        assert "nschange" not in names, names
        assert "is not owned by root: refused" in d.stderr(), d.stderr()
    finally:
        d.stop()
        d.cleanup()
        shutil.rmtree(nd, ignore_errors=True)


def test_symlink_refused():
    """A root-owned directory whose NAME.bpf.c is a symbolic link (to a file
    another user may write): that drop-in fails, the others run."""
    sd = make_dir()
    shutil.copy(os.path.join(EXAMPLES, "nschange.toml"), sd)
    target = os.path.join(sd, "..", unique("target") + ".bpf.c")
    shutil.copy(os.path.join(EXAMPLES, "nschange.bpf.c"), target)
    os.symlink(target, os.path.join(sd, "nschange.bpf.c"))
    d = Daemon("--tracers", "chmod,nschange", "--tracers-dir", sd)
    try:
        d.start()
        st = {t["name"]: t for t in d.status()["tracers"]}
        assert st["nschange"]["state"] == "failed", st["nschange"]
        assert "nschange.bpf.c: is a symbolic link (refused)" in st["nschange"]["error"], st
        assert st["chmod"]["state"] == "loaded", st["chmod"]
    finally:
        d.stop()
        d.cleanup()
        os.unlink(target)
        shutil.rmtree(sd, ignore_errors=True)


def test_container():
    """An unshare inside a container: the container's id on the event."""
    docker = Docker()
    if not docker.ok:
        print("  (no docker: %s)" % docker.reason)
        return
    name = unique("dropin")
    try:
        # CAP_SYS_ADMIN: docker's seccomp profile lets unshare through then.
        docker.run("--name", name, "--cap-add", "SYS_ADMIN", Docker.IMAGE, "busybox", "unshare",
                   "-n", "true", check=False)
        cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True,
                             text=True, check=True, stdin=subprocess.DEVNULL).stdout.strip()
        ev = T.wait_for(lambda e: e["tracer"] == "nschange" and e["container_id"] == cid
                        and e["command"] == "busybox", what="the container's unshare",
                        timeout=15)
        assert ev["container_runtime"] == "docker", ev
        assert ev["data"]["namespaces"] == "CLONE_NEWNET", ev
        assert ev["data"]["error"] in ("EPERM", "0"), ev
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True,
                       stdin=subprocess.DEVNULL)
        docker.stop()


def test_group_writable_dir_refused():
    """A tracers directory its group may write: refused whole, the built-ins run."""
    gw = make_dir()
    shutil.copy(os.path.join(EXAMPLES, "nschange.toml"), gw)
    shutil.copy(os.path.join(EXAMPLES, "nschange.bpf.c"), gw)
    os.chmod(gw, 0o775)
    d = Daemon("--tracers", "chmod", "--tracers-dir", gw)
    try:
        d.start()
        names = {t["name"]: t["state"] for t in d.status()["tracers"]}
        assert "nschange" not in names, names
        assert names["chmod"] == "loaded", names
        assert "is writable by its group: refused" in d.stderr(), d.stderr()
    finally:
        d.stop()
        d.cleanup()
        shutil.rmtree(gw, ignore_errors=True)


def test_directory_under_a_users_directory_refused():
    """A root-owned tracers directory inside one nobody owns: nobody could put another in its
    place (rename is theirs to make), so it is refused whole, and a symbolic link to a safe
    one from there would be followed no further than the check."""
    parent = make_dir()
    os.chown(parent, 65534, 65534)
    inner = os.path.join(parent, "tracers.d")
    os.mkdir(inner, 0o755)
    shutil.copy(os.path.join(EXAMPLES, "nschange.toml"), inner)
    shutil.copy(os.path.join(EXAMPLES, "nschange.bpf.c"), inner)
    # The attacker's move the check is for: nobody renames root's directory away.
    moved = os.path.join(parent, "moved")
    subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                    "mv", inner, moved], check=True, stdin=subprocess.DEVNULL)
    os.rename(moved, inner)
    d = Daemon("--tracers", "chmod", "--tracers-dir", inner)
    try:
        d.start()
        names = {t["name"]: t["state"] for t in d.status()["tracers"]}
        assert "nschange" not in names, names
        assert names["chmod"] == "loaded", names
        assert "%s above it is not owned by root: refused" % parent in d.stderr(), d.stderr()
    finally:
        d.stop()
        d.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


def test_not_root_owned_file_refused():
    """A drop-in file another user owns (and so may rewrite): that drop-in fails."""
    od = make_dir()
    shutil.copy(os.path.join(EXAMPLES, "nschange.toml"), od)
    shutil.copy(os.path.join(EXAMPLES, "nschange.bpf.c"), od)
    os.chown(os.path.join(od, "nschange.bpf.c"), 65534, 65534)
    d = Daemon("--tracers", "chmod,nschange", "--tracers-dir", od)
    try:
        d.start()
        st = {t["name"]: t for t in d.status()["tracers"]}
        assert st["nschange"]["state"] == "failed", st["nschange"]
        assert "nschange.bpf.c: is not owned by root: refused" in st["nschange"]["error"], st
        assert st["chmod"]["state"] == "loaded", st["chmod"]
    finally:
        d.stop()
        d.cleanup()
        shutil.rmtree(od, ignore_errors=True)


def main():
    global D, T
    require_root()
    D = setup()
    try:
        D.start()
        T = Trace(D)
        return run_tests([
            test_loaded_and_failed,
            test_listed_by_the_daemon,
            test_check_against_the_description,
            test_path_field,
            test_short_records_refused,
            test_unshare_user_namespace_matches,
            test_unshare_net_not_matched,
            test_refused_as_nobody,
            test_setns,
            test_uprobe,
            test_dnslookup_uprobe,
            test_ptrace_attach_matches,
            test_ptrace_refused_as_nobody,
            test_container,
            test_prefilter,
            test_group_writable_dir_refused,
            test_directory_under_a_users_directory_refused,
            test_not_root_owned_file_refused,
            test_nobody_s_directory_refused,
            test_symlink_refused,
        ])
    finally:
        if T:
            T.stop()
        D.cleanup()
        shutil.rmtree(TD, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
