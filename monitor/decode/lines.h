/* lines.h - the clear-text opening of mail, file-transfer and chat protocols, up to
 * STARTTLS: SMTP and submission (RFC 5321, 3207 STARTTLS, 4954 AUTH, 6409), IMAP
 * (RFC 9051 / 3501: greeting, CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE, literals),
 * POP3 (RFC 1939, 2449 CAPA, 2595 STLS, 5034 AUTH), FTP (RFC 959, 2389 FEAT, 4217
 * AUTH TLS) and XMPP (RFC 6120 4-6: <stream:features>, <starttls/>, <proceed/>,
 * <failure/>, SASL <auth/>; XEP-0078 jabber:iq:auth).
 *
 * A conversation (struct dec_lines_conv) is fed the contiguous bytes of each direction
 * as they grow and calls back with one struct starttls_msg per event: the server's
 * greeting, its capability list, the client's STARTTLS request, the server's answer,
 * credentials the client sends in clear, and the switch to TLS after an accepted
 * STARTTLS. Commands are matched to replies in order (a bounded FIFO), so a pipelined
 * EHLO/STARTTLS is understood and a reply is never taken for the wrong command.
 *
 * Credentials: only that they were sent, the mechanism, whether the secret is
 * recoverable from the wire (PLAIN, LOGIN, USER/PASS, IMAP LOGIN, ...), and the length
 * of the user name. Passwords are never copied: the PLAIN decoder stops at the second
 * NUL and wipes its 3-byte scratch.
 *
 * Hostile input: lines are capped at DEC_LINES_LINE_MAX (the rest of an overlong line
 * is skipped, flagged), bare LF is accepted and flagged, NUL bytes are flagged, a
 * direction is read for at most DEC_LINES_MAX_LINES lines and DEC_LINES_MAX_BYTES
 * bytes, the FIFO of pending commands is bounded. Every collection in starttls_msg has
 * a named cap; what does not fit is counted.
 */
#ifndef ONPATH_DECODE_LINES_H
#define ONPATH_DECODE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dec_lines_proto { LINES_P_NONE = 0, LINES_P_SMTP, LINES_P_IMAP, LINES_P_POP3, LINES_P_FTP, LINES_P_XMPP };

enum starttls_kind {
	STLS_GREETING = 1, /* the server's banner (SMTP/FTP 220, IMAP/POP3 "* OK"/"+OK", XMPP <stream:stream>) */
	STLS_CAPS,         /* a capability list (EHLO, CAPABILITY, CAPA, FEAT, <stream:features>) */
	STLS_REQUEST,      /* the client's STARTTLS / STLS / AUTH TLS / <starttls/> */
	STLS_REPLY,        /* the server's answer to it (accepted or refused) */
	STLS_CREDS,        /* the client sent credentials in the clear part of the session */
	STLS_TLS,          /* the client's first bytes after an accepted STARTTLS */
};

#define DEC_LINES_LINE_MAX 2048   /* bytes of one line (RFC 5321 allows 512 / 1000) */
#define DEC_LINES_MAX_LINES 256   /* lines read per direction */
#define DEC_LINES_MAX_BYTES 32768 /* bytes read per direction */
#define DEC_LINES_PENDING 16      /* commands awaiting a reply */
#define DEC_LINES_MAX_CAPS 32     /* capabilities kept per list (more are counted) */
#define DEC_LINES_CAP_MAX 48      /* bytes of one capability line kept */
#define DEC_LINES_TEXT_MAX 160    /* bytes of a greeting or reply text kept */
#define DEC_LINES_MECH_MAX 24     /* bytes of a SASL mechanism name kept */
#define DEC_LINES_TAG_MAX 32      /* bytes of an IMAP tag kept */
#define DEC_LINES_LITERAL_MAX 65536 /* an IMAP literal longer than this ends the direction */

/* Anomalies (starttls_msg.anomalies: everything seen so far in the conversation). */
#define DEC_LINES_A_LONG 0x0001       /* a line longer than DEC_LINES_LINE_MAX (skipped) */
#define DEC_LINES_A_NUL 0x0002        /* a NUL byte inside a line */
#define DEC_LINES_A_BARE_LF 0x0004    /* a line ended by LF alone */
#define DEC_LINES_A_PIPELINED 0x0008  /* a command sent while another awaited its reply */
#define DEC_LINES_A_NO_EOL 0x0010     /* the direction ended inside a line */
#define DEC_LINES_A_INJECTED 0x0020   /* clear text after STARTTLS where TLS should start
				       * (the CVE-2011-0411 command-injection shape) */
#define DEC_LINES_A_NOT_PROTO 0x0040  /* the server's first line is not the protocol */
#define DEC_LINES_A_CAPS_CUT 0x0080   /* more capabilities than DEC_LINES_MAX_CAPS */
#define DEC_LINES_A_FIFO_FULL 0x0100  /* more pipelined commands than DEC_LINES_PENDING */
#define DEC_LINES_A_LIMIT 0x0200      /* a direction reached its line or byte budget */

