#!/bin/sh
# The command line as a user meets it: help, version, errors that name the file and the
# position, stdin input, output files, signals (SIGUSR1 stats, SIGHUP reload, SIGTERM
# flush and exit 0), --check-config and --list-alerts.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${ONPATH:?}"
tmp=$(mktemp -d)
feeder=
cleanup() {
	[ -n "$feeder" ] && kill "$feeder" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fails=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
SIGS="--signatures $top_srcdir/signatures"

"$top_builddir/tests/gen/gen_frames" arp-mismatch "$tmp/mm.pcap" >/dev/null || { echo "FAIL: gen_frames"; exit 1; }

"$ONPATH" --help >"$tmp/o" 2>&1 && grep -q -- '--read FILE' "$tmp/o" && grep -q SIGHUP "$tmp/o" && pass "--help" || fail "--help"
"$ONPATH" --version | grep -Eq '^onpath [0-9]+\.[0-9]+' && pass "--version" || fail "--version"
"$ONPATH" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'no input' "$tmp/e" && pass "no input: exit 2 with a message" || fail "no input (rc=$rc)"
"$ONPATH" --bogus >/dev/null 2>&1; [ $? -eq 2 ] && pass "unknown option: exit 2" || fail "unknown option"
"$ONPATH" -q -r "$tmp/none.pcap" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] && grep -q "$tmp/none.pcap" "$tmp/e" && pass "missing file named, exit 1" || fail "missing file (rc=$rc)"

