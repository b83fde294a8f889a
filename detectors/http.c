/* http.c - SSL-stripping indicators in plain HTTP (struct http_ev heads).
 *
 *  - http.hsts_plaintext: a plain-HTTP request carrying credentials (an Authorization
 *    header, a form-encoded POST with a password-like field) or session cookies, or a
 *    response opening with a login form, for a name browsers reach only over HTTPS:
 *    the HSTS preload list (signatures/hsts-preload.csv, with include_subdomains
 *    semantics) or detectors.http.hsts_names. A browser never sends these in clear
 *    for such a name unless something in the path rewrote its links or redirects
 *    (sslstrip and its HSTS-bypass variants), or the client is not a browser.
 *  - http.https_redirect_stripped: a name whose plain-HTTP answers redirected to
 *    https:// in its baseline is now served in clear (a 2xx with a body) where it
 *    never was, or a redirect's Location was rewritten from https:// to
 *    http://same-host: the signature of an SSL-stripping proxy, which fetches the
 *    HTTPS page itself and hands the client a clear copy.
 *
 * Baselines (per Host name, bounded LRU): whether plain-HTTP requests were answered
 * with redirects to HTTPS, or with content. A name never seen is not an alert.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/http.h"
#include "detector.h"
#include "lru.h"
#include "sig.h"

#define HTTPD_DEFAULT_NAMES 50000u
#define HTTPD_MAX_HSTS 1000000u   /* preload entries + configured names */
#define HTTPD_NAME_MAX 253
#define HTTPD_LOC_KEEP 128        /* redirect target kept for evidence */
#define HTTPD_HSTS_SEED 0x68737473u

enum { H_PLAIN = 0, H_STRIPPED };

static const struct alert_type http_types[] = {
	[H_PLAIN] = { "http.hsts_plaintext", 6, "T1557", "Adversary-in-the-Middle",
		      "Credentials, session cookies or a login form in plain HTTP for an HSTS name" },
	[H_STRIPPED] = { "http.https_redirect_stripped", 7, "T1557", "Adversary-in-the-Middle",
			 "A name that redirected plain HTTP to HTTPS is now served in clear, or its redirect points to http://" },
};

/* Session cookie names, by case-insensitive substring (PHPSESSID, JSESSIONID,
 * ASP.NET_SessionId, connect.sid, Google's SID/HSID/SSID, laravel_session, auth tokens). */
static const char *const session_marks[] = { "sess", "sid", "auth", "token", "login", "jwt", NULL };

struct hsts_ent {
	uint64_t h;
	uint32_t off;       /* name in the arena; UINT32_MAX = empty slot */
	uint8_t subs;       /* include_subdomains */
	uint8_t cfg;        /* from detectors.http.hsts_names */
};

struct hsts_set {
	struct hsts_ent *tab;
	size_t cap, n;      /* cap is a power of two, at least twice n */
	char *arena;
	size_t alen, acap;
	/* during loading: the entries, in order */
	struct hsts_ent *list;
	size_t nlist, listcap;
};

#define NB_REDIRECT 0x01   /* answered with a redirect to https:// */
#define NB_CONTENT 0x02    /* answered with content in clear */

struct name_base {
	uint8_t flags;
	uint32_t redirects;
	char location[HTTPD_LOC_KEEP];
	uint64_t first_us, last_us;
};

struct httpd_state {
	struct hsts_set hsts;
	struct det_lru *names;  /* host -> struct name_base */
};

/* ---- the HSTS set ---- */

static int hsts_add(struct hsts_set *s, const char *name, bool subs, bool cfg)
{
	size_t l = strlen(name);
	if (s->nlist == HTTPD_MAX_HSTS)
		return -1;
	if (s->alen + l + 1 > s->acap) {
		size_t nc = s->acap ? s->acap * 2 : 65536;
		while (nc < s->alen + l + 1)
			nc *= 2;
		char *a = realloc(s->arena, nc);
		if (!a)
			return -1;
		s->arena = a;
		s->acap = nc;
	}
	if (s->nlist == s->listcap) {
		size_t nc = s->listcap ? s->listcap * 2 : 4096;
		struct hsts_ent *x = realloc(s->list, nc * sizeof(*x));
		if (!x)
			return -1;
		s->list = x;
		s->listcap = nc;
	}
	struct hsts_ent *e = &s->list[s->nlist++];
	e->off = (uint32_t)s->alen;
	e->subs = subs;
	e->cfg = cfg;
	e->h = util_hash64(name, l, HTTPD_HSTS_SEED);
	for (size_t i = 0; i <= l; i++)
		s->arena[s->alen++] = name[i];
	return 0;
}

