/* test_records.c - protocol records (detectors/records.c: tls, dns; detectors/arp.c:
 * arp) from hand-built events: valid JSON with hostile strings, the fields, exactly one
 * TLS record per handshake whatever steps it had, the config, the idle default. */
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

#include "../../detectors/records.h"
#include "decode/dns.h"
#include "decode/tls.h"
#include "decode/x509.h"
#include "detfix.h"
#include "util.h"

#define TS 1700000000000000ull
#define SEC 1000000ull

/* SNI bytes: a quote, a newline, a NUL, markup, and two bytes that are not UTF-8. */
static const char HOSTILE[] = "a\"b\n\0<script>\xff\xfe.example";
#define HOSTILE_LEN (sizeof(HOSTILE) - 1)
/* What a JSON parser reads back: control characters escaped and restored, the NUL and the
 * invalid bytes as the visible text \xNN (never raw). */
static const char HOSTILE_READ[] = "a\"b\n\\x00<script>\\xff\\xfe.example";

static const char *LOG_ALL = "detectors:\n  records:\n    tls: true\n    dns: true\n";

/* ---------------------------------------------------------------- helpers */

static void meta(struct ev_meta *m, uint64_t ts, bool from_server, uint16_t cport)
{
	uint8_t s4[4] = { 203, 0, 113, 5 }, c4[4] = { 192, 0, 2, 9 };
	memset(m, 0, sizeof(*m));
	m->ts_us = ts;
	util_addr_set4(from_server ? &m->src : &m->dst, s4);
	util_addr_set4(from_server ? &m->dst : &m->src, c4);
	m->sport = from_server ? 443 : cport;
	m->dport = from_server ? cport : 443;
	m->proto = 6;
	m->ip_ttl = 64;
	m->community_id = "";
}

static void mk_client(struct tls_hello *h, const char *sni, size_t sni_len)
{
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_CLIENT;
	h->proto = 't';
	h->legacy_version = TLS_V_12;
	h->version = TLS_V_13;
	h->has_supported_versions = true;
	h->versions[0] = 0x0a0a; /* GREASE: left out */
	h->versions[1] = TLS_V_13;
	h->versions[2] = TLS_V_12;
	h->nversions = 3;
	h->nciphers = 2;
	h->ciphers[0] = 0x1301;
	h->ciphers[1] = 0xc02f;
	if (sni) {
		memcpy(h->sni, sni, sni_len);
		h->sni_len = (uint16_t)sni_len;
		h->has_sni = true;
	}
	h->has_alpn = true;
	memcpy(h->alpn[0], "h2", 2);
	h->alpn_len[0] = 2;
	memcpy(h->alpn[1], "x\"<\n", 4);
	h->alpn_len[1] = 4;
	h->nalpn = 2;
	strcpy(h->ja3, "0123456789abcdef0123456789abcdef");
	strcpy(h->ja4, "t13d0202h2_aaaaaaaaaaaa_bbbbbbbbbbbb");
}

static void mk_server(struct tls_hello *h, uint16_t version, uint16_t cipher)
{
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_SERVER;
	h->proto = 't';
	h->version = version;
	h->legacy_version = TLS_V_12;
	h->cipher = cipher;
	memcpy(h->alpn[0], "h2", 2);
	h->alpn_len[0] = 2;
	h->nalpn = 1;
	strcpy(h->ja3, "fedcba9876543210fedcba9876543210");
	strcpy(h->ja4, "t120200_c02f_cccccccccccc");
}

static void mk_cert(struct cert *c)
{
	memset(c, 0, sizeof(*c));
	c->refs = 1;
	snprintf(c->subject, sizeof(c->subject), "CN=evil\"<b>\n");
	snprintf(c->issuer, sizeof(c->issuer), "CN=Test CA,O=Example");
	for (int i = 0; i < 32; i++)
		c->sha256[i] = (uint8_t)i;
	c->not_before = 1690000000;
	c->not_after = 1720000000;
	c->validity_ok = true;
	strcpy(c->serial, "01ab");
	memcpy(c->san_pool, "www.example.com", 16);
	c->san_off[0] = 0;
	c->san_len[0] = 15;
	c->nsans = 1;
}

