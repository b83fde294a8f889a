/* tls.c - TLS records, handshake reassembly, hellos and their fingerprints
 * (RFC 5246, RFC 8446, RFC 6101, RFC 6066, RFC 7301, RFC 7507, RFC 8701; JA3 by
 * Salesforce, JA4/JA4S by FoxIO).
 *
 * Every byte is read through the cursor of reader.h; each length prefix becomes a
 * sub-reader so an inner list cannot read past its declared length (STYLE 5-7).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "tls.h"
#include "util.h"
#include "x509.h"

static const char *const tls_errs[TLS_ERR_MAX] = {
	[TLS_OK] = "ok",
	[TLS_ERR_SHORT] = "field runs past its length",
	[TLS_ERR_TRAILING] = "bytes left after the last field",
	[TLS_ERR_RECORD_LEN] = "record length 0 or above 18432",
	[TLS_ERR_HS_LEN] = "handshake message above 64 KiB",
	[TLS_ERR_NOT_TLS] = "not a TLS handshake",
	[TLS_ERR_VERSION] = "version outside SSL 3.0 .. TLS 1.3",
	[TLS_ERR_EXT_DUP] = "extension repeated",
	[TLS_ERR_EMPTY] = "list that must not be empty is empty",
	[TLS_ERR_CERT] = "certificate is not DER X.509",
};

const char *dec_tls_strerror(int e)
{
	if (e < 0 || e >= TLS_ERR_MAX)
		return "unknown";
	return tls_errs[e];
}

/* RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256 of
 * "HelloRetryRequest". */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

const char *dec_tls_version_str(uint16_t v, char out[12])
{
	switch (v) {
	case TLS_V_SSL2: return "SSLv2";
	case TLS_V_SSL3: return "SSLv3";
	case TLS_V_10: return "TLSv1.0";
	case TLS_V_11: return "TLSv1.1";
	case TLS_V_12: return "TLSv1.2";
	case TLS_V_13: return "TLSv1.3";
	default:
		snprintf(out, 12, "0x%04x", v);
		return out;
	}
}

const char *dec_tls_ja4_version(uint16_t v)
{
	switch (v) {
	case TLS_V_13: return "13";
	case TLS_V_12: return "12";
	case TLS_V_11: return "11";
	case TLS_V_10: return "10";
	case TLS_V_SSL3: return "s3";
	case TLS_V_SSL2: case 0x0200: return "s2";
	case 0x0100: return "s1";
	default: return "00";
	}
}

/* ---- lists ---- */

static void put16(uint16_t *arr, uint16_t *n, size_t cap, uint16_t v, uint32_t *trunc,
		  uint32_t bit)
{
	if (*n < cap)
		arr[(*n)++] = v;
	else
		*trunc |= bit;
}

/* A list of 16-bit values with a length prefix of lenbytes (1 or 2). Returns the
 * error of the list (odd length, empty when min_one). */
static int read_u16_list(struct rd *r, int lenbytes, bool min_one, uint16_t *arr, uint16_t *n,
			 size_t cap, uint32_t *trunc, uint32_t bit)
{
	size_t l = lenbytes == 1 ? rd_u8(r) : rd_be16(r);
	struct rd s = rd_sub(r, l);
	if (r->err)
		return TLS_ERR_SHORT;
	if (l % 2)
		return TLS_ERR_SHORT;
	if (min_one && l == 0)
		return TLS_ERR_EMPTY;
	while (rd_left(&s) >= 2)
		put16(arr, n, cap, rd_be16(&s), trunc, bit);
	return TLS_OK;
}

static int parse_sni(struct rd *x, struct tls_hello *h)
{
	size_t l = rd_be16(x);
	struct rd s = rd_sub(x, l);
	if (x->err)
		return TLS_ERR_SHORT;
	if (l == 0)
		return TLS_ERR_EMPTY;
	while (rd_left(&s) && !s.err) {
		uint8_t type = rd_u8(&s);
		size_t nl = rd_be16(&s);
		const uint8_t *name = rd_ptr(&s, nl);
		if (s.err)
			return TLS_ERR_SHORT;
		/* RFC 6066 3: at most one name per type; the first host_name counts. */
		if (type == 0 && !h->sni_len) {
			size_t keep = nl;
			if (keep > TLS_SNI_MAX) {
				keep = TLS_SNI_MAX;
				h->truncated |= TLS_TRUNC_SNI;
			}
			if (keep)
				memcpy(h->sni, name, keep);
			h->sni[keep] = '\0';
			h->sni_len = (uint16_t)keep;
		}
	}
	return TLS_OK;
}