static struct hsts_ent *hsts_find(const struct hsts_set *s, const char *name, size_t l)
{
	if (!s->cap)
		return NULL;
	uint64_t h = util_hash64(name, l, HTTPD_HSTS_SEED);
	for (size_t i = (size_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		struct hsts_ent *e = &s->tab[i];
		if (e->off == UINT32_MAX)
			return NULL;
		if (e->h == h && strlen(s->arena + e->off) == l && memcmp(s->arena + e->off, name, l) == 0)
			return e;
	}
}

static int hsts_build(struct hsts_set *s)
{
	size_t cap = 16;
	while (cap < s->nlist * 2)
		cap *= 2;
	s->tab = malloc(cap * sizeof(*s->tab));
	if (!s->tab)
		return -1;
	for (size_t i = 0; i < cap; i++)
		s->tab[i].off = UINT32_MAX;
	s->cap = cap;
	for (size_t k = 0; k < s->nlist; k++) {
		const struct hsts_ent *e = &s->list[k];
		const char *nm = s->arena + e->off;
		struct hsts_ent *old = hsts_find(s, nm, strlen(nm));
		if (old) {
			/* a name listed twice (preload and config): the wider one wins */
			old->subs |= e->subs;
			old->cfg |= e->cfg;
			continue;
		}
		size_t i = (size_t)e->h & (cap - 1);
		while (s->tab[i].off != UINT32_MAX)
			i = (i + 1) & (cap - 1);
		s->tab[i] = *e;
		s->n++;
	}
	free(s->list);
	s->list = NULL;
	s->nlist = s->listcap = 0;
	return 0;
}

/* RFC 6797 8.2: the name itself, or a superdomain whose entry includes subdomains.
 * Returns the entry (its name is the matched one) or NULL. */
static const struct hsts_ent *hsts_match(const struct hsts_set *s, const char *host)
{
	const char *p = host;
	while (*p) {
		struct hsts_ent *e = hsts_find(s, p, strlen(p));
		if (e && (p == host || e->subs))
			return e;
		const char *dot = strchr(p, '.');
		if (!dot)
			break;
		p = dot + 1;
	}
	return NULL;
}

/* A DNS name as the list holds it: lower case letters, digits, '-', '_', '.'. */
static bool name_ok(const char *n)
{
	size_t l = strlen(n);
	if (l == 0 || l > HTTPD_NAME_MAX || n[0] == '.' || n[l - 1] == '.')
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '-' || *n == '_' || *n == '.'))
			return false;
	return true;
}

