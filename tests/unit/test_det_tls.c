/* test_det_tls.c - the tls detector (server fingerprint baselines, interception-engine
 * client fingerprints) judged with hand-built hellos. */
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

#include "decode/tls.h"
#include "detfix.h"

#define TS 1700000000000000ull
#define CHROME "t13d1516h2_8daaf6152771_e5627efa2ab1"
#define FORTIGATE "t12d110400_43e74fd21232_4c608536f165" /* signatures/interception-clients.csv */

static void mk_client(struct tls_hello *h, const char *sni, const char *ja4, const char *ja3)
{
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_CLIENT;
	h->version = 0x0304;
	if (sni) {
		h->sni_len = (uint16_t)strlen(sni);
		memcpy(h->sni, sni, h->sni_len);
		h->has_sni = true;
	}
	strcpy(h->ja4, ja4);
	strcpy(h->ja3, ja3);
}

static void mk_server(struct tls_hello *h, const char *ja4s, const char *ja3s, uint16_t cipher)
{
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_SERVER;
	h->version = 0x0304;
	h->cipher = cipher;
	strcpy(h->ja4, ja4s);
	strcpy(h->ja3, ja3s);
}

static void meta(struct ev_meta *m, uint64_t ts, bool from_server)
{
	memset(m, 0, sizeof(*m));
	uint8_t s4[4] = { 203, 0, 113, 5 }, c4[4] = { 192, 0, 2, 9 };
	m->ts_us = ts;
	util_addr_set4(from_server ? &m->src : &m->dst, s4);
	util_addr_set4(from_server ? &m->dst : &m->src, c4);
	m->sport = from_server ? 443 : 51000;
	m->dport = from_server ? 51000 : 443;
	m->proto = 6;
	m->community_id = "";
}

/* One handshake: the ClientHello event, then the ServerHello event. */
static void handshake(struct detfix *f, uint64_t ts, const char *sni, const char *ja4, const char *ja3,
		      const char *ja4s, const char *ja3s)
{
	struct tls_hello ch, sh;
	struct tls_ev ev;
	mk_client(&ch, sni, ja4, ja3);
	memset(&ev, 0, sizeof(ev));
	meta(&ev.m, ts, false);
	ev.client = &ch;
	det_dispatch_tls(f->reg, &ev, f->ap);
	if (!ja4s)
		return;
	mk_server(&sh, ja4s, ja3s, 0x1301);
	meta(&ev.m, ts + 1000, true);
	ev.server = &sh;
	det_dispatch_tls(f->reg, &ev, f->ap);
}

#define JA3 "0123456789abcdef0123456789abcdef"
#define S1 "t130200_1301_234ea6891581"
#define S2 "t130200_1302_badbadbad000"

static void test_server_fingerprint_changed(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	handshake(f, TS, "www.example.com", CHROME, JA3, S1, JA3);
	handshake(f, TS + 1000000, "www.example.com", CHROME, JA3, S1, JA3);
	/* another client implementation gets another answer: its own baseline */
	handshake(f, TS + 2000000, "www.example.com", "t13d1715h2_5b57614c22b0_3d5424432f57", JA3, S2, JA3);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* the known client now gets another answer */
	handshake(f, TS + 3000000, "www.example.com", CHROME, JA3, S2, JA3);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "tls.server_fingerprint_changed");
	assert_string_equal(json_string_value(detfix_ev(a, "server")), "www.example.com:443");
	assert_string_equal(json_string_value(json_object_get(json_array_get(detfix_ev(a, "old"), 0), "ja4s")), S1);
	assert_string_equal(json_string_value(json_object_get(detfix_ev(a, "new"), "ja4s")), S2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "source"), "ip")), "203.0.113.5");
	json_decref(arr);

	/* Saved and reloaded: a further change alerts at once after a restart. */
	json_t *saved = det_registry_save(f->reg);
	detfix_reopen(f, NULL, saved, 3600);
	handshake(f, TS + 4000000, "www.example.com", CHROME, JA3, "t130100_1303_aaaaaaaaaaaa", JA3);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	json_decref(saved);
	detfix_close(f);
}

static void test_learning_window_is_quiet(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 600);
	handshake(f, TS, "a.example", CHROME, JA3, S1, JA3);
	handshake(f, TS + 10000000, "a.example", CHROME, JA3, S2, JA3);   /* inside the window */
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	handshake(f, TS + 700000000, "a.example", CHROME, JA3, "t130100_1303_aaaaaaaaaaaa", JA3); /* after */
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	detfix_close(f);
}

static void test_interception_client(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	/* No history for the server: low confidence. */
	handshake(f, TS, "fingerprint.example", FORTIGATE, JA3, NULL, NULL);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(detfix_action(a), "tls.interception_client");
	assert_string_equal(json_string_value(detfix_ev(a, "product")), "Fortinet FortiGate");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "onpath"), "confidence")), "low");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "source"), "ip")), "192.0.2.9");
	json_decref(arr);
	detfix_close(f);

	/* The server's usual clients are browsers; the engine's hello departs. */
	detfix_open(f, NULL, NULL, 0);
	handshake(f, TS, "bank.example", CHROME, JA3, S1, JA3);
	handshake(f, TS + 1000000, "bank.example", FORTIGATE, JA3, NULL, NULL);
	handshake(f, TS + 2000000, "bank.example", FORTIGATE, JA3, NULL, NULL); /* learnt now */
	/* JA3 signatures match too (the SSLv2-format hello of MS TMG). */
	handshake(f, TS + 3000000, "bank.example", "ts3i050000_d30d14220708_000000000000",
		  "7a59fcb79918cfff6d2713a54dcb6b8e", NULL, NULL);
	arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 2);
	a = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "onpath"), "confidence")), "medium");
	assert_string_equal(json_string_value(json_array_get(detfix_ev(a, "usual_client_ja4"), 0)), CHROME);
	json_decref(arr);
	detfix_close(f);
}

static void test_no_sni_uses_address(void **state)
{
	(void)state;
	struct detfix F = { .dedupe_max = 1024 }, *f = &F;
	detfix_open(f, NULL, NULL, 0);
	handshake(f, TS, NULL, CHROME, JA3, S1, JA3);
	handshake(f, TS + 1000000, NULL, CHROME, JA3, S2, JA3);
	json_t *arr = detfix_alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(detfix_ev(json_array_get(arr, 0), "server")), "[203.0.113.5]:443");
	json_decref(arr);
	detfix_close(f);
}

static void test_bad_state_is_refused(void **state)
{
	(void)state;
	char err[256];
	json_t *saved = json_pack("{s:{s:i}}", "tls", "version", 7);
	/* A damaged section does not stop the sensor: the detector starts cold. */
	struct det_registry *r = det_registry_new_state(NULL, detfix_sigdir(), saved, 0, err, sizeof(err));
	assert_non_null(r);
	det_registry_free(r);
	json_decref(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_fingerprint_changed),
		cmocka_unit_test(test_learning_window_is_quiet),
		cmocka_unit_test(test_interception_client),
		cmocka_unit_test(test_no_sni_uses_address),
		cmocka_unit_test(test_bad_state_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
