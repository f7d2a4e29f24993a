#!/usr/bin/env python3
"""The control protocol, spoken directly: the example frames of
docs/protocol.md against a real daemon, and every kind of bad input, after
which the daemon must still answer."""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

from bpfdtest import Daemon, require_root, run_tests, unique

ROOT = os.environ.get("BPFD_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
D = None


def doc_frames():
    """{(kind, op): (json_text, prefix_bytes)} from docs/protocol.md."""
    with open(os.path.join(ROOT, "docs", "protocol.md")) as f:
        text = f.read()
    frames = {}
    pat = re.compile(r"^(Request|Reply) \(op (\w+)\):\n```json\n(.*?)\n```\nLength prefix: `([0-9a-f ]+)`",
                     re.M)
    for kind, op, body, prefix in pat.findall(text):
        frames[(kind, op)] = (body, bytes.fromhex(prefix.replace(" ", "")))
    return frames


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(D.socket)
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def recv_frame(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


def send_frame(s, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    s.sendall(struct.pack(">I", len(payload)) + payload)


def request(payload):
    with connect() as s:
        send_frame(s, payload)
        return recv_frame(s)


def shape(v):
    """The JSON structure of @v: key sets and types, not values."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def same_shape(doc, real, path="reply"):
    if isinstance(doc, dict):
        assert isinstance(real, dict), path
        assert set(doc) == set(real), "%s keys: doc %s, daemon %s" % (path, sorted(doc), sorted(real))
        for k in doc:
            same_shape(doc[k], real[k], path + "." + k)
    elif isinstance(doc, list):
        assert isinstance(real, list), path
        if doc and real:
            same_shape(doc[0], real[0], path + "[0]")
    else:
        assert doc == real, "%s: doc %s, daemon %s" % (path, doc, real)


def test_doc_prefixes_are_right():
    frames = doc_frames()
    ops = {"version", "status", "tracers", "trace", "create_rule", "remove_rule", "list_rules",
           "resume_container"}
    for op in ops:
        for kind in ("Request", "Reply"):
            assert (kind, op) in frames, "docs/protocol.md lacks the %s frame of %s" % (kind, op)
    for (kind, op), (body, prefix) in frames.items():
        assert struct.unpack(">I", prefix)[0] == len(body.encode()), (kind, op)
        json.loads(body)


def test_doc_frames_against_the_daemon():
    frames = doc_frames()
    for op in ("version", "status", "tracers"):
        body, prefix = frames[("Request", op)]
        with connect() as s:
            s.sendall(prefix + body.encode())  # the doc's exact bytes
            reply = recv_frame(s)
        assert reply["ok"] is True, reply
        doc_reply = json.loads(frames[("Reply", op)][0])
        same_shape(shape(doc_reply), shape(reply))
    # The tracers reply is the compiled-in table: the doc shows it exactly.
    assert request(frames[("Request", "tracers")][0]) == json.loads(frames[("Reply", "tracers")][0])

    body, prefix = frames[("Request", "trace")]
    with connect() as s:
        s.sendall(prefix + body.encode())
        assert recv_frame(s) == json.loads(frames[("Reply", "trace")][0])
        name = unique("pr")
        path = os.path.join(D.tmp, name)
        subprocess.run(["cp", "/bin/true", path], check=True)
        subprocess.run([path], check=True)
        while True:
            ev = recv_frame(s)
            assert ev["tracer"] == "exec", ev  # the request asked for exec only
            if ev["data"].get("filename") == path:
                break


def test_rule_ops_doc_frames():
    frames = doc_frames()
    # In the doc's order: create the rule, list it, remove it.
    for op in ("create_rule", "list_rules", "remove_rule"):
        reply = request(frames[("Request", op)][0])
        assert reply["ok"] is True, (op, reply)
        same_shape(shape(json.loads(frames[("Reply", op)][0])), shape(reply))
    assert request(frames[("Request", "list_rules")][0])["rules"] == []
    again = request(frames[("Request", "remove_rule")][0])
    assert again == {"ok": False, "error": "no rule named 'password_files'"}, again


def test_resume_container_doc_frames():
    # No container has the doc's id: the daemon gives the documented error.
    text = open(os.path.join(ROOT, "docs", "protocol.md")).read()
    m = re.search(r"^Reply when no container matches:\n```json\n(.*?)\n```\nLength prefix: `([0-9a-f ]+)`",
                  text, re.M)
    assert m, "docs/protocol.md lacks the resume_container error frame"
    assert struct.unpack(">I", bytes.fromhex(m.group(2).replace(" ", "")))[0] == len(m.group(1).encode())
    body, prefix = doc_frames()[("Request", "resume_container")]
    with connect() as s:
        s.sendall(prefix + body.encode())
        assert recv_frame(s) == json.loads(m.group(1))


def test_bad_frames_get_error_replies():
    cases = [
        (b"", "bad JSON"),
        (b"{not json", "bad JSON"),
        (b"[1,2,3]", "not a JSON object"),
        (b'"op"', "not a JSON object"),
        (b"{}", "missing 'op'"),
        (b'{"op":5}', "'op' must be a string"),
        (b'{"op":"frobnicate"}', "unknown op 'frobnicate'"),
        (b'{"op":"trace","tracer":7}', "'tracer' must be a string"),
        (b'{"op":"trace","tracer":"nosuch"}', "unknown tracer 'nosuch'"),
        (b'{"op":"status","op":"version"}', "bad JSON"),
        (b"[" * 100000 + b"]" * 100000, "bad JSON"),
        (b'{"op":"version"}\xff', "bad JSON"),
    ]
    # All on one connection: each gets its reply and the connection lives on.
    with connect() as s:
        for payload, want in cases:
            send_frame(s, payload)
            reply = recv_frame(s)
            assert reply["ok"] is False and want in reply["error"], (payload[:40], reply)
        send_frame(s, '{"op":"version"}')
        assert recv_frame(s)["ok"] is True


def test_argument_schemas_of_the_op_table():
    """Each op's arguments as control_ops declares them: required, strings, bounded."""
    cases = [
        ({"op": "trace", "tracer": "a" * 64}, "'tracer' is too long"),
        ({"op": "trace", "rule": "a" * 256}, "'rule' is too long"),
        ({"op": "trace", "container": "a" * 129}, "'container' is too long"),
        ({"op": "create_rule"}, "'content' must be a string"),
        ({"op": "create_rule", "content": "x", "file": "a" * 256}, "'file' is too long"),
        ({"op": "remove_rule", "name": None}, "'name' must be a string"),
        ({"op": "remove_rule", "name": "a" * 256}, "'name' is too long"),
        ({"op": "resume_container"}, "'container' must be a string"),
        ({"op": "resume_container", "container": "a" * 129}, "'container' is too long"),
        ({"op": "status", "anything": [1]}, None),
    ]
    with connect() as s:
        for req, want in cases:
            send_frame(s, json.dumps(req))
            reply = recv_frame(s)
            if want is None:
                assert reply["ok"] is True, (req, reply)
            else:
                assert reply["ok"] is False and reply["error"] == "bad request: " + want, \
                    (req, reply)


def test_pipelined_requests_answered_in_order():
    with connect() as s:
        s.sendall(b"".join(struct.pack(">I", len(p)) + p for p in
                           (b'{"op":"version"}', b'{"op":"nope"}', b'{"op":"tracers"}')))
        assert "version" in recv_frame(s)
        assert recv_frame(s)["ok"] is False
        assert "tracers" in recv_frame(s)


def test_oversized_frame_is_refused_and_closed():
    with connect() as s:
        s.sendall(struct.pack(">I", (1 << 20) + 1) + b"{")
        reply = recv_frame(s)
        assert reply["ok"] is False and "too large" in reply["error"], reply
        assert s.recv(1) == b"", "connection not closed"
    # Exactly 1 MiB is allowed (and is bad JSON here).
    with connect() as s:
        send_frame(s, b" " * (1 << 20))
        assert "bad JSON" in recv_frame(s)["error"]


def test_slow_subscriber_loses_counted_events():
    """A subscriber that does not read loses events, counted, and is told how
    many once it reads. It subscribes to one rule's matches only, so that the
    count is exact (no other process's opens reach it)."""
    target = os.path.join(D.tmp, unique("slow"))
    open(target, "w").close()
    rule = "slow_" + unique("")
    r = request(json.dumps({"op": "create_rule", "file": rule + ".toml", "content":
                            'tracer = "open"\n[filterEvents.filename]\nvalues = ["%s"]\n'
                            % target}))
    assert r["ok"], r
    kernel_lost = lambda: {t["name"]: t for t in D.status()["tracers"]}["open"]["lost"]
    lost_before = kernel_lost()
    s = connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    send_frame(s, json.dumps({"op": "trace", "rule": rule}))
    time.sleep(0.3)
    openloop = os.path.join(os.path.dirname(os.environ["BPFD"]), "bench", "openloop")
    subprocess.run([openloop, target, "200000"], check=True, capture_output=True)
    # The daemon reads the ring buffer in batches and answers status between
    # them: wait until each of the 200,000 opens reached the subscriber's
    # queue or was lost in the kernel's ring buffer (a slow daemon, such as
    # one built with AddressSanitizer, loses some there; they are counted).
    deadline = time.time() + 25
    while True:
        st = D.status()
        assert st["ok"], "the daemon stopped answering while a subscriber did not read"
        sub = [x for x in st["subscribers"] if x["rule"] == rule]
        assert sub, "the subscriber was cut off"
        in_kernel = {t["name"]: t for t in st["tracers"]}["open"]["lost"] - lost_before
        if sub[0]["sent"] + sub[0]["dropped"] + in_kernel >= 200000:
            break
        assert time.time() < deadline, (sub, in_kernel)
        time.sleep(0.2)
    dropped = sub[0]["dropped"]
    assert dropped > 0, sub
    # Other processes' opens lost in the kernel meanwhile count there too.
    assert 200000 - in_kernel <= sub[0]["sent"] + dropped <= 200000, (sub, in_kernel)
    # Reading now: events, then a notice with the count.
    assert recv_frame(s) == {"ok": True}
    lost = seen = 0
    deadline = time.time() + 30
    while seen + lost < sub[0]["sent"] + dropped and time.time() < deadline:
        f = recv_frame(s)
        if "notice" in f:
            assert f["notice"] == "lost"
            lost += f["lost"]
        else:
            seen += 1
    assert (seen, lost) == (sub[0]["sent"], dropped), (seen, lost, sub[0]["sent"], dropped)
    s.close()
    assert request(json.dumps({"op": "remove_rule", "name": rule}))["ok"]
    # The daemon's log says so too (checked once a second).
    deadline = time.time() + 3
    while "events dropped for slow trace subscribers" not in D.stderr():
        assert time.time() < deadline, "drops not announced in the log"
        time.sleep(0.1)


def test_daemon_alive_after_all():
    st = D.status()
    assert st["ok"] and D.proc.poll() is None
    assert all(t["state"] == "loaded" for t in st["tracers"]), st["tracers"]


def main():
    global D
    require_root()
    D = Daemon().start()
    try:
        return run_tests([
            test_doc_prefixes_are_right,
            test_doc_frames_against_the_daemon,
            test_rule_ops_doc_frames,
            test_resume_container_doc_frames,
            test_bad_frames_get_error_replies,
            test_argument_schemas_of_the_op_table,
            test_pipelined_requests_answered_in_order,
            test_oversized_frame_is_refused_and_closed,
            test_slow_subscriber_loses_counted_events,
            test_daemon_alive_after_all,
        ])
    finally:
        D.cleanup()


if __name__ == "__main__":
    sys.exit(main())
