#include "config.h"

/* test_dns.c - the DNS-format parser (monitor/decode/dns.c): good messages of every
 * record type we name, every error code, hostile names (compression loops, pointers
 * forward, into the header and past the end, 255+ byte names, long pointer chains),
 * counts larger than the message, every truncation of every good message from an
 * exactly sized heap buffer (ASan catches a read past it), the caps, and NetBIOS names. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dns.h"

static struct dns_msg M; /* 20 KiB: not on the test's stack */

/* Parses from an exactly sized heap copy, so any read past len is an ASan error. */
static int parse(const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, b, len);
	int rc = dec_dns(copy, len, &M);
	free(copy);
	return rc;
}

/* ---------------------------------------------------------------- good messages */

/* Query: id 0x1234, RD, 1 question www.example.com A IN, EDNS(0) 1232 with a cookie. */
static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* header */
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, /* @12 */
	0x00, 0x01, 0x00, 0x01,                                                   /* A IN */
	0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0c, /* OPT . 1232 DO, len 12 */
	0x00, 0x0a, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,                   /* COOKIE 8 bytes */
};

/* Response: id 0x1234, QR AA RD RA, question WWW.Example.COM A, answers:
 *   www.example.com CNAME web.example.com (ptr to 12, target "web" + ptr to 16)
 *   web.example.com A 192.0.2.10 (owner = ptr to the CNAME target)
 *   web.example.com AAAA 2001:db8::10
 * authority: example.com SOA ns.example.com hostmaster.example.com 7 3600 600 86400 300 */
static const uint8_t response[] = {
	0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
	/* @12 question: WWW.Example.COM A IN */
	3, 'W', 'W', 'W', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'C', 'O', 'M', 0, 0x00, 0x01, 0x00, 0x01,
	/* @33 answer 1: ptr 12, CNAME IN ttl 300, rdlen 6: "web" + ptr 16 (@45) */
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x06,
	3, 'w', 'e', 'b', 0xc0, 0x10,
	/* @51 answer 2: ptr 45, A IN ttl 60, 192.0.2.10 */
	0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 192, 0, 2, 10,
	/* @67 answer 3: ptr 45, AAAA IN ttl 60, 2001:db8::10 */
	0xc0, 0x2d, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	/* @95 authority: ptr 16 (example.com) SOA ttl 300, rdlen 38 */
	0xc0, 0x10, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x26,
	2, 'n', 's', 0xc0, 0x10,                                     /* ns.example.com */
	10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 0xc0, 0x10, /* hostmaster... */
	0, 0, 0, 7, 0, 0, 0x0e, 0x10, 0, 0, 0x02, 0x58, 0, 1, 0x51, 0x80, 0, 0, 0x01, 0x2c,
};

static void test_query(void **state)
{
	(void)state;
	assert_int_equal(parse(query, sizeof(query)), DEC_DNS_OK);
	assert_int_equal(M.id, 0x1234);
	assert_int_equal(M.qr, 0);
	assert_int_equal(M.opcode, 0);
	assert_true(M.flags & DNS_F_RD);
	assert_int_equal(M.nq, 1);
	assert_string_equal(dns_str(&M, M.q[0].name), "www.example.com");
	assert_int_equal(M.q[0].type, DNS_T_A);
	assert_int_equal(M.q[0].klass, DNS_C_IN);
	assert_int_equal(M.nrr, 0); /* OPT is not a record */
	assert_true(M.has_opt);
	assert_int_equal(M.edns_udp_size, 1232);
	assert_int_equal(M.edns_flags, 0x8000);
	assert_int_equal(M.nopts, 1);
	assert_int_equal(M.opt_codes[0], 10);
	assert_int_equal(M.stage, DNS_STAGE_DONE);
	assert_int_equal(M.anomalies, 0);
	assert_true(dec_dns_usable(&M));
}

