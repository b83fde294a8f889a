#!/usr/bin/python3
"""make-tls-downgrade.py - TLS version downgrades for the golden tests.

  make-tls-downgrade.py OUT.pcap

Client 192.0.2.10 (documentation addresses, 02:... MACs) and four servers:
  1. 2024-03-01 10:00-10:10 secure.example (203.0.113.30:443): three TLS 1.3 sessions
     (ServerHello with supported_versions 0x0304): the server's baseline.
  2. 10:20 secure.example again, a client offering only TLS 1.2 gets TLS 1.2: benign
     (the client offered less).
  3. 10:30, 11:00 legacy.example (203.0.113.32): a TLS 1.2-only server answers a 1.3
     client with TLS 1.2 and no sentinel: benign (no baseline above 1.2).
  4. 10:40-10:50 pay.example (203.0.113.33): three TLS 1.3 sessions.
  5. 2024-03-08 09:00 (a week later) secure.example answers a client offering TLS 1.3
     with TLS 1.0 (ECDHE-RSA-AES128-SHA): downgrade.version against the baseline.
  6. 09:05 mail.example (203.0.113.31) answers a client offering TLS 1.3 with TLS 1.2
     whose ServerRandom ends with DOWNGRD\\x01: downgrade.sentinel (the server was shown
     a ClientHello without 1.3).
  7. 09:10 pay.example: the client's TLS 1.3 attempt is reset by the "server" right
     after the ClientHello; the client retries with TLS 1.2 and TLS_FALLBACK_SCSV, and
     a ServerHello accepts TLS 1.2: downgrade.fallback_scsv (server known to do 1.3,
     the failed attempt as evidence).
TLS <= 1.2 server flights end with ServerHelloDone (no certificate: not needed here).
Deterministic: the committed capture is this script's output.
"""
import datetime
import struct
import sys

from scapy.all import IP, TCP, Ether, wrpcap

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)
CLIENT, CMAC = "192.0.2.10", "02:00:00:00:00:0a"
GW_MAC = "02:00:00:00:00:01"
SERVERS = {
    "secure.example": ("203.0.113.30", "02:00:00:00:00:1e"),
    "mail.example": ("203.0.113.31", "02:00:00:00:00:1f"),
    "legacy.example": ("203.0.113.32", "02:00:00:00:00:20"),
    "pay.example": ("203.0.113.33", "02:00:00:00:00:21"),
}
TLS10, TLS12, TLS13 = 0x0301, 0x0303, 0x0304
FALLBACK_SCSV = 0x5600


def u16(v):
    return struct.pack(">H", v)


def u24(v):
    return struct.pack(">I", v)[1:]


def ext(t, body):
    return u16(t) + u16(len(body)) + body


def client_hello(sni, versions, scsv=False, seed=0):
    ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
               0x009c, 0x009d, 0x002f, 0x0035]
    if TLS13 not in versions:
        ciphers = ciphers[3:]
    if scsv:
        ciphers.append(FALLBACK_SCSV)
    sn = sni.encode()
    exts = (ext(0x0000, u16(len(sn) + 3) + b"\x00" + u16(len(sn)) + sn) +
            ext(0x0017, b"") + ext(0xff01, b"\x00") +
            ext(0x000a, u16(6) + u16(0x001d) + u16(0x0017) + u16(0x0018)) +
            ext(0x000b, b"\x01\x00") +
            ext(0x000d, u16(8) + u16(0x0403) + u16(0x0804) + u16(0x0401) + u16(0x0503)))
    if TLS13 in versions:
        exts += (ext(0x0033, u16(36) + u16(0x001d) + u16(32) + bytes(range(32))) +
                 ext(0x002b, bytes([2 * len(versions)]) + b"".join(u16(v) for v in versions)))
    legacy = min(max(versions), TLS12)
    body = (u16(legacy) + bytes((seed + i) & 0xff for i in range(32)) + b"\x20" + b"\x11" * 32 +
            u16(2 * len(ciphers)) + b"".join(u16(c) for c in ciphers) + b"\x01\x00" +
            u16(len(exts)) + exts)
    return b"\x01" + u24(len(body)) + body


