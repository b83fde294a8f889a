#include "config.h"

/* index.c - onpath-dashboard's in-memory index of the alert stream, its filters,
 * the acknowledgements, the incidents' latest updates and the MAC vendor table.
 *
 * A filtered page must answer in < 50 ms over 100,000 alerts, and Redis cannot
 * filter a stream: so every alert is reduced once, when read, to what the filters
 * need (id, packet time, type, severity, sensor, status, and a lowercased blob of its
 * IPs, MACs, names and text). A query is a linear scan newest first over a ring of
 * these; only the page's alerts are then fetched from Redis. The ring holds at most
 * max_index entries: the oldest go first, counted.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dash.h"
#include "util.h"

#define HASH_SEED 0x6f6e70617468ULL
#define ACK_START_CAP 1024
#define OTHER "(other)"
#define OUI_LINE_MAX 4096

/* ---------------------------------------------------------------- stream ids */

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int dash_sid_parse(const char *s, struct dash_sid *out)
{
	const char *dash = strchr(s, '-');
	struct dash_sid r = { 0, 0 };

	if (dash == NULL)
		return parse_u64(s, strlen(s), &r.ms) == 0 ? (*out = r, 0) : -1;
	if (parse_u64(s, (size_t)(dash - s), &r.ms) != 0 ||
	    parse_u64(dash + 1, strlen(dash + 1), &r.seq) != 0)
		return -1;
	*out = r;
	return 0;
}

char *dash_sid_fmt(struct dash_sid s, char out[DASH_SID_STRLEN])
{
	snprintf(out, DASH_SID_STRLEN, "%" PRIu64 "-%" PRIu64, s.ms, s.seq);
	return out;
}

