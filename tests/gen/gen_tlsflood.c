/* gen_tlsflood.c - hostile TLS traffic for the flood tests of issue #12.
 *
 *   gen_tlsflood hello   OUT.pcap [N]   N TLS connections (default 100,000), each a
 *                                       handshake and a ClientHello carrying one 16 KB
 *                                       junk extension (two records, 12 segments),
 *                                       answered by a server RST
 *   gen_tlsflood overlap OUT.pcap [N]   one connection whose client sends N segments
 *                                       (default 100,000) of 1000 bytes, each
 *                                       overlapping the previous by 500 bytes with
 *                                       different bytes, every 16th one 64 KB ahead
 *                                       (a hole that is never filled)
 *
 * OUT may be "-" (stdout) so a test can pipe gigabytes without writing them. Clients
 * are 198.51.100.0/24 (port per connection), the server 203.0.113.10:443, MACs 02:...
 * Timestamps start at 2023-12-31T00:00:00Z (before the project's attack captures, which
 * a test appends after the flood), 20 us a packet. Fixed seed: the same arguments
 * always give the same bytes. The sensor must keep its memory within its caps, not
 * raise an alert per connection, and still see what follows.
 */
#include "config.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 0x746c73666c6f6f64ULL /* "tlsflood" */

#include "gen.h"

#define START_SEC 1703980800ULL    /* 2023-12-31T00:00:00Z */
#define STEP_US 20
#define MSS 1460
#define JUNK_LEN 16000             /* the junk extension's body */
#define JUNK_TYPE 0x1a2b           /* an unassigned extension type (IANA registry) */
#define HELLO_MAX (JUNK_LEN + 512)
#define STREAM_MAX (HELLO_MAX + 64)
#define FRAME_MAX (14 + 20 + 20 + MSS)
#define OVERLAP_SEG 1000
#define OVERLAP_AHEAD (64 * 1024)

static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x64 };
static const uint8_t server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t server_ip[4] = { 203, 0, 113, 10 };

struct conn {
	uint8_t cip[4];
	uint16_t cport;
	uint32_t cseq, sseq;
};

static pcap_dumper_t *out;
static uint64_t now_us = START_SEC * 1000000ULL;

