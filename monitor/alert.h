/* alert.h - the alert model (ECS-shaped JSON of DESIGN.md), de-duplication and
 * aggregation per (type, key) window, and hand-off to the output queue.
 *
 * A detector fills a struct alert (alert_begin), adds evidence through a.ev (a jw
 * positioned inside the evidence object) and calls alert_emit(). The pipeline:
 *  - looks up (action, key) in a bounded de-duplication table: the first alert of a
 *    window is written at once; repeats inside the window only count; when the window
 *    closes with repeats, one aggregate alert is written with onpath.count, first_seen,
 *    last_seen and onpath.aggregate = true;
 *  - serialises the alert to one JSON line and submits it to the outputs.
 * Time is packet time, so an offline run gives the same alerts on every run.
 */
#ifndef ONPATH_ALERT_H
#define ONPATH_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "util.h"

#define ALERT_DEFAULT_WINDOW_S 300u
#define ALERT_DEFAULT_DEDUPE_MAX 65536u
#define ALERT_KEY_MAX 160
#define ALERT_MSG_MAX 512
#define ALERT_INCIDENT_ID_MAX 64
/* event.id: 32 hex digits, '-', 16 hex digits, NUL */
#define ALERT_ID_MAX 50

enum alert_confidence { CONF_LOW = 0, CONF_MEDIUM, CONF_HIGH };

/* Static description of an alert type; every detector lists the types it raises. */
struct alert_type {
	const char *action;          /* "<family>.<indicator>", stable */
	int severity;                /* default 1..10 */
	const char *technique_id;    /* ATT&CK, e.g. "T1557.002" */
	const char *technique_name;
	const char *summary;         /* one line for --list-alerts and the docs */
};

struct alert_endpoint {
	struct op_addr ip;   /* family 0 when unknown */
	uint8_t mac[6];
	bool has_mac;
	uint16_t port;
	bool has_port;
};

#define ALERT_NDPI_RISKS 8

struct alert {
	const struct alert_type *type;
	int severity;                   /* starts at type->severity; the detector may raise/lower */
	enum alert_confidence confidence;
	uint64_t ts_us;                 /* packet time */
	struct alert_endpoint src, dst;
	uint8_t transport;              /* IP protocol number, 0 = none */
	uint16_t vlan;                  /* 0 = none */
	char community_id[40];          /* "" = none */
	char key[ALERT_KEY_MAX];        /* de-duplication key within the type */
	char message[ALERT_MSG_MAX];    /* human sentence; escaped at output like all text */
	struct jw ev;                   /* evidence object, open; members added by the detector */
	/* Set by the pipe's observer (detectors/incident.c): the id of the incident this
	 * alert belongs to, written as onpath.incident; "" = none. */
	char incident[ALERT_INCIDENT_ID_MAX];
	/* nDPI's protocol and risks of the flow (det_alert_from_meta), written as
	 * onpath.ndpi; "" and 0 = none. The risk names are static strings. */
	char ndpi_proto[48];
	const char *ndpi_risks[ALERT_NDPI_RISKS];
	unsigned nndpi_risks;
};

struct alert_pipe;
struct out_mgr;

struct alert_pipe_cfg {
	const char *sensor_name;        /* observer.name; NULL or "" = host name */
	const char *iface;              /* observer.ingress.interface.name, NULL offline */
	uint32_t window_s;              /* aggregation window; 0 = ALERT_DEFAULT_WINDOW_S */
	uint32_t dedupe_max;            /* entries in the de-duplication table; 0 = default */
	int min_severity;               /* alerts below are counted but not written */
};

struct alert_pipe *alert_pipe_new(const struct alert_pipe_cfg *cfg, struct out_mgr *out);
/* Frees ap; open windows are dropped unwritten (alert_pipe_flush first at end of run).
 * out must outlive ap. */
void alert_pipe_free(struct alert_pipe *ap);

/* Starts an alert of type t at packet time ts_us (opens the evidence object). */
void alert_begin(struct alert *a, const struct alert_type *t, uint64_t ts_us);
/* Finishes, de-duplicates, serialises and submits the alert; releases a.ev. */
void alert_emit(struct alert_pipe *ap, struct alert *a);
/* Releases an alert that will not be emitted. */
void alert_discard(struct alert *a);

/* Closes aggregation windows that ended before now_us (packet time). */
void alert_pipe_tick(struct alert_pipe *ap, uint64_t now_us);
/* Closes every window (end of run). */
void alert_pipe_flush(struct alert_pipe *ap);

