#include "config.h"

/* test_stream.c - TCP reassembly of the first bytes of a direction (monitor/stream.c). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "stream.h"

#define ISN 1000u

/* The bytes of a test message: offset i of the stream holds pat(i), so any misplaced
 * byte shows. */
static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 7u + 13u + (i >> 8));
}

static uint8_t msg[1u << 17];

static void fill_msg(void)
{
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = pat(i);
}

static struct stream_pool *pool(uint32_t max_bytes, uint64_t max_total, uint32_t max_ooo)
{
	struct stream_cfg c;
	struct stream_pool *sp;

	stream_cfg_defaults(&c);
	if (max_bytes)
		c.max_bytes = max_bytes;
	if (max_total)
		c.max_total = max_total;
	c.max_ooo = max_ooo;
	sp = stream_pool_new(&c);
	assert_non_null(sp);
	return sp;
}

/* The pool's counters now (overwritten by the next call). */
static const struct stream_stats *stats(struct stream_pool *sp)
{
	static struct stream_stats st;

	stream_pool_get_stats(sp, &st);
	return &st;
}

/* Feeds msg[off, off + n) at sequence ISN + 1 + off (the stream started with a SYN). */
static size_t seg(struct stream_pool *sp, struct stream *s, uint32_t off, uint32_t n)
{
	return stream_add(sp, s, ISN + 1 + off, TCP_ACK, msg + off, n);
}

static void expect_conflict(const struct stream *s, uint32_t off, size_t idx)
{
	uint32_t o = 0;
	size_t i = 0;
	assert_true(stream_last_conflict(s, &o, &i));
	assert_int_equal(o, off);
	assert_int_equal(i, idx);
}

static void expect_no_conflict(const struct stream *s)
{
	uint32_t o;
	size_t i;
	assert_false(stream_last_conflict(s, &o, &i));
}

static void syn(struct stream_pool *sp, struct stream *s)
{
	assert_int_equal(stream_add(sp, s, ISN, TCP_SYN, NULL, 0), 0);
}

/* The contiguous data is exactly msg[0, n). */
static void expect_prefix(const struct stream *s, size_t n)
{
	size_t len;
	const uint8_t *d = stream_data(s, &len);

	assert_non_null(d);
	assert_int_equal(len, n);
	assert_memory_equal(d, msg, n);
}

/* Size of a stream's struct as charged by the pool: what an empty stream costs. */
static uint64_t struct_cost(void)
{
	struct stream_pool *sp = pool(0, 0, 4);
	struct stream *s = stream_new(sp);
	uint64_t n = stats(sp)->bytes_in_use;

	assert_non_null(s);
	stream_pool_free(sp);
	return n;
}

static int setup(void **state)
{
	(void)state;
	fill_msg();
	return 0;
}

/* ------------------------------------------------------------------ in order */

static void test_defaults(void **state)
{
	struct stream_cfg c;

	(void)state;
	stream_cfg_defaults(&c);
	assert_int_equal(c.max_bytes, 65536);
	assert_int_equal(c.max_total, 128ull * 1024 * 1024);
	assert_int_equal(c.max_ooo, 32);
}

static void test_in_order_after_syn(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	assert_non_null(s);
	expect_prefix(s, 0);
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 5), 5);
	assert_int_equal(seg(sp, s, 5, 1000), 1000);
	/* crosses the first 2 KiB buffer: grows, keeps the prefix */
	assert_int_equal(seg(sp, s, 1005, 3000), 3000);
	expect_prefix(s, 4005);
	assert_int_equal(stream_flags(s), 0);
	assert_int_equal(stats(sp)->streams, 1);
	assert_int_equal(stats(sp)->retransmits, 0);
	assert_int_equal(stats(sp)->ooo_segments, 0);
	stream_pool_free(sp);
}

static void test_syn_carries_data(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	/* TCP Fast Open style: the SYN's payload starts at ISN + 1 */
	assert_int_equal(stream_add(sp, s, ISN, TCP_SYN, msg, 10), 10);
	assert_int_equal(seg(sp, s, 10, 20), 20);
	expect_prefix(s, 30);
	/* the SYN retransmitted with its data: nothing new, nothing moves */
	assert_int_equal(stream_add(sp, s, ISN, TCP_SYN, msg, 10), 0);
	expect_prefix(s, 30);
	assert_int_equal(stats(sp)->retransmits, 1);
	assert_int_equal(stream_flags(s) & STREAM_F_NO_ISN, 0);
	stream_pool_free(sp);
}

