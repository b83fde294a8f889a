/* test_det_names.c - the names detector (detectors/names.c): LLMNR, mDNS and NBT-NS
 * answers built by hand (struct dns_msg filled field by field). A Responder-style host
 * answering for many names, for a name another host registered or announced, and for
 * wpad; legitimate hosts answering for themselves, group names, WINS answers and
 * configured responders stay silent. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "decode/dns.h"
#include "output.h"
#include "detfix.h"

#define T0 1700000000000000ull
#define SEC 1000000ull

static struct dns_msg MSG;

/* ------------------------------------------------------------------ events */

/* Hosts: victim 192.0.2.20, real file server 192.0.2.30, Responder 192.0.2.66. */
#define VICTIM "192.0.2.20"
#define VICTIM_MAC "02:00:00:00:00:20"
#define SERVER "192.0.2.30"
#define SERVER_MAC "02:00:00:00:00:30"
#define EVIL "192.0.2.66"
#define EVIL_MAC "02:00:00:00:00:66"

/* NetBIOS first-level encoding of a name padded to 15 with suffix sfx. */
static void nb_encode(const char *name, uint8_t sfx, char out[33])
{
	uint8_t raw[16];
	memset(raw, ' ', 15);
	memcpy(raw, name, strlen(name));
	raw[15] = sfx;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (char)('A' + (raw[i] >> 4));
		out[2 * i + 1] = (char)('A' + (raw[i] & 15));
	}
	out[32] = '\0';
}

static void put_rr(const char *name, uint16_t type, const char *addr, uint16_t aux, int section)
{
	struct dns_msg *d = &MSG;
	struct dns_rr *rr = &d->rr[d->nrr++];
	memset(rr, 0, sizeof(*rr));
	rr->section = (uint8_t)section;
	rr->type = type;
	rr->klass = DNS_C_IN;
	rr->ttl = 30;
	rr->name = dec_dns_put(d, name, strlen(name));
	rr->name_hash = dec_dns_name_hash(name, strlen(name));
	rr->data = dec_dns_put(d, addr, strlen(addr));
	rr->aux = aux;
	rr->rdlen = type == DNS_T_NB ? 6 : type == DNS_T_A ? 4 : 16;
	assert_int_equal(util_addr_parse(addr, &rr->addr), 0);
	if (section == DNS_SEC_AN)
		d->nan++;
}

static void header(uint16_t id, bool qr, uint8_t opcode, uint16_t flags, const char *qname,
		   uint16_t qtype)
{
	struct dns_msg *d = &MSG;
	dec_dns_clear(d);
	d->id = id;
	d->qr = qr;
	d->opcode = opcode;
	d->flags = (uint16_t)((qr ? DNS_F_QR : 0) | flags | (opcode << 11));
	d->stage = DNS_STAGE_DONE;
	if (qname) {
		d->nq = d->qdcount = 1;
		d->q[0].name = dec_dns_put(d, qname, strlen(qname));
		d->q[0].hash = dec_dns_name_hash(qname, strlen(qname));
		d->q[0].type = qtype;
		d->q[0].klass = DNS_C_IN;
	}
}

static void dispatch(struct detfix *f, uint64_t ts, const char *src, const char *src_mac, uint16_t sport,
		     const char *dst, const char *dst_mac, uint16_t dport)
{
	struct dns_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = ts;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(src_mac, ev.m.src_mac), 0);
	assert_int_equal(util_mac_parse(dst_mac, ev.m.dst_mac), 0);
	assert_int_equal(util_addr_parse(src, &ev.m.src), 0);
	assert_int_equal(util_addr_parse(dst, &ev.m.dst), 0);
	ev.m.sport = sport;
	ev.m.dport = dport;
	ev.m.proto = 17;
	ev.m.ip_ttl = 128;
	ev.m.community_id = "";
	ev.dns = &MSG;
	det_dispatch_dns(f->reg, &ev, f->ap);
}

/* host answers an LLMNR query of the victim for name with addr. */
static void llmnr_answer(struct detfix *f, uint64_t ts, const char *host, const char *mac,
			 const char *name, const char *addr)
{
	header(0x1234, true, 0, 0, name, DNS_T_A);
	put_rr(name, DNS_T_A, addr, 0, DNS_SEC_AN);
	dispatch(f, ts, host, mac, 5355, VICTIM, VICTIM_MAC, 51000);
}

/* host answers an NBT-NS query for name<sfx> with addr (NB_FLAGS nbflags). */
static void nbns_answer(struct detfix *f, uint64_t ts, const char *host, const char *mac,
			const char *name, uint8_t sfx, const char *addr, uint16_t nbflags, uint16_t id)
{
	char enc[33];
	nb_encode(name, sfx, enc);
	header(id, true, 0, DNS_F_AA, NULL, 0);
	put_rr(enc, DNS_T_NB, addr, nbflags, DNS_SEC_AN);
	dispatch(f, ts, host, mac, 137, VICTIM, VICTIM_MAC, 137);
}

/* ------------------------------------------------------------------ tests */

