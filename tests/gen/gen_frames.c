/* gen_frames.c - writes the crafted captures the project owns.
 *
 *   gen_frames arp-mismatch OUT.pcap
 *   gen_frames arp-benign   OUT.pcap
 *   gen_frames mixed        OUT.pcap [NPKTS]     (1,200,000 packets by default)
 *
 * arp-mismatch  a victim (192.0.2.23) resolves its gateway (192.0.2.1) normally, then
 *               receives three replies "192.0.2.1 is-at 02:00:00:00:00:66" sent from
 *               02:00:00:00:00:77 (Ethernet source != ARP sender: arp.ethernet_mismatch),
 *               then the same attack on VLAN 10 (198.51.100.1 -> 198.51.100.23).
 * arp-benign    requests and replies, unicast refreshes, RFC 5227 probes (sender IP
 *               0.0.0.0) and announcements, gratuitous requests and replies, one VLAN:
 *               every frame's Ethernet source equals its ARP sender; no alert expected.
 * mixed         a realistic mix for the benchmark: TCP flows (handshake, TLS 1.3
 *               ClientHello/ServerHello, HTTP or SSH banners and KEXINIT, bulk segments
 *               both ways, FIN), DNS queries/answers (~1% of packets), ARP (~0.5%),
 *               a little NDP, 15% of flows over IPv6 and 10% on VLAN 100; ~1000 bytes a
 *               packet on average, timestamps over ~60 s, one flow per 600 packets.
 *
 * Addresses come only from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
 * 2001:db8::/32, MACs from 02:00:00:00:00:00/24 (locally administered), names from the
 * reserved .example TLD (RFC 2606). Every checksum is correct. Fixed seed: the same
 * arguments always give the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#define START_SEC 1704067200ULL /* 2024-01-01T00:00:00Z */
#define SEED 0x6f6e70617468ULL   /* "onpath" */

#include "gen.h"

#define FRAME_MAX 1600
#define MIXED_DEFAULT 1200000UL
#define MIXED_SPAN_US 60000000ULL /* timestamps spread over 60 s */
#define PKTS_PER_FLOW 600UL       /* 1.2M packets -> ~2000 flows */
#define MAX_ACTIVE 128            /* flows open at the same time */
#define POOL_SIZE 65536           /* random bytes that payloads are cut from */
#define N_CLIENTS 190             /* 192.0.2.60..249 and 2001:db8:1::100..1bd */
#define N_VCLIENTS 100            /* 198.51.100.60..159 on VLAN 100 */
#define CLIENT_HOST 60            /* first client host number, above the servers' .53 */
#define VLAN_MIXED 100

#define ETH_IP4 0x0800
#define ETH_ARP 0x0806
#define ETH_VLAN 0x8100
#define ETH_IP6 0x86dd

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

/* ------------------------------------------------------------------ output */

struct out {
	pcap_t *dead;
	pcap_dumper_t *d;
	FILE *f;
	uint64_t ts_us; /* microseconds since START_SEC */
	double avg_gap_us; /* > 0: emit() advances ts_us by 0..2x this before each packet */
	uint64_t count;
	uint64_t bytes;
};

static int out_open(struct out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!o->dead) {
		fprintf(stderr, "gen_frames: pcap_open_dead failed\n");
		return -1;
	}
	o->f = fopen(path, "wb");
	if (!o->f) {
		fprintf(stderr, "gen_frames: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* The bench trace is over a gigabyte: write in large blocks. */
	setvbuf(o->f, NULL, _IOFBF, 1 << 20);
	o->d = pcap_dump_fopen(o->dead, o->f);
	if (!o->d) {
		fprintf(stderr, "gen_frames: %s: %s\n", path, pcap_geterr(o->dead));
		return -1;
	}
	return 0;
}

static int out_close(struct out *o, const char *path)
{
	int rc = 0;
	if (pcap_dump_flush(o->d) != 0 || ferror(o->f)) {
		fprintf(stderr, "gen_frames: %s: write error\n", path);
		rc = -1;
	}
	pcap_dump_close(o->d); /* closes o->f */
	pcap_close(o->dead);
	return rc;
}

static void emit(struct out *o, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h;
	if (o->avg_gap_us > 0)
		o->ts_us += (uint64_t)((double)(rnd() >> 11) * 0x1p-53 * 2 * o->avg_gap_us);
	h.ts.tv_sec = (time_t)(START_SEC + o->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(o->ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)o->d, &h, frame);
	o->count++;
	o->bytes += len;
}

/* ------------------------------------------------------------------ helpers */

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) % n);
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd() >> 56);
}

static void mac_set(uint8_t m[6], uint8_t a, uint8_t b)
{
	m[0] = 0x02;
	m[1] = m[2] = m[3] = 0;
	m[4] = a;
	m[5] = b;
}

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_zero[6] = { 0 };

static void ip4_set(uint8_t a[16], uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, 16);
	a[0] = x;
	a[1] = y;
	a[2] = z;
	a[3] = w;
}

/* 2001:db8:<net>::<host> */
static void ip6_set(uint8_t a[16], uint16_t net, uint16_t host)
{
	memset(a, 0, 16);
	put16(a, 0x2001);
	put16(a + 2, 0x0db8);
	put16(a + 4, net);
	put16(a + 14, host);
}

/* Ethernet header, with an 802.1Q tag when vlan != 0; returns its length. */
static size_t put_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t vlan,
		      uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (vlan) {
		put16(f + 12, ETH_VLAN);
		put16(f + 14, vlan & 0x0fff);
		put16(f + 16, type);
		return 18;
	}
	put16(f + 12, type);
	return 14;
}

/* Frames shorter than the Ethernet minimum arrive padded with zeros: 60 bytes without
 * FCS, 64 with an 802.1Q tag. */
static size_t pad_min(uint8_t *f, size_t len, uint16_t vlan)
{
	size_t min = vlan ? 64 : 60;
	if (len < min) {
		memset(f + len, 0, min - len);
		len = min;
	}
	return len;
}

/* ------------------------------------------------------------------ ARP (RFC 826) */

struct arp_frame {
	const uint8_t *eth_dst, *eth_src;
	uint16_t vlan, op;
	const uint8_t *sha, *tha;
	uint8_t spa[4], tpa[4];
};

