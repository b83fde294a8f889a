#include "config.h"

/* dns.c - DNS-format messages (RFC 1035 4.1, 3596, 6891 EDNS(0), 9460 SVCB/HTTPS, 2782
 * SRV; the same format in mDNS RFC 6762, LLMNR RFC 4795, NetBIOS-NS RFC 1002) -> struct
 * dns_msg. See dns.h for the model: bounded, self-contained, names as escaped text.
 *
 * Fixed-size parts are taken with one rd_ptr() and indexed inside it (decode/internal.h);
 * names, record data and everything variable go through the cursor. A length prefix
 * becomes a window (rd_window) over the message, not a sub-reader: names inside record
 * data may point back anywhere in the message, so the window keeps the message start
 * and only moves the end.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "internal.h"
#include "reader.h"

#define DNS_HASH_SEED 0x646e736e616d6531ULL /* "dnsname1" */
#define DNS_RR_FIXED 10                     /* type, class, TTL, RDLENGTH */
#define DNS_Q_FIXED 4                       /* type, class */
#define DNS_HEX_SHOWN 32                    /* rdata bytes shown for unknown types */
#define DNS_TXT_SHOWN 4                     /* TXT strings shown */

static const char *const err_str[DEC_DNS_ERR_MAX] = {
	[DEC_DNS_OK] = "ok",
	[DEC_DNS_ERR_HEADER] = "header_short",
	[DEC_DNS_ERR_COUNTS] = "counts",
	[DEC_DNS_ERR_NAME_TRUNC] = "name_truncated",
	[DEC_DNS_ERR_LABEL_TYPE] = "label_type",
	[DEC_DNS_ERR_NAME_LONG] = "name_too_long",
	[DEC_DNS_ERR_PTR_FORWARD] = "ptr_forward",
	[DEC_DNS_ERR_PTR_HEADER] = "ptr_header",
	[DEC_DNS_ERR_PTR_MANY] = "ptr_too_many",
	[DEC_DNS_ERR_QUESTION] = "question_truncated",
	[DEC_DNS_ERR_RR] = "rr_truncated",
	[DEC_DNS_ERR_RDLEN] = "rdlength",
};

const char *dec_dns_strerror(int code)
{
	if (code < 0 || code >= DEC_DNS_ERR_MAX)
		return "unknown";
	return err_str[code];
}

