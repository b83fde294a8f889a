/* downgrade.c - TLS downgrade indicators (struct tls_ev hellos and failed attempts).
 *
 *  - downgrade.version: a server picked a version below the highest both sides
 *    support. "Both sides" is the client's highest offer (in this hello, or in an
 *    attempt of the same client to the same server that failed moments before: a
 *    fallback without TLS_FALLBACK_SCSV) and the server's baseline, the highest
 *    version it negotiated before (per address, port and SNI; bounded LRU, saved).
 *    A server never seen, or a client that offered less, is no downgrade.
 *  - downgrade.sentinel: the ServerRandom ends with the RFC 8446 4.1.3 sentinel while
 *    the client, as seen on the wire, offered the version the sentinel denies: a TLS
 *    1.3 server writes DOWNGRD\x01 when it negotiates TLS 1.2 or below because the
 *    hello it received did not offer 1.3 (DOWNGRD\x00: 1.1 or below, the hello did not
 *    offer 1.2). The hello the server answered was not the one the client sent.
 *  - downgrade.fallback_scsv: a ClientHello carrying TLS_FALLBACK_SCSV (RFC 7507), a
 *    client retrying at a lower version after a failed attempt. Judged when its
 *    outcome is known: the fallback succeeded (a session at a lower version, worse
 *    when the server is known to do more and the failed attempt is on record), or the
 *    server refused it with inappropriate_fallback (the server supports more: the
 *    first attempt did not fail because of the server), or it failed otherwise. The
 *    failed attempts before it (recent failures of the same client to the same
 *    server address and port, from tls_app.c's failure events) are the evidence.
 *  - downgrade.obsolete_protocol: SSLv2 or SSLv3 negotiated (or offered as the
 *    client's best, lower severity, when no server answer came), or a version the
 *    configuration bans (banned_versions) negotiated.
 *  - downgrade.weak_cipher: a weak suite (signatures/cipher-suites.csv: NULL, EXPORT,
 *    anonymous, RC4, RC2, DES, 3DES/IDEA, CBC with SHA-1 only) picked while the client
 *    offered a stronger one usable at the negotiated version (TLS 1.2: an AEAD suite;
 *    TLS 1.0/1.1: a CBC suite without a broken part); and a ClientHello offering
 *    only weak suites (an ancient stack, or the upstream side of a badly built
 *    interception proxy).
 *
 * Alerts are oriented server -> client (incident.c's convention: the victim is the
 * client). Nothing here is "never seen before", so cold starts mute nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/tls.h"
#include "detector.h"
#include "lru.h"
#include "sig.h"

#define DG_DEFAULT_SERVERS 50000u    /* version baselines (server address, port, SNI) */
#define DG_DEFAULT_HISTORIES 10000u  /* failure histories (client, server address, port) */
#define DG_FAILS 4                   /* failed attempts kept per history */
#define DG_DEFAULT_WINDOW_S 120u     /* a failure this recent explains a fallback */
#define DG_MAX_WINDOW_S 86400u
#define DG_DEFAULT_MAX_AGE_S (30u * 86400u) /* a baseline version unseen this long is forgotten */
#define DG_ESTABLISHED 3             /* handshakes at the baseline version to trust it */
#define DG_MAX_SUITES 1024           /* records of cipher-suites.csv */
#define DG_SUITE_NAME 64
#define DG_EV_SUITES 32              /* offered suites listed in evidence */

/* RFC 7507 3: a server that supports a higher version than a TLS_FALLBACK_SCSV hello
 * offers answers with this alert. */
#define DG_ALERT_INAPPROPRIATE_FALLBACK 86

enum { T_VERSION = 0, T_SENTINEL, T_SCSV, T_OBSOLETE, T_WEAK };

static const struct alert_type dg_types[] = {
	[T_VERSION] = { "downgrade.version", 5, "T1562.010", "Impair Defenses: Downgrade Attack",
			"Server negotiated a TLS version below what it and the client support (against its baseline)" },
	[T_SENTINEL] = { "downgrade.sentinel", 8, "T1557", "Adversary-in-the-Middle",
			 "ServerRandom carries the RFC 8446 downgrade sentinel although the client offered the higher version" },
	[T_SCSV] = { "downgrade.fallback_scsv", 4, "T1562.010", "Impair Defenses: Downgrade Attack",
		     "Client retried with TLS_FALLBACK_SCSV after failed attempts (version fallback)" },
	[T_OBSOLETE] = { "downgrade.obsolete_protocol", 6, "T1562.010", "Impair Defenses: Downgrade Attack",
			 "SSLv2/SSLv3 handshake, or a TLS version banned by configuration negotiated" },
	[T_WEAK] = { "downgrade.weak_cipher", 4, "T1562.010", "Impair Defenses: Downgrade Attack",
		     "Weak cipher suite picked while stronger ones were offered, or a ClientHello offering only weak suites" },
};

/* Cipher-suite classes (cipher-suites.csv, column classes). */
#define CS_NULL (1u << 0)
#define CS_EXPORT (1u << 1)
#define CS_ANON (1u << 2)
#define CS_RC4 (1u << 3)
#define CS_RC2 (1u << 4)
#define CS_DES (1u << 5)
#define CS_3DES (1u << 6)
#define CS_IDEA (1u << 7)
#define CS_CBC_SHA1 (1u << 8)
#define CS_CBC_MD5 (1u << 9)
#define CS_CBC_SHA2 (1u << 10)
#define CS_AEAD (1u << 11)
#define CS_SCSV (1u << 12)
#define CS_OTHER (1u << 13)
#define CS_LISTED (1u << 15) /* the code is in the file */

