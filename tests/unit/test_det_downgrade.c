/* test_det_downgrade.c - the downgrade detector (version baselines, the RFC 8446
 * sentinel, TLS_FALLBACK_SCSV retries after failed attempts, obsolete protocols, weak
 * cipher suites) judged with hand-built hellos and failure events. Every indicator has
 * its crafted case and a benign twin that must stay silent. */
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

#include "decode/tls.h"
#include "detfix.h"

#define TS 1700000000000000ull
#define SEC 1000000ull

/* Cipher suites by IANA code (signatures/cipher-suites.csv). */
#define AES128_GCM 0xc02f   /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: aead */
#define AES128_SHA 0x002f   /* TLS_RSA_WITH_AES_128_CBC_SHA: cbc-sha1 */
#define RC4_SHA 0x0005      /* TLS_RSA_WITH_RC4_128_SHA: rc4 */
#define RC4_MD5 0x0004      /* TLS_RSA_WITH_RC4_128_MD5: rc4 */
#define EXP_RC4 0x0003      /* TLS_RSA_EXPORT_WITH_RC4_40_MD5: export|rc4 */
#define DES3 0x000a         /* TLS_RSA_WITH_3DES_EDE_CBC_SHA: 3des */
#define NULL_SHA 0x0002     /* TLS_RSA_WITH_NULL_SHA: null */
#define TLS13_AES 0x1301

/* A ClientHello: versions (supported_versions when more than one or when 1.3 is
 * offered, else legacy_version), cipher suites, SCSV. */
static void mk_ch(struct tls_hello *h, const char *sni, const uint16_t *vers, int nv, const uint16_t *cs, int nc,
		  bool scsv)
{
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_CLIENT;
	h->proto = 't';
	h->legacy_version = nv ? (vers[0] > TLS_V_12 ? TLS_V_12 : vers[0]) : TLS_V_12;
	uint16_t best = 0;
	for (int i = 0; i < nv; i++) {
		h->versions[h->nversions++] = vers[i];
		if (vers[i] > best)
			best = vers[i];
	}
	h->has_supported_versions = nv > 1 || best == TLS_V_13;
	if (!h->has_supported_versions)
		h->nversions = 0;
	h->version = best;
	for (int i = 0; i < nc; i++)
		h->ciphers[h->nciphers++] = cs[i];
	if (scsv) {
		h->ciphers[h->nciphers++] = TLS_CIPHER_FALLBACK_SCSV;
		h->fallback_scsv = true;
	}
	if (sni) {
		h->sni_len = (uint16_t)strlen(sni);
		memcpy(h->sni, sni, h->sni_len);
		h->has_sni = true;
	}
	strcpy(h->ja4, "t13d0000h2_000000000000_000000000000");
	strcpy(h->ja3, "0123456789abcdef0123456789abcdef");
}

static void mk_sh(struct tls_hello *h, uint16_t version, uint16_t cipher, const char *tail8)
{
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_SERVER;
	h->proto = 't';
	h->version = version;
	h->legacy_version = version > TLS_V_12 ? TLS_V_12 : version;
	h->cipher = cipher;
	for (int i = 0; i < 32; i++)
		h->random[i] = (uint8_t)(0x40 + i);
	if (tail8)
		memcpy(h->random + 24, tail8, 8);
}

/* Server 203.0.113.5:443 (or .6 + n for other servers), client 192.0.2.9. */
static void meta(struct ev_meta *m, uint64_t ts, bool from_server, unsigned server)
{
	memset(m, 0, sizeof(*m));
	uint8_t s4[4] = { 203, 0, 113, (uint8_t)(5 + server) }, c4[4] = { 192, 0, 2, 9 };
	m->ts_us = ts;
	util_addr_set4(from_server ? &m->src : &m->dst, s4);
	util_addr_set4(from_server ? &m->dst : &m->src, c4);
	m->sport = from_server ? 443 : 51000;
	m->dport = from_server ? 51000 : 443;
	m->proto = 6;
	m->community_id = "";
}

static void client_ev(struct detfix *f, uint64_t ts, const struct tls_hello *ch, unsigned server)
{
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, ts, false, server);
	ev.client = ch;
	det_dispatch_tls(f->reg, &ev, f->ap);
}

