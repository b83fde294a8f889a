/* test_ssh.c - the SSH parser (decode/ssh.c) and its stream consumer (ssh_app.c):
 * banners, KEXINIT, the key-exchange reply, the per-direction session, hostile input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/ssh.h"
#include "stream.h"
#include "util.h"

/* ---- builders ---- */

struct buf {
	uint8_t b[70000];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->b) - b->n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(b, x, 4);
}

static void put_str(struct buf *b, const char *s)
{
	put32(b, (uint32_t)strlen(s));
	put(b, s, strlen(s));
}

/* RFC 4253 6: wraps payload into a binary packet padded to a multiple of 8. */
static void put_packet(struct buf *b, const uint8_t *pay, size_t n)
{
	size_t pad = 8 - (n + 5) % 8;
	if (pad < 4)
		pad += 8;
	put32(b, (uint32_t)(n + pad + 1));
	uint8_t p = (uint8_t)pad;
	put(b, &p, 1);
	put(b, pay, n);
	uint8_t zero[16] = { 0 };
	put(b, zero, pad);
}

static const char *const LISTS[SSH_NL_COUNT] = {
	"curve25519-sha256,ext-info-c", "ssh-ed25519", "aes128-ctr", "aes256-ctr", "hmac-sha2-256",
	"hmac-sha2-512", "none", "zlib", "", "",
};

/* A KEXINIT payload with the given lists (NULL = LISTS). */
static void kexinit_payload(struct buf *b, const char *const *lists)
{
	b->n = 0;
	uint8_t hdr[17] = { 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }; /* type, cookie */
	put(b, hdr, sizeof(hdr));
	for (int i = 0; i < SSH_NL_COUNT; i++)
		put_str(b, (lists ? lists : LISTS)[i]);
	uint8_t tail[5] = { 0, 0, 0, 0, 0 }; /* first_kex_packet_follows, reserved */
	put(b, tail, sizeof(tail));
}

/* The ed25519 public key of seed 0x11 (tests/captures/make-ssh-hostkey.py key A). */
static const uint8_t ED25519_A[] = {
	0x00, 0x00, 0x00, 0x0b, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9', /* "ssh-ed25519" */
	0x00, 0x00, 0x00, 0x20,                                                         /* key, 32 bytes */
	0xd0, 0x4a, 0xb2, 0x32, 0x74, 0x2b, 0xb4, 0xab, 0x3a, 0x13, 0x68, 0xbd, 0x46, 0x15, 0xe4, 0xe6,
	0xd0, 0x22, 0x4a, 0xb7, 0x1a, 0x01, 0x6b, 0xaf, 0x85, 0x20, 0xa3, 0x32, 0xc9, 0x77, 0x87, 0x37,
};
#define FP_A "SHA256:2HS8bJpYBy7bDfWIQN304coFKT0s6CVPABFLYq+IX5E"

/* KEX_ECDH_REPLY: K_S, Q_S, signature. */
static void reply_payload(struct buf *b, uint8_t type, const uint8_t *blob, size_t bl)
{
	b->n = 0;
	put(b, &type, 1);
	put32(b, (uint32_t)bl);
	put(b, blob, bl);
	put_str(b, "0123456789abcdef0123456789abcdef");         /* Q_S */
	put_str(b, "ssh-ed25519-signature-bytes-not-checked"); /* signature */
}

/* ---- banner ---- */

static void test_banner_ok(void **state)
{
	(void)state;
	struct ssh_banner b;
	const char *l = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2";
	assert_int_equal(dec_ssh_banner((const uint8_t *)l, strlen(l), &b), SSH_OK);
	assert_string_equal(b.proto, "2.0");
	assert_string_equal(b.software, "OpenSSH_9.2p1");
	assert_string_equal(b.comments, "Debian-2+deb12u2");
	l = "SSH-1.99-Cisco-1.25";
	assert_int_equal(dec_ssh_banner((const uint8_t *)l, strlen(l), &b), SSH_OK);
	assert_string_equal(b.proto, "1.99");
	assert_string_equal(b.software, "Cisco-1.25");
	assert_string_equal(b.comments, "");
}

