#!/usr/bin/env python3
"""redis-check.py - the checks of tests/redis.sh, speaking RESP to a test redis-server.

  redis-check.py cmd ARG...                 print one command's reply (as JSON)
  redis-check.py stream JSONL [STREAM]      the stream holds exactly the alerts of the
                                            jsonl file, once each, in order, with the
                                            indexed fields (id, type, severity, sensor)
  redis-check.py stream-at-least JSONL [STREAM]  the same, repeats allowed (timeouts)
  redis-check.py list JSONL KEY             the list holds exactly the jsonl lines, in order
  redis-check.py group STREAM N             a consumer group reads N entries and acks them
  redis-check.py wait-xlen STREAM N SECS    wait until XLEN >= N

Where: REDIS_PORT (127.0.0.1) or REDIS_UNIX; REDIS_USER, REDIS_PASS, REDIS_DB.
Exit 0 when the check holds, 1 with a reason on stderr otherwise.
"""
import json
import os
import socket
import sys
import time


class RedisError(Exception):
    pass


class Conn:
    def __init__(self):
        if os.environ.get("REDIS_UNIX"):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.connect(os.environ["REDIS_UNIX"])
        else:
            self.s = socket.create_connection(("127.0.0.1", int(os.environ["REDIS_PORT"])), 10)
        self.s.settimeout(30)
        self.f = self.s.makefile("rb")
        if os.environ.get("REDIS_PASS"):
            args = ["AUTH"]
            if os.environ.get("REDIS_USER"):
                args.append(os.environ["REDIS_USER"])
            args.append(os.environ["REDIS_PASS"])
            self.cmd(*args)
        if os.environ.get("REDIS_DB", "0") != "0":
            self.cmd("SELECT", os.environ["REDIS_DB"])

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.s.sendall(b"".join(out))
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line:
            raise RedisError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RedisError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RedisError("bad reply %r" % line)


def fail(msg):
    sys.stderr.write("redis-check: %s\n" % msg)
    sys.exit(1)


def jsonl(path, key=None):
    """The lines of a jsonl output; with a stream key, those the sensor sends to that
    stream: incidents to ...incidents, everything else to the alert stream."""
    with open(path, "rb") as f:
        lines = [l.rstrip(b"\n") for l in f if l.strip()]
    if key is None:
        return lines
    want_inc = key.endswith("incidents")
    return [l for l in lines if (json.loads(l)["event"]["kind"] == "incident") == want_inc]


def entries(c, key):
    out, start = [], "-"
    while True:
        batch = c.cmd("XRANGE", key, start, "+", "COUNT", 10000)
        if not batch:
            return out
        for eid, fields in batch:
            out.append((eid, dict(zip(fields[0::2], fields[1::2]))))
        start = "(" + batch[-1][0].decode()


def check_stream(c, path, key):
    want = jsonl(path, key)
    got = entries(c, key)
    if len(got) != len(want):
        ids_w = [json.loads(l)["event"]["id"] for l in want]
        ids_g = [f.get(b"id", b"").decode() for _, f in got]
        dup = len(ids_g) - len(set(ids_g))
        missing = len(set(ids_w) - set(ids_g))
        fail("%s holds %d entries, the jsonl %d alerts (%d duplicates, %d missing)"
             % (key, len(got), len(want), dup, missing))
    for i, (line, (eid, f)) in enumerate(zip(want, got)):
        a = json.loads(line)
        if f.get(b"json") != line:
            fail("%s entry %d (%s): json field differs from jsonl line %d" % (key, i, eid, i + 1))
        for field, value in ((b"id", a["event"]["id"]), (b"type", a["event"]["action"]),
                             (b"severity", str(a["event"]["severity"])),
                             (b"sensor", a["observer"]["name"])):
            if f.get(field, b"").decode() != value:
                fail("%s entry %d: field %s is %r, expected %r"
                     % (key, i, field.decode(), f.get(field), value))
    print("%s: %d entries, once each, in order" % (key, len(got)))


def check_stream_at_least(c, path, key):
    """After a timeout nobody knows whether Redis ran the batch: repeats are allowed,
    each a byte-identical copy (a consumer drops it by event.id, or by event.id and
    onpath.incident.revision for incident updates, which share the incident's id),
    and nothing may be missing or out of order (by first occurrence)."""
    want = jsonl(path, key)
    got = entries(c, key)
    first, seen = [], set()
    for _, f in got:
        line = f.get(b"json")
        if line in seen:
            continue
        seen.add(line)
        first.append(line)
    if first != want:
        missing = len(set(want) - seen)
        fail("%s: %d distinct lines (%d missing) or out of order, the jsonl has %d"
             % (key, len(first), missing, len(want)))
    print("%s: %d alerts, all present in order, %d repeats"
          % (key, len(want), len(got) - len(first)))


def check_list(c, path, key):
    want = jsonl(path)
    got = c.cmd("LRANGE", key, 0, -1)
    if got != want:
        fail("list %s: %d items, expected the %d jsonl lines in order" % (key, len(got), len(want)))
    # what Logstash's redis input (data_type list, codec json) does with each item
    for item in got:
        json.loads(item)
    print("%s: %d alerts, once each, in order" % (key, len(got)))


def main():
    if len(sys.argv) < 2:
        fail(__doc__)
    c = Conn()
    op = sys.argv[1]
    if op == "cmd":
        try:
            r = c.cmd(*sys.argv[2:])
        except RedisError as e:
            r = {"error": str(e)}

        def conv(x):
            if isinstance(x, bytes):
                return x.decode(errors="replace")
            if isinstance(x, list):
                return [conv(y) for y in x]
            return x
        print(json.dumps(conv(r)))
    elif op == "stream":
        check_stream(c, sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "onpath:alerts")
    elif op == "stream-at-least":
        check_stream_at_least(c, sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "onpath:alerts")
    elif op == "list":
        check_list(c, sys.argv[2], sys.argv[3])
    elif op == "group":
        key, n = sys.argv[2], int(sys.argv[3])
        c.cmd("XGROUP", "CREATE", key, "dash", "0")
        seen = 0
        while True:
            r = c.cmd("XREADGROUP", "GROUP", "dash", "c1", "COUNT", 1000, "STREAMS", key, ">")
            if not r:
                break
            ids = [eid for eid, _ in r[0][1]]
            if not ids:
                break
            c.cmd("XACK", key, "dash", *ids)
            seen += len(ids)
        pending = c.cmd("XPENDING", key, "dash")[0]
        if seen != n or pending != 0:
            fail("consumer group read %d entries (%d pending), expected %d" % (seen, pending, n))
        print("consumer group: %d entries read and acknowledged" % seen)
    elif op == "wait-xlen":
        key, n, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        end = time.time() + secs
        while time.time() < end:
            if c.cmd("XLEN", key) >= n:
                return
            time.sleep(0.05)
        fail("%s has %d entries after %.0f s, expected %d" % (key, c.cmd("XLEN", key), secs, n))
    else:
        fail("unknown operation %s" % op)


if __name__ == "__main__":
    main()
