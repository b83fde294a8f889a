/* config.c - the YAML configuration: libyaml events -> a tree with line numbers, and
 * typed accessors whose errors name the file and the line.
 *
 * YAML 1.1 (libyaml) with a deliberately small subset accepted: one document, maps,
 * sequences and scalars. Anchors and aliases are refused (they make one node appear in
 * several places, so a line number no longer identifies a setting, and nested aliases are
 * the "billion laughs" expansion), as are duplicate keys (YAML says they are an error;
 * libyaml does not check, and "last one wins" hides typos).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cfg.h"
#include "util.h"

/* Larger than any sane configuration; stops a mistaken path (a capture, /dev/zero) from
 * being read into memory whole. */
#define CFG_MAX_FILE_BYTES (16u << 20)
/* Scalar text quoted in messages is cut here so one bad value cannot flood a terminal. */
#define CFG_SHOW_MAX 48
#define CFG_PATH_MAX 256

/* ---------------------------------------------------------------- messages */

static const char *cfg_name(const struct cfg *c)
{
	return c && c->path ? c->path : "config";
}

static void verrf(const char *file, int line, char *err, size_t errlen, const char *fmt,
		  va_list ap)
{
	int n;

	if (!err || errlen == 0)
		return;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", file, line);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (n < 0)
		n = 0;
	if ((size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

static void __attribute__((format(printf, 5, 6)))
errf_at(const char *file, int line, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrf(file, line, err, errlen, fmt, ap);
	va_end(ap);
}

void cfg_errf(const struct cfg *c, const struct cfg_node *n, char *err, size_t errlen,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrf(cfg_name(c), n ? n->line : 0, err, errlen, fmt, ap);
	va_end(ap);
}

/* Copies s for quoting in a message: control bytes escaped (a block scalar's newlines,
 * a terminal escape sequence), at most CFG_SHOW_MAX bytes. UTF-8 passes through:
 * libyaml has already validated it. */
static const char *show(const char *s, char *buf, size_t cap)
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < CFG_SHOW_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f) {
			if (o + 5 >= cap)
				break;
			snprintf(buf + o, cap - o, "\\x%02x", ch);
			o += 4;
		} else {
			if (o + 2 >= cap)
				break;
			buf[o++] = (char)ch;
		}
	}
	if (s[i] && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *type_name(enum cfg_type t)
{
	switch (t) {
	case CFG_MAP:
		return "a map";
	case CFG_SEQ:
		return "a list";
	default:
		return "a scalar";
	}
}

/* ---------------------------------------------------------------- the tree */

static void node_free(struct cfg_node *n)
{
	/* Siblings iteratively (a list may be long), children recursively (depth is at most
	 * CFG_MAX_DEPTH). */
	while (n) {
		struct cfg_node *next = n->next;
		node_free(n->child);
		free(n->key);
		free(n->value);
		free(n);
		n = next;
	}
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	node_free(c->root);
	free(c->path);
	free(c);
}

/* Duplicate-key detection: one open-addressing set of (parent map, key) for the whole
 * document, so the check costs O(1) per key however wide a map is. */
struct kent {
	const struct cfg_node *parent;
	const struct cfg_node *node; /* NULL: empty slot */
};

struct keyset {
	struct kent *t;
	size_t cap, n; /* cap is a power of two */
};

static size_t key_slot(const struct cfg_node *parent, const char *key, size_t cap)
{
	uint64_t h = util_hash64(key, strlen(key), (uint64_t)(uintptr_t)parent);
	return (size_t)h & (cap - 1);
}

static int keyset_grow(struct keyset *ks)
{
	size_t ncap = ks->cap ? ks->cap * 2 : 64;
	struct kent *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -1;
	for (size_t i = 0; i < ks->cap; i++) {
		if (!ks->t[i].node)
			continue;
		size_t j = key_slot(ks->t[i].parent, ks->t[i].node->key, ncap);
		while (nt[j].node)
			j = (j + 1) & (ncap - 1);
		nt[j] = ks->t[i];
	}
	free(ks->t);
	ks->t = nt;
	ks->cap = ncap;
	return 0;
}

/* Returns the node already holding node->key in parent, else records node and returns
 * NULL. *oom is set when the table could not grow. */
static const struct cfg_node *keyset_add(struct keyset *ks, const struct cfg_node *parent,
					 const struct cfg_node *node, int *oom)
{
	if ((ks->n + 1) * 2 > ks->cap && keyset_grow(ks) < 0) {
		*oom = 1;
		return NULL;
	}
	size_t i = key_slot(parent, node->key, ks->cap);
	while (ks->t[i].node) {
		if (ks->t[i].parent == parent && strcmp(ks->t[i].node->key, node->key) == 0)
			return ks->t[i].node;
		i = (i + 1) & (ks->cap - 1);
	}
	ks->t[i].parent = parent;
	ks->t[i].node = node;
	ks->n++;
	return NULL;
}

struct frame {
	struct cfg_node *node;
	struct cfg_node *tail; /* last child, for O(1) append */
	char *key;             /* map: key read, value not yet; owned */
	int key_line;
};

struct builder {
	struct cfg *c;
	const char *text;
	size_t len;
	struct frame st[CFG_MAX_DEPTH];
	int depth;
	size_t nodes;
	int docs;
	struct keyset keys;
	char *err;
	size_t errlen;
};

static int oom(struct builder *b, int line)
{
	errf_at(cfg_name(b->c), line, b->err, b->errlen, "out of memory");
	return -1;
}

/* YAML null written as a plain scalar: "key:", "key: ~", "key: null". Quoted "~" is a
 * string and stays as it is. */
static bool plain_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return ev->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Attaches a new node (scalar or container start) at the current position. For a scalar,
 * value is taken over (freed on error). */
static int add_node(struct builder *b, enum cfg_type type, char *value, int line)
{
	const char *file = cfg_name(b->c);
	struct frame *top = b->depth ? &b->st[b->depth - 1] : NULL;

	if (++b->nodes > CFG_MAX_NODES) {
		free(value);
		errf_at(file, line, b->err, b->errlen, "more than %d nodes", CFG_MAX_NODES);
		return -1;
	}
	if (top && top->node->type == CFG_MAP && !top->key) {
		/* This is a key. Only scalar keys can be named in a dotted path or a message. */
		if (type != CFG_SCALAR) {
			errf_at(file, line, b->err, b->errlen,
				"%s as a map key is not supported (keys must be plain names)",
				type_name(type));
			return -1;
		}
		top->key = value;
		top->key_line = line;
		return 0;
	}
	if (type != CFG_SCALAR && b->depth == CFG_MAX_DEPTH) {
		errf_at(file, line, b->err, b->errlen, "nested deeper than %d levels",
			CFG_MAX_DEPTH);
		return -1;
	}

	struct cfg_node *n = calloc(1, sizeof(*n));
	if (!n) {
		free(value);
		return oom(b, line);
	}
	n->type = type;
	n->value = value;
	n->line = line;
	if (!top) {
		b->c->root = n;
	} else {
		if (top->node->type == CFG_MAP) {
			/* A member is reported at its key's line: that is where an operator looks. */
			n->key = top->key;
			n->line = top->key_line;
			top->key = NULL;
			int nomem = 0;
			const struct cfg_node *first = keyset_add(&b->keys, top->node, n, &nomem);
			if (first || nomem) {
				char sbuf[CFG_SHOW_MAX * 4 + 8];
				if (nomem)
					oom(b, n->line);
				else
					errf_at(file, n->line, b->err, b->errlen,
						"duplicate key '%s' (first at line %d)",
						show(n->key, sbuf, sizeof(sbuf)), first->line);
				node_free(n);
				return -1;
			}
		}
		if (top->tail)
			top->tail->next = n;
		else
			top->node->child = n;
		top->tail = n;
	}
	if (type != CFG_SCALAR) {
		struct frame *f = &b->st[b->depth++];
		memset(f, 0, sizeof(*f));
		f->node = n;
	}
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	const char *file = cfg_name(b->c);
	int line = (int)ev->start_mark.line + 1;
	const yaml_char_t *anchor = NULL;
	char sbuf[CFG_SHOW_MAX * 4 + 8];

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++ > 0) {
			errf_at(file, line, b->err, b->errlen,
				"more than one YAML document (only one is supported)");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		errf_at(file, line, b->err, b->errlen, "aliases are not supported (*%s)",
			show((const char *)ev->data.alias.anchor, sbuf, sizeof(sbuf)));
		return -1;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0) {
			struct frame *f = &b->st[--b->depth];
			free(f->key); /* libyaml always pairs keys; defensive */
			f->key = NULL;
		}
		return 0;
	default:
		return 0;
	}
	/* An anchor on its own is harmless, but it exists only to be aliased. */
	if (anchor) {
		errf_at(file, line, b->err, b->errlen, "aliases are not supported (anchor &%s)",
			show((const char *)anchor, sbuf, sizeof(sbuf)));
		return -1;
	}
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return add_node(b, CFG_SEQ, NULL, line);
	if (ev->type == YAML_MAPPING_START_EVENT)
		return add_node(b, CFG_MAP, NULL, line);

	/* Tags (!!str, !foo) are ignored: every scalar is text and the accessor decides. */
	size_t n = ev->data.scalar.length;
	const char *v = (const char *)ev->data.scalar.value;
	/* "\0" in a double-quoted scalar would silently cut the C string a module sees
	 * ("/etc/x\0.bak" -> "/etc/x"). */
	if (memchr(v, '\0', n)) {
		errf_at(file, line, b->err, b->errlen, "NUL character in a value");
		return -1;
	}
	/* Keys are names, never nulls: "null: 1" has the key "null". */
	const struct frame *top = b->depth ? &b->st[b->depth - 1] : NULL;
	bool is_key = top && top->node->type == CFG_MAP && !top->key;
	char *copy = !is_key && plain_null(ev) ? strdup("") : strndup(v, n);
	if (!copy)
		return oom(b, line);
	return add_node(b, CFG_SCALAR, copy, line);
}