static void test_banner_bad(void **state)
{
	(void)state;
	struct ssh_banner b;
	static const struct {
		const char *line;
		size_t len;
		int err;
	} cases[] = {
		{ "HTTP/1.1 200 OK", 15, SSH_ERR_NOT_SSH },
		{ "SSH", 3, SSH_ERR_NOT_SSH },
		{ "SSH-2.0-Open\0SSH", 16, SSH_ERR_LINE_NUL },
		{ "SSH-2.0-Open\x01SSH", 16, SSH_ERR_BANNER },
		{ "SSH-2.0", 7, SSH_ERR_BANNER },          /* no softwareversion */
		{ "SSH-2.0-", 8, SSH_ERR_BANNER },         /* empty softwareversion */
		{ "SSH--x", 6, SSH_ERR_BANNER },           /* empty protoversion */
		{ "SSH-2.0 x-y", 11, SSH_ERR_BANNER },     /* space before the '-' */
		{ "SSH-1234567890123456-x", 22, SSH_ERR_BANNER }, /* protoversion > 15 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = dec_ssh_banner((const uint8_t *)cases[i].line, cases[i].len, &b);
		if (rc != cases[i].err)
			fail_msg("case %zu: %d, expected %d", i, rc, cases[i].err);
		assert_false(b.present);
	}
	char longl[300];
	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "SSH-2.0-", 8);
	assert_int_equal(dec_ssh_banner((const uint8_t *)longl, 254, &b), SSH_ERR_LINE_LONG);
	assert_int_equal(dec_ssh_banner((const uint8_t *)longl, 253, &b), SSH_OK);
	assert_int_equal(strlen(b.software), 253 - 8);
}

/* ---- KEXINIT ---- */

static void test_kexinit_ok(void **state)
{
	(void)state;
	static struct buf b;
	struct ssh_kexinit k;
	kexinit_payload(&b, NULL);
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, false, &k), SSH_OK);
	assert_true(k.present);
	assert_false(k.truncated);
	for (int i = 0; i < SSH_NL_COUNT; i++)
		assert_string_equal(k.list[i], LISTS[i]);
	assert_int_equal(k.cookie[15], 16);
	/* md5("curve25519-sha256,ext-info-c;aes128-ctr;hmac-sha2-256;none") */
	assert_string_equal(k.hassh, "cafb69eb1dbb2a4a505b5b25342a4940");
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, true, &k), SSH_OK);
	/* hasshServer: the server-to-client lists */
	assert_string_equal(k.hassh, "c44c03c43a8f3994828aff7d71f2eb71");
	assert_true(dec_ssh_list_has(k.list[SSH_NL_KEX], "ext-info-c"));
	assert_false(dec_ssh_list_has(k.list[SSH_NL_KEX], "ext-info"));
	assert_false(dec_ssh_list_has(k.list[SSH_NL_KEX], ""));
}

static void test_kexinit_truncated(void **state)
{
	(void)state;
	static struct buf b;
	struct ssh_kexinit k;
	kexinit_payload(&b, NULL);
	for (size_t n = 0; n < b.n; n++) {
		/* A copy of exactly n bytes so ASan sees any read past it. */
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, b.b, n);
		int rc = dec_ssh_kexinit(c, n, false, &k);
		if (rc == SSH_OK)
			fail_msg("truncated KEXINIT of %zu bytes accepted", n);
		assert_false(k.present);
		free(c);
	}
}

