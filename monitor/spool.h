/* spool.h - the bounded, append-only, on-disk spool of an output that talks to a
 * server (redis, syslog over TCP): what the server could not take is kept here and
 * replayed in order when it is back, also by the next run of the sensor.
 *
 * Layout: in dir, for an output named N (sensor name + output, see spool_open),
 *   N.alerts.<seq>.spool    alerts and incidents, never dropped
 *   N.records.<seq>.spool   informational lines (records, stats): dropped oldest
 *                           first, by whole segment, when the spool is full
 *   N.<class>.pos           how far the oldest segment has been replayed
 *   N.lock                  flock()ed while a sensor uses the spool
 * Segments are at most max/16 bytes (SPOOL_MIN_SEGMENT..SPOOL_MAX_SEGMENT); a
 * finished segment is deleted once replayed. Order is kept within each class; alerts
 * are replayed before records.
 *
 * A record is one line:
 *   "@1 K LLLLLLLL HHHHHHHHHHHHHHHH " payload "\n"
 * K is the kind (A alert, I incident, R record, S stats), L the payload length and H
 * a checksum of kind and payload (util_hash64), both hex. The payload is
 *   "<severity> <tag> <id|-> <action|-> <dataset|-> " json
 * so a spooled alert is replayed with the fields the producer gave, and the JSON is
 * still readable with grep or cut. The tag (hex) belongs to the output: redis keeps
 * there which of its destinations (stream, list, channel) a line is still owed to,
 * so a replay never writes twice to the ones that took it. A record whose length or checksum does not match
 * (a crash in the middle of a write, a damaged disk) is skipped with a message naming
 * the file and offset; the records after it are kept.
 */
#ifndef ONPATH_SPOOL_H
#define ONPATH_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

#define SPOOL_MIN_SEGMENT (64u * 1024)
#define SPOOL_MAX_SEGMENT (64u * 1024 * 1024)
#define SPOOL_SEGMENT_DIV 16            /* segment size = max / this, clamped */
#define SPOOL_MIN_BYTES (4u * SPOOL_MIN_SEGMENT)
#define SPOOL_MAX_SEGMENTS 4096         /* per class; more are refused as full */
#define SPOOL_MAX_RECORD (16u * 1024 * 1024)
#define SPOOL_NAME_MAX 200
#define SPOOL_HDR_LEN 31                /* "@1 K LLLLLLLL HHHHHHHHHHHHHHHH " */

enum spool_class { SPOOL_ALERTS = 0, SPOOL_RECORDS, SPOOL_NCLASS };

struct spool_cfg {
	const char *dir;        /* created (0750) if missing */
	const char *name;       /* file name prefix; characters outside [A-Za-z0-9._-]
	                         * become '_' */
	uint64_t max_bytes;     /* both classes together, at least SPOOL_MIN_BYTES */
	enum out_fsync fsync;
	const char *label;      /* who owns it, for messages ("output 'redis://h:6379/0'") */
};

/* One record read back by spool_peek; line and the meta strings point into the
 * spool's buffer and stay valid until the next spool call. */
struct spool_rec {
	enum out_kind kind;
	uint32_t tag;
	struct out_meta meta;
	const char *line;
	size_t len;
};

struct spool_stats {
	uint64_t bytes;            /* on disk now, both classes */
	uint64_t alerts, records;  /* waiting now */
	uint64_t appended;         /* records appended in this run */
	uint64_t replayed;         /* records consumed in this run */
	uint64_t dropped_records;  /* informational records evicted because the spool was full */
	uint64_t lost_alerts;      /* alerts refused because the spool was full of alerts */
	uint64_t damaged;          /* torn or damaged records skipped */
};

struct spool;

/* Opens (or creates) the spool, checks every existing record, truncates a torn last
 * record, and counts what waits. Returns 0, or -1 with err. */
int spool_open(struct spool **out, const struct spool_cfg *cfg, char *err, size_t errlen);
/* Syncs and closes; what was not consumed stays for the next run. s may be NULL. */
void spool_close(struct spool *s);

/* Appends a line (meta may be NULL). Returns 0 when kept, 1 when the spool is full
 * (the line is counted as a lost alert or a dropped record), -1 on an I/O error
 * (errno set; the line is not kept). Records make room for anything by evicting the
 * oldest informational segment first. */
int spool_append(struct spool *s, enum out_kind kind, uint32_t tag, const struct out_meta *meta,
		 const char *line, size_t len);
/* Applies the fsync policy at the end of a batch (OUT_FSYNC_BATCH). */
int spool_sync(struct spool *s);

bool spool_empty(const struct spool *s);
/* Reads up to max records (and about max_bytes, at least one record) from the oldest
 * segment, alerts first, without consuming them. Returns the number read (0 when
 * empty), or -1 on an I/O error. */
int spool_peek(struct spool *s, struct spool_rec *recs, size_t max, size_t max_bytes);
/* Consumes the first n records of the last peek (n <= what it returned); they will
 * not be read again, by this run or the next. A nonzero next_tag replaces the tag of
 * the record after them (n < what peek returned): a line delivered in part is
 * retried only where it failed, also by the next run. Returns 0, or -1 (errno). */
int spool_consume(struct spool *s, size_t n, uint32_t next_tag);

void spool_get_stats(const struct spool *s, struct spool_stats *st);
/* "dir/name" (without the class suffixes), for messages. */
const char *spool_base(const struct spool *s);

struct out_health;
/* Copies the spool's counters into an output's health block (for /metrics). */
void spool_publish_health(struct spool *sp, struct out_health *h);

#endif
