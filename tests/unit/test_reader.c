/* test_reader.c - unit tests for the byte cursor in monitor/reader.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reader.h"

/* A TLS record header followed by the start of a ClientHello:
 *   16          content type: handshake
 *   03 01       legacy version TLS 1.0
 *   00 08       record length 8
 *   01          handshake type: ClientHello
 *   00 00 04    handshake length 4
 *   03 03       client version TLS 1.2
 *   ab cd       (first two bytes of random)
 */
static const uint8_t rec[] = {
	0x16, 0x03, 0x01, 0x00, 0x08,
	0x01, 0x00, 0x00, 0x04,
	0x03, 0x03, 0xab, 0xcd,
};

static void assert_dead(struct rd *r, size_t off)
{
	uint8_t buf[4] = { 0xee, 0xee, 0xee, 0xee };
	uint8_t v8 = 0x77;
	uint16_t v16 = 0x7777;

	assert_int_not_equal(r->err, 0);
	assert_int_equal(rd_left(r), 0);
	assert_int_equal(rd_u8(r), 0);
	assert_int_equal(rd_be16(r), 0);
	assert_int_equal(rd_be24(r), 0);
	assert_int_equal(rd_be32(r), 0);
	assert_int_equal(rd_le16(r), 0);
	assert_int_equal(rd_le32(r), 0);
	assert_null(rd_ptr(r, 0));
	assert_null(rd_ptr(r, 1));
	rd_bytes(r, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	rd_skip(r, 0);
	rd_seek(r, 0);
	assert_int_equal(rd_peek_u8(r, 0, &v8), 0);
	assert_int_equal(v8, 0x77);
	assert_int_equal(rd_peek_be16(r, 0, &v16), 0);
	assert_int_equal(v16, 0x7777);
	struct rd s = rd_sub(r, 0);
	assert_int_not_equal(s.err, 0);
	assert_int_equal(rd_left(&s), 0);
	s = rd_rest(r);
	assert_int_not_equal(s.err, 0);
	assert_int_equal(rd_off(r), off); /* nothing above moved the offset */
}

static void test_init(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));
	assert_ptr_equal(r.p, rec);
	assert_int_equal(r.len, sizeof(rec));
	assert_int_equal(rd_off(&r), 0);
	assert_int_equal(rd_left(&r), sizeof(rec));
	assert_int_equal(r.err, 0);

	/* NULL with a length is an empty reader, not a licence to read 5 bytes of NULL */
	r = rd_init(NULL, 5);
	assert_int_equal(r.len, 0);
	assert_int_equal(rd_left(&r), 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_u8(&r), 0);
	assert_int_not_equal(r.err, 0);

	/* zero-length reads on an empty reader succeed and do not fault */
	r = rd_init(NULL, 0);
	uint8_t b = 0x5a;
	rd_bytes(&r, &b, 0);
	assert_int_equal(b, 0x5a);
	rd_skip(&r, 0);
	assert_non_null(rd_ptr(&r, 0));
	struct rd s = rd_rest(&r);
	assert_int_equal(s.err, 0);
	assert_int_equal(rd_left(&s), 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_u8(&s), 0);
	assert_int_not_equal(s.err, 0);
}

static void test_ints(void **state)
{
	static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				     0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0xff };
	struct rd r = rd_init(b, sizeof(b));

	assert_int_equal(rd_u8(&r), 0x01);
	assert_int_equal(rd_be16(&r), 0x0203);
	assert_int_equal(rd_be24(&r), 0x040506);
	assert_int_equal(rd_be32(&r), 0x0708090a);
	assert_int_equal(rd_le16(&r), 0x0c0b);
	assert_int_equal(rd_le32(&r), 0x100f0e0d);
	assert_int_equal(rd_off(&r), 16);
	assert_int_equal(rd_left(&r), 1);
	assert_int_equal(rd_u8(&r), 0xff);
	assert_int_equal(rd_left(&r), 0);
	assert_int_equal(r.err, 0); /* reading exactly to the end is not an error */

	/* high bits survive the shifts (no sign extension through int promotion) */
	static const uint8_t hi[] = { 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7,
				      0xf6, 0xf5, 0xf4, 0xf3, 0xf2, 0xf1 };
	r = rd_init(hi, sizeof(hi));
	assert_int_equal(rd_be32(&r), 0xfffefdfcu);
	assert_int_equal(rd_le32(&r), 0xf8f9fafbu);
	assert_int_equal(rd_be24(&r), 0xf7f6f5u);
	assert_int_equal(rd_be16(&r), 0xf4f3u);
	assert_int_equal(rd_le16(&r), 0xf1f2u);
	assert_int_equal(r.err, 0);
}

