/* names.c - LLMNR (RFC 4795, UDP 5355 and its TCP retry), mDNS (RFC 6762, UDP 5353) and NetBIOS name
 * service (RFC 1001/1002, UDP 137) poisoning: the Responder/Inveigh family answers the
 * broadcast and multicast name queries of Windows and macOS hosts with its own address,
 * for whatever name was asked, to collect NTLM hashes or serve a proxy configuration.
 *
 *  - names.poisoning: one host (by MAC, else by IP) answers for more than max_names
 *    different names within window (a real host answers for its own name only), or
 *    answers for a name another host owns: the owner is the host that registered the
 *    name (NBT-NS registration/refresh), announced it (mDNS) or answered for it first;
 *    ownership passes silently to a new host once the owner has been silent for
 *    owner_ttl.
 *  - names.wpad: an answer for "wpad" or "isatap" (proxy auto-discovery, ISATAP router)
 *    through these protocols: the first thing a poisoner offers, since it moves the
 *    victim's web traffic through the attacker.
 * Only address answers count (A/AAAA, NetBIOS NB records of unique names): mDNS service
 * discovery (PTR/SRV/TXT) is every Apple device's normal chatter. NBT-NS answers to a
 * query that was sent unicast to a name server (WINS) are not counted as the server's
 * own names. Hosts in allowed_responders (WINS servers, Bonjour sleep proxies) are not
 * judged. NetBIOS names are first-level decoded for matching and evidence
 * (dec_nbns_name), so "WPAD<00>" over NBT-NS and "wpad" over LLMNR are one name.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "detector.h"
#include "lan.h"
#include "table.h"

#define NAMES_PORT_NBNS 137
#define NAMES_PORT_MDNS 5353
#define NAMES_PORT_LLMNR 5355

#define NAMES_DEF_MAX_NAMES 3u       /* distinct names per responder in a window */
#define NAMES_DEF_WINDOW_S 600u
#define NAMES_DEF_OWNER_TTL_S 3600u
#define NAMES_DEF_MAX_HOSTS 4096u
#define NAMES_DEF_MAX_OWNERS 16384u
#define NAMES_QUERIES 4096u          /* NBT-NS queries remembered (unicast or broadcast) */
#define NAMES_QUERY_TTL_US 5000000u  /* an NBT-NS answer follows its query within 5 s */
#define NAMES_TRACK 16               /* distinct names tracked per responder per window */
#define NAMES_SHOWN 8                /* of which quoted in evidence */
#define NAMES_TEXT 64                /* bytes of a name kept */
#define NAMES_MAX_ALLOWED 256
#define NAMES_ADDRS 4                /* answered addresses quoted */

enum { T_POISONING = 0, T_WPAD };

static const struct alert_type names_types[] = {
	[T_POISONING] = { "names.poisoning", 6, "T1557.001",
			  "LLMNR/NBT-NS Poisoning and SMB Relay",
			  "LLMNR/NBT-NS/mDNS answers from a host that answers for many names or for a name another host owns" },
	[T_WPAD] = { "names.wpad", 7, "T1557.001", "LLMNR/NBT-NS Poisoning and SMB Relay",
		     "LLMNR/NBT-NS/mDNS answer for wpad or isatap (proxy auto-discovery hijack)" },
};

enum { P_LLMNR = 0, P_MDNS, P_NBNS };
static const char *const proto_names[] = { "llmnr", "mdns", "nbt-ns" };

/* A responder: its MAC when the frame has one (the address a poisoner cannot hide
 * without losing its answers), else its IP. Zeroed before filling. */
struct host_key {
	uint16_t vlan;
	uint8_t kind; /* 1 = MAC, 2 = IP */
	uint8_t pad;
	uint8_t id[16];
};

struct host {
	uint64_t start_us;               /* window start */
	uint64_t hashes[NAMES_TRACK];
	uint8_t nnames;                  /* distinct names this window (<= NAMES_TRACK) */
	uint8_t over;                    /* more than NAMES_TRACK */
	uint8_t alerted;
	char shown[NAMES_SHOWN][NAMES_TEXT];
	uint8_t shown_proto[NAMES_SHOWN];
};

struct owner_key {
	uint64_t h; /* of the normalised name */
	uint16_t vlan, pad[3];
};

enum { OWN_ANSWERED = 1, OWN_CLAIMED = 2 };

