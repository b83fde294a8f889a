#include "config.h"

/* output.c - the bounded queue between the capture threads and the outputs, and the
 * one output thread that drains it.
 *
 * Capture must never wait on a disk, a socket or a lock (DESIGN.md "Data flow"): lines
 * go into a lock-free ring of fixed capacity (many producers, one consumer: the
 * bounded queue of D. Vyukov, a sequence number per cell); the output thread takes
 * them in batches, hands each to every output in order, and flushes when the queue
 * runs dry. A live sensor drops and counts when the ring is full; an offline run waits
 * instead, so a pcap replay gives every alert. Model: suricata util-log-redis.c
 * (batches, counters for every drop).
 *
 * The mutex belongs to the consumer side: whoever drains holds it (the output thread,
 * or a caller when no thread runs), and it guards the outputs' counters and requests.
 * A producer takes it only to wake a sleeping output thread (at most one producer per
 * sleep: it claims the wake-up with an exchange) or, offline, to wait for room.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "output.h"
#include "util.h"

/* Lines taken per round; the outputs see them without the lock. */
#define OUT_BATCH 256
/* A busy queue that never runs dry is still flushed this often, so a tail -f or a
 * SIEM shipper sees alerts within a fraction of a second. */
#define OUT_FLUSH_INTERVAL_S 0.1
#define OUT_MIN_QUEUE 2
#define OUT_MAX_QUEUE (1u << 24)
#define OUT_PARSE_MS_MAX (86400u * 1000) /* a day: no timeout or interval is longer */

/* Every output the sensor knows by scheme; a new output adds its ops here. */
static const struct output_ops *const out_ops_table[] = {
	&out_jsonl_ops,
	&out_redis_ops,
	&out_redis_unix_ops,
	&out_rediss_ops,
	&out_syslog_ops,
	&out_syslog_udp_ops,
	&out_syslog_tcp_ops,
};

struct qitem {
	char *line;
	size_t len;
	enum out_kind kind;
	bool has_meta;
	struct out_meta meta;
};

/* A ring cell. seq == pos: free for the producer claiming position pos; seq == pos + 1:
 * holds the line of position pos for the consumer; the consumer frees it for the next
 * lap with seq = pos + cap. The field holds seq less the cell's index, so the zeroed
 * ring from calloc already reads "free for position i" in cell i: no page of it is
 * touched (or resident) before a line is stored there. Use cell_seq/cell_set_seq. */
struct cell {
	uint64_t seq_less_index;
	struct qitem it;
};

#define OUT_CACHELINE 64

static const char *const state_names[OUT_ST_MAX] = {
	[OUT_ST_LOCAL] = "local",
	[OUT_ST_UP] = "up",
	[OUT_ST_CONNECTING] = "connecting",
	[OUT_ST_DOWN] = "down",
	[OUT_ST_TIMEOUT] = "timeout",
	[OUT_ST_AUTH] = "auth_failed",
	[OUT_ST_REFUSED] = "refused",
};

const char *out_state_str(enum out_state st)
{
	if ((unsigned)st >= OUT_ST_MAX)
		return "unknown";
	return state_names[st];
}

void out_settings_defaults(struct out_settings *s)
{
	memset(s, 0, sizeof(*s));
	util_strlcpy(s->sensor_name, "onpath", sizeof(s->sensor_name));
	s->spool_max = OUT_DEFAULT_SPOOL_MAX;
	s->spool_fsync = OUT_FSYNC_BATCH;
	util_strlcpy(s->redis.prefix, "onpath:", sizeof(s->redis.prefix));
	s->redis.stream_maxlen = 100000;
	s->redis.records_maxlen = 100000;
	s->redis.heartbeat_s = 10;
	s->redis.connect_timeout_ms = 2000;
	s->redis.command_timeout_ms = 5000;
	s->redis.batch = 1024;
	s->redis.backoff_max_s = 30;
	s->syslog.facility = 16; /* local0 */
	util_strlcpy(s->syslog.app_name, "onpath", sizeof(s->syslog.app_name));
}

/* Alert latency histogram: LAT_SUB buckets per power of two of microseconds (each
 * within 25% of its neighbour), up to 2^LAT_POW2 us (18 minutes); above, the last. */
#define LAT_SUB 4
#define LAT_POW2 30
#define LAT_BUCKETS (LAT_POW2 * LAT_SUB)

