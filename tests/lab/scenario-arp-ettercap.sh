#!/bin/sh
# Lab scenario arp-ettercap: ettercap (text UI, ettercap-text-only) poisons the victim
# and the gateway both ways (-M arp:remote) and forwards between them itself.
# Baseline: the victim pings the gateway and fetches a page from srv (no alert >= 4).
# Attack: `ettercap -T -q -M arp:remote /victim// /gw//` for a bounded time (it
# re-ARPs both targets on exit). Expected live: arp.ip_mac_changed for the protected
# gateway 192.0.2.1 with new_mac 02:00:00:00:00:66 (the configured owner is
# 02:00:00:00:00:01), and for the victim 192.0.2.100 (poisoned in gw's cache).
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init arp-ettercap
lab_need ettercap ping curl timeout
lab_up

lab_config "$tmp/lab.yaml"
mkdir -p "$tmp/www"
echo "hello from srv" >"$tmp/www/index.html"
lab_bg srv "$tmp/http.log" "$PYTHON3" -m http.server --bind "$LAB_SRV_IP" --directory "$tmp/www" 80
wait_until 10 lab_exec victim curl -fsS -m 1 -o /dev/null "http://$LAB_SRV_IP/" ||
	die "http server on srv did not come up: $(cat "$tmp/http.log")"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
for _ in 1 2 3; do
	lab_exec victim ping -c 1 -W 1 "$LAB_GW_IP" >/dev/null || die "baseline: victim cannot ping gw"
	lab_exec victim curl -fsS -m 2 -o /dev/null "http://$LAB_SRV_IP/" || die "baseline: curl to srv failed"
	lab_exec srv ping -c 1 -W 1 "$LAB_GW_IP" >/dev/null || true
	sleep 0.5
done
sleep 1

lab_phase attack
# -T text UI, -q quiet. ettercap reads commands from stdin and may quit on EOF, so
# it gets a pipe that stays open a little longer than it runs; `timeout -s INT` ends
# it the way ^C does (it then re-ARPs both targets with their real MACs).
lab_bg attacker "$tmp/ettercap.log" sh -c 'sleep 11 | timeout -s INT 9 ettercap -T -q -i eth0 -M arp:remote "/$1//" "/$2//"' sh "$LAB_VICTIM_IP" "$LAB_GW_IP"
spoof=$lab_pid
wait_until 8 eval 'lab_exec victim ip neigh show "$LAB_GW_IP" | grep -qi "$LAB_ATTACKER_MAC"' ||
	note "victim ARP cache not poisoned after 8 s"
# The victim keeps talking to its gateway and to srv while poisoned (ettercap forwards).
for _ in 1 2 3 4 5 6; do
	lab_exec victim ping -c 1 -W 1 "$LAB_GW_IP" >/dev/null 2>&1 || true
	lab_exec victim curl -fsS -m 1 -o /dev/null "http://$LAB_SRV_IP/" >/dev/null 2>&1 || true
	sleep 0.3
done
wait_until 15 eval '! lab_running '"$spoof" || note "ettercap still running after 15 s"
lab_kill "$spoof" 2
note "ettercap: $(head -c 1500 "$tmp/ettercap.log" | tr '\n' ';')"
lab_phase end

lab_sensor_stop
lab_check --quiet baseline:4 \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.new_mac=$LAB_ATTACKER_MAC,onpath.evidence.ip=$LAB_GW_IP" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.new_mac=$LAB_ATTACKER_MAC,onpath.evidence.ip=$LAB_VICTIM_IP" ||
	die "arp-ettercap: alerts do not match (replay: onpath -r $lab_out/arp-ettercap.pcap -c <config>)"
echo "PASS: arp-ettercap"