static void send_tls(struct detfix *f, uint64_t ts, bool from_server, uint16_t cport,
		     const struct tls_hello *ch, const struct tls_hello *sh,
		     const struct cert_chain *chain)
{
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, ts, from_server, cport);
	ev.client = ch;
	ev.server = sh;
	ev.chain = chain;
	det_dispatch_tls(f->reg, &ev, f->ap);
}

/* The records of dataset ds in arr (a new array the caller decrefs); checks that every
 * record is an event with the common head. */
static json_t *records(json_t *arr, const char *ds)
{
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *a = json_array_get(arr, i);
		const char *kind = detfix_str(a, "event.kind");
		if (!kind || strcmp(kind, "event") != 0)
			continue;
		assert_non_null(detfix_str(a, "@timestamp"));
		assert_string_equal(detfix_str(a, "observer.name"), "test");
		assert_string_equal(detfix_str(a, "event.module"), "onpath");
		assert_null(detfix_get(a, "event.action"));
		if (strcmp(detfix_str(a, "event.dataset"), ds) == 0)
			json_array_append(out, a);
	}
	return out;
}

/* The raw output file: one line per record, no raw control byte, no '<' and no byte that
 * is not ASCII (the writer escapes all of them). */
static void check_raw_lines(struct detfix *f)
{
	out_mgr_sync(f->out);
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		for (ssize_t i = 0; i < n - 1; i++) {
			unsigned char c = (unsigned char)line[i];
			if (c < 0x20 || c >= 0x7f || c == '<' || c == '>')
				fail_msg("raw byte 0x%02x at %zd: %s", c, i, line);
		}
		assert_int_equal(line[n - 1], '\n');
	}
	free(line);
	fclose(fp);
}

/* Stops the registry (writing what is still open) and returns every line. */
static json_t *close_and_read(struct detfix *f)
{
	det_registry_free(f->reg);
	f->reg = NULL;
	return detfix_alerts(f);
}

/* ---------------------------------------------------------------- tls */

static void test_tls_record_fields_and_hostile_strings(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	struct tls_hello ch, sh;
	struct cert leaf;
	struct cert_chain chain;
	detfix_open(f, LOG_ALL, NULL, 0);
	mk_client(&ch, HOSTILE, HOSTILE_LEN);
	mk_server(&sh, TLS_V_12, 0xc02f);
	mk_cert(&leaf);
	memset(&chain, 0, sizeof(chain));
	chain.c[0] = &leaf;
	chain.n = 1;
	chain.total = 2;

	send_tls(f, TS, false, 50000, &ch, NULL, NULL);
	send_tls(f, TS + 20000, true, 50000, &ch, &sh, NULL);
	json_t *arr = detfix_alerts(f), *r = records(arr, "tls");
	assert_int_equal(json_array_size(r), 0); /* TLS 1.2: the Certificate is still to come */
	json_decref(r);
	json_decref(arr);

	send_tls(f, TS + 30000, true, 50000, &ch, &sh, &chain);
	arr = detfix_alerts(f);
	r = records(arr, "tls");
	assert_int_equal(json_array_size(r), 1);
	json_t *a = json_array_get(r, 0);
	/* source is the client whichever packet completed the handshake */
	assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.9");
	assert_int_equal(detfix_int(a, "source.port"), 50000);
	assert_string_equal(detfix_str(a, "destination.ip"), "203.0.113.5");
	assert_int_equal(detfix_int(a, "destination.port"), 443);
	assert_string_equal(detfix_str(a, "network.transport"), "tcp");
	assert_string_equal(detfix_str(a, "network.protocol"), "tls");
	assert_true(strncmp(detfix_str(a, "network.community_id"), "1:", 2) == 0);
	assert_string_equal(detfix_str(a, "@timestamp"), "2023-11-14T22:13:20.000000Z");
	assert_string_equal(detfix_str(a, "tls.client.server_name"), HOSTILE_READ);
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "tls.client.alpn"), 1)), "x\"<\n");
	json_t *sv = detfix_get(a, "tls.client.supported_versions");
	assert_int_equal(json_array_size(sv), 2);
	assert_string_equal(json_string_value(json_array_get(sv, 0)), "TLSv1.3");
	assert_string_equal(detfix_str(a, "tls.client.ja3"), "0123456789abcdef0123456789abcdef");
	assert_string_equal(detfix_str(a, "tls.client.ja4"), "t13d0202h2_aaaaaaaaaaaa_bbbbbbbbbbbb");
	assert_false(json_is_true(detfix_get(a, "tls.client.fallback_scsv")));
	assert_string_equal(detfix_str(a, "tls.version"), "1.2");
	assert_string_equal(detfix_str(a, "tls.version_protocol"), "tls");
	/* named from signatures/cipher-suites.csv */
	assert_string_equal(detfix_str(a, "tls.cipher"), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_string_equal(detfix_str(a, "tls.next_protocol"), "h2");
	assert_string_equal(detfix_str(a, "tls.server.ja3s"), "fedcba9876543210fedcba9876543210");
	assert_string_equal(detfix_str(a, "tls.server.ja4s"), "t120200_c02f_cccccccccccc");
	assert_string_equal(detfix_str(a, "tls.server.subject"), "CN=evil\"<b>\n");
	assert_string_equal(detfix_str(a, "tls.server.issuer"), "CN=Test CA,O=Example");
	assert_string_equal(detfix_str(a, "tls.server.not_before"), "2023-07-22T04:26:40.000000Z");
	assert_string_equal(detfix_str(a, "tls.server.hash.sha256"),
			    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "tls.server.x509.alternative_names"), 0)),
			    "www.example.com");
	assert_int_equal(detfix_int(a, "tls.server.certificate_count"), 2);
	assert_int_equal(json_array_size(detfix_get(a, "tls.server.chain")), 1);
	assert_string_equal(detfix_str(a, "tls.handshake"), "complete");
	assert_true(json_is_true(detfix_get(a, "tls.established")));
	json_decref(r);
	json_decref(arr);
	check_raw_lines(f);

	/* Nothing more at the end: the record was the handshake's only one. */
	arr = close_and_read(f);
	r = records(arr, "tls");
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);
}

