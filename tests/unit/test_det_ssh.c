/* test_det_ssh.c - the ssh detector (host key and downgrade baselines per server)
 * judged with hand-built struct ssh_msg events. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode/ssh.h"
#include "detfix.h"

#define TS 1700000000000000ull
#define MIN 60000000ull
#define FP_A "SHA256:2HS8bJpYBy7bDfWIQN304coFKT0s6CVPABFLYq+IX5E"
#define FP_B "SHA256:sijgBpZVy7erVIEPkg1iFzd6kBJm7+kWQS9wf+ge734"
#define FP_E "SHA256:9PgPgUOI3RdERVVa3KDE9WcqTFU9m4B20Zkjq8DC0So"

static void meta(struct ev_meta *m, uint64_t ts, uint8_t srv, bool from_server)
{
	memset(m, 0, sizeof(*m));
	uint8_t s4[4] = { 203, 0, 113, srv }, c4[4] = { 192, 0, 2, 10 };
	m->ts_us = ts;
	util_addr_set4(from_server ? &m->src : &m->dst, s4);
	util_addr_set4(from_server ? &m->dst : &m->src, c4);
	m->sport = from_server ? 22 : 40000;
	m->dport = from_server ? 40000 : 22;
	m->proto = 6;
	m->community_id = "";
}

static struct ssh_msg msg;

static void send_step(struct detfix *f, uint64_t ts, uint8_t srv, uint8_t step)
{
	struct ssh_ev ev;
	meta(&ev.m, ts, srv, true);
	msg.step = step;
	msg.from_server = true;
	ev.msg = &msg;
	det_dispatch_ssh(f->reg, &ev, f->ap);
}

static void banner(struct detfix *f, uint64_t ts, uint8_t srv, const char *proto, const char *sw)
{
	memset(&msg, 0, sizeof(msg));
	msg.banner[0].present = true;
	strcpy(msg.banner[0].proto, "2.0");
	strcpy(msg.banner[0].software, "OpenSSH_9.6");
	msg.banner[1].present = true;
	strcpy(msg.banner[1].proto, proto);
	strcpy(msg.banner[1].software, sw);
	send_step(f, ts, srv, SSH_STEP_BANNER);
}

static void hostkey(struct detfix *f, uint64_t ts, uint8_t srv, const char *type, const char *fp)
{
	memset(&msg, 0, sizeof(msg));
	msg.banner[1].present = true;
	strcpy(msg.banner[1].proto, "2.0");
	strcpy(msg.banner[1].software, "OpenSSH_9.2p1");
	msg.hostkey.present = true;
	msg.hostkey.msg = 31;
	strcpy(msg.hostkey.type, type);
	strcpy(msg.hostkey.fp, fp);
	strcpy(msg.kex_alg, "curve25519-sha256");
	send_step(f, ts, srv, SSH_STEP_HOSTKEY);
}

static void kexinit(struct detfix *f, uint64_t ts, uint8_t srv, const char *kex, const char *hk, const char *enc,
		    const char *mac)
{
	memset(&msg, 0, sizeof(msg));
	struct ssh_kexinit *k = &msg.kex[1];
	k->present = true;
	strcpy(k->list[SSH_NL_KEX], kex);
	strcpy(k->list[SSH_NL_HOSTKEY], hk);
	strcpy(k->list[SSH_NL_ENC_CS], enc);
	strcpy(k->list[SSH_NL_ENC_SC], enc);
	strcpy(k->list[SSH_NL_MAC_CS], mac);
	strcpy(k->list[SSH_NL_MAC_SC], mac);
	strcpy(k->hassh, "0123456789abcdef0123456789abcdef");
	send_step(f, ts, srv, SSH_STEP_KEXINIT);
}

#define MODERN_KEX "curve25519-sha256,diffie-hellman-group14-sha256,kex-strict-s-v00@openssh.com"
#define MODERN_HK "ssh-ed25519,rsa-sha2-512"
#define MODERN_ENC "chacha20-poly1305@openssh.com,aes128-ctr"
#define MODERN_MAC "hmac-sha2-256-etm@openssh.com,hmac-sha1"

static void test_host_key_changed(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	hostkey(f, TS, 22, "ssh-ed25519", FP_A);
	hostkey(f, TS + MIN, 22, "ssh-ed25519", FP_A);
	/* a new type alongside is not a change; another server has its own baseline */
	hostkey(f, TS + 2 * MIN, 22, "ecdsa-sha2-nistp256", FP_E);
	hostkey(f, TS + 3 * MIN, 23, "ssh-ed25519", FP_B);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	hostkey(f, TS + 4 * MIN, 22, "ssh-ed25519", FP_B);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.host_key_changed", 1);
	json_t *a = detfix_first(arr, "ssh.host_key_changed");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "server"), "[203.0.113.22]:22");
	assert_string_equal(detfix_ev_str(a, "old_fingerprint"), FP_A);
	assert_string_equal(detfix_ev_str(a, "new_fingerprint"), FP_B);
	assert_string_equal(detfix_ev_str(a, "key_type"), "ssh-ed25519");
	assert_string_equal(detfix_ev_str(a, "client"), "192.0.2.10");
	assert_string_equal(detfix_ev_str(a, "first_seen"), "2023-11-14T22:13:20.000000Z");
	assert_string_equal(detfix_ev_str(a, "last_seen"), "2023-11-14T22:14:20.000000Z");
	assert_string_equal(detfix_str(a, "source.ip"), "203.0.113.22");
	json_decref(arr);
	/* the ECDSA key stays known */
	hostkey(f, TS + 5 * MIN, 22, "ecdsa-sha2-nistp256", FP_E);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.host_key_changed", 1);
	json_decref(arr);

	/* Saved and reloaded with a learning window: a change still alerts at once. */
	json_t *saved = det_registry_save(f->reg);
	detfix_reopen(f, NULL, saved, 3600);
	hostkey(f, TS + 6 * MIN, 22, "ecdsa-sha2-nistp256", FP_A);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.host_key_changed", 1);
	assert_string_equal(detfix_ev_str(detfix_first(arr, "ssh.host_key_changed"), "old_fingerprint"), FP_E);
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);
}

