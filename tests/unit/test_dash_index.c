#include "config.h"

/* test_dash_index.c - onpath-dashboard's alert index (dashboards/index.c): the
 * circular blob arena under pressure (every kept alert still finds its own text,
 * no dropped one does), max_index, the filters (type prefix, IP normalisation, MAC,
 * names, Bloom pre-check), stream ids, hostile alert text, acknowledgements, OUI,
 * and the event.id lookups: alerts and incidents apart (their stream ids collide). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dash.h"
#include "tmpdir.h"

static int count_cb(const struct dash_index *ix, const struct dash_ent *e, void *ud)
{
	(void)ix;
	(void)e;
	(*(size_t *)ud)++;
	return 0;
}

static size_t count(struct dash_index *ix, const char *k1, const char *v1, const char *k2,
		    const char *v2)
{
	struct dash_filter f;
	char err[128];
	size_t n = 0;

	dash_filter_init(&f);
	if (k1 != NULL)
		assert_int_equal(dash_filter_set(&f, k1, v1, err, sizeof(err)), 0);
	if (k2 != NULL)
		assert_int_equal(dash_filter_set(&f, k2, v2, err, sizeof(err)), 0);
	dash_index_scan(ix, &f, count_cb, &n);
	return n;
}

static void add(struct dash_index *ix, uint64_t ms, const char *type, int sev, const char *json)
{
	struct dash_sid s = { ms, 0 };
	char sv[8];

	snprintf(sv, sizeof(sv), "%d", sev);
	assert_int_equal(dash_index_add(ix, s, type, sv, "s1", json, strlen(json), NULL, NULL,
					NULL, 0, NULL, 0), 1);
}

static void test_sid(void **state)
{
	struct dash_sid s;
	char buf[DASH_SID_STRLEN];

	(void)state;
	assert_int_equal(dash_sid_parse("1795291047733-12", &s), 0);
	assert_true(s.ms == 1795291047733ULL && s.seq == 12);
	assert_string_equal(dash_sid_fmt(s, buf), "1795291047733-12");
	assert_int_equal(dash_sid_parse("17", &s), 0);
	assert_true(s.ms == 17 && s.seq == 0);
	assert_int_equal(dash_sid_parse("18446744073709551615-18446744073709551615", &s), 0);
	assert_int_equal(dash_sid_parse("18446744073709551616-0", &s), -1); /* overflow */
	assert_int_equal(dash_sid_parse("", &s), -1);
	assert_int_equal(dash_sid_parse("1-", &s), -1);
	assert_int_equal(dash_sid_parse("-1", &s), -1);
	assert_int_equal(dash_sid_parse("1-2-3", &s), -1);
	assert_int_equal(dash_sid_parse("1 -2", &s), -1);
	assert_int_equal(dash_sid_parse("0x10-1", &s), -1);
}

/* Alerts of very different sizes through a small index: the arena wraps many times;
 * after every add, each kept alert finds its own token and nothing else does. */
static void test_arena_pressure(void **state)
{
	struct dash_index ix;
	char *json = malloc(8192), pad[5000], tok[32];
	size_t i, k, kept_from;
	uint32_t seed = 7;

	(void)state;
	assert_non_null(json);
	assert_int_equal(dash_index_init(&ix, 100), 0);
	for (i = 1; i <= 3000; i++) {
		size_t padn;

		seed = seed * 1103515245u + 12345u;
		padn = (seed >> 8) % 4800;
		memset(pad, 'p', padn);
		pad[padn] = '\0';
		snprintf(json, 8192, "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"event\":{\"id\":\"e%zu\","
			 "\"action\":\"t.x\"},\"message\":\"tok%05zu %s\"}", i, i, pad);
		add(&ix, i, "t.x", 5, json);
		assert_true(ix.n <= 100);
		if (i % 97 != 0 && i != 3000)
			continue;
		/* what is kept is a contiguous newest run ending at i */
		kept_from = i - ix.n + 1;
		for (k = 1; k <= i; k++) {
			snprintf(tok, sizeof(tok), "tok%05zu", k);
			assert_int_equal(count(&ix, "q", tok, NULL, NULL), k >= kept_from ? 1 : 0);
		}
	}
	/* 64 KiB arena and blobs up to 4 KiB: the arena, not max_index, was the limit */
	assert_true(ix.n < 100);
	assert_true(ix.dropped == 3000 - ix.n);
	dash_index_fini(&ix);
	free(json);
}