int dash_sid_cmp(struct dash_sid a, struct dash_sid b)
{
	if (a.ms != b.ms)
		return a.ms < b.ms ? -1 : 1;
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

const char *dash_status_name(int st)
{
	return st == DASH_ACK ? "ack" : st == DASH_FP ? "fp" : "open";
}

int dash_status_parse(const char *s)
{
	if (strcmp(s, "open") == 0)
		return DASH_OPEN;
	if (strcmp(s, "ack") == 0)
		return DASH_ACK;
	if (strcmp(s, "fp") == 0)
		return DASH_FP;
	return -1;
}

/* ---------------------------------------------------------------- alert JSON */

/* Replaces each byte that is not part of valid UTF-8 by U+FFFD, so jansson (which
 * rejects invalid UTF-8) still reads an alert a broken writer stored. NULL when the
 * text is valid already. Caller frees. */
static char *fix_utf8(const char *s, size_t n, size_t *outlen)
{
	size_t i = 0, k = 0;
	bool bad = false;
	char *o;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 :
			     (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		size_t j;

		if (len == 0 || len > n - i)
			goto invalid;
		for (j = 1; j < len; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				goto invalid;
		/* overlongs and surrogates */
		if ((c == 0xe0 && (unsigned char)s[i + 1] < 0xa0) ||
		    (c == 0xed && (unsigned char)s[i + 1] > 0x9f) ||
		    (c == 0xf0 && (unsigned char)s[i + 1] < 0x90) ||
		    (c == 0xf4 && (unsigned char)s[i + 1] > 0x8f))
			goto invalid;
		i += len;
		continue;
invalid:
		bad = true;
		break;
	}
	if (!bad)
		return NULL;
	o = malloc(n * 3 + 1);
	if (o == NULL)
		return NULL;
	i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 :
			     (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		bool ok = len != 0 && len <= n - i;
		size_t j;

		for (j = 1; ok && j < len; j++)
			ok = ((unsigned char)s[i + j] & 0xc0) == 0x80;
		if (ok && len > 1 &&
		    ((c == 0xe0 && (unsigned char)s[i + 1] < 0xa0) ||
		     (c == 0xed && (unsigned char)s[i + 1] > 0x9f) ||
		     (c == 0xf0 && (unsigned char)s[i + 1] < 0x90) ||
		     (c == 0xf4 && (unsigned char)s[i + 1] > 0x8f)))
			ok = false;
		if (ok) {
			memcpy(o + k, s + i, len);
			k += len;
			i += len;
		} else {
			memcpy(o + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
		}
	}
	o[k] = '\0';
	*outlen = k;
	return o;
}

json_t *dash_parse_alert_text(const char *text, size_t len, char **clean, size_t *clean_len)
{
	json_error_t jerr;
	size_t flen = 0;
	char *fixed = fix_utf8(text, len, &flen);
	const char *t = fixed != NULL ? fixed : text;
	size_t tl = fixed != NULL ? flen : len;
	json_t *j;

	if (clean != NULL)
		*clean = NULL;
	/* JSON_ALLOW_NUL: "\u0000" inside a string is valid JSON and comes back escaped. */
	j = json_loadb(t, tl, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	if (j == NULL) {
		j = json_object();
		if (j != NULL)
			json_object_set_new(j, "unparsed", json_stringn(t, tl));
	} else if (clean != NULL) {
		/* jansson accepted exactly these bytes as one JSON object */
		*clean = malloc(tl + 1);
		if (*clean != NULL) {
			memcpy(*clean, t, tl);
			(*clean)[tl] = '\0';
			*clean_len = tl;
		}
	}
	free(fixed);
	return j;
}

json_t *dash_parse_alert(const char *text, size_t len)
{
	return dash_parse_alert_text(text, len, NULL, NULL);
}

/* ---------------------------------------------------------------- the blob */

struct blob {
	char b[DASH_BLOB_MAX];
	size_t len;
};

/* Appends s lowercased, control bytes and the separators as spaces, then \x01 when
 * sep. Cut at the blob's end (the tail of a very long alert is not searchable). */
static void blob_put(struct blob *b, const char *s, size_t n, bool sep)
{
	size_t i;

	for (i = 0; i < n && b->len + 2 < sizeof(b->b); i++) {
		unsigned char c = (unsigned char)s[i];

		b->b[b->len++] = c < 0x20 || c == 0x7f ? ' ' : (char)tolower(c);
	}
	if (sep && b->len + 1 < sizeof(b->b))
		b->b[b->len++] = '\x01';
}

/* The keys whose values are collected, outside the top-level observer, threat and
 * event objects (observer.name and threat.technique.name are not names seen on the
 * network). Keep in step with tests/dashboard-api.py. */
enum kkind { K_NONE, K_IP, K_MAC, K_NAME };

static bool ends_with(const char *k, const char *suf)
{
	size_t a = strlen(k), b = strlen(suf);

	return a >= b && strcmp(k + a - b, suf) == 0;
}

static enum kkind key_kind(const char *k)
{
	static const char *const names[] = { "name", "qname", "first_name", "sni", "server_name",
					     "sans", "subject", "hostname", "host", "domain",
					     "server", NULL };
	size_t i;

	if (strcmp(k, "ip") == 0 || ends_with(k, "_ip") || ends_with(k, "_ips"))
		return K_IP;
	if (strcmp(k, "mac") == 0 || strcmp(k, "macs") == 0 || ends_with(k, "_mac") ||
	    ends_with(k, "_macs"))
		return K_MAC;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(k, names[i]) == 0)
			return K_NAME;
	return K_NONE;
}

struct collect {
	struct blob *b;
	enum kkind want;
	uint64_t bloom;
};

/* Two bits of a 64-bit Bloom filter per exact token (IP or MAC text, lowercased):
 * with a handful of tokens per alert, ip= and mac= skip ~95% of the blobs. */
static uint64_t bloom_bits(const char *s, size_t n)
{
	uint64_t h = util_hash64(s, n, HASH_SEED ^ 0xb100);

	return (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63));
}

/* Trigrams of text as it is searched (lowercased), one bit each in 512: a needle's
 * trigrams must all be set in an alert's filter for its blob to be worth reading.
 * With ~300 searchable bytes per alert about 40% of the bits are set, so a 9-letter
 * needle (7 trigrams) reads well under 1% of the blobs. Trigrams across a separator
 * are left out: no needle holds one. */
static void tri_add(uint64_t tri[DASH_TRI_WORDS], const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++) {
		uint32_t t = (uint32_t)(unsigned char)s[i] << 16 |
			     (uint32_t)(unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
		uint32_t h;

		if (s[i] == '\x01' || s[i + 1] == '\x01' || s[i + 2] == '\x01')
			continue;
		h = (t * 0x9e3779b1u) >> 23; /* 9 bits */
		tri[h >> 6] |= 1ULL << (h & 63);
	}
}

static void put_value(struct collect *c, json_t *v)
{
	size_t start = c->b->len;

	if (!json_is_string(v))
		return;
	blob_put(c->b, json_string_value(v), json_string_length(v), true);
	if (c->want != K_NAME && c->b->len > start + 1)
		c->bloom |= bloom_bits(c->b->b + start, c->b->len - start - 1);
}

static void walk(struct collect *c, json_t *j, int depth, bool top)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > DASH_WALK_DEPTH)
		return;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			walk(c, v, depth + 1, false);
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach(j, k, v) {
		if (top && (strcmp(k, "observer") == 0 || strcmp(k, "threat") == 0 ||
			    strcmp(k, "event") == 0))
			continue;
		if (key_kind(k) == c->want) {
			if (json_is_array(v)) {
				json_t *e;

				json_array_foreach(v, i, e)
					put_value(c, e);
			} else {
				put_value(c, v);
			}
		}
		if (json_is_object(v) || json_is_array(v))
			walk(c, v, depth + 1, false);
	}
}

