/* test_det_rewrite.c - the rewrite detector (tcp.rewritten_in_path), judged with
 * hand-built events (the stream conflict that makes them is test_stream's). */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "detfix.h"
#include "util.h"

#define T0 1700000000000000ull

static const char *SRV = "02:00:00:00:00:0a", *ATT = "02:00:00:00:00:66";
static const uint8_t srv_ip[4] = { 192, 0, 2, 10 }, vic_ip[4] = { 192, 0, 2, 100 };

/* A conflicting copy of the server's segment 192.0.2.10:25 -> 192.0.2.100:50000 sent by
 * `from`, the direction's first data having come from `first`. */
static void conflict(struct detfix *f, const char *first, const char *from, uint16_t dport,
		     const void *kept, size_t kept_len, const void *seen, size_t seen_len)
{
	struct rewrite_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = T0;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(from, ev.m.src_mac), 0);
	assert_int_equal(util_mac_parse(first, ev.first_mac), 0);
	util_addr_set4(&ev.m.src, srv_ip);
	util_addr_set4(&ev.m.dst, vic_ip);
	ev.m.sport = 25;
	ev.m.dport = dport;
	ev.m.proto = 6;
	ev.m.ip_ttl = 64;
	ev.m.community_id = "";
	ev.first_ttl = 64;
	ev.offset = 107;
	ev.context = 6;
	ev.kept = kept;
	ev.kept_len = kept_len;
	ev.seen = seen;
	ev.seen_len = seen_len;
	det_dispatch_rewrite(f->reg, &ev, f->ap);
}

static void test_relay_alerts(void **state)
{
	struct detfix *f = *state;
	conflict(f, SRV, ATT, 50000, "250-STARTTLS\r\n", 14, "250-STRIPPED\r\n", 14);
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "tcp.rewritten_in_path", 1);
	json_t *a = detfix_first(arr, "tcp.rewritten_in_path");
	assert_int_equal(detfix_sev(a), 8);
	assert_string_equal(detfix_ev_str(a, "attacker_mac"), ATT);
	assert_string_equal(detfix_ev_str(a, "first_mac"), SRV);
	assert_string_equal(detfix_ev_str(a, "original"), "250-STARTTLS\r\n");
	assert_string_equal(detfix_ev_str(a, "rewritten"), "250-STRIPPED\r\n");
	assert_int_equal(detfix_int(a, "onpath.evidence.stream_offset"), 107);
	assert_string_equal(detfix_str(a, "source.ip"), "192.0.2.10");
	assert_string_equal(detfix_str(a, "destination.ip"), "192.0.2.100");
	json_t *tid = detfix_get(a, "threat.technique.id");
	assert_true(json_is_array(tid));
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1565.002");
	const char *msg = detfix_str(a, "message");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "'250-STARTTLS..' became '250-STRIPPED..'"));
	/* what the rewrite removed, for the analyst */
	json_t *rem = detfix_get(a, "onpath.evidence.removed");
	assert_true(json_is_array(rem));
	assert_int_equal(json_array_size(rem), 1);
	assert_string_equal(json_string_value(json_array_get(rem, 0)), "STARTTLS");
	assert_non_null(strstr(detfix_ev_str(a, "effect"), "continue in clear"));
	assert_non_null(strstr(msg, "; STARTTLS removed from what the server offers"));
	json_decref(arr);
}

/* Removals named: POP3's STLS, an https:// link, the HSTS header (any case); a
 * rewrite that keeps the keyword, or changes other bytes, names nothing. */
