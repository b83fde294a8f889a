#!/bin/sh
# Lab scenario rogue-resolver: dnsmasq on gw is the LAN's resolver (detectors.dns.resolvers
# lists only 192.0.2.1). Baseline: the victim resolves lab names with dig at gw (no
# alert >= 4). Attack: a second dnsmasq on the attacker answers every *.lab.example name
# with the attacker's own address, and the victim is pointed at it by hand (dig @attacker,
# what a hijacked resolv.conf or a rogue DHCP/RA option does). Expected live:
# dns.unexpected_resolver, reason not_allowed, from 192.0.2.66 to the victim.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init rogue-resolver
lab_need dnsmasq dig timeout
lab_up

lab_config "$tmp/lab.yaml"
# resolver HOST LOG ADDRESS: dnsmasq answering *.lab.example with ADDRESS (no upstream)
resolver() {
	lab_bg "$1" "$2" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
		--user=root --pid-file= --interface=eth0 --bind-interfaces --port=53 \
		--address=/lab.example/"$3"
}
resolve() {
	lab_exec victim dig +short +noedns +time=1 +tries=1 @"$1" "$2" A
}
resolver gw "$tmp/dnsmasq-gw.log" "$LAB_SRV_IP"
wait_until 10 eval '[ "$(resolve "$LAB_GW_IP" www.lab.example)" = "$LAB_SRV_IP" ]' ||
	die "dnsmasq on gw does not answer: $(cat "$tmp/dnsmasq-gw.log")"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
for n in www mail www intranet; do
	[ "$(resolve "$LAB_GW_IP" $n.lab.example)" = "$LAB_SRV_IP" ] || die "baseline: wrong or no answer for $n"
	sleep 0.3
done
sleep 1

lab_phase attack
resolver attacker "$tmp/dnsmasq-att.log" "$LAB_ATTACKER_IP"
att=$lab_pid
# The victim's next lookups go to the attacker's resolver (dnsmasq needs a moment to bind).
wait_until 10 eval '[ "$(resolve "$LAB_ATTACKER_IP" www.lab.example)" = "$LAB_ATTACKER_IP" ]' ||
	die "dnsmasq on attacker does not answer: $(cat "$tmp/dnsmasq-att.log")"
spoofed=1
for n in mail intranet www; do
	[ "$(resolve "$LAB_ATTACKER_IP" $n.lab.example)" = "$LAB_ATTACKER_IP" ] && spoofed=$((spoofed + 1))
	sleep 0.3
done
note "victim got the attacker's address $spoofed times of 4"
lab_kill "$att" 3
lab_phase end

lab_sensor_stop
lab_check --quiet baseline:4 \
	--expect "attack:dns.unexpected_resolver:onpath.evidence.reason=not_allowed,source.ip=$LAB_ATTACKER_IP,destination.ip=$LAB_VICTIM_IP" ||
	die "rogue-resolver: alerts do not match (replay: onpath -r $lab_out/rogue-resolver.pcap -c <config>)"
echo "PASS: rogue-resolver"
