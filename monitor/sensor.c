/* sensor.c - the per-packet pipeline (see sensor.h).
 *
 * decode -> (ARP) detectors
 *        -> (TCP/UDP/ICMP) flow lookup -> fast path when the flow is bulk
 *                                       -> streams for the consumers still interested
 * and, once a second of packet time, expiry of idle flows, detector ticks and the
 * closing of alert aggregation windows. Time is always packet time, so an offline run
 * judges exactly as a live sensor that saw the same packets.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../detectors/detector.h"
#include "../detectors/lan.h"
#include "app.h"
#include "classify.h"
#include "output.h"
#include "decode/dhcp.h"
#include "decode/dns.h"
#include "decode/ndp.h"
#include "decode/quic.h"
#include "decode/tls.h"
#include "decode/vrrp.h"
#include "decode/x509.h"
#include "sensor.h"
#include "sig.h"
#include "state.h"

#define SENSOR_TICK_US 1000000u
#define SENSOR_EXPIRE_WORK 65536u /* flows examined per tick at most */
#define SENSOR_DEFAULT_LEARNING_S 0u /* see onpath.yaml.example: sensor.learning_window */
#define SENSOR_DEFAULT_STATE_INTERVAL_S 60u
#define SENSOR_DEFAULT_BASELINE_INTERVAL_S 60u

/* Per-flow state of the stream consumers (monitor/app.h), allocated when a flow is
 * first wanted and freed with the flow: bounded by the flow table. */
struct flow_app {
	void *st[APP_MAX_CONSUMERS];
	struct cls_flow *cls;   /* packets kept for nDPI and its state (classify.h) */
	/* Who sent the first data of each direction (a later copy from another NIC that
	 * differs was rewritten in the path: struct rewrite_ev). */
	uint8_t first_mac[2][6];
	uint8_t first_ttl[2];
	bool have_first[2];
};

/* UDP ports whose payload is parsed on every packet (DNS, mDNS, LLMNR, NBT-NS, DHCP,
 * DHCPv6), as a bitmap so the test costs one load on the bulk path. */
static uint8_t udp_app_ports[65536 / 8];

static void udp_ports_init(void)
{
	static const uint16_t ports[] = { 53, 5353, 5355, 137, 67, 68, 546, 547 };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(ports); i++)
		udp_app_ports[ports[i] >> 3] |= (uint8_t)(1u << (ports[i] & 7));
}

static inline bool udp_app_port(uint16_t port)
{
	return udp_app_ports[port >> 3] & (1u << (port & 7));
}

static inline bool is_dhcp_port(uint16_t port)
{
	return port == 67 || port == 68 || port == 546 || port == 547;
}

struct sensor {
	struct sensor_cfg cfg;
	struct flow_table *flows;
	struct stream_pool *streams;
	struct alert_pipe *alerts;
	struct det_registry *dets;
	struct sensor_stats st;
	uint64_t next_tick_us;
	uint64_t next_save_us;          /* packet time of the next periodic state save */
	uint64_t next_baseline_us;      /* ... of the next baseline sent to Redis */
	bool publish_baselines;         /* a Redis output keeps them */
	struct cls *cls;                /* nDPI (sensor.ndpi), NULL when off */
	char state_file[4096];          /* "" = no persistence */
	struct dns_msg dns;             /* scratch for one DNS message (~20 KiB) */
	struct tls_hello quic_hello;    /* scratch for a QUIC Initial's ClientHello */
	/* Live capture with several workers (sensor_worker_new()): the first sensor (the
	 * root) owns the detectors, the alert pipe, the state and the lock; each worker,
	 * the root included, has its own flows, streams and nDPI. */
	struct sensor *root;            /* NULL in the root */
	struct sensor *workers[SENSOR_WORKERS_MAX]; /* root only: the other workers */
	size_t nworkers;
	pthread_mutex_t mu;             /* root only, with workers: the detectors' lock */
	bool shared;                    /* root only: mu is in use */
	uint64_t next_global_us;        /* root only: packet time of the next global tick */
	const char *reload_dir;         /* sensor_reload_prepare() for _commit() */
	uint16_t reload_seed;
};

static const char *const sensor_keys[] = { "name", "signatures_dir", "community_id_seed",
					   "state_file", "learning_window", "state_interval",
					   "baseline_interval", "user", "seccomp", "ndpi",
					   "shared_baselines", NULL };
static const char *const flow_keys[] = { "max", "tcp_idle", "tcp_closed", "udp_idle", "other_idle",
					 NULL };
static const char *const stream_keys[] = { "max_bytes", "max_total", "max_out_of_order", NULL };
static const char *const alert_keys[] = { "window", "dedupe_max", "min_severity", NULL };

