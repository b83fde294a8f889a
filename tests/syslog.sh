#!/bin/sh
# The syslog outputs end to end, against a collector this test starts (python3 on
# 127.0.0.1, free ports, a temporary unix socket):
#
#  1. syslog+udp:// and syslog+tcp:// (RFC 5424, octet counting on TCP) and syslog:PATH
#     (the local format): one message per alert, in order, the JSON alert as the
#     message, PRI from the facility and the alert's severity, MSGID = the alert type.
#  2. hostile strings (a DNS name with LF, CR, NUL, ESC, <script>, quotes, bytes that
#     are not UTF-8, tests/captures/hostile-dns.pcap): every message stays one line
#     and its JSON parses, on every transport.
#  3. the TCP collector goes away in the middle of a run (the capture is fed through
#     a FIFO) and comes back: what could not be sent was spooled and is delivered, in
#     order, with one message about the outage.
#
# Needs python3; skips (77) without it.
# shellcheck disable=SC2016
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || skip "python3 is not installed"
require_onpath
"$ONPATH" --help | grep -q -- --spool-dir ||
	die "$ONPATH has no --spool-dir: monitor/main.c lacks the outputs wiring (notes/main-redis.patch)"
make_tmpdir

COLLECT="$PYTHON3 $top_srcdir/tests/syslog-collector.py"
FLOOD="$PYTHON3 $top_srcdir/tests/captures/make-arp-flood.py"
HOSTILE=$top_srcdir/tests/captures/hostile-dns.pcap
[ -r "$HOSTILE" ] || die "missing $HOSTILE"

pids=
at_exit 'for p in $pids; do kill -KILL "$p" 2>/dev/null; done'

free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# collector DIR ARGS...: starts one, waits until it listens; PID in DIR/pid. It must
# not inherit a FIFO's write end (fd 3).
collector() {
	_d=$1
	shift
	mkdir -p "$_d"
	rm -f "$_d/ready"
	$COLLECT collect "$_d" "$@" 3>&- &
	echo $! >"$_d/pid"
	pids="$pids $!"
	wait_until 10 test -f "$_d/ready" || die "collector did not start"
}

stop_collector() {
	_pid=$(cat "$1/pid")
	kill -TERM "$_pid" 2>/dev/null || true
	wait_until 10 sh -c "! kill -0 $_pid 2>/dev/null" || kill -KILL "$_pid" 2>/dev/null || true
}

$FLOOD 500 "$tmp/small.pcap"
udp=$(free_port)
tcp=$(free_port)
sock=$tmp/c1/log

# ---------------------------------------------------------------- 1 + 2
for cap in "$tmp/small.pcap" "$HOSTILE"; do
	name=$(basename "$cap" .pcap)
	note "== 1/2. $name over UDP, TCP and a local socket"
	rm -rf "$tmp/c1"
	collector "$tmp/c1" "udp=$udp" "tcp=$tcp" "unix=$sock"
	"$ONPATH" -q --no-stats -n "sensor $name" -r "$cap" --spool-dir "$tmp/spool" \
		-o "syslog+udp://127.0.0.1:$udp?facility=local3" -o "syslog+tcp://127.0.0.1:$tcp?facility=local3" \
		-o "syslog:$sock?facility=local3" -o "jsonl:$tmp/$name.jsonl" 2>"$tmp/$name.err" ||
		{ cat "$tmp/$name.err" >&2; die "onpath failed on $name"; }
	n=$(wc -l <"$tmp/$name.jsonl")
	# UDP and the local socket are not acknowledged: give the collector a moment
	wait_until 10 sh -c "[ \$(cat '$tmp/c1/udp.msgs' 2>/dev/null | wc -l) -ge $n ] &&
		[ \$(cat '$tmp/c1/unix.msgs' 2>/dev/null | wc -l) -ge $n ] &&
		[ \$(cat '$tmp/c1/tcp.msgs' 2>/dev/null | wc -l) -ge $n ]" || true
	stop_collector "$tmp/c1"
	touch "$tmp/c1/udp.msgs" "$tmp/c1/tcp.msgs" "$tmp/c1/unix.msgs"
	$COLLECT check "$tmp/c1/udp.msgs" "$tmp/$name.jsonl" net 19 >&2 || die "$name: UDP"
	$COLLECT check "$tmp/c1/tcp.msgs" "$tmp/$name.jsonl" net 19 >&2 || die "$name: TCP"
	$COLLECT check "$tmp/c1/unix.msgs" "$tmp/$name.jsonl" local 19 >&2 || die "$name: local socket"
	[ -s "$tmp/$name.err" ] && { cat "$tmp/$name.err" >&2; die "$name: unexpected messages"; }
	note "ok: $name, $n alerts on every transport"