/* "2024-03-01T10:00:00.028000Z" -> unix ms; 0 when absent or malformed. */
static int64_t parse_ts(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t ms = 0;
	time_t t;
	int frac = 0;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return 0;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (frac < 3)
				ms = ms * 10 + (*p - '0');
			frac++;
			p++;
		}
		while (frac < 3) {
			ms *= 10;
			frac++;
		}
	}
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return (int64_t)t * 1000 + ms;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---------------------------------------------------------------- index */

int dash_index_init(struct dash_index *ix, size_t max_index)
{
	memset(ix, 0, sizeof(*ix));
	if (pthread_rwlock_init(&ix->lock, NULL) != 0)
		return -1;
	ix->cap = max_index;
	if (getrandom(&ix->seed, sizeof(ix->seed), 0) != (ssize_t)sizeof(ix->seed))
		ix->seed = util_now_us() ^ (uint64_t)(uintptr_t)ix;
	ix->ring = calloc(max_index, sizeof(*ix->ring));
	ix->arena_cap = max_index * DASH_ARENA_PER_ENT;
	if (ix->arena_cap < DASH_ARENA_MIN)
		ix->arena_cap = DASH_ARENA_MIN;
	ix->arena = malloc(ix->arena_cap);
	ix->ack_cap = ACK_START_CAP;
	ix->acks = calloc(ix->ack_cap, sizeof(*ix->acks));
	ix->inc = calloc(DASH_MAX_INCIDENTS, sizeof(*ix->inc));
	if (ix->ring == NULL || ix->arena == NULL || ix->acks == NULL || ix->inc == NULL) {
		dash_index_fini(ix);
		return -1;
	}
	return 0;
}

void dash_index_fini(struct dash_index *ix)
{
	size_t i;

	free(ix->ring);
	free(ix->arena);
	for (i = 0; i < ix->ntypes; i++)
		free(ix->types[i]);
	for (i = 0; i < ix->nsensors; i++)
		free(ix->sensors[i]);
	if (ix->acks != NULL)
		for (i = 0; i < ix->ack_cap; i++) {
			free(ix->acks[i].eid);
			free(ix->acks[i].json);
		}
	free(ix->acks);
	free(ix->inc);
	pthread_rwlock_destroy(&ix->lock);
	memset(ix, 0, sizeof(*ix));
}

/* Index of name in the table, added when new; the last slot is "(other)" once the
 * table is full, so a flood of invented types cannot grow it. */
static uint16_t intern(char **tab, size_t *n, size_t max, const char *name)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(tab[i], name) == 0)
			return (uint16_t)i;
	if (*n + 1 >= max) {
		if (*n < max) {
			tab[*n] = strdup(OTHER);
			if (tab[*n] == NULL)
				return 0;
			(*n)++;
		}
		return (uint16_t)(max - 1);
	}
	tab[*n] = strdup(name);
	if (tab[*n] == NULL)
		return 0;
	return (uint16_t)(*n)++;
}

static const struct dash_ack *ack_find(const struct dash_index *ix, const char *eid, uint64_t h)
{
	size_t mask = ix->ack_cap - 1, i;

	for (i = h & mask; ix->acks[i].eid != NULL; i = (i + 1) & mask)
		if (ix->acks[i].hash == h && strcmp(ix->acks[i].eid, eid) == 0)
			return &ix->acks[i];
	return NULL;
}

const struct dash_ack *dash_index_ack_by_hash_locked(const struct dash_index *ix, uint64_t h)
{
	size_t mask = ix->ack_cap - 1, i;

	for (i = h & mask; ix->acks[i].eid != NULL; i = (i + 1) & mask)
		if (ix->acks[i].hash == h)
			return &ix->acks[i];
	return NULL;
}

uint64_t dash_json_hash(const struct dash_index *ix, const char *text, size_t len)
{
	uint64_t h = util_hash64(text, len, ix->seed);

	return h != 0 ? h : 1; /* 0 means "not clean" */
}

const struct dash_ack *dash_index_ack_locked(const struct dash_index *ix, const char *eid)
{
	return ack_find(ix, eid, util_hash64(eid, strlen(eid), HASH_SEED));
}

static int ack_grow(struct dash_index *ix)
{
	size_t ncap = ix->ack_cap * 2, i, mask = ncap - 1;
	struct dash_ack *na = calloc(ncap, sizeof(*na));

	if (na == NULL)
		return -1;
	for (i = 0; i < ix->ack_cap; i++) {
		size_t j;

		if (ix->acks[i].eid == NULL)
			continue;
		for (j = ix->acks[i].hash & mask; na[j].eid != NULL; j = (j + 1) & mask)
			;
		na[j] = ix->acks[i];
	}
	free(ix->acks);
	ix->acks = na;
	ix->ack_cap = ncap;
	return 0;
}

