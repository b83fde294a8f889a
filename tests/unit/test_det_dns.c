/* test_det_dns.c - the dns detector (detectors/dns.c) judged with hand-built messages
 * (struct dns_msg filled field by field, no packet bytes), and the DNS-over-TCP consumer
 * (monitor/decode/dns_tcp.c) feeding it framed wire messages. One test per alert type
 * that fails when the indicator is missing, and the benign controls next to it. */
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

#include "app.h"
#include "decode/dns.h"
#include "detfix.h"
#include "flow.h"
#include "stream.h"

#define T0 1700000000000000ull
#define SEC 1000000ull
#define MS 1000ull

static struct dns_msg MSG; /* 20 KiB: not on the stack */

static const char *mmdb(const char *file)
{
	static char buf[2][4096];
	static int i;
	const char *env = getenv("MAXMIND_TEST_DIR"), *top = getenv("top_srcdir");
	i ^= 1;
	if (env)
		snprintf(buf[i], sizeof(buf[i]), "%s/%s", env, file);
	else
		snprintf(buf[i], sizeof(buf[i]), "%s/../shared/data/maxmind-test/%s",
			 top ? top : SRCSIGDIR "/..", file);
	return buf[i];
}

/* ------------------------------------------------------------------ hand-built events */

/* Addresses: client 192.0.2.10 (02:..:10), resolver 198.51.100.53 reached through the
 * gateway 02:..:01; a spoofer 02:..:66 on the LAN. */
#define CLIENT "192.0.2.10"
#define CLIENT_MAC "02:00:00:00:00:10"
#define RESOLVER "198.51.100.53"
#define GW_MAC "02:00:00:00:00:01"
#define EVIL_MAC "02:00:00:00:00:66"

struct ans {
	const char *type; /* "A", "AAAA", "CNAME" */
	const char *data;
	uint32_t ttl;
};

static void meta(struct ev_meta *m, uint64_t ts, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, const char *src_mac, uint8_t ttl)
{
	memset(m, 0, sizeof(*m));
	m->ts_us = ts;
	m->has_eth = true;
	assert_int_equal(util_mac_parse(src_mac, m->src_mac), 0);
	assert_int_equal(util_mac_parse(CLIENT_MAC, m->dst_mac), 0);
	assert_int_equal(util_addr_parse(src, &m->src), 0);
	assert_int_equal(util_addr_parse(dst, &m->dst), 0);
	m->sport = sport;
	m->dport = dport;
	m->proto = 17;
	m->ip_ttl = ttl;
	m->community_id = "";
}

static void msg(uint16_t id, bool qr, const char *name, uint16_t qtype, const struct ans *an,
		size_t nan)
{
	struct dns_msg *d = &MSG;
	dec_dns_clear(d);
	d->id = id;
	d->qr = qr;
	d->flags = (uint16_t)((qr ? DNS_F_QR | DNS_F_RA : 0) | DNS_F_RD);
	d->stage = DNS_STAGE_DONE;
	d->qdcount = 1;
	d->nq = 1;
	d->q[0].name = dec_dns_put(d, name, strlen(name));
	d->q[0].hash = dec_dns_name_hash(name, strlen(name));
	d->q[0].type = qtype;
	d->q[0].klass = DNS_C_IN;
	for (size_t i = 0; i < nan; i++) {
		struct dns_rr *rr = &d->rr[d->nrr++];
		memset(rr, 0, sizeof(*rr));
		rr->section = DNS_SEC_AN;
		rr->klass = DNS_C_IN;
		rr->ttl = an[i].ttl;
		rr->name = d->q[0].name;
		rr->name_hash = d->q[0].hash;
		rr->type = strcmp(an[i].type, "A") == 0 ? DNS_T_A
			   : strcmp(an[i].type, "AAAA") == 0 ? DNS_T_AAAA : DNS_T_CNAME;
		rr->data = dec_dns_put(d, an[i].data, strlen(an[i].data));
		rr->data_hash = dec_dns_name_hash(an[i].data, strlen(an[i].data)) ^ rr->type;
		if (rr->type != DNS_T_CNAME)
			assert_int_equal(util_addr_parse(an[i].data, &rr->addr), 0);
		d->nan++;
	}
	d->ancount = d->nan;
}

static void send(struct detfix *f, const struct ev_meta *m)
{
	struct dns_ev ev = { *m, &MSG };
	det_dispatch_dns(f->reg, &ev, f->ap);
}

/* CLIENT:cport asks RESOLVER for name at ts. */
static void query(struct detfix *f, uint64_t ts, uint16_t cport, uint16_t id, const char *name)
{
	struct ev_meta m;
	msg(id, false, name, DNS_T_A, NULL, 0);
	meta(&m, ts, CLIENT, cport, RESOLVER, 53, CLIENT_MAC, 64);
	send(f, &m);
}

