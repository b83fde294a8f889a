/* test_det_starttls.c - the starttls detector (stripped capabilities, inspection
 * artifacts, refused STARTTLS, credentials in clear after either) judged with
 * hand-built events: each alert on its case and silence on its benign twin, baselines
 * saved and reloaded, configuration refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode/lines.h"
#include "detfix.h"

#define TS 1700000000000000ull
#define SEC 1000000ull

static void meta(struct ev_meta *m, uint64_t ts, bool from_server, uint16_t sport, uint16_t cport)
{
	memset(m, 0, sizeof(*m));
	uint8_t s4[4] = { 203, 0, 113, 5 }, c4[4] = { 192, 0, 2, 9 };
	m->ts_us = ts;
	util_addr_set4(from_server ? &m->src : &m->dst, s4);
	util_addr_set4(from_server ? &m->dst : &m->src, c4);
	m->sport = from_server ? sport : cport;
	m->dport = from_server ? cport : sport;
	m->proto = 6;
	m->community_id = "";
}

static void send_msg(struct detfix *f, uint64_t ts, uint16_t sport, uint16_t cport, const struct starttls_msg *msg)
{
	struct starttls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, ts, msg->from_server, sport, cport);
	ev.msg = msg;
	det_dispatch_starttls(f->reg, &ev, f->ap);
}

static void base(struct starttls_msg *m, int proto, int kind, bool from_server)
{
	memset(m, 0, sizeof(*m));
	m->proto = (uint8_t)proto;
	m->kind = (uint8_t)kind;
	m->from_server = from_server;
}

/* A capability list: names separated by spaces. */
static void caps(struct detfix *f, uint64_t ts, int proto, uint16_t sport, uint16_t cport, const char *list,
		 bool after_auth)
{
	struct starttls_msg m;
	base(&m, proto, STLS_CAPS, true);
	m.after_auth = after_auth;
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", list);
	for (char *save = NULL, *t = strtok_r(tmp, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		snprintf(m.caps[m.ncaps++], DEC_LINES_CAP_MAX, "%s", t);
		m.caps_total++;
		if (!strcmp(t, "STARTTLS") || !strcmp(t, "STLS") || !strcmp(t, "starttls") || !strcmp(t, "AUTH-TLS"))
			m.has_starttls = true;
		if (!strcmp(t, "XXXXXXXA")) {
			m.masked = true;
			snprintf(m.masked_cap, sizeof(m.masked_cap), "%s", t);
		}
	}
	send_msg(f, ts, sport, cport, &m);
}

static void reply(struct detfix *f, uint64_t ts, int proto, uint16_t sport, uint16_t cport, bool ok, uint16_t code,
		  const char *text)
{
	struct starttls_msg m;
	base(&m, proto, STLS_REPLY, true);
	m.accepted = ok;
	m.code = code;
	m.text_len = (uint16_t)snprintf(m.text, sizeof(m.text), "%s", text);
	send_msg(f, ts, sport, cport, &m);
}

static void creds(struct detfix *f, uint64_t ts, int proto, uint16_t sport, uint16_t cport, const char *mech,
		  bool clear, bool anon)
{
	struct starttls_msg m;
	base(&m, proto, STLS_CREDS, false);
	snprintf(m.mech, sizeof(m.mech), "%s", mech);
	m.cleartext = clear;
	m.anonymous = anon;
	m.user_len = 5;
	send_msg(f, ts, sport, cport, &m);
}

static const char *ev_path_str(json_t *a, const char *path)
{
	char p[128];
	snprintf(p, sizeof(p), "onpath.evidence.%s", path);
	return detfix_str(a, p);
}

static json_int_t ev_path_int(json_t *a, const char *path)
{
	char p[128];
	snprintf(p, sizeof(p), "onpath.evidence.%s", path);
	return detfix_int(a, p);
}

#define SMTP_OK "SIZE 10240000 8BITMIME STARTTLS PIPELINING"
#define SMTP_STRIPPED "SIZE 10240000 8BITMIME PIPELINING"

static void test_stripped_and_creds(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 3600);
	caps(f, TS, LINES_P_SMTP, 25, 40001, SMTP_OK, false);
	reply(f, TS + 1, LINES_P_SMTP, 25, 40001, true, 220, "Ready");
	caps(f, TS + SEC, LINES_P_SMTP, 25, 40002, SMTP_OK, false);
	/* credentials in clear on a session that was never stripped: the benign twin */
	creds(f, TS + SEC + 1, LINES_P_SMTP, 25, 40002, "PLAIN", true, false);
	json_t *arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	/* the third session: no STARTTLS, within the learning window (a change of a
	 * known server alerts at once) */
	caps(f, TS + 2 * SEC, LINES_P_SMTP, 25, 40003, SMTP_STRIPPED, false);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	json_t *a = detfix_need(arr, "starttls.stripped");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "medium");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "threat.technique.id"), 0)), "T1557");
	assert_string_equal(ev_path_str(a, "proto"), "smtp");
	assert_string_equal(ev_path_str(a, "server"), "[203.0.113.5]:25");
	assert_string_equal(ev_path_str(a, "client"), "[192.0.2.9]:40003");
	assert_string_equal(json_string_value(json_array_get(detfix_ev(a, "offered"), 0)), "SIZE");
	assert_int_equal(json_array_size(detfix_ev(a, "offered")), 4);
	assert_int_equal(ev_path_int(a, "baseline.sessions_with_starttls"), 2);
	assert_string_equal(ev_path_str(a, "baseline.capabilities"), SMTP_OK);
	assert_string_equal(ev_path_str(a, "client_action"), "none yet");
	assert_string_equal(detfix_str(a, "source.ip"), "203.0.113.5");
	json_decref(arr);

	/* anonymous or hashed credentials on the stripped session: nothing more */
	creds(f, TS + 2 * SEC + 1, LINES_P_SMTP, 25, 40003, "CRAM-MD5", false, false);
	creds(f, TS + 2 * SEC + 2, LINES_P_SMTP, 25, 40003, "USER", true, true);
	arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* the client sends its password in clear on it */
	creds(f, TS + 2 * SEC + 3, LINES_P_SMTP, 25, 40003, "PLAIN", true, false);
	creds(f, TS + 2 * SEC + 4, LINES_P_SMTP, 25, 40003, "LOGIN", true, false); /* once per session */
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	a = detfix_need(arr, "starttls.stripped");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "high");
	assert_string_equal(ev_path_str(a, "credentials.mechanism"), "PLAIN");
	assert_int_equal(ev_path_int(a, "credentials.user_len"), 5);
	assert_string_equal(ev_path_str(a, "client_action"), "sent credentials in clear");
	assert_string_equal(ev_path_str(a, "starttls"), "stripped");
	assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.9");
	json_decref(arr);
	detfix_close(f);
}

