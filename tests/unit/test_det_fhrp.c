/* test_det_fhrp.c - the fhrp detector (VRRP speakers) and the arp detector's VRRP
 * failover allowance, judged with hand-built events (no packet bytes). */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "decode/dhcp.h"
#include "decode/vrrp.h"
#include "detfix.h"
#include "util.h"

#define T0 1700000000000000ull
#define MS 1000ull
#define SEC 1000000ull

static const uint8_t vip[4] = { 192, 0, 2, 253 }, victim[4] = { 192, 0, 2, 100 };
static const char *GW = "02:00:00:00:00:01", *SRV = "02:00:00:00:00:0a", *ATT = "02:00:00:00:00:66";

/* One VRRPv2 advertisement for 192.0.2.253 (VRID 52, interval 1 s) from mac (source IP
 * 192.0.2.<last byte of mac>) at t_ms after T0. */
static void advert_x(struct detfix *f, const char *mac, uint8_t prio, uint64_t t_ms, uint8_t ttl, bool group,
		     uint8_t auth_type, const char *auth)
{
	struct vrrp_msg m;
	struct vrrp_ev ev;
	memset(&m, 0, sizeof(m));
	memset(&ev, 0, sizeof(ev));
	m.version = 2;
	m.type = 1;
	m.vrid = 52;
	m.priority = prio;
	m.count = m.naddrs = 1;
	m.family = 4;
	m.interval_cs = 100;
	m.auth_type = auth_type;
	m.has_auth_data = true;
	if (auth)
		memcpy(m.auth_data, auth, strlen(auth));
	memcpy(m.addrs[0], vip, 4);
	m.ttl = ttl;
	m.to_group = group;
	ev.m.ts_us = T0 + t_ms * MS;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(mac, ev.m.src_mac), 0);
	const uint8_t grp[4] = { 224, 0, 0, 18 }, uni[4] = { 192, 0, 2, 9 };
	uint8_t src[4] = { 192, 0, 2, ev.m.src_mac[5] };
	util_addr_set4(&ev.m.src, src);
	util_addr_set4(&ev.m.dst, group ? grp : uni);
	ev.m.proto = VRRP_IPPROTO;
	ev.m.ip_ttl = ttl;
	ev.m.community_id = "";
	ev.vrrp = &m;
	det_dispatch_vrrp(f->reg, &ev, f->ap);
}

static void advert(struct detfix *f, const char *mac, uint8_t prio, uint64_t t_ms)
{
	advert_x(f, mac, prio, t_ms, 255, true, 0, NULL);
}

/* A gratuitous ARP request for 192.0.2.253 from mac at t_ms. */
static void garp(struct detfix *f, const char *mac, uint64_t t_ms)
{
	struct arp_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = T0 + t_ms * MS;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(mac, ev.m.src_mac), 0);
	memset(ev.m.dst_mac, 0xff, 6);
	ev.m.community_id = "";
	ev.arp.op = 1;
	memcpy(ev.arp.sha, ev.m.src_mac, 6);
	memcpy(ev.arp.spa, vip, 4);
	memcpy(ev.arp.tpa, vip, 4);
	det_dispatch_arp(f->reg, &ev, f->ap);
}

/* gw is master from 0 s, advertising every second until (but not at) until_s. */
static void gw_master(struct detfix *f, uint64_t until_s)
{
	garp(f, GW, 0);
	for (uint64_t t = 0; t < until_s; t++)
		advert(f, GW, 150, t * 1000);
}