static int parse_alpn(struct rd *x, struct tls_hello *h)
{
	size_t l = rd_be16(x);
	struct rd s = rd_sub(x, l);
	if (x->err)
		return TLS_ERR_SHORT;
	if (l == 0)
		return TLS_ERR_EMPTY;
	while (rd_left(&s) && !s.err) {
		size_t nl = rd_u8(&s);
		const uint8_t *name = rd_ptr(&s, nl);
		if (s.err)
			return TLS_ERR_SHORT;
		if (nl == 0)
			return TLS_ERR_EMPTY; /* RFC 7301 3.1: ProtocolName<1..2^8-1> */
		if (h->nalpn == TLS_MAX_ALPN) {
			h->truncated |= TLS_TRUNC_ALPN;
			continue;
		}
		size_t keep = nl > TLS_ALPN_MAX ? TLS_ALPN_MAX : nl;
		memcpy(h->alpn[h->nalpn], name, keep);
		h->alpn[h->nalpn][keep] = '\0';
		h->alpn_len[h->nalpn] = (uint8_t)keep;
		/* JA4 needs the last byte of the first name even when it is cut: keep the
		 * true last byte in the last slot (documented as "bytes kept"). */
		if (keep < nl) {
			h->alpn[h->nalpn][keep - 1] = (char)name[nl - 1];
			h->truncated |= TLS_TRUNC_ALPN;
		}
		h->nalpn++;
	}
	return TLS_OK;
}

/* Extensions of either hello. */
static int parse_exts(struct rd *r, struct tls_hello *h, bool server)
{
	if (!rd_left(r))
		return TLS_OK; /* SSL 3.0 and early TLS hellos end after compression */
	size_t l = rd_be16(r);
	struct rd e = rd_sub(r, l);
	if (r->err)
		return TLS_ERR_SHORT;
	if (rd_left(r))
		return TLS_ERR_TRAILING;
	int err = TLS_OK, dup = 0;
	while (rd_left(&e) && !e.err) {
		uint16_t type = rd_be16(&e);
		size_t xl = rd_be16(&e);
		struct rd x = rd_sub(&e, xl);
		if (e.err)
			return TLS_ERR_SHORT;
		for (uint16_t i = 0; i < h->nexts; i++)
			if (h->exts[i] == type)
				dup = 1;
		put16(h->exts, &h->nexts, TLS_MAX_EXTS, type, &h->truncated, TLS_TRUNC_EXTS);
		int xe = TLS_OK;
		bool exact = true; /* the body must hold exactly what we parse */
		switch (type) {
		case TLS_EXT_SNI:
			h->has_sni = true;
			if (!server) /* a server's SNI extension is empty (RFC 6066 3) */
				xe = parse_sni(&x, h);
			break;
		case TLS_EXT_ALPN:
			h->has_alpn = true;
			xe = parse_alpn(&x, h);
			break;
		case TLS_EXT_GROUPS:
			xe = read_u16_list(&x, 2, true, h->groups, &h->ngroups, TLS_MAX_GROUPS,
					   &h->truncated, TLS_TRUNC_GROUPS);
			break;
		case TLS_EXT_POINT_FMTS: {
			size_t pl = rd_u8(&x);
			struct rd p = rd_sub(&x, pl);
			if (x.err) {
				xe = TLS_ERR_SHORT;
				break;
			}
			while (rd_left(&p)) {
				uint8_t f = rd_u8(&p);
				if (h->npoint_fmts < TLS_MAX_POINT_FMTS)
					h->point_fmts[h->npoint_fmts++] = f;
				else
					h->truncated |= TLS_TRUNC_POINT_FMTS;
			}
			break;
		}
		case TLS_EXT_SIGALGS:
			xe = read_u16_list(&x, 2, true, h->sigalgs, &h->nsigalgs, TLS_MAX_SIGALGS,
					   &h->truncated, TLS_TRUNC_SIGALGS);
			break;
		case TLS_EXT_SUPPORTED_VERSIONS:
			h->has_supported_versions = true;
			if (server) {
				/* RFC 8446 4.2.1: the server sends the one version selected. */
				uint16_t v = rd_be16(&x);
				if (x.err)
					xe = TLS_ERR_SHORT;
				else
					put16(h->versions, &h->nversions, TLS_MAX_VERSIONS, v,
					      &h->truncated, TLS_TRUNC_VERSIONS);
			} else {
				xe = read_u16_list(&x, 1, true, h->versions, &h->nversions,
						   TLS_MAX_VERSIONS, &h->truncated, TLS_TRUNC_VERSIONS);
			}
			break;
		case TLS_EXT_SCT:
			h->has_sct_ext = true;
			exact = false;
			break;
		case TLS_EXT_ECH:
			h->has_ech = true;
			exact = false;
			break;
		default:
			exact = false;
			break;
		}
		/* Leftovers inside an extension we parse are malformed (each of these is a
		 * single length-prefixed list, or one value for the server). */
		if (xe == TLS_OK && x.err)
			xe = TLS_ERR_SHORT;
		if (xe == TLS_OK && exact && rd_left(&x))
			xe = TLS_ERR_TRAILING;
		if (xe != TLS_OK && err == TLS_OK)
			err = xe;
	}
	if (e.err)
		return TLS_ERR_SHORT;
	if (err == TLS_OK && dup)
		err = TLS_ERR_EXT_DUP;
	return err;
}

static void hello_init(struct tls_hello *h, enum tls_hello_kind kind, char proto)
{
	memset(h, 0, sizeof(*h));
	h->kind = (uint8_t)kind;
	h->proto = proto;
}