static void test_stripped_benign_twins(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	/* a server never seen, without STARTTLS: learnt, not judged */
	caps(f, TS, LINES_P_SMTP, 25, 40001, SMTP_STRIPPED, false);
	caps(f, TS + SEC, LINES_P_SMTP, 25, 40002, SMTP_STRIPPED, false);
	/* another port of the same host has its own baseline */
	caps(f, TS + 2 * SEC, LINES_P_SMTP, 587, 40003, SMTP_OK, false);
	caps(f, TS + 3 * SEC, LINES_P_SMTP, 25, 40004, SMTP_STRIPPED, false);
	/* after login the lists never carry STARTTLS */
	caps(f, TS + 4 * SEC, LINES_P_SMTP, 587, 40005, "AUTH PLAIN", true);
	/* the same keywords on IMAP and POP3 */
	caps(f, TS + 5 * SEC, LINES_P_IMAP, 143, 40006, "IMAP4rev1 STARTTLS", false);
	caps(f, TS + 6 * SEC, LINES_P_IMAP, 143, 40007, "IMAP4rev1 STARTTLS LOGINDISABLED", false);
	caps(f, TS + 7 * SEC, LINES_P_POP3, 110, 40008, "USER STLS", false);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* POP3 stripped: the mixed history of port 25 does not touch port 110 */
	caps(f, TS + 8 * SEC, LINES_P_POP3, 110, 40009, "USER TOP", false);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	assert_string_equal(ev_path_str(detfix_need(arr, "starttls.stripped"), "proto"), "pop3");
	json_decref(arr);
	detfix_close(f);
}

