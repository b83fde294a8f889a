#!/bin/sh
# make install DESTDIR=tmp from the build directory, then the layout a sensor gets:
# binary, configuration (kept when it exists), signatures, man pages onpath(8) and
# onpath.yaml(5), the systemd unit onpath@.service (hardened, paths of ./configure),
# logrotate, the state and spool directories; the dashboard's binary, page,
# onpath-dashboard.yaml and unit onpath-dashboard.service (DynamicUser). No root needed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
d="$tmp/root"
fails=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
inst() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$top_builddir" install DESTDIR="$d" >"$tmp/install.log" 2>&1
}
one() { # one FIND-ARGS...: the single path under $d matching, else empty
	find "$d" "$@" 2>/dev/null | head -n 1
}

inst || { cat "$tmp/install.log"; die "make install DESTDIR=$d failed"; }

bin=$(one -path '*/sbin/onpath' -type f)
[ -n "$bin" ] && [ -x "$bin" ] && pass "sbin/onpath" || fail "sbin/onpath missing"
conf=$(one -path '*/onpath/onpath.yaml' -type f)
[ -n "$conf" ] && cmp -s "$conf" "$top_srcdir/onpath.yaml.example" && pass "onpath.yaml (the example)" ||
	fail "onpath/onpath.yaml missing or not the example"
sig=$(one -path '*/share/onpath/signatures' -type d)
[ -n "$sig" ] && [ -f "$sig/virtual-macs.csv" ] && [ -f "$sig/interception-cas.csv" ] &&
	pass "share/onpath/signatures" || fail "signatures missing"
[ -n "$(one -path '*/man8/onpath.8')" ] && pass "man8/onpath.8" || fail "man8/onpath.8 missing"
[ -n "$(one -path '*/man5/onpath.yaml.5')" ] && pass "man5/onpath.yaml.5" || fail "man5/onpath.yaml.5 missing"
lr=$(one -path '*/logrotate.d/onpath' -type f)
[ -n "$lr" ] && grep -q 'alerts.jsonl\|\*\.jsonl' "$lr" && grep -q HUP "$lr" && pass "logrotate.d/onpath" ||
	fail "logrotate.d/onpath missing or without SIGHUP"
for v in lib/onpath spool/onpath log/onpath; do
	[ -n "$(one -path "*/var/$v" -type d)" ] && pass "var/$v" || fail "var/$v missing"
done

unit=$(one -path '*/systemd/system/onpath@.service' -type f)
if [ -z "$unit" ]; then
	fail "systemd/system/onpath@.service missing"
else
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	[ -n "$exe" ] && [ -x "$d$exe" ] && pass "unit ExecStart is the installed binary ($exe)" ||
		fail "unit ExecStart '$exe' is not the installed binary"
	cf=$(sed -n 's/^ExecStart=.* -c \([^ ]*\).*/\1/p' "$unit")
	[ -n "$cf" ] && [ -f "$d$cf" ] && pass "unit -c is the installed configuration" || fail "unit -c '$cf'"
	grep -q '^ExecStart=.* -i %i .*--state [^ ]*/lib/onpath/state-%i.json -u onpath' "$unit" &&
		pass "unit: -i %i, --state, -u onpath" || fail "unit ExecStart arguments"
	grep -n '@[a-z]*dir@' "$unit" && fail "unsubstituted @var@ in the unit"
	for k in 'ProtectSystem=strict' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
		'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN CAP_SETUID CAP_SETGID CAP_CHOWN'; do
		grep -qx "$k" "$unit" && pass "unit: $k" || fail "unit: $k missing"
	done
	for p in lib/onpath spool/onpath log/onpath; do
		grep -q "^ReadWritePaths=.*/$p" "$unit" && pass "unit: ReadWritePaths $p" || fail "unit: ReadWritePaths $p"
	done
	if command -v systemd-analyze >/dev/null 2>&1; then
		# verify needs the binary at its real path; check syntax only
		sed "s|^ExecStart=$exe|ExecStart=/bin/true|" "$unit" >"$tmp/onpath@eth0.service"
		if systemd-analyze verify "$tmp/onpath@eth0.service" >"$tmp/verify" 2>&1; then
			pass "systemd-analyze verify"
		else
			cat "$tmp/verify"
			grep -qi 'unknown\|invalid\|failed to parse' "$tmp/verify" && fail "systemd-analyze verify" ||
				pass "systemd-analyze verify (warnings only)"
		fi
	fi
fi

# The dashboard: binary, page, configuration (the example, kept when it exists), man
# page and its unit (a transient user, no capabilities, the token as a credential).
dbin=$(one -path '*/bin/onpath-dashboard' -type f)
[ -n "$dbin" ] && [ -x "$dbin" ] && pass "bin/onpath-dashboard" || fail "bin/onpath-dashboard missing"
[ -n "$(one -path '*/share/onpath/dashboard/app.js' -type f)" ] && pass "share/onpath/dashboard (the page)" ||
	fail "the dashboard page is not installed"
