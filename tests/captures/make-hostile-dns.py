#!/usr/bin/python3
"""make-hostile-dns.py OUT.pcap - a DNS exchange whose name is hostile to log parsers.

A query for a name holding LF, CR, NUL, ESC (an ANSI colour sequence), '<script>',
a double quote, a backslash and bytes that are not UTF-8, then two different answers
(a spoofing race; the first with a private address). Whatever alerts a DNS detector
raises about it carry the name; tests/syslog.sh checks that every output keeps each
alert on one line and the JSON valid. Addresses from 192.0.2.0/24 and 203.0.113.0/24,
MACs 02:... Needs python3-scapy (Debian's /usr/bin/python3).
"""
import sys

from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether, wrpcap

NAME = b'evil\nline\r2 <script>"x\\\x00\x1b[31m\xff\xfe.example.com.'
CLIENT, RESOLVER = "02:00:00:00:00:10", "02:00:00:00:00:53"
T0 = 1704067200.0


def main():
    pkts = []

    def add(p, dt):
        p.time = T0 + dt
        pkts.append(p)

    add(Ether(src=CLIENT, dst=RESOLVER) / IP(src="192.0.2.10", dst="192.0.2.53") /
        UDP(sport=5555, dport=53) / DNS(id=0x1234, rd=1, qd=DNSQR(qname=NAME)), 10)
    for dt, addr in ((10.01, "10.0.0.5"), (10.02, "203.0.113.66")):
        add(Ether(src=RESOLVER, dst=CLIENT) / IP(src="192.0.2.53", dst="192.0.2.10", ttl=64) /
            UDP(sport=53, dport=5555) /
            DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname=NAME),
                an=DNSRR(rrname=NAME, type="A", ttl=60, rdata=addr)), dt)
    wrpcap(sys.argv[1], pkts)


if __name__ == "__main__":
    main()
