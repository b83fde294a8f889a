/* test_det_arp.c - the ARP detector judged with hand-built events (no packet bytes). */
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
#include "../../detectors/lan.h"
#include "decode/dhcp.h"
#include "output.h"
#include "detfix.h"
#include "util.h"

static void mk(struct arp_ev *ev, uint16_t op, const char *eth_src, const char *sha,
	       const uint8_t spa[4], const uint8_t tpa[4])
{
	memset(ev, 0, sizeof(*ev));
	ev->m.ts_us = 1700000000000000ull;
	ev->m.has_eth = true;
	assert_int_equal(util_mac_parse(eth_src, ev->m.src_mac), 0);
	memset(ev->m.dst_mac, 0xff, 6);
	ev->arp.op = op;
	assert_int_equal(util_mac_parse(sha, ev->arp.sha), 0);
	memcpy(ev->arp.spa, spa, 4);
	memcpy(ev->arp.tpa, tpa, 4);
	ev->m.community_id = "";
}

static const uint8_t gw[4] = { 192, 0, 2, 1 }, victim[4] = { 192, 0, 2, 23 };

static void test_consistent_frame_is_silent(void **state)
{
	struct detfix *f = *state;
	struct arp_ev ev;
	mk(&ev, 2, "02:00:00:00:00:01", "02:00:00:00:00:01", gw, victim);
	det_dispatch_arp(f->reg, &ev, f->ap);
	json_t *a = detfix_alerts(f);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

static void test_mismatch_alerts_with_evidence(void **state)
{
	struct detfix *f = *state;
	struct arp_ev ev;
	mk(&ev, 2, "02:00:00:00:00:77", "02:00:00:00:00:66", gw, victim);
	ev.m.vlan = 10;
	det_dispatch_arp(f->reg, &ev, f->ap);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_str(a, "event.action"), "arp.ethernet_mismatch");
	assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.1");
	assert_string_equal(detfix_str(a, "source.mac"), "02:00:00:00:00:66");
	json_t *evd = json_object_get(json_object_get(a, "onpath"), "evidence");
	assert_string_equal(json_string_value(json_object_get(evd, "eth_src")), "02:00:00:00:00:77");
	assert_string_equal(json_string_value(json_object_get(evd, "sender_mac")), "02:00:00:00:00:66");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(a, "network"), "vlan"), "id")), 10);
	json_t *tid = json_object_get(json_object_get(json_object_get(a, "threat"), "technique"), "id");
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1557.002");
	json_decref(arr);
}

static void test_repeats_aggregate(void **state)
{
	struct detfix *f = *state;
	struct arp_ev ev;
	for (int i = 0; i < 50; i++) {
		mk(&ev, 2, "02:00:00:00:00:77", "02:00:00:00:00:66", gw, victim);
		ev.m.ts_us += (uint64_t)i * 1000000u;
		det_dispatch_arp(f->reg, &ev, f->ap);
	}
	json_t *arr = detfix_alerts(f);
	/* The first at once, then one aggregate for the other 49 inside the window. */
	assert_int_equal(json_array_size(arr), 2);
	json_t *agg = json_array_get(arr, 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(agg, "onpath"), "count")), 50);
	json_decref(arr);
}

static void test_virtual_mac_not_reported(void **state)
{
	struct detfix *f = *state;
	struct arp_ev ev;
	/* A VRRP master answering for the virtual MAC from its physical NIC. */
	mk(&ev, 2, "02:00:00:00:00:02", "00:00:5e:00:01:0a", gw, victim);
	det_dispatch_arp(f->reg, &ev, f->ap);
	/* HSRPv2 range is a 36-bit prefix: 00:00:0c:9f:f0:00/36 covers ...:9f:fX:XX. */
	mk(&ev, 2, "02:00:00:00:00:02", "00:00:0c:9f:f1:23", gw, victim);
	det_dispatch_arp(f->reg, &ev, f->ap);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* Just outside the HSRPv2 prefix: reported - and, as a physical MAC taking the
	 * address from a virtual one, an IP/MAC change too. */
	mk(&ev, 2, "02:00:00:00:00:02", "00:00:0c:9f:e1:23", gw, victim);
	det_dispatch_arp(f->reg, &ev, f->ap);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(detfix_str(json_array_get(arr, 0), "event.action"), "arp.ethernet_mismatch");
	assert_string_equal(detfix_str(json_array_get(arr, 1), "event.action"), "arp.ip_mac_changed");
	json_decref(arr);
}

