/* arp.c - ARP indicators (RFC 826 frames judged as struct arp_ev): arpwatch's reports
 * and what arpwatch misses.
 *
 * Per frame:
 *  - arp.bad_hwaddr: the sender hardware address is zero, broadcast or multicast: no
 *    station owns such an address, so a claim for it is either broken or an attempt to
 *    make neighbours send traffic to everyone (flooding it past the switch).
 *  - arp.ethernet_mismatch: the Ethernet source differs from the ARP sender hardware
 *    address. Hosts and routers write their own MAC in both; a frame whose two
 *    addresses disagree was crafted (a poisoning tool forging the sender while sending
 *    from its own NIC) or relayed by something rewriting L2. First-hop-redundancy
 *    virtual MACs (signatures/virtual-macs.csv) are sent from a physical MAC by some
 *    implementations and are not reported.
 *  - arp.bogon: the sender IP is one no station on a LAN can hold (loopback, multicast,
 *    limited broadcast, 0.0.0.0/8 in a reply; with local_networks configured, anything
 *    outside them). RFC 5227 probes (request from 0.0.0.0) are normal.
 * Against the table of bindings (VLAN, IP) -> MAC, bounded with LRU eviction:
 *  - arp.new_station (informational, off unless report_new_stations: true; muted in the
 *    learning window of a cold start);
 *  - arp.ip_mac_changed: the IP is claimed by a MAC it never had;
 *  - arp.flip_flop: back to the MAC it had just before (arpwatch's "flip flop": two
 *    stations answering for one address, i.e. poisoning in progress against the owner);
 *  - arp.reused_old_mac: back to an older MAC.
 *  A change is worse for a protected IP (gateway, resolvers: declared in the config or
 *  learned from DHCP and router advertisements through lan.h), and worse when it came
 *  in an unsolicited reply (no request for it was seen: the poisoning tools' way).
 *  Not reported: a change to a virtual MAC, between the MACs of a declared failover
 *  group, to a known VRRP speaker for the address (vrrp_failover(): learned by the fhrp
 *  detector, lan.h), or to the MAC a DHCP server has leased the IP to since the old MAC
 *  was last heard (the lease changed hands).
 * Rates:
 *  - arp.mac_claims_many_ips: one MAC took (or created) the bindings of many IPs inside
 *    a window - a host answering for the gateway and its neighbours;
 *  - arp.unsolicited_reply_storm: replies that answer no recent request, above a rate.
 *    While a storm lasts, per-address alerts for unprotected addresses are capped
 *    (storm_alert_budget) and the rest counted in the storm alert, so a flood of forged
 *    replies from random addresses gives one alert, not a million.
 * Bindings are saved and reloaded (save/load): a restart neither re-learns nor learns an
 * attacker as normal.
 * Records (detectors.arp.log or --log-arp; records.h): one `arp` record each time the
 * table learns something, arpwatch's reports as searchable lines - new_station (first
 * claim of an IP), new_activity (a binding heard again after stale_after of silence),
 * changed, flip_flop, reused_old_mac (with old_mac; allowed changes say why they were
 * allowed). Unlike the alerts they are neither muted in the learning window nor capped
 * in a storm: they are the log, and off by default.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "binding.h"
#include "detector.h"
#include "lan.h"
#include "records.h"
#include "sig.h"
#include "table.h"

#define ARP_MAX_VMAC 64
#define ARP_MAX_PROTECTED 256
#define ARP_MAX_NETS 64
#define ARP_MAX_FAILOVER 64       /* failover groups */
#define ARP_FAILOVER_MACS 8       /* MACs per group */
#define ARP_ROLE_MAX 32           /* bytes of a configured role name */
#define ARP_MAC_IPS 32            /* IPs remembered per MAC (caps many_ips_threshold) */
#define ARP_STORM_TOP 8           /* top senders tracked during a storm */
#define ARP_STATE_VERSION 1

#define ARP_DEF_MAX_ENTRIES 65536
#define ARP_DEF_MAX_MACS 16384
#define ARP_DEF_MANY_IPS 8
#define ARP_DEF_MANY_IPS_WINDOW_S 300
#define ARP_DEF_REQUEST_WINDOW_S 5
#define ARP_DEF_REQUEST_CACHE 4096
#define ARP_DEF_STORM_THRESHOLD 100
#define ARP_DEF_STORM_INTERVAL_S 10
#define ARP_DEF_STORM_BUDGET 32
#define ARP_DEF_STALE_AFTER_S (4 * 3600)
#define ARP_DEF_VRRP_MIN_AGE_S 60
#define ARP_VRRP_FRESH 3          /* advertisement intervals a speaker stays current */
#define ARP_VRRP_DEF_INTERVAL_CS 100

#define US 1000000ull

#define OP_REQUEST 1
#define OP_REPLY 2

enum {
	T_ETH_MISMATCH = 0,
	T_BAD_HWADDR,
	T_NEW_STATION,
	T_IP_MAC_CHANGED,
	T_FLIP_FLOP,
	T_REUSED_OLD_MAC,
	T_MANY_IPS,
	T_STORM,
	T_BOGON,
};

static const struct alert_type arp_types[] = {
	[T_ETH_MISMATCH] = { "arp.ethernet_mismatch", 6, "T1557.002", "ARP Cache Poisoning",
			     "Ethernet source MAC differs from the ARP sender hardware address" },
	[T_BAD_HWADDR] = { "arp.bad_hwaddr", 5, "T1557.002", "ARP Cache Poisoning",
			   "ARP sender hardware address is zero, broadcast or multicast" },
	[T_NEW_STATION] = { "arp.new_station", 2, "T1557.002", "ARP Cache Poisoning",
			    "first ARP claim of an IP address (informational; off by default)" },
	[T_IP_MAC_CHANGED] = { "arp.ip_mac_changed", 5, "T1557.002", "ARP Cache Poisoning",
			       "an IP address is claimed by a MAC it never had (high for protected IPs)" },
	[T_FLIP_FLOP] = { "arp.flip_flop", 6, "T1557.002", "ARP Cache Poisoning",
			  "an IP address alternates between two MACs: poisoning in progress" },
	[T_REUSED_OLD_MAC] = { "arp.reused_old_mac", 5, "T1557.002", "ARP Cache Poisoning",
			       "an IP address went back to a MAC it had before the previous one" },
	[T_MANY_IPS] = { "arp.mac_claims_many_ips", 6, "T1557.002", "ARP Cache Poisoning",
			 "one MAC took the ARP bindings of many IPs within a window" },
	[T_STORM] = { "arp.unsolicited_reply_storm", 6, "T1557.002", "ARP Cache Poisoning",
		      "ARP replies answering no request, above a rate (aggregated)" },
	[T_BOGON] = { "arp.bogon", 4, "T1557.002", "ARP Cache Poisoning",
		      "ARP sender IP that no station on the LAN can hold" },
};

