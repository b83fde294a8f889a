#!/bin/sh
# Lab scenario tls-intercept: srv serves https://www.lab.example/ (openssl s_server -www)
# with a certificate from the lab's own CA, declared to the sensor as an enterprise CA
# (tls.ca_files). Baseline: the victim fetches it with curl, verifying against that CA,
# over TLS 1.2 and TLS 1.3 (no alert >= 4). Attack: the attacker ARP-poisons the victim
# for srv's address (dsniff arpspoof, IP forwarding on) and intercepts port 443 with
# mitmproxy (`mitmdump --mode transparent` behind an iptables REDIRECT), which mints a
# leaf for www.lab.example from its own CA (CN=mitmproxy); the victim keeps fetching
# and clicks through (curl -k). Expected live: issuer.interception_product (mitmproxy)
# and issuer.changed for www.lab.example, arp.ip_mac_changed for 192.0.2.10, and an
# incident.mitm for the victim holding the ARP and the TLS alerts.
# TLS 1.3 is intercepted too, but its certificates are encrypted and mitmproxy's
# ServerHello (Python's OpenSSL 3) is the same as s_server's (cipher 0x1302,
# extensions 43,51), so for those fetches only the ARP positioning shows; the TLS 1.2
# fetches carry the certificate evidence. scenario-tls13-intercept.sh intercepts TLS 1.3
# only, against a server with its own cipher policy, where the changed ServerHello
# (tls.server_fingerprint_changed) is the evidence.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init tls-intercept
lab_need openssl curl arpspoof mitmdump iptables timeout
lab_up

# The lab CA and srv's certificate (www.lab.example, 192.0.2.10).
lab_pki

lab_config "$tmp/lab.yaml"

lab_bg srv "$tmp/s_server.log" openssl s_server -www -accept 443 -cert "$pki/srv.pem" -key "$pki/srv.key"
# fetch TLSVERSION [CURL ARGS...]: one HTTPS GET of www.lab.example from the victim
fetch() {
	_v=$1
	shift
	case $_v in
	1.2) set -- --tlsv1.2 --tls-max 1.2 "$@" ;;
	1.3) set -- --tlsv1.3 "$@" ;;
	esac
	lab_exec victim curl -sS -m 5 -o /dev/null -w '%{http_code} %{ssl_verify_result}\n' \
		--resolve "www.lab.example:443:$LAB_SRV_IP" "$@" https://www.lab.example/ >>"$tmp/curl.log" 2>&1
}
wait_until 10 fetch 1.3 --cacert "$pki/ca.pem" || die "s_server on srv does not answer: $(cat "$tmp/s_server.log" "$tmp/curl.log")"

# mitmproxy on the attacker (started now: it needs a few seconds to load; nothing
# reaches it until the REDIRECT and the ARP poisoning).
lab_mitmdump 8443 --ssl-insecure --set flow_detail=1

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
# Fresh neighbour caches: the victim resolves srv's MAC while the sensor listens (it
# learns 192.0.2.10 -> 02:..:0a from traffic, as it would on a real LAN).
lab_exec victim ip neigh flush dev eth0
lab_exec srv ip neigh flush dev eth0
for _ in 1 2 3; do
	fetch 1.2 --cacert "$pki/ca.pem" || die "baseline: TLS 1.2 fetch failed: $(tail -n 3 "$tmp/curl.log")"
	fetch 1.3 --cacert "$pki/ca.pem" || die "baseline: TLS 1.3 fetch failed: $(tail -n 3 "$tmp/curl.log")"
	sleep 0.3
done
sleep 1

lab_phase attack
lab_forwarding
lab_redirect tcp "$LAB_SRV_IP" 443 8443
lab_arpspoof "$LAB_SRV_IP" srv
for _ in 1 2 3; do
	fetch 1.2 -k -v || true
	fetch 1.3 -k -v || true
	sleep 0.3
done
lab_kill "$spoof" 8 # arpspoof re-ARPs for a few seconds on SIGTERM
lab_phase end

lab_sensor_stop
lab_kill "$mitm" 3
# The replay needs the lab CA of this run (tls.ca_files).
cp "$pki/ca.pem" "$lab_out/tls-intercept-ca.pem"
intercepted=$(grep -c 'issuer: CN=mitmproxy' "$tmp/curl.log" || true)
note "intercepted fetches over TLS 1.3: $(grep -c 'SSL connection using TLSv1.3' "$tmp/curl.log" || true) of 3"
note "curl saw a mitmproxy certificate $intercepted times of 6; mitmdump: $(tail -c 800 "$tmp/mitmdump.log" | tr '\n' ';')"
[ "$intercepted" -gt 0 ] || die "tls-intercept: no fetch was intercepted: the attack did not happen ($(tail -n 5 "$tmp/mitmdump.log" | tr '\n' ';'))"
lab_check --quiet baseline:4 \
	--expect "attack:issuer.interception_product:onpath.evidence.product=mitmproxy,destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:issuer.changed:onpath.evidence.new_issuer=mitmproxy" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_SRV_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
	--expect-incident "arp.ip_mac_changed+issuer.interception_product:onpath.incident.attackers=mitmproxy" ||
	die "tls-intercept: alerts do not match (replay: onpath -r $lab_out/tls-intercept.pcap -c <config with tls.ca_files: [$lab_out/tls-intercept-ca.pem]>)"
echo "PASS: tls-intercept"
