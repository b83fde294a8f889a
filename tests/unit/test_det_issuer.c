/* test_det_issuer.c - the issuer detector judged with hand-built TLS events: chains of
 * certificates made on the fly, a trust store from a temporary PEM file, the packet
 * time chosen per test. */
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
#include <openssl/pem.h>

#include "app.h"
#include "stream.h"
#include "decode/tls.h"
#include "decode/x509.h"
#include "detfix.h"
#include "test_x509.h"

#define T2020 1577836800LL
#define DAY 86400LL
#define YEAR (365 * DAY)
#define TS ((uint64_t)(T2020 + 100 * DAY) * 1000000u) /* the default packet time */

struct keys {
	EVP_PKEY *ent_key, *other_key, *pub_key, *mitm_key, *leaf_key, *weak_key;
	X509 *ent, *other, *pub, *mitm;
	char ent_pem[64], pub_pem[64], mitm_pem[64];
	char ent_spki[65];
};
static struct keys K;

static void write_pem(char path[64], X509 *x)
{
	strcpy(path, "/tmp/test_det_issuer_ca.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	PEM_write_X509(fp, x);
	fclose(fp);
}

static int group_setup(void **state)
{
	(void)state;
	K.ent_key = tx_key_ec();
	K.other_key = tx_key_ec();
	K.pub_key = tx_key_ec();
	K.mitm_key = tx_key_ec();
	K.leaf_key = tx_key_ec();
	K.weak_key = tx_key_rsa(1024);
	struct tx_spec ca = { "Corp Enterprise CA", "Corp", T2020 - 5 * YEAR, T2020 + 10 * YEAR, true, NULL, NULL,
			      false, NULL, 1 };
	K.ent = tx_cert(&ca, K.ent_key, NULL, NULL);
	ca.cn = "Unknown Issuing CA";
	ca.org = "Nobody";
	K.other = tx_cert(&ca, K.other_key, NULL, NULL);
	ca.cn = "Public Root R1";
	ca.org = "Public Trust";
	K.pub = tx_cert(&ca, K.pub_key, NULL, NULL);
	ca.cn = "mitmproxy";
	ca.org = "mitmproxy";
	K.mitm = tx_cert(&ca, K.mitm_key, NULL, NULL);
	write_pem(K.ent_pem, K.ent);
	write_pem(K.pub_pem, K.pub);
	write_pem(K.mitm_pem, K.mitm);
	unsigned char *der = NULL;
	int l = i2d_PUBKEY(K.ent_key, &der);
	uint8_t md[32];
	dec_sha256(der, (size_t)l, md);
	OPENSSL_free(der);
	for (int i = 0; i < 32; i++)
		snprintf(K.ent_spki + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	X509_free(K.ent);
	X509_free(K.other);
	X509_free(K.pub);
	X509_free(K.mitm);
	EVP_PKEY_free(K.ent_key);
	EVP_PKEY_free(K.other_key);
	EVP_PKEY_free(K.pub_key);
	EVP_PKEY_free(K.mitm_key);
	EVP_PKEY_free(K.leaf_key);
	EVP_PKEY_free(K.weak_key);
	unlink(K.ent_pem);
	unlink(K.pub_pem);
	unlink(K.mitm_pem);
	dec_x509_cache_flush();
	return 0;
}

/* Opens f with the given extra YAML (the trust store is always: no system roots,
 * the enterprise CA, and the "public" root as a public CA file). */
static void issuer_open(struct detfix *f, const char *extra, const json_t *saved, uint64_t learning_s)
{
	char yaml[4096];
	snprintf(yaml, sizeof(yaml),
		 "tls:\n  system_roots: false\n  ca_files: [%s]\n  public_ca_files: [%s]\n%s", K.ent_pem,
		 K.pub_pem, extra ? extra : "");
	detfix_open(f, yaml, saved, learning_s);
}

/* A leaf for name signed by ca/cakey (NULL: self-signed), valid [nb, na]. */
static struct cert *leaf(const char *name, X509 *ca, EVP_PKEY *cakey, int64_t nb, int64_t na, EVP_PKEY *key,
			 bool sct, const EVP_MD *md)
{
	const char *dns[] = { name, NULL };
	struct tx_spec s = { name, NULL, nb, na, false, dns, NULL, sct, md, 77 };
	X509 *x = tx_cert(&s, key, ca, cakey);
	unsigned char *der;
	int l = tx_der(x, &der);
	struct cert *c = dec_x509_parse(der, (size_t)l);
	OPENSSL_free(der);
	X509_free(x);
	return c;
}

static struct cert *as_cert(X509 *x)
{
	unsigned char *der;
	int l = tx_der(x, &der);
	struct cert *c = dec_x509_parse(der, (size_t)l);
	OPENSSL_free(der);
	return c;
}

/* Dispatches a Certificate event: client hello with sni (NULL: none), the chain. */
static void send(struct detfix *f, const char *sni, uint64_t ts, struct cert *c0, struct cert *c1)
{
	static struct tls_hello ch, sh;
	memset(&ch, 0, sizeof(ch));
	memset(&sh, 0, sizeof(sh));
	ch.kind = TLS_HELLO_CLIENT;
	if (sni) {
		ch.sni_len = (uint16_t)strlen(sni);
		memcpy(ch.sni, sni, ch.sni_len);
		ch.has_sni = true;
	}
	strcpy(ch.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	sh.kind = TLS_HELLO_SERVER;
	sh.version = 0x0303;
	strcpy(sh.ja3, "00000000000000000000000000000000");
	strcpy(sh.ja4, "t120200_c02f_000000000000");
	struct cert_chain chain;
	memset(&chain, 0, sizeof(chain));
	chain.c[chain.n++] = c0;
	if (c1)
		chain.c[chain.n++] = c1;
	chain.total = chain.n;
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = ts;
	uint8_t s4[4] = { 198, 51, 100, 7 }, c4[4] = { 192, 0, 2, 23 };
	util_addr_set4(&ev.m.src, s4);
	util_addr_set4(&ev.m.dst, c4);
	ev.m.sport = 443;
	ev.m.dport = 50000;
	ev.m.proto = 6;
	ev.m.community_id = "";
	ev.client = &ch;
	ev.server = &sh;
	ev.chain = &chain;
	det_dispatch_tls(f->reg, &ev, f->ap);
	/* the event borrowed the references: release them like the parser does */
	dec_cert_chain_clear(&chain);
}

static struct cert *ent_leaf(const char *name)
{
	return leaf(name, K.ent, K.ent_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL);
}

static void test_trusted_enterprise_chain_is_silent(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	send(f, "www.example.com", TS, ent_leaf("www.example.com"), as_cert(K.ent));
	json_t *a = detfix_alerts(f);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	detfix_close(f);
}

static void test_untrusted_chain(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	send(f, "www.example.com", TS,
	     leaf("www.example.com", K.other, K.other_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = detfix_need(arr, "issuer.untrusted_chain");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(json_string_value(detfix_ev(a, "verify_error")), "unable to get local issuer certificate");
	assert_string_equal(json_string_value(detfix_ev(a, "trust_anchor")), "none");
	assert_string_equal(json_string_value(detfix_ev(a, "sni")), "www.example.com");
	json_t *c0 = json_array_get(detfix_ev(a, "chain"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "issuer")), "CN=Unknown Issuing CA,O=Nobody");
	assert_string_equal(json_string_value(json_object_get(c0, "not_before")), "2020-01-01T00:00:00Z");
	assert_int_equal(strlen(json_string_value(json_object_get(c0, "sha256"))), 64);
	assert_int_equal(strlen(json_string_value(json_object_get(c0, "sha1"))), 40);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "source"), "ip")), "198.51.100.7");
	json_decref(arr);
	detfix_close(f);
}

