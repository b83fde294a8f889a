#include "config.h"

/* fuzz_state.c - libFuzzer target for the baseline loaders: every stateful detector's
 * load(), and the state file reader (monitor/state.c state_read).
 *
 * A detector's baseline reaches load() from the state file, or from Redis: at start a
 * sensor reads the baselines every sensor published there (OUT_BASELINE), so another
 * host, or anyone who can write to that Redis, chooses these bytes.
 *
 * Input: byte 0 picks a slot (modulo the table below); the rest is parsed as JSON
 * (jansson, any value at the top). A slot of a detector inits it with a
 * small config, loads the value, and checks (abort() on a violation):
 *  - load() returns 0 or -1, and a refusal's message is terminated in its buffer;
 *  - save() then gives a value that a fresh instance load()s with 0: whatever was
 *    loaded, what the sensor writes next must load at the next start;
 *  - fini releases everything (LeakSanitizer).
 * The last slot writes the input to a file and reads it with state_read(): 0 with an
 * object or nothing, or -1 with a message that names the file.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../../detectors/detector.h"
#include "cfg.h"
#include "fuzzenv.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small tables: init runs twice per input, and a few entries reach the caps. */
static const char yaml[] = "detectors:\n"
			   "  arp: {max_entries: 256, max_macs: 256, request_cache: 64}\n"
			   "  dhcp: {max_servers: 16}\n"
			   "  dns: {max_transactions: 64, max_resolvers: 16, max_clients: 16, max_names: 16}\n"
			   "  downgrade: {max_servers: 16, max_histories: 16}\n"
			   "  http: {max_names: 16, hsts_preload: false}\n"
			   "  issuer: {verify_cache: 16, max_names: 16, chromium_pins: false}\n"
			   "  names: {max_hosts: 16, max_owners: 16}\n"
			   "  ndp: {max_neighbors: 256, max_routers: 16}\n"
			   "  ssh: {max_servers: 16}\n"
			   "  starttls: {max_servers: 16}\n"
			   "  tls: {max_names: 16, interception_clients: false}\n"
			   "tls: {system_roots: false}\n";

#define FUZZ_ERR_MAX 512

/* Seeds in seeds/state/ name their slot by index: append only. Every detector with a
 * load() must be here (checked at the first input); "" is the state file reader. */
static const char *const slots[] = {
	"arp", "ndp", "dhcp", "fhrp", "dns", "names", "downgrade", "tls", "issuer", "http",
	"starttls", "ssh", "",
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

static const struct detector *dets[NSLOTS];
static struct cfg *cfg;
static const char *sigdir;
static char statefile[256];

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_state: %s: %s\n", what, detail);
	abort();
}

static void cleanup(void)
{
	if (statefile[0])
		unlink(statefile);
	cfg_free(cfg);
}

static void *start(const struct detector *d)
{
	char err[FUZZ_ERR_MAX];
	const struct cfg_node *dsec = cfg_get(cfg->root, "detectors");
	struct det_init in = {
		.cfg = cfg,
		.section = cfg_get(dsec, d->name),
		.sig_dir = sigdir,
		.cold_start = false,
		.learning_s = 0,
		.err = err,
		.errlen = sizeof(err),
	};
	void *state = NULL;
	err[0] = '\0';
	if (d->init(&state, &in) != 0 || !state)
		die(d->name, err[0] ? err : "init did not start with the fuzz config");
	return state;
}

static void run_det(const struct detector *d, const json_t *v)
{
	char err[FUZZ_ERR_MAX];
	void *s = start(d);
	memset(err, 'x', sizeof(err));
	int rc = d->load(s, v, err, sizeof(err));
	if (rc != 0 && rc != -1)
		abort();
	if (rc < 0 && !memchr(err, '\0', sizeof(err)))
		abort();
	/* What the sensor writes after this load must load at its next start. */
	json_t *saved = d->save(s);
	if (!saved)
		die(d->name, "save returned NULL");
	void *s2 = start(d);
	err[0] = '\0';
	if (d->load(s2, saved, err, sizeof(err)) != 0) {
		char *txt = json_dumps(saved, JSON_COMPACT);
		fprintf(stderr, "fuzz_state: %s: its own save does not load: %s\n%s\n", d->name, err,
			txt ? txt : "");
		abort();
	}
	json_decref(saved);
	d->fini(s2);
	d->fini(s);
}

static void run_reader(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERR_MAX];
	FILE *f = fopen(statefile, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		die(statefile, strerror(errno));
	json_t *root = NULL;
	err[0] = '\0';
	int rc = state_read(statefile, &root, err, sizeof(err));
	if (rc == 0) {
		if (root && !json_is_object(root))
			abort();
	} else if (rc == -1) {
		if (root || !memchr(err, '\0', sizeof(err)) || !strstr(err, statefile))
			die("state_read refusal without the file", err);
	} else {
		abort();
	}
	json_decref(root);
}

/* At the first input, not in LLVMFuzzerInitialize (see fuzz_sig.c). */
static void setup(void)
{
	char err[FUZZ_ERR_MAX];
	sigdir = fuzz_sigdir();
	if (cfg_load_string(yaml, sizeof(yaml) - 1, "fuzz.yaml", &cfg, err, sizeof(err)) < 0)
		die("config", err);
	const char *base = fuzz_tmpdir();
	if (snprintf(statefile, sizeof(statefile), "%s/fuzz_state.%ld.json", base, (long)getpid()) >=
	    (int)sizeof(statefile))
		die(base, "path too long");
	atexit(cleanup);
	for (size_t d = 0; d < det_builtin_count; d++) {
		size_t i = 0;
		while (i < NSLOTS && strcmp(slots[i], det_builtin[d]->name) != 0)
			i++;
		if (i < NSLOTS)
			dets[i] = det_builtin[d];
		else if (det_builtin[d]->load)
			die(det_builtin[d]->name, "keeps a baseline: add it to the slots");
	}
	/* Every slot starts with the fuzz config. */
	for (size_t i = 0; i < NSLOTS; i++) {
		if (!slots[i][0])
			continue;
		if (!dets[i] || !dets[i]->load)
			die(slots[i], "no such detector with a baseline");
		void *s = start(dets[i]);
		dets[i]->fini(s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	size_t i = data[0] % NSLOTS;
	if (!dets[i]) {
		run_reader(data + 1, size - 1);
		return 0;
	}
	json_error_t e;
	json_t *v = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!v)
		return 0;
	run_det(dets[i], v);
	json_decref(v);
	return 0;
}
