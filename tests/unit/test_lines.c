/* test_lines.c - the STARTTLS line protocols (monitor/decode/lines.c) and their stream
 * consumer (lines_app.c): SMTP, IMAP, POP3, FTP and XMPP openings, every refusal and
 * failure branch, and hostile input (truncation at every length, a 100 KB line, NUL,
 * bare LF, pipelining, budgets, every segment split). */
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
#include "decode/lines.h"
#include "stream.h"

extern const struct app_consumer app_lines;

/* The registry, stubbed: the consumer's events are counted here. */
static int stub_tls_wants = 1, stub_tls_events, stub_tls_hellos;
bool det_wants_tls(const struct det_registry *r)
{
	(void)r;
	return stub_tls_wants;
}
void det_dispatch_tls(struct det_registry *r, const struct tls_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	stub_tls_events++;
	if (ev->client && !ev->server)
		stub_tls_hellos |= 1;
	if (ev->client && ev->server)
		stub_tls_hellos |= 2;
}
static int stub_wants = 1, stub_events, stub_last_kind;
static bool stub_last_from_server;
bool det_wants_starttls(const struct det_registry *r)
{
	(void)r;
	return stub_wants;
}
void det_dispatch_starttls(struct det_registry *r, const struct starttls_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	stub_events++;
	stub_last_kind = ev->msg->kind;
	stub_last_from_server = ev->msg->from_server;
}

/* ---- a transcript: steps of one direction's bytes ---- */

struct step {
	char dir;          /* 'C' client, 'S' server */
	const char *b;
	size_t n;          /* 0: strlen(b) */
};

#define MAX_EV 64
#define EV_TXT 1200

struct rec {
	int n;
	char ev[MAX_EV][EV_TXT];
	struct starttls_msg last[MAX_EV];
};

static void render(char *o, size_t cap, const struct starttls_msg *m)
{
	int k = snprintf(o, cap, "%s %s%s", dec_lines_proto_name(m->proto), dec_lines_kind_name(m->kind),
			 m->from_server ? " S" : " C");
	if (m->code)
		k += snprintf(o + k, cap - (size_t)k, " code=%u", m->code);
	if (m->kind == STLS_REPLY || m->kind == STLS_GREETING)
		k += snprintf(o + k, cap - (size_t)k, " ok=%d", m->accepted);
	if (m->kind == STLS_CAPS) {
		k += snprintf(o + k, cap - (size_t)k, " starttls=%d n=%u/%u [", m->has_starttls, m->ncaps,
			      m->caps_total);
		for (unsigned i = 0; i < m->ncaps && (size_t)k < cap - 60; i++)
			k += snprintf(o + k, cap - (size_t)k, "%s%s", i ? "|" : "", m->caps[i]);
		k += snprintf(o + k, cap - (size_t)k, "]");
	}
	if (m->masked)
		k += snprintf(o + k, cap - (size_t)k, " masked=%s", m->masked_cap);
	if (m->kind == STLS_CREDS)
		k += snprintf(o + k, cap - (size_t)k, " mech=%s clear=%d anon=%d user=%u", m->mech, m->cleartext,
			      m->anonymous, m->user_len);
	if (m->kind == STLS_TLS)
		k += snprintf(o + k, cap - (size_t)k, " record=%d", m->tls_record);
	if (m->after_auth)
		k += snprintf(o + k, cap - (size_t)k, " after_auth");
	if (m->text_len && (size_t)k < cap - 10)
		snprintf(o + k, cap - (size_t)k, " \"%.*s\"", (int)m->text_len, m->text);
}

static void on_ev(void *ud, const struct starttls_msg *m)
{
	struct rec *r = ud;
	/* Invariants every event keeps. */
	assert_true(m->ncaps <= DEC_LINES_MAX_CAPS);
	assert_true(m->text_len < DEC_LINES_TEXT_MAX);
	assert_int_equal(m->text[m->text_len], '\0');
	for (unsigned i = 0; i < m->ncaps; i++)
		assert_true(memchr(m->caps[i], 0, DEC_LINES_CAP_MAX) != NULL);
	assert_true(memchr(m->mech, 0, DEC_LINES_MECH_MAX) != NULL);
	if (r->n < MAX_EV) {
		render(r->ev[r->n], EV_TXT, m);
		r->last[r->n] = *m;
		r->n++;
	}
}

static uint8_t dbuf[2][1 << 18];

/* Feeds the transcript a chunk of split bytes at a time (0: each step whole), each time
 * with the whole prefix of its direction, then ends both directions. Returns whether the
 * conversation was done; c keeps the final state. */
static bool run_split(struct dec_lines_conv *c, int proto, const struct step *s, size_t ns, size_t split,
		      struct rec *r)
{
	size_t len[2] = { 0, 0 };
	memset(r, 0, sizeof(*r));
	dec_lines_init(c, (enum dec_lines_proto)proto);
	bool done = false;
	for (size_t i = 0; i < ns && !done; i++) {
		int d = s[i].dir == 'S';
		size_t n = s[i].n ? s[i].n : strlen(s[i].b);
		assert_true(len[d] + n <= sizeof(dbuf[d]));
		size_t o = 0;
		while (o < n && !done) {
			size_t k = split && split < n - o ? split : n - o;
			memcpy(dbuf[d] + len[d], s[i].b + o, k);
			len[d] += k;
			o += k;
			done = dec_lines_feed(c, d, dbuf[d], len[d], false, on_ev, r);
		}
	}
	if (!done) {
		dec_lines_feed(c, false, dbuf[0], len[0], true, on_ev, r);
		done = dec_lines_feed(c, true, dbuf[1], len[1], true, on_ev, r);
	}
	return done;
}