static const struct {
	const char *name;
	uint16_t bit;
} cs_names[] = {
	{ "null", CS_NULL },   { "export", CS_EXPORT },     { "anon", CS_ANON },       { "rc4", CS_RC4 },
	{ "rc2", CS_RC2 },     { "des", CS_DES },           { "3des", CS_3DES },       { "idea", CS_IDEA },
	{ "cbc-sha1", CS_CBC_SHA1 }, { "cbc-md5", CS_CBC_MD5 }, { "cbc-sha2", CS_CBC_SHA2 },
	{ "aead", CS_AEAD },   { "scsv", CS_SCSV },         { "other", CS_OTHER },
};

/* Strength ranks: what an analyst would order suites by. RANK_NONE: not a suite we
 * can judge (SCSV, GREASE, a code not in the table). */
enum {
	RANK_NONE = -1,
	RANK_BROKEN = 0, /* no encryption, no authentication, or export grade */
	RANK_WEAK,       /* RC4, RC2, single DES, HMAC-MD5 */
	RANK_64BIT,      /* 3DES, IDEA: 64-bit blocks (Sweet32) */
	RANK_CBC_SHA1,   /* CBC with HMAC-SHA1 only */
	RANK_CBC_SHA2,   /* CBC with HMAC-SHA256/384, and other registered suites */
	RANK_AEAD,
};
static const char *const rank_names[] = { "broken", "weak", "64-bit block", "CBC with SHA-1",
					  "CBC with SHA-2", "AEAD" };

struct suite {
	uint16_t code;
	char name[DG_SUITE_NAME];
};

struct srv_base {
	uint16_t max;              /* highest version negotiated */
	uint32_t n_max;            /* handshakes at max */
	uint64_t first_us;         /* first handshake at max */
	uint64_t last_us;          /* last handshake at max */
};

struct fail_rec {
	uint64_t ts_us;
	uint16_t offered;          /* the client's highest version in that attempt */
	uint8_t how;               /* enum tls_fail */
	uint8_t alert_desc;
	bool by_server;
	bool scsv;
};

struct fail_hist {
	uint8_t n, next;
	struct fail_rec r[DG_FAILS];
};

struct dg_state {
	uint16_t cls[65536];        /* CS_* per suite code */
	struct suite *suites;       /* sorted by code, for names */
	size_t nsuites;
	bool banned[8];             /* by version rank */
	uint64_t window_us, max_age_us;
	struct det_lru *servers;    /* "[addr]:port sni" -> struct srv_base */
	struct det_lru *hist;       /* "client [addr]:port" -> struct fail_hist */
};

/* ---- versions ---- */

/* 1 SSLv2 .. 6 TLS 1.3 (its drafts too); 0 for anything else. */
static int vrank(uint16_t v)
{
	switch (v) {
	case TLS_V_SSL2: return 1;
	case TLS_V_SSL3: return 2;
	case TLS_V_10: return 3;
	case TLS_V_11: return 4;
	case TLS_V_12: return 5;
	case TLS_V_13: return 6;
	default:
		/* TLS 1.3 drafts (0x7fxx) and Facebook's experiments (0xfbxx). */
		return ((v >> 8) == 0x7f || (v >> 8) == 0xfb) ? 6 : 0;
	}
}

/* The client's highest offered version (by rank), 0 when none is known. */
static uint16_t client_max(const struct tls_hello *ch)
{
	uint16_t best = 0;
	if (ch->nversions) {
		for (unsigned i = 0; i < ch->nversions && i < TLS_MAX_VERSIONS; i++)
			if (!dec_tls_is_grease(ch->versions[i]) && vrank(ch->versions[i]) > vrank(best))
				best = ch->versions[i];
	}
	if (!best)
		best = ch->version ? ch->version : ch->legacy_version;
	return best;
}

static bool client_offers(const struct tls_hello *ch, uint16_t v)
{
	for (unsigned i = 0; i < ch->nversions && i < TLS_MAX_VERSIONS; i++)
		if (ch->versions[i] == v)
			return true;
	return !ch->has_supported_versions && ch->version == v;
}

static const char *vname(uint16_t v, char b[12])
{
	return dec_tls_version_str(v, b);
}

/* ---- cipher suites ---- */

static int suite_rank(const struct dg_state *s, uint16_t code)
{
	uint16_t c = s->cls[code];
	if (!(c & CS_LISTED) || (c & CS_SCSV) || dec_tls_is_grease(code))
		return RANK_NONE;
	if (c & (CS_NULL | CS_EXPORT | CS_ANON))
		return RANK_BROKEN;
	if (c & (CS_RC4 | CS_RC2 | CS_DES | CS_CBC_MD5))
		return RANK_WEAK;
	if (c & (CS_3DES | CS_IDEA))
		return RANK_64BIT;
	if (c & CS_CBC_SHA1)
		return RANK_CBC_SHA1;
	if (c & CS_AEAD)
		return RANK_AEAD;
	return RANK_CBC_SHA2;
}

/* Whether a suite can be negotiated at version v: TLS 1.3 has its own suites
 * (0x13xx, RFC 8446 B.4); AEAD and SHA-256 suites need TLS 1.2 (RFC 5246 A.5, RFC
 * 5288). */
static bool suite_usable(const struct dg_state *s, uint16_t code, uint16_t v)
{
	bool s13 = (code >> 8) == 0x13;
	if (vrank(v) == 6)
		return s13;
	if (s13)
		return false;
	if (vrank(v) < 5 && (s->cls[code] & (CS_AEAD | CS_CBC_SHA2)))
		return false;
	return true;
}

static int cmp_suite(const void *a, const void *b)
{
	const struct suite *x = a, *y = b;
	return (int)x->code - (int)y->code;
}

static const char *suite_name(const struct dg_state *s, uint16_t code)
{
	struct suite k = { .code = code };
	const struct suite *f = s->suites ? bsearch(&k, s->suites, s->nsuites, sizeof(k), cmp_suite) : NULL;
	return f ? f->name : NULL;
}

