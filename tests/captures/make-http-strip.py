#!/usr/bin/python3
"""make-http-strip.py - SSL-stripping scenarios in plain HTTP for the golden tests.

  make-http-strip.py OUT.pcap

Client 192.0.2.10 (documentation addresses, 02:... MACs) browses over port 80:
  1. 2024-03-01 10:00 login.example.test (203.0.113.30) answers GET / with
     301 https://login.example.test/, twice (the baseline).
  2. 10:00 bank.example.test (203.0.113.31): one keep-alive connection, two pipelined
     requests, both answered 301 https://bank.example.test/...
  3. 10:30 login.example.test answers GET / with 200 and a login form (an sslstrip
     proxy serving the HTTPS page in clear): http.https_redirect_stripped, severity 8.
  4. 10:35 bank.example.test answers GET /account with 302 http://bank.example.test/login
     (a rewritten Location): http.https_redirect_stripped.
  5. 10:40 a GET to login.yahoo.com (HSTS preload, include_subdomains) carrying a
     session cookie, and 10:41 a form POST with a password field to
     accounts.google.com: two http.hsts_plaintext.
  6. Benign twins: a PHPSESSID cookie to www.example.com (not HSTS), a cookie-less GET
     to github.com (preloaded) answered 301 https, an analytics cookie to github.com,
     a 200 from a name that never redirected, chunked and 304 answers.
"""
import datetime
import sys

from scapy.all import IP, TCP, Ether, wrpcap

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)
CLIENT, CMAC = "192.0.2.10", "02:00:00:00:00:0a"
GW_MAC = "02:00:00:00:00:01"

LOGIN_PAGE = (b"<!doctype html><html><head><title>Sign in</title></head><body>\n"
              b"<form method=\"post\" action=\"/session\">\n"
              b"<input type=\"text\" name=\"user\">\n<input TYPE=\"Password\" name=\"pw\">\n"
              b"<button>Sign in</button></form></body></html>\n")
PLAIN_PAGE = b"<!doctype html><html><body><p>Hello</p></body></html>\n"


class Flow:
    def __init__(self, pkts, server, smac, sport, t, dport=80):
        self.p, self.server, self.smac, self.sport, self.t, self.dport = pkts, server, smac, sport, t, dport
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


def request(method, host, path, headers=(), body=b""):
    h = ["%s %s HTTP/1.1" % (method, path), "Host: " + host,
         "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
         "Accept: text/html,application/xhtml+xml"]
    h += list(headers)
    if body:
        h.append("Content-Length: %d" % len(body))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def response(status, reason, headers=(), body=b"", chunked=False):
    h = ["HTTP/1.1 %d %s" % (status, reason), "Server: nginx", "Date: Fri, 01 Mar 2024 10:00:00 GMT"]
    h += list(headers)
    if chunked:
        h.append("Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    elif status != 304:
        h.append("Content-Length: %d" % len(body))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def redirect(status, location):
    body = b"<html><body>Moved</body></html>\n"
    return response(status, "Moved Permanently" if status == 301 else "Found",
                    ["Location: " + location, "Content-Type: text/html"], body)


def exchange(pkts, server, smac, cport, t, reqs, resps):
    f = Flow(pkts, server, smac, cport, t)
    f.handshake()
    f.send(True, b"".join(reqs))
    for r in resps:
        f.send(False, r)
    f.close()


def main():
    out = sys.argv[1]
    pkts = []
    m = lambda n: "02:00:00:00:02:%02x" % n
    t = lambda minutes, s=0: T0 + datetime.timedelta(minutes=minutes, seconds=s)
    port = iter(range(41000, 42000))
    # 1. baseline: redirects to HTTPS
    for s in (0, 20):
        exchange(pkts, "203.0.113.30", m(0x30), next(port), t(0, s), [request("GET", "login.example.test", "/")],
                 [redirect(301, "https://login.example.test/")])
    # 2. pipelined, keep-alive
    exchange(pkts, "203.0.113.31", m(0x31), next(port), t(1),
             [request("GET", "bank.example.test", "/"), request("GET", "bank.example.test", "/favicon.ico")],
             [redirect(301, "https://bank.example.test/"), redirect(301, "https://bank.example.test/favicon.ico")])
    # benign: never redirected, content in clear (chunked), then a 304
    exchange(pkts, "203.0.113.32", m(0x32), next(port), t(2),
             [request("GET", "news.example.test", "/"), request("GET", "news.example.test", "/a.css")],
             [response(200, "OK", ["Content-Type: text/html"], PLAIN_PAGE, chunked=True),
              response(304, "Not Modified")])
    # benign: a session cookie to a name not on any HSTS list
    exchange(pkts, "203.0.113.33", m(0x33), next(port), t(3),
             [request("GET", "www.example.com", "/", ["Cookie: PHPSESSID=3f2a9c81b7d04e5e"])],
             [response(200, "OK", ["Content-Type: text/html"], PLAIN_PAGE)])
    # benign: preloaded name, no credentials; then only an analytics cookie
    exchange(pkts, "203.0.113.34", m(0x34), next(port), t(4), [request("GET", "github.com", "/")],
             [redirect(301, "https://github.com/")])
    exchange(pkts, "203.0.113.34", m(0x34), next(port), t(5),
             [request("GET", "github.com", "/features", ["Cookie: _ga=GA1.2.1234; _octo=GH1.1.99"])],
             [redirect(301, "https://github.com/features")])
    # 3. the login page served in clear
    exchange(pkts, "203.0.113.30", m(0x30), next(port), t(30), [request("GET", "login.example.test", "/")],
             [response(200, "OK", ["Content-Type: text/html; charset=utf-8",
                                   "Set-Cookie: sess=8c1d2e; Path=/; HttpOnly"], LOGIN_PAGE)])
    # 4. a rewritten Location
    exchange(pkts, "203.0.113.31", m(0x31), next(port), t(35), [request("GET", "bank.example.test", "/account")],
             [redirect(302, "http://bank.example.test/login")])
    # 5. credentials for HSTS names in clear
    exchange(pkts, "203.0.113.40", m(0x40), next(port), t(40),
             [request("GET", "login.yahoo.com", "/account", ["Cookie: B=abc123; T=z=1&a=2; Y=v=1&n=3; SSID=q9r8s7"])],
             [response(200, "OK", ["Content-Type: text/html"], PLAIN_PAGE)])
    body = b"Email=alice%40example.com&Passwd=correct+horse&continue=https%3A%2F%2Fmail.google.com"
    exchange(pkts, "203.0.113.41", m(0x41), next(port), t(41),
             [request("POST", "accounts.google.com", "/signin/challenge",
                      ["Content-Type: application/x-www-form-urlencoded"], body)],
             [response(200, "OK", ["Content-Type: text/html"], PLAIN_PAGE)])
    wrpcap(out, pkts)


if __name__ == "__main__":
    main()