static void test_own_name_silent(void **state)
{
	struct detfix *f = *state;
	for (int i = 0; i < 20; i++) {
		llmnr_answer(f, T0 + (uint64_t)i * SEC, SERVER, SERVER_MAC, "filesrv", SERVER);
		nbns_answer(f, T0 + (uint64_t)i * SEC, SERVER, SERVER_MAC, "FILESRV", 0x20, SERVER, 0, 1);
		nbns_answer(f, T0 + (uint64_t)i * SEC, SERVER, SERVER_MAC, "FILESRV", 0x00, SERVER, 0, 2);
	}
	/* A group name (the workgroup) answered by several members is no claim. */
	nbns_answer(f, T0 + 30 * SEC, SERVER, SERVER_MAC, "WORKGROUP", 0x1e, SERVER, DNS_NB_GROUP, 3);
	nbns_answer(f, T0 + 30 * SEC, EVIL, EVIL_MAC, "WORKGROUP", 0x1e, EVIL, DNS_NB_GROUP, 4);
	json_t *arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

static void test_many_names(void **state)
{
	struct detfix *f = *state;
	static const char *const asked[] = { "fileserv", "printr", "sharepoint2", "intranet-old" };
	for (int i = 0; i < 4; i++)
		llmnr_answer(f, T0 + (uint64_t)i * SEC, EVIL, EVIL_MAC, asked[i], EVIL);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 1);
	json_t *a = detfix_first(arr, "names.poisoning");
	assert_string_equal(json_string_value(detfix_ev(a, "reason")), "many_names");
	assert_int_equal(json_integer_value(detfix_ev(a, "names_in_window")), 4);
	assert_int_equal(json_array_size(detfix_ev(a, "names")), 4);
	assert_string_equal(json_string_value(detfix_ev(a, "responder_mac")), EVIL_MAC);
	assert_true(json_is_true(detfix_ev(a, "answered_with_own_address")));
	assert_int_equal(detfix_sev(a), 6);
	json_t *tid = json_object_get(json_object_get(json_object_get(a, "threat"), "technique"), "id");
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1557.001");
	json_decref(arr);
	/* Three names stay under the default threshold. */
	detfix_reopen(f, NULL, NULL, 0);
	for (int i = 0; i < 3; i++)
		llmnr_answer(f, T0 + (uint64_t)i * SEC, EVIL, EVIL_MAC, asked[i], EVIL);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
	/* Allowed responders (a sleep proxy) are not judged. */
	detfix_reopen(f, "detectors:\n  names:\n    allowed_responders: [\"" EVIL_MAC "\", 192.0.2.99]\n", NULL, 0);
	for (int i = 0; i < 4; i++)
		llmnr_answer(f, T0 + (uint64_t)i * SEC, EVIL, EVIL_MAC, asked[i], EVIL);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
}

/* The real server registers FILESRV; Responder then answers the victim's query for it. */
static void test_owned_by_other(void **state)
{
	struct detfix *f = *state;
	char enc[33];
	nb_encode("FILESRV", 0x20, enc);
	header(0x0042, false, 5, DNS_F_RD | DNS_F_NBNS_B, enc, DNS_T_NB);
	put_rr(enc, DNS_T_NB, SERVER, 0, DNS_SEC_AR);
	dispatch(f, T0, SERVER, SERVER_MAC, 137, "192.0.2.255", "ff:ff:ff:ff:ff:ff", 137);
	nbns_answer(f, T0 + 60 * SEC, EVIL, EVIL_MAC, "FILESRV", 0x20, EVIL, 0, 7);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 1);
	json_t *a = detfix_first(arr, "names.poisoning");
	assert_string_equal(json_string_value(detfix_ev(a, "reason")), "owned_by_other");
	assert_string_equal(json_string_value(detfix_ev(a, "name")), "FILESRV<20>");
	assert_string_equal(json_string_value(detfix_ev(a, "protocol")), "nbt-ns");
	json_t *o = detfix_ev(a, "owner");
	assert_string_equal(json_string_value(json_object_get(o, "ip")), SERVER);
	assert_string_equal(json_string_value(json_object_get(o, "mac")), SERVER_MAC);
	assert_string_equal(json_string_value(json_object_get(o, "how")), "registered/announced");
	assert_int_equal(detfix_sev(a), 7);
	json_decref(arr);
	/* The same name over LLMNR is the same name. */
	llmnr_answer(f, T0 + 61 * SEC, EVIL, EVIL_MAC, "FileSrv", EVIL);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 1);
	assert_string_equal(json_string_value(detfix_ev(detfix_first(arr, "names.poisoning"), "protocol")), "llmnr");
	json_decref(arr);
	/* Once the owner has been silent for owner_ttl, another host may take the name. */
	detfix_reopen(f, "detectors:\n  names:\n    owner_ttl: 10m\n", NULL, 0);
	llmnr_answer(f, T0, SERVER, SERVER_MAC, "filesrv", SERVER);
	llmnr_answer(f, T0 + 3600 * SEC, "192.0.2.31", "02:00:00:00:00:31", "filesrv", "192.0.2.31");
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
}

/* An mDNS announcement claims alice.local; an answer giving another host's address for
 * it is poisoning. A DHCP renumbering of the owner itself is not. */
