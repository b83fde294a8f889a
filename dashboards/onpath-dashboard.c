#include "config.h"

/* onpath-dashboard.c - the analysts' web dashboard over the sensors' Redis: the page
 * and its static files, a JSON API over the alert stream (paged, filtered, exported),
 * a live feed (Server-Sent Events fed by XREAD BLOCK), acknowledgements, sensor
 * health and the baselines' inventories. The API is in notes/dashboard-api.md and
 * onpath-dashboard(8).
 *
 * Threads: libmicrohttpd runs one thread per connection (an SSE client blocks in its
 * content callback); one reader thread fills the index (index.c) from the streams
 * and then follows them with XREAD BLOCK, feeding the SSE clients; API requests
 * borrow a Redis connection from a small pool. Redis going away is a state, not an
 * error: the health says down, the API answers 503, both reconnect with backoff.
 *
 * Only the commands in allowed_cmds are ever sent, and the only key written is the
 * acknowledgements hash; no request string becomes a command or a key name except a
 * validated sensor name ([A-Za-z0-9._-]{1,64}).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <microhttpd.h>

#include "cfg.h"
#include "dash.h"
#include "util.h"

#ifndef DASHWEBDIR
#define DASHWEBDIR "/usr/local/share/onpath/dashboard"
#endif
#define DEFAULT_OUI "/usr/share/ieee-data/oui.csv"
#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_REDIS "redis://127.0.0.1:6379"
#define DEFAULT_PREFIX "onpath:"
#define DEFAULT_MAX_INDEX 200000
#define MAX_INDEX_MAX 10000000
#define MIN_INDEX 16

#define BODY_MAX (8u * 1024)           /* POST bodies; 413 beyond */
#define STATIC_MAX (4u * 1024 * 1024)  /* a web file */
#define PAGE_DEFAULT 100
#define PAGE_MAX 500
#define TOTAL_BUDGET_S 0.008           /* counting total_matching past the page */
#define EXPORT_MAX 100000
#define EXPORT_CHUNK 500               /* alerts fetched per round trip while exporting */
#define EXPORT_CONCURRENT 4            /* exports at once (each holds up to 1.6 MB of ids) */
#define TIMELINE_DEFAULT 60
#define TIMELINE_MAX 1000
#define TIMELINE_TYPES_MAX 64          /* types named in a timeline; more go to "(other)" */
#define FILL_CHUNK 1000                /* XRANGE COUNT while filling the index */
#define XREAD_COUNT 1000
#define XREAD_BLOCK_MS 1000            /* also how fast the reader notices shutdown */
#define POOL_MAX 8                     /* Redis connections for API requests */
#define POOL_WAIT_S 2
#define POOL_RETRY_S 1.0               /* after a failed connect, answer 503 this long */
#define REDIS_CONNECT_MS 1000
#define REDIS_CMD_MS 3000
#define BACKOFF_MIN_S 0.25
#define BACKOFF_MAX_S 5.0
#define ACK_RESYNC_S 30                /* acks made through another dashboard show up,
					* and trimmed alerts leave the index */
#define ACK_NOTE_MAX 1024
#define SSE_MAX_CLIENTS 64
#define SSE_QUEUE_MAX 512              /* messages waiting per client; more drops them
					* for one "resync" event */
#define SSE_KEEPALIVE_S 15
#define SSE_RESUME_MAX 500             /* alerts replayed to a client resuming */
#define SESS_MAX 256
#define AUTH_FAIL_DELAY_US 250000      /* per wrong credential: slows online guessing */
#define SESS_TTL_S (12 * 3600)
#define SESS_ID_BYTES 32
#define SECRET_MAX 512
#define USER_MAX 64
#define SENSORS_MAX 256
#define SENSOR_NAME_MAX 64
#define MAX_CONNECTIONS 256
#define CONN_TIMEOUT_S 120
#define ERR_MAX 512
#define MALLOC_MMAP_MIN (8 * 1024 * 1024)   /* below this, heap not mmap */
#define MALLOC_TRIM_MIN (64 * 1024 * 1024)  /* free heap kept before trimming */
#define CSV_HEADER "timestamp,sid,event_id,severity,action,sensor,source_ip,source_mac," \
	"destination_ip,destination_port,message,status\r\n"
#define URL_MAX 1024

static const char *const allowed_cmds[] = { "XRANGE", "XREVRANGE", "XREAD", "XLEN", "HGETALL",
					    "HGET", "HSET", "ZRANGE", "ZRANGEBYSCORE", "GET",
					    "AUTH", "SELECT", "PING", NULL };

/* ---------------------------------------------------------------- configuration */

struct conf {
	char redis[URL_MAX];
	char listen[256];
	char prefix[64];
	char web_root[1024];
	char oui[1024];
	char token_file[1024];
	char basic_user[USER_MAX];
	char basic_password_file[1024];
	uint64_t max_index;
	bool no_auth;
	/* derived */
	char token[SECRET_MAX];
	char basic_password[SECRET_MAX];
	/* Redis target */
	bool unix_sock;
	char rhost[256];
	int rport;
	char rpath[512];
	int rdb;
	char ruser[128];
	char rpass[SECRET_MAX];
	/* keys */
	char k_alerts[128], k_incidents[128], k_acks[128], k_sensors[128];
};

static struct conf g_conf;
static struct dash_index g_ix;
static struct dash_oui g_oui;
static volatile sig_atomic_t g_stop;
static volatile int g_redis_up;      /* the reader's view */
static volatile int g_ready;         /* the index was filled once */
static volatile int g_prune_now;     /* a page met a trimmed alert: prune soon */

/* ---------------------------------------------------------------- small helpers */

static double mono_s(void)
{
	return util_mono_s();
}

static int64_t now_ms(void)
{
	return (int64_t)(util_now_us() / 1000);
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	va_list ap;

	fputs("onpath-dashboard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Constant-time for a given secret length: a guess learns nothing from the time but
 * the secret's length. */
static bool ct_eq(const char *guess, const char *secret)
{
	size_t gl = strlen(guess), sl = strlen(secret), i;
	unsigned diff = gl != sl;

	for (i = 0; i < sl; i++)
		diff |= (unsigned)(unsigned char)(i < gl ? guess[i] : 0) ^ (unsigned char)secret[i];
	return diff == 0 && sl > 0;
}

static bool valid_sensor_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SENSOR_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Reads the first line of a secret file (token, password); -1 with err. */
static int read_secret(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(out, (int)cap, fp) == NULL)
		out[0] = '\0';
	fclose(fp);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s: empty", path);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- Redis */

static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '%') {
			unsigned v;

			if (n - i < 3 || sscanf(s + i + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			ch = (char)v;
			i += 2;
		}
		if (k + 1 >= cap)
			return -1;
		out[k++] = ch;
	}
	out[k] = '\0';
	return 0;
}

/* redis://[user:password@]host[:port][/db] or redis+unix://[user:password@]/path[?db=N] */
static int parse_redis_url(struct conf *c, char *err, size_t errlen)
{
	char buf[URL_MAX], *rest, *at, *q, *slash;

	util_strlcpy(buf, c->redis, sizeof(buf));
	if (strncmp(buf, "redis://", 8) == 0) {
		rest = buf + 8;
	} else if (strncmp(buf, "redis+unix://", 13) == 0) {
		rest = buf + 13;
		c->unix_sock = true;
	} else {
		snprintf(err, errlen, "--redis: expected redis://host:port[/db] or "
			 "redis+unix:///path, not '%s'", c->redis);
		return -1;
	}
	q = strchr(rest, '?');
	if (q != NULL)
		*q++ = '\0';
	at = strrchr(rest, '@');
	if (at != NULL) {
		char *colon = memchr(rest, ':', (size_t)(at - rest));

		if (colon == NULL) {
			if (pct_decode(rest, (size_t)(at - rest), c->rpass, sizeof(c->rpass)) != 0)
				goto bad;
		} else if (pct_decode(rest, (size_t)(colon - rest), c->ruser, sizeof(c->ruser)) != 0 ||
			   pct_decode(colon + 1, (size_t)(at - colon - 1), c->rpass,
				      sizeof(c->rpass)) != 0) {
			goto bad;
		}
		rest = at + 1;
	}
	if (c->unix_sock) {
		if (rest[0] != '/' || strlen(rest) >= sizeof(c->rpath))
			goto bad;
		util_strlcpy(c->rpath, rest, sizeof(c->rpath));
		if (q != NULL && strncmp(q, "db=", 3) == 0)
			c->rdb = atoi(q + 3);
		return 0;
	}
	slash = strchr(rest, '/');
	if (slash != NULL) {
		*slash++ = '\0';
		if (*slash != '\0') {
			char *end;
			long db = strtol(slash, &end, 10);

			if (*end != '\0' || db < 0 || db > 65535)
				goto bad;
			c->rdb = (int)db;
		}
	}
	c->rport = 6379;
	if (rest[0] == '[') {
		char *e = strchr(rest, ']');

		if (e == NULL)
			goto bad;
		*e = '\0';
		util_strlcpy(c->rhost, rest + 1, sizeof(c->rhost));
		if (e[1] == ':')
			c->rport = atoi(e + 2);
	} else {
		char *colon = strchr(rest, ':');

		if (colon != NULL) {
			*colon = '\0';
			c->rport = atoi(colon + 1);
		}
		util_strlcpy(c->rhost, rest, sizeof(c->rhost));
	}
	if (c->rhost[0] == '\0' || c->rport <= 0 || c->rport > 65535)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "--redis: cannot parse the URL (expected redis://[user:password@]"
		 "host:port/db)");
	return -1;
}

static bool cmd_allowed(int argc, const char **argv, const size_t *lens)
{
	size_t i;

	if (argc < 1)
		return false;
	for (i = 0; allowed_cmds[i] != NULL; i++)
		if (lens[0] == strlen(allowed_cmds[i]) &&
		    strncasecmp(argv[0], allowed_cmds[i], lens[0]) == 0)
			break;
	if (allowed_cmds[i] == NULL)
		return false;
	/* the one write: acknowledgements, to their own hash */
	if (strcasecmp(allowed_cmds[i], "HSET") == 0)
		return argc == 4 && lens[1] == strlen(g_conf.k_acks) &&
		       memcmp(argv[1], g_conf.k_acks, lens[1]) == 0;
	return true;
}

/* Queues a command; -1 (nothing sent) for one outside the allow-list. */
static int r_append(redisContext *c, int argc, const char **argv, const size_t *lens)
{
	if (!cmd_allowed(argc, argv, lens)) {
		logf_("refusing to send a command outside the allow-list (%.*s)", (int)lens[0],
		      argv[0]);
		return -1;
	}
	return redisAppendCommandArgv(c, argc, argv, lens) == REDIS_OK ? 0 : -1;
}

/* Reply of one command, NULL when the connection broke (the caller drops it). */
static redisReply *r_cmd(redisContext *c, int argc, const char **argv)
{
	size_t lens[16];
	void *rep = NULL;
	int i;

	if (argc > 16)
		return NULL;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (r_append(c, argc, argv, lens) != 0)
		return NULL;
	if (redisGetReply(c, &rep) != REDIS_OK)
		return NULL;
	return rep;
}

static redisContext *r_connect(int cmd_ms, char *err, size_t errlen)
{
	struct timeval tv = { REDIS_CONNECT_MS / 1000, (REDIS_CONNECT_MS % 1000) * 1000 };
	struct timeval ctv = { cmd_ms / 1000, (cmd_ms % 1000) * 1000 };
	redisContext *c;
	redisReply *rep;
	char db[16];

	c = g_conf.unix_sock ? redisConnectUnixWithTimeout(g_conf.rpath, tv)
			     : redisConnectWithTimeout(g_conf.rhost, g_conf.rport, tv);
	if (c == NULL || c->err) {
		snprintf(err, errlen, "%s", c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, ctv);
	if (g_conf.rpass[0] != '\0') {
		const char *a3[3] = { "AUTH", g_conf.ruser, g_conf.rpass };
		const char *a2[2] = { "AUTH", g_conf.rpass };

		rep = g_conf.ruser[0] ? r_cmd(c, 3, a3) : r_cmd(c, 2, a2);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "AUTH: %s", rep != NULL ? rep->str : c->errstr);
			goto fail;
		}
		freeReplyObject(rep);
	}
	if (g_conf.rdb != 0) {
		const char *a[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", g_conf.rdb);
		rep = r_cmd(c, 2, a);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "SELECT: %s", rep != NULL ? rep->str : c->errstr);
			goto fail;
		}
		freeReplyObject(rep);
	}
	return c;
fail:
	if (rep != NULL)
		freeReplyObject(rep);
	redisFree(c);
	return NULL;
}

