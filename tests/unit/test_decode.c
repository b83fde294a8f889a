#include "config.h"

/* test_decode.c - link, IP, transport and ARP decoding (monitor/decode/): one good frame
 * per layer and link type, every failure branch, stable counter names, and every
 * prefix of every good frame decoded from an exactly sized buffer (ASan catches a read
 * past it). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"

/* Addresses used throughout. */
#define MAC_A 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
#define MAC_B 0x02, 0x00, 0x00, 0x00, 0x00, 0x02
#define BCAST 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define V4_A 0xc0, 0x00, 0x02, 0x01 /* 192.0.2.1 */
#define V4_B 0xc6, 0x33, 0x64, 0x02 /* 198.51.100.2 */
#define V6_A 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 /* 2001:db8::1 */
#define V6_B 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 /* 2001:db8::2 */

#define ETH_IPV4 MAC_B, MAC_A, 0x08, 0x00 /* Ethernet B <- A, IPv4 */
#define ETH_IPV6 MAC_B, MAC_A, 0x86, 0xdd /* Ethernet B <- A, IPv6 */

#define ETH 14 /* offset of the network header in untagged Ethernet frames */

static const uint8_t mac_a[6] = { MAC_A }, mac_b[6] = { MAC_B };
static const uint8_t v4_a[4] = { V4_A }, v4_b[4] = { V4_B };
static const uint8_t v6_a[16] = { V6_A }, v6_b[16] = { V6_B };

/* ---------------------------------------------------------------- good frames */

static const uint8_t eth_ipv4_tcp[] = {
	ETH_IPV4,
	/* IPv4: v4 ihl 5, tos 0, len 49, id 0x1234, DF, ttl 64, TCP, csum 0, A -> B */
	0x45, 0x00, 0x00, 0x31, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, V4_A, V4_B,
	/* TCP: 49152 -> 443, seq 0x01020304, ack 0x0a0b0c0d, doff 6, PSH|ACK, win 0xfaf0 */
	0xc0, 0x00, 0x01, 0xbb, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
	0x60, 0x18, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	/* TCP option: MSS 1460 */
	0x02, 0x04, 0x05, 0xb4,
	/* data "hello" */
	'h', 'e', 'l', 'l', 'o',
};
#define TCP_OFF (ETH + 20)

/* A short UDP datagram in a frame padded to the 60-byte Ethernet minimum. */
static const uint8_t eth_ipv4_udp_padded[] = {
	ETH_IPV4,
	/* IPv4: ihl 5, len 32, id 1, ttl 57, UDP, B -> A */
	0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x39, 0x11, 0x00, 0x00, V4_B, V4_A,
	/* UDP: 53 -> 12345, len 12, csum 0 */
	0x00, 0x35, 0x30, 0x39, 0x00, 0x0c, 0x00, 0x00,
	/* data: 4 bytes of a DNS header */
	0xab, 0xcd, 0x81, 0x80,
	/* Ethernet padding: not part of the datagram */
	0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
};
#define UDP_OFF (ETH + 20)

/* IPv4 with 4 bytes of options (IHL 6) and an ICMP echo request. */
static const uint8_t eth_ipv4_opts_icmp[] = {
	ETH_IPV4,
	/* IPv4: ihl 6, len 36, id 2, ttl 1, ICMP, A -> B, options NOP NOP NOP EOL */
	0x46, 0x00, 0x00, 0x24, 0x00, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, V4_A, V4_B,
	0x01, 0x01, 0x01, 0x00,
	/* ICMP: echo request (8/0), csum, id 7, seq 1, data "ping" */
	0x08, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 'p', 'i', 'n', 'g',
};

