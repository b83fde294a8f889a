#!/usr/bin/env python3
"""Checks of onpath-dashboard's HTTP API against a real redis-server (tests/dashboard-api.sh
runs this). Python standard library only: a tiny RESP client stands in for redis-cli
so that bytes redis-cli cannot quote (invalid UTF-8) can be written.

Environment: ONPATH, DASHBOARD (the binaries), TMPDIR_TEST (a directory removed by the
caller; every PID started is appended to TMPDIR_TEST/pids), top_srcdir.

The expected answer of every filter is computed here from the sensor's own jsonl
output of the same runs (plus the hostile entries this script writes), with the same
rules as dashboards/index.c (key_kind): keep the two in step.
"""
import csv
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
import base64
from datetime import datetime, timezone

ONPATH = os.environ["ONPATH"]
DASHBOARD = os.environ["DASHBOARD"]
TMP = os.environ["TMPDIR_TEST"]
SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
CAPS = os.path.join(SRC, "tests", "captures")
TOKEN = "t0k3n-" + "x" * 20
BASIC_USER, BASIC_PASS = "alice", "correct horse battery"
PREFIX = "onpath:"

failures = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    failures.append(msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def note(msg):
    print(msg, file=sys.stderr)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def track(proc):
    with open(os.path.join(TMP, "pids"), "a") as f:
        f.write("%d\n" % proc.pid)
    return proc


def wait_until(secs, fn):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            if fn():
                return True
        except (OSError, ValueError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    return False


# ------------------------------------------------------------------ RESP
class Redis:
    def __init__(self, port):
        self.port = port
        self.s = None

    def _conn(self):
        if self.s is None:
            self.s = socket.create_connection(("127.0.0.1", self.port), 5)
            self.f = self.s.makefile("rb")
        return self.s

    def cmd(self, *args):
        s = self._conn()
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        s.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise OSError("redis closed the connection")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("bad RESP " + repr(line))

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


# ------------------------------------------------------------------ processes
def redis_start(d, port):
    os.makedirs(d, exist_ok=True)
    p = track(subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                "--dir", d, "--save", "", "--appendonly", "no",
                                "--daemonize", "no", "--logfile", os.path.join(d, "redis.log")]))
    if not wait_until(10, lambda: socket.create_connection(("127.0.0.1", port), 1) and True):
        raise SystemExit("FAIL: redis-server on %d did not start" % port)
    return p


