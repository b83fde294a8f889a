#include "config.h"

/* output_syslog.c - alerts to syslog for SIEMs, the JSON alert as the message.
 *
 *   syslog                         the local daemon at /dev/log (or syslog:/path)
 *   syslog+udp://host[:514]        RFC 5424 over UDP (RFC 5426), one message per datagram
 *   syslog+tcp://host[:514]        RFC 5424 over TCP with octet counting (RFC 6587 3.4.1)
 *   ...?facility=local3&app=onpath&hostname=sensor-1   (also outputs.syslog in the config)
 *
 * Network messages are RFC 5424:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - {"@timestamp":...}
 * with MSGID the alert type (event.action) and the syslog severity from the alert's:
 * 9-10 crit, 7-8 err, 4-6 warning, 1-3 notice, records info. The local socket gets
 * the traditional "<PRI>Mmm dd hh:mm:ss APP[PID]: MSG" that rsyslog and journald parse
 * on /dev/log.
 *
 * One alert is one line whatever it holds: the JSON writer already escapes every
 * control character, and this output escapes any that would still reach it (\u00XX),
 * so a hostile SNI or DNS name cannot start a forged message (CWE-117). Header fields
 * are reduced to the printable ASCII RFC 5424 allows.
 *
 * TCP and the local socket report failures, so what they cannot send goes to the
 * spool and is replayed in order once the collector is back (what the kernel accepted
 * just before a collector died is beyond anyone's knowledge without RELP). UDP is fire
 * and forget: errors are counted and reported, never spooled.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "spool.h"
#include "util.h"

#define SYSLOG_DEFAULT_PORT "514"
#define SYSLOG_DEFAULT_PATH "/dev/log"
#define SYSLOG_CONNECT_TIMEOUT_MS 2000
#define SYSLOG_SEND_TIMEOUT_MS 5000
#define SYSLOG_BATCH 512                 /* lines per write on TCP */
#define SYSLOG_BATCH_BYTES (256u * 1024)
#define SYSLOG_UDP_MAX 65000             /* larger datagrams are refused and counted */
#define SYSLOG_HDR_MAX 600               /* PRI, timestamp, hostname 255, app 48, ... */
#define SYSLOG_MSGID_MAX 32              /* RFC 5424 6.2.7 */
#define SYSLOG_HOST_MAX 255              /* RFC 5424 6.2.4 */
#define SYSLOG_APP_MAX 48                /* RFC 5424 6.2.5 */
#define SYSLOG_BACKOFF_MIN_S 0.25
#define SYSLOG_BACKOFF_MAX_S 30.0
#define SYSLOG_REPLAY_SLICE_S 0.05
#define SYSLOG_CLOSE_BUDGET_S 5.0

enum transport { T_LOCAL = 0, T_UDP, T_TCP };

static const struct {
	const char *name;
	int code;
} facilities[] = {
	{ "kern", 0 }, { "user", 1 }, { "mail", 2 }, { "daemon", 3 }, { "auth", 4 },
	{ "syslog", 5 }, { "lpr", 6 }, { "news", 7 }, { "uucp", 8 }, { "cron", 9 },
	{ "authpriv", 10 }, { "ftp", 11 }, { "ntp", 12 }, { "security", 13 }, { "console", 14 },
	{ "local0", 16 }, { "local1", 17 }, { "local2", 18 }, { "local3", 19 },
	{ "local4", 20 }, { "local5", 21 }, { "local6", 22 }, { "local7", 23 },
};

struct sline {
	struct out_meta_copy m;
	size_t off, len;      /* the JSON line in the arena */
};

struct slg {
	struct output *o;
	enum transport t;
	char host[256], port[8];
	char path[OUT_PATH_MAX];
	int facility;
	char hostname[SYSLOG_HOST_MAX + 1];
	char app[SYSLOG_APP_MAX + 1];
	char pid[16];

	int fd;
	enum out_state state;
	char why[256];
	double next_try, backoff, down_since;

	struct sline *lines;  /* waiting for the next send */
	size_t nlines, caplines;
	char *arena;
	size_t alen, acap;
	char *msg;            /* framed messages being sent */
	size_t mlen, mcap;
	size_t *ends;         /* end offset of each message in msg */
	size_t capends;