static void test_mdns(void **state)
{
	struct detfix *f = *state;
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("alice.local", DNS_T_A, SERVER, 0, DNS_SEC_AN);
	put_rr("_services._dns-sd._udp.local", DNS_T_A, SERVER, 0, DNS_SEC_AR);
	dispatch(f, T0, SERVER, SERVER_MAC, 5353, "224.0.0.251", "01:00:5e:00:00:fb", 5353);
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("alice.local", DNS_T_A, "192.0.2.130", 0, DNS_SEC_AN);
	dispatch(f, T0 + 100 * SEC, "192.0.2.130", SERVER_MAC, 5353, "224.0.0.251", "01:00:5e:00:00:fb", 5353);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("alice.local", DNS_T_A, EVIL, 0, DNS_SEC_AN);
	dispatch(f, T0 + 200 * SEC, EVIL, EVIL_MAC, 5353, VICTIM, VICTIM_MAC, 5353);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 1);
	assert_string_equal(json_string_value(detfix_ev(detfix_first(arr, "names.poisoning"), "protocol")), "mdns");
	json_decref(arr);
}

static void test_wpad(void **state)
{
	struct detfix *f = *state;
	llmnr_answer(f, T0, EVIL, EVIL_MAC, "wpad", EVIL);
	nbns_answer(f, T0 + SEC, EVIL, EVIL_MAC, "WPAD", 0x00, EVIL, 0, 9);
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("isatap.local", DNS_T_A, EVIL, 0, DNS_SEC_AN);
	dispatch(f, T0 + 2 * SEC, EVIL, EVIL_MAC, 5353, VICTIM, VICTIM_MAC, 5353);
	json_t *arr = detfix_alerts_new(f);
	/* One key per (responder, name): wpad over LLMNR and NBT-NS aggregate; isatap. */
	DETFIX_EXPECT(arr, "names.wpad", 2);
	json_t *w = detfix_first(arr, "names.wpad");
	assert_int_equal(detfix_sev(w), 7);
	assert_string_equal(json_string_value(detfix_ev(w, "name")), "wpad");
	assert_string_equal(json_string_value(json_array_get(detfix_ev(w, "answered_addresses"), 0)), EVIL);
	json_decref(arr);
	/* "wpadfoo" is not wpad. */
	llmnr_answer(f, T0 + 3 * SEC, SERVER, SERVER_MAC, "wpadfoo", SERVER);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.wpad", 0);
	json_decref(arr);
}

/* NBT-NS answers to queries sent unicast to a name server (WINS) are the server's job. */
static void test_wins(void **state)
{
	struct detfix *f = *state;
	static const char *const names[] = { "HOSTA", "HOSTB", "HOSTC", "HOSTD", "HOSTE" };
	for (uint16_t i = 0; i < 5; i++) {
		char enc[33];
		nb_encode(names[i], 0x20, enc);
		header((uint16_t)(0x100 + i), false, 0, DNS_F_RD, enc, DNS_T_NB);
		dispatch(f, T0 + i * SEC, VICTIM, VICTIM_MAC, 137, "192.0.2.2", "02:00:00:00:00:02", 137);
		char addr[32];
		snprintf(addr, sizeof(addr), "192.0.2.%u", 100 + i);
		nbns_answer(f, T0 + i * SEC + 1000, "192.0.2.2", "02:00:00:00:00:02", names[i], 0x20, addr, 0,
			    (uint16_t)(0x100 + i));
	}
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
}

static void test_save_load(void **state)
{
	struct detfix *f = *state;
	llmnr_answer(f, T0, SERVER, SERVER_MAC, "filesrv", SERVER);
	json_t *saved = det_registry_save(f->reg);
	assert_non_null(json_object_get(saved, "names"));
	detfix_reopen(f, NULL, saved, 0);
	json_decref(saved);
	llmnr_answer(f, T0 + 10 * SEC, EVIL, EVIL_MAC, "filesrv", EVIL);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "names.poisoning", 1);
	json_decref(arr);
}

static void test_config_errors(void **state)
{
	struct detfix *f = *state;
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		{ "detectors:\n  names:\n    max_name: 3\n", "t.yaml:3: unknown key 'max_name'" },
		{ "detectors:\n  names:\n    max_names: 0\n", "t.yaml:3:" },
		{ "detectors:\n  names:\n    allowed_responders: [nope]\n", "t.yaml:3: detectors.names.allowed_responders" },
	};
	detfix_close(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512];
		struct cfg *c = NULL;
		assert_int_equal(cfg_load_string(bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &c, err, sizeof(err)), 0);
		struct det_registry *r = det_registry_new(c, detfix_sigdir(), err, sizeof(err));
		if (r)
			fail_msg("accepted: %s", bad[i].yaml);
		if (!strstr(err, bad[i].want))
			fail_msg("error '%s' lacks '%s'", err, bad[i].want);
		cfg_free(c);
	}
	detfix_open(f, NULL, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_name_silent, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_many_names, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_owned_by_other, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_mdns, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_wpad, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_wins, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_save_load, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, detfix_setup, detfix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