struct owner {
	struct host_key who;
	struct op_addr ip;       /* the owner's source address */
	struct op_addr addr;     /* the address it gave for the name */
	uint8_t mac[6];
	uint8_t has_mac;
	uint8_t strength;        /* OWN_* */
	uint8_t proto;
	uint64_t first_us, last_us;
	char name[NAMES_TEXT];
};

struct q_key {
	uint16_t vlan, id;
	uint8_t family, pad[3];
	uint8_t ip[16];
};

struct q_val {
	uint64_t ts_us;
	uint8_t broadcast;
};

struct names_state {
	uint32_t max_names;
	uint64_t window_us, owner_ttl_us;
	struct op_addr allowed_ip[NAMES_MAX_ALLOWED];
	size_t nallowed_ip;
	uint8_t allowed_mac[NAMES_MAX_ALLOWED][6];
	size_t nallowed_mac;
	struct det_tab *hosts, *owners, *queries;
};

/* ------------------------------------------------------------------ configuration */

static int cfg_allowed(void *ud, const struct cfg *c, const struct cfg_node *it, char *err,
		       size_t errlen)
{
	struct names_state *s = ud;
	if (it->type == CFG_SCALAR && it->value && strchr(it->value, ':') &&
	    strlen(it->value) == 17 && util_mac_parse(it->value, s->allowed_mac[s->nallowed_mac]) == 0) {
		s->nallowed_mac++;
		return 0;
	}
	return det_cfg_addr(c, it, "detectors.names.allowed_responders (an IP or a MAC)",
			    &s->allowed_ip[s->nallowed_ip++], err, errlen);
}

static void names_fini(void *state)
{
	struct names_state *s = state;
	if (!s)
		return;
	det_tab_free(s->hosts);
	det_tab_free(s->owners);
	det_tab_free(s->queries);
	free(s);
}