struct out_mgr {
	/* Producers' side, a cache line of its own: positions claimed so far (also the
	 * lines accepted), and the counters they keep (relaxed atomics). */
	_Alignas(OUT_CACHELINE) uint64_t tail;
	uint64_t submitted, dropped, peak_depth;
	/* Set (seq_cst) by the output thread before it sleeps on work; the producer that
	 * exchanges it back to 0 wakes the thread. */
	unsigned sleeping;
	unsigned room_waiters;   /* offline producers waiting for space (seq_cst) */

	/* Consumer's side. head is the next position to take: written under mu, read by
	 * producers for the depth (relaxed). */
	_Alignas(OUT_CACHELINE) uint64_t head;
	struct cell *ring;       /* cap cells, cap a power of two */
	uint64_t cap, mask;
	bool live;

	pthread_mutex_t mu;
	pthread_cond_t work;     /* the thread waits for lines or a request */
	pthread_cond_t room;     /* offline submitters wait for space */
	pthread_cond_t synced;   /* out_mgr_sync waits for the thread to catch up */

	bool started, stop, reopen_req, dirty;
	bool has_tick;           /* some output wants a tick */
	double last_tick;
	unsigned sync_waiters;
	pthread_t thread;

	uint64_t processed;      /* lines handed to every output (== head) */
	uint64_t flushed;        /* processed as of the last completed flush */
	double last_flush;

	/* Only the output thread touches the outputs once it runs (their health
	 * counters excepted: atomics, see out_mgr_health). */
	struct output outs[OUT_MAX_OUTPUTS];
	size_t nout;
	struct out_settings set;

	struct out_stats st;     /* the consumer's counters (under mu); see out_mgr_get_stats */
	uint64_t lat_hist[LAT_BUCKETS];
};

/* ---------------------------------------------------------------- the ring */

static inline uint64_t cell_seq(const struct out_mgr *m, const struct cell *c)
{
	return __atomic_load_n(&c->seq_less_index, __ATOMIC_ACQUIRE) + (uint64_t)(c - m->ring);
}

static inline void cell_set_seq(const struct out_mgr *m, struct cell *c, uint64_t seq)
{
	__atomic_store_n(&c->seq_less_index, seq - (uint64_t)(c - m->ring), __ATOMIC_RELEASE);
}

/* Claims a position and stores it (producers, any number at once, no lock). Returns
 * false when the ring is full. */
