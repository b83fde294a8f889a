/* gen_dnsflood.c - writes a random-subdomain DNS capture for the memory and speed
 * benchmarks of the DNS parser and detectors.
 *
 *   gen_dnsflood [-b] [-p] OUT.pcap [N]      N distinct names, 1,000,000 by default
 *
 * A recursive resolver 192.0.2.53 (02:00:00:00:00:35) asks the authoritative server
 * 198.51.100.1 for N distinct names "<16 random letters>.victim.example.net", each from
 * its own random source port with a random ID (RFC 5452), and the server answers
 * through the router (02:00:00:00:01:01, IP TTL 57). This is the Kaminsky cache-poisoning
 * setting: for every query an attacker on the LAN (02:00:00:00:00:66, IP TTL 64) sprays
 * one forged answer with a guessed (wrong) ID at the query's port, spoofing the
 * server's address, before the real answer arrives. Per name: query, forged answer,
 * real answer (3 packets); with -b (benign) no forged answers (2 packets).
 * Answers carry 203.0.113.x, or with -p a public address (45.0.0.0/8, so the per-name
 * ASN/network history table is exercised too).
 *
 * Every name is new, so every query opens a transaction and every answer a name
 * history: the worst case for the detectors' tables, which must evict, not grow. The
 * sensor should report one txid_flood (aggregated), and nothing with -b.
 * Timestamps start at 2024-01-01T00:00:00Z, one name every 2 us. Fixed seed: the same
 * arguments always give the same file.
 */
#include "config.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 1000000UL
#define MAX_N 100000000UL
#define START_SEC 1704067200 /* 2024-01-01T00:00:00Z */
#define STEP_US 2            /* one name every 2 us */
#define SEED 0x646e73666c6f6f64ULL /* "dnsflood" */

#include "gen.h"
#define LABEL_LEN 16
#define ZONE "victim.example.net"
#define MAX_FRAME 256

struct ends {
	const uint8_t *smac, *dmac, *sip, *dip;
	uint16_t sport, dport;
	uint8_t ttl;
};

