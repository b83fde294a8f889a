/* starttls.c - STARTTLS stripping and inspection on SMTP/submission, IMAP, POP3, FTP
 * and XMPP (struct starttls_ev from monitor/decode/lines.c).
 *
 *  - starttls.stripped: a server's capability list (EHLO, CAPABILITY, CAPA, FEAT,
 *    <stream:features>) lacks STARTTLS / STLS / AUTH TLS while that server (IP and
 *    port) offered it before. Someone on the path deletes the keyword so that both ends
 *    carry on in clear (the "STRIPTLS" attack, and what an inspecting firewall's "no
 *    allow-tls" does). When the client then sends credentials in clear on that same
 *    connection, a second alert with a higher severity says so.
 *  - starttls.inspection_artifact: the ESMTP keywords or banner masked by an inspecting
 *    middlebox: Cisco PIX/ASA ESMTP inspection replaces the EHLO parameters it does
 *    not allow with X's ("250-XXXXXXXA" for STARTTLS) and masks the banner with '*'.
 *    Alerts without a baseline (the artifact is the evidence).
 *  - starttls.refused: the client asks for STARTTLS and the server refuses (SMTP 454,
 *    IMAP NO/BAD, POP3 -ERR, FTP 5xx/4xx, XMPP <failure/>) while the same server
 *    accepted it before. Credentials in clear after the refusal raise a second alert.
 *
 * Baselines (per server IP:port, bounded LRU, saved and reloaded): sessions with and
 * without STARTTLS in the capabilities, STARTTLS accepted and refused, the last list
 * that offered it. Nothing alerts on a server never seen, so a cold start mutes
 * nothing and needs no learning window: a change of a known server alerts at once. A
 * server seen both with and without STARTTLS before (a mixed pool) alerts with a lower
 * severity and confidence; one that stops offering STARTTLS for STD_FORGET_RUN
 * sessions in a row is taken as reconfigured and relearnt. Sessions that were
 * themselves alerted on (stripped, refused) are counted apart and never make the pool
 * "mixed": an attack that strips every session of a day stays at the severity of its
 * first strip.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/lines.h"
#include "detector.h"
#include "lru.h"

#define STD_DEFAULT_SERVERS 50000u
#define STD_DEFAULT_SESSIONS 4096u
#define STD_DEFAULT_MIN_SESSIONS 1u
#define STD_FORGET_RUN 100        /* sessions in a row without STARTTLS: relearn */
#define STD_CAPS_TEXT 256         /* bytes of the baseline's capability list kept */
#define STD_KEY 96

enum { T_STRIPPED = 0, T_ARTIFACT, T_REFUSED };

static const struct alert_type std_types[] = {
	[T_STRIPPED] = { "starttls.stripped", 6, "T1557", "Adversary-in-the-Middle",
			 "STARTTLS missing from a server's capabilities that offered it before (credentials in clear raise it)" },
	[T_ARTIFACT] = { "starttls.inspection_artifact", 5, "T1557", "Adversary-in-the-Middle",
			 "ESMTP keywords or banner masked by an inspecting middlebox (e.g. 250-XXXXXXXA for STARTTLS)" },
	[T_REFUSED] = { "starttls.refused", 5, "T1562.010", "Impair Defenses: Downgrade Attack",
			"STARTTLS refused by a server that accepted it before" },
};

/* Per server "[ip]:port". */
struct std_base {
	uint8_t proto;
	uint32_t n_with, n_without, n_accept, n_refuse, run_without;
	uint32_t n_stripped, n_refused_alerted; /* sessions judged: not in n_without, n_refuse */
	uint64_t first_us, last_with_us, last_without_us, last_accept_us, last_refuse_us;
	char caps[STD_CAPS_TEXT];
};

#define SS_STRIPPED 0x01
#define SS_REFUSED 0x02
#define SS_MASKED 0x04
#define SS_CREDS_ALERTED 0x08
#define SS_WITH 0x10      /* counted in n_with (IMAP lists capabilities twice per session) */
#define SS_WITHOUT 0x20   /* counted in n_without */

/* Per connection "client>server": what happened to it so far (its capability lists are
 * counted once, judged once). */
struct std_sess {
	uint8_t what;
	uint8_t proto;
	uint32_t n_with, n_accept;
	uint64_t ts_us;
};

struct std_state {
	uint64_t min_sessions;
	struct det_lru *servers;
	struct det_lru *sessions;
};