/* libyaml reports reader errors (bad UTF-8, control characters) by byte offset only. */
static int line_of_offset(const char *text, size_t len, size_t off)
{
	int line = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* libyaml puts end-of-input errors on the line after the last one (it adds a line break
 * at the end of the stream); name the last line of the file instead, where the editor
 * can go. */
static int clamp_line(const struct builder *b, size_t mark_line)
{
	size_t lines = 0;

	for (size_t i = 0; i < b->len; i++)
		if (b->text[i] == '\n')
			lines++;
	if (b->len && b->text[b->len - 1] != '\n')
		lines++;
	if (lines == 0)
		lines = 1;
	return (int)(mark_line + 1 < lines ? mark_line + 1 : lines);
}

static void yaml_error(struct builder *b, const yaml_parser_t *p)
{
	const char *file = cfg_name(b->c);
	const char *problem = p->problem ? p->problem : "syntax error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		errf_at(file, 0, b->err, b->errlen, "out of memory");
		break;
	case YAML_READER_ERROR:
		if (p->problem_value >= 0)
			errf_at(file, line_of_offset(b->text, b->len, p->problem_offset), b->err,
				b->errlen, "%s (byte 0x%02x)", problem, (unsigned)p->problem_value);
		else
			errf_at(file, line_of_offset(b->text, b->len, p->problem_offset), b->err,
				b->errlen, "%s", problem);
		break;
	default: {
		int line = clamp_line(b, p->problem_mark.line);
		int cline = clamp_line(b, p->context_mark.line);
		if (p->context && cline != line)
			errf_at(file, line, b->err, b->errlen, "%s (%s at line %d)", problem,
				p->context, cline);
		else if (p->context)
			errf_at(file, line, b->err, b->errlen, "%s (%s)", problem, p->context);
		else
			errf_at(file, line, b->err, b->errlen, "%s", problem);
		break;
	}
	}
}

