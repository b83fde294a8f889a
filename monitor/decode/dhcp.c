#include "config.h"

/* dhcp.c - DHCPv4 (RFC 2131, options RFC 2132, long options RFC 3396) and DHCPv6
 * (RFC 8415) messages -> struct dhcp_msg. */

#include <string.h>

#include "dhcp.h"
#include "internal.h"
#include "reader.h"

#define BOOTP_FIXED_LEN 44   /* op .. chaddr */
#define BOOTP_SNAME_LEN 64
#define BOOTP_FILE_LEN 128
#define BOOTP_REQUEST 1
#define BOOTP_REPLY 2
#define BOOTP_CHADDR_LEN 16
#define DHCP_MAGIC 0x63825363u

#define OPT_PAD 0
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_REQUESTED_IP 50
#define OPT_LEASE 51
#define OPT_OVERLOAD 52
#define OPT_MSG_TYPE 53
#define OPT_SERVER_ID 54
#define OPT_CLIENT_ID 61
#define OPT_END 255

#define OVERLOAD_FILE 1
#define OVERLOAD_SNAME 2
#define OVERLOAD_BOTH 3

#define OPT6_CLIENTID 1
#define OPT6_SERVERID 2
#define OPT6_IA_NA 3
#define OPT6_IAADDR 5
#define OPT6_RELAY_MSG 9
#define OPT6_DNS_SERVERS 23
#define DHCP6_RELAY_HDR 33   /* hop-count, link-address, peer-address */
#define DHCP6_IA_NA_HDR 12   /* IAID, T1, T2 */
#define DHCP6_IAADDR_HDR 24  /* address, preferred, valid */

static const char *const dhcp_err_names[DHCP_ERR_MAX] = {
	[DHCP_OK] = "ok",
	[DHCP_ERR_NOT_DHCP] = "not_dhcp",
	[DHCP_ERR_SHORT] = "short",
	[DHCP_ERR_OP] = "op",
	[DHCP_ERR_COOKIE] = "cookie",
	[DHCP_ERR_OPT_TRUNC] = "opt_trunc",
	[DHCP_ERR_RELAY] = "relay",
};

const char *dec_dhcp_strerror(int err)
{
	if (err < 0 || err >= DHCP_ERR_MAX)
		return "unknown";
	return dhcp_err_names[err];
}

/* RFC 3396: an option longer than 255 bytes is sent as several instances of the same
 * code, to be concatenated in order (options field, then file, then sname). The list
 * options we use are gathered here before they are split into addresses, so a list cut
 * at any byte is read as the sender meant it. */
struct acc {
	uint8_t b[DHCP_MAX_OPT_BYTES];
	size_t n;
	bool seen;
};

struct v4acc {
	struct acc routers, dns, client_id;
};

static void acc_add(struct acc *a, struct rd *o, struct dhcp_msg *m)
{
	size_t n = rd_left(o);
	a->seen = true;
	if (n > sizeof(a->b) - a->n) {
		m->dropped++;
		n = sizeof(a->b) - a->n;
	}
	rd_bytes(o, &a->b[a->n], n);
	a->n += n;
}

static void addr_list4(const struct acc *a, struct op_addr *out, uint8_t *nout, size_t cap,
		       struct dhcp_msg *m)
{
	struct rd r = rd_init(a->b, a->n);
	if (a->n % 4)
		m->bad_options++;
	while (rd_left(&r) >= 4) {
		const uint8_t *v = rd_ptr(&r, 4);
		if (*nout == cap) {
			m->dropped++;
			continue;
		}
		util_addr_set4(&out[(*nout)++], v);
	}
}

