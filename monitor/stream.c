#include "config.h"

/* stream.c - bounded TCP reassembly of the first bytes of one direction (RFC 9293
 * sequence space, RFC 1982-style serial comparison of 32-bit sequence numbers).
 *
 * A stream is a window of at most max_bytes bytes starting at ISN+1 (or at the first
 * data segment seen). Everything lives in one buffer indexed by the offset from the
 * start of the stream: the contiguous prefix [0, len) and, after a hole, the
 * out-of-order ("held") data at its own offset, described by a short sorted list of
 * disjoint byte ranges. Filling a hole is then only moving len forward; no data is
 * copied twice and held data never costs more than the window itself.
 *
 * Memory: the struct is charged when the stream is made; the buffer (2 KiB first,
 * doubling up to max_bytes) and the range list are allocated and charged on first use,
 * so the many streams that never carry data (scans, SYN floods, one-way flows) cost
 * only their struct.
 */

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "stream.h"

/* First buffer of a stream: a TLS ClientHello or an SSH/SMTP banner fits. */
#define STREAM_INIT_BUF 2048u
/* Offsets inside the window are signed 32-bit sequence differences, which order two
 * sequence numbers only when they are less than 2^31 apart: keep the window far below. */
#define STREAM_MAX_WINDOW (1u << 30)
/* No TCP segment is longer than the largest window (2^30 with RFC 7323 scaling); a
 * longer len is a caller's mistake and is cut here so that offset arithmetic cannot
 * reach past the window however large len is. */
#define STREAM_MAX_SEG (1u << 30)
/* Every segment off the fast path scans the held list: bound that work. */
#define STREAM_MAX_OOO_LIMIT 4096u

/* Out-of-order bytes [start, end) held in the buffer, offsets from the stream start. */
struct held {
	uint32_t start, end;
};

struct stream {
	struct stream *prev, *next; /* the pool's list, so stream_pool_free leaks nothing */
	uint8_t *buf;               /* size bytes; [0, len) contiguous, held ranges above */
	struct held *held;          /* max_ooo entries once the first hole is seen */
	uint32_t nheld;             /* sorted by start, disjoint and not touching */
	uint32_t base;              /* sequence number of buf[0] */
	uint32_t len;               /* contiguous bytes */
	uint32_t size;              /* allocated bytes of buf */
	uint32_t cap;               /* max_bytes, lowered to size when the pool refuses growth */
	uint32_t flags;             /* STREAM_F_* */
	bool anchored;              /* base is set */
	/* The conflict of the last stream_add() (stream_last_conflict()). */
	bool cf_new;
	uint32_t cf_off;            /* stream offset of the first differing byte */
	uint32_t cf_skip;           /* bytes of the caller's data before place()'s data */
	uint32_t cf_idx;            /* that byte's index in the caller's data */
};

struct stream_pool {
	struct stream_cfg cfg;
	struct stream_stats st;
	struct stream *streams;
};

void stream_cfg_defaults(struct stream_cfg *c)
{
	c->max_bytes = STREAM_DEFAULT_MAX_BYTES;
	c->max_total = STREAM_DEFAULT_MAX_TOTAL;
	c->max_ooo = STREAM_DEFAULT_MAX_OOO;
}

struct stream_pool *stream_pool_new(const struct stream_cfg *cfg)
{
	struct stream_pool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return NULL;
	sp->cfg = *cfg;
	if (sp->cfg.max_bytes > STREAM_MAX_WINDOW)
		sp->cfg.max_bytes = STREAM_MAX_WINDOW;
	if (sp->cfg.max_ooo > STREAM_MAX_OOO_LIMIT)
		sp->cfg.max_ooo = STREAM_MAX_OOO_LIMIT;
	return sp;
}

void stream_pool_free(struct stream_pool *sp)
{
	if (sp == NULL)
		return;
	while (sp->streams != NULL)
		stream_free(sp, sp->streams);
	free(sp);
}

