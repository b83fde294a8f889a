/* binding.h - an address-to-MAC binding with its recent history, shared by the ARP
 * (IPv4) and NDP (IPv6) neighbour tables: the record kept per (VLAN, IP), how a new MAC
 * replaces the current one, and its JSON form in saved state. */
#ifndef ONPATH_DET_BINDING_H
#define ONPATH_DET_BINDING_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define DET_BINDING_PREV 4 /* previous MACs remembered per address */

struct det_binding {
	uint8_t mac[6];
	uint8_t nprev;
	uint8_t prev[DET_BINDING_PREV][6];    /* most recent first */
	uint64_t prev_last[DET_BINDING_PREV]; /* when each was last heard for this address */
	uint64_t first_us, last_us, since_us;
	uint32_t changes;
};

/* A new binding to mac first heard at now. */
void det_binding_start(struct det_binding *v, const uint8_t mac[6], uint64_t now);
/* Where mac stands in v's history: 0 = the MAC just replaced, -1 = never seen. */
int det_binding_prev_index(const struct det_binding *v, const uint8_t mac[6]);
/* mac takes the binding over at now: the returning MAC (history index idx, or -1) leaves
 * the history, the one it replaces goes in front, the change is counted. */
void det_binding_change(struct det_binding *v, const uint8_t mac[6], int idx, uint64_t now);

/* Adds mac, first, last, since, changes and prev to the JSON object e. */
void det_binding_to_json(const struct det_binding *v, json_t *e);
/* Reads those members of e into v (zeroed first); -1 if one is missing or malformed. */
int det_binding_from_json(const json_t *e, struct det_binding *v);

/* JSON helpers for saved state: a non-negative integer, a MAC string; -1 if not. */
int det_json_ts(const json_t *o, const char *k, uint64_t *v);
int det_json_mac(const json_t *o, const char *k, uint8_t mac[6]);
json_t *det_json_mac_str(const uint8_t mac[6]);

#endif