int sensor_cfg_load(struct sensor_cfg *sc, const struct cfg *c, char *err, size_t errlen)
{
	memset(sc, 0, sizeof(*sc));
	flow_cfg_defaults(&sc->flow);
	stream_cfg_defaults(&sc->stream);
	sc->alert.sensor_name = NULL;
	sc->alert.window_s = ALERT_DEFAULT_WINDOW_S;
	sc->alert.dedupe_max = ALERT_DEFAULT_DEDUPE_MAX;
	sc->alert.min_severity = 1;
	sc->sig_dir = NULL;
	sc->state_file = NULL;
	sc->learning_s = SENSOR_DEFAULT_LEARNING_S;
	sc->state_interval_s = SENSOR_DEFAULT_STATE_INTERVAL_S;
	sc->baseline_interval_s = SENSOR_DEFAULT_BASELINE_INTERVAL_S;
	sc->ndpi = true;
	if (!c || !c->root)
		return 0;

	const struct cfg_node *sen = cfg_get(c->root, "sensor"), *fl = cfg_get(c->root, "flows"),
			      *st = cfg_get(c->root, "streams"), *al = cfg_get(c->root, "alerts");
	uint64_t v;
	if (cfg_check_keys(c, sen, "sensor", sensor_keys, err, errlen) < 0 ||
	    cfg_check_keys(c, fl, "flows", flow_keys, err, errlen) < 0 ||
	    cfg_check_keys(c, st, "streams", stream_keys, err, errlen) < 0 ||
	    cfg_check_keys(c, al, "alerts", alert_keys, err, errlen) < 0)
		return -1;
	if (cfg_str(c, sen, "name", &sc->alert.sensor_name, err, errlen) < 0 ||
	    cfg_str(c, sen, "signatures_dir", &sc->sig_dir, err, errlen) < 0 ||
	    cfg_str(c, sen, "state_file", &sc->state_file, err, errlen) < 0)
		return -1;
	int r;
	if ((r = cfg_uint(c, sen, "community_id_seed", 0, 65535, &v, err, errlen)) < 0)
		return -1;
	if (r)
		sc->community_id_seed = (uint16_t)v;

#define GET(fn, sec, key, lo, hi, dst)                                      \
	do {                                                                \
		if ((r = fn(c, sec, key, lo, hi, &v, err, errlen)) < 0)     \
			return -1;                                          \
		if (r)                                              \
			dst = (__typeof__(dst))v;                           \
	} while (0)
	GET(cfg_duration, sen, "learning_window", 0, 30 * 86400, sc->learning_s);
	GET(cfg_duration, sen, "state_interval", 1, 86400, sc->state_interval_s);
	GET(cfg_duration, sen, "baseline_interval", 0, 86400, sc->baseline_interval_s);
	bool b;
	if ((r = cfg_bool(c, sen, "ndpi", &b, err, errlen)) < 0)
		return -1;
	if (r)
		sc->ndpi = b;
	if ((r = cfg_bool(c, sen, "shared_baselines", &b, err, errlen)) < 0)
		return -1;
	if (r)
		sc->shared_baselines = b;
	GET(cfg_uint, fl, "max", 1024, 16777216, sc->flow.max_flows);
	GET(cfg_duration, fl, "tcp_idle", 1, 86400, sc->flow.tcp_idle_s);
	GET(cfg_duration, fl, "tcp_closed", 1, 86400, sc->flow.tcp_closed_s);
	GET(cfg_duration, fl, "udp_idle", 1, 86400, sc->flow.udp_idle_s);
	GET(cfg_duration, fl, "other_idle", 1, 86400, sc->flow.other_idle_s);
	GET(cfg_size, st, "max_bytes", 512, 16u << 20, sc->stream.max_bytes);
	GET(cfg_size, st, "max_total", 1u << 20, 1ull << 36, sc->stream.max_total);
	GET(cfg_uint, st, "max_out_of_order", 0, 4096, sc->stream.max_ooo);
	GET(cfg_duration, al, "window", 1, 86400, sc->alert.window_s);
	GET(cfg_uint, al, "dedupe_max", 16, 16777216, sc->alert.dedupe_max);
	GET(cfg_uint, al, "min_severity", 1, 10, sc->alert.min_severity);
#undef GET
	return 0;
}

static void on_flow_free(struct flow *f, void *ud)
{
	struct sensor *s = ud;
	for (int d = 0; d < 2; d++) {
		if (f->st[d]) {
			stream_free(s->streams, f->st[d]);
			f->st[d] = NULL;
		}
	}
	struct flow_app *fa = f->app;
	if (fa) {
		for (size_t i = 0; i < app_consumer_count; i++)
			if (fa->st[i] && app_consumers[i]->free_state)
				app_consumers[i]->free_state(fa->st[i]);
		cls_flow_free(s->cls, fa->cls);
		free(fa);
		f->app = NULL;
	}
}

/* Shared baselines (DESIGN.md "Baselines"): every sensor's published baselines (Redis,
 * <prefix>baseline:<name>) merged with this sensor's own state, so a change one
 * sensor never saw is judged against what all have seen. Per detector, list members
 * (bindings, servers, names...) are concatenated, the other sensors' first and this
 * sensor's own state file last: a detector loading them keeps the last word, its
 * own. A peer's damaged JSON is skipped (said once). Takes and returns a reference. */
