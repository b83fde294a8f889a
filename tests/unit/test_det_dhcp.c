/* test_det_dhcp.c - the dhcp detector judged with hand-built DHCP events. */
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
#include "decode/dhcp.h"
#include "output.h"
#include "detfix.h"
#include "util.h"

#define T0 1700000000000000ull
#define SEC 1000000ull


struct offer {
	int version;             /* 4 (default) or 6 */
	uint8_t type;            /* default OFFER / ADVERTISE */
	const char *server;      /* server identifier (v4) and source address */
	const char *mac;         /* Ethernet source */
	const char *router;      /* or NULL */
	const char *dns;         /* or NULL */
	const char *dns2;
	const char *yiaddr;
	const char *giaddr;
	const char *duid;        /* v6: server DUID as text bytes */
	uint16_t vlan;
};

static void addr(const char *s, struct op_addr *a)
{
	assert_int_equal(util_addr_parse(s, a), 0);
}

static void send(struct detfix *f, const struct offer *o, uint64_t t)
{
	struct dhcp_msg d;
	struct dhcp_ev ev;
	memset(&d, 0, sizeof(d));
	memset(&ev, 0, sizeof(ev));
	int v = o->version ? o->version : 4;
	d.version = (uint8_t)v;
	if (v == 4) {
		d.op = 2;
		d.type = o->type ? o->type : DHCP_OFFER;
		d.htype = 1;
		d.hlen = 6;
		memcpy(d.chaddr, "\x02\x00\x00\x00\x00\x23", 6);
		struct op_addr y;
		addr(o->yiaddr ? o->yiaddr : "192.0.2.23", &y);
		memcpy(d.yiaddr, y.a, 4);
		if (o->giaddr) {
			addr(o->giaddr, &y);
			memcpy(d.giaddr, y.a, 4);
		}
		d.has_server_id = true;
		addr(o->server, &d.server_id);
	} else {
		d.type = o->type ? o->type : DHCP6_ADVERTISE;
		d.server_duid_len = (uint8_t)strlen(o->duid);
		memcpy(d.server_duid, o->duid, d.server_duid_len);
	}
	if (o->router) {
		d.has_routers = true;
		addr(o->router, &d.routers[d.nrouters++]);
	}
	if (o->dns) {
		d.has_dns = true;
		addr(o->dns, &d.dns[d.ndns++]);
	}
	if (o->dns2)
		addr(o->dns2, &d.dns[d.ndns++]);
	ev.m.ts_us = T0 + t * SEC;
	ev.m.vlan = o->vlan;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(o->mac, ev.m.src_mac), 0);
	memset(ev.m.dst_mac, 0xff, 6);
	addr(o->server, &ev.m.src);
	addr(v == 4 ? "255.255.255.255" : "fe80::23", &ev.m.dst);
	ev.m.sport = v == 4 ? 67 : 547;
	ev.m.dport = v == 4 ? 68 : 546;
	ev.m.proto = 17;
	ev.m.community_id = "";
	ev.dhcp = &d;
	det_dispatch_dhcp(f->reg, &ev, f->ap);
}

#define SRV "192.0.2.67"
#define SRVMAC "02:00:00:00:00:43"

static void test_tofu_and_rogue(void **state)
{
	struct detfix *f = *state;
	struct offer legit = { .server = SRV, .mac = SRVMAC, .router = "192.0.2.1", .dns = "192.0.2.53" };
	send(f, &legit, 0);
	legit.type = DHCP_ACK;
	send(f, &legit, 1);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* A second server handing out itself as router and resolver. */
	struct offer rogue = { .server = "192.0.2.66", .mac = "02:00:00:00:00:66", .router = "192.0.2.66",
			       .dns = "192.0.2.66" };
	send(f, &rogue, 2);
	rogue.type = DHCP_ACK;
	send(f, &rogue, 3);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 2); /* first + aggregate */
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "dhcp.rogue_server");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "reason"), "server not in the baseline");
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), "self_dns")));
	assert_string_equal(detfix_ev_str(a, "server_id"), "192.0.2.66");
	assert_string_equal(detfix_ev_str(a, "offered_ip"), "192.0.2.23");
	assert_string_equal(detfix_ev_str(a, "client_mac"), "02:00:00:00:00:23");
	json_t *tid = json_object_get(json_object_get(json_object_get(a, "threat"), "technique"), "id");
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1557.003");
	json_decref(arr);
	/* A second server with the same values: a failover partner nobody declared. */
	struct offer partner = { .server = "192.0.2.68", .mac = "02:00:00:00:00:44", .router = "192.0.2.1",
				 .dns = "192.0.2.53" };
	send(f, &partner, 4);
	arr = detfix_alerts(f);
	a = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(detfix_action(a), "dhcp.rogue_server");
	assert_int_equal(detfix_sev(a), 5);
	json_decref(arr);
	/* Client messages and NAKs are not judged. */
	struct offer nak = { .server = "192.0.2.99", .mac = "02:00:00:00:00:99", .type = DHCP_NAK };
	send(f, &nak, 5);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 3);
	json_decref(arr);
}

