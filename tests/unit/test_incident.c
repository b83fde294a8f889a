/* test_incident.c - MITM incidents (detectors/incident.c) judged with hand-built alerts
 * through a real alert pipe and a real out_mgr writing jsonl, read back with jansson. */
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

#include "../../detectors/incident.h"
#include "detfix.h"
#include "util.h"

extern const struct detector det_incident;

#define T0 1709287200000000ull /* 2024-03-01T10:00:00Z */
#define SEC 1000000ull

static void *inc_st; /* the incident detector's state, NULL once finished */

/* Opens f without a registry and starts the incident detector on it by hand. */
static void inc_open(struct detfix *f, const char *yaml)
{
	char err[512];
	f->no_registry = true;
	detfix_open(f, yaml, NULL, 0);
	const struct cfg_node *sec = f->cfg ? cfg_get(f->cfg->root, "detectors.incident") : NULL;
	struct det_init in = { f->cfg, sec, "", true, 0, err, sizeof(err) };
	if (det_incident.init(&inc_st, &in) < 0)
		fail_msg("init: %s", err);
	/* what the detector does at its first on_tick */
	det_incident.on_tick(inc_st, T0, f->ap);
}

static void inc_close(struct detfix *f)
{
	if (inc_st)
		det_incident.fini(inc_st);
	inc_st = NULL;
	detfix_close(f);
}

