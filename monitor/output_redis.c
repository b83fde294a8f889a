#include "config.h"

/* output_redis.c - alerts to Redis (hiredis): a stream for dashboards and consumer
 * groups, optionally a list for Logstash and a pub/sub channel; records to their own
 * streams; a heartbeat hash per sensor. Nothing is lost while Redis is away.
 *
 *   redis://[user:password@]host[:port][/db][?key=value&...]
 *   redis+unix://[user:password@]/path/to/redis.sock[?db=N&key=value...]
 *
 * Per alert (one pipelined round trip per batch of up to `batch` lines):
 *   XADD <stream> MAXLEN ~ N * id <event.id> type <event.action> severity <n>
 *        sensor <observer.name> json <the alert>
 *   RPUSH <list> <the alert>        the shape Logstash's redis input (data_type list) pops
 *   PUBLISH <channel> <the alert>
 * Per record (when records are on): XADD <prefix><dataset> MAXLEN ~ N * type <dataset>
 * sensor <name> json <record>. Every heartbeat: HSET <prefix>sensor:<name> (state and
 * counters) with a TTL of three heartbeats, and ZADD <prefix>sensors <unix time> <name>,
 * so a dashboard lists the sensors alive and many sensors share one Redis.
 * Incidents go to their own stream, <prefix>incidents (same fields; an incident that
 * gains members is added again with the same id: the latest entry is its state). The
 * detectors' baselines (OUT_BASELINE) are kept with SET <prefix>baseline:<name>: only
 * the latest matters, so they are sent when Redis is up and never spooled.
 *
 * When Redis is down, hung, or refuses (authentication, OOM, wrong key type, read-only
 * replica) the lines go to the spool (spool.h) with the destinations they are still
 * owed; the output reconnects with exponential backoff and jitter, says so once per
 * change of state, and replays the spool in order before any new line. Replies are
 * checked per command: a line is done when every destination took it, and a line that
 * some took is retried only where it failed. Delivery is at least once: after a
 * timeout nobody knows whether Redis ran the commands, so a consumer drops repeats by
 * the id field (event.id). Model: suricata util-log-redis.c (batches, reconnect
 * timer, counters for what is dropped).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "metrics.h"
#include "output.h"
#include "spool.h"
#include "util.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_MAX_DB 65535
#define REDIS_BATCH_BYTES (512u * 1024)  /* a round trip carries at most about this */
#define REDIS_MAX_BATCH 65536u
#define REDIS_BACKOFF_MIN_S 0.25
#define REDIS_REPLAY_SLICE_S 0.05         /* replay this long, then let the queue drain */
#define REDIS_CLOSE_BUDGET_S 10.0         /* at exit: time left to empty the spool */
#define REDIS_ERR_MAX 256
#define REDIS_MAX_CMDS 3                  /* XADD, RPUSH, PUBLISH */
#define REDIS_HB_TTL_BEATS 3
#define REDIS_HB_FIELDS 40

/* Destinations of a line, kept as the spool tag (0 in a spool written by another
 * output kind means "all"). */
enum { D_STREAM = 1u, D_LIST = 2u, D_CHANNEL = 4u, D_ALL = 7u };

struct pend {
	struct out_meta_copy m;
	uint32_t sent;            /* destinations with a command in flight */
	uint32_t failed;          /* ... whose reply was an error */
	size_t off, len;          /* the line, in the arena */
};

struct rds {
	struct output *o;
	/* where */
	bool unix_sock;
	char host[256];
	int port;
	char path[OUT_PATH_MAX];
	int db;
	struct out_redis_opts opt;
	char sensor[OUT_NAME_MAX];
	char stream[OUT_KEY_MAX + 16];
	char inc_stream[OUT_KEY_MAX + 16];
	char base_key[OUT_KEY_MAX + OUT_NAME_MAX + 16];
	char *baseline;            /* the latest baseline not yet sent (owned), or NULL */
	size_t baseline_len;
	char hb_key[OUT_KEY_MAX + OUT_NAME_MAX + 16];
	char sensors_key[OUT_KEY_MAX + 16];
	char maxlen[2][24];        /* MAXLEN of alerts and of records, formatted once */
	char spool_name[SPOOL_NAME_MAX];
	double started_wall;

	/* connection */
	redisContext *c;
	enum out_state state;
	char why[REDIS_ERR_MAX];   /* what the last change of state was about */
	double next_try, backoff, down_since;
	unsigned seed;             /* jitter */

	/* the batch in flight */
	struct pend *pend;
	size_t npend, cappend;
	char *arena;
	size_t alen, acap;
	bool list_trim;            /* an LTRIM follows the batch */

	/* replay */
	struct spool *sp;
	bool spool_failing;        /* the last append failed (reported once) */
	size_t replay_batch;       /* 1 after a failure, doubling to opt.batch */
	struct spool_rec *recs;

	double next_hb;
	uint64_t delivered, alerts_sent, records_sent;
};

/* ---------------------------------------------------------------- messages */


static void publish_health(struct rds *r)
{
	struct out_health *h = &r->o->health;

	out_health_set(&h->state, (uint64_t)r->state);
	out_health_set(&h->delivered, r->delivered);
	if (r->sp != NULL)
		spool_publish_health(r->sp, h);
}

static uint64_t spool_waiting(const struct rds *r, uint64_t *records)
{
	struct spool_stats st;

	*records = 0;
	if (r->sp == NULL)
		return 0;
	spool_get_stats(r->sp, &st);
	*records = st.records;
	return st.alerts;
}

/* The one place that changes state: a message per change, never per line or per
 * retry with the same outcome. */
static void set_state(struct rds *r, enum out_state st, const char *why)
{
	uint64_t nrec, nal;

	/* Down is down whatever the errno; refusals differ in what to fix (OOM, wrong
	 * type, permission), so a new reason is news there. */
	if (st == r->state && (st == OUT_ST_UP || st == OUT_ST_DOWN || st == OUT_ST_TIMEOUT ||
			       strcmp(why, r->why) == 0))
		return;
	nal = spool_waiting(r, &nrec);
	if (st == OUT_ST_UP) {
		char more[OUT_PATH_MAX + 128] = "";

		if (nal + nrec > 0)
			snprintf(more, sizeof(more), "; %" PRIu64 " alerts and %" PRIu64 " records still "
				 "in the spool %s go first", nal, nrec, spool_base(r->sp));
		if (r->state == OUT_ST_CONNECTING)
			out_logf(r->o, "connected to Redis%s", more);
		else
			out_logf(r->o, "Redis takes writes again after %.1f s%s", util_mono_s() - r->down_since,
			     more);
	} else {
		const char *what = st == OUT_ST_AUTH ? "refused authentication or permission" :
				   st == OUT_ST_REFUSED ? "refuses writes" :
				   st == OUT_ST_TIMEOUT ? "does not answer" : "is unavailable";

		if (r->state == OUT_ST_UP || r->state == OUT_ST_CONNECTING)
			r->down_since = util_mono_s();
		if (r->sp != NULL)
			out_logf(r->o, "Redis %s: %s; spooling to %s, retrying with backoff up to %u s%s",
			     what, why, spool_base(r->sp), r->opt.backoff_max_s,
			     st == OUT_ST_AUTH ? " (check the user, password and ACL)" : "");
		else
			out_logf(r->o, "Redis %s: %s; no spool directory, so ALERTS ARE LOST until it is "
			     "back; retrying with backoff up to %u s", what, why, r->opt.backoff_max_s);
	}
	r->state = st;
	util_strlcpy(r->why, why, sizeof(r->why));
	publish_health(r);
}