static bool legacy_version_ok(uint16_t v)
{
	return (v >> 8) == 3; /* SSL 3.0 .. TLS 1.2 (and later values frozen at 0x0303) */
}

int dec_tls_client_hello(const uint8_t *body, size_t len, char proto, struct tls_hello *h)
{
	struct rd r = rd_init(body, len);
	hello_init(h, TLS_HELLO_CLIENT, proto);
	h->legacy_version = rd_be16(&r);
	rd_bytes(&r, h->random, 32);
	size_t sl = rd_u8(&r);
	rd_skip(&r, sl);
	if (r.err)
		return TLS_ERR_SHORT;
	if (!legacy_version_ok(h->legacy_version))
		return TLS_ERR_VERSION;
	if (sl > 32)
		return TLS_ERR_SHORT; /* RFC 8446 4.1.2: opaque legacy_session_id<0..32> */
	h->session_id_len = (uint8_t)sl;
	size_t cl = rd_be16(&r);
	struct rd c = rd_sub(&r, cl);
	if (r.err)
		return TLS_ERR_SHORT;
	if (cl % 2)
		return TLS_ERR_SHORT;
	if (cl == 0)
		return TLS_ERR_EMPTY;
	while (rd_left(&c)) {
		uint16_t s = rd_be16(&c);
		if (s == TLS_CIPHER_FALLBACK_SCSV)
			h->fallback_scsv = true;
		else if (s == TLS_CIPHER_RENEG_SCSV)
			h->reneg_scsv = true;
		put16(h->ciphers, &h->nciphers, TLS_MAX_CIPHERS, s, &h->truncated, TLS_TRUNC_CIPHERS);
	}
	size_t ml = rd_u8(&r);
	rd_skip(&r, ml);
	if (r.err)
		return TLS_ERR_SHORT;
	if (ml == 0)
		return TLS_ERR_EMPTY;
	int err = parse_exts(&r, h, false);
	h->version = h->legacy_version;
	uint16_t best = 0;
	for (uint16_t i = 0; i < h->nversions; i++)
		if (!dec_tls_is_grease(h->versions[i]) && h->versions[i] > best)
			best = h->versions[i];
	/* Drafts (0x7fxx) and private values sort above 0x0304; the highest real one is
	 * what a client that offers them would negotiate with a current server. */
	if (best) {
		uint16_t real = 0;
		for (uint16_t i = 0; i < h->nversions; i++)
			if (h->versions[i] >= TLS_V_SSL3 && h->versions[i] <= TLS_V_13 &&
			    h->versions[i] > real)
				real = h->versions[i];
		h->version = real ? real : best;
	}
	dec_tls_fingerprint(h);
	return err;
}

int dec_tls_server_hello(const uint8_t *body, size_t len, char proto, struct tls_hello *h)
{
	struct rd r = rd_init(body, len);
	hello_init(h, TLS_HELLO_SERVER, proto);
	h->legacy_version = rd_be16(&r);
	rd_bytes(&r, h->random, 32);
	if ((h->legacy_version >> 8) == 0x7f && (h->legacy_version & 0xff) < 22) {
		/* TLS 1.3 drafts before -22: version, random, cipher_suite, extensions
		 * (no session id, no compression); the version is the one selected. */
		h->cipher = rd_be16(&r);
		if (r.err)
			return TLS_ERR_SHORT;
		int err = parse_exts(&r, h, true);
		h->version = h->legacy_version;
		dec_tls_fingerprint(h);
		return err;
	}
	size_t sl = rd_u8(&r);
	rd_skip(&r, sl);
	h->cipher = rd_be16(&r);
	h->compression = rd_u8(&r);
	if (r.err)
		return TLS_ERR_SHORT;
	if (!legacy_version_ok(h->legacy_version))
		return TLS_ERR_VERSION;
	if (sl > 32)
		return TLS_ERR_SHORT;
	h->session_id_len = (uint8_t)sl;
	if (memcmp(h->random, hrr_random, 32) == 0)
		h->kind = TLS_HELLO_RETRY;
	int err = parse_exts(&r, h, true);
	h->version = h->nversions ? h->versions[0] : h->legacy_version;
	dec_tls_fingerprint(h);
	return err;
}

/* RFC 5246 E.2 / RFC 6101 E: the SSLv2 CLIENT-HELLO, as sent by clients that speak
 * SSLv2 or want to reach SSLv2 servers while offering SSL 3.0 / TLS:
 *   uint8 msg_type (1); uint16 version; uint16 cipher_spec_length;
 *   uint16 session_id_length; uint16 challenge_length;
 *   V2CipherSpec cipher_specs[cipher_spec_length / 3]; session_id; challenge.
 * Cipher specs with a first byte of 0 are TLS suites (the low 16 bits). */