static void test_stripped_mixed_history(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	/* a pool where one member lacks STARTTLS: seen without, then with */
	caps(f, TS, LINES_P_IMAP, 143, 40001, "IMAP4rev1", false);
	caps(f, TS + SEC, LINES_P_IMAP, 143, 40002, "IMAP4rev1 STARTTLS", false);
	caps(f, TS + 2 * SEC, LINES_P_IMAP, 143, 40003, "IMAP4rev1", false);
	creds(f, TS + 2 * SEC + 1, LINES_P_IMAP, 143, 40003, "IMAP-LOGIN", true, false);
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 2);
	json_t *a = json_array_get(arr, 0);
	assert_int_equal(detfix_sev(a), 4);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "low");
	a = json_array_get(arr, 1);
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "medium");
	json_decref(arr);
	detfix_close(f);
}

/* An attack that strips session after session: every strip keeps the severity of the
 * first (its own earlier strips are not a "mixed pool"), and the evidence counts them. */
static void test_stripped_repeatedly(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	caps(f, TS, LINES_P_SMTP, 25, 40001, SMTP_OK, false);
	json_t *arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	for (unsigned i = 0; i < 3; i++) {
		/* 400 s apart: past the de-duplication window */
		caps(f, TS + (i + 1) * 400 * SEC, LINES_P_SMTP, 25, 40002 + i, SMTP_STRIPPED, false);
		arr = detfix_alerts_new(f);
		json_t *a = detfix_need(arr, "starttls.stripped");
		assert_int_equal(detfix_sev(a), 6);
		assert_string_equal(detfix_str(a, "onpath.confidence"), "medium");
		assert_int_equal(ev_path_int(a, "baseline.sessions_stripped"), i);
		assert_int_equal(ev_path_int(a, "baseline.sessions_without_starttls"), 0);
		json_decref(arr);
	}
	/* credentials on the third stripped session: high, not "mixed" */
	creds(f, TS + 3 * 400 * SEC + 1, LINES_P_SMTP, 25, 40004, "PLAIN", true, false);
	arr = detfix_alerts_new(f);
	json_t *a = detfix_need(arr, "starttls.stripped");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "high");
	json_decref(arr);
	detfix_close(f);
}

static void test_session_counted_once(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	/* IMAP lists its capabilities in the greeting and again on CAPABILITY: one session */
	caps(f, TS, LINES_P_IMAP, 143, 40001, "IMAP4rev1 STARTTLS", false);
	caps(f, TS + 1, LINES_P_IMAP, 143, 40001, "IMAP4rev1 STARTTLS AUTH=PLAIN", false);
	caps(f, TS + SEC, LINES_P_IMAP, 143, 40002, "IMAP4rev1", false);
	caps(f, TS + SEC + 1, LINES_P_IMAP, 143, 40002, "IMAP4rev1", false); /* judged once */
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	assert_int_equal(ev_path_int(detfix_need(arr, "starttls.stripped"), "baseline.sessions_with_starttls"), 1);
	json_decref(arr);
	/* a session whose greeting offered STARTTLS and whose CAPABILITY answer does not */
	detfix_reopen(f, NULL, NULL, 0);
	caps(f, TS, LINES_P_IMAP, 143, 40003, "IMAP4rev1 STARTTLS", false);
	caps(f, TS + 1, LINES_P_IMAP, 143, 40003, "IMAP4rev1", false);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	json_decref(arr);
	detfix_close(f);
}

static void test_min_sessions_and_forget(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, "detectors:\n  starttls:\n    min_sessions: 3\n", NULL, 0);
	caps(f, TS, LINES_P_SMTP, 25, 40001, SMTP_OK, false);
	caps(f, TS + SEC, LINES_P_SMTP, 25, 40002, SMTP_OK, false);
	caps(f, TS + 2 * SEC, LINES_P_SMTP, 25, 40003, SMTP_STRIPPED, false);
	json_t *arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	caps(f, TS + 3 * SEC, LINES_P_SMTP, 25, 40004, SMTP_OK, false);
	caps(f, TS + 4 * SEC, LINES_P_SMTP, 25, 40005, SMTP_STRIPPED, false);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	json_decref(arr);
	/* a server that stays without STARTTLS is relearnt */
	for (int i = 0; i < 120; i++)
		caps(f, TS + (uint64_t)(10 + i) * SEC, LINES_P_SMTP, 25, (uint16_t)(41000 + i), SMTP_STRIPPED, false);
	json_t *saved = det_registry_save(f->reg);
	json_t *srv = json_array_get(json_object_get(json_object_get(saved, "starttls"), "servers"), 0);
	assert_non_null(srv);
	assert_int_equal(json_integer_value(json_object_get(srv, "w")), 0);
	json_decref(saved);
	detfix_close(f);
}

