#include "config.h"

/* fuzz_decode.c - fuzz target for the link, IP, transport and ARP decoders
 * (monitor/decode/). Input: one byte choosing the link type, then the frame. The replay
 * driver's --pcap mode calls onpath_fuzz_pcap_record() instead, with each capture's own
 * link type, so every corpus frame is decoded as the sensor would see it. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len);

/* Seeds in seeds/decode/ name their link by index into this table; append only. The
 * last entry is a link type we do not decode. */
static const int links[] = {
	DEC_LINK_EN10MB, DEC_LINK_LINUX_SLL, DEC_LINK_LINUX_SLL2, DEC_LINK_NULL,
	DEC_LINK_RAW, DEC_LINK_DLT_RAW, DEC_LINK_DLT_RAW14, DEC_LINK_IPV4,
	DEC_LINK_IPV6, 105 /* IEEE 802.11 */,
};

static int inside(const uint8_t *q, size_t n, const uint8_t *base, size_t len)
{
	uintptr_t a = (uintptr_t)q, b = (uintptr_t)base;
	return a >= b && a - b <= len && n <= len - (a - b);
}

/* Reads every byte the decoder says it borrowed (ASan then reports a pointer or length
 * past the input) and checks the promises decode.h makes; a broken one aborts, which
 * the fuzzer reports like a crash. */
static void check(const struct pkt *p, enum dec_result res, uint32_t notes, const uint8_t *data,
		  size_t len)
{
	volatile uint8_t sink = 0;
	uint32_t l4flags = p->flags & (PKT_F_TCP | PKT_F_UDP | PKT_F_ICMP);

	if ((unsigned)res >= DEC_RESULT_MAX || !dec_result_str(res))
		abort();
	if (notes >> DEC_NOTE_MAX)
		abort();
	if (p->nvlan > DEC_MAX_VLAN)
		abort();
	if (l4flags & (l4flags - 1))
		abort(); /* at most one transport */
	if (l4flags && (!(p->flags & PKT_F_IP) || (p->flags & PKT_F_LATER_FRAG)))
		abort();
	if ((p->flags & PKT_F_LATER_FRAG) && !(p->flags & PKT_F_FRAG))
		abort();
	if ((p->flags & PKT_F_ARP) && (p->flags & PKT_F_IP))
		abort();
	if ((p->flags & PKT_F_IP) && p->src.family != 4 && p->src.family != 6)
		abort();
	if (l4flags && res != DEC_OK)
		abort();
	if (p->l4) {
		if (!inside(p->l4, p->l4_len, data, len))
			abort();
		for (size_t i = 0; i < p->l4_len; i++)
			sink ^= p->l4[i];
	} else if (p->l4_len) {
		abort();
	}
	if (p->payload) {
		if (!p->l4 || !inside(p->payload, p->payload_len, p->l4, p->l4_len))
			abort();
		for (size_t i = 0; i < p->payload_len; i++)
			sink ^= p->payload[i];
	} else if (p->payload_len || l4flags) {
		abort();
	}
	(void)sink;
}

static void run(int linktype, const uint8_t *data, size_t len)
{
	struct pkt p;
	uint32_t notes = 0xdeadbeef;

	/* Garbage, as in a reused struct: dec_packet() resets only what it must. */
	memset(&p, 0xa5, sizeof(p));
	enum dec_result res = dec_packet(&p, linktype, data, len, &notes);
	check(&p, res, notes, data, len);
	if (res == DEC_ERR_LINKTYPE && dec_linktype_supported(linktype))
		abort();
	/* The sensor's fast path may only take what dec_packet() decodes as a complete
	 * TCP packet without notes, tags or SYN/FIN/RST, with the same endpoints. */
	struct dec_bulk k;
	if (linktype == DEC_LINK_EN10MB && dec_tcp_bulk(data, len, &k)) {
		size_t alen = k.family == 4 ? 4 : 16;
		if (res != DEC_OK || notes || p.nvlan || !(p.flags & PKT_F_TCP) ||
		    (p.flags & PKT_F_FRAG) || (p.tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) ||
		    p.src.family != k.family || memcmp(p.src.a, k.src, alen) != 0 ||
		    memcmp(p.dst.a, k.dst, alen) != 0 || p.sport != k.sport || p.dport != k.dport)
			abort();
	}
}

int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len)
{
	run(linktype, data, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	run(links[data[0] % (sizeof(links) / sizeof(links[0]))], data + 1, size - 1);
	return 0;
}
