/* lines.c - the clear-text opening of SMTP/submission, IMAP, POP3, FTP and XMPP up to
 * STARTTLS (RFC 5321, 3207, 4954; RFC 9051/3501; RFC 1939, 2449, 2595; RFC 959, 2389,
 * 4217; RFC 6120), read through the cursor of reader.h. See lines.h for the events.
 *
 * Each direction is read a line at a time (XMPP: a tag or a text run at a time) from
 * where the last call stopped. Replies are matched to commands through a FIFO, because
 * a client may pipeline (RFC 2920) and a reply only means something next to its
 * command: a "250-" list is capabilities only as the answer to EHLO, a "220" accepts
 * TLS only as the answer to STARTTLS. While STARTTLS awaits its answer the client's
 * direction is held; once TLS is accepted the server's bytes are TLS and the client's
 * next bytes are judged (TLS record or injected clear text) and the conversation ends.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lines.h"
#include "reader.h"

/* Commands awaiting a reply. */
enum { C_NONE = 0, C_GREETING, C_EHLO, C_HELO, C_STARTTLS, C_AUTH, C_CAPA, C_FEAT, C_MULTI, C_OTHER };

/* Conversation states. */
enum { ST_OPEN = 0, ST_REQ, ST_ACCEPTED, ST_DONE };

#define F_GREETED 0x0001
#define F_AUTHED 0x0002      /* credentials were sent */
#define F_SASL 0x0004        /* a SASL exchange is running: client lines are responses */
#define F_DEFERRED 0x0008    /* c->creds waits for the first SASL response */
#define F_IN_REPLY 0x0010    /* inside a multi-line reply */
#define F_POP_MULTI 0x0020   /* inside a POP3 multi-line body */
#define F_IN_FEAT 0x0040     /* XMPP: inside <stream:features> */
#define F_FEAT_DONE 0x0080   /* XMPP: the first <stream:features> was read */
#define F_CONT 0x0100        /* IMAP: the next client line continues a command (literal) */
#define F_REPLY_CAPS 0x0200  /* the reply being read is a capability list */
#define F_CLIENT 0x0400      /* the client sent a line */

/* XMPP text units. */
enum { X_NONE = 0, X_MECH, X_AUTH, X_USER };

/* A borrowed run of bytes from rd_ptr: indexable within n. */
struct ln {
	const uint8_t *p;
	size_t n;
};

struct ctx {
	struct dec_lines_conv *c;
	dec_lines_cb cb;
	void *ud;
};

static const char *const proto_names[] = { "none", "smtp", "imap", "pop3", "ftp", "xmpp" };
static const char *const kind_names[] = { "none", "greeting", "caps", "starttls_request",
					  "starttls_reply", "credentials", "tls" };

const char *dec_lines_proto_name(int proto)
{
	return proto >= 0 && proto <= LINES_P_XMPP ? proto_names[proto] : "none";
}

const char *dec_lines_kind_name(int kind)
{
	return kind >= 0 && kind <= STLS_TLS ? kind_names[kind] : "none";
}

enum dec_lines_proto dec_lines_proto_for_port(uint16_t port)
{
	switch (port) {
	case 25:
	case 587:
		return LINES_P_SMTP;
	case 143:
		return LINES_P_IMAP;
	case 110:
		return LINES_P_POP3;
	case 21:
		return LINES_P_FTP;
	case 5222:
	case 5269:
		return LINES_P_XMPP;
	default:
		return LINES_P_NONE;
	}
}

void dec_lines_init(struct dec_lines_conv *c, enum dec_lines_proto proto)
{
	memset(c, 0, sizeof(*c));
	c->proto = (uint8_t)proto;
}

bool dec_lines_done(const struct dec_lines_conv *c)
{
	return c->state == ST_DONE || (c->d[0].stop && c->d[1].stop);
}

/* ---- small helpers over borrowed bytes ---- */

static uint8_t up(uint8_t ch)
{
	return ch >= 'a' && ch <= 'z' ? (uint8_t)(ch - 32) : ch;
}