static void test_inspection_artifact(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	caps(f, TS, LINES_P_SMTP, 25, 40001, SMTP_OK, false);
	/* benign twin: a list with X-prefixed extensions that are not masks */
	caps(f, TS + SEC, LINES_P_SMTP, 25, 40002, "XFORWARD XCLIENT STARTTLS", false);
	json_t *arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	caps(f, TS + 2 * SEC, LINES_P_SMTP, 25, 40003, "SIZE XXXXXXXA 8BITMIME", false);
	arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 1); /* the artifact, not also "stripped" */
	json_t *a = detfix_need(arr, "starttls.inspection_artifact");
	assert_int_equal(detfix_sev(a), 5);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "high");
	assert_string_equal(ev_path_str(a, "artifact"), "masked_ehlo_keyword");
	assert_string_equal(ev_path_str(a, "masked"), "XXXXXXXA");
	assert_int_equal(ev_path_int(a, "baseline.sessions_with_starttls"), 2);
	json_decref(arr);
	/* the masked banner */
	struct starttls_msg g;
	base(&g, LINES_P_SMTP, STLS_GREETING, true);
	g.code = 220;
	g.masked = true;
	g.text_len = (uint16_t)snprintf(g.text, sizeof(g.text), "%s", "*****************0*0*2****");
	send_msg(f, TS + 3 * SEC, 25, 40004, &g);
	/* its benign twin */
	g.masked = false;
	send_msg(f, TS + 4 * SEC, 25, 40005, &g);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.inspection_artifact", 1);
	a = detfix_need(arr, "starttls.inspection_artifact");
	assert_string_equal(ev_path_str(a, "artifact"), "masked_banner");
	assert_string_equal(ev_path_str(a, "banner"), "*****************0*0*2****");
	json_decref(arr);
	detfix_close(f);
}

static void test_refused(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	/* benign twin: a server never seen accepting refuses */
	reply(f, TS, LINES_P_SMTP, 587, 40000, false, 454, "TLS not available");
	reply(f, TS + 1, LINES_P_SMTP, 25, 40001, true, 220, "Ready");
	reply(f, TS + SEC, LINES_P_SMTP, 25, 40002, true, 220, "Ready");
	json_t *arr = detfix_alerts_new(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	reply(f, TS + 2 * SEC, LINES_P_SMTP, 25, 40003, false, 454, "4.7.0 TLS not available due to local problem");
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.refused", 1);
	json_t *a = detfix_need(arr, "starttls.refused");
	assert_int_equal(detfix_sev(a), 5);
	assert_int_equal(ev_path_int(a, "reply.code"), 454);
	assert_string_equal(ev_path_str(a, "reply.text"), "4.7.0 TLS not available due to local problem");
	assert_int_equal(ev_path_int(a, "baseline.starttls_accepted"), 2);
	assert_string_equal(ev_path_str(a, "client_action"), "STARTTLS");
	assert_string_equal(json_string_value(json_array_get(detfix_get(a, "threat.technique.id"), 0)), "T1562.010");
	json_decref(arr);
	/* the client falls back to clear */
	creds(f, TS + 2 * SEC + 5, LINES_P_SMTP, 25, 40003, "LOGIN", true, false);
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.refused", 1);
	a = detfix_need(arr, "starttls.refused");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(ev_path_str(a, "starttls"), "refused");
	json_decref(arr);
	/* refused again later: the earlier refusal was an alert, not a mixed pool */
	reply(f, TS + 400 * SEC, LINES_P_SMTP, 25, 40010, false, 454, "again");
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "starttls.refused");
	assert_int_equal(detfix_sev(a), 5);
	assert_int_equal(ev_path_int(a, "baseline.refusals_alerted"), 1);
	assert_int_equal(ev_path_int(a, "baseline.starttls_refused"), 0);
	json_decref(arr);
	/* a refusal the detector could not judge (a server never seen accepting, port
	 * 587 above) does make that server's pool mixed */
	reply(f, TS + 401 * SEC, LINES_P_SMTP, 587, 40020, true, 220, "Ready");
	reply(f, TS + 402 * SEC, LINES_P_SMTP, 587, 40021, false, 454, "again");
	arr = detfix_alerts_new(f);
	a = detfix_need(arr, "starttls.refused");
	assert_int_equal(detfix_sev(a), 3);
	assert_string_equal(detfix_str(a, "onpath.confidence"), "low");
	json_decref(arr);
	/* FTP and XMPP names */
	reply(f, TS + 500 * SEC, LINES_P_FTP, 21, 40011, true, 234, "ok");
	reply(f, TS + 501 * SEC, LINES_P_FTP, 21, 40012, false, 534, "no");
	reply(f, TS + 502 * SEC, LINES_P_XMPP, 5222, 40013, true, 0, "proceed");
	reply(f, TS + 503 * SEC, LINES_P_XMPP, 5222, 40014, false, 0, "failure");
	arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "starttls.refused", 2);
	assert_string_equal(ev_path_str(json_array_get(arr, 0), "client_action"), "AUTH TLS");
	assert_string_equal(ev_path_str(json_array_get(arr, 1), "client_action"), "<starttls/>");
	json_decref(arr);
	detfix_close(f);
}