/* ARP who-has 192.0.2.2 tell 192.0.2.1, broadcast, padded. */
static const uint8_t eth_arp[] = {
	BCAST, MAC_A, 0x08, 0x06,
	/* ARP: htype 1, ptype IPv4, hlen 6, plen 4, op 1 request */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	/* sha A, spa 192.0.2.1, tha 0, tpa 192.0.2.2 */
	MAC_A, V4_A, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x02, 0x02,
	/* padding */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
#define ARP_OFF ETH

/* ARP reply 192.0.2.1 is-at A, to B, inside 802.1Q VLAN 100 (priority 5). */
static const uint8_t eth_vlan_arp[] = {
	MAC_B, MAC_A,
	/* 802.1Q: TPID 0x8100, PCP 5 VID 100, then ARP */
	0x81, 0x00, 0xa0, 0x64, 0x08, 0x06,
	/* ARP: Ethernet/IPv4, op 2 reply, sha A, spa 192.0.2.1, tha B, tpa 198.51.100.2 */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, MAC_A, V4_A, MAC_B, V4_B,
};

/* QinQ: 802.1ad S-tag 10, 802.1Q C-tag 20, IPv4 UDP 5353 -> 5353, empty data. */
static const uint8_t eth_qinq_udp[] = {
	MAC_B, MAC_A,
	/* 802.1ad: TPID 0x88a8 VID 10; 802.1Q: TPID 0x8100 VID 20; then IPv4 */
	0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00,
	/* IPv4: len 28, ttl 255, UDP, A -> B */
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0xff, 0x11, 0x00, 0x00, V4_A, V4_B,
	/* UDP: 5353 -> 5353, len 8 */
	0x14, 0xe9, 0x14, 0xe9, 0x00, 0x08, 0x00, 0x00,
};

/* 802.3 + LLC/SNAP ARP with hardware type 6 (IEEE 802), as in the corpus
 * arp/zeek_snap-arp.pcapng, frame 3 (a reply). */
static const uint8_t eth_snap_arp[] = {
	0xc2, 0x3d, 0x19, 0x6c, 0x00, 0x01, 0xc2, 0x3c, 0x19, 0x6c, 0x00, 0x01,
	/* 802.3 length 36 */
	0x00, 0x24,
	/* LLC DSAP 0xaa SSAP 0xaa UI; SNAP OUI 000000 type ARP */
	0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x06,
	/* ARP: htype 6, IPv4, 6/4, op 2, sha c2:3c:19:6c:00:01 spa 10.0.0.2,
	 * tha c2:3d:19:6c:00:01 tpa 10.0.0.1 */
	0x00, 0x06, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
	0xc2, 0x3c, 0x19, 0x6c, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	0xc2, 0x3d, 0x19, 0x6c, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
	/* padding past the 802.3 length */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* IPv6 hop-by-hop (router alert) then ICMPv6 MLDv2 report (143). */
static const uint8_t eth_ipv6_hbh_icmp6[] = {
	ETH_IPV6,
	/* IPv6: v6, plen 16, next hop-by-hop, hlim 1, A -> B */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, V6_A, V6_B,
	/* hop-by-hop: next ICMPv6, len 0 (8 bytes), router alert MLD, PadN 0 */
	0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00,
	/* ICMPv6: type 143 code 0, csum, reserved, 0 records */
	0x8f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* IPv6 hop-by-hop, routing, destination options, TCP SYN. */
static const uint8_t eth_ipv6_ext_tcp[] = {
	ETH_IPV6,
	/* IPv6: plen 44, next hop-by-hop, hlim 64 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x40, V6_A, V6_B,
	/* hop-by-hop: next routing, len 0, PadN 4 */
	0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	/* routing: next dest-opts, len 0, type 3, segments left 0, reserved */
	0x3c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* destination options: next TCP, len 0, PadN 4 */
	0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	/* TCP: 40000 -> 22, seq 1, ack 0, doff 5, SYN, win 1024 */
	0x9c, 0x40, 0x00, 0x16, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x50, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* IPv6 AH then UDP 500 -> 500 with 2 bytes of data. */
static const uint8_t eth_ipv6_ah_udp[] = {
	ETH_IPV6,
	/* IPv6: plen 34, next AH */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x22, 0x33, 0x40, V6_A, V6_B,
	/* AH: next UDP, len 4 ((4+2)*4 = 24 bytes), reserved, SPI 0x100, seq 1, ICV 12 */
	0x11, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* UDP: 500 -> 500, len 10, data "ok" */
	0x01, 0xf4, 0x01, 0xf4, 0x00, 0x0a, 0x00, 0x00, 'o', 'k',
};

/* IPv6 first fragment (offset 0, M 1) of a UDP datagram whose length runs into the
 * next fragment. */
static const uint8_t eth_ipv6_frag_first[] = {
	ETH_IPV6,
	/* IPv6: plen 20, next fragment */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x2c, 0x40, V6_A, V6_B,
	/* fragment: next UDP, reserved, offset 0 M 1, id 0xcafe */
	0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0xca, 0xfe,
	/* UDP: 53 -> 53, len 100, then the 4 bytes this fragment holds */
	0x00, 0x35, 0x00, 0x35, 0x00, 0x64, 0x00, 0x00, 'd', 'a', 't', 'a',
};

/* IPv6 later fragment (offset 23, M 0): its bytes are not a UDP header. */
static const uint8_t eth_ipv6_frag_later[] = {
	ETH_IPV6,
	/* IPv6: plen 16, next fragment */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x2c, 0x40, V6_A, V6_B,
	/* fragment: next UDP, offset 23 M 0, id 0xcafe */
	0x11, 0x00, 0x00, 0xb8, 0x00, 0x00, 0xca, 0xfe,
	/* middle of the datagram */
	0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
};

/* IPv6 with no next header. */
static const uint8_t eth_ipv6_nonext[] = {
	ETH_IPV6,
	/* IPv6: plen 0, next 59 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, V6_A, V6_B,
};

/* IPv4 first fragment (MF, offset 0) of a UDP datagram. */
static const uint8_t eth_ipv4_frag_first[] = {
	ETH_IPV4,
	/* IPv4: len 32, id 0x0bad, MF offset 0, ttl 64, UDP */
	0x45, 0x00, 0x00, 0x20, 0x0b, 0xad, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00, V4_A, V4_B,
	/* UDP: 53 -> 53, len 1500, then 4 bytes */
	0x00, 0x35, 0x00, 0x35, 0x05, 0xdc, 0x00, 0x00, 'f', 'r', 'a', 'g',
};

/* IPv4 later fragment (offset 185 * 8). */
static const uint8_t eth_ipv4_frag_later[] = {
	ETH_IPV4,
	/* IPv4: len 28, id 0x0bad, offset 185, ttl 64, UDP */
	0x45, 0x00, 0x00, 0x1c, 0x0b, 0xad, 0x00, 0xb9, 0x40, 0x11, 0x00, 0x00, V4_A, V4_B,
	/* middle of the datagram */
	0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
};

/* Linux cooked (SLL): incoming from A, IPv4 ICMP echo reply. */
static const uint8_t sll_ipv4_icmp[] = {
	/* SLL: to us (0), ARPHRD_ETHER, address length 6, A + 2 pad, protocol IPv4 */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x06, MAC_A, 0x00, 0x00, 0x08, 0x00,
	/* IPv4: len 28, ttl 128, ICMP, B -> A */
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x05, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, V4_B, V4_A,
	/* ICMP: echo reply (0/0), id 7, seq 1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01,
};

/* Linux cooked (SLL) with the 802.1Q tag libpcap re-inserts, then ARP. */
static const uint8_t sll_vlan_arp[] = {
	/* SLL: broadcast (1), ARPHRD_ETHER, 6, A, protocol 802.1Q */
	0x00, 0x01, 0x00, 0x01, 0x00, 0x06, MAC_A, 0x00, 0x00, 0x81, 0x00,
	/* 802.1Q: VID 7, then ARP */
	0x00, 0x07, 0x08, 0x06,
	/* ARP request A 192.0.2.1 for 198.51.100.2 */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, MAC_A, V4_A, 0, 0, 0, 0, 0, 0, V4_B,
};

/* Linux cooked v2 (SLL2): outgoing IPv6 UDP. */
static const uint8_t sll2_ipv6_udp[] = {
	/* SLL2: protocol IPv6, reserved, ifindex 2, ARPHRD_ETHER, outgoing (4), 6, A + pad */
	0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x04, 0x06,
	MAC_A, 0x00, 0x00,
	/* IPv6: plen 9, next UDP, hlim 64 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x09, 0x11, 0x40, V6_A, V6_B,
	/* UDP: 546 -> 547, len 9, data 0x01 */
	0x02, 0x22, 0x02, 0x23, 0x00, 0x09, 0x00, 0x00, 0x01,
};

/* BSD loopback, little-endian AF_INET (2), IPv4 TCP RST. */
static const uint8_t null_le_ipv4_tcp[] = {
	0x02, 0x00, 0x00, 0x00,
	/* IPv4: len 40, ttl 64, TCP, 127.0.0.1 -> 127.0.0.1 */
	0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01,
	/* TCP: 25 -> 50000, seq 9, ack 10, doff 5, RST|ACK, win 0 */
	0x00, 0x19, 0xc3, 0x50, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x0a,
	0x50, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* BSD loopback, big-endian AF_INET6 as on Darwin (30), IPv6 no next header. */
static const uint8_t null_be30_ipv6[] = {
	0x00, 0x00, 0x00, 0x1e,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, V6_A, V6_B,
};

/* Raw IPv4 (LINKTYPE_RAW and friends): UDP 12345 -> 53, 3 bytes. */
static const uint8_t raw_ipv4_udp[] = {
	0x45, 0x00, 0x00, 0x1f, 0x00, 0x09, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_A, V4_B,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x0b, 0x00, 0x00, 'a', 'b', 'c',
};

/* Raw IPv6: ICMPv6 neighbour solicitation head (135/0) with 4 reserved bytes. */
static const uint8_t raw_ipv6_icmp6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff, V6_A, V6_B,
	0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* ---------------------------------------------------------------- helpers */

/* Decodes into a struct full of garbage, as a reused one would be: dec_packet() must
 * not depend on a clean struct. */
static enum dec_result dec(struct pkt *p, int lt, const uint8_t *f, size_t n, uint32_t *notes)
{
	memset(p, 0xa5, sizeof(*p));
	return dec_packet(p, lt, f, n, notes);
}

#define DEC(p, lt, buf, notes) dec((p), (lt), (buf), sizeof(buf), (notes))

/* A modifiable copy of a good frame, to break one field in it. */
#define COPY(dst, src)                     \
	uint8_t dst[sizeof(src)];          \
	memcpy(dst, src, sizeof(src))

static void assert_v4(const struct op_addr *x, const uint8_t v4[4])
{
	static const uint8_t zero[12];
	assert_int_equal(x->family, 4);
	assert_memory_equal(x->a, v4, 4);
	assert_memory_equal(&x->a[4], zero, 12);
}

static void assert_v6(const struct op_addr *x, const uint8_t v6[16])
{
	assert_int_equal(x->family, 6);
	assert_memory_equal(x->a, v6, 16);
}

/* ---------------------------------------------------------------- link layer */

static void test_eth_ipv4_tcp(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_tcp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_TCP);
	assert_int_equal(p.caplen, sizeof(eth_ipv4_tcp));
	assert_memory_equal(p.dst_mac, mac_b, 6);
	assert_memory_equal(p.src_mac, mac_a, 6);
	assert_int_equal(p.nvlan, 0);
	assert_int_equal(p.ethertype, 0x0800);
	assert_v4(&p.src, v4_a);
	assert_v4(&p.dst, v4_b);
	assert_int_equal(p.ip_ttl, 64);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.ip_id, 0x1234);
	assert_int_equal(p.sport, 49152);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.tcp_ack, 0x0a0b0c0d);
	assert_int_equal(p.tcp_flags, TCP_PSH | TCP_ACK);
	assert_int_equal(p.tcp_win, 0xfaf0);
	assert_ptr_equal(p.l4, &eth_ipv4_tcp[TCP_OFF]);
	assert_int_equal(p.l4_len, 29);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "hello", 5);
}

static void test_eth_padding_not_payload(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_udp_padded, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_UDP);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 12345);
	assert_int_equal(p.ip_ttl, 57);
	assert_ptr_equal(p.l4, &eth_ipv4_udp_padded[UDP_OFF]);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "\xab\xcd\x81\x80", 4);
}