static bool run(struct dec_lines_conv *c, int proto, const struct step *s, size_t ns, struct rec *r)
{
	return run_split(c, proto, s, ns, 0, r);
}

static void expect(const struct rec *r, int i, const char *want)
{
	if (i >= r->n) {
		for (int k = 0; k < r->n; k++)
			fprintf(stderr, "  ev %d: %s\n", k, r->ev[k]);
		fail_msg("event %d missing (have %d), wanted: %s", i, r->n, want);
	}
	if (strcmp(r->ev[i], want) != 0) {
		for (int k = 0; k < r->n; k++)
			fprintf(stderr, "  ev %d: %s\n", k, r->ev[k]);
		fail_msg("event %d:\n  got  %s\n  want %s", i, r->ev[i], want);
	}
}

static void expect_n(const struct rec *r, int n)
{
	if (r->n != n) {
		for (int k = 0; k < r->n; k++)
			fprintf(stderr, "  ev %d: %s\n", k, r->ev[k]);
		fail_msg("%d events, expected %d", r->n, n);
	}
}

#define NS(a) (sizeof(a) / sizeof((a)[0]))

/* The first bytes of a TLS 1.2 ClientHello record. */
static const char TLS_CH[] = "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00";

/* ---- SMTP ---- */

static const struct step smtp_ok[] = {
	{ 'S', "220 mx.example.org ESMTP ready\r\n", 0 },
	{ 'C', "EHLO client.example\r\n", 0 },
	{ 'S', "250-mx.example.org Hello\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 CHUNKING\r\n", 0 },
	{ 'C', "STARTTLS\r\n", 0 },
	{ 'S', "220 2.0.0 Ready to start TLS\r\n", 0 },
	{ 'C', TLS_CH, sizeof(TLS_CH) - 1 },
	{ 'S', "\x16\x03\x03\x00\x10", 5 },
};

static void test_smtp_starttls(void **st)
{
	(void)st;
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_SMTP, smtp_ok, NS(smtp_ok), &r));
	expect_n(&r, 5);
	expect(&r, 0, "smtp greeting S code=220 ok=1 \"mx.example.org ESMTP ready\"");
	expect(&r, 1, "smtp caps S starttls=1 n=4/4 [SIZE 35882577|8BITMIME|STARTTLS|CHUNKING]");
	expect(&r, 2, "smtp starttls_request C \"STARTTLS\"");
	expect(&r, 3, "smtp starttls_reply S code=220 ok=1 \"2.0.0 Ready to start TLS\"");
	expect(&r, 4, "smtp tls C record=1");
	assert_int_equal(r.last[4].anomalies, 0);
}

static void test_smtp_every_split(void **st)
{
	(void)st;
	struct dec_lines_conv c;
	struct rec whole, r;
	run(&c, LINES_P_SMTP, smtp_ok, NS(smtp_ok), &whole);
	for (size_t split = 1; split < 40; split++) {
		run_split(&c, LINES_P_SMTP, smtp_ok, NS(smtp_ok), split, &r);
		assert_int_equal(r.n, whole.n);
		for (int i = 0; i < r.n; i++)
			assert_string_equal(r.ev[i], whole.ev[i]);
	}
}

static void test_smtp_refused_then_plain(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "220 mx ESMTP\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n", 0 },
		{ 'C', "STARTTLS\r\n", 0 },
		{ 'S', "454 4.7.0 TLS not available due to local problem\r\n", 0 },
		{ 'C', "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", 0 }, /* \0alice\0secret */
		{ 'S', "235 2.7.0 Authentication successful\r\n", 0 },
		{ 'C', "MAIL FROM:<a@example.org>\r\n", 0 },
		{ 'S', "250 ok\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_SMTP, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 3, "smtp starttls_reply S code=454 ok=0 \"4.7.0 TLS not available due to local problem\"");
	expect(&r, 4, "smtp credentials C mech=PLAIN clear=1 anon=0 user=5");
	/* the password is nowhere in the event */
	assert_null(memmem(&r.last[4], sizeof(r.last[4]), "secret", 6));
}

static void test_smtp_stripped_auth_login(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "220 mx ESMTP\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250-PIPELINING\r\n250 AUTH LOGIN\r\n", 0 },
		{ 'C', "AUTH LOGIN\r\n", 0 },
		{ 'S', "334 VXNlcm5hbWU6\r\n", 0 },
		{ 'C', "YWxpY2U=\r\n", 0 }, /* alice */
		{ 'S', "334 UGFzc3dvcmQ6\r\n", 0 },
		{ 'C', "c2VjcmV0\r\n", 0 }, /* secret: a SASL response, never a command */
		{ 'S', "235 ok\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250 SIZE 10\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_SMTP, s, NS(s), &r);
	expect_n(&r, 4);
	expect(&r, 1, "smtp caps S starttls=0 n=2/2 [PIPELINING|AUTH LOGIN]");
	expect(&r, 2, "smtp credentials C mech=LOGIN clear=1 anon=0 user=5");
	expect(&r, 3, "smtp caps S starttls=0 n=1/1 [SIZE 10] after_auth");
}

static void test_smtp_auth_cancel_and_cram(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "AUTH PLAIN\r\n", 0 },
		{ 'S', "334 \r\n", 0 },
		{ 'C', "*\r\n", 0 },
		{ 'S', "501 cancelled\r\n", 0 },
		{ 'C', "AUTH CRAM-MD5\r\n", 0 },
		{ 'S', "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n", 0 },
		{ 'C', "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n", 0 },
		{ 'S', "235 ok\r\n", 0 },
		{ 'C', "AUTH LOGIN YWxpY2U=\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_SMTP, s, NS(s), &r);
	expect_n(&r, 3);
	expect(&r, 1, "smtp credentials C mech=CRAM-MD5 clear=0 anon=0 user=0");
	expect(&r, 2, "smtp credentials C mech=LOGIN clear=1 anon=0 user=5 after_auth");
}

