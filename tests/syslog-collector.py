#!/usr/bin/env python3
"""syslog-collector.py - the syslog side of tests/syslog.sh.

  syslog-collector.py collect DIR [udp=PORT] [tcp=PORT] [unix=PATH]
      Receives until SIGTERM. Every message is written base64-encoded, one per line,
      to DIR/udp.msgs, DIR/tcp.msgs (octet-counted frames, RFC 6587 3.4.1: a frame
      that is not "LEN SP MSG" is written as BAD) and DIR/unix.msgs. DIR/ready appears
      when every socket listens.
  syslog-collector.py check FILE.msgs JSONL KIND
      KIND net: RFC 5424 "<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG"; local:
      "<PRI>Mmm dd hh:mm:ss APP[PID]: MSG". Checks one message per alert, in order,
      MSG equal to the jsonl line, no CR, LF or NUL anywhere, PRI = facility*8 +
      severity as onpath maps it, MSGID = event.action.
"""
import base64
import json
import os
import re
import select
import signal
import socket
import sys


def collect(out, opts):
    socks = {}
    files = {}
    for o in opts:
        kind, val = o.split("=", 1)
        if kind == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # a burst of alerts must not overflow the receive queue: UDP has no
            # flow control, and this test counts messages (SO_RCVBUFFORCE as root)
            for opt in (33, socket.SO_RCVBUF):
                try:
                    s.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
                    break
                except OSError:
                    pass
            s.bind(("127.0.0.1", int(val)))
        elif kind == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(val)))
            s.listen(8)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(val)
        socks[s] = kind
        files[kind] = open(os.path.join(out, kind + ".msgs"), "a", buffering=1)
    conns = {}
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    open(os.path.join(out, "ready"), "w").close()
    while True:
        r, _, _ = select.select(list(socks) + list(conns), [], [])
        for s in r:
            if s in conns:
                data = s.recv(65536)
                if not data:
                    del conns[s]
                    s.close()
                    continue
                buf = conns[s] + data
                while True:
                    sp = buf.find(b" ")
                    if sp < 0:
                        break
                    if not buf[:sp].isdigit():
                        files["tcp"].write("BAD\n")
                        buf = b""
                        break
                    n = int(buf[:sp])
                    if len(buf) < sp + 1 + n:
                        break
                    files["tcp"].write(base64.b64encode(buf[sp + 1:sp + 1 + n]).decode() + "\n")
                    buf = buf[sp + 1 + n:]
                conns[s] = buf
            elif socks[s] == "tcp":
                c, _ = s.accept()
                conns[c] = b""
            else:
                data = s.recv(262144)
                files[socks[s]].write(base64.b64encode(data).decode() + "\n")


SEV = {"alert": lambda s: 2 if s >= 9 else 3 if s >= 7 else 4 if s >= 4 else 5 if s >= 1 else 6}
NET = re.compile(rb"^<(\d+)>1 (\S+) (\S+) (\S+) (\d+) (\S+) - (.*)$", re.S)
LOCAL = re.compile(rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+)\[(\d+)\]: (.*)$", re.S)


def check(path, jsonl, kind, facility=16):
    with open(path) as f:
        msgs = [l.strip() for l in f if l.strip()]
    with open(jsonl, "rb") as f:
        want = [l.rstrip(b"\n") for l in f if l.strip()]
    if "BAD" in msgs:
        sys.exit("%s: a TCP frame without octet counting" % path)
    msgs = [base64.b64decode(m) for m in msgs]
    if len(msgs) != len(want):
        sys.exit("%s: %d messages for %d alerts" % (path, len(msgs), len(want)))
    for i, (m, w) in enumerate(zip(msgs, want)):
        for bad in (b"\n", b"\r", b"\x00"):
            if bad in m:
                sys.exit("%s: message %d holds %r" % (path, i, bad))
        rx = NET if kind == "net" else LOCAL
        mm = rx.match(m)
        if not mm:
            sys.exit("%s: message %d is not %s syslog: %r" % (path, i, kind, m[:120]))
        body = mm.group(7) if kind == "net" else mm.group(4)
        if body != w:
            sys.exit("%s: message %d: the body differs from jsonl line %d" % (path, i, i + 1))
        a = json.loads(body)
        pri = int(mm.group(1))
        sev = SEV["alert"](a["event"]["severity"])
        if pri != facility * 8 + sev:
            sys.exit("%s: message %d: PRI %d, expected %d" % (path, i, pri, facility * 8 + sev))
        if kind == "net" and mm.group(6).decode() != a["event"]["action"][:32]:
            sys.exit("%s: message %d: MSGID %r, expected the action" % (path, i, mm.group(6)))
    print("%s: %d messages, one per alert, in order" % (path, len(msgs)))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 16)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
