/* test_vrrp.c - the VRRP decoder (monitor/decode/vrrp.c): v2 and v3 over IPv4, v3 over
 * IPv6, every reason, truncation at every length, hostile counts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/vrrp.h"

/* The VRRP bytes are copied to a heap block of their exact size so ASan catches a read
 * one byte past it. */
static uint8_t *heap;

static void mkpkt(struct pkt *p, uint8_t family, const uint8_t *b, size_t len)
{
	static const uint8_t src6[16] = { 0xfe, 0x80, [15] = 0x01 }, grp6[16] = { 0xff, 0x02, [15] = 0x12 };
	static const uint8_t src4[4] = { 192, 0, 2, 1 }, grp4[4] = { 224, 0, 0, 18 };
	memset(p, 0, sizeof(*p));
	p->flags = PKT_F_ETH | PKT_F_IP;
	p->ip_proto = VRRP_IPPROTO;
	p->ip_ttl = 255;
	if (family == 4) {
		util_addr_set4(&p->src, src4);
		util_addr_set4(&p->dst, grp4);
	} else {
		util_addr_set6(&p->src, src6);
		util_addr_set6(&p->dst, grp6);
	}
	free(heap);
	heap = malloc(len ? len : 1);
	if (len)
		memcpy(heap, b, len);
	p->l4 = len ? heap : NULL;
	p->l4_len = len;
}

/* VRRPv2 (keepalived's default): version 2 type 1, VRID 52, priority 150, 1 address,
 * auth type 0, interval 1 s, checksum, 192.0.2.253, 8 bytes of zero auth data. */
static const uint8_t v2[] = {
	0x21, 0x34, 0x96, 0x01, 0x00, 0x01, 0xab, 0xcd, /* 2/1 vrid 52 prio 150 count 1 auth 0 int 1 */
	0xc0, 0x00, 0x02, 0xfd,                         /* 192.0.2.253 */
	0, 0, 0, 0, 0, 0, 0, 0,                         /* auth data */
};

/* VRRPv2 with simple-text authentication "secret" and two addresses. */
static const uint8_t v2auth[] = {
	0x21, 0x0a, 0xff, 0x02, 0x01, 0x03, 0x00, 0x00, /* vrid 10 prio 255 count 2 auth 1 int 3 */
	0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, /* 192.0.2.1, 192.0.2.2 */
	's', 'e', 'c', 'r', 'e', 't', 0, 0,
};

/* VRRPv3 over IPv4: VRID 51 prio 100, 1 address, max adver int 100 cs (reserved bits set). */
static const uint8_t v3[] = {
	0x31, 0x33, 0x64, 0x01, 0xf0, 0x64, 0x12, 0x34, /* 3/1 vrid 51 prio 100 count 1 rsvd|100 */
	0xc0, 0x00, 0x02, 0xfe,                         /* 192.0.2.254 */
};

/* VRRPv3 over IPv6: VRID 7, prio 0 (resign), 2 addresses fe80::1, 2001:db8:1::1. */
static const uint8_t v3six[] = {
	0x31, 0x07, 0x00, 0x02, 0x00, 0xc8, 0x00, 0x00, /* vrid 7 prio 0 count 2 int 200 cs */
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};

static void test_v2(void **state)
{
	(void)state;
	struct pkt p;
	struct vrrp_msg m;
	mkpkt(&p, 4, v2, sizeof(v2));
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_int_equal(m.version, 2);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.vrid, 52);
	assert_int_equal(m.priority, 150);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.naddrs, 1);
	assert_int_equal(m.family, 4);
	assert_int_equal(m.interval_cs, 100);
	assert_int_equal(m.auth_type, 0);
	assert_true(m.has_auth_data);
	assert_int_equal(m.checksum, 0xabcd);
	assert_memory_equal(m.addrs[0], ((const uint8_t[]){ 192, 0, 2, 253 }), 4);
	assert_int_equal(m.ttl, 255);
	assert_true(m.to_group);
	/* Without the auth data (some senders with auth type 0): still an advertisement. */
	mkpkt(&p, 4, v2, sizeof(v2) - VRRP_V2_AUTH_LEN);
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_false(m.has_auth_data);
}

static void test_v2_auth(void **state)
{
	(void)state;
	struct pkt p;
	struct vrrp_msg m;
	mkpkt(&p, 4, v2auth, sizeof(v2auth));
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_int_equal(m.priority, 255);
	assert_int_equal(m.auth_type, VRRP_AUTH_SIMPLE);
	assert_int_equal(m.interval_cs, 300);
	assert_int_equal(m.naddrs, 2);
	assert_memory_equal(m.addrs[1], ((const uint8_t[]){ 192, 0, 2, 2 }), 4);
	assert_memory_equal(m.auth_data, "secret\0\0", 8);
}