done
if [ "$(wc -l <"$tmp/hostile-dns.jsonl")" -eq 0 ]; then
	note "note: no alert from the hostile DNS capture (DNS not wired into the sensor yet);" \
		"the hostile-string check ran on nothing"
fi

# ---------------------------------------------------------------- 3. TCP outage
note "== 3. the TCP collector goes away in the middle of a run"
$FLOOD 3000 "$tmp/flood.pcap"
rm -rf "$tmp/c2" "$tmp/spool"
collector "$tmp/c2" "tcp=$tcp"
fifo=$tmp/feed.pcap
mkfifo "$fifo"
"$ONPATH" -q --no-stats -n outage -r "$fifo" --spool-dir "$tmp/spool" \
	-o "syslog+tcp://127.0.0.1:$tcp" -o "jsonl:$tmp/outage.jsonl" 2>"$tmp/outage.err" &
pid_onpath=$!
pids="$pids $pid_onpath"
exec 3>"$fifo"
part=$((1000 * 76))
head -c $((24 + part)) "$tmp/flood.pcap" >&3
# The whole first part delivered before the collector goes: a message still in its
# socket buffer when it exits is lost in a way no TCP sender can see (the kernel took
# it), which is not the outage this part tests. Delivered: as many messages as jsonl
# lines, and no more arriving for a poll (up to 20 s).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
last='' i=0
while :; do
	m=$(lines "$tmp/c2/tcp.msgs")
	if [ "$m" -ge 1000 ] && [ "$m" -eq "$(lines "$tmp/outage.jsonl")" ]; then
		[ "$m" != "$last" ] || break
		last=$m
	else
		last=
	fi
	i=$((i + 1))
	[ "$i" -lt 80 ] || die "first part not received ($m messages)"
	sleep 0.25
done
n_a=$m
stop_collector "$tmp/c2"
sleep 0.5
tail -c +$((24 + part + 1)) "$tmp/flood.pcap" | head -c "$part" >&3
wait_until 20 grep -q "spooling" "$tmp/outage.err" || { cat "$tmp/outage.err" >&2; die "no message about the collector going away"; }
sleep 1
collector "$tmp/c2" "tcp=$tcp"
tail -c +$((24 + 2 * part + 1)) "$tmp/flood.pcap" >&3
exec 3>&-
wait "$pid_onpath" || { cat "$tmp/outage.err" >&2; die "onpath failed in the outage run"; }
n=$(wc -l <"$tmp/outage.jsonl")
wait_until 10 sh -c "[ \$(wc -l <'$tmp/c2/tcp.msgs') -ge $n ]" || true
stop_collector "$tmp/c2"
cat "$tmp/outage.err" >&2
$COLLECT check "$tmp/c2/tcp.msgs" "$tmp/outage.jsonl" net 16 >&2 || die "outage: not every alert arrived once, in order"
[ "$(grep -c "spooling" "$tmp/outage.err")" -eq 1 ] || die "outage: expected one message about it"
note "ok: $n alerts, $n_a before the outage, all delivered once, in order"
exit 0