/* Cold start with a learning window: first sightings are silent, and so is a fresh
 * sensor seeing each server once. */
static void test_cold_start_quiet(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 3600);
	for (int i = 1; i < 50; i++) {
		banner(f, TS + (uint64_t)i, (uint8_t)i, i % 2 ? "2.0" : "1.5", "x");
		hostkey(f, TS + (uint64_t)i, (uint8_t)i, "ssh-ed25519", i % 2 ? FP_A : FP_B);
		kexinit(f, TS + (uint64_t)i, (uint8_t)i, "diffie-hellman-group1-sha1", "ssh-dss", "3des-cbc", "hmac-md5");
	}
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	detfix_close(f);
}

static void test_protocol_downgrade(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	banner(f, TS, 23, "2.0", "OpenSSH_9.2p1");
	banner(f, TS + MIN, 23, "1.99", "OpenSSH_3.9p1"); /* compatible: silent */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	banner(f, TS + 2 * MIN, 23, "1.5", "OpenSSH_3.9p1");
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.downgrade", 1);
	json_t *a = detfix_first(arr, "ssh.downgrade");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "downgrade"), "protocol");
	assert_string_equal(detfix_ev_str(a, "new_protocol"), "1.5");
	assert_string_equal(detfix_ev_str(a, "old_software"), "OpenSSH_3.9p1");
	json_decref(arr);
	/* a server that only ever spoke SSH-1: no baseline to fall from */
	banner(f, TS + 3 * MIN, 24, "1.5", "old");
	banner(f, TS + 4 * MIN, 24, "1.5", "old");
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.downgrade", 1);
	json_decref(arr);
	detfix_close(f);
	/* downgrade: false silences both kinds */
	detfix_open(f, "detectors:\n  ssh:\n    downgrade: false\n", NULL, 0);
	banner(f, TS, 23, "2.0", "OpenSSH_9.2p1");
	banner(f, TS + MIN, 23, "1.5", "OpenSSH_3.9p1");
	kexinit(f, TS, 24, MODERN_KEX, MODERN_HK, MODERN_ENC, MODERN_MAC);
	kexinit(f, TS + MIN, 24, "diffie-hellman-group1-sha1", "ssh-dss", "3des-cbc", "hmac-md5");
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	detfix_close(f);
}

