/* ssh_app.c - the SSH stream consumer (monitor/app.h): follows the clear-text start of
 * an SSH connection (decode/ssh.c) in both directions and hands each banner, KEXINIT
 * and the server host key to the detectors (struct ssh_ev, m = the packet that
 * completed the step, src = its sender).
 *
 * Cost: every TCP flow is offered; on a port other than 22 and 2222 the first bytes of
 * each direction must start "SSH-" (RFC 4253 4.2: both sides send their identification
 * at once), so a non-SSH flow costs one 4-byte look. On 22 and 2222 the server may
 * send lines before its identification. A connection is followed until both
 * directions reach NEWKEYS (after that everything is encrypted), an error, a gap or a
 * FIN. Per-flow state: one struct ssh_sess (about 21 KiB, SSH flows only).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "ssh.h"
#include "stream.h"

#define SSH_PORT 22
#define SSH_ALT_PORT 2222

struct ssh_app {
	struct ssh_sess s;
	bool well_known;   /* responder port 22 / 2222 */
};

struct cb {
	struct app_ctx *ctx;
};

static int on_step(void *ud, const struct ssh_msg *msg)
{
	struct cb *c = ud;
	if (!c->ctx->dets || !c->ctx->m)
		return 0;
	struct ssh_ev ev;
	ev.m = *c->ctx->m;
	ev.msg = msg;
	det_dispatch_ssh(c->ctx->dets, &ev, c->ctx->alerts);
	return 0;
}

static bool ssh_wants(const struct flow *f, uint16_t resp_port)
{
	(void)f;
	(void)resp_port;
	return true;
}

/* 1: starts "SSH-", 0: cannot, -1: too short to tell. */
static int sniff(const uint8_t *data, size_t len)
{
	static const char pfx[] = "SSH-";
	size_t n = len < 4 ? len : 4;
	if (n && memcmp(data, pfx, n) != 0)
		return 0;
	return len >= 4 ? 1 : -1;
}

static enum app_verdict ssh_on_data(struct app_ctx *ctx, void **state, struct flow *f, int dir,
				    const uint8_t *data, size_t len, uint32_t sflags)
{
	if (dir != FLOW_DIR_ORIG && dir != FLOW_DIR_REPLY)
		return APP_DONE;
	if (ctx->dets && !det_wants_ssh(ctx->dets))
		return APP_DONE;
	bool ending = (sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL)) != 0;
	struct ssh_app *t = *state;
	if (!t) {
		struct op_addr o, r;
		uint16_t op, rp;
		flow_endpoints(f, &o, &op, &r, &rp);
		bool wk = rp == SSH_PORT || rp == SSH_ALT_PORT;
		/* Elsewhere the first bytes decide, before any allocation. */
		if (!wk) {
			int sn = sniff(data, len);
			if (sn == 0)
				return APP_DONE;
			if (sn < 0)
				return ending ? APP_DONE : APP_MORE;
		}
		t = malloc(sizeof(*t));
		if (!t)
			return APP_DONE;
		dec_ssh_init(&t->s);
		t->well_known = wk;
		*state = t;
	}
	if (!t->well_known && t->s.d[dir].off == 0 && sniff(data, len) == 0)
		return APP_DONE;
	struct cb c = { ctx };
	int err = dec_ssh_feed(&t->s, dir, data, len, on_step, &c);
	/* Another protocol on an SSH port is not a malformed SSH connection. */
	if (err == SSH_ERR_NOT_SSH)
		return APP_DONE;
	if (err && ctx->malformed)
		(*ctx->malformed)++;
	if (ending && !dec_ssh_dir_done(&t->s, dir))
		dec_ssh_dir_stop(&t->s, dir); /* nothing more will come */
	if (dec_ssh_dir_done(&t->s, 0) && dec_ssh_dir_done(&t->s, 1))
		return APP_DONE;
	/* The server's side carries everything judged: once it is over, so is the flow. */
	if (dec_ssh_dir_done(&t->s, 1) && t->s.msg.hostkey.present)
		return APP_DONE;
	return APP_MORE;
}

static void ssh_free_state(void *state)
{
	free(state);
}

const struct app_consumer app_ssh = {
	.name = "ssh",
	.wants = ssh_wants,
	.on_data = ssh_on_data,
	.free_state = ssh_free_state,
};