/* One event. Self-contained (nothing borrowed); text fields are NUL-terminated. */
struct starttls_msg {
	uint8_t proto;             /* enum dec_lines_proto */
	uint8_t kind;              /* enum starttls_kind */
	bool from_server;
	bool after_auth;           /* the client had sent credentials before this event */
	uint32_t anomalies;        /* DEC_LINES_A_*, cumulative */
	/* STLS_GREETING, STLS_REPLY: the reply code (SMTP/FTP), 0 for the others; the text
	 * of the first line as sent (any bytes: escape it for output). */
	uint16_t code;
	bool accepted;             /* STLS_REPLY: TLS will start; STLS_GREETING: a positive greeting */
	uint16_t text_len;
	char text[DEC_LINES_TEXT_MAX];
	/* STLS_CAPS (and STLS_GREETING for masked banners): */
	bool has_starttls;         /* STARTTLS / STLS / AUTH TLS|SSL / <starttls/> offered */
	bool masked;               /* a keyword or banner masked by an inspecting middlebox
				    * (ESMTP "XXXXXXXA", a banner of '*') */
	uint8_t ncaps;
	uint16_t caps_total;       /* capabilities in the list, kept or not */
	char caps[DEC_LINES_MAX_CAPS][DEC_LINES_CAP_MAX]; /* printable ASCII ('?' for other bytes) */
	char masked_cap[DEC_LINES_CAP_MAX]; /* the first masked keyword */
	/* STLS_REQUEST: the command as sent ("STARTTLS", "STLS", "AUTH TLS", "starttls"). */
	/* STLS_CREDS: */
	char mech[DEC_LINES_MECH_MAX]; /* "PLAIN", "LOGIN", "USER", "IMAP-LOGIN", "APOP", ... */
	bool cleartext;            /* the secret can be read off the wire (or replayed) */
	bool anonymous;            /* FTP anonymous / ftp */
	uint16_t user_len;         /* length of the user name, 0 when not seen */
	/* STLS_TLS: */
	bool tls_record;           /* the client's bytes start with a TLS handshake record */
};

typedef void (*dec_lines_cb)(void *ud, const struct starttls_msg *msg);

/* Per-direction reading state (internal). */
struct dec_lines_dir {
	size_t off;           /* bytes consumed */
	uint32_t lines;
	uint32_t skip;        /* raw bytes to skip (IMAP literal) */
	uint8_t in_long;      /* inside an overlong line: skip to its LF */
	uint8_t stop;         /* nothing more is read from this direction */
};

/* One conversation. Zero it with dec_lines_init; it owns no memory. */
struct dec_lines_conv {
	uint8_t proto;
	uint8_t state;                 /* internal */
	uint16_t flags;                /* internal */
	uint8_t cmd_fifo[DEC_LINES_PENDING];
	uint8_t nfifo, fifo_head;
	struct dec_lines_dir d[2];     /* [0] client, [1] server */
	uint32_t anomalies;
	/* the server reply being read */
	uint16_t reply_code;
	uint8_t reply_cmd;
	uint8_t reply_lines;
	/* the pending STARTTLS (IMAP tag) and deferred SASL credentials */
	uint8_t tag_len;
	char tag[DEC_LINES_TAG_MAX];
	uint8_t xml_depth;             /* XMPP: depth inside <stream:features> */
	uint8_t xml_text;              /* XMPP: what the next text unit is */
	uint16_t xml_user_len;         /* XMPP: the <username/> of jabber:iq:auth */
	/* After an accepted STARTTLS: where TLS starts in each direction ([0] client,
	 * [1] server), for a TLS parser to take over. */
	bool tls;
	size_t tls_off[2];
	struct starttls_msg pend;      /* the reply / capability list being built */
	struct starttls_msg creds;     /* credentials waiting for the SASL response */
};

void dec_lines_init(struct dec_lines_conv *c, enum dec_lines_proto proto);
/* The protocol usually served on a TCP port, LINES_P_NONE for others. */
enum dec_lines_proto dec_lines_proto_for_port(uint16_t port);
const char *dec_lines_proto_name(int proto);  /* "smtp", "imap", ... */
const char *dec_lines_kind_name(int kind);    /* "greeting", "caps", ... */

/* Feeds direction from_server its whole contiguous prefix data/len so far (it resumes
 * where it stopped; bytes it already read must not change); fin: no more bytes will
 * come in this direction. Calls cb (may be NULL) per event. Returns true when the
 * conversation wants nothing more (TLS started, the session moved past its opening,
 * or both directions stopped). */
bool dec_lines_feed(struct dec_lines_conv *c, bool from_server, const uint8_t *data, size_t len,
		    bool fin, dec_lines_cb cb, void *ud);
bool dec_lines_done(const struct dec_lines_conv *c);

#endif
