#!/usr/bin/python3
"""make-tls-seeds.py - seeds for fuzz_tls and fuzz_x509 from corpus captures.

For each capture: the first TCP flow's two directions (in-order payload from the
first data segment, retransmissions dropped) become one fuzz_tls input
  [segment size][flags][len A (2 bytes)][client bytes A][server bytes]
cut to at most 12 KiB per direction; the server's first Certificate message body
becomes a fuzz_x509 input.

  python3 make-tls-seeds.py CORPUS_DIR OUT_DIR
"""
import os
import struct
import sys

from scapy.all import IP, IPv6, TCP, rdpcap  # python3-scapy

CAPTURES = {
    "tls12-openssl": "tls/arkime_openssl-tls1_2.pcap",
    "tls13-draft": "tls/arkime_tls13.pcap",
    "tls13-hrr": "tls/zeek_tls__hrr.pcap",
    "early-alert": "tls/zeek_tls__tls-early-alert.pcap",
    "sslv2-compat": "downgrade/zeek_tls__ssl.v3.pcap",
    "sslv2-full": "downgrade/zeek_tls__ssl-v2.pcap",
    "split-hello": "tls/arkime_tls-split-client-hello.pcap",
    "sct": "tls/zeek_tls__certificate-with-sct.pcap",
    "altname-nul": "tls/suricata-verify_tls__tls-altname-zero.pcap",
}
CAP = 12 * 1024


def streams(path):
    pk = rdpcap(path)
    flows = {}
    order = []
    for p in pk:
        if TCP not in p:
            continue
        ip = p[IP] if IP in p else (p[IPv6] if IPv6 in p else None)
        if ip is None:
            continue
        t = p[TCP]
        key = (ip.src, t.sport, ip.dst, t.dport)
        pl = bytes(t.payload)
        if not pl:
            continue
        canon = tuple(sorted([(ip.src, t.sport), (ip.dst, t.dport)]))
        if canon not in flows:
            flows[canon] = {}
            order.append(canon)
        d = flows[canon].setdefault(key, {"next": None, "data": b""})
        if d["next"] is None:
            d["next"] = t.seq
        if t.seq == d["next"]:
            d["data"] += pl
            d["next"] = (t.seq + len(pl)) & 0xffffffff
    if not order:
        return None, None
    f = flows[order[0]]
    keys = list(f.keys())
    first = keys[0]
    a = f[first]["data"]
    b = f[keys[1]]["data"] if len(keys) > 1 else b""
    return a, b


def cert_body(server):
    # walk TLS records, gather handshake bytes, return the first Certificate body
    hs = b""
    o = 0
    while o + 5 <= len(server):
        ct, ln = server[o], struct.unpack(">H", server[o + 3:o + 5])[0]
        if ct == 22:
            hs += server[o + 5:o + 5 + ln]
        o += 5 + ln
    o = 0
    while o + 4 <= len(hs):
        t = hs[o]
        ln = int.from_bytes(hs[o + 1:o + 4], "big")
        if t == 11:
            return hs[o + 4:o + 4 + ln]
        o += 4 + ln
    return None


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "tls"), exist_ok=True)
    os.makedirs(os.path.join(out, "x509"), exist_ok=True)
    for name, rel in CAPTURES.items():
        a, b = streams(os.path.join(corpus, rel))
        if a is None:
            continue
        a, b = a[:CAP], b[:CAP]
        for seg in (0, 97):
            with open(os.path.join(out, "tls", "%s-%d" % (name, seg)), "wb") as fp:
                fp.write(bytes([seg, 0]) + struct.pack(">H", len(a)) + a + b)
        c = cert_body(b)
        if c:
            with open(os.path.join(out, "x509", name), "wb") as fp:
                fp.write(c[:CAP])


if __name__ == "__main__":
    main()
