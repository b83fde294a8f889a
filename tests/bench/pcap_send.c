/* pcap_send.c - replays a capture into a network interface, faster than tcpreplay.
 *
 *   pcap_send -i IFACE [-r MBITS] FILE
 *
 * The live bench (tests/bench/live-bench.sh) must offer the sensor more than 3 Gbit/s
 * on a 2-CPU machine, where the sender's CPU also runs the veth's receive path (the
 * copy into the sensor's ring). tcpreplay sends one packet per system call through
 * the qdisc and tops out near 3 Gbit/s there; this sender loads the whole file into
 * memory first, then hands the kernel batches of BATCH packets per sendmmsg(2) on a
 * packet socket that bypasses the qdisc (PACKET_QDISC_BYPASS).
 *
 * -r paces to MBITS megabits per second of frame bytes (sleeping on the monotonic
 * clock between batches: a batch at 3 Gbit/s lasts about 0.2 ms); without it, as fast
 * as the kernel takes them. Packets go out in file order, untouched; the file's
 * timestamps are not used.
 *
 * When a send fails with ENOBUFS (the device's queue is full) the packet is retried
 * after a yield; any other error stops the replay. Prints the summary line the bench
 * reads, in tcpreplay's words:
 *
 *   Actual: N packets (B bytes) sent in S seconds
 *   Rated: X Bps, Y Mbps, Z pps
 *   Successful packets: N
 *   Failed packets: F
 *
 * Build (live-bench.sh does): cc -O2 -I<builddir> -o pcap_send pcap_send.c -lpcap
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <pcap/pcap.h>

#define BATCH 64

struct trace {
	unsigned char *buf;   /* every frame, back to back */
	size_t len, cap;
	size_t *off;          /* frame i is buf[off[i]] .. buf[off[i + 1]] */
	size_t n, ncap;
};

static int trace_add(struct trace *t, const unsigned char *p, size_t len)
{
	if (t->n + 2 > t->ncap) {
		size_t nc = t->ncap ? t->ncap * 2 : 65536;
		size_t *no = realloc(t->off, nc * sizeof(*no));
		if (no == NULL)
			return -1;
		t->off = no;
		t->ncap = nc;
	}
	if (t->len + len > t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64u << 20;
		while (nc < t->len + len)
			nc *= 2;
		unsigned char *nb = realloc(t->buf, nc);
		if (nb == NULL)
			return -1;
		t->buf = nb;
		t->cap = nc;
	}
	t->off[t->n++] = t->len;
	memcpy(t->buf + t->len, p, len);
	t->len += len;
	t->off[t->n] = t->len;
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
	struct timespec ts;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec > 999999999L)
		ts.tv_nsec = 999999999L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void usage(void)
{
	fprintf(stderr, "usage: pcap_send -i IFACE [-r MBITS] FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *file = NULL;
	double mbits = 0;
	char err[PCAP_ERRBUF_SIZE];
	struct trace t = { 0 };
	struct pcap_pkthdr *h;
	const u_char *p;
	pcap_t *pc;
	int rc, fd, one = 1;
	uint64_t failed = 0, sent = 0, bytes = 0;
	unsigned ifindex;
	size_t i = 0;
	double t0, t1;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-i") == 0 && a + 1 < argc)
			iface = argv[++a];
		else if (strcmp(argv[a], "-r") == 0 && a + 1 < argc)
			mbits = strtod(argv[++a], NULL);
		else if (argv[a][0] == '-' || file != NULL)
			usage();
		else
			file = argv[a];
	}
	if (iface == NULL || file == NULL || mbits < 0)
		usage();

	pc = pcap_open_offline(file, err);
	if (pc == NULL) {
		fprintf(stderr, "pcap_send: %s: %s\n", file, err);
		return 1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "pcap_send: %s: not an Ethernet capture\n", file);
		return 1;
	}
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1)
		if (trace_add(&t, p, h->caplen) != 0) {
			fprintf(stderr, "pcap_send: %s: out of memory at packet %zu\n", file, t.n + 1);
			return 1;
		}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_send: %s: packet %zu: %s\n", file, t.n + 1, pcap_geterr(pc));
		return 1;
	}
	pcap_close(pc);

	ifindex = if_nametoindex(iface);
	if (ifindex == 0) {
		fprintf(stderr, "pcap_send: %s: %s\n", iface, strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: sends only, receives nothing */
	if (fd < 0) {
		fprintf(stderr, "pcap_send: packet socket: %s\n", strerror(errno));
		return 1;
	}
	/* Not fatal: older kernels queue through the qdisc. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex,
				   .sll_protocol = htons(ETH_P_ALL) };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "pcap_send: bind %s: %s\n", iface, strerror(errno));
		return 1;
	}

	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	memset(msg, 0, sizeof(msg));

	t0 = mono_s();
	while (i < t.n) {
		size_t k;

		for (k = 0; k < BATCH && i + k < t.n; k++) {
			iov[k].iov_base = t.buf + t.off[i + k];
			iov[k].iov_len = t.off[i + k + 1] - t.off[i + k];
			msg[k].msg_hdr.msg_iov = &iov[k];
			msg[k].msg_hdr.msg_iovlen = 1;
		}
		if (mbits > 0) {
			/* this batch is due when the bytes before it have had their time */
			double due = t0 + (double)bytes * 8 / (mbits * 1e6);
			if (due > mono_s())
				sleep_until(due);
		}
		int n = sendmmsg(fd, msg, (unsigned)k, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				sched_yield();
				continue;
			}
			if (errno == EMSGSIZE) {
				/* larger than the MTU: counted, skipped, as tcpreplay does */
				failed++;
				i++;
				continue;
			}
			fprintf(stderr, "pcap_send: send on %s, packet %zu: %s\n", iface, i + 1,
				strerror(errno));
			return 1;
		}
		for (int j = 0; j < n; j++)
			bytes += iov[j].iov_len;
		sent += (uint64_t)n;
		i += (size_t)n;
	}
	t1 = mono_s();
	close(fd);

	double secs = t1 - t0 > 0 ? t1 - t0 : 1e-9;
	printf("Actual: %" PRIu64 " packets (%" PRIu64 " bytes) sent in %.6f seconds\n", sent, bytes,
	       secs);
	printf("Rated: %.1f Bps, %.2f Mbps, %.2f pps\n", (double)bytes / secs,
	       (double)bytes * 8 / secs / 1e6, (double)sent / secs);
	printf("Successful packets: %" PRIu64 "\n", sent);
	printf("Failed packets: %" PRIu64 "\n", failed);
	free(t.buf);
	free(t.off);
	return 0;
}
