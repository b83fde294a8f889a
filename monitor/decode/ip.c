#include "config.h"

/* ip.c - IPv4 (RFC 791) and IPv6 (RFC 8200) headers, the IPv6 extension-header chain
 * (RFC 8200 4, RFC 4302 for AH, RFC 6275 for mobility, RFC 7045 list), fragments, and
 * the hand-off to TCP, UDP and ICMP. Checksums are not verified here: l4/l4_len give
 * what a consumer that wants them needs. */

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "internal.h"
#include "reader.h"

#define IPV4_MIN_HLEN 20
#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1fff

#define IPV6_HLEN 40
#define IPV6_EXT_MIN 8     /* every extension header is at least 8 octets */
#define IPV6_FRAG_OFFSET 0xfff8
#define IPV6_FRAG_M 0x0001

#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_NONE 59
#define IP6_DSTOPTS 60
#define IP6_MOBILITY 135
#define IP6_HIP 139
#define IP6_SHIM6 140

/* (l4, n) is exactly the transport segment: clipped to the IP length and the capture,
 * after all extension headers. Handing it on is the IP layer's last act, so the call to
 * the transport parser is a jump. */
static inline enum dec_result transport(struct pkt *p, const uint8_t *l4, size_t n,
					uint8_t proto, uint8_t icmp_proto, uint32_t *notes)
{
	p->l4 = l4;
	p->l4_len = n;
	if (proto == DEC_IPPROTO_TCP)
		return dec_tcp(p, l4, n);
	if (proto == DEC_IPPROTO_UDP)
		return dec_udp(p, l4, n);
	/* ICMP only in IPv4 and ICMPv6 only in IPv6: detectors read icmp_type without
	 * looking at the family, and ICMPv4 type 134 in IPv6 is not a router advert. */
	if (proto == icmp_proto)
		return dec_icmp(p, l4, n);
	DEC_NOTE(notes, DEC_NOTE_OTHER_IPPROTO);
	return DEC_OK;
}

/* The version first: a short packet of the other version is counted as what it is. */
static enum dec_result short_ip(const struct rd *r, unsigned version, enum dec_result res)
{
	uint8_t v;
	if (rd_peek_u8(r, 0, &v) && v >> 4 != version)
		return DEC_ERR_IP_VERSION;
	return res;
}

enum dec_result dec_ipv4(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	size_t avail = rd_left(&r);
	if (avail < IPV4_MIN_HLEN)
		return short_ip(&r, 4, DEC_ERR_IPV4_SHORT);
	const uint8_t *h = rd_ptr(&r, IPV4_MIN_HLEN);
	if (h[0] >> 4 != 4)
		return DEC_ERR_IP_VERSION;
	size_t hlen = (size_t)(h[0] & 0x0f) * 4;
	if (hlen < IPV4_MIN_HLEN || hlen > avail)
		return DEC_ERR_IPV4_IHL;
	size_t total = dec_be16(h, 2);
	/* A length shorter than the header is dropped by every stack (RFC 1122
	 * 3.2.1.1 "silently discard"); decoding it would show detectors a packet the
	 * victim never accepted. */
	if (total < hlen)
		return DEC_ERR_IPV4_LEN;
	/* The IP length, not the frame, ends the datagram: Ethernet pads short frames to
	 * 60 bytes, and padding read as payload would show a DNS or TLS parser bytes the
	 * sender never sent. A snaplen cut gives fewer bytes: decode those, and say so. */
	if (total > avail) {
		DEC_NOTE(notes, DEC_NOTE_IP_TRUNCATED);
		total = avail;
	}
	rd_skip(&r, hlen - IPV4_MIN_HLEN); /* options: nothing we act on */
	struct rd pl = rd_sub(&r, total - hlen);
	size_t n;
	const uint8_t *l4 = dec_rest(&pl, &n);

	uint16_t frag = dec_be16(h, 6);
	uint8_t proto = h[9];
	p->ip_id = dec_be16(h, 4);
	p->ip_ttl = h[8];
	p->ip_proto = proto;
	dec_addr4(&p->src, h, 12);
	dec_addr4(&p->dst, h, 16);
	p->flags |= PKT_F_IP;
	p->l3 = h;
	p->l3_len = total;

	if (frag & (IPV4_MF | IPV4_OFFSET)) {
		p->flags |= PKT_F_FRAG;
		DEC_NOTE(notes, DEC_NOTE_IPV4_FRAGMENT);
		/* Only the first fragment holds the transport header (RFC 791 3.2); a later
		 * one's data read as a header would give invented ports and flags. */
		if (frag & IPV4_OFFSET) {
			p->flags |= PKT_F_LATER_FRAG;
			return DEC_OK;
		}
	}
	return transport(p, l4, n, proto, DEC_IPPROTO_ICMP, notes);
}

