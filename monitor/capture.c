/* capture.c - libpcap offline and live sources (see capture.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/if_packet.h>
#endif

#include "capture.h"
#include "util.h"

struct cap {
	pcap_t *p;
	char name[256];
	bool live;
	int linktype;
	uint64_t records;
	uint64_t file_size;
	FILE *fp; /* offline: the stream libpcap reads, for progress */
	char *iobuf; /* offline: its stdio buffer (CAP_FILE_BUFFER) */
	cap_packet_fn fn;
	void *ud;
};

static void on_record(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct cap *c = (struct cap *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	c->records++;
	c->fn(c->ud, c->linktype, ts, h->caplen, h->len, data);
}

static int set_filter(struct cap *c, const char *bpf, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (!bpf || !*bpf)
		return 0;
	if (pcap_compile(c->p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s: bad BPF filter '%s': %s", c->name, bpf, pcap_geterr(c->p));
		return -1;
	}
	int rc = pcap_setfilter(c->p, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot set BPF filter: %s", c->name, pcap_geterr(c->p));
		return -1;
	}
	return 0;
}

struct cap *cap_open_file(const char *path, const char *bpf, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	util_strlcpy(c->name, path, sizeof(c->name));
	/* libpcap reads a file through stdio, by default in 4 KiB read()s: one system
	 * call per few packets. The stream is opened here with a large buffer instead
	 * (and read-ahead advice), which takes most of the kernel time out of a big file. */
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(c);
		return NULL;
	}
	c->iobuf = malloc(CAP_FILE_BUFFER);
	if (c->iobuf)
		setvbuf(fp, c->iobuf, _IOFBF, CAP_FILE_BUFFER);
	(void)posix_fadvise(fileno(fp), 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Microsecond precision: nanosecond pcapng files are scaled by libpcap. */
	c->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", path, ebuf[0] ? ebuf : "cannot open");
		if (fp != stdin)
			fclose(fp);
		free(c->iobuf);
		free(c);
		return NULL;
	}
	c->linktype = pcap_datalink(c->p);
	c->fp = pcap_file(c->p);
	struct stat st;
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		c->file_size = (uint64_t)st.st_size;
	if (set_filter(c, bpf, err, errlen) < 0) {
		cap_close(c);
		return NULL;
	}
	return c;
}

static int join_fanout(struct cap *c, uint16_t group, char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
	/* The kernel reads an int: the group id, the mode and flags in the high half
	 * (FLAG_DEFRAG is 0x8000: shifted as an int it would overflow). */
	uint32_t arg = (uint32_t)group | (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
	if (setsockopt(pcap_fileno(c->p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot join packet fanout group %u: %s", c->name, group,
		 strerror(errno));
#else
	snprintf(err, errlen, "%s: packet fanout (several workers) needs Linux", c->name);
	(void)group;
#endif
	return -1;
}

struct cap *cap_open_live(const char *iface, const struct cap_live_opts *o, const char *bpf,
			  char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct cap *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", iface);
		return NULL;
	}
	util_strlcpy(c->name, iface, sizeof(c->name));
	c->live = true;
	c->p = pcap_create(iface, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		free(c);
		return NULL;
	}
	/* On Linux libpcap uses a TPACKET_V3 ring whose size is the buffer size; the
	 * default 2 MiB drops under bursts, so the default here is far larger. */
	uint64_t buf = o->buffer_bytes ? o->buffer_bytes : CAP_DEFAULT_BUFFER;
	if (buf > INT32_MAX)
		buf = INT32_MAX;
	pcap_set_snaplen(c->p, o->snaplen > 0 ? o->snaplen : CAP_DEFAULT_SNAPLEN);
	pcap_set_promisc(c->p, o->promisc ? 1 : 0);
	pcap_set_timeout(c->p, CAP_DEFAULT_TIMEOUT_MS);
	pcap_set_buffer_size(c->p, (int)buf);
	pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_MICRO);
	int rc = pcap_activate(c->p);
	if (rc < 0) {
		const char *why = pcap_geterr(c->p);
		if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "%s: permission denied (needs CAP_NET_RAW, or root): %s",
				 iface, why);
		else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(err, errlen, "%s: no such interface", iface);
		else
			snprintf(err, errlen, "%s: %s", iface, why && *why ? why : pcap_statustostr(rc));
		pcap_close(c->p);
		free(c);
		return NULL;
	}
	if (rc > 0) /* a warning: report once, keep going */
		fprintf(stderr, "onpath: %s: %s\n", iface, pcap_geterr(c->p));
	if (o->fanout_group && join_fanout(c, o->fanout_group, err, errlen) < 0) {
		cap_close(c);
		return NULL;
	}
	c->linktype = pcap_datalink(c->p);
	if (set_filter(c, bpf, err, errlen) < 0) {
		cap_close(c);
		return NULL;
	}
	return c;
}

void cap_close(struct cap *c)
{
	if (!c)
		return;
	if (c->p)
		pcap_close(c->p); /* closes the stream too (stdin included) */
	free(c->iobuf);
	free(c);
}

int cap_dispatch(struct cap *c, cap_packet_fn fn, void *ud, char *err, size_t errlen)
{
	c->fn = fn;
	c->ud = ud;
	int n = pcap_dispatch(c->p, CAP_BATCH, on_record, (u_char *)c);
	if (n == PCAP_ERROR_BREAK)
		return -3;
	if (n == PCAP_ERROR) {
		/* The record that failed is the one after the last delivered. */
		snprintf(err, errlen, "%s: record %llu: %s", c->name,
			 (unsigned long long)c->records + 1, pcap_geterr(c->p));
		return -2;
	}
	if (n == 0 && !c->live)
		return -1;
	return n;
}

int cap_set_nonblock(struct cap *c, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	if (pcap_setnonblock(c->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: %s", c->name, ebuf);
		return -1;
	}
	return 0;
}

void cap_wait(struct cap *c, int timeout_ms)
{
	struct pollfd pfd = { pcap_get_selectable_fd(c->p), POLLIN, 0 };
	if (pfd.fd >= 0)
		(void)poll(&pfd, 1, timeout_ms);
}

void cap_break(struct cap *c)
{
	if (c && c->p)
		pcap_breakloop(c->p);
}

int cap_linktype(const struct cap *c)
{
	return c->linktype;
}

const char *cap_name(const struct cap *c)
{
	return c->name;
}

bool cap_is_live(const struct cap *c)
{
	return c->live;
}

void cap_get_stats(struct cap *c, struct cap_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->records = c->records;
	s->file_size = c->file_size;
	if (c->live) {
		struct pcap_stat ps;
		if (pcap_stats(c->p, &ps) == 0) {
			s->recv = ps.ps_recv;
			s->drop = ps.ps_drop;
			s->ifdrop = ps.ps_ifdrop;
		}
	} else if (c->fp) {
		long pos = ftell(c->fp);
		if (pos > 0)
			s->bytes_read = (uint64_t)pos;
	}
}