static void emit_arp(struct out *o, const struct arp_frame *a)
{
	uint8_t f[FRAME_MAX];
	size_t n = put_eth(f, a->eth_dst, a->eth_src, a->vlan, ETH_ARP);
	put16(f + n, 1);      /* hardware type Ethernet */
	put16(f + n + 2, ETH_IP4);
	f[n + 4] = 6;
	f[n + 5] = 4;
	put16(f + n + 6, a->op);
	memcpy(f + n + 8, a->sha, 6);
	memcpy(f + n + 14, a->spa, 4);
	memcpy(f + n + 18, a->tha, 6);
	memcpy(f + n + 24, a->tpa, 4);
	emit(o, f, pad_min(f, n + 28, a->vlan));
}

static void ip4(uint8_t d[4], uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	d[0] = x;
	d[1] = y;
	d[2] = z;
	d[3] = w;
}

/* ARP request "who-has tpa tell spa" from the station (mac, spa), broadcast. */
static void arp_request(struct out *o, uint16_t vlan, const uint8_t mac[6], const uint8_t spa[4],
			const uint8_t tpa[4])
{
	struct arp_frame a = { mac_bcast, mac, vlan, 1, mac, mac_zero, { 0 }, { 0 } };
	memcpy(a.spa, spa, 4);
	memcpy(a.tpa, tpa, 4);
	emit_arp(o, &a);
}

/* ARP reply "spa is-at mac" from the station (mac, spa) to (tmac, tpa), unicast. */
static void arp_reply(struct out *o, uint16_t vlan, const uint8_t mac[6], const uint8_t spa[4],
		      const uint8_t tmac[6], const uint8_t tpa[4])
{
	struct arp_frame a = { tmac, mac, vlan, 2, mac, tmac, { 0 }, { 0 } };
	memcpy(a.spa, spa, 4);
	memcpy(a.tpa, tpa, 4);
	emit_arp(o, &a);
}

/* ------------------------------------------------------------------ scenarios: ARP */

static void sec(struct out *o, double s)
{
	o->ts_us = (uint64_t)(s * 1e6 + 0.5);
}

static int scen_arp_mismatch(struct out *o)
{
	uint8_t gw[6], victim[6], forged[6], attacker[6], gw10[6], victim10[6];
	uint8_t gw_ip[4], victim_ip[4], gw10_ip[4], victim10_ip[4];
	mac_set(gw, 0x00, 0x01);
	mac_set(victim, 0x00, 0x23);
	mac_set(forged, 0x00, 0x66);   /* MAC the attacker claims for the gateway */
	mac_set(attacker, 0x00, 0x77); /* NIC the forged replies really leave from */
	mac_set(gw10, 0x0a, 0x01);
	mac_set(victim10, 0x0a, 0x23);
	ip4(gw_ip, 192, 0, 2, 1);
	ip4(victim_ip, 192, 0, 2, 23);
	ip4(gw10_ip, 198, 51, 100, 1);
	ip4(victim10_ip, 198, 51, 100, 23);

	/* The victim resolves its gateway: normal, nothing to report. */
	sec(o, 0.0);
	arp_request(o, 0, victim, victim_ip, gw_ip);
	sec(o, 0.000412);
	arp_reply(o, 0, gw, gw_ip, victim, victim_ip);
	sec(o, 0.5);
	arp_request(o, 10, victim10, victim10_ip, gw10_ip);
	sec(o, 0.500388);
	arp_reply(o, 10, gw10, gw10_ip, victim10, victim10_ip);

	/* The poisoning: "192.0.2.1 is-at :66" unicast to the victim, every second, as
	 * arpspoof does, from a NIC whose MAC is :77. */
	for (int i = 0; i < 3; i++) {
		struct arp_frame a = { victim, attacker, 0, 2, forged, victim, { 0 }, { 0 } };
		memcpy(a.spa, gw_ip, 4);
		memcpy(a.tpa, victim_ip, 4);
		sec(o, 2.0 + i);
		emit_arp(o, &a);
	}
	/* The same on VLAN 10. */
	struct arp_frame a = { victim10, attacker, 10, 2, forged, victim10, { 0 }, { 0 } };
	memcpy(a.spa, gw10_ip, 4);
	memcpy(a.tpa, victim10_ip, 4);
	sec(o, 5.0);
	emit_arp(o, &a);
	return 0;
}

static int scen_arp_benign(struct out *o)
{
	uint8_t gw[6], h10[6], h11[6], h23[6], h42[6], gw10[6], v23[6];
	uint8_t gw_ip[4], h10_ip[4], h11_ip[4], h23_ip[4], h42_ip[4], any[4], gw10_ip[4], v23_ip[4];
	mac_set(gw, 0x00, 0x01);
	mac_set(h10, 0x00, 0x10);
	mac_set(h11, 0x00, 0x11);
	mac_set(h23, 0x00, 0x23);
	mac_set(h42, 0x00, 0x42);
	mac_set(gw10, 0x0a, 0x01);
	mac_set(v23, 0x0a, 0x23);
	ip4(gw_ip, 192, 0, 2, 1);
	ip4(h10_ip, 192, 0, 2, 10);
	ip4(h11_ip, 192, 0, 2, 11);
	ip4(h23_ip, 192, 0, 2, 23);
	ip4(h42_ip, 192, 0, 2, 42);
	ip4(any, 0, 0, 0, 0);
	ip4(gw10_ip, 198, 51, 100, 1);
	ip4(v23_ip, 198, 51, 100, 23);

	/* Hosts resolve the gateway, the gateway resolves a host. */
	sec(o, 0.0);
	arp_request(o, 0, h10, h10_ip, gw_ip);
	sec(o, 0.000350);
	arp_reply(o, 0, gw, gw_ip, h10, h10_ip);
	sec(o, 0.2);
	arp_request(o, 0, h11, h11_ip, gw_ip);
	sec(o, 0.200298);
	arp_reply(o, 0, gw, gw_ip, h11, h11_ip);
	sec(o, 0.7);
	arp_request(o, 0, gw, gw_ip, h23_ip);
	sec(o, 0.700511);
	arp_reply(o, 0, h23, h23_ip, gw, gw_ip);
	/* Host to host. */
	sec(o, 1.1);
	arp_request(o, 0, h23, h23_ip, h10_ip);
	sec(o, 1.100270);
	arp_reply(o, 0, h10, h10_ip, h23, h23_ip);

	/* RFC 5227 address conflict detection by a new host: three probes (sender IP
	 * 0.0.0.0, target hardware zero) 1-2 s apart, then two announcements (request with
	 * sender IP = target IP) 2 s apart. */
	for (int i = 0; i < 3; i++) {
		sec(o, 2.0 + 1.5 * i);
		arp_request(o, 0, h42, any, h42_ip);
	}
	for (int i = 0; i < 2; i++) {
		sec(o, 7.0 + 2.0 * i);
		arp_request(o, 0, h42, h42_ip, h42_ip);
	}

	/* Linux neighbour refresh: a unicast request to the cached MAC (RFC 1122
	 * 2.3.2.1), target hardware left zero, answered by a unicast reply. */
	{
		struct arp_frame a = { gw, h10, 0, 1, h10, mac_zero, { 0 }, { 0 } };
		memcpy(a.spa, h10_ip, 4);
		memcpy(a.tpa, gw_ip, 4);
		sec(o, 12.0);
		emit_arp(o, &a);
		sec(o, 12.000301);
		arp_reply(o, 0, gw, gw_ip, h10, h10_ip);
	}

	/* Gratuitous ARP from the gateway after a restart: a broadcast reply (arping -A)
	 * and a broadcast request (arping -U), sender == target, Ethernet source == sender. */
	{
		struct arp_frame a = { mac_bcast, gw, 0, 2, gw, mac_bcast, { 0 }, { 0 } };
		memcpy(a.spa, gw_ip, 4);
		memcpy(a.tpa, gw_ip, 4);
		sec(o, 15.0);
		emit_arp(o, &a);
		sec(o, 16.0);
		arp_request(o, 0, gw, gw_ip, gw_ip);
	}

	/* The same kind of traffic on VLAN 10. */
	sec(o, 18.0);
	arp_request(o, 10, v23, v23_ip, gw10_ip);
	sec(o, 18.000402);
	arp_reply(o, 10, gw10, gw10_ip, v23, v23_ip);
	sec(o, 19.0);
	arp_request(o, 10, gw10, gw10_ip, gw10_ip);
	return 0;
}

