/* test_http.c - the HTTP/1.x head parser (decode/http.c) and its stream consumer
 * (http_app.c): request and response heads, chunked framing, the body and form looks,
 * pipelining, hostile input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/http.h"
#include "stream.h"
#include "util.h"

static struct http_msg M;

static int head(const char *s, bool response, size_t *hl)
{
	memset(&M, 0, sizeof(M));
	size_t n = strlen(s);
	uint8_t *c = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past them */
	memcpy(c, s, n);
	int rc = dec_http_head(c, n, response, &M, hl);
	free(c);
	return rc;
}

static const char REQ[] =
	"POST /login?next=%2Fhome HTTP/1.1\r\n"
	"Host: WWW.Example.COM.:8080\r\n"
	"Cookie: PHPSESSID=0123456789abcdef; theme=dark;  empty=; novalue\r\n"
	"Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
	"Content-Type: application/x-www-form-urlencoded\r\n"
	"Content-Length: 27\r\n"
	"X-Folded: a\r\n"
	" continued\r\n"
	"\r\n"
	"user=alice&password=s3cret&";

static void test_request_ok(void **state)
{
	(void)state;
	size_t hl;
	assert_int_equal(head(REQ, false, &hl), HTTP_OK);
	assert_int_equal(hl, strlen(REQ) - 27);
	assert_string_equal(M.method, "POST");
	assert_string_equal(M.path, "/login?next=%2Fhome");
	assert_int_equal(M.minor, 1);
	assert_string_equal(M.host, "www.example.com");
	assert_int_equal(M.host_port, 8080);
	assert_int_equal(M.ncookies, 4);
	assert_string_equal(M.cookies[0].name, "PHPSESSID");
	assert_int_equal(M.cookies[0].value_len, 16);
	assert_string_equal(M.cookies[1].name, "theme");
	assert_string_equal(M.cookies[2].name, "empty");
	assert_int_equal(M.cookies[2].value_len, 0);
	assert_string_equal(M.cookies[3].name, "novalue");
	assert_true(M.has_auth);
	assert_string_equal(M.auth_scheme, "Basic");
	assert_int_equal(M.auth_len, 22);
	assert_true(M.has_length);
	assert_int_equal(M.content_length, 27);
	/* no secret is kept anywhere in the message */
	assert_null(memmem(&M, sizeof(M), "YWxpY2U6", 8));
	assert_null(memmem(&M, sizeof(M), "0123456789abcdef", 16));
	dec_http_scan_form((const uint8_t *)REQ + hl, 27, &M);
	assert_int_equal(M.nfields, 2);
	assert_string_equal(M.fields[0], "user");
	assert_string_equal(M.fields[1], "password");
	assert_true(M.password_field);
	assert_null(memmem(&M, sizeof(M), "s3cret", 6));
	/* IPv6 literal, HTTP/1.0, LF line ends */
	assert_int_equal(head("GET / HTTP/1.0\nHost: [2001:DB8::1]:81\n\n", false, &hl), HTTP_OK);
	assert_string_equal(M.host, "[2001:db8::1]");
	assert_int_equal(M.host_port, 81);
	assert_int_equal(M.minor, 0);
}

static const char RSP[] =
	"HTTP/1.1 302 Found\r\n"
	"Location: https://www.example.com/login\r\n"
	"Set-Cookie: sid=abcdef0123; Path=/; Secure; HttpOnly; SameSite=Lax\r\n"
	"Set-Cookie: lang=en\r\n"
	"Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
	"Content-Type: text/html\r\n"
	"Transfer-Encoding: chunked\r\n"
	"\r\n";

static void test_response_ok(void **state)
{
	(void)state;
	size_t hl;
	assert_int_equal(head(RSP, true, &hl), HTTP_OK);
	assert_int_equal(hl, strlen(RSP));
	assert_int_equal(M.status, 302);
	assert_true(M.has_location);
	assert_string_equal(M.location, "https://www.example.com/login");
	assert_int_equal(M.nsetcookies, 2);
	assert_string_equal(M.setcookies[0].name, "sid");
	assert_int_equal(M.setcookies[0].value_len, 10);
	assert_int_equal(M.setcookies[0].flags, HTTP_CK_SECURE | HTTP_CK_HTTPONLY | HTTP_CK_SAMESITE);
	assert_int_equal(M.setcookies[1].flags, 0);
	assert_true(M.has_hsts);
	assert_string_equal(M.hsts, "max-age=31536000; includeSubDomains");
	assert_true(M.chunked);
	assert_string_equal(M.content_type, "text/html");
	assert_null(memmem(&M, sizeof(M), "abcdef0123", 10));
	/* no reason phrase */
	assert_int_equal(head("HTTP/1.1 200\r\n\r\n", true, &hl), HTTP_OK);
	assert_int_equal(M.status, 200);
}