static void test_bad_hwaddr(void **state)
{
	struct detfix *f = *state;
	struct arp_ev ev;
	mk(&ev, 2, "02:00:00:00:00:77", "ff:ff:ff:ff:ff:ff", gw, victim);
	det_dispatch_arp(f->reg, &ev, f->ap);
	mk(&ev, 2, "02:00:00:00:00:77", "00:00:00:00:00:00", victim, gw);
	det_dispatch_arp(f->reg, &ev, f->ap);
	mk(&ev, 1, "02:00:00:00:00:77", "01:00:5e:00:00:01", victim, gw);
	det_dispatch_arp(f->reg, &ev, f->ap);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(detfix_str(json_array_get(arr, i), "event.action"), "arp.bad_hwaddr");
	json_decref(arr);
}

static void test_no_eth_header_no_mismatch(void **state)
{
	struct detfix *f = *state;
	struct arp_ev ev;
	mk(&ev, 2, "02:00:00:00:00:77", "02:00:00:00:00:66", gw, victim);
	ev.m.has_eth = false; /* e.g. Linux cooked capture without a link source */
	det_dispatch_arp(f->reg, &ev, f->ap);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}


/* ------------------------------------------------------------------ stateful */

#define T0 1700000000000000ull
#define SEC 1000000ull

/* A consistent frame (Ethernet source = sender MAC) at T0 + t seconds. */
static void send(struct detfix *f, uint16_t op, const char *mac, const uint8_t spa[4], const uint8_t tpa[4],
		 uint64_t t)
{
	struct arp_ev ev;
	mk(&ev, op, mac, mac, spa, tpa);
	ev.m.ts_us = T0 + t * SEC;
	det_dispatch_arp(f->reg, &ev, f->ap);
}

/* victim asks for ip, mac answers: a solicited reply. */
static void resolve(struct detfix *f, const uint8_t ip[4], const char *mac, uint64_t t)
{
	send(f, 1, "02:00:00:00:00:17", victim, ip, t);
	send(f, 2, mac, ip, victim, t);
}

static const uint8_t host2[4] = { 192, 0, 2, 42 };

static void test_new_station_off_by_default(void **state)
{
	struct detfix *f = *state;
	resolve(f, gw, "02:00:00:00:00:01", 0);
	resolve(f, host2, "02:00:00:00:00:02", 1);
	json_t *a = detfix_alerts(f);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	detfix_reopen(f, "detectors:\n  arp:\n    report_new_stations: true\n", NULL, 0);
	resolve(f, gw, "02:00:00:00:00:01", 0);
	a = detfix_alerts(f);
	/* the victim (its request) and the gateway */
	assert_int_equal(detfix_count(a, "arp.new_station"), 2);
	json_t *n = detfix_first(a, "arp.new_station");
	assert_true(detfix_sev(n) <= 2);
	json_decref(a);
	/* Cold start with a learning window: "never seen" is muted inside it only. */
	detfix_reopen(f, "detectors:\n  arp:\n    report_new_stations: true\n", NULL, 60);
	resolve(f, gw, "02:00:00:00:00:01", 0);
	resolve(f, host2, "02:00:00:00:00:02", 30);
	a = detfix_alerts(f);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	send(f, 1, "02:00:00:00:00:33", (const uint8_t[4]){ 192, 0, 2, 33 }, gw, 61);
	a = detfix_alerts(f);
	assert_int_equal(detfix_count(a, "arp.new_station"), 1);
	json_decref(a);
}

static void test_ip_mac_changed(void **state)
{
	struct detfix *f = *state;
	resolve(f, host2, "02:00:00:00:00:02", 0);
	resolve(f, host2, "02:00:00:00:00:99", 10); /* solicited */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = detfix_first(arr, "arp.ip_mac_changed");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 5);
	assert_string_equal(detfix_ev_str(a, "old_mac"), "02:00:00:00:00:02");
	assert_string_equal(detfix_ev_str(a, "new_mac"), "02:00:00:00:00:99");
	assert_string_equal(detfix_ev_str(a, "ip"), "192.0.2.42");
	assert_false(json_is_true(json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), "unsolicited")));
	json_decref(arr);
	/* An unsolicited reply moving it again: one step worse. */
	send(f, 2, "02:00:00:00:00:66", host2, victim, 20);
	arr = detfix_alerts(f);
	a = json_array_get(arr, 1);
	assert_string_equal(detfix_str(a, "event.action"), "arp.ip_mac_changed");
	assert_int_equal(detfix_sev(a), 6);
	assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "unsolicited"));
	json_decref(arr);
	/* The same IP on another VLAN is another host. */
	struct arp_ev ev;
	mk(&ev, 2, "02:00:00:00:00:55", "02:00:00:00:00:55", host2, victim);
	ev.m.vlan = 7;
	ev.m.ts_us = T0 + 30 * SEC;
	det_dispatch_arp(f->reg, &ev, f->ap);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
}