static int setup(void **state)
{
	struct detfix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	inc_open(f, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct detfix *f = *state;
	if (f->ap)
		inc_close(f);
	free(f);
	return 0;
}

/* The lines of one event.kind, in order (borrowed references kept by arr). */
static size_t of_kind(json_t *arr, const char *kind, json_t **out, size_t cap)
{
	size_t n = 0, i;
	json_t *j;
	json_array_foreach(arr, i, j) {
		const char *k = detfix_str(j, "event.kind");
		if (k && strcmp(k, kind) == 0 && n < cap)
			out[n++] = j;
	}
	return n;
}

static bool list_has(json_t *arr, const char *v)
{
	size_t i;
	json_t *j;
	json_array_foreach(arr, i, j)
		if (json_is_string(j) && strcmp(json_string_value(j), v) == 0)
			return true;
	return false;
}

static void ep(struct alert_endpoint *e, const char *ip, const char *mac, int port)
{
	memset(e, 0, sizeof(*e));
	if (ip)
		assert_int_equal(util_addr_parse(ip, &e->ip), 0);
	if (mac) {
		assert_int_equal(util_mac_parse(mac, e->mac), 0);
		e->has_mac = true;
	}
	if (port >= 0) {
		e->port = (uint16_t)port;
		e->has_port = true;
	}
}

static const struct alert_type *T(const char *action)
{
	const struct alert_type *t = det_find_type(action);
	assert_non_null(t);
	return t;
}

#define VICTIM "198.51.100.23"
#define VMAC "02:00:00:00:00:17"
#define ATT "02:00:00:00:00:66"
#define GWMAC "02:00:00:00:00:01"

/* ARP: the gateway 198.51.100.1 claimed by ATT, sent to the victim. */
static void arp_poison(struct detfix *f, uint64_t t, int sev, const char *victim, const char *key)
{
	struct alert a;
	alert_begin(&a, T("arp.ip_mac_changed"), t);
	a.severity = sev;
	a.confidence = CONF_HIGH;
	ep(&a.src, "198.51.100.1", ATT, -1);
	ep(&a.dst, victim, victim ? VMAC : NULL, -1);
	snprintf(a.key, sizeof(a.key), "%s", key);
	snprintf(a.message, sizeof(a.message), "198.51.100.1 (gateway) moved");
	jw_str(&a.ev, "ip", "198.51.100.1");
	jw_str(&a.ev, "new_mac", ATT);
	alert_emit(f->ap, &a);
}

/* DNS: the resolver's answer to the victim, sent from mac. */
static void dns_spoof(struct detfix *f, uint64_t t, int sev, const char *victim, const char *mac, const char *key)
{
	struct alert a;
	alert_begin(&a, T("dns.unexpected_resolver"), t);
	a.severity = sev;
	ep(&a.src, "203.0.113.53", mac, 53);
	ep(&a.dst, victim, VMAC, 40000);
	snprintf(a.key, sizeof(a.key), "%s", key);
	snprintf(a.message, sizeof(a.message), "DNS answer from another MAC");
	jw_str(&a.ev, "reason", "unknown_mac");
	jw_str(&a.ev, "new_mac", mac);
	alert_emit(f->ap, &a);
}

/* TLS: bank.example served by an interception product, server -> client. */
static void tls_mitm(struct detfix *f, uint64_t t, const char *victim, bool sanctioned, int sev)
{
	struct alert a;
	alert_begin(&a, T("issuer.interception_product"), t);
	a.severity = sev;
	a.confidence = CONF_HIGH;
	ep(&a.src, "203.0.113.20", GWMAC, 443);
	ep(&a.dst, victim, VMAC, 50000);
	snprintf(a.key, sizeof(a.key), "mitmproxy-ca bank.example %s", victim);
	snprintf(a.message, sizeof(a.message), "bank.example served by mitmproxy");
	jw_str(&a.ev, "sni", "bank.example");
	jw_str(&a.ev, "product", "mitmproxy");
	jw_bool(&a.ev, "sanctioned", sanctioned);
	alert_emit(f->ap, &a);
}

/* ------------------------------------------------------------------ grouping */

static void test_three_layers_one_incident(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0 + 11 * SEC, 8, VICTIM, "k1");
	dns_spoof(f, T0 + 14 * SEC, 7, VICTIM, ATT, "k2");
	tls_mitm(f, T0 + 15 * SEC, VICTIM, false, 8);
	json_t *arr = detfix_alerts(f);
	json_t *al[8], *inc[8];
	assert_int_equal(of_kind(arr, "alert", al, 8), 3);
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_int_equal(ni, 4); /* three updates and the closing line */

	/* update in place: one id, revisions counting up, closed last */
	const char *id = detfix_str(inc[0], "event.id");
	assert_non_null(id);
	for (size_t i = 0; i < ni; i++) {
		assert_string_equal(detfix_str(inc[i], "event.id"), id);
		assert_int_equal(detfix_int(inc[i], "onpath.incident.revision"), (json_int_t)i + 1);
		assert_string_equal(detfix_str(inc[i], "event.action"), "incident.mitm");
		assert_string_equal(detfix_str(inc[i], "event.dataset"), "incident");
		assert_string_equal(detfix_str(inc[i], "onpath.incident.state"), i + 1 == ni ? "closed" : "open");
	}
	json_t *last = inc[ni - 1];
	assert_string_equal(detfix_str(last, "destination.ip"), VICTIM);
	assert_string_equal(detfix_str(last, "destination.mac"), VMAC);
	/* members in order, naming the alerts' own ids */
	json_t *m = detfix_get(last, "onpath.incident.members");
	assert_int_equal(json_array_size(m), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(detfix_str(json_array_get(m, i), "id"), detfix_str(al[i], "event.id"));
		assert_string_equal(detfix_str(al[i], "onpath.incident"), id);
	}
	assert_string_equal(detfix_str(json_array_get(m, 0), "phase"), "positioning");
	assert_string_equal(detfix_str(json_array_get(m, 2), "phase"), "manipulation");
	json_t *ph = detfix_get(last, "onpath.incident.phases");
	assert_true(list_has(ph, "positioning") && list_has(ph, "manipulation"));
	/* both phases: critical, high confidence */
	assert_int_equal(detfix_int(last, "event.severity"), 10);
	assert_string_equal(detfix_str(last, "onpath.confidence"), "high");
	assert_int_equal(detfix_int(last, "onpath.count"), 3);
	/* techniques of all members, once each */
	json_t *tid = detfix_get(last, "threat.technique.id");
	assert_int_equal(json_array_size(tid), 2);
	assert_true(list_has(tid, "T1557.002") && list_has(tid, "T1557"));
	json_t *atk = detfix_get(last, "onpath.incident.attackers");
	assert_true(list_has(atk, ATT) && list_has(atk, "mitmproxy"));
	assert_false(list_has(atk, GWMAC)); /* the TLS next hop is not named an attacker */
	/* the manipulation alerts were raised by the positioning before them */
	assert_int_equal(detfix_int(al[0], "event.severity"), 8);
	assert_int_equal(detfix_int(al[1], "event.severity"), 9);
	assert_string_equal(detfix_str(al[1], "onpath.confidence"), "high");
	assert_int_equal(detfix_int(al[2], "event.severity"), 10);
	const char *msg = detfix_str(last, "message");
	assert_non_null(strstr(msg, VICTIM ": at 10:00:11 ARP-poisoned (arp.ip_mac_changed); at 10:00:14 DNS"));
	assert_non_null(strstr(msg, "at 10:00:15 TLS served by an intercepting chain (issuer.interception_product)"));
	/* an incident line is written after the alert that changed it */
	size_t i0 = 0, ia = 0, i;
	json_t *j;
	json_array_foreach(arr, i, j) {
		if (j == inc[0])
			i0 = i;
		if (j == al[0])
			ia = i;
	}
	assert_true(ia < i0);
	json_decref(arr);
}

