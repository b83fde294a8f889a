#!/bin/sh
# tests/bench/dashboard-bench.sh - onpath-dashboard's filtered page with 100,000 alerts
# in the stream (issue #9), called by tests/bench/bench.sh (`make bench`); also runs
# alone from the build directory. tests/bench/dashboard-bench.py does the work: a
# redis-server on a free loopback port (temporary directory), 100,000 varied alerts
# made from the sensor's own alerts on the bundled captures, onpath-dashboard, and
# timed filtered pages. Prints p50/p99 ms; target p99 < 50 ms; with BENCH_STRICT=1
# exits 1 when missed. Exits 77 without redis-server or python3.
set -eu

builddir=$(pwd)
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
ONPATH=${ONPATH:-$builddir/onpath}
DASHBOARD=${DASHBOARD:-$builddir/onpath-dashboard}
command -v redis-server >/dev/null 2>&1 || { echo "dashboard bench: skipped (no redis-server)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "dashboard bench: skipped (no python3)"; exit 77; }
[ -x "$ONPATH" ] || { echo "dashboard bench: $ONPATH not built" >&2; exit 2; }
[ -x "$DASHBOARD" ] || { echo "dashboard bench: $DASHBOARD not built (make onpath-dashboard)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/onpath-dashbench.XXXXXX")
: >"$tmp/pids"
# every process the bench started, stopped by PID; then the directory goes
cleanup() {
	while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$tmp/pids"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== dashboard: filtered page with ${BENCH_ALERTS:-100000} alerts in the stream"
ONPATH=$ONPATH DASHBOARD=$DASHBOARD TMPDIR_TEST=$tmp top_srcdir=$srcdir \
	python3 "$srcdir/tests/bench/dashboard-bench.py"
