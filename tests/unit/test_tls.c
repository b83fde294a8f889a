/* test_tls.c - TLS record layer, handshake reassembly, hellos and fingerprints
 * (monitor/decode/tls.c) on hand-made and hostile bytes. */
#include "config.h"

#include <ctype.h>
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
#include "util.h"

/* ---- a byte builder with length prefixes patched afterwards ---- */

struct bb {
	uint8_t b[1 << 17];
	size_t n;
};

static void u8(struct bb *x, unsigned v) { x->b[x->n++] = (uint8_t)v; }
static void u16(struct bb *x, unsigned v) { u8(x, v >> 8); u8(x, v & 0xff); }
static void u24(struct bb *x, unsigned v) { u8(x, v >> 16); u16(x, v & 0xffff); }
static void raw(struct bb *x, const void *p, size_t n) { memcpy(x->b + x->n, p, n); x->n += n; }
/* Opens a length field of w bytes; returns its position for close_len. */
static size_t open_len(struct bb *x, int w) { size_t at = x->n; x->n += (size_t)w; return at; }
static void close_len(struct bb *x, size_t at, int w)
{
	size_t l = x->n - at - (size_t)w;
	for (int i = w - 1; i >= 0; i--, l >>= 8)
		x->b[at + (size_t)i] = (uint8_t)(l & 0xff);
}

/* ---- the JA4 example of the FoxIO specification as a real ClientHello ---- */

static const uint16_t spec_ciphers[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
					 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
static const uint16_t spec_exts[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
				      0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015 };
static const uint16_t spec_sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };

/* A ClientHello body (no handshake header) with the spec's lists, GREASE values in the
 * cipher list, the extension list, the groups and supported_versions. */
static void spec_hello(struct bb *x, bool grease)
{
	x->n = 0;
	u16(x, 0x0303);                      /* legacy_version TLS 1.2 */
	for (int i = 0; i < 32; i++)
		u8(x, (unsigned)i);          /* random */
	u8(x, 32);                           /* session id */
	for (int i = 0; i < 32; i++)
		u8(x, 0xaa);
	size_t cl = open_len(x, 2);          /* cipher_suites */
	if (grease)
		u16(x, 0x0a0a);
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(spec_ciphers); i++)
		u16(x, spec_ciphers[i]);
	close_len(x, cl, 2);
	u8(x, 1);
	u8(x, 0);                            /* compression: null */
	size_t el = open_len(x, 2);          /* extensions */
	if (grease) {
		u16(x, 0x2a2a);
		u16(x, 0);
	}
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(spec_exts); i++) {
		uint16_t t = spec_exts[i];
		u16(x, t);
		size_t xl = open_len(x, 2);
		switch (t) {
		case 0x0000: { /* server_name: host_name "example.com" */
			size_t ll = open_len(x, 2);
			u8(x, 0);
			u16(x, 11);
			raw(x, "example.com", 11);
			close_len(x, ll, 2);
			break;
		}
		case 0x0010: { /* ALPN: "h2", "http/1.1" */
			size_t ll = open_len(x, 2);
			u8(x, 2);
			raw(x, "h2", 2);
			u8(x, 8);
			raw(x, "http/1.1", 8);
			close_len(x, ll, 2);
			break;
		}
		case 0x000a: { /* supported_groups: GREASE, x25519, P-256 */
			size_t ll = open_len(x, 2);
			if (grease)
				u16(x, 0x3a3a);
			u16(x, 0x001d);
			u16(x, 0x0017);
			close_len(x, ll, 2);
			break;
		}
		case 0x000b: /* ec_point_formats: uncompressed */
			u8(x, 1);
			u8(x, 0);
			break;
		case 0x000d: { /* signature_algorithms */
			size_t ll = open_len(x, 2);
			for (size_t k = 0; k < ONPATH_ARRAY_LEN(spec_sigalgs); k++)
				u16(x, spec_sigalgs[k]);
			close_len(x, ll, 2);
			break;
		}
		case 0x002b: { /* supported_versions: GREASE, 1.3, 1.2 */
			size_t ll = open_len(x, 1);
			if (grease)
				u16(x, 0x4a4a);
			u16(x, 0x0304);
			u16(x, 0x0303);
			close_len(x, ll, 1);
			break;
		}
		default:
			break; /* empty body */
		}
		close_len(x, xl, 2);
	}
	close_len(x, el, 2);
}

