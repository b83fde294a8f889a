/* ndp.c - IPv6 neighbour and router spoofing indicators (RFC 4861 messages judged as
 * struct ndp_ev).
 *
 *  - ndp.na_override: a Neighbor Advertisement with the Override flag that gives a known
 *    neighbour a new MAC. Hosts replace their cache entry on such an NA (RFC 4861
 *    7.2.5), which is how neighbour spoofing (parasite6, the NDP twin of arpspoof)
 *    redirects traffic. The same model as ARP: the change is classified as new MAC,
 *    flip-flop (back to the MAC it had just before: two stations answering) or reuse
 *    of an older MAC, and is worse for protected addresses (routers, resolvers,
 *    configured addresses). Bindings come from NA target link-layer addresses (or the
 *    Ethernet source of an NA without one), NS and RA source link-layer addresses.
 *    An NA without the Override flag does not replace an entry and is not judged.
 *  - ndp.rogue_router: a Router Advertisement from a router not allowed / not in the
 *    baseline, from a known router's address but another MAC, or announcing a prefix or
 *    RDNSS server (RFC 8106) not allowed / not seen from that router before, or a known
 *    router starting to advertise itself as a default router. Routers, their prefixes
 *    and RDNSS are learned in the learning window of a cold start and, on a VLAN with
 *    no known router yet, from the first router heard (trust on first use);
 *    allowed_routers / allowed_prefixes / allowed_rdnss in the config replace learning.
 *  - ndp.router_lifetime_zero: an RA with router lifetime 0 for a known default router
 *    (a router being killed: THC-IPv6 kill_router6), high when it comes from another
 *    MAC than the router's; or for an unknown router with nothing else in it (an RA
 *    whose only effect is to remove a default route the sensor never saw).
 * Known neighbours and routers are saved and reloaded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../monitor/decode/ndp.h"
#include "binding.h"
#include "detector.h"
#include "lan.h"
#include "table.h"

#define NDP_MAX_PROTECTED 256
#define NDP_MAX_ALLOWED 256
#define NDP_ROLE_MAX 32
#define NDP_ROUTER_PREFIXES 8
#define NDP_ROUTER_RDNSS 8
#define NDP_STATE_VERSION 1
#define NDP_VLANS 4096
#define NDP_DEF_MAX_NEIGHBORS 65536
#define NDP_DEF_MAX_ROUTERS 256
#define US 1000000ull

enum { T_NA_OVERRIDE = 0, T_ROGUE_ROUTER, T_LIFETIME_ZERO };

static const struct alert_type ndp_types[] = {
	[T_NA_OVERRIDE] = { "ndp.na_override", 5, "T1557", "Adversary-in-the-Middle",
			    "Neighbor Advertisement with Override gives a known IPv6 neighbour a new MAC" },
	[T_ROGUE_ROUTER] = { "ndp.rogue_router", 6, "T1557", "Adversary-in-the-Middle",
			     "Router Advertisement from a router, or with a prefix or RDNSS, not allowed or seen before" },
	[T_LIFETIME_ZERO] = { "ndp.router_lifetime_zero", 5, "T1557", "Adversary-in-the-Middle",
			      "Router Advertisement with lifetime 0 for a default router: a router being killed" },
};

struct prot6 {
	uint8_t ip[16];
	bool has_mac;
	uint8_t mac[6];
	char role[NDP_ROLE_MAX];
};

struct nb_key {
	uint16_t vlan;
	uint8_t ip[16];
	uint8_t pad[2];
};

struct rt_prefix {
	uint8_t p[16];
	uint8_t len;
};

struct rt_val {
	uint8_t mac[6];
	bool is_default;              /* has advertised a lifetime > 0 */
	uint8_t nprefixes, nrdnss;
	struct rt_prefix prefixes[NDP_ROUTER_PREFIXES];
	uint8_t rdnss[NDP_ROUTER_RDNSS][16];
	uint16_t lifetime_s;          /* last lifetime from the router's own MAC */
	uint64_t first_us, last_us;
};

struct ndp_state {
	struct prot6 prot[NDP_MAX_PROTECTED];
	size_t nprot;
	struct op_addr allowed_rt[NDP_MAX_ALLOWED];
	size_t nallowed_rt;
	uint8_t allowed_rt_mac[NDP_MAX_ALLOWED][6];
	size_t nallowed_rt_mac;
	struct det_cidr allowed_pfx[NDP_MAX_ALLOWED];
	size_t nallowed_pfx;
	struct op_addr allowed_rdnss[NDP_MAX_ALLOWED];
	size_t nallowed_rdnss;
	bool cfg_routers, cfg_prefixes, cfg_rdnss; /* the list was given (even empty) */

	struct det_tab *nb;           /* (vlan, ip) -> MAC */
	struct det_tab *rt;           /* (vlan, router link-local) -> what it announces */
	uint16_t vlan_routers[NDP_VLANS]; /* known routers per VLAN (for trust on first use) */

