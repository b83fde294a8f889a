#!/usr/bin/python3
"""make-quic-seeds.py - seeds for fuzz_quic.

Raw mode (byte 0 even): real client Initials from tests/unit/data. Sealed mode (byte 0
odd): CRYPTO frames carrying a real ClientHello (the TLS 1.3 client hello of the
tls13-draft seed of fuzz_tls), in one packet and split over two with the second half
first, which fuzz_quic seals into Initials itself.

  make-quic-seeds.py TOP_SRCDIR
"""
import os
import struct
import sys

top = sys.argv[1]
out = os.path.join(top, "tests/fuzz/seeds/quic")
data = os.path.join(top, "tests/unit/data")


def frame_crypto(off, b):
    def vi(v):
        return struct.pack(">I", 0x80000000 | v) if v >= 0x4000 else struct.pack(">H", 0x4000 | v)
    return b"\x06" + vi(off) + vi(len(b)) + b


def pk(b):
    return struct.pack(">H", len(b)) + b


ch = open(os.path.join(data, "quic-initial-chromium115.bin"), "rb").read()
k1 = open(os.path.join(data, "quic-initial-kyber-1.bin"), "rb").read()
k2 = open(os.path.join(data, "quic-initial-kyber-2.bin"), "rb").read()
open(os.path.join(out, "raw-chromium115"), "wb").write(b"\x00" + pk(ch))
open(os.path.join(out, "raw-kyber-2pkts"), "wb").write(b"\x00" + pk(k1) + pk(k2))

seed = open(os.path.join(top, "tests/fuzz/seeds/tls/tls13-draft-0"), "rb").read()
alen = struct.unpack(">H", seed[2:4])[0]
client = seed[4:4 + alen]
rl = struct.unpack(">H", client[3:5])[0]
hello = client[5:5 + rl]            # the ClientHello handshake message
open(os.path.join(out, "sealed-one"), "wb").write(b"\x01" + pk(b"\x01\x00" + frame_crypto(0, hello)))
half = len(hello) // 2
p1 = frame_crypto(half, hello[half:]) + b"\x00" * 8
p2 = b"\x01" + frame_crypto(0, hello[:half])
open(os.path.join(out, "sealed-split"), "wb").write(b"\x01" + pk(p1) + pk(p2))