static void test_client_hello_spec_example(void **state)
{
	(void)state;
	static struct bb x;
	struct tls_hello h;
	spec_hello(&x, true);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_int_equal(h.kind, TLS_HELLO_CLIENT);
	assert_int_equal(h.legacy_version, 0x0303);
	assert_int_equal(h.version, 0x0304);
	assert_int_equal(h.nciphers, 16); /* GREASE kept in the list */
	assert_int_equal(h.nexts, 17);
	assert_true(h.has_sni);
	assert_int_equal(h.sni_len, 11);
	assert_string_equal(h.sni, "example.com");
	assert_int_equal(h.nalpn, 2);
	assert_string_equal(h.alpn[1], "http/1.1");
	assert_int_equal(h.ngroups, 3);
	assert_int_equal(h.nsigalgs, 8);
	assert_int_equal(h.nversions, 3);
	assert_false(h.fallback_scsv);
	/* The worked example of the FoxIO JA4 specification. */
	assert_string_equal(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	/* JA3 over the same lists without GREASE (the string written out by hand). */
	const char *ja3s = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
			   "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23,0";
	uint8_t md[16];
	char hex[33];
	dec_md5(ja3s, strlen(ja3s), md);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(h.ja3, hex);
	/* Without GREASE the fingerprints do not move. */
	struct tls_hello g;
	spec_hello(&x, false);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &g), TLS_OK);
	assert_string_equal(g.ja4, h.ja4);
	assert_string_equal(g.ja3, h.ja3);
	/* QUIC: same hello, 'q'. */
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 'q', &g), TLS_OK);
	assert_string_equal(g.ja4, "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_client_hello_every_truncation_fails(void **state)
{
	(void)state;
	static struct bb x;
	struct tls_hello h;
	spec_hello(&x, true);
	for (size_t n = 0; n < x.n; n++) {
		int e = dec_tls_client_hello(x.b, n, 't', &h);
		/* A cut exactly after the compression methods is a hello without
		 * extensions (SSL 3.0 style): legal. Every other cut is an error. */
		if (e == TLS_OK)
			assert_int_equal(n, 2 + 32 + 1 + 32 + 2 + 32 + 2);
	}
	/* Trailing byte after the extensions. */
	x.b[x.n++] = 0;
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_TRAILING);
}

/* A minimal hello with one extension whose body the caller gives. */
static void small_hello(struct bb *x, uint16_t ext, const uint8_t *body, size_t bl, size_t body_len_field)
{
	x->n = 0;
	u16(x, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(x, 0);
	u8(x, 0);                 /* no session id */
	u16(x, 2);
	u16(x, 0x1301);
	u8(x, 1);
	u8(x, 0);
	size_t el = open_len(x, 2);
	u16(x, ext);
	u16(x, (unsigned)body_len_field);
	raw(x, body, bl);
	close_len(x, el, 2);
}

static void test_client_hello_hostile_lengths(void **state)
{
	(void)state;
	static struct bb x;
	struct tls_hello h;

	/* SNI list length past the extension body. */
	static const uint8_t sni_long[] = { 0x00, 0x40, 0x00, 0x00, 0x03, 'a', '.', 'b' };
	small_hello(&x, 0x0000, sni_long, sizeof(sni_long), sizeof(sni_long));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
	/* Name length past the list (nested lengths disagree). */
	static const uint8_t sni_name[] = { 0x00, 0x06, 0x00, 0xff, 0xff, 'a', '.', 'b' };
	small_hello(&x, 0x0000, sni_name, sizeof(sni_name), sizeof(sni_name));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
	/* Empty server_name_list. */
	static const uint8_t sni_empty[] = { 0x00, 0x00 };
	small_hello(&x, 0x0000, sni_empty, sizeof(sni_empty), sizeof(sni_empty));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_EMPTY);
	/* A zero-length ALPN protocol name. */
	static const uint8_t alpn_zero[] = { 0x00, 0x01, 0x00 };
	small_hello(&x, 0x0010, alpn_zero, sizeof(alpn_zero), sizeof(alpn_zero));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_EMPTY);
	/* Odd-length groups list. */
	static const uint8_t groups_odd[] = { 0x00, 0x03, 0x00, 0x1d, 0x00 };
	small_hello(&x, 0x000a, groups_odd, sizeof(groups_odd), sizeof(groups_odd));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
	/* Bytes left inside supported_versions after its list. */
	static const uint8_t sv_trail[] = { 0x02, 0x03, 0x04, 0xee };
	small_hello(&x, 0x002b, sv_trail, sizeof(sv_trail), sizeof(sv_trail));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_TRAILING);
	/* An extension length past the extensions block. */
	static const uint8_t any[] = { 0x01 };
	small_hello(&x, 0x1234, any, sizeof(any), 0xffff);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
	/* A zero-length extension we do not parse is fine. */
	small_hello(&x, 0x1234, any, 0, 0);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_OK);
	/* The same extension twice. */
	size_t el = 2 + 32 + 1 + 2 + 2 + 1 + 1;
	x.n = el;
	size_t at = open_len(&x, 2);
	u16(&x, 0x0017); u16(&x, 0);
	u16(&x, 0x0017); u16(&x, 0);
	close_len(&x, at, 2);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_EXT_DUP);
	assert_int_equal(h.nexts, 2);
	assert_true(h.ja4[0] != '\0'); /* a soft error: the hello is still described */

	/* Header-level failures. */
	x.n = 0;
	u16(&x, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&x, 0);
	u8(&x, 33); /* session id longer than 32 */
	for (int i = 0; i < 33; i++)
		u8(&x, 0);
	u16(&x, 2); u16(&x, 0x002f); u8(&x, 1); u8(&x, 0);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
	x.b[34] = 0; /* session id 0: the 33 zero bytes now read as lengths */
	assert_int_not_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_OK);
	/* Empty cipher list, odd cipher list, no compression method. */
	x.n = 0;
	u16(&x, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&x, 0);
	u8(&x, 0);
	u16(&x, 0); u8(&x, 1); u8(&x, 0);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_EMPTY);
	x.b[36] = 3;
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
	x.n = 35;
	u16(&x, 2); u16(&x, 0x002f); u8(&x, 0);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_EMPTY);
	/* A version that is no SSL/TLS. */
	x.b[0] = 0x7f;
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_ERR_VERSION);
	/* Zero bytes. */
	assert_int_equal(dec_tls_client_hello(NULL, 0, 't', &h), TLS_ERR_SHORT);
}