static void test_first_speakers_silent(void **state)
{
	struct detfix *f = *state;
	gw_master(f, 5);
	/* Another VRID's first speaker is its baseline too. */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

/* keepalived's default without the virtual MAC: gw resigns (priority 0), srv (backup,
 * never heard before) takes 192.0.2.253 over with its own MAC. */
static void test_failover_after_resign_quiet(void **state)
{
	struct detfix *f = *state;
	gw_master(f, 30);
	advert(f, GW, 0, 30000);           /* keepalived stopping: priority 0 */
	advert(f, SRV, 100, 30600);        /* srv after skew time */
	garp(f, SRV, 30601);
	advert(f, SRV, 100, 31600);
	json_t *arr = detfix_alerts(f);
	/* Nothing at all: neither the ARP change nor the new speaker (a failover). */
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

/* The master died: silent for more than 3 intervals before srv took over. */
static void test_failover_after_silence_quiet(void **state)
{
	struct detfix *f = *state;
	gw_master(f, 10);
	advert(f, SRV, 100, 12700);
	garp(f, SRV, 12701);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* ... but not when the takeover claims priority 255. */
	advert(f, ATT, 255, 13000);
	garp(f, ATT, 13001);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_sev(detfix_need(arr, "fhrp.new_speaker")), 8);
	detfix_need(arr, "arp.ip_mac_changed");
	json_decref(arr);
}

/* A speaker known for vrrp_min_age may take the address whatever the old MAC did
 * (both masters at once for a moment, a failback). */
static void test_known_speaker_failover_quiet(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  arp:\n    vrrp_min_age: 20s\n", NULL, 0);
	gw_master(f, 10);
	advert(f, GW, 0, 10000);
	advert(f, SRV, 100, 10500);
	garp(f, SRV, 10501);
	for (uint64_t t = 11; t < 40; t++)
		advert(f, SRV, 100, t * 1000);
	/* gw comes back with its higher priority and preempts: srv is no new speaker,
	 * gw known for 40 s. */
	advert(f, GW, 150, 40000);
	garp(f, GW, 40001);
	/* ... and srv again, known for 30 s now, while gw still advertises. */
	advert(f, SRV, 200, 41000);
	garp(f, SRV, 41001);
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "arp.ip_mac_changed", 0);
	DETFIX_EXPECT(arr, "arp.flip_flop", 0);
	DETFIX_EXPECT(arr, "arp.reused_old_mac", 0);
	json_decref(arr);
}

/* The hijack: the attacker's first VRRP advertisement (priority 255) 1 s before its
 * gratuitous ARP, while gw is alive: both alerts, the ARP change not whitewashed. */
static void test_forged_speaker_still_alerts(void **state)
{
	struct detfix *f = *state;
	gw_master(f, 30);
	advert(f, ATT, 255, 30200);
	garp(f, ATT, 31200);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "fhrp.new_speaker");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "new_mac"), ATT);
	assert_true(json_is_true(detfix_ev(a, "master_live")));
	assert_int_equal(detfix_int(a, "onpath.evidence.master_priority"), 150);
	assert_string_equal(detfix_str(a, "event.action"), "fhrp.new_speaker");
	json_t *tid = json_object_get(json_object_get(json_object_get(a, "threat"), "technique"), "id");
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1557");
	json_t *c = detfix_need(arr, "arp.ip_mac_changed");
	assert_string_equal(detfix_ev_str(c, "new_mac"), ATT);
	assert_string_equal(detfix_ev_str(c, "old_mac"), GW);
	json_decref(arr);
}

/* Lower priority than 255, but the master was alive and outbid: preemption, 6; and a
 * takeover priority below 255 does not help the ARP change either. */
static void test_preemption(void **state)
{
	struct detfix *f = *state;
	gw_master(f, 30);
	advert(f, ATT, 200, 29500);
	garp(f, ATT, 29501);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_sev(detfix_need(arr, "fhrp.new_speaker")), 6);
	detfix_need(arr, "arp.ip_mac_changed");
	json_decref(arr);
	/* A second speaker at a lower priority while the master lives: 4. */
	advert(f, SRV, 100, 29600);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 2);
	assert_int_equal(detfix_sev(json_array_get(arr, json_array_size(arr) - 1)), 4);
	json_decref(arr);
}