static void test_response(void **state)
{
	(void)state;
	assert_int_equal(parse(response, sizeof(response)), DEC_DNS_OK);
	assert_int_equal(M.qr, 1);
	assert_int_equal(M.rcode, 0);
	assert_true(M.flags & DNS_F_AA);
	assert_int_equal(M.nq, 1);
	assert_string_equal(dns_str(&M, M.q[0].name), "WWW.Example.COM");
	assert_int_equal(M.nrr, 4);
	assert_int_equal(M.nan, 3);
	/* Names compare case-insensitively through the hash. */
	assert_true(M.q[0].hash == M.rr[0].name_hash);
	assert_true(M.q[0].hash == dec_dns_name_hash("www.example.com", 15));
	assert_string_equal(dns_str(&M, M.rr[0].name), "WWW.Example.COM");
	assert_int_equal(M.rr[0].type, DNS_T_CNAME);
	assert_int_equal(M.rr[0].ttl, 300);
	assert_string_equal(dns_str(&M, M.rr[0].data), "web.Example.COM");
	assert_string_equal(dns_str(&M, M.rr[1].name), "web.Example.COM");
	assert_int_equal(M.rr[1].type, DNS_T_A);
	assert_string_equal(dns_str(&M, M.rr[1].data), "192.0.2.10");
	assert_int_equal(M.rr[1].addr.family, 4);
	assert_int_equal(M.rr[1].addr.a[3], 10);
	assert_string_equal(dns_str(&M, M.rr[2].data), "2001:db8::10");
	assert_int_equal(M.rr[2].addr.family, 6);
	assert_int_equal(M.rr[3].section, DNS_SEC_NS);
	assert_int_equal(M.rr[3].type, DNS_T_SOA);
	assert_string_equal(dns_str(&M, M.rr[3].data),
			    "ns.Example.COM hostmaster.Example.COM 7 3600 600 86400 300");
	for (int i = 0; i < 4; i++)
		assert_int_equal(M.rr[i].flags, 0);
	assert_int_equal(M.anomalies, 0);
}

/* The same CNAME data differing only in case hashes the same; a different target not. */
static void test_data_hash_folds_case(void **state)
{
	(void)state;
	uint8_t b[sizeof(response)];
	memcpy(b, response, sizeof(b));
	assert_int_equal(parse(b, sizeof(b)), DEC_DNS_OK);
	uint64_t cname = M.rr[0].data_hash, a = M.rr[1].data_hash;
	b[46] = 'W'; /* "web" -> "Web" in the CNAME target */
	assert_int_equal(parse(b, sizeof(b)), DEC_DNS_OK);
	assert_true(M.rr[0].data_hash == cname);
	b[47] = 'x'; /* "Web" -> "Wxb" */
	assert_int_equal(parse(b, sizeof(b)), DEC_DNS_OK);
	assert_true(M.rr[0].data_hash != cname);
	b[66] = 11; /* 192.0.2.10 -> 192.0.2.11 */
	assert_int_equal(parse(b, sizeof(b)), DEC_DNS_OK);
	assert_true(M.rr[1].data_hash != a);
}

/* MX, TXT, NS, PTR, SRV, HTTPS (alpn, port, ipv4hint, ipv6hint, unknown key), an
 * unknown type, and OPT with extended RCODE (BADCOOKIE = 23 -> ext 1, header 7). */
