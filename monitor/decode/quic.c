/* quic.c - QUIC client Initial -> ClientHello (RFC 9000 12.4/17.2.2/19.6, RFC 9001 5.2
 * initial secrets, 5.3 AEAD, 5.4 header protection; RFC 9369 for v2).
 *
 * The datagram is read through the cursor of reader.h. Header protection and
 * decryption work on a private copy of the packet (never on the capture buffer); the
 * decrypted frames are read through the cursor again.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "quic.h"
#include "reader.h"
#include "util.h"
#include "x509.h"

static const char *const quic_errs[QUIC_ERR_MAX] = {
	[QUIC_OK] = "ok",
	[QUIC_ERR_SHORT] = "header field past the datagram",
	[QUIC_ERR_NOT_INITIAL] = "not an Initial packet",
	[QUIC_ERR_VERSION] = "version without known Initial keys",
	[QUIC_ERR_DECRYPT] = "Initial does not decrypt with the client keys",
	[QUIC_ERR_FRAME] = "malformed or unexpected frame",
	[QUIC_ERR_INCOMPLETE] = "ClientHello continues in a later packet",
	[QUIC_ERR_TLS] = "CRYPTO data is not a usable ClientHello",
};

const char *dec_quic_strerror(int e)
{
	if (e < 0 || e >= QUIC_ERR_MAX)
		return "unknown";
	return quic_errs[e];
}

struct qver {
	uint32_t version;
	uint8_t initial_type;  /* long-header type bits of an Initial */
	const char *label;     /* "quic " or "quicv2 " prefix of the key labels */
	uint8_t salt[20];
};

static const struct qver versions[] = {
	/* RFC 9001 5.2 */
	{ 0x00000001, 0, "quic ",
	  { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
	    0xcc, 0xbb, 0x7f, 0x0a } },
	/* RFC 9369 3.3.1 (v2: Initial is type 0b01) */
	{ 0x6b3343cf, 1, "quicv2 ",
	  { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
	    0xf9, 0xbd, 0x2e, 0xd9 } },
	/* draft-ietf-quic-tls-29 5.2 */
	{ 0xff00001d, 0, "quic ",
	  { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
	    0x43, 0x90, 0xa8, 0x99 } },
};

