/* test_det_ndp.c - the ndp detector judged with hand-built Neighbor Discovery events. */
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
#include "decode/ndp.h"
#include "output.h"
#include "detfix.h"
#include "util.h"

#define T0 1700000000000000ull
#define SEC 1000000ull

static void ip6(const char *s, uint8_t out[16])
{
	struct op_addr a;
	assert_int_equal(util_addr_parse(s, &a), 0);
	assert_int_equal(a.family, 6);
	memcpy(out, a.a, 16);
}

static void dispatch(struct detfix *f, const struct ndp_msg *m, const char *src, const char *eth_src, uint64_t t,
		     uint16_t vlan)
{
	struct ndp_ev ev;
	uint8_t a[16];
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = T0 + t * SEC;
	ev.m.vlan = vlan;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(eth_src, ev.m.src_mac), 0);
	memset(ev.m.dst_mac, 0x33, 6);
	ip6(src, a);
	util_addr_set6(&ev.m.src, a);
	ip6("ff02::1", a);
	util_addr_set6(&ev.m.dst, a);
	ev.m.proto = 58;
	ev.m.ip_ttl = 255;
	ev.m.community_id = "";
	ev.ndp = m;
	det_dispatch_ndp(f->reg, &ev, f->ap);
}

/* An NA for target from mac (also the Ethernet source) with the given flags. */
static void na(struct detfix *f, const char *target, const char *mac, uint8_t flags, uint64_t t)
{
	struct ndp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = NDP_NA;
	m.hop_limit = 255;
	m.na_flags = flags;
	ip6(target, m.target);
	m.has_tll = true;
	assert_int_equal(util_mac_parse(mac, m.tll), 0);
	dispatch(f, &m, target, mac, t, 0);
}

struct ra_opts {
	uint16_t lifetime;
	const char *prefix;   /* "2001:db8:1::" /64, or NULL */
	const char *rdnss;    /* or NULL */
	bool no_sll;
	uint16_t vlan;
};

static void ra(struct detfix *f, const char *router, const char *mac, const struct ra_opts *o, uint64_t t)
{
	struct ndp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = NDP_RA;
	m.hop_limit = 255;
	m.router_lifetime_s = o->lifetime;
	if (!o->no_sll) {
		m.has_sll = true;
		assert_int_equal(util_mac_parse(mac, m.sll), 0);
	}
	if (o->prefix) {
		ip6(o->prefix, m.prefixes[0].prefix);
		m.prefixes[0].len = 64;
		m.prefixes[0].flags = 0xc0;
		m.nprefixes = 1;
	}
	if (o->rdnss) {
		ip6(o->rdnss, m.rdnss[0]);
		m.nrdnss = 1;
	}
	dispatch(f, &m, router, mac, t, o->vlan);
}

#define R1 "fe80::1"
#define R1MAC "02:00:00:00:00:01"
#define HOST "fe80::23"

static void test_na_override(void **state)
{
	struct detfix *f = *state;
	na(f, HOST, "02:00:00:00:00:23", NDP_NA_SOLICITED | NDP_NA_OVERRIDE, 0);
	/* Without Override a known entry is not replaced: nothing to judge. */
	na(f, HOST, "02:00:00:00:00:66", 0, 1);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* Unsolicited NA with Override from the attacker. */
	na(f, HOST, "02:00:00:00:00:66", NDP_NA_OVERRIDE, 2);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "ndp.na_override");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "old_mac"), "02:00:00:00:00:23");
	assert_string_equal(detfix_ev_str(a, "new_mac"), "02:00:00:00:00:66");
	assert_string_equal(detfix_ev_str(a, "change"), "changed");
	assert_string_equal(detfix_ev_str(a, "ip"), "fe80::23");
	json_decref(arr);
	/* The owner answers again: flip-flop. */
	na(f, HOST, "02:00:00:00:00:23", NDP_NA_SOLICITED | NDP_NA_OVERRIDE, 3);
	arr = detfix_alerts(f);
	a = json_array_get(arr, 1);
	assert_string_equal(detfix_ev_str(a, "change"), "flip_flop");
	assert_int_equal(detfix_sev(a), 6);
	json_decref(arr);
}

static void test_na_protected(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  ndp:\n    protected:\n      - {ip: \"fe80::53\", mac: \"02:00:00:00:00:53\", role: resolver}\n",
	       NULL, 0);
	na(f, "fe80::53", "02:00:00:00:00:66", NDP_NA_OVERRIDE, 0);
	/* A known router's address is protected too. */
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &o, 1);
	na(f, R1, "02:00:00:00:00:66", NDP_NA_OVERRIDE | NDP_NA_ROUTER, 2);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "ndp.na_override"), 2);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_ev_str(a, "role"), "resolver");
	assert_string_equal(detfix_ev_str(a, "baseline"), "configured");
	assert_int_equal(detfix_sev(a), 9);
	a = json_array_get(arr, 1);
	assert_string_equal(detfix_ev_str(a, "role"), "default router");
	assert_true(detfix_sev(a) >= 8);
	json_decref(arr);
}