def server_hello(version, cipher, tail=None, seed=0):
    rnd = bytes((100 + seed + i) & 0xff for i in range(32))
    if tail:
        rnd = rnd[:24] + tail
    if version == TLS13:
        legacy = TLS12
        exts = ext(0x002b, u16(TLS13)) + ext(0x0033, u16(0x001d) + u16(32) + bytes(32))
    else:
        legacy = version
        exts = ext(0xff01, b"\x00") + ext(0x000b, b"\x01\x00")
    body = u16(legacy) + rnd + b"\x20" + b"\x22" * 32 + u16(cipher) + b"\x00" + u16(len(exts)) + exts
    hs = b"\x02" + u24(len(body)) + body
    if version != TLS13:
        hs += b"\x0e\x00\x00\x00"  # ServerHelloDone
    return hs


def records(hs, version=TLS12, ct=22):
    out = b""
    for o in range(0, len(hs), 16384):
        frag = hs[o:o + 16384]
        out += bytes([ct]) + u16(version) + u16(len(frag)) + frag
    return out


class Flow:
    def __init__(self, pkts, name, sport, t):
        self.p = pkts
        self.server, self.smac = SERVERS[name]
        self.sport, self.t = sport, t
        self.cseq, self.sseq = 1000 + sport, 50000 + sport

    def _pkt(self, from_client, flags, data=b""):
        if from_client:
            e = Ether(src=CMAC, dst=GW_MAC) / IP(src=CLIENT, dst=self.server, ttl=64)
            t = TCP(sport=self.sport, dport=443, flags=flags, seq=self.cseq, ack=self.sseq)
        else:
            e = Ether(src=self.smac, dst=CMAC) / IP(src=self.server, dst=CLIENT, ttl=52)
            t = TCP(sport=443, dport=self.sport, flags=flags, seq=self.sseq, ack=self.cseq)
        pkt = e / t / data if data else e / t
        pkt.time = self.t.timestamp()
        self.t += datetime.timedelta(milliseconds=7)
        self.p.append(pkt)
        n = len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        if from_client:
            self.cseq += n
        else:
            self.sseq += n

    def handshake(self):
        self.cseq -= 1
        self._pkt(True, "S")
        self.sseq -= 1
        self._pkt(False, "SA")
        self._pkt(True, "A")

    def send(self, from_client, data):
        for o in range(0, len(data), 1400):
            self._pkt(from_client, "PA", data[o:o + 1400])

    def close(self):
        self._pkt(True, "FA")
        self._pkt(False, "FA")
        self._pkt(True, "A")

    def reset_by_server(self):
        self._pkt(False, "RA")


def session(pkts, name, sport, t, versions, sh_version, cipher, tail=None, scsv=False):
    f = Flow(pkts, name, sport, t)
    f.handshake()
    f.send(True, records(client_hello(name, versions, scsv, seed=sport), TLS10))
    f.send(False, records(server_hello(sh_version, cipher, tail, seed=sport),
                          TLS12 if sh_version == TLS13 else sh_version))
    f.close()


def main():
    out = sys.argv[1]
    pkts = []
    m = datetime.timedelta(minutes=1)
    v13 = [TLS13, TLS12]
    for i in range(3):
        session(pkts, "secure.example", 50001 + i, T0 + i * 5 * m, v13, TLS13, 0x1301)
    session(pkts, "secure.example", 50010, T0 + 20 * m, [TLS12], TLS12, 0xc02f)
    session(pkts, "legacy.example", 50011, T0 + 30 * m, v13, TLS12, 0xc02f)
    session(pkts, "legacy.example", 50012, T0 + 60 * m, v13, TLS12, 0xc02f)
    for i in range(3):
        session(pkts, "pay.example", 50020 + i, T0 + (40 + 5 * i) * m, v13, TLS13, 0x1301)

    week = T0 + datetime.timedelta(days=7, hours=-1)
    session(pkts, "secure.example", 51001, week, v13, TLS10, 0xc013)
    session(pkts, "mail.example", 51002, week + 5 * m, v13, TLS12, 0xc02f, tail=b"DOWNGRD\x01")
    f = Flow(pkts, "pay.example", 51003, week + 10 * m)
    f.handshake()
    f.send(True, records(client_hello("pay.example", v13, seed=3), TLS10))
    f.reset_by_server()
    session(pkts, "pay.example", 51004, week + 10 * m + datetime.timedelta(seconds=1), [TLS12], TLS12,
            0xc02f, scsv=True)
    pkts.sort(key=lambda p: p.time)  # stable: packet time must not run backwards
    wrpcap(out, pkts)


if __name__ == "__main__":
    main()