/* The pool: API requests borrow a connection; a broken one is dropped. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	redisContext *idle[POOL_MAX];
	size_t nidle, out;
	double fail_until;
} g_pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { NULL }, 0, 0, 0 };

static redisContext *pool_get(void)
{
	struct timespec ts;
	redisContext *c = NULL;
	char err[ERR_MAX];

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += POOL_WAIT_S;
	pthread_mutex_lock(&g_pool.mu);
	while (g_pool.nidle == 0 && g_pool.out >= POOL_MAX)
		if (pthread_cond_timedwait(&g_pool.cv, &g_pool.mu, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&g_pool.mu);
			return NULL;
		}
	g_pool.out++;
	if (g_pool.nidle > 0) {
		c = g_pool.idle[--g_pool.nidle];
		pthread_mutex_unlock(&g_pool.mu);
		return c;
	}
	if (mono_s() < g_pool.fail_until) {
		g_pool.out--;
		pthread_cond_signal(&g_pool.cv);
		pthread_mutex_unlock(&g_pool.mu);
		return NULL;
	}
	pthread_mutex_unlock(&g_pool.mu);
	c = r_connect(REDIS_CMD_MS, err, sizeof(err));
	pthread_mutex_lock(&g_pool.mu);
	if (c == NULL) {
		g_pool.fail_until = mono_s() + POOL_RETRY_S;
		g_pool.out--;
		pthread_cond_signal(&g_pool.cv);
	}
	pthread_mutex_unlock(&g_pool.mu);
	return c;
}

static void pool_put(redisContext *c, bool broken)
{
	pthread_mutex_lock(&g_pool.mu);
	g_pool.out--;
	if (c != NULL && (broken || c->err)) {
		redisFree(c);
		c = NULL;
	}
	if (c != NULL && g_pool.nidle < POOL_MAX)
		g_pool.idle[g_pool.nidle++] = c;
	else if (c != NULL)
		redisFree(c);
	pthread_cond_signal(&g_pool.cv);
	pthread_mutex_unlock(&g_pool.mu);
}

static void pool_fini(void)
{
	pthread_mutex_lock(&g_pool.mu);
	while (g_pool.nidle > 0)
		redisFree(g_pool.idle[--g_pool.nidle]);
	pthread_mutex_unlock(&g_pool.mu);
}

/* Field value of a stream entry's field array, or NULL. */
static const redisReply *entry_field(const redisReply *fields, const char *name)
{
	size_t i;

	if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];

		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    k->len == strlen(name) && memcmp(k->str, name, k->len) == 0)
			return v;
	}
	return NULL;
}

/* An entry of an XRANGE/XREAD reply: [id, [field, value, ...]]. */
static bool entry_ok(const redisReply *e, struct dash_sid *sid)
{
	return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
	       e->element[0]->type == REDIS_REPLY_STRING && e->element[0]->len < DASH_SID_STRLEN &&
	       dash_sid_parse(e->element[0]->str, sid) == 0;
}

/* Fetches the alert JSON of n entries of stream, one pipelined round trip; out[i] is
 * NULL for an entry trimmed meanwhile. Returns -1 when the connection broke. */
static int fetch_entries_raw(redisContext *c, const char *stream, const struct dash_sid *sids,
			     size_t n, json_t **out, char **raw, size_t *rawlen);

static int fetch_entries(redisContext *c, const char *stream, const struct dash_sid *sids,
			 size_t n, json_t **out)
{
	return fetch_entries_raw(c, stream, sids, n, out, NULL, NULL);
}

/* As fetch_entries; raw[i] (when raw is given) is the alert's text when it can be
 * spliced into a response as is (caller frees), else NULL. */
static int fetch_entries_raw(redisContext *c, const char *stream, const struct dash_sid *sids,
			     size_t n, json_t **out, char **raw, size_t *rawlen)
{
	size_t i, lens[3];
	int rc = 0;

	for (i = 0; i < n; i++) {
		char id[DASH_SID_STRLEN];
		const char *argv[3] = { "XRANGE", stream, id };

		out[i] = NULL;
		if (raw != NULL)
			raw[i] = NULL;
		dash_sid_fmt(sids[i], id);
		lens[0] = 6;
		lens[1] = strlen(stream);
		lens[2] = strlen(id);
		/* "XRANGE s id id": argv[2] twice */
		{
			const char *a4[4] = { argv[0], argv[1], id, id };
			size_t l4[4] = { lens[0], lens[1], lens[2], lens[2] };

			if (r_append(c, 4, a4, l4) != 0)
				return -1;
		}
	}
	for (i = 0; i < n; i++) {
		void *v = NULL;
		redisReply *rep;
		const redisReply *js;

		if (redisGetReply(c, &v) != REDIS_OK) {
			rc = -1;
			break;
		}
		rep = v;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1) {
			struct dash_sid s;

			if (entry_ok(rep->element[0], &s)) {
				js = entry_field(rep->element[0]->element[1], "json");
				out[i] = dash_parse_alert_text(js != NULL ? js->str : "",
							       js != NULL ? js->len : 0,
							       raw != NULL ? &raw[i] : NULL,
							       raw != NULL ? &rawlen[i] : NULL);
			}
		}
		freeReplyObject(rep);
	}
	if (rc != 0)
		for (i = 0; i < n; i++) {
			json_decref(out[i]);
			out[i] = NULL;
			if (raw != NULL) {
				free(raw[i]);
				raw[i] = NULL;
			}
		}
	return rc;
}

/* ---------------------------------------------------------------- text buffers */

struct sbuf {
	char *p;
	size_t len, cap;
	bool err;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		char *np;

		while (nc < b->len + n + 1)
			nc *= 2;
		np = realloc(b->p, nc);
		if (np == NULL) {
			b->err = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->err = true;
		return;
	}
	sb_put(b, tmp, (size_t)n);
}

/* ---------------------------------------------------------------- live feed (SSE) */

struct sse_client {
	char *msgs[SSE_QUEUE_MAX];
	size_t head, n;
	struct dash_filter f;
	char *cur;               /* the message being written, and how far */
	size_t cur_len, cur_off;
	double next_keepalive;
	int slot;
	int fd;                  /* the connection's socket, to notice the client left */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sse_client *c[SSE_MAX_CLIENTS];
	size_t n;
	uint64_t resyncs;         /* backlogs dropped and replays cut: "resync" sent */
} g_hub = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { NULL }, 0, 0 };

static char *sse_format(const char *event, const char *id, json_t *data)
{
	char *d = json_dumps(data, JSON_COMPACT);
	char *m = NULL;
	size_t n;

	if (d == NULL)
		return NULL;
	n = strlen(event) + (id != NULL ? strlen(id) : 0) + strlen(d) + 32;
	m = malloc(n);
	if (m != NULL) {
		if (id != NULL)
			snprintf(m, n, "event: %s\nid: %s\ndata: %s\n\n", event, id, d);
		else
			snprintf(m, n, "event: %s\ndata: %s\n\n", event, d);
	}
	free(d);
	return m;
}

/* "event: resync": the client missed alerts (its backlog was dropped, or a resume
 * had more to replay than SSE_RESUME_MAX) and reloads its list, which then holds
 * every alert up to sid, the newest indexed when the event was made. */
static char *sse_resync(struct dash_sid newest)
{
	char id[DASH_SID_STRLEN], *m = malloc(DASH_SID_STRLEN + 40);

	if (m != NULL)
		snprintf(m, DASH_SID_STRLEN + 40, "event: resync\ndata: {\"sid\":\"%s\"}\n\n",
			 dash_sid_fmt(newest, id));
	return m;
}

/* Queues msg (copied) on every client whose filter passes (e NULL: all). */
static void hub_push(const char *msg, const struct dash_ent *e, const char *blob,
		     const char *type, const char *sensor)
{
	struct dash_sid newest;
	size_t i;

	/* the alerts up to here are indexed (the reader adds before it pushes) */
	pthread_rwlock_rdlock(&g_ix.lock);
	newest = g_ix.last;
	pthread_rwlock_unlock(&g_ix.lock);
	pthread_mutex_lock(&g_hub.mu);
	for (i = 0; i < SSE_MAX_CLIENTS; i++) {
		struct sse_client *c = g_hub.c[i];
		char *m;

		if (c == NULL)
			continue;
		if (e != NULL && !dash_filter_match(&c->f, e, blob, type, sensor))
			continue;
		if (c->n == SSE_QUEUE_MAX) {
			/* A client this far behind (a flood, or it stopped reading) loses
			 * its backlog for one "resync" that makes it reload its list, which
			 * has all of it: never a silent gap, and memory stays bounded. The
			 * message being pushed is newer than newest only if it is not an
			 * alert, and incidents and acks are reloaded on resync too. */
			size_t k;
			char *r = sse_resync(newest);

			for (k = 0; k < c->n; k++)
				free(c->msgs[(c->head + k) % SSE_QUEUE_MAX]);
			c->head = c->n = 0;
			g_hub.resyncs++;
			if (r != NULL)
				c->msgs[c->n++] = r;
			if (e != NULL)
				continue; /* an alert the reload shows */
		}
		m = strdup(msg);
		if (m == NULL)
			continue;
		c->msgs[(c->head + c->n) % SSE_QUEUE_MAX] = m;
		c->n++;
	}
	pthread_cond_broadcast(&g_hub.cv);
	pthread_mutex_unlock(&g_hub.mu);
}

static void sse_client_free(struct sse_client *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->msgs[(c->head + i) % SSE_QUEUE_MAX]);
	free(c->cur);
	free(c);
}

/* ---------------------------------------------------------------- the reader */

static void ack_apply(const char *eid, size_t eid_len, const char *json, size_t json_len,
		      bool only_changed)
{
	json_error_t jerr;
	json_t *j;
	const char *st;
	char *e, *txt;
	int status;

	if (eid_len == 0 || eid_len >= DASH_EID_MAX)
		return;
	j = json_loadb(json, json_len, 0, &jerr);
	st = json_is_string(json_object_get(j, "status")) ?
		     json_string_value(json_object_get(j, "status")) : "";
	status = dash_status_parse(st);
	if (status < 0) {
		json_decref(j);
		return;
	}
	e = strndup(eid, eid_len);
	txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (e == NULL || txt == NULL)
		goto out;
	if (only_changed) {
		const struct dash_ack *a;
		bool same;

		pthread_rwlock_rdlock(&g_ix.lock);
		a = dash_index_ack_locked(&g_ix, e);
		same = a != NULL && a->json != NULL && strcmp(a->json, txt) == 0;
		pthread_rwlock_unlock(&g_ix.lock);
		if (same)
			goto out;
	}
	if (dash_index_set_ack(&g_ix, e, status, txt) == 0 && only_changed) {
		json_t *ev = json_object();

		/* made through another dashboard: tell our clients too */
		if (ev != NULL) {
			char *m;

			struct dash_sid isid;

			json_object_set_new(ev, "event_id", json_string(e));
			json_object_set_new(ev, "ack", json_loads(txt, 0, NULL));
			json_object_set_new(ev, "incident",
					    json_boolean(dash_index_find_incident(&g_ix, e, &isid) == 0));
			m = sse_format("ack", NULL, ev);
			if (m != NULL)
				hub_push(m, NULL, NULL, NULL, NULL);
			free(m);
			json_decref(ev);
		}
	}
out:
	free(e);
	free(txt);
}

static int load_acks(redisContext *c, bool only_changed)
{
	const char *argv[2] = { "HGETALL", g_conf.k_acks };
	redisReply *rep = r_cmd(c, 2, argv);
	size_t i;

	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < rep->elements; i += 2) {
			const redisReply *k = rep->element[i], *v = rep->element[i + 1];

			if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
				ack_apply(k->str, k->len, v->str, v->len, only_changed);
		}
	freeReplyObject(rep);
	return 0;
}

/* One entry of the alerts (incident false) or incidents stream; live: feed SSE. */
static void take_entry(const redisReply *e, bool incident, bool live, struct dash_sid *last)
{
	const redisReply *f, *js, *ty, *sv, *sn;
	struct dash_sid sid;
	char id[DASH_SID_STRLEN];

	if (!entry_ok(e, &sid)) {
		g_ix.skipped++;
		return;
	}
	if (dash_sid_cmp(sid, *last) > 0)
		*last = sid;
	f = e->element[1];
	js = entry_field(f, "json");
	dash_sid_fmt(sid, id);
	if (incident) {
		dash_index_incident(&g_ix, sid, js != NULL ? js->str : NULL, js != NULL ? js->len : 0);
	} else {
		struct dash_ent ent;
		char type[128], sensor[128];
		static char blob[DASH_BLOB_MAX]; /* the reader thread's alone */

		ty = entry_field(f, "type");
		sv = entry_field(f, "severity");
		sn = entry_field(f, "sensor");
		if (dash_index_add(&g_ix, sid, ty != NULL ? ty->str : NULL, sv != NULL ? sv->str : NULL,
				   sn != NULL ? sn->str : NULL, js != NULL ? js->str : NULL,
				   js != NULL ? js->len : 0, &ent, blob, type, sizeof(type), sensor,
				   sizeof(sensor)) != 1 || !live)
			return;
		{
			json_t *d = json_object();
			char *m;

			if (d == NULL)
				return;
			json_object_set_new(d, "sid", json_string(id));
			json_object_set_new(d, "alert",
					    dash_parse_alert(js != NULL ? js->str : "", js != NULL ? js->len : 0));
			m = sse_format("alert", id, d);
			json_decref(d);
			if (m != NULL)
				hub_push(m, &ent, blob, type, sensor);
			free(m);
		}
		return;
	}
	if (live) {
		json_t *d = json_object();
		char *m;

		if (d == NULL)
			return;
		json_object_set_new(d, "sid", json_string(id));
		json_object_set_new(d, "alert",
				    dash_parse_alert(js != NULL ? js->str : "", js != NULL ? js->len : 0));
		m = sse_format("incident", id, d);
		json_decref(d);
		if (m != NULL)
			hub_push(m, NULL, NULL, NULL, NULL);
		free(m);
	}
}