/* Every way a handshake can go gives exactly one record. */
static void test_tls_one_record_per_handshake(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	struct tls_hello ch, sh12, sh13, chq;
	struct cert leaf;
	struct cert_chain chain;
	detfix_open(f, LOG_ALL, NULL, 0);
	mk_client(&ch, "www.example.com", 15);
	mk_server(&sh12, TLS_V_12, 0xc02f);
	mk_server(&sh13, TLS_V_13, 0x1301);
	mk_cert(&leaf);
	memset(&chain, 0, sizeof(chain));
	chain.c[0] = &leaf;
	chain.n = chain.total = 1;

	/* 1: TLS 1.3, written at the ServerHello */
	send_tls(f, TS, false, 40001, &ch, NULL, NULL);
	send_tls(f, TS + 1000, true, 40001, &ch, &sh13, NULL);
	/* 2: TLS 1.2 ClientHello + ServerHello + Certificate */
	send_tls(f, TS + 2000, false, 40002, &ch, NULL, NULL);
	send_tls(f, TS + 3000, true, 40002, &ch, &sh12, NULL);
	send_tls(f, TS + 4000, true, 40002, &ch, &sh12, &chain);
	/* 3: TLS 1.2 resumed (no Certificate): written after the wait */
	send_tls(f, TS + 5000, false, 40003, &ch, NULL, NULL);
	send_tls(f, TS + 6000, true, 40003, &ch, &sh12, NULL);
	/* 4: unanswered ClientHello, then the client closes after the wait: one record */
	send_tls(f, TS + 7000, false, 40004, &ch, NULL, NULL);
	/* 5: a fatal alert from the server */
	send_tls(f, TS + 8000, false, 40005, &ch, NULL, NULL);
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, TS + 9000, true, 40005);
	ev.fail = TLS_FAIL_ALERT;
	ev.fail_by_server = true;
	ev.alert_level = 2;
	ev.alert_desc = 40;
	ev.failed_client = &ch;
	det_dispatch_tls(f->reg, &ev, f->ap);
	/* 6: QUIC Initial sent three times: one record */
	mk_client(&chq, "quic.example", 12);
	chq.proto = 'q';
	for (int i = 0; i < 3; i++) {
		memset(&ev, 0, sizeof(ev));
		meta(&ev.m, TS + 10000 + (uint64_t)i, false, 40006);
		ev.m.proto = 17;
		ev.client = &chq;
		det_dispatch_tls(f->reg, &ev, f->ap);
	}
	/* 7: only the server's direction captured */
	send_tls(f, TS + 11000, true, 40007, NULL, &sh12, NULL);
	send_tls(f, TS + 12000, true, 40007, NULL, &sh12, &chain);

	json_t *arr = detfix_alerts(f), *r = records(arr, "tls");
	assert_int_equal(json_array_size(r), 4); /* 1, 2, 5, 7 */
	json_decref(r);
	json_decref(arr);

	/* The wait ends: 3, 4 and 6 are written as they stand. */
	det_dispatch_tick(f->reg, TS + 20 * SEC, f->ap);
	/* a step of handshake 4 that comes after its record: dropped */
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, TS + 21 * SEC, false, 40004);
	ev.fail = TLS_FAIL_CLOSE;
	ev.failed_client = &ch;
	det_dispatch_tls(f->reg, &ev, f->ap);
	/* and a late ServerHello of handshake 3's flow */
	send_tls(f, TS + 22 * SEC, true, 40003, &ch, &sh12, &chain);

	arr = close_and_read(f);
	r = records(arr, "tls");
	assert_int_equal(json_array_size(r), 7);
	const char *want[8] = { NULL, "complete", "complete", "no_certificate", "client_only", "failed",
				"client_only", "complete" };
	for (size_t i = 0; i < json_array_size(r); i++) {
		json_t *a = json_array_get(r, i);
		int port = (int)detfix_int(a, "source.port");
		assert_true(port >= 40001 && port <= 40007);
		assert_string_equal(detfix_str(a, "tls.handshake"), want[port - 40000]);
		switch (port) {
		case 40001:
			assert_string_equal(detfix_str(a, "tls.version"), "1.3");
			assert_null(detfix_get(a, "tls.server.subject"));
			break;
		case 40003:
			assert_true(json_is_true(detfix_get(a, "tls.established")));
			assert_null(detfix_get(a, "tls.server.subject"));
			break;
		case 40004:
			assert_false(json_is_true(detfix_get(a, "tls.established")));
			assert_null(detfix_get(a, "tls.server"));
			break;
		case 40005:
			assert_string_equal(detfix_str(a, "tls.failure.reason"), "alert");
			assert_string_equal(detfix_str(a, "tls.failure.by"), "server");
			assert_int_equal(detfix_int(a, "tls.failure.alert.description"), 40);
			assert_string_equal(detfix_str(a, "tls.client.server_name"), "www.example.com");
			break;
		case 40006:
			assert_string_equal(detfix_str(a, "network.protocol"), "quic");
			assert_string_equal(detfix_str(a, "network.transport"), "udp");
			assert_int_equal(detfix_int(a, "tls.client_hello_repeats"), 2);
			break;
		case 40007:
			assert_null(detfix_get(a, "tls.client"));
			assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.9");
			assert_string_equal(detfix_str(a, "tls.server.subject"), "CN=evil\"<b>\n");
			break;
		default:
			break;
		}
	}
	json_decref(r);
	json_decref(arr);
	detfix_close(f);
}