static const uint8_t many_types[] = {
	0xbe, 0xef, 0x81, 0x87, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,
	/* @12 question: ex.org HTTPS IN */
	2, 'e', 'x', 3, 'o', 'r', 'g', 0, 0x00, 0x41, 0x00, 0x01,
	/* @24 MX 10 mail.ex.org */
	0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x09, 0x00, 0x0a, 4, 'm', 'a', 'i', 'l', 0xc0, 0x0c,
	/* TXT "v=1" "a b" */
	0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x08, 3, 'v', '=', '1', 3, 'a', ' ', 'b',
	/* NS ns1.ex.org */
	0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x06, 3, 'n', 's', '1', 0xc0, 0x0c,
	/* PTR root-ish: "x." + ptr */
	0xc0, 0x0c, 0x00, 0x0c, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x04, 1, 'x', 0xc0, 0x0c,
	/* SRV 1 2 443 ex.org */
	0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x08, 0, 1, 0, 2, 0x01, 0xbb, 0xc0, 0x0c,
	/* HTTPS 1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1 key7 */
	0xc0, 0x0c, 0x00, 0x41, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x33,
	0x00, 0x01, 0x00,                                   /* prio 1, target "." */
	0x00, 0x01, 0x00, 0x06, 2, 'h', '2', 2, 'h', '3',   /* alpn */
	0x00, 0x03, 0x00, 0x02, 0x20, 0xfb,                 /* port 8443 */
	0x00, 0x04, 0x00, 0x04, 192, 0, 2, 1,               /* ipv4hint */
	0x00, 0x06, 0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* ipv6hint */
	0x00, 0x07, 0x00, 0x00,                             /* key7, empty */
	/* type 99 (SPF-ish, unknown to us): 3 bytes */
	0xc0, 0x0c, 0x00, 0x63, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x03, 0xde, 0xad, 0x01,
	/* OPT: ., 4096, ext-rcode 1, version 0, no flags, no data */
	0x00, 0x00, 0x29, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_many_types(void **state)
{
	(void)state;
	assert_int_equal(parse(many_types, sizeof(many_types)), DEC_DNS_OK);
	assert_int_equal(M.nrr, 7);
	assert_string_equal(dns_str(&M, M.rr[0].data), "10 mail.ex.org");
	assert_string_equal(dns_str(&M, M.rr[1].data), "\"v=1\" \"a b\"");
	assert_string_equal(dns_str(&M, M.rr[2].data), "ns1.ex.org");
	assert_string_equal(dns_str(&M, M.rr[3].data), "x.ex.org");
	assert_string_equal(dns_str(&M, M.rr[4].data), "1 2 443 ex.org");
	assert_string_equal(dns_str(&M, M.rr[5].data),
			    "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1 key7");
	assert_string_equal(dns_str(&M, M.rr[6].data), "\\# 3 dead01");
	for (int i = 0; i < 7; i++)
		assert_int_equal(M.rr[i].flags, 0);
	assert_true(M.has_opt);
	assert_int_equal(M.rcode, 23); /* (1 << 4) | 7 */
	assert_int_equal(M.edns_udp_size, 4096);
	assert_int_equal(M.anomalies, 0);
}

/* ---------------------------------------------------------------- a builder */

struct b {
	uint8_t d[70000];
	size_t n;
};

static void put8(struct b *b, uint8_t v)
{
	b->d[b->n++] = v;
}

static void put16(struct b *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static void put32(struct b *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void hdr(struct b *b, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	b->n = 0;
	put16(b, 0x4242);
	put16(b, flags);
	put16(b, qd);
	put16(b, an);
	put16(b, ns);
	put16(b, ar);
}

static void name(struct b *b, const char *dotted)
{
	while (*dotted) {
		const char *e = strchr(dotted, '.');
		size_t l = e ? (size_t)(e - dotted) : strlen(dotted);
		put8(b, (uint8_t)l);
		memcpy(&b->d[b->n], dotted, l);
		b->n += l;
		dotted += l + (e ? 1 : 0);
	}
	put8(b, 0);
}

static void rr_a(struct b *b, uint8_t last)
{
	put16(b, DNS_T_A);
	put16(b, DNS_C_IN);
	put32(b, 60);
	put16(b, 4);
	put8(b, 192);
	put8(b, 0);
	put8(b, 2);
	put8(b, last);
}

/* ---------------------------------------------------------------- hostile names */

/* Answer owner is a pointer to itself (offset 12: the question is empty, qd 0). */
static void test_ptr_self_loop(void **state)
{
	(void)state;
	static const uint8_t m[] = {
		0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, /* an 1 */
		0xc0, 0x0c,                               /* @12 owner: ptr 12 (itself) */
		0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	};
	assert_int_equal(parse(m, sizeof(m)), DEC_DNS_ERR_PTR_FORWARD);
	assert_int_equal(M.stage, DNS_STAGE_QUESTION);
	assert_false(dec_dns_usable(&M));
}

/* Pointers that point forward of themselves: the first step of every two-pointer loop
 * (tcpdump's dns-zlip captures). */
static void test_ptr_two_loop(void **state)
{
	(void)state;
	static const uint8_t m[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, /* qd 1 */
		1, 'a', 0xc0, 0x11,                       /* @12 "a" + ptr 17 (forward) */
		0, 1, 0, 1,
	};
	assert_int_equal(parse(m, sizeof(m)), DEC_DNS_ERR_PTR_FORWARD);

	static const uint8_t loop[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, /* qd 1 */
		1, 'a', 0xc0, 0x10,                       /* @12 "a" + ptr 16 (at 14: forward) */
		0xc0, 0x0c,                               /* @16 ptr 12, which would loop */
		0, 1, 0, 1,
	};
	assert_int_equal(parse(loop, sizeof(loop)), DEC_DNS_ERR_PTR_FORWARD);
}

/* A loop whose every pointer points below itself: only the rule "below the previous
 * target" stops it. */
static void test_ptr_not_below_previous_target(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	hdr(b, 0x8180, 0, 2, 0, 0);
	/* RR 1 at 12: owner "." type 99 rdlen 6: bytes @23: 1 'b' 0xc0 23 ... */
	put8(b, 0);                  /* @12 owner root */
	put16(b, 99);
	put16(b, 1);
	put32(b, 0);
	put16(b, 6);                 /* @21 rdlen; rdata @23 */
	put8(b, 1);
	put8(b, 'b');                /* @23 "b" */
	put8(b, 1);
	put8(b, 'c');                /* @25 "c" */
	put8(b, 0xc0);
	put8(b, 23);                 /* @27 ptr 23: back to "b" -> "b" "c" ptr 23 again */
	/* RR 2 owner: ptr 25 -> "c", ptr 23 (below 25: allowed) -> "b" "c", ptr 23: not
	 * below the previous target 23: refused, so the loop cannot spin. */
	put8(b, 0xc0);
	put8(b, 25);
	rr_a(b, 1);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_ERR_PTR_FORWARD);
	free(b);
}

static void test_ptr_past_end_and_header(void **state)
{
	(void)state;
	static const uint8_t past[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, /* @12 ptr 16383: past the end (and forward) */
		0, 1, 0, 1,
	};
	assert_int_equal(parse(past, sizeof(past)), DEC_DNS_ERR_PTR_FORWARD);
	static const uint8_t header[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, 0x02, /* @12 ptr 2: into the header */
		0, 1, 0, 1,
	};
	assert_int_equal(parse(header, sizeof(header)), DEC_DNS_ERR_PTR_HEADER);
	static const uint8_t cut[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, /* @12 half a pointer */
	};
	assert_int_equal(parse(cut, sizeof(cut)), DEC_DNS_ERR_NAME_TRUNC);
}

/* A chain of n pointers, each to the one before, ending at a root byte. */
static int chain(unsigned n)
{
	struct b *b = calloc(1, sizeof(*b));
	hdr(b, 0x8180, 0, 2, 0, 0);
	put8(b, 0); /* @12 owner root */
	put16(b, 99);
	put16(b, 1);
	put32(b, 0);
	put16(b, (uint16_t)(1 + 2 * n));
	size_t root = b->n;
	put8(b, 0);
	size_t prev = root;
	for (unsigned i = 0; i < n; i++) {
		size_t here = b->n;
		put8(b, (uint8_t)(0xc0 | prev >> 8));
		put8(b, (uint8_t)prev);
		prev = here;
	}
	put8(b, (uint8_t)(0xc0 | prev >> 8)); /* RR 2 owner: ptr to the last link */
	put8(b, (uint8_t)prev);
	rr_a(b, 2);
	int rc = parse(b->d, b->n);
	free(b);
	return rc;
}

static void test_ptr_chain_cap(void **state)
{
	(void)state;
	assert_int_equal(chain(DNS_MAX_PTRS - 1), DEC_DNS_OK);
	assert_string_equal(dns_str(&M, M.rr[1].name), ".");
	assert_int_equal(chain(DNS_MAX_PTRS), DEC_DNS_ERR_PTR_MANY);
	assert_int_equal(chain(1000), DEC_DNS_ERR_PTR_MANY);
}

/* Names of exactly 255 bytes parse; 256 and more are refused, also when the excess
 * comes through a pointer. */
static void test_name_length(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	char lab[64];
	memset(lab, 'x', 63);
	lab[63] = '\0';
	/* 3 x (1 + 63) + (1 + 61) + 1 = 255 */
	char n255[300], n256[300];
	snprintf(n255, sizeof(n255), "%s.%s.%s.%.61s", lab, lab, lab, lab);
	snprintf(n256, sizeof(n256), "%s.%s.%s.%.62s", lab, lab, lab, lab);
	hdr(b, 0, 1, 0, 0, 0);
	name(b, n255);
	put16(b, 1);
	put16(b, 1);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_OK);
	assert_int_equal(M.q[0].name.len, 253);
	hdr(b, 0, 1, 0, 0, 0);
	name(b, n256);
	put16(b, 1);
	put16(b, 1);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_ERR_NAME_LONG);

	/* Through a pointer: question = 4 x 63-byte labels is too long already at the
	 * 4th; build instead a 200-byte question and an answer owner of 60 bytes + ptr. */
	hdr(b, 0x8180, 1, 1, 0, 0);
	snprintf(n255, sizeof(n255), "%s.%s.%.70s", lab, lab, lab); /* 1+63+1+63+1+63+1 = 193 */
	name(b, n255);
	put16(b, 1);
	put16(b, 1);
	put8(b, 63);
	memcpy(&b->d[b->n], lab, 63);
	b->n += 63; /* + 64 = 257 with the 193 behind the pointer */
	put8(b, 0xc0);
	put8(b, 12);
	rr_a(b, 3);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_ERR_NAME_LONG);
	assert_int_equal(M.stage, DNS_STAGE_QUESTION);
	free(b);
}