/* A virtual address the DHCP server hands out as the router: a new speaker is 7. */
static void test_gateway_role(void **state)
{
	struct detfix *f = *state;
	struct dhcp_msg d;
	struct dhcp_ev ev;
	memset(&d, 0, sizeof(d));
	memset(&ev, 0, sizeof(ev));
	d.version = 4;
	d.op = 2;
	d.type = DHCP_ACK;
	d.htype = 1;
	d.hlen = 6;
	assert_int_equal(util_mac_parse("02:00:00:00:00:64", d.chaddr), 0);
	memcpy(d.yiaddr, victim, 4);
	d.has_routers = true;
	util_addr_set4(&d.routers[0], vip);
	d.nrouters = 1;
	d.has_server_id = true;
	const uint8_t srv[4] = { 192, 0, 2, 1 };
	util_addr_set4(&d.server_id, srv);
	ev.m.ts_us = T0;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(GW, ev.m.src_mac), 0);
	util_addr_set4(&ev.m.src, srv);
	util_addr_set4(&ev.m.dst, victim);
	ev.m.sport = 67;
	ev.m.dport = 68;
	ev.m.proto = 17;
	ev.m.community_id = "";
	ev.dhcp = &d;
	det_dispatch_dhcp(f->reg, &ev, f->ap);
	gw_master(f, 10);
	advert(f, GW, 0, 10000);
	advert(f, SRV, 100, 10500);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "fhrp.new_speaker");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(detfix_ev_str(a, "role"), "gateway");
	json_decref(arr);
}

static void test_learning_window(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, NULL, NULL, 60);
	gw_master(f, 10);
	advert(f, ATT, 255, 10000); /* inside the window: learned */
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 0);
	json_decref(arr);
	advert(f, GW, 150, 60000);
	advert(f, SRV, 100, 61000); /* past it, the master alive: reported */
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 1);
	json_decref(arr);
}

static void test_bad_advert(void **state)
{
	struct detfix *f = *state;
	gw_master(f, 3);
	advert_x(f, ATT, 255, 3000, 64, true, 0, NULL);   /* routed or forged off-link */
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "fhrp.bad_advert", 1);
	json_t *a = detfix_first(arr, "fhrp.bad_advert");
	assert_string_equal(detfix_ev_str(a, "reason"), "ttl");
	assert_int_equal(detfix_int(a, "onpath.evidence.ttl"), 64);
	assert_int_equal(detfix_sev(a), 7);
	/* Not learned: no new speaker, and its ARP claim is not a failover. */
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 0);
	json_decref(arr);
	/* Unicast (keepalived unicast_peer): informational, and learned. */
	advert_x(f, SRV, 100, 3100, 255, false, 0, NULL);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "fhrp.bad_advert", 2);
	a = json_array_get(arr, 1);
	assert_string_equal(detfix_ev_str(a, "reason"), "destination");
	assert_int_equal(detfix_sev(a), 3);
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 1); /* srv at 100 while gw lives: 4 */
	json_decref(arr);
	detfix_reopen(f, "detectors:\n  arp:\n    vrrp_min_age: 1s\n", NULL, 0);
	gw_master(f, 3);
	advert_x(f, ATT, 100, 3000, 1, true, 0, NULL);
	advert_x(f, ATT, 100, 6000, 1, true, 0, NULL);
	garp(f, ATT, 6001);
	arr = detfix_alerts(f);
	detfix_need(arr, "arp.ip_mac_changed");
	json_decref(arr);
}