/* ------------------------------------------------------------------ mixed: IP layer */

static uint8_t pool[POOL_SIZE];

/* An L3/L4 path between two stations. */
struct path {
	bool v6;
	uint16_t vlan;
	uint8_t mac_a[6], mac_b[6]; /* Ethernet source of a's and of b's packets */
	uint8_t ip_a[16], ip_b[16];
	uint8_t ttl_a, ttl_b;       /* as seen at the sensor */
	uint16_t id_a, id_b;        /* IPv4 identification counters */
};

/* Writes Ethernet + IP headers for a packet from side a (from_a) or b carrying l4len
 * bytes of protocol proto; returns the offset of the L4 header. The L4 checksum is
 * filled by l4_csum once the L4 bytes are in place. */
static size_t put_ip(uint8_t *f, struct path *p, bool from_a, uint8_t proto, size_t l4len)
{
	const uint8_t *src = from_a ? p->ip_a : p->ip_b, *dst = from_a ? p->ip_b : p->ip_a;
	size_t n = put_eth(f, from_a ? p->mac_b : p->mac_a, from_a ? p->mac_a : p->mac_b, p->vlan,
			   p->v6 ? ETH_IP6 : ETH_IP4);
	uint8_t *ip = f + n;
	if (p->v6) {
		put32(ip, 0x60000000u);
		put16(ip + 4, (uint32_t)l4len);
		ip[6] = proto;
		ip[7] = from_a ? p->ttl_a : p->ttl_b;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		return n + 40;
	}
	uint16_t *id = from_a ? &p->id_a : &p->id_b;
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint32_t)(20 + l4len));
	put16(ip + 4, (*id)++);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = from_a ? p->ttl_a : p->ttl_b;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	return n + 20;
}

/* Fills the TCP/UDP/ICMPv6 checksum at l4[csum_off] (pseudo-header: RFC 9293 3.1,
 * RFC 768, RFC 8200 8.1). */
static void l4_csum(struct path *p, bool from_a, uint8_t proto, uint8_t *l4, size_t l4len,
		    size_t csum_off)
{
	const uint8_t *src = from_a ? p->ip_a : p->ip_b, *dst = from_a ? p->ip_b : p->ip_a;
	size_t alen = p->v6 ? 16 : 4;
	uint32_t sum = csum_add(0, src, alen);
	sum = csum_add(sum, dst, alen);
	sum += proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	put16(l4 + csum_off, 0);
	uint16_t c = csum_fold(csum_add(sum, l4, l4len));
	if (c == 0 && proto == 17)
		c = 0xffff; /* RFC 768: zero means "no checksum" */
	put16(l4 + csum_off, c);
}

/* ------------------------------------------------------------------ mixed: the network */

#define N_NAMES 24
static const char *const names[N_NAMES] = {
	"www.bench.example", "api.bench.example", "cdn.bench.example", "static.bench.example",
	"login.corp.example", "mail.corp.example", "wiki.corp.example", "git.corp.example",
	"vpn.corp.example", "intranet.corp.example", "www.shop.example", "img.shop.example",
	"pay.shop.example", "www.news.example", "video.news.example", "ads.news.example",
	"updates.vendor.example", "telemetry.vendor.example", "repo.vendor.example",
	"ntp.vendor.example", "chat.social.example", "media.social.example",
	"push.social.example", "www.bank.example",
};

struct net {
	uint8_t gw_mac[6], gwv_mac[6], res_mac[6], resv_mac[6];
	uint8_t gw_ip[4], gwv_ip[4], res_ip[4], resv_ip[4];
};

static struct net net;

static void net_init(void)
{
	mac_set(net.gw_mac, 0x01, 0x01);   /* router, 192.0.2.1 and 2001:db8:1::1 */
	mac_set(net.gwv_mac, 0x01, 0x64);  /* router on VLAN 100, 198.51.100.1 */
	mac_set(net.res_mac, 0x00, 0x53);  /* resolver 192.0.2.53, 2001:db8:1::53 */
	mac_set(net.resv_mac, 0x00, 0x54); /* resolver on VLAN 100, 198.51.100.53 */
	ip4(net.gw_ip, 192, 0, 2, 1);
	ip4(net.gwv_ip, 198, 51, 100, 1);
	ip4(net.res_ip, 192, 0, 2, 53);
	ip4(net.resv_ip, 198, 51, 100, 53);
}

/* A client station: untagged ones are dual-stack (192.0.2.h, 2001:db8:1::1xx), VLAN
 * 100 ones are 198.51.100.h, h = CLIENT_HOST + idx. Their MACs: 02:00:00:00:02:h and
 * 02:00:00:00:64:h; the infrastructure's are 02:00:00:00:0x:yy with x < 2. */
static void client_mac(uint8_t m[6], bool vlan, unsigned idx)
{
	mac_set(m, vlan ? 0x64 : 0x02, (uint8_t)(CLIENT_HOST + idx));
}

