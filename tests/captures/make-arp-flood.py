#!/usr/bin/env python3
"""make-arp-flood.py N OUT.pcap - N forged ARP requests, each a distinct alert.

Every frame is an ARP request whose Ethernet source differs from the ARP sender
hardware address (arp.ethernet_mismatch), with a different Ethernet source each
time, so the de-duplication key (VLAN, IP, sender MAC, Ethernet source) never
repeats and N frames give at least N alerts. Used by tests/redis.sh and the output
benchmark to produce thousands of alerts quickly; written with struct (no scapy) so
a million frames take seconds. Addresses: 192.0.2.0/24 (RFC 5737), MACs 02:...
(locally administered). Timestamps start at 2024-01-01 and advance 1 ms per frame.
"""
import struct
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make-arp-flood.py N OUT.pcap")
    n = int(sys.argv[1])
    t0 = 1704067200  # 2024-01-01T00:00:00Z
    with open(sys.argv[2], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            eth_src = bytes([0x02, 0x00, 0x01, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            sha = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x66])
            spa = bytes([192, 0, 2, 1 + (i % 250)])
            tha = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x23])
            tpa = bytes([192, 0, 2, 253])
            frame = (tha + eth_src + b"\x08\x06" +
                     struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + sha + spa + tha + tpa)
            frame += b"\x00" * (60 - len(frame))
            us = i * 1000
            f.write(struct.pack("<IIII", t0 + us // 1000000, us % 1000000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