enum dec_result dec_ipv6(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	size_t avail = rd_left(&r);
	if (avail < IPV6_HLEN)
		return short_ip(&r, 6, DEC_ERR_IPV6_SHORT);
	const uint8_t *h = rd_ptr(&r, IPV6_HLEN);
	if (h[0] >> 4 != 6)
		return DEC_ERR_IP_VERSION;
	size_t plen = dec_be16(h, 4);
	uint8_t nh = h[6];
	p->ip_ttl = h[7];
	dec_addr6(&p->src, h, 8);
	dec_addr6(&p->dst, h, 24);
	p->ip_id = 0;
	p->ip_proto = nh;
	p->flags |= PKT_F_IP;

	if (plen > avail - IPV6_HLEN) {
		DEC_NOTE(notes, DEC_NOTE_IP_TRUNCATED);
		plen = avail - IPV6_HLEN;
	}
	p->l3 = h;
	p->l3_len = IPV6_HLEN + plen;
	struct rd pl = rd_sub(&r, plen);

	/* The chain is attacker-sized (RFC 7112 exists because of it): the walk is capped,
	 * and each header's own length is checked against what the payload holds. */
	for (unsigned i = 0;; i++) {
		switch (nh) {
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_FRAGMENT:
		case IP6_AH:
		case IP6_DSTOPTS:
		case IP6_MOBILITY:
		case IP6_HIP:
		case IP6_SHIM6:
			break;
		case IP6_NONE:
			/* RFC 8200 4.7: nothing follows, not even a transport header. */
			p->ip_proto = nh;
			return DEC_OK;
		default: {
			size_t n;
			const uint8_t *l4 = dec_rest(&pl, &n);
			p->ip_proto = nh;
			return transport(p, l4, n, nh, DEC_IPPROTO_ICMPV6, notes);
		}
		}
		if (i == DEC_MAX_IPV6_EXT || rd_left(&pl) < IPV6_EXT_MIN)
			return DEC_ERR_IPV6_EXT;
		uint8_t next = rd_u8(&pl);
		uint8_t hl = rd_u8(&pl);
		if (nh == IP6_FRAGMENT) {
			uint16_t offlg = rd_be16(&pl);
			rd_skip(&pl, 4); /* identification */
			/* An atomic fragment (offset 0, M 0) is a whole packet (RFC 6946). */
			if (offlg & (IPV6_FRAG_OFFSET | IPV6_FRAG_M)) {
				p->flags |= PKT_F_FRAG;
				DEC_NOTE(notes, DEC_NOTE_IPV6_FRAGMENT);
				if (offlg & IPV6_FRAG_OFFSET) {
					p->flags |= PKT_F_LATER_FRAG;
					p->ip_proto = next;
					return DEC_OK;
				}
			}
		} else {
			/* AH counts 4-octet units minus 2 (RFC 4302 2.2), the rest 8-octet
			 * units minus 1 (RFC 8200 4.3). */
			size_t elen = nh == IP6_AH ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
			if (elen - 2 > rd_left(&pl))
				return DEC_ERR_IPV6_EXT;
			rd_skip(&pl, elen - 2);
		}
		nh = next;
	}
}
