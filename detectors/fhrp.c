/* fhrp.c - first-hop redundancy (VRRP, RFC 3768 / RFC 5798) judged as struct vrrp_ev:
 * who speaks for each virtual router, and who starts to.
 *
 * Per (VLAN, VRID, address family) the detector keeps the group (first seen, the current
 * master: its MAC, priority, last advertisement, whether it resigned) and per speaker MAC
 * its source IP, priority, interval, virtual addresses and first/last advertisement, in
 * bounded tables with LRU eviction, saved and reloaded (save/load).
 *  - fhrp.new_speaker: a MAC starts advertising for a VRID whose speakers are known. A
 *    VRRP router wins the virtual addresses by advertising a higher priority (RFC 3768
 *    6.4.3: a master hearing a higher priority steps down, whatever preempt says), so a
 *    host that does (Yersinia, a scapy loop) becomes everyone's first hop. Severity 8
 *    for priority 255 (it claims to own the address: nothing preempts it) or, 7, a
 *    virtual address with a learned role (lan.h: gateway, router, resolver); 6 when it
 *    outbids a live master (preemption); 4 for another speaker while the master is
 *    alive. Not reported: a backup taking over from a master that resigned (priority 0)
 *    or fell silent for the master-down interval, the failover VRRP is made for; the
 *    first speakers of a VRID; anything inside the learning window of a cold start.
 *  - fhrp.bad_advert: an advertisement that routers must discard but hosts may still be
 *    fooled around: TTL / hop limit not 255 (RFC 3768 7.1, RFC 5798 5.1.1.3: it was
 *    forged off-link or routed), or a VRRPv2 simple-text authentication string that
 *    changed for a speaker (RFC 2338 5.3.6: the only thing a forger has to guess); these
 *    are not learned. A destination other than 224.0.0.18 / ff02::12 is informational (3)
 *    and learned: keepalived's unicast_peer mode sends its advertisements that way.
 * Every accepted advertisement is published to the LAN store (det_lan_fhrp_note) so the
 * arp detector can allow a virtual address moving between known speakers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "decode/vrrp.h"
#include "detector.h"
#include "lan.h"
#include "table.h"

#define FHRP_ADDRS 8               /* virtual addresses kept per speaker */
#define FHRP_STATE_VERSION 1
#define FHRP_DEF_MAX_SPEAKERS 4096
#define FHRP_DEF_MAX_GROUPS 1024
#define FHRP_MIN_TABLE 16
#define FHRP_MASTER_DOWN 3         /* intervals of silence after which the master is gone
				    * (RFC 3768 6.1: Master_Down_Interval = 3 * interval + skew) */
#define FHRP_DEF_INTERVAL_CS 100   /* when an advertisement says 0 */
#define FHRP_PRIO_OWNER 255
#define FHRP_PRIO_RESIGN 0

#define US 1000000ull

enum { T_NEW_SPEAKER = 0, T_BAD_ADVERT };

static const struct alert_type fhrp_types[] = {
	[T_NEW_SPEAKER] = { "fhrp.new_speaker", 6, "T1557", "Adversary-in-the-Middle",
			    "a new MAC advertises for a known VRRP virtual router (high for priority 255 or a gateway address)" },
	[T_BAD_ADVERT] = { "fhrp.bad_advert", 6, "T1557", "Adversary-in-the-Middle",
			   "VRRP advertisement routers must discard: TTL/hop limit not 255, wrong destination, changed password" },
};

struct group_key {
	uint16_t vlan;
	uint8_t vrid, family;
};

struct group {
	uint64_t first_us;
	uint8_t master[6];
	uint8_t master_prio;         /* 0: resigned, or none yet */
	uint64_t master_last_us;
	uint32_t master_interval_cs;
	uint32_t nspeakers;          /* speakers ever learned (saturating) */
};

struct spk_key {
	uint16_t vlan;
	uint8_t vrid, family;
	uint8_t mac[6];
	uint8_t pad[2];
};

