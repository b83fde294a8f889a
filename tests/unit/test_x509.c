/* test_x509.c - certificate parsing and the Certificate message (monitor/decode/x509.c),
 * with certificates made on the fly and hostile framing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/tls.h"
#include "decode/x509.h"
#include "test_x509.h"

#define T2020 1577836800 /* 2020-01-01T00:00:00Z */
#define YEAR (365 * 86400)

struct fx {
	EVP_PKEY *ca_key, *leaf_key, *weak_key;
	X509 *ca, *leaf, *weak;
	unsigned char *ca_der, *leaf_der, *weak_der;
	int ca_len, leaf_len, weak_len;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->ca_key = tx_key_rsa(2048);
	f->leaf_key = tx_key_ec();
	f->weak_key = tx_key_rsa(1024);
	struct tx_spec ca = { "Test Root CA", "Test Org", T2020 - YEAR, T2020 + 10 * YEAR, true, NULL, NULL,
			      false, NULL, 1 };
	f->ca = tx_cert(&ca, f->ca_key, NULL, NULL);
	static const char *const dns[] = { "www.example.com", "*.example.net", NULL };
	struct tx_spec leaf = { "www.example.com", NULL, T2020, T2020 + YEAR, false, dns, "192.0.2.1", true,
				NULL, 0x1234 };
	f->leaf = tx_cert(&leaf, f->leaf_key, f->ca, f->ca_key);
	/* Self-signed, RSA 1024, SHA-1, validity from 1950 (UTCTime 50 = 1950). */
	struct tx_spec weak = { "old.example", NULL, -631152000, T2020, false, NULL, NULL, false, EVP_sha1(),
				7 };
	f->weak = tx_cert(&weak, f->weak_key, NULL, NULL);
	f->ca_len = tx_der(f->ca, &f->ca_der);
	f->leaf_len = tx_der(f->leaf, &f->leaf_der);
	f->weak_len = tx_der(f->weak, &f->weak_der);
	assert_true(f->ca_len > 0 && f->leaf_len > 0 && f->weak_len > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	X509_free(f->ca);
	X509_free(f->leaf);
	X509_free(f->weak);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->leaf_key);
	EVP_PKEY_free(f->weak_key);
	OPENSSL_free(f->ca_der);
	OPENSSL_free(f->leaf_der);
	OPENSSL_free(f->weak_der);
	free(f);
	dec_x509_cache_flush();
	return 0;
}

static void test_leaf_fields(void **state)
{
	struct fx *f = *state;
	struct cert *c = dec_x509_parse(f->leaf_der, (size_t)f->leaf_len);
	assert_non_null(c);
	assert_non_null(c->x509);
	assert_int_equal(c->parse_err, 0);
	assert_string_equal(c->subject, "CN=www.example.com");
	assert_string_equal(c->issuer, "CN=Test Root CA,O=Test Org");
	assert_string_equal(c->subject_cn, "www.example.com");
	assert_string_equal(c->issuer_cn, "Test Root CA");
	assert_string_equal(c->issuer_o, "Test Org");
	assert_string_equal(c->serial, "1234");
	assert_true(c->validity_ok);
	assert_int_equal(c->not_before, T2020);
	assert_int_equal(c->not_after, T2020 + YEAR);
	assert_int_equal(c->key_type, CERT_KEY_EC);
	assert_string_equal(c->key_name, "EC P-256");
	assert_int_equal(c->key_bits, 256);
	assert_string_equal(c->sig_alg, "sha256WithRSAEncryption");
	assert_false(c->sig_weak);
	assert_true(c->has_sct);
	assert_false(c->is_ca);
	assert_false(c->self_issued);
	assert_int_equal(c->nsans, 3);
	assert_string_equal(dec_cert_san(c, 0), "www.example.com");
	assert_string_equal(dec_cert_san(c, 1), "*.example.net");
	assert_string_equal(dec_cert_san(c, 2), "192.0.2.1");
	uint8_t sha[32];
	dec_sha256(f->leaf_der, (size_t)f->leaf_len, sha);
	assert_memory_equal(c->sha256, sha, 32);
	unsigned char *spki = NULL;
	int l = i2d_PUBKEY(f->leaf_key, &spki);
	dec_sha256(spki, (size_t)l, sha);
	OPENSSL_free(spki);
	assert_memory_equal(c->spki_sha256, sha, 32);
	/* Parsed once: the second parse is the cached object. */
	struct cert *d = dec_x509_parse(f->leaf_der, (size_t)f->leaf_len);
	assert_ptr_equal(c, d);
	dec_cert_put(d);
	dec_cert_put(c);
}

static void test_ca_and_weak(void **state)
{
	struct fx *f = *state;
	struct cert *c = dec_x509_parse(f->ca_der, (size_t)f->ca_len);
	assert_true(c->is_ca);
	assert_true(c->self_issued);
	assert_true(c->self_signed);
	assert_int_equal(c->key_type, CERT_KEY_RSA);
	assert_int_equal(c->key_bits, 2048);
	assert_false(c->has_sct);
	dec_cert_put(c);
	c = dec_x509_parse(f->weak_der, (size_t)f->weak_len);
	assert_int_equal(c->key_bits, 1024);
	assert_true(c->sig_weak);
	assert_string_equal(c->sig_alg, "sha1WithRSAEncryption");
	assert_true(c->self_signed);
	assert_int_equal(c->not_before, -631152000); /* 1950-01-01, before the epoch */
	dec_cert_put(c);
}