static void test_label_types(void **state)
{
	(void)state;
	static const uint8_t ext[] = {
		0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		0x41, 0x00, /* extended label type 0x40 (RFC 2673, deprecated) */
		0, 1, 0, 1,
	};
	assert_int_equal(parse(ext, sizeof(ext)), DEC_DNS_ERR_LABEL_TYPE);
	uint8_t res[sizeof(ext)];
	memcpy(res, ext, sizeof(res));
	res[12] = 0x81; /* reserved 0x80 */
	assert_int_equal(parse(res, sizeof(res)), DEC_DNS_ERR_LABEL_TYPE);
}

/* Labels with '.' '\\' and binary bytes escape; a space too. */
static void test_name_escapes(void **state)
{
	(void)state;
	static const uint8_t m[] = {
		0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		5, 'a', '.', 'b', '\\', 0x00, 3, 0xc3, ' ', 0x7f, 0,
		0, 1, 0, 1,
	};
	assert_int_equal(parse(m, sizeof(m)), DEC_DNS_OK);
	assert_string_equal(dns_str(&M, M.q[0].name), "a\\.b\\\\\\000.\\195\\032\\127");
}

/* ---------------------------------------------------------------- counts and framing */

static void test_counts_larger_than_message(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	hdr(b, 0x8180, 1, 65535, 65535, 65535);
	name(b, "a.example");
	put16(b, 1);
	put16(b, 1);
	put8(b, 0xc0);
	put8(b, 12);
	rr_a(b, 4);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_ERR_COUNTS);
	assert_int_equal(M.nrr, 1); /* what was there is kept */
	assert_int_equal(M.stage, DNS_STAGE_QUESTION);
	hdr(b, 0, 65535, 0, 0, 0);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_ERR_COUNTS);
	free(b);
}