/* XRANGE the whole stream in chunks from after *last. */
static int fill(redisContext *c, const char *stream, bool incident, struct dash_sid *last)
{
	for (;;) {
		char start[DASH_SID_STRLEN + 1], count[16];
		const char *argv[6] = { "XRANGE", stream, start, "+", "COUNT", count };
		redisReply *rep;
		size_t i, n;

		if (last->ms == 0 && last->seq == 0) {
			util_strlcpy(start, "-", sizeof(start));
		} else {
			start[0] = '('; /* exclusive (Redis >= 6.2) */
			dash_sid_fmt(*last, start + 1);
		}
		snprintf(count, sizeof(count), "%d", FILL_CHUNK);
		rep = r_cmd(c, 6, argv);
		if (rep == NULL)
			return -1;
		if (rep->type != REDIS_REPLY_ARRAY) {
			/* the key has another type: nothing to index */
			freeReplyObject(rep);
			return 0;
		}
		n = rep->elements;
		for (i = 0; i < n; i++)
			take_entry(rep->element[i], incident, false, last);
		freeReplyObject(rep);
		if (n < FILL_CHUNK || g_stop)
			return 0;
	}
}

/* The stream's oldest entry; the index forgets what is older (trimmed). */
static int prune(redisContext *c)
{
	const char *argv[6] = { "XRANGE", g_conf.k_alerts, "-", "+", "COUNT", "1" };
	redisReply *rep = r_cmd(c, 6, argv);
	struct dash_sid first;

	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 && entry_ok(rep->element[0], &first)) {
		dash_index_prune(&g_ix, first);
	} else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 0) {
		first.ms = first.seq = UINT64_MAX; /* empty or deleted: nothing is left */
		dash_index_prune(&g_ix, first);
	}
	freeReplyObject(rep);
	return 0;
}

static int follow(redisContext *c, struct dash_sid *la, struct dash_sid *li)
{
	char a[DASH_SID_STRLEN], i_[DASH_SID_STRLEN], count[16], block[16];
	const char *argv[9] = { "XREAD", "COUNT", count, "BLOCK", block, "STREAMS",
				g_conf.k_alerts, g_conf.k_incidents, NULL };
	const char *argv2[10];
	redisReply *rep;
	size_t s, k;

	snprintf(count, sizeof(count), "%d", XREAD_COUNT);
	snprintf(block, sizeof(block), "%d", XREAD_BLOCK_MS);
	dash_sid_fmt(*la, a);
	dash_sid_fmt(*li, i_);
	memcpy(argv2, argv, 8 * sizeof(argv[0]));
	argv2[8] = a;
	argv2[9] = i_;
	rep = r_cmd(c, 10, argv2);
	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* e.g. WRONGTYPE: not a connection problem, but do not spin */
		freeReplyObject(rep);
		return -1;
	}
	if (rep->type == REDIS_REPLY_ARRAY)
		for (s = 0; s < rep->elements; s++) {
			const redisReply *st = rep->element[s];
			bool inc;

			if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
			    st->element[0]->type != REDIS_REPLY_STRING ||
			    st->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			inc = strcmp(st->element[0]->str, g_conf.k_incidents) == 0;
			for (k = 0; k < st->element[1]->elements; k++)
				take_entry(st->element[1]->element[k], inc, true, inc ? li : la);
		}
	freeReplyObject(rep);
	return 0;
}

static void nap(double s)
{
	double end = mono_s() + s;

	while (!g_stop && mono_s() < end)
		usleep(50 * 1000);
}

static void *reader_main(void *arg)
{
	struct dash_sid la = { 0, 0 }, li = { 0, 0 };
	redisContext *c = NULL;
	double backoff = 0, next_acks = 0;
	bool filled = false, said_down = false;
	char err[ERR_MAX];

	(void)arg;
	while (!g_stop) {
		if (c == NULL) {
			c = r_connect(XREAD_BLOCK_MS + REDIS_CMD_MS, err, sizeof(err));
			if (c == NULL) {
				g_redis_up = 0;
				if (!said_down)
					logf_("Redis at %s unavailable: %s; retrying with backoff",
					      g_conf.unix_sock ? g_conf.rpath : g_conf.rhost, err);
				said_down = true;
				backoff = backoff == 0 ? BACKOFF_MIN_S : fmin(backoff * 2, BACKOFF_MAX_S);
				nap(backoff);
				continue;
			}
			if (said_down)
				logf_("Redis is back");
			said_down = false;
			backoff = 0;
			g_redis_up = 1;
		}
		if (!filled) {
			/* acks first: the fill then gives each alert its status */
			if (load_acks(c, false) != 0 || fill(c, g_conf.k_alerts, false, &la) != 0 ||
			    fill(c, g_conf.k_incidents, true, &li) != 0)
				goto broken;
			filled = true;
			g_ready = 1;
			next_acks = mono_s() + ACK_RESYNC_S;
			logf_("indexed %zu alerts", g_ix.n);
		}
		if (g_prune_now) {
			g_prune_now = 0;
			if (prune(c) != 0)
				goto broken;
		}
		if (mono_s() >= next_acks) {
			if (load_acks(c, true) != 0 || prune(c) != 0)
				goto broken;
			next_acks = mono_s() + ACK_RESYNC_S;
		}
		if (follow(c, &la, &li) == 0)
			continue;
broken:
		redisFree(c);
		c = NULL;
		g_redis_up = 0;
		if (!said_down)
			logf_("lost Redis; reconnecting with backoff");
		said_down = true;
		backoff = backoff == 0 ? BACKOFF_MIN_S : fmin(backoff * 2, BACKOFF_MAX_S);
		nap(backoff);
	}
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/* ---------------------------------------------------------------- sessions */

struct session {
	char id[SESS_ID_BYTES * 2 + 1];
	char user[USER_MAX];
	double expires;           /* monotonic */
};

static struct {
	pthread_mutex_t mu;
	struct session s[SESS_MAX];
} g_sess = { PTHREAD_MUTEX_INITIALIZER, { { "", "", 0 } } };

static int session_new(const char *user, char out[SESS_ID_BYTES * 2 + 1])
{
	unsigned char rnd[SESS_ID_BYTES];
	size_t i, slot = 0;
	double now = mono_s();

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	for (i = 0; i < SESS_ID_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_lock(&g_sess.mu);
	/* a free or expired slot, else the one closest to expiry */
	for (i = 0; i < SESS_MAX; i++) {
		if (g_sess.s[i].id[0] == '\0' || g_sess.s[i].expires < now) {
			slot = i;
			break;
		}
		if (g_sess.s[i].expires < g_sess.s[slot].expires)
			slot = i;
	}
	util_strlcpy(g_sess.s[slot].id, out, sizeof(g_sess.s[slot].id));
	util_strlcpy(g_sess.s[slot].user, user, sizeof(g_sess.s[slot].user));
	g_sess.s[slot].expires = now + SESS_TTL_S;
	pthread_mutex_unlock(&g_sess.mu);
	return 0;
}

/* Finds (and with drop, removes) a session; copies its user. */
static bool session_find(const char *id, bool drop, char *user, size_t cap)
{
	double now = mono_s();
	bool found = false;
	size_t i;

	if (strlen(id) != SESS_ID_BYTES * 2)
		return false;
	pthread_mutex_lock(&g_sess.mu);
	for (i = 0; i < SESS_MAX; i++) {
		struct session *s = &g_sess.s[i];

		/* every slot compared: the time does not say which one matched */
		if (s->id[0] != '\0' && s->expires >= now && ct_eq(id, s->id) && !found) {
			found = true;
			if (user != NULL)
				util_strlcpy(user, s->user, cap);
			if (drop)
				memset(s, 0, sizeof(*s));
		}
	}
	pthread_mutex_unlock(&g_sess.mu);
	return found;
}

/* ---------------------------------------------------------------- HTTP plumbing */

struct req {
	char *body;
	size_t len;
	bool too_big;
};

static void add_headers(struct MHD_Response *r, const char *ctype)
{
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; object-src 'none'; "
				"frame-ancestors 'none'");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

/* Takes body (malloc'd). */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
			     char *body, size_t len, const char *hk, const char *hv)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	add_headers(r, ctype);
	if (hk != NULL)
		MHD_add_response_header(r, hk, hv);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Takes j. */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (s == NULL)
		return reply(conn, 500, "application/json", strdup("{\"error\":\"out of memory\"}"),
			     25, NULL, NULL);
	return reply(conn, status, "application/json", s, strlen(s), NULL, NULL);
}

static enum MHD_Result reply_err(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	json_t *j = json_object();

	if (j != NULL)
		json_object_set_new(j, "error", json_string(msg));
	return reply_json(conn, status, j);
}

static enum MHD_Result reply_empty(struct MHD_Connection *conn, unsigned status, const char *hk,
				   const char *hv)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	add_headers(r, "application/json");
	if (hk != NULL)
		MHD_add_response_header(r, hk, hv);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

/* Who is asking: copies the user name into user, false when not authenticated. */
static bool authenticated(struct MHD_Connection *c, char *user, size_t cap)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *cookie;

	if (g_conf.no_auth) {
		util_strlcpy(user, "anonymous", cap);
		return true;
	}
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		if (g_conf.token[0] != '\0' && ct_eq(h + 7, g_conf.token)) {
			util_strlcpy(user, "token", cap);
			return true;
		}
		return false;
	}
	if (h != NULL && strncasecmp(h, "Basic ", 6) == 0) {
		char *pass = NULL, *u = MHD_basic_auth_get_username_password(c, &pass);
		bool ok = u != NULL && pass != NULL && g_conf.basic_password[0] != '\0' &&
			  ct_eq(u, g_conf.basic_user) & ct_eq(pass, g_conf.basic_password);

		if (ok)
			util_strlcpy(user, u, cap);
		if (pass != NULL) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		if (u != NULL)
			MHD_free(u);
		return ok;
	}
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "onpath_session");
	return cookie != NULL && session_find(cookie, false, user, cap);
}

/* ---------------------------------------------------------------- filters from args */

struct argctx {
	struct dash_filter *f;
	char err[128];
	bool bad;
};

static enum MHD_Result filter_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct argctx *a = cls;

	(void)kind;
	if (a->bad || key == NULL)
		return MHD_YES;
	if (dash_filter_set(a->f, key, value != NULL ? value : "", a->err, sizeof(a->err)) < 0)
		a->bad = true;
	return MHD_YES;
}

static int get_filter(struct MHD_Connection *c, struct dash_filter *f, char *err, size_t errlen)
{
	struct argctx a = { f, "", false };

	dash_filter_init(f);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, filter_arg, &a);
	if (a.bad) {
		util_strlcpy(err, a.err, errlen);
		return -1;
	}
	return 0;
}