struct vmac {
	uint8_t prefix[6];
	unsigned bits;
};

struct prot {
	uint8_t ip[4];
	bool has_mac;
	uint8_t mac[6];
	char role[ARP_ROLE_MAX];
};

struct failover {
	uint8_t mac[ARP_FAILOVER_MACS][6];
	size_t n;
};

struct arp_key {
	uint16_t vlan;
	uint8_t ip[4];
	uint8_t pad[2];
};

struct mac_key {
	uint16_t vlan;
	uint8_t mac[6];
};

struct mac_val {
	uint32_t ip[ARP_MAC_IPS];     /* IPs whose binding this MAC created or took */
	uint32_t ts_s[ARP_MAC_IPS];   /* packet time, seconds */
	uint32_t taken;               /* bit i: ip[i] was taken from another MAC */
	uint8_t n;
	uint64_t alerted_until_us;
};

struct req_slot {
	uint16_t vlan;
	uint8_t requester[4], asked[4];
	uint64_t ts_us;               /* 0 = empty */
};

struct top {
	uint16_t vlan;
	uint8_t mac[6];
	uint64_t n;
};

struct storm {
	uint64_t start_us;            /* current interval */
	uint64_t count, prev_count;   /* unsolicited replies in this / the previous interval */
	bool alerted;                 /* alert written for this interval */
	bool active;
	uint64_t since_us;            /* first interval of the storm */
	uint64_t total;               /* unsolicited replies since the storm began */
	uint64_t budget_used, suppressed;
	struct top top[ARP_STORM_TOP];
};

struct arp_state {
	struct vmac vmac[ARP_MAX_VMAC];
	size_t nvmac;
	struct prot prot[ARP_MAX_PROTECTED];
	size_t nprot;
	struct det_cidr nets[ARP_MAX_NETS];
	size_t nnets;
	struct failover fo[ARP_MAX_FAILOVER];
	size_t nfo;
	/* learned roles (lan.h), refreshed when det_lan_gen() moves */
	uint64_t lan_gen;
	uint32_t learned_ip[DET_LAN_ROLES_MAX];
	unsigned learned_roles[DET_LAN_ROLES_MAX];
	size_t nlearned;
	uint64_t prot_bloom;          /* bit per hashed protected IP (config + learned) */

	bool report_new;
	bool log;                     /* arp records (detectors.arp.log, --log-arp) */
	uint64_t many_ips, many_ips_window_us, request_window_us, storm_threshold,
		storm_interval_us, storm_budget, stale_after_us;
	uint64_t vrrp_min_age_us;     /* a VRRP speaker known this long may take an address */

	struct det_tab *tab;          /* (vlan, ip) -> binding */
	struct det_tab *macs;         /* (vlan, mac) -> IPs claimed */
	struct req_slot *req;         /* direct-mapped cache of recent requests */
	size_t req_mask;
	uint64_t req_seed;
	struct storm storm;

	bool cold;
	uint64_t learning_us, first_us;
};

/* ------------------------------------------------------------------ helpers */

static uint32_t ip32(const uint8_t ip[4])
{
	uint32_t v;
	memcpy(&v, ip, 4);
	return v;
}

static unsigned bloom_bit(uint32_t ip)
{
	return (unsigned)((ip * 0x9e3779b1u) >> 26);
}

static int load_vmac(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		     size_t errlen)
{
	struct arp_state *s = ud;
	struct vmac v;
	char *end;
	(void)ncols;
	if (s->nvmac == ARP_MAX_VMAC) {
		sig_errf(err, errlen, file, line, "more than %d prefixes", ARP_MAX_VMAC);
		return -1;
	}
	if (util_mac_parse(cols[0], v.prefix) < 0) {
		sig_errf(err, errlen, file, line, "prefix '%s' is not a MAC address", cols[0]);
		return -1;
	}
	unsigned long bits = strtoul(cols[1], &end, 10);
	if (*cols[1] == '\0' || *end != '\0' || bits < 8 || bits > 48) {
		sig_errf(err, errlen, file, line, "bits '%s' is not a number from 8 to 48", cols[1]);
		return -1;
	}
	v.bits = (unsigned)bits;
	s->vmac[s->nvmac++] = v;
	return 0;
}

static bool is_virtual_mac(const struct arp_state *s, const uint8_t mac[6])
{
	for (size_t i = 0; i < s->nvmac; i++) {
		const struct vmac *v = &s->vmac[i];
		unsigned full = v->bits / 8, rest = v->bits % 8;
		if (memcmp(mac, v->prefix, full) != 0)
			continue;
		if (rest) {
			uint8_t m = (uint8_t)(0xffu << (8 - rest));
			if ((mac[full] & m) != (v->prefix[full] & m))
				continue;
		}
		return true;
	}
	return false;
}

static bool same_failover(const struct arp_state *s, const uint8_t a[6], const uint8_t b[6])
{
	for (size_t i = 0; i < s->nfo; i++) {
		bool ha = false, hb = false;
		for (size_t j = 0; j < s->fo[i].n; j++) {
			ha |= memcmp(s->fo[i].mac[j], a, 6) == 0;
			hb |= memcmp(s->fo[i].mac[j], b, 6) == 0;
		}
		if (ha && hb)
			return true;
	}
	return false;
}

static uint64_t vrrp_interval_us(uint32_t cs)
{
	return (uint64_t)(cs ? cs : ARP_VRRP_DEF_INTERVAL_CS) * 10000u;
}

/* A VRRP pair that does not use the virtual MAC moves the address between the
 * routers' own MACs. The change is allowed when the new MAC is a current VRRP speaker
 * for this very address (the fhrp detector publishes them, lan.h) that either has been
 * one for vrrp_min_age or since before this run ("vrrp_failover"), or began its current
 * run of advertisements only after the old MAC, itself a speaker for the address,
 * resigned (priority 0) or fell silent for the master-down interval, without claiming
 * priority 255 ("vrrp_takeover").
 * A poisoner who forges a VRRP advertisement just before its gratuitous ARP is new,
 * and the master it outbids was still advertising: reported. */
static const char *vrrp_failover(const struct arp_state *s, const struct arp_ev *ev, const uint8_t old[6])
{
	struct op_addr ip;
	struct det_lan_fhrp n, o;
	uint64_t now = ev->m.ts_us;
	util_addr_set4(&ip, ev->arp.spa);
	if (!det_lan_fhrp_get(ev->m.vlan, &ip, ev->arp.sha, &n) || !n.last_us || n.first_us > now)
		return NULL;
	if (now > n.last_us && now - n.last_us > ARP_VRRP_FRESH * vrrp_interval_us(n.interval_cs))
		return NULL;
	if (n.baseline || now - n.first_us >= s->vrrp_min_age_us)
		return "vrrp_failover";
	if (n.priority == 255 || !det_lan_fhrp_get(ev->m.vlan, &ip, old, &o))
		return NULL;
	/* Priority 0 is sent only by a master shutting down (RFC 3768 6.4.3), never by
	 * one that was outbid; the new speaker's current run must start after it. */
	if (o.resigned_us && o.resigned_us <= n.run_us)
		return "vrrp_takeover";
	if (o.last_us && o.last_us < n.run_us &&
	    n.run_us - o.last_us >= ARP_VRRP_FRESH * vrrp_interval_us(o.interval_cs))
		return "vrrp_takeover";
	return NULL;
}

