#!/bin/sh
# Lab scenario benign-busy: every real service at once and no attacker, for ~40 s.
#  - gw: dnsmasq as the LAN's resolver and DHCP server (2-minute leases; the victim's
#    lease is its own address), radvd advertising 2001:db8:1::/64 (IPv6 on, LAB_IPV6=1);
#  - srv: HTTPS (openssl s_server -www, certificate from the lab CA, declared in
#    tls.ca_files) and HTTP (python3 http.server);
#  - gw and srv: keepalived VRRP, two instances: virtual router 51 (192.0.2.254 on the
#    VRRP virtual MAC 00:00:5e:00:01:33, use_vmac) and 52 (192.0.2.253 on the routers'
#    own MACs, keepalived's default, NOT declared anywhere: the fhrp detector learns the
#    speakers and the arp detector allows the move, detectors/arp.c vrrp_failover());
#    gw is master until its keepalived stops (priority-0 advertisement), then srv takes
#    both addresses over: a legitimate failover;
#  - victim and attacker (here only a second client): DNS lookups, HTTPS over TLS 1.2
#    and 1.3, HTTP, pings of the gateway, the virtual IP and srv over IPv4 and IPv6,
#    DHCP discover and renewals (busybox udhcpc, SIGUSR1), router solicitations.
# Expected: no alert of severity >= 4 at all (informational ones are allowed).
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init benign-busy
lab_need dnsmasq udhcpc keepalived radvd rdisc6 openssl curl dig ping timeout
LAB_IPV6=1
lab_up
VIP=192.0.2.254
VIP2=192.0.2.253

# --- PKI (lab CA, srv's certificate for www.lab.example)
lab_pki

lab_config "$tmp/lab.yaml"
# The second VRRP instance moves its address between the routers' own MACs. It is not
# declared (detectors.arp.failover): the VRRP advertisements tell the sensor.

# --- gw: resolver + DHCP, router advertisements
lab_bg gw "$tmp/dnsmasq.log" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
	--user=root --pid-file= --interface=eth0 --bind-interfaces --port=53 \
	--address=/www.lab.example/"$LAB_SRV_IP" --address=/mail.lab.example/"$LAB_SRV_IP" \
	--address=/vip.lab.example/"$VIP" \
	--dhcp-leasefile="$tmp/gw.leases" --dhcp-authoritative --no-ping --log-dhcp --log-facility=- \
	--dhcp-range=192.0.2.150,192.0.2.159,255.255.255.0,2m \
	--dhcp-host="$LAB_VICTIM_MAC,$LAB_VICTIM_IP" --dhcp-host="$LAB_ATTACKER_MAC,$LAB_ATTACKER_IP" \
	--dhcp-option=3,"$LAB_GW_IP" --dhcp-option=6,"$LAB_GW_IP"
cat >"$tmp/radvd.conf" <<EOF
interface eth0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
	RDNSS 2001:db8:1::1 { };
};
EOF
chmod 600 "$tmp/radvd.conf"
lab_exec gw sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
lab_bg gw "$tmp/radvd.log" radvd -n -m stderr -d 1 -C "$tmp/radvd.conf" -p "$tmp/radvd.pid"

# --- gw + srv: keepalived VRRP with the virtual MAC
# keepalived_conf HOST STATE PRIORITY
keepalived_conf() {
	cat >"$tmp/ka-$1.conf" <<EOF
global_defs {
	router_id lab-$1
	vrrp_garp_master_refresh 0
}
vrrp_instance lab {
	state $2
	interface eth0
	use_vmac vrrp51
	vmac_xmit_base
	virtual_router_id 51
	priority $3
	advert_int 1
	virtual_ipaddress {
		$VIP/24
	}
}
vrrp_instance lab2 {
	state $2
	interface eth0
	virtual_router_id 52
	priority $3
	advert_int 1
	virtual_ipaddress {
		$VIP2/24
	}
}
EOF
}
keepalived_run() {
	lab_bg "$1" "$tmp/ka-$1.log" keepalived -n -l -D -P -f "$tmp/ka-$1.conf" \
		-p "$tmp/ka-$1.pid" -r "$tmp/ka-$1-vrrp.pid"
}
keepalived_conf gw MASTER 150
keepalived_conf srv BACKUP 100
keepalived_run gw
ka_gw=$lab_pid
keepalived_run srv
ka_srv=$lab_pid

# --- srv: HTTPS and HTTP
lab_bg srv "$tmp/s_server.log" openssl s_server -www -accept 443 -cert "$pki/srv.pem" -key "$pki/srv.key"
mkdir -p "$tmp/www"
echo "hello from srv" >"$tmp/www/index.html"
lab_bg srv "$tmp/http.log" "$PYTHON3" -m http.server --bind "$LAB_SRV_IP" --directory "$tmp/www" 80