/* One DHCPv4 option area (the options field, or file/sname when overloaded). */
static int options4(struct rd *r, struct dhcp_msg *m, struct v4acc *acc, bool main_field)
{
	while (rd_left(r) > 0) {
		uint8_t code = rd_u8(r);
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		if (rd_left(r) < 1)
			return DHCP_ERR_OPT_TRUNC;
		size_t len = rd_u8(r);
		if (len > rd_left(r))
			return DHCP_ERR_OPT_TRUNC;
		struct rd o = rd_sub(r, len);
		m->noptions++;
		switch (code) {
		case OPT_MSG_TYPE:
			if (len != 1)
				m->bad_options++;
			else if (!m->type)
				m->type = rd_u8(&o);
			break;
		case OPT_SERVER_ID:
			if (len != 4) {
				m->bad_options++;
			} else if (!m->has_server_id) {
				util_addr_set4(&m->server_id, rd_ptr(&o, 4));
				m->has_server_id = true;
			}
			break;
		case OPT_LEASE:
			if (len != 4) {
				m->bad_options++;
			} else if (!m->has_lease) {
				m->lease_s = rd_be32(&o);
				m->has_lease = true;
			}
			break;
		case OPT_REQUESTED_IP:
			if (len != 4) {
				m->bad_options++;
			} else if (!m->has_requested_ip) {
				rd_bytes(&o, m->requested_ip, 4);
				m->has_requested_ip = true;
			}
			break;
		case OPT_OVERLOAD:
			/* RFC 2132 9.3: only meaningful in the options field itself; a
			 * value outside 1..3 overloads nothing. */
			if (!main_field || len != 1) {
				m->bad_options++;
				break;
			}
			m->overload = rd_u8(&o);
			if (m->overload < OVERLOAD_FILE || m->overload > OVERLOAD_BOTH) {
				m->overload = 0;
				m->bad_options++;
			}
			break;
		case OPT_ROUTER:
			acc_add(&acc->routers, &o, m);
			break;
		case OPT_DNS:
			acc_add(&acc->dns, &o, m);
			break;
		case OPT_CLIENT_ID:
			acc_add(&acc->client_id, &o, m);
			break;
		default:
			break;
		}
	}
	return DHCP_OK;
}

static int dec_v4(struct rd *r, struct dhcp_msg *m)
{
	const uint8_t *h = rd_ptr(r, BOOTP_FIXED_LEN);
	if (!h)
		return DHCP_ERR_SHORT;
	m->version = 4;
	m->op = h[0];
	m->htype = h[1];
	m->hlen = h[2];
	m->relay_hops = h[3];
	m->xid = dec_be32(h, 4);
	memcpy(m->ciaddr, &h[12], 4);
	memcpy(m->yiaddr, &h[16], 4);
	memcpy(m->siaddr, &h[20], 4);
	memcpy(m->giaddr, &h[24], 4);
	/* hlen is the sender's word; chaddr holds at most 16 bytes whatever it says. */
	memcpy(m->chaddr, &h[28], m->hlen < BOOTP_CHADDR_LEN ? m->hlen : BOOTP_CHADDR_LEN);
	struct rd sname = rd_sub(r, BOOTP_SNAME_LEN);
	struct rd file = rd_sub(r, BOOTP_FILE_LEN);
	if (r->err)
		return DHCP_ERR_SHORT;
	if (m->op != BOOTP_REQUEST && m->op != BOOTP_REPLY)
		return DHCP_ERR_OP;
	if (rd_left(r) < 4 || rd_be32(r) != DHCP_MAGIC)
		return DHCP_ERR_COOKIE;

	static struct v4acc zero;
	struct v4acc acc = zero;
	struct rd opts = rd_rest(r);
	int e = options4(&opts, m, &acc, true);
	/* RFC 2131 4.1 / RFC 2132 9.3: with overload, file is read next, then sname. */
	if (e == DHCP_OK && (m->overload & OVERLOAD_FILE))
		e = options4(&file, m, &acc, false);
	if (e == DHCP_OK && (m->overload & OVERLOAD_SNAME))
		e = options4(&sname, m, &acc, false);
	if (e != DHCP_OK)
		return e;

	m->has_routers = acc.routers.seen;
	m->has_dns = acc.dns.seen;
	addr_list4(&acc.routers, m->routers, &m->nrouters, DHCP_MAX_ROUTERS, m);
	addr_list4(&acc.dns, m->dns, &m->ndns, DHCP_MAX_DNS, m);
	size_t n = acc.client_id.n;
	if (n > DHCP_MAX_ID) {
		m->dropped++;
		n = DHCP_MAX_ID;
	}
	memcpy(m->client_id, acc.client_id.b, n);
	m->client_id_len = (uint8_t)n;
	return DHCP_OK;
}

static void copy_id(struct rd *o, uint8_t *dst, uint8_t *dlen, struct dhcp_msg *m)
{
	size_t n = rd_left(o);
	if (*dlen)
		return; /* first one counts */
	if (n > DHCP_MAX_ID) {
		m->dropped++;
		n = DHCP_MAX_ID;
	}
	rd_bytes(o, dst, n);
	*dlen = (uint8_t)n;
}

/* IA_NA (RFC 8415 21.4): IAID, T1, T2, then options of which IAADDR (21.6) carries an
 * address. Nested options get their own sub-readers like every other level. */
