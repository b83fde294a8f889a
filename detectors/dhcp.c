/* dhcp.c - rogue DHCP indicators (DHCPv4 RFC 2131, DHCPv6 RFC 8415 judged as struct
 * dhcp_ev).
 *
 *  - dhcp.rogue_server: an OFFER or ACK (DHCPv6: ADVERTISE or REPLY) from a server not
 *    in allowed_servers, or - without that list - not in the baseline; or carrying the
 *    server identifier of a known server from another MAC (an impersonation; only for
 *    unrelayed DHCPv4, since a relay answers from its own MAC). A rogue server hands
 *    clients a router and DNS server of its choosing: the classic DHCP spoofing MITM.
 *  - dhcp.option_changed: an allowed server's router or DNS server option differs from
 *    allowed_routers / allowed_dns, or - without those lists - from what that server
 *    handed out before.
 * The baseline of servers is learned during the learning window of a cold start and,
 * per VLAN and IP version, from the first server heard when none is known yet (trust on
 * first use): a lab capture holding only the rogue server therefore needs
 * allowed_servers. What allowed servers hand out is shared through lan.h: routers
 * become protected gateways and DNS servers protected resolvers for the arp and ndp
 * detectors, and each ACK is a lease (IP -> client MAC) that lets arp accept an address
 * changing hands. A rogue server's values are never learned.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../monitor/decode/dhcp.h"
#include "detector.h"
#include "lan.h"
#include "table.h"

#define DHCPD_MAX_ALLOWED 256
#define DHCPD_ID_KEY 16            /* bytes of a DUID kept in the table key */
#define DHCPD_VLANS 4096
#define DHCPD_DEF_MAX_SERVERS 256
#define DHCPD_STATE_VERSION 1
#define DHCPD_EVIDENCE_ID 64       /* DUID bytes shown in evidence */
#define US 1000000ull

enum { T_ROGUE = 0, T_OPTION_CHANGED };

static const struct alert_type dhcp_types[] = {
	[T_ROGUE] = { "dhcp.rogue_server", 7, "T1557.003", "DHCP Spoofing",
		      "DHCP OFFER/ACK (DHCPv6 ADVERTISE/REPLY) from a server not allowed or not in the baseline" },
	[T_OPTION_CHANGED] = { "dhcp.option_changed", 6, "T1557.003", "DHCP Spoofing",
			       "a DHCP server's router or DNS server option differs from the allowed or baseline values" },
};

struct allowed_id {
	uint8_t b[DHCP_MAX_ID];
	size_t n;
};

/* A server: (vlan, IP version, identifier). The identifier is the v4 server
 * identifier (or source address) or the first DHCPD_ID_KEY bytes of a v6 DUID. */
struct srv_key {
	uint16_t vlan;
	uint8_t version;
	uint8_t idlen;
	uint8_t id[DHCPD_ID_KEY];
};

struct srv_val {
	uint8_t mac[6];
	bool has_opts;
	struct op_addr addr;           /* source address of its messages */
	struct op_addr routers[DHCP_MAX_ROUTERS];
	struct op_addr dns[DHCP_MAX_DNS];
	uint8_t nrouters, ndns;
	bool has_routers, has_dns;
	uint64_t first_us, last_us;
};

struct dhcpd_state {
	struct op_addr allowed_addr[DHCPD_MAX_ALLOWED];
	size_t nallowed_addr;
	struct allowed_id allowed_duid[DHCPD_MAX_ALLOWED];
	size_t nallowed_duid;
	struct op_addr allowed_routers[DHCPD_MAX_ALLOWED];
	size_t nallowed_routers;
	struct op_addr allowed_dns[DHCPD_MAX_ALLOWED];
	size_t nallowed_dns;
	bool cfg_servers, cfg_routers, cfg_dns;
	struct det_tab *srv;
	uint8_t vlan_known[2][DHCPD_VLANS]; /* [v4, v6]: a baseline server is known */
	bool cold;
	uint64_t learning_us, first_us;
};

static bool addr_in(const struct op_addr *list, size_t n, const struct op_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (util_addr_eq(&list[i], a))
			return true;
	return false;
}

