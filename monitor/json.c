#include "config.h"

/* json.c - the JSON writer behind every alert and record line (RFC 8259).
 *
 * Every string goes through jw_escape, which makes it valid JSON and inert for the
 * places the text ends up: a dashboard that drops it into HTML or a <script> block, a
 * syslog line, a terminal. See json.h for the rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JW_INIT_CAP 256
/* A runaway writer (a detector looping over attacker data) must fail, not take all
 * memory: no alert or record comes near this. */
#define JW_MAX_LEN (64u * 1024 * 1024)
/* The longest escape of one input byte: a control character as \u00XX. */
#define JW_ESC_MAX 6

static const char hexdig[] = "0123456789abcdef";

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = true;
	w->buf = malloc(JW_INIT_CAP);
	if (w->buf == NULL) {
		w->err = ENOMEM;
		return;
	}
	w->cap = JW_INIT_CAP;
	w->buf[0] = '\0';
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	if (w->buf != NULL)
		w->buf[0] = '\0';
	w->depth = 0;
	w->arr = 0;
	w->first[0] = true;
	w->err = 0;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
	w->first[0] = true;
}

char *jw_take(struct jw *w, size_t *len)
{
	char *p = w->buf;

	/* Half-written JSON must never reach an output. */
	if (w->err != 0 || w->depth != 0 || p == NULL) {
		free(p);
		p = NULL;
		if (len != NULL)
			*len = 0;
	} else if (len != NULL) {
		*len = w->len;
	}
	w->buf = NULL;
	jw_init(w);
	return p;
}