static bool ieq(struct ln t, const char *lit)
{
	size_t n = strlen(lit);
	if (t.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (up(t.p[i]) != up((uint8_t)lit[i]))
			return false;
	return true;
}

static bool iprefix(struct ln t, const char *lit)
{
	size_t n = strlen(lit);
	if (t.n < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (up(t.p[i]) != up((uint8_t)lit[i]))
			return false;
	return true;
}

static struct ln rest_of(struct rd *l)
{
	struct ln t;
	t.n = rd_left(l);
	t.p = rd_ptr(l, t.n);
	if (!t.p)
		t.n = 0;
	return t;
}

static void skip_sp(struct rd *l)
{
	uint8_t ch;
	while (rd_peek_u8(l, 0, &ch) && (ch == ' ' || ch == '\t'))
		rd_skip(l, 1);
}

/* The next token (up to a space or tab), after skipping leading blanks. */
static struct ln next_tok(struct rd *l)
{
	skip_sp(l);
	size_t n = 0;
	uint8_t ch;
	while (rd_peek_u8(l, n, &ch) && ch != ' ' && ch != '\t')
		n++;
	struct ln t = { rd_ptr(l, n), n };
	if (!t.p)
		t.n = 0;
	return t;
}

/* The same, ending also at the given byte (for "[CAPABILITY a b]"). */
static struct ln next_tok_until(struct rd *l, uint8_t end)
{
	skip_sp(l);
	size_t n = 0;
	uint8_t ch;
	while (rd_peek_u8(l, n, &ch) && ch != ' ' && ch != '\t' && ch != end)
		n++;
	struct ln t = { rd_ptr(l, n), n };
	if (!t.p)
		t.n = 0;
	return t;
}

static void put_text(struct starttls_msg *m, struct ln t)
{
	size_t n = t.n < DEC_LINES_TEXT_MAX - 1 ? t.n : DEC_LINES_TEXT_MAX - 1;
	if (n)
		memcpy(m->text, t.p, n);
	m->text[n] = '\0';
	m->text_len = (uint16_t)n;
}

static void put_printable(char *dst, size_t cap, struct ln t)
{
	size_t n = 0;
	for (size_t i = 0; i < t.n && n + 1 < cap; i++)
		dst[n++] = t.p[i] >= 0x20 && t.p[i] < 0x7f ? (char)t.p[i] : '?';
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* ESMTP keywords masked by an inspecting firewall: Cisco PIX/ASA ESMTP inspection
 * replaces the EHLO reply parameters it does not allow with 'X' ("STARTTLS" becomes
 * "XXXXXXXA"), keeping the length. No registered ESMTP keyword is three X's or more. */
static bool masked_keyword(struct ln k)
{
	size_t x = 0;
	while (x < k.n && k.p[x] == 'X')
		x++;
	if (x < 3 || k.n < 4)
		return false;
	return x == k.n || (x + 1 == k.n && k.p[x] >= 'A' && k.p[x] <= 'Z');
}

/* A banner masked by the same inspection ("mask-banner"): asterisks where the text was. */
static bool masked_banner(struct ln t)
{
	size_t stars = 0, other = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] == '*')
			stars++;
		else if (t.p[i] != ' ')
			other++;
	}
	return stars >= 8 && stars * 10 >= (stars + other) * 7;
}

static void add_cap(struct dec_lines_conv *c, struct ln whole, struct ln keyword)
{
	struct starttls_msg *m = &c->pend;
	m->caps_total++;
	if (m->ncaps < DEC_LINES_MAX_CAPS)
		put_printable(m->caps[m->ncaps++], DEC_LINES_CAP_MAX, whole);
	else
		c->anomalies |= DEC_LINES_A_CAPS_CUT;
	switch (c->proto) {
	case LINES_P_SMTP:
	case LINES_P_IMAP:
		if (ieq(keyword, "STARTTLS"))
			m->has_starttls = true;
		break;
	case LINES_P_POP3:
		if (ieq(keyword, "STLS"))
			m->has_starttls = true;
		break;
	case LINES_P_XMPP:
		if (ieq(keyword, "starttls"))
			m->has_starttls = true;
		break;
	default:
		break;
	}
	if (c->proto == LINES_P_SMTP && masked_keyword(keyword)) {
		if (!m->masked)
			put_printable(m->masked_cap, DEC_LINES_CAP_MAX, keyword);
		m->masked = true;
	}
}

static void begin(struct dec_lines_conv *c, struct starttls_msg *m, int kind, bool from_server)
{
	memset(m, 0, sizeof(*m));
	m->proto = c->proto;
	m->kind = (uint8_t)kind;
	m->from_server = from_server;
}

static void emit(struct ctx *x, struct starttls_msg *m)
{
	m->anomalies = x->c->anomalies;
	m->after_auth = (x->c->flags & F_AUTHED) != 0;
	if (x->cb)
		x->cb(x->ud, m);
	if (m->kind == STLS_CREDS)
		x->c->flags |= F_AUTHED;
}

static void fifo_push(struct dec_lines_conv *c, uint8_t cmd)
{
	if (c->nfifo && (c->flags & F_GREETED))
		c->anomalies |= DEC_LINES_A_PIPELINED;
	if (c->nfifo == DEC_LINES_PENDING) {
		/* Replies can no longer be matched to commands: stop reading. */
		c->anomalies |= DEC_LINES_A_FIFO_FULL;
		c->state = ST_DONE;
		return;
	}
	c->cmd_fifo[(c->fifo_head + c->nfifo) % DEC_LINES_PENDING] = cmd;
	c->nfifo++;
}

static uint8_t fifo_pop(struct dec_lines_conv *c)
{
	if (!c->nfifo)
		return C_NONE;
	uint8_t cmd = c->cmd_fifo[c->fifo_head];
	c->fifo_head = (uint8_t)((c->fifo_head + 1) % DEC_LINES_PENDING);
	c->nfifo--;
	return cmd;
}

/* ---- credentials ---- */

static int b64val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Bytes a base64 text decodes to (the LOGIN user name), without decoding it. */
static size_t b64_len(struct ln t)
{
	size_t n = 0;
	for (size_t i = 0; i < t.n && b64val(t.p[i]) >= 0; i++)
		n++;
	return n * 3 / 4;
}

/* SASL PLAIN (RFC 4616): base64 of authzid NUL authcid NUL passwd. Returns the length
 * of authcid. Decodes a byte at a time and stops at the second NUL, so no byte of the
 * password is ever decoded (at most four of its bits wait in the accumulator, which is
 * cleared through a volatile store the compiler cannot drop). */
