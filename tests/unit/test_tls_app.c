/* test_tls_app.c - the TLS stream consumer (monitor/decode/tls_app.c): the events it
 * hands to the detectors, in particular the failure event of a handshake that ends in
 * an alert or a close before it completed (what downgrade.fallback_scsv needs). The
 * detectors are replaced by a recorder (det_dispatch_tls below). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/tls.h"
#include "stream.h"

extern const struct app_consumer app_tls;

#define MAX_EVS 8

static struct rec {
	bool client, server, chain;
	uint8_t fail;
	bool by_server;
	uint8_t level, desc;
	bool failed_client, failed_server, scsv;
	uint16_t failed_version;
} evs[MAX_EVS];
static int nevs;

void det_dispatch_tls(struct det_registry *r, const struct tls_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	assert_true(nevs < MAX_EVS);
	struct rec *e = &evs[nevs++];
	memset(e, 0, sizeof(*e));
	e->client = ev->client != NULL;
	e->server = ev->server != NULL;
	e->chain = ev->chain != NULL;
	e->fail = ev->fail;
	e->by_server = ev->fail_by_server;
	e->level = ev->alert_level;
	e->desc = ev->alert_desc;
	e->failed_client = ev->failed_client != NULL;
	e->failed_server = ev->failed_server != NULL;
	if (ev->failed_client) {
		e->scsv = ev->failed_client->fallback_scsv;
		e->failed_version = ev->failed_client->version;
	}
}

/* A TLS 1.0 ClientHello retrying with TLS_FALLBACK_SCSV (RFC 7507), as in the corpus
 * capture downgrade/ndpi_tls_alert.pcap. */
static const uint8_t ch_scsv[] = {
	0x16, 0x03, 0x01, 0x00, 0x31,       /* record: handshake, TLS 1.0, 49 bytes */
	0x01, 0x00, 0x00, 0x2d,             /* ClientHello, 45 bytes */
	0x03, 0x01,                         /* client_version TLS 1.0 */
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, /* random */
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x00,                               /* session_id: empty */
	0x00, 0x04, 0x00, 0x2f, 0x56, 0x00, /* suites: AES128-SHA, TLS_FALLBACK_SCSV */
	0x01, 0x00,                         /* compression: null */
	0x00, 0x00,                         /* extensions: none */
};

/* The server's answer: fatal protocol_version (70). */
static const uint8_t alert_pv[] = {
	0x15, 0x03, 0x01, 0x00, 0x02, /* record: alert, TLS 1.0, 2 bytes */
	0x02, 0x46,                   /* fatal, protocol_version */
};

/* A warning close_notify: not the end of a handshake by itself (RFC 5246 7.2). */
static const uint8_t alert_warn[] = {
	0x15, 0x03, 0x01, 0x00, 0x02, /* record: alert */
	0x01, 0x00,                   /* warning, close_notify */
};

/* A TLS 1.0 ServerHello picking AES128-SHA. */
static const uint8_t sh10[] = {
	0x16, 0x03, 0x01, 0x00, 0x2a,       /* record: handshake, 42 bytes */
	0x02, 0x00, 0x00, 0x26,             /* ServerHello, 38 bytes */
	0x03, 0x01,                         /* server_version TLS 1.0 */
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* random */
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x00,                               /* session_id: empty */
	0x00, 0x2f,                         /* cipher suite */
	0x00,                               /* compression */
};

struct conn {
	void *state;
	struct ev_meta m;
	uint64_t malformed;
	int dummy;
	struct app_ctx ctx;
};

static void conn_init(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->m.community_id = "";
	c->ctx.dets = (struct det_registry *)&c->dummy; /* never dereferenced: the recorder */
	c->ctx.m = &c->m;
	c->ctx.malformed = &c->malformed;
	nevs = 0;
}

static enum app_verdict feed(struct conn *c, int dir, const uint8_t *p, size_t n, uint32_t flags)
{
	return app_tls.on_data(&c->ctx, &c->state, NULL, dir, p, n, flags);
}

static void conn_free(struct conn *c)
{
	app_tls.free_state(c->state);
	c->state = NULL;
}

static void test_alert_is_a_failure(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c);
	assert_int_equal(feed(&c, 0, ch_scsv, sizeof(ch_scsv), 0), APP_MORE);
	assert_int_equal(nevs, 1);
	assert_true(evs[0].client && !evs[0].fail);
	/* The server refuses: one failure event, the flow is done. */
	assert_int_equal(feed(&c, 1, alert_pv, sizeof(alert_pv), 0), APP_DONE);
	assert_int_equal(nevs, 2);
	assert_int_equal(evs[1].fail, TLS_FAIL_ALERT);
	assert_true(evs[1].by_server);
	assert_int_equal(evs[1].level, 2);
	assert_int_equal(evs[1].desc, 70);
	assert_true(evs[1].failed_client && !evs[1].failed_server);
	assert_true(evs[1].scsv);
	assert_int_equal(evs[1].failed_version, TLS_V_10);
	/* client/server/chain stay NULL on it: hello judges see nothing new. */
	assert_false(evs[1].client || evs[1].server || evs[1].chain);
	/* A FIN afterwards (if the sensor still called) sends nothing more. */
	feed(&c, 1, alert_pv, sizeof(alert_pv), STREAM_F_FIN);
	assert_int_equal(nevs, 2);
	conn_free(&c);
}