static void test_smtp_masked(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "220 *******************************0*0*2**0***\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250-XXXXXXXA\r\n250-XXXA\r\n250-XFORWARD NAME\r\n250 8BITMIME\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_SMTP, s, NS(s), &r);
	expect_n(&r, 2);
	assert_true(r.last[0].masked);
	expect(&r, 1, "smtp caps S starttls=0 n=4/4 [XXXXXXXA|XXXA|XFORWARD NAME|8BITMIME] masked=XXXXXXXA");
	/* XFORWARD or a banner with a few stars is not masking */
	static const struct step b[] = {
		{ 'S', "220 mx *** welcome ***\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250-XFORWARD NAME ADDR\r\n250-XXA\r\n250 XXXXXXXAB\r\n", 0 },
	};
	run(&c, LINES_P_SMTP, b, NS(b), &r);
	expect_n(&r, 2);
	assert_false(r.last[0].masked);
	assert_false(r.last[1].masked);
}

static void test_smtp_pipelined_and_injection(void **st)
{
	(void)st;
	/* EHLO and STARTTLS in one segment, then clear text after STARTTLS (the
	 * CVE-2011-0411 command injection). */
	static const struct step s[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "EHLO c\r\nSTARTTLS\r\nRSET\r\n", 0 },
		{ 'S', "250-mx\r\n250 STARTTLS\r\n220 go ahead\r\n", 0 },
		{ 'C', TLS_CH, sizeof(TLS_CH) - 1 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_SMTP, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 1, "smtp starttls_request C \"STARTTLS\"");
	expect(&r, 2, "smtp caps S starttls=1 n=1/1 [STARTTLS]");
	expect(&r, 3, "smtp starttls_reply S code=220 ok=1 \"go ahead\"");
	expect(&r, 4, "smtp tls C record=0");
	assert_true(r.last[4].anomalies & DEC_LINES_A_PIPELINED);
	assert_true(r.last[4].anomalies & DEC_LINES_A_INJECTED);
}

static void test_smtp_short_tls_and_fin(void **st)
{
	(void)st;
	/* one byte of the record header: wait; at FIN judge what there is */
	static const struct step s[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "STARTTLS\r\n", 0 },
		{ 'S', "220 go\r\n", 0 },
		{ 'C', "\x16", 1 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_SMTP, s, NS(s), &r));
	expect_n(&r, 4);
	expect(&r, 3, "smtp tls C record=0");
	/* accepted, then the client closes without a byte */
	static const struct step e[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "STARTTLS\r\n", 0 },
		{ 'S', "220 go\r\n", 0 },
	};
	assert_true(run(&c, LINES_P_SMTP, e, NS(e), &r));
	expect_n(&r, 3);
}

static void test_smtp_not_proto(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "HTTP/1.1 400 Bad Request\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_SMTP, s, NS(s), &r));
	expect_n(&r, 0);
	assert_true(c.anomalies & DEC_LINES_A_NOT_PROTO);
	/* a reply line without its code in the middle of a list: the list is dropped */
	static const struct step m[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\nSTARTTLS\r\n", 0 },
	};
	run(&c, LINES_P_SMTP, m, NS(m), &r);
	expect_n(&r, 1);
}

