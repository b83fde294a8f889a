# tests/lib.sh - helpers shared by the shell tests (POSIX sh). Source it first:
#
#   . "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
#
# `make check` sets top_srcdir, top_builddir, ONPATH and CORPUS; run by hand, the
# defaults below find the source tree from the script and the build in the cwd.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.
#
#   die MSG...          print "FAIL: MSG" on stderr, exit 1
#   skip MSG...         print "SKIP: MSG", exit 77
#   note MSG...         print MSG on stderr (goes to the .log file)
#   at_exit CMD         run CMD (a string for eval) at exit, last registered first
#   make_tmpdir         set $tmp to a new directory removed at exit
#   require_onpath      fail unless $ONPATH is an executable
#   require_corpus      skip unless $CORPUS is a directory
#   wait_until SECS CMD...  run CMD every 0.1 s until it succeeds; 1 after SECS seconds
#   count_action FILE ACTION  number of alert lines in FILE whose event.action is ACTION

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${ONPATH:=$top_builddir/onpath}"
: "${CORPUS:=$top_srcdir/../shared/corpus}"

die() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

note() {
	printf '%s\n' "$*" >&2
}

_lib_atexit=
at_exit() {
	_lib_atexit="$1
$_lib_atexit"
}

_lib_cleanup() {
	_lib_rc=$?
	trap - EXIT
	set +e
	eval "$_lib_atexit"
	exit "$_lib_rc"
}
trap _lib_cleanup EXIT
# A signal still runs the cleanup: exit from the handler triggers the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

make_tmpdir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/onpath-test.XXXXXX") || die "cannot create a temporary directory"
	at_exit "rm -rf '$tmp'"
}

require_onpath() {
	[ -x "$ONPATH" ] || die "onpath not found or not executable at $ONPATH (build it first)"
}

require_corpus() {
	[ -d "$CORPUS" ] || skip "corpus not found at $CORPUS"
}

wait_until() {
	_lib_tries=$(($1 * 10))
	shift
	while [ "$_lib_tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_lib_tries=$((_lib_tries - 1))
	done
	return 1
}

# The JSON writer may or may not put spaces after ':'; both are matched.
count_action() {
	if [ -f "$1" ]; then
		grep -c "\"action\"[[:space:]]*:[[:space:]]*\"$2\"" "$1" || true
	else
		echo 0
	fi
}
