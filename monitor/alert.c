#include "config.h"

/* alert.c - the alert model: ECS-shaped JSON, de-duplication per (type, key) window,
 * aggregation of repeats, unique event ids, hand-off to the output queue.
 *
 * An attacker who can trigger one alert can usually trigger it a million times (one
 * forged ARP reply per millisecond): the de-duplication table is what keeps a flood
 * from becoming a million lines in the SIEM. It is bounded (dedupe_max entries,
 * oldest window evicted first), keyed with a per-process random hash seed because the
 * keys hold attacker-chosen text (names, addresses), and it never loses a count: an
 * evicted window with repeats writes its aggregate on the way out.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "alert.h"
#include "output.h"

/* Buckets are a power of two; this caps what a config can ask for (~1 GiB of
 * entries with their latest-alert copies is already more than any sensor needs). */
#define DEDUPE_MAX_LIMIT (1u << 22)
#define ID_RAND_BYTES 16
#define ID_PREFIX_LEN (2 * ID_RAND_BYTES)
#define SENSOR_NAME_MAX 256

struct dd_entry {
	struct dd_entry *hnext;        /* hash chain */
	struct dd_entry *prev, *next;  /* window order, oldest window first */
	uint64_t hash;
	const struct alert_type *type;
	uint64_t win_start;            /* the window ends at win_start + window */
	uint64_t first_us, last_us;
	uint64_t count;                /* alerts in the window, the written first one included */
	int max_severity;
	enum alert_confidence max_confidence;
	struct alert *latest;          /* latest repeat, evidence closed; NULL until one */
	size_t keylen;
	char key[];
};

struct type_count {
	const struct alert_type *type;
	uint64_t written, suppressed, below_min;
};

struct alert_pipe {
	/* Detectors may run in several capture workers; the stats thread reads counts. */
	pthread_mutex_t mu;
	struct out_mgr *out;           /* borrowed; NULL: lines are counted and freed */
	char *sensor, *iface;
	uint64_t window_us;
	uint32_t dedupe_max;
	int min_severity;

	char id_prefix[ID_PREFIX_LEN + 1];
	uint64_t id_seq;
	uint64_t hash_seed;

	struct dd_entry **buckets;
	size_t nbuckets;               /* power of two */
	struct dd_entry *head, *tail;
	uint32_t nentries;

	struct type_count *types;
	size_t ntypes, captypes;

	struct jw w;                   /* scratch for serialising, keeps its buffer */
	struct alert_pipe_stats st;

	const struct alert_observer *obs; /* see alert_pipe_set_observer; NULL = none */
	void *obs_ud;
};

static const char *const conf_names[] = { "low", "medium", "high" };

const char *alert_confidence_str(enum alert_confidence c)
{
	if ((unsigned)c >= ONPATH_ARRAY_LEN(conf_names))
		return "low";
	return conf_names[c];
}

/* ---------------------------------------------------------------- pipe */

/* Fills b with n random bytes. Ids must not collide across sensors and restarts (a
 * SIEM de-duplicates on event.id), and the table's hash seed must not be guessable
 * (its keys hold attacker-chosen text, and colliding keys would make every lookup a
 * list walk). */
static void random_bytes(uint8_t *b, size_t n)
{
	uint64_t t, p, x;
	size_t i;

	if (getrandom(b, n, 0) == (ssize_t)n || RAND_bytes(b, (int)n) == 1)
		return;
	/* No entropy source at all: still differ per process and start time. */
	t = util_now_us();
	p = (uint64_t)getpid();
	for (i = 0; i < n; i++) {
		x = util_hash64(&t, sizeof(t), p + i);
		b[i] = (uint8_t)x;
	}
}

struct alert_pipe *alert_pipe_new(const struct alert_pipe_cfg *cfg, struct out_mgr *out)
{
	struct alert_pipe *ap = calloc(1, sizeof(*ap));
	static const char hexdig[] = "0123456789abcdef";
	uint8_t r[ID_RAND_BYTES + sizeof(uint64_t)];
	char host[SENSOR_NAME_MAX];
	uint32_t max;
	size_t i;

