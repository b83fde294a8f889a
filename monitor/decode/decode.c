#include "config.h"

/* decode.c - dispatch of one captured frame by libpcap link type, and the stable
 * names of the results and notes used as stats counter keys. */

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "internal.h"
#include "reader.h"

static const char *const result_names[DEC_RESULT_MAX] = {
	[DEC_OK] = "ok",
	[DEC_ERR_LINKTYPE] = "linktype",
	[DEC_ERR_ETH_SHORT] = "eth_short",
	[DEC_ERR_VLAN_SHORT] = "vlan_short",
	[DEC_ERR_VLAN_DEPTH] = "vlan_depth",
	[DEC_ERR_SLL_SHORT] = "sll_short",
	[DEC_ERR_NULL_SHORT] = "null_short",
	[DEC_ERR_IP_VERSION] = "ip_version",
	[DEC_ERR_IPV4_SHORT] = "ipv4_short",
	[DEC_ERR_IPV4_IHL] = "ipv4_ihl",
	[DEC_ERR_IPV4_LEN] = "ipv4_len",
	[DEC_ERR_IPV6_SHORT] = "ipv6_short",
	[DEC_ERR_IPV6_EXT] = "ipv6_ext",
	[DEC_ERR_TCP_SHORT] = "tcp_short",
	[DEC_ERR_TCP_DOFF] = "tcp_doff",
	[DEC_ERR_UDP_SHORT] = "udp_short",
	[DEC_ERR_UDP_LEN] = "udp_len",
	[DEC_ERR_ICMP_SHORT] = "icmp_short",
	[DEC_ERR_ARP_SHORT] = "arp_short",
	[DEC_ERR_ARP_FORMAT] = "arp_format",
};

static const char *const note_names[DEC_NOTE_MAX] = {
	[DEC_NOTE_IPV4_FRAGMENT] = "ipv4_fragment",
	[DEC_NOTE_IPV6_FRAGMENT] = "ipv6_fragment",
	[DEC_NOTE_IP_TRUNCATED] = "ip_truncated",
	[DEC_NOTE_OTHER_ETHERTYPE] = "other_ethertype",
	[DEC_NOTE_OTHER_IPPROTO] = "other_ipproto",
};

/* A value added to the enum without a name here would print as "unknown" in the
 * stats; the unit test checks every value has its own name. */
const char *dec_result_str(enum dec_result r)
{
	if ((unsigned)r >= DEC_RESULT_MAX || !result_names[r])
		return "unknown";
	return result_names[r];
}

const char *dec_note_str(enum dec_note n)
{
	if ((unsigned)n >= DEC_NOTE_MAX || !note_names[n])
		return "unknown";
	return note_names[n];
}

