/* fuzz_spool.c - fuzz target for the spool reader (monitor/spool.c): the input is
 * written as a spool segment left by an earlier run (a crash, a damaged disk, a file
 * that never was a spool), then opened, checked, replayed to the end and appended to.
 * Every record handed out must lie inside the file and be a whole line; the spool must
 * end empty and take new records after whatever it was given. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BATCH 16

static char dir[64];

static void clean(void)
{
	static const char *const files[] = {
		"f.alerts.0000000001.spool", "f.alerts.0000000002.spool", "f.alerts.pos",
		"f.records.0000000001.spool", "f.records.pos", "f.lock",
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
}

static void remove_dir(void)
{
	clean();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_cfg cfg = { dir, "f", 1u << 20, OUT_FSYNC_NEVER, "fuzz" };
	struct spool_rec recs[FUZZ_BATCH];
	struct spool *s = NULL;
	char path[128], err[512];
	FILE *f;
	int n, rounds = 0;

	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/onpath-fuzz-spool-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(remove_dir);
	}
	clean();
	/* The first byte picks the class, so the records path is fuzzed too. */
	snprintf(path, sizeof(path), "%s/f.%s.0000000001.spool", dir,
		 size > 0 && (data[0] & 1) ? "records" : "alerts");
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1)
		abort();
	fclose(f);
	/* stderr gets the messages about damage: keep the fuzzer's output readable */
	if (spool_open(&s, &cfg, err, sizeof(err)) != 0)
		abort();
	while ((n = spool_peek(s, recs, FUZZ_BATCH, 4096)) > 0) {
		int i;

		for (i = 0; i < n; i++) {
			if (recs[i].line == NULL || memchr(recs[i].line, '\n', recs[i].len) != NULL ||
			    recs[i].line[recs[i].len] != '\0' || recs[i].meta.severity < 0 ||
			    recs[i].meta.severity > 10)
				abort();
		}
		if (spool_consume(s, (size_t)n, 0) != 0)
			abort();
		if (++rounds > 1000000)
			abort(); /* no progress */
	}
	if (n < 0 || !spool_empty(s))
		abort();
	if (spool_append(s, OUT_ALERT, 0, NULL, "{}", 2) != 0)
		abort();
	if (spool_peek(s, recs, FUZZ_BATCH, 4096) != 1 || recs[0].len != 2)
		abort();
	spool_close(s);
	clean();
	return 0;
}