static void ev_suite(const struct dg_state *s, struct jw *w, const char *key, uint16_t code)
{
	char cs[8];
	snprintf(cs, sizeof(cs), "0x%04x", code);
	jw_obj_open(w, key);
	jw_str(w, "code", cs);
	const char *n = suite_name(s, code);
	if (n)
		jw_str(w, "name", n);
	int r = suite_rank(s, code);
	jw_str(w, "class", r >= 0 ? rank_names[r] : "unknown");
	jw_obj_close(w);
}

static int load_suite(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		      size_t errlen)
{
	(void)ncols;
	struct dg_state *s = ud;
	char *end;
	unsigned long code = strtoul(cols[0], &end, 16);
	if (strncmp(cols[0], "0x", 2) != 0 || strlen(cols[0]) != 6 || *end || code > 0xffff) {
		sig_errf(err, errlen, file, line, "code '%s' is not 0x followed by 4 hex digits", cols[0]);
		return -1;
	}
	if (s->cls[code] & CS_LISTED) {
		sig_errf(err, errlen, file, line, "code %s listed twice", cols[0]);
		return -1;
	}
	if (s->nsuites == DG_MAX_SUITES) {
		sig_errf(err, errlen, file, line, "more than %d records", DG_MAX_SUITES);
		return -1;
	}
	uint16_t bits = CS_LISTED;
	char *p = cols[2];
	while (*p) {
		size_t n = strcspn(p, "|");
		size_t i;
		for (i = 0; i < ONPATH_ARRAY_LEN(cs_names); i++)
			if (strlen(cs_names[i].name) == n && strncmp(p, cs_names[i].name, n) == 0)
				break;
		if (i == ONPATH_ARRAY_LEN(cs_names)) {
			sig_errf(err, errlen, file, line, "unknown class '%.*s' in '%s'", (int)n, p, cols[2]);
			return -1;
		}
		bits |= cs_names[i].bit;
		p += n;
		if (*p == '|')
			p++;
	}
	if (bits == CS_LISTED) {
		sig_errf(err, errlen, file, line, "no class for %s", cols[0]);
		return -1;
	}
	s->cls[code] = bits;
	struct suite *e = &s->suites[s->nsuites++];
	e->code = (uint16_t)code;
	util_strlcpy(e->name, cols[1], sizeof(e->name));
	return 0;
}

/* ---- keys ---- */

static size_t put_str(char *out, size_t cap, size_t o, const char *s)
{
	while (*s && o + 1 < cap)
		out[o++] = *s++;
	out[o] = '\0';
	return o;
}

/* The endpoints of a handshake whatever the event: the client is the ClientHello's
 * sender, the server the other side. */
struct ends {
	struct ev_meta m;    /* oriented server -> client */
	const struct tls_hello *ch, *sh;
};

static void orient(const struct tls_ev *ev, bool from_server, const struct tls_hello *ch,
		   const struct tls_hello *sh, struct ends *e)
{
	e->m = ev->m;
	if (!from_server) {
		e->m.src = ev->m.dst;
		e->m.dst = ev->m.src;
		e->m.sport = ev->m.dport;
		e->m.dport = ev->m.sport;
		memcpy(e->m.src_mac, ev->m.dst_mac, 6);
		memcpy(e->m.dst_mac, ev->m.src_mac, 6);
	}
	e->ch = ch;
	e->sh = sh;
}

/* "[addr]:port" of the server, then " sni" when the client sent one (lower case,
 * bytes outside printable ASCII as '?'). Returns the length. */
static size_t server_key(const struct ends *e, char *out, size_t cap)
{
	char a[OP_ADDR_STRLEN], p[8];
	util_addr_fmt(&e->m.src, a);
	snprintf(p, sizeof(p), "%u", e->m.sport);
	size_t o = put_str(out, cap, 0, "[");
	o = put_str(out, cap, o, a);
	o = put_str(out, cap, o, "]:");
	o = put_str(out, cap, o, p);
	const struct tls_hello *c = e->ch;
	if (c && c->sni_len) {
		o = put_str(out, cap, o, " ");
		for (size_t i = 0; i < c->sni_len && i < TLS_SNI_MAX && o + 1 < cap; i++) {
			unsigned char ch = (unsigned char)c->sni[i];
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch + 32);
			out[o++] = (ch > 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		out[o] = '\0';
	}
	return o;
}

/* "client [server]:port": the failure history of one client toward one server port. */
static void hist_key(const struct ends *e, char *out, size_t cap)
{
	char c[OP_ADDR_STRLEN], sv[OP_ADDR_STRLEN];
	util_addr_fmt(&e->m.dst, c);
	util_addr_fmt(&e->m.src, sv);
	snprintf(out, cap, "%s [%s]:%u", c, sv, e->m.sport);
}

/* ---- evidence ---- */

static void ev_versions(struct jw *w, const char *key, const struct tls_hello *ch)
{
	char vb[12];
	jw_arr_open(w, key);
	if (ch->has_supported_versions) {
		for (unsigned i = 0; i < ch->nversions && i < TLS_MAX_VERSIONS; i++)
			if (!dec_tls_is_grease(ch->versions[i]))
				jw_str(w, NULL, vname(ch->versions[i], vb));
	} else {
		jw_str(w, NULL, vname(ch->version, vb));
	}
	jw_arr_close(w);
}

static void ev_client(struct jw *w, const struct tls_hello *ch)
{
	char vb[12];
	jw_obj_open(w, "client_hello");
	jw_str(w, "max_version", vname(client_max(ch), vb));
	ev_versions(w, "versions", ch);
	if (ch->sni_len)
		jw_strn(w, "sni", ch->sni, ch->sni_len);
	jw_bool(w, "fallback_scsv", ch->fallback_scsv);
	jw_bool(w, "sslv2_format", ch->sslv2);
	jw_uint(w, "cipher_suites", ch->nciphers);
	if (ch->ja4[0])
		jw_str(w, "ja4", ch->ja4);
	jw_obj_close(w);
}

static void ev_server(struct jw *w, const struct tls_hello *sh)
{
	char vb[12], cs[8];
	jw_obj_open(w, "server_hello");
	jw_str(w, "version", vname(sh->version, vb));
	snprintf(cs, sizeof(cs), "0x%04x", sh->cipher);
	jw_str(w, "cipher", cs);
	jw_hex(w, "random_tail", sh->random + 24, 8);
	if (sh->ja4[0])
		jw_str(w, "ja4s", sh->ja4);
	jw_obj_close(w);
}

static void ev_baseline(struct jw *w, const struct srv_base *b)
{
	char vb[12];
	jw_obj_open(w, "baseline");
	jw_str(w, "max_version", vname(b->max, vb));
	jw_uint(w, "handshakes", b->n_max);
	jw_ts(w, "first_seen", b->first_us);
	jw_ts(w, "last_seen", b->last_us);
	jw_obj_close(w);
}

static const char *fail_how(uint8_t how)
{
	return how == TLS_FAIL_ALERT ? "alert" : how == TLS_FAIL_CLOSE ? "closed (FIN/RST)" : "none";
}

static const char *alert_name(uint8_t d)
{
	switch (d) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 120: return "no_application_protocol";
	default: return NULL;
	}
}

