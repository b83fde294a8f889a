#!/bin/sh
# onpath-dashboard's API end to end (issue #9): a real redis-server on 127.0.0.1 (free
# port, temporary directory), filled by real sensor runs (incident-mitm, hostile-dns,
# lab-arp-poison) and by hostile entries written directly; the dashboard started on a
# free loopback port with a token and a basic-auth password. tests/dashboard-api.py
# does the checks (authentication, paging, every filter against the jsonl of the same
# runs, detail and vendors, acknowledgements in Redis and over SSE, the live feed,
# export, timeline, sensors, inventories, static files, hostile strings, CSRF, body
# limits, start-up refusals, Redis going away and coming back). Every process it
# starts is written to $tmp/pids and stopped by PID at exit.
#
# Needs redis-server and python3; skips (77) without them.
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
command -v redis-server >/dev/null 2>&1 ||
	skip "redis-server is not installed (apt-get install redis-server)"
command -v "$PYTHON3" >/dev/null 2>&1 || skip "python3 is not installed"
require_onpath
DASHBOARD=${ONPATH_DASHBOARD:-${DASHBOARD:-$top_builddir/onpath-dashboard}}
[ -x "$DASHBOARD" ] || die "onpath-dashboard not found at $DASHBOARD (make onpath-dashboard)"
make_tmpdir
: >"$tmp/pids"
at_exit 'while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$tmp/pids"'

ONPATH=$ONPATH DASHBOARD=$DASHBOARD TMPDIR_TEST=$tmp top_srcdir=$top_srcdir \
	"$PYTHON3" "$top_srcdir/tests/dashboard-api.py"
