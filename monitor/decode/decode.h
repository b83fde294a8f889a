/* decode.h - link, network and transport decoding: bytes of one captured frame ->
 * struct pkt (typed headers, borrowed payload) or a counted reason for skipping it.
 *
 * Every decoder reads through monitor/reader.h. The decoded packet borrows the
 * capture buffer: nothing in struct pkt outlives the packet callback.
 */
#ifndef ONPATH_DECODE_H
#define ONPATH_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Link types we decode (values are libpcap's DLT_/LINKTYPE_ numbers). */
#define DEC_LINK_NULL 0      /* BSD loopback, host-order 4-byte family */
#define DEC_LINK_EN10MB 1    /* Ethernet II (and 802.3/SNAP for ARP) */
#define DEC_LINK_RAW 101     /* LINKTYPE_RAW: raw IPv4/IPv6 */
#define DEC_LINK_DLT_RAW 12  /* DLT_RAW on most platforms */
#define DEC_LINK_DLT_RAW14 14 /* DLT_RAW on OpenBSD */
#define DEC_LINK_LINUX_SLL 113
#define DEC_LINK_IPV4 228
#define DEC_LINK_IPV6 229
#define DEC_LINK_LINUX_SLL2 276

#define DEC_MAX_VLAN 2        /* tags kept (outer first); more are counted as too many */
#define DEC_MAX_VLAN_DEPTH 8  /* tags walked before the frame is rejected */
#define DEC_MAX_IPV6_EXT 16   /* extension headers walked before the packet is rejected */

/* Why a frame was not decoded (counted per reason, never logged per packet). The
 * first value is success; DEC_NOTE_* are not errors but are counted too. */
enum dec_result {
	DEC_OK = 0,
	DEC_ERR_LINKTYPE,       /* link type we do not decode */
	DEC_ERR_ETH_SHORT,      /* shorter than an Ethernet header */
	DEC_ERR_VLAN_SHORT,     /* 802.1Q/802.1ad tag truncated */
	DEC_ERR_VLAN_DEPTH,     /* more than DEC_MAX_VLAN_DEPTH tags */
	DEC_ERR_SLL_SHORT,      /* Linux cooked header truncated */
	DEC_ERR_NULL_SHORT,     /* BSD loopback header truncated */
	DEC_ERR_IP_VERSION,     /* IP version nibble neither 4 nor 6 */
	DEC_ERR_IPV4_SHORT,     /* shorter than the IPv4 header */
	DEC_ERR_IPV4_IHL,       /* IHL < 5 or past the captured bytes */
	DEC_ERR_IPV4_LEN,       /* total length < header length */
	DEC_ERR_IPV6_SHORT,     /* shorter than the IPv6 header */
	DEC_ERR_IPV6_EXT,       /* extension header truncated or chain too long */
	DEC_ERR_TCP_SHORT,      /* shorter than 20 bytes */
	DEC_ERR_TCP_DOFF,       /* data offset < 5 or past the segment */
	DEC_ERR_UDP_SHORT,      /* shorter than 8 bytes */
	DEC_ERR_UDP_LEN,        /* UDP length < 8 */
	DEC_ERR_ICMP_SHORT,     /* shorter than 4 bytes */
	DEC_ERR_ARP_SHORT,      /* ARP header or addresses truncated */
	DEC_ERR_ARP_FORMAT,     /* not Ethernet/IPv4 ARP (hlen 6, plen 4) */
	DEC_RESULT_MAX
};

/* Things worth counting that are not errors. */
enum dec_note {
	DEC_NOTE_IPV4_FRAGMENT = 0, /* non-first or first fragment (transport not decoded on non-first) */
	DEC_NOTE_IPV6_FRAGMENT,
	DEC_NOTE_IP_TRUNCATED,      /* IP total length larger than captured: payload clipped to capture */
	DEC_NOTE_OTHER_ETHERTYPE,   /* not IPv4/IPv6/ARP: skipped, counted */
	DEC_NOTE_OTHER_IPPROTO,     /* IP protocol other than TCP/UDP/ICMP/ICMPv6 */
	DEC_NOTE_MAX
};

