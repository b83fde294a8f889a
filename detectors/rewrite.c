/* rewrite.c - TCP data rewritten in the path (detector "rewrite").
 *
 * An attacker who poisons ARP and relays frames at layer 2 (ettercap with an
 * etterfilter, bettercap's packet proxy) can change the bytes of a connection without
 * terminating it: the sequence numbers stay, only the payload differs. A SPAN port of
 * the segment sees both legs: the original from the real sender (sent to the
 * attacker's MAC) and, a moment later, the attacker's copy with the same sequence
 * numbers and other bytes. The stream reassembly keeps the first copy and reports the
 * second as a conflict (monitor/stream.h); this detector alerts when the conflicting
 * copy came from another NIC than the one that sent the direction's first data:
 *
 *   tcp.rewritten_in_path   the later copy of a TCP segment, sent by another MAC,
 *                           carries different bytes (ATT&CK T1565.002)
 *
 * When the original copy carries a keyword that protects the session and the relayed
 * copy does not (STARTTLS, STLS, AUTH TLS, https://, Strict-Transport-Security), the
 * alert names the removal and its effect (evidence "removed", "effect"): the strip
 * the sensor's reassembly hides from the STARTTLS and HTTP detectors, since it keeps
 * the first copy.
 *
 * A conflicting copy from the same MAC is a sender retransmitting other bytes (an
 * evasion attempt or an odd stack): counted by the streams ("conflicts"), not alerted.
 * The detector sees the handshakes the stream consumers inspect (the first 64 KiB of
 * TLS, STARTTLS, HTTP and SSH flows), which is where a downgrade is made.
 *
 * Config (detectors.rewrite): enabled (default true).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../monitor/json.h"
#include "../monitor/util.h"
#include "detector.h"

#define REWRITE_MSG_EXCERPT 24 /* bytes of each copy quoted in the message */

enum { T_REWRITTEN };

static const struct alert_type rewrite_types[] = {
	[T_REWRITTEN] = { "tcp.rewritten_in_path", 8, "T1565.002", "Transmitted Data Manipulation",
			  "a TCP segment's later copy, relayed by another MAC, carries different bytes for the same sequence numbers" },
};

/* Keywords whose removal downgrades the session, lower case (util_icontains). */
static const struct {
	const char *token, *name, *effect;
} removals[] = {
	{ "starttls", "STARTTLS", "STARTTLS removed from what the server offers: the session can only continue in clear" },
	{ "stls", "STLS", "STLS removed from the POP3 server's capabilities: the session can only continue in clear" },
	{ "auth tls", "AUTH TLS", "AUTH TLS removed from the FTP server's features: the session can only continue in clear" },
	{ "https://", "https://", "an https:// address turned into another (SSL stripping: the victim is sent to plain HTTP)" },
	{ "strict-transport-security", "Strict-Transport-Security", "the HSTS header removed: the browser is not told to insist on HTTPS" },
};

struct rewrite_state {
	uint64_t events;  /* conflicts seen */
	uint64_t relayed; /* of which from another NIC */
};

static int rewrite_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", NULL };
	if (cfg_check_keys(in->cfg, in->section, "detectors.rewrite", keys, in->err, in->errlen) < 0)
		return -1;
	struct rewrite_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "rewrite: out of memory");
		return -1;
	}
	*state = s;
	return 0;
}

static void rewrite_fini(void *state)
{
	free(state);
}

/* The message quotes up to REWRITE_MSG_EXCERPT bytes of a copy in '...': printable
 * ASCII, anything else (and the quote itself) as '.'. */
static void excerpt(char dst[REWRITE_MSG_EXCERPT + 1], const uint8_t *p, size_t n)
{
	det_printable(dst, REWRITE_MSG_EXCERPT + 1, p, p ? n : 0, '.');
	for (char *q = dst; (q = strchr(q, '\'')) != NULL;)
		*q = '.';
}