static bool ring_put(struct out_mgr *m, const struct qitem *it)
{
	uint64_t pos = __atomic_load_n(&m->tail, __ATOMIC_RELAXED), head, depth, peak;
	struct cell *c;

	for (;;) {
		c = &m->ring[pos & m->mask];
		int64_t diff = (int64_t)(cell_seq(m, c) - pos);

		if (diff == 0) {
			if (__atomic_compare_exchange_n(&m->tail, &pos, pos + 1, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break;
		} else if (diff < 0) {
			return false; /* the consumer has not freed this cell: a lap behind */
		} else {
			pos = __atomic_load_n(&m->tail, __ATOMIC_RELAXED);
		}
	}
	c->it = *it;
	cell_set_seq(m, c, pos + 1);

	head = __atomic_load_n(&m->head, __ATOMIC_RELAXED);
	depth = pos + 1 > head ? pos + 1 - head : 1;
	if (depth > m->cap) /* head read before the consumer's latest store */
		depth = m->cap;
	peak = __atomic_load_n(&m->peak_depth, __ATOMIC_RELAXED);
	while (depth > peak && !__atomic_compare_exchange_n(&m->peak_depth, &peak, depth, true,
							    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return true;
}

/* True when the line at head is stored (consumer). A claimed cell whose producer has
 * not finished storing reads as empty; that producer wakes the thread afterwards. */
static bool ring_ready(const struct out_mgr *m)
{
	const struct cell *c = &m->ring[m->head & m->mask];

	return cell_seq(m, c) == m->head + 1;
}

/* Takes the line at head; ring_ready must have said yes. Called with mu held. */
static void ring_take(struct out_mgr *m, struct qitem *it)
{
	struct cell *c = &m->ring[m->head & m->mask];

	*it = c->it;
	c->it.line = NULL;
	cell_set_seq(m, c, m->head + m->cap);
	__atomic_store_n(&m->head, m->head + 1, __ATOMIC_RELAXED);
}

/* After a put: wakes the output thread if it sleeps (one producer per sleep). The
 * fence orders the stored cell before the read of sleeping, against the thread's
 * store of sleeping before its last look at the ring (run_locked). */
static void wake_consumer(struct out_mgr *m)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&m->sleeping, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&m->sleeping, 0, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&m->mu);
		pthread_cond_signal(&m->work);
		pthread_mutex_unlock(&m->mu);
	}
}

static unsigned lat_bucket(uint64_t us)
{
	if (us < LAT_SUB)
		return (unsigned)us;
	unsigned e = 63u - (unsigned)__builtin_clzll(us);  /* us >= 2^e, e >= 2 */
	unsigned b = e * LAT_SUB + (unsigned)((us >> (e - 2)) & (LAT_SUB - 1));
	return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* The largest value bucket b holds (the inverse of lat_bucket). */
static uint64_t lat_upper(unsigned b)
{
	if (b < LAT_SUB)
		return b;
	unsigned e = b / LAT_SUB, s = b % LAT_SUB;
	return (((uint64_t)(LAT_SUB + s + 1)) << (e - 2)) - 1;
}

static uint64_t lat_pct(const struct out_mgr *m, unsigned pct)
{
	uint64_t want = (m->st.lat_n * pct + 99) / 100, seen = 0;
	for (unsigned b = 0; b < LAT_BUCKETS; b++) {
		seen += m->lat_hist[b];
		if (seen >= want && seen > 0) {
			uint64_t u = lat_upper(b);
			return u < m->st.lat_max_us ? u : m->st.lat_max_us;
		}
	}
	return m->st.lat_max_us;
}

struct out_mgr *out_mgr_new(size_t queue_cap, bool live)
{
	size_t size = (sizeof(struct out_mgr) + OUT_CACHELINE - 1) & ~(size_t)(OUT_CACHELINE - 1);
	struct out_mgr *m = aligned_alloc(OUT_CACHELINE, size);
	pthread_condattr_t ca;
	uint64_t cap = OUT_MIN_QUEUE;

	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	if (queue_cap == 0)
		queue_cap = OUT_DEFAULT_QUEUE;
	if (queue_cap > OUT_MAX_QUEUE)
		queue_cap = OUT_MAX_QUEUE;
	while (cap < queue_cap)
		cap <<= 1;
	m->ring = calloc(cap, sizeof(*m->ring));
	if (m->ring == NULL) {
		free(m);
		return NULL;
	}
	m->cap = cap; /* the zeroed cells are free for the first lap (struct cell) */
	m->mask = cap - 1;
	m->live = live;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m->ring);
		free(m);
		return NULL;
	}
	/* The thread's timed wait (ticks) measures monotonic time, like util_mono_s. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&m->room, NULL);
	pthread_cond_init(&m->synced, NULL);
	m->last_flush = util_mono_s();
	m->last_tick = m->last_flush;
	out_settings_defaults(&m->set);
	return m;
}

int out_parse_ms(const char *s, uint32_t *ms)
{
	static const struct { const char *unit; uint64_t mul; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	};
	uint64_t v = 0;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > OUT_PARSE_MS_MAX)
			return -1;
	}
	for (i = 0; i < ONPATH_ARRAY_LEN(units); i++) {
		if (strcmp(s, units[i].unit) == 0) {
			v *= units[i].mul;
			if (v > OUT_PARSE_MS_MAX)
				return -1;
			*ms = (uint32_t)v;
			return 0;
		}
	}
	return -1;
}

int out_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -1;
}

/* What the producer did not say, from the JSON: the slow path. */
static void meta_from_json(struct out_meta_copy *c, const char *line, size_t len)
{
	json_error_t e;
	json_t *root = json_loadb(line, len, 0, &e), *ev, *v;

	if (root == NULL)
		return;
	ev = json_object_get(root, "event");
	if (json_is_object(ev)) {
		if (c->id[0] == '\0' && json_is_string(v = json_object_get(ev, "id")))
			util_strlcpy(c->id, json_string_value(v), sizeof(c->id));
		if (c->action[0] == '\0' && json_is_string(v = json_object_get(ev, "action")))
			util_strlcpy(c->action, json_string_value(v), sizeof(c->action));
		if (c->dataset[0] == '\0' && json_is_string(v = json_object_get(ev, "dataset")))
			util_strlcpy(c->dataset, json_string_value(v), sizeof(c->dataset));
		if (c->severity == 0 && json_is_integer(v = json_object_get(ev, "severity")) &&
		    json_integer_value(v) >= 1 && json_integer_value(v) <= 10)
			c->severity = (int)json_integer_value(v);
	}
	json_decref(root);
}

void out_meta_copy(struct out_meta_copy *c, enum out_kind kind, const struct out_meta *m,
		   const char *line, size_t len)
{
	bool alert = kind == OUT_ALERT || kind == OUT_INCIDENT;

	c->kind = kind;
	c->severity = 0;
	c->id[0] = c->action[0] = c->dataset[0] = '\0';
	if (m != NULL) {
		c->severity = m->severity;
		util_strlcpy(c->id, m->id, sizeof(c->id));
		if (m->action != NULL)
			util_strlcpy(c->action, m->action, sizeof(c->action));
		if (m->dataset != NULL)
			util_strlcpy(c->dataset, m->dataset, sizeof(c->dataset));
	}
	if (alert ? c->id[0] == '\0' || c->action[0] == '\0' || c->severity == 0
		  : c->dataset[0] == '\0')
		meta_from_json(c, line, len);
	if (c->dataset[0] == '\0')
		util_strlcpy(c->dataset, kind == OUT_STATS ? "stats" : "records", sizeof(c->dataset));
}

void out_meta_view(const struct out_meta_copy *c, struct out_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->severity = c->severity;
	util_strlcpy(m->id, c->id, sizeof(m->id));
	m->action = c->action[0] ? c->action : NULL;
	m->dataset = c->dataset[0] ? c->dataset : NULL;
}

void out_mgr_set_settings(struct out_mgr *m, const struct out_settings *s)
{
	m->set = *s;
}

size_t out_mgr_count(const struct out_mgr *m)
{
	return m->nout;
}

int out_mgr_fetch_baselines(struct out_mgr *m, out_baseline_fn fn, void *ud)
{
	for (size_t i = 0; i < m->nout; i++)
		if (m->outs[i].ops->fetch_baselines)
			return m->outs[i].ops->fetch_baselines(&m->outs[i], fn, ud);
	return -1;
}

bool out_mgr_wants_baseline(const struct out_mgr *m)
{
	/* An output keeps baselines when it can give them back (output.h). */
	for (size_t i = 0; i < m->nout; i++)
		if (m->outs[i].ops->fetch_baselines != NULL)
			return true;
	return false;
}

int out_mgr_add_ops(struct out_mgr *m, const struct output_ops *ops, const char *arg,
		    char *err, size_t errlen)
{
	struct output *o;
	char why[256];

	if (m->started) {
		snprintf(err, errlen, "output '%s:%s': outputs must be added before the output "
			 "thread starts", ops->scheme, arg);
		return -1;
	}
	if (m->nout >= OUT_MAX_OUTPUTS) {
		snprintf(err, errlen, "output '%s:%s': at most %d outputs", ops->scheme, arg,
			 OUT_MAX_OUTPUTS);
		return -1;
	}
	o = &m->outs[m->nout];
	memset(o, 0, sizeof(*o));
	o->ops = ops;
	o->set = &m->set;
	snprintf(o->spec, sizeof(o->spec), "%s:%s", ops->scheme, arg);
	why[0] = '\0';
	if (ops->open(o, arg, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "output '%s': %s", o->spec, why[0] ? why : "cannot open");
		memset(o, 0, sizeof(*o));
		return -1;
	}
	if (ops->tick != NULL)
		m->has_tick = true;
	m->nout++;
	return 0;
}

int out_mgr_add(struct out_mgr *m, const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	char known[256];
	size_t i, slen, off = 0;

	if (strlen(spec) >= sizeof(m->outs[0].spec)) {
		snprintf(err, errlen, "output '%.40s...': spec longer than %zu bytes", spec,
			 sizeof(m->outs[0].spec) - 1);
		return -1;
	}
	known[0] = '\0';
	for (i = 0; i < ONPATH_ARRAY_LEN(out_ops_table) && off < sizeof(known); i++)
		off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s:...",
					i ? ", " : "", out_ops_table[i]->scheme);
	/* A bare scheme ("syslog") is the scheme with an empty argument. */
	for (i = 0; colon == NULL && i < ONPATH_ARRAY_LEN(out_ops_table); i++)
		if (strcmp(out_ops_table[i]->scheme, spec) == 0)
			return out_mgr_add_ops(m, out_ops_table[i], "", err, errlen);
	if (colon == NULL || colon == spec) {
		snprintf(err, errlen, "output '%s': expected scheme:argument (%s)", spec, known);
		return -1;
	}
	slen = (size_t)(colon - spec);
	for (i = 0; i < ONPATH_ARRAY_LEN(out_ops_table); i++) {
		const struct output_ops *ops = out_ops_table[i];

		if (strlen(ops->scheme) == slen && memcmp(ops->scheme, spec, slen) == 0)
			return out_mgr_add_ops(m, ops, colon + 1, err, errlen);
	}
	snprintf(err, errlen, "output '%s': unknown output '%.*s' (known: %s)", spec, (int)slen,
		 spec, known);
	return -1;
}