static void test_eth_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* 13 bytes: the type field is cut */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_ipv4_tcp, 13, &notes), DEC_ERR_ETH_SHORT);
	assert_int_equal(p.flags, 0);
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, NULL, 0, &notes), DEC_ERR_ETH_SHORT);
}

static void test_eth_other_ethertype(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[12] = 0x88; /* LLDP */
	f[13] = 0xcc;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_ETHERTYPE);
	assert_int_equal(p.flags, PKT_F_ETH);
	assert_int_equal(p.ethertype, 0x88cc);
	assert_null(p.l4);
	assert_null(p.payload);
}

static void test_vlan_arp(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_vlan_arp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_ARP);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan[0], 100); /* PCP bits dropped */
	assert_int_equal(p.ethertype, 0x0806);
	assert_int_equal(p.arp.op, 2);
	assert_memory_equal(p.arp.sha, mac_a, 6);
	assert_memory_equal(p.arp.spa, v4_a, 4);
	assert_memory_equal(p.arp.tha, mac_b, 6);
	assert_memory_equal(p.arp.tpa, v4_b, 4);
}

static void test_qinq(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_qinq_udp, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_UDP);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan[0], 10);
	assert_int_equal(p.vlan[1], 20);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.payload_len, 0);
	assert_non_null(p.payload);
}

static void test_vlan_0x9100(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_qinq_udp);
	f[12] = 0x91; /* old QinQ TPID for the outer tag */
	f[13] = 0x00;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan[0], 10);
	assert_true(p.flags & PKT_F_UDP);
}

/* A frame of n 802.1Q tags (VID 1..n) then ARP from eth_arp. Returns its length. */
static size_t build_tags(uint8_t *buf, size_t cap, unsigned n)
{
	size_t off = 0;
	assert_true(cap >= 12 + 4 * n + 2 + 28);
	memcpy(buf, eth_arp, 12);
	off = 12;
	for (unsigned i = 0; i < n; i++) {
		buf[off++] = 0x81; /* TPID 802.1Q */
		buf[off++] = 0x00;
		buf[off++] = 0x00; /* VID i + 1 */
		buf[off++] = (uint8_t)(i + 1);
	}
	memcpy(&buf[off], &eth_arp[12], 2 + 28); /* type ARP, ARP body */
	return off + 2 + 28;
}

static void test_vlan_depth(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	uint8_t f[128];
	size_t n;

	/* three tags: walked, the outer two kept */
	n = build_tags(f, sizeof(f), 3);
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, n, &notes), DEC_OK);
	assert_int_equal(p.nvlan, DEC_MAX_VLAN);
	assert_int_equal(p.vlan[0], 1);
	assert_int_equal(p.vlan[1], 2);
	assert_true(p.flags & PKT_F_ARP);

	n = build_tags(f, sizeof(f), DEC_MAX_VLAN_DEPTH);
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, n, &notes), DEC_OK);
	assert_true(p.flags & PKT_F_ARP);

	n = build_tags(f, sizeof(f), DEC_MAX_VLAN_DEPTH + 1);
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, n, &notes), DEC_ERR_VLAN_DEPTH);
	assert_false(p.flags & PKT_F_ARP);
}

static void test_vlan_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* 802.1Q TPID then only 2 of the 4 tag bytes */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_vlan_arp, 16, &notes), DEC_ERR_VLAN_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH);
	/* the inner tag of QinQ cut */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_qinq_udp, 19, &notes), DEC_ERR_VLAN_SHORT);
	assert_int_equal(p.nvlan, 1);
}

static void test_snap_arp(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	static const uint8_t spa[4] = { 10, 0, 0, 2 }, tpa[4] = { 10, 0, 0, 1 };
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_snap_arp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_ARP);
	assert_int_equal(p.ethertype, 0x0806);
	assert_int_equal(p.arp.op, 2);
	assert_memory_equal(p.arp.spa, spa, 4);
	assert_memory_equal(p.arp.tpa, tpa, 4);
}

static void test_llc_not_snap(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_snap_arp);
	f[14] = 0x42; /* STP: DSAP 0x42 SSAP 0x42 UI */
	f[15] = 0x42;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_ETHERTYPE);
	assert_int_equal(p.flags, PKT_F_ETH);
	assert_int_equal(p.ethertype, 0);

	COPY(g, eth_snap_arp);
	g[19] = 0x0c; /* SNAP with the Cisco OUI (CDP): not an EtherType */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, g, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_ETHERTYPE);
	assert_false(p.flags & PKT_F_ARP);
}

