#include "config.h"

/* test_json.c - the JSON writer: every escaping rule against hostile input, checked
 * both as exact text and by parsing the result back with jansson; nesting rules and
 * the sticky error; buffer hand-over. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "json.h"

/* Escapes n bytes as a top-level JSON string; returns the text (caller frees). */
static char *esc(const void *s, size_t n)
{
	struct jw w;
	char *out;

	jw_init(&w);
	jw_strn(&w, NULL, s, n);
	assert_int_equal(w.err, 0);
	out = jw_take(&w, NULL);
	assert_non_null(out);
	jw_free(&w);
	return out;
}

/* The writer's text is exactly want, and jansson reads it back as the bytes dec. */
static void check(const void *in, size_t n, const char *want, const void *dec, size_t declen)
{
	char *got = esc(in, n);
	json_error_t e;
	json_t *j;

	assert_string_equal(got, want);
	j = json_loads(got, JSON_DECODE_ANY, &e);
	if (j == NULL)
		fail_msg("jansson rejects %s: %s", got, e.text);
	assert_true(json_is_string(j));
	assert_int_equal(json_string_length(j), declen);
	assert_memory_equal(json_string_value(j), dec, declen);
	json_decref(j);
	free(got);
}

/* Text that is safe to show: decodes to itself. */
static void check_same(const char *in, const char *want)
{
	check(in, strlen(in), want, in, strlen(in));
}

/* Invalid bytes: decodes to the visible \xNN text. */
static void check_bytes(const void *in, size_t n, const char *want, const char *visible)
{
	check(in, n, want, visible, strlen(visible));
}

static void test_plain(void **state)
{
	check_same("", "\"\"");
	check_same("hello world 123 ~!@#$%^*()_+-=[]{}|;:,./?`", "\"hello world 123 ~!@#$%^*()_+-=[]{}|;:,./?`\"");
}

static void test_quote_backslash(void **state)
{
	check_same("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_same("\\\"", "\"\\\\\\\"\"");
	/* a closing quote and a new member: the classic injection */
	check_same("x\",\"severity\":1,\"y\":\"", "\"x\\\",\\\"severity\\\":1,\\\"y\\\":\\\"\"");
}