static uint16_t b64_plain_user(struct ln t)
{
	uint32_t acc = 0;
	int bits = 0, part = 0;
	size_t user = 0;
	for (size_t i = 0; i < t.n && part < 2; i++) {
		int v = b64val(t.p[i]);
		if (v < 0)
			break;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			uint8_t byte = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
			if (byte == 0)
				part++;
			else if (part == 1)
				user++;
		}
	}
	volatile uint32_t *wipe = &acc;
	*wipe = 0;
	return (uint16_t)(user > 0xffff ? 0xffff : user);
}

static bool cleartext_mech(struct ln mech)
{
	/* The secret is readable (PLAIN, LOGIN) or a replayable bearer token. */
	return ieq(mech, "PLAIN") || ieq(mech, "LOGIN") || ieq(mech, "XOAUTH2") ||
	       ieq(mech, "OAUTHBEARER") || ieq(mech, "XOAUTH");
}

static void creds_user_from(struct starttls_msg *m, struct ln resp)
{
	if (strcmp(m->mech, "PLAIN") == 0)
		m->user_len = b64_plain_user(resp);
	else if (strcmp(m->mech, "LOGIN") == 0) {
		size_t n = b64_len(resp);
		m->user_len = (uint16_t)(n > 0xffff ? 0xffff : n);
	}
}

/* AUTH / AUTHENTICATE mech [initial-response]: a SASL exchange starts. */
static void sasl_start(struct ctx *x, struct rd *l)
{
	struct dec_lines_conv *c = x->c;
	struct ln mech = next_tok(l);
	struct ln ir = next_tok(l);
	struct starttls_msg *m = &c->creds;
	begin(c, m, STLS_CREDS, false);
	put_printable(m->mech, sizeof(m->mech), mech);
	for (char *p = m->mech; *p; p++)
		*p = (char)up((uint8_t)*p);
	m->cleartext = cleartext_mech(mech);
	c->flags |= F_SASL;
	bool user_mech = strcmp(m->mech, "PLAIN") == 0 || strcmp(m->mech, "LOGIN") == 0;
	if (ir.n || !user_mech) {
		if (ir.n && !(ir.n == 1 && ir.p[0] == '='))
			creds_user_from(m, ir);
		emit(x, m);
	} else {
		c->flags |= F_DEFERRED;
	}
}

/* A client line inside a SASL exchange: a response, never a command. */
static void sasl_response(struct ctx *x, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	if (!(c->flags & F_DEFERRED))
		return;
	c->flags &= (uint16_t)~F_DEFERRED;
	if (line.n == 1 && line.p[0] == '*')
		return; /* the client cancelled (RFC 4954 4) */
	creds_user_from(&c->creds, line);
	emit(x, &c->creds);
}

static void creds_simple(struct ctx *x, const char *mech, bool clear, struct ln user)
{
	struct dec_lines_conv *c = x->c;
	struct starttls_msg m;
	begin(c, &m, STLS_CREDS, false);
	snprintf(m.mech, sizeof(m.mech), "%s", mech);
	m.cleartext = clear;
	m.user_len = (uint16_t)(user.n > 0xffff ? 0xffff : user.n);
	m.anonymous = ieq(user, "anonymous") || ieq(user, "ftp");
	emit(x, &m);
}

static void request(struct ctx *x, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	if (c->state == ST_DONE)
		return; /* the FIFO overflowed on this very command */
	struct starttls_msg m;
	begin(c, &m, STLS_REQUEST, false);
	put_text(&m, line);
	c->state = ST_REQ;
	emit(x, &m);
}

static void reply(struct ctx *x, uint16_t code, bool ok, struct ln text)
{
	struct dec_lines_conv *c = x->c;
	struct starttls_msg m;
	begin(c, &m, STLS_REPLY, true);
	m.code = code;
	m.accepted = ok;
	put_text(&m, text);
	c->state = ok ? ST_ACCEPTED : ST_OPEN;
	if (ok) {
		/* The server's next bytes are TLS, and so are the client's after its
		 * request (it was held there). */
		c->d[1].stop = 1;
		c->tls = true;
		c->tls_off[0] = c->d[0].off;
		c->tls_off[1] = c->d[1].off;
	}
	emit(x, &m);
}

static void greeting(struct ctx *x, uint16_t code, bool ok, struct ln text)
{
	struct dec_lines_conv *c = x->c;
	struct starttls_msg m;
	begin(c, &m, STLS_GREETING, true);
	m.code = code;
	m.accepted = ok;
	m.masked = masked_banner(text);
	put_text(&m, text);
	c->flags |= F_GREETED;
	emit(x, &m);
}

static void not_proto(struct dec_lines_conv *c)
{
	c->anomalies |= DEC_LINES_A_NOT_PROTO;
	c->state = ST_DONE;
}

/* ---- SMTP and FTP: numeric replies ---- */

static int reply_code(struct rd *l, uint16_t *code)
{
	uint8_t d[3];
	for (int i = 0; i < 3; i++)
		if (!rd_peek_u8(l, (size_t)i, &d[i]) || d[i] < '0' || d[i] > '9')
			return -1;
	*code = (uint16_t)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
	rd_skip(l, 3);
	return 0;
}

static void num_reply_end(struct ctx *x)
{
	struct dec_lines_conv *c = x->c;
	c->flags &= (uint16_t)~F_IN_REPLY;
	if (c->flags & F_REPLY_CAPS) {
		c->flags &= (uint16_t)~F_REPLY_CAPS;
		emit(x, &c->pend);
	}
	if ((c->flags & F_SASL) && c->reply_code != 334)
		c->flags &= (uint16_t)~(F_SASL | F_DEFERRED);
}