struct merge_ctx {
	json_t *peers;
	const char *self;
	bool have_own;  /* a state file: our own published copy is older, skip it */
	int used;
};

static void merge_into(json_t *dst, const json_t *src)
{
	const char *det, *key;
	json_t *sec, *v;

	json_object_foreach((json_t *)src, det, sec) {
		if (!json_is_object(sec))
			continue;
		json_t *d = json_object_get(dst, det);
		if (!d) {
			json_object_set_new(dst, det, json_deep_copy(sec));
			continue;
		}
		json_object_foreach(sec, key, v) {
			json_t *have = json_object_get(d, key);
			if (json_is_array(v) && json_is_array(have))
				json_array_extend(have, v);
			else
				json_object_set(d, key, v);
		}
	}
}

static void on_peer(void *ud, const char *sensor, const char *text, size_t len)
{
	struct merge_ctx *m = ud;
	json_error_t je;
	if (m->have_own && m->self && strcmp(sensor, m->self) == 0)
		return; /* our own copy: the state file is newer */
	json_t *j = json_loadb(text, len, 0, &je);
	if (!j || !json_is_object(j)) {
		fprintf(stderr, "onpath: shared baselines of %s ignored: %s\n", sensor,
			j ? "not an object" : je.text);
		json_decref(j);
		return;
	}
	merge_into(m->peers, j);
	json_decref(j);
	m->used++;
}

static json_t *shared_baselines(struct out_mgr *out, json_t *own, const char *self)
{
	struct merge_ctx m = { json_object(), self, own != NULL, 0 };
	if (!m.peers)
		return own;
	int n = out_mgr_fetch_baselines(out, on_peer, &m);
	if (n <= 0 || m.used == 0) {
		if (n < 0)
			fprintf(stderr, "onpath: shared baselines unavailable: starting from %s\n",
				own ? "the state file" : "nothing");
		json_decref(m.peers);
		return own;
	}
	if (own)
		merge_into(m.peers, own);
	json_decref(own);
	fprintf(stderr, "onpath: started from the shared baselines of %d sensor%s\n", m.used,
		m.used == 1 ? "" : "s");
	return m.peers;
}

/* flows.max and streams.max_total bound the whole sensor: with N workers each gets
 * its share. False when a share is below the smallest table. */
static bool worker_limits(struct sensor_cfg *sc, char *err, size_t errlen)
{
	unsigned n = sc->workers ? sc->workers : 1;

	if (n > SENSOR_WORKERS_MAX) {
		snprintf(err, errlen, "at most %u workers", SENSOR_WORKERS_MAX);
		return false;
	}
	sc->workers = n;
	sc->flow.max_flows /= n;
	sc->stream.max_total /= n;
	if (sc->flow.max_flows < SENSOR_WORKER_MIN_FLOWS) {
		snprintf(err, errlen, "flows.max gives each of %u workers fewer than %u flows", n,
			 SENSOR_WORKER_MIN_FLOWS);
		return false;
	}
	return true;
}

struct sensor *sensor_new(const struct sensor_cfg *sc, const struct cfg *c, struct out_mgr *out,
			  char *err, size_t errlen)
{
	struct sensor *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *sc;
	if (!s->cfg.sig_dir)
		s->cfg.sig_dir = sig_default_dir();
	if (!worker_limits(&s->cfg, err, errlen)) {
		free(s);
		return NULL;
	}
	s->flows = flow_table_new(&s->cfg.flow, on_flow_free, s);
	s->streams = stream_pool_new(&s->cfg.stream);
	s->alerts = alert_pipe_new(&s->cfg.alert, out);
	if (!s->flows || !s->streams || !s->alerts) {
		snprintf(err, errlen, "out of memory for %u flows", s->cfg.flow.max_flows);
		sensor_free(s);
		return NULL;
	}
	json_t *saved = NULL;
	if (s->cfg.state_file) {
		util_strlcpy(s->state_file, s->cfg.state_file, sizeof(s->state_file));
		if (state_read(s->state_file, &saved, err, errlen) < 0) {
			sensor_free(s);
			return NULL;
		}
	}
	if (s->cfg.shared_baselines && out)
		saved = shared_baselines(out, saved, s->cfg.alert.sensor_name);
	det_set_community_seed(s->cfg.community_id_seed);
	s->dets = det_registry_new_state(c, s->cfg.sig_dir, saved, s->cfg.learning_s, err, errlen);
	json_decref(saved);
	if (!s->dets) {
		sensor_free(s);
		return NULL;
	}
	s->publish_baselines = out && s->cfg.baseline_interval_s > 0 && out_mgr_wants_baseline(out);
	if (s->cfg.ndpi && !(s->cls = cls_new())) {
		snprintf(err, errlen, "out of memory");
		sensor_free(s);
		return NULL;
	}
	udp_ports_init();
	if (s->cfg.workers > 1) {
		if (pthread_mutex_init(&s->mu, NULL) != 0) {
			snprintf(err, errlen, "cannot create the workers' lock");
			sensor_free(s);
			return NULL;
		}
		s->shared = true;
		det_registry_set_lock(s->dets, &s->mu);
	}
	return s;
}

