# shellcheck shell=sh
# tests/lab/lab.sh - a switched LAN in network namespaces for end-to-end scenarios
# (POSIX sh; source it after tests/lib.sh). See tests/lab/README.md.
#
# Topology (every name carries the test's PID, so parallel runs do not collide):
#
#   gw (192.0.2.1)  srv (192.0.2.10)  victim (192.0.2.100)  attacker (192.0.2.66)
#      eth0              eth0               eth0                  eth0
#       |                 |                  |                     |
#   +---p-gw-------------p-srv--------------p-vic-----------------p-att----+  ns "sw":
#   |                bridge br0 (a learning switch)                        |  bridge br0
#   |  tc ingress on every port: mirred egress mirror -> span0 (SPAN port) |
#   +-----------------------------------span0------------------------------+
#                                         |
#                                  mon0 in ns "mon": onpath -i mon0, tcpdump -w
#
# Every frame any host sends enters the switch on its port and is copied once to the
# SPAN port, so the sensor sees what a real mirror port sees, including frames the
# switch would not flood (unicast to a learned MAC). Where tc u32/mirred is missing,
# LAB_SPAN=bridge falls back to capturing on br0 itself (promiscuous: the bridge device
# then sees every forwarded frame); the fallback is chosen automatically.
#
# Addresses only from 192.0.2.0/24 (documentation), MACs 02:00:00:00:00:xx, no default
# route, IPv6 off in every namespace (no autoconfiguration chatter) unless LAB_IPV6=1
# (then the hosts have link-local and 2001:db8:1::/64 addresses). Processes are
# Checksum offload is off on the hosts (ethtool) so the frames on the SPAN port carry
# real checksums. Processes are started with lab_bg and ended by PID at exit; namespaces are deleted at exit (trap,
# also on failure or signal).
#
#   lab_init NAME          root/netns checks (skip otherwise), $lab_out (kept), $tmp
#   lab_need CMD...        skip (77) naming the missing commands
#   lab_up                 build the LAN above
#   lab_exec HOST CMD...   run CMD in HOST's namespace (foreground)
#   lab_bg HOST LOG CMD... run CMD in HOST's namespace in the background; sets $lab_pid
#   lab_kill PID [SECS]    SIGTERM a lab process, SIGKILL after SECS (default 5)
#   lab_sensor_start CFG [ARGS...]  tcpdump + onpath -i on the SPAN port
#   lab_sensor_stop        stop both (onpath must exit 0); copies pcap+alerts to $lab_out
#   lab_phase NAME         record the wall-clock start of a phase in $tmp/phases
#   lab_check ARGS...      tests/lab/check-alerts.py on the alerts and phases
#
# Strings given to at_exit are single-quoted on purpose (expanded when run).
# shellcheck disable=SC2016,SC2154

LAB_GW_IP=192.0.2.1
LAB_SRV_IP=192.0.2.10
LAB_VICTIM_IP=192.0.2.100
LAB_ATTACKER_IP=192.0.2.66
LAB_GW_MAC=02:00:00:00:00:01
LAB_SRV_MAC=02:00:00:00:00:0a
LAB_VICTIM_MAC=02:00:00:00:00:64
LAB_ATTACKER_MAC=02:00:00:00:00:66
LAB_SENSOR_START_S=10    # onpath/tcpdump must open the SPAN port within this
LAB_STOP_S=10            # a process gets this long after SIGTERM
PYTHON3=${PYTHON3:-python3}

lab_pids=
lab_pid=
lab_pid_onpath=
lab_pid_tcpdump=

lab_init() {
	lab_name=$1
	[ "$(id -u)" = 0 ] || skip "lab needs root and network namespaces (not root)"
	command -v ip >/dev/null 2>&1 || skip "lab needs the ip command (iproute2)"
	command -v "$PYTHON3" >/dev/null 2>&1 || skip "lab needs python3 (alert checks)"
	require_onpath
	make_tmpdir
	lab_out=${LAB_OUT:-$top_builddir/lab-out}
	mkdir -p "$lab_out" || die "cannot create $lab_out"
	rm -f "$lab_out/$lab_name.pcap" "$lab_out/$lab_name.jsonl"
	lab_pfx=op$$
	# Processes first (last registered runs first), then the namespaces.
	at_exit 'lab_teardown'
	if ! ip netns add "$lab_pfx-sw" 2>"$tmp/err"; then
		skip "lab needs network namespaces ($(cat "$tmp/err"))"
	fi
	lab_nss="$lab_pfx-sw"
	: >"$tmp/phases"
}

lab_need() {
	_missing=
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || _missing="$_missing $_c"
	done
	[ -z "$_missing" ] || skip "$lab_name needs:$_missing (see tests/lab/README.md for the Debian packages)"
}

lab_ns() {
	echo "$lab_pfx-$1"
}

