/* dns.h - DNS-format messages: DNS over UDP and TCP (RFC 1035, 3596, 6891, 9460), and
 * the same wire format as used by mDNS (RFC 6762), LLMNR (RFC 4795) and the NetBIOS
 * name service (RFC 1002), decoded into a self-contained, bounded struct dns_msg.
 *
 * The message borrows nothing: names and record data are copied, as text, into the
 * message's own arena (text[]), because the packet buffer is gone once the packet
 * callback returns. Every collection has a named cap; what does not fit is counted
 * (dns_msg.dropped_*) and flagged (DNS_ANOM_*), never stored past the cap.
 *
 * Names are decompressed with the checks of unbound's pkt_dname_len(): every
 * compression pointer must point strictly before the previous pointer target (and before
 * itself), so a chain always moves backwards and ends; pointers into the 12-byte header
 * are refused; at most DNS_MAX_PTRS pointers per name; labels <= 63 bytes; names <= 255
 * bytes in wire form.
 *
 * Text form of a name: labels joined by '.', no trailing dot, the root is ".". Printable
 * ASCII stays as it is except '.' and '\\' inside a label, written "\." and "\\"; every
 * other byte is written \DDD (RFC 1035 5.1), so the text is unambiguous and holds no
 * control or non-ASCII byte. Case is kept for evidence; names compare through
 * dns_name_eq() / the case-folded hash.
 */
#ifndef ONPATH_DECODE_DNS_H
#define ONPATH_DECODE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DNS_HDR_LEN 12
#define DNS_NAME_WIRE_MAX 255   /* RFC 1035 2.3.4 */
#define DNS_LABEL_MAX 63        /* RFC 1035 2.3.4 */
#define DNS_MAX_PTRS 64         /* compression pointers followed for one name */
#define DNS_NAME_TEXT_MAX 1024  /* 4 * 255 + NUL: every byte escaped as \DDD */
#define DNS_MAX_QUESTIONS 4     /* questions stored (real messages carry one) */
#define DNS_MAX_RRS 64          /* records stored over all three sections */
#define DNS_TEXT_MAX 16384      /* arena for names and record text of one message */
#define DNS_RDATA_TEXT_MAX 320  /* text of one record's data (TXT, SVCB, unknown) */
#define DNS_MAX_OPTS 16         /* EDNS(0) option codes kept */

/* Why a message did not parse. The first value is success; the others are counted by
 * the sensor per reason (dec_dns_strerror gives a stable short name). */
enum dec_dns_err {
	DEC_DNS_OK = 0,
	DEC_DNS_ERR_HEADER,       /* shorter than the 12-byte header */
	DEC_DNS_ERR_COUNTS,       /* section counts promise more records than the message holds */
	DEC_DNS_ERR_NAME_TRUNC,   /* a name runs past the end of the message */
	DEC_DNS_ERR_LABEL_TYPE,   /* label type 0x40/0x80 (RFC 6891 deprecates extended labels) */
	DEC_DNS_ERR_NAME_LONG,    /* name longer than 255 bytes in wire form */
	DEC_DNS_ERR_PTR_FORWARD,  /* compression pointer not strictly backwards (loops, forward) */
	DEC_DNS_ERR_PTR_HEADER,   /* compression pointer into the 12-byte header */
	DEC_DNS_ERR_PTR_MANY,     /* more than DNS_MAX_PTRS pointers in one name */
	DEC_DNS_ERR_QUESTION,     /* question truncated after its name */
	DEC_DNS_ERR_RR,           /* record header (type, class, TTL, length) truncated */
	DEC_DNS_ERR_RDLEN,        /* RDLENGTH past the end of the message */
	DEC_DNS_ERR_MAX
};

/* Soft anomalies: the message framed correctly but something inside is odd. A bitmask
 * in dns_msg.anomalies; the message is still usable. */
#define DNS_ANOM_RDATA (1u << 0)     /* some record's data does not parse for its type */
#define DNS_ANOM_TRAILING (1u << 1)  /* bytes after the last record */
#define DNS_ANOM_OPT (1u << 2)       /* OPT outside additional, not at the root, or twice */
#define DNS_ANOM_TEXT_FULL (1u << 3) /* arena full: some names/data stored empty */
#define DNS_ANOM_DROPPED (1u << 4)   /* more questions/records than stored */
#define DNS_ANOM_COUNT 5
const char *dec_dns_anomaly_str(unsigned bit); /* bit index -> "rdata", "trailing", ... */

/* Record types and classes we name (others are kept by number). */
#define DNS_T_A 1
#define DNS_T_NS 2
#define DNS_T_CNAME 5
#define DNS_T_SOA 6
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_T_SRV 33     /* also NBSTAT (0x21) in the NetBIOS name service */
#define DNS_T_NB 32      /* NetBIOS general name service record (RFC 1002 4.2.1.3) */
#define DNS_T_DNAME 39
#define DNS_T_OPT 41
#define DNS_T_SVCB 64
#define DNS_T_HTTPS 65
#define DNS_T_ANY 255
#define DNS_C_IN 1

/* Header flag bits (the 16-bit word after the ID). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_F_NBNS_B 0x0010 /* NetBIOS: broadcast bit (same position as CD) */
#define DNS_NB_GROUP 0x8000 /* NetBIOS NB_FLAGS: group name (RFC 1002 4.2.1.3) */

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3

/* A string in the message's arena: text[off .. off + len), NUL-terminated. */
struct dns_str {
	uint16_t off, len;
};

enum dns_section { DNS_SEC_AN = 1, DNS_SEC_NS = 2, DNS_SEC_AR = 3 };

