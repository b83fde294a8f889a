/* gen_synflood.c - writes a TCP SYN flood capture for the memory benchmark.
 *
 *   gen_synflood OUT.pcap [N]      N packets, 1,000,000 by default
 *
 * Every packet is an Ethernet/IPv4 TCP SYN (RFC 9293) to 203.0.113.10:443 from a
 * source drawn at random from 198.51.100.1-254 x ports 1024-65535, without
 * repetition, so each packet opens a flow the sensor has never seen: the worst case
 * for its flow table, which must evict instead of growing. The sources are spoofed
 * and arrive through the router, as a real flood does, so the Ethernet source is the
 * router's MAC. Timestamps start at 2024-01-01T00:00:00Z and advance 1 us a packet.
 * The seed is fixed: the same N always gives the same file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 1000000UL
#define SRC_HOSTS 254UL                 /* 198.51.100.1 .. .254 */
#define SRC_PORT_MIN 1024UL
#define SRC_PORTS (65536UL - SRC_PORT_MIN)
#define SRC_SPACE (SRC_HOSTS * SRC_PORTS) /* distinct (address, port) pairs */
#define FRAME_LEN 60                    /* Ethernet minimum without FCS: 58 + 2 padding */
#define START_SEC 1704067200            /* 2024-01-01T00:00:00Z */
#define SEED 0x6f6e70617468ULL          /* "onpath" */

#include "gen.h"

int main(int argc, char **argv)
{
	static const uint8_t router_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
	static const uint8_t server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x03, 0x0a };
	static const uint8_t dst_ip[4] = { 203, 0, 113, 10 };
	unsigned long n = DEFAULT_N;
	char *end;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen_synflood OUT.pcap [N]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		n = strtoul(argv[2], &end, 10);
		if (errno || *argv[2] == '\0' || *end != '\0' || n == 0 || n > SRC_SPACE) {
			fprintf(stderr, "gen_synflood: N must be a number from 1 to %lu, not '%s'\n",
				SRC_SPACE, argv[2]);
			return 2;
		}
	}

	/* One bit per (address, port) pair already used: 2 MB for the whole space. */
	uint8_t *used = calloc(SRC_SPACE / 8 + 1, 1);
	if (!used) {
		fprintf(stderr, "gen_synflood: out of memory\n");
		return 1;
	}
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!dead) {
		fprintf(stderr, "gen_synflood: pcap_open_dead failed\n");
		return 1;
	}
	pcap_dumper_t *out = pcap_dump_open(dead, argv[1]);
	if (!out) {
		fprintf(stderr, "gen_synflood: %s\n", pcap_geterr(dead));
		return 1;
	}

	uint8_t f[FRAME_LEN];
	memset(f, 0, sizeof(f));
	memcpy(f, server_mac, 6);
	memcpy(f + 6, router_mac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 24);
	ip[6] = 0x40; /* DF */
	ip[9] = 6;
	ip[12] = 198;
	ip[13] = 51;
	ip[14] = 100;
	memcpy(ip + 16, dst_ip, 4);
	put16(tcp + 2, 443);
	tcp[12] = 6 << 4; /* data offset: 24 bytes */
	tcp[13] = 0x02;   /* SYN */
	put16(tcp + 14, 64240);
	tcp[20] = 2; /* MSS option, 1460 */
	tcp[21] = 4;
	put16(tcp + 22, 1460);

	struct pcap_pkthdr h;
	h.caplen = h.len = FRAME_LEN;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t pick;
		/* Redraws are rare while n is small against the space; a full space (n equal
		 * to SRC_SPACE) still ends, because a free pair is always left. */
		do
			pick = rnd() % SRC_SPACE;
		while (used[pick / 8] & (1u << (pick % 8)));
		used[pick / 8] |= (uint8_t)(1u << (pick % 8));
		uint64_t r = rnd();

		ip[15] = (uint8_t)(1 + pick / SRC_PORTS);
		put16(tcp, (uint32_t)(SRC_PORT_MIN + pick % SRC_PORTS));
		put16(ip + 4, (uint32_t)(r & 0xffff));        /* IP ID */
		ip[8] = (uint8_t)(48 + (r >> 16) % 17);        /* TTL 48..64: many "hosts" */
		put32(tcp + 4, (uint32_t)(r >> 32));           /* ISN */
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

		/* TCP checksum over the pseudo-header (RFC 9293 3.1) and the segment. */
		uint32_t sum = csum_add(0, ip + 12, 8) + 6 + 24;
		put16(tcp + 16, 0);
		put16(tcp + 16, csum_fold(csum_add(sum, tcp, 24)));

		h.ts.tv_sec = START_SEC + (time_t)(i / 1000000);
		h.ts.tv_usec = (suseconds_t)(i % 1000000);
		pcap_dump((u_char *)out, &h, f);
	}

	int rc = 0;
	if (pcap_dump_flush(out) != 0 || ferror(pcap_dump_file(out))) {
		fprintf(stderr, "gen_synflood: %s: write error\n", argv[1]);
		rc = 1;
	}
	pcap_dump_close(out);
	pcap_close(dead);
	free(used);
	return rc;
}
