/* dash.h - onpath-dashboard's parts: the in-memory alert index and its filters
 * (index.c), the MAC vendor table (index.c), and the HTTP server, Redis access and
 * live feed (onpath-dashboard.c). The API they serve is described in
 * notes/dashboard-api.md and onpath-dashboard(8).
 *
 * Everything in the index comes from Redis, which holds what sensors saw in packets:
 * it is data. It is lowercased and searched, never interpreted; responses are built
 * with jansson, which escapes it.
 */
#ifndef ONPATH_DASH_H
#define ONPATH_DASH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define DASH_SID_STRLEN 48        /* "<ms>-<seq>": two uint64 and a dash, with NUL */
#define DASH_MAX_TYPES 4096       /* distinct alert types indexed; more share "(other)" */
#define DASH_MAX_SENSORS 1024     /* distinct sensor names indexed; more share "(other)" */
#define DASH_BLOB_MAX 4096        /* searchable text kept per alert (bytes) */
#define DASH_MAX_TYPE_FILTERS 32  /* type= values in one query */
#define DASH_NEEDLE_MAX 256       /* ip=, mac=, name=, q= value length */
#define DASH_MAX_ACKS 200000      /* acknowledgements held in memory */
#define DASH_ACK_JSON_MAX 2048    /* one acknowledgement's JSON */
#define DASH_WALK_DEPTH 16        /* nesting followed when collecting IPs, MACs, names */
#define DASH_MAX_INCIDENTS 10000  /* incidents (distinct event.id) kept in memory */
#define DASH_EID_MAX 64           /* event.id kept per incident */
#define DASH_ARENA_PER_ENT 512    /* blob bytes budgeted per indexed alert */
#define DASH_TRI_WORDS 8          /* trigram Bloom filter per alert: 512 bits */
#define DASH_ARENA_MIN (64u * 1024)

struct dash_sid {
	uint64_t ms, seq;
};

/* Parses "<ms>-<seq>" or "<ms>" (seq 0); 0 or -1. */
int dash_sid_parse(const char *s, struct dash_sid *out);
char *dash_sid_fmt(struct dash_sid s, char out[DASH_SID_STRLEN]);
int dash_sid_cmp(struct dash_sid a, struct dash_sid b);

enum dash_status { DASH_OPEN = 0, DASH_ACK, DASH_FP };
const char *dash_status_name(int st);
int dash_status_parse(const char *s); /* -1 when not open/ack/fp */

/* One alert of the stream, as the index keeps it. The blob holds, lowercased and
 * separated by \x01: the IPs, then the MACs, then the names, then action and message;
 * q= searches all of it, ip=/mac=/name= their own section only. */
struct dash_ent {
	struct dash_sid sid;
	int64_t ts_ms;            /* the alert's @timestamp (packet time), unix ms */
	uint64_t eid_hash;        /* of event.id: acknowledgements are per event.id */
	uint64_t bloom;           /* of its exact IPs and MACs: ip=/mac= skip the blob */
	uint64_t tri[DASH_TRI_WORDS]; /* of the blob's trigrams: q=/name= skip most blobs */
	uint64_t json_hash;       /* of the alert's text when it is clean JSON, else 0 */
	uint32_t blob_off;        /* in the index's arena */
	uint16_t blob_len, off_macs, off_names, off_text;
	uint16_t type, sensor;    /* interned */
	uint8_t sev, status;
};

/* Parsed filter of /api/alerts, /api/export, /api/timeline, /api/events. */
struct dash_filter {
	char types[DASH_MAX_TYPE_FILTERS][128];
	size_t ntypes;
	char sensor[80];          /* "" = any */
	int sev_min, sev_max;
	char ip[DASH_NEEDLE_MAX + 3], mac[24], name[DASH_NEEDLE_MAX + 1], q[DASH_NEEDLE_MAX + 1];
	size_t ip_len, mac_len, name_len, q_len;
	uint64_t bloom;           /* bits every candidate must have (ip, mac) */
	uint64_t tri[DASH_TRI_WORDS]; /* ... and trigram bits (name, q) */
	bool has_tri;
	bool has_from, has_to;
	int64_t from, to;         /* unix ms, [from, to) */
	int status;               /* -1 any */
	bool has_before, has_after;
	struct dash_sid before, after;
};

/* Acknowledgement of an event.id: its status and the JSON shown to analysts. */
struct dash_ack {
	char *eid;
	char *json;
	uint64_t hash;
	uint8_t status;
};

struct dash_incident {
	char eid[DASH_EID_MAX];
	uint64_t hash;
	struct dash_sid sid;      /* the latest update */
};

struct dash_index {
	pthread_rwlock_t lock;
	struct dash_ent *ring;
	size_t cap, head, n;
	/* The blobs, in a circular byte arena in stream order: alerts come and go
	 * strictly oldest first, and a scan reads memory in sequence. */
	char *arena;
	size_t arena_cap, arena_w;
	char *types[DASH_MAX_TYPES];
	size_t ntypes;
	char *sensors[DASH_MAX_SENSORS];
	size_t nsensors;
	uint64_t dropped;         /* oldest entries dropped for max_index or the arena */
	uint64_t trimmed;         /* entries dropped after the stream was trimmed */
	uint64_t skipped;         /* entries with a bad id or no fields */
	uint64_t seed;            /* of json_hash: random, so no text is made to collide */
	struct dash_sid last;     /* newest indexed */
	/* acknowledgements: open addressing on the event.id hash */
	struct dash_ack *acks;
	size_t ack_cap, ack_n;
	uint64_t acks_refused;    /* over DASH_MAX_ACKS */
	/* incidents: latest update per event.id */
	struct dash_incident *inc;
	size_t inc_n;
	struct dash_sid inc_last;
};

