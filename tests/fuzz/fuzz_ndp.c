#include "config.h"

/* fuzz_ndp.c - fuzz target for the Neighbor Discovery decoder (monitor/decode/ndp.c).
 * Input: byte 0 picks the ICMPv6 type (133 + b % 5) and byte 1 the IPv6 header the
 * decoder sees (bit 0: hop limit 64 instead of 255, bit 1: global instead of link-local
 * source, bit 2: unspecified source, bit 3: ICMP code 1); the rest is the ICMPv6 body
 * after the 4-byte header. The replay driver's --pcap mode decodes each corpus frame
 * and hands the ICMPv6 ND messages to the decoder as the sensor does. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/ndp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len);

/* The promises ndp.h makes; a broken one aborts, which the fuzzer reports. */
static void check(const struct ndp_msg *m, int e)
{
	if (e < 0 || e >= NDP_ERR_MAX || !dec_ndp_strerror(e))
		abort();
	if (m->nprefixes > NDP_MAX_PREFIXES || m->nroutes > NDP_MAX_ROUTES || m->nrdnss > NDP_MAX_RDNSS)
		abort();
	if (m->dnssl_len >= NDP_MAX_DNSSL || (m->dnssl_len && m->dnssl[m->dnssl_len] != '\0'))
		abort();
	if (m->noptions > NDP_MAX_OPTIONS)
		abort();
	if (e == NDP_OK && (m->type < NDP_RS || m->type > NDP_REDIRECT))
		abort();
}

static void run(const struct pkt *p)
{
	struct ndp_msg m;
	/* Garbage, as in a reused struct: dec_ndp() must reset what it reports. */
	memset(&m, 0xa5, sizeof(m));
	int e = dec_ndp(p, &m);
	check(&m, e);
}

int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len)
{
	struct pkt p;
	uint32_t notes = 0;
	if (dec_packet(&p, linktype, data, len, &notes) != DEC_OK)
		return 0;
	if ((p.flags & PKT_F_ICMP) && p.ip_proto == 58 && p.icmp_type >= NDP_RS &&
	    p.icmp_type <= NDP_REDIRECT)
		run(&p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 1 }, global[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
			     unspec[16], dst[16] = { 0xff, 0x02, [15] = 1 };
	struct pkt p;
	if (size < 2)
		return 0;
	memset(&p, 0, sizeof(p));
	p.flags = PKT_F_ETH | PKT_F_IP | PKT_F_ICMP;
	p.ip_proto = 58;
	p.icmp_type = (uint8_t)(NDP_RS + data[0] % 5);
	p.ip_ttl = data[1] & 1 ? 64 : 255;
	util_addr_set6(&p.src, data[1] & 4 ? unspec : data[1] & 2 ? global : ll);
	util_addr_set6(&p.dst, dst);
	p.icmp_code = data[1] & 8 ? 1 : 0;
	p.payload = size > 2 ? data + 2 : NULL;
	p.payload_len = size - 2;
	run(&p);
	return 0;
}
