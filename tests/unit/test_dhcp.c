/* test_dhcp.c - the DHCPv4/DHCPv6 decoder (monitor/decode/dhcp.c): messages, option
 * overload, long options split per RFC 3396, relay wrappers, every reason, truncation
 * at every length, hostile lengths (DHCP options are TLVs: the classic overread). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dhcp.h"

static uint8_t *heap;

/* The UDP payload as dec_packet() leaves it, in a heap block of its exact size. */
static void mkpkt(struct pkt *p, int version, uint16_t sport, uint16_t dport, const uint8_t *b, size_t len)
{
	static const uint8_t s4[4] = { 192, 0, 2, 67 }, d4[4] = { 255, 255, 255, 255 };
	static const uint8_t s6[16] = { 0xfe, 0x80, [15] = 0x47 }, d6[16] = { 0xfe, 0x80, [15] = 0x44 };
	memset(p, 0, sizeof(*p));
	p->flags = PKT_F_ETH | PKT_F_IP | PKT_F_UDP;
	p->ip_proto = 17;
	if (version == 4) {
		util_addr_set4(&p->src, s4);
		util_addr_set4(&p->dst, d4);
	} else {
		util_addr_set6(&p->src, s6);
		util_addr_set6(&p->dst, d6);
	}
	p->sport = sport;
	p->dport = dport;
	free(heap);
	heap = malloc(len ? len : 1);
	if (len)
		memcpy(heap, b, len);
	p->payload = len ? heap : NULL;
	p->payload_len = len;
}

/* A BOOTP reply header (236 bytes) + magic cookie, followed by opts; sname/file
 * optionally filled. Returns the length. */
static size_t bootp(uint8_t *b, size_t cap, uint8_t op, const uint8_t *opts, size_t nopts,
		    const uint8_t *sname, size_t nsname, const uint8_t *file, size_t nfile)
{
	assert_true(cap >= 240 + nopts);
	memset(b, 0, 240);
	b[0] = op;
	b[1] = 1;                             /* htype Ethernet */
	b[2] = 6;                             /* hlen */
	b[4] = 0x12, b[5] = 0x34, b[6] = 0x56, b[7] = 0x78; /* xid */
	b[16] = 192, b[17] = 0, b[18] = 2, b[19] = 23;     /* yiaddr */
	memcpy(&b[28], "\x02\x00\x00\x00\x00\x23", 6);     /* chaddr */
	if (sname)
		memcpy(&b[44], sname, nsname);
	if (file)
		memcpy(&b[108], file, nfile);
	b[236] = 0x63, b[237] = 0x82, b[238] = 0x53, b[239] = 0x63;
	memcpy(&b[240], opts, nopts);
	return 240 + nopts;
}

static const uint8_t offer_opts[] = {
	53, 1, 2,                                  /* message type OFFER */
	54, 4, 192, 0, 2, 67,                      /* server identifier */
	51, 4, 0x00, 0x01, 0x51, 0x80,             /* lease 86400 s */
	3, 8, 192, 0, 2, 1, 192, 0, 2, 2,          /* routers */
	6, 12, 192, 0, 2, 53, 192, 0, 2, 54, 198, 51, 100, 53, /* DNS servers */
	61, 7, 1, 2, 0, 0, 0, 0, 0x23,             /* client identifier */
	50, 4, 192, 0, 2, 23,                      /* requested IP */
	0, 0,                                      /* pads */
	255,                                       /* end */
};
/* Offsets in offer_opts where an option starts or the end/pad is: a cut there is a
 * valid message with fewer options. */
static const size_t offer_bounds[] = { 0, 3, 9, 15, 25, 39, 48, 54, 55, 56, 57 };