static void test_kexinit_hostile(void **state)
{
	(void)state;
	static struct buf b;
	struct ssh_kexinit k;
	const char *lists[SSH_NL_COUNT];
	memcpy(lists, LISTS, sizeof(lists));
	static const char *const bad[] = {
		"curve25519-sha256,,x",  /* empty name */
		",curve25519-sha256",    /* empty first name */
		"curve25519-sha256,",    /* empty last name */
		"curve25519 sha256",     /* space */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 characters */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lists[SSH_NL_KEX] = bad[i];
		kexinit_payload(&b, lists);
		if (dec_ssh_kexinit(b.b, b.n, false, &k) != SSH_ERR_NAMELIST)
			fail_msg("bad list '%s' accepted", bad[i]);
	}
	/* a NUL inside a name-list */
	lists[SSH_NL_KEX] = "curve25519-sha256Xsntrup";
	kexinit_payload(&b, lists);
	b.b[17 + 4 + 17] = 0;
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, false, &k), SSH_ERR_NAMELIST);
	/* a name-list length past the packet (and one that would wrap a 32-bit sum) */
	kexinit_payload(&b, NULL);
	uint8_t big[4] = { 0xff, 0xff, 0xff, 0xff };
	memcpy(b.b + 17, big, 4);
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, false, &k), SSH_ERR_NAMELIST);
	uint8_t past[4] = { 0x00, 0x00, 0x10, 0x00 };
	memcpy(b.b + 17, past, 4);
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, false, &k), SSH_ERR_NAMELIST);
	/* not a KEXINIT */
	kexinit_payload(&b, NULL);
	b.b[0] = 21;
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, false, &k), SSH_ERR_KEXINIT);
}

static void test_kexinit_long_list(void **state)
{
	(void)state;
	static struct buf b;
	struct ssh_kexinit k;
	/* 400 names of 10 characters: kept up to SSH_NL_MAX at a name boundary, hashed whole */
	static char big[400 * 11];
	size_t o = 0;
	for (int i = 0; i < 400; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%sname%06d", i ? "," : "", i);
	const char *lists[SSH_NL_COUNT];
	memcpy(lists, LISTS, sizeof(lists));
	lists[SSH_NL_KEX] = big;
	kexinit_payload(&b, lists);
	assert_int_equal(dec_ssh_kexinit(b.b, b.n, false, &k), SSH_OK);
	assert_true(k.truncated);
	assert_int_equal(k.wire_len[SSH_NL_KEX], strlen(big));
	size_t kl = strlen(k.list[SSH_NL_KEX]);
	assert_true(kl <= SSH_NL_MAX);
	assert_int_equal(kl % 11, 10); /* whole names only */
	assert_int_equal(strlen(k.hassh), 32);
}

/* ---- key-exchange reply ---- */

static void test_reply_ok(void **state)
{
	(void)state;
	static struct buf b;
	struct ssh_hostkey h;
	reply_payload(&b, 31, ED25519_A, sizeof(ED25519_A));
	assert_int_equal(dec_ssh_kex_reply(b.b, b.n, &h), SSH_OK);
	assert_string_equal(h.type, "ssh-ed25519");
	assert_string_equal(h.fp, FP_A); /* as ssh-keygen -lf prints it */
	assert_int_equal(h.blob_len, sizeof(ED25519_A));
	reply_payload(&b, 33, ED25519_A, sizeof(ED25519_A));
	assert_int_equal(dec_ssh_kex_reply(b.b, b.n, &h), SSH_OK);
	assert_int_equal(h.msg, 33);
}

static void test_reply_bad(void **state)
{
	(void)state;
	static struct buf b;
	struct ssh_hostkey h;
	reply_payload(&b, 31, ED25519_A, sizeof(ED25519_A));
	/* K_S must be whole: every truncation inside it fails */
	for (size_t n = 0; n < 5 + sizeof(ED25519_A); n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, b.b, n);
		assert_int_not_equal(dec_ssh_kex_reply(c, n, &h), SSH_OK);
		assert_false(h.present);
		free(c);
	}
	reply_payload(&b, 32, ED25519_A, sizeof(ED25519_A));
	assert_int_equal(dec_ssh_kex_reply(b.b, b.n, &h), SSH_ERR_KEX_REPLY);
	uint8_t blob[sizeof(ED25519_A)];
	memcpy(blob, ED25519_A, sizeof(blob));
	blob[8] = 0; /* NUL in the type */
	reply_payload(&b, 31, blob, sizeof(blob));
	assert_int_equal(dec_ssh_kex_reply(b.b, b.n, &h), SSH_ERR_KEX_REPLY);
	memcpy(blob, ED25519_A, sizeof(blob));
	blob[3] = 0; /* empty type */
	reply_payload(&b, 31, blob, sizeof(blob));
	assert_int_equal(dec_ssh_kex_reply(b.b, b.n, &h), SSH_ERR_KEX_REPLY);
	memcpy(blob, ED25519_A, sizeof(blob));
	blob[3] = 200; /* type past the blob */
	reply_payload(&b, 31, blob, sizeof(blob));
	assert_int_equal(dec_ssh_kex_reply(b.b, b.n, &h), SSH_ERR_KEX_REPLY);
	/* the DH group exchange group (p, g): p is an mpint, not a key blob */
	static const uint8_t group[] = { 31, 0x00, 0x00, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0x00, 0x00, 0x00, 0x01, 0x02 };
	assert_int_equal(dec_ssh_kex_reply(group, sizeof(group), &h), SSH_ERR_KEX_REPLY);
}

