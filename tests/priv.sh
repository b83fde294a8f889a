#!/bin/sh
# Least privilege (-u USER): onpath -i opens the capture, outputs, spool, state and
# signatures as root, then runs as `nobody` with no capabilities, no_new_privs and the
# seccomp allow-list (monitor/priv.c). Checked on the running sensor:
#  - /proc/PID/status: uid/gid nobody, every capability set empty (bounding too),
#    NoNewPrivs 1, Seccomp 2;
#  - after the drop it still does its job through every path the allow-list must
#    permit: forged ARP frames (tests/captures/arp-mismatch.pcap) become alerts in the
#    jsonl file and in a Redis stream (socket, connect, heartbeat), /metrics answers (a
#    thread per connection), SIGHUP reloads the signatures and reopens a rotated jsonl
#    file (created by nobody), SIGUSR1 writes stats, SIGTERM saves the state and exits 0;
#  - --no-seccomp leaves Seccomp 0; an unknown user or a uid-0 user is refused at start.
# Everything runs in two network namespaces joined by a veth pair (192.0.2.0/24, no
# route out); redis-server listens on the sensor namespace's own loopback. Needs root,
# namespaces and python3; skips otherwise. Redis and /metrics parts are skipped when
# redis-server is missing.
# shellcheck disable=SC2016
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
CAPTURE=$top_srcdir/tests/captures/arp-mismatch.pcap
NS_S=onpath-priv-$$-s
NS_T=onpath-priv-$$-t
IF_S=opp$$s
IF_T=opp$$t
USER_NAME=nobody

[ "$(id -u)" = 0 ] || skip "needs root and network namespaces (not root)"
command -v ip >/dev/null 2>&1 || skip "needs the ip command"
command -v "$PYTHON3" >/dev/null 2>&1 || skip "needs python3 to send frames"
id "$USER_NAME" >/dev/null 2>&1 || skip "no user $USER_NAME"
require_onpath
make_tmpdir
chmod 755 "$tmp"

ip netns add "$NS_S" 2>"$tmp/err" || skip "needs network namespaces ($(cat "$tmp/err"))"
at_exit "ip netns del '$NS_S' 2>/dev/null"
ip netns add "$NS_T" || die "ip netns add $NS_T failed"
at_exit "ip netns del '$NS_T' 2>/dev/null"
pids=
at_exit 'for p in $pids; do kill -KILL "$p" 2>/dev/null; done'
for ns in "$NS_S" "$NS_T"; do
	ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
	ip -n "$ns" link set lo up
done
ip -n "$NS_T" link add "$IF_T" type veth peer name "$IF_S" netns "$NS_S" 2>"$tmp/err" ||
	skip "needs veth ($(cat "$tmp/err"))"
ip -n "$NS_T" addr add 192.0.2.211/24 dev "$IF_T"
ip -n "$NS_S" addr add 192.0.2.212/24 dev "$IF_S"
ip -n "$NS_T" link set "$IF_T" up
ip -n "$NS_S" link set "$IF_S" up
ifindex=$(ip -n "$NS_S" -o link show dev "$IF_S" | cut -d: -f1)