static int load_hsts(void *ud, const char *file, int line, char **cols, int ncols, char *err, size_t errlen)
{
	struct httpd_state *s = ud;
	(void)ncols;
	for (char *c = cols[0]; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	if (!name_ok(cols[0])) {
		sig_errf(err, errlen, file, line, "'%s' is not a DNS name", cols[0]);
		return -1;
	}
	bool subs;
	if (strcmp(cols[1], "true") == 0)
		subs = true;
	else if (strcmp(cols[1], "false") == 0)
		subs = false;
	else {
		sig_errf(err, errlen, file, line, "include_subdomains '%s' is not true or false", cols[1]);
		return -1;
	}
	if (hsts_add(&s->hsts, cols[0], subs, false) < 0) {
		sig_errf(err, errlen, file, line, "more than %u names, or out of memory", HTTPD_MAX_HSTS);
		return -1;
	}
	return 0;
}

static void httpd_fini(void *state)
{
	struct httpd_state *s = state;
	if (!s)
		return;
	free(s->hsts.tab);
	free(s->hsts.arena);
	free(s->hsts.list);
	det_lru_free(s->names);
	free(s);
}

static int cfg_names(struct httpd_state *s, const struct det_init *in)
{
	const struct cfg_node *n = in->section ? cfg_get(in->section, "hsts_names") : NULL;
	if (!n)
		return 0;
	if (n->type != CFG_SEQ) {
		cfg_errf(in->cfg, n, in->err, in->errlen, "detectors.http.hsts_names: must be a list of names");
		return -1;
	}
	for (const struct cfg_node *it = n->child; it; it = it->next) {
		char name[HTTPD_NAME_MAX + 2];
		if (it->type != CFG_SCALAR || !it->value || strlen(it->value) > HTTPD_NAME_MAX) {
			cfg_errf(in->cfg, it, in->err, in->errlen, "detectors.http.hsts_names: each entry must be a DNS name");
			return -1;
		}
		util_strlcpy(name, it->value, sizeof(name));
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c + 32);
		size_t l = strlen(name);
		if (l && name[l - 1] == '.')
			name[l - 1] = '\0';
		if (!name_ok(name)) {
			cfg_errf(in->cfg, it, in->err, in->errlen, "detectors.http.hsts_names: '%s' is not a DNS name",
				 it->value);
			return -1;
		}
		/* A configured name covers its subdomains (as includeSubDomains would). */
		if (hsts_add(&s->hsts, name, true, true) < 0) {
			cfg_errf(in->cfg, it, in->err, in->errlen, "detectors.http.hsts_names: too many names");
			return -1;
		}
	}
	return 0;
}