static void test_short_controls(void **state)
{
	check_same("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	/* a forged second alert line */
	check_same("x\n{\"event\":{}}", "\"x\\n{\\\"event\\\":{}}\"");
}

static void test_every_control_char(void **state)
{
	char in[2], want[16];
	int c;

	for (c = 1; c < 0x20; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		if (c == '\n')
			strcpy(want, "\"\\n\"");
		else if (c == '\r')
			strcpy(want, "\"\\r\"");
		else if (c == '\t')
			strcpy(want, "\"\\t\"");
		else
			snprintf(want, sizeof(want), "\"\\u00%02x\"", c);
		check_same(in, want);
	}
	/* DEL and ESC: terminal escape sequences stay inert */
	check_same("\x7f", "\"\\u007f\"");
	check_same("\x1b[31mred", "\"\\u001b[31mred\"");
}

static void test_nul_inside(void **state)
{
	/* A NUL would cut the string for any C consumer: shown, not passed. */
	check_bytes("a\0b", 3, "\"a\\\\x00b\"", "a\\x00b");
	check_bytes("\0", 1, "\"\\\\x00\"", "\\x00");
}

static void test_html_js(void **state)
{
	check_same("<script>alert('x')&</script>",
		   "\"\\u003cscript\\u003ealert(\\u0027x\\u0027)\\u0026\\u003c/script\\u003e\"");
	check_same("<!--", "\"\\u003c!--\"");
	check_same("]]>", "\"]]\\u003e\"");
}

static void test_line_separators(void **state)
{
	check_same("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "\"a\\u2028b\\u2029c\"");
	/* the neighbours are ordinary characters */
	check_same("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"");
}

static void test_valid_utf8_passes(void **state)
{
	static const char *const ok[] = {
		"caf\xc3\xa9",                 /* U+00E9, 2 bytes */
		"\xe2\x82\xac",                /* U+20AC, 3 bytes */
		"\xf0\x9f\x98\x80",            /* U+1F600, 4 bytes */
		"\xc2\x80", "\xdf\xbf",        /* U+0080, U+07FF */
		"\xe0\xa0\x80", "\xed\x9f\xbf", /* U+0800, U+D7FF */
		"\xee\x80\x80", "\xef\xbf\xbf", /* U+E000, U+FFFF */
		"\xf0\x90\x80\x80",            /* U+10000 */
		"\xf4\x8f\xbf\xbf",            /* U+10FFFF */
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c",
	};
	char want[64];
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(ok); i++) {
		snprintf(want, sizeof(want), "\"%s\"", ok[i]);
		check_same(ok[i], want);
	}
}

static void test_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;    /* writer text */
		const char *visible; /* what a JSON reader gets */
	} bad[] = {
		/* overlong forms */
		{ "\xc0\x80", 2, "\"\\\\xc0\\\\x80\"", "\\xc0\\x80" },
		{ "\xc1\xbf", 2, "\"\\\\xc1\\\\xbf\"", "\\xc1\\xbf" },
		{ "\xe0\x80\xaf", 3, "\"\\\\xe0\\\\x80\\\\xaf\"", "\\xe0\\x80\\xaf" },
		{ "\xe0\x9f\xbf", 3, "\"\\\\xe0\\\\x9f\\\\xbf\"", "\\xe0\\x9f\\xbf" },
		{ "\xf0\x8f\xbf\xbf", 4, "\"\\\\xf0\\\\x8f\\\\xbf\\\\xbf\"", "\\xf0\\x8f\\xbf\\xbf" },
		/* surrogates U+D800, U+DFFF */
		{ "\xed\xa0\x80", 3, "\"\\\\xed\\\\xa0\\\\x80\"", "\\xed\\xa0\\x80" },
		{ "\xed\xbf\xbf", 3, "\"\\\\xed\\\\xbf\\\\xbf\"", "\\xed\\xbf\\xbf" },
		/* above U+10FFFF */
		{ "\xf4\x90\x80\x80", 4, "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"", "\\xf4\\x90\\x80\\x80" },
		{ "\xf5\x80", 2, "\"\\\\xf5\\\\x80\"", "\\xf5\\x80" },
		{ "\xfe\xff", 2, "\"\\\\xfe\\\\xff\"", "\\xfe\\xff" },
		/* truncated: at the end, and followed by ASCII */
		{ "\xe2\x82", 2, "\"\\\\xe2\\\\x82\"", "\\xe2\\x82" },
		{ "\xe2\x82" "A", 3, "\"\\\\xe2\\\\x82A\"", "\\xe2\\x82A" },
		{ "\xf0\x9f\x98", 3, "\"\\\\xf0\\\\x9f\\\\x98\"", "\\xf0\\x9f\\x98" },
		{ "x\xc3", 2, "\"x\\\\xc3\"", "x\\xc3" },
		/* stray continuation bytes, and a valid character right after */
		{ "\x80", 1, "\"\\\\x80\"", "\\x80" },
		{ "\xbf\xc3\xa9", 3, "\"\\\\xbf\xc3\xa9\"", "\\xbf\xc3\xa9" },
		/* Latin-1 as sent by an old server banner */
		{ "caf\xe9", 4, "\"caf\\\\xe9\"", "caf\\xe9" },
	};
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(bad); i++)
		check_bytes(bad[i].in, bad[i].n, bad[i].want, bad[i].visible);
}

/* Whatever the bytes, the result parses, is one line, and holds no raw control byte,
 * no HTML metacharacter and nothing that is not UTF-8 (jansson checks that). */
static void test_random_bytes_stay_safe(void **state)
{
	unsigned seed = 12345;
	uint8_t in[64];
	json_error_t e;
	size_t i, k;
	int round;

	for (round = 0; round < 5000; round++) {
		size_t n = (size_t)(round % 64);
		char *out;
		json_t *j;

		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (uint8_t)(seed >> 16);
			/* bias toward the interesting bytes */
			if ((seed & 7) == 0)
				in[i] = (uint8_t)(0x80 | (in[i] & 0x3f));
		}
		out = esc(in, n);
		for (k = 0; out[k] != '\0'; k++) {
			uint8_t c = (uint8_t)out[k];

			assert_true(c >= 0x20 && c != 0x7f);
			assert_true(c != '<' && c != '>' && c != '&' && c != '\'');
		}
		j = json_loads(out, JSON_DECODE_ANY, &e);
		if (j == NULL)
			fail_msg("round %d: jansson rejects %s: %s", round, out, e.text);
		json_decref(j);
		free(out);
	}
}

static void test_keys_are_escaped(void **state)
{
	struct jw w;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_int(&w, "a\"b<", 1);
	jw_obj_close(&w);
	assert_int_equal(w.err, 0);
	assert_string_equal(w.buf, "{\"a\\\"b\\u003c\":1}");
	jw_free(&w);
}