static void lan_sync(struct arp_state *s)
{
	uint64_t g = det_lan_gen();
	if (g == s->lan_gen)
		return;
	s->lan_gen = g;
	struct det_lan_role r[DET_LAN_ROLES_MAX];
	size_t n = det_lan_roles(r, DET_LAN_ROLES_MAX);
	s->nlearned = 0;
	s->prot_bloom = 0;
	for (size_t i = 0; i < s->nprot; i++)
		s->prot_bloom |= 1ull << bloom_bit(ip32(s->prot[i].ip));
	for (size_t i = 0; i < n; i++) {
		if (r[i].ip.family != 4 || !(r[i].roles & (DET_ROLE_GATEWAY | DET_ROLE_RESOLVER |
							   DET_ROLE_DHCP_SERVER)))
			continue;
		s->learned_ip[s->nlearned] = ip32(r[i].ip.a);
		s->learned_roles[s->nlearned++] = r[i].roles;
		s->prot_bloom |= 1ull << bloom_bit(ip32(r[i].ip.a));
	}
}

/* The role of a protected IP ("gateway", a configured name, ...) or NULL; *cfg is the
 * configured entry when there is one (its MAC is a baseline). */
static const char *protected_role(struct arp_state *s, const uint8_t ip[4], const struct prot **cfg)
{
	uint32_t v = ip32(ip);
	*cfg = NULL;
	lan_sync(s);
	if (!(s->prot_bloom & (1ull << bloom_bit(v))))
		return NULL;
	for (size_t i = 0; i < s->nprot; i++)
		if (ip32(s->prot[i].ip) == v) {
			*cfg = &s->prot[i];
			return s->prot[i].role;
		}
	for (size_t i = 0; i < s->nlearned; i++)
		if (s->learned_ip[i] == v)
			return det_lan_role_name(s->learned_roles[i]);
	return NULL;
}

static bool learning(struct arp_state *s, uint64_t now)
{
	return s->cold && now - s->first_us < s->learning_us;
}

/* ------------------------------------------------------------------ storms */

static void storm_roll(struct arp_state *s, uint64_t now)
{
	struct storm *st = &s->storm;
	if (now < st->start_us || now - st->start_us < s->storm_interval_us)
		return;
	uint64_t k = (now - st->start_us) / s->storm_interval_us;
	st->prev_count = k == 1 ? st->count : 0;
	st->count = 0;
	st->start_us += k * s->storm_interval_us;
	st->alerted = false;
	st->active = st->prev_count >= s->storm_threshold;
	if (!st->active) {
		st->budget_used = st->suppressed = st->total = 0;
		memset(st->top, 0, sizeof(st->top));
	}
}

/* Whether a per-address alert may be written: always for a protected address or
 * outside a storm; inside one, storm_budget of them, then they are only counted. */
static bool quota(struct arp_state *s, bool prot)
{
	struct storm *st = &s->storm;
	if (prot || !st->active)
		return true;
	if (st->budget_used < s->storm_budget) {
		st->budget_used++;
		return true;
	}
	st->suppressed++;
	return false;
}

static void top_add(struct storm *st, uint16_t vlan, const uint8_t mac[6])
{
	/* Space-saving heavy hitters: a bounded list whose counts over-estimate by at
	 * most the count of the entry that was replaced. */
	size_t min = 0;
	for (size_t i = 0; i < ARP_STORM_TOP; i++) {
		struct top *t = &st->top[i];
		if (t->n && t->vlan == vlan && memcmp(t->mac, mac, 6) == 0) {
			t->n++;
			return;
		}
		if (t->n < st->top[min].n)
			min = i;
	}
	struct top *t = &st->top[min];
	t->vlan = vlan;
	memcpy(t->mac, mac, 6);
	t->n++;
}

/* Endpoints of an ARP alert: the frame's metadata (destination MAC, VLAN), then the ARP
 * payload in place of the IP endpoints: the source is the ARP sender (sender IP and
 * hardware address, whatever the Ethernet source said), the destination the target IP. */
static void set_ends(struct alert *a, const struct arp_ev *ev)
{
	det_alert_from_meta(a, &ev->m);
	util_addr_set4(&a->src.ip, ev->arp.spa);
	memcpy(a->src.mac, ev->arp.sha, 6);
	a->src.has_mac = true;
	util_addr_set4(&a->dst.ip, ev->arp.tpa);
}

static void storm_alert(struct arp_state *s, const struct arp_ev *ev, struct alert_pipe *out)
{
	struct storm *st = &s->storm;
	struct alert a;
	char m1[OP_MAC_STRLEN];
	size_t best = 0;
	for (size_t i = 1; i < ARP_STORM_TOP; i++)
		if (st->top[i].n > st->top[best].n)
			best = i;
	alert_begin(&a, &arp_types[T_STORM], ev->m.ts_us);
	a.confidence = CONF_HIGH;
	memcpy(a.src.mac, st->top[best].mac, 6);
	a.src.has_mac = true;
	a.vlan = st->top[best].vlan;
	/* One key for the sensor: every interval of a storm folds into one aggregate. */
	snprintf(a.key, sizeof(a.key), "storm");
	util_mac_fmt(st->top[best].mac, m1);
	snprintf(a.message, sizeof(a.message),
		 "%llu ARP replies answering no request in %llu s (threshold %llu); top sender %s (%llu)",
		 (unsigned long long)st->count, (unsigned long long)(s->storm_interval_us / US),
		 (unsigned long long)s->storm_threshold, m1, (unsigned long long)st->top[best].n);
	jw_uint(&a.ev, "count", st->count);
	jw_uint(&a.ev, "interval_s", s->storm_interval_us / US);
	jw_uint(&a.ev, "threshold", s->storm_threshold);
	jw_uint(&a.ev, "storm_total", st->total);
	jw_ts(&a.ev, "storm_since", st->since_us);
	jw_uint(&a.ev, "suppressed_alerts", st->suppressed);
	jw_uint(&a.ev, "table_evicted", det_tab_evicted(s->tab));
	jw_arr_open(&a.ev, "top_senders");
	for (size_t i = 0; i < ARP_STORM_TOP; i++) {
		if (!st->top[i].n)
			continue;
		jw_obj_open(&a.ev, NULL);
		jw_mac(&a.ev, "mac", st->top[i].mac);
		jw_uint(&a.ev, "vlan", st->top[i].vlan);
		jw_uint(&a.ev, "replies", st->top[i].n);
		jw_obj_close(&a.ev);
	}
	jw_arr_close(&a.ev);
	alert_emit(out, &a);
}

