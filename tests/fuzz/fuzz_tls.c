#include "config.h"

/* fuzz_tls.c - libFuzzer target for the TLS stream consumer (monitor/decode/tls_app.c)
 * and through it the record layer, handshake reassembly, hello parsers, fingerprints
 * and the Certificate message (tls.c, x509.c).
 *
 * Input:
 *   byte 0      segment size (0 = each direction in one piece)
 *   byte 1      bit 0: the server direction speaks first; bit 1: FIN at the end
 *   bytes 2-3   length A of the first direction's bytes (big-endian, clipped)
 *   then A bytes of the client direction, the rest the server direction.
 * The two directions are fed as growing prefixes, a segment at a time, alternating,
 * as the stream reassembly would hand them over; the hello parsers also get the raw
 * input directly. Checked after every event (abort() on a violation): the lengths a
 * hello reports fit its buffers, NUL-terminated strings are terminated, chain counts
 * are within bounds.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/tls.h"
#include "decode/x509.h"
#include "stream.h"
#include "consumer.h"

extern const struct app_consumer app_tls;

static void check_hello(const struct tls_hello *h)
{
	if (h->sni_len > TLS_SNI_MAX || h->sni[h->sni_len] != '\0')
		abort();
	if (h->nciphers > TLS_MAX_CIPHERS || h->nexts > TLS_MAX_EXTS || h->ngroups > TLS_MAX_GROUPS ||
	    h->nsigalgs > TLS_MAX_SIGALGS || h->nversions > TLS_MAX_VERSIONS ||
	    h->npoint_fmts > TLS_MAX_POINT_FMTS || h->nalpn > TLS_MAX_ALPN)
		abort();
	for (unsigned i = 0; i < h->nalpn; i++)
		if (h->alpn_len[i] > TLS_ALPN_MAX || h->alpn[i][h->alpn_len[i]] != '\0')
			abort();
	if (memchr(h->ja3, 0, sizeof(h->ja3)) == NULL || memchr(h->ja4, 0, sizeof(h->ja4)) == NULL)
		abort();
}

/* The consumer's only way out: checked here instead of judged. */
void det_dispatch_tls(struct det_registry *r, const struct tls_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	if (ev->client)
		check_hello(ev->client);
	if (ev->server)
		check_hello(ev->server);
	/* A failure event: its hellos, and nothing else set. */
	if (ev->fail && (!ev->failed_client || ev->client || ev->server || ev->chain))
		abort();
	if (ev->failed_client)
		check_hello(ev->failed_client);
	if (ev->failed_server)
		check_hello(ev->failed_server);
	if (ev->chain) {
		if (ev->chain->n > CERT_MAX_CHAIN || ev->chain->n > ev->chain->total)
			abort();
		for (unsigned i = 0; i < ev->chain->n; i++) {
			const struct cert *c = ev->chain->c[i];
			if (!c || c->nsans > CERT_MAX_SANS || memchr(c->subject, 0, sizeof(c->subject)) == NULL)
				abort();
			for (unsigned k = 0; k < c->nsans; k++)
				if (dec_cert_san(c, k)[c->san_len[k]] != '\0')
					abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello h;
	/* The hello parsers on the raw bytes. */
	if (dec_tls_client_hello(data, size, 't', &h) >= 0)
		check_hello(&h);
	if (dec_tls_server_hello(data, size, 't', &h) >= 0)
		check_hello(&h);
	if (dec_tls_sslv2_client_hello(data, size, &h) >= 0)
		check_hello(&h);

	fuzz_consumer(&app_tls, data, size, NULL);
	return 0;
}