int cfg_load_string(const char *text, size_t len, const char *name, struct cfg **out,
		    char *err, size_t errlen)
{
	struct builder b;
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	memset(&b, 0, sizeof(b));
	b.text = text ? text : "";
	b.len = text ? len : 0;
	b.err = err;
	b.errlen = errlen;
	b.c = calloc(1, sizeof(*b.c));
	if (!b.c || !(b.c->path = strdup(name ? name : "<string>"))) {
		errf_at(name ? name : "<string>", 0, err, errlen, "out of memory");
		cfg_free(b.c);
		return -1;
	}
	if (!yaml_parser_initialize(&p)) {
		errf_at(b.c->path, 0, err, errlen, "out of memory");
		cfg_free(b.c);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)b.text, b.len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_error(&b, &p);
			rc = -1;
			break;
		}
		yaml_event_type_t type = ev.type;
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (rc < 0 || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	for (int i = 0; i < b.depth; i++)
		free(b.st[i].key);
	free(b.keys.t);
	if (rc < 0) {
		cfg_free(b.c);
		return -1;
	}
	/* "---" alone or "~" is an empty configuration, like an empty file. */
	if (b.c->root && b.c->root->type == CFG_SCALAR && b.c->root->value[0] == '\0') {
		node_free(b.c->root);
		b.c->root = NULL;
	}
	*out = b.c;
	return 0;
}

