#!/usr/bin/python3
"""make-ssh-seeds.py - seeds for fuzz_ssh from captures: each TCP connection's two
directions in the fuzz_ssh layout (segment size, flags, client length, client bytes,
server bytes), cut to the first 8 KiB of each direction.

  make-ssh-seeds.py OUTDIR PCAP...
"""
import os
import struct
import sys

from scapy.all import IP, IPv6, TCP, rdpcap

CAP = 8192


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
            data = bytes(t.payload)
            key = tuple(sorted([(ip.src, t.sport), (ip.dst, t.dport)]))
            f = flows.setdefault(key, {"client": None, "d": {}})
            if t.flags & 0x02 and not t.flags & 0x10:
                f["client"] = (ip.src, t.sport)
            if data:
                f["d"].setdefault((ip.src, t.sport), {}).setdefault(t.seq, data)
        for key, f in flows.items():
            cl = f["client"] or key[0]
            sv = key[1] if cl == key[0] else key[0]
            dirs = []
            for ep in (cl, sv):
                segs = f["d"].get(ep, {})
                dirs.append(b"".join(segs[s] for s in sorted(segs))[:CAP])
            if not (dirs[0].startswith(b"SSH-") or dirs[1].startswith(b"SSH-") or 22 in (key[0][1], key[1][1])):
                continue
            for seg, flags in ((0, 4), (7, 3)):
                blob = struct.pack(">BBH", seg, flags, len(dirs[0])) + dirs[0] + dirs[1]
                with open(os.path.join(out, "%s-%d-%d" % (os.path.basename(path).split(".")[0], n, seg)), "wb") as fh:
                    fh.write(blob)
            n += 1
    print(n, "connections")


if __name__ == "__main__":
    main()
