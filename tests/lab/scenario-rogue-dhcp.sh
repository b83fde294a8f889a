#!/bin/sh
# Lab scenario rogue-dhcp: dnsmasq on gw is the LAN's DHCP server (configured in
# detectors.dhcp.allowed_servers). Baseline: the victim runs busybox udhcpc, which gets
# an offer from gw only (no alert >= 4). Attack: a second dnsmasq on the attacker hands
# out itself as router and resolver; the victim runs udhcpc again and both servers
# answer. Expected live: dhcp.rogue_server for server 192.0.2.66.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init rogue-dhcp
lab_need dnsmasq udhcpc ethtool timeout
lab_up

lab_config "$tmp/lab.yaml"
# dhcp_server HOST LOG RANGE_START RANGE_END ROUTER_AND_DNS
dhcp_server() {
	lab_bg "$1" "$2" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
		--user=root --pid-file= --interface=eth0 --bind-interfaces \
		--dhcp-leasefile="$tmp/$1.leases" --dhcp-authoritative --no-ping --log-dhcp --log-facility=- \
		--dhcp-range="$3,$4,255.255.255.0,2m" --dhcp-option=3,"$5" --dhcp-option=6,"$5"
}
# One DHCP exchange from the victim: discover, take the first offer, request, done.
# -s /bin/true: the lease is not applied to eth0 (the victim keeps its static address).
dhcp_client() {
	lab_exec victim timeout 15 udhcpc -f -q -n -i eth0 -t 5 -T 1 -A 1 -s /bin/true >>"$tmp/udhcpc.log" 2>&1
}

dhcp_server gw "$tmp/dnsmasq-gw.log" 192.0.2.150 192.0.2.159 "$LAB_GW_IP"
gw_dhcp=$lab_pid
sleep 1
lab_running "$gw_dhcp" || die "dnsmasq on gw exited: $(cat "$tmp/dnsmasq-gw.log")"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
dhcp_client || die "baseline: udhcpc got no lease from gw: $(cat "$tmp/udhcpc.log" "$tmp/dnsmasq-gw.log")"
sleep 1

lab_phase attack
dhcp_server attacker "$tmp/dnsmasq-att.log" 192.0.2.200 192.0.2.209 "$LAB_ATTACKER_IP"
att_dhcp=$lab_pid
sleep 1
lab_running "$att_dhcp" || die "dnsmasq on attacker exited: $(cat "$tmp/dnsmasq-att.log")"
for i in 1 2; do
	dhcp_client || note "udhcpc run $i got no lease"
	sleep 0.5
done
lab_kill "$att_dhcp" 3
lab_phase end

lab_sensor_stop
note "udhcpc: $(tr '\n' ';' <"$tmp/udhcpc.log")"
grep -q 'DHCPOFFER\|DHCPACK' "$tmp/dnsmasq-att.log" ||
	die "rogue-dhcp: the rogue dnsmasq never answered: the attack did not happen"
lab_check --quiet baseline:4 \
	--expect "attack:dhcp.rogue_server:onpath.evidence.server_ip=$LAB_ATTACKER_IP" ||
	die "rogue-dhcp: alerts do not match (replay: onpath -r $lab_out/rogue-dhcp.pcap -c <config>)"
echo "PASS: rogue-dhcp"
