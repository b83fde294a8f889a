#include "config.h"

/* records.c - protocol records: one `tls` record per TLS handshake and one `dns` record
 * per DNS response, written to the outputs next to the alerts as event.kind "event"
 * (Zeek's ssl.log and dns.log, Suricata's EVE tls and dns), so an analyst can search every
 * handshake and every answer, not only the ones that alerted. No alert types.
 *
 * Off by default (detectors.records.tls / .dns, or --log-tls / --log-dns): with both off
 * init returns "idle" and the registry does not call this detector at all.
 *
 * TLS: the stream consumer (monitor/decode/tls_app.c) sends an event per handshake step -
 * ClientHello, ServerHello, the server's Certificate (TLS <= 1.2), and one failure event
 * when the handshake dies - and none when a flow just stops. A record is written once
 * per handshake, when the negotiation is known:
 *   - at the Certificate (TLS <= 1.2, SSLv2) or the ServerHello of TLS 1.3, whose
 *     certificate is encrypted: tls.handshake "complete";
 *   - at the failure event (fatal alert, or FIN/RST before any ServerHello):
 *     "failed", with tls.failure;
 *   - REC_TLS_WAIT_S of packet time after the handshake's first event when neither came:
 *     "no_certificate" after a TLS <= 1.2 ServerHello (session resumption, PSK or
 *     anonymous suites, or the Certificate was not captured), "client_only" when no
 *     ServerHello was seen (unanswered, one-way capture, and always for QUIC, whose
 *     server flight the sensor does not decrypt);
 *   - early, as it stands, when the table of open handshakes is full (oldest first) or
 *     the detector stops (end of run, reload).
 * Until then the record is kept as its JSON so far (the head and the client object,
 * then the negotiated values, then the chain), in a table of at most
 * REC_TLS_PENDING_MAX open handshakes keyed by the flow's addresses and ports, so each
 * step writes what it knows once and nothing is copied twice. A capture that shows only
 * the server's direction gives a record without tls.client. source is always the
 * client, destination the server, whichever packet completed the step.
 *
 * DNS: one record per response (QR set) of DNS, mDNS, LLMNR and NBT-NS, over UDP or TCP,
 * from the response alone: it repeats the question. source is the client, destination
 * the answering server (also in dns.resolver, with the IP TTL it arrived with).
 *
 * Every string in a record that came off the wire (SNI, ALPN, certificate names, DNS
 * names and data) goes through jw_strn with its recorded length: escaped for JSON and
 * HTML, invalid UTF-8 and NUL as visible \xNN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "decode/dns.h"
#include "decode/tls.h"
#include "decode/x509.h"
#include "detector.h"
#include "flow.h"
#include "output.h"
#include "records.h"
#include "sig.h"
#include "table.h"

#define US 1000000ull
/* Open handshakes kept waiting for their next step; a full table writes its oldest. */
#define REC_TLS_PENDING_MAX 4096
/* Packet time a handshake may wait for its next step (a ServerHello, a Certificate)
 * before its record is written as it stands. */
#define REC_TLS_WAIT_S 10
/* Handshakes written before their end (waited too long, or the table was full),
 * remembered so a step that still comes later is not a second record. */
#define REC_TLS_LATE_MAX 4096
/* cipher-suites.csv records read for names (the file holds about 390). */
#define REC_MAX_SUITES 1024
#define REC_SUITE_NAME_MAX 64

#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17

static unsigned g_cli_mask;

void det_records_cli(unsigned mask)
{
	g_cli_mask = mask;
}

unsigned det_records_cli_mask(void)
{
	return g_cli_mask;
}

/* ---------------------------------------------------------------- shared record head */

void det_record_open(struct jw *w, const struct alert_pipe *ap, uint64_t ts_us,
		     const char *dataset, const char *type, const struct alert *ends,
		     const char *protocol)
{
	const char *iface = alert_pipe_iface(ap);

	jw_init(w);
	jw_obj_open(w, NULL);
	jw_ts(w, "@timestamp", ts_us);
	jw_obj_open(w, "event");
	jw_str(w, "kind", "event");
	jw_str(w, "module", "onpath");
	jw_str(w, "dataset", dataset);
	jw_arr_open(w, "category");
	jw_str(w, NULL, "network");
	jw_arr_close(w);
	jw_arr_open(w, "type");
	jw_str(w, NULL, type);
	jw_arr_close(w);
	jw_obj_close(w);
	alert_observer_to_json(w, alert_pipe_sensor_name(ap), iface);
	alert_endpoints_to_json(w, ends, protocol);
}

