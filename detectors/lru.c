/* lru.c - bounded string-keyed LRU table for detector baselines (see lru.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "util.h"

struct lru_ent {
	struct lru_ent *hnext;           /* hash chain */
	struct lru_ent *prev, *next;     /* LRU list: head = oldest */
	uint64_t hash;
	uint16_t klen;
	/* the key (klen bytes + NUL), then the value at a 16-byte aligned offset */
	_Alignas(16) char data[];
};

static size_t voff(size_t klen)
{
	return (klen + 1 + 15) & ~(size_t)15;
}

static void *val(struct lru_ent *e)
{
	return e->data + voff(e->klen);
}

struct det_lru {
	size_t max, vsize, count, nbuckets;
	uint64_t evicted;
	struct lru_ent **buckets;
	struct lru_ent *head, *tail;
};

#define LRU_SEED 0x6f6e70617468ull /* "onpath" */

struct det_lru *det_lru_new(size_t max, size_t vsize)
{
	struct det_lru *t = calloc(1, sizeof(*t));
	if (!t || !max)
		goto fail;
	t->max = max;
	t->vsize = vsize;
	t->nbuckets = 64;
	while (t->nbuckets < max)
		t->nbuckets <<= 1;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets)
		goto fail;
	return t;
fail:
	if (t)
		free(t->buckets);
	free(t);
	return NULL;
}

void det_lru_free(struct det_lru *t)
{
	if (!t)
		return;
	struct lru_ent *e = t->head;
	while (e) {
		struct lru_ent *n = e->next;
		free(e);
		e = n;
	}
	free(t->buckets);
	free(t);
}

static void unlink_lru(struct det_lru *t, struct lru_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_tail(struct det_lru *t, struct lru_ent *e)
{
	e->prev = t->tail;
	e->next = NULL;
	if (t->tail)
		t->tail->next = e;
	else
		t->head = e;
	t->tail = e;
}

static struct lru_ent *find(struct det_lru *t, const char *key, size_t klen, uint64_t h)
{
	for (struct lru_ent *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
			return e;
	return NULL;
}

static void unhash(struct det_lru *t, struct lru_ent *e)
{
	struct lru_ent **pp = &t->buckets[e->hash & (t->nbuckets - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
}

void *det_lru_get(struct det_lru *t, const char *key)
{
	size_t klen = strlen(key);
	if (klen > DET_LRU_KEY_MAX)
		return NULL;
	uint64_t h = util_hash64(key, klen, LRU_SEED);
	struct lru_ent *e = find(t, key, klen, h);
	if (!e)
		return NULL;
	unlink_lru(t, e);
	push_tail(t, e);
	return val(e);
}

void *det_lru_put(struct det_lru *t, const char *key, bool *created)
{
	size_t klen = strlen(key);
	*created = false;
	if (klen > DET_LRU_KEY_MAX)
		return NULL;
	uint64_t h = util_hash64(key, klen, LRU_SEED);
	struct lru_ent *e = find(t, key, klen, h);
	if (e) {
		unlink_lru(t, e);
		push_tail(t, e);
		return val(e);
	}
	if (t->count >= t->max && t->head) {
		/* Full: forget the least recently used name rather than grow. */
		e = t->head;
		unlink_lru(t, e);
		unhash(t, e);
		t->count--;
		t->evicted++;
		free(e);
	}
	e = calloc(1, sizeof(*e) + voff(klen) + t->vsize);
	if (!e)
		return NULL;
	e->hash = h;
	e->klen = (uint16_t)klen;
	memcpy(e->data, key, klen);
	e->data[klen] = '\0';
	size_t b = h & (t->nbuckets - 1);
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	push_tail(t, e);
	t->count++;
	*created = true;
	return val(e);
}

void det_lru_each(const struct det_lru *t, void (*fn)(void *ud, const char *key, void *value),
		  void *ud)
{
	for (struct lru_ent *e = t->head; e; e = e->next)
		fn(ud, e->data, val(e));
}

size_t det_lru_count(const struct det_lru *t)
{
	return t->count;
}

uint64_t det_lru_evicted(const struct det_lru *t)
{
	return t->evicted;
}