/* Makes room for n more bytes plus the terminating NUL. */
static bool reserve(struct jw *w, size_t n)
{
	size_t need, cap;
	char *p;

	if (w->err != 0)
		return false;
	if (n > JW_MAX_LEN || w->len > JW_MAX_LEN - n) {
		w->err = ENOMEM;
		return false;
	}
	need = w->len + n + 1;
	if (w->buf != NULL && need <= w->cap)
		return true;
	cap = w->cap ? w->cap : JW_INIT_CAP;
	while (cap < need)
		cap *= 2; /* need <= JW_MAX_LEN + 1, cannot wrap */
	p = realloc(w->buf, cap);
	if (p == NULL) {
		w->err = ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putc1(struct jw *w, char c)
{
	put(w, &c, 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s[0] does not start one.
 * Follows RFC 3629 section 4 exactly: no overlong forms (C0, C1, E0 80-9F, F0 80-8F),
 * no surrogates (ED A0-BF), nothing above U+10FFFF (F4 90-BF, F5-FF), no truncation.
 * NUL is rejected too: a C consumer of the alert would cut the string there. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0; /* stray continuation, C0/C1, F5-FF */
	}
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void jw_escape(struct jw *w, const void *src, size_t n)
{
	const uint8_t *s = src;
	char *o;
	size_t i = 0, l;

	if (n == 0)
		return;
	if (n > JW_MAX_LEN / JW_ESC_MAX) {
		w->err = ENOMEM;
		return;
	}
	if (!reserve(w, n * JW_ESC_MAX))
		return;
	o = w->buf + w->len;
	while (i < n) {
		uint8_t c = s[i];

		if (c >= 0x20 && c < 0x7f) {
			switch (c) {
			case '"':
				*o++ = '\\';
				*o++ = '"';
				break;
			case '\\':
				*o++ = '\\';
				*o++ = '\\';
				break;
			/* HTML and JavaScript metacharacters: the line stays inert inside
			 * an HTML page or a <script> block that a dashboard builds. */
			case '<':
			case '>':
			case '&':
			case '\'':
				memcpy(o, "\\u00", 4);
				o[4] = hexdig[c >> 4];
				o[5] = hexdig[c & 0xf];
				o += 6;
				break;
			default:
				*o++ = (char)c;
			}
			i++;
			continue;
		}
		if (c != 0 && (c < 0x20 || c == 0x7f)) {
			*o++ = '\\';
			switch (c) {
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				memcpy(o, "u00", 3);
				o[3] = hexdig[c >> 4];
				o[4] = hexdig[c & 0xf];
				o += 5;
			}
			i++;
			continue;
		}
		l = utf8_len(s + i, n - i);
		if (l == 0) {
			/* Not UTF-8 (or NUL): show the byte as the text \xNN. */
			memcpy(o, "\\\\x", 3);
			o[3] = hexdig[c >> 4];
			o[4] = hexdig[c & 0xf];
			o += 5;
			i++;
			continue;
		}
		/* U+2028 and U+2029 are line terminators for JavaScript before ES2019:
		 * raw, they end a string literal in a <script> block. */
		if (l == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			memcpy(o, "\\u202", 5);
			o[5] = s[i + 2] == 0xa8 ? '8' : '9';
			o += 6;
			i += 3;
			continue;
		}
		memcpy(o, s + i, l);
		o += l;
		i += l;
	}
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

static void put_qstr(struct jw *w, const void *s, size_t n)
{
	putc1(w, '"');
	jw_escape(w, s, n);
	putc1(w, '"');
}

/* Writes the separator and the key for the next value, checking that a key is given
 * exactly when the enclosing container is an object. */
static bool member(struct jw *w, const char *key)
{
	int d = w->depth;
	bool in_arr = d > 0 && (w->arr & (1u << d)) != 0;

	if (w->err != 0)
		return false;
	if (d == 0) {
		/* One top-level value per writer. */
		if (key != NULL || !w->first[0]) {
			w->err = EINVAL;
			return false;
		}
		w->first[0] = false;
		return true;
	}
	if (in_arr ? key != NULL : key == NULL) {
		w->err = EINVAL;
		return false;
	}
	if (!w->first[d])
		putc1(w, ',');
	w->first[d] = false;
	if (key != NULL) {
		put_qstr(w, key, strlen(key));
		putc1(w, ':');
	}
	return w->err == 0;
}

static void open_container(struct jw *w, const char *key, bool arr)
{
	if (!member(w, key))
		return;
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->err = EINVAL;
		return;
	}
	putc1(w, arr ? '[' : '{');
	w->depth++;
	w->first[w->depth] = true;
	if (arr)
		w->arr |= 1u << w->depth;
	else
		w->arr &= ~(1u << w->depth);
}

static void close_container(struct jw *w, bool arr)
{
	if (w->err != 0)
		return;
	if (w->depth == 0 || ((w->arr & (1u << w->depth)) != 0) != arr) {
		w->err = EINVAL;
		return;
	}
	putc1(w, arr ? ']' : '}');
	w->depth--;
}

void jw_obj_open(struct jw *w, const char *key)
{
	open_container(w, key, false);
}

void jw_obj_close(struct jw *w)
{
	close_container(w, false);
}

void jw_arr_open(struct jw *w, const char *key)
{
	open_container(w, key, true);
}

void jw_arr_close(struct jw *w)
{
	close_container(w, true);
}

void jw_strn(struct jw *w, const char *key, const void *s, size_t n)
{
	if (!member(w, key))
		return;
	if (s == NULL && n > 0) {
		w->err = EINVAL;
		return;
	}
	put_qstr(w, s, n);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	if (s == NULL) {
		jw_null(w, key);
		return;
	}
	jw_strn(w, key, s, strlen(s));
}

static void put_lit(struct jw *w, const char *key, const char *lit)
{
	if (!member(w, key))
		return;
	put(w, lit, strlen(lit));
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	put_lit(w, key, b);
}

void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	put_lit(w, key, b);
}

void jw_double(struct jw *w, const char *key, double v)
{
	char b[40];
	char *p;

	/* JSON has no NaN or Infinity; jansson and browsers reject the whole line. */
	if (!isfinite(v)) {
		put_lit(w, key, "null");
		return;
	}
	/* Shortest of the usual precisions that reads back exactly. */
	snprintf(b, sizeof(b), "%.15g", v);
	if (strtod(b, NULL) != v)
		snprintf(b, sizeof(b), "%.17g", v);
	/* A locale with a decimal comma would make this two values. */
	for (p = b; *p != '\0'; p++)
		if (*p == ',')
			*p = '.';
	put_lit(w, key, b);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	put_lit(w, key, v ? "true" : "false");
}

void jw_null(struct jw *w, const char *key)
{
	put_lit(w, key, "null");
}

void jw_hex(struct jw *w, const char *key, const void *b, size_t n)
{
	const uint8_t *p = b;
	char *o;
	size_t i;

	if (!member(w, key))
		return;
	if (p == NULL && n > 0) {
		w->err = EINVAL;
		return;
	}
	if (n > (JW_MAX_LEN - 2) / 2 || !reserve(w, 2 * n + 2)) {
		w->err = ENOMEM;
		return;
	}
	o = w->buf + w->len;
	*o++ = '"';
	for (i = 0; i < n; i++) {
		*o++ = hexdig[p[i] >> 4];
		*o++ = hexdig[p[i] & 0xf];
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

void jw_addr(struct jw *w, const char *key, const struct op_addr *a)
{
	char b[OP_ADDR_STRLEN];

	if (a == NULL || (a->family != 4 && a->family != 6)) {
		jw_null(w, key);
		return;
	}
	jw_str(w, key, util_addr_fmt(a, b));
}

void jw_mac(struct jw *w, const char *key, const uint8_t mac[6])
{
	char b[OP_MAC_STRLEN];

	if (mac == NULL) {
		jw_null(w, key);
		return;
	}
	jw_str(w, key, util_mac_fmt(mac, b));
}

void jw_ts(struct jw *w, const char *key, uint64_t ts_us)
{
	char b[OP_TS_STRLEN];

	jw_str(w, key, util_ts_fmt(ts_us, b));
}

void jw_raw(struct jw *w, const char *key, const char *json, size_t n)
{
	if (json == NULL || n == 0) {
		jw_null(w, key);
		return;
	}
	if (!member(w, key))
		return;
	put(w, json, n);
}
