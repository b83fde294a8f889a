/* test_ndp.c - the Neighbor Discovery decoder (monitor/decode/ndp.c): every message
 * type, every option, every reason, truncation at every length, hostile options. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/ndp.h"

/* A packet as dec_packet() leaves it for ICMPv6: body = what follows the 4-byte
 * ICMPv6 header. The body is copied to a heap block of its exact size so ASan catches
 * a read one byte past it. */
static uint8_t *heap;

static void mkpkt(struct pkt *p, uint8_t type, const uint8_t *body, size_t len)
{
	static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 0x01 };
	static const uint8_t allnodes[16] = { 0xff, 0x02, [15] = 0x01 };
	memset(p, 0, sizeof(*p));
	p->flags = PKT_F_ETH | PKT_F_IP | PKT_F_ICMP;
	p->ip_proto = 58;
	p->ip_ttl = 255;
	util_addr_set6(&p->src, ll);
	util_addr_set6(&p->dst, allnodes);
	p->icmp_type = type;
	p->icmp_code = 0;
	free(heap);
	heap = malloc(len ? len : 1);
	if (len)
		memcpy(heap, body, len);
	p->payload = len ? heap : NULL;
	p->payload_len = len;
}

/* Router Advertisement: hop limit 64, M|O, lifetime 1800, reachable 0, retrans 0, then
 * SLLA, MTU, prefix 2001:db8:1::/64, RDNSS (2 servers), DNSSL (two names), route
 * information 2001:db8:2::/48. */
static const uint8_t ra[] = {
	0x40, 0xc0, 0x07, 0x08,                         /* cur hop limit 64, M|O, lifetime 1800 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* reachable, retrans */
	/* SLLA 02:00:00:00:00:01 (offset 12) */
	0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	/* MTU 1500 (offset 20) */
	0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
	/* prefix information 2001:db8:1::/64 L|A valid 2592000 preferred 604800 (offset 28) */
	0x03, 0x04, 0x40, 0xc0, 0x00, 0x27, 0x8d, 0x00, 0x00, 0x09, 0x3a, 0x80, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* RDNSS lifetime 600: 2001:db8::53, 2001:db8::54 (offset 60) */
	0x19, 0x05, 0x00, 0x00, 0x00, 0x00, 0x02, 0x58,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x54,
	/* DNSSL lifetime 600: "a.example", "b.example" + padding (offset 100), 4 units */
	0x1f, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x58,
	0x01, 'a', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x00,
	0x01, 'b', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x00,
	0x00, 0x00,
	/* route information 2001:db8:2::/48, high preference, lifetime 3600 (offset 132) */
	0x18, 0x02, 0x30, 0x08, 0x00, 0x00, 0x0e, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00,
};
/* Offsets where an option starts (a cut there leaves a valid shorter message). */
static const size_t ra_bounds[] = { 12, 20, 28, 60, 100, 132, sizeof(ra) };

static void test_ra(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	mkpkt(&p, NDP_RA, ra, sizeof(ra));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.type, NDP_RA);
	assert_int_equal(m.cur_hop_limit, 64);
	assert_int_equal(m.ra_flags & (NDP_RA_MANAGED | NDP_RA_OTHER), NDP_RA_MANAGED | NDP_RA_OTHER);
	assert_int_equal(m.router_lifetime_s, 1800);
	assert_true(m.has_sll);
	assert_memory_equal(m.sll, "\x02\x00\x00\x00\x00\x01", 6);
	assert_true(m.has_mtu);
	assert_int_equal(m.mtu, 1500);
	assert_int_equal(m.nprefixes, 1);
	assert_int_equal(m.prefixes[0].len, 64);
	assert_int_equal(m.prefixes[0].valid_s, 2592000);
	assert_int_equal(m.prefixes[0].preferred_s, 604800);
	assert_int_equal(m.prefixes[0].prefix[5], 1);
	assert_int_equal(m.nrdnss, 2);
	assert_int_equal(m.rdnss_lifetime_s, 600);
	assert_int_equal(m.rdnss[1][15], 0x54);
	assert_string_equal(m.dnssl, "a.example,b.example");
	assert_int_equal(m.nroutes, 1);
	assert_int_equal(m.routes[0].len, 48);
	assert_int_equal(m.routes[0].pref, 1);
	assert_int_equal(m.routes[0].lifetime_s, 3600);
	assert_int_equal(m.routes[0].prefix[5], 2);
	assert_int_equal(m.noptions, 6);
	assert_int_equal(m.bad_options, 0);
	assert_int_equal(m.dropped, 0);
}

