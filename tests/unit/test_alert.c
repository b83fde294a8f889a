#include "config.h"

/* test_alert.c - the alert pipeline end to end: alerts go through a real output
 * thread into a jsonl file, which is read back with jansson. Covers the ECS shape and
 * which members appear when, de-duplication windows and aggregates, min_severity,
 * unique ids, the bounded table, and hostile text staying one valid line. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alert.h"
#include "output.h"

#define SEC 1000000ull
#define T0 (1795364400ull * SEC) /* 2026-11-22T16:20:00Z */

static const struct alert_type t_moved = {
	"arp.ip_mac_changed", 8, "T1557.002", "ARP Cache Poisoning", "IP moved to another MAC",
};
static const struct alert_type t_rogue = {
	"dhcp.rogue_server", 7, "T1557.003", "DHCP Spoofing", "DHCP server not allowed",
};
static const struct alert_type t_plain = {
	"test.no_technique", 3, NULL, NULL, "an alert without ATT&CK mapping",
};

struct fx {
	char dir[64], path[128];
	struct out_mgr *out;
	struct alert_pipe *ap;
	json_t *lines[4096];
	size_t nlines;
	size_t read_off;  /* bytes of the file already read */
};

static struct fx *fx_new(const struct alert_pipe_cfg *cfg)
{
	struct fx *f = calloc(1, sizeof(*f));
	char spec[160], err[256];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/onpath-test-alert-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/alerts.jsonl", f->dir);
	f->out = out_mgr_new(256, false);
	assert_non_null(f->out);
	snprintf(spec, sizeof(spec), "jsonl:%s", f->path);
	if (out_mgr_add(f->out, spec, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(out_mgr_start(f->out), 0);
	f->ap = alert_pipe_new(cfg, f->out);
	assert_non_null(f->ap);
	return f;
}

static struct fx *fx_default(void)
{
	struct alert_pipe_cfg cfg = {
		.sensor_name = "sensor-1", .iface = "eth0", .window_s = 60, .dedupe_max = 1024,
	};

	return fx_new(&cfg);
}

static void fx_free(struct fx *f)
{
	char cmd[128];
	size_t i;

	alert_pipe_free(f->ap);
	out_mgr_free(f->out);
	for (i = 0; i < f->nlines; i++)
		json_decref(f->lines[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

/* Reads the lines written since the last call; every one must be one valid JSON
 * object. Returns how many were new. */
static size_t fx_read(struct fx *f)
{
	FILE *fp;
	char *buf = NULL, *line, *nl;
	size_t cap = 0, before = f->nlines;
	long n;

	out_mgr_sync(f->out);
	fp = fopen(f->path, "rb");
	if (fp == NULL)
		return 0;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= (long)f->read_off);
	cap = (size_t)n - f->read_off;
	buf = malloc(cap + 1);
	assert_non_null(buf);
	assert_int_equal(fseek(fp, (long)f->read_off, SEEK_SET), 0);
	assert_int_equal(fread(buf, 1, cap, fp), cap);
	buf[cap] = '\0';
	fclose(fp);
	f->read_off = (size_t)n;

	for (line = buf; *line != '\0'; line = nl + 1) {
		json_error_t e;
		json_t *j;

		nl = strchr(line, '\n');
		assert_non_null(nl); /* every line ends with a newline */
		*nl = '\0';
		j = json_loads(line, 0, &e);
		if (j == NULL)
			fail_msg("not JSON: %s: %s", line, e.text);
		assert_true(json_is_object(j));
		assert_true(f->nlines < ONPATH_ARRAY_LEN(f->lines));
		f->lines[f->nlines++] = j;
	}
	free(buf);
	return f->nlines - before;
}

static json_t *path_get(json_t *j, const char *path)
{
	char buf[128], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p != NULL && j != NULL; p = strtok_r(NULL, ".", &save))
		j = json_object_get(j, p);
	return j;
}

static const char *sget(json_t *j, const char *path)
{
	json_t *v = path_get(j, path);

	if (!json_is_string(v))
		fail_msg("%s is not a string", path);
	return json_string_value(v);
}

static json_int_t iget(json_t *j, const char *path)
{
	json_t *v = path_get(j, path);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", path);
	return json_integer_value(v);
}

static void assert_keys(json_t *obj, const char *const *keys)
{
	size_t n = 0;
	const char *k;
	json_t *v;

	assert_true(json_is_object(obj));
	for (; keys[n] != NULL; n++)
		if (json_object_get(obj, keys[n]) == NULL)
			fail_msg("member %s missing", keys[n]);
	json_object_foreach(obj, k, v) {
		size_t i;

		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL)
			fail_msg("unexpected member %s", k);
	}
	assert_int_equal(json_object_size(obj), n);
}

static char *ts(uint64_t us, char b[OP_TS_STRLEN])
{
	return util_ts_fmt(us, b);
}

static void simple(struct alert_pipe *ap, const struct alert_type *t, uint64_t at, const char *key,
		   int n)
{
	struct alert a;

	alert_begin(&a, t, at);
	snprintf(a.key, sizeof(a.key), "%s", key);
	snprintf(a.message, sizeof(a.message), "occurrence %d", n);
	jw_int(&a.ev, "n", n);
	alert_emit(ap, &a);
}

/* ---------------------------------------------------------------- shape */

static void test_full_shape(void **state)
{
	static const char *const top[] = { "@timestamp", "event", "observer", "source",
		"destination", "network", "threat", "onpath", "message", NULL };
	static const char *const event[] = { "id", "kind", "module", "dataset", "action",
		"severity", "risk_score", "created", NULL };
	static const char *const onpath[] = { "confidence", "count", "first_seen", "last_seen",
		"key", "evidence", NULL };
	static const uint8_t gw[4] = { 198, 51, 100, 1 }, victim[4] = { 198, 51, 100, 20 };
	static const uint8_t mac_new[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x66 };
	static const uint8_t mac_v[6] = { 0x02, 0xAB, 0xCD, 0xEF, 0x00, 0x14 };
	struct fx *f = fx_default();
	char b[OP_TS_STRLEN], c[OP_TS_STRLEN];
	uint64_t before = util_now_us();
	struct alert a;
	json_t *j;

	alert_begin(&a, &t_moved, T0 + 123456);
	a.confidence = CONF_HIGH;
	util_addr_set4(&a.src.ip, gw);
	memcpy(a.src.mac, mac_new, 6);
	a.src.has_mac = true;
	a.src.port = 0;
	a.src.has_port = true;
	util_addr_set4(&a.dst.ip, victim);
	memcpy(a.dst.mac, mac_v, 6);
	a.dst.has_mac = true;
	a.transport = 17;
	a.vlan = 10;
	snprintf(a.community_id, sizeof(a.community_id), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	snprintf(a.key, sizeof(a.key), "198.51.100.1");
	snprintf(a.message, sizeof(a.message), "198.51.100.1 (gateway) moved from 02:00:00:00:00:01 to 02:00:00:00:00:66");
	jw_str(&a.ev, "old_mac", "02:00:00:00:00:01");
	jw_mac(&a.ev, "new_mac", mac_new);
	jw_arr_open(&a.ev, "history");
	jw_int(&a.ev, NULL, 1);
	jw_arr_close(&a.ev);
	alert_emit(f->ap, &a);
	assert_null(a.ev.buf); /* released */

	assert_int_equal(fx_read(f), 1);
	j = f->lines[0];
	assert_keys(j, top);
	assert_keys(json_object_get(j, "event"), event);
	assert_keys(json_object_get(j, "onpath"), onpath);

	assert_string_equal(sget(j, "@timestamp"), ts(T0 + 123456, b));
	assert_string_equal(sget(j, "event.kind"), "alert");
	assert_string_equal(sget(j, "event.module"), "onpath");
	assert_string_equal(sget(j, "event.dataset"), "arp");
	assert_string_equal(sget(j, "event.action"), "arp.ip_mac_changed");
	assert_int_equal(iget(j, "event.severity"), 8);
	assert_int_equal(iget(j, "event.risk_score"), 80);
	/* created is wall clock, not packet time */
	assert_true(strcmp(sget(j, "event.created"), ts(before, b)) >= 0);
	assert_true(strcmp(sget(j, "event.created"), ts(util_now_us(), c)) <= 0);

	assert_string_equal(sget(j, "observer.name"), "sensor-1");
	assert_string_equal(sget(j, "observer.ingress.interface.name"), "eth0");

	assert_string_equal(sget(j, "source.ip"), "198.51.100.1");
	assert_string_equal(sget(j, "source.mac"), "02:00:00:00:00:66");
	assert_int_equal(iget(j, "source.port"), 0);
	assert_string_equal(sget(j, "destination.ip"), "198.51.100.20");
	assert_string_equal(sget(j, "destination.mac"), "02:ab:cd:ef:00:14");
	assert_null(path_get(j, "destination.port"));

	assert_string_equal(sget(j, "network.community_id"), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	assert_string_equal(sget(j, "network.transport"), "udp");
	assert_int_equal(iget(j, "network.vlan.id"), 10);

	assert_string_equal(sget(j, "threat.framework"), "MITRE ATT&CK");
	assert_string_equal(json_string_value(json_array_get(path_get(j, "threat.technique.id"), 0)),
			    "T1557.002");
	assert_string_equal(json_string_value(json_array_get(path_get(j, "threat.technique.name"), 0)),
			    "ARP Cache Poisoning");

	assert_string_equal(sget(j, "onpath.confidence"), "high");
	assert_int_equal(iget(j, "onpath.count"), 1);
	assert_string_equal(sget(j, "onpath.first_seen"), ts(T0 + 123456, b));
	assert_string_equal(sget(j, "onpath.last_seen"), ts(T0 + 123456, b));
	assert_null(path_get(j, "onpath.aggregate"));
	assert_string_equal(sget(j, "onpath.key"), "198.51.100.1");
	assert_string_equal(sget(j, "onpath.evidence.old_mac"), "02:00:00:00:00:01");
	assert_string_equal(sget(j, "onpath.evidence.new_mac"), "02:00:00:00:00:66");
	assert_int_equal(json_array_size(path_get(j, "onpath.evidence.history")), 1);
	assert_string_equal(sget(j, "message"),
			    "198.51.100.1 (gateway) moved from 02:00:00:00:00:01 to 02:00:00:00:00:66");
	fx_free(f);
}

static void test_optional_members_omitted(void **state)
{
	static const char *const top[] = { "@timestamp", "event", "observer", "onpath", "message",
		NULL };
	static const char *const observer[] = { "name", NULL };
	struct alert_pipe_cfg cfg = { .sensor_name = "s2", .iface = NULL };
	struct fx *f = fx_new(&cfg);
	struct alert a;
	json_t *j;

	alert_begin(&a, &t_plain, T0);
	alert_emit(f->ap, &a);
	assert_int_equal(fx_read(f), 1);
	j = f->lines[0];
	assert_keys(j, top);
	assert_keys(json_object_get(j, "observer"), observer);
	assert_string_equal(sget(j, "event.dataset"), "test");
	assert_string_equal(sget(j, "onpath.confidence"), "medium"); /* the default */
	assert_string_equal(sget(j, "onpath.key"), "");
	assert_string_equal(sget(j, "message"), "");
	assert_int_equal(json_object_size(path_get(j, "onpath.evidence")), 0);

	/* only a port: source holds just the port; only a VLAN: network just the VLAN */
	alert_begin(&a, &t_plain, T0);
	snprintf(a.key, sizeof(a.key), "k2");
	a.src.port = 53;
	a.src.has_port = true;
	a.vlan = 4094;
	alert_emit(f->ap, &a);
	assert_int_equal(fx_read(f), 1);
	j = f->lines[1];
	assert_int_equal(json_object_size(json_object_get(j, "source")), 1);
	assert_int_equal(iget(j, "source.port"), 53);
	assert_null(json_object_get(j, "destination"));
	assert_int_equal(json_object_size(json_object_get(j, "network")), 1);
	assert_int_equal(iget(j, "network.vlan.id"), 4094);
	fx_free(f);
}

static void test_transport_names_and_clamp(void **state)
{
	static const struct { uint8_t p; const char *name; } tr[] = {
		{ 1, "icmp" }, { 6, "tcp" }, { 17, "udp" }, { 58, "ipv6-icmp" }, { 47, "47" }, { 255, "255" },
	};
	struct fx *f = fx_default();
	struct alert a;
	char key[16];
	size_t i;

	for (i = 0; i < ONPATH_ARRAY_LEN(tr); i++) {
		alert_begin(&a, &t_moved, T0);
		snprintf(key, sizeof(key), "%zu", i);
		snprintf(a.key, sizeof(a.key), "%s", key);
		a.transport = tr[i].p;
		a.severity = i == 0 ? 15 : i == 1 ? -3 : 5;
		alert_emit(f->ap, &a);
	}
	assert_int_equal(fx_read(f), ONPATH_ARRAY_LEN(tr));
	for (i = 0; i < ONPATH_ARRAY_LEN(tr); i++)
		assert_string_equal(sget(f->lines[i], "network.transport"), tr[i].name);
	assert_int_equal(iget(f->lines[0], "event.severity"), 10);
	assert_int_equal(iget(f->lines[0], "event.risk_score"), 100);
	assert_int_equal(iget(f->lines[1], "event.severity"), 1);
	assert_int_equal(iget(f->lines[1], "event.risk_score"), 10);
	fx_free(f);
}

static void test_to_json_direct(void **state)
{
	struct alert a;
	json_error_t e;
	struct jw w;
	json_t *j;

	/* evidence still open, as a caller of alert_to_json may have it */
	alert_begin(&a, &t_rogue, T0);
	jw_str(&a.ev, "server", "192.0.2.66");
	jw_init(&w);
	alert_to_json(&w, &a, "s", "eth1", "id-1", 7, T0 - 5 * SEC, T0, true);
	assert_int_equal(w.err, 0);
	assert_null(strchr(w.buf, '\n'));
	j = json_loads(w.buf, 0, &e);
	if (j == NULL)
		fail_msg("%s: %s", w.buf, e.text);
	assert_string_equal(sget(j, "event.id"), "id-1");
	assert_string_equal(sget(j, "event.dataset"), "dhcp");
	assert_int_equal(iget(j, "onpath.count"), 7);
	assert_true(json_is_true(path_get(j, "onpath.aggregate")));
	assert_string_equal(sget(j, "onpath.evidence.server"), "192.0.2.66");
	assert_string_equal(sget(j, "observer.ingress.interface.name"), "eth1");
	assert_string_equal(sget(j, "@timestamp"), "2026-11-22T16:20:00.000000Z");
	json_decref(j);
	jw_free(&w);
	alert_discard(&a);
	assert_null(a.ev.buf);
}

static void test_bad_evidence_still_alerts(void **state)
{
	struct fx *f = fx_default();
	struct alert a;

	/* a detector that leaves a nested object open */
	alert_begin(&a, &t_moved, T0);
	jw_obj_open(&a.ev, "chain");
	jw_str(&a.ev, "subject", "CN=x");
	alert_emit(f->ap, &a);
	/* and one that misuses the writer */
	alert_begin(&a, &t_moved, T0);
	snprintf(a.key, sizeof(a.key), "other");
	jw_int(&a.ev, NULL, 1);
	alert_emit(f->ap, &a);

	assert_int_equal(fx_read(f), 2);
	assert_string_equal(sget(f->lines[0], "onpath.evidence.error"), "evidence malformed");
	assert_string_equal(sget(f->lines[1], "onpath.evidence.error"), "evidence malformed");
	fx_free(f);
}

/* ---------------------------------------------------------------- de-duplication */

static void test_repeats_aggregate_at_tick(void **state)
{
	struct fx *f = fx_default();
	struct alert_type_count tc[4];
	struct alert_pipe_stats st;
	char b[OP_TS_STRLEN];
	const char *id0;
	json_t *j;
	int i;

	for (i = 0; i < 5; i++)
		simple(f->ap, &t_moved, T0 + (uint64_t)i * SEC, "198.51.100.1", i);
	/* first written at once, repeats only counted */
	assert_int_equal(fx_read(f), 1);
	assert_int_equal(iget(f->lines[0], "onpath.count"), 1);
	assert_int_equal(iget(f->lines[0], "onpath.evidence.n"), 0);

	alert_pipe_tick(f->ap, T0 + 59 * SEC);
	assert_int_equal(fx_read(f), 0);
	alert_pipe_tick(f->ap, T0 + 60 * SEC);
	assert_int_equal(fx_read(f), 1);

	j = f->lines[1];
	assert_int_equal(iget(j, "onpath.count"), 5);
	assert_true(json_is_true(path_get(j, "onpath.aggregate")));
	assert_string_equal(sget(j, "onpath.first_seen"), ts(T0, b));
	assert_string_equal(sget(j, "onpath.last_seen"), ts(T0 + 4 * SEC, b));
	assert_string_equal(sget(j, "@timestamp"), ts(T0 + 4 * SEC, b));
	/* the latest occurrence's content */
	assert_int_equal(iget(j, "onpath.evidence.n"), 4);
	assert_string_equal(sget(j, "message"), "occurrence 4");
	assert_string_equal(sget(j, "onpath.key"), "198.51.100.1");
	id0 = sget(f->lines[0], "event.id");
	assert_string_not_equal(sget(j, "event.id"), id0);

	assert_int_equal(alert_pipe_total(f->ap), 2);
	assert_int_equal(alert_pipe_counts(f->ap, tc, 4), 1);
	assert_string_equal(tc[0].action, "arp.ip_mac_changed");
	assert_int_equal(tc[0].written, 2);
	assert_int_equal(tc[0].suppressed, 4);
	alert_pipe_get_stats(f->ap, &st);
	assert_int_equal(st.aggregates, 1);
	assert_int_equal(st.dedupe_entries, 0);

	/* the window is gone: the next one is a first again */
	simple(f->ap, &t_moved, T0 + 61 * SEC, "198.51.100.1", 9);
	assert_int_equal(fx_read(f), 1);
	assert_int_equal(iget(f->lines[2], "onpath.count"), 1);
	fx_free(f);
}

static void test_single_alert_no_aggregate(void **state)
{
	struct fx *f = fx_default();
	struct alert_pipe_stats st;

	simple(f->ap, &t_moved, T0, "k", 0);
	alert_pipe_tick(f->ap, T0 + 3600 * SEC);
	alert_pipe_flush(f->ap);
	assert_int_equal(fx_read(f), 1);
	alert_pipe_get_stats(f->ap, &st);
	assert_int_equal(st.dedupe_entries, 0);
	assert_int_equal(st.aggregates, 0);
	fx_free(f);
}

static void test_repeat_after_window_starts_new(void **state)
{
	struct fx *f = fx_default();
	char b[OP_TS_STRLEN];

	simple(f->ap, &t_moved, T0, "k", 0);
	simple(f->ap, &t_moved, T0 + 10 * SEC, "k", 1);
	/* no tick in between: the late repeat closes the old window first */
	simple(f->ap, &t_moved, T0 + 70 * SEC, "k", 2);
	assert_int_equal(fx_read(f), 3);
	assert_int_equal(iget(f->lines[1], "onpath.count"), 2);
	assert_true(json_is_true(path_get(f->lines[1], "onpath.aggregate")));
	assert_string_equal(sget(f->lines[1], "onpath.last_seen"), ts(T0 + 10 * SEC, b));
	assert_int_equal(iget(f->lines[2], "onpath.count"), 1);
	assert_null(path_get(f->lines[2], "onpath.aggregate"));
	assert_string_equal(sget(f->lines[2], "onpath.first_seen"), ts(T0 + 70 * SEC, b));

	/* the new window aggregates on its own, at flush */
	simple(f->ap, &t_moved, T0 + 75 * SEC, "k", 3);
	simple(f->ap, &t_moved, T0 + 76 * SEC, "k", 4);
	assert_int_equal(fx_read(f), 0);
	alert_pipe_flush(f->ap);
	assert_int_equal(fx_read(f), 1);
	assert_int_equal(iget(f->lines[3], "onpath.count"), 3);
	assert_string_equal(sget(f->lines[3], "onpath.first_seen"), ts(T0 + 70 * SEC, b));
	assert_string_equal(sget(f->lines[3], "onpath.last_seen"), ts(T0 + 76 * SEC, b));
	assert_string_equal(sget(f->lines[3], "message"), "occurrence 4");
	fx_free(f);
}

static void test_keys_and_types_separate(void **state)
{
	struct fx *f = fx_default();

	simple(f->ap, &t_moved, T0, "a", 0);
	simple(f->ap, &t_moved, T0, "b", 0);
	simple(f->ap, &t_rogue, T0, "a", 0);
	simple(f->ap, &t_moved, T0 + 1, "a", 1);
	simple(f->ap, &t_rogue, T0 + 1, "a", 1);
	assert_int_equal(fx_read(f), 3);
	alert_pipe_flush(f->ap);
	assert_int_equal(fx_read(f), 2);
	assert_string_equal(sget(f->lines[3], "event.action"), "arp.ip_mac_changed");
	assert_string_equal(sget(f->lines[4], "event.action"), "dhcp.rogue_server");
	fx_free(f);
}

static void test_aggregate_keeps_worst_severity(void **state)
{
	struct fx *f = fx_default();
	struct alert a;

	alert_begin(&a, &t_moved, T0);
	a.severity = 5;
	alert_emit(f->ap, &a);
	alert_begin(&a, &t_moved, T0 + 1);
	a.severity = 9;
	a.confidence = CONF_HIGH;
	alert_emit(f->ap, &a);
	alert_begin(&a, &t_moved, T0 + 2);
	a.severity = 4;
	a.confidence = CONF_LOW;
	alert_emit(f->ap, &a);
	alert_pipe_flush(f->ap);
	assert_int_equal(fx_read(f), 2);
	assert_int_equal(iget(f->lines[1], "event.severity"), 9);
	assert_string_equal(sget(f->lines[1], "onpath.confidence"), "high");
	fx_free(f);
}

static void test_min_severity(void **state)
{
	struct alert_pipe_cfg cfg = { .sensor_name = "s", .window_s = 60, .min_severity = 5 };
	struct fx *f = fx_new(&cfg);
	struct alert_type_count tc[4];
	struct alert_pipe_stats st;
	struct alert a;

	simple(f->ap, &t_plain, T0, "low", 0);      /* 3 */
	simple(f->ap, &t_plain, T0 + 1, "low", 1);
	alert_begin(&a, &t_plain, T0);
	a.severity = 5;                              /* raised by the detector */
	snprintf(a.key, sizeof(a.key), "raised");
	alert_emit(f->ap, &a);
	simple(f->ap, &t_moved, T0, "high", 0);     /* 8 */
	alert_pipe_flush(f->ap);

	assert_int_equal(fx_read(f), 2);
	assert_string_equal(sget(f->lines[0], "onpath.key"), "raised");
	assert_string_equal(sget(f->lines[1], "onpath.key"), "high");
	assert_int_equal(alert_pipe_counts(f->ap, tc, 4), 2);
	assert_string_equal(tc[0].action, "test.no_technique");
	assert_int_equal(tc[0].below_min, 2);
	assert_int_equal(tc[0].written, 1);
	assert_int_equal(tc[0].suppressed, 0);
	alert_pipe_get_stats(f->ap, &st);
	assert_int_equal(st.below_min, 2);
	assert_int_equal(st.written, 2);
	fx_free(f);
}

static void test_unique_ids(void **state)
{
	struct fx *f = fx_default();
	struct alert_pipe *other = alert_pipe_new(NULL, NULL);
	regex_t re;
	char key[32];
	size_t i, k;
	int n;

	assert_non_null(other);
	assert_int_equal(regcomp(&re, "^[0-9a-f]{32}-[0-9a-f]{16}$", REG_EXTENDED | REG_NOSUB), 0);
	for (n = 0; n < 1000; n++) {
		snprintf(key, sizeof(key), "k%d", n);
		simple(f->ap, &t_moved, T0, key, n);
	}
	assert_int_equal(fx_read(f), 1000);
	for (i = 0; i < 1000; i++) {
		const char *id = sget(f->lines[i], "event.id");

		assert_int_equal(regexec(&re, id, 0, NULL, 0), 0);
		/* same process prefix, a counter after it */
		assert_memory_equal(id, sget(f->lines[0], "event.id"), 33);
		for (k = 0; k < i; k++)
			assert_string_not_equal(id, sget(f->lines[k], "event.id"));
	}
	assert_string_equal(sget(f->lines[0], "event.id") + 33, "0000000000000001");
	assert_string_equal(sget(f->lines[999], "event.id") + 33, "00000000000003e8");
	regfree(&re);

	/* a pipe without outputs still counts */
	simple(other, &t_moved, T0, "x", 0);
	assert_int_equal(alert_pipe_total(other), 1);
	alert_pipe_free(other);
	fx_free(f);
}

static void test_prefixes_differ(void **state)
{
	struct alert_pipe_cfg cfg = { .sensor_name = "s", .window_s = 60 };
	struct fx *f1 = fx_new(&cfg), *f2 = fx_new(&cfg);

	simple(f1->ap, &t_moved, T0, "k", 0);
	simple(f2->ap, &t_moved, T0, "k", 0);
	assert_int_equal(fx_read(f1), 1);
	assert_int_equal(fx_read(f2), 1);
	assert_memory_not_equal(sget(f1->lines[0], "event.id"), sget(f2->lines[0], "event.id"), 32);
	fx_free(f1);
	fx_free(f2);
}

static void test_dedupe_table_bounded(void **state)
{
	struct alert_pipe_cfg cfg = { .sensor_name = "s", .window_s = 60, .dedupe_max = 16 };
	struct fx *f = fx_new(&cfg);
	struct alert_pipe_stats st;
	char key[32];
	int n;

	/* "victim" repeats, then a flood of distinct keys pushes it out */
	simple(f->ap, &t_moved, T0, "victim", 0);
	simple(f->ap, &t_moved, T0 + 1, "victim", 1);
	simple(f->ap, &t_moved, T0 + 2, "victim", 2);
	for (n = 0; n < 100; n++) {
		snprintf(key, sizeof(key), "flood-%d", n);
		simple(f->ap, &t_moved, T0 + 10 + (uint64_t)n, key, n);
		alert_pipe_get_stats(f->ap, &st);
		assert_true(st.dedupe_entries <= 16);
	}
	alert_pipe_get_stats(f->ap, &st);
	assert_int_equal(st.dedupe_entries, 16);
	assert_int_equal(st.dedupe_evicted, 101 - 16);
	/* 101 firsts, and the evicted victim's aggregate was written, not lost */
	assert_int_equal(fx_read(f), 102);
	assert_string_equal(sget(f->lines[16], "onpath.key"), "victim");
	assert_int_equal(iget(f->lines[16], "onpath.count"), 3);
	assert_true(json_is_true(path_get(f->lines[16], "onpath.aggregate")));

	/* a flood key seen again after its eviction is a first again */
	simple(f->ap, &t_moved, T0 + 200, "flood-0", 0);
	assert_int_equal(fx_read(f), 1);
	assert_int_equal(iget(f->lines[102], "onpath.count"), 1);
	fx_free(f);
}

/* ---------------------------------------------------------------- hostile text */

static void test_hostile_strings(void **state)
{
	static const char hostile[] =
		"evil\"},\"event\":{\"severity\":1}}\n{\"forged\":true}\r\t\\"
		"<script>alert('x')</script>&\x01\x1b[2J\x7f\xe2\x80\xa8\xe2\x80\xa9"
		"\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff\xe2\x82";
	struct fx *f = fx_default();
	const char *msg;
	struct alert a;
	char *raw, *p;
	FILE *fp;
	long n;
	int lines = 0;

	alert_begin(&a, &t_moved, T0);
	snprintf(a.key, sizeof(a.key), "%s", hostile);
	snprintf(a.message, sizeof(a.message), "name %s", hostile);
	jw_str(&a.ev, "sni", hostile);
	jw_strn(&a.ev, "with_nul", "a\0b", 3);
	jw_str(&a.ev, hostile, "as a key");
	snprintf(a.community_id, sizeof(a.community_id), "1:\"\n<");
	alert_emit(f->ap, &a);
	alert_pipe_flush(f->ap);

	assert_int_equal(fx_read(f), 1);
	/* one line, no raw control byte or HTML metacharacter in the file */
	fp = fopen(f->path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	raw = malloc((size_t)n + 1);
	assert_non_null(raw);
	assert_int_equal(fread(raw, 1, (size_t)n, fp), (size_t)n);
	raw[n] = '\0';
	fclose(fp);
	for (p = raw; *p != '\0'; p++) {
		uint8_t c = (uint8_t)*p;

		if (c == '\n')
			lines++;
		else
			assert_true(c >= 0x20 && c != 0x7f && c != '<' && c != '>' && c != '\'');
	}
	assert_int_equal(lines, 1);
	assert_null(strstr(raw, "\xe2\x80\xa8"));
	free(raw);

	/* the forged members did not land */
	assert_int_equal(iget(f->lines[0], "event.severity"), 8);
	assert_null(json_object_get(f->lines[0], "forged"));
	msg = sget(f->lines[0], "message");
	assert_non_null(strstr(msg, "<script>alert('x')</script>&"));
	assert_non_null(strstr(msg, "\xe2\x80\xa8"));
	assert_non_null(strstr(msg, "\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\\xff\\xe2\\x82"));
	assert_string_equal(sget(f->lines[0], "onpath.evidence.with_nul"), "a\\x00b");
	assert_string_equal(sget(f->lines[0], "network.community_id"), "1:\"\n<");
	assert_non_null(strstr(sget(f->lines[0], "onpath.key"), "evil\"},"));
	fx_free(f);
}

static void test_unterminated_fields(void **state)
{
	struct fx *f = fx_default();
	struct alert a;

	/* a detector that filled the arrays to the brim without a NUL */
	alert_begin(&a, &t_moved, T0);
	memset(a.key, 'k', sizeof(a.key));
	memset(a.message, 'm', sizeof(a.message));
	memset(a.community_id, 'c', sizeof(a.community_id));
	alert_emit(f->ap, &a);
	alert_begin(&a, &t_moved, T0 + 1);
	memset(a.key, 'k', sizeof(a.key));
	alert_emit(f->ap, &a);
	alert_pipe_flush(f->ap);
	assert_int_equal(fx_read(f), 2);
	assert_int_equal(strlen(sget(f->lines[0], "onpath.key")), ALERT_KEY_MAX);
	assert_int_equal(strlen(sget(f->lines[0], "message")), ALERT_MSG_MAX);
	assert_int_equal(strlen(sget(f->lines[0], "network.community_id")), 40);
	assert_int_equal(iget(f->lines[1], "onpath.count"), 2);
	fx_free(f);
}

static void test_discard_and_null_pipe(void **state)
{
	struct alert a;

	alert_begin(&a, &t_moved, T0);
	jw_str(&a.ev, "x", "y");
	alert_discard(&a);
	assert_null(a.ev.buf);
	/* emitting without a pipe (a detector unit test) releases the alert */
	alert_begin(&a, &t_moved, T0);
	alert_emit(NULL, &a);
	assert_null(a.ev.buf);
	assert_string_equal(alert_confidence_str(CONF_LOW), "low");
	assert_string_equal(alert_confidence_str(CONF_MEDIUM), "medium");
	assert_string_equal(alert_confidence_str(CONF_HIGH), "high");
	assert_string_equal(alert_confidence_str((enum alert_confidence)42), "low");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_shape),
		cmocka_unit_test(test_optional_members_omitted),
		cmocka_unit_test(test_transport_names_and_clamp),
		cmocka_unit_test(test_to_json_direct),
		cmocka_unit_test(test_bad_evidence_still_alerts),
		cmocka_unit_test(test_repeats_aggregate_at_tick),
		cmocka_unit_test(test_single_alert_no_aggregate),
		cmocka_unit_test(test_repeat_after_window_starts_new),
		cmocka_unit_test(test_keys_and_types_separate),
		cmocka_unit_test(test_aggregate_keeps_worst_severity),
		cmocka_unit_test(test_min_severity),
		cmocka_unit_test(test_unique_ids),
		cmocka_unit_test(test_prefixes_differ),
		cmocka_unit_test(test_dedupe_table_bounded),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_unterminated_fields),
		cmocka_unit_test(test_discard_and_null_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
