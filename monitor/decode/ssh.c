/* ssh.c - the clear-text start of SSH: identification banners (RFC 4253 4.2), binary
 * packets before NEWKEYS (RFC 4253 6), KEXINIT (RFC 4253 7.1, name-lists RFC 4251 5),
 * the server's key-exchange reply K_S (RFC 4253 8, RFC 4419 3, RFC 5656 4) and the
 * hassh / hasshServer fingerprints (salesforce/hassh: MD5 of kex;enc;mac;cmp).
 *
 * Every check mirrors what a peer (OpenSSH) refuses, so a connection we call malformed
 * would not have completed either: the banner line within 255 bytes, packet_length at
 * most 35000, at least four bytes of padding and a total that is a multiple of 8,
 * name-lists inside their packet with non-empty printable names of at most 64
 * characters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "reader.h"
#include "ssh.h"
#include "x509.h"

enum { PH_LINES = 0, PH_PKTS, PH_STOP };

static const char *const ssh_errs[SSH_ERR__COUNT] = {
	[SSH_OK] = "ok",
	[SSH_ERR_NOT_SSH] = "not an SSH identification",
	[SSH_ERR_LINE_LONG] = "identification line too long",
	[SSH_ERR_LINE_NUL] = "NUL in an identification line",
	[SSH_ERR_PRE_LINES] = "too many lines before the identification",
	[SSH_ERR_BANNER] = "identification without protoversion-softwareversion",
	[SSH_ERR_PKT_LEN] = "packet_length past the limit or below its padding",
	[SSH_ERR_PADDING] = "padding below 4 bytes or packet not a multiple of 8",
	[SSH_ERR_NAMELIST] = "name-list past its packet or with a bad name",
	[SSH_ERR_KEXINIT] = "KEXINIT too short",
	[SSH_ERR_KEX_REPLY] = "key-exchange reply without a host key blob",
};

const char *dec_ssh_strerror(int err)
{
	if (err < 0 || err >= SSH_ERR__COUNT)
		return "unknown error";
	return ssh_errs[err];
}

bool dec_ssh_list_has(const char *list, const char *name)
{
	size_t nl = strlen(name);
	if (!nl)
		return false;
	const char *p = list;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == nl && memcmp(p, name, nl) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* ---- banner ---- */

int dec_ssh_banner(const uint8_t *line, size_t len, struct ssh_banner *b)
{
	memset(b, 0, sizeof(*b));
	struct rd r = rd_init(line, len);
	const uint8_t *p = rd_ptr(&r, len);
	if (len < 4 || !p || memcmp(p, "SSH-", 4) != 0)
		return SSH_ERR_NOT_SSH;
	if (len > SSH_BANNER_MAX - 2)
		return SSH_ERR_LINE_LONG;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 0)
			return SSH_ERR_LINE_NUL;
		if (p[i] < 0x20 || p[i] == 0x7f)
			return SSH_ERR_BANNER;
	}
	/* SSH-protoversion-softwareversion[ SP comments] */
	size_t i = 4, s = i;
	while (i < len && p[i] != '-' && p[i] != ' ')
		i++;
	if (i == s || i == len || p[i] != '-' || i - s > SSH_PROTO_MAX)
		return SSH_ERR_BANNER;
	memcpy(b->proto, p + s, i - s);
	s = ++i;
	while (i < len && p[i] != ' ')
		i++;
	if (i == s)
		return SSH_ERR_BANNER;
	memcpy(b->software, p + s, i - s);
	if (i < len)
		memcpy(b->comments, p + i + 1, len - i - 1);
	b->present = true;
	return SSH_OK;
}

/* ---- KEXINIT ---- */

/* RFC 4251 5: a name-list is comma-separated non-empty names of US-ASCII without
 * commas; RFC 4251 6 caps a name at 64 characters. Printable and no spaces is what
 * OpenSSH's match_list ever sees. */
static bool namelist_ok(const uint8_t *p, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ',') {
			if (run == 0)
				return false;
			run = 0;
			continue;
		}
		if (p[i] < 0x21 || p[i] > 0x7e || ++run > SSH_NAME_MAX)
			return false;
	}
	return n == 0 || run > 0;
}