static void test_rogue_router_baseline(void **state)
{
	struct detfix *f = *state;
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::", .rdnss = "2001:db8::53" };
	ra(f, R1, R1MAC, &o, 0); /* first router of the VLAN: trusted on first use */
	ra(f, R1, R1MAC, &o, 10);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* A second router announcing itself as default. */
	struct ra_opts o2 = { .lifetime = 1800, .prefix = "2001:db8:bad::" };
	ra(f, "fe80::bad", "02:00:00:00:00:66", &o2, 20);
	arr = detfix_alerts(f);
	json_t *a = detfix_first(arr, "ndp.rogue_router");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "reason"), "new router");
	assert_string_equal(detfix_ev_str(a, "router"), "fe80::bad");
	json_decref(arr);
	/* The known router with a new prefix, a new RDNSS. */
	struct ra_opts o3 = { .lifetime = 1800, .prefix = "2001:db8:2::", .rdnss = "2001:db8::66" };
	ra(f, R1, R1MAC, &o3, 30);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "ndp.rogue_router"), 3);
	json_t *p = json_array_get(arr, 1), *d = json_array_get(arr, 2);
	assert_string_equal(detfix_ev_str(p, "reason"), "new prefix");
	assert_int_equal(detfix_sev(p), 6);
	assert_string_equal(detfix_ev_str(d, "reason"), "new RDNSS");
	assert_int_equal(detfix_sev(d), 7);
	json_decref(arr);
	/* The router's address from another MAC. */
	ra(f, R1, "02:00:00:00:00:67", &o, 40);
	arr = detfix_alerts(f);
	a = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(detfix_ev_str(a, "reason"), "known router address from another MAC");
	assert_string_equal(detfix_ev_str(a, "known_router_mac"), R1MAC);
	json_decref(arr);
	/* Another VLAN has no router yet: its first is trusted. */
	struct ra_opts o4 = { .lifetime = 1800, .vlan = 20 };
	ra(f, "fe80::20", "02:00:00:00:00:20", &o4, 50);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 4);
	json_decref(arr);
}

static void test_rogue_router_learning_window(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, NULL, NULL, 60);
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &o, 0);
	ra(f, "fe80::2", "02:00:00:00:00:02", &o, 30);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	ra(f, "fe80::3", "02:00:00:00:00:03", &o, 61);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "ndp.rogue_router"), 1);
	json_decref(arr);
}

static void test_rogue_router_configured(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f,
	       "detectors:\n  ndp:\n    allowed_routers: [\"fe80::1\", \"02:00:00:00:00:09\"]\n"
	       "    allowed_prefixes: [\"2001:db8:1::/48\"]\n    allowed_rdnss: [\"2001:db8::53\"]\n",
	       NULL, 0);
	struct ra_opts ok = { .lifetime = 1800, .prefix = "2001:db8:1:5::", .rdnss = "2001:db8::53" };
	ra(f, R1, R1MAC, &ok, 0);
	ra(f, "fe80::9", "02:00:00:00:00:09", &ok, 1); /* allowed by MAC */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	struct ra_opts badp = { .lifetime = 1800, .prefix = "2001:db8:2::" };
	ra(f, R1, R1MAC, &badp, 2);
	struct ra_opts badd = { .lifetime = 1800, .rdnss = "2001:db8::66" };
	ra(f, R1, R1MAC, &badd, 3);
	ra(f, "fe80::66", "02:00:00:00:00:66", &ok, 4);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(detfix_ev_str(json_array_get(arr, 0), "reason"), "prefix not allowed");
	assert_int_equal(detfix_sev(json_array_get(arr, 0)), 7);
	assert_string_equal(detfix_ev_str(json_array_get(arr, 1), "reason"), "RDNSS not allowed");
	assert_int_equal(detfix_sev(json_array_get(arr, 1)), 8);
	assert_string_equal(detfix_ev_str(json_array_get(arr, 2), "reason"), "router not allowed");
	assert_int_equal(detfix_sev(json_array_get(arr, 2)), 8);
	json_decref(arr);
}

static void test_router_lifetime_zero(void **state)
{
	struct detfix *f = *state;
	struct ra_opts bare0 = { .lifetime = 0, .no_sll = true };
	/* Unknown router, nothing but lifetime 0 (kill_router6's first shot). */
	ra(f, R1, "02:00:00:00:00:66", &bare0, 0);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_first(arr, "ndp.router_lifetime_zero");
	assert_non_null(a);
	assert_int_equal(detfix_sev(a), 5);
	json_decref(arr);
	/* The real router (learned), then the spoofed kill. */
	struct ra_opts o = { .lifetime = 30, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &o, 1);
	ra(f, R1, "02:00:00:00:00:66", &bare0, 3);
	ra(f, R1, "02:00:00:00:00:66", &bare0, 6);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "ndp.router_lifetime_zero"), 3); /* unknown, spoofed + aggregate */
	a = json_array_get(arr, 1);
	assert_int_equal(detfix_sev(a), 8);
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), "spoofed")));
	assert_string_equal(detfix_ev_str(a, "known_router_mac"), R1MAC);
	json_decref(arr);
	/* The router retiring itself: low. */
	struct ra_opts self0 = { .lifetime = 0, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &self0, 10);
	arr = detfix_alerts(f);
	a = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(detfix_action(a), "ndp.router_lifetime_zero");
	assert_int_equal(detfix_sev(a), 4);
	json_decref(arr);
}

