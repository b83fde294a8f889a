/* classify.h - nDPI as a second opinion on the flows the detectors alert on: the
 * application protocol of the flow ("TLS.Google", "SMTPS", on any port) and nDPI's flow
 * risks (self-signed or expired certificate, certificate mismatch, obsolete TLS
 * version, weak cipher, known protocol on a non-standard port, clear-text credentials,
 * ...), attached to the alert as onpath.ndpi.
 *
 * Lazily, because nDPI is expensive (about 19,000 instructions per packet in nDPI 4.2,
 * and some 60 million to initialise) and most flows never alert: while a flow is
 * inspected (some stream consumer still wants it), the sensor keeps copies of its first
 * packets (at most CLS_MAX_PACKETS and CLS_FLOW_BYTES per flow, CLS_BUDGET for all);
 * only when a detector raises an alert on the flow does nDPI start (once per run) and
 * read them. Copies go when the flow leaves inspection. Only segments with data are
 * kept (nDPI names the protocol from them; a SYN flood costs nothing here). A flow whose
 * packets did not fit the budget (which counts the per-flow state too) has no nDPI
 * evidence; nothing else changes.
 */
#ifndef ONPATH_CLASSIFY_H
#define ONPATH_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLS_MAX_PACKETS 24            /* packets of one flow kept for nDPI */
#define CLS_FLOW_BYTES (48u * 1024)   /* bytes of one flow kept */
#define CLS_BUDGET (32u * 1024 * 1024) /* bytes kept for all flows */
#define CLS_PROTO_MAX 48

struct cls;        /* the classifier: nDPI's module (started on first use), the budget */
struct cls_flow;   /* one flow: kept packets, nDPI's state once started */

struct cls_info {
	char proto[CLS_PROTO_MAX]; /* "TLS", "TLS.Google"; "" = not known */
	uint64_t risk;             /* bitmask of nDPI risks (ndpi_risk_enum bits) */
};

struct cls_stats {
	uint64_t kept, refused;    /* packets copied; packets over a limit */
	uint64_t looked, ndpi_packets; /* flows nDPI was asked about; packets it read */
	uint64_t bytes, peak_bytes;
	bool started, failed;      /* nDPI initialised; its initialisation failed */
};

struct cls *cls_new(void);
void cls_free(struct cls *c);
void cls_get_stats(const struct cls *c, struct cls_stats *st);

/* NULL when the budget is spent (or no memory): the flow goes without nDPI. */
struct cls_flow *cls_flow_new(struct cls *c);
void cls_flow_free(struct cls *c, struct cls_flow *f);

/* Keeps a copy of one IP packet of the flow (l3 = the IP header, len bytes). False
 * when a limit refused it. */
bool cls_keep(struct cls *c, struct cls_flow *f, const uint8_t *l3, size_t len, uint64_t ts_us);
/* Starts nDPI if needed, gives it the kept packets it has not seen (then drops them)
 * and says what it knows. False when nDPI knows nothing or could not start. */
bool cls_look(struct cls *c, struct cls_flow *f, struct cls_info *info);
/* nDPI's name of risk bit b, or NULL. */
const char *cls_risk_name(unsigned b);

#endif