static void test_impersonation(void **state)
{
	struct detfix *f = *state;
	struct offer legit = { .server = SRV, .mac = SRVMAC, .router = "192.0.2.1", .dns = "192.0.2.53" };
	send(f, &legit, 0);
	struct offer fake = legit;
	fake.mac = "02:00:00:00:00:66";
	send(f, &fake, 1);
	/* Through a relay the L2 source is the relay's: not judged by MAC. */
	struct offer relayed = legit;
	relayed.mac = "02:00:00:00:00:fe";
	relayed.giaddr = "198.51.100.1";
	send(f, &relayed, 2);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_ev_str(a, "reason"), "known server identifier from another MAC");
	assert_string_equal(detfix_ev_str(a, "known_server_mac"), SRVMAC);
	assert_int_equal(detfix_sev(a), 8);
	json_decref(arr);
}

static void test_option_changed_learned(void **state)
{
	struct detfix *f = *state;
	struct offer legit = { .server = SRV, .mac = SRVMAC, .router = "192.0.2.1", .dns = "192.0.2.53",
			       .dns2 = "192.0.2.54" };
	send(f, &legit, 0);
	/* Same set in another order: fine. */
	struct offer same = legit;
	same.dns = "192.0.2.54";
	same.dns2 = "192.0.2.53";
	send(f, &same, 1);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	struct offer changed = legit;
	changed.dns = "203.0.113.53";
	changed.dns2 = NULL;
	send(f, &changed, 2);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "dhcp.option_changed");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "option"), "dns");
	assert_string_equal(detfix_ev_str(a, "baseline"), "learned");
	json_t *e = json_object_get(json_object_get(a, "onpath"), "evidence");
	assert_int_equal(json_array_size(json_object_get(e, "old")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "new"), 0)), "203.0.113.53");
	json_decref(arr);
}

static void test_configured(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f,
	       "detectors:\n  dhcp:\n    allowed_servers: [192.0.2.67, \"duid:00:03:00:01:02:00:00:00:00:47\"]\n"
	       "    allowed_routers: [192.0.2.1]\n    allowed_dns: [192.0.2.53, \"2001:db8::53\"]\n",
	       NULL, 0);
	/* The first server heard is not trusted when a list is configured. */
	struct offer rogue = { .server = "192.0.2.66", .mac = "02:00:00:00:00:66", .router = "192.0.2.1",
			       .dns = "192.0.2.53" };
	send(f, &rogue, 0);
	struct offer legit = { .server = SRV, .mac = SRVMAC, .router = "192.0.2.1", .dns = "192.0.2.53" };
	send(f, &legit, 1);
	struct offer bad = legit;
	bad.router = "192.0.2.254";
	send(f, &bad, 2);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(detfix_ev_str(json_array_get(arr, 0), "reason"), "server not allowed");
	assert_int_equal(detfix_sev(json_array_get(arr, 0)), 8);
	json_t *a = json_array_get(arr, 1);
	assert_string_equal(detfix_action(a), "dhcp.option_changed");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(detfix_ev_str(a, "option"), "router");
	assert_string_equal(detfix_ev_str(a, "baseline"), "configured");
	json_decref(arr);
}

