/* table.c - bounded hash table with LRU eviction for detector state (see table.h).
 *
 * Records live in one pool, addressed by 32-bit indexes (index + 1, so 0 is "none"):
 * hash chains through hnext, the LRU list through prev/next (head = oldest). Deleted
 * and never-used records come from a free list, then from the untouched end of the
 * pool. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "table.h"
#include "util.h"

#define NONE 0u

struct rec {
	uint32_t hnext, prev, next;
	uint32_t hash;
	/* key then value follow, padded to 8 bytes */
};

struct det_tab {
	uint8_t *pool;
	size_t esize, keylen, vallen, keyoff, valoff;
	uint32_t cap, used, count, free_head;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t head, tail; /* LRU: head oldest */
	uint64_t seed, evicted;
	/* Random bytes XORed into every key before hashing: util_hash64 multiplies 8 key
	 * bytes XOR a public constant, so a key whose bytes there equal the constant
	 * hashes the same under every seed (one bucket for all of them); masked keys
	 * cannot be aimed at it. */
	uint64_t kmask[DET_TAB_MAX_KEY / 8];
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static struct rec *R(const struct det_tab *t, uint32_t i)
{
	return (struct rec *)(void *)(t->pool + (size_t)(i - 1) * t->esize);
}

static void *KEY(const struct det_tab *t, struct rec *r)
{
	return (uint8_t *)r + t->keyoff;
}

static void *VAL(const struct det_tab *t, struct rec *r)
{
	return (uint8_t *)r + t->valoff;
}

struct det_tab *det_tab_new(size_t cap, size_t keylen, size_t vallen)
{
	if (cap == 0 || cap > DET_TAB_MAX_CAP || keylen == 0 || keylen > DET_TAB_MAX_KEY)
		return NULL;
	struct det_tab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->keylen = keylen;
	t->vallen = vallen;
	t->keyoff = align8(sizeof(struct rec));
	t->valoff = t->keyoff + align8(keylen);
	t->esize = t->valoff + align8(vallen);
	t->cap = (uint32_t)cap;
	uint32_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	t->mask = nb - 1;
	t->pool = calloc(cap, t->esize);
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->pool || !t->buckets) {
		det_tab_free(t);
		return NULL;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
	if (getrandom(t->kmask, sizeof(t->kmask), GRND_NONBLOCK) != (ssize_t)sizeof(t->kmask))
		for (size_t i = 0; i < ONPATH_ARRAY_LEN(t->kmask); i++)
			t->kmask[i] = util_hash64(&t->seed, sizeof(t->seed), i + 1);
	return t;
}

void det_tab_free(struct det_tab *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->buckets);
	free(t);
}

static bool key_eq(const struct det_tab *t, const void *a, const void *b)
{
	/* Most detector keys are 8 bytes (VLAN + IPv4, VLAN + MAC): one load each
	 * instead of a call to memcmp on the per-frame path. */
	if (t->keylen == 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	return memcmp(a, b, t->keylen) == 0;
}

static uint32_t find(const struct det_tab *t, const void *key, uint32_t h)
{
	for (uint32_t i = t->buckets[h & t->mask]; i != NONE;) {
		struct rec *r = R(t, i);
		if (r->hash == h && key_eq(t, KEY(t, r), key))
			return i;
		i = r->hnext;
	}
	return NONE;
}

static uint32_t hash(const struct det_tab *t, const void *key)
{
	uint64_t w[DET_TAB_MAX_KEY / 8];
	const uint8_t *p = key;
	size_t n = t->keylen, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		w[i / 8] = v ^ t->kmask[i / 8];
	}
	if (i < n) {
		uint64_t v = 0;
		for (size_t j = i; j < n; j++)
			v |= (uint64_t)p[j] << (8 * (j - i));
		w[i / 8] = v ^ t->kmask[i / 8];
	}
	return (uint32_t)util_hash64(w, n, t->seed);
}

static void lru_unlink(struct det_tab *t, uint32_t i)
{
	struct rec *r = R(t, i);
	if (r->prev)
		R(t, r->prev)->next = r->next;
	else
		t->head = r->next;
	if (r->next)
		R(t, r->next)->prev = r->prev;
	else
		t->tail = r->prev;
	r->prev = r->next = NONE;
}

static void lru_push(struct det_tab *t, uint32_t i)
{
	struct rec *r = R(t, i);
	r->prev = t->tail;
	r->next = NONE;
	if (t->tail)
		R(t, t->tail)->next = i;
	else
		t->head = i;
	t->tail = i;
}

static void chain_unlink(struct det_tab *t, uint32_t i)
{
	struct rec *r = R(t, i);
	uint32_t *pp = &t->buckets[r->hash & t->mask];
	while (*pp != i)
		pp = &R(t, *pp)->hnext;
	*pp = r->hnext;
}

void *det_tab_get(struct det_tab *t, const void *key)
{
	uint32_t i = find(t, key, hash(t, key));
	if (i == NONE)
		return NULL;
	if (t->tail != i) {
		lru_unlink(t, i);
		lru_push(t, i);
	}
	return VAL(t, R(t, i));
}

void *det_tab_peek(const struct det_tab *t, const void *key)
{
	uint32_t i = find(t, key, hash(t, key));
	return i == NONE ? NULL : VAL(t, R(t, i));
}

void *det_tab_put(struct det_tab *t, const void *key, bool *created)
{
	uint32_t h = hash(t, key);
	uint32_t i = find(t, key, h);
	if (i != NONE) {
		if (t->tail != i) {
			lru_unlink(t, i);
			lru_push(t, i);
		}
		if (created)
			*created = false;
		return VAL(t, R(t, i));
	}
	if (t->free_head != NONE) {
		i = t->free_head;
		t->free_head = R(t, i)->hnext;
	} else if (t->used < t->cap) {
		i = ++t->used;
	} else {
		/* Full: the least recently used record makes room. */
		i = t->head;
		chain_unlink(t, i);
		lru_unlink(t, i);
		t->count--;
		t->evicted++;
	}
	struct rec *r = R(t, i);
	memset(r, 0, t->esize);
	r->hash = h;
	memcpy(KEY(t, r), key, t->keylen);
	r->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = i;
	lru_push(t, i);
	t->count++;
	if (created)
		*created = true;
	return VAL(t, r);
}

void det_tab_del(struct det_tab *t, const void *key)
{
	uint32_t i = find(t, key, hash(t, key));
	if (i == NONE)
		return;
	chain_unlink(t, i);
	lru_unlink(t, i);
	R(t, i)->hnext = t->free_head;
	t->free_head = i;
	t->count--;
}

size_t det_tab_count(const struct det_tab *t)
{
	return t->count;
}

size_t det_tab_cap(const struct det_tab *t)
{
	return t->cap;
}

uint64_t det_tab_evicted(const struct det_tab *t)
{
	return t->evicted;
}

void *det_tab_next(const struct det_tab *t, size_t *pos, const void **key)
{
	uint32_t i = *pos == 0 ? t->head : R(t, (uint32_t)*pos)->next;
	if (i == NONE) {
		*pos = 0;
		return NULL;
	}
	*pos = i;
	struct rec *r = R(t, i);
	if (key)
		*key = KEY(t, r);
	return VAL(t, r);
}
