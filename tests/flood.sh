#!/bin/sh
# Floods and hostile traffic (issue #12): each generated flood is piped straight into
# onpath (nothing written to disk) with a known attack capture read right after it in
# the same run. For each:
#   - peak RSS stays under FLOOD_RSS_KIB (256 MiB; the default caps: flows.max 262144,
#     the streams' memory budget, every detector table bounded) - not checked in
#     sanitizer builds, whose shadow memory says nothing about ours;
#   - the flood gives a few aggregated alerts, never one per packet (at most
#     FLOOD_MAX_ALERTS of types the attack capture alone does not raise);
#   - every alert type the attack capture raises on its own is still raised after the
#     flood: the tables evicted, they did not stop working. (The attack's packet times
#     are moved after the flood's, as they would be on a wire.)
# Floods (N per FLOOD_SCALE: 1 in normal builds, 10 times fewer under sanitizers):
#   syn      1,000,000 SYNs from distinct spoofed sources      then tls-intercept.pcap
#   arp      1,000,000 forged ARP replies, random IPs and MACs then arp-mismatch.pcap
#   dns      1,000,000 random-subdomain answers (Kaminsky)      then dns-answers.pcap
#   tls        100,000 ClientHellos with a 16 KB junk extension then tls-intercept.pcap
#   overlap    100,000 overlapping, conflicting TCP segments    then tls-intercept.pcap
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
GEN=${top_builddir:-.}/tests/gen
FLOOD_RSS_KIB=${FLOOD_RSS_KIB:-262144}
FLOOD_MAX_ALERTS=${FLOOD_MAX_ALERTS:-64}
CAPS=$top_srcdir/tests/captures

require_onpath
command -v "$PYTHON3" >/dev/null 2>&1 || skip "needs python3"
for g in gen_synflood gen_arpflood gen_dnsflood gen_tlsflood; do
	[ -x "$GEN/$g" ] || die "$GEN/$g not built (make check builds it)"
done
make_tmpdir

scale=1
if nm "$ONPATH" 2>/dev/null | grep -q '__asan_init'; then
	scale=10
	note "sanitizer build: floods 10 times smaller, RSS not checked"
fi

# actions FILE: the sorted distinct event.action values of a jsonl file.
actions() {
	"$PYTHON3" -c 'import json, sys
print("\n".join(sorted({json.loads(l)["event"]["action"] for l in open(sys.argv[1]) if l.strip()})))' "$1"
}

# later IN OUT: a copy of the capture IN whose packets are moved to start on
# 2024-01-02, after every flood (the floods start on 2024-01-01 or the day before and
# last seconds): packet time runs forward across the two files of one run, as on a wire.
later() {
	"$PYTHON3" - "$1" "$2" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
e = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
     b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(bytes(d[:4]))
if e is None:
    sys.exit("%s: not a pcap file" % sys.argv[1])
off, shift = 24, None
while off + 16 <= len(d):
    sec, _, caplen, _ = struct.unpack_from(e + "IIII", d, off)
    if shift is None:
        shift = 1704153600 - sec
    struct.pack_into(e + "I", d, off, sec + shift)
    off += 16 + caplen
open(sys.argv[2], "wb").write(d)
EOF
}

# flood NAME ATTACK GEN-ARGS...: runs GEN-ARGS (writing the capture to stdout) into
# onpath -r - -r ATTACK and checks memory, alert count and the attack's alerts.
flood() {
	_name=$1
	later "$2" "$tmp/$_name.attack.pcap"
	_attack=$tmp/$_name.attack.pcap
	shift 2
	"$ONPATH" -r "$_attack" -q --no-stats -o "jsonl:$tmp/$_name.alone.jsonl" ||
		die "$_name: onpath on $_attack alone failed"
	actions "$tmp/$_name.alone.jsonl" >"$tmp/$_name.want"
	[ -s "$tmp/$_name.want" ] || die "$_name: $_attack alone raises no alert"
	t0=$(date +%s)
	"$@" | "$ONPATH" -r - -r "$_attack" -q --stats-json -o "jsonl:$tmp/$_name.jsonl" \
		2>"$tmp/$_name.stats" || { tail -n 5 "$tmp/$_name.stats" >&2; die "$_name: onpath failed"; }
	dt=$(($(date +%s) - t0))
	"$PYTHON3" - "$_name" "$tmp/$_name.stats" "$tmp/$_name.jsonl" "$tmp/$_name.want" \
		"$FLOOD_RSS_KIB" "$FLOOD_MAX_ALERTS" "$scale" "$dt" <<'EOF'
import json, sys
name, stats, out, want, rss_max, max_alerts, scale, dt = sys.argv[1:9]
st = None
for line in open(stats):
    if line.lstrip().startswith("{"):
        st = json.loads(line)
if st is None:
    sys.exit("%s: no --stats-json output" % name)
alerts = [json.loads(l) for l in open(out) if l.strip()]
want = set(open(want).read().split())
got = {a["event"]["action"] for a in alerts}
flood_alerts = [a for a in alerts if a["event"]["action"] not in want]
rss = st["peak_rss_kib"]
fl = st["flows"]
print("%s: %d packets in %s s, peak RSS %d KiB, flows created %d evicted %d, %d alerts "
      "(%d from the flood: %s)" % (name, st["packets"], dt, rss, fl["created"], fl["evicted"],
      len(alerts), len(flood_alerts),
      ", ".join(sorted({a["event"]["action"] for a in flood_alerts})) or "none"))
bad = []
if scale == "1" and rss > int(rss_max):
    bad.append("peak RSS %d KiB over %s KiB" % (rss, rss_max))
if len(flood_alerts) > int(max_alerts):
    bad.append("%d alerts from the flood (more than %s: not aggregated)" % (len(flood_alerts), max_alerts))
if not want <= got:
    bad.append("the attack after the flood was missed: %s" % ", ".join(sorted(want - got)))
if st["decode_errors"]:
    bad.append("%d decode errors" % st["decode_errors"])
if bad:
    sys.exit("FAIL: %s: %s" % (name, "; ".join(bad)))
EOF
}

flood syn "$CAPS/tls-intercept.pcap" "$GEN/gen_synflood" - $((1000000 / scale))
flood arp "$CAPS/arp-mismatch.pcap" "$GEN/gen_arpflood" flood - $((1000000 / scale))
flood dns "$CAPS/dns-answers.pcap" "$GEN/gen_dnsflood" - $((1000000 / scale))
flood tls "$CAPS/tls-intercept.pcap" "$GEN/gen_tlsflood" hello - $((100000 / scale))
flood overlap "$CAPS/tls-intercept.pcap" "$GEN/gen_tlsflood" overlap - $((100000 / scale))
echo "PASS: floods"