void stream_pool_get_stats(const struct stream_pool *sp, struct stream_stats *s)
{
	*s = sp->st;
}

/* Budget checks in subtract form: bytes_in_use never exceeds max_total, so the
 * difference cannot wrap, where bytes_in_use + n could. */
static bool budget_allows(const struct stream_pool *sp, uint64_t n)
{
	return n <= sp->cfg.max_total - sp->st.bytes_in_use;
}

static void charge(struct stream_pool *sp, uint64_t n)
{
	sp->st.bytes_in_use += n;
	if (sp->st.bytes_in_use > sp->st.peak_bytes)
		sp->st.peak_bytes = sp->st.bytes_in_use;
}

static void uncharge(struct stream_pool *sp, uint64_t n)
{
	sp->st.bytes_in_use -= n;
}

static uint64_t held_bytes(const struct stream_pool *sp)
{
	return (uint64_t)sp->cfg.max_ooo * sizeof(struct held);
}

static uint32_t first_buf(const struct stream_pool *sp)
{
	return sp->cfg.max_bytes < STREAM_INIT_BUF ? sp->cfg.max_bytes : STREAM_INIT_BUF;
}

struct stream *stream_new(struct stream_pool *sp)
{
	struct stream *s;

	/* Refuse a stream that could not even get its first buffer: it would only hold
	 * its struct and never a byte. */
	if (!budget_allows(sp, sizeof(*s) + (uint64_t)first_buf(sp))) {
		sp->st.refused++;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		sp->st.refused++;
		return NULL;
	}
	charge(sp, sizeof(*s));
	s->cap = sp->cfg.max_bytes;
	if (s->cap == 0)
		s->flags |= STREAM_F_FULL;
	s->next = sp->streams;
	if (sp->streams != NULL)
		sp->streams->prev = s;
	sp->streams = s;
	sp->st.streams++;
	return s;
}

static void drop_held(struct stream_pool *sp, struct stream *s)
{
	if (s->held != NULL) {
		free(s->held);
		uncharge(sp, held_bytes(sp));
		s->held = NULL;
	}
	s->nheld = 0;
}

void stream_free(struct stream_pool *sp, struct stream *s)
{
	if (s == NULL)
		return;
	drop_held(sp, s);
	free(s->buf);
	uncharge(sp, s->size);
	uncharge(sp, sizeof(*s));
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sp->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s);
}

bool stream_last_conflict(const struct stream *s, uint32_t *off, size_t *idx)
{
	if (!s->cf_new)
		return false;
	*off = s->cf_off;
	*idx = s->cf_idx;
	return true;
}

const uint8_t *stream_data(const struct stream *s, size_t *len)
{
	/* Never NULL, so a caller may memcpy/compare zero bytes from it. */
	static const uint8_t empty[1];

	*len = s->len;
	return s->buf != NULL ? s->buf : empty;
}

uint32_t stream_flags(const struct stream *s)
{
	return s->flags;
}

/* A hole that will never fill: the consumer must not read past it, and held data is
 * of no use any more. */
static void give_up(struct stream_pool *sp, struct stream *s)
{
	s->flags |= STREAM_F_GAP;
	sp->st.gaps++;
	drop_held(sp, s);
}

static void set_full(struct stream_pool *sp, struct stream *s)
{
	s->flags |= STREAM_F_FULL;
	drop_held(sp, s);
}

/* Grows the buffer to at least need bytes (need <= cap). Doubling keeps the number of
 * reallocations per stream logarithmic. Returns false when the pool's budget (or
 * malloc) refuses. */
static bool grow(struct stream_pool *sp, struct stream *s, uint32_t need)
{
	uint32_t nsz = s->size != 0 ? s->size : first_buf(sp);
	uint8_t *nb;

	/* need <= cap <= 2^30, so nsz stays below 2^31 */
	while (nsz < need)
		nsz *= 2;
	if (nsz > s->cap)
		nsz = s->cap;
	if (!budget_allows(sp, nsz - s->size))
		return false;
	nb = realloc(s->buf, nsz);
	if (nb == NULL)
		return false;
	charge(sp, nsz - s->size);
	s->buf = nb;
	s->size = nsz;
	return true;
}

