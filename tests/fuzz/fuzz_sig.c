#include "config.h"

/* fuzz_sig.c - libFuzzer target for the signature data loaders: the CSV reader
 * (monitor/sig.c sig_csv_load) and every detector's row parser for the CSV files in
 * signatures/, reached the way the sensor reaches them, through the detector's init().
 *
 * Input: byte 0 picks a slot (modulo the table below); the rest is the content of that
 * slot's file. Each slot has its own directory in a temporary one ($TMPDIR or /tmp),
 * holding symlinks to the real signature files (the source tree's signatures/, or
 * $ONPATH_SIGDIR) except the fuzzed one, which is written there as a regular file: a
 * detector that loads several files (issuer: interception-cas, pinsets, pins) reads the
 * real ones around the fuzzed one. The last slot calls sig_csv_load() itself with a
 * callback that checks what the reader promises (fields trimmed, NUL-terminated, no
 * comma, at most SIG_MAX_COLS, line numbers increasing).
 *
 * Checked (abort() on a violation): init() returns -1, 0 or 1; a refusal has a
 * terminated message naming the file and line ("<slot dir>/<file>:N: why") or the file
 * ("<slot dir>/<file>: why"); a detector that started is stopped again (LeakSanitizer
 * sees what fini forgets). Before the first input every slot is loaded once with the
 * real files and must succeed, so a fuzz run cannot silently test only the refusal
 * paths. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../detectors/detector.h"
#include "cfg.h"
#include "fuzzenv.h"
#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds in seeds/sig/ name their slot by index: append only. det NULL: sig_csv_load
 * itself. */
static const struct slot {
	const char *det;  /* detector name (det_builtin) */
	const char *file; /* the file fuzzed */
} slots[] = {
	{ "arp", "virtual-macs.csv" },
	{ "dns", "bogon-networks.csv" },
	{ "http", "hsts-preload.csv" },
	{ "records", "cipher-suites.csv" },
	{ "downgrade", "cipher-suites.csv" },
	{ "issuer", "interception-cas.csv" },
	{ "issuer", "pinsets.csv" },
	{ "issuer", "pins.csv" },
	{ "tls", "interception-clients.csv" },
	{ NULL, "generic.csv" },
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

/* Every file a slot's directory links to the real one. */
static const char *const sigfiles[] = {
	"virtual-macs.csv", "bogon-networks.csv", "hsts-preload.csv", "cipher-suites.csv",
	"interception-cas.csv", "pinsets.csv", "pins.csv", "interception-clients.csv",
};

/* Turns on every optional loader and keeps the tables small (init runs per input). */
static const char yaml[] = "detectors:\n"
			   "  arp: {max_entries: 256, max_macs: 256, request_cache: 64}\n"
			   "  dns: {max_transactions: 64, max_resolvers: 16, max_clients: 16, max_names: 16}\n"
			   "  http: {max_names: 16, hsts_preload: true}\n"
			   "  records: {tls: true}\n"
			   "  downgrade: {max_servers: 16, max_histories: 16}\n"
			   "  issuer: {verify_cache: 16, max_names: 16, chromium_pins: true}\n"
			   "  tls: {max_names: 16, interception_clients: true}\n"
			   "tls: {system_roots: false}\n";

#define FUZZ_ERR_MAX 512

static char tmpdir[256];
static char slotdir[NSLOTS][sizeof(tmpdir) + 8];
static const struct detector *dets[NSLOTS];
static struct cfg *cfg;

static void cleanup(void)
{
	char p[sizeof(slotdir[0]) + 64];
	for (size_t i = 0; i < NSLOTS && slotdir[i][0]; i++) {
		for (size_t k = 0; k < sizeof(sigfiles) / sizeof(sigfiles[0]); k++) {
			if (snprintf(p, sizeof(p), "%s/%s", slotdir[i], sigfiles[k]) < (int)sizeof(p))
				unlink(p);
		}
		if (snprintf(p, sizeof(p), "%s/%s", slotdir[i], slots[i].file) < (int)sizeof(p))
			unlink(p);
		rmdir(slotdir[i]);
	}
	rmdir(tmpdir);
	cfg_free(cfg);
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_sig: %s: %s\n", what, detail);
	abort();
}

/* dir/name into out, or the run stops (a cut path would name another file). */
static void join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap)
		die(dir, "path too long");
}