static int get_uint_arg(struct MHD_Connection *c, const char *k, long min, long max, long def,
			long *v)
{
	const char *s = arg(c, k);
	char *end;
	long x;

	if (s == NULL) {
		*v = def;
		return 0;
	}
	errno = 0;
	x = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

/* The ack object of an alert (by its event.id), or JSON null. */
static json_t *ack_of(json_t *alert)
{
	json_t *ev = json_object_get(alert, "event");
	const char *eid = json_is_string(json_object_get(ev, "id")) ?
				  json_string_value(json_object_get(ev, "id")) : NULL;
	const struct dash_ack *a;
	json_t *r = NULL;

	if (eid == NULL)
		return json_null();
	pthread_rwlock_rdlock(&g_ix.lock);
	a = dash_index_ack_locked(&g_ix, eid);
	if (a != NULL && a->json != NULL)
		r = json_loads(a->json, 0, NULL);
	pthread_rwlock_unlock(&g_ix.lock);
	return r != NULL ? r : json_null();
}

static const char *event_id(json_t *alert)
{
	json_t *v = json_object_get(json_object_get(alert, "event"), "id");

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---------------------------------------------------------------- /api/alerts */

struct page {
	struct dash_sid *sids;
	uint64_t *jh, *eh;        /* each entry's json_hash and eid_hash */
	size_t n, limit;
	bool more;
};

/* Fills the page; past it, the scan goes on only to count total_matching, and only
 * while TOTAL_BUDGET_S lasts (then the total is null): the page itself is never cut. */
static int page_cb(const struct dash_index *ix, const struct dash_ent *e, void *ud)
{
	struct page *p = ud;

	(void)ix;
	if (p->n < p->limit) {
		p->jh[p->n] = e->json_hash;
		p->eh[p->n] = e->eid_hash;
		p->sids[p->n++] = e->sid;
		return 0;
	}
	p->more = true;
	return 2;
}

/* The ack of an alert as JSON text ("null" when none) appended to b. */
static void ack_text(struct sbuf *b, json_t *alert)
{
	const char *eid = event_id(alert);
	const struct dash_ack *a;
	bool done = false;

	if (eid != NULL) {
		pthread_rwlock_rdlock(&g_ix.lock);
		a = dash_index_ack_locked(&g_ix, eid);
		/* our own compact dump (HSET here or re-dumped when read): valid JSON */
		if (a != NULL && a->json != NULL) {
			sb_put(b, a->json, strlen(a->json));
			done = true;
		}
		pthread_rwlock_unlock(&g_ix.lock);
	}
	if (!done)
		sb_put(b, "null", 4);
}

/* XRANGE <stream> id id for each sid, pipelined: one round trip. reps[i] is the
 * reply (caller frees). -1 when the connection broke (nothing to free). */
static int fetch_replies(redisContext *c, const char *stream, const struct dash_sid *sids,
			 size_t n, redisReply **reps)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char id[DASH_SID_STRLEN];
		const char *a4[4] = { "XRANGE", stream, id, id };
		size_t l4[4];

		reps[i] = NULL;
		dash_sid_fmt(sids[i], id);
		l4[0] = 6;
		l4[1] = strlen(stream);
		l4[2] = l4[3] = strlen(id);
		if (r_append(c, 4, a4, l4) != 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		void *v = NULL;

		if (redisGetReply(c, &v) != REDIS_OK) {
			while (i > 0)
				freeReplyObject(reps[--i]);
			return -1;
		}
		reps[i] = v;
	}
	return 0;
}

/* The page's items as a JSON array appended to b. An alert indexed as clean JSON
 * (jh[i]) whose fetched text still has that hash is spliced in as is, and its ack
 * found by eh[i]: parsing and re-serialising 100 alerts is most of a page's cost.
 * Any other text goes through jansson (repaired, escaped). jh/eh may be NULL. -1
 * when Redis failed (*broken). */
static int items_text(redisContext *rc, const char *stream, const struct dash_sid *sids,
		      const uint64_t *jh, const uint64_t *eh, size_t n, const char *key,
		      struct sbuf *b, bool *broken)
{
	redisReply **reps = calloc(n ? n : 1, sizeof(*reps));
	size_t i;
	bool first = true;

	*broken = false;
	if (reps == NULL) {
		b->err = true;
		return -1;
	}
	if (n > 0 && fetch_replies(rc, stream, sids, n, reps) != 0) {
		*broken = true;
		free(reps);
		return -1;
	}
	sb_put(b, "[", 1);
	for (i = 0; i < n; i++) {
		char id[DASH_SID_STRLEN];
		const redisReply *js;
		struct dash_sid s;
		json_t *a;

		if (reps[i]->type != REDIS_REPLY_ARRAY || reps[i]->elements != 1 ||
		    !entry_ok(reps[i]->element[0], &s)) {
			g_prune_now = 1; /* trimmed since the index saw it */
			continue;
		}
		js = entry_field(reps[i]->element[0]->element[1], "json");
		sb_printf(b, "%s{\"sid\":\"%s\",\"ack\":", first ? "" : ",", dash_sid_fmt(sids[i], id));
		first = false;
		if (js != NULL && jh != NULL && jh[i] != 0 &&
		    dash_json_hash(&g_ix, js->str, js->len) == jh[i]) {
			const struct dash_ack *ak;

			pthread_rwlock_rdlock(&g_ix.lock);
			ak = dash_index_ack_by_hash_locked(&g_ix, eh[i]);
			if (ak != NULL && ak->json != NULL)
				sb_put(b, ak->json, strlen(ak->json));
			else
				sb_put(b, "null", 4);
			pthread_rwlock_unlock(&g_ix.lock);
			sb_printf(b, ",\"%s\":", key);
			sb_put(b, js->str, js->len);
		} else {
			char *clean = NULL, *d = NULL;
			size_t clean_len = 0;

			a = dash_parse_alert_text(js != NULL ? js->str : "", js != NULL ? js->len : 0,
						  &clean, &clean_len);
			ack_text(b, a);
			sb_printf(b, ",\"%s\":", key);
			if (clean != NULL)
				sb_put(b, clean, clean_len);
			else if (a != NULL && (d = json_dumps(a, JSON_COMPACT)) != NULL)
				sb_put(b, d, strlen(d));
			else
				sb_put(b, "null", 4);
			free(clean);
			free(d);
			json_decref(a);
		}
		sb_put(b, "}", 1);
	}
	sb_put(b, "]", 1);
	for (i = 0; i < n; i++)
		freeReplyObject(reps[i]);
	free(reps);
	return b->err ? -1 : 0;
}

static json_t *items_json(redisContext *rc, const char *stream, const struct dash_sid *sids,
			  size_t n, const char *key, bool *broken)
{
	json_t **alerts = calloc(n ? n : 1, sizeof(*alerts));
	json_t *arr = json_array();
	size_t i;

	*broken = false;
	if (alerts == NULL || arr == NULL)
		goto fail;
	if (n > 0 && fetch_entries(rc, stream, sids, n, alerts) != 0) {
		*broken = true;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		char id[DASH_SID_STRLEN];
		json_t *it;

		if (alerts[i] == NULL)
			continue; /* trimmed since the index saw it */
		it = json_object();
		if (it == NULL)
			continue;
		json_object_set_new(it, "sid", json_string(dash_sid_fmt(sids[i], id)));
		json_object_set_new(it, "ack", ack_of(alerts[i]));
		json_object_set_new(it, key, alerts[i]);
		alerts[i] = NULL;
		json_array_append_new(arr, it);
	}
	free(alerts);
	return arr;
fail:
	if (alerts != NULL)
		for (i = 0; i < n; i++)
			json_decref(alerts[i]);
	free(alerts);
	json_decref(arr);
	return NULL;
}

static enum MHD_Result api_alerts(struct MHD_Connection *c)
{
	struct dash_sid sids[PAGE_MAX];
	uint64_t jh[PAGE_MAX], eh[PAGE_MAX];
	struct dash_filter f;
	struct page p;
	char err[128], id[DASH_SID_STRLEN];
	double t0 = mono_s();
	struct sbuf b = { NULL, 0, 0, false };
	redisContext *rc;
	size_t total;
	bool broken, cut;
	long limit;

	if (get_filter(c, &f, err, sizeof(err)) != 0)
		return reply_err(c, 400, err);
	if (get_uint_arg(c, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0)
		return reply_err(c, 400, "bad value for parameter 'limit'");
	p.sids = sids;
	p.jh = jh;
	p.eh = eh;
	p.n = 0;
	p.limit = (size_t)limit;
	p.more = false;
	total = dash_index_scan_until(&g_ix, &f, page_cb, &p, t0 + TOTAL_BUDGET_S, &cut);
	rc = pool_get();
	if (rc == NULL)
		return reply_err(c, 503, "Redis is unavailable");
	sb_put(&b, "{\"alerts\":", 10);
	items_text(rc, g_conf.k_alerts, p.sids, p.jh, p.eh, p.n, "alert", &b, &broken);
	pool_put(rc, broken);
	if (broken) {
		free(b.p);
		return reply_err(c, 503, "Redis is unavailable");
	}
	if (p.more)
		sb_printf(&b, ",\"next_before\":\"%s\"", dash_sid_fmt(p.sids[p.n - 1], id));
	else
		sb_put(&b, ",\"next_before\":null", 19);
	if (cut)
		sb_put(&b, ",\"total_matching\":null", 22);
	else
		sb_printf(&b, ",\"total_matching\":%zu", total);
	sb_printf(&b, ",\"took_ms\":%.2f}", (mono_s() - t0) * 1e3);
	if (b.err) {
		free(b.p);
		return reply_err(c, 500, "out of memory");
	}
	return reply(c, 200, "application/json", b.p, b.len, NULL, NULL);
}

/* Every MAC-looking string in j, with its vendor when known. */
static void collect_vendors(json_t *j, json_t *out, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > DASH_WALK_DEPTH)
		return;
	if (json_is_string(j)) {
		uint8_t m[6];
		char txt[OP_MAC_STRLEN];
		const char *vendor;

		if (util_mac_parse(json_string_value(j), m) != 0)
			return;
		util_mac_fmt(m, txt);
		for (i = 0; txt[i] != '\0'; i++)
			txt[i] = (char)tolower((unsigned char)txt[i]);
		vendor = dash_oui_lookup(&g_oui, txt);
		if (vendor != NULL)
			json_object_set_new(out, txt, json_string(vendor));
		return;
	}
	if (json_is_array(j))
		json_array_foreach(j, i, v)
			collect_vendors(v, out, depth + 1);
	else if (json_is_object(j))
		json_object_foreach(j, k, v)
			collect_vendors(v, out, depth + 1);
}

/* The entry sid of the alerts stream, or (incident) of the incidents stream: never
 * both, as the sensor writes both streams in one pipeline and their ids collide. */
static json_t *fetch_one(redisContext *rc, struct dash_sid sid, bool *broken, bool incident)
{
	json_t *a = NULL;

	*broken = false;
	if (fetch_entries(rc, incident ? g_conf.k_incidents : g_conf.k_alerts, &sid, 1, &a) != 0) {
		*broken = true;
		return NULL;
	}
	return a;
}

/* A path's alert (or incident) reference: a stream id, or an event.id (32 hex, '-',
 * 16 hex: the page opens incident members, and acknowledges incidents, by event.id).
 * *eid_out is set for the latter so the caller can check the fetched entry really has
 * it (the index matches alerts by hash). An incident's event.id gives its latest
 * update. */
static int resolve_ref(const char *ref, struct dash_sid *sid, const char **eid_out,
		       bool incident)
{
	size_t i, n = strlen(ref);

	*eid_out = NULL;
	if (dash_sid_parse(ref, sid) == 0)
		return 0;
	if (n == 0 || n >= DASH_EID_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)ref[i]) && ref[i] != '-')
			return -1;
	if ((incident ? dash_index_find_incident(&g_ix, ref, sid)
		      : dash_index_find_eid(&g_ix, ref, sid)) != 0)
		return -2;
	*eid_out = ref;
	return 0;
}

/* Checks a fetched alert against the event.id it was looked up by. */
static bool eid_matches(json_t *a, const char *eid)
{
	const char *have;

	if (eid == NULL || a == NULL)
		return true;
	have = event_id(a);
	return have != NULL && strcmp(have, eid) == 0;
}

/* GET /api/alerts/<ref> (inc false) or /api/incidents/<ref> (inc true). */
static enum MHD_Result api_alert_detail(struct MHD_Connection *c, const char *sidtxt, bool inc)
{
	struct dash_sid sid;
	redisContext *rc;
	json_t *a, *res, *vendors;
	bool broken;
	const char *none = inc ? "no such incident" : "no such alert";

	const char *eid;
	char id[DASH_SID_STRLEN];
	int r = resolve_ref(sidtxt, &sid, &eid, inc);

	if (r == -1)
		return reply_err(c, 400, "bad stream id or event id");
	if (r == -2)
		return reply_err(c, 404, none);
	rc = pool_get();
	if (rc == NULL)
		return reply_err(c, 503, "Redis is unavailable");
	a = fetch_one(rc, sid, &broken, inc);
	pool_put(rc, broken);
	if (broken)
		return reply_err(c, 503, "Redis is unavailable");
	if (a == NULL || !eid_matches(a, eid)) {
		json_decref(a);
		return reply_err(c, 404, none);
	}
	res = json_object();
	vendors = json_object();
	if (res == NULL || vendors == NULL) {
		json_decref(res);
		json_decref(vendors);
		json_decref(a);
		return reply_err(c, 500, "out of memory");
	}
	collect_vendors(a, vendors, 0);
	json_object_set_new(res, "sid", json_string(dash_sid_fmt(sid, id)));
	json_object_set_new(res, "ack", ack_of(a));
	json_object_set_new(res, "vendors", vendors);
	json_object_set_new(res, inc ? "incident" : "alert", a);
	return reply_json(c, 200, res);
}

/* POST /api/alerts/<ref>/ack (inc false) or /api/incidents/<ref>/ack (inc true): the
 * acknowledgement is stored under the entry's event.id either way; the live feed's
 * "ack" event says which it was. */
