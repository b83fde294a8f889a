#!/bin/sh
# Lab scenario arp-poison: dsniff's arpspoof tells the victim that the gateway's IP is
# at the attacker's MAC. Baseline: the victim pings the gateway and fetches a page from
# srv (no alert >= 4). Attack: `arpspoof -i eth0 -t victim gw` for a bounded time.
# Expected live: arp.ip_mac_changed for the protected gateway 192.0.2.1 with
# new_mac 02:00:00:00:00:66 (the configured owner is 02:00:00:00:00:01).
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init arp-poison
lab_need arpspoof ping curl timeout
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
lab_bg attacker "$tmp/arpspoof.log" timeout 8 arpspoof -i eth0 -t "$LAB_VICTIM_IP" "$LAB_GW_IP"
spoof=$lab_pid
# The victim keeps talking to its gateway while poisoned (its packets now go to the
# attacker, which does not forward them: losses are expected).
for _ in 1 2 3 4 5 6; do
	lab_exec victim ping -c 1 -W 1 "$LAB_GW_IP" >/dev/null 2>&1 || true
	sleep 0.5
done
wait_until 15 eval '! lab_running '"$spoof" || note "arpspoof still running after 15 s"
lab_kill "$spoof" 2
note "arpspoof: $(head -c 600 "$tmp/arpspoof.log" | tr '\n' ';')"
lab_phase end

lab_sensor_stop
lab_check --quiet baseline:4 \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.new_mac=$LAB_ATTACKER_MAC,onpath.evidence.ip=$LAB_GW_IP" ||
	die "arp-poison: alerts do not match (replay: onpath -r $lab_out/arp-poison.pcap -c <config>)"
echo "PASS: arp-poison"