	struct spool *sp;
	bool spool_failing;   /* the last append failed (reported once) */
	struct spool_rec *recs;
	uint64_t delivered;
};


static void publish_health(struct slg *g)
{
	struct out_health *h = &g->o->health;

	out_health_set(&h->state, (uint64_t)g->state);
	out_health_set(&h->delivered, g->delivered);
	if (g->sp != NULL)
		spool_publish_health(g->sp, h);
}

static void set_state(struct slg *g, enum out_state st, const char *why)
{
	/* Once per change of state, whatever the errno of each retry. */
	if (st == g->state)
		return;
	if (st == OUT_ST_UP) {
		if (g->state != OUT_ST_CONNECTING)
			out_logf(g->o, "the collector takes messages again after %.1f s%s",
			      util_mono_s() - g->down_since,
			      g->sp != NULL && !spool_empty(g->sp) ? "; replaying the spool first" : "");
	} else {
		if (g->state == OUT_ST_UP || g->state == OUT_ST_CONNECTING)
			g->down_since = util_mono_s();
		if (g->sp != NULL)
			out_logf(g->o, "%s; spooling to %s, retrying with backoff", why, spool_base(g->sp));
		else
			out_logf(g->o, "%s; messages are lost until it works again (further failures "
			      "are counted, not reported)", why);
	}
	g->state = st;
	util_strlcpy(g->why, why, sizeof(g->why));
	publish_health(g);
}

static void backoff(struct slg *g)
{
	g->backoff = g->backoff > 0 ? g->backoff * 2 : SYSLOG_BACKOFF_MIN_S;
	if (g->backoff > SYSLOG_BACKOFF_MAX_S)
		g->backoff = SYSLOG_BACKOFF_MAX_S;
	g->next_try = util_mono_s() + g->backoff;
	out_health_add(&g->o->health.failures, 1);
}

static void disconnect(struct slg *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static void failed(struct slg *g, const char *what, int e)
{
	char why[256];

	snprintf(why, sizeof(why), "%s: %s", what, strerror(e));
	disconnect(g);
	set_state(g, OUT_ST_DOWN, why);
	backoff(g);
}

/* ---------------------------------------------------------------- formatting */

/* RFC 5424 PRINTUSASCII (33..126), at most max characters, "-" when empty. */
static void printable(char *out, const char *s, size_t max)
{
	size_t k = 0;

	for (; *s != '\0' && k < max; s++)
		out[k++] = *s > ' ' && *s < 0x7f ? *s : '_';
	if (k == 0)
		out[k++] = '-';
	out[k] = '\0';
}

static int sys_severity(const struct out_meta_copy *m)
{
	if (m->kind != OUT_ALERT && m->kind != OUT_INCIDENT)
		return 6; /* info */
	if (m->severity >= 9)
		return 2; /* crit */
	if (m->severity >= 7)
		return 3; /* err */
	if (m->severity >= 4)
		return 4; /* warning */
	if (m->severity >= 1)
		return 5; /* notice */
	return 6;
}

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 64 * 1024;
	char *nb;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Appends one framed message for line to g->msg. */
static int frame(struct slg *g, const struct out_meta_copy *m, const char *line, size_t len)
{
	char hdr[SYSLOG_HDR_MAX], msgid[SYSLOG_MSGID_MAX + 1];
	size_t hlen, body = 0, i, need;
	int pri = g->facility * 8 + sys_severity(m);
	char *p;

	if (g->t == T_LOCAL) {
		/* RFC 3164 style, local time, as syslog(3) writes it */
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];

		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
		hlen = (size_t)snprintf(hdr, sizeof(hdr), "<%d>%s %s[%s]: ", pri, ts, g->app, g->pid);
	} else {
		char ts[OP_TS_STRLEN];

		printable(msgid, m->kind == OUT_ALERT || m->kind == OUT_INCIDENT ? m->action
										: m->dataset,
			  SYSLOG_MSGID_MAX);
		util_ts_fmt(util_now_us(), ts);
		hlen = (size_t)snprintf(hdr, sizeof(hdr), "<%d>1 %s %s %s %s %s - ", pri, ts,
					g->hostname, g->app, g->pid, msgid);
	}
	if (hlen >= sizeof(hdr))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		body += c < 0x20 || c == 0x7f ? 6 : 1;
	}
	need = 24 + hlen + body;
	if (grow(&g->msg, &g->mcap, g->mlen + need) != 0)
		return -1;
	p = g->msg + g->mlen;
	if (g->t == T_TCP)
		p += snprintf(p, 24, "%zu ", hlen + body); /* octet counting */
	memcpy(p, hdr, hlen);
	p += hlen;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		/* defence in depth: a raw CR/LF/NUL must never reach a line-based parser */
		if (c < 0x20 || c == 0x7f) {
			snprintf(p, 7, "\\u%04x", c);
			p += 6;
		} else {
			*p++ = (char)c;
		}
	}
	g->mlen = (size_t)(p - g->msg);
	return 0;
}