static enum MHD_Result api_ack(struct MHD_Connection *c, const char *sidtxt, struct req *rq,
			       const char *user, bool inc)
{
	const char *argv[4];
	size_t lens[4];
	struct dash_sid sid;
	json_error_t jerr;
	json_t *body, *a, *ack, *res, *ev;
	const char *st, *note = "", *eid;
	char *txt, *m;
	redisContext *rc;
	bool broken;
	void *rep = NULL;
	int status;
	const char *none = inc ? "no such incident" : "no such alert";

	const char *ref_eid;
	int r = resolve_ref(sidtxt, &sid, &ref_eid, inc);

	if (r == -1)
		return reply_err(c, 400, "bad stream id or event id");
	if (r == -2)
		return reply_err(c, 404, none);
	body = json_loadb(rq->body != NULL ? rq->body : "", rq->len, 0, &jerr);
	st = json_is_string(json_object_get(body, "status")) ?
		     json_string_value(json_object_get(body, "status")) : "";
	status = dash_status_parse(st);
	if (json_is_string(json_object_get(body, "note")))
		note = json_string_value(json_object_get(body, "note"));
	if (status < 0 || strlen(note) > ACK_NOTE_MAX) {
		json_decref(body);
		return reply_err(c, 400, "expected {\"status\":\"ack\"|\"fp\"|\"open\",\"note\":\"...\"} "
				 "(note up to 1024 bytes)");
	}
	rc = pool_get();
	if (rc == NULL) {
		json_decref(body);
		return reply_err(c, 503, "Redis is unavailable");
	}
	a = fetch_one(rc, sid, &broken, inc);
	eid = a != NULL && eid_matches(a, ref_eid) ? event_id(a) : NULL;
	if (broken || a == NULL || eid == NULL || strlen(eid) >= DASH_EID_MAX) {
		pool_put(rc, broken);
		json_decref(body);
		json_decref(a);
		return broken ? reply_err(c, 503, "Redis is unavailable")
			      : reply_err(c, 404, none);
	}
	ack = json_object();
	json_object_set_new(ack, "status", json_string(dash_status_name(status)));
	json_object_set_new(ack, "note", json_string(note));
	json_object_set_new(ack, "by", json_string(user));
	json_object_set_new(ack, "at", json_integer(now_ms()));
	txt = json_dumps(ack, JSON_COMPACT);
	json_decref(body);
	if (txt == NULL) {
		pool_put(rc, false);
		json_decref(a);
		json_decref(ack);
		return reply_err(c, 500, "out of memory");
	}
	argv[0] = "HSET";
	argv[1] = g_conf.k_acks;
	argv[2] = eid;
	argv[3] = txt;
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	if (r_append(rc, 4, argv, lens) != 0 || redisGetReply(rc, &rep) != REDIS_OK) {
		pool_put(rc, true);
		free(txt);
		json_decref(a);
		json_decref(ack);
		return reply_err(c, 503, "Redis is unavailable");
	}
	if (((redisReply *)rep)->type == REDIS_REPLY_ERROR) {
		logf_("HSET %s refused: %s", g_conf.k_acks, ((redisReply *)rep)->str);
		freeReplyObject(rep);
		pool_put(rc, false);
		free(txt);
		json_decref(a);
		json_decref(ack);
		return reply_err(c, 503, "Redis refused the write");
	}
	freeReplyObject(rep);
	pool_put(rc, false);
	dash_index_set_ack(&g_ix, eid, status, txt);
	free(txt);
	res = json_object();
	json_object_set_new(res, "event_id", json_string(eid));
	json_object_set(res, "ack", ack);
	json_object_set_new(res, "incident", json_boolean(inc));
	ev = json_deep_copy(res);
	m = ev != NULL ? sse_format("ack", NULL, ev) : NULL;
	if (m != NULL)
		hub_push(m, NULL, NULL, NULL, NULL);
	free(m);
	json_decref(ev);
	json_decref(ack);
	json_decref(a);
	return reply_json(c, 200, res);
}

/* ---------------------------------------------------------------- /api/events */

/* A live-feed client sends nothing after its request, so a hang-up shows as
 * POLLRDHUP; without this check a closed client would hold its slot (and thread)
 * until the next keepalive write fails. */