static void test_truncated_der(void **state)
{
	struct fx *f = *state;
	for (int n = 0; n < f->leaf_len; n += (n < 64 ? 1 : 37)) {
		struct cert *c = dec_x509_parse(f->leaf_der, (size_t)n);
		assert_non_null(c);
		assert_null(c->x509);
		assert_int_equal(c->parse_err, TLS_ERR_CERT);
		dec_cert_put(c);
	}
	/* A flipped byte inside the signature still parses (verification is the
	 * detector's business); one in the outer tag does not. */
	unsigned char *bad = malloc((size_t)f->leaf_len);
	memcpy(bad, f->leaf_der, (size_t)f->leaf_len);
	bad[0] = 0x31;
	struct cert *c = dec_x509_parse(bad, (size_t)f->leaf_len);
	assert_null(c->x509);
	dec_cert_put(c);
	free(bad);
}

/* A Certificate message body of the given DER entries. */
static size_t msg(uint8_t *out, size_t cap, const unsigned char *const *ders, const int *lens, int n)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += 3 + (size_t)lens[i];
	assert_true(total + 3 <= cap);
	size_t o = 0;
	out[o++] = (uint8_t)(total >> 16);
	out[o++] = (uint8_t)(total >> 8);
	out[o++] = (uint8_t)total;
	for (int i = 0; i < n; i++) {
		out[o++] = (uint8_t)(lens[i] >> 16);
		out[o++] = (uint8_t)(lens[i] >> 8);
		out[o++] = (uint8_t)lens[i];
		memcpy(out + o, ders[i], (size_t)lens[i]);
		o += (size_t)lens[i];
	}
	return o;
}

static void test_chain_message(void **state)
{
	struct fx *f = *state;
	static uint8_t m[64 * 1024];
	const unsigned char *ders[12];
	int lens[12];
	ders[0] = f->leaf_der;
	lens[0] = f->leaf_len;
	ders[1] = f->ca_der;
	lens[1] = f->ca_len;
	size_t n = msg(m, sizeof(m), ders, lens, 2);
	struct cert_chain ch;
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(m, n, &ch), TLS_OK);
	assert_int_equal(ch.n, 2);
	assert_int_equal(ch.total, 2);
	assert_string_equal(ch.c[1]->subject, "CN=Test Root CA,O=Test Org");
	dec_cert_chain_clear(&ch);

	/* Every truncation is an error, never a crash. */
	for (size_t k = 0; k < n; k += (k < 16 ? 1 : 101)) {
		memset(&ch, 0, sizeof(ch));
		assert_int_not_equal(dec_x509_chain_parse(m, k, &ch), TLS_OK);
		dec_cert_chain_clear(&ch);
	}
	/* Trailing bytes after the list. */
	m[n] = 0;
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(m, n + 1, &ch), TLS_ERR_TRAILING);
	dec_cert_chain_clear(&ch);
	/* An entry of length 0. */
	static const uint8_t zero[] = { 0x00, 0x00, 0x03, 0x00, 0x00, 0x00 };
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(zero, sizeof(zero), &ch), TLS_ERR_EMPTY);
	/* An entry claiming 16 MB inside a short list. */
	static const uint8_t huge[] = { 0x00, 0x00, 0x05, 0xff, 0xff, 0xff, 0x30, 0x00 };
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(huge, sizeof(huge), &ch), TLS_ERR_SHORT);
	/* A list length past the message. */
	static const uint8_t past[] = { 0xff, 0xff, 0xff, 0x00 };
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(past, sizeof(past), &ch), TLS_ERR_SHORT);
	/* An entry that is not a certificate: kept, flagged. */
	static const uint8_t junk[] = { 0x00, 0x00, 0x07, 0x00, 0x00, 0x04, 'j', 'u', 'n', 'k' };
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(junk, sizeof(junk), &ch), TLS_ERR_CERT);
	assert_int_equal(ch.n, 1);
	assert_null(ch.c[0]->x509);
	dec_cert_chain_clear(&ch);
	/* An empty list is well formed. */
	static const uint8_t empty[] = { 0x00, 0x00, 0x00 };
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(empty, sizeof(empty), &ch), TLS_OK);
	assert_int_equal(ch.n, 0);
	/* More certificates than kept: counted. */
	for (int i = 0; i < 12; i++) {
		ders[i] = f->ca_der;
		lens[i] = f->ca_len;
	}
	n = msg(m, sizeof(m), ders, lens, 12);
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(dec_x509_chain_parse(m, n, &ch), TLS_OK);
	assert_int_equal(ch.n, CERT_MAX_CHAIN);
	assert_int_equal(ch.total, 12);
	dec_cert_chain_clear(&ch);
}

static void test_hashes(void **state)
{
	(void)state;
	uint8_t md[32];
	/* FIPS 180-2 / RFC 1321 test vectors for "abc". */
	static const uint8_t sha256_abc[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
						0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
						0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	static const uint8_t sha1_abc[20] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
					      0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d };
	static const uint8_t md5_abc[16] = { 0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
					     0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72 };
	dec_sha256("abc", 3, md);
	assert_memory_equal(md, sha256_abc, 32);
	dec_sha1("abc", 3, md);
	assert_memory_equal(md, sha1_abc, 20);
	dec_md5("abc", 3, md);
	assert_memory_equal(md, md5_abc, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_fields),
		cmocka_unit_test(test_ca_and_weak),
		cmocka_unit_test(test_truncated_der),
		cmocka_unit_test(test_chain_message),
		cmocka_unit_test(test_hashes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