int det_record_submit(struct alert_pipe *ap, struct jw *w, const char *dataset)
{
	struct out_meta meta;
	size_t len;
	char *line;

	jw_obj_close(w);
	line = jw_take(w, &len);
	jw_free(w);
	if (line == NULL || ap == NULL) {
		free(line);
		return -1;
	}
	memset(&meta, 0, sizeof(meta));
	meta.dataset = dataset;
	return alert_pipe_submit(ap, OUT_RECORD, line, len, &meta);
}

/* ---------------------------------------------------------------- state */

/* A flow's endpoints in a canonical order (lower address and port first), so every
 * step of a handshake finds its record whichever side sent it. */
struct rec_tuple {
	uint8_t a[16], b[16];
	uint16_t pa, pb, vlan;
	uint8_t family, proto;
};

struct rec_key {
	uint64_t h[2];
};

enum { P_CLIENT = 1u << 0, P_SERVER = 1u << 1, P_HRR = 1u << 2, P_QUIC = 1u << 3 };

struct tls_pend {
	struct rec_tuple t;
	uint64_t start_us;   /* the first step: when the wait started */
	uint8_t flags;       /* P_* */
	uint32_t repeats;    /* further ClientHellos of the same flow (QUIC retransmits) */
	struct jw w;         /* the record so far: open inside "tls" (or "tls.server") */
};

/* A handshake written before its end: later steps of it are dropped (counted). */
struct tls_late {
	struct rec_tuple t;
};

struct suite {
	uint16_t code;
	char name[REC_SUITE_NAME_MAX];
};

struct rec_state {
	bool tls, dns;
	uint16_t cid_seed;            /* sensor.community_id_seed */
	uint64_t seed[2];             /* keys of the pending table's hashes */
	struct det_tab *pend;         /* rec_key -> tls_pend */
	struct det_tab *late;         /* rec_key -> tls_late, LRU-evicted */
	struct alert_pipe *ap;        /* the pipe of the last event, for the end of run */
	struct suite *suites;         /* sorted by code */
	size_t nsuites;
	uint64_t tls_records, dns_records, dropped, early, late_steps;
};

/* ---------------------------------------------------------------- helpers */

static void swap_ends(struct alert *a)
{
	struct alert_endpoint t = a->src;
	a->src = a->dst;
	a->dst = t;
}

/* The record's endpoints from an event's packet, as det_alert_from_meta fills an
 * alert's but without its per-alert enrichment (a flow classification costs far more
 * than a record); swapped when that packet came from the server, so source is always
 * the client. The community id is computed here when the event does not carry one. */
static void rec_ends(const struct rec_state *s, struct alert *a, const struct ev_meta *m,
		     bool from_server)
{
	memset(a, 0, sizeof(*a));
	det_endpoints_from_meta(a, m, s->cid_seed);
	if (from_server)
		swap_ends(a);
}

static void tuple_of(struct rec_tuple *t, const struct ev_meta *m)
{
	const uint8_t *x = m->src.a, *y = m->dst.a;
	uint16_t px = m->sport, py = m->dport;
	int c = memcmp(x, y, sizeof(m->src.a));

	memset(t, 0, sizeof(*t));
	if (c > 0 || (c == 0 && px > py)) {
		x = m->dst.a;
		y = m->src.a;
		px = m->dport;
		py = m->sport;
	}
	memcpy(t->a, x, sizeof(t->a));
	memcpy(t->b, y, sizeof(t->b));
	t->pa = px;
	t->pb = py;
	t->vlan = m->vlan;
	t->family = m->src.family;
	t->proto = m->proto;
}