/* ---------------------------------------------------------------- parsing */

static int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes n bytes of s into out (cap bytes with the NUL); -1 when it does not
 * fit or holds a bad escape or a NUL. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '%') {
			int a, b;

			if (i + 2 >= n)
				return -1;
			a = hexdig(s[i + 1]);
			b = hexdig(s[i + 2]);
			if (a < 0 || b < 0 || (a == 0 && b == 0))
				return -1;
			ch = (char)(a << 4 | b);
			i += 2;
		}
		if (k + 1 >= cap)
			return -1;
		out[k++] = ch;
	}
	out[k] = '\0';
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return -1;
	*v = x;
	return 0;
}

static int copy_key(char *dst, size_t cap, const char *v, const char *name, char *err,
		    size_t errlen)
{
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: longer than %zu bytes", name, cap - 1);
		return -1;
	}
	util_strlcpy(dst, v, cap);
	return 0;
}

/* One ?key=value of the URL (already percent-decoded). */
static int set_param(struct rds *r, const char *k, const char *v, char *err, size_t errlen)
{
	struct out_redis_opts *o = &r->opt;
	uint64_t n;
	uint32_t ms;
	bool b;

	if (strcmp(k, "stream") == 0)
		return copy_key(o->stream, sizeof(o->stream), v, k, err, errlen);
	if (strcmp(k, "incidents") == 0)
		return copy_key(o->incidents, sizeof(o->incidents), v, k, err, errlen);
	if (strcmp(k, "list") == 0)
		return copy_key(o->list, sizeof(o->list), v, k, err, errlen);
	if (strcmp(k, "channel") == 0)
		return copy_key(o->channel, sizeof(o->channel), v, k, err, errlen);
	if (strcmp(k, "prefix") == 0)
		return copy_key(o->prefix, sizeof(o->prefix), v, k, err, errlen);
	if (strcmp(k, "user") == 0)
		return copy_key(o->username, sizeof(o->username), v, k, err, errlen);
	if (strcmp(k, "password") == 0)
		return copy_key(o->password, sizeof(o->password), v, k, err, errlen);
	if (strcmp(k, "spool_name") == 0)
		return copy_key(r->spool_name, sizeof(r->spool_name), v, k, err, errlen);
	if (strcmp(k, "db") == 0) {
		if (parse_uint(v, REDIS_MAX_DB, &n) != 0)
			goto bad_num;
		r->db = (int)n;
		return 0;
	}
	if (strcmp(k, "maxlen") == 0 || strcmp(k, "stream_maxlen") == 0) {
		if (parse_uint(v, UINT64_MAX / 2, &n) != 0)
			goto bad_num;
		o->stream_maxlen = n;
		return 0;
	}
	if (strcmp(k, "list_maxlen") == 0) {
		if (parse_uint(v, INT64_MAX, &n) != 0)
			goto bad_num;
		o->list_maxlen = n;
		return 0;
	}
	if (strcmp(k, "records_maxlen") == 0) {
		if (parse_uint(v, UINT64_MAX / 2, &n) != 0)
			goto bad_num;
		o->records_maxlen = n;
		return 0;
	}
	if (strcmp(k, "batch") == 0) {
		if (parse_uint(v, REDIS_MAX_BATCH, &n) != 0 || n == 0)
			goto bad_num;
		o->batch = (uint32_t)n;
		return 0;
	}
	if (strcmp(k, "records") == 0) {
		if (out_parse_bool(v, &b) != 0) {
			snprintf(err, errlen, "%s: expected yes or no, not '%s'", k, v);
			return -1;
		}
		o->records = b;
		return 0;
	}
	if (strcmp(k, "heartbeat") == 0 || strcmp(k, "connect_timeout") == 0 ||
	    strcmp(k, "command_timeout") == 0 || strcmp(k, "backoff_max") == 0) {
		if (out_parse_ms(v, &ms) != 0) {
			snprintf(err, errlen, "%s: expected a duration such as 500ms, 5s or 1m, not "
				 "'%s'", k, v);
			return -1;
		}
		if (k[0] == 'h')
			o->heartbeat_s = (ms + 999) / 1000;
		else if (k[0] == 'b')
			o->backoff_max_s = ms < 1000 ? 1 : ms / 1000;
		else if (ms == 0)
			goto bad_num;
		else if (k[1] == 'o' && k[2] == 'n')
			o->connect_timeout_ms = ms;
		else
			o->command_timeout_ms = ms;
		return 0;
	}
	snprintf(err, errlen, "unknown parameter '%s' (known: stream, incidents, maxlen, list, list_maxlen, "
		 "channel, records, records_maxlen, prefix, heartbeat, connect_timeout, "
		 "command_timeout, backoff_max, batch, db, user, password, spool_name)", k);
	return -1;
bad_num:
	snprintf(err, errlen, "%s: '%s' is not a valid number", k, v);
	return -1;
}

