/* test_x509.h - certificates made on the fly with OpenSSL for the x509 and issuer
 * tests (no key material in the tree). Header-only: each test program includes it. */
#ifndef ONPATH_TEST_X509_H
#define ONPATH_TEST_X509_H

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline EVP_PKEY *tx_key_rsa(int bits)
{
	return EVP_RSA_gen((unsigned)bits);
}

static inline EVP_PKEY *tx_key_ec(void)
{
	return EVP_EC_gen("P-256");
}

struct tx_spec {
	const char *cn;          /* subject CN */
	const char *org;         /* subject O, may be NULL */
	int64_t not_before, not_after; /* Unix seconds */
	bool ca;
	const char *const *dns;  /* NULL-terminated SAN dNSNames, may be NULL */
	const char *ip;          /* one SAN iPAddress (dotted quad), may be NULL */
	bool sct;                /* add an (empty) embedded SCT list extension */
	const EVP_MD *md;        /* signature digest, NULL = SHA-256 */
	long serial;
};

static inline void tx_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e) {
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
}

/* A certificate for key signed by issuer/ikey (NULL: self-signed). Caller frees. */
static inline X509 *tx_cert(const struct tx_spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial ? s->serial : 4242);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->not_before);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->not_after);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	if (s->org)
		X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)s->org, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	tx_ext(x, issuer ? issuer : x, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (s->ca)
		tx_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	else
		tx_ext(x, issuer ? issuer : x, NID_ext_key_usage, "serverAuth");
	tx_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (issuer)
		tx_ext(x, issuer, NID_authority_key_identifier, "keyid");
	if (s->dns || s->ip) {
		char san[1024] = "";
		size_t o = 0;
		for (int i = 0; s->dns && s->dns[i]; i++)
			o += (size_t)snprintf(san + o, sizeof(san) - o, "%sDNS:%s", o ? "," : "", s->dns[i]);
		if (s->ip)
			snprintf(san + o, sizeof(san) - o, "%sIP:%s", o ? "," : "", s->ip);
		tx_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	}
	if (s->sct) {
		/* RFC 6962 3.3: an OCTET STRING holding the TLS-encoded SCT list; its
		 * content does not matter here, only its presence. */
		static const unsigned char list[] = { 0x04, 0x02, 0x00, 0x00 };
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(os, list, sizeof(list));
		X509_EXTENSION *e = X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, os);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
	}
	X509_sign(x, issuer ? ikey : key, s->md ? s->md : EVP_sha256());
	return x;
}

/* DER of x in a static-free buffer the caller frees (OPENSSL_free). */
static inline int tx_der(X509 *x, unsigned char **out)
{
	*out = NULL;
	return i2d_X509(x, out);
}

#endif