int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	if (!(f = fopen(path, "rb"))) {
		errf_at(path, 0, err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= CFG_MAX_FILE_BYTES) {
				errf_at(path, 0, err, errlen, "larger than %u bytes: not a configuration file?",
					CFG_MAX_FILE_BYTES);
				free(buf);
				fclose(f);
				return -1;
			}
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				errf_at(path, 0, err, errlen, "out of memory");
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		errf_at(path, 0, err, errlen, "read error: %s", strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = cfg_load_string(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- lookups */

const struct cfg_node *cfg_get(const struct cfg_node *n, const char *path)
{
	if (!n || !path || !*path)
		return NULL;
	while (n) {
		const char *dot = strchr(path, '.');
		size_t seg = dot ? (size_t)(dot - path) : strlen(path);
		const struct cfg_node *m;

		if (seg == 0 || n->type != CFG_MAP)
			return NULL;
		for (m = n->child; m; m = m->next)
			if (strncmp(m->key, path, seg) == 0 && m->key[seg] == '\0')
				break;
		if (!m || !dot)
			return m;
		n = m;
		path = dot + 1;
	}
	return NULL;
}

/* The dotted path of target from the root ("flows.max", "outputs[1]"), so a message
 * names the setting the way the operator would write it whatever section a module was
 * handed. Only runs on the error path. */
static bool find_path(const struct cfg_node *n, const struct cfg_node *target, char *buf,
		      size_t cap, size_t len)
{
	size_t i = 0;

	for (const struct cfg_node *m = n->child; m; m = m->next, i++) {
		int w;
		if (n->type == CFG_MAP)
			w = snprintf(buf + len, cap - len, "%s%s", len ? "." : "", m->key);
		else
			w = snprintf(buf + len, cap - len, "[%zu]", i);
		if (w < 0)
			return false;
		size_t nlen = len + (size_t)w < cap ? len + (size_t)w : cap - 1;
		if (m == target)
			return true;
		if (m->child && find_path(m, target, buf, cap, nlen))
			return true;
		buf[len] = '\0';
	}
	return false;
}

static const char *node_path(const struct cfg *c, const struct cfg_node *n, const char *fallback,
			     char *buf, size_t cap)
{
	buf[0] = '\0';
	if (c && c->root && n == c->root)
		return "top level";
	if (c && c->root && n && find_path(c->root, n, buf, cap, 0))
		return buf;
	return fallback && *fallback ? fallback : "value";
}

/* path NULL or "" names sec itself (a scalar element of a list). */
static const struct cfg_node *lookup(const struct cfg_node *sec, const char *path)
{
	if (!path || !*path)
		return sec;
	return cfg_get(sec, path);
}

/* Finds a scalar for a typed getter: 0 absent, 1 found, -1 wrong type (err set). */
static int scalar_at(const struct cfg *c, const struct cfg_node *sec, const char *path,
		     const char *want, const struct cfg_node **out, char *err, size_t errlen)
{
	const struct cfg_node *n = lookup(sec, path);
	char pbuf[CFG_PATH_MAX];

	if (!n)
		return 0;
	if (n->type != CFG_SCALAR) {
		cfg_errf(c, n, err, errlen, "%s: expected %s, found %s",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), want, type_name(n->type));
		return -1;
	}
	*out = n;
	return 1;
}

/* Decimal digits only: no sign, no hex, no spaces, so "0x10" or "-1" cannot be read as
 * something the operator did not mean. Returns 0, -1 (no digits) or -2 (overflow). */
static int parse_u64(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10) {
			while (*p >= '0' && *p <= '9')
				p++;
			*end = p;
			return -2;
		}
		x = x * 10 + d;
	}
	*end = p;
	*v = x;
	return 0;
}