static bool same_set(const struct op_addr *a, size_t na, const struct op_addr *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!addr_in(b, nb, &a[i]))
			return false;
	for (size_t i = 0; i < nb; i++)
		if (!addr_in(a, na, &b[i]))
			return false;
	return true;
}

static void srv_key(struct srv_key *k, const struct dhcp_ev *ev)
{
	const struct dhcp_msg *d = ev->dhcp;
	memset(k, 0, sizeof(*k));
	k->vlan = ev->m.vlan;
	k->version = d->version;
	if (d->version == 6 && d->server_duid_len) {
		k->idlen = d->server_duid_len < DHCPD_ID_KEY ? d->server_duid_len : DHCPD_ID_KEY;
		memcpy(k->id, d->server_duid, k->idlen);
	} else {
		const struct op_addr *a = d->has_server_id ? &d->server_id : &ev->m.src;
		k->idlen = a->family == 4 ? 4 : 16;
		memcpy(k->id, a->a, k->idlen);
	}
}

static bool server_allowed(const struct dhcpd_state *s, const struct dhcp_ev *ev)
{
	const struct dhcp_msg *d = ev->dhcp;
	if (d->has_server_id && addr_in(s->allowed_addr, s->nallowed_addr, &d->server_id))
		return true;
	if (addr_in(s->allowed_addr, s->nallowed_addr, &ev->m.src))
		return true;
	for (size_t i = 0; i < s->nallowed_duid; i++)
		if (d->server_duid_len == s->allowed_duid[i].n &&
		    memcmp(d->server_duid, s->allowed_duid[i].b, d->server_duid_len) == 0)
			return true;
	return false;
}

static void addr_list(struct jw *w, const char *key, const struct op_addr *a, size_t n)
{
	jw_arr_open(w, key);
	for (size_t i = 0; i < n; i++)
		jw_addr(w, NULL, &a[i]);
	jw_arr_close(w);
}

static const char *type_name(const struct dhcp_msg *d)
{
	if (d->version == 4)
		return d->type == DHCP_OFFER ? "OFFER" : d->type == DHCP_ACK ? "ACK" : "reply";
	return d->type == DHCP6_ADVERTISE ? "ADVERTISE" : d->type == DHCP6_REPLY ? "REPLY" : "reply";
}

/* The server's name for messages and keys: its identifier, else its source address. */
static void server_name(const struct dhcp_ev *ev, char *buf, size_t cap)
{
	const struct dhcp_msg *d = ev->dhcp;
	char ip[OP_ADDR_STRLEN];
	if (d->has_server_id) {
		util_addr_fmt(&d->server_id, ip);
		snprintf(buf, cap, "%s", ip);
	} else if (d->server_duid_len) {
		size_t o = 0;
		o += (size_t)snprintf(buf, cap, "duid:");
		for (size_t i = 0; i < d->server_duid_len && i < DHCPD_ID_KEY && o + 3 < cap; i++)
			o += (size_t)snprintf(buf + o, cap - o, "%02x", d->server_duid[i]);
	} else {
		util_addr_fmt(&ev->m.src, ip);
		snprintf(buf, cap, "%s", ip);
	}
}

