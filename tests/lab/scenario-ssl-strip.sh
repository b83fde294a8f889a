#!/bin/sh
# Lab scenario ssl-strip: nginx on srv (nginx-light) answers http://www.lab.example/ with
# a 301 to https://www.lab.example/ and serves the HTTPS site (certificate from the
# lab's own CA, declared in tls.ca_files; Strict-Transport-Security; a login form
# posting to https://www.lab.example/login, which sets a Secure session cookie).
# www.lab.example is an HSTS name for the sensor (detectors.http.hsts_names).
# Baseline: the victim fetches http:// (the redirect, not followed) and then the HTTPS
# site and its login with curl (no alert >= 4). Attack: the attacker ARP-poisons the
# victim for srv's address (dsniff arpspoof, IP forwarding on), REDIRECTs port 80 into
# mitmproxy (`mitmdump --mode transparent`) with tests/lab/mitm-sslstrip.py, an addon
# doing what sslstrip does: https:// rewritten to http:// in Location and links,
# the hosts it rewrote fetched over HTTPS, HSTS and the cookies' Secure flag dropped.
# The victim opens http://www.lab.example/ as a browser would (curl -L: the redirect
# now points to http://, the login page comes in clear), then posts the login form
# and sends the session cookie in clear.
# Expected live: http.https_redirect_stripped for www.lab.example (location_http and
# served_in_clear, with the login form), http.hsts_plaintext (login form, password
# POST, session cookie), arp.ip_mac_changed for 192.0.2.10 and an incident.mitm holding
# the ARP and HTTP alerts.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init ssl-strip
lab_need openssl curl nginx arpspoof mitmdump iptables timeout
lab_up

# The lab CA and srv's certificate (www.lab.example, 192.0.2.10), as tls-intercept.
lab_pki

lab_config "$tmp/lab.yaml"
cat >>"$tmp/lab.yaml" <<EOF
  http:
    hsts_names: [www.lab.example]
EOF

# nginx on srv: its own prefix under $tmp, in the foreground (ended by PID).
ngx=$tmp/nginx
mkdir -p "$ngx/www"
cat >"$ngx/www/index.html" <<'EOF'
<!doctype html>
<html><head><title>lab login</title></head><body>
<form method="post" action="https://www.lab.example/login">
<input name="user"> <input type="password" name="password"> <button>Log in</button>
</form>
<p><a href="https://www.lab.example/help.html">help</a></p>
</body></html>
EOF
cat >"$ngx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/error.log;
events { worker_connections 64; }
http {
	access_log $ngx/access.log;
	client_body_temp_path $ngx/body;
	proxy_temp_path $ngx/proxy;
	fastcgi_temp_path $ngx/fastcgi;
	uwsgi_temp_path $ngx/uwsgi;
	scgi_temp_path $ngx/scgi;
	default_type text/html;
	server {
		listen $LAB_SRV_IP:80;
		server_name www.lab.example;
		return 301 https://www.lab.example\$request_uri;
	}
	server {
		listen $LAB_SRV_IP:443 ssl;
		server_name www.lab.example;
		ssl_certificate $pki/srv.pem;
		ssl_certificate_key $pki/srv.key;
		root $ngx/www;
		add_header Strict-Transport-Security "max-age=31536000" always;
		location = /login {
			add_header Strict-Transport-Security "max-age=31536000" always;
			add_header Set-Cookie "SESSIONID=lab-session-1; Path=/; Secure; HttpOnly" always;
			return 200 "welcome\n";
		}
	}
}
EOF
lab_bg srv "$tmp/nginx.log" nginx -e "$ngx/error.log" -c "$ngx/nginx.conf"
wait_until 10 eval 'lab_exec srv ss -ltn 2>/dev/null | grep -q ":443 "' ||
	die "nginx did not start: $(cat "$tmp/nginx.log" "$ngx/error.log")"

