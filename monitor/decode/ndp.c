#include "config.h"

/* ndp.c - IPv6 Neighbor Discovery (RFC 4861) with route information (RFC 4191) and
 * RDNSS/DNSSL (RFC 8106) options: ICMPv6 types 133..137 -> struct ndp_msg. */

#include <string.h>

#include "internal.h"
#include "ndp.h"
#include "reader.h"

#define NDP_OPT_SLLA 1
#define NDP_OPT_TLLA 2
#define NDP_OPT_PREFIX 3
#define NDP_OPT_REDIR_HDR 4
#define NDP_OPT_MTU 5
#define NDP_OPT_ROUTE 24
#define NDP_OPT_RDNSS 25
#define NDP_OPT_DNSSL 31

#define NDP_OPT_UNIT 8         /* option length is in units of 8 octets */
#define NDP_HOPLIMIT 255       /* RFC 4861 6.1, 7.1, 8.1: anything else came from off-link */
#define NDP_PREFIX_OPT_LEN 4   /* units */
#define NDP_MTU_OPT_LEN 1
#define NDP_RDNSS_MIN_LEN 3
#define NDP_DNSSL_MIN_LEN 2
#define NDP_ROUTE_MAX_LEN 3

static const char *const ndp_err_names[NDP_ERR_MAX] = {
	[NDP_OK] = "ok",
	[NDP_ERR_NOT_NDP] = "not_ndp",
	[NDP_ERR_SHORT] = "short",
	[NDP_ERR_CODE] = "code",
	[NDP_ERR_HOPLIMIT] = "hop_limit",
	[NDP_ERR_OPT_ZERO] = "opt_zero",
	[NDP_ERR_OPT_TRUNC] = "opt_trunc",
	[NDP_ERR_OPT_COUNT] = "opt_count",
	[NDP_ERR_INVALID] = "invalid",
};

const char *dec_ndp_strerror(int err)
{
	if (err < 0 || err >= NDP_ERR_MAX)
		return "unknown";
	return ndp_err_names[err];
}