const char *dec_result_str(enum dec_result r);  /* e.g. "tcp_doff": stable, for stats */
const char *dec_note_str(enum dec_note n);

/* An ARP packet (Ethernet/IPv4 only; RFC 826). */
struct arp_obs {
	uint16_t op;        /* 1 request, 2 reply (others kept as they are) */
	uint8_t sha[6];     /* sender hardware address */
	uint8_t spa[4];     /* sender protocol address */
	uint8_t tha[6];
	uint8_t tpa[4];
};

#define PKT_F_ETH (1u << 0)       /* src_mac/dst_mac valid */
#define PKT_F_IP (1u << 1)        /* src/dst/ttl/ip_proto valid */
#define PKT_F_TCP (1u << 2)
#define PKT_F_UDP (1u << 3)
#define PKT_F_ICMP (1u << 4)      /* ICMP or ICMPv6: icmp_type/icmp_code valid */
#define PKT_F_ARP (1u << 5)       /* arp valid */
#define PKT_F_FRAG (1u << 6)      /* IP fragment (first or later) */
#define PKT_F_LATER_FRAG (1u << 7) /* not the first fragment: no transport header */

/* TCP flags as on the wire. */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* One decoded frame. Everything is borrowed from the capture buffer until the packet
 * callback returns. Fields are valid only when their PKT_F_ flag is set. */
struct pkt {
	uint64_t ts_us;        /* capture time, microseconds since the epoch */
	uint32_t caplen, wirelen;
	uint32_t flags;        /* PKT_F_* */

	uint8_t src_mac[6], dst_mac[6];
	uint16_t vlan[DEC_MAX_VLAN]; /* VLAN IDs, outer first */
	uint8_t nvlan;
	uint16_t ethertype;    /* innermost */

	struct op_addr src, dst;
	uint8_t ip_ttl;        /* TTL or hop limit */
	uint8_t ip_proto;      /* transport protocol (after IPv6 extension headers) */
	uint16_t ip_id;        /* IPv4 identification */

	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint8_t icmp_type, icmp_code;

	const uint8_t *l3;     /* the IP header, l3_len bytes (to the IP length, clipped to
				* the capture), for nDPI; NULL without PKT_F_IP */
	size_t l3_len;
	const uint8_t *l4;     /* transport header start (TCP/UDP/ICMP), for checksums or ICMP bodies */
	size_t l4_len;
	const uint8_t *payload; /* transport payload (TCP/UDP data, ICMP body after 4 bytes) */
	size_t payload_len;     /* clipped to the captured bytes and to the IP/UDP lengths */

	struct arp_obs arp;
};

/* The shape of nearly every packet of bulk TCP data: untagged Ethernet II, IPv4
 * without options and not a fragment, or IPv6 with TCP as its first next header,
 * complete in the capture, TCP with a data offset inside the segment and none of SYN,
 * FIN, RST. */
struct dec_bulk {
	uint8_t family;         /* 4 or 6 */
	uint16_t sport, dport;
	uint8_t src[16], dst[16]; /* address bytes as in the header (4 used for IPv4) */
};

/* True when an Ethernet frame has that shape: then dec_packet() would return DEC_OK
 * with no notes, and these are the fields the flow lookup needs. One bounds check of
 * the fixed headers. False sends the frame to dec_packet(), which decides. The
 * sensor's fast path: a packet of a known bulk flow costs this and one lookup. */
bool dec_tcp_bulk(const uint8_t *data, size_t caplen, struct dec_bulk *k);

/* Decodes one frame of the given link type. Returns DEC_OK or the reason it stopped;
 * on an error the fields decoded so far stay valid (flags say which). notes is a
 * bitmask of (1 << DEC_NOTE_*) for the caller's counters. */
enum dec_result dec_packet(struct pkt *p, int linktype, const uint8_t *data, size_t caplen,
			   uint32_t *notes);

/* True when the link type is one dec_packet() decodes. */
bool dec_linktype_supported(int linktype);

#endif
