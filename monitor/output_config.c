#include "config.h"

/* output_config.c - the outputs section of the configuration (see out_cfg_load in
 * output.h and onpath.yaml.example):
 *
 *   outputs:                     either a list of specs (as in the first releases)
 *     - jsonl:/var/log/onpath/alerts.jsonl
 *
 *   outputs:                     or a map
 *     targets: [jsonl:-, "redis://127.0.0.1:6379/0", syslog+tcp://siem:514]
 *     spool_dir: /var/spool/onpath
 *     spool_max: 256M
 *     spool_fsync: batch         # always | batch | never
 *     metrics: 127.0.0.1:9187
 *     redis: {stream: onpath:alerts, list: logstash, ...}
 *     syslog: {facility: local0, app_name: onpath, hostname: sensor-1}
 */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "output.h"
#include "spool.h"
#include "util.h"

#define OUT_CFG_SPOOL_MAX_MAX (1ull << 40)  /* 1 TiB */
#define OUT_CFG_MAXLEN_MAX (1ull << 40)
#define OUT_CFG_BATCH_MAX 65536

static const char *const map_keys[] = { "targets", "spool_dir", "spool_max", "spool_fsync",
					"metrics", "redis", "syslog", NULL };
static const char *const redis_keys[] = {
	"prefix", "stream", "incidents", "stream_maxlen", "list", "list_maxlen", "channel", "records",
	"records_maxlen", "heartbeat", "connect_timeout", "command_timeout", "batch",
	"backoff_max", "username", "password", NULL
};
static const char *const syslog_keys[] = { "facility", "app_name", "hostname", NULL };

static int get_text(const struct cfg *c, const struct cfg_node *sec, const char *key, char *dst,
		    size_t cap, char *err, size_t errlen)
{
	const char *v = NULL;
	int r = cfg_str(c, sec, key, &v, err, errlen);

	if (r <= 0)
		return r;
	if (strlen(v) >= cap) {
		cfg_errf(c, cfg_get(sec, key), err, errlen, "%s: longer than %zu bytes", key, cap - 1);
		return -1;
	}
	util_strlcpy(dst, v, cap);
	return 1;
}

static int get_ms(const struct cfg *c, const struct cfg_node *sec, const char *section,
		  const char *key, uint32_t *ms, char *err, size_t errlen)
{
	const char *v = NULL;
	int r = cfg_str(c, sec, key, &v, err, errlen);

	if (r <= 0)
		return r;
	if (out_parse_ms(v, ms) != 0 || *ms == 0) {
		cfg_errf(c, cfg_get(sec, key), err, errlen, "%s.%s: '%s' is not a duration such as "
			 "500ms, 5s or 1m", section, key, v);
		return -1;
	}
	return 1;
}

static int load_redis(struct out_redis_opts *o, const struct cfg *c, const struct cfg_node *sec,
		      char *err, size_t errlen)
{
	uint64_t v;
	bool b;
	int r;

	if (cfg_check_keys(c, sec, "outputs.redis", redis_keys, err, errlen) < 0)
		return -1;
	if (get_text(c, sec, "prefix", o->prefix, sizeof(o->prefix), err, errlen) < 0 ||
	    get_text(c, sec, "stream", o->stream, sizeof(o->stream), err, errlen) < 0 ||
	    get_text(c, sec, "incidents", o->incidents, sizeof(o->incidents), err, errlen) < 0 ||
	    get_text(c, sec, "list", o->list, sizeof(o->list), err, errlen) < 0 ||
	    get_text(c, sec, "channel", o->channel, sizeof(o->channel), err, errlen) < 0 ||
	    get_text(c, sec, "username", o->username, sizeof(o->username), err, errlen) < 0 ||
	    get_text(c, sec, "password", o->password, sizeof(o->password), err, errlen) < 0)
		return -1;
	if ((r = cfg_uint(c, sec, "stream_maxlen", 0, OUT_CFG_MAXLEN_MAX, &v, err, errlen)) < 0)
		return -1;
	if (r)
		o->stream_maxlen = v;
	if ((r = cfg_uint(c, sec, "list_maxlen", 0, OUT_CFG_MAXLEN_MAX, &v, err, errlen)) < 0)
		return -1;
	if (r)
		o->list_maxlen = v;
	if ((r = cfg_uint(c, sec, "records_maxlen", 0, OUT_CFG_MAXLEN_MAX, &v, err, errlen)) < 0)
		return -1;
	if (r)
		o->records_maxlen = v;
	if ((r = cfg_uint(c, sec, "batch", 1, OUT_CFG_BATCH_MAX, &v, err, errlen)) < 0)
		return -1;
	if (r)
		o->batch = (uint32_t)v;
	if ((r = cfg_bool(c, sec, "records", &b, err, errlen)) < 0)
		return -1;
	if (r)
		o->records = b;
	if ((r = cfg_duration(c, sec, "heartbeat", 0, 3600, &v, err, errlen)) < 0)
		return -1;
	if (r)
		o->heartbeat_s = (uint32_t)v;
	if ((r = cfg_duration(c, sec, "backoff_max", 1, 3600, &v, err, errlen)) < 0)
		return -1;
	if (r)
		o->backoff_max_s = (uint32_t)v;
	if (get_ms(c, sec, "outputs.redis", "connect_timeout", &o->connect_timeout_ms, err,
		   errlen) < 0 ||
	    get_ms(c, sec, "outputs.redis", "command_timeout", &o->command_timeout_ms, err,
		   errlen) < 0)
		return -1;
	return 0;
}