static void test_offer(void **state)
{
	(void)state;
	uint8_t b[600];
	struct pkt p;
	struct dhcp_msg m;
	size_t len = bootp(b, sizeof(b), 2, offer_opts, sizeof(offer_opts), NULL, 0, NULL, 0);
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.version, 4);
	assert_int_equal(m.op, 2);
	assert_int_equal(m.type, DHCP_OFFER);
	assert_int_equal(m.xid, 0x12345678);
	assert_int_equal(m.hlen, 6);
	assert_memory_equal(m.chaddr, "\x02\x00\x00\x00\x00\x23", 6);
	assert_int_equal(m.yiaddr[3], 23);
	assert_true(m.has_server_id);
	assert_int_equal(m.server_id.family, 4);
	assert_int_equal(m.server_id.a[3], 67);
	assert_true(m.has_lease);
	assert_int_equal(m.lease_s, 86400);
	assert_int_equal(m.nrouters, 2);
	assert_int_equal(m.routers[1].a[3], 2);
	assert_int_equal(m.ndns, 3);
	assert_int_equal(m.dns[2].a[0], 198);
	assert_true(m.has_routers && m.has_dns);
	assert_int_equal(m.client_id_len, 7);
	assert_true(m.has_requested_ip);
	assert_int_equal(m.requested_ip[3], 23);
	assert_int_equal(m.noptions, 7);
	assert_int_equal(m.bad_options, 0);
	assert_int_equal(m.dropped, 0);
}

static void test_offer_truncated_everywhere(void **state)
{
	(void)state;
	uint8_t b[600];
	struct pkt p;
	struct dhcp_msg m;
	size_t len = bootp(b, sizeof(b), 2, offer_opts, sizeof(offer_opts), NULL, 0, NULL, 0);
	for (size_t l = 0; l < len; l++) {
		mkpkt(&p, 4, 67, 68, b, l);
		int e = dec_dhcp(&p, &m);
		if (l < 236)
			assert_int_equal(e, DHCP_ERR_SHORT);
		else if (l < 240)
			assert_int_equal(e, DHCP_ERR_COOKIE);
		else {
			bool boundary = false;
			for (size_t i = 0; i < ONPATH_ARRAY_LEN(offer_bounds); i++)
				boundary |= offer_bounds[i] == l - 240;
			assert_int_equal(e, boundary ? DHCP_OK : DHCP_ERR_OPT_TRUNC);
		}
	}
}

static void test_overload(void **state)
{
	(void)state;
	static const uint8_t opts[] = { 53, 1, 5, 52, 1, 3, 255 };     /* ACK, overload both */
	static const uint8_t file[] = { 3, 4, 192, 0, 2, 1, 54, 4, 192, 0, 2, 9, 255 };
	static const uint8_t sname[] = { 6, 4, 192, 0, 2, 53, 52, 1, 1, 255 }; /* 52 here: ignored */
	uint8_t b[600];
	struct pkt p;
	struct dhcp_msg m;
	size_t len = bootp(b, sizeof(b), 2, opts, sizeof(opts), sname, sizeof(sname), file, sizeof(file));
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.type, DHCP_ACK);
	assert_int_equal(m.overload, 3);
	assert_int_equal(m.nrouters, 1);
	assert_int_equal(m.ndns, 1);
	assert_true(m.has_server_id);
	assert_int_equal(m.server_id.a[3], 9);
	assert_int_equal(m.bad_options, 1);
	/* Overload "file" only: sname is text, not options. */
	static const uint8_t opts1[] = { 53, 1, 5, 52, 1, 1, 255 };
	len = bootp(b, sizeof(b), 2, opts1, sizeof(opts1), sname, sizeof(sname), file, sizeof(file));
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.nrouters, 1);
	assert_int_equal(m.ndns, 0);
	/* An overloaded field whose option runs past its 128 bytes. */
	uint8_t longfile[128];
	memset(longfile, 0, sizeof(longfile));
	longfile[126] = 3, longfile[127] = 8;
	len = bootp(b, sizeof(b), 2, opts1, sizeof(opts1), NULL, 0, longfile, sizeof(longfile));
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_OPT_TRUNC);
	/* Overload value 4 overloads nothing. */
	static const uint8_t opts4[] = { 53, 1, 5, 52, 1, 4, 255 };
	len = bootp(b, sizeof(b), 2, opts4, sizeof(opts4), sname, sizeof(sname), file, sizeof(file));
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.overload, 0);
	assert_int_equal(m.nrouters, 0);
	assert_int_equal(m.bad_options, 1);
}

