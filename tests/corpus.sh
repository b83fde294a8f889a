#!/bin/sh
# Runs every capture of the shared corpus through `onpath -r`. Nothing may crash, no
# sanitizer may report (in a --enable-sanitizers build this is the ASan+UBSan corpus
# run), and every output line must be valid JSON. Unreadable captures are reported by
# onpath with the file name and exit status 1; that is allowed, a signal is not.
set -u
: "${top_srcdir:?}" "${ONPATH:?}"
CORPUS=${CORPUS:-$top_srcdir/../shared/corpus}
if [ ! -d "$CORPUS" ]; then
	echo "SKIP: corpus not found at $CORPUS (set CORPUS to ../shared/corpus)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=99}"
n=0 fails=0 unreadable=0
find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort > "$tmp/list"
while IFS= read -r f; do
	n=$((n + 1))
	"$ONPATH" -q -n corpus --signatures "$top_srcdir/signatures" -r "$f" -o "jsonl:$tmp/out.jsonl" \
		--stats-json >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
	rc=$?
	if [ $rc -eq 1 ]; then
		unreadable=$((unreadable + 1))
		echo "note: $(head -n 1 "$tmp/stderr")"
	elif [ $rc -ne 0 ]; then
		echo "FAIL: $f: exit status $rc"
		sed 's/^/    /' "$tmp/stderr" | head -n 40
		fails=$((fails + 1))
	fi
	if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' "$tmp/stderr"; then
		echo "FAIL: $f: sanitizer report"
		grep -E -A20 'runtime error|Sanitizer' "$tmp/stderr" | head -n 40
		fails=$((fails + 1))
	fi
	if [ -s "$tmp/out.jsonl" ] && ! python3 -c '
import json, sys
for i, l in enumerate(open(sys.argv[1], "rb"), 1):
    json.loads(l.decode("utf-8"))
' "$tmp/out.jsonl"; then
		echo "FAIL: $f: output is not valid JSON lines"
		fails=$((fails + 1))
	fi
	rm -f "$tmp/out.jsonl"
done < "$tmp/list"
echo "$n captures, $unreadable unreadable (reported by name), $fails failures"
[ "$n" -gt 0 ] && [ "$fails" -eq 0 ]