static void test_reverse_positioning_after_manipulation(void **state)
{
	struct detfix *f = *state;
	dns_spoof(f, T0 + 1 * SEC, 7, VICTIM, ATT, "k2");
	arp_poison(f, T0 + 2 * SEC, 8, VICTIM, "k1");
	json_t *arr = detfix_alerts(f);
	json_t *al[4], *inc[8];
	assert_int_equal(of_kind(arr, "alert", al, 4), 2);
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_true(ni >= 2);
	assert_int_equal(detfix_int(al[0], "event.severity"), 7); /* nothing known yet */
	assert_int_equal(detfix_int(al[1], "event.severity"), 10); /* the ARP alert is raised */
	assert_string_equal(detfix_str(al[1], "onpath.confidence"), "high");
	assert_int_equal(detfix_int(inc[ni - 1], "event.severity"), 10);
	json_decref(arr);
}

static void test_manipulation_only_says_upstream(void **state)
{
	struct detfix *f = *state;
	tls_mitm(f, T0, VICTIM, false, 8);
	json_t *arr = detfix_alerts(f);
	json_t *al[4], *inc[4];
	assert_int_equal(of_kind(arr, "alert", al, 4), 1);
	size_t ni = of_kind(arr, "incident", inc, 4);
	assert_int_equal(ni, 2);
	json_t *last = inc[ni - 1];
	assert_int_equal(detfix_int(last, "event.severity"), 8);   /* no rise */
	assert_int_equal(detfix_int(al[0], "event.severity"), 8); /* the member is not raised */
	assert_false(json_is_true(detfix_get(last, "onpath.incident.local_positioning")));
	assert_non_null(strstr(detfix_str(last, "onpath.incident.assessment"), "likely upstream interception"));
	json_decref(arr);
}

static void test_dns_from_local_mac_says_so(void **state)
{
	struct detfix *f = *state;
	dns_spoof(f, T0, 7, VICTIM, ATT, "k2");
	json_t *arr = detfix_alerts(f);
	json_t *inc[4];
	size_t ni = of_kind(arr, "incident", inc, 4);
	assert_int_equal(ni, 2);
	assert_non_null(strstr(detfix_str(inc[1], "onpath.incident.assessment"), "from a local MAC"));
	assert_true(list_has(detfix_get(inc[1], "onpath.incident.attackers"), ATT));
	json_decref(arr);
}

static void test_sanctioned_is_informational(void **state)
{
	struct detfix *f = *state;
	tls_mitm(f, T0, VICTIM, true, 3); /* the issuer detector's sanctioned severity */
	json_t *arr = detfix_alerts(f);
	json_t *inc[4];
	size_t ni = of_kind(arr, "incident", inc, 4);
	assert_int_equal(ni, 2);
	assert_int_equal(detfix_int(inc[1], "event.severity"), 2);
	assert_true(json_is_true(detfix_get(inc[1], "onpath.incident.sanctioned")));
	assert_non_null(strstr(detfix_str(inc[1], "onpath.incident.assessment"), "sanctioned"));
	json_decref(arr);
}

