/* json.h - a small JSON writer that makes every string safe for every output.
 *
 * Strings are escaped for JSON and also made inert for HTML and JavaScript: '"' and
 * '\\' as usual, control characters and DEL as \u00XX, '<' '>' '&' '\'' as \u003c ...,
 * U+2028/U+2029 as \u2028/\u2029. Bytes that are not valid UTF-8 (truncated sequences,
 * overlong forms, surrogates, > U+10FFFF, NUL included) become the visible text \xNN
 * (written "\\xNN"), so the analyst sees what was sent and nothing raw passes through.
 * The output therefore never holds a raw newline or a byte >= 0x80 that is not part of
 * valid UTF-8: one alert is always one line.
 *
 * This is a writer only; JSON is parsed with jansson.
 */
#ifndef ONPATH_JSON_H
#define ONPATH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define JW_MAX_DEPTH 16

struct jw {
	char *buf;                /* owned; NUL-terminated after every call */
	size_t len, cap;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no member written yet at this depth */
	uint32_t arr;             /* bit d set: the container at depth d is an array */
	int err;                  /* sticky: ENOMEM, or EINVAL for bad nesting (a key
	                           * missing in an object or given in an array, a close
	                           * that does not match, more than JW_MAX_DEPTH - 1
	                           * levels, a second top-level value) */
};

void jw_init(struct jw *w);
void jw_reset(struct jw *w);  /* empty, keeps the buffer */
void jw_free(struct jw *w);
/* Hands the buffer to the caller (caller frees) and re-initialises w. Returns NULL
 * (and frees the buffer) when w->err is set or a container is still open: half-written
 * JSON never reaches an output. */
char *jw_take(struct jw *w, size_t *len);

/* key is NULL inside arrays and for the top-level value. */
void jw_obj_open(struct jw *w, const char *key);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *s);             /* NULL -> null */
void jw_strn(struct jw *w, const char *key, const void *s, size_t n);  /* any bytes */
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
void jw_double(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
void jw_hex(struct jw *w, const char *key, const void *b, size_t n);   /* lowercase hex string */
void jw_addr(struct jw *w, const char *key, const struct op_addr *a);
void jw_mac(struct jw *w, const char *key, const uint8_t mac[6]);
void jw_ts(struct jw *w, const char *key, uint64_t ts_us);             /* RFC 3339 UTC */
/* A value that is already JSON written by a jw (trusted, not re-escaped). */
void jw_raw(struct jw *w, const char *key, const char *json, size_t n);

/* Appends the escaped form of s (without quotes) to w's buffer: the primitive behind
 * jw_strn, exposed for tests and for outputs that need the same escaping. */
void jw_escape(struct jw *w, const void *s, size_t n);

#endif