/* One Ethernet/IPv4/TCP frame; from_client picks the direction. */
static void emit(const struct conn *c, int from_client, uint8_t flags, uint32_t seq, uint32_t ack,
		 const uint8_t *data, size_t len)
{
	uint8_t f[FRAME_MAX];
	uint8_t *ip = f + 14, *tcp = ip + 20;
	struct pcap_pkthdr h;
	size_t flen = 14 + 20 + 20 + len;

	memcpy(f, from_client ? server_mac : client_mac, 6);
	memcpy(f + 6, from_client ? client_mac : server_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	put16(ip + 2, (uint32_t)(40 + len));
	put16(ip + 4, (uint32_t)(rnd() & 0xffff));
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, from_client ? c->cip : server_ip, 4);
	memcpy(ip + 16, from_client ? server_ip : c->cip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(tcp, from_client ? c->cport : 443);
	put16(tcp + 2, from_client ? 443 : c->cport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 64240);
	if (len)
		memcpy(tcp + 20, data, len);
	uint32_t sum = csum_add(0, ip + 12, 8) + 6 + (uint32_t)(20 + len);
	put16(tcp + 16, csum_fold(csum_add(sum, tcp, 20 + len)));
	h.caplen = h.len = (bpf_u_int32)flen;
	h.ts.tv_sec = (time_t)(now_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(now_us % 1000000);
	now_us += STEP_US;
	pcap_dump((u_char *)out, &h, f);
}

static void handshake(struct conn *c)
{
	c->cseq = (uint32_t)rnd();
	c->sseq = (uint32_t)rnd();
	emit(c, 1, 0x02, c->cseq++, 0, NULL, 0);
	emit(c, 0, 0x12, c->sseq++, c->cseq, NULL, 0);
	emit(c, 1, 0x10, c->cseq, c->sseq, NULL, 0);
}

/* The ClientHello handshake message with the junk extension; returns its length. */
static size_t client_hello(uint8_t *m)
{
	static const char sni[] = "flood.example";
	size_t n = 4;

	put16(m + n, 0x0303);
	n += 2;
	for (int i = 0; i < 32; i++)
		m[n++] = (uint8_t)rnd();
	m[n++] = 0;                  /* session id */
	put16(m + n, 4);             /* two suites */
	put16(m + n + 2, 0x1301);
	put16(m + n + 4, 0xc02f);
	n += 6;
	m[n++] = 1;                  /* compression: null */
	m[n++] = 0;
	size_t ext_len_at = n;
	n += 2;
	put16(m + n, 0);             /* server_name */
	put16(m + n + 2, (uint32_t)(sizeof(sni) - 1 + 5));
	put16(m + n + 4, (uint32_t)(sizeof(sni) - 1 + 3));
	m[n + 6] = 0;
	put16(m + n + 7, sizeof(sni) - 1);
	memcpy(m + n + 9, sni, sizeof(sni) - 1);
	n += 9 + sizeof(sni) - 1;
	put16(m + n, JUNK_TYPE);
	put16(m + n + 2, JUNK_LEN);
	n += 4;
	for (size_t i = 0; i < JUNK_LEN; i += 8) {
		uint64_t r = rnd();
		for (size_t j = 0; j < 8 && i + j < JUNK_LEN; j++)
			m[n + i + j] = (uint8_t)(r >> (8 * j));
	}
	n += JUNK_LEN;
	put16(m + ext_len_at, (uint32_t)(n - ext_len_at - 2));
	m[0] = 1;
	put24(m + 1, (uint32_t)(n - 4));
	return n;
}

static void hello_flood(unsigned long n)
{
	static uint8_t msg[HELLO_MAX], stream[STREAM_MAX];

	for (unsigned long i = 0; i < n; i++) {
		struct conn c = { { 198, 51, 100, (uint8_t)(1 + i % 254) },
				  (uint16_t)(1024 + (i / 254) % 64000), 0, 0 };
		size_t mlen = client_hello(msg), slen = 0;
		/* Records of at most 2^14 bytes (RFC 8446 5.1). */
		for (size_t off = 0; off < mlen;) {
			size_t r = mlen - off < 16384 ? mlen - off : 16384;
			stream[slen] = 22;
			put16(stream + slen + 1, 0x0301);
			put16(stream + slen + 3, (uint32_t)r);
			memcpy(stream + slen + 5, msg + off, r);
			slen += 5 + r;
			off += r;
		}
		handshake(&c);
		for (size_t off = 0; off < slen; off += MSS) {
			size_t len = slen - off < MSS ? slen - off : MSS;
			emit(&c, 1, 0x18, c.cseq + (uint32_t)off, c.sseq, stream + off, len);
		}
		emit(&c, 0, 0x04, c.sseq, 0, NULL, 0);
	}
}

static void overlap_flood(unsigned long n)
{
	struct conn c = { { 198, 51, 100, 77 }, 40000, 0, 0 };
	uint8_t data[OVERLAP_SEG];

	handshake(&c);
	/* A ClientHello's first bytes, so the TLS consumer wants the flow. */
	for (unsigned long i = 0; i < n; i++) {
		for (size_t j = 0; j < sizeof(data); j++)
			data[j] = (uint8_t)(rnd() >> 56);
		if (i == 0) {
			data[0] = 22;
			put16(data + 1, 0x0301);
			put16(data + 3, 16000);
			data[5] = 1;
		}
		uint32_t off = (uint32_t)(i * (OVERLAP_SEG / 2));
		if (i % 16 == 15)
			off += OVERLAP_AHEAD;
		emit(&c, 1, 0x18, c.cseq + off, c.sseq, data, sizeof(data));
	}
	emit(&c, 0, 0x04, c.sseq, 0, NULL, 0);
}

int main(int argc, char **argv)
{
	unsigned long n = 100000;
	char *end;

	if (argc < 3 || argc > 4 || (strcmp(argv[1], "hello") != 0 && strcmp(argv[1], "overlap") != 0)) {
		fprintf(stderr, "usage: gen_tlsflood hello|overlap OUT.pcap [N]\n");
		return 2;
	}
	if (argc == 4) {
		errno = 0;
		n = strtoul(argv[3], &end, 10);
		if (errno || *argv[3] == '\0' || *end != '\0' || n == 0 || n > 10000000) {
			fprintf(stderr, "gen_tlsflood: N must be from 1 to 10000000, not '%s'\n", argv[3]);
			return 2;
		}
	}
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!dead) {
		fprintf(stderr, "gen_tlsflood: pcap_open_dead failed\n");
		return 1;
	}
	out = pcap_dump_open(dead, argv[2]);
	if (!out) {
		fprintf(stderr, "gen_tlsflood: %s\n", pcap_geterr(dead));
		return 1;
	}
	if (argv[1][0] == 'h')
		hello_flood(n);
	else
		overlap_flood(n);
	int rc = 0;
	if (pcap_dump_flush(out) != 0 || ferror(pcap_dump_file(out))) {
		fprintf(stderr, "gen_tlsflood: %s: write error\n", argv[2]);
		rc = 1;
	}
	pcap_dump_close(out);
	pcap_close(dead);
	return rc;
}