	if (ap == NULL)
		return NULL;
	if (pthread_mutex_init(&ap->mu, NULL) != 0) {
		free(ap);
		return NULL;
	}
	ap->out = out;
	ap->window_us = (uint64_t)(cfg != NULL && cfg->window_s ? cfg->window_s : ALERT_DEFAULT_WINDOW_S)
			* 1000000u;
	max = cfg != NULL && cfg->dedupe_max ? cfg->dedupe_max : ALERT_DEFAULT_DEDUPE_MAX;
	ap->dedupe_max = max > DEDUPE_MAX_LIMIT ? DEDUPE_MAX_LIMIT : max;
	ap->min_severity = cfg != NULL ? cfg->min_severity : 0;

	/* observer.name is how many sensors writing to one store are told apart. */
	if (cfg != NULL && cfg->sensor_name != NULL && cfg->sensor_name[0] != '\0') {
		ap->sensor = strdup(cfg->sensor_name);
	} else {
		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			util_strlcpy(host, "onpath", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		ap->sensor = strdup(host);
	}
	if (cfg != NULL && cfg->iface != NULL)
		ap->iface = strdup(cfg->iface);

	ap->nbuckets = 16;
	while (ap->nbuckets < ap->dedupe_max)
		ap->nbuckets *= 2;
	ap->buckets = calloc(ap->nbuckets, sizeof(*ap->buckets));

	random_bytes(r, sizeof(r));
	for (i = 0; i < ID_RAND_BYTES; i++) {
		ap->id_prefix[2 * i] = hexdig[r[i] >> 4];
		ap->id_prefix[2 * i + 1] = hexdig[r[i] & 0xf];
	}
	ap->id_prefix[ID_PREFIX_LEN] = '\0';
	memcpy(&ap->hash_seed, r + ID_RAND_BYTES, sizeof(ap->hash_seed));
	jw_init(&ap->w);

	if (ap->sensor == NULL || (cfg != NULL && cfg->iface != NULL && ap->iface == NULL) ||
	    ap->buckets == NULL || ap->w.buf == NULL) {
		alert_pipe_free(ap);
		return NULL;
	}
	return ap;
}

static void free_latest(struct alert *a)
{
	if (a == NULL)
		return;
	jw_free(&a->ev);
	free(a);
}

void alert_pipe_free(struct alert_pipe *ap)
{
	struct dd_entry *e, *n;

	if (ap == NULL)
		return;
	for (e = ap->head; e != NULL; e = n) {
		n = e->next;
		free_latest(e->latest);
		free(e);
	}
	free(ap->buckets);
	free(ap->types);
	free(ap->sensor);
	free(ap->iface);
	jw_free(&ap->w);
	pthread_mutex_destroy(&ap->mu);
	free(ap);
}

/* ---------------------------------------------------------------- alerts */

void alert_begin(struct alert *a, const struct alert_type *t, uint64_t ts_us)
{
	memset(a, 0, sizeof(*a));
	a->type = t;
	a->severity = t != NULL ? t->severity : 1;
	a->confidence = CONF_MEDIUM;
	a->ts_us = ts_us;
	jw_init(&a->ev);
	jw_obj_open(&a->ev, NULL);
}

void alert_discard(struct alert *a)
{
	jw_free(&a->ev);
}

static const char *transport_name(uint8_t proto, char buf[4])
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "ipv6-icmp";
	default:
		snprintf(buf, 4, "%u", (unsigned)proto);
		return buf;
	}
}

static bool endpoint_set(const struct alert_endpoint *ep)
{
	return ep->ip.family == 4 || ep->ip.family == 6 || ep->has_mac || ep->has_port;
}

static void write_endpoint(struct jw *w, const char *name, const struct alert_endpoint *ep)
{
	if (!endpoint_set(ep))
		return;
	jw_obj_open(w, name);
	if (ep->ip.family == 4 || ep->ip.family == 6)
		jw_addr(w, "ip", &ep->ip);
	if (ep->has_mac)
		jw_mac(w, "mac", ep->mac);
	if (ep->has_port)
		jw_uint(w, "port", ep->port);
	jw_obj_close(w);
}

/* Bounded length of a fixed char array a detector filled: tolerate a missing NUL. */
#define FIELD_LEN(f) strnlen((f), sizeof(f))