static void test_interception_product_and_sanctioned(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	struct cert *l = leaf("www.example.com", K.mitm, K.mitm_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL);
	send(f, "www.example.com", TS, l, as_cert(K.mitm));
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "issuer.interception_product");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(json_string_value(detfix_ev(a, "product")), "mitmproxy");
	assert_string_equal(json_string_value(detfix_ev(a, "category")), "debugging-proxy");
	assert_false(json_boolean_value(detfix_ev(a, "sanctioned")));
	/* untrusted and from a product: raised */
	assert_int_equal(detfix_sev(detfix_need(arr, "issuer.untrusted_chain")), 8);
	json_decref(arr);
	detfix_close(f);

	/* The same chain, declared sanctioned by the team: low severity, tagged. */
	issuer_open(f, "detectors:\n  issuer:\n    sanctioned: [\"CN=mitmproxy\"]\n", NULL, 0);
	l = leaf("www.example.com", K.mitm, K.mitm_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL);
	send(f, "www.example.com", TS, l, as_cert(K.mitm));
	arr = detfix_alerts(f);
	a = detfix_need(arr, "issuer.interception_product");
	assert_int_equal(detfix_sev(a), 3);
	assert_true(json_boolean_value(detfix_ev(a, "sanctioned")));
	json_decref(arr);
	detfix_close(f);
}