/* A variable-length integer (RFC 9000 16). */
static uint64_t rd_varint(struct rd *r)
{
	uint8_t b0;
	if (!rd_peek_u8(r, 0, &b0)) {
		r->err = 1;
		return 0;
	}
	size_t n = (size_t)1 << (b0 >> 6);
	const uint8_t *p = rd_ptr(r, n);
	if (!p)
		return 0;
	uint64_t v = p[0] & 0x3f;
	for (size_t i = 1; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- crypto: the algorithms are fetched once and the contexts kept per thread. With
 * OpenSSL 3, HMAC(EVP_sha256(), ...) and EVP_aes_128_*() fetch their implementations
 * on every call, which made an Initial cost ~165k instructions, mostly lookups. ---- */

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_MAC *alg_hmac;
static EVP_CIPHER *alg_ecb, *alg_gcm;

static void algs_init(void)
{
	alg_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	alg_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	alg_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
}

static _Thread_local EVP_MAC_CTX *hmac_ctx;     /* HMAC-SHA256, re-keyed per use */
static _Thread_local EVP_CIPHER_CTX *ecb_ctx, *gcm_ctx;

static void crypto_free(void)
{
	EVP_MAC_CTX_free(hmac_ctx);
	EVP_CIPHER_CTX_free(ecb_ctx);
	EVP_CIPHER_CTX_free(gcm_ctx);
	hmac_ctx = NULL;
	ecb_ctx = gcm_ctx = NULL;
}

/* The thread's contexts, made on first use; -1 when OpenSSL cannot provide them. */
static int crypto_ready(void)
{
	if (hmac_ctx && ecb_ctx && gcm_ctx)
		return 0;
	pthread_once(&algs_once, algs_init);
	if (!alg_hmac || !alg_ecb || !alg_gcm)
		return -1;
	if (!hmac_ctx) {
		/* The digest is set once; each HMAC then only sets its key. */
		OSSL_PARAM prm[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			OSSL_PARAM_construct_end(),
		};
		hmac_ctx = EVP_MAC_CTX_new(alg_hmac);
		if (!hmac_ctx || !EVP_MAC_CTX_set_params(hmac_ctx, prm)) {
			crypto_free();
			return -1;
		}
	}
	if (!ecb_ctx)
		ecb_ctx = EVP_CIPHER_CTX_new();
	if (!gcm_ctx)
		gcm_ctx = EVP_CIPHER_CTX_new();
	if (!ecb_ctx || !gcm_ctx) {
		crypto_free();
		return -1;
	}
	return 0;
}

/* HMAC-SHA256(key, msg) -> out[32]. */
static int hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t n, uint8_t out[32])
{
	size_t l = 0;
	if (!EVP_MAC_init(hmac_ctx, key, keylen, NULL) || !EVP_MAC_update(hmac_ctx, msg, n) ||
	    !EVP_MAC_final(hmac_ctx, out, &l, 32) || l != 32)
		return -1;
	return 0;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context, for outputs of at most one
 * SHA-256 block. */
static int expand_label(const uint8_t secret[32], const char *prefix, const char *label, uint8_t *out,
			size_t outlen)
{
	uint8_t info[64], t[32];
	size_t pl = strlen(prefix), ll = strlen(label), n = 0;
	/* "tls13 " + prefix-less label for TLS; QUIC labels are "quic key" etc.: the
	 * prefix is part of the label. */
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)(6 + pl + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, prefix, pl);
	n += pl;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0; /* empty context */
	info[n++] = 1; /* T(1) */
	if (hmac_sha256(secret, 32, info, n, t) < 0)
		return -1;
	memcpy(out, t, outlen);
	return 0;
}

struct keys {
	uint8_t key[16], iv[12], hp[16];
};

/* The last Initial keys derived, by (version, DCID): a ClientHello that does not fit
 * one datagram (post-quantum key shares) and retransmissions reuse the DCID, and the
 * derivation is five HMACs. */
#define QUIC_KEY_CACHE 4

static _Thread_local struct {
	const struct qver *v;       /* NULL: empty */
	uint8_t dcil;
	uint8_t dcid[QUIC_MAX_CID];
	struct keys k;
} key_cache[QUIC_KEY_CACHE];
static _Thread_local unsigned key_next;

static int initial_keys(const struct qver *v, const uint8_t *dcid, size_t dcil, struct keys *k)
{
	uint8_t initial[32], client[32];
	for (unsigned i = 0; i < QUIC_KEY_CACHE; i++)
		if (key_cache[i].v == v && key_cache[i].dcil == dcil &&
		    memcmp(key_cache[i].dcid, dcid, dcil) == 0) {
			*k = key_cache[i].k;
			return crypto_ready();
		}
	if (crypto_ready() < 0)
		return -1;
	/* HKDF-Extract(salt, DCID) = HMAC(salt, DCID). */
	if (hmac_sha256(v->salt, sizeof(v->salt), dcid, dcil, initial) < 0)
		return -1;
	if (expand_label(initial, "", "client in", client, 32) < 0 ||
	    expand_label(client, v->label, "key", k->key, 16) < 0 ||
	    expand_label(client, v->label, "iv", k->iv, 12) < 0 ||
	    expand_label(client, v->label, "hp", k->hp, 16) < 0)
		return -1;
	if (dcil <= QUIC_MAX_CID) {
		unsigned i = key_next++ % QUIC_KEY_CACHE;
		key_cache[i].v = v;
		key_cache[i].dcil = (uint8_t)dcil;
		memcpy(key_cache[i].dcid, dcid, dcil);
		key_cache[i].k = *k;
	}
	return 0;
}

/* Header protection mask (RFC 9001 5.4.3): AES-128-ECB of one block. Called after
 * initial_keys (the contexts exist). */
static int aes_ecb_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *c = ecb_ctx;
	int l = 0;
	return c && EVP_EncryptInit_ex2(c, alg_ecb, key, NULL, NULL) && EVP_CIPHER_CTX_set_padding(c, 0) &&
			       EVP_EncryptUpdate(c, out, &l, in, 16) && l == 16
		       ? 0
		       : -1;
}