/* ---- session ---- */

struct rec {
	int nbanner[2], nkex[2], nhost;
	struct ssh_msg last;
};

static int rec_cb(void *ud, const struct ssh_msg *m)
{
	struct rec *r = ud;
	int d = m->from_server ? 1 : 0;
	if (m->step == SSH_STEP_BANNER)
		r->nbanner[d]++;
	else if (m->step == SSH_STEP_KEXINIT)
		r->nkex[d]++;
	else if (m->step == SSH_STEP_HOSTKEY)
		r->nhost++;
	r->last = *m;
	return 0;
}

/* A whole connection: client direction in c, server in s. */
static void transcript(struct buf *c, struct buf *s, bool gex, const char *pre)
{
	static struct buf p;
	c->n = s->n = 0;
	put(c, "SSH-2.0-OpenSSH_9.6\r\n", 21);
	if (pre)
		put(s, pre, strlen(pre));
	put(s, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 32);
	const char *lists[SSH_NL_COUNT];
	memcpy(lists, LISTS, sizeof(lists));
	if (gex)
		lists[SSH_NL_KEX] = "diffie-hellman-group-exchange-sha256";
	kexinit_payload(&p, lists);
	put_packet(c, p.b, p.n);
	put_packet(s, p.b, p.n);
	uint8_t ignore[] = { 2, 0, 0, 0, 0 }; /* SSH_MSG_IGNORE, empty string */
	put_packet(s, ignore, sizeof(ignore));
	if (gex) {
		/* KEX_DH_GEX_GROUP (31): p, g as mpints */
		uint8_t grp[] = { 31, 0, 0, 0, 3, 0x00, 0xff, 0xfb, 0, 0, 0, 1, 2 };
		put_packet(s, grp, sizeof(grp));
		reply_payload(&p, 33, ED25519_A, sizeof(ED25519_A));
	} else {
		reply_payload(&p, 31, ED25519_A, sizeof(ED25519_A));
	}
	put_packet(s, p.b, p.n);
	uint8_t nk[] = { 21 };
	put_packet(s, nk, 1);
	put_packet(c, nk, 1);
	/* encrypted from here: must not be parsed */
	put(s, "\xff\xff\xff\xff garbage", 12);
	put(c, "\xff\xff\xff\xff garbage", 12);
}

static void test_session_whole(void **state)
{
	(void)state;
	static struct buf c, s;
	for (int gex = 0; gex < 2; gex++) {
		transcript(&c, &s, gex, gex ? "Welcome\r\nauthorised use only\n" : NULL);
		struct ssh_sess ss;
		struct rec r;
		memset(&r, 0, sizeof(r));
		dec_ssh_init(&ss);
		assert_int_equal(dec_ssh_feed(&ss, 0, c.b, c.n, rec_cb, &r), SSH_OK);
		assert_int_equal(dec_ssh_feed(&ss, 1, s.b, s.n, rec_cb, &r), SSH_OK);
		assert_true(dec_ssh_dir_done(&ss, 0) && dec_ssh_dir_done(&ss, 1));
		assert_true(ss.d[0].newkeys && ss.d[1].newkeys);
		assert_int_equal(r.nbanner[0], 1);
		assert_int_equal(r.nbanner[1], 1);
		assert_int_equal(r.nkex[0], 1);
		assert_int_equal(r.nkex[1], 1);
		assert_int_equal(r.nhost, 1);
		assert_string_equal(r.last.hostkey.fp, FP_A);
		assert_int_equal(r.last.hostkey.msg, gex ? 33 : 31);
		assert_string_equal(r.last.kex_alg, gex ? "diffie-hellman-group-exchange-sha256" : "curve25519-sha256");
		assert_int_equal(r.last.banner[1].pre_lines, gex ? 2 : 0);
		assert_string_equal(r.last.banner[1].software, "OpenSSH_9.2p1");
	}
}

