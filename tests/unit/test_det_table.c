/* test_det_table.c - the detectors' bounded tables: det_tab (table.c, binary keys) and
 * det_lru (lru.c, string keys as a layer over det_tab): limits, LRU order, eviction,
 * iteration, and keys built to defeat the hash. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../detectors/lru.h"
#include "../../detectors/table.h"
#include "util.h"

struct k20 {
	uint8_t b[20];
};

static struct k20 key20(unsigned i)
{
	struct k20 k;
	memset(&k, 0, sizeof(k));
	k.b[0] = (uint8_t)i;
	k.b[1] = (uint8_t)(i >> 8);
	k.b[19] = 0x5a;
	return k;
}

static void test_tab_sizes(void **state)
{
	(void)state;
	assert_null(det_tab_new(0, 8, 8));
	assert_null(det_tab_new(DET_TAB_MAX_CAP + 1, 8, 8));
	assert_null(det_tab_new(4, 0, 8));
	assert_null(det_tab_new(4, DET_TAB_MAX_KEY + 1, 8));
	struct det_tab *t = det_tab_new(1, DET_TAB_MAX_KEY, 0);
	assert_non_null(t);
	assert_int_equal(det_tab_cap(t), 1);
	det_tab_free(t);
	det_tab_free(NULL);
}

static void test_tab_put_get_del(void **state)
{
	(void)state;
	struct det_tab *t = det_tab_new(8, sizeof(struct k20), sizeof(uint64_t));
	assert_non_null(t);
	bool created = false;
	for (unsigned i = 0; i < 8; i++) {
		struct k20 k = key20(i);
		uint64_t *v = det_tab_put(t, &k, &created);
		assert_true(created);
		assert_int_equal(*v, 0); /* zeroed on insert */
		*v = 100 + i;
	}
	assert_int_equal(det_tab_count(t), 8);
	for (unsigned i = 0; i < 8; i++) {
		struct k20 k = key20(i);
		uint64_t *v = det_tab_get(t, &k);
		assert_non_null(v);
		assert_int_equal(*v, 100 + i);
		assert_int_equal(*(uint64_t *)det_tab_put(t, &k, &created), 100 + i);
		assert_false(created);
	}
	struct k20 k = key20(3), absent = key20(99);
	assert_null(det_tab_get(t, &absent));
	assert_null(det_tab_peek(t, &absent));
	det_tab_del(t, &k);
	det_tab_del(t, &absent); /* absent: nothing happens */
	assert_null(det_tab_get(t, &k));
	assert_int_equal(det_tab_count(t), 7);
	/* The freed record is reused before anything is evicted. */
	uint64_t *v = det_tab_put(t, &k, &created);
	assert_true(created);
	assert_int_equal(*v, 0);
	assert_int_equal(det_tab_count(t), 8);
	assert_int_equal(det_tab_evicted(t), 0);
	det_tab_free(t);
}

static void test_tab_lru(void **state)
{
	(void)state;
	struct det_tab *t = det_tab_new(3, 8, 4);
	uint64_t a = 1, b = 2, c = 3, d = 4;
	det_tab_put(t, &a, NULL);
	det_tab_put(t, &b, NULL);
	det_tab_put(t, &c, NULL);
	/* get refreshes a; peek does not refresh b: b is now the oldest. */
	assert_non_null(det_tab_get(t, &a));
	assert_non_null(det_tab_peek(t, &b));
	det_tab_put(t, &d, NULL);
	assert_null(det_tab_peek(t, &b));
	assert_int_equal(det_tab_evicted(t), 1);
	assert_int_equal(det_tab_count(t), 3);
	/* Iteration: least recently used first: c, a, d. */
	size_t pos = 0;
	const void *kp;
	uint64_t want[] = { 3, 1, 4 }, got;
	for (int i = 0; i < 3; i++) {
		assert_non_null(det_tab_next(t, &pos, &kp));
		memcpy(&got, kp, 8);
		assert_int_equal(got, want[i]);
	}
	assert_null(det_tab_next(t, &pos, &kp));
	assert_int_equal(pos, 0);
	det_tab_free(t);
}

/* Keys whose bytes cancel util_hash64's constants hash alike under every seed; the
 * table masks keys before hashing. Here only correctness is checked (every key is
 * found, the table holds cap of them); the mask keeps them from one long chain. */
static void test_tab_crafted_keys(void **state)
{
	(void)state;
	static const uint8_t p1[8] = { 0xdb, 0x28, 0xb4, 0xa0, 0xd1, 0x7e, 0x03, 0xe7 };
	struct det_tab *t = det_tab_new(512, 28, 4);
	uint8_t k[28];
	for (unsigned i = 0; i < 1024; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k + 12, p1, 8);
		memcpy(k, &i, sizeof(i));
		uint32_t *v = det_tab_put(t, k, NULL);
		*v = i;
	}
	assert_int_equal(det_tab_count(t), 512);
	assert_int_equal(det_tab_evicted(t), 512);
	for (unsigned i = 512; i < 1024; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k + 12, p1, 8);
		memcpy(k, &i, sizeof(i));
		uint32_t *v = det_tab_peek(t, k);
		assert_non_null(v);
		assert_int_equal(*v, i);
	}
	det_tab_free(t);
}

