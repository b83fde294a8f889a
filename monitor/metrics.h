/* metrics.h - Prometheus text metrics over HTTP (libmicrohttpd), loopback by default.
 *
 * The capture thread never serves HTTP and the HTTP thread never reads the sensor's
 * tables: the main loop publishes a copy of its counters (metrics_publish, about once
 * a second), and a scrape formats the last copy plus the output manager's queue and
 * per-output health (out_mgr_health, atomics). The redis heartbeat reads the same
 * copy (metrics_get). Everything here is safe from any thread.
 *
 * Wiring (main.c):
 *   metrics_start("127.0.0.1:9187", out, err, sizeof(err))   after out_mgr_start
 *   metrics_fill(&m, &run, sensor_alerts(s)); metrics_publish(&m);   in the loop
 *   metrics_stop()                                            before out_mgr_free
 */
#ifndef ONPATH_METRICS_H
#define ONPATH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_TYPES 256
#define METRICS_ACTION_MAX 64
#define METRICS_DEFAULT_PORT 9187
#define METRICS_MAX_CONNECTIONS 16
#define METRICS_TIMEOUT_S 10

struct metrics_type {
	char action[METRICS_ACTION_MAX];
	uint64_t written, suppressed;
};

/* What the sensor counts, as of its last metrics_publish. */
struct metrics_sensor {
	bool live;
	uint64_t packets, bytes;
	uint64_t pcap_received, pcap_dropped, pcap_if_dropped;  /* live only */
	uint64_t decode_errors, read_errors;
	uint64_t flows_active, flows_created, flows_expired, flows_evicted;
	uint64_t streams_bytes, streams_refused;
	uint64_t alerts_written, alerts_suppressed, alerts_below_min, alerts_dropped;
	uint64_t out_submitted, out_dropped, out_errors;
	size_t ntypes;
	struct metrics_type types[METRICS_MAX_TYPES];
};

struct stats_run;
struct alert_pipe;
struct out_mgr;

/* Fills m from a stats snapshot of the run and the alert pipe (ap may be NULL). */
void metrics_fill(struct metrics_sensor *m, const struct stats_run *r, struct alert_pipe *ap);
/* Copies m as the latest counters. */
void metrics_publish(const struct metrics_sensor *m);
/* Copies the latest counters into m; -1 when nothing was published yet. */
int metrics_get(struct metrics_sensor *m);

/* Serves GET /metrics on listen: "PORT", "ADDR:PORT" or "[ADDR6]:PORT" (port 0 picks
 * one, see metrics_port). A bare port listens on 127.0.0.1 only: the counters describe
 * the monitored network, so exposing them is an explicit choice. out (borrowed, may be
 * NULL) must outlive metrics_stop. Returns 0, or -1 with err. */
int metrics_start(const char *listen, struct out_mgr *out, char *err, size_t errlen);
/* The port listened on (0 when not started). */
unsigned metrics_port(void);
void metrics_stop(void);

/* Formats the exposition text (caller frees); for tests and for metrics_start. */
char *metrics_render(struct out_mgr *out, size_t *len);

#endif
