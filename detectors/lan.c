/* lan.c - roles and leases shared by the arp, ndp and dhcp detectors (see lan.h). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lan.h"
#include "table.h"

struct lease_key {
	uint16_t vlan;
	uint8_t ip[4];
	uint8_t pad[2];
};

struct lease_val {
	uint8_t mac[6];
	uint64_t ts_us;
};

struct fhrp_key {
	uint16_t vlan;
	uint8_t family;
	uint8_t mac[6];
	uint8_t ip[16];
	uint8_t pad[3];
};

static pthread_mutex_t lan_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned lan_refs;
static struct det_lan_role lan_roles[DET_LAN_ROLES_MAX];
static size_t lan_nroles;
static uint64_t lan_generation;
static struct det_tab *lan_leases;
static struct det_tab *lan_fhrp;

struct next_hop {
	uint16_t vlan;
	uint8_t mac[6];
	uint8_t dst[DET_LAN_HOP_ROUTER][4]; /* the first distinct destinations seen */
	unsigned ndst;
	uint64_t last_us;
};
static struct next_hop lan_hops[DET_LAN_HOPS_MAX];
static size_t lan_nhops;

void det_lan_acquire(void)
{
	pthread_mutex_lock(&lan_mu);
	if (lan_refs++ == 0) {
		lan_nroles = 0;
		lan_nhops = 0;
		/* Without memory for leases the arp detector only loses an allowance. */
		lan_leases = det_tab_new(DET_LAN_LEASES_MAX, sizeof(struct lease_key),
					 sizeof(struct lease_val));
		/* Without it the arp detector only loses the VRRP failover allowance. */
		lan_fhrp = det_tab_new(DET_LAN_FHRP_MAX, sizeof(struct fhrp_key),
				       sizeof(struct det_lan_fhrp));
	}
	pthread_mutex_unlock(&lan_mu);
}