static void test_ra_truncated_everywhere(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	for (size_t len = 0; len < sizeof(ra); len++) {
		mkpkt(&p, NDP_RA, ra, len);
		int e = dec_ndp(&p, &m);
		bool boundary = false;
		for (size_t i = 0; i < ONPATH_ARRAY_LEN(ra_bounds); i++)
			boundary |= ra_bounds[i] == len;
		if (len < 12)
			assert_int_equal(e, NDP_ERR_SHORT);
		else if (boundary)
			assert_int_equal(e, NDP_OK);
		else
			assert_int_equal(e, NDP_ERR_OPT_TRUNC);
	}
}

/* Neighbor Advertisement: R|S|O, target fe80::1, TLLA 02:00:00:00:00:0a. */
static const uint8_t na[] = {
	0xe0, 0x00, 0x00, 0x00,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
};

static void test_na(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	mkpkt(&p, NDP_NA, na, sizeof(na));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.na_flags, NDP_NA_ROUTER | NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
	assert_int_equal(m.target[0], 0xfe);
	assert_int_equal(m.target[15], 1);
	assert_true(m.has_tll);
	assert_false(m.has_sll);
	assert_int_equal(m.tll[5], 0x0a);
	/* Truncations: fixed part, then inside the option. */
	for (size_t len = 0; len < sizeof(na); len++) {
		mkpkt(&p, NDP_NA, na, len);
		int e = dec_ndp(&p, &m);
		assert_int_equal(e, len < 20 ? NDP_ERR_SHORT : len == 20 ? NDP_OK : NDP_ERR_OPT_TRUNC);
	}
	/* A multicast target is invalid (RFC 4861 7.1.2). */
	uint8_t bad[sizeof(na)];
	memcpy(bad, na, sizeof(na));
	bad[4] = 0xff;
	mkpkt(&p, NDP_NA, bad, sizeof(bad));
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_INVALID);
}

/* Neighbor Solicitation for fe80::1 with SLLA 02:00:00:00:00:0b. */
static const uint8_t ns[] = {
	0x00, 0x00, 0x00, 0x00,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,
};

static void test_ns_and_dad(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	static const uint8_t unspec[16];
	mkpkt(&p, NDP_NS, ns, sizeof(ns));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_true(m.has_sll);
	assert_int_equal(m.sll[5], 0x0b);
	/* DAD probe from :: with an SLLA: invalid. Without it: fine. */
	mkpkt(&p, NDP_NS, ns, sizeof(ns));
	util_addr_set6(&p.src, unspec);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_INVALID);
	mkpkt(&p, NDP_NS, ns, 20);
	util_addr_set6(&p.src, unspec);
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
}

static void test_rs_and_redirect(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	static const uint8_t rs[] = { 0, 0, 0, 0, 0x01, 0x01, 0x02, 0, 0, 0, 0, 0x0c };
	mkpkt(&p, NDP_RS, rs, sizeof(rs));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_true(m.has_sll);
	mkpkt(&p, NDP_RS, rs, 3);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_SHORT);
	/* Redirect: target fe80::2, destination 2001:db8::9, redirected header option. */
	static const uint8_t rd[] = {
		0, 0, 0, 0,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09,
		0x04, 0x01, 0, 0, 0, 0, 0, 0,
	};
	mkpkt(&p, NDP_REDIRECT, rd, sizeof(rd));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.target[15], 2);
	assert_int_equal(m.dest[15], 9);
	assert_int_equal(m.unknown_options, 0);
	mkpkt(&p, NDP_REDIRECT, rd, 35);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_SHORT);
	/* Redirect and RA must come from a link-local address. */
	static const uint8_t global[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	mkpkt(&p, NDP_REDIRECT, rd, sizeof(rd));
	util_addr_set6(&p.src, global);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_INVALID);
	mkpkt(&p, NDP_RA, ra, sizeof(ra));
	util_addr_set6(&p.src, global);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_INVALID);
}