# Config errors name file and line.
printf 'flows:\n  max: 12\n' >"$tmp/c1.yaml"
"$ONPATH" -c "$tmp/c1.yaml" --check-config >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "c1.yaml:2:" "$tmp/e" && pass "out-of-range value: file:line" || { fail "out-of-range (rc=$rc)"; cat "$tmp/e"; }
printf 'flows:\n  max: 4096\n  maxx: 1\n' >"$tmp/c2.yaml"
"$ONPATH" -c "$tmp/c2.yaml" --check-config >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "c2.yaml:3:.*maxx" "$tmp/e" && pass "unknown key: file:line" || { fail "unknown key (rc=$rc)"; cat "$tmp/e"; }
printf 'flows: [\n' >"$tmp/c3.yaml"
"$ONPATH" -c "$tmp/c3.yaml" --check-config >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "c3.yaml:[0-9]*:" "$tmp/e" && pass "YAML syntax error: file:line" || { fail "syntax (rc=$rc)"; cat "$tmp/e"; }
"$ONPATH" -c "$top_srcdir/onpath.yaml.example" $SIGS --check-config >"$tmp/o" 2>&1 && pass "example config validates" || { fail "example config"; cat "$tmp/o"; }
mkdir "$tmp/sigs" && cp "$top_srcdir"/signatures/* "$tmp/sigs/" && printf 'zz:00:5e,40,X,Y\n' >>"$tmp/sigs/virtual-macs.csv"
"$ONPATH" --signatures "$tmp/sigs" --check-config >/dev/null 2>"$tmp/e"; rc=$?
line=$(wc -l <"$tmp/sigs/virtual-macs.csv")
[ $rc -eq 2 ] && grep -q "virtual-macs.csv:$line:" "$tmp/e" && pass "bad signature line: file:line" || { fail "bad signature (rc=$rc)"; cat "$tmp/e"; }

"$ONPATH" --list-alerts | grep -q '^arp.ethernet_mismatch ' && pass "--list-alerts" || fail "--list-alerts"

# Offline run to stdout and to a file; stdin input.
"$ONPATH" -q $SIGS -r "$tmp/mm.pcap" --no-stats >"$tmp/o1" 2>"$tmp/e" && [ "$(grep -c arp.ethernet_mismatch "$tmp/o1")" -ge 1 ] \
	&& pass "alerts on stdout by default" || fail "stdout output"
"$ONPATH" -q $SIGS -r - -o "jsonl:$tmp/o2.jsonl" --no-stats <"$tmp/mm.pcap" 2>"$tmp/e" && cmp -s "$tmp/o2.jsonl" "$tmp/o1" >/dev/null; \
	[ "$(grep -c . "$tmp/o2.jsonl")" -eq "$(grep -c . "$tmp/o1")" ] && pass "stdin input, file output" || fail "stdin/file output"
"$ONPATH" -q $SIGS -r "$tmp/mm.pcap" -o jsonl:/nonexistent-dir/x.jsonl 2>"$tmp/e" >/dev/null; rc=$?
[ $rc -eq 2 ] && grep -q nonexistent-dir "$tmp/e" && pass "unwritable output named" || fail "unwritable output (rc=$rc)"
"$ONPATH" -q $SIGS -r "$tmp/mm.pcap" -o jsonl:/dev/null --stats-json 2>"$tmp/e" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["packets"]>0 and "peak_rss_kib" in d and d["alerts"]["arp.ethernet_mismatch"]>=1' "$tmp/e" \
	&& pass "--stats-json" || { fail "--stats-json"; cat "$tmp/e"; }
"$ONPATH" -q $SIGS -r "$tmp/mm.pcap" -o jsonl:/dev/null 2>"$tmp/e" >/dev/null
grep -q 'packets' "$tmp/e" && grep -q 'arp.ethernet_mismatch' "$tmp/e" && pass "human stats" || fail "human stats"
"$ONPATH" $SIGS -r "$tmp/mm.pcap" -o jsonl:/dev/null 2>"$tmp/e" >/dev/null
grep -q "$(printf '\r')" "$tmp/e" && fail "progress line printed although stderr is not a terminal" || pass "no progress line off a terminal"

# Protocol records: off by default; --log LIST is checked; --log arp adds arp records
# and leaves the alerts as they were.
[ "$(grep -c '"kind":"event"' "$tmp/o1")" -eq 0 ] && pass "no records by default" || fail "records by default"
"$ONPATH" -q $SIGS -r "$tmp/mm.pcap" --log tls,bogus >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--log 'tls,bogus'" "$tmp/e" && pass "--log with an unknown name: exit 2" || fail "--log bogus (rc=$rc)"
"$ONPATH" -q $SIGS -r "$tmp/mm.pcap" --no-stats --log arp >"$tmp/o3" 2>"$tmp/e" &&
	[ "$(grep -c '"kind":"event","module":"onpath","dataset":"arp"' "$tmp/o3")" -ge 1 ] &&
	[ "$(grep -c '"kind":"alert"' "$tmp/o3")" -eq "$(grep -c '"kind":"alert"' "$tmp/o1")" ] &&
	pass "--log arp: records next to the same alerts" || fail "--log arp"

# A truncated capture: the record is named, the run goes on to the end.
sz=$(wc -c <"$tmp/mm.pcap")
head -c $((sz - 10)) "$tmp/mm.pcap" >"$tmp/trunc.pcap"
"$ONPATH" -q $SIGS -r "$tmp/trunc.pcap" -o jsonl:/dev/null 2>"$tmp/e" >/dev/null; rc=$?
[ $rc -eq 0 ] && grep -Eq 'trunc.pcap: record [0-9]+:' "$tmp/e" && pass "truncated record named" || { fail "truncated capture (rc=$rc)"; cat "$tmp/e"; }

# Signals on a run that reads a pipe which stays open: SIGUSR1, SIGHUP, SIGTERM.
# The feeder sends more records (the capture without its 24-byte file header) after
# each pause, so the signals arrive both while a read is blocked and between batches.
mkfifo "$tmp/fifo"
tail -c +25 "$tmp/mm.pcap" >"$tmp/more"
( cat "$tmp/mm.pcap"; sleep 1; cat "$tmp/more"; sleep 1; cat "$tmp/more"; sleep 20 ) >"$tmp/fifo" &
feeder=$!
printf 'sensor:\n  name: s1\n' >"$tmp/c4.yaml"
"$ONPATH" -q $SIGS -c "$tmp/c4.yaml" -r "$tmp/fifo" -o "jsonl:$tmp/sig.jsonl" 2>"$tmp/sige" >/dev/null &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q ethernet_mismatch "$tmp/sig.jsonl" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -USR1 $pid
i=0; while [ $i -lt 40 ] && ! grep -q 'packets' "$tmp/sige"; do sleep 0.1; i=$((i + 1)); done
grep -q 'packets' "$tmp/sige" && pass "SIGUSR1 prints stats" || fail "SIGUSR1"
kill -HUP $pid
i=0; while [ $i -lt 40 ] && ! grep -q 'reloaded' "$tmp/sige"; do sleep 0.1; i=$((i + 1)); done
grep -q 'reloaded' "$tmp/sige" && pass "SIGHUP reloads" || fail "SIGHUP"
kill -0 $pid 2>/dev/null && pass "still reading after SIGUSR1 and SIGHUP" || fail "exited after SIGUSR1/SIGHUP"
kill -TERM $pid
i=0; while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
wait $pid; rc=$?
[ $rc -eq 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM exit status $rc"
[ "$(grep -c arp.ethernet_mismatch "$tmp/sig.jsonl")" -ge 1 ] && grep -q '"name":"s1"' "$tmp/sig.jsonl" && pass "alerts flushed before exit" || fail "flush on SIGTERM"
kill "$feeder" 2>/dev/null; wait "$feeder" 2>/dev/null; feeder=

echo "$fails failures"
[ $fails -eq 0 ]