static void test_self_signed(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	send(f, "printer.lan.example", TS,
	     leaf("printer.lan.example", NULL, NULL, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.self_signed"), 1);
	assert_int_equal(detfix_count(arr, "issuer.untrusted_chain"), 0); /* said once, as self-signed */
	assert_string_equal(json_string_value(detfix_ev(detfix_need(arr, "issuer.self_signed"), "verify_error")),
			    "self-signed certificate");
	json_decref(arr);
	detfix_close(f);
}

static void test_expired_at_observation_time(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	/* Seen inside its validity: silent, whatever today's date is. */
	send(f, "www.example.com", TS, ent_leaf("www.example.com"), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* Seen two years later: expired, still trusted otherwise. */
	send(f, "www.example.com", (uint64_t)(T2020 + 2 * YEAR) * 1000000u, ent_leaf("www.example.com"), NULL);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.expired"), 1);
	assert_int_equal(detfix_count(arr, "issuer.untrusted_chain"), 0);
	json_t *a = detfix_need(arr, "issuer.expired");
	assert_string_equal(json_string_value(detfix_ev(a, "validity_error")), "certificate has expired");
	assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "expired on 2020-12-31"));
	json_decref(arr);
	detfix_close(f);
}

static void test_name_mismatch(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	send(f, "www.example.com", TS, ent_leaf("www.example.com"), NULL);
	send(f, "WWW.Example.COM", TS, ent_leaf("www.example.com"), NULL); /* case-insensitive */
	send(f, "login.bank.example", TS, ent_leaf("www.example.com"), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.name_mismatch"), 1);
	json_t *a = detfix_need(arr, "issuer.name_mismatch");
	assert_string_equal(json_string_value(detfix_ev(a, "sni")), "login.bank.example");
	json_decref(arr);
	detfix_close(f);
}

static void test_weak_key(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	send(f, "a.example.com", TS,
	     leaf("a.example.com", K.ent, K.ent_key, T2020, T2020 + YEAR, K.weak_key, false, NULL), NULL);
	send(f, "b.example.com", TS,
	     leaf("b.example.com", K.ent, K.ent_key, T2020, T2020 + YEAR, K.leaf_key, false, EVP_sha1()), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.weak_key"), 2);
	assert_string_equal(json_string_value(detfix_ev(detfix_need(arr, "issuer.weak_key"), "weakness")),
			    "RSA key of 1024 bits");
	json_decref(arr);
	detfix_close(f);
}

static void test_changed(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	send(f, "www.example.com", TS, ent_leaf("www.example.com"), NULL);
	send(f, "www.example.com", TS + 1000000u, ent_leaf("www.example.com"), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* Another issuer for the same name. */
	send(f, "www.example.com", TS + 2000000u,
	     leaf("www.example.com", K.other, K.other_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.changed"), 1);
	json_t *a = detfix_need(arr, "issuer.changed");
	assert_string_equal(json_string_value(detfix_ev(a, "change")), "issuer");
	json_t *old = json_array_get(detfix_ev(a, "old_issuers"), 0);
	assert_string_equal(json_string_value(json_object_get(old, "issuer")), "CN=Corp Enterprise CA,O=Corp");
	assert_string_equal(json_string_value(json_object_get(old, "trust")), "enterprise");
	assert_string_equal(json_string_value(detfix_ev(a, "new_issuer")), "CN=Unknown Issuing CA,O=Nobody");
	json_decref(arr);
	/* Learnt: the same new issuer again is no change. A new key from the known
	 * issuer is a low-severity rotation. */
	send(f, "www.example.com", TS + 3000000u,
	     leaf("www.example.com", K.other, K.other_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	send(f, "www.example.com", TS + 4000000u,
	     leaf("www.example.com", K.ent, K.ent_key, T2020, T2020 + YEAR, K.weak_key, false, NULL), NULL);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.changed"), 2);
	a = json_array_get(arr, json_array_size(arr) - 1);
	if (strcmp(json_string_value(json_object_get(json_object_get(a, "event"), "action")), "issuer.changed"))
		a = json_array_get(arr, json_array_size(arr) - 2);
	assert_string_equal(json_string_value(detfix_ev(a, "change")), "key");
	assert_int_equal(detfix_sev(a), 3);

	/* The baseline survives a restart through save/load: a change alerts at once. */
	json_t *saved = det_registry_save(f->reg);
	assert_non_null(json_object_get(saved, "issuer"));
	json_decref(arr);
	detfix_close(f);
	issuer_open(f, NULL, saved, 3600);
	send(f, "www.example.com", TS + 5000000u,
	     leaf("www.example.com", K.mitm, K.mitm_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.changed"), 1);
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);
}

static void test_changed_learning_window(void **state)
{
	(void)state;
	/* Cold start with a learning window: a second publicly trusted issuer is learnt
	 * quietly; an untrusted one still alerts. */
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 3600);
	send(f, "cdn.example.com", TS, ent_leaf("cdn.example.com"), NULL);
	send(f, "cdn.example.com", TS + 1000000u,
	     leaf("cdn.example.com", K.pub, K.pub_key, T2020, T2020 + YEAR, K.leaf_key, true, NULL), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.changed"), 0);
	json_decref(arr);
	send(f, "cdn.example.com", TS + 2000000u,
	     leaf("cdn.example.com", K.other, K.other_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.changed"), 1);
	/* it had a public issuer, and the new one is not public: the interception shape */
	assert_int_equal(detfix_sev(detfix_need(arr, "issuer.changed")), 8);
	json_decref(arr);
	detfix_close(f);
}

static void test_pin_violation(void **state)
{
	(void)state;
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 "detectors:\n  issuer:\n    pins:\n      - name: example.com\n        include_subdomains: true\n"
		 "        spki: [\"%s\"]\n",
		 K.ent_spki);
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, yaml, NULL, 0);
	send(f, "www.example.com", TS, ent_leaf("www.example.com"), as_cert(K.ent));
	send(f, "other.test", TS,
	     leaf("other.test", K.other, K.other_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.pin_violation"), 0);
	json_decref(arr);
	send(f, "www.example.com", TS,
	     leaf("www.example.com", K.other, K.other_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "issuer.pin_violation");
	assert_int_equal(detfix_sev(a), 9);
	assert_string_equal(json_string_value(detfix_ev(a, "pinned_name")), "example.com");
	assert_string_equal(json_string_value(json_array_get(detfix_ev(a, "pinned_spki_sha256"), 0)), K.ent_spki);
	json_decref(arr);
	detfix_close(f);
}

static void test_no_sct(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	/* Public, issued 2020, no SCT: reported. With an SCT, or issued in 2017: not. */
	send(f, "a.example.com", TS,
	     leaf("a.example.com", K.pub, K.pub_key, T2020, T2020 + YEAR, K.leaf_key, false, NULL), NULL);
	send(f, "b.example.com", TS,
	     leaf("b.example.com", K.pub, K.pub_key, T2020, T2020 + YEAR, K.leaf_key, true, NULL), NULL);
	send(f, "c.example.com", TS,
	     leaf("c.example.com", K.pub, K.pub_key, T2020 - 3 * YEAR, T2020 + YEAR, K.leaf_key, false, NULL),
	     NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.no_sct"), 1);
	assert_string_equal(json_string_value(detfix_ev(detfix_need(arr, "issuer.no_sct"), "sni")), "a.example.com");
	assert_string_equal(json_string_value(detfix_ev(detfix_need(arr, "issuer.no_sct"), "trust_anchor")), "public");
	json_decref(arr);
	detfix_close(f);
}

static void test_minted_recently(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	int64_t now = (int64_t)(TS / 1000000u);
	/* Minted 10 minutes ago by an unknown CA: reported. 10 days ago: not. Minted
	 * now by the enterprise CA (sanctioned inspection): not. */
	send(f, "a.example.com", TS,
	     leaf("a.example.com", K.other, K.other_key, now - 600, now + YEAR, K.leaf_key, false, NULL), NULL);
	send(f, "b.example.com", TS,
	     leaf("b.example.com", K.other, K.other_key, now - 10 * DAY, now + YEAR, K.leaf_key, false, NULL),
	     NULL);
	send(f, "c.example.com", TS,
	     leaf("c.example.com", K.ent, K.ent_key, now - 600, now + YEAR, K.leaf_key, false, NULL), NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(detfix_count(arr, "issuer.minted_recently"), 1);
	json_t *a = detfix_need(arr, "issuer.minted_recently");
	assert_int_equal(json_integer_value(detfix_ev(a, "age_s")), 600);
	json_decref(arr);
	detfix_close(f);
}

static void test_hostile_sni_is_escaped(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	/* Control characters and invalid UTF-8 in the SNI: the message is printable, the
	 * JSON stays valid (alerts() fails on an invalid line). */
	send(f, "evil\x1b[31m\xff.example", TS, ent_leaf("www.example.com"), NULL);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "issuer.name_mismatch");
	const char *msg = json_string_value(json_object_get(a, "message"));
	for (const char *p = msg; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	json_decref(arr);
	detfix_close(f);
}

static void test_config_errors(void **state)
{
	(void)state;
	char err[512];
	struct cfg *c;
	static const char *const bad[] = {
		"detectors:\n  issuer:\n    nonsense: 1\n",
		"tls:\n  ca_files: [/nonexistent/ca.pem]\n",
		"tls:\n  ca_files: /etc/passwd\n",
		"tls:\n  bogus: true\n",
		"detectors:\n  issuer:\n    no_sct_since: yesterday\n",
		"detectors:\n  issuer:\n    pins:\n      - name: a.example\n        spki: [nothex]\n",
		"detectors:\n  issuer:\n    pins:\n      - name: a.example\n",
		"detectors:\n  issuer:\n    sanctioned: {a: b}\n",
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(bad); i++) {
		assert_int_equal(cfg_load_string(bad[i], strlen(bad[i]), "bad.yaml", &c, err, sizeof(err)), 0);
		err[0] = '\0';
		struct det_registry *r = det_registry_new(c, detfix_sigdir(), err, sizeof(err));
		if (r)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "bad.yaml:"));
		cfg_free(c);
	}
}

/* The trust store is filled on the first verification (system bundle, then the
 * configured files), but the configured files are read at init: a file without a
 * certificate fails there, and a chain to a configured CA verifies with the system
 * bundle loaded first. */
static void test_lazy_trust_store(void **state)
{
	(void)state;
	char err[512], yaml[512], empty[64];
	strcpy(empty, "/tmp/test_det_issuer_empty.XXXXXX");
	int fd = mkstemp(empty);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "no certificate here\n", 20), 20);
	close(fd);
	snprintf(yaml, sizeof(yaml), "tls:\n  ca_files: [%s, %s]\n", K.ent_pem, empty);
	struct cfg *c;
	assert_int_equal(cfg_load_string(yaml, strlen(yaml), "bad.yaml", &c, err, sizeof(err)), 0);
	err[0] = '\0';
	assert_null(det_registry_new(c, detfix_sigdir(), err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM certificate"));
	assert_non_null(strstr(err, "bad.yaml:"));
	cfg_free(c);
	unlink(empty);

	snprintf(yaml, sizeof(yaml), "tls:\n  ca_files: [%s]\n", K.ent_pem);
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, yaml, NULL, 0);
	send(f, "www.example.com", TS, ent_leaf("www.example.com"), as_cert(K.ent));
	send(f, "www.example.com", TS + 1000000, leaf("www.example.com", K.other, K.other_key, T2020,
							  T2020 + YEAR, K.leaf_key, false, NULL),
	     as_cert(K.other));
	json_t *a = detfix_alerts(f);
	assert_int_equal(detfix_count(a, "issuer.untrusted_chain"), 1);
	assert_string_equal(json_string_value(detfix_ev(detfix_need(a, "issuer.untrusted_chain"), "trust_anchor")), "none");
	json_decref(a);
	detfix_close(f);
}

/* The stream consumer end to end: the two directions of a real TLS 1.2 handshake
 * (tests/fuzz/seeds/tls/tls12-openssl-0: OpenSSL to www.google.com, 2014) fed as the
 * stream reassembly hands them over, 1000 bytes more each time. */
extern const struct app_consumer app_tls;

static void test_consumer_end_to_end(void **state)
{
	(void)state;
	char path[4096];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/tls/tls12-openssl-0",
		 top ? top : SRCSIGDIR "/..");
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	static uint8_t buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_true(n > 4);
	size_t la = (size_t)buf[2] << 8 | buf[3];
	const uint8_t *dir_data[2] = { buf + 4, buf + 4 + la };
	size_t dir_len[2] = { la, n - 4 - la };

	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	issuer_open(f, NULL, NULL, 0);
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	m.ts_us = 1412121600000000ull; /* 2014-10-01: the chain was valid */
	m.community_id = "";
	uint64_t malformed = 0;
	struct app_ctx ctx = { f->reg, f->ap, &m, &malformed };
	struct flow fl;
	memset(&fl, 0, sizeof(fl));
	assert_true(app_tls.wants(&fl, 443));
	void *st = NULL;
	size_t have[2] = { 0, 0 };
	enum app_verdict v = APP_MORE;
	for (int round = 0; v == APP_MORE && (have[0] < dir_len[0] || have[1] < dir_len[1]); round++) {
		int d = round & 1;
		if (have[d] == dir_len[d])
			d ^= 1;
		have[d] = have[d] + 1000 < dir_len[d] ? have[d] + 1000 : dir_len[d];
		v = app_tls.on_data(&ctx, &st, &fl, d, dir_data[d], have[d], 0);
	}
	assert_int_equal(v, APP_DONE); /* done after the server's Certificate */
	app_tls.free_state(st);
	assert_int_equal(malformed, 0);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "issuer.untrusted_chain"); /* GeoTrust is not in this store */
	assert_int_equal(json_array_size(detfix_ev(a, "chain")), 3);
	/* JA3S as Wireshark computes it for this handshake. */
	assert_string_equal(json_string_value(detfix_ev(a, "ja3s")), "ccc514751b175866924439bdbb5bba34");
	assert_string_equal(json_string_value(json_object_get(json_array_get(detfix_ev(a, "chain"), 0), "subject")),
			    "CN=*.google.com,O=Google Inc,L=Mountain View,ST=California,C=US");
	assert_int_equal(detfix_count(arr, "issuer.weak_key"), 1); /* SHA-1 signed leaf */
	assert_int_equal(detfix_count(arr, "issuer.expired"), 0);
	json_decref(arr);
	detfix_close(f);

	/* Not TLS: the consumer lets go at the first bytes, without allocating. */
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	st = NULL;
	assert_int_equal(app_tls.on_data(&ctx, &st, &fl, 0, http, sizeof(http) - 1, 0), APP_DONE);
	assert_null(st);
	/* Two bytes of a possible record: wait; then FIN: done. */
	assert_int_equal(app_tls.on_data(&ctx, &st, &fl, 0, buf + 4, 2, 0), APP_MORE);
	assert_int_equal(app_tls.on_data(&ctx, &st, &fl, 0, buf + 4, 2, STREAM_F_FIN), APP_DONE);
	app_tls.free_state(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trusted_enterprise_chain_is_silent),
		cmocka_unit_test(test_untrusted_chain),
		cmocka_unit_test(test_interception_product_and_sanctioned),
		cmocka_unit_test(test_self_signed),
		cmocka_unit_test(test_expired_at_observation_time),
		cmocka_unit_test(test_name_mismatch),
		cmocka_unit_test(test_weak_key),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_changed_learning_window),
		cmocka_unit_test(test_pin_violation),
		cmocka_unit_test(test_no_sct),
		cmocka_unit_test(test_minted_recently),
		cmocka_unit_test(test_hostile_sni_is_escaped),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_lazy_trust_store),
		cmocka_unit_test(test_consumer_end_to_end),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