static void key_of(const struct rec_state *s, const struct rec_tuple *t, struct rec_key *k)
{
	/* 128 bits of two seeded hashes: the addresses are attacker-chosen, the seeds are
	 * not, and a hit is checked against the whole tuple anyway. */
	k->h[0] = util_hash64(t, sizeof(*t), s->seed[0]);
	k->h[1] = util_hash64(t, sizeof(*t), s->seed[1]);
}

static bool is_tls13(uint16_t v)
{
	/* TLS 1.3 and its drafts (0x7fxx; 0xfbxx experiments), as tls_app.c decides that
	 * nothing clear follows the ServerHello. */
	return v == TLS_V_13 || (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

static int cmp_suite(const void *a, const void *b)
{
	const struct suite *x = a, *y = b;
	return (int)x->code - (int)y->code;
}

static const char *suite_name(const struct rec_state *s, uint16_t code)
{
	struct suite k = { .code = code };
	const struct suite *hit = s->suites
		? bsearch(&k, s->suites, s->nsuites, sizeof(*s->suites), cmp_suite) : NULL;
	return hit ? hit->name : NULL;
}

/* ECS tls.version / tls.version_protocol: "1.2" and "tls", "3.0" and "ssl". */
static void write_version(struct jw *w, uint16_t v)
{
	char buf[12];
	switch (v) {
	case TLS_V_SSL2:
		jw_str(w, "version", "2.0");
		jw_str(w, "version_protocol", "ssl");
		return;
	case TLS_V_SSL3:
		jw_str(w, "version", "3.0");
		jw_str(w, "version_protocol", "ssl");
		return;
	case TLS_V_10:
	case TLS_V_11:
	case TLS_V_12:
	case TLS_V_13:
		snprintf(buf, sizeof(buf), "1.%u", (unsigned)(v - TLS_V_10));
		jw_str(w, "version", buf);
		jw_str(w, "version_protocol", "tls");
		return;
	default:
		jw_str(w, "version", dec_tls_version_str(v, buf));
		jw_str(w, "version_protocol", "tls");
	}
}

static void write_cipher(const struct rec_state *s, struct jw *w, const char *key, uint16_t c)
{
	const char *name = suite_name(s, c);
	char hex[8];
	if (name) {
		jw_str(w, key, name);
	} else {
		snprintf(hex, sizeof(hex), "0x%04x", c);
		jw_str(w, key, hex);
	}
}

/* ---------------------------------------------------------------- tls record parts */

static void write_client(struct jw *w, const struct tls_hello *h)
{
	char vb[12];
	jw_obj_open(w, "client");
	if (h->has_sni)
		jw_strn(w, "server_name", h->sni, h->sni_len < sizeof(h->sni) ? h->sni_len : sizeof(h->sni) - 1);
	if (h->ja3[0])
		jw_strn(w, "ja3", h->ja3, strnlen(h->ja3, sizeof(h->ja3)));
	if (h->ja4[0])
		jw_strn(w, "ja4", h->ja4, strnlen(h->ja4, sizeof(h->ja4)));
	jw_str(w, "max_version", dec_tls_version_str(h->version, vb));
	/* The versions offered: supported_versions (RFC 8446 4.2.1) without GREASE, else
	 * the legacy field alone. */
	jw_arr_open(w, "supported_versions");
	if (h->has_supported_versions && h->nversions) {
		for (size_t i = 0; i < h->nversions && i < TLS_MAX_VERSIONS; i++)
			if (!dec_tls_is_grease(h->versions[i]))
				jw_str(w, NULL, dec_tls_version_str(h->versions[i], vb));
	} else {
		jw_str(w, NULL, dec_tls_version_str(h->legacy_version ? h->legacy_version : h->version, vb));
	}
	jw_arr_close(w);
	if (h->has_alpn) {
		jw_arr_open(w, "alpn");
		for (size_t i = 0; i < h->nalpn && i < TLS_MAX_ALPN; i++)
			jw_strn(w, NULL, h->alpn[i], h->alpn_len[i] <= TLS_ALPN_MAX ? h->alpn_len[i] : TLS_ALPN_MAX);
		jw_arr_close(w);
	}
	jw_uint(w, "cipher_count", h->nciphers);
	jw_bool(w, "fallback_scsv", h->fallback_scsv);
	if (h->has_ech)
		jw_bool(w, "ech", true);
	if (h->sslv2)
		jw_bool(w, "sslv2_hello", true);
	jw_obj_close(w);
}

/* The negotiated values, then the server object, left open for the chain. */
static void write_server_open(const struct rec_state *s, struct jw *w, const struct tls_hello *h)
{
	write_version(w, h->version);
	write_cipher(s, w, "cipher", h->cipher);
	if (h->nalpn)
		jw_strn(w, "next_protocol", h->alpn[0], h->alpn_len[0] <= TLS_ALPN_MAX ? h->alpn_len[0] : TLS_ALPN_MAX);
	jw_obj_open(w, "server");
	if (h->ja3[0])
		jw_strn(w, "ja3s", h->ja3, strnlen(h->ja3, sizeof(h->ja3)));
	if (h->ja4[0])
		jw_strn(w, "ja4s", h->ja4, strnlen(h->ja4, sizeof(h->ja4)));
}

static void write_validity(struct jw *w, const struct cert *c)
{
	/* Certificates may carry dates before 1970; ECS wants dates, so those are left out
	 * rather than written wrong. */
	if (!c->validity_ok)
		return;
	if (c->not_before >= 0)
		jw_ts(w, "not_before", (uint64_t)c->not_before * US);
	if (c->not_after >= 0)
		jw_ts(w, "not_after", (uint64_t)c->not_after * US);
}

/* Inside the open server object: the leaf's facts and the chain as sent. */
static void write_chain(struct jw *w, const struct cert_chain *ch)
{
	const struct cert *leaf = ch->n ? ch->c[0] : NULL;
	if (leaf) {
		jw_strn(w, "subject", leaf->subject, strnlen(leaf->subject, sizeof(leaf->subject)));
		jw_strn(w, "issuer", leaf->issuer, strnlen(leaf->issuer, sizeof(leaf->issuer)));
		write_validity(w, leaf);
		jw_obj_open(w, "hash");
		jw_hex(w, "sha256", leaf->sha256, sizeof(leaf->sha256));
		jw_obj_close(w);
		jw_obj_open(w, "x509");
		jw_strn(w, "serial_number", leaf->serial, strnlen(leaf->serial, sizeof(leaf->serial)));
		jw_arr_open(w, "alternative_names");
		for (unsigned i = 0; i < leaf->nsans && i < CERT_MAX_SANS; i++)
			jw_strn(w, NULL, dec_cert_san(leaf, i), leaf->san_len[i]);
		jw_arr_close(w);
		if (leaf->key_name[0])
			jw_strn(w, "public_key_algorithm", leaf->key_name, strnlen(leaf->key_name, sizeof(leaf->key_name)));
		if (leaf->sig_alg[0])
			jw_strn(w, "signature_algorithm", leaf->sig_alg, strnlen(leaf->sig_alg, sizeof(leaf->sig_alg)));
		jw_obj_close(w);
	}
	jw_uint(w, "certificate_count", ch->total);
	jw_arr_open(w, "chain");
	for (unsigned i = 0; i < ch->n && i < CERT_MAX_CHAIN; i++) {
		const struct cert *c = ch->c[i];
		if (!c)
			continue;
		jw_obj_open(w, NULL);
		jw_strn(w, "subject", c->subject, strnlen(c->subject, sizeof(c->subject)));
		jw_strn(w, "issuer", c->issuer, strnlen(c->issuer, sizeof(c->issuer)));
		write_validity(w, c);
		jw_hex(w, "sha256", c->sha256, sizeof(c->sha256));
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

/* ---------------------------------------------------------------- pending handshakes */

static struct tls_pend *pend_find(struct rec_state *s, const struct rec_tuple *t)
{
	struct rec_key k;
	key_of(s, t, &k);
	struct tls_pend *p = det_tab_peek(s->pend, &k);
	return p && memcmp(&p->t, t, sizeof(*t)) == 0 ? p : NULL;
}

struct fail_info {
	uint8_t how;         /* enum tls_fail */
	bool by_server;
	uint8_t level, desc;
};

/* Writes p's record (status: tls.handshake) and forgets p. cut: written before the
 * handshake's end (waited too long, table full), so later steps are to be dropped. */
static void pend_finish(struct rec_state *s, struct tls_pend *p, const char *status,
			const struct fail_info *fail, bool cut)
{
	struct jw *w = &p->w;
	struct rec_key k;
	if (w->depth == 3)
		jw_obj_close(w); /* tls.server */
	jw_str(w, "handshake", status);
	jw_bool(w, "established", (p->flags & P_SERVER) && !fail);
	if (p->flags & P_HRR)
		jw_bool(w, "hello_retry", true);
	if (p->repeats)
		jw_uint(w, "client_hello_repeats", p->repeats);
	if (fail) {
		jw_obj_open(w, "failure");
		jw_str(w, "reason", fail->how == TLS_FAIL_ALERT ? "alert" : "close");
		jw_str(w, "by", fail->by_server ? "server" : "client");
		if (fail->how == TLS_FAIL_ALERT) {
			jw_obj_open(w, "alert");
			jw_uint(w, "level", fail->level);
			jw_uint(w, "description", fail->desc);
			jw_obj_close(w);
		}
		jw_obj_close(w);
	}
	jw_obj_close(w); /* tls */
	if (det_record_submit(s->ap, w, "tls") == 0)
		s->tls_records++;
	else
		s->dropped++;
	key_of(s, &p->t, &k);
	if (cut) {
		struct tls_late *l = det_tab_put(s->late, &k, NULL);
		l->t = p->t;
	}
	det_tab_del(s->pend, &k);
}

/* True when t's handshake was already written before its end: the step is dropped
 * (one record per handshake). */
static bool was_cut(struct rec_state *s, const struct rec_tuple *t)
{
	struct rec_key k;
	key_of(s, t, &k);
	const struct tls_late *l = det_tab_peek(s->late, &k);
	if (!l || memcmp(&l->t, t, sizeof(*t)) != 0)
		return false;
	s->late_steps++;
	return true;
}

static const char *wait_status(const struct tls_pend *p)
{
	return (p->flags & P_SERVER) ? "no_certificate" : "client_only";
}

/* A new open handshake for t, its head written from m (from_server: m came from the
 * server). A full table first writes its oldest handshake as it stands. */
static struct tls_pend *pend_new(struct rec_state *s, const struct rec_tuple *t,
				 const struct ev_meta *m, bool from_server, bool quic)
{
	struct rec_key k;
	struct alert ends;
	bool created;
	while (det_tab_count(s->pend) >= det_tab_cap(s->pend)) {
		size_t pos = 0;
		struct tls_pend *old = det_tab_next(s->pend, &pos, NULL);
		if (!old)
			break;
		s->early++;
		pend_finish(s, old, wait_status(old), NULL, true);
	}
	key_of(s, t, &k);
	struct tls_pend *p = det_tab_put(s->pend, &k, &created);
	if (!created) {
		/* A 128-bit collision with another flow: that one is written now. */
		pend_finish(s, p, wait_status(p), NULL, true);
		p = det_tab_put(s->pend, &k, &created);
	}
	memset(p, 0, sizeof(*p));
	p->t = *t;
	p->start_us = m->ts_us;
	p->flags = quic ? P_QUIC : 0;
	rec_ends(s, &ends, m, from_server);
	det_record_open(&p->w, s->ap, m->ts_us, "tls", "protocol", &ends, quic ? "quic" : "tls");
	jw_obj_open(&p->w, "tls");
	return p;
}

static void tls_fail(struct rec_state *s, const struct tls_ev *ev)
{
	struct rec_tuple t;
	struct fail_info fi = { ev->fail, ev->fail_by_server, ev->alert_level, ev->alert_desc };
	tuple_of(&t, &ev->m);
	struct tls_pend *p = pend_find(s, &t);
	if (!p && was_cut(s, &t))
		return;
	if (!p) {
		const struct tls_hello *c = ev->failed_client;
		p = pend_new(s, &t, &ev->m, ev->fail_by_server, c && c->proto == 'q');
		if (c) {
			write_client(&p->w, c);
			p->flags |= P_CLIENT;
		}
	}
	if (!(p->flags & P_SERVER) && ev->failed_server) {
		write_server_open(s, &p->w, ev->failed_server);
		p->flags |= P_SERVER;
	}
	pend_finish(s, p, "failed", &fi, false);
}

static void rec_on_tls(void *state, const struct tls_ev *ev, struct alert_pipe *out)
{
	struct rec_state *s = state;
	struct rec_tuple t;
	if (!s->tls)
		return;
	s->ap = out;
	if (ev->fail) {
		tls_fail(s, ev);
		return;
	}
	if (!ev->client && !ev->server)
		return;
	tuple_of(&t, &ev->m);
	struct tls_pend *p = pend_find(s, &t);
	/* A ClientHello event comes from the client; the others from the server. */
	bool from_server = ev->server != NULL || ev->chain != NULL;
	if (p && !from_server) {
		if (ev->client->after_hrr) {
			/* The second ClientHello after a HelloRetryRequest: same handshake. */
			p->flags |= P_HRR;
			return;
		}
		if (!(p->flags & P_SERVER) && (p->flags & P_QUIC)) {
			/* QUIC clients repeat their Initial: one connection, one record. */
			p->repeats++;
			return;
		}
		/* A new handshake on the same addresses and ports (the port was reused):
		 * the previous one ends here. */
		pend_finish(s, p, wait_status(p), NULL, false);
		p = NULL;
	}
	if (!p && from_server && was_cut(s, &t))
		return;
	if (!p) {
		p = pend_new(s, &t, &ev->m, from_server, ev->client && ev->client->proto == 'q');
		if (ev->client) {
			write_client(&p->w, ev->client);
			p->flags |= P_CLIENT;
		}
	}
	if (ev->server && !(p->flags & P_SERVER)) {
		if (!(p->flags & P_CLIENT) && ev->client) {
			write_client(&p->w, ev->client);
			p->flags |= P_CLIENT;
		}
		if (ev->server->after_hrr)
			p->flags |= P_HRR;
		write_server_open(s, &p->w, ev->server);
		p->flags |= P_SERVER;
	}
	if (!(p->flags & P_SERVER))
		return; /* a ClientHello: wait for the server */
	if (ev->chain) {
		write_chain(&p->w, ev->chain);
		pend_finish(s, p, "complete", NULL, false);
	} else if (ev->server && is_tls13(ev->server->version)) {
		/* Everything after a TLS 1.3 ServerHello is encrypted. */
		pend_finish(s, p, "complete", NULL, false);
	}
}

static void rec_on_tick(void *state, uint64_t now_us, struct alert_pipe *out)
{
	struct rec_state *s = state;
	s->ap = out;
	if (!s->pend)
		return;
	/* Oldest first (the table is peeked, never touched, so LRU order is creation
	 * order). Capture time that stepped back leaves entries to the cap's eviction. */
	for (;;) {
		size_t pos = 0;
		struct tls_pend *p = det_tab_next(s->pend, &pos, NULL);
		if (!p || now_us < p->start_us || now_us - p->start_us < REC_TLS_WAIT_S * US)
			break;
		pend_finish(s, p, wait_status(p), NULL, true);
	}
}

/* ---------------------------------------------------------------- dns */

static const char *rcode_name(unsigned rc, char buf[16])
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
					     "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
					     "NOTZONE", "DSOTYPENI" };
	if (rc < ONPATH_ARRAY_LEN(names))
		return names[rc];
	if (rc == 16)
		return "BADVERS";
	snprintf(buf, 16, "RCODE%u", rc);
	return buf;
}

static const char *opcode_name(unsigned op, char buf[16])
{
	static const char *const names[] = { "QUERY", "IQUERY", "STATUS", NULL, "NOTIFY", "UPDATE",
					     "DSO" };
	if (op < ONPATH_ARRAY_LEN(names) && names[op])
		return names[op];
	snprintf(buf, 16, "OPCODE%u", op);
	return buf;
}

static const char *class_name(uint16_t k, char buf[16])
{
	/* mDNS uses the top bit for cache-flush / unicast-response (RFC 6762 10.2, 5.4). */
	unsigned c = k & 0x7fff;
	if (c == DNS_C_IN)
		return "IN";
	if (c == 3)
		return "CH";
	if (c == 255)
		return "ANY";
	snprintf(buf, 16, "CLASS%u", k);
	return buf;
}

/* network.protocol by the well-known port of the server side. */
static const char *dns_protocol(uint16_t port)
{
	switch (port) {
	case 5353:
		return "mdns";
	case 5355:
		return "llmnr";
	case 137:
		return "netbios-ns";
	default:
		return "dns";
	}
}

static void rec_on_dns(void *state, const struct dns_ev *ev, struct alert_pipe *out)
{
	struct rec_state *s = state;
	const struct dns_msg *d = ev->dns;
	struct alert ends;
	struct jw w;
	char tb[DNS_TYPE_STRLEN], cb[16], buf[16], ip[OP_ADDR_STRLEN];
	static const struct {
		uint16_t bit;
		const char *name;
	} flags[] = { { DNS_F_AA, "AA" }, { DNS_F_TC, "TC" }, { DNS_F_RD, "RD" },
		      { DNS_F_RA, "RA" }, { DNS_F_AD, "AD" }, { DNS_F_CD, "CD" } };
	if (!s->dns || !d || !d->qr)
		return;
	s->ap = out;
	/* The response comes from the server: source is the client that asked. */
	rec_ends(s, &ends, &ev->m, true);
	det_record_open(&w, out, ev->m.ts_us, "dns", "protocol", &ends, dns_protocol(ev->m.sport));
	jw_obj_open(&w, "dns");
	jw_str(&w, "type", "answer");
	jw_uint(&w, "id", d->id);
	jw_str(&w, "op_code", opcode_name(d->opcode, buf));
	jw_str(&w, "response_code", rcode_name(d->rcode, buf));
	jw_arr_open(&w, "header_flags");
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(flags); i++)
		if (d->flags & flags[i].bit)
			jw_str(&w, NULL, flags[i].name);
	jw_arr_close(&w);
	if (d->nq) {
		const struct dns_question *q = &d->q[0];
		jw_obj_open(&w, "question");
		jw_strn(&w, "name", dns_str(d, q->name), q->name.len);
		jw_str(&w, "type", dec_dns_type_str(q->type, tb));
		jw_str(&w, "class", class_name(q->klass, cb));
		jw_obj_close(&w);
	}
	jw_arr_open(&w, "answers");
	for (size_t i = 0; i < d->nan && i < d->nrr && i < DNS_MAX_RRS; i++) {
		const struct dns_rr *r = &d->rr[i];
		jw_obj_open(&w, NULL);
		jw_strn(&w, "name", dns_str(d, r->name), r->name.len);
		jw_str(&w, "type", dec_dns_type_str(r->type, tb));
		jw_str(&w, "class", class_name(r->klass, cb));
		jw_uint(&w, "ttl", r->ttl);
		jw_strn(&w, "data", dns_str(d, r->data), r->data.len);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_arr_open(&w, "resolved_ip");
	for (size_t i = 0; i < d->nan && i < d->nrr && i < DNS_MAX_RRS; i++)
		if ((d->rr[i].type == DNS_T_A || d->rr[i].type == DNS_T_AAAA) && d->rr[i].addr.family)
			jw_addr(&w, NULL, &d->rr[i].addr);
	jw_arr_close(&w);
	/* The counts as the header gave them (answers above are capped at DNS_MAX_RRS). */
	jw_uint(&w, "answer_count", d->ancount);
	jw_uint(&w, "authority_count", d->nscount);
	jw_uint(&w, "additional_count", d->arcount);
	if (ev->m.src.family)
		jw_str(&w, "resolver", util_addr_fmt(&ev->m.src, ip));
	if (ev->m.ip_ttl)
		jw_uint(&w, "ip_ttl", ev->m.ip_ttl);
	jw_obj_close(&w);
	if (det_record_submit(out, &w, "dns") == 0)
		s->dns_records++;
	else
		s->dropped++;
}

/* ---------------------------------------------------------------- init */

static int load_suite(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		      size_t errlen)
{
	struct rec_state *s = ud;
	char *end;
	(void)ncols;
	unsigned long code = strtoul(cols[0], &end, 16);
	if (strncmp(cols[0], "0x", 2) != 0 || strlen(cols[0]) != 6 || *end || code > 0xffff) {
		sig_errf(err, errlen, file, line, "code '%s' is not 0x followed by 4 hex digits", cols[0]);
		return -1;
	}
	if (s->nsuites == REC_MAX_SUITES) {
		sig_errf(err, errlen, file, line, "more than %d records", REC_MAX_SUITES);
		return -1;
	}
	struct suite *x = &s->suites[s->nsuites++];
	x->code = (uint16_t)code;
	util_strlcpy(x->name, cols[1], sizeof(x->name));
	return 0;
}

static void rec_fini(void *state)
{
	struct rec_state *s = state;
	if (!s)
		return;
	if (s->pend) {
		/* The end of the run (or a reload): every open handshake is written as it
		 * stands, none is lost. */
		size_t pos;
		struct tls_pend *p;
		while ((pos = 0, p = det_tab_next(s->pend, &pos, NULL)) != NULL) {
			if (s->ap)
				pend_finish(s, p, wait_status(p), NULL, true);
			else {
				struct rec_key k;
				jw_free(&p->w);
				key_of(s, &p->t, &k);
				det_tab_del(s->pend, &k);
			}
		}
		det_tab_free(s->pend);
	}
	det_tab_free(s->late);
	free(s->suites);
	free(s);
}

static int rec_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "tls", "dns", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	bool tls = false, dns = false;
	uint64_t seed = 0;
	if (cfg_check_keys(c, sec, "detectors.records", keys, in->err, in->errlen) < 0 ||
	    cfg_bool(c, sec, "tls", &tls, in->err, in->errlen) < 0 ||
	    cfg_bool(c, sec, "dns", &dns, in->err, in->errlen) < 0)
		return -1;
	tls |= (g_cli_mask & DET_LOG_TLS) != 0;
	dns |= (g_cli_mask & DET_LOG_DNS) != 0;
	if (!tls && !dns)
		return 1; /* idle: not registered for any event */
	/* The community id seed of the alerts (sensor.community_id_seed, checked there). */
	const struct cfg_node *sen = c ? cfg_get(c->root, "sensor") : NULL;
	if (cfg_uint(c, sen, "community_id_seed", 0, 65535, &seed, in->err, in->errlen) < 0)
		return -1;

	struct rec_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "records: out of memory");
		return -1;
	}
	s->tls = tls;
	s->dns = dns;
	s->cid_seed = (uint16_t)seed;
	if (tls) {
		if (getrandom(s->seed, sizeof(s->seed), GRND_NONBLOCK) != (ssize_t)sizeof(s->seed)) {
			s->seed[0] = util_now_us() * 0x9e3779b97f4a7c15ull;
			s->seed[1] = (uint64_t)(uintptr_t)s * 0xc2b2ae3d27d4eb4full;
		}
		s->pend = det_tab_new(REC_TLS_PENDING_MAX, sizeof(struct rec_key), sizeof(struct tls_pend));
		s->late = det_tab_new(REC_TLS_LATE_MAX, sizeof(struct rec_key), sizeof(struct tls_late));
		s->suites = calloc(REC_MAX_SUITES, sizeof(*s->suites));
		if (!s->pend || !s->late || !s->suites) {
			snprintf(in->err, in->errlen, "records: out of memory");
			rec_fini(s);
			return -1;
		}
		if (sig_csv_load(in->sig_dir, "cipher-suites.csv", 2, load_suite, s, in->err, in->errlen) < 0) {
			rec_fini(s);
			return -1;
		}
		qsort(s->suites, s->nsuites, sizeof(*s->suites), cmp_suite);
	}
	*state = s;
	return 0;
}

/* Callbacks are per detector, so with only one of tls and dns on the other callback
 * still runs and returns at once (both events are parsed for other detectors anyway). */
const struct detector det_records = {
	.name = "records",
	.types = NULL,
	.ntypes = 0,
	.init = rec_init,
	.fini = rec_fini,
	.on_dns = rec_on_dns,
	.on_tls = rec_on_tls,
	.on_tick = rec_on_tick,
};
