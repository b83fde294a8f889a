/* tls_app.c - the TLS stream consumer (monitor/app.h): follows the clear-text part of
 * a TLS handshake in both directions of a TCP flow on any port and hands the hellos
 * and the server's certificate chain to the detectors (struct tls_ev).
 *
 * Cost: every TCP flow is offered; the first bytes of a direction decide (a TLS
 * handshake record or an SSLv2 hello, else the consumer is done with the flow), so a
 * non-TLS flow costs one look. A TLS flow is followed until the server's Certificate
 * (TLS <= 1.2), the ServerHello of TLS 1.3 (the rest is encrypted), or the first sign
 * that nothing clear will follow (ChangeCipherSpec, application data, alert, error,
 * gap, FIN). Per-flow state: two record/handshake cursors (with at most TLS_HS_MAX of
 * pending handshake bytes each) and the two hellos.
 *
 * Events (m is the packet that completed the message, src = its sender):
 *   ClientHello  -> {client}
 *   ServerHello  -> {client or NULL (one-way capture), server}
 *   Certificate  -> {client, server, chain}
 * A HelloRetryRequest is not dispatched: the second ClientHello is (after_hrr set), and
 * the final ServerHello carries after_hrr.
 *
 * A handshake that fails after its ClientHello gets one failure event (fail set, the
 * hellos in failed_client/failed_server, m the packet that ended it): a fatal alert
 * record from either side before the handshake completed, or a FIN/RST from either
 * side before any ServerHello. Clients that fall back to a lower version after such a
 * failure (and the attackers who cause it) are what detectors/downgrade.c looks for.
 * A flow that just stops (expiry, gap) sends nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "reader.h"
#include "stream.h"
#include "tls.h"
#include "x509.h"

#define F_CH 0x01     /* a ClientHello was dispatched */
#define F_SH 0x02     /* a ServerHello was dispatched */
#define F_HRR 0x04    /* a HelloRetryRequest was seen */
#define F_DONE 0x08   /* nothing more wanted from this flow */
#define F_FAIL 0x10   /* the failure event was dispatched */

struct tls_app {
	struct tls_dir d[2];
	struct tls_hello *ch, *sh;   /* owned */
	uint8_t flags;
	int8_t server_dir;           /* direction of the ServerHello, -1 before */
	int8_t client_dir;           /* direction of the ClientHello, -1 before */
};

struct cb_ctx {
	struct tls_app *t;
	struct app_ctx *ctx;
	int dir;
	uint16_t recv;    /* version of the record that completed the message */
};

static void dispatch(struct cb_ctx *c, const struct cert_chain *chain)
{
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m = *c->ctx->m;
	ev.client = (c->t->flags & F_CH) ? c->t->ch : NULL;
	ev.server = (c->t->flags & F_SH) ? c->t->sh : NULL;
	ev.chain = chain;
	if (c->ctx->dets)
		det_dispatch_tls(c->ctx->dets, &ev, c->ctx->alerts);
}

/* The handshake failed in direction c->dir (how: enum tls_fail; d: that direction, for
 * the alert). Once per flow; the flow is done afterwards. */
static void dispatch_fail(struct cb_ctx *c, uint8_t how, const struct tls_dir *d)
{
	struct tls_app *t = c->t;
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m = *c->ctx->m;
	ev.fail = how;
	ev.fail_by_server = c->dir != t->client_dir;
	if (how == TLS_FAIL_ALERT) {
		ev.alert_level = d->alert_level;
		ev.alert_desc = d->alert_desc;
	}
	ev.failed_client = t->ch;
	ev.failed_server = (t->flags & F_SH) ? t->sh : NULL;
	t->flags |= F_FAIL | F_DONE;
	if (c->ctx->dets)
		det_dispatch_tls(c->ctx->dets, &ev, c->ctx->alerts);
}

static void malformed(struct cb_ctx *c)
{
	if (c->ctx->malformed)
		(*c->ctx->malformed)++;
}

/* Soft errors still describe the hello well enough to judge it. */
static bool usable(int err)
{
	return err == TLS_OK || err == TLS_ERR_EXT_DUP || err == TLS_ERR_TRAILING;
}

static struct tls_hello *hello_slot(struct tls_hello **p)
{
	if (!*p)
		*p = malloc(sizeof(**p));
	return *p;
}

