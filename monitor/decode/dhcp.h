/* dhcp.h - DHCPv4 (RFC 2131/2132: BOOTP header and options, option overload of sname
 * and file, long options split across instances per RFC 3396) and DHCPv6 (RFC 8415:
 * client/server messages, relay wrappers) decoded into struct dhcp_msg for the dhcp
 * detector: who answers (server identifier / DUID), what it hands out (addresses,
 * routers, DNS servers, lease time) and to whom (client hardware address / DUID).
 */
#ifndef ONPATH_DECODE_DHCP_H
#define ONPATH_DECODE_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define DHCP_PORT_SERVER 67
#define DHCP_PORT_CLIENT 68
#define DHCP6_PORT_CLIENT 546
#define DHCP6_PORT_SERVER 547

#define DHCP_MAX_ROUTERS 8       /* router addresses kept (more are counted as dropped) */
#define DHCP_MAX_DNS 8           /* DNS server addresses kept */
#define DHCP_MAX_ADDRS 8         /* DHCPv6 IA_NA addresses kept */
#define DHCP_MAX_ID 130          /* client id / DUID bytes kept (RFC 8415 11.1: DUID <= 130) */
#define DHCP_MAX_OPT_BYTES 1024  /* bytes of one concatenated DHCPv4 option (RFC 3396) */
#define DHCP6_MAX_RELAY 32       /* relay wrappers peeled (RFC 8415 HOP_COUNT_LIMIT is 8) */
#define DHCP6_MAX_IA_DEPTH 2     /* IA_NA -> IAADDR: options nested this deep are read */

/* DHCPv4 message types (option 53). */
#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_DECLINE 4
#define DHCP_ACK 5
#define DHCP_NAK 6
#define DHCP_RELEASE 7
#define DHCP_INFORM 8
/* DHCPv6 message types. */
#define DHCP6_SOLICIT 1
#define DHCP6_ADVERTISE 2
#define DHCP6_REQUEST 3
#define DHCP6_CONFIRM 4
#define DHCP6_RENEW 5
#define DHCP6_REBIND 6
#define DHCP6_REPLY 7
#define DHCP6_RELEASE 8
#define DHCP6_DECLINE 9
#define DHCP6_RECONFIGURE 10
#define DHCP6_INFORMATION_REQUEST 11
#define DHCP6_RELAY_FORW 12
#define DHCP6_RELAY_REPL 13

/* Why a message was not decoded (0 is success). */
enum dhcp_err {
	DHCP_OK = 0,
	DHCP_ERR_NOT_DHCP,     /* not UDP, or ports/IP version not DHCPv4 or DHCPv6 */
	DHCP_ERR_SHORT,        /* BOOTP header (236 bytes) or DHCPv6 header truncated */
	DHCP_ERR_OP,           /* BOOTP op neither request (1) nor reply (2) */
	DHCP_ERR_COOKIE,       /* no DHCP magic cookie: plain BOOTP or not DHCP at all */
	DHCP_ERR_OPT_TRUNC,    /* an option's length runs past its field */
	DHCP_ERR_RELAY,        /* DHCPv6 relay nesting deeper than DHCP6_MAX_RELAY, or a relay
	                        * message without its Relay Message option */
	DHCP_ERR_MAX
};

/* One decoded DHCPv4 or DHCPv6 message. Self-contained (no pointers into the packet).
 * Lists are capped at DHCP_MAX_*; what did not fit is counted in dropped. */
struct dhcp_msg {
	uint8_t version;          /* 4 or 6 */
	uint8_t type;             /* v4: option 53 (0 = absent); v6: msg-type of the innermost
	                           * message (relay wrappers peeled) */
	uint8_t op;               /* v4 BOOTP op (1 request, 2 reply); v6 0 */
	uint8_t relay_hops;       /* v6: relay wrappers peeled; v4: BOOTP hops */
	uint32_t xid;             /* v4 32 bits, v6 24 bits */
	/* DHCPv4 header */
	uint8_t htype, hlen;
	uint8_t chaddr[16];       /* client hardware address (first hlen bytes, hlen <= 16) */
	uint8_t ciaddr[4], yiaddr[4], siaddr[4], giaddr[4];
	uint8_t overload;         /* option 52 value (1 file, 2 sname, 3 both), 0 = none */
	/* Server identity: v4 option 54, v6 option 2 (DUID). */
	bool has_server_id;
	struct op_addr server_id;
	uint8_t server_duid[DHCP_MAX_ID];
	uint8_t server_duid_len;
	/* Client identity: v4 option 61, v6 option 1 (DUID). */
	uint8_t client_id[DHCP_MAX_ID];
	uint8_t client_id_len;
	/* What the server hands out. */
	struct op_addr routers[DHCP_MAX_ROUTERS];   /* v4 option 3 */
	uint8_t nrouters;
	struct op_addr dns[DHCP_MAX_DNS];           /* v4 option 6, v6 option 23 */
	uint8_t ndns;
	struct op_addr addrs[DHCP_MAX_ADDRS];       /* v6 IA_NA/IAADDR */
	uint8_t naddrs;
	bool has_routers, has_dns;                  /* the option was present (even empty) */
	bool has_lease;
	uint32_t lease_s;                           /* v4 option 51; v6 valid lifetime of the first address */
	bool has_requested_ip;
	uint8_t requested_ip[4];                    /* v4 option 50 */
	uint16_t noptions;                          /* options walked */
	uint16_t bad_options;                       /* known options with an invalid length: ignored */
	uint16_t dropped;                           /* list entries beyond the caps */
};

/* Decodes the UDP payload of p as DHCP: DHCPv4 when p is IPv4 and a port is 67 or 68,
 * DHCPv6 when p is IPv6 and a port is 546 or 547. Returns DHCP_OK (0) with *out filled,
 * or an enum dhcp_err reason (*out then partly filled, not to be judged). */
int dec_dhcp(const struct pkt *p, struct dhcp_msg *out);
/* Stable short name of a reason ("opt_trunc"), for stats. */
const char *dec_dhcp_strerror(int err);

#endif