int dash_index_set_ack(struct dash_index *ix, const char *eid, int status, const char *json)
{
	uint64_t h = util_hash64(eid, strlen(eid), HASH_SEED);
	struct dash_ack *a;
	char *js;
	size_t i, mask;
	int rc = 0;

	js = strdup(json);
	if (js == NULL)
		return -1;
	pthread_rwlock_wrlock(&ix->lock);
	a = (struct dash_ack *)ack_find(ix, eid, h);
	if (a == NULL) {
		if (ix->ack_n >= DASH_MAX_ACKS ||
		    ((ix->ack_n + 1) * 2 > ix->ack_cap && ack_grow(ix) != 0)) {
			ix->acks_refused++;
			free(js);
			rc = -1;
			goto out;
		}
		mask = ix->ack_cap - 1;
		for (i = h & mask; ix->acks[i].eid != NULL; i = (i + 1) & mask)
			;
		a = &ix->acks[i];
		a->eid = strdup(eid);
		if (a->eid == NULL) {
			free(js);
			rc = -1;
			goto out;
		}
		a->hash = h;
		ix->ack_n++;
	}
	free(a->json);
	a->json = js;
	a->status = (uint8_t)status;
	/* Acknowledgements are rare and per event.id: a scan is cheaper than keeping a
	 * second map from event.id to ring positions. */
	for (i = 0; i < ix->n; i++) {
		struct dash_ent *e = &ix->ring[(ix->head + i) % ix->cap];

		if (e->eid_hash == h)
			e->status = (uint8_t)status;
	}
out:
	pthread_rwlock_unlock(&ix->lock);
	return rc;
}

static void drop_oldest(struct dash_index *ix)
{
	ix->head = (ix->head + 1) % ix->cap;
	ix->n--;
	ix->dropped++;
}

/* Room for len bytes after the newest blob, dropping the oldest alerts until there
 * is. Data lies circularly from the oldest blob (r) to arena_w; a blob never wraps,
 * so the tail of the arena may stay unused until the oldest pass it. len is at most
 * DASH_BLOB_MAX, far below the arena's size, so this ends. */
static size_t arena_alloc(struct dash_index *ix, size_t len)
{
	size_t at;

	for (;;) {
		size_t r, w = ix->arena_w;

		if (ix->n == 0) {
			at = 0;
			break;
		}
		r = ix->ring[ix->head].blob_off;
		if (w > r) {
			if (len <= ix->arena_cap - w) {
				at = w;
				break;
			}
			if (len <= r) {
				at = 0;
				break;
			}
		} else if (len <= r - w) {
			at = w;
			break;
		}
		drop_oldest(ix);
	}
	ix->arena_w = at + len;
	return at;
}

static uint8_t parse_sev(const char *s, json_t *j)
{
	uint64_t v;

	if (s != NULL && parse_u64(s, strlen(s), &v) == 0)
		return v > 10 ? 10 : (uint8_t)v;
	if (json_is_integer(json_object_get(json_object_get(j, "event"), "severity"))) {
		json_int_t x = json_integer_value(json_object_get(json_object_get(j, "event"),
								   "severity"));

		return x < 0 ? 0 : x > 10 ? 10 : (uint8_t)x;
	}
	return 0;
}