/* Records where the first differing byte of an overlap is: held [a, a + n) against the
 * segment's bytes d (d[0] at stream offset a), known to differ. */
static void mark_conflict(struct stream *s, uint32_t a, const uint8_t *held, const uint8_t *d,
			  uint32_t n, uint32_t seg_off)
{
	uint32_t k = 0;

	if (s->cf_new)
		return;
	while (k + 1 < n && held[k] == d[k])
		k++;
	s->cf_new = true;
	s->cf_off = a + k;
	s->cf_idx = s->cf_skip + (a + k - seg_off);
}

static void note_conflict(struct stream_pool *sp, struct stream *s, bool differ)
{
	/* Receiver and sensor may keep different copies of these bytes (RFC 9293 leaves
	 * the choice to the stack): a known IDS evasion, worth a flag. */
	if (differ) {
		s->flags |= STREAM_F_CONFLICT;
		sp->st.conflicts++;
	}
}

/* The general path: data for [off, off + n) that is not a plain in-order append
 * (it overlaps the prefix, lies after a hole, needs a bigger buffer, or held data
 * exists). off + n <= cap. */
static void place(struct stream_pool *sp, struct stream *s, uint32_t off, const uint8_t *data,
		  uint32_t n)
{
	uint32_t end = off + n, i, j, k, p;
	uint32_t seg_off = off; /* data[0] is at seg_off */
	bool differ = false, fresh = false, ooo;

	/* The part already in the contiguous prefix: the first copy stays. */
	if (off < s->len) {
		uint32_t e = end < s->len ? end : s->len;

		differ = memcmp(s->buf + off, data, e - off) != 0;
		if (differ)
			mark_conflict(s, off, s->buf + off, data, e - off, seg_off);
		if (end <= s->len) {
			sp->st.retransmits++;
			note_conflict(sp, s, differ);
			return;
		}
		off = s->len;
	}
	if (end > s->size && !grow(sp, s, end)) {
		/* The pool is spent: this stream keeps what fits in the buffer it has. */
		s->cap = s->size;
		if (end > s->cap)
			end = s->cap;
		if (off >= end) {
			note_conflict(sp, s, differ);
			return;
		}
	}
	ooo = off > s->len;

	/* Held ranges overlapping or touching [off, end) are [i, j). */
	for (i = 0; i < s->nheld && s->held[i].end < off; i++)
		;
	for (j = i; j < s->nheld && s->held[j].start <= end; j++)
		;
	if (ooo && i == j) {
		/* One more island: within the per-stream bound, or the hole is given up. */
		if (s->nheld >= sp->cfg.max_ooo) {
			give_up(sp, s);
			return;
		}
		if (s->held == NULL) {
			if (!budget_allows(sp, held_bytes(sp)) ||
			    (s->held = malloc(held_bytes(sp))) == NULL) {
				give_up(sp, s);
				return;
			}
			charge(sp, held_bytes(sp));
		}
	}

	/* Copy the bytes nobody sent before; compare those already held. */
	p = off;
	for (k = i; k < j; k++) {
		uint32_t hs = s->held[k].start, he = s->held[k].end;
		uint32_t os = hs > p ? hs : p, oe = he < end ? he : end;

		if (hs > p) {
			memcpy(s->buf + p, data + (p - seg_off), hs - p);
			fresh = true;
		}
		if (oe > os && memcmp(s->buf + os, data + (os - seg_off), oe - os) != 0) {
			differ = true;
			mark_conflict(s, os, s->buf + os, data + (os - seg_off), oe - os, seg_off);
		}
		if (he > p)
			p = he;
	}
	if (p < end) {
		memcpy(s->buf + p, data + (p - seg_off), end - p);
		fresh = true;
	}
	note_conflict(sp, s, differ);
	if (!fresh)
		sp->st.retransmits++;
	else if (ooo)
		sp->st.ooo_segments++;

	/* Merge [off, end) with the ranges it overlaps or touches. */
	if (i < j) {
		if (s->held[i].start > off)
			s->held[i].start = off;
		if (s->held[j - 1].end > end)
			end = s->held[j - 1].end;
		s->held[i].end = end;
		memmove(&s->held[i + 1], &s->held[j], (s->nheld - j) * sizeof(*s->held));
		s->nheld -= j - i - 1;
	} else if (ooo) {
		memmove(&s->held[i + 1], &s->held[i], (s->nheld - i) * sizeof(*s->held));
		s->held[i].start = off;
		s->held[i].end = end;
		s->nheld++;
	} else {
		s->len = end;
	}

	/* Ranges never touch each other, so at most the first one joins the prefix. */
	if (s->nheld > 0 && s->held[0].start <= s->len) {
		if (s->held[0].end > s->len)
			s->len = s->held[0].end;
		s->nheld--;
		memmove(&s->held[0], &s->held[1], s->nheld * sizeof(*s->held));
	}
}