static void ev_alert(struct jw *w, const char *key, uint8_t level, uint8_t desc)
{
	jw_obj_open(w, key);
	jw_uint(w, "level", level);
	jw_uint(w, "description", desc);
	const char *n = alert_name(desc);
	if (n)
		jw_str(w, "name", n);
	jw_obj_close(w);
}

/* The recent failures of hist (within the window before now), oldest first. Returns
 * how many were listed; *max_offered gets the highest version they offered. */
static int ev_failures(const struct dg_state *s, struct jw *w, const struct fail_hist *h, uint64_t now,
		       uint16_t *max_offered)
{
	int n = 0;
	*max_offered = 0;
	if (w)
		jw_arr_open(w, "failed_attempts");
	for (int k = 0; h && k < h->n; k++) {
		const struct fail_rec *r = &h->r[(h->next + DG_FAILS - h->n + k) % DG_FAILS];
		if (r->ts_us > now || now - r->ts_us > s->window_us)
			continue;
		n++;
		if (vrank(r->offered) > vrank(*max_offered))
			*max_offered = r->offered;
		if (!w)
			continue;
		char vb[12];
		jw_obj_open(w, NULL);
		jw_ts(w, "time", r->ts_us);
		jw_str(w, "offered", vname(r->offered, vb));
		jw_str(w, "failure", fail_how(r->how));
		jw_str(w, "by", r->by_server ? "server" : "client");
		if (r->how == TLS_FAIL_ALERT) {
			jw_uint(w, "alert", r->alert_desc);
			const char *an = alert_name(r->alert_desc);
			if (an)
				jw_str(w, "alert_name", an);
		}
		jw_bool(w, "fallback_scsv", r->scsv);
		jw_obj_close(w);
	}
	if (w)
		jw_arr_close(w);
	return n;
}

static void begin(struct alert *a, int type, const struct ends *e, const char *server)
{
	alert_begin(a, &dg_types[type], e->m.ts_us);
	det_alert_from_meta(a, &e->m);
	jw_str(&a->ev, "server", server);
}

/* ---- judging ---- */

static struct fail_hist *history(struct dg_state *s, const struct ends *e, bool create)
{
	char k[DET_LRU_KEY_MAX];
	hist_key(e, k, sizeof(k));
	if (!create)
		return det_lru_get(s->hist, k);
	bool created;
	return det_lru_put(s->hist, k, &created);
}

/* fail: the failure event of an attempt that got no ServerHello (the client's offer is
 * judged), else NULL (the ServerHello's version is). */
static void judge_obsolete(struct dg_state *s, const struct ends *e, const char *server, const struct tls_ev *fail,
			   struct alert_pipe *out)
{
	bool offered_only = fail != NULL;
	uint16_t v = offered_only ? client_max(e->ch) : e->sh->version;
	int r = vrank(v);
	bool banned = r > 2 && r < 6 && s->banned[r];
	if (!(r == 1 || r == 2 || banned))
		return;
	struct alert a;
	char vb[12];
	begin(&a, T_OBSOLETE, e, server);
	a.confidence = CONF_HIGH;
	if (offered_only) {
		/* The client can do nothing better, but no session came of it. */
		a.severity = 3;
		a.confidence = CONF_MEDIUM;
	} else if (banned) {
		a.severity = 4; /* policy: a legacy server doing what it always did */
	}
	snprintf(a.key, sizeof(a.key), "%.120s %s%s", server, vname(v, vb), offered_only ? " offered" : "");
	if (offered_only)
		snprintf(a.message, sizeof(a.message), "Client offered at most %s to %.200s; the attempt failed (%s%s%s)",
			 vname(v, vb), server, fail_how(fail->fail), fail->fail == TLS_FAIL_ALERT ? " " : "",
			 fail->fail == TLS_FAIL_ALERT && alert_name(fail->alert_desc) ? alert_name(fail->alert_desc) : "");
	else
		snprintf(a.message, sizeof(a.message), "%.200s negotiated %s%s", server, vname(v, vb),
			 banned ? ", a version banned by configuration" : " (obsolete: RFC 6176, RFC 7568)");
	jw_str(&a.ev, "version", vname(v, vb));
	jw_str(&a.ev, "reason", banned ? "banned" : "obsolete");
	jw_bool(&a.ev, "negotiated", !offered_only);
	if (offered_only) {
		uint16_t fmax;
		jw_str(&a.ev, "failure", fail_how(fail->fail));
		if (fail->fail == TLS_FAIL_ALERT)
			ev_alert(&a.ev, "alert", fail->alert_level, fail->alert_desc);
		ev_failures(s, &a.ev, history(s, e, false), e->m.ts_us, &fmax);
	}
	if (e->ch)
		ev_client(&a.ev, e->ch);
	if (e->sh)
		ev_server(&a.ev, e->sh);
	alert_emit(out, &a);
}