static void test_flip_flop_and_reused(void **state)
{
	struct detfix *f = *state;
	const char *A = "02:00:00:00:00:0a", *B = "02:00:00:00:00:0b", *C = "02:00:00:00:00:0c";
	resolve(f, host2, A, 0);
	resolve(f, host2, B, 1);  /* changed */
	resolve(f, host2, A, 2);  /* flip-flop */
	resolve(f, host2, B, 3);  /* flip-flop again: same key, aggregated */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 1);
	assert_int_equal(detfix_count(arr, "arp.flip_flop"), 2); /* first + aggregate */
	json_t *ff = detfix_first(arr, "arp.flip_flop");
	assert_int_equal(detfix_sev(ff), 6);
	assert_string_equal(detfix_ev_str(ff, "old_mac"), B);
	assert_string_equal(detfix_ev_str(ff, "new_mac"), A);
	json_decref(arr);
	resolve(f, host2, C, 4);  /* changed: history B, A */
	resolve(f, host2, A, 5);  /* A is two back: reused */
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.reused_old_mac"), 1);
	json_t *r = detfix_first(arr, "arp.reused_old_mac");
	json_t *prev = json_object_get(json_object_get(json_object_get(r, "onpath"), "evidence"), "previous_macs");
	assert_string_equal(json_string_value(json_array_get(prev, 0)), C);
	json_decref(arr);
}

static void test_protected_configured(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f,
	       "detectors:\n  arp:\n    protected:\n"
	       "      - {ip: 192.0.2.1, mac: \"02:00:00:00:00:01\", role: gateway}\n"
	       "      - {ip: 192.0.2.53, role: resolver}\n",
	       NULL, 3600);
	/* The configured MAC is a baseline: even inside the learning window, a first
	 * claim from another MAC alerts at once. */
	send(f, 2, "02:00:00:00:00:66", gw, victim, 1);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_str(a, "event.action"), "arp.ip_mac_changed");
	assert_true(detfix_sev(a) >= 8);
	assert_string_equal(detfix_ev_str(a, "role"), "gateway");
	assert_string_equal(detfix_ev_str(a, "baseline"), "configured");
	assert_string_equal(detfix_ev_str(a, "old_mac"), "02:00:00:00:00:01");
	assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "(gateway)"));
	json_decref(arr);
	/* The real gateway answers: flip-flop of a protected address, critical. */
	resolve(f, gw, "02:00:00:00:00:01", 2);
	arr = detfix_alerts(f);
	a = detfix_first(arr, "arp.flip_flop");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 9);
	json_decref(arr);
	/* Protected without a MAC: learned, then any change is high. */
	const uint8_t res[4] = { 192, 0, 2, 53 };
	resolve(f, res, "02:00:00:00:00:35", 3);
	resolve(f, res, "02:00:00:00:00:36", 4);
	arr = detfix_alerts(f);
	a = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(detfix_str(a, "event.action"), "arp.ip_mac_changed");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "role"), "resolver");
	json_decref(arr);
}