static void test_v3(void **state)
{
	(void)state;
	struct pkt p;
	struct vrrp_msg m;
	mkpkt(&p, 4, v3, sizeof(v3));
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_int_equal(m.version, 3);
	assert_int_equal(m.vrid, 51);
	assert_int_equal(m.interval_cs, 100); /* the reserved bits are not part of it */
	assert_int_equal(m.auth_type, 0);
	assert_false(m.has_auth_data);
	mkpkt(&p, 6, v3six, sizeof(v3six));
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_int_equal(m.family, 6);
	assert_int_equal(m.priority, 0);
	assert_int_equal(m.naddrs, 2);
	assert_int_equal(m.interval_cs, 200);
	assert_int_equal(m.addrs[1][0], 0x20);
	assert_int_equal(m.addrs[1][15], 0x01);
	assert_true(m.to_group);
}

static void test_ip_header_reported_not_judged(void **state)
{
	(void)state;
	struct pkt p;
	struct vrrp_msg m;
	/* A routed or forged advertisement: decoded, with what the detector needs. */
	mkpkt(&p, 4, v2, sizeof(v2));
	p.ip_ttl = 64;
	const uint8_t uni[4] = { 192, 0, 2, 10 };
	util_addr_set4(&p.dst, uni);
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_int_equal(m.ttl, 64);
	assert_false(m.to_group);
	mkpkt(&p, 6, v3six, sizeof(v3six));
	const uint8_t allnodes[16] = { 0xff, 0x02, [15] = 0x01 };
	util_addr_set6(&p.dst, allnodes);
	p.ip_ttl = 1;
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_false(m.to_group);
	assert_int_equal(m.ttl, 1);
}

static void test_not_vrrp(void **state)
{
	(void)state;
	struct pkt p;
	struct vrrp_msg m;
	mkpkt(&p, 4, v2, sizeof(v2));
	p.ip_proto = 17;
	assert_int_equal(dec_vrrp(&p, &m), VRRP_ERR_NOT_VRRP);
	mkpkt(&p, 4, v2, sizeof(v2));
	p.flags |= PKT_F_FRAG | PKT_F_LATER_FRAG;
	assert_int_equal(dec_vrrp(&p, &m), VRRP_ERR_NOT_VRRP);
	mkpkt(&p, 4, v2, sizeof(v2));
	p.flags = PKT_F_ETH; /* no IP header */
	assert_int_equal(dec_vrrp(&p, &m), VRRP_ERR_NOT_VRRP);
	assert_int_equal(dec_vrrp_msg(v2, sizeof(v2), 0, &m), VRRP_ERR_NOT_VRRP);
	assert_string_equal(dec_vrrp_strerror(VRRP_ERR_NOT_VRRP), "not_vrrp");
}

static void test_version_type(void **state)
{
	(void)state;
	struct vrrp_msg m;
	uint8_t b[sizeof(v2)];
	memcpy(b, v2, sizeof(b));
	b[0] = 0x11; /* version 1 */
	assert_int_equal(dec_vrrp_msg(b, sizeof(b), 4, &m), VRRP_ERR_VERSION);
	b[0] = 0x41; /* version 4 */
	assert_int_equal(dec_vrrp_msg(b, sizeof(b), 4, &m), VRRP_ERR_VERSION);
	/* v2 over IPv6 does not exist */
	uint8_t b6[VRRP_HLEN + 16];
	memcpy(b6, v3six, sizeof(b6));
	b6[0] = 0x21;
	b6[3] = 1;
	assert_int_equal(dec_vrrp_msg(b6, sizeof(b6), 6, &m), VRRP_ERR_VERSION);
	b[0] = 0x22; /* type 2 */
	assert_int_equal(dec_vrrp_msg(b, sizeof(b), 4, &m), VRRP_ERR_TYPE);
	b[0] = 0x30; /* type 0 */
	assert_int_equal(dec_vrrp_msg(b, sizeof(b), 4, &m), VRRP_ERR_TYPE);
	assert_string_equal(dec_vrrp_strerror(VRRP_ERR_VERSION), "version");
	assert_string_equal(dec_vrrp_strerror(VRRP_ERR_TYPE), "type");
	assert_string_equal(dec_vrrp_strerror(-1), "unknown");
	assert_string_equal(dec_vrrp_strerror(VRRP_ERR_MAX), "unknown");
}