static int ia_na(struct rd *o, struct dhcp_msg *m)
{
	if (rd_left(o) < DHCP6_IA_NA_HDR) {
		m->bad_options++;
		return DHCP_OK;
	}
	rd_skip(o, DHCP6_IA_NA_HDR);
	while (rd_left(o) > 0) {
		if (rd_left(o) < 4)
			return DHCP_ERR_OPT_TRUNC;
		uint16_t code = rd_be16(o), len = rd_be16(o);
		if (len > rd_left(o))
			return DHCP_ERR_OPT_TRUNC;
		struct rd s = rd_sub(o, len);
		m->noptions++;
		if (code != OPT6_IAADDR)
			continue;
		if (len < DHCP6_IAADDR_HDR) {
			m->bad_options++;
			continue;
		}
		uint8_t a[16];
		rd_bytes(&s, a, 16);
		rd_skip(&s, 4); /* preferred lifetime */
		uint32_t valid = rd_be32(&s);
		if (m->naddrs == DHCP_MAX_ADDRS) {
			m->dropped++;
			continue;
		}
		util_addr_set6(&m->addrs[m->naddrs++], a);
		if (!m->has_lease) {
			m->lease_s = valid;
			m->has_lease = true;
		}
	}
	return DHCP_OK;
}

static int options6(struct rd *r, struct dhcp_msg *m)
{
	while (rd_left(r) > 0) {
		if (rd_left(r) < 4)
			return DHCP_ERR_OPT_TRUNC;
		uint16_t code = rd_be16(r), len = rd_be16(r);
		if (len > rd_left(r))
			return DHCP_ERR_OPT_TRUNC;
		struct rd o = rd_sub(r, len);
		m->noptions++;
		int e;
		switch (code) {
		case OPT6_CLIENTID:
			copy_id(&o, m->client_id, &m->client_id_len, m);
			break;
		case OPT6_SERVERID:
			copy_id(&o, m->server_duid, &m->server_duid_len, m);
			break;
		case OPT6_IA_NA:
			if ((e = ia_na(&o, m)) != DHCP_OK)
				return e;
			break;
		case OPT6_DNS_SERVERS:
			m->has_dns = true;
			if (len % 16)
				m->bad_options++;
			while (rd_left(&o) >= 16) {
				uint8_t a[16];
				rd_bytes(&o, a, 16);
				if (m->ndns == DHCP_MAX_DNS)
					m->dropped++;
				else
					util_addr_set6(&m->dns[m->ndns++], a);
			}
			break;
		default:
			break;
		}
	}
	return DHCP_OK;
}

static int dec_v6(struct rd *r, struct dhcp_msg *m)
{
	m->version = 6;
	if (rd_left(r) < 4)
		return DHCP_ERR_SHORT;
	uint8_t type = rd_u8(r);
	/* A relay wrapper (RFC 8415 9) holds the relayed message in option 9; peel
	 * wrappers one at a time (no recursion), at most DHCP6_MAX_RELAY. */
	struct rd cur = *r;
	while (type == DHCP6_RELAY_FORW || type == DHCP6_RELAY_REPL) {
		if (m->relay_hops == DHCP6_MAX_RELAY)
			return DHCP_ERR_RELAY;
		if (rd_left(&cur) < DHCP6_RELAY_HDR)
			return DHCP_ERR_SHORT;
		rd_skip(&cur, DHCP6_RELAY_HDR);
		struct rd inner = { (const uint8_t *)"", 0, 0, 1 };
		while (rd_left(&cur) > 0) {
			if (rd_left(&cur) < 4)
				return DHCP_ERR_OPT_TRUNC;
			uint16_t code = rd_be16(&cur), len = rd_be16(&cur);
			if (len > rd_left(&cur))
				return DHCP_ERR_OPT_TRUNC;
			struct rd o = rd_sub(&cur, len);
			if (code == OPT6_RELAY_MSG && inner.err)
				inner = o;
		}
		if (inner.err || rd_left(&inner) < 4)
			return DHCP_ERR_RELAY;
		m->relay_hops++;
		cur = inner;
		type = rd_u8(&cur);
	}
	m->type = type;
	m->xid = rd_be24(&cur);
	return options6(&cur, m);
}

static bool port_in(const struct pkt *p, uint16_t a, uint16_t b)
{
	return p->sport == a || p->sport == b || p->dport == a || p->dport == b;
}

int dec_dhcp(const struct pkt *p, struct dhcp_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (!(p->flags & PKT_F_UDP) || !(p->flags & PKT_F_IP))
		return DHCP_ERR_NOT_DHCP;
	struct rd r = rd_init(p->payload, p->payload_len);
	if (p->src.family == 4 && port_in(p, DHCP_PORT_SERVER, DHCP_PORT_CLIENT))
		return dec_v4(&r, m);
	if (p->src.family == 6 && port_in(p, DHCP6_PORT_CLIENT, DHCP6_PORT_SERVER))
		return dec_v6(&r, m);
	return DHCP_ERR_NOT_DHCP;
}