static void test_max_index(void **state)
{
	struct dash_index ix;
	size_t i;

	(void)state;
	assert_int_equal(dash_index_init(&ix, 16), 0);
	for (i = 1; i <= 40; i++)
		add(&ix, i, "a.b", 1, "{\"message\":\"m\"}");
	assert_int_equal(ix.n, 16);
	assert_int_equal(ix.dropped, 24);
	/* ids at or before the newest are a re-read: ignored */
	{
		struct dash_sid s = { 40, 0 };

		assert_int_equal(dash_index_add(&ix, s, "a.b", "1", "s1", "{}", 2, NULL, NULL, NULL,
						0, NULL, 0), 0);
		s.ms = 3;
		assert_int_equal(dash_index_add(&ix, s, "a.b", "1", "s1", "{}", 2, NULL, NULL, NULL,
						0, NULL, 0), 0);
	}
	assert_int_equal(ix.n, 16);
	/* the stream was trimmed: what is older than its first entry goes */
	{
		struct dash_sid first = { 30, 0 };

		assert_int_equal(dash_index_prune(&ix, first), 5);   /* 25..29 */
		assert_int_equal(ix.n, 11);
		assert_int_equal(count(&ix, NULL, NULL, NULL, NULL), 11);
		assert_int_equal(dash_index_prune(&ix, first), 0);
		first.ms = first.seq = UINT64_MAX;
		assert_int_equal(dash_index_prune(&ix, first), 11);
		assert_int_equal(count(&ix, NULL, NULL, NULL, NULL), 0);
		add(&ix, 41, "a.b", 1, "{\"message\":\"after\"}");
		assert_int_equal(count(&ix, "q", "after", NULL, NULL), 1);
	}
	dash_index_fini(&ix);
}

static const char *A1 = "{\"@timestamp\":\"2024-03-01T10:00:00.028000Z\",\"event\":{\"id\":\"id1\","
	"\"action\":\"arp.mac_changed\",\"severity\":6},\"observer\":{\"name\":\"x-name.example\"},"
	"\"source\":{\"ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:66\"},\"destination\":{\"ip\":"
	"\"2001:db8::1\"},\"onpath\":{\"evidence\":{\"old_mac\":\"02:00:00:00:00:01\",\"target_ips\":"
	"[\"198.51.100.9\"],\"sni\":\"Bank.Example\"}},\"message\":\"ARP reply changed MAC\"}";
static const char *A2 = "{\"@timestamp\":\"2024-03-01T11:00:00Z\",\"event\":{\"id\":\"id2\","
	"\"action\":\"dns.answer_race\",\"severity\":8},\"threat\":{\"technique\":{\"name\":"
	"[\"Adversary-in-the-Middle\"]}},\"source\":{\"ip\":\"192.0.2.10\"},\"onpath\":{\"evidence\":"
	"{\"query\":{\"name\":\"evil<script>.example\"}}},\"message\":\"two answers\"}";