struct each_ctx {
	char keys[8][32];
	uint32_t vals[8];
	int n;
};

static void collect(void *ud, const char *key, void *value)
{
	struct each_ctx *c = ud;
	assert_true(c->n < 8);
	snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
	c->vals[c->n++] = *(uint32_t *)value;
}

static void test_lru_basic(void **state)
{
	(void)state;
	assert_null(det_lru_new(0, 8));
	assert_null(det_lru_new(DET_LRU_MAX_CAP + 1, 8));
	struct det_lru *t = det_lru_new(3, sizeof(uint64_t) * 2);
	assert_non_null(t);
	bool created;
	static const char *const names[] = { "a.example:443", "b.example:443", "c.example:443" };
	for (unsigned i = 0; i < 3; i++) {
		uint64_t *v = det_lru_put(t, names[i], &created);
		assert_non_null(v);
		assert_true(created);
		assert_int_equal((uintptr_t)v % 8, 0);
		assert_int_equal(v[0] | v[1], 0);
		v[0] = i + 1;
	}
	/* Keys are compared whole: a prefix or a longer key is another entry. */
	assert_null(det_lru_get(t, "a.example:44"));
	assert_null(det_lru_get(t, "a.example:4433"));
	uint64_t *v = det_lru_get(t, names[0]);
	assert_non_null(v);
	assert_int_equal(v[0], 1);
	v = det_lru_put(t, names[1], &created);
	assert_false(created);
	assert_int_equal(v[0], 2);
	/* Order now: c, a, b. A fourth name evicts c. */
	v = det_lru_put(t, "d.example:443", &created);
	assert_true(created);
	v[0] = 4;
	assert_null(det_lru_get(t, names[2]));
	assert_int_equal(det_lru_count(t), 3);
	assert_int_equal(det_lru_evicted(t), 1);
	struct each_ctx c = { .n = 0 };
	det_lru_each(t, collect, &c);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.keys[0], "a.example:443");
	assert_string_equal(c.keys[1], "b.example:443");
	assert_string_equal(c.keys[2], "d.example:443");
	assert_int_equal(c.vals[0], 1);
	assert_int_equal(c.vals[2], 4);
	det_lru_free(t);
	det_lru_free(NULL);
}

static void test_lru_key_limits(void **state)
{
	(void)state;
	struct det_lru *t = det_lru_new(4, 4);
	char k[DET_LRU_KEY_MAX + 2];
	memset(k, 'x', sizeof(k));
	k[DET_LRU_KEY_MAX] = '\0'; /* exactly the maximum */
	bool created = true;
	assert_non_null(det_lru_put(t, k, &created));
	assert_true(created);
	assert_non_null(det_lru_get(t, k));
	k[DET_LRU_KEY_MAX] = 'x';
	k[DET_LRU_KEY_MAX + 1] = '\0'; /* one byte too long */
	assert_null(det_lru_put(t, k, &created));
	assert_false(created);
	assert_null(det_lru_get(t, k));
	assert_non_null(det_lru_put(t, "", &created)); /* the empty string is a key */
	assert_true(created);
	assert_int_equal(det_lru_count(t), 2);
	det_lru_free(t);
}

/* Two names that util_hash64 maps to the same value under every seed (the first 8
 * bytes of each 16-byte block cancel a constant, so the block's other 8 bytes do not
 * count), hence the same 128-bit det_lru key today. Whatever the hash, the caller must
 * never get one name's value for the other: the second name takes the record over
 * (counted as an eviction) or gets its own. */
static void test_lru_colliding_names(void **state)
{
	(void)state;
	static const uint8_t p1[8] = { 0xdb, 0x28, 0xb4, 0xa0, 0xd1, 0x7e, 0x03, 0xe7 };
	char a[34], b[34];
	memcpy(a, p1, 8);
	memset(a + 8, 'A', 8);
	memcpy(a + 16, p1, 8);
	memcpy(a + 24, "tail12345", 10);
	memcpy(b, a, sizeof(b));
	memset(b + 8, 'B', 8);
	struct det_lru *t = det_lru_new(16, sizeof(uint32_t));
	bool created;
	uint32_t *va = det_lru_put(t, a, &created);
	assert_true(created);
	*va = 0xaaaa;
	uint32_t *vb = det_lru_put(t, b, &created);
	assert_true(created);
	assert_int_equal(*vb, 0); /* never a's value */
	*vb = 0xbbbb;
	assert_int_equal(*(uint32_t *)det_lru_get(t, b), 0xbbbb);
	uint32_t *again = det_lru_get(t, a);
	assert_true(again == NULL || *again == 0xaaaa);
	assert_int_equal(det_lru_count(t) + det_lru_evicted(t), 2);
	struct each_ctx c = { .n = 0 };
	det_lru_each(t, collect, &c);
	for (int i = 0; i < c.n; i++)
		assert_int_equal(c.vals[i], memcmp(c.keys[i], a, 16) == 0 ? 0xaaaa : 0xbbbb);
	det_lru_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tab_sizes),
		cmocka_unit_test(test_tab_put_get_del),
		cmocka_unit_test(test_tab_lru),
		cmocka_unit_test(test_tab_crafted_keys),
		cmocka_unit_test(test_lru_basic),
		cmocka_unit_test(test_lru_key_limits),
		cmocka_unit_test(test_lru_colliding_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