static void test_close_is_a_failure(void **state)
{
	(void)state;
	struct conn c;
	/* The server resets (or closes) after the ClientHello. */
	conn_init(&c);
	feed(&c, 0, ch_scsv, sizeof(ch_scsv), 0);
	assert_int_equal(feed(&c, 1, NULL, 0, STREAM_F_FIN), APP_DONE);
	assert_int_equal(nevs, 2);
	assert_int_equal(evs[1].fail, TLS_FAIL_CLOSE);
	assert_true(evs[1].by_server);
	conn_free(&c);
	/* The client gives up (its own FIN). */
	conn_init(&c);
	feed(&c, 0, ch_scsv, sizeof(ch_scsv), 0);
	assert_int_equal(feed(&c, 0, ch_scsv, sizeof(ch_scsv), STREAM_F_FIN), APP_DONE);
	assert_int_equal(nevs, 2);
	assert_int_equal(evs[1].fail, TLS_FAIL_CLOSE);
	assert_false(evs[1].by_server);
	conn_free(&c);
	/* The ClientHello and the FIN in the same call. */
	conn_init(&c);
	feed(&c, 0, ch_scsv, sizeof(ch_scsv), STREAM_F_FIN);
	assert_int_equal(nevs, 2);
	assert_int_equal(evs[1].fail, TLS_FAIL_CLOSE);
	conn_free(&c);
}

static void test_warning_alert_then_close(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c);
	feed(&c, 0, ch_scsv, sizeof(ch_scsv), 0);
	assert_int_equal(feed(&c, 1, alert_warn, sizeof(alert_warn), 0), APP_MORE);
	assert_int_equal(nevs, 1);
	feed(&c, 1, alert_warn, sizeof(alert_warn), STREAM_F_FIN);
	assert_int_equal(nevs, 2);
	assert_int_equal(evs[1].fail, TLS_FAIL_CLOSE);
	conn_free(&c);
}

static void test_no_failure_after_server_hello_or_without_hello(void **state)
{
	(void)state;
	struct conn c;
	/* A ServerHello came: a close before the Certificate is not a failed attempt. */
	conn_init(&c);
	feed(&c, 0, ch_scsv, sizeof(ch_scsv), 0);
	assert_int_equal(feed(&c, 1, sh10, sizeof(sh10), 0), APP_MORE);
	assert_int_equal(nevs, 2);
	assert_true(evs[1].client && evs[1].server && !evs[1].fail);
	feed(&c, 1, sh10, sizeof(sh10), STREAM_F_FIN);
	assert_int_equal(nevs, 2);
	conn_free(&c);
	/* ... but an alert after it is, with the ServerHello attached. */
	conn_init(&c);
	feed(&c, 0, ch_scsv, sizeof(ch_scsv), 0);
	uint8_t both[sizeof(sh10) + sizeof(alert_pv)];
	memcpy(both, sh10, sizeof(sh10));
	memcpy(both + sizeof(sh10), alert_pv, sizeof(alert_pv));
	assert_int_equal(feed(&c, 1, both, sizeof(both), 0), APP_DONE);
	assert_int_equal(nevs, 3);
	assert_int_equal(evs[2].fail, TLS_FAIL_ALERT);
	assert_true(evs[2].failed_client && evs[2].failed_server);
	conn_free(&c);
	/* No ClientHello (the flow opens with the server's alert): nothing to report. */
	conn_init(&c);
	feed(&c, 1, alert_pv, sizeof(alert_pv), 0);
	feed(&c, 1, alert_pv, sizeof(alert_pv), STREAM_F_FIN);
	assert_int_equal(nevs, 0);
	conn_free(&c);
}

/* A ClientHello cut at every length, then closed: never parsed, so never a failure
 * event (there is no hello to attach). */
static void test_truncated_hello_then_close(void **state)
{
	(void)state;
	for (size_t n = 1; n < sizeof(ch_scsv); n++) {
		struct conn c;
		conn_init(&c);
		feed(&c, 0, ch_scsv, n, 0);
		feed(&c, 0, ch_scsv, n, STREAM_F_FIN);
		feed(&c, 1, alert_pv, sizeof(alert_pv), STREAM_F_FIN);
		assert_int_equal(nevs, 0);
		conn_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_is_a_failure),
		cmocka_unit_test(test_close_is_a_failure),
		cmocka_unit_test(test_warning_alert_then_close),
		cmocka_unit_test(test_no_failure_after_server_hello_or_without_hello),
		cmocka_unit_test(test_truncated_hello_then_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
