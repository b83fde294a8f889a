#!/usr/bin/python3
"""Check a lab scenario's live alerts against its phases (tests/lab/README.md).

  check-alerts.py --alerts FILE --phases FILE
      [--quiet PHASE:SEV]...            no alert of severity >= SEV in PHASE
      [--expect PHASE:ACTION[:path=value[,path=value...]]]...
                                        at least one ACTION alert in PHASE whose dotted
                                        paths (e.g. onpath.evidence.new_mac) equal value
                                        (substring match for strings)
      [--expect-any PHASE:ACTION1|ACTION2...]  at least one of the actions in PHASE
      [--absent PHASE:ACTION]...        no ACTION alert in PHASE (ACTION ending in '*'
                                        is a prefix: issuer.* = every issuer alert)
      [--expect-incident ACTION1+ACTION2...[:path=value,...]]
                                        at least one incident line (event.kind
                                        "incident", any revision) whose
                                        onpath.incident.actions hold every ACTION

The phases file has lines "NAME EPOCH_SECONDS" in order; an alert belongs to the phase
whose start is the latest one not after the alert's first_seen (or @timestamp). Live
alerts carry the capture time, which is the wall clock the phases were written with.
Exit 0 when every condition holds, 1 otherwise.
"""
import argparse
import datetime
import json
import sys


def ts_of(a):
    t = (a.get("onpath") or {}).get("first_seen") or a.get("@timestamp")
    if not t:
        return None
    t = t.rstrip("Z")
    if "." not in t:
        t += ".0"
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def get(a, path):
    for p in path.split("."):
        if not isinstance(a, dict) or p not in a:
            return None
        a = a[p]
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", required=True)
    ap.add_argument("--phases", required=True)
    ap.add_argument("--quiet", action="append", default=[])
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--expect-any", action="append", default=[])
    ap.add_argument("--expect-incident", action="append", default=[])
    ap.add_argument("--absent", action="append", default=[])
    o = ap.parse_args()

    phases = []
    for line in open(o.phases):
        f = line.split()
        if len(f) == 2:
            phases.append((f[0], float(f[1])))
    alerts = []
    incidents = []
    try:
        lines = open(o.alerts).read().splitlines()
    except FileNotFoundError:
        lines = []
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            a = json.loads(line)
        except ValueError as e:
            print("%s:%d: not JSON: %s" % (o.alerts, ln, e))
            return 1
        if (a.get("event") or {}).get("kind") == "incident":
            incidents.append(a)
            continue
        if (a.get("event") or {}).get("kind") not in (None, "alert"):
            continue
        t = ts_of(a)
        ph = "before"
        for name, start in phases:
            if t is not None and t >= start - 0.001:
                ph = name
        a["_phase"] = ph
        alerts.append(a)

    print("alerts by phase:")
    for a in alerts:
        ev = a.get("event") or {}
        print("  %-9s sev %-2s %-28s %s" % (a["_phase"], ev.get("severity"),
                                          ev.get("action"), a.get("message", "")[:110]))
    ok = True
    for q in o.quiet:
        ph, sev = q.rsplit(":", 1)
        bad = [a for a in alerts if a["_phase"] == ph
               and int((a.get("event") or {}).get("severity", 0)) >= int(sev)]
        if bad:
            ok = False
            for a in bad:
                print("FAIL: %s phase must be quiet below severity %s, got %s (%s): %s" % (
                    ph, sev, a["event"].get("action"), a["event"].get("severity"),
                    a.get("message")))
        else:
            print("ok: no alert of severity >= %s during %s" % (sev, ph))
    for e in o.expect:
        parts = e.split(":", 2)
        ph, action = parts[0], parts[1]
        conds = []
        if len(parts) == 3 and parts[2]:
            for c in parts[2].split(","):
                k, v = c.split("=", 1)
                conds.append((k, v))
        found = None
        for a in alerts:
            if a["_phase"] != ph or get(a, "event.action") != action:
                continue
            good = True
            for k, v in conds:
                got = get(a, k)
                if isinstance(got, str):
                    good = good and v.lower() in got.lower()
                else:
                    good = good and str(got).lower() == v.lower()
            if good:
                found = a
                break
        if found is None:
            ok = False
            print("FAIL: no %s alert during %s matching %s" % (action, ph, conds or "-"))
        else:
            print("ok: %s during %s (%s)" % (action, ph, found.get("message")))
    for e in o.expect_any:
        ph, actions = e.split(":", 1)
        want = actions.split("|")
        got = sorted({get(a, "event.action") for a in alerts
                      if a["_phase"] == ph and get(a, "event.action") in want})
        if got:
            print("ok: during %s: %s" % (ph, ", ".join(got)))
        else:
            ok = False
            print("FAIL: none of %s during %s" % (", ".join(want), ph))
    for e in o.absent:
        ph, action = e.split(":", 1)
        if action.endswith("*"):
            bad = [a for a in alerts if a["_phase"] == ph
                   and str(get(a, "event.action") or "").startswith(action[:-1])]
        else:
            bad = [a for a in alerts if a["_phase"] == ph and get(a, "event.action") == action]
        if bad:
            ok = False
            for a in bad:
                print("FAIL: no %s alert expected during %s, got %s: %s" % (
                    action, ph, get(a, "event.action"), a.get("message")))
        else:
            print("ok: no %s alert during %s" % (action, ph))
    for e in o.expect_incident:
        parts = e.split(":", 1)
        want = [w for w in parts[0].split("+") if w]
        conds = []
        if len(parts) == 2 and parts[1]:
            for c in parts[1].split(","):
                k, v = c.split("=", 1)
                conds.append((k, v))
        found = None
        for a in incidents:
            acts = get(a, "onpath.incident.actions") or []
            good = all(w in acts for w in want)
            for k, v in conds:
                got = get(a, k)
                if isinstance(got, list):
                    good = good and any(v.lower() in str(x).lower() for x in got)
                elif isinstance(got, str):
                    good = good and v.lower() in got.lower()
                else:
                    good = good and str(got).lower() == v.lower()
            if good:
                found = a
                break
        if found is None:
            ok = False
            print("FAIL: no incident holding %s matching %s (%d incident lines)" % (
                "+".join(want), conds or "-", len(incidents)))
        else:
            print("ok: incident %s (severity %s): %s" % (
                get(found, "event.id"), get(found, "event.severity"),
                ", ".join(get(found, "onpath.incident.actions") or [])))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