int dash_index_add(struct dash_index *ix, struct dash_sid sid, const char *type,
		   const char *sev, const char *sensor, const char *json, size_t json_len,
		   struct dash_ent *out, char *blob_out, char *type_out, size_t type_cap,
		   char *sensor_out, size_t sensor_cap)
{
	struct collect c;
	struct blob *b;
	struct dash_ent e;
	json_t *j;
	const char *msg, *eid;
	char *clean = NULL;
	size_t clean_len = 0;
	int rc = 1;

	b = malloc(sizeof(*b));
	if (b == NULL)
		return -1;
	b->len = 0;
	j = dash_parse_alert_text(json != NULL ? json : "", json != NULL ? json_len : 0, &clean,
				  &clean_len);
	if (j == NULL) {
		free(b);
		return -1;
	}
	memset(&e, 0, sizeof(e));
	/* clean: jansson took the stored bytes as they are (no UTF-8 repair) */
	if (clean != NULL && clean_len == json_len)
		e.json_hash = dash_json_hash(ix, json, json_len);
	free(clean);
	e.sid = sid;
	if (type == NULL || type[0] == '\0')
		type = jstr(j, "event", "action");
	if (type == NULL)
		type = "unknown";
	if (sensor == NULL || sensor[0] == '\0')
		sensor = jstr(j, "observer", "name");
	if (sensor == NULL)
		sensor = "";
	e.sev = parse_sev(sev, j);
	e.ts_ms = parse_ts(jstr(j, "@timestamp", NULL));
	eid = jstr(j, "event", "id");
	e.eid_hash = eid != NULL ? util_hash64(eid, strlen(eid), HASH_SEED) : 0;
	b->b[b->len++] = '\x01';
	c.b = b;
	c.bloom = 0;
	c.want = K_IP;
	walk(&c, j, 0, true);
	e.off_macs = (uint16_t)b->len;
	blob_put(b, "", 0, true);
	c.want = K_MAC;
	walk(&c, j, 0, true);
	e.off_names = (uint16_t)b->len;
	blob_put(b, "", 0, true);
	c.want = K_NAME;
	walk(&c, j, 0, true);
	e.off_text = (uint16_t)b->len;
	blob_put(b, type, strlen(type), true);
	msg = jstr(j, "message", NULL);
	if (msg != NULL)
		blob_put(b, msg, strlen(msg), false);
	e.blob_len = (uint16_t)b->len;
	e.bloom = c.bloom;
	tri_add(e.tri, b->b, b->len);

	pthread_rwlock_wrlock(&ix->lock);
	if (ix->n > 0 && dash_sid_cmp(sid, ix->last) <= 0) {
		rc = 0;
		goto out;
	}
	e.type = intern(ix->types, &ix->ntypes, DASH_MAX_TYPES, type);
	e.sensor = intern(ix->sensors, &ix->nsensors, DASH_MAX_SENSORS, sensor);
	if (eid != NULL) {
		const struct dash_ack *a = ack_find(ix, eid, e.eid_hash);

		if (a != NULL)
			e.status = a->status;
	}
	if (ix->n == ix->cap)
		drop_oldest(ix);
	e.blob_off = (uint32_t)arena_alloc(ix, b->len);
	memcpy(ix->arena + e.blob_off, b->b, b->len);
	ix->ring[(ix->head + ix->n) % ix->cap] = e;
	ix->n++;
	ix->last = sid;
	if (out != NULL)
		*out = e;
	if (blob_out != NULL)
		memcpy(blob_out, b->b, b->len);
	if (type_out != NULL)
		util_strlcpy(type_out, ix->types[e.type], type_cap);
	if (sensor_out != NULL)
		util_strlcpy(sensor_out, ix->sensors[e.sensor], sensor_cap);
out:
	pthread_rwlock_unlock(&ix->lock);
	json_decref(j);
	free(b);
	return rc;
}

size_t dash_index_prune(struct dash_index *ix, struct dash_sid first)
{
	size_t n = 0;

	pthread_rwlock_wrlock(&ix->lock);
	while (ix->n > 0 && dash_sid_cmp(ix->ring[ix->head].sid, first) < 0) {
		ix->head = (ix->head + 1) % ix->cap;
		ix->n--;
		n++;
	}
	ix->trimmed += n;
	pthread_rwlock_unlock(&ix->lock);
	return n;
}

void dash_index_incident(struct dash_index *ix, struct dash_sid sid, const char *json,
			 size_t json_len)
{
	json_t *j = dash_parse_alert(json != NULL ? json : "", json != NULL ? json_len : 0);
	const char *eid = jstr(j, "event", "id");
	uint64_t h;
	size_t i, oldest = 0;

	if (eid == NULL || strlen(eid) >= DASH_EID_MAX) {
		json_decref(j);
		return;
	}
	h = util_hash64(eid, strlen(eid), HASH_SEED);
	pthread_rwlock_wrlock(&ix->lock);
	if (dash_sid_cmp(sid, ix->inc_last) > 0)
		ix->inc_last = sid;
	for (i = 0; i < ix->inc_n; i++) {
		if (ix->inc[i].hash == h && strcmp(ix->inc[i].eid, eid) == 0) {
			if (dash_sid_cmp(sid, ix->inc[i].sid) > 0)
				ix->inc[i].sid = sid;
			goto out;
		}
		if (dash_sid_cmp(ix->inc[i].sid, ix->inc[oldest].sid) < 0)
			oldest = i;
	}
	/* Full: the incident updated longest ago makes room. */
	i = ix->inc_n < DASH_MAX_INCIDENTS ? ix->inc_n++ : oldest;
	util_strlcpy(ix->inc[i].eid, eid, sizeof(ix->inc[i].eid));
	ix->inc[i].hash = h;
	ix->inc[i].sid = sid;
out:
	pthread_rwlock_unlock(&ix->lock);
	json_decref(j);
}

