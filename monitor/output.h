/* output.h - the output interface and the output thread.
 *
 * The capture thread never writes to an output: it submits finished JSON lines to a
 * bounded queue; one output thread takes them in order and hands each to every
 * configured output (jsonl, redis, syslog, each with its own ops). When the queue is
 * full an offline run waits (nothing is lost, reading a file can wait); a live run
 * counts a drop rather than stall capture. Outputs that talk to a server (redis,
 * syslog over TCP) keep what they cannot deliver in an on-disk spool (spool.h) and
 * replay it in order when the server is back.
 */
#ifndef ONPATH_OUTPUT_H
#define ONPATH_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUT_DEFAULT_QUEUE 65536u
#define OUT_MAX_OUTPUTS 8
/* event.id is 32 hex digits, '-', 16 hex digits (alert.c); room to spare. */
#define OUT_ID_MAX 64

enum out_kind {
	OUT_ALERT = 0,  /* an alert (event.kind "alert") */
	OUT_RECORD,     /* a protocol record (tls, dns, arp logs) */
	OUT_INCIDENT,   /* an incident update */
	OUT_STATS,      /* a stats snapshot */
	OUT_BASELINE,   /* the detectors' learned baselines (one JSON object keyed by
			 * detector): only Redis keeps it (the latest replaces the last);
			 * never spooled, never written to files or syslog */
	OUT_KIND_MAX
};

/* What an output may want to know about a line without parsing it back: filled by
 * the producer that wrote the JSON (alert.c). Lines submitted without it reach
 * write_meta with meta == NULL and the output parses what it needs (jansson). */
struct out_meta {
	const char *action;    /* event.action; static storage (an alert type table) or NULL */
	const char *dataset;   /* event.dataset of a record ("tls", "dns", "arp"); static or NULL */
	int severity;          /* event.severity 1..10; 0 = unknown */
	char id[OUT_ID_MAX];   /* event.id; "" = none */
	uint64_t ts_us;        /* time of the packet that raised it (live: its arrival), for
				* the alert latency figures; 0 = not measured (aggregates) */
};

#define OUT_ACTION_MAX 64
#define OUT_DATASET_MAX 32

/* A line's meta with its own storage, for outputs that keep lines past the write call
 * (batches, spools). */
struct out_meta_copy {
	enum out_kind kind;
	int severity;
	char id[OUT_ID_MAX];
	char action[OUT_ACTION_MAX];
	char dataset[OUT_DATASET_MAX];
};

/* Copies m (may be NULL) into c and fills what it lacks from the JSON line (jansson:
 * event.id, event.action, event.severity, event.dataset): the slow path for lines
 * submitted without meta. An unknown dataset becomes "stats" or "records". */
void out_meta_copy(struct out_meta_copy *c, enum out_kind kind, const struct out_meta *m,
		   const char *line, size_t len);
/* The view of c as a struct out_meta (pointers into c). */
void out_meta_view(const struct out_meta_copy *c, struct out_meta *m);

/* Connection state of an output, for logs, metrics and the heartbeat. */
enum out_state {
	OUT_ST_LOCAL = 0,  /* no server (a file, stdout) */
	OUT_ST_UP,         /* connected, writes accepted */
	OUT_ST_CONNECTING, /* not tried yet */
	OUT_ST_DOWN,       /* cannot connect, or the connection broke */
	OUT_ST_TIMEOUT,    /* connected but a command timed out (server hung or slow) */
	OUT_ST_AUTH,       /* authentication or permission refused */
	OUT_ST_REFUSED,    /* the server answers but refuses the writes (OOM, wrong key
	                    * type, read-only replica, ...) */
	OUT_ST_MAX
};
const char *out_state_str(enum out_state st);

/* Counters an output publishes for the metrics thread and the heartbeat. The output
 * thread writes them with out_health_set/out_health_add; readers take a consistent
 * enough copy with out_mgr_health (relaxed atomics: each value is exact, the set is
 * not a snapshot). */
struct out_health {
	uint64_t state;          /* enum out_state */
	uint64_t delivered;      /* lines the server acknowledged (or written, locally) */
	uint64_t spooled;        /* lines appended to the spool */
	uint64_t replayed;       /* spooled lines delivered later */
	uint64_t spool_bytes;    /* spool size on disk now */
	uint64_t spool_alerts;   /* alerts (and incidents) waiting in the spool now */
	uint64_t spool_records;  /* informational lines waiting in the spool now */
	uint64_t spool_dropped;  /* informational lines evicted from a full spool */
	uint64_t lost;           /* alerts that could not be kept (spool full of alerts,
	                          * no spool, disk error): the number to alarm on */
	uint64_t reconnects;     /* successful (re)connections */
	uint64_t failures;       /* failed connection attempts and refused batches */
};

static inline void out_health_set(uint64_t *f, uint64_t v)
{
	__atomic_store_n(f, v, __ATOMIC_RELAXED);
}

