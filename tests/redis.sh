#!/bin/sh
# The redis output end to end, against real redis-server instances this test starts
# on 127.0.0.1 (free ports, temporary directories, stopped by PID at exit):
#
#  1. alerts land in the stream and in the Logstash list exactly once, in order, with
#     the indexed fields; pub/sub subscribers get them; a consumer group reads them;
#     the sensor's heartbeat hash and the sensors set are there.
#  2. fault: Redis shut down in the middle of a run over thousands of alerts (the
#     capture is fed through a FIFO, so "the middle" is exact) and started again:
#     after the run the stream holds every alert of the jsonl output, once, in order.
#     A hung Redis (SIGSTOP): one message, every alert delivered in order; a batch
#     in flight at the timeout may be repeated (same id: consumers drop repeats).
#  3. a run that ends while Redis is down leaves the spool; the next run sends it.
#  4. refusals: a wrong password, an ACL user without permission, the stream key of
#     the wrong type, OOM (maxmemory reached, noeviction) each give one clear log line
#     and spooling, no crash and no busy loop (few reconnects while idle); once fixed,
#     the next run delivers the spool.
#  5. redis+unix:// with a database number; an ACL user that may write.
#  6. /metrics while running (Redis state, spool size, queue).
#  7. through a local TLS tunnel (stunnel4) to a TLS-only redis-server, when both
#     are available (Debian's hiredis 0.14 has no TLS of its own).
#  8. records=yes with --log-dns: the dns records (hostile names) land in onpath:dns,
#     not in the alert stream.
#
# Needs redis-server and python3; skips (77) without them.
# shellcheck disable=SC2016
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
command -v redis-server >/dev/null 2>&1 ||
	skip "redis-server is not installed (apt-get install redis-server)"
command -v "$PYTHON3" >/dev/null 2>&1 || skip "python3 is not installed"
require_onpath
"$ONPATH" --help | grep -q -- --spool-dir ||
	die "$ONPATH has no --spool-dir: monitor/main.c lacks the outputs wiring (notes/main-redis.patch)"
make_tmpdir

CHECK="$PYTHON3 $top_srcdir/tests/redis-check.py"
FLOOD="$PYTHON3 $top_srcdir/tests/captures/make-arp-flood.py"

# Processes we started, stopped by PID at exit if still running.
pids=
at_exit 'for p in $pids; do kill -KILL "$p" 2>/dev/null; done'

free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# redis_start DIR PORT [redis-server args...]: a server on 127.0.0.1:PORT with its
# files in DIR; its PID in DIR/pid. No snapshots unless asked (SHUTDOWN SAVE). It
# must not inherit the FIFO's write end (fd 3), or the sensor never sees the end.
redis_start() {
	_d=$1 _p=$2
	shift 2
	mkdir -p "$_d"
	redis-server --bind 127.0.0.1 --port "$_p" --dir "$_d" --save '' --appendonly no \
		--daemonize no --logfile "$_d/redis.log" "$@" 3>&- &
	echo $! >"$_d/pid"
	pids="$pids $!"
	wait_until 10 "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $_p), 1)" 2>/dev/null ||
		{ cat "$_d/redis.log" >&2; die "redis-server on port $_p did not start"; }
}

# redis_stop DIR [PORT]: SHUTDOWN SAVE (the data survives a restart), then reap the
# server (our child: a zombie would still answer kill -0).
redis_stop() {
	_pid=$(cat "$1/pid")
	REDIS_PORT=${2:-$port} $CHECK cmd SHUTDOWN SAVE >/dev/null 2>&1 || true
	if ! wait_until 60 "$PYTHON3" -c "
import socket, sys
try:
    socket.create_connection(('127.0.0.1', ${2:-$port}), 1)
except OSError:
    sys.exit(0)
sys.exit(1)"; then
		cat "$1/redis.log" >&2
		die "redis-server $_pid did not shut down"
	fi
	wait "$_pid" 2>/dev/null || true
}

rc() {
	$CHECK cmd "$@"
}