[ -n "$(one -path '*/man8/onpath-dashboard.8')" ] && pass "man8/onpath-dashboard.8" || fail "man8/onpath-dashboard.8 missing"
dconf=$(one -path '*/onpath/onpath-dashboard.yaml' -type f)
[ -n "$dconf" ] && cmp -s "$dconf" "$top_srcdir/dashboards/onpath-dashboard.yaml.example" &&
	pass "onpath-dashboard.yaml (the example)" || fail "onpath/onpath-dashboard.yaml missing or not the example"
dunit=$(one -path '*/systemd/system/onpath-dashboard.service' -type f)
if [ -z "$dunit" ]; then
	fail "systemd/system/onpath-dashboard.service missing"
else
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$dunit")
	[ -n "$exe" ] && [ -x "$d$exe" ] && [ "$d$exe" = "$dbin" ] &&
		pass "dashboard unit ExecStart is the installed binary ($exe)" ||
		fail "dashboard unit ExecStart '$exe' is not the installed binary"
	cf=$(sed -n 's/^ExecStart=.* --config \([^ ]*\).*/\1/p' "$dunit")
	[ -n "$cf" ] && [ "$d$cf" = "$dconf" ] && pass "dashboard unit --config is the installed configuration" ||
		fail "dashboard unit --config '$cf'"
	grep -q '^ExecStart=.* --token-file %d/token' "$dunit" && grep -q '^LoadCredential=token:/.*/onpath/dashboard.token$' "$dunit" &&
		pass "dashboard unit: the token as a credential" || fail "dashboard unit: LoadCredential/--token-file"
	grep -n '@[a-z]*dir@' "$dunit" && fail "unsubstituted @var@ in the dashboard unit"
	for k in 'DynamicUser=yes' 'CapabilityBoundingSet=' 'ProtectSystem=strict' 'PrivateTmp=yes' \
		'NoNewPrivileges=yes' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
		'MemoryDenyWriteExecute=yes' 'SystemCallFilter=@system-service'; do
		grep -qx "$k" "$dunit" && pass "dashboard unit: $k" || fail "dashboard unit: $k missing"
	done
	grep -q '^User=\|^AmbientCapabilities=.' "$dunit" && fail "dashboard unit: a fixed user or capabilities"
	if command -v systemd-analyze >/dev/null 2>&1; then
		sed "s|^ExecStart=$exe|ExecStart=/bin/true|" "$dunit" >"$tmp/onpath-dashboard.service"
		if systemd-analyze verify "$tmp/onpath-dashboard.service" >"$tmp/dverify" 2>&1; then
			pass "systemd-analyze verify onpath-dashboard.service"
		else
			cat "$tmp/dverify"
			grep -qi 'unknown\|invalid\|failed to parse' "$tmp/dverify" &&
				fail "systemd-analyze verify onpath-dashboard.service" ||
				pass "systemd-analyze verify onpath-dashboard.service (warnings only)"
		fi
	fi
fi
# The installed dashboard configuration parses: the start stops at the (absent) token.
if [ -n "$dbin" ] && [ -n "$dconf" ]; then
	rc=0
	"$dbin" --config "$dconf" --token-file "$tmp/no-such-token" >"$tmp/dcc" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] && grep -q 'no-such-token' "$tmp/dcc" && pass "installed onpath-dashboard.yaml parses" ||
		{ cat "$tmp/dcc"; fail "installed onpath-dashboard.yaml (exit $rc)"; }
fi

# The installed configuration is valid.
if [ -n "$bin" ] && [ -n "$conf" ] && [ -n "$sig" ]; then
	"$bin" -c "$conf" --signatures "$sig" --check-config >"$tmp/cc" 2>&1 && pass "installed config passes --check-config" ||
		{ cat "$tmp/cc"; fail "installed config --check-config"; }
fi

# A second install keeps an edited configuration.
if [ -n "$conf" ]; then
	echo "# local edit" >>"$conf"
	inst || fail "second make install"
	tail -n 1 "$conf" | grep -q '^# local edit$' && pass "existing onpath.yaml kept" || fail "onpath.yaml overwritten"
fi
if [ -n "$dconf" ]; then
	echo "# local edit" >>"$dconf"
	inst || fail "third make install"
	tail -n 1 "$dconf" | grep -q '^# local edit$' && pass "existing onpath-dashboard.yaml kept" ||
		fail "onpath-dashboard.yaml overwritten"
fi

[ $fails -eq 0 ] || exit 1