static void ack(struct detfix *f, const uint8_t yiaddr[4], const char *chaddr, const uint8_t router[4],
		uint64_t t)
{
	struct dhcp_msg d;
	struct dhcp_ev ev;
	memset(&d, 0, sizeof(d));
	memset(&ev, 0, sizeof(ev));
	d.version = 4;
	d.op = 2;
	d.type = DHCP_ACK;
	d.htype = 1;
	d.hlen = 6;
	assert_int_equal(util_mac_parse(chaddr, d.chaddr), 0);
	memcpy(d.yiaddr, yiaddr, 4);
	d.has_server_id = true;
	const uint8_t srv[4] = { 192, 0, 2, 67 };
	util_addr_set4(&d.server_id, srv);
	if (router) {
		d.has_routers = true;
		util_addr_set4(&d.routers[0], router);
		d.nrouters = 1;
	}
	ev.m.ts_us = T0 + t * SEC;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse("02:00:00:00:00:43", ev.m.src_mac), 0);
	util_addr_set4(&ev.m.src, srv);
	util_addr_set4(&ev.m.dst, yiaddr);
	ev.m.sport = 67;
	ev.m.dport = 68;
	ev.m.proto = 17;
	ev.m.community_id = "";
	ev.dhcp = &d;
	det_dispatch_dhcp(f->reg, &ev, f->ap);
}

static void test_protected_learned_from_dhcp(void **state)
{
	struct detfix *f = *state;
	resolve(f, gw, "02:00:00:00:00:01", 0);
	ack(f, victim, "02:00:00:00:00:17", gw, 1); /* the DHCP server names 192.0.2.1 the router */
	send(f, 2, "02:00:00:00:00:66", gw, victim, 20); /* long after the victim's request */
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_first(arr, "arp.ip_mac_changed");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 9); /* protected 8, unsolicited +1 */
	assert_string_equal(detfix_ev_str(a, "role"), "gateway");
	json_decref(arr);
}

/* The default route seen in traffic (lan.h det_lan_next_hop): 192.0.2.1's MAC is the
 * next hop toward many addresses, so 192.0.2.1 moving away from it is a gateway's
 * change; a MAC that only received for a few addresses is not a router. */
static void test_protected_learned_from_traffic(void **state)
{
	struct detfix *f = *state;
	uint8_t gwmac[6] = { 2, 0, 0, 0, 0, 1 }, hmac[6] = { 2, 0, 0, 0, 0, 2 };
	resolve(f, gw, "02:00:00:00:00:01", 0);
	resolve(f, host2, "02:00:00:00:00:02", 0);
	for (int i = 0; i < DET_LAN_HOP_ROUTER; i++) {
		uint8_t dst[4] = { 198, 51, 100, (uint8_t)(1 + i) };
		det_lan_next_hop(0, gwmac, dst, T0 + SEC);
		det_lan_next_hop(0, gwmac, dst, T0 + SEC); /* repeats count once */
	}
	for (int i = 0; i < DET_LAN_HOP_ROUTER - 1; i++) {
		uint8_t dst[4] = { 198, 51, 100, (uint8_t)(1 + i) };
		det_lan_next_hop(0, hmac, dst, T0 + SEC);
	}
	assert_true(det_lan_is_next_hop(0, gwmac));
	assert_false(det_lan_is_next_hop(0, hmac));
	assert_false(det_lan_is_next_hop(7, gwmac)); /* another VLAN */
	resolve(f, gw, "02:00:00:00:00:66", 20);
	resolve(f, host2, "02:00:00:00:00:67", 20);
	json_t *arr = detfix_alerts(f);
	json_t *a = json_array_get(arr, 0), *b = json_array_get(arr, 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(detfix_ev_str(a, "ip"), "192.0.2.1");
	assert_string_equal(detfix_ev_str(a, "role"), "gateway (next hop in traffic)");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(b, "ip"), "192.0.2.42");
	assert_null(json_object_get(json_object_get(json_object_get(b, "onpath"), "evidence"), "role"));
	assert_int_equal(detfix_sev(b), 5);
	json_decref(arr);
}

static void test_allowlists(void **state)
{
	struct detfix *f = *state;
	/* To a VRRP virtual MAC: the router pair took the address. */
	resolve(f, gw, "02:00:00:00:00:01", 0);
	send(f, 2, "00:00:5e:00:01:0a", gw, gw, 1);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* From the virtual MAC to a physical one: what an attacker would do. */
	send(f, 2, "02:00:00:00:00:66", gw, victim, 2);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 1);
	json_decref(arr);
	/* A declared failover pair. */
	detfix_reopen(f, "detectors:\n  arp:\n    failover:\n      - [\"02:00:00:00:00:a1\", \"02:00:00:00:00:a2\"]\n",
	       NULL, 0);
	resolve(f, gw, "02:00:00:00:00:a1", 0);
	resolve(f, gw, "02:00:00:00:00:a2", 1);
	resolve(f, gw, "02:00:00:00:00:a1", 2);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* A lease changing hands: the old MAC silent since before the ACK. */
	resolve(f, host2, "02:00:00:00:00:b1", 10);
	ack(f, host2, "02:00:00:00:00:b2", NULL, 100);
	resolve(f, host2, "02:00:00:00:00:b2", 101);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* ... but not when the old MAC spoke after the lease: someone else's claim. */
	resolve(f, host2, "02:00:00:00:00:b1", 102);
	resolve(f, host2, "02:00:00:00:00:b2", 103);
	arr = detfix_alerts(f);
	assert_true(json_array_size(arr) >= 1);
	json_decref(arr);
}

