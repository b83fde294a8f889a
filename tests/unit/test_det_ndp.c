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
#include "util.h"

#define T0 1700000000000000ull
#define SEC 1000000ull

struct fx {
	char path[64];
	struct out_mgr *out;
	struct alert_pipe *ap;
	struct det_registry *reg;
	struct cfg *cfg;
};

static const char *sigdir(void)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");
	if (!top)
		return SRCSIGDIR;
	snprintf(buf, sizeof(buf), "%s/signatures", top);
	return buf;
}

static void fx_open(struct fx *f, const char *yaml, const json_t *saved, uint64_t learning_s)
{
	char err[512];
	strcpy(f->path, "/tmp/test_det_ndp.XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	char spec[128];
	snprintf(spec, sizeof(spec), "jsonl:%s", f->path);
	f->out = out_mgr_new(1024, false);
	assert_int_equal(out_mgr_add(f->out, spec, err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(f->out), 0);
	struct alert_pipe_cfg ac = { "test", NULL, 300, 1024, 1 };
	f->ap = alert_pipe_new(&ac, f->out);
	f->cfg = NULL;
	if (yaml && cfg_load_string(yaml, strlen(yaml), "t.yaml", &f->cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	f->reg = det_registry_new_state(f->cfg, sigdir(), saved, learning_s, err, sizeof(err));
	if (!f->reg)
		fail_msg("registry: %s", err);
}

static void fx_close(struct fx *f)
{
	det_registry_free(f->reg);
	alert_pipe_free(f->ap);
	out_mgr_free(f->out);
	cfg_free(f->cfg);
	unlink(f->path);
	f->reg = NULL;
}

static void reopen(struct fx *f, const char *yaml, const json_t *saved, uint64_t learning_s)
{
	fx_close(f);
	fx_open(f, yaml, saved, learning_s);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	fx_open(f, NULL, NULL, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->reg)
		fx_close(f);
	free(f);
	return 0;
}

static json_t *alerts(struct fx *f)
{
	alert_pipe_flush(f->ap);
	out_mgr_sync(f->out);
	json_t *arr = json_array();
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char line[16384];
	while (fgets(line, sizeof(line), fp)) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("invalid JSON line: %s: %s", e.text, line);
		json_array_append_new(arr, j);
	}
	fclose(fp);
	return arr;
}

static const char *action(json_t *a)
{
	return json_string_value(json_object_get(json_object_get(a, "event"), "action"));
}

static json_int_t sev(json_t *a)
{
	return json_integer_value(json_object_get(json_object_get(a, "event"), "severity"));
}

static const char *evs(json_t *a, const char *k)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), k));
}

static size_t count(json_t *arr, const char *act)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(arr); i++)
		n += strcmp(action(json_array_get(arr, i)), act) == 0;
	return n;
}

static json_t *first(json_t *arr, const char *act)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(action(json_array_get(arr, i)), act) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static void ip6(const char *s, uint8_t out[16])
{
	struct op_addr a;
	assert_int_equal(util_addr_parse(s, &a), 0);
	assert_int_equal(a.family, 6);
	memcpy(out, a.a, 16);
}

static void dispatch(struct fx *f, const struct ndp_msg *m, const char *src, const char *eth_src, uint64_t t,
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
static void na(struct fx *f, const char *target, const char *mac, uint8_t flags, uint64_t t)
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

static void ra(struct fx *f, const char *router, const char *mac, const struct ra_opts *o, uint64_t t)
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
	struct fx *f = *state;
	na(f, HOST, "02:00:00:00:00:23", NDP_NA_SOLICITED | NDP_NA_OVERRIDE, 0);
	/* Without Override a known entry is not replaced: nothing to judge. */
	na(f, HOST, "02:00:00:00:00:66", 0, 1);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* Unsolicited NA with Override from the attacker. */
	na(f, HOST, "02:00:00:00:00:66", NDP_NA_OVERRIDE, 2);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(action(a), "ndp.na_override");
	assert_int_equal(sev(a), 6);
	assert_string_equal(evs(a, "old_mac"), "02:00:00:00:00:23");
	assert_string_equal(evs(a, "new_mac"), "02:00:00:00:00:66");
	assert_string_equal(evs(a, "change"), "changed");
	assert_string_equal(evs(a, "ip"), "fe80::23");
	json_decref(arr);
	/* The owner answers again: flip-flop. */
	na(f, HOST, "02:00:00:00:00:23", NDP_NA_SOLICITED | NDP_NA_OVERRIDE, 3);
	arr = alerts(f);
	a = json_array_get(arr, 1);
	assert_string_equal(evs(a, "change"), "flip_flop");
	assert_int_equal(sev(a), 6);
	json_decref(arr);
}