/* ---------------------------------------------------------------- transport */

static int set_timeouts(int fd)
{
	struct timeval tv = { SYSLOG_SEND_TIMEOUT_MS / 1000, (SYSLOG_SEND_TIMEOUT_MS % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Connects with a timeout: a collector that does not answer must not hold the output
 * thread for the kernel's two minutes. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t sl)
{
	int fl = fcntl(fd, F_GETFL), rc, e = 0;
	socklen_t el = sizeof(e);
	struct pollfd pf = { fd, POLLOUT, 0 };

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	rc = connect(fd, sa, sl);
	if (rc != 0 && errno == EINPROGRESS) {
		do
			rc = poll(&pf, 1, SYSLOG_CONNECT_TIMEOUT_MS);
		while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			return -1;
		if (e != 0) {
			errno = e;
			return -1;
		}
		rc = 0;
	}
	if (rc != 0)
		return -1;
	return fcntl(fd, F_SETFL, fl);
}

static int open_socket(struct slg *g)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, e = 0, rc;

	disconnect(g);
	if (g->t == T_LOCAL) {
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		util_strlcpy(sa.sun_path, g->path, sizeof(sa.sun_path));
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			e = errno;
			if (fd >= 0)
				close(fd);
			failed(g, g->path, e);
			return -1;
		}
		set_timeouts(fd);
		g->fd = fd;
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = g->t == T_TCP ? SOCK_STREAM : SOCK_DGRAM;
	rc = getaddrinfo(g->host, g->port, &hints, &res);
	if (rc != 0) {
		char why[300];

		snprintf(why, sizeof(why), "cannot resolve %s: %s", g->host, gai_strerror(rc));
		set_state(g, OUT_ST_DOWN, why);
		backoff(g);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect_timeout(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		failed(g, "connect", e ? e : ECONNREFUSED);
		return -1;
	}
	set_timeouts(fd);
	g->fd = fd;
	out_health_add(&g->o->health.reconnects, 1);
	return 0;
}

/* A collector that closed the connection is seen before the next batch goes into a
 * dead socket (where the kernel would accept it and lose it). */
static bool peer_closed(int fd)
{
	struct pollfd pf = { fd, POLLIN, 0 };
	char c;

	if (poll(&pf, 1, 0) <= 0)
		return false;
	if (pf.revents & (POLLERR | POLLHUP))
		return true;
	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Sends g->msg (n messages ending at g->ends[]). Returns the number of messages that
 * went out whole; on an error the connection is closed. */
static size_t send_msgs(struct slg *g, size_t n)
{
	size_t done = 0, k = 0, start = 0;

	if (g->t == T_TCP) {
		if (peer_closed(g->fd)) {
			failed(g, "send", ECONNRESET);
			return 0;
		}
		while (done < g->mlen) {
			ssize_t w = send(g->fd, g->msg + done, g->mlen - done, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int e = w < 0 ? errno : EIO;

				while (k < n && g->ends[k] <= done)
					k++;
				failed(g, "send", e == EAGAIN ? ETIMEDOUT : e);
				return k;
			}
			done += (size_t)w;
		}
		return n;
	}
	for (k = 0; k < n; k++) {
		size_t len = g->ends[k] - start;
		ssize_t w;

		do
			w = send(g->fd, g->msg + start, len, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0) {
			int e = errno;

			if (g->t == T_UDP) {
				/* UDP: counted and reported, the next message is tried anyway */
				char why[128];

				snprintf(why, sizeof(why), "send: %s", strerror(e));
				set_state(g, OUT_ST_DOWN, why);
				out_health_add(&g->o->health.failures, 1);
				start = g->ends[k];
				continue;
			}
			failed(g, "send", e);
			return k;
		}
		if (g->t == T_UDP && g->state != OUT_ST_UP)
			set_state(g, OUT_ST_UP, "");
		start = g->ends[k];
	}
	return n;
}

static int push_end(struct slg *g, size_t i)
{
	if (i >= g->capends) {
		size_t ncap = g->capends ? g->capends * 2 : 256;
		size_t *ne;

		while (ncap <= i)
			ncap *= 2;
		ne = realloc(g->ends, ncap * sizeof(*ne));
		if (ne == NULL)
			return -1;
		g->ends = ne;
		g->capends = ncap;
	}
	g->ends[i] = g->mlen;
	return 0;
}

/* ---------------------------------------------------------------- spool */

static int keep(struct slg *g, const struct out_meta_copy *c, const char *line, size_t len)
{
	struct out_meta m;
	int rc;

	if (g->sp == NULL) {
		if (c->kind == OUT_ALERT || c->kind == OUT_INCIDENT)
			out_health_add(&g->o->health.lost, 1);
		return -1;
	}
	out_meta_view(c, &m);
	rc = spool_append(g->sp, c->kind, 0, &m, line, len);
	if (rc == 0)
		g->spool_failing = false;
	if (rc != 0) {
		/* once per run of failures: a full disk would otherwise log per line */
		if (rc < 0 && !g->spool_failing)
			out_logf(g->o, "cannot write the spool %s: %s (alerts are lost until it works; "
			     "further failures are counted)", spool_base(g->sp), strerror(errno));
		g->spool_failing = rc < 0;
		if (c->kind == OUT_ALERT || c->kind == OUT_INCIDENT)
			out_health_add(&g->o->health.lost, 1);
		return -1;
	}
	return 0;
}

static void send_pending(struct slg *g)
{
	size_t i, n = g->nlines, sent;

	if (n == 0)
		return;
	g->mlen = 0;
	for (i = 0; i < n; i++) {
		if (frame(g, &g->lines[i].m, g->arena + g->lines[i].off, g->lines[i].len) != 0 ||
		    push_end(g, i) != 0)
			break;
		if (g->t == T_UDP && g->ends[i] - (i ? g->ends[i - 1] : 0) > SYSLOG_UDP_MAX) {
			/* too big for a datagram: refused and counted, not truncated into
			 * broken JSON */
			g->mlen = i ? g->ends[i - 1] : 0;
			out_health_add(&g->o->health.failures, 1);
			if (g->lines[i].m.kind == OUT_ALERT || g->lines[i].m.kind == OUT_INCIDENT)
				out_health_add(&g->o->health.lost, 1);
			memmove(&g->lines[i], &g->lines[i + 1], (n - i - 1) * sizeof(*g->lines));
			n--;
			i--;
		}
	}
	sent = g->fd >= 0 ? send_msgs(g, i) : 0;
	g->delivered += sent;
	if (g->t != T_UDP)
		for (i = sent; i < n; i++)
			keep(g, &g->lines[i].m, g->arena + g->lines[i].off, g->lines[i].len);
	g->nlines = 0;
	g->alen = 0;
	publish_health(g);
}

static int replay_some(struct slg *g, double deadline)
{
	while (g->sp != NULL && !spool_empty(g->sp) && g->fd >= 0) {
		struct out_meta_copy c;
		size_t i, n, sent;
		int got;

		got = spool_peek(g->sp, g->recs, SYSLOG_BATCH, SYSLOG_BATCH_BYTES);
		if (got <= 0) {
			if (got < 0)
				out_logf(g->o, "cannot read the spool %s: %s", spool_base(g->sp), strerror(errno));
			return got;
		}
		n = (size_t)got;
		g->mlen = 0;
		for (i = 0; i < n; i++) {
			out_meta_copy(&c, g->recs[i].kind, &g->recs[i].meta, g->recs[i].line,
				      g->recs[i].len);
			if (frame(g, &c, g->recs[i].line, g->recs[i].len) != 0 || push_end(g, i) != 0)
				break;
		}
		sent = send_msgs(g, i);
		g->delivered += sent;
		spool_consume(g->sp, sent, 0);
		if (sent < n)
			return -1;
		if (util_mono_s() >= deadline)
			break;
	}
	return 0;
}

static void service(struct slg *g, double now, double budget)
{
	if (g->t == T_UDP)
		return;
	if (g->fd < 0) {
		if (now < g->next_try || open_socket(g) != 0)
			return;
	}
	if (replay_some(g, now + budget) != 0)
		return;
	if (g->state != OUT_ST_UP) {
		set_state(g, OUT_ST_UP, "");
		g->backoff = 0;
	}
}

/* ---------------------------------------------------------------- ops */

static int slg_write(struct output *o, enum out_kind kind, const char *line, size_t len,
		     const struct out_meta *meta)
{
	struct slg *g = o->priv;
	struct sline *l;

	if (kind == OUT_BASELINE)
		return 0; /* Redis only (output.h) */
	if (g->nlines == g->caplines) {
		size_t ncap = g->caplines ? g->caplines * 2 : 256;
		struct sline *nl = realloc(g->lines, ncap * sizeof(*nl));

		if (nl == NULL)
			return -1;
		g->lines = nl;
		g->caplines = ncap;
	}
	l = &g->lines[g->nlines];
	out_meta_copy(&l->m, kind, meta, line, len);
	if (g->t != T_UDP && (g->fd < 0 || (g->sp != NULL && !spool_empty(g->sp))))
		return keep(g, &l->m, line, len);
	if (grow(&g->arena, &g->acap, g->alen + len + 1) != 0)
		return g->t != T_UDP ? keep(g, &l->m, line, len) : -1;
	memcpy(g->arena + g->alen, line, len);
	l->off = g->alen;
	l->len = len;
	g->alen += len + 1;
	g->nlines++;
	if (g->nlines >= SYSLOG_BATCH || g->alen >= SYSLOG_BATCH_BYTES)
		send_pending(g);
	return 0;
}

static int slg_write_plain(struct output *o, enum out_kind kind, const char *line, size_t len)
{
	return slg_write(o, kind, line, len, NULL);
}

static int slg_flush(struct output *o)
{
	struct slg *g = o->priv;

	send_pending(g);
	service(g, util_mono_s(), SYSLOG_REPLAY_SLICE_S);
	if (g->sp != NULL)
		spool_sync(g->sp);
	publish_health(g);
	return 0;
}

static void slg_tick(struct output *o, double now)
{
	struct slg *g = o->priv;

	send_pending(g);
	service(g, now, SYSLOG_REPLAY_SLICE_S);
	publish_health(g);
}

static int slg_reopen(struct output *o)
{
	struct slg *g = o->priv;

	/* SIGHUP: a restarted local syslogd has a new socket behind the same path */
	send_pending(g);
	if (g->t != T_UDP) {
		disconnect(g);
		g->next_try = 0;
		g->backoff = 0;
		service(g, util_mono_s(), SYSLOG_REPLAY_SLICE_S);
	}
	return 0;
}

static void slg_close(struct output *o)
{
	struct slg *g = o->priv;
	double end = util_mono_s() + SYSLOG_CLOSE_BUDGET_S;

	if (g == NULL)
		return;
	send_pending(g);
	if (g->sp != NULL && !spool_empty(g->sp)) {
		g->next_try = 0;
		while (!spool_empty(g->sp) && util_mono_s() < end) {
			service(g, util_mono_s(), end - util_mono_s());
			if (g->fd < 0)
				break;
		}
		if (!spool_empty(g->sp)) {
			struct spool_stats st;

			spool_get_stats(g->sp, &st);
			out_logf(g->o, "%" PRIu64 " alerts and %" PRIu64 " records are left in the spool %s; "
			      "the next run sends them first", st.alerts, st.records, spool_base(g->sp));
		}
	}
	publish_health(g);
	disconnect(g);
	spool_close(g->sp);
	free(g->lines);
	free(g->arena);
	free(g->msg);
	free(g->ends);
	free(g->recs);
	free(g);
	o->priv = NULL;
}

/* ---------------------------------------------------------------- open */

static int set_facility(struct slg *g, const char *v, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(facilities); i++) {
		if (strcasecmp(v, facilities[i].name) == 0) {
			g->facility = facilities[i].code;
			return 0;
		}
	}
	snprintf(err, errlen, "facility '%s' unknown (daemon, auth, local0 ... local7, ...)", v);
	return -1;
}

int out_syslog_facility(const char *name)
{
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(facilities); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].code;
	return -1;
}

static int parse_params(struct slg *g, const char *q, char *err, size_t errlen)
{
	while (*q != '\0') {
		const char *amp = strchr(q, '&'), *eq;
		size_t n = amp != NULL ? (size_t)(amp - q) : strlen(q);
		char k[32], v[SYSLOG_HOST_MAX + 1];

		eq = memchr(q, '=', n);
		if (eq == NULL || (size_t)(eq - q) >= sizeof(k) || n - (size_t)(eq - q) > sizeof(v)) {
			snprintf(err, errlen, "expected key=value after '?', not '%.*s'", (int)n, q);
			return -1;
		}
		memcpy(k, q, (size_t)(eq - q));
		k[eq - q] = '\0';
		memcpy(v, eq + 1, n - (size_t)(eq - q) - 1);
		v[n - (size_t)(eq - q) - 1] = '\0';
		if (strcmp(k, "facility") == 0) {
			if (set_facility(g, v, err, errlen) != 0)
				return -1;
		} else if (strcmp(k, "app") == 0) {
			printable(g->app, v, SYSLOG_APP_MAX);
		} else if (strcmp(k, "hostname") == 0) {
			printable(g->hostname, v, SYSLOG_HOST_MAX);
		} else {
			snprintf(err, errlen, "unknown parameter '%s' (known: facility, app, hostname)", k);
			return -1;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

static int open_common(struct output *o, const char *arg, enum transport t, char *err,
		       size_t errlen)
{
	const struct out_settings *set = o->set;
	struct out_settings defaults;
	char buf[OUT_PATH_MAX], *q;
	struct slg *g;

	if (set == NULL) {
		out_settings_defaults(&defaults);
		set = &defaults;
	}
	if (util_strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf) - 1) {
		snprintf(err, errlen, "too long");
		return -1;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->o = o;
	g->t = t;
	g->fd = -1;
	g->state = OUT_ST_CONNECTING;
	g->facility = set->syslog.facility >= 0 && set->syslog.facility <= 23 ? set->syslog.facility : 16;
	printable(g->app, set->syslog.app_name[0] ? set->syslog.app_name : "onpath", SYSLOG_APP_MAX);
	printable(g->hostname, set->syslog.hostname[0] ? set->syslog.hostname :
			       set->sensor_name[0] ? set->sensor_name : "-", SYSLOG_HOST_MAX);
	snprintf(g->pid, sizeof(g->pid), "%ld", (long)getpid());
	q = strchr(buf, '?');
	if (q != NULL)
		*q++ = '\0';
	if (t == T_LOCAL) {
		util_strlcpy(g->path, buf[0] ? buf : SYSLOG_DEFAULT_PATH, sizeof(g->path));
		if (g->path[0] != '/' || strlen(g->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "expected syslog or syslog:/path/to/socket (absolute, "
				 "under 108 bytes)");
			goto fail;
		}
	} else {
		char *host = buf, *port = NULL;

		if (strncmp(host, "//", 2) != 0) {
			snprintf(err, errlen, "expected %s://host[:port]", t == T_TCP ? "syslog+tcp" : "syslog+udp");
			goto fail;
		}
		host += 2;
		if (host[strlen(host) > 0 ? strlen(host) - 1 : 0] == '/')
			host[strlen(host) - 1] = '\0';
		if (*host == '[') {
			char *rb = strchr(host, ']');

			if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) {
				snprintf(err, errlen, "bad IPv6 address (expected [addr]:port)");
				goto fail;
			}
			*rb = '\0';
			if (rb[1] == ':')
				port = rb + 2;
			host++;
		} else if ((port = strchr(host, ':')) != NULL) {
			*port++ = '\0';
		}
		if (*host == '\0' || strlen(host) >= sizeof(g->host)) {
			snprintf(err, errlen, "expected a host name or address");
			goto fail;
		}
		util_strlcpy(g->host, host, sizeof(g->host));
		if (port != NULL) {
			char *end;
			unsigned long p = strtoul(port, &end, 10);

			if (*port < '0' || *port > '9' || *end != '\0' || p == 0 || p > 65535) {
				snprintf(err, errlen, "bad port '%s'", port);
				goto fail;
			}
			snprintf(g->port, sizeof(g->port), "%lu", p);
		} else {
			util_strlcpy(g->port, SYSLOG_DEFAULT_PORT, sizeof(g->port));
		}
	}
	if (q != NULL && parse_params(g, q, err, errlen) != 0)
		goto fail;
	if (t != T_UDP && strcmp(set->spool_dir, "-") != 0) {
		struct spool_cfg sc;
		char name[SPOOL_NAME_MAX], why[512];

		if (t == T_TCP)
			snprintf(name, sizeof(name), "%.80s.syslog-%.80s-%s",
				 set->sensor_name[0] ? set->sensor_name : "onpath", g->host, g->port);
		else
			snprintf(name, sizeof(name), "%.80s.syslog-local",
				 set->sensor_name[0] ? set->sensor_name : "onpath");
		sc.dir = set->spool_dir[0] ? set->spool_dir : OUT_DEFAULT_SPOOL_DIR;
		sc.name = name;
		sc.max_bytes = set->spool_max;
		sc.fsync = set->spool_fsync;
		sc.label = o->spec;
		if (spool_open(&g->sp, &sc, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s (set --spool-dir or outputs.spool_dir to a writable "
				 "directory, or '-' for none)", why);
			goto fail;
		}
		g->recs = calloc(SYSLOG_BATCH, sizeof(*g->recs));
		if (g->recs == NULL) {
			snprintf(err, errlen, "out of memory");
			spool_close(g->sp);
			goto fail;
		}
	}
	o->priv = g;
	if (t == T_UDP) {
		/* connected UDP: the kernel reports an unreachable port on a later send */
		if (open_socket(g) != 0) {
			snprintf(err, errlen, "%s", g->why);
			o->priv = NULL;
			goto fail;
		}
		g->state = OUT_ST_UP;
	} else {
		service(g, util_mono_s(), SYSLOG_REPLAY_SLICE_S);
	}
	publish_health(g);
	return 0;
fail:
	free(g);
	return -1;
}

static int slg_open_local(struct output *o, const char *arg, char *err, size_t errlen)
{
	return open_common(o, arg, T_LOCAL, err, errlen);
}

static int slg_open_udp(struct output *o, const char *arg, char *err, size_t errlen)
{
	return open_common(o, arg, T_UDP, err, errlen);
}

static int slg_open_tcp(struct output *o, const char *arg, char *err, size_t errlen)
{
	return open_common(o, arg, T_TCP, err, errlen);
}

const struct output_ops out_syslog_ops = {
	.scheme = "syslog",
	.open = slg_open_local,
	.write = slg_write_plain,
	.write_meta = slg_write,
	.flush = slg_flush,
	.reopen = slg_reopen,
	.tick = slg_tick,
	.close = slg_close,
};

const struct output_ops out_syslog_udp_ops = {
	.scheme = "syslog+udp",
	.open = slg_open_udp,
	.write = slg_write_plain,
	.write_meta = slg_write,
	.flush = slg_flush,
	.reopen = slg_reopen,
	.tick = slg_tick,
	.close = slg_close,
};

const struct output_ops out_syslog_tcp_ops = {
	.scheme = "syslog+tcp",
	.open = slg_open_tcp,
	.write = slg_write_plain,
	.write_meta = slg_write,
	.flush = slg_flush,
	.reopen = slg_reopen,
	.tick = slg_tick,
	.close = slg_close,
};