def run_sensor(name, pcap, rport, extra=()):
    jl = os.path.join(TMP, name + "-" + os.path.basename(pcap) + ".jsonl")
    r = subprocess.run([ONPATH, "-q", "--no-stats", "-n", name, "-r", pcap, "--spool-dir", "-",
                        "-o", "redis://127.0.0.1:%d" % rport, "-o", "jsonl:" + jl] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("FAIL: onpath on %s: %s" % (pcap, r.stderr.decode(errors="replace")))
    with open(jl) as f:
        return [json.loads(l) for l in f if l.strip()]


def dash_start(args, env_extra=None, wait=True):
    env = dict(os.environ)
    env.pop("ONPATH_DASHBOARD_TOKEN", None)
    if env_extra:
        env.update(env_extra)
    log = open(os.path.join(TMP, "dashboard-%d.log" % time.monotonic_ns()), "w+")
    p = track(subprocess.Popen([DASHBOARD] + args, stdout=log, stderr=log, env=env))
    p.logfile = log
    return p


def dash_log(p):
    p.logfile.flush()
    p.logfile.seek(0)
    return p.logfile.read()


def dash_stop(p):
    """SIGTERM; a clean exit is 0 (under ASan a leak or error makes it non-zero)."""
    p.terminate()
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("onpath-dashboard did not stop within 30 s of SIGTERM")
        return
    check(rc == 0, "onpath-dashboard exited with %d after SIGTERM:\n%s" % (rc, dash_log(p)[-4000:]))


# ------------------------------------------------------------------ HTTP
class Api:
    def __init__(self, port):
        self.port = port

    def req(self, method, path, headers=None, body=None, auth=True):
        h = {}
        if auth is True:
            h["Authorization"] = "Bearer " + TOKEN
        elif auth:
            h["Authorization"] = auth
        if headers:
            h.update(headers)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def json(self, path, **kw):
        st, h, data = self.req("GET", path, **kw)
        if st != 200:
            raise AssertionError("GET %s -> %d %s" % (path, st, data[:300]))
        # strict: the body must be UTF-8 and JSON
        return json.loads(data.decode("utf-8"))

    def all_pages(self, query, limit=7):
        """Every alert of a filtered list, paging with before=; checks the order."""
        out, before, total = [], None, None
        for _ in range(10000):
            q = query + ("&" if query else "") + "limit=%d" % limit
            if before:
                q += "&before=" + before
            d = self.json("/api/alerts?" + q)
            if total is None:
                total = d["total_matching"]
            out.extend(d["alerts"])
            before = d["next_before"]
            if before is None:
                break
        return out, total


class Sse:
    """A raw Server-Sent Events client; events() collects what arrived."""

    def __init__(self, port, path, headers=None, rcvbuf=None):
        if rcvbuf:
            # a small receive window: a client that stops reading backs up quickly
            self.s = socket.socket()
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.s.settimeout(10)
            self.s.connect(("127.0.0.1", port))
        else:
            self.s = socket.create_connection(("127.0.0.1", port), 10)
        h = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n" % (path, TOKEN)
        for k, v in (headers or {}).items():
            h += "%s: %s\r\n" % (k, v)
        self.s.sendall((h + "\r\n").encode())
        self.buf = b""
        self.status = None

    def pump(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self.s.settimeout(max(0.05, end - time.monotonic()))
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            self.buf += d

    def head(self):
        i = self.buf.find(b"\r\n\r\n")
        if i < 0:
            return None, None
        lines = self.buf[:i].decode("latin-1").split("\r\n")
        return int(lines[0].split()[1]), {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                                          for l in lines[1:] if ":" in l}

    def events(self):
        i = self.buf.find(b"\r\n\r\n")
        body = self.buf[i + 4:]
        # chunked transfer encoding: strip the chunk sizes
        text = b""
        while body:
            j = body.find(b"\r\n")
            if j < 0:
                break
            try:
                n = int(body[:j], 16)
            except ValueError:
                break
            text += body[j + 2:j + 2 + n]
            body = body[j + 2 + n + 2:]
            if n == 0:
                break
        evs = []
        for block in text.decode("utf-8").split("\n\n"):
            ev = {}
            for line in block.split("\n"):
                if line.startswith(":") or not line:
                    if line.startswith(":"):
                        ev.setdefault("comment", line)
                    continue
                k, _, v = line.partition(": ")
                ev[k] = v
            if ev:
                evs.append(ev)
        return evs

    def close(self):
        self.s.close()


# ------------------------------------------------------------------ the index's rules
NAME_KEYS = {"name", "qname", "first_name", "sni", "server_name", "sans", "subject",
             "hostname", "host", "domain", "server"}


def key_kind(k):
    if k == "ip" or k.endswith("_ip") or k.endswith("_ips"):
        return "ip"
    if k in ("mac", "macs") or k.endswith("_mac") or k.endswith("_macs"):
        return "mac"
    if k in NAME_KEYS:
        return "name"
    return None


def collect(a, want):
    out = []

    def walk(o, depth, top):
        if depth > 16:
            return
        if isinstance(o, list):
            for v in o:
                walk(v, depth + 1, False)
            return
        if not isinstance(o, dict):
            return
        for k, v in o.items():
            if top and k in ("observer", "threat", "event"):
                continue
            if key_kind(k) == want:
                for e in (v if isinstance(v, list) else [v]):
                    if isinstance(e, str):
                        out.append(e.lower())
            if isinstance(v, (dict, list)):
                walk(v, depth + 1, False)
    walk(a, 0, True)
    return out


def ts_ms(a):
    t = a.get("@timestamp", "")
    try:
        base, _, frac = t.rstrip("Z").partition(".")
        dt = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        return int(dt.timestamp()) * 1000 + int((frac + "000")[:3])
    except ValueError:
        return 0


def text_of(a):
    return "\x01".join(collect(a, "ip") + collect(a, "mac") + collect(a, "name") +
                       [a["event"]["action"].lower(), a.get("message", "").lower()])


# ------------------------------------------------------------------ the test
def main():
    rport = free_port()
    rdir = os.path.join(TMP, "redis")
    redis_start(rdir, rport)
    r = Redis(rport)

    # --- fill the stream with real sensor runs
    alerts = []
    alerts += run_sensor("alpha", os.path.join(CAPS, "incident-mitm.pcap"), rport)
    alerts += run_sensor("beta", os.path.join(CAPS, "hostile-dns.pcap"), rport)
    alerts += run_sensor("alpha", os.path.join(CAPS, "lab-arp-poison.pcap"), rport)
    alerts = [a for a in alerts if a["event"].get("kind") != "incident"]
    note("sensor runs wrote %d alerts" % len(alerts))

    # --- hostile entries, written as a broken or malicious writer would
    hostile_script = 'evil <script>alert("x")</script> \'q\' \\ "dq"\nline2'
    h1 = {"@timestamp": "2024-05-01T12:00:00.500Z",
          "event": {"id": "f" * 32 + "-0000000000000001", "kind": "alert", "action": "test.hostile",
                    "severity": 9},
          "observer": {"name": "gamma"},
          "source": {"ip": "198.51.100.7", "mac": "00:00:0C:12:34:56"},
          "destination": {"ip": "2001:db8::1", "port": 443},
          "onpath": {"evidence": {"sni": hostile_script, "nul": "a\u0000b"}},
          "message": "=HYPERLINK(\"http://evil\") " + hostile_script}
    h1_json = json.dumps(h1).encode()
    # invalid UTF-8 inside a string value: the server must still answer valid JSON
    h2_raw = (b'{"@timestamp":"2024-05-01T12:00:01Z","event":{"id":"' + b"e" * 32 +
              b'-0000000000000002","kind":"alert","action":"test.badutf8","severity":2},'
              b'"observer":{"name":"gamma"},"source":{"ip":"198.51.100.8"},'
              b'"message":"bad \xff\xfe bytes \xc3"}')
    h3_raw = b"not json at all <script>\x00\xff"
    hostile = [(h1_json, "test.hostile", "9"), (h2_raw, "test.badutf8", "2"),
               (h3_raw, "test.notjson", "1")]
    hostile_ids = []
    for raw, typ, sev in hostile:
        hostile_ids.append(r.cmd("XADD", PREFIX + "alerts", "*", "id", "x", "type", typ,
                                 "severity", sev, "sensor", "gamma", "json", raw).decode())
    xlen = r.cmd("XLEN", PREFIX + "alerts")
    check(xlen == len(alerts) + 3, "XLEN %d, expected %d" % (xlen, len(alerts) + 3))

    # expected view of every alert, by event id
    h2_view = {"@timestamp": "2024-05-01T12:00:01Z",
               "event": {"id": "e" * 32 + "-0000000000000002", "action": "test.badutf8", "severity": 2},
               "observer": {"name": "gamma"}, "source": {"ip": "198.51.100.8"},
               "message": "bad \ufffd\ufffd bytes \ufffd"}
    views = {a["event"]["id"]: a for a in alerts}
    views[h1["event"]["id"]] = h1
    views[h2_view["event"]["id"]] = h2_view

    # --- OUI file and secrets
    oui = os.path.join(TMP, "oui.csv")
    with open(oui, "w") as f:
        f.write("Registry,Assignment,Organization Name,Organization Address\n")
        f.write('MA-L,00000C,"Cisco Systems, Inc",170 West Tasman Drive San Jose CA US 95134\n')
        f.write("MA-M,00000C1,Not A Prefix,x\n")
    tokf = os.path.join(TMP, "token")
    with open(tokf, "w") as f:
        f.write(TOKEN + "\n")
    pwf = os.path.join(TMP, "password")
    with open(pwf, "w") as f:
        f.write(BASIC_PASS + "\n")
    conf = os.path.join(TMP, "dash.yaml")
    with open(conf, "w") as f:
        f.write("dashboard:\n  redis: redis://127.0.0.1:%d\n  basic_user: %s\n"
                "  basic_password_file: %s\n  max_index: 100000\n" % (rport, BASIC_USER, pwf))

    # --- start-up refusals
    web = os.path.join(SRC, "dashboards", "web")
    for args, why in [
            (["--listen", "0.0.0.0:%d" % free_port(), "--no-auth"], "non-loopback without auth"),
            (["--listen", "127.0.0.1:%d" % free_port()], "no token and no password"),
    ]:
        p = dash_start(["--redis", "redis://127.0.0.1:%d" % rport, "--web-root", web] + args)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        check(rc not in (0, None), "start-up not refused: " + why)
    bad = os.path.join(TMP, "bad.yaml")
    with open(bad, "w") as f:
        f.write("dashboard:\n  redis: redis://127.0.0.1:1\n  listne: 127.0.0.1:1\n")
    p = dash_start(["--config", bad])
    rc = p.wait(10)
    check(rc != 0 and "bad.yaml:3" in dash_log(p), "a misspelt key is not reported as file:line: "
          + dash_log(p))

    # the shipped example parses (it then stops at its token file, absent here)
    p = dash_start(["--config", os.path.join(SRC, "dashboards", "onpath-dashboard.yaml.example")])
    rc = p.wait(10)
    check(rc == 2 and "dashboard.token" in dash_log(p), "onpath-dashboard.yaml.example: " + dash_log(p))

    # --- the server under test
    port = free_port()
    dash = dash_start(["--config", conf, "--listen", "127.0.0.1:%d" % port, "--token-file", tokf,
                       "--web-root", web, "--oui", oui])
    api = Api(port)
    if not wait_until(30, lambda: api.json("/api/health", auth=None)["indexed"] == xlen):
        raise SystemExit("FAIL: the dashboard did not index %d alerts:\n%s" % (xlen, dash_log(dash)))
    health = api.json("/api/health", auth=None)
    check(health["redis"] == "up" and health["ok"] is True, "health: %r" % health)

    # --- authentication
    st, h, body = api.req("GET", "/api/alerts", auth=None)
    check(st == 401 and json.loads(body).get("error"), "no auth: %d" % st)
    st, _, _ = api.req("GET", "/api/alerts", auth="Bearer wrong-" + TOKEN)
    check(st == 401, "wrong token: %d" % st)
    st, _, _ = api.req("GET", "/api/alerts", auth="Bearer " + TOKEN[:-1])
    check(st == 401, "token prefix: %d" % st)
    bad_basic = "Basic " + base64.b64encode(("%s:%s" % (BASIC_USER, "wrong")).encode()).decode()
    st, _, _ = api.req("GET", "/api/alerts", auth=bad_basic)
    check(st == 401, "wrong basic password: %d" % st)
    good_basic = "Basic " + base64.b64encode(("%s:%s" % (BASIC_USER, BASIC_PASS)).encode()).decode()
    st, _, _ = api.req("GET", "/api/alerts", auth=good_basic)
    check(st == 200, "basic auth: %d" % st)
    st, h, _ = api.req("GET", "/api/alerts")
    check(st == 200, "bearer: %d" % st)
    for k, v in [("cache-control", "no-store"), ("x-content-type-options", "nosniff")]:
        check(h.get(k) == v, "header %s: %r" % (k, h.get(k)))
    check("frame-ancestors 'none'" in h.get("content-security-policy", ""), "CSP missing")
    # session cookie
    st, h, _ = api.req("POST", "/api/login", headers={"X-Onpath": "1"}, body={"token": "nope"},
                       auth=None)
    check(st == 401, "login with a wrong token: %d" % st)
    st, h, _ = api.req("POST", "/api/login", headers={"X-Onpath": "1"},
                       body={"user": BASIC_USER, "password": BASIC_PASS}, auth=None)
    cookie = h.get("set-cookie", "")
    check(st == 204 and "HttpOnly" in cookie and "SameSite=Strict" in cookie, "login: %d %r" % (st, cookie))
    sess = cookie.split(";")[0]
    st, _, _ = api.req("GET", "/api/alerts?limit=1", headers={"Cookie": sess}, auth=None)
    check(st == 200, "session cookie: %d" % st)
    st, _, _ = api.req("POST", "/api/logout", headers={"Cookie": sess, "X-Onpath": "1"}, auth=None)
    check(st == 204, "logout: %d" % st)
    st, _, _ = api.req("GET", "/api/alerts?limit=1", headers={"Cookie": sess}, auth=None)
    check(st == 401, "session after logout: %d" % st)
    # CSRF guard and body limit
    st, _, _ = api.req("POST", "/api/alerts/%s/ack" % hostile_ids[0], body={"status": "ack"})
    check(st == 403, "POST without X-Onpath: %d" % st)
    st, _, _ = api.req("POST", "/api/alerts/%s/ack" % hostile_ids[0], headers={"X-Onpath": "1"},
                       body='{"status":"ack","note":"' + "x" * 9000 + '"}')
    check(st == 413, "9 KB body: %d" % st)
    st, _, _ = api.req("DELETE", "/api/alerts")
    check(st == 405, "DELETE: %d" % st)

    # --- the list and paging
    d = api.json("/api/alerts")
    check(d["total_matching"] == xlen, "total_matching %s != XLEN %d" % (d["total_matching"], xlen))
    items, total = api.all_pages("", limit=3)
    sids = [it["sid"] for it in items]
    check(len(sids) == xlen and len(set(sids)) == xlen, "paging: %d items, %d distinct, XLEN %d"
          % (len(sids), len(set(sids)), xlen))
    keyed = [tuple(int(x) for x in s.split("-")) for s in sids]
    check(keyed == sorted(keyed, reverse=True), "paging: not newest first")
    stream_ids = [e[0].decode() for e in r.cmd("XRANGE", PREFIX + "alerts", "-", "+")]
    check(set(sids) == set(stream_ids), "paging: ids differ from the stream")
    st, _, _ = api.req("GET", "/api/alerts?limit=501")
    check(st == 400, "limit=501: %d" % st)
    st, _, _ = api.req("GET", "/api/alerts?ip=not-an-ip")
    check(st == 400, "ip=not-an-ip: %d" % st)
    d = api.json("/api/alerts?after=%s&limit=500" % stream_ids[-3])
    check([it["sid"] for it in d["alerts"]] == stream_ids[-2:][::-1], "after=: %r" %
          [it["sid"] for it in d["alerts"]])

    # --- hostile strings come back as valid, equal, escaped JSON
    d = api.json("/api/alerts?sensor=gamma&limit=10")
    got = {it["sid"]: it["alert"] for it in d["alerts"]}
    a1 = got.get(hostile_ids[0], {})
    check(a1.get("onpath", {}).get("evidence", {}).get("sni") == hostile_script,
          "hostile string altered: %r" % a1.get("onpath"))
    check(a1.get("onpath", {}).get("evidence", {}).get("nul") == "a\u0000b", "NUL escape lost")
    check(got.get(hostile_ids[1], {}).get("message") == "bad \ufffd\ufffd bytes \ufffd",
          "invalid UTF-8: %r" % got.get(hostile_ids[1]))
    check("<script>" in got.get(hostile_ids[2], {}).get("unparsed", ""),
          "not-JSON entry: %r" % got.get(hostile_ids[2]))
    st, h, raw = api.req("GET", "/api/alerts?sensor=gamma")
    check(h.get("content-type", "").startswith("application/json"), "content type " + h.get("content-type", ""))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        fail("response is not UTF-8")

    # --- filters, each against the expected subset
    def expect(pred):
        return {eid for eid, a in views.items() if pred(a)}

    def got_ids(query):
        its, tot = api.all_pages(query)
        ids = [it["alert"].get("event", {}).get("id") for it in its
               if it["sid"] != hostile_ids[2]]
        check(tot == len(its), "%s: total_matching %d but %d items" % (query, tot, len(its)))
        return set(ids), len(ids)

    mitm_types = sorted({a["event"]["action"] for a in alerts})
    one_type = mitm_types[0]
    ip0 = "192.0.2.10"
    mac0 = "02:00:00:00:00:66"
    t_all = sorted(ts_ms(a) for a in views.values())
    t_mid = t_all[len(t_all) // 2]
    cases = [
        ("type=" + one_type, lambda a: a["event"]["action"] == one_type),
        ("type=issuer.", lambda a: a["event"]["action"].startswith("issuer.")),
        ("type=dns.,arp.", lambda a: a["event"]["action"].split(".")[0] in ("dns", "arp")),
        ("type=dns.&type=" + one_type,
         lambda a: a["event"]["action"].startswith("dns.") or a["event"]["action"] == one_type),
        ("severity_min=7", lambda a: a["event"]["severity"] >= 7),
        ("severity_min=5&severity_max=6", lambda a: 5 <= a["event"]["severity"] <= 6),
        ("sensor=alpha", lambda a: a["observer"]["name"] == "alpha"),
        ("sensor=beta", lambda a: a["observer"]["name"] == "beta"),
        ("ip=" + ip0, lambda a: ip0 in collect(a, "ip")),
        ("ip=2001:0db8:0::1", lambda a: "2001:db8::1" in collect(a, "ip")),
        ("mac=" + mac0.upper().replace(":", "-"), lambda a: mac0 in collect(a, "mac")),
        ("mac=00:00:0c:12:34:56", lambda a: "00:00:0c:12:34:56" in collect(a, "mac")),
        ("name=BANK.example", lambda a: any("bank.example" in n for n in collect(a, "name"))),
        ("name=%3Cscript%3E", lambda a: any("<script>" in n for n in collect(a, "name"))),
        ("q=MITMPROXY", lambda a: "mitmproxy" in text_of(a)),
        ("q=198.51.100", lambda a: "198.51.100" in text_of(a)),
        ("from=%d" % t_mid, lambda a: ts_ms(a) >= t_mid),
        ("to=%d" % t_mid, lambda a: ts_ms(a) < t_mid),
        ("from=%d&to=%d&severity_min=6" % (t_all[0], t_mid),
         lambda a: t_all[0] <= ts_ms(a) < t_mid and a["event"]["severity"] >= 6),
        ("sensor=alpha&type=arp.&ip=" + ip0, lambda a: a["observer"]["name"] == "alpha" and
         a["event"]["action"].startswith("arp.") and ip0 in collect(a, "ip")),
        ("sensor=nobody", lambda a: False),
    ]
    for q, pred in cases:
        want = expect(pred)
        ids, n = got_ids(q)
        check(ids == want and n == len(want), "filter %s: got %d %s, expected %d %s" %
              (q, n, sorted(ids)[:4], len(want), sorted(want)[:4]))
        if q.startswith("type=issuer.") or q.startswith("sensor=alpha"):
            check(len(want) > 0, "filter %s selects nothing: a weak test" % q)

    # --- detail and vendors
    d = api.json("/api/alerts/" + hostile_ids[0])
    check(d["vendors"].get("00:00:0c:12:34:56") == "Cisco Systems, Inc", "vendor: %r" % d["vendors"])
    check(d["alert"]["event"]["id"] == h1["event"]["id"] and d["ack"] is None, "detail: %r" % d)
    arp_alert = next(it for it in items if it["alert"].get("event", {}).get("action", "").startswith("arp."))
    d = api.json("/api/alerts/" + arp_alert["sid"])
    macs = collect(d["alert"], "mac")
    check(macs and all(d["vendors"].get(m) == "(locally administered)" for m in macs if m.startswith("02:")),
          "locally administered vendors: %r" % d["vendors"])
    d2 = api.json("/api/alerts/" + arp_alert["alert"]["event"]["id"])
    check(d2["sid"] == arp_alert["sid"], "detail by event.id: %r" % d2.get("sid"))
    st, _, _ = api.req("GET", "/api/alerts/99-99")
    check(st == 404, "unknown sid: %d" % st)
    st, _, _ = api.req("GET", "/api/alerts/..%2f..%2fetc")
    check(st in (400, 404), "bad sid: %d" % st)

    # --- acknowledgements, stored in Redis, in the list, over SSE to another client
    sse_all = Sse(port, "/api/events")
    sse_arp = Sse(port, "/api/events?type=arp.")
    sse_all.pump(0.5)
    sse_arp.pump(0.5)
    check(sse_all.head()[0] == 200 and "text/event-stream" in sse_all.head()[1].get("content-type", ""),
          "SSE head: %r" % (sse_all.head(),))
    target = items[1]
    eid = target["alert"]["event"]["id"]
    st, _, body = api.req("POST", "/api/alerts/%s/ack" % target["sid"], headers={"X-Onpath": "1"},
                          body={"status": "fp", "note": "lab test <b>bold</b>"},
                          auth=good_basic)
    check(st == 200, "ack: %d %s" % (st, body[:200]))
    stored = r.cmd("HGET", PREFIX + "acks", eid)
    stored = json.loads(stored) if stored else {}
    check(stored.get("status") == "fp" and stored.get("by") == BASIC_USER and
          stored.get("note") == "lab test <b>bold</b>" and isinstance(stored.get("at"), int),
          "HGET acks: %r" % stored)
    d = api.json("/api/alerts?status=fp")
    check([it["alert"]["event"]["id"] for it in d["alerts"]] == [eid] and d["alerts"][0]["ack"]["status"] == "fp",
          "status=fp list: %r" % d["alerts"][:1])
    ids, n = got_ids("status=open")
    check(n == xlen - 2 and eid not in ids, "status=open: %d of %d" % (n, xlen))  # minus not-JSON
    sse_all.pump(1.5)
    acks = [json.loads(e["data"]) for e in sse_all.events() if e.get("event") == "ack"]
    check(any(a["event_id"] == eid and a["ack"]["status"] == "fp" for a in acks),
          "ack not pushed over SSE: %r" % sse_all.events()[-3:])
    st, _, _ = api.req("POST", "/api/alerts/%s/ack" % target["sid"], headers={"X-Onpath": "1"},
                       body={"status": "maybe"})
    check(st == 400, "bad ack status: %d" % st)

    # --- the live feed delivers new alerts, filtered
    new_arp = dict(alerts[-1])
    new_arp = json.loads(json.dumps(new_arp))
    new_arp["event"]["id"] = "a" * 32 + "-00000000000000ff"
    new_arp["event"]["action"] = "arp.test_live"
    new_dns = {"@timestamp": "2024-05-01T12:00:05Z", "event": {"id": "b" * 32 + "-0000000000000001",
               "action": "dns.test_live", "severity": 3}, "observer": {"name": "gamma"},
               "message": "live dns"}
    sid_arp = r.cmd("XADD", PREFIX + "alerts", "*", "type", "arp.test_live", "severity", "4",
                    "sensor", "alpha", "json", json.dumps(new_arp)).decode()
    sid_dns = r.cmd("XADD", PREFIX + "alerts", "*", "type", "dns.test_live", "severity", "3",
                    "sensor", "gamma", "json", json.dumps(new_dns)).decode()
    inc = {"@timestamp": "2024-05-01T12:00:06Z", "event": {"id": "d" * 32 + "-0000000000000001",
           "kind": "incident", "action": "incident.mitm", "severity": 8}, "message": "live incident"}
    sid_inc = r.cmd("XADD", PREFIX + "incidents", "*", "type", "incident.mitm", "severity", "8",
                    "sensor", "alpha", "json", json.dumps(inc)).decode()
    sse_all.pump(2.5)
    sse_arp.pump(0.5)
    check(any(e.get("event") == "incident" and e.get("id") == sid_inc for e in sse_all.events()),
          "SSE incident not delivered")
    got_all = [e.get("id") for e in sse_all.events() if e.get("event") == "alert"]
    got_arp = [e.get("id") for e in sse_arp.events() if e.get("event") == "alert"]
    check(sid_arp in got_all and sid_dns in got_all, "SSE all: %r" % got_all)
    check(got_arp == [sid_arp], "SSE type=arp.: %r" % got_arp)
    ev = next((e for e in sse_all.events() if e.get("id") == sid_arp), None)
    check(ev is not None and json.loads(ev["data"])["alert"]["event"]["id"] == new_arp["event"]["id"],
          "SSE data")
    sse_all.close()
    sse_arp.close()
    # resume with Last-Event-ID: exactly what came after
    res = Sse(port, "/api/events", headers={"Last-Event-ID": stream_ids[-1]})
    res.pump(1.5)
    check([e.get("id") for e in res.events() if e.get("event") == "alert"] == [sid_arp, sid_dns],
          "SSE resume: %r" % [e.get("id") for e in res.events()])
    res.close()
    xlen += 2
    views[new_arp["event"]["id"]] = new_arp
    views[new_dns["event"]["id"]] = new_dns

    # --- export: row counts, CSV quoting and formula prefix
    st, h, body = api.req("GET", "/api/export?format=jsonl")
    lines = [json.loads(l) for l in body.decode("utf-8").splitlines() if l]
    check(st == 200 and len(lines) == xlen and "attachment" in h.get("content-disposition", ""),
          "export jsonl: %d rows of %d" % (len(lines), xlen))
    st, h, body = api.req("GET", "/api/export?format=csv&sensor=gamma")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    want_g = api.json("/api/alerts?sensor=gamma")["total_matching"]
    check(st == 200 and len(rows) == want_g + 1 and rows[0][0] == "timestamp" and len(rows[0]) == 12,
          "export csv: %d rows for %d" % (len(rows), want_g))
    hrow = next((row for row in rows if row[1] == hostile_ids[0]), None)
    check(hrow is not None and hrow[10].startswith("'=HYPERLINK") and "\n" in hrow[10],
          "CSV formula prefix: %r" % (hrow,))
    st, h, body = api.req("GET", "/api/export?format=csv&type=issuer.")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    check(len(rows) - 1 == len(expect(lambda a: a["event"]["action"].startswith("issuer."))),
          "export csv issuer.: %d" % (len(rows) - 1))
    st, _, _ = api.req("GET", "/api/export?format=xml")
    check(st == 400, "export xml: %d" % st)

    # --- timeline sums equal counts
    for q in ["", "type=issuer.", "sensor=alpha&buckets=7",
              "from=%d&to=%d&buckets=13" % (t_all[0], t_mid)]:
        tl = api.json("/api/timeline?" + q)
        s = sum(sum(b["counts"].values()) for b in tl["buckets"])
        tot = api.json("/api/alerts?" + q.replace("buckets=7", "").replace("buckets=13", ""))["total_matching"]
        check(s == tot, "timeline %s: %d vs %d" % (q, s, tot))
        check(all(b["t"] == tl["from"] + i * tl["bucket_ms"] for i, b in enumerate(tl["buckets"])),
              "timeline bucket times")

    # --- sensors: the heartbeat hash (written here: an offline run is too short)
    now = int(time.time())
    r.cmd("HSET", PREFIX + "sensor:delta", "name", "delta", "host", "h", "version", "0.1.0",
          "state", "running", "last_seen", now, "heartbeat_s", 10, "packets", 1000,
          "pcap_dropped", 3, "decode_errors", 1, "alerts", 5)
    r.cmd("ZADD", PREFIX + "sensors", now, "delta")
    r.cmd("HSET", PREFIX + "sensor:old", "name", "old", "state", "running", "last_seen", now - 3600,
          "heartbeat_s", 10)
    r.cmd("ZADD", PREFIX + "sensors", now - 3600, "old")
    r.cmd("ZADD", PREFIX + "sensors", now, "bad name<script>")
    s1 = {x["name"]: x for x in api.json("/api/sensors")["sensors"]}
    r.cmd("HSET", PREFIX + "sensor:delta", "last_seen", now + 2, "packets", 1100)
    s2 = {x["name"]: x for x in api.json("/api/sensors")["sensors"]}
    check(s1.get("delta", {}).get("alive") is True and s1["delta"]["pcap_dropped"] == 3,
          "sensor delta: %r" % s1.get("delta"))
    check(abs(s2.get("delta", {}).get("pps", 0) - 50.0) < 0.01, "pps: %r" % s2.get("delta"))
    check(s1.get("old", {}).get("alive") is False, "stale sensor alive: %r" % s1.get("old"))
    check("bad name<script>" not in s1, "invalid sensor name listed")

    # --- inventories from a baseline SET from a real --state file
    state = os.path.join(TMP, "state.json")
    subprocess.run([ONPATH, "-q", "--no-stats", "-r", os.path.join(CAPS, "lab-arp-poison.pcap"),
                    "-o", "jsonl:/dev/null", "--state", state], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([ONPATH, "-q", "--no-stats", "-r", os.path.join(CAPS, "incident-mitm.pcap"),
                    "-o", "jsonl:/dev/null", "--state", state], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(state) as f:
        base = json.load(f)
    r.cmd("SET", PREFIX + "baseline:delta", json.dumps(base))
    inv = api.json("/api/inventory")
    check("delta" in inv["sensors"] and "arp" in inv["kinds"], "inventory list: %r" % inv)
    arp = api.json("/api/inventory/arp?sensor=delta")
    want = base["arp"]["bindings"]
    check(len(want) > 0 and len(arp["items"]) == len(want), "arp inventory: %d of %d" %
          (len(arp["items"]), len(want)))
    check(all(it.get("vendor") == "(locally administered)" for it in arp["items"]
              if it["mac"].startswith("02:")), "arp vendor")
    for kind, sec, lst in [("issuers", "issuer", "names"), ("resolvers", "dns", "resolvers"),
                           ("dhcp", "dhcp", "servers"), ("tls", "tls", "servers")]:
        got = api.json("/api/inventory/%s?sensor=delta" % kind)
        check(got["items"] == base[sec][lst] and got["sensor"] == "delta",
              "inventory %s differs" % kind)
    st, _, _ = api.req("GET", "/api/inventory/arp?sensor=../x")
    check(st == 400, "inventory bad sensor: %d" % st)
    st, _, _ = api.req("GET", "/api/inventory/passwords")
    check(st == 404, "inventory unknown kind: %d" % st)

    # --- incidents: one per event.id, its latest update
    inc = api.json("/api/incidents?limit=500")
    latest = {}
    for eid_, fields in [(json.loads(dict(zip(e[1][::2], e[1][1::2]))[b"json"])["event"]["id"], e[0])
                         for e in r.cmd("XRANGE", PREFIX + "incidents", "-", "+")]:
        latest[eid_] = fields.decode()
    check(sorted(i["sid"] for i in inc["incidents"]) == sorted(latest.values()) and len(latest) > 0,
          "incidents: %d vs %d" % (len(inc["incidents"]), len(latest)))

    # --- an incident and an alert with the same stream id (the sensor writes both
    # streams in one pipeline, so Redis gives both the same <ms>-<seq>): the alert
    # routes read only the alert stream, the incident routes only the incident stream,
    # and each acknowledgement lands on its own event.id
    newest = [x[0].decode() for k in ("alerts", "incidents")
              for x in (r.cmd("XREVRANGE", PREFIX + k, "+", "-", "COUNT", 1) or [])]
    same = "%d-0" % (max([int(x.split("-")[0]) for x in newest] + [int(time.time() * 1000)]) + 1000)
    col_alert = {"@timestamp": "2024-05-01T12:00:07Z",
                 "event": {"id": "1" * 32 + "-0000000000000001", "kind": "alert",
                           "action": "arp.collide", "severity": 5},
                 "observer": {"name": "gamma"}, "source": {"ip": "198.51.100.9"},
                 "message": "collision alert"}
    col_inc = {"@timestamp": "2024-05-01T12:00:07Z",
               "event": {"id": "2" * 32 + "-0000000000000001", "kind": "incident",
                         "action": "incident.mitm", "severity": 8},
               "observer": {"name": "gamma"},
               "onpath": {"incident": {"members": [{"id": col_alert["event"]["id"]}]}},
               "message": "collision incident"}
    ea, ei = col_alert["event"]["id"], col_inc["event"]["id"]
    sse_col = Sse(port, "/api/events")
    sse_col.pump(0.5)
    r.cmd("XADD", PREFIX + "alerts", same, "id", ea, "type", "arp.collide", "severity", "5",
          "sensor", "gamma", "json", json.dumps(col_alert))
    r.cmd("XADD", PREFIX + "incidents", same, "id", ei, "type", "incident.mitm", "severity", "8",
          "sensor", "gamma", "json", json.dumps(col_inc))
    xlen += 1
    views[ea] = col_alert
    check(wait_until(10, lambda: api.req("GET", "/api/incidents/" + ei)[0] == 200 and
                     api.json("/api/alerts?type=arp.collide")["total_matching"] == 1),
          "the colliding alert and incident are not indexed")
    d = api.json("/api/alerts/" + same)
    check(d["alert"]["event"]["id"] == ea and "incident" not in d,
          "GET /api/alerts/<shared sid> is not the alert: %r" % d)
    d = api.json("/api/incidents/" + same)
    check(d.get("incident", {}).get("event", {}).get("id") == ei and d["sid"] == same and "alert" not in d,
          "GET /api/incidents/<shared sid> is not the incident: %r" % d)
    d = api.json("/api/incidents/" + ei)
    check(d["sid"] == same and d["incident"]["event"]["id"] == ei, "GET /api/incidents/<event.id>: %r" % d)
    st, _, _ = api.req("GET", "/api/alerts/" + ei)
    check(st == 404, "GET /api/alerts/<incident event.id> (alerts only): %d" % st)
    st, _, _ = api.req("GET", "/api/incidents/" + ea)
    check(st == 404, "GET /api/incidents/<alert event.id>: %d" % st)
    st, _, _ = api.req("GET", "/api/incidents/1-1")
    check(st == 404, "GET /api/incidents/<no such sid>: %d" % st)
    # the incident, by its stream id
    st, _, body = api.req("POST", "/api/incidents/%s/ack" % same, headers={"X-Onpath": "1"},
                          body={"status": "ack", "note": "incident note"})
    res = json.loads(body) if st == 200 else {}
    check(st == 200 and res.get("event_id") == ei and res.get("incident") is True,
          "POST /api/incidents/<shared sid>/ack: %d %s" % (st, body[:200]))
    stored_i = r.cmd("HGET", PREFIX + "acks", ei)
    check(stored_i is not None and json.loads(stored_i)["status"] == "ack", "incident ack stored: %r" % stored_i)
    check(r.cmd("HGET", PREFIX + "acks", ea) is None, "the incident's ack landed on the alert")
    # the alert, by the same stream id
    st, _, body = api.req("POST", "/api/alerts/%s/ack" % same, headers={"X-Onpath": "1"},
                          body={"status": "fp", "note": "alert note"})
    res = json.loads(body) if st == 200 else {}
    check(st == 200 and res.get("event_id") == ea and res.get("incident") is False,
          "POST /api/alerts/<shared sid>/ack: %d %s" % (st, body[:200]))
    check(json.loads(r.cmd("HGET", PREFIX + "acks", ea) or b"{}").get("status") == "fp" and
          json.loads(r.cmd("HGET", PREFIX + "acks", ei) or b"{}").get("status") == "ack",
          "after the alert's ack: acks %r" % r.cmd("HGETALL", PREFIX + "acks"))
    # the incident again, by its event.id
    st, _, body = api.req("POST", "/api/incidents/%s/ack" % ei, headers={"X-Onpath": "1"},
                          body={"status": "ack", "note": "incident note 2"})
    check(st == 200 and json.loads(r.cmd("HGET", PREFIX + "acks", ei) or b"{}").get("note") == "incident note 2",
          "POST /api/incidents/<event.id>/ack: %d %s" % (st, body[:200]))
    for path in ["/api/incidents/1-1/ack", "/api/incidents/%s/ack" % ea]:
        st, _, _ = api.req("POST", path, headers={"X-Onpath": "1"}, body={"status": "ack"})
        check(st == 404, "POST %s: %d" % (path, st))
    check(api.json("/api/incidents/" + same)["ack"]["status"] == "ack" and
          api.json("/api/alerts/" + same)["ack"]["status"] == "fp", "detail acks differ from the stored ones")
    check(ei in [i["incident"]["event"]["id"] for i in api.json("/api/incidents?status=ack")["incidents"]],
          "/api/incidents?status=ack lacks the incident")
    fp_ids = [it["alert"]["event"]["id"] for it in api.json("/api/alerts?status=fp&limit=500")["alerts"]]
    check(ea in fp_ids and ei not in fp_ids, "/api/alerts?status=fp: %r" % fp_ids)
    sse_col.pump(1.5)
    acks = [json.loads(e["data"]) for e in sse_col.events() if e.get("event") == "ack"]
    check(any(a["event_id"] == ei and a.get("incident") is True and a["ack"]["status"] == "ack" for a in acks) and
          any(a["event_id"] == ea and a.get("incident") is False and a["ack"]["status"] == "fp" for a in acks),
          "SSE ack events: %r" % acks)
    sse_col.close()

    # --- static files
    st, h, body = api.req("GET", "/", auth=None)
    check(st == 200 and h.get("content-type", "").startswith("text/html"), "GET /: %d" % st)
    st, h, _ = api.req("GET", "/static/app.js", auth=None)
    check(st == 200 and "javascript" in h.get("content-type", ""), "app.js: %d" % st)
    for path in ["/static/../Makefile.am", "/static/..%2f..%2fMakefile.am", "/static/.hidden",
                 "/static/%2e%2e/dash.yaml", "/static/x/../../README.md", "/static/index"]:
        st, _, body = api.req("GET", path, auth=None)
        check(st in (400, 403, 404) and b"dashboard:" not in body, "%s served: %d" % (path, st))

    # --- SSE client limit (64): the 65th gets 503
    check(wait_until(10, lambda: api.json("/api/health", auth=None)["sse_clients"] == 0),
          "closed SSE clients still counted")
    many = []
    for _ in range(64):
        many.append(Sse(port, "/api/events"))
    for s in many:
        s.pump(0.05)
    check(wait_until(10, lambda: api.json("/api/health", auth=None)["sse_clients"] == 64),
          "64 SSE clients: %r" % api.json("/api/health", auth=None))
    extra = Sse(port, "/api/events")
    extra.pump(1.0)
    check(extra.head()[0] == 503, "65th SSE client: %r" % (extra.head()[0],))
    extra.close()
    for s in many:
        s.close()
    wait_until(10, lambda: api.json("/api/health", auth=None)["sse_clients"] == 0)

    # --- a flood while a live-feed client does not read: the server drops its backlog
    # (512 queued) for one "resync" (data: the newest sid), never a silent gap; and a
    # resume with more than 500 alerts to replay is a resync too
    flood_n, pad = 3000, "p" * 4000
    slow = Sse(port, "/api/events", rcvbuf=4096)
    slow.pump(0.5)
    check(slow.head()[0] == 200, "slow SSE client: %r" % (slow.head(),))
    since = r.cmd("XREVRANGE", PREFIX + "alerts", "+", "-", "COUNT", 1)[0][0].decode()
    flood = []
    for i in range(flood_n):
        a = {"@timestamp": "2024-05-02T00:00:00Z",
             "event": {"id": "%032x-%016x" % (0xf100d, i), "kind": "alert", "action": "dns.flood",
                       "severity": 2}, "observer": {"name": "gamma"},
             "message": "flood %d %s" % (i, pad)}
        flood.append(r.cmd("XADD", PREFIX + "alerts", "*", "type", "dns.flood", "severity", "2",
                           "sensor", "gamma", "json", json.dumps(a)).decode())
    xlen += flood_n
    check(wait_until(60, lambda: api.json("/api/health", auth=None)["indexed"] >= xlen),
          "the flood is not indexed: %r" % api.json("/api/health", auth=None))
    got = len(slow.buf)
    for _ in range(120):
        slow.pump(1.0)
        if len(slow.buf) == got:
            break
        got = len(slow.buf)
    evs = slow.events()
    slow.close()
    delivered = [e.get("id") for e in evs if e.get("event") == "alert"]
    resyncs = [json.loads(e["data"])["sid"] for e in evs if e.get("event") == "resync"]
    note("flood: %d alerts, %d resyncs delivered to a client that did not read" % (len(delivered), len(resyncs)))
    if not resyncs:
        check(delivered == flood, "flood without resync: %d of %d delivered (a silent gap)"
              % (len([x for x in delivered if x in set(flood)]), flood_n))
    else:
        last = resyncs[-1]
        key = lambda x: tuple(int(v) for v in x.split("-"))
        check(last in flood, "resync sid %r is not a flood alert" % last)
        after = [x for x in flood if key(x) > key(last)]
        tail = [x for x in delivered if key(x) > key(last)]
        check(tail == after, "after the last resync (%s): %d of %d later alerts delivered"
              % (last, len(tail), len(after)))
        check(api.json("/api/health", auth=None).get("sse_resyncs", 0) >= len(resyncs),
              "health sse_resyncs: %r" % api.json("/api/health", auth=None))
    check(len(resyncs) > 0 or len(delivered) == flood_n, "flood: neither resync nor every alert")
    # resume from before the flood: more than 500 to replay
    res = Sse(port, "/api/events", headers={"Last-Event-ID": since})
    res.pump(2.0)
    evs = res.events()
    res.close()
    replayed = [e.get("id") for e in evs if e.get("event") == "alert"]
    rs = [json.loads(e["data"])["sid"] for e in evs if e.get("event") == "resync"]
    check((rs == [flood[-1]] and not replayed) or replayed == flood,
          "resume past %d alerts: %d replayed, resync %r" % (flood_n, len(replayed), rs))
    check(wait_until(10, lambda: api.json("/api/health", auth=None)["sse_clients"] == 0),
          "SSE clients left after the flood")

    # --- the sensors trim the stream (MAXLEN): the index forgets what Redis lost
    r.cmd("XTRIM", PREFIX + "alerts", "MAXLEN", "5")
    api.json("/api/alerts")  # meets trimmed alerts: the reader prunes
    check(wait_until(10, lambda: api.json("/api/alerts")["total_matching"] == 5),
          "after XTRIM MAXLEN 5: %r" % api.json("/api/alerts")["total_matching"])
    items, _ = api.all_pages("", limit=2)
    check(len(items) == 5, "after XTRIM: %d alerts listed" % len(items))

    # --- Redis goes away: health says so, the API answers 503, no crash; then back
    r.close()
    rp = [p for p in open(os.path.join(TMP, "pids")).read().split()][0]
    os.kill(int(rp), 9)
    check(wait_until(15, lambda: api.json("/api/health", auth=None)["redis"] == "down"),
          "health does not say down")
    st, _, _ = api.req("GET", "/api/alerts")
    check(st == 503, "alerts with Redis down: %d" % st)
    st, _, _ = api.req("GET", "/api/sensors")
    check(st == 503, "sensors with Redis down: %d" % st)
    redis_start(rdir + "2", rport)
    check(wait_until(20, lambda: api.json("/api/health", auth=None)["redis"] == "up"),
          "health does not come back up")
    check(wait_until(10, lambda: api.req("GET", "/api/sensors")[0] == 200), "API after Redis is back")
    r = Redis(rport)
    r.cmd("XADD", PREFIX + "alerts", "*", "type", "arp.after_restart", "severity", "3", "sensor",
          "alpha", "json", json.dumps({"event": {"id": "c" * 32 + "-0000000000000001",
                                                 "action": "arp.after_restart"}}))
    check(wait_until(10, lambda: api.json("/api/alerts?type=arp.after_restart")["total_matching"] == 1),
          "an alert after the restart is not indexed")

    dash_stop(dash)
    if failures:
        print("%d checks failed" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("dashboard API: all checks passed")


if __name__ == "__main__":
    main()