static int parse_query(struct rds *r, const char *q, char *err, size_t errlen)
{
	while (*q != '\0') {
		const char *amp = strchr(q, '&'), *eq;
		size_t n = amp != NULL ? (size_t)(amp - q) : strlen(q);
		char k[64], v[OUT_SECRET_MAX];

		eq = memchr(q, '=', n);
		if (eq == NULL || eq == q) {
			snprintf(err, errlen, "expected key=value after '?', not '%.*s'", (int)n, q);
			return -1;
		}
		if (pct_decode(q, (size_t)(eq - q), k, sizeof(k)) != 0 ||
		    pct_decode(eq + 1, n - (size_t)(eq + 1 - q), v, sizeof(v)) != 0) {
			snprintf(err, errlen, "bad or too long parameter '%.*s'", (int)(eq - q), q);
			return -1;
		}
		if (set_param(r, k, v, err, errlen) != 0)
			return -1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

static int parse_userinfo(struct rds *r, const char *s, size_t n, char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL) {
		/* "redis://secret@host": a password alone, as redis-cli -u reads it */
		if (pct_decode(s, n, r->opt.password, sizeof(r->opt.password)) != 0)
			goto bad;
		r->opt.username[0] = '\0';
		return 0;
	}
	if (pct_decode(s, (size_t)(colon - s), r->opt.username, sizeof(r->opt.username)) != 0 ||
	    pct_decode(colon + 1, n - (size_t)(colon + 1 - s), r->opt.password,
		       sizeof(r->opt.password)) != 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "bad user or password in the URL (percent-encode '@', ':', '/')");
	return -1;
}

/* arg is what follows "redis:" or "redis+unix:". */
static int parse_url(struct rds *r, const char *arg, char *err, size_t errlen)
{
	char buf[512];
	char *q, *rest, *at, *slash;

	if (strncmp(arg, "//", 2) != 0) {
		snprintf(err, errlen, "expected %s://%s", r->unix_sock ? "redis+unix" : "redis",
			 r->unix_sock ? "/path/to/redis.sock" : "[user:password@]host:port/db");
		return -1;
	}
	if (util_strlcpy(buf, arg + 2, sizeof(buf)) >= sizeof(buf) - 1) {
		snprintf(err, errlen, "URL too long");
		return -1;
	}
	q = strchr(buf, '?');
	if (q != NULL)
		*q++ = '\0';
	rest = buf;
	if (r->unix_sock) {
		slash = strchr(rest, '/');
		if (slash == NULL) {
			snprintf(err, errlen, "expected redis+unix:///path/to/redis.sock");
			return -1;
		}
		if (slash > rest) {
			at = memchr(rest, '@', (size_t)(slash - rest));
			if (at == NULL || at + 1 != slash) {
				snprintf(err, errlen, "expected redis+unix://[user:password@]/path");
				return -1;
			}
			if (parse_userinfo(r, rest, (size_t)(at - rest), err, errlen) != 0)
				return -1;
		}
		if (pct_decode(slash, strlen(slash), r->path, sizeof(r->path)) != 0 ||
		    strlen(r->path) < 2) {
			snprintf(err, errlen, "bad socket path");
			return -1;
		}
	} else {
		char *host, *port = NULL, *end;
		uint64_t n;

		slash = strchr(rest, '/');
		if (slash != NULL)
			*slash++ = '\0';
		at = strrchr(rest, '@');
		if (at != NULL) {
			if (parse_userinfo(r, rest, (size_t)(at - rest), err, errlen) != 0)
				return -1;
			rest = at + 1;
		}
		host = rest;
		if (*host == '[') {
			end = strchr(host, ']');
			if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
				snprintf(err, errlen, "bad IPv6 address (expected [addr]:port)");
				return -1;
			}
			*end = '\0';
			host++;
			if (end[1] == ':')
				port = end + 2;
		} else {
			port = strchr(host, ':');
			if (port != NULL)
				*port++ = '\0';
		}
		if (*host == '\0' || strlen(host) >= sizeof(r->host)) {
			snprintf(err, errlen, "expected a host name or address");
			return -1;
		}
		util_strlcpy(r->host, host, sizeof(r->host));
		r->port = REDIS_DEFAULT_PORT;
		if (port != NULL) {
			if (parse_uint(port, 65535, &n) != 0 || n == 0) {
				snprintf(err, errlen, "bad port '%s'", port);
				return -1;
			}
			r->port = (int)n;
		}
		if (slash != NULL && *slash != '\0') {
			if (parse_uint(slash, REDIS_MAX_DB, &n) != 0) {
				snprintf(err, errlen, "bad database number '%s' (expected /0, /1, ...)", slash);
				return -1;
			}
			r->db = (int)n;
		}
	}
	return q != NULL ? parse_query(r, q, err, errlen) : 0;
}

/* The spec as shown in every message and in metrics: no password. */
static void redact(struct rds *r, const char *scheme)
{
	char q[64] = "";
	const char *user = r->opt.username[0] ? r->opt.username : "";
	const char *auth = r->opt.password[0] ? (user[0] ? ":***@" : "***@") : (user[0] ? "@" : "");
	int n;

	if (r->db != 0 && r->unix_sock)
		snprintf(q, sizeof(q), "?db=%d", r->db);
	/* A long path or user name is cut: the spec names the output in messages only. */
	if (r->unix_sock)
		n = snprintf(r->o->spec, sizeof(r->o->spec), "%s://%s%s%s%s", scheme, user, auth,
			     r->path, q);
	else
		n = snprintf(r->o->spec, sizeof(r->o->spec), "%s://%s%s%s%s%s:%d/%d", scheme, user,
			     auth, strchr(r->host, ':') ? "[" : "", r->host,
			     strchr(r->host, ':') ? "]" : "", r->port, r->db);
	if (n < 0)
		r->o->spec[0] = '\0';
}

/* ---------------------------------------------------------------- meta */

static void fill_meta(struct pend *p, enum out_kind kind, const struct out_meta *m,
		      const char *line, size_t len)
{
	out_meta_copy(&p->m, kind, m, line, len);
	p->sent = p->failed = 0;
	p->len = len;
}

static bool is_alert(enum out_kind k)
{
	return k == OUT_ALERT || k == OUT_INCIDENT;
}

/* ---------------------------------------------------------------- spool */

