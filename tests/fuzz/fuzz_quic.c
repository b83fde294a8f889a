#include "config.h"

/* fuzz_quic.c - libFuzzer target for monitor/decode/quic.c (and the ClientHello parser
 * behind it).
 *
 * Input: byte 0 selects the mode.
 *   even: the rest is up to 4 datagrams, each prefixed by a 2-byte length, handed to
 *         dec_quic_initial_bytes from one sender (headers, varints, the pending table);
 *   odd:  the rest is the plaintext of Initial packets (2-byte length prefixed, up to
 *         4): each is sealed here into a QUIC v1 client Initial for the DCID of RFC 9001
 *         appendix A (its published key, IV and header-protection key), so the fuzzer
 *         reaches the frame walk, CRYPTO reassembly and ClientHello parsing that a
 *         random datagram never gets past the AEAD to.
 * Checked: a QUIC_OK hello has proto 'q' and terminated strings; nothing reads past a
 * datagram (ASan).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "decode/quic.h"
#include "decode/tls.h"

static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
/* RFC 9001 A.1: client Initial key, IV and header protection key for that DCID. */
static const uint8_t key[16] = { 0x1f, 0x36, 0x96, 0x13, 0xdd, 0x76, 0xd5, 0x46,
				 0x77, 0x30, 0xef, 0xcb, 0xe3, 0xb1, 0xa2, 0x2d };
static const uint8_t iv[12] = { 0xfa, 0x04, 0x4b, 0x2f, 0x42, 0xa3, 0xfd, 0x3b, 0x46, 0xfb, 0x25, 0x5c };
static const uint8_t hp[16] = { 0x9f, 0x50, 0x44, 0x9e, 0x04, 0xa0, 0xe8, 0x10,
				0x28, 0x3a, 0x1e, 0x99, 0x33, 0xad, 0xed, 0xd2 };

/* Seals plaintext (padded to at least 20 bytes) as packet number pn. Returns the
 * datagram length. */
static size_t seal(const uint8_t *pt, size_t n, uint32_t pn, uint8_t *out, size_t cap)
{
	uint8_t plain[4096];
	if (n > sizeof(plain) - 32)
		n = sizeof(plain) - 32;
	memcpy(plain, pt, n);
	while (n < 20)
		plain[n++] = 0; /* PADDING */
	size_t hdr = 0;
	out[hdr++] = 0xc3; /* long header, fixed bit, Initial, 4-byte packet number */
	out[hdr++] = 0;
	out[hdr++] = 0;
	out[hdr++] = 0;
	out[hdr++] = 1;
	out[hdr++] = sizeof(dcid);
	memcpy(out + hdr, dcid, sizeof(dcid));
	hdr += sizeof(dcid);
	out[hdr++] = 0; /* SCID */
	out[hdr++] = 0; /* token */
	size_t len = 4 + n + 16;
	out[hdr++] = (uint8_t)(0x40 | (len >> 8));
	out[hdr++] = (uint8_t)len;
	size_t pn_off = hdr;
	out[hdr++] = (uint8_t)(pn >> 24);
	out[hdr++] = (uint8_t)(pn >> 16);
	out[hdr++] = (uint8_t)(pn >> 8);
	out[hdr++] = (uint8_t)pn;
	if (hdr + n + 16 > cap)
		return 0;
	uint8_t nonce[12];
	memcpy(nonce, iv, 12);
	for (int i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;
	int ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
		 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
		 EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) &&
		 EVP_EncryptUpdate(c, NULL, &l, out, (int)hdr) &&
		 EVP_EncryptUpdate(c, out + hdr, &l, plain, (int)n) &&
		 EVP_EncryptFinal_ex(c, out + hdr + l, &l) &&
		 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + hdr + n);
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return 0;
	uint8_t mask[16];
	c = EVP_CIPHER_CTX_new();
	ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) && EVP_CIPHER_CTX_set_padding(c, 0) &&
	     EVP_EncryptUpdate(c, mask, &l, out + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return 0;
	out[0] ^= mask[0] & 0x0f;
	for (int i = 0; i < 4; i++)
		out[pn_off + (size_t)i] ^= mask[1 + i];
	return hdr + n + 16;
}

static void check(int e, const struct tls_hello *h)
{
	if (e < 0 || e >= QUIC_ERR_MAX)
		abort();
	if (e == QUIC_OK && (h->proto != 'q' || h->sni_len > TLS_SNI_MAX || h->sni[h->sni_len] != '\0' ||
			     memchr(h->ja4, 0, sizeof(h->ja4)) == NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool sealed = data[0] & 1;
	size_t o = 1;
	static uint8_t dgram[8192];
	for (int i = 0; i < 4 && o + 2 <= size; i++) {
		size_t n = (size_t)data[o] << 8 | data[o + 1];
		o += 2;
		if (n > size - o)
			n = size - o;
		struct tls_hello h;
		/* A copy of exactly n bytes so a read past the datagram is caught. */
		uint8_t *d;
		size_t dl;
		if (sealed) {
			dl = seal(data + o, n, (uint32_t)i, dgram, sizeof(dgram));
			d = malloc(dl ? dl : 1);
			if (!d)
				break;
			memcpy(d, dgram, dl);
		} else {
			dl = n;
			d = malloc(dl ? dl : 1);
			if (!d)
				break;
			memcpy(d, data + o, dl);
		}
		check(dec_quic_initial_bytes(d, dl, "fuzz", 4, &h), &h);
		free(d);
		o += n;
	}
	return 0;
}
