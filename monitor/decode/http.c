/* http.c - HTTP/1.x message heads (RFC 9112 2-7, RFC 9110 for the fields): request
 * and status lines, the headers SSL-stripping indicators need (Host, Cookie,
 * Authorization, Content-Type, Content-Length, Transfer-Encoding; Location,
 * Set-Cookie RFC 6265 4.1, Strict-Transport-Security RFC 6797), chunked framing
 * (RFC 9112 7.1), and a bounded look at the first bytes of a body.
 *
 * Only names, schemes and lengths of secrets are kept (http.h). Lines end in CRLF or a
 * bare LF (RFC 9112 2.2 lets a recipient accept LF). A NUL or another control byte in
 * a head is refused: request smuggling and parser-differential tricks live there.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http.h"
#include "reader.h"
#include "util.h"

static const char *const http_errs[HTTP_ERR__COUNT] = {
	[HTTP_OK] = "ok",
	[HTTP_MORE] = "head incomplete",
	[HTTP_ERR_NOT_HTTP] = "not an HTTP/1.x start line",
	[HTTP_ERR_LINE_LONG] = "line too long",
	[HTTP_ERR_HEAD_LONG] = "head too long",
	[HTTP_ERR_HEADERS] = "too many header fields",
	[HTTP_ERR_NUL] = "control byte in the head",
	[HTTP_ERR_SYNTAX] = "header line without a colon",
	[HTTP_ERR_LENGTH] = "bad or conflicting Content-Length",
	[HTTP_ERR_CHUNK] = "bad chunk-size line",
};

const char *dec_http_strerror(int err)
{
	if (err < 0 || err >= HTTP_ERR__COUNT)
		return "unknown error";
	return http_errs[err];
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(const uint8_t *p, size_t n, const char *s)
{
	size_t l = strlen(s);
	if (n != l)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != lower((unsigned char)s[i]))
			return false;
	return true;
}


/* Copies at most cap-1 bytes, NUL-terminated; returns true when cut. */
static bool copy(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = n < cap - 1 ? n : cap - 1;
	memcpy(dst, p, k);
	dst[k] = '\0';
	return k < n;
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* The next line of r: 1 with the line and its length (without CR LF), 0 when its end has not
 * arrived, or -err. */
static int next_line(struct rd *r, const uint8_t **line, size_t *ll)
{
	size_t avail = rd_left(r);
	size_t win = avail < HTTP_LINE_MAX + 2 ? avail : HTTP_LINE_MAX + 2;
	struct rd w = *r;
	const uint8_t *p = rd_ptr(&w, win);
	if (!p)
		return 0;
	const uint8_t *nl = memchr(p, '\n', win);
	if (!nl)
		return win == HTTP_LINE_MAX + 2 ? -HTTP_ERR_LINE_LONG : 0;
	size_t n = (size_t)(nl - p);
	rd_skip(r, n + 1);
	if (n && p[n - 1] == '\r')
		n--;
	if (n > HTTP_LINE_MAX)
		return -HTTP_ERR_LINE_LONG;
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return -HTTP_ERR_NUL;
	*line = p;
	*ll = n;
	return 1;
}

/* Could the first bytes still become a start line? (decides early on binary data) */
static bool plausible_start(const struct rd *r, bool response)
{
	static const char pfx[] = "HTTP/1.";
	for (size_t i = 0; i < 16; i++) {
		uint8_t c;
		if (!rd_peek_u8(r, i, &c))
			return true;
		if (response) {
			if (i < 7 && c != (uint8_t)pfx[i])
				return false;
			if (i >= 7)
				return true;
		} else {
			if (c == ' ')
				return i > 0;
			if (c < 'A' || c > 'Z')
				return false;
		}
	}
	return response;
}

static int parse_version(const uint8_t *p, size_t n, uint8_t *minor)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
		return -1;
	*minor = (uint8_t)(p[7] - '0');
	return 0;
}

static int request_line(const uint8_t *p, size_t n, struct http_msg *m)
{
	size_t i = 0;
	while (i < n && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i == 0 || i > HTTP_METHOD_MAX || i == n || p[i] != ' ')
		return HTTP_ERR_NOT_HTTP;
	copy(m->method, sizeof(m->method), p, i);
	size_t s = ++i;
	while (i < n && p[i] != ' ')
		i++;
	if (i == s || i == n)
		return HTTP_ERR_NOT_HTTP;
	m->path_truncated = copy(m->path, sizeof(m->path), p + s, i - s);
	if (parse_version(p + i + 1, n - i - 1, &m->minor) < 0)
		return HTTP_ERR_NOT_HTTP;
	m->has_request = true;
	return HTTP_OK;
}