/* Keeps a line the server did not take; owed = destinations still to write. */
static int keep(struct rds *r, const struct pend *p, uint32_t owed, const char *line)
{
	struct out_meta m;
	int rc;

	if (r->sp == NULL) {
		if (is_alert(p->m.kind))
			out_health_add(&r->o->health.lost, 1);
		return -1;
	}
	out_meta_view(&p->m, &m);
	rc = spool_append(r->sp, p->m.kind, owed == D_ALL ? 0 : owed, &m, line, p->len);
	if (rc == 0)
		r->spool_failing = false;
	if (rc != 0) {
		/* once per run of failures: a full disk would otherwise log per line */
		if (rc < 0 && !r->spool_failing)
			out_logf(r->o, "cannot write the spool %s: %s (alerts are lost until it works; "
			     "further failures are counted)", spool_base(r->sp), strerror(errno));
		r->spool_failing = rc < 0;
		if (is_alert(p->m.kind))
			out_health_add(&r->o->health.lost, 1);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- commands */

static uint32_t dests_of(const struct rds *r, enum out_kind kind)
{
	uint32_t d = D_STREAM;

	if (!is_alert(kind))
		return D_STREAM;
	if (r->opt.list[0] != '\0')
		d |= D_LIST;
	if (r->opt.channel[0] != '\0')
		d |= D_CHANNEL;
	return d;
}

/* Appends the commands of one line to the context's output buffer. */
static int append_cmds(struct rds *r, struct pend *p, const char *line, uint32_t want)
{
	const char *argv[16];
	size_t argl[16];
	char sev[8], key[OUT_KEY_MAX + 40];
	int argc = 0;

#define ARG(s, n) (argv[argc] = (s), argl[argc] = (n), argc++)
#define ARGS(s) ARG(s, strlen(s))
	p->sent = 0;
	if (want & D_STREAM) {
		uint64_t ml = is_alert(p->m.kind) ? r->opt.stream_maxlen : r->opt.records_maxlen;

		ARGS("XADD");
		if (p->m.kind == OUT_INCIDENT) {
			ARGS(r->inc_stream);
		} else if (is_alert(p->m.kind)) {
			ARGS(r->stream);
		} else {
			snprintf(key, sizeof(key), "%s%s", r->opt.prefix, p->m.dataset);
			ARGS(key);
		}
		if (ml > 0) {
			ARGS("MAXLEN");
			ARGS("~");
			ARGS(r->maxlen[is_alert(p->m.kind) ? 0 : 1]);
		}
		ARGS("*");
		if (p->m.id[0] != '\0') {
			ARGS("id");
			ARGS(p->m.id);
		}
		ARGS("type");
		ARGS(is_alert(p->m.kind) ? (p->m.action[0] ? p->m.action : "unknown") : p->m.dataset);
		if (is_alert(p->m.kind)) {
			snprintf(sev, sizeof(sev), "%d", p->m.severity);
			ARGS("severity");
			ARGS(sev);
		}
		ARGS("sensor");
		ARGS(r->sensor);
		ARGS("json");
		ARG(line, p->len);
		if (redisAppendCommandArgv(r->c, argc, argv, argl) != REDIS_OK)
			return -1;
		p->sent |= D_STREAM;
	}
	if (want & D_LIST) {
		argc = 0;
		ARGS("RPUSH");
		ARGS(r->opt.list);
		ARG(line, p->len);
		if (redisAppendCommandArgv(r->c, argc, argv, argl) != REDIS_OK)
			return -1;
		p->sent |= D_LIST;
		if (r->opt.list_maxlen > 0)
			r->list_trim = true;
	}
	if (want & D_CHANNEL) {
		argc = 0;
		ARGS("PUBLISH");
		ARGS(r->opt.channel);
		ARG(line, p->len);
		if (redisAppendCommandArgv(r->c, argc, argv, argl) != REDIS_OK)
			return -1;
		p->sent |= D_CHANNEL;
	}
#undef ARG
#undef ARGS
	return 0;
}

/* Kinds of refusal, from the first word of the error reply. */
static enum out_state classify(const char *msg)
{
	static const char *const auth[] = { "NOAUTH", "WRONGPASS", "NOPERM", "ERR invalid password",
					    "ERR AUTH", "ERR Client sent AUTH", "ERR invalid username" };
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(auth); i++)
		if (strncmp(msg, auth[i], strlen(auth[i])) == 0)
			return OUT_ST_AUTH;
	return OUT_ST_REFUSED;
}

static void backoff(struct rds *r)
{
	double d = r->backoff > 0 ? r->backoff * 2 : REDIS_BACKOFF_MIN_S;
	double jitter;

	if (d > r->opt.backoff_max_s)
		d = r->opt.backoff_max_s;
	r->backoff = d;
	/* +-20%: sensors restarted together must not reconnect in lockstep */
	jitter = 0.8 + 0.4 * ((double)(rand_r(&r->seed) % 1000) / 1000.0);
	r->next_try = util_mono_s() + d * jitter;
	out_health_add(&r->o->health.failures, 1);
}

static void disconnect(struct rds *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
}

/* A failed connection or command: errno EAGAIN means the timeout struck. */
static void conn_failed(struct rds *r, const char *what)
{
	char why[REDIS_ERR_MAX];
	bool timeout = r->c != NULL && r->c->err == REDIS_ERR_IO &&
		       (errno == EAGAIN || errno == EWOULDBLOCK ||
			strstr(r->c->errstr, "temporarily unavailable") != NULL);

	if (timeout)
		snprintf(why, sizeof(why), "%s: no reply within %u ms", what,
			 r->opt.command_timeout_ms);
	else
		snprintf(why, sizeof(why), "%s: %s", what,
			 r->c != NULL && r->c->errstr[0] ? r->c->errstr : "connection lost");
	disconnect(r);
	set_state(r, timeout ? OUT_ST_TIMEOUT : OUT_ST_DOWN, why);
	backoff(r);
}

/* Sends what is in the context's buffer and reads one reply. */
static int get_reply(struct rds *r, redisReply **rep)
{
	void *v = NULL;

	errno = 0;
	if (redisGetReply(r->c, &v) != REDIS_OK || v == NULL)
		return -1;
	*rep = v;
	return 0;
}

static int connect_redis(struct rds *r)
{
	struct timeval ct = { (time_t)(r->opt.connect_timeout_ms / 1000),
			      (suseconds_t)(r->opt.connect_timeout_ms % 1000) * 1000 };
	struct timeval cmd = { (time_t)(r->opt.command_timeout_ms / 1000),
			       (suseconds_t)(r->opt.command_timeout_ms % 1000) * 1000 };
	const char *argv[3];
	size_t argl[3];
	char dbs[8], name[OUT_NAME_MAX + 8];
	int nreply = 0, i;
	size_t k;

	disconnect(r);
	r->c = r->unix_sock ? redisConnectUnixWithTimeout(r->path, ct)
			    : redisConnectWithTimeout(r->host, r->port, ct);
	if (r->c == NULL || r->c->err) {
		conn_failed(r, "connect");
		return -1;
	}
	if (redisSetTimeout(r->c, cmd) != REDIS_OK ||
	    (!r->unix_sock && redisEnableKeepAlive(r->c) != REDIS_OK)) {
		conn_failed(r, "socket options");
		return -1;
	}
	/* AUTH, SELECT and CLIENT SETNAME in one round trip. */
	if (r->opt.password[0] != '\0') {
		int n = 0;

		argv[n] = "AUTH";
		argl[n++] = 4;
		if (r->opt.username[0] != '\0') {
			argv[n] = r->opt.username;
			argl[n++] = strlen(r->opt.username);
		}
		argv[n] = r->opt.password;
		argl[n++] = strlen(r->opt.password);
		redisAppendCommandArgv(r->c, n, argv, argl);
		nreply++;
	}
	if (r->db != 0) {
		snprintf(dbs, sizeof(dbs), "%d", r->db);
		argv[0] = "SELECT";
		argv[1] = dbs;
		argl[0] = 6;
		argl[1] = strlen(dbs);
		redisAppendCommandArgv(r->c, 2, argv, argl);
		nreply++;
	}
	/* CLIENT LIST shows which sensor a connection is; names cannot hold spaces. */
	snprintf(name, sizeof(name), "onpath-%s", r->sensor);
	for (k = 0; name[k] != '\0'; k++)
		if (name[k] <= ' ' || name[k] >= 0x7f)
			name[k] = '_';
	argv[0] = "CLIENT";
	argv[1] = "SETNAME";
	argv[2] = name;
	argl[0] = 6;
	argl[1] = 7;
	argl[2] = strlen(name);
	redisAppendCommandArgv(r->c, 3, argv, argl);
	nreply++;
	for (i = 0; i < nreply; i++) {
		redisReply *rep;

		if (get_reply(r, &rep) != 0) {
			conn_failed(r, i == 0 && r->opt.password[0] ? "AUTH" : "connect");
			return -1;
		}
		/* The name is a courtesy (an ACL may forbid CLIENT): only AUTH and SELECT
		 * errors count. */
		if (rep->type == REDIS_REPLY_ERROR && i < nreply - 1) {
			char why[REDIS_ERR_MAX];
			bool auth = r->opt.password[0] != '\0' && i == 0;
			enum out_state st = auth ? OUT_ST_AUTH : classify(rep->str);

			snprintf(why, sizeof(why), "%s: %s", auth ? "AUTH" : "SELECT", rep->str);
			freeReplyObject(rep);
			/* the rest of the pipeline is read by nobody: drop the connection */
			disconnect(r);
			set_state(r, st, why);
			backoff(r);
			return -1;
		}
		freeReplyObject(rep);
	}
	out_health_add(&r->o->health.reconnects, 1);
	return 0;
}

/* Reads the replies of n lines (and a trailing LTRIM), marking failed destinations.
 * Returns 0; -1 when the connection failed (lines from *first_unknown on have no
 * answer). err receives the first error reply. */
static int read_replies(struct rds *r, struct pend *p, size_t n, bool trim,
			size_t *first_unknown, char *err, size_t errlen, enum out_state *cls)
{
	size_t i;
	uint32_t bit;

	err[0] = '\0';
	*cls = OUT_ST_REFUSED;
	for (i = 0; i < n; i++) {
		for (bit = 1; bit <= D_CHANNEL; bit <<= 1) {
			redisReply *rep;

			if (!(p[i].sent & bit))
				continue;
			if (get_reply(r, &rep) != 0) {
				*first_unknown = i;
				return -1;
			}
			if (rep->type == REDIS_REPLY_ERROR) {
				p[i].failed |= bit;
				if (err[0] == '\0')
					*cls = classify(rep->str);
				if (err[0] == '\0')
					snprintf(err, errlen, "%s %s: %s",
						 bit == D_STREAM ? "XADD" : bit == D_LIST ? "RPUSH" : "PUBLISH",
						 bit == D_STREAM ? (p[i].m.kind == OUT_INCIDENT ? r->inc_stream
								  : is_alert(p[i].m.kind) ? r->stream
								  : p[i].m.dataset)
						 : bit == D_LIST ? r->opt.list : r->opt.channel, rep->str);
			}
			freeReplyObject(rep);
		}
	}
	if (trim) {
		redisReply *rep;

		if (get_reply(r, &rep) != 0) {
			*first_unknown = n;
			return -1;
		}
		freeReplyObject(rep); /* a failed trim loses nothing */
	}
	*first_unknown = n;
	return 0;
}

static void append_trim(struct rds *r)
{
	char n[24];
	const char *argv[4] = { "LTRIM", r->opt.list, n, "-1" };
	size_t argl[4];

	snprintf(n, sizeof(n), "-%" PRIu64, r->opt.list_maxlen);
	argl[0] = 5;
	argl[1] = strlen(r->opt.list);
	argl[2] = strlen(n);
	argl[3] = 2;
	redisAppendCommandArgv(r->c, 4, argv, argl);
}

/* Ordered per destination: once a destination refused a line, the later lines of the
 * batch are owed to it too (the refusal is about the key or the server, and replaying
 * them after the refused one keeps the stream in order). */
static void owed_after_failure(struct pend *p, size_t n, uint32_t *owed)
{
	uint32_t seen = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		seen |= p[i].failed;
		owed[i] = (p[i].failed | seen) & p[i].sent;
	}
}

