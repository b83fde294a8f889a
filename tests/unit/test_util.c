/* test_util.c - unit tests for monitor/util.c. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

/* ---------------------------------------------------------------- addresses */

static void test_addr_set_eq(void **state)
{
	static const uint8_t v4a[4] = { 192, 0, 2, 1 };
	static const uint8_t v4b[4] = { 192, 0, 2, 2 };
	/* ::ffff:192.0.2.1 shares its last four bytes with v4a but is a different address */
	static const uint8_t v6m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };
	struct op_addr a, b, c, d, none1, none2;

	memset(&a, 0xaa, sizeof(a));
	util_addr_set4(&a, v4a);
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.a, v4a, 4);
	for (size_t i = 4; i < 16; i++)
		assert_int_equal(a.a[i], 0); /* tail zeroed even over a dirty struct */

	util_addr_set4(&b, v4a);
	assert_true(util_addr_eq(&a, &b));
	util_addr_set4(&c, v4b);
	assert_false(util_addr_eq(&a, &c));

	util_addr_set6(&d, v6m);
	assert_int_equal(d.family, 6);
	assert_memory_equal(d.a, v6m, 16);
	assert_false(util_addr_eq(&a, &d));
	assert_true(util_addr_eq(&d, &d));

	/* a hand-built v4 address with a dirty tail still equals a clean one */
	b.a[10] = 0x55;
	assert_true(util_addr_eq(&a, &b));

	memset(&none1, 0, sizeof(none1));
	memset(&none2, 0, sizeof(none2));
	none2.a[0] = 1;
	assert_true(util_addr_eq(&none1, &none2));
	assert_false(util_addr_eq(&none1, &a));
}