const char *dec_dns_type_str(uint16_t type, char buf[DNS_TYPE_STRLEN])
{
	static const struct {
		uint16_t t;
		const char *s;
	} names[] = {
		{ DNS_T_A, "A" },       { DNS_T_NS, "NS" },       { DNS_T_CNAME, "CNAME" },
		{ DNS_T_SOA, "SOA" },   { DNS_T_PTR, "PTR" },     { DNS_T_MX, "MX" },
		{ DNS_T_TXT, "TXT" },   { DNS_T_AAAA, "AAAA" },   { DNS_T_SRV, "SRV" },
		{ DNS_T_NB, "NB" },     { DNS_T_DNAME, "DNAME" }, { DNS_T_OPT, "OPT" },
		{ DNS_T_SVCB, "SVCB" }, { DNS_T_HTTPS, "HTTPS" }, { DNS_T_ANY, "ANY" },
		{ 10, "NULL" },         { 43, "DS" },             { 46, "RRSIG" },
		{ 47, "NSEC" },         { 48, "DNSKEY" },         { 50, "NSEC3" },
		{ 257, "CAA" },         { 252, "AXFR" },          { 251, "IXFR" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == type)
			return names[i].s;
	snprintf(buf, DNS_TYPE_STRLEN, "TYPE%u", type);
	return buf;
}

static const char *const anom_str[DNS_ANOM_COUNT] = {
	"rdata", "trailing", "opt", "text_full", "dropped",
};

const char *dec_dns_anomaly_str(unsigned bit)
{
	return bit < DNS_ANOM_COUNT ? anom_str[bit] : "unknown";
}

/* ------------------------------------------------------------------ the arena */

void dec_dns_clear(struct dns_msg *m)
{
	m->id = m->flags = 0;
	m->qr = m->opcode = 0;
	m->rcode = 0;
	m->qdcount = m->ancount = m->nscount = m->arcount = 0;
	m->stage = DNS_STAGE_NONE;
	m->anomalies = 0;
	m->nq = m->nrr = m->nan = 0;
	m->dropped_q = m->dropped_rr = 0;
	m->has_opt = false;
	m->edns_udp_size = 0;
	m->edns_version = 0;
	m->edns_flags = 0;
	m->nopts = 0;
	/* Offset 0 is the shared empty string. */
	m->text[0] = '\0';
	m->textlen = 1;
}

struct dns_str dec_dns_put(struct dns_msg *m, const char *s, size_t len)
{
	struct dns_str r = { 0, 0 };
	if (len >= sizeof(m->text) - m->textlen) {
		m->anomalies |= DNS_ANOM_TEXT_FULL;
		return r;
	}
	r.off = m->textlen;
	r.len = (uint16_t)len;
	memcpy(&m->text[m->textlen], s, len);
	m->text[m->textlen + len] = '\0';
	m->textlen = (uint16_t)(m->textlen + len + 1);
	return r;
}

uint64_t dec_dns_name_hash(const char *text, size_t len)
{
	char lc[DNS_NAME_TEXT_MAX];
	if (len > sizeof(lc))
		len = sizeof(lc);
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		lc[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	return util_hash64(lc, len, DNS_HASH_SEED);
}

/* A bounded text builder for record data. */
struct tb {
	char buf[DNS_RDATA_TEXT_MAX];
	size_t len;
	bool cut;
};

static void tb_putc(struct tb *t, char c)
{
	if (t->len + 1 < sizeof(t->buf))
		t->buf[t->len++] = c;
	else
		t->cut = true;
}

static void tb_puts(struct tb *t, const char *s)
{
	while (*s)
		tb_putc(t, *s++);
}

static void tb_printf(struct tb *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(struct tb *t, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	tb_puts(t, tmp);
}

/* One byte of a label or character-string in escaped text form (see dns.h). */
static void tb_esc(struct tb *t, uint8_t b, bool in_name)
{
	if ((in_name && b == '.') || b == '\\' || (!in_name && b == '"')) {
		tb_putc(t, '\\');
		tb_putc(t, (char)b);
	} else if (b > 0x20 && b < 0x7f) {
		tb_putc(t, (char)b);
	} else if (b == ' ' && !in_name) {
		tb_putc(t, ' ');
	} else {
		tb_printf(t, "\\%03u", b);
	}
}

/* ------------------------------------------------------------------ names */

/* A reader over the same message as r, positioned where r is, ending n bytes later
 * (the caller has checked n <= rd_left(r)). Names inside the window may still point
 * back anywhere before it: the start of the buffer is kept. */
static struct rd rd_window(const struct rd *r, size_t n)
{
	struct rd w = *r;
	w.len = r->off + n;
	return w;
}

struct name {
	char text[DNS_NAME_TEXT_MAX]; /* as on the wire (case kept), escaped */
	size_t len;
	uint64_t hash;                /* of the case-folded text */
	size_t max_target;            /* highest pointer target followed, 0 if none */
};

static inline void name_putc(struct name *n, char *lc, char c)
{
	/* Cannot overflow: 255 wire bytes give at most 4 * 254 + separators < 1024. */
	n->text[n->len] = c;
	lc[n->len] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	n->len++;
}

/* Reads the name at the cursor of r (a reader over the message from its first byte).
 * On success r is left after the name (after its first pointer when compressed). */
static int read_name(struct rd *r, struct name *out)
{
	char lc[DNS_NAME_TEXT_MAX];
	struct rd c = *r;
	size_t limit = SIZE_MAX; /* every pointer must target below this */
	size_t wire = 0;         /* wire length so far, length bytes included */
	unsigned ptrs = 0;
	bool jumped = false;

	out->len = 0;
	out->max_target = 0;
	for (;;) {
		const uint8_t *lp = rd_ptr(&c, 1);
		if (!lp)
			return DEC_DNS_ERR_NAME_TRUNC;
		uint8_t l = lp[0];
		if ((l & 0xc0) == 0xc0) {
			const uint8_t *lo = rd_ptr(&c, 1);
			if (!lo)
				return DEC_DNS_ERR_NAME_TRUNC;
			size_t at = rd_off(&c) - 2;
			size_t target = (size_t)(l & 0x3f) << 8 | lo[0];
			if (!jumped) {
				*r = c;
				jumped = true;
			}
			/* Strictly backwards: below the pointer itself and below the previous
			 * target, so a chain of pointers can only descend and must end. */
			if (at < limit)
				limit = at;
			if (target >= limit)
				return DEC_DNS_ERR_PTR_FORWARD;
			if (target < DNS_HDR_LEN)
				return DEC_DNS_ERR_PTR_HEADER;
			if (++ptrs > DNS_MAX_PTRS)
				return DEC_DNS_ERR_PTR_MANY;
			limit = target;
			if (target > out->max_target)
				out->max_target = target;
			rd_seek(&c, target);
			continue;
		}
		if (l & 0xc0)
			return DEC_DNS_ERR_LABEL_TYPE;
		if (l == 0) {
			wire++;
			break;
		}
		/* Length byte, the label, and the root byte still to come. */
		if (wire + 1 + l + 1 > DNS_NAME_WIRE_MAX)
			return DEC_DNS_ERR_NAME_LONG;
		const uint8_t *lab = rd_ptr(&c, l);
		if (!lab)
			return DEC_DNS_ERR_NAME_TRUNC;
		wire += 1 + (size_t)l;
		if (out->len)
			name_putc(out, lc, '.');
		for (size_t i = 0; i < l; i++) {
			uint8_t b = lab[i];
			if (b == '.' || b == '\\') {
				name_putc(out, lc, '\\');
				name_putc(out, lc, (char)b);
			} else if (b > 0x20 && b < 0x7f) {
				name_putc(out, lc, (char)b);
			} else {
				name_putc(out, lc, '\\');
				name_putc(out, lc, (char)('0' + b / 100));
				name_putc(out, lc, (char)('0' + b / 10 % 10));
				name_putc(out, lc, (char)('0' + b % 10));
			}
		}
	}
	if (out->len == 0) {
		out->text[0] = '.';
		lc[0] = '.';
		out->len = 1;
	}
	out->text[out->len] = '\0';
	out->hash = util_hash64(lc, out->len, DNS_HASH_SEED);
	if (!jumped)
		*r = c;
	return DEC_DNS_OK;
}

/* Names already in the arena, by the offset they start at: most owner names are a bare
 * pointer to the question ("c0 0c"), and decoding them again costs more than the rest
 * of the record. Only names whose pointers all lead below their own start are kept:
 * for those, decoding from a pointer (which must then stay below the start) gives the
 * same result as decoding in place, so the cache changes no verdict. */
#define DNS_NAME_CACHE 8

struct name_cache {
	unsigned n;
	struct {
		uint16_t off;
		struct dns_str s;
		uint64_t hash;
	} e[DNS_NAME_CACHE];
};

/* Reads a name into the arena (owner names and questions). */
static int read_name_str(struct dns_msg *m, struct name_cache *nc, struct rd *r,
			 struct dns_str *out, uint64_t *hash, struct name *scratch)
{
	uint8_t b0 = 0, b1;
	bool starts_ptr = rd_peek_u8(r, 0, &b0) && (b0 & 0xc0) == 0xc0;
	if (starts_ptr && rd_peek_u8(r, 1, &b1)) {
		size_t target = (size_t)(b0 & 0x3f) << 8 | b1;
		for (unsigned i = 0; i < nc->n; i++)
			if (nc->e[i].off == target && target < rd_off(r)) {
				rd_skip(r, 2);
				*out = nc->e[i].s;
				*hash = nc->e[i].hash;
				return DEC_DNS_OK;
			}
	}
	size_t start = rd_off(r);
	int e = read_name(r, scratch);
	if (e)
		return e;
	*out = dec_dns_put(m, scratch->text, scratch->len);
	*hash = scratch->hash;
	if (out->len && !starts_ptr && scratch->max_target < start && start <= UINT16_MAX &&
	    nc->n < DNS_NAME_CACHE) {
		nc->e[nc->n].off = (uint16_t)start;
		nc->e[nc->n].s = *out;
		nc->e[nc->n].hash = scratch->hash;
		nc->n++;
	}
	return DEC_DNS_OK;
}

/* ------------------------------------------------------------------ record data */

static void put_data(struct dns_msg *m, struct dns_rr *rr, struct tb *t)
{
	rr->data = dec_dns_put(m, t->buf, t->len);
	if (t->cut || (t->len && rr->data.len == 0))
		rr->flags |= DNS_RR_F_TEXT_CUT;
}

/* RFC 3597 form, "\# len hex", for unknown types and data that did not parse. */
static void data_hex(struct tb *t, const struct rd *w0, size_t start, size_t n)
{
	struct rd w = *w0;
	w.err = 0; /* the window itself is sound; only a read inside it failed */
	rd_seek(&w, start);
	const uint8_t *b = rd_ptr(&w, n);
	t->len = 0;
	t->cut = false;
	tb_printf(t, "\\# %zu", n);
	if (!b)
		return;
	if (n)
		tb_putc(t, ' ');
	for (size_t i = 0; i < n && i < DNS_HEX_SHOWN; i++)
		tb_printf(t, "%02x", b[i]);
	if (n > DNS_HEX_SHOWN)
		tb_puts(t, "...");
}

/* Dotted quad without inet_ntop (whose sprintf is most of the cost of an A record). */
static void tb_v4(struct tb *t, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		uint8_t v = a[i];
		if (i)
			tb_putc(t, '.');
		if (v >= 100)
			tb_putc(t, (char)('0' + v / 100));
		if (v >= 10)
			tb_putc(t, (char)('0' + v / 10 % 10));
		tb_putc(t, (char)('0' + v % 10));
	}
}

static void tb_name(struct tb *t, const struct name *n)
{
	for (size_t i = 0; i < n->len; i++)
		tb_putc(t, n->text[i]);
}

/* Case-folded hash of the text builder (names inside data fold like names). */
static uint64_t tb_hash_folded(const struct tb *t, uint16_t type)
{
	char lc[DNS_RDATA_TEXT_MAX + 2];
	lc[0] = (char)(type >> 8);
	lc[1] = (char)type;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->buf[i];
		lc[i + 2] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	return util_hash64(lc, t->len + 2, DNS_HASH_SEED ^ type);
}

static uint64_t raw_hash(const struct rd *w0, size_t start, size_t n, uint16_t type)
{
	struct rd w = *w0;
	w.err = 0;
	rd_seek(&w, start);
	const uint8_t *b = rd_ptr(&w, n);
	return b ? util_hash64(b, n, DNS_HASH_SEED ^ type) : 0;
}

static void svcb_params(struct tb *t, struct rd *w)
{
	while (rd_left(w) > 0 && !w->err) {
		const uint8_t *h = rd_ptr(w, 4);
		if (!h)
			return;
		uint16_t key = dec_be16(h, 0), vlen = dec_be16(h, 2);
		if (vlen > rd_left(w)) {
			w->err = 1;
			return;
		}
		struct rd v = rd_sub(w, vlen);
		tb_putc(t, ' ');
		switch (key) {
		case 1: /* alpn: length-prefixed protocol ids */
			tb_puts(t, "alpn=");
			for (int first = 1; rd_left(&v) > 0; first = 0) {
				uint8_t l = rd_u8(&v);
				const uint8_t *id = rd_ptr(&v, l);
				if (!id) {
					w->err = 1;
					return;
				}
				if (!first)
					tb_putc(t, ',');
				for (size_t i = 0; i < l; i++)
					tb_esc(t, id[i], false);
			}
			break;
		case 3: /* port */
			if (vlen != 2) {
				w->err = 1;
				return;
			}
			tb_printf(t, "port=%u", rd_be16(&v));
			break;
		case 4: /* ipv4hint */
		case 6: /* ipv6hint */ {
			size_t al = key == 4 ? 4 : 16;
			if (vlen == 0 || vlen % al) {
				w->err = 1;
				return;
			}
			tb_puts(t, key == 4 ? "ipv4hint=" : "ipv6hint=");
			for (size_t i = 0; rd_left(&v) > 0; i++) {
				const uint8_t *a = rd_ptr(&v, al);
				struct op_addr x;
				char s[OP_ADDR_STRLEN];
				if (al == 4)
					dec_addr4(&x, a, 0);
				else
					dec_addr6(&x, a, 0);
				if (i)
					tb_putc(t, ',');
				tb_puts(t, util_addr_fmt(&x, s));
			}
			break;
		}
		default:
			tb_printf(t, "key%u", key);
			if (vlen)
				tb_printf(t, "=<%u bytes>", vlen);
			break;
		}
	}
}

/* Parses the data of rr; w is a window over exactly its RDLENGTH bytes. On a mismatch
 * between the data and its type the record keeps its RFC 3597 hex form and the flag. */
static void parse_rdata(struct dns_msg *m, struct dns_rr *rr, struct rd *w)
{
	struct tb t;
	struct name n;
	size_t start = rd_off(w);
	size_t n_bytes = rd_left(w);
	bool ok = true, fold = false;

	t.len = 0;
	t.cut = false;
	rr->addr.family = 0;
	rr->aux = 0;
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA: {
		size_t al = rr->type == DNS_T_A ? 4 : 16;
		const uint8_t *a = n_bytes == al ? rd_ptr(w, al) : NULL;
		if (!a) {
			ok = false;
			break;
		}
		char s[OP_ADDR_STRLEN];
		if (al == 4) {
			dec_addr4(&rr->addr, a, 0);
			tb_v4(&t, a);
		} else {
			dec_addr6(&rr->addr, a, 0);
			tb_puts(&t, util_addr_fmt(&rr->addr, s));
		}
		break;
	}
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:
		ok = read_name(w, &n) == DEC_DNS_OK;
		if (ok)
			tb_name(&t, &n);
		fold = true;
		break;
	case DNS_T_MX: {
		uint16_t pref = rd_be16(w);
		ok = !w->err && read_name(w, &n) == DEC_DNS_OK;
		if (ok) {
			tb_printf(&t, "%u ", pref);
			tb_name(&t, &n);
		}
		fold = true;
		break;
	}
	case DNS_T_SRV: {
		const uint8_t *h = rd_ptr(w, 6);
		ok = h && read_name(w, &n) == DEC_DNS_OK;
		if (ok) {
			tb_printf(&t, "%u %u %u ", dec_be16(h, 0), dec_be16(h, 2), dec_be16(h, 4));
			tb_name(&t, &n);
		}
		fold = true;
		break;
	}
	case DNS_T_SOA: {
		struct name rname;
		ok = read_name(w, &n) == DEC_DNS_OK && read_name(w, &rname) == DEC_DNS_OK;
		const uint8_t *h = ok ? rd_ptr(w, 20) : NULL;
		ok = h != NULL;
		if (ok) {
			tb_name(&t, &n);
			tb_putc(&t, ' ');
			tb_name(&t, &rname);
			tb_printf(&t, " %u %u %u %u %u", dec_be32(h, 0), dec_be32(h, 4),
				  dec_be32(h, 8), dec_be32(h, 12), dec_be32(h, 16));
		}
		fold = true;
		break;
	}
	case DNS_T_TXT: {
		/* One or more <character-string>s (RFC 1035 3.3.14). */
		unsigned shown = 0;
		ok = n_bytes > 0;
		while (ok && rd_left(w) > 0) {
			uint8_t l = rd_u8(w);
			const uint8_t *s = rd_ptr(w, l);
			if (!s) {
				ok = false;
				break;
			}
			if (shown++ < DNS_TXT_SHOWN) {
				if (shown > 1)
					tb_putc(&t, ' ');
				tb_putc(&t, '"');
				for (size_t i = 0; i < l; i++)
					tb_esc(&t, s[i], false);
				tb_putc(&t, '"');
			} else if (shown == DNS_TXT_SHOWN + 1) {
				tb_puts(&t, " ...");
			}
		}
		break;
	}
	case DNS_T_SVCB:
	case DNS_T_HTTPS: {
		uint16_t prio = rd_be16(w);
		ok = !w->err && read_name(w, &n) == DEC_DNS_OK;
		if (ok) {
			tb_printf(&t, "%u ", prio);
			tb_name(&t, &n);
			svcb_params(&t, w);
			ok = !w->err;
		}
		fold = true;
		break;
	}
	case DNS_T_NB:
		/* NetBIOS: n x (NB_FLAGS 2, NB_ADDRESS 4) (RFC 1002 4.2.1.3); keep the first. */
		if (n_bytes == 0 || n_bytes % 6) {
			ok = false;
			break;
		}
		for (size_t i = 0; rd_left(w) > 0; i++) {
			const uint8_t *e = rd_ptr(w, 6);
			struct op_addr x;
			char s[OP_ADDR_STRLEN];
			dec_addr4(&x, e, 2);
			if (i == 0) {
				rr->addr = x;
				rr->aux = dec_be16(e, 0);
			}
			if (i)
				tb_putc(&t, ',');
			tb_puts(&t, util_addr_fmt(&x, s));
		}
		break;
	default:
		data_hex(&t, w, start, n_bytes);
		rr->data_hash = raw_hash(w, start, n_bytes, rr->type);
		put_data(m, rr, &t);
		return;
	}
	/* Data longer than its type needs is malformed too (zeek's SVCB rdlength case). */
	if (ok && (w->err || rd_left(w) != 0))
		ok = false;
	if (!ok) {
		rr->flags |= DNS_RR_F_BAD_RDATA;
		rr->addr.family = 0;
		rr->aux = 0;
		m->anomalies |= DNS_ANOM_RDATA;
		data_hex(&t, w, start, n_bytes);
		rr->data_hash = raw_hash(w, start, n_bytes, rr->type);
	} else if (fold) {
		rr->data_hash = tb_hash_folded(&t, rr->type);
	} else {
		rr->data_hash = raw_hash(w, start, n_bytes, rr->type);
	}
	put_data(m, rr, &t);
}

/* EDNS(0) OPT pseudo-record (RFC 6891 6.1.2): class = UDP size, TTL = extended RCODE,
 * version, flags; data = options. Only one, only in the additional section, only at
 * the root; anything else is an anomaly, not a parse error. */
static void parse_opt(struct dns_msg *m, const struct dns_str *owner, uint16_t klass, uint32_t ttl,
		      int section, struct rd *w)
{
	if (m->has_opt || section != DNS_SEC_AR || owner->len != 1 || m->text[owner->off] != '.') {
		m->anomalies |= DNS_ANOM_OPT;
		return;
	}
	m->has_opt = true;
	m->edns_udp_size = klass;
	m->rcode = (uint16_t)(((ttl >> 24) & 0xff) << 4 | (m->rcode & 0xf));
	m->edns_version = (uint8_t)(ttl >> 16);
	m->edns_flags = (uint16_t)ttl;
	while (rd_left(w) > 0) {
		const uint8_t *h = rd_ptr(w, 4);
		if (!h || dec_be16(h, 2) > rd_left(w)) {
			m->anomalies |= DNS_ANOM_OPT;
			return;
		}
		if (m->nopts < DNS_MAX_OPTS)
			m->opt_codes[m->nopts] = dec_be16(h, 0);
		if (m->nopts < UINT16_MAX)
			m->nopts++;
		rd_skip(w, dec_be16(h, 2));
	}
}

/* ------------------------------------------------------------------ the message */

static int parse_rr(struct dns_msg *m, struct name_cache *nc, struct rd *r, int section)
{
	struct name owner;
	struct dns_str oname;
	uint64_t ohash;
	int e = read_name_str(m, nc, r, &oname, &ohash, &owner);
	if (e)
		return e;
	const uint8_t *h = rd_ptr(r, DNS_RR_FIXED);
	if (!h)
		return DEC_DNS_ERR_RR;
	uint16_t type = dec_be16(h, 0), klass = dec_be16(h, 2), rdlen = dec_be16(h, 8);
	uint32_t ttl = dec_be32(h, 4);
	if (rdlen > rd_left(r))
		return DEC_DNS_ERR_RDLEN;
	struct rd w = rd_window(r, rdlen);
	rd_skip(r, rdlen);

	if (type == DNS_T_OPT) {
		parse_opt(m, &oname, klass, ttl, section, &w);
		return DEC_DNS_OK;
	}
	if (m->nrr >= DNS_MAX_RRS) {
		m->dropped_rr++;
		m->anomalies |= DNS_ANOM_DROPPED;
		return DEC_DNS_OK;
	}
	struct dns_rr *rr = &m->rr[m->nrr++];
	rr->section = (uint8_t)section;
	rr->flags = 0;
	rr->type = type;
	rr->klass = klass;
	rr->ttl = ttl;
	rr->rdlen = rdlen;
	rr->name = oname;
	if (rr->name.len == 0)
		rr->flags |= DNS_RR_F_TEXT_CUT;
	rr->name_hash = ohash;
	parse_rdata(m, rr, &w);
	if (section == DNS_SEC_AN)
		m->nan++;
	return DEC_DNS_OK;
}

/* A short read at a record boundary means the counts lie; inside a record, that the
 * record is cut. Both are malformed; the distinction helps whoever reads the stats. */
static int short_or_counts(const struct rd *r, int e)
{
	return rd_left(r) == 0 && (e == DEC_DNS_ERR_NAME_TRUNC) ? DEC_DNS_ERR_COUNTS : e;
}

int dec_dns(const uint8_t *data, size_t len, struct dns_msg *m)
{
	struct rd c = rd_init(data, len), *r = &c;
	dec_dns_clear(m);

	const uint8_t *h = rd_ptr(r, DNS_HDR_LEN);
	if (!h)
		return DEC_DNS_ERR_HEADER;
	m->id = dec_be16(h, 0);
	m->flags = dec_be16(h, 2);
	m->qr = (m->flags & DNS_F_QR) != 0;
	m->opcode = (uint8_t)((m->flags >> 11) & 0xf);
	m->rcode = m->flags & 0xf;
	m->qdcount = dec_be16(h, 4);
	m->ancount = dec_be16(h, 6);
	m->nscount = dec_be16(h, 8);
	m->arcount = dec_be16(h, 10);
	m->stage = DNS_STAGE_HEADER;

	struct name_cache nc;
	struct name scratch;
	nc.n = 0;
	for (unsigned i = 0; i < m->qdcount; i++) {
		struct dns_str qs;
		uint64_t qh;
		int e = read_name_str(m, &nc, r, &qs, &qh, &scratch);
		if (e)
			return short_or_counts(r, e);
		const uint8_t *q = rd_ptr(r, DNS_Q_FIXED);
		if (!q)
			return DEC_DNS_ERR_QUESTION;
		if (m->nq >= DNS_MAX_QUESTIONS) {
			m->dropped_q++;
			m->anomalies |= DNS_ANOM_DROPPED;
			continue;
		}
		struct dns_question *dq = &m->q[m->nq++];
		dq->name = qs;
		dq->hash = qh;
		dq->type = dec_be16(q, 0);
		dq->klass = dec_be16(q, 2);
	}
	m->stage = DNS_STAGE_QUESTION;

	static const struct {
		int section;
		int stage;
	} secs[3] = { { DNS_SEC_AN, DNS_STAGE_ANSWER },
		      { DNS_SEC_NS, DNS_STAGE_AUTHORITY },
		      { DNS_SEC_AR, DNS_STAGE_DONE } };
	uint16_t counts[3] = { m->ancount, m->nscount, m->arcount };
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			int e = parse_rr(m, &nc, r, secs[s].section);
			if (e)
				return short_or_counts(r, e);
		}
		m->stage = (uint8_t)secs[s].stage;
	}
	if (rd_left(r) > 0)
		m->anomalies |= DNS_ANOM_TRAILING;
	return DEC_DNS_OK;
}

/* ------------------------------------------------------------------ NetBIOS names */

int dec_nbns_name(const char *text, size_t len, char *out, size_t cap, uint8_t *suffix)
{
	/* RFC 1001 14.1: each of the 16 bytes becomes two characters 'A' + nibble. */
	uint8_t raw[16];
	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (len < 32 || (len > 32 && text[32] != '.'))
		return -1;
	for (size_t i = 0; i < 16; i++) {
		char hi = text[2 * i], lo = text[2 * i + 1];
		if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P')
			return -1;
		raw[i] = (uint8_t)((hi - 'A') << 4 | (lo - 'A'));
	}
	size_t n = 15;
	while (n > 0 && raw[n - 1] == ' ')
		n--;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = raw[i];
		char tmp[5];
		size_t tl;
		if (b > 0x20 && b < 0x7f && b != '\\') {
			tmp[0] = (char)b;
			tl = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\%03u", b);
			tl = 4;
		}
		if (o + tl >= cap)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
	}
	out[o] = '\0';
	if (suffix)
		*suffix = raw[15];
	return 0;
}
