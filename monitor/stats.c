/* stats.c - printing the run's counters (see stats.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "json.h"
#include "stats.h"

#define STATS_MAX_TYPES 128

void stats_print(FILE *f, bool json, const struct stats_run *r, const struct alert_pipe *ap)
{
	const struct sensor_stats *s = &r->sensor;
	struct alert_type_count types[STATS_MAX_TYPES];
	size_t ntypes = ap ? alert_pipe_counts(ap, types, STATS_MAX_TYPES) : 0;
	if (ntypes > STATS_MAX_TYPES)
		ntypes = STATS_MAX_TYPES;
	uint64_t dec_errs = 0;
	for (int i = 1; i < DEC_RESULT_MAX; i++)
		dec_errs += s->decode_err[i];

	if (json) {
		struct jw w;
		jw_init(&w);
		jw_obj_open(&w, NULL);
		jw_uint(&w, "packets", s->packets);
		jw_uint(&w, "bytes", s->bytes);
		jw_double(&w, "elapsed_s", r->elapsed_s);
		jw_double(&w, "pps", r->elapsed_s > 0 ? (double)s->packets / r->elapsed_s : 0);
		jw_uint(&w, "decode_errors", dec_errs);
		jw_obj_open(&w, "decode_errors_by_reason");
		for (int i = 1; i < DEC_RESULT_MAX; i++)
			if (s->decode_err[i])
				jw_uint(&w, dec_result_str((enum dec_result)i), s->decode_err[i]);
		jw_obj_close(&w);
		jw_obj_open(&w, "notes");
		for (int i = 0; i < DEC_NOTE_MAX; i++)
			if (s->notes[i])
				jw_uint(&w, dec_note_str((enum dec_note)i), s->notes[i]);
		jw_obj_close(&w);
		jw_uint(&w, "read_errors", r->read_errors);
		jw_uint(&w, "arp_frames", s->arp_frames);
		jw_obj_open(&w, "parsers");
		jw_obj_open(&w, "dns");
		jw_uint(&w, "messages", s->dns_msgs);
		jw_uint(&w, "malformed", s->dns_malformed);
		jw_obj_close(&w);
		jw_obj_open(&w, "dhcp");
		jw_uint(&w, "messages", s->dhcp_msgs);
		jw_uint(&w, "malformed", s->dhcp_malformed);
		jw_obj_close(&w);
		jw_obj_open(&w, "ndp");
		jw_uint(&w, "messages", s->ndp_msgs);
		jw_uint(&w, "malformed", s->ndp_malformed);
		jw_obj_close(&w);
		jw_uint(&w, "quic_initials", s->quic_initials);
		jw_uint(&w, "stream_malformed", s->app_malformed);
		jw_obj_close(&w);
		jw_obj_open(&w, "flows");
		jw_uint(&w, "created", s->flows.created);
		jw_uint(&w, "active", s->flows.active);
		jw_uint(&w, "peak_active", s->flows.peak_active);
		jw_uint(&w, "expired", s->flows.expired);
		jw_uint(&w, "evicted", s->flows.evicted);
		jw_uint(&w, "bulk_packets", s->bulk_packets);
		jw_obj_close(&w);
		jw_obj_open(&w, "streams");
		jw_uint(&w, "created", s->streams.streams);
		jw_uint(&w, "refused", s->streams.refused);
		jw_uint(&w, "bytes_in_use", s->streams.bytes_in_use);
		jw_uint(&w, "peak_bytes", s->streams.peak_bytes);
		jw_uint(&w, "out_of_order", s->streams.ooo_segments);
		jw_uint(&w, "retransmits", s->streams.retransmits);
		jw_uint(&w, "conflicts", s->streams.conflicts);
		jw_uint(&w, "gaps", s->streams.gaps);
		jw_obj_close(&w);
		if (r->live) {
			jw_obj_open(&w, "pcap");
			jw_uint(&w, "received", r->pcap_recv);
			jw_uint(&w, "dropped", r->pcap_drop);
			jw_uint(&w, "if_dropped", r->pcap_ifdrop);
			jw_obj_close(&w);
		}
		jw_obj_open(&w, "output");
		jw_uint(&w, "submitted", r->out_submitted);
		jw_uint(&w, "written", r->out_written);
		jw_uint(&w, "dropped", r->out_dropped);
		jw_uint(&w, "errors", r->out_errors);
		jw_uint(&w, "peak_queue", r->out_peak_depth);
		jw_obj_close(&w);
		if (r->live) {
			jw_obj_open(&w, "alert_latency_us");
			jw_uint(&w, "alerts", r->lat_n);
			jw_uint(&w, "p50", r->lat_p50_us);
			jw_uint(&w, "p99", r->lat_p99_us);
			jw_uint(&w, "max", r->lat_max_us);
			jw_obj_close(&w);
		}
		jw_uint(&w, "alerts_total", ap ? alert_pipe_total(ap) : 0);
		jw_obj_open(&w, "alerts");
		for (size_t i = 0; i < ntypes; i++)
			jw_uint(&w, types[i].action, types[i].written);
		jw_obj_close(&w);
		jw_obj_open(&w, "alerts_suppressed");
		for (size_t i = 0; i < ntypes; i++)
			if (types[i].suppressed)
				jw_uint(&w, types[i].action, types[i].suppressed);
		jw_obj_close(&w);
		jw_int(&w, "peak_rss_kib", r->peak_rss_kib);
		jw_obj_close(&w);
		fprintf(f, "%s\n", w.buf ? w.buf : "{}");
		jw_free(&w);
		fflush(f);
		return;
	}

	fprintf(f, "onpath: %llu packets, %llu bytes in %.3f s (%.0f pkt/s)\n",
		(unsigned long long)s->packets, (unsigned long long)s->bytes, r->elapsed_s,
		r->elapsed_s > 0 ? (double)s->packets / r->elapsed_s : 0.0);
	if (r->live)
		fprintf(f, "  pcap: %llu received, %llu dropped by the kernel, %llu by the interface\n",
			(unsigned long long)r->pcap_recv, (unsigned long long)r->pcap_drop,
			(unsigned long long)r->pcap_ifdrop);
	fprintf(f, "  decode errors: %llu%s", (unsigned long long)dec_errs, dec_errs ? " (" : "\n");
	if (dec_errs) {
		const char *sep = "";
		for (int i = 1; i < DEC_RESULT_MAX; i++)
			if (s->decode_err[i]) {
				fprintf(f, "%s%s %llu", sep, dec_result_str((enum dec_result)i),
					(unsigned long long)s->decode_err[i]);
				sep = ", ";
			}
		fprintf(f, ")\n");
	}
	for (int i = 0; i < DEC_NOTE_MAX; i++)
		if (s->notes[i])
			fprintf(f, "  %s: %llu\n", dec_note_str((enum dec_note)i),
				(unsigned long long)s->notes[i]);
	if (r->read_errors)
		fprintf(f, "  unreadable pcap records: %llu\n", (unsigned long long)r->read_errors);
	fprintf(f, "  arp frames: %llu; dns messages: %llu (%llu malformed); dhcp: %llu (%llu malformed); ndp: %llu (%llu malformed)\n",
		(unsigned long long)s->arp_frames, (unsigned long long)s->dns_msgs,
		(unsigned long long)s->dns_malformed, (unsigned long long)s->dhcp_msgs,
		(unsigned long long)s->dhcp_malformed, (unsigned long long)s->ndp_msgs,
		(unsigned long long)s->ndp_malformed);
	fprintf(f, "  flows: %llu created, %llu active (peak %llu), %llu expired, %llu evicted; %llu packets on the fast path\n",
		(unsigned long long)s->flows.created, (unsigned long long)s->flows.active,
		(unsigned long long)s->flows.peak_active, (unsigned long long)s->flows.expired,
		(unsigned long long)s->flows.evicted, (unsigned long long)s->bulk_packets);
	fprintf(f, "  streams: %llu created, %llu refused, peak %llu bytes, %llu gaps, %llu conflicts\n",
		(unsigned long long)s->streams.streams, (unsigned long long)s->streams.refused,
		(unsigned long long)s->streams.peak_bytes, (unsigned long long)s->streams.gaps,
		(unsigned long long)s->streams.conflicts);
	fprintf(f, "  output: %llu written, %llu dropped, %llu errors\n",
		(unsigned long long)r->out_written, (unsigned long long)r->out_dropped,
		(unsigned long long)r->out_errors);
	if (r->live && r->lat_n)
		fprintf(f, "  alert latency (packet to output): p50 %.1f ms, p99 %.1f ms, max %.1f ms over %llu alerts\n",
			(double)r->lat_p50_us / 1000.0, (double)r->lat_p99_us / 1000.0,
			(double)r->lat_max_us / 1000.0, (unsigned long long)r->lat_n);
	fprintf(f, "  alerts: %llu\n", (unsigned long long)(ap ? alert_pipe_total(ap) : 0));
	for (size_t i = 0; i < ntypes; i++)
		fprintf(f, "    %-32s %llu written, %llu repeats aggregated\n", types[i].action,
			(unsigned long long)types[i].written, (unsigned long long)types[i].suppressed);
	fprintf(f, "  peak RSS: %ld KiB\n", r->peak_rss_kib);
	fflush(f);
}