int cfg_uint(const struct cfg *c, const struct cfg_node *sec, const char *path, uint64_t min,
	     uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	const struct cfg_node *n = NULL;
	char pbuf[CFG_PATH_MAX], sbuf[CFG_SHOW_MAX * 4 + 8];
	const char *end;
	uint64_t x = 0;
	int r = scalar_at(c, sec, path, "a number", &n, err, errlen);

	if (r <= 0)
		return r;
	if (!n->value[0]) {
		cfg_errf(c, n, err, errlen, "%s: no value (expected %" PRIu64 "..%" PRIu64 ")",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), min, max);
		return -1;
	}
	r = parse_u64(n->value, &end, &x);
	if (r == -1 || *end) {
		cfg_errf(c, n, err, errlen, "%s: '%s' is not a number (expected %" PRIu64 "..%" PRIu64 ")",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), show(n->value, sbuf, sizeof(sbuf)),
			 min, max);
		return -1;
	}
	if (r == -2 || x < min || x > max) {
		cfg_errf(c, n, err, errlen, "%s: %s is out of range (expected %" PRIu64 "..%" PRIu64 ")",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), show(n->value, sbuf, sizeof(sbuf)),
			 min, max);
		return -1;
	}
	*v = x;
	return 1;
}

int cfg_bool(const struct cfg *c, const struct cfg_node *sec, const char *path, bool *v,
	     char *err, size_t errlen)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	const struct cfg_node *n = NULL;
	char pbuf[CFG_PATH_MAX], sbuf[CFG_SHOW_MAX * 4 + 8];
	int r = scalar_at(c, sec, path, "true or false", &n, err, errlen);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(yes); i++) {
		if (strcasecmp(n->value, yes[i]) == 0) {
			*v = true;
			return 1;
		}
		if (strcasecmp(n->value, no[i]) == 0) {
			*v = false;
			return 1;
		}
	}
	cfg_errf(c, n, err, errlen, "%s: '%s' is not a boolean (expected true/false, yes/no or on/off)",
		 node_path(c, n, path, pbuf, sizeof(pbuf)), show(n->value, sbuf, sizeof(sbuf)));
	return -1;
}

int cfg_str(const struct cfg *c, const struct cfg_node *sec, const char *path, const char **v,
	    char *err, size_t errlen)
{
	const struct cfg_node *n = NULL;
	int r = scalar_at(c, sec, path, "a string", &n, err, errlen);

	if (r <= 0)
		return r;
	*v = n->value;
	return 1;
}

/* "<number><spaces?><unit>" with the unit looked up case-insensitively in units; an
 * empty unit multiplies by units[0].mult. Returns 0, -1 (malformed), -2 (overflow). */
struct unit {
	const char *name;
	uint64_t mult;
};

static int parse_scaled(const char *s, const struct unit *units, size_t nunits, uint64_t *v)
{
	const char *end;
	uint64_t x = 0;
	int r = parse_u64(s, &end, &x);

	if (r == -1)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i].name) != 0)
			continue;
		if (r == -2 || (units[i].mult && x > UINT64_MAX / units[i].mult))
			return -2;
		*v = x * units[i].mult;
		return 0;
	}
	return -1;
}

/* Writes v in the largest unit that divides it exactly ("5m", "64KiB"), so the expected
 * range in a message reads the way the operator writes it. */
static const char *fmt_scaled(uint64_t v, const struct unit *units, size_t nunits, char *buf,
			      size_t cap)
{
	size_t best = 0;

	for (size_t i = 0; i < nunits; i++)
		if (units[i].mult > units[best].mult && v != 0 && v % units[i].mult == 0)
			best = i;
	snprintf(buf, cap, "%" PRIu64 "%s", v / units[best].mult, units[best].name);
	return buf;
}

