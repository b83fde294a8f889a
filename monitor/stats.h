/* stats.h - the run's counters, printed at the end of an offline run and on SIGUSR1:
 * human-readable text, or one JSON object (--stats-json). */
#ifndef ONPATH_STATS_H
#define ONPATH_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sensor.h"

struct output_stats_view;

struct stats_run {
	struct sensor_stats sensor;
	uint64_t pcap_recv, pcap_drop, pcap_ifdrop; /* live */
	uint64_t read_errors;                        /* pcap records libpcap could not read */
	uint64_t out_submitted, out_written, out_dropped, out_errors, out_peak_depth;
	uint64_t lat_n, lat_p50_us, lat_p99_us, lat_max_us; /* live: packet to alert written */
	double elapsed_s;                            /* wall clock */
	long peak_rss_kib;
	bool live;
};

/* Writes the stats (alert counts come from ap, may be NULL). */
void stats_print(FILE *f, bool json, const struct stats_run *r, const struct alert_pipe *ap);

#endif
