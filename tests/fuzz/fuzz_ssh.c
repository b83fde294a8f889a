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
#include "consumer.h"

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

/* The SSH consumer follows a flow by its responder's port: bit 2 of flags picks 22. */
static void ssh_flow(struct flow *f, unsigned flags)
{
	f->key.family = 4;
	f->key.proto = 6;
	f->key.b[0] = 1;
	f->key.pa = 40000;
	f->key.pb = (flags & 4) ? 22 : 8022;
	f->init_is_a = 1;
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

	fuzz_consumer(&app_ssh, data, size, ssh_flow);
	return 0;
}
