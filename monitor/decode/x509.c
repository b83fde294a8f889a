/* x509.c - X.509 certificates of TLS Certificate messages, parsed with OpenSSL
 * (RFC 5280; RFC 5246 7.4.2 for the message; RFC 6962 3.3 for embedded SCTs; RFC 7469
 * 2.4 for the SPKI fingerprint), and the EVP hashes of the decoders.
 *
 * The message framing (3-byte lengths) is read through the cursor of reader.h; the
 * certificates themselves are handed to d2i_X509 with their exact DER length (STYLE:
 * do not hand-write ASN.1).
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "reader.h"
#include "tls.h"
#include "util.h"
#include "x509.h"

/* ---- hashes: the EVP_MD objects are fetched once (an implicit fetch per call costs
 * more than hashing a certificate) ---- */

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha1, *md_md5;

static void md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

void dec_digest_init(void)
{
	pthread_once(&md_once, md_init);
}

static void digest(const EVP_MD *md, const EVP_MD *fallback, const void *p, size_t n,
		   uint8_t *out, size_t outlen)
{
	unsigned int l = 0;
	if (!EVP_Digest(p, n, out, &l, md ? md : fallback, NULL))
		memset(out, 0, outlen);
}

void dec_sha256(const void *p, size_t n, uint8_t out[32])
{
	pthread_once(&md_once, md_init);
	digest(md_sha256, EVP_sha256(), p, n, out, 32);
}

void dec_sha1(const void *p, size_t n, uint8_t out[20])
{
	pthread_once(&md_once, md_init);
	digest(md_sha1, EVP_sha1(), p, n, out, 20);
}

void dec_md5(const void *p, size_t n, uint8_t out[16])
{
	pthread_once(&md_once, md_init);
	digest(md_md5, EVP_md5(), p, n, out, 16);
}

/* ---- the per-thread cache: 4-way sets indexed by the DER's SHA-256, oldest out ---- */

#define CACHE_WAYS 4
#define CACHE_SETS (CERT_CACHE_MAX / CACHE_WAYS)

struct cache_slot {
	struct cert *c;
	uint64_t used;
};

static _Thread_local struct cache_slot *cache;
static _Thread_local uint64_t cache_tick;

static struct cache_slot *cache_set(const uint8_t sha[32])
{
	if (!cache) {
		cache = calloc(CACHE_SETS * CACHE_WAYS, sizeof(*cache));
		if (!cache)
			return NULL;
	}
	uint32_t i = ((uint32_t)sha[0] << 24 | (uint32_t)sha[1] << 16 | (uint32_t)sha[2] << 8 | sha[3]) %
		     CACHE_SETS;
	return &cache[i * CACHE_WAYS];
}

void dec_cert_put(struct cert *c)
{
	if (!c || --c->refs > 0)
		return;
	X509_free(c->x509);
	free(c);
}

void dec_x509_cache_flush(void)
{
	if (!cache)
		return;
	for (size_t i = 0; i < CACHE_SETS * CACHE_WAYS; i++)
		dec_cert_put(cache[i].c);
	free(cache);
	cache = NULL;
}

/* ---- fields ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm), so
 * times before 1970 and after 2038 are exact whatever time_t is. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return false;
	int64_t days = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
				       (unsigned)tm.tm_mday);
	*out = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

static void name_text(const X509_NAME *n, char *out, size_t cap)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	/* RFC 2253 order and escaping, UTF-8 kept (ESC_MSB off), control characters
	 * escaped by OpenSSL: the text holds no NUL. */
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		int l = BIO_read(b, out, (int)cap - 1);
		out[l > 0 ? l : 0] = '\0';
	}
	BIO_free(b);
}

static uint16_t name_entry(const X509_NAME *n, int nid, char *out, size_t cap)
{
	out[0] = '\0';
	int i = X509_NAME_get_index_by_NID(n, nid, -1);
	if (i < 0)
		return 0;
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	unsigned char *u = NULL;
	int l = ASN1_STRING_to_UTF8(&u, s);
	if (l < 0)
		return 0;
	size_t keep = (size_t)l < cap - 1 ? (size_t)l : cap - 1;
	memcpy(out, u, keep);
	out[keep] = '\0';
	OPENSSL_free(u);
	return (uint16_t)keep;
}