static void test_long_option_concatenation(void **state)
{
	(void)state;
	/* RFC 3396: one DNS list cut after 5 bytes into two instances. */
	static const uint8_t opts[] = {
		53, 1, 5,
		6, 5, 192, 0, 2, 53, 198,
		6, 3, 51, 100, 53,
		255,
	};
	uint8_t b[600];
	struct pkt p;
	struct dhcp_msg m;
	size_t len = bootp(b, sizeof(b), 2, opts, sizeof(opts), NULL, 0, NULL, 0);
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.ndns, 2);
	assert_int_equal(m.dns[1].a[0], 198);
	assert_int_equal(m.dns[1].a[3], 53);
	assert_int_equal(m.bad_options, 0);
}

static void test_caps_and_bad_lengths(void **state)
{
	(void)state;
	uint8_t opts[1400], b[1700];
	size_t o = 0;
	struct pkt p;
	struct dhcp_msg m;
	memset(opts, 0, sizeof(opts));
	opts[o++] = 53, opts[o++] = 2, opts[o++] = 5, opts[o++] = 5; /* type, length 2 */
	opts[o++] = 54, opts[o++] = 3, opts[o++] = 1, opts[o++] = 2, opts[o++] = 3;
	opts[o++] = 51, opts[o++] = 2, opts[o++] = 0, opts[o++] = 0;
	opts[o++] = 50, opts[o++] = 5, o += 5;
	opts[o++] = 3, opts[o++] = 6, o += 6; /* not a multiple of 4 */
	/* 5 DNS options of 252 bytes: more than DHCP_MAX_OPT_BYTES and DHCP_MAX_DNS */
	for (int i = 0; i < 5; i++) {
		opts[o++] = 6, opts[o++] = 252;
		memset(&opts[o], 10, 252);
		o += 252;
	}
	opts[o++] = 255;
	assert_true(o <= sizeof(opts));
	size_t len = bootp(b, sizeof(b), 2, opts, o, NULL, 0, NULL, 0);
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.type, 0);
	assert_false(m.has_server_id);
	assert_false(m.has_lease);
	assert_false(m.has_requested_ip);
	assert_int_equal(m.nrouters, 1);
	assert_int_equal(m.ndns, DHCP_MAX_DNS);
	assert_int_equal(m.bad_options, 5);
	assert_true(m.dropped > 0);
	/* A client identifier longer than DHCP_MAX_ID. */
	uint8_t big[3 + 2 * 257];
	size_t n = 0;
	big[n++] = 61, big[n++] = 255;
	memset(&big[n], 7, 255), n += 255;
	big[n++] = 61, big[n++] = 255;
	memset(&big[n], 7, 255), n += 255;
	big[n++] = 255;
	len = bootp(b, sizeof(b), 2, big, n, NULL, 0, NULL, 0);
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.client_id_len, DHCP_MAX_ID);
	assert_int_equal(m.dropped, 1);
	/* hlen beyond chaddr's 16 bytes. */
	len = bootp(b, sizeof(b), 2, offer_opts, sizeof(offer_opts), NULL, 0, NULL, 0);
	b[2] = 200;
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.hlen, 200);
}

static void test_v4_reasons(void **state)
{
	(void)state;
	uint8_t b[600];
	struct pkt p;
	struct dhcp_msg m;
	size_t len = bootp(b, sizeof(b), 3, offer_opts, sizeof(offer_opts), NULL, 0, NULL, 0);
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_OP);
	len = bootp(b, sizeof(b), 1, offer_opts, sizeof(offer_opts), NULL, 0, NULL, 0);
	b[236] = 0x64; /* bad cookie */
	mkpkt(&p, 4, 68, 67, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_COOKIE);
	/* Option code as the last byte: its length is missing. */
	static const uint8_t cut[] = { 53 };
	len = bootp(b, sizeof(b), 2, cut, sizeof(cut), NULL, 0, NULL, 0);
	mkpkt(&p, 4, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_OPT_TRUNC);
	/* Not DHCP: wrong ports for the IP version, or not UDP. */
	len = bootp(b, sizeof(b), 2, offer_opts, sizeof(offer_opts), NULL, 0, NULL, 0);
	mkpkt(&p, 4, 546, 547, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_NOT_DHCP);
	mkpkt(&p, 6, 67, 68, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_NOT_DHCP);
	mkpkt(&p, 4, 67, 68, b, len);
	p.flags = PKT_F_IP | PKT_F_TCP;
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_NOT_DHCP);
	mkpkt(&p, 4, 1000, 2000, b, len);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_NOT_DHCP);
	mkpkt(&p, 4, 67, 68, NULL, 0);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_SHORT);
}