static bool is_link_local(const struct op_addr *a)
{
	return a->family == 6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

static bool is_unspecified(const struct op_addr *a)
{
	static const uint8_t zero[16];
	return a->family == 6 && memcmp(a->a, zero, 16) == 0;
}

/* A link-layer address option: Ethernet addresses are 6 bytes; a longer option (other
 * link types, padding) keeps its first 6, a shorter one is invalid. */
static void lladdr(struct rd *o, struct ndp_msg *m, bool *has, uint8_t mac[6])
{
	if (rd_left(o) < 6) {
		m->bad_options++;
		return;
	}
	if (*has)
		return; /* the first one counts (a second is ignored, as Linux does) */
	rd_bytes(o, mac, 6);
	*has = true;
}

static void prefix_opt(struct rd *o, size_t units, struct ndp_msg *m)
{
	if (units != NDP_PREFIX_OPT_LEN) {
		m->bad_options++;
		return;
	}
	if (m->nprefixes == NDP_MAX_PREFIXES) {
		m->dropped++;
		return;
	}
	struct ndp_prefix *x = &m->prefixes[m->nprefixes];
	x->len = rd_u8(o);
	x->flags = rd_u8(o);
	x->valid_s = rd_be32(o);
	x->preferred_s = rd_be32(o);
	rd_skip(o, 4); /* reserved */
	rd_bytes(o, x->prefix, 16);
	if (!o->err)
		m->nprefixes++;
}

/* RFC 4191 2.3: length 1, 2 or 3 units; a prefix longer than 64 bits needs 3, one
 * longer than 0 needs at least 2. */
static void route_opt(struct rd *o, size_t units, struct ndp_msg *m)
{
	uint8_t plen = rd_u8(o), flags = rd_u8(o);
	uint32_t life = rd_be32(o);
	if (o->err || units > NDP_ROUTE_MAX_LEN || plen > 128 || (plen > 64 && units < 3) ||
	    (plen > 0 && units < 2)) {
		m->bad_options++;
		return;
	}
	if (m->nroutes == NDP_MAX_ROUTES) {
		m->dropped++;
		return;
	}
	struct ndp_route *x = &m->routes[m->nroutes];
	memset(x, 0, sizeof(*x));
	x->len = plen;
	x->pref = (uint8_t)((flags >> 3) & 3);
	x->lifetime_s = life;
	rd_bytes(o, x->prefix, rd_left(o) < 16 ? rd_left(o) : 16);
	m->nroutes++;
}

/* RFC 8106 5.1: length 1 + 2n units, n >= 1. */
static void rdnss_opt(struct rd *o, size_t units, struct ndp_msg *m)
{
	if (units < NDP_RDNSS_MIN_LEN || units % 2 == 0) {
		m->bad_options++;
		return;
	}
	rd_skip(o, 2);
	uint32_t life = rd_be32(o);
	if (m->nrdnss == 0)
		m->rdnss_lifetime_s = life;
	while (rd_left(o) >= 16) {
		if (m->nrdnss == NDP_MAX_RDNSS) {
			m->dropped++;
			rd_skip(o, 16);
			continue;
		}
		rd_bytes(o, m->rdnss[m->nrdnss++], 16);
	}
}

static bool dnssl_put(struct ndp_msg *m, const void *s, size_t n)
{
	if (n > sizeof(m->dnssl) - 1 - m->dnssl_len)
		return false;
	memcpy(&m->dnssl[m->dnssl_len], s, n);
	m->dnssl_len = (uint16_t)(m->dnssl_len + n);
	m->dnssl[m->dnssl_len] = '\0';
	return true;
}

/* RFC 8106 5.2: domain names in DNS wire form (no compression), zero-padded. Labels
 * are kept as sent (the detector escapes them); a name that breaks RFC 1035 limits
 * makes the option invalid from that point. */
static void dnssl_opt(struct rd *o, size_t units, struct ndp_msg *m)
{
	if (units < NDP_DNSSL_MIN_LEN) {
		m->bad_options++;
		return;
	}
	rd_skip(o, 2);
	uint32_t life = rd_be32(o);
	if (m->dnssl_len == 0)
		m->dnssl_lifetime_s = life;
	size_t name_len = 0;
	bool full = false;
	while (rd_left(o) > 0) {
		uint8_t l = rd_u8(o);
		if (l == 0) {
			name_len = 0; /* end of a name, or padding */
			continue;
		}
		if (l > NDP_MAX_LABEL || rd_left(o) < l || name_len + l + 1 > NDP_MAX_NAME) {
			m->bad_options++;
			return;
		}
		const uint8_t *lab = rd_ptr(o, l);
		if (full) {
			continue;
		}
		const char *sep = name_len ? "." : (m->dnssl_len ? "," : "");
		if (!dnssl_put(m, sep, strlen(sep)) || !dnssl_put(m, lab, l)) {
			full = true;
			m->dropped++;
		}
		name_len += l + 1;
	}
}

static int options(struct rd *r, struct ndp_msg *m)
{
	while (rd_left(r) > 0) {
		if (m->noptions == NDP_MAX_OPTIONS)
			return NDP_ERR_OPT_COUNT;
		if (rd_left(r) < 2)
			return NDP_ERR_OPT_TRUNC;
		uint8_t type = rd_u8(r);
		size_t units = rd_u8(r);
		/* RFC 4861 4.6: "Nodes MUST silently discard an ND packet that contains an
		 * option with length zero" - and a parser that trusted it would never
		 * advance. */
		if (units == 0)
			return NDP_ERR_OPT_ZERO;
		size_t body = units * NDP_OPT_UNIT - 2;
		if (body > rd_left(r))
			return NDP_ERR_OPT_TRUNC;
		struct rd o = rd_sub(r, body);
		m->noptions++;
		switch (type) {
		case NDP_OPT_SLLA:
			lladdr(&o, m, &m->has_sll, m->sll);
			break;
		case NDP_OPT_TLLA:
			lladdr(&o, m, &m->has_tll, m->tll);
			break;
		case NDP_OPT_PREFIX:
			prefix_opt(&o, units, m);
			break;
		case NDP_OPT_MTU:
			if (units != NDP_MTU_OPT_LEN) {
				m->bad_options++;
				break;
			}
			rd_skip(&o, 2);
			m->mtu = rd_be32(&o);
			m->has_mtu = true;
			break;
		case NDP_OPT_ROUTE:
			route_opt(&o, units, m);
			break;
		case NDP_OPT_RDNSS:
			rdnss_opt(&o, units, m);
			break;
		case NDP_OPT_DNSSL:
			dnssl_opt(&o, units, m);
			break;
		case NDP_OPT_REDIR_HDR:
			break;
		default:
			m->unknown_options++;
			break;
		}
	}
	return NDP_OK;
}

int dec_ndp(const struct pkt *p, struct ndp_msg *m)
{
	memset(m, 0, sizeof(*m));
	if ((p->flags & (PKT_F_IP | PKT_F_ICMP)) != (PKT_F_IP | PKT_F_ICMP) ||
	    p->ip_proto != DEC_IPPROTO_ICMPV6 || p->src.family != 6 || p->icmp_type < NDP_RS ||
	    p->icmp_type > NDP_REDIRECT)
		return NDP_ERR_NOT_NDP;
	m->type = p->icmp_type;
	m->hop_limit = p->ip_ttl;
	if (p->icmp_code != 0)
		return NDP_ERR_CODE;
	if (p->ip_ttl != NDP_HOPLIMIT)
		return NDP_ERR_HOPLIMIT;

	struct rd r = rd_init(p->payload, p->payload_len);
	const uint8_t *h;
	switch (m->type) {
	case NDP_RS:
		if (!rd_ptr(&r, 4))
			return NDP_ERR_SHORT;
		break;
	case NDP_RA:
		if (!(h = rd_ptr(&r, 12)))
			return NDP_ERR_SHORT;
		m->cur_hop_limit = h[0];
		m->ra_flags = h[1];
		m->router_lifetime_s = dec_be16(h, 2);
		m->reachable_ms = dec_be32(h, 4);
		m->retrans_ms = dec_be32(h, 8);
		/* RFC 4861 6.1.2: routers speak from their link-local address. */
		if (!is_link_local(&p->src))
			return NDP_ERR_INVALID;
		break;
	case NDP_NS:
	case NDP_NA:
		if (!(h = rd_ptr(&r, 20)))
			return NDP_ERR_SHORT;
		m->na_flags = m->type == NDP_NA ? h[0] : 0;
		memcpy(m->target, &h[4], 16);
		/* RFC 4861 7.1.1/7.1.2: the target is never multicast. */
		if (m->target[0] == 0xff)
			return NDP_ERR_INVALID;
		break;
	case NDP_REDIRECT:
		if (!(h = rd_ptr(&r, 36)))
			return NDP_ERR_SHORT;
		memcpy(m->target, &h[4], 16);
		memcpy(m->dest, &h[20], 16);
		if (!is_link_local(&p->src))
			return NDP_ERR_INVALID;
		break;
	}
	int e = options(&r, m);
	if (e != NDP_OK)
		return e;
	/* RFC 4861 7.1.1: a DAD probe (source ::) carries no source link-layer address:
	 * there is nothing to bind to an unspecified address. */
	if (m->type == NDP_NS && m->has_sll && is_unspecified(&p->src))
		return NDP_ERR_INVALID;
	return NDP_OK;
}