static void test_syn_retry_new_isn(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	/* a retried connect with another ISN, before any data: the last SYN counts */
	assert_int_equal(stream_add(sp, s, 5, TCP_SYN, NULL, 0), 0);
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 100), 100);
	expect_prefix(s, 100);
	/* once data is stored, a SYN cannot move the start */
	assert_int_equal(stream_add(sp, s, 7777, TCP_SYN, NULL, 0), 0);
	assert_int_equal(seg(sp, s, 100, 100), 100);
	expect_prefix(s, 200);
	stream_pool_free(sp);
}

static void test_no_syn_start(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);
	uint8_t early[120];

	(void)state;
	/* a bare ACK does not fix the start: keepalives sit one byte before it */
	assert_int_equal(stream_add(sp, s, 4999, TCP_ACK, NULL, 0), 0);
	assert_int_equal(stream_add(sp, s, 5000, TCP_ACK | TCP_PSH, msg, 50), 50);
	assert_int_equal(stream_flags(s), STREAM_F_NO_ISN);
	assert_int_equal(stream_add(sp, s, 5050, TCP_ACK, msg + 50, 50), 50);
	/* data from before the first segment seen is not ours */
	assert_int_equal(stream_add(sp, s, 4000, TCP_ACK, msg, 1000), 0);
	/* a segment straddling the start keeps only its part from the start on */
	memset(early, 'Z', 10);
	memcpy(early + 10, msg, 110);
	assert_int_equal(stream_add(sp, s, 4990, TCP_ACK, early, sizeof(early)), 10);
	expect_prefix(s, 110);
	/* a late SYN does not move a start that already has data */
	assert_int_equal(stream_add(sp, s, 4000, TCP_SYN, NULL, 0), 0);
	assert_int_equal(stream_add(sp, s, 5110, TCP_ACK, msg + 110, 10), 10);
	expect_prefix(s, 120);
	assert_int_equal(stream_flags(s), STREAM_F_NO_ISN);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ reordering */

static void test_reorder_3_1_2(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 200, 100), 0);
	expect_prefix(s, 0);
	assert_int_equal(seg(sp, s, 0, 100), 100);
	expect_prefix(s, 100);
	/* fills the hole: segment 2 and the held segment 3 join the prefix */
	assert_int_equal(seg(sp, s, 100, 100), 200);
	expect_prefix(s, 300);
	assert_int_equal(stream_flags(s), 0);
	assert_int_equal(stats(sp)->ooo_segments, 1);
	/* and in-order appends continue on the fast path */
	assert_int_equal(seg(sp, s, 300, 100), 100);
	expect_prefix(s, 400);
	stream_pool_free(sp);
}

static void test_reorder_reverse(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	/* ten segments in reverse: each lands next to the held one, so one island */
	for (int i = 9; i > 0; i--)
		assert_int_equal(seg(sp, s, (uint32_t)i * 1000, 1000), 0);
	assert_int_equal(seg(sp, s, 0, 1000), 10000);
	expect_prefix(s, 10000);
	assert_int_equal(stream_flags(s), 0);
	stream_pool_free(sp);
}

static void test_held_merge_uses_one_slot(void **state)
{
	struct stream_pool *sp = pool(0, 0, 1);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	/* adjacent and overlapping held segments merge: one slot is enough */
	assert_int_equal(seg(sp, s, 10, 10), 0);
	assert_int_equal(seg(sp, s, 20, 10), 0);
	assert_int_equal(seg(sp, s, 25, 10), 0);
	assert_int_equal(seg(sp, s, 5, 6), 0);
	assert_int_equal(seg(sp, s, 0, 5), 35);
	expect_prefix(s, 35);
	assert_int_equal(stream_flags(s), 0);
	stream_pool_free(sp);
}

static void test_held_bridge(void **state)
{
	struct stream_pool *sp = pool(0, 0, 4);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 10, 10), 0);
	assert_int_equal(seg(sp, s, 30, 10), 0);
	assert_int_equal(seg(sp, s, 50, 10), 0);
	/* joins the first two islands */
	assert_int_equal(seg(sp, s, 15, 20), 0);
	assert_int_equal(seg(sp, s, 0, 10), 40);
	expect_prefix(s, 40);
	assert_int_equal(seg(sp, s, 40, 10), 20);
	expect_prefix(s, 60);
	assert_int_equal(stream_flags(s), 0);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ overlaps */

static void test_retransmission(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 100), 100);
	assert_int_equal(seg(sp, s, 0, 100), 0);
	assert_int_equal(seg(sp, s, 20, 30), 0);
	expect_prefix(s, 100);
	assert_int_equal(stats(sp)->retransmits, 2);
	assert_int_equal(stats(sp)->conflicts, 0);
	assert_int_equal(stream_flags(s), 0);
	stream_pool_free(sp);
}