/* Sends the batch of new lines; what was not taken goes to the spool. */
static void send_pending(struct rds *r)
{
	char err[REDIS_ERR_MAX];
	size_t i, n = r->npend, known = 0;
	enum out_state cls;
	uint32_t *owed;
	int rc;

	if (n == 0)
		return;
	if (r->list_trim)
		append_trim(r);
	rc = read_replies(r, r->pend, n, r->list_trim, &known, err, sizeof(err), &cls);
	r->list_trim = false;
	owed = calloc(n, sizeof(*owed));
	if (owed == NULL) { /* cannot tell them apart: keep them all */
		for (i = 0; i < n; i++)
			keep(r, &r->pend[i], D_ALL, r->arena + r->pend[i].off);
	} else {
		owed_after_failure(r->pend, known, owed);
		for (i = 0; i < n; i++) {
			uint32_t o = i < known ? owed[i] : r->pend[i].sent;

			if (o == 0) {
				r->delivered++;
				if (is_alert(r->pend[i].m.kind))
					r->alerts_sent++;
				else
					r->records_sent++;
			} else {
				keep(r, &r->pend[i], o, r->arena + r->pend[i].off);
			}
		}
		free(owed);
	}
	r->npend = 0;
	r->alen = 0;
	if (rc != 0) {
		conn_failed(r, "write");
	} else if (err[0] != '\0') {
		set_state(r, cls, err);
		backoff(r);
	}
	publish_health(r);
}

/* ---------------------------------------------------------------- replay */

static int replay_some(struct rds *r, double deadline)
{
	char err[REDIS_ERR_MAX];

	while (r->sp != NULL && !spool_empty(r->sp) && r->c != NULL) {
		size_t i, n, known = 0, ok;
		enum out_state cls;
		struct pend *p;
		int got, rc;

		got = spool_peek(r->sp, r->recs, r->replay_batch, REDIS_BATCH_BYTES);
		if (got < 0) {
			out_logf(r->o, "cannot read the spool %s: %s", spool_base(r->sp), strerror(errno));
			return -1;
		}
		if (got == 0)
			break;
		n = (size_t)got;
		if (n > r->cappend) {
			struct pend *np = realloc(r->pend, n * sizeof(*np));

			if (np == NULL)
				return -1;
			r->pend = np;
			r->cappend = n;
		}
		p = r->pend;
		for (i = 0; i < n; i++) {
			uint32_t want = r->recs[i].tag != 0 ? r->recs[i].tag : D_ALL;

			fill_meta(&p[i], r->recs[i].kind, &r->recs[i].meta, r->recs[i].line,
				  r->recs[i].len);
			p[i].len = r->recs[i].len;
			want &= dests_of(r, p[i].m.kind);
			if (want == 0)
				want = D_STREAM; /* the list or channel was turned off since */
			if (append_cmds(r, &p[i], r->recs[i].line, want) != 0) {
				conn_failed(r, "replay");
				return -1;
			}
		}
		if (r->list_trim)
			append_trim(r);
		rc = read_replies(r, p, n, r->list_trim, &known, err, sizeof(err), &cls);
		r->list_trim = false;
		/* Consume the lines every destination took, up to the first that failed;
		 * that one is retagged with what it still owes. */
		for (ok = 0; ok < known && p[ok].failed == 0; ok++)
			;
		if (ok < n) {
			uint32_t owed = ok < known ? p[ok].failed : p[ok].sent;
			uint32_t had = r->recs[ok].tag != 0 ? r->recs[ok].tag : D_ALL;

			spool_consume(r->sp, ok, owed != had ? owed : 0);
		} else {
			spool_consume(r->sp, n, 0);
		}
		r->delivered += ok;
		for (i = 0; i < ok; i++) {
			if (is_alert(p[i].m.kind))
				r->alerts_sent++;
			else
				r->records_sent++;
		}
		if (rc != 0) {
			conn_failed(r, "replay");
			return -1;
		}
		if (ok < n) {
			r->replay_batch = 1; /* probe one line at a time until it works */
			set_state(r, cls, err);
			backoff(r);
			return -1;
		}
		r->backoff = 0;
		if (r->replay_batch < r->opt.batch)
			r->replay_batch = r->replay_batch * 2 > r->opt.batch ? r->opt.batch
									  : r->replay_batch * 2;
		publish_health(r);
		if (util_mono_s() >= deadline)
			break;
	}
	publish_health(r);
	return 0;
}