	uint64_t lan_gen;
	struct det_lan_role learned[DET_LAN_ROLES_MAX];
	size_t nlearned;

	bool cold;
	uint64_t learning_us, first_us;
};

/* ------------------------------------------------------------------ helpers */

static bool learning(const struct ndp_state *s, uint64_t now)
{
	return s->cold && now - s->first_us < s->learning_us;
}

static const char *protected_role(struct ndp_state *s, uint16_t vlan, const uint8_t ip[16],
				  const struct prot6 **cfg)
{
	*cfg = NULL;
	for (size_t i = 0; i < s->nprot; i++)
		if (memcmp(s->prot[i].ip, ip, 16) == 0) {
			*cfg = &s->prot[i];
			return s->prot[i].role;
		}
	struct nb_key k;
	memset(&k, 0, sizeof(k));
	k.vlan = vlan;
	memcpy(k.ip, ip, 16);
	const struct rt_val *r = det_tab_peek(s->rt, &k);
	if (r)
		return r->is_default ? "default router" : "router";
	uint64_t g = det_lan_gen();
	if (g != s->lan_gen) {
		s->lan_gen = g;
		s->nlearned = det_lan_roles(s->learned, DET_LAN_ROLES_MAX);
	}
	for (size_t i = 0; i < s->nlearned; i++)
		if (s->learned[i].ip.family == 6 && memcmp(s->learned[i].ip.a, ip, 16) == 0)
			return det_lan_role_name(s->learned[i].roles);
	return NULL;
}

static void addr6(struct op_addr *a, const uint8_t ip[16])
{
	util_addr_set6(a, ip);
}

/* ------------------------------------------------------------------ neighbours */

enum change { CH_NEW = 0, CH_FLIP, CH_REUSED };

static void override_alert(struct ndp_state *s, const struct ndp_ev *ev, const struct det_binding *v,
			   const uint8_t old[6], uint64_t old_last, const uint8_t mac[6],
			   enum change kind, const char *role, bool cfg_baseline, struct alert_pipe *out)
{
	static const char *const kinds[] = { "changed", "flip_flop", "reused_old_mac" };
	const struct ndp_msg *n = ev->ndp;
	struct alert a;
	struct op_addr t;
	char ip[OP_ADDR_STRLEN], mo[OP_MAC_STRLEN], mn[OP_MAC_STRLEN], rs[NDP_ROLE_MAX + 4] = "";
	bool unsol = !(n->na_flags & NDP_NA_SOLICITED);
	(void)s;
	alert_begin(&a, &ndp_types[T_NA_OVERRIDE], ev->m.ts_us);
	if (role)
		a.severity = kind == CH_FLIP ? 9 : 8;
	else if (kind == CH_FLIP)
		a.severity = 6;
	if (unsol)
		a.severity++;
	a.confidence = role || unsol || kind == CH_FLIP ? CONF_HIGH : CONF_MEDIUM;
	det_alert_from_meta(&a, &ev->m);
	addr6(&t, n->target);
	util_addr_fmt(&t, ip);
	util_mac_fmt(old, mo);
	util_mac_fmt(mac, mn);
	if (role)
		snprintf(rs, sizeof(rs), " (%s)", role);
	bool lo = memcmp(old, mac, 6) < 0;
	if (kind == CH_FLIP)
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s %s flip", ev->m.vlan, ip, lo ? mo : mn, lo ? mn : mo);
	else
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s>%s", ev->m.vlan, ip, mo, mn);
	snprintf(a.message, sizeof(a.message), "%s%s %s from %s to %s by an %sNeighbor Advertisement with Override%s",
		 ip, rs, kind == CH_FLIP ? "flipped back" : "moved", mo, mn, unsol ? "unsolicited " : "",
		 kind == CH_FLIP ? ": two stations answer for it, spoofing in progress" :
		 kind == CH_REUSED ? " (a MAC it had before)" : "");
	jw_addr(&a.ev, "ip", &t);
	jw_mac(&a.ev, "old_mac", old);
	jw_mac(&a.ev, "new_mac", mac);
	jw_str(&a.ev, "change", kinds[kind]);
	if (role)
		jw_str(&a.ev, "role", role);
	jw_str(&a.ev, "baseline", cfg_baseline ? "configured" : "learned");
	if (old_last)
		jw_ts(&a.ev, "old_last_seen", old_last);
	jw_bool(&a.ev, "solicited", !unsol);
	jw_bool(&a.ev, "router_flag", (n->na_flags & NDP_NA_ROUTER) != 0);
	jw_uint(&a.ev, "changes", v->changes);
	jw_arr_open(&a.ev, "previous_macs");
	for (size_t i = 0; i < v->nprev; i++)
		jw_mac(&a.ev, NULL, v->prev[i]);
	jw_arr_close(&a.ev);
	if (ev->m.has_eth)
		jw_mac(&a.ev, "eth_src", ev->m.src_mac);
	alert_emit(out, &a);
}