static void test_sanctioned_with_positioning_is_not(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, VICTIM, "k1");
	tls_mitm(f, T0 + SEC, VICTIM, true, 3);
	json_t *arr = detfix_alerts(f);
	json_t *inc[8];
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_true(ni >= 2);
	assert_true(detfix_int(inc[ni - 1], "event.severity") >= 9);
	json_decref(arr);
}

static void test_lone_medium_alert_makes_no_incident(void **state)
{
	struct detfix *f = *state;
	dns_spoof(f, T0, 6, VICTIM, ATT, "k2");  /* one type, below the publish severity */
	dns_spoof(f, T0, 4, "198.51.100.99", ATT, "k3"); /* below min_severity */
	json_t *arr = detfix_alerts(f);
	json_t *al[4], *inc[4];
	assert_int_equal(of_kind(arr, "alert", al, 4), 2);
	assert_int_equal(of_kind(arr, "incident", inc, 4), 0);
	assert_null(detfix_get(al[0], "onpath.incident"));
	json_decref(arr);
}

static void test_other_victims_other_incidents(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, VICTIM, "k1");
	tls_mitm(f, T0 + SEC, "198.51.100.99", false, 8);
	json_t *arr = detfix_alerts(f);
	json_t *inc[8];
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_int_equal(ni, 4);
	int closed = 0;
	for (size_t i = 0; i < ni; i++)
		if (strcmp(detfix_str(inc[i], "onpath.incident.state"), "closed") == 0)
			closed++;
	assert_int_equal(closed, 2);
	assert_string_not_equal(detfix_str(inc[0], "event.id"), detfix_str(inc[1], "event.id"));
	json_decref(arr);
}

static void test_repeats_keep_it_open_and_aggregate_joins(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, VICTIM, "k1");
	arp_poison(f, T0 + 100 * SEC, 8, VICTIM, "k1"); /* repeat: counted only */
	arp_poison(f, T0 + 200 * SEC, 8, VICTIM, "k1");
	alert_pipe_tick(f->ap, T0 + 301 * SEC); /* the dedupe window ends; 101 s quiet only */
	json_t *arr = detfix_alerts_noflush(f);
	json_t *inc[8];
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_int_equal(ni, 2); /* opened; the aggregate (its window ended) joined it */
	assert_string_equal(detfix_str(inc[ni - 1], "onpath.incident.state"), "open");
	assert_int_equal(detfix_int(inc[ni - 1], "onpath.incident.repeats"), 2);
	json_decref(arr);
}

/* ------------------------------------------------------------------ time */

static void test_close_after_quiet(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, VICTIM, "k1");
	alert_pipe_tick(f->ap, T0 + 299 * SEC);
	json_t *arr = detfix_alerts_noflush(f);
	json_t *inc[8];
	assert_int_equal(of_kind(arr, "incident", inc, 8), 1);
	json_decref(arr);
	alert_pipe_tick(f->ap, T0 + 300 * SEC);
	arr = detfix_alerts_noflush(f);
	assert_int_equal(of_kind(arr, "incident", inc, 8), 2);
	assert_string_equal(detfix_str(inc[1], "onpath.incident.state"), "closed");
	json_decref(arr);
	/* the same victim later: a new story with a new id */
	dns_spoof(f, T0 + 400 * SEC, 7, VICTIM, ATT, "k2");
	tls_mitm(f, T0 + 401 * SEC, VICTIM, false, 8);
	arr = detfix_alerts(f);
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_true(ni >= 4);
	assert_string_not_equal(detfix_str(inc[ni - 1], "event.id"), detfix_str(inc[0], "event.id"));
	json_t *ph = detfix_get(inc[ni - 1], "onpath.incident.phases");
	assert_int_equal(json_array_size(ph), 1); /* the old positioning is not carried over */
	json_decref(arr);
	struct det_incident_stats st;
	det_incident_stats(inc_st, &st);
	assert_int_equal(st.opened, 2);
	assert_int_equal(st.closed, 2);
	assert_int_equal(st.open, 0);
}

