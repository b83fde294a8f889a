/* ndp.h - IPv6 Neighbor Discovery messages (RFC 4861: RS, RA, NS, NA, Redirect) with
 * their options (link-layer addresses, prefix information, MTU; route information,
 * RFC 4191; RDNSS and DNSSL, RFC 8106), decoded from an ICMPv6 packet into
 * struct ndp_msg for the ndp detector.
 *
 * The decoder applies the validity checks of RFC 4861 that make a host discard a
 * message (hop limit 255, code 0, minimum lengths, no zero-length option, RA and
 * Redirect from a link-local source, no source link-layer option with an unspecified
 * source): a message a host would ignore cannot poison it, so it is counted by reason
 * instead of judged.
 */
#ifndef ONPATH_DECODE_NDP_H
#define ONPATH_DECODE_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define NDP_RS 133
#define NDP_RA 134
#define NDP_NS 135
#define NDP_NA 136
#define NDP_REDIRECT 137

#define NDP_MAX_OPTIONS 256   /* options walked before the message is rejected */
#define NDP_MAX_PREFIXES 16   /* prefix information options kept (more are counted) */
#define NDP_MAX_ROUTES 16     /* route information options kept */
#define NDP_MAX_RDNSS 16      /* recursive DNS server addresses kept, all options together */
#define NDP_MAX_DNSSL 256     /* bytes of search-list text kept ("a.example,b.example") */
#define NDP_MAX_LABEL 63      /* RFC 1035 label and name limits, for DNSSL */
#define NDP_MAX_NAME 255

/* RA flags (byte after the current hop limit). */
#define NDP_RA_MANAGED 0x80
#define NDP_RA_OTHER 0x40
/* NA flags. */
#define NDP_NA_ROUTER 0x80
#define NDP_NA_SOLICITED 0x40
#define NDP_NA_OVERRIDE 0x20

/* Why a message was not decoded (0 is success). */
enum ndp_err {
	NDP_OK = 0,
	NDP_ERR_NOT_NDP,     /* not ICMPv6 over IPv6, or a type outside 133..137 */
	NDP_ERR_SHORT,       /* fixed part of the message truncated */
	NDP_ERR_CODE,        /* ICMP code not 0 */
	NDP_ERR_HOPLIMIT,    /* hop limit not 255: sent from off-link, hosts discard it */
	NDP_ERR_OPT_ZERO,    /* an option of length 0 (RFC 4861 4.6: discard the message) */
	NDP_ERR_OPT_TRUNC,   /* an option's length runs past the message */
	NDP_ERR_OPT_COUNT,   /* more than NDP_MAX_OPTIONS options */
	NDP_ERR_INVALID,     /* fails an RFC 4861 validity check: RA/Redirect not from a
	                      * link-local source, multicast NS/NA target, NS from :: with
	                      * a source link-layer address */
	NDP_ERR_MAX
};

struct ndp_prefix {
	uint8_t len;        /* prefix length in bits */
	uint8_t flags;      /* L 0x80, A 0x40 */
	uint32_t valid_s, preferred_s;
	uint8_t prefix[16];
};

struct ndp_route {
	uint8_t len;
	uint8_t pref;       /* 2-bit preference field (RFC 4191) */
	uint32_t lifetime_s;
	uint8_t prefix[16]; /* zero beyond what the option carried */
};

/* One decoded Neighbor Discovery message. Self-contained (no pointers into the
 * packet). Lists are capped at NDP_MAX_*; what did not fit is counted in dropped. */
struct ndp_msg {
	uint8_t type;            /* NDP_RS .. NDP_REDIRECT */
	uint8_t hop_limit;       /* of the IPv6 header (always 255 when decoded) */
	/* RA */
	uint8_t cur_hop_limit;
	uint8_t ra_flags;        /* NDP_RA_* and the preference bits */
	uint16_t router_lifetime_s;
	uint32_t reachable_ms, retrans_ms;
	/* NA */
	uint8_t na_flags;        /* NDP_NA_* */
	/* NS, NA, Redirect */
	uint8_t target[16];
	/* Redirect */
	uint8_t dest[16];
	/* Options */
	bool has_sll, has_tll, has_mtu;
	uint8_t sll[6], tll[6];
	uint32_t mtu;
	struct ndp_prefix prefixes[NDP_MAX_PREFIXES];
	uint8_t nprefixes;
	struct ndp_route routes[NDP_MAX_ROUTES];
	uint8_t nroutes;
	uint8_t rdnss[NDP_MAX_RDNSS][16];
	uint8_t nrdnss;
	uint32_t rdnss_lifetime_s; /* of the first RDNSS option */
	char dnssl[NDP_MAX_DNSSL]; /* names joined by ',', raw label bytes (escape on output) */
	uint16_t dnssl_len;
	uint32_t dnssl_lifetime_s;
	uint16_t noptions;         /* options walked */
	uint16_t bad_options;      /* known options with an invalid length: ignored, as hosts do */
	uint16_t unknown_options;
	uint16_t dropped;          /* list entries beyond the caps */
};

/* Decodes the ICMPv6 message of p (p->flags has PKT_F_IP|PKT_F_ICMP, p->ip_proto 58,
 * p->icmp_type 133..137; p->payload is the body after the 4-byte ICMP header).
 * Returns NDP_OK (0) with *out filled, or an enum ndp_err reason (*out then partly
 * filled, not to be judged). */
int dec_ndp(const struct pkt *p, struct ndp_msg *out);
/* Stable short name of a reason ("opt_zero"), for stats. */
const char *dec_ndp_strerror(int err);

#endif