/* ------------------------------------------------------------------ requests */

static struct req_slot *req_slot(struct arp_state *s, uint16_t vlan, const uint8_t requester[4],
				 const uint8_t asked[4])
{
	/* A seeded multiply-xorshift rather than util_hash64: two of these per frame are
	 * on the hot path, and a collision here costs only a reply counted as
	 * unsolicited, never a long chain. */
	uint64_t x = ((uint64_t)vlan << 32 | ip32(requester)) ^ s->req_seed;
	uint64_t h = x * 0x9e3779b97f4a7c15ull ^ (ip32(asked) + s->req_seed) * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 31;
	return &s->req[h & s->req_mask];
}

static void note_request(struct arp_state *s, const struct arp_ev *ev)
{
	/* Direct-mapped: a colliding request overwrites the slot. Under a request flood
	 * the cache forgets, and a genuine reply may then count as unsolicited. */
	struct req_slot *q = req_slot(s, ev->m.vlan, ev->arp.spa, ev->arp.tpa);
	q->vlan = ev->m.vlan;
	memcpy(q->requester, ev->arp.spa, 4);
	memcpy(q->asked, ev->arp.tpa, 4);
	q->ts_us = ev->m.ts_us ? ev->m.ts_us : 1;
}

static bool solicited(struct arp_state *s, const struct arp_ev *ev)
{
	/* A gratuitous reply (sender IP = target IP) answers nobody by definition. */
	if (memcmp(ev->arp.spa, ev->arp.tpa, 4) == 0)
		return false;
	const struct req_slot *q = req_slot(s, ev->m.vlan, ev->arp.tpa, ev->arp.spa);
	return q->ts_us && q->vlan == ev->m.vlan && memcmp(q->requester, ev->arp.tpa, 4) == 0 &&
	       memcmp(q->asked, ev->arp.spa, 4) == 0 && ev->m.ts_us >= q->ts_us &&
	       ev->m.ts_us - q->ts_us <= s->request_window_us;
}

/* ------------------------------------------------------------------ evidence */

static void arp_evidence(struct alert *a, const struct arp_ev *ev)
{
	jw_uint(&a->ev, "op", ev->arp.op);
	jw_mac(&a->ev, "sender_mac", ev->arp.sha);
	struct op_addr ip;
	util_addr_set4(&ip, ev->arp.spa);
	jw_addr(&a->ev, "sender_ip", &ip);
	jw_mac(&a->ev, "target_mac", ev->arp.tha);
	util_addr_set4(&ip, ev->arp.tpa);
	jw_addr(&a->ev, "target_ip", &ip);
	if (ev->m.has_eth) {
		jw_mac(&a->ev, "eth_src", ev->m.src_mac);
		jw_mac(&a->ev, "eth_dst", ev->m.dst_mac);
	}
}

static const char *op_name(uint16_t op)
{
	return op == OP_REPLY ? "reply" : op == OP_REQUEST ? "request" : "frame";
}

/* ------------------------------------------------------------------ bindings */

enum change { CH_NEW = 0, CH_FLIP, CH_REUSED };

static void change_alert(struct arp_state *s, const struct arp_ev *ev, const struct det_binding *v,
			 const uint8_t old[6], uint64_t old_last, enum change kind, bool unsol,
			 const char *role, bool cfg_baseline, struct alert_pipe *out)
{
	static const int type_of[] = { T_IP_MAC_CHANGED, T_FLIP_FLOP, T_REUSED_OLD_MAC };
	struct alert a;
	char ip[OP_ADDR_STRLEN], mo[OP_MAC_STRLEN], mn[OP_MAC_STRLEN], rs[ARP_ROLE_MAX + 4] = "";
	struct op_addr spa;
	uint64_t now = ev->m.ts_us;

	if (!quota(s, role != NULL))
		return;
	alert_begin(&a, &arp_types[type_of[kind]], now);
	bool stale = !role && !cfg_baseline && now > old_last && now - old_last >= s->stale_after_us;
	if (role)
		a.severity = kind == CH_FLIP ? 9 : 8;
	else if (stale)
		a.severity = 3;
	if (unsol && !stale)
		a.severity++;
	a.confidence = role || unsol || kind == CH_FLIP ? CONF_HIGH : CONF_MEDIUM;
	if (stale)
		a.confidence = CONF_LOW;
	set_ends(&a, ev);
	util_addr_set4(&spa, ev->arp.spa);
	util_addr_fmt(&spa, ip);
	util_mac_fmt(old, mo);
	util_mac_fmt(ev->arp.sha, mn);
	if (role)
		snprintf(rs, sizeof(rs), " (%s)", role);
	if (kind == CH_FLIP) {
		/* Both directions of the flapping fold into one key. */
		bool lo = memcmp(old, ev->arp.sha, 6) < 0;
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s %s", ev->m.vlan, ip, lo ? mo : mn, lo ? mn : mo);
		snprintf(a.message, sizeof(a.message),
			 "%s%s flipped from %s back to %s (ARP %s%s): two stations answer for it, poisoning in progress",
			 ip, rs, mo, mn, unsol ? "unsolicited " : "", op_name(ev->arp.op));
	} else {
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s>%s", ev->m.vlan, ip, mo, mn);
		snprintf(a.message, sizeof(a.message), "%s%s moved from %s to %s%s (ARP %s%s)%s", ip, rs,
			 mo, mn, kind == CH_REUSED ? ", a MAC it had before" : "",
			 unsol ? "unsolicited " : "", op_name(ev->arp.op),
			 stale ? "; the old MAC had been silent" : "");
	}
	jw_addr(&a.ev, "ip", &spa);
	jw_mac(&a.ev, "old_mac", old);
	jw_mac(&a.ev, "new_mac", ev->arp.sha);
	if (role)
		jw_str(&a.ev, "role", role);
	jw_str(&a.ev, "baseline", cfg_baseline ? "configured" : "learned");
	if (!cfg_baseline || old_last)
		jw_ts(&a.ev, "old_last_seen", old_last);
	if (v->first_us)
		jw_ts(&a.ev, "ip_first_seen", v->first_us);
	jw_bool(&a.ev, "unsolicited", unsol);
	jw_uint(&a.ev, "changes", v->changes);
	jw_arr_open(&a.ev, "previous_macs");
	for (size_t i = 0; i < v->nprev; i++)
		jw_mac(&a.ev, NULL, v->prev[i]);
	jw_arr_close(&a.ev);
	arp_evidence(&a, ev);
	alert_emit(out, &a);
}

