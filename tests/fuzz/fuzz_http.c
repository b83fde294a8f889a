#include "config.h"

/* fuzz_http.c - libFuzzer target for the HTTP stream consumer (monitor/decode/http_app.c)
 * and through it the head parser, chunked framing and the body / form looks (http.c).
 *
 * Input (the layout of fuzz_tls):
 *   byte 0      segment size (0 = each direction in one piece)
 *   byte 1      bit 0: the server direction speaks first; bit 1: FIN at the end
 *   bytes 2-3   length A of the client direction's bytes (big-endian, clipped)
 *   then A bytes of the client direction, the rest the server direction.
 * The pieces also get the raw input. Checked after every event (abort() on a
 * violation): strings are terminated within their buffers, counts within their caps.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/http.h"
#include "stream.h"

extern const struct app_consumer app_http;

static void check_str(const char *s, size_t cap)
{
	if (memchr(s, 0, cap) == NULL)
		abort();
}

static void check_msg(const struct http_msg *m)
{
	check_str(m->method, sizeof(m->method));
	check_str(m->path, sizeof(m->path));
	check_str(m->host, sizeof(m->host));
	check_str(m->auth_scheme, sizeof(m->auth_scheme));
	check_str(m->content_type, sizeof(m->content_type));
	check_str(m->location, sizeof(m->location));
	check_str(m->hsts, sizeof(m->hsts));
	if (m->ncookies > HTTP_MAX_COOKIES || m->nsetcookies > HTTP_MAX_COOKIES || m->nfields > HTTP_MAX_FORM_FIELDS ||
	    m->body_seen > HTTP_BODY_SCAN)
		abort();
	for (int i = 0; i < m->ncookies; i++)
		check_str(m->cookies[i].name, sizeof(m->cookies[i].name));
	for (int i = 0; i < m->nsetcookies; i++)
		check_str(m->setcookies[i].name, sizeof(m->setcookies[i].name));
	for (int i = 0; i < m->nfields; i++)
		check_str(m->fields[i], sizeof(m->fields[i]));
}

bool det_wants_http(const struct det_registry *r)
{
	(void)r;
	return true;
}

/* The consumer's only way out: checked here instead of judged. */
void det_dispatch_http(struct det_registry *r, const struct http_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	check_msg(ev->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The pieces on the raw bytes. */
	static struct http_msg m0;
	size_t hl, bl;
	memset(&m0, 0, sizeof(m0));
	if (dec_http_head(data, size, size & 1, &m0, &hl) == HTTP_OK) {
		if (hl > size)
			abort();
		check_msg(&m0);
		dec_http_scan_body(data + hl, size - hl, &m0);
		dec_http_scan_form(data + hl, size - hl, &m0);
		check_msg(&m0);
	}
	if (dec_http_chunked_len(data, size, &bl) == HTTP_OK && bl > size)
		abort();
	if (size && size < 600) {
		char url[600], host[64];
		memcpy(url, data, size);
		url[size] = '\0';
		if (dec_http_url_host(url, host, sizeof(host)))
			check_str(host, sizeof(host));
	}

	if (size < 4)
		return 0;
	size_t seg = data[0], flags = data[1];
	size_t la = (size_t)data[2] << 8 | data[3];
	const uint8_t *p = data + 4;
	size_t n = size - 4;
	if (la > n)
		la = n;
	const uint8_t *dir_data[2] = { p, p + la };
	size_t dir_len[2] = { la, n - la };
	size_t have[2] = { 0, 0 };
	uint64_t malformed = 0;
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	m.community_id = "";
	/* A non-NULL registry (never dereferenced: det_dispatch_http is the stub above). */
	struct app_ctx ctx = { (struct det_registry *)&m, NULL, &m, &malformed };
	void *state = NULL;
	struct flow f;
	memset(&f, 0, sizeof(f));
	int turn = (flags & 1) ? 1 : 0;
	int done = 0;
	while (!done && (have[0] < dir_len[0] || have[1] < dir_len[1])) {
		int d = turn;
		if (have[d] == dir_len[d])
			d ^= 1;
		size_t step = seg ? seg : dir_len[d];
		if (step > dir_len[d] - have[d])
			step = dir_len[d] - have[d];
		have[d] += step;
		uint32_t sf = (have[d] == dir_len[d] && (flags & 2)) ? STREAM_F_FIN : 0;
		/* A copy of exactly the prefix, so a read past it is caught by ASan. */
		uint8_t *buf = malloc(have[d] ? have[d] : 1);
		if (!buf)
			break;
		memcpy(buf, dir_data[d], have[d]);
		if (app_http.on_data(&ctx, &state, &f, d, buf, have[d], sf) == APP_DONE)
			done = 1;
		free(buf);
		turn ^= 1;
	}
	app_http.free_state(state);
	return 0;
}
