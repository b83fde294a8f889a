#include "config.h"

/* udp.c - UDP (RFC 768) and the fixed part of ICMP (RFC 792) and ICMPv6 (RFC 4443 2.1):
 * type and code; the body (NDP, errors quoting an inner header) is left to its parser. */

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "internal.h"
#include "reader.h"

#define UDP_HLEN 8
#define ICMP_HLEN 4

enum dec_result dec_udp(struct pkt *p, const uint8_t *b, size_t len)
{
	struct rd r = rd_init(b, len);
	size_t avail = rd_left(&r);
	const uint8_t *h = rd_ptr(&r, UDP_HLEN);
	if (!h)
		return DEC_ERR_UDP_SHORT;
	p->sport = dec_be16(h, 0);
	p->dport = dec_be16(h, 2);
	size_t ulen = dec_be16(h, 4);
	/* A length below the header cannot be honoured (RFC 768: it counts the header);
	 * receivers drop it, so it must not reach the DNS or DHCP parsers either. */
	if (ulen < UDP_HLEN)
		return DEC_ERR_UDP_LEN;
	/* The UDP length ends the datagram inside the IP payload; bytes beyond it are not
	 * part of the message. Fewer bytes than it claims: give what was captured. */
	size_t n = ulen - UDP_HLEN;
	if (n > avail - UDP_HLEN)
		n = avail - UDP_HLEN;
	p->payload = rd_ptr(&r, n);
	p->payload_len = n;
	p->l4_len = UDP_HLEN + n;
	p->flags |= PKT_F_UDP;
	return DEC_OK;
}

enum dec_result dec_icmp(struct pkt *p, const uint8_t *b, size_t len)
{
	struct rd r = rd_init(b, len);
	size_t avail = rd_left(&r);
	const uint8_t *h = rd_ptr(&r, ICMP_HLEN);
	if (!h)
		return DEC_ERR_ICMP_SHORT;
	p->icmp_type = h[0];
	p->icmp_code = h[1];
	p->payload_len = avail - ICMP_HLEN;
	p->payload = rd_ptr(&r, p->payload_len);
	p->flags |= PKT_F_ICMP;
	return DEC_OK;
}