#define DNS_RR_F_BAD_RDATA (1u << 0) /* rdata does not parse for its type: data is hex */
#define DNS_RR_F_TEXT_CUT (1u << 1)  /* name or data text did not fit (empty or shortened) */

struct dns_question {
	struct dns_str name;
	uint64_t hash;    /* of the case-folded wire name (dns_name_hash) */
	uint16_t type, klass;
};

struct dns_rr {
	uint8_t section;    /* enum dns_section */
	uint8_t flags;      /* DNS_RR_F_* */
	uint16_t type;
	uint16_t klass;     /* as on the wire (mDNS uses the top bit for cache-flush) */
	uint16_t rdlen;
	uint32_t ttl;
	struct dns_str name;
	uint64_t name_hash;
	/* Evidence text of the data: "192.0.2.1", "mx.example.com" (CNAME/NS/PTR/DNAME),
	 * "10 mx.example.com" (MX), "\"v=spf1 ...\"" (TXT), "mname rname serial ..." (SOA),
	 * "prio weight port target" (SRV), "prio target key=value ..." (SVCB/HTTPS), the
	 * NetBIOS address for NB, "\\# len hex" (RFC 3597) for other types. */
	struct dns_str data;
	/* A/AAAA, and the first address of a NetBIOS NB record; family 0 otherwise. */
	struct op_addr addr;
	/* NB: NB_FLAGS of the first entry (DNS_NB_GROUP set for a group name); 0 otherwise. */
	uint16_t aux;
	/* Hash of the data in canonical form (names case-folded and decompressed), so two
	 * answers compare equal when they say the same thing. */
	uint64_t data_hash;
};

/* How far parsing got: the sections fully parsed. */
enum dns_stage {
	DNS_STAGE_NONE = 0,
	DNS_STAGE_HEADER,
	DNS_STAGE_QUESTION,
	DNS_STAGE_ANSWER,
	DNS_STAGE_AUTHORITY,
	DNS_STAGE_DONE
};

/* One parsed message. Self-contained (no pointer into the packet); about 20 KiB, so a
 * caller keeps one (stack or per-thread) and reuses it: dec_dns() writes the header
 * fields and only the used parts of the arrays, never the whole struct. */
struct dns_msg {
	uint16_t id;
	uint16_t flags;          /* header word: DNS_F_* */
	uint8_t qr;              /* 1 = response */
	uint8_t opcode;
	uint16_t rcode;          /* 4 header bits, extended by EDNS(0) to 12 */
	uint16_t qdcount, ancount, nscount, arcount; /* as in the header */
	uint8_t stage;           /* enum dns_stage */
	uint32_t anomalies;      /* DNS_ANOM_* */

	uint16_t nq;             /* questions stored */
	uint16_t nrr;            /* records stored, sections in order */
	uint16_t nan;            /* of which answers (the first nan records are the answers) */
	uint32_t dropped_q, dropped_rr; /* parsed but not stored (caps) */

	bool has_opt;            /* EDNS(0) */
	uint16_t edns_udp_size;
	uint8_t edns_version;
	uint16_t edns_flags;     /* DO = 0x8000 */
	uint16_t nopts;          /* options seen (codes kept: min(nopts, DNS_MAX_OPTS)) */
	uint16_t opt_codes[DNS_MAX_OPTS];

	struct dns_question q[DNS_MAX_QUESTIONS];
	struct dns_rr rr[DNS_MAX_RRS];
	uint16_t textlen;
	char text[DNS_TEXT_MAX];
};

/* Parses one DNS-format message (a UDP payload, or one message of a TCP stream without
 * its 2-byte length). Returns DEC_DNS_OK, or the enum dec_dns_err reason it stopped at;
 * on an error the fields decoded so far stay valid (stage, nq, nrr say how far). */
int dec_dns(const uint8_t *data, size_t len, struct dns_msg *out);
const char *dec_dns_strerror(int code); /* stable short name, e.g. "ptr_forward" */
/* "A", "AAAA", "CNAME", ... or "TYPE<n>" (RFC 3597) written into buf. */
#define DNS_TYPE_STRLEN 12
const char *dec_dns_type_str(uint16_t type, char buf[DNS_TYPE_STRLEN]);

/* True when the header, the question and the answer section were parsed completely:
 * detectors can judge it even when a later section is broken. */
static inline bool dec_dns_usable(const struct dns_msg *m)
{
	return m->stage >= DNS_STAGE_ANSWER;
}

/* The text of a string of m (never NULL; "" when empty). */
static inline const char *dns_str(const struct dns_msg *m, struct dns_str s)
{
	return &m->text[s.off];
}

/* The hash dec_dns() gives names: case-folded text form (the escapes make the text
 * one-to-one with the wire form). Exposed so detectors and tests can hash names they
 * are configured with the same way. */
uint64_t dec_dns_name_hash(const char *text, size_t len);

/* Adds a string to m's arena (for tests and hand-built events); returns its dns_str, or
 * an empty one (and sets DNS_ANOM_TEXT_FULL) when it does not fit. */
struct dns_str dec_dns_put(struct dns_msg *m, const char *s, size_t len);
/* Resets m to an empty message (header fields zero, no records, empty arena). */
void dec_dns_clear(struct dns_msg *m);

/* Decodes a NetBIOS first-level encoded name (RFC 1001 14.1): the first label of text
 * (32 characters 'A'..'P', two per byte) -> out = the 15-character name with trailing
 * spaces removed, printable ASCII only (others as \DDD), and *suffix = the 16th byte
 * (<00> workstation, <20> server, <1C> domain controllers, ...). Returns 0, or -1 when
 * the first label is not an encoded NetBIOS name. */
int dec_nbns_name(const char *text, size_t len, char *out, size_t cap, uint8_t *suffix);

#endif
