#!/bin/sh
# run-fuzz.sh - `make fuzz FUZZ_SECONDS=N`: runs every fuzz target under libFuzzer for N
# seconds each, starting from its seeds, in a build configured with
#   CC=clang ./configure --enable-fuzzing --enable-sanitizers
# A crash leaves its input in fuzz-out/<target>/crash-*; turn it into a seed (and a
# regression test) before fixing. Prints executions and coverage per target.
#   FUZZ_TIMEOUT=S   an input running longer than S seconds is a finding (default 25)
#   FUZZ_TARGETS="fuzz_tls fuzz_dns"   only these targets (default: every *.replay)
set -eu
secs=${1:-60}
timeout=${FUZZ_TIMEOUT:-25}
here=$(cd "$(dirname "$0")" && pwd)
builddir=$(pwd)
if ! grep -q 'enable_fuzzing=yes\|--enable-fuzzing' config.log 2>/dev/null; then
	echo "run-fuzz: this build was not configured with --enable-fuzzing (CC=clang ./configure --enable-fuzzing --enable-sanitizers)" >&2
	exit 2
fi
if ! grep -q 'enable_sanitizers=yes\|--enable-sanitizers' config.log 2>/dev/null; then
	echo "run-fuzz: this build has no ASan+UBSan (CC=clang ./configure --enable-fuzzing --enable-sanitizers)" >&2
	exit 2
fi
status=0
for spec in "$here"/*.replay; do
	target=$(awk '$1 == "target" {print $2}' "$spec")
	case " ${FUZZ_TARGETS:-$target} " in *" $target "*) ;; *) continue ;; esac
	seeds=$(awk '$1 == "seeds" {print $2}' "$spec")
	bin=$builddir/tests/fuzz/$target
	make -s "tests/fuzz/$target" # rebuilt after a fix
	work=$builddir/fuzz-out/$target
	mkdir -p "$work/corpus"
	cp -n "$here/$seeds"/* "$work/corpus/" 2>/dev/null || true
	dict=
	[ -f "$here/$target.dict" ] && dict="-dict=$here/$target.dict"
	echo "== $target: $secs s"
	if ! (cd "$work" && "$bin" -max_total_time="$secs" -timeout="$timeout" -print_final_stats=1 $dict corpus >run.log 2>&1); then
		echo "FAIL: $target found a crash; see $work/run.log and $work/crash-*"
		status=1
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|cov:' "$work/run.log" | tail -n 3
done
exit $status