static void test_nesting_and_types(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0xab, 0xff };
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t mac[6] = { 0x02, 0xAB, 0xcd, 0x00, 0x00, 0x66 };
	struct op_addr a4, a6, none;
	json_error_t e;
	struct jw w;
	json_t *j;

	util_addr_set4(&a4, v4);
	util_addr_set6(&a6, v6);
	memset(&none, 0, sizeof(none));

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "s", "x");
	jw_str(&w, "nul", NULL);
	jw_int(&w, "imin", INT64_MIN);
	jw_int(&w, "imax", INT64_MAX);
	jw_uint(&w, "u", 42);
	jw_bool(&w, "t", true);
	jw_bool(&w, "f", false);
	jw_null(&w, "n");
	jw_hex(&w, "hex", bytes, sizeof(bytes));
	jw_hex(&w, "hex0", NULL, 0);
	jw_addr(&w, "a4", &a4);
	jw_addr(&w, "a6", &a6);
	jw_addr(&w, "a0", &none);
	jw_mac(&w, "mac", mac);
	jw_ts(&w, "ts", 1795364400123456ull);
	jw_arr_open(&w, "arr");
	jw_int(&w, NULL, 1);
	jw_obj_open(&w, NULL);
	jw_arr_open(&w, "inner");
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_str(&w, NULL, "z");
	jw_arr_close(&w);
	jw_obj_open(&w, "empty");
	jw_obj_close(&w);
	jw_raw(&w, "raw", "{\"k\":[1,2]}", 11);
	jw_obj_close(&w);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.depth, 0);

	j = json_loads(w.buf, 0, &e);
	if (j == NULL)
		fail_msg("jansson rejects %s: %s", w.buf, e.text);
	assert_string_equal(json_string_value(json_object_get(j, "s")), "x");
	assert_true(json_is_null(json_object_get(j, "nul")));
	assert_true(json_integer_value(json_object_get(j, "imin")) == INT64_MIN);
	assert_true(json_integer_value(json_object_get(j, "imax")) == INT64_MAX);
	assert_int_equal(json_integer_value(json_object_get(j, "u")), 42);
	assert_true(json_is_true(json_object_get(j, "t")));
	assert_true(json_is_false(json_object_get(j, "f")));
	assert_true(json_is_null(json_object_get(j, "n")));
	assert_string_equal(json_string_value(json_object_get(j, "hex")), "00abff");
	assert_string_equal(json_string_value(json_object_get(j, "hex0")), "");
	assert_string_equal(json_string_value(json_object_get(j, "a4")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(j, "a6")), "2001:db8::1");
	assert_true(json_is_null(json_object_get(j, "a0")));
	assert_string_equal(json_string_value(json_object_get(j, "mac")), "02:ab:cd:00:00:66");
	assert_string_equal(json_string_value(json_object_get(j, "ts")), "2026-11-22T16:20:00.123456Z");
	assert_int_equal(json_array_size(json_object_get(j, "arr")), 3);
	assert_int_equal(json_object_size(json_object_get(j, "empty")), 0);
	assert_int_equal(json_integer_value(json_array_get(
		json_object_get(json_object_get(j, "raw"), "k"), 1)), 2);
	json_decref(j);
	jw_free(&w);

	/* jansson stops at INT64_MAX: check the text */
	jw_init(&w);
	jw_uint(&w, NULL, UINT64_MAX);
	assert_string_equal(w.buf, "18446744073709551615");
	jw_free(&w);
}

static void test_double(void **state)
{
	static const double ok[] = { 0.0, -0.0, 0.1, 1.0 / 3, 1e300, -2.5e-300, 123456789.0 };
	json_error_t e;
	struct jw w;
	json_t *j;
	size_t i;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_double(&w, "a", NAN);
	jw_double(&w, "b", INFINITY);
	jw_double(&w, "c", -INFINITY);
	jw_arr_open(&w, "ok");
	for (i = 0; i < ONPATH_ARRAY_LEN(ok); i++)
		jw_double(&w, NULL, ok[i]);
	jw_arr_close(&w);
	jw_obj_close(&w);
	assert_int_equal(w.err, 0);
	assert_null(strstr(w.buf, "nan"));
	assert_null(strstr(w.buf, "inf"));
	assert_non_null(strstr(w.buf, "{\"a\":null,\"b\":null,\"c\":null,"));
	assert_non_null(strstr(w.buf, "0.1,"));
	j = json_loads(w.buf, 0, &e);
	if (j == NULL)
		fail_msg("jansson rejects %s: %s", w.buf, e.text);
	for (i = 0; i < ONPATH_ARRAY_LEN(ok); i++)
		assert_true(json_number_value(json_array_get(json_object_get(j, "ok"), i)) == ok[i]);
	json_decref(j);
	jw_free(&w);
}