static void test_overlap_same_bytes(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 100), 100);
	/* repacketised retransmission: 50 old bytes, 50 new */
	assert_int_equal(seg(sp, s, 50, 100), 50);
	expect_prefix(s, 150);
	assert_int_equal(stream_flags(s), 0);
	assert_int_equal(stats(sp)->conflicts, 0);
	stream_pool_free(sp);
}

static void test_overlap_different_bytes(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);
	uint8_t evil[100];

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 100), 100);
	/* the overlapping half differs (an evasion attempt): the first copy stays, the
	 * new half is taken */
	memcpy(evil, msg + 50, sizeof(evil));
	memset(evil, 'X', 50);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 50, TCP_ACK, evil, sizeof(evil)), 50);
	expect_prefix(s, 150);
	assert_int_equal(stream_flags(s), STREAM_F_CONFLICT);
	assert_int_equal(stats(sp)->conflicts, 1);
	expect_conflict(s, 50, 0);
	/* a full retransmission with other bytes: conflict, not appended */
	memset(evil, 'Y', sizeof(evil));
	assert_int_equal(stream_add(sp, s, ISN + 1, TCP_ACK, evil, 100), 0);
	expect_prefix(s, 150);
	assert_int_equal(stats(sp)->conflicts, 2);
	assert_int_equal(stats(sp)->retransmits, 1);
	expect_conflict(s, 0, 0);
	/* the same bytes again: no conflict for this call */
	assert_int_equal(seg(sp, s, 0, 100), 0);
	expect_no_conflict(s);
	stream_pool_free(sp);
}

/* A segment that starts before the stream (its head is cut) and differs inside: the
 * index is into the caller's data, the offset into the stream. */
static void test_conflict_position_cut_head(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);
	uint8_t evil[30];

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 40), 40);
	memset(evil, 'Q', 5);             /* before the ISN: not ours */
	memcpy(evil + 5, msg, 25);        /* stream [0, 25) */
	evil[5 + 17] ^= 0x20;             /* stream offset 17 differs */
	assert_int_equal(stream_add(sp, s, ISN + 1 - 5, TCP_ACK, evil, sizeof(evil)), 0);
	expect_conflict(s, 17, 22);
	assert_int_equal(stats(sp)->conflicts, 1);
	stream_pool_free(sp);
}

static void test_held_overlap_head_and_tail(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);
	uint8_t evil[20];

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 100, 50), 0); /* held [100, 150) */
	/* over the held segment's head: [90, 110) with the overlap changed */
	memcpy(evil, msg + 90, 20);
	memset(evil + 10, 'H', 10);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 90, TCP_ACK, evil, 20), 0);
	assert_int_equal(stats(sp)->conflicts, 1);
	expect_conflict(s, 100, 10);
	/* over its tail: [140, 160) with the overlap changed */
	memcpy(evil, msg + 140, 20);
	memset(evil, 'T', 10);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 140, TCP_ACK, evil, 20), 0);
	assert_int_equal(stats(sp)->conflicts, 2);
	expect_conflict(s, 140, 0);
	/* inside it, same bytes: a duplicate of held data, no conflict */
	assert_int_equal(seg(sp, s, 110, 20), 0);
	assert_int_equal(stats(sp)->conflicts, 2);
	expect_no_conflict(s);
	assert_int_equal(stats(sp)->retransmits, 1);
	/* filling the hole shows the first copies everywhere */
	assert_int_equal(seg(sp, s, 0, 95), 160);
	expect_prefix(s, 160);
	assert_int_equal(stream_flags(s), STREAM_F_CONFLICT);
	stream_pool_free(sp);
}

static void test_overlap_prefix_and_held(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);
	uint8_t evil[100];

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 50), 50);
	assert_int_equal(seg(sp, s, 80, 20), 0);
	/* [40, 140): overlaps the prefix, fills the hole, overlaps the held segment and
	 * runs past it; only a byte inside the held part differs */
	memcpy(evil, msg + 40, sizeof(evil));
	evil[85 - 40] ^= 0xff;
	assert_int_equal(stream_add(sp, s, ISN + 1 + 40, TCP_ACK, evil, 100), 90);
	expect_prefix(s, 140);
	assert_int_equal(stream_flags(s), STREAM_F_CONFLICT);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ gaps */