static void test_save_load(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	caps(f, TS, LINES_P_XMPP, 5222, 40001, "starttls mechanisms", false);
	reply(f, TS + 1, LINES_P_XMPP, 5222, 40001, true, 0, "proceed");
	json_t *saved = det_registry_save(f->reg);
	assert_non_null(json_object_get(saved, "starttls"));
	/* a restart with the saved baseline and a learning window: still at once */
	detfix_reopen(f, NULL, saved, 3600);
	caps(f, TS + 10 * SEC, LINES_P_XMPP, 5222, 40002, "mechanisms", false);
	reply(f, TS + 11 * SEC, LINES_P_XMPP, 5222, 40003, false, 0, "failure");
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	DETFIX_EXPECT(arr, "starttls.refused", 1);
	json_decref(arr);
	json_decref(saved);
	/* without the saved state: nothing known, nothing said */
	detfix_reopen(f, NULL, NULL, 3600);
	caps(f, TS + 10 * SEC, LINES_P_XMPP, 5222, 40002, "mechanisms", false);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	detfix_close(f);
	/* a damaged section: the detector starts cold, the sensor starts */
	char err[256];
	json_t *bad = json_pack("{s:{s:i}}", "starttls", "version", 9);
	struct det_registry *r = det_registry_new_state(NULL, detfix_sigdir(), bad, 0, err, sizeof(err));
	assert_non_null(r);
	det_registry_free(r);
	json_decref(bad);
	/* odd records are skipped, good ones kept */
	json_t *odd = json_pack("{s:{s:i,s:[{s:i},{s:s,s:i,s:i,s:s}]}}", "starttls", "version", 1, "servers", "k", 5,
				"k", "[203.0.113.5]:25", "w", 3, "p", 99, "caps", "STARTTLS");
	detfix_open(f, NULL, odd, 0);
	caps(f, TS, LINES_P_SMTP, 25, 40001, SMTP_STRIPPED, false);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "starttls.stripped", 1);
	json_decref(arr);
	detfix_close(f);
	json_decref(odd);
}

static void test_config_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  starttls:\n    nope: 1\n", "t.yaml:3:" },
		{ "detectors:\n  starttls:\n    max_servers: 1\n", "max_servers" },
		{ "detectors:\n  starttls:\n    max_sessions: 2\n", "max_sessions" },
		{ "detectors:\n  starttls:\n    min_sessions: 0\n", "min_sessions" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
	/* and a good one */
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, "detectors:\n  starttls:\n    max_servers: 100\n    max_sessions: 100\n    enabled: true\n",
		    NULL, 0);
	detfix_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stripped_and_creds),
		cmocka_unit_test(test_stripped_benign_twins),
		cmocka_unit_test(test_stripped_mixed_history),
		cmocka_unit_test(test_stripped_repeatedly),
		cmocka_unit_test(test_session_counted_once),
		cmocka_unit_test(test_min_sessions_and_forget),
		cmocka_unit_test(test_inspection_artifact),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_config_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