static void server_ev(struct detfix *f, uint64_t ts, const struct tls_hello *ch, const struct tls_hello *sh,
		      unsigned server)
{
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, ts, true, server);
	ev.client = ch;
	ev.server = sh;
	det_dispatch_tls(f->reg, &ev, f->ap);
}

static void fail_ev(struct detfix *f, uint64_t ts, const struct tls_hello *ch, uint8_t how, uint8_t desc,
		    unsigned server)
{
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, ts, true, server);
	ev.fail = how;
	ev.fail_by_server = true;
	ev.alert_level = how == TLS_FAIL_ALERT ? 2 : 0;
	ev.alert_desc = desc;
	ev.failed_client = ch;
	det_dispatch_tls(f->reg, &ev, f->ap);
}

/* A complete handshake: ClientHello, then ServerHello. */
static void handshake(struct detfix *f, uint64_t ts, const struct tls_hello *ch, const struct tls_hello *sh,
		      unsigned server)
{
	client_ev(f, ts, ch, server);
	server_ev(f, ts + 1000, ch, sh, server);
}

static const uint16_t V13[] = { TLS_V_13, TLS_V_12 }, V12[] = { TLS_V_12 },
		      V10[] = { TLS_V_10 }, VSSL3[] = { TLS_V_SSL3 };
static const uint16_t STRONG[] = { TLS13_AES, AES128_GCM, AES128_SHA };

static void test_version_downgrade(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	struct tls_hello ch, sh, ch12;
	mk_ch(&ch, "www.example.com", V13, 2, STRONG, 3, false);
	mk_sh(&sh, TLS_V_13, TLS13_AES, NULL);
	for (int i = 0; i < 3; i++)
		handshake(f, TS + (uint64_t)i * SEC, &ch, &sh, 0);
	/* Benign twins: a client that offers only TLS 1.2 gets 1.2; a server with no
	 * baseline answering 1.0 to a 1.3 client is no downgrade (nothing to compare). */
	mk_ch(&ch12, "www.example.com", V12, 1, STRONG + 1, 2, false);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS + 10 * SEC, &ch12, &sh, 0);
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS + 11 * SEC, &ch, &sh, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.version", 0);
	json_decref(arr);

	/* The known TLS 1.3 server answers a 1.3 client with TLS 1.0. */
	handshake(f, TS + 20 * SEC, &ch, &sh, 0);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.version", 1);
	json_t *a = detfix_need(arr, "downgrade.version");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(detfix_ev_str(a, "server"), "[203.0.113.5]:443 www.example.com");
	assert_string_equal(detfix_ev_str(a, "negotiated"), "TLSv1.0");
	assert_string_equal(detfix_ev_str(a, "client_offered"), "TLSv1.3");
	assert_string_equal(detfix_str(a, "onpath.evidence.baseline.max_version"), "TLSv1.3");
	assert_int_equal(detfix_int(a, "onpath.evidence.baseline.handshakes"), 3);
	assert_string_equal(detfix_str(a, "source.ip"), "203.0.113.5");
	assert_string_equal(detfix_str(a, "destination.ip"), "192.0.2.9");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "threat.technique.id"), 0)), "T1562.010");
	json_decref(arr);

	/* A one-step drop against a young baseline is medium. */
	mk_sh(&sh, TLS_V_13, TLS13_AES, NULL);
	handshake(f, TS + 30 * SEC, &ch, &sh, 2);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS + 31 * SEC, &ch, &sh, 2);
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "downgrade.version");
	assert_int_equal(detfix_sev(a), 5);
	json_decref(arr);
	detfix_close(f);
}

static void test_version_retry_without_scsv(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	struct tls_hello ch, ch10, sh;
	mk_ch(&ch, "retry.example", V13, 2, STRONG, 3, false);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS, &ch, &sh, 0); /* baseline: TLS 1.2 */
	/* The 1.3 attempt is reset; the client retries offering only TLS 1.0 (no SCSV)
	 * and gets it. */
	client_ev(f, TS + 100 * SEC, &ch, 0);
	fail_ev(f, TS + 100 * SEC + 5000, &ch, TLS_FAIL_CLOSE, 0, 0);
	mk_ch(&ch10, "retry.example", V10, 1, STRONG + 2, 1, false);
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS + 101 * SEC, &ch10, &sh, 0);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.version", 1);
	json_t *a = detfix_need(arr, "downgrade.version");
	json_t *fa = detfix_ev(a, "failed_attempts");
	assert_int_equal(json_array_size(fa), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 0), "offered")), "TLSv1.3");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 0), "failure")), "closed (FIN/RST)");
	json_decref(arr);

	/* Benign twin: the failure is older than the fallback window (120 s). */
	client_ev(f, TS + 1000 * SEC, &ch, 0);
	fail_ev(f, TS + 1000 * SEC, &ch, TLS_FAIL_CLOSE, 0, 0);
	handshake(f, TS + 1200 * SEC, &ch10, &sh, 0);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.version", 0);
	json_decref(arr);
	detfix_close(f);
}