static void test_max_ooo_exceeded(void **state)
{
	struct stream_pool *sp = pool(0, 0, 2);
	struct stream *s = stream_new(sp);
	uint64_t in_use;

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	assert_int_equal(seg(sp, s, 20, 10), 0);
	assert_int_equal(seg(sp, s, 40, 10), 0);
	in_use = stats(sp)->bytes_in_use;
	/* a segment touching a held one needs no slot */
	assert_int_equal(seg(sp, s, 50, 10), 0);
	assert_int_equal(stream_flags(s), 0);
	/* a third island: give up */
	assert_int_equal(seg(sp, s, 70, 10), 0);
	assert_int_equal(stream_flags(s), STREAM_F_GAP);
	assert_int_equal(stats(sp)->gaps, 1);
	/* held segments were freed */
	assert_true(stats(sp)->bytes_in_use < in_use);
	/* nothing more is appended, even what would now be in order */
	assert_int_equal(seg(sp, s, 10, 10), 0);
	expect_prefix(s, 10);
	assert_int_equal(stats(sp)->gaps, 1);
	stream_pool_free(sp);
}

static void test_max_ooo_zero(void **state)
{
	struct stream_pool *sp = pool(0, 0, 0);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	assert_int_equal(seg(sp, s, 20, 10), 0);
	assert_int_equal(stream_flags(s), STREAM_F_GAP);
	expect_prefix(s, 10);
	stream_pool_free(sp);
}

static void test_fin_with_hole(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	assert_int_equal(seg(sp, s, 20, 10), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 30, TCP_FIN | TCP_ACK, NULL, 0), 0);
	assert_int_equal(stream_flags(s), STREAM_F_FIN | STREAM_F_GAP);
	assert_int_equal(stats(sp)->gaps, 1);
	assert_int_equal(seg(sp, s, 10, 10), 0);
	expect_prefix(s, 10);
	stream_pool_free(sp);
}

static void test_fin_ahead_of_data(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	/* nothing held, but the FIN says bytes [10, 30) were sent and we lack them */
	assert_int_equal(stream_add(sp, s, ISN + 1 + 30, TCP_FIN | TCP_ACK, NULL, 0), 0);
	assert_int_equal(stream_flags(s), STREAM_F_FIN | STREAM_F_GAP);
	stream_pool_free(sp);
}

static void test_rst_with_hole(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 20, 10), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 10, TCP_RST, NULL, 0), 0);
	assert_int_equal(stream_flags(s), STREAM_F_FIN | STREAM_F_GAP);
	stream_pool_free(sp);
}

static void test_fin_clean(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	/* the FIN carries the last bytes */
	assert_int_equal(stream_add(sp, s, ISN + 1 + 10, TCP_FIN | TCP_ACK, msg + 10, 10), 10);
	assert_int_equal(stream_flags(s), STREAM_F_FIN);
	/* a FIN retransmitted, an RST at the end: still no gap */
	assert_int_equal(stream_add(sp, s, ISN + 1 + 10, TCP_FIN | TCP_ACK, msg + 10, 10), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 20, TCP_RST, NULL, 0), 0);
	assert_int_equal(stream_flags(s), STREAM_F_FIN);
	expect_prefix(s, 20);
	assert_int_equal(stats(sp)->gaps, 0);
	stream_pool_free(sp);
}

static void test_fin_fills_hole(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 20, 10), 0);
	/* the FIN segment itself fills the hole: complete, no gap */
	assert_int_equal(stream_add(sp, s, ISN + 1, TCP_FIN | TCP_ACK, msg, 20), 30);
	assert_int_equal(stream_flags(s), STREAM_F_FIN);
	expect_prefix(s, 30);
	stream_pool_free(sp);
}

static void test_fin_without_data(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	/* nothing anchored: no hole to speak of */
	assert_int_equal(stream_add(sp, s, 123, TCP_FIN | TCP_ACK, NULL, 0), 0);
	assert_int_equal(stream_flags(s), STREAM_F_FIN);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ the cap */

static void test_cap_exact(void **state)
{
	struct stream_pool *sp = pool(100, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 60), 60);
	/* straddles the cap: truncated, only the new part counted */
	assert_int_equal(seg(sp, s, 60, 60), 40);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	expect_prefix(s, 100);
	/* everything afterwards is ignored, even a conflicting overlap */
	assert_int_equal(stream_add(sp, s, ISN + 1, TCP_ACK, (const uint8_t *)"XXXX", 4), 0);
	assert_int_equal(stats(sp)->conflicts, 0);
	/* but the FIN is still recorded */
	assert_int_equal(stream_add(sp, s, ISN + 5000, TCP_FIN, NULL, 0), 0);
	assert_int_equal(stream_flags(s), STREAM_F_FULL | STREAM_F_FIN);
	stream_pool_free(sp);
}