/* ---------------------------------------------------------------- heartbeat */

static void heartbeat(struct rds *r, const char *state)
{
	struct metrics_sensor *ms = NULL;
	const char *argv[2 + 2 * REDIS_HB_FIELDS];
	size_t argl[2 + 2 * REDIS_HB_FIELDS];
	char vals[REDIS_HB_FIELDS][32], ttl[16], score[32];
	struct out_health h;
	int argc = 0, nv = 0, i, ncmd;
	char host[256];

	if (r->c == NULL)
		return;
	ms = malloc(sizeof(*ms));
	if (ms != NULL && metrics_get(ms) != 0) {
		free(ms);
		ms = NULL;
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	memcpy(&h, &r->o->health, sizeof(h));
#define KV(k, v) (argv[argc] = (k), argl[argc] = strlen(k), argc++, \
		  argv[argc] = (v), argl[argc] = strlen(v), argc++)
#define KU(k, u) (snprintf(vals[nv], sizeof(vals[nv]), "%" PRIu64, (uint64_t)(u)), \
		  KV(k, vals[nv]), nv++)
	argv[argc] = "HSET";
	argl[argc++] = 4;
	argv[argc] = r->hb_key;
	argl[argc++] = strlen(r->hb_key);
	KV("name", r->sensor);
	KV("host", host);
	KV("version", PACKAGE_VERSION);
	KV("state", state);
	KU("pid", (uint64_t)getpid());
	KU("started", (uint64_t)r->started_wall);
	KU("last_seen", (uint64_t)time(NULL));
	KU("heartbeat_s", r->opt.heartbeat_s);
	KU("alerts_sent", r->alerts_sent);
	KU("records_sent", r->records_sent);
	KU("spooled", h.spooled);
	KU("spool_bytes", h.spool_bytes);
	KU("spool_alerts", h.spool_alerts);
	KU("spool_records", h.spool_records);
	KU("spool_dropped", h.spool_dropped);
	KU("alerts_lost", h.lost);
	KU("reconnects", h.reconnects);
	if (ms != NULL) {
		KU("packets", ms->packets);
		KU("bytes", ms->bytes);
		KU("pcap_dropped", ms->pcap_dropped);
		KU("pcap_if_dropped", ms->pcap_if_dropped);
		KU("decode_errors", ms->decode_errors);
		KU("flows_active", ms->flows_active);
		KU("alerts", ms->alerts_written);
		KU("alerts_suppressed", ms->alerts_suppressed);
		KU("queue_dropped", ms->out_dropped);
	}
#undef KU
#undef KV
	redisAppendCommandArgv(r->c, argc, argv, argl);
	ncmd = 1;
	if (r->opt.heartbeat_s > 0) {
		snprintf(ttl, sizeof(ttl), "%u", r->opt.heartbeat_s * REDIS_HB_TTL_BEATS);
		argv[0] = "EXPIRE";
		argv[1] = r->hb_key;
		argv[2] = ttl;
		argl[0] = 6;
		argl[1] = strlen(r->hb_key);
		argl[2] = strlen(ttl);
		redisAppendCommandArgv(r->c, 3, argv, argl);
		ncmd++;
	}
	snprintf(score, sizeof(score), "%" PRIu64, (uint64_t)time(NULL));
	argv[0] = "ZADD";
	argv[1] = r->sensors_key;
	argv[2] = score;
	argv[3] = r->sensor;
	argl[0] = 4;
	argl[1] = strlen(r->sensors_key);
	argl[2] = strlen(score);
	argl[3] = strlen(r->sensor);
	redisAppendCommandArgv(r->c, 4, argv, argl);
	ncmd++;
	free(ms);
	for (i = 0; i < ncmd; i++) {
		redisReply *rep;

		if (get_reply(r, &rep) != 0) {
			conn_failed(r, "heartbeat");
			return;
		}
		/* A refused heartbeat (OOM) shows up on the next line's write as well;
		 * alone it changes nothing. */
		freeReplyObject(rep);
	}
}

/* ---------------------------------------------------------------- baseline */

/* Sends the latest baseline (SET) when Redis is up; a refusal keeps it for the next
 * try, a lost connection is handled like any other. */
static void send_baseline(struct rds *r)
{
	const char *argv[3] = { "SET", r->base_key, r->baseline };
	size_t argl[3] = { 3, strlen(r->base_key), r->baseline_len };
	redisReply *rep;

	if (r->baseline == NULL || r->c == NULL || r->state != OUT_ST_UP)
		return;
	if (redisAppendCommandArgv(r->c, 3, argv, argl) != REDIS_OK || get_reply(r, &rep) != 0) {
		conn_failed(r, "baseline");
		return;
	}
	if (rep->type != REDIS_REPLY_ERROR) {
		free(r->baseline);
		r->baseline = NULL;
	}
	freeReplyObject(rep);
}

/* ---------------------------------------------------------------- shared baselines */

#define REDIS_MAX_PEERS 256

/* A sensor name as heartbeats write it: nothing that could make another key. */
static bool peer_name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= OUT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return false;
	return true;
}

/* The baselines of every sensor in <prefix>sensors: ZRANGE, then one pipelined GET
 * per name. Synchronous, at start-up, before the output thread. */