static void test_sentinel(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	struct tls_hello ch, ch12, sh;
	mk_ch(&ch, "bank.example", V13, 2, STRONG, 3, false);
	mk_ch(&ch12, "bank.example", V12, 1, STRONG + 1, 2, false);
	/* Benign twins: the sentinel answering a hello without 1.3 is what RFC 8446
	 * requires; a TLS 1.3 ServerHello is not a downgrade whatever its random. */
	mk_sh(&sh, TLS_V_12, AES128_GCM, "DOWNGRD\x01");
	handshake(f, TS, &ch12, &sh, 0);
	mk_sh(&sh, TLS_V_13, TLS13_AES, "DOWNGRD\x01");
	handshake(f, TS + SEC, &ch, &sh, 0);
	mk_sh(&sh, TLS_V_12, AES128_GCM, "DOWNGRX\x01");
	handshake(f, TS + 2 * SEC, &ch, &sh, 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.sentinel", 0);
	json_decref(arr);

	/* The client offered 1.3, the server saw a hello without it. */
	mk_sh(&sh, TLS_V_12, AES128_GCM, "DOWNGRD\x01");
	handshake(f, TS + 3 * SEC, &ch, &sh, 2);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.sentinel", 1);
	json_t *a = detfix_need(arr, "downgrade.sentinel");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "high");
	assert_string_equal(detfix_str(a, "onpath.evidence.server_hello.random_tail"), "444f574e47524401");
	json_decref(arr);

	/* DOWNGRD\x00: TLS 1.1 picked although the client offered 1.2. */
	mk_sh(&sh, TLS_V_11, AES128_SHA, "DOWNGRD\x00");
	handshake(f, TS + 4 * SEC, &ch12, &sh, 3);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.sentinel", 1);
	json_decref(arr);
	detfix_close(f);
}

static void test_fallback_scsv(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	struct tls_hello ch12, fb, sh;
	mk_ch(&ch12, "shop.example", V12, 1, STRONG + 1, 2, false);
	mk_ch(&fb, "shop.example", V10, 1, STRONG + 2, 1, true);

	/* Benign twin: a failure without any retry, and a retry hello alone (no outcome). */
	client_ev(f, TS, &ch12, 0);
	fail_ev(f, TS + 1000, &ch12, TLS_FAIL_CLOSE, 0, 0);
	client_ev(f, TS + 2000, &fb, 0);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.fallback_scsv", 0);
	json_decref(arr);

	/* The fallback succeeds: TLS 1.0 after the 1.2 attempt was reset. */
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	server_ev(f, TS + 3000, &fb, &sh, 0);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.fallback_scsv", 1);
	DETFIX_EXPECT(arr, "downgrade.version", 0); /* the SCSV alert covers it */
	json_t *a = detfix_need(arr, "downgrade.fallback_scsv");
	assert_int_equal(detfix_sev(a), 5);
	assert_string_equal(detfix_ev_str(a, "outcome"), "succeeded");
	json_t *fa = detfix_ev(a, "failed_attempts");
	assert_int_equal(json_array_size(fa), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 0), "offered")), "TLSv1.2");
	json_decref(arr);

	/* The server refuses the fallback: inappropriate_fallback (RFC 7507). */
	client_ev(f, TS + 10 * SEC, &ch12, 1);
	fail_ev(f, TS + 10 * SEC, &ch12, TLS_FAIL_ALERT, 40, 1);
	client_ev(f, TS + 11 * SEC, &fb, 1);
	fail_ev(f, TS + 11 * SEC, &fb, TLS_FAIL_ALERT, 86, 1);
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "downgrade.fallback_scsv");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "outcome"), "refused: inappropriate_fallback");
	assert_string_equal(detfix_str(a, "onpath.evidence.alert.name"), "inappropriate_fallback");
	assert_string_equal(json_string_value(json_object_get(json_array_get(detfix_ev(a, "failed_attempts"), 0),
							      "alert_name")),
			    "handshake_failure");
	json_decref(arr);

	/* The fallback fails too (protocol_version): informational. */
	client_ev(f, TS + 20 * SEC, &fb, 2);
	fail_ev(f, TS + 20 * SEC, &fb, TLS_FAIL_ALERT, 70, 2);
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "downgrade.fallback_scsv");
	assert_int_equal(detfix_sev(a), 3);
	assert_string_equal(detfix_ev_str(a, "outcome"), "failed");
	json_decref(arr);

	/* A server known to do TLS 1.2 accepts a 1.0 fallback after a reset 1.2 attempt:
	 * it should have refused (RFC 7507 3). */
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	for (int i = 0; i < 3; i++)
		handshake(f, TS + (uint64_t)(30 + i) * SEC, &ch12, &sh, 3);
	client_ev(f, TS + 40 * SEC, &ch12, 3);
	fail_ev(f, TS + 40 * SEC, &ch12, TLS_FAIL_CLOSE, 0, 3);
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS + 41 * SEC, &fb, &sh, 3);
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "downgrade.fallback_scsv");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "high");
	assert_string_equal(detfix_str(a, "onpath.evidence.baseline.max_version"), "TLSv1.2");
	json_decref(arr);
	detfix_close(f);
}