/* DHCPv6 ADVERTISE: client id, server id (DUID-LL), IA_NA with one IAADDR, DNS (2). */
static const uint8_t adv[] = {
	0x02, 0xab, 0xcd, 0xef,                               /* ADVERTISE, xid */
	0x00, 0x01, 0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0x23, /* client DUID-LL */
	0x00, 0x02, 0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0x47, /* server DUID-LL */
	0x00, 0x03, 0x00, 0x28,                               /* IA_NA, 40 bytes */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x15, 0x18, /* IAID, T1, T2 */
	0x00, 0x05, 0x00, 0x18,                               /* IAADDR, 24 bytes */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x23,
	0x00, 0x00, 0x1c, 0x20, 0x00, 0x00, 0x2a, 0x30,       /* preferred 7200, valid 10800 */
	0x00, 0x17, 0x00, 0x20,                               /* DNS servers, 32 bytes */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x54,
};
static const size_t adv_bounds[] = { 4, 18, 32, 76, sizeof(adv) };

static void test_v6_advertise(void **state)
{
	(void)state;
	struct pkt p;
	struct dhcp_msg m;
	mkpkt(&p, 6, 547, 546, adv, sizeof(adv));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.version, 6);
	assert_int_equal(m.type, DHCP6_ADVERTISE);
	assert_int_equal(m.xid, 0xabcdef);
	assert_int_equal(m.client_id_len, 10);
	assert_int_equal(m.server_duid_len, 10);
	assert_int_equal(m.server_duid[9], 0x47);
	assert_int_equal(m.naddrs, 1);
	assert_int_equal(m.addrs[0].a[15], 0x23);
	assert_true(m.has_lease);
	assert_int_equal(m.lease_s, 10800);
	assert_int_equal(m.ndns, 2);
	assert_int_equal(m.dns[1].a[15], 0x54);
	for (size_t l = 0; l < sizeof(adv); l++) {
		mkpkt(&p, 6, 547, 546, adv, l);
		int e = dec_dhcp(&p, &m);
		bool boundary = false;
		for (size_t i = 0; i < ONPATH_ARRAY_LEN(adv_bounds); i++)
			boundary |= adv_bounds[i] == l;
		if (l < 4)
			assert_int_equal(e, DHCP_ERR_SHORT);
		else
			assert_int_equal(e, boundary ? DHCP_OK : DHCP_ERR_OPT_TRUNC);
	}
}

static void test_v6_hostile(void **state)
{
	(void)state;
	struct pkt p;
	struct dhcp_msg m;
	uint8_t b[sizeof(adv)];
	/* IA_NA whose inner option claims more than the IA holds. */
	memcpy(b, adv, sizeof(adv));
	b[50] = 0x00, b[51] = 0x30;
	mkpkt(&p, 6, 547, 546, b, sizeof(b));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_OPT_TRUNC);
	/* IAADDR shorter than its fixed part: ignored and counted. */
	memcpy(b, adv, sizeof(adv));
	b[51] = 0x04;
	b[35] = 12 + 4 + 4;
	static const uint8_t tail[] = { 0x00, 0x17, 0x00, 0x00 };
	memcpy(&b[56], tail, sizeof(tail));
	mkpkt(&p, 6, 547, 546, b, 60);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.naddrs, 0);
	assert_int_equal(m.bad_options, 1);
	assert_true(m.has_dns);
	assert_int_equal(m.ndns, 0);
	/* IA_NA shorter than IAID/T1/T2. */
	static const uint8_t shortia[] = { 0x07, 0, 0, 1, 0x00, 0x03, 0x00, 0x04, 1, 2, 3, 4 };
	mkpkt(&p, 6, 547, 546, shortia, sizeof(shortia));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.bad_options, 1);
	/* DNS option whose length is not a multiple of 16. */
	static const uint8_t odd[] = { 0x07, 0, 0, 1, 0x00, 0x17, 0x00, 0x11,
				       0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, 0xee };
	mkpkt(&p, 6, 547, 546, odd, sizeof(odd));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.ndns, 1);
	assert_int_equal(m.bad_options, 1);
	/* More DNS servers than DHCP_MAX_DNS. */
	uint8_t many[4 + 4 + 16 * (DHCP_MAX_DNS + 2)];
	memset(many, 0, sizeof(many));
	many[0] = 7;
	many[5] = 23;
	many[7] = (uint8_t)(16 * (DHCP_MAX_DNS + 2));
	mkpkt(&p, 6, 547, 546, many, sizeof(many));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.ndns, DHCP_MAX_DNS);
	assert_int_equal(m.dropped, 2);
	/* A DUID longer than DHCP_MAX_ID. */
	uint8_t duid[4 + 4 + 200];
	memset(duid, 1, sizeof(duid));
	duid[0] = 7, duid[4] = 0, duid[5] = 2, duid[6] = 0, duid[7] = 200;
	mkpkt(&p, 6, 547, 546, duid, sizeof(duid));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.server_duid_len, DHCP_MAX_ID);
	assert_int_equal(m.dropped, 1);
}