/* An answer from src (IP, MAC, TTL) to CLIENT:cport. */
static void answer_from(struct detfix *f, uint64_t ts, const char *src, const char *mac, uint8_t ttl,
			uint16_t cport, uint16_t id, const char *name, const struct ans *an, size_t n)
{
	struct ev_meta m;
	msg(id, true, name, DNS_T_A, an, n);
	meta(&m, ts, src, 53, CLIENT, cport, mac, ttl);
	send(f, &m);
}

static void answer(struct detfix *f, uint64_t ts, uint16_t cport, uint16_t id, const char *name,
		   const struct ans *an, size_t n)
{
	answer_from(f, ts, RESOLVER, GW_MAC, 57, cport, id, name, an, n);
}

static void tick(struct detfix *f, uint64_t ts)
{
	det_dispatch_tick(f->reg, ts, f->ap);
}

/* A few ordinary lookups that make a baseline: the client uses RESOLVER, whose answers
 * come from the gateway MAC with IP TTL 57. */
static void baseline(struct detfix *f, uint64_t ts, int n)
{
	static const struct ans a = { "A", "93.184.215.14", 300 };
	for (int i = 0; i < n; i++) {
		query(f, ts + (uint64_t)i * SEC, (uint16_t)(40000 + i), (uint16_t)(0x1000 + i), "www.iana.org");
		answer(f, ts + (uint64_t)i * SEC + 20 * MS, (uint16_t)(40000 + i), (uint16_t)(0x1000 + i),
		       "www.iana.org", &a, 1);
	}
}

/* ------------------------------------------------------------------ tests */

static void test_clean_lookups_silent(void **state)
{
	struct detfix *f = *state;
	baseline(f, T0, 10);
	/* A byte-identical duplicate of an answer (zeek's dns-two-responses) is no race. */
	static const struct ans a = { "A", "93.184.215.14", 300 };
	query(f, T0 + 20 * SEC, 41000, 0x7777, "www.iana.org");
	answer(f, T0 + 20 * SEC + 10 * MS, 41000, 0x7777, "www.iana.org", &a, 1);
	answer(f, T0 + 20 * SEC + 11 * MS, 41000, 0x7777, "www.iana.org", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.answer_race", 0);
	if (json_array_size(arr)) {
		detfix_dump(arr);
		fail_msg("benign lookups raised alerts");
	}
	json_decref(arr);
}

static void test_race(void **state)
{
	struct detfix *f = *state;
	baseline(f, T0, 5);
	/* waytoalpit's capture: a forged 127.0.1.1 from the LAN wins the race, the real
	 * answer (CNAME + A) follows from the gateway. */
	static const struct ans forged = { "A", "127.0.1.1", 60 };
	static const struct ans real[] = { { "CNAME", "star-mini.c10r.facebook.com", 300 },
					   { "A", "31.13.66.36", 60 } };
	query(f, T0 + 10 * SEC, 54480, 0x1e8a, "www.facebook.com");
	answer_from(f, T0 + 10 * SEC + 2 * MS, RESOLVER, EVIL_MAC, 64, 54480, 0x1e8a, "www.facebook.com",
		    &forged, 1);
	answer(f, T0 + 10 * SEC + 30 * MS, 54480, 0x1e8a, "www.facebook.com", real, 2);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.answer_race", 1);
	json_t *a = detfix_first(arr, "dns.answer_race");
	assert_int_equal(detfix_sev(a), 8);
	assert_true(json_is_true(detfix_ev(a, "different_macs")));
	assert_true(json_is_true(detfix_ev(a, "different_ip_ttls")));
	json_t *answers = detfix_ev(a, "answers");
	assert_int_equal(json_array_size(answers), 2);
	json_t *a0 = json_array_get(answers, 0), *a1 = json_array_get(answers, 1);
	assert_string_equal(json_string_value(json_object_get(a0, "src_mac")), EVIL_MAC);
	assert_int_equal(json_integer_value(json_object_get(a0, "ip_ttl")), 64);
	assert_string_equal(json_string_value(json_array_get(json_object_get(a0, "records"), 0)),
			    "www.facebook.com 60 A 127.0.1.1");
	assert_string_equal(json_string_value(json_object_get(a1, "src_mac")), GW_MAC);
	assert_int_equal(json_integer_value(json_object_get(a1, "ip_ttl")), 57);
	assert_int_equal(json_array_size(json_object_get(a1, "records")), 2);
	assert_string_equal(json_string_value(json_object_get(detfix_ev(a, "query"), "name")),
			    "www.facebook.com");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "destination"), "ip")), CLIENT);
	json_t *tid = json_object_get(json_object_get(json_object_get(a, "threat"), "technique"), "id");
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1557");
	/* The forged answer also came from a MAC and at a TTL the resolver never used, and
	 * put a public name on loopback. */
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 1);
	DETFIX_EXPECT(arr, "dns.ttl_anomaly", 1);
	DETFIX_EXPECT(arr, "dns.private_answer", 1);
	json_decref(arr);
}