static void test_llc_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_snap_arp);
	/* 802.3 length 2: not even the LLC header inside it (the rest is padding) */
	f[13] = 0x02;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_ETH_SHORT);
	/* length 6: LLC but a cut SNAP header */
	f[13] = 0x06;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_ETH_SHORT);
	/* length 30: SNAP and a cut ARP (the padding after it must not complete it) */
	f[13] = 30;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_ARP_SHORT);
}

static void test_sll(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_LINUX_SLL, sll_ipv4_icmp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_IP | PKT_F_ICMP); /* no destination MAC: no PKT_F_ETH */
	assert_int_equal(p.ethertype, 0x0800);
	assert_int_equal(p.icmp_type, 0);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.payload_len, 4);
	assert_ptr_equal(p.payload, &sll_ipv4_icmp[16 + 20 + 4]);

	assert_int_equal(DEC(&p, DEC_LINK_LINUX_SLL, sll_vlan_arp, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_ARP);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan[0], 7);
	assert_memory_equal(p.arp.sha, mac_a, 6);
}

static void test_sll_other(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, sll_ipv4_icmp);
	f[14] = 0x00; /* protocol 0x0003: not an EtherType, not LLC */
	f[15] = 0x03;
	assert_int_equal(DEC(&p, DEC_LINK_LINUX_SLL, f, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_ETHERTYPE);
	assert_int_equal(p.flags, 0);
}

static void test_sll_llc(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* SLL protocol 0x0004: the frame is LLC/SNAP, here ARP */
	uint8_t f[16 + 8 + 28];
	memcpy(f, sll_vlan_arp, 14);
	f[14] = 0x00;
	f[15] = 0x04;
	memcpy(&f[16], &eth_snap_arp[14], 8 + 28);
	assert_int_equal(DEC(&p, DEC_LINK_LINUX_SLL, f, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_ARP);
}

static void test_sll_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(dec(&p, DEC_LINK_LINUX_SLL, sll_ipv4_icmp, 15, &notes), DEC_ERR_SLL_SHORT);
	assert_int_equal(dec(&p, DEC_LINK_LINUX_SLL2, sll2_ipv6_udp, 19, &notes),
			 DEC_ERR_SLL_SHORT);
}

static void test_sll2(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_LINUX_SLL2, sll2_ipv6_udp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_IP | PKT_F_UDP);
	assert_int_equal(p.ethertype, 0x86dd);
	assert_v6(&p.src, v6_a);
	assert_v6(&p.dst, v6_b);
	assert_int_equal(p.ip_ttl, 64);
	assert_int_equal(p.ip_id, 0);
	assert_int_equal(p.sport, 546);
	assert_int_equal(p.dport, 547);
	assert_int_equal(p.payload_len, 1);
	assert_int_equal(p.payload[0], 0x01);
}

static void test_null(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	assert_int_equal(DEC(&p, DEC_LINK_NULL, null_le_ipv4_tcp, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_IP | PKT_F_TCP);
	assert_int_equal(p.ethertype, 0x0800);
	assert_v4(&p.src, lo);
	assert_int_equal(p.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(p.payload_len, 0);

	assert_int_equal(DEC(&p, DEC_LINK_NULL, null_be30_ipv6, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_IP);
	assert_int_equal(p.ethertype, 0x86dd);
	assert_int_equal(p.ip_proto, 59);

	/* host-order 2 written big-endian */
	COPY(f, null_le_ipv4_tcp);
	f[0] = 0;
	f[3] = 2;
	assert_int_equal(DEC(&p, DEC_LINK_NULL, f, &notes), DEC_OK);
	assert_true(p.flags & PKT_F_TCP);

	/* AF_INET6 as NetBSD/OpenBSD (24) and FreeBSD (28) write it, either order */
	COPY(g, null_be30_ipv6);
	g[3] = 24;
	assert_int_equal(DEC(&p, DEC_LINK_NULL, g, &notes), DEC_OK);
	assert_true(p.flags & PKT_F_IP);
	g[3] = 0;
	g[0] = 28;
	assert_int_equal(DEC(&p, DEC_LINK_NULL, g, &notes), DEC_OK);
	assert_true(p.flags & PKT_F_IP);

	/* family 7 (OSI): counted, not decoded */
	g[0] = 7;
	assert_int_equal(DEC(&p, DEC_LINK_NULL, g, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_ETHERTYPE);
	assert_int_equal(p.flags, 0);
}

static void test_null_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(dec(&p, DEC_LINK_NULL, null_le_ipv4_tcp, 3, &notes), DEC_ERR_NULL_SHORT);
}

static void test_raw(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	static const int v4links[] = { DEC_LINK_RAW, DEC_LINK_DLT_RAW, DEC_LINK_DLT_RAW14,
				       DEC_LINK_IPV4 };
	static const int v6links[] = { DEC_LINK_RAW, DEC_LINK_DLT_RAW, DEC_LINK_DLT_RAW14,
				       DEC_LINK_IPV6 };

	for (size_t i = 0; i < sizeof(v4links) / sizeof(v4links[0]); i++) {
		assert_int_equal(DEC(&p, v4links[i], raw_ipv4_udp, &notes), DEC_OK);
		assert_int_equal(p.flags, PKT_F_IP | PKT_F_UDP);
		assert_int_equal(p.ethertype, 0x0800);
		assert_int_equal(p.dport, 53);
		assert_int_equal(p.payload_len, 3);
		assert_memory_equal(p.payload, "abc", 3);
	}
	for (size_t i = 0; i < sizeof(v6links) / sizeof(v6links[0]); i++) {
		assert_int_equal(DEC(&p, v6links[i], raw_ipv6_icmp6, &notes), DEC_OK);
		assert_int_equal(p.flags, PKT_F_IP | PKT_F_ICMP);
		assert_int_equal(p.ethertype, 0x86dd);
		assert_int_equal(p.ip_ttl, 255);
		assert_int_equal(p.icmp_type, 135);
		assert_int_equal(p.payload_len, 4);
	}
}

static void test_raw_version(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* the link type fixes the version: IPv6 on LINKTYPE_IPV4 and back */
	assert_int_equal(DEC(&p, DEC_LINK_IPV4, raw_ipv6_icmp6, &notes), DEC_ERR_IP_VERSION);
	assert_int_equal(DEC(&p, DEC_LINK_IPV6, raw_ipv4_udp, &notes), DEC_ERR_IP_VERSION);
	COPY(f, raw_ipv4_udp);
	f[0] = 0x55; /* version 5 */
	assert_int_equal(DEC(&p, DEC_LINK_RAW, f, &notes), DEC_ERR_IP_VERSION);
	assert_int_equal(p.flags, 0);
	/* nothing at all */
	assert_int_equal(dec(&p, DEC_LINK_RAW, raw_ipv4_udp, 0, &notes), DEC_ERR_IPV4_SHORT);
	assert_int_equal(dec(&p, DEC_LINK_IPV6, raw_ipv6_icmp6, 0, &notes), DEC_ERR_IPV6_SHORT);
}

static void test_linktype(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	static const int ok[] = { DEC_LINK_NULL, DEC_LINK_EN10MB, DEC_LINK_RAW, DEC_LINK_DLT_RAW,
				  DEC_LINK_DLT_RAW14, DEC_LINK_LINUX_SLL, DEC_LINK_IPV4,
				  DEC_LINK_IPV6, DEC_LINK_LINUX_SLL2 };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(dec_linktype_supported(ok[i]));
	assert_false(dec_linktype_supported(105)); /* 802.11 */
	assert_false(dec_linktype_supported(-1));
	assert_int_equal(DEC(&p, 105, eth_ipv4_tcp, &notes), DEC_ERR_LINKTYPE);
	assert_int_equal(p.flags, 0);
	assert_int_equal(notes, 0);
}

/* ---------------------------------------------------------------- IPv4 */

static void test_ipv4_options_icmp(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_opts_icmp, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_ICMP);
	assert_int_equal(p.ip_proto, 1);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_ptr_equal(p.l4, &eth_ipv4_opts_icmp[ETH + 24]);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.payload_len, 8);
	assert_memory_equal(&p.payload[4], "ping", 4);
}

static void test_ipv4_bad_version(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[ETH] = 0x65; /* IPv6 nibble under EtherType IPv4 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_IP_VERSION);
	assert_int_equal(p.flags, PKT_F_ETH);
	COPY(g, eth_ipv6_nonext);
	g[ETH] = 0x45; /* IPv4 nibble under EtherType IPv6 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, g, &notes), DEC_ERR_IP_VERSION);
}

static void test_ipv4_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_ipv4_tcp, ETH + 19, &notes),
			 DEC_ERR_IPV4_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH);
}

static void test_ipv4_ihl(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[ETH] = 0x44; /* IHL 4: shorter than the fixed header */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_IPV4_IHL);
	assert_int_equal(p.flags, PKT_F_ETH);
	f[ETH] = 0x4f; /* IHL 15 = 60 bytes, 49 captured */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_IPV4_IHL);
}