static void common_evidence(struct alert *a, const struct dhcp_ev *ev)
{
	const struct dhcp_msg *d = ev->dhcp;
	jw_str(&a->ev, "message_type", type_name(d));
	jw_uint(&a->ev, "dhcp_version", d->version);
	if (d->has_server_id)
		jw_addr(&a->ev, "server_id", &d->server_id);
	if (d->server_duid_len)
		jw_hex(&a->ev, "server_duid", d->server_duid,
		       d->server_duid_len < DHCPD_EVIDENCE_ID ? d->server_duid_len : DHCPD_EVIDENCE_ID);
	jw_addr(&a->ev, "server_ip", &ev->m.src);
	if (ev->m.has_eth)
		jw_mac(&a->ev, "server_mac", ev->m.src_mac);
	if (d->version == 4) {
		struct op_addr y, g;
		util_addr_set4(&y, d->yiaddr);
		util_addr_set4(&g, d->giaddr);
		jw_addr(&a->ev, "offered_ip", &y);
		if (d->giaddr[0] | d->giaddr[1] | d->giaddr[2] | d->giaddr[3])
			jw_addr(&a->ev, "relay", &g);
		if (d->htype == 1 && d->hlen == 6)
			jw_mac(&a->ev, "client_mac", d->chaddr);
	} else {
		addr_list(&a->ev, "offered_ips", d->addrs, d->naddrs);
		if (d->client_id_len)
			jw_hex(&a->ev, "client_duid", d->client_id,
			       d->client_id_len < DHCPD_EVIDENCE_ID ? d->client_id_len : DHCPD_EVIDENCE_ID);
	}
	if (d->has_lease)
		jw_uint(&a->ev, "lease_s", d->lease_s);
	addr_list(&a->ev, "routers", d->routers, d->nrouters);
	addr_list(&a->ev, "dns", d->dns, d->ndns);
}

/* Values that differ from what clients should get (configured lists, else the
 * baseline of known servers on this VLAN): rogue servers that hand out their own
 * router or resolver are the dangerous ones. */
static bool differs(const struct dhcpd_state *s, const struct dhcp_ev *ev, const char **what)
{
	const struct dhcp_msg *d = ev->dhcp;
	for (size_t i = 0; i < d->nrouters; i++)
		if (s->cfg_routers && !addr_in(s->allowed_routers, s->nallowed_routers, &d->routers[i])) {
			*what = "router";
			return true;
		}
	for (size_t i = 0; i < d->ndns; i++)
		if (s->cfg_dns && !addr_in(s->allowed_dns, s->nallowed_dns, &d->dns[i])) {
			*what = "dns";
			return true;
		}
	/* Learned: the union of what the baseline servers of this VLAN hand out. */
	bool any = false, rt_ok = true, dns_ok = true;
	size_t pos = 0;
	const void *kp;
	const struct srv_val *v;
	while ((v = det_tab_next(s->srv, &pos, &kp))) {
		const struct srv_key *k = kp;
		if (k->vlan != ev->m.vlan || k->version != d->version || !v->has_opts)
			continue;
		any = true;
		break;
	}
	if (!any)
		return false;
	for (size_t i = 0; i < d->nrouters && !s->cfg_routers; i++) {
		bool found = false;
		pos = 0;
		while (!found && (v = det_tab_next(s->srv, &pos, &kp))) {
			const struct srv_key *k = kp;
			found = k->vlan == ev->m.vlan && k->version == d->version &&
				addr_in(v->routers, v->nrouters, &d->routers[i]);
		}
		rt_ok &= found;
	}
	for (size_t i = 0; i < d->ndns && !s->cfg_dns; i++) {
		bool found = false;
		pos = 0;
		while (!found && (v = det_tab_next(s->srv, &pos, &kp))) {
			const struct srv_key *k = kp;
			found = k->vlan == ev->m.vlan && k->version == d->version &&
				addr_in(v->dns, v->ndns, &d->dns[i]);
		}
		dns_ok &= found;
	}
	if (!rt_ok || !dns_ok) {
		*what = !rt_ok ? "router" : "dns";
		return true;
	}
	return false;
}