static void std_fini(void *state)
{
	struct std_state *s = state;
	if (!s)
		return;
	det_lru_free(s->servers);
	det_lru_free(s->sessions);
	free(s);
}

static int std_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_servers", "max_sessions", "min_sessions", NULL };
	if (cfg_check_keys(in->cfg, in->section, "detectors.starttls", keys, in->err, in->errlen) < 0)
		return -1;
	uint64_t servers = STD_DEFAULT_SERVERS, sessions = STD_DEFAULT_SESSIONS, min = STD_DEFAULT_MIN_SESSIONS;
	if (cfg_uint(in->cfg, in->section, "max_servers", 16, DET_LRU_MAX_CAP, &servers, in->err, in->errlen) < 0 ||
	    cfg_uint(in->cfg, in->section, "max_sessions", 16, DET_LRU_MAX_CAP, &sessions, in->err, in->errlen) < 0 ||
	    cfg_uint(in->cfg, in->section, "min_sessions", 1, 1000000, &min, in->err, in->errlen) < 0)
		return -1;
	struct std_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "starttls: out of memory");
		return -1;
	}
	s->min_sessions = min;
	s->servers = det_lru_new((size_t)servers, sizeof(struct std_base));
	s->sessions = det_lru_new((size_t)sessions, sizeof(struct std_sess));
	if (!s->servers || !s->sessions) {
		snprintf(in->err, in->errlen, "starttls: out of memory for %llu servers",
			 (unsigned long long)servers);
		std_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* ---- keys and evidence ---- */

static void endpoint(char *out, size_t cap, const struct op_addr *ip, uint16_t port)
{
	char a[OP_ADDR_STRLEN];
	util_addr_fmt(ip, a);
	snprintf(out, cap, "[%s]:%u", a, port);
}

/* The server and client endpoints of the event, whoever sent it. */
static void ends(const struct starttls_ev *ev, char *server, char *client, size_t cap)
{
	const struct ev_meta *m = &ev->m;
	if (ev->msg->from_server) {
		endpoint(server, cap, &m->src, m->sport);
		endpoint(client, cap, &m->dst, m->dport);
	} else {
		endpoint(server, cap, &m->dst, m->dport);
		endpoint(client, cap, &m->src, m->sport);
	}
}

static struct std_sess *session(struct std_state *s, const char *server, const char *client, bool create)
{
	char k[2 * STD_KEY + 2];
	snprintf(k, sizeof(k), "%s>%s", client, server);
	if (!create)
		return det_lru_get(s->sessions, k);
	bool created;
	struct std_sess *ss = det_lru_put(s->sessions, k, &created);
	if (ss && created)
		memset(ss, 0, sizeof(*ss));
	return ss;
}

static const char *request_name(int proto)
{
	switch (proto) {
	case LINES_P_POP3:
		return "STLS";
	case LINES_P_FTP:
		return "AUTH TLS";
	case LINES_P_XMPP:
		return "<starttls/>";
	default:
		return "STARTTLS";
	}
}

static void ev_offered(struct jw *w, const struct starttls_msg *msg)
{
	jw_arr_open(w, "offered");
	for (unsigned i = 0; i < msg->ncaps && i < DEC_LINES_MAX_CAPS; i++)
		jw_str(w, NULL, msg->caps[i]);
	jw_arr_close(w);
	jw_uint(w, "offered_total", msg->caps_total);
}

static void ev_baseline(struct jw *w, const struct std_base *b)
{
	jw_obj_open(w, "baseline");
	if (b) {
		jw_uint(w, "sessions_with_starttls", b->n_with);
		jw_uint(w, "sessions_without_starttls", b->n_without);
		jw_uint(w, "starttls_accepted", b->n_accept);
		jw_uint(w, "starttls_refused", b->n_refuse);
		jw_uint(w, "sessions_stripped", b->n_stripped);
		jw_uint(w, "refusals_alerted", b->n_refused_alerted);
		if (b->caps[0])
			jw_str(w, "capabilities", b->caps);
		jw_ts(w, "first_seen", b->first_us);
		if (b->last_with_us)
			jw_ts(w, "last_with_starttls", b->last_with_us);
		if (b->last_accept_us)
			jw_ts(w, "last_accepted", b->last_accept_us);
	}
	jw_obj_close(w);
}

static void alert_start(struct alert *a, int type, const struct starttls_ev *ev, const char *server,
			const char *client)
{
	alert_begin(a, &std_types[type], ev->m.ts_us);
	det_alert_from_meta(a, &ev->m);
	jw_str(&a->ev, "proto", dec_lines_proto_name(ev->msg->proto));
	jw_str(&a->ev, "server", server);
	jw_str(&a->ev, "client", client);
}

static void caps_text(char *out, size_t cap, const struct starttls_msg *msg)
{
	size_t o = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < msg->ncaps && i < DEC_LINES_MAX_CAPS; i++) {
		int n = snprintf(out + o, cap - o, "%s%s", o ? " " : "", msg->caps[i]);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
}

/* ---- judging ---- */

static struct std_base *base_put(struct std_state *s, const char *server, const struct starttls_ev *ev)
{
	bool created;
	struct std_base *b = det_lru_put(s->servers, server, &created);
	if (b && created) {
		memset(b, 0, sizeof(*b));
		b->proto = ev->msg->proto;
		b->first_us = ev->m.ts_us;
	}
	return b;
}

static void artifact(struct std_state *s, const struct starttls_ev *ev, const char *server, const char *client,
		     struct alert_pipe *out)
{
	const struct starttls_msg *msg = ev->msg;
	struct std_base *b = det_lru_get(s->servers, server);
	struct std_sess *ss = session(s, server, client, true);
	if (ss)
		ss->what |= SS_MASKED;
	bool banner = msg->kind == STLS_GREETING;
	struct alert a;
	alert_start(&a, T_ARTIFACT, ev, server, client);
	a.confidence = CONF_HIGH;
	snprintf(a.key, sizeof(a.key), "%s %s", server, banner ? "banner" : "ehlo");
	if (banner)
		snprintf(a.message, sizeof(a.message),
			 "%s banner of %s is masked with '*': an inspecting middlebox (e.g. Cisco ASA ESMTP inspection) sits on the path",
			 dec_lines_proto_name(msg->proto), server);
	else
		snprintf(a.message, sizeof(a.message),
			 "EHLO reply of %s carries the masked keyword %s (STARTTLS masked by an inspecting middlebox such as Cisco ASA ESMTP inspection)%s",
			 server, msg->masked_cap,
			 b && b->n_with ? "; this server offered STARTTLS before" : "");
	jw_str(&a.ev, "artifact", banner ? "masked_banner" : "masked_ehlo_keyword");
	if (banner)
		jw_strn(&a.ev, "banner", msg->text, msg->text_len);
	else {
		jw_str(&a.ev, "masked", msg->masked_cap);
		ev_offered(&a.ev, msg);
		jw_bool(&a.ev, "has_starttls", msg->has_starttls);
	}
	ev_baseline(&a.ev, b);
	alert_emit(out, &a);
}

static void on_caps(struct std_state *s, const struct starttls_ev *ev, const char *server, const char *client,
		    struct alert_pipe *out)
{
	const struct starttls_msg *msg = ev->msg;
	uint64_t ts = ev->m.ts_us;
	if (msg->after_auth)
		return; /* after login servers list other capabilities (never STARTTLS) */
	if (msg->masked) {
		artifact(s, ev, server, client, out);
		return; /* the list is the middlebox's, not the server's */
	}
	struct std_sess *cur = session(s, server, client, true);
	if (msg->has_starttls) {
		struct std_base *b = base_put(s, server, ev);
		if (!b)
			return;
		if (!cur || !(cur->what & SS_WITH))
			b->n_with++;
		if (cur)
			cur->what |= SS_WITH;
		b->run_without = 0;
		b->last_with_us = ts;
		caps_text(b->caps, sizeof(b->caps), msg);
		return;
	}
	struct std_base *b = det_lru_get(s->servers, server);
	if (cur && (cur->what & SS_WITHOUT))
		return; /* this session's list was judged already */
	bool judged = false;
	if (b && b->n_with >= s->min_sessions) {
		bool mixed = b->n_without > 0;
		judged = true;
		struct std_sess *ss = cur;
		if (ss) {
			ss->what |= SS_STRIPPED;
			ss->proto = msg->proto;
			ss->n_with = b->n_with;
			ss->ts_us = ts;
		}
		struct alert a;
		alert_start(&a, T_STRIPPED, ev, server, client);
		a.confidence = mixed ? CONF_LOW : CONF_MEDIUM;
		a.severity = mixed ? 4 : std_types[T_STRIPPED].severity;
		snprintf(a.key, sizeof(a.key), "%s", server);
		snprintf(a.message, sizeof(a.message),
			 "%s server %s no longer offers %s (offered in %u earlier session%s%s): STARTTLS stripped on the path, the session can only continue in clear",
			 dec_lines_proto_name(msg->proto), server, request_name(msg->proto), b->n_with,
			 b->n_with == 1 ? "" : "s", mixed ? ", though also seen without it" : "");
		ev_offered(&a.ev, msg);
		jw_bool(&a.ev, "has_starttls", false);
		ev_baseline(&a.ev, b);
		jw_str(&a.ev, "client_action", "none yet");
		alert_emit(out, &a);
	}
	if (!b)
		b = base_put(s, server, ev);
	if (!b)
		return;
	if (cur)
		cur->what |= SS_WITHOUT;
	if (judged)
		b->n_stripped++;
	else
		b->n_without++;
	b->last_without_us = ts;
	if (++b->run_without >= STD_FORGET_RUN) {
		/* Reconfigured for good, not an attack that lasts this long unseen. */
		b->n_with = 0;
		b->caps[0] = '\0';
	}
}

static void on_reply(struct std_state *s, const struct starttls_ev *ev, const char *server, const char *client,
		     struct alert_pipe *out)
{
	const struct starttls_msg *msg = ev->msg;
	uint64_t ts = ev->m.ts_us;
	struct std_base *b = det_lru_get(s->servers, server);
	if (msg->accepted) {
		if (!b)
			b = base_put(s, server, ev);
		if (b) {
			b->n_accept++;
			b->last_accept_us = ts;
		}
		return;
	}
	bool judged = false;
	if (b && b->n_accept >= s->min_sessions) {
		bool mixed = b->n_refuse > 0;
		judged = true;
		struct std_sess *ss = session(s, server, client, true);
		if (ss) {
			ss->what |= SS_REFUSED;
			ss->proto = msg->proto;
			ss->n_accept = b->n_accept;
			ss->ts_us = ts;
		}
		struct alert a;
		alert_start(&a, T_REFUSED, ev, server, client);
		a.confidence = mixed ? CONF_LOW : CONF_MEDIUM;
		a.severity = mixed ? 3 : std_types[T_REFUSED].severity;
		snprintf(a.key, sizeof(a.key), "%s", server);
		char code[8] = "";
		if (msg->code)
			snprintf(code, sizeof(code), " %u", msg->code);
		snprintf(a.message, sizeof(a.message),
			 "%s server %s refused %s (reply%s) although it accepted it in %u earlier session%s%s",
			 dec_lines_proto_name(msg->proto), server, request_name(msg->proto), code[0] ? code : " negative",
			 b->n_accept, b->n_accept == 1 ? "" : "s", mixed ? " and refused it before too" : "");
		jw_obj_open(&a.ev, "reply");
		if (msg->code)
			jw_uint(&a.ev, "code", msg->code);
		jw_strn(&a.ev, "text", msg->text, msg->text_len);
		jw_obj_close(&a.ev);
		jw_str(&a.ev, "client_action", request_name(msg->proto));
		ev_baseline(&a.ev, b);
		alert_emit(out, &a);
	}
	if (!b)
		b = base_put(s, server, ev);
	if (b) {
		if (judged)
			b->n_refused_alerted++;
		else
			b->n_refuse++;
		b->last_refuse_us = ts;
	}
}

static void on_creds(struct std_state *s, const struct starttls_ev *ev, const char *server, const char *client,
		     struct alert_pipe *out)
{
	const struct starttls_msg *msg = ev->msg;
	if (!msg->cleartext || msg->anonymous)
		return;
	struct std_sess *ss = session(s, server, client, false);
	if (!ss || !(ss->what & (SS_STRIPPED | SS_REFUSED)) || (ss->what & SS_CREDS_ALERTED))
		return;
	ss->what |= SS_CREDS_ALERTED;
	bool stripped = ss->what & SS_STRIPPED;
	struct std_base *b = det_lru_get(s->servers, server);
	bool mixed = b && (stripped ? b->n_without > 0 : b->n_refuse > 0);
	struct alert a;
	alert_start(&a, stripped ? T_STRIPPED : T_REFUSED, ev, server, client);
	a.confidence = mixed ? CONF_MEDIUM : CONF_HIGH;
	a.severity = stripped ? (mixed ? 6 : 8) : (mixed ? 5 : 7);
	char ca[OP_ADDR_STRLEN];
	util_addr_fmt(&ev->m.src, ca);
	snprintf(a.key, sizeof(a.key), "%s %s credentials", server, ca);
	snprintf(a.message, sizeof(a.message),
		 "client %s sent %s credentials in clear to %s %s after STARTTLS was %s (user name of %u bytes)",
		 client, msg->mech, dec_lines_proto_name(msg->proto), server,
		 stripped ? "stripped from the server's capabilities" : "refused", msg->user_len);
	jw_obj_open(&a.ev, "credentials");
	jw_str(&a.ev, "mechanism", msg->mech);
	jw_bool(&a.ev, "cleartext", msg->cleartext);
	if (msg->user_len)
		jw_uint(&a.ev, "user_len", msg->user_len);
	jw_obj_close(&a.ev);
	jw_str(&a.ev, "client_action", "sent credentials in clear");
	jw_str(&a.ev, "starttls", stripped ? "stripped" : "refused");
	ev_baseline(&a.ev, b);
	alert_emit(out, &a);
}

static void std_on_starttls(void *state, const struct starttls_ev *ev, struct alert_pipe *out)
{
	struct std_state *s = state;
	const struct starttls_msg *msg = ev->msg;
	if (!msg)
		return;
	char server[STD_KEY], client[STD_KEY];
	ends(ev, server, client, sizeof(server));
	switch (msg->kind) {
	case STLS_GREETING:
		if (msg->masked && msg->proto == LINES_P_SMTP)
			artifact(s, ev, server, client, out);
		break;
	case STLS_CAPS:
		if (msg->from_server)
			on_caps(s, ev, server, client, out);
		break;
	case STLS_REPLY:
		if (msg->from_server)
			on_reply(s, ev, server, client, out);
		break;
	case STLS_CREDS:
		if (!msg->from_server)
			on_creds(s, ev, server, client, out);
		break;
	default:
		break;
	}
}

/* ---- persistence ---- */

static void save_one(void *ud, const char *key, void *value)
{
	const struct std_base *b = value;
	json_array_append_new(ud, json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "k",
					    key, "p", b->proto, "w", (json_int_t)b->n_with, "wo",
					    (json_int_t)b->n_without, "a", (json_int_t)b->n_accept, "r",
					    (json_int_t)b->n_refuse, "st", (json_int_t)b->n_stripped, "ra",
					    (json_int_t)b->n_refused_alerted, "f",
					    (json_int_t)b->first_us, "lw", (json_int_t)b->last_with_us, "lwo",
					    (json_int_t)b->last_without_us, "la", (json_int_t)b->last_accept_us,
					    "lr", (json_int_t)b->last_refuse_us, "caps", b->caps));
}