static int status_line(const uint8_t *p, size_t n, struct http_msg *m)
{
	if (n < 12 || parse_version(p, 8, &m->minor) < 0 || p[8] != ' ')
		return HTTP_ERR_NOT_HTTP;
	unsigned st = 0;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return HTTP_ERR_NOT_HTTP;
		st = st * 10 + (unsigned)(p[i] - '0');
	}
	if (st < 100 || (n > 12 && p[12] != ' '))
		return HTTP_ERR_NOT_HTTP;
	m->status = (uint16_t)st;
	return HTTP_OK;
}

static void set_host(struct http_msg *m, const uint8_t *p, size_t n)
{
	size_t end = n, port_at = n;
	if (n && p[0] == '[') {
		const uint8_t *rb = memchr(p, ']', n);
		if (rb) {
			end = (size_t)(rb - p) + 1;
			if (end < n && p[end] == ':')
				port_at = end;
		}
	} else {
		const uint8_t *c = memchr(p, ':', n);
		if (c)
			end = port_at = (size_t)(c - p);
	}
	unsigned port = 0;
	if (port_at < n) {
		for (size_t i = port_at + 1; i < n && i < port_at + 6; i++) {
			if (p[i] < '0' || p[i] > '9')
				break;
			port = port * 10 + (unsigned)(p[i] - '0');
		}
	}
	m->host_port = port <= 65535 ? (uint16_t)port : 0;
	if (end && p[end - 1] == '.')
		end--;
	if (end > HTTP_HOST_MAX)
		end = 0; /* not a DNS name: judged as no Host */
	for (size_t i = 0; i < end; i++) {
		int c = lower(p[i]);
		m->host[i] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	m->host[end] = '\0';
}

/* RFC 6265 5.4 / 5.2: name=value pairs, ';'-separated; attributes for Set-Cookie. */
static void add_cookie(struct http_cookie *arr, uint8_t *cnt, const uint8_t *p, size_t n, bool set)
{
	trim(&p, &n);
	if (!n || *cnt >= HTTP_MAX_COOKIES)
		return;
	const uint8_t *eq = memchr(p, '=', n);
	size_t nl = eq ? (size_t)(eq - p) : n;
	const uint8_t *np = p;
	trim(&np, &nl);
	if (!nl)
		return;
	struct http_cookie *c = &arr[(*cnt)++];
	memset(c, 0, sizeof(*c));
	copy(c->name, sizeof(c->name), np, nl);
	size_t vl = eq ? n - nl - 1 : 0;
	if (eq) {
		const uint8_t *v = eq + 1;
		size_t k = (size_t)(p + n - v);
		if (set) {
			const uint8_t *semi = memchr(v, ';', k);
			if (semi)
				k = (size_t)(semi - v);
		}
		vl = k;
	}
	c->value_len = (uint16_t)(vl > 65535 ? 65535 : vl);
	if (set) {
		c->flags |= util_icontains(p, n, "; secure") || util_icontains(p, n, ";secure") ? HTTP_CK_SECURE : 0;
		c->flags |= util_icontains(p, n, "httponly") ? HTTP_CK_HTTPONLY : 0;
		c->flags |= util_icontains(p, n, "samesite") ? HTTP_CK_SAMESITE : 0;
	}
}

static void cookies(struct http_msg *m, const uint8_t *p, size_t n)
{
	size_t s = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == ';') {
			add_cookie(m->cookies, &m->ncookies, p + s, i - s, false);
			s = i + 1;
		}
	}
}

