/* lru.c - string-keyed baselines as a layer over det_tab (see lru.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lru.h"
#include "table.h"
#include "util.h"

/* The det_tab key: the string's hash under two secret seeds. */
struct lru_key {
	uint64_t h[2];
};

/* The det_tab value: the string, then (at voff) the caller's value. */
struct lru_head {
	uint16_t klen;
	char key[DET_LRU_KEY_MAX + 1];
};

struct det_lru {
	struct det_tab *tab;
	size_t vsize, voff;
	uint64_t seed[2];
	uint64_t replaced; /* records given to a colliding string */
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

struct det_lru *det_lru_new(size_t max, size_t vsize)
{
	if (max == 0 || max > DET_LRU_MAX_CAP)
		return NULL;
	struct det_lru *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vsize = vsize;
	t->voff = align8(sizeof(struct lru_head));
	t->tab = det_tab_new(max, sizeof(struct lru_key), t->voff + vsize);
	if (!t->tab) {
		free(t);
		return NULL;
	}
	if (getrandom(t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed)) {
		/* No entropy yet (early boot): weaker, but still per table and per run. */
		uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
		t->seed[0] = util_hash64(&x, sizeof(x), 0x6c72755f73656564ull);
		t->seed[1] = util_hash64(&x, sizeof(x), t->seed[0]);
	}
	return t;
}

void det_lru_free(struct det_lru *t)
{
	if (!t)
		return;
	det_tab_free(t->tab);
	free(t);
}

/* Hashes key into k; returns its length, or SIZE_MAX when it is too long. */
static size_t make_key(const struct det_lru *t, const char *key, struct lru_key *k)
{
	size_t n = strnlen(key, DET_LRU_KEY_MAX + 1);
	if (n > DET_LRU_KEY_MAX)
		return SIZE_MAX;
	k->h[0] = util_hash64(key, n, t->seed[0]);
	k->h[1] = util_hash64(key, n, t->seed[1]);
	return n;
}

static bool same(const struct lru_head *h, const char *key, size_t n)
{
	return h->klen == n && memcmp(h->key, key, n) == 0;
}

void *det_lru_get(struct det_lru *t, const char *key)
{
	struct lru_key k;
	size_t n = make_key(t, key, &k);
	if (n == SIZE_MAX)
		return NULL;
	struct lru_head *h = det_tab_get(t->tab, &k);
	if (!h || !same(h, key, n))
		return NULL;
	return (uint8_t *)h + t->voff;
}

void *det_lru_put(struct det_lru *t, const char *key, bool *created)
{
	*created = false;
	struct lru_key k;
	size_t n = make_key(t, key, &k);
	if (n == SIZE_MAX)
		return NULL;
	bool fresh;
	struct lru_head *h = det_tab_put(t->tab, &k, &fresh);
	if (!fresh) {
		if (same(h, key, n))
			return (uint8_t *)h + t->voff;
		/* Another string with the same 128-bit key: it gives way, as if evicted. */
		memset(h, 0, t->voff + t->vsize);
		t->replaced++;
	}
	h->klen = (uint16_t)n;
	memcpy(h->key, key, n);
	h->key[n] = '\0';
	*created = true;
	return (uint8_t *)h + t->voff;
}

void det_lru_each(const struct det_lru *t, void (*fn)(void *ud, const char *key, void *value),
		  void *ud)
{
	size_t pos = 0;
	struct lru_head *h;
	while ((h = det_tab_next(t->tab, &pos, NULL)))
		fn(ud, h->key, (uint8_t *)h + t->voff);
}

size_t det_lru_count(const struct det_lru *t)
{
	return det_tab_count(t->tab);
}

uint64_t det_lru_evicted(const struct det_lru *t)
{
	return det_tab_evicted(t->tab) + t->replaced;
}