int dec_tls_sslv2_client_hello(const uint8_t *msg, size_t len, struct tls_hello *h)
{
	struct rd r = rd_init(msg, len);
	hello_init(h, TLS_HELLO_CLIENT, 't');
	h->sslv2 = true;
	uint8_t type = rd_u8(&r);
	h->legacy_version = rd_be16(&r);
	size_t csl = rd_be16(&r), sidl = rd_be16(&r), chl = rd_be16(&r);
	if (r.err)
		return TLS_ERR_SHORT;
	if (type != 1)
		return TLS_ERR_NOT_TLS;
	if (h->legacy_version != TLS_V_SSL2 && !legacy_version_ok(h->legacy_version))
		return TLS_ERR_VERSION;
	/* RFC 6101 E.2: specs come in 3 bytes; the session id is 0 or 16 bytes; the
	 * challenge 16 to 32. */
	if (csl == 0)
		return TLS_ERR_EMPTY;
	if (csl % 3 || (sidl != 0 && sidl != 16) || chl < 16 || chl > 32)
		return TLS_ERR_SHORT;
	struct rd c = rd_sub(&r, csl);
	rd_skip(&r, sidl);
	const uint8_t *chal = rd_ptr(&r, chl);
	if (r.err)
		return TLS_ERR_SHORT;
	h->session_id_len = (uint8_t)sidl;
	while (rd_left(&c)) {
		uint8_t k = rd_u8(&c);
		uint16_t s = rd_be16(&c);
		if (k != 0)
			continue; /* an SSLv2-only cipher kind */
		if (s == TLS_CIPHER_FALLBACK_SCSV)
			h->fallback_scsv = true;
		else if (s == TLS_CIPHER_RENEG_SCSV)
			h->reneg_scsv = true;
		put16(h->ciphers, &h->nciphers, TLS_MAX_CIPHERS, s, &h->truncated, TLS_TRUNC_CIPHERS);
	}
	/* The challenge, right-aligned in the 32-byte random (RFC 5246 E.2). */
	memcpy(h->random + 32 - chl, chal, chl);
	h->version = h->legacy_version;
	int err = rd_left(&r) ? TLS_ERR_TRAILING : TLS_OK;
	dec_tls_fingerprint(h);
	return err;
}

/* ---- fingerprints ---- */

static const char hx[] = "0123456789abcdef";

struct sb {
	char *p;
	size_t len, cap;
};

/* Decimal and 4-digit hex writers: the fingerprints format hundreds of numbers per
 * hello, and snprintf per number was most of the cost of a handshake. */
static void sb_dec(struct sb *b, unsigned v)
{
	char t[12];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (b->len + (size_t)n + 1 > b->cap)
		return;
	while (n)
		b->p[b->len++] = t[--n];
	b->p[b->len] = '\0';
}

static void sb_hex4(struct sb *b, unsigned v)
{
	if (b->len + 5 > b->cap)
		return;
	b->p[b->len++] = hx[(v >> 12) & 15];
	b->p[b->len++] = hx[(v >> 8) & 15];
	b->p[b->len++] = hx[(v >> 4) & 15];
	b->p[b->len++] = hx[v & 15];
	b->p[b->len] = '\0';
}

static void sb_putc(struct sb *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
}

/* Appends "v0-v1-..." in decimal (JA3's lists; the caller removed GREASE). */
static void sb_dec_list(struct sb *b, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(b, '-');
		sb_dec(b, v[i]);
	}
}

/* Shell sort (Ciura's gaps): no allocation (glibc's qsort mallocs a merge buffer) and
 * at most TLS_MAX_CIPHERS values, so a hostile list costs little more than a real one. */
static void sort_u16(uint16_t *v, size_t n)
{
	static const size_t gaps[] = { 301, 132, 57, 23, 10, 4, 1 };
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			uint16_t x = v[i];
			size_t j = i;
			while (j >= gap && v[j - gap] > x) {
				v[j] = v[j - gap];
				j -= gap;
			}
			v[j] = x;
		}
	}
}

static void hex12(const char *s, size_t n, char out[13])
{
	uint8_t md[32];
	dec_sha256(s, n, md);
	for (int i = 0; i < 6; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[12] = '\0';
}

static void md5hex(const char *s, size_t n, char out[33])
{
	uint8_t md[16];
	dec_md5(s, n, md);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[32] = '\0';
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* JA4 ALPN token: first and last characters of the first name; when either is not
 * alphanumeric, the first and last characters of its hex form (the FoxIO text). */
static void ja4_alpn(const struct tls_hello *h, char out[3])
{
	out[0] = out[1] = '0';
	out[2] = '\0';
	if (!h->nalpn || !h->alpn_len[0])
		return;
	uint8_t f = (uint8_t)h->alpn[0][0], l = (uint8_t)h->alpn[0][h->alpn_len[0] - 1];
	if (alnum(f) && alnum(l)) {
		out[0] = (char)f;
		out[1] = (char)l;
	} else {
		out[0] = hx[f >> 4];
		out[1] = hx[l & 15];
	}
}

/* The values of v without GREASE into out (capacity >= n); returns how many. */
static size_t strip_grease(const uint16_t *v, size_t n, uint16_t *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!dec_tls_is_grease(v[i]))
			out[k++] = v[i];
	return k;
}

/* Buffers big enough for the capped lists: 6 characters per value and separators. */
#define FP_BUF (16 + 6 * (TLS_MAX_CIPHERS + TLS_MAX_EXTS + TLS_MAX_GROUPS + TLS_MAX_SIGALGS + \
			  TLS_MAX_POINT_FMTS))