static void test_cap_filled_exactly(void **state)
{
	struct stream_pool *sp = pool(100, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 99), 99);
	assert_int_equal(stream_flags(s), 0);
	assert_int_equal(seg(sp, s, 99, 1), 1);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	expect_prefix(s, 100);
	stream_pool_free(sp);
}

static void test_cap_held_straddle(void **state)
{
	struct stream_pool *sp = pool(100, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	/* held, and only its part below the cap */
	assert_int_equal(seg(sp, s, 80, 50), 0);
	/* far ahead, past the window: not held, not counted */
	assert_int_equal(seg(sp, s, 100, 10), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 0x10000000u, TCP_ACK, msg, 10), 0);
	assert_int_equal(stats(sp)->ooo_segments, 1);
	assert_int_equal(seg(sp, s, 0, 80), 100);
	expect_prefix(s, 100);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	stream_pool_free(sp);
}

static void test_cap_zero(void **state)
{
	struct stream_cfg c;
	struct stream_pool *sp;
	struct stream *s;

	(void)state;
	stream_cfg_defaults(&c);
	c.max_bytes = 0;
	sp = stream_pool_new(&c);
	s = stream_new(sp);
	assert_non_null(s);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	assert_int_equal(stream_add(sp, s, 1, TCP_ACK, msg, 10), 0);
	expect_prefix(s, 0);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ the budget */

static void test_budget_refuses_streams(void **state)
{
	uint64_t sc = struct_cost();
	/* room for one struct and its first buffer */
	struct stream_pool *sp = pool(0, sc + 2048, 32);
	struct stream *a, *b;

	(void)state;
	a = stream_new(sp);
	assert_non_null(a);
	assert_null(stream_new(sp));
	assert_int_equal(stats(sp)->refused, 1);
	assert_int_equal(stats(sp)->streams, 1);
	stream_free(sp, a);
	assert_int_equal(stats(sp)->bytes_in_use, 0);
	b = stream_new(sp);
	assert_non_null(b);
	assert_int_equal(stats(sp)->streams, 2);
	stream_pool_free(sp);
}

static void test_budget_refuses_growth(void **state)
{
	uint64_t sc = struct_cost();
	struct stream_pool *sp = pool(0, sc + 2048, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	assert_non_null(s);
	syn(sp, s);
	assert_int_equal(seg(sp, s, 0, 2000), 2000);
	assert_int_equal(stats(sp)->bytes_in_use, sc + 2048);
	assert_int_equal(stats(sp)->peak_bytes, sc + 2048);
	/* the buffer cannot double: what fits is kept, the stream is full */
	assert_int_equal(seg(sp, s, 2000, 100), 48);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	expect_prefix(s, 2048);
	assert_int_equal(seg(sp, s, 2048, 100), 0);
	assert_int_equal(stats(sp)->bytes_in_use, sc + 2048);
	stream_pool_free(sp);
}

static void test_budget_refuses_first_buffer(void **state)
{
	uint64_t sc = struct_cost();
	struct stream_pool *sp = pool(0, 2 * sc + 2048, 32);
	struct stream *a = stream_new(sp), *b = stream_new(sp);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(stream_add(sp, a, 1, TCP_ACK, msg, 100), 100);
	/* a took the last buffer: b gets nothing and is full from the start */
	assert_int_equal(stream_add(sp, b, 1, TCP_ACK, msg, 100), 0);
	assert_int_equal(stream_flags(b), STREAM_F_FULL | STREAM_F_NO_ISN);
	expect_prefix(b, 0);
	stream_free(sp, a);
	stream_free(sp, b);
	assert_int_equal(stats(sp)->bytes_in_use, 0);
	stream_pool_free(sp);
}

static void test_budget_refuses_held(void **state)
{
	uint64_t sc = struct_cost();
	struct stream_pool *sp = pool(0, sc + 2048, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	/* the buffer takes the whole budget: no room for the held list, the hole
	 * cannot be waited for */
	assert_int_equal(seg(sp, s, 100, 10), 0);
	assert_int_equal(stream_flags(s), STREAM_F_GAP);
	expect_prefix(s, 0);
	stream_pool_free(sp);
}

static void test_budget_ooo_growth_lowers_cap(void **state)
{
	uint64_t sc = struct_cost();
	struct stream_pool *sp = pool(0, sc + 2048 + 32 * 8, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(seg(sp, s, 1000, 100), 0);
	/* past the 2 KiB buffer the pool cannot give: the stream keeps its 2 KiB */
	assert_int_equal(seg(sp, s, 2000, 100), 0);
	assert_int_equal(seg(sp, s, 3000, 100), 0);
	assert_int_equal(seg(sp, s, 0, 1000), 1100);
	assert_int_equal(seg(sp, s, 1100, 1000), 948);
	expect_prefix(s, 2048);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	stream_pool_free(sp);
}

static void test_bytes_in_use_returns_to_zero(void **state)
{
	struct stream_pool *sp = pool(0, 0, 8);
	struct stream *s[16];

	(void)state;
	for (int i = 0; i < 16; i++) {
		s[i] = stream_new(sp);
		assert_non_null(s[i]);
		syn(sp, s[i]);
		seg(sp, s[i], 0, (uint32_t)i * 1000);
		seg(sp, s[i], (uint32_t)i * 1000 + 10, 100); /* held */
	}
	assert_true(stats(sp)->bytes_in_use > 16 * 1000);
	for (int i = 0; i < 16; i++)
		stream_free(sp, s[i]);
	assert_int_equal(stats(sp)->bytes_in_use, 0);
	assert_true(stats(sp)->peak_bytes > 16 * 1000);
	stream_free(sp, NULL);
	/* streams still alive when the pool goes are freed with it (no leak under ASan) */
	s[0] = stream_new(sp);
	seg(sp, s[0], 0, 5000);
	s[1] = stream_new(sp);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ sequence space */

static void test_wraparound(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);
	uint32_t isn = 0xfffffff0u;

	(void)state;
	assert_int_equal(stream_add(sp, s, isn, TCP_SYN, NULL, 0), 0);
	/* [0xfffffff1, 0x1b) crosses zero */
	assert_int_equal(stream_add(sp, s, isn + 1, TCP_ACK, msg, 42), 42);
	/* out of order, both sides of zero */
	assert_int_equal(stream_add(sp, s, isn + 1 + 100, TCP_ACK, msg + 100, 50), 0);
	assert_int_equal(stream_add(sp, s, isn + 1 + 42, TCP_ACK, msg + 42, 58), 108);
	expect_prefix(s, 150);
	/* a retransmission from before zero is still a retransmission */
	assert_int_equal(stream_add(sp, s, isn + 1, TCP_ACK, msg, 10), 0);
	assert_int_equal(stats(sp)->retransmits, 1);
	/* "before the ISN" across zero is ignored */
	assert_int_equal(stream_add(sp, s, isn - 1000, TCP_ACK, msg, 500), 0);
	expect_prefix(s, 150);
	assert_int_equal(stream_flags(s), 0);
	stream_pool_free(sp);
}

static void test_wraparound_no_syn(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	assert_int_equal(stream_add(sp, s, 0xffffffffu, TCP_ACK, msg, 1), 1);
	assert_int_equal(stream_add(sp, s, 1, TCP_ACK, msg + 2, 3), 0);
	assert_int_equal(stream_add(sp, s, 0, TCP_ACK, msg + 1, 1), 4);
	expect_prefix(s, 5);
	stream_pool_free(sp);
}

static void test_syn_at_max_seq(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	/* ISN 0xffffffff: data starts at 0 */
	assert_int_equal(stream_add(sp, s, 0xffffffffu, TCP_SYN, msg, 4), 4);
	assert_int_equal(stream_add(sp, s, 4, TCP_ACK, msg + 4, 4), 4);
	expect_prefix(s, 8);
	stream_pool_free(sp);
}

static void test_half_space_away(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	/* exactly 2^31 away is "before" in serial arithmetic; just under is "ahead" */
	assert_int_equal(stream_add(sp, s, ISN + 1 + 0x80000000u, TCP_ACK, msg, 100), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 0x7fffffffu, TCP_ACK, msg, 100), 0);
	assert_int_equal(stats(sp)->ooo_segments, 0);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	expect_prefix(s, 10);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ odd lengths */

static void test_zero_length(void **state)
{
	struct stream_pool *sp = pool(0, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(stream_add(sp, s, ISN + 1, TCP_ACK, NULL, 0), 0);
	assert_int_equal(stream_add(sp, s, ISN + 500, TCP_ACK, NULL, 0), 0);
	assert_int_equal(stream_add(sp, s, ISN - 500, TCP_ACK, NULL, 0), 0);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 10, TCP_ACK, msg, 0), 0);
	expect_prefix(s, 10);
	assert_int_equal(stream_flags(s), 0);
	assert_int_equal(stats(sp)->retransmits, 0);
	assert_int_equal(stats(sp)->ooo_segments, 0);
	stream_pool_free(sp);
}

static void test_huge_len(void **state)
{
	struct stream_pool *sp = pool(4096, 0, 32);
	struct stream *s = stream_new(sp);
	uint8_t tiny[1] = { 0 };

	(void)state;
	syn(sp, s);
	/* far ahead or far behind: nothing is read, whatever len claims */
	assert_int_equal(stream_add(sp, s, ISN + 1 + 0x40000000u, TCP_ACK, tiny, SIZE_MAX), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 - 0x7fffffffu, TCP_ACK, tiny, SIZE_MAX), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 - 0x40000000u, TCP_ACK, tiny, (size_t)1 << 30), 0);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 5000, TCP_ACK, tiny, SIZE_MAX / 2), 0);
	expect_prefix(s, 0);
	/* at the start: only the window (4096 bytes of msg) is read */
	assert_int_equal(stream_add(sp, s, ISN + 1, TCP_ACK, msg, SIZE_MAX), 4096);
	expect_prefix(s, 4096);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	stream_pool_free(sp);
}