static void new_station_alert(struct arp_state *s, const struct arp_ev *ev, struct alert_pipe *out)
{
	struct alert a;
	char ip[OP_ADDR_STRLEN], m1[OP_MAC_STRLEN];
	struct op_addr spa;
	if (!quota(s, false))
		return;
	alert_begin(&a, &arp_types[T_NEW_STATION], ev->m.ts_us);
	a.confidence = CONF_HIGH;
	set_ends(&a, ev);
	util_addr_set4(&spa, ev->arp.spa);
	util_addr_fmt(&spa, ip);
	util_mac_fmt(ev->arp.sha, m1);
	snprintf(a.key, sizeof(a.key), "vlan=%u %s %s", ev->m.vlan, ip, m1);
	snprintf(a.message, sizeof(a.message), "new station %s at %s", ip, m1);
	jw_addr(&a.ev, "ip", &spa);
	jw_mac(&a.ev, "mac", ev->arp.sha);
	arp_evidence(&a, ev);
	alert_emit(out, &a);
}

/* An `arp` record (records.h): what the table just learned about spa. old is the MAC it
 * replaced (NULL for a new station), allowed why a change raised no alert (NULL). */
static void arp_record(const struct arp_ev *ev, const char *kind, const struct det_binding *v,
		       const uint8_t *old, const char *allowed, const char *role, bool unsol,
		       struct alert_pipe *out)
{
	struct alert ends;
	struct jw w;
	struct op_addr spa;
	memset(&ends, 0, sizeof(ends));
	set_ends(&ends, ev);
	det_record_open(&w, out, ev->m.ts_us, "arp", old ? "change" : "info", &ends, "arp");
	jw_obj_open(&w, "arp");
	jw_str(&w, "kind", kind);
	jw_str(&w, "op", op_name(ev->arp.op));
	util_addr_set4(&spa, ev->arp.spa);
	jw_addr(&w, "ip", &spa);
	jw_mac(&w, "mac", ev->arp.sha);
	if (old)
		jw_mac(&w, "old_mac", old);
	if (allowed)
		jw_str(&w, "allowed", allowed);
	if (role)
		jw_str(&w, "role", role);
	jw_bool(&w, "unsolicited", unsol);
	if (ev->m.has_eth && memcmp(ev->m.src_mac, ev->arp.sha, 6) != 0)
		jw_mac(&w, "eth_src", ev->m.src_mac);
	if (v) {
		if (v->first_us)
			jw_ts(&w, "ip_first_seen", v->first_us);
		jw_uint(&w, "changes", v->changes);
		if (v->nprev) {
			jw_arr_open(&w, "previous_macs");
			for (size_t i = 0; i < v->nprev && i < DET_BINDING_PREV; i++)
				jw_mac(&w, NULL, v->prev[i]);
			jw_arr_close(&w);
		}
	}
	jw_obj_close(&w);
	det_record_submit(out, &w, "arp");
}

/* The MAC side: sha created or took the binding of spa. */
static void claim(struct arp_state *s, const struct arp_ev *ev, bool taken, struct alert_pipe *out)
{
	struct mac_key k;
	uint64_t now = ev->m.ts_us;
	uint32_t now_s = (uint32_t)(now / US), win_s = (uint32_t)(s->many_ips_window_us / US);
	memset(&k, 0, sizeof(k));
	k.vlan = ev->m.vlan;
	memcpy(k.mac, ev->arp.sha, 6);
	struct mac_val *m = det_tab_put(s->macs, &k, NULL);
	uint32_t ip = ip32(ev->arp.spa);
	size_t i, oldest = 0;
	for (i = 0; i < m->n; i++) {
		if (m->ip[i] == ip)
			break;
		if (m->ts_s[i] < m->ts_s[oldest])
			oldest = i;
	}
	if (i == m->n) {
		if (m->n < ARP_MAC_IPS)
			m->n++;
		else
			i = oldest;
		m->ip[i] = ip;
		m->taken &= ~(1u << i);
	}
	m->ts_s[i] = now_s;
	if (taken)
		m->taken |= 1u << i;

	size_t live = 0;
	for (size_t j = 0; j < m->n; j++)
		if (now_s - m->ts_s[j] <= win_s)
			live++;
	if (live < s->many_ips || now < m->alerted_until_us)
		return;
	m->alerted_until_us = now + s->many_ips_window_us;

	/* Worse when one of the IPs is protected and was taken from its owner: a host
	 * impersonating the gateway and its neighbours. */
	const char *role = NULL;
	for (size_t j = 0; j < m->n && !role; j++) {
		const struct prot *pc;
		uint8_t b[4];
		memcpy(b, &m->ip[j], 4);
		if ((m->taken & (1u << j)) && now_s - m->ts_s[j] <= win_s)
			role = protected_role(s, b, &pc);
	}
	if (!quota(s, role != NULL))
		return;
	struct alert a;
	char m1[OP_MAC_STRLEN];
	alert_begin(&a, &arp_types[T_MANY_IPS], now);
	if (role)
		a.severity = 8;
	a.confidence = CONF_HIGH;
	set_ends(&a, ev);
	util_mac_fmt(ev->arp.sha, m1);
	snprintf(a.key, sizeof(a.key), "vlan=%u %s", ev->m.vlan, m1);
	snprintf(a.message, sizeof(a.message), "%s claimed %zu IP addresses within %llu s%s%s", m1, live,
		 (unsigned long long)(s->many_ips_window_us / US), role ? ", including the " : "",
		 role ? role : "");
	jw_mac(&a.ev, "mac", ev->arp.sha);
	jw_uint(&a.ev, "ips_count", live);
	jw_uint(&a.ev, "threshold", s->many_ips);
	jw_uint(&a.ev, "window_s", s->many_ips_window_us / US);
	if (role)
		jw_str(&a.ev, "protected_role", role);
	jw_arr_open(&a.ev, "ips");
	for (size_t j = 0; j < m->n; j++) {
		if (now_s - m->ts_s[j] > win_s)
			continue;
		struct op_addr x;
		uint8_t b[4];
		memcpy(b, &m->ip[j], 4);
		util_addr_set4(&x, b);
		jw_obj_open(&a.ev, NULL);
		jw_addr(&a.ev, "ip", &x);
		jw_bool(&a.ev, "taken", (m->taken & (1u << j)) != 0);
		jw_obj_close(&a.ev);
	}
	jw_arr_close(&a.ev);
	alert_emit(out, &a);
}