static void test_smtp_missed_greeting_helo(void **st)
{
	(void)st;
	/* the capture starts after the banner; HELO gets no list */
	static const struct step s[] = {
		{ 'C', "HELO c\r\n", 0 },
		{ 'S', "250 mx\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250 mx\r\n", 0 },
		{ 'C', "STARTTLS\r\n", 0 },
		{ 'S', "502 5.5.1 unrecognized\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_SMTP, s, NS(s), &r);
	expect_n(&r, 3);
	expect(&r, 0, "smtp caps S starttls=0 n=0/0 []");
	expect(&r, 2, "smtp starttls_reply S code=502 ok=0 \"5.5.1 unrecognized\"");
}

static void test_smtp_caps_cap_and_fifo(void **st)
{
	(void)st;
	static char big[8192];
	size_t o = (size_t)snprintf(big, sizeof(big), "250-mx\r\n");
	for (int i = 0; i < DEC_LINES_MAX_CAPS + 8; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "250-EXT%d\r\n", i);
	snprintf(big + o, sizeof(big) - o, "250 STARTTLS\r\n");
	struct step s[] = { { 'S', "220 mx\r\n", 0 }, { 'C', "EHLO c\r\n", 0 }, { 'S', big, 0 } };
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_SMTP, s, NS(s), &r);
	expect_n(&r, 2);
	assert_int_equal(r.last[1].ncaps, DEC_LINES_MAX_CAPS);
	assert_int_equal(r.last[1].caps_total, DEC_LINES_MAX_CAPS + 9);
	assert_true(r.last[1].has_starttls); /* judged even past the kept ones */
	assert_true(r.last[1].anomalies & DEC_LINES_A_CAPS_CUT);
	/* more pipelined commands than the FIFO holds: the conversation stops */
	static char many[4096];
	o = 0;
	for (int i = 0; i < DEC_LINES_PENDING + 1; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "NOOP\r\n");
	struct step f[] = { { 'S', "220 mx\r\n", 0 }, { 'C', many, 0 } };
	assert_true(run(&c, LINES_P_SMTP, f, NS(f), &r));
	assert_true(c.anomalies & DEC_LINES_A_FIFO_FULL);
}

/* ---- hostile lines ---- */

static void test_long_line_nul_bare_lf(void **st)
{
	(void)st;
	static char huge[100 * 1024 + 64];
	memset(huge, 'A', sizeof(huge));
	memcpy(huge, "250-", 4);
	memcpy(huge + sizeof(huge) - 2, "\r\n", 2);
	struct step s[] = {
		{ 'S', "220 mx\n", 0 }, /* bare LF */
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', huge, sizeof(huge) },
	};
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_SMTP, s, NS(s), &r);
	expect_n(&r, 1); /* the greeting; the list never finishes within the budget */
	assert_true(c.anomalies & DEC_LINES_A_LONG);
	assert_true(c.anomalies & DEC_LINES_A_BARE_LF);
	/* an overlong line is skipped to its LF and reading resumes after it */
	static char mid[3 * DEC_LINES_LINE_MAX];
	memset(mid, 'B', sizeof(mid));
	memcpy(mid + sizeof(mid) - 2, "\r\n", 2);
	struct step t[] = {
		{ 'S', "220 mx\r\n", 0 }, { 'C', mid, sizeof(mid) }, { 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250 ST\0RTTLS\r\n", 23 },
	};
	run(&c, LINES_P_SMTP, t, NS(t), &r);
	expect_n(&r, 2);
	expect(&r, 1, "smtp caps S starttls=0 n=1/1 [ST?RTTLS]");
	assert_true(c.anomalies & DEC_LINES_A_LONG);
	assert_true(c.anomalies & DEC_LINES_A_NUL);
	/* the same split in every way */
	for (size_t split = 1; split < 64; split += 7) {
		struct rec q;
		run_split(&c, LINES_P_SMTP, t, NS(t), split, &q);
		assert_int_equal(q.n, 2);
		assert_string_equal(q.ev[1], r.ev[1]);
	}
}

static void test_no_eol_and_budget(void **st)
{
	(void)st;
	/* the last line without CRLF is read at FIN */
	static const struct step s[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250 STARTTLS", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_SMTP, s, NS(s), &r));
	expect_n(&r, 2);
	assert_true(r.last[1].has_starttls);
	assert_true(r.last[1].anomalies & DEC_LINES_A_NO_EOL);
	/* the line budget of a direction */
	static char lots[(DEC_LINES_MAX_LINES + 10) * 6 + 1];
	size_t o = 0;
	for (int i = 0; i < DEC_LINES_MAX_LINES + 10; i++)
		o += (size_t)snprintf(lots + o, sizeof(lots) - o, "200-x\n");
	struct step b[] = { { 'S', "220 mx\r\n", 0 }, { 'C', "NOOP\r\n", 0 }, { 'S', lots, 0 } };
	dec_lines_init(&c, LINES_P_SMTP);
	run(&c, LINES_P_SMTP, b, NS(b), &r);
	assert_true(c.anomalies & DEC_LINES_A_LIMIT);
	assert_true(c.d[1].stop);
}

static void test_truncations(void **st)
{
	(void)st;
	/* every prefix of every direction, ended at every length: no event outside the
	 * full run's, no crash (ASan) */
	static const struct step *scripts[] = { smtp_ok };
	struct dec_lines_conv c;
	struct rec whole, r;
	run(&c, LINES_P_SMTP, scripts[0], NS(smtp_ok), &whole);
	for (size_t cut = 0; cut < NS(smtp_ok); cut++) {
		const struct step *st0 = &smtp_ok[cut];
		size_t n = st0->n ? st0->n : strlen(st0->b);
		for (size_t k = 0; k <= n; k++) {
			struct step t[NS(smtp_ok)];
			memcpy(t, smtp_ok, sizeof(t));
			t[cut].n = k ? k : 0;
			if (!k)
				t[cut].b = "";
			run(&c, LINES_P_SMTP, t, cut + 1, &r);
			assert_true(r.n <= whole.n);
			for (int i = 0; i < r.n - 1; i++)
				assert_string_equal(r.ev[i], whole.ev[i]);
		}
	}
}

/* ---- IMAP ---- */

static void test_imap_starttls(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n", 0 },
		{ 'C', "a1 CAPABILITY\r\n", 0 },
		{ 'S', "* CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN\r\na1 OK done\r\n", 0 },
		{ 'C', "a2 STARTTLS\r\n", 0 },
		{ 'S', "a2 OK Begin TLS negotiation now\r\n", 0 },
		{ 'C', TLS_CH, sizeof(TLS_CH) - 1 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_IMAP, s, NS(s), &r));
	expect_n(&r, 6);
	expect(&r, 0, "imap greeting S ok=1 \"OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\"");
	expect(&r, 1, "imap caps S starttls=1 n=3/3 [IMAP4rev1|STARTTLS|LOGINDISABLED]");
	expect(&r, 2, "imap caps S starttls=1 n=4/4 [IMAP4rev1|SASL-IR|STARTTLS|AUTH=PLAIN]");
	expect(&r, 3, "imap starttls_request C \"a2 STARTTLS\"");
	expect(&r, 4, "imap starttls_reply S ok=1 \"Begin TLS negotiation now\"");
	expect(&r, 5, "imap tls C record=1");
}

static void test_imap_refused_login(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "* OK IMAP ready\r\n", 0 },
		{ 'C', "a1 STARTTLS\r\n", 0 },
		{ 'S', "* OK noise\r\nzz OK wrong tag\r\na1 NO TLS unavailable\r\n", 0 },
		{ 'C', "a2 LOGIN \"al\\\"ice\" \"secret\"\r\n", 0 },
		{ 'S', "a2 OK [CAPABILITY IMAP4rev1] Logged in\r\n", 0 },
		{ 'C', "a3 CAPABILITY\r\n", 0 },
		{ 'S', "* CAPABILITY IMAP4rev1 IDLE\r\na3 OK\r\n", 0 },
		{ 'C', "a4 SELECT INBOX\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_IMAP, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 2, "imap starttls_reply S ok=0 \"TLS unavailable\"");
	expect(&r, 3, "imap credentials C mech=IMAP-LOGIN clear=1 anon=0 user=7");
	expect(&r, 4, "imap caps S starttls=0 n=2/2 [IMAP4rev1|IDLE] after_auth");
}

