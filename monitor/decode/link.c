#include "config.h"

/* link.c - link headers: Ethernet II, IEEE 802.3 + 802.2 LLC/SNAP (RFC 1042, 802.1H),
 * 802.1Q / 802.1ad tags and QinQ (IEEE 802.1Q-2018 9.5), Linux cooked SLL and SLL2
 * (libpcap sll.h), BSD loopback (DLT_NULL) and raw IPv4/IPv6. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "internal.h"
#include "reader.h"

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define NULL_HLEN 4
#define VLAN_TAG_LEN 4
#define VLAN_VID_MASK 0x0fff

/* IEEE 802.3 3.2.6: a type/length field below 0x0600 is the length of an LLC frame. */
#define ETH_MIN_TYPE 0x0600

#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8
#define TPID_QINQ_OLD 0x9100 /* pre-802.1ad QinQ, still sent by some switches */

#define LLC_SAP_SNAP 0xaa
#define LLC_UI 0x03
#define SNAP_OUI_RFC1042 0x000000
#define SNAP_OUI_8021H 0x0000f8

/* libpcap sll.h: protocol values that are not EtherTypes. */
#define SLL_P_802_2 0x0004 /* the frame starts with an 802.2 LLC header */

/* BSD address families as written in DLT_NULL headers (tcpdump print-null.c): IPv6 has
 * a different number on each BSD, and the capturing host may have the other byte order. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly */
#define BSD_AF_INET6_DARWIN 30  /* macOS, iOS */

static enum dec_result l3(struct pkt *p, const uint8_t *b, size_t len, uint16_t type,
			  uint32_t *notes)
{
	p->ethertype = type;
	switch (type) {
	case DEC_ETHERTYPE_IPV4:
		return dec_ipv4(p, b, len, notes);
	case DEC_ETHERTYPE_IPV6:
		return dec_ipv6(p, b, len, notes);
	case DEC_ETHERTYPE_ARP:
		return dec_arp(p, b, len);
	default:
		DEC_NOTE(notes, DEC_NOTE_OTHER_ETHERTYPE);
		return DEC_OK;
	}
}

/* 802.2 LLC. Only SNAP with an EtherType OUI carries a protocol we decode; ARP reaches
 * hosts this way on some bridged and wireless segments (RFC 1042), and Linux answers it,
 * so it must not be a blind spot. Everything else (STP, CDP, NetBIOS over LLC) is counted. */
static enum dec_result llc(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	if (rd_left(&r) < 3)
		return DEC_ERR_ETH_SHORT;
	uint8_t dsap = rd_u8(&r);
	uint8_t ssap = rd_u8(&r) & 0xfe; /* low bit is command/response */
	uint8_t ctrl = rd_u8(&r);
	if (dsap != LLC_SAP_SNAP || ssap != LLC_SAP_SNAP || ctrl != LLC_UI) {
		DEC_NOTE(notes, DEC_NOTE_OTHER_ETHERTYPE);
		return DEC_OK;
	}
	if (rd_left(&r) < 5)
		return DEC_ERR_ETH_SHORT;
	uint32_t oui = rd_be24(&r);
	uint16_t type = rd_be16(&r);
	if (oui != SNAP_OUI_RFC1042 && oui != SNAP_OUI_8021H) {
		DEC_NOTE(notes, DEC_NOTE_OTHER_ETHERTYPE);
		return DEC_OK;
	}
	size_t n;
	const uint8_t *rest = dec_rest(&r, &n);
	return l3(p, rest, n, type, notes);
}

static inline bool is_vlan_tpid(uint16_t t)
{
	return t == TPID_8021Q || t == TPID_8021AD || t == TPID_QINQ_OLD;
}

enum dec_result dec_ethertype(struct pkt *p, const uint8_t *b, size_t len, uint16_t type,
			      uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	/* The walk is bounded so a frame made of tags costs a fixed amount; the first
	 * DEC_MAX_VLAN IDs are kept because flow keys and alerts need the outer ones. */
	for (unsigned depth = 0; is_vlan_tpid(type); depth++) {
		if (depth == DEC_MAX_VLAN_DEPTH)
			return DEC_ERR_VLAN_DEPTH;
		const uint8_t *tag = rd_ptr(&r, VLAN_TAG_LEN);
		if (!tag)
			return DEC_ERR_VLAN_SHORT;
		uint16_t tci = dec_be16(tag, 0);
		type = dec_be16(tag, 2);
		if (p->nvlan < DEC_MAX_VLAN)
			p->vlan[p->nvlan++] = tci & VLAN_VID_MASK;
	}
	size_t n;
	const uint8_t *rest = dec_rest(&r, &n);
	if (type >= ETH_MIN_TYPE)
		return l3(p, rest, n, type, notes);

	/* An 802.3 length: bytes past it are padding to the 60-byte minimum and must not
	 * reach the LLC parser; a capture cut short gives what is there. */
	return llc(p, rest, type < n ? type : n, notes);
}