static void binding(struct arp_state *s, const struct arp_ev *ev, bool unsol, struct alert_pipe *out)
{
	struct arp_key k;
	bool created;
	uint64_t now = ev->m.ts_us;
	memset(&k, 0, sizeof(k));
	k.vlan = ev->m.vlan;
	memcpy(k.ip, ev->arp.spa, 4);
	struct det_binding *v = det_tab_put(s->tab, &k, &created);
	if (!created && memcmp(v->mac, ev->arp.sha, 6) == 0) {
		/* arpwatch's "new activity": a known pair heard again after a long silence. */
		if (s->log && now > v->last_us && now - v->last_us >= s->stale_after_us)
			arp_record(ev, "new_activity", v, NULL, NULL, NULL, unsol, out);
		v->last_us = now;
		return;
	}

	const struct prot *pc;
	const char *role = protected_role(s, ev->arp.spa, &pc);
	if (created) {
		det_binding_start(v, ev->arp.sha, now);
		if (pc && pc->has_mac && memcmp(pc->mac, ev->arp.sha, 6) != 0 &&
		    !is_virtual_mac(s, ev->arp.sha) && !same_failover(s, pc->mac, ev->arp.sha)) {
			/* The configured MAC is the baseline: the first claim already differs. */
			memcpy(v->prev[0], pc->mac, 6);
			v->nprev = 1;
			v->changes = 1;
			if (s->log)
				arp_record(ev, "changed", v, pc->mac, NULL, role, unsol, out);
			change_alert(s, ev, v, pc->mac, 0, CH_NEW, unsol, role, true, out);
		} else {
			if (s->log)
				arp_record(ev, "new_station", v, NULL, NULL, role, unsol, out);
			if (s->report_new && !learning(s, now))
				new_station_alert(s, ev, out);
		}
		claim(s, ev, false, out);
		return;
	}

	uint8_t old[6];
	uint64_t old_last = v->last_us;
	memcpy(old, v->mac, 6);
	/* No configured or learned role, but the old MAC is the next hop of routed traffic
	 * (lan.h): the default route seen in traffic, so the address is a gateway's. */
	if (!role && det_lan_is_next_hop(ev->m.vlan, old))
		role = "gateway (next hop in traffic)";
	int idx = det_binding_prev_index(v, ev->arp.sha);
	enum change kind = idx == 0 ? CH_FLIP : idx > 0 ? CH_REUSED : CH_NEW;

	/* Allowed changes: to a first-hop-redundancy virtual MAC (the router pair took
	 * the address over; a change FROM a virtual MAC to a physical one is what an
	 * attacker replacing the gateway looks like, and is reported), within a declared
	 * failover group, or to the MAC a DHCP server leased the IP to after the old MAC
	 * was last heard. */
	const char *why = is_virtual_mac(s, ev->arp.sha) ? "virtual_mac"
			  : same_failover(s, old, ev->arp.sha) ? "failover"
			  : vrrp_failover(s, ev, old);
	bool allowed = why != NULL;
	if (!allowed && !role) {
		uint8_t lm[6];
		uint64_t lts;
		if (det_lan_lease_get(ev->m.vlan, ev->arp.spa, lm, &lts) &&
		    memcmp(lm, ev->arp.sha, 6) == 0 && lts >= old_last) {
			allowed = true;
			why = "dhcp_lease";
		}
	}

	det_binding_change(v, ev->arp.sha, idx, now);
	if (s->log) {
		static const char *const kind_name[] = { "changed", "flip_flop", "reused_old_mac" };
		arp_record(ev, kind_name[kind], v, old, why, role, unsol, out);
	}

	if (!allowed)
		change_alert(s, ev, v, old, old_last, kind, unsol, role, false, out);
	claim(s, ev, true, out);
}

/* ------------------------------------------------------------------ bogons */

static const char *bogon(const struct arp_state *s, const struct arp_ev *ev)
{
	const uint8_t *ip = ev->arp.spa;
	if (ip[0] == 127)
		return "loopback";
	if (ip[0] >= 224 && ip[0] <= 239)
		return "multicast";
	if (ip32(ip) == 0xffffffffu)
		return "limited broadcast";
	if (ip[0] == 0 && ev->arp.op == OP_REPLY)
		return "0.0.0.0/8 (\"this network\") in a reply";
	if (s->nnets) {
		struct op_addr a;
		util_addr_set4(&a, ip);
		for (size_t i = 0; i < s->nnets; i++)
			if (det_cidr_match(&s->nets[i], &a))
				return NULL;
		return "outside the configured local networks";
	}
	return NULL;
}

static void bogon_alert(struct arp_state *s, const struct arp_ev *ev, const char *why,
			struct alert_pipe *out)
{
	struct alert a;
	char ip[OP_ADDR_STRLEN], m1[OP_MAC_STRLEN];
	struct op_addr spa;
	if (!quota(s, false))
		return;
	alert_begin(&a, &arp_types[T_BOGON], ev->m.ts_us);
	a.confidence = CONF_HIGH;
	set_ends(&a, ev);
	util_addr_set4(&spa, ev->arp.spa);
	util_addr_fmt(&spa, ip);
	util_mac_fmt(ev->arp.sha, m1);
	snprintf(a.key, sizeof(a.key), "vlan=%u %s %s", ev->m.vlan, ip, m1);
	snprintf(a.message, sizeof(a.message), "ARP %s from %s claims sender IP %s: %s",
		 op_name(ev->arp.op), m1, ip, why);
	jw_str(&a.ev, "reason", why);
	arp_evidence(&a, ev);
	alert_emit(out, &a);
}

/* ------------------------------------------------------------------ per frame */