/* Every read that needs one more byte than is left fails, sets err, returns 0 and
 * leaves the offset alone. */
static void test_short_each(void **state)
{
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct rd r;

	r = rd_init(b, 0);
	assert_int_equal(rd_u8(&r), 0);
	assert_dead(&r, 0);

	r = rd_init(b, 1);
	assert_int_equal(rd_be16(&r), 0);
	assert_dead(&r, 0);

	r = rd_init(b, 1);
	assert_int_equal(rd_le16(&r), 0);
	assert_dead(&r, 0);

	r = rd_init(b, 2);
	assert_int_equal(rd_be24(&r), 0);
	assert_dead(&r, 0);

	r = rd_init(b, 3);
	assert_int_equal(rd_be32(&r), 0);
	assert_dead(&r, 0);

	r = rd_init(b, 3);
	assert_int_equal(rd_le32(&r), 0);
	assert_dead(&r, 0);

	r = rd_init(b, 3);
	assert_null(rd_ptr(&r, 4));
	assert_dead(&r, 0);

	r = rd_init(b, 3);
	rd_skip(&r, 4);
	assert_dead(&r, 0);
}

/* The error is sticky: once a read was short, even reads that would fit fail. */
static void test_sticky(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));

	assert_int_equal(rd_u8(&r), 0x16);
	assert_int_equal(rd_be16(&r), 0x0301);
	assert_int_equal(rd_off(&r), 3);
	assert_int_equal(rd_be32(&r), 0x00080100); /* fits */
	assert_int_equal(rd_off(&r), 7);
	rd_skip(&r, 100); /* does not fit */
	assert_int_not_equal(r.err, 0);
	assert_int_equal(rd_off(&r), 7);
	/* 6 bytes are physically there but the reader is dead */
	assert_int_equal(rd_u8(&r), 0);
	assert_int_equal(rd_be16(&r), 0);
	assert_dead(&r, 7);
	/* seeking back does not revive it */
	rd_seek(&r, 0);
	assert_int_equal(rd_off(&r), 7);
	assert_int_not_equal(r.err, 0);
}

/* Subtract-form checks: huge n must never wrap around to "fits". */
static void test_huge_n(void **state)
{
	const size_t huge[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 2, SIZE_MAX / 2 + 1,
				SIZE_MAX - sizeof(rec) + 1, SIZE_MAX - sizeof(rec) + 2 };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		struct rd r = rd_init(rec, sizeof(rec));
		rd_skip(&r, 2); /* off > 0 so that off + n would wrap to something small */
		rd_skip(&r, huge[i]);
		assert_int_not_equal(r.err, 0);
		assert_int_equal(rd_off(&r), 2);

		r = rd_init(rec, sizeof(rec));
		rd_skip(&r, 2);
		assert_null(rd_ptr(&r, huge[i]));
		assert_dead(&r, 2);

		r = rd_init(rec, sizeof(rec));
		rd_skip(&r, 2);
		struct rd s = rd_sub(&r, huge[i]);
		assert_int_not_equal(s.err, 0);
		assert_int_equal(rd_left(&s), 0);
		assert_int_equal(rd_u8(&s), 0);
		assert_dead(&r, 2);

		r = rd_init(rec, sizeof(rec));
		rd_skip(&r, 2);
		rd_seek(&r, huge[i]);
		assert_dead(&r, 2);

		/* peeks with huge offsets fail without setting the error */
		r = rd_init(rec, sizeof(rec));
		rd_skip(&r, 2);
		uint8_t v8 = 0x11;
		uint16_t v16 = 0x1111;
		assert_int_equal(rd_peek_u8(&r, huge[i], &v8), 0);
		assert_int_equal(rd_peek_be16(&r, huge[i], &v16), 0);
		assert_int_equal(v8, 0x11);
		assert_int_equal(v16, 0x1111);
		assert_int_equal(r.err, 0);
		assert_int_equal(rd_off(&r), 2);
	}
}

