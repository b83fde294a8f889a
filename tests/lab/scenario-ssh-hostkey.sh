#!/bin/sh
# Lab scenario ssh-hostkey: srv runs OpenSSH's sshd on port 22 with an ed25519 host key
# made for this run (its own config and key in the scenario's temp dir; the machine's
# /etc/ssh and any system sshd are not used). Baseline: the victim logs in three times
# with a key the scenario makes (ssh -o BatchMode=yes, a known_hosts of its own that
# learns srv's key on first use; no alert >= 4). Attack: the attacker ARP-poisons the
# victim for srv's address (dsniff arpspoof, IP forwarding on) and redirects port 22
# (iptables REDIRECT) to its own sshd with another ed25519 host key: an SSH
# man-in-the-middle. The victim connects again and clicks through the client's
# "REMOTE HOST IDENTIFICATION HAS CHANGED" warning (StrictHostKeyChecking=no); its
# login fails there (the attacker does not have its key), but the host key was shown.
# Expected live: ssh.host_key_changed for [192.0.2.10]:22 with the old and new SHA256
# fingerprints in evidence, arp.ip_mac_changed for 192.0.2.10 to the attacker's MAC,
# and one incident.mitm for the victim holding both.
# shellcheck disable=SC2016
set -eu
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
# shellcheck source=tests/lab/lab.sh
. "$top_srcdir/tests/lab/lab.sh"

lab_init ssh-hostkey
lab_need /usr/sbin/sshd ssh ssh-keygen arpspoof iptables timeout mount
lab_up

# Keys: srv's and the attacker's host keys, the victim's login key.
k=$tmp/ssh
mkdir -p "$k"
chmod 700 "$k"
for _n in srv attacker; do
	ssh-keygen -q -t ed25519 -N '' -C "$_n.lab.example" -f "$k/$_n-host" || die "ssh-keygen $_n failed"
done
ssh-keygen -q -t ed25519 -N '' -C victim -f "$k/victim" || die "ssh-keygen victim failed"
cp "$k/victim.pub" "$k/authorized_keys"
srv_fp=$(ssh-keygen -l -E sha256 -f "$k/srv-host.pub" | cut -d' ' -f2)
att_fp=$(ssh-keygen -l -E sha256 -f "$k/attacker-host.pub" | cut -d' ' -f2)
note "srv host key $srv_fp, attacker host key $att_fp"

# sshd_config HOST AUTHORIZED_KEYS: a server config of our own (no Include of /etc/ssh).
sshd_config() {
	cat <<EOF
Port 22
ListenAddress $1
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AuthorizedKeysFile $2
StrictModes no
LogLevel VERBOSE
EOF
}
sshd_config "$LAB_SRV_IP" "$k/authorized_keys" >"$k/srv.conf"
sshd_config "$LAB_ATTACKER_IP" none >"$k/attacker.conf"

# sshd needs its privilege-separation directory /run/sshd: a tmpfs over /run in the
# process's own mount namespace (ip netns exec makes one), so the machine's /run is
# not touched.
sshd_bg() {
	lab_bg "$1" "$tmp/sshd-$1.log" sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1" -h "$2"' sh "$k/$1.conf" "$k/$1-host"
}

# login [SSH OPTIONS...]: the victim runs `true` on 192.0.2.10 as root with its key.
login() {
	lab_exec victim timeout 10 ssh -F /dev/null -i "$k/victim" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o ConnectTimeout=5 -o UserKnownHostsFile="$k/known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o HostKeyAlgorithms=ssh-ed25519 "$@" "root@$LAB_SRV_IP" true >>"$tmp/ssh.log" 2>&1
}

lab_config "$tmp/lab.yaml"
sshd_bg srv
wait_until 10 eval 'lab_exec srv ss -ltn | grep -q "$LAB_SRV_IP:22 "' ||
	die "sshd on srv did not listen: $(cat "$tmp/sshd-srv.log")"
sshd_bg attacker
wait_until 10 eval 'lab_exec attacker ss -ltn | grep -q "$LAB_ATTACKER_IP:22 "' ||
	die "sshd on the attacker did not listen: $(cat "$tmp/sshd-attacker.log")"

lab_sensor_start "$tmp/lab.yaml"

lab_phase baseline
# Fresh neighbour caches: the sensor learns 192.0.2.10 -> 02:..:0a from the traffic.
lab_exec victim ip neigh flush dev eth0
lab_exec srv ip neigh flush dev eth0
for _ in 1 2 3; do
	login -o StrictHostKeyChecking=accept-new ||
		die "baseline: ssh login to srv failed: $(tail -n 5 "$tmp/ssh.log"; tail -n 5 "$tmp/sshd-srv.log")"
	sleep 0.3
done
ssh-keygen -l -E sha256 -f "$k/known_hosts" 2>/dev/null | grep -qF "$srv_fp" ||
	die "baseline: the victim's known_hosts does not hold srv's key"
sleep 1

lab_phase attack
lab_forwarding
lab_redirect tcp "$LAB_SRV_IP" 22 22
lab_arpspoof "$LAB_SRV_IP" srv
for _ in 1 2 3; do
	login -o StrictHostKeyChecking=no || true
	sleep 0.3
done
lab_kill "$spoof" 8 # arpspoof re-ARPs for a few seconds on SIGTERM
lab_phase end

lab_sensor_stop
warned=$(grep -c 'REMOTE HOST IDENTIFICATION HAS CHANGED' "$tmp/ssh.log" || true)
note "the victim's ssh warned of a changed host key $warned times of 3; attacker's sshd: $(grep -c 'Connection from' "$tmp/sshd-attacker.log" || true) connections"
[ "$warned" -gt 0 ] || die "ssh-hostkey: the victim never met the attacker's key: the attack did not happen ($(tail -n 5 "$tmp/ssh.log" | tr '\n' ';'))"
lab_check --quiet baseline:4 \
	--expect "attack:ssh.host_key_changed:onpath.evidence.server=[$LAB_SRV_IP]:22,onpath.evidence.old_fingerprint=$srv_fp,onpath.evidence.new_fingerprint=$att_fp,destination.ip=$LAB_VICTIM_IP" \
	--expect "attack:arp.ip_mac_changed:onpath.evidence.ip=$LAB_SRV_IP,onpath.evidence.new_mac=$LAB_ATTACKER_MAC" \
	--expect-incident "arp.ip_mac_changed+ssh.host_key_changed:destination.ip=$LAB_VICTIM_IP,onpath.incident.attackers=$LAB_ATTACKER_MAC" ||
	die "ssh-hostkey: alerts do not match (replay: onpath -r $lab_out/ssh-hostkey.pcap -c tests/golden/lab-config.yaml)"
echo "PASS: ssh-hostkey"