static void san_add(struct cert *c, const void *p, size_t n)
{
	size_t used = c->nsans ? c->san_off[c->nsans - 1] + c->san_len[c->nsans - 1] + 1u : 0;
	if (c->nsans == CERT_MAX_SANS || n + 1 > CERT_SAN_POOL - used) {
		c->sans_truncated = true;
		return;
	}
	memcpy(c->san_pool + used, p, n);
	c->san_pool[used + n] = '\0';
	c->san_off[c->nsans] = (uint16_t)used;
	c->san_len[c->nsans] = (uint16_t)n;
	c->nsans++;
}

static void fill_sans(struct cert *c, X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (!gens)
		return;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			int l = ASN1_STRING_length(g->d.dNSName);
			if (l < 0)
				continue;
			if (memchr(d, 0, (size_t)l))
				c->san_nul = true;
			san_add(c, d, (size_t)l);
		} else if (g->type == GEN_IPADD) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			int l = ASN1_STRING_length(g->d.iPAddress);
			char txt[INET6_ADDRSTRLEN] = "";
			if (l == 4)
				inet_ntop(AF_INET, d, txt, sizeof(txt));
			else if (l == 16)
				inet_ntop(AF_INET6, d, txt, sizeof(txt));
			if (txt[0])
				san_add(c, txt, strlen(txt));
		}
	}
	GENERAL_NAMES_free(gens);
}

static void fill_key(struct cert *c, X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	if (!pk) {
		/* An algorithm this OpenSSL does not know (e.g. ML-DSA before 3.5). */
		ASN1_OBJECT *obj = NULL;
		X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
		c->key_type = CERT_KEY_OTHER;
		if (pub && X509_PUBKEY_get0_param(&obj, NULL, NULL, NULL, pub) && obj)
			OBJ_obj2txt(c->key_name, sizeof(c->key_name), obj, 0);
		return;
	}
	c->key_bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		c->key_type = CERT_KEY_RSA;
		util_strlcpy(c->key_name, "RSA", sizeof(c->key_name));
		break;
	case EVP_PKEY_EC: {
		char g[64] = "";
		c->key_type = CERT_KEY_EC;
		size_t gl = 0;
		if (EVP_PKEY_get_group_name(pk, g, sizeof(g), &gl)) {
			const char *nist = EC_curve_nid2nist(OBJ_sn2nid(g));
			snprintf(c->key_name, sizeof(c->key_name), "EC %.20s", nist ? nist : g);
		} else {
			util_strlcpy(c->key_name, "EC", sizeof(c->key_name));
		}
		break;
	}
	case EVP_PKEY_DSA:
		c->key_type = CERT_KEY_DSA;
		util_strlcpy(c->key_name, "DSA", sizeof(c->key_name));
		break;
	case EVP_PKEY_ED25519:
		c->key_type = CERT_KEY_ED25519;
		util_strlcpy(c->key_name, "Ed25519", sizeof(c->key_name));
		break;
	case EVP_PKEY_ED448:
		c->key_type = CERT_KEY_ED448;
		util_strlcpy(c->key_name, "Ed448", sizeof(c->key_name));
		break;
	default:
		c->key_type = CERT_KEY_OTHER;
		util_strlcpy(c->key_name, EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "other",
			     sizeof(c->key_name));
		break;
	}
}

static void fill_sig(struct cert *c, X509 *x)
{
	int nid = X509_get_signature_nid(x);
	if (nid != NID_undef) {
		util_strlcpy(c->sig_alg, OBJ_nid2ln(nid), sizeof(c->sig_alg));
	} else {
		const X509_ALGOR *alg = NULL;
		const ASN1_OBJECT *obj = NULL;
		X509_get0_signature(NULL, &alg, x);
		if (alg) {
			X509_ALGOR_get0(&obj, NULL, NULL, alg);
			if (obj)
				OBJ_obj2txt(c->sig_alg, sizeof(c->sig_alg), obj, 1);
		}
	}
	int md = NID_undef, pk = NID_undef;
	if (nid != NID_undef && OBJ_find_sigid_algs(nid, &md, &pk))
		c->sig_md_nid = md;
	c->sig_weak = md == NID_md5 || md == NID_sha1 || md == NID_md4 || md == NID_md2 ||
		      md == NID_md5_sha1;
}