static void test_quiet_gap_splits_without_tick(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, VICTIM, "k1");
	dns_spoof(f, T0 + 301 * SEC, 6, VICTIM, ATT, "k2"); /* no tick between */
	json_t *arr = detfix_alerts(f);
	json_t *al[4], *inc[8];
	assert_int_equal(of_kind(arr, "alert", al, 4), 2);
	assert_int_equal(detfix_int(al[1], "event.severity"), 6); /* not raised: another story */
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_int_equal(ni, 2); /* the first opened and closed; the DNS alone stays an alert */
	json_decref(arr);
}

/* ------------------------------------------------------------------ segment */

static void test_broadcast_claim_joined_by_dns_from_attacker(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, NULL, "k1"); /* gratuitous: no destination IP */
	dns_spoof(f, T0 + SEC, 7, VICTIM, ATT, "k2");
	json_t *arr = detfix_alerts(f);
	json_t *al[4], *inc[8];
	assert_int_equal(of_kind(arr, "alert", al, 4), 2);
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_true(ni >= 2);
	assert_true(json_is_true(detfix_get(inc[ni - 1], "onpath.incident.segment_wide")));
	assert_int_equal(json_array_size(detfix_get(inc[ni - 1], "onpath.incident.members")), 2);
	assert_int_equal(detfix_int(al[1], "event.severity"), 9);
	assert_non_null(strstr(detfix_str(inc[ni - 1], "message"), "hosts on the segment"));
	json_decref(arr);
}

/* ------------------------------------------------------------------ bounds */

static void test_bounded_table_evicts_oldest(void **state)
{
	struct detfix *f = *state;
	inc_close(f);
	inc_open(f, "detectors:\n  incident:\n    max_incidents: 2\n");
	char ip[32];
	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", 10 + i);
		tls_mitm(f, T0 + (uint64_t)i * SEC, ip, false, 8);
	}
	struct det_incident_stats st;
	det_incident_stats(inc_st, &st);
	assert_int_equal(st.open, 2);
	assert_int_equal(st.evicted, 3);
	json_t *arr = detfix_alerts(f);
	json_t *inc[16];
	size_t ni = of_kind(arr, "incident", inc, 16);
	assert_int_equal(ni, 10); /* every incident opened and closed */
	/* the first evicted is the oldest */
	assert_string_equal(detfix_str(inc[2], "onpath.incident.state"), "closed");
	assert_string_equal(detfix_str(inc[2], "destination.ip"), "198.51.100.10");
	json_decref(arr);
}

static void test_members_bounded(void **state)
{
	struct detfix *f = *state;
	char key[32];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		dns_spoof(f, T0 + (uint64_t)i * 1000, 8, VICTIM, ATT, key);
	}
	json_t *arr = detfix_alerts(f);
	json_t *inc[256];
	size_t ni = of_kind(arr, "incident", inc, 256);
	assert_true(ni <= 66); /* updates stop once the member list is full */
	json_t *last = inc[ni - 1];
	assert_int_equal(json_array_size(detfix_get(last, "onpath.incident.members")), 64);
	assert_int_equal(detfix_int(last, "onpath.incident.member_count"), 100);
	assert_int_equal(detfix_int(last, "onpath.incident.members_dropped"), 36);
	json_decref(arr);
}

/* ------------------------------------------------------------------ config, hook */