struct speaker {
	uint64_t first_us, last_us;
	struct op_addr src;
	uint8_t version, priority, auth_type, naddrs;
	bool has_auth;
	uint8_t auth[VRRP_V2_AUTH_LEN];
	uint32_t interval_cs;
	uint64_t adverts;
	uint8_t addrs[FHRP_ADDRS][16];
};

struct fhrp_state {
	struct det_tab *groups, *speakers;
	bool cold;
	uint64_t learning_us, first_us;
};

static bool learning(const struct fhrp_state *s, uint64_t now)
{
	return s->cold && now - s->first_us < s->learning_us;
}

static uint64_t interval_us(uint32_t cs)
{
	return (uint64_t)(cs ? cs : FHRP_DEF_INTERVAL_CS) * 10000u;
}

static void addr_of(struct op_addr *a, uint8_t family, const uint8_t b[16])
{
	if (family == 4)
		util_addr_set4(a, b);
	else
		util_addr_set6(a, b);
}

/* The learned role of one of the advertised addresses ("gateway", ...) or NULL. */
static const char *role_of(const struct vrrp_msg *m)
{
	struct det_lan_role r[DET_LAN_ROLES_MAX];
	size_t n = det_lan_roles(r, DET_LAN_ROLES_MAX);
	for (size_t i = 0; i < m->naddrs; i++) {
		struct op_addr a;
		addr_of(&a, m->family, m->addrs[i]);
		for (size_t j = 0; j < n; j++)
			if ((r[j].roles & (DET_ROLE_GATEWAY | DET_ROLE_ROUTER | DET_ROLE_RESOLVER)) &&
			    util_addr_eq(&r[j].ip, &a))
				return det_lan_role_name(r[j].roles);
	}
	return NULL;
}

static void advert_evidence(struct alert *a, const struct vrrp_ev *ev)
{
	const struct vrrp_msg *m = ev->vrrp;
	jw_uint(&a->ev, "version", m->version);
	jw_uint(&a->ev, "vrid", m->vrid);
	jw_uint(&a->ev, "priority", m->priority);
	jw_uint(&a->ev, "interval_cs", m->interval_cs);
	jw_uint(&a->ev, "ttl", m->ttl);
	jw_bool(&a->ev, "to_group", m->to_group);
	if (m->version == 2)
		jw_uint(&a->ev, "auth_type", m->auth_type);
	jw_arr_open(&a->ev, "virtual_ips");
	for (size_t i = 0; i < m->naddrs; i++) {
		struct op_addr x;
		addr_of(&x, m->family, m->addrs[i]);
		jw_addr(&a->ev, NULL, &x);
	}
	jw_arr_close(&a->ev);
	if (m->count > m->naddrs)
		jw_uint(&a->ev, "virtual_ips_count", m->count);
	if (ev->m.has_eth)
		jw_mac(&a->ev, "mac", ev->m.src_mac);
	jw_addr(&a->ev, "sender_ip", &ev->m.src);
}

static void first_vip(const struct vrrp_msg *m, char *buf)
{
	struct op_addr x;
	addr_of(&x, m->family, m->addrs[0]);
	util_addr_fmt(&x, buf);
}

static void bad_alert(const struct vrrp_ev *ev, const char *reason, const char *detail,
		      const struct speaker *old, int severity, struct alert_pipe *out)
{
	const struct vrrp_msg *m = ev->vrrp;
	struct alert a;
	char ip[OP_ADDR_STRLEN], vip[OP_ADDR_STRLEN], mac[OP_MAC_STRLEN] = "?";
	alert_begin(&a, &fhrp_types[T_BAD_ADVERT], ev->m.ts_us);
	a.confidence = severity < 4 ? CONF_LOW : CONF_HIGH;
	if (severity)
		a.severity = severity;
	else if (m->priority == FHRP_PRIO_OWNER)
		a.severity = 7;
	det_alert_from_meta(&a, &ev->m);
	util_addr_fmt(&ev->m.src, ip);
	first_vip(m, vip);
	if (ev->m.has_eth)
		util_mac_fmt(ev->m.src_mac, mac);
	snprintf(a.key, sizeof(a.key), "vlan=%u vrid=%u %s %s %s", ev->m.vlan, m->vrid, reason, mac, ip);
	snprintf(a.message, sizeof(a.message),
		 "VRRP advertisement for VRID %u (%s, priority %u) from %s (%s): %s", m->vrid, vip,
		 m->priority, ip, mac, detail);
	jw_str(&a.ev, "reason", reason);
	if (old) {
		jw_strn(&a.ev, "old_auth", old->auth, strnlen((const char *)old->auth, VRRP_V2_AUTH_LEN));
		jw_strn(&a.ev, "new_auth", m->auth_data, strnlen((const char *)m->auth_data, VRRP_V2_AUTH_LEN));
		jw_ts(&a.ev, "speaker_first_seen", old->first_us);
	}
	advert_evidence(&a, ev);
	alert_emit(out, &a);
}