size_t stream_add(struct stream_pool *sp, struct stream *s, uint32_t seq, uint8_t tcp_flags,
		  const uint8_t *data, size_t len)
{
	uint32_t before = s->len, off;
	int64_t rel, fin_rel = 0;

	s->cf_new = false;
	s->cf_skip = 0;
	if (tcp_flags & (TCP_FIN | TCP_RST))
		s->flags |= STREAM_F_FIN;
	if (s->flags & (STREAM_F_FULL | STREAM_F_GAP))
		return 0;
	if (len > STREAM_MAX_SEG)
		len = STREAM_MAX_SEG;

	if (tcp_flags & TCP_SYN) {
		/* The SYN occupies one sequence number: data starts at ISN+1 (RFC 9293
		 * 3.4). A repeated SYN may move the start only while nothing is stored
		 * (a new ISN on a retried connect); later it is just a segment. */
		seq++;
		if (!s->anchored || (s->len == 0 && s->nheld == 0)) {
			s->base = seq;
			s->anchored = true;
			s->flags &= ~STREAM_F_NO_ISN;
		}
	}
	if (!s->anchored) {
		/* A bare ACK or keepalive says nothing reliable about where data starts. */
		if (len == 0)
			return 0;
		s->base = seq;
		s->anchored = true;
		s->flags |= STREAM_F_NO_ISN;
	}

	rel = (int32_t)(seq - s->base);
	fin_rel = rel + (int64_t)len;
	if (len == 0)
		goto fin;
	if (rel < 0) {
		/* Before the start of the stream: nothing of ours. */
		if ((uint64_t)-rel >= len)
			goto fin;
		data += -rel;
		len -= (size_t)-rel;
		s->cf_skip = (uint32_t)-rel;
		rel = 0;
	}
	if (rel >= s->cap)
		goto fin; /* beyond the window: never wanted */
	off = (uint32_t)rel;
	if (len > s->cap - off)
		len = s->cap - off;

	if (off == s->len && s->nheld == 0 && len <= s->size - off) {
		memcpy(s->buf + off, data, len);
		s->len += (uint32_t)len;
	} else {
		place(sp, s, off, data, (uint32_t)len);
	}
	if (s->flags & STREAM_F_GAP)
		return s->len - before;
	if (s->len >= s->cap) {
		set_full(sp, s);
		return s->len - before;
	}

fin:
	/* The sender is done: bytes missing below its last sequence number will not be
	 * retransmitted for our sake, so the stream cannot complete. */
	if ((tcp_flags & (TCP_FIN | TCP_RST)) && (s->nheld > 0 || fin_rel > (int64_t)s->len))
		give_up(sp, s);
	return s->len - before;
}