static void num_server_line(struct ctx *x, struct rd *l)
{
	struct dec_lines_conv *c = x->c;
	bool smtp = c->proto == LINES_P_SMTP;
	uint16_t code = 0;
	uint8_t sep = ' ';
	if (!(c->flags & F_IN_REPLY)) {
		if (reply_code(l, &code) < 0) {
			if (!(c->flags & F_GREETED))
				not_proto(c);
			return;
		}
		rd_peek_u8(l, 0, &sep);
		if (sep == '-' || sep == ' ')
			rd_skip(l, 1);
		struct ln text = rest_of(l);
		c->reply_code = code;
		c->reply_lines = 0;
		uint8_t cmd = C_GREETING;
		if (!(c->flags & F_GREETED) && c->nfifo && code != 220 && code >= 200) {
			/* The client spoke and this is no greeting: the capture started after
			 * the banner. Read on as replies. */
			c->flags |= F_GREETED;
		}
		if (c->flags & F_GREETED)
			cmd = fifo_pop(c);
		else if (code >= 100 && code < 200)
			cmd = C_NONE; /* FTP 120: the greeting follows */
		c->reply_cmd = cmd;
		if (cmd == C_GREETING)
			greeting(x, code, code >= 200 && code < 300, text);
		else if (cmd == C_STARTTLS)
			reply(x, code, code == (smtp ? 220 : 234), text);
		else if ((cmd == C_EHLO && code == 250) || (cmd == C_FEAT && code == 211)) {
			begin(c, &c->pend, STLS_CAPS, true);
			c->flags |= F_REPLY_CAPS;
		}
		if (sep == '-' && c->state != ST_ACCEPTED)
			c->flags |= F_IN_REPLY;
		else
			num_reply_end(x);
		return;
	}
	/* A continuation line. */
	if (c->reply_lines < 255)
		c->reply_lines++;
	struct rd save = *l;
	bool numbered = reply_code(l, &code) == 0 && code == c->reply_code;
	if (numbered)
		rd_peek_u8(l, 0, &sep);
	else
		*l = save;
	bool last = numbered && sep != '-';
	if (smtp && !numbered) {
		/* RFC 5321 4.2: every line of a reply carries the code; this is not SMTP. */
		c->flags &= (uint16_t)~(F_IN_REPLY | F_REPLY_CAPS);
		return;
	}
	if (c->flags & F_REPLY_CAPS) {
		if (smtp) {
			rd_skip(l, 1);
			struct rd k = *l;
			struct ln whole = rest_of(l);
			struct ln kw = next_tok(&k);
			add_cap(c, whole, kw);
		} else if (!numbered) {
			/* FEAT (RFC 2389 3.2): feature lines start with a space. */
			skip_sp(l);
			struct rd k = *l;
			struct ln whole = rest_of(l);
			struct ln kw = next_tok(&k);
			struct ln arg = next_tok(&k);
			add_cap(c, whole, kw);
			if (ieq(kw, "AUTH") && (iprefix(arg, "TLS") || iprefix(arg, "SSL")))
				c->pend.has_starttls = true;
		}
	}
	if (last)
		num_reply_end(x);
}

static void smtp_client_line(struct ctx *x, struct rd *l, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	struct ln verb = next_tok(l);
	if (ieq(verb, "EHLO"))
		fifo_push(c, C_EHLO);
	else if (ieq(verb, "HELO"))
		fifo_push(c, C_HELO);
	else if (ieq(verb, "STARTTLS")) {
		fifo_push(c, C_STARTTLS);
		request(x, line);
	} else if (ieq(verb, "AUTH")) {
		fifo_push(c, C_AUTH);
		sasl_start(x, l);
	} else if (ieq(verb, "MAIL") || ieq(verb, "RCPT") || ieq(verb, "DATA") || ieq(verb, "BDAT"))
		c->state = ST_DONE; /* the mail transaction: the opening is over */
	else
		fifo_push(c, C_OTHER);
}

static void ftp_client_line(struct ctx *x, struct rd *l, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	struct ln verb = next_tok(l);
	if (ieq(verb, "AUTH")) {
		struct ln arg = next_tok(l);
		if (iprefix(arg, "TLS") || iprefix(arg, "SSL")) {
			fifo_push(c, C_STARTTLS);
			request(x, line);
		} else {
			fifo_push(c, C_OTHER); /* AUTH GSSAPI and kin (RFC 2228) */
		}
	} else if (ieq(verb, "FEAT"))
		fifo_push(c, C_FEAT);
	else if (ieq(verb, "USER")) {
		fifo_push(c, C_OTHER);
		creds_simple(x, "USER", true, next_tok(l));
	} else if (ieq(verb, "PASV") || ieq(verb, "EPSV") || ieq(verb, "PORT") || ieq(verb, "EPRT") ||
		   ieq(verb, "LIST") || ieq(verb, "NLST") || ieq(verb, "RETR") || ieq(verb, "STOR") ||
		   ieq(verb, "MLSD") || ieq(verb, "CWD"))
		c->state = ST_DONE; /* file transfer: the opening is over */
	else
		fifo_push(c, C_OTHER);
}

/* ---- IMAP ---- */

static void imap_caps(struct ctx *x, struct rd *l, uint8_t end)
{
	struct dec_lines_conv *c = x->c;
	begin(c, &c->pend, STLS_CAPS, true);
	for (;;) {
		struct ln t = next_tok_until(l, end);
		if (!t.n)
			break;
		add_cap(c, t, t);
	}
	emit(x, &c->pend);
}