/* Records ip -> mac. judge: the message may replace an entry (NA with Override);
 * otherwise a differing MAC updates the table silently (NS/RA source addresses refresh
 * caches too, and the owner's answers must be able to bring a spoofed entry back). */
static void bind(struct ndp_state *s, const struct ndp_ev *ev, const uint8_t ip[16],
		 const uint8_t mac[6], bool judge, struct alert_pipe *out)
{
	static const uint8_t zero[16];
	struct nb_key k;
	bool created;
	uint64_t now = ev->m.ts_us;
	if (memcmp(ip, zero, 16) == 0 || ip[0] == 0xff || util_mac_is_zero(mac) || util_mac_is_mcast(mac))
		return;
	memset(&k, 0, sizeof(k));
	k.vlan = ev->m.vlan;
	memcpy(k.ip, ip, 16);
	struct det_binding *v = det_tab_put(s->nb, &k, &created);
	if (!created && memcmp(v->mac, mac, 6) == 0) {
		v->last_us = now;
		return;
	}
	const struct prot6 *pc;
	const char *role = judge ? protected_role(s, ev->m.vlan, ip, &pc) : NULL;
	if (!judge)
		pc = NULL;
	if (created) {
		det_binding_start(v, mac, now);
		if (pc && pc->has_mac && memcmp(pc->mac, mac, 6) != 0) {
			memcpy(v->prev[0], pc->mac, 6);
			v->nprev = 1;
			v->changes = 1;
			override_alert(s, ev, v, pc->mac, 0, mac, CH_NEW, role, true, out);
		}
		return;
	}
	uint8_t old[6];
	uint64_t old_last = v->last_us;
	memcpy(old, v->mac, 6);
	int idx = det_binding_prev_index(v, mac);
	det_binding_change(v, mac, idx, now);
	if (judge)
		override_alert(s, ev, v, old, old_last, mac, idx == 0 ? CH_FLIP : idx > 0 ? CH_REUSED : CH_NEW,
			       role, false, out);
}

/* ------------------------------------------------------------------ routers */

static bool rt_allowed(const struct ndp_state *s, const struct op_addr *src, const uint8_t mac[6])
{
	for (size_t i = 0; i < s->nallowed_rt; i++)
		if (util_addr_eq(&s->allowed_rt[i], src))
			return true;
	for (size_t i = 0; i < s->nallowed_rt_mac; i++)
		if (memcmp(s->allowed_rt_mac[i], mac, 6) == 0)
			return true;
	return false;
}

static bool pfx_allowed(const struct ndp_state *s, const struct ndp_prefix *p)
{
	struct op_addr a;
	addr6(&a, p->prefix);
	for (size_t i = 0; i < s->nallowed_pfx; i++)
		if (p->len >= s->allowed_pfx[i].bits && det_cidr_match(&s->allowed_pfx[i], &a))
			return true;
	return false;
}

static bool rdnss_allowed(const struct ndp_state *s, const uint8_t ip[16])
{
	struct op_addr a;
	addr6(&a, ip);
	for (size_t i = 0; i < s->nallowed_rdnss; i++)
		if (util_addr_eq(&s->allowed_rdnss[i], &a))
			return true;
	return false;
}

static bool rt_has_prefix(const struct rt_val *r, const struct ndp_prefix *p)
{
	for (size_t i = 0; i < r->nprefixes; i++)
		if (r->prefixes[i].len == p->len && memcmp(r->prefixes[i].p, p->prefix, 16) == 0)
			return true;
	return false;
}

static bool rt_has_rdnss(const struct rt_val *r, const uint8_t ip[16])
{
	for (size_t i = 0; i < r->nrdnss; i++)
		if (memcmp(r->rdnss[i], ip, 16) == 0)
			return true;
	return false;
}

static void rt_learn(struct rt_val *r, const struct ndp_msg *n, const struct op_addr *src, uint64_t now)
{
	for (size_t i = 0; i < n->nprefixes; i++)
		if (!rt_has_prefix(r, &n->prefixes[i]) && r->nprefixes < NDP_ROUTER_PREFIXES) {
			memcpy(r->prefixes[r->nprefixes].p, n->prefixes[i].prefix, 16);
			r->prefixes[r->nprefixes++].len = n->prefixes[i].len;
		}
	for (size_t i = 0; i < n->nrdnss; i++) {
		if (!rt_has_rdnss(r, n->rdnss[i]) && r->nrdnss < NDP_ROUTER_RDNSS)
			memcpy(r->rdnss[r->nrdnss++], n->rdnss[i], 16);
		struct op_addr a;
		addr6(&a, n->rdnss[i]);
		det_lan_learn(&a, DET_ROLE_RESOLVER, now);
	}
	det_lan_learn(src, DET_ROLE_ROUTER | (r->is_default ? DET_ROLE_GATEWAY : 0), now);
}