static void new_speaker_alert(const struct vrrp_ev *ev, const struct group *g, bool master_live,
			      const char *role, struct alert_pipe *out)
{
	const struct vrrp_msg *m = ev->vrrp;
	struct alert a;
	char ip[OP_ADDR_STRLEN], vip[OP_ADDR_STRLEN], mac[OP_MAC_STRLEN], mm[OP_MAC_STRLEN];
	const char *why;
	alert_begin(&a, &fhrp_types[T_NEW_SPEAKER], ev->m.ts_us);
	bool owner = m->priority == FHRP_PRIO_OWNER;
	if (owner) {
		a.severity = 8;
		why = "claims to own the virtual address (priority 255): it preempts every router";
	} else if (role) {
		a.severity = 7;
		why = "advertises an address with a protected role";
	} else if (master_live && m->priority > g->master_prio) {
		a.severity = 6;
		why = "outbids the live master: it takes the virtual addresses over (preemption)";
	} else {
		a.severity = 4;
		why = "advertises while the master is alive";
	}
	a.confidence = a.severity >= 6 ? CONF_HIGH : a.severity >= 4 ? CONF_MEDIUM : CONF_LOW;
	det_alert_from_meta(&a, &ev->m);
	util_addr_fmt(&ev->m.src, ip);
	util_mac_fmt(ev->m.src_mac, mac);
	util_mac_fmt(g->master, mm);
	first_vip(m, vip);
	snprintf(a.key, sizeof(a.key), "vlan=%u vrid=%u v%u %s", ev->m.vlan, m->vrid, m->family, mac);
	snprintf(a.message, sizeof(a.message),
		 "new VRRP speaker %s (%s) for VRID %u (%s%s%s), priority %u, master %s priority %u: %s",
		 mac, ip, m->vrid, vip, role ? ", " : "", role ? role : "", m->priority, mm,
		 g->master_prio, why);
	jw_mac(&a.ev, "new_mac", ev->m.src_mac);
	jw_mac(&a.ev, "master_mac", g->master);
	jw_uint(&a.ev, "master_priority", g->master_prio);
	jw_bool(&a.ev, "master_live", master_live);
	if (g->master_last_us)
		jw_ts(&a.ev, "master_last_seen", g->master_last_us);
	jw_ts(&a.ev, "vrid_first_seen", g->first_us);
	jw_uint(&a.ev, "known_speakers", g->nspeakers);
	if (role)
		jw_str(&a.ev, "role", role);
	jw_str(&a.ev, "reason", why);
	advert_evidence(&a, ev);
	alert_emit(out, &a);
}