static void arp_on_arp(void *state, const struct arp_ev *ev, struct alert_pipe *out)
{
	struct arp_state *s = state;
	char ip[OP_ADDR_STRLEN], m1[OP_MAC_STRLEN], m2[OP_MAC_STRLEN];
	struct op_addr spa;
	uint64_t now = ev->m.ts_us;

	if (!s->first_us) {
		s->first_us = now ? now : 1;
		s->storm.start_us = now;
	}
	storm_roll(s, now);

	if (util_mac_is_zero(ev->arp.sha) || util_mac_is_mcast(ev->arp.sha)) {
		const struct prot *pc;
		if (!quota(s, protected_role(s, ev->arp.spa, &pc) != NULL))
			return;
		struct alert a;
		alert_begin(&a, &arp_types[T_BAD_HWADDR], now);
		a.confidence = CONF_HIGH;
		set_ends(&a, ev);
		util_addr_set4(&spa, ev->arp.spa);
		util_addr_fmt(&spa, ip);
		util_mac_fmt(ev->arp.sha, m1);
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s", ev->m.vlan, ip, m1);
		snprintf(a.message, sizeof(a.message), "ARP %s for %s names the sender MAC %s, which no station can own",
			 ev->arp.op == OP_REPLY ? "reply" : "request", ip, m1);
		arp_evidence(&a, ev);
		alert_emit(out, &a);
		return;
	}
	if (ev->m.has_eth && memcmp(ev->m.src_mac, ev->arp.sha, 6) != 0 &&
	    !is_virtual_mac(s, ev->arp.sha)) {
		const struct prot *pc;
		if (quota(s, protected_role(s, ev->arp.spa, &pc) != NULL)) {
			struct alert a;
			alert_begin(&a, &arp_types[T_ETH_MISMATCH], now);
			a.confidence = CONF_MEDIUM;
			set_ends(&a, ev);
			util_addr_set4(&spa, ev->arp.spa);
			util_addr_fmt(&spa, ip);
			util_mac_fmt(ev->arp.sha, m1);
			util_mac_fmt(ev->m.src_mac, m2);
			/* Per VLAN: the same address on two VLANs is two hosts. */
			snprintf(a.key, sizeof(a.key), "vlan=%u %s %s %s", ev->m.vlan, ip, m1, m2);
			snprintf(a.message, sizeof(a.message),
				 "ARP %s says %s is at %s but the frame was sent from %s",
				 ev->arp.op == OP_REPLY ? "reply" : "request", ip, m1, m2);
			arp_evidence(&a, ev);
			alert_emit(out, &a);
		}
	}

	bool unsol = false;
	if (ev->arp.op == OP_REQUEST) {
		note_request(s, ev);
		/* RFC 5227 probe: the sender has no address yet, nothing to bind. */
		if (ip32(ev->arp.spa) == 0)
			return;
	} else if (ev->arp.op == OP_REPLY) {
		if (!solicited(s, ev)) {
			unsol = true;
			struct storm *st = &s->storm;
			if (!st->total)
				st->since_us = now;
			st->count++;
			st->total++;
			top_add(st, ev->m.vlan, ev->arp.sha);
			if (st->count >= s->storm_threshold) {
				st->active = true;
				if (!st->alerted) {
					st->alerted = true;
					storm_alert(s, ev, out);
				}
			}
		}
	} else {
		return; /* RARP, InARP, ...: no IPv4 binding to judge */
	}

	const char *why = bogon(s, ev);
	if (why) {
		bogon_alert(s, ev, why, out);
		return;
	}
	binding(s, ev, unsol, out);
}

static void arp_on_tick(void *state, uint64_t now_us, struct alert_pipe *out)
{
	struct arp_state *s = state;
	(void)out;
	if (s->first_us)
		storm_roll(s, now_us);
}

/* ------------------------------------------------------------------ config */

static int cfg_prot(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	static const char *const keys[] = { "ip", "mac", "role", NULL };
	struct arp_state *s = ud;
	struct prot *p = &s->prot[s->nprot];
	const char *ipstr = NULL, *mac = NULL, *role = NULL;
	struct op_addr a;
	memset(p, 0, sizeof(*p));
	if (it->type != CFG_MAP) {
		cfg_errf(c, it, err, errlen, "detectors.arp.protected: expected {ip, mac, role}");
		return -1;
	}
	if (cfg_check_keys(c, it, "detectors.arp.protected[]", keys, err, errlen) < 0 ||
	    cfg_str(c, it, "ip", &ipstr, err, errlen) < 0 || cfg_str(c, it, "mac", &mac, err, errlen) < 0 ||
	    cfg_str(c, it, "role", &role, err, errlen) < 0)
		return -1;
	if (!ipstr || util_addr_parse(ipstr, &a) < 0 || a.family != 4) {
		cfg_errf(c, it, err, errlen, "detectors.arp.protected: needs ip: an IPv4 address");
		return -1;
	}
	memcpy(p->ip, a.a, 4);
	if (mac) {
		if (util_mac_parse(mac, p->mac) < 0) {
			cfg_errf(c, it, err, errlen, "detectors.arp.protected: mac '%.32s' is not a MAC address", mac);
			return -1;
		}
		p->has_mac = true;
	}
	role = role ? role : "protected";
	for (const char *q = role; *q; q++)
		if (*q < 0x20 || *q > 0x7e || (size_t)(q - role) >= ARP_ROLE_MAX - 1) {
			cfg_errf(c, it, err, errlen,
				 "detectors.arp.protected: role must be printable ASCII, at most %d characters",
				 ARP_ROLE_MAX - 1);
			return -1;
		}
	util_strlcpy(p->role, role, sizeof(p->role));
	s->nprot++;
	return 0;
}

static int cfg_net(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct arp_state *s = ud;
	struct det_cidr n;
	if (det_cfg_cidr(c, it, "detectors.arp.local_networks", &n, err, errlen) < 0)
		return -1;
	if (n.net.family != 4) {
		cfg_errf(c, it, err, errlen, "detectors.arp.local_networks: IPv4 networks only");
		return -1;
	}
	s->nets[s->nnets++] = n;
	return 0;
}

static int cfg_fo_mac(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct failover *f = ud;
	if (det_cfg_mac(c, it, "detectors.arp.failover", f->mac[f->n], err, errlen) < 0)
		return -1;
	f->n++;
	return 0;
}

static int cfg_fo(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct arp_state *s = ud;
	struct failover *f = &s->fo[s->nfo];
	memset(f, 0, sizeof(*f));
	if (it->type != CFG_SEQ) {
		cfg_errf(c, it, err, errlen, "detectors.arp.failover: each entry is a list of MACs");
		return -1;
	}
	/* det_cfg_seq wants a parent map: walk the inner list here. */
	size_t i = 0;
	for (const struct cfg_node *m = it->child; m; m = m->next, i++) {
		if (i == ARP_FAILOVER_MACS) {
			cfg_errf(c, m, err, errlen, "detectors.arp.failover: more than %d MACs in a group",
				 ARP_FAILOVER_MACS);
			return -1;
		}
		if (cfg_fo_mac(f, c, m, err, errlen) < 0)
			return -1;
	}
	if (f->n < 2) {
		cfg_errf(c, it, err, errlen, "detectors.arp.failover: a group needs at least 2 MACs");
		return -1;
	}
	s->nfo++;
	return 0;
}