static void test_auth_changed(void **state)
{
	struct detfix *f = *state;
	advert_x(f, GW, 150, 0, 255, true, VRRP_AUTH_SIMPLE, "secret");
	advert_x(f, GW, 150, 1000, 255, true, VRRP_AUTH_SIMPLE, "secret");
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	advert_x(f, GW, 150, 2000, 255, true, VRRP_AUTH_SIMPLE, "guess\x01");
	arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "fhrp.bad_advert");
	assert_string_equal(detfix_ev_str(a, "reason"), "auth_changed");
	assert_string_equal(detfix_ev_str(a, "old_auth"), "secret");
	assert_non_null(strstr(detfix_ev_str(a, "new_auth"), "guess"));
	json_decref(arr);
}

/* The speakers are saved; after a restart a saved speaker counts as known (baseline). */
static void test_state_persists(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  arp:\n    vrrp_min_age: 1h\n", NULL, 0);
	gw_master(f, 5);
	advert(f, GW, 0, 5000);
	advert(f, SRV, 100, 5500);
	garp(f, SRV, 5501);
	advert(f, SRV, 0, 6000);
	advert(f, GW, 150, 6500);
	garp(f, GW, 6501);
	json_t *saved = det_registry_save(f->reg);
	json_t *fh = json_object_get(saved, "fhrp");
	assert_non_null(fh);
	assert_int_equal(json_array_size(json_object_get(fh, "speakers")), 2);
	char *text = json_dumps(saved, 0);
	json_decref(saved);
	json_error_t je;
	saved = json_loads(text, 0, &je);
	free(text);
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "arp.ip_mac_changed", 0);
	DETFIX_EXPECT(arr, "arp.flip_flop", 0);
	json_decref(arr);
	detfix_reopen(f, "detectors:\n  arp:\n    vrrp_min_age: 1h\n", saved, 0);
	/* srv (a saved speaker) takes over while gw still advertises: no ARP alert, and
	 * no new speaker either. */
	advert(f, GW, 150, 100000);
	garp(f, GW, 100001);
	advert(f, SRV, 200, 100500);
	garp(f, SRV, 100501);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "arp.ip_mac_changed", 0);
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 0);
	json_decref(arr);
	/* ... while a never-seen MAC still is one. */
	advert(f, ATT, 255, 101000);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "fhrp.new_speaker", 1);
	json_decref(arr);
	json_decref(saved);
	/* Damaged state: ignored, the detector starts cold. */
	json_t *bad = json_pack("{s:{s:i,s:[{s:i}]}}", "fhrp", "version", 1, "speakers", "vlan", 99999);
	detfix_reopen(f, NULL, bad, 0);
	gw_master(f, 2);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	json_decref(bad);
}

/* A flood of speakers for many VRIDs: the tables stay at their caps. */
static void test_flood_bounded(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  fhrp:\n    max_speakers: 64\n    max_groups: 16\n", NULL, 0);
	for (unsigned i = 0; i < 20000; i++) {
		char mac[18];
		snprintf(mac, sizeof(mac), "02:00:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		advert(f, mac, 100, i);
	}
	json_t *saved = det_registry_save(f->reg);
	assert_true(json_array_size(json_object_get(json_object_get(saved, "fhrp"), "speakers")) <= 64);
	json_decref(saved);
	json_t *arr = detfix_alerts(f);
	json_decref(arr);
}

static void test_config(void **state)
{
	(void)state;
	detfix_config_rejected("detectors:\n  fhrp:\n    nope: 1\n", "t.yaml:3:");
	detfix_config_rejected("detectors:\n  fhrp:\n    max_speakers: 1\n", "max_speakers");
	detfix_config_rejected("detectors:\n  arp:\n    vrrp_min_age: 0\n", "vrrp_min_age");
	assert_non_null(det_find_type("fhrp.new_speaker"));
	assert_non_null(det_find_type("fhrp.bad_advert"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_speakers_silent, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_failover_after_resign_quiet, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_failover_after_silence_quiet, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_known_speaker_failover_quiet, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_forged_speaker_still_alerts, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_preemption, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_role, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_learning_window, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_bad_advert, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_auth_changed, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_state_persists, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_flood_bounded, detfix_setup, detfix_teardown),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
