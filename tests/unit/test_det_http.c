/* test_det_http.c - the http detector (HSTS names in plain HTTP, stripped redirects)
 * judged with hand-built struct http_msg events. */
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

#include "decode/http.h"
#include "detfix.h"
#include "tmpdir.h"

#define TS 1700000000000000ull
#define MIN 60000000ull

static struct http_msg msg;

static void send_msg(struct detfix *f, uint64_t ts)
{
	struct http_ev ev;
	memset(&ev.m, 0, sizeof(ev.m));
	uint8_t s4[4] = { 203, 0, 113, 30 }, c4[4] = { 192, 0, 2, 10 };
	ev.m.ts_us = ts;
	util_addr_set4(msg.response ? &ev.m.src : &ev.m.dst, s4);
	util_addr_set4(msg.response ? &ev.m.dst : &ev.m.src, c4);
	ev.m.sport = msg.response ? 80 : 41000;
	ev.m.dport = msg.response ? 41000 : 80;
	ev.m.proto = 6;
	ev.m.community_id = "";
	ev.msg = &msg;
	det_dispatch_http(f->reg, &ev, f->ap);
}

static void req(const char *method, const char *host, const char *path)
{
	memset(&msg, 0, sizeof(msg));
	msg.has_request = true;
	strcpy(msg.method, method);
	strcpy(msg.host, host);
	strcpy(msg.path, path);
}

static void cookie(const char *name)
{
	struct http_cookie *c = &msg.cookies[msg.ncookies++];
	strcpy(c->name, name);
	c->value_len = 20;
}

static void rsp(const char *host, uint16_t status, const char *location, uint32_t body)
{
	req("GET", host, "/");
	msg.response = true;
	msg.status = status;
	if (location) {
		msg.has_location = true;
		strcpy(msg.location, location);
	}
	msg.body_seen = body;
	msg.has_length = true;
	msg.content_length = body;
}

static void test_hsts_plaintext(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, "detectors:\n  http:\n    hsts_names: [intranet.example.test, SSO.Corp.Example.]\n", NULL, 0);
	/* benign twins: no credentials; analytics cookies; a session cookie to a name on no list;
	 * a subdomain of a preloaded name without include_subdomains (paypal.com) */
	req("GET", "github.com", "/");
	send_msg(f, TS);
	req("GET", "github.com", "/");
	cookie("_ga");
	cookie("_octo");
	send_msg(f, TS + 1);
	req("GET", "www.example.com", "/");
	cookie("PHPSESSID");
	send_msg(f, TS + 2);
	req("GET", "x.paypal.com", "/");
	cookie("session");
	send_msg(f, TS + 3);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	/* a session cookie to a subdomain of an include_subdomains entry */
	req("GET", "api.github.com", "/user");
	cookie("_ga");
	cookie("user_session");
	send_msg(f, TS + MIN);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "http.hsts_plaintext", 1);
	json_t *a = detfix_first(arr, "http.hsts_plaintext");
	assert_int_equal(detfix_sev(a), 6);
	assert_string_equal(detfix_ev_str(a, "reason"), "session_cookie");
	assert_string_equal(detfix_ev_str(a, "hsts_entry"), "github.com");
	assert_string_equal(detfix_ev_str(a, "list"), "preload");
	assert_string_equal(json_string_value(json_array_get(detfix_ev(a, "cookie_names"), 1)), "user_session");
	assert_string_equal(detfix_str(a, "destination.ip"), "203.0.113.30");
	json_decref(arr);

	/* Authorization to a configured name (and its subdomain): severity 7 */
	req("GET", "files.intranet.example.test", "/");
	msg.has_auth = true;
	strcpy(msg.auth_scheme, "Basic");
	msg.auth_len = 30;
	send_msg(f, TS + 2 * MIN);
	/* a form POST with a password field to an exact preloaded name */
	req("POST", "paypal.com", "/signin");
	strcpy(msg.fields[0], "login_email");
	strcpy(msg.fields[1], "login_password");
	msg.nfields = 2;
	msg.password_field = true;
	send_msg(f, TS + 3 * MIN);
	/* a login form served in clear for a configured name (case and final dot folded) */
	rsp("sso.corp.example", 200, NULL, 900);
	msg.login_form = true;
	send_msg(f, TS + 4 * MIN);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "http.hsts_plaintext", 4);
	int seen = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *x = json_array_get(arr, i);
		const char *why = detfix_ev_str(x, "reason");
		if (!why)
			continue;
		if (strcmp(why, "authorization") == 0) {
			assert_int_equal(detfix_sev(x), 7);
			assert_string_equal(detfix_ev_str(x, "auth_scheme"), "Basic");
			assert_string_equal(detfix_ev_str(x, "list"), "config");
			seen |= 1;
		} else if (strcmp(why, "password_form_post") == 0) {
			assert_int_equal(detfix_sev(x), 7);
			assert_string_equal(json_string_value(json_array_get(detfix_ev(x, "form_fields"), 1)), "login_password");
			seen |= 2;
		} else if (strcmp(why, "login_form") == 0) {
			assert_string_equal(detfix_ev_str(x, "hsts_entry"), "sso.corp.example");
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
	json_decref(arr);
	detfix_close(f);

	/* hsts_preload: false leaves only the configured names */
	detfix_open(f, "detectors:\n  http:\n    hsts_preload: false\n", NULL, 0);
	req("GET", "api.github.com", "/user");
	cookie("user_session");
	send_msg(f, TS);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	detfix_close(f);
}