bool dec_linktype_supported(int linktype)
{
	switch (linktype) {
	case DEC_LINK_NULL:
	case DEC_LINK_EN10MB:
	case DEC_LINK_RAW:
	case DEC_LINK_DLT_RAW:
	case DEC_LINK_DLT_RAW14:
	case DEC_LINK_LINUX_SLL:
	case DEC_LINK_IPV4:
	case DEC_LINK_IPV6:
	case DEC_LINK_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

/* Every link type but Ethernet: out of line, so the Ethernet path stays short. */
static enum dec_result __attribute__((noinline))
other_link(struct pkt *p, int linktype, const uint8_t *b, size_t len, uint32_t *notes)
{
	switch (linktype) {
	case DEC_LINK_LINUX_SLL:
		return dec_sll(p, b, len, notes);
	case DEC_LINK_LINUX_SLL2:
		return dec_sll2(p, b, len, notes);
	case DEC_LINK_NULL:
		return dec_null(p, b, len, notes);
	case DEC_LINK_RAW:
	case DEC_LINK_DLT_RAW:
	case DEC_LINK_DLT_RAW14:
		return dec_raw(p, b, len, 0, notes);
	case DEC_LINK_IPV4:
		return dec_raw(p, b, len, 4, notes);
	case DEC_LINK_IPV6:
		return dec_raw(p, b, len, 6, notes);
	default:
		return DEC_ERR_LINKTYPE;
	}
}

/* The TCP part of dec_tcp_bulk(): th is the fixed header (20 bytes verified), seg the
 * segment length the IP header gives. */
static inline bool bulk_tcp(const uint8_t *th, size_t seg, struct dec_bulk *k)
{
	size_t thlen = (size_t)(th[12] >> 4) * 4;

	if (thlen < 20 || thlen > seg || (th[13] & (TCP_SYN | TCP_FIN | TCP_RST)))
		return false;
	k->sport = dec_be16(th, 0);
	k->dport = dec_be16(th, 2);
	return true;
}

bool dec_tcp_bulk(const uint8_t *data, size_t caplen, struct dec_bulk *k)
{
	enum { ETH = 14, IP4 = 20, IP6 = 40, TCP = 20 };
	struct rd r = rd_init(data, caplen);
	const uint8_t *h = rd_ptr(&r, ETH + IP4 + TCP);
	size_t len;

	/* The checks of dec_eth, dec_ipv4/dec_ipv6 and dec_tcp for this shape, in that
	 * order; anything else (tags, options, extension headers, fragments, a cut
	 * capture, SYN/FIN/RST, errors) is dec_packet()'s. */
	if (!h)
		return false;
	if (dec_be16(h, 12) == DEC_ETHERTYPE_IPV4) {
		if (h[ETH] != 0x45)
			return false; /* not version 4, or options */
		len = dec_be16(h, ETH + 2);
		if (len < IP4 + TCP || len > caplen - ETH)
			return false;
		/* MF or a fragment offset (RFC 791 3.1); not TCP */
		if ((dec_be16(h, ETH + 6) & 0x3fff) != 0 || h[ETH + 9] != DEC_IPPROTO_TCP)
			return false;
		k->family = 4;
		memcpy(k->src, &h[ETH + 12], 4);
		memcpy(k->dst, &h[ETH + 16], 4);
		return bulk_tcp(&h[ETH + IP4], len - IP4, k);
	}
	if (dec_be16(h, 12) != DEC_ETHERTYPE_IPV6)
		return false;
	r = rd_init(data, caplen);
	h = rd_ptr(&r, ETH + IP6 + TCP);
	if (!h || h[ETH] >> 4 != 6 || h[ETH + 6] != DEC_IPPROTO_TCP)
		return false;
	len = dec_be16(h, ETH + 4); /* the payload length */
	if (len < TCP || len > caplen - ETH - IP6)
		return false;
	k->family = 6;
	memcpy(k->src, &h[ETH + 8], 16);
	memcpy(k->dst, &h[ETH + 24], 16);
	return bulk_tcp(&h[ETH + IP6], len, k);
}

enum dec_result dec_packet(struct pkt *p, int linktype, const uint8_t *data, size_t caplen,
			   uint32_t *notes)
{
	/* The layers OR their notes straight into the caller's mask; a caller that wants
	 * none still needs one to write to. */
	if (__builtin_expect(!notes, 0)) {
		uint32_t ignored;
		return dec_packet(p, linktype, data, caplen, &ignored);
	}
	/* Only what every layer relies on being reset; the rest is valid per flag
	 * (internal.h), so a reused struct pkt costs no memset. */
	p->caplen = caplen > UINT32_MAX ? UINT32_MAX : (uint32_t)caplen;
	p->flags = 0;
	p->nvlan = 0;
	p->ethertype = 0;
	p->l3 = NULL;
	p->l3_len = 0;
	p->l4 = NULL;
	p->l4_len = 0;
	p->payload = NULL;
	p->payload_len = 0;
	*notes = 0;

	/* The frame goes to the link decoder as (data, caplen), which reads it through
	 * its own cursor (internal.h). */
	if (linktype == DEC_LINK_EN10MB)
		return dec_eth(p, data, caplen, notes);
	return other_link(p, linktype, data, caplen, notes);
}