static int on_client_hello(struct cb_ctx *c, unsigned type, const uint8_t *body, size_t len)
{
	struct tls_app *t = c->t;
	if (t->server_dir == c->dir)
		return 0; /* a ClientHello from the server: ignore */
	if ((t->flags & F_CH) && !(t->flags & F_HRR))
		return 0; /* a duplicate hello (suricata tls-duplicate-hello): the first counts */
	struct tls_hello *h = hello_slot(&t->ch);
	if (!h)
		return 1;
	int err = type == TLS_HS_SSL2_CLIENT_HELLO ? dec_tls_sslv2_client_hello(body, len, h)
						   : dec_tls_client_hello(body, len, 't', h);
	if (err != TLS_OK)
		malformed(c);
	if (!usable(err)) {
		t->flags &= (uint8_t)~F_CH;
		return 1;
	}
	h->after_hrr = (t->flags & F_HRR) != 0;
	h->record_version = type == TLS_HS_SSL2_CLIENT_HELLO ? TLS_V_SSL2 : c->recv;
	t->flags |= F_CH;
	t->client_dir = (int8_t)c->dir;
	dispatch(c, NULL);
	return 0;
}

static bool is_tls13(uint16_t v)
{
	/* TLS 1.3 and its drafts (0x7fxx; Facebook's 0xfbxx experiments): everything
	 * after the ServerHello is encrypted. */
	return v == TLS_V_13 || (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

static int on_server_hello(struct cb_ctx *c, const uint8_t *body, size_t len)
{
	struct tls_app *t = c->t;
	struct tls_hello *h = hello_slot(&t->sh);
	if (!h)
		return 1;
	int err = dec_tls_server_hello(body, len, 't', h);
	if (err != TLS_OK)
		malformed(c);
	if (!usable(err))
		return 1;
	t->server_dir = (int8_t)c->dir;
	if (h->kind == TLS_HELLO_RETRY) {
		t->flags |= F_HRR;
		return 0;
	}
	h->after_hrr = (t->flags & F_HRR) != 0;
	h->record_version = c->recv;
	t->flags |= F_SH;
	dispatch(c, NULL);
	if (is_tls13(h->version)) {
		t->flags |= F_DONE;
		return 1;
	}
	return 0;
}

/* RFC 6101 E / SSLv2: SERVER-HELLO = msg type 4, session-id-hit, certificate type,
 * version, certificate length, cipher-specs length, connection-id length, then the
 * certificate (one X.509 certificate), the specs and the connection id. */
static int on_sslv2_server_hello(struct cb_ctx *c, const uint8_t *msg, size_t len)
{
	struct tls_app *t = c->t;
	struct rd r = rd_init(msg, len);
	rd_skip(&r, 2); /* type, session-id-hit */
	uint8_t cert_type = rd_u8(&r);
	uint16_t ver = rd_be16(&r);
	size_t certl = rd_be16(&r), specl = rd_be16(&r), cidl = rd_be16(&r);
	const uint8_t *der = rd_ptr(&r, certl);
	struct rd specs = rd_sub(&r, specl);
	rd_skip(&r, cidl);
	if (r.err || specl % 3) {
		malformed(c);
		return 1;
	}
	struct tls_hello *h = hello_slot(&t->sh);
	if (!h)
		return 1;
	memset(h, 0, sizeof(*h));
	h->kind = TLS_HELLO_SERVER;
	h->proto = 't';
	h->sslv2 = true;
	h->legacy_version = h->version = ver;
	h->record_version = TLS_V_SSL2;
	/* SSLv2 has the client choose later; the server's first spec stands for it. */
	if (rd_left(&specs) >= 3) {
		uint32_t s = rd_be24(&specs);
		h->cipher = (uint16_t)(s & 0xffff);
	}
	dec_tls_fingerprint(h);
	t->server_dir = (int8_t)c->dir;
	t->flags |= F_SH | F_DONE;
	dispatch(c, NULL);
	if (cert_type == 1 && certl) { /* SSL_CT_X509_CERTIFICATE */
		struct cert_chain chain;
		memset(&chain, 0, sizeof(chain));
		struct cert *x = dec_x509_parse(der, certl);
		if (x) {
			chain.c[0] = x;
			chain.n = 1;
			chain.total = 1;
			chain.err = x->parse_err;
			if (x->parse_err)
				malformed(c);
			dispatch(c, &chain);
			dec_cert_chain_clear(&chain);
		}
	}
	return 1;
}

static int on_certificate(struct cb_ctx *c, const uint8_t *body, size_t len)
{
	struct tls_app *t = c->t;
	if (!(t->flags & F_SH) || c->dir != t->server_dir)
		return 0; /* a client certificate (mutual TLS): not judged here */
	struct cert_chain chain;
	memset(&chain, 0, sizeof(chain));
	int err = dec_x509_chain_parse(body, len, &chain);
	if (err != TLS_OK)
		malformed(c);
	if (chain.n)
		dispatch(c, &chain);
	dec_cert_chain_clear(&chain);
	t->flags |= F_DONE;
	return 1;
}

static int on_msg(void *ud, unsigned type, const uint8_t *body, size_t len, uint16_t recv)
{
	struct cb_ctx *c = ud;
	c->recv = recv;
	switch (type) {
	case TLS_HS_CLIENT_HELLO:
	case TLS_HS_SSL2_CLIENT_HELLO:
		return on_client_hello(c, type, body, len);
	case TLS_HS_SERVER_HELLO:
		return on_server_hello(c, body, len);
	case TLS_HS_SSL2_SERVER_HELLO:
		return on_sslv2_server_hello(c, body, len);
	case TLS_HS_CERTIFICATE:
		return on_certificate(c, body, len);
	case TLS_HS_SERVER_HELLO_DONE:
		/* TLS <= 1.2 server flight without a Certificate (anonymous or PSK suites). */
		if (c->dir == c->t->server_dir) {
			c->t->flags |= F_DONE;
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

static bool tls_wants(const struct flow *f, uint16_t resp_port)
{
	(void)f;
	(void)resp_port;
	return true;
}

static enum app_verdict tls_on_data(struct app_ctx *ctx, void **state, struct flow *f, int dir,
				    const uint8_t *data, size_t len, uint32_t sflags)
{
	(void)f;
	if (dir != 0 && dir != 1)
		return APP_DONE;
	struct tls_app *t = *state;
	if (!t) {
		/* The first bytes of the flow decide, before any allocation. */
		int s = dec_tls_sniff(data, len);
		if (s == 0)
			return APP_DONE;
		if (s < 0)
			return (sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL)) ? APP_DONE
											 : APP_MORE;
		t = calloc(1, sizeof(*t));
		if (!t)
			return APP_DONE;
		t->server_dir = -1;
		t->client_dir = -1;
		*state = t;
	}
	struct cb_ctx c = { t, ctx, dir, 0 };
	struct tls_dir *d = &t->d[dir];
	bool first = d->records == 0 && !d->stop;
	dec_tls_feed(d, data, len, on_msg, &c);
	if (d->stop == TLS_STOP_ERROR && !(first && d->err == TLS_ERR_NOT_TLS))
		malformed(&c);
	/* A failed attempt: a fatal alert before the handshake completed (F_DONE is set at
	 * the Certificate or the TLS 1.3 ServerHello), or a close before any ServerHello. */
	if ((t->flags & F_CH) && !(t->flags & (F_FAIL | F_DONE))) {
		if (d->stop == TLS_STOP_ALERT)
			dispatch_fail(&c, TLS_FAIL_ALERT, d);
		else if (!(t->flags & F_SH) && (sflags & STREAM_F_FIN))
			dispatch_fail(&c, TLS_FAIL_CLOSE, d);
	}
	if (!d->stop && (sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL))) {
		/* Nothing more will come in this direction. */
		d->stop = TLS_STOP_ERROR;
		d->err = TLS_ERR_SHORT;
		dec_tls_dir_free(d);
	}
	if (t->flags & F_DONE)
		return APP_DONE;
	/* The server's direction carries everything still wanted after the ClientHello. */
	if (t->server_dir >= 0 && t->d[t->server_dir].stop)
		return APP_DONE;
	if (t->d[0].stop && t->d[1].stop)
		return APP_DONE;
	/* A direction whose first bytes are not TLS: the flow is something else. */
	if (d->stop == TLS_STOP_ERROR && d->err == TLS_ERR_NOT_TLS)
		return APP_DONE;
	return APP_MORE;
}

static void tls_free_state(void *state)
{
	struct tls_app *t = state;
	if (!t)
		return;
	dec_tls_dir_free(&t->d[0]);
	dec_tls_dir_free(&t->d[1]);
	free(t->ch);
	free(t->sh);
	free(t);
}

const struct app_consumer app_tls = {
	.name = "tls",
	.wants = tls_wants,
	.on_data = tls_on_data,
	.free_state = tls_free_state,
};