static int names_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_names", "window", "owner_ttl",
					    "allowed_responders", "max_hosts", "max_owners", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	if (cfg_check_keys(c, sec, "detectors.names", keys, in->err, in->errlen) < 0)
		return -1;
	struct names_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "names: out of memory");
		return -1;
	}
	uint64_t maxn = NAMES_DEF_MAX_NAMES, win = NAMES_DEF_WINDOW_S, ttl = NAMES_DEF_OWNER_TTL_S,
		 hosts = NAMES_DEF_MAX_HOSTS, owners = NAMES_DEF_MAX_OWNERS;
	if (cfg_uint(c, sec, "max_names", 1, NAMES_TRACK - 1, &maxn, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "window", 1, 86400, &win, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "owner_ttl", 1, 30 * 86400, &ttl, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_hosts", 16, DET_TAB_MAX_CAP, &hosts, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_owners", 16, DET_TAB_MAX_CAP, &owners, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "allowed_responders", NAMES_MAX_ALLOWED, cfg_allowed, s, in->err,
			in->errlen) < 0) {
		names_fini(s);
		return -1;
	}
	s->max_names = (uint32_t)maxn;
	s->window_us = win * 1000000u;
	s->owner_ttl_us = ttl * 1000000u;
	s->hosts = det_tab_new(hosts, sizeof(struct host_key), sizeof(struct host));
	s->owners = det_tab_new(owners, sizeof(struct owner_key), sizeof(struct owner));
	s->queries = det_tab_new(NAMES_QUERIES, sizeof(struct q_key), sizeof(struct q_val));
	if (!s->hosts || !s->owners || !s->queries) {
		snprintf(in->err, in->errlen, "names: out of memory for %llu hosts",
			 (unsigned long long)hosts);
		names_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* ------------------------------------------------------------------ names */

/* The name an answer is for, normalised for matching ("wpad" for WPAD<00> over NBT-NS,
 * "wpad" for wpad.local over mDNS, "wpad" for WPAD over LLMNR) and for display
 * (NetBIOS names decoded, "<1c>" suffix noted). Returns false when it is not a name we
 * judge (an NBT-NS name that is not first-level encoded). */
static bool norm_name(int proto, const char *text, char *norm, size_t ncap, char *show,
		      size_t scap)
{
	size_t n = strlen(text);
	if (proto == P_NBNS) {
		char dec[NAMES_TEXT];
		uint8_t sfx;
		if (dec_nbns_name(text, n, dec, sizeof(dec), &sfx) < 0)
			return false;
		snprintf(show, scap, "%s<%02x>", dec, sfx);
		text = dec;
		n = strlen(dec);
		size_t o = 0;
		for (; o < n && o + 1 < ncap; o++)
			norm[o] = (dec[o] >= 'A' && dec[o] <= 'Z') ? (char)(dec[o] + 32) : dec[o];
		norm[o] = '\0';
		return o > 0;
	}
	snprintf(show, scap, "%s", text);
	size_t o = 0;
	for (; o < n && o + 1 < ncap; o++)
		norm[o] = (text[o] >= 'A' && text[o] <= 'Z') ? (char)(text[o] + 32) : text[o];
	norm[o] = '\0';
	/* mDNS host names live under .local; LLMNR names are single labels or FQDNs. */
	if (o > 6 && strcmp(norm + o - 6, ".local") == 0)
		norm[o - 6] = '\0';
	return norm[0] != '\0';
}

static bool is_wpad(const char *norm)
{
	static const char *const bad[] = { "wpad", "isatap", NULL };
	for (int i = 0; bad[i]; i++) {
		size_t l = strlen(bad[i]);
		if (strncmp(norm, bad[i], l) == 0 && (norm[l] == '\0' || norm[l] == '.'))
			return true;
	}
	return false;
}

static uint64_t name_hash(const char *norm)
{
	return util_hash64(norm, strlen(norm), 0x6e616d6573ULL);
}

/* ------------------------------------------------------------------ helpers */

static void host_key(struct host_key *k, const struct ev_meta *m)
{
	memset(k, 0, sizeof(*k));
	k->vlan = m->vlan;
	if (m->has_eth) {
		k->kind = 1;
		memcpy(k->id, m->src_mac, 6);
	} else {
		k->kind = m->src.family == 4 ? 2 : 3;
		memcpy(k->id, m->src.a, m->src.family == 4 ? 4 : 16);
	}
}

static bool allowed(const struct names_state *s, const struct ev_meta *m)
{
	for (size_t i = 0; i < s->nallowed_ip; i++)
		if (util_addr_eq(&s->allowed_ip[i], &m->src))
			return true;
	if (m->has_eth)
		for (size_t i = 0; i < s->nallowed_mac; i++)
			if (memcmp(s->allowed_mac[i], m->src_mac, 6) == 0)
				return true;
	return false;
}

static const char *who(const struct ev_meta *m, char *buf, size_t cap)
{
	char ip[OP_ADDR_STRLEN], mac[OP_MAC_STRLEN];
	util_addr_fmt(&m->src, ip);
	if (m->has_eth)
		snprintf(buf, cap, "%s (%s)", ip, util_mac_fmt(m->src_mac, mac));
	else
		snprintf(buf, cap, "%s", ip);
	return buf;
}

/* The addresses the answer gives for name (records whose normalised owner is norm). */
static unsigned answer_addrs(int proto, const struct dns_msg *d, const char *norm,
			     struct op_addr *out, unsigned cap, bool *group)
{
	unsigned n = 0;
	*group = false;
	for (unsigned i = 0; i < d->nan; i++) {
		const struct dns_rr *rr = &d->rr[i];
		char rn[NAMES_TEXT], rs[NAMES_TEXT + 8];
		if (!rr->addr.family || !norm_name(proto, dns_str(d, rr->name), rn, sizeof(rn), rs, sizeof(rs)) ||
		    strcmp(rn, norm) != 0)
			continue;
		/* A group name (NB_FLAGS G) is shared by design, not owned. */
		if (rr->type == DNS_T_NB && (rr->aux & DNS_NB_GROUP))
			*group = true;
		if (n < cap)
			out[n++] = rr->addr;
	}
	return n;
}

static void ev_common(struct alert *a, const struct dns_ev *ev, int proto, const char *show,
		      const struct op_addr *addrs, unsigned na)
{
	jw_str(&a->ev, "protocol", proto_names[proto]);
	jw_str(&a->ev, "name", show);
	jw_addr(&a->ev, "responder_ip", &ev->m.src);
	if (ev->m.has_eth)
		jw_mac(&a->ev, "responder_mac", ev->m.src_mac);
	jw_uint(&a->ev, "ip_ttl", ev->m.ip_ttl);
	jw_addr(&a->ev, "to", &ev->m.dst);
	jw_arr_open(&a->ev, "answered_addresses");
	bool own = false;
	for (unsigned i = 0; i < na; i++) {
		jw_addr(&a->ev, NULL, &addrs[i]);
		own |= util_addr_eq(&addrs[i], &ev->m.src);
	}
	jw_arr_close(&a->ev);
	jw_bool(&a->ev, "answered_with_own_address", own);
	jw_uint(&a->ev, "id", ev->dns->id);
}

/* ------------------------------------------------------------------ judgement */

static void judge_name(struct names_state *s, const struct dns_ev *ev, int proto,
		       const char *norm, const char *show, const struct op_addr *addrs,
		       unsigned na, bool group, bool count_it, struct alert_pipe *out)
{
	const struct ev_meta *m = &ev->m;
	char wb[80];

	if (is_wpad(norm)) {
		struct alert a;
		alert_begin(&a, &names_types[T_WPAD], m->ts_us);
		a.confidence = CONF_HIGH;
		det_alert_from_meta(&a, &ev->m);
		char mac[OP_MAC_STRLEN], ip[OP_ADDR_STRLEN];
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %.64s", m->vlan,
			 m->has_eth ? util_mac_fmt(m->src_mac, mac) : util_addr_fmt(&m->src, ip), norm);
		char ab[OP_ADDR_STRLEN] = "-";
		if (na)
			util_addr_fmt(&addrs[0], ab);
		snprintf(a.message, sizeof(a.message),
			 "%s answered the %s query for %.64s with %s: a proxy auto-discovery (WPAD/ISATAP) hijack sends the victim's web traffic through that host",
			 who(m, wb, sizeof(wb)), proto_names[proto], show, ab);
		ev_common(&a, ev, proto, show, addrs, na);
		alert_emit(out, &a);
	}

	/* Ownership. */
	struct owner_key ok;
	memset(&ok, 0, sizeof(ok));
	ok.h = name_hash(norm);
	ok.vlan = m->vlan;
	struct host_key hk;
	host_key(&hk, m);
	if (!group) {
		bool created;
		struct owner *o = det_tab_put(s->owners, &ok, &created);
		bool same = !created && memcmp(&o->who, &hk, sizeof(hk)) == 0;
		bool stale = !created && m->ts_us > o->last_us + s->owner_ttl_us;
		if (!created && !same && !stale && na && !util_addr_eq(&o->addr, &addrs[0])) {
			struct alert a;
			alert_begin(&a, &names_types[T_POISONING], m->ts_us);
			a.severity = 7;
			a.confidence = o->strength == OWN_CLAIMED ? CONF_HIGH : CONF_MEDIUM;
			det_alert_from_meta(&a, &ev->m);
			char oip[OP_ADDR_STRLEN], ab[OP_ADDR_STRLEN], mac[OP_MAC_STRLEN];
			util_addr_fmt(&o->addr, oip);
			util_addr_fmt(&addrs[0], ab);
			snprintf(a.key, sizeof(a.key), "vlan=%u %.64s %s other", m->vlan, norm,
				 m->has_eth ? util_mac_fmt(m->src_mac, mac) : util_addr_fmt(&m->src, ab));
			util_addr_fmt(&addrs[0], ab);
			snprintf(a.message, sizeof(a.message),
				 "%s answered the %s query for %.64s with %s, but that name is %s's (%s; last seen over %s)",
				 who(m, wb, sizeof(wb)), proto_names[proto], show, ab, oip,
				 o->strength == OWN_CLAIMED ? "registered or announced by it" : "it answered first",
				 proto_names[o->proto]);
			jw_str(&a.ev, "reason", "owned_by_other");
			ev_common(&a, ev, proto, show, addrs, na);
			jw_obj_open(&a.ev, "owner");
			jw_addr(&a.ev, "ip", &o->ip);
			if (o->has_mac)
				jw_mac(&a.ev, "mac", o->mac);
			jw_addr(&a.ev, "address", &o->addr);
			jw_str(&a.ev, "how", o->strength == OWN_CLAIMED ? "registered/announced" : "answered first");
			jw_str(&a.ev, "protocol", proto_names[o->proto]);
			jw_ts(&a.ev, "first_seen", o->first_us);
			jw_ts(&a.ev, "last_seen", o->last_us);
			jw_obj_close(&a.ev);
			alert_emit(out, &a);
		} else if (na && (created || same || stale)) {
			if (created || stale) {
				memset(o, 0, sizeof(*o));
				o->who = hk;
				o->first_us = m->ts_us;
				o->strength = OWN_ANSWERED;
				util_strlcpy(o->name, show, sizeof(o->name));
			}
			o->ip = m->src;
			o->addr = addrs[0];
			o->has_mac = m->has_eth;
			memcpy(o->mac, m->src_mac, 6);
			o->proto = (uint8_t)proto;
			o->last_us = m->ts_us;
		}
	}

	if (!count_it)
		return;
	/* Many names from one host. */
	bool created;
	struct host *h = det_tab_put(s->hosts, &hk, &created);
	if (created || m->ts_us > h->start_us + s->window_us || m->ts_us < h->start_us) {
		memset(h, 0, sizeof(*h));
		h->start_us = m->ts_us;
	}
	uint64_t nh = ok.h;
	for (unsigned i = 0; i < h->nnames; i++)
		if (h->hashes[i] == nh)
			return;
	if (h->nnames < NAMES_TRACK) {
		if (h->nnames < NAMES_SHOWN) {
			util_strlcpy(h->shown[h->nnames], show, NAMES_TEXT);
			h->shown_proto[h->nnames] = (uint8_t)proto;
		}
		h->hashes[h->nnames++] = nh;
	} else {
		h->over = 1;
	}
	if (h->nnames <= s->max_names || h->alerted)
		return;
	h->alerted = 1;
	struct alert a;
	alert_begin(&a, &names_types[T_POISONING], m->ts_us);
	a.confidence = CONF_MEDIUM;
	det_alert_from_meta(&a, &ev->m);
	char mac[OP_MAC_STRLEN], ip[OP_ADDR_STRLEN];
	snprintf(a.key, sizeof(a.key), "vlan=%u %s many", m->vlan,
		 m->has_eth ? util_mac_fmt(m->src_mac, mac) : util_addr_fmt(&m->src, ip));
	snprintf(a.message, sizeof(a.message),
		 "%s answered %s queries for %u%s different names within %llu s (latest %.64s): hosts answer for their own name only; this is how Responder-style poisoners work",
		 who(m, wb, sizeof(wb)), proto_names[proto], h->nnames, h->over ? "+" : "",
		 (unsigned long long)((m->ts_us - h->start_us) / 1000000u), show);
	jw_str(&a.ev, "reason", "many_names");
	ev_common(&a, ev, proto, show, addrs, na);
	jw_uint(&a.ev, "names_in_window", h->nnames);
	jw_uint(&a.ev, "threshold", s->max_names);
	jw_arr_open(&a.ev, "names");
	for (unsigned i = 0; i < h->nnames && i < NAMES_SHOWN; i++) {
		jw_obj_open(&a.ev, NULL);
		jw_str(&a.ev, "name", h->shown[i]);
		jw_str(&a.ev, "protocol", proto_names[h->shown_proto[i]]);
		jw_obj_close(&a.ev);
	}
	jw_arr_close(&a.ev);
	alert_emit(out, &a);
}