/* An observer sees every alert the pipe accepts, after de-duplication and before it
 * is serialised, so it may change the alert (severity, confidence, incident). One per
 * pipe (detectors/incident.c). Every callback runs with the pipe's lock held: it must
 * not call alert_emit, alert_pipe_tick or alert_pipe_flush, and may call
 * alert_pipe_new_id, alert_pipe_submit, alert_pipe_sensor_name.
 *  - alert: id is the event.id the alert will carry, or NULL for a repeat that is only
 *    counted (no line now; it will be part of the window's aggregate);
 *  - written: after the alert's line was submitted (incident updates follow their
 *    member), may be NULL;
 *  - tick: from alert_pipe_tick (packet time), may be NULL;
 *  - flush: from alert_pipe_flush (end of run), may be NULL. */
struct alert_observer {
	void (*alert)(void *ud, struct alert *a, const char *id);
	void (*written)(void *ud);
	void (*tick)(void *ud, uint64_t now_us);
	void (*flush)(void *ud);
};
/* Installs obs (borrowed, static storage) with ud, replacing any other; obs NULL
 * removes only when ud is the installed one (a detector's fini after a reload must
 * not remove its successor). */
void alert_pipe_set_observer(struct alert_pipe *ap, const struct alert_observer *obs, void *ud);
/* A new unique event id ("<32 hex>-<16 hex>", the alerts' sequence) into buf
 * (>= ALERT_ID_MAX bytes). From observer callbacks only (the lock is held). */
void alert_pipe_new_id(struct alert_pipe *ap, char *buf, size_t len);
/* observer.name of the pipe's lines. */
const char *alert_pipe_sensor_name(const struct alert_pipe *ap);
/* observer.ingress.interface.name of the pipe's lines, NULL offline. */
const char *alert_pipe_iface(const struct alert_pipe *ap);
/* Submits a line the observer built (kind OUT_INCIDENT), or a protocol record a
 * detector built (OUT_RECORD, detectors/records.c; not de-duplicated), malloc'd,
 * ownership taken, to the pipe's outputs; the meta is copied. Returns 0 or -1 (dropped
 * or no output). */
struct out_meta;
int alert_pipe_submit(struct alert_pipe *ap, int kind, char *line, size_t len,
		      const struct out_meta *meta);

/* Serialises an alert as one JSON object (no newline) into w: exposed for tests. id is
 * event.id; count/first/last are the aggregation fields. */
void alert_to_json(struct jw *w, const struct alert *a, const char *sensor, const char *iface,
		   const char *id, uint64_t count, uint64_t first_us, uint64_t last_us,
		   bool aggregate);

/* Writes a's endpoints as the alert lines have them: "source" and "destination" (ip,
 * mac, port, each when set) and "network" (community_id, transport, protocol when not
 * NULL, vlan.id), members of the object open in w. Shared with the protocol records
 * (detectors/records.c) so both kinds of line describe a flow the same way. */
void alert_endpoints_to_json(struct jw *w, const struct alert *a, const char *protocol);
/* Writes "observer" (name, and ingress.interface.name when iface is not NULL), a member
 * of the object open in w; shared with the records too. */
void alert_observer_to_json(struct jw *w, const char *sensor, const char *iface);

/* Per-type counters: written (first of window + aggregates), suppressed repeats, and
 * alerts below min_severity (counted, never written). */
struct alert_type_count {
	const char *action;
	uint64_t written, suppressed, below_min;
};
/* Fills up to cap entries, returns the number of types seen. */
size_t alert_pipe_counts(const struct alert_pipe *ap, struct alert_type_count *out, size_t cap);
uint64_t alert_pipe_total(const struct alert_pipe *ap);

/* Totals over all types, for stats and metrics. */
struct alert_pipe_stats {
	uint64_t written;         /* lines handed to the outputs, aggregates included */
	uint64_t aggregates;
	uint64_t suppressed;      /* repeats folded into an aggregate */
	uint64_t below_min;       /* below min_severity */
	uint64_t dropped;         /* refused by the output queue (live, full) */
	uint64_t errors;          /* could not be serialised (out of memory) */
	uint64_t dedupe_entries;  /* open windows now */
	uint64_t dedupe_evicted;  /* windows closed early because the table was full */
};
void alert_pipe_get_stats(const struct alert_pipe *ap, struct alert_pipe_stats *s);

const char *alert_confidence_str(enum alert_confidence c);

#endif