/* The table of open handshakes is bounded: a flood of unanswered ClientHellos writes the
 * oldest early instead of growing, and loses none. */
static void test_tls_pending_table_is_bounded(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	struct tls_hello ch;
	enum { N = 5000 };
	detfix_open(f, LOG_ALL, NULL, 0);
	mk_client(&ch, "flood.example", 13);
	for (unsigned i = 0; i < N; i++) {
		struct tls_ev ev;
		memset(&ev, 0, sizeof(ev));
		meta(&ev.m, TS + i, false, (uint16_t)(1024 + i));
		ev.m.src.a[3] = (uint8_t)(i >> 8); /* spread the clients */
		ev.client = &ch;
		det_dispatch_tls(f->reg, &ev, f->ap);
	}
	json_t *arr = detfix_alerts(f), *r = records(arr, "tls");
	assert_true(json_array_size(r) >= N - 4096);
	json_decref(r);
	json_decref(arr);
	arr = close_and_read(f);
	r = records(arr, "tls");
	assert_int_equal(json_array_size(r), N);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);
}

/* ---------------------------------------------------------------- dns */

static void mk_dns(struct dns_msg *d, const char *name, size_t nlen)
{
	dec_dns_clear(d);
	d->id = 0x1234;
	d->qr = 1;
	d->flags = DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_F_AA;
	d->rcode = DNS_RCODE_NOERROR;
	d->qdcount = 1;
	d->ancount = 2;
	d->stage = DNS_STAGE_DONE;
	d->nq = 1;
	d->q[0].name = dec_dns_put(d, name, nlen);
	d->q[0].type = DNS_T_A;
	d->q[0].klass = DNS_C_IN;
	uint8_t a1[4] = { 198, 51, 100, 7 };
	for (int i = 0; i < 2; i++) {
		struct dns_rr *r = &d->rr[i];
		memset(r, 0, sizeof(*r));
		r->section = DNS_SEC_AN;
		r->klass = DNS_C_IN;
		r->ttl = 300;
		r->name = dec_dns_put(d, name, nlen);
		if (i == 0) {
			r->type = DNS_T_CNAME;
			r->data = dec_dns_put(d, "x\"\n<y>", 6);
		} else {
			r->type = DNS_T_A;
			util_addr_set4(&r->addr, a1);
			r->data = dec_dns_put(d, "198.51.100.7", 12);
		}
	}
	d->nrr = d->nan = 2;
}

