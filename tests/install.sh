#!/bin/sh
# make install DESTDIR=tmp from the build directory, then the layout a sensor gets:
# binary, configuration (kept when it exists), signatures, man pages onpath(8) and
# onpath.yaml(5), the systemd unit onpath@.service (hardened, paths of ./configure),
# logrotate, the state and spool directories. No root needed.
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
	grep -q '^ExecStart=.* -i %i .*--state [^ ]*/lib/onpath/state-%i.json' "$unit" && pass "unit: -i %i, --state" ||
		fail "unit ExecStart arguments"
	grep -n '@[a-z]*dir@' "$unit" && fail "unsubstituted @var@ in the unit"
	for k in 'ProtectSystem=strict' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
		'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN CAP_SETUID CAP_SETGID'; do
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

[ $fails -eq 0 ] || exit 1