static void test_na_protected(void **state)
{
	struct fx *f = *state;
	reopen(f, "detectors:\n  ndp:\n    protected:\n      - {ip: \"fe80::53\", mac: \"02:00:00:00:00:53\", role: resolver}\n",
	       NULL, 0);
	na(f, "fe80::53", "02:00:00:00:00:66", NDP_NA_OVERRIDE, 0);
	/* A known router's address is protected too. */
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &o, 1);
	na(f, R1, "02:00:00:00:00:66", NDP_NA_OVERRIDE | NDP_NA_ROUTER, 2);
	json_t *arr = alerts(f);
	assert_int_equal(count(arr, "ndp.na_override"), 2);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(evs(a, "role"), "resolver");
	assert_string_equal(evs(a, "baseline"), "configured");
	assert_int_equal(sev(a), 9);
	a = json_array_get(arr, 1);
	assert_string_equal(evs(a, "role"), "default router");
	assert_true(sev(a) >= 8);
	json_decref(arr);
}

static void test_rogue_router_baseline(void **state)
{
	struct fx *f = *state;
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::", .rdnss = "2001:db8::53" };
	ra(f, R1, R1MAC, &o, 0); /* first router of the VLAN: trusted on first use */
	ra(f, R1, R1MAC, &o, 10);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* A second router announcing itself as default. */
	struct ra_opts o2 = { .lifetime = 1800, .prefix = "2001:db8:bad::" };
	ra(f, "fe80::bad", "02:00:00:00:00:66", &o2, 20);
	arr = alerts(f);
	json_t *a = first(arr, "ndp.rogue_router");
	assert_non_null(a);
	assert_int_equal(sev(a), 8);
	assert_string_equal(evs(a, "reason"), "new router");
	assert_string_equal(evs(a, "router"), "fe80::bad");
	json_decref(arr);
	/* The known router with a new prefix, a new RDNSS. */
	struct ra_opts o3 = { .lifetime = 1800, .prefix = "2001:db8:2::", .rdnss = "2001:db8::66" };
	ra(f, R1, R1MAC, &o3, 30);
	arr = alerts(f);
	assert_int_equal(count(arr, "ndp.rogue_router"), 3);
	json_t *p = json_array_get(arr, 1), *d = json_array_get(arr, 2);
	assert_string_equal(evs(p, "reason"), "new prefix");
	assert_int_equal(sev(p), 6);
	assert_string_equal(evs(d, "reason"), "new RDNSS");
	assert_int_equal(sev(d), 7);
	json_decref(arr);
	/* The router's address from another MAC. */
	ra(f, R1, "02:00:00:00:00:67", &o, 40);
	arr = alerts(f);
	a = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(evs(a, "reason"), "known router address from another MAC");
	assert_string_equal(evs(a, "known_router_mac"), R1MAC);
	json_decref(arr);
	/* Another VLAN has no router yet: its first is trusted. */
	struct ra_opts o4 = { .lifetime = 1800, .vlan = 20 };
	ra(f, "fe80::20", "02:00:00:00:00:20", &o4, 50);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 4);
	json_decref(arr);
}

static void test_rogue_router_learning_window(void **state)
{
	struct fx *f = *state;
	reopen(f, NULL, NULL, 60);
	struct ra_opts o = { .lifetime = 1800, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &o, 0);
	ra(f, "fe80::2", "02:00:00:00:00:02", &o, 30);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	ra(f, "fe80::3", "02:00:00:00:00:03", &o, 61);
	arr = alerts(f);
	assert_int_equal(count(arr, "ndp.rogue_router"), 1);
	json_decref(arr);
}

static void test_rogue_router_configured(void **state)
{
	struct fx *f = *state;
	reopen(f,
	       "detectors:\n  ndp:\n    allowed_routers: [\"fe80::1\", \"02:00:00:00:00:09\"]\n"
	       "    allowed_prefixes: [\"2001:db8:1::/48\"]\n    allowed_rdnss: [\"2001:db8::53\"]\n",
	       NULL, 0);
	struct ra_opts ok = { .lifetime = 1800, .prefix = "2001:db8:1:5::", .rdnss = "2001:db8::53" };
	ra(f, R1, R1MAC, &ok, 0);
	ra(f, "fe80::9", "02:00:00:00:00:09", &ok, 1); /* allowed by MAC */
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	struct ra_opts badp = { .lifetime = 1800, .prefix = "2001:db8:2::" };
	ra(f, R1, R1MAC, &badp, 2);
	struct ra_opts badd = { .lifetime = 1800, .rdnss = "2001:db8::66" };
	ra(f, R1, R1MAC, &badd, 3);
	ra(f, "fe80::66", "02:00:00:00:00:66", &ok, 4);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(evs(json_array_get(arr, 0), "reason"), "prefix not allowed");
	assert_int_equal(sev(json_array_get(arr, 0)), 7);
	assert_string_equal(evs(json_array_get(arr, 1), "reason"), "RDNSS not allowed");
	assert_int_equal(sev(json_array_get(arr, 1)), 8);
	assert_string_equal(evs(json_array_get(arr, 2), "reason"), "router not allowed");
	assert_int_equal(sev(json_array_get(arr, 2)), 8);
	json_decref(arr);
}