static int load_syslog(struct out_syslog_opts *o, const struct cfg *c, const struct cfg_node *sec,
		       char *err, size_t errlen)
{
	const char *v = NULL;
	int r;

	if (cfg_check_keys(c, sec, "outputs.syslog", syslog_keys, err, errlen) < 0)
		return -1;
	if ((r = cfg_str(c, sec, "facility", &v, err, errlen)) < 0)
		return -1;
	if (r) {
		o->facility = out_syslog_facility(v);
		if (o->facility < 0) {
			cfg_errf(c, cfg_get(sec, "facility"), err, errlen, "outputs.syslog.facility: "
				 "'%s' is not a facility (daemon, auth, local0 ... local7, ...)", v);
			return -1;
		}
	}
	if (get_text(c, sec, "app_name", o->app_name, sizeof(o->app_name), err, errlen) < 0 ||
	    get_text(c, sec, "hostname", o->hostname, sizeof(o->hostname), err, errlen) < 0)
		return -1;
	return 0;
}

static int load_targets(struct out_config *oc, const struct cfg *c, const struct cfg_node *list,
			char *err, size_t errlen)
{
	const struct cfg_node *n;

	if (list->type != CFG_SEQ) {
		cfg_errf(c, list, err, errlen, "outputs: expected a list of output specs (e.g. - jsonl:-)");
		return -1;
	}
	for (n = list->child; n != NULL; n = n->next) {
		if (n->type != CFG_SCALAR) {
			cfg_errf(c, n, err, errlen, "outputs: each entry is a spec string such as "
				 "jsonl:/path or redis://host:6379/0");
			return -1;
		}
		if (oc->nspecs == OUT_MAX_OUTPUTS) {
			cfg_errf(c, n, err, errlen, "outputs: at most %d", OUT_MAX_OUTPUTS);
			return -1;
		}
		oc->specs[oc->nspecs++] = n->value;
	}
	return 0;
}

int out_cfg_load(struct out_config *oc, const struct cfg *c, char *err, size_t errlen)
{
	const struct cfg_node *outs, *n;
	const char *v = NULL;
	uint64_t size;
	int r;

	memset(oc, 0, sizeof(*oc));
	out_settings_defaults(&oc->set);
	if (c == NULL || c->root == NULL)
		return 0;
	outs = cfg_get(c->root, "outputs");
	if (outs == NULL)
		return 0;
	if (outs->type == CFG_SEQ)
		return load_targets(oc, c, outs, err, errlen);
	if (outs->type != CFG_MAP) {
		cfg_errf(c, outs, err, errlen, "outputs: expected a list of output specs, or a map "
			 "with targets, spool_dir, redis, ...");
		return -1;
	}
	if (cfg_check_keys(c, outs, "outputs", map_keys, err, errlen) < 0)
		return -1;
	if ((n = cfg_get(outs, "targets")) != NULL && load_targets(oc, c, n, err, errlen) < 0)
		return -1;
	if (get_text(c, outs, "spool_dir", oc->set.spool_dir, sizeof(oc->set.spool_dir), err,
		     errlen) < 0 ||
	    get_text(c, outs, "metrics", oc->metrics, sizeof(oc->metrics), err, errlen) < 0)
		return -1;
	if ((r = cfg_size(c, outs, "spool_max", SPOOL_MIN_BYTES, OUT_CFG_SPOOL_MAX_MAX, &size, err,
			  errlen)) < 0)
		return -1;
	if (r)
		oc->set.spool_max = size;
	if ((r = cfg_str(c, outs, "spool_fsync", &v, err, errlen)) < 0)
		return -1;
	if (r) {
		if (strcmp(v, "batch") == 0)
			oc->set.spool_fsync = OUT_FSYNC_BATCH;
		else if (strcmp(v, "always") == 0)
			oc->set.spool_fsync = OUT_FSYNC_ALWAYS;
		else if (strcmp(v, "never") == 0)
			oc->set.spool_fsync = OUT_FSYNC_NEVER;
		else {
			cfg_errf(c, cfg_get(outs, "spool_fsync"), err, errlen, "outputs.spool_fsync: "
				 "'%s' is not one of always, batch, never", v);
			return -1;
		}
	}
	if ((n = cfg_get(outs, "redis")) != NULL) {
		if (n->type != CFG_MAP) {
			cfg_errf(c, n, err, errlen, "outputs.redis: expected a map (stream, list, ...)");
			return -1;
		}
		if (load_redis(&oc->set.redis, c, n, err, errlen) < 0)
			return -1;
	}
	if ((n = cfg_get(outs, "syslog")) != NULL) {
		if (n->type != CFG_MAP) {
			cfg_errf(c, n, err, errlen, "outputs.syslog: expected a map (facility, ...)");
			return -1;
		}
		if (load_syslog(&oc->set.syslog, c, n, err, errlen) < 0)
			return -1;
	}
	return 0;
}
