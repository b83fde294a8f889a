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

# True while PID runs (a zombie awaiting `wait` counts as ended).
running() {
	[ -r "/proc/$1/stat" ] || return 1
	read -r _ _ _st _ <"/proc/$1/stat" || return 1
	[ "$_st" != Z ]
}

# veth_pair WHAT: two network namespaces $NS_S (the sensor's side) and $NS_T (the
# sender's), deleted at exit, joined by a veth pair $IF_T <-> $IF_S, loopback up, IPv6
# off (no autoconfiguration chatter); the veth ends stay down for the caller to
# configure. Skips, naming WHAT, where namespaces or veth pairs are not allowed. Sets
# $ifindex (of $IF_S) for veth_sockets. Needs make_tmpdir first.
veth_pair() {
	if ! ip netns add "$NS_S" 2>"$tmp/err"; then
		skip "$1 needs root and network namespaces ($(cat "$tmp/err"))"
	fi
	at_exit "ip netns del '$NS_S' 2>/dev/null"
	ip netns add "$NS_T" || die "ip netns add $NS_T failed"
	at_exit "ip netns del '$NS_T' 2>/dev/null"
	for _lib_ns in "$NS_S" "$NS_T"; do
		ip netns exec "$_lib_ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6;
			echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
		ip -n "$_lib_ns" link set lo up
	done
	if ! ip -n "$NS_T" link add "$IF_T" type veth peer name "$IF_S" netns "$NS_S" 2>"$tmp/err"; then
		skip "$1 needs veth pairs ($(cat "$tmp/err"))"
	fi
	ifindex=$(ip -n "$NS_S" -o link show dev "$IF_S" | cut -d: -f1)
}

# veth_sockets: packet sockets bound to $IF_S (column 5 of /proc/net/packet is the
# interface index): a capture is ready when its socket shows up.
veth_sockets() {
	ip netns exec "$NS_S" cat /proc/net/packet | awk -v i="$ifindex" 'NR > 1 && $5 == i' | wc -l
}

# stop_pid PID SECONDS: SIGTERM, then up to SECONDS for it to end (SIGKILL after);
# sets $rc to its exit status. PID must be a child of this shell.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	if ! wait_until "$2" eval '! running '"$1"; then
		note "pid $1 ignored SIGTERM for $2 s, killing it"
		kill -KILL "$1" 2>/dev/null || true
	fi
	rc=0
	wait "$1" || rc=$?
}

# replay_frames NS IFACE PCAP: sends the frames of an Ethernet pcap, in order, 20 ms
# apart, from IFACE inside network namespace NS with a raw packet socket; prints how
# many. Needs root and ${PYTHON3:-python3}.
replay_frames() {
	ip netns exec "$1" "${PYTHON3:-python3}" - "$2" "$3" <<'EOF'
import socket, struct, sys, time
ifname, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
magic = data[:4]
if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
    e = "<"
elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = ">"
else:
    sys.exit("%s: not a pcap file" % path)
if struct.unpack(e + "I", data[20:24])[0] != 1:
    sys.exit("%s: not Ethernet" % path)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
off, n = 24, 0
while off + 16 <= len(data):
    caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    s.send(data[off + 16:off + 16 + caplen])
    off += 16 + caplen
    n += 1
    time.sleep(0.02)
print(n)
EOF
}