/* An NBT-NS registration, refresh or mDNS announcement: the sender claims its name. */
static void claim(struct names_state *s, const struct dns_ev *ev, int proto)
{
	const struct dns_msg *d = ev->dns;
	const struct ev_meta *m = &ev->m;
	for (unsigned i = 0; i < d->nrr; i++) {
		const struct dns_rr *rr = &d->rr[i];
		char norm[NAMES_TEXT], show[NAMES_TEXT + 8];
		if (!rr->addr.family || !util_addr_eq(&rr->addr, &m->src) ||
		    !norm_name(proto, dns_str(d, rr->name), norm, sizeof(norm), show, sizeof(show)))
			continue;
		struct owner_key ok;
		memset(&ok, 0, sizeof(ok));
		ok.h = name_hash(norm);
		ok.vlan = m->vlan;
		struct host_key hk;
		host_key(&hk, m);
		bool created;
		struct owner *o = det_tab_put(s->owners, &ok, &created);
		bool same = !created && memcmp(&o->who, &hk, sizeof(hk)) == 0;
		/* A claim does not take a name from a live owner: the answers judge that. */
		if (!created && !same && m->ts_us <= o->last_us + s->owner_ttl_us)
			continue;
		if (!same) {
			memset(o, 0, sizeof(*o));
			o->who = hk;
			o->first_us = m->ts_us;
			util_strlcpy(o->name, show, sizeof(o->name));
		}
		o->strength = OWN_CLAIMED;
		o->ip = m->src;
		o->addr = rr->addr;
		o->has_mac = m->has_eth;
		memcpy(o->mac, m->src_mac, 6);
		o->proto = (uint8_t)proto;
		o->last_us = m->ts_us;
	}
}