static void test_filters(void **state)
{
	struct dash_index ix;
	struct dash_filter f;
	char err[128];

	(void)state;
	assert_int_equal(dash_index_init(&ix, 64), 0);
	add(&ix, 1, "arp.mac_changed", 6, A1);
	add(&ix, 2, "dns.answer_race", 8, A2);
	add(&ix, 3, "arp.flood", 3, "{\"message\":\"no json fields\"}");
	assert_int_equal(count(&ix, NULL, NULL, NULL, NULL), 3);
	assert_int_equal(count(&ix, "type", "arp.", NULL, NULL), 2);
	assert_int_equal(count(&ix, "type", "arp", NULL, NULL), 0);      /* no dot: exact */
	assert_int_equal(count(&ix, "type", "dns.,arp.flood", NULL, NULL), 2);
	assert_int_equal(count(&ix, "severity_min", "6", NULL, NULL), 2);
	assert_int_equal(count(&ix, "severity_min", "6", "severity_max", "7"), 1);
	assert_int_equal(count(&ix, "ip", "192.0.2.1", NULL, NULL), 1);   /* not 192.0.2.10 */
	assert_int_equal(count(&ix, "ip", "198.51.100.9", NULL, NULL), 1); /* evidence *_ips */
	assert_int_equal(count(&ix, "ip", "2001:DB8:0:0::1", NULL, NULL), 1);
	assert_int_equal(count(&ix, "ip", "192.0.2.2", NULL, NULL), 0);
	assert_int_equal(count(&ix, "mac", "02-00-00-00-00-66", NULL, NULL), 1);
	assert_int_equal(count(&ix, "mac", "02:00:00:00:00:01", NULL, NULL), 1); /* old_mac */
	assert_int_equal(count(&ix, "mac", "02:00:00:00:00:02", NULL, NULL), 0);
	assert_int_equal(count(&ix, "name", "bank.EXAMPLE", NULL, NULL), 1);
	assert_int_equal(count(&ix, "name", "<script>", NULL, NULL), 1);
	/* observer.name and threat.technique.name are not names seen on the network */
	assert_int_equal(count(&ix, "name", "x-name", NULL, NULL), 0);
	assert_int_equal(count(&ix, "name", "adversary", NULL, NULL), 0);
	assert_int_equal(count(&ix, "q", "CHANGED MAC", NULL, NULL), 1);
	assert_int_equal(count(&ix, "q", "dns.answer", NULL, NULL), 1);
	assert_int_equal(count(&ix, "q", "192.0.2.1", NULL, NULL), 2);     /* substring */
	assert_int_equal(count(&ix, "from", "1709287200028", NULL, NULL), 2);
	assert_int_equal(count(&ix, "to", "1709287200028", NULL, NULL), 1); /* [from, to) */
	assert_int_equal(count(&ix, "sensor", "s1", NULL, NULL), 3);
	assert_int_equal(count(&ix, "sensor", "s2", NULL, NULL), 0);
	assert_int_equal(count(&ix, "before", "3-0", NULL, NULL), 2);
	assert_int_equal(count(&ix, "after", "1-0", NULL, NULL), 2);
	assert_int_equal(count(&ix, "after", "1-0", "before", "3"), 1);
	/* acknowledgements apply by event.id, before and after the alert arrives */
	assert_int_equal(dash_index_set_ack(&ix, "id2", DASH_FP, "{\"status\":\"fp\"}"), 0);
	assert_int_equal(dash_index_set_ack(&ix, "id9", DASH_ACK, "{\"status\":\"ack\"}"), 0);
	add(&ix, 4, "x.y", 1, "{\"event\":{\"id\":\"id9\"}}");
	assert_int_equal(count(&ix, "status", "fp", NULL, NULL), 1);
	assert_int_equal(count(&ix, "status", "ack", NULL, NULL), 1);
	assert_int_equal(count(&ix, "status", "open", NULL, NULL), 2);
	/* refused values */
	dash_filter_init(&f);
	assert_int_equal(dash_filter_set(&f, "ip", "192.0.2", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "mac", "02:00:00:00:00", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "severity_min", "11", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "status", "closed", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "q", "a\nb", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "from", "-5", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "before", "x-1", err, sizeof(err)), -1);
	assert_int_equal(dash_filter_set(&f, "limit", "10", err, sizeof(err)), 1); /* not a filter */
	dash_index_fini(&ix);
}

static void test_parse_alert(void **state)
{
	json_t *j;

	(void)state;
	/* invalid UTF-8 becomes U+FFFD; a NUL escape is kept */
	j = dash_parse_alert("{\"m\":\"a\xff" "b\\u0000c\"}", 18);
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(j, "m")), 7);
	assert_memory_equal(json_string_value(json_object_get(j, "m")), "a\xef\xbf\xbd" "b\0c", 7);
	json_decref(j);
	/* not JSON, or not an object: kept as text */
	j = dash_parse_alert("<script>\x00\xc3", 10);
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(j, "unparsed")), 12);
	json_decref(j);
	j = dash_parse_alert("[1,2]", 5);
	assert_non_null(json_object_get(j, "unparsed"));
	json_decref(j);
	/* overlong and surrogate encodings are invalid too */
	j = dash_parse_alert("{\"m\":\"\xc0\xaf\xed\xa0\x80\"}", 13);
	assert_string_equal(json_string_value(json_object_get(j, "m")),
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
	j = dash_parse_alert("", 0);
	assert_non_null(json_object_get(j, "unparsed"));
	json_decref(j);
}