static void fhrp_on_vrrp(void *state, const struct vrrp_ev *ev, struct alert_pipe *out)
{
	struct fhrp_state *s = state;
	const struct vrrp_msg *m = ev->vrrp;
	uint64_t now = ev->m.ts_us;
	if (!s->first_us)
		s->first_us = now ? now : 1;
	if (!m->naddrs || (m->family != 4 && m->family != 6))
		return;

	/* What routers discard is not learned: a forged advertisement must not become a
	 * speaker the arp detector then trusts. */
	if (m->ttl != VRRP_TTL) {
		char d[96];
		snprintf(d, sizeof(d), "%s %u, not 255: sent from off-link or forged (routers discard it)",
			 m->family == 4 ? "TTL" : "hop limit", m->ttl);
		bad_alert(ev, "ttl", d, NULL, 0, out);
		return;
	}
	if (!m->to_group) {
		char dst[OP_ADDR_STRLEN], d[160];
		util_addr_fmt(&ev->m.dst, dst);
		snprintf(d, sizeof(d), "sent to %s, not the VRRP group %s (keepalived's unicast_peer does this)",
			 dst, m->family == 4 ? "224.0.0.18" : "ff02::12");
		bad_alert(ev, "destination", d, NULL, 3, out);
	}
	if (!ev->m.has_eth)
		return; /* speakers are MACs */

	struct group_key gk;
	memset(&gk, 0, sizeof(gk));
	gk.vlan = ev->m.vlan;
	gk.vrid = m->vrid;
	gk.family = m->family;
	struct spk_key sk;
	memset(&sk, 0, sizeof(sk));
	sk.vlan = ev->m.vlan;
	sk.vrid = m->vrid;
	sk.family = m->family;
	memcpy(sk.mac, ev->m.src_mac, 6);

	bool gcreated, screated;
	struct group *g = det_tab_put(s->groups, &gk, &gcreated);
	struct speaker *sp = det_tab_put(s->speakers, &sk, &screated);
	if (gcreated)
		g->first_us = now;

	if (!screated && m->version == 2 && m->auth_type == VRRP_AUTH_SIMPLE &&
	    sp->auth_type == VRRP_AUTH_SIMPLE && m->has_auth_data && sp->has_auth &&
	    memcmp(m->auth_data, sp->auth, VRRP_V2_AUTH_LEN) != 0) {
		bad_alert(ev, "auth_changed",
			  "its simple-text authentication string changed (someone guessing it, or a second sender)",
			  sp, 0, out);
		return;
	}

	bool is_master = memcmp(g->master, ev->m.src_mac, 6) == 0;
	bool master_live = g->master_prio != FHRP_PRIO_RESIGN && g->master_last_us && !is_master &&
			   now - g->master_last_us <= FHRP_MASTER_DOWN * interval_us(g->master_interval_cs);
	if (screated) {
		sp->first_us = now;
		if (g->nspeakers < UINT32_MAX)
			g->nspeakers++;
		/* The first speakers of a VRID are its baseline; so is anything seen in the
		 * learning window of a cold start. */
		if (!gcreated && g->nspeakers > 1 && !learning(s, now) && m->priority != FHRP_PRIO_RESIGN) {
			const char *role = role_of(m);
			if (master_live || role || m->priority == FHRP_PRIO_OWNER)
				new_speaker_alert(ev, g, master_live, role, out);
		}
	}

	sp->last_us = now;
	sp->src = ev->m.src;
	sp->version = m->version;
	sp->auth_type = m->auth_type;
	sp->has_auth = m->has_auth_data;
	memcpy(sp->auth, m->auth_data, VRRP_V2_AUTH_LEN);
	sp->adverts++;
	if (m->priority != FHRP_PRIO_RESIGN) {
		sp->priority = m->priority;
		sp->interval_cs = m->interval_cs;
	}
	sp->naddrs = m->naddrs < FHRP_ADDRS ? m->naddrs : FHRP_ADDRS;
	memcpy(sp->addrs, m->addrs, (size_t)sp->naddrs * 16);

	/* The master: whoever advertises at least the master's priority, or after it
	 * resigned or fell silent (RFC 3768 6.4.2, 6.4.3). */
	if (m->priority == FHRP_PRIO_RESIGN) {
		if (is_master)
			g->master_prio = FHRP_PRIO_RESIGN;
	} else if (is_master || !master_live || m->priority >= g->master_prio) {
		memcpy(g->master, ev->m.src_mac, 6);
		g->master_prio = m->priority;
		g->master_interval_cs = m->interval_cs;
		g->master_last_us = now;
	}

	for (size_t i = 0; i < m->naddrs; i++) {
		struct op_addr a;
		addr_of(&a, m->family, m->addrs[i]);
		det_lan_fhrp_note(ev->m.vlan, &a, ev->m.src_mac, now, m->priority, m->interval_cs, false);
	}
}

