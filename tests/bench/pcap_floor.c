/* pcap_floor.c - the cost of reading a capture with libpcap and doing nothing else.
 *
 *   pcap_floor [-t] [-b BYTES] FILE
 *
 * A pcap_next_ex() loop that counts packets and bytes: the floor any sensor reading
 * the same file through libpcap is measured against (tests/bench/bench.sh); the same
 * loop as ../shared/bench/pcap_floor.c. With -t it also reads every captured byte, the
 * floor for a parser that looks at each byte. With -b it hands libpcap a stream with a
 * BYTES-sized stdio buffer (pcap_fopen_offline), as onpath does, instead of libpcap's
 * default 4 KiB reads: the floor for a reader that batches its system calls.
 * Prints one line:
 *
 *   packets=N bytes=N seconds=S pps=P [sum=X]
 *
 * bytes are captured bytes; seconds are the read loop's, on the monotonic clock, from
 * after the file is opened to after the last record.
 *
 * Build (bench.sh does): cc -O2 -I<builddir> -o pcap_floor pcap_floor.c -lpcap
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Adds every byte of the packet; the result is printed so the compiler keeps the loop. */
static uint64_t touch(const u_char *p, uint32_t n, uint64_t sum)
{
	uint64_t w;
	uint32_t i = 0;
	for (; n - i >= 8; i += 8) {
		memcpy(&w, p + i, 8);
		sum += w;
	}
	for (; i < n; i++)
		sum += p[i];
	return sum;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	int do_touch = 0;
	unsigned long bufsize = 0;
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "-t") == 0)
			do_touch = 1;
		else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc &&
			 (bufsize = strtoul(argv[i + 1], NULL, 10)) > 0)
			i++;
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: pcap_floor [-t] [-b BYTES] FILE\n");
		return 2;
	}
	const char *path = argv[i];

	pcap_t *p;
	char *iobuf = NULL;
	if (bufsize) {
		FILE *fp = fopen(path, "rb");
		iobuf = malloc(bufsize);
		if (!fp || !iobuf) {
			fprintf(stderr, "pcap_floor: %s: cannot open\n", path);
			return 1;
		}
		setvbuf(fp, iobuf, _IOFBF, bufsize);
		p = pcap_fopen_offline(fp, err);
	} else {
		p = pcap_open_offline(path, err);
	}
	if (!p) {
		fprintf(stderr, "pcap_floor: %s\n", err);
		return 1;
	}

	uint64_t packets = 0, bytes = 0, sum = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	double t0 = mono_s();
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
		if (do_touch)
			sum = touch(data, h->caplen, sum);
	}
	double secs = mono_s() - t0;
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_floor: %s: record %" PRIu64 ": %s\n", path, packets + 1,
			pcap_geterr(p));
		pcap_close(p);
		free(iobuf);
		return 1;
	}
	pcap_close(p);
	free(iobuf);

	printf("packets=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f pps=%.0f", packets, bytes, secs,
	       secs > 0 ? (double)packets / secs : 0.0);
	if (do_touch)
		printf(" sum=%016" PRIx64, sum);
	printf("\n");
	return 0;
}
