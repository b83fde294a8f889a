#!/usr/bin/python3
"""make-ssh-hostkey.py - SSH interception scenarios for the golden tests.

  make-ssh-hostkey.py OUT.pcap

Client 192.0.2.10 (documentation addresses, 02:... MACs) opens SSH connections, each
with real-looking identification banners, OpenSSH 9 KEXINITs, a curve25519 ECDH reply
carrying an ed25519 host key blob with a signature, and NEWKEYS both ways:
  1. 2024-03-01 10:00 203.0.113.22:22 presents ed25519 key A.
  2. 10:10 the same server presents ed25519 key B (an SSH man-in-the-middle):
     ssh.host_key_changed.
  3. 10:20 the same server with key A again, and 10:25 an ECDSA key (a new type, offered
     alongside): silent (A was learnt, a new type is not a change).
  4. 10:30 203.0.113.23:22 speaks SSH-2.0; 10:40 it answers "SSH-1.5-..." (the SSH-1
     downgrade of Ettercap/dsniff): ssh.downgrade (protocol).
  5. 10:50 203.0.113.24:2222 offers modern algorithms; 11:00 only
     diffie-hellman-group1-sha1 / 3des-cbc / hmac-md5 / ssh-dss: ssh.downgrade (algorithms).
Keys come from fixed seeds, so every run writes the same capture and prints the
fingerprints the golden test expects.
"""
import base64
import datetime
import hashlib
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from scapy.all import IP, TCP, Ether, wrpcap

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)
CLIENT, CMAC = "192.0.2.10", "02:00:00:00:00:0a"
GW_MAC = "02:00:00:00:00:01"

KEX = ("sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
       "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
       "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256")
HOSTKEYS = ("ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
            "rsa-sha2-512,rsa-sha2-256")
CIPHERS = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com"
MACS = ("umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
        "hmac-sha2-256,hmac-sha2-512,hmac-sha1")


def string(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def packet(payload, seed=0):
    """RFC 4253 6: packet_length, padding_length, payload, padding (block 8, >= 4)."""
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    padding = bytes((seed + i) & 0xff for i in range(pad))
    return struct.pack(">IB", len(payload) + pad + 1, pad) + payload + padding


def kexinit(cookie, kex, hostkeys, ciphers, macs, ext):
    lists = [kex + ext, hostkeys, ciphers, ciphers, macs, macs, "none,zlib@openssh.com",
             "none,zlib@openssh.com", "", ""]
    return packet(bytes([20]) + cookie + b"".join(string(x) for x in lists) + b"\0" + b"\0\0\0\0")


def ed25519_blob(seed):
    k = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return k, string("ssh-ed25519") + string(pub)


def ecdsa_blob(seed):
    k = ec.derive_private_key(seed * 1000003 + 7, ec.SECP256R1())
    pt = k.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return k, string("ecdsa-sha2-nistp256") + string("nistp256") + string(pt)


def fingerprint(blob):
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def ecdh_reply(blob, sigtype, seed):
    q_s = bytes((seed * 7 + i) & 0xff for i in range(32))
    sig = string(sigtype) + string(bytes((seed + 3 * i) & 0xff for i in range(64)))
    return packet(bytes([31]) + string(blob) + string(q_s) + string(sig))


class Flow:
    def __init__(self, pkts, server, smac, dport, sport, t):
        self.p, self.server, self.smac, self.dport, self.sport, self.t = pkts, server, smac, dport, sport, t
        self.cseq, self.sseq = 1000, 50000

    def _pkt(self, from_client, flags, data=b""):
        if from_client:
            e = Ether(src=CMAC, dst=GW_MAC) / IP(src=CLIENT, dst=self.server, ttl=64)
            t = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.cseq, ack=self.sseq)
        else:
            e = Ether(src=self.smac, dst=CMAC) / IP(src=self.server, dst=CLIENT, ttl=52)
            t = TCP(sport=self.dport, dport=self.sport, flags=flags, seq=self.sseq, ack=self.cseq)
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


def session(pkts, server, smac, port, cport, t, blob=None, server_banner=b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n",
            skex=None, seed=1):
    f = Flow(pkts, server, smac, port, cport, t)
    f.handshake()
    f.send(False, server_banner)
    f.send(True, b"SSH-2.0-OpenSSH_9.6\r\n")
    if not server_banner.startswith(b"SSH-2.0"):
        f.close()
        return
    f.send(True, kexinit(bytes(range(seed, seed + 16)), KEX, HOSTKEYS, CIPHERS, MACS, ",ext-info-c,kex-strict-c-v00@openssh.com"))
    f.send(False, skex or kexinit(bytes(range(seed + 100, seed + 116)), KEX, HOSTKEYS, CIPHERS, MACS,
                                  ",kex-strict-s-v00@openssh.com"))
    if skex is None:
        f.send(True, packet(bytes([30]) + string(bytes((seed + i) & 0xff for i in range(32)))))
        f.send(False, ecdh_reply(blob, blob[4:4 + struct.unpack(">I", blob[:4])[0]], seed) + packet(bytes([21])))
        f.send(True, packet(bytes([21])))
        # the first encrypted packets (opaque to the sensor)
        f.send(True, bytes((seed * 13 + i) & 0xff for i in range(64)))
        f.send(False, bytes((seed * 17 + i) & 0xff for i in range(64)))
    f.close()


def main():
    out = sys.argv[1]
    pkts = []
    _, key_a = ed25519_blob(0x11)
    _, key_b = ed25519_blob(0x22)
    _, key_e = ecdsa_blob(3)
    m = lambda n: "02:00:00:00:01:%02x" % n
    t = lambda minutes: T0 + datetime.timedelta(minutes=minutes)
    session(pkts, "203.0.113.22", m(0x22), 22, 40001, t(0), key_a, seed=1)
    session(pkts, "203.0.113.22", m(0x22), 22, 40002, t(10), key_b, seed=2)
    session(pkts, "203.0.113.22", m(0x22), 22, 40003, t(20), key_a, seed=3)
    session(pkts, "203.0.113.22", m(0x22), 22, 40004, t(25), key_e, seed=4)
    session(pkts, "203.0.113.23", m(0x23), 22, 40005, t(30), key_a, seed=5)
    session(pkts, "203.0.113.23", m(0x23), 22, 40006, t(40), server_banner=b"SSH-1.5-OpenSSH_3.9p1\r\n", seed=6)
    session(pkts, "203.0.113.24", m(0x24), 2222, 40007, t(50), key_b, seed=7)
    weak = kexinit(bytes(range(16)), "diffie-hellman-group1-sha1", "ssh-dss", "3des-cbc,arcfour", "hmac-md5", "")
    session(pkts, "203.0.113.24", m(0x24), 2222, 40008, t(60), skex=weak, seed=8)
    wrpcap(out, pkts)
    print("key A", fingerprint(key_a))
    print("key B", fingerprint(key_b))
    print("key E", fingerprint(key_e))


if __name__ == "__main__":
    main()