static void test_addr_fmt(void **state)
{
	static const uint8_t v4[4] = { 10, 0, 0, 254 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t v6full[16] = { 0xfe, 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
					    0xde, 0xf0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	static const uint8_t zero[16] = { 0 };
	struct op_addr a;
	char buf[OP_ADDR_STRLEN];

	util_addr_set4(&a, v4);
	assert_ptr_equal(util_addr_fmt(&a, buf), buf);
	assert_string_equal(buf, "10.0.0.254");

	util_addr_set6(&a, v6);
	assert_string_equal(util_addr_fmt(&a, buf), "2001:db8::1");
	util_addr_set6(&a, v6full);
	assert_string_equal(util_addr_fmt(&a, buf), "fe80:1234:5678:9abc:def0:1122:3344:5566");
	util_addr_set6(&a, zero);
	assert_string_equal(util_addr_fmt(&a, buf), "::");

	/* the longest possible text must fit OP_ADDR_STRLEN */
	static const uint8_t v6long[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	util_addr_set6(&a, v6long);
	assert_string_equal(util_addr_fmt(&a, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

	memset(&a, 0, sizeof(a));
	strcpy(buf, "junk");
	assert_string_equal(util_addr_fmt(&a, buf), "");
	a.family = 9; /* unknown family formats as empty, never as garbage */
	assert_string_equal(util_addr_fmt(&a, buf), "");
}

static void test_addr_parse(void **state)
{
	struct op_addr a, keep;
	char buf[OP_ADDR_STRLEN];
	static const uint8_t v4[4] = { 192, 168, 1, 1 };

	assert_int_equal(util_addr_parse("192.168.1.1", &a), 0);
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.a, v4, 4);

	assert_int_equal(util_addr_parse("2001:DB8::1", &a), 0);
	assert_int_equal(a.family, 6);
	assert_string_equal(util_addr_fmt(&a, buf), "2001:db8::1");

	assert_int_equal(util_addr_parse("::ffff:1.2.3.4", &a), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(a.a[10], 0xff);
	assert_int_equal(a.a[15], 4);

	assert_int_equal(util_addr_parse("0.0.0.0", &a), 0);
	assert_int_equal(util_addr_parse("255.255.255.255", &a), 0);

	/* bad text: the address is left untouched */
	util_addr_set4(&keep, v4);
	a = keep;
	const char *bad[] = { "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4x",
			      "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "0x7f.0.0.1", ":::", "1::2::3",
			      "2001:db8::g", "12345::", "fe80::1%eth0", "1.2.3.4/24" };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(bad); i++) {
		if (util_addr_parse(bad[i], &a) != -1)
			fail_msg("'%s' parsed as an address", bad[i]);
		assert_true(util_addr_eq(&a, &keep));
	}
	assert_int_equal(util_addr_parse(NULL, &a), -1);

	/* round trip */
	assert_int_equal(util_addr_parse("10.20.30.40", &a), 0);
	assert_string_equal(util_addr_fmt(&a, buf), "10.20.30.40");
}

/* ---------------------------------------------------------------- MACs */

static void test_mac_fmt(void **state)
{
	static const uint8_t m[6] = { 0x00, 0x1b, 0x21, 0xAB, 0xcd, 0xff };
	static const uint8_t z[6] = { 0 };
	char buf[OP_MAC_STRLEN];

	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(util_mac_fmt(m, buf), buf);
	assert_string_equal(buf, "00:1b:21:ab:cd:ff");
	assert_int_equal(strlen(buf), OP_MAC_STRLEN - 1);
	assert_string_equal(util_mac_fmt(z, buf), "00:00:00:00:00:00");
}

static void test_mac_parse(void **state)
{
	static const uint8_t want[6] = { 0x00, 0x1b, 0x21, 0xab, 0xcd, 0xff };
	static const uint8_t keep[6] = { 1, 2, 3, 4, 5, 6 };
	uint8_t m[6];
	char buf[OP_MAC_STRLEN];

	assert_int_equal(util_mac_parse("00:1b:21:ab:cd:ff", m), 0);
	assert_memory_equal(m, want, 6);
	assert_int_equal(util_mac_parse("00:1B:21:AB:CD:FF", m), 0);
	assert_memory_equal(m, want, 6);
	assert_int_equal(util_mac_parse("00-1b-21-ab-cd-ff", m), 0);
	assert_memory_equal(m, want, 6);
	assert_int_equal(util_mac_parse("ff:ff:ff:ff:ff:ff", m), 0);
	assert_true(util_mac_is_bcast(m));
	/* round trip */
	assert_int_equal(util_mac_parse(util_mac_fmt(want, buf), m), 0);
	assert_memory_equal(m, want, 6);

	const char *bad[] = { "", "00:1b:21:ab:cd", "00:1b:21:ab:cd:ff:", "00:1b:21:ab:cd:ff:00",
			      "0:1b:21:ab:cd:ff", "00:1b:21:ab:cd:f", "00:1b:21:ab:cd:fg",
			      "00-1b:21:ab:cd:ff", "00:1b-21:ab:cd:ff", "00.1b.21.ab.cd.ff",
			      "001b.21ab.cdff", "001b21abcdff", " 00:1b:21:ab:cd:f",
			      "00:1b:21:ab:cd:ff ", "zz:zz:zz:zz:zz:zz", "+0:1b:21:ab:cd:ff" };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(bad); i++) {
		memcpy(m, keep, 6);
		if (util_mac_parse(bad[i], m) != -1)
			fail_msg("'%s' parsed as a MAC", bad[i]);
		assert_memory_equal(m, keep, 6); /* untouched on error */
	}
	assert_int_equal(util_mac_parse(NULL, m), -1);
}

static void test_mac_classes(void **state)
{
	static const uint8_t zero[6] = { 0 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t almost[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	static const uint8_t mcast4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }; /* mDNS v4 */
	static const uint8_t mcast6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t ucast[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }; /* local, unicast */
	static const uint8_t last1[6] = { 0, 0, 0, 0, 0, 1 };

	assert_true(util_mac_is_zero(zero));
	assert_false(util_mac_is_zero(last1));
	assert_false(util_mac_is_zero(bcast));

	assert_true(util_mac_is_bcast(bcast));
	assert_false(util_mac_is_bcast(almost));
	assert_false(util_mac_is_bcast(zero));

	assert_true(util_mac_is_mcast(bcast)); /* broadcast is a group address */
	assert_true(util_mac_is_mcast(mcast4));
	assert_true(util_mac_is_mcast(mcast6));
	assert_false(util_mac_is_mcast(ucast));
	assert_false(util_mac_is_mcast(zero));
	assert_false(util_mac_is_mcast(last1)); /* the group bit is in the first octet only */
}

/* ---------------------------------------------------------------- time */

static void test_ts_fmt(void **state)
{
	char buf[OP_TS_STRLEN];

	assert_ptr_equal(util_ts_fmt(0, buf), buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	assert_string_equal(util_ts_fmt(1, buf), "1970-01-01T00:00:00.000001Z");
	assert_string_equal(util_ts_fmt(999999, buf), "1970-01-01T00:00:00.999999Z");
	assert_string_equal(util_ts_fmt(1000000, buf), "1970-01-01T00:00:01.000000Z");
	/* 2026-11-21T16:20:00Z = 1795278000 */
	assert_string_equal(util_ts_fmt(1795278000ull * 1000000 + 123456, buf),
			    "2026-11-21T16:20:00.123456Z");
	/* leap day, end of a day */
	assert_string_equal(util_ts_fmt(951868799ull * 1000000 + 500000, buf),
			    "2000-02-29T23:59:59.500000Z");
	/* 2038 (past 32-bit time_t) */
	assert_string_equal(util_ts_fmt(2147483648ull * 1000000, buf),
			    "2038-01-19T03:14:08.000000Z");
	/* the largest input fits the buffer and stays NUL-terminated */
	util_ts_fmt(UINT64_MAX, buf);
	assert_true(strlen(buf) < OP_TS_STRLEN);
	assert_int_equal(buf[strlen(buf) - 1], 'Z');
	assert_non_null(strstr(buf, ".551615Z"));
}

static void test_clocks(void **state)
{
	uint64_t now = util_now_us();
	/* after 2020-01-01 and before 2100-01-01 */
	assert_true(now > 1577836800ull * 1000000);
	assert_true(now < 4102444800ull * 1000000);
	assert_true(util_now_us() >= now);

	double m1 = util_mono_s();
	double m2 = util_mono_s();
	assert_true(m1 >= 0.0);
	assert_true(m2 >= m1);
}

/* ---------------------------------------------------------------- strings */

static void test_strlcpy(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");

	/* exactly cap-1 fits */
	assert_int_equal(util_strlcpy(buf, "1234567", sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");

	/* truncation: cap-1 bytes and a NUL, return is strlen(dst) */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "123456789abcdef", sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");

	assert_int_equal(util_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* cap 1: only the NUL */
	buf[0] = 'q';
	assert_int_equal(util_strlcpy(buf, "abc", 1), 0);
	assert_int_equal(buf[0], '\0');

	/* cap 0: nothing written */
	buf[0] = 'q';
	assert_int_equal(util_strlcpy(buf, "abc", 0), 0);
	assert_int_equal(buf[0], 'q');

	/* the source is not read past cap-1 bytes: an unterminated source is fine */
	char src[4] = { 'w', 'x', 'y', 'z' };
	assert_int_equal(util_strlcpy(buf, src, 4), 3);
	assert_string_equal(buf, "wxy");
}

/* ---------------------------------------------------------------- hashing */

/* Regression: in plain wyhash a key word equal to its public constant P1
 * (db 28 b4 a0 d1 7e 03 e7 little-endian) zeroes a product and the seed drops out, so
 * these two keys collided under every seed. They must differ, and depend on the seed. */
static void test_hash64_zeroing_word(void **state)
{
	(void)state;
	static const uint8_t p1[8] = { 0xdb, 0x28, 0xb4, 0xa0, 0xd1, 0x7e, 0x03, 0xe7 };
	uint8_t k1[33], k2[33];
	memcpy(k1, p1, 8);
	memcpy(k1 + 8, "AAAAAAAA", 8);
	memcpy(k1 + 16, p1, 8);
	memcpy(k1 + 24, "tail12345", 9);
	memcpy(k2, k1, sizeof(k2));
	memcpy(k2 + 8, "BBBBBBBB", 8);
	int same = 0;
	for (uint64_t seed = 1; seed <= 64; seed++)
		same += util_hash64(k1, sizeof(k1), seed) == util_hash64(k2, sizeof(k2), seed);
	assert_int_equal(same, 0);
	assert_true(util_hash64(k1, sizeof(k1), 1) != util_hash64(k1, sizeof(k1), 2));
}

static void test_hash64(void **state)
{
	uint8_t data[300];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);

	/* every length through the short, medium and 48-byte-block paths */
	for (size_t n = 0; n <= sizeof(data); n++) {
		uint64_t h1 = util_hash64(data, n, 1);
		assert_true(h1 == util_hash64(data, n, 1)); /* deterministic */
		assert_true(h1 != util_hash64(data, n, 2)); /* seed matters */
		if (n > 0)
			assert_true(h1 != util_hash64(data, n - 1, 1)); /* length matters */
	}

	/* empty input with NULL pointer is allowed and still seeded */
	assert_true(util_hash64(NULL, 0, 7) == util_hash64(data, 0, 7));
	assert_true(util_hash64(NULL, 0, 7) != util_hash64(NULL, 0, 8));

	/* a one-bit change anywhere changes the hash, and roughly half the output bits */
	for (size_t n = 1; n <= 130; n += 3) {
		for (size_t i = 0; i < n; i++) {
			uint64_t h = util_hash64(data, n, 42);
			data[i] ^= 0x10;
			uint64_t g = util_hash64(data, n, 42);
			data[i] ^= 0x10;
			int flipped = __builtin_popcountll(h ^ g);
			if (flipped < 8 || flipped > 56)
				fail_msg("weak avalanche: n=%zu i=%zu bits=%d", n, i, flipped);
		}
	}

	/* the hash does not depend on the buffer's alignment */
	uint8_t shifted[64 + 1];
	memcpy(shifted + 1, data, 64);
	assert_true(util_hash64(shifted + 1, 64, 5) == util_hash64(data, 64, 5));

	/* 4-byte keys that differ only in one byte, all distinct (no trivial collisions) */
	uint64_t seen[256];
	for (unsigned v = 0; v < 256; v++) {
		uint8_t k[4] = { 10, 0, 0, (uint8_t)v };
		seen[v] = util_hash64(k, 4, 0);
		for (unsigned w = 0; w < v; w++)
			assert_true(seen[w] != seen[v]);
	}
}

static void test_peak_rss(void **state)
{
	long before = util_peak_rss_kib();
	assert_true(before > 0);
	/* touch 8 MiB so the peak must grow */
	size_t n = 8u << 20;
	volatile char *p = malloc(n);
	assert_non_null(p);
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (char)i;
	long after = util_peak_rss_kib();
	assert_true(after >= before);
	assert_true(after >= 8 * 1024);
	free((void *)p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_set_eq), cmocka_unit_test(test_addr_fmt),
		cmocka_unit_test(test_addr_parse),  cmocka_unit_test(test_mac_fmt),
		cmocka_unit_test(test_mac_parse),   cmocka_unit_test(test_mac_classes),
		cmocka_unit_test(test_ts_fmt),      cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_strlcpy),     cmocka_unit_test(test_hash64),
		cmocka_unit_test(test_hash64_zeroing_word),
		cmocka_unit_test(test_peak_rss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