static void client_ip_set(uint8_t a[16], bool v6, bool vlan, unsigned idx)
{
	if (v6)
		ip6_set(a, 1, (uint16_t)(0x100 + idx));
	else if (vlan)
		ip4_set(a, 198, 51, 100, (uint8_t)(CLIENT_HOST + idx));
	else
		ip4_set(a, 192, 0, 2, (uint8_t)(CLIENT_HOST + idx));
}

/* Server of name i: 203.0.113.(10+i), 2001:db8:2::(10+i), some hops away. */
static uint8_t server_ttl(unsigned name)
{
	return (uint8_t)(64 - 3 - name % 12);
}

/* ------------------------------------------------------------------ mixed: TCP flows */

enum kind { K_TLS, K_HTTP, K_SSH };

struct flow {
	struct path p;          /* a = client, b = server */
	enum kind kind;
	unsigned name;
	uint16_t cport, sport;
	uint32_t seq_c, seq_s;  /* next sequence number of each side */
	uint32_t ts_c, ts_s;    /* RFC 7323 timestamp clock offsets */
	uint16_t mss;           /* payload bytes in a full segment (MSS - 12 for TS) */
	int step;
	long budget;            /* packets left for the bulk phase */
	int burst_left;         /* data segments left in the current burst */
	uint8_t sid[32];        /* TLS legacy session id, echoed by the server */
	uint32_t flight_rest;   /* bytes of the server's encrypted flight still to send */
	bool burst_from_c;
	bool done;
};

static struct out *g_out;

/* TCP segment of flow fl from the client (from_c) or the server carrying dlen bytes.
 * A SYN carries MSS, SACK permitted, timestamps and window scale (as Linux sends them),
 * every other segment NOP NOP timestamps (RFC 7323), so full segments are MSS - 12. */
static void tcp_send(struct flow *fl, bool from_c, uint8_t flags, const uint8_t *data, size_t dlen)
{
	uint8_t f[FRAME_MAX];
	bool syn = flags & TH_SYN;
	size_t hl = syn ? 40 : 32;
	size_t off = put_ip(f, &fl->p, from_c, 6, hl + dlen);
	uint8_t *t = f + off;
	uint32_t *seq = from_c ? &fl->seq_c : &fl->seq_s;
	uint32_t ack = from_c ? fl->seq_s : fl->seq_c;
	uint32_t now_ms = (uint32_t)(g_out->ts_us / 1000);

	put16(t, from_c ? fl->cport : fl->sport);
	put16(t + 2, from_c ? fl->sport : fl->cport);
	put32(t + 4, *seq);
	put32(t + 8, (flags & TH_ACK) ? ack : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, syn ? 64240 : (from_c ? 501 : 509)); /* scaled windows after SYN */
	put16(t + 16, 0);
	put16(t + 18, 0);
	uint8_t *o = t + 20;
	if (syn) {
		o[0] = 2; /* MSS */
		o[1] = 4;
		put16(o + 2, fl->p.v6 ? 1440 : 1460);
		o[4] = 4; /* SACK permitted */
		o[5] = 2;
		o += 6;
	} else {
		o[0] = o[1] = 1; /* NOP NOP */
		o += 2;
	}
	o[0] = 8; /* timestamps */
	o[1] = 10;
	put32(o + 2, (from_c ? fl->ts_c : fl->ts_s) + now_ms);
	put32(o + 6, (flags & TH_ACK) ? (from_c ? fl->ts_s : fl->ts_c) + now_ms : 0);
	if (syn) {
		o[10] = 1; /* NOP, window scale 7 */
		o[11] = 3;
		o[12] = 3;
		o[13] = 7;
	}
	if (dlen)
		memcpy(t + hl, data, dlen);
	l4_csum(&fl->p, from_c, 6, t, hl + dlen, 16);
	*seq += (uint32_t)dlen + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	emit(g_out, f, off + hl + dlen);
}

/* Random payload bytes, a slice of the pool. */
static const uint8_t *pool_slice(void)
{
	return pool + rnd_below(POOL_SIZE - FRAME_MAX);
}

static size_t put_ext_hdr(uint8_t *b, uint16_t type, size_t len)
{
	put16(b, type);
	put16(b + 2, (uint32_t)len);
	return 4;
}

/* TLS 1.3 ClientHello (RFC 8446 4.1.2) in a TLS 1.0 record, as browsers send it. */
static size_t tls_client_hello(uint8_t *b, const char *sni, uint8_t sid[32])
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
					   0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
					   0x009d, 0x002f, 0x0035 };
	static const uint8_t sigalgs[] = { 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03,
					   0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01 };
	size_t sl = strlen(sni), n = 0, ext, hs;
	b[n++] = 0x16;
	b[n++] = 0x03;
	b[n++] = 0x01;
	n += 2; /* record length */
	hs = n;
	b[n++] = 1;
	n += 3; /* handshake length */
	b[n++] = 0x03;
	b[n++] = 0x03;
	rnd_fill(b + n, 32); /* random */
	n += 32;
	b[n++] = 32; /* legacy session id (middlebox compatibility mode) */
	rnd_fill(sid, 32);
	memcpy(b + n, sid, 32);
	n += 32;
	put16(b + n, sizeof(suites));
	n += 2;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++, n += 2)
		put16(b + n, suites[i]);
	b[n++] = 1; /* compression: null */
	b[n++] = 0;
	ext = n;
	n += 2;
	n += put_ext_hdr(b + n, 0x0000, sl + 5); /* server_name (RFC 6066 3) */
	put16(b + n, (uint32_t)(sl + 3));
	b[n + 2] = 0;
	put16(b + n + 3, (uint32_t)sl);
	memcpy(b + n + 5, sni, sl);
	n += sl + 5;
	n += put_ext_hdr(b + n, 0x0017, 0); /* extended_master_secret */
	n += put_ext_hdr(b + n, 0xff01, 1); /* renegotiation_info */
	b[n++] = 0;
	n += put_ext_hdr(b + n, 0x000a, 8); /* supported_groups */
	put16(b + n, 6);
	put16(b + n + 2, 0x001d);
	put16(b + n + 4, 0x0017);
	put16(b + n + 6, 0x0018);
	n += 8;
	n += put_ext_hdr(b + n, 0x000b, 2); /* ec_point_formats */
	b[n++] = 1;
	b[n++] = 0;
	n += put_ext_hdr(b + n, 0x0023, 0); /* session_ticket */
	n += put_ext_hdr(b + n, 0x0010, 14); /* ALPN: h2, http/1.1 */
	put16(b + n, 12);
	b[n + 2] = 2;
	memcpy(b + n + 3, "h2", 2);
	b[n + 5] = 8;
	memcpy(b + n + 6, "http/1.1", 8);
	n += 14;
	n += put_ext_hdr(b + n, 0x000d, sizeof(sigalgs) + 2); /* signature_algorithms */
	put16(b + n, sizeof(sigalgs));
	memcpy(b + n + 2, sigalgs, sizeof(sigalgs));
	n += sizeof(sigalgs) + 2;
	n += put_ext_hdr(b + n, 0x0033, 38); /* key_share: x25519 */
	put16(b + n, 36);
	put16(b + n + 2, 0x001d);
	put16(b + n + 4, 32);
	rnd_fill(b + n + 6, 32);
	n += 38;
	n += put_ext_hdr(b + n, 0x002d, 2); /* psk_key_exchange_modes: psk_dhe_ke */
	b[n++] = 1;
	b[n++] = 1;
	n += put_ext_hdr(b + n, 0x002b, 5); /* supported_versions: 1.3, 1.2 */
	b[n++] = 4;
	put16(b + n, 0x0304);
	put16(b + n + 2, 0x0303);
	n += 4;
	put16(b + ext, (uint32_t)(n - ext - 2));
	put24(b + hs + 1, (uint32_t)(n - hs - 4));
	put16(b + 3, (uint32_t)(n - 5));
	return n;
}