/* AEAD_AES_128_GCM open (RFC 9001 5.3): a 12-byte nonce (GCM's default IV length). */
static int gcm_open(const struct keys *k, const uint8_t nonce[12], const uint8_t *aad, size_t aadlen,
		    const uint8_t *ct, size_t ctlen, const uint8_t tag[16], uint8_t *pt)
{
	EVP_CIPHER_CTX *c = gcm_ctx;
	int l = 0;
	return c && EVP_DecryptInit_ex2(c, alg_gcm, k->key, nonce, NULL) &&
			       EVP_DecryptUpdate(c, NULL, &l, aad, (int)aadlen) &&
			       EVP_DecryptUpdate(c, pt, &l, ct, (int)ctlen) &&
			       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) &&
			       EVP_DecryptFinal_ex(c, pt + l, &l) > 0
		       ? 0
		       : -1;
}

/* ---- CRYPTO stream gathering ---- */

struct crypto_buf {
	uint64_t id;                         /* hash of sender + DCID (pending table) */
	uint64_t used;
	uint8_t data[QUIC_CRYPTO_MAX];
	uint8_t have[QUIC_CRYPTO_MAX / 8];   /* bitmap of the bytes received */
};

static _Thread_local struct crypto_buf *pending;  /* QUIC_PENDING_MAX entries */
static _Thread_local struct crypto_buf *scratch;
static _Thread_local uint64_t pending_tick;
static _Thread_local uint8_t *pkt_buf, *pt_buf;  /* 64 KiB each */

void dec_quic_flush(void)
{
	crypto_free();
	free(pending);
	free(scratch);
	free(pkt_buf);
	free(pt_buf);
	pending = scratch = NULL;
	pkt_buf = pt_buf = NULL;
}

static int buffers(void)
{
	if (!pending)
		pending = calloc(QUIC_PENDING_MAX, sizeof(*pending));
	if (!scratch)
		scratch = calloc(1, sizeof(*scratch));
	if (!pkt_buf)
		pkt_buf = malloc(65536);
	if (!pt_buf)
		pt_buf = malloc(65536);
	return pending && scratch && pkt_buf && pt_buf ? 0 : -1;
}

static void crypto_add(struct crypto_buf *b, uint64_t off, const uint8_t *p, size_t n)
{
	/* Bytes past QUIC_CRYPTO_MAX are dropped: a longer ClientHello is not parsed. */
	if (off >= QUIC_CRYPTO_MAX)
		return;
	if (n > QUIC_CRYPTO_MAX - off)
		n = (size_t)(QUIC_CRYPTO_MAX - off);
	struct rd r = rd_init(p, n);
	for (size_t i = 0; i < n; i++) {
		size_t at = (size_t)off + i;
		b->data[at] = rd_u8(&r);
		b->have[at / 8] |= (uint8_t)(1u << (at % 8));
	}
}

static bool crypto_has(const struct crypto_buf *b, size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		if (!(b->have[i / 8] & (1u << (i % 8))))
			return false;
	return true;
}

/* 1: a complete ClientHello is in b (parsed into out with *err), 0: not yet. */
static int crypto_try(const struct crypto_buf *b, struct tls_hello *out, int *err)
{
	if (!crypto_has(b, 0, 4))
		return 0;
	struct rd r = rd_init(b->data, QUIC_CRYPTO_MAX);
	uint8_t type = rd_u8(&r);
	uint32_t len = rd_be24(&r);
	if (type != TLS_HS_CLIENT_HELLO || len > QUIC_CRYPTO_MAX - 4) {
		*err = QUIC_ERR_TLS;
		return 1;
	}
	if (!crypto_has(b, 4, len))
		return 0;
	const uint8_t *body = rd_ptr(&r, len);
	int e = dec_tls_client_hello(body, len, 'q', out);
	*err = (e == TLS_OK || e == TLS_ERR_EXT_DUP || e == TLS_ERR_TRAILING) ? QUIC_OK : QUIC_ERR_TLS;
	return 1;
}