static void test_truncated(void **state)
{
	(void)state;
	const char *msgs[2] = { REQ, RSP };
	for (int k = 0; k < 2; k++) {
		size_t full = 0, n = strlen(msgs[k]);
		assert_int_equal(head(msgs[k], k == 1, &full), HTTP_OK);
		for (size_t i = 0; i < full; i++) {
			char *c = malloc(i + 1);
			memcpy(c, msgs[k], i);
			c[i] = '\0';
			size_t hl = 1;
			int rc = head(c, k == 1, &hl);
			if (rc != HTTP_MORE)
				fail_msg("prefix %zu of %zu: %s", i, n, dec_http_strerror(rc));
			assert_int_equal(hl, 0);
			free(c);
		}
	}
}

static void test_head_bad(void **state)
{
	(void)state;
	size_t hl;
	static const struct {
		const char *s;
		bool response;
		int err;
	} cases[] = {
		{ "\x16\x03\x01\x02\x00", false, HTTP_ERR_NOT_HTTP },  /* a TLS record */
		{ "get / HTTP/1.1\r\n\r\n", false, HTTP_ERR_NOT_HTTP },
		{ "GET / HTTP/2.0\r\n\r\n", false, HTTP_ERR_NOT_HTTP },
		{ "GET /\r\n\r\n", false, HTTP_ERR_NOT_HTTP },         /* HTTP/0.9 */
		{ "GET  HTTP/1.1\r\n\r\n", false, HTTP_ERR_NOT_HTTP },
		{ "VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", false, HTTP_ERR_NOT_HTTP },
		{ "SSH-2.0-x\r\n", true, HTTP_ERR_NOT_HTTP },
		{ "HTTP/1.1 2x0 OK\r\n\r\n", true, HTTP_ERR_NOT_HTTP },
		{ "HTTP/1.1 099 Low\r\n\r\n", true, HTTP_ERR_NOT_HTTP },
		{ "HTTP/1.1 200OK\r\n\r\n", true, HTTP_ERR_NOT_HTTP },
		{ "GET / HTTP/1.1\r\nHost: a\r\nBad header\r\n\r\n", false, HTTP_ERR_SYNTAX },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", false, HTTP_ERR_SYNTAX },
		{ "GET / HTTP/1.1\r\n: a\r\n\r\n", false, HTTP_ERR_SYNTAX },
		{ "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", false, HTTP_ERR_NUL },
		{ "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", false, HTTP_ERR_LENGTH },
		{ "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false, HTTP_ERR_LENGTH },
		{ "GET / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n", false, HTTP_ERR_LENGTH },
		{ "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", false, HTTP_ERR_LENGTH },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = head(cases[i].s, cases[i].response, &hl);
		if (rc != cases[i].err)
			fail_msg("case %zu: %s, expected %s", i, dec_http_strerror(rc), dec_http_strerror(cases[i].err));
	}
	/* the same Content-Length twice is fine */
	assert_int_equal(head("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", false, &hl),
			 HTTP_OK);
	/* a NUL */
	static const uint8_t nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	memset(&M, 0, sizeof(M));
	assert_int_equal(dec_http_head(nul, sizeof(nul) - 1, false, &M, &hl), HTTP_ERR_NUL);
	assert_string_equal(dec_http_strerror(HTTP_ERR_NUL), "control byte in the head");
	assert_string_equal(dec_http_strerror(99), "unknown error");
}

static void test_head_limits(void **state)
{
	(void)state;
	size_t hl;
	static char big[70000];
	/* a line without its end past HTTP_LINE_MAX */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	big[HTTP_LINE_MAX + 100] = '\0';
	assert_int_equal(head(big, false, &hl), HTTP_ERR_LINE_LONG);
	big[HTTP_LINE_MAX] = '\0'; /* shorter: may still end */
	assert_int_equal(head(big, false, &hl), HTTP_MORE);
	/* a header line of HTTP_LINE_MAX + 1 bytes */
	size_t o = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + o, 'b', HTTP_LINE_MAX - 2);
	o += HTTP_LINE_MAX - 2;
	memcpy(big + o, "\r\n\r\n", 5);
	assert_int_equal(head(big, false, &hl), HTTP_ERR_LINE_LONG);
	/* too many headers */
	o = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "X-%d: y\r\n", i);
	snprintf(big + o, sizeof(big) - o, "\r\n");
	assert_int_equal(head(big, false, &hl), HTTP_ERR_HEADERS);
	/* a head past HTTP_HEAD_MAX in long lines */
	o = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 6; i++) {
		o += (size_t)snprintf(big + o, sizeof(big) - o, "X-%d: ", i);
		memset(big + o, 'c', 6000);
		o += 6000;
		o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\n");
	}
	snprintf(big + o, sizeof(big) - o, "\r\n");
	assert_int_equal(head(big, false, &hl), HTTP_ERR_HEAD_LONG);
	/* long fields are cut, not refused */
	o = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + o, 'p', 1000);
	o += 1000;
	o += (size_t)snprintf(big + o, sizeof(big) - o, " HTTP/1.1\r\nHost: ");
	memset(big + o, 'h', 300);
	o += 300;
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\nCookie: ");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s%060d=v", i ? "; " : "", i);
	snprintf(big + o, sizeof(big) - o, "\r\n\r\n");
	assert_int_equal(head(big, false, &hl), HTTP_OK);
	assert_true(M.path_truncated);
	assert_int_equal(strlen(M.path), HTTP_PATH_MAX);
	assert_string_equal(M.host, ""); /* 300 characters: not a DNS name */
	assert_int_equal(M.ncookies, HTTP_MAX_COOKIES);
	assert_int_equal(strlen(M.cookies[0].name), HTTP_COOKIE_NAME_MAX);
}