static void test_imap_literal_and_authenticate(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "* OK ready\r\n", 0 },
		{ 'C', "a1 LOGIN {5}\r\n", 0 },
		{ 'S', "+ go ahead\r\n", 0 },
		{ 'C', "alice {6}\r\n", 0 },
		{ 'S', "+ go ahead\r\n", 0 },
		{ 'C', "STARTT\r\n", 0 }, /* the literal password bytes: never a command */
		{ 'S', "a1 NO bad\r\n", 0 },
		{ 'C', "a2 AUTHENTICATE PLAIN\r\n", 0 },
		{ 'S', "+ \r\n", 0 },
		{ 'C', "YWRtaW4AYm9iAHB3\r\n", 0 }, /* admin\0bob\0pw */
		{ 'S', "a2 OK\r\n", 0 },
		{ 'C', "a3 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n", 0 },
		{ 'C', "a4 LOGIN {99999999}\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	run(&c, LINES_P_IMAP, s, NS(s), &r);
	expect_n(&r, 4);
	expect(&r, 1, "imap credentials C mech=IMAP-LOGIN clear=1 anon=0 user=5");
	expect(&r, 2, "imap credentials C mech=PLAIN clear=1 anon=0 user=3 after_auth");
	expect(&r, 3, "imap credentials C mech=PLAIN clear=1 anon=0 user=5 after_auth");
}

static void test_imap_not_proto_bye_missed(void **st)
{
	(void)st;
	struct dec_lines_conv c;
	struct rec r;
	static const struct step a[] = { { 'S', "+OK pop3\r\n", 0 } };
	assert_true(run(&c, LINES_P_IMAP, a, NS(a), &r));
	assert_true(c.anomalies & DEC_LINES_A_NOT_PROTO);
	static const struct step b[] = { { 'S', "* BYE too busy\r\n", 0 } };
	run(&c, LINES_P_IMAP, b, NS(b), &r);
	expect(&r, 0, "imap greeting S ok=0 \"BYE too busy\"");
	/* capture started after the banner: the client spoke, the server answers */
	static const struct step m[] = {
		{ 'C', "x CAPABILITY\r\n", 0 },
		{ 'S', "* CAPABILITY IMAP4rev1 STARTTLS\r\nx OK\r\n", 0 },
	};
	run(&c, LINES_P_IMAP, m, NS(m), &r);
	expect_n(&r, 1);
	expect(&r, 0, "imap caps S starttls=1 n=2/2 [IMAP4rev1|STARTTLS]");
}

/* ---- POP3 ---- */

static void test_pop3(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "+OK POP3 ready <1.2@host>\r\n", 0 },
		{ 'C', "CAPA\r\n", 0 },
		{ 'S', "+OK list follows\r\nTOP\r\nUSER\r\nSASL PLAIN\r\n..odd\r\nSTLS\r\n.\r\n", 0 },
		{ 'C', "STLS\r\n", 0 },
		{ 'S', "+OK Begin TLS\r\n", 0 },
		{ 'C', TLS_CH, sizeof(TLS_CH) - 1 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_POP3, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 0, "pop3 greeting S ok=1 \"POP3 ready <1.2@host>\"");
	expect(&r, 1, "pop3 caps S starttls=1 n=5/5 [TOP|USER|SASL PLAIN|.odd|STLS]");
	expect(&r, 3, "pop3 starttls_reply S ok=1 \"Begin TLS\"");
}

static void test_pop3_refused_user_pass(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "+OK ready\r\n", 0 },
		{ 'C', "STLS\r\n", 0 },
		{ 'S', "-ERR not now\r\n", 0 },
		{ 'C', "AUTH\r\n", 0 },
		{ 'S', "+OK\r\nPLAIN\r\n.\r\n", 0 },
		{ 'C', "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", 0 },
		{ 'S', "-ERR no\r\n", 0 },
		{ 'C', "AUTH PLAIN\r\n", 0 },
		{ 'S', "+ \r\n", 0 },
		{ 'C', "AGFsaWNlAHNlY3JldA==\r\n", 0 },
		{ 'S', "-ERR no\r\n", 0 },
		{ 'C', "USER alice\r\nPASS secret\r\n", 0 },
		{ 'S', "+OK\r\n+OK\r\n", 0 },
		{ 'C', "STAT\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_POP3, s, NS(s), &r));
	expect_n(&r, 6);
	expect(&r, 2, "pop3 starttls_reply S ok=0 \"not now\"");
	expect(&r, 3, "pop3 credentials C mech=APOP clear=0 anon=0 user=5");
	expect(&r, 4, "pop3 credentials C mech=PLAIN clear=1 anon=0 user=5 after_auth");
	expect(&r, 5, "pop3 credentials C mech=USER clear=1 anon=0 user=5 after_auth");
	static const struct step n[] = { { 'S', "220 smtp\r\n", 0 } };
	assert_true(run(&c, LINES_P_POP3, n, NS(n), &r));
	assert_true(c.anomalies & DEC_LINES_A_NOT_PROTO);
	/* capture started after the banner */
	static const struct step m[] = { { 'C', "CAPA\r\n", 0 }, { 'S', "+OK\r\nUSER\r\n.\r\n", 0 } };
	run(&c, LINES_P_POP3, m, NS(m), &r);
	expect_n(&r, 1);
	expect(&r, 0, "pop3 caps S starttls=0 n=1/1 [USER]");
}

