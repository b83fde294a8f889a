/* tls.h - TLS handshake parsing: record layer (RFC 5246 6.2, RFC 8446 5.1) reassembled
 * across TCP segments, handshake messages reassembled across records, ClientHello /
 * ServerHello / HelloRetryRequest (RFC 8446 4.1, RFC 5246 7.4.1, RFC 6101 5.6.1), the
 * SSLv2-compatible ClientHello (RFC 5246 E.2) and SSLv2 ServerHello, the Certificate
 * message of TLS <= 1.2 (RFC 5246 7.4.2), and the JA3/JA3S/JA4/JA4S fingerprints.
 *
 * Everything is read through monitor/reader.h. The parsers fill typed structures
 * (struct tls_hello here, struct cert_chain in x509.h) that the detectors judge; every
 * string copied out of a hello (SNI, ALPN) is attacker-controlled bytes and must be
 * escaped on output (jw_strn with its recorded length).
 */
#ifndef ONPATH_DECODE_TLS_H
#define ONPATH_DECODE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on what one hello keeps. Real clients stay far below (the longest cipher list in
 * the corpus has 350 entries); a longer list is kept up to the cap, flagged in
 * truncated, and the fingerprints are computed over what was kept. */
#define TLS_MAX_CIPHERS 512
#define TLS_MAX_EXTS 64
#define TLS_MAX_GROUPS 64
#define TLS_MAX_SIGALGS 64
#define TLS_MAX_VERSIONS 16
#define TLS_MAX_POINT_FMTS 16
#define TLS_MAX_ALPN 8        /* ALPN protocol names kept */
#define TLS_ALPN_MAX 32       /* bytes kept of each name (RFC 7301 allows 255) */
#define TLS_SNI_MAX 255       /* a DNS name (RFC 6066 3: HostName is a DNS name) */

/* Record and handshake limits (RFC 8446 5.1: a record's plaintext is at most 2^14
 * bytes; 5.2 allows 2^14 + 256 for ciphertext, TLS 1.2 2^14 + 2048). */
#define TLS_RECORD_MAX (16384u + 2048u)
/* The largest handshake message reassembled. A certificate chain is the largest thing
 * wanted; the stream keeps 64 KiB per direction by default. A larger message (a 16 MB
 * length field) is an error, never an allocation. */
#define TLS_HS_MAX (64u * 1024u)

/* Versions as on the wire. */
#define TLS_V_SSL2 0x0002
#define TLS_V_SSL3 0x0300
#define TLS_V_10 0x0301
#define TLS_V_11 0x0302
#define TLS_V_12 0x0303
#define TLS_V_13 0x0304

/* Handshake message types (RFC 8446 4, RFC 5246 7.4). */
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11
#define TLS_HS_SERVER_KEY_EXCHANGE 12
#define TLS_HS_CERTIFICATE_REQUEST 13
#define TLS_HS_SERVER_HELLO_DONE 14
/* Pseudo types for the SSLv2 messages (outside the TLS space). */
#define TLS_HS_SSL2_CLIENT_HELLO 0x101
#define TLS_HS_SSL2_SERVER_HELLO 0x104

/* Record content types. */
#define TLS_CT_CCS 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPDATA 23

/* Extension types we look into. */
#define TLS_EXT_SNI 0x0000
#define TLS_EXT_GROUPS 0x000a
#define TLS_EXT_POINT_FMTS 0x000b
#define TLS_EXT_SIGALGS 0x000d
#define TLS_EXT_ALPN 0x0010
#define TLS_EXT_SCT 0x0012
#define TLS_EXT_SUPPORTED_VERSIONS 0x002b
#define TLS_EXT_ECH 0xfe0d

#define TLS_CIPHER_FALLBACK_SCSV 0x5600       /* RFC 7507 */
#define TLS_CIPHER_RENEG_SCSV 0x00ff          /* RFC 5746 */