static void test_chunked(void **state)
{
	(void)state;
	size_t bl;
	static const char ok[] = "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	assert_int_equal(dec_http_chunked_len((const uint8_t *)ok, strlen(ok), &bl), HTTP_OK);
	assert_int_equal(bl, strlen(ok) - 4);
	for (size_t i = 0; i < strlen(ok) - 4; i++) {
		uint8_t *c = malloc(i + 1);
		memcpy(c, ok, i);
		if (dec_http_chunked_len(c, i, &bl) != HTTP_MORE)
			fail_msg("prefix %zu", i);
		free(c);
	}
	static const char *const bad[] = {
		"x\r\n", "5\r\nhelloXX", "1234567890abcdef0\r\n", "5 junk\r\nhello\r\n0\r\n\r\n", "-1\r\n", "5z\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = dec_http_chunked_len((const uint8_t *)bad[i], strlen(bad[i]), &bl);
		if (i == 3 ? rc != HTTP_OK : rc != HTTP_ERR_CHUNK)
			fail_msg("case %zu: %d", i, rc);
	}
	/* a huge size is waited for, not trusted */
	assert_int_equal(dec_http_chunked_len((const uint8_t *)"ffffffffffffff\r\nab", 18, &bl), HTTP_MORE);
}

static void test_scans(void **state)
{
	(void)state;
	static const char *const forms[] = {
		"<html><FORM action=/x><input type=\"password\" name=p></form>",
		"<form><input name=p type='PASSWORD'>",
		"<form><input type=password>",
	};
	for (size_t i = 0; i < 3; i++) {
		memset(&M, 0, sizeof(M));
		dec_http_scan_body((const uint8_t *)forms[i], strlen(forms[i]), &M);
		assert_true(M.login_form);
	}
	memset(&M, 0, sizeof(M));
	const char *np = "<form><input name=\"password\" type=\"text\"> password";
	dec_http_scan_body((const uint8_t *)np, strlen(np), &M);
	assert_false(M.login_form); /* a field named password is not a password input */
	const char *nf = "<input type=password> but no form element";
	dec_http_scan_body((const uint8_t *)nf, strlen(nf), &M);
	assert_false(M.login_form);
	/* only the first HTTP_BODY_SCAN bytes are looked at */
	static char big[HTTP_BODY_SCAN + 100];
	memset(big, ' ', sizeof(big));
	memcpy(big, "<form>", 6);
	memcpy(big + HTTP_BODY_SCAN - 5, "type=password", 13);
	memset(&M, 0, sizeof(M));
	dec_http_scan_body((const uint8_t *)big, sizeof(big), &M);
	assert_false(M.login_form);
	assert_int_equal(M.body_seen, HTTP_BODY_SCAN);
	/* form fields: cap, cut last name, password-like names */
	memset(&M, 0, sizeof(M));
	const char *f = "a=1&pwd=2&c&=4&e=5&f=6&g=7&h=8&i=9&j=10";
	dec_http_scan_form((const uint8_t *)f, strlen(f), &M);
	assert_int_equal(M.nfields, HTTP_MAX_FORM_FIELDS);
	assert_string_equal(M.fields[1], "pwd");
	assert_string_equal(M.fields[2], "c");
	assert_true(M.password_field);
	memset(&M, 0, sizeof(M));
	dec_http_scan_form((const uint8_t *)"user=a&passw", 12, &M);
	assert_int_equal(M.nfields, 1); /* "passw" may be cut: not kept */
	assert_false(M.password_field);
	/* URL hosts */
	char h[64];
	assert_int_equal(dec_http_url_host("https://User:pw@WWW.Example.com.:443/x?y", h, sizeof(h)), 5);
	assert_string_equal(h, "www.example.com");
	assert_int_equal(dec_http_url_host("HTTP://a.b", h, sizeof(h)), 4);
	assert_string_equal(h, "a.b");
	assert_int_equal(dec_http_url_host("http://[2001:db8::1]:8080/", h, sizeof(h)), 4);
	assert_string_equal(h, "[2001:db8::1]");
	assert_int_equal(dec_http_url_host("/relative", h, sizeof(h)), 0);
	assert_int_equal(dec_http_url_host("ftp://x", h, sizeof(h)), 0);
	assert_int_equal(dec_http_url_host("https://a-very-long-host-name.example", h, 8), 5);
	assert_string_equal(h, "a-very-");
}

