#include "config.h"

/* vrrp.c - VRRP advertisements: VRRPv2 (RFC 3768, authentication types of RFC 2338) and
 * VRRPv3 (RFC 5798) over IPv4 and IPv6 -> struct vrrp_msg. */

#include <string.h>

#include "reader.h"
#include "vrrp.h"

#define VRRP_V2 2
#define VRRP_V3 3
#define VRRP_V3_INTERVAL_MASK 0x0fff /* 12 bits of centiseconds; 4 reserved bits above */

static const char *const vrrp_err_names[VRRP_ERR_MAX] = {
	[VRRP_OK] = "ok",
	[VRRP_ERR_NOT_VRRP] = "not_vrrp",
	[VRRP_ERR_SHORT] = "short",
	[VRRP_ERR_VERSION] = "version",
	[VRRP_ERR_TYPE] = "type",
	[VRRP_ERR_COUNT] = "count",
};

const char *dec_vrrp_strerror(int err)
{
	if (err < 0 || err >= VRRP_ERR_MAX)
		return "unknown";
	return vrrp_err_names[err];
}

int dec_vrrp_msg(const uint8_t *b, size_t len, uint8_t family, struct vrrp_msg *out)
{
	struct rd r = rd_init(b, len);
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family != 4 && family != 6)
		return VRRP_ERR_NOT_VRRP;
	const uint8_t *h = rd_ptr(&r, VRRP_HLEN);
	if (!h)
		return VRRP_ERR_SHORT;
	out->version = h[0] >> 4;
	out->type = h[0] & 0x0f;
	out->vrid = h[1];
	out->priority = h[2];
	out->count = h[3];
	out->checksum = (uint16_t)((uint16_t)h[6] << 8 | h[7]);
	/* VRRPv2 is IPv4 only (RFC 3768 1); v3 carries both (RFC 5798 5.1). */
	if ((out->version != VRRP_V2 && out->version != VRRP_V3) ||
	    (out->version == VRRP_V2 && family != 4))
		return VRRP_ERR_VERSION;
	/* Type 1 is the only one defined (RFC 3768 5.3.2, RFC 5798 5.2.2). */
	if (out->type != VRRP_TYPE_ADVERT)
		return VRRP_ERR_TYPE;
	if (out->version == VRRP_V2) {
		out->auth_type = h[4];
		out->interval_cs = (uint16_t)(h[5] * 100u);
	} else {
		out->interval_cs = (uint16_t)(((uint16_t)h[4] << 8 | h[5]) & VRRP_V3_INTERVAL_MASK);
	}

	/* The count must agree with the length: v3 is exactly the addresses (RFC 5798
	 * 5.2.5); v2 is the addresses and 8 bytes of authentication data (RFC 3768 5.3.9),
	 * which some senders leave out with authentication type 0. A count of 0 names no
	 * virtual router address (the receiver discards it: RFC 3768 7.1 "MUST verify
	 * that the IP address(es) ..."). */
	size_t alen = family == 4 ? 4 : 16;
	size_t need = (size_t)out->count * alen;
	size_t left = rd_left(&r);
	if (out->count == 0 || need > left)
		return VRRP_ERR_COUNT;
	if (out->version == VRRP_V3 && left != need)
		return VRRP_ERR_COUNT;
	if (out->version == VRRP_V2 && left != need && left != need + VRRP_V2_AUTH_LEN)
		return VRRP_ERR_COUNT;
	struct rd a = rd_sub(&r, need);
	for (unsigned i = 0; i < out->count; i++) {
		if (out->naddrs < VRRP_MAX_ADDRS)
			rd_bytes(&a, out->addrs[out->naddrs++], alen);
		else
			rd_skip(&a, alen);
	}
	if (out->version == VRRP_V2 && rd_left(&r) == VRRP_V2_AUTH_LEN) {
		rd_bytes(&r, out->auth_data, VRRP_V2_AUTH_LEN);
		out->has_auth_data = true;
	}
	if (a.err || r.err)
		return VRRP_ERR_COUNT; /* cannot happen after the checks above */
	return VRRP_OK;
}

int dec_vrrp(const struct pkt *p, struct vrrp_msg *out)
{
	static const uint8_t group6[16] = { 0xff, 0x02, [15] = 0x12 };
	if (!(p->flags & PKT_F_IP) || (p->flags & PKT_F_LATER_FRAG) || p->ip_proto != VRRP_IPPROTO ||
	    (p->src.family != 4 && p->src.family != 6)) {
		memset(out, 0, sizeof(*out));
		return VRRP_ERR_NOT_VRRP;
	}
	int e = dec_vrrp_msg(p->l4, p->l4_len, p->src.family, out);
	out->ttl = p->ip_ttl;
	if (p->dst.family == 4)
		out->to_group = p->dst.a[0] == 224 && p->dst.a[1] == 0 && p->dst.a[2] == 0 &&
				p->dst.a[3] == 18;
	else if (p->dst.family == 6)
		out->to_group = memcmp(p->dst.a, group6, 16) == 0;
	return e;
}