static void ra_evidence(struct alert *a, const struct ndp_ev *ev, const uint8_t mac[6])
{
	const struct ndp_msg *n = ev->ndp;
	struct op_addr x;
	jw_addr(&a->ev, "router", &ev->m.src);
	jw_mac(&a->ev, "router_mac", mac);
	jw_uint(&a->ev, "router_lifetime_s", n->router_lifetime_s);
	jw_bool(&a->ev, "managed", (n->ra_flags & NDP_RA_MANAGED) != 0);
	jw_bool(&a->ev, "other_config", (n->ra_flags & NDP_RA_OTHER) != 0);
	jw_arr_open(&a->ev, "prefixes");
	for (size_t i = 0; i < n->nprefixes; i++) {
		char b[OP_ADDR_STRLEN + 8];
		addr6(&x, n->prefixes[i].prefix);
		util_addr_fmt(&x, b);
		snprintf(b + strlen(b), sizeof(b) - strlen(b), "/%u", n->prefixes[i].len);
		jw_str(&a->ev, NULL, b);
	}
	jw_arr_close(&a->ev);
	jw_arr_open(&a->ev, "rdnss");
	for (size_t i = 0; i < n->nrdnss; i++) {
		addr6(&x, n->rdnss[i]);
		jw_addr(&a->ev, NULL, &x);
	}
	jw_arr_close(&a->ev);
	if (n->dnssl_len)
		jw_strn(&a->ev, "dnssl", n->dnssl, n->dnssl_len);
	if (ev->m.has_eth)
		jw_mac(&a->ev, "eth_src", ev->m.src_mac);
}

static void rogue_alert(const struct ndp_ev *ev, const uint8_t mac[6], const char *reason,
			const char *detail, int sev, const struct rt_val *known, struct alert_pipe *out)
{
	struct alert a;
	char ip[OP_ADDR_STRLEN], m1[OP_MAC_STRLEN];
	alert_begin(&a, &ndp_types[T_ROGUE_ROUTER], ev->m.ts_us);
	a.severity = sev;
	a.confidence = sev >= 8 ? CONF_HIGH : CONF_MEDIUM;
	det_alert_from_meta(&a, &ev->m);
	memcpy(a.src.mac, mac, 6);
	a.src.has_mac = true;
	util_addr_fmt(&ev->m.src, ip);
	util_mac_fmt(mac, m1);
	snprintf(a.key, sizeof(a.key), "vlan=%u %s %s %s %s", ev->m.vlan, ip, m1, reason, detail);
	snprintf(a.message, sizeof(a.message), "router advertisement from %s (%s): %s%s%s", ip, m1, reason,
		 *detail ? " " : "", detail);
	jw_str(&a.ev, "reason", reason);
	if (known) {
		jw_mac(&a.ev, "known_router_mac", known->mac);
		jw_bool(&a.ev, "known_default_router", known->is_default);
	}
	ra_evidence(&a, ev, mac);
	alert_emit(out, &a);
}

static void lifetime_zero_alert(const struct ndp_ev *ev, const uint8_t mac[6], const struct rt_val *known,
				struct alert_pipe *out)
{
	struct alert a;
	char ip[OP_ADDR_STRLEN], m1[OP_MAC_STRLEN], m2[OP_MAC_STRLEN];
	bool spoofed = known && memcmp(known->mac, mac, 6) != 0;
	alert_begin(&a, &ndp_types[T_LIFETIME_ZERO], ev->m.ts_us);
	/* The router itself retiring (RFC 4861 6.2.5 final advertisements) is low; the
	 * same from another MAC kills the default route of every host: an attack. */
	a.severity = !known ? 5 : spoofed ? 8 : 4;
	a.confidence = spoofed ? CONF_HIGH : CONF_MEDIUM;
	det_alert_from_meta(&a, &ev->m);
	memcpy(a.src.mac, mac, 6);
	a.src.has_mac = true;
	util_addr_fmt(&ev->m.src, ip);
	util_mac_fmt(mac, m1);
	snprintf(a.key, sizeof(a.key), "vlan=%u %s %s %s", ev->m.vlan, ip, m1,
		 !known ? "unknown" : spoofed ? "spoofed" : "self");
	if (!known)
		snprintf(a.message, sizeof(a.message),
			 "router advertisement with lifetime 0 and nothing else for %s from %s: removes a default route the sensor never saw",
			 ip, m1);
	else if (spoofed)
		snprintf(a.message, sizeof(a.message),
			 "default router %s (%s) killed by a router advertisement with lifetime 0 from another MAC, %s",
			 ip, util_mac_fmt(known->mac, m2), m1);
	else
		snprintf(a.message, sizeof(a.message), "default router %s (%s) advertised lifetime 0 (retiring)",
			 ip, m1);
	jw_bool(&a.ev, "spoofed", spoofed);
	if (known)
		jw_mac(&a.ev, "known_router_mac", known->mac);
	ra_evidence(&a, ev, mac);
	alert_emit(out, &a);
}

