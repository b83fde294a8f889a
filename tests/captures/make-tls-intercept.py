#!/usr/bin/python3
"""make-tls-intercept.py - a TLS interception scenario for the golden tests.

  make-tls-intercept.py OUT.pcap ROOT.pem

Client 192.0.2.10 talks to bank.example at 203.0.113.20:443 and to mail.example at
203.0.113.25:443 (documentation addresses, 02:... MACs):
  1. 2024-03-01 10:00 bank.example, TLS 1.2: a leaf from "Example Public Root R1" (the
     public test root written to ROOT.pem), issued a month before, with an SCT.
  2. 10:05 mail.example, TLS 1.3 (ServerHello only: the rest is encrypted).
  3. 11:00 bank.example again, answered by a mitmproxy in the path: its own
     ServerHello (another cipher and extension set), a leaf minted two minutes
     before by CN=mitmproxy, and the mitmproxy CA in the chain.
  4. 11:05 mail.example again, TLS 1.3 answered by the interceptor's stack (a
     different extension set): the certificate is encrypted, the fingerprint is not.
Keys are made fresh on every run; the committed capture is one run's output.
"""
import datetime
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from scapy.all import IP, TCP, Ether, wrpcap

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)
CLIENT, CMAC = "192.0.2.10", "02:00:00:00:00:0a"
GW_MAC = "02:00:00:00:00:01"


def name(cn, org=None):
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def cert(subject, issuer, key, issuer_key, nb, na, ca, sans=None, sct=False, serial=1):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
    else:
        b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    if sct:
        # RFC 6962 3.3: embedded SCT list; only its presence matters to the sensor.
        b = b.add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), b"\x04\x02\x00\x00"), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


def u16(v):
    return struct.pack(">H", v)


def u24(v):
    return struct.pack(">I", v)[1:]


def ext(t, body):
    return u16(t) + u16(len(body)) + body


def client_hello(sni):
    ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
               0x009c, 0x009d, 0x002f, 0x0035]
    sn = sni.encode()
    exts = (ext(0x0000, u16(len(sn) + 3) + b"\x00" + u16(len(sn)) + sn) +
            ext(0x0017, b"") + ext(0xff01, b"\x00") +
            ext(0x000a, u16(6) + u16(0x001d) + u16(0x0017) + u16(0x0018)) +
            ext(0x000b, b"\x01\x00") +
            ext(0x0010, u16(12) + b"\x02h2\x08http/1.1") +
            ext(0x000d, u16(8) + u16(0x0403) + u16(0x0804) + u16(0x0401) + u16(0x0503)) +
            ext(0x0033, u16(36) + u16(0x001d) + u16(32) + bytes(range(32))) +
            ext(0x002b, b"\x04" + u16(0x0304) + u16(0x0303)))
    body = (u16(0x0303) + bytes(range(32)) + b"\x20" + b"\x11" * 32 +
            u16(2 * len(ciphers)) + b"".join(u16(c) for c in ciphers) + b"\x01\x00" +
            u16(len(exts)) + exts)
    return b"\x01" + u24(len(body)) + body


def server_hello(cipher, exts):
    body = u16(0x0303) + bytes(range(100, 132)) + b"\x20" + b"\x22" * 32 + u16(cipher) + b"\x00"
    e = b"".join(exts)
    body += u16(len(e)) + e
    return b"\x02" + u24(len(body)) + body


def certificate(chain):
    lst = b"".join(u24(len(d)) + d for d in chain)
    body = u24(len(lst)) + lst
    return b"\x0b" + u24(len(body)) + body


def records(hs, ct=22):
    out = b""
    for o in range(0, len(hs), 16384):
        frag = hs[o:o + 16384]
        out += bytes([ct]) + u16(0x0303) + u16(len(frag)) + frag
    return out


class Flow:
    def __init__(self, pkts, server, smac, sport, t):
        self.p, self.server, self.smac, self.sport, self.t = pkts, server, smac, sport, t
        self.cseq, self.sseq = 1000, 50000

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


def main():
    out, root_pem = sys.argv[1], sys.argv[2]
    root_key, leaf_key, mitm_key, mleaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    root = cert(name("Example Public Root R1", "Example Trust"), name("Example Public Root R1", "Example Trust"),
                root_key, root_key, T0 - datetime.timedelta(days=3650), T0 + datetime.timedelta(days=3650), True)
    leaf = cert(name("bank.example"), root.subject, leaf_key, root_key, T0 - datetime.timedelta(days=30),
                T0 + datetime.timedelta(days=60), False, ["bank.example", "www.bank.example"], sct=True, serial=7)
    t3 = T0 + datetime.timedelta(hours=1)
    mitm = cert(name("mitmproxy", "mitmproxy"), name("mitmproxy", "mitmproxy"), mitm_key, mitm_key,
                T0 - datetime.timedelta(days=2), T0 + datetime.timedelta(days=900), True, serial=99)
    mleaf = cert(name("bank.example"), mitm.subject, mleaf_key, mitm_key, t3 - datetime.timedelta(seconds=120),
                 t3 + datetime.timedelta(days=365), False, ["bank.example"], serial=1234)
    with open(root_pem, "wb") as fp:
        fp.write(b"# Example Public Root R1: the test root of tests/captures/tls-intercept.pcap\n")
        fp.write(root.public_bytes(serialization.Encoding.PEM))

    pkts = []
    tls13_exts = [ext(0x002b, u16(0x0304)), ext(0x0033, u16(0x001d) + u16(32) + bytes(32))]
    # 1. the real bank.example
    f = Flow(pkts, "203.0.113.20", "02:00:00:00:00:14", 50001, T0)
    f.handshake()
    f.send(True, records(client_hello("bank.example")))
    sh = server_hello(0xc02f, [ext(0xff01, b"\x00"), ext(0x0017, b""), ext(0x0010, u16(3) + b"\x02h2")])
    f.send(False, records(sh + certificate([der(leaf)]) + b"\x0e\x00\x00\x00"))
    f.close()
    # 2. the real mail.example, TLS 1.3
    f = Flow(pkts, "203.0.113.25", "02:00:00:00:00:19", 50002, T0 + datetime.timedelta(minutes=5))
    f.handshake()
    f.send(True, records(client_hello("mail.example")))
    f.send(False, records(server_hello(0x1301, tls13_exts)) + b"\x14\x03\x03\x00\x01\x01")
    f.close()
    # 3. bank.example through the interceptor
    f = Flow(pkts, "203.0.113.20", "02:00:00:00:00:14", 50003, t3)
    f.handshake()
    f.send(True, records(client_hello("bank.example")))
    sh = server_hello(0xc030, [ext(0x0010, u16(3) + b"\x02h2"), ext(0xff01, b"\x00"), ext(0x000b, b"\x01\x00")])
    f.send(False, records(sh + certificate([der(mleaf), der(mitm)]) + b"\x0e\x00\x00\x00"))
    f.close()
    # 4. mail.example through the interceptor, TLS 1.3 with another extension set
    f = Flow(pkts, "203.0.113.25", "02:00:00:00:00:19", 50004, t3 + datetime.timedelta(minutes=5))
    f.handshake()
    f.send(True, records(client_hello("mail.example")))
    f.send(False, records(server_hello(0x1302, tls13_exts[::-1])) + b"\x14\x03\x03\x00\x01\x01")
    f.close()
    wrpcap(out, pkts)


if __name__ == "__main__":
    main()
