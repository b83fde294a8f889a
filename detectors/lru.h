/* lru.h - a bounded string-keyed table with least-recently-used eviction, for the
 * detectors' baselines (names -> issuers, names -> server fingerprints, ...).
 *
 * Each entry has a key of at most DET_LRU_KEY_MAX bytes and a fixed-size value the
 * caller interprets. The table never holds more than max entries: inserting into a
 * full table evicts the least recently used entry (counted). Memory is bounded by
 * max * (sizeof entry header + value size) plus the hash buckets.
 */
#ifndef ONPATH_DET_LRU_H
#define ONPATH_DET_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DET_LRU_KEY_MAX 320

struct det_lru;

/* A table of at most max entries (>= 1) with values of vsize bytes (zeroed on insert). */
struct det_lru *det_lru_new(size_t max, size_t vsize);
void det_lru_free(struct det_lru *t);

/* The value of key, or NULL. Marks the entry most recently used. */
void *det_lru_get(struct det_lru *t, const char *key);
/* The value of key, inserted (zeroed) when absent; *created tells which. NULL only when
 * out of memory or the key is longer than DET_LRU_KEY_MAX. */
void *det_lru_put(struct det_lru *t, const char *key, bool *created);
/* Calls fn for every entry, most recently used last (so reloading in that order
 * restores the LRU order). */
void det_lru_each(const struct det_lru *t, void (*fn)(void *ud, const char *key, void *value),
		  void *ud);
size_t det_lru_count(const struct det_lru *t);
uint64_t det_lru_evicted(const struct det_lru *t);

#endif