resolve() { # HOST NAME
	lab_exec "$1" dig +short +time=1 +tries=1 @"$LAB_GW_IP" "$2" A
}
fetch() { # HOST TLSVERSION
	case $2 in
	1.2) _tv="--tlsv1.2 --tls-max 1.2" ;;
	*) _tv=--tlsv1.3 ;;
	esac
	# shellcheck disable=SC2086
	lab_exec "$1" curl -sS -m 5 -o /dev/null $_tv --cacert "$pki/ca.pem" \
		--resolve "www.lab.example:443:$LAB_SRV_IP" https://www.lab.example/ >>"$tmp/curl.log" 2>&1
}
vip_master() { # HOST: the virtual IP is on HOST's VRRP interface
	lab_exec "$1" ip -4 addr show dev vrrp51 2>/dev/null | grep -q "$VIP/"
}
wait_until 10 eval '[ "$(resolve victim www.lab.example)" = "$LAB_SRV_IP" ]' ||
	die "dnsmasq on gw does not answer: $(cat "$tmp/dnsmasq.log")"
wait_until 10 fetch victim 1.3 || die "s_server on srv does not answer: $(cat "$tmp/s_server.log" "$tmp/curl.log")"
wait_until 10 lab_exec victim curl -fsS -m 1 -o /dev/null "http://$LAB_SRV_IP/" ||
	die "http server on srv did not come up: $(cat "$tmp/http.log")"
wait_until 15 vip_master gw || die "keepalived on gw did not take the virtual IP: $(tail -n 20 "$tmp/ka-gw.log")"
note "VRRP: gw is master of $VIP ($(lab_exec gw ip -br link show dev vrrp51))"

lab_sensor_start "$tmp/lab.yaml"
# udhcpc in the background on the victim: a lease now, renewals on SIGUSR1.
# -s /bin/true: the lease (its own static address) is not applied again.
lab_bg victim "$tmp/udhcpc.log" udhcpc -f -i eth0 -t 5 -T 1 -A 1 -s /bin/true
udhcpc=$lab_pid

# One round of client traffic from HOST.
round() {
	_h=$1
	for n in www mail vip; do
		resolve "$_h" $n.lab.example >/dev/null || note "$_h: lookup of $n failed"
	done
	fetch "$_h" 1.2 || note "$_h: TLS 1.2 fetch failed"
	fetch "$_h" 1.3 || note "$_h: TLS 1.3 fetch failed"
	lab_exec "$_h" curl -fsS -m 2 -o /dev/null "http://$LAB_SRV_IP/" || note "$_h: HTTP failed"
	lab_exec "$_h" ping -c 1 -W 1 "$LAB_GW_IP" >/dev/null || note "$_h: ping gw failed"
	lab_exec "$_h" ping -c 1 -W 1 "$VIP" >/dev/null || note "$_h: ping $VIP failed"
	lab_exec "$_h" ping -c 1 -W 1 "$VIP2" >/dev/null || note "$_h: ping $VIP2 failed"
	lab_exec "$_h" ping -6 -c 1 -W 1 2001:db8:1::a >/dev/null || note "$_h: ping6 srv failed"
}

lab_phase busy
t_end=$(($(date +%s) + 20))
i=0
while [ "$(date +%s)" -lt "$t_end" ]; do
	i=$((i + 1))
	round victim
	round attacker
	[ $((i % 3)) -eq 0 ] && kill -USR1 "$udhcpc" 2>/dev/null # DHCP renewal
	[ $((i % 4)) -eq 0 ] && lab_exec victim timeout 3 rdisc6 -1 -w 1000 eth0 >/dev/null 2>&1
	sleep 0.5
done
note "busy: $i rounds"

lab_phase failover
lab_kill "$ka_gw" 5 # keepalived gives the address up (priority 0 advertisement)
wait_until 10 vip_master srv || die "srv did not take the virtual IP over: $(tail -n 20 "$tmp/ka-srv.log")"
note "VRRP: srv is master of $VIP now"
t_end=$(($(date +%s) + 15))
while [ "$(date +%s)" -lt "$t_end" ]; do
	i=$((i + 1))
	round victim
	round attacker
	[ $((i % 3)) -eq 0 ] && kill -USR1 "$udhcpc" 2>/dev/null
	sleep 0.5
done
# A fresh DHCP exchange from the second client too.
lab_exec attacker timeout 10 udhcpc -f -q -n -i eth0 -t 5 -T 1 -A 1 -s /bin/true >>"$tmp/udhcpc2.log" 2>&1 ||
	note "second client: no lease"
lab_kill "$udhcpc" 3
lab_kill "$ka_srv" 5
lab_phase end

lab_sensor_stop
# The replay needs the lab CA of this run (tls.ca_files).
cp "$pki/ca.pem" "$lab_out/benign-busy-ca.pem"
cp "$tmp/lab.yaml" "$lab_out/benign-busy.yaml"
leases=$(grep -c 'DHCPACK' "$tmp/dnsmasq.log" || true)
note "dnsmasq acknowledged $leases DHCP requests; curl errors: $(grep -c 'curl:' "$tmp/curl.log" || true)"
[ "$leases" -ge 2 ] || die "benign-busy: too few DHCP exchanges ($leases): no renewal happened"
lab_check --quiet before:4 --quiet busy:4 --quiet failover:4 --quiet end:4 ||
	die "benign-busy: an alert above informational on benign traffic (replay: onpath -r $lab_out/benign-busy.pcap -c $lab_out/benign-busy.yaml after pointing its ca_files at $lab_out/benign-busy-ca.pem)"
echo "PASS: benign-busy"