/* Keeps whole names only: a cut list ends at its last comma inside the cap. */
static void keep_list(char *dst, const uint8_t *p, size_t n, bool *trunc)
{
	size_t k = n;
	if (k > SSH_NL_MAX) {
		*trunc = true;
		k = SSH_NL_MAX;
		while (k && p[k] != ',')
			k--;
	}
	memcpy(dst, p, k);
	dst[k] = '\0';
}

int dec_ssh_kexinit(const uint8_t *payload, size_t len, bool from_server, struct ssh_kexinit *k)
{
	memset(k, 0, sizeof(*k));
	struct rd r = rd_init(payload, len);
	if (rd_u8(&r) != SSH_MSG_KEXINIT)
		return SSH_ERR_KEXINIT;
	rd_bytes(&r, k->cookie, sizeof(k->cookie));
	if (r.err)
		return SSH_ERR_KEXINIT;
	const uint8_t *lp[SSH_NL_COUNT];
	for (int i = 0; i < SSH_NL_COUNT; i++) {
		uint32_t n = rd_be32(&r);
		struct rd sub = rd_sub(&r, n);
		lp[i] = rd_ptr(&sub, n);
		if (r.err || !lp[i] || !namelist_ok(lp[i], n))
			return SSH_ERR_NAMELIST;
		k->wire_len[i] = n;
		keep_list(k->list[i], lp[i], n, &k->truncated);
	}
	k->first_kex_follows = rd_u8(&r) != 0;
	rd_skip(&r, 4); /* reserved */
	if (r.err)
		return SSH_ERR_KEXINIT;
	/* hassh over the whole lists (not the kept copies): each is at most a packet. */
	static const int cli[4] = { SSH_NL_KEX, SSH_NL_ENC_CS, SSH_NL_MAC_CS, SSH_NL_CMP_CS };
	static const int srv[4] = { SSH_NL_KEX, SSH_NL_ENC_SC, SSH_NL_MAC_SC, SSH_NL_CMP_SC };
	const int *which = from_server ? srv : cli;
	size_t total = 4;
	for (int i = 0; i < 4; i++)
		total += k->wire_len[which[i]];
	char *buf = malloc(total);
	if (buf) {
		size_t o = 0;
		for (int i = 0; i < 4; i++) {
			if (i)
				buf[o++] = ';';
			memcpy(buf + o, lp[which[i]], k->wire_len[which[i]]);
			o += k->wire_len[which[i]];
		}
		uint8_t md[16];
		dec_md5(buf, o, md);
		static const char hx[] = "0123456789abcdef";
		for (int i = 0; i < 16; i++) {
			k->hassh[2 * i] = hx[md[i] >> 4];
			k->hassh[2 * i + 1] = hx[md[i] & 15];
		}
		k->hassh[32] = '\0';
		free(buf);
	}
	k->present = true;
	return SSH_OK;
}

/* ---- key-exchange reply ---- */

int dec_ssh_kex_reply(const uint8_t *payload, size_t len, struct ssh_hostkey *h)
{
	memset(h, 0, sizeof(*h));
	struct rd r = rd_init(payload, len);
	uint8_t msg = rd_u8(&r);
	uint32_t bl = rd_be32(&r);
	struct rd blob = rd_sub(&r, bl);
	const uint8_t *bp = rd_ptr(&blob, bl);
	if (r.err || !bp || (msg != SSH_MSG_KEXDH_REPLY && msg != SSH_MSG_KEX_DH_GEX_REPLY))
		return SSH_ERR_KEX_REPLY;
	/* RFC 4253 6.6: a public key blob starts with its format name as a string. */
	struct rd in = rd_init(bp, bl);
	uint32_t tl = rd_be32(&in);
	const uint8_t *tp = rd_ptr(&in, tl);
	if (in.err || !tp || tl == 0 || tl > SSH_NAME_MAX || !namelist_ok(tp, tl) ||
	    memchr(tp, ',', tl))
		return SSH_ERR_KEX_REPLY;
	memcpy(h->type, tp, tl);
	h->type[tl] = '\0';
	h->msg = msg;
	h->blob_len = bl;
	dec_sha256(bp, bl, h->sha256);
	/* OpenSSH's sshkey_fingerprint(SSH_FP_BASE64): base64 without the '=' padding. */
	unsigned char b64[48];
	int n = EVP_EncodeBlock(b64, h->sha256, sizeof(h->sha256));
	while (n > 0 && b64[n - 1] == '=')
		n--;
	memcpy(h->fp, "SHA256:", 7);
	memcpy(h->fp + 7, b64, (size_t)n);
	h->fp[7 + n] = '\0';
	h->present = true;
	return SSH_OK;
}

