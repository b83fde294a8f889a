#!/bin/sh
# Lab scenario rogue-ra: IPv6 on (LAB_IPV6=1). radvd on gw is the LAN's router
# (detectors.ndp.allowed_routers: its MAC; allowed_prefixes: 2001:db8:1::/64).
# Baseline: gw advertises 2001:db8:1::/64 every few seconds, the victim solicits
# (rdisc6) and pings gw over IPv6 (no alert >= 4). Attack: radvd on the attacker
# advertises itself as a high-preference default router with another prefix
# (2001:db8:66::/64) and itself as RDNSS (mitm6 / fake_router6 style); the victim
# solicits again. Expected live: ndp.rogue_router "router not allowed", severity 8 (a
# default-router lifetime), from the attacker's MAC 02:00:00:00:00:66.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init rogue-ra
lab_need radvd rdisc6 ping timeout
LAB_IPV6=1
lab_up

lab_config "$tmp/lab.yaml"
# radvd_conf FILE PREFIX RDNSS PREFERENCE
radvd_conf() {
	cat >"$1" <<EOC
interface eth0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	AdvDefaultPreference $4;
	prefix $2 { AdvOnLink on; AdvAutonomous on; };
	RDNSS $3 { };
};
EOC
	chmod 600 "$1"
}
# radvd HOST LOG CONF
radvd_run() {
	lab_bg "$1" "$2" radvd -n -m stderr -d 1 -C "$3" -p "$tmp/radvd-$1.pid"
}
lab_exec gw sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
lab_exec attacker sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
radvd_conf "$tmp/radvd-gw.conf" 2001:db8:1::/64 2001:db8:1::1 medium
radvd_conf "$tmp/radvd-att.conf" 2001:db8:66::/64 2001:db8:66::66 high

# The legitimate router runs before the sensor starts (its first RA is not missed: it
# advertises every 3-4 s).
radvd_run gw "$tmp/radvd-gw.log" "$tmp/radvd-gw.conf"
sleep 0.5
lab_running "$lab_pid" || die "radvd on gw exited: $(cat "$tmp/radvd-gw.log")"
wait_until 10 eval 'lab_exec victim timeout 3 rdisc6 -1 -w 1000 eth0 2>/dev/null | grep -q "2001:db8:1::/64"' ||
	die "radvd on gw does not advertise: $(cat "$tmp/radvd-gw.log")"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
for _ in 1 2 3; do
	lab_exec victim timeout 3 rdisc6 -1 -w 1000 eth0 >>"$tmp/rdisc6.log" 2>&1 || true
	lab_exec victim ping -6 -c 1 -W 1 2001:db8:1::1 >/dev/null || die "baseline: victim cannot ping gw over IPv6"
	sleep 1
done
sleep 3 # at least one unsolicited RA from gw

lab_phase attack
radvd_run attacker "$tmp/radvd-att.log" "$tmp/radvd-att.conf"
att_radvd=$lab_pid
for _ in 1 2 3; do
	lab_exec victim timeout 3 rdisc6 -m -w 1000 eth0 >>"$tmp/rdisc6.log" 2>&1 || true
	sleep 1
done
# A victim that accepts RAs now has the attacker as its preferred default router.
note "victim's IPv6 routes: $(lab_exec victim ip -6 route show | tr '\n' ';')"
lab_kill "$att_radvd" 3
lab_phase end

lab_sensor_stop
grep -q '2001:db8:66::/64' "$tmp/rdisc6.log" ||
	die "rogue-ra: the victim never heard the rogue RA: the attack did not happen ($(tr '\n' ';' <"$tmp/radvd-att.log"))"
lab_check --quiet baseline:4 \
	--expect "attack:ndp.rogue_router:onpath.evidence.reason=router not allowed,event.severity=8,source.mac=$LAB_ATTACKER_MAC" ||
	die "rogue-ra: alerts do not match (replay: onpath -r $lab_out/rogue-ra.pcap -c <config>)"
echo "PASS: rogue-ra"
