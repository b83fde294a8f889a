#include "config.h"

/* metrics.c - Prometheus text exposition format 0.0.4 at /metrics, served by
 * libmicrohttpd's own thread (see metrics.h for who writes what). The HTTP parsing is
 * libmicrohttpd's; this file only answers GET/HEAD /metrics and formats counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "alert.h"
#include "metrics.h"
#include "output.h"
#include "stats.h"
#include "util.h"

#define RENDER_START (16u * 1024)
#define LABEL_MAX 512

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_sensor g_last;  /* guarded by g_mu */
static bool g_have;
static struct MHD_Daemon *g_daemon;   /* owned by the thread that called metrics_start */
static struct out_mgr *g_out;
static unsigned g_port;
static uint64_t g_started;            /* unix seconds of metrics_start */

/* ---------------------------------------------------------------- counters */

void metrics_fill(struct metrics_sensor *m, const struct stats_run *r, struct alert_pipe *ap)
{
	struct alert_type_count tc[METRICS_MAX_TYPES];
	struct alert_pipe_stats as;
	size_t n, i;
	int k;

	memset(m, 0, offsetof(struct metrics_sensor, types));
	m->live = r->live;
	m->packets = r->sensor.packets;
	m->bytes = r->sensor.bytes;
	m->pcap_received = r->pcap_recv;
	m->pcap_dropped = r->pcap_drop;
	m->pcap_if_dropped = r->pcap_ifdrop;
	for (k = 1; k < DEC_RESULT_MAX; k++)
		m->decode_errors += r->sensor.decode_err[k];
	m->read_errors = r->read_errors;
	m->flows_active = r->sensor.flows.active;
	m->flows_created = r->sensor.flows.created;
	m->flows_expired = r->sensor.flows.expired;
	m->flows_evicted = r->sensor.flows.evicted;
	m->streams_bytes = r->sensor.streams.bytes_in_use;
	m->streams_refused = r->sensor.streams.refused;
	m->out_submitted = r->out_submitted;
	m->out_dropped = r->out_dropped;
	m->out_errors = r->out_errors;
	if (ap == NULL)
		return;
	alert_pipe_get_stats(ap, &as);
	m->alerts_written = as.written;
	m->alerts_suppressed = as.suppressed;
	m->alerts_below_min = as.below_min;
	m->alerts_dropped = as.dropped;
	n = alert_pipe_counts(ap, tc, METRICS_MAX_TYPES);
	if (n > METRICS_MAX_TYPES)
		n = METRICS_MAX_TYPES;
	for (i = 0; i < n; i++) {
		util_strlcpy(m->types[i].action, tc[i].action ? tc[i].action : "unknown",
			     sizeof(m->types[i].action));
		m->types[i].written = tc[i].written;
		m->types[i].suppressed = tc[i].suppressed;
	}
	m->ntypes = n;
}

void metrics_publish(const struct metrics_sensor *m)
{
	size_t n = m->ntypes > METRICS_MAX_TYPES ? METRICS_MAX_TYPES : m->ntypes;

	pthread_mutex_lock(&g_mu);
	/* Only the used part of the type table. */
	memcpy(&g_last, m, offsetof(struct metrics_sensor, types) + n * sizeof(m->types[0]));
	g_last.ntypes = n;
	g_have = true;
	pthread_mutex_unlock(&g_mu);
}

int metrics_get(struct metrics_sensor *m)
{
	int rc = -1;

	pthread_mutex_lock(&g_mu);
	if (g_have) {
		memcpy(m, &g_last, offsetof(struct metrics_sensor, types) +
		       g_last.ntypes * sizeof(g_last.types[0]));
		rc = 0;
	}
	pthread_mutex_unlock(&g_mu);
	return rc;
}

/* ---------------------------------------------------------------- rendering */

struct buf {
	char *p;
	size_t len, cap;
	bool err;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t ncap = b->cap * 2;
			char *np;

			while (ncap < b->len + (size_t)n + 1)
				ncap *= 2;
			np = realloc(b->p, ncap);
			if (np == NULL) {
				b->err = true;
				return;
			}
			b->p = np;
			b->cap = ncap;
		}
	}
}

/* A label value: backslash, double quote and newline escaped (exposition format);
 * other control bytes are replaced, so a hostile name cannot forge a line. */