static void test_bytes_ptr(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));
	uint8_t hdr[5];
	uint8_t big[16];

	rd_bytes(&r, hdr, sizeof(hdr));
	assert_memory_equal(hdr, rec, 5);
	assert_int_equal(rd_off(&r), 5);

	const uint8_t *q = rd_ptr(&r, 4);
	assert_ptr_equal(q, rec + 5); /* borrowed, not copied */
	assert_int_equal(rd_off(&r), 9);
	assert_non_null(rd_ptr(&r, 0));
	assert_int_equal(rd_off(&r), 9);

	/* short: dst zero-filled, offset unchanged, error set */
	memset(big, 0xee, sizeof(big));
	rd_bytes(&r, big, sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		assert_int_equal(big[i], 0);
	assert_dead(&r, 9);

	/* rd_bytes of everything left, exactly */
	r = rd_init(rec, sizeof(rec));
	rd_skip(&r, 9);
	rd_bytes(&r, big, 4);
	assert_memory_equal(big, rec + 9, 4);
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_left(&r), 0);
}

/* A length prefix becomes a sub-reader: the inner parser cannot read past it. */
static void test_sub(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));

	assert_int_equal(rd_u8(&r), 0x16);
	rd_skip(&r, 2);
	size_t rlen = rd_be16(&r);
	assert_int_equal(rlen, 8);
	struct rd body = rd_sub(&r, rlen);
	assert_int_equal(body.err, 0);
	assert_int_equal(rd_left(&body), 8);
	assert_int_equal(rd_off(&body), 0);
	assert_int_equal(rd_off(&r), 13); /* parent skipped the body */
	assert_int_equal(rd_left(&r), 0);

	assert_int_equal(rd_u8(&body), 0x01);
	size_t hlen = rd_be24(&body);
	assert_int_equal(hlen, 4);
	struct rd hs = rd_sub(&body, hlen);
	assert_int_equal(rd_be16(&hs), 0x0303);
	assert_int_equal(rd_be16(&hs), 0xabcd);
	assert_int_equal(hs.err, 0);
	/* the handshake ends here: reading on is an error of the inner reader ... */
	assert_int_equal(rd_u8(&hs), 0);
	assert_int_not_equal(hs.err, 0);
	/* ... and its error does not leak to the parent */
	assert_int_equal(body.err, 0);
	assert_int_equal(r.err, 0);

	/* confinement with bytes physically following */
	r = rd_init(rec, sizeof(rec));
	struct rd two = rd_sub(&r, 2);
	assert_int_equal(rd_be16(&two), 0x1603);
	assert_int_equal(rd_u8(&two), 0); /* rec[2] is there but not in the sub-reader */
	assert_int_not_equal(two.err, 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_u8(&r), 0x01); /* parent continues after the sub-reader */
	uint8_t v;
	assert_int_equal(rd_peek_u8(&two, 0, &v), 0);

	/* short: both carry the error, the parent's offset is unchanged */
	r = rd_init(rec, sizeof(rec));
	rd_skip(&r, 5);
	struct rd bad = rd_sub(&r, 9); /* 8 left */
	assert_int_not_equal(bad.err, 0);
	assert_int_equal(rd_left(&bad), 0);
	assert_int_equal(rd_u8(&bad), 0);
	assert_dead(&bad, 0);
	assert_dead(&r, 5);

	/* an empty sub-reader is fine and reads from it fail */
	r = rd_init(rec, sizeof(rec));
	struct rd empty = rd_sub(&r, 0);
	assert_int_equal(empty.err, 0);
	assert_int_equal(rd_left(&empty), 0);
	assert_int_equal(rd_off(&r), 0);
	assert_int_equal(rd_u8(&empty), 0);
	assert_int_not_equal(empty.err, 0);
	assert_int_equal(r.err, 0);
}

