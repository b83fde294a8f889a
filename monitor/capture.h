/* capture.h - libpcap sources: offline files (pcap and pcapng, "-" for stdin) and
 * live interfaces (promiscuous, full snaplen, TPACKET_V3 ring of a configurable size). */
#ifndef ONPATH_CAPTURE_H
#define ONPATH_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAP_DEFAULT_SNAPLEN 262144
#define CAP_DEFAULT_BUFFER (256u * 1024u * 1024u) /* bytes: holds ~1 Gbit/s bursts */
/* The ring hands over a block at the latest this long after its first packet
 * (TPACKET_V3 block timeout): on a quiet link it bounds the delay from a packet to its
 * alert (issue #11: p99 <= 50 ms); under load blocks fill long before. */
#define CAP_DEFAULT_TIMEOUT_MS 10
#define CAP_FILE_BUFFER (1u << 20) /* bytes: stdio buffer for offline reads */
#define CAP_BATCH 4096 /* packets per dispatch round between signal checks */

struct cap_live_opts {
	int snaplen;
	uint64_t buffer_bytes;
	bool promisc;
	/* Nonzero: join this PACKET_FANOUT group (Linux), which splits the interface's
	 * packets between the group's sockets by a symmetric flow hash, both directions of
	 * a flow to the same socket, IP fragments reassembled first (FANOUT_FLAG_DEFRAG). */
	uint16_t fanout_group;
};

struct cap_stats {
	uint64_t recv, drop, ifdrop; /* live only (pcap_stats) */
	uint64_t records;            /* records handed to the callback */
	uint64_t bytes_read;         /* offline: file position, for progress */
	uint64_t file_size;          /* offline: 0 when unknown (stdin, pipe) */
};

/* Called for every record; ts in microseconds. data is borrowed for the call. */
typedef void (*cap_packet_fn)(void *ud, int linktype, uint64_t ts_us, uint32_t caplen,
			      uint32_t wirelen, const uint8_t *data);

struct cap;

/* "-" reads stdin. Returns NULL with err "FILE: why". */
struct cap *cap_open_file(const char *path, const char *bpf, char *err, size_t errlen);
struct cap *cap_open_live(const char *iface, const struct cap_live_opts *o, const char *bpf,
			  char *err, size_t errlen);
void cap_close(struct cap *c);

/* Dispatches up to CAP_BATCH records. Returns the number dispatched (0 on a live
 * timeout), -1 at end of file, -2 on a read error (err: "FILE: record N: why"),
 * -3 when cap_break() was called. */
int cap_dispatch(struct cap *c, cap_packet_fn fn, void *ud, char *err, size_t errlen);
/* Live: cap_dispatch() no longer waits for packets (it returns 0 at once); the caller
 * waits with cap_wait(), up to timeout_ms or until packets are there. For threads
 * that must look at their own flags often (workers.c): a blocked libpcap read is not
 * reliably woken by cap_break() from another thread. */
int cap_set_nonblock(struct cap *c, char *err, size_t errlen);
void cap_wait(struct cap *c, int timeout_ms);
/* Async-signal-safe: makes the current dispatch return early. */
void cap_break(struct cap *c);

int cap_linktype(const struct cap *c);
const char *cap_name(const struct cap *c);
bool cap_is_live(const struct cap *c);
void cap_get_stats(struct cap *c, struct cap_stats *s);

#endif