/* Same records in another order with other TTLs (a resolver's cache counting down,
 * round-robin order): no race. Answers to the same ID from two resolvers are two
 * transactions (arkime's dns-udp, CDN rotation): no race either. */
static void test_race_negatives(void **state)
{
	struct detfix *f = *state;
	static const struct ans a1[] = { { "A", "192.30.252.128", 60 }, { "A", "192.30.252.129", 60 } };
	static const struct ans a2[] = { { "A", "192.30.252.129", 12 }, { "A", "192.30.252.128", 12 } };
	static const struct ans a3[] = { { "A", "192.30.252.130", 60 } };
	query(f, T0, 62563, 0xe039, "www.github.com");
	answer(f, T0 + 10 * MS, 62563, 0xe039, "www.github.com", a1, 2);
	answer(f, T0 + 20 * MS, 62563, 0xe039, "www.github.com", a2, 2);
	/* Same ID to a second resolver from another port, different answer. */
	struct ev_meta m;
	msg(0xe039, false, "www.github.com", DNS_T_A, NULL, 0);
	meta(&m, T0 + 30 * MS, CLIENT, 62416, "203.0.113.53", 53, CLIENT_MAC, 64);
	send(f, &m);
	answer_from(f, T0 + 40 * MS, "203.0.113.53", GW_MAC, 57, 62416, 0xe039, "www.github.com", a3, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.answer_race", 0);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 0);
	json_decref(arr);
}

/* suricata-verify dns-udp-unsolicited-response: an answer with ID 0x9941 reaches the
 * port that waits for 0x99ab, then the right answer comes. */
static void test_txid_mismatch(void **state)
{
	struct detfix *f = *state;
	static const struct ans a = { "A", "52.85.112.21", 60 };
	query(f, T0, 53679, 0x99ab, "client-cf.dropbox.com");
	answer(f, T0 + 5 * MS, 53679, 0x9941, "client-cf.dropbox.com", &a, 1);
	answer(f, T0 + 9 * MS, 53679, 0x99ab, "client-cf.dropbox.com", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 1);
	json_t *u = detfix_first(arr, "dns.unsolicited_answer");
	assert_string_equal(json_string_value(detfix_ev(u, "reason")), "txid_mismatch");
	assert_int_equal(detfix_sev(u), 6);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(detfix_ev(u, "pending"), 0), "id")), 0x99ab);
	DETFIX_EXPECT(arr, "dns.answer_race", 0);
	json_decref(arr);
	/* Right ID, wrong question. */
	query(f, T0 + SEC, 53680, 0x1111, "a.example.net");
	answer(f, T0 + SEC + 5 * MS, 53680, 0x1111, "b.example.net", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 1);
	assert_string_equal(json_string_value(detfix_ev(detfix_first(arr, "dns.unsolicited_answer"), "reason")),
			    "question_mismatch");
	json_decref(arr);
}

/* An answer with no query at all: reported only when it cannot be an artefact of the
 * capture. */
static void test_no_query(void **state)
{
	struct detfix *f = *state;
	static const struct ans a = { "A", "93.184.215.14", 60 };
	/* In the first seconds: the query may predate the capture. */
	answer(f, T0, 5555, 0x0101, "www.iana.org", &a, 1);
	/* A client whose queries we never see (one-way SPAN). */
	answer(f, T0 + 20 * SEC, 5555, 0x0102, "www.iana.org", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 0);
	json_decref(arr);
	/* The client is seen querying; a late answer to an expired query is not reported. */
	query(f, T0 + 30 * SEC, 5556, 0x0201, "www.iana.org");
	tick(f, T0 + 45 * SEC);
	answer(f, T0 + 45 * SEC, 5556, 0x0201, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 0);
	json_decref(arr);
	/* But an answer to a port that never asked is. */
	answer(f, T0 + 46 * SEC, 5557, 0x0301, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 1);
	json_t *u = detfix_first(arr, "dns.unsolicited_answer");
	assert_string_equal(json_string_value(detfix_ev(u, "reason")), "no_query");
	assert_int_equal(detfix_sev(u), 3);
	json_decref(arr);
}