static void test_removals(void **state)
{
	struct detfix *f = *state;
	static const struct {
		uint16_t port;
		const char *kept, *seen, *removed;
	} cases[] = {
		{ 50001, "+OK\r\nSTLS\r\nUSER\r\n", "+OK\r\nXXXX\r\nUSER\r\n", "STLS" },
		{ 50002, "href=\"HTTPS://bank.example/\"", "href=\"http://bank.example/\"", "https://" },
		{ 50003, "strict-transport-security: max-age=1", "X-Padding-Padding-Padding: max-age=1", "Strict-Transport-Security" },
		{ 50004, "211-AUTH TLS\r\n", "211-AUTH XXX\r\n", "AUTH TLS" },
		{ 50005, "250-STARTTLS\r\n", "250-starttls\r\n", NULL }, /* case only */
		{ 50006, "Subject: hello", "Subject: howdy", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		conflict(f, SRV, ATT, cases[i].port, cases[i].kept, strlen(cases[i].kept), cases[i].seen,
			 strlen(cases[i].seen));
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "tcp.rewritten_in_path", 6);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *a = json_array_get(arr, i);
		unsigned port = (unsigned)detfix_int(a, "destination.port");
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			if (cases[k].port != port)
				continue;
			json_t *rem = detfix_get(a, "onpath.evidence.removed");
			if (cases[k].removed == NULL) {
				assert_null(rem);
				assert_null(detfix_get(a, "onpath.evidence.effect"));
			} else {
				assert_true(json_is_array(rem));
				assert_string_equal(json_string_value(json_array_get(rem, 0)), cases[k].removed);
			}
		}
	}
	json_decref(arr);
}

/* The sender itself sent other bytes (an evasion attempt, an odd stack): not a relay. */
static void test_same_mac_silent(void **state)
{
	struct detfix *f = *state;
	conflict(f, SRV, SRV, 50000, "abc", 3, "xyz", 3);
	json_t *arr = detfix_alerts(f);
	DETFIX_EXPECT(arr, "tcp.rewritten_in_path", 0);
	json_decref(arr);
}

/* Every rewritten segment of one connection direction by one relay is one finding;
 * another connection is another. */
static void test_dedupe_per_connection(void **state)
{
	struct detfix *f = *state;
	for (int i = 0; i < 5; i++)
		conflict(f, SRV, ATT, 50000, "a", 1, "b", 1);
	conflict(f, SRV, ATT, 50002, "a", 1, "b", 1);
	json_t *arr = detfix_alerts_new(f);
	DETFIX_EXPECT(arr, "tcp.rewritten_in_path", 2);
	json_decref(arr);
}

/* The excerpts are the attacker's bytes: quotes, newlines, NUL, HTML and bad UTF-8 are
 * escaped in the JSON, and the message keeps only printable ASCII. */
static void test_hostile_bytes(void **state)
{
	struct detfix *f = *state;
	static const uint8_t evil[] = "<script>\"x\"\n\0\xff\xfe'";
	conflict(f, SRV, ATT, 50000, "ok", 2, evil, sizeof(evil) - 1);
	json_t *arr = detfix_alerts(f);
	json_t *a = detfix_need(arr, "tcp.rewritten_in_path");
	const char *rw = detfix_ev_str(a, "rewritten");
	assert_non_null(rw);
	assert_string_equal(rw, "<script>\"x\"\n\\x00\\xff\\xfe'");
	const char *msg = detfix_str(a, "message");
	for (const char *p = msg; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	assert_non_null(strstr(msg, "'<script>\"x\".....',"));
	json_decref(arr);
	/* and in the raw line the NUL and the bad bytes are the text \xNN, the HTML
	 * characters \u00NN */
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char line[8192];
	bool found = false;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, "tcp.rewritten_in_path")) {
			found = true;
			assert_non_null(strstr(line, "\\n\\\\x00\\\\xff\\\\xfe\\u0027"));
			assert_non_null(strstr(line, "\\u003cscript\\u003e"));
			assert_null(strstr(line, "<script>"));
		}
	fclose(fp);
	assert_true(found);
}

static void test_config(void **state)
{
	(void)state;
	detfix_config_rejected("detectors:\n  rewrite:\n    bogus: 1\n", "bogus");
	assert_non_null(det_find_type("tcp.rewritten_in_path"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_alerts, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_removals, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_same_mac_silent, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_dedupe_per_connection, detfix_setup, detfix_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_bytes, detfix_setup, detfix_teardown),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