lab_exec() {
	_h=$1
	shift
	ip netns exec "$lab_pfx-$_h" "$@"
}

# True while PID runs (tests/lib.sh running(): a zombie counts as ended).
lab_running() {
	running "$1"
}

lab_bg() {
	_h=$1
	_log=$2
	shift 2
	ip netns exec "$lab_pfx-$_h" "$@" >"$_log" 2>&1 &
	lab_pid=$!
	lab_pids="$lab_pids $lab_pid"
}

lab_kill() {
	_p=$1
	kill -TERM "$_p" 2>/dev/null || true
	if ! wait_until "${2:-5}" eval '! lab_running '"$_p"; then
		note "pid $_p ignored SIGTERM, killing it"
		kill -KILL "$_p" 2>/dev/null || true
	fi
	lab_rc=0
	wait "$_p" 2>/dev/null || lab_rc=$?
}

lab_teardown() {
	for _p in $lab_pid_onpath $lab_pid_tcpdump $lab_pids; do
		lab_running "$_p" && kill -TERM "$_p" 2>/dev/null
	done
	for _p in $lab_pid_onpath $lab_pid_tcpdump $lab_pids; do
		wait_until 3 eval '! lab_running '"$_p" || kill -KILL "$_p" 2>/dev/null
	done
	for _n in $lab_nss; do
		ip netns del "$_n" 2>/dev/null
	done
	return 0
}

_lab_quiet_ns() {
	ip netns exec "$1" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6;
		echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
	ip -n "$1" link set lo up
}