/* Growing prefixes, one byte at a time, alternating: the same events as in one piece. */
static void test_session_bytewise(void **state)
{
	(void)state;
	static struct buf c, s;
	transcript(&c, &s, false, "pre\r\n");
	struct ssh_sess ss;
	struct rec r;
	memset(&r, 0, sizeof(r));
	dec_ssh_init(&ss);
	size_t max = c.n > s.n ? c.n : s.n;
	for (size_t n = 1; n <= max; n++) {
		if (n <= c.n) {
			uint8_t *x = malloc(n);
			memcpy(x, c.b, n);
			assert_int_equal(dec_ssh_feed(&ss, 0, x, n, rec_cb, &r), SSH_OK);
			free(x);
		}
		if (n <= s.n) {
			uint8_t *x = malloc(n);
			memcpy(x, s.b, n);
			assert_int_equal(dec_ssh_feed(&ss, 1, x, n, rec_cb, &r), SSH_OK);
			free(x);
		}
	}
	assert_int_equal(r.nbanner[0] + r.nbanner[1], 2);
	assert_int_equal(r.nkex[0] + r.nkex[1], 2);
	assert_int_equal(r.nhost, 1);
	assert_string_equal(r.last.hostkey.fp, FP_A);
}

/* Server side only (a one-way capture): K_S is still found in 31. */
static void test_session_one_way(void **state)
{
	(void)state;
	static struct buf c, s;
	transcript(&c, &s, false, NULL);
	struct ssh_sess ss;
	struct rec r;
	memset(&r, 0, sizeof(r));
	dec_ssh_init(&ss);
	assert_int_equal(dec_ssh_feed(&ss, 1, s.b, s.n, rec_cb, &r), SSH_OK);
	assert_int_equal(r.nhost, 1);
	assert_string_equal(r.last.kex_alg, "");
}

static int feed1(int dir, const void *p, size_t n, struct rec *r)
{
	struct ssh_sess ss;
	dec_ssh_init(&ss);
	memset(r, 0, sizeof(*r));
	return dec_ssh_feed(&ss, dir, p, n, rec_cb, r);
}