static void test_obsolete_protocol(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	struct tls_hello ch, ch3, sh;
	mk_ch(&ch, "legacy.example", V10, 1, STRONG + 2, 1, false);
	mk_ch(&ch3, "legacy.example", VSSL3, 1, STRONG + 2, 1, false);
	/* Benign twin: TLS 1.0 and 1.1 are not banned by default. */
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS, &ch, &sh, 0);
	mk_sh(&sh, TLS_V_11, AES128_SHA, NULL);
	handshake(f, TS + SEC, &ch, &sh, 0);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.obsolete_protocol", 0);
	json_decref(arr);

	/* SSLv3 negotiated; an SSLv2 server hello; SSLv3 offered only (refused). */
	mk_sh(&sh, TLS_V_SSL3, AES128_SHA, NULL);
	handshake(f, TS + 2 * SEC, &ch3, &sh, 1);
	mk_sh(&sh, TLS_V_SSL2, 0x0080, NULL);
	sh.sslv2 = true;
	server_ev(f, TS + 3 * SEC, NULL, &sh, 2);
	client_ev(f, TS + 4 * SEC, &ch3, 3);
	fail_ev(f, TS + 4 * SEC, &ch3, TLS_FAIL_ALERT, 40, 3);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.obsolete_protocol", 3);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "downgrade.obsolete_protocol");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "version"), "SSLv3");
	a = json_array_get(arr, 1);
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "version"), "SSLv2");
	a = json_array_get(arr, 2);
	assert_int_equal(detfix_sev(a), 3);
	assert_false(json_is_true(detfix_ev(a, "negotiated")));
	json_decref(arr);
	detfix_close(f);

	/* With TLS 1.0 banned, the same TLS 1.0 session alerts (policy, medium). */
	detfix_open(f, "detectors:\n  downgrade:\n    banned_versions: [tls1.0, TLS1.1]\n", NULL, 0);
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS, &ch, &sh, 0);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS + SEC, &ch, &sh, 1);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.obsolete_protocol", 1);
	a = detfix_need(arr, "downgrade.obsolete_protocol");
	assert_int_equal(detfix_sev(a), 4);
	assert_string_equal(detfix_ev_str(a, "reason"), "banned");
	json_decref(arr);
	detfix_close(f);
}