static void send_dns(struct detfix *f, const struct dns_msg *d, uint64_t ts)
{
	struct dns_ev ev;
	uint8_t srv[4] = { 198, 51, 100, 53 }, cli[4] = { 192, 0, 2, 9 };
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = ts;
	util_addr_set4(&ev.m.src, d->qr ? srv : cli);
	util_addr_set4(&ev.m.dst, d->qr ? cli : srv);
	ev.m.sport = d->qr ? 53 : 33333;
	ev.m.dport = d->qr ? 33333 : 53;
	ev.m.proto = 17;
	ev.m.ip_ttl = 57;
	ev.m.vlan = 12;
	ev.m.community_id = "";
	ev.dns = d;
	det_dispatch_dns(f->reg, &ev, f->ap);
}

static void test_dns_record_fields_and_hostile_strings(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	static struct dns_msg d;
	detfix_open(f, LOG_ALL, NULL, 0);
	mk_dns(&d, HOSTILE, HOSTILE_LEN);
	/* the query: no record */
	d.qr = 0;
	send_dns(f, &d, TS);
	d.qr = 1;
	send_dns(f, &d, TS + 1000);
	json_t *arr = detfix_alerts(f), *r = records(arr, "dns");
	assert_int_equal(json_array_size(r), 1);
	json_t *a = json_array_get(r, 0);
	assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.9");
	assert_int_equal(detfix_int(a, "source.port"), 33333);
	assert_string_equal(detfix_str(a, "destination.ip"), "198.51.100.53");
	assert_int_equal(detfix_int(a, "destination.port"), 53);
	assert_string_equal(detfix_str(a, "network.transport"), "udp");
	assert_string_equal(detfix_str(a, "network.protocol"), "dns");
	assert_int_equal(detfix_int(a, "network.vlan.id"), 12);
	assert_int_equal(detfix_int(a, "dns.id"), 0x1234);
	assert_string_equal(detfix_str(a, "dns.type"), "answer");
	assert_string_equal(detfix_str(a, "dns.op_code"), "QUERY");
	assert_string_equal(detfix_str(a, "dns.response_code"), "NOERROR");
	json_t *fl = detfix_get(a, "dns.header_flags");
	assert_int_equal(json_array_size(fl), 3);
	assert_string_equal(json_string_value(json_array_get(fl, 0)), "AA");
	assert_string_equal(json_string_value(json_array_get(fl, 1)), "RD");
	assert_string_equal(json_string_value(json_array_get(fl, 2)), "RA");
	assert_string_equal(detfix_str(a, "dns.question.name"), HOSTILE_READ);
	assert_string_equal(detfix_str(a, "dns.question.type"), "A");
	assert_string_equal(detfix_str(a, "dns.question.class"), "IN");
	json_t *ans = detfix_get(a, "dns.answers");
	assert_int_equal(json_array_size(ans), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ans, 0), "name")), HOSTILE_READ);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ans, 0), "type")), "CNAME");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ans, 0), "data")), "x\"\n<y>");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ans, 1), "ttl")), 300);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ans, 1), "data")), "198.51.100.7");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "dns.resolved_ip"), 0)), "198.51.100.7");
	assert_string_equal(detfix_str(a, "dns.resolver"), "198.51.100.53");
	assert_int_equal(detfix_int(a, "dns.ip_ttl"), 57);
	json_decref(r);
	json_decref(arr);
	check_raw_lines(f);

	/* NXDOMAIN with no answer, mDNS port: still one record each */
	mk_dns(&d, "nothere.example", 15);
	d.rcode = DNS_RCODE_NXDOMAIN;
	d.nrr = d.nan = 0;
	d.ancount = 0;
	send_dns(f, &d, TS + 2000);
	arr = detfix_alerts(f);
	r = records(arr, "dns");
	assert_int_equal(json_array_size(r), 2);
	a = json_array_get(r, 1);
	assert_string_equal(detfix_str(a, "dns.response_code"), "NXDOMAIN");
	assert_int_equal(json_array_size(detfix_get(a, "dns.answers")), 0);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);
}