struct sensor *sensor_worker_new(struct sensor *root, char *err, size_t errlen)
{
	if (!root->shared || 1 + root->nworkers >= root->cfg.workers) {
		snprintf(err, errlen, "the sensor was made for %u worker%s", root->cfg.workers,
			 root->cfg.workers == 1 ? "" : "s");
		return NULL;
	}
	struct sensor *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->cfg = root->cfg; /* limits already divided */
	w->root = root;
	w->dets = root->dets;
	w->alerts = root->alerts;
	w->flows = flow_table_new(&w->cfg.flow, on_flow_free, w);
	w->streams = stream_pool_new(&w->cfg.stream);
	if (!w->flows || !w->streams || (root->cls && !(w->cls = cls_new()))) {
		snprintf(err, errlen, "out of memory for %u flows", w->cfg.flow.max_flows);
		sensor_free(w);
		return NULL;
	}
	root->workers[root->nworkers++] = w;
	return w;
}

void sensor_free(struct sensor *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nworkers; i++)
		sensor_free(s->workers[i]);
	if (s->root) {
		/* A worker: the detectors and the alert pipe are the root's. */
		if (s->flows)
			flow_table_free(s->flows);
		if (s->streams)
			stream_pool_free(s->streams);
		cls_free(s->cls);
		free(s);
		return;
	}
	/* Flows first: their streams go back to the pool. */
	if (s->flows)
		flow_table_free(s->flows);
	if (s->streams)
		stream_pool_free(s->streams);
	if (s->dets)
		det_registry_free(s->dets);
	if (s->alerts)
		alert_pipe_free(s->alerts);
	cls_free(s->cls);
	if (s->shared)
		pthread_mutex_destroy(&s->mu);
	free(s);
}

struct det_registry *sensor_reload_prepare(struct sensor *s, const struct cfg *c, char *err,
					   size_t errlen)
{
	struct sensor_cfg sc;
	if (sensor_cfg_load(&sc, c, err, errlen) < 0)
		return NULL;
	const char *dir = sc.sig_dir ? sc.sig_dir : sig_default_dir();
	/* The learned baselines survive a reload: the new detectors start from what the
	 * running ones know, not cold. */
	det_registry_lock(s->dets);
	json_t *now = det_registry_save(s->dets);
	det_registry_unlock(s->dets);
	struct det_registry *r = det_registry_new_state(c, dir, now, sc.learning_s, err, errlen);
	json_decref(now);
	if (!r)
		return NULL;
	if (s->shared)
		det_registry_set_lock(r, &s->mu);
	s->reload_dir = dir;
	s->reload_seed = sc.community_id_seed;
	return r;
}

void sensor_reload_commit(struct sensor *s, struct det_registry *r)
{
	/* No worker runs now (the caller paused them): none holds the old registry. */
	det_set_community_seed(s->reload_seed);
	det_registry_free(s->dets);
	s->dets = r;
	for (size_t i = 0; i < s->nworkers; i++)
		s->workers[i]->dets = r;
	s->cfg.sig_dir = s->reload_dir;
}

int sensor_reload(struct sensor *s, const struct cfg *c, char *err, size_t errlen)
{
	struct det_registry *r = sensor_reload_prepare(s, c, err, errlen);
	if (!r)
		return -1;
	sensor_reload_commit(s, r);
	return 0;
}

/* The state file from the detectors' baselines; the caller holds the lock. */
static int save_state_locked(struct sensor *s, char *err, size_t errlen)
{
	if (!s->state_file[0])
		return 0;
	json_t *root = det_registry_save(s->dets);
	if (!root) {
		snprintf(err, errlen, "%s: out of memory", s->state_file);
		return -1;
	}
	int rc = state_write(s->state_file, root, err, errlen);
	json_decref(root);
	return rc;
}

int sensor_save_state(struct sensor *s, char *err, size_t errlen)
{
	det_registry_lock(s->dets);
	int rc = save_state_locked(s, err, errlen);
	det_registry_unlock(s->dets);
	return rc;
}

/* The detectors' baselines to the outputs that keep them (Redis: a dashboard's
 * inventories, other sensors). */
static void publish_baselines(struct sensor *s)
{
	json_t *root = det_registry_save(s->dets);
	char *line = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	if (line)
		alert_pipe_submit(s->alerts, OUT_BASELINE, line, strlen(line), NULL);
}

/* Once a second of packet time, for the detectors, the alert windows, the state and
 * the baselines: with several workers, whichever worker first reaches the second runs
 * it, under the lock, so it runs once and time never goes backwards for them. */