static int rds_fetch_baselines(struct output *o, out_baseline_fn fn, void *ud)
{
	struct rds *r = o->priv;
	redisReply *names = NULL, *rep;
	char key[OUT_KEY_MAX + OUT_NAME_MAX + 16];
	int n = 0;

	if (r->c == NULL && connect_redis(r) != 0)
		return -1;
	if (redisAppendCommand(r->c, "ZRANGE %s 0 %d", r->sensors_key, REDIS_MAX_PEERS - 1) != REDIS_OK ||
	    get_reply(r, &names) != 0) {
		conn_failed(r, "ZRANGE (shared baselines)");
		return -1;
	}
	if (names->type != REDIS_REPLY_ARRAY) {
		out_logf(o, "shared baselines: ZRANGE %s: %s", r->sensors_key,
			 names->type == REDIS_REPLY_ERROR ? names->str : "not a sorted set");
		freeReplyObject(names);
		return -1;
	}
	size_t want = 0;
	for (size_t i = 0; i < names->elements; i++) {
		redisReply *e = names->element[i];
		if (e->type != REDIS_REPLY_STRING || !peer_name_ok(e->str, e->len))
			continue;
		snprintf(key, sizeof(key), "%sbaseline:%s", r->opt.prefix, e->str);
		redisAppendCommand(r->c, "GET %s", key);
		want++;
	}
	for (size_t i = 0, k = 0; k < want && i < names->elements; i++) {
		redisReply *e = names->element[i];
		if (e->type != REDIS_REPLY_STRING || !peer_name_ok(e->str, e->len))
			continue;
		k++;
		if (get_reply(r, &rep) != 0) {
			freeReplyObject(names);
			conn_failed(r, "GET (shared baselines)");
			return -1;
		}
		if (rep->type == REDIS_REPLY_STRING && rep->len > 0) {
			fn(ud, e->str, rep->str, rep->len);
			n++;
		}
		freeReplyObject(rep);
	}
	freeReplyObject(names);
	return n;
}

/* ---------------------------------------------------------------- service */

/* Reconnects when due, replays the spool, beats the heart. */
static void service(struct rds *r, double now, double budget)
{
	if (r->state != OUT_ST_UP) {
		if (now < r->next_try)
			return;
		if (r->c == NULL && connect_redis(r) != 0)
			return;
		/* Connected, or refused before: the replay is the test, and "up" is said
		 * only once it passed (a refusal that persists is not news). */
		if (replay_some(r, now + budget) != 0)
			return;
		set_state(r, OUT_ST_UP, "");
		r->backoff = 0;
	} else if (r->sp != NULL && !spool_empty(r->sp)) {
		if (replay_some(r, now + budget) != 0)
			return;
	}
	if (r->opt.heartbeat_s > 0 && r->state == OUT_ST_UP && now >= r->next_hb) {
		r->next_hb = now + r->opt.heartbeat_s;
		heartbeat(r, "running");
	}
	send_baseline(r);
}

/* ---------------------------------------------------------------- ops */

static int rds_write(struct output *o, enum out_kind kind, const char *line, size_t len,
		     const struct out_meta *meta)
{
	struct rds *r = o->priv;
	struct pend *p;

	if (kind == OUT_BASELINE) {
		char *copy = malloc(len + 1);

		if (copy == NULL)
			return -1;
		memcpy(copy, line, len);
		copy[len] = '\0';
		free(r->baseline);
		r->baseline = copy;
		r->baseline_len = len;
		return 0;
	}
	if (!is_alert(kind) && !r->opt.records)
		return 0;
	if (r->npend == r->cappend) {
		size_t ncap = r->cappend ? r->cappend * 2 : 256;
		struct pend *np = realloc(r->pend, ncap * sizeof(*np));

		if (np == NULL)
			return -1;
		r->pend = np;
		r->cappend = ncap;
	}
	p = &r->pend[r->npend];
	fill_meta(p, kind, meta, line, len);
	p->len = len;
	/* In order: while anything waits in the spool, new lines queue behind it. */
	if (r->state != OUT_ST_UP || r->c == NULL || (r->sp != NULL && !spool_empty(r->sp)))
		return keep(r, p, D_ALL, line);
	if (r->alen + len + 1 > r->acap) {
		size_t ncap = r->acap ? r->acap : 64 * 1024;
		char *na;

		while (ncap < r->alen + len + 1)
			ncap *= 2;
		na = realloc(r->arena, ncap);
		if (na == NULL)
			return keep(r, p, D_ALL, line);
		r->arena = na;
		r->acap = ncap;
	}
	memcpy(r->arena + r->alen, line, len);
	r->arena[r->alen + len] = '\0';
	p->off = r->alen;
	if (append_cmds(r, p, line, dests_of(r, kind)) != 0) {
		/* the context is unusable; what it holds is kept with the rest */
		r->npend++;
		r->alen += len + 1;
		send_pending(r);
		return 0;
	}
	r->alen += len + 1;
	r->npend++;
	if (r->npend >= r->opt.batch || r->alen >= REDIS_BATCH_BYTES)
		send_pending(r);
	return 0;
}

static int rds_flush(struct output *o)
{
	struct rds *r = o->priv;
	int rc = 0;

	send_pending(r);
	service(r, util_mono_s(), REDIS_REPLAY_SLICE_S);
	if (r->sp != NULL && spool_sync(r->sp) != 0) {
		out_logf(r->o, "cannot sync the spool %s: %s", spool_base(r->sp), strerror(errno));
		rc = -1;
	}
	publish_health(r);
	return rc;
}

static void rds_tick(struct output *o, double now)
{
	struct rds *r = o->priv;

	send_pending(r);
	service(r, now, REDIS_REPLAY_SLICE_S);
	publish_health(r);
}

/* SIGHUP: the operator may have fixed Redis; try again now. */
static int rds_reopen(struct output *o)
{
	struct rds *r = o->priv;

	r->next_try = 0;
	r->backoff = 0;
	return 0;
}

static void rds_close(struct output *o)
{
	struct rds *r = o->priv;
	double end;
	uint64_t nal, nrec;

	if (r == NULL)
		return;
	send_pending(r);
	/* One more try regardless of the backoff, then use the budget to empty the
	 * spool: an offline run whose Redis came back late delivers everything. */
	end = util_mono_s() + REDIS_CLOSE_BUDGET_S;
	if (r->sp != NULL && !spool_empty(r->sp))
		r->next_try = 0;
	while (r->sp != NULL && !spool_empty(r->sp) && util_mono_s() < end) {
		service(r, util_mono_s(), end - util_mono_s());
		if (r->state != OUT_ST_UP)
			break; /* still unavailable or refusing */
	}
	send_baseline(r);
	if (r->c != NULL && r->state == OUT_ST_UP && r->opt.heartbeat_s > 0)
		heartbeat(r, "stopped");
	nal = spool_waiting(r, &nrec);
	if (nal + nrec > 0)
		out_logf(r->o, "%" PRIu64 " alerts and %" PRIu64 " records are left in the spool %s; the next "
		     "run sends them first", nal, nrec, spool_base(r->sp));
	publish_health(r);
	disconnect(r);
	spool_close(r->sp);
	free(r->pend);
	free(r->arena);
	free(r->recs);
	free(r->baseline);
	/* the password does not outlive the output */
	explicit_bzero(r->opt.password, sizeof(r->opt.password));
	free(r);
	o->priv = NULL;
}