static const char *label(const char *s, char out[LABEL_MAX])
{
	size_t k = 0;

	for (; *s != '\0' && k + 3 < LABEL_MAX; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else {
			out[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	out[k] = '\0';
	return out;
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct buf *b, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	head(b, name, type, help);
	bprintf(b, "%s %" PRIu64 "\n", name, v);
}

static void render_sensor(struct buf *b, const struct metrics_sensor *m)
{
	char l[LABEL_MAX];
	size_t i;

	metric(b, "onpath_packets_total", "counter", "Packets read.", m->packets);
	metric(b, "onpath_bytes_total", "counter", "Bytes of packets read.", m->bytes);
	if (m->live) {
		metric(b, "onpath_pcap_received_total", "counter",
		       "Packets the capture saw (libpcap ps_recv).", m->pcap_received);
		metric(b, "onpath_pcap_dropped_total", "counter",
		       "Packets the kernel dropped because the sensor was too slow (ps_drop).",
		       m->pcap_dropped);
		metric(b, "onpath_pcap_if_dropped_total", "counter",
		       "Packets the interface dropped (ps_ifdrop).", m->pcap_if_dropped);
	}
	metric(b, "onpath_decode_errors_total", "counter", "Frames that could not be decoded.",
	       m->decode_errors);
	metric(b, "onpath_read_errors_total", "counter", "Capture records libpcap could not read.",
	       m->read_errors);
	metric(b, "onpath_flows_active", "gauge", "Flows in the flow table.", m->flows_active);
	metric(b, "onpath_flows_created_total", "counter", "Flows created.", m->flows_created);
	metric(b, "onpath_flows_expired_total", "counter", "Flows expired by timeout.",
	       m->flows_expired);
	metric(b, "onpath_flows_evicted_total", "counter",
	       "Flows evicted because the table was full.", m->flows_evicted);
	metric(b, "onpath_stream_bytes", "gauge", "Bytes held by TCP reassembly.", m->streams_bytes);
	metric(b, "onpath_streams_refused_total", "counter",
	       "Streams not reassembled because the budget was spent.", m->streams_refused);
	head(b, "onpath_alerts_total", "counter", "Alerts written, by event.action.");
	for (i = 0; i < m->ntypes; i++)
		bprintf(b, "onpath_alerts_total{action=\"%s\"} %" PRIu64 "\n",
			label(m->types[i].action, l), m->types[i].written);
	head(b, "onpath_alerts_suppressed_total", "counter",
	     "Repeats folded into an aggregate alert, by event.action.");
	for (i = 0; i < m->ntypes; i++)
		bprintf(b, "onpath_alerts_suppressed_total{action=\"%s\"} %" PRIu64 "\n",
			label(m->types[i].action, l), m->types[i].suppressed);
	metric(b, "onpath_alerts_below_min_severity_total", "counter",
	       "Alerts below alerts.min_severity (counted, not written).", m->alerts_below_min);
	metric(b, "onpath_alerts_dropped_total", "counter",
	       "Alerts refused by a full output queue (live capture).", m->alerts_dropped);
}

static void render_outputs(struct buf *b, struct out_mgr *out)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fields[] = {
		{ "onpath_output_delivered_total", "counter",
		  "Lines the output's server acknowledged.", offsetof(struct out_health, delivered) },
		{ "onpath_output_spooled_total", "counter",
		  "Lines written to the spool while the server was unavailable.",
		  offsetof(struct out_health, spooled) },
		{ "onpath_output_replayed_total", "counter", "Spooled lines delivered later.",
		  offsetof(struct out_health, replayed) },
		{ "onpath_spool_bytes", "gauge", "Size of the output's spool on disk.",
		  offsetof(struct out_health, spool_bytes) },
		{ "onpath_spool_alerts", "gauge", "Alerts waiting in the spool.",
		  offsetof(struct out_health, spool_alerts) },
		{ "onpath_spool_records", "gauge", "Informational records waiting in the spool.",
		  offsetof(struct out_health, spool_records) },
		{ "onpath_spool_dropped_total", "counter",
		  "Informational records dropped because the spool was full.",
		  offsetof(struct out_health, spool_dropped) },
		{ "onpath_output_alerts_lost_total", "counter",
		  "Alerts the output could neither deliver nor spool (alarm on this).",
		  offsetof(struct out_health, lost) },
		{ "onpath_output_reconnects_total", "counter", "Successful (re)connections.",
		  offsetof(struct out_health, reconnects) },
		{ "onpath_output_failures_total", "counter",
		  "Failed connection attempts and refused batches.",
		  offsetof(struct out_health, failures) },
	};
	struct out_stats st;
	char spec[256], l[LABEL_MAX];
	struct out_health h;
	size_t i, f, n = out_mgr_count(out);
	int s;

	out_mgr_get_stats(out, &st);
	metric(b, "onpath_output_queue_depth", "gauge", "Lines waiting for the output thread.",
	       st.depth);
	metric(b, "onpath_output_queue_peak", "gauge", "Largest queue depth seen.", st.peak_depth);
	metric(b, "onpath_output_submitted_total", "counter", "Lines submitted to the outputs.",
	       st.submitted);
	metric(b, "onpath_output_queue_dropped_total", "counter",
	       "Lines dropped because the output queue was full (live capture).", st.dropped);
	metric(b, "onpath_output_errors_total", "counter", "Output write errors.", st.errors);

	head(b, "onpath_output_up", "gauge",
	     "1 when the output's server takes writes (always 1 for files).");
	for (i = 0; i < n; i++) {
		if (out_mgr_health(out, i, &h, spec, sizeof(spec)) != 0)
			continue;
		bprintf(b, "onpath_output_up{output=\"%s\"} %d\n", label(spec, l),
			h.state == OUT_ST_UP || h.state == OUT_ST_LOCAL);
	}
	head(b, "onpath_output_state", "gauge", "The output's connection state (one is 1).");
	for (i = 0; i < n; i++) {
		if (out_mgr_health(out, i, &h, spec, sizeof(spec)) != 0)
			continue;
		label(spec, l);
		for (s = 0; s < OUT_ST_MAX; s++)
			bprintf(b, "onpath_output_state{output=\"%s\",state=\"%s\"} %d\n", l,
				out_state_str((enum out_state)s), (uint64_t)s == h.state);
	}
	for (f = 0; f < ONPATH_ARRAY_LEN(fields); f++) {
		head(b, fields[f].name, fields[f].type, fields[f].help);
		for (i = 0; i < n; i++) {
			uint64_t v;

			if (out_mgr_health(out, i, &h, spec, sizeof(spec)) != 0)
				continue;
			memcpy(&v, (const char *)&h + fields[f].off, sizeof(v));
			bprintf(b, "%s{output=\"%s\"} %" PRIu64 "\n", fields[f].name, label(spec, l), v);
		}
	}
}

char *metrics_render(struct out_mgr *out, size_t *len)
{
	struct metrics_sensor *m = malloc(sizeof(*m));
	struct buf b = { malloc(RENDER_START), 0, RENDER_START, false };
	char l[LABEL_MAX];

	if (m == NULL || b.p == NULL) {
		free(m);
		free(b.p);
		return NULL;
	}
	b.p[0] = '\0';
	head(&b, "onpath_build_info", "gauge", "Version of the running sensor.");
	bprintf(&b, "onpath_build_info{version=\"%s\"} 1\n", label(PACKAGE_VERSION, l));
	if (g_started != 0)
		metric(&b, "onpath_start_time_seconds", "gauge",
		       "When the metrics server started (unix time).", g_started);
	if (metrics_get(m) == 0)
		render_sensor(&b, m);
	if (out != NULL)
		render_outputs(&b, out);
	free(m);
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---------------------------------------------------------------- HTTP */

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "method not allowed\n";
	struct MHD_Response *resp;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;
	char *text = NULL;
	size_t len = 0;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		resp = MHD_create_response_from_buffer(sizeof(not_allowed) - 1, (void *)not_allowed,
						       MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics") != 0) {
		status = MHD_HTTP_NOT_FOUND;
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		text = metrics_render(g_out, &len);
		if (text == NULL)
			return MHD_NO; /* out of memory: drop the connection */
		resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	}
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
						      : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, bool *v6,
			char *err, size_t errlen)
{
	char host[128];
	const char *port = NULL;
	unsigned long p;
	char *end;

	memset(ss, 0, sizeof(*ss));
	*v6 = false;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host)) {
			snprintf(err, errlen, "metrics '%s': expected [address]:port", s);
			return -1;
		}
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		port = rb + 2;
		*v6 = true;
	} else if ((port = strrchr(s, ':')) != NULL) {
		if ((size_t)(port - s) >= sizeof(host)) {
			snprintf(err, errlen, "metrics '%s': address too long", s);
			return -1;
		}
		memcpy(host, s, (size_t)(port - s));
		host[port - s] = '\0';
		port++;
	} else {
		util_strlcpy(host, "127.0.0.1", sizeof(host));
		port = s;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (*port < '0' || *port > '9' || *end != '\0' || errno != 0 || p > 65535) {
		snprintf(err, errlen, "metrics '%s': bad port (expected [ADDR:]PORT, e.g. 127.0.0.1:%d)",
			 s, METRICS_DEFAULT_PORT);
		return -1;
	}
	if (*v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
		*sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
		*sl = sizeof(*a);
	}
	return 0;
bad:
	snprintf(err, errlen, "metrics '%s': '%s' is not an IP address", s, host);
	return -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int metrics_start(const char *listen, struct out_mgr *out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	sigset_t all, old;
	socklen_t sl = 0;
	bool v6;
	int e;

	if (g_daemon != NULL) {
		snprintf(err, errlen, "metrics: already started");
		return -1;
	}
	if (parse_listen(listen, &ss, &sl, &v6, err, errlen) != 0)
		return -1;
	(void)sl;
	if (!is_loopback(&ss))
		fprintf(stderr, "onpath: metrics on %s: not a loopback address, so anyone who can "
			"reach it reads the sensor's counters; prefer a loopback address and a "
			"scraper on the host\n", listen);
	g_out = out;
	g_started = (uint64_t)time(NULL);
	/* The HTTP thread must not take the signals meant for the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	g_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				    (v6 ? MHD_USE_IPv6 : 0),
				    0, NULL, NULL, answer, NULL,
				    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
				    MHD_OPTION_END);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (g_daemon == NULL) {
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", listen,
			 e ? strerror(e) : "libmicrohttpd refused");
		g_out = NULL;
		return -1;
	}
	info = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_BIND_PORT);
	g_port = info != NULL ? info->port : 0;
	return 0;
}

unsigned metrics_port(void)
{
	return g_port;
}

void metrics_stop(void)
{
	if (g_daemon != NULL)
		MHD_stop_daemon(g_daemon);
	g_daemon = NULL;
	g_out = NULL;
	g_port = 0;
}