static void judge_sentinel(const struct ends *e, const char *server, struct alert_pipe *out)
{
	static const uint8_t sent[7] = { 'D', 'O', 'W', 'N', 'G', 'R', 'D' };
	const struct tls_hello *sh = e->sh, *ch = e->ch;
	if (memcmp(sh->random + 24, sent, 7) != 0 || vrank(sh->version) >= 6)
		return;
	uint8_t last = sh->random[31];
	/* RFC 8446 4.1.3: \x01 denies a TLS 1.3 offer, \x00 a TLS 1.2 offer. */
	bool hit = (last == 1 && client_offers(ch, TLS_V_13)) ||
		   (last == 0 && vrank(client_max(ch)) >= 5 && vrank(sh->version) <= 4);
	if (!hit)
		return;
	struct alert a;
	char vb[12], vc[12];
	begin(&a, T_SENTINEL, e, server);
	a.confidence = CONF_HIGH;
	snprintf(a.key, sizeof(a.key), "%.120s DOWNGRD%02x", server, last);
	snprintf(a.message, sizeof(a.message),
		 "%.200s answered %s with the downgrade sentinel DOWNGRD\\x%02x although the client offered %s: the ClientHello the server received was altered in transit",
		 server, vname(sh->version, vb), last, vname(last == 1 ? TLS_V_13 : client_max(ch), vc));
	jw_str(&a.ev, "sentinel", last == 1 ? "DOWNGRD\\x01 (TLS 1.3 server, hello without 1.3)"
					  : "DOWNGRD\\x00 (TLS 1.2+ server, hello without 1.2)");
	ev_client(&a.ev, ch);
	ev_server(&a.ev, sh);
	alert_emit(out, &a);
}

/* The version judgments of a ServerHello; updates the server's baseline. */
static void judge_version(struct dg_state *s, const struct ends *e, const char *server,
			  struct alert_pipe *out)
{
	const struct tls_hello *sh = e->sh, *ch = e->ch;
	uint64_t now = e->m.ts_us;
	uint16_t v = sh->version;
	int rv = vrank(v);
	if (!rv)
		return;
	bool created;
	struct srv_base *b = det_lru_put(s->servers, server, &created);
	if (!b)
		return;
	if (!created && now > b->last_us && now - b->last_us > s->max_age_us)
		created = true; /* the baseline's best version is stale: start over */
	if (created) {
		b->max = v;
		b->n_max = 1;
		b->first_us = b->last_us = now;
		return;
	}
	int rb = vrank(b->max);
	if (rv >= rb) {
		if (rv > rb) {
			b->max = v;
			b->n_max = 0;
			b->first_us = now;
		}
		b->n_max++;
		b->last_us = now;
		return;
	}
	/* Below the baseline: a downgrade if the client offered at least the baseline's
	 * version, in this hello or in a failed attempt moments ago. A hello carrying
	 * TLS_FALLBACK_SCSV is downgrade.fallback_scsv's case. */
	if (!ch || ch->fallback_scsv)
		return;
	uint16_t fmax = 0;
	const struct fail_hist *h = history(s, e, false);
	ev_failures(s, NULL, h, now, &fmax);
	uint16_t cmax = client_max(ch);
	bool by_retry = vrank(cmax) < rb && vrank(fmax) >= rb;
	if (vrank(cmax) < rb && !by_retry)
		return;
	struct alert a;
	char vb[12], vo[12], vc[12];
	begin(&a, T_VERSION, e, server);
	bool est = b->n_max >= DG_ESTABLISHED;
	a.confidence = est ? CONF_HIGH : CONF_MEDIUM;
	if (est || rb - rv >= 2)
		a.severity = 6;
	/* From TLS 1.2+ down to TLS 1.0 or below on a well-known server: what an attacker
	 * wants (POODLE, BEAST, RC4), and what no configuration change does by accident. */
	if (est && rb >= 5 && rv <= 3)
		a.severity = 7;
	snprintf(a.key, sizeof(a.key), "%.120s %s", server, vname(v, vb));
	snprintf(a.message, sizeof(a.message),
		 "%.200s negotiated %s with a client that offered %s; it negotiated %s %u times before%s",
		 server, vname(v, vb), vname(by_retry ? fmax : cmax, vc), vname(b->max, vo), b->n_max,
		 by_retry ? " (the client's attempt at the higher version failed moments before)" : "");
	jw_str(&a.ev, "negotiated", vname(v, vb));
	jw_str(&a.ev, "client_offered", vname(cmax, vc));
	ev_baseline(&a.ev, b);
	ev_failures(s, &a.ev, h, now, &fmax);
	ev_client(&a.ev, ch);
	ev_server(&a.ev, sh);
	alert_emit(out, &a);
}

/* A ClientHello with TLS_FALLBACK_SCSV whose outcome is known: sh (success) or the
 * failure event ev (fail set). */
