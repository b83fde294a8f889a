#!/usr/bin/python3
"""make-starttls-strip.py - STARTTLS stripping, inspection and refusal scenarios for the
golden tests (detectors/starttls.c).

  make-starttls-strip.py OUT.pcap

Client 192.0.2.20 (documentation addresses, 02:... MACs) talks to mail and file servers;
every connection has its TCP handshake, the clear-text opening, and, after an accepted
STARTTLS, the first bytes of a TLS ClientHello:
  1. 2024-03-02 10:00, 10:05 SMTP 203.0.113.25:25 offers STARTTLS (EHLO list), accepted.
     10:10 the EHLO list comes without STARTTLS and the client sends AUTH PLAIN in clear:
     starttls.stripped (severity 6), then starttls.stripped with the credentials (8).
  2. 10:15 submission 203.0.113.26:587 offers STARTTLS, accepted; 10:20 its EHLO list
     carries 250-XXXXXXXA (Cisco ASA ESMTP inspection): starttls.inspection_artifact
     (and no "stripped" for the same list).
  3. 10:22 SMTP 203.0.113.27:25 greets with a banner masked by '*':
     starttls.inspection_artifact (masked_banner).
  4. 10:25 SMTP 203.0.113.28:25 accepts STARTTLS; 10:30 it answers 454 and the client
     falls back to AUTH LOGIN in clear: starttls.refused (5), then with credentials (7).
  5. 10:35 IMAP 198.51.100.143:143 greets with [CAPABILITY ... STARTTLS], accepted; 10:40
     the greeting lacks STARTTLS and the client sends LOGIN: starttls.stripped (6, 8).
  6. 10:45 POP3 198.51.100.110:110 lists STLS in CAPA, accepted; 10:50 CAPA without STLS,
     USER/PASS: starttls.stripped (6, 8).
  7. 10:55, 11:00 FTP 198.51.100.21:21 FEAT lists AUTH TLS, AUTH TLS accepted; 11:05 XMPP
     198.51.100.52:5222 <starttls/> and <proceed/>: silent.
"""
import datetime
import sys

from scapy.all import IP, TCP, Ether, wrpcap

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 2, 10, 0, 0, tzinfo=UTC)
CLIENT, CMAC = "192.0.2.20", "02:00:00:00:00:14"
GW_MAC = "02:00:00:00:00:01"
CH = b"\x16\x03\x01\x00\x2a\x01\x00\x00\x26\x03\x03" + bytes(range(32)) + b"\x00\x02\x13\x01\x01\x00"


class Conn:
    def __init__(self, pkts, server, port, cport, t):
        self.pkts, self.server, self.port, self.cport, self.t = pkts, server, port, cport, t
        self.cseq, self.sseq = 1000, 70000

    def _pkt(self, from_client, flags, data=b""):
        if from_client:
            e = Ether(src=CMAC, dst=GW_MAC) / IP(src=CLIENT, dst=self.server, ttl=64)
            t = TCP(sport=self.cport, dport=self.port, flags=flags, seq=self.cseq, ack=self.sseq)
        else:
            e = Ether(src=GW_MAC, dst=CMAC) / IP(src=self.server, dst=CLIENT, ttl=52)
            t = TCP(sport=self.port, dport=self.cport, flags=flags, seq=self.sseq, ack=self.cseq)
        p = e / t / data if data else e / t
        self.t += 0.002
        p.time = self.t
        self.pkts.append(p)
        n = len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        if from_client:
            self.cseq += n
        else:
            self.sseq += n

    def open(self):
        self.cseq -= 1
        self._pkt(True, "S")
        self.sseq -= 1
        self._pkt(False, "SA")
        self._pkt(True, "A")

    def c(self, data):
        self._pkt(True, "PA", data)

    def s(self, data):
        self._pkt(False, "PA", data)

    def close(self):
        self._pkt(True, "FA")
        self._pkt(False, "FA")
        self._pkt(True, "A")


def at(minutes):
    return (T0 + datetime.timedelta(minutes=minutes)).timestamp()


def smtp(pkts, server, port, cport, minute, ehlo, starttls_reply=b"220 2.0.0 Ready to start TLS\r\n",
         banner=b"220 mail.example.net ESMTP Postfix\r\n", after=()):
    c = Conn(pkts, server, port, cport, at(minute))
    c.open()
    c.s(banner)
    c.c(b"EHLO client.example.org\r\n")
    c.s(b"250-mail.example.net\r\n" + b"".join(b"250-" + k + b"\r\n" for k in ehlo[:-1]) +
        b"250 " + ehlo[-1] + b"\r\n")
    if b"STARTTLS" in ehlo:
        c.c(b"STARTTLS\r\n")
        c.s(starttls_reply)
        if starttls_reply.startswith(b"220"):
            c.c(CH)
    for who, data in after:
        (c.c if who == "c" else c.s)(data)
    c.close()