/* ---- fingerprint memo ----
 *
 * A fingerprint is a hash (MD5 for JA3, truncated SHA-256 for JA4) of a text built from
 * the hello's lists; building the text and hashing it is most of what a hello costs
 * (~25k instructions), while a network's hellos come from a handful of client and
 * server stacks. So each hashed part is remembered, per thread, under a binary key
 * that determines its text exactly: a kind byte, then every list as a 16-bit count
 * followed by its values, GREASE removed (the text skips GREASE too, and browsers draw
 * new GREASE values per connection). A hit compares the whole key, so a collision of
 * the index hash can only cost a recomputation, never give a wrong fingerprint; a key
 * longer than FP_MEMO_KEY_MAX (a hostile or very long list) is computed every time. */
#define FP_MEMO_SLOTS 128     /* direct-mapped, per thread */
#define FP_MEMO_KEY_MAX 192   /* bytes of key: 90 values; real hellos need about 80 */
#define FP_MEMO_SEED 0x6a61346d656d6fULL

enum fp_part { FP_JA3 = 1, FP_JA4_B, FP_JA4_C, FP_JA3S, FP_JA4S_EXT };

struct fp_key {
	size_t n;
	bool over;                      /* did not fit: no memo */
	uint64_t h;                     /* its hash, set by memo_get */
	uint8_t b[FP_MEMO_KEY_MAX];
};

struct fp_memo {
	uint64_t h;                     /* 0: empty */
	uint16_t klen;
	char out[33];                   /* the hex text */
	uint8_t key[FP_MEMO_KEY_MAX];
};

static _Thread_local struct fp_memo fp_memo[FP_MEMO_SLOTS];

static void key_init(struct fp_key *k, enum fp_part part)
{
	k->n = 1;
	k->over = false;
	k->b[0] = (uint8_t)part;
}

static void key_u16(struct fp_key *k, uint16_t v)
{
	if (k->n + 2 > sizeof(k->b)) {
		k->over = true;
		return;
	}
	k->b[k->n++] = (uint8_t)(v >> 8);
	k->b[k->n++] = (uint8_t)v;
}

static void key_list(struct fp_key *k, const uint16_t *v, size_t n)
{
	if (k->over || 2 + 2 * n > sizeof(k->b) - k->n) {
		k->over = true;
		return;
	}
	uint8_t *p = k->b + k->n;
	*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		*p++ = (uint8_t)(v[i] >> 8);
		*p++ = (uint8_t)v[i];
	}
	k->n += 2 + 2 * n;
}

/* The remembered text for k (copied to out, outlen bytes with the NUL) or false; then
 * *slot is where memo_put remembers it once computed (NULL: k cannot be remembered). */
static bool memo_get(struct fp_key *k, char *out, size_t outlen, struct fp_memo **slot)
{
	*slot = NULL;
	if (k->over)
		return false;
	k->h = util_hash64(k->b, k->n, FP_MEMO_SEED) | 1;
	struct fp_memo *e = &fp_memo[k->h % FP_MEMO_SLOTS];
	if (e->h == k->h && e->klen == k->n && memcmp(e->key, k->b, k->n) == 0) {
		memcpy(out, e->out, outlen);
		return true;
	}
	*slot = e;
	return false;
}

static void memo_put(struct fp_memo *slot, const struct fp_key *k, const char *out, size_t outlen)
{
	if (!slot)
		return;
	slot->h = k->h;
	slot->klen = (uint16_t)k->n;
	memcpy(slot->key, k->b, k->n);
	memcpy(slot->out, out, outlen);
}

/* Appends "xxxx,yyyy,..." (4-digit hex) of v[0..n). */
static void sb_hex_list(struct sb *b, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(b, ',');
		sb_hex4(b, v[i]);
	}
}