# run_sensor NAME PCAP SPEC [onpath args...]: one offline run, jsonl next to it.
run_sensor() {
	_n=$1 _pcap=$2 _spec=$3
	shift 3
	"$ONPATH" -q --no-stats -n "$_n" -r "$_pcap" --spool-dir "$tmp/spool" -o "$_spec" \
		-o "jsonl:$tmp/$_n.jsonl" "$@" 2>"$tmp/$_n.err" ||
		{ cat "$tmp/$_n.err" >&2; die "onpath run $_n failed"; }
}

# settled JSONL: waits until the sensor is idle: the jsonl output stops growing and
# the stream holds as many entries.
settled() {
	_n=-1
	while [ "$_n" -ne "$(nalerts "$1")" ]; do
		_n=$(nalerts "$1")
		$CHECK wait-xlen onpath:alerts "$_n" 20 || die "$1: $_n alerts did not reach Redis"
		sleep 0.5
	done
}

# nalerts JSONL: the lines that go to the alert stream (incidents have their own).
nalerts() {
	grep -vc '"kind":"incident"' "$1" || true
}

count_lines() {
	if [ -f "$1" ]; then grep -c "$2" "$1" || true; else echo 0; fi
}

# ---------------------------------------------------------------- captures
$FLOOD 6000 "$tmp/flood.pcap"
$FLOOD 0 "$tmp/empty.pcap"
$FLOOD 300 "$tmp/small.pcap"

port=$(free_port)
REDIS_PORT=$port
export REDIS_PORT
redis_start "$tmp/r1" "$port"

# ---------------------------------------------------------------- 1. exactly once
note "== 1. stream, list, pub/sub, consumer group, heartbeat"
sub_out=$tmp/sub.out
"$PYTHON3" - "$port" "$sub_out" <<'EOF' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$12\r\nonpath:live1\r\n")
f = s.makefile("rb")
out = open(sys.argv[2], "wb", buffering=0)
while True:
    line = f.readline()
    if not line:
        break
    out.write(line)
EOF
pids="$pids $!"
wait_until 10 sh -c "grep -q onpath:live1 '$sub_out' 2>/dev/null" || die "subscriber did not start"
run_sensor s1 "$tmp/small.pcap" "redis://127.0.0.1:$port/0?list=onpath:logstash&channel=onpath:live1"
n1=$(nalerts "$tmp/s1.jsonl")
[ "$n1" -ge 300 ] || die "expected at least 300 alerts from the small capture, got $n1"
$CHECK stream "$tmp/s1.jsonl" >&2 || die "stream check failed"
ninc=$(grep -c '"kind":"incident"' "$tmp/s1.jsonl" || true)
[ "$ninc" -gt 0 ] || die "the small capture gave no incident updates"
$CHECK stream "$tmp/s1.jsonl" onpath:incidents >&2 || die "incident stream check failed"
base=$(rc GET onpath:baseline:s1)
echo "$base" | grep -q '\\"arp\\":{\\"bindings\\":\[{' || die "no ARP baseline in onpath:baseline:s1: $base"
$CHECK list "$tmp/s1.jsonl" onpath:logstash >&2 || die "list check failed"
$CHECK group onpath:alerts "$n1" >&2 || die "consumer group check failed"
wait_until 10 sh -c "[ \$(grep -c '^message' '$sub_out') -ge $n1 ]" ||
	die "pub/sub subscriber got $(grep -c '^message' "$sub_out") of $n1 messages"