static void test_algorithm_downgrade(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	kexinit(f, TS, 24, MODERN_KEX, MODERN_HK, MODERN_ENC, MODERN_MAC);
	/* benign twins: another order, dropping one strong algorithm, adding weak ones */
	kexinit(f, TS + MIN, 24, "diffie-hellman-group14-sha256,curve25519-sha256", MODERN_HK, "aes128-ctr",
		MODERN_MAC);
	kexinit(f, TS + 2 * MIN, 24, MODERN_KEX ",diffie-hellman-group1-sha1", MODERN_HK ",ssh-dss",
		MODERN_ENC ",3des-cbc", MODERN_MAC ",hmac-md5");
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* only weak kex and ciphers left (the markers do not count as algorithms) */
	kexinit(f, TS + 3 * MIN, 24, "diffie-hellman-group1-sha1,ext-info-s,kex-strict-s-v00@openssh.com", MODERN_HK,
		"3des-cbc,arcfour", MODERN_MAC);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.downgrade", 1);
	json_t *a = detfix_first(arr, "ssh.downgrade");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(detfix_ev_str(a, "downgrade"), "algorithms");
	json_t *w = detfix_ev(a, "weakened");
	assert_int_equal(json_array_size(w), 2);
	assert_string_equal(json_string_value(json_array_get(w, 0)), "kex");
	assert_string_equal(json_string_value(json_array_get(w, 1)), "cipher");
	assert_string_equal(detfix_ev_str(a, "ciphers"), "3des-cbc,arcfour");
	json_decref(arr);
	/* save/load keeps what the server could do */
	json_t *saved = det_registry_save(f->reg);
	detfix_reopen(f, NULL, saved, 0);
	kexinit(f, TS + 4 * MIN, 24, MODERN_KEX, "ssh-dss", MODERN_ENC, "hmac-md5,hmac-sha1-96");
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.downgrade", 1);
	w = detfix_ev(detfix_first(arr, "ssh.downgrade"), "weakened");
	assert_int_equal(json_array_size(w), 2);
	assert_string_equal(json_string_value(json_array_get(w, 0)), "mac");
	assert_string_equal(json_string_value(json_array_get(w, 1)), "hostkey");
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);
}

/* The baseline is bounded: a flood of servers evicts, never grows. */
static void test_bounded(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, "detectors:\n  ssh:\n    max_servers: 16\n", NULL, 0);
	hostkey(f, TS, 1, "ssh-ed25519", FP_A);
	for (int i = 2; i < 200; i++)
		hostkey(f, TS + (uint64_t)i, (uint8_t)i, "ssh-ed25519", FP_A);
	hostkey(f, TS + MIN, 1, "ssh-ed25519", FP_B); /* forgotten: learnt again, silent */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	json_t *saved = det_registry_save(f->reg);
	assert_true(json_array_size(json_object_get(json_object_get(saved, "ssh"), "servers")) <= 16);
	json_decref(saved);
	detfix_close(f);
}

static void test_load_rejects(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	/* a foreign state: the detector starts cold and says so, the others load */
	json_t *saved = json_pack("{s:{s:i}}", "ssh", "version", 9);
	detfix_open(f, NULL, saved, 0);
	hostkey(f, TS, 22, "ssh-ed25519", FP_A);
	hostkey(f, TS + MIN, 22, "ssh-ed25519", FP_B);
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "ssh.host_key_changed", 1);
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);
}

static void test_config_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  ssh:\n    nope: 1\n", "t.yaml:3:" },
		{ "detectors:\n  ssh:\n    max_servers: 1\n", "max_servers" },
		{ "detectors:\n  ssh:\n    downgrade: maybe\n", "downgrade" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_key_changed),
		cmocka_unit_test(test_cold_start_quiet),
		cmocka_unit_test(test_protocol_downgrade),
		cmocka_unit_test(test_algorithm_downgrade),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_load_rejects),
		cmocka_unit_test(test_config_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