/* Kaminsky: answers with guessed IDs sprayed at the port of a pending query. */
static void test_txid_flood(void **state)
{
	struct detfix *f = *state;
	static const struct ans a = { "A", "203.0.113.66", 86400 };
	query(f, T0, 33333, 0x4242, "x1.victim.example.net");
	for (int i = 0; i < 200; i++)
		answer_from(f, T0 + 1 * MS + (uint64_t)i * 10, RESOLVER, EVIL_MAC, 64, 33333,
			    (uint16_t)(i * 7 + 1), "x1.victim.example.net", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.txid_flood", 1);
	json_t *t = detfix_first(arr, "dns.txid_flood");
	assert_int_equal(detfix_sev(t), 8);
	assert_int_equal(json_integer_value(detfix_ev(t, "answers_in_window")), 20);
	assert_int_equal(json_integer_value(json_array_get(detfix_ev(t, "client_ports"), 0)), 33333);
	assert_string_equal(json_string_value(json_array_get(detfix_ev(t, "src_macs"), 0)), EVIL_MAC);
	/* Below the threshold the guesses are single unsolicited answers (one key). */
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 1);
	json_decref(arr);
	/* A handful of mismatches is no flood. */
	detfix_reopen(f, NULL, NULL, 0);
	query(f, T0, 33334, 0x4243, "x2.victim.example.net");
	for (int i = 0; i < 5; i++)
		answer(f, T0 + 1 * MS + (uint64_t)i, 33334, (uint16_t)(i + 1), "x2.victim.example.net", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.txid_flood", 0);
	json_decref(arr);
}

static void test_ttl_anomaly(void **state)
{
	struct detfix *f = *state;
	baseline(f, T0, 5); /* TTL 57 */
	static const struct ans a = { "A", "93.184.215.14", 300 };
	/* Within the tolerance (a route one hop longer): silent. */
	query(f, T0 + 10 * SEC, 42000, 0x2000, "www.iana.org");
	answer_from(f, T0 + 10 * SEC + 5 * MS, RESOLVER, GW_MAC, 56, 42000, 0x2000, "www.iana.org", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.ttl_anomaly", 0);
	json_decref(arr);
	/* A spoofer 6 hops closer, through the same gateway MAC. */
	query(f, T0 + 11 * SEC, 42001, 0x2001, "www.iana.org");
	answer_from(f, T0 + 11 * SEC + 5 * MS, RESOLVER, GW_MAC, 63, 42001, 0x2001, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.ttl_anomaly", 1);
	json_t *t = detfix_first(arr, "dns.ttl_anomaly");
	assert_int_equal(json_integer_value(detfix_ev(t, "ip_ttl")), 63);
	assert_int_equal(json_integer_value(json_array_get(detfix_ev(t, "baseline_ttls"), 0)), 57);
	assert_true(json_is_true(detfix_ev(t, "closer_than_baseline")));
	assert_int_equal(detfix_sev(t), 6);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 0);
	json_decref(arr);
}

/* A path change: after DNS_ADOPT_RUN (64) answers at the new TTL it is the baseline. */
static void test_ttl_adopted(void **state)
{
	struct detfix *f = *state;
	baseline(f, T0, 5);
	static const struct ans a = { "A", "93.184.215.14", 300 };
	for (int i = 0; i < 70; i++) {
		query(f, T0 + 10 * SEC + (uint64_t)i * SEC, (uint16_t)(43000 + i), (uint16_t)(0x3000 + i), "www.iana.org");
		answer_from(f, T0 + 10 * SEC + (uint64_t)i * SEC + MS, RESOLVER, GW_MAC, 50,
			    (uint16_t)(43000 + i), (uint16_t)(0x3000 + i), "www.iana.org", &a, 1);
	}
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.ttl_anomaly", 1); /* one key; repeats aggregate */
	json_decref(arr);
	query(f, T0 + 400 * SEC, 44000, 0x4000, "www.iana.org");
	answer_from(f, T0 + 400 * SEC + MS, RESOLVER, GW_MAC, 50, 44000, 0x4000, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.ttl_anomaly", 0);
	json_decref(arr);
}

static void test_unknown_mac(void **state)
{
	struct detfix *f = *state;
	baseline(f, T0, 3);
	static const struct ans a = { "A", "93.184.215.14", 300 };
	query(f, T0 + 10 * SEC, 45000, 0x5000, "www.iana.org");
	answer_from(f, T0 + 10 * SEC + MS, RESOLVER, EVIL_MAC, 57, 45000, 0x5000, "www.iana.org", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 1);
	json_t *u = detfix_first(arr, "dns.unexpected_resolver");
	assert_string_equal(json_string_value(detfix_ev(u, "reason")), "unknown_mac");
	assert_string_equal(json_string_value(detfix_ev(u, "new_mac")), EVIL_MAC);
	assert_string_equal(json_string_value(json_array_get(detfix_ev(u, "known_macs"), 0)), GW_MAC);
	assert_int_equal(detfix_sev(u), 7);
	json_decref(arr);
	/* A MAC allowed by configuration (the standby router) is not reported. */
	detfix_reopen(f, "detectors:\n  dns:\n    resolver_macs: [\"" EVIL_MAC "\"]\n", NULL, 0);
	baseline(f, T0, 3);
	query(f, T0 + 10 * SEC, 45000, 0x5000, "www.iana.org");
	answer_from(f, T0 + 10 * SEC + MS, RESOLVER, EVIL_MAC, 57, 45000, 0x5000, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 0);
	json_decref(arr);
}

static void test_resolver_policy(void **state)
{
	struct detfix *f = *state;
	static const struct ans a = { "A", "93.184.215.14", 300 };
	detfix_reopen(f, "detectors:\n  dns:\n    resolvers: [192.0.2.53, \"2001:db8::53\"]\n", NULL, 0);
	baseline(f, T0, 2); /* RESOLVER is not in the list */
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 1);
	json_t *u = detfix_first(arr, "dns.unexpected_resolver");
	assert_string_equal(json_string_value(detfix_ev(u, "reason")), "not_allowed");
	assert_int_equal(detfix_sev(u), 6);
	json_decref(arr);
	/* A recursive resolver's own iterative queries (RD clear) are not judged. */
	struct ev_meta m;
	msg(0x6100, false, "www.iana.org", DNS_T_A, NULL, 0);
	MSG.flags &= (uint16_t)~DNS_F_RD;
	meta(&m, T0 + 5 * SEC, CLIENT, 46100, "203.0.113.99", 53, CLIENT_MAC, 64);
	send(f, &m);
	answer_from(f, T0 + 5 * SEC + MS, "203.0.113.99", GW_MAC, 57, 46100, 0x6100, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 0);
	json_decref(arr);

	/* Without a list: a resolver new for a client with a baseline is reported (low),
	 * except in the cold-start learning window and for non-recursive traffic. */
	detfix_reopen(f, NULL, NULL, 0);
	baseline(f, T0, 2);
	msg(0x6000, false, "www.iana.org", DNS_T_A, NULL, 0);
	meta(&m, T0 + 10 * SEC, CLIENT, 46000, "203.0.113.99", 53, CLIENT_MAC, 64);
	send(f, &m);
	answer_from(f, T0 + 10 * SEC + MS, "203.0.113.99", GW_MAC, 57, 46000, 0x6000, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 1);
	u = detfix_first(arr, "dns.unexpected_resolver");
	assert_string_equal(json_string_value(detfix_ev(u, "reason")), "new_resolver");
	assert_int_equal(detfix_sev(u), 3);
	assert_string_equal(json_string_value(json_array_get(detfix_ev(u, "known_resolvers"), 0)), RESOLVER);
	json_decref(arr);

	detfix_reopen(f, NULL, NULL, 3600);
	baseline(f, T0, 2);
	msg(0x6000, false, "www.iana.org", DNS_T_A, NULL, 0);
	meta(&m, T0 + 10 * SEC, CLIENT, 46000, "203.0.113.99", 53, CLIENT_MAC, 64);
	send(f, &m);
	answer_from(f, T0 + 10 * SEC + MS, "203.0.113.99", GW_MAC, 57, 46000, 0x6000, "www.iana.org", &a, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 0);
	json_decref(arr);
}

static void test_private_answer(void **state)
{
	struct detfix *f = *state;
	static const struct ans priv = { "A", "10.1.2.3", 60 };
	static const struct ans lo = { "A", "127.0.0.2", 60 };
	static const struct ans zero = { "A", "0.0.0.0", 60 };
	static const struct ans ll = { "AAAA", "fe80::1", 60 };
	struct {
		const char *name;
		const struct ans *a;
		int expect;
	} cases[] = {
		{ "www.wikipedia.org", &priv, 1 },        /* rebinding / hijack */
		{ "ipv6.wikipedia.org", &ll, 1 },         /* link-local */
		{ "fileserver", &priv, 0 },               /* single label */
		{ "nas.local", &priv, 0 },                /* mDNS domain */
		{ "printer.corp.example.net", &priv, 0 }, /* configured split horizon */
		{ "ads.tracker.net", &zero, 0 },          /* a blocking resolver's 0.0.0.0 */
		{ "2.0.0.127.zen.dnsbl.net", &lo, 0 },    /* DNS blocklist answer */
		{ "login.bank.com", &lo, 1 },             /* loopback for a public name */
	};
	detfix_reopen(f, "detectors:\n  dns:\n    private_domains: [\"corp.example.net\"]\n", NULL, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		query(f, T0 + i * SEC, (uint16_t)(47000 + i), (uint16_t)(0x7000 + i), cases[i].name);
		answer(f, T0 + i * SEC + MS, (uint16_t)(47000 + i), (uint16_t)(0x7000 + i), cases[i].name,
		       cases[i].a, 1);
		json_t *arr = detfix_alerts_new(f);
		if (detfix_count(arr, "dns.private_answer") != (size_t)cases[i].expect) {
			detfix_dump(arr);
			fail_msg("%s: expected %d private_answer", cases[i].name, cases[i].expect);
		}
		json_t *p = detfix_first(arr, "dns.private_answer");
		if (p && i == 0) {
			assert_string_equal(json_string_value(detfix_ev(p, "category")), "private");
			assert_int_equal(detfix_sev(p), 6);
		}
		if (p && i == 7) {
			assert_string_equal(json_string_value(detfix_ev(p, "category")), "loopback");
			assert_int_equal(detfix_sev(p), 5);
		}
		json_decref(arr);
	}
}

static void asn_round(struct detfix *f, uint64_t t, uint16_t n, const char *name, const char *addr)
{
	struct ans a = { "A", addr, 60 };
	query(f, T0 + t * SEC, (uint16_t)(48000 + n), (uint16_t)(0x8000 + n), name);
	answer(f, T0 + t * SEC + MS, (uint16_t)(48000 + n), (uint16_t)(0x8000 + n), name, &a, 1);
}

static void test_asn_shift(void **state)
{
	struct detfix *f = *state;
	if (access(mmdb("GeoLite2-ASN-Test.mmdb"), R_OK) != 0)
		skip();
	char yaml[8192];
	snprintf(yaml, sizeof(yaml), "geoip:\n  asn_db: %s\n  country_db: %s\n",
		 mmdb("GeoLite2-ASN-Test.mmdb"), mmdb("GeoLite2-Country-Test.mmdb"));
	detfix_reopen(f, yaml, NULL, 0);
	/* MaxMind test data: 216.160.83.56 is AS209 in US, 89.160.20.112 AS29518 in SE. */
	asn_round(f, 0, 0, "shop.example-bank.com", "216.160.83.56");
	asn_round(f, 1, 1, "shop.example-bank.com", "216.160.83.56");
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.asn_shift", 0);
	json_decref(arr);
	asn_round(f, 2, 2, "shop.example-bank.com", "89.160.20.112");
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.asn_shift", 1);
	json_t *s = detfix_first(arr, "dns.asn_shift");
	assert_int_equal(detfix_sev(s), 5);
	json_t *nw = json_array_get(detfix_ev(s, "new"), 0);
	assert_int_equal(json_integer_value(json_object_get(nw, "asn")), 29518);
	assert_string_equal(json_string_value(json_object_get(nw, "country")), "SE");
	json_t *h = detfix_ev(s, "history");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "asns"), 0)), 209);
	assert_string_equal(json_string_value(json_array_get(json_object_get(h, "countries"), 0)), "US");
	assert_non_null(strstr(json_string_value(detfix_ev(s, "geo")), "GeoLite2-ASN"));
	json_decref(arr);
	/* Back to a network the name has used: silent. */
	asn_round(f, 3, 3, "shop.example-bank.com", "216.160.83.56");
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.asn_shift", 0);
	json_decref(arr);
}

