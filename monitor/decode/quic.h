/* quic.h - the ClientHello of a QUIC client Initial (RFC 9000 17.2.2, RFC 9001 5):
 * Initial keys derived from the Destination Connection ID with OpenSSL, header
 * protection removed, the payload decrypted (AES-128-GCM), the CRYPTO frames gathered
 * and the ClientHello parsed as a TLS hello with JA4's 'q' prefix.
 *
 * Versions: QUIC v1 (RFC 9001), v2 (RFC 9369) and draft-29 (the salt Chrome shipped
 * before v1). A ClientHello spread over several Initial packets (large key shares,
 * post-quantum) is gathered in a small bounded table keyed by the client's address,
 * port and DCID: the packet that completes it returns the hello.
 */
#ifndef ONPATH_DECODE_QUIC_H
#define ONPATH_DECODE_QUIC_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "tls.h"

#define QUIC_MAX_CID 20            /* RFC 9000 17.2: connection IDs up to 20 bytes */
#define QUIC_CRYPTO_MAX (16u * 1024u) /* ClientHello bytes gathered per connection */
#define QUIC_PENDING_MAX 64        /* connections with a partial ClientHello (per thread) */
#define QUIC_MAX_FRAMES 256        /* frames walked per packet */
#define QUIC_MIN_CLIENT_DGRAM 1200 /* RFC 9000 14.1 */

enum quic_err {
	QUIC_OK = 0,
	QUIC_ERR_SHORT,        /* a header field runs past the datagram */
	QUIC_ERR_NOT_INITIAL,  /* not a long-header Initial (short header, Handshake, Retry, VN) */
	QUIC_ERR_VERSION,      /* a version whose Initial keys we do not know */
	QUIC_ERR_DECRYPT,      /* the AEAD tag does not verify (not a client Initial, or damaged) */
	QUIC_ERR_FRAME,        /* a frame that is malformed or not allowed in an Initial */
	QUIC_ERR_INCOMPLETE,   /* the ClientHello continues in a later packet (kept) */
	QUIC_ERR_TLS,          /* the CRYPTO stream is not a usable ClientHello */
	QUIC_ERR_MAX
};
const char *dec_quic_strerror(int e);

/* A client Initial in p's UDP payload. Cheap to call on any UDP packet: a datagram
 * under 1200 bytes, a short header or an unknown version is refused before any
 * cryptography. Returns QUIC_OK with out filled (out->proto == 'q'), or the reason. */
int dec_quic_initial(const struct pkt *p, struct tls_hello *out);

/* The same on a bare datagram; key (may be NULL, len 0) identifies the sender for the
 * multi-packet table (address and port bytes). Exposed for tests and fuzzing. */
int dec_quic_initial_bytes(const uint8_t *d, size_t len, const void *key, size_t keylen,
			   struct tls_hello *out);

/* Frees this thread's table of partial ClientHellos. */
void dec_quic_flush(void);

#endif