static int open_common(struct output *o, const char *arg, bool unix_sock, const char *scheme,
		       char *err, size_t errlen)
{
	const struct out_settings *set = o->set;
	struct out_settings defaults;
	struct spool_cfg sc;
	const char *env;
	struct rds *r;
	size_t k;

	if (set == NULL) {
		out_settings_defaults(&defaults);
		set = &defaults;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->o = o;
	r->unix_sock = unix_sock;
	r->opt = set->redis;
	r->state = OUT_ST_CONNECTING;
	util_strlcpy(r->sensor, set->sensor_name[0] ? set->sensor_name : "onpath", sizeof(r->sensor));
	/* The password may come from the environment (a systemd EnvironmentFile), so it
	 * is neither in the config nor in ps. */
	env = getenv("ONPATH_REDIS_PASSWORD");
	if (r->opt.password[0] == '\0' && env != NULL)
		util_strlcpy(r->opt.password, env, sizeof(r->opt.password));
	if (parse_url(r, arg, err, errlen) != 0) {
		/* arg may hold the password: never echo the spec back */
		snprintf(o->spec, sizeof(o->spec), "%s://...", scheme);
		explicit_bzero(r, sizeof(*r));
		free(r);
		return -1;
	}
	redact(r, scheme);
	if (r->opt.batch == 0 || r->opt.batch > REDIS_MAX_BATCH)
		r->opt.batch = 1024;
	if (r->opt.connect_timeout_ms == 0)
		r->opt.connect_timeout_ms = 2000;
	if (r->opt.command_timeout_ms == 0)
		r->opt.command_timeout_ms = 5000;
	if (r->opt.backoff_max_s == 0)
		r->opt.backoff_max_s = 1;
	if (r->opt.stream[0] != '\0')
		util_strlcpy(r->stream, r->opt.stream, sizeof(r->stream));
	else
		snprintf(r->stream, sizeof(r->stream), "%salerts", r->opt.prefix);
	if (r->opt.incidents[0] != '\0')
		util_strlcpy(r->inc_stream, r->opt.incidents, sizeof(r->inc_stream));
	else
		snprintf(r->inc_stream, sizeof(r->inc_stream), "%sincidents", r->opt.prefix);
	snprintf(r->base_key, sizeof(r->base_key), "%sbaseline:%s", r->opt.prefix, r->sensor);
	snprintf(r->hb_key, sizeof(r->hb_key), "%ssensor:%s", r->opt.prefix, r->sensor);
	snprintf(r->sensors_key, sizeof(r->sensors_key), "%ssensors", r->opt.prefix);
	snprintf(r->maxlen[0], sizeof(r->maxlen[0]), "%" PRIu64, r->opt.stream_maxlen);
	snprintf(r->maxlen[1], sizeof(r->maxlen[1]), "%" PRIu64, r->opt.records_maxlen);
	r->replay_batch = r->opt.batch;
	r->recs = calloc(r->opt.batch, sizeof(*r->recs));
	r->seed = (unsigned)getpid() ^ (unsigned)util_now_us();
	r->started_wall = (double)time(NULL);
	if (r->recs == NULL) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return -1;
	}

	/* One spool per sensor and server: the next run of this sensor finds it. */
	if (r->spool_name[0] == '\0') {
		if (unix_sock) {
			const char *base = strrchr(r->path, '/');

			snprintf(r->spool_name, sizeof(r->spool_name), "%.80s.redis-unix-%.60s-%d",
				 r->sensor, base != NULL ? base + 1 : r->path, r->db);
		} else {
			snprintf(r->spool_name, sizeof(r->spool_name), "%.80s.redis-%.80s-%d-%d",
				 r->sensor, r->host, r->port, r->db);
		}
	}
	for (k = 0; r->spool_name[k] != '\0'; k++)
		if (r->spool_name[k] == ':')
			r->spool_name[k] = '_';
	if (strcmp(set->spool_dir, "-") != 0) {
		char why[512];

		sc.dir = set->spool_dir[0] ? set->spool_dir : OUT_DEFAULT_SPOOL_DIR;
		sc.name = r->spool_name;
		sc.max_bytes = set->spool_max;
		sc.fsync = set->spool_fsync;
		sc.label = o->spec;
		if (spool_open(&r->sp, &sc, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s (set --spool-dir or outputs.spool_dir to a writable "
				 "directory; '-' runs without a spool and loses alerts while Redis "
				 "is away)", why);
			free(r->recs);
			free(r);
			return -1;
		}
	} else {
		out_logf(r->o, "running without a spool: alerts are lost while Redis is unavailable");
	}
	o->priv = r;
	publish_health(r);
	/* Connect now, so a wrong address or password is reported at start; failing is
	 * not fatal (the spool keeps the alerts). */
	service(r, util_mono_s(), REDIS_REPLAY_SLICE_S);
	return 0;
}

static int rds_open_tcp(struct output *o, const char *arg, char *err, size_t errlen)
{
	return open_common(o, arg, false, "redis", err, errlen);
}

static int rds_open_unix(struct output *o, const char *arg, char *err, size_t errlen)
{
	return open_common(o, arg, true, "redis+unix", err, errlen);
}

/* Debian's hiredis 0.14 has no TLS: say what to do instead of "unknown output". */
static int rds_open_tls(struct output *o, const char *arg, char *err, size_t errlen)
{
	snprintf(o->spec, sizeof(o->spec), "rediss://...");
	snprintf(err, errlen, "TLS to Redis is not supported by this build (hiredis 0.14): run a "
		 "local TLS tunnel (stunnel, see onpath(8) OUTPUTS) and use "
		 "redis://127.0.0.1:<tunnel port>/<db>");
	return -1;
}

static int rds_write_plain(struct output *o, enum out_kind kind, const char *line, size_t len)
{
	return rds_write(o, kind, line, len, NULL);
}

const struct output_ops out_redis_ops = {
	.scheme = "redis",
	.open = rds_open_tcp,
	.write = rds_write_plain,
	.write_meta = rds_write,
	.flush = rds_flush,
	.reopen = rds_reopen,
	.tick = rds_tick,
	.close = rds_close,
	.fetch_baselines = rds_fetch_baselines,
};

const struct output_ops out_redis_unix_ops = {
	.scheme = "redis+unix",
	.open = rds_open_unix,
	.write = rds_write_plain,
	.write_meta = rds_write,
	.flush = rds_flush,
	.reopen = rds_reopen,
	.tick = rds_tick,
	.close = rds_close,
	.fetch_baselines = rds_fetch_baselines,
};

const struct output_ops out_rediss_ops = {
	.scheme = "rediss",
	.open = rds_open_tls,
	.write = rds_write_plain,
};
