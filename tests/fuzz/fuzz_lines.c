#include "config.h"

/* fuzz_lines.c - libFuzzer target for the STARTTLS line protocols (monitor/decode/lines.c):
 * SMTP, IMAP, POP3, FTP and XMPP openings, commands matched to replies, SASL, IMAP
 * literals, the TLS switch.
 *
 * Input:
 *   byte 0      protocol (value % 5 + 1: smtp, imap, pop3, ftp, xmpp)
 *   byte 1      segment size (0 = each direction in one piece)
 *   byte 2      bit 0: the client direction is fed first; bit 1: FIN at the end
 *   bytes 3-4   length A of the client's bytes (big-endian, clipped)
 *   then A bytes of the client direction, the rest the server direction.
 * The directions are fed as growing prefixes, a segment at a time, alternating, as the
 * stream reassembly would hand them over. Checked on every event (abort() on a
 * violation): lengths within their buffers, strings terminated, kinds and protocols in
 * range, counts within their caps; and that the offsets never pass the data. The same
 * bytes then go through the stream consumer (lines_app.c), which hands what follows an
 * accepted STARTTLS to the TLS consumer (tls_app.c, tls.c, x509.c).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/lines.h"
#include "stream.h"

extern const struct app_consumer app_lines;

/* The registry, stubbed: the consumer's events are checked here. */
static void check(void *ud, const struct starttls_msg *m);
bool det_wants_starttls(const struct det_registry *r)
{
	(void)r;
	return true;
}
void det_dispatch_starttls(struct det_registry *r, const struct starttls_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	check(NULL, ev->msg);
}
bool det_wants_tls(const struct det_registry *r)
{
	(void)r;
	return true;
}
void det_dispatch_tls(struct det_registry *r, const struct tls_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	(void)ev;
}

static void check(void *ud, const struct starttls_msg *m)
{
	(void)ud;
	if (m->proto < LINES_P_SMTP || m->proto > LINES_P_XMPP || m->kind < STLS_GREETING || m->kind > STLS_TLS)
		abort();
	if (m->text_len >= DEC_LINES_TEXT_MAX || m->text[m->text_len] != '\0')
		abort();
	if (m->ncaps > DEC_LINES_MAX_CAPS || m->ncaps > m->caps_total)
		abort();
	for (unsigned i = 0; i < m->ncaps; i++) {
		const char *c = m->caps[i];
		if (!memchr(c, 0, DEC_LINES_CAP_MAX))
			abort();
		for (; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				abort();
	}
	if (!memchr(m->mech, 0, DEC_LINES_MECH_MAX) || !memchr(m->masked_cap, 0, DEC_LINES_CAP_MAX))
		abort();
	if (m->kind == STLS_CREDS && m->from_server)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	int proto = data[0] % 5 + 1;
	size_t seg = data[1];
	int flags = data[2];
	size_t a = (size_t)data[3] << 8 | data[4];
	const uint8_t *body = data + 5;
	size_t blen = size - 5;
	if (a > blen)
		a = blen;
	const uint8_t *dir[2] = { body, body + a };
	size_t dlen[2] = { a, blen - a };
	size_t fed[2] = { 0, 0 };
	struct dec_lines_conv c;
	dec_lines_init(&c, (enum dec_lines_proto)proto);
	int turn = (flags & 1) ? 0 : 1;
	bool done = false;
	while (!done && (fed[0] < dlen[0] || fed[1] < dlen[1])) {
		if (fed[turn] >= dlen[turn])
			turn ^= 1;
		size_t k = seg ? seg : dlen[turn] - fed[turn];
		if (k > dlen[turn] - fed[turn])
			k = dlen[turn] - fed[turn];
		fed[turn] += k;
		done = dec_lines_feed(&c, turn == 1, dir[turn], fed[turn], false, check, NULL);
		if (c.d[0].off > dlen[0] || c.d[1].off > dlen[1])
			abort();
		turn ^= 1;
	}
	if (flags & 2) {
		dec_lines_feed(&c, false, dir[0], fed[0], true, check, NULL);
		dec_lines_feed(&c, true, dir[1], fed[1], true, check, NULL);
		if (!dec_lines_done(&c) && c.state != 2 /* accepted: waits for the client */)
			abort();
	}
	if (c.nfifo > DEC_LINES_PENDING)
		abort();

	/* The same bytes through the stream consumer (lines_app.c), which hands the part
	 * after an accepted STARTTLS to the TLS consumer. */
	static const uint16_t ports[] = { 25, 143, 110, 21, 5222 };
	static int fake_registry;
	struct flow f;
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	f.key.proto = 6;
	f.key.pa = 40000;
	f.key.pb = ports[proto - 1];
	f.init_is_a = 1;
	struct ev_meta meta;
	memset(&meta, 0, sizeof(meta));
	uint64_t bad = 0;
	struct app_ctx ctx = { (struct det_registry *)&fake_registry, NULL, &meta, &bad };
	void *state = NULL;
	size_t have[2] = { 0, 0 };
	turn = (flags & 1) ? 0 : 1;
	enum app_verdict v = APP_MORE;
	while (v == APP_MORE && (have[0] < dlen[0] || have[1] < dlen[1])) {
		if (have[turn] >= dlen[turn])
			turn ^= 1;
		size_t k = seg ? seg : dlen[turn] - have[turn];
		if (k > dlen[turn] - have[turn])
			k = dlen[turn] - have[turn];
		have[turn] += k;
		int d = turn == 1 ? FLOW_DIR_REPLY : FLOW_DIR_ORIG;
		v = app_lines.on_data(&ctx, &state, &f, d, dir[turn], have[turn], 0);
		turn ^= 1;
	}
	if (v == APP_MORE && (flags & 2)) {
		v = app_lines.on_data(&ctx, &state, &f, FLOW_DIR_ORIG, dir[0], have[0], STREAM_F_FIN);
		if (v == APP_MORE)
			v = app_lines.on_data(&ctx, &state, &f, FLOW_DIR_REPLY, dir[1], have[1], STREAM_F_FIN);
	}
	app_lines.free_state(state);
	return 0;
}