void det_lan_release(void)
{
	pthread_mutex_lock(&lan_mu);
	if (lan_refs && --lan_refs == 0) {
		lan_nroles = 0;
		det_tab_free(lan_leases);
		lan_leases = NULL;
		det_tab_free(lan_fhrp);
		lan_fhrp = NULL;
		__atomic_add_fetch(&lan_generation, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lan_mu);
}

bool det_lan_learn(const struct op_addr *ip, unsigned roles, uint64_t ts_us)
{
	bool changed = false;
	if (ip->family != 4 && ip->family != 6)
		return false;
	roles &= ~DET_ROLE_CONFIG;
	pthread_mutex_lock(&lan_mu);
	size_t i;
	for (i = 0; i < lan_nroles; i++)
		if (util_addr_eq(&lan_roles[i].ip, ip))
			break;
	if (i < lan_nroles) {
		if ((lan_roles[i].roles | roles) != lan_roles[i].roles) {
			lan_roles[i].roles |= roles;
			changed = true;
		}
	} else {
		if (lan_nroles == DET_LAN_ROLES_MAX) {
			/* Full: the oldest learned entry goes (entries are kept in learning
			 * order, so this is deterministic). */
			memmove(&lan_roles[0], &lan_roles[1], sizeof(lan_roles[0]) * (lan_nroles - 1));
			lan_nroles--;
		}
		struct det_lan_role *r = &lan_roles[lan_nroles++];
		memset(r, 0, sizeof(*r));
		r->ip.family = ip->family;
		memcpy(r->ip.a, ip->a, ip->family == 4 ? 4 : 16);
		r->roles = roles;
		r->learned_us = ts_us;
		changed = true;
	}
	if (changed)
		__atomic_add_fetch(&lan_generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lan_mu);
	return changed;
}

uint64_t det_lan_gen(void)
{
	return __atomic_load_n(&lan_generation, __ATOMIC_ACQUIRE);
}

size_t det_lan_roles(struct det_lan_role *out, size_t cap)
{
	pthread_mutex_lock(&lan_mu);
	size_t n = lan_nroles < cap ? lan_nroles : cap;
	memcpy(out, lan_roles, n * sizeof(*out));
	pthread_mutex_unlock(&lan_mu);
	return n;
}

void det_lan_lease(uint16_t vlan, const uint8_t ip[4], const uint8_t mac[6], uint64_t ts_us)
{
	struct lease_key k;
	memset(&k, 0, sizeof(k));
	k.vlan = vlan;
	memcpy(k.ip, ip, 4);
	pthread_mutex_lock(&lan_mu);
	if (lan_leases) {
		struct lease_val *v = det_tab_put(lan_leases, &k, NULL);
		memcpy(v->mac, mac, 6);
		v->ts_us = ts_us;
	}
	pthread_mutex_unlock(&lan_mu);
}

bool det_lan_lease_get(uint16_t vlan, const uint8_t ip[4], uint8_t mac[6], uint64_t *ts_us)
{
	struct lease_key k;
	bool found = false;
	memset(&k, 0, sizeof(k));
	k.vlan = vlan;
	memcpy(k.ip, ip, 4);
	pthread_mutex_lock(&lan_mu);
	const struct lease_val *v = lan_leases ? det_tab_peek(lan_leases, &k) : NULL;
	if (v) {
		memcpy(mac, v->mac, 6);
		*ts_us = v->ts_us;
		found = true;
	}
	pthread_mutex_unlock(&lan_mu);
	return found;
}

void det_lan_leases_each(void (*fn)(void *ud, uint16_t vlan, const uint8_t ip[4], const uint8_t mac[6],
				    uint64_t ts_us),
			 void *ud)
{
	size_t pos = 0;
	const void *kp;
	const struct lease_val *v;
	pthread_mutex_lock(&lan_mu);
	while (lan_leases && (v = det_tab_next(lan_leases, &pos, &kp))) {
		const struct lease_key *k = kp;
		fn(ud, k->vlan, k->ip, v->mac, v->ts_us);
	}
	pthread_mutex_unlock(&lan_mu);
}

static bool fhrp_key(struct fhrp_key *k, uint16_t vlan, const struct op_addr *vip,
		     const uint8_t mac[6])
{
	memset(k, 0, sizeof(*k));
	if (vip->family != 4 && vip->family != 6)
		return false;
	k->vlan = vlan;
	k->family = vip->family;
	memcpy(k->mac, mac, 6);
	memcpy(k->ip, vip->a, vip->family == 4 ? 4 : 16);
	return true;
}

void det_lan_fhrp_note(uint16_t vlan, const struct op_addr *vip, const uint8_t mac[6], uint64_t ts_us,
		       uint8_t priority, uint32_t interval_cs, bool baseline)
{
	struct fhrp_key k;
	if (!fhrp_key(&k, vlan, vip, mac))
		return;
	pthread_mutex_lock(&lan_mu);
	if (lan_fhrp) {
		bool created;
		struct det_lan_fhrp *v = det_tab_put(lan_fhrp, &k, &created);
		if (created || ts_us < v->first_us)
			v->first_us = ts_us;
		v->baseline |= baseline;
		if (priority == 0) {
			v->resigned_us = ts_us;
		} else if (!baseline) {
			uint64_t gap = (uint64_t)(v->interval_cs ? v->interval_cs : 100) * 3 * 10000u;
			if (!v->last_us || v->resigned_us || (ts_us > v->last_us && ts_us - v->last_us > gap))
				v->run_us = ts_us;
			if (ts_us >= v->last_us)
				v->last_us = ts_us;
			v->resigned_us = 0;
			v->priority = priority;
			v->interval_cs = interval_cs;
		} else if (created) {
			v->priority = priority;
			v->interval_cs = interval_cs;
		}
	}
	pthread_mutex_unlock(&lan_mu);
}

bool det_lan_fhrp_get(uint16_t vlan, const struct op_addr *vip, const uint8_t mac[6],
		      struct det_lan_fhrp *out)
{
	struct fhrp_key k;
	bool found = false;
	if (!fhrp_key(&k, vlan, vip, mac))
		return false;
	pthread_mutex_lock(&lan_mu);
	const struct det_lan_fhrp *v = lan_fhrp ? det_tab_peek(lan_fhrp, &k) : NULL;
	if (v) {
		*out = *v;
		found = true;
	}
	pthread_mutex_unlock(&lan_mu);
	return found;
}

void det_lan_next_hop(uint16_t vlan, const uint8_t mac[6], const uint8_t dst[4], uint64_t ts_us)
{
	pthread_mutex_lock(&lan_mu);
	if (!lan_refs) {
		pthread_mutex_unlock(&lan_mu); /* no LAN detector: nobody asks */
		return;
	}
	struct next_hop *h = NULL, *old = NULL;
	for (size_t i = 0; i < lan_nhops && !h; i++) {
		if (lan_hops[i].vlan == vlan && memcmp(lan_hops[i].mac, mac, 6) == 0)
			h = &lan_hops[i];
		else if (!old || lan_hops[i].last_us < old->last_us)
			old = &lan_hops[i];
	}
	if (!h) {
		h = lan_nhops < DET_LAN_HOPS_MAX ? &lan_hops[lan_nhops++] : old;
		memset(h, 0, sizeof(*h));
		h->vlan = vlan;
		memcpy(h->mac, mac, 6);
	}
	h->last_us = ts_us;
	if (h->ndst < DET_LAN_HOP_ROUTER) {
		bool seen = false;
		for (unsigned i = 0; i < h->ndst && !seen; i++)
			seen = memcmp(h->dst[i], dst, 4) == 0;
		if (!seen)
			memcpy(h->dst[h->ndst++], dst, 4);
	}
	pthread_mutex_unlock(&lan_mu);
}

bool det_lan_is_next_hop(uint16_t vlan, const uint8_t mac[6])
{
	bool r = false;
	pthread_mutex_lock(&lan_mu);
	for (size_t i = 0; i < lan_nhops; i++)
		if (lan_hops[i].vlan == vlan && memcmp(lan_hops[i].mac, mac, 6) == 0) {
			r = lan_hops[i].ndst >= DET_LAN_HOP_ROUTER;
			break;
		}
	pthread_mutex_unlock(&lan_mu);
	return r;
}

const char *det_lan_role_name(unsigned roles)
{
	static const char *const names[16] = {
		"",
		"gateway",
		"resolver",
		"gateway+resolver",
		"dhcp-server",
		"gateway+dhcp-server",
		"resolver+dhcp-server",
		"gateway+resolver+dhcp-server",
		"router",
		"gateway",
		"router+resolver",
		"gateway+resolver",
		"router+dhcp-server",
		"gateway+dhcp-server",
		"router+resolver+dhcp-server",
		"gateway+resolver+dhcp-server",
	};
	return names[roles & 0x0fu];
}

int det_cfg_seq(const struct cfg *c, const struct cfg_node *sec, const char *key, size_t max,
		int (*fn)(void *ud, const struct cfg *c, const struct cfg_node *item, char *err,
			  size_t errlen),
		void *ud, char *err, size_t errlen)
{
	const struct cfg_node *n = sec ? cfg_get(sec, key) : NULL;
	if (!n)
		return 0;
	if (n->type != CFG_SEQ) {
		cfg_errf(c, n, err, errlen, "%s: expected a list", key);
		return -1;
	}
	size_t i = 0;
	for (const struct cfg_node *it = n->child; it; it = it->next, i++) {
		if (i == max) {
			cfg_errf(c, it, err, errlen, "%s: more than %zu entries", key, max);
			return -1;
		}
		if (fn(ud, c, it, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int want_scalar(const struct cfg *c, const struct cfg_node *item, const char *what,
		       char *err, size_t errlen)
{
	if (item->type != CFG_SCALAR || !item->value) {
		cfg_errf(c, item, err, errlen, "%s: expected a single value", what);
		return -1;
	}
	return 0;
}

int det_cfg_addr(const struct cfg *c, const struct cfg_node *item, const char *what,
		 struct op_addr *out, char *err, size_t errlen)
{
	if (want_scalar(c, item, what, err, errlen) < 0)
		return -1;
	if (util_addr_parse(item->value, out) < 0) {
		cfg_errf(c, item, err, errlen, "%s: '%.64s' is not an IPv4 or IPv6 address", what,
			 item->value);
		return -1;
	}
	return 0;
}

int det_cfg_mac(const struct cfg *c, const struct cfg_node *item, const char *what,
		uint8_t mac[6], char *err, size_t errlen)
{
	if (want_scalar(c, item, what, err, errlen) < 0)
		return -1;
	if (util_mac_parse(item->value, mac) < 0) {
		cfg_errf(c, item, err, errlen, "%s: '%.64s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
			 what, item->value);
		return -1;
	}
	return 0;
}

int det_cfg_cidr(const struct cfg *c, const struct cfg_node *item, const char *what,
		 struct det_cidr *out, char *err, size_t errlen)
{
	char buf[OP_ADDR_STRLEN + 8];
	if (want_scalar(c, item, what, err, errlen) < 0)
		return -1;
	util_strlcpy(buf, item->value, sizeof(buf));
	char *slash = strchr(buf, '/');
	unsigned long bits = 0;
	if (slash) {
		char *end;
		*slash = '\0';
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end)
			goto bad;
	}
	if (strlen(item->value) >= sizeof(buf) || util_addr_parse(buf, &out->net) < 0)
		goto bad;
	unsigned maxbits = out->net.family == 4 ? 32 : 128;
	if (!slash)
		bits = maxbits;
	if (bits > maxbits)
		goto bad;
	out->bits = (uint8_t)bits;
	for (unsigned i = 0; i < maxbits / 8; i++) {
		unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
		out->net.a[i] &= (uint8_t)(keep ? 0xffu << (8 - keep) : 0);
	}
	return 0;
bad:
	cfg_errf(c, item, err, errlen, "%s: '%.64s' is not an address/prefix-length (192.0.2.0/24)",
		 what, item->value);
	return -1;
}

bool det_cidr_match(const struct det_cidr *n, const struct op_addr *a)
{
	if (a->family != n->net.family)
		return false;
	unsigned full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(a->a, n->net.a, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xffu << (8 - rest));
		if ((a->a[full] & m) != n->net.a[full])
			return false;
	}
	return true;
}