/* Without a database the history is by network prefix, low severity, and says so. */
static void test_asn_shift_without_db(void **state)
{
	struct detfix *f = *state;
	asn_round(f, 0, 0, "cdn.example-shop.com", "93.184.215.14");
	asn_round(f, 1, 1, "cdn.example-shop.com", "93.184.215.15");
	asn_round(f, 2, 2, "cdn.example-shop.com", "151.101.1.69");
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.asn_shift", 1);
	json_t *s = detfix_first(arr, "dns.asn_shift");
	assert_int_equal(detfix_sev(s), 3);
	assert_non_null(strstr(json_string_value(detfix_ev(s, "geo")), "no ASN/country database configured"));
	json_decref(arr);
}

/* The transaction table stays at its cap; queries it forgot do not make their late
 * answers "unsolicited". */
static void test_bounded(void **state)
{
	struct detfix *f = *state;
	static const struct ans a = { "A", "93.184.215.14", 60 };
	detfix_reopen(f, "detectors:\n  dns:\n    max_transactions: 1024\n    startup_grace: 0\n", NULL, 0);
	char name[64];
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "r%u.victim.example.net", i);
		query(f, T0 + i * 10, (uint16_t)(1024 + i % 60000), (uint16_t)i, name);
	}
	/* The oldest queries were evicted: their answers are late, not unsolicited. */
	for (unsigned i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "r%u.victim.example.net", i);
		answer(f, T0 + 20000 * 10 + i, (uint16_t)(1024 + i % 60000), (uint16_t)i, name, &a, 1);
	}
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unsolicited_answer", 0);
	json_decref(arr);
}

