#!/usr/bin/env python3
"""The TOML reader (toml.c) against python3-tomli, over tests/toml/.

For every document of the corpus, toml_dump (toml.c's tree as JSON) and
tomli must agree: both accept it with the same values (same types, same key
order), or both refuse it. Everything under invalid/ must be refused by tomli
too, so the corpus cannot claim an error that TOML does not have; everything
under valid/ must stay within what rule files take (no floats, no dates).

No root needed. Environment: TOML_DUMP (the toml_dump executable) and
TOML_CORPUS (the directory holding valid/ and invalid/). Exit 0 when all
pass, 1 on a failure, 77 (skip) when no tomli is importable.
"""
import datetime
import glob
import json
import os
import subprocess
import sys


def import_tomli():
    """tomli, or the Debian copy when python3 is not Debian's, or tomllib (tomli in the stdlib)."""
    try:
        import tomli
        return tomli, "tomli " + getattr(tomli, "__version__", "?")
    except ImportError:
        pass
    debian = "/usr/lib/python3/dist-packages"
    if os.path.isdir(os.path.join(debian, "tomli")) and debian not in sys.path:
        sys.path.append(debian)
        try:
            import tomli
            return tomli, "tomli (Debian) " + getattr(tomli, "__version__", "?")
        except ImportError:
            pass
    try:
        import tomllib
        return tomllib, "tomllib (Python %d.%d)" % sys.version_info[:2]
    except ImportError:
        return None, None


def oracle(toml, data):
    """('ok', canonical JSON) or ('error', why), as tomli sees the bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return "error", "not UTF-8: %s" % e
    try:
        doc = toml.loads(text)
    except toml.TOMLDecodeError as e:
        return "error", str(e)
    return "ok", doc


def outside_subset(value):
    """A float or date/time anywhere in a tomli result: the corpus must not hold one."""
    if isinstance(value, dict):
        return any(outside_subset(v) for v in value.values())
    if isinstance(value, list):
        return any(outside_subset(v) for v in value)
    return isinstance(value, (float, datetime.date, datetime.time))


def canonical(doc):
    return json.dumps(doc, ensure_ascii=True, sort_keys=False)


def ours(dump, path):
    """('ok', JSON text) / ('error', stderr) from toml_dump, or ('crash', why)."""
    try:
        p = subprocess.run([dump, path], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "crash", "timed out"
    if p.returncode == 0:
        return "ok", p.stdout.decode("ascii")
    if p.returncode == 1:
        return "error", p.stderr.decode("utf-8", "replace").strip()
    return "crash", "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip())


def check(toml, dump, path, expect_valid):
    """None when fine, else a sentence saying what went wrong."""
    with open(path, "rb") as f:
        data = f.read()
    o_status, o_value = oracle(toml, data)
    status, value = ours(dump, path)
    if status == "crash":
        return "toml_dump failed: " + value
    if expect_valid and o_status != "ok":
        return "corpus: tomli refuses a document under valid/: " + o_value
    if not expect_valid and o_status == "ok":
        return "corpus: tomli accepts a document under invalid/"
    if o_status == "ok" and outside_subset(o_value):
        return "corpus: the document holds a float or date, which rule files do not take"
    if o_status == "error":
        if status != "error":
            return "toml_dump accepts what tomli refuses (%s): %s" % (o_value, value.strip())
        if not value.startswith(path + ":"):
            return "error not reported as FILE:LINE: message: " + value
        return None
    if status != "ok":
        return "toml_dump refuses what tomli accepts: " + value
    want = canonical(o_value)
    got = canonical(json.loads(value))
    if want != got:
        return "values differ:\n  tomli:     %s\n  toml_dump: %s" % (want[:2000], got[:2000])
    return None


def main():
    toml, name = import_tomli()
    if toml is None:
        print("SKIP: neither tomli nor tomllib is importable (install python3-tomli)")
        return 77
    dump = os.environ.get("TOML_DUMP")
    corpus = os.environ.get("TOML_CORPUS",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "toml"))
    if not dump:
        print("TOML_DUMP must name the toml_dump executable")
        return 1
    print("oracle: %s; corpus: %s" % (name, corpus))

    passed = failed = 0
    cases = []
    for kind, expect_valid in (("valid", True), ("invalid", False)):
        files = sorted(glob.glob(os.path.join(corpus, kind, "*.toml")))
        if not files:
            print("FAIL %s/: no documents" % kind)
            failed += 1
        cases += [(path, expect_valid) for path in files]
    for path, expect_valid in cases:
        rel = os.path.relpath(path, corpus)
        why = check(toml, dump, path, expect_valid)
        if why is None:
            passed += 1
            print("ok   " + rel)
        else:
            failed += 1
            print("FAIL %s: %s" % (rel, why))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
