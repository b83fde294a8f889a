#include "config.h"

/* fuzz_stream.c - libFuzzer target for monitor/stream.c: a few streams of one small
 * pool fed an attacker's choice of segments, with the invariants checked after every
 * call (abort() on a violation):
 *  - the counts stream_add returns add up to the stream_data length, <= max_bytes;
 *  - bytes once given never change, and each is the first copy sent at its offset
 *    (a byte-per-offset reference model of the window);
 *  - FULL, GAP, CONFLICT and FIN stay set; a stream FULL or GAP takes nothing more;
 *  - the pool stays within its budget, and is back to 0 bytes when all is freed;
 *  - with an ample budget (no refusals): a stream without GAP has every contiguous
 *    byte the model has, FULL means max_bytes, and a conflict is counted exactly
 *    when a segment contradicts a byte already stored.
 *
 * Input:
 *   byte 0      max_bytes (low 3 bits pick from sizes[]) and max_ooo (next 3 bits)
 *   byte 1      budget: 0xff = 1 MiB (ample), else 256 + 64 * b, small enough that
 *               refused streams, refused growth and refused held lists all happen
 *   bytes 2-5   ISN base (big-endian), so sequence wrap-around is reachable
 *   then operations, each:
 *     1 byte    op: bits 0-2 TCP FIN/SYN/RST (wire values), bits 3-4 stream slot,
 *               bit 5 free the slot's stream and make a new one first,
 *               bit 6 take the payload from a fixed 64 KiB pattern instead of the
 *               input (large segments from short inputs)
 *     4 bytes   sequence number, added to the ISN base (big-endian)
 *     2 bytes   payload length (big-endian)
 *     payload   that many bytes of the input (fewer if the input ends)
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "stream.h"

#define NSLOTS 4
#define WINDOW_MAX 65536u /* the largest of sizes[] */
#define AMPLE_BUDGET (1u << 20)

static const uint32_t sizes[8] = { 0, 1, 16, 100, 2048, 2049, 5000, WINDOW_MAX };

struct slot {
	struct stream *s;
	size_t total;     /* sum of stream_add results since the stream was made */
	uint8_t *shadow;  /* the prefix as last seen */
	size_t shadow_len;
	uint32_t flags;   /* as last seen */
	/* the reference model: the first byte sent at each offset of the window */
	uint8_t *first, *have;
	size_t contig;    /* have[0, contig) all set */
	uint32_t base;
	bool anchored, any;
};

/* The checking code needs no coverage feedback of its own: its branches would only
 * pad the corpus and slow every run. */
#if defined(__clang__)
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define NO_COVERAGE
#endif

/* Working memory reused by every input. */
static uint8_t mem[NSLOTS][3][WINDOW_MAX];
static uint8_t pattern[WINDOW_MAX];

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_pool(struct stream_pool *sp, const struct stream_cfg *cfg)
{
	struct stream_stats st;

	stream_pool_get_stats(sp, &st);
	if (st.bytes_in_use > cfg->max_total || st.peak_bytes < st.bytes_in_use)
		abort();
}

/* The first i in [from, to) with h[i] != v (h holds only 0 and 1), eight at a time:
 * a recreated stream re-records up to 64 KiB per segment. */
NO_COVERAGE static size_t span(const uint8_t *h, size_t from, size_t to, uint8_t v)
{
	const uint64_t all = v ? 0x0101010101010101ull : 0;

	while (to - from >= 8) {
		uint64_t w;

		memcpy(&w, h + from, 8);
		if (w != all)
			break;
		from += 8;
	}
	while (from < to && h[from] == v)
		from++;
	return from;
}

/* What stream.h specifies for the bytes of a segment: data starts at ISN+1 (a SYN
 * moves it only while nothing is stored) or at the first data segment; the first copy
 * of each offset below max_bytes counts. Returns true when the segment contradicts a
 * byte already recorded. Work: a scan of the segment, plus one step per offset
 * recorded. */
NO_COVERAGE static bool model_add(struct slot *sl, const struct stream_cfg *cfg,
				  uint32_t seq, uint8_t flags, const uint8_t *p, size_t len)
{
	int64_t rel;
	size_t o, end;
	bool differ = false;

	if (flags & TCP_SYN) {
		seq++;
		if (!sl->anchored || !sl->any) {
			sl->base = seq;
			sl->anchored = true;
		}
	}
	if (!sl->anchored) {
		if (len == 0)
			return false;
		sl->base = seq;
		sl->anchored = true;
	}
	/* the segment covers offsets [rel, rel + len); keep [o, end) of the window */
	rel = (int32_t)(seq - sl->base);
	if (rel >= (int64_t)cfg->max_bytes || rel + (int64_t)len <= 0)
		return false;
	o = rel < 0 ? 0 : (size_t)rel;
	end = rel + (int64_t)len > (int64_t)cfg->max_bytes ? cfg->max_bytes
							   : (size_t)(rel + (int64_t)len);
	while (o < end) {
		size_t oz = span(sl->have, o, end, 1), oe = span(sl->have, oz, end, 0);

		/* [o, oz) recorded before: compare; [oz, oe) new: record */
		if (oz > o && memcmp(sl->first + o, p + (o - rel), oz - o) != 0)
			differ = true;
		if (oe > oz) {
			memcpy(sl->first + oz, p + (oz - rel), oe - oz);
			memset(sl->have + oz, 1, oe - oz);
			sl->any = true;
		}
		o = oe;
	}
	return differ;
}