static void test_ipv4_total_len(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[ETH + 3] = 19; /* total length 19 < 20-byte header */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_IPV4_LEN);
	assert_int_equal(p.flags, PKT_F_ETH);
	f[ETH + 3] = 0; /* 0, as TSO-offloaded host captures write it */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_IPV4_LEN);
	COPY(g, eth_ipv4_opts_icmp);
	g[ETH + 3] = 22; /* 22: longer than 20, shorter than this 24-byte header */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, g, &notes), DEC_ERR_IPV4_LEN);
}

static void test_ipv4_truncated(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* snaplen cut 2 bytes into the data: decoded, clipped, noted */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_ipv4_tcp, sizeof(eth_ipv4_tcp) - 3, &notes),
			 DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_IP_TRUNCATED);
	assert_true(p.flags & PKT_F_TCP);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.l4_len, 26);
}

/* The layers OR their notes into the caller's mask, which dec_packet() clears first:
 * a first fragment cut by the snaplen reports both, whatever the variable held. */
static void test_notes_combine(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes = 0xdeadbeef;
	COPY(f, eth_ipv4_tcp);
	f[ETH + 6] = 0x20; /* MF, offset 0: the first fragment, DF cleared */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, sizeof(f) - 3, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_IPV4_FRAGMENT | 1u << DEC_NOTE_IP_TRUNCATED);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_FRAG | PKT_F_TCP);
	assert_int_equal(p.payload_len, 2);
	/* and the next packet starts from none */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_tcp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
}

static void test_ipv4_frag(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_frag_first, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_IPV4_FRAGMENT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_FRAG | PKT_F_UDP);
	assert_int_equal(p.ip_id, 0x0bad);
	assert_int_equal(p.payload_len, 4); /* UDP length 1500 clipped to the fragment */
	assert_memory_equal(p.payload, "frag", 4);

	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_frag_later, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_IPV4_FRAGMENT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_FRAG | PKT_F_LATER_FRAG);
	assert_int_equal(p.ip_proto, 17);
	assert_null(p.l4);
	assert_null(p.payload);

	/* DF alone is not a fragment */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv4_tcp, &notes), DEC_OK);
	assert_false(p.flags & PKT_F_FRAG);
}

static void test_ipv4_other_proto(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[ETH + 9] = 47; /* GRE */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_IPPROTO);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	assert_int_equal(p.ip_proto, 47);
	assert_ptr_equal(p.l4, &f[TCP_OFF]);
	assert_int_equal(p.l4_len, 29);
	assert_null(p.payload);
	f[ETH + 9] = 58; /* ICMPv6 inside IPv4: not decoded as ICMP */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_IPPROTO);
	assert_false(p.flags & PKT_F_ICMP);
}

/* ---------------------------------------------------------------- IPv6 */

static void test_ipv6_hbh_icmp6(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv6_hbh_icmp6, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_ICMP);
	assert_v6(&p.src, v6_a);
	assert_v6(&p.dst, v6_b);
	assert_int_equal(p.ip_ttl, 1);
	assert_int_equal(p.ip_proto, 58);
	assert_int_equal(p.icmp_type, 143);
	assert_ptr_equal(p.l4, &eth_ipv6_hbh_icmp6[ETH + 48]);
	assert_int_equal(p.l4_len, 8);
	assert_int_equal(p.payload_len, 4);
}

static void test_ipv6_ext_tcp(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv6_ext_tcp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_TCP);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.tcp_flags, TCP_SYN);
	assert_int_equal(p.tcp_win, 1024);
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.payload_len, 0);

	/* mobility header (135) in the same place as the destination options */
	COPY(f, eth_ipv6_ext_tcp);
	f[ETH + 48] = 135; /* routing's next header */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_true(p.flags & PKT_F_TCP);
}

static void test_ipv6_ah(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv6_ah_udp, &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_UDP);
	assert_int_equal(p.sport, 500);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "ok", 2);
}

static void test_ipv6_frag(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv6_frag_first, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_IPV6_FRAGMENT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_FRAG | PKT_F_UDP);
	assert_int_equal(p.ip_proto, 17);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "data", 4);

	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv6_frag_later, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_IPV6_FRAGMENT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_FRAG | PKT_F_LATER_FRAG);
	assert_int_equal(p.ip_proto, 17);
	assert_null(p.l4);

	/* atomic fragment (offset 0, M 0; RFC 6946): a whole packet */
	COPY(f, eth_ipv6_frag_first);
	f[ETH + 40 + 3] = 0x00;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP | PKT_F_UDP);
}

