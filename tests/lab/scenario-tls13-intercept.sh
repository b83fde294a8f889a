#!/bin/sh
# Lab scenario tls13-intercept: TLS interception seen through the server's TLS 1.3
# answer (tls.server_fingerprint_changed) alone, since TLS 1.3 encrypts the certificate.
# srv serves https://www.lab.example/ (openssl s_server -www, a certificate from the
# lab CA declared in tls.ca_files) with the TLS 1.3 policy its admin configured: the
# server's own cipher-suite preference, AES-128-GCM first (-serverpref -ciphersuites
# TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384; in nginx
# ssl_prefer_server_ciphers on + ssl_conf_command Ciphersuites; the choice Go's
# crypto/tls servers and BoringSSL front ends make too), so it answers curl with 0x1301.
# Baseline: the victim fetches it with curl --tlsv1.3, verifying against the lab CA;
# the sensor learns the server's JA4S/JA3S for www.lab.example:443 and curl's JA4 (no
# alert >= 4). Attack: the attacker ARP-poisons the victim for srv's address (dsniff
# arpspoof, IP forwarding on) and intercepts port 443 with mitmproxy (`mitmdump --mode
# transparent` behind an iptables REDIRECT); the victim keeps fetching, TLS 1.3 only,
# and clicks through (curl -k). mitmproxy answers with OpenSSL's default choice (the
# client's preference, 0x1302). Expected live: tls.server_fingerprint_changed for
# www.lab.example:443 with the old and new JA4S/JA3S in evidence, arp.ip_mac_changed
# for 192.0.2.10, an incident.mitm for the victim holding both, and no issuer.* alert
# in any phase (the certificates are encrypted). The TLS 1.2 variant, where the
# certificate shows, is scenario-tls-intercept.sh.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init tls13-intercept
lab_need openssl curl arpspoof mitmdump iptables timeout
lab_up

# The lab CA and srv's certificate (www.lab.example, 192.0.2.10).
lab_pki

lab_config "$tmp/lab.yaml"

# srv's TLS 1.3 policy: the server's preference, AES-128-GCM first.
srv_suites=TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384
lab_bg srv "$tmp/s_server.log" openssl s_server -www -accept 443 -cert "$pki/srv.pem" -key "$pki/srv.key" \
	-ciphersuites "$srv_suites" -serverpref
# fetch [CURL ARGS...]: one HTTPS GET of www.lab.example from the victim, TLS 1.3 only
fetch() {
	lab_exec victim curl -sS -m 5 --tlsv1.3 -o /dev/null -w '%{http_code} %{ssl_verify_result}\n' \
		--resolve "www.lab.example:443:$LAB_SRV_IP" "$@" https://www.lab.example/ >>"$tmp/curl.log" 2>&1
}
wait_until 10 fetch --cacert "$pki/ca.pem" || die "s_server on srv does not answer: $(cat "$tmp/s_server.log" "$tmp/curl.log")"

# mitmproxy on the attacker (started now: it needs a few seconds to load; nothing
# reaches it until the REDIRECT and the ARP poisoning).
lab_mitmdump 8443 --ssl-insecure --set flow_detail=1

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
# Fresh neighbour caches: the victim resolves srv's MAC while the sensor listens (it
# learns 192.0.2.10 -> 02:..:0a from traffic, as it would on a real LAN).
lab_exec victim ip neigh flush dev eth0
lab_exec srv ip neigh flush dev eth0
for _ in 1 2 3 4; do
	fetch --cacert "$pki/ca.pem" -v || die "baseline: TLS 1.3 fetch failed: $(tail -n 3 "$tmp/curl.log")"
	sleep 0.3
done
sleep 1

lab_phase attack
lab_forwarding
lab_redirect tcp "$LAB_SRV_IP" 443 8443
lab_arpspoof "$LAB_SRV_IP" srv
for _ in 1 2 3 4; do
	fetch -k -v || true
	sleep 0.3
done
lab_kill "$spoof" 8 # arpspoof re-ARPs for a few seconds on SIGTERM
lab_phase end

lab_sensor_stop
lab_kill "$mitm" 3
# The replay needs the lab CA of this run (tls.ca_files).
cp "$pki/ca.pem" "$lab_out/tls13-intercept-ca.pem"
intercepted=$(grep -c 'issuer: CN=mitmproxy' "$tmp/curl.log" || true)
note "curl's handshakes: $(grep 'SSL connection using' "$tmp/curl.log" | sort | uniq -c | tr '\n' ';')"
note "curl saw a mitmproxy certificate $intercepted times of 4; mitmdump: $(tail -c 800 "$tmp/mitmdump.log" | tr '\n' ';')"
[ "$intercepted" -gt 0 ] || die "tls13-intercept: no fetch was intercepted: the attack did not happen ($(tail -n 5 "$tmp/mitmdump.log" | tr '\n' ';'))"
lab_check --quiet baseline:4 \
	--expect "attack:tls.server_fingerprint_changed:onpath.evidence.server=www.lab.example:443,onpath.evidence.new.version=TLSv1.3,onpath.evidence.new.cipher=0x1302,message=it used to answer t130200_1301_,destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_SRV_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
	--expect-incident "arp.ip_mac_changed+tls.server_fingerprint_changed:destination.ip=$LAB_VICTIM_IP,onpath.incident.attackers=$LAB_ATTACKER_MAC" \
	--absent "baseline:issuer.*" --absent "attack:issuer.*" --absent "end:issuer.*" ||
	die "tls13-intercept: alerts do not match (replay: onpath -r $lab_out/tls13-intercept.pcap -c <config with tls.ca_files: [$lab_out/tls13-intercept-ca.pem]>)"
echo "PASS: tls13-intercept"