static void judge_scsv(struct dg_state *s, const struct ends *e, const char *server, const struct tls_ev *ev,
		       struct alert_pipe *out)
{
	const struct tls_hello *ch = e->ch, *sh = e->sh;
	uint64_t now = e->m.ts_us;
	const struct fail_hist *h = history(s, e, false);
	uint16_t fmax = 0;
	int nfail = ev_failures(s, NULL, h, now, &fmax);
	/* The failure event of this very attempt is recorded after judging. */
	const struct srv_base *b = det_lru_get(s->servers, server);
	uint16_t cmax = client_max(ch);
	struct alert a;
	char vb[12], vc[12], vs[12];
	begin(&a, T_SCSV, e, server);
	const char *outcome;
	if (!ev->fail && sh) {
		outcome = "succeeded";
		/* The session runs below what the client first tried. */
		a.severity = 5;
		a.confidence = nfail ? CONF_MEDIUM : CONF_LOW;
		if (!nfail)
			a.severity = 4;
		/* A server known to do more should have refused the fallback (RFC 7507 3):
		 * either it lost SCSV support or this ServerHello is not from it. */
		if (b && vrank(b->max) > vrank(sh->version) && b->n_max >= DG_ESTABLISHED) {
			a.severity = nfail ? 7 : 6;
			a.confidence = CONF_HIGH;
		}
		snprintf(a.message, sizeof(a.message),
			 "Client fell back to %s with TLS_FALLBACK_SCSV toward %.200s and the server accepted (%s)%s%s",
			 vname(cmax, vc), server, vname(sh->version, vb),
			 nfail ? "; earlier attempts failed" : "; the failed attempt was not seen",
			 b && vrank(b->max) > vrank(sh->version) ? "; the server negotiated a higher version before" : "");
	} else if (ev->fail == TLS_FAIL_ALERT && ev->fail_by_server &&
		   ev->alert_desc == DG_ALERT_INAPPROPRIATE_FALLBACK) {
		outcome = "refused: inappropriate_fallback";
		/* The server supports more than this retry offers: the attempt before did
		 * not fail because of the server. SCSV stopped the downgrade. */
		a.severity = nfail ? 6 : 5;
		a.confidence = CONF_MEDIUM;
		snprintf(a.message, sizeof(a.message),
			 "%.200s refused a %s fallback with inappropriate_fallback: it supports a higher version, so the client's earlier attempt%s failed for another reason (interference on the path?)",
			 server, vname(cmax, vc), nfail ? "s" : "");
	} else {
		outcome = "failed";
		/* The server refuses the lower version too: a broken connection, not a
		 * downgrade that worked. */
		a.severity = 3;
		a.confidence = CONF_LOW;
		snprintf(a.message, sizeof(a.message),
			 "Client retried %.200s at %s with TLS_FALLBACK_SCSV and that failed too (%s%s%s)", server,
			 vname(cmax, vc), fail_how(ev->fail),
			 ev->fail == TLS_FAIL_ALERT ? " " : "",
			 ev->fail == TLS_FAIL_ALERT ? (alert_name(ev->alert_desc) ? alert_name(ev->alert_desc) : "?") : "");
	}
	snprintf(a.key, sizeof(a.key), "%.120s %s %s", server, vname(cmax, vc), outcome);
	jw_str(&a.ev, "outcome", outcome);
	jw_str(&a.ev, "fallback_version", vname(cmax, vc));
	if (sh)
		jw_str(&a.ev, "negotiated", vname(sh->version, vs));
	if (ev->fail) {
		jw_str(&a.ev, "failure", fail_how(ev->fail));
		jw_str(&a.ev, "failure_by", ev->fail_by_server ? "server" : "client");
		if (ev->fail == TLS_FAIL_ALERT)
			ev_alert(&a.ev, "alert", ev->alert_level, ev->alert_desc);
	}
	if (b)
		ev_baseline(&a.ev, b);
	ev_failures(s, &a.ev, h, now, &fmax);
	ev_client(&a.ev, ch);
	if (sh)
		ev_server(&a.ev, sh);
	alert_emit(out, &a);
}

static void judge_weak_pick(struct dg_state *s, const struct ends *e, const char *server, struct alert_pipe *out)
{
	const struct tls_hello *sh = e->sh, *ch = e->ch;
	int rv = vrank(sh->version);
	if (rv < 2 || rv > 5 || sh->sslv2)
		return; /* SSLv2 is obsolete_protocol's; TLS 1.3 suites are all AEAD */
	int rp = suite_rank(s, sh->cipher);
	if (rp < 0 || rp > RANK_CBC_SHA1)
		return;
	/* The bar the client's offer must clear: at TLS 1.2 an AEAD suite; below, a CBC
	 * suite without a broken part (AEAD does not exist there). */
	int bar = rv == 5 ? RANK_AEAD : RANK_CBC_SHA1;
	if (rp >= bar)
		return;
	int best = RANK_NONE;
	uint16_t best_code = 0;
	bool offered = false;
	for (unsigned i = 0; i < ch->nciphers && i < TLS_MAX_CIPHERS; i++) {
		uint16_t c = ch->ciphers[i];
		if (c == sh->cipher)
			offered = true;
		int r = suite_rank(s, c);
		if (r > best && suite_usable(s, c, sh->version)) {
			best = r;
			best_code = c;
		}
	}
	if (best < bar)
		return;
	struct alert a;
	char vb[12];
	begin(&a, T_WEAK, e, server);
	a.confidence = CONF_MEDIUM;
	a.severity = rp == RANK_BROKEN ? 6 : rp == RANK_WEAK ? 5 : rp == RANK_64BIT ? 4 : 3;
	const char *pn = suite_name(s, sh->cipher), *bn = suite_name(s, best_code);
	snprintf(a.key, sizeof(a.key), "%.120s 0x%04x", server, sh->cipher);
	snprintf(a.message, sizeof(a.message),
		 "%.200s picked %s (0x%04x, %s) at %s although the client offered %s (0x%04x)%s", server,
		 pn ? pn : "an unnamed suite", sh->cipher, rank_names[rp], vname(sh->version, vb),
		 bn ? bn : "a stronger suite", best_code, offered ? "" : "; the picked suite was not even offered");
	jw_str(&a.ev, "reason", "weak_pick");
	ev_suite(s, &a.ev, "picked", sh->cipher);
	ev_suite(s, &a.ev, "best_offered", best_code);
	jw_bool(&a.ev, "picked_was_offered", offered);
	jw_str(&a.ev, "negotiated", vname(sh->version, vb));
	ev_client(&a.ev, ch);
	ev_server(&a.ev, sh);
	alert_emit(out, &a);
}

