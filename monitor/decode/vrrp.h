/* vrrp.h - VRRP advertisements (RFC 3768 VRRPv2 over IPv4, RFC 5798 VRRPv3 over IPv4
 * and IPv6), decoded from an IP packet of protocol 112 into struct vrrp_msg for the
 * fhrp detector.
 *
 * The decoder checks what makes the message a VRRP advertisement (version 2 or 3, type
 * 1, an address count that agrees with the length, v2 only over IPv4). It does NOT
 * drop what a router would discard for where it came from (TTL / hop limit not 255,
 * RFC 3768 7.1, RFC 5798 5.1.1.3; a destination other than 224.0.0.18 / ff02::12): a
 * forged or routed advertisement is what the detector wants to see, so those are
 * reported in ttl and to_group. The checksum is not verified.
 */
#ifndef ONPATH_DECODE_VRRP_H
#define ONPATH_DECODE_VRRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define VRRP_IPPROTO 112
#define VRRP_TTL 255           /* RFC 3768 7.1, RFC 5798 5.1.1.3: anything else is discarded */
#define VRRP_TYPE_ADVERT 1
#define VRRP_HLEN 8            /* fixed header, both versions */
#define VRRP_V2_AUTH_LEN 8     /* v2 authentication data after the addresses */
#define VRRP_MAX_ADDRS 16      /* virtual addresses kept (the count may say up to 255) */

/* v2 authentication types (RFC 2338 5.3.6; RFC 3768 keeps only 0). */
#define VRRP_AUTH_NONE 0
#define VRRP_AUTH_SIMPLE 1
#define VRRP_AUTH_AH 2

/* Why a packet was not decoded (0 is success). */
enum vrrp_err {
	VRRP_OK = 0,
	VRRP_ERR_NOT_VRRP,   /* not an IPv4/IPv6 packet of protocol 112 with its header */
	VRRP_ERR_SHORT,      /* fixed header truncated */
	VRRP_ERR_VERSION,    /* version not 2 or 3, or version 2 over IPv6 */
	VRRP_ERR_TYPE,       /* type not 1 (advertisement) */
	VRRP_ERR_COUNT,      /* address count 0, or disagreeing with the length */
	VRRP_ERR_MAX
};

/* One decoded advertisement. Self-contained (no pointers into the packet). */
struct vrrp_msg {
	uint8_t version;          /* 2 or 3 */
	uint8_t type;             /* VRRP_TYPE_ADVERT */
	uint8_t vrid;             /* virtual router ID, 1..255 (0 is kept as seen) */
	uint8_t priority;         /* 255 = address owner, 0 = the master resigns */
	uint8_t count;            /* address count as on the wire */
	uint8_t naddrs;           /* addresses kept in addrs (<= VRRP_MAX_ADDRS) */
	uint8_t family;           /* 4 or 6: of the IP header, and of every address */
	uint16_t interval_cs;     /* advertisement interval in centiseconds (v2: seconds * 100) */
	uint8_t auth_type;        /* v2 only (0 in v3) */
	bool has_auth_data;       /* v2: the 8 bytes of authentication data were present */
	uint8_t auth_data[VRRP_V2_AUTH_LEN]; /* raw, attacker-chosen (escape on output) */
	uint16_t checksum;        /* as on the wire, not verified */
	uint8_t addrs[VRRP_MAX_ADDRS][16]; /* IPv4 in the first 4 bytes */
	/* From the IP header, for the detector to judge. */
	uint8_t ttl;              /* TTL / hop limit */
	bool to_group;            /* destination is 224.0.0.18 (v4) or ff02::12 (v6) */
};

/* Decodes the VRRP message of p (PKT_F_IP, ip_proto 112, not a later fragment; p->l4 /
 * p->l4_len the VRRP bytes). Returns VRRP_OK (0) with *out filled, or an enum vrrp_err
 * reason (*out then partly filled, not to be judged). */
int dec_vrrp(const struct pkt *p, struct vrrp_msg *out);
/* The same on a bare VRRP message of an IP packet of the given family (4 or 6); ttl and
 * to_group are left 0/false. */
int dec_vrrp_msg(const uint8_t *b, size_t len, uint8_t family, struct vrrp_msg *out);
/* Stable short name of a reason ("count"), for stats. */
const char *dec_vrrp_strerror(int err);

#endif