static void names_on_dns(void *state, const struct dns_ev *ev, struct alert_pipe *out)
{
	struct names_state *s = state;
	const struct dns_msg *d = ev->dns;
	const struct ev_meta *m = &ev->m;
	int proto;
	/* UDP, and LLMNR over TCP (RFC 4795 2.4: the retry of a truncated answer, made
	 * to the responder itself). */
	bool tcp_llmnr = m->proto == 6 && (m->sport == NAMES_PORT_LLMNR || m->dport == NAMES_PORT_LLMNR);
	if ((m->proto != 17 && !tcp_llmnr) || !d || !dec_dns_usable(d) || m->sport == 53 || m->dport == 53)
		return;
	/* Queries go to the protocol's port, answers come from it (RFC 4795 2.5, RFC 6762
	 * 6, RFC 1002 4.2.1): an ordinary DNS client that happened to pick 5353 as its
	 * ephemeral port is not mDNS. */
	uint16_t port = d->qr ? m->sport : m->dport;
	if (port == NAMES_PORT_LLMNR)
		proto = P_LLMNR;
	else if (port == NAMES_PORT_MDNS)
		proto = P_MDNS;
	else if (port == NAMES_PORT_NBNS)
		proto = P_NBNS;
	else
		return;

	if (!d->qr) {
		if (proto == P_NBNS && (d->opcode == 5 || d->opcode == 8 || d->opcode == 9)) {
			claim(s, ev, proto); /* registration / refresh (RFC 1002 4.2.2, 4.2.4) */
		} else if (proto == P_NBNS && d->opcode == 0) {
			struct q_key qk;
			memset(&qk, 0, sizeof(qk));
			qk.vlan = m->vlan;
			qk.id = d->id;
			qk.family = m->src.family;
			memcpy(qk.ip, m->src.a, 16);
			struct q_val *q = det_tab_put(s->queries, &qk, NULL);
			q->ts_us = m->ts_us;
			q->broadcast = (d->flags & DNS_F_NBNS_B) || (m->has_eth && util_mac_is_mcast(m->dst_mac)) ||
				       (m->dst.family == 4 && m->dst.a[3] == 255);
		}
		return;
	}
	if (d->rcode != 0 || d->nan == 0 || allowed(s, m))
		return;
	if (proto == P_MDNS && d->nq == 0) {
		/* An unsolicited mDNS response is the sender announcing its own records. */
		claim(s, ev, proto);
	}
	if (proto == P_NBNS && d->opcode != 0)
		return;

	/* Was this NBT-NS answer for a query unicast to a name server? */
	bool count_it = true;
	if (proto == P_NBNS) {
		struct q_key qk;
		memset(&qk, 0, sizeof(qk));
		qk.vlan = m->vlan;
		qk.id = d->id;
		qk.family = m->dst.family;
		memcpy(qk.ip, m->dst.a, 16);
		const struct q_val *q = det_tab_peek(s->queries, &qk);
		if (q && !q->broadcast && m->ts_us <= q->ts_us + NAMES_QUERY_TTL_US)
			count_it = false;
	}

	/* Judge each distinct name the answer section gives addresses for. */
	uint64_t done[NAMES_TRACK];
	unsigned ndone = 0;
	for (unsigned i = 0; i < d->nan && ndone < NAMES_TRACK; i++) {
		const struct dns_rr *rr = &d->rr[i];
		char norm[NAMES_TEXT], show[NAMES_TEXT + 8];
		if (!rr->addr.family || rr->section != DNS_SEC_AN ||
		    !norm_name(proto, dns_str(d, rr->name), norm, sizeof(norm), show, sizeof(show)))
			continue;
		uint64_t h = name_hash(norm);
		bool dup = false;
		for (unsigned j = 0; j < ndone; j++)
			dup |= done[j] == h;
		if (dup)
			continue;
		done[ndone++] = h;
		struct op_addr addrs[NAMES_ADDRS];
		bool group;
		unsigned na = answer_addrs(proto, d, norm, addrs, NAMES_ADDRS, &group);
		judge_name(s, ev, proto, norm, show, addrs, na, group, count_it && !group, out);
	}
}

