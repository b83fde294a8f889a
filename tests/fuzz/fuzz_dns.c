#include "config.h"

/* fuzz_dns.c - fuzz target for the DNS-format parser (monitor/decode/dns.c) and the
 * DNS-over-TCP framing consumer (monitor/decode/dns_tcp.c).
 * Input: byte 0 picks the mode; the rest is the payload.
 *   bit 0 clear: one UDP payload through dec_dns();
 *   bit 0 set:   a TCP byte stream through app_dns_tcp, delivered as a growing prefix
 *                in steps of (byte0 >> 2) + 1 bytes, in direction bit 1, ending with FIN;
 *                every message it dispatches is checked here (this file stands in for
 *                the detector registry's det_dispatch_dns).
 * Every parsed message is checked against the promises of dns.h: counts within their
 * caps, every string inside the arena, NUL-terminated, printable ASCII only, names at
 * most DNS_NAME_TEXT_MAX long; NetBIOS decoding of every name stays in bounds. The
 * replay driver's --pcap mode hands every UDP payload on ports 53/5353/5355/137 of the
 * corpus to dec_dns() as the sensor does. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "decode/decode.h"
#include "decode/dns.h"
#include "flow.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len);

extern const struct app_consumer app_dns_tcp;

static void check_str(const struct dns_msg *m, struct dns_str s, size_t max)
{
	if (s.off >= m->textlen || s.len > m->textlen - s.off - 1 || s.len > max)
		abort();
	const char *t = &m->text[s.off];
	if (t[s.len] != '\0')
		abort();
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e)
			abort();
	char out[64];
	uint8_t sfx;
	if (dec_nbns_name(t, s.len, out, sizeof(out), &sfx) == 0 && strlen(out) >= sizeof(out))
		abort();
}

static void check(const struct dns_msg *m, int rc)
{
	char tb[DNS_TYPE_STRLEN];
	if (rc < 0 || rc >= DEC_DNS_ERR_MAX || !dec_dns_strerror(rc))
		abort();
	if (m->stage > DNS_STAGE_DONE || (rc == DEC_DNS_OK) != (m->stage == DNS_STAGE_DONE))
		abort();
	if (m->nq > DNS_MAX_QUESTIONS || m->nrr > DNS_MAX_RRS || m->nan > m->nrr ||
	    m->textlen > DNS_TEXT_MAX || m->textlen == 0 || m->nq > m->qdcount ||
	    (m->nopts > 0 && !m->has_opt))
		abort();
	for (unsigned i = 0; i < m->nq; i++)
		check_str(m, m->q[i].name, DNS_NAME_TEXT_MAX - 1);
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		check_str(m, rr->name, DNS_NAME_TEXT_MAX - 1);
		check_str(m, rr->data, DNS_RDATA_TEXT_MAX - 1);
		if (rr->section < DNS_SEC_AN || rr->section > DNS_SEC_AR)
			abort();
		if ((i < m->nan) != (rr->section == DNS_SEC_AN))
			abort();
		if (rr->addr.family != 0 && rr->addr.family != 4 && rr->addr.family != 6)
			abort();
		if (!dec_dns_type_str(rr->type, tb))
			abort();
	}
}

/* The registry, as far as the TCP consumer knows it. */
void det_dispatch_dns(struct det_registry *r, const struct dns_ev *ev, struct alert_pipe *out)
{
	(void)r;
	(void)out;
	if (!dec_dns_usable(ev->dns))
		abort();
	check(ev->dns, ev->dns->stage == DNS_STAGE_DONE ? DEC_DNS_OK : DEC_DNS_ERR_RR);
}

static struct dns_msg M;

static void run_udp(const uint8_t *data, size_t len)
{
	/* Garbage, as in a reused struct: dec_dns() resets what it reports. */
	memset(&M, 0xa5, sizeof(M));
	int rc = dec_dns(data, len, &M);
	check(&M, rc);
}

static void run_tcp(const uint8_t *data, size_t len, size_t step, int dir)
{
	struct flow f;
	struct ev_meta m;
	uint64_t malformed = 0;
	memset(&f, 0, sizeof(f));
	memset(&m, 0, sizeof(m));
	f.key.pa = 53;
	f.key.pb = 40000;
	m.proto = 6;
	m.community_id = "";
	static char registry; /* any non-NULL handle: det_dispatch_dns above ignores it */
	struct app_ctx ctx = { (struct det_registry *)(void *)&registry, NULL, &m, &malformed };
	if (!app_dns_tcp.wants(&f, 53))
		abort();
	void *st = NULL;
	enum app_verdict v = APP_MORE;
	for (size_t n = step < len ? step : len; v == APP_MORE; n += step) {
		if (n > len)
			n = len;
		v = app_dns_tcp.on_data(&ctx, &st, &f, dir, data, n, n == len ? STREAM_F_FIN : 0);
		if (n == len) {
			/* The other direction ends empty: the consumer lets the flow go. */
			v = app_dns_tcp.on_data(&ctx, &st, &f, !dir, data, 0, STREAM_F_FIN);
			if (v != APP_DONE)
				abort();
			break;
		}
	}
	app_dns_tcp.free_state(st);
}

int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len)
{
	struct pkt p;
	uint32_t notes = 0;
	if (dec_packet(&p, linktype, data, len, &notes) != DEC_OK || !(p.flags & PKT_F_UDP))
		return 0;
	static const uint16_t ports[] = { 53, 5353, 5355, 137 };
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (p.sport == ports[i] || p.dport == ports[i]) {
			/* dec_dns() must not read past the payload: copy it to its own block. */
			uint8_t *copy = malloc(p.payload_len ? p.payload_len : 1);
			if (!copy)
				return 0;
			if (p.payload_len)
				memcpy(copy, p.payload, p.payload_len);
			run_udp(copy, p.payload_len);
			free(copy);
			break;
		}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *b = size > 1 ? data + 1 : NULL;
	if (data[0] & 1)
		run_tcp(b, size - 1, (size_t)(data[0] >> 2) + 1, (data[0] >> 1) & 1);
	else
		run_udp(b, size - 1);
	return 0;
}