static void test_oui(void **state)
{
	struct tmp *t = *state;
	struct dash_oui o;
	char path[300], err[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/oui.csv", t->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("Registry,Assignment,Organization Name,Organization Address\n"
	      "MA-L,00000C,\"Cisco Systems, Inc\",\"170 West Tasman, San Jose\"\n"
	      "MA-L,F4BD9E,\"Quote \"\"Q\"\" Corp\",x\n"
	      "MA-M,0055DA1,Not a 24-bit prefix,x\n"
	      "MA-L,ZZZZZZ,Bad hex,x\n"
	      "MA-L,0000,Short,x\n", fp);
	fclose(fp);
	assert_int_equal(dash_oui_load(&o, path, err, sizeof(err)), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(dash_oui_lookup(&o, "00:00:0c:01:02:03"), "Cisco Systems, Inc");
	assert_string_equal(dash_oui_lookup(&o, "F4-BD-9E-00-00-00"), "Quote \"Q\" Corp");
	assert_string_equal(dash_oui_lookup(&o, "02:00:00:00:00:01"), "(locally administered)");
	assert_null(dash_oui_lookup(&o, "00:00:0d:01:02:03"));
	assert_null(dash_oui_lookup(&o, "not a mac"));
	dash_oui_free(&o);
	/* a missing file is an empty table, not an error */
	snprintf(path, sizeof(path), "%s/none.csv", t->dir);
	assert_int_equal(dash_oui_load(&o, path, err, sizeof(err)), 0);
	assert_int_equal(o.n, 0);
	assert_string_equal(dash_oui_lookup(&o, "02:00:00:00:00:01"), "(locally administered)");
	assert_null(dash_oui_lookup(&o, "00:00:0c:01:02:03"));
	dash_oui_free(&o);
}

/* The sensor writes the alert and incident streams in one pipeline: the same stream
 * id names an alert and an incident update. An event.id lookup answers from its own
 * table only, and an incident's event.id gives its latest update. */
static void test_find_eid_apart(void **state)
{
	static const char alert[] =
		"{\"event\":{\"id\":\"11111111111111111111111111111111-0000000000000001\","
		"\"action\":\"arp.x\"}}";
	static const char inc[] =
		"{\"event\":{\"id\":\"22222222222222222222222222222222-0000000000000001\","
		"\"kind\":\"incident\",\"action\":\"incident.mitm\"}}";
	const char *ea = "11111111111111111111111111111111-0000000000000001";
	const char *ei = "22222222222222222222222222222222-0000000000000001";
	struct dash_index ix;
	struct dash_sid same = { 5000, 0 }, later = { 7000, 3 }, got;

	(void)state;
	assert_int_equal(dash_index_init(&ix, 64), 0);
	add(&ix, 5000, "arp.x", 5, alert);
	dash_index_incident(&ix, same, inc, strlen(inc));
	dash_index_incident(&ix, later, inc, strlen(inc));
	assert_int_equal(dash_index_find_eid(&ix, ea, &got), 0);
	assert_int_equal(dash_sid_cmp(got, same), 0);
	assert_int_equal(dash_index_find_eid(&ix, ei, &got), -1);   /* alerts only */
	assert_int_equal(dash_index_find_incident(&ix, ei, &got), 0);
	assert_int_equal(dash_sid_cmp(got, later), 0);               /* its latest update */
	assert_int_equal(dash_index_find_incident(&ix, ea, &got), -1);
	assert_int_equal(dash_index_find_incident(&ix, "33-1", &got), -1);
	dash_index_fini(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sid),
		cmocka_unit_test(test_arena_pressure),
		cmocka_unit_test(test_max_index),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_parse_alert),
		cmocka_unit_test(test_find_eid_apart),
		cmocka_unit_test_setup_teardown(test_oui, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