static void test_weak_cipher(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	struct tls_hello ch, sh;
	static const uint16_t mixed[] = { AES128_GCM, AES128_SHA, RC4_SHA };
	static const uint16_t old10[] = { AES128_SHA, RC4_SHA, DES3 };
	static const uint16_t xp[] = { RC4_MD5, RC4_SHA, DES3 };
	static const uint16_t cbc[] = { AES128_SHA, DES3 };
	static const uint16_t broken[] = { EXP_RC4, NULL_SHA, RC4_MD5 };
	/* Benign twins: the AEAD suite picked; a TLS 1.0 server picking AES-CBC (the best
	 * there is at 1.0); a Windows XP client whose best is 3DES. */
	mk_ch(&ch, "w.example", V12, 1, mixed, 3, false);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS, &ch, &sh, 0);
	mk_ch(&ch, "w.example", V10, 1, old10, 3, false);
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS + SEC, &ch, &sh, 1);
	mk_ch(&ch, "w.example", V10, 1, xp, 3, false);
	mk_sh(&sh, TLS_V_10, RC4_SHA, NULL);
	handshake(f, TS + 2 * SEC, &ch, &sh, 2);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.weak_cipher", 0);
	json_decref(arr);

	/* RC4 picked at TLS 1.2 although AEAD was offered. */
	mk_ch(&ch, "w.example", V12, 1, mixed, 3, false);
	mk_sh(&sh, TLS_V_12, RC4_SHA, NULL);
	handshake(f, TS + 3 * SEC, &ch, &sh, 3);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.weak_cipher", 1);
	json_t *a = detfix_need(arr, "downgrade.weak_cipher");
	assert_int_equal(detfix_sev(a), 5);
	assert_string_equal(detfix_ev_str(a, "reason"), "weak_pick");
	assert_string_equal(detfix_str(a, "onpath.evidence.picked.name"), "TLS_RSA_WITH_RC4_128_SHA");
	assert_string_equal(detfix_str(a, "onpath.evidence.best_offered.code"), "0xc02f");
	assert_true(json_is_true(detfix_ev(a, "picked_was_offered")));
	json_decref(arr);

	/* RC4 picked at TLS 1.0 although AES-CBC was offered. */
	mk_ch(&ch, "w.example", V10, 1, old10, 3, false);
	mk_sh(&sh, TLS_V_10, RC4_SHA, NULL);
	handshake(f, TS + 4 * SEC, &ch, &sh, 4);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.weak_cipher", 1);
	json_decref(arr);

	/* A TLS 1.2 ClientHello offering only broken suites; one whose best is CBC-SHA1. */
	mk_ch(&ch, "w.example", V12, 1, broken, 3, false);
	client_ev(f, TS + 5 * SEC, &ch, 5);
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "downgrade.weak_cipher");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "reason"), "weak_offer");
	assert_string_equal(detfix_ev_str(a, "best_offered_class"), "weak");
	assert_int_equal(json_array_size(detfix_ev(a, "offered")), 3);
	json_decref(arr);
	mk_ch(&ch, "w2.example", V12, 1, cbc, 2, false);
	strcpy(ch.ja4, "t12d0200h2_111111111111_000000000000");
	client_ev(f, TS + 6 * SEC, &ch, 5);
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "downgrade.weak_cipher");
	assert_int_equal(detfix_sev(a), 3);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "low");
	json_decref(arr);
	detfix_close(f);
}

static void test_save_load(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 3600);
	struct tls_hello ch, sh;
	mk_ch(&ch, "persist.example", V13, 2, STRONG, 3, false);
	mk_sh(&sh, TLS_V_13, TLS13_AES, NULL);
	for (int i = 0; i < 4; i++)
		handshake(f, TS + (uint64_t)i * SEC, &ch, &sh, 0);
	json_t *saved = det_registry_save(f->reg);
	json_t *dg = json_object_get(saved, "downgrade");
	assert_non_null(dg);
	assert_int_equal(json_array_size(json_object_get(dg, "servers")), 1);
	json_t *s0 = json_array_get(json_object_get(dg, "servers"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "k")), "[203.0.113.5]:443 persist.example");
	assert_int_equal(json_integer_value(json_object_get(s0, "v")), TLS_V_13);
	assert_int_equal(json_integer_value(json_object_get(s0, "n")), 4);

	/* After a restart (inside a learning window: a baseline change is no "new"
	 * thing) the first TLS 1.2 answer is a downgrade against the saved baseline. */
	detfix_reopen(f, NULL, saved, 3600);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS + 100 * SEC, &ch, &sh, 0);
	json_t *arr = detfix_alerts_new(f);
	json_t *a = detfix_need(arr, "downgrade.version");
	assert_int_equal(detfix_int(a, "onpath.evidence.baseline.handshakes"), 4);
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);

	/* A damaged section does not stop the sensor: the detector starts cold. */
	char err[256];
	saved = json_pack("{s:{s:i}}", "downgrade", "version", 9);
	struct det_registry *r = det_registry_new_state(NULL, detfix_sigdir(), saved, 0, err, sizeof(err));
	assert_non_null(r);
	det_registry_free(r);
	json_decref(saved);
	/* Records with bad versions or keys are skipped. */
	saved = json_pack("{s:{s:i,s:[{s:s,s:i},{s:i,s:i},{s:s,s:i}]}}", "downgrade", "version", 1, "servers", "k",
			  "[192.0.2.1]:443", "v", 0x0304, "k", 5, "v", 0x0303, "k", "x", "v", 0x1234);
	r = det_registry_new_state(NULL, detfix_sigdir(), saved, 0, err, sizeof(err));
	assert_non_null(r);
	json_t *again = det_registry_save(r);
	assert_int_equal(json_array_size(json_object_get(json_object_get(again, "downgrade"), "servers")), 1);
	json_decref(again);
	det_registry_free(r);
	json_decref(saved);
}