static int httpd_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_names", "hsts_preload", "hsts_names", NULL };
	if (cfg_check_keys(in->cfg, in->section, "detectors.http", keys, in->err, in->errlen) < 0)
		return -1;
	uint64_t names = HTTPD_DEFAULT_NAMES;
	bool preload = true;
	if (cfg_uint(in->cfg, in->section, "max_names", 16, DET_LRU_MAX_CAP, &names, in->err, in->errlen) < 0 ||
	    cfg_bool(in->cfg, in->section, "hsts_preload", &preload, in->err, in->errlen) < 0)
		return -1;
	struct httpd_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "http: out of memory");
		return -1;
	}
	s->names = det_lru_new((size_t)names, sizeof(struct name_base));
	if (!s->names) {
		snprintf(in->err, in->errlen, "http: out of memory for %llu names", (unsigned long long)names);
		httpd_fini(s);
		return -1;
	}
	if (cfg_names(s, in) < 0 ||
	    (preload && sig_csv_load(in->sig_dir, "hsts-preload.csv", 2, load_hsts, s, in->err, in->errlen) < 0)) {
		httpd_fini(s);
		return -1;
	}
	if (hsts_build(&s->hsts) < 0) {
		snprintf(in->err, in->errlen, "http: out of memory for the HSTS names");
		httpd_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* ---- judging ---- */

static bool session_cookie(const char *name)
{
	char low[HTTP_COOKIE_NAME_MAX + 1];
	size_t i = 0;
	for (; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	low[i] = '\0';
	for (const char *const *m = session_marks; *m; m++)
		if (strstr(low, *m))
			return true;
	return false;
}

static void ev_request(struct alert *a, const struct http_msg *m)
{
	jw_str(&a->ev, "host", m->host);
	if (m->method[0])
		jw_str(&a->ev, "method", m->method);
	if (m->path[0])
		jw_str(&a->ev, "path", m->path);
}

static void judge_plain(struct httpd_state *s, const struct http_ev *ev, struct alert_pipe *out)
{
	const struct http_msg *m = ev->msg;
	if (!m->host[0])
		return;
	const struct hsts_ent *e = hsts_match(&s->hsts, m->host);
	if (!e)
		return;
	const char *why = NULL;
	int sev = http_types[H_PLAIN].severity;
	size_t nsess = 0;
	if (!m->response) {
		for (int i = 0; i < m->ncookies; i++)
			nsess += session_cookie(m->cookies[i].name);
		if (m->has_auth) {
			why = "authorization";
			sev = 7;
		} else if (m->password_field) {
			why = "password_form_post";
			sev = 7;
		} else if (nsess) {
			why = "session_cookie";
		}
	} else if (m->login_form) {
		why = "login_form";
	}
	if (!why)
		return;
	const char *listed = s->hsts.arena + e->off;
	struct alert a;
	alert_begin(&a, &http_types[H_PLAIN], ev->m.ts_us);
	det_alert_from_meta(&a, &ev->m);
	a.severity = sev;
	a.confidence = CONF_MEDIUM;
	snprintf(a.key, sizeof(a.key), "%.120s %s", m->host, why);
	char what[96];
	if (strcmp(why, "authorization") == 0)
		snprintf(what, sizeof(what), "an Authorization header (%.20s)", m->auth_scheme);
	else if (strcmp(why, "password_form_post") == 0)
		snprintf(what, sizeof(what), "a form with a password field");
	else if (strcmp(why, "session_cookie") == 0)
		snprintf(what, sizeof(what), "%zu session cookie(s)", nsess);
	else
		snprintf(what, sizeof(what), "a login form (password input)");
	snprintf(a.message, sizeof(a.message),
		 "%s in plain HTTP for %.200s, which browsers reach only over HTTPS (%s%s): SSL stripping in the path, or a non-browser client",
		 what, m->host, e->cfg ? "configured HSTS name " : "HSTS preload ", listed);
	ev_request(&a, m);
	jw_str(&a.ev, "reason", why);
	jw_str(&a.ev, "hsts_entry", listed);
	jw_bool(&a.ev, "include_subdomains", e->subs != 0);
	jw_str(&a.ev, "list", e->cfg ? "config" : "preload");
	if (m->has_auth) {
		jw_str(&a.ev, "auth_scheme", m->auth_scheme);
		jw_uint(&a.ev, "auth_length", m->auth_len);
	}
	if (m->ncookies) {
		jw_arr_open(&a.ev, "cookie_names");
		for (int i = 0; i < m->ncookies; i++)
			jw_str(&a.ev, NULL, m->cookies[i].name);
		jw_arr_close(&a.ev);
	}
	if (m->nfields) {
		jw_arr_open(&a.ev, "form_fields");
		for (int i = 0; i < m->nfields; i++)
			jw_str(&a.ev, NULL, m->fields[i]);
		jw_arr_close(&a.ev);
	}
	if (m->response)
		jw_uint(&a.ev, "status", m->status);
	alert_emit(out, &a);
}

static bool is_redirect(uint16_t st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

static void judge_response(struct httpd_state *s, const struct http_ev *ev, struct alert_pipe *out)
{
	const struct http_msg *m = ev->msg;
	if (!m->host[0])
		return;
	char lh[HTTP_HOST_MAX + 1] = "";
	int scheme = m->has_location ? dec_http_url_host(m->location, lh, sizeof(lh)) : 0;
	bool to_https = is_redirect(m->status) && scheme == 5;
	bool to_http_same = is_redirect(m->status) && scheme == 4 && strcmp(lh, m->host) == 0;
	/* Content: a 2xx with a body (a HEAD answer only announces one). */
	bool content = m->status >= 200 && m->status < 300 && m->status != 204 && strcmp(m->method, "HEAD") != 0 &&
		       (m->body_seen > 0 || m->chunked || (m->has_length && m->content_length > 0));
	if (!to_https && !to_http_same && !content)
		return;
	bool created;
	struct name_base *b = det_lru_put(s->names, m->host, &created);
	if (!b)
		return;
	uint64_t ts = ev->m.ts_us;
	if (created)
		b->first_us = ts;
	bool alert = false;
	const char *why = NULL;
	if ((b->flags & NB_REDIRECT) && !(b->flags & NB_CONTENT) && content) {
		alert = true;
		why = "served_in_clear";
	} else if ((b->flags & NB_REDIRECT) && to_http_same) {
		alert = true;
		why = "location_http";
	}
	if (alert) {
		struct alert a;
		alert_begin(&a, &http_types[H_STRIPPED], ts);
		det_alert_from_meta(&a, &ev->m);
		a.confidence = CONF_MEDIUM;
		if (m->login_form)
			a.severity = 8;
		snprintf(a.key, sizeof(a.key), "%.120s %s", m->host, why);
		char loc[HTTPD_LOC_KEEP];
		util_strlcpy(loc, b->location, sizeof(loc));
		for (char *c = loc; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		if (strcmp(why, "served_in_clear") == 0)
			snprintf(a.message, sizeof(a.message),
				 "http://%.150s used to redirect to HTTPS (%.120s, %u times) and is now served in clear (%u%s): SSL stripping",
				 m->host, loc, b->redirects, m->status, m->login_form ? ", with a login form" : "");
		else
			snprintf(a.message, sizeof(a.message),
				 "http://%.150s used to redirect to HTTPS (%.120s) and now redirects to plain http:// on the same host: a rewritten Location, SSL stripping",
				 m->host, loc);
		ev_request(&a, m);
		jw_str(&a.ev, "reason", why);
		jw_str(&a.ev, "old_location", b->location);
		jw_uint(&a.ev, "old_redirects", b->redirects);
		jw_ts(&a.ev, "first_seen", b->first_us);
		jw_ts(&a.ev, "last_seen", b->last_us);
		jw_uint(&a.ev, "new_status", m->status);
		if (m->has_location)
			jw_str(&a.ev, "new_location", m->location);
		if (m->content_type[0])
			jw_str(&a.ev, "content_type", m->content_type);
		jw_bool(&a.ev, "login_form", m->login_form);
		jw_addr(&a.ev, "client", &ev->m.dst);
		alert_emit(out, &a);
	}
	if (to_https) {
		b->flags |= NB_REDIRECT;
		b->redirects++;
		util_strlcpy(b->location, m->location, sizeof(b->location));
	}
	if (content)
		b->flags |= NB_CONTENT;
	b->last_us = ts;
}

static void httpd_on_http(void *state, const struct http_ev *ev, struct alert_pipe *out)
{
	struct httpd_state *s = state;
	if (!ev->msg)
		return;
	judge_plain(s, ev, out);
	if (ev->msg->response)
		judge_response(s, ev, out);
}

/* ---- persistence ---- */

static void save_name(void *ud, const char *key, void *value)
{
	const struct name_base *b = value;
	json_array_append_new(ud, json_pack("{s:s,s:i,s:I,s:s,s:I,s:I}", "k", key, "flags", b->flags, "n",
					    (json_int_t)b->redirects, "loc", b->location, "f",
					    (json_int_t)b->first_us, "l", (json_int_t)b->last_us));
}

static json_t *httpd_save(void *state)
{
	struct httpd_state *s = state;
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	det_lru_each(s->names, save_name, arr);
	return json_pack("{s:i,s:o}", "version", 1, "names", arr);
}

static int httpd_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct httpd_state *s = state;
	json_t *arr = json_object_get(saved, "names");
	if (json_integer_value(json_object_get(saved, "version")) != 1 || !json_is_array(arr)) {
		snprintf(err, errlen, "http: state is not version 1 with a names list");
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *k = json_string_value(json_object_get(o, "k"));
		bool created;
		struct name_base *b = k ? det_lru_put(s->names, k, &created) : NULL;
		if (!b)
			continue;
		memset(b, 0, sizeof(*b));
		b->flags = (uint8_t)json_integer_value(json_object_get(o, "flags"));
		b->redirects = (uint32_t)json_integer_value(json_object_get(o, "n"));
		const char *loc = json_string_value(json_object_get(o, "loc"));
		util_strlcpy(b->location, loc ? loc : "", sizeof(b->location));
		b->first_us = (uint64_t)json_integer_value(json_object_get(o, "f"));
		b->last_us = (uint64_t)json_integer_value(json_object_get(o, "l"));
	}
	return 0;
}

const struct detector det_http = {
	.name = "http",
	.types = http_types,
	.ntypes = ONPATH_ARRAY_LEN(http_types),
	.init = httpd_init,
	.fini = httpd_fini,
	.on_http = httpd_on_http,
	.save = httpd_save,
	.load = httpd_load,
};
