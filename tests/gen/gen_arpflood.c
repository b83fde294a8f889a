/* gen_arpflood.c - a capture of forged ARP replies from random IPs and MACs (the
 * "1 million forged replies" memory test of issue #6), or of steady ARP traffic.
 *
 *   gen_arpflood flood  OUT.pcap [N]   N (default 1,000,000) replies "random IP is-at
 *                                      random MAC" to 192.0.2.23, 10 us apart; every
 *                                      frame's Ethernet source is its sender MAC
 *   gen_arpflood steady OUT.pcap [N]   N frames of 4096 hosts (10.1.0.0/20, MACs
 *                                      02:00:00:01:xx:xx) resolving each other:
 *                                      request, then solicited reply; no alert expected
 *
 * Fixed seed: the same arguments always give the same bytes. onpath on the flood must
 * keep its RSS flat (bounded tables) and write one storm alert, not a million alerts.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#define START_SEC 1704067200ULL
#define DEFAULT_N 1000000UL
#define FRAME_LEN 42
#define STEADY_HOSTS 4096

static uint64_t rng = 0x6f6e70617468ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void frame(uint8_t *f, uint16_t op, const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
		  const uint8_t tpa[4], const uint8_t dst[6])
{
	memcpy(f, dst, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4;
	f[20] = 0, f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "flood") != 0 && strcmp(argv[1], "steady") != 0)) {
		fprintf(stderr, "usage: gen_arpflood flood|steady OUT.pcap [N]\n");
		return 2;
	}
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 10) : DEFAULT_N;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = p ? pcap_dump_open(p, argv[2]) : NULL;
	if (!d) {
		fprintf(stderr, "gen_arpflood: %s: %s\n", argv[2], p ? pcap_geterr(p) : "pcap_open_dead failed");
		return 1;
	}
	static const uint8_t victim[4] = { 192, 0, 2, 23 }, vmac[6] = { 2, 0, 0, 0, 0, 0x17 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
	bool flood = strcmp(argv[1], "flood") == 0;
	for (unsigned long i = 0; i < n; i++) {
		uint8_t f[FRAME_LEN];
		struct pcap_pkthdr h;
		uint64_t us = i * 10;
		h.ts.tv_sec = (time_t)(START_SEC + us / 1000000);
		h.ts.tv_usec = (suseconds_t)(us % 1000000);
		h.caplen = h.len = FRAME_LEN;
		if (flood) {
			uint64_t a = next(), b = next();
			uint8_t spa[4], sha[6];
			memcpy(spa, &a, 4);
			memcpy(sha, &b, 6);
			sha[0] = (uint8_t)((sha[0] & 0xfc) | 0x02); /* unicast, locally administered */
			frame(f, 2, sha, spa, vmac, victim, vmac);
		} else {
			unsigned long hst = (i / 2) % STEADY_HOSTS, peer = (hst * 7 + 1) % STEADY_HOSTS;
			uint8_t hip[4] = { 10, 1, (uint8_t)(hst >> 8), (uint8_t)hst };
			uint8_t pip[4] = { 10, 1, (uint8_t)(peer >> 8), (uint8_t)peer };
			uint8_t hm[6] = { 2, 0, 0, 1, (uint8_t)(hst >> 8), (uint8_t)hst };
			uint8_t pm[6] = { 2, 0, 0, 1, (uint8_t)(peer >> 8), (uint8_t)peer };
			if (i % 2 == 0)
				frame(f, 1, hm, hip, zero, pip, bcast);
			else
				frame(f, 2, pm, pip, hm, hip, hm);
		}
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
