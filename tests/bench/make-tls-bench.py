#!/usr/bin/python3
"""make-tls-bench.py - a capture of N TLS handshakes for measuring handshakes/s.

Replays one handshake of a template capture (default: the corpus's
tls/arkime_openssl-tls1_2.pcap, TLS 1.2 with a 3-certificate chain) N times, each on
its own client port and 1 ms apart, by patching the client port in the raw frames
(Ethernet/IPv4/TCP; checksums are not checked by onpath). Writes classic pcap.

  make-tls-bench.py TEMPLATE.pcap N OUT.pcap
"""
import struct
import sys


def read_pcap(path):
    d = open(path, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(e + "I", d[20:24])[0]
    o, recs = 24, []
    while o + 16 <= len(d):
        ts, us, cl, wl = struct.unpack(e + "IIII", d[o:o + 16])
        recs.append((ts, us, d[o + 16:o + 16 + cl], wl))
        o += 16 + cl
    return link, recs


def main():
    tmpl, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    link, recs = read_pcap(tmpl)
    assert link == 1, "Ethernet template expected"
    frames = []
    client_port = None
    for ts, us, f, wl in recs:
        if f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        sp, dp = struct.unpack(">HH", f[14 + ihl:18 + ihl])
        if client_port is None:
            client_port = sp  # the first TCP packet is the client's SYN
        frames.append((ts * 1000000 + us, f, ihl, sp == client_port))
    t0 = frames[0][0]
    with open(out, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            port = 1024 + (i % 60000)
            base = 1_700_000_000_000_000 + i * 1000
            for t, f, ihl, from_client in frames:
                b = bytearray(f)
                off = 14 + ihl if from_client else 16 + ihl
                b[off:off + 2] = struct.pack(">H", port)
                # a distinct client address every 60000 flows keeps the 5-tuples unique
                b[26 + (0 if from_client else 4) + 3] = (i // 60000) & 0xff
                ts = base + (t - t0)
                fp.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(b), len(b)))
                fp.write(b)


if __name__ == "__main__":
    main()
