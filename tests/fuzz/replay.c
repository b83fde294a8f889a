#include "config.h"

/* replay.c - main() for fuzz targets built without libFuzzer: runs saved inputs through
 * LLVMFuzzerTestOneInput() once each, so `make check` replays every seed (and, for
 * targets that want it, every frame of the pcap corpus) under the sanitizers.
 *
 *   replay PATH...          a file is one input; a directory gives each regular file
 *                           in it, in name order, dotfiles skipped (not recursive, like a
 *                           libFuzzer corpus)
 *   replay --pcap PATH...   a file is a capture (pcap or pcapng); a directory is searched
 *                           recursively for *.pcap, *.pcapng and *.cap; every record is
 *                           one input
 *
 * A target may define onpath_fuzz_pcap_record() to receive capture records with their
 * link type (fuzz_decode needs it: its inputs start with a link selector byte).
 * Unreadable paths and captures libpcap rejects are reported and skipped: the corpus
 * holds deliberately broken files. A crash or sanitizer report is the failure. */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int onpath_fuzz_pcap_record(int linktype, const uint8_t *data, size_t len)
	__attribute__((weak));

#define REPLAY_MAX_INPUT (64u << 20) /* a seed bigger than this is a mistake, not a seed */
#define REPLAY_MAX_DEPTH 32          /* directory nesting followed in --pcap mode */

static unsigned long n_inputs, n_records;

/* Each input gets a heap block of exactly its size, so ASan sees a read one byte past
 * the end (libpcap's own buffer is larger than any record). */
static void run_input(const uint8_t *data, size_t len, int linktype)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy) {
		fprintf(stderr, "replay: out of memory for a %zu-byte input\n", len);
		exit(2);
	}
	if (len)
		memcpy(copy, data, len);
	if (linktype >= 0 && onpath_fuzz_pcap_record) {
		onpath_fuzz_pcap_record(linktype, copy, len);
	} else {
		LLVMFuzzerTestOneInput(copy, len);
	}
	free(copy);
}

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s (skipped)\n", path, strerror(errno));
		return;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		if (len == cap) {
			if (cap >= REPLAY_MAX_INPUT) {
				fprintf(stderr, "replay: %s: larger than %u bytes (skipped)\n", path,
					REPLAY_MAX_INPUT);
				free(buf);
				fclose(f);
				return;
			}
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (!buf) {
		fprintf(stderr, "replay: out of memory reading %s\n", path);
		exit(2);
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error (skipped)\n", path);
	} else {
		run_input(buf, len, -1);
		n_inputs++;
	}
	free(buf);
	fclose(f);
}

static void replay_pcap(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO,
							     errbuf);
	if (!pc) {
		fprintf(stderr, "replay: %s: %s (skipped)\n", path, errbuf);
		return;
	}
	int linktype = pcap_datalink(pc);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long n = 0;
	int rc;
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		n++;
		run_input(data, h->caplen, linktype);
	}
	/* A capture cut mid-record is common in a corpus of odd files: keep what came
	 * before it, say where it stopped. */
	if (rc == PCAP_ERROR)
		fprintf(stderr, "replay: %s: record %lu: %s (rest skipped)\n", path, n + 1,
			pcap_geterr(pc));
	n_records += n;
	pcap_close(pc);
}

static int has_capture_suffix(const char *name)
{
	static const char *const sfx[] = { ".pcap", ".pcapng", ".cap" };
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t k = strlen(sfx[i]);
		if (n > k && strcmp(name + n - k, sfx[i]) == 0)
			return 1;
	}
	return 0;
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void replay_path(const char *path, int pcap_mode, int depth, int top);

static void replay_dir(const char *path, int pcap_mode, int depth)
{
	struct dirent **ents;
	int n = scandir(path, &ents, skip_dot, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s (skipped)\n", path, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
		char *child = malloc(len);
		if (!child) {
			fprintf(stderr, "replay: out of memory\n");
			exit(2);
		}
		snprintf(child, len, "%s/%s", path, ents[i]->d_name);
		replay_path(child, pcap_mode, depth + 1, 0);
		free(child);
		free(ents[i]);
	}
	free(ents);
}

static void replay_path(const char *path, int pcap_mode, int depth, int top)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s (skipped)\n", path, strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Seed directories are flat, like a libFuzzer corpus; the pcap corpus is a
		 * tree of topic directories. */
		if (top || (pcap_mode && depth < REPLAY_MAX_DEPTH))
			replay_dir(path, pcap_mode, depth);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	if (!pcap_mode)
		replay_file(path);
	else if (top || has_capture_suffix(path))
		replay_pcap(path);
}

int main(int argc, char **argv)
{
	int pcap_mode = 0, first = 1;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1 && strcmp(argv[1], "--pcap") == 0) {
		pcap_mode = 1;
		first = 2;
	}
	if (first >= argc || argv[first][0] == '-') {
		fprintf(stderr, "usage: %s [--pcap] PATH...\n"
				"  runs each file (or each file of a directory) through the fuzz target once;\n"
				"  --pcap: each record of pcap/pcapng files (directories searched for\n"
				"  *.pcap, *.pcapng, *.cap)\n",
			argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++)
		replay_path(argv[i], pcap_mode, 0, 1);
	printf("replay: %lu inputs, %lu pcap records\n", n_inputs, n_records);
	return 0;
}