/* TLS 1.3 ServerHello echoing the session id, then ChangeCipherSpec, then the start of
 * the encrypted flight (EncryptedExtensions..Finished as one application_data record)
 * filling the segment up to cap bytes. Returns cap; *rest gets the bytes of the
 * record still to come in the next segment. */
static size_t tls_server_flight(uint8_t *b, size_t cap, const uint8_t sid[32], uint32_t *rest)
{
	size_t n = 0, hs;
	b[n++] = 0x16;
	b[n++] = 0x03;
	b[n++] = 0x03;
	n += 2;
	hs = n;
	b[n++] = 2;
	n += 3;
	b[n++] = 0x03;
	b[n++] = 0x03;
	rnd_fill(b + n, 32);
	n += 32;
	b[n++] = 32;
	memcpy(b + n, sid, 32); /* echoes the client's legacy session id */
	n += 32;
	put16(b + n, 0x1301);
	n += 2;
	b[n++] = 0;
	put16(b + n, 46);
	n += 2;
	n += put_ext_hdr(b + n, 0x002b, 2);
	put16(b + n, 0x0304);
	n += 2;
	n += put_ext_hdr(b + n, 0x0033, 36);
	put16(b + n, 0x001d);
	put16(b + n + 2, 32);
	rnd_fill(b + n + 4, 32);
	n += 36;
	put24(b + hs + 1, (uint32_t)(n - hs - 4));
	put16(b + 3, (uint32_t)(n - 5));
	static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
	memcpy(b + n, ccs, sizeof(ccs));
	n += sizeof(ccs);
	size_t rec_len = 2000 + rnd_below(2500); /* certificates make the flight 2-4.5 KB */
	b[n++] = 0x17;
	b[n++] = 0x03;
	b[n++] = 0x03;
	put16(b + n, (uint32_t)rec_len);
	n += 2;
	size_t room = cap - n;
	memcpy(b + n, pool_slice(), room);
	*rest = (uint32_t)(rec_len - room);
	return cap;
}

/* SSH binary packet (RFC 4253 6) of message type msg with body, unencrypted, padded to
 * a multiple of 8 with at least 4 bytes of padding. */
static size_t ssh_packet(uint8_t *b, uint8_t msg, const uint8_t *body, size_t blen)
{
	size_t n = 5 + 1 + blen;
	size_t pad = 8 - (n % 8);
	if (pad < 4)
		pad += 8;
	b[5] = msg;
	if (blen)
		memcpy(b + 6, body, blen);
	rnd_fill(b + n, pad);
	put32(b, (uint32_t)(n + pad - 4));
	b[4] = (uint8_t)pad;
	return n + pad;
}

/* SSH_MSG_KEXINIT (RFC 4253 7.1) as OpenSSH 9.2 sends it. */
static size_t ssh_kexinit(uint8_t *b, bool client)
{
	static const char *const lists[10] = {
		("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
		 "diffie-hellman-group16-sha512,ext-info-c"),
		"ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
		"none,zlib@openssh.com",
		"none,zlib@openssh.com",
		"",
		"",
	};
	uint8_t body[1024];
	size_t n = 0;
	rnd_fill(body, 16); /* cookie */
	n += 16;
	for (int i = 0; i < 10; i++) {
		size_t l = strlen(lists[i]);
		if (i == 0 && !client)
			l -= strlen(",ext-info-c"); /* only clients announce ext-info-c */
		put32(body + n, (uint32_t)l);
		memcpy(body + n + 4, lists[i], l);
		n += 4 + l;
	}
	body[n++] = 0; /* first_kex_packet_follows */
	put32(body + n, 0); /* reserved */
	n += 4;
	return ssh_packet(b, 20, body, n);
}

static size_t put_sshstr(uint8_t *b, const void *s, size_t len)
{
	put32(b, (uint32_t)len);
	memcpy(b + 4, s, len);
	return 4 + len;
}

/* KEX_ECDH_INIT from the client, or KEX_ECDH_REPLY from the server of name with its
 * ssh-ed25519 host key, the same for every flow to that server (a changed key is an
 * indicator, so benign traffic must keep it). */
static size_t ssh_ecdh(uint8_t *b, bool client, unsigned name)
{
	uint8_t body[512], key[32], blob[64], sig[96];
	size_t n = 0, bl = 0, sl = 0;
	rnd_fill(key, 32);
	if (client)
		return ssh_packet(b, 30, body, put_sshstr(body, key, 32));
	uint8_t host[32];
	for (int i = 0; i < 32; i++)
		host[i] = (uint8_t)(0x5a ^ (name * 37 + (unsigned)i * 11));
	bl += put_sshstr(blob + bl, "ssh-ed25519", 11);
	bl += put_sshstr(blob + bl, host, 32);
	sl += put_sshstr(sig + sl, "ssh-ed25519", 11);
	uint8_t s64[64];
	rnd_fill(s64, 64);
	sl += put_sshstr(sig + sl, s64, 64);
	n += put_sshstr(body + n, blob, bl);
	n += put_sshstr(body + n, key, 32);
	n += put_sshstr(body + n, sig, sl);
	return ssh_packet(b, 31, body, n);
}

static unsigned long g_flow_seq;

