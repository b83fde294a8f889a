/* main.c - onpath: options, signals, lifecycle.
 *
 * Order of work: parse options, load the config and signatures (errors as file:line),
 * open every input and output, then read packets until the inputs end or a signal
 * says stop. SIGINT/SIGTERM flush everything and exit 0; SIGHUP reloads the config and
 * signatures and reopens output files; SIGUSR1 writes the stats to stderr.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../detectors/detector.h"
#include "../detectors/issuer.h"
#include "../detectors/records.h"
#include "capture.h"
#include "cfg.h"
#include "metrics.h"
#include "output.h"
#include "priv.h"
#include "sensor.h"
#include "sig.h"
#include "stats.h"
#include "util.h"
#include "workers.h"

#define ONPATH_DEFAULT_LIVE_OUTPUT "jsonl:/var/log/onpath/alerts.jsonl"
#define ONPATH_MAX_INPUTS 256
#define ONPATH_ERR 1024
#define PROGRESS_INTERVAL_S 0.5
/* How often the main loop hands its counters to /metrics and the redis heartbeat. */
#define METRICS_PUBLISH_INTERVAL_S 1.0

static volatile sig_atomic_t g_stop, g_reload, g_stats;
static struct cap *volatile g_cap;
static double g_metrics_last; /* when publish_metrics() last published */

static void on_signal(int sig)
{
	switch (sig) {
	case SIGINT:
	case SIGTERM:
		g_stop = 1;
		cap_break(g_cap);
		break;
	case SIGHUP:
		g_reload = 1;
		cap_break(g_cap);
		break;
	case SIGUSR1:
		g_stats = 1;
		cap_break(g_cap);
		break;
	}
}

struct opts {
	const char *files[ONPATH_MAX_INPUTS];
	size_t nfiles;
	const char *iface;
	const char *bpf;
	const char *config;
	const char *outputs[OUT_MAX_OUTPUTS];
	size_t noutputs;
	const char *name;
	const char *sig_dir;
	const char *state_file;
	uint64_t buffer;
	int snaplen;
	unsigned workers;           /* -w / capture.workers; 0 = the default */
	bool no_promisc;
	const char *spool_dir;      /* --spool-dir, wins over outputs.spool_dir */
	const char *metrics;        /* --metrics, wins over outputs.metrics */
	struct out_config oc;       /* the outputs section (spool, redis, syslog, metrics) */
	struct priv_cfg priv;       /* -u / sensor.user, --no-seccomp / sensor.seccomp */
	bool no_seccomp;
	bool stats_json, no_stats, quiet, check_config, list_alerts;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: onpath [-r FILE]... | -i IFACE  [options]\n"
		"Passive sensor for on-path (man-in-the-middle) interception indicators.\n"
		"\n"
		"Input:\n"
		"  -r, --read FILE          read a pcap or pcapng file ('-' = stdin); repeatable\n"
		"  -i, --interface IFACE    capture live (promiscuous, full snaplen)\n"
		"  -f, --filter BPF         capture filter (libpcap syntax)\n"
		"  -B, --buffer-size SIZE   live capture ring, e.g. 256M (default 256M)\n"
		"  -s, --snaplen N          live snapshot length (default %d)\n"
		"  -p, --no-promisc         do not put the interface in promiscuous mode\n"
		"  -w, --workers N          live capture threads, packets split by flow\n"
		"                           (PACKET_FANOUT); default: CPUs - 1, at least 1\n"
		"Configuration:\n"
		"  -c, --config FILE        YAML configuration (see onpath(8))\n"
		"      --check-config       validate the configuration and signatures, then exit\n"
		"      --signatures DIR     signatures directory (default %s)\n"
		"      --ca-file PEM        trust these CAs too (enterprise CAs); repeatable\n"
		"  -n, --name NAME          sensor name for observer.name (default: host name)\n"
		"      --state FILE         load learned baselines from FILE and save them back\n"
		"                           (atomically: at exit, on SIGHUP, every state_interval)\n"
		"  -u, --user USER          once the capture, outputs, state and signatures are open,\n"
		"                           run as USER with no capabilities and a seccomp allow-list\n"
		"      --no-seccomp         with -u: do not install the seccomp filter\n"
		"Output:\n"
		"  -o, --output SPEC        jsonl:- (stdout), jsonl:/path, redis://[user:pass@]host:port/db,\n"
		"                           redis+unix:///path/redis.sock, syslog, syslog+udp://host:514,\n"
		"                           syslog+tcp://host:514; repeatable (see onpath(8) OUTPUTS).\n"
		"                           Default: jsonl:- offline, %s live\n"
		"      --spool-dir DIR      where redis/syslog outputs keep what the server did not\n"
		"                           take ('-' = no spool; default %s)\n"
		"      --metrics [ADDR:]PORT  Prometheus metrics at http://ADDR:PORT/metrics\n"
		"                           (ADDR defaults to 127.0.0.1)\n"
		"      --log-tls, --log-dns, --log-arp\n"
		"                           also write protocol records (event.kind \"event\"): one\n"
		"                           per TLS handshake, DNS response, ARP table change\n"
		"      --log LIST           the same as a list: tls,dns,arp or all\n"
		"      --stats-json         print the end-of-run stats as one JSON object\n"
		"      --no-stats           do not print stats at the end of the run\n"
		"  -q, --quiet              no progress line on a terminal\n"
		"Information:\n"
		"      --list-alerts        list every alert type with severity and ATT&CK id\n"
		"  -V, --version            print the version\n"
		"  -h, --help               this text\n"
		"\n"
		"Signals: SIGINT/SIGTERM flush and exit 0, SIGHUP reloads the configuration and\n"
		"signatures and reopens output files, SIGUSR1 prints the stats to stderr.\n",
		CAP_DEFAULT_SNAPLEN, sig_default_dir(), ONPATH_DEFAULT_LIVE_OUTPUT, OUT_DEFAULT_SPOOL_DIR);
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (end == s || errno)
		return -1;
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ull * 1024 * 1024;
	else if (*end != '\0')
		return -1;
	if (mul > 1 && end[1] != '\0' && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
		return -1;
	if (n > UINT64_MAX / mul)
		return -1;
	*v = n * mul;
	return 0;
}