static void test_config_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  downgrade:\n    nope: 1\n", "nope" },
		{ "detectors:\n  downgrade:\n    banned_versions: [tls1.0, tls9]\n", "tls9" },
		{ "detectors:\n  downgrade:\n    banned_versions: [tls1.3]\n", "not one of" },
		{ "detectors:\n  downgrade:\n    banned_versions: tls1.0\n", "must be a list" },
		{ "detectors:\n  downgrade:\n    banned_versions: [[tls1.0]]\n", "not one of" },
		{ "detectors:\n  downgrade:\n    max_servers: 1\n", "max_servers" },
		{ "detectors:\n  downgrade:\n    fallback_window: 0\n", "fallback_window" },
		{ "detectors:\n  downgrade:\n    baseline_max_age: 60\n", "baseline_max_age" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
}

/* A flood of servers and failing clients: the tables stay at their caps, and a client
 * pushed out of the failure histories is forgotten (its retry no longer counts). */
static void test_bounded_tables(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, "detectors:\n  downgrade:\n    max_servers: 64\n    max_histories: 16\n", NULL, 0);
	struct tls_hello ch, ch10, sh;
	char sni[64];
	mk_sh(&sh, TLS_V_13, TLS13_AES, NULL);
	for (int i = 0; i < 5000; i++) {
		snprintf(sni, sizeof(sni), "flood-%d.example", i);
		mk_ch(&ch, sni, V13, 2, STRONG, 3, false);
		handshake(f, TS + (uint64_t)i * 1000, &ch, &sh, 0);
	}
	json_t *saved = det_registry_save(f->reg);
	size_t n = json_array_size(json_object_get(json_object_get(saved, "downgrade"), "servers"));
	assert_true(n > 0 && n <= 64);
	json_decref(saved);

	mk_ch(&ch, "victim.example", V13, 2, STRONG, 3, false);
	mk_ch(&ch10, "victim.example", V10, 1, STRONG + 2, 1, false);
	mk_sh(&sh, TLS_V_12, AES128_GCM, NULL);
	handshake(f, TS + 10 * SEC, &ch, &sh, 0); /* baseline TLS 1.2 */
	client_ev(f, TS + 11 * SEC, &ch, 0);
	fail_ev(f, TS + 11 * SEC, &ch, TLS_FAIL_CLOSE, 0, 0);
	/* 100 other servers' failures push the victim's history out. */
	for (unsigned i = 1; i <= 100; i++)
		fail_ev(f, TS + 11 * SEC + i, &ch, TLS_FAIL_CLOSE, 0, i);
	mk_sh(&sh, TLS_V_10, AES128_SHA, NULL);
	handshake(f, TS + 12 * SEC, &ch10, &sh, 0);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "downgrade.version", 0);
	json_decref(arr);
	detfix_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_downgrade),
		cmocka_unit_test(test_version_retry_without_scsv),
		cmocka_unit_test(test_sentinel),
		cmocka_unit_test(test_fallback_scsv),
		cmocka_unit_test(test_obsolete_protocol),
		cmocka_unit_test(test_weak_cipher),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_config_rejected),
		cmocka_unit_test(test_bounded_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