static void test_framing_errors(void **state)
{
	(void)state;
	assert_int_equal(parse(query, 11), DEC_DNS_ERR_HEADER);
	assert_int_equal(M.stage, DNS_STAGE_NONE);
	assert_int_equal(parse(query, 0), DEC_DNS_ERR_HEADER);
	/* Question name complete, type/class cut. */
	assert_int_equal(parse(query, 12 + 17 + 3), DEC_DNS_ERR_QUESTION);
	/* Question name cut in a label. */
	assert_int_equal(parse(query, 12 + 5), DEC_DNS_ERR_NAME_TRUNC);
	/* Record header cut (after the OPT owner). */
	assert_int_equal(parse(query, 12 + 21 + 1 + 5), DEC_DNS_ERR_RR);
	/* RDLENGTH past the end. */
	assert_int_equal(parse(query, sizeof(query) - 1), DEC_DNS_ERR_RDLEN);
	/* Authority cut: answers are complete, so the message is still usable. */
	assert_int_equal(parse(response, sizeof(response) - 1), DEC_DNS_ERR_RDLEN);
	assert_int_equal(M.stage, DNS_STAGE_ANSWER);
	assert_true(dec_dns_usable(&M));
	assert_int_equal(M.nan, 3);
}

/* Every prefix of every good message parses without reading past it, and only the
 * full length succeeds. */