enum { OPT_CHECK = 256, OPT_SIGS, OPT_STATS_JSON, OPT_NO_STATS, OPT_LIST_ALERTS, OPT_STATE,
       OPT_CA_FILE, OPT_SPOOL_DIR,
       OPT_METRICS, OPT_LOG, OPT_LOG_TLS, OPT_LOG_DNS, OPT_LOG_ARP,
       OPT_NO_SECCOMP };

/* --log LIST: "tls,dns,arp" or "all" -> DET_LOG_* bits; -1 on an unknown name. */
static int parse_log_list(const char *s, unsigned *mask)
{
	static const struct {
		const char *name;
		unsigned bits;
	} names[] = { { "tls", DET_LOG_TLS }, { "dns", DET_LOG_DNS }, { "arp", DET_LOG_ARP },
		      { "all", DET_LOG_ALL } };
	unsigned m = 0;
	while (*s) {
		size_t n = strcspn(s, ","), i;
		for (i = 0; i < ONPATH_ARRAY_LEN(names); i++)
			if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0)
				break;
		if (i == ONPATH_ARRAY_LEN(names))
			return -1;
		m |= names[i].bits;
		s += n;
		if (*s == ',')
			s++;
	}
	if (!m)
		return -1;
	*mask |= m;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "workers", required_argument, NULL, 'w' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "no-promisc", no_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "signatures", required_argument, NULL, OPT_SIGS },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "spool-dir", required_argument, NULL, OPT_SPOOL_DIR },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-tls", no_argument, NULL, OPT_LOG_TLS },
		{ "log-dns", no_argument, NULL, OPT_LOG_DNS },
		{ "log-arp", no_argument, NULL, OPT_LOG_ARP },
		{ "user", required_argument, NULL, 'u' },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
		{ "stats-json", no_argument, NULL, OPT_STATS_JSON },
		{ "no-stats", no_argument, NULL, OPT_NO_STATS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "list-alerts", no_argument, NULL, OPT_LIST_ALERTS },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "r:i:f:B:s:pw:c:n:o:u:qVh", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->nfiles == ONPATH_MAX_INPUTS) {
				fprintf(stderr, "onpath: at most %d -r files\n", ONPATH_MAX_INPUTS);
				return -1;
			}
			o->files[o->nfiles++] = optarg;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'f':
			o->bpf = optarg;
			break;
		case 'B':
			if (parse_size(optarg, &o->buffer) < 0 || o->buffer < 65536) {
				fprintf(stderr, "onpath: --buffer-size '%s': expected a size of at least 64K (e.g. 256M)\n", optarg);
				return -1;
			}
			break;
		case 's': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 64 || n > 262144) {
				fprintf(stderr, "onpath: --snaplen '%s': expected 64..262144\n", optarg);
				return -1;
			}
			o->snaplen = (int)n;
			break;
		}
		case 'p':
			o->no_promisc = true;
			break;
		case 'w': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > SENSOR_WORKERS_MAX) {
				fprintf(stderr, "onpath: --workers '%s': expected 1..%d\n", optarg,
					SENSOR_WORKERS_MAX);
				return -1;
			}
			o->workers = (unsigned)n;
			break;
		}
		case 'c':
			o->config = optarg;
			break;
		case OPT_CHECK:
			o->check_config = true;
			break;
		case OPT_SIGS:
			o->sig_dir = optarg;
			break;
		case OPT_STATE:
			o->state_file = optarg;
			break;
		case 'u':
			o->priv.user = optarg;
			break;
		case OPT_NO_SECCOMP:
			o->no_seccomp = true;
			break;
		case OPT_CA_FILE:
			/* Read by the issuer detector with tls.ca_files when it starts. */
			if (det_issuer_add_ca_file(optarg) < 0) {
				fprintf(stderr, "onpath: --ca-file %s: too many CA files\n", optarg);
				return -1;
			}
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'o':
			if (o->noutputs == OUT_MAX_OUTPUTS) {
				fprintf(stderr, "onpath: at most %d outputs\n", OUT_MAX_OUTPUTS);
				return -1;
			}
			o->outputs[o->noutputs++] = optarg;
			break;
		case OPT_SPOOL_DIR:
			o->spool_dir = optarg;
			break;
		case OPT_METRICS:
			o->metrics = optarg;
			break;
		case OPT_LOG: {
			/* Read by the records and arp detectors when they start (records.h). */
			unsigned m = det_records_cli_mask();
			if (parse_log_list(optarg, &m) < 0) {
				fprintf(stderr, "onpath: --log '%s': expected a list of tls, dns, arp or all\n", optarg);
				return -1;
			}
			det_records_cli(m);
			break;
		}
		case OPT_LOG_TLS:
			det_records_cli(det_records_cli_mask() | DET_LOG_TLS);
			break;
		case OPT_LOG_DNS:
			det_records_cli(det_records_cli_mask() | DET_LOG_DNS);
			break;
		case OPT_LOG_ARP:
			det_records_cli(det_records_cli_mask() | DET_LOG_ARP);
			break;
		case OPT_STATS_JSON:
			o->stats_json = true;
			break;
		case OPT_NO_STATS:
			o->no_stats = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_LIST_ALERTS:
			o->list_alerts = true;
			break;
		case 'V':
			printf("onpath %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'onpath --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "onpath: unexpected argument '%s' (inputs are given with -r FILE)\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

static void list_alerts(void)
{
	printf("%-32s %-4s %-10s %s\n", "ACTION", "SEV", "ATT&CK", "SUMMARY");
	for (size_t i = 0; i < det_builtin_count; i++)
		for (size_t j = 0; j < det_builtin[i]->ntypes; j++) {
			const struct alert_type *t = &det_builtin[i]->types[j];
			printf("%-32s %-4d %-10s %s\n", t->action, t->severity, t->technique_id,
			       t->summary);
		}
}

/* Capture and output settings from the config; the command line wins. */
static const char *const top_keys[] = { "sensor", "capture", "flows", "streams", "alerts",
					"outputs", "detectors", "geoip", "tls", NULL };
static const char *const capture_keys[] = { "interface", "filter", "buffer_size", "snaplen",
					    "promisc", "workers", NULL };

static int apply_config(const struct cfg *c, struct opts *o, char *err, size_t errlen)
{
	/* Defaults too when there is no config: the spool and redis settings. */
	if (out_cfg_load(&o->oc, c, err, errlen) < 0)
		return -1;
	if (!c || !c->root)
		return 0;
	if (c->root->type != CFG_MAP) {
		cfg_errf(c, c->root, err, errlen, "the configuration must be a map of sections");
		return -1;
	}
	if (cfg_check_keys(c, c->root, "the top level", top_keys, err, errlen) < 0)
		return -1;
	const struct cfg_node *cap = cfg_get(c->root, "capture");
	if (cfg_check_keys(c, cap, "capture", capture_keys, err, errlen) < 0)
		return -1;
	const char *s = NULL;
	uint64_t v;
	bool b;
	int r;
	if ((r = cfg_str(c, cap, "interface", &s, err, errlen)) < 0)
		return -1;
	if (r && !o->iface && !o->nfiles)
		o->iface = s;
	if ((r = cfg_str(c, cap, "filter", &s, err, errlen)) < 0)
		return -1;
	if (r && !o->bpf)
		o->bpf = s;
	if ((r = cfg_size(c, cap, "buffer_size", 65536, 1ull << 31, &v, err, errlen)) < 0)
		return -1;
	if (r && !o->buffer)
		o->buffer = v;
	if ((r = cfg_uint(c, cap, "snaplen", 64, 262144, &v, err, errlen)) < 0)
		return -1;
	if (r && !o->snaplen)
		o->snaplen = (int)v;
	if ((r = cfg_uint(c, cap, "workers", 1, SENSOR_WORKERS_MAX, &v, err, errlen)) < 0)
		return -1;
	if (r && !o->workers)
		o->workers = (unsigned)v;
	if ((r = cfg_bool(c, cap, "promisc", &b, err, errlen)) < 0)
		return -1;
	if (r && !b)
		o->no_promisc = true;
	const struct cfg_node *sen = cfg_get(c->root, "sensor");
	if ((r = cfg_str(c, sen, "user", &s, err, errlen)) < 0)
		return -1;
	if (r && !o->priv.user)
		o->priv.user = s;
	if ((r = cfg_bool(c, sen, "seccomp", &b, err, errlen)) < 0)
		return -1;
	if (r && !b)
		o->no_seccomp = true;
	/* outputs: a list of specs, or a map with targets and settings (out_cfg_load) */
	if (!o->noutputs)
		for (size_t i = 0; i < o->oc.nspecs; i++)
			o->outputs[o->noutputs++] = o->oc.specs[i];
	return 0;
}

/* -u: the files the sensor goes on writing become the user's (jsonl outputs, the
 * spool directory, the state file), then the drop (priv.h); then the state file's
 * directory must be writable, or every save would fail later. */
static int drop_privileges(struct opts *o, const char *state_file, char *err, size_t errlen)
{
	for (size_t i = 0; i < o->noutputs; i++) {
		const char *p = o->outputs[i];
		if (strncmp(p, "jsonl:", 6) == 0 && strcmp(p + 6, "-") != 0 &&
		    priv_chown_for(&o->priv, p + 6, false, err, errlen) < 0)
			return -1;
	}
	const char *spool = o->oc.set.spool_dir[0] ? o->oc.set.spool_dir : OUT_DEFAULT_SPOOL_DIR;
	if (strcmp(spool, "-") != 0 && priv_chown_for(&o->priv, spool, true, err, errlen) < 0)
		return -1;
	if (state_file && priv_chown_for(&o->priv, state_file, false, err, errlen) < 0)
		return -1;
	if (priv_drop(&o->priv, err, errlen) < 0)
		return -1;
	if (state_file) {
		char dir[4096];
		util_strlcpy(dir, state_file, sizeof(dir));
		char *slash = strrchr(dir, '/');
		if (!slash)
			util_strlcpy(dir, ".", sizeof(dir));
		else if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (access(dir, W_OK | X_OK) != 0) {
			int e = errno;
			snprintf(err, errlen, "--state: user %s cannot write the directory %.900s (%s): "
				 "make it theirs", o->priv.user, dir, strerror(e));
			return -1;
		}
	}
	return 0;
}

struct progress {
	bool on;
	double last, start;
	uint64_t last_pkts;
};

static void progress_show(struct progress *pg, struct cap *c, uint64_t pkts, bool final)
{
	if (!pg->on)
		return;
	double now = util_mono_s();
	if (!final && now - pg->last < PROGRESS_INTERVAL_S)
		return;
	if (final) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	struct cap_stats cs;
	cap_get_stats(c, &cs);
	double pps = (double)(pkts - pg->last_pkts) / (now - pg->last);
	double mb = (double)cs.bytes_read / 1e6;
	if (cs.file_size) {
		double frac = (double)cs.bytes_read / (double)cs.file_size;
		double el = now - pg->start;
		double eta = frac > 0.001 ? el / frac - el : 0;
		fprintf(stderr, "\r\033[Konpath: %s %.1f/%.1f MB (%.0f%%), %.0f pkt/s, ETA %.0fs",
			cap_name(c), mb, (double)cs.file_size / 1e6, frac * 100, pps, eta);
	} else {
		fprintf(stderr, "\r\033[Konpath: %s %.1f MB, %.0f pkt/s", cap_name(c), mb, pps);
	}
	pg->last = now;
	pg->last_pkts = pkts;
}

static void on_packet(void *ud, int linktype, uint64_t ts_us, uint32_t caplen, uint32_t wirelen,
		      const uint8_t *data)
{
	sensor_packet(ud, linktype, ts_us, caplen, wirelen, data);
}

static void collect_stats(struct stats_run *r, struct sensor *s, struct out_mgr *out, double t0);

/* The kernel's counters of the live capture sockets (one per worker), added up. */
static void live_stats(struct stats_run *r, struct cap *const *caps, size_t ncaps)
{
	r->pcap_recv = r->pcap_drop = r->pcap_ifdrop = 0;
	for (size_t i = 0; i < ncaps; i++) {
		struct cap_stats cs;
		cap_get_stats(caps[i], &cs);
		r->pcap_recv += cs.recv;
		r->pcap_drop += cs.drop;
		r->pcap_ifdrop += cs.ifdrop;
	}
}

static bool metrics_due(void)
{
	return util_mono_s() - g_metrics_last >= METRICS_PUBLISH_INTERVAL_S;
}

/* Hands the counters to /metrics and the redis heartbeat, at most once a second (or
 * now, with force). */
static void publish_metrics(const struct stats_run *run, struct sensor *s, struct out_mgr *out,
			    struct cap *const *caps, size_t ncaps, double t0, bool force)
{
	static struct metrics_sensor m; /* 40 KB: not on the stack */
	if (!force && !metrics_due())
		return;
	g_metrics_last = util_mono_s();
	struct stats_run r = *run;
	collect_stats(&r, s, out, t0);
	if (ncaps)
		live_stats(&r, caps, ncaps);
	metrics_fill(&m, &r, sensor_alerts(s));
	metrics_publish(&m);
}

static void collect_stats(struct stats_run *r, struct sensor *s, struct out_mgr *out, double t0)
{
	struct out_stats os;
	sensor_get_stats(s, &r->sensor);
	out_mgr_get_stats(out, &os);
	r->out_submitted = os.submitted;
	r->out_written = os.written;
	r->out_dropped = os.dropped;
	r->out_errors = os.errors;
	r->out_peak_depth = os.peak_depth;
	r->lat_n = os.lat_n;
	r->lat_p50_us = os.lat_p50_us;
	r->lat_p99_us = os.lat_p99_us;
	r->lat_max_us = os.lat_max_us;
	r->elapsed_s = util_mono_s() - t0;
	r->peak_rss_kib = util_peak_rss_kib();
}

/* SIGUSR1: the counters so far, on stderr. */
static void print_stats_now(const struct opts *o, const struct stats_run *run, struct sensor *s,
			    struct out_mgr *out, struct cap *const *caps, size_t ncaps, double t0)
{
	struct stats_run now = *run;
	collect_stats(&now, s, out, t0);
	if (ncaps)
		live_stats(&now, caps, ncaps);
	stats_print(stderr, o->stats_json, &now, sensor_alerts(s));
}

/* SIGHUP: the configuration and signatures again (the running ones stay when the new
 * ones are bad), the state saved, output files reopened (logrotate). With workers (w),
 * they pause only while the new detectors are swapped in, not while they load. */
static void reload(const struct opts *o, struct cfg **cfg, struct sensor *s, struct out_mgr *out,
		   struct workers *w)
{
	char err[ONPATH_ERR];
	struct cfg *nc = NULL;
	struct det_registry *r = NULL;
	if (o->config && cfg_load(o->config, &nc, err, sizeof(err)) < 0) {
		fprintf(stderr, "onpath: reload: %s (keeping the running configuration)\n", err);
	} else if (!(r = sensor_reload_prepare(s, o->config ? nc : *cfg, err, sizeof(err)))) {
		fprintf(stderr, "onpath: reload: %s (keeping the running configuration)\n", err);
		cfg_free(nc);
	} else {
		if (w)
			workers_pause(w);
		sensor_reload_commit(s, r);
		if (w)
			workers_resume(w);
		if (nc) {
			/* The running detectors were rebuilt from nc; the old tree is no
			 * longer referenced by them. */
			cfg_free(*cfg);
			*cfg = nc;
		}
		fprintf(stderr, "onpath: configuration and signatures reloaded\n");
	}
	if (sensor_save_state(s, err, sizeof(err)) < 0)
		fprintf(stderr, "onpath: state: %s\n", err);
	out_mgr_reopen(out);
}

#define WORKERS_POLL_NS 100000000L /* the main thread's look at signals and metrics */

/* Live capture on several threads (workers.h). This thread keeps the signals and the
 * metrics; the workers are paused while it touches the sensors. */
static void run_workers(const struct opts *o, struct cfg **cfg, struct sensor **sens,
			struct cap **caps, size_t n, struct out_mgr *out, struct stats_run *run,
			double t0)
{
	char err[ONPATH_ERR];
	struct workers *w = workers_start(caps, sens, n, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "onpath: %s\n", err);
		run->read_errors++;
		return;
	}
	fprintf(stderr, "onpath: %s: %zu capture workers (packet fanout by flow)\n", o->iface, n);
	while (!g_stop && !workers_done(w)) {
		struct timespec ts = { 0, WORKERS_POLL_NS };
		nanosleep(&ts, NULL); /* a signal ends it early */
		if (g_reload) {
			g_reload = 0;
			reload(o, cfg, sens[0], out, w);
		}
		if (!g_stats && !metrics_due())
			continue;
		/* Reading the counters: a pause of microseconds. */
		workers_pause(w);
		if (g_stats) {
			g_stats = 0;
			print_stats_now(o, run, sens[0], out, caps, n, t0);
		}
		publish_metrics(run, sens[0], out, caps, n, t0, false);
		workers_resume(w);
	}
	run->read_errors += workers_stop(w);
	live_stats(run, caps, n);
	/* How the fanout split the packets: a worker's own counters (not the sum). */
	if (!o->quiet) {
		fprintf(stderr, "onpath: packets per worker:");
		for (size_t i = 0; i < n; i++) {
			struct sensor_stats ws;
			sensor_worker_stats(sens[i], &ws);
			fprintf(stderr, " %llu", (unsigned long long)ws.packets);
		}
		fprintf(stderr, "\n");
	}
}