/* ---------------------------------------------------------------- the drain */

/* Flushes every output; called with the lock held, releases it for the I/O. */
static void flush_locked(struct out_mgr *m)
{
	uint64_t upto = m->processed, errs = 0;
	size_t i;

	m->dirty = false;
	pthread_mutex_unlock(&m->mu);
	for (i = 0; i < m->nout; i++) {
		struct output *o = &m->outs[i];

		if (o->ops->flush != NULL && o->ops->flush(o) != 0) {
			o->errors++;
			errs++;
		}
	}
	pthread_mutex_lock(&m->mu);
	m->st.errors += errs;
	m->flushed = upto;
	m->last_flush = util_mono_s();
	pthread_cond_broadcast(&m->synced);
}

/* Gives every output with a tick its turn; called with the lock held, releases it. */
static void tick_locked(struct out_mgr *m, double now)
{
	size_t i;

	m->last_tick = now;
	pthread_mutex_unlock(&m->mu);
	for (i = 0; i < m->nout; i++) {
		struct output *o = &m->outs[i];

		if (o->ops->tick != NULL)
			o->ops->tick(o, now);
	}
	pthread_mutex_lock(&m->mu);
}

static void reopen_locked(struct out_mgr *m)
{
	uint64_t errs = 0;
	size_t i;

	m->reopen_req = false;
	pthread_mutex_unlock(&m->mu);
	for (i = 0; i < m->nout; i++) {
		struct output *o = &m->outs[i];

		if (o->ops->reopen != NULL && o->ops->reopen(o) != 0) {
			o->errors++;
			errs++;
		}
	}
	pthread_mutex_lock(&m->mu);
	m->st.errors += errs;
}