static void test_session_bad(void **state)
{
	(void)state;
	static struct buf b;
	struct rec r;
	/* the client must start with its identification */
	assert_int_equal(feed1(0, "GET / HTTP/1.1\r\n", 16, &r), SSH_ERR_NOT_SSH);
	assert_int_equal(feed1(0, "G", 1, &r), SSH_ERR_NOT_SSH);
	assert_int_equal(feed1(0, "SS", 2, &r), SSH_OK); /* could still be */
	/* a line without its end, past the cap */
	b.n = 0;
	put(&b, "SSH-2.0-", 8);
	for (int i = 0; i < 300; i++)
		put(&b, "x", 1);
	assert_int_equal(feed1(0, b.b, 254, &r), SSH_OK); /* not yet */
	assert_int_equal(feed1(0, b.b, b.n, &r), SSH_ERR_LINE_LONG);
	/* a banner line of 256 bytes with its CRLF */
	b.n = 254;
	put(&b, "\r\n", 2);
	assert_int_equal(feed1(0, b.b, b.n, &r), SSH_ERR_LINE_LONG);
	/* a NUL in the identification */
	assert_int_equal(feed1(1, "SSH-2.0-a\0b\r\n", 13, &r), SSH_ERR_LINE_NUL);
	/* too many lines before the server's identification */
	b.n = 0;
	for (int i = 0; i <= SSH_PRE_LINES_MAX; i++)
		put(&b, "hello\r\n", 7);
	put(&b, "SSH-2.0-x\r\n", 11);
	assert_int_equal(feed1(1, b.b, b.n, &r), SSH_ERR_PRE_LINES);
	/* a pre-banner line past its own cap, no LF */
	b.n = 0;
	for (int i = 0; i < SSH_PRE_LINE_MAX; i++)
		put(&b, "y", 1);
	assert_int_equal(feed1(1, b.b, b.n, &r), SSH_ERR_LINE_LONG);

	/* packets */
	static const struct {
		uint8_t hdr[6];
		int err;
	} pk[] = {
		{ { 0x00, 0x00, 0x88, 0xb9, 4, 20 }, SSH_ERR_PKT_LEN },  /* 35001 > SSH_PKT_MAX */
		{ { 0xff, 0xff, 0xff, 0xfc, 4, 20 }, SSH_ERR_PKT_LEN },  /* huge */
		{ { 0x00, 0x00, 0x00, 0x0c, 11, 20 }, SSH_ERR_PKT_LEN }, /* padding eats the payload */
		{ { 0x00, 0x00, 0x00, 0x0c, 3, 20 }, SSH_ERR_PADDING },  /* padding < 4 */
		{ { 0x00, 0x00, 0x00, 0x0d, 4, 20 }, SSH_ERR_PADDING },  /* 4 + 13 not a multiple of 8 */
	};
	for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++) {
		b.n = 0;
		put(&b, "SSH-2.0-x\r\n", 11);
		put(&b, pk[i].hdr, 6);
		if (feed1(1, b.b, b.n, &r) != pk[i].err)
			fail_msg("packet case %zu: expected %s", i, dec_ssh_strerror(pk[i].err));
	}
	/* a bad KEXINIT inside a good packet */
	static struct buf p;
	kexinit_payload(&p, NULL);
	p.b[17] = 0x7f;
	b.n = 0;
	put(&b, "SSH-2.0-x\r\n", 11);
	put_packet(&b, p.b, p.n);
	assert_int_equal(feed1(1, b.b, b.n, &r), SSH_ERR_NAMELIST);
	assert_int_equal(r.nbanner[1], 1);
	assert_int_equal(r.nkex[1], 0);
	assert_string_equal(dec_ssh_strerror(SSH_ERR_NAMELIST), "name-list past its packet or with a bad name");
	assert_string_equal(dec_ssh_strerror(-1), "unknown error");
}