/* ------------------------------------------------------------------ config */

static int fhrp_config(struct fhrp_state *s, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_speakers", "max_groups", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	uint64_t v, max_speakers = FHRP_DEF_MAX_SPEAKERS, max_groups = FHRP_DEF_MAX_GROUPS;
	int r;
	if (cfg_check_keys(c, sec, "detectors.fhrp", keys, in->err, in->errlen) < 0)
		return -1;
	if ((r = cfg_uint(c, sec, "max_speakers", FHRP_MIN_TABLE, DET_TAB_MAX_CAP, &v, in->err, in->errlen)) < 0)
		return -1;
	if (r)
		max_speakers = v;
	if ((r = cfg_uint(c, sec, "max_groups", FHRP_MIN_TABLE, DET_TAB_MAX_CAP, &v, in->err, in->errlen)) < 0)
		return -1;
	if (r)
		max_groups = v;
	s->groups = det_tab_new(max_groups, sizeof(struct group_key), sizeof(struct group));
	s->speakers = det_tab_new(max_speakers, sizeof(struct spk_key), sizeof(struct speaker));
	if (!s->groups || !s->speakers) {
		snprintf(in->err, in->errlen, "fhrp: out of memory for %llu speakers",
			 (unsigned long long)max_speakers);
		return -1;
	}
	return 0;
}

static void fhrp_fini(void *state)
{
	struct fhrp_state *s = state;
	if (!s)
		return;
	det_tab_free(s->groups);
	det_tab_free(s->speakers);
	free(s);
	det_lan_release();
}