/* Walks the decrypted frames, adding CRYPTO data to b. */
static int frames(struct rd *r, struct crypto_buf *b)
{
	/* Each frame takes at least one byte, so the walk is bounded by the packet;
	 * QUIC_MAX_FRAMES bounds the frames that cost more than their byte (ACK ranges,
	 * CRYPTO copies), not the PADDING and PING bytes clients scatter between them. */
	for (int n = 0; rd_left(r) && n < QUIC_MAX_FRAMES;) {
		uint64_t type = rd_varint(r);
		if (type > 0x01)
			n++;
		switch (type) {
		case 0x00: /* PADDING */
		case 0x01: /* PING */
			break;
		case 0x02:
		case 0x03: { /* ACK: largest, delay, range count, first range, ranges, [ECN] */
			rd_varint(r);
			rd_varint(r);
			uint64_t cnt = rd_varint(r);
			rd_varint(r);
			if (cnt > QUIC_MAX_FRAMES)
				return QUIC_ERR_FRAME;
			for (uint64_t i = 0; i < cnt && !r->err; i++) {
				rd_varint(r);
				rd_varint(r);
			}
			if (type == 0x03) {
				rd_varint(r);
				rd_varint(r);
				rd_varint(r);
			}
			break;
		}
		case 0x06: { /* CRYPTO: offset, length, data */
			uint64_t off = rd_varint(r), len = rd_varint(r);
			if (r->err || len > rd_left(r))
				return QUIC_ERR_FRAME;
			const uint8_t *d = rd_ptr(r, (size_t)len);
			crypto_add(b, off, d, (size_t)len);
			break;
		}
		case 0x1c: /* CONNECTION_CLOSE: the client gives up; nothing to parse */
			return QUIC_ERR_FRAME;
		default: /* RFC 9000 12.4: nothing else may appear in an Initial */
			return QUIC_ERR_FRAME;
		}
		if (r->err)
			return QUIC_ERR_FRAME;
	}
	return QUIC_OK;
}