static int get_scaled(const struct cfg *c, const struct cfg_node *sec, const char *path,
		      uint64_t min, uint64_t max, uint64_t *v, char *err, size_t errlen,
		      const char *what, const char *examples, const struct unit *parse_units,
		      size_t nparse, const struct unit *show_units, size_t nshow)
{
	const struct cfg_node *n = NULL;
	char pbuf[CFG_PATH_MAX], sbuf[CFG_SHOW_MAX * 4 + 8], lo[32], hi[32];
	uint64_t x = 0;
	int r = scalar_at(c, sec, path, what, &n, err, errlen);

	if (r <= 0)
		return r;
	fmt_scaled(min, show_units, nshow, lo, sizeof(lo));
	fmt_scaled(max, show_units, nshow, hi, sizeof(hi));
	if (!n->value[0]) {
		cfg_errf(c, n, err, errlen, "%s: no value (expected %s..%s)",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), lo, hi);
		return -1;
	}
	r = parse_scaled(n->value, parse_units, nparse, &x);
	if (r == -1) {
		cfg_errf(c, n, err, errlen, "%s: '%s' is not %s (expected %s..%s, e.g. %s)",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), show(n->value, sbuf, sizeof(sbuf)),
			 what, lo, hi, examples);
		return -1;
	}
	if (r == -2 || x < min || x > max) {
		cfg_errf(c, n, err, errlen, "%s: %s is out of range (expected %s..%s)",
			 node_path(c, n, path, pbuf, sizeof(pbuf)), show(n->value, sbuf, sizeof(sbuf)),
			 lo, hi);
		return -1;
	}
	*v = x;
	return 1;
}

static const struct unit dur_units[] = {
	{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
};
static const struct unit dur_show[] = {
	{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
};

int cfg_duration(const struct cfg *c, const struct cfg_node *sec, const char *path,
		 uint64_t min_s, uint64_t max_s, uint64_t *v, char *err, size_t errlen)
{
	return get_scaled(c, sec, path, min_s, max_s, v, err, errlen, "a duration",
			  "300, 300s, 5m, 2h, 1d", dur_units, ONPATH_ARRAY_LEN(dur_units),
			  dur_show, ONPATH_ARRAY_LEN(dur_show));
}

/* Binary multiples only: "64k" meaning 64000 in one place and 65536 in another is how
 * buffers end up a few percent too small. */
static const struct unit size_units[] = {
	{ "", 1 },
	{ "k", 1ull << 10 }, { "kib", 1ull << 10 },
	{ "m", 1ull << 20 }, { "mib", 1ull << 20 },
	{ "g", 1ull << 30 }, { "gib", 1ull << 30 },
};
static const struct unit size_show[] = {
	{ "", 1 }, { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 },
};

int cfg_size(const struct cfg *c, const struct cfg_node *sec, const char *path, uint64_t min,
	     uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	return get_scaled(c, sec, path, min, max, v, err, errlen, "a size",
			  "65536, 64k, 64KiB, 128M, 1G", size_units, ONPATH_ARRAY_LEN(size_units),
			  size_show, ONPATH_ARRAY_LEN(size_show));
}

int cfg_check_keys(const struct cfg *c, const struct cfg_node *sec, const char *section,
		   const char *const *known, char *err, size_t errlen)
{
	char pbuf[CFG_PATH_MAX], sbuf[CFG_SHOW_MAX * 4 + 8], list[CFG_ERR_MAX];

	if (!sec)
		return 0;
	if (sec->type == CFG_SCALAR && sec->value[0] == '\0')
		return 0; /* "flows:" with nothing under it: an empty section */
	if (sec->type != CFG_MAP) {
		cfg_errf(c, sec, err, errlen, "%s: expected a map of settings, found %s",
			 section ? section : node_path(c, sec, NULL, pbuf, sizeof(pbuf)),
			 type_name(sec->type));
		return -1;
	}
	for (const struct cfg_node *m = sec->child; m; m = m->next) {
		size_t i;
		for (i = 0; known && known[i]; i++)
			if (strcmp(m->key, known[i]) == 0)
				break;
		if (known && known[i])
			continue;
		size_t o = 0;
		list[0] = '\0';
		for (i = 0; known && known[i] && o < sizeof(list); i++) {
			int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", known[i]);
			if (w < 0)
				break;
			o += (size_t)w;
		}
		cfg_errf(c, m, err, errlen, "unknown key '%s' in %s (known: %s)",
			 show(m->key, sbuf, sizeof(sbuf)),
			 section ? section : node_path(c, sec, NULL, pbuf, sizeof(pbuf)),
			 list[0] ? list : "none");
		return -1;
	}
	return 0;
}
