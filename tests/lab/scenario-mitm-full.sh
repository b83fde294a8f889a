#!/bin/sh
# Lab scenario mitm-full: the whole story of issue #10 in one run - ARP poisoning, a DNS
# answer manipulated, and TLS served by an interceptor - which must make ONE incident
# for the victim holding all three layers.
# gw runs dnsmasq, the LAN's resolver (www.lab.example -> srv 192.0.2.10); srv serves
# https://www.lab.example/ (openssl s_server) with a certificate from the lab CA
# (declared to the sensor in tls.ca_files). Baseline: the victim resolves the name at
# gw and fetches the page, verifying the certificate (no alert >= 4).
# Attack: the attacker ARP-poisons the victim for gw (dsniff arpspoof, forwarding on),
# takes the victim's DNS queries to gw into its own dnsmasq (iptables REDIRECT: the
# answer still says it comes from 192.0.2.1, from the attacker's MAC), which answers
# www.lab.example with the attacker's address, where mitmproxy (reverse mode toward
# srv) serves the site with a leaf minted by its own CA; the victim clicks through
# (curl -k). Expected live: arp.ip_mac_changed for 192.0.2.1, dns.unexpected_resolver
# (the resolver's address, another MAC), issuer.interception_product (mitmproxy), and
# one incident.mitm for 192.0.2.100 with the three.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init mitm-full
lab_need openssl curl arpspoof mitmdump iptables dnsmasq dig timeout
lab_up

lab_pki "DNS:www.lab.example"

lab_config "$tmp/lab.yaml"

dnsmasq_args() { # the lab's name service: NAME ADDRESS
	echo "-k --conf-file=/dev/null --no-resolv --no-hosts --user=root --pid-file= --interface=eth0"
	echo "--bind-interfaces --port=53 --address=/$1/$2"
}
# shellcheck disable=SC2046
lab_bg gw "$tmp/dnsmasq-gw.log" dnsmasq $(dnsmasq_args www.lab.example "$LAB_SRV_IP")
lab_bg srv "$tmp/s_server.log" openssl s_server -www -accept 443 -cert "$pki/srv.pem" -key "$pki/srv.key"
resolve() {
	lab_exec victim dig +short +noedns +time=1 +tries=1 @"$LAB_GW_IP" www.lab.example A | head -n 1
}
# fetch [CURL ARGS...]: resolve at gw, then one HTTPS GET of the address it gave.
fetch() {
	_a=$(resolve 2>/dev/null) || return 1
	[ -n "$_a" ] || return 1
	lab_exec victim curl -sS -m 5 -o /dev/null -w '%{http_code} %{ssl_verify_result}\n' --tlsv1.2 \
		--tls-max 1.2 --resolve "www.lab.example:443:$_a" "$@" https://www.lab.example/ \
		>>"$tmp/curl.log" 2>&1
}
wait_until 10 eval '[ "$(resolve)" = "$LAB_SRV_IP" ]' || die "dnsmasq on gw does not answer"
wait_until 10 fetch --cacert "$pki/ca.pem" || die "s_server on srv does not answer: $(cat "$tmp/curl.log")"

# The attacker's pieces, idle until the attack: its own dnsmasq, mitmproxy in front of
# srv (reverse mode: it opens its own TLS to srv and mints a leaf for the SNI).
# shellcheck disable=SC2046
lab_bg attacker "$tmp/dnsmasq-att.log" dnsmasq $(dnsmasq_args www.lab.example "$LAB_ATTACKER_IP")
mkdir -p "$tmp/mitm"
lab_bg attacker "$tmp/mitmdump.log" mitmdump --mode "reverse:https://$LAB_SRV_IP:443" \
	--listen-host "$LAB_ATTACKER_IP" --listen-port 443 --set confdir="$tmp/mitm" --ssl-insecure \
	--set flow_detail=1
mitm=$lab_pid
wait_until 30 eval 'lab_exec attacker ss -ltn | grep -q "$LAB_ATTACKER_IP:443 "' ||
	die "mitmdump did not listen: $(cat "$tmp/mitmdump.log")"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
lab_exec victim ip neigh flush dev eth0
for _ in 1 2 3; do
	fetch --cacert "$pki/ca.pem" || die "baseline: fetch failed: $(tail -n 3 "$tmp/curl.log")"
	sleep 0.3
done
sleep 1

lab_phase attack
lab_forwarding
lab_redirect udp "$LAB_GW_IP" 53 53
lab_arpspoof "$LAB_GW_IP" gw
spoofed=0
for _ in 1 2 3 4 5 6; do
	[ "$(resolve 2>/dev/null)" = "$LAB_ATTACKER_IP" ] && spoofed=$((spoofed + 1))
	fetch -k -v || true
	sleep 0.3
done
lab_kill "$spoof" 8
lab_phase end

lab_sensor_stop
lab_kill "$mitm" 3
cp "$pki/ca.pem" "$lab_out/mitm-full-ca.pem"
intercepted=$(grep -c 'issuer: CN=mitmproxy' "$tmp/curl.log" || true)
note "spoofed answers: $spoofed of 6; curl saw a mitmproxy certificate $intercepted times"
[ "$intercepted" -gt 0 ] || die "mitm-full: no fetch was intercepted: the attack did not happen ($(tail -n 5 "$tmp/mitmdump.log" | tr '\n' ';'))"
lab_check --quiet baseline:4 \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_GW_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
	--expect "attack:dns.unexpected_resolver:destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:issuer.interception_product:onpath.evidence.product=mitmproxy,destination.ip=$LAB_VICTIM_IP" \
	--expect-incident "arp.ip_mac_changed+dns.unexpected_resolver+issuer.interception_product:onpath.incident.attackers=mitmproxy" ||
	die "mitm-full: alerts do not match (replay: onpath -r $lab_out/mitm-full.pcap -c <config with tls.ca_files: [$lab_out/mitm-full-ca.pem]>)"
echo "PASS: mitm-full"