static void test_stale_change_is_low(void **state)
{
	struct detfix *f = *state;
	resolve(f, host2, "02:00:00:00:00:0a", 0);
	resolve(f, host2, "02:00:00:00:00:0b", 5 * 3600);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_first(arr, "arp.ip_mac_changed");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 3);
	json_decref(arr);
}

static void test_mac_claims_many_ips(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  arp:\n    protected:\n      - {ip: 192.0.2.1, role: gateway}\n", NULL, 0);
	resolve(f, gw, "02:00:00:00:00:01", 0);
	/* A host claims 7 neighbours: below the default threshold of 8. */
	for (int i = 0; i < 7; i++) {
		const uint8_t ip[4] = { 192, 0, 2, (uint8_t)(100 + i) };
		send(f, 2, "02:00:00:00:00:66", ip, victim, 1);
	}
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.mac_claims_many_ips"), 0);
	json_decref(arr);
	/* ... and the gateway: 8 IPs, one of them protected and taken. */
	send(f, 2, "02:00:00:00:00:66", gw, victim, 2);
	arr = detfix_alerts(f);
	json_t *a = detfix_first(arr, "arp.mac_claims_many_ips");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 8);
	json_t *e = json_object_get(json_object_get(a, "onpath"), "evidence");
	assert_int_equal(json_integer_value(json_object_get(e, "ips_count")), 8);
	assert_int_equal(json_array_size(json_object_get(e, "ips")), 8);
	assert_string_equal(detfix_ev_str(a, "protected_role"), "gateway");
	json_decref(arr);
	/* Claims older than the window do not count. */
	detfix_reopen(f, "detectors:\n  arp:\n    many_ips_threshold: 3\n    many_ips_window: 10s\n", NULL, 0);
	for (int i = 0; i < 4; i++) {
		const uint8_t ip[4] = { 192, 0, 2, (uint8_t)(100 + i) };
		send(f, 2, "02:00:00:00:00:66", ip, victim, (uint64_t)i * 20);
	}
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.mac_claims_many_ips"), 0);
	json_decref(arr);
}

static void test_storm(void **state)
{
	struct detfix *f = *state;
	/* Solicited replies at a high rate are no storm. */
	for (int i = 0; i < 300; i++) {
		const uint8_t ip[4] = { 198, 51, 100, (uint8_t)(1 + i % 200) };
		struct arp_ev ev;
		mk(&ev, 1, "02:00:00:00:00:17", "02:00:00:00:00:17", victim, ip);
		ev.m.ts_us = T0 + (uint64_t)i * 1000;
		det_dispatch_arp(f->reg, &ev, f->ap);
		char mac[18];
		snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x", (unsigned)(1 + i % 200));
		mk(&ev, 2, mac, mac, ip, victim);
		ev.m.ts_us = T0 + (uint64_t)i * 1000 + 10;
		det_dispatch_arp(f->reg, &ev, f->ap);
	}
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* 300 unsolicited replies "192.0.2.42 is-at attacker" over 15 s: two intervals
	 * above the threshold, one key. */
	for (int i = 0; i < 300; i++) {
		struct arp_ev ev;
		mk(&ev, 2, "02:00:00:00:00:66", "02:00:00:00:00:66", host2, victim);
		ev.m.ts_us = T0 + 20 * SEC + (uint64_t)i * 50000;
		det_dispatch_arp(f->reg, &ev, f->ap);
	}
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.unsolicited_reply_storm"), 2); /* first + aggregate */
	json_t *a = detfix_first(arr, "arp.unsolicited_reply_storm");
	json_t *top = json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), "top_senders");
	assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "mac")), "02:00:00:00:00:66");
	assert_string_equal(detfix_str(a, "source.mac"), "02:00:00:00:00:66");
	json_decref(arr);
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* 1,000,000 forged replies from random IPs and MACs: memory stays bounded and the
 * flood is one storm alert, not a million alerts. */