static void test_v6_relay(void **state)
{
	(void)state;
	struct pkt p;
	struct dhcp_msg m;
	/* RELAY-REPL (hop 0, link, peer) wrapping the ADVERTISE in option 9. */
	uint8_t b[34 + 4 + sizeof(adv) + 8];
	size_t o = 0;
	memset(b, 0, sizeof(b));
	b[o++] = DHCP6_RELAY_REPL;
	o += 33;
	b[o++] = 0x00, b[o++] = 0x12, b[o++] = 0x00, b[o++] = 0x04; /* interface-id first */
	b[o++] = 'e', b[o++] = 't', b[o++] = 'h', b[o++] = '0';
	b[o++] = 0x00, b[o++] = 0x09, b[o++] = 0x00, b[o++] = (uint8_t)sizeof(adv);
	memcpy(&b[o], adv, sizeof(adv));
	o += sizeof(adv);
	assert_int_equal(o, sizeof(b));
	mkpkt(&p, 6, 547, 547, b, sizeof(b));
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.type, DHCP6_ADVERTISE);
	assert_int_equal(m.relay_hops, 1);
	assert_int_equal(m.ndns, 2);
	/* Without its Relay Message option. */
	mkpkt(&p, 6, 547, 547, b, 42);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_RELAY);
	/* Header truncated. */
	mkpkt(&p, 6, 547, 547, b, 20);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_SHORT);
	/* Nested past DHCP6_MAX_RELAY: each level wraps the next in option 9. */
	size_t depth = DHCP6_MAX_RELAY + 1, per = 34 + 4, total = depth * per + 4;
	uint8_t *nest = calloc(1, total);
	for (size_t i = 0; i < depth; i++) {
		uint8_t *h = &nest[i * per];
		size_t inner = total - (i + 1) * per + 4 - 4;
		h[0] = DHCP6_RELAY_FORW;
		h[34] = 0, h[35] = 9;
		h[36] = (uint8_t)(inner >> 8), h[37] = (uint8_t)inner;
	}
	nest[depth * per] = DHCP6_SOLICIT;
	mkpkt(&p, 6, 547, 547, nest, total);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_ERR_RELAY);
	/* The same nesting one level shallower is fine. */
	mkpkt(&p, 6, 547, 547, &nest[per], total - per);
	assert_int_equal(dec_dhcp(&p, &m), DHCP_OK);
	assert_int_equal(m.type, DHCP6_SOLICIT);
	assert_int_equal(m.relay_hops, DHCP6_MAX_RELAY);
	free(nest);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int i = 0; i < DHCP_ERR_MAX; i++)
		assert_string_not_equal(dec_dhcp_strerror(i), "unknown");
	assert_string_equal(dec_dhcp_strerror(DHCP_ERR_OPT_TRUNC), "opt_trunc");
	assert_string_equal(dec_dhcp_strerror(-3), "unknown");
	assert_string_equal(dec_dhcp_strerror(DHCP_ERR_MAX), "unknown");
}

static int teardown_all(void **state)
{
	(void)state;
	free(heap);
	heap = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_offer_truncated_everywhere),
		cmocka_unit_test(test_overload),
		cmocka_unit_test(test_long_option_concatenation),
		cmocka_unit_test(test_caps_and_bad_lengths),
		cmocka_unit_test(test_v4_reasons),
		cmocka_unit_test(test_v6_advertise),
		cmocka_unit_test(test_v6_hostile),
		cmocka_unit_test(test_v6_relay),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