/* One parsing error enum for the module (STYLE 12). */
enum tls_err {
	TLS_OK = 0,
	TLS_ERR_SHORT,        /* a field runs past its enclosing length */
	TLS_ERR_TRAILING,     /* bytes left after the last field of a length-delimited block */
	TLS_ERR_RECORD_LEN,   /* record length 0 or above TLS_RECORD_MAX */
	TLS_ERR_HS_LEN,       /* handshake message longer than TLS_HS_MAX */
	TLS_ERR_NOT_TLS,      /* the first bytes are not a TLS or SSLv2 handshake */
	TLS_ERR_VERSION,      /* a version field outside SSL 3.0 .. TLS 1.3 (and drafts) */
	TLS_ERR_EXT_DUP,      /* an extension type twice in one hello (RFC 8446 4.2) */
	TLS_ERR_EMPTY,        /* a list that must not be empty is (cipher suites, SNI, ALPN) */
	TLS_ERR_CERT,         /* a certificate entry that is not DER X.509 */
	TLS_ERR_MAX
};
const char *dec_tls_strerror(int e);

/* Bits of tls_hello.truncated: a list longer than its cap (kept up to the cap). */
#define TLS_TRUNC_CIPHERS (1u << 0)
#define TLS_TRUNC_EXTS (1u << 1)
#define TLS_TRUNC_GROUPS (1u << 2)
#define TLS_TRUNC_SIGALGS (1u << 3)
#define TLS_TRUNC_VERSIONS (1u << 4)
#define TLS_TRUNC_ALPN (1u << 5)
#define TLS_TRUNC_SNI (1u << 6)
#define TLS_TRUNC_POINT_FMTS (1u << 7)

enum tls_hello_kind { TLS_HELLO_CLIENT = 1, TLS_HELLO_SERVER, TLS_HELLO_RETRY };

/* A ClientHello or ServerHello/HelloRetryRequest, as the detectors see it. Lists are in
 * wire order and keep GREASE values (RFC 8701); the fingerprints skip them. */
struct tls_hello {
	uint8_t kind;             /* enum tls_hello_kind */
	char proto;               /* 't' (TLS over TCP) or 'q' (QUIC), JA4's first letter */
	bool sslv2;               /* SSLv2-format hello (2-byte record header) */
	bool after_hrr;           /* client: the second ClientHello; server: a HRR came first */
	uint16_t record_version;  /* version of the record that carried it (0 for QUIC) */
	uint16_t legacy_version;  /* client_version / server_version field */
	/* Client: the highest version offered (supported_versions without GREASE, else
	 * legacy_version). Server: the version selected (supported_versions, else
	 * legacy_version). */
	uint16_t version;
	uint8_t random[32];       /* client/server random; SSLv2: the challenge, left-padded */
	uint8_t session_id_len;
	uint16_t cipher;          /* server: the suite selected */
	uint8_t compression;      /* server: the method selected */
	uint16_t ciphers[TLS_MAX_CIPHERS]; /* client: offered (SSLv2: 0x00XXXX specs only) */
	uint16_t nciphers;
	uint16_t exts[TLS_MAX_EXTS];
	uint16_t nexts;
	uint16_t groups[TLS_MAX_GROUPS];
	uint16_t ngroups;
	uint8_t point_fmts[TLS_MAX_POINT_FMTS];
	uint16_t npoint_fmts;
	uint16_t sigalgs[TLS_MAX_SIGALGS];
	uint16_t nsigalgs;
	uint16_t versions[TLS_MAX_VERSIONS]; /* supported_versions (server: the one chosen) */
	uint16_t nversions;
	bool has_sni, has_alpn, has_supported_versions, has_ech, has_sct_ext;
	bool fallback_scsv;       /* TLS_FALLBACK_SCSV offered (RFC 7507): a version retry */
	bool reneg_scsv;
	char sni[TLS_SNI_MAX + 1];  /* first host_name, NUL-terminated; raw bytes */
	uint16_t sni_len;           /* its length (may contain NUL: use with jw_strn) */
	char alpn[TLS_MAX_ALPN][TLS_ALPN_MAX + 1]; /* names in order (server: the one chosen) */
	uint8_t alpn_len[TLS_MAX_ALPN];            /* bytes kept of each */
	uint8_t nalpn;
	uint32_t truncated;       /* TLS_TRUNC_* */
	/* Fingerprints (computed by the parsers): JA3 (client) or JA3S (server) as MD5 hex,
	 * and JA4 (client) or JA4S (server); a HelloRetryRequest gets them too. */
	char ja3[33];
	char ja4[40];
};