static void test_rest(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));

	rd_skip(&r, 9);
	struct rd rest = rd_rest(&r);
	assert_int_equal(rest.err, 0);
	assert_int_equal(rd_left(&rest), 4);
	assert_int_equal(rd_left(&r), 0);
	assert_int_equal(rd_off(&r), sizeof(rec));
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_be32(&rest), 0x0303abcd);

	/* rest of an exhausted reader is empty but not an error */
	struct rd none = rd_rest(&r);
	assert_int_equal(none.err, 0);
	assert_int_equal(rd_left(&none), 0);
	assert_int_equal(r.err, 0);

	/* rest of a dead reader is dead */
	r = rd_init(rec, sizeof(rec));
	rd_skip(&r, 99);
	struct rd dead = rd_rest(&r);
	assert_int_not_equal(dead.err, 0);
	assert_int_equal(rd_left(&dead), 0);
}

static void test_peek(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));
	uint8_t v8 = 0;
	uint16_t v16 = 0;

	assert_int_equal(rd_peek_u8(&r, 0, &v8), 1);
	assert_int_equal(v8, 0x16);
	assert_int_equal(rd_peek_u8(&r, 12, &v8), 1);
	assert_int_equal(v8, 0xcd);
	assert_int_equal(rd_peek_be16(&r, 1, &v16), 1);
	assert_int_equal(v16, 0x0301);
	assert_int_equal(rd_peek_be16(&r, 11, &v16), 1);
	assert_int_equal(v16, 0xabcd);
	assert_int_equal(rd_off(&r), 0); /* peeks do not move */

	/* relative to the current offset */
	rd_skip(&r, 5);
	assert_int_equal(rd_peek_u8(&r, 0, &v8), 1);
	assert_int_equal(v8, 0x01);

	/* out of range: 0, value untouched, error NOT set */
	v8 = 0x42;
	v16 = 0x4242;
	assert_int_equal(rd_peek_u8(&r, 8, &v8), 0);
	assert_int_equal(rd_peek_be16(&r, 7, &v16), 0); /* one byte short */
	assert_int_equal(rd_peek_be16(&r, 8, &v16), 0);
	assert_int_equal(v8, 0x42);
	assert_int_equal(v16, 0x4242);
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_off(&r), 5);

	/* a reader with 0 or 1 byte left: be16 peek fails without wrapping len-off-2 */
	rd_skip(&r, 7);
	assert_int_equal(rd_left(&r), 1);
	assert_int_equal(rd_peek_be16(&r, 0, &v16), 0);
	assert_int_equal(rd_peek_u8(&r, 0, &v8), 1);
	assert_int_equal(v8, 0xcd);
	rd_skip(&r, 1);
	assert_int_equal(rd_peek_be16(&r, 0, &v16), 0);
	assert_int_equal(rd_peek_u8(&r, 0, &v8), 0);
	assert_int_equal(r.err, 0);

	/* empty reader */
	struct rd e = rd_init(NULL, 3);
	assert_int_equal(rd_peek_u8(&e, 0, &v8), 0);
	assert_int_equal(rd_peek_be16(&e, 0, &v16), 0);
	assert_int_equal(e.err, 0);
}

static void test_seek(void **state)
{
	struct rd r = rd_init(rec, sizeof(rec));

	rd_seek(&r, 9);
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_off(&r), 9);
	assert_int_equal(rd_be16(&r), 0x0303);
	rd_seek(&r, 0); /* backwards */
	assert_int_equal(rd_u8(&r), 0x16);
	rd_seek(&r, sizeof(rec)); /* to the very end is allowed */
	assert_int_equal(r.err, 0);
	assert_int_equal(rd_left(&r), 0);
	rd_seek(&r, sizeof(rec) + 1); /* past it is not */
	assert_int_not_equal(r.err, 0);
	assert_int_equal(rd_off(&r), sizeof(rec));

	/* seek is relative to the sub-reader, not the underlying buffer */
	r = rd_init(rec, sizeof(rec));
	rd_skip(&r, 5);
	struct rd s = rd_sub(&r, 4);
	rd_seek(&s, 4);
	assert_int_equal(s.err, 0);
	rd_seek(&s, 0);
	assert_int_equal(rd_u8(&s), 0x01);
	rd_seek(&s, 5);
	assert_int_not_equal(s.err, 0);
	assert_int_equal(r.err, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),	   cmocka_unit_test(test_ints),
		cmocka_unit_test(test_short_each), cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_huge_n),	   cmocka_unit_test(test_bytes_ptr),
		cmocka_unit_test(test_sub),	   cmocka_unit_test(test_rest),
		cmocka_unit_test(test_peek),	   cmocka_unit_test(test_seek),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