/* --workers' default: one CPU is left for the output thread and the system. */
static size_t default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 2)
		return 1;
	return n - 1 > SENSOR_WORKERS_MAX ? SENSOR_WORKERS_MAX : (size_t)(n - 1);
}

/* A PACKET_FANOUT group id of this process's own (ids are per network namespace). */
static uint16_t fanout_group(void)
{
	return (uint16_t)(getpid() % 0xfffe + 1);
}

static void close_caps(struct cap **caps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cap_close(caps[i]);
}

/* Start-up failed after the sensor was made: everything made so far goes; main's
 * exit status. */
static int startup_failed(struct cap **caps, size_t ncaps, struct sensor *s, struct out_mgr *out,
			  struct cfg *cfg)
{
	close_caps(caps, ncaps);
	sensor_free(s);
	out_mgr_free(out);
	cfg_free(cfg);
	return 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	char err[ONPATH_ERR] = "";
	struct cfg *cfg = NULL;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (o.list_alerts) {
		list_alerts();
		return 0;
	}
	if (o.config && cfg_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "onpath: %s\n", err);
		return 2;
	}
	if (apply_config(cfg, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "onpath: %s\n", err);
		cfg_free(cfg);
		return 2;
	}
	struct sensor_cfg sc;
	if (sensor_cfg_load(&sc, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "onpath: %s\n", err);
		cfg_free(cfg);
		return 2;
	}
	if (o.sig_dir)
		sc.sig_dir = o.sig_dir;
	if (o.state_file)
		sc.state_file = o.state_file;
	/* A copy: the config tree that holds the configured name is replaced on reload. */
	static char name[256];
	if (o.name)
		util_strlcpy(name, o.name, sizeof(name));
	else if (sc.alert.sensor_name)
		util_strlcpy(name, sc.alert.sensor_name, sizeof(name));
	else if (gethostname(name, sizeof(name) - 1) != 0 || !name[0])
		util_strlcpy(name, "onpath", sizeof(name));
	sc.alert.sensor_name = name;
	util_strlcpy(o.oc.set.sensor_name, name, sizeof(o.oc.set.sensor_name));
	if (o.spool_dir)
		util_strlcpy(o.oc.set.spool_dir, o.spool_dir, sizeof(o.oc.set.spool_dir));
	if (o.metrics)
		util_strlcpy(o.oc.metrics, o.metrics, sizeof(o.oc.metrics));
	if (o.iface && o.nfiles) {
		fprintf(stderr, "onpath: -i and -r are exclusive\n");
		cfg_free(cfg);
		return 2;
	}
	sc.alert.iface = o.iface;

	if (o.check_config) {
		/* Builds everything a run would (detectors load their signatures) without
		 * opening inputs or outputs. */
		struct sensor *s = sensor_new(&sc, cfg, NULL, err, sizeof(err));
		if (!s) {
			fprintf(stderr, "onpath: %s\n", err);
			cfg_free(cfg);
			return 2;
		}
		sensor_free(s);
		printf("onpath: configuration %s OK (signatures in %s)\n", o.config ? o.config : "(defaults)",
		       sc.sig_dir ? sc.sig_dir : sig_default_dir());
		cfg_free(cfg);
		return 0;
	}
	if (!o.iface && !o.nfiles) {
		fprintf(stderr, "onpath: no input: give -r FILE or -i IFACE (see onpath --help)\n");
		cfg_free(cfg);
		return 2;
	}

	struct out_mgr *out = out_mgr_new(OUT_DEFAULT_QUEUE, o.iface != NULL);
	if (!out) {
		fprintf(stderr, "onpath: out of memory\n");
		cfg_free(cfg);
		return 1;
	}
	out_mgr_set_settings(out, &o.oc.set);
	if (!o.noutputs)
		o.outputs[o.noutputs++] = o.iface ? ONPATH_DEFAULT_LIVE_OUTPUT : "jsonl:-";
	for (size_t i = 0; i < o.noutputs; i++) {
		if (out_mgr_add(out, o.outputs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "onpath: %s\n", err);
			out_mgr_free(out);
			cfg_free(cfg);
			return 2;
		}
	}
	/* Live: one capture thread per worker; files are read by this thread, in order. */
	size_t nworkers = o.iface ? (o.workers ? o.workers : default_workers()) : 1;
	sc.workers = (unsigned)nworkers;
	struct sensor *sens[SENSOR_WORKERS_MAX] = { NULL };
	struct sensor *s = sens[0] = sensor_new(&sc, cfg, out, err, sizeof(err));
	for (size_t i = 1; s && i < nworkers; i++) {
		if (!(sens[i] = sensor_worker_new(s, err, sizeof(err)))) {
			sensor_free(s);
			s = NULL;
		}
	}
	if (!s) {
		fprintf(stderr, "onpath: %s\n", err);
		out_mgr_free(out);
		cfg_free(cfg);
		return 2;
	}

	/* Open the live source before starting threads, so a permission error is
	 * reported at once. With several workers, each has a socket in one fanout group
	 * and its share of the ring (-B is the total). */
	struct cap *caps[SENSOR_WORKERS_MAX] = { NULL };
	size_t ncaps = 0;
	if (o.iface) {
		uint64_t ring = o.buffer ? o.buffer : CAP_DEFAULT_BUFFER;
		struct cap_live_opts lo = { o.snaplen, ring / nworkers, !o.no_promisc,
					    nworkers > 1 ? fanout_group() : 0 };
		for (; ncaps < nworkers; ncaps++) {
			if (!(caps[ncaps] = cap_open_live(o.iface, &lo, o.bpf, err, sizeof(err)))) {
				fprintf(stderr, "onpath: %s\n", err);
				return startup_failed(caps, ncaps, s, out, cfg);
			}
		}
	}
	struct cap *live = caps[0];
	/* Everything that needs root is open; no thread runs yet, so all inherit this. */
	o.priv.seccomp = !o.no_seccomp;
	if (o.priv.user && drop_privileges(&o, sc.state_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "onpath: %s\n", err);
		return startup_failed(caps, ncaps, s, out, cfg);
	}
	if (out_mgr_start(out) < 0) {
		fprintf(stderr, "onpath: cannot start the output thread\n");
		return startup_failed(caps, ncaps, s, out, cfg);
	}
	if (o.oc.metrics[0] && metrics_start(o.oc.metrics, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "onpath: %s\n", err);
		return startup_failed(caps, ncaps, s, out, cfg);
	}

	/* SIGHUP and SIGUSR1 restart an interrupted read: reading a pipe must not end
	 * because someone asked for stats. SIGINT and SIGTERM interrupt it: the run is
	 * stopping, and a blocked read of an idle pipe must not hold it up. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct stats_run run;
	memset(&run, 0, sizeof(run));
	run.live = live != NULL;
	double t0 = util_mono_s();
	struct progress pg = { !o.quiet && !live && isatty(STDERR_FILENO), t0, t0, 0 };
	size_t nsrc = live ? 1 : o.nfiles;
	if (nworkers > 1) {
		run_workers(&o, &cfg, sens, caps, ncaps, out, &run, t0);
		close_caps(caps, ncaps);
		nsrc = 0;
	}

	for (size_t i = 0; i < nsrc && !g_stop; i++) {
		struct cap *c = live;
		if (!c) {
			c = cap_open_file(o.files[i], o.bpf, err, sizeof(err));
			if (!c) {
				fprintf(stderr, "onpath: %s\n", err);
				rc = 1;
				continue;
			}
			if (!dec_linktype_supported(cap_linktype(c)))
				fprintf(stderr, "onpath: %s: link type %d is not decoded; its records are counted as decode errors\n",
					o.files[i], cap_linktype(c));
		}
		g_cap = c;
		for (;;) {
			int n = cap_dispatch(c, on_packet, s, err, sizeof(err));
			if (g_stats) {
				g_stats = 0;
				print_stats_now(&o, &run, s, out, caps, ncaps, t0);
			}
			if (g_reload) {
				g_reload = 0;
				reload(&o, &cfg, s, out, NULL);
			}
			if (g_stop)
				break;
			if (n == -1)
				break;
			if (n == -2) {
				/* A read interrupted by SIGTERM is the stop, not an error. */
				if (!g_stop) {
					fprintf(stderr, "onpath: %s\n", err);
					run.read_errors++;
				}
				break;
			}
			if (live && n == 0)
				sensor_idle(s, util_now_us());
			publish_metrics(&run, s, out, caps, ncaps, t0, false);
			progress_show(&pg, c, run.sensor.packets, false);
			if (pg.on) {
				struct sensor_stats ss;
				sensor_get_stats(s, &ss);
				run.sensor.packets = ss.packets;
			}
		}
		if (live)
			live_stats(&run, caps, ncaps);
		g_cap = NULL;
		cap_close(c);
	}
	progress_show(&pg, NULL, 0, true);

	sensor_finish(s);
	out_mgr_sync(out);
	publish_metrics(&run, s, out, NULL, 0, t0, true); /* the final heartbeat has the totals */
	collect_stats(&run, s, out, t0);
	if (!o.no_stats)
		stats_print(stderr, o.stats_json, &run, sensor_alerts(s));
	metrics_stop();
	sensor_free(s);
	out_mgr_free(out);
	cfg_free(cfg);
	return rc;
}