int dash_index_find_eid(struct dash_index *ix, const char *eid, struct dash_sid *sid)
{
	uint64_t h = util_hash64(eid, strlen(eid), HASH_SEED);
	size_t i;
	int rc = -1;

	pthread_rwlock_rdlock(&ix->lock);
	for (i = ix->n; i > 0; i--) {
		const struct dash_ent *e = &ix->ring[(ix->head + i - 1) % ix->cap];

		if (e->eid_hash == h) {
			*sid = e->sid;
			rc = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&ix->lock);
	return rc;
}

int dash_index_find_incident(struct dash_index *ix, const char *eid, struct dash_sid *sid)
{
	uint64_t h = util_hash64(eid, strlen(eid), HASH_SEED);
	size_t i;
	int rc = -1;

	pthread_rwlock_rdlock(&ix->lock);
	for (i = 0; i < ix->inc_n; i++)
		if (ix->inc[i].hash == h && strcmp(ix->inc[i].eid, eid) == 0) {
			*sid = ix->inc[i].sid;
			rc = 0;
			break;
		}
	pthread_rwlock_unlock(&ix->lock);
	return rc;
}

/* ---------------------------------------------------------------- filters */

void dash_filter_init(struct dash_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->sev_min = 0;
	f->sev_max = 10;
	f->status = -1;
}

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *v)
{
	uint64_t x;
	bool neg = s[0] == '-';

	if (parse_u64(s + neg, strlen(s + neg), &x) != 0 || x > INT64_MAX)
		return -1;
	*v = neg ? -(int64_t)x : (int64_t)x;
	return *v < min || *v > max ? -1 : 0;
}

static bool has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void lower_copy(char *dst, const char *src, size_t *len)
{
	size_t i;

	for (i = 0; src[i] != '\0'; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
	*len = i;
}

int dash_filter_set(struct dash_filter *f, const char *key, const char *val, char *err,
		    size_t errlen)
{
	int64_t v;

	if (strlen(val) > DASH_NEEDLE_MAX || has_ctl(val))
		goto bad;
	if (strcmp(key, "type") == 0) {
		const char *p = val;

		/* comma list; each value is an action or a prefix ending in '.' */
		while (*p != '\0') {
			const char *c = strchr(p, ',');
			size_t n = c != NULL ? (size_t)(c - p) : strlen(p);

			if (n > 0) {
				if (f->ntypes >= DASH_MAX_TYPE_FILTERS || n >= sizeof(f->types[0]))
					goto bad;
				memcpy(f->types[f->ntypes], p, n);
				f->types[f->ntypes][n] = '\0';
				f->ntypes++;
			}
			p += n;
			if (*p == ',')
				p++;
		}
		return 0;
	}
	if (strcmp(key, "severity_min") == 0 || strcmp(key, "severity_max") == 0) {
		if (parse_int(val, 0, 10, &v) != 0)
			goto bad;
		if (key[9] == 'm' && key[10] == 'i')
			f->sev_min = (int)v;
		else
			f->sev_max = (int)v;
		return 0;
	}
	if (strcmp(key, "sensor") == 0) {
		if (strlen(val) >= sizeof(f->sensor))
			goto bad;
		util_strlcpy(f->sensor, val, sizeof(f->sensor));
		return 0;
	}
	if (strcmp(key, "ip") == 0) {
		unsigned char a[16];
		char txt[INET6_ADDRSTRLEN];
		int fam = strchr(val, ':') != NULL ? AF_INET6 : AF_INET;

		/* the sensor prints addresses in their canonical text form */
		if (inet_pton(fam, val, a) != 1 || inet_ntop(fam, a, txt, sizeof(txt)) == NULL)
			goto bad;
		snprintf(f->ip, sizeof(f->ip), "\x01%s\x01", txt);
		f->ip_len = strlen(f->ip);
		f->bloom |= bloom_bits(txt, strlen(txt));
		return 0;
	}
	if (strcmp(key, "mac") == 0) {
		uint8_t m[6];
		char txt[OP_MAC_STRLEN];

		if (util_mac_parse(val, m) != 0)
			goto bad;
		util_mac_fmt(m, txt);
		snprintf(f->mac, sizeof(f->mac), "\x01%s\x01", txt);
		lower_copy(f->mac, f->mac, &f->mac_len);
		f->bloom |= bloom_bits(f->mac + 1, f->mac_len - 2);
		return 0;
	}
	if (strcmp(key, "name") == 0) {
		lower_copy(f->name, val, &f->name_len);
		tri_add(f->tri, f->name, f->name_len);
		f->has_tri = f->name_len >= 3 || f->has_tri;
		return 0;
	}
	if (strcmp(key, "q") == 0) {
		lower_copy(f->q, val, &f->q_len);
		tri_add(f->tri, f->q, f->q_len);
		f->has_tri = f->q_len >= 3 || f->has_tri;
		return 0;
	}
	if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
		if (parse_int(val, 0, INT64_MAX / 2, &v) != 0)
			goto bad;
		if (key[0] == 'f') {
			f->from = v;
			f->has_from = true;
		} else {
			f->to = v;
			f->has_to = true;
		}
		return 0;
	}
	if (strcmp(key, "status") == 0) {
		f->status = dash_status_parse(val);
		if (f->status < 0)
			goto bad;
		return 0;
	}
	if (strcmp(key, "before") == 0 || strcmp(key, "after") == 0) {
		struct dash_sid s;

		if (dash_sid_parse(val, &s) != 0)
			goto bad;
		if (key[0] == 'b') {
			f->before = s;
			f->has_before = true;
		} else {
			f->after = s;
			f->has_after = true;
		}
		return 0;
	}
	return 1; /* not a filter parameter */
bad:
	snprintf(err, errlen, "bad value for parameter '%s'", key);
	return -1;
}

