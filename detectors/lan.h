/* lan.h - what the LAN detectors (arp, ndp, dhcp) tell each other: the roles of
 * addresses learned from the traffic (the routers and DNS servers DHCP hands out, the
 * routers and RDNSS that router advertisements announce) and the DHCP leases seen.
 *
 * The arp and ndp detectors make any change of a protected address (a gateway, a
 * resolver) high severity and name its role; roles come from their configuration and
 * from here. A lease lets arp accept an address changing hands after its old owner
 * went silent.
 *
 * One process-wide store, reference-counted by the detectors that use it (it is
 * emptied when the last one is freed, so each registry of a test starts clean; a
 * SIGHUP reload creates the new registry before freeing the old one and keeps it).
 * Learned entries are bounded (oldest replaced, deterministic) and guarded by a mutex;
 * readers on the per-frame path poll det_lan_gen() (an atomic load) and copy the
 * roles only when it changed.
 */
#ifndef ONPATH_DET_LAN_H
#define ONPATH_DET_LAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "util.h"

#define DET_LAN_ROLES_MAX 64    /* learned role entries (addresses) */
#define DET_LAN_LEASES_MAX 4096 /* DHCPv4 leases remembered */
#define DET_LAN_FHRP_MAX 1024   /* (VLAN, virtual address, speaker MAC) remembered */

/* Role bits. */
#define DET_ROLE_GATEWAY 0x01u     /* DHCP router option, IPv6 default router */
#define DET_ROLE_RESOLVER 0x02u    /* DHCP DNS option, RDNSS, DHCPv6 DNS servers */
#define DET_ROLE_DHCP_SERVER 0x04u /* answered as a DHCP server */
#define DET_ROLE_ROUTER 0x08u      /* IPv6 router (any lifetime) */
#define DET_ROLE_CONFIG 0x80u      /* declared in a configuration (never learned) */

struct det_lan_role {
	struct op_addr ip;
	unsigned roles;
	uint64_t learned_us;  /* packet time it was first learned */
};

void det_lan_acquire(void);
void det_lan_release(void);

/* Adds role bits to ip (packet time ts_us). Returns true when something new was
 * learned. */
bool det_lan_learn(const struct op_addr *ip, unsigned roles, uint64_t ts_us);
/* Changes every time a role is learned. */
uint64_t det_lan_gen(void);
/* Copies up to cap learned roles, oldest first; returns how many. */
size_t det_lan_roles(struct det_lan_role *out, size_t cap);

/* DHCPv4 ACK of ip to mac on vlan at ts_us. */
void det_lan_lease(uint16_t vlan, const uint8_t ip[4], const uint8_t mac[6], uint64_t ts_us);
/* The last lease of ip on vlan: true with mac and time filled. */
bool det_lan_lease_get(uint16_t vlan, const uint8_t ip[4], uint8_t mac[6], uint64_t *ts_us);
/* Calls fn for every lease remembered (for the dhcp detector's saved state). */
void det_lan_leases_each(void (*fn)(void *ud, uint16_t vlan, const uint8_t ip[4], const uint8_t mac[6],
				    uint64_t ts_us),
			 void *ud);

/* First-hop redundancy (VRRP) speakers, published by the fhrp detector so the arp
 * detector can tell a router pair's failover from a poisoning: which MACs advertised
 * a virtual address, since when, how often, and whether they resigned. */
struct det_lan_fhrp {
	uint64_t first_us;     /* first advertisement naming the address */
	uint64_t last_us;      /* last one with a priority above 0 */
	uint64_t run_us;       /* start of its current run of advertisements (after a
	                        * resignation or a silence of 3 intervals a new one starts) */
	uint64_t resigned_us;  /* last priority-0 advertisement (the master stepping down),
	                        * 0 when it advertised again since */
	uint32_t interval_cs;  /* advertisement interval it announced (centiseconds) */
	uint8_t priority;      /* of its last advertisement above 0 */
	bool baseline;         /* restored from saved state (known before this run) */
};

/* mac advertised vip on vlan at ts_us with this priority and interval (priority 0: a
 * resignation). baseline marks an entry restored from saved state (ts_us its first
 * sighting then). Bounded: the least recently noted entry goes. */
void det_lan_fhrp_note(uint16_t vlan, const struct op_addr *vip, const uint8_t mac[6], uint64_t ts_us,
		       uint8_t priority, uint32_t interval_cs, bool baseline);
/* What is known of mac as a speaker for vip on vlan: true with *out filled. */
bool det_lan_fhrp_get(uint16_t vlan, const struct op_addr *vip, const uint8_t mac[6],
		      struct det_lan_fhrp *out);

/* The default route, seen in traffic: the sensor notes the destination MAC of each new
 * IPv4 flow with its destination address; a MAC that is the next hop toward
 * DET_LAN_HOP_ROUTER distinct addresses forwards traffic, i.e. routes (a host's own
 * MAC only ever receives for its own addresses). The arp detector treats an address
 * moving away from such a MAC as a gateway's. Bounded: DET_LAN_HOPS_MAX MACs, the least
 * recently seen replaced. */
#define DET_LAN_HOPS_MAX 64
#define DET_LAN_HOP_ROUTER 8
void det_lan_next_hop(uint16_t vlan, const uint8_t mac[6], const uint8_t dst[4], uint64_t ts_us);
bool det_lan_is_next_hop(uint16_t vlan, const uint8_t mac[6]);

/* "gateway", "resolver", "gateway+resolver", ... for roles (a static string). */
const char *det_lan_role_name(unsigned roles);

/* Configuration helpers shared by the LAN detectors. */
struct det_cidr {
	struct op_addr net;  /* host bits cleared */
	uint8_t bits;
};

/* Calls fn for each element of the sequence sec.key (absent: nothing, 0). More than
 * max elements, or a key that is not a sequence, is an error "file:line: why". */
int det_cfg_seq(const struct cfg *c, const struct cfg_node *sec, const char *key, size_t max,
		int (*fn)(void *ud, const struct cfg *c, const struct cfg_node *item, char *err,
			  size_t errlen),
		void *ud, char *err, size_t errlen);
/* A scalar element as an IPv4/IPv6 address, a MAC, or a CIDR ("192.0.2.0/24",
 * "2001:db8::/32"; a bare address is a host route). what names it in errors. */
int det_cfg_addr(const struct cfg *c, const struct cfg_node *item, const char *what,
		 struct op_addr *out, char *err, size_t errlen);
int det_cfg_mac(const struct cfg *c, const struct cfg_node *item, const char *what,
		uint8_t mac[6], char *err, size_t errlen);
int det_cfg_cidr(const struct cfg *c, const struct cfg_node *item, const char *what,
		 struct det_cidr *out, char *err, size_t errlen);
bool det_cidr_match(const struct det_cidr *n, const struct op_addr *a);

#endif
