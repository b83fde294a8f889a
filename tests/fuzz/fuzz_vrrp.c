#include "config.h"

/* fuzz_vrrp.c - fuzz target for the VRRP decoder (monitor/decode/vrrp.c).
 * Input: byte 0 picks the IP header the decoder sees (bit 0: IPv6 instead of IPv4,
 * bit 1: TTL 64 instead of 255, bit 2: a unicast destination); the rest is the VRRP
 * message. The replay driver's --pcap mode decodes each corpus frame and hands IP
 * protocol 112 to the decoder as the sensor does. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/vrrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len);

/* The promises vrrp.h makes; a broken one aborts, which the fuzzer reports. */
static void check(const struct vrrp_msg *m, int e)
{
	if (e < 0 || e >= VRRP_ERR_MAX || !dec_vrrp_strerror(e))
		abort();
	if (m->naddrs > VRRP_MAX_ADDRS)
		abort();
	if (e == VRRP_OK &&
	    ((m->version != 2 && m->version != 3) || m->type != VRRP_TYPE_ADVERT || m->count == 0 ||
	     m->naddrs == 0 || m->naddrs > m->count || (m->family != 4 && m->family != 6) ||
	     (m->version == 2 && m->family != 4) || (m->version == 3 && m->auth_type != 0)))
		abort();
}

static void run(const struct pkt *p)
{
	struct vrrp_msg m;
	/* Garbage, as in a reused struct: dec_vrrp() must reset what it reports. */
	memset(&m, 0xa5, sizeof(m));
	int e = dec_vrrp(p, &m);
	check(&m, e);
}

int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len)
{
	struct pkt p;
	uint32_t notes = 0;
	if (dec_packet(&p, linktype, data, len, &notes) != DEC_OK)
		return 0;
	if ((p.flags & (PKT_F_IP | PKT_F_LATER_FRAG)) == PKT_F_IP && p.ip_proto == VRRP_IPPROTO)
		run(&p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t src4[4] = { 192, 0, 2, 1 }, grp4[4] = { 224, 0, 0, 18 }, uni4[4] = { 192, 0, 2, 9 };
	static const uint8_t src6[16] = { 0xfe, 0x80, [15] = 1 }, grp6[16] = { 0xff, 0x02, [15] = 0x12 },
			     uni6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	struct pkt p;
	if (size < 1)
		return 0;
	memset(&p, 0, sizeof(p));
	p.flags = PKT_F_ETH | PKT_F_IP;
	p.ip_proto = VRRP_IPPROTO;
	p.ip_ttl = data[0] & 2 ? 64 : 255;
	if (data[0] & 1) {
		util_addr_set6(&p.src, src6);
		util_addr_set6(&p.dst, data[0] & 4 ? uni6 : grp6);
	} else {
		util_addr_set4(&p.src, src4);
		util_addr_set4(&p.dst, data[0] & 4 ? uni4 : grp4);
	}
	/* A copy of the exact size, so ASan sees a read past the end. */
	uint8_t *b = size > 1 ? malloc(size - 1) : NULL;
	if (b)
		memcpy(b, data + 1, size - 1);
	p.l4 = b;
	p.l4_len = b ? size - 1 : 0;
	run(&p);
	free(b);
	return 0;
}