static void test_flood_bounded(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  arp:\n    max_entries: 65536\n    max_macs: 16384\n", NULL, 0);
	long rss_mid = 0;
	for (uint64_t i = 0; i < 1000000; i++) {
		struct arp_ev ev;
		uint64_t r = rnd();
		memset(&ev, 0, sizeof(ev));
		ev.m.ts_us = T0 + i * 10; /* 100k frames/s */
		ev.m.has_eth = true;
		ev.m.community_id = "";
		ev.arp.op = 2;
		memcpy(ev.arp.spa, &r, 4);
		uint64_t r2 = rnd();
		memcpy(ev.arp.sha, &r2, 6);
		ev.arp.sha[0] &= 0xfe; /* unicast */
		if (r2 & (1ull << 60))
			ev.arp.sha[0] |= 0x02;
		memcpy(ev.m.src_mac, ev.arp.sha, 6);
		memcpy(ev.arp.tpa, victim, 4);
		det_dispatch_arp(f->reg, &ev, f->ap);
		if (i == 200000)
			rss_mid = util_peak_rss_kib();
	}
	long rss_end = util_peak_rss_kib();
	json_t *arr = detfix_alerts(f);
	size_t n = json_array_size(arr);
	assert_true(detfix_count(arr, "arp.unsolicited_reply_storm") >= 1);
	/* the storm, its aggregate, and at most the per-storm budget (32) of others */
	assert_true(n <= 32 + 20);
	json_decref(arr);
	/* The tables were full at 200k frames; 800k more must not grow memory. */
	assert_true(rss_end - rss_mid < 4096);
}

static void test_bogon(void **state)
{
	struct detfix *f = *state;
	const uint8_t lo[4] = { 127, 0, 0, 1 }, mc[4] = { 224, 0, 0, 5 }, bc[4] = { 255, 255, 255, 255 },
		      zero[4] = { 0, 0, 0, 0 }, other[4] = { 203, 0, 113, 9 };
	send(f, 2, "02:00:00:00:00:66", lo, victim, 0);
	send(f, 2, "02:00:00:00:00:66", mc, victim, 0);
	send(f, 1, "02:00:00:00:00:66", bc, victim, 0);
	send(f, 2, "02:00:00:00:00:66", zero, victim, 0);
	send(f, 1, "02:00:00:00:00:67", zero, victim, 0); /* RFC 5227 probe: fine */
	send(f, 2, "02:00:00:00:00:66", other, victim, 0); /* no local_networks: fine */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.bogon"), 4);
	assert_int_equal(json_array_size(arr), 4);
	json_decref(arr);
	detfix_reopen(f, "detectors:\n  arp:\n    local_networks: [192.0.2.0/24, 198.51.100.0/25]\n", NULL, 0);
	send(f, 2, "02:00:00:00:00:66", other, victim, 0);
	send(f, 2, "02:00:00:00:00:66", (const uint8_t[4]){ 198, 51, 100, 200 }, victim, 0);
	send(f, 2, "02:00:00:00:00:66", (const uint8_t[4]){ 198, 51, 100, 100 }, victim, 0);
	send(f, 2, "02:00:00:00:00:66", host2, victim, 0);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.bogon"), 2);
	assert_string_equal(detfix_ev_str(json_array_get(arr, 0), "reason"), "outside the configured local networks");
	json_decref(arr);
}

