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
#include "consumer.h"

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

	fuzz_consumer(&app_http, data, size, NULL);
	return 0;
}
