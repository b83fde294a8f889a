/* records.h - protocol records ("logs"): the `tls`, `dns` and `arp` lines written next to
 * the alerts (event.kind "event"), so analysts can search every handshake, answer and
 * station, not only what alerted (Zeek's ssl.log/dns.log, arpwatch's reports).
 *
 * TLS and DNS records come from detectors/records.c (det_records, config section
 * detectors.records: tls, dns); ARP records from detectors/arp.c (detectors.arp.log),
 * which owns the bindings they describe. Both build their lines with det_record_open /
 * det_record_submit, so every record has the same head as an alert: @timestamp, event,
 * observer, source, destination, network.
 */
#ifndef ONPATH_DET_RECORDS_H
#define ONPATH_DET_RECORDS_H

#include <stdint.h>

#include "../monitor/alert.h"
#include "../monitor/json.h"

/* Bits of the command line's --log-tls, --log-dns, --log-arp (--log LIST). */
#define DET_LOG_TLS (1u << 0)
#define DET_LOG_DNS (1u << 1)
#define DET_LOG_ARP (1u << 2)
#define DET_LOG_ALL (DET_LOG_TLS | DET_LOG_DNS | DET_LOG_ARP)

/* How the command line overrides the config: main.c calls this before the registry is
 * created (and it stays for reloads). A bit set turns that record on whatever
 * detectors.records.tls/dns or detectors.arp.log say; a bit clear leaves the config's
 * choice. A detector disabled in the config (enabled: false) writes no records. */
void det_records_cli(unsigned mask);
unsigned det_records_cli_mask(void);

/* Starts a record in w (initialised here): the top-level object with @timestamp (ts_us,
 * packet time), event {kind "event", module, dataset, category ["network"], type
 * [type]}, observer (the pipe's name and interface) and the endpoints of ends as the
 * alerts write them (alert_endpoints_to_json: source, destination, network with
 * protocol when not NULL). The top-level object stays open for the protocol object.
 * dataset, type and protocol are static strings. */
void det_record_open(struct jw *w, const struct alert_pipe *ap, uint64_t ts_us,
		     const char *dataset, const char *type, const struct alert *ends,
		     const char *protocol);
/* Closes the top-level object (the caller closed its own containers) and hands the line
 * to the outputs as OUT_RECORD with meta.dataset. Releases w either way. Returns 0, or
 * -1 when the line was dropped (output queue full, no output, or a writer error). */
int det_record_submit(struct alert_pipe *ap, struct jw *w, const char *dataset);

#endif