static void test_session_stops(void **state)
{
	(void)state;
	static struct buf b;
	struct rec r;
	struct ssh_sess ss;
	/* SSH-1: another packet format follows, the direction stops after the banner */
	dec_ssh_init(&ss);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dec_ssh_feed(&ss, 1, (const uint8_t *)"SSH-1.5-x\r\n\0\0\0\0", 15, rec_cb, &r), SSH_OK);
	assert_true(dec_ssh_dir_done(&ss, 1));
	assert_string_equal(r.last.banner[1].proto, "1.5");
	/* 1.99 is SSH-2 compatible: packets follow */
	dec_ssh_init(&ss);
	assert_int_equal(dec_ssh_feed(&ss, 1, (const uint8_t *)"SSH-1.99-x\r\n", 12, rec_cb, &r), SSH_OK);
	assert_false(dec_ssh_dir_done(&ss, 1));
	/* DISCONNECT stops; so does the packet cap */
	uint8_t disc[] = { 1, 0, 0, 0, 2 };
	b.n = 0;
	put(&b, "SSH-2.0-x\r\n", 11);
	put_packet(&b, disc, sizeof(disc));
	dec_ssh_init(&ss);
	assert_int_equal(dec_ssh_feed(&ss, 1, b.b, b.n, rec_cb, &r), SSH_OK);
	assert_true(dec_ssh_dir_done(&ss, 1));
	assert_false(ss.d[1].newkeys);
	b.n = 0;
	put(&b, "SSH-2.0-x\r\n", 11);
	uint8_t ign[] = { 2, 0, 0, 0, 0 };
	for (int i = 0; i < SSH_MAX_PKTS + 5; i++)
		put_packet(&b, ign, sizeof(ign));
	dec_ssh_init(&ss);
	assert_int_equal(dec_ssh_feed(&ss, 1, b.b, b.n, rec_cb, &r), SSH_OK);
	assert_true(dec_ssh_dir_done(&ss, 1));
	assert_int_equal(ss.d[1].npkts, SSH_MAX_PKTS);
	/* no callback; a direction stopped from outside */
	dec_ssh_init(&ss);
	assert_int_equal(dec_ssh_feed(&ss, 0, (const uint8_t *)"SSH-2.0-x\r\n", 11, NULL, NULL), SSH_OK);
	assert_false(dec_ssh_dir_done(&ss, 0));
	dec_ssh_dir_stop(&ss, 0);
	assert_true(dec_ssh_dir_done(&ss, 0));
	/* a shrinking prefix is not a stream */
	dec_ssh_init(&ss);
	assert_int_equal(dec_ssh_feed(&ss, 0, (const uint8_t *)"SSH-2.0-x\r\n", 11, NULL, NULL), SSH_OK);
	assert_int_equal(dec_ssh_feed(&ss, 0, (const uint8_t *)"SSH", 3, NULL, NULL), SSH_ERR_NOT_SSH);
}

/* ---- the consumer ---- */

extern const struct app_consumer app_ssh;
static struct rec app_rec;
static uint64_t app_malformed;

bool det_wants_ssh(const struct det_registry *r)
{
	(void)r;
	return true;
}

/* The consumer's only way out: recorded here instead of judged. */
void det_dispatch_ssh(struct det_registry *r, const struct ssh_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	rec_cb(&app_rec, ev->msg);
}

static void mk_flow(struct flow *f, uint16_t resp_port)
{
	memset(f, 0, sizeof(*f));
	f->key.family = 4;
	f->key.proto = 6;
	f->key.a[0] = 192;
	f->key.b[0] = 203;
	f->key.pa = 40000;
	f->key.pb = resp_port;
	f->init_is_a = 1;
}

/* Feeds both directions in segments of seg bytes; returns the number of on_data calls
 * made before APP_DONE (or all of them). */
static int run_app(struct flow *f, const struct buf *c, const struct buf *s, size_t seg, bool *done)
{
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	m.community_id = "";
	app_malformed = 0;
	struct app_ctx ctx = { (struct det_registry *)&m, NULL, &m, &app_malformed };
	void *st = NULL;
	size_t have[2] = { 0, 0 };
	const struct buf *d[2] = { c, s };
	int calls = 0;
	*done = false;
	assert_true(app_ssh.wants(f, f->key.pb));
	while (!*done && (have[0] < c->n || have[1] < s->n)) {
		for (int dir = 0; dir < 2 && !*done; dir++) {
			if (have[dir] == d[dir]->n)
				continue;
			have[dir] += seg;
			if (have[dir] > d[dir]->n)
				have[dir] = d[dir]->n;
			uint8_t *x = malloc(have[dir]);
			memcpy(x, d[dir]->b, have[dir]);
			calls++;
			if (app_ssh.on_data(&ctx, &st, f, dir, x, have[dir], 0) == APP_DONE)
				*done = true;
			free(x);
		}
	}
	app_ssh.free_state(st);
	return calls;
}