def main():
    pkts = []
    ok = [b"PIPELINING", b"SIZE 10240000", b"STARTTLS", b"AUTH PLAIN LOGIN", b"8BITMIME"]
    stripped = [b"PIPELINING", b"SIZE 10240000", b"AUTH PLAIN LOGIN", b"8BITMIME"]
    # 1. SMTP stripped, then AUTH PLAIN in clear (\0alice\0secret)
    smtp(pkts, "203.0.113.25", 25, 50001, 0, ok)
    smtp(pkts, "203.0.113.25", 25, 50002, 5, ok)
    smtp(pkts, "203.0.113.25", 25, 50003, 10, stripped,
         after=[("c", b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), ("s", b"235 2.7.0 Authentication successful\r\n"),
                ("c", b"MAIL FROM:<alice@example.org>\r\n")])
    # 2. submission with the ASA mask
    smtp(pkts, "203.0.113.26", 587, 50004, 15, ok)
    smtp(pkts, "203.0.113.26", 587, 50005, 20, [b"PIPELINING", b"SIZE 10240000", b"XXXXXXXA", b"8BITMIME"])
    # 3. masked banner
    smtp(pkts, "203.0.113.27", 25, 50006, 22, [b"PIPELINING", b"8BITMIME"],
         banner=b"220 ******************************************0**0*0***2*0\r\n")
    # 4. refused, then AUTH LOGIN in clear
    smtp(pkts, "203.0.113.28", 25, 50007, 25, ok)
    smtp(pkts, "203.0.113.28", 25, 50008, 30, ok, starttls_reply=b"454 4.7.0 TLS not available due to local problem\r\n",
         after=[("c", b"AUTH LOGIN\r\n"), ("s", b"334 VXNlcm5hbWU6\r\n"), ("c", b"YWxpY2U=\r\n"),
                ("s", b"334 UGFzc3dvcmQ6\r\n"), ("c", b"c2VjcmV0\r\n"), ("s", b"235 2.7.0 ok\r\n")])
    # 5. IMAP
    for minute, cport, caps in ((35, 50009, b"IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS LOGINDISABLED"),
                                (40, 50010, b"IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN")):
        c = Conn(pkts, "198.51.100.143", 143, cport, at(minute))
        c.open()
        c.s(b"* OK [CAPABILITY " + caps + b"] Dovecot ready.\r\n")
        if b"STARTTLS" in caps:
            c.c(b"a1 STARTTLS\r\n")
            c.s(b"a1 OK Begin TLS negotiation now.\r\n")
            c.c(CH)
        else:
            c.c(b"a1 LOGIN alice secret\r\n")
            c.s(b"a1 OK Logged in\r\n")
            c.c(b"a2 SELECT INBOX\r\n")
        c.close()
    # 6. POP3
    for minute, cport, caps in ((45, 50011, b"TOP\r\nUSER\r\nUIDL\r\nSTLS\r\n"), (50, 50012, b"TOP\r\nUSER\r\nUIDL\r\n")):
        c = Conn(pkts, "198.51.100.110", 110, cport, at(minute))
        c.open()
        c.s(b"+OK Dovecot ready.\r\n")
        c.c(b"CAPA\r\n")
        c.s(b"+OK\r\n" + caps + b".\r\n")
        if b"STLS" in caps:
            c.c(b"STLS\r\n")
            c.s(b"+OK Begin TLS negotiation now.\r\n")
            c.c(CH)
        else:
            c.c(b"USER alice\r\n")
            c.s(b"+OK\r\n")
            c.c(b"PASS secret\r\n")
            c.s(b"+OK Logged in.\r\n")
            c.c(b"STAT\r\n")
        c.close()
    # 7. benign FTP and XMPP
    for minute, cport in ((55, 50013), (60, 50014)):
        c = Conn(pkts, "198.51.100.21", 21, cport, at(minute))
        c.open()
        c.s(b"220 (vsFTPd 3.0.3)\r\n")
        c.c(b"FEAT\r\n")
        c.s(b"211-Features:\r\n AUTH TLS\r\n EPSV\r\n PBSZ\r\n PROT\r\n211 End\r\n")
        c.c(b"AUTH TLS\r\n")
        c.s(b"234 Proceed with negotiation.\r\n")
        c.c(CH)
        c.close()
    c = Conn(pkts, "198.51.100.52", 5222, 50015, at(65))
    c.open()
    c.c(b"<?xml version='1.0'?><stream:stream to='example.net' xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
    c.s(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
        b"id='42' from='example.net' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
        b"<required/></starttls></stream:features>")
    c.c(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    c.s(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    c.c(CH)
    c.close()
    wrpcap(sys.argv[1], pkts)


if __name__ == "__main__":
    main()