# curl_v LOG URL [CURL ARGS...]: one request from the victim, www.lab.example at srv
curl_v() {
	_log=$1
	_url=$2
	shift 2
	lab_exec victim curl -sS -m 5 --resolve "www.lab.example:80:$LAB_SRV_IP" \
		--resolve "www.lab.example:443:$LAB_SRV_IP" -o "$_log.body" -D "$_log.head" \
		-w '%{http_code} %{url_effective}\n' "$@" "$_url" >>"$_log" 2>&1
}

# mitmproxy on the attacker (started now: it needs a few seconds to load).
lab_mitmdump 8080 --ssl-insecure --set flow_detail=1 -s "$top_srcdir/tests/lab/mitm-sslstrip.py"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
lab_exec victim ip neigh flush dev eth0
lab_exec srv ip neigh flush dev eth0
for i in 1 2 3; do
	curl_v "$tmp/base-$i" http://www.lab.example/ ||
		die "baseline: http fetch failed: $(cat "$tmp/base-$i")"
	grep -qi '^location: https://www.lab.example/' "$tmp/base-$i.head" ||
		die "baseline: no redirect to https: $(cat "$tmp/base-$i.head")"
	curl_v "$tmp/base-s$i" https://www.lab.example/ --cacert "$pki/ca.pem" ||
		die "baseline: https fetch failed: $(cat "$tmp/base-s$i")"
	curl_v "$tmp/base-l$i" https://www.lab.example/login --cacert "$pki/ca.pem" \
		-d user=alice -d password=lab-secret || die "baseline: https login failed: $(cat "$tmp/base-l$i")"
	sleep 0.3
done
sleep 1

lab_phase attack
lab_forwarding
lab_redirect tcp "$LAB_SRV_IP" 80 8080
lab_arpspoof "$LAB_SRV_IP" srv
# A browser's first visit: http://, following redirects, keeping cookies.
curl_v "$tmp/att-1" http://www.lab.example/ -L --max-redirs 3 -c "$tmp/jar" || true
# The login form's action (rewritten to http://) and the session cookie, in clear.
curl_v "$tmp/att-2" http://www.lab.example/login -b "$tmp/jar" -c "$tmp/jar" \
	-d user=alice -d password=lab-secret || true
curl_v "$tmp/att-3" http://www.lab.example/ -b "$tmp/jar" || true
sleep 0.5
lab_kill "$spoof" 8 # arpspoof re-ARPs for a few seconds on SIGTERM
lab_phase end

lab_sensor_stop
lab_kill "$mitm" 3
cp "$pki/ca.pem" "$lab_out/ssl-strip-ca.pem"
note "victim: $(cat "$tmp/att-1" "$tmp/att-2" "$tmp/att-3" | tr '\n' ';') cookies: $(grep -c SESSIONID "$tmp/jar" 2>/dev/null || true)"
note "mitmdump: $(grep sslstrip "$tmp/mitmdump.log" | tr '\n' ';')"
grep -q 'action="http://www.lab.example/login"' "$tmp/att-1.body" ||
	die "ssl-strip: the victim did not get the stripped login page: the attack did not happen ($(cat "$tmp/att-1"; tail -n 5 "$tmp/mitmdump.log" | tr '\n' ';'))"
lab_check --quiet baseline:4 \
	--expect "attack:http.https_redirect_stripped:onpath.evidence.reason=location_http,onpath.evidence.host=www.lab.example,onpath.evidence.new_location=http://www.lab.example/" \
	--expect "attack:http.https_redirect_stripped:onpath.evidence.reason=served_in_clear,onpath.evidence.login_form=true,destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:http.hsts_plaintext:onpath.evidence.reason=login_form" \
	--expect "attack:http.hsts_plaintext:onpath.evidence.reason=password_form_post,source.ip=$LAB_VICTIM_IP" \
	--expect "attack:http.hsts_plaintext:onpath.evidence.reason=session_cookie" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_SRV_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
	--expect-incident "arp.ip_mac_changed+http.https_redirect_stripped" ||
	die "ssl-strip: alerts do not match (replay: onpath -r $lab_out/ssl-strip.pcap -c <config with tls.ca_files: [$lab_out/ssl-strip-ca.pem], detectors.http.hsts_names: [www.lab.example]>)"
echo "PASS: ssl-strip"
