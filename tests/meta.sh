#!/bin/sh
# Project rules that a compiler does not check:
#  1. every external symbol of libonpath.a carries a module prefix (STYLE.md 4);
#  2. every tests/golden/*.golden file is listed in Makefile.am (so make check runs it);
#  3. every alert type that onpath can raise is documented in README.md and onpath(8).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${ONPATH:?}"
fail=0
lib="$top_builddir/libonpath.a"
prefixes='cap_|dec_|flow_|stream_|det_|sig_|out_|cfg_|jw_|alert_|util_|sensor_|stats_|state_|app_|geo_|spool_|metrics_|priv_|cls_|workers_'
# Names starting with __ are the compiler's (ASan's __odr_asan.*), not ours.
bad=$(nm -g --defined-only "$lib" | awk 'NF==3 && $2 ~ /[TDBRC]/ {print $3}' | grep -Ev "^($prefixes|__)" || true)
if [ -n "$bad" ]; then
	echo "FAIL: exported symbols without a module prefix ($prefixes):"
	echo "$bad" | sed 's/^/  /'
	fail=1
else
	echo "ok: $(nm -g --defined-only "$lib" | awk 'NF==3 && $2 ~ /[TDBRC]/' | wc -l) exported symbols carry a module prefix"
fi
for g in "$top_srcdir"/tests/golden/*.golden; do
	[ -e "$g" ] || continue
	n=tests/golden/$(basename "$g")
	if ! grep -q "$n" "$top_srcdir/Makefile.am"; then
		echo "FAIL: $n is not listed in GOLDEN_TESTS in Makefile.am"
		fail=1
	fi
done
echo "ok: golden tests checked for listing"
for a in $("$ONPATH" --list-alerts | awk 'NR>1 {print $1}'); do
	for doc in README.md man/onpath.8; do
		if ! grep -qF "$a" "$top_srcdir/$doc"; then
			echo "FAIL: alert type $a is not documented in $doc"
			fail=1
		fi
	done
done
echo "ok: alert types checked against the docs"
exit $fail