/* True for the GREASE values of RFC 8701 (0x?a?a with both bytes equal). */
static inline bool dec_tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Parses a ClientHello body (the bytes after the 4-byte handshake header). proto is
 * 't' or 'q'. Returns TLS_OK or the reason; on an error h holds what was read. */
int dec_tls_client_hello(const uint8_t *body, size_t len, char proto, struct tls_hello *h);
/* Parses a ServerHello body; a HelloRetryRequest (RFC 8446 4.1.3 random) gets kind
 * TLS_HELLO_RETRY. */
int dec_tls_server_hello(const uint8_t *body, size_t len, char proto, struct tls_hello *h);
/* Parses an SSLv2-format ClientHello message (after the 2-byte record header: msg type
 * 1, version, lengths, cipher specs, session id, challenge). */
int dec_tls_sslv2_client_hello(const uint8_t *msg, size_t len, struct tls_hello *h);
/* Fills ja3/ja4 from the lists (called by the parsers; exposed for QUIC and tests). */
void dec_tls_fingerprint(struct tls_hello *h);
/* JA4's version token for a version value ("13", "12", ..., "s3", "s2", "00"). */
const char *dec_tls_ja4_version(uint16_t v);
/* A short name for a version ("TLSv1.2", "SSLv3", "0x7f1c"...): out has 12 bytes. */
const char *dec_tls_version_str(uint16_t v, char out[12]);

/* ---- Record layer and handshake reassembly of one direction of a stream ---- */

/* Why a direction stopped (dir.stop). */
enum tls_stop {
	TLS_STOP_NONE = 0,
	TLS_STOP_ENCRYPTED,  /* ChangeCipherSpec or application data: nothing clear follows */
	TLS_STOP_ALERT,      /* an alert record */
	TLS_STOP_ERROR,      /* malformed: dir.err says why */
	TLS_STOP_CALLBACK,   /* the message callback asked to stop */
};

struct tls_dir {
	size_t rec_off;        /* stream offset of the next record header */
	uint8_t *hs;           /* handshake bytes not yet consumed (owned; NULL when empty) */
	size_t hs_len, hs_cap;
	uint32_t records;      /* records parsed */
	uint16_t first_version; /* record version of the first record */
	bool sslv2;            /* the direction started with an SSLv2 record */
	uint8_t stop;          /* enum tls_stop */
	uint8_t alert_level, alert_desc; /* the first alert record seen */
	int err;               /* enum tls_err when stop == TLS_STOP_ERROR */
	size_t err_off;        /* stream offset of the error */
};

/* Called for each complete handshake message: type (TLS_HS_* or TLS_HS_SSL2_*), its
 * body (borrowed for the call), the record version that carried its first byte.
 * Return 0 to go on, non-zero to stop the direction (TLS_STOP_CALLBACK). */
typedef int (*tls_msg_fn)(void *ud, unsigned type, const uint8_t *body, size_t len,
			  uint16_t record_version);

/* Results of dec_tls_feed. */
enum tls_feed { TLS_FEED_MORE = 0, TLS_FEED_STOP = 1 };

/* Looks at the first bytes of a direction: 1 when they start a TLS handshake record or
 * an SSLv2 hello, 0 when they cannot, -1 when more bytes are needed to tell. */
int dec_tls_sniff(const uint8_t *data, size_t len);

/* Feeds the contiguous prefix of one direction (all of it, from the first byte: the
 * direction remembers how far it got). Complete records are parsed; handshake bytes are
 * gathered (at most TLS_HS_MAX pending) and each complete message goes to fn. Returns
 * TLS_FEED_STOP once the direction has stopped (d->stop says why), else TLS_FEED_MORE. */
int dec_tls_feed(struct tls_dir *d, const uint8_t *data, size_t len, tls_msg_fn fn, void *ud);
/* Releases d's buffer (d may be reused after a memset). */
void dec_tls_dir_free(struct tls_dir *d);

#endif