static void put_file(size_t i, const uint8_t *data, size_t len)
{
	char p[sizeof(slotdir[0]) + 64];
	join(p, sizeof(p), slotdir[i], slots[i].file);
	unlink(p);
	FILE *f = fopen(p, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		die(p, strerror(errno));
}

/* A refusal names the slot's directory, a file in it, and a line or ": ". */
static void check_err(size_t i, const char *err)
{
	if (!memchr(err, '\0', FUZZ_ERR_MAX))
		abort();
	size_t n = strlen(slotdir[i]);
	if (strncmp(err, slotdir[i], n) != 0 || err[n] != '/' || !strstr(err + n, ".csv:"))
		die("message without the file", err);
}

/* ---- the generic slot: sig_csv_load() with a checking callback ---- */

struct gen {
	int last_line;
	int records;
};

static int gen_row(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		   size_t errlen)
{
	struct gen *g = ud;
	if (ncols < 2 || ncols > SIG_MAX_COLS || line <= g->last_line || line < 2)
		abort(); /* min_cols 2; the header line comes first */
	g->last_line = line;
	for (int c = 0; c < ncols; c++) {
		size_t n = strnlen(cols[c], SIG_MAX_LINE + 1);
		if (n > SIG_MAX_LINE || strchr(cols[c], ','))
			abort();
		if (n && (cols[c][0] == ' ' || cols[c][0] == '\t' || cols[c][n - 1] == ' ' ||
			  cols[c][n - 1] == '\t' || cols[c][n - 1] == '\r' || cols[c][n - 1] == '\n'))
			abort();
	}
	if (cols[0][0] == '#')
		abort(); /* comment lines are skipped, not records */
	if (strcmp(cols[0], "stop") == 0) {
		sig_errf(err, errlen, file, line, "stopped at '%s'", cols[1]);
		return -1;
	}
	g->records++;
	return 0;
}

static void run_generic(size_t i)
{
	char err[FUZZ_ERR_MAX];
	struct gen g = { 0, 0 };
	memset(err, 'x', sizeof(err));
	int rc = sig_csv_load(slotdir[i], slots[i].file, 2, gen_row, &g, err, sizeof(err));
	if (rc < -1 || (rc >= 0 && rc != g.records))
		abort();
	if (rc < 0)
		check_err(i, err);
}

/* ---- the detector slots ---- */

static int run_det(size_t i, bool must_load)
{
	char err[FUZZ_ERR_MAX];
	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	const struct cfg_node *dsec = cfg_get(cfg->root, "detectors");
	struct det_init in = {
		.cfg = cfg,
		.section = cfg_get(dsec, dets[i]->name),
		.sig_dir = slotdir[i],
		.cold_start = true,
		.learning_s = 0,
		.err = err,
		.errlen = sizeof(err),
	};
	void *state = NULL;
	int rc = dets[i]->init(&state, &in);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 0) {
		if (!state)
			abort();
		dets[i]->fini(state);
	} else if (rc < 0) {
		if (must_load)
			die(slots[i].file, err);
		check_err(i, err);
	} else if (must_load) {
		die(dets[i]->name, "idle with the fuzz config");
	}
	return rc;
}

/* Made at the first input, not in LLVMFuzzerInitialize: libFuzzer calls that for
 * -help=1 too, and run-replay's `fuzz_sig -help=1 | grep -q` kills it with SIGPIPE
 * before atexit could remove the directory. */
static void setup(void)
{
	char err[FUZZ_ERR_MAX];
	const char *src = fuzz_sigdir();
	if (cfg_load_string(yaml, sizeof(yaml) - 1, "fuzz.yaml", &cfg, err, sizeof(err)) < 0)
		die("config", err);
	join(tmpdir, sizeof(tmpdir), fuzz_tmpdir(), "fuzz_sig.XXXXXX");
	if (!mkdtemp(tmpdir))
		die(tmpdir, strerror(errno));
	atexit(cleanup);
	for (size_t i = 0; i < NSLOTS; i++) {
		char n[8];
		snprintf(n, sizeof(n), "%zu", i);
		join(slotdir[i], sizeof(slotdir[i]), tmpdir, n);
		if (mkdir(slotdir[i], 0700) < 0)
			die(slotdir[i], strerror(errno));
		for (size_t k = 0; k < sizeof(sigfiles) / sizeof(sigfiles[0]); k++) {
			char from[4096], to[sizeof(slotdir[0]) + 64];
			join(from, sizeof(from), src, sigfiles[k]);
			join(to, sizeof(to), slotdir[i], sigfiles[k]);
			if (symlink(from, to) < 0)
				die(to, strerror(errno));
		}
		if (!slots[i].det) {
			static const char g[] = "# generic\nname,value\na,b\n";
			put_file(i, (const uint8_t *)g, sizeof(g) - 1);
			run_generic(i);
			continue;
		}
		for (size_t d = 0; d < det_builtin_count; d++)
			if (strcmp(det_builtin[d]->name, slots[i].det) == 0)
				dets[i] = det_builtin[d];
		if (!dets[i])
			die(slots[i].det, "no such detector");
		run_det(i, true); /* the real files load */
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
	put_file(i, data + 1, size - 1);
	if (slots[i].det)
		run_det(i, false);
	else
		run_generic(i);
	return 0;
}
