#include "config.h"

/* fuzz_dhcp.c - fuzz target for the DHCPv4/DHCPv6 decoder (monitor/decode/dhcp.c).
 * Input: byte 0 picks the transport the decoder sees (bit 0: IPv6 and ports 547->546,
 * else IPv4 and 67->68; bit 1: swap the ports); the rest is the UDP payload. The
 * replay driver's --pcap mode decodes each corpus frame and hands the UDP payloads on
 * DHCP ports to the decoder as the sensor does. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len);

static void check(const struct dhcp_msg *m, int e)
{
	if (e < 0 || e >= DHCP_ERR_MAX || !dec_dhcp_strerror(e))
		abort();
	if (m->nrouters > DHCP_MAX_ROUTERS || m->ndns > DHCP_MAX_DNS || m->naddrs > DHCP_MAX_ADDRS ||
	    m->client_id_len > DHCP_MAX_ID || m->server_duid_len > DHCP_MAX_ID ||
	    m->relay_hops > DHCP6_MAX_RELAY + (m->version == 4 ? 255 : 0))
		abort();
	if (e == DHCP_OK && m->version != 4 && m->version != 6)
		abort();
	for (size_t i = 0; i < m->ndns; i++)
		if (m->dns[i].family != m->version)
			abort();
}

static void run(const struct pkt *p)
{
	struct dhcp_msg m;
	/* Garbage, as in a reused struct: dec_dhcp() must reset what it reports. */
	memset(&m, 0xa5, sizeof(m));
	int e = dec_dhcp(p, &m);
	check(&m, e);
}

int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len)
{
	struct pkt p;
	uint32_t notes = 0;
	if (dec_packet(&p, linktype, data, len, &notes) != DEC_OK || !(p.flags & PKT_F_UDP))
		return 0;
	static const uint16_t ports[] = { 67, 68, 546, 547 };
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (p.sport == ports[i] || p.dport == ports[i]) {
			run(&p);
			break;
		}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t s4[4] = { 192, 0, 2, 67 }, d4[4] = { 255, 255, 255, 255 };
	static const uint8_t s6[16] = { 0xfe, 0x80, [15] = 1 }, d6[16] = { 0xfe, 0x80, [15] = 2 };
	struct pkt p;
	if (size < 1)
		return 0;
	memset(&p, 0, sizeof(p));
	p.flags = PKT_F_ETH | PKT_F_IP | PKT_F_UDP;
	p.ip_proto = 17;
	bool v6 = data[0] & 1, swap = data[0] & 2;
	if (v6) {
		util_addr_set6(&p.src, s6);
		util_addr_set6(&p.dst, d6);
	} else {
		util_addr_set4(&p.src, s4);
		util_addr_set4(&p.dst, d4);
	}
	uint16_t a = v6 ? 547 : 67, b = v6 ? 546 : 68;
	p.sport = swap ? b : a;
	p.dport = swap ? a : b;
	p.payload = size > 1 ? data + 1 : NULL;
	p.payload_len = size - 1;
	run(&p);
	return 0;
}
