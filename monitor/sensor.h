/* sensor.h - the per-packet pipeline: decode -> flows -> streams -> events ->
 * detectors -> alerts, plus the once-a-second tick in packet time. */
#ifndef ONPATH_SENSOR_H
#define ONPATH_SENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "cfg.h"
#include "decode/decode.h"
#include "flow.h"
#include "stream.h"

struct sensor_cfg {
	struct flow_cfg flow;
	struct stream_cfg stream;
	struct alert_pipe_cfg alert;
	const char *sig_dir;
	const char *state_file;      /* NULL: baselines are not persisted */
	uint64_t learning_s;         /* cold-start learning window */
	uint64_t state_interval_s;   /* periodic save, packet time */
	uint64_t baseline_interval_s; /* baselines to Redis (packet time); 0 = never */
	bool ndpi;                   /* nDPI on inspected flows (classify.h); default on */
	bool shared_baselines;       /* start from every sensor's baselines in Redis */
	uint16_t community_id_seed;
	unsigned workers;            /* live capture threads (sensor_worker_new()); 0 = 1 */
};

#define SENSOR_WORKERS_MAX 64
#define SENSOR_WORKER_MIN_FLOWS 1024u

/* Defaults, then the config's values (sensor, flows, streams, alerts sections).
 * Returns 0 or -1 with err "file:line: why". */
int sensor_cfg_load(struct sensor_cfg *sc, const struct cfg *c, char *err, size_t errlen);

struct sensor;
struct det_registry;
struct out_mgr;

struct sensor *sensor_new(const struct sensor_cfg *sc, const struct cfg *c, struct out_mgr *out,
			  char *err, size_t errlen);
/* The root's memory limits (flows.max, streams.max_total) are already divided by
 * sc->workers. With sc->workers > 1, sensor_worker_new() adds the other workers (up to
 * workers - 1): each has its own flows, streams and nDPI, and shares the root's
 * detectors, alert pipe and state, which are then used under a lock, so that the
 * detectors judge every worker's events as one sensor. Each worker (the root is the
 * first) is fed by one thread; sensor_reload_commit(), sensor_get_stats() and
 * sensor_finish() are called on the root while no worker runs. Freed with the root. */
struct sensor *sensor_worker_new(struct sensor *root, char *err, size_t errlen);
void sensor_free(struct sensor *s);

/* One captured frame (borrowed for the call). */
void sensor_packet(struct sensor *s, int linktype, uint64_t ts_us, uint32_t caplen,
		   uint32_t wirelen, const uint8_t *data);
/* Live capture with no packets for a while: runs the tick on wall-clock time so
 * aggregation windows still close. */
void sensor_idle(struct sensor *s, uint64_t now_us);
/* Writes every detector's baseline to the state file (no-op without one); with
 * workers, under the detectors' lock (the workers keep capturing). */
int sensor_save_state(struct sensor *s, char *err, size_t errlen);
/* End of input: expire nothing, flush aggregation windows, save the state. */
void sensor_finish(struct sensor *s);
/* Swaps in a new config's detectors and alert settings (SIGHUP). Returns 0 or -1. */
int sensor_reload(struct sensor *s, const struct cfg *c, char *err, size_t errlen);
/* The same in two steps, so that workers pause only for the swap: _prepare() builds
 * the new detectors (signatures, trust store: slow) from the running ones' baselines
 * while the workers go on (NULL with err on a bad config: nothing changed); _commit()
 * swaps them in and must be called while no worker runs. */
struct det_registry;
struct det_registry *sensor_reload_prepare(struct sensor *s, const struct cfg *c, char *err,
					   size_t errlen);
void sensor_reload_commit(struct sensor *s, struct det_registry *r);

struct sensor_stats {
	uint64_t packets, bytes;
	uint64_t decode_err[DEC_RESULT_MAX];
	uint64_t notes[DEC_NOTE_MAX];
	uint64_t arp_frames;
	uint64_t dns_msgs, dns_malformed;
	uint64_t dhcp_msgs, dhcp_malformed;
	uint64_t ndp_msgs, ndp_malformed;
	uint64_t quic_initials;  /* QUIC Initial ClientHellos decrypted */
	uint64_t app_malformed;  /* stream consumers: bytes that were not their protocol */
	struct flow_stats flows;
	struct stream_stats streams;
	uint64_t bulk_packets;   /* packets that took the fast path */
	uint64_t first_us, last_us;
};
void sensor_get_stats(const struct sensor *s, struct sensor_stats *st);
/* Frees the parsers' per-thread caches (certificates, QUIC buffers) of the calling
 * thread: a capture worker calls it before it ends. */
void sensor_thread_exit(void);
/* One worker's own counters (sensor_get_stats() of the root adds all workers up). */
void sensor_worker_stats(const struct sensor *s, struct sensor_stats *st);
struct alert_pipe *sensor_alerts(struct sensor *s);

#endif