static bool peer_gone(int fd)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *cl = cls;
	ssize_t out = 0;

	(void)pos;
	pthread_mutex_lock(&g_hub.mu);
	while (cl->cur == NULL) {
		struct timespec ts;
		double wait;

		if (g_stop) {
			pthread_mutex_unlock(&g_hub.mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (cl->n > 0) {
			cl->cur = cl->msgs[cl->head];
			cl->cur_len = strlen(cl->cur);
			cl->cur_off = 0;
			cl->head = (cl->head + 1) % SSE_QUEUE_MAX;
			cl->n--;
			break;
		}
		wait = cl->next_keepalive - mono_s();
		if (wait <= 0) {
			cl->cur = strdup(": keepalive\n\n");
			if (cl->cur == NULL) {
				pthread_mutex_unlock(&g_hub.mu);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			cl->cur_len = strlen(cl->cur);
			cl->cur_off = 0;
			break;
		}
		if (peer_gone(cl->fd)) {
			pthread_mutex_unlock(&g_hub.mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(wait > 1 ? 1 : 0);
		ts.tv_nsec += (long)((wait > 1 ? 0 : wait) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g_hub.cv, &g_hub.mu, &ts);
	}
	pthread_mutex_unlock(&g_hub.mu);
	/* only this connection's thread touches cur */
	out = (ssize_t)(cl->cur_len - cl->cur_off < max ? cl->cur_len - cl->cur_off : max);
	memcpy(buf, cl->cur + cl->cur_off, (size_t)out);
	cl->cur_off += (size_t)out;
	if (cl->cur_off == cl->cur_len) {
		free(cl->cur);
		cl->cur = NULL;
		cl->next_keepalive = mono_s() + SSE_KEEPALIVE_S;
	}
	return out;
}

static void sse_done(void *cls)
{
	struct sse_client *cl = cls;

	pthread_mutex_lock(&g_hub.mu);
	if (cl->slot >= 0 && g_hub.c[cl->slot] == cl) {
		g_hub.c[cl->slot] = NULL;
		g_hub.n--;
	}
	pthread_mutex_unlock(&g_hub.mu);
	sse_client_free(cl);
}

struct resume {
	struct dash_sid *sids;
	size_t n;
	struct dash_sid upto;
};

static int resume_cb(const struct dash_index *ix, const struct dash_ent *e, void *ud)
{
	struct resume *r = ud;

	(void)ix;
	if (dash_sid_cmp(e->sid, r->upto) > 0)
		return 0;
	r->sids[r->n++] = e->sid;
	return r->n > SSE_RESUME_MAX; /* one more than replayed: too many */
}

static enum MHD_Result api_events(struct MHD_Connection *c)
{
	const char *since = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	struct sse_client *cl;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char err[128];
	size_t i;

	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return reply_err(c, 500, "out of memory");
	cl->slot = -1;
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		cl->fd = ci != NULL ? ci->connect_fd : -1;
	}
	if (get_filter(c, &cl->f, err, sizeof(err)) != 0) {
		free(cl);
		return reply_err(c, 400, err);
	}
	if (since == NULL)
		since = arg(c, "since");
	/* the live feed has no page: before/after make no sense there */
	cl->f.has_before = cl->f.has_after = false;
	cl->next_keepalive = mono_s() + SSE_KEEPALIVE_S;
	pthread_mutex_lock(&g_hub.mu);
	for (i = 0; i < SSE_MAX_CLIENTS && g_hub.c[i] != NULL; i++)
		;
	if (i == SSE_MAX_CLIENTS) {
		pthread_mutex_unlock(&g_hub.mu);
		free(cl);
		return reply_err(c, 503, "too many live-feed clients");
	}
	g_hub.c[i] = cl;
	g_hub.n++;
	cl->slot = (int)i;
	pthread_mutex_unlock(&g_hub.mu);

	/* Registered first, then the backlog up to what the index holds now: an alert
	 * may come twice (same id), none is missed. More than SSE_RESUME_MAX to replay
	 * (or Redis failing meanwhile) makes a "resync" instead: the client reloads. */
	if (since != NULL && since[0] != '\0') {
		struct dash_filter f = cl->f;
		struct resume rs;
		struct dash_sid *tmp = calloc(SSE_RESUME_MAX + 1, sizeof(*tmp));
		redisContext *rc = NULL;
		bool cut = tmp == NULL, sent = false;

		rs.upto.ms = rs.upto.seq = 0;
		if (tmp != NULL && dash_sid_parse(since, &f.after) == 0) {
			f.has_after = true;
			pthread_rwlock_rdlock(&g_ix.lock);
			rs.upto = g_ix.last;
			pthread_rwlock_unlock(&g_ix.lock);
			rs.sids = tmp;
			rs.n = 0;
			dash_index_scan(&g_ix, &f, resume_cb, &rs);
			if (rs.n > SSE_RESUME_MAX)
				cut = true;
			else if (rs.n > 0 && (rc = pool_get()) == NULL)
				cut = true;
			if (rc != NULL) {
				json_t **al = calloc(rs.n, sizeof(*al));
				bool broken = al == NULL || fetch_entries(rc, g_conf.k_alerts, rs.sids,
									  rs.n, al) != 0;
				char *backlog = NULL;
				size_t blen = 0;

				pool_put(rc, broken);
				/* oldest first, as they happened */
				for (i = rs.n; !broken && i > 0; i--) {
					char id[DASH_SID_STRLEN], *m, *nb;
					json_t *d;

					if (al[i - 1] == NULL)
						continue;
					d = json_object();
					dash_sid_fmt(rs.sids[i - 1], id);
					json_object_set_new(d, "sid", json_string(id));
					json_object_set_new(d, "alert", al[i - 1]);
					al[i - 1] = NULL;
					m = sse_format("alert", id, d);
					json_decref(d);
					nb = m != NULL ? realloc(backlog, blen + strlen(m) + 1) : NULL;
					if (nb == NULL) {
						free(m);
						broken = true; /* out of memory: resync, not a gap */
						break;
					}
					backlog = nb;
					memcpy(backlog + blen, m, strlen(m) + 1);
					blen += strlen(m);
					free(m);
				}
				if (al != NULL)
					for (i = 0; i < rs.n; i++)
						json_decref(al[i]);
				free(al);
				if (broken) {
					free(backlog);
					backlog = NULL;
					cut = true;
				}
				if (backlog != NULL) {
					cl->cur = backlog;
					cl->cur_len = blen;
					cl->cur_off = 0;
					sent = true;
				}
			}
		}
		free(tmp);
		if (cut && !sent) {
			if (rs.upto.ms == 0 && rs.upto.seq == 0) {
				pthread_rwlock_rdlock(&g_ix.lock);
				rs.upto = g_ix.last;
				pthread_rwlock_unlock(&g_ix.lock);
			}
			cl->cur = sse_resync(rs.upto);
			if (cl->cur != NULL) {
				cl->cur_len = strlen(cl->cur);
				cl->cur_off = 0;
			}
			pthread_mutex_lock(&g_hub.mu);
			g_hub.resyncs++;
			pthread_mutex_unlock(&g_hub.mu);
		}
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, cl, sse_done);
	if (r == NULL) {
		sse_done(cl);
		return MHD_NO;
	}
	add_headers(r, "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---------------------------------------------------------------- /api/export */

struct export {
	struct dash_sid *sids;
	size_t n, pos, cap;
	bool csv;
	char *buf;
	size_t len, off;
	bool header_done;
};

static int export_cb(const struct dash_index *ix, const struct dash_ent *e, void *ud)
{
	struct export *x = ud;

	(void)ix;
	x->sids[x->n++] = e->sid;
	return x->n == x->cap;
}

/* One CSV cell, always quoted. A cell that a spreadsheet would run as a formula
 * (= + - @, also tab and CR) gets a leading apostrophe (OWASP CSV injection). */
static void csv_cell(struct sbuf *b, const char *s, bool last)
{
	const char *p;

	sb_put(b, "\"", 1);
	if (s != NULL && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
			  s[0] == '\t' || s[0] == '\r'))
		sb_put(b, "'", 1);
	for (p = s != NULL ? s : ""; *p != '\0'; p++) {
		if (*p == '"')
			sb_put(b, "\"\"", 2);
		else
			sb_put(b, p, 1);
	}
	sb_put(b, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

static const char *sget(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void csv_row(struct sbuf *b, const char *sid, json_t *a, json_t *ack)
{
	char sev[16] = "", port[16] = "";
	json_t *v;
	const char *status = "open";

	v = json_object_get(json_object_get(a, "event"), "severity");
	if (json_is_integer(v))
		snprintf(sev, sizeof(sev), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	v = json_object_get(json_object_get(a, "destination"), "port");
	if (json_is_integer(v))
		snprintf(port, sizeof(port), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_string(json_object_get(ack, "status")))
		status = json_string_value(json_object_get(ack, "status"));
	csv_cell(b, sget(a, "@timestamp", NULL), false);
	csv_cell(b, sid, false);
	csv_cell(b, sget(a, "event", "id"), false);
	csv_cell(b, sev, false);
	csv_cell(b, sget(a, "event", "action"), false);
	csv_cell(b, sget(a, "observer", "name"), false);
	csv_cell(b, sget(a, "source", "ip"), false);
	csv_cell(b, sget(a, "source", "mac"), false);
	csv_cell(b, sget(a, "destination", "ip"), false);
	csv_cell(b, port, false);
	csv_cell(b, sget(a, "message", NULL), false);
	csv_cell(b, status, true);
}

/* Fills x->buf with the next chunk; 0 at the end, -1 on a Redis failure. */
static int export_chunk(struct export *x)
{
	struct sbuf b = { NULL, 0, 0, false };
	size_t n = x->n - x->pos < EXPORT_CHUNK ? x->n - x->pos : EXPORT_CHUNK, i;
	json_t *al[EXPORT_CHUNK];
	redisContext *rc;
	bool broken;

	if (!x->header_done) {
		x->header_done = true;
		if (x->csv)
			sb_put(&b, CSV_HEADER, strlen(CSV_HEADER));
	}
	if (n > 0) {
		rc = pool_get();
		if (rc == NULL) {
			free(b.p);
			return -1;
		}
		broken = fetch_entries(rc, g_conf.k_alerts, x->sids + x->pos, n, al) != 0;
		pool_put(rc, broken);
		if (broken) {
			free(b.p);
			return -1;
		}
		for (i = 0; i < n; i++) {
			char id[DASH_SID_STRLEN];
			json_t *ack;

			if (al[i] == NULL)
				continue;
			dash_sid_fmt(x->sids[x->pos + i], id);
			ack = ack_of(al[i]);
			if (x->csv) {
				csv_row(&b, id, al[i], ack);
				json_decref(al[i]);
			} else {
				json_t *it = json_object();
				char *s;

				json_object_set_new(it, "sid", json_string(id));
				json_object_set_new(it, "alert", al[i]);
				json_object_set(it, "ack", ack);
				s = json_dumps(it, JSON_COMPACT);
				json_decref(it);
				if (s != NULL) {
					sb_put(&b, s, strlen(s));
					sb_put(&b, "\n", 1);
					free(s);
				}
			}
			json_decref(ack);
		}
		x->pos += n;
	}
	if (b.err) {
		free(b.p);
		return -1;
	}
	free(x->buf);
	x->buf = b.p;
	x->len = b.len;
	x->off = 0;
	return b.len > 0 || x->pos < x->n ? 1 : 0;
}

static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct export *x = cls;
	size_t n;

	(void)pos;
	while (x->off == x->len) {
		int rc = export_chunk(x);

		if (rc < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (rc == 0 && x->len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = x->len - x->off < max ? x->len - x->off : max;
	memcpy(buf, x->buf + x->off, n);
	x->off += n;
	return (ssize_t)n;
}

static pthread_mutex_t g_export_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_exports; /* running, guarded by g_export_mu */

static bool export_slot(bool take)
{
	bool ok = true;

	pthread_mutex_lock(&g_export_mu);
	if (!take)
		g_exports--;
	else if (g_exports >= EXPORT_CONCURRENT)
		ok = false;
	else
		g_exports++;
	pthread_mutex_unlock(&g_export_mu);
	return ok;
}

static void export_free(void *cls)
{
	struct export *x = cls;

	export_slot(false);
	free(x->sids);
	free(x->buf);
	free(x);
}

static enum MHD_Result api_export(struct MHD_Connection *c)
{
	const char *fmt = arg(c, "format");
	struct dash_filter f;
	struct export *x;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char err[128];

	if (fmt == NULL)
		fmt = "jsonl";
	if (strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "csv") != 0)
		return reply_err(c, 400, "format: expected jsonl or csv");
	if (get_filter(c, &f, err, sizeof(err)) != 0)
		return reply_err(c, 400, err);
	if (!g_redis_up)
		return reply_err(c, 503, "Redis is unavailable");
	if (!export_slot(true))
		return reply_err(c, 503, "too many exports running; try again");
	x = calloc(1, sizeof(*x));
	if (x != NULL)
		x->sids = calloc(EXPORT_MAX, sizeof(*x->sids));
	if (x == NULL || x->sids == NULL) {
		if (x != NULL)
			free(x);
		export_slot(false);
		return reply_err(c, 500, "out of memory");
	}
	x->cap = EXPORT_MAX;
	x->csv = fmt[0] == 'c';
	dash_index_scan(&g_ix, &f, export_cb, x);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, export_read, x,
					      export_free);
	if (r == NULL) {
		export_free(x);
		return MHD_NO;
	}
	add_headers(r, x->csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
	MHD_add_response_header(r, "Content-Disposition", x->csv ?
				"attachment; filename=\"onpath-alerts.csv\"" :
				"attachment; filename=\"onpath-alerts.jsonl\"");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---------------------------------------------------------------- /api/timeline */

struct tl {
	bool range;               /* pass 1: find the range */
	int64_t lo, hi;
	size_t seen;
	int64_t from, bucket_ms;
	size_t nb;
	uint16_t tmap[DASH_MAX_TYPES]; /* interned type -> column + 1 */
	size_t ncols;
	uint32_t *counts;         /* nb x (TIMELINE_TYPES_MAX + 1) */
	const char *colname[TIMELINE_TYPES_MAX + 1];
};

static int tl_cb(const struct dash_index *ix, const struct dash_ent *e, void *ud)
{
	struct tl *t = ud;
	size_t b, col;

	if (t->range) {
		if (t->seen == 0 || e->ts_ms < t->lo)
			t->lo = e->ts_ms;
		if (t->seen == 0 || e->ts_ms > t->hi)
			t->hi = e->ts_ms;
		t->seen++;
		return 0;
	}
	if (e->ts_ms < t->from)
		return 0;
	b = (size_t)((e->ts_ms - t->from) / t->bucket_ms);
	if (b >= t->nb)
		return 0;
	if (t->tmap[e->type] == 0) {
		/* names are read under the scan's lock; copied out before it ends */
		if (t->ncols < TIMELINE_TYPES_MAX) {
			t->colname[t->ncols] = ix->types[e->type];
			t->tmap[e->type] = (uint16_t)++t->ncols;
		} else {
			t->tmap[e->type] = TIMELINE_TYPES_MAX + 1;
			t->colname[TIMELINE_TYPES_MAX] = "(other)";
		}
	}
	col = t->tmap[e->type] - 1u;
	t->counts[b * (TIMELINE_TYPES_MAX + 1) + col]++;
	return 0;
}

static enum MHD_Result api_timeline(struct MHD_Connection *c)
{
	struct dash_filter f;
	struct tl *t;
	char err[128];
	long nb;
	json_t *res, *types, *buckets;
	size_t b, k;
	int64_t from, to;
	bool other;

	if (get_filter(c, &f, err, sizeof(err)) != 0)
		return reply_err(c, 400, err);
	if (get_uint_arg(c, "buckets", 1, TIMELINE_MAX, TIMELINE_DEFAULT, &nb) != 0)
		return reply_err(c, 400, "bad value for parameter 'buckets'");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return reply_err(c, 500, "out of memory");
	t->counts = calloc((size_t)nb * (TIMELINE_TYPES_MAX + 1), sizeof(*t->counts));
	if (t->counts == NULL) {
		free(t);
		return reply_err(c, 500, "out of memory");
	}
	from = f.from;
	to = f.to;
	if (!f.has_from || !f.has_to) {
		t->range = true;
		dash_index_scan(&g_ix, &f, tl_cb, t);
		if (!f.has_from)
			from = t->seen ? t->lo : now_ms() - 3600 * 1000;
		if (!f.has_to)
			to = t->seen ? t->hi + 1 : now_ms();
	}
	if (to <= from)
		to = from + 1;
	t->range = false;
	t->from = from;
	t->nb = (size_t)nb;
	t->bucket_ms = (to - from + nb - 1) / nb;
	if (t->bucket_ms < 1)
		t->bucket_ms = 1;
	/* Type names are pointers into the index's table, which only grows (names
	 * are never freed before exit): safe to use after the scan. */
	dash_index_scan(&g_ix, &f, tl_cb, t);
	res = json_object();
	types = json_array();
	buckets = json_array();
	other = false;
	for (k = 0; k < DASH_MAX_TYPES; k++)
		if (t->tmap[k] == TIMELINE_TYPES_MAX + 1)
			other = true;
	for (k = 0; k < t->ncols; k++)
		json_array_append_new(types, json_string(t->colname[k]));
	if (other)
		json_array_append_new(types, json_string("(other)"));
	for (b = 0; b < t->nb; b++) {
		json_t *bo = json_object(), *counts = json_object();

		for (k = 0; k <= TIMELINE_TYPES_MAX; k++) {
			uint32_t v = t->counts[b * (TIMELINE_TYPES_MAX + 1) + k];

			if (v > 0)
				json_object_set_new(counts, t->colname[k], json_integer(v));
		}
		json_object_set_new(bo, "t", json_integer(from + (int64_t)b * t->bucket_ms));
		json_object_set_new(bo, "counts", counts);
		json_array_append_new(buckets, bo);
	}
	json_object_set_new(res, "from", json_integer(from));
	json_object_set_new(res, "to", json_integer(to));
	json_object_set_new(res, "bucket_ms", json_integer(t->bucket_ms));
	json_object_set_new(res, "types", types);
	json_object_set_new(res, "buckets", buckets);
	free(t->counts);
	free(t);
	return reply_json(c, 200, res);
}

/* ---------------------------------------------------------------- /api/sensors */

/* Previous reading per sensor, for packets per second. */
static struct {
	pthread_mutex_t mu;
	struct {
		char name[SENSOR_NAME_MAX + 1];
		uint64_t packets, last_seen;
		double pps;
	} s[SENSORS_MAX];
	size_t n;
} g_pps = { PTHREAD_MUTEX_INITIALIZER, { { "", 0, 0, 0 } }, 0 };

static double pps_of(const char *name, uint64_t packets, uint64_t last_seen)
{
	size_t i;
	double pps = 0;

	pthread_mutex_lock(&g_pps.mu);
	for (i = 0; i < g_pps.n && strcmp(g_pps.s[i].name, name) != 0; i++)
		;
	if (i == g_pps.n) {
		if (g_pps.n == SENSORS_MAX)
			i = 0; /* full: reuse a slot, that sensor's rate restarts */
		else
			g_pps.n++;
		util_strlcpy(g_pps.s[i].name, name, sizeof(g_pps.s[i].name));
		g_pps.s[i].packets = packets;
		g_pps.s[i].last_seen = last_seen;
		g_pps.s[i].pps = 0;
	} else if (last_seen > g_pps.s[i].last_seen) {
		if (packets >= g_pps.s[i].packets)
			g_pps.s[i].pps = (double)(packets - g_pps.s[i].packets) /
					 (double)(last_seen - g_pps.s[i].last_seen);
		else
			g_pps.s[i].pps = 0; /* restarted */
		g_pps.s[i].packets = packets;
		g_pps.s[i].last_seen = last_seen;
	}
	pps = g_pps.s[i].pps;
	pthread_mutex_unlock(&g_pps.mu);
	return pps;
}

static bool is_number(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Sensor names from the sensors ZSET (validated), newest heartbeat last. */
static redisReply *sensor_names(redisContext *rc)
{
	char stop[16];
	const char *argv[4] = { "ZRANGE", g_conf.k_sensors, "0", stop };

	snprintf(stop, sizeof(stop), "%d", SENSORS_MAX - 1);
	return r_cmd(rc, 4, argv);
}

static enum MHD_Result api_sensors(struct MHD_Connection *c)
{
	redisContext *rc = pool_get();
	redisReply *names, *h;
	json_t *arr, *res;
	size_t i, k;
	uint64_t now = (uint64_t)time(NULL);

	if (rc == NULL)
		return reply_err(c, 503, "Redis is unavailable");
	names = sensor_names(rc);
	if (names == NULL) {
		pool_put(rc, true);
		return reply_err(c, 503, "Redis is unavailable");
	}
	arr = json_array();
	if (names->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < names->elements; i++) {
			const char *n = names->element[i]->str;
			char key[256];
			const char *argv[2] = { "HGETALL", key };
			uint64_t last_seen = 0, hb = 0, packets = 0;
			bool stopped = false;
			json_t *o;

			if (names->element[i]->type != REDIS_REPLY_STRING || !valid_sensor_name(n))
				continue;
			snprintf(key, sizeof(key), "%ssensor:%s", g_conf.prefix, n);
			h = r_cmd(rc, 2, argv);
			if (h == NULL) {
				freeReplyObject(names);
				json_decref(arr);
				pool_put(rc, true);
				return reply_err(c, 503, "Redis is unavailable");
			}
			o = json_object();
			json_object_set_new(o, "name", json_string(n));
			if (h->type == REDIS_REPLY_ARRAY)
				for (k = 0; k + 1 < h->elements; k += 2) {
					const char *f = h->element[k]->str, *v = h->element[k + 1]->str;

					if (h->element[k]->type != REDIS_REPLY_STRING ||
					    h->element[k + 1]->type != REDIS_REPLY_STRING ||
					    strcmp(f, "name") == 0)
						continue;
					/* counters as numbers, the rest as text */
					if (is_number(v) && strlen(v) < 20) {
						uint64_t x = strtoull(v, NULL, 10);

						json_object_set_new(o, f, json_integer((json_int_t)x));
						if (strcmp(f, "last_seen") == 0)
							last_seen = x;
						else if (strcmp(f, "heartbeat_s") == 0)
							hb = x;
						else if (strcmp(f, "packets") == 0)
							packets = x;
					} else {
						json_object_set_new(o, f, json_stringn(v, h->element[k + 1]->len));
						if (strcmp(f, "state") == 0 && strcmp(v, "stopped") == 0)
							stopped = true;
					}
				}
			if (hb == 0)
				hb = 10;
			json_object_set_new(o, "alive", json_boolean(h->type == REDIS_REPLY_ARRAY &&
				h->elements > 0 && last_seen + 3 * hb >= now && !stopped));
			json_object_set_new(o, "pps", json_real(last_seen ? pps_of(n, packets, last_seen)
									   : 0));
			json_array_append_new(arr, o);
			freeReplyObject(h);
		}
	freeReplyObject(names);
	pool_put(rc, false);
	res = json_object();
	json_object_set_new(res, "sensors", arr);
	return reply_json(c, 200, res);
}

/* ---------------------------------------------------------------- /api/incidents */

static int inc_cmp(const void *a, const void *b)
{
	return -dash_sid_cmp(((const struct dash_incident *)a)->sid,
			     ((const struct dash_incident *)b)->sid);
}

static enum MHD_Result api_incidents(struct MHD_Connection *c)
{
	struct dash_incident *all;
	struct dash_sid sids[PAGE_MAX], before;
	const char *b = arg(c, "before"), *s = arg(c, "status");
	int status = -1;
	size_t n, i, k = 0;
	long limit;
	redisContext *rc;
	json_t *arr, *res;
	bool broken, more = false;
	char id[DASH_SID_STRLEN];

	if (get_uint_arg(c, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0 ||
	    (b != NULL && dash_sid_parse(b, &before) != 0) ||
	    (s != NULL && (status = dash_status_parse(s)) < 0))
		return reply_err(c, 400, "bad parameter (limit, before, status)");
	all = calloc(DASH_MAX_INCIDENTS, sizeof(*all));
	if (all == NULL)
		return reply_err(c, 500, "out of memory");
	pthread_rwlock_rdlock(&g_ix.lock);
	n = g_ix.inc_n;
	memcpy(all, g_ix.inc, n * sizeof(*all));
	/* status from the acknowledgements of the incident's event.id */
	for (i = 0; i < n; i++) {
		const struct dash_ack *a = dash_index_ack_locked(&g_ix, all[i].eid);

		all[i].hash = a != NULL ? a->status : DASH_OPEN;
	}
	pthread_rwlock_unlock(&g_ix.lock);
	qsort(all, n, sizeof(*all), inc_cmp);
	for (i = 0; i < n; i++) {
		if (b != NULL && dash_sid_cmp(all[i].sid, before) >= 0)
			continue;
		if (status >= 0 && all[i].hash != (uint64_t)status)
			continue;
		if (k == (size_t)limit) {
			more = true;
			break;
		}
		sids[k++] = all[i].sid;
	}
	free(all);
	rc = pool_get();
	if (rc == NULL)
		return reply_err(c, 503, "Redis is unavailable");
	arr = items_json(rc, g_conf.k_incidents, sids, k, "incident", &broken);
	pool_put(rc, broken);
	if (arr == NULL)
		return reply_err(c, 503, "Redis is unavailable");
	res = json_object();
	json_object_set_new(res, "incidents", arr);
	json_object_set_new(res, "next_before", more && k > 0 ?
				json_string(dash_sid_fmt(sids[k - 1], id)) : json_null());
	return reply_json(c, 200, res);
}

/* ---------------------------------------------------------------- /api/inventory */

static const struct {
	const char *kind, *section, *list;
} inv_kinds[] = {
	{ "arp", "arp", "bindings" },
	{ "issuers", "issuer", "names" },
	{ "resolvers", "dns", "resolvers" },
	{ "dhcp", "dhcp", "servers" },
	{ "ssh", "ssh", "servers" },
	{ "tls", "tls", "servers" },
};

/* The baseline JSON of a sensor, NULL when none; -1 in *broken on a Redis failure. */
static json_t *baseline_of(redisContext *rc, const char *sensor, bool *broken)
{
	char key[256];
	const char *argv[2] = { "GET", key };
	redisReply *rep;
	json_t *j = NULL;

	*broken = false;
	snprintf(key, sizeof(key), "%sbaseline:%s", g_conf.prefix, sensor);
	rep = r_cmd(rc, 2, argv);
	if (rep == NULL) {
		*broken = true;
		return NULL;
	}
	if (rep->type == REDIS_REPLY_STRING) {
		json_error_t jerr;

		j = json_loadb(rep->str, rep->len, JSON_ALLOW_NUL, &jerr);
		if (j != NULL && !json_is_object(j)) {
			json_decref(j);
			j = NULL;
		}
	}
	freeReplyObject(rep);
	return j;
}

static enum MHD_Result api_inventory(struct MHD_Connection *c, const char *kind)
{
	const char *sensor = arg(c, "sensor");
	redisContext *rc;
	redisReply *names = NULL;
	json_t *base = NULL, *res, *items, *sec, *list;
	size_t i, k = ONPATH_ARRAY_LEN(inv_kinds);
	bool broken = false;
	char chosen[SENSOR_NAME_MAX + 1] = "";

	if (kind != NULL) {
		for (k = 0; k < ONPATH_ARRAY_LEN(inv_kinds); k++)
			if (strcmp(kind, inv_kinds[k].kind) == 0)
				break;
		if (k == ONPATH_ARRAY_LEN(inv_kinds))
			return reply_err(c, 404, "unknown inventory (arp, issuers, resolvers, dhcp, "
					 "ssh, tls)");
	}
	if (sensor != NULL && !valid_sensor_name(sensor))
		return reply_err(c, 400, "bad sensor name");
	rc = pool_get();
	if (rc == NULL)
		return reply_err(c, 503, "Redis is unavailable");
	res = json_object();
	if (kind == NULL || sensor == NULL) {
		json_t *kinds = json_array(), *have = json_array();

		names = sensor_names(rc);
		if (names == NULL)
			goto broken;
		for (i = 0; names->type == REDIS_REPLY_ARRAY && i < names->elements; i++) {
			const char *n = names->element[i]->str;
			json_t *b;

			if (names->element[i]->type != REDIS_REPLY_STRING || !valid_sensor_name(n))
				continue;
			b = baseline_of(rc, n, &broken);
			if (broken) {
				json_decref(kinds);
				json_decref(have);
				goto broken;
			}
			if (b != NULL) {
				json_array_append_new(have, json_string(n));
				if (chosen[0] == '\0')
					util_strlcpy(chosen, n, sizeof(chosen));
				json_decref(b);
			}
		}
		freeReplyObject(names);
		names = NULL;
		if (kind == NULL) {
			for (i = 0; i < ONPATH_ARRAY_LEN(inv_kinds); i++)
				json_array_append_new(kinds, json_string(inv_kinds[i].kind));
			json_object_set_new(res, "kinds", kinds);
			json_object_set_new(res, "sensors", have);
			pool_put(rc, false);
			return reply_json(c, 200, res);
		}
		json_decref(kinds);
		json_decref(have);
		sensor = chosen[0] != '\0' ? chosen : NULL;
	}
	if (sensor != NULL) {
		base = baseline_of(rc, sensor, &broken);
		if (broken)
			goto broken;
	}
	pool_put(rc, false);
	json_object_set_new(res, "sensor", sensor != NULL ? json_string(sensor) : json_null());
	sec = json_object_get(base, inv_kinds[k].section);
	list = json_object_get(sec, inv_kinds[k].list);
	if (!json_is_array(list)) {
		const char *key;
		json_t *v;

		/* a detector whose list has another name: its first list */
		list = NULL;
		json_object_foreach(sec, key, v)
			if (json_is_array(v) && list == NULL)
				list = v;
	}
	items = json_is_array(list) ? json_deep_copy(list) : json_array();
	if (strcmp(inv_kinds[k].kind, "arp") == 0)
		for (i = 0; i < json_array_size(items); i++) {
			json_t *it = json_array_get(items, i);
			const char *m = sget(it, "mac", NULL), *v;

			if (m != NULL && (v = dash_oui_lookup(&g_oui, m)) != NULL)
				json_object_set_new(it, "vendor", json_string(v));
		}
	json_object_set_new(res, "items", items);
	json_decref(base);
	return reply_json(c, 200, res);
broken:
	if (names != NULL)
		freeReplyObject(names);
	pool_put(rc, true);
	json_decref(res);
	return reply_err(c, 503, "Redis is unavailable");
}

/* ---------------------------------------------------------------- login */

static enum MHD_Result api_login(struct MHD_Connection *c, struct req *rq)
{
	json_error_t jerr;
	json_t *b = json_loadb(rq->body != NULL ? rq->body : "", rq->len, 0, &jerr);
	const char *tok = sget(b, "token", NULL), *u = sget(b, "user", NULL),
		   *pw = sget(b, "password", NULL);
	char id[SESS_ID_BYTES * 2 + 1], cookie[160], user[USER_MAX];
	bool ok = false;

	if (tok != NULL && g_conf.token[0] != '\0' && ct_eq(tok, g_conf.token)) {
		ok = true;
		util_strlcpy(user, "token", sizeof(user));
	} else if (u != NULL && pw != NULL && g_conf.basic_password[0] != '\0' &&
		   (ct_eq(u, g_conf.basic_user) & ct_eq(pw, g_conf.basic_password))) {
		ok = true;
		util_strlcpy(user, u, sizeof(user));
	}
	json_decref(b);
	if (!ok) {
		/* this connection's thread only: other requests are not held up */
		usleep(AUTH_FAIL_DELAY_US);
		return reply_err(c, 401, "wrong token or password");
	}
	if (session_new(user, id) != 0)
		return reply_err(c, 500, "no randomness");
	snprintf(cookie, sizeof(cookie), "onpath_session=%s; HttpOnly; SameSite=Strict; Path=/", id);
	return reply_empty(c, 204, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

static enum MHD_Result api_logout(struct MHD_Connection *c)
{
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "onpath_session");

	if (cookie != NULL)
		session_find(cookie, true, NULL, 0);
	return reply_empty(c, 204, MHD_HTTP_HEADER_SET_COOKIE,
			   "onpath_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

/* ---------------------------------------------------------------- static files */

static const char *mime_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} m[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
		{ ".png", "image/png" },                 { ".ico", "image/x-icon" },
		{ ".json", "application/json" },         { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot != NULL && i < ONPATH_ARRAY_LEN(m); i++)
		if (strcmp(dot, m[i].ext) == 0)
			return m[i].type;
	return NULL;
}

/* A file of the web root by bare name: no directories, no dot files, a known type. */
static enum MHD_Result serve_static(struct MHD_Connection *c, const char *name)
{
	char path[2048];
	const char *type = mime_of(name);
	struct stat st;
	size_t i, got = 0;
	char *buf;
	int fd;

	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' &&
		    name[i] != '-')
			return reply_err(c, 404, "not found");
	if (name[0] == '.' || name[0] == '\0' || i > 128 || type == NULL)
		return reply_err(c, 404, "not found");
	snprintf(path, sizeof(path), "%s/%s", g_conf.web_root, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return reply_err(c, 404, "not found");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)STATIC_MAX) {
		close(fd);
		return reply_err(c, 404, "not found");
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return reply_err(c, 500, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return reply(c, 200, type, buf, got, NULL, NULL);
}

/* ---------------------------------------------------------------- routing */

static enum MHD_Result api_health(struct MHD_Connection *c)
{
	json_t *j = json_object();
	size_t n;

	uint64_t dropped, resyncs;
	size_t clients;

	pthread_rwlock_rdlock(&g_ix.lock);
	n = g_ix.n;
	dropped = g_ix.dropped;
	pthread_rwlock_unlock(&g_ix.lock);
	pthread_mutex_lock(&g_hub.mu);
	clients = g_hub.n;
	resyncs = g_hub.resyncs;
	pthread_mutex_unlock(&g_hub.mu);
	json_object_set_new(j, "ok", json_true());
	json_object_set_new(j, "redis", json_string(g_redis_up ? "up" : "down"));
	json_object_set_new(j, "indexed", json_integer((json_int_t)n));
	json_object_set_new(j, "ready", json_boolean(g_ready));
	json_object_set_new(j, "dropped", json_integer((json_int_t)dropped));
	json_object_set_new(j, "sse_clients", json_integer((json_int_t)clients));
	json_object_set_new(j, "sse_resyncs", json_integer((json_int_t)resyncs));
	return reply_json(c, 200, j);
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method,
			     struct req *rq)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	char user[USER_MAX];

	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		return get ? serve_static(c, "index.html") : reply_err(c, 405, "method not allowed");
	if (strncmp(url, "/static/", 8) == 0)
		return get ? serve_static(c, url + 8) : reply_err(c, 405, "method not allowed");
	if (strncmp(url, "/api/", 5) != 0)
		return reply_err(c, 404, "not found");
	if (!get && !post)
		return reply_err(c, 405, "method not allowed");
	if (post) {
		const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Onpath");

		/* A browser sends a custom header cross-site only after a CORS preflight,
		 * which this server never grants: a forged form post lacks it. */
		if (x == NULL || strcmp(x, "1") != 0)
			return reply_err(c, 403, "POST needs the header X-Onpath: 1");
		if (rq->too_big)
			return reply_err(c, 413, "request body too large");
	}
	if (strcmp(url, "/api/health") == 0)
		return get ? api_health(c) : reply_err(c, 405, "method not allowed");
	if (strcmp(url, "/api/login") == 0)
		return post ? api_login(c, rq) : reply_err(c, 405, "method not allowed");
	if (!authenticated(c, user, sizeof(user))) {
		/* wrong credentials (not none: the page asks first without) cost time */
		if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization") != NULL ||
		    MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "onpath_session") != NULL)
			usleep(AUTH_FAIL_DELAY_US);
		return reply_err(c, 401, "authentication required");
	}
	if (strcmp(url, "/api/logout") == 0)
		return post ? api_logout(c) : reply_err(c, 405, "method not allowed");
	if (post) {
		/* /api/alerts/<ref>/ack or /api/incidents/<ref>/ack: separate routes, as
		 * the two streams' ids collide */
		bool inc = strncmp(url, "/api/incidents/", 15) == 0;
		const char *p = url + (inc ? 15 : 12), *slash;
		char sid[DASH_EID_MAX]; /* a stream id or an event.id */

		if ((!inc && strncmp(url, "/api/alerts/", 12) != 0) || (slash = strchr(p, '/')) == NULL ||
		    strcmp(slash, "/ack") != 0 || (size_t)(slash - p) >= sizeof(sid))
			return reply_err(c, 404, "not found");
		memcpy(sid, p, (size_t)(slash - p));
		sid[slash - p] = '\0';
		return api_ack(c, sid, rq, user, inc);
	}
	if (strcmp(url, "/api/alerts") == 0)
		return api_alerts(c);
	if (strncmp(url, "/api/alerts/", 12) == 0 && strchr(url + 12, '/') == NULL)
		return api_alert_detail(c, url + 12, false);
	if (strncmp(url, "/api/incidents/", 15) == 0 && strchr(url + 15, '/') == NULL)
		return api_alert_detail(c, url + 15, true);
	if (strcmp(url, "/api/events") == 0)
		return api_events(c);
	if (strcmp(url, "/api/export") == 0)
		return api_export(c);
	if (strcmp(url, "/api/timeline") == 0)
		return api_timeline(c);
	if (strcmp(url, "/api/sensors") == 0)
		return api_sensors(c);
	if (strcmp(url, "/api/incidents") == 0)
		return api_incidents(c);
	if (strcmp(url, "/api/inventory") == 0)
		return api_inventory(c, NULL);
	if (strncmp(url, "/api/inventory/", 15) == 0)
		return api_inventory(c, url + 15);
	return reply_err(c, 404, "not found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* bounded: the rest is read and dropped, then 413 */
		if (!rq->too_big && rq->len + *upload_size <= BODY_MAX) {
			char *nb = realloc(rq->body, rq->len + *upload_size + 1);

			if (nb == NULL)
				return MHD_NO;
			rq->body = nb;
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		} else {
			rq->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return route(c, url, method, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* ---------------------------------------------------------------- start-up */

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			bool *loopback)
{
	char host[256];
	const char *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (e == NULL || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		colon = e + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return -1;
	if (strcmp(host, "localhost") == 0)
		util_strlcpy(host, "127.0.0.1", sizeof(host));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &a->sin_addr) != 1)
			return -1;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

static int set_str(char *dst, size_t cap, const char *v, const char *what, char *err,
		   size_t errlen)
{
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: longer than %zu bytes", what, cap - 1);
		return -1;
	}
	util_strlcpy(dst, v, cap);
	return 0;
}

/* The dashboard: section of a YAML file (other sections are the sensor's). */
static int load_config(const char *path, struct conf *cf, char *err, size_t errlen)
{
	static const char *const known[] = { "redis", "listen", "prefix", "web_root", "oui",
					     "token_file", "basic_user", "basic_password_file",
					     "max_index", NULL };
	static const struct {
		const char *key;
		size_t off, cap;
	} strs[] = {
		{ "redis", offsetof(struct conf, redis), sizeof(cf->redis) },
		{ "listen", offsetof(struct conf, listen), sizeof(cf->listen) },
		{ "prefix", offsetof(struct conf, prefix), sizeof(cf->prefix) },
		{ "web_root", offsetof(struct conf, web_root), sizeof(cf->web_root) },
		{ "oui", offsetof(struct conf, oui), sizeof(cf->oui) },
		{ "token_file", offsetof(struct conf, token_file), sizeof(cf->token_file) },
		{ "basic_user", offsetof(struct conf, basic_user), sizeof(cf->basic_user) },
		{ "basic_password_file", offsetof(struct conf, basic_password_file),
		  sizeof(cf->basic_password_file) },
	};
	const struct cfg_node *sec;
	struct cfg *c;
	size_t i;
	int rc = -1;

	if (cfg_load(path, &c, err, errlen) != 0)
		return -1;
	sec = c->root != NULL ? cfg_get(c->root, "dashboard") : NULL;
	if (sec == NULL) {
		snprintf(err, errlen, "%s: no 'dashboard:' section", path);
		goto out;
	}
	if (cfg_check_keys(c, sec, "dashboard", known, err, errlen) != 0)
		goto out;
	for (i = 0; i < ONPATH_ARRAY_LEN(strs); i++) {
		const char *v;
		int r = cfg_str(c, sec, strs[i].key, &v, err, errlen);

		if (r < 0)
			goto out;
		if (r == 1 && strlen(v) >= strs[i].cap) {
			cfg_errf(c, cfg_get(sec, strs[i].key), err, errlen, "dashboard.%s: longer "
				 "than %zu bytes", strs[i].key, strs[i].cap - 1);
			goto out;
		}
		if (r == 1)
			util_strlcpy((char *)cf + strs[i].off, v, strs[i].cap);
	}
	if (cfg_uint(c, sec, "max_index", MIN_INDEX, MAX_INDEX_MAX, &cf->max_index, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	cfg_free(c);
	return rc;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: onpath-dashboard [options]\n"
		"  -c, --config FILE        YAML file with a dashboard: section\n"
		"  -r, --redis URL          redis://[user:password@]host:port[/db] (default %s)\n"
		"  -l, --listen HOST:PORT   address to serve on (default %s)\n"
		"      --prefix P           Redis key prefix (default %s)\n"
		"      --web-root DIR       the page's files (default %s)\n"
		"      --oui FILE           IEEE oui.csv for MAC vendors (default %s)\n"
		"      --token-file FILE    bearer token (or env ONPATH_DASHBOARD_TOKEN)\n"
		"      --max-index N        alerts kept in the index (default %d)\n"
		"      --no-auth            serve the API without authentication (loopback only)\n"
		"  -h, --help               this text\n"
		"  -V, --version            the version\n",
		DEFAULT_REDIS, DEFAULT_LISTEN, DEFAULT_PREFIX, DASHWEBDIR, DEFAULT_OUI,
		DEFAULT_MAX_INDEX);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "redis", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "web-root", required_argument, NULL, 'w' },
		{ "oui", required_argument, NULL, 'o' },
		{ "token-file", required_argument, NULL, 't' },
		{ "max-index", required_argument, NULL, 'm' },
		{ "no-auth", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf cli;
	bool set[256] = { false };
	const char *config = NULL, *env;
	char err[ERR_MAX];
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool loopback;
	struct MHD_Daemon *d;
	pthread_t reader;
	struct sigaction sa;
	sigset_t sigs;
	unsigned flags;
	int o;

	memset(&cli, 0, sizeof(cli));
	while ((o = getopt_long(argc, argv, "c:r:l:hV", opts, NULL)) != -1) {
		int rc = 0;

#define STR_OPT(ch, field, name) \
	case ch: \
		rc = set_str(cli.field, sizeof(cli.field), optarg, name, err, sizeof(err)); \
		break
		switch (o) {
		case 'c':
			config = optarg;
			break;
		STR_OPT('r', redis, "--redis");
		STR_OPT('l', listen, "--listen");
		STR_OPT('p', prefix, "--prefix");
		STR_OPT('w', web_root, "--web-root");
		STR_OPT('o', oui, "--oui");
		STR_OPT('t', token_file, "--token-file");
#undef STR_OPT
		case 'm': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end != '\0' || v < MIN_INDEX || v > MAX_INDEX_MAX) {
				snprintf(err, sizeof(err), "--max-index: expected %d..%d", MIN_INDEX,
					 MAX_INDEX_MAX);
				rc = -1;
			}
			cli.max_index = v;
			break;
		}
		case 'n': cli.no_auth = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("onpath-dashboard %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
		if (rc != 0) {
			logf_("%s", err);
			return 2;
		}
		set[o] = true;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	/* defaults, then the file, then the command line */
	memset(&g_conf, 0, sizeof(g_conf));
	util_strlcpy(g_conf.redis, DEFAULT_REDIS, sizeof(g_conf.redis));
	util_strlcpy(g_conf.listen, DEFAULT_LISTEN, sizeof(g_conf.listen));
	util_strlcpy(g_conf.prefix, DEFAULT_PREFIX, sizeof(g_conf.prefix));
	util_strlcpy(g_conf.web_root, DASHWEBDIR, sizeof(g_conf.web_root));
	util_strlcpy(g_conf.oui, DEFAULT_OUI, sizeof(g_conf.oui));
	g_conf.max_index = DEFAULT_MAX_INDEX;
	if (config != NULL && load_config(config, &g_conf, err, sizeof(err)) != 0) {
		logf_("%s", err);
		return 2;
	}
#define TAKE(ch, field) if (set[ch]) memcpy(g_conf.field, cli.field, sizeof(g_conf.field))
	TAKE('r', redis);
	TAKE('l', listen);
	TAKE('p', prefix);
	TAKE('w', web_root);
	TAKE('o', oui);
	TAKE('t', token_file);
#undef TAKE
	if (set['m'])
		g_conf.max_index = cli.max_index;
	g_conf.no_auth = cli.no_auth;
	if (parse_redis_url(&g_conf, err, sizeof(err)) != 0) {
		logf_("%s", err);
		return 2;
	}
	env = getenv("ONPATH_REDIS_PASSWORD");
	if (g_conf.rpass[0] == '\0' && env != NULL)
		util_strlcpy(g_conf.rpass, env, sizeof(g_conf.rpass));
	if (g_conf.token_file[0] != '\0' &&
	    read_secret(g_conf.token_file, g_conf.token, sizeof(g_conf.token), err, sizeof(err)) != 0) {
		logf_("token file %s", err);
		return 2;
	}
	env = getenv("ONPATH_DASHBOARD_TOKEN");
	if (g_conf.token[0] == '\0' && env != NULL)
		util_strlcpy(g_conf.token, env, sizeof(g_conf.token));
	if (g_conf.basic_password_file[0] != '\0') {
		if (read_secret(g_conf.basic_password_file, g_conf.basic_password,
				sizeof(g_conf.basic_password), err, sizeof(err)) != 0) {
			logf_("password file %s", err);
			return 2;
		}
		if (g_conf.basic_user[0] == '\0')
			util_strlcpy(g_conf.basic_user, "analyst", sizeof(g_conf.basic_user));
	}
	if (parse_listen(g_conf.listen, &ss, &sslen, &loopback) != 0) {
		logf_("--listen: expected HOST:PORT or [v6]:PORT, not '%s'", g_conf.listen);
		return 2;
	}
	if (g_conf.token[0] == '\0' && g_conf.basic_password[0] == '\0') {
		if (!g_conf.no_auth) {
			logf_("no token and no password: set --token-file (or ONPATH_DASHBOARD_TOKEN) "
			      "or dashboard.basic_password_file; --no-auth serves without one on a "
			      "loopback address only");
			return 2;
		}
		if (!loopback) {
			logf_("refusing to serve %s without authentication: --no-auth is for "
			      "loopback addresses only", g_conf.listen);
			return 2;
		}
	} else {
		g_conf.no_auth = false;
	}
	snprintf(g_conf.k_alerts, sizeof(g_conf.k_alerts), "%salerts", g_conf.prefix);
	snprintf(g_conf.k_incidents, sizeof(g_conf.k_incidents), "%sincidents", g_conf.prefix);
	snprintf(g_conf.k_acks, sizeof(g_conf.k_acks), "%sacks", g_conf.prefix);
	snprintf(g_conf.k_sensors, sizeof(g_conf.k_sensors), "%ssensors", g_conf.prefix);
	if (dash_oui_load(&g_oui, g_conf.oui, err, sizeof(err)) != 0) {
		logf_("%s (MAC vendors not shown)", err);
	}
	if (dash_index_init(&g_ix, (size_t)g_conf.max_index) != 0) {
		logf_("out of memory for an index of %" PRIu64 " alerts", g_conf.max_index);
		return 1;
	}
	/* A page is a few hundred KiB built and freed per request, by a new thread each
	 * time: keep freed memory instead of returning it to the kernel and faulting it
	 * back in on the next request (a third of a page's time, measured). */
	mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_MIN);
	mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_MIN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Blocked in every thread (they inherit the mask); main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (pthread_create(&reader, NULL, reader_main, NULL) != 0) {
		logf_("cannot start the reader thread");
		return 1;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
			     MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			     MHD_OPTION_END);
	if (d == NULL) {
		logf_("cannot listen on %s: %s", g_conf.listen, strerror(errno));
		g_stop = 1;
		pthread_join(reader, NULL);
		dash_index_fini(&g_ix);
		dash_oui_free(&g_oui);
		return 1;
	}
	logf_("serving http://%s/ (Redis %s, prefix %s, %zu MAC vendors%s)", g_conf.listen,
	      g_conf.unix_sock ? g_conf.rpath : g_conf.rhost, g_conf.prefix, g_oui.n,
	      g_conf.no_auth ? ", NO AUTHENTICATION" : "");
	do {
		if (sigwait(&sigs, &o) != 0)
			break;
	} while (o == SIGHUP); /* nothing to reload: the config is read at start */
	g_stop = 1;
	logf_("stopping");
	/* wake the live-feed clients so their threads end */
	pthread_mutex_lock(&g_hub.mu);
	pthread_cond_broadcast(&g_hub.cv);
	pthread_mutex_unlock(&g_hub.mu);
	MHD_stop_daemon(d);
	pthread_join(reader, NULL);
	pool_fini();
	dash_index_fini(&g_ix);
	dash_oui_free(&g_oui);
	explicit_bzero(g_conf.token, sizeof(g_conf.token));
	explicit_bzero(g_conf.basic_password, sizeof(g_conf.basic_password));
	explicit_bzero(g_conf.rpass, sizeof(g_conf.rpass));
	return 0;
}