static void fill(struct cert *c, X509 *x)
{
	const X509_NAME *sn = X509_get_subject_name(x), *in = X509_get_issuer_name(x);
	name_text(sn, c->subject, sizeof(c->subject));
	name_text(in, c->issuer, sizeof(c->issuer));
	c->subject_cn_len = name_entry(sn, NID_commonName, c->subject_cn, sizeof(c->subject_cn));
	c->issuer_cn_len = name_entry(in, NID_commonName, c->issuer_cn, sizeof(c->issuer_cn));
	c->issuer_o_len = name_entry(in, NID_organizationName, c->issuer_o, sizeof(c->issuer_o));

	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	if (serial) {
		static const char hx[] = "0123456789abcdef";
		const unsigned char *d = ASN1_STRING_get0_data(serial);
		int l = ASN1_STRING_length(serial);
		int keep = l > 40 ? 40 : l;
		for (int i = 0; i < keep; i++) {
			c->serial[2 * i] = hx[d[i] >> 4];
			c->serial[2 * i + 1] = hx[d[i] & 15];
		}
		c->serial[keep > 0 ? 2 * keep : 0] = '\0';
	}
	c->validity_ok = asn1_time_epoch(X509_get0_notBefore(x), &c->not_before) &&
			 asn1_time_epoch(X509_get0_notAfter(x), &c->not_after);

	X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
	unsigned char *spki = NULL;
	int sl = pub ? i2d_X509_PUBKEY(pub, &spki) : -1;
	if (sl > 0)
		dec_sha256(spki, (size_t)sl, c->spki_sha256);
	OPENSSL_free(spki);

	fill_key(c, x);
	fill_sig(c, x);
	fill_sans(c, x);
	c->has_sct = X509_get_ext_by_NID(x, NID_ct_precert_scts, -1) >= 0;
	c->is_ca = X509_check_ca(x) > 0;
	c->self_issued = X509_NAME_cmp(sn, in) == 0;
	/* The signature check (an RSA/ECDSA verify) only for self-issued certificates. */
	c->self_signed = c->self_issued && X509_self_signed(x, 1) == 1;
}

struct cert *dec_x509_parse(const uint8_t *der, size_t len)
{
	uint8_t sha[32];
	dec_sha256(der, len, sha);
	struct cache_slot *set = cache_set(sha);
	if (set) {
		for (int w = 0; w < CACHE_WAYS; w++) {
			struct cert *c = set[w].c;
			if (c && c->der_len == len && memcmp(c->sha256, sha, 32) == 0) {
				set[w].used = ++cache_tick;
				c->refs++;
				return c;
			}
		}
	}
	struct cert *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->refs = 1;
	c->der_len = len;
	memcpy(c->sha256, sha, 32);
	dec_sha1(der, len, c->sha1);
	X509 *x = NULL;
	if (len <= CERT_DER_MAX) {
		const unsigned char *p = der;
		x = d2i_X509(NULL, &p, (long)len);
	}
	if (!x) {
		c->parse_err = TLS_ERR_CERT;
	} else {
		c->x509 = x;
		fill(c, x);
	}
	if (set) {
		int victim = 0;
		for (int w = 1; w < CACHE_WAYS; w++)
			if (set[w].used < set[victim].used)
				victim = w;
		dec_cert_put(set[victim].c);
		set[victim].c = c;
		set[victim].used = ++cache_tick;
		c->refs++;
	}
	return c;
}

int dec_x509_chain_parse(const uint8_t *body, size_t len, struct cert_chain *out)
{
	struct rd r = rd_init(body, len);
	uint32_t ll = rd_be24(&r);
	struct rd l = rd_sub(&r, ll);
	int err = TLS_OK;
	if (r.err) {
		err = TLS_ERR_SHORT;
		goto done;
	}
	if (rd_left(&r)) {
		err = TLS_ERR_TRAILING;
		goto done;
	}
	while (rd_left(&l)) {
		uint32_t cl = rd_be24(&l);
		const uint8_t *der = rd_ptr(&l, cl);
		if (l.err) {
			err = TLS_ERR_SHORT;
			break;
		}
		if (cl == 0) {
			err = TLS_ERR_EMPTY; /* ASN.1Cert<1..2^24-1> */
			break;
		}
		out->total++;
		if (out->n == CERT_MAX_CHAIN)
			continue;
		struct cert *c = dec_x509_parse(der, cl);
		if (!c)
			break;
		if (c->parse_err && err == TLS_OK)
			err = c->parse_err;
		out->c[out->n++] = c;
	}
done:
	out->err = err;
	return err;
}

void dec_cert_chain_clear(struct cert_chain *ch)
{
	for (unsigned i = 0; i < ch->n; i++)
		dec_cert_put(ch->c[i]);
	memset(ch, 0, sizeof(*ch));
}