static inline void out_health_add(uint64_t *f, uint64_t v)
{
	__atomic_fetch_add(f, v, __ATOMIC_RELAXED);
}

enum out_fsync {
	OUT_FSYNC_BATCH = 0, /* fsync the spool once per batch (default) */
	OUT_FSYNC_ALWAYS,    /* after every line: survives power loss, slow */
	OUT_FSYNC_NEVER,     /* leave it to the kernel: survives a crash of onpath only */
};

#define OUT_KEY_MAX 128
#define OUT_NAME_MAX 256
#define OUT_PATH_MAX 1024
#define OUT_SECRET_MAX 256

/* Redis defaults from the config (outputs.redis); a spec's ?key=value overrides. */
struct out_redis_opts {
	char prefix[OUT_KEY_MAX];      /* "onpath:"; default key names start with it */
	char stream[OUT_KEY_MAX];      /* XADD target; "" = prefix + "alerts" */
	char incidents[OUT_KEY_MAX];   /* XADD target of incidents; "" = prefix + "incidents" */
	uint64_t stream_maxlen;        /* MAXLEN ~ N */
	char list[OUT_KEY_MAX];        /* RPUSH target for Logstash; "" = off */
	uint64_t list_maxlen;          /* LTRIM to the newest N; 0 = no trim */
	char channel[OUT_KEY_MAX];     /* PUBLISH target; "" = off */
	bool records;                  /* XADD records to prefix + dataset */
	uint64_t records_maxlen;
	uint32_t heartbeat_s;          /* HSET prefix + "sensor:" + name; 0 = off */
	uint32_t connect_timeout_ms, command_timeout_ms;
	uint32_t batch;                /* lines per pipelined round trip */
	uint32_t backoff_max_s;        /* reconnect delay doubles up to this */
	char username[OUT_KEY_MAX];    /* ACL user; "" = none */
	char password[OUT_SECRET_MAX]; /* "" = no AUTH */
};

/* Syslog defaults from the config (outputs.syslog); a spec's ?key=value overrides. */
struct out_syslog_opts {
	int facility;                  /* 0..23; default 16 (local0) */
	char app_name[49];             /* RFC 5424 APP-NAME, 48 printable characters */
	char hostname[OUT_NAME_MAX];   /* "" = the sensor name */
};

/* Settings shared by every output of a manager (copied by out_mgr_set_settings). */
struct out_settings {
	char sensor_name[OUT_NAME_MAX];  /* names spool files and the heartbeat key */
	char spool_dir[OUT_PATH_MAX];    /* "" = OUT_DEFAULT_SPOOL_DIR; "-" = no spool */
	uint64_t spool_max;              /* bytes per output */
	enum out_fsync spool_fsync;
	struct out_redis_opts redis;
	struct out_syslog_opts syslog;
};

#ifndef SPOOLDIR
#define SPOOLDIR "/var/spool/onpath"
#endif
#define OUT_DEFAULT_SPOOL_DIR SPOOLDIR
#define OUT_DEFAULT_SPOOL_MAX (256ull * 1024 * 1024)

void out_settings_defaults(struct out_settings *s);

/* "500ms", "5s", "2m", "5" (seconds) -> milliseconds; -1 when malformed or above a day. */
int out_parse_ms(const char *s, uint32_t *ms);
/* yes/no, true/false, on/off, 1/0 (any case); -1 otherwise. */
int out_parse_bool(const char *s, bool *v);
/* Syslog facility code of a name ("local0" -> 16), -1 when unknown (output_syslog.c). */
int out_syslog_facility(const char *name);

struct output;

/* One sensor's baselines, as fetch_baselines finds them (borrowed for the call). */
typedef void (*out_baseline_fn)(void *ud, const char *sensor, const char *json, size_t len);

struct output_ops {
	const char *scheme; /* "jsonl" in "jsonl:/path" */
	/* arg is the text after "scheme:"; returns 0 or -1 with err filled. */
	int (*open)(struct output *o, const char *arg, char *err, size_t errlen);
	/* line is one JSON object without the newline (borrowed for the call). Returns 0
	 * or -1. */
	int (*write)(struct output *o, enum out_kind kind, const char *line, size_t len);
	/* Optional; used instead of write when set. meta is NULL for lines submitted
	 * without it. */
	int (*write_meta)(struct output *o, enum out_kind kind, const char *line, size_t len,
			  const struct out_meta *meta);
	int (*flush)(struct output *o);
	int (*reopen)(struct output *o);  /* SIGHUP: reopen files */
	/* Optional; called by the output thread about every OUT_TICK_INTERVAL_S, also
	 * when no line arrives (reconnects, spool replay, heartbeats). now is
	 * util_mono_s(). */
	void (*tick)(struct output *o, double now);
	void (*close)(struct output *o);
	/* Optional (Redis): calls fn with every sensor's published baselines (the
	 * OUT_BASELINE lines, by sensor name); before out_mgr_start only. Returns how many,
	 * or -1 when the store cannot be read (said once on stderr). An output that has it
	 * is one that keeps OUT_BASELINE lines (out_mgr_wants_baseline). */
	int (*fetch_baselines)(struct output *o, out_baseline_fn fn, void *ud);
};

