/* lru.h - a bounded string-keyed table with least-recently-used eviction, for the
 * detectors' baselines (names -> issuers, names -> server fingerprints, ...).
 *
 * A thin layer over det_tab (table.h), which holds the hash and LRU logic: the det_tab
 * key is a 128-bit keyed hash of the string (two util_hash64 with two random seeds per
 * table), and each record keeps the string itself next to the caller's value, for
 * det_lru_each (save) and to check every hit. The strings are attacker-chosen (SNI,
 * certificate names): with secret seeds nobody can aim a name at another name's key,
 * and even a collision cannot mix two names up: a hit whose stored string differs is a
 * miss, and a put then gives the record to the new name (counted as an eviction), as
 * a full table would.
 *
 * Each entry has a key of at most DET_LRU_KEY_MAX bytes and a fixed-size value (8-byte
 * aligned) the caller interprets. The table never holds more than max entries:
 * inserting into a full table evicts the least recently used entry (counted). Memory is
 * max * (DET_LRU_KEY_MAX + value size + ~40 bytes), reserved at creation and touched
 * as the table fills.
 */
#ifndef ONPATH_DET_LRU_H
#define ONPATH_DET_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

#define DET_LRU_KEY_MAX 320
#define DET_LRU_MAX_CAP DET_TAB_MAX_CAP

struct det_lru;

/* A table of at most max entries (1 .. DET_LRU_MAX_CAP) with values of vsize bytes
 * (zeroed on insert). NULL on a bad size or out of memory. */
struct det_lru *det_lru_new(size_t max, size_t vsize);
void det_lru_free(struct det_lru *t);

/* The value of key, or NULL. Marks the entry most recently used. */
void *det_lru_get(struct det_lru *t, const char *key);
/* The value of key, inserted (zeroed) when absent; *created tells which. NULL only when
 * the key is longer than DET_LRU_KEY_MAX. */
void *det_lru_put(struct det_lru *t, const char *key, bool *created);
/* Calls fn for every entry, most recently used last (so reloading in that order
 * restores the LRU order). fn must not change the table. */
void det_lru_each(const struct det_lru *t, void (*fn)(void *ud, const char *key, void *value),
		  void *ud);
size_t det_lru_count(const struct det_lru *t);
uint64_t det_lru_evicted(const struct det_lru *t);

#endif