static void test_state_persists(void **state)
{
	struct detfix *f = *state;
	resolve(f, gw, "02:00:00:00:00:01", 0);
	resolve(f, host2, "02:00:00:00:00:02", 1);
	json_t *saved = det_registry_save(f->reg);
	assert_non_null(saved);
	json_t *arp = json_object_get(saved, "arp");
	assert_non_null(arp);
	assert_int_equal(json_array_size(json_object_get(arp, "bindings")), 3);
	/* Round trip through text, as the state file does. */
	char *text = json_dumps(saved, 0);
	json_decref(saved);
	json_error_t je;
	saved = json_loads(text, 0, &je);
	free(text);
	/* A restart with state and a learning window: a known binding that changes
	 * alerts at once (the window applies to a cold start only). */
	detfix_reopen(f, "detectors:\n  arp:\n    report_new_stations: true\n", saved, 3600);
	send(f, 2, "02:00:00:00:00:66", gw, victim, 10);
	send(f, 1, "02:00:00:00:00:44", (const uint8_t[4]){ 192, 0, 2, 44 }, gw, 11);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 1);
	assert_int_equal(detfix_count(arr, "arp.new_station"), 1);
	json_decref(arr);
	/* A damaged state section: ignored (the registry says why), the detector starts
	 * cold and works. */
	json_t *bad = json_pack("{s:{s:i,s:[{s:s}]}}", "arp", "version", 1, "bindings", "ip", "nope");
	detfix_reopen(f, NULL, bad, 0);
	resolve(f, gw, "02:00:00:00:00:01", 0);
	resolve(f, gw, "02:00:00:00:00:02", 1);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 1);
	json_decref(arr);
	json_decref(bad);
	json_decref(saved);
}

/* DHCP leases survive a restart with the dhcp detector's state: an address that
 * changes hands as its last lease said is still an allowed change afterwards. */
static void test_leases_persist(void **state)
{
	struct detfix *f = *state;
	resolve(f, host2, "02:00:00:00:00:02", 0);
	ack(f, host2, "02:00:00:00:00:b2", NULL, 100); /* leased to another MAC */
	json_t *saved = det_registry_save(f->reg);
	json_t *leases = json_object_get(json_object_get(saved, "dhcp"), "leases");
	assert_int_equal(json_array_size(leases), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(leases, 0), "mac")),
			    "02:00:00:00:00:b2");
	detfix_reopen(f, NULL, saved, 0);
	resolve(f, host2, "02:00:00:00:00:b2", 200);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 0);
	json_decref(arr);
	/* Without the saved leases the same change alerts. */
	json_object_del(json_object_get(saved, "dhcp"), "leases");
	detfix_reopen(f, NULL, saved, 0);
	resolve(f, host2, "02:00:00:00:00:b3", 300);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 1);
	json_decref(arr);
	json_decref(saved);
}