static void flow_start(struct flow *fl, long budget)
{
	memset(fl, 0, sizeof(*fl));
	uint32_t r = rnd_below(100);
	bool v6 = r < 15, vl = !v6 && r < 25;
	unsigned c = vl ? rnd_below(N_VCLIENTS) : rnd_below(N_CLIENTS);
	uint32_t k = rnd_below(100);
	struct path *p = &fl->p;

	fl->kind = k < 85 ? K_TLS : k < 95 ? K_HTTP : K_SSH;
	fl->sport = fl->kind == K_TLS ? 443 : fl->kind == K_HTTP ? 80 : 22;
	fl->name = rnd_below(N_NAMES);
	/* distinct per flow for the first 28232 flows of a client */
	fl->cport = (uint16_t)(32768 + g_flow_seq++ % 28232);
	p->v6 = v6;
	p->vlan = vl ? VLAN_MIXED : 0;
	client_mac(p->mac_a, vl, c);
	memcpy(p->mac_b, vl ? net.gwv_mac : net.gw_mac, 6);
	client_ip_set(p->ip_a, v6, vl, c);
	if (v6)
		ip6_set(p->ip_b, 2, (uint16_t)(10 + fl->name));
	else
		ip4_set(p->ip_b, 203, 0, 113, (uint8_t)(10 + fl->name));
	p->ttl_a = 64;
	p->ttl_b = server_ttl(fl->name);
	p->id_a = (uint16_t)rnd();
	p->id_b = (uint16_t)rnd();
	fl->seq_c = (uint32_t)rnd();
	fl->seq_s = (uint32_t)rnd();
	fl->ts_c = (uint32_t)rnd();
	fl->ts_s = (uint32_t)rnd();
	fl->mss = v6 ? 1428 : 1448;
	fl->budget = budget;
}

