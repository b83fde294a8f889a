/* flow.h - the bounded bidirectional flow table: hash + LRU + idle timeouts.
 *
 * A flow is keyed by (VLAN, protocol, the two address/port endpoints) in canonical
 * order, so both directions find the same entry. The table never grows past
 * max_flows: when full, the least recently used flow is evicted (counted). Memory for
 * all entries is bounded by max_flows * sizeof(struct flow) plus the hash buckets.
 *
 * The fast path for bulk data is flow_get() (one hash lookup) followed by a test of
 * FLOW_F_BULK: a flow whose consumers are all done costs nothing more.
 */
#ifndef ONPATH_FLOW_H
#define ONPATH_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

#define FLOW_DEFAULT_MAX 262144u
#define FLOW_DEFAULT_TCP_IDLE_S 300u
#define FLOW_DEFAULT_TCP_CLOSED_S 10u  /* after FIN both ways or RST */
#define FLOW_DEFAULT_UDP_IDLE_S 60u
#define FLOW_DEFAULT_OTHER_IDLE_S 30u

/* LRU lists are kept in order of packet time to this grain (2^20 us, about 1 s): a
 * packet moves its flow to the head of its list only when its time has entered a new
 * grain since the flow's last packet, so expiry and eviction may pick a flow up to one
 * grain late (never early), and bulk packets cost no list surgery. */
#define FLOW_LRU_GRAIN_SHIFT 20
#define FLOW_LRU_GRAIN_US (1ull << FLOW_LRU_GRAIN_SHIFT)

struct flow_cfg {
	uint32_t max_flows;
	uint32_t tcp_idle_s, tcp_closed_s, udp_idle_s, other_idle_s;
};
void flow_cfg_defaults(struct flow_cfg *c);

/* Canonical key: endpoint a sorts before endpoint b (address bytes, then port).
 * ICMP/ICMPv6 "ports" are those of Community ID v1: (type, counterpart type) for
 * request/response types, which order like ports so both directions share a key;
 * (type, code) for one-way types, whose sender stays endpoint a (unordered, as the
 * spec hashes them). */
struct flow_key {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint16_t vlan;   /* outer VLAN ID, 0 when untagged */
	uint8_t family;  /* 4 or 6 */
	uint8_t proto;   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
};

/* Flow flags. */
#define FLOW_F_BULK (1u << 0)      /* no consumer wants more of this flow: fast path */
#define FLOW_F_SYN_SEEN (1u << 1)
#define FLOW_F_FIN0 (1u << 2)      /* FIN from the initiator */
#define FLOW_F_FIN1 (1u << 3)      /* FIN from the responder */
#define FLOW_F_RST (1u << 4)
#define FLOW_F_MIDSTREAM (1u << 5) /* first packet seen was not a SYN */
#define FLOW_F_CLASSIFIED (1u << 6)

/* Directions: FLOW_DIR_ORIG is initiator -> responder. */
#define FLOW_DIR_ORIG 0
#define FLOW_DIR_REPLY 1

struct stream;

/* Field order follows use: a lookup reads the key and hnext, a packet of a known flow
 * then updates flags, last_us and the counters; all of that lies in the first 96
 * bytes. */
struct flow {
	struct flow_key key;
	uint32_t hnext;               /* table internal: hash chain (pool index, 0 = end) */
	uint32_t flags;               /* FLOW_F_* */
	uint64_t last_us;             /* packet time of the latest packet (never moves back) */
	uint8_t init_is_a;            /* 1 when the initiator is key endpoint a */
	uint8_t lru_class;            /* table internal: which LRU list holds the flow */
	uint32_t want;                /* consumers still interested (bitmask, owner: sensor) */
	uint64_t pkts[2], bytes[2];   /* per direction (FLOW_DIR_*) */
	uint64_t first_us;            /* packet time of the first packet */
	struct stream *st[2];         /* per direction; owned by the sensor, freed in on_free */
	void *app;                    /* per-flow application state; owned by the sensor */
	/* table internals */
	uint32_t lru_prev, lru_next;  /* LRU list (pool index, 0 = end) */
	uint64_t hash;                /* keyed hash of the key (bucket = its top bits) */
};

struct flow_stats {
	uint64_t created, expired, evicted;
	uint64_t active, peak_active;
};

struct flow_table;

/* on_free is called for every flow leaving the table (expiry, eviction, table free)
 * so the owner can release st[] and app. */
typedef void (*flow_free_fn)(struct flow *f, void *ud);

struct flow_table *flow_table_new(const struct flow_cfg *cfg, flow_free_fn on_free, void *ud);
void flow_table_free(struct flow_table *t);

/* Finds or creates the flow of a decoded TCP/UDP/ICMP packet (PKT_F_IP and one of
 * PKT_F_TCP/UDP/ICMP set, not a later fragment); NULL otherwise. *dir receives the
 * packet's direction; *created is set to 1 when the entry is new (its flags then hold
 * only the TCP state of this packet, never FLOW_F_BULK or FLOW_F_CLASSIFIED, which
 * belong to the owner). Updates counters, last_us, the LRU position (to
 * FLOW_LRU_GRAIN_US) and the TCP state flags. The flow is borrowed: valid until the
 * next flow_get() or flow_expire() on this table, either of which may evict or expire
 * it. */
struct flow *flow_get(struct flow_table *t, const struct pkt *p, int *dir, int *created);

/* The fast path of a packet dec_tcp_bulk() accepted: when its flow exists and has
 * FLOW_F_BULK, accounts the packet as flow_get() would (counters, last_us, LRU place)
 * and returns the flow; otherwise changes nothing and returns NULL (the caller then
 * decodes the packet and calls flow_get()). */
struct flow *flow_bulk_tcp(struct flow_table *t, const struct dec_bulk *k, uint64_t ts_us,
			   uint32_t wirelen);

/* Drops flows idle past their timeout at packet time now_us. Bounded work per call:
 * at most max_work flows examined (0 = no bound). A flow never goes before its
 * timeout, and at most FLOW_LRU_GRAIN_US after it (flow_get() refreshes a flow's place
 * in its LRU list once per grain, not on every packet). */
void flow_expire(struct flow_table *t, uint64_t now_us, size_t max_work);

void flow_table_get_stats(const struct flow_table *t, struct flow_stats *s);

/* Community ID v1 (https://github.com/corelight/community-id-spec) of the flow with
 * the given seed, "1:<base64 of SHA-1>"; returns 0, or -1 when cap is too small. */
int flow_community_id(const struct flow_key *k, uint16_t seed, char *out, size_t cap);

/* The initiator's / responder's address and port. */
void flow_endpoints(const struct flow *f, struct op_addr *orig, uint16_t *orig_port,
		    struct op_addr *resp, uint16_t *resp_port);

#endif