static void test_non_default_router(void **state)
{
	struct detfix *f = *state;
	/* A router that only announces a prefix (lifetime 0 throughout) is normal. */
	struct ra_opts o = { .lifetime = 0, .prefix = "fdb2:2c26:f4e4:1::" };
	ra(f, R1, R1MAC, &o, 0);
	ra(f, R1, R1MAC, &o, 600);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* It starts advertising itself as a default router. */
	o.lifetime = 1800;
	ra(f, R1, R1MAC, &o, 1200);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(detfix_ev_str(json_array_get(arr, 0), "reason"), "became a default router");
	json_decref(arr);
}

static void test_state_persists(void **state)
{
	struct detfix *f = *state;
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::", .rdnss = "2001:db8::53" };
	ra(f, R1, R1MAC, &o, 0);
	na(f, HOST, "02:00:00:00:00:23", NDP_NA_OVERRIDE, 1);
	json_t *saved = det_registry_save(f->reg);
	json_t *ndp = json_object_get(saved, "ndp");
	assert_int_equal(json_array_size(json_object_get(ndp, "routers")), 1);
	assert_int_equal(json_array_size(json_object_get(ndp, "neighbors")), 2);
	char *text = json_dumps(saved, 0);
	json_decref(saved);
	json_error_t je;
	saved = json_loads(text, 0, &je);
	free(text);
	detfix_reopen(f, NULL, saved, 3600);
	/* No trust on first use and no learning window after a restart with state. */
	ra(f, "fe80::66", "02:00:00:00:00:66", &o, 100);
	na(f, HOST, "02:00:00:00:00:66", NDP_NA_OVERRIDE, 101);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "ndp.rogue_router"), 1);
	assert_int_equal(detfix_count(arr, "ndp.na_override"), 1);
	json_decref(arr);
	json_decref(saved);
	/* Damaged state: ignored, the detector starts cold and works. */
	json_t *bad = json_pack("{s:{s:i,s:[],s:[{s:i}]}}", "ndp", "version", 1, "neighbors", "routers", "vlan", 1);
	detfix_reopen(f, NULL, bad, 0);
	ra(f, R1, R1MAC, &o, 0);
	json_t *arr2 = detfix_alerts(f);
	assert_int_equal(json_array_size(arr2), 0);
	json_decref(arr2);
	json_decref(bad);
}

static void test_bounded(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, "detectors:\n  ndp:\n    max_neighbors: 256\n    max_routers: 16\n", NULL, 0);
	for (unsigned i = 0; i < 20000; i++) {
		char ip[64], mac[18];
		snprintf(ip, sizeof(ip), "2001:db8::%x:%x", i >> 16, i & 0xffff);
		snprintf(mac, sizeof(mac), "02:00:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		na(f, ip, mac, NDP_NA_OVERRIDE, i / 1000);
	}
	/* The first targets were forgotten: a new MAC for them is a new binding. */
	na(f, "2001:db8::0:0", "02:00:00:00:00:66", NDP_NA_OVERRIDE, 30);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

static void test_config_errors(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  ndp:\n    nope: 1\n", "nope" },
		{ "detectors:\n  ndp:\n    allowed_routers: [192.0.2.1]\n", "IPv6" },
		{ "detectors:\n  ndp:\n    allowed_routers: [bogus]\n", "allowed_routers" },
		{ "detectors:\n  ndp:\n    allowed_prefixes: [\"192.0.2.0/24\"]\n", "IPv6" },
		{ "detectors:\n  ndp:\n    allowed_rdnss: [\"2001:db8::/32\"]\n", "allowed_rdnss" },
		{ "detectors:\n  ndp:\n    protected:\n      - {ip: 192.0.2.1}\n", "IPv6" },
		{ "detectors:\n  ndp:\n    max_neighbors: 1\n", "max_neighbors" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
}

static void test_types(void **state)
{
	(void)state;
	assert_non_null(det_find_type("ndp.na_override"));
	assert_non_null(det_find_type("ndp.rogue_router"));
	assert_non_null(det_find_type("ndp.router_lifetime_zero"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_na_override, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_na_protected, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_rogue_router_baseline, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_rogue_router_learning_window, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_rogue_router_configured, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_router_lifetime_zero, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_non_default_router, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_state_persists, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_bounded, detfix_setup, detfix_teardown),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
