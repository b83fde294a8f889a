#include "config.h"

/* fuzz_x509.c - libFuzzer target for monitor/decode/x509.c: the input is a TLS
 * Certificate message body (parsed as a chain) and also one DER certificate. Checked:
 * counts within bounds, strings terminated, every certificate released (the cache keeps
 * at most CERT_CACHE_MAX). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tls.h"
#include "decode/x509.h"

static void check(const struct cert *c)
{
	if (!c)
		return;
	if (c->nsans > CERT_MAX_SANS || memchr(c->subject, 0, sizeof(c->subject)) == NULL ||
	    memchr(c->issuer, 0, sizeof(c->issuer)) == NULL || c->subject_cn_len >= CERT_CN_MAX ||
	    memchr(c->serial, 0, sizeof(c->serial)) == NULL)
		abort();
	for (unsigned k = 0; k < c->nsans; k++)
		if (dec_cert_san(c, k)[c->san_len[k]] != '\0')
			abort();
	if ((c->x509 == NULL) != (c->parse_err != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_chain ch;
	memset(&ch, 0, sizeof(ch));
	int e = dec_x509_chain_parse(data, size, &ch);
	if (e < 0 || e >= TLS_ERR_MAX || ch.n > CERT_MAX_CHAIN || ch.n > ch.total)
		abort();
	for (unsigned i = 0; i < ch.n; i++)
		check(ch.c[i]);
	dec_cert_chain_clear(&ch);
	struct cert *c = dec_x509_parse(data, size);
	check(c);
	dec_cert_put(c);
	return 0;
}
