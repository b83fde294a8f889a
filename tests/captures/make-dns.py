#!/usr/bin/env python3
"""make-dns.py - writes the crafted DNS / LLMNR / NBT-NS / mDNS captures of the golden
tests (python3-scapy). Deterministic: fixed timestamps, IDs and ports.

  python3 tests/captures/make-dns.py [OUTDIR]     (default: the directory of this file)

names-responder.pcap  A Responder-style poisoner 192.0.2.66 (02:00:00:00:00:66) on the
                      LAN: the file server 192.0.2.30 registers FILESRV<20> over NBT-NS;
                      the victim 192.0.2.20 asks LLMNR for four names (typos, wpad) and
                      NBT-NS for WPAD<00> and FILESRV<20>; the poisoner answers every
                      one with its own address, the real server answers for itself.
                      Expect names.poisoning (many names; FILESRV owned by another host)
                      and names.wpad.
names-benign.pcap     The same LAN without the poisoner: registrations, a host
                      answering LLMNR and NBT-NS for its own name, mDNS announcements
                      and service discovery. Expect nothing.
dns-answers.pcap      A client 192.0.2.10 and its resolver 198.51.100.53 (reached
                      through the router 02:00:00:00:01:01, IP TTL 57):
                      shop.onpath-bank.com resolves twice to 216.160.83.56 (MaxMind test
                      data: AS209, US) then to 89.160.20.112 (AS29518, SE): dns.asn_shift;
                      www.wikipedia.org answered 10.0.0.5: dns.private_answer;
                      intranet.corp.onpath-test.net answered 10.1.1.1 (split horizon,
                      allowed by the golden's configuration); then, over TCP with a full
                      handshake, two queries pipelined in one segment and their answers
                      (one of them 127.0.0.1 for api.onpath-bank.com: private_answer over
                      TCP).
dns-kaminsky.pcap     The resolver 192.0.2.53 asks 198.51.100.1 for 40 random names under
                      victim.example.net; before each real answer an attacker
                      (02:00:00:00:00:66, TTL 64) sprays 3 forged answers with wrong IDs
                      at the query's port, spoofing the server: dns.txid_flood.
"""
import os
import random
import sys

import struct

from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw, wrpcap

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
T0 = 1704067200.0  # 2024-01-01T00:00:00Z

VICTIM, VICTIM_MAC = "192.0.2.20", "02:00:00:00:00:20"
SERVER, SERVER_MAC = "192.0.2.30", "02:00:00:00:00:30"
EVIL, EVIL_MAC = "192.0.2.66", "02:00:00:00:00:66"
BCAST, BCAST_MAC = "192.0.2.255", "ff:ff:ff:ff:ff:ff"
LLMNR_GROUP, LLMNR_MAC = "224.0.0.252", "01:00:5e:00:00:fc"
MDNS_GROUP, MDNS_MAC = "224.0.0.251", "01:00:5e:00:00:fb"


def at(pkts, t, p):
    p.time = T0 + t
    pkts.append(p)


def llmnr_query(pkts, t, name, qid, sport):
    at(pkts, t, Ether(src=VICTIM_MAC, dst=LLMNR_MAC) / IP(src=VICTIM, dst=LLMNR_GROUP, ttl=1) /
       UDP(sport=sport, dport=5355) / DNS(id=qid, qr=0, rd=0, qd=DNSQR(qname=name, qtype="A")))


def llmnr_answer(pkts, t, name, qid, dport, host, mac, addr):
    at(pkts, t, Ether(src=mac, dst=VICTIM_MAC) / IP(src=host, dst=VICTIM, ttl=128) /
       UDP(sport=5355, dport=dport) /
       DNS(id=qid, qr=1, aa=0, rd=0, qd=DNSQR(qname=name, qtype="A"),
           an=DNSRR(rrname=name, type="A", ttl=30, rdata=addr)))


# NBT-NS messages are built by hand (RFC 1002 4.2): scapy's NetBIOS layer encodes
# the name suffix and the registration's RR name its own way.
SUFFIX = {"workstation": 0x00, "file server service": 0x20}


def nb_name(name, suffix):
    raw = name.encode().ljust(15, b" ") + bytes([SUFFIX[suffix]])
    enc = bytes(c for b in raw for c in (0x41 + (b >> 4), 0x41 + (b & 15)))
    return b"\x20" + enc + b"\x00"


