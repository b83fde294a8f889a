/* dns_tcp.c - the DNS-over-TCP stream consumer (monitor/app.h): TCP port 53 on either
 * side, and LLMNR's TCP port 5355 (RFC 4795 2.4: a client retries a truncated answer
 * over TCP to the responder, and a poisoner answers there too); each direction carries messages framed by a 2-byte length (RFC 1035 4.2.2,
 * RFC 7766 6.2.1: several may share a segment, and one may span several). Every
 * complete message is parsed with dec_dns() and dispatched to the detectors as a
 * struct dns_ev (m is the packet that completed it, src = its sender).
 *
 * Per-flow state: the offset parsed so far in each direction. The stream keeps only the
 * first bytes of each direction (streams.max_bytes), which covers the queries and
 * answers of ordinary lookups; a zone transfer stops at the budget (STREAM_F_FULL).
 * A direction stops at a gap, a FIN, a length below the 12-byte header (not DNS), or
 * after DNS_TCP_MAX_MSGS messages; the flow is released once both have stopped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "dns.h"
#include "reader.h"
#include "stream.h"

#define DNS_TCP_PORT 53
#define LLMNR_TCP_PORT 5355
#define DNS_TCP_MAX_MSGS 256 /* messages parsed per direction of one connection */

struct dns_tcp {
	size_t off[2];      /* bytes of each direction already parsed */
	uint32_t nmsg[2];
	uint8_t done[2];
};

static bool dns_tcp_wants(const struct flow *f, uint16_t resp_port)
{
	return resp_port == DNS_TCP_PORT || f->key.pa == DNS_TCP_PORT || f->key.pb == DNS_TCP_PORT ||
	       resp_port == LLMNR_TCP_PORT;
}

static enum app_verdict dns_tcp_on_data(struct app_ctx *ctx, void **state, struct flow *f,
					int dir, const uint8_t *data, size_t len, uint32_t sflags)
{
	struct dns_tcp *t = *state;
	(void)f;
	if (dir != FLOW_DIR_ORIG && dir != FLOW_DIR_REPLY)
		return APP_DONE;
	if (!t) {
		t = *state = calloc(1, sizeof(*t));
		if (!t)
			return APP_DONE;
	}
	if (!t->done[dir] && t->off[dir] <= len) {
		/* The whole contiguous prefix comes each time: resume where we stopped. */
		struct rd r = rd_init(data, len);
		rd_skip(&r, t->off[dir]);
		while (!t->done[dir]) {
			uint16_t mlen;
			if (!rd_peek_be16(&r, 0, &mlen))
				break;
			if (mlen < DNS_HDR_LEN) {
				/* Not a DNS message length: this is not DNS (or we lost sync). */
				if (ctx->malformed)
					(*ctx->malformed)++;
				t->done[dir] = 1;
				break;
			}
			if (rd_left(&r) - 2 < mlen)
				break; /* the rest of this message has not arrived yet */
			rd_skip(&r, 2);
			const uint8_t *msg = rd_ptr(&r, mlen);
			struct dns_msg dm;
			int rc = dec_dns(msg, mlen, &dm);
			if (rc != DEC_DNS_OK && ctx->malformed)
				(*ctx->malformed)++;
			if (dec_dns_usable(&dm) && ctx->dets && ctx->m) {
				struct dns_ev ev;
				ev.m = *ctx->m;
				ev.dns = &dm;
				det_dispatch_dns(ctx->dets, &ev, ctx->alerts);
			}
			t->off[dir] = rd_off(&r);
			if (++t->nmsg[dir] >= DNS_TCP_MAX_MSGS)
				t->done[dir] = 1;
		}
	}
	/* No more bytes will come for this direction. */
	if (sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL))
		t->done[dir] = 1;
	return t->done[0] && t->done[1] ? APP_DONE : APP_MORE;
}

static void dns_tcp_free(void *state)
{
	free(state);
}

const struct app_consumer app_dns_tcp = {
	.name = "dns-tcp",
	.wants = dns_tcp_wants,
	.on_data = dns_tcp_on_data,
	.free_state = dns_tcp_free,
};