int dec_quic_initial_bytes(const uint8_t *d, size_t len, const void *key, size_t keylen,
			   struct tls_hello *out)
{
	struct rd r = rd_init(d, len);
	uint8_t b0 = rd_u8(&r);
	uint32_t ver = rd_be32(&r);
	if (r.err)
		return QUIC_ERR_SHORT;
	if (!(b0 & 0x80) || ver == 0)
		return QUIC_ERR_NOT_INITIAL; /* short header, or version negotiation */
	const struct qver *v = NULL;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(versions); i++)
		if (versions[i].version == ver)
			v = &versions[i];
	if (!v)
		return QUIC_ERR_VERSION;
	if (((b0 >> 4) & 3) != v->initial_type)
		return QUIC_ERR_NOT_INITIAL;
	uint8_t dcil = rd_u8(&r);
	if (dcil > QUIC_MAX_CID)
		return QUIC_ERR_SHORT;
	const uint8_t *dcid = rd_ptr(&r, dcil);
	uint8_t scil = rd_u8(&r);
	if (scil > QUIC_MAX_CID)
		return QUIC_ERR_SHORT;
	rd_skip(&r, scil);
	uint64_t tok = rd_varint(&r);
	if (tok > rd_left(&r))
		return QUIC_ERR_SHORT;
	rd_skip(&r, (size_t)tok);
	uint64_t plen = rd_varint(&r);
	if (r.err)
		return QUIC_ERR_SHORT;
	size_t pn_off = rd_off(&r);
	/* The packet number (1-4 bytes) plus the 16-byte sample taken 4 bytes after its
	 * start (RFC 9001 5.4.2), and the AEAD tag, must fit. */
	if (plen > rd_left(&r) || plen < 4 + 16)
		return QUIC_ERR_SHORT;
	size_t total = pn_off + (size_t)plen;
	if (buffers() < 0 || total > 65536)
		return QUIC_ERR_SHORT;

	struct keys k;
	if (initial_keys(v, dcid ? dcid : (const uint8_t *)"", dcil, &k) < 0)
		return QUIC_ERR_DECRYPT;
	struct rd c = rd_init(d, len);
	rd_bytes(&c, pkt_buf, total);
	uint8_t mask[16];
	if (aes_ecb_block(k.hp, pkt_buf + pn_off + 4, mask) < 0)
		return QUIC_ERR_DECRYPT;
	pkt_buf[0] ^= mask[0] & 0x0f;
	size_t pnl = (size_t)(pkt_buf[0] & 3) + 1;
	uint64_t pn = 0;
	for (size_t i = 0; i < pnl; i++) {
		pkt_buf[pn_off + i] ^= mask[1 + i];
		pn = pn << 8 | pkt_buf[pn_off + i];
	}
	uint8_t nonce[12];
	memcpy(nonce, k.iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	size_t hdr = pn_off + pnl;
	size_t ctlen = total - hdr - 16;
	if (gcm_open(&k, nonce, pkt_buf, hdr, pkt_buf + hdr, ctlen, pkt_buf + total - 16, pt_buf) < 0)
		return QUIC_ERR_DECRYPT;

	/* Which connection: the sender and the DCID its Initials share. */
	uint8_t idb[64 + QUIC_MAX_CID];
	size_t idn = keylen > 64 ? 64 : keylen;
	if (idn)
		memcpy(idb, key, idn);
	if (dcil)
		memcpy(idb + idn, dcid, dcil);
	uint64_t id = util_hash64(idb, idn + dcil, 0x71756963ull) | 1;

	struct crypto_buf *b = NULL;
	for (int i = 0; i < QUIC_PENDING_MAX; i++)
		if (pending[i].id == id)
			b = &pending[i];
	if (!b) {
		b = scratch;
		memset(b->have, 0, sizeof(b->have));
		b->id = id;
	}
	struct rd f = rd_init(pt_buf, ctlen);
	int fe = frames(&f, b);
	int err = QUIC_ERR_INCOMPLETE;
	if (crypto_try(b, out, &err)) {
		if (b != scratch)
			b->id = 0; /* done: free the slot */
		return err;
	}
	if (fe != QUIC_OK) {
		if (b != scratch)
			b->id = 0;
		return fe;
	}
	if (b == scratch) {
		/* Keep it for the next Initial: replace the least recently used slot. */
		int victim = 0;
		for (int i = 0; i < QUIC_PENDING_MAX; i++) {
			if (!pending[i].id) {
				victim = i;
				break;
			}
			if (pending[i].used < pending[victim].used)
				victim = i;
		}
		memcpy(&pending[victim], scratch, sizeof(*scratch));
		b = &pending[victim];
	}
	b->used = ++pending_tick;
	return QUIC_ERR_INCOMPLETE;
}

int dec_quic_initial(const struct pkt *p, struct tls_hello *out)
{
	if (!(p->flags & PKT_F_UDP) || !p->payload)
		return QUIC_ERR_SHORT;
	/* RFC 9000 14.1: a client pads every datagram carrying an Initial to 1200 bytes.
	 * Shorter ones are not client Initials: refused before any cryptography. */
	if (p->payload_len < QUIC_MIN_CLIENT_DGRAM)
		return QUIC_ERR_NOT_INITIAL;
	uint8_t key[18];
	memcpy(key, p->src.a, 16);
	key[16] = (uint8_t)(p->sport >> 8);
	key[17] = (uint8_t)p->sport;
	return dec_quic_initial_bytes(p->payload, p->payload_len, key, sizeof(key), out);
}
