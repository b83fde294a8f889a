#!/bin/sh
# make check-lab: run every tests/lab/scenario-*.sh, print PASS/FAIL/SKIP per scenario
# and "N passed, N failed, N skipped"; exit 1 on any failure, 0 otherwise (also when
# every scenario skipped: no root or namespaces; the SKIP lines say why).
# Each scenario's output goes to lab-out/<scenario>.log; pcaps and alerts beside it.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${ONPATH:=$top_builddir/onpath}"
export top_srcdir top_builddir ONPATH
LAB_SCENARIO_TIMEOUT=${LAB_SCENARIO_TIMEOUT:-180}   # seconds per scenario
out=${LAB_OUT:-$top_builddir/lab-out}
mkdir -p "$out" || exit 99
pass=0 fail=0 skipped=0
for s in "$top_srcdir"/tests/lab/scenario-*.sh; do
	name=$(basename "$s" .sh)
	name=${name#scenario-}
	case " ${LAB_ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
	t0=$(date +%s)
	rc=0
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 10 "$LAB_SCENARIO_TIMEOUT" sh "$s" >"$out/$name.log" 2>&1 || rc=$?
	else
		sh "$s" >"$out/$name.log" 2>&1 || rc=$?
	fi
	dt=$(($(date +%s) - t0))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS: $name (${dt}s)" ;;
	77) skipped=$((skipped + 1)); echo "SKIP: $name: $(grep '^SKIP:' "$out/$name.log" | head -n 1 | cut -c7-)" ;;
	*) fail=$((fail + 1))
		echo "FAIL: $name (exit $rc, ${dt}s; log $out/$name.log, pcap $out/$name.pcap)"
		grep -E '^(FAIL|ok):' "$out/$name.log" | sed 's/^/    /' ;;
	esac
done
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ] || exit 1
[ "$pass" -gt 0 ] || [ "$skipped" -eq 0 ] || echo "check-lab: every scenario skipped (see the SKIP reasons above)"
exit 0