static void rogue_alert(struct dhcpd_state *s, const struct dhcp_ev *ev, const char *reason,
			const struct srv_val *known, struct alert_pipe *out)
{
	const struct dhcp_msg *d = ev->dhcp;
	struct alert a;
	char name[64], m1[OP_MAC_STRLEN] = "?";
	const char *what = NULL;
	bool bad_values = differs(s, ev, &what);
	bool self_dns = false;
	for (size_t i = 0; i < d->ndns; i++)
		self_dns |= util_addr_eq(&d->dns[i], &ev->m.src) ||
			    (d->has_server_id && util_addr_eq(&d->dns[i], &d->server_id));
	alert_begin(&a, &dhcp_types[T_ROGUE], ev->m.ts_us);
	/* Declared not allowed, impersonating a known server, or handing out another
	 * router/resolver: an attack. A second server with the same values as the known
	 * ones is more likely a failover partner nobody declared. */
	if (s->cfg_servers || known || bad_values || self_dns)
		a.severity = 8;
	else
		a.severity = 5;
	a.confidence = a.severity >= 8 ? CONF_HIGH : CONF_MEDIUM;
	det_alert_from_meta(&a, &ev->m);
	server_name(ev, name, sizeof(name));
	if (ev->m.has_eth)
		util_mac_fmt(ev->m.src_mac, m1);
	snprintf(a.key, sizeof(a.key), "vlan=%u v%u %s %s %s", ev->m.vlan, d->version, name, m1, reason);
	snprintf(a.message, sizeof(a.message), "DHCPv%u %s from %s (%s): %s%s%s%s", d->version, type_name(d),
		 name, m1, reason, self_dns ? "; it names itself as DNS server" : "",
		 bad_values ? "; it hands out a different " : "", bad_values ? what : "");
	jw_str(&a.ev, "reason", reason);
	jw_bool(&a.ev, "self_dns", self_dns);
	if (bad_values)
		jw_str(&a.ev, "differs", what);
	if (known && known->mac[0] | known->mac[1] | known->mac[2] | known->mac[3] | known->mac[4] | known->mac[5])
		jw_mac(&a.ev, "known_server_mac", known->mac);
	common_evidence(&a, ev);
	alert_emit(out, &a);
}

static void option_alert(struct dhcpd_state *s, const struct dhcp_ev *ev, const char *what,
			 const struct op_addr *old, size_t nold, const struct op_addr *now_, size_t nnow,
			 bool configured, struct alert_pipe *out)
{
	const struct dhcp_msg *d = ev->dhcp;
	struct alert a;
	char name[64], o[OP_ADDR_STRLEN] = "-", n[OP_ADDR_STRLEN] = "-";
	(void)s;
	alert_begin(&a, &dhcp_types[T_OPTION_CHANGED], ev->m.ts_us);
	a.severity = configured ? 7 : 6;
	a.confidence = configured ? CONF_HIGH : CONF_MEDIUM;
	det_alert_from_meta(&a, &ev->m);
	server_name(ev, name, sizeof(name));
	if (nold)
		util_addr_fmt(&old[0], o);
	if (nnow)
		util_addr_fmt(&now_[0], n);
	snprintf(a.key, sizeof(a.key), "vlan=%u v%u %s %s %s>%s", ev->m.vlan, d->version, name, what, o, n);
	snprintf(a.message, sizeof(a.message), "DHCP server %s hands out %s %s%s instead of the %s %s", name,
		 what, n, nnow > 1 ? ",..." : "", configured ? "allowed" : "usual", o);
	jw_str(&a.ev, "option", what);
	jw_str(&a.ev, "baseline", configured ? "configured" : "learned");
	addr_list(&a.ev, "old", old, nold);
	addr_list(&a.ev, "new", now_, nnow);
	common_evidence(&a, ev);
	alert_emit(out, &a);
}

static void learn_values(struct srv_val *v, const struct dhcp_msg *d)
{
	if (d->has_routers) {
		memcpy(v->routers, d->routers, sizeof(d->routers[0]) * d->nrouters);
		v->nrouters = d->nrouters;
		v->has_routers = true;
	}
	if (d->has_dns) {
		memcpy(v->dns, d->dns, sizeof(d->dns[0]) * d->ndns);
		v->ndns = d->ndns;
		v->has_dns = true;
	}
	v->has_opts = v->has_routers || v->has_dns;
}

static void share(const struct dhcp_ev *ev, uint64_t now)
{
	const struct dhcp_msg *d = ev->dhcp;
	for (size_t i = 0; i < d->nrouters; i++)
		det_lan_learn(&d->routers[i], DET_ROLE_GATEWAY, now);
	for (size_t i = 0; i < d->ndns; i++)
		det_lan_learn(&d->dns[i], DET_ROLE_RESOLVER, now);
	det_lan_learn(d->has_server_id ? &d->server_id : &ev->m.src, DET_ROLE_DHCP_SERVER, now);
	if (d->version == 4 && d->type == DHCP_ACK && d->htype == 1 && d->hlen == 6 &&
	    (d->yiaddr[0] | d->yiaddr[1] | d->yiaddr[2] | d->yiaddr[3]))
		det_lan_lease(ev->m.vlan, d->yiaddr, d->chaddr, now);
}