static int arp_config(struct arp_state *s, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "protected", "local_networks", "failover",
					    "report_new_stations", "max_entries", "max_macs",
					    "many_ips_threshold", "many_ips_window", "request_window",
					    "request_cache", "storm_threshold", "storm_interval",
					    "storm_alert_budget", "stale_after", "log", "vrrp_min_age", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	uint64_t v;
	int r;
	if (cfg_check_keys(c, sec, "detectors.arp", keys, in->err, in->errlen) < 0)
		return -1;
	if (det_cfg_seq(c, sec, "protected", ARP_MAX_PROTECTED, cfg_prot, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "local_networks", ARP_MAX_NETS, cfg_net, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "failover", ARP_MAX_FAILOVER, cfg_fo, s, in->err, in->errlen) < 0)
		return -1;
	if (cfg_bool(c, sec, "report_new_stations", &s->report_new, in->err, in->errlen) < 0 ||
	    cfg_bool(c, sec, "log", &s->log, in->err, in->errlen) < 0)
		return -1;
	/* --log-arp turns the records on whatever the config says (records.h). */
	s->log |= (det_records_cli_mask() & DET_LOG_ARP) != 0;
#define GET(fn, key, lo, hi, dst, scale)                                           \
	do {                                                                       \
		if ((r = fn(c, sec, key, lo, hi, &v, in->err, in->errlen)) < 0)    \
			return -1;                                                 \
		if (r)                                                             \
			dst = v * (scale);                                         \
	} while (0)
	uint64_t max_entries = ARP_DEF_MAX_ENTRIES, max_macs = ARP_DEF_MAX_MACS,
		 req_cache = ARP_DEF_REQUEST_CACHE;
	GET(cfg_uint, "max_entries", 256, DET_TAB_MAX_CAP, max_entries, 1);
	GET(cfg_uint, "max_macs", 256, DET_TAB_MAX_CAP, max_macs, 1);
	GET(cfg_uint, "many_ips_threshold", 2, ARP_MAC_IPS, s->many_ips, 1);
	GET(cfg_duration, "many_ips_window", 1, 86400, s->many_ips_window_us, US);
	GET(cfg_duration, "request_window", 1, 600, s->request_window_us, US);
	GET(cfg_uint, "request_cache", 64, 1u << 22, req_cache, 1);
	GET(cfg_uint, "storm_threshold", 1, 100000000, s->storm_threshold, 1);
	GET(cfg_duration, "storm_interval", 1, 3600, s->storm_interval_us, US);
	GET(cfg_uint, "storm_alert_budget", 0, 100000, s->storm_budget, 1);
	GET(cfg_duration, "stale_after", 60, 365 * 86400ull, s->stale_after_us, US);
	GET(cfg_duration, "vrrp_min_age", 1, 365 * 86400ull, s->vrrp_min_age_us, US);
#undef GET
	s->tab = det_tab_new(max_entries, sizeof(struct arp_key), sizeof(struct det_binding));
	s->macs = det_tab_new(max_macs, sizeof(struct mac_key), sizeof(struct mac_val));
	size_t nslots = 1;
	while (nslots < req_cache)
		nslots <<= 1;
	s->req = calloc(nslots, sizeof(*s->req));
	s->req_mask = nslots - 1;
	if (getrandom(&s->req_seed, sizeof(s->req_seed), GRND_NONBLOCK) != (ssize_t)sizeof(s->req_seed))
		s->req_seed = (uint64_t)(uintptr_t)s->req * 0x9e3779b97f4a7c15ull;
	if (!s->tab || !s->macs || !s->req) {
		snprintf(in->err, in->errlen, "arp: out of memory for %llu entries",
			 (unsigned long long)max_entries);
		return -1;
	}
	return 0;
}

static void arp_fini(void *state)
{
	struct arp_state *s = state;
	if (!s)
		return;
	det_tab_free(s->tab);
	det_tab_free(s->macs);
	free(s->req);
	free(s);
	det_lan_release();
}

static int arp_init(void **state, const struct det_init *in)
{
	struct arp_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "arp: out of memory");
		return -1;
	}
	det_lan_acquire();
	s->many_ips = ARP_DEF_MANY_IPS;
	s->many_ips_window_us = ARP_DEF_MANY_IPS_WINDOW_S * US;
	s->request_window_us = ARP_DEF_REQUEST_WINDOW_S * US;
	s->storm_threshold = ARP_DEF_STORM_THRESHOLD;
	s->storm_interval_us = ARP_DEF_STORM_INTERVAL_S * US;
	s->storm_budget = ARP_DEF_STORM_BUDGET;
	s->stale_after_us = ARP_DEF_STALE_AFTER_S * US;
	s->vrrp_min_age_us = ARP_DEF_VRRP_MIN_AGE_S * US;
	s->cold = in->cold_start;
	s->learning_us = in->learning_s * US;
	s->lan_gen = ~0ull;
	if (arp_config(s, in) < 0 ||
	    sig_csv_load(in->sig_dir, "virtual-macs.csv", 2, load_vmac, s, in->err, in->errlen) < 0) {
		arp_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* ------------------------------------------------------------------ state */

static json_t *arp_save(void *state)
{
	struct arp_state *s = state;
	json_t *root = json_object(), *arr = json_array();
	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	json_object_set_new(root, "version", json_integer(ARP_STATE_VERSION));
	size_t pos = 0;
	const void *kp;
	const struct det_binding *v;
	/* Least recently used first, so a reload rebuilds the same LRU order. */
	while ((v = det_tab_next(s->tab, &pos, &kp))) {
		const struct arp_key *k = kp;
		char ip[OP_ADDR_STRLEN];
		struct op_addr a;
		util_addr_set4(&a, k->ip);
		json_t *e = json_object();
		json_object_set_new(e, "vlan", json_integer(k->vlan));
		json_object_set_new(e, "ip", json_string(util_addr_fmt(&a, ip)));
		det_binding_to_json(v, e);
		json_array_append_new(arr, e);
	}
	json_object_set_new(root, "bindings", arr);
	return root;
}

static int arp_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct arp_state *s = state;
	const json_t *arr = json_object_get(saved, "bindings");
	const json_t *ver = json_object_get(saved, "version");
	if (!json_is_integer(ver) || json_integer_value(ver) != ARP_STATE_VERSION || !json_is_array(arr)) {
		snprintf(err, errlen, "arp: state is not version %d with a bindings list", ARP_STATE_VERSION);
		s->cold = true;
		return -1;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e) {
		struct arp_key k;
		struct det_binding v;
		struct op_addr a;
		const json_t *vl = json_object_get(e, "vlan");
		const char *ip = json_string_value(json_object_get(e, "ip"));
		memset(&k, 0, sizeof(k));
		if (!json_is_integer(vl) || json_integer_value(vl) < 0 || json_integer_value(vl) > 4095 ||
		    !ip || util_addr_parse(ip, &a) < 0 || a.family != 4 || det_binding_from_json(e, &v) < 0)
			goto bad;
		k.vlan = (uint16_t)json_integer_value(vl);
		memcpy(k.ip, a.a, 4);
		*(struct det_binding *)det_tab_put(s->tab, &k, NULL) = v;
		continue;
bad:
		snprintf(err, errlen, "arp: state binding %zu is malformed", i);
		/* Start cold rather than from half a table. */
		size_t cap = det_tab_cap(s->tab);
		det_tab_free(s->tab);
		s->tab = det_tab_new(cap, sizeof(struct arp_key), sizeof(struct det_binding));
		s->cold = true;
		return -1;
	}
	return 0;
}

const struct detector det_arp = {
	.name = "arp",
	.types = arp_types,
	.ntypes = ONPATH_ARRAY_LEN(arp_types),
	.init = arp_init,
	.fini = arp_fini,
	.on_arp = arp_on_arp,
	.on_tick = arp_on_tick,
	.save = arp_save,
	.load = arp_load,
};