/* Takes up to OUT_BATCH lines, writes them to every output without the lock, and
 * flushes when the queue ran dry, someone waits in out_mgr_sync, or the last flush is
 * old. Called with the lock held. */
static void drain_batch_locked(struct out_mgr *m)
{
	struct qitem batch[OUT_BATCH];
	uint64_t errs = 0, ts[OUT_BATCH];
	size_t k, i, j, nts = 0;

	for (k = 0; k < OUT_BATCH && ring_ready(m); k++)
		ring_take(m, &batch[k]);
	/* A producer that counted itself in room_waiters before this batch freed its
	 * cells either sees them or waits on room, under mu, which we hold. */
	if (__atomic_load_n(&m->room_waiters, __ATOMIC_SEQ_CST))
		pthread_cond_broadcast(&m->room);
	pthread_mutex_unlock(&m->mu);

	for (i = 0; i < k; i++) {
		for (j = 0; j < m->nout; j++) {
			struct output *o = &m->outs[j];
			int rc;

			if (o->ops->write_meta != NULL)
				rc = o->ops->write_meta(o, batch[i].kind, batch[i].line, batch[i].len,
							batch[i].has_meta ? &batch[i].meta : NULL);
			else
				rc = o->ops->write(o, batch[i].kind, batch[i].line, batch[i].len);
			if (rc == 0) {
				o->written++;
			} else {
				o->errors++;
				errs++;
			}
		}
		free(batch[i].line);
		if (m->live && batch[i].has_meta && batch[i].meta.ts_us)
			ts[nts++] = batch[i].meta.ts_us;
	}

	pthread_mutex_lock(&m->mu);
	m->processed += k;
	m->st.written += k;
	m->st.errors += errs;
	m->dirty = true;
	if (!ring_ready(m) || m->sync_waiters > 0 ||
	    util_mono_s() - m->last_flush >= OUT_FLUSH_INTERVAL_S)
		flush_locked(m);
	if (nts) {
		/* Written and (usually) flushed: the packet's arrival (the kernel's
		 * timestamp, CLOCK_REALTIME) to now. A line still in a buffer counts as
		 * written; the next flush is at most OUT_FLUSH_INTERVAL_S away. */
		uint64_t now = util_now_us();
		for (i = 0; i < nts; i++) {
			uint64_t lat = now > ts[i] ? now - ts[i] : 0;
			m->lat_hist[lat_bucket(lat)]++;
			m->st.lat_n++;
			if (lat > m->st.lat_max_us)
				m->st.lat_max_us = lat;
		}
	}
}