/* ---- FTP ---- */

static void test_ftp(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "120 wait\r\n220-Welcome\r\n220-second line\r\n220 ready\r\n", 0 },
		{ 'C', "FEAT\r\n", 0 },
		{ 'S', "211-Features:\r\n AUTH TLS;TLS-C\r\n PBSZ\r\n MDTM\r\n211 End\r\n", 0 },
		{ 'C', "AUTH TLS\r\n", 0 },
		{ 'S', "234 Proceed with negotiation.\r\n", 0 },
		{ 'C', TLS_CH, sizeof(TLS_CH) - 1 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_FTP, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 0, "ftp greeting S code=220 ok=1 \"Welcome\"");
	expect(&r, 1, "ftp caps S starttls=1 n=3/3 [AUTH TLS;TLS-C|PBSZ|MDTM]");
	expect(&r, 3, "ftp starttls_reply S code=234 ok=1 \"Proceed with negotiation.\"");
}

static void test_ftp_refused_user(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', "220 ftp\r\n", 0 },
		{ 'C', "AUTH GSSAPI\r\n", 0 },
		{ 'S', "504 no\r\n", 0 },
		{ 'C', "AUTH SSL\r\n", 0 },
		{ 'S', "534 Policy requires SSL\r\n", 0 },
		{ 'C', "USER anonymous\r\n", 0 },
		{ 'S', "331 ok\r\n", 0 },
		{ 'C', "USER bob\r\nPASS pw\r\n", 0 },
		{ 'S', "331 ok\r\n230 in\r\n", 0 },
		{ 'C', "PASV\r\n", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_FTP, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 1, "ftp starttls_request C \"AUTH SSL\"");
	expect(&r, 2, "ftp starttls_reply S code=534 ok=0 \"Policy requires SSL\"");
	expect(&r, 3, "ftp credentials C mech=USER clear=1 anon=1 user=9");
	expect(&r, 4, "ftp credentials C mech=USER clear=1 anon=0 user=3 after_auth");
}

/* ---- XMPP ---- */

static const char xmpp_srv_head[] =
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams' id='1' from='example.org' version='1.0'>";