static void on_ra(struct ndp_state *s, const struct ndp_ev *ev, const uint8_t mac[6], struct alert_pipe *out)
{
	const struct ndp_msg *n = ev->ndp;
	uint64_t now = ev->m.ts_us;
	struct nb_key k;
	memset(&k, 0, sizeof(k));
	k.vlan = ev->m.vlan;
	memcpy(k.ip, ev->m.src.a, 16);
	struct rt_val *r = det_tab_get(s->rt, &k);
	uint16_t vl = ev->m.vlan % NDP_VLANS;
	bool bare = !n->nprefixes && !n->nrdnss && !n->nroutes && !n->dnssl_len;

	if (n->router_lifetime_s == 0 && (r ? r->is_default : bare)) {
		lifetime_zero_alert(ev, mac, r, out);
		if (r && memcmp(r->mac, mac, 6) == 0) {
			r->is_default = false;
			r->lifetime_s = 0;
			r->last_us = now;
		}
		return;
	}

	bool learn = learning(s, now);
	if (s->cfg_routers) {
		if (!rt_allowed(s, &ev->m.src, mac)) {
			rogue_alert(ev, mac, "router not allowed", "", n->router_lifetime_s ? 8 : 6, r, out);
			return;
		}
	} else if (!r && !learn && s->vlan_routers[vl]) {
		/* A VLAN with known routers hears a new one: a rogue (or a router added by
		 * the network team, who then declares it). A default-router lifetime means
		 * hosts will send it their traffic. */
		rogue_alert(ev, mac, "new router", "", n->router_lifetime_s ? 8 : 6, NULL, out);
		return;
	}
	if (r && memcmp(r->mac, mac, 6) != 0 && !rt_allowed(s, &ev->m.src, mac)) {
		rogue_alert(ev, mac, "known router address from another MAC", "", 8, r, out);
		return;
	}

	/* Prefixes and RDNSS: against the configured lists, or the router's baseline. */
	char detail[OP_ADDR_STRLEN + 8];
	for (size_t i = 0; i < n->nprefixes; i++) {
		const struct ndp_prefix *p = &n->prefixes[i];
		bool ok = s->cfg_prefixes ? pfx_allowed(s, p) : (!r || learn || rt_has_prefix(r, p));
		if (!ok) {
			struct op_addr x;
			addr6(&x, p->prefix);
			util_addr_fmt(&x, detail);
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "/%u", p->len);
			rogue_alert(ev, mac, s->cfg_prefixes ? "prefix not allowed" : "new prefix", detail,
				    s->cfg_prefixes ? 7 : 6, r, out);
		}
	}
	for (size_t i = 0; i < n->nrdnss; i++) {
		bool ok = s->cfg_rdnss ? rdnss_allowed(s, n->rdnss[i]) : (!r || learn || rt_has_rdnss(r, n->rdnss[i]));
		if (!ok) {
			struct op_addr x;
			addr6(&x, n->rdnss[i]);
			util_addr_fmt(&x, detail);
			/* A new resolver is how DNS gets hijacked over IPv6 (mitm6 style). */
			rogue_alert(ev, mac, s->cfg_rdnss ? "RDNSS not allowed" : "new RDNSS", detail,
				    s->cfg_rdnss ? 8 : 7, r, out);
		}
	}
	if (r && !r->is_default && n->router_lifetime_s && !learn)
		rogue_alert(ev, mac, "became a default router", "", 6, r, out);

	bool fresh = false;
	if (!r) {
		r = det_tab_put(s->rt, &k, NULL);
		memcpy(r->mac, mac, 6);
		r->first_us = now;
		fresh = true;
		if (s->vlan_routers[vl] < UINT16_MAX)
			s->vlan_routers[vl]++;
	}
	r->last_us = now;
	r->lifetime_s = n->router_lifetime_s;
	if (n->router_lifetime_s)
		r->is_default = true;
	/* What an accepted router announces becomes its baseline while learning and on
	 * first use; afterwards a new prefix or RDNSS keeps being reported (aggregated)
	 * until it is declared in the configuration. */
	if (learn || fresh)
		rt_learn(r, n, &ev->m.src, now);
	else
		det_lan_learn(&ev->m.src, DET_ROLE_ROUTER | (r->is_default ? DET_ROLE_GATEWAY : 0), now);
}

/* ------------------------------------------------------------------ per message */