static void global_tick(struct sensor *s, uint64_t now)
{
	if (s->shared) {
		pthread_mutex_lock(&s->mu);
		if (now < s->next_global_us) {
			pthread_mutex_unlock(&s->mu);
			return;
		}
	}
	s->next_global_us = now - now % SENSOR_TICK_US + SENSOR_TICK_US;
	det_dispatch_tick(s->dets, now, s->alerts);
	alert_pipe_tick(s->alerts, now);
	if (s->state_file[0] && now >= s->next_save_us) {
		char err[512];
		if (s->next_save_us && save_state_locked(s, err, sizeof(err)) < 0)
			fprintf(stderr, "onpath: state: %s\n", err);
		s->next_save_us = now + (uint64_t)s->cfg.state_interval_s * 1000000u;
	}
	if (s->publish_baselines && now >= s->next_baseline_us) {
		if (s->next_baseline_us)
			publish_baselines(s);
		s->next_baseline_us = now + s->cfg.baseline_interval_s * 1000000u;
	}
	if (s->shared)
		pthread_mutex_unlock(&s->mu);
}

static void tick(struct sensor *s, uint64_t now)
{
	flow_expire(s->flows, now, SENSOR_EXPIRE_WORK);
	s->next_tick_us = now - now % SENSOR_TICK_US + SENSOR_TICK_US;
	global_tick(s->root ? s->root : s, now);
}

static void meta_from_pkt(struct ev_meta *m, const struct pkt *p)
{
	m->ts_us = p->ts_us;
	m->vlan = p->nvlan ? p->vlan[0] : 0;
	m->has_eth = (p->flags & PKT_F_ETH) != 0;
	memcpy(m->src_mac, p->src_mac, 6);
	memcpy(m->dst_mac, p->dst_mac, 6);
	if (p->flags & PKT_F_IP) {
		m->src = p->src;
		m->dst = p->dst;
		m->proto = p->ip_proto;
		m->ip_ttl = p->ip_ttl;
	} else {
		memset(&m->src, 0, sizeof(m->src));
		memset(&m->dst, 0, sizeof(m->dst));
		m->proto = 0;
		m->ip_ttl = 0;
	}
	m->sport = p->sport;
	m->dport = p->dport;
	m->community_id = "";
	m->ndpi = NULL;
	m->ndpi_ctx = NULL;
}

/* A new flow: ask every consumer whether it wants it. */
static void flow_setup(struct sensor *s, struct flow *f)
{
	uint32_t want = 0;
	if (f->key.proto == 6) {
		struct op_addr o, r;
		uint16_t op, rp;
		flow_endpoints(f, &o, &op, &r, &rp);
		for (size_t i = 0; i < app_consumer_count; i++)
			if (app_consumers[i]->wants(f, rp))
				want |= 1u << i;
	}
	f->want = want;
	if (!want)
		f->flags |= FLOW_F_BULK;
	(void)s;
}

/* ev_meta.ndpi of an inspected flow: nDPI reads the flow's kept packets only when an
 * alert asks (classify.h). */
struct ndpi_req {
	struct sensor *s;
	struct cls_flow *cf;
	struct det_ndpi nd;
};

static const struct det_ndpi *ndpi_lazy(void *ctx)
{
	struct ndpi_req *q = ctx;
	struct cls_info ci;
	if (!cls_look(q->s->cls, q->cf, &ci))
		return NULL;
	util_strlcpy(q->nd.proto, ci.proto, sizeof(q->nd.proto));
	q->nd.nrisks = 0;
	for (uint64_t r = ci.risk; r && q->nd.nrisks < DET_NDPI_RISKS; r &= r - 1) {
		const char *name = cls_risk_name((unsigned)__builtin_ctzll(r));
		if (name)
			q->nd.risks[q->nd.nrisks++] = name;
	}
	return &q->nd;
}

#define SENSOR_REWRITE_EXCERPT 48 /* bytes of each copy in a rewrite event */
#define SENSOR_REWRITE_CONTEXT 8  /* of which before the first differing byte */

/* A segment whose bytes differ from the copy the stream kept (detectors/rewrite.c
 * judges whether another NIC relayed it). */
static void __attribute__((noinline, cold))
stream_rewrite(struct sensor *s, const struct flow_app *fa, int dir, const struct stream *st,
	       const struct pkt *p, uint32_t off, size_t idx)
{
	if (!det_wants_rewrite(s->dets) || !fa->have_first[dir] || idx >= p->payload_len)
		return;
	struct rewrite_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta_from_pkt(&ev.m, p);
	memcpy(ev.first_mac, fa->first_mac[dir], 6);
	ev.first_ttl = fa->first_ttl[dir];
	ev.from_initiator = dir == FLOW_DIR_ORIG;
	ev.offset = off;
	/* The excerpts start a few bytes before the difference, for context. */
	uint32_t back = off < SENSOR_REWRITE_CONTEXT ? off : SENSOR_REWRITE_CONTEXT;
	if (back > idx)
		back = (uint32_t)idx;
	off -= back;
	idx -= back;
	ev.context = back;
	size_t len;
	const uint8_t *data = stream_data(st, &len);
	if (off < len) {
		ev.kept = data + off;
		ev.kept_len = len - off < SENSOR_REWRITE_EXCERPT ? len - off : SENSOR_REWRITE_EXCERPT;
	}
	ev.seen = p->payload + idx;
	ev.seen_len = p->payload_len - idx < SENSOR_REWRITE_EXCERPT ? p->payload_len - idx
								     : SENSOR_REWRITE_EXCERPT;
	det_dispatch_rewrite(s->dets, &ev, s->alerts);
}