static void test_every_truncation(void **state)
{
	(void)state;
	const struct {
		const uint8_t *b;
		size_t n;
	} good[] = { { query, sizeof(query) }, { response, sizeof(response) },
		     { many_types, sizeof(many_types) } };
	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		for (size_t n = 0; n < good[g].n; n++) {
			int rc = parse(good[g].b, n);
			if (rc == DEC_DNS_OK)
				fail_msg("message %zu: prefix %zu of %zu parsed", g, n, good[g].n);
			assert_true(rc > 0 && rc < DEC_DNS_ERR_MAX);
		}
		assert_int_equal(parse(good[g].b, good[g].n), DEC_DNS_OK);
	}
}

static void test_trailing_bytes(void **state)
{
	(void)state;
	uint8_t b[sizeof(response) + 3];
	memcpy(b, response, sizeof(response));
	memset(b + sizeof(response), 0xee, 3);
	assert_int_equal(parse(b, sizeof(b)), DEC_DNS_OK);
	assert_true(M.anomalies & DNS_ANOM_TRAILING);
}

/* ---------------------------------------------------------------- record data */

static void test_bad_rdata(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	hdr(b, 0x8180, 0, 5, 0, 0);
	/* A with 5 bytes */
	put8(b, 0);
	put16(b, DNS_T_A);
	put16(b, 1);
	put32(b, 1);
	put16(b, 5);
	put32(b, 0xc0000201);
	put8(b, 9);
	/* AAAA with 4 */
	put8(b, 0);
	put16(b, DNS_T_AAAA);
	put16(b, 1);
	put32(b, 1);
	put16(b, 4);
	put32(b, 0xc0000201);
	/* CNAME whose name runs past its RDLENGTH (window end) */
	put8(b, 0);
	put16(b, DNS_T_CNAME);
	put16(b, 1);
	put32(b, 1);
	put16(b, 3);
	put8(b, 5);
	put8(b, 'a');
	put8(b, 'b');
	/* SVCB with a parameter longer than the data (zeek's rdlength mismatch) */
	put8(b, 0);
	put16(b, DNS_T_SVCB);
	put16(b, 1);
	put32(b, 1);
	put16(b, 7);
	put16(b, 1);
	put8(b, 0);
	put16(b, 1);
	put16(b, 9);
	/* TXT empty */
	put8(b, 0);
	put16(b, DNS_T_TXT);
	put16(b, 1);
	put32(b, 1);
	put16(b, 0);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_OK);
	assert_int_equal(M.nrr, 5);
	for (int i = 0; i < 5; i++) {
		assert_true(M.rr[i].flags & DNS_RR_F_BAD_RDATA);
		assert_int_equal(M.rr[i].addr.family, 0);
	}
	assert_string_equal(dns_str(&M, M.rr[0].data), "\\# 5 c000020109");
	assert_true(M.anomalies & DNS_ANOM_RDATA);
	free(b);
}

