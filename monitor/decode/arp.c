#include "config.h"

/* arp.c - ARP for IPv4 over Ethernet (RFC 826; hardware type 6 per RFC 1042 / 1390). */

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "internal.h"
#include "reader.h"

#define ARP_FIXED_LEN 8
#define ARP_ADDRS_LEN 20 /* sha 6, spa 4, tha 6, tpa 4 */
#define ARP_HRD_ETHER 1
#define ARP_HRD_IEEE802 6
#define ARP_PRO_IP 0x0800

enum dec_result dec_arp(struct pkt *p, const uint8_t *b, size_t len)
{
	struct rd r = rd_init(b, len);
	const uint8_t *h = rd_ptr(&r, ARP_FIXED_LEN);
	if (!h)
		return DEC_ERR_ARP_SHORT;
	uint16_t hrd = dec_be16(h, 0);
	uint16_t pro = dec_be16(h, 2);
	uint8_t hln = h[4];
	uint8_t pln = h[5];
	uint16_t op = dec_be16(h, 6);
	/* Hardware type 6 (IEEE 802) is what RFC 1042 SNAP ARP carries, and Linux takes
	 * it on Ethernet like type 1 (net/ipv4/arp.c arp_process()): skipping it
	 * would let a poisoner update Linux caches unseen. The address lengths are fixed
	 * by those types; any other pair would misplace every address after it. */
	if ((hrd != ARP_HRD_ETHER && hrd != ARP_HRD_IEEE802) || pro != ARP_PRO_IP || hln != 6 ||
	    pln != 4)
		return DEC_ERR_ARP_FORMAT;
	if (rd_left(&r) < ARP_ADDRS_LEN)
		return DEC_ERR_ARP_SHORT;
	struct rd a = rd_sub(&r, ARP_ADDRS_LEN);
	p->arp.op = op;
	rd_bytes(&a, p->arp.sha, 6);
	rd_bytes(&a, p->arp.spa, 4);
	rd_bytes(&a, p->arp.tha, 6);
	rd_bytes(&a, p->arp.tpa, 4);
	p->flags |= PKT_F_ARP;
	return DEC_OK;
}
