#!/usr/bin/python3
"""make-llmnr-tcp.py - LLMNR over TCP (RFC 4795 2.4): writes llmnr-tcp.pcap.

The server 192.0.2.30 answers LLMNR for its own name over UDP (the baseline). Then the
victim 192.0.2.20 asks for "wpad" on the LLMNR group; the attacker 192.0.2.66 answers
over UDP with the TC bit and no answer (RFC 4795 2.4: a truncated response), and the
victim retries over TCP to the attacker's port 5355, where the attacker answers "wpad
is 192.0.2.66" - a Responder-style poisoning that only a sensor reading LLMNR over TCP
sees. Same bytes on every run.

  make-llmnr-tcp.py [OUTDIR]
"""
import os
import sys

from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, wrpcap

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
T0 = 1704067200.0
VICTIM, VICTIM_MAC = "192.0.2.20", "02:00:00:00:00:20"
SERVER, SERVER_MAC = "192.0.2.30", "02:00:00:00:00:30"
EVIL, EVIL_MAC = "192.0.2.66", "02:00:00:00:00:66"
LLMNR_GROUP, LLMNR_MAC = "224.0.0.252", "01:00:5e:00:00:fc"

pkts = []


def at(t, p):
    p.time = T0 + t
    pkts.append(p)


# Baseline: the server answers for its own name over UDP.
for i in range(3):
    at(1.0 + i, Ether(src=VICTIM_MAC, dst=LLMNR_MAC) / IP(src=VICTIM, dst=LLMNR_GROUP, ttl=1) /
       UDP(sport=50000 + i, dport=5355) / DNS(id=0x2000 + i, qr=0, rd=0, qd=DNSQR(qname="filesrv")))
    at(1.001 + i, Ether(src=SERVER_MAC, dst=VICTIM_MAC) / IP(src=SERVER, dst=VICTIM, ttl=128) /
       UDP(sport=5355, dport=50000 + i) /
       DNS(id=0x2000 + i, qr=1, rd=0, qd=DNSQR(qname="filesrv"),
           an=DNSRR(rrname="filesrv", type="A", ttl=30, rdata=SERVER)))

# The query for wpad, a truncated UDP answer from the attacker, then TCP.
at(10.0, Ether(src=VICTIM_MAC, dst=LLMNR_MAC) / IP(src=VICTIM, dst=LLMNR_GROUP, ttl=1) /
   UDP(sport=51000, dport=5355) / DNS(id=0x3000, qr=0, rd=0, qd=DNSQR(qname="wpad")))
at(10.001, Ether(src=EVIL_MAC, dst=VICTIM_MAC) / IP(src=EVIL, dst=VICTIM, ttl=128) /
   UDP(sport=5355, dport=51000) / DNS(id=0x3000, qr=1, tc=1, rd=0, qd=DNSQR(qname="wpad")))

c, s = 1000, 5000  # sequence numbers
cli = Ether(src=VICTIM_MAC, dst=EVIL_MAC) / IP(src=VICTIM, dst=EVIL, ttl=128)
srv = Ether(src=EVIL_MAC, dst=VICTIM_MAC) / IP(src=EVIL, dst=VICTIM, ttl=128)
at(10.010, cli / TCP(sport=49700, dport=5355, flags="S", seq=c))
at(10.011, srv / TCP(sport=5355, dport=49700, flags="SA", seq=s, ack=c + 1))
at(10.012, cli / TCP(sport=49700, dport=5355, flags="A", seq=c + 1, ack=s + 1))
q = bytes(DNS(id=0x3001, qr=0, rd=0, qd=DNSQR(qname="wpad")))
q = len(q).to_bytes(2, "big") + q
at(10.013, cli / TCP(sport=49700, dport=5355, flags="PA", seq=c + 1, ack=s + 1) / q)
a = bytes(DNS(id=0x3001, qr=1, rd=0, qd=DNSQR(qname="wpad"),
              an=DNSRR(rrname="wpad", type="A", ttl=30, rdata=EVIL)))
a = len(a).to_bytes(2, "big") + a
at(10.014, srv / TCP(sport=5355, dport=49700, flags="PA", seq=s + 1, ack=c + 1 + len(q)) / a)
at(10.015, cli / TCP(sport=49700, dport=5355, flags="FA", seq=c + 1 + len(q), ack=s + 1 + len(a)))
at(10.016, srv / TCP(sport=5355, dport=49700, flags="FA", seq=s + 1 + len(a), ack=c + 2 + len(q)))

wrpcap(os.path.join(OUT, "llmnr-tcp.pcap"), pkts)