static void judge_weak_offer(struct dg_state *s, const struct ends *e, const char *server, struct alert_pipe *out)
{
	const struct tls_hello *ch = e->ch;
	int best = RANK_NONE;
	unsigned judged = 0;
	for (unsigned i = 0; i < ch->nciphers && i < TLS_MAX_CIPHERS; i++) {
		int r = suite_rank(s, ch->ciphers[i]);
		if (r == RANK_NONE)
			continue;
		judged++;
		if (r > best)
			best = r;
	}
	/* What the client could offer at its best version: AEAD exists from TLS 1.2 on;
	 * below, CBC with SHA-1 is the best there is, and 3DES as the best is the Windows
	 * XP SChannel of the TLS 1.0 era: there the version is the finding
	 * (obsolete_protocol with banned_versions), not the suites. */
	int cv = vrank(client_max(ch));
	if (!judged || cv >= 6 || best > RANK_CBC_SHA1 || (cv < 5 && best >= RANK_64BIT))
		return;
	struct alert a;
	char vb[12];
	begin(&a, T_WEAK, e, server);
	/* Only broken or RC4/DES suites: nothing a maintained stack sends; an ancient
	 * client, or an interception proxy's upstream side built on a bad library (worse
	 * from a stack that speaks TLS 1.2). A TLS 1.2 client whose best is 3DES or
	 * CBC-SHA1: a legacy or stripped-down configuration. */
	a.severity = best <= RANK_WEAK ? (cv >= 5 ? 6 : 5) : best == RANK_64BIT ? 4 : 3;
	a.confidence = best <= RANK_64BIT ? CONF_MEDIUM : CONF_LOW;
	char cip[OP_ADDR_STRLEN];
	util_addr_fmt(&e->m.dst, cip);
	snprintf(a.key, sizeof(a.key), "%s %.60s offer %.40s", cip, server, ch->ja4[0] ? ch->ja4 : ch->ja3);
	snprintf(a.message, sizeof(a.message),
		 "ClientHello from %s to %.200s offers only weak cipher suites (the best is %s) with %s", cip, server,
		 rank_names[best], vname(client_max(ch), vb));
	jw_str(&a.ev, "reason", "weak_offer");
	jw_str(&a.ev, "best_offered_class", rank_names[best]);
	jw_arr_open(&a.ev, "offered");
	unsigned listed = 0;
	for (unsigned i = 0; i < ch->nciphers && i < TLS_MAX_CIPHERS && listed < DG_EV_SUITES; i++) {
		if (suite_rank(s, ch->ciphers[i]) == RANK_NONE)
			continue;
		ev_suite(s, &a.ev, NULL, ch->ciphers[i]);
		listed++;
	}
	jw_arr_close(&a.ev);
	ev_client(&a.ev, ch);
	alert_emit(out, &a);
}

static void record_failure(struct dg_state *s, const struct ends *e, const struct tls_ev *ev)
{
	struct fail_hist *h = history(s, e, true);
	if (!h)
		return;
	struct fail_rec *r = &h->r[h->next];
	h->next = (uint8_t)((h->next + 1) % DG_FAILS);
	if (h->n < DG_FAILS)
		h->n++;
	memset(r, 0, sizeof(*r));
	r->ts_us = e->m.ts_us;
	r->offered = client_max(e->ch);
	r->how = ev->fail;
	r->alert_desc = ev->alert_desc;
	r->by_server = ev->fail_by_server;
	r->scsv = e->ch->fallback_scsv;
}

static void dg_on_tls(void *state, const struct tls_ev *ev, struct alert_pipe *out)
{
	struct dg_state *s = state;
	struct ends e;
	char server[DET_LRU_KEY_MAX];
	if (ev->chain)
		return; /* the certificate step: the hellos were judged already */
	if (ev->fail) {
		if (!ev->failed_client)
			return;
		orient(ev, ev->fail_by_server, ev->failed_client, ev->failed_server, &e);
		server_key(&e, server, sizeof(server));
		if (e.ch->fallback_scsv)
			judge_scsv(s, &e, server, ev, out);
		if (!e.sh)
			judge_obsolete(s, &e, server, ev, out);
		record_failure(s, &e, ev);
		return;
	}
	if (ev->server) {
		if (ev->server->kind != TLS_HELLO_SERVER)
			return;
		orient(ev, true, ev->client, ev->server, &e);
		server_key(&e, server, sizeof(server));
		judge_obsolete(s, &e, server, NULL, out);
		if (e.ch) {
			judge_sentinel(&e, server, out);
			if (e.ch->fallback_scsv)
				judge_scsv(s, &e, server, ev, out);
			judge_weak_pick(s, &e, server, out);
		}
		judge_version(s, &e, server, out);
		return;
	}
	if (ev->client && ev->client->proto == 't') {
		orient(ev, false, ev->client, NULL, &e);
		server_key(&e, server, sizeof(server));
		judge_weak_offer(s, &e, server, out);
	}
}

/* ---- configuration ---- */