/* ---------------------------------------------------------------- config, cost */

static void test_config_rejected(void **state)
{
	(void)state;
	detfix_config_rejected("detectors:\n  records:\n    tls: true\n    http: true\n", "http");
	detfix_config_rejected("detectors:\n  records:\n    dns: maybe\n", "dns");
	detfix_config_rejected("detectors:\n  arp:\n    log: 3\n", "log");
}

/* Default: the records detector is idle (not registered), and nothing is written. */
static void test_default_is_idle(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	static struct dns_msg d;
	struct tls_hello ch, sh;
	detfix_open(f, NULL, NULL, 0);
	size_t idle = det_registry_active(f->reg);
	mk_dns(&d, "www.example.com", 15);
	send_dns(f, &d, TS);
	mk_client(&ch, "www.example.com", 15);
	mk_server(&sh, TLS_V_13, 0x1301);
	send_tls(f, TS, false, 40001, &ch, NULL, NULL);
	send_tls(f, TS + 1, true, 40001, &ch, &sh, NULL);
	json_t *arr = close_and_read(f), *r = records(arr, "tls"), *r2 = records(arr, "dns");
	assert_int_equal(json_array_size(r) + json_array_size(r2), 0);
	json_decref(r);
	json_decref(r2);
	json_decref(arr);
	detfix_close(f);

	detfix_open(f, "detectors:\n  records:\n    dns: true\n", NULL, 0);
	assert_int_equal(det_registry_active(f->reg), idle + 1);
	detfix_close(f);
}

/* --log-dns (det_records_cli) turns records on over a config that says nothing. */
static void test_cli_overrides_config(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	static struct dns_msg d;
	det_records_cli(DET_LOG_DNS);
	detfix_open(f, "detectors:\n  records:\n    dns: false\n", NULL, 0);
	det_records_cli(0);
	mk_dns(&d, "www.example.com", 15);
	send_dns(f, &d, TS);
	json_t *arr = detfix_alerts(f), *r = records(arr, "dns");
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);
}

/* ---------------------------------------------------------------- arp */

static void mk_arp(struct arp_ev *ev, uint64_t ts, uint16_t op, const char *sha, const uint8_t spa[4],
		   const uint8_t tpa[4])
{
	memset(ev, 0, sizeof(*ev));
	ev->m.ts_us = ts;
	ev->m.has_eth = true;
	assert_int_equal(util_mac_parse(sha, ev->m.src_mac), 0);
	memset(ev->m.dst_mac, 0xff, 6);
	ev->arp.op = op;
	assert_int_equal(util_mac_parse(sha, ev->arp.sha), 0);
	memcpy(ev->arp.spa, spa, 4);
	memcpy(ev->arp.tpa, tpa, 4);
	ev->m.community_id = "";
}