static void test_config_errors(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  arp:\n    nope: 1\n", "t.yaml:3:" },
		{ "detectors:\n  arp:\n    local_networks: [192.0.2.0/33]\n", "local_networks" },
		{ "detectors:\n  arp:\n    local_networks: [2001:db8::/32]\n", "IPv4" },
		{ "detectors:\n  arp:\n    local_networks: 192.0.2.0/24\n", "list" },
		{ "detectors:\n  arp:\n    protected:\n      - {mac: \"02:00:00:00:00:01\"}\n", "needs ip" },
		{ "detectors:\n  arp:\n    protected:\n      - {ip: 192.0.2.1, mac: zz}\n", "not a MAC" },
		{ "detectors:\n  arp:\n    protected:\n      - {ip: 192.0.2.1, colour: red}\n", "colour" },
		{ "detectors:\n  arp:\n    failover:\n      - [\"02:00:00:00:00:01\"]\n", "at least 2" },
		{ "detectors:\n  arp:\n    many_ips_threshold: 99\n", "many_ips_threshold" },
		{ "detectors:\n  arp:\n    storm_interval: 0\n", "storm_interval" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
}

/* ONPATH_ARP_BENCH=1: ARP frames per second through the detector (one core), on a
 * steady-state mix: 4096 hosts resolving each other, requests and solicited replies. */
static void test_bench(void **state)
{
	struct detfix *f = *state;
	const char *b = getenv("ONPATH_ARP_BENCH");
	if (!b || strcmp(b, "1") != 0) {
		skip();
		return;
	}
	enum { HOSTS = 4096, FRAMES = 20000000 };
	static struct arp_ev evs[2 * HOSTS];
	for (size_t i = 0; i < 2 * HOSTS; i++) {
		size_t h = i / 2, peer = (h * 7 + 1) % HOSTS;
		uint8_t hip[4] = { 10, 1, (uint8_t)(h >> 8), (uint8_t)h }, pip[4] = { 10, 1, (uint8_t)(peer >> 8), (uint8_t)peer };
		uint8_t hm[6] = { 2, 0, 0, 1, (uint8_t)(h >> 8), (uint8_t)h }, pm[6] = { 2, 0, 0, 1, (uint8_t)(peer >> 8), (uint8_t)peer };
		struct arp_ev *e = &evs[i];
		memset(e, 0, sizeof(*e));
		e->m.has_eth = true;
		e->m.community_id = "";
		if (i % 2 == 0) { /* h asks for peer */
			e->arp.op = 1;
			memcpy(e->arp.sha, hm, 6), memcpy(e->arp.spa, hip, 4), memcpy(e->arp.tpa, pip, 4);
			memcpy(e->m.src_mac, hm, 6);
			memset(e->m.dst_mac, 0xff, 6);
		} else { /* peer answers */
			e->arp.op = 2;
			memcpy(e->arp.sha, pm, 6), memcpy(e->arp.spa, pip, 4), memcpy(e->arp.tpa, hip, 4);
			memcpy(e->arp.tha, hm, 6);
			memcpy(e->m.src_mac, pm, 6);
			memcpy(e->m.dst_mac, hm, 6);
		}
	}
	double t0 = util_mono_s();
	for (uint64_t i = 0; i < FRAMES; i++) {
		struct arp_ev *e = &evs[i % (2 * HOSTS)];
		e->m.ts_us = T0 + i / 10; /* 10M frames/s of packet time */
		det_dispatch_arp(f->reg, e, f->ap);
	}
	double dt = util_mono_s() - t0;
	json_t *arr = detfix_alerts(f);
	printf("arp bench: %d frames in %.3f s: %.2f M frames/s through the detector, %zu alerts\n", FRAMES, dt,
	       FRAMES / dt / 1e6, json_array_size(arr));
	json_decref(arr);
}

static void test_disabled_by_config(void **state)
{
	(void)state;
	char err[512];
	struct cfg *c;
	const char *y = "detectors:\n  arp:\n    enabled: false\n";
	/* Active by default: every detector but those idle without configuration (records). */
	struct det_registry *r = det_registry_new(NULL, detfix_sigdir(), err, sizeof(err));
	assert_non_null(r);
	size_t active = det_registry_active(r);
	assert_true(active >= det_builtin_count - 1);
	det_registry_free(r);
	assert_int_equal(cfg_load_string(y, strlen(y), "t.yaml", &c, err, sizeof(err)), 0);
	r = det_registry_new(c, detfix_sigdir(), err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(det_registry_active(r), active - 1);
	det_registry_free(r);
	cfg_free(c);
	const char *bad = "detectors:\n  arp:\n    enabled: false\n  nosuch: {}\n";
	assert_int_equal(cfg_load_string(bad, strlen(bad), "t.yaml", &c, err, sizeof(err)), 0);
	assert_null(det_registry_new(c, detfix_sigdir(), err, sizeof(err)));
	assert_non_null(strstr(err, "t.yaml:4:"));
	assert_non_null(strstr(err, "nosuch"));
	cfg_free(c);
}

static void test_types_documented(void **state)
{
	(void)state;
	assert_non_null(det_find_type("arp.ethernet_mismatch"));
	assert_non_null(det_find_type("arp.bad_hwaddr"));
	static const char *const more[] = { "arp.new_station", "arp.ip_mac_changed", "arp.flip_flop",
					    "arp.reused_old_mac", "arp.mac_claims_many_ips",
					    "arp.unsolicited_reply_storm", "arp.bogon" };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(more); i++) {
		const struct alert_type *t = det_find_type(more[i]);
		assert_non_null(t);
		assert_string_equal(t->technique_id, "T1557.002");
		assert_true(t->severity >= 1 && t->severity <= 6);
	}
	assert_null(det_find_type("arp.nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_consistent_frame_is_silent, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_mismatch_alerts_with_evidence, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_repeats_aggregate, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_virtual_mac_not_reported, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_bad_hwaddr, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_no_eth_header_no_mismatch, detfix_setup, detfix_teardown),
		cmocka_unit_test(test_disabled_by_config),
		cmocka_unit_test(test_types_documented),
		cmocka_unit_test_setup_teardown(test_new_station_off_by_default, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_ip_mac_changed, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_flip_flop_and_reused, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_protected_configured, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_protected_learned_from_dhcp, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_protected_learned_from_traffic, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_leases_persist, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_allowlists, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_stale_change_is_low, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_mac_claims_many_ips, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_storm, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_flood_bounded, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_bogon, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_state_persists, detfix_setup, detfix_teardown),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test_setup_teardown(test_bench, detfix_setup, detfix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