/* The output thread's loop; also run inline (once == true: until the queue is empty)
 * when no thread was started. Called and returns with the lock held. */
static void run_locked(struct out_mgr *m, bool once)
{
	double now;

	for (;;) {
		/* Honoured between batches, so a rotation never splits a line. */
		if (m->reopen_req) {
			reopen_locked(m);
			continue;
		}
		/* Ticks run in the thread only: an inline run (no thread) belongs to a
		 * caller that is submitting or syncing, not waiting for time to pass. */
		if (m->has_tick && m->started && !once &&
		    (now = util_mono_s()) - m->last_tick >= OUT_TICK_INTERVAL_S) {
			tick_locked(m, now);
			continue;
		}
		if (ring_ready(m)) {
			drain_batch_locked(m);
			continue;
		}
		if (m->dirty) {
			flush_locked(m);
			continue;
		}
		if (once || m->stop)
			return;
		/* Going to sleep: say so, then look at the ring once more. A producer
		 * that stored a line before our store is seen here; one after it sees
		 * sleeping and signals work, which needs mu, held until we wait. */
		__atomic_store_n(&m->sleeping, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ring_ready(m)) {
			__atomic_store_n(&m->sleeping, 0, __ATOMIC_RELAXED);
			continue;
		}
		if (m->has_tick) {
			double due = m->last_tick + OUT_TICK_INTERVAL_S;
			struct timespec ts;

			ts.tv_sec = (time_t)due;
			ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
			if (ts.tv_nsec >= 1000000000L)
				ts.tv_nsec = 999999999L;
			pthread_cond_timedwait(&m->work, &m->mu, &ts);
		} else {
			pthread_cond_wait(&m->work, &m->mu);
		}
		__atomic_store_n(&m->sleeping, 0, __ATOMIC_RELAXED);
	}
}