static void test_count(void **state)
{
	(void)state;
	struct vrrp_msg m;
	uint8_t b[64];
	/* count 0 */
	memcpy(b, v3, sizeof(v3));
	b[3] = 0;
	assert_int_equal(dec_vrrp_msg(b, VRRP_HLEN, 4, &m), VRRP_ERR_COUNT);
	/* v3: a count of 2 with one address; one extra byte after it */
	b[3] = 2;
	assert_int_equal(dec_vrrp_msg(b, sizeof(v3), 4, &m), VRRP_ERR_COUNT);
	b[3] = 1;
	b[sizeof(v3)] = 0;
	assert_int_equal(dec_vrrp_msg(b, sizeof(v3) + 1, 4, &m), VRRP_ERR_COUNT);
	/* v2: the addresses plus something other than 0 or 8 bytes of auth data */
	memcpy(b, v2, sizeof(v2));
	assert_int_equal(dec_vrrp_msg(b, sizeof(v2) - 1, 4, &m), VRRP_ERR_COUNT);
	b[sizeof(v2)] = 0;
	assert_int_equal(dec_vrrp_msg(b, sizeof(v2) + 1, 4, &m), VRRP_ERR_COUNT);
	/* v3 over IPv6: 16-byte addresses, so 4 bytes left is no address */
	memcpy(b, v3six, VRRP_HLEN);
	b[3] = 1;
	memset(b + VRRP_HLEN, 0, 4);
	assert_int_equal(dec_vrrp_msg(b, VRRP_HLEN + 4, 6, &m), VRRP_ERR_COUNT);
	assert_string_equal(dec_vrrp_strerror(VRRP_ERR_COUNT), "count");
}

/* A count of 255 that the length agrees with: every address walked, VRRP_MAX_ADDRS kept. */
static void test_huge_count(void **state)
{
	(void)state;
	struct vrrp_msg m;
	size_t len = VRRP_HLEN + 255 * 4;
	uint8_t *b = calloc(1, len);
	assert_non_null(b);
	memcpy(b, v3, VRRP_HLEN);
	b[3] = 255;
	for (size_t i = 0; i < 255; i++) {
		b[VRRP_HLEN + i * 4] = 10;
		b[VRRP_HLEN + i * 4 + 3] = (uint8_t)i;
	}
	assert_int_equal(dec_vrrp_msg(b, len, 4, &m), VRRP_OK);
	assert_int_equal(m.count, 255);
	assert_int_equal(m.naddrs, VRRP_MAX_ADDRS);
	assert_int_equal(m.addrs[VRRP_MAX_ADDRS - 1][3], VRRP_MAX_ADDRS - 1);
	free(b);
}

/* Every prefix of every sample is refused (short header or count), never read past. */
static void test_truncation(void **state)
{
	(void)state;
	static const struct {
		const uint8_t *b;
		size_t len;
		uint8_t family;
	} s[] = { { v2, sizeof(v2), 4 }, { v2auth, sizeof(v2auth), 4 }, { v3, sizeof(v3), 4 },
		  { v3six, sizeof(v3six), 6 } };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(s); i++) {
		for (size_t n = 0; n < s[i].len; n++) {
			struct pkt p;
			struct vrrp_msg m;
			mkpkt(&p, s[i].family, s[i].b, n);
			int e = dec_vrrp(&p, &m);
			size_t alen = s[i].family == 4 ? 4 : 16;
			/* a v2 message without its auth data is complete */
			bool whole = s[i].b[0] >> 4 == 2 && n == VRRP_HLEN + s[i].b[3] * alen;
			if (n < VRRP_HLEN)
				assert_int_equal(e, VRRP_ERR_SHORT);
			else if (whole)
				assert_int_equal(e, VRRP_OK);
			else
				assert_int_equal(e, VRRP_ERR_COUNT);
		}
	}
}

static void test_reused_struct(void **state)
{
	(void)state;
	struct pkt p;
	struct vrrp_msg m;
	memset(&m, 0xa5, sizeof(m));
	mkpkt(&p, 4, v3, sizeof(v3));
	assert_int_equal(dec_vrrp(&p, &m), VRRP_OK);
	assert_false(m.has_auth_data);
	assert_int_equal(m.naddrs, 1);
	assert_int_equal(m.addrs[1][0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_v2_auth),
		cmocka_unit_test(test_v3),
		cmocka_unit_test(test_ip_header_reported_not_judged),
		cmocka_unit_test(test_not_vrrp),
		cmocka_unit_test(test_version_type),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_huge_count),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_reused_struct),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(heap);
	return rc;
}