static void check_options(struct dhcpd_state *s, const struct dhcp_ev *ev, struct srv_val *v,
			  struct alert_pipe *out)
{
	const struct dhcp_msg *d = ev->dhcp;
	if (d->has_routers) {
		if (s->cfg_routers) {
			for (size_t i = 0; i < d->nrouters; i++)
				if (!addr_in(s->allowed_routers, s->nallowed_routers, &d->routers[i])) {
					option_alert(s, ev, "router", s->allowed_routers, s->nallowed_routers,
						     d->routers, d->nrouters, true, out);
					break;
				}
		} else if (v->has_routers && !same_set(v->routers, v->nrouters, d->routers, d->nrouters)) {
			option_alert(s, ev, "router", v->routers, v->nrouters, d->routers, d->nrouters, false, out);
		}
	}
	if (d->has_dns) {
		if (s->cfg_dns) {
			for (size_t i = 0; i < d->ndns; i++)
				if (!addr_in(s->allowed_dns, s->nallowed_dns, &d->dns[i])) {
					option_alert(s, ev, "dns", s->allowed_dns, s->nallowed_dns, d->dns, d->ndns,
						     true, out);
					break;
				}
		} else if (v->has_dns && !same_set(v->dns, v->ndns, d->dns, d->ndns)) {
			option_alert(s, ev, "dns", v->dns, v->ndns, d->dns, d->ndns, false, out);
		}
	}
}

static void dhcp_on_dhcp(void *state, const struct dhcp_ev *ev, struct alert_pipe *out)
{
	struct dhcpd_state *s = state;
	const struct dhcp_msg *d = ev->dhcp;
	uint64_t now = ev->m.ts_us;
	if (!s->first_us)
		s->first_us = now ? now : 1;
	bool answer = d->version == 4 ? d->op == 2 && (d->type == DHCP_OFFER || d->type == DHCP_ACK)
				      : d->type == DHCP6_ADVERTISE || d->type == DHCP6_REPLY;
	if (!answer)
		return;
	struct srv_key k;
	srv_key(&k, ev);
	struct srv_val *v = det_tab_get(s->srv, &k);
	uint8_t *known = &s->vlan_known[d->version == 6][ev->m.vlan % DHCPD_VLANS];
	bool learn = s->cold && now - s->first_us < s->learning_us;

	if (s->cfg_servers) {
		if (!server_allowed(s, ev)) {
			rogue_alert(s, ev, "server not allowed", NULL, out);
			return;
		}
	} else if (!v && !learn && *known) {
		rogue_alert(s, ev, "server not in the baseline", NULL, out);
		return;
	}
	/* An unrelayed DHCPv4 answer comes from the server's own NIC: the identifier of a
	 * known server from another MAC is someone speaking in its name. */
	if (v && d->version == 4 && ev->m.has_eth && !(d->giaddr[0] | d->giaddr[1] | d->giaddr[2] | d->giaddr[3]) &&
	    (v->mac[0] | v->mac[1] | v->mac[2] | v->mac[3] | v->mac[4] | v->mac[5]) &&
	    memcmp(v->mac, ev->m.src_mac, 6) != 0) {
		rogue_alert(s, ev, "known server identifier from another MAC", v, out);
		return;
	}
	bool fresh = false;
	if (!v) {
		v = det_tab_put(s->srv, &k, NULL);
		v->first_us = now;
		v->addr = ev->m.src;
		if (ev->m.has_eth && !(d->giaddr[0] | d->giaddr[1] | d->giaddr[2] | d->giaddr[3]))
			memcpy(v->mac, ev->m.src_mac, 6);
		*known = 1;
		fresh = true;
	}
	v->last_us = now;
	if (!fresh)
		check_options(s, ev, v, out);
	else if (s->cfg_routers || s->cfg_dns)
		check_options(s, ev, v, out);
	learn_values(v, d);
	share(ev, now);
}