/* ---- the session ---- */

void dec_ssh_init(struct ssh_sess *s)
{
	memset(s, 0, sizeof(*s));
}

bool dec_ssh_dir_done(const struct ssh_sess *s, int dir)
{
	return dir < 0 || dir > 1 || s->d[dir].phase == PH_STOP;
}

void dec_ssh_dir_stop(struct ssh_sess *s, int dir)
{
	if (dir == 0 || dir == 1)
		s->d[dir].phase = PH_STOP;
}

static int stop(struct ssh_dir *d, int err)
{
	d->phase = PH_STOP;
	d->err = (uint8_t)err;
	return err;
}

/* RFC 4253 7.1: the first algorithm on the client's list that the server also lists. */
static void negotiate(struct ssh_msg *m)
{
	const char *p = m->kex[0].list[SSH_NL_KEX];
	char name[SSH_NAME_MAX + 1];
	while (*p) {
		size_t l = strcspn(p, ",");
		if (l <= SSH_NAME_MAX) {
			memcpy(name, p, l);
			name[l] = '\0';
			if (dec_ssh_list_has(m->kex[1].list[SSH_NL_KEX], name)) {
				memcpy(m->kex_alg, name, l + 1);
				return;
			}
		}
		p += l;
		if (*p == ',')
			p++;
	}
}

static bool is_gex(const char *alg)
{
	return strncmp(alg, "diffie-hellman-group-exchange-", 30) == 0;
}

/* One identification line (or a line before it) from r; returns 1 when a line was
 * consumed, 0 when more bytes are needed, or -err. */
static int feed_line(struct ssh_sess *s, int dir, struct rd *r, ssh_step_fn fn, void *ud, int *stopped)
{
	struct ssh_dir *d = &s->d[dir];
	size_t avail = rd_left(r);
	uint8_t c0;
	/* Decide as early as the bytes allow: a line that cannot become "SSH-". */
	bool ssh_line = true;
	for (size_t i = 0; i < 4 && rd_peek_u8(r, i, &c0); i++)
		if (c0 != (uint8_t)"SSH-"[i])
			ssh_line = false;
	if (!ssh_line && dir == 0)
		return -SSH_ERR_NOT_SSH;
	size_t cap = ssh_line ? SSH_BANNER_MAX : SSH_PRE_LINE_MAX;
	size_t win = avail < cap ? avail : cap;
	struct rd w = *r;
	const uint8_t *p = rd_ptr(&w, win);
	if (!p)
		return 0;
	const uint8_t *nl = memchr(p, '\n', win);
	if (!nl)
		return win == cap ? -SSH_ERR_LINE_LONG : 0;
	size_t ll = (size_t)(nl - p), used = ll + 1;
	if (ll && p[ll - 1] == '\r')
		ll--;
	if (memchr(p, 0, ll))
		return -SSH_ERR_LINE_NUL;
	rd_skip(r, used);
	if (!ssh_line) {
		if (++d->pre_lines > SSH_PRE_LINES_MAX)
			return -SSH_ERR_PRE_LINES;
		return 1;
	}
	struct ssh_banner *b = &s->msg.banner[dir];
	int err = dec_ssh_banner(p, ll, b);
	if (err)
		return -err;
	b->pre_lines = d->pre_lines;
	d->phase = PH_PKTS;
	/* SSH-1 (1.x other than the compatible 1.99) has another packet format. */
	if (strncmp(b->proto, "1.", 2) == 0 && strcmp(b->proto, "1.99") != 0)
		d->phase = PH_STOP;
	s->msg.step = SSH_STEP_BANNER;
	s->msg.from_server = dir == 1;
	if (fn && fn(ud, &s->msg))
		*stopped = 1;
	return 1;
}