static void ndp_on_ndp(void *state, const struct ndp_ev *ev, struct alert_pipe *out)
{
	struct ndp_state *s = state;
	const struct ndp_msg *n = ev->ndp;
	uint64_t now = ev->m.ts_us;
	if (!s->first_us)
		s->first_us = now ? now : 1;
	if (ev->m.src.family != 6)
		return;
	switch (n->type) {
	case NDP_NA: {
		const uint8_t *mac = n->has_tll ? n->tll : ev->m.has_eth ? ev->m.src_mac : NULL;
		if (!mac)
			return;
		/* RFC 4861 7.2.5: without Override an NA does not replace a known address. */
		struct nb_key k;
		memset(&k, 0, sizeof(k));
		k.vlan = ev->m.vlan;
		memcpy(k.ip, n->target, 16);
		if (!(n->na_flags & NDP_NA_OVERRIDE) && det_tab_peek(s->nb, &k))
			return;
		bind(s, ev, n->target, mac, (n->na_flags & NDP_NA_OVERRIDE) != 0, out);
		break;
	}
	case NDP_NS:
		if (n->has_sll)
			bind(s, ev, ev->m.src.a, n->sll, false, out);
		break;
	case NDP_RA: {
		const uint8_t *mac = n->has_sll ? n->sll : ev->m.has_eth ? ev->m.src_mac : NULL;
		if (!mac)
			return;
		on_ra(s, ev, mac, out);
		if (n->has_sll)
			bind(s, ev, ev->m.src.a, n->sll, false, out);
		break;
	}
	default:
		break;
	}
}

/* ------------------------------------------------------------------ config */

static int cfg_prot(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	static const char *const keys[] = { "ip", "mac", "role", NULL };
	struct ndp_state *s = ud;
	struct prot6 *p = &s->prot[s->nprot];
	const char *ipstr = NULL, *mac = NULL, *role = NULL;
	struct op_addr a;
	memset(p, 0, sizeof(*p));
	if (it->type != CFG_MAP) {
		cfg_errf(c, it, err, errlen, "detectors.ndp.protected: expected {ip, mac, role}");
		return -1;
	}
	if (cfg_check_keys(c, it, "detectors.ndp.protected[]", keys, err, errlen) < 0 ||
	    cfg_str(c, it, "ip", &ipstr, err, errlen) < 0 || cfg_str(c, it, "mac", &mac, err, errlen) < 0 ||
	    cfg_str(c, it, "role", &role, err, errlen) < 0)
		return -1;
	if (!ipstr || util_addr_parse(ipstr, &a) < 0 || a.family != 6) {
		cfg_errf(c, it, err, errlen, "detectors.ndp.protected: needs ip: an IPv6 address");
		return -1;
	}
	memcpy(p->ip, a.a, 16);
	if (mac) {
		if (util_mac_parse(mac, p->mac) < 0) {
			cfg_errf(c, it, err, errlen, "detectors.ndp.protected: mac '%.32s' is not a MAC address", mac);
			return -1;
		}
		p->has_mac = true;
	}
	role = role ? role : "protected";
	for (const char *q = role; *q; q++)
		if (*q < 0x20 || *q > 0x7e || (size_t)(q - role) >= NDP_ROLE_MAX - 1) {
			cfg_errf(c, it, err, errlen,
				 "detectors.ndp.protected: role must be printable ASCII, at most %d characters",
				 NDP_ROLE_MAX - 1);
			return -1;
		}
	util_strlcpy(p->role, role, sizeof(p->role));
	s->nprot++;
	return 0;
}

static int cfg_router(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct ndp_state *s = ud;
	if (it->type == CFG_SCALAR && it->value && util_mac_parse(it->value, s->allowed_rt_mac[s->nallowed_rt_mac]) == 0) {
		s->nallowed_rt_mac++;
		return 0;
	}
	struct op_addr a;
	if (det_cfg_addr(c, it, "detectors.ndp.allowed_routers (IPv6 link-local address or MAC)", &a, err,
			 errlen) < 0)
		return -1;
	if (a.family != 6) {
		cfg_errf(c, it, err, errlen, "detectors.ndp.allowed_routers: IPv6 addresses or MACs only");
		return -1;
	}
	s->allowed_rt[s->nallowed_rt++] = a;
	return 0;
}

static int cfg_pfx(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct ndp_state *s = ud;
	struct det_cidr n;
	if (det_cfg_cidr(c, it, "detectors.ndp.allowed_prefixes", &n, err, errlen) < 0)
		return -1;
	if (n.net.family != 6) {
		cfg_errf(c, it, err, errlen, "detectors.ndp.allowed_prefixes: IPv6 prefixes only");
		return -1;
	}
	s->allowed_pfx[s->nallowed_pfx++] = n;
	return 0;
}

