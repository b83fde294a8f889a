/* http_app.c - the HTTP/1.x stream consumer (monitor/app.h): responder ports 80, 8080
 * and 8000. Each request head (with the field names of a form-encoded body when its
 * first bytes have come) and each response head (with a look at the first
 * HTTP_BODY_SCAN bytes of its body for a login form) goes to the detectors as a
 * struct http_ev (m = the packet that completed it, src = its sender). A response
 * carries the method, path and Host of the request it answers (pipelined requests
 * are answered in order, RFC 9112 9.3.2).
 *
 * Cost: a connection is followed for its first HTTP_APP_MAX_EXCHANGES requests and
 * responses, within the stream's first bytes (streams.max_bytes); bodies are skipped
 * by their length (Content-Length or chunked framing), and a body delimited by the
 * close ends the direction. Then the flow takes the fast path. Per-flow state: the
 * request summaries and one message being completed per direction (about 10 KiB).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "http.h"
#include "reader.h"
#include "stream.h"
#include "util.h"

#define HTTP_APP_MAX_EXCHANGES 8

static const uint16_t http_ports[] = { 80, 8080, 8000 };

#define BODY_UNKNOWN_CHUNKED SIZE_MAX       /* chunked: end not found yet */
#define BODY_TILL_CLOSE (SIZE_MAX - 1)      /* no length: the body runs to the close */

struct req_sum {
	char method[HTTP_METHOD_MAX + 1];
	char path[HTTP_PATH_MAX + 1];
	char host[HTTP_HOST_MAX + 1];
	uint16_t host_port;
	bool path_truncated;
};

struct http_dir {
	size_t off;            /* start of the next message */
	size_t head_end;       /* of the pending message */
	size_t body_end;       /* absolute, or BODY_* */
	size_t chunk_pos;      /* chunked: next chunk-size line (absolute) */
	uint8_t n;             /* messages dispatched */
	bool pending;          /* head parsed, waiting for body bytes to look at */
	bool skipping;         /* dispatched, walking a chunked body to its end */
	bool done;
	struct http_msg msg;
};

struct http_app {
	struct http_dir d[2];
	struct req_sum req[HTTP_APP_MAX_EXCHANGES];
	uint8_t nreq;
};

static bool http_wants(const struct flow *f, uint16_t resp_port)
{
	(void)f;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(http_ports); i++)
		if (resp_port == http_ports[i])
			return true;
	return false;
}

static void malformed(struct app_ctx *ctx)
{
	if (ctx->malformed)
		(*ctx->malformed)++;
}

static void dispatch(struct app_ctx *ctx, const struct http_msg *m)
{
	if (!ctx->dets || !ctx->m)
		return;
	struct http_ev ev;
	ev.m = *ctx->m;
	ev.msg = m;
	det_dispatch_http(ctx->dets, &ev, ctx->alerts);
}

/* RFC 9112 6.3: how the body of the message just parsed ends. */
static size_t body_end(const struct http_app *t, int dir, const struct http_msg *m, size_t head_end)
{
	if (dir == FLOW_DIR_REPLY) {
		bool head_req = m->index < t->nreq && strcmp(t->req[m->index].method, "HEAD") == 0;
		if (head_req || m->status < 200 || m->status == 204 || m->status == 304)
			return head_end;
	}
	if (m->chunked)
		return BODY_UNKNOWN_CHUNKED;
	if (m->has_length)
		return m->content_length > SIZE_MAX - 2 - head_end ? BODY_TILL_CLOSE : head_end + (size_t)m->content_length;
	return dir == FLOW_DIR_REPLY ? BODY_TILL_CLOSE : head_end;
}

/* The bytes from off on (off <= len), through the cursor. */
static const uint8_t *from(const uint8_t *data, size_t len, size_t off)
{
	struct rd r = rd_init(data, len);
	rd_skip(&r, off);
	return rd_ptr(&r, rd_left(&r));
}

static bool known(size_t e)
{
	return e != BODY_UNKNOWN_CHUNKED && e != BODY_TILL_CLOSE;
}

/* Walks a chunked body from where the last call stopped (each chunk is read once,
 * whatever the segmentation) to find its end; false on a framing error. */
static bool find_chunked_end(struct http_dir *d, const uint8_t *data, size_t len)
{
	while (d->body_end == BODY_UNKNOWN_CHUNKED && d->chunk_pos < len) {
		size_t used;
		bool last;
		int rc = dec_http_chunk(from(data, len, d->chunk_pos), len - d->chunk_pos, &used, &last);
		if (rc == HTTP_MORE)
			break;
		if (rc != HTTP_OK)
			return false;
		d->chunk_pos += used;
		if (last)
			d->body_end = d->chunk_pos;
	}
	return true;
}

/* Completes the pending message: look at its first body bytes, dispatch it. */
static void complete(struct app_ctx *ctx, struct http_app *t, int dir, const uint8_t *data, size_t len)
{
	struct http_dir *d = &t->d[dir];
	struct http_msg *m = &d->msg;
	size_t avail = len > d->head_end ? len - d->head_end : 0;
	if (known(d->body_end) && d->body_end - d->head_end < avail)
		avail = d->body_end - d->head_end;
	const uint8_t *body = d->head_end <= len ? from(data, len, d->head_end) : NULL;
	if (dir == FLOW_DIR_ORIG) {
		if (strncmp(m->content_type, "application/x-www-form-urlencoded", 33) == 0)
			dec_http_scan_form(body, avail, m);
	} else {
		dec_http_scan_body(body, avail, m);
	}
	dispatch(ctx, m);
	d->pending = false;
	d->n++;
}

