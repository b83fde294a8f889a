/* lines_app.c - the STARTTLS line-protocol stream consumer (monitor/app.h): SMTP and
 * submission (25, 587), IMAP (143), POP3 (110), FTP (21) and XMPP (5222, 5269) by the
 * responder's port. Both directions go to one dec_lines_conv (lines.h); each event is
 * dispatched to the detectors as a struct starttls_ev (m = the packet that completed
 * it, src = its sender).
 *
 * Cost: wants() is a port test; the flow is followed only through its opening
 * (greeting, capabilities, STARTTLS and its answer, credentials sent in clear) and at
 * most DEC_LINES_MAX_LINES lines / DEC_LINES_MAX_BYTES bytes per direction, then
 * released to the fast path: after an accepted STARTTLS, at the client's first TLS
 * bytes; without STARTTLS, at the first command of the session proper (MAIL, SELECT,
 * RETR, PASV, <message/>, ...). Per-flow state: one struct dec_lines_conv.
 *
 * After an accepted STARTTLS the bytes of each direction from where TLS starts go to
 * the TLS stream consumer (tls_app.c, through its app_consumer interface: its own
 * per-flow state, kept here), so the hellos and the certificate chain of mail and
 * file-transfer servers reach the TLS detectors like those of HTTPS. The flow is
 * released when the TLS consumer is done with it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "lines.h"
#include "reader.h"
#include "stream.h"

extern const struct app_consumer app_tls;

struct lines_app {
	struct dec_lines_conv conv;
	int8_t server_dir;   /* FLOW_DIR_* of the server */
	uint8_t tls_done;    /* the TLS consumer let go (or was not wanted) */
	void *tls;           /* the TLS consumer's state after STARTTLS (owned) */
};

struct lines_cb {
	struct app_ctx *ctx;
};

static enum dec_lines_proto flow_proto(const struct flow *f, uint16_t resp_port, int *server_dir)
{
	enum dec_lines_proto p = dec_lines_proto_for_port(resp_port);
	*server_dir = FLOW_DIR_REPLY;
	if (p != LINES_P_NONE)
		return p;
	/* A flow first seen mid-stream may have its initiator backwards: the well-known
	 * port on the initiator's side makes the initiator the server. */
	uint16_t other = resp_port == f->key.pa ? f->key.pb : f->key.pa;
	p = dec_lines_proto_for_port(other);
	if (p != LINES_P_NONE)
		*server_dir = FLOW_DIR_ORIG;
	return p;
}

static bool lines_wants(const struct flow *f, uint16_t resp_port)
{
	int sd;
	return flow_proto(f, resp_port, &sd) != LINES_P_NONE;
}

static void on_msg(void *ud, const struct starttls_msg *msg)
{
	struct lines_cb *c = ud;
	if (!c->ctx->dets || !c->ctx->m)
		return;
	struct starttls_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m = *c->ctx->m;
	ev.msg = msg;
	det_dispatch_starttls(c->ctx->dets, &ev, c->ctx->alerts);
}

static enum app_verdict lines_on_data(struct app_ctx *ctx, void **state, struct flow *f, int dir,
				      const uint8_t *data, size_t len, uint32_t sflags)
{
	if (dir != FLOW_DIR_ORIG && dir != FLOW_DIR_REPLY)
		return APP_DONE;
	if (ctx->dets && !det_wants_starttls(ctx->dets))
		return APP_DONE;
	struct lines_app *t = *state;
	if (!t) {
		struct op_addr o, r;
		uint16_t op, rp;
		int sd;
		flow_endpoints(f, &o, &op, &r, &rp);
		enum dec_lines_proto p = flow_proto(f, rp, &sd);
		if (p == LINES_P_NONE)
			return APP_DONE;
		t = calloc(1, sizeof(*t));
		if (!t)
			return APP_DONE;
		dec_lines_init(&t->conv, p);
		t->server_dir = (int8_t)sd;
		*state = t;
	}
	struct lines_cb cb = { ctx };
	uint32_t before = t->conv.anomalies;
	bool fin = (sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL)) != 0;
	bool from_server = dir == t->server_dir;
	bool done = dec_lines_feed(&t->conv, from_server, data, len, fin, on_msg, &cb);
	uint32_t bad = (t->conv.anomalies & ~before) &
		       (DEC_LINES_A_LONG | DEC_LINES_A_NUL | DEC_LINES_A_NOT_PROTO | DEC_LINES_A_FIFO_FULL);
	if (bad && ctx->malformed)
		(*ctx->malformed)++;
	if (!t->conv.tls || t->tls_done)
		return done ? APP_DONE : APP_MORE;
	/* TLS after STARTTLS: hand the TLS part of this direction to the TLS consumer. */
	if (ctx->dets && !det_wants_tls(ctx->dets)) {
		t->tls_done = 1;
		return done ? APP_DONE : APP_MORE;
	}
	size_t off = t->conv.tls_off[from_server ? 1 : 0];
	struct rd r = rd_init(data, len);
	rd_skip(&r, off);
	size_t n = rd_left(&r);
	const uint8_t *tls = rd_ptr(&r, n);
	if (r.err)
		return APP_MORE; /* not there yet */
	if (!n && !fin)
		return APP_MORE;
	if (app_tls.on_data(ctx, &t->tls, f, dir, tls, n, sflags) == APP_DONE) {
		t->tls_done = 1;
		return APP_DONE;
	}
	return APP_MORE;
}

static void lines_free_state(void *state)
{
	struct lines_app *t = state;
	if (!t)
		return;
	if (t->tls)
		app_tls.free_state(t->tls);
	free(t);
}

const struct app_consumer app_lines = {
	.name = "lines",
	.wants = lines_wants,
	.on_data = lines_on_data,
	.free_state = lines_free_state,
};