static void test_ipv6_nonext(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_ipv6_nonext, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	assert_int_equal(p.ip_proto, 59);
	assert_null(p.l4);

	COPY(f, eth_ipv6_nonext);
	f[ETH + 6] = 50; /* ESP: opaque */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 1u << DEC_NOTE_OTHER_IPPROTO);
	assert_int_equal(p.ip_proto, 50);
}

static void test_ipv6_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_ipv6_nonext, ETH + 39, &notes),
			 DEC_ERR_IPV6_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH);
}

static void test_ipv6_truncated(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* payload length 44, 43 captured: the TCP header is cut */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_ipv6_ext_tcp, sizeof(eth_ipv6_ext_tcp) - 1,
			     &notes),
			 DEC_ERR_TCP_SHORT);
	assert_int_equal(notes, 1u << DEC_NOTE_IP_TRUNCATED);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	/* the payload length, not the frame, ends the packet */
	uint8_t f[sizeof(eth_ipv6_ah_udp) + 6];
	memcpy(f, eth_ipv6_ah_udp, sizeof(eth_ipv6_ah_udp));
	memset(&f[sizeof(eth_ipv6_ah_udp)], 0xee, 6); /* trailer */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.l4_len, 10);
}

static void test_ipv6_ext_truncated(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* hop-by-hop claiming len 2 (24 bytes) in a 16-byte payload */
	COPY(f, eth_ipv6_hbh_icmp6);
	f[ETH + 41] = 2;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_IPV6_EXT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	/* fewer than the 8 bytes every extension header has */
	COPY(g, eth_ipv6_hbh_icmp6);
	g[ETH + 5] = 6; /* payload length 6 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, g, &notes), DEC_ERR_IPV6_EXT);
	/* a fragment header cut after 4 bytes */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_ipv6_frag_first, ETH + 44, &notes),
			 DEC_ERR_IPV6_EXT);
	/* AH whose length runs past the payload: len 9 = 44 bytes */
	COPY(h, eth_ipv6_ah_udp);
	h[ETH + 41] = 9;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, h, &notes), DEC_ERR_IPV6_EXT);
}

/* An IPv6 packet of n empty destination-options headers, then no next header. */
static size_t build_dstopts(uint8_t *buf, size_t cap, unsigned n)
{
	static const uint8_t pad[8] = { 0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0 }; /* next dest-opts */
	size_t plen = 8 * (size_t)n;
	assert_true(cap >= ETH + 40 + plen);
	memcpy(buf, eth_ipv6_nonext, ETH + 40);
	buf[ETH + 4] = (uint8_t)(plen >> 8);
	buf[ETH + 5] = (uint8_t)plen;
	buf[ETH + 6] = n ? 60 : 59;
	for (unsigned i = 0; i < n; i++) {
		memcpy(&buf[ETH + 40 + 8 * i], pad, 8);
		if (i == n - 1)
			buf[ETH + 40 + 8 * i] = 59; /* last: no next header */
	}
	return ETH + 40 + plen;
}

static void test_ipv6_ext_too_long(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	uint8_t f[ETH + 40 + 8 * 32];
	size_t n = build_dstopts(f, sizeof(f), DEC_MAX_IPV6_EXT);
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, n, &notes), DEC_OK);
	assert_int_equal(p.ip_proto, 59);
	n = build_dstopts(f, sizeof(f), DEC_MAX_IPV6_EXT + 1);
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, n, &notes), DEC_ERR_IPV6_EXT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
}

/* ---------------------------------------------------------------- TCP, UDP, ICMP */

static void test_tcp_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[ETH + 3] = 39; /* IP length 39: 19 bytes of TCP */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_TCP_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	assert_int_equal(p.l4_len, 19);
}

static void test_tcp_doff(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_tcp);
	f[TCP_OFF + 12] = 0x40; /* data offset 4 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_TCP_DOFF);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	f[TCP_OFF + 12] = 0xf0; /* data offset 15 = 60 bytes, segment is 29 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_TCP_DOFF);
	f[TCP_OFF + 12] = 0x70; /* 28 bytes: inside the segment, 1 byte of data left */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(p.payload_len, 1);
	assert_int_equal(p.payload[0], 'o');
}

static void test_udp_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_udp_padded);
	f[ETH + 3] = 27; /* IP length 27: 7 bytes of UDP (the padding must not help) */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_UDP_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
}

static void test_udp_len(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_udp_padded);
	f[UDP_OFF + 5] = 7; /* UDP length 7 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_UDP_LEN);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	f[UDP_OFF + 5] = 10; /* 10: 2 of the 4 bytes are the datagram */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.l4_len, 10);
	f[UDP_OFF + 5] = 200; /* 200: more than the IP payload, clipped to it */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.l4_len, 12);
}

static void test_icmp_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_ipv4_opts_icmp);
	f[ETH + 3] = 27; /* IP length 27: 3 bytes of ICMP */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_ICMP_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_IP);
	assert_int_equal(dec(&p, DEC_LINK_IPV6, raw_ipv6_icmp6, 43, &notes), DEC_ERR_ICMP_SHORT);
}

/* ---------------------------------------------------------------- ARP */

static void test_arp(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	static const uint8_t zero[6], tpa[4] = { 192, 0, 2, 2 };
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, eth_arp, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_ARP);
	assert_int_equal(p.ethertype, 0x0806);
	assert_int_equal(p.arp.op, 1);
	assert_memory_equal(p.arp.sha, mac_a, 6);
	assert_memory_equal(p.arp.spa, v4_a, 4);
	assert_memory_equal(p.arp.tha, zero, 6);
	assert_memory_equal(p.arp.tpa, tpa, 4);
	assert_null(p.l4);
	assert_null(p.payload);
}

static void test_arp_short(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* fixed part cut */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_arp, ARP_OFF + 7, &notes), DEC_ERR_ARP_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH);
	/* addresses cut: tpa has 3 of its 4 bytes */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, eth_arp, ARP_OFF + 27, &notes),
			 DEC_ERR_ARP_SHORT);
	assert_int_equal(p.flags, PKT_F_ETH);
}

static void test_arp_format(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_arp);
	f[ARP_OFF + 4] = 8; /* hlen 8 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_ERR_ARP_FORMAT);
	assert_int_equal(p.flags, PKT_F_ETH);
	COPY(g, eth_arp);
	g[ARP_OFF + 5] = 16; /* plen 16 */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, g, &notes), DEC_ERR_ARP_FORMAT);
	COPY(h, eth_arp);
	h[ARP_OFF + 1] = 0x20; /* htype 32 (InfiniBand) */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, h, &notes), DEC_ERR_ARP_FORMAT);
	COPY(k, eth_arp);
	k[ARP_OFF + 2] = 0x86; /* ptype IPv6 */
	k[ARP_OFF + 3] = 0xdd;
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, k, &notes), DEC_ERR_ARP_FORMAT);
	/* wrong format is reported even when the rest is cut */
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, f, ARP_OFF + 8, &notes), DEC_ERR_ARP_FORMAT);
}