static void test_router_lifetime_zero(void **state)
{
	struct fx *f = *state;
	struct ra_opts bare0 = { .lifetime = 0, .no_sll = true };
	/* Unknown router, nothing but lifetime 0 (kill_router6's first shot). */
	ra(f, R1, "02:00:00:00:00:66", &bare0, 0);
	json_t *arr = alerts(f);
	json_t *a = first(arr, "ndp.router_lifetime_zero");
	assert_non_null(a);
	assert_int_equal(sev(a), 5);
	json_decref(arr);
	/* The real router (learned), then the spoofed kill. */
	struct ra_opts o = { .lifetime = 30, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &o, 1);
	ra(f, R1, "02:00:00:00:00:66", &bare0, 3);
	ra(f, R1, "02:00:00:00:00:66", &bare0, 6);
	arr = alerts(f);
	assert_int_equal(count(arr, "ndp.router_lifetime_zero"), 3); /* unknown, spoofed + aggregate */
	a = json_array_get(arr, 1);
	assert_int_equal(sev(a), 8);
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), "spoofed")));
	assert_string_equal(evs(a, "known_router_mac"), R1MAC);
	json_decref(arr);
	/* The router retiring itself: low. */
	struct ra_opts self0 = { .lifetime = 0, .prefix = "2001:db8:1::" };
	ra(f, R1, R1MAC, &self0, 10);
	arr = alerts(f);
	a = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(action(a), "ndp.router_lifetime_zero");
	assert_int_equal(sev(a), 4);
	json_decref(arr);
}

static void test_non_default_router(void **state)
{
	struct fx *f = *state;
	/* A router that only announces a prefix (lifetime 0 throughout) is normal. */
	struct ra_opts o = { .lifetime = 0, .prefix = "fdb2:2c26:f4e4:1::" };
	ra(f, R1, R1MAC, &o, 0);
	ra(f, R1, R1MAC, &o, 600);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* It starts advertising itself as a default router. */
	o.lifetime = 1800;
	ra(f, R1, R1MAC, &o, 1200);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(evs(json_array_get(arr, 0), "reason"), "became a default router");
	json_decref(arr);
}

static void test_state_persists(void **state)
{
	struct fx *f = *state;
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
	reopen(f, NULL, saved, 3600);
	/* No trust on first use and no learning window after a restart with state. */
	ra(f, "fe80::66", "02:00:00:00:00:66", &o, 100);
	na(f, HOST, "02:00:00:00:00:66", NDP_NA_OVERRIDE, 101);
	json_t *arr = alerts(f);
	assert_int_equal(count(arr, "ndp.rogue_router"), 1);
	assert_int_equal(count(arr, "ndp.na_override"), 1);
	json_decref(arr);
	json_decref(saved);
	/* Damaged state: ignored, the detector starts cold and works. */
	json_t *bad = json_pack("{s:{s:i,s:[],s:[{s:i}]}}", "ndp", "version", 1, "neighbors", "routers", "vlan", 1);
	reopen(f, NULL, bad, 0);
	ra(f, R1, R1MAC, &o, 0);
	json_t *arr2 = alerts(f);
	assert_int_equal(json_array_size(arr2), 0);
	json_decref(arr2);
	json_decref(bad);
}

static void test_bounded(void **state)
{
	struct fx *f = *state;
	reopen(f, "detectors:\n  ndp:\n    max_neighbors: 256\n    max_routers: 16\n", NULL, 0);
	for (unsigned i = 0; i < 20000; i++) {
		char ip[64], mac[18];
		snprintf(ip, sizeof(ip), "2001:db8::%x:%x", i >> 16, i & 0xffff);
		snprintf(mac, sizeof(mac), "02:00:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		na(f, ip, mac, NDP_NA_OVERRIDE, i / 1000);
	}
	/* The first targets were forgotten: a new MAC for them is a new binding. */
	na(f, "2001:db8::0:0", "02:00:00:00:00:66", NDP_NA_OVERRIDE, 30);
	json_t *arr = alerts(f);
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
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++) {
		char err[512] = "";
		struct cfg *c;
		assert_int_equal(cfg_load_string(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", &c, err, sizeof(err)), 0);
		struct det_registry *r = det_registry_new(c, sigdir(), err, sizeof(err));
		if (r)
			fail_msg("case %zu accepted", i);
		if (!strstr(err, cases[i].want) || !strstr(err, "t.yaml:"))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
		cfg_free(c);
	}
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
		cmocka_unit_test_setup_teardown(test_na_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_na_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rogue_router_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rogue_router_learning_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rogue_router_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_router_lifetime_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_default_router, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