/* One binary packet from r; returns 1 when consumed, 0 when more bytes are needed, or
 * -err. */
static int feed_packet(struct ssh_sess *s, int dir, struct rd *r, ssh_step_fn fn, void *ud, int *stopped)
{
	struct ssh_dir *d = &s->d[dir];
	uint8_t hb[5];
	for (size_t i = 0; i < 5; i++)
		if (!rd_peek_u8(r, i, &hb[i]))
			return 0;
	uint32_t plen = (uint32_t)hb[0] << 24 | (uint32_t)hb[1] << 16 | (uint32_t)hb[2] << 8 | hb[3];
	uint8_t padl = hb[4];
	if (plen > SSH_PKT_MAX || plen < (uint32_t)padl + 2)
		return -SSH_ERR_PKT_LEN;
	if (padl < SSH_PAD_MIN || (plen + 4) % 8 != 0)
		return -SSH_ERR_PADDING;
	if (rd_left(r) - 4 < plen)
		return 0;
	rd_skip(r, 5);
	size_t paylen = plen - padl - 1;
	const uint8_t *pay = rd_ptr(r, paylen);
	rd_skip(r, padl);
	if (r->err || !pay)
		return -SSH_ERR_PKT_LEN;
	d->npkts++;
	struct ssh_msg *m = &s->msg;
	switch (pay[0]) {
	case SSH_MSG_KEXINIT: {
		if (m->kex[dir].present)
			break; /* a second KEXINIT before NEWKEYS: the first counts */
		int err = dec_ssh_kexinit(pay, paylen, dir == 1, &m->kex[dir]);
		if (err)
			return -err;
		if (m->kex[0].present && m->kex[1].present)
			negotiate(m);
		m->step = SSH_STEP_KEXINIT;
		m->from_server = dir == 1;
		if (fn && fn(ud, m))
			*stopped = 1;
		break;
	}
	case SSH_MSG_KEXDH_REPLY:
	case SSH_MSG_KEX_DH_GEX_REPLY: {
		if (dir != 1 || m->hostkey.present)
			break;
		/* In group exchange, 31 is the group (p, g) and 33 the reply. Without the
		 * negotiated method (one-way capture) the blob's shape decides: p is an
		 * mpint, whose inner "string" cannot be a key format name. */
		bool known = m->kex_alg[0] != '\0';
		if (known && is_gex(m->kex_alg) != (pay[0] == SSH_MSG_KEX_DH_GEX_REPLY))
			break;
		struct ssh_hostkey hk;
		int err = dec_ssh_kex_reply(pay, paylen, &hk);
		if (err) {
			if (known)
				return -err;
			break;
		}
		m->hostkey = hk;
		m->step = SSH_STEP_HOSTKEY;
		m->from_server = true;
		if (fn && fn(ud, m))
			*stopped = 1;
		break;
	}
	case SSH_MSG_NEWKEYS:
		d->newkeys = true;
		d->phase = PH_STOP;
		break;
	case SSH_MSG_DISCONNECT:
		d->phase = PH_STOP;
		break;
	default:
		break;
	}
	if (d->npkts >= SSH_MAX_PKTS)
		d->phase = PH_STOP;
	return 1;
}

int dec_ssh_feed(struct ssh_sess *s, int dir, const uint8_t *data, size_t len, ssh_step_fn fn,
		 void *ud)
{
	if (dir != 0 && dir != 1)
		return SSH_OK;
	struct ssh_dir *d = &s->d[dir];
	if (d->phase == PH_STOP)
		return d->err;
	if (d->off > len)
		return stop(d, SSH_ERR_NOT_SSH); /* the prefix cannot shrink */
	struct rd r = rd_init(data, len);
	rd_skip(&r, d->off);
	int stopped = 0;
	while (d->phase != PH_STOP && !stopped) {
		int rc = d->phase == PH_LINES ? feed_line(s, dir, &r, fn, ud, &stopped)
					      : feed_packet(s, dir, &r, fn, ud, &stopped);
		d->off = rd_off(&r);
		if (rc < 0)
			return stop(d, -rc);
		if (rc == 0)
			break;
	}
	if (stopped) {
		s->d[0].phase = s->d[1].phase = PH_STOP;
	}
	return SSH_OK;
}
