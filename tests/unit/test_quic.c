/* test_quic.c - QUIC client Initials (monitor/decode/quic.c): real packets from the
 * corpus (tests/unit/data/README), then every way to break them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/quic.h"
#include "decode/tls.h"
#include "decode/x509.h"

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	char path[4096];
	const char *top = getenv("top_srcdir");
	if (top) {
		snprintf(path, sizeof(path), "%s/tests/unit/data/%s", top, name);
	} else {
		/* SRCSIGDIR is <top_srcdir>/signatures */
		snprintf(path, sizeof(path), "%s/../tests/unit/data/%s", SRCSIGDIR, name);
	}
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	size_t n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

static uint8_t pkt[2048];
static size_t pkt_len;

static int setup(void **state)
{
	(void)state;
	pkt_len = load("quic-initial-chromium115.bin", pkt, sizeof(pkt));
	assert_int_equal(pkt_len, 1250);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dec_quic_flush();
	dec_x509_cache_flush();
	return 0;
}

static void test_chromium_initial(void **state)
{
	(void)state;
	struct tls_hello h;
	assert_int_equal(dec_quic_initial_bytes(pkt, pkt_len, "a", 1, &h), QUIC_OK);
	assert_int_equal(h.kind, TLS_HELLO_CLIENT);
	assert_int_equal(h.proto, 'q');
	assert_string_equal(h.sni, "api.cirrus-ci.com");
	assert_int_equal(h.nalpn, 1);
	assert_string_equal(h.alpn[0], "h3");
	assert_int_equal(h.version, 0x0304);
	assert_memory_equal(h.ja4, "q13d0311h3_55b375c5d22e_", 24);
}

/* The Initial keys are remembered per (version, DCID): a changed DCID must derive its
 * own keys (which do not open this packet), and the original decodes again after the
 * cache has turned over. */
static void test_key_cache(void **state)
{
	(void)state;
	struct tls_hello h;
	static uint8_t b[2048];
	assert_true(pkt_len <= sizeof(b));
	assert_true(pkt[5] > 0); /* the DCID length; the DCID starts at byte 6 */
	assert_int_equal(dec_quic_initial_bytes(pkt, pkt_len, "k", 1, &h), QUIC_OK);
	for (unsigned i = 0; i < 6; i++) {
		memcpy(b, pkt, pkt_len);
		b[6] ^= (uint8_t)(1u << i);
		assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "k", 1, &h), QUIC_ERR_DECRYPT);
	}
	assert_int_equal(dec_quic_initial_bytes(pkt, pkt_len, "k", 1, &h), QUIC_OK);
	assert_string_equal(h.sni, "api.cirrus-ci.com");
	assert_int_equal(dec_quic_initial_bytes(pkt, pkt_len, "k", 1, &h), QUIC_OK);
	dec_quic_flush(); /* the contexts are made again on the next packet */
	assert_int_equal(dec_quic_initial_bytes(pkt, pkt_len, "k", 1, &h), QUIC_OK);
}

static void test_every_truncation(void **state)
{
	(void)state;
	struct tls_hello h;
	/* Cut anywhere: an error, never a read past the cut (ASan) and never a hello. */
	for (size_t n = 0; n < pkt_len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, pkt, n);
		int e = dec_quic_initial_bytes(copy, n, "t", 1, &h);
		assert_int_not_equal(e, QUIC_OK);
		free(copy);
	}
	dec_quic_flush();
}