static int header(struct http_msg *m, bool response, const uint8_t *p, size_t n)
{
	const uint8_t *colon = memchr(p, ':', n);
	if (!colon || colon == p)
		return HTTP_ERR_SYNTAX;
	size_t nl = (size_t)(colon - p);
	if (p[nl - 1] == ' ' || p[nl - 1] == '\t')
		return HTTP_ERR_SYNTAX; /* RFC 9112 5.1: no space before the colon */
	const uint8_t *v = colon + 1;
	size_t vl = n - nl - 1;
	trim(&v, &vl);
	if (ieq(p, nl, "content-type")) {
		copy(m->content_type, sizeof(m->content_type), v, vl);
	} else if (ieq(p, nl, "content-length")) {
		uint64_t x = 0;
		if (!vl || vl > 15)
			return HTTP_ERR_LENGTH;
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9')
				return HTTP_ERR_LENGTH;
			x = x * 10 + (uint64_t)(v[i] - '0');
		}
		if (m->has_length && m->content_length != x)
			return HTTP_ERR_LENGTH; /* RFC 9112 6.3: conflicting lengths */
		m->has_length = true;
		m->content_length = x;
	} else if (ieq(p, nl, "transfer-encoding")) {
		if (util_icontains(v, vl, "chunked"))
			m->chunked = true;
	} else if (!response && ieq(p, nl, "host")) {
		set_host(m, v, vl);
	} else if (!response && ieq(p, nl, "cookie")) {
		cookies(m, v, vl);
	} else if (!response && ieq(p, nl, "authorization")) {
		size_t k = 0;
		while (k < vl && v[k] != ' ')
			k++;
		m->has_auth = true;
		copy(m->auth_scheme, sizeof(m->auth_scheme), v, k);
		m->auth_len = (uint16_t)(vl > 65535 ? 65535 : vl);
	} else if (response && ieq(p, nl, "location")) {
		m->has_location = true;
		m->location_truncated = copy(m->location, sizeof(m->location), v, vl);
	} else if (response && ieq(p, nl, "set-cookie")) {
		add_cookie(m->setcookies, &m->nsetcookies, v, vl, true);
	} else if (response && ieq(p, nl, "strict-transport-security")) {
		m->has_hsts = true;
		copy(m->hsts, sizeof(m->hsts), v, vl);
	}
	return HTTP_OK;
}

int dec_http_head(const uint8_t *data, size_t len, bool response, struct http_msg *m, size_t *head_len)
{
	struct rd r = rd_init(data, len);
	*head_len = 0;
	if (!plausible_start(&r, response))
		return HTTP_ERR_NOT_HTTP;
	const uint8_t *line;
	size_t ll;
	int rc = next_line(&r, &line, &ll);
	if (rc <= 0)
		return rc == 0 ? (len > HTTP_HEAD_MAX ? HTTP_ERR_HEAD_LONG : HTTP_MORE) : -rc;
	int err = response ? status_line(line, ll, m) : request_line(line, ll, m);
	if (err)
		return err;
	for (unsigned nh = 0;; nh++) {
		rc = next_line(&r, &line, &ll);
		if (rd_off(&r) > HTTP_HEAD_MAX)
			return HTTP_ERR_HEAD_LONG;
		if (rc < 0)
			return -rc;
		if (rc == 0)
			return rd_left(&r) > HTTP_HEAD_MAX ? HTTP_ERR_HEAD_LONG : HTTP_MORE;
		if (ll == 0)
			break;
		if (nh >= HTTP_MAX_HEADERS)
			return HTTP_ERR_HEADERS;
		if (line[0] == ' ' || line[0] == '\t')
			continue; /* obsolete line folding: the continuation of a field we ignore */
		err = header(m, response, line, ll);
		if (err)
			return err;
	}
	*head_len = rd_off(&r);
	return HTTP_OK;
}