static void test_save_load(void **state)
{
	struct detfix *f = *state;
	baseline(f, T0, 5);
	json_t *saved = det_registry_save(f->reg);
	assert_non_null(json_object_get(saved, "dns"));
	detfix_reopen(f, NULL, saved, 3600); /* warm start: the baseline is known */
	json_decref(saved);
	static const struct ans a = { "A", "93.184.215.14", 300 };
	query(f, T0 + 100 * SEC, 49000, 0x9000, "www.iana.org");
	answer_from(f, T0 + 100 * SEC + MS, RESOLVER, EVIL_MAC, 64, 49000, 0x9000, "www.iana.org", &a, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.unexpected_resolver", 1);
	DETFIX_EXPECT(arr, "dns.ttl_anomaly", 1);
	json_decref(arr);
	/* A damaged section starts cold and says why, without failing. */
	json_t *bad = json_pack("{s:{s:i,s:[{s:s}]}}", "dns", "version", 1, "resolvers", "ip", "x");
	detfix_reopen(f, NULL, bad, 0);
	json_decref(bad);
}

static void test_config_errors(void **state)
{
	struct detfix *f = *state;
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		{ "detectors:\n  dns:\n    resolver: [1.2.3.4]\n", "t.yaml:3: unknown key 'resolver'" },
		{ "detectors:\n  dns:\n    resolvers: [1.2.3.400]\n", "t.yaml:3: detectors.dns.resolvers: '1.2.3.400'" },
		{ "detectors:\n  dns:\n    resolver_macs: [02:00]\n", "t.yaml:3: detectors.dns.resolver_macs" },
		{ "detectors:\n  dns:\n    private_domains: [\".\"]\n", "names no domain" },
		{ "detectors:\n  dns:\n    max_transactions: 1\n", "t.yaml:3:" },
		{ "detectors:\n  dns:\n    txid_flood_window: 1y\n", "t.yaml:3:" },
		{ "geoip:\n  asn_db: /nonexistent.mmdb\n", "t.yaml:2: geoip.asn_db: /nonexistent.mmdb" },
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

/* ------------------------------------------------------------------ DNS over TCP */

static size_t wire(uint8_t *b, uint16_t id, bool qr, const char *name, const uint8_t *a4)
{
	size_t n = 2;
	b[n++] = (uint8_t)(id >> 8);
	b[n++] = (uint8_t)id;
	b[n++] = qr ? 0x81 : 0x01;
	b[n++] = qr ? 0x80 : 0x00;
	static const uint8_t counts[2][8] = { { 0, 1, 0, 0, 0, 0, 0, 0 }, { 0, 1, 0, 1, 0, 0, 0, 0 } };
	memcpy(&b[n], counts[qr], 8);
	n += 8;
	for (const char *p = name; *p;) {
		const char *e = strchr(p, '.');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		b[n++] = (uint8_t)l;
		memcpy(&b[n], p, l);
		n += l;
		p += l + (e ? 1 : 0);
	}
	b[n++] = 0;
	static const uint8_t q[4] = { 0, 1, 0, 1 };
	memcpy(&b[n], q, 4);
	n += 4;
	if (qr) {
		static const uint8_t rr[12] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
		memcpy(&b[n], rr, 12);
		n += 12;
		memcpy(&b[n], a4, 4);
		n += 4;
	}
	b[0] = (uint8_t)((n - 2) >> 8);
	b[1] = (uint8_t)(n - 2);
	return n;
}

static void test_tcp_framing(void **state)
{
	struct detfix *f = *state;
	extern const struct app_consumer app_dns_tcp;
	struct flow fl;
	memset(&fl, 0, sizeof(fl));
	fl.key.pa = 40001;
	fl.key.pb = 53;
	assert_true(app_dns_tcp.wants(&fl, 53));
	fl.key.pb = 853;
	assert_false(app_dns_tcp.wants(&fl, 853));
	fl.key.pb = 53;

	uint64_t malformed = 0;
	struct ev_meta m;
	struct app_ctx ctx = { f->reg, f->ap, &m, &malformed };
	void *st = NULL;
	uint8_t q[128], r[512];
	static const uint8_t ok[4] = { 93, 184, 215, 14 }, bad[4] = { 203, 0, 113, 66 };
	size_t qn = wire(q, 0x0abc, false, "www.iana.org", NULL);
	/* The query arrives in two segments: nothing until it is whole. */
	meta(&m, T0, CLIENT, 40001, RESOLVER, 53, CLIENT_MAC, 64);
	m.proto = 6;
	assert_int_equal(app_dns_tcp.on_data(&ctx, &st, &fl, FLOW_DIR_ORIG, q, 5, 0), APP_MORE);
	assert_int_equal(app_dns_tcp.on_data(&ctx, &st, &fl, FLOW_DIR_ORIG, q, qn, STREAM_F_FIN), APP_MORE);
	/* Two answers in one segment, with different data: a race, over TCP. */
	size_t n1 = wire(r, 0x0abc, true, "www.iana.org", ok);
	size_t n2 = wire(r + n1, 0x0abc, true, "www.iana.org", bad);
	meta(&m, T0 + 10 * MS, RESOLVER, 53, CLIENT, 40001, GW_MAC, 57);
	m.proto = 6;
	assert_int_equal(app_dns_tcp.on_data(&ctx, &st, &fl, FLOW_DIR_REPLY, r, n1 + n2, STREAM_F_FIN), APP_DONE);
	app_dns_tcp.free_state(st);
	assert_int_equal(malformed, 0);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "dns.answer_race", 1);
	assert_string_equal(json_string_value(json_object_get(detfix_ev(detfix_first(arr, "dns.answer_race"), "query"), "transport")), "tcp");
	json_decref(arr);

	/* A length below a DNS header: not DNS, the direction stops. */
	st = NULL;
	static const uint8_t junk[] = { 0x00, 0x03, 'a', 'b', 'c' };
	assert_int_equal(app_dns_tcp.on_data(&ctx, &st, &fl, FLOW_DIR_ORIG, junk, sizeof(junk), 0), APP_MORE);
	assert_int_equal(malformed, 1);
	assert_int_equal(app_dns_tcp.on_data(&ctx, &st, &fl, FLOW_DIR_REPLY, junk, 0, STREAM_F_GAP), APP_DONE);
	app_dns_tcp.free_state(st);
}

/* ONPATH_DNS_BENCH=1: DNS messages per second through the parser and the detectors
 * (one core): 500,000 distinct random subdomains of victim.example.net, each a query
 * and its answer in wire format, parsed by dec_dns() and dispatched to every DNS
 * detector - the worst case for their tables, which must evict, not grow. */
static size_t dns_wire(uint8_t *b, uint16_t id, bool qr, const char *label)
{
	static const uint8_t tail[] = { 6, 'v', 'i', 'c', 't', 'i', 'm', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
					3, 'n', 'e', 't', 0, 0, 1, 0, 1 };
	static const uint8_t an[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 203, 0, 113, 7 };
	size_t n = 0, l = strlen(label);
	b[n++] = (uint8_t)(id >> 8), b[n++] = (uint8_t)id;
	b[n++] = qr ? 0x81 : 0x01, b[n++] = qr ? 0x80 : 0x00;
	b[n++] = 0, b[n++] = 1, b[n++] = 0, b[n++] = qr ? 1 : 0, b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = 0;
	b[n++] = (uint8_t)l;
	memcpy(b + n, label, l);
	n += l;
	memcpy(b + n, tail, sizeof(tail));
	n += sizeof(tail);
	if (qr) {
		memcpy(b + n, an, sizeof(an));
		n += sizeof(an);
	}
	return n;
}

static void test_bench(void **state)
{
	struct detfix *f = *state;
	const char *env = getenv("ONPATH_DNS_BENCH");
	if (!env || strcmp(env, "1") != 0) {
		skip();
		return;
	}
	enum { NAMES = 500000, MSG_MAX = 96 };
	uint8_t *buf = malloc((size_t)NAMES * 2 * MSG_MAX);
	uint8_t *len = malloc((size_t)NAMES * 2);
	assert_non_null(buf);
	assert_non_null(len);
	uint64_t r = 0x646e73;
	for (size_t i = 0; i < NAMES; i++) {
		char label[17];
		for (int j = 0; j < 16; j++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			label[j] = (char)('a' + r % 26);
		}
		label[16] = '\0';
		len[2 * i] = (uint8_t)dns_wire(buf + 2 * i * MSG_MAX, (uint16_t)r, false, label);
		len[2 * i + 1] = (uint8_t)dns_wire(buf + (2 * i + 1) * MSG_MAX, (uint16_t)r, true, label);
	}
	struct ev_meta q, a;
	meta(&q, T0, CLIENT, 40000, RESOLVER, 53, CLIENT_MAC, 64);
	meta(&a, T0, RESOLVER, 53, CLIENT, 40000, GW_MAC, 57);
	double t0 = util_mono_s();
	for (size_t i = 0; i < 2 * (size_t)NAMES; i++) {
		struct ev_meta *m = (i & 1) ? &a : &q;
		m->ts_us = T0 + i; /* 1M messages/s of packet time */
		uint16_t port = (uint16_t)(1024 + (i / 2) % 60000);
		if (i & 1)
			m->dport = port;
		else
			m->sport = port;
		if (dec_dns(buf + i * MSG_MAX, len[i], &MSG) == DEC_DNS_OK) {
			struct dns_ev ev = { *m, &MSG };
			det_dispatch_dns(f->reg, &ev, f->ap);
		}
	}
	double dt = util_mono_s() - t0;
	printf("dns bench: %d messages in %.3f s: %.2f M messages/s through the parser and detectors\n",
	       2 * NAMES, dt, 2.0 * NAMES / dt / 1e6);
	free(buf);
	free(len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_lookups_silent, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_race, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_race_negatives, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_txid_mismatch, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_no_query, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_txid_flood, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_ttl_anomaly, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_ttl_adopted, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_mac, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_policy, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_private_answer, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_asn_shift, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_asn_shift_without_db, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_bounded, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_save_load, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_framing, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_bench, detfix_setup, detfix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