static void imap_server_line(struct ctx *x, struct rd *l)
{
	struct dec_lines_conv *c = x->c;
	struct ln first = next_tok(l);
	if (!(c->flags & F_GREETED) && (c->flags & F_CLIENT)) {
		/* The client spoke first: the capture started after the banner, unless this
		 * is the banner itself. */
		struct rd k = *l;
		struct ln st = next_tok(&k);
		if (!ieq(first, "*") || !(ieq(st, "OK") || ieq(st, "PREAUTH") || ieq(st, "BYE")))
			c->flags |= F_GREETED;
	}
	if (!(c->flags & F_GREETED)) {
		if (!ieq(first, "*")) {
			not_proto(c);
			return;
		}
		struct rd save = *l;
		struct ln st = next_tok(l);
		bool ok = ieq(st, "OK") || ieq(st, "PREAUTH");
		*l = save;
		skip_sp(l);
		struct rd codes = *l;
		greeting(x, 0, ok, rest_of(l));
		next_tok(&codes);
		struct ln code = next_tok_until(&codes, ']');
		if (ieq(code, "[CAPABILITY"))
			imap_caps(x, &codes, ']');
		return;
	}
	if (ieq(first, "*")) {
		struct ln w = next_tok(l);
		if (ieq(w, "CAPABILITY"))
			imap_caps(x, l, 0);
		return;
	}
	if (ieq(first, "+"))
		return; /* a continuation request (SASL challenge, literal) */
	/* Tagged: the end of a command. */
	struct ln st = next_tok(l);
	skip_sp(l);
	if (c->state == ST_REQ && first.n == c->tag_len && c->tag_len &&
	    memcmp(first.p, c->tag, c->tag_len) == 0) {
		reply(x, 0, ieq(st, "OK"), rest_of(l));
		return;
	}
	c->flags &= (uint16_t)~(F_SASL | F_DEFERRED);
}

/* An IMAP string argument (atom, "quoted" or {literal}): its length. */
static struct ln imap_astring(struct rd *l, size_t *literal)
{
	skip_sp(l);
	uint8_t ch;
	*literal = 0;
	if (rd_peek_u8(l, 0, &ch) && ch == '"') {
		rd_skip(l, 1);
		size_t n = 0;
		uint8_t q;
		while (rd_peek_u8(l, n, &q) && q != '"')
			n += q == '\\' ? 2 : 1;
		if (n > rd_left(l))
			n = rd_left(l);
		struct ln t = { rd_ptr(l, n), n };
		if (!t.p)
			t.n = 0;
		rd_skip(l, 1);
		return t;
	}
	struct ln t = next_tok(l);
	if (t.n >= 3 && t.p[0] == '{' && t.p[t.n - 1] == '}') {
		size_t v = 0;
		for (size_t i = 1; i + 1 < t.n && t.p[i] >= '0' && t.p[i] <= '9' && v < 0x10000000; i++)
			v = v * 10 + (size_t)(t.p[i] - '0');
		*literal = v;
	}
	return t;
}

/* A line ending in {N} or {N+} (RFC 9051 4.3): N raw bytes follow, then the rest of the
 * command on a new line. */
