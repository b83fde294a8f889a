/* tls.c - handshake-fingerprint indicators of TLS interception (struct tls_ev hellos).
 *
 *  - tls.server_fingerprint_changed: for a server (SNI, else its address; and port) and
 *    a client fingerprint (JA4), the server's answer (JA4S, JA3S) is not one seen
 *    before. A server answers one client implementation the same way until its TLS
 *    stack or configuration changes; an interceptor in between answers with its own
 *    stack. In TLS 1.3 the certificate is encrypted, so this is the signal left. The
 *    key includes the client's JA4 because a server's answer depends on what was
 *    offered. After a cold start, new answers are learnt quietly for the learning
 *    window; a change of a learnt answer alerts at once.
 *  - tls.interception_client: a ClientHello whose JA4 or JA3 is the one of a known
 *    interception engine (signatures/interception-clients.csv: what the product's own
 *    TLS stack sends upstream on behalf of the clients it intercepts), leaving toward
 *    a server whose usual client fingerprints (learnt per server name) do not include
 *    it. With no history for the server the alert carries low confidence.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tls.h"
#include "decode/x509.h"
#include "detector.h"
#include "lru.h"
#include "sig.h"

#define TLSD_MAX_SIGS 1024
#define TLSD_DEFAULT_NAMES 50000u
#define TLSD_SERVER_FPS 4    /* server answers remembered per (server, client JA4) */
#define TLSD_CLIENT_FPS 8    /* client fingerprints remembered per server */

enum { T_FP_CHANGED = 0, T_ICLIENT };

static const struct alert_type tls_types[] = {
	[T_FP_CHANGED] = { "tls.server_fingerprint_changed", 5, "T1557", "Adversary-in-the-Middle",
			   "Server's TLS answer (JA4S/JA3S) to a known client changed against its baseline" },
	[T_ICLIENT] = { "tls.interception_client", 5, "T1557", "Adversary-in-the-Middle",
			"ClientHello fingerprint of a known TLS interception engine" },
};

struct csig {
	char id[48];
	bool ja4;             /* else JA3 */
	char fp[40];
	char product[64];
	char category[32];
	char reference[160];
};

struct srv_fp {
	char ja4s[40];
	char ja3s[33];
	uint16_t version, cipher;
	uint64_t first_us, last_us;
};

struct srv_base {
	uint8_t n;
	struct srv_fp fp[TLSD_SERVER_FPS];
};

struct cli_base {
	uint8_t n;
	struct {
		char ja4[40];
		uint64_t last_us;
	} fp[TLSD_CLIENT_FPS];
};

struct tlsd_state {
	struct csig *sigs;
	size_t nsigs;
	bool cold_start;
	uint64_t learning_us, first_us;
	struct det_lru *servers;  /* "name:port|client ja4" -> struct srv_base */
	struct det_lru *clients;  /* "name:port" -> struct cli_base */
};

static int load_csig(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		     size_t errlen)
{
	struct tlsd_state *s = ud;
	if (s->nsigs == TLSD_MAX_SIGS) {
		sig_errf(err, errlen, file, line, "more than %d records", TLSD_MAX_SIGS);
		return -1;
	}
	struct csig *g = &s->sigs[s->nsigs];
	memset(g, 0, sizeof(*g));
	if (strcmp(cols[1], "ja4") == 0) {
		g->ja4 = true;
		if (strlen(cols[2]) != 36 || cols[2][10] != '_' || cols[2][23] != '_') {
			sig_errf(err, errlen, file, line, "'%s' is not a JA4 (a_b_c, 36 characters)", cols[2]);
			return -1;
		}
	} else if (strcmp(cols[1], "ja3") == 0) {
		if (strlen(cols[2]) != 32 || strspn(cols[2], "0123456789abcdef") != 32) {
			sig_errf(err, errlen, file, line, "'%s' is not a JA3 (32 lowercase hex digits)", cols[2]);
			return -1;
		}
	} else {
		sig_errf(err, errlen, file, line, "kind '%s' is not ja3 or ja4", cols[1]);
		return -1;
	}
	util_strlcpy(g->id, cols[0], sizeof(g->id));
	util_strlcpy(g->fp, cols[2], sizeof(g->fp));
	util_strlcpy(g->product, cols[3], sizeof(g->product));
	util_strlcpy(g->category, cols[4], sizeof(g->category));
	util_strlcpy(g->reference, ncols > 5 ? cols[5] : "", sizeof(g->reference));
	s->nsigs++;
	return 0;
}