[ "$(rc TYPE onpath:sensor:s1)" = '"hash"' ] || die "no heartbeat hash onpath:sensor:s1"
ttl=$(rc TTL onpath:sensor:s1)
[ "$ttl" -gt 0 ] && [ "$ttl" -le 30 ] || die "heartbeat TTL is $ttl, expected 1..30"
rc HGET onpath:sensor:s1 alerts_sent | grep -q "\"$((n1 + ninc))\"" || die "heartbeat alerts_sent (alerts and incidents) is not $((n1 + ninc)): $(rc HGETALL onpath:sensor:s1)"
rc ZSCORE onpath:sensors s1 | grep -q '[0-9]' || die "s1 missing from onpath:sensors"
[ "$(count_lines "$tmp/s1.err" "output 'redis")" -le 1 ] || { cat "$tmp/s1.err" >&2; die "unexpected messages in a clean run"; }
note "ok: $n1 alerts exactly once in stream and list, $n1 published"
rc DEL onpath:alerts onpath:logstash >/dev/null

# ---------------------------------------------------------------- 2. fault
note "== 2. Redis shut down in the middle of a run, started again"
rm -rf "$tmp/spool"
fifo=$tmp/feed.pcap
mkfifo "$fifo"
"$ONPATH" -q --no-stats -n fault -r "$fifo" --spool-dir "$tmp/spool" \
	-o "redis://127.0.0.1:$port/0" -o "jsonl:$tmp/fault.jsonl" 2>"$tmp/fault.err" &
pid_onpath=$!
pids="$pids $pid_onpath"
exec 3>"$fifo"
# pcap header (24 bytes) + 6000 records of 76 bytes, fed in three parts
part=$((2000 * 76))
head -c $((24 + part)) "$tmp/flood.pcap" >&3
wait_until 20 sh -c "[ -s '$tmp/fault.jsonl' ] && [ \$(wc -l <'$tmp/fault.jsonl') -ge 2000 ]" ||
	die "first part: $(wc -l <"$tmp/fault.jsonl") alerts in the jsonl"
# the sensor then waits for the FIFO: once the jsonl stops growing and Redis has as
# many, nothing is in flight when Redis goes
settled "$tmp/fault.jsonl"
n_a=$(nalerts "$tmp/fault.jsonl")
redis_stop "$tmp/r1"
tail -c +$((24 + part + 1)) "$tmp/flood.pcap" | head -c "$part" >&3
wait_until 20 grep -q "Redis is unavailable" "$tmp/fault.err" || { cat "$tmp/fault.err" >&2; die "no message about Redis going away"; }
wait_until 20 sh -c "[ \$(wc -l <'$tmp/fault.jsonl') -ge $((n_a + 2000)) ]" || die "second part not processed"
sleep 1
ls "$tmp"/spool/fault.redis-*.alerts.*.spool >/dev/null 2>&1 || die "nothing spooled while Redis was down"
redis_start "$tmp/r1" "$port"
# At least the first part: the sensor may already have reconnected and replayed some of
# its spool by now (its backoff is short); the complete check, every id in order,
# follows at the end of the run.
[ "$(rc XLEN onpath:alerts)" -ge "$n_a" ] || die "restarted Redis lost the first part"
tail -c +$((24 + 2 * part + 1)) "$tmp/flood.pcap" >&3
exec 3>&-
wait "$pid_onpath" || { cat "$tmp/fault.err" >&2; die "onpath failed in the fault run"; }
n2=$(wc -l <"$tmp/fault.jsonl")
[ "$n2" -ge 6000 ] || die "fault run: expected thousands of alerts, got $n2"
$CHECK stream "$tmp/fault.jsonl" >&2 || { cat "$tmp/fault.err" >&2; die "fault: the stream does not match the jsonl"; }
[ "$(count_lines "$tmp/fault.err" "Redis is unavailable")" -eq 1 ] || { cat "$tmp/fault.err" >&2; die "expected one message about the outage"; }
grep -q "takes writes again" "$tmp/fault.err" || die "no message about Redis coming back"
note "ok: $n2 alerts, $n_a before the outage, all in the stream once, in order"
cat "$tmp/fault.err" >&2
rc DEL onpath:alerts >/dev/null

# ---------------------------------------------------------------- 2b. hung
note "== 2b. Redis hangs (SIGSTOP) in the middle of a run, then wakes up"
rm -rf "$tmp/spool"
rm -f "$fifo"
mkfifo "$fifo"
"$ONPATH" -q --no-stats -n hung -r "$fifo" --spool-dir "$tmp/spool" \
	-o "redis://127.0.0.1:$port/0?command_timeout=1s" -o "jsonl:$tmp/hung.jsonl" 2>"$tmp/hung.err" &
pid_onpath=$!
pids="$pids $pid_onpath"
exec 3>"$fifo"
head -c $((24 + part)) "$tmp/flood.pcap" >&3
wait_until 20 sh -c "[ -s '$tmp/hung.jsonl' ] && [ \$(wc -l <'$tmp/hung.jsonl') -ge 2000 ]" ||
	die "hung: first part not processed"
settled "$tmp/hung.jsonl"
rpid=$(cat "$tmp/r1/pid")
kill -STOP "$rpid"
tail -c +$((24 + part + 1)) "$tmp/flood.pcap" | head -c "$part" >&3
wait_until 20 grep -q "does not answer" "$tmp/hung.err" || { kill -CONT "$rpid"; cat "$tmp/hung.err" >&2; die "no message about Redis hanging"; }
sleep 1
kill -CONT "$rpid"
tail -c +$((24 + 2 * part + 1)) "$tmp/flood.pcap" >&3
exec 3>&-
wait "$pid_onpath" || { cat "$tmp/hung.err" >&2; die "onpath failed in the hung run"; }
cat "$tmp/hung.err" >&2
$CHECK stream-at-least "$tmp/hung.jsonl" >&2 || die "hung: alerts missing or out of order"
[ "$(count_lines "$tmp/hung.err" "does not answer")" -eq 1 ] || die "hung: expected one message about it"
note "ok: a hung Redis costs repeats at most, never an alert"
rc DEL onpath:alerts >/dev/null

# ---------------------------------------------------------------- 3. next run
note "== 3. the next run sends what an earlier run spooled"
rm -rf "$tmp/spool"
redis_stop "$tmp/r1"
run_sensor later "$tmp/small.pcap" "redis://127.0.0.1:$port/0"
grep -q "left in the spool" "$tmp/later.err" || { cat "$tmp/later.err" >&2; die "no message about the spool left behind"; }
redis_start "$tmp/r1" "$port"
rc DEL onpath:alerts >/dev/null
cp "$tmp/later.jsonl" "$tmp/later-first.jsonl"
run_sensor later "$tmp/empty.pcap" "redis://127.0.0.1:$port/0"
grep -q "from an earlier run" "$tmp/later.err" || { cat "$tmp/later.err" >&2; die "the spool of the earlier run was not announced"; }
$CHECK stream "$tmp/later-first.jsonl" >&2 || die "the next run did not deliver the spool"
ls "$tmp"/spool/later.redis-*.spool >/dev/null 2>&1 && die "replayed spool segments were not removed"
note "ok: spool of a run without Redis delivered by the next run"
rc DEL onpath:alerts >/dev/null

# ---------------------------------------------------------------- 4. refusals
# refusal NAME SPEC PATTERN FIX: a run the server refuses, watched while idle for 3 s
# (the FIFO held open), then FIX and a run that must deliver the spool. rc talks to
# the server with $pre_pass before the fix and $post_pass after it.
pre_pass= post_pass=
rc_pre() {
	REDIS_PASS=$pre_pass $CHECK cmd "$@"
}
rc_post() {
	REDIS_PASS=$post_pass $CHECK cmd "$@"
}
conns() {
	rc_pre INFO stats | tr ',' '\n' | sed -n 's/.*total_connections_received:\([0-9]*\).*/\1/p'
}
refusal() {
	_name=$1 _spec=$2 _pat=$3 _fix=$4
	note "== 4. refusal: $_name"
	rm -rf "$tmp/spool"
	_before=$(conns)
	rm -f "$fifo"
	mkfifo "$fifo"
	"$ONPATH" -q --no-stats -n "$_name" -r "$fifo" --spool-dir "$tmp/spool" -o "$_spec" \
		-o "jsonl:$tmp/$_name.jsonl" 2>"$tmp/$_name.err" &
	_pid=$!
	pids="$pids $_pid"
	exec 3>"$fifo"
	cat "$tmp/small.pcap" >&3
	sleep 3
	_after=$(conns)
	_cpu=$(awk '{print $14 + $15}' "/proc/$_pid/stat")
	exec 3>&-
	wait "$_pid" || { cat "$tmp/$_name.err" >&2; die "$_name: onpath failed"; }
	cat "$tmp/$_name.err" >&2
	[ "$(count_lines "$tmp/$_name.err" "$_pat")" -eq 1 ] ||
		die "$_name: expected one line matching '$_pat'"
	[ "$(count_lines "$tmp/$_name.err" "output 'redis")" -le 3 ] || die "$_name: too many messages"
	grep -q "left in the spool" "$tmp/$_name.err" || die "$_name: not spooled"
	[ $((_after - _before)) -le 12 ] || die "$_name: $((_after - _before)) connections in 3 s: no backoff"
	[ "$_cpu" -le 100 ] || die "$_name: $_cpu ticks of CPU while idle: busy loop"
	note "   $((_after - _before)) connections and $_cpu CPU ticks in 3 s idle"
	$_fix
	cp "$tmp/$_name.jsonl" "$tmp/$_name-first.jsonl"
	run_sensor "$_name" "$tmp/empty.pcap" "$_spec"
	REDIS_PASS=$post_pass $CHECK stream "$tmp/$_name-first.jsonl" >&2 ||
		{ cat "$tmp/$_name.err" >&2; die "$_name: spool not delivered after the fix"; }
	rc_post DEL onpath:alerts >/dev/null
	note "ok: $_name"
}

# a wrong password; the fix makes it the right one
rc CONFIG SET requirepass right-pw >/dev/null
fix_password() {
	rc_pre CONFIG SET requirepass wrong-pw >/dev/null
}
pre_pass=right-pw post_pass=wrong-pw
refusal auth "redis://:wrong-pw@127.0.0.1:$port/0" "refused authentication" fix_password
rc_post CONFIG SET requirepass "" >/dev/null
pre_pass= post_pass=

rc ACL SETUSER reader on '>reader-pw' '~other:*' '+@all' >/dev/null
fix_acl() {
	rc ACL SETUSER reader '~*' >/dev/null
}
refusal acl "redis://reader:reader-pw@127.0.0.1:$port/0" "NOPERM" fix_acl

rc SET onpath:alerts not-a-stream >/dev/null
fix_type() {
	rc DEL onpath:alerts >/dev/null
}
refusal wrongtype "redis://127.0.0.1:$port/0" "WRONGTYPE" fix_type

rc CONFIG SET maxmemory-policy noeviction >/dev/null
rc CONFIG SET maxmemory 1 >/dev/null
fix_oom() {
	rc CONFIG SET maxmemory 0 >/dev/null
}
refusal oom "redis://127.0.0.1:$port/0" "OOM" fix_oom

# ---------------------------------------------------------------- 5. unix socket
note "== 5. redis+unix:// with a database, ACL user"
sock=$tmp/ru/redis.sock
uport=$(free_port)
redis_start "$tmp/ru" "$uport" --unixsocket "$sock" --unixsocketperm 700 \
	--user writer on '>writer-pw' '~onpath:*' '&*' '+@all'
run_sensor unix "$tmp/small.pcap" "redis+unix://writer:writer-pw@$sock?db=3"
REDIS_UNIX=$sock REDIS_USER=writer REDIS_PASS=writer-pw REDIS_DB=3 $CHECK stream "$tmp/unix.jsonl" >&2 ||
	die "unix socket: stream check failed"
grep -q "writer-pw" "$tmp/unix.err" && die "the password appears in a message"
note "ok: unix socket, db 3, ACL user"

# ---------------------------------------------------------------- 6. metrics
note "== 6. /metrics"
mport=$(free_port)
rm -f "$fifo"
mkfifo "$fifo"
"$ONPATH" -q --no-stats -n metrics -r "$fifo" --spool-dir "$tmp/spool" --metrics "127.0.0.1:$mport" \
	-o "redis://127.0.0.1:$port/0" 2>"$tmp/metrics.err" &
pid_m=$!
pids="$pids $pid_m"
exec 3>"$fifo"
# one dispatch round (CAP_BATCH = 4096 packets) ends and publishes the counters;
# the sensor then waits on the FIFO while we scrape
head -c $((24 + 4096 * 76)) "$tmp/flood.pcap" >&3
sleep 1.5
"$PYTHON3" - "$mport" "$port" >"$tmp/metrics.txt" <<'EOF' || { cat "$tmp/metrics.err" >&2; die "/metrics not served"; }
import sys, urllib.request, urllib.error
base = "http://127.0.0.1:%s" % sys.argv[1]
try:
    urllib.request.urlopen(base + "/nope")
    sys.exit("expected 404 for /nope")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
r = urllib.request.urlopen(base + "/metrics")
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
sys.stdout.write(r.read().decode())
EOF
exec 3>&-
wait "$pid_m" || die "metrics run failed"
for m in "onpath_output_up{output=\"redis://127.0.0.1:$port/0\"} 1" \
	"onpath_output_state{output=\"redis://127.0.0.1:$port/0\",state=\"up\"} 1" \
	"onpath_spool_bytes{output=\"redis://127.0.0.1:$port/0\"} 0" \
	'onpath_packets_total 4096' 'onpath_alerts_total{action="arp.ethernet_mismatch"}' \
	'onpath_output_queue_depth 0'; do
	grep -qF "$m" "$tmp/metrics.txt" || { cat "$tmp/metrics.txt" >&2; die "/metrics lacks: $m"; }
done
note "ok: /metrics"
rc DEL onpath:alerts >/dev/null

# ---------------------------------------------------------------- 7. TLS tunnel
note "== 7. through stunnel to a TLS-only Redis"
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
if [ -z "$STUNNEL" ] || ! command -v openssl >/dev/null 2>&1; then
	note "skipped: stunnel4 or openssl not installed (apt-get install stunnel4)"
else
	tdir=$tmp/tls
	mkdir -p "$tdir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$tdir/key.pem" -out "$tdir/cert.pem" 2>/dev/null
	tport=$(free_port)
	lport=$(free_port)
	redis-server --bind 127.0.0.1 --port 0 --tls-port "$tport" --tls-cert-file "$tdir/cert.pem" \
		--tls-key-file "$tdir/key.pem" --tls-ca-cert-file "$tdir/cert.pem" --tls-auth-clients no \
		--save '' --appendonly no --dir "$tdir" --logfile "$tdir/redis.log" &
	pids="$pids $!"
	if ! wait_until 10 "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $tport), 1)" 2>/dev/null; then
		note "skipped: this redis-server does not serve TLS ($(tail -1 "$tdir/redis.log"))"
	else
		cat >"$tdir/stunnel.conf" <<EOF
foreground = yes
pid =
[redis]
client = yes
accept = 127.0.0.1:$lport
connect = 127.0.0.1:$tport
verifyChain = yes
CAfile = $tdir/cert.pem
checkIP = 127.0.0.1
EOF
		"$STUNNEL" "$tdir/stunnel.conf" >"$tdir/stunnel.log" 2>&1 &
		pids="$pids $!"
		wait_until 10 "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $lport), 1)" 2>/dev/null ||
			{ cat "$tdir/stunnel.log" >&2; die "stunnel did not start"; }
		run_sensor tls "$tmp/small.pcap" "redis://127.0.0.1:$lport/0"
		"$PYTHON3" - "$tport" "$tdir/cert.pem" "$tmp/tls.jsonl" <<'EOF' || die "TLS: stream check failed"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="127.0.0.1")
s.sendall(b"*2\r\n$4\r\nXLEN\r\n$13\r\nonpath:alerts\r\n")
n = int(s.recv(100)[1:-2])
want = sum(1 for l in open(sys.argv[3]) if "\"kind\":\"incident\"" not in l)
sys.exit(0 if n == want else "TLS Redis holds %d, jsonl %d" % (n, want))
EOF
		note "ok: through stunnel to a TLS-only Redis"
	fi
fi

# ---------------------------------------------------------------- 8. records
note "== 8. records=yes: dns records in onpath:dns"
rc DEL onpath:alerts onpath:dns >/dev/null
run_sensor rec "$top_srcdir/tests/captures/hostile-dns.pcap" "redis://127.0.0.1:$port/0?records=yes" --log-dns
nrec=$(grep -c '"kind":"event"' "$tmp/rec.jsonl" || true)
nal=$(grep -c '"kind":"alert"' "$tmp/rec.jsonl" || true)
[ "$nrec" -gt 0 ] || die "--log-dns wrote no dns record"
$CHECK wait-xlen onpath:dns "$nrec" 20 >&2 || die "records did not reach onpath:dns"
$CHECK wait-xlen onpath:alerts "$nal" 20 >&2 || die "alerts did not reach onpath:alerts"
[ "$(rc XLEN onpath:dns)" = "$nrec" ] || die "onpath:dns holds $(rc XLEN onpath:dns) entries, jsonl $nrec records"
[ "$(rc XLEN onpath:alerts)" = "$nal" ] || die "onpath:alerts holds $(rc XLEN onpath:alerts), jsonl $nal alerts (records leaked into it?)"
rc XRANGE onpath:dns - + | grep -q 'type.*dns' || die "onpath:dns entries lack type dns: $(rc XRANGE onpath:dns - +)"
note "ok: $nrec dns records in onpath:dns, $nal alerts in onpath:alerts"

# ---------------------------------------------------------------- 9. shared baselines
# Sensor "sa" learns 192.0.2.77 at 02:00:00:00:07:77 and publishes its baselines;
# sensor "sb" (sensor.shared_baselines) then sees 192.0.2.77 answered from
# 02:00:00:00:06:66: judged against what sa saw, that is a change. A sensor without
# sharing ("sc") sees a new station: no alert.
note "== 9. shared baselines"
"$PYTHON3" - "$tmp/share-a.pcap" "$tmp/share-b.pcap" <<'EOF'
import struct, sys
def arp_reply(mac, ip, t):
    m = bytes.fromhex(mac.replace(":", ""))
    ipb = bytes(int(x) for x in ip.split("."))
    tgt_mac, tgt_ip = bytes.fromhex("020000000001"), bytes([192, 0, 2, 1])
    eth = tgt_mac + m + b"\x08\x06"
    arp = struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + m + ipb + tgt_mac + tgt_ip
    frame = (eth + arp).ljust(60, b"\0")
    return struct.pack("<IIII", t, 0, len(frame), len(frame)) + frame
hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
with open(sys.argv[1], "wb") as f:
    f.write(hdr + b"".join(arp_reply("02:00:00:00:07:77", "192.0.2.77", 1704067200 + i) for i in range(3)))
with open(sys.argv[2], "wb") as f:
    f.write(hdr + b"".join(arp_reply("02:00:00:00:06:66", "192.0.2.77", 1704153600 + i) for i in range(3)))
EOF
printf 'sensor:\n  shared_baselines: true\n' >"$tmp/share.yaml"
run_sensor sa "$tmp/share-a.pcap" "redis://127.0.0.1:$port/0?heartbeat=1s"
rc GET onpath:baseline:sa | grep -q '192.0.2.77' || die "sensor sa published no baseline with 192.0.2.77"
run_sensor sb "$tmp/share-b.pcap" "redis://127.0.0.1:$port/0" -c "$tmp/share.yaml"
grep -q 'started from the shared baselines of' "$tmp/sb.err" || die "sb did not load the shared baselines: $(cat "$tmp/sb.err")"
grep '"arp.ip_mac_changed"' "$tmp/sb.jsonl" | grep -q '"old_mac":"02:00:00:00:07:77"' ||
	die "sb did not judge 192.0.2.77 against sa's baseline: $(cat "$tmp/sb.jsonl")"
run_sensor sc "$tmp/share-b.pcap" "redis://127.0.0.1:$port/0"
! grep -q '"arp.ip_mac_changed"' "$tmp/sc.jsonl" || die "sc, without sharing, reported a change it cannot know"
note "ok: a change seen by one sensor judged against another's baseline"

redis_stop "$tmp/r1"
redis_stop "$tmp/ru" "$uport"
exit 0