static size_t imap_literal_at_end(struct ln line)
{
	if (line.n < 3 || line.p[line.n - 1] != '}')
		return 0;
	size_t i = line.n - 1;
	if (i && line.p[i - 1] == '+')
		i--;
	size_t end = i, v = 0, mul = 1;
	while (i && line.p[i - 1] >= '0' && line.p[i - 1] <= '9' && end - i < 9) {
		v += (size_t)(line.p[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == end || !i || line.p[i - 1] != '{')
		return 0;
	return v;
}

static void imap_client_line(struct ctx *x, struct rd *l, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	size_t lit = imap_literal_at_end(line);
	if (lit) {
		if (lit > DEC_LINES_LITERAL_MAX) {
			c->d[0].stop = 1;
			return;
		}
		c->d[0].skip = (uint32_t)lit;
	}
	if (c->flags & F_CONT) {
		if (!lit)
			c->flags &= (uint16_t)~F_CONT;
		return;
	}
	if (lit)
		c->flags |= F_CONT;
	struct ln tag = next_tok(l);
	struct ln verb = next_tok(l);
	if (ieq(verb, "STARTTLS")) {
		c->tag_len = (uint8_t)(tag.n < DEC_LINES_TAG_MAX ? tag.n : 0);
		if (c->tag_len)
			memcpy(c->tag, tag.p, c->tag_len);
		request(x, line);
	} else if (ieq(verb, "LOGIN")) {
		size_t ulit;
		struct ln user = imap_astring(l, &ulit);
		if (ulit)
			user.n = ulit;
		creds_simple(x, "IMAP-LOGIN", true, user);
	} else if (ieq(verb, "AUTHENTICATE")) {
		sasl_start(x, l);
	} else if (ieq(verb, "SELECT") || ieq(verb, "EXAMINE") || ieq(verb, "LIST") || ieq(verb, "LSUB") ||
		   ieq(verb, "STATUS") || ieq(verb, "APPEND") || ieq(verb, "FETCH") || ieq(verb, "UID") ||
		   ieq(verb, "IDLE")) {
		c->state = ST_DONE; /* mailbox access: the opening is over */
	}
}

/* ---- POP3 ---- */

static void pop3_server_line(struct ctx *x, struct rd *l, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	struct rd save = *l;
	struct ln st = next_tok(l);
	skip_sp(l);
	if (!(c->flags & F_GREETED) && c->nfifo)
		c->flags |= F_GREETED; /* the client spoke: the banner was before the capture */
	if (!(c->flags & F_GREETED)) {
		if (ieq(st, "+OK") || ieq(st, "-ERR"))
			greeting(x, 0, ieq(st, "+OK"), rest_of(l));
		else
			not_proto(c);
		return;
	}
	if (c->flags & F_POP_MULTI) {
		if (line.n == 1 && line.p[0] == '.') {
			c->flags &= (uint16_t)~F_POP_MULTI;
			if (c->flags & F_REPLY_CAPS) {
				c->flags &= (uint16_t)~F_REPLY_CAPS;
				emit(x, &c->pend);
			}
			return;
		}
		if (c->flags & F_REPLY_CAPS) {
			*l = save;
			uint8_t ch;
			if (rd_peek_u8(l, 0, &ch) && ch == '.')
				rd_skip(l, 1); /* byte-stuffing (RFC 1939 3) */
			struct rd k = *l;
			struct ln whole = rest_of(l);
			add_cap(c, whole, next_tok(&k));
		}
		return;
	}
	bool ok = ieq(st, "+OK");
	if (!ok && !ieq(st, "-ERR")) {
		/* "+ challenge" inside SASL (RFC 5034 4), or noise. */
		return;
	}
	if (c->flags & F_SASL)
		c->flags &= (uint16_t)~(F_SASL | F_DEFERRED);
	uint8_t cmd = fifo_pop(c);
	if (cmd == C_STARTTLS)
		reply(x, 0, ok, rest_of(l));
	else if (cmd == C_CAPA && ok) {
		begin(c, &c->pend, STLS_CAPS, true);
		c->flags |= F_POP_MULTI | F_REPLY_CAPS;
	} else if (cmd == C_MULTI && ok)
		c->flags |= F_POP_MULTI;
}

static void pop3_client_line(struct ctx *x, struct rd *l, struct ln line)
{
	struct dec_lines_conv *c = x->c;
	struct ln verb = next_tok(l);
	if (ieq(verb, "CAPA"))
		fifo_push(c, C_CAPA);
	else if (ieq(verb, "STLS")) {
		fifo_push(c, C_STARTTLS);
		request(x, line);
	} else if (ieq(verb, "USER")) {
		fifo_push(c, C_OTHER);
		creds_simple(x, "USER", true, next_tok(l));
	} else if (ieq(verb, "APOP")) {
		fifo_push(c, C_OTHER);
		creds_simple(x, "APOP", false, next_tok(l));
	} else if (ieq(verb, "AUTH")) {
		struct rd k = *l;
		if (next_tok(&k).n) {
			fifo_push(c, C_AUTH);
			sasl_start(x, l);
		} else {
			fifo_push(c, C_MULTI); /* lists the mechanisms (RFC 1734 style) */
		}
	} else if (ieq(verb, "STAT") || ieq(verb, "LIST") || ieq(verb, "RETR") || ieq(verb, "UIDL") ||
		   ieq(verb, "TOP") || ieq(verb, "DELE"))
		c->state = ST_DONE; /* the mailbox: the opening is over */
	else
		fifo_push(c, C_OTHER);
}

/* ---- line reading ---- */

static void line_unit(struct ctx *x, bool from_server, struct ln raw)
{
	struct dec_lines_conv *c = x->c;
	/* raw excludes the LF; drop one CR before it. */
	struct ln line = raw;
	if (line.n && line.p[line.n - 1] == '\r')
		line.n--;
	if (memchr(line.p, 0, line.n))
		c->anomalies |= DEC_LINES_A_NUL;
	struct rd l = rd_init(line.p, line.n);
	if (from_server) {
		switch (c->proto) {
		case LINES_P_SMTP:
		case LINES_P_FTP:
			num_server_line(x, &l);
			break;
		case LINES_P_IMAP:
			imap_server_line(x, &l);
			break;
		case LINES_P_POP3:
			pop3_server_line(x, &l, line);
			break;
		default:
			break;
		}
		return;
	}
	c->flags |= F_CLIENT;
	if (c->flags & F_SASL) {
		if (c->proto != LINES_P_IMAP || !(c->flags & F_CONT)) {
			sasl_response(x, line);
			return;
		}
	}
	switch (c->proto) {
	case LINES_P_SMTP:
		smtp_client_line(x, &l, line);
		break;
	case LINES_P_FTP:
		ftp_client_line(x, &l, line);
		break;
	case LINES_P_IMAP:
		imap_client_line(x, &l, line);
		break;
	case LINES_P_POP3:
		pop3_client_line(x, &l, line);
		break;
	default:
		break;
	}
}

/* ---- XMPP (RFC 6120): tags and text runs ---- */

/* The value of attribute name in a tag's bytes ('...' or "..."), or an empty run. */
static struct ln xml_attr(struct ln tag, const char *name)
{
	struct ln none = { tag.p, 0 };
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl + 2 < tag.n; i++) {
		if ((i && tag.p[i - 1] != ' ' && tag.p[i - 1] != '\t' && tag.p[i - 1] != '\n' &&
		     tag.p[i - 1] != '\r') ||
		    memcmp(&tag.p[i], name, nl) != 0 || tag.p[i + nl] != '=')
			continue;
		uint8_t q = tag.p[i + nl + 1];
		if (q != '\'' && q != '"')
			continue;
		struct rd r = rd_init(tag.p, tag.n);
		rd_skip(&r, i + nl + 2);
		size_t n = 0;
		uint8_t ch;
		while (rd_peek_u8(&r, n, &ch) && ch != q)
			n++;
		struct ln v = { rd_ptr(&r, n), n };
		if (!v.p)
			return none;
		return v;
	}
	return none;
}

static void xmpp_tag(struct ctx *x, bool from_server, struct ln tag)
{
	struct dec_lines_conv *c = x->c;
	struct rd r = rd_init(tag.p, tag.n);
	uint8_t ch = 0;
	rd_peek_u8(&r, 0, &ch);
	if (ch == '?' || ch == '!')
		return; /* <?xml ...?>, comments */
	bool closing = ch == '/';
	if (closing)
		rd_skip(&r, 1);
	bool self = tag.n && tag.p[tag.n - 1] == '/';
	size_t n = 0;
	while (rd_peek_u8(&r, n, &ch) && ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' && ch != '/')
		n++;
	struct ln name = { rd_ptr(&r, n), n };
	if (!name.p)
		return;
	struct ln local = name;
	for (size_t i = 0; i < name.n; i++)
		if (name.p[i] == ':') {
			struct rd s = rd_init(name.p, name.n);
			rd_skip(&s, i + 1);
			local = rest_of(&s);
		}
	if (from_server) {
		if (ieq(name, "stream:stream") && !closing) {
			if (!(c->flags & F_GREETED))
				greeting(x, 0, true, tag);
			return;
		}
		if (!(c->flags & F_GREETED)) {
			not_proto(c);
			return;
		}
		if (ieq(name, "stream:features")) {
			if (closing) {
				if (c->flags & F_IN_FEAT) {
					c->flags = (uint16_t)((c->flags & ~F_IN_FEAT) | F_FEAT_DONE);
					emit(x, &c->pend);
				}
			} else if (!(c->flags & F_FEAT_DONE)) {
				/* Only the first features count: after SASL the restarted stream
				 * offers bind/session, never starttls. */
				begin(c, &c->pend, STLS_CAPS, true);
				c->xml_depth = 0;
				c->flags |= F_IN_FEAT;
				if (self) {
					c->flags = (uint16_t)((c->flags & ~F_IN_FEAT) | F_FEAT_DONE);
					emit(x, &c->pend);
				}
			}
			return;
		}
		if (c->flags & F_IN_FEAT) {
			if (closing) {
				if (c->xml_depth)
					c->xml_depth--;
				return;
			}
			if (c->xml_depth == 0)
				add_cap(c, local, local);
			if (ieq(local, "mechanism"))
				c->xml_text = X_MECH;
			if (!self && c->xml_depth < 255)
				c->xml_depth++;
			return;
		}
		if (c->state == ST_REQ && !closing) {
			if (ieq(local, "proceed"))
				reply(x, 0, true, local);
			else if (ieq(local, "failure"))
				reply(x, 0, false, local);
		}
		return;
	}
	/* The client. */
	if (closing) {
		if (ieq(local, "auth") && (c->flags & F_DEFERRED)) {
			c->flags &= (uint16_t)~F_DEFERRED;
			emit(x, &c->creds);
		}
		c->xml_text = X_NONE;
		return;
	}
	if (ieq(local, "starttls")) {
		request(x, local);
	} else if (ieq(local, "auth")) {
		struct ln mech = xml_attr(tag, "mechanism");
		struct starttls_msg *m = &c->creds;
		begin(c, m, STLS_CREDS, false);
		put_printable(m->mech, sizeof(m->mech), mech);
		for (char *p = m->mech; *p; p++)
			*p = (char)up((uint8_t)*p);
		m->cleartext = cleartext_mech(mech);
		if (self) {
			emit(x, m);
		} else {
			c->flags |= F_DEFERRED;
			c->xml_text = X_AUTH;
		}
	} else if (ieq(local, "username")) {
		c->xml_text = X_USER;
	} else if (ieq(local, "password") || ieq(local, "digest")) {
		/* XEP-0078 jabber:iq:auth: the password in clear (or its digest). */
		struct starttls_msg m;
		begin(c, &m, STLS_CREDS, false);
		snprintf(m.mech, sizeof(m.mech), "%s", ieq(local, "password") ? "IQ-AUTH" : "IQ-AUTH-DIGEST");
		m.cleartext = ieq(local, "password");
		m.user_len = c->xml_user_len;
		emit(x, &m);
	} else if (ieq(local, "message") || ieq(local, "presence")) {
		c->state = ST_DONE; /* the session proper */
	}
}

static void xmpp_text(struct ctx *x, bool from_server, struct ln text)
{
	struct dec_lines_conv *c = x->c;
	uint8_t what = c->xml_text;
	c->xml_text = X_NONE;
	if (from_server) {
		if (what == X_MECH && (c->flags & F_IN_FEAT)) {
			char buf[DEC_LINES_CAP_MAX];
			char mech[DEC_LINES_MECH_MAX];
			put_printable(mech, sizeof(mech), text);
			snprintf(buf, sizeof(buf), "SASL %s", mech);
			struct ln w = { (const uint8_t *)buf, strlen(buf) };
			add_cap(c, w, w);
		}
		return;
	}
	if (what == X_AUTH && (c->flags & F_DEFERRED)) {
		c->flags &= (uint16_t)~F_DEFERRED;
		creds_user_from(&c->creds, text);
		emit(x, &c->creds);
	} else if (what == X_USER) {
		/* for a later <password/> (XEP-0078) */
		c->xml_user_len = (uint16_t)(text.n > 0xffff ? 0xffff : text.n);
	}
}

/* ---- the driver ---- */

static bool dir_budget(struct dec_lines_conv *c, struct dec_lines_dir *d)
{
	if (d->lines >= DEC_LINES_MAX_LINES || d->off >= DEC_LINES_MAX_BYTES) {
		c->anomalies |= DEC_LINES_A_LIMIT;
		d->stop = 1;
		return false;
	}
	return true;
}

/* After an accepted STARTTLS: the client's next bytes. */
static void tls_start(struct ctx *x, struct rd *r, bool fin)
{
	struct dec_lines_conv *c = x->c;
	uint8_t b[3] = { 0, 0, 0 };
	size_t have = 0;
	while (have < 3 && rd_peek_u8(r, have, &b[have]))
		have++;
	if (!have)
		return;
	if (have < 3 && b[0] == 0x16 && !fin)
		return; /* wait for the record header */
	struct starttls_msg m;
	begin(c, &m, STLS_TLS, false);
	m.tls_record = have == 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04;
	if (!m.tls_record)
		c->anomalies |= DEC_LINES_A_INJECTED;
	c->state = ST_DONE;
	emit(x, &m);
}

bool dec_lines_feed(struct dec_lines_conv *c, bool from_server, const uint8_t *data, size_t len,
		    bool fin, dec_lines_cb cb, void *ud)
{
	struct ctx x = { c, cb, ud };
	struct dec_lines_dir *d = &c->d[from_server ? 1 : 0];
	if (c->state == ST_DONE || d->stop || d->off > len)
		goto out;
	struct rd r = rd_init(data, len);
	rd_skip(&r, d->off);
	bool xmpp = c->proto == LINES_P_XMPP;
	while (c->state != ST_DONE && !d->stop) {
		if (!from_server && c->state == ST_REQ)
			break; /* held until the server answers */
		if (!from_server && c->state == ST_ACCEPTED) {
			tls_start(&x, &r, fin);
			break;
		}
		if (!dir_budget(c, d))
			break;
		if (d->skip) {
			size_t k = d->skip < rd_left(&r) ? d->skip : rd_left(&r);
			rd_skip(&r, k);
			d->skip -= (uint32_t)k;
			d->off = rd_off(&r);
			if (d->skip)
				break;
			continue;
		}
		size_t avail = rd_left(&r);
		if (!avail)
			break;
		struct rd look = r;
		size_t win = avail < DEC_LINES_LINE_MAX + 1 ? avail : DEC_LINES_LINE_MAX + 1;
		const uint8_t *w = rd_ptr(&look, win);
		uint8_t first = w[0];
		const uint8_t *hit;
		size_t take, unit;
		if (d->in_long) {
			hit = memchr(w, '\n', win);
			take = hit ? (size_t)(hit - w) + 1 : win;
			rd_skip(&r, take);
			d->off = rd_off(&r);
			if (hit)
				d->in_long = 0;
			continue;
		}
		if (xmpp) {
			/* A tag runs to '>', a text run to the next '<'. */
			hit = memchr(w, first == '<' ? '>' : '<', win);
			if (first == '<' && hit)
				take = unit = (size_t)(hit - w) + 1;
			else if (first != '<' && hit)
				take = unit = (size_t)(hit - w);
			else
				take = unit = 0;
		} else {
			hit = memchr(w, '\n', win);
			take = hit ? (size_t)(hit - w) + 1 : 0;
			unit = hit ? take - 1 : 0;
		}
		if (!hit) {
			if (avail > DEC_LINES_LINE_MAX) {
				c->anomalies |= DEC_LINES_A_LONG;
				if (xmpp) {
					d->stop = 1; /* XML cannot be resynchronised cheaply */
					break;
				}
				d->in_long = 1;
				rd_skip(&r, win);
				d->off = rd_off(&r);
				continue;
			}
			if (!fin)
				break; /* the rest of the line has not arrived */
			c->anomalies |= DEC_LINES_A_NO_EOL;
			take = unit = avail;
		} else if (!xmpp && (unit == 0 || w[unit - 1] != '\r')) {
			c->anomalies |= DEC_LINES_A_BARE_LF;
		}
		struct ln u = { rd_ptr(&r, take), unit };
		d->off = rd_off(&r);
		d->lines++;
		if (xmpp) {
			if (first == '<') {
				/* the bytes between '<' and '>' (the '>' is absent at a cut end) */
				struct rd t = rd_init(u.p, u.n);
				rd_skip(&t, 1);
				size_t in = rd_left(&t);
				if (in && u.p[u.n - 1] == '>')
					in--;
				struct ln inner = { rd_ptr(&t, in), in };
				if (inner.p)
					xmpp_tag(&x, from_server, inner);
			} else {
				xmpp_text(&x, from_server, u);
			}
		} else {
			line_unit(&x, from_server, u);
		}
	}
	if (fin)
		d->stop = 1;
out:
	if (fin && !from_server && c->state == ST_ACCEPTED)
		c->state = ST_DONE;
	return dec_lines_done(c);
}
