/* detfix.h - shared fixture for the detector unit tests: a real registry fed hand-built
 * events, alerts written by a real out_mgr to a temporary jsonl file and read back with
 * jansson. Include after <cmocka.h> (the fixture fails the running test on error). */
#ifndef ONPATH_TESTS_DETFIX_H
#define ONPATH_TESTS_DETFIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../detectors/detector.h"
#include "output.h"

/* Entries in the alert pipe's de-duplication table unless detfix.dedupe_max says otherwise. */
#define DETFIX_DEDUPE_MAX 65536

struct detfix {
	char path[64];              /* the jsonl file alerts are written to */
	struct out_mgr *out;
	struct alert_pipe *ap;
	struct det_registry *reg;   /* NULL once closed */
	struct cfg *cfg;            /* NULL: defaults */
	size_t seen;                /* lines already returned by detfix_alerts_new() */
	uint32_t dedupe_max;        /* set before detfix_open; 0 = DETFIX_DEDUPE_MAX */
	bool no_registry;           /* set before detfix_open: outputs, alert pipe and config
	                             * only, for a test that drives one detector by hand */
};

/* The signatures directory: $top_srcdir/signatures, or the one configured at build time. */
const char *detfix_sigdir(void);
/* Fails the test unless the registry refuses this configuration (named t.yaml) with an
 * error that gives the position ("t.yaml:LINE:") and contains want. */
void detfix_config_rejected(const char *yaml, const char *want);

/* Opens outputs, the alert pipe and the registry (config yaml or NULL, saved detector
 * state or NULL, cold-start learning window). Fails the test on any error. */
void detfix_open(struct detfix *f, const char *yaml, const json_t *saved, uint64_t learning_s);
void detfix_close(struct detfix *f);
/* detfix_close + detfix_open: a restart with another config or saved state. */
void detfix_reopen(struct detfix *f, const char *yaml, const json_t *saved, uint64_t learning_s);

/* cmocka setup/teardown: *state is a struct detfix opened with defaults. */
int detfix_setup(void **state);
int detfix_teardown(void **state);

/* Flushes and returns every alert line written so far (aggregates included) as a JSON
 * array; the caller decrefs. */
json_t *detfix_alerts(struct detfix *f);
/* Flushes and returns the alerts written since the last call (first-of-window lines;
 * aggregates of closed windows are skipped); the caller decrefs. */
json_t *detfix_alerts_new(struct detfix *f);
/* Like detfix_alerts, without flushing the alert pipe first (open de-duplication windows
 * stay open); the caller decrefs. */
json_t *detfix_alerts_noflush(struct detfix *f);

/* The value at a dotted path ("onpath.evidence.old_mac") or NULL; borrowed. */
json_t *detfix_get(json_t *a, const char *path);
/* The string at a dotted path or NULL. */
const char *detfix_str(json_t *a, const char *path);
/* The integer at a dotted path, 0 if none. */
json_int_t detfix_int(json_t *a, const char *path);
const char *detfix_action(json_t *a);            /* event.action */
json_int_t detfix_sev(json_t *a);                /* event.severity */
json_t *detfix_ev(json_t *a, const char *key);   /* onpath.evidence.<key> */
const char *detfix_ev_str(json_t *a, const char *key);

/* Alerts in arr with event.action act: how many, and the first (borrowed) or NULL. */
size_t detfix_count(json_t *arr, const char *act);
json_t *detfix_first(json_t *arr, const char *act);
/* detfix_first, but fails the test (after dumping arr) when there is none. */
json_t *detfix_need(json_t *arr, const char *act);
/* Writes every alert of arr to stderr, one compact line each. */
void detfix_dump(json_t *arr);

/* Fails the test (after dumping arr) unless arr holds exactly n alerts of action act. */
#define DETFIX_EXPECT(arr, act, n)                                                               \
	do {                                                                                     \
		if (detfix_count(arr, act) != (size_t)(n)) {                                     \
			detfix_dump(arr);                                                        \
			fail_msg("%s: %zu alerts, expected %d", act, detfix_count(arr, act), (int)(n)); \
		}                                                                                \
	} while (0)

#endif