static bool type_match(const struct dash_filter *f, const char *type)
{
	size_t i;

	if (f->ntypes == 0)
		return true;
	for (i = 0; i < f->ntypes; i++) {
		size_t n = strlen(f->types[i]);

		if (n > 0 && f->types[i][n - 1] == '.') {
			if (strncmp(type, f->types[i], n) == 0)
				return true;
		} else if (strcmp(type, f->types[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* Substring test over a short haystack. Not memmem: glibc's analyses the needle on
 * every call, which over 100,000 short blobs costs more than the search itself.
 * memchr (vectorised) finds the candidates for the first byte. */
static bool in(const char *hay, size_t n, const char *needle, size_t nlen)
{
	const char *p = hay, *end = hay + n;
	char c0;

	if (nlen == 0)
		return true;
	c0 = needle[0];
	while ((size_t)(end - p) >= nlen) {
		p = memchr(p, c0, (size_t)(end - p) - nlen + 1);
		if (p == NULL)
			return false;
		if (memcmp(p + 1, needle + 1, nlen - 1) == 0)
			return true;
		p++;
	}
	return false;
}

/* The checks that need no name lookups: cheapest first. */
static bool match_fields(const struct dash_filter *f, const struct dash_ent *e, const char *b)
{
	if (e->sev < f->sev_min || e->sev > f->sev_max)
		return false;
	if (f->status >= 0 && e->status != f->status)
		return false;
	if ((f->has_from && e->ts_ms < f->from) || (f->has_to && e->ts_ms >= f->to))
		return false;
	if ((e->bloom & f->bloom) != f->bloom)
		return false;
	if (f->has_tri) {
		size_t k;

		for (k = 0; k < DASH_TRI_WORDS; k++)
			if ((e->tri[k] & f->tri[k]) != f->tri[k])
				return false;
	}
	if (f->ip_len && !in(b, e->off_macs, f->ip, f->ip_len))
		return false;
	if (f->mac_len && !in(b + e->off_macs, (size_t)(e->off_names - e->off_macs), f->mac,
			      f->mac_len))
		return false;
	if (f->name_len && !in(b + e->off_names, (size_t)(e->off_text - e->off_names), f->name,
			       f->name_len))
		return false;
	if (f->q_len && !in(b, e->blob_len, f->q, f->q_len))
		return false;
	return true;
}

bool dash_filter_match(const struct dash_filter *f, const struct dash_ent *e,
		       const char *blob, const char *type, const char *sensor)
{
	if (f->has_before && dash_sid_cmp(e->sid, f->before) >= 0)
		return false;
	if (f->has_after && dash_sid_cmp(e->sid, f->after) <= 0)
		return false;
	if (!type_match(f, type))
		return false;
	if (f->sensor[0] != '\0' && strcmp(f->sensor, sensor) != 0)
		return false;
	return match_fields(f, e, blob);
}

/* First logical position whose id is >= s (n when none). */
static size_t lower_bound(const struct dash_index *ix, struct dash_sid s)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dash_sid_cmp(ix->ring[(ix->head + mid) % ix->cap].sid, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t dash_index_scan(struct dash_index *ix, const struct dash_filter *f, dash_scan_fn fn,
		       void *ud)
{
	bool cut;

	return dash_index_scan_until(ix, f, fn, ud, 0, &cut);
}

#define DEADLINE_EVERY 1024 /* entries between two looks at the clock */

size_t dash_index_scan_until(struct dash_index *ix, const struct dash_filter *f,
			     dash_scan_fn fn, void *ud, double deadline, bool *cut)
{
	uint8_t type_ok[DASH_MAX_TYPES];
	size_t i, start, stop, hits = 0, tick = 0;
	long sensor = -1;
	bool timed = false;

	*cut = false;
	pthread_rwlock_rdlock(&ix->lock);
	/* Names are resolved once per query, not once per entry. */
	for (i = 0; i < ix->ntypes; i++)
		type_ok[i] = type_match(f, ix->types[i]);
	if (f->sensor[0] != '\0') {
		sensor = -2;
		for (i = 0; i < ix->nsensors; i++)
			if (strcmp(ix->sensors[i], f->sensor) == 0)
				sensor = (long)i;
		if (sensor == -2)
			goto out;
	}
	start = f->has_before ? lower_bound(ix, f->before) : ix->n;
	stop = 0;
	if (f->has_after) {
		struct dash_sid a = f->after;

		/* strictly newer: the first position > after */
		if (a.seq == UINT64_MAX) {
			a.ms++;
			a.seq = 0;
		} else {
			a.seq++;
		}
		stop = lower_bound(ix, a);
	}
	for (i = start; i > stop; i--) {
		const struct dash_ent *e = &ix->ring[(ix->head + i - 1) % ix->cap];
		int r;

		if (timed && ++tick == DEADLINE_EVERY) {
			tick = 0;
			if (util_mono_s() >= deadline) {
				*cut = true;
				break;
			}
		}
		if (!type_ok[e->type] || (sensor >= 0 && e->sensor != sensor))
			continue;
		if (!match_fields(f, e, ix->arena + e->blob_off))
			continue;
		hits++;
		r = fn != NULL ? fn(ix, e, ud) : 0;
		if (r == 1)
			break;
		if (r == 2 && deadline > 0)
			timed = true;
	}
out:
	pthread_rwlock_unlock(&ix->lock);
	return hits;
}

/* ---------------------------------------------------------------- MAC vendors */

struct oui_row {
	uint32_t prefix;
	char *vendor;
};

static int oui_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct oui_row *)a)->prefix, y = ((const struct oui_row *)b)->prefix;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* One CSV field (RFC 4180 quoting) from *p into out; advances *p past the comma. */
static void csv_field(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t k = 0;

	if (*s == '"') {
		s++;
		while (*s != '\0') {
			if (*s == '"') {
				if (s[1] == '"') {
					s++;
				} else {
					s++;
					break;
				}
			}
			if (k + 1 < cap)
				out[k++] = *s;
			s++;
		}
	} else {
		while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r') {
			if (k + 1 < cap)
				out[k++] = *s;
			s++;
		}
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	if (*s == ',')
		s++;
	*p = s;
}

int dash_oui_load(struct dash_oui *o, const char *path, char *err, size_t errlen)
{
	struct oui_row *rows = NULL;
	size_t n = 0, cap = 0, i;
	char line[OUI_LINE_MAX];
	FILE *fp;

	memset(o, 0, sizeof(*o));
	fp = fopen(path, "r");
	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char reg[16], hex[16], org[256];
		const char *p = line;
		unsigned long v;
		char *end;

		csv_field(&p, reg, sizeof(reg));
		csv_field(&p, hex, sizeof(hex));
		csv_field(&p, org, sizeof(org));
		/* MA-L rows are 24-bit prefixes; the header and other registries are not */
		if (strcmp(reg, "MA-L") != 0 || strlen(hex) != 6 || org[0] == '\0')
			continue;
		v = strtoul(hex, &end, 16);
		if (*end != '\0')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			struct oui_row *nr = realloc(rows, ncap * sizeof(*nr));

			if (nr == NULL)
				goto oom;
			rows = nr;
			cap = ncap;
		}
		rows[n].prefix = (uint32_t)v;
		rows[n].vendor = strdup(org);
		if (rows[n].vendor == NULL)
			goto oom;
		n++;
	}
	fclose(fp);
	fp = NULL;
	if (n > 0)
		qsort(rows, n, sizeof(*rows), oui_cmp);
	o->prefix = malloc((n ? n : 1) * sizeof(*o->prefix));
	o->vendor = malloc((n ? n : 1) * sizeof(*o->vendor));
	if (o->prefix == NULL || o->vendor == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		o->prefix[i] = rows[i].prefix;
		o->vendor[i] = rows[i].vendor;
	}
	o->n = n;
	free(rows);
	return 0;
oom:
	if (fp != NULL)
		fclose(fp);
	for (i = 0; i < n; i++)
		free(rows[i].vendor);
	free(rows);
	free(o->prefix);
	free(o->vendor);
	memset(o, 0, sizeof(*o));
	snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

void dash_oui_free(struct dash_oui *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->vendor[i]);
	free(o->prefix);
	free(o->vendor);
	memset(o, 0, sizeof(*o));
}

const char *dash_oui_lookup(const struct dash_oui *o, const char *mac)
{
	uint8_t m[6];
	uint32_t p;
	size_t lo = 0, hi = o->n;

	if (util_mac_parse(mac, m) != 0)
		return NULL;
	/* IEEE 802: the U/L bit set means the address is not from a vendor's block */
	if (m[0] & 0x02)
		return "(locally administered)";
	p = (uint32_t)m[0] << 16 | (uint32_t)m[1] << 8 | m[2];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->prefix[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->n && o->prefix[lo] == p ? o->vendor[lo] : NULL;
}