static void test_arp_records(void **state)
{
	(void)state;
	struct detfix F = { 0 }, *f = &F;
	struct arp_ev ev;
	static const uint8_t gw[4] = { 192, 0, 2, 1 }, host[4] = { 192, 0, 2, 23 };
	/* a cold start inside its learning window: alerts about new stations are muted,
	 * records are not */
	detfix_open(f, "detectors:\n  arp:\n    log: true\n", NULL, 3600);
	mk_arp(&ev, TS, 1, "02:00:00:00:00:17", host, gw);
	det_dispatch_arp(f->reg, &ev, f->ap);                  /* request: host is new */
	mk_arp(&ev, TS + 1000, 2, "02:00:00:00:00:01", gw, host);
	det_dispatch_arp(f->reg, &ev, f->ap);                  /* reply: gw is new */
	det_dispatch_arp(f->reg, &ev, f->ap);                  /* the same again: nothing */
	mk_arp(&ev, TS + 2000, 2, "02:00:00:00:00:66", gw, host);
	det_dispatch_arp(f->reg, &ev, f->ap);                  /* changed */
	mk_arp(&ev, TS + 3000, 2, "02:00:00:00:00:01", gw, host);
	det_dispatch_arp(f->reg, &ev, f->ap);                  /* flip-flop */
	mk_arp(&ev, TS + 5 * 3600 * SEC, 1, "02:00:00:00:00:17", host, gw);
	det_dispatch_arp(f->reg, &ev, f->ap);                  /* new activity after 5 h */

	json_t *arr = detfix_alerts(f), *r = records(arr, "arp");
	assert_int_equal(json_array_size(r), 5);
	const char *kinds[] = { "new_station", "new_station", "changed", "flip_flop", "new_activity" };
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(detfix_str(json_array_get(r, i), "arp.kind"), kinds[i]);
	json_t *a = json_array_get(r, 1);
	assert_string_equal(detfix_str(a, "arp.ip"), "192.0.2.1");
	assert_string_equal(detfix_str(a, "arp.mac"), "02:00:00:00:00:01");
	assert_string_equal(detfix_str(a, "arp.op"), "reply");
	assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.1");
	assert_string_equal(detfix_str(a, "network.protocol"), "arp");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "event.type"), 0)), "info");
	a = json_array_get(r, 2);
	assert_string_equal(detfix_str(a, "arp.old_mac"), "02:00:00:00:00:01");
	assert_string_equal(detfix_str(a, "arp.mac"), "02:00:00:00:00:66");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "event.type"), 0)), "change");
	a = json_array_get(r, 3);
	assert_string_equal(detfix_str(a, "arp.old_mac"), "02:00:00:00:00:66");
	/* the alerts are still there, next to the records */
	assert_int_equal(detfix_count(arr, "arp.ip_mac_changed"), 1);
	assert_int_equal(detfix_count(arr, "arp.flip_flop"), 1);
	assert_int_equal(detfix_count(arr, "arp.new_station"), 0);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);

	/* off by default */
	detfix_open(f, NULL, NULL, 0);
	mk_arp(&ev, TS, 2, "02:00:00:00:00:01", gw, host);
	det_dispatch_arp(f->reg, &ev, f->ap);
	arr = detfix_alerts(f);
	r = records(arr, "arp");
	assert_int_equal(json_array_size(r), 0);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);

	/* --log-arp */
	det_records_cli(DET_LOG_ARP);
	detfix_open(f, NULL, NULL, 0);
	det_records_cli(0);
	det_dispatch_arp(f->reg, &ev, f->ap);
	arr = detfix_alerts(f);
	r = records(arr, "arp");
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	json_decref(arr);
	detfix_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_record_fields_and_hostile_strings),
		cmocka_unit_test(test_tls_one_record_per_handshake),
		cmocka_unit_test(test_tls_pending_table_is_bounded),
		cmocka_unit_test(test_dns_record_fields_and_hostile_strings),
		cmocka_unit_test(test_config_rejected),
		cmocka_unit_test(test_default_is_idle),
		cmocka_unit_test(test_cli_overrides_config),
		cmocka_unit_test(test_arp_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