static void test_opt_anomalies(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	/* OPT in the answer section, and twice in the additional section */
	hdr(b, 0x8180, 0, 1, 0, 2);
	for (int i = 0; i < 3; i++) {
		put8(b, 0);
		put16(b, DNS_T_OPT);
		put16(b, 1232);
		put32(b, 0);
		put16(b, 0);
	}
	assert_int_equal(parse(b->d, b->n), DEC_DNS_OK);
	assert_true(M.anomalies & DNS_ANOM_OPT);
	assert_true(M.has_opt);
	/* Option length past the OPT data */
	hdr(b, 0x8180, 0, 0, 0, 1);
	put8(b, 0);
	put16(b, DNS_T_OPT);
	put16(b, 1232);
	put32(b, 0);
	put16(b, 4);
	put16(b, 8);
	put16(b, 9);
	assert_int_equal(parse(b->d, b->n), DEC_DNS_OK);
	assert_true(M.anomalies & DNS_ANOM_OPT);
	free(b);
}

/* ---------------------------------------------------------------- caps */

static void test_caps(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	hdr(b, 0x8180, DNS_MAX_QUESTIONS + 2, DNS_MAX_RRS + 6, 0, 0);
	for (int i = 0; i < DNS_MAX_QUESTIONS + 2; i++) {
		name(b, "q.example");
		put16(b, 1);
		put16(b, 1);
	}
	for (int i = 0; i < DNS_MAX_RRS + 6; i++) {
		put8(b, 0xc0);
		put8(b, 12);
		rr_a(b, (uint8_t)i);
	}
	assert_int_equal(parse(b->d, b->n), DEC_DNS_OK);
	assert_int_equal(M.nq, DNS_MAX_QUESTIONS);
	assert_int_equal(M.dropped_q, 2);
	assert_int_equal(M.nrr, DNS_MAX_RRS);
	assert_int_equal(M.nan, DNS_MAX_RRS);
	assert_int_equal(M.dropped_rr, 6);
	assert_true(M.anomalies & DNS_ANOM_DROPPED);
	free(b);
}

/* Names that escape to 4 bytes each fill the arena: later text is empty, flagged, and
 * hashes still work. */
static void test_arena_full(void **state)
{
	(void)state;
	struct b *b = calloc(1, sizeof(*b));
	uint8_t lab[63];
	memset(lab, 0x01, sizeof(lab));
	hdr(b, 0x8180, 0, DNS_MAX_RRS, 0, 0);
	for (int i = 0; i < DNS_MAX_RRS; i++) {
		for (int l = 0; l < 3; l++) {
			put8(b, 63);
			memcpy(&b->d[b->n], lab, 63);
			b->n += 63;
		}
		put8(b, 0);
		rr_a(b, 1);
	}
	assert_int_equal(parse(b->d, b->n), DEC_DNS_OK);
	assert_true(M.anomalies & DNS_ANOM_TEXT_FULL);
	assert_true(M.rr[DNS_MAX_RRS - 1].flags & DNS_RR_F_TEXT_CUT);
	assert_true(M.rr[DNS_MAX_RRS - 1].name_hash == M.rr[0].name_hash);
	assert_true(M.textlen <= DNS_TEXT_MAX);
	free(b);
}

/* ---------------------------------------------------------------- NetBIOS */

/* NBNS positive name query response: WORKGROUP<1B>?  Here "FHEPFCELEHFCEPFFFACACACACACACAAA"
 * = "WORKGROUP" padded with spaces, suffix 0x00; NB record 192.0.2.7. */
static const uint8_t nbns_resp[] = {
	0x80, 0x01, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x20, 'F', 'H', 'E', 'P', 'F', 'C', 'E', 'L', 'E', 'H', 'F', 'C', 'E', 'P', 'F', 'F',
	'F', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'A', 'A', 0x00,
	0x00, 0x20, 0x00, 0x01, 0x00, 0x04, 0x93, 0xe0, 0x00, 0x06, /* NB IN ttl, rdlen 6 */
	0x00, 0x00, 192, 0, 2, 7,                                   /* flags, 192.0.2.7 */
};