/* Sends the next packet of a flow. */
static void flow_step(struct flow *fl)
{
	uint8_t b[FRAME_MAX];
	size_t n;

	switch (fl->step++) {
	case 0:
		tcp_send(fl, true, TH_SYN, NULL, 0);
		return;
	case 1:
		tcp_send(fl, false, TH_SYN | TH_ACK, NULL, 0);
		return;
	case 2:
		tcp_send(fl, true, TH_ACK, NULL, 0);
		return;
	case 3:
		switch (fl->kind) {
		case K_TLS:
			n = tls_client_hello(b, names[fl->name], fl->sid);
			tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
			return;
		case K_HTTP:
			n = (size_t)snprintf((char *)b, sizeof(b),
					     "GET /assets/%08x.bin HTTP/1.1\r\nHost: %s\r\n"
					     "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
					     (unsigned)rnd(), names[fl->name]);
			tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
			return;
		case K_SSH: /* the server speaks first (RFC 4253 4.2) */
			n = (size_t)snprintf((char *)b, sizeof(b), "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
			tcp_send(fl, false, TH_PSH | TH_ACK, b, n);
			return;
		}
		return;
	case 4:
		switch (fl->kind) {
		case K_TLS:
			n = tls_server_flight(b, fl->mss, fl->sid, &fl->flight_rest);
			tcp_send(fl, false, TH_ACK, b, n);
			return;
		case K_HTTP:
			n = (size_t)snprintf((char *)b, sizeof(b),
					     "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
					     "Content-Type: application/octet-stream\r\n"
					     "Connection: close\r\n\r\n");
			memcpy(b + n, pool_slice(), fl->mss - n);
			tcp_send(fl, false, TH_ACK, b, fl->mss);
			return;
		case K_SSH:
			n = (size_t)snprintf((char *)b, sizeof(b), "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
			tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
			return;
		}
		return;
	case 5:
		switch (fl->kind) {
		case K_TLS: { /* the rest of the server's encrypted flight */
			n = fl->flight_rest < fl->mss ? fl->flight_rest : fl->mss;
			fl->flight_rest -= (uint32_t)n;
			tcp_send(fl, false, fl->flight_rest ? TH_ACK : TH_PSH | TH_ACK, pool_slice(), n);
			if (fl->flight_rest)
				fl->step--;
			return;
		}
		case K_HTTP:
			tcp_send(fl, true, TH_ACK, NULL, 0);
			return;
		case K_SSH:
			n = ssh_kexinit(b, true);
			tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
			return;
		}
		return;
	case 6:
		switch (fl->kind) {
		case K_TLS: { /* client CCS + Finished, then its first request */
			static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
			memcpy(b, ccs, sizeof(ccs));
			n = sizeof(ccs);
			size_t recs[2] = { 53, 40 + rnd_below(400) };
			for (int i = 0; i < 2; i++) {
				b[n] = 0x17;
				b[n + 1] = 0x03;
				b[n + 2] = 0x03;
				put16(b + n + 3, (uint32_t)recs[i]);
				memcpy(b + n + 5, pool_slice(), recs[i]);
				n += 5 + recs[i];
			}
			tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
			return;
		}
		case K_HTTP:
			break; /* bulk */
		case K_SSH:
			n = ssh_kexinit(b, false);
			tcp_send(fl, false, TH_PSH | TH_ACK, b, n);
			return;
		}
		break;
	case 7: /* SSH: ECDH key exchange (RFC 5656 4, RFC 8709), then NEWKEYS */
		if (fl->kind != K_SSH)
			break;
		n = ssh_ecdh(b, true, fl->name);
		tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
		return;
	case 8:
		if (fl->kind != K_SSH)
			break;
		n = ssh_ecdh(b, false, fl->name);
		n += ssh_packet(b + n, 21, NULL, 0); /* SSH_MSG_NEWKEYS */
		tcp_send(fl, false, TH_PSH | TH_ACK, b, n);
		return;
	case 9:
		if (fl->kind != K_SSH)
			break;
		n = ssh_packet(b, 21, NULL, 0);
		tcp_send(fl, true, TH_PSH | TH_ACK, b, n);
		return;
	default:
		break;
	}

	/* Bulk phase: bursts of two full segments (mostly from the server) each
	 * acknowledged by the other side, as delayed ACKs do (RFC 9293 3.8.6.3). */
	if (fl->budget > 0) {
		fl->budget--;
		if (fl->burst_left > 0) {
			fl->burst_left--;
			n = fl->mss;
			if (fl->burst_left == 0 && rnd_below(10) == 0)
				n = 100 + rnd_below(fl->mss - 100); /* end of a write */
			tcp_send(fl, fl->burst_from_c, TH_ACK | (fl->burst_left ? 0 : TH_PSH),
				 pool_slice(), n);
		} else {
			tcp_send(fl, !fl->burst_from_c, TH_ACK, NULL, 0);
			/* HTTP downloads; TLS and SSH data flow both ways */
			fl->burst_from_c = fl->kind != K_HTTP && rnd_below(5) == 0;
			fl->burst_left = 2;
		}
		fl->step--; /* stay in the bulk phase */
		return;
	}
	/* Teardown: the client closes, the server closes, the client acknowledges. */
	switch (fl->budget--) {
	case 0:
		tcp_send(fl, true, TH_FIN | TH_ACK, NULL, 0);
		break;
	case -1:
		tcp_send(fl, false, TH_FIN | TH_ACK, NULL, 0);
		break;
	default:
		tcp_send(fl, true, TH_ACK, NULL, 0);
		fl->done = true;
		break;
	}
	fl->step--;
}

/* ------------------------------------------------------------------ mixed: DNS, ARP, NDP */

/* A client picked at random: 15% IPv6, 10% on VLAN 100, the rest IPv4 untagged. */
struct client {
	bool v6, vlan;
	unsigned idx;
	uint8_t mac[6];
};

static void client_pick(struct client *c, bool v6_ok)
{
	uint32_t r = rnd_below(100);
	c->v6 = v6_ok && r < 15;
	c->vlan = !c->v6 && r >= 15 && r < 25;
	c->idx = c->vlan ? rnd_below(N_VCLIENTS) : rnd_below(N_CLIENTS);
	client_mac(c->mac, c->vlan, c->idx);
}

static void client_ip(uint8_t a[16], const struct client *c)
{
	client_ip_set(a, c->v6, c->vlan, c->idx);
}

static size_t put_qname(uint8_t *b, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		b[n++] = (uint8_t)l;
		memcpy(b + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	b[n++] = 0;
	return n;
}

static void udp_send(struct path *p, bool from_a, uint16_t sport, uint16_t dport,
		     const uint8_t *data, size_t dlen)
{
	uint8_t f[FRAME_MAX];
	size_t off = put_ip(f, p, from_a, 17, 8 + dlen);
	uint8_t *u = f + off;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint32_t)(8 + dlen));
	memcpy(u + 8, data, dlen);
	l4_csum(p, from_a, 17, u, 8 + dlen, 6);
	emit(g_out, f, off + 8 + dlen);
}

/* A stub resolver query and the resolver's answer (RFC 1035 4.1), with EDNS (RFC 6891)
 * as dig and glibc send it. Every name of the flows resolves to its server's address;
 * one query in twenty asks for a name that does not exist. */
static void dns_pair(void)
{
	struct client c;
	struct path p;
	uint8_t q[512], a[512];
	char nx[64];
	const char *name;
	unsigned ni = rnd_below(N_NAMES);
	bool nxdomain = rnd_below(20) == 0;

	client_pick(&c, true);
	memset(&p, 0, sizeof(p));
	p.v6 = c.v6;
	p.vlan = c.vlan ? VLAN_MIXED : 0;
	memcpy(p.mac_a, c.mac, 6);
	memcpy(p.mac_b, c.vlan ? net.resv_mac : net.res_mac, 6);
	client_ip(p.ip_a, &c);
	if (c.v6)
		ip6_set(p.ip_b, 1, 0x53);
	else
		memcpy(p.ip_b, c.vlan ? net.resv_ip : net.res_ip, 4);
	p.ttl_a = p.ttl_b = 64;
	p.id_a = (uint16_t)rnd();
	p.id_b = (uint16_t)rnd();
	if (nxdomain) {
		snprintf(nx, sizeof(nx), "nx%u.bench.example", rnd_below(100000));
		name = nx;
	} else {
		name = names[ni];
	}
	bool aaaa = c.v6 ? rnd_below(10) != 0 : rnd_below(10) == 0;
	uint16_t id = (uint16_t)rnd(), port = (uint16_t)(1024 + rnd_below(64512));

	size_t n = 0;
	put16(q, id);
	put16(q + 2, 0x0100); /* RD */
	put16(q + 4, 1);
	put16(q + 6, 0);
	put16(q + 8, 0);
	put16(q + 10, 1);
	n = 12;
	n += put_qname(q + n, name);
	put16(q + n, aaaa ? 28 : 1);
	put16(q + n + 2, 1);
	n += 4;
	size_t qend = n;
	static const uint8_t opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 }; /* OPT, 1232 */
	memcpy(q + n, opt, sizeof(opt));
	n += sizeof(opt);
	udp_send(&p, true, port, 53, q, n);

	/* Answer: the question, then the record, then OPT. */
	memcpy(a, q, qend);
	put16(a + 2, nxdomain ? 0x8183 : 0x8180);
	put16(a + 6, nxdomain ? 0 : 1);
	size_t m = qend;
	if (!nxdomain) {
		put16(a + m, 0xc00c);
		put16(a + m + 2, aaaa ? 28 : 1);
		put16(a + m + 4, 1);
		put32(a + m + 6, 300);
		m += 10;
		if (aaaa) {
			uint8_t ip6[16];
			ip6_set(ip6, 2, (uint16_t)(10 + ni));
			put16(a + m, 16);
			memcpy(a + m + 2, ip6, 16);
			m += 18;
		} else {
			put16(a + m, 4);
			a[m + 2] = 203;
			a[m + 3] = 0;
			a[m + 4] = 113;
			a[m + 5] = (uint8_t)(10 + ni);
			m += 6;
		}
	}
	memcpy(a + m, opt, sizeof(opt));
	m += sizeof(opt);
	udp_send(&p, false, 53, port, a, m);
}

/* ARP between clients, their gateway and the resolver; every frame is consistent. */
static void arp_event(void)
{
	struct client c;
	uint8_t ip[16];
	client_pick(&c, false);
	client_ip(ip, &c);
	const uint8_t *gw_mac = c.vlan ? net.gwv_mac : net.gw_mac;
	const uint8_t *gw_ip = c.vlan ? net.gwv_ip : net.gw_ip;
	const uint8_t *res_mac = c.vlan ? net.resv_mac : net.res_mac;
	const uint8_t *res_ip = c.vlan ? net.resv_ip : net.res_ip;
	uint16_t vlan = c.vlan ? VLAN_MIXED : 0;
	uint32_t r = rnd_below(100);

	if (r < 60) { /* client resolves its gateway */
		arp_request(g_out, vlan, c.mac, ip, gw_ip);
		arp_reply(g_out, vlan, gw_mac, gw_ip, c.mac, ip);
	} else if (r < 75) { /* gateway resolves the client */
		arp_request(g_out, vlan, gw_mac, gw_ip, ip);
		arp_reply(g_out, vlan, c.mac, ip, gw_mac, gw_ip);
	} else if (r < 90) { /* client resolves the resolver */
		arp_request(g_out, vlan, c.mac, ip, res_ip);
		arp_reply(g_out, vlan, res_mac, res_ip, c.mac, ip);
	} else { /* announcement after the link came up (RFC 5227 2.3) */
		arp_request(g_out, vlan, c.mac, ip, ip);
	}
}