static void test_arp_htype6(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	COPY(f, eth_arp);
	f[ARP_OFF + 1] = 6; /* IEEE 802: Linux accepts it on Ethernet */
	assert_int_equal(DEC(&p, DEC_LINK_EN10MB, f, &notes), DEC_OK);
	assert_true(p.flags & PKT_F_ARP);
}

/* ---------------------------------------------------------------- whole-packet behaviour */

static void test_reuse_resets(void **state)
{
	(void)state;
	struct pkt p;
	uint32_t notes;
	/* a tagged UDP packet, then ARP into the same struct: nothing of the first shows */
	assert_int_equal(dec_packet(&p, DEC_LINK_EN10MB, eth_qinq_udp, sizeof(eth_qinq_udp), &notes),
			 DEC_OK);
	assert_int_equal(dec_packet(&p, DEC_LINK_EN10MB, eth_arp, sizeof(eth_arp), &notes), DEC_OK);
	assert_int_equal(p.flags, PKT_F_ETH | PKT_F_ARP);
	assert_int_equal(p.nvlan, 0);
	assert_null(p.l4);
	assert_int_equal(p.l4_len, 0);
	assert_null(p.payload);
	assert_int_equal(p.payload_len, 0);
	/* notes are replaced, not accumulated */
	assert_int_equal(dec_packet(&p, DEC_LINK_EN10MB, eth_ipv4_frag_later,
				    sizeof(eth_ipv4_frag_later), &notes),
			 DEC_OK);
	assert_int_equal(dec_packet(&p, DEC_LINK_EN10MB, eth_arp, sizeof(eth_arp), &notes), DEC_OK);
	assert_int_equal(notes, 0);
	/* notes may be NULL */
	assert_int_equal(dec_packet(&p, DEC_LINK_EN10MB, eth_arp, sizeof(eth_arp), NULL), DEC_OK);
}

static void test_strings(void **state)
{
	(void)state;
	for (int i = 0; i < DEC_RESULT_MAX; i++) {
		const char *s = dec_result_str((enum dec_result)i);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s, dec_result_str((enum dec_result)j));
	}
	for (int i = 0; i < DEC_NOTE_MAX; i++) {
		const char *s = dec_note_str((enum dec_note)i);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s, dec_note_str((enum dec_note)j));
	}
	assert_string_equal(dec_result_str(DEC_OK), "ok");
	assert_string_equal(dec_result_str(DEC_ERR_TCP_DOFF), "tcp_doff");
	assert_string_equal(dec_result_str(DEC_RESULT_MAX), "unknown");
	assert_string_equal(dec_result_str((enum dec_result)-1), "unknown");
	assert_string_equal(dec_note_str(DEC_NOTE_MAX), "unknown");
}

struct frame {
	const char *name;
	int linktype;
	const uint8_t *bytes;
	size_t len;
	size_t pad; /* trailing link padding, not part of the packet */
};

#define FRAME(lt, a) { #a, lt, a, sizeof(a), 0 }
#define FRAME_PAD(lt, a, pad) { #a, lt, a, sizeof(a), pad }

static const struct frame good[] = {
	FRAME(DEC_LINK_EN10MB, eth_ipv4_tcp),
	FRAME_PAD(DEC_LINK_EN10MB, eth_ipv4_udp_padded, 14),
	FRAME(DEC_LINK_EN10MB, eth_ipv4_opts_icmp),
	FRAME_PAD(DEC_LINK_EN10MB, eth_arp, 18),
	FRAME(DEC_LINK_EN10MB, eth_vlan_arp),
	FRAME(DEC_LINK_EN10MB, eth_qinq_udp),
	FRAME_PAD(DEC_LINK_EN10MB, eth_snap_arp, 10),
	FRAME(DEC_LINK_EN10MB, eth_ipv6_hbh_icmp6),
	FRAME(DEC_LINK_EN10MB, eth_ipv6_ext_tcp),
	FRAME(DEC_LINK_EN10MB, eth_ipv6_ah_udp),
	FRAME(DEC_LINK_EN10MB, eth_ipv6_frag_first),
	FRAME(DEC_LINK_EN10MB, eth_ipv6_frag_later),
	FRAME(DEC_LINK_EN10MB, eth_ipv6_nonext),
	FRAME(DEC_LINK_EN10MB, eth_ipv4_frag_first),
	FRAME(DEC_LINK_EN10MB, eth_ipv4_frag_later),
	FRAME(DEC_LINK_LINUX_SLL, sll_ipv4_icmp),
	FRAME(DEC_LINK_LINUX_SLL, sll_vlan_arp),
	FRAME(DEC_LINK_LINUX_SLL2, sll2_ipv6_udp),
	FRAME(DEC_LINK_NULL, null_le_ipv4_tcp),
	FRAME(DEC_LINK_NULL, null_be30_ipv6),
	FRAME(DEC_LINK_RAW, raw_ipv4_udp),
	FRAME(DEC_LINK_IPV4, raw_ipv4_udp),
	FRAME(DEC_LINK_DLT_RAW, raw_ipv6_icmp6),
	FRAME(DEC_LINK_IPV6, raw_ipv6_icmp6),
};

static int within(const uint8_t *q, size_t n, const uint8_t *base, size_t len)
{
	uintptr_t a = (uintptr_t)q, b = (uintptr_t)base;
	return a >= b && a - b <= len && n <= len - (a - b);
}

/* Every prefix of every good frame, each from a heap block of exactly its length, so a
 * read one byte too far is an ASan report. Every borrowed pointer must stay inside; a
 * cut packet decodes only when it says it was cut; cutting padding changes nothing. */
static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct frame *fr = &good[i];
		struct pkt p;
		uint32_t notes;

		assert_int_equal(dec(&p, fr->linktype, fr->bytes, fr->len, &notes), DEC_OK);
		for (size_t n = 0; n <= fr->len; n++) {
			uint8_t *b = malloc(n ? n : 1);
			assert_non_null(b);
			memcpy(b, fr->bytes, n);
			enum dec_result r = dec(&p, fr->linktype, b, n, &notes);
			assert_true((unsigned)r < DEC_RESULT_MAX);
			assert_true(p.nvlan <= DEC_MAX_VLAN);
			if (p.l4)
				assert_true(within(p.l4, p.l4_len, b, n));
			else
				assert_int_equal(p.l4_len, 0);
			if (p.payload)
				assert_true(within(p.payload, p.payload_len, p.l4, p.l4_len));
			else
				assert_int_equal(p.payload_len, 0);
			if (n >= fr->len - fr->pad)
				assert_int_equal(r, DEC_OK);
			else if (r == DEC_OK)
				assert_true(notes & (1u << DEC_NOTE_IP_TRUNCATED));
			free(b);
		}
	}
}

