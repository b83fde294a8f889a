#include "config.h"

/* test_classify.c - monitor/classify.c: the limits on the packets kept for nDPI (per
 * flow, per packet count, for all flows), the bytes given back when flows go, nDPI
 * started only when first asked, and nDPI's answer on a real TLS flow (the first
 * connection of tests/captures/tls-intercept.pcap). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "classify.h"

static uint8_t pkt[CLS_FLOW_BYTES];

static void test_per_flow_limits(void **state)
{
	struct cls *c = cls_new();
	assert_non_null(c);
	struct cls_flow *f = cls_flow_new(c), *g = cls_flow_new(c);
	struct cls_stats st;
	(void)state;

	assert_non_null(f);
	for (int i = 0; i < CLS_MAX_PACKETS; i++)
		assert_true(cls_keep(c, f, pkt, 100, (uint64_t)i));
	assert_false(cls_keep(c, f, pkt, 100, 99)); /* one packet too many */
	/* Bytes: the packets that fit, then a refusal. */
	size_t big = 10000, n = 0;
	while (cls_keep(c, g, pkt, big, 1))
		n++;
	assert_int_equal(n, CLS_FLOW_BYTES / big);
	assert_false(cls_keep(c, g, NULL, 10, 1));
	assert_false(cls_keep(c, g, pkt, 0, 1));
	cls_get_stats(c, &st);
	assert_int_equal(st.kept, CLS_MAX_PACKETS + n);
	assert_true(st.refused >= 2);
	assert_false(st.started); /* nobody asked: nDPI not started */
	cls_flow_free(c, f);
	cls_flow_free(c, g);
	cls_get_stats(c, &st);
	assert_int_equal(st.bytes, 0);
	cls_free(c);
}

static void test_budget(void **state)
{
	enum { FLOWS = CLS_BUDGET / CLS_FLOW_BYTES + 16 };
	struct cls *c = cls_new();
	struct cls_flow **fl = calloc(FLOWS, sizeof(*fl));
	struct cls_stats st;
	(void)state;

	assert_non_null(fl);
	int made = 0;
	for (int i = 0; i < FLOWS; i++) {
		fl[i] = cls_flow_new(c);
		if (!fl[i])
			continue; /* the budget is spent: no state either */
		made++;
		while (cls_keep(c, fl[i], pkt, 4000, 1))
			;
	}
	assert_true(made < FLOWS);
	cls_get_stats(c, &st);
	assert_true(st.peak_bytes <= CLS_BUDGET);
	assert_true(st.bytes > CLS_BUDGET - 2 * CLS_FLOW_BYTES); /* the budget was used */
	/* The last flows found it spent. */
	assert_null(fl[FLOWS - 1]);
	for (int i = 0; i < FLOWS; i++)
		cls_flow_free(c, fl[i]);
	cls_get_stats(c, &st);
	assert_int_equal(st.bytes, 0);
	free(fl);
	cls_free(c);
}

/* The IP packets of the first TCP connection in the capture, to one cls_flow. */
static int keep_first_flow(struct cls *c, struct cls_flow *f, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint8_t a[4] = { 0 }, b[4] = { 0 };
	int have = 0, kept = 0;

	assert_non_null(p);
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (h->caplen < 34 || d[12] != 0x08 || d[13] != 0x00 || d[23] != 6)
			continue;
		const uint8_t *ip = d + 14;
		if (!have) {
			memcpy(a, ip + 12, 4);
			memcpy(b, ip + 16, 4);
			have = 1;
		}
		if (!((memcmp(ip + 12, a, 4) == 0 && memcmp(ip + 16, b, 4) == 0) ||
		      (memcmp(ip + 12, b, 4) == 0 && memcmp(ip + 16, a, 4) == 0)))
			continue;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		kept += cls_keep(c, f, ip, h->caplen - 14, ts);
	}
	pcap_close(p);
	return kept;
}

static void test_look_tls(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct cls *c = cls_new();
	struct cls_flow *f = cls_flow_new(c);
	struct cls_info ci;
	struct cls_stats st;
	(void)state;

	snprintf(path, sizeof(path), "%s/tests/captures/tls-intercept.pcap", top ? top : ".");
	cls_get_stats(c, &st);
	uint64_t state_bytes = st.bytes; /* the flow's own state, before any packet */
	assert_true(keep_first_flow(c, f, path) > 3);
	assert_true(cls_look(c, f, &ci));
	assert_non_null(strstr(ci.proto, "TLS"));
	cls_get_stats(c, &st);
	assert_true(st.started);
	assert_int_equal(st.looked, 1);
	assert_true(st.ndpi_packets > 3);
	assert_int_equal(st.bytes, state_bytes); /* packets read, then dropped */
	/* Asked again: the same answer without the packets. */
	struct cls_info again;
	cls_look(c, f, &again);
	assert_string_equal(again.proto, ci.proto);
	assert_null(cls_risk_name(0));
	assert_non_null(cls_risk_name(1));
	cls_flow_free(c, f);
	cls_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_flow_limits),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_look_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
