#!/bin/sh
# Lab scenario tls-downgrade: openssl s_server on srv (192.0.2.10:443, a self-signed
# certificate for www.lab.example), openssl s_client on the victim. Both sides allow
# TLS 1.0 (an OPENSSL_CONF with MinProtocol TLSv1, SECLEVEL 0), as legacy peers do.
# Baseline: three TLS 1.3 handshakes (no alert >= 4). Attack: the server is restarted
# restricted to TLS 1.0 (-tls1, what a downgrading middlebox answers), and the victim,
# still offering TLS 1.3, gets TLS 1.0: downgrade.version against the TLS 1.3 baseline.
# Then the full server is back and the victim retries as a falling-back client does
# (s_client -fallback_scsv -tls1_1): the server refuses with inappropriate_fallback
# (RFC 7507): downgrade.fallback_scsv, outcome refused.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init tls-downgrade
lab_need openssl timeout
lab_up

lab_config "$tmp/lab.yaml"
cat >"$tmp/openssl.cnf" <<'EOF'
openssl_conf = lab
[lab]
ssl_conf = lab_ssl
[lab_ssl]
system_default = lab_tls
[lab_tls]
MinProtocol = TLSv1
CipherString = DEFAULT@SECLEVEL=0
EOF
OPENSSL_CONF=$tmp/openssl.cnf
export OPENSSL_CONF
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=www.lab.example \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/req.log" 2>&1 ||
	die "openssl req failed: $(cat "$tmp/req.log")"

# server LOG [OPTIONS]: s_server on srv:443; sets $srv
server() {
	_log=$1
	shift
	lab_bg srv "$_log" openssl s_server -accept 443 -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
		-www -quiet "$@"
	srv=$lab_pid
	wait_until 10 eval 'lab_exec srv ss -ltn 2>/dev/null | grep -q ":443 "' ||
		die "s_server did not start: $(cat "$_log")"
}
# client LOG [OPTIONS]: one handshake from the victim, then close
client() {
	_log=$1
	shift
	lab_exec victim timeout 10 openssl s_client -connect "$LAB_SRV_IP:443" \
		-servername www.lab.example "$@" </dev/null >"$_log" 2>&1 || true
}
proto() {
	sed -n 's/^ *Protocol *: *//p; s/^New, \(TLSv[0-9.]*\),.*/\1/p' "$1" | head -n 1
}

server "$tmp/srv-1.log"
lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
for i in 1 2 3; do
	client "$tmp/cli-base-$i.log"
	[ "$(proto "$tmp/cli-base-$i.log")" = TLSv1.3 ] ||
		die "baseline: handshake $i is not TLS 1.3: $(cat "$tmp/cli-base-$i.log")"
	sleep 0.3
done
sleep 1

lab_phase attack
lab_kill "$srv" 3
server "$tmp/srv-2.log" -tls1
client "$tmp/cli-down.log"
got=$(proto "$tmp/cli-down.log")
[ "$got" = TLSv1 ] || [ "$got" = TLSv1.0 ] || die "attack: the victim did not get TLS 1.0 (got '$got'): $(cat "$tmp/cli-down.log")"
sleep 0.5
lab_kill "$srv" 3
server "$tmp/srv-3.log"
client "$tmp/cli-fallback.log" -fallback_scsv -tls1_1
grep -q "inappropriate fallback" "$tmp/cli-fallback.log" ||
	note "the fallback client saw no inappropriate_fallback: $(tail -n 3 "$tmp/cli-fallback.log")"
sleep 1
lab_kill "$srv" 3
lab_phase end

lab_sensor_stop
lab_check --quiet baseline:4 \
	--expect "attack:downgrade.version:onpath.evidence.negotiated=TLSv1.0,onpath.evidence.client_offered=TLSv1.3,source.ip=$LAB_SRV_IP,destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:downgrade.fallback_scsv:onpath.evidence.outcome=inappropriate_fallback,onpath.evidence.fallback_version=TLSv1.1" ||
	die "tls-downgrade: alerts do not match (replay: onpath -r $lab_out/tls-downgrade.pcap -c <config>)"
echo "PASS: tls-downgrade"