/* ---- the consumer ---- */

extern const struct app_consumer app_http;

#define MAXREC 32
static struct http_msg recs[MAXREC];
static int nrec;

bool det_wants_http(const struct det_registry *r)
{
	(void)r;
	return true;
}

void det_dispatch_http(struct det_registry *r, const struct http_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	if (nrec < MAXREC)
		recs[nrec++] = *ev->msg;
}

/* Feeds both directions in segments of seg bytes, client first; returns the number of
 * on_data calls and the malformed count in *mal. */
static int run_app(const char *c, const char *s, size_t seg, bool fin, bool *done, uint64_t *mal)
{
	struct flow f;
	memset(&f, 0, sizeof(f));
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	m.community_id = "";
	*mal = 0;
	struct app_ctx ctx = { (struct det_registry *)&m, NULL, &m, mal };
	void *st = NULL;
	size_t len[2] = { strlen(c), strlen(s) }, have[2] = { 0, 0 };
	const char *d[2] = { c, s };
	int calls = 0;
	nrec = 0;
	*done = false;
	while (!*done && (have[0] < len[0] || have[1] < len[1])) {
		for (int dir = 0; dir < 2 && !*done; dir++) {
			if (have[dir] == len[dir])
				continue;
			have[dir] = have[dir] + seg < len[dir] ? have[dir] + seg : len[dir];
			uint8_t *x = malloc(have[dir]);
			memcpy(x, d[dir], have[dir]);
			calls++;
			uint32_t sf = fin && have[dir] == len[dir] ? STREAM_F_FIN : 0;
			if (app_http.on_data(&ctx, &st, &f, dir, x, have[dir], sf) == APP_DONE)
				*done = true;
			free(x);
		}
	}
	app_http.free_state(st);
	return calls;
}

static const char PIPE_C[] = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"
			     "HEAD /h HTTP/1.1\r\nHost: a.example\r\n\r\n"
			     "POST /p HTTP/1.1\r\nHost: a.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
			     "Expect: 100-continue\r\nContent-Length: 19\r\n\r\nuser=x&password=yy&"
			     "GET /c HTTP/1.1\r\nHost: b.example\r\n\r\n";
static const char PIPE_S[] = "HTTP/1.1 301 Moved\r\nLocation: https://a.example/\r\nContent-Length: 5\r\n\r\nmoved"
			     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" /* HEAD: no body */
			     "HTTP/1.1 100 Continue\r\n\r\n"
			     "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "24\r\n<form><input type=\"password\"></form>\r\n0\r\n\r\n"
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close";