def nb_header(qid, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def nb_rr(owner, addr, group=False):
    flags = 0x8000 if group else 0x0000
    return owner + struct.pack(">HHIH", 0x20, 1, 300000, 6) + struct.pack(">H", flags) + \
        bytes(int(x) for x in addr.split("."))


def nbns_query(pkts, t, name, suffix, qid):
    # opcode 0, RD, B (broadcast): flags 0x0110
    msg = nb_header(qid, 0x0110, 1, 0, 0, 0) + nb_name(name, suffix) + struct.pack(">HH", 0x20, 1)
    at(pkts, t, Ether(src=VICTIM_MAC, dst=BCAST_MAC) / IP(src=VICTIM, dst=BCAST, ttl=128) /
       UDP(sport=137, dport=137) / Raw(msg))


def nbns_answer(pkts, t, name, suffix, qid, host, mac, addr):
    # response, opcode 0, AA RD: flags 0x8500
    msg = nb_header(qid, 0x8500, 0, 1, 0, 0) + nb_rr(nb_name(name, suffix), addr)
    at(pkts, t, Ether(src=mac, dst=VICTIM_MAC) / IP(src=host, dst=VICTIM, ttl=128) /
       UDP(sport=137, dport=137) / Raw(msg))


def nbns_register(pkts, t, name, suffix, host, mac, qid):
    # opcode 5 (registration), RD, B: flags 0x2910; additional RR points at the question
    msg = nb_header(qid, 0x2910, 1, 0, 0, 1) + nb_name(name, suffix) + struct.pack(">HH", 0x20, 1) + \
        nb_rr(b"\xc0\x0c", host)
    at(pkts, t, Ether(src=mac, dst=BCAST_MAC) / IP(src=host, dst=BCAST, ttl=128) /
       UDP(sport=137, dport=137) / Raw(msg))


def mdns_announce(pkts, t, name, host, mac):
    at(pkts, t, Ether(src=mac, dst=MDNS_MAC) / IP(src=host, dst=MDNS_GROUP, ttl=255) /
       UDP(sport=5353, dport=5353) /
       DNS(id=0, qr=1, aa=1, rd=0, qd=None,
           an=DNSRR(rrname=name, type="A", rclass=0x8001, ttl=120, rdata=host) /
           DNSRR(rrname="_workstation._tcp.local", type="PTR", ttl=4500,
                 rdata=name.split(".")[0] + "._workstation._tcp.local")))


def names_common(pkts):
    nbns_register(pkts, 0.0, "FILESRV", "file server service", SERVER, SERVER_MAC, 0x0101)
    nbns_register(pkts, 0.5, "FILESRV", "workstation", SERVER, SERVER_MAC, 0x0102)
    mdns_announce(pkts, 1.0, "filesrv.local", SERVER, SERVER_MAC)
    # The server answers LLMNR for its own name, repeatedly.
    for i in range(3):
        llmnr_query(pkts, 2.0 + i, "filesrv", 0x2000 + i, 50000 + i)
        llmnr_answer(pkts, 2.001 + i, "filesrv", 0x2000 + i, 50000 + i, SERVER, SERVER_MAC, SERVER)
    # An mDNS query and the server's answer (service discovery, not a host claim).
    at(pkts, 6.0, Ether(src=VICTIM_MAC, dst=MDNS_MAC) / IP(src=VICTIM, dst=MDNS_GROUP, ttl=255) /
       UDP(sport=5353, dport=5353) / DNS(id=0, qr=0, qd=DNSQR(qname="_workstation._tcp.local", qtype="PTR")))


def make_names():
    bad = []
    names_common(bad)
    for i, name in enumerate(["fileserv", "printr", "sharepoint", "wpad"]):
        t = 10.0 + i
        llmnr_query(bad, t, name, 0x3000 + i, 51000 + i)
        llmnr_answer(bad, t + 0.002, name, 0x3000 + i, 51000 + i, EVIL, EVIL_MAC, EVIL)
    nbns_query(bad, 20.0, "WPAD", "workstation", 0x4001)
    nbns_answer(bad, 20.001, "WPAD", "workstation", 0x4001, EVIL, EVIL_MAC, EVIL)
    nbns_query(bad, 21.0, "FILESRV", "file server service", 0x4002)
    nbns_answer(bad, 21.001, "FILESRV", "file server service", 0x4002, EVIL, EVIL_MAC, EVIL)
    nbns_answer(bad, 21.003, "FILESRV", "file server service", 0x4002, SERVER, SERVER_MAC, SERVER)
    wrpcap(os.path.join(OUT, "names-responder.pcap"), bad)

    good = []
    names_common(good)
    nbns_query(good, 21.0, "FILESRV", "file server service", 0x4002)
    nbns_answer(good, 21.003, "FILESRV", "file server service", 0x4002, SERVER, SERVER_MAC, SERVER)
    wrpcap(os.path.join(OUT, "names-benign.pcap"), good)


CLIENT, CLIENT_MAC = "192.0.2.10", "02:00:00:00:00:10"
RESOLVER, ROUTER_MAC = "198.51.100.53", "02:00:00:00:01:01"


def dns_pair(pkts, t, name, addrs, qid, sport, qtype="A"):
    at(pkts, t, Ether(src=CLIENT_MAC, dst=ROUTER_MAC) / IP(src=CLIENT, dst=RESOLVER, ttl=64) /
       UDP(sport=sport, dport=53) / DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype)))
    an = None
    for a in addrs:
        rr = DNSRR(rrname=name, type=qtype, ttl=300, rdata=a)
        an = rr if an is None else an / rr
    at(pkts, t + 0.015, Ether(src=ROUTER_MAC, dst=CLIENT_MAC) / IP(src=RESOLVER, dst=CLIENT, ttl=57) /
       UDP(sport=53, dport=sport) /
       DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=an))


