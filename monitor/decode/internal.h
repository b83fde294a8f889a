/* internal.h - what the link, network, transport and ARP decoders share; not for
 * callers outside monitor/decode/ (they use decode.h).
 *
 * Every dec_* layer function takes the packet being filled, the bytes its layer may
 * see as (b, len) - exactly those: the caller has clipped them to the enclosing length
 * field, and took them from its own cursor with rd_ptr() (dec_rest()), so they are
 * verified to lie in the frame - and the notes mask of the current packet (never NULL).
 * It reads them only through a cursor of its own, rd_init(b, len). A layer writes its
 * fields, sets its PKT_F_ flag only once its header is complete, and returns DEC_OK or
 * the reason it stopped.
 *
 * Why (b, len) and a local cursor rather than a pointer to the caller's cursor: the
 * arguments stay in registers, a layer that ends by handing the rest to the next one
 * does so with a jump (no frame, no cursor written to and re-read from memory), and
 * the build's -fno-strict-aliasing cannot make the compiler reload a cursor after
 * every store into *p. This runs for every packet.
 *
 * A fixed-size header is taken with ONE bounds check, h = rd_ptr(r, N), and its fields
 * are then read as h[0..N-1] through dec_be16()/dec_be32() below: indexing inside the
 * length the cursor has just verified (what tcpdump does after ND_TCHECK_LEN), never
 * pointer arithmetic and never past N. A sticky-error read per field would test err,
 * check the length and store the offset a dozen times per header, on every packet;
 * variable parts (options, extension chains, payloads) still go through the cursor.
 *
 * Which struct pkt fields dec_packet() writes (it does not clear the struct: at
 * ~60 ns per packet a memset of the whole struct would be a large part of the budget):
 *   always:           caplen, flags, nvlan, ethertype, l3, l3_len, l4, l4_len, payload,
 *                     payload_len
 *                     (l4/payload NULL and 0 unless set below; ethertype 0 when the link
 *                     carries none, e.g. 802.3/LLC without SNAP; raw IP and BSD loopback
 *                     set the implied 0x0800/0x86dd)
 *   vlan[0..nvlan):   the tags seen, outer first (at most DEC_MAX_VLAN)
 *   PKT_F_ETH:        src_mac, dst_mac (Ethernet only: Linux cooked headers carry no
 *                     destination, so they do not set it)
 *   PKT_F_IP:         src, dst, ip_ttl, ip_proto, ip_id (0 for IPv6), l3/l3_len (the IP
 *                     header to the end of the datagram, clipped to the capture)
 *   PKT_F_IP and not PKT_F_LATER_FRAG:
 *                     l4/l4_len = the IP payload after all extension headers, clipped to
 *                     the IP length and the capture, whatever the protocol
 *   PKT_F_TCP:        sport, dport, tcp_seq, tcp_ack, tcp_flags, tcp_win, payload
 *   PKT_F_UDP:        sport, dport, payload (clipped to the UDP length)
 *   PKT_F_ICMP:       icmp_type, icmp_code, payload (the body after the 4-byte header)
 *   PKT_F_ARP:        arp
 * ts_us and wirelen belong to the caller.
 */
#ifndef ONPATH_DECODE_INTERNAL_H
#define ONPATH_DECODE_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "reader.h"

#define DEC_ETHERTYPE_IPV4 0x0800
#define DEC_ETHERTYPE_ARP 0x0806
#define DEC_ETHERTYPE_IPV6 0x86dd

#define DEC_IPPROTO_ICMP 1
#define DEC_IPPROTO_TCP 6
#define DEC_IPPROTO_UDP 17
#define DEC_IPPROTO_ICMPV6 58

#define DEC_NOTE(notes, n) (*(notes) |= 1u << (n))

/* link.c: one function per link header; each ends in dec_ethertype() or goes straight
 * to the IP decoder. */
enum dec_result dec_eth(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes);
enum dec_result dec_sll(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes);
enum dec_result dec_sll2(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes);
enum dec_result dec_null(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes);
/* version: 4 or 6 when the link type fixes it, 0 to take it from the first nibble. */
enum dec_result dec_raw(struct pkt *p, const uint8_t *b, size_t len, int version,
			uint32_t *notes);
/* Walks VLAN tags and 802.3/LLC/SNAP after a link header whose type field was type,
 * then hands the frame to IPv4, IPv6 or ARP. */
enum dec_result dec_ethertype(struct pkt *p, const uint8_t *b, size_t len, uint16_t type,
			      uint32_t *notes);

/* ip.c */
enum dec_result dec_ipv4(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes);
enum dec_result dec_ipv6(struct pkt *p, const uint8_t *b, size_t len, uint32_t *notes);

/* tcp.c, udp.c: (b, len) is exactly the transport segment (p->l4, p->l4_len). */
enum dec_result dec_tcp(struct pkt *p, const uint8_t *b, size_t len);
enum dec_result dec_udp(struct pkt *p, const uint8_t *b, size_t len);
enum dec_result dec_icmp(struct pkt *p, const uint8_t *b, size_t len);

/* arp.c */
enum dec_result dec_arp(struct pkt *p, const uint8_t *b, size_t len);

/* Takes what is left in r for the next layer: returns its start and sets *len (NULL
 * and 0 after a short read: rd_left() is 0 then, and rd_init() takes NULL as empty). */
static inline const uint8_t *dec_rest(struct rd *r, size_t *len)
{
	size_t n = rd_left(r);

	*len = n;
	return rd_ptr(r, n);
}

/* Big-endian fields of a header returned by rd_ptr(r, n), for at + 2 (or 4) <= n. With a
 * constant at the compiler emits one load and a byte swap. */
static inline uint16_t dec_be16(const uint8_t *h, size_t at)
{
	return (uint16_t)((uint16_t)h[at] << 8 | h[at + 1]);
}

static inline uint32_t dec_be32(const uint8_t *h, size_t at)
{
	return (uint32_t)h[at] << 24 | (uint32_t)h[at + 1] << 16 | (uint32_t)h[at + 2] << 8 |
	       h[at + 3];
}

/* Same storage as util_addr_set4/6 (util.h: IPv4 in a[0..3], the rest zero), copied from
 * h[at..] of a verified header: two calls into util.c per packet are not free on the
 * hot path. */
static inline void dec_addr4(struct op_addr *x, const uint8_t *h, size_t at)
{
	x->family = 4;
	memcpy(x->a, &h[at], 4);
	memset(&x->a[4], 0, sizeof(x->a) - 4);
}

static inline void dec_addr6(struct op_addr *x, const uint8_t *h, size_t at)
{
	x->family = 6;
	memcpy(x->a, &h[at], 16);
}

#endif