static void test_depth_overflow(void **state)
{
	struct jw w;
	size_t len;
	int i;

	jw_init(&w);
	jw_arr_open(&w, NULL);
	for (i = 1; i < JW_MAX_DEPTH - 1; i++)
		jw_arr_open(&w, NULL);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.depth, JW_MAX_DEPTH - 1);
	len = w.len;
	jw_arr_open(&w, NULL); /* one too many */
	assert_int_not_equal(w.err, 0);
	/* sticky: nothing more is written */
	jw_int(&w, NULL, 1);
	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_arr_close(&w);
	assert_int_equal(w.len, len);
	assert_int_equal(strlen(w.buf), len);
	assert_int_not_equal(w.err, 0);
	assert_null(jw_take(&w, &len));
	assert_int_equal(len, 0);
	/* taken: w is a fresh writer again */
	assert_int_equal(w.err, 0);
	jw_str(&w, NULL, "ok");
	assert_string_equal(w.buf, "\"ok\"");
	jw_free(&w);
}

static void test_bad_nesting(void **state)
{
	struct jw w;

	/* key missing inside an object */
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_int(&w, NULL, 1);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);

	/* key given inside an array */
	jw_init(&w);
	jw_arr_open(&w, NULL);
	jw_int(&w, "k", 1);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);

	/* close that does not match */
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_arr_close(&w);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);

	/* close with nothing open */
	jw_init(&w);
	jw_obj_close(&w);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);

	/* two top-level values would be two lines' worth in one */
	jw_init(&w);
	jw_int(&w, NULL, 1);
	assert_int_equal(w.err, 0);
	jw_int(&w, NULL, 2);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);

	/* a key at the top level */
	jw_init(&w);
	jw_int(&w, "k", 1);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);

	/* still open at take: not handed out */
	jw_init(&w);
	jw_obj_open(&w, NULL);
	assert_null(jw_take(&w, NULL));
	jw_free(&w);
}

static void test_take_and_reset(void **state)
{
	struct jw w;
	size_t len = 0;
	char *p;

	jw_init(&w);
	assert_non_null(w.buf);
	assert_string_equal(w.buf, "");
	jw_obj_open(&w, NULL);
	jw_str(&w, "k", "v");
	jw_obj_close(&w);
	p = jw_take(&w, &len);
	assert_non_null(p);
	assert_string_equal(p, "{\"k\":\"v\"}");
	assert_int_equal(len, strlen(p));
	assert_true(w.buf != p);
	assert_int_equal(w.len, 0);
	free(p);

	/* reset keeps the buffer and clears the error */
	jw_int(&w, NULL, 1);
	jw_int(&w, NULL, 2);
	assert_int_not_equal(w.err, 0);
	p = w.buf;
	jw_reset(&w);
	assert_int_equal(w.err, 0);
	assert_ptr_equal(w.buf, p);
	assert_string_equal(w.buf, "");
	jw_int(&w, NULL, 3);
	assert_string_equal(w.buf, "3");
	jw_free(&w);
	assert_null(w.buf);
}

static void test_large_string(void **state)
{
	size_t n = 1u << 20, len;
	char *in = malloc(n), *out;
	struct jw w;

	assert_non_null(in);
	memset(in, '<', n);
	jw_init(&w);
	jw_strn(&w, NULL, in, n);
	assert_int_equal(w.err, 0);
	out = jw_take(&w, &len);
	assert_int_equal(len, 6 * n + 2);
	assert_memory_equal(out + 1, "\\u003c\\u003c", 12);
	free(out);
	free(in);
	jw_free(&w);
}

static void test_escape_primitive(void **state)
{
	struct jw w;

	jw_init(&w);
	jw_escape(&w, "a\"<\n\xff", 5);
	assert_int_equal(w.err, 0);
	assert_string_equal(w.buf, "a\\\"\\u003c\\n\\\\xff");
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quote_backslash),
		cmocka_unit_test(test_short_controls),
		cmocka_unit_test(test_every_control_char),
		cmocka_unit_test(test_nul_inside),
		cmocka_unit_test(test_html_js),
		cmocka_unit_test(test_line_separators),
		cmocka_unit_test(test_valid_utf8_passes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_random_bytes_stay_safe),
		cmocka_unit_test(test_keys_are_escaped),
		cmocka_unit_test(test_nesting_and_types),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_depth_overflow),
		cmocka_unit_test(test_bad_nesting),
		cmocka_unit_test(test_take_and_reset),
		cmocka_unit_test(test_large_string),
		cmocka_unit_test(test_escape_primitive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