def tcp_exchange(pkts, t):
    """Two pipelined queries in one segment, two answers in one segment (RFC 7766)."""
    c, s = 40053, 53
    cs, ss = 1000, 5000
    def seg(t, src, dst, smac, dmac, sp, dp, seq, ack, flags, data=b"", ttl=64):
        at(pkts, t, Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, ttl=ttl) /
           TCP(sport=sp, dport=dp, seq=seq, ack=ack, flags=flags, window=65535) / data)
    seg(t, CLIENT, RESOLVER, CLIENT_MAC, ROUTER_MAC, c, s, cs, 0, "S")
    seg(t + 0.01, RESOLVER, CLIENT, ROUTER_MAC, CLIENT_MAC, s, c, ss, cs + 1, "SA", ttl=57)
    seg(t + 0.011, CLIENT, RESOLVER, CLIENT_MAC, ROUTER_MAC, c, s, cs + 1, ss + 1, "A")
    q1 = bytes(DNS(id=0x5101, rd=1, qd=DNSQR(qname="www.onpath-bank.com", qtype="A")))
    q2 = bytes(DNS(id=0x5102, rd=1, qd=DNSQR(qname="api.onpath-bank.com", qtype="A")))
    qdata = len(q1).to_bytes(2, "big") + q1 + len(q2).to_bytes(2, "big") + q2
    seg(t + 0.012, CLIENT, RESOLVER, CLIENT_MAC, ROUTER_MAC, c, s, cs + 1, ss + 1, "PA", qdata)
    a1 = bytes(DNS(id=0x5101, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.onpath-bank.com", qtype="A"),
                   an=DNSRR(rrname="www.onpath-bank.com", type="A", ttl=300, rdata="216.160.83.56")))
    a2 = bytes(DNS(id=0x5102, qr=1, rd=1, ra=1, qd=DNSQR(qname="api.onpath-bank.com", qtype="A"),
                   an=DNSRR(rrname="api.onpath-bank.com", type="A", ttl=300, rdata="127.0.0.1")))
    adata = len(a1).to_bytes(2, "big") + a1 + len(a2).to_bytes(2, "big") + a2
    seg(t + 0.03, RESOLVER, CLIENT, ROUTER_MAC, CLIENT_MAC, s, c, ss + 1, cs + 1 + len(qdata), "PA",
        adata, ttl=57)
    seg(t + 0.031, CLIENT, RESOLVER, CLIENT_MAC, ROUTER_MAC, c, s, cs + 1 + len(qdata),
        ss + 1 + len(adata), "FA")
    seg(t + 0.04, RESOLVER, CLIENT, ROUTER_MAC, CLIENT_MAC, s, c, ss + 1 + len(adata),
        cs + 2 + len(qdata), "FA", ttl=57)


def make_answers():
    p = []
    dns_pair(p, 0.0, "shop.onpath-bank.com", ["216.160.83.56"], 0x1001, 41001)
    dns_pair(p, 20.0, "shop.onpath-bank.com", ["216.160.83.56"], 0x1002, 41002)
    dns_pair(p, 40.0, "shop.onpath-bank.com", ["89.160.20.112"], 0x1003, 41003)
    dns_pair(p, 41.0, "www.wikipedia.org", ["10.0.0.5"], 0x1004, 41004)
    dns_pair(p, 42.0, "intranet.corp.onpath-test.net", ["10.1.1.1"], 0x1005, 41005)
    tcp_exchange(p, 50.0)
    wrpcap(os.path.join(OUT, "dns-answers.pcap"), p)


def make_kaminsky():
    rnd = random.Random(7)
    res, res_mac = "192.0.2.53", "02:00:00:00:00:35"
    auth = "198.51.100.1"
    p = []
    for i in range(40):
        t = 1.0 + i * 0.01
        name = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12)) + ".victim.example.net"
        qid, sport = rnd.randrange(65536), rnd.randrange(1024, 65536)
        at(p, t, Ether(src=res_mac, dst=ROUTER_MAC) / IP(src=res, dst=auth, ttl=64) /
           UDP(sport=sport, dport=53) / DNS(id=qid, rd=0, qd=DNSQR(qname=name)))
        for k in range(3):
            at(p, t + 0.001 + k * 0.0001, Ether(src=EVIL_MAC, dst=res_mac) / IP(src=auth, dst=res, ttl=64) /
               UDP(sport=53, dport=sport) /
               DNS(id=(qid + 1 + k * 997) % 65536, qr=1, aa=1, qd=DNSQR(qname=name),
                   an=DNSRR(rrname=name, ttl=86400, rdata="203.0.113.66")))
        at(p, t + 0.005, Ether(src=ROUTER_MAC, dst=res_mac) / IP(src=auth, dst=res, ttl=57) /
           UDP(sport=53, dport=sport) /
           DNS(id=qid, qr=1, aa=1, qd=DNSQR(qname=name), rcode=3))
    wrpcap(os.path.join(OUT, "dns-kaminsky.pcap"), p)


if __name__ == "__main__":
    make_names()
    make_answers()
    make_kaminsky()