/* Two decimal digits of min(v, 99) (JA4's counts). */
static char *put_count(char *p, unsigned v)
{
	if (v > 99)
		v = 99;
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static void fp_client(struct tls_hello *h)
{
	char buf[FP_BUF];
	struct sb b = { buf, 0, sizeof(buf) };
	uint16_t c[TLS_MAX_CIPHERS], e[TLS_MAX_EXTS], g[TLS_MAX_GROUPS], sa[TLS_MAX_SIGALGS];
	size_t nc = strip_grease(h->ciphers, h->nciphers, c);
	size_t ne = strip_grease(h->exts, h->nexts, e);
	size_t ng = strip_grease(h->groups, h->ngroups, g);
	size_t ns = strip_grease(h->sigalgs, h->nsigalgs, sa);
	struct fp_key k;
	struct fp_memo *slot;

	/* JA3: SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats */
	key_init(&k, FP_JA3);
	key_u16(&k, h->legacy_version);
	key_list(&k, c, nc);
	key_list(&k, e, ne);
	key_list(&k, g, ng);
	key_u16(&k, h->npoint_fmts);
	for (uint16_t i = 0; i < h->npoint_fmts; i++)
		key_u16(&k, h->point_fmts[i]);
	if (!memo_get(&k, h->ja3, sizeof(h->ja3), &slot)) {
		buf[0] = '\0';
		sb_dec(&b, h->legacy_version);
		sb_putc(&b, ',');
		sb_dec_list(&b, c, nc);
		sb_putc(&b, ',');
		sb_dec_list(&b, e, ne);
		sb_putc(&b, ',');
		sb_dec_list(&b, g, ng);
		sb_putc(&b, ',');
		for (uint16_t i = 0; i < h->npoint_fmts; i++) {
			if (i)
				sb_putc(&b, '-');
			sb_dec(&b, h->point_fmts[i]);
		}
		md5hex(buf, b.len, h->ja3);
		memo_put(slot, &k, h->ja3, sizeof(h->ja3));
	}

	/* JA4_a: proto, version, SNI or not, cipher and extension counts, ALPN */
	char *p = h->ja4;
	*p++ = h->proto ? h->proto : 't';
	const char *v = dec_tls_ja4_version(h->version);
	*p++ = v[0];
	*p++ = v[1];
	*p++ = h->has_sni ? 'd' : 'i';
	p = put_count(p, (unsigned)nc);
	p = put_count(p, (unsigned)ne);
	ja4_alpn(h, p);
	p += 2;
	*p++ = '_';

	/* JA4_b: the sorted cipher list. Remembered under the list as sent (clients keep
	 * their cipher order), so a hit skips the sort too. */
	memcpy(p, "000000000000", 13);
	if (nc) {
		key_init(&k, FP_JA4_B);
		key_list(&k, c, nc);
		if (!memo_get(&k, p, 13, &slot)) {
			sort_u16(c, nc);
			b.len = 0;
			buf[0] = '\0';
			sb_hex_list(&b, c, nc);
			hex12(buf, b.len, p);
			memo_put(slot, &k, p, 13);
		}
	}
	p += 12;
	*p++ = '_';

	/* JA4_c: sorted extensions without SNI and ALPN, '_', signature algorithms in
	 * order (no hash, "000000000000", without such extensions) */
	size_t n = 0;
	for (size_t i = 0; i < ne; i++)
		if (e[i] != TLS_EXT_SNI && e[i] != TLS_EXT_ALPN)
			e[n++] = e[i];
	sort_u16(e, n);
	memcpy(p, "000000000000", 13);
	if (n) {
		key_init(&k, FP_JA4_C);
		key_list(&k, e, n);
		key_list(&k, sa, ns);
		if (!memo_get(&k, p, 13, &slot)) {
			b.len = 0;
			buf[0] = '\0';
			sb_hex_list(&b, e, n);
			if (ns) {
				sb_putc(&b, '_');
				sb_hex_list(&b, sa, ns);
			}
			hex12(buf, b.len, p);
			memo_put(slot, &k, p, 13);
		}
	}
}

static void fp_server(struct tls_hello *h)
{
	char buf[FP_BUF];
	struct sb b = { buf, 0, sizeof(buf) };
	uint16_t e[TLS_MAX_EXTS];
	size_t ne = strip_grease(h->exts, h->nexts, e);
	struct fp_key k;
	struct fp_memo *slot;

	/* JA3S: SSLVersion,Cipher,Extensions */
	key_init(&k, FP_JA3S);
	key_u16(&k, h->legacy_version);
	key_u16(&k, h->cipher);
	key_list(&k, e, ne);
	if (!memo_get(&k, h->ja3, sizeof(h->ja3), &slot)) {
		buf[0] = '\0';
		sb_dec(&b, h->legacy_version);
		sb_putc(&b, ',');
		sb_dec(&b, h->cipher);
		sb_putc(&b, ',');
		sb_dec_list(&b, e, ne);
		md5hex(buf, b.len, h->ja3);
		memo_put(slot, &k, h->ja3, sizeof(h->ja3));
	}

	/* JA4S: proto, version, extension count, ALPN chosen _ cipher _ extensions in order */
	char *p = h->ja4;
	*p++ = h->proto ? h->proto : 't';
	const char *v = dec_tls_ja4_version(h->version);
	*p++ = v[0];
	*p++ = v[1];
	p = put_count(p, (unsigned)ne);
	ja4_alpn(h, p);
	p += 2;
	*p++ = '_';
	for (int sh = 12; sh >= 0; sh -= 4)
		*p++ = hx[(h->cipher >> sh) & 15];
	*p++ = '_';
	memcpy(p, "000000000000", 13);
	if (ne) {
		key_init(&k, FP_JA4S_EXT);
		key_list(&k, e, ne);
		if (!memo_get(&k, p, 13, &slot)) {
			b.len = 0;
			buf[0] = '\0';
			sb_hex_list(&b, e, ne);
			hex12(buf, b.len, p);
			memo_put(slot, &k, p, 13);
		}
	}
}

void dec_tls_fingerprint(struct tls_hello *h)
{
	if (h->kind == TLS_HELLO_CLIENT)
		fp_client(h);
	else
		fp_server(h);
}

/* ---- record layer ---- */

int dec_tls_sniff(const uint8_t *data, size_t len)
{
	struct rd r = rd_init(data, len);
	uint8_t b0, b1, b2;
	if (!rd_peek_u8(&r, 0, &b0))
		return -1;
	if (b0 == TLS_CT_HANDSHAKE || b0 == TLS_CT_ALERT) {
		if (!rd_peek_u8(&r, 1, &b1))
			return -1;
		if (b1 != 3)
			return 0;
		if (!rd_peek_u8(&r, 2, &b2))
			return -1;
		if (b2 > 4)
			return 0;
		uint8_t t;
		if (!rd_peek_u8(&r, 5, &t))
			return -1;
		if (b0 == TLS_CT_HANDSHAKE)
			return t == TLS_HS_CLIENT_HELLO || t == TLS_HS_SERVER_HELLO;
		/* A server may open with a warning alert (e.g. unrecognized_name, RFC 6066
		 * 3) before its ServerHello: a 2-byte alert record. */
		uint16_t l;
		if (!rd_peek_be16(&r, 3, &l))
			return -1;
		return l == 2 && (t == 1 || t == 2);
	}
	if (b0 & 0x80) {
		/* SSLv2 2-byte header: length, then msg type 1 (client) or 4 (server). */
		uint16_t hdr;
		if (!rd_peek_be16(&r, 0, &hdr) || !rd_peek_u8(&r, 2, &b2))
			return -1;
		if ((hdr & 0x7fff) < 9)
			return 0;
		if (b2 != 1 && b2 != 4)
			return 0;
		if (!rd_peek_u8(&r, 3, &b1))
			return -1;
		return b1 == 0 || b1 == 3; /* version 0x0002 or 0x03xx */
	}
	return 0;
}

void dec_tls_dir_free(struct tls_dir *d)
{
	free(d->hs);
	d->hs = NULL;
	d->hs_len = d->hs_cap = 0;
}

static void dir_error(struct tls_dir *d, int err, size_t off)
{
	d->stop = TLS_STOP_ERROR;
	d->err = err;
	d->err_off = off;
	dec_tls_dir_free(d);
}

/* Walks the complete messages of a handshake byte run m; returns how many bytes were
 * consumed, or SIZE_MAX when the direction stopped. */
static size_t hs_messages(struct tls_dir *d, const uint8_t *m, size_t len, uint16_t recv,
			  size_t stream_off, tls_msg_fn fn, void *ud)
{
	struct rd r = rd_init(m, len);
	while (rd_left(&r) >= 4) {
		size_t start = rd_off(&r);
		uint8_t type = rd_u8(&r);
		uint32_t ml = rd_be24(&r);
		if (ml > TLS_HS_MAX) {
			dir_error(d, TLS_ERR_HS_LEN, stream_off);
			return SIZE_MAX;
		}
		if (ml > rd_left(&r)) {
			rd_seek(&r, start);
			break;
		}
		const uint8_t *body = rd_ptr(&r, ml);
		if (fn(ud, type, body, ml, recv)) {
			d->stop = TLS_STOP_CALLBACK;
			dec_tls_dir_free(d);
			return SIZE_MAX;
		}
	}
	return rd_off(&r);
}

static int hs_reserve(struct tls_dir *d, size_t need, size_t stream_off)
{
	if (need <= d->hs_cap)
		return 0;
	size_t cap = d->hs_cap ? d->hs_cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > TLS_HS_MAX + 4)
		cap = TLS_HS_MAX + 4;
	uint8_t *p = realloc(d->hs, cap);
	if (!p) {
		dir_error(d, TLS_ERR_HS_LEN, stream_off);
		return -1;
	}
	d->hs = p;
	d->hs_cap = cap;
	return 0;
}

