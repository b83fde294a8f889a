#!/usr/bin/python3
"""make-state-seeds.py - seeds for fuzz_state: each stateful detector's baseline from a
real state file, prefixed with its slot byte, and a few hostile values; and whole state
files for the reader slot.

Slot numbers follow the table in fuzz_state.c (append only there and here). The state
file comes from onpath itself, e.g. over the lab captures:

  for p in tests/captures/lab-*.pcap; do onpath -r $p --state /tmp/s.json -o jsonl:/dev/null; done
  python3 make-state-seeds.py /tmp/s.json OUT_DIR
"""
import json
import os
import sys

SLOTS = ["arp", "ndp", "dhcp", "fhrp", "dns", "names", "downgrade", "tls", "issuer",
         "http", "starttls", "ssh", ""]
READER = SLOTS.index("")

HOSTILE = {
    "not-an-object": b"[1,2,3]",
    "null": b"null",
    "wrong-version": b'{"version":999}',
    "huge-numbers": b'{"version":1,"servers":[{"k":"a","w":18446744073709551615,"f":-1}]}',
    "deep": b"[" * 200 + b"]" * 200,
}


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    src, out = argv[1], argv[2]
    raw = open(src, "rb").read()
    state = json.loads(raw)
    os.makedirs(out, exist_ok=True)

    def put(name, slot, body):
        with open(os.path.join(out, "%d-%s" % (slot, name)), "wb") as f:
            f.write(bytes([slot]) + body)

    dets = state.get("detectors", state)
    for slot, name in enumerate(SLOTS):
        if not name:
            continue
        if name in dets:
            put(name + "-real", slot, json.dumps(dets[name], separators=(",", ":")).encode())
        for hname, body in HOSTILE.items():
            put(name + "-" + hname, slot, body)
    put("reader-real", READER, raw)
    put("reader-cut", READER, raw[: len(raw) // 2])
    put("reader-empty", READER, b"")
    put("reader-array", READER, b"[]")


if __name__ == "__main__":
    main(sys.argv)
