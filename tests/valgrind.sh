#!/bin/sh
# A corpus slice under valgrind memcheck (issue #12): one onpath run over every capture
# of the shared corpus except the large misc/ directory (about 7 MB, 300+ files: ARP,
# DHCP, DNS, LLMNR, IPv6, TLS, downgrade and the malformed ones), then a run with the
# project's own attack captures and a Redis-less config. No invalid read or write, no
# use of uninitialised memory, no definite or indirect leak: any is an error (exit 42).
# Skipped without valgrind, in sanitizer builds (ASan and valgrind do not mix), and
# without the corpus.
set -eu

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed (apt-get install valgrind)"
require_onpath
if nm "$ONPATH" 2>/dev/null | grep -q '__asan_init'; then
	skip "sanitizer build: valgrind runs on the normal build"
fi
CORPUS=${CORPUS:-$top_srcdir/../shared/corpus}
[ -d "$CORPUS" ] || skip "corpus not found at $CORPUS"
make_tmpdir

set --
for f in $(find "$CORPUS" -path "$CORPUS/misc" -prune -o -type f \( -name '*.pcap' -o -name '*.pcapng' \
	-o -name '*.cap' \) -print | sort | head -n 250); do
	set -- "$@" -r "$f"
done
[ $# -gt 0 ] || die "no capture found in $CORPUS"
vg() {
	valgrind -q --error-exitcode=42 --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --track-origins=yes "$@"
}
rc=0
vg "$ONPATH" -q --no-stats --signatures "$top_srcdir/signatures" "$@" -o "jsonl:$tmp/corpus.jsonl" \
	2>"$tmp/corpus.err" || rc=$?
# onpath exits 1 when some capture could not be read (reported by name): allowed.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
	grep -v '^onpath: ' "$tmp/corpus.err" | head -n 60 >&2
	die "valgrind over $(($# / 2)) corpus captures: exit $rc"
fi
note "ok: $(($# / 2)) corpus captures, $(wc -l <"$tmp/corpus.jsonl") alerts, valgrind clean"

set --
for f in "$top_srcdir"/tests/captures/*.pcap; do
	set -- "$@" -r "$f"
done
rc=0
vg "$ONPATH" -q --no-stats --signatures "$top_srcdir/signatures" "$@" -o "jsonl:$tmp/own.jsonl" \
	--state "$tmp/state.json" 2>"$tmp/own.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	head -n 60 "$tmp/own.err" >&2
	die "valgrind over tests/captures: exit $rc"
fi
note "ok: $(($# / 2)) project captures, $(wc -l <"$tmp/own.jsonl") alerts and incidents, state saved, valgrind clean"
echo "PASS: valgrind"