static void test_redirect_stripped(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 3600);
	/* benign: a name that always served content; a name seen once with content, then redirecting */
	rsp("news.example.test", 200, NULL, 500);
	send_msg(f, TS);
	rsp("news.example.test", 200, NULL, 700);
	send_msg(f, TS + 1);
	rsp("mixed.example.test", 200, NULL, 500);
	send_msg(f, TS + 2);
	rsp("mixed.example.test", 301, "https://mixed.example.test/", 0);
	send_msg(f, TS + 3);
	rsp("mixed.example.test", 200, NULL, 500);
	send_msg(f, TS + 4);
	/* baseline: redirects to HTTPS; a 304 and an empty 200 are not content */
	rsp("login.example.test", 301, "https://login.example.test/", 0);
	send_msg(f, TS + 5);
	rsp("login.example.test", 302, "HTTPS://login.example.test/x", 0);
	send_msg(f, TS + 6);
	rsp("login.example.test", 304, NULL, 0);
	send_msg(f, TS + 7);
	rsp("login.example.test", 200, NULL, 0);
	send_msg(f, TS + 8);
	rsp("login.example.test", 200, NULL, 0); /* a HEAD answer announcing a body */
	strcpy(msg.method, "HEAD");
	msg.content_length = 5000;
	send_msg(f, TS + 8);
	/* a redirect to http:// on another host is not a rewrite of this one */
	rsp("login.example.test", 302, "http://cdn.example.test/", 0);
	send_msg(f, TS + 9);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	/* served in clear, with a login form: severity 8 (the change alerts inside the learning window) */
	rsp("login.example.test", 200, NULL, 1200);
	msg.login_form = true;
	strcpy(msg.content_type, "text/html");
	send_msg(f, TS + 10);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "http.https_redirect_stripped", 1);
	json_t *a = detfix_first(arr, "http.https_redirect_stripped");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "reason"), "served_in_clear");
	assert_string_equal(detfix_ev_str(a, "old_location"), "HTTPS://login.example.test/x");
	assert_int_equal(detfix_int(a, "onpath.evidence.old_redirects"), 2);
	assert_true(json_is_true(detfix_ev(a, "login_form")));
	assert_string_equal(detfix_ev_str(a, "client"), "192.0.2.10");
	json_decref(arr);

	/* a rewritten Location, after a restart with the saved baseline */
	rsp("bank.example.test", 301, "https://bank.example.test/", 0);
	send_msg(f, TS + 11);
	json_t *saved = det_registry_save(f->reg);
	detfix_reopen(f, NULL, saved, 3600);
	rsp("bank.example.test", 302, "http://BANK.example.test:80/login", 0);
	send_msg(f, TS + 12);
	arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "http.https_redirect_stripped", 1);
	a = detfix_first(arr, "http.https_redirect_stripped");
	assert_int_equal(detfix_sev(a), 7);
	assert_string_equal(detfix_ev_str(a, "reason"), "location_http");
	assert_string_equal(detfix_ev_str(a, "new_location"), "http://BANK.example.test:80/login");
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);
}