/* Ethernet/IPv4/UDP around a DNS message of len bytes; returns the frame length. */
static size_t frame(uint8_t *f, const struct ends *e, const uint8_t *dns, size_t len, uint16_t ipid)
{
	memcpy(f, e->dmac, 6);
	memcpy(f + 6, e->smac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *udp = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint32_t)(20 + 8 + len));
	put16(ip + 4, ipid);
	ip[8] = e->ttl;
	ip[9] = 17;
	memcpy(ip + 12, e->sip, 4);
	memcpy(ip + 16, e->dip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(udp, e->sport);
	put16(udp + 2, e->dport);
	put16(udp + 4, (uint32_t)(8 + len));
	put16(udp + 6, 0);
	memcpy(udp + 8, dns, len);
	uint32_t sum = csum_add(0, ip + 12, 8) + 17 + (uint32_t)(8 + len);
	sum = csum_add(sum, udp, 8 + len);
	uint16_t c = csum_fold(sum);
	put16(udp + 6, c ? c : 0xffff);
	size_t n = 14 + 20 + 8 + len;
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

/* A query (qr = 0) or an answer with one A record (qr = 1) for name. */
static size_t dns(uint8_t *b, uint16_t id, int qr, const char *label, const uint8_t addr[4])
{
	size_t n = 0;
	put16(b, id);
	put16(b + 2, qr ? 0x8400 : 0x0000); /* answer: QR AA; query: no RD (iterative) */
	put16(b + 4, 1);
	put16(b + 6, qr ? 1 : 0);
	put16(b + 8, 0);
	put16(b + 10, 0);
	n = 12;
	b[n++] = LABEL_LEN;
	memcpy(b + n, label, LABEL_LEN);
	n += LABEL_LEN;
	static const char zone[] = "\006victim\007example\003net";
	memcpy(b + n, zone, sizeof(zone)); /* includes the root byte */
	n += sizeof(zone);
	put16(b + n, 1);
	put16(b + n + 2, 1);
	n += 4;
	if (qr) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4 };
		memcpy(b + n, rr, sizeof(rr));
		n += sizeof(rr);
		memcpy(b + n, addr, 4);
		n += 4;
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: gen_dnsflood [-b] [-p] OUT.pcap [N]\n"
			"  -b  benign: no forged answers\n"
			"  -p  answers with public addresses (45.0.0.0/8) instead of 203.0.113.0/24\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const uint8_t resolver_mac[6] = { 0x02, 0, 0, 0, 0, 0x35 };
	static const uint8_t router_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
	static const uint8_t evil_mac[6] = { 0x02, 0, 0, 0, 0, 0x66 };
	static const uint8_t resolver_ip[4] = { 192, 0, 2, 53 };
	static const uint8_t server_ip[4] = { 198, 51, 100, 1 };
	int benign = 0, public = 0, a = 1;
	unsigned long n = DEFAULT_N;
	char *end;

	for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
		if (strcmp(argv[a], "-b") == 0)
			benign = 1;
		else if (strcmp(argv[a], "-p") == 0)
			public = 1;
		else
			usage();
	}
	if (argc - a < 1 || argc - a > 2)
		usage();
	const char *out_path = argv[a];
	if (argc - a == 2) {
		errno = 0;
		n = strtoul(argv[a + 1], &end, 10);
		if (errno || *argv[a + 1] == '\0' || *end != '\0' || n == 0 || n > MAX_N) {
			fprintf(stderr, "gen_dnsflood: N must be a number from 1 to %lu, not '%s'\n", MAX_N,
				argv[a + 1]);
			return 2;
		}
	}

	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!dead) {
		fprintf(stderr, "gen_dnsflood: pcap_open_dead failed\n");
		return 1;
	}
	pcap_dumper_t *out = pcap_dump_open(dead, out_path);
	if (!out) {
		fprintf(stderr, "gen_dnsflood: %s\n", pcap_geterr(dead));
		pcap_close(dead);
		return 1;
	}

	uint8_t f[MAX_FRAME], msg[MAX_FRAME];
	char label[LABEL_LEN];
	struct pcap_pkthdr h;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t r = rnd();
		/* 10 random letters, then i in base 26 (6 letters cover MAX_N): distinct. */
		uint64_t v = r;
		for (int k = 0; k < LABEL_LEN; k++) {
			if (k == LABEL_LEN - 6)
				v = i;
			label[k] = (char)('a' + (v % 26));
			v /= 26;
		}
		uint16_t port = (uint16_t)(1024 + r % (65536 - 1024));
		uint16_t id = (uint16_t)(r >> 32);
		uint8_t addr[4];
		if (public) {
			addr[0] = 45;
			addr[1] = (uint8_t)(i >> 16);
			addr[2] = (uint8_t)(i >> 8);
			addr[3] = (uint8_t)(1 + i % 254);
		} else {
			addr[0] = 203;
			addr[1] = 0;
			addr[2] = 113;
			addr[3] = (uint8_t)(1 + i % 254);
		}
		uint64_t t = (uint64_t)i * STEP_US;
		struct ends q = { resolver_mac, router_mac, resolver_ip, server_ip, port, 53, 64 };
		struct ends real = { router_mac, resolver_mac, server_ip, resolver_ip, 53, port, 57 };
		struct ends forged = { evil_mac, resolver_mac, server_ip, resolver_ip, 53, port, 64 };
		static const uint8_t evil_addr[4] = { 203, 0, 113, 66 };

		size_t len = dns(msg, id, 0, label, NULL);
		h.caplen = h.len = (bpf_u_int32)frame(f, &q, msg, len, (uint16_t)i);
		h.ts.tv_sec = START_SEC + (time_t)(t / 1000000);
		h.ts.tv_usec = (suseconds_t)(t % 1000000);
		pcap_dump((u_char *)out, &h, f);
		if (!benign) {
			len = dns(msg, (uint16_t)(id ^ (1 + (r >> 48) % 65535)), 1, label, evil_addr);
			h.caplen = h.len = (bpf_u_int32)frame(f, &forged, msg, len, (uint16_t)(r >> 16));
			pcap_dump((u_char *)out, &h, f);
		}
		len = dns(msg, id, 1, label, addr);
		h.caplen = h.len = (bpf_u_int32)frame(f, &real, msg, len, (uint16_t)(i * 3));
		t += 1;
		h.ts.tv_sec = START_SEC + (time_t)(t / 1000000);
		h.ts.tv_usec = (suseconds_t)(t % 1000000);
		pcap_dump((u_char *)out, &h, f);
	}

	int rc = 0;
	if (pcap_dump_flush(out) != 0 || ferror(pcap_dump_file(out))) {
		fprintf(stderr, "gen_dnsflood: %s: write error\n", out_path);
		rc = 1;
	}
	pcap_dump_close(out);
	pcap_close(dead);
	return rc;
}