static void test_huge_len_after_hole(void **state)
{
	struct stream_pool *sp = pool(4096, 0, 32);
	struct stream *s = stream_new(sp);

	(void)state;
	syn(sp, s);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 96, TCP_ACK, msg + 96, SIZE_MAX), 0);
	assert_int_equal(seg(sp, s, 0, 96), 4096);
	expect_prefix(s, 4096);
	assert_int_equal(stream_flags(s), STREAM_F_FULL);
	stream_pool_free(sp);
}

static void test_max_bytes_clamped(void **state)
{
	struct stream_cfg c;
	struct stream_pool *sp;
	struct stream *s;

	(void)state;
	/* a window of 2^32-1 would break serial arithmetic: it is clamped, and a segment
	 * 3 GB "ahead" is 1.3 GB behind */
	stream_cfg_defaults(&c);
	c.max_bytes = UINT32_MAX;
	c.max_ooo = UINT32_MAX;
	sp = stream_pool_new(&c);
	s = stream_new(sp);
	syn(sp, s);
	assert_int_equal(stream_add(sp, s, ISN + 1 + 3000000000u, TCP_ACK, msg, 10), 0);
	assert_int_equal(stats(sp)->ooo_segments, 0);
	assert_int_equal(seg(sp, s, 0, 10), 10);
	expect_prefix(s, 10);
	stream_pool_free(sp);
}