enum dec_result dec_eth(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	const uint8_t *h = rd_ptr(&r, ETH_HLEN);
	if (!h)
		return DEC_ERR_ETH_SHORT;
	memcpy(p->dst_mac, &h[0], 6);
	memcpy(p->src_mac, &h[6], 6);
	uint16_t type = dec_be16(h, 12);
	p->flags |= PKT_F_ETH;
	size_t n;
	const uint8_t *rest = dec_rest(&r, &n);
	/* Untagged IPv4 and IPv6 are nearly every frame: straight to the IP decoder. */
	if (type == DEC_ETHERTYPE_IPV4) {
		p->ethertype = type;
		return dec_ipv4(p, rest, n, notes);
	}
	if (type == DEC_ETHERTYPE_IPV6) {
		p->ethertype = type;
		return dec_ipv6(p, rest, n, notes);
	}
	return dec_ethertype(p, rest, n, type, notes);
}

static enum dec_result sll_protocol(struct pkt *p, const uint8_t *b, size_t len, uint16_t proto,
				    uint32_t *notes)
{
	/* libpcap re-inserts a stripped 802.1Q tag after the cooked header, so an
	 * EtherType here goes through the same VLAN walk as Ethernet. */
	if (proto >= ETH_MIN_TYPE)
		return dec_ethertype(p, b, len, proto, notes);
	if (proto == SLL_P_802_2)
		return llc(p, b, len, notes);
	DEC_NOTE(notes, DEC_NOTE_OTHER_ETHERTYPE);
	return DEC_OK;
}

/* SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol. The one
 * link address is the sender's; with no destination it cannot fill PKT_F_ETH. */
enum dec_result dec_sll(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	if (rd_left(&r) < SLL_HLEN)
		return DEC_ERR_SLL_SHORT;
	rd_skip(&r, SLL_HLEN - 2);
	uint16_t proto = rd_be16(&r);
	size_t n;
	const uint8_t *rest = dec_rest(&r, &n);
	return sll_protocol(p, rest, n, proto, notes);
}

/* SLL2: protocol, reserved, interface index, ARPHRD type, packet type, address
 * length, 8 address bytes. */
enum dec_result dec_sll2(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	if (rd_left(&r) < SLL2_HLEN)
		return DEC_ERR_SLL_SHORT;
	uint16_t proto = rd_be16(&r);
	rd_skip(&r, SLL2_HLEN - 2);
	size_t n;
	const uint8_t *rest = dec_rest(&r, &n);
	return sll_protocol(p, rest, n, proto, notes);
}

enum dec_result dec_null(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes)
{
	struct rd r = rd_init(b, len);
	if (rd_left(&r) < NULL_HLEN)
		return DEC_ERR_NULL_SHORT;
	uint32_t family = rd_le32(&r);
	/* Written in the capturing host's order: no family value needs the upper 16
	 * bits, so set upper bits mean the other byte order (as tcpdump decides). */
	if (family & 0xffff0000u)
		family = __builtin_bswap32(family);
	size_t n;
	const uint8_t *rest = dec_rest(&r, &n);
	switch (family) {
	case BSD_AF_INET:
		p->ethertype = DEC_ETHERTYPE_IPV4;
		return dec_ipv4(p, rest, n, notes);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		p->ethertype = DEC_ETHERTYPE_IPV6;
		return dec_ipv6(p, rest, n, notes);
	default:
		DEC_NOTE(notes, DEC_NOTE_OTHER_ETHERTYPE);
		return DEC_OK;
	}
}

enum dec_result dec_raw(struct pkt *p, const uint8_t *b, size_t len, int version,
			uint32_t *notes)
{
	if (version == 0) {
		struct rd r = rd_init(b, len);
		uint8_t v;
		/* No byte at all is shorter than any IP header. */
		if (!rd_peek_u8(&r, 0, &v))
			return DEC_ERR_IPV4_SHORT;
		version = v >> 4;
	}
	if (version == 4) {
		p->ethertype = DEC_ETHERTYPE_IPV4;
		return dec_ipv4(p, b, len, notes);
	}
	if (version == 6) {
		p->ethertype = DEC_ETHERTYPE_IPV6;
		return dec_ipv6(p, b, len, notes);
	}
	return DEC_ERR_IP_VERSION;
}
