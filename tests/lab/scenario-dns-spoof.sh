#!/bin/sh
# Lab scenario dns-spoof: dnsmasq on gw is the LAN's resolver (configured as the only
# allowed one). Baseline: the victim resolves www.lab.example with dig (no alert >= 4).
# Attack: the attacker positions itself with dsniff's arpspoof (victim -> gw, with IP
# forwarding on, so the real resolver still answers) and runs dsniff's dnsspoof, which
# races the real answers to the victim's queries with 203.0.113.66. Expected live: dns.answer_race
# (two different answers to one query) or dns.unexpected_resolver (an answer from the
# resolver's IP but the attacker's MAC).
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init dns-spoof
lab_need arpspoof dnsspoof dnsmasq dig timeout
lab_up

lab_config "$tmp/lab.yaml"
lab_bg gw "$tmp/dnsmasq.log" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
	--user=root --pid-file= --interface=eth0 --bind-interfaces --port=53 \
	--address=/www.lab.example/"$LAB_SRV_IP" --address=/mail.lab.example/"$LAB_SRV_IP"
resolve() {
	lab_exec victim dig +short +noedns +time=1 +tries=1 @"$LAB_GW_IP" "$1" A
}
wait_until 10 eval '[ "$(resolve www.lab.example)" = "$LAB_SRV_IP" ]' ||
	die "dnsmasq on gw does not answer: $(cat "$tmp/dnsmasq.log")"
echo "203.0.113.66 *.lab.example" >"$tmp/spoof.hosts"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
for _ in 1 2 3 4; do
	[ "$(resolve www.lab.example)" = "$LAB_SRV_IP" ] || die "baseline: wrong or no answer"
	resolve mail.lab.example >/dev/null || true
	sleep 0.3
done
sleep 1

lab_phase attack
lab_forwarding
lab_bg attacker "$tmp/dnsspoof.log" timeout 20 dnsspoof -i eth0 -f "$tmp/spoof.hosts"
dnsspoof=$lab_pid
lab_bg attacker "$tmp/arpspoof.log" timeout 20 arpspoof -i eth0 -t "$LAB_VICTIM_IP" "$LAB_GW_IP"
arpspoof=$lab_pid
# The first poisoned reply: the victim sends its next query to the attacker.
wait_until 8 eval 'lab_exec victim ip neigh show "$LAB_GW_IP" | grep -qi "$LAB_ATTACKER_MAC"' ||
	note "victim ARP cache not poisoned after 8 s"
spoofed=0
for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do
	ans=$(resolve www.lab.example 2>/dev/null | head -n 1) || true
	[ "$ans" = 203.0.113.66 ] && spoofed=$((spoofed + 1))
	sleep 0.5
done
note "victim got the spoofed answer $spoofed times of 12"
lab_kill "$dnsspoof" 2
lab_kill "$arpspoof" 3
note "dnsspoof: $(head -c 400 "$tmp/dnsspoof.log" | tr '\n' ';')"
lab_phase end

lab_sensor_stop
# dnsspoof prints every query it answered; the kernel's forwarding path often beats
# it to the victim, which the sensor must see as a race either way.
sent=$(grep -c ' A? ' "$tmp/dnsspoof.log" || true)
note "dnsspoof answered $sent queries"
[ "$sent" -gt 0 ] || die "dns-spoof: dnsspoof answered no query: the attack did not happen"
lab_check --quiet baseline:4 \
	--expect-any "attack:dns.answer_race|dns.unexpected_resolver" ||
	die "dns-spoof: alerts do not match (replay: onpath -r $lab_out/dns-spoof.pcap -c <config>)"
echo "PASS: dns-spoof"