/* The flow cannot be inspected (a budget is spent, or memory) or no consumer wants
 * it any more: its streams and state go, and it takes the fast path from now on. */
static void stop_inspecting(struct sensor *s, struct flow *f)
{
	on_flow_free(f, s);
	f->want = 0;
	f->flags |= FLOW_F_BULK;
}

/* The flow's consumer state, made on first use; NULL when out of memory. */
static struct flow_app *flow_app(struct flow *f)
{
	if (!f->app)
		f->app = calloc(1, sizeof(struct flow_app));
	return f->app;
}

static void flow_data(struct sensor *s, struct flow *f, int dir, const struct pkt *p)
{
	if (!p->payload_len && !(p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)))
		return;
	struct stream *st = f->st[dir];
	if (!st && !(st = f->st[dir] = stream_new(s->streams))) {
		stop_inspecting(s, f);
		return;
	}
	/* The consumers' state is made with the first data (a SYN flood allocates none). */
	struct flow_app *fa = f->app;
	if (p->payload_len) {
		if (!(fa = flow_app(f))) {
			stop_inspecting(s, f);
			return;
		}
		if (!fa->have_first[dir]) {
			fa->have_first[dir] = true;
			memcpy(fa->first_mac[dir], p->src_mac, 6);
			fa->first_ttl[dir] = p->ip_ttl;
		}
	}
	size_t added = stream_add(s->streams, st, p->tcp_seq, p->tcp_flags, p->payload,
				  p->payload_len);
	uint32_t cf_off;
	size_t cf_idx;
	if (__builtin_expect(stream_last_conflict(st, &cf_off, &cf_idx), 0) && fa)
		stream_rewrite(s, fa, dir, st, p, cf_off, cf_idx);
	uint32_t sflags = stream_flags(st);
	if (!added && !(sflags & (STREAM_F_FIN | STREAM_F_GAP | STREAM_F_FULL)))
		return;
	if (!(fa = flow_app(f))) {
		stop_inspecting(s, f);
		return;
	}
	size_t len;
	const uint8_t *data = stream_data(st, &len);
	struct ev_meta m;
	meta_from_pkt(&m, p);
	struct ndpi_req nq = { s, fa->cls, { "", { NULL }, 0 } };
	if (fa->cls) {
		m.ndpi = ndpi_lazy;
		m.ndpi_ctx = &nq;
	}
	struct app_ctx ctx = { s->dets, s->alerts, &m, &s->st.app_malformed };
	for (size_t i = 0; i < app_consumer_count; i++) {
		if (!(f->want & (1u << i)))
			continue;
		if (app_consumers[i]->on_data(&ctx, &fa->st[i], f, dir, data, len, sflags) == APP_DONE)
			f->want &= ~(1u << i);
	}
	if (!f->want)
		stop_inspecting(s, f);
}

/* sensor_packet()'s rare paths, out of line so that the path of a bulk packet keeps
 * its few values in registers and needs a small frame. */
static void __attribute__((noinline, cold)) packet_tick(struct sensor *s, uint64_t ts_us)
{
	if (!s->st.first_us)
		s->st.first_us = ts_us;
	tick(s, ts_us);
}

static void __attribute__((noinline, cold)) count_notes(struct sensor *s, uint32_t notes)
{
	while (notes) {
		int b = __builtin_ctz(notes);
		notes &= notes - 1;
		if (b < DEC_NOTE_MAX)
			s->st.notes[b]++;
	}
}

static void __attribute__((noinline)) packet_arp(struct sensor *s, const struct pkt *p)
{
	struct arp_ev ev;
	s->st.arp_frames++;
	meta_from_pkt(&ev.m, p);
	ev.arp = p->arp;
	det_dispatch_arp(s->dets, &ev, s->alerts);
}

/* DNS, mDNS, LLMNR, NBT-NS and DHCP: one message per datagram, parsed on every packet
 * (before the flow's fast path, which would skip them). */