static void write_evidence(struct jw *w, const struct jw *ev)
{
	char *tmp;

	if (ev->buf == NULL || ev->len == 0)
		return;
	if (ev->err == 0 && ev->depth == 0) {
		/* closed by alert_emit */
		jw_raw(w, "evidence", ev->buf, ev->len);
		return;
	}
	if (ev->err == 0 && ev->depth == 1) {
		/* still open (alert_to_json called directly): close a copy */
		tmp = malloc(ev->len + 1);
		if (tmp == NULL) {
			w->err = ENOMEM;
			return;
		}
		memcpy(tmp, ev->buf, ev->len);
		tmp[ev->len] = '}';
		jw_raw(w, "evidence", tmp, ev->len + 1);
		free(tmp);
		return;
	}
	/* A detector's evidence that failed (out of memory, unbalanced) is replaced,
	 * not dropped with the alert: the alert itself is still worth having. */
	jw_obj_open(w, "evidence");
	jw_str(w, "error", ev->err == ENOMEM ? "evidence too large" : "evidence malformed");
	jw_obj_close(w);
}

void alert_endpoints_to_json(struct jw *w, const struct alert *a, const char *protocol)
{
	char pbuf[4];

	write_endpoint(w, "source", &a->src);
	write_endpoint(w, "destination", &a->dst);

	if (a->community_id[0] != '\0' || a->transport != 0 || a->vlan != 0 || protocol != NULL) {
		jw_obj_open(w, "network");
		if (a->community_id[0] != '\0')
			jw_strn(w, "community_id", a->community_id, FIELD_LEN(a->community_id));
		if (a->transport != 0)
			jw_str(w, "transport", transport_name(a->transport, pbuf));
		if (protocol != NULL)
			jw_str(w, "protocol", protocol);
		if (a->vlan != 0) {
			jw_obj_open(w, "vlan");
			jw_uint(w, "id", a->vlan);
			jw_obj_close(w);
		}
		jw_obj_close(w);
	}
}

void alert_observer_to_json(struct jw *w, const char *sensor, const char *iface)
{
	jw_obj_open(w, "observer");
	jw_str(w, "name", sensor);
	if (iface != NULL) {
		jw_obj_open(w, "ingress");
		jw_obj_open(w, "interface");
		jw_str(w, "name", iface);
		jw_obj_close(w);
		jw_obj_close(w);
	}
	jw_obj_close(w);
}

void alert_to_json(struct jw *w, const struct alert *a, const char *sensor, const char *iface,
		   const char *id, uint64_t count, uint64_t first_us, uint64_t last_us,
		   bool aggregate)
{
	const struct alert_type *t = a->type;
	const char *action = t != NULL && t->action != NULL ? t->action : "unknown";
	const char *dot = strchr(action, '.');
	int sev = a->severity < 1 ? 1 : a->severity > 10 ? 10 : a->severity;

	jw_obj_open(w, NULL);
	jw_ts(w, "@timestamp", aggregate ? last_us : a->ts_us);

	jw_obj_open(w, "event");
	jw_str(w, "id", id);
	jw_str(w, "kind", "alert");
	jw_str(w, "module", "onpath");
	jw_strn(w, "dataset", action, dot != NULL ? (size_t)(dot - action) : strlen(action));
	jw_str(w, "action", action);
	jw_int(w, "severity", sev);
	jw_int(w, "risk_score", sev * 10);
	jw_ts(w, "created", util_now_us());
	jw_obj_close(w);

	alert_observer_to_json(w, sensor, iface);
	alert_endpoints_to_json(w, a, NULL);

	if (t != NULL && t->technique_id != NULL && t->technique_id[0] != '\0') {
		jw_obj_open(w, "threat");
		jw_str(w, "framework", "MITRE ATT&CK");
		jw_obj_open(w, "technique");
		/* ECS makes technique fields arrays: an alert may map to several. */
		jw_arr_open(w, "id");
		jw_str(w, NULL, t->technique_id);
		jw_arr_close(w);
		if (t->technique_name != NULL) {
			jw_arr_open(w, "name");
			jw_str(w, NULL, t->technique_name);
			jw_arr_close(w);
		}
		jw_obj_close(w);
		jw_obj_close(w);
	}

	jw_obj_open(w, "onpath");
	jw_str(w, "confidence", alert_confidence_str(a->confidence));
	jw_uint(w, "count", count);
	jw_ts(w, "first_seen", first_us);
	jw_ts(w, "last_seen", last_us);
	if (aggregate)
		jw_bool(w, "aggregate", true);
	jw_strn(w, "key", a->key, FIELD_LEN(a->key));
	if (a->incident[0] != '\0')
		jw_strn(w, "incident", a->incident, FIELD_LEN(a->incident));
	if (a->ndpi_proto[0] != '\0' || a->nndpi_risks) {
		jw_obj_open(w, "ndpi");
		if (a->ndpi_proto[0] != '\0')
			jw_strn(w, "protocol", a->ndpi_proto, FIELD_LEN(a->ndpi_proto));
		if (a->nndpi_risks) {
			jw_arr_open(w, "risks");
			for (unsigned i = 0; i < a->nndpi_risks && i < ALERT_NDPI_RISKS; i++)
				jw_str(w, NULL, a->ndpi_risks[i] ? a->ndpi_risks[i] : "?");
			jw_arr_close(w);
		}
		jw_obj_close(w);
	}
	write_evidence(w, &a->ev);
	jw_obj_close(w);

	jw_strn(w, "message", a->message, FIELD_LEN(a->message));
	jw_obj_close(w);
}