static void test_xmpp(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'C', "<?xml version='1.0'?><stream:stream to='example.org' xmlns='jabber:client' "
		       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", 0 },
		{ 'S', xmpp_srv_head, 0 },
		{ 'S', "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
		       "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
		       "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>", 0 },
		{ 'C', "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0 },
		{ 'S', "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0 },
		{ 'C', TLS_CH, sizeof(TLS_CH) - 1 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_XMPP, s, NS(s), &r));
	expect_n(&r, 5);
	expect(&r, 1, "xmpp caps S starttls=1 n=4/4 [starttls|mechanisms|SASL PLAIN|SASL SCRAM-SHA-1]");
	expect(&r, 2, "xmpp starttls_request C \"starttls\"");
	expect(&r, 3, "xmpp starttls_reply S ok=1 \"proceed\"");
	expect(&r, 4, "xmpp tls C record=1");
	/* the same in every split */
	for (size_t split = 1; split < 30; split += 3) {
		struct rec q;
		run_split(&c, LINES_P_XMPP, s, NS(s), split, &q);
		assert_int_equal(q.n, r.n);
		for (int i = 0; i < r.n; i++)
			assert_string_equal(q.ev[i], r.ev[i]);
	}
}

static void test_xmpp_failure_auth(void **st)
{
	(void)st;
	static const struct step s[] = {
		{ 'S', xmpp_srv_head, 0 },
		{ 'S', "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
		       "<mechanism>PLAIN</mechanism></mechanisms></stream:features>", 0 },
		{ 'C', "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0 },
		{ 'S', "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0 },
		{ 'C', "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism=\"PLAIN\">AGFsaWNlAHNlY3JldA==</auth>", 0 },
		{ 'S', "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", 0 },
		{ 'S', xmpp_srv_head, 0 },
		{ 'S', "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>", 0 },
		{ 'C', "<iq type='set' id='1'><query xmlns='jabber:iq:auth'><username>bob</username>"
		       "<password>pw</password></query></iq>", 0 },
		{ 'C', "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-OAUTH2'/>", 0 },
		{ 'C', "<presence/>", 0 },
	};
	struct dec_lines_conv c;
	struct rec r;
	assert_true(run(&c, LINES_P_XMPP, s, NS(s), &r));
	expect_n(&r, 7);
	expect(&r, 1, "xmpp caps S starttls=0 n=2/2 [mechanisms|SASL PLAIN]");
	expect(&r, 3, "xmpp starttls_reply S ok=0 \"failure\"");
	expect(&r, 4, "xmpp credentials C mech=PLAIN clear=1 anon=0 user=5");
	expect(&r, 5, "xmpp credentials C mech=IQ-AUTH clear=1 anon=0 user=3 after_auth");
	expect(&r, 6, "xmpp credentials C mech=X-OAUTH2 clear=0 anon=0 user=0 after_auth");
}

static void test_xmpp_hostile(void **st)
{
	(void)st;
	struct dec_lines_conv c;
	struct rec r;
	static const struct step np[] = { { 'S', "<html>", 0 } };
	assert_true(run(&c, LINES_P_XMPP, np, NS(np), &r));
	assert_true(c.anomalies & DEC_LINES_A_NOT_PROTO);
	/* a tag without '>' longer than a line: the direction stops */
	static char big[DEC_LINES_LINE_MAX + 100];
	memset(big, 'a', sizeof(big));
	big[0] = '<';
	struct step lt[] = { { 'S', xmpp_srv_head, 0 }, { 'S', big, sizeof(big) } };
	run(&c, LINES_P_XMPP, lt, NS(lt), &r);
	assert_true(c.anomalies & DEC_LINES_A_LONG);
	assert_true(c.d[1].stop);
	/* self-closing features, a cut tag and an auth without text at FIN */
	static const struct step sc[] = {
		{ 'S', xmpp_srv_head, 0 },
		{ 'S', "<stream:features/>", 0 },
		{ 'C', "<auth mechanism='PLAIN'></auth><", 0 },
	};
	run(&c, LINES_P_XMPP, sc, NS(sc), &r);
	expect_n(&r, 3);
	expect(&r, 1, "xmpp caps S starttls=0 n=0/0 []");
	expect(&r, 2, "xmpp credentials C mech=PLAIN clear=1 anon=0 user=0");
}

/* ---- the stream consumer ---- */

static void mk_flow(struct flow *f, uint16_t cport, uint16_t sport)
{
	memset(f, 0, sizeof(*f));
	f->key.family = 4;
	f->key.proto = 6;
	f->key.a[0] = 192;
	f->key.b[0] = 203;
	f->key.pa = cport;
	f->key.pb = sport;
	f->init_is_a = 1;
}

static void test_app_consumer(void **st)
{
	(void)st;
	struct flow f;
	mk_flow(&f, 40000, 25);
	assert_true(app_lines.wants(&f, 25));
	assert_false(app_lines.wants(&f, 443));
	mk_flow(&f, 40000, 8080);
	assert_false(app_lines.wants(&f, 8080));
	mk_flow(&f, 143, 40000); /* mid-stream, initiator backwards */
	assert_true(app_lines.wants(&f, 40000));

	/* the SMTP transcript across every split: MORE until TLS, then DONE, with every
	 * event dispatched once */
	static int fake_registry;
	struct ev_meta meta;
	memset(&meta, 0, sizeof(meta));
	stub_tls_wants = 0; /* TLS after STARTTLS: test_app_tls_after_starttls */
	for (size_t split = 1; split <= 64; split++) {
		mk_flow(&f, 40000, 25);
		uint64_t bad = 0;
		struct app_ctx ctx = { (struct det_registry *)&fake_registry, NULL, &meta, &bad };
		stub_events = 0;
		void *state = NULL;
		size_t len[2] = { 0, 0 };
		enum app_verdict v = APP_MORE;
		for (size_t i = 0; i < NS(smtp_ok) && v == APP_MORE; i++) {
			int d = smtp_ok[i].dir == 'S' ? FLOW_DIR_REPLY : FLOW_DIR_ORIG;
			size_t n = smtp_ok[i].n ? smtp_ok[i].n : strlen(smtp_ok[i].b);
			for (size_t o = 0; o < n && v == APP_MORE; o += split) {
				size_t k = split < n - o ? split : n - o;
				memcpy(dbuf[d] + len[d], smtp_ok[i].b + o, k);
				len[d] += k;
				v = app_lines.on_data(&ctx, &state, &f, d, dbuf[d], len[d], 0);
			}
		}
		assert_int_equal(v, APP_DONE);
		assert_int_equal(bad, 0);
		assert_int_equal(stub_events, 5);
		assert_int_equal(stub_last_kind, STLS_TLS);
		assert_false(stub_last_from_server);
		app_lines.free_state(state);
	}
	/* no detector wants the events: the consumer lets go at once */
	{
		mk_flow(&f, 40000, 25);
		struct app_ctx ctx = { (struct det_registry *)&fake_registry, NULL, &meta, NULL };
		void *state = NULL;
		stub_wants = 0;
		assert_int_equal(app_lines.on_data(&ctx, &state, &f, FLOW_DIR_REPLY, (const uint8_t *)"220 x\r\n", 7, 0),
				 APP_DONE);
		assert_null(state);
		stub_wants = 1;
	}
	/* not the protocol: DONE at once, counted */
	mk_flow(&f, 40000, 110);
	uint64_t bad = 0;
	struct app_ctx ctx = { NULL, NULL, NULL, &bad };
	void *state = NULL;
	assert_int_equal(app_lines.on_data(&ctx, &state, &f, FLOW_DIR_REPLY, (const uint8_t *)"SSH-2.0-x\r\n", 11, 0),
			 APP_DONE);
	assert_int_equal(bad, 1);
	app_lines.free_state(state);
	/* FIN on both sides ends it */
	state = NULL;
	mk_flow(&f, 40000, 21);
	assert_int_equal(app_lines.on_data(&ctx, &state, &f, FLOW_DIR_REPLY, (const uint8_t *)"220 ftp\r\n", 9, 0),
			 APP_MORE);
	assert_int_equal(app_lines.on_data(&ctx, &state, &f, FLOW_DIR_ORIG, (const uint8_t *)"", 0, STREAM_F_FIN),
			 APP_MORE);
	assert_int_equal(app_lines.on_data(&ctx, &state, &f, FLOW_DIR_REPLY, (const uint8_t *)"220 ftp\r\n", 9,
					   STREAM_F_FIN),
			 APP_DONE);
	app_lines.free_state(state);
	/* names */
	assert_string_equal(dec_lines_proto_name(LINES_P_XMPP), "xmpp");
	assert_string_equal(dec_lines_proto_name(99), "none");
	assert_string_equal(dec_lines_kind_name(STLS_TLS), "tls");
	assert_string_equal(dec_lines_kind_name(-1), "none");
	assert_int_equal(dec_lines_proto_for_port(587), LINES_P_SMTP);
	assert_int_equal(dec_lines_proto_for_port(5269), LINES_P_XMPP);
	assert_int_equal(dec_lines_proto_for_port(80), LINES_P_NONE);
	stub_tls_wants = 1;
}

/* A minimal TLS 1.2 ClientHello record: version 0x0303, 32-byte random, no session id,
 * one suite (TLS_AES_128_GCM_SHA256... 0x002f here), null compression, no extensions. */
static size_t mk_client_hello(uint8_t *b)
{
	size_t n = 0;
	static const uint8_t head[] = { 0x16, 0x03, 0x01, 0x00, 0x2d, /* record, 45 bytes */
					0x01, 0x00, 0x00, 0x29,       /* ClientHello, 41 */
					0x03, 0x03 };                 /* TLS 1.2 */
	memcpy(b, head, sizeof(head));
	n = sizeof(head);
	for (int i = 0; i < 32; i++)
		b[n++] = (uint8_t)i;                          /* random */
	static const uint8_t tail[] = { 0x00,                 /* session id */
					0x00, 0x02, 0x00, 0x2f,       /* suites */
					0x01, 0x00 };                 /* compression */
	memcpy(b + n, tail, sizeof(tail));
	return n + sizeof(tail);
}

/* ServerHello (same shape, suite 0x002f) and ServerHelloDone in one record. */
static size_t mk_server_hello(uint8_t *b)
{
	size_t n = 0;
	static const uint8_t head[] = { 0x16, 0x03, 0x03, 0x00, 0x2e, /* record, 46 bytes */
					0x02, 0x00, 0x00, 0x26,       /* ServerHello, 38 */
					0x03, 0x03 };
	memcpy(b, head, sizeof(head));
	n = sizeof(head);
	for (int i = 0; i < 32; i++)
		b[n++] = (uint8_t)(0x80 + i);
	static const uint8_t tail[] = { 0x00, 0x00, 0x2f, 0x00,       /* sid, suite, compression */
					0x0e, 0x00, 0x00, 0x00 };     /* ServerHelloDone */
	memcpy(b + n, tail, sizeof(tail));
	return n + sizeof(tail);
}

static void test_app_tls_after_starttls(void **st)
{
	(void)st;
	static int fake_registry;
	struct ev_meta meta;
	memset(&meta, 0, sizeof(meta));
	uint8_t ch[64], sh[64];
	size_t chl = mk_client_hello(ch), shl = mk_server_hello(sh);
	const struct step s[] = {
		{ 'S', "220 mx\r\n", 0 },
		{ 'C', "EHLO c\r\n", 0 },
		{ 'S', "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 'C', "STARTTLS\r\n", 0 },
		{ 'S', "220 go ahead\r\n", 0 },
		{ 'C', (const char *)ch, chl },
		{ 'S', (const char *)sh, shl },
	};
	for (int wants = 0; wants < 2; wants++) {
		for (size_t split = 1; split <= 100; split += wants ? 3 : 50) {
			struct flow f;
			mk_flow(&f, 40000, 587);
			struct app_ctx ctx = { (struct det_registry *)&fake_registry, NULL, &meta, NULL };
			void *state = NULL;
			size_t len[2] = { 0, 0 };
			enum app_verdict v = APP_MORE;
			stub_tls_wants = wants;
			stub_tls_events = stub_tls_hellos = stub_events = 0;
			size_t i = 0;
			for (; i < NS(s) && v == APP_MORE; i++) {
				int d = s[i].dir == 'S' ? FLOW_DIR_REPLY : FLOW_DIR_ORIG;
				size_t n = s[i].n ? s[i].n : strlen(s[i].b);
				for (size_t o = 0; o < n && v == APP_MORE; o += split) {
					size_t k = split < n - o ? split : n - o;
					memcpy(dbuf[d] + len[d], s[i].b + o, k);
					len[d] += k;
					v = app_lines.on_data(&ctx, &state, &f, d, dbuf[d], len[d], 0);
				}
			}
			assert_int_equal(v, APP_DONE);
			assert_int_equal(stub_events, 5);
			if (wants) {
				/* followed to the ServerHelloDone */
				assert_int_equal(i, NS(s));
				assert_int_equal(stub_tls_hellos, 3);
			} else {
				/* nobody wants TLS: released at the client's first TLS bytes */
				assert_int_equal(stub_tls_events, 0);
				assert_int_equal(i, NS(s) - 1);
			}
			app_lines.free_state(state);
		}
	}
	stub_tls_wants = 1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_starttls),
		cmocka_unit_test(test_smtp_every_split),
		cmocka_unit_test(test_smtp_refused_then_plain),
		cmocka_unit_test(test_smtp_stripped_auth_login),
		cmocka_unit_test(test_smtp_auth_cancel_and_cram),
		cmocka_unit_test(test_smtp_masked),
		cmocka_unit_test(test_smtp_pipelined_and_injection),
		cmocka_unit_test(test_smtp_short_tls_and_fin),
		cmocka_unit_test(test_smtp_not_proto),
		cmocka_unit_test(test_smtp_missed_greeting_helo),
		cmocka_unit_test(test_smtp_caps_cap_and_fifo),
		cmocka_unit_test(test_long_line_nul_bare_lf),
		cmocka_unit_test(test_no_eol_and_budget),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_imap_starttls),
		cmocka_unit_test(test_imap_refused_login),
		cmocka_unit_test(test_imap_literal_and_authenticate),
		cmocka_unit_test(test_imap_not_proto_bye_missed),
		cmocka_unit_test(test_pop3),
		cmocka_unit_test(test_pop3_refused_user_pass),
		cmocka_unit_test(test_ftp),
		cmocka_unit_test(test_ftp_refused_user),
		cmocka_unit_test(test_xmpp),
		cmocka_unit_test(test_xmpp_failure_auth),
		cmocka_unit_test(test_xmpp_hostile),
		cmocka_unit_test(test_app_consumer),
		cmocka_unit_test(test_app_tls_after_starttls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
