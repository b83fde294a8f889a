/* stream.h - bounded TCP reassembly of the first bytes of one direction of a flow.
 *
 * Only handshakes are wanted (TLS, STARTTLS, HTTP heads, SSH banners), so a stream keeps
 * the first max_bytes (default 64 KiB) of in-order data from the initial sequence
 * number and nothing after. Out-of-order segments are held (bounded count) until the
 * hole fills; retransmissions and overlaps keep the first copy (and count a conflict
 * when the bytes differ: an evasion attempt); a hole that cannot fill marks a gap and
 * stops the stream. All buffers come from a pool with a total byte budget: when it is
 * spent, new streams are refused (counted), existing ones keep what they have.
 */
#ifndef ONPATH_STREAM_H
#define ONPATH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_DEFAULT_MAX_BYTES (64u * 1024u)
#define STREAM_DEFAULT_MAX_TOTAL (128ull * 1024u * 1024u)
#define STREAM_DEFAULT_MAX_OOO 32u   /* out-of-order segments held per direction */

struct stream_cfg {
	uint32_t max_bytes;   /* per direction */
	uint64_t max_total;   /* all buffers of the pool */
	uint32_t max_ooo;     /* out-of-order segments held per direction */
};
void stream_cfg_defaults(struct stream_cfg *c);

/* Stream state flags. */
#define STREAM_F_FULL (1u << 0)      /* max_bytes or the budget reached: later data ignored */
#define STREAM_F_GAP (1u << 1)       /* a hole could not be filled: data after it is lost */
#define STREAM_F_CONFLICT (1u << 2)  /* an overlap carried different bytes */
#define STREAM_F_FIN (1u << 3)       /* FIN or RST seen in this direction */
#define STREAM_F_NO_ISN (1u << 4)    /* no SYN seen: started at the first data segment */

struct stream_stats {
	uint64_t streams, refused;         /* created, refused for the budget */
	uint64_t bytes_in_use, peak_bytes; /* buffer bytes */
	uint64_t ooo_segments, retransmits, conflicts, gaps;
};

struct stream;
struct stream_pool;

struct stream_pool *stream_pool_new(const struct stream_cfg *cfg);
void stream_pool_free(struct stream_pool *sp);
void stream_pool_get_stats(const struct stream_pool *sp, struct stream_stats *s);

/* A new empty stream, or NULL when the pool's budget is spent. */
struct stream *stream_new(struct stream_pool *sp);
void stream_free(struct stream_pool *sp, struct stream *s);

/* Feeds one TCP segment of this direction: its sequence number, its TCP flags (a SYN
 * sets the ISN; FIN/RST set STREAM_F_FIN) and its payload. Returns the number of bytes
 * newly appended to the contiguous prefix (0 if none). */
size_t stream_add(struct stream_pool *sp, struct stream *s, uint32_t seq, uint8_t tcp_flags,
		  const uint8_t *data, size_t len);

/* The contiguous bytes from the start of the stream (borrowed until the next
 * stream_add or stream_free). */
const uint8_t *stream_data(const struct stream *s, size_t *len);
uint32_t stream_flags(const struct stream *s);
/* True when the last stream_add() carried bytes that differ from those already held
 * for the same sequence numbers (the first copy stays; a conflict is counted): *off is
 * the stream offset of the first differing byte, *idx its index in that call's data. A
 * retransmission that differs is an evasion attempt, or, when another NIC sent it, a
 * segment rewritten by a relay in the path. */
bool stream_last_conflict(const struct stream *s, uint32_t *off, size_t *idx);

#endif