static void test_config(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"detectors:\n  incident:\n    bogus: 1\n",
		"detectors:\n  incident:\n    max_incidents: 0\n",
		"detectors:\n  incident:\n    max_incidents: 100000\n",
		"detectors:\n  incident:\n    quiet: soon\n",
		"detectors:\n  incident:\n    min_severity: 11\n",
	};
	char err[512];
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(bad); i++) {
		struct cfg *c = NULL;
		assert_int_equal(cfg_load_string(bad[i], strlen(bad[i]), "t.yaml", &c, err, sizeof(err)), 0);
		struct det_init in = { c, cfg_get(c->root, "detectors.incident"), "", true, 0, err, sizeof(err) };
		void *st = NULL;
		err[0] = '\0';
		assert_int_equal(det_incident.init(&st, &in), -1);
		assert_non_null(strstr(err, "t.yaml:"));
		cfg_free(c);
	}
	const char *ok = "detectors:\n  incident:\n    enabled: true\n    window: 1h\n    quiet: 2m\n"
			 "    max_incidents: 16\n    min_severity: 6\n";
	struct cfg *c = NULL;
	assert_int_equal(cfg_load_string(ok, strlen(ok), "t.yaml", &c, err, sizeof(err)), 0);
	struct det_init in = { c, cfg_get(c->root, "detectors.incident"), "", true, 0, err, sizeof(err) };
	void *st = NULL;
	assert_int_equal(det_incident.init(&st, &in), 0);
	det_incident.fini(st);
	cfg_free(c);
}

static void test_quiet_from_config(void **state)
{
	struct detfix *f = *state;
	inc_close(f);
	inc_open(f, "detectors:\n  incident:\n    quiet: 10s\n    min_severity: 8\n");
	dns_spoof(f, T0, 7, VICTIM, ATT, "k0"); /* below min_severity 8: ignored */
	arp_poison(f, T0, 8, VICTIM, "k1");
	alert_pipe_tick(f->ap, T0 + 10 * SEC);
	json_t *arr = detfix_alerts_noflush(f);
	json_t *inc[8];
	size_t ni = of_kind(arr, "incident", inc, 8);
	assert_int_equal(ni, 2);
	assert_string_equal(detfix_str(inc[1], "onpath.incident.state"), "closed");
	assert_int_equal(json_array_size(detfix_get(inc[1], "onpath.incident.members")), 1);
	json_decref(arr);
}

static void test_fini_detaches(void **state)
{
	struct detfix *f = *state;
	arp_poison(f, T0, 8, VICTIM, "k1");
	det_incident.fini(inc_st);
	inc_st = NULL;
	/* the pipe must not call into freed state (ASan would tell) */
	dns_spoof(f, T0 + SEC, 7, VICTIM, ATT, "k2");
	json_t *arr = detfix_alerts(f);
	json_t *al[4], *inc[4];
	assert_int_equal(of_kind(arr, "alert", al, 4), 2);
	assert_int_equal(of_kind(arr, "incident", inc, 4), 2); /* the open one closed at fini */
	assert_string_equal(detfix_str(inc[1], "onpath.incident.state"), "closed");
	assert_null(detfix_get(al[1], "onpath.incident"));
	json_decref(arr);
}

static void test_alert_json_incident_field(void **state)
{
	(void)state;
	struct alert a;
	struct jw w;
	alert_begin(&a, T("dns.answer_race"), T0);
	jw_init(&w);
	alert_to_json(&w, &a, "s", NULL, "id1", 1, T0, T0, false);
	assert_null(strstr(w.buf, "\"incident\""));
	jw_reset(&w);
	util_strlcpy(a.incident, "inc-1", sizeof(a.incident));
	alert_to_json(&w, &a, "s", NULL, "id1", 1, T0, T0, false);
	json_t *j = json_loads(w.buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(detfix_str(j, "onpath.incident"), "inc-1");
	json_decref(j);
	jw_free(&w);
	alert_discard(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_three_layers_one_incident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse_positioning_after_manipulation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manipulation_only_says_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_from_local_mac_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanctioned_is_informational, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanctioned_with_positioning_is_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lone_medium_alert_makes_no_incident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_victims_other_incidents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeats_keep_it_open_and_aggregate_joins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_after_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_gap_splits_without_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_claim_joined_by_dns_from_attacker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_table_evicts_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members_bounded, setup, teardown),
		cmocka_unit_test(test_config),
		cmocka_unit_test_setup_teardown(test_quiet_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fini_detaches, setup, teardown),
		cmocka_unit_test(test_alert_json_incident_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