static void test_nbns(void **state)
{
	(void)state;
	assert_int_equal(parse(nbns_resp, sizeof(nbns_resp)), DEC_DNS_OK);
	assert_int_equal(M.nan, 1);
	assert_int_equal(M.rr[0].type, DNS_T_NB);
	assert_int_equal(M.rr[0].addr.family, 4);
	assert_string_equal(dns_str(&M, M.rr[0].data), "192.0.2.7");
	char out[64];
	uint8_t sfx = 0xff;
	const char *t = dns_str(&M, M.rr[0].name);
	assert_int_equal(dec_nbns_name(t, strlen(t), out, sizeof(out), &sfx), 0);
	assert_string_equal(out, "WORKGROUP");
	assert_int_equal(sfx, 0);
	/* With a scope, and "WPAD" <00>. */
	assert_int_equal(dec_nbns_name("FHFAEBEECACACACACACACACACACACAAA.scope", 38, out, sizeof(out), &sfx), 0);
	assert_string_equal(out, "WPAD");
	/* Not encoded: too short, a letter past 'P', a longer first label. */
	assert_int_equal(dec_nbns_name("wpad", 4, out, sizeof(out), &sfx), -1);
	assert_int_equal(dec_nbns_name("FHFAEBEECACACACACACACACACACACAAZ", 32, out, sizeof(out), &sfx), -1);
	assert_int_equal(dec_nbns_name("FHFAEBEECACACACACACACACACACACAAAA", 33, out, sizeof(out), &sfx), -1);
	/* A binary byte in the name escapes; a small buffer truncates safely. */
	assert_int_equal(dec_nbns_name("AAEBCACACACACACACACACACACACACAAA", 32, out, sizeof(out), &sfx), 0);
	assert_string_equal(out, "\\000A");
	assert_int_equal(dec_nbns_name("FHFAEBEECACACACACACACACACACACAAA", 32, out, 3, &sfx), 0);
	assert_string_equal(out, "WP");
}

static void test_strings(void **state)
{
	(void)state;
	for (int i = 0; i < DEC_DNS_ERR_MAX; i++) {
		assert_non_null(dec_dns_strerror(i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(dec_dns_strerror(i), dec_dns_strerror(j));
	}
	assert_string_equal(dec_dns_strerror(-1), "unknown");
	assert_string_equal(dec_dns_strerror(DEC_DNS_ERR_MAX), "unknown");
	for (unsigned i = 0; i < DNS_ANOM_COUNT; i++)
		assert_string_not_equal(dec_dns_anomaly_str(i), "unknown");
	assert_string_equal(dec_dns_anomaly_str(DNS_ANOM_COUNT), "unknown");
}

/* A message parsed into a reused struct keeps nothing of the previous one. */
static void test_reuse(void **state)
{
	(void)state;
	assert_int_equal(parse(response, sizeof(response)), DEC_DNS_OK);
	assert_int_equal(parse(query, sizeof(query)), DEC_DNS_OK);
	assert_int_equal(M.nrr, 0);
	assert_int_equal(M.nan, 0);
	assert_int_equal(M.rcode, 0);
	assert_int_equal(M.anomalies, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_data_hash_folds_case),
		cmocka_unit_test(test_many_types),
		cmocka_unit_test(test_ptr_self_loop),
		cmocka_unit_test(test_ptr_two_loop),
		cmocka_unit_test(test_ptr_not_below_previous_target),
		cmocka_unit_test(test_ptr_past_end_and_header),
		cmocka_unit_test(test_ptr_chain_cap),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_label_types),
		cmocka_unit_test(test_name_escapes),
		cmocka_unit_test(test_counts_larger_than_message),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_bad_rdata),
		cmocka_unit_test(test_opt_anomalies),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_arena_full),
		cmocka_unit_test(test_nbns),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