static void test_not_ndp(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	mkpkt(&p, 128, ra, sizeof(ra)); /* echo request */
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_NOT_NDP);
	mkpkt(&p, 138, ra, sizeof(ra));
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_NOT_NDP);
	mkpkt(&p, NDP_RA, ra, sizeof(ra));
	p.ip_proto = 1;
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_NOT_NDP);
	mkpkt(&p, NDP_RA, ra, sizeof(ra));
	p.flags &= ~PKT_F_ICMP;
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_NOT_NDP);
	mkpkt(&p, NDP_RA, ra, sizeof(ra));
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	util_addr_set4(&p.src, v4);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_NOT_NDP);
	/* Code and hop limit. */
	mkpkt(&p, NDP_RA, ra, sizeof(ra));
	p.icmp_code = 1;
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_CODE);
	mkpkt(&p, NDP_NA, na, sizeof(na));
	p.ip_ttl = 254; /* forwarded once: sent from off-link */
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_HOPLIMIT);
}

static void test_option_zero_and_past_end(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	/* NA with a zero-length option: must stop, not loop. */
	uint8_t b[sizeof(na)];
	memcpy(b, na, sizeof(na));
	b[21] = 0;
	mkpkt(&p, NDP_NA, b, sizeof(b));
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_OPT_ZERO);
	/* Length 2 units with 1 unit of bytes left. */
	memcpy(b, na, sizeof(na));
	b[21] = 2;
	mkpkt(&p, NDP_NA, b, sizeof(b));
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_OPT_TRUNC);
	/* Length 255 units. */
	b[21] = 255;
	mkpkt(&p, NDP_NA, b, sizeof(b));
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_OPT_TRUNC);
	/* One byte of option header. */
	mkpkt(&p, NDP_NA, na, 21);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_OPT_TRUNC);
}

static void test_too_many_options(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	size_t n = NDP_MAX_OPTIONS + 1, len = 4 + n * 8;
	uint8_t *b = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		b[4 + i * 8] = 200; /* unknown type */
		b[4 + i * 8 + 1] = 1;
	}
	mkpkt(&p, NDP_RS, b, len);
	assert_int_equal(dec_ndp(&p, &m), NDP_ERR_OPT_COUNT);
	mkpkt(&p, NDP_RS, b, len - 8);
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.unknown_options, NDP_MAX_OPTIONS);
	free(b);
}

static void test_bad_option_lengths(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	uint8_t b[12 + 24 + 16 + 32 + 16 + 16 + 8];
	size_t o = 12;
	memset(b, 0, sizeof(b));
	/* prefix information of 3 units */
	b[o] = 3, b[o + 1] = 3, o += 24;
	/* RDNSS of 2 units (too short) */
	b[o] = 25, b[o + 1] = 2, o += 16;
	/* RDNSS of 4 units (even) */
	b[o] = 25, b[o + 1] = 4, o += 32;
	/* route information: /96 in 2 units */
	b[o] = 24, b[o + 1] = 2, b[o + 2] = 96, o += 16;
	/* MTU of 2 units */
	b[o] = 5, b[o + 1] = 2, o += 16;
	/* DNSSL of 1 unit (too short) */
	b[o] = 31, b[o + 1] = 1;
	mkpkt(&p, NDP_RA, b, sizeof(b));
	assert_int_equal(sizeof(b), o + 8);
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.bad_options, 6);
	assert_int_equal(m.nprefixes, 0);
	assert_int_equal(m.nrdnss, 0);
	assert_int_equal(m.nroutes, 0);
	assert_false(m.has_mtu);
}