NO_COVERAGE static void check_slot(struct slot *sl, const struct stream_cfg *cfg,
				   size_t added, bool ample)
{
	size_t len;
	const uint8_t *d = stream_data(sl->s, &len);
	uint32_t f = stream_flags(sl->s);

	if (d == NULL || len != sl->total || len > cfg->max_bytes || len < sl->shadow_len)
		abort();
	if (f & ~(uint32_t)(STREAM_F_FULL | STREAM_F_GAP | STREAM_F_CONFLICT | STREAM_F_FIN |
			    STREAM_F_NO_ISN))
		abort();
	if ((sl->flags & ~f & ~(uint32_t)STREAM_F_NO_ISN) != 0)
		abort();
	if ((sl->flags & (STREAM_F_FULL | STREAM_F_GAP)) && added != 0)
		abort();
	if (memcmp(d, sl->shadow, sl->shadow_len) != 0)
		abort();
	if (len > sl->shadow_len &&
	    (memchr(sl->have + sl->shadow_len, 0, len - sl->shadow_len) != NULL ||
	     memcmp(sl->first + sl->shadow_len, d + sl->shadow_len, len - sl->shadow_len) != 0))
		abort();
	memcpy(sl->shadow + sl->shadow_len, d + sl->shadow_len, len - sl->shadow_len);
	sl->shadow_len = len;
	sl->flags = f;
	sl->contig = span(sl->have, sl->contig, cfg->max_bytes, 1);
	if (ample && !(f & STREAM_F_GAP) && len != sl->contig)
		abort();
	if (ample && (f & STREAM_F_FULL) && len != cfg->max_bytes)
		abort();
}

NO_COVERAGE static void slot_new(struct stream_pool *sp, const struct stream_cfg *cfg,
				 struct slot *sl)
{
	sl->s = stream_new(sp);
	sl->total = 0;
	sl->shadow_len = 0;
	sl->flags = 0;
	memset(sl->have, 0, cfg->max_bytes);
	sl->contig = 0;
	sl->anchored = false;
	sl->any = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_cfg cfg;
	struct stream_pool *sp;
	struct slot slots[NSLOTS];
	struct stream_stats st;
	uint32_t isn;
	size_t off = 6;
	bool ample;

	if (size < 6)
		return 0;
	if (pattern[1] == 0)
		for (uint32_t i = 0; i < WINDOW_MAX; i++)
			pattern[i] = (uint8_t)(i * 31u + (i >> 9) + 1u);

	stream_cfg_defaults(&cfg);
	cfg.max_bytes = sizes[data[0] & 7];
	cfg.max_ooo = (data[0] >> 3) & 7;
	/* 4 streams of at most 64 KiB, their structs and held lists fit in 1 MiB, and a
	 * stream is freed before its slot makes a new one: nothing is ever refused */
	ample = data[1] == 0xff;
	cfg.max_total = ample ? AMPLE_BUDGET : 256u + 64u * data[1];
	isn = be32(data + 2);
	sp = stream_pool_new(&cfg);
	if (sp == NULL)
		abort();
	for (int i = 0; i < NSLOTS; i++) {
		slots[i].shadow = mem[i][0];
		slots[i].first = mem[i][1];
		slots[i].have = mem[i][2];
		slot_new(sp, &cfg, &slots[i]);
	}

	while (size - off >= 7) {
		uint8_t op = data[off];
		uint32_t seq = isn + be32(data + off + 1);
		size_t len = (size_t)data[off + 5] << 8 | data[off + 6];
		struct slot *sl = &slots[(op >> 3) & 3];
		const uint8_t *payload;
		uint64_t conflicts;
		size_t added;
		bool differ, stopped;

		off += 7;
		if (op & 0x40) {
			payload = pattern;
		} else {
			if (len > size - off)
				len = size - off;
			payload = data + off;
			off += len;
		}
		if (op & 0x20) {
			stream_free(sp, sl->s);
			slot_new(sp, &cfg, sl);
		}
		check_pool(sp, &cfg);
		if (sl->s == NULL) {
			if (ample)
				abort();
			continue;
		}
		stream_pool_get_stats(sp, &st);
		conflicts = st.conflicts;
		stopped = (sl->flags & (STREAM_F_FULL | STREAM_F_GAP)) != 0;
		/* added may exceed len: a segment filling a hole brings the held data in */
		added = stream_add(sp, sl->s, seq, op & 0x07, payload, len);
		sl->total += added;
		differ = model_add(sl, &cfg, seq, op & 0x07, payload, len);
		check_slot(sl, &cfg, added, ample);
		check_pool(sp, &cfg);
		stream_pool_get_stats(sp, &st);
		if (st.conflicts > conflicts + 1)
			abort();
		if (ample && st.conflicts != conflicts + (!stopped && differ))
			abort();
	}

	for (int i = 0; i < NSLOTS; i++)
		stream_free(sp, slots[i].s);
	stream_pool_get_stats(sp, &st);
	if (st.bytes_in_use != 0)
		abort();
	stream_pool_free(sp);
	return 0;
}