static void __attribute__((noinline)) packet_udp_app(struct sensor *s, const struct pkt *p)
{
	struct ev_meta m;
	if (is_dhcp_port(p->sport) || is_dhcp_port(p->dport)) {
		if (!det_wants_dhcp(s->dets))
			return;
		struct dhcp_msg dm;
		int e = dec_dhcp(p, &dm);
		s->st.dhcp_msgs++;
		if (e) {
			s->st.dhcp_malformed++;
			return;
		}
		struct dhcp_ev ev;
		meta_from_pkt(&ev.m, p);
		ev.dhcp = &dm;
		det_dispatch_dhcp(s->dets, &ev, s->alerts);
		return;
	}
	if (!det_wants_dns(s->dets))
		return;
	int e = dec_dns(p->payload, p->payload_len, &s->dns);
	s->st.dns_msgs++;
	if (e)
		s->st.dns_malformed++;
	/* A message whose tail is damaged still has a usable header, question and
	 * answers: a spoofer's sloppy packet must not hide from the detectors. */
	if (!dec_dns_usable(&s->dns))
		return;
	meta_from_pkt(&m, p);
	struct dns_ev ev = { m, &s->dns };
	det_dispatch_dns(s->dets, &ev, s->alerts);
}

/* QUIC Initial packets carry a ClientHello encrypted with keys anyone can derive
 * (RFC 9001 5.2): the only view of SNI and the client's fingerprint for HTTP/3.
 * dec_quic_initial() refuses short headers, unknown versions and datagrams under 1200
 * bytes before any cryptography, so it is called only for datagrams that size. */
static void __attribute__((noinline)) packet_quic(struct sensor *s, const struct pkt *p)
{
	if (!det_wants_tls(s->dets))
		return;
	if (dec_quic_initial(p, &s->quic_hello) != QUIC_OK)
		return;
	s->st.quic_initials++;
	struct tls_ev ev;
	memset(&ev, 0, sizeof(ev));
	meta_from_pkt(&ev.m, p);
	ev.client = &s->quic_hello;
	det_dispatch_tls(s->dets, &ev, s->alerts);
}

static void __attribute__((noinline)) packet_ndp(struct sensor *s, const struct pkt *p)
{
	if (!det_wants_ndp(s->dets))
		return;
	struct ndp_msg nm;
	int e = dec_ndp(p, &nm);
	s->st.ndp_msgs++;
	if (e) {
		s->st.ndp_malformed++;
		return;
	}
	struct ndp_ev ev;
	meta_from_pkt(&ev.m, p);
	ev.ndp = &nm;
	det_dispatch_ndp(s->dets, &ev, s->alerts);
}

/* VRRP advertisements (IP protocol 112) for the fhrp detector, which also tells the
 * arp detector which MACs speak for a virtual address (detectors/lan.h). */
static void __attribute__((noinline)) packet_vrrp(struct sensor *s, const struct pkt *p)
{
	if (!det_wants_vrrp(s->dets))
		return;
	struct vrrp_msg vm;
	if (dec_vrrp(p, &vm) != VRRP_OK)
		return;
	struct vrrp_ev ev;
	meta_from_pkt(&ev.m, p);
	ev.vrrp = &vm;
	det_dispatch_vrrp(s->dets, &ev, s->alerts);
}

/* The first packets of a flow some consumer wants are kept for nDPI, which reads them
 * if an alert on the flow asks (classify.h). */
static void classify(struct sensor *s, struct flow *f, const struct pkt *p)
{
	struct flow_app *fa = flow_app(f);
	if (!fa)
		return;
	if (!fa->cls && !(fa->cls = cls_flow_new(s->cls)))
		return;
	cls_keep(s->cls, fa->cls, p->l3, p->l3_len, p->ts_us);
}

/* A new flow, or one some consumer still wants. */
static void __attribute__((noinline))
packet_flow(struct sensor *s, struct flow *f, int created, int dir, const struct pkt *p)
{
	if (created) {
		flow_setup(s, f);
		/* The default route seen in traffic (detectors/lan.h): the next hop of a new
		 * IPv4 flow toward a unicast MAC. Once per flow. */
		if ((p->flags & PKT_F_ETH) && p->dst.family == 4 && !(p->dst_mac[0] & 1))
			det_lan_next_hop(p->nvlan ? p->vlan[0] : 0, p->dst_mac, p->dst.a, p->ts_us);
	}
	if (f->flags & FLOW_F_BULK) {
		s->st.bulk_packets++;
		return;
	}
	/* Only segments with data: nDPI names TLS, SSH, SMTP... from them alone, and a
	 * SYN flood then costs nothing here. */
	if (s->cls && p->l3 && p->payload_len)
		classify(s, f, p);
	if (p->flags & PKT_F_TCP)
		flow_data(s, f, dir, p);
}

/* Every packet the fast path of sensor_packet() did not take: out of line, so that
 * the fast path needs no frame for struct pkt. */
