/* reader.h - the bounds-checked byte cursor every parser reads untrusted bytes through.
 *
 * Rules (STYLE.md 5-7):
 *  - parsers never do pointer arithmetic on packet bytes; they ask the cursor;
 *  - every check is in subtract form (n > len - off) with the invariant off <= len,
 *    so it cannot wrap;
 *  - the error is sticky: after the first short read every read returns 0 / NULL and
 *    leaves the offset where it was, so a parser can read a whole header and test
 *    r.err once;
 *  - a length prefix becomes a sub-reader (rd_sub) so the inner parser cannot see past
 *    the declared length, whatever it does.
 *
 * Model: CZ-NIC/knot wire_ctx.h, tcpdump extract.h / nd_push_snaplen().
 */
#ifndef ONPATH_READER_H
#define ONPATH_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p; /* borrowed: start of the readable bytes */
	size_t len;       /* how many bytes may be read from p */
	size_t off;       /* next byte to read; always <= len */
	int err;          /* sticky: set by the first read past len */
};

/* A NULL buffer (e.g. an absent payload) is an empty reader. It points at a static
 * empty string rather than NULL: a zero-length rd_ptr/rd_sub/rd_bytes would otherwise
 * compute NULL + 0 (undefined in C, flagged by UBSan) and rd_ptr(r, 0) would return
 * NULL, which means "short read", for a read that succeeded. */
static inline struct rd rd_init(const uint8_t *p, size_t len)
{
	struct rd r = { p ? p : (const uint8_t *)"", p ? len : 0, 0, 0 };
	return r;
}

static inline size_t rd_left(const struct rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

static inline size_t rd_off(const struct rd *r)
{
	return r->off;
}

/* True (and marks the error) when n bytes are not available. */
static inline int rd_short(struct rd *r, size_t n)
{
	if (r->err)
		return 1;
	if (n > r->len - r->off) {
		r->err = 1;
		return 1;
	}
	return 0;
}

static inline uint8_t rd_u8(struct rd *r)
{
	if (rd_short(r, 1))
		return 0;
	return r->p[r->off++];
}

static inline uint16_t rd_be16(struct rd *r)
{
	if (rd_short(r, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return v;
}

static inline uint32_t rd_be24(struct rd *r)
{
	if (rd_short(r, 3))
		return 0;
	uint32_t v = (uint32_t)r->p[r->off] << 16 | (uint32_t)r->p[r->off + 1] << 8 |
		     r->p[r->off + 2];
	r->off += 3;
	return v;
}

static inline uint32_t rd_be32(struct rd *r)
{
	if (rd_short(r, 4))
		return 0;
	uint32_t v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
		     (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return v;
}

static inline uint16_t rd_le16(struct rd *r)
{
	if (rd_short(r, 2))
		return 0;
	uint16_t v = (uint16_t)(r->p[r->off] | (uint16_t)r->p[r->off + 1] << 8);
	r->off += 2;
	return v;
}

static inline uint32_t rd_le32(struct rd *r)
{
	if (rd_short(r, 4))
		return 0;
	uint32_t v = r->p[r->off] | (uint32_t)r->p[r->off + 1] << 8 |
		     (uint32_t)r->p[r->off + 2] << 16 | (uint32_t)r->p[r->off + 3] << 24;
	r->off += 4;
	return v;
}

/* Copies n bytes into dst (zero-filled on a short read). */
static inline void rd_bytes(struct rd *r, void *dst, size_t n)
{
	if (rd_short(r, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
}

/* Borrows n bytes (valid as long as the underlying buffer); NULL on a short read. */
static inline const uint8_t *rd_ptr(struct rd *r, size_t n)
{
	if (rd_short(r, n))
		return NULL;
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}

static inline void rd_skip(struct rd *r, size_t n)
{
	if (!rd_short(r, n))
		r->off += n;
}

/* A reader over the next n bytes, which the parent skips. On a short read both the
 * parent and the returned sub-reader carry the error. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd s = { (const uint8_t *)"", 0, 0, 1 };
	if (rd_short(r, n))
		return s;
	s.p = r->p + r->off;
	s.len = n;
	s.err = 0;
	r->off += n;
	return s;
}

/* The rest of the reader as a sub-reader (the parent is left at its end). */
static inline struct rd rd_rest(struct rd *r)
{
	return rd_sub(r, rd_left(r));
}

/* Peeks without moving; returns 0 and does NOT set the error when short. */
static inline int rd_peek_u8(const struct rd *r, size_t at, uint8_t *v)
{
	if (r->err || at >= r->len - r->off)
		return 0;
	*v = r->p[r->off + at];
	return 1;
}

static inline int rd_peek_be16(const struct rd *r, size_t at, uint16_t *v)
{
	if (r->err || r->len - r->off < 2 || at > r->len - r->off - 2)
		return 0;
	*v = (uint16_t)((uint16_t)r->p[r->off + at] << 8 | r->p[r->off + at + 1]);
	return 1;
}

/* Moves the offset to an absolute position inside the reader (for formats whose
 * headers carry offsets, e.g. DNS compression pointers, which check "backwards" first). */
static inline void rd_seek(struct rd *r, size_t off)
{
	if (r->err)
		return;
	if (off > r->len)
		r->err = 1;
	else
		r->off = off;
}

#endif