/* ---------------------------------------------------------------- counters */

static struct type_count *type_count(struct alert_pipe *ap, const struct alert_type *t)
{
	struct type_count *n;
	size_t i, cap;

	for (i = 0; i < ap->ntypes; i++)
		if (ap->types[i].type == t)
			return &ap->types[i];
	/* Two descriptions of one action (a detector reloaded) share a counter. */
	for (i = 0; i < ap->ntypes; i++)
		if (strcmp(ap->types[i].type->action, t->action) == 0)
			return &ap->types[i];
	if (ap->ntypes == ap->captypes) {
		cap = ap->captypes ? 2 * ap->captypes : 32;
		n = realloc(ap->types, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		ap->types = n;
		ap->captypes = cap;
	}
	n = &ap->types[ap->ntypes++];
	memset(n, 0, sizeof(*n));
	n->type = t;
	return n;
}

/* ---------------------------------------------------------------- writing */

static void write_alert(struct alert_pipe *ap, struct alert *a, uint64_t count,
			uint64_t first_us, uint64_t last_us, bool aggregate)
{
	char id[ALERT_ID_MAX];
	struct type_count *tc;
	struct out_meta meta;
	char *line;

	alert_pipe_new_id(ap, id, sizeof(id));
	if (ap->obs != NULL && ap->obs->alert != NULL)
		ap->obs->alert(ap->obs_ud, a, id);
	jw_reset(&ap->w);
	alert_to_json(&ap->w, a, ap->sensor, ap->iface, id, count, first_us, last_us, aggregate);
	if (ap->w.err != 0 || (line = malloc(ap->w.len + 1)) == NULL) {
		ap->st.errors++;
		return;
	}
	memcpy(line, ap->w.buf, ap->w.len + 1);

	ap->st.written++;
	if (aggregate)
		ap->st.aggregates++;
	tc = type_count(ap, a->type);
	if (tc != NULL)
		tc->written++;
	if (ap->out == NULL)
		free(line);
	else {
		/* What the outputs index (redis stream fields, syslog MSGID and severity)
		 * without parsing the line back. */
		memset(&meta, 0, sizeof(meta));
		meta.action = a->type != NULL ? a->type->action : NULL;
		meta.severity = a->severity < 1 ? 1 : a->severity > 10 ? 10 : a->severity;
		meta.ts_us = aggregate ? 0 : last_us;
		util_strlcpy(meta.id, id, sizeof(meta.id));
		if (out_mgr_submit_meta(ap->out, OUT_ALERT, line, ap->w.len, &meta) != 0)
			ap->st.dropped++;
	}
	if (ap->obs != NULL && ap->obs->written != NULL)
		ap->obs->written(ap->obs_ud);
}

/* ---------------------------------------------------------------- observer */

void alert_pipe_set_observer(struct alert_pipe *ap, const struct alert_observer *obs, void *ud)
{
	if (ap == NULL)
		return;
	pthread_mutex_lock(&ap->mu);
	if (obs != NULL) {
		ap->obs = obs;
		ap->obs_ud = ud;
	} else if (ap->obs_ud == ud) {
		ap->obs = NULL;
		ap->obs_ud = NULL;
	}
	pthread_mutex_unlock(&ap->mu);
}

void alert_pipe_new_id(struct alert_pipe *ap, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%016" PRIx64, ap->id_prefix, ++ap->id_seq);
}

const char *alert_pipe_sensor_name(const struct alert_pipe *ap)
{
	return ap->sensor;
}

const char *alert_pipe_iface(const struct alert_pipe *ap)
{
	return ap->iface;
}

int alert_pipe_submit(struct alert_pipe *ap, int kind, char *line, size_t len,
		      const struct out_meta *meta)
{
	/* No lock: the output manager has its own, and observers call this with the
	 * pipe's lock held. */
	if (ap->out == NULL || kind < 0 || kind >= OUT_KIND_MAX) {
		free(line);
		return -1;
	}
	return out_mgr_submit_meta(ap->out, (enum out_kind)kind, line, len, meta);
}

/* ---------------------------------------------------------------- de-duplication */

static uint64_t dd_hash(const struct alert_pipe *ap, const char *action, const char *key,
			size_t keylen)
{
	uint64_t h = util_hash64(action, strlen(action) + 1, ap->hash_seed);

	return util_hash64(key, keylen, h);
}

static struct dd_entry *dd_find(struct alert_pipe *ap, uint64_t h, const char *action,
				const char *key, size_t keylen)
{
	struct dd_entry *e;

	for (e = ap->buckets[h & (ap->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0 &&
		    strcmp(e->type->action, action) == 0)
			return e;
	return NULL;
}

static void dd_unlink(struct alert_pipe *ap, struct dd_entry *e)
{
	struct dd_entry **pp = &ap->buckets[e->hash & (ap->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		ap->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		ap->tail = e->prev;
	ap->nentries--;
}

/* Ends e's window: one aggregate line when it held repeats, then forgets it. */
static void dd_close(struct alert_pipe *ap, struct dd_entry *e)
{
	struct alert *l = e->latest;

	dd_unlink(ap, e);
	if (e->count > 1 && l != NULL) {
		/* The aggregate shows the latest occurrence's evidence, but never ranks
		 * below the worst occurrence of its window. */
		l->severity = e->max_severity;
		l->confidence = e->max_confidence;
		write_alert(ap, l, e->count, e->first_us, e->last_us, true);
	}
	free_latest(l);
	free(e);
}

static struct dd_entry *dd_insert(struct alert_pipe *ap, uint64_t h, const struct alert *a,
				  size_t keylen)
{
	struct dd_entry *e, **b;

	/* Full: the oldest window goes first; under a flood of distinct keys the sensor
	 * forgets old windows rather than grow. */
	while (ap->nentries >= ap->dedupe_max && ap->head != NULL) {
		ap->st.dedupe_evicted++;
		dd_close(ap, ap->head);
	}
	e = malloc(sizeof(*e) + keylen + 1);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->type = a->type;
	e->win_start = e->first_us = e->last_us = a->ts_us;
	e->count = 1;
	e->max_severity = a->severity;
	e->max_confidence = a->confidence;
	e->keylen = keylen;
	memcpy(e->key, a->key, keylen);
	e->key[keylen] = '\0';

	b = &ap->buckets[h & (ap->nbuckets - 1)];
	e->hnext = *b;
	*b = e;
	e->prev = ap->tail;
	if (ap->tail != NULL)
		ap->tail->next = e;
	else
		ap->head = e;
	ap->tail = e;
	ap->nentries++;
	return e;
}

/* Keeps a as the latest repeat of e's window; takes over a's evidence buffer. */
static void dd_repeat(struct dd_entry *e, struct alert *a)
{
	if (e->latest == NULL) {
		e->latest = malloc(sizeof(*e->latest));
		if (e->latest == NULL)
			return; /* the count still goes up; the aggregate is lost */
	} else {
		jw_free(&e->latest->ev);
	}
	*e->latest = *a;
	memset(&a->ev, 0, sizeof(a->ev));
}

static bool window_over(const struct alert_pipe *ap, const struct dd_entry *e, uint64_t t)
{
	/* subtract form: win_start + window could wrap for a forged capture time */
	return t >= e->win_start && t - e->win_start >= ap->window_us;
}

void alert_emit(struct alert_pipe *ap, struct alert *a)
{
	struct type_count *tc;
	struct dd_entry *e;
	const char *action;
	size_t keylen;
	uint64_t h;

	if (ap == NULL || a->type == NULL || a->type->action == NULL) {
		alert_discard(a);
		return;
	}
	if (a->ev.err == 0 && a->ev.depth == 1)
		jw_obj_close(&a->ev);
	if (a->severity < 1)
		a->severity = 1;
	else if (a->severity > 10)
		a->severity = 10;
	action = a->type->action;
	keylen = FIELD_LEN(a->key);

	pthread_mutex_lock(&ap->mu);
	tc = type_count(ap, a->type);
	if (a->severity < ap->min_severity) {
		ap->st.below_min++;
		if (tc != NULL)
			tc->below_min++;
		goto out;
	}

	h = dd_hash(ap, action, a->key, keylen);
	e = dd_find(ap, h, action, a->key, keylen);
	if (e != NULL && window_over(ap, e, a->ts_us)) {
		dd_close(ap, e);
		e = NULL;
	}
	if (e != NULL) {
		e->count++;
		/* Capture time may step back a little (several interfaces, reordered
		 * files): first/last stay the true extremes. */
		if (a->ts_us < e->first_us)
			e->first_us = a->ts_us;
		if (a->ts_us > e->last_us)
			e->last_us = a->ts_us;
		if (a->severity > e->max_severity)
			e->max_severity = a->severity;
		if (a->confidence > e->max_confidence)
			e->max_confidence = a->confidence;
		if (ap->obs != NULL && ap->obs->alert != NULL)
			ap->obs->alert(ap->obs_ud, a, NULL);
		dd_repeat(e, a);
		ap->st.suppressed++;
		if (tc != NULL)
			tc->suppressed++;
		goto out;
	}

	/* First of a window: written at once, so the analyst learns of an attack when
	 * it starts, not when its window ends. Without memory for an entry the alert
	 * is still written, only not de-duplicated. */
	dd_insert(ap, h, a, keylen);
	write_alert(ap, a, 1, a->ts_us, a->ts_us, false);
out:
	pthread_mutex_unlock(&ap->mu);
	alert_discard(a);
}

void alert_pipe_tick(struct alert_pipe *ap, uint64_t now_us)
{
	if (ap == NULL)
		return;
	pthread_mutex_lock(&ap->mu);
	/* Windows are in the order they opened, so the expired ones are at the head.
	 * (If capture time stepped back, a later window may close a little late, never
	 * early.) */
	while (ap->head != NULL && window_over(ap, ap->head, now_us))
		dd_close(ap, ap->head);
	if (ap->obs != NULL && ap->obs->tick != NULL)
		ap->obs->tick(ap->obs_ud, now_us);
	pthread_mutex_unlock(&ap->mu);
}

void alert_pipe_flush(struct alert_pipe *ap)
{
	if (ap == NULL)
		return;
	pthread_mutex_lock(&ap->mu);
	while (ap->head != NULL)
		dd_close(ap, ap->head);
	if (ap->obs != NULL && ap->obs->flush != NULL)
		ap->obs->flush(ap->obs_ud);
	pthread_mutex_unlock(&ap->mu);
}

/* ---------------------------------------------------------------- reading counters */

size_t alert_pipe_counts(const struct alert_pipe *ap, struct alert_type_count *out, size_t cap)
{
	struct alert_pipe *m = (struct alert_pipe *)ap; /* the lock is not part of the value */
	size_t i, n;

	pthread_mutex_lock(&m->mu);
	n = ap->ntypes;
	for (i = 0; i < n && i < cap; i++) {
		out[i].action = ap->types[i].type->action;
		out[i].written = ap->types[i].written;
		out[i].suppressed = ap->types[i].suppressed;
		out[i].below_min = ap->types[i].below_min;
	}
	pthread_mutex_unlock(&m->mu);
	return n;
}

uint64_t alert_pipe_total(const struct alert_pipe *ap)
{
	struct alert_pipe *m = (struct alert_pipe *)ap;
	uint64_t n;

	pthread_mutex_lock(&m->mu);
	n = ap->st.written;
	pthread_mutex_unlock(&m->mu);
	return n;
}

void alert_pipe_get_stats(const struct alert_pipe *ap, struct alert_pipe_stats *s)
{
	struct alert_pipe *m = (struct alert_pipe *)ap;

	pthread_mutex_lock(&m->mu);
	*s = ap->st;
	s->dedupe_entries = ap->nentries;
	pthread_mutex_unlock(&m->mu);
}