static json_t *std_save(void *state)
{
	struct std_state *s = state;
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	det_lru_each(s->servers, save_one, arr);
	return json_pack("{s:i,s:o}", "version", 1, "servers", arr);
}

static uint32_t ju32(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v < 0 ? 0 : v > 0xffffffff ? 0xffffffffu : (uint32_t)v;
}

static uint64_t ju64(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v < 0 ? 0 : (uint64_t)v;
}

static int std_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct std_state *s = state;
	json_t *arr = json_object_get(saved, "servers");
	if (json_integer_value(json_object_get(saved, "version")) != 1 || !json_is_array(arr)) {
		snprintf(err, errlen, "starttls: state is not version 1 with a servers list");
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *k = json_string_value(json_object_get(o, "k"));
		if (!k || strlen(k) >= STD_KEY)
			continue;
		bool created;
		struct std_base *b = det_lru_put(s->servers, k, &created);
		if (!b)
			continue;
		memset(b, 0, sizeof(*b));
		uint32_t p = ju32(o, "p");
		b->proto = (uint8_t)(p <= LINES_P_XMPP ? p : 0);
		b->n_with = ju32(o, "w");
		b->n_without = ju32(o, "wo");
		b->n_accept = ju32(o, "a");
		b->n_refuse = ju32(o, "r");
		b->n_stripped = ju32(o, "st"); /* absent in states saved before: 0 */
		b->n_refused_alerted = ju32(o, "ra");
		b->first_us = ju64(o, "f");
		b->last_with_us = ju64(o, "lw");
		b->last_without_us = ju64(o, "lwo");
		b->last_accept_us = ju64(o, "la");
		b->last_refuse_us = ju64(o, "lr");
		const char *caps = json_string_value(json_object_get(o, "caps"));
		util_strlcpy(b->caps, caps ? caps : "", sizeof(b->caps));
	}
	return 0;
}

const struct detector det_starttls = {
	.name = "starttls",
	.types = std_types,
	.ntypes = ONPATH_ARRAY_LEN(std_types),
	.init = std_init,
	.fini = std_fini,
	.on_starttls = std_on_starttls,
	.save = std_save,
	.load = std_load,
};