/* Takes a handshake fragment: whole messages are handed on in place; a message cut by
 * the record boundary is gathered in d->hs (at most TLS_HS_MAX + 4 bytes, only what
 * that one message needs) until the following records complete it. */
static int hs_append(struct tls_dir *d, const uint8_t *frag, size_t n, uint16_t recv,
		     size_t stream_off, tls_msg_fn fn, void *ud)
{
	struct rd f = rd_init(frag, n);
	for (;;) {
		if (!d->hs_len) {
			size_t left = rd_left(&f);
			if (!left)
				break;
			struct rd peek = f;
			const uint8_t *p = rd_ptr(&peek, left);
			size_t used = hs_messages(d, p, left, recv, stream_off, fn, ud);
			if (used == SIZE_MAX)
				return -1;
			rd_skip(&f, used);
			size_t rest = rd_left(&f);
			if (!rest)
				break;
			/* An incomplete message (its length already checked against the cap,
			 * or fewer than 4 header bytes): keep it for the next records. */
			if (hs_reserve(d, rest, stream_off) < 0)
				return -1;
			rd_bytes(&f, d->hs, rest);
			d->hs_len = rest;
			break;
		}
		size_t want = 4;
		if (d->hs_len >= 4) {
			struct rd h = rd_init(d->hs, d->hs_len);
			rd_skip(&h, 1);
			uint32_t ml = rd_be24(&h);
			if (ml > TLS_HS_MAX) {
				dir_error(d, TLS_ERR_HS_LEN, stream_off);
				return -1;
			}
			want = 4 + (size_t)ml;
			if (d->hs_len == want) {
				if (hs_messages(d, d->hs, d->hs_len, recv, stream_off, fn, ud) == SIZE_MAX)
					return -1;
				d->hs_len = 0;
				continue;
			}
		}
		if (!rd_left(&f))
			break;
		size_t take = want - d->hs_len;
		if (take > rd_left(&f))
			take = rd_left(&f);
		if (hs_reserve(d, d->hs_len + take, stream_off) < 0)
			return -1;
		rd_bytes(&f, d->hs + d->hs_len, take);
		d->hs_len += take;
	}
	if (!d->hs_len)
		dec_tls_dir_free(d);
	return 0;
}