/* ------------------------------------------------------------------ baselines */

static json_t *names_save(void *state)
{
	struct names_state *s = state;
	json_t *root = json_object(), *arr = json_array();
	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	size_t pos = 0;
	const void *kp;
	const struct owner *o;
	while ((o = det_tab_next(s->owners, &pos, &kp))) {
		const struct owner_key *k = kp;
		char hb[17], ip[OP_ADDR_STRLEN], ad[OP_ADDR_STRLEN], mb[OP_MAC_STRLEN];
		snprintf(hb, sizeof(hb), "%016llx", (unsigned long long)k->h);
		json_t *j = json_object();
		json_object_set_new(j, "h", json_string(hb));
		json_object_set_new(j, "vlan", json_integer(k->vlan));
		json_object_set_new(j, "name", json_string(o->name));
		json_object_set_new(j, "ip", json_string(util_addr_fmt(&o->ip, ip)));
		json_object_set_new(j, "address", json_string(util_addr_fmt(&o->addr, ad)));
		if (o->has_mac)
			json_object_set_new(j, "mac", json_string(util_mac_fmt(o->mac, mb)));
		json_object_set_new(j, "claimed", json_boolean(o->strength == OWN_CLAIMED));
		json_object_set_new(j, "protocol", json_integer(o->proto));
		json_object_set_new(j, "first_us", json_integer((json_int_t)o->first_us));
		json_object_set_new(j, "last_us", json_integer((json_int_t)o->last_us));
		json_array_append_new(arr, j);
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "owners", arr);
	return root;
}

