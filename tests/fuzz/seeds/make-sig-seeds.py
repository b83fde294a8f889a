#!/usr/bin/python3
"""make-sig-seeds.py - seeds for fuzz_sig: each slot's real signature file (its first
MAX_LINES lines), prefixed with the slot byte, and a few hostile files.

Slot numbers follow the table in fuzz_sig.c (append only there and here).

  python3 make-sig-seeds.py SIGNATURES_DIR OUT_DIR
"""
import os
import sys

MAX_LINES = 40

SLOTS = [
    ("arp", "virtual-macs.csv"),
    ("dns", "bogon-networks.csv"),
    ("http", "hsts-preload.csv"),
    ("records", "cipher-suites.csv"),
    ("downgrade", "cipher-suites.csv"),
    ("issuer", "interception-cas.csv"),
    ("issuer", "pinsets.csv"),
    ("issuer", "pins.csv"),
    ("tls", "interception-clients.csv"),
    ("generic", None),
]
GENERIC = len(SLOTS) - 1

HOSTILE = {
    "header-only": b"# c\nname,value\n",
    "empty": b"",
    "comments-only": b"# a\n#b\n\n   \n",
    "no-newline-at-end": b"h1,h2\nx,y",
    "crlf": b"# c\r\nh1,h2\r\n a , b \r\n",
    "nul-byte": b"h1,h2\na\x00b,c\nd,e\n",
    "long-line": b"h1,h2\n" + b"a," + b"b" * 2100 + b"\nc,d\n",
    "long-last-line": b"h1,h2\n" + b"a," + b"b" * 2100,
    "too-many-cols": b"h1,h2\n" + b",".join([b"x"] * 17) + b"\n",
    "too-few-cols": b"h1,h2\nonly\n",
    "empty-fields": b"h1,h2\n,\n , \n",
    "stop": b"h1,h2\na,b\nstop,here\nc,d\n",
}


def main():
    sigdir, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for i, (det, name) in enumerate(SLOTS):
        if name is None:
            continue
        with open(os.path.join(sigdir, name), "rb") as f:
            lines = f.read().splitlines(keepends=True)[:MAX_LINES]
        with open(os.path.join(out, "%d-%s-%s" % (i, det, name[:-4])), "wb") as f:
            f.write(bytes([i]) + b"".join(lines))
        # the same file with its last record cut in the middle
        with open(os.path.join(out, "%d-%s-cut" % (i, det)), "wb") as f:
            body = b"".join(lines)
            f.write(bytes([i]) + body[: len(body) - len(lines[-1]) // 2])
    for name, body in HOSTILE.items():
        with open(os.path.join(out, "%d-generic-%s" % (GENERIC, name)), "wb") as f:
            f.write(bytes([GENERIC]) + body)
    # the hostile files through a detector's loader as well
    for name in ("nul-byte", "long-line", "too-many-cols", "empty"):
        with open(os.path.join(out, "0-arp-%s" % name), "wb") as f:
            f.write(bytes([0]) + HOSTILE[name])


if __name__ == "__main__":
    main()