sockets() {
	ip netns exec "$NS_S" cat /proc/net/packet | awk -v i="$ifindex" 'NR > 1 && $5 == i' | wc -l
}
field() { # field PID NAME: a /proc/PID/status value
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }' "/proc/$1/status"
}
free_port() {
	ip netns exec "$NS_S" "$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- refusals
rc=0
"$ONPATH" -r "$CAPTURE" -u onpath-no-such-user -o jsonl:/dev/null 2>"$tmp/nouser.err" || rc=$?
[ "$rc" = 1 ] && grep -q 'onpath-no-such-user' "$tmp/nouser.err" ||
	die "an unknown user must be refused with exit 1 (got $rc: $(cat "$tmp/nouser.err"))"
rc=0
"$ONPATH" -r "$CAPTURE" -u root -o jsonl:/dev/null 2>"$tmp/root.err" || rc=$?
[ "$rc" = 1 ] && grep -q 'uid 0' "$tmp/root.err" ||
	die "a uid-0 user must be refused (got $rc: $(cat "$tmp/root.err"))"
note "ok: unknown and uid-0 users refused"

# ---------------------------------------------------------------- redis in the namespace
redis_url=
if command -v redis-server >/dev/null 2>&1; then
	rport=$(free_port)
	mkdir -p "$tmp/redis"
	ip netns exec "$NS_S" redis-server --bind 127.0.0.1 --port "$rport" --dir "$tmp/redis" --save '' \
		--appendonly no --daemonize no --logfile "$tmp/redis/log" &
	pids="$pids $!"
	wait_until 10 ip netns exec "$NS_S" "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $rport), 1)" ||
		die "redis-server did not start: $(cat "$tmp/redis/log")"
	redis_url="redis://127.0.0.1:$rport/0?heartbeat=1s"
	mport=$(free_port)
else
	note "redis-server not installed: the Redis and /metrics parts are skipped"
fi
rcmd() {
	ip netns exec "$NS_S" env REDIS_PORT="$rport" "$PYTHON3" "$top_srcdir/tests/redis-check.py" cmd "$@"
}

# ---------------------------------------------------------------- the dropped sensor
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/log"
chown "$USER_NAME" "$tmp/state" "$tmp/log" # the operator's part: dirs the user writes in
set -- -i "$IF_S" -u "$USER_NAME" --buffer-size 4194304 -o "jsonl:$tmp/log/alerts.jsonl" \
	--state "$tmp/state/state.json" --signatures "$top_srcdir/signatures" -n privtest
if [ -n "$redis_url" ]; then
	set -- "$@" -o "$redis_url" --spool-dir "$tmp/spool" --metrics "127.0.0.1:$mport"
fi
base=$(sockets)
ip netns exec "$NS_S" "$ONPATH" "$@" 2>"$tmp/onpath.err" &
pid=$!
pids="$pids $pid"
wait_until 10 eval 'running $pid && [ "$(sockets)" -gt '"$base"' ]' ||
	{ cat "$tmp/onpath.err" >&2; die "onpath -i -u did not start capturing"; }
# The capture opens before the drop: wait for the drop itself.
uid=$(id -u "$USER_NAME")
wait_until 10 eval '[ "$(field "$pid" Uid)" = "$uid $uid $uid $uid" ]' ||
	{ cat "$tmp/onpath.err" >&2; die "onpath did not change to $USER_NAME"; }
sleep 0.3

[ "$(field "$pid" Uid)" = "$uid $uid $uid $uid" ] || die "Uid: $(field "$pid" Uid), expected $uid x4"
for k in CapInh CapPrm CapEff CapBnd CapAmb; do
	[ "$(field "$pid" "$k")" = 0000000000000000 ] || die "$k is $(field "$pid" "$k"), expected none"
done
[ "$(field "$pid" NoNewPrivs)" = 1 ] || die "NoNewPrivs is $(field "$pid" NoNewPrivs)"
if grep -q 'sanitizer build' "$tmp/onpath.err"; then
	note "sanitizer build: no seccomp filter (LeakSanitizer needs ptrace); Seccomp not checked"
else
	[ "$(field "$pid" Seccomp)" = 2 ] || die "Seccomp is $(field "$pid" Seccomp), expected 2 (filter)"
fi
note "ok: running as $USER_NAME, no capabilities, no_new_privs, seccomp $(field "$pid" Seccomp)"

# Its job, after the drop.
replay_frames "$NS_T" "$IF_T" "$CAPTURE" >/dev/null || die "sending the frames failed"
wait_until 10 eval '[ -s "$tmp/log/alerts.jsonl" ] && grep -q arp.ethernet_mismatch "$tmp/log/alerts.jsonl"' ||
	{ cat "$tmp/onpath.err" >&2; die "no arp.ethernet_mismatch alert after the drop"; }
if [ -n "$redis_url" ]; then
	wait_until 10 eval '[ "$(rcmd XLEN onpath:alerts)" -ge 1 ]' || die "no alert reached Redis after the drop"
	wait_until 10 eval 'rcmd HGET onpath:sensor:privtest state | grep -q running' ||
		die "no heartbeat from the dropped sensor: $(rcmd HGETALL onpath:sensor:privtest)"
	ip netns exec "$NS_S" "$PYTHON3" -c "
import sys, urllib.request
body = urllib.request.urlopen('http://127.0.0.1:$mport/metrics', timeout=5).read().decode()
sys.exit(0 if 'onpath_packets_total' in body else 'no onpath_packets_total in /metrics')" ||
		die "/metrics did not answer after the drop"
	note "ok: alerts in Redis, heartbeat, /metrics"
fi

# Rotation: the file is renamed, SIGHUP reopens (a new file, now the user's) and reloads.
mv "$tmp/log/alerts.jsonl" "$tmp/log/alerts.jsonl.1"
kill -HUP "$pid"
wait_until 10 eval 'grep -q "configuration and signatures reloaded" "$tmp/onpath.err"' ||
	{ cat "$tmp/onpath.err" >&2; die "SIGHUP did not reload after the drop"; }
kill -USR1 "$pid"
wait_until 10 eval 'grep -q "packets" "$tmp/onpath.err"' || die "SIGUSR1 wrote no stats"
[ -e "$tmp/log/alerts.jsonl" ] || die "SIGHUP did not reopen the rotated jsonl file"
[ "$(stat -c %U "$tmp/log/alerts.jsonl")" = "$USER_NAME" ] ||
	die "the reopened jsonl file belongs to $(stat -c %U "$tmp/log/alerts.jsonl")"
running "$pid" || die "onpath died after SIGHUP/SIGUSR1: $(tail -n 5 "$tmp/onpath.err")"
note "ok: SIGHUP reload and reopen, SIGUSR1 stats"

kill -TERM "$pid"
wait_until 15 eval '! running $pid' || die "onpath ignored SIGTERM"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/onpath.err" >&2; die "onpath exited with $rc (seccomp kill is 159)"; }
[ -s "$tmp/state/state.json" ] || die "no state saved at exit"
[ "$(stat -c %U "$tmp/state/state.json")" = "$USER_NAME" ] || die "state file not written by $USER_NAME"
note "ok: SIGTERM exit 0, state saved"

# --no-seccomp: everything else the same, no filter.
base=$(sockets)
ip netns exec "$NS_S" "$ONPATH" -i "$IF_S" -u "$USER_NAME" --no-seccomp -o jsonl:/dev/null \
	--no-stats 2>"$tmp/noseccomp.err" &
pid=$!
pids="$pids $pid"
wait_until 10 eval 'running $pid && [ "$(sockets)" -gt '"$base"' ]' || die "--no-seccomp run did not start"
# The capture opens before the drop: wait for the drop itself.
wait_until 10 eval '[ "$(field "$pid" Uid)" = "$uid $uid $uid $uid" ]' || die "--no-seccomp: no drop"
[ "$(field "$pid" Seccomp)" = 0 ] || die "--no-seccomp: Seccomp is $(field "$pid" Seccomp)"
[ "$(field "$pid" CapEff)" = 0000000000000000 ] || die "--no-seccomp: capabilities kept"
kill -TERM "$pid"
wait "$pid" || die "--no-seccomp run exited non-zero"
note "ok: --no-seccomp"
echo "PASS: privilege drop"