# lab_host NAME PORT IP MAC
_lab_host() {
	_ns=$lab_pfx-$1
	ip netns add "$_ns" || die "ip netns add $_ns failed"
	lab_nss="$lab_nss $_ns"
	_lab_quiet_ns "$_ns"
	if [ "${LAB_IPV6:-0}" = 1 ]; then
		# IPv6 for scenarios that need it (LAB_IPV6=1 before lab_up): link-local from
		# the MAC, 2001:db8:1::<last byte of the IPv4>/64, no DAD delay.
		ip netns exec "$_ns" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/all/disable_ipv6;
			echo 0 >/proc/sys/net/ipv6/conf/default/disable_ipv6;
			echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad'
	fi
	ip -n "$lab_pfx-sw" link add "$2" type veth peer name eth0 netns "$_ns" ||
		die "veth for $1 failed"
	ip -n "$_ns" link set eth0 address "$4"
	ip -n "$_ns" addr add "$3/24" dev eth0
	[ "${LAB_IPV6:-0}" != 1 ] || ip -n "$_ns" -6 addr add "2001:db8:1::$(printf %x "${3##*.}")/64" dev eth0 nodad
	ip -n "$_ns" link set eth0 up
	# No checksum offload: frames leave with real checksums, so raw-socket clients
	# (udhcpc) accept them and the pcap replays cleanly. Needs ethtool.
	ip netns exec "$_ns" ethtool -K eth0 tx off >/dev/null 2>&1 || true
	ip -n "$lab_pfx-sw" link set "$2" master br0
	ip -n "$lab_pfx-sw" link set "$2" up
}

lab_up() {
	_sw=$lab_pfx-sw
	_lab_quiet_ns "$_sw"
	ip netns add "$lab_pfx-mon" || die "ip netns add $lab_pfx-mon failed"
	lab_nss="$lab_nss $lab_pfx-mon"
	_lab_quiet_ns "$lab_pfx-mon"
	# No STP (ports forward at once), default ageing: a learning switch.
	ip -n "$_sw" link add br0 type bridge stp_state 0 forward_delay 0 ||
		skip "lab needs bridge support in the kernel"
	ip -n "$_sw" link set br0 up
	_lab_host gw p-gw "$LAB_GW_IP" "$LAB_GW_MAC"
	_lab_host srv p-srv "$LAB_SRV_IP" "$LAB_SRV_MAC"
	_lab_host victim p-vic "$LAB_VICTIM_IP" "$LAB_VICTIM_MAC"
	_lab_host attacker p-att "$LAB_ATTACKER_IP" "$LAB_ATTACKER_MAC"
	# The router forwards (it has only one LAN here, but it is the default gateway).
	lab_exec gw sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
	# gw has no default route: limited broadcast (DHCP replies) needs a route of its own.
	ip -n "$lab_pfx-gw" route add 255.255.255.255/32 dev eth0
	for _h in srv victim attacker; do
		ip -n "$lab_pfx-$_h" route add default via "$LAB_GW_IP" dev eth0 2>/dev/null || true
	done

	ip -n "$_sw" link add span0 type veth peer name mon0 netns "$lab_pfx-mon" ||
		die "veth for the SPAN port failed"
	ip -n "$_sw" link set span0 up
	ip -n "$lab_pfx-mon" link set mon0 up
	lab_span=${LAB_SPAN:-mirred}
	if [ "$lab_span" = mirred ]; then
		for _port in p-gw p-srv p-vic p-att; do
			if ! { ip netns exec "$_sw" tc qdisc add dev "$_port" ingress &&
				ip netns exec "$_sw" tc filter add dev "$_port" parent ffff: protocol all \
					u32 match u32 0 0 action mirred egress mirror dev span0; } 2>"$tmp/err"; then
				note "tc mirred not available ($(tr '\n' ' ' <"$tmp/err")); capturing on br0 instead"
				lab_span=bridge
				break
			fi
		done
	fi
	if [ "$lab_span" = mirred ]; then
		lab_cap_ns=$lab_pfx-mon
		lab_cap_if=mon0
	else
		for _port in p-gw p-srv p-vic p-att; do
			ip netns exec "$_sw" tc qdisc del dev "$_port" ingress 2>/dev/null || true
		done
		lab_cap_ns=$_sw
		lab_cap_if=br0
	fi
	note "lab $lab_name: namespaces $lab_nss; SPAN: $lab_span ($lab_cap_if in $lab_cap_ns)"
}

_lab_sockets() {
	_ifx=$(ip -n "$lab_cap_ns" -o link show dev "$lab_cap_if" | cut -d: -f1)
	ip netns exec "$lab_cap_ns" cat /proc/net/packet | awk -v i="$_ifx" 'NR > 1 && $5 == i' | wc -l
}

lab_sensor_start() {
	_cfg=$1
	shift
	_base=$(_lab_sockets)
	if command -v tcpdump >/dev/null 2>&1; then
		ip netns exec "$lab_cap_ns" tcpdump -i "$lab_cap_if" --immediate-mode -nn -U -s 0 \
			-w "$tmp/lab.pcap" 2>"$tmp/tcpdump.err" &
		lab_pid_tcpdump=$!
		wait_until "$LAB_SENSOR_START_S" eval '[ "$(_lab_sockets)" -gt '"$_base"' ]' ||
			die "tcpdump did not start: $(cat "$tmp/tcpdump.err")"
		_base=$(_lab_sockets)
	else
		note "tcpdump not installed: no pcap kept for offline replay"
	fi
	ip netns exec "$lab_cap_ns" "$ONPATH" -i "$lab_cap_if" -c "$_cfg" --buffer-size 4194304 \
		-o "jsonl:$tmp/alerts.jsonl" --signatures "$top_srcdir/signatures" "$@" \
		2>"$tmp/onpath.err" &
	lab_pid_onpath=$!
	if ! wait_until "$LAB_SENSOR_START_S" eval 'lab_running $lab_pid_onpath && [ "$(_lab_sockets)" -gt '"$_base"' ]'; then
		cat "$tmp/onpath.err" >&2
		die "onpath -i $lab_cap_if did not start within $LAB_SENSOR_START_S s"
	fi
	sleep 0.5 # the socket is bound before the ring is set up; let it settle
}

lab_sensor_stop() {
	sleep 1 # let the last frames reach the sensor
	_orc=0
	if [ -n "$lab_pid_onpath" ]; then
		lab_running "$lab_pid_onpath" || note "onpath exited by itself before SIGTERM"
		lab_kill "$lab_pid_onpath" "$LAB_STOP_S"
		_orc=$lab_rc
		lab_pid_onpath=
	fi
	if [ -n "$lab_pid_tcpdump" ]; then
		lab_kill "$lab_pid_tcpdump" "$LAB_STOP_S"
		lab_pid_tcpdump=
		cp "$tmp/lab.pcap" "$lab_out/$lab_name.pcap" 2>/dev/null || true
	fi
	cp "$tmp/alerts.jsonl" "$lab_out/$lab_name.jsonl" 2>/dev/null || : >"$lab_out/$lab_name.jsonl"
	note "onpath exited with status $_orc; stderr:"
	sed 's/^/  /' "$tmp/onpath.err" >&2 || true
	note "alerts ($lab_out/$lab_name.jsonl), pcap $lab_out/$lab_name.pcap"
	[ "$_orc" -eq 0 ] || die "onpath exited with status $_orc after SIGTERM (expected 0)"
}

lab_phase() {
	echo "$1 $(date +%s.%N)" >>"$tmp/phases"
	note "--- phase $1"
}

lab_check() {
	"$PYTHON3" "$top_srcdir/tests/lab/check-alerts.py" --alerts "$tmp/alerts.jsonl" \
		--phases "$tmp/phases" "$@"
}

# lab_forwarding: the attacker routes what it receives (IP forwarding on) without
# telling the victims about a better route (ICMP redirects off), as MITM tools expect.
lab_forwarding() {
	lab_exec attacker sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward;
		echo 0 >/proc/sys/net/ipv4/conf/all/send_redirects;
		echo 0 >/proc/sys/net/ipv4/conf/eth0/send_redirects'
}

# lab_redirect PROTO DST PORT TOPORT: the attacker diverts PROTO traffic for DST:PORT
# that reaches it to its own local port TOPORT (iptables REDIRECT).
lab_redirect() {
	lab_exec attacker iptables -t nat -A PREROUTING -i eth0 -p "$1" -d "$2" --dport "$3" \
		-j REDIRECT --to-ports "$4" || die "iptables REDIRECT failed on the attacker"
}

# lab_arpspoof IP NAME: dsniff's arpspoof tells the victim that IP (host NAME) is at
# the attacker's MAC, for at most 25 s ($spoof: its PID, for lab_kill); waits up to 8 s for the
# victim's ARP cache to show it, and says so when it does not.
lab_arpspoof() {
	_lab_spoofed=$1 # a global: wait_until's eval runs with wait_until's arguments
	lab_bg attacker "$tmp/arpspoof.log" timeout 25 arpspoof -i eth0 -t "$LAB_VICTIM_IP" "$1"
	# shellcheck disable=SC2034 # the scenario ends it: lab_kill "$spoof"
	spoof=$lab_pid
	wait_until 8 eval 'lab_exec victim ip neigh show "$_lab_spoofed" | grep -qi "$LAB_ATTACKER_MAC"' ||
		note "victim ARP cache not poisoned for $2 after 8 s"
}

# lab_mitmdump PORT [ARGS...]: mitmproxy in transparent mode on the attacker, on its
# own address and PORT (behind a lab_redirect), ARGS passed on; log $tmp/mitmdump.log,
# $mitm its PID for lab_kill. Started early (it takes a few seconds to load); waits
# up to 30 s for it to listen.
lab_mitmdump() {
	_lab_mitm_port=$1 # a global: wait_until's eval runs with wait_until's arguments
	shift
	mkdir -p "$tmp/mitm"
	lab_bg attacker "$tmp/mitmdump.log" mitmdump --mode transparent --listen-host "$LAB_ATTACKER_IP" \
		--listen-port "$_lab_mitm_port" --set confdir="$tmp/mitm" "$@"
	# shellcheck disable=SC2034 # the scenario ends it: lab_kill "$mitm"
	mitm=$lab_pid
	wait_until 30 eval 'lab_exec attacker ss -ltn | grep -q ":$_lab_mitm_port "' ||
		die "mitmdump did not listen: $(cat "$tmp/mitmdump.log")"
}

# lab_pki [SAN]: the lab's own CA and srv's certificate for www.lab.example, signed by
# it, in $pki ($tmp/pki): ca.pem/ca.key, srv.pem/srv.key. SAN defaults to
# "DNS:www.lab.example,IP:<srv's address>".
lab_pki() {
	pki=$tmp/pki
	mkdir -p "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$pki/ca.key" -out "$pki/ca.pem" \
		-subj "/O=onpath lab/CN=onpath lab CA" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$pki/err" || die "CA: $(cat "$pki/err")"
	openssl req -newkey rsa:2048 -nodes -keyout "$pki/srv.key" -out "$pki/srv.csr" \
		-subj "/O=onpath lab/CN=www.lab.example" 2>"$pki/err" || die "CSR: $(cat "$pki/err")"
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
		"${1:-DNS:www.lab.example,IP:$LAB_SRV_IP}" >"$pki/srv.ext"
	openssl x509 -req -in "$pki/srv.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
		-days 30 -extfile "$pki/srv.ext" -out "$pki/srv.pem" 2>"$pki/err" || die "cert: $(cat "$pki/err")"
}

# lab_config FILE: the common part of a lab config (protected gateway, allowed DHCP
# server and resolver; after lab_pki, its CA as the enterprise CA the sensor trusts,
# tls.ca_files); scenarios append to it (the detectors section comes last).
lab_config() {
	cat >"$1" <<EOF
sensor:
  name: lab-$lab_name
  learning_window: 0
alerts:
  window: 5m
EOF
	[ -z "${pki:-}" ] || printf 'tls:\n  ca_files: ["%s"]\n' "$pki/ca.pem" >>"$1"
	cat >>"$1" <<EOF
detectors:
  arp:
    protected:
      - {ip: $LAB_GW_IP, mac: "$LAB_GW_MAC", role: gateway}
    local_networks: [192.0.2.0/24]
  dhcp:
    allowed_servers: [$LAB_GW_IP]
    allowed_routers: [$LAB_GW_IP]
    allowed_dns: [$LAB_GW_IP]
  dns:
    resolvers: [$LAB_GW_IP]
  ndp:
    allowed_routers: ["$LAB_GW_MAC"]
    allowed_prefixes: ["2001:db8:1::/64"]
EOF
}