#define OUT_TICK_INTERVAL_S 0.25

struct output {
	const struct output_ops *ops;
	void *priv;            /* owned by the ops */
	/* "scheme:arg" as given; open() may rewrite it (a redis URL without its
	 * password), since it appears in every message about the output. */
	char spec[256];
	uint64_t written, errors;
	const struct out_settings *set;  /* the manager's settings, for open() */
	struct out_health health;        /* see struct out_health */
};

/* One line on stderr naming the output: "onpath: output 'SPEC': ...". For state
 * changes only (outputs log once per change, never per line). */
void out_logf(const struct output *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const struct output_ops out_jsonl_ops;
extern const struct output_ops out_redis_ops;
extern const struct output_ops out_redis_unix_ops;
extern const struct output_ops out_rediss_ops;
extern const struct output_ops out_syslog_ops;
extern const struct output_ops out_syslog_udp_ops;
extern const struct output_ops out_syslog_tcp_ops;

struct out_stats {
	uint64_t submitted, written, dropped, errors;
	uint64_t depth, peak_depth;
	/* Live runs: from a packet's arrival to its alert handed to every output and
	 * flushed (lines with out_meta.ts_us), in microseconds. */
	uint64_t lat_n, lat_p50_us, lat_p99_us, lat_max_us;
};

struct out_mgr;

struct out_mgr *out_mgr_new(size_t queue_cap, bool live);
/* Copies s into the manager; outputs added afterwards see it (o->set). Without it,
 * out_settings_defaults apply. Before out_mgr_add only. */
void out_mgr_set_settings(struct out_mgr *m, const struct out_settings *s);
/* Adds an output from its spec ("jsonl:-", "jsonl:/var/log/onpath/alerts.jsonl",
 * "redis://host:6379/0", "syslog"; a bare scheme means an empty argument). */
int out_mgr_add(struct out_mgr *m, const char *spec, char *err, size_t errlen);
/* Adds an output from its ops and argument, for outputs that are not in the scheme
 * table (tests, embedders). Same contract as out_mgr_add; before out_mgr_start only. */
/* True when some output keeps baselines (OUT_BASELINE): a Redis output. */
bool out_mgr_wants_baseline(const struct out_mgr *m);
/* The baselines every sensor published to the first output that keeps them (see
 * output_ops.fetch_baselines); before out_mgr_start. -1 when none can be read. */
int out_mgr_fetch_baselines(struct out_mgr *m, out_baseline_fn fn, void *ud);
int out_mgr_add_ops(struct out_mgr *m, const struct output_ops *ops, const char *arg,
		    char *err, size_t errlen);
size_t out_mgr_count(const struct out_mgr *m);
/* Starts the output thread. Without it, lines are written by the caller when the
 * queue fills, and by out_mgr_sync / out_mgr_free. Returns 0 or -1 (errno). */
int out_mgr_start(struct out_mgr *m);
/* Takes ownership of line (malloc'd, len bytes, no newline). Returns 0, or -1 when it
 * was dropped (live mode, queue full) - the line is freed either way. */
int out_mgr_submit(struct out_mgr *m, enum out_kind kind, char *line, size_t len);
/* The same with what the producer knows about the line (copied; meta may be NULL). */
int out_mgr_submit_meta(struct out_mgr *m, enum out_kind kind, char *line, size_t len,
			const struct out_meta *meta);
/* Asks the output thread to reopen its files (safe from the main loop, not a handler). */
void out_mgr_reopen(struct out_mgr *m);
/* Waits until everything submitted so far is written and flushed. */
void out_mgr_sync(struct out_mgr *m);
/* Drains the queue, flushes and closes every output, joins the thread, frees m. */
void out_mgr_free(struct out_mgr *m);
void out_mgr_get_stats(struct out_mgr *m, struct out_stats *s);
/* Copies the health counters and the spec (password removed) of output i < count;
 * safe from any thread while the manager lives. Returns 0, or -1 if i is too big. */
int out_mgr_health(struct out_mgr *m, size_t i, struct out_health *h, char *spec,
		   size_t speclen);

/* ---------------------------------------------------------------- config */

struct cfg;

/* What the outputs section of the configuration gives (output_config.c). */
struct out_config {
	struct out_settings set;
	const char *specs[OUT_MAX_OUTPUTS]; /* borrowed from the config tree */
	size_t nspecs;
	char metrics[OUT_NAME_MAX];         /* outputs.metrics, "" = off */
};

/* Fills oc with defaults (out_settings_defaults), then reads the outputs section:
 * either a list of specs, or a map with targets (the list), spool_dir, spool_max,
 * spool_fsync, metrics, redis and syslog. Returns 0 or -1 with err "file:line: why".
 * c may be NULL (defaults only). */
int out_cfg_load(struct out_config *oc, const struct cfg *c, char *err, size_t errlen);

#endif