static void tlsd_fini(void *state)
{
	struct tlsd_state *s = state;
	if (!s)
		return;
	free(s->sigs);
	det_lru_free(s->servers);
	det_lru_free(s->clients);
	free(s);
}

static int tlsd_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_names", "interception_clients", NULL };
	if (cfg_check_keys(in->cfg, in->section, "detectors.tls", keys, in->err, in->errlen) < 0)
		return -1;
	uint64_t names = TLSD_DEFAULT_NAMES;
	bool icl = true;
	if (cfg_uint(in->cfg, in->section, "max_names", 16, DET_LRU_MAX_CAP, &names, in->err, in->errlen) < 0 ||
	    cfg_bool(in->cfg, in->section, "interception_clients", &icl, in->err, in->errlen) < 0)
		return -1;
	struct tlsd_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "tls: out of memory");
		return -1;
	}
	s->cold_start = in->cold_start;
	s->learning_us = in->learning_s * 1000000u;
	/* The hellos this detector judges carry MD5/SHA-256 fingerprints: load the
	 * digests at startup rather than in the first handshake. */
	dec_digest_init();
	s->servers = det_lru_new((size_t)names, sizeof(struct srv_base));
	s->clients = det_lru_new((size_t)names, sizeof(struct cli_base));
	s->sigs = calloc(TLSD_MAX_SIGS, sizeof(*s->sigs));
	if (!s->servers || !s->clients || !s->sigs) {
		snprintf(in->err, in->errlen, "tls: out of memory for %llu names", (unsigned long long)names);
		tlsd_fini(s);
		return -1;
	}
	if (icl && sig_csv_load(in->sig_dir, "interception-clients.csv", 5, load_csig, s, in->err,
				in->errlen) < 0) {
		tlsd_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* Appenders for the per-hello keys (snprintf was a third of a hello's judging): text
 * is cut at cap - 1 like snprintf would, and always NUL-terminated. */
static size_t put_str(char *out, size_t cap, size_t o, const char *s)
{
	while (*s && o + 1 < cap)
		out[o++] = *s++;
	out[o] = '\0';
	return o;
}

static size_t put_port(char *out, size_t cap, size_t o, unsigned v)
{
	char t[6];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < 5);
	while (n && o + 1 < cap)
		out[o++] = t[--n];
	out[o] = '\0';
	return o;
}

/* The server's name: the SNI when the client sent a usable one (lower case, bytes
 * outside printable ASCII as '?'), else its address; then ':' and the port. cap > 0.
 * Returns the length. */
static size_t server_key(const struct tls_ev *ev, bool from_server, char *out, size_t cap)
{
	const struct tls_hello *c = ev->client;
	const struct op_addr *ip = from_server ? &ev->m.src : &ev->m.dst;
	uint16_t port = from_server ? ev->m.sport : ev->m.dport;
	size_t o = 0;
	if (c && c->sni_len) {
		for (size_t i = 0; i < c->sni_len && o < TLS_SNI_MAX && o + 1 < cap; i++) {
			unsigned char ch = (unsigned char)c->sni[i];
			if (ch >= 'A' && ch <= 'Z')
				ch = (unsigned char)(ch + 32);
			out[o++] = (ch > 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		out[o] = '\0';
	} else {
		char a[OP_ADDR_STRLEN];
		util_addr_fmt(ip, a);
		o = put_str(out, cap, o, "[");
		o = put_str(out, cap, o, a);
		o = put_str(out, cap, o, "]");
	}
	o = put_str(out, cap, o, ":");
	return put_port(out, cap, o, port);
}

static void set_ends(struct alert *a, const struct tls_ev *ev)
{
	const struct ev_meta *m = &ev->m;
	det_alert_from_meta(a, m);
}

static void ev_hello(struct jw *w, const char *key, const struct tls_hello *h)
{
	char vb[12];
	jw_obj_open(w, key);
	jw_str(w, "version", dec_tls_version_str(h->version, vb));
	if (h->kind == TLS_HELLO_CLIENT) {
		jw_str(w, "ja3", h->ja3);
		jw_str(w, "ja4", h->ja4);
		if (h->sni_len)
			jw_strn(w, "sni", h->sni, h->sni_len);
		if (h->nalpn)
			jw_strn(w, "alpn", h->alpn[0], h->alpn_len[0]);
	} else {
		jw_str(w, "ja3s", h->ja3);
		jw_str(w, "ja4s", h->ja4);
		char cs[8];
		snprintf(cs, sizeof(cs), "0x%04x", h->cipher);
		jw_str(w, "cipher", cs);
		if (h->nalpn)
			jw_strn(w, "alpn", h->alpn[0], h->alpn_len[0]);
	}
	jw_obj_close(w);
}

static void judge_server(struct tlsd_state *s, const struct tls_ev *ev, struct alert_pipe *out)
{
	const struct tls_hello *sh = ev->server, *ch = ev->client;
	if (!ch || sh->kind != TLS_HELLO_SERVER || !sh->ja4[0])
		return;
	char name[DET_LRU_KEY_MAX - 48], key[DET_LRU_KEY_MAX];
	size_t nl = server_key(ev, true, name, sizeof(name));
	memcpy(key, name, nl);
	put_str(key, sizeof(key), put_str(key, sizeof(key), nl, "|"), ch->ja4);
	bool created;
	struct srv_base *b = det_lru_put(s->servers, key, &created);
	if (!b)
		return;
	uint64_t ts = ev->m.ts_us;
	for (int i = 0; i < b->n; i++) {
		if (strcmp(b->fp[i].ja4s, sh->ja4) == 0 && strcmp(b->fp[i].ja3s, sh->ja3) == 0) {
			b->fp[i].last_us = ts;
			return;
		}
	}
	bool learning = s->cold_start && ts - s->first_us < s->learning_us;
	if (!created && !learning) {
		struct alert a;
		alert_begin(&a, &tls_types[T_FP_CHANGED], ts);
		set_ends(&a, ev);
		a.confidence = CONF_MEDIUM;
		char vb[12];
		snprintf(a.key, sizeof(a.key), "%.100s %s", name, sh->ja4);
		snprintf(a.message, sizeof(a.message),
			 "%.200s answered a known client (JA4 %s) with a new TLS fingerprint %s (%s, cipher 0x%04x); it used to answer %s",
			 name, ch->ja4, sh->ja4, dec_tls_version_str(sh->version, vb), sh->cipher, b->fp[0].ja4s);
		jw_str(&a.ev, "server", name);
		jw_arr_open(&a.ev, "old");
		for (int i = 0; i < b->n; i++) {
			jw_obj_open(&a.ev, NULL);
			jw_str(&a.ev, "ja4s", b->fp[i].ja4s);
			jw_str(&a.ev, "ja3s", b->fp[i].ja3s);
			jw_str(&a.ev, "version", dec_tls_version_str(b->fp[i].version, vb));
			char cs[8];
			snprintf(cs, sizeof(cs), "0x%04x", b->fp[i].cipher);
			jw_str(&a.ev, "cipher", cs);
			jw_ts(&a.ev, "first_seen", b->fp[i].first_us);
			jw_ts(&a.ev, "last_seen", b->fp[i].last_us);
			jw_obj_close(&a.ev);
		}
		jw_arr_close(&a.ev);
		ev_hello(&a.ev, "new", sh);
		ev_hello(&a.ev, "client", ch);
		alert_emit(out, &a);
	}
	int slot = b->n < TLSD_SERVER_FPS ? b->n++ : 0;
	if (slot == 0 && b->n == TLSD_SERVER_FPS)
		for (int i = 1; i < TLSD_SERVER_FPS; i++)
			if (b->fp[i].last_us < b->fp[slot].last_us)
				slot = i;
	struct srv_fp *f = &b->fp[slot];
	util_strlcpy(f->ja4s, sh->ja4, sizeof(f->ja4s));
	util_strlcpy(f->ja3s, sh->ja3, sizeof(f->ja3s));
	f->version = sh->version;
	f->cipher = sh->cipher;
	f->first_us = f->last_us = ts;
}

static void judge_client(struct tlsd_state *s, const struct tls_ev *ev, struct alert_pipe *out)
{
	const struct tls_hello *ch = ev->client;
	char name[DET_LRU_KEY_MAX];
	server_key(ev, false, name, sizeof(name));
	bool created;
	struct cli_base *b = det_lru_put(s->clients, name, &created);
	if (!b)
		return;
	bool known = false;
	for (int i = 0; i < b->n; i++) {
		if (strcmp(b->fp[i].ja4, ch->ja4) == 0) {
			b->fp[i].last_us = ev->m.ts_us;
			known = true;
		}
	}
	const struct csig *g = NULL;
	for (size_t i = 0; i < s->nsigs && !g; i++)
		if (strcmp(s->sigs[i].fp, s->sigs[i].ja4 ? ch->ja4 : ch->ja3) == 0)
			g = &s->sigs[i];
	if (g && !known) {
		struct alert a;
		alert_begin(&a, &tls_types[T_ICLIENT], ev->m.ts_us);
		set_ends(&a, ev);
		/* With a history of other clients for this server, an engine's hello is a
		 * departure; without one it is only a match. */
		a.confidence = b->n ? CONF_MEDIUM : CONF_LOW;
		if (!b->n)
			a.severity = 4;
		snprintf(a.key, sizeof(a.key), "%s %.100s", g->id, name);
		snprintf(a.message, sizeof(a.message),
			 "ClientHello to %.200s carries the %s fingerprint of %s (%s)%s", name, g->ja4 ? "JA4" : "JA3",
			 g->product, g->category,
			 b->n ? "; this server's usual clients send other fingerprints" : "");
		jw_str(&a.ev, "server", name);
		jw_str(&a.ev, "product", g->product);
		jw_str(&a.ev, "category", g->category);
		jw_str(&a.ev, "signature", g->id);
		jw_str(&a.ev, "reference", g->reference);
		jw_arr_open(&a.ev, "usual_client_ja4");
		for (int i = 0; i < b->n; i++)
			jw_str(&a.ev, NULL, b->fp[i].ja4);
		jw_arr_close(&a.ev);
		ev_hello(&a.ev, "client", ch);
		alert_emit(out, &a);
	}
	if (!known) {
		int slot = b->n < TLSD_CLIENT_FPS ? b->n++ : 0;
		if (slot == 0 && b->n == TLSD_CLIENT_FPS)
			for (int i = 1; i < TLSD_CLIENT_FPS; i++)
				if (b->fp[i].last_us < b->fp[slot].last_us)
					slot = i;
		util_strlcpy(b->fp[slot].ja4, ch->ja4, sizeof(b->fp[slot].ja4));
		b->fp[slot].last_us = ev->m.ts_us;
	}
}

static void tlsd_on_tls(void *state, const struct tls_ev *ev, struct alert_pipe *out)
{
	struct tlsd_state *s = state;
	if (!s->first_us)
		s->first_us = ev->m.ts_us;
	if (ev->chain)
		return; /* the certificate step: the hellos were judged already */
	if (ev->server)
		judge_server(s, ev, out);
	else if (ev->client && ev->client->ja4[0])
		judge_client(s, ev, out);
}

/* ---- persistence ---- */

static void save_srv(void *ud, const char *key, void *value)
{
	json_t *arr = ud;
	const struct srv_base *b = value;
	json_t *fps = json_array();
	for (int i = 0; i < b->n; i++)
		json_array_append_new(fps, json_pack("{s:s,s:s,s:i,s:i,s:I,s:I}", "ja4s", b->fp[i].ja4s, "ja3s",
						     b->fp[i].ja3s, "v", b->fp[i].version, "c", b->fp[i].cipher,
						     "f", (json_int_t)b->fp[i].first_us, "l",
						     (json_int_t)b->fp[i].last_us));
	json_array_append_new(arr, json_pack("{s:s,s:o}", "k", key, "fp", fps));
}

static void save_cli(void *ud, const char *key, void *value)
{
	json_t *arr = ud;
	const struct cli_base *b = value;
	json_t *fps = json_array();
	for (int i = 0; i < b->n; i++)
		json_array_append_new(fps, json_pack("{s:s,s:I}", "ja4", b->fp[i].ja4, "l",
						     (json_int_t)b->fp[i].last_us));
	json_array_append_new(arr, json_pack("{s:s,s:o}", "k", key, "fp", fps));
}

static json_t *tlsd_save(void *state)
{
	struct tlsd_state *s = state;
	json_t *sv = json_array(), *cl = json_array();
	if (!sv || !cl) {
		json_decref(sv);
		json_decref(cl);
		return NULL;
	}
	det_lru_each(s->servers, save_srv, sv);
	det_lru_each(s->clients, save_cli, cl);
	return json_pack("{s:i,s:o,s:o}", "version", 1, "servers", sv, "clients", cl);
}

static int tlsd_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct tlsd_state *s = state;
	json_t *sv = json_object_get(saved, "servers"), *cl = json_object_get(saved, "clients");
	if (json_integer_value(json_object_get(saved, "version")) != 1 || !json_is_array(sv) ||
	    !json_is_array(cl)) {
		snprintf(err, errlen, "tls: state is not version 1 with servers and clients lists");
		return -1;
	}
	size_t i, j;
	json_t *o, *e;
	json_array_foreach(sv, i, o) {
		const char *k = json_string_value(json_object_get(o, "k"));
		json_t *fps = json_object_get(o, "fp");
		bool created;
		struct srv_base *b = k && json_is_array(fps) ? det_lru_put(s->servers, k, &created) : NULL;
		if (!b)
			continue;
		memset(b, 0, sizeof(*b));
		json_array_foreach(fps, j, e) {
			const char *a4 = json_string_value(json_object_get(e, "ja4s"));
			const char *a3 = json_string_value(json_object_get(e, "ja3s"));
			if (!a4 || !a3 || b->n == TLSD_SERVER_FPS)
				continue;
			struct srv_fp *f = &b->fp[b->n++];
			util_strlcpy(f->ja4s, a4, sizeof(f->ja4s));
			util_strlcpy(f->ja3s, a3, sizeof(f->ja3s));
			f->version = (uint16_t)json_integer_value(json_object_get(e, "v"));
			f->cipher = (uint16_t)json_integer_value(json_object_get(e, "c"));
			f->first_us = (uint64_t)json_integer_value(json_object_get(e, "f"));
			f->last_us = (uint64_t)json_integer_value(json_object_get(e, "l"));
		}
	}
	json_array_foreach(cl, i, o) {
		const char *k = json_string_value(json_object_get(o, "k"));
		json_t *fps = json_object_get(o, "fp");
		bool created;
		struct cli_base *b = k && json_is_array(fps) ? det_lru_put(s->clients, k, &created) : NULL;
		if (!b)
			continue;
		memset(b, 0, sizeof(*b));
		json_array_foreach(fps, j, e) {
			const char *a4 = json_string_value(json_object_get(e, "ja4"));
			if (!a4 || b->n == TLSD_CLIENT_FPS)
				continue;
			util_strlcpy(b->fp[b->n].ja4, a4, sizeof(b->fp[b->n].ja4));
			b->fp[b->n].last_us = (uint64_t)json_integer_value(json_object_get(e, "l"));
			b->n++;
		}
	}
	s->cold_start = false;
	return 0;
}

const struct detector det_tls = {
	.name = "tls",
	.types = tls_types,
	.ntypes = ONPATH_ARRAY_LEN(tls_types),
	.init = tlsd_init,
	.fini = tlsd_fini,
	.on_tls = tlsd_on_tls,
	.save = tlsd_save,
	.load = tlsd_load,
};