/* The first record of a direction in SSLv2 form (RFC 6101 E.1: 2-byte header with the
 * high bit set, no padding). Returns -1 to wait for more bytes, 0 handled. */
static int sslv2_record(struct tls_dir *d, struct rd *r, tls_msg_fn fn, void *ud)
{
	size_t start = rd_off(r);
	uint16_t hdr = rd_be16(r);
	size_t l = hdr & 0x7fff;
	if (r->err || l > rd_left(r)) {
		r->err = 0;
		rd_seek(r, start);
		return -1;
	}
	const uint8_t *msg = rd_ptr(r, l);
	d->rec_off = rd_off(r);
	d->records++;
	d->sslv2 = true;
	d->first_version = TLS_V_SSL2;
	unsigned type = msg[0] == 1 ? TLS_HS_SSL2_CLIENT_HELLO : TLS_HS_SSL2_SERVER_HELLO;
	if (fn(ud, type, msg, l, TLS_V_SSL2)) {
		d->stop = TLS_STOP_CALLBACK;
		return 0;
	}
	return 0;
}

int dec_tls_feed(struct tls_dir *d, const uint8_t *data, size_t len, tls_msg_fn fn, void *ud)
{
	if (d->stop)
		return TLS_FEED_STOP;
	struct rd r = rd_init(data, len);
	rd_seek(&r, d->rec_off);
	if (r.err)
		return TLS_FEED_MORE; /* the caller gave fewer bytes than before: wait */
	if (d->records == 0) {
		int s = dec_tls_sniff(data, len);
		if (s < 0)
			return TLS_FEED_MORE;
		if (s == 0) {
			dir_error(d, TLS_ERR_NOT_TLS, 0);
			return TLS_FEED_STOP;
		}
		uint8_t b0 = 0;
		rd_peek_u8(&r, 0, &b0);
		if (b0 & 0x80) {
			if (sslv2_record(d, &r, fn, ud) < 0)
				return TLS_FEED_MORE;
			if (d->stop)
				return TLS_FEED_STOP;
		}
	}
	while (!d->stop) {
		size_t start = rd_off(&r);
		uint8_t b0;
		if (!rd_peek_u8(&r, 0, &b0))
			break;
		if (b0 & 0x80) {
			/* SSLv2 after the first record: CLIENT-MASTER-KEY and what follows
			 * are not hellos and are encrypted soon after. */
			d->stop = TLS_STOP_ENCRYPTED;
			break;
		}
		if (rd_left(&r) < 5)
			break;
		uint8_t ct = rd_u8(&r);
		uint16_t ver = rd_be16(&r);
		size_t rl = rd_be16(&r);
		if (ct < TLS_CT_CCS || ct > 24 || (ver >> 8) != 3) {
			dir_error(d, d->records ? TLS_ERR_VERSION : TLS_ERR_NOT_TLS, start);
			break;
		}
		if (rl == 0 || rl > TLS_RECORD_MAX) {
			dir_error(d, TLS_ERR_RECORD_LEN, start);
			break;
		}
		if (rl > rd_left(&r)) {
			rd_seek(&r, start);
			break;
		}
		const uint8_t *frag = rd_ptr(&r, rl);
		d->rec_off = rd_off(&r);
		if (!d->records)
			d->first_version = ver;
		d->records++;
		switch (ct) {
		case TLS_CT_HANDSHAKE:
			hs_append(d, frag, rl, ver, start, fn, ud);
			break;
		case TLS_CT_ALERT:
			if (!d->alert_level) {
				d->alert_level = frag[0];
				d->alert_desc = rl > 1 ? frag[1] : 0;
			}
			/* A warning (level 1) in clear does not end the handshake (RFC 5246
			 * 7.2); anything else does. */
			if (frag[0] != 1 || rl != 2)
				d->stop = TLS_STOP_ALERT;
			break;
		case 24: /* heartbeat (RFC 6520): not part of the handshake */
			break;
		default: /* ChangeCipherSpec, application data: the rest is encrypted */
			d->stop = TLS_STOP_ENCRYPTED;
			break;
		}
	}
	if (d->stop)
		dec_tls_dir_free(d);
	return d->stop ? TLS_FEED_STOP : TLS_FEED_MORE;
}