/* ------------------------------------------------------------------ randomized */

struct rseg {
	uint32_t off, len;
	uint8_t *bytes;
};

/* 0 .. n-1, from rand() (deterministic after srand) */
static uint32_t rnd(uint32_t n)
{
	uint32_t r = ((uint32_t)rand() << 16) ^ (uint32_t)rand();

	return n ? r % n : 0;
}

/* A random 10 KB message cut into segments, plus duplicates and overlapping
 * retransmissions (some with altered bytes when conflicts is set), fed in a random
 * order after a SYN with a random ISN. The reference model keeps the first copy of
 * every byte; the stream must equal its prefix, with CONFLICT exactly when a later
 * copy of a stored byte differed. */
static void differential_round(uint32_t cap, bool conflicts)
{
	enum { N = 10240, MAXSEG = 400 };
	static uint8_t m[N], first[N], have[N];
	static struct rseg segs[MAXSEG];
	uint32_t nseg = 0, isn, covered = 0;
	bool want_conflict = false, full = false;
	size_t total = 0, len;
	struct stream_pool *sp;
	struct stream *s;
	const uint8_t *d;

	for (uint32_t i = 0; i < N; i++)
		m[i] = (uint8_t)rnd(256);
	/* the cover: every byte in at least one segment */
	for (uint32_t off = 0; off < N;) {
		uint32_t l = 1 + rnd(1460);

		if (l > N - off)
			l = N - off;
		segs[nseg].off = off;
		segs[nseg].len = l;
		nseg++;
		off += l;
	}
	/* duplicates and overlaps anywhere, some running past the end */
	for (uint32_t extra = rnd(60); extra > 0 && nseg < MAXSEG; extra--) {
		segs[nseg].off = rnd(N);
		segs[nseg].len = 1 + rnd(2000);
		if (segs[nseg].len > N - segs[nseg].off)
			segs[nseg].len = N - segs[nseg].off;
		nseg++;
	}
	for (uint32_t i = 0; i < nseg; i++) {
		segs[i].bytes = malloc(segs[i].len);
		assert_non_null(segs[i].bytes);
		memcpy(segs[i].bytes, m + segs[i].off, segs[i].len);
		if (conflicts && rnd(4) == 0)
			segs[i].bytes[rnd(segs[i].len)] ^= (uint8_t)(1 + rnd(255));
	}
	for (uint32_t i = nseg - 1; i > 0; i--) {
		uint32_t j = rnd(i + 1);
		struct rseg t = segs[i];

		segs[i] = segs[j];
		segs[j] = t;
	}

	/* half the rounds start right below the wrap */
	isn = rnd(2) ? 0xffffffffu - rnd(20000) : ((uint32_t)rand() << 1) ^ (uint32_t)rand();
	sp = pool(cap, 0, MAXSEG);
	s = stream_new(sp);
	assert_non_null(s);
	assert_int_equal(stream_add(sp, s, isn, TCP_SYN, NULL, 0), 0);
	memset(have, 0, sizeof(have));
	for (uint32_t i = 0; i < nseg; i++) {
		total += stream_add(sp, s, isn + 1 + segs[i].off, TCP_ACK, segs[i].bytes, segs[i].len);
		/* the model: the first copy of each byte below the cap, until full */
		for (uint32_t k = 0; k < segs[i].len && !full; k++) {
			uint32_t o = segs[i].off + k;

			if (o >= cap)
				break;
			if (!have[o]) {
				have[o] = 1;
				first[o] = segs[i].bytes[k];
			} else if (first[o] != segs[i].bytes[k]) {
				want_conflict = true;
			}
		}
		while (covered < N && covered < cap && have[covered])
			covered++;
		if (covered == cap)
			full = true;
	}

	d = stream_data(s, &len);
	assert_int_equal(len, cap < N ? cap : N);
	assert_int_equal(total, len);
	assert_memory_equal(d, first, len);
	if (!conflicts)
		assert_memory_equal(d, m, len);
	assert_int_equal(!!(stream_flags(s) & STREAM_F_CONFLICT), want_conflict);
	assert_int_equal(!!(stream_flags(s) & STREAM_F_FULL), cap <= N);
	assert_int_equal(stream_flags(s) & (STREAM_F_GAP | STREAM_F_NO_ISN | STREAM_F_FIN), 0);
	stream_free(sp, s);
	assert_int_equal(stats(sp)->bytes_in_use, 0);
	stream_pool_free(sp);
	for (uint32_t i = 0; i < nseg; i++)
		free(segs[i].bytes);
}

