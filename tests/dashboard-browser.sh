#!/bin/sh
# The dashboard page in a real browser (headless Chromium driven by playwright-core,
# tests/dashboard-browser.mjs): a redis-server and onpath-dashboard on free loopback
# ports, the page signed in with a token, then the sensor replays
# tests/captures/incident-mitm.pcap into Redis and the page must show the alerts live,
# the detail (old/new MAC, certificate chain, DNS answers), filters, acknowledgement
# (also seen live by a second analyst), export, incidents and their acknowledgement,
# sensors, inventory, a hostile alert kept as text, and 100,000 alerts without slowing
# down.
#
# Static checks first: app.js builds the DOM from text only (no innerHTML except = '',
# no insertAdjacentHTML/outerHTML/document.write/eval/new Function), index.html has
# no inline script or handler (the server's CSP forbids them).
#
# Needs chromium (/usr/bin/chromium or $CHROMIUM), node and npm (playwright-core is
# installed with `npm ci` from dashboards/package-lock.json into the build directory,
# never the source tree), redis-server/redis-cli and onpath-dashboard. Skips (77)
# without them unless ONPATH_REQUIRE_BROWSER is set (CI sets it: then it fails).
# Screenshots: $top_builddir/dashboard-artifacts/*.png. ONPATH_BROWSER_BULK sets the
# alert count of the speed check (default 100000; 0 skips it), ONPATH_BROWSER_MAX_BLOCK_MS
# the longest the page may freeze meanwhile (default 1500).
#
# By hand, from a build directory:
#   top_srcdir=/path/to/src sh /path/to/src/tests/dashboard-browser.sh
# shellcheck disable=SC2016
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PYTHON3=${PYTHON3:-python3}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
DASHBOARD=${ONPATH_DASHBOARD:-$top_builddir/onpath-dashboard}
web=$top_srcdir/dashboards/web
artifacts=$top_builddir/dashboard-artifacts
nodedir=$top_builddir/dashboard-node

# ---------------------------------------------------------------- static checks
# Data must never be parsed as HTML: the only innerHTML allowed is clearing (= '').
bad=$(grep -n 'innerHTML' "$web/app.js" | grep -v "innerHTML[[:space:]]*=[[:space:]]*''[[:space:]]*;" || true)
[ -z "$bad" ] || die "app.js uses innerHTML with something else than '': $bad"
bad=$(grep -nE 'insertAdjacentHTML|outerHTML|document\.write|\beval[[:space:]]*\(|new[[:space:]]+Function|createContextualFragment|DOMParser|srcdoc|setTimeout[[:space:]]*\([[:space:]]*['\''"`]' "$web/app.js" || true)
[ -z "$bad" ] || die "app.js parses strings as HTML or code: $bad"
bad=$(grep -niE '<script([^>]*)>' "$web/index.html" | grep -viE '<script[^>]*[[:space:]]src=' || true)
[ -z "$bad" ] || die "index.html has an inline script: $bad"
bad=$(grep -niE '[[:space:]]on[a-z]+[[:space:]]*=|javascript:|style=' "$web/index.html" || true)
[ -z "$bad" ] || die "index.html has an inline handler, javascript: URL or style attribute: $bad"
note "static checks: app.js and index.html build no HTML from strings"

# ---------------------------------------------------------------- what we need
need() {
	if [ -n "${ONPATH_REQUIRE_BROWSER:-}" ]; then
		die "$* (ONPATH_REQUIRE_BROWSER is set)"
	fi
	skip "$*"
}
[ -x "$CHROMIUM" ] || need "no Chromium at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null 2>&1 || need "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || need "npm is not installed (apt-get install npm)"
command -v redis-server >/dev/null 2>&1 || need "redis-server is not installed"
command -v redis-cli >/dev/null 2>&1 || need "redis-cli is not installed"
command -v "$PYTHON3" >/dev/null 2>&1 || need "python3 is not installed"
[ -x "$DASHBOARD" ] || need "onpath-dashboard not built at $DASHBOARD"
require_onpath
node --check "$web/app.js" || die "app.js does not parse"
make_tmpdir

# playwright-core, pinned by the lock file, installed once per build directory.
mkdir -p "$nodedir"
if ! cmp -s "$top_srcdir/dashboards/package-lock.json" "$nodedir/package-lock.json" ||
	[ ! -f "$nodedir/node_modules/playwright-core/package.json" ]; then
	cp "$top_srcdir/dashboards/package.json" "$top_srcdir/dashboards/package-lock.json" "$nodedir/"
	chmod u+w "$nodedir/package.json" "$nodedir/package-lock.json"
	npm ci --prefix "$nodedir" --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1 || {
		cat "$tmp/npm.log" >&2
		rm -f "$nodedir/package-lock.json"
		need "npm ci failed (no access to the npm registry?)"
	}
fi

# ---------------------------------------------------------------- servers
pids=
at_exit 'for p in $pids; do kill -TERM "$p" 2>/dev/null; done; sleep 0.2; for p in $pids; do kill -KILL "$p" 2>/dev/null; done'

free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_open() {
	"$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null
}

rport=$(free_port)
redis-server --bind 127.0.0.1 --port "$rport" --dir "$tmp" --save '' --appendonly no \
	--daemonize no --logfile "$tmp/redis.log" &
pids="$pids $!"
wait_until 10 port_open "$rport" || { cat "$tmp/redis.log" >&2; die "redis-server did not start"; }

token=$("$PYTHON3" -c 'import secrets; print(secrets.token_hex(16))')
printf '%s\n' "$token" >"$tmp/token"
chmod 600 "$tmp/token"
hport=$(free_port)
"$DASHBOARD" --redis "redis://127.0.0.1:$rport" --listen "127.0.0.1:$hport" \
	--web-root "$web" --token-file "$tmp/token" >"$tmp/dashboard.log" 2>&1 &
pids="$pids $!"
wait_until 15 "$PYTHON3" -c "
import json, urllib.request
r = json.load(urllib.request.urlopen('http://127.0.0.1:$hport/api/health', timeout=1))
assert r.get('redis') == 'up'" 2>/dev/null ||
	{ cat "$tmp/dashboard.log" >&2; die "onpath-dashboard did not come up on 127.0.0.1:$hport"; }

# ---------------------------------------------------------------- the browser
rm -rf "$artifacts"
rc=0
BASE_URL="http://127.0.0.1:$hport" TOKEN=$token REDIS_PORT=$rport ONPATH=$ONPATH \
	PCAP=$top_srcdir/tests/captures/incident-mitm.pcap \
	SENSOR_CONFIG=$top_srcdir/tests/golden/incident-mitm.yaml \
	NODE_DIR=$nodedir ARTIFACTS=$artifacts CHROMIUM=$CHROMIUM \
	BULK=${ONPATH_BROWSER_BULK:-100000} MAX_BLOCK_MS=${ONPATH_BROWSER_MAX_BLOCK_MS:-1500} \
	node "$top_srcdir/tests/dashboard-browser.mjs" || rc=$?
if [ "$rc" -ne 0 ]; then
	note "--- onpath-dashboard log"
	tail -n 50 "$tmp/dashboard.log" >&2
	die "browser checks failed (screenshots in $artifacts)"
fi