static void test_app(void **state)
{
	(void)state;
	static struct buf c, s;
	struct flow f;
	bool done;
	size_t segs[] = { 1, 3, 7, 64, 1400 };
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		/* port 22, with lines before the server's banner */
		transcript(&c, &s, i % 2 == 1, "motd\r\n");
		mk_flow(&f, 22);
		memset(&app_rec, 0, sizeof(app_rec));
		run_app(&f, &c, &s, segs[i], &done);
		assert_true(done);
		assert_int_equal(app_rec.nhost, 1);
		assert_string_equal(app_rec.last.hostkey.fp, FP_A);
		/* another port: the first bytes decide */
		transcript(&c, &s, false, NULL);
		mk_flow(&f, 8022);
		memset(&app_rec, 0, sizeof(app_rec));
		run_app(&f, &c, &s, segs[i], &done);
		assert_true(done);
		assert_int_equal(app_rec.nhost, 1);
	}
	/* not SSH on another port: done at the first look, nothing dispatched */
	c.n = s.n = 0;
	put(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	put(&s, "HTTP/1.1 200 OK\r\n\r\n", 19);
	mk_flow(&f, 8080);
	memset(&app_rec, 0, sizeof(app_rec));
	assert_int_equal(run_app(&f, &c, &s, 1400, &done), 1);
	assert_true(done);
	assert_int_equal(app_rec.nbanner[0] + app_rec.nbanner[1], 0);
	/* not SSH on port 22 either: done, nothing dispatched, not malformed */
	mk_flow(&f, 22);
	assert_int_equal(run_app(&f, &c, &s, 1400, &done), 1);
	assert_true(done);
	assert_int_equal(app_rec.nbanner[0] + app_rec.nbanner[1], 0);
	assert_int_equal(app_malformed, 0);
	/* a broken packet after good banners is malformed */
	c.n = s.n = 0;
	put(&c, "SSH-2.0-x\r\n", 11);
	put(&s, "SSH-2.0-y\r\n\x00\x00\x00\x0d\x04\x14", 17);
	assert_int_equal(run_app(&f, &c, &s, 1400, &done), 2);
	assert_int_equal(app_malformed, 1);
	/* the server lies after a good client banner on another port */
	c.n = s.n = 0;
	put(&c, "SSH-2.0-x\r\n", 11);
	put(&s, "220 smtp\r\n", 10);
	mk_flow(&f, 2525);
	memset(&app_rec, 0, sizeof(app_rec));
	assert_int_equal(run_app(&f, &c, &s, 1400, &done), 2);
	assert_true(done);
	/* a FIN ends a direction: the flow is done once both ended */
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	struct app_ctx ctx = { NULL, NULL, &m, NULL };
	void *st = NULL;
	mk_flow(&f, 22);
	assert_int_equal(app_ssh.on_data(&ctx, &st, &f, 0, (const uint8_t *)"SSH-2.0-x\r\n", 11, 0), APP_MORE);
	assert_int_equal(app_ssh.on_data(&ctx, &st, &f, 0, (const uint8_t *)"SSH-2.0-x\r\n", 11, STREAM_F_FIN),
			 APP_MORE);
	assert_int_equal(app_ssh.on_data(&ctx, &st, &f, 1, (const uint8_t *)"SSH-2.0-y\r\n", 11, STREAM_F_GAP),
			 APP_DONE);
	app_ssh.free_state(st);
	/* short first bytes on another port that end there */
	st = NULL;
	mk_flow(&f, 9999);
	assert_int_equal(app_ssh.on_data(&ctx, &st, &f, 0, (const uint8_t *)"SS", 2, 0), APP_MORE);
	assert_int_equal(app_ssh.on_data(&ctx, &st, &f, 0, (const uint8_t *)"SS", 2, STREAM_F_FIN), APP_DONE);
	assert_null(st);
	assert_int_equal(app_ssh.on_data(&ctx, &st, &f, 2, (const uint8_t *)"SS", 2, 0), APP_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_banner_ok),
		cmocka_unit_test(test_banner_bad),
		cmocka_unit_test(test_kexinit_ok),
		cmocka_unit_test(test_kexinit_truncated),
		cmocka_unit_test(test_kexinit_hostile),
		cmocka_unit_test(test_kexinit_long_list),
		cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_reply_bad),
		cmocka_unit_test(test_session_whole),
		cmocka_unit_test(test_session_bytewise),
		cmocka_unit_test(test_session_one_way),
		cmocka_unit_test(test_session_bad),
		cmocka_unit_test(test_session_stops),
		cmocka_unit_test(test_app),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