static int fhrp_init(void **state, const struct det_init *in)
{
	struct fhrp_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "fhrp: out of memory");
		return -1;
	}
	det_lan_acquire();
	s->cold = in->cold_start;
	s->learning_us = in->learning_s * US;
	if (fhrp_config(s, in) < 0) {
		fhrp_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* ------------------------------------------------------------------ state */

static json_t *fhrp_save(void *state)
{
	struct fhrp_state *s = state;
	json_t *root = json_object(), *arr = json_array();
	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	json_object_set_new(root, "version", json_integer(FHRP_STATE_VERSION));
	size_t pos = 0;
	const void *kp;
	const struct speaker *v;
	/* Least recently used first, so a reload rebuilds the same LRU order. */
	while ((v = det_tab_next(s->speakers, &pos, &kp))) {
		const struct spk_key *k = kp;
		char ip[OP_ADDR_STRLEN];
		json_t *e = json_object(), *addrs = json_array();
		json_object_set_new(e, "vlan", json_integer(k->vlan));
		json_object_set_new(e, "vrid", json_integer(k->vrid));
		json_object_set_new(e, "family", json_integer(k->family));
		json_object_set_new(e, "mac", det_json_mac_str(k->mac));
		json_object_set_new(e, "version", json_integer(v->version));
		json_object_set_new(e, "priority", json_integer(v->priority));
		json_object_set_new(e, "interval_cs", json_integer(v->interval_cs));
		json_object_set_new(e, "first", json_integer((json_int_t)v->first_us));
		json_object_set_new(e, "last", json_integer((json_int_t)v->last_us));
		for (size_t i = 0; i < v->naddrs; i++) {
			struct op_addr a;
			addr_of(&a, k->family, v->addrs[i]);
			json_array_append_new(addrs, json_string(util_addr_fmt(&a, ip)));
		}
		json_object_set_new(e, "addrs", addrs);
		json_array_append_new(arr, e);
	}
	json_object_set_new(root, "speakers", arr);
	return root;
}

static int load_one(struct fhrp_state *s, const json_t *e)
{
	struct spk_key k;
	struct speaker v;
	json_int_t vl = json_integer_value(json_object_get(e, "vlan")),
		   vrid = json_integer_value(json_object_get(e, "vrid")),
		   fam = json_integer_value(json_object_get(e, "family")),
		   ver = json_integer_value(json_object_get(e, "version")),
		   prio = json_integer_value(json_object_get(e, "priority"));
	const json_t *addrs = json_object_get(e, "addrs");
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	json_int_t ic = json_integer_value(json_object_get(e, "interval_cs"));
	if (!json_is_integer(json_object_get(e, "vlan")) || vl < 0 || vl > 4095 || vrid < 0 ||
	    vrid > 255 || (fam != 4 && fam != 6) || (ver != 2 && ver != 3) || prio < 0 || prio > 255 ||
	    ic < 0 || ic > 65535 || det_json_mac(e, "mac", k.mac) < 0 ||
	    det_json_ts(e, "first", &v.first_us) < 0 || det_json_ts(e, "last", &v.last_us) < 0 ||
	    !json_is_array(addrs) || json_array_size(addrs) == 0 || json_array_size(addrs) > FHRP_ADDRS)
		return -1;
	k.vlan = (uint16_t)vl;
	k.vrid = (uint8_t)vrid;
	k.family = (uint8_t)fam;
	v.version = (uint8_t)ver;
	v.priority = (uint8_t)prio;
	v.interval_cs = (uint32_t)ic;
	size_t i;
	const json_t *x;
	json_array_foreach(addrs, i, x) {
		struct op_addr a;
		const char *str = json_string_value(x);
		if (!str || util_addr_parse(str, &a) < 0 || a.family != k.family)
			return -1;
		memcpy(v.addrs[v.naddrs++], a.a, fam == 4 ? 4 : 16);
	}
	*(struct speaker *)det_tab_put(s->speakers, &k, NULL) = v;
	struct group_key gk;
	memset(&gk, 0, sizeof(gk));
	gk.vlan = k.vlan;
	gk.vrid = k.vrid;
	gk.family = k.family;
	bool created;
	struct group *g = det_tab_put(s->groups, &gk, &created);
	if (created || v.first_us < g->first_us)
		g->first_us = v.first_us;
	if (g->nspeakers < UINT32_MAX)
		g->nspeakers++;
	/* A saved speaker is a baseline for the arp detector: known before this run. */
	for (size_t j = 0; j < v.naddrs; j++) {
		struct op_addr a;
		addr_of(&a, k.family, v.addrs[j]);
		det_lan_fhrp_note(k.vlan, &a, k.mac, v.first_us, v.priority, v.interval_cs, true);
	}
	return 0;
}

static int fhrp_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct fhrp_state *s = state;
	const json_t *arr = json_object_get(saved, "speakers");
	const json_t *ver = json_object_get(saved, "version");
	if (!json_is_integer(ver) || json_integer_value(ver) != FHRP_STATE_VERSION || !json_is_array(arr)) {
		snprintf(err, errlen, "fhrp: state is not version %d with a speakers list", FHRP_STATE_VERSION);
		s->cold = true;
		return -1;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e) {
		if (load_one(s, e) == 0)
			continue;
		snprintf(err, errlen, "fhrp: state speaker %zu is malformed", i);
		/* Start cold rather than from half a table. */
		size_t cs = det_tab_cap(s->speakers), cg = det_tab_cap(s->groups);
		det_tab_free(s->speakers);
		det_tab_free(s->groups);
		s->speakers = det_tab_new(cs, sizeof(struct spk_key), sizeof(struct speaker));
		s->groups = det_tab_new(cg, sizeof(struct group_key), sizeof(struct group));
		s->cold = true;
		return -1;
	}
	return 0;
}

const struct detector det_fhrp = {
	.name = "fhrp",
	.types = fhrp_types,
	.ntypes = ONPATH_ARRAY_LEN(fhrp_types),
	.init = fhrp_init,
	.fini = fhrp_fini,
	.on_vrrp = fhrp_on_vrrp,
	.save = fhrp_save,
	.load = fhrp_load,
};