/* ---------------------------------------------------------------- the bulk shape */

/* IPv6 straight to TCP (no extension header), ACK with 3 bytes of data. */
static const uint8_t eth_ipv6_tcp[] = {
	ETH_IPV6,
	/* IPv6: version 6, plen 23, next TCP, hop limit 64, A -> B */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x17, 0x06, 0x40, V6_A, V6_B,
	/* TCP: 443 -> 50000, seq 1, ack 2, doff 5, ACK, win 512 */
	0x01, 0xbb, 0xc3, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x50, 0x10, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	'a', 'b', 'c',
};

/* dec_tcp_bulk() may only accept what dec_packet() decodes as a complete TCP packet
 * with no notes, no tags, no SYN/FIN/RST, and the same addresses and ports: checked on
 * every good frame, every prefix of it, and every single-byte change of its headers to
 * a set of values that hit each check (versions, IHL, lengths, flags, next headers). */
static void bulk_agrees(const uint8_t *b, size_t n)
{
	struct dec_bulk k;
	struct pkt p;
	uint32_t notes;

	if (!dec_tcp_bulk(b, n, &k))
		return;
	assert_int_equal(dec(&p, DEC_LINK_EN10MB, b, n, &notes), DEC_OK);
	assert_int_equal(notes, 0);
	assert_int_equal(p.nvlan, 0);
	assert_true(p.flags & PKT_F_TCP);
	assert_false(p.flags & (PKT_F_FRAG | PKT_F_LATER_FRAG));
	assert_int_equal(p.tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST), 0);
	assert_int_equal(p.src.family, k.family);
	assert_memory_equal(p.src.a, k.src, k.family == 4 ? 4 : 16);
	assert_memory_equal(p.dst.a, k.dst, k.family == 4 ? 4 : 16);
	assert_int_equal(p.sport, k.sport);
	assert_int_equal(p.dport, k.dport);
}

static void test_bulk_shape(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x10, 0x11, 0x18,
					0x20, 0x3f, 0x40, 0x45, 0x46, 0x50, 0x60, 0x86, 0xdd,
					0xf0, 0xff };
	struct dec_bulk k;
	(void)state;

	/* The two shapes it exists for. */
	assert_true(dec_tcp_bulk(eth_ipv4_tcp, sizeof(eth_ipv4_tcp), &k));
	assert_int_equal(k.family, 4);
	assert_int_equal(k.sport, 49152);
	assert_int_equal(k.dport, 443);
	assert_memory_equal(k.src, v4_a, 4);
	assert_true(dec_tcp_bulk(eth_ipv6_tcp, sizeof(eth_ipv6_tcp), &k));
	assert_int_equal(k.family, 6);
	assert_memory_equal(k.dst, v6_b, 16);
	/* What it leaves to dec_packet(): extension headers, options, a SYN, a cut. */
	assert_false(dec_tcp_bulk(eth_ipv6_ext_tcp, sizeof(eth_ipv6_ext_tcp), &k));
	assert_false(dec_tcp_bulk(eth_ipv4_opts_icmp, sizeof(eth_ipv4_opts_icmp), &k));
	COPY(syn, eth_ipv4_tcp);
	syn[TCP_OFF + 13] = 0x02;
	assert_false(dec_tcp_bulk(syn, sizeof(syn), &k));
	assert_false(dec_tcp_bulk(eth_ipv4_tcp, sizeof(eth_ipv4_tcp) - 1, &k)); /* IP length > capture */

	const struct frame extra[] = { FRAME(DEC_LINK_EN10MB, eth_ipv6_tcp) };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]) + 1; i++) {
		const struct frame *fr = i < sizeof(good) / sizeof(good[0]) ? &good[i] : &extra[0];
		if (fr->linktype != DEC_LINK_EN10MB)
			continue;
		uint8_t *b = malloc(fr->len);
		assert_non_null(b);
		for (size_t n = 0; n <= fr->len; n++) {
			memcpy(b, fr->bytes, n);
			bulk_agrees(b, n);
		}
		size_t hdr = fr->len < 80 ? fr->len : 80;
		for (size_t at = 0; at < hdr; at++) {
			for (size_t v = 0; v < sizeof(vals); v++) {
				memcpy(b, fr->bytes, fr->len);
				b[at] = vals[v];
				bulk_agrees(b, fr->len);
			}
		}
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_shape),
		cmocka_unit_test(test_eth_ipv4_tcp),
		cmocka_unit_test(test_eth_padding_not_payload),
		cmocka_unit_test(test_eth_short),
		cmocka_unit_test(test_eth_other_ethertype),
		cmocka_unit_test(test_vlan_arp),
		cmocka_unit_test(test_qinq),
		cmocka_unit_test(test_vlan_0x9100),
		cmocka_unit_test(test_vlan_depth),
		cmocka_unit_test(test_vlan_short),
		cmocka_unit_test(test_snap_arp),
		cmocka_unit_test(test_llc_not_snap),
		cmocka_unit_test(test_llc_short),
		cmocka_unit_test(test_sll),
		cmocka_unit_test(test_sll_other),
		cmocka_unit_test(test_sll_llc),
		cmocka_unit_test(test_sll_short),
		cmocka_unit_test(test_sll2),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_null_short),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_raw_version),
		cmocka_unit_test(test_linktype),
		cmocka_unit_test(test_ipv4_options_icmp),
		cmocka_unit_test(test_ipv4_bad_version),
		cmocka_unit_test(test_ipv4_short),
		cmocka_unit_test(test_ipv4_ihl),
		cmocka_unit_test(test_ipv4_total_len),
		cmocka_unit_test(test_ipv4_truncated),
		cmocka_unit_test(test_notes_combine),
		cmocka_unit_test(test_ipv4_frag),
		cmocka_unit_test(test_ipv4_other_proto),
		cmocka_unit_test(test_ipv6_hbh_icmp6),
		cmocka_unit_test(test_ipv6_ext_tcp),
		cmocka_unit_test(test_ipv6_ah),
		cmocka_unit_test(test_ipv6_frag),
		cmocka_unit_test(test_ipv6_nonext),
		cmocka_unit_test(test_ipv6_short),
		cmocka_unit_test(test_ipv6_truncated),
		cmocka_unit_test(test_ipv6_ext_truncated),
		cmocka_unit_test(test_ipv6_ext_too_long),
		cmocka_unit_test(test_tcp_short),
		cmocka_unit_test(test_tcp_doff),
		cmocka_unit_test(test_udp_short),
		cmocka_unit_test(test_udp_len),
		cmocka_unit_test(test_icmp_short),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_arp_short),
		cmocka_unit_test(test_arp_format),
		cmocka_unit_test(test_arp_htype6),
		cmocka_unit_test(test_reuse_resets),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_every_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