static void test_randomized_differential(void **state)
{
	static const uint32_t caps[] = { 65536, 10240, 10241, 10239, 4096, 3000, 1 };

	(void)state;
	srand(20261121);
	for (int round = 0; round < 300; round++)
		differential_round(caps[round % 7], false);
	for (int round = 0; round < 300; round++)
		differential_round(caps[round % 7], true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_in_order_after_syn),
		cmocka_unit_test(test_syn_carries_data),
		cmocka_unit_test(test_syn_retry_new_isn),
		cmocka_unit_test(test_no_syn_start),
		cmocka_unit_test(test_reorder_3_1_2),
		cmocka_unit_test(test_reorder_reverse),
		cmocka_unit_test(test_held_merge_uses_one_slot),
		cmocka_unit_test(test_held_bridge),
		cmocka_unit_test(test_retransmission),
		cmocka_unit_test(test_overlap_same_bytes),
		cmocka_unit_test(test_overlap_different_bytes),
		cmocka_unit_test(test_conflict_position_cut_head),
		cmocka_unit_test(test_held_overlap_head_and_tail),
		cmocka_unit_test(test_overlap_prefix_and_held),
		cmocka_unit_test(test_max_ooo_exceeded),
		cmocka_unit_test(test_max_ooo_zero),
		cmocka_unit_test(test_fin_with_hole),
		cmocka_unit_test(test_fin_ahead_of_data),
		cmocka_unit_test(test_rst_with_hole),
		cmocka_unit_test(test_fin_clean),
		cmocka_unit_test(test_fin_fills_hole),
		cmocka_unit_test(test_fin_without_data),
		cmocka_unit_test(test_cap_exact),
		cmocka_unit_test(test_cap_filled_exactly),
		cmocka_unit_test(test_cap_held_straddle),
		cmocka_unit_test(test_cap_zero),
		cmocka_unit_test(test_budget_refuses_streams),
		cmocka_unit_test(test_budget_refuses_growth),
		cmocka_unit_test(test_budget_refuses_first_buffer),
		cmocka_unit_test(test_budget_refuses_held),
		cmocka_unit_test(test_budget_ooo_growth_lowers_cap),
		cmocka_unit_test(test_bytes_in_use_returns_to_zero),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_wraparound_no_syn),
		cmocka_unit_test(test_syn_at_max_seq),
		cmocka_unit_test(test_half_space_away),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_huge_len),
		cmocka_unit_test(test_huge_len_after_hole),
		cmocka_unit_test(test_max_bytes_clamped),
		cmocka_unit_test(test_randomized_differential),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