static int cfg_rdnss(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct ndp_state *s = ud;
	struct op_addr a;
	if (det_cfg_addr(c, it, "detectors.ndp.allowed_rdnss", &a, err, errlen) < 0)
		return -1;
	if (a.family != 6) {
		cfg_errf(c, it, err, errlen, "detectors.ndp.allowed_rdnss: IPv6 addresses only");
		return -1;
	}
	s->allowed_rdnss[s->nallowed_rdnss++] = a;
	return 0;
}

static void ndp_fini(void *state)
{
	struct ndp_state *s = state;
	if (!s)
		return;
	det_tab_free(s->nb);
	det_tab_free(s->rt);
	free(s);
	det_lan_release();
}

static int ndp_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "protected", "allowed_routers", "allowed_prefixes",
					    "allowed_rdnss", "max_neighbors", "max_routers", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	uint64_t max_nb = NDP_DEF_MAX_NEIGHBORS, max_rt = NDP_DEF_MAX_ROUTERS;
	if (cfg_check_keys(c, sec, "detectors.ndp", keys, in->err, in->errlen) < 0)
		return -1;
	struct ndp_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "ndp: out of memory");
		return -1;
	}
	det_lan_acquire();
	s->cold = in->cold_start;
	s->learning_us = in->learning_s * US;
	s->lan_gen = ~0ull;
	s->cfg_routers = sec && cfg_get(sec, "allowed_routers");
	s->cfg_prefixes = sec && cfg_get(sec, "allowed_prefixes");
	s->cfg_rdnss = sec && cfg_get(sec, "allowed_rdnss");
	if (det_cfg_seq(c, sec, "protected", NDP_MAX_PROTECTED, cfg_prot, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "allowed_routers", NDP_MAX_ALLOWED, cfg_router, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "allowed_prefixes", NDP_MAX_ALLOWED, cfg_pfx, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "allowed_rdnss", NDP_MAX_ALLOWED, cfg_rdnss, s, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_neighbors", 256, DET_TAB_MAX_CAP, &max_nb, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_routers", 16, 65536, &max_rt, in->err, in->errlen) < 0)
		goto fail;
	s->nb = det_tab_new(max_nb, sizeof(struct nb_key), sizeof(struct det_binding));
	s->rt = det_tab_new(max_rt, sizeof(struct nb_key), sizeof(struct rt_val));
	if (!s->nb || !s->rt) {
		snprintf(in->err, in->errlen, "ndp: out of memory for %llu neighbours", (unsigned long long)max_nb);
		goto fail;
	}
	*state = s;
	return 0;
fail:
	ndp_fini(s);
	return -1;
}

/* ------------------------------------------------------------------ state */

static json_t *str_ip6(const uint8_t ip[16])
{
	char b[OP_ADDR_STRLEN];
	struct op_addr a;
	addr6(&a, ip);
	return json_string(util_addr_fmt(&a, b));
}

static json_t *ndp_save(void *state)
{
	struct ndp_state *s = state;
	json_t *root = json_object(), *nbs = json_array(), *rts = json_array();
	size_t pos = 0;
	const void *kp;
	const struct det_binding *v;
	while ((v = det_tab_next(s->nb, &pos, &kp))) {
		const struct nb_key *k = kp;
		json_t *e = json_object();
		json_object_set_new(e, "vlan", json_integer(k->vlan));
		json_object_set_new(e, "ip", str_ip6(k->ip));
		det_binding_to_json(v, e);
		json_array_append_new(nbs, e);
	}
	pos = 0;
	const struct rt_val *r;
	while ((r = det_tab_next(s->rt, &pos, &kp))) {
		const struct nb_key *k = kp;
		json_t *e = json_object(), *pf = json_array(), *dn = json_array();
		json_object_set_new(e, "vlan", json_integer(k->vlan));
		json_object_set_new(e, "ip", str_ip6(k->ip));
		json_object_set_new(e, "mac", det_json_mac_str(r->mac));
		json_object_set_new(e, "default", json_boolean(r->is_default));
		json_object_set_new(e, "lifetime", json_integer(r->lifetime_s));
		json_object_set_new(e, "first", json_integer((json_int_t)r->first_us));
		json_object_set_new(e, "last", json_integer((json_int_t)r->last_us));
		for (size_t i = 0; i < r->nprefixes; i++) {
			json_t *p = json_object();
			json_object_set_new(p, "prefix", str_ip6(r->prefixes[i].p));
			json_object_set_new(p, "len", json_integer(r->prefixes[i].len));
			json_array_append_new(pf, p);
		}
		for (size_t i = 0; i < r->nrdnss; i++)
			json_array_append_new(dn, str_ip6(r->rdnss[i]));
		json_object_set_new(e, "prefixes", pf);
		json_object_set_new(e, "rdnss", dn);
		json_array_append_new(rts, e);
	}
	json_object_set_new(root, "version", json_integer(NDP_STATE_VERSION));
	json_object_set_new(root, "neighbors", nbs);
	json_object_set_new(root, "routers", rts);
	return root;
}