static void test_hostile_headers(void **state)
{
	(void)state;
	struct tls_hello h;
	uint8_t b[2048];
	/* A flipped bit in the AEAD tag (or anywhere in the ciphertext). */
	memcpy(b, pkt, pkt_len);
	b[pkt_len - 1] ^= 1;
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_DECRYPT);
	/* Unknown version; version negotiation; short header; a Handshake packet. */
	memcpy(b, pkt, pkt_len);
	b[4] = 0x09;
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_VERSION);
	memset(b + 1, 0, 4);
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_NOT_INITIAL);
	memcpy(b, pkt, pkt_len);
	b[0] &= 0x7f;
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_NOT_INITIAL);
	memcpy(b, pkt, pkt_len);
	b[0] = (uint8_t)((b[0] & 0xcf) | 0x20);
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_NOT_INITIAL);
	/* Connection ID lengths above 20. */
	memcpy(b, pkt, pkt_len);
	b[5] = 21;
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_SHORT);
	/* A Length field larger than the datagram (after DCID, SCID, token). */
	memcpy(b, pkt, pkt_len);
	size_t at = 6 + b[5];
	at += 1 + b[at];  /* SCID */
	size_t tok_at = at;
	/* This Initial carries a 70-byte address validation token (2-byte varint). */
	assert_int_equal(b[at], 0x40);
	assert_int_equal(b[at + 1], 70);
	at += 2 + 70;
	assert_int_equal(b[at] >> 6, 1); /* the Length field, 2 bytes */
	b[at] = 0x7f;      /* 2-byte varint 0x3fxx: 16 KB */
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_SHORT);
	/* A token length past the end (8-byte varint). */
	memcpy(b, pkt, pkt_len);
	b[tok_at] = 0xff;
	assert_int_equal(dec_quic_initial_bytes(b, pkt_len, "x", 1, &h), QUIC_ERR_SHORT);
	/* Zero bytes, one byte. */
	assert_int_equal(dec_quic_initial_bytes(NULL, 0, NULL, 0, &h), QUIC_ERR_SHORT);
	assert_int_equal(dec_quic_initial_bytes(pkt, 1, NULL, 0, &h), QUIC_ERR_SHORT);
	assert_string_equal(dec_quic_strerror(QUIC_ERR_DECRYPT), "Initial does not decrypt with the client keys");
	assert_string_equal(dec_quic_strerror(99), "unknown");
}

static void test_two_packet_hello(void **state)
{
	(void)state;
	static uint8_t p1[2048], p2[2048];
	size_t n1 = load("quic-initial-kyber-1.bin", p1, sizeof(p1));
	size_t n2 = load("quic-initial-kyber-2.bin", p2, sizeof(p2));
	struct tls_hello h;
	/* The second packet alone: its CRYPTO data does not start at 0. */
	assert_int_equal(dec_quic_initial_bytes(p2, n2, "other", 5, &h), QUIC_ERR_INCOMPLETE);
	/* From one sender, in order: the second packet completes the hello. */
	assert_int_equal(dec_quic_initial_bytes(p1, n1, "c1", 2, &h), QUIC_ERR_INCOMPLETE);
	assert_int_equal(dec_quic_initial_bytes(p2, n2, "c1", 2, &h), QUIC_OK);
	assert_string_equal(h.sni, "encrypted-tbn0.gstatic.com");
	assert_memory_equal(h.ja4, "q13d0311h3_", 11);
	/* Out of order from another sender works too. */
	assert_int_equal(dec_quic_initial_bytes(p2, n2, "c2", 2, &h), QUIC_ERR_INCOMPLETE);
	assert_int_equal(dec_quic_initial_bytes(p1, n1, "c2", 2, &h), QUIC_OK);
	/* A flood of first halves from many senders stays within the table. */
	char key[16];
	for (int i = 0; i < 3 * QUIC_PENDING_MAX; i++) {
		snprintf(key, sizeof(key), "s%d", i);
		assert_int_equal(dec_quic_initial_bytes(p1, n1, key, strlen(key), &h), QUIC_ERR_INCOMPLETE);
	}
	/* The most recent sender is still remembered. */
	assert_int_equal(dec_quic_initial_bytes(p2, n2, key, strlen(key), &h), QUIC_OK);
}

static void test_dec_quic_initial_pkt(void **state)
{
	(void)state;
	struct pkt p;
	struct tls_hello h;
	memset(&p, 0, sizeof(p));
	p.flags = PKT_F_IP | PKT_F_UDP;
	p.sport = 53727;
	p.dport = 443;
	p.payload = pkt;
	p.payload_len = pkt_len;
	assert_int_equal(dec_quic_initial(&p, &h), QUIC_OK);
	assert_string_equal(h.sni, "api.cirrus-ci.com");
	p.payload_len = 1199; /* under the 1200 bytes of RFC 9000 14.1 */
	assert_int_equal(dec_quic_initial(&p, &h), QUIC_ERR_NOT_INITIAL);
	p.payload_len = pkt_len;
	p.flags = PKT_F_IP | PKT_F_TCP;
	assert_int_equal(dec_quic_initial(&p, &h), QUIC_ERR_SHORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chromium_initial),
		cmocka_unit_test(test_key_cache),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_two_packet_hello),
		cmocka_unit_test(test_dec_quic_initial_pkt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