static void test_app_pipelined(void **state)
{
	(void)state;
	size_t segs[] = { 1, 2, 7, 13, 64, 1400 };
	struct flow f;
	memset(&f, 0, sizeof(f));
	assert_true(app_http.wants(&f, 80));
	assert_true(app_http.wants(&f, 8080));
	assert_true(app_http.wants(&f, 8000));
	assert_false(app_http.wants(&f, 443));
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		bool done;
		uint64_t mal;
		run_app(PIPE_C, PIPE_S, segs[i], true, &done, &mal);
		assert_true(done);
		assert_int_equal(mal, 0);
		if (nrec != 8)
			fail_msg("segment %zu: %d events", segs[i], nrec);
		int q = 0, r = 0;
		for (int k = 0; k < nrec; k++) {
			if (!recs[k].response) {
				assert_int_equal(recs[k].index, q++);
				continue;
			}
			const struct http_msg *x = &recs[k];
			assert_int_equal(x->index, r);
			switch (r++) {
			case 0:
				assert_int_equal(x->status, 301);
				assert_string_equal(x->host, "a.example");
				assert_string_equal(x->location, "https://a.example/");
				break;
			case 1:
				assert_string_equal(x->method, "HEAD");
				assert_int_equal(x->body_seen, 0);
				break;
			case 2:
				if (strcmp(x->method, "POST") != 0)
					fail_msg("segment %zu: response 2 answers '%s'", segs[i], x->method);
				assert_true(x->login_form);
				assert_true(x->chunked);
				break;
			case 3:
				assert_string_equal(x->host, "b.example");
				assert_string_equal(x->path, "/c");
				break;
			}
		}
		/* the POST's form, found whatever the segmentation */
		bool pw = false;
		for (int k = 0; k < nrec; k++)
			if (!recs[k].response && strcmp(recs[k].method, "POST") == 0)
				pw = recs[k].password_field;
		assert_true(pw);
	}
}

static void test_app_limits(void **state)
{
	(void)state;
	bool done;
	uint64_t mal;
	/* not HTTP on port 80: done at once, not counted as malformed */
	assert_int_equal(run_app("\x16\x03\x01\x00\x05hello", "", 1400, false, &done, &mal), 1);
	assert_true(done);
	assert_int_equal(mal, 0);
	assert_int_equal(nrec, 0);
	/* a broken second request is malformed */
	run_app("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad\r\n\r\n", "", 1400, true, &done, &mal);
	assert_int_equal(mal, 1);
	assert_int_equal(nrec, 1);
	/* a bad chunked body ends the direction */
	run_app("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1400, false, &done,
		&mal);
	assert_int_equal(mal, 1);
	assert_true(done);
	/* the exchange cap: 12 requests, 8 followed */
	static char many[2000], answers[4000];
	size_t o = 0, p = 0;
	for (int i = 0; i < 12; i++) {
		o += (size_t)snprintf(many + o, sizeof(many) - o, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
		p += (size_t)snprintf(answers + p, sizeof(answers) - p, "HTTP/1.1 204 No Content\r\n\r\n");
	}
	run_app(many, answers, 1400, false, &done, &mal);
	assert_true(done);
	assert_int_equal(nrec, 16);
	/* 101: another protocol follows */
	run_app("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 101 Switching\r\n\r\n\x81\x05hello", 1400,
		false, &done, &mal);
	assert_true(done);
	assert_int_equal(nrec, 1);
	/* a response body larger than the scan window: dispatched once the window is there */
	static char bigrsp[HTTP_BODY_SCAN + 200];
	o = (size_t)snprintf(bigrsp, sizeof(bigrsp), "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<form>");
	memset(bigrsp + o, 'z', sizeof(bigrsp) - o - 1);
	bigrsp[sizeof(bigrsp) - 1] = '\0';
	run_app("GET / HTTP/1.1\r\n\r\n", bigrsp, 100, false, &done, &mal);
	assert_int_equal(nrec, 2);
	assert_int_equal(recs[1].body_seen, HTTP_BODY_SCAN);
	assert_false(done);
	/* a direction that is not 0 or 1 */
	struct flow f;
	memset(&f, 0, sizeof(f));
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	struct app_ctx ctx = { NULL, NULL, &m, NULL };
	void *st = NULL;
	assert_int_equal(app_http.on_data(&ctx, &st, &f, 2, (const uint8_t *)"x", 1, 0), APP_DONE);
	assert_null(st);
	/* no registry: parsed, nothing dispatched */
	nrec = 0;
	assert_int_equal(app_http.on_data(&ctx, &st, &f, 0, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, STREAM_F_FIN),
			 APP_MORE);
	assert_int_equal(app_http.on_data(&ctx, &st, &f, 1, (const uint8_t *)"HTTP/1.1 204 x\r\n\r\n", 18, 0), APP_DONE);
	assert_int_equal(nrec, 0);
	app_http.free_state(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_response_ok),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_head_bad),
		cmocka_unit_test(test_head_limits),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_scans),
		cmocka_unit_test(test_app_pipelined),
		cmocka_unit_test(test_app_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