static void rewrite_on_rewrite(void *state, const struct rewrite_ev *ev, struct alert_pipe *out)
{
	struct rewrite_state *s = state;
	s->events++;
	if (!ev->m.has_eth || memcmp(ev->first_mac, ev->m.src_mac, 6) == 0)
		return; /* the sender itself sent other bytes: not a relay */
	s->relayed++;

	char src[OP_ADDR_STRLEN], dst[OP_ADDR_STRLEN], relay[OP_MAC_STRLEN], first[OP_MAC_STRLEN];
	char kept[REWRITE_MSG_EXCERPT + 1], seen[REWRITE_MSG_EXCERPT + 1];
	util_addr_fmt(&ev->m.src, src);
	util_addr_fmt(&ev->m.dst, dst);
	util_mac_fmt(ev->m.src_mac, relay);
	util_mac_fmt(ev->first_mac, first);
	excerpt(kept, ev->kept, ev->kept_len);
	excerpt(seen, ev->seen, ev->seen_len);

	struct alert a;
	alert_begin(&a, &rewrite_types[T_REWRITTEN], ev->m.ts_us);
	a.confidence = CONF_HIGH;
	det_alert_from_meta(&a, &ev->m);
	/* One alert per relay and connection direction in a window: every rewritten
	 * segment of it is the same finding. */
	snprintf(a.key, sizeof(a.key), "vlan=%u %s:%u>%s:%u %s", ev->m.vlan, src, ev->m.sport, dst,
		 ev->m.dport, relay);
	snprintf(a.message, sizeof(a.message),
		 "TCP data from %s:%u to %s:%u was rewritten in the path: %s relayed a copy of %s's segment with other bytes at stream offset %u ('%s' became '%s', from %u bytes before); someone between them (ARP poisoning and a layer-2 relay) is changing the connection",
		 src, ev->m.sport, dst, ev->m.dport, relay, first, ev->offset, kept, seen, ev->context);
	jw_mac(&a.ev, "attacker_mac", ev->m.src_mac);
	jw_mac(&a.ev, "first_mac", ev->first_mac);
	jw_uint(&a.ev, "first_ttl", ev->first_ttl);
	jw_uint(&a.ev, "relayed_ttl", ev->m.ip_ttl);
	jw_str(&a.ev, "direction", ev->from_initiator ? "from the initiator" : "from the responder");
	jw_uint(&a.ev, "stream_offset", ev->offset);
	jw_uint(&a.ev, "excerpt_context", ev->context);
	if (ev->kept)
		jw_strn(&a.ev, "original", ev->kept, ev->kept_len);
	jw_strn(&a.ev, "rewritten", ev->seen, ev->seen_len);
	/* What the rewrite took away, when it is a downgrade the analyst must know of. */
	size_t why = ONPATH_ARRAY_LEN(removals), nrem = 0;
	for (size_t i = 0; ev->kept && i < ONPATH_ARRAY_LEN(removals); i++) {
		if (!util_icontains(ev->kept, ev->kept_len, removals[i].token) ||
		    util_icontains(ev->seen, ev->seen_len, removals[i].token))
			continue;
		if (nrem++ == 0) {
			why = i;
			jw_arr_open(&a.ev, "removed");
		}
		jw_str(&a.ev, NULL, removals[i].name);
	}
	if (nrem) {
		jw_arr_close(&a.ev);
		jw_str(&a.ev, "effect", removals[why].effect);
		size_t ml = strlen(a.message);
		snprintf(a.message + ml, sizeof(a.message) - ml, "; %s", removals[why].effect);
	}
	alert_emit(out, &a);
}

const struct detector det_rewrite = {
	.name = "rewrite",
	.types = rewrite_types,
	.ntypes = ONPATH_ARRAY_LEN(rewrite_types),
	.init = rewrite_init,
	.fini = rewrite_fini,
	.on_rewrite = rewrite_on_rewrite,
};