/* ------------------------------------------------------------------ config */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int cfg_server(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct dhcpd_state *s = ud;
	if (it->type == CFG_SCALAR && it->value && strncmp(it->value, "duid:", 5) == 0) {
		struct allowed_id *id = &s->allowed_duid[s->nallowed_duid];
		size_t n = 0;
		int hi = -1;
		bool ok = true;
		/* hex digits, optionally separated by ':' between bytes */
		for (const char *h = it->value + 5; *h && ok; h++) {
			if (*h == ':' && hi < 0)
				continue;
			int x = hexval(*h);
			if (x < 0 || n == DHCP_MAX_ID) {
				ok = false;
			} else if (hi < 0) {
				hi = x;
			} else {
				id->b[n++] = (uint8_t)(hi << 4 | x);
				hi = -1;
			}
		}
		if (!ok || hi >= 0 || n == 0) {
			cfg_errf(c, it, err, errlen, "detectors.dhcp.allowed_servers: '%.64s' is not duid:HEX",
				 it->value);
			return -1;
		}
		id->n = n;
		s->nallowed_duid++;
		return 0;
	}
	return det_cfg_addr(c, it, "detectors.dhcp.allowed_servers (address or duid:HEX)",
			    &s->allowed_addr[s->nallowed_addr++], err, errlen);
}

static int cfg_router(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct dhcpd_state *s = ud;
	return det_cfg_addr(c, it, "detectors.dhcp.allowed_routers", &s->allowed_routers[s->nallowed_routers++],
			    err, errlen);
}

static int cfg_dns(void *ud, const struct cfg *c, const struct cfg_node *it, char *err, size_t errlen)
{
	struct dhcpd_state *s = ud;
	return det_cfg_addr(c, it, "detectors.dhcp.allowed_dns", &s->allowed_dns[s->nallowed_dns++], err, errlen);
}

static void dhcp_fini(void *state)
{
	struct dhcpd_state *s = state;
	if (!s)
		return;
	det_tab_free(s->srv);
	free(s);
	det_lan_release();
}

static int dhcp_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "allowed_servers", "allowed_routers", "allowed_dns",
					    "max_servers", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	uint64_t max = DHCPD_DEF_MAX_SERVERS;
	if (cfg_check_keys(c, sec, "detectors.dhcp", keys, in->err, in->errlen) < 0)
		return -1;
	struct dhcpd_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "dhcp: out of memory");
		return -1;
	}
	det_lan_acquire();
	s->cold = in->cold_start;
	s->learning_us = in->learning_s * US;
	s->cfg_servers = sec && cfg_get(sec, "allowed_servers");
	s->cfg_routers = sec && cfg_get(sec, "allowed_routers");
	s->cfg_dns = sec && cfg_get(sec, "allowed_dns");
	if (det_cfg_seq(c, sec, "allowed_servers", DHCPD_MAX_ALLOWED, cfg_server, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "allowed_routers", DHCPD_MAX_ALLOWED, cfg_router, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "allowed_dns", DHCPD_MAX_ALLOWED, cfg_dns, s, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_servers", 16, 65536, &max, in->err, in->errlen) < 0)
		goto fail;
	s->srv = det_tab_new(max, sizeof(struct srv_key), sizeof(struct srv_val));
	if (!s->srv) {
		snprintf(in->err, in->errlen, "dhcp: out of memory");
		goto fail;
	}
	/* Configured routers and resolvers are protected for arp/ndp from the start. */
	for (size_t i = 0; i < s->nallowed_routers; i++)
		det_lan_learn(&s->allowed_routers[i], DET_ROLE_GATEWAY, 0);
	for (size_t i = 0; i < s->nallowed_dns; i++)
		det_lan_learn(&s->allowed_dns[i], DET_ROLE_RESOLVER, 0);
	*state = s;
	return 0;
fail:
	dhcp_fini(s);
	return -1;
}

/* ------------------------------------------------------------------ state */

static json_t *addrs_json(const struct op_addr *a, size_t n)
{
	json_t *arr = json_array();
	char b[OP_ADDR_STRLEN];
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(util_addr_fmt(&a[i], b)));
	return arr;
}