int dash_index_init(struct dash_index *ix, size_t max_index);
void dash_index_fini(struct dash_index *ix);

/* Adds one stream entry (its field/value pairs; json is the alert text). Entries at
 * or before the newest indexed are ignored (a re-read after a reconnect). Returns 1
 * added, 0 ignored, -1 out of memory. When out is given it receives a copy of the
 * entry, and blob_out (DASH_BLOB_MAX bytes) its blob, for live-feed filtering. */
int dash_index_add(struct dash_index *ix, struct dash_sid sid, const char *type,
		   const char *sev, const char *sensor, const char *json, size_t json_len,
		   struct dash_ent *out, char *blob_out, char *type_out, size_t type_cap,
		   char *sensor_out, size_t sensor_cap);

/* Drops the indexed alerts older than first, the stream's oldest entry: the sensors
 * trim the stream (XADD MAXLEN ~), and an index pointing at trimmed entries would
 * count alerts no page can show. Returns how many went. */
size_t dash_index_prune(struct dash_index *ix, struct dash_sid first);

/* Records an incident update (latest per event.id wins). */
void dash_index_incident(struct dash_index *ix, struct dash_sid sid, const char *json,
			 size_t json_len);

/* Sets the acknowledgement of eid (json borrowed, copied) and updates the status of
 * every indexed alert with that event.id. Returns 0, or -1 when the table is full. */
int dash_index_set_ack(struct dash_index *ix, const char *eid, int status, const char *json);
/* Copies the ack JSON of eid into out; 0 when none. Caller holds the lock. */
const struct dash_ack *dash_index_ack_locked(const struct dash_index *ix, const char *eid);
/* The same by the event.id's hash (as in dash_ent.eid_hash). */
const struct dash_ack *dash_index_ack_by_hash_locked(const struct dash_index *ix, uint64_t h);
/* json_hash of a text: a page splices an alert's text without parsing it again only
 * when the text fetched has the hash of the one indexed as clean. */
uint64_t dash_json_hash(const struct dash_index *ix, const char *text, size_t len);

/* The newest alert with this event.id: 0, or -1 when not indexed. The match is by
 * hash: the caller checks the fetched alert's event.id. Alerts only: the two streams'
 * ids collide (the sensor writes both in one pipeline), so they never share a lookup. */
int dash_index_find_eid(struct dash_index *ix, const char *eid, struct dash_sid *sid);
/* The latest update of the incident with this event.id: 0, or -1 when not known. */
int dash_index_find_incident(struct dash_index *ix, const char *eid, struct dash_sid *sid);

/* Fills f from name=value pairs; returns 0 or -1 with err naming the parameter. */
int dash_filter_set(struct dash_filter *f, const char *key, const char *val, char *err,
		    size_t errlen);
void dash_filter_init(struct dash_filter *f);
/* Whether ent (with its type and sensor names) passes f, before/after included. */
bool dash_filter_match(const struct dash_filter *f, const struct dash_ent *e,
		       const char *blob, const char *type, const char *sensor);

/* Calls fn for every entry passing f, newest first, under the read lock, until fn
 * returns non-zero. Returns the number of matches visited. */
typedef int (*dash_scan_fn)(const struct dash_index *ix, const struct dash_ent *e, void *ud);
size_t dash_index_scan(struct dash_index *ix, const struct dash_filter *f, dash_scan_fn fn,
		       void *ud);
/* As dash_index_scan, but once fn has returned 2 ("page full, only counting now") the
 * scan also stops at the monotonic time deadline; *cut says it did. */
size_t dash_index_scan_until(struct dash_index *ix, const struct dash_filter *f,
			     dash_scan_fn fn, void *ud, double deadline, bool *cut);

/* Alert JSON text -> jansson value. Invalid UTF-8 bytes become U+FFFD, a NUL escape
 * is kept; text that is not JSON at all comes back as {"unparsed": "<text>"}. Never
 * NULL except out of memory. Caller owns. */
json_t *dash_parse_alert(const char *text, size_t len);
/* The same; when the text (after the UTF-8 repair) parsed as an object, *clean gets a
 * copy of it (caller frees), which is valid JSON to splice into a response as is. */
json_t *dash_parse_alert_text(const char *text, size_t len, char **clean, size_t *clean_len);

/* ---------------------------------------------------------------- MAC vendors */
struct dash_oui {
	uint32_t *prefix;         /* sorted 24-bit prefixes */
	char **vendor;
	size_t n;
};
/* Loads the IEEE oui.csv (Registry,Assignment,Organization Name,...). A missing
 * file is no error: the table stays empty. Returns -1 only when unreadable. */
int dash_oui_load(struct dash_oui *o, const char *path, char *err, size_t errlen);
void dash_oui_free(struct dash_oui *o);
/* Vendor of a MAC text, "(locally administered)", or NULL when unknown. */
const char *dash_oui_lookup(const struct dash_oui *o, const char *mac);

#endif