static void __attribute__((noinline))
packet_decode(struct sensor *s, int linktype, uint64_t ts_us, uint32_t caplen, uint32_t wirelen,
	      const uint8_t *data)
{
	struct pkt p;
	uint32_t notes;

	/* dec_packet() sets caplen; ts_us and wirelen are the caller's to fill. */
	p.ts_us = ts_us;
	p.wirelen = wirelen;
	enum dec_result r = dec_packet(&p, linktype, data, caplen, &notes);
	if (notes)
		count_notes(s, notes);
	if (r != DEC_OK) {
		s->st.decode_err[r]++;
		return;
	}

	if (p.flags & PKT_F_ARP) {
		packet_arp(s, &p);
		return;
	}
	if (p.flags & PKT_F_UDP) {
		if (__builtin_expect(udp_app_port(p.sport) || udp_app_port(p.dport), 0))
			packet_udp_app(s, &p);
		else if (p.payload_len >= 1200)
			packet_quic(s, &p);
	} else if ((p.flags & PKT_F_ICMP) && p.ip_proto == 58 && p.icmp_type >= 133 &&
		   p.icmp_type <= 137) {
		packet_ndp(s, &p);
	} else if ((p.flags & (PKT_F_IP | PKT_F_LATER_FRAG)) == PKT_F_IP &&
		   __builtin_expect(p.ip_proto == VRRP_IPPROTO, 0)) {
		packet_vrrp(s, &p);
		return;
	}

	/* NULL for anything that is not a TCP, UDP or ICMP packet with its header (later
	 * fragments, other protocols, non-IP frames): flow_get() checks. */
	int dir, created;
	struct flow *f = flow_get(s->flows, &p, &dir, &created);
	if (!f)
		return;
	/* The fast path of DESIGN.md: a known flow no consumer wants is one lookup and
	 * this flag test. A flow flow_get() has just created has no flags but its own
	 * (FLOW_F_BULK is set by flow_setup()), so the test also sends it on. */
	if (__builtin_expect(f->flags & FLOW_F_BULK, 1)) {
		s->st.bulk_packets++;
		return;
	}
	packet_flow(s, f, created, dir, &p);
}

void sensor_packet(struct sensor *s, int linktype, uint64_t ts_us, uint32_t caplen,
		   uint32_t wirelen, const uint8_t *data)
{
	struct dec_bulk k;

	s->st.packets++;
	if (ts_us >= s->next_tick_us)
		packet_tick(s, ts_us);
	if (ts_us > s->st.last_us)
		s->st.last_us = ts_us;
	/* Apart from packets++ (a branch between them): together the compiler makes
	 * them one vector add that costs more than the two adds. */
	s->st.bytes += wirelen;

	/* The fast path of DESIGN.md, before any decoding: a data segment of a known flow
	 * no consumer wants is one shape check and one lookup. */
	if (__builtin_expect(linktype == DEC_LINK_EN10MB, 1) && dec_tcp_bulk(data, caplen, &k) &&
	    flow_bulk_tcp(s->flows, &k, ts_us, wirelen)) {
		s->st.bulk_packets++;
		return;
	}
	packet_decode(s, linktype, ts_us, caplen, wirelen, data);
}

void sensor_idle(struct sensor *s, uint64_t now_us)
{
	if (s->next_tick_us && now_us >= s->next_tick_us && now_us > s->st.last_us)
		tick(s, now_us);
}

void sensor_finish(struct sensor *s)
{
	char err[512];
	uint64_t last = s->st.last_us;
	for (size_t i = 0; i < s->nworkers; i++)
		if (s->workers[i]->st.last_us > last)
			last = s->workers[i]->st.last_us;
	det_dispatch_tick(s->dets, last, s->alerts);
	alert_pipe_flush(s->alerts);
	if (s->publish_baselines)
		publish_baselines(s);
	if (sensor_save_state(s, err, sizeof(err)) < 0)
		fprintf(stderr, "onpath: state: %s\n", err);
}

void sensor_thread_exit(void)
{
	dec_x509_cache_flush();
	dec_quic_flush();
}

void sensor_worker_stats(const struct sensor *s, struct sensor_stats *st)
{
	*st = s->st;
	flow_table_get_stats(s->flows, &st->flows);
	stream_pool_get_stats(s->streams, &st->streams);
}

void sensor_get_stats(const struct sensor *s, struct sensor_stats *st)
{
	sensor_worker_stats(s, st);
	/* Workers: counters add up (peaks too: an upper bound of the sensor's peak);
	 * first_us and last_us span them all. */
	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0, "sensor_stats: only uint64_t");
	for (size_t i = 0; i < s->nworkers; i++) {
		struct sensor_stats w;
		uint64_t a[sizeof(*st) / sizeof(uint64_t)], b[sizeof(w) / sizeof(uint64_t)];
		uint64_t first = st->first_us, last = st->last_us;

		sensor_worker_stats(s->workers[i], &w);
		memcpy(a, st, sizeof(a));
		memcpy(b, &w, sizeof(b));
		for (size_t k = 0; k < ONPATH_ARRAY_LEN(a); k++)
			a[k] += b[k];
		memcpy(st, a, sizeof(a));
		st->first_us = !first || (w.first_us && w.first_us < first) ? w.first_us : first;
		st->last_us = w.last_us > last ? w.last_us : last;
	}
}

struct alert_pipe *sensor_alerts(struct sensor *s)
{
	return s->alerts;
}