/* The leases the LAN store remembers (lan.h): saved with the detector, so an address
 * changing hands after a restart is still judged against its last lease. */
static void lease_json(void *ud, uint16_t vlan, const uint8_t ip[4], const uint8_t mac[6], uint64_t ts_us)
{
	char m[OP_MAC_STRLEN], a[OP_ADDR_STRLEN];
	struct op_addr addr;
	memset(&addr, 0, sizeof(addr));
	addr.family = 4;
	memcpy(addr.a, ip, 4);
	json_t *e = json_object();
	json_object_set_new(e, "vlan", json_integer(vlan));
	json_object_set_new(e, "ip", json_string(util_addr_fmt(&addr, a)));
	json_object_set_new(e, "mac", json_string(util_mac_fmt(mac, m)));
	json_object_set_new(e, "ts", json_integer((json_int_t)ts_us));
	json_array_append_new(ud, e);
}

static json_t *dhcp_save(void *state)
{
	struct dhcpd_state *s = state;
	json_t *root = json_object(), *arr = json_array();
	size_t pos = 0;
	const void *kp;
	const struct srv_val *v;
	while ((v = det_tab_next(s->srv, &pos, &kp))) {
		const struct srv_key *k = kp;
		char hex[2 * DHCPD_ID_KEY + 1], m[OP_MAC_STRLEN], a[OP_ADDR_STRLEN];
		for (size_t i = 0; i < k->idlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", k->id[i]);
		hex[2 * k->idlen] = '\0';
		json_t *e = json_object();
		json_object_set_new(e, "vlan", json_integer(k->vlan));
		json_object_set_new(e, "version", json_integer(k->version));
		json_object_set_new(e, "id", json_string(hex));
		json_object_set_new(e, "mac", json_string(util_mac_fmt(v->mac, m)));
		json_object_set_new(e, "addr", json_string(util_addr_fmt(&v->addr, a)));
		if (v->has_routers)
			json_object_set_new(e, "routers", addrs_json(v->routers, v->nrouters));
		if (v->has_dns)
			json_object_set_new(e, "dns", addrs_json(v->dns, v->ndns));
		json_object_set_new(e, "first", json_integer((json_int_t)v->first_us));
		json_object_set_new(e, "last", json_integer((json_int_t)v->last_us));
		json_array_append_new(arr, e);
	}
	json_object_set_new(root, "version", json_integer(DHCPD_STATE_VERSION));
	json_object_set_new(root, "servers", arr);
	json_t *leases = json_array();
	det_lan_leases_each(lease_json, leases);
	json_object_set_new(root, "leases", leases);
	return root;
}

static int j_addrs(const json_t *arr, struct op_addr *out, uint8_t *n, size_t cap)
{
	size_t i;
	const json_t *x;
	*n = 0;
	if (!json_is_array(arr))
		return -1;
	json_array_foreach(arr, i, x) {
		if (*n == cap)
			break;
		if (!json_is_string(x) || util_addr_parse(json_string_value(x), &out[*n]) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int dhcp_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct dhcpd_state *s = state;
	const json_t *arr = json_object_get(saved, "servers"), *ver = json_object_get(saved, "version"), *e;
	size_t i;
	if (!json_is_integer(ver) || json_integer_value(ver) != DHCPD_STATE_VERSION || !json_is_array(arr)) {
		snprintf(err, errlen, "dhcp: state is not version %d with a servers list", DHCPD_STATE_VERSION);
		goto cold;
	}
	json_array_foreach(arr, i, e) {
		struct srv_key k;
		struct srv_val v;
		const json_t *vl = json_object_get(e, "vlan"), *vs = json_object_get(e, "version"),
			     *f = json_object_get(e, "first"), *l = json_object_get(e, "last");
		const char *id = json_string_value(json_object_get(e, "id")),
			   *mac = json_string_value(json_object_get(e, "mac")),
			   *addr = json_string_value(json_object_get(e, "addr"));
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		if (!json_is_integer(vl) || json_integer_value(vl) < 0 || json_integer_value(vl) > 4095 ||
		    !json_is_integer(vs) || (json_integer_value(vs) != 4 && json_integer_value(vs) != 6) || !id ||
		    strlen(id) % 2 || strlen(id) > 2 * DHCPD_ID_KEY || !mac || util_mac_parse(mac, v.mac) < 0 ||
		    !addr || util_addr_parse(addr, &v.addr) < 0 || !json_is_integer(f) || !json_is_integer(l))
			goto bad;
		k.vlan = (uint16_t)json_integer_value(vl);
		k.version = (uint8_t)json_integer_value(vs);
		k.idlen = (uint8_t)(strlen(id) / 2);
		for (size_t j = 0; j < k.idlen; j++) {
			int hi = hexval(id[2 * j]), lo = hexval(id[2 * j + 1]);
			if (hi < 0 || lo < 0)
				goto bad;
			k.id[j] = (uint8_t)(hi << 4 | lo);
		}
		if (json_object_get(e, "routers")) {
			if (j_addrs(json_object_get(e, "routers"), v.routers, &v.nrouters, DHCP_MAX_ROUTERS) < 0)
				goto bad;
			v.has_routers = true;
		}
		if (json_object_get(e, "dns")) {
			if (j_addrs(json_object_get(e, "dns"), v.dns, &v.ndns, DHCP_MAX_DNS) < 0)
				goto bad;
			v.has_dns = true;
		}
		v.has_opts = v.has_routers || v.has_dns;
		v.first_us = (uint64_t)json_integer_value(f);
		v.last_us = (uint64_t)json_integer_value(l);
		*(struct srv_val *)det_tab_put(s->srv, &k, NULL) = v;
		s->vlan_known[k.version == 6][k.vlan % DHCPD_VLANS] = 1;
		for (size_t j = 0; j < v.nrouters; j++)
			det_lan_learn(&v.routers[j], DET_ROLE_GATEWAY, v.first_us);
		for (size_t j = 0; j < v.ndns; j++)
			det_lan_learn(&v.dns[j], DET_ROLE_RESOLVER, v.first_us);
	}
	/* Leases (optional: older states have none); a damaged one is skipped alone. */
	json_array_foreach(json_object_get(saved, "leases"), i, e) {
		const json_t *vl = json_object_get(e, "vlan"), *ts = json_object_get(e, "ts");
		const char *ip = json_string_value(json_object_get(e, "ip")),
			   *mac = json_string_value(json_object_get(e, "mac"));
		struct op_addr a;
		uint8_t m[6];
		if (!json_is_integer(vl) || json_integer_value(vl) < 0 || json_integer_value(vl) > 4095 ||
		    !json_is_integer(ts) || !ip || util_addr_parse(ip, &a) < 0 || a.family != 4 || !mac ||
		    util_mac_parse(mac, m) < 0)
			continue;
		det_lan_lease((uint16_t)json_integer_value(vl), a.a, m, (uint64_t)json_integer_value(ts));
	}
	return 0;
bad:
	snprintf(err, errlen, "dhcp: state server %zu is malformed", i);
cold: {
	size_t cap = det_tab_cap(s->srv);
	det_tab_free(s->srv);
	s->srv = det_tab_new(cap, sizeof(struct srv_key), sizeof(struct srv_val));
	memset(s->vlan_known, 0, sizeof(s->vlan_known));
	s->cold = true;
	return -1;
}
}

const struct detector det_dhcp = {
	.name = "dhcp",
	.types = dhcp_types,
	.ntypes = ONPATH_ARRAY_LEN(dhcp_types),
	.init = dhcp_init,
	.fini = dhcp_fini,
	.on_dhcp = dhcp_on_dhcp,
	.save = dhcp_save,
	.load = dhcp_load,
};
