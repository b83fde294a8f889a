#!/bin/sh
# tests/bench/peers.sh - `make bench-peers`: onpath beside the tools a security team
# already runs, on the same capture in the same run: the bare libpcap loop (the floor),
# onpath (all detectors, jsonl to a file), and whichever of these are installed:
# tcpdump with a BPF for what onpath reads (ARP, DNS, TLS) writing nothing, tshark -T
# fields (dissecting every packet), ndpiReader -q, Zeek (-r, default scripts) and
# Suricata (-r, default rules directory). Prints wall and CPU seconds per tool and each
# one's ratio to onpath, medians of ROUNDS runs (default 3). Peers that are missing are
# listed, not failed.
#
# Environment: ONPATH, ONPATH_BENCH_TRACE (a capture to use instead of the generated
# 200,000-packet gen_frames mixed slice), ROUNDS.
set -eu

builddir=$(pwd)
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
ONPATH=${ONPATH:-$builddir/onpath}
GEN_FRAMES=$builddir/tests/gen/gen_frames
ROUNDS=${ROUNDS:-3}
data=$builddir/bench-data
mkdir -p "$data"

die() {
	printf 'bench-peers: %s\n' "$*" >&2
	exit 1
}
[ -x "$ONPATH" ] || die "onpath not found at $ONPATH"
command -v python3 >/dev/null 2>&1 || die "needs python3 (timing)"

FLOOR=$data/pcap_floor
if [ ! -x "$FLOOR" ] || [ "$srcdir/tests/bench/pcap_floor.c" -nt "$FLOOR" ]; then
	# shellcheck disable=SC2046
	${CC:-cc} -O2 -I"$builddir" -o "$FLOOR" "$srcdir/tests/bench/pcap_floor.c" \
		$(pkg-config --cflags --libs libpcap 2>/dev/null || echo -lpcap) || die "cannot build pcap_floor"
fi
if [ -n "${ONPATH_BENCH_TRACE:-}" ]; then
	TRACE=$ONPATH_BENCH_TRACE
else
	[ -x "$GEN_FRAMES" ] || die "make tests/gen/gen_frames first"
	TRACE=$data/mixed-200000.pcap
	[ -s "$TRACE" ] || "$GEN_FRAMES" mixed "$TRACE" 200000 >/dev/null
fi

# timed CMD...: "wall_ns cpu_ns" of one run, output discarded; fails with CMD.
timed() {
	python3 -c 'import resource, subprocess, sys, time
t0 = time.monotonic_ns()
rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
t1 = time.monotonic_ns()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(t1 - t0, int((ru.ru_utime + ru.ru_stime) * 1e9))
sys.exit(rc)' "$@"
}

results=$data/peers.txt
: >"$results"
missing=
# run NAME CMD...: ROUNDS timed runs, the medians appended to $results.
run() {
	_name=$1
	shift
	: >"$data/peer.times"
	_i=0
	while [ "$_i" -lt "$ROUNDS" ]; do
		timed "$@" >>"$data/peer.times" || { echo "   $_name failed (exit $?): skipped"; return 0; }
		_i=$((_i + 1))
	done
	_w=$(cut -d' ' -f1 "$data/peer.times" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	_c=$(cut -d' ' -f2 "$data/peer.times" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	echo "$_name $_w $_c" >>"$results"
}
have() { command -v "$1" >/dev/null 2>&1 || { missing="$missing $1"; return 1; }; }

echo "== peers on $TRACE ($ROUNDS rounds each, load $(cut -d' ' -f1 /proc/loadavg))"
run pcap_floor "$FLOOR" "$TRACE"
run onpath "$ONPATH" -r "$TRACE" -q --no-stats -o "jsonl:$data/peers-onpath.jsonl"
if have tcpdump; then
	run "tcpdump(arp|53|443)" tcpdump -nn -r "$TRACE" -w /dev/null 'arp or port 53 or port 443'
fi
if have tshark; then
	run "tshark-T-fields" tshark -n -r "$TRACE" -T fields -e frame.number -e ip.src -e ip.dst \
		-e tls.handshake.extensions_server_name -e dns.qry.name
fi
if have ndpiReader; then
	run ndpiReader ndpiReader -q -i "$TRACE"
fi
if have zeek; then
	mkdir -p "$data/zeek"
	run zeek sh -c "cd '$data/zeek' && zeek -C -r '$TRACE'"
fi
if have suricata; then
	mkdir -p "$data/suricata"
	run suricata suricata -r "$TRACE" -l "$data/suricata" -k none
fi

onpath_w=$(awk '$1 == "onpath" {print $2}' "$results")
printf '%-22s %12s %12s %14s\n' tool "wall s" "cpu s" "time/onpath"
while read -r name w c; do
	printf '%-22s %12s %12s %14s\n' "$name" "$(awk -v v="$w" 'BEGIN {printf "%.3f", v/1e9}')" \
		"$(awk -v v="$c" 'BEGIN {printf "%.3f", v/1e9}')" \
		"$(awk -v v="$w" -v o="$onpath_w" 'BEGIN {printf "%.2fx", v/o}')"
done <"$results"
[ -z "$missing" ] || echo "not installed:$missing"