static void parse_dir(struct app_ctx *ctx, struct http_app *t, int dir, const uint8_t *data, size_t len,
		      bool ending)
{
	struct http_dir *d = &t->d[dir];
	bool response = dir == FLOW_DIR_REPLY;
	while (!d->done) {
		if (d->skipping) {
			if (!find_chunked_end(d, data, len)) {
				malformed(ctx);
				d->done = true;
				break;
			}
			if (d->body_end == BODY_UNKNOWN_CHUNKED)
				break;
			d->skipping = false;
			d->off = d->body_end;
		}
		if (!d->pending) {
			if (d->n >= HTTP_APP_MAX_EXCHANGES || d->off > len) {
				d->done = d->n >= HTTP_APP_MAX_EXCHANGES;
				break;
			}
			if (d->off == len)
				break;
			struct http_msg *m = &d->msg;
			memset(m, 0, sizeof(*m));
			m->response = response;
			m->index = d->n;
			size_t hl;
			int rc = dec_http_head(from(data, len, d->off), len - d->off, response, m, &hl);
			if (rc == HTTP_MORE)
				break;
			if (rc != HTTP_OK) {
				/* The first message of a direction that is not HTTP is another protocol
				 * on an HTTP port, not a malformed message. */
				if (!(rc == HTTP_ERR_NOT_HTTP && d->n == 0))
					malformed(ctx);
				d->done = true;
				break;
			}
			d->head_end = d->off + hl;
			/* Remembered at once: the answer may come before the request's body. */
			if (!response && t->nreq < HTTP_APP_MAX_EXCHANGES) {
				struct req_sum *q = &t->req[t->nreq++];
				memcpy(q->method, m->method, sizeof(q->method));
				memcpy(q->path, m->path, sizeof(q->path));
				memcpy(q->host, m->host, sizeof(q->host));
				q->host_port = m->host_port;
				q->path_truncated = m->path_truncated;
			}
			if (response && m->status >= 100 && m->status < 200 && m->status != 101) {
				d->off = d->head_end; /* an interim response: the real one follows */
				continue;
			}
			if (response && m->status == 101) {
				d->done = true; /* switched protocols (WebSocket, h2c): not HTTP/1 any more */
				break;
			}
			if (response && m->index < t->nreq) {
				const struct req_sum *q = &t->req[m->index];
				m->has_request = true;
				memcpy(m->method, q->method, sizeof(m->method));
				memcpy(m->path, q->path, sizeof(m->path));
				memcpy(m->host, q->host, sizeof(m->host));
				m->host_port = q->host_port;
				m->path_truncated = q->path_truncated;
			}
			d->body_end = body_end(t, dir, m, d->head_end);
			d->chunk_pos = d->head_end;
			d->pending = true;
		}
		/* Wait for the body bytes looked at: the scan window, or the whole body. */
		if (!find_chunked_end(d, data, len)) {
			malformed(ctx);
			d->done = true;
			break;
		}
		size_t want = d->head_end + (response ? HTTP_BODY_SCAN : HTTP_FORM_SCAN);
		if (known(d->body_end) && d->body_end < want)
			want = d->body_end;
		if (len < want && !ending)
			break;
		complete(ctx, t, dir, data, len);
		if (d->body_end == BODY_TILL_CLOSE) {
			d->done = true;
		} else if (d->body_end == BODY_UNKNOWN_CHUNKED) {
			d->skipping = true;
		} else {
			d->off = d->body_end;
		}
		if (ending && d->off >= len)
			break;
	}
	if (ending)
		d->done = true;
}

static enum app_verdict http_on_data(struct app_ctx *ctx, void **state, struct flow *f, int dir,
				     const uint8_t *data, size_t len, uint32_t sflags)
{
	(void)f;
	if (dir != FLOW_DIR_ORIG && dir != FLOW_DIR_REPLY)
		return APP_DONE;
	if (ctx->dets && !det_wants_http(ctx->dets))
		return APP_DONE;
	struct http_app *t = *state;
	if (!t) {
		t = *state = calloc(1, sizeof(*t));
		if (!t)
			return APP_DONE;
	}
	bool ending = (sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL)) != 0;
	parse_dir(ctx, t, dir, data, len, ending);
	/* Everything judged comes in pairs: once the client's side is over and every
	 * request it made was answered (or the server's side is over), the flow is done. */
	if (t->d[FLOW_DIR_REPLY].done)
		return APP_DONE;
	if (t->d[FLOW_DIR_ORIG].done && t->d[FLOW_DIR_REPLY].n >= t->nreq && !t->d[FLOW_DIR_REPLY].pending)
		return APP_DONE;
	return APP_MORE;
}

static void http_free_state(void *state)
{
	free(state);
}

const struct app_consumer app_http = {
	.name = "http",
	.wants = http_wants,
	.on_data = http_on_data,
	.free_state = http_free_state,
};