static int names_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct names_state *s = state;
	if (!json_is_object(saved) || json_integer_value(json_object_get(saved, "version")) != 1) {
		snprintf(err, errlen, "names: state is not a version 1 object");
		return -1;
	}
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(saved, "owners"), i, j) {
		const char *hs = json_string_value(json_object_get(j, "h"));
		const char *ip = json_string_value(json_object_get(j, "ip"));
		const char *ad = json_string_value(json_object_get(j, "address"));
		const char *mac = json_string_value(json_object_get(j, "mac"));
		const char *name = json_string_value(json_object_get(j, "name"));
		json_int_t vlan = json_integer_value(json_object_get(j, "vlan"));
		json_int_t proto = json_integer_value(json_object_get(j, "protocol"));
		struct owner o;
		struct owner_key k;
		char *end;
		memset(&o, 0, sizeof(o));
		memset(&k, 0, sizeof(k));
		if (!hs || strlen(hs) != 16 || !ip || !ad || vlan < 0 || vlan > 4095 || proto < 0 ||
		    proto > P_NBNS || util_addr_parse(ip, &o.ip) < 0 ||
		    util_addr_parse(ad, &o.addr) < 0 || (mac && util_mac_parse(mac, o.mac) < 0)) {
			snprintf(err, errlen, "names: owners[%zu]: bad entry", i);
			return -1;
		}
		k.h = strtoull(hs, &end, 16);
		if (*end) {
			snprintf(err, errlen, "names: owners[%zu]: bad hash", i);
			return -1;
		}
		k.vlan = (uint16_t)vlan;
		o.has_mac = mac != NULL;
		o.who.vlan = k.vlan;
		if (o.has_mac) {
			o.who.kind = 1;
			memcpy(o.who.id, o.mac, 6);
		} else {
			o.who.kind = o.ip.family == 4 ? 2 : 3;
			memcpy(o.who.id, o.ip.a, o.ip.family == 4 ? 4 : 16);
		}
		o.strength = json_is_true(json_object_get(j, "claimed")) ? OWN_CLAIMED : OWN_ANSWERED;
		o.proto = (uint8_t)proto;
		o.first_us = (uint64_t)json_integer_value(json_object_get(j, "first_us"));
		o.last_us = (uint64_t)json_integer_value(json_object_get(j, "last_us"));
		util_strlcpy(o.name, name ? name : "", sizeof(o.name));
		*(struct owner *)det_tab_put(s->owners, &k, NULL) = o;
	}
	return 0;
}

const struct detector det_names = {
	.name = "names",
	.types = names_types,
	.ntypes = ONPATH_ARRAY_LEN(names_types),
	.init = names_init,
	.fini = names_fini,
	.on_dns = names_on_dns,
	.save = names_save,
	.load = names_load,
};
