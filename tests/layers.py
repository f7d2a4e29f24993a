#!/usr/bin/env python3
"""The include graph points down the layers (docs/architecture.md, "Where each part lives").

Every quoted #include of bpfd's C files (not the tests' nor the benchmarks')
is resolved to the file it names and checked against what its layer may
see. Exits non-zero, listing each include that breaks a rule.
"""
import os
import re
import sys

ROOT = os.environ.get("BPFD_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# What each layer may include besides itself, bottom first:
#   abi       what the BPF programs and the daemon share (tracers/common/*.h)
#   lib       the base: the loop, logging, buffers, processes, TOML
#   model     the data model at the top: event, container and its metadata,
#             pathname, rules, tracer, config, ipc
#   protocol  the control protocol's ops and the replies both sides print
#   bpf       compiling, loading and attaching programs, BPF maps, BTF
#   tracer:X  one tracer's folder (tracers/tcp: what the network tracers share;
#             tracers/dropin: the description reader and decoder built-ins use too)
#   actions   the actions and their table
#   daemon    the loop, the pipeline, the control handlers: never one tracer
#   cli       the command line and the client of the socket: never the daemon
#   top       bpfd.c, which starts the daemon or the client
ALLOWED = {
    "abi": set(),
    "lib": {"abi"},
    "model": {"abi", "lib"},
    "protocol": {"abi", "lib", "model"},
    "bpf": {"abi", "lib", "model"},
    "tracer": {"abi", "lib", "model", "bpf", "tracer:common", "tracer:tcp", "tracer:dropin"},
    "actions": {"abi", "lib", "model"},
    "daemon": {"abi", "lib", "model", "protocol", "bpf", "actions"},
    "cli": {"abi", "lib", "model", "protocol"},
}
# The daemon's parts get narrow contexts and never call back into daemon.c.
NARROW = {"daemon/control.c", "daemon/control.h", "daemon/pipeline.c", "daemon/pipeline.h",
          "daemon/server.c", "daemon/server.h"}
FOLDERS = {"lib", "protocol", "bpf", "actions", "daemon", "cli"}


def layer(path):
    if "/" not in path:
        return "top" if path == "bpfd.c" else "model"
    top, rest = path.split("/", 1)
    if top == "tracers":
        if "/" not in rest:
            return "tracer:table"
        name = rest.split("/", 1)[0]
        if name == "common" and path.endswith(".h"):
            return "abi"
        return "tracer:" + name
    return top if top in FOLDERS else None


def may_include(src, dst):
    a, b = layer(src), layer(dst)
    if a in (None, "top") or a == b:
        return True
    if a == "tracer:table":
        return True		# the table names every tracer
    kind = a.split(":")[0]
    return b in ALLOWED.get(kind, set())


def sources():
    for d, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(d, ROOT)
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and
                         not x.startswith("build") and
                         not (rel == "." and x in ("tests", "bench", "examples", "docs",
                                                   "deploy", "scripts")))
        for f in files:
            if f.endswith(".c") or f.endswith(".h"):
                yield os.path.normpath(os.path.join(rel, f))


def main():
    known = set(sources())
    if len(known) < 50:
        print("only %d C files under %s: not bpfd's tree?" % (len(known), ROOT))
        return 1
    bad = []
    for src in sorted(known):
        with open(os.path.join(ROOT, src), encoding="utf-8") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            dst = os.path.normpath(os.path.join(os.path.dirname(src), inc))
            if dst not in known:
                dst = os.path.normpath(inc)
            if dst not in known:
                continue	# generated: version.h, NAME_bpf.h, tracer_list.h
            if src in NARROW and dst == "daemon/daemon.h":
                bad.append("%s includes %s: it gets a narrow context instead" % (src, dst))
            elif not may_include(src, dst):
                bad.append("%s (%s) includes %s (%s)" % (src, layer(src), dst, layer(dst)))
    for b in bad:
        print("not allowed: " + b)
    print("%d files, %d includes not allowed" % (len(known), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