static int parse_banned(struct dg_state *s, const struct det_init *in)
{
	const struct cfg_node *n = in->section ? cfg_get(in->section, "banned_versions") : NULL;
	if (!n)
		return 0;
	if (n->type != CFG_SEQ) {
		cfg_errf(in->cfg, n, in->err, in->errlen, "detectors.downgrade.banned_versions: must be a list");
		return -1;
	}
	static const struct {
		const char *name;
		int rank;
	} known[] = { { "sslv2", 1 }, { "sslv3", 2 }, { "tls1.0", 3 }, { "tls1.1", 4 }, { "tls1.2", 5 } };
	for (const struct cfg_node *it = n->child; it; it = it->next) {
		size_t i = ONPATH_ARRAY_LEN(known);
		if (it->type == CFG_SCALAR && it->value)
			for (i = 0; i < ONPATH_ARRAY_LEN(known); i++)
				if (strcasecmp(it->value, known[i].name) == 0)
					break;
		if (i == ONPATH_ARRAY_LEN(known)) {
			cfg_errf(in->cfg, it, in->err, in->errlen,
				 "detectors.downgrade.banned_versions: '%.40s' is not one of sslv2, sslv3, tls1.0, tls1.1, tls1.2",
				 it->value ? it->value : "(not a string)");
			return -1;
		}
		s->banned[known[i].rank] = true;
	}
	return 0;
}

static void dg_fini(void *state)
{
	struct dg_state *s = state;
	if (!s)
		return;
	free(s->suites);
	det_lru_free(s->servers);
	det_lru_free(s->hist);
	free(s);
}

static int dg_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_servers", "max_histories", "banned_versions",
					    "fallback_window", "baseline_max_age", NULL };
	if (cfg_check_keys(in->cfg, in->section, "detectors.downgrade", keys, in->err, in->errlen) < 0)
		return -1;
	uint64_t servers = DG_DEFAULT_SERVERS, hists = DG_DEFAULT_HISTORIES;
	uint64_t window = DG_DEFAULT_WINDOW_S, max_age = DG_DEFAULT_MAX_AGE_S;
	if (cfg_uint(in->cfg, in->section, "max_servers", 16, DET_LRU_MAX_CAP, &servers, in->err, in->errlen) < 0 ||
	    cfg_uint(in->cfg, in->section, "max_histories", 16, DET_LRU_MAX_CAP, &hists, in->err, in->errlen) < 0 ||
	    cfg_duration(in->cfg, in->section, "fallback_window", 1, DG_MAX_WINDOW_S, &window, in->err, in->errlen) < 0 ||
	    cfg_duration(in->cfg, in->section, "baseline_max_age", 3600, 3650u * 86400u, &max_age, in->err,
			 in->errlen) < 0)
		return -1;
	struct dg_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "downgrade: out of memory");
		return -1;
	}
	s->window_us = window * 1000000u;
	s->max_age_us = max_age * 1000000u;
	if (parse_banned(s, in) < 0) {
		dg_fini(s);
		return -1;
	}
	s->servers = det_lru_new((size_t)servers, sizeof(struct srv_base));
	s->hist = det_lru_new((size_t)hists, sizeof(struct fail_hist));
	s->suites = calloc(DG_MAX_SUITES, sizeof(*s->suites));
	if (!s->servers || !s->hist || !s->suites) {
		snprintf(in->err, in->errlen, "downgrade: out of memory for %llu servers",
			 (unsigned long long)servers);
		dg_fini(s);
		return -1;
	}
	if (sig_csv_load(in->sig_dir, "cipher-suites.csv", 3, load_suite, s, in->err, in->errlen) < 0) {
		dg_fini(s);
		return -1;
	}
	qsort(s->suites, s->nsuites, sizeof(*s->suites), cmp_suite);
	*state = s;
	return 0;
}

/* ---- persistence: the version baselines (failure histories are minutes long) ---- */

static void save_srv(void *ud, const char *key, void *value)
{
	const struct srv_base *b = value;
	json_array_append_new(ud, json_pack("{s:s,s:i,s:I,s:I,s:I}", "k", key, "v", b->max, "n",
					    (json_int_t)b->n_max, "f", (json_int_t)b->first_us, "l",
					    (json_int_t)b->last_us));
}

static json_t *dg_save(void *state)
{
	struct dg_state *s = state;
	json_t *sv = json_array();
	if (!sv)
		return NULL;
	det_lru_each(s->servers, save_srv, sv);
	return json_pack("{s:i,s:o}", "version", 1, "servers", sv);
}

static int dg_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct dg_state *s = state;
	json_t *sv = json_object_get(saved, "servers");
	if (json_integer_value(json_object_get(saved, "version")) != 1 || !json_is_array(sv)) {
		snprintf(err, errlen, "downgrade: state is not version 1 with a servers list");
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(sv, i, o) {
		const char *k = json_string_value(json_object_get(o, "k"));
		json_int_t v = json_integer_value(json_object_get(o, "v"));
		if (!k || v <= 0 || v > 0xffff || !vrank((uint16_t)v))
			continue;
		bool created;
		struct srv_base *b = det_lru_put(s->servers, k, &created);
		if (!b)
			continue;
		b->max = (uint16_t)v;
		json_int_t n = json_integer_value(json_object_get(o, "n"));
		b->n_max = n > 0 && n < UINT32_MAX ? (uint32_t)n : 1;
		b->first_us = (uint64_t)json_integer_value(json_object_get(o, "f"));
		b->last_us = (uint64_t)json_integer_value(json_object_get(o, "l"));
	}
	return 0;
}

const struct detector det_downgrade = {
	.name = "downgrade",
	.types = dg_types,
	.ntypes = ONPATH_ARRAY_LEN(dg_types),
	.init = dg_init,
	.fini = dg_fini,
	.on_tls = dg_on_tls,
	.save = dg_save,
	.load = dg_load,
};
