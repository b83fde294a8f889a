/* test_det_tls.c - the tls detector (server fingerprint baselines, interception-engine
 * client fingerprints) judged with hand-built hellos. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "decode/tls.h"
#include "output.h"

#define TS 1700000000000000ull
#define CHROME "t13d1516h2_8daaf6152771_e5627efa2ab1"
#define FORTIGATE "t12d110400_43e74fd21232_4c608536f165" /* signatures/interception-clients.csv */

struct fx {
	char path[64];
	struct out_mgr *out;
	struct alert_pipe *ap;
	struct det_registry *reg;
};

static const char *sigdir(void)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");
	if (!top)
		return SRCSIGDIR;
	snprintf(buf, sizeof(buf), "%s/signatures", top);
	return buf;
}

static struct fx *fx_new(const json_t *saved, uint64_t learning_s)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512];
	strcpy(f->path, "/tmp/test_det_tls.XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	char spec[128];
	snprintf(spec, sizeof(spec), "jsonl:%s", f->path);
	f->out = out_mgr_new(1024, false);
	assert_int_equal(out_mgr_add(f->out, spec, err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(f->out), 0);
	struct alert_pipe_cfg ac = { "test", NULL, 300, 1024, 1 };
	f->ap = alert_pipe_new(&ac, f->out);
	f->reg = det_registry_new_state(NULL, sigdir(), saved, learning_s, err, sizeof(err));
	if (!f->reg)
		fail_msg("registry: %s", err);
	return f;
}

static void fx_free(struct fx *f)
{
	det_registry_free(f->reg);
	alert_pipe_free(f->ap);
	out_mgr_free(f->out);
	unlink(f->path);
	free(f);
}

static json_t *alerts(struct fx *f)
{
	alert_pipe_flush(f->ap);
	out_mgr_sync(f->out);
	json_t *arr = json_array();
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	static char line[1 << 16];
	while (fgets(line, sizeof(line), fp)) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("invalid JSON line: %s: %s", e.text, line);
		json_array_append_new(arr, j);
	}
	fclose(fp);
	return arr;
}

static const char *action(json_t *a)
{
	return json_string_value(json_object_get(json_object_get(a, "event"), "action"));
}

static json_t *evd(json_t *a, const char *key)
{
	return json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), key);
}

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
static void handshake(struct fx *f, uint64_t ts, const char *sni, const char *ja4, const char *ja3,
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
	struct fx *f = fx_new(NULL, 0);
	handshake(f, TS, "www.example.com", CHROME, JA3, S1, JA3);
	handshake(f, TS + 1000000, "www.example.com", CHROME, JA3, S1, JA3);
	/* another client implementation gets another answer: its own baseline */
	handshake(f, TS + 2000000, "www.example.com", "t13d1715h2_5b57614c22b0_3d5424432f57", JA3, S2, JA3);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	/* the known client now gets another answer */
	handshake(f, TS + 3000000, "www.example.com", CHROME, JA3, S2, JA3);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(action(a), "tls.server_fingerprint_changed");
	assert_string_equal(json_string_value(evd(a, "server")), "www.example.com:443");
	assert_string_equal(json_string_value(json_object_get(json_array_get(evd(a, "old"), 0), "ja4s")), S1);
	assert_string_equal(json_string_value(json_object_get(evd(a, "new"), "ja4s")), S2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "source"), "ip")), "203.0.113.5");
	json_decref(arr);

	/* Saved and reloaded: a further change alerts at once after a restart. */
	json_t *saved = det_registry_save(f->reg);
	fx_free(f);
	f = fx_new(saved, 3600);
	handshake(f, TS + 4000000, "www.example.com", CHROME, JA3, "t130100_1303_aaaaaaaaaaaa", JA3);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	json_decref(saved);
	fx_free(f);
}

static void test_learning_window_is_quiet(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL, 600);
	handshake(f, TS, "a.example", CHROME, JA3, S1, JA3);
	handshake(f, TS + 10000000, "a.example", CHROME, JA3, S2, JA3);   /* inside the window */
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	handshake(f, TS + 700000000, "a.example", CHROME, JA3, "t130100_1303_aaaaaaaaaaaa", JA3); /* after */
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	fx_free(f);
}

static void test_interception_client(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL, 0);
	/* No history for the server: low confidence. */
	handshake(f, TS, "fingerprint.example", FORTIGATE, JA3, NULL, NULL);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	json_t *a = json_array_get(arr, 0);
	assert_string_equal(action(a), "tls.interception_client");
	assert_string_equal(json_string_value(evd(a, "product")), "Fortinet FortiGate");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "onpath"), "confidence")), "low");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "source"), "ip")), "192.0.2.9");
	json_decref(arr);
	fx_free(f);

	/* The server's usual clients are browsers; the engine's hello departs. */
	f = fx_new(NULL, 0);
	handshake(f, TS, "bank.example", CHROME, JA3, S1, JA3);
	handshake(f, TS + 1000000, "bank.example", FORTIGATE, JA3, NULL, NULL);
	handshake(f, TS + 2000000, "bank.example", FORTIGATE, JA3, NULL, NULL); /* learnt now */
	/* JA3 signatures match too (the SSLv2-format hello of MS TMG). */
	handshake(f, TS + 3000000, "bank.example", "ts3i050000_d30d14220708_000000000000",
		  "7a59fcb79918cfff6d2713a54dcb6b8e", NULL, NULL);
	arr = alerts(f);
	assert_int_equal(json_array_size(arr), 2);
	a = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "onpath"), "confidence")), "medium");
	assert_string_equal(json_string_value(json_array_get(evd(a, "usual_client_ja4"), 0)), CHROME);
	json_decref(arr);
	fx_free(f);
}

static void test_no_sni_uses_address(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL, 0);
	handshake(f, TS, NULL, CHROME, JA3, S1, JA3);
	handshake(f, TS + 1000000, NULL, CHROME, JA3, S2, JA3);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(evd(json_array_get(arr, 0), "server")), "[203.0.113.5]:443");
	json_decref(arr);
	fx_free(f);
}

static void test_bad_state_is_refused(void **state)
{
	(void)state;
	char err[256];
	json_t *saved = json_pack("{s:{s:i}}", "tls", "version", 7);
	/* A damaged section does not stop the sensor: the detector starts cold. */
	struct det_registry *r = det_registry_new_state(NULL, sigdir(), saved, 0, err, sizeof(err));
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