static void *out_thread(void *arg)
{
	struct out_mgr *m = arg;

	pthread_mutex_lock(&m->mu);
	run_locked(m, false);
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

int out_mgr_start(struct out_mgr *m)
{
	sigset_t all, old;
	int rc;

	pthread_mutex_lock(&m->mu);
	if (m->started) {
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	m->started = true;
	pthread_mutex_unlock(&m->mu);
	/* Signals belong to the main loop; the output thread must not take a SIGHUP or
	 * SIGINT meant for it. The mask is inherited at creation. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&m->thread, NULL, out_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_lock(&m->mu);
		m->started = false;
		pthread_mutex_unlock(&m->mu);
		errno = rc;
		return -1;
	}
#ifdef __GLIBC__
	pthread_setname_np(m->thread, "onpath-out"); /* for top -H and gdb */
#endif
	return 0;
}

/* ---------------------------------------------------------------- producers */

int out_mgr_submit(struct out_mgr *m, enum out_kind kind, char *line, size_t len)
{
	return out_mgr_submit_meta(m, kind, line, len, NULL);
}

int out_mgr_submit_meta(struct out_mgr *m, enum out_kind kind, char *line, size_t len,
			const struct out_meta *meta)
{
	struct qitem it;

	if (line == NULL)
		return -1;
	__atomic_fetch_add(&m->submitted, 1, __ATOMIC_RELAXED);
	it.line = line;
	it.len = len;
	it.kind = kind;
	it.has_meta = meta != NULL;
	if (meta != NULL)
		it.meta = *meta;
	if (ring_put(m, &it)) {
		wake_consumer(m);
		return 0;
	}
	if (m->live) {
		/* Full: capture never waits. */
		__atomic_fetch_add(&m->dropped, 1, __ATOMIC_RELAXED);
		free(line);
		return -1;
	}
	/* Offline and full: wait for room, on the consumer's lock (drain_batch_locked
	 * takes lines under it and then looks at room_waiters). */
	__atomic_fetch_add(&m->room_waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&m->mu);
	while (!ring_put(m, &it)) {
		if (m->started)
			pthread_cond_wait(&m->room, &m->mu);
		else
			run_locked(m, true);
	}
	pthread_mutex_unlock(&m->mu);
	__atomic_fetch_sub(&m->room_waiters, 1, __ATOMIC_SEQ_CST);
	wake_consumer(m);
	return 0;
}

void out_mgr_reopen(struct out_mgr *m)
{
	pthread_mutex_lock(&m->mu);
	m->reopen_req = true;
	pthread_cond_signal(&m->work);
	pthread_mutex_unlock(&m->mu);
}

void out_mgr_sync(struct out_mgr *m)
{
	uint64_t target;

	/* Every position claimed so far: their producers are storing them now. */
	target = __atomic_load_n(&m->tail, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&m->mu);
	if (!m->started) {
		run_locked(m, true);
	} else {
		m->sync_waiters++;
		pthread_cond_signal(&m->work);
		while (m->flushed < target)
			pthread_cond_wait(&m->synced, &m->mu);
		m->sync_waiters--;
	}
	pthread_mutex_unlock(&m->mu);
}

void out_mgr_free(struct out_mgr *m)
{
	size_t i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	if (m->started) {
		pthread_cond_signal(&m->work);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->thread, NULL);
		pthread_mutex_lock(&m->mu);
	}
	run_locked(m, true); /* no thread, or lines it never saw */
	pthread_mutex_unlock(&m->mu);

	for (i = 0; i < m->nout; i++)
		if (m->outs[i].ops->close != NULL)
			m->outs[i].ops->close(&m->outs[i]);
	/* Drained, and no producer is left: nothing between head and tail, normally. */
	for (uint64_t pos = m->head; pos != m->tail; pos++)
		free(m->ring[pos & m->mask].it.line);
	free(m->ring);
	pthread_cond_destroy(&m->work);
	pthread_cond_destroy(&m->room);
	pthread_cond_destroy(&m->synced);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void out_mgr_get_stats(struct out_mgr *m, struct out_stats *s)
{
	pthread_mutex_lock(&m->mu);
	*s = m->st;
	s->submitted = __atomic_load_n(&m->submitted, __ATOMIC_RELAXED);
	s->dropped = __atomic_load_n(&m->dropped, __ATOMIC_RELAXED);
	s->peak_depth = __atomic_load_n(&m->peak_depth, __ATOMIC_RELAXED);
	s->depth = __atomic_load_n(&m->tail, __ATOMIC_RELAXED) - m->head;
	if (m->st.lat_n) {
		s->lat_p50_us = lat_pct(m, 50);
		s->lat_p99_us = lat_pct(m, 99);
	}
	pthread_mutex_unlock(&m->mu);
}

int out_mgr_health(struct out_mgr *m, size_t i, struct out_health *h, char *spec,
		   size_t speclen)
{
	const struct out_health *src;
	const uint64_t *f;
	uint64_t *d;
	size_t k;

	_Static_assert(sizeof(struct out_health) % sizeof(uint64_t) == 0,
		       "struct out_health holds uint64_t counters only");
	/* nout only grows before the thread starts; outputs are never removed while the
	 * manager lives. */
	if (i >= m->nout)
		return -1;
	src = &m->outs[i].health;
	f = (const uint64_t *)src;
	d = (uint64_t *)h;
	for (k = 0; k < sizeof(*h) / sizeof(uint64_t); k++)
		d[k] = __atomic_load_n(&f[k], __ATOMIC_RELAXED);
	if (spec != NULL && speclen > 0)
		util_strlcpy(spec, m->outs[i].spec, speclen);
	return 0;
}

void out_logf(const struct output *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "onpath: output '%s': ", o->spec);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
