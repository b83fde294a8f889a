#include "config.h"

/* tcp.c - the TCP header (RFC 9293 3.1): ports, sequence numbers, flags, window, and
 * the segment data after the options. */

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "internal.h"
#include "reader.h"

#define TCP_MIN_HLEN 20

enum dec_result dec_tcp(struct pkt *p, const uint8_t *b, size_t len)
{
	struct rd r = rd_init(b, len);
	size_t seg = rd_left(&r);
	const uint8_t *h = rd_ptr(&r, TCP_MIN_HLEN);
	if (!h)
		return DEC_ERR_TCP_SHORT;
	p->sport = dec_be16(h, 0);
	p->dport = dec_be16(h, 2);
	p->tcp_seq = dec_be32(h, 4);
	p->tcp_ack = dec_be32(h, 8);
	size_t hlen = (size_t)(h[12] >> 4) * 4;
	p->tcp_flags = h[13];
	p->tcp_win = dec_be16(h, 14);
	/* A data offset inside the fixed header, or past the segment, is dropped by the
	 * receiver (RFC 9293 3.10.7.4 needs a header it can read); data taken from a
	 * wrong offset would feed reassembly bytes the peer never accepted. */
	if (hlen < TCP_MIN_HLEN || hlen > seg)
		return DEC_ERR_TCP_DOFF;
	rd_skip(&r, hlen - TCP_MIN_HLEN); /* options */
	size_t n = seg - hlen;
	p->payload_len = n;
	p->payload = rd_ptr(&r, n);
	p->flags |= PKT_F_TCP;
	return DEC_OK;
}