static int j_ip6(const json_t *x, uint8_t ip[16])
{
	struct op_addr a;
	const char *t = json_string_value(x);
	if (!t || util_addr_parse(t, &a) < 0 || a.family != 6)
		return -1;
	memcpy(ip, a.a, 16);
	return 0;
}

static int j_key(const json_t *e, struct nb_key *k)
{
	const json_t *vl = json_object_get(e, "vlan");
	memset(k, 0, sizeof(*k));
	if (!json_is_integer(vl) || json_integer_value(vl) < 0 || json_integer_value(vl) > 4095 ||
	    j_ip6(json_object_get(e, "ip"), k->ip) < 0)
		return -1;
	k->vlan = (uint16_t)json_integer_value(vl);
	return 0;
}

static int ndp_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct ndp_state *s = state;
	const json_t *nbs = json_object_get(saved, "neighbors"), *rts = json_object_get(saved, "routers");
	const json_t *ver = json_object_get(saved, "version"), *e;
	size_t i, j;
	if (!json_is_integer(ver) || json_integer_value(ver) != NDP_STATE_VERSION || !json_is_array(nbs) ||
	    !json_is_array(rts)) {
		snprintf(err, errlen, "ndp: state is not version %d with neighbors and routers", NDP_STATE_VERSION);
		goto cold;
	}
	json_array_foreach(nbs, i, e) {
		struct nb_key k;
		struct det_binding v;
		if (j_key(e, &k) < 0 || det_binding_from_json(e, &v) < 0)
			goto bad;
		*(struct det_binding *)det_tab_put(s->nb, &k, NULL) = v;
	}
	json_array_foreach(rts, i, e) {
		struct nb_key k;
		struct rt_val r;
		uint64_t life;
		const json_t *pf = json_object_get(e, "prefixes"), *dn = json_object_get(e, "rdnss"), *p;
		memset(&r, 0, sizeof(r));
		if (j_key(e, &k) < 0 || det_json_mac(e, "mac", r.mac) < 0 || det_json_ts(e, "first", &r.first_us) < 0 ||
		    det_json_ts(e, "last", &r.last_us) < 0 || det_json_ts(e, "lifetime", &life) < 0 || life > 65535 ||
		    !json_is_boolean(json_object_get(e, "default")) || !json_is_array(pf) || !json_is_array(dn))
			goto bad;
		r.lifetime_s = (uint16_t)life;
		r.is_default = json_is_true(json_object_get(e, "default"));
		json_array_foreach(pf, j, p) {
			const json_t *l = json_object_get(p, "len");
			if (r.nprefixes == NDP_ROUTER_PREFIXES)
				break;
			if (j_ip6(json_object_get(p, "prefix"), r.prefixes[r.nprefixes].p) < 0 ||
			    !json_is_integer(l) || json_integer_value(l) < 0 || json_integer_value(l) > 128)
				goto bad;
			r.prefixes[r.nprefixes++].len = (uint8_t)json_integer_value(l);
		}
		json_array_foreach(dn, j, p) {
			if (r.nrdnss == NDP_ROUTER_RDNSS)
				break;
			if (j_ip6(p, r.rdnss[r.nrdnss]) < 0)
				goto bad;
			r.nrdnss++;
		}
		bool created;
		*(struct rt_val *)det_tab_put(s->rt, &k, &created) = r;
		if (created && s->vlan_routers[k.vlan % NDP_VLANS] < UINT16_MAX)
			s->vlan_routers[k.vlan % NDP_VLANS]++;
		struct op_addr a;
		addr6(&a, k.ip);
		det_lan_learn(&a, DET_ROLE_ROUTER | (r.is_default ? DET_ROLE_GATEWAY : 0), r.first_us);
		for (size_t d = 0; d < r.nrdnss; d++) {
			addr6(&a, r.rdnss[d]);
			det_lan_learn(&a, DET_ROLE_RESOLVER, r.first_us);
		}
	}
	return 0;
bad:
	snprintf(err, errlen, "ndp: state entry %zu is malformed", i);
cold: {
	size_t cn = det_tab_cap(s->nb), cr = det_tab_cap(s->rt);
	det_tab_free(s->nb);
	det_tab_free(s->rt);
	s->nb = det_tab_new(cn, sizeof(struct nb_key), sizeof(struct det_binding));
	s->rt = det_tab_new(cr, sizeof(struct nb_key), sizeof(struct rt_val));
	memset(s->vlan_routers, 0, sizeof(s->vlan_routers));
	s->cold = true;
	return -1;
}
}

const struct detector det_ndp = {
	.name = "ndp",
	.types = ndp_types,
	.ntypes = ONPATH_ARRAY_LEN(ndp_types),
	.init = ndp_init,
	.fini = ndp_fini,
	.on_ndp = ndp_on_ndp,
	.save = ndp_save,
	.load = ndp_load,
};
