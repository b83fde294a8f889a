#include "config.h"

/* fuzz_ssh.c - libFuzzer target for the SSH stream consumer (monitor/decode/ssh_app.c)
 * and through it the banner, packet, KEXINIT and key-exchange reply parsers (ssh.c).
 *
 * Input (the layout of fuzz_tls):
 *   byte 0      segment size (0 = each direction in one piece)
 *   byte 1      bit 0: the server direction speaks first; bit 1: FIN at the end;
 *               bit 2: responder port 22 (else 8022, where the first bytes decide)
 *   bytes 2-3   length A of the client direction's bytes (big-endian, clipped)
 *   then A bytes of the client direction, the rest the server direction.
 * The pieces also get the raw input. Checked after every event (abort() on a
 * violation): strings are terminated within their buffers, fingerprints are well formed.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/ssh.h"
#include "stream.h"

extern const struct app_consumer app_ssh;

static void check_str(const char *s, size_t cap)
{
	if (memchr(s, 0, cap) == NULL)
		abort();
}

static void check_msg(const struct ssh_msg *m)
{
	for (int d = 0; d < 2; d++) {
		check_str(m->banner[d].proto, sizeof(m->banner[d].proto));
		check_str(m->banner[d].software, sizeof(m->banner[d].software));
		check_str(m->banner[d].comments, sizeof(m->banner[d].comments));
		for (int i = 0; i < SSH_NL_COUNT; i++) {
			check_str(m->kex[d].list[i], sizeof(m->kex[d].list[i]));
			if (strlen(m->kex[d].list[i]) > m->kex[d].wire_len[i])
				abort();
		}
		if (m->kex[d].present && strlen(m->kex[d].hassh) != 32)
			abort();
	}
	check_str(m->hostkey.type, sizeof(m->hostkey.type));
	check_str(m->kex_alg, sizeof(m->kex_alg));
	if (m->hostkey.present && (strlen(m->hostkey.fp) != 50 || memcmp(m->hostkey.fp, "SHA256:", 7) != 0))
		abort();
}

bool det_wants_ssh(const struct det_registry *r)
{
	(void)r;
	return true;
}

/* The consumer's only way out: checked here instead of judged. */
void det_dispatch_ssh(struct det_registry *r, const struct ssh_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	check_msg(ev->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The pieces on the raw bytes. */
	struct ssh_banner b;
	(void)dec_ssh_banner(data, size, &b);
	static struct ssh_kexinit k;
	(void)dec_ssh_kexinit(data, size, size & 1, &k);
	struct ssh_hostkey h;
	if (dec_ssh_kex_reply(data, size, &h) == SSH_OK && strlen(h.fp) != 50)
		abort();

	if (size < 4)
		return 0;
	size_t seg = data[0], flags = data[1];
	size_t la = (size_t)data[2] << 8 | data[3];
	const uint8_t *p = data + 4;
	size_t n = size - 4;
	if (la > n)
		la = n;
	const uint8_t *dir_data[2] = { p, p + la };
	size_t dir_len[2] = { la, n - la };
	size_t have[2] = { 0, 0 };
	uint64_t malformed = 0;
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	m.community_id = "";
	/* A non-NULL registry (never dereferenced: det_dispatch_ssh is the stub above). */
	struct app_ctx ctx = { (struct det_registry *)&m, NULL, &m, &malformed };
	void *state = NULL;
	struct flow f;
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	f.key.proto = 6;
	f.key.b[0] = 1;
	f.key.pa = 40000;
	f.key.pb = (flags & 4) ? 22 : 8022;
	f.init_is_a = 1;
	int turn = (flags & 1) ? 1 : 0;
	int done = 0;
	while (!done && (have[0] < dir_len[0] || have[1] < dir_len[1])) {
		int d = turn;
		if (have[d] == dir_len[d])
			d ^= 1;
		size_t step = seg ? seg : dir_len[d];
		if (step > dir_len[d] - have[d])
			step = dir_len[d] - have[d];
		have[d] += step;
		uint32_t sf = (have[d] == dir_len[d] && (flags & 2)) ? STREAM_F_FIN : 0;
		/* A copy of exactly the prefix, so a read past it is caught by ASan. */
		uint8_t *buf = malloc(have[d] ? have[d] : 1);
		if (!buf)
			break;
		memcpy(buf, dir_data[d], have[d]);
		if (app_ssh.on_data(&ctx, &state, &f, d, buf, have[d], sf) == APP_DONE)
			done = 1;
		free(buf);
		turn ^= 1;
	}
	app_ssh.free_state(state);
	return 0;
}