static void test_bounded_and_state(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, "detectors:\n  http:\n    max_names: 16\n", NULL, 0);
	rsp("a.example.test", 301, "https://a.example.test/", 0);
	send_msg(f, TS);
	char h[64];
	for (int i = 0; i < 100; i++) {
		snprintf(h, sizeof(h), "n%d.example.test", i);
		rsp(h, 301, "https://x/", 0);
		send_msg(f, TS + 1 + (uint64_t)i);
	}
	rsp("a.example.test", 200, NULL, 100); /* forgotten: silent */
	send_msg(f, TS + MIN);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	json_t *saved = det_registry_save(f->reg);
	assert_true(json_array_size(json_object_get(json_object_get(saved, "http"), "names")) <= 16);
	json_decref(saved);
	detfix_close(f);
	/* a foreign state is refused (the detector starts cold) */
	saved = json_pack("{s:{s:i,s:[]}}", "http", "version", 2, "names");
	detfix_open(f, NULL, saved, 0);
	detfix_close(f);
	json_decref(saved);
}

static void test_config_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "detectors:\n  http:\n    nope: 1\n", "t.yaml:3:" },
		{ "detectors:\n  http:\n    max_names: 2\n", "max_names" },
		{ "detectors:\n  http:\n    hsts_preload: perhaps\n", "hsts_preload" },
		{ "detectors:\n  http:\n    hsts_names: example.com\n", "list" },
		{ "detectors:\n  http:\n    hsts_names: [\"bad name\"]\n", "not a DNS name" },
		{ "detectors:\n  http:\n    hsts_names: [[a]]\n", "DNS name" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++)
		detfix_config_rejected(cases[i].yaml, cases[i].want);
}

extern const struct detector det_http;

/* signatures/hsts-preload.csv errors name the file and line. */
static void test_signature_errors(void **state)
{
	struct tmp *t = *state;
	static const struct {
		const char *body, *want;
	} cases[] = {
		{ "# c\nname,include_subdomains\nexample.com,true\nbad name,true\n", "hsts-preload.csv:4: 'bad name' is not a DNS name" },
		{ "# c\nname,include_subdomains\nexample.com,maybe\n", "hsts-preload.csv:3: include_subdomains 'maybe'" },
		{ "# c\nname,include_subdomains\n.example.com,true\n", "hsts-preload.csv:3:" },
		{ "# c\nname,include_subdomains\nexample.com\n", "hsts-preload.csv:3:" },
	};
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/hsts-preload.csv", t->dir);
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cases); i++) {
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(cases[i].body, fp);
		fclose(fp);
		err[0] = '\0';
		struct det_init in = { NULL, NULL, t->dir, true, 0, err, sizeof(err) };
		void *st = NULL;
		assert_int_equal(det_http.init(&st, &in), -1);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
	}
	/* a good file: upper case folded, lookups with include_subdomains semantics */
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# c\nname,include_subdomains\nExample.COM,false\nsub.example.com,true\n", fp);
	fclose(fp);
	struct det_init in = { NULL, NULL, t->dir, true, 0, err, sizeof(err) };
	void *st = NULL;
	assert_int_equal(det_http.init(&st, &in), 0);
	det_http.fini(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hsts_plaintext),
		cmocka_unit_test(test_redirect_stripped),
		cmocka_unit_test(test_bounded_and_state),
		cmocka_unit_test(test_config_rejected),
		cmocka_unit_test_setup_teardown(test_signature_errors, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