static void test_dnssl_hostile(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	/* Label longer than 63. */
	uint8_t b[12 + 16];
	memset(b, 0, sizeof(b));
	b[12] = 31, b[13] = 2, b[20] = 64;
	mkpkt(&p, NDP_RA, b, sizeof(b));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.bad_options, 1);
	/* Label running past the option. */
	b[20] = 10;
	mkpkt(&p, NDP_RA, b, sizeof(b));
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.bad_options, 1);
	/* A name longer than 255: 5 labels of 63. */
	size_t len = 12 + 8 + 5 * 64 + 8;
	len = (len - 12 + 7) / 8 * 8 + 12;
	uint8_t *big = calloc(1, len);
	big[12] = 31;
	big[13] = (uint8_t)((len - 12) / 8);
	for (size_t i = 0; i < 5; i++) {
		big[20 + i * 64] = 63;
		memset(&big[21 + i * 64], 'a', 63);
	}
	mkpkt(&p, NDP_RA, big, len);
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.bad_options, 1);
	free(big);
	/* Many short names: the text buffer fills, the rest is counted. */
	len = 12 + 8 + 200 * 4;
	big = calloc(1, len);
	big[12] = 31;
	big[13] = (uint8_t)((len - 12) / 8);
	for (size_t i = 0; i < 200; i++) {
		big[20 + i * 4] = 2;
		big[21 + i * 4] = 'x';
		big[22 + i * 4] = 'y';
	}
	mkpkt(&p, NDP_RA, big, len);
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_true(m.dnssl_len < NDP_MAX_DNSSL);
	assert_int_equal(m.dnssl[m.dnssl_len], '\0');
	assert_true(m.dropped > 0);
	assert_int_equal(m.bad_options, 0);
	free(big);
}

static void test_caps(void **state)
{
	(void)state;
	struct pkt p;
	struct ndp_msg m;
	size_t np = NDP_MAX_PREFIXES + 4, nr = NDP_MAX_RDNSS + 4;
	size_t len = 12 + np * 32 + 8 + nr * 16;
	uint8_t *b = calloc(1, len);
	size_t o = 12;
	for (size_t i = 0; i < np; i++, o += 32) {
		b[o] = 3, b[o + 1] = 4, b[o + 2] = 64;
		b[o + 16] = 0x20, b[o + 17] = 0x01, b[o + 19] = (uint8_t)i;
	}
	b[o] = 25, b[o + 1] = (uint8_t)(1 + 2 * nr);
	mkpkt(&p, NDP_RA, b, len);
	assert_int_equal(dec_ndp(&p, &m), NDP_OK);
	assert_int_equal(m.nprefixes, NDP_MAX_PREFIXES);
	assert_int_equal(m.nrdnss, NDP_MAX_RDNSS);
	assert_int_equal(m.dropped, 8);
	free(b);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int i = 0; i < NDP_ERR_MAX; i++) {
		assert_non_null(dec_ndp_strerror(i));
		assert_string_not_equal(dec_ndp_strerror(i), "unknown");
	}
	assert_string_equal(dec_ndp_strerror(NDP_ERR_OPT_ZERO), "opt_zero");
	assert_string_equal(dec_ndp_strerror(-1), "unknown");
	assert_string_equal(dec_ndp_strerror(NDP_ERR_MAX), "unknown");
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
		cmocka_unit_test(test_ra),
		cmocka_unit_test(test_ra_truncated_everywhere),
		cmocka_unit_test(test_na),
		cmocka_unit_test(test_ns_and_dad),
		cmocka_unit_test(test_rs_and_redirect),
		cmocka_unit_test(test_not_ndp),
		cmocka_unit_test(test_option_zero_and_past_end),
		cmocka_unit_test(test_too_many_options),
		cmocka_unit_test(test_bad_option_lengths),
		cmocka_unit_test(test_dnssl_hostile),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
