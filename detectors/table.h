/* table.h - a bounded hash table of fixed-size records with LRU eviction, for the
 * detectors' per-address state (ARP and neighbour tables, MAC claims, routers, DHCP
 * servers).
 *
 * The table holds at most cap records in one pool allocated at creation (calloc: the
 * kernel maps pages as they are first written, so memory grows with use up to the cap
 * and then stays flat). Inserting into a full table evicts the least recently used
 * record (counted): a flood makes a detector forget, never grow. Keys are compared
 * bytewise, so callers zero their key structs before filling them. The hash seed and
 * a mask XORed into the keys are random per table (keys are attacker-chosen: nobody
 * can line many of them up in one bucket), which changes bucket placement only:
 * iteration is in LRU order, so saved state and alerts do not depend on it. String
 * keys go through det_lru (lru.h), a layer over this table.
 */
#ifndef ONPATH_DET_TABLE_H
#define ONPATH_DET_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DET_TAB_MAX_CAP (1u << 24) /* records; the index type is 32 bits */
#define DET_TAB_MAX_KEY 32         /* bytes */

struct det_tab;

/* Returns NULL on a bad size or out of memory. keylen <= DET_TAB_MAX_KEY. */
struct det_tab *det_tab_new(size_t cap, size_t keylen, size_t vallen);
void det_tab_free(struct det_tab *t);

/* The value stored for key (borrowed until the record is evicted or deleted), marked
 * most recently used; NULL when absent. */
void *det_tab_get(struct det_tab *t, const void *key);
/* Same without touching the LRU order. */
void *det_tab_peek(const struct det_tab *t, const void *key);
/* The value for key, inserted (zeroed, *created = true) when absent, evicting the least
 * recently used record when full. Never NULL once the table exists. */
void *det_tab_put(struct det_tab *t, const void *key, bool *created);
void det_tab_del(struct det_tab *t, const void *key);

size_t det_tab_count(const struct det_tab *t);
size_t det_tab_cap(const struct det_tab *t);
uint64_t det_tab_evicted(const struct det_tab *t);

/* Iteration, least recently used first: pos starts at 0; returns the value and sets
 * *key, or NULL at the end. The table must not change during the walk. */
void *det_tab_next(const struct det_tab *t, size_t *pos, const void **key);

#endif
