/* detfix.c - shared fixture for the detector unit tests (see detfix.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "detfix.h"

#define DETFIX_PATH_MAX 4096
#define DETFIX_KEY_MAX 256

const char *detfix_sigdir(void)
{
	static char buf[DETFIX_PATH_MAX];
	const char *top = getenv("top_srcdir");
	if (!top)
		return SRCSIGDIR;
	snprintf(buf, sizeof(buf), "%s/signatures", top);
	return buf;
}

void detfix_open(struct detfix *f, const char *yaml, const json_t *saved, uint64_t learning_s)
{
	char err[512];
	strcpy(f->path, "/tmp/test_det.XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	char spec[128];
	snprintf(spec, sizeof(spec), "jsonl:%s", f->path);
	f->out = out_mgr_new(1024, false);
	assert_int_equal(out_mgr_add(f->out, spec, err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(f->out), 0);
	struct alert_pipe_cfg ac = { "test", NULL, 300, f->dedupe_max ? f->dedupe_max : DETFIX_DEDUPE_MAX, 1 };
	f->ap = alert_pipe_new(&ac, f->out);
	assert_non_null(f->ap);
	f->cfg = NULL;
	f->seen = 0;
	if (yaml && cfg_load_string(yaml, strlen(yaml), "t.yaml", &f->cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	f->reg = NULL;
	if (f->no_registry)
		return;
	f->reg = det_registry_new_state(f->cfg, detfix_sigdir(), saved, learning_s, err, sizeof(err));
	if (!f->reg)
		fail_msg("registry: %s", err);
}

void detfix_close(struct detfix *f)
{
	det_registry_free(f->reg);
	alert_pipe_free(f->ap);
	out_mgr_free(f->out);
	cfg_free(f->cfg);
	unlink(f->path);
	f->reg = NULL;
	f->ap = NULL;
	f->out = NULL;
	f->cfg = NULL;
}

void detfix_reopen(struct detfix *f, const char *yaml, const json_t *saved, uint64_t learning_s)
{
	detfix_close(f);
	detfix_open(f, yaml, saved, learning_s);
}

int detfix_setup(void **state)
{
	struct detfix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	detfix_open(f, NULL, NULL, 0);
	*state = f;
	return 0;
}

int detfix_teardown(void **state)
{
	struct detfix *f = *state;
	if (f->reg || f->ap)
		detfix_close(f);
	free(f);
	return 0;
}

/* Reads the jsonl file from line skip on, after flushing the alert pipe when flush;
 * aggregates are dropped when skip_aggregates. */
static json_t *read_alerts(struct detfix *f, bool flush, size_t skip, bool skip_aggregates, size_t *lines)
{
	if (flush)
		alert_pipe_flush(f->ap);
	out_mgr_sync(f->out);
	json_t *arr = json_array();
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char *line = NULL;
	size_t cap = 0, n = 0;
	while (getline(&line, &cap, fp) > 0) {
		if (n++ < skip)
			continue;
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("invalid JSON line: %s: %s", e.text, line);
		if (skip_aggregates && json_is_true(json_object_get(json_object_get(j, "onpath"), "aggregate")))
			json_decref(j);
		else
			json_array_append_new(arr, j);
	}
	*lines = n;
	free(line);
	fclose(fp);
	return arr;
}

json_t *detfix_alerts(struct detfix *f)
{
	size_t n;
	return read_alerts(f, true, 0, false, &n);
}

json_t *detfix_alerts_noflush(struct detfix *f)
{
	size_t n;
	return read_alerts(f, false, 0, false, &n);
}

json_t *detfix_alerts_new(struct detfix *f)
{
	return read_alerts(f, true, f->seen, true, &f->seen);
}

json_t *detfix_get(json_t *a, const char *path)
{
	char key[DETFIX_KEY_MAX];
	while (a != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		assert_true(len < sizeof(key));
		memcpy(key, path, len);
		key[len] = '\0';
		a = json_object_get(a, key);
		path += len + (dot != NULL);
	}
	return a;
}

const char *detfix_str(json_t *a, const char *path)
{
	return json_string_value(detfix_get(a, path));
}

json_int_t detfix_int(json_t *a, const char *path)
{
	return json_integer_value(detfix_get(a, path));
}

const char *detfix_action(json_t *a)
{
	return detfix_str(a, "event.action");
}

json_int_t detfix_sev(json_t *a)
{
	return json_integer_value(detfix_get(a, "event.severity"));
}

json_t *detfix_ev(json_t *a, const char *key)
{
	/* Not through detfix_get: evidence keys may hold dots. */
	return json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), key);
}

const char *detfix_ev_str(json_t *a, const char *key)
{
	return json_string_value(detfix_ev(a, key));
}

size_t detfix_count(json_t *arr, const char *act)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *x = detfix_action(json_array_get(arr, i));
		n += x != NULL && strcmp(x, act) == 0;
	}
	return n;
}

json_t *detfix_first(json_t *arr, const char *act)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *x = detfix_action(json_array_get(arr, i));
		if (x != NULL && strcmp(x, act) == 0)
			return json_array_get(arr, i);
	}
	return NULL;
}

json_t *detfix_need(json_t *arr, const char *act)
{
	json_t *a = detfix_first(arr, act);
	if (a == NULL) {
		detfix_dump(arr);
		fail_msg("no %s alert", act);
	}
	return a;
}

void detfix_dump(json_t *arr)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char *s = json_dumps(json_array_get(arr, i), JSON_COMPACT);
		fprintf(stderr, "  %s\n", s);
		free(s);
	}
}

void detfix_config_rejected(const char *yaml, const char *want)
{
	char err[512] = "";
	struct cfg *c;
	assert_int_equal(cfg_load_string(yaml, strlen(yaml), "t.yaml", &c, err, sizeof(err)), 0);
	struct det_registry *r = det_registry_new(c, detfix_sigdir(), err, sizeof(err));
	if (r)
		fail_msg("accepted:\n%s", yaml);
	if (!strstr(err, want) || !strstr(err, "t.yaml:"))
		fail_msg("'%s' lacks '%s' or the position, for:\n%s", err, want, yaml);
	cfg_free(c);
}
