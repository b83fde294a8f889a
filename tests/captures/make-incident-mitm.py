#!/usr/bin/python3
"""make-incident-mitm.py - one victim, three layers: the golden of the MITM incident.

  make-incident-mitm.py tls-intercept.pcap OUT.pcap

Starts from tests/captures/tls-intercept.pcap (make-tls-intercept.py: client
192.0.2.10, bank.example at 203.0.113.20 through the gateway 02:00:00:00:00:14) and adds
what a local attacker 02:00:00:00:00:66 does before the 11:00 interception:
  1. 09:59:00 a DNS answer for bank.example from resolver 198.51.100.53 through the
     gateway (the resolver's baseline MAC);
  2. 10:59:50 a forged ARP reply to the victim: the gateway 192.0.2.1 is-at ..:66;
  3. 10:59:55 the resolver's answer for bank.example now comes from ..:66;
  4. the 11:00 TLS session (mitmproxy chain) is served through ..:66 too.
Deterministic: no keys are made here, the TLS bytes are the committed capture's.
"""
import sys

from scapy.all import ARP, DNS, DNSQR, DNSRR, IP, UDP, Ether, rdpcap, wrpcap

VICTIM, VMAC = "192.0.2.10", "02:00:00:00:00:0a"
GW, GW_MAC = "192.0.2.1", "02:00:00:00:00:14"
ATT_MAC = "02:00:00:00:00:66"
RESOLVER = "198.51.100.53"
T_BASE = 1709287200  # 2024-03-01T10:00:00Z


def dns_pair(t, smac, txid, sport):
    q = Ether(src=VMAC, dst=GW_MAC) / IP(src=VICTIM, dst=RESOLVER, ttl=64) / \
        UDP(sport=sport, dport=53) / DNS(id=txid, rd=1, qd=DNSQR(qname="bank.example", qtype="A"))
    a = Ether(src=smac, dst=VMAC) / IP(src=RESOLVER, dst=VICTIM, ttl=60) / \
        UDP(sport=53, dport=sport) / DNS(id=txid, qr=1, rd=1, ra=1, qd=DNSQR(qname="bank.example", qtype="A"),
                                         an=DNSRR(rrname="bank.example", type="A", ttl=300, rdata="203.0.113.20"))
    q.time, a.time = t, t + 0.01
    return [q, a]


def main():
    pkts = list(rdpcap(sys.argv[1]))
    for p in pkts:
        # the interception session at 11:00 reaches the victim through the attacker
        if p.time >= T_BASE + 3600 and p[Ether].dst == VMAC and p[Ether].src == GW_MAC:
            p[Ether].src = ATT_MAC
    extra = dns_pair(T_BASE - 60, GW_MAC, 0x1111, 40001)
    arp = Ether(src=ATT_MAC, dst=VMAC) / ARP(op=2, hwsrc=ATT_MAC, psrc=GW, hwdst=VMAC, pdst=VICTIM)
    arp.time = T_BASE + 3590
    extra.append(arp)
    extra += dns_pair(T_BASE + 3595, ATT_MAC, 0x2222, 40002)
    pkts = sorted(pkts + extra, key=lambda p: float(p.time))
    wrpcap(sys.argv[2], pkts)


if __name__ == "__main__":
    main()