static void test_client_hello_caps_and_scsv(void **state)
{
	(void)state;
	static struct bb x;
	struct tls_hello h;
	/* 1000 cipher suites (more than TLS_MAX_CIPHERS), the fallback SCSV last. */
	x.n = 0;
	u16(&x, 0x0301);
	for (int i = 0; i < 32; i++)
		u8(&x, 0);
	u8(&x, 0);
	size_t cl = open_len(&x, 2);
	for (int i = 0; i < 999; i++)
		u16(&x, 0x0100 + (unsigned)i);
	u16(&x, TLS_CIPHER_FALLBACK_SCSV);
	close_len(&x, cl, 2);
	u8(&x, 1);
	u8(&x, 0);
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_int_equal(h.nciphers, TLS_MAX_CIPHERS);
	assert_true(h.truncated & TLS_TRUNC_CIPHERS);
	assert_true(h.fallback_scsv); /* seen even past the cap */
	assert_int_equal(h.version, 0x0301);
	assert_memory_equal(h.ja4, "t10i990000_", 11);
}

static void test_server_hello(void **state)
{
	(void)state;
	static struct bb x;
	struct tls_hello h;
	/* TLS 1.3 ServerHello: legacy 1.2, supported_versions 1.3, key_share. */
	x.n = 0;
	u16(&x, 0x0303);
	for (int i = 0; i < 24; i++)
		u8(&x, 0x11);
	raw(&x, "DOWNGRD\x01", 8);  /* the RFC 8446 sentinel in the last 8 bytes */
	u8(&x, 0);
	u16(&x, 0x1301);
	u8(&x, 0);
	size_t el = open_len(&x, 2);
	u16(&x, 0x002b); u16(&x, 2); u16(&x, 0x0304);
	u16(&x, 0x0033); u16(&x, 4); u16(&x, 0x001d); u16(&x, 0);
	close_len(&x, el, 2);
	assert_int_equal(dec_tls_server_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_int_equal(h.kind, TLS_HELLO_SERVER);
	assert_int_equal(h.version, 0x0304);
	assert_int_equal(h.cipher, 0x1301);
	assert_memory_equal(h.random + 24, "DOWNGRD\x01", 8);
	/* JA4S: t, 13, 2 extensions, no ALPN _ cipher _ sha256("002b,0033")[:12] */
	assert_memory_equal(h.ja4, "t130200_1301_", 13);
	uint8_t md[32];
	char want[13];
	dec_sha256("002b,0033", 9, md);
	for (int i = 0; i < 6; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(h.ja4 + 13, want);
	assert_int_equal(strlen(h.ja3), 32);

	/* HelloRetryRequest: the special random. */
	static const uint8_t hrr[32] = { 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
					 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
					 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c };
	memcpy(x.b + 2, hrr, 32);
	assert_int_equal(dec_tls_server_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_int_equal(h.kind, TLS_HELLO_RETRY);

	/* Draft-18 format (no session id / compression). */
	x.n = 0;
	u16(&x, 0x7f12);
	for (int i = 0; i < 32; i++)
		u8(&x, 0);
	u16(&x, 0x1301);
	el = open_len(&x, 2);
	u16(&x, 0x0033); u16(&x, 0);
	close_len(&x, el, 2);
	assert_int_equal(dec_tls_server_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_int_equal(h.version, 0x7f12);
	assert_int_equal(h.cipher, 0x1301);

	/* TLS 1.2 ServerHello with ALPN and every truncation. */
	x.n = 0;
	u16(&x, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&x, 0);
	u8(&x, 0);
	u16(&x, 0xc02f);
	u8(&x, 0);
	el = open_len(&x, 2);
	u16(&x, 0xff01); u16(&x, 1); u8(&x, 0);
	u16(&x, 0x0010); u16(&x, 5); u16(&x, 3); u8(&x, 2); raw(&x, "h2", 2);
	close_len(&x, el, 2);
	assert_int_equal(dec_tls_server_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_int_equal(h.version, 0x0303);
	assert_int_equal(h.nalpn, 1);
	assert_memory_equal(h.ja4, "t1202h2_c02f_", 13);
	for (size_t n = 0; n < x.n; n++)
		if (n != 2 + 32 + 1 + 2 + 1) /* a hello without extensions is legal */
			assert_int_not_equal(dec_tls_server_hello(x.b, n, 't', &h), TLS_OK);
	/* A server supported_versions of the wrong size. */
	x.b[2 + 32 + 1 + 2 + 1 + 2] = 0x00; /* first extension type 0x002b */
	x.b[2 + 32 + 1 + 2 + 1 + 3] = 0x2b;
	assert_int_equal(dec_tls_server_hello(x.b, x.n, 't', &h), TLS_ERR_SHORT);
}

/* An SSLv2-format CLIENT-HELLO (the message after the 2-byte record header), as sent
 * by clients offering SSL 3.0 to servers that might only speak SSLv2. */
static const uint8_t v2_hello[] = {
	0x01, 0x03, 0x00,             /* CLIENT-HELLO, version 3.0 */
	0x00, 0x0f, 0x00, 0x00, 0x00, 0x10, /* specs 15 (5 specs), session id 0, challenge 16 */
	0x00, 0x00, 0x04,             /* TLS_RSA_WITH_RC4_128_MD5 */
	0x01, 0x00, 0x80,             /* SSL_CK_RC4_128_WITH_MD5 (SSLv2 only) */
	0x00, 0x00, 0x05,             /* TLS_RSA_WITH_RC4_128_SHA */
	0x00, 0x56, 0x00,             /* TLS_FALLBACK_SCSV */
	0x00, 0x00, 0xff,             /* renegotiation SCSV */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

static void test_sslv2_client_hello(void **state)
{
	(void)state;
	struct tls_hello h;
	assert_int_equal(dec_tls_sslv2_client_hello(v2_hello, sizeof(v2_hello), &h), TLS_OK);
	assert_true(h.sslv2);
	assert_int_equal(h.legacy_version, 0x0300);
	assert_int_equal(h.nciphers, 4);
	assert_int_equal(h.ciphers[0], 0x0004);
	assert_int_equal(h.ciphers[1], 0x0005);
	assert_true(h.fallback_scsv);
	assert_true(h.reneg_scsv);
	assert_int_equal(h.random[16], 0x00);
	assert_int_equal(h.random[31], 0x0f);
	assert_memory_equal(h.ja4, "ts3i040000_", 11);
	for (size_t n = 0; n < sizeof(v2_hello); n++)
		assert_int_not_equal(dec_tls_sslv2_client_hello(v2_hello, n, &h), TLS_OK);
	uint8_t bad[sizeof(v2_hello)];
	memcpy(bad, v2_hello, sizeof(bad));
	bad[4] = 0x0e; /* specs not a multiple of 3 */
	assert_int_not_equal(dec_tls_sslv2_client_hello(bad, sizeof(bad), &h), TLS_OK);
	memcpy(bad, v2_hello, sizeof(bad));
	bad[0] = 2; /* not a CLIENT-HELLO */
	assert_int_equal(dec_tls_sslv2_client_hello(bad, sizeof(bad), &h), TLS_ERR_NOT_TLS);
}

/* ---- the record layer ---- */

struct seen {
	int n;
	unsigned type[16];
	size_t len[16];
	struct tls_hello h;
	int herr;
	int stop_after;
};

static int on_msg(void *ud, unsigned type, const uint8_t *body, size_t len, uint16_t rv)
{
	struct seen *s = ud;
	(void)rv;
	if (s->n < 16) {
		s->type[s->n] = type;
		s->len[s->n] = len;
	}
	s->n++;
	if (type == TLS_HS_CLIENT_HELLO)
		s->herr = dec_tls_client_hello(body, len, 't', &s->h);
	return s->stop_after && s->n >= s->stop_after;
}

/* Wraps handshake bytes hs into records of at most frag bytes each. */
static void records(struct bb *out, const uint8_t *hs, size_t n, size_t frag, uint8_t ct)
{
	out->n = 0;
	for (size_t o = 0; o < n; o += frag) {
		size_t l = n - o < frag ? n - o : frag;
		u8(out, ct);
		u16(out, 0x0301);
		u16(out, (unsigned)l);
		raw(out, hs + o, l);
	}
}

static void test_feed_across_records_and_segments(void **state)
{
	(void)state;
	static struct bb body, hs, rec;
	spec_hello(&body, true);
	hs.n = 0;
	u8(&hs, TLS_HS_CLIENT_HELLO);
	u24(&hs, (unsigned)body.n);
	raw(&hs, body.b, body.n);
	/* The hello cut into 7-byte records (handshake header split too), then fed
	 * one more byte at a time as TCP would deliver it. */
	records(&rec, hs.b, hs.n, 7, TLS_CT_HANDSHAKE);
	struct tls_dir d;
	memset(&d, 0, sizeof(d));
	struct seen s;
	memset(&s, 0, sizeof(s));
	for (size_t n = 1; n <= rec.n; n++)
		assert_int_equal(dec_tls_feed(&d, rec.b, n, on_msg, &s), TLS_FEED_MORE);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.type[0], TLS_HS_CLIENT_HELLO);
	assert_int_equal(s.herr, TLS_OK);
	assert_string_equal(s.h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	assert_null(d.hs); /* nothing pending: buffer released */
	/* Then a ChangeCipherSpec: the direction stops. */
	rec.b[rec.n++] = TLS_CT_CCS;
	rec.b[rec.n++] = 3; rec.b[rec.n++] = 3; rec.b[rec.n++] = 0; rec.b[rec.n++] = 1; rec.b[rec.n++] = 1;
	assert_int_equal(dec_tls_feed(&d, rec.b, rec.n, on_msg, &s), TLS_FEED_STOP);
	assert_int_equal(d.stop, TLS_STOP_ENCRYPTED);
	dec_tls_dir_free(&d);

	/* Two messages in one record, the second split into the next record. */
	static struct bb two;
	two.n = 0;
	raw(&two, hs.b, hs.n);
	u8(&two, TLS_HS_SERVER_HELLO_DONE);
	u24(&two, 0);
	u8(&two, 99); /* an unknown type, 3 bytes of body */
	u24(&two, 3);
	u8(&two, 1); u8(&two, 2); u8(&two, 3);
	records(&rec, two.b, two.n, hs.n + 6, TLS_CT_HANDSHAKE);
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	assert_int_equal(dec_tls_feed(&d, rec.b, rec.n, on_msg, &s), TLS_FEED_MORE);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.type[1], TLS_HS_SERVER_HELLO_DONE);
	assert_int_equal(s.type[2], 99);
	assert_int_equal(s.len[2], 3);
	dec_tls_dir_free(&d);

	/* The callback asks to stop. */
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(dec_tls_feed(&d, rec.b, rec.n, on_msg, &s), TLS_FEED_STOP);
	assert_int_equal(d.stop, TLS_STOP_CALLBACK);
	assert_int_equal(s.n, 1);
	dec_tls_dir_free(&d);
}

static void feed_expect_error(const uint8_t *p, size_t n, int err)
{
	struct tls_dir d;
	struct seen s;
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	assert_int_equal(dec_tls_feed(&d, p, n, on_msg, &s), TLS_FEED_STOP);
	assert_int_equal(d.stop, TLS_STOP_ERROR);
	assert_int_equal(d.err, err);
	assert_null(d.hs);
	dec_tls_dir_free(&d);
}

static void test_feed_hostile_records(void **state)
{
	(void)state;
	/* Not TLS at all. */
	static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";
	feed_expect_error(http, sizeof(http) - 1, TLS_ERR_NOT_TLS);
	assert_int_equal(dec_tls_sniff(http, sizeof(http) - 1), 0);
	/* A handshake record of length 0. */
	static const uint8_t zero[] = { 0x16, 0x03, 0x01, 0x00, 0x00, 0x01 };
	assert_int_equal(dec_tls_sniff(zero, sizeof(zero)), 1);
	feed_expect_error(zero, sizeof(zero), TLS_ERR_RECORD_LEN);
	/* A record longer than 2^14 + 2048. */
	static const uint8_t big[] = { 0x16, 0x03, 0x01, 0x48, 0x01, 0x01 };
	feed_expect_error(big, sizeof(big), TLS_ERR_RECORD_LEN);
	/* A handshake message claiming 16 MB. */
	static const uint8_t huge[] = { 0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff };
	feed_expect_error(huge, sizeof(huge), TLS_ERR_HS_LEN);
	/* A second record with a bad content type. */
	static const uint8_t badct[] = { 0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x10,
					 0x63, 0x03, 0x01, 0x00, 0x01, 0x00 };
	feed_expect_error(badct, sizeof(badct), TLS_ERR_VERSION);

	/* Pending handshake bytes past TLS_HS_MAX: many records of a message that never
	 * ends (its length says 65536, the cap). */
	static struct bb rec;
	static uint8_t hs[TLS_HS_MAX + 4 + 5000];
	memset(hs, 0x41, sizeof(hs));
	hs[0] = 1;
	hs[1] = 0x01; hs[2] = 0x00; hs[3] = 0x00; /* 65536: allowed, so it is gathered */
	records(&rec, hs, sizeof(hs), 16384, TLS_CT_HANDSHAKE);
	struct tls_dir d;
	struct seen s;
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	dec_tls_feed(&d, rec.b, rec.n, on_msg, &s);
	/* The message completes (65540 bytes) and the rest exceeds nothing: 1 message. */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], TLS_HS_MAX);
	dec_tls_dir_free(&d);
	hs[1] = 0x01; hs[2] = 0x00; hs[3] = 0x01; /* 65537: refused at once */
	feed_expect_error(rec.b, rec.n, TLS_ERR_HS_LEN);

	/* Short inputs ask for more. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(dec_tls_feed(&d, zero, 3, on_msg, &s), TLS_FEED_MORE);
	assert_int_equal(dec_tls_sniff(zero, 0), -1);
	/* A fatal alert stops; a warning does not. */
	static const uint8_t warn_then_hello[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70,
						   0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00 };
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	assert_int_equal(dec_tls_sniff(warn_then_hello, sizeof(warn_then_hello)), 1);
	assert_int_equal(dec_tls_feed(&d, warn_then_hello, sizeof(warn_then_hello), on_msg, &s), TLS_FEED_MORE);
	assert_int_equal(s.n, 1);
	assert_int_equal(d.alert_desc, 112);
	static const uint8_t fatal[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	memset(&d, 0, sizeof(d));
	assert_int_equal(dec_tls_feed(&d, fatal, sizeof(fatal), on_msg, &s), TLS_FEED_STOP);
	assert_int_equal(d.stop, TLS_STOP_ALERT);
	assert_int_equal(d.alert_desc, 40);
}

static void test_feed_sslv2_record(void **state)
{
	(void)state;
	static struct bb rec;
	rec.n = 0;
	u16(&rec, 0x8000 | (unsigned)sizeof(v2_hello));
	raw(&rec, v2_hello, sizeof(v2_hello));
	assert_int_equal(dec_tls_sniff(rec.b, rec.n), 1);
	struct tls_dir d;
	struct seen s;
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	/* Byte by byte: nothing before the record is complete. */
	for (size_t n = 1; n < rec.n; n++) {
		assert_int_equal(dec_tls_feed(&d, rec.b, n, on_msg, &s), TLS_FEED_MORE);
		assert_int_equal(s.n, 0);
	}
	assert_int_equal(dec_tls_feed(&d, rec.b, rec.n, on_msg, &s), TLS_FEED_MORE);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.type[0], TLS_HS_SSL2_CLIENT_HELLO);
	assert_true(d.sslv2);
	/* A second SSLv2 record (CLIENT-MASTER-KEY): the direction is done. */
	u16(&rec, 0x8003);
	u8(&rec, 2); u8(&rec, 0); u8(&rec, 0);
	assert_int_equal(dec_tls_feed(&d, rec.b, rec.n, on_msg, &s), TLS_FEED_STOP);
	dec_tls_dir_free(&d);
}

static void test_grease_and_versions(void **state)
{
	(void)state;
	assert_true(dec_tls_is_grease(0x0a0a));
	assert_true(dec_tls_is_grease(0xfafa));
	assert_false(dec_tls_is_grease(0x0a1a));
	assert_false(dec_tls_is_grease(0x1301));
	char b[12];
	assert_string_equal(dec_tls_version_str(0x0303, b), "TLSv1.2");
	assert_string_equal(dec_tls_version_str(0x7f1c, b), "0x7f1c");
	assert_string_equal(dec_tls_ja4_version(0x0300), "s3");
	assert_string_equal(dec_tls_ja4_version(0x7f1c), "00");
	assert_string_equal(dec_tls_strerror(TLS_ERR_HS_LEN), "handshake message above 64 KiB");
	assert_string_equal(dec_tls_strerror(-1), "unknown");
}

static void test_alpn_non_alnum_token(void **state)
{
	(void)state;
	static struct bb x;
	struct tls_hello h;
	/* ALPN first value 0xba 0xad: JA4 uses the first and last hex characters. */
	static const uint8_t alpn[] = { 0x00, 0x03, 0x02, 0xba, 0xad };
	small_hello(&x, 0x0010, alpn, sizeof(alpn), sizeof(alpn));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_memory_equal(h.ja4, "t12i0101bd_", 11);
	/* A single character counts as first and last. */
	static const uint8_t one[] = { 0x00, 0x02, 0x01, 'x' };
	small_hello(&x, 0x0010, one, sizeof(one), sizeof(one));
	assert_int_equal(dec_tls_client_hello(x.b, x.n, 't', &h), TLS_OK);
	assert_memory_equal(h.ja4, "t12i0101xx_", 11);
}

/* ---- the fingerprints against a plain reference ----
 *
 * tls.c remembers fingerprint parts per thread under binary keys; this reference
 * builds the JA3/JA4 texts with snprintf and hashes them every time, as the FoxIO and
 * Salesforce descriptions read. Random hellos (GREASE, empty lists, lists past the
 * memo's key size, repeats so that the memo hits) must give the same strings. */

static void ref_list(char *buf, size_t cap, const uint16_t *v, size_t n, const char *fmt, char sep)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (dec_tls_is_grease(v[i]))
			continue;
		size_t l = strlen(buf);
		if (!first) {
			buf[l++] = sep;
			buf[l] = '\0';
		}
		snprintf(buf + l, cap - l, fmt, v[i]);
		first = false;
	}
}

static void ref_hex(const uint8_t *md, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void ref_alpn(const struct tls_hello *h, char out[3])
{
	strcpy(out, "00");
	if (!h->nalpn || !h->alpn_len[0])
		return;
	uint8_t f = (uint8_t)h->alpn[0][0], l = (uint8_t)h->alpn[0][h->alpn_len[0] - 1];
	bool an = isalnum(f) && isalnum(l) && f < 0x80 && l < 0x80;
	if (an) {
		out[0] = (char)f;
		out[1] = (char)l;
	} else {
		char t[3];
		sprintf(t, "%02x", f);
		out[0] = t[0];
		sprintf(t, "%02x", l);
		out[1] = t[1];
	}
}

static unsigned ref_count(const uint16_t *v, size_t n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i++)
		c += !dec_tls_is_grease(v[i]);
	return c > 99 ? 99 : c;
}

static void ref_fingerprints(const struct tls_hello *h, char ja3[33], char ja4[40])
{
	static char buf[16384];
	uint8_t md[32];
	uint16_t t[TLS_MAX_CIPHERS];
	char alpn[3];
	ref_alpn(h, alpn);
	buf[0] = '\0';
	if (h->kind == TLS_HELLO_CLIENT) {
		snprintf(buf, sizeof(buf), "%u,", h->legacy_version);
		ref_list(buf, sizeof(buf), h->ciphers, h->nciphers, "%u", '-');
		strcat(buf, ",");
		ref_list(buf, sizeof(buf), h->exts, h->nexts, "%u", '-');
		strcat(buf, ",");
		ref_list(buf, sizeof(buf), h->groups, h->ngroups, "%u", '-');
		strcat(buf, ",");
		for (unsigned i = 0; i < h->npoint_fmts; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), i ? "-%u" : "%u", h->point_fmts[i]);
		dec_md5(buf, strlen(buf), md);
		ref_hex(md, 16, ja3);
		char b12[13] = "000000000000", c12[13] = "000000000000";
		size_t n = 0;
		for (unsigned i = 0; i < h->nciphers; i++)
			if (!dec_tls_is_grease(h->ciphers[i]))
				t[n++] = h->ciphers[i];
		qsort(t, n, 2, cmp_u16);
		buf[0] = '\0';
		ref_list(buf, sizeof(buf), t, n, "%04x", ',');
		if (n) {
			dec_sha256(buf, strlen(buf), md);
			ref_hex(md, 6, b12);
		}
		n = 0;
		for (unsigned i = 0; i < h->nexts; i++)
			if (!dec_tls_is_grease(h->exts[i]) && h->exts[i] != 0 && h->exts[i] != 0x10)
				t[n++] = h->exts[i];
		qsort(t, n, 2, cmp_u16);
		buf[0] = '\0';
		ref_list(buf, sizeof(buf), t, n, "%04x", ',');
		if (ref_count(h->sigalgs, h->nsigalgs)) {
			strcat(buf, "_");
			ref_list(buf, sizeof(buf), h->sigalgs, h->nsigalgs, "%04x", ',');
		}
		if (n) {
			dec_sha256(buf, strlen(buf), md);
			ref_hex(md, 6, c12);
		}
		snprintf(ja4, 40, "%c%s%c%02u%02u%s_%s_%s", h->proto, dec_tls_ja4_version(h->version),
			 h->has_sni ? 'd' : 'i', ref_count(h->ciphers, h->nciphers),
			 ref_count(h->exts, h->nexts), alpn, b12, c12);
	} else {
		snprintf(buf, sizeof(buf), "%u,%u,", h->legacy_version, h->cipher);
		ref_list(buf, sizeof(buf), h->exts, h->nexts, "%u", '-');
		dec_md5(buf, strlen(buf), md);
		ref_hex(md, 16, ja3);
		char e12[13] = "000000000000";
		buf[0] = '\0';
		ref_list(buf, sizeof(buf), h->exts, h->nexts, "%04x", ',');
		if (buf[0]) {
			dec_sha256(buf, strlen(buf), md);
			ref_hex(md, 6, e12);
		}
		snprintf(ja4, 40, "%c%s%02u%s_%04x_%s", h->proto, dec_tls_ja4_version(h->version),
			 ref_count(h->exts, h->nexts), alpn, h->cipher, e12);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A value from a small pool (so hellos repeat and the memo hits), GREASE now and then. */
static uint16_t rnd_val(void)
{
	static const uint16_t pool[] = { 0x1301, 0x1302, 0xc02b, 0x002f, 0x0000, 0x0010, 0x000a,
					 0x000d, 0x002b, 0xff01, 0x0017, 0x0403, 0x0804 };
	if (rnd(8) == 0)
		return (uint16_t)(0x0a0a + 0x1010 * rnd(16));
	return pool[rnd(sizeof(pool) / sizeof(pool[0]))];
}

static void rnd_list(uint16_t *v, uint16_t *n, unsigned cap)
{
	/* Mostly short lists; sometimes long enough to overflow the memo key. */
	unsigned len = rnd(10) == 0 ? rnd(cap + 1) : rnd(cap < 12 ? cap + 1 : 12);
	for (unsigned i = 0; i < len; i++)
		v[i] = rnd_val();
	*n = (uint16_t)len;
}

static void test_fingerprints_match_reference(void **state)
{
	(void)state;
	static struct tls_hello h;
	static const uint16_t versions[] = { 0x0304, 0x0303, 0x0301, 0x0300, 0x0002, 0x7f1c };
	static const char *const alpns[] = { "h2", "http/1.1", "\xba\xad", "x", "" };
	for (int iter = 0; iter < 20000; iter++) {
		memset(&h, 0, sizeof(h));
		h.kind = rnd(2) ? TLS_HELLO_CLIENT : TLS_HELLO_SERVER;
		h.proto = rnd(2) ? 't' : 'q';
		h.legacy_version = versions[rnd(6)];
		h.version = versions[rnd(6)];
		h.cipher = rnd_val();
		h.has_sni = rnd(2);
		rnd_list(h.ciphers, &h.nciphers, TLS_MAX_CIPHERS);
		rnd_list(h.exts, &h.nexts, TLS_MAX_EXTS);
		rnd_list(h.groups, &h.ngroups, TLS_MAX_GROUPS);
		rnd_list(h.sigalgs, &h.nsigalgs, TLS_MAX_SIGALGS);
		h.npoint_fmts = (uint16_t)rnd(3);
		for (unsigned i = 0; i < h.npoint_fmts; i++)
			h.point_fmts[i] = (uint8_t)rnd(3);
		const char *al = alpns[rnd(5)];
		if (*al) {
			h.nalpn = 1;
			h.alpn_len[0] = (uint8_t)strlen(al);
			strcpy(h.alpn[0], al);
		}
		char ja3[33], ja4[40];
		ref_fingerprints(&h, ja3, ja4);
		dec_tls_fingerprint(&h);
		assert_string_equal(h.ja3, ja3);
		assert_string_equal(h.ja4, ja4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_hello_spec_example),
		cmocka_unit_test(test_client_hello_every_truncation_fails),
		cmocka_unit_test(test_client_hello_hostile_lengths),
		cmocka_unit_test(test_client_hello_caps_and_scsv),
		cmocka_unit_test(test_server_hello),
		cmocka_unit_test(test_sslv2_client_hello),
		cmocka_unit_test(test_feed_across_records_and_segments),
		cmocka_unit_test(test_feed_hostile_records),
		cmocka_unit_test(test_feed_sslv2_record),
		cmocka_unit_test(test_grease_and_versions),
		cmocka_unit_test(test_alpn_non_alnum_token),
		cmocka_unit_test(test_fingerprints_match_reference),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	dec_x509_cache_flush();
	return r;
}
