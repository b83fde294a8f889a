#!/usr/bin/python3
"""make-lines-seeds.py - seeds for fuzz_lines: the TCP connections of STARTTLS captures
(SMTP, IMAP, POP3, FTP, XMPP by server port) in the fuzz_lines layout (protocol,
segment size, flags, client length, client bytes, server bytes), cut to the first
4 KiB of each direction, each with whole directions and with 7-byte segments.

  make-lines-seeds.py OUTDIR PCAP...
"""
import os
import struct
import sys

from scapy.all import IP, IPv6, TCP, rdpcap

CAP = 4096
PROTO = {25: 0, 587: 0, 143: 1, 110: 2, 21: 3, 5222: 4, 5269: 4}


def main():
    out = sys.argv[1]
    n = 0
    for path in sys.argv[2:]:
        flows = {}
        for p in rdpcap(path):
            ip = p.getlayer(IP) or p.getlayer(IPv6)
            if ip is None or TCP not in p:
                continue
            t = p[TCP]
            if t.sport in PROTO:
                server, client = (ip.src, t.sport), (ip.dst, t.dport)
            elif t.dport in PROTO:
                server, client = (ip.dst, t.dport), (ip.src, t.sport)
            else:
                continue
            f = flows.setdefault((server, client), {"c": {}, "s": {}})
            d = f["s"] if (ip.src, t.sport) == server else f["c"]
            data = bytes(t.payload)
            if data:
                d.setdefault(t.seq, data)
        for (server, _), f in flows.items():
            cb = b"".join(f["c"][k] for k in sorted(f["c"]))[:CAP]
            sb = b"".join(f["s"][k] for k in sorted(f["s"]))[:CAP]
            if not sb:
                continue
            base = os.path.splitext(os.path.basename(path))[0]
            for seg, flags in ((0, 2), (7, 3)):
                hdr = struct.pack(">BBBH", PROTO[server[1]], seg, flags, len(cb))
                name = "%s-%d-%d" % (base, n, seg)
                with open(os.path.join(out, name), "wb") as fh:
                    fh.write(hdr + cb + sb)
            n += 1
    print("%d connections" % n)


if __name__ == "__main__":
    main()
