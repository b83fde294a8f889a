/* x509.h - X.509 certificates of a TLS Certificate message (RFC 5246 7.4.2, RFC 5280)
 * parsed with OpenSSL (d2i_X509), and the hashes the TLS code needs (SHA-256, SHA-1,
 * MD5 through EVP, fetched once).
 *
 * A parsed certificate is a struct cert: the typed facts the detectors judge (names,
 * SANs, validity, key, signature algorithm, fingerprints, SCT presence) plus the
 * OpenSSL object for chain verification. Certificates are reference counted and kept
 * in a small bounded cache keyed by the SHA-256 of their DER, so a server's chain seen
 * a thousand times is parsed once (the cache is per thread: the parse runs on the
 * capture thread that owns the flow).
 *
 * Every string here comes from the certificate, i.e. from whoever sent it: escape on
 * output (subject/issuer are OpenSSL's RFC 2253 text with control characters escaped;
 * SANs and CNs are raw bytes with their lengths).
 */
#ifndef ONPATH_DECODE_X509_H
#define ONPATH_DECODE_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_MAX_CHAIN 10      /* certificates kept per chain (more are counted) */
#define CERT_NAME_MAX 512      /* RFC 2253 text of a DN, cut beyond */
#define CERT_CN_MAX 256
#define CERT_MAX_SANS 64       /* dNSName / iPAddress entries kept */
#define CERT_SAN_POOL 4096     /* bytes for their text */
#define CERT_DER_MAX (64u * 1024u) /* a larger certificate is not parsed */
#define CERT_CACHE_MAX 2048    /* parsed certificates cached per thread */

/* Fetches the digests now. The first fetch loads OpenSSL's default provider (~5M
 * instructions): calling this at startup keeps that off the first handshake. Optional
 * (the hashes fetch on first use) and idempotent. */
void dec_digest_init(void);
void dec_sha256(const void *p, size_t n, uint8_t out[32]);
void dec_sha1(const void *p, size_t n, uint8_t out[20]);
void dec_md5(const void *p, size_t n, uint8_t out[16]);

enum cert_key { CERT_KEY_UNKNOWN = 0, CERT_KEY_RSA, CERT_KEY_EC, CERT_KEY_DSA, CERT_KEY_ED25519,
		CERT_KEY_ED448, CERT_KEY_OTHER };

struct x509_st; /* OpenSSL's X509 */

struct cert {
	int refs;                   /* owners: chains and the cache */
	struct x509_st *x509;       /* owned; NULL when the DER did not parse */
	int parse_err;              /* 0, or TLS_ERR_CERT when x509 is NULL */
	size_t der_len;
	uint8_t sha256[32], sha1[20];  /* of the DER as sent */
	uint8_t spki_sha256[32];       /* of the DER SubjectPublicKeyInfo (RFC 7469 pins) */
	char subject[CERT_NAME_MAX];   /* RFC 2253, control characters escaped by OpenSSL */
	char issuer[CERT_NAME_MAX];
	char subject_cn[CERT_CN_MAX];  /* first CN as UTF-8 bytes (may hold NUL) */
	uint16_t subject_cn_len;
	char issuer_cn[CERT_CN_MAX];
	uint16_t issuer_cn_len;
	char issuer_o[CERT_CN_MAX];
	uint16_t issuer_o_len;
	char serial[2 * 40 + 1];       /* hex of the serial's content bytes (cut at 40) */
	int64_t not_before, not_after; /* seconds since the epoch (may be < 0) */
	bool validity_ok;              /* both times parsed */
	enum cert_key key_type;
	int key_bits;
	char key_name[24];             /* "RSA", "EC P-256", "Ed25519", ... */
	char sig_alg[48];              /* e.g. "sha256WithRSAEncryption" */
	int sig_md_nid;                /* digest of the signature (NID_sha1...), 0 unknown */
	bool sig_weak;                 /* MD2/MD4/MD5/SHA-1 signature */
	bool has_sct;                  /* embedded SCT list (RFC 6962 3.3) */
	bool is_ca;                    /* basicConstraints CA (X509_check_ca) */
	bool self_issued;              /* subject == issuer */
	bool self_signed;              /* self-issued and its signature verifies with its key */
	bool san_nul;                  /* a dNSName holds a NUL byte (CVE-2009-2408 style) */
	uint8_t nsans;
	bool sans_truncated;
	uint16_t san_off[CERT_MAX_SANS], san_len[CERT_MAX_SANS];
	char san_pool[CERT_SAN_POOL];  /* dNSName bytes / iPAddress text, NUL after each */
};

/* The server's chain as sent (leaf first). Holds references to the certificates. */
struct cert_chain {
	uint8_t n;                       /* certificates kept */
	uint32_t total;                  /* certificates in the message */
	int err;                         /* enum tls_err of the message (0 = well formed) */
	struct cert *c[CERT_MAX_CHAIN];
};

/* Parses one DER certificate into a new struct cert (refs = 1; release with
 * dec_cert_put). Uses and fills the per-thread cache. Never NULL unless out of memory;
 * a DER that does not parse gives a cert with x509 NULL, parse_err set and the
 * fingerprints filled. */
struct cert *dec_x509_parse(const uint8_t *der, size_t len);
void dec_cert_put(struct cert *c);

/* Parses a TLS <= 1.2 Certificate message body (certificate_list<0..2^24-1> of
 * ASN.1Cert<1..2^24-1>) into out (which the caller zeroed). Returns TLS_OK or the
 * reason (also in out->err); out keeps the certificates read before an error. */
int dec_x509_chain_parse(const uint8_t *body, size_t len, struct cert_chain *out);
/* Releases the chain's references (out may be reused after). */
void dec_cert_chain_clear(struct cert_chain *ch);

/* The SAN text i (NUL-terminated; length in san_len[i]). */
static inline const char *dec_cert_san(const struct cert *c, unsigned i)
{
	return c->san_pool + c->san_off[i];
}

/* Frees this thread's certificate cache (for leak checkers at exit). */
void dec_x509_cache_flush(void);

#endif
