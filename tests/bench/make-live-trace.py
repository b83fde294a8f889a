#!/usr/bin/env python3
"""make-live-trace.py IN.pcap EVERY OUT.pcap [MAXPKTS] - the live benchmark's trace.

Copies IN.pcap (the bench trace, Ethernet, microsecond pcap; its first MAXPKTS packets
when given) and inserts after every
EVERY-th packet one forged ARP request whose Ethernet source differs from the ARP
sender hardware address (arp.ethernet_mismatch), each with a different Ethernet source,
so that every inserted frame raises an alert with its own de-duplication key: the
alerts whose latency tests/bench/live-bench.sh measures, and whose set it compares
between the live and the offline run. The bench trace alone raises no alert. Every
inserted frame claims the same address, 192.0.2.254, for the same MAC, which no host
of the bench trace uses: the alerts do not depend on the order or the time of the
packets (the live replay compresses or stretches time; tests/workers.sh checks
order-dependent alerts at their real pace). An inserted frame takes the timestamp of
the packet before it. Addresses from 192.0.2.0/24 (RFC 5737), MACs 02:... (locally
administered). Prints "packets N inserted M max_caplen L".
"""
import struct
import sys

CHUNK = 1 << 20


def arp_frame(i):
    eth_src = bytes([0x02, 0x00, 0x01, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
    sha = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x66])
    spa = bytes([192, 0, 2, 254])  # no host of the bench trace: no other alert
    tha = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x23])
    tpa = bytes([192, 0, 2, 253])
    frame = (tha + eth_src + b"\x08\x06" +
             struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + sha + spa + tha + tpa)
    return frame + b"\x00" * (60 - len(frame))


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: make-live-trace.py IN.pcap EVERY OUT.pcap [MAXPKTS]")
    every = int(sys.argv[2])
    maxpkts = int(sys.argv[4]) if len(sys.argv) == 5 else 0
    if every < 1:
        sys.exit("EVERY must be >= 1")
    with open(sys.argv[1], "rb") as f, open(sys.argv[3], "wb") as o:
        hdr = f.read(24)
        if len(hdr) != 24 or hdr[:4] != b"\xd4\xc3\xb2\xa1":
            sys.exit("%s: not a little-endian microsecond pcap" % sys.argv[1])
        if struct.unpack("<I", hdr[20:24])[0] != 1:
            sys.exit("%s: not Ethernet" % sys.argv[1])
        o.write(hdr)
        n = ins = maxcap = 0
        while not maxpkts or n < maxpkts:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, usec, caplen, wirelen = struct.unpack("<IIII", rec)
            data = f.read(caplen)
            if len(data) < caplen:
                break
            o.write(rec)
            o.write(data)
            n += 1
            maxcap = max(maxcap, caplen)
            if n % every == 0:
                fr = arp_frame(ins)
                o.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)))
                o.write(fr)
                ins += 1
    print("packets %d inserted %d max_caplen %d" % (n + ins, ins, maxcap))


if __name__ == "__main__":
    main()