/* IPv6 neighbour discovery (RFC 4861 4.3, 4.4): a client solicits its router, the
 * router answers with Router|Solicited|Override and its link-layer address. */
static void ndp_pair(void)
{
	uint8_t f[FRAME_MAX];
	struct path p;
	unsigned idx = rnd_below(N_CLIENTS);
	uint8_t target[16];

	memset(&p, 0, sizeof(p));
	p.v6 = true;
	client_mac(p.mac_a, false, idx);
	memcpy(p.mac_b, net.gw_mac, 6);
	client_ip_set(p.ip_a, true, false, idx);
	ip6_set(target, 1, 1);
	p.ttl_a = p.ttl_b = 255; /* RFC 4861 7.1.1: hop limit 255 or the message is dropped */

	/* NS to the solicited-node multicast address ff02::1:ff00:1 */
	static const uint8_t snm[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1 };
	static const uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 };
	memcpy(p.ip_b, snm, 16);
	uint8_t save[6];
	memcpy(save, p.mac_b, 6);
	memcpy(p.mac_b, snm_mac, 6); /* Ethernet destination of a's packet */
	size_t off = put_ip(f, &p, true, 58, 32);
	uint8_t *m = f + off;
	memset(m, 0, 32);
	m[0] = 135;
	memcpy(m + 8, target, 16);
	m[24] = 1; /* source link-layer address option */
	m[25] = 1;
	memcpy(m + 26, p.mac_a, 6);
	l4_csum(&p, true, 58, m, 32, 2);
	emit(g_out, f, off + 32);

	/* NA, unicast back */
	memcpy(p.mac_b, save, 6);
	memcpy(p.ip_b, target, 16);
	off = put_ip(f, &p, false, 58, 32);
	m = f + off;
	memset(m, 0, 32);
	m[0] = 136;
	m[4] = 0xe0; /* R, S, O */
	memcpy(m + 8, target, 16);
	m[24] = 2; /* target link-layer address option */
	m[25] = 1;
	memcpy(m + 26, net.gw_mac, 6);
	l4_csum(&p, false, 58, m, 32, 2);
	emit(g_out, f, off + 32);
}

/* ------------------------------------------------------------------ mixed: main loop */

static long g_bulk_budget;

static long flow_budget(void)
{
	/* 0.25x .. 1.75x the average: some short flows, some long transfers */
	long b = g_bulk_budget / 4 + (long)rnd_below((uint32_t)(g_bulk_budget * 3 / 2 + 1));
	return b > 0 ? b : 1;
}

static int scen_mixed(struct out *o, unsigned long npkts)
{
	unsigned long nflows = npkts / PKTS_PER_FLOW ? npkts / PKTS_PER_FLOW : 1;
	unsigned active = nflows < MAX_ACTIVE ? (unsigned)nflows : MAX_ACTIVE;
	unsigned long started = 0, dns = 0, arp = 0, ndp = 0;
	struct flow *flows = calloc(active, sizeof(*flows));

	if (!flows) {
		fprintf(stderr, "gen_frames: out of memory\n");
		return -1;
	}
	g_out = o;
	rnd_fill(pool, sizeof(pool));
	net_init();
	/* ~98.5% of the packets are TCP; ~12 of a flow's packets are not bulk. */
	g_bulk_budget = (long)((double)npkts * 0.985 / (double)nflows) - 12;
	if (g_bulk_budget < 1)
		g_bulk_budget = 1;
	o->avg_gap_us = (double)MIXED_SPAN_US / (double)npkts;
	for (unsigned i = 0; i < active; i++, started++)
		flow_start(&flows[i], flow_budget());

	while (o->count < npkts) {
		bool two = npkts - o->count >= 2;
		uint32_t r = rnd_below(10000);
		if (two && r < 50) {
			dns_pair();
			dns += 2;
		} else if (two && r < 75) {
			uint64_t before = o->count;
			arp_event();
			arp += o->count - before;
		} else if (two && r < 80) {
			ndp_pair();
			ndp += 2;
		} else {
			struct flow *fl = &flows[rnd_below(active)];
			flow_step(fl);
			if (fl->done) {
				flow_start(fl, flow_budget());
				started++;
			}
		}
	}
	free(flows);
	fprintf(stderr,
		"gen_frames: mixed: %llu packets, %llu bytes (%.0f a packet), %lu TCP flows, "
		"%lu DNS, %lu ARP, %lu NDP packets, %.1f s\n",
		(unsigned long long)o->count, (unsigned long long)o->bytes,
		(double)o->bytes / (double)(o->count ? o->count : 1), started, dns, arp, ndp,
		(double)o->ts_us / 1e6);
	return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr, "usage: gen_frames arp-mismatch|arp-benign OUT.pcap\n"
			"       gen_frames mixed OUT.pcap [NPKTS]   (default %lu)\n",
		MIXED_DEFAULT);
	exit(2);
}

int main(int argc, char **argv)
{
	struct out o;
	unsigned long npkts = MIXED_DEFAULT;
	int rc;

	if (argc < 3)
		usage();
	bool mixed = strcmp(argv[1], "mixed") == 0;
	if (argc > (mixed ? 4 : 3))
		usage();
	if (mixed && argc == 4) {
		char *end;
		errno = 0;
		npkts = strtoul(argv[3], &end, 10);
		if (errno || *argv[3] == '\0' || *end != '\0' || npkts == 0 || npkts > 100000000UL) {
			fprintf(stderr, "gen_frames: NPKTS must be a number from 1 to 100000000, not '%s'\n",
				argv[3]);
			return 2;
		}
	}
	if (!mixed && strcmp(argv[1], "arp-mismatch") != 0 && strcmp(argv[1], "arp-benign") != 0) {
		fprintf(stderr, "gen_frames: unknown scenario '%s'\n", argv[1]);
		usage();
	}
	if (out_open(&o, argv[2]) < 0)
		return 1;
	if (mixed)
		rc = scen_mixed(&o, npkts);
	else if (strcmp(argv[1], "arp-mismatch") == 0)
		rc = scen_arp_mismatch(&o);
	else
		rc = scen_arp_benign(&o);
	if (out_close(&o, argv[2]) < 0 || rc < 0)
		return 1;
	return 0;
}