static void test_v6(void **state)
{
	struct detfix *f = *state;
	struct offer a6 = { .version = 6, .server = "fe80::47", .mac = SRVMAC, .dns = "2001:db8::53",
			    .duid = "SERVER-DUID-1" };
	send(f, &a6, 0);
	a6.type = DHCP6_REPLY;
	send(f, &a6, 1);
	struct offer r6 = { .version = 6, .server = "fe80::66", .mac = "02:00:00:00:00:66", .dns = "fe80::66",
			    .duid = "ROGUE-DUID" };
	send(f, &r6, 2);
	/* v4 and v6 baselines are separate: the first v4 server is still trusted. */
	struct offer v4 = { .server = SRV, .mac = SRVMAC, .router = "192.0.2.1" };
	send(f, &v4, 3);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "dhcp.rogue_server");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "message_type"), "ADVERTISE");
	json_decref(arr);
	/* Allowed by DUID. */
	detfix_reopen(f, "detectors:\n  dhcp:\n    allowed_servers: [\"duid:524f475545\"]\n", NULL, 0);
	struct offer x = { .version = 6, .server = "fe80::66", .mac = "02:00:00:00:00:66", .duid = "ROGUE" };
	send(f, &x, 0);
	x.duid = "ROGUE-DUID";
	send(f, &x, 1);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
}

static void test_learning_and_state(void **state)
{
	struct detfix *f = *state;
	detfix_reopen(f, NULL, NULL, 60);
	struct offer a = { .server = SRV, .mac = SRVMAC, .router = "192.0.2.1", .dns = "192.0.2.53" };
	struct offer b = { .server = "192.0.2.68", .mac = "02:00:00:00:00:44", .router = "192.0.2.1",
			   .dns = "192.0.2.53" };
	send(f, &a, 0);
	send(f, &b, 30); /* inside the learning window: learned */
	struct offer c = { .server = "192.0.2.69", .mac = "02:00:00:00:00:45", .router = "192.0.2.1" };
	send(f, &c, 61);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	json_t *saved = det_registry_save(f->reg);
	assert_int_equal(json_array_size(json_object_get(json_object_get(saved, "dhcp"), "servers")), 2);
	char *text = json_dumps(saved, 0);
	json_decref(saved);
	json_error_t je;
	saved = json_loads(text, 0, &je);
	free(text);
	detfix_reopen(f, NULL, saved, 3600);
	send(f, &b, 100);
	send(f, &c, 101); /* still unknown: no learning window with state */
	struct offer changed = a;
	changed.dns = "203.0.113.53";
	send(f, &changed, 102);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(detfix_action(json_array_get(arr, 0)), "dhcp.rogue_server");
	assert_string_equal(detfix_action(json_array_get(arr, 1)), "dhcp.option_changed");
	json_decref(arr);
	json_decref(saved);
	json_t *bad = json_pack("{s:{s:i,s:[{s:i}]}}", "dhcp", "version", 1, "servers", "vlan", 9999);
	detfix_reopen(f, NULL, bad, 0);
	send(f, &a, 0);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	json_decref(bad);
}

static void test_config_errors(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  dhcp:\n    nope: 1\n", "nope" },
		{ "detectors:\n  dhcp:\n    allowed_servers: [bogus]\n", "allowed_servers" },
		{ "detectors:\n  dhcp:\n    allowed_servers: [\"duid:0g\"]\n", "duid:HEX" },
		{ "detectors:\n  dhcp:\n    allowed_servers: [\"duid:012\"]\n", "duid:HEX" },
		{ "detectors:\n  dhcp:\n    allowed_routers: 192.0.2.1\n", "list" },
		{ "detectors:\n  dhcp:\n    allowed_dns: [[192.0.2.1]]\n", "allowed_dns" },
		{ "detectors:\n  dhcp:\n    max_servers: 0\n", "max_servers" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
}

static void test_types(void **state)
{
	(void)state;
	assert_string_equal(det_find_type("dhcp.rogue_server")->technique_id, "T1557.003");
	assert_string_equal(det_find_type("dhcp.option_changed")->technique_id, "T1557.003");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tofu_and_rogue, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_impersonation, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_option_changed_learned, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_configured, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_v6, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_learning_and_state, detfix_setup, detfix_teardown),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