int dec_http_chunk(const uint8_t *data, size_t len, size_t *used, bool *last)
{
	struct rd r = rd_init(data, len);
	const uint8_t *p;
	size_t ll;
	*used = 0;
	*last = false;
	int rc = next_line(&r, &p, &ll);
	if (rc < 0)
		return HTTP_ERR_CHUNK;
	if (rc == 0)
		return HTTP_MORE;
	uint64_t sz = 0;
	size_t i = 0;
	for (; i < ll; i++) {
		int c = lower(p[i]);
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			break;
		if (i >= 15)
			return HTTP_ERR_CHUNK;
		sz = sz << 4 | (uint64_t)d;
	}
	if (i == 0 || (i < ll && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
		return HTTP_ERR_CHUNK;
	if (sz == 0) {
		/* the last chunk: trailer fields up to the empty line */
		for (unsigned n = 0;; n++) {
			rc = next_line(&r, &p, &ll);
			if (rc < 0 || n > HTTP_MAX_HEADERS)
				return HTTP_ERR_CHUNK;
			if (rc == 0)
				return HTTP_MORE;
			if (ll == 0)
				break;
		}
		*last = true;
		*used = rd_off(&r);
		return HTTP_OK;
	}
	if (sz > rd_left(&r))
		return HTTP_MORE;
	rd_skip(&r, (size_t)sz);
	uint8_t c;
	if (!rd_peek_u8(&r, 0, &c))
		return HTTP_MORE;
	if (c == '\r') {
		rd_skip(&r, 1);
		if (!rd_peek_u8(&r, 0, &c))
			return HTTP_MORE;
	}
	if (c != '\n')
		return HTTP_ERR_CHUNK;
	rd_skip(&r, 1);
	*used = rd_off(&r);
	return HTTP_OK;
}

int dec_http_chunked_len(const uint8_t *data, size_t len, size_t *body_len)
{
	struct rd r = rd_init(data, len);
	*body_len = 0;
	for (;;) {
		size_t used, left = rd_left(&r);
		bool last;
		struct rd w = r;
		int rc = dec_http_chunk(rd_ptr(&w, left), left, &used, &last);
		if (rc != HTTP_OK)
			return rc;
		rd_skip(&r, used);
		if (last) {
			*body_len = rd_off(&r);
			return HTTP_OK;
		}
	}
}

/* type=password, type="password" or type='password' (any case), in one pass over the
 * occurrences of "password". */
static bool password_input(const uint8_t *p, size_t n)
{
	static const char pw[] = "password";
	for (size_t i = 0; i + 8 <= n; i++) {
		if (lower(p[i]) != 'p')
			continue;
		size_t k = 1;
		while (k < 8 && lower(p[i + k]) == (unsigned char)pw[k])
			k++;
		if (k < 8)
			continue;
		size_t j = i;
		if (j && (p[j - 1] == '"' || p[j - 1] == '\''))
			j--;
		if (j >= 5 && lower(p[j - 5]) == 't' && lower(p[j - 4]) == 'y' && lower(p[j - 3]) == 'p' &&
		    lower(p[j - 2]) == 'e' && p[j - 1] == '=')
			return true;
	}
	return false;
}

void dec_http_scan_body(const uint8_t *data, size_t len, struct http_msg *m)
{
	size_t n = len < HTTP_BODY_SCAN ? len : HTTP_BODY_SCAN;
	struct rd r = rd_init(data, len);
	const uint8_t *p = rd_ptr(&r, n);
	m->body_seen = (uint32_t)n;
	if (!p)
		return;
	m->login_form = util_icontains(p, n, "<form") && password_input(p, n);
}

static bool password_name(const char *s)
{
	return util_icontains((const uint8_t *)s, strlen(s), "pass") || util_icontains((const uint8_t *)s, strlen(s), "pwd");
}

void dec_http_scan_form(const uint8_t *data, size_t len, struct http_msg *m)
{
	size_t n = len < HTTP_FORM_SCAN ? len : HTTP_FORM_SCAN;
	struct rd r = rd_init(data, len);
	const uint8_t *p = rd_ptr(&r, n);
	if (!p)
		return;
	size_t s = 0;
	for (size_t i = 0; i <= n && m->nfields < HTTP_MAX_FORM_FIELDS; i++) {
		if (i < n && p[i] != '&')
			continue;
		const uint8_t *eq = memchr(p + s, '=', i - s);
		size_t nl = eq ? (size_t)(eq - (p + s)) : i - s;
		/* the last field may be cut by the scan window: keep only complete names */
		if (nl && (eq || i < n)) {
			char *f = m->fields[m->nfields++];
			copy(f, HTTP_FORM_NAME_MAX + 1, p + s, nl);
			for (char *c = f; *c; c++)
				if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
					*c = '?';
			if (password_name(f))
				m->password_field = true;
		}
		s = i + 1;
	}
}

int dec_http_url_host(const char *url, char *out, size_t cap)
{
	int sl;
	if (strncasecmp(url, "http://", 7) == 0)
		sl = 4;
	else if (strncasecmp(url, "https://", 8) == 0)
		sl = 5;
	else
		return 0;
	const char *h = url + sl + 3;
	size_t n = strcspn(h, "/?#");
	const char *at = memchr(h, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	size_t end = n;
	if (n && h[0] == '[') {
		const char *rb = memchr(h, ']', n);
		end = rb ? (size_t)(rb - h) + 1 : n;
	} else {
		const char *c = memchr(h, ':', n);
		if (c)
			end = (size_t)(c - h);
	}
	if (end && h[end - 1] == '.')
		end--;
	if (cap == 0)
		return 0;
	if (end > cap - 1)
		end = cap - 1;
	for (size_t i = 0; i < end; i++)
		out[i] = (char)lower((unsigned char)h[i]);
	out[end] = '\0';
	return sl;
}
