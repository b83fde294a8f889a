#!/bin/sh
# Live capture on several threads (onpath -i --workers N, issue #11): two capture
# sockets in one PACKET_FANOUT group split the interface's packets by flow, and the
# detectors they share must judge them as one sensor. The frames of a lab capture with
# ARP poisoning, a spoofed DNS answer and TLS interception (tests/captures/
# lab-mitm-full.pcap) are replayed into a veth pair; onpath -i --workers 2 listens on
# the other end while tcpdump records what arrived. Then onpath -r reads that
# recording with one thread, and both runs must report the same alerts: the same
# (event.action, onpath.key) pairs, the incident included. Every frame must be
# counted and none dropped, across a SIGHUP reload and a SIGUSR1 stats request made
# while the frames flow. Needs root, network namespaces, tcpdump and python3;
# skips otherwise.
#
# Strings passed to at_exit and `wait_until ... eval` are single-quoted on purpose:
# they expand when run, not when registered.
# shellcheck disable=SC2016
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
CAPTURE=$top_srcdir/tests/captures/lab-mitm-full.pcap
CONFIG=$top_srcdir/tests/golden/lab-mitm-full.yaml
WORKERS=${WORKERS:-2}
NS_S=onpath-wk-$$-s   # sensor side
NS_T=onpath-wk-$$-t   # sender side
IF_S=opw$$s
IF_T=opw$$t

[ "$(id -u)" = 0 ] || skip "workers test needs root and network namespaces (not root)"
command -v ip >/dev/null 2>&1 || skip "workers test needs the ip command"
command -v tcpdump >/dev/null 2>&1 || skip "workers test needs tcpdump (the offline reference)"
command -v "$PYTHON3" >/dev/null 2>&1 || skip "workers test needs python3 ($PYTHON3 not found)"
require_onpath
[ -r "$CAPTURE" ] || die "missing $CAPTURE"
make_tmpdir

veth_pair "workers test"
pid_onpath=
pid_tcpdump=
at_exit 'for p in $pid_onpath $pid_tcpdump; do kill -KILL "$p" 2>/dev/null; done'
# No addresses: the sensor side only listens, so its kernel answers nothing.
ip -n "$NS_T" link set "$IF_T" up
ip -n "$NS_S" link set "$IF_S" up


base=$(veth_sockets)
ip netns exec "$NS_S" tcpdump -i "$IF_S" --immediate-mode -nn -U -s 0 -w "$tmp/arrived.pcap" \
	2>"$tmp/tcpdump.err" &
pid_tcpdump=$!
wait_until 10 eval '[ "$(veth_sockets)" -gt '"$base"' ]' || die "tcpdump did not start: $(cat "$tmp/tcpdump.err")"
base=$(veth_sockets)

ip netns exec "$NS_S" "$ONPATH" -i "$IF_S" --workers "$WORKERS" --buffer-size 8M -c "$CONFIG" \
	-o "jsonl:$tmp/live.jsonl" --stats-json 2>"$tmp/onpath.err" &
pid_onpath=$!
# One socket per worker.
if ! wait_until 10 eval 'running $pid_onpath && [ "$(veth_sockets)" -ge $((base + WORKERS)) ]'; then
	cat "$tmp/onpath.err" >&2
	die "onpath -i $IF_S --workers $WORKERS did not open $WORKERS sockets within 10 s (has $(($(veth_sockets) - base)))"
fi
sleep 0.5

# While the frames flow: a reload and a stats request, which pause the workers.
( sleep 2; kill -HUP "$pid_onpath"; sleep 1; kill -USR1 "$pid_onpath" ) 2>/dev/null &
pid_signals=$!
sent=$(replay_frames "$NS_T" "$IF_T" "$CAPTURE") || die "sending the frames failed"
note "sent $sent frames from $CAPTURE into $IF_T"
wait "$pid_signals" || true
sleep 1
stop_pid "$pid_onpath" 10
pid_onpath=
[ "$rc" -eq 0 ] || { cat "$tmp/onpath.err" >&2; die "onpath exited with status $rc after SIGTERM (expected 0)"; }
stop_pid "$pid_tcpdump" 5
pid_tcpdump=
grep -q "$WORKERS capture workers" "$tmp/onpath.err" || die "onpath did not start $WORKERS workers: $(cat "$tmp/onpath.err")"
grep -q "configuration and signatures reloaded" "$tmp/onpath.err" || die "SIGHUP did not reload: $(cat "$tmp/onpath.err")"
[ "$(grep -c '^{"packets"' "$tmp/onpath.err")" -ge 2 ] || die "SIGUSR1 printed no stats: $(cat "$tmp/onpath.err")"
# Each worker got a share: the fanout split the flows.
per=$(sed -n 's/^onpath: packets per worker: //p' "$tmp/onpath.err")
note "packets per worker: $per"
for n in $per; do
	[ "$n" -gt 0 ] || die "a worker saw no packet (per worker: $per): the fanout did not split the traffic"
done
[ "$(echo "$per" | wc -w)" -eq "$WORKERS" ] || die "expected $WORKERS per-worker counts, got '$per'"

"$ONPATH" -r "$tmp/arrived.pcap" -c "$CONFIG" -o "jsonl:$tmp/offline.jsonl" --stats-json \
	2>"$tmp/offline.err" || die "onpath -r of the recording failed: $(cat "$tmp/offline.err")"

"$PYTHON3" - "$tmp/live.jsonl" "$tmp/offline.jsonl" "$tmp/onpath.err" "$tmp/offline.err" "$sent" <<'EOF' ||
import json, sys
live, offline, live_err, off_err, sent = sys.argv[1:6]

def alerts(path):
    out = set()
    for line in open(path):
        if not line.strip():
            continue
        a = json.loads(line)
        act = (a.get("event") or {}).get("action")
        if act:
            out.add((act, (a.get("onpath") or {}).get("key", "")))
    return out

def stats(path):
    st = None
    for line in open(path):
        if line.lstrip().startswith("{"):
            st = json.loads(line)
    return st or {}

l, o = alerts(live), alerts(offline)
ls, os_ = stats(live_err), stats(off_err)
ok = True
print("live (%s packets, pcap drops %s): %d distinct alerts; offline (%s packets): %d"
      % (ls.get("packets"), (ls.get("pcap") or {}).get("dropped"), len(l), os_.get("packets"), len(o)))
for a in sorted(l | o):
    print("  %s %-34s %s" % ("=" if a in l and a in o else ("live only" if a in l else "offline only"), a[0], a[1]))
if l != o:
    print("FAIL: live with workers and offline differ")
    ok = False
if not any(a[0] == "incident.mitm" for a in l):
    print("FAIL: no incident.mitm live")
    ok = False
if ls.get("packets") != os_.get("packets") or int(ls.get("packets", 0)) < int(sent):
    print("FAIL: live counted %s packets, the recording has %s, %s were sent"
          % (ls.get("packets"), os_.get("packets"), sent))
    ok = False
drops = (ls.get("pcap") or {}).get("dropped", 0)
if drops:
    print("FAIL: %s packets dropped by the kernel" % drops)
    ok = False
sys.exit(0 if ok else 1)
EOF
	die "live --workers $WORKERS and offline alerts differ (stderr: $(tail -n 3 "$tmp/onpath.err" | tr '\n' ' '))"
echo "PASS: --workers $WORKERS live capture reports the same alerts as the offline run"
