/* test_config.c - unit tests for monitor/config.c: loading, every load error with its
 * file:line message, and every typed accessor. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "util.h"

/* ---------------------------------------------------------------- helpers */

static char tmp_path[64];

/* Writes text to a fresh temp file and loads it with cfg_load, as the sensor does. */
static int load_file(const char *text, size_t len, struct cfg **c, char *err, size_t errlen)
{
	util_strlcpy(tmp_path, "/tmp/onpath-test-XXXXXX.yaml", sizeof(tmp_path));
	int fd = mkstemps(tmp_path, 5);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	int r = cfg_load(tmp_path, c, err, errlen);
	unlink(tmp_path);
	return r;
}

static struct cfg *load_ok(const char *text)
{
	struct cfg *c = NULL;
	char err[CFG_ERR_MAX] = "";
	if (load_file(text, strlen(text), &c, err, sizeof(err)) != 0)
		fail_msg("unexpected load error: %s", err);
	assert_non_null(c);
	assert_string_equal(c->path, tmp_path);
	return c;
}

/* Loads text, which must fail, and checks the message is "<file>:<want>". */
static void load_err_n(const char *text, size_t len, const char *want)
{
	struct cfg *c = (struct cfg *)1;
	char err[CFG_ERR_MAX] = "", full[CFG_ERR_MAX + 64];
	int r = load_file(text, len, &c, err, sizeof(err));
	if (r != -1)
		fail_msg("loaded, expected error '%s'", want);
	assert_null(c);
	snprintf(full, sizeof(full), "%s:%s", tmp_path, want);
	assert_string_equal(err, full);
}

static void load_err(const char *text, const char *want)
{
	load_err_n(text, strlen(text), want);
}

/* Loads from memory under the name "onpath.yaml" (messages are then fixed strings). */
static struct cfg *mem_ok(const char *text)
{
	struct cfg *c = NULL;
	char err[CFG_ERR_MAX] = "";
	if (cfg_load_string(text, strlen(text), "onpath.yaml", &c, err, sizeof(err)) != 0)
		fail_msg("unexpected load error: %s", err);
	return c;
}

/* ---------------------------------------------------------------- loading */

static const char good_yaml[] =
	"# onpath test configuration\n"               /* 1 */
	"sensor:\n"                                   /* 2 */
	"  name: \"edge-1\"\n"                        /* 3 */
	"  community_id_seed: 7\n"                    /* 4 */
	"capture:\n"                                  /* 5 */
	"  interface: eth0\n"                         /* 6 */
	"  promisc: no\n"                             /* 7 */
	"  buffer_size: 64MiB\n"                      /* 8 */
	"flows:\n"                                    /* 9 */
	"  max: 65536\n"                              /* 10 */
	"  tcp_idle: 5m\n"                            /* 11 */
	"  limits: {a: 1, b: [x, y]}\n"               /* 12 */
	"outputs:\n"                                  /* 13 */
	"  - jsonl:-\n"                               /* 14 */
	"  - 'redis://127.0.0.1:6379'\n"              /* 15 */
	"detectors:\n"                                /* 16 */
	"  - name: arp\n"                             /* 17 */
	"    window: 2h\n"                            /* 18 */
	"  - name: tls\n"                             /* 19 */
	"    enabled: off\n"                          /* 20 */
	"note: caf\xc3\xa9 \xe2\x98\x83\n"            /* 21: UTF-8 is data */
	"empty:\n";                                   /* 22 */

static void test_good_file(void **state)
{
	struct cfg *c = load_ok(good_yaml);
	char err[CFG_ERR_MAX];
	const char *s = NULL;
	uint64_t v = 0;
	bool b = true;

	assert_non_null(c->root);
	assert_int_equal(c->root->type, CFG_MAP);
	assert_int_equal(c->root->line, 2);
	assert_null(c->root->key);

	/* top-level members in file order, each at its key's line */
	static const char *const top[] = { "sensor", "capture", "flows", "outputs", "detectors",
					   "note", "empty" };
	static const int lines[] = { 2, 5, 9, 13, 16, 21, 22 };
	size_t i = 0;
	for (const struct cfg_node *n = c->root->child; n; n = n->next, i++) {
		assert_true(i < ONPATH_ARRAY_LEN(top));
		assert_string_equal(n->key, top[i]);
		assert_int_equal(n->line, lines[i]);
	}
	assert_int_equal(i, ONPATH_ARRAY_LEN(top));

	const struct cfg_node *sen = cfg_get(c->root, "sensor");
	assert_int_equal(cfg_str(c, sen, "name", &s, err, sizeof(err)), 1);
	assert_string_equal(s, "edge-1");
	assert_int_equal(cfg_uint(c, sen, "community_id_seed", 0, 65535, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 7);

	const struct cfg_node *cap = cfg_get(c->root, "capture");
	assert_int_equal(cfg_bool(c, cap, "promisc", &b, err, sizeof(err)), 1);
	assert_false(b);
	assert_int_equal(cfg_size(c, cap, "buffer_size", 65536, 1ull << 31, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 64u << 20);

	/* dotted paths from the root */
	assert_int_equal(cfg_uint(c, c->root, "flows.max", 1024, 16777216, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 65536);
	assert_int_equal(cfg_duration(c, c->root, "flows.tcp_idle", 1, 86400, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 300);
	assert_int_equal(cfg_uint(c, c->root, "flows.limits.a", 0, 9, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 1);
	const struct cfg_node *lb = cfg_get(c->root, "flows.limits.b");
	assert_non_null(lb);
	assert_int_equal(lb->type, CFG_SEQ);
	assert_int_equal(lb->line, 12);
	assert_string_equal(lb->child->value, "x");
	assert_string_equal(lb->child->next->value, "y");
	assert_null(lb->child->key);
	assert_null(lb->child->next->next);

	/* a list of scalars */
	const struct cfg_node *outs = cfg_get(c->root, "outputs");
	assert_int_equal(outs->type, CFG_SEQ);
	assert_string_equal(outs->child->value, "jsonl:-");
	assert_int_equal(outs->child->line, 14);
	assert_string_equal(outs->child->next->value, "redis://127.0.0.1:6379");
	assert_int_equal(outs->child->next->line, 15);
	/* path NULL reads the element itself */
	assert_int_equal(cfg_str(c, outs->child, NULL, &s, err, sizeof(err)), 1);
	assert_string_equal(s, "jsonl:-");

	/* a list of maps */
	const struct cfg_node *dets = cfg_get(c->root, "detectors");
	const struct cfg_node *d0 = dets->child, *d1 = d0->next;
	assert_int_equal(d0->type, CFG_MAP);
	assert_int_equal(d0->line, 17);
	assert_int_equal(cfg_str(c, d0, "name", &s, err, sizeof(err)), 1);
	assert_string_equal(s, "arp");
	assert_int_equal(cfg_duration(c, d0, "window", 1, 86400, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 7200);
	b = true;
	assert_int_equal(cfg_bool(c, d1, "enabled", &b, err, sizeof(err)), 1);
	assert_false(b);

	assert_int_equal(cfg_str(c, c->root, "note", &s, err, sizeof(err)), 1);
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x98\x83");

	/* "empty:" is a null: an empty scalar, and an empty section for cfg_check_keys */
	const struct cfg_node *e = cfg_get(c->root, "empty");
	assert_int_equal(e->type, CFG_SCALAR);
	assert_string_equal(e->value, "");
	static const char *const none[] = { NULL };
	assert_int_equal(cfg_check_keys(c, e, "empty", none, err, sizeof(err)), 0);

	cfg_free(c);
}

static void test_empty(void **state)
{
	const char *empties[] = { "", "\n\n", "# only a comment\n", "---\n", "--- ~\n", "null\n",
				  "---\n...\n" };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(empties); i++) {
		struct cfg *c = load_ok(empties[i]);
		assert_null(c->root);
		cfg_free(c);
	}
	/* getters on an empty config: everything absent */
	struct cfg *c = mem_ok("");
	uint64_t v = 42;
	char err[CFG_ERR_MAX];
	assert_int_equal(cfg_uint(c, c->root, "flows.max", 0, 10, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 42);
	assert_int_equal(cfg_check_keys(c, c->root, "top", NULL, err, sizeof(err)), 0);
	cfg_free(c);
	cfg_free(NULL);

	/* NULL text with len 0 is an empty string; NULL name is "<string>" */
	assert_int_equal(cfg_load_string(NULL, 0, NULL, &c, err, sizeof(err)), 0);
	assert_null(c->root);
	assert_string_equal(c->path, "<string>");
	cfg_free(c);
	assert_int_equal(cfg_load_string("a: [", 4, NULL, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "<string>:1: did not find expected node content "
				 "(while parsing a flow node)");
}

static void test_missing_file(void **state)
{
	struct cfg *c = (struct cfg *)1;
	char err[CFG_ERR_MAX];

	assert_int_equal(cfg_load("/nonexistent/onpath.yaml", &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/onpath.yaml: cannot open: No such file or directory");

	/* a directory opens but cannot be read */
	assert_int_equal(cfg_load("/", &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "/: read error: Is a directory");
}

static void test_syntax_errors(void **state)
{
	load_err("a: 1\nb: [1, 2\nc: 3\n",
		 "3: did not find expected ',' or ']' (while parsing a flow sequence at line 2)");
	load_err("a:\n  b: 1\n c: 2\n",
		 "3: did not find expected key (while parsing a block mapping at line 1)");
	/* errors at the end of input name the last line, not the one after it */
	load_err("a: 1\nb: \"open\n",
		 "2: found unexpected end of stream (while scanning a quoted scalar)");
	load_err("a: 1\nb: [x", "2: did not find expected ',' or ']' (while parsing a flow sequence)");
	load_err("a:\n\tb: 2\n",
		 "2: found character that cannot start any token (while scanning for the next token)");
	load_err("a: 1\n\tb: 2\n",
		 "2: found a tab character that violates indentation (while scanning a plain scalar at line 1)");
	load_err("a: b: c\n", "1: mapping values are not allowed in this context");
	load_err("- a\nb: 1\n",
		 "2: did not find expected '-' indicator (while parsing a block collection at line 1)");
	load_err("a: @x\n",
		 "1: found character that cannot start any token (while scanning for the next token)");
}

static void test_duplicate_keys(void **state)
{
	load_err("a: 1\nb: 2\na: 3\n", "3: duplicate key 'a' (first at line 1)");
	load_err("s:\n  x: 1\n  y: 2\n  x:\n    z: 1\n", "4: duplicate key 'x' (first at line 2)");
	load_err("m: {k: 1, k: 2}\n", "1: duplicate key 'k' (first at line 1)");
	load_err("l:\n  - a: 1\n    a: 2\n", "3: duplicate key 'a' (first at line 2)");
	/* quoting does not make a different key */
	load_err("a: 1\n\"a\": 2\n", "2: duplicate key 'a' (first at line 1)");

	/* the same key in different maps is fine, as are many distinct keys (the set grows) */
	struct cfg *c = load_ok("a: {x: 1}\nb: {x: 2}\nl:\n  - x: 1\n  - x: 2\n");
	cfg_free(c);
	size_t cap = 1000 * 16, o = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(big + o, cap - o, "k%d: %d\n", i, i);
	c = load_ok(big);
	uint64_t v;
	char err[CFG_ERR_MAX];
	assert_int_equal(cfg_uint(c, c->root, "k999", 0, 1000, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 999);
	cfg_free(c);
	o += (size_t)snprintf(big + o, cap - o, "k500: again\n");
	load_err(big, "1001: duplicate key 'k500' (first at line 501)");
	free(big);
}

static void test_aliases(void **state)
{
	load_err("a: &x 1\nb: *x\n", "1: aliases are not supported (anchor &x)");
	load_err("base: &b\n  x: 1\n", "1: aliases are not supported (anchor &b)");
	load_err("l: &s [1]\n", "1: aliases are not supported (anchor &s)");
	/* an alias to an anchor that does not exist is still an alias */
	load_err("a: 1\nb: *nowhere\n", "2: aliases are not supported (*nowhere)");
	/* the merge key needs an alias */
	load_err("a:\n  <<: *base\n", "2: aliases are not supported (*base)");
}

static void test_bad_keys(void **state)
{
	load_err("[1, 2]: x\n", "1: a list as a map key is not supported (keys must be plain names)");
	load_err("a:\n  {b: 1}: x\n", "2: a map as a map key is not supported (keys must be plain names)");
	load_err("? - x\n: y\n", "1: a list as a map key is not supported (keys must be plain names)");
}

/* Writes n nested block maps: "k:" lines at growing indent and a last "v: 1", which
 * opens the n-th map on line n. */
static void nested_maps(char *buf, size_t cap, int n)
{
	size_t o = 0;
	for (int i = 0; i < n - 1; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%*sk:\n", 2 * i, "");
	snprintf(buf + o, cap - o, "%*sv: 1\n", 2 * (n - 1), "");
}

static void test_depth(void **state)
{
	char buf[4096], want[64];

	/* CFG_MAX_DEPTH containers, the root included, load */
	nested_maps(buf, sizeof(buf), CFG_MAX_DEPTH);
	struct cfg *c = load_ok(buf);
	int depth = 0;
	for (const struct cfg_node *n = c->root; n && n->type == CFG_MAP; n = n->child)
		depth++;
	assert_int_equal(depth, CFG_MAX_DEPTH);
	cfg_free(c);

	/* one more is refused on the line that opens it */
	nested_maps(buf, sizeof(buf), CFG_MAX_DEPTH + 1);
	snprintf(want, sizeof(want), "%d: nested deeper than %d levels", CFG_MAX_DEPTH + 1,
		 CFG_MAX_DEPTH);
	load_err(buf, want);

	/* flow lists: depth = number of '[' */
	memset(buf, '[', CFG_MAX_DEPTH);
	memset(buf + CFG_MAX_DEPTH, ']', CFG_MAX_DEPTH);
	buf[2 * CFG_MAX_DEPTH] = '\0';
	c = load_ok(buf);
	cfg_free(c);
	memset(buf, '[', CFG_MAX_DEPTH + 1);
	memset(buf + CFG_MAX_DEPTH + 1, ']', CFG_MAX_DEPTH + 1);
	buf[2 * CFG_MAX_DEPTH + 2] = '\0';
	snprintf(want, sizeof(want), "1: nested deeper than %d levels", CFG_MAX_DEPTH);
	load_err(buf, want);

	/* far deeper than libyaml's own limits: still our message, no stack growth */
	memset(buf, '[', 3000);
	buf[3000] = '\0';
	load_err(buf, want);
}

static void test_too_many_nodes(void **state)
{
	/* "[0,0,...]": one list plus N scalars */
	size_t n = CFG_MAX_NODES; /* + the list = CFG_MAX_NODES + 1 nodes */
	char *buf = malloc(2 * n + 3);
	assert_non_null(buf);
	buf[0] = '[';
	for (size_t i = 0; i < n; i++) {
		buf[1 + 2 * i] = '0';
		buf[2 + 2 * i] = ',';
	}
	buf[2 * n] = ']';
	buf[2 * n + 1] = '\0';
	char want[64];
	snprintf(want, sizeof(want), "1: more than %d nodes", CFG_MAX_NODES);
	load_err(buf, want);

	/* one fewer fits */
	buf[2 * n - 2] = ']';
	buf[2 * n - 1] = '\0';
	struct cfg *c = load_ok(buf);
	size_t count = 0;
	for (const struct cfg_node *m = c->root->child; m; m = m->next)
		count++;
	assert_int_equal(count, CFG_MAX_NODES - 1);
	cfg_free(c);
	free(buf);
}

static void test_documents(void **state)
{
	load_err("a: 1\n---\nb: 2\n", "2: more than one YAML document (only one is supported)");
	struct cfg *c = load_ok("---\na: 1\n...\n");
	assert_string_equal(cfg_get(c->root, "a")->value, "1");
	cfg_free(c);
}

static void test_bytes(void **state)
{
	/* invalid UTF-8 is refused by libyaml's reader; we report the line */
	/* 0xe9 announces a 3-byte sequence; the quote after it is the bad octet */
	load_err("a: 1\nb: \"caf\xe9\"\n", "2: invalid trailing UTF-8 octet (byte 0x22)");
	load_err("a: 1\n\nb: \xff\n", "3: invalid leading UTF-8 octet (byte 0xff)");
	/* a NUL byte in the file is a control character */
	load_err_n("a: 1\nb: x\0y\n", 11, "2: control characters are not allowed (byte 0x00)");
	load_err("a: \x01\n", "1: control characters are not allowed (byte 0x01)");
	/* an escaped NUL in a quoted scalar would silently cut the string */
	load_err("a: 1\nb: \"x\\0y\"\n", "2: NUL character in a value");

	/* escapes, multi-line scalars and non-ASCII are data */
	struct cfg *c = load_ok("a: \"tab\\there \\u00e9\"\nb: |\n  line1\n  line2\nc: '\xe2\x82\xac'\n");
	assert_string_equal(cfg_get(c->root, "a")->value, "tab\there \xc3\xa9");
	assert_string_equal(cfg_get(c->root, "b")->value, "line1\nline2\n");
	assert_string_equal(cfg_get(c->root, "c")->value, "\xe2\x82\xac");
	cfg_free(c);
}

/* ---------------------------------------------------------------- lookups */

static void test_get(void **state)
{
	struct cfg *c = mem_ok("a:\n  b:\n    c: 1\n  s: x\nl: [1]\n\"d.e\": 2\n");

	assert_string_equal(cfg_get(c->root, "a.b.c")->value, "1");
	assert_int_equal(cfg_get(c->root, "a.b")->type, CFG_MAP);
	assert_ptr_equal(cfg_get(cfg_get(c->root, "a"), "b.c"), cfg_get(c->root, "a.b.c"));
	assert_null(cfg_get(c->root, "a.b.x"));
	assert_null(cfg_get(c->root, "a.s.x")); /* through a scalar */
	assert_null(cfg_get(c->root, "l.0"));   /* through a list */
	assert_null(cfg_get(c->root, "a."));
	assert_null(cfg_get(c->root, ".a"));
	assert_null(cfg_get(c->root, "a..b"));
	assert_null(cfg_get(c->root, ""));
	assert_null(cfg_get(c->root, NULL));
	assert_null(cfg_get(NULL, "a"));
	assert_null(cfg_get(c->root, "ab"));  /* prefix of nothing */
	assert_null(cfg_get(c->root, "a.bc"));
	assert_null(cfg_get(c->root, "d.e")); /* a dotted key is not reachable by path */
	assert_null(cfg_get(cfg_get(c->root, "l"), "a"));
	cfg_free(c);
}

/* ---------------------------------------------------------------- typed getters */

static const char num_yaml[] =
	"flows:\n"                        /* 1 */
	"  ok: 2048\n"                    /* 2 */
	"  lo: 1024\n"                    /* 3 */
	"  hi: 16777216\n"                /* 4 */
	"  below: 1023\n"                 /* 5 */
	"  above: 16777217\n"             /* 6 */
	"  abc: abc\n"                    /* 7 */
	"  neg: -1\n"                     /* 8 */
	"  hex: 0x400\n"                  /* 9 */
	"  frac: 1024.5\n"                /* 10 */
	"  huge: 18446744073709551616\n"  /* 11: 2^64 */
	"  max64: 18446744073709551615\n" /* 12 */
	"  null:\n"                       /* 13 */
	"  map: {a: 1}\n"                 /* 14 */
	"  seq: [1]\n"                    /* 15 */
	"  space: ' 2048'\n"              /* 16 */
	"  lead0: 0002048\n"              /* 17 */
	"  ctl: \"12\\n34\"\n"            /* 18 */
	"  long: 123456789012345678901234567890123456789012345678901234567890x\n"; /* 19 */

static void uint_err(const struct cfg *c, const char *path, const char *want)
{
	char err[CFG_ERR_MAX];
	uint64_t v = 77;
	assert_int_equal(cfg_uint(c, c->root, path, 1024, 16777216, &v, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_int_equal(v, 77);
}

static void test_uint(void **state)
{
	struct cfg *c = mem_ok(num_yaml);
	const struct cfg_node *fl = cfg_get(c->root, "flows");
	char err[CFG_ERR_MAX];
	uint64_t v = 0;

	assert_int_equal(cfg_uint(c, fl, "ok", 1024, 16777216, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 2048);
	assert_int_equal(cfg_uint(c, fl, "lo", 1024, 16777216, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 1024);
	assert_int_equal(cfg_uint(c, fl, "hi", 1024, 16777216, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 16777216);
	assert_int_equal(cfg_uint(c, fl, "lead0", 1024, 16777216, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 2048);
	assert_int_equal(cfg_uint(c, fl, "max64", 0, UINT64_MAX, &v, err, sizeof(err)), 1);
	assert_true(v == UINT64_MAX);
	v = 5;
	assert_int_equal(cfg_uint(c, fl, "absent", 1024, 16777216, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 5);
	assert_int_equal(cfg_uint(c, NULL, "ok", 1024, 16777216, &v, err, sizeof(err)), 0);

	uint_err(c, "flows.below", "onpath.yaml:5: flows.below: 1023 is out of range (expected 1024..16777216)");
	uint_err(c, "flows.above", "onpath.yaml:6: flows.above: 16777217 is out of range (expected 1024..16777216)");
	uint_err(c, "flows.abc", "onpath.yaml:7: flows.abc: 'abc' is not a number (expected 1024..16777216)");
	uint_err(c, "flows.neg", "onpath.yaml:8: flows.neg: '-1' is not a number (expected 1024..16777216)");
	uint_err(c, "flows.hex", "onpath.yaml:9: flows.hex: '0x400' is not a number (expected 1024..16777216)");
	uint_err(c, "flows.frac", "onpath.yaml:10: flows.frac: '1024.5' is not a number (expected 1024..16777216)");
	uint_err(c, "flows.huge", "onpath.yaml:11: flows.huge: 18446744073709551616 is out of range (expected 1024..16777216)");
	uint_err(c, "flows.null", "onpath.yaml:13: flows.null: no value (expected 1024..16777216)");
	uint_err(c, "flows.map", "onpath.yaml:14: flows.map: expected a number, found a map");
	uint_err(c, "flows.seq", "onpath.yaml:15: flows.seq: expected a number, found a list");
	uint_err(c, "flows.space", "onpath.yaml:16: flows.space: ' 2048' is not a number (expected 1024..16777216)");
	/* control characters are escaped, long values cut */
	uint_err(c, "flows.ctl", "onpath.yaml:18: flows.ctl: '12\\x0a34' is not a number (expected 1024..16777216)");
	uint_err(c, "flows.long", "onpath.yaml:19: flows.long: '123456789012345678901234567890123456789012345678...' is not a number (expected 1024..16777216)");

	/* the message names the full path even when the module was handed the section */
	assert_int_equal(cfg_uint(c, fl, "abc", 1, 2, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:7: flows.abc: 'abc' is not a number (expected 1..2)");
	cfg_free(c);
}

static void test_bool(void **state)
{
	struct cfg *c = mem_ok("t: [true, True, TRUE, yes, Yes, on, ON]\n"
			       "f: [false, FALSE, no, No, off, Off]\n"
			       "bad: [maybe, 1, 0, y, n, '', {a: 1}]\n");
	char err[CFG_ERR_MAX];
	bool b;

	for (const struct cfg_node *n = cfg_get(c->root, "t")->child; n; n = n->next) {
		b = false;
		assert_int_equal(cfg_bool(c, n, NULL, &b, err, sizeof(err)), 1);
		assert_true(b);
	}
	for (const struct cfg_node *n = cfg_get(c->root, "f")->child; n; n = n->next) {
		b = true;
		assert_int_equal(cfg_bool(c, n, "", &b, err, sizeof(err)), 1);
		assert_false(b);
	}
	static const char *const want[] = {
		"onpath.yaml:3: bad[0]: 'maybe' is not a boolean (expected true/false, yes/no or on/off)",
		"onpath.yaml:3: bad[1]: '1' is not a boolean (expected true/false, yes/no or on/off)",
		"onpath.yaml:3: bad[2]: '0' is not a boolean (expected true/false, yes/no or on/off)",
		"onpath.yaml:3: bad[3]: 'y' is not a boolean (expected true/false, yes/no or on/off)",
		"onpath.yaml:3: bad[4]: 'n' is not a boolean (expected true/false, yes/no or on/off)",
		"onpath.yaml:3: bad[5]: '' is not a boolean (expected true/false, yes/no or on/off)",
		"onpath.yaml:3: bad[6]: expected true or false, found a map",
	};
	size_t i = 0;
	for (const struct cfg_node *n = cfg_get(c->root, "bad")->child; n; n = n->next, i++) {
		b = true;
		assert_int_equal(cfg_bool(c, n, NULL, &b, err, sizeof(err)), -1);
		assert_string_equal(err, want[i]);
		assert_true(b);
	}
	assert_int_equal(i, ONPATH_ARRAY_LEN(want));
	assert_int_equal(cfg_bool(c, c->root, "nope", &b, err, sizeof(err)), 0);
	cfg_free(c);
}

static void test_str(void **state)
{
	struct cfg *c = mem_ok("s:\n  plain: hello world\n  quoted: \"1234\"\n  single: 'it''s'\n"
			       "  empty: ''\n  null: ~\n  qnull: \"~\"\n  map: {}\n  seq: []\n");
	const struct cfg_node *s = cfg_get(c->root, "s");
	char err[CFG_ERR_MAX];
	const char *v = NULL;

	assert_int_equal(cfg_str(c, s, "plain", &v, err, sizeof(err)), 1);
	assert_string_equal(v, "hello world");
	assert_ptr_equal(v, cfg_get(s, "plain")->value); /* borrowed */
	assert_int_equal(cfg_str(c, s, "quoted", &v, err, sizeof(err)), 1);
	assert_string_equal(v, "1234");
	assert_int_equal(cfg_str(c, s, "single", &v, err, sizeof(err)), 1);
	assert_string_equal(v, "it's");
	assert_int_equal(cfg_str(c, s, "empty", &v, err, sizeof(err)), 1);
	assert_string_equal(v, "");
	assert_int_equal(cfg_str(c, s, "null", &v, err, sizeof(err)), 1);
	assert_string_equal(v, ""); /* plain null reads as empty */
	assert_int_equal(cfg_str(c, s, "qnull", &v, err, sizeof(err)), 1);
	assert_string_equal(v, "~"); /* quoted is a string */
	v = "keep";
	assert_int_equal(cfg_str(c, s, "absent", &v, err, sizeof(err)), 0);
	assert_string_equal(v, "keep");
	assert_int_equal(cfg_str(c, s, "map", &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:8: s.map: expected a string, found a map");
	assert_int_equal(cfg_str(c, s, "seq", &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:9: s.seq: expected a string, found a list");
	assert_string_equal(v, "keep");
	cfg_free(c);
}

static void test_duration(void **state)
{
	struct cfg *c = mem_ok("d:\n"
			       "  plain: 300\n"    /* 2 */
			       "  s: 300s\n"       /* 3 */
			       "  m: 5m\n"         /* 4 */
			       "  h: 2h\n"         /* 5 */
			       "  d: 1d\n"         /* 6 */
			       "  upper: 2H\n"     /* 7 */
			       "  spaced: 10 m\n"  /* 8 */
			       "  zero: 0s\n"      /* 9 */
			       "  x: 5x\n"         /* 10 */
			       "  unit: m\n"       /* 11 */
			       "  neg: -5m\n"      /* 12 */
			       "  words: 5 mins\n" /* 13 */
			       "  big: 2d\n"       /* 14 */
			       "  small: 59s\n"    /* 15 */
			       "  ovf: 213503982334602d\n"      /* 16: * 86400 > 2^64 */
			       "  ovf2: 99999999999999999999s\n" /* 17 */
			       "  null:\n"         /* 18 */
			       "  map: {}\n");     /* 19 */
	const struct cfg_node *d = cfg_get(c->root, "d");
	char err[CFG_ERR_MAX];
	uint64_t v = 0;
	static const struct {
		const char *key;
		uint64_t want;
	} ok[] = { { "plain", 300 }, { "s", 300 }, { "m", 300 }, { "h", 7200 }, { "d", 86400 },
		   { "upper", 7200 }, { "spaced", 600 } };

	for (size_t i = 0; i < ONPATH_ARRAY_LEN(ok); i++) {
		assert_int_equal(cfg_duration(c, d, ok[i].key, 60, 86400, &v, err, sizeof(err)), 1);
		assert_int_equal(v, ok[i].want);
	}
	assert_int_equal(cfg_duration(c, d, "zero", 0, 86400, &v, err, sizeof(err)), 1);
	assert_int_equal(v, 0);
	/* the largest day count that fits in 64-bit seconds, and one more */
	struct cfg *e = mem_ok("fit: 213503982334601d\nmaxs: 18446744073709551615s\n");
	assert_int_equal(cfg_duration(e, e->root, "fit", 0, UINT64_MAX, &v, err, sizeof(err)), 1);
	assert_true(v == 213503982334601ull * 86400);
	assert_int_equal(cfg_duration(e, e->root, "maxs", 0, UINT64_MAX, &v, err, sizeof(err)), 1);
	assert_true(v == UINT64_MAX);
	cfg_free(e);
	assert_int_equal(cfg_duration(c, d, "ovf", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:16: d.ovf: 213503982334602d is out of range (expected 0s..18446744073709551615s)");

	static const struct {
		const char *key, *want;
	} bad[] = {
		{ "x", "onpath.yaml:10: d.x: '5x' is not a duration (expected 1m..1d, e.g. 300, 300s, 5m, 2h, 1d)" },
		{ "unit", "onpath.yaml:11: d.unit: 'm' is not a duration (expected 1m..1d, e.g. 300, 300s, 5m, 2h, 1d)" },
		{ "neg", "onpath.yaml:12: d.neg: '-5m' is not a duration (expected 1m..1d, e.g. 300, 300s, 5m, 2h, 1d)" },
		{ "words", "onpath.yaml:13: d.words: '5 mins' is not a duration (expected 1m..1d, e.g. 300, 300s, 5m, 2h, 1d)" },
		{ "big", "onpath.yaml:14: d.big: 2d is out of range (expected 1m..1d)" },
		{ "small", "onpath.yaml:15: d.small: 59s is out of range (expected 1m..1d)" },
		{ "zero", "onpath.yaml:9: d.zero: 0s is out of range (expected 1m..1d)" },
		{ "ovf", "onpath.yaml:16: d.ovf: 213503982334602d is out of range (expected 1m..1d)" },
		{ "ovf2", "onpath.yaml:17: d.ovf2: 99999999999999999999s is out of range (expected 1m..1d)" },
		{ "null", "onpath.yaml:18: d.null: no value (expected 1m..1d)" },
		{ "map", "onpath.yaml:19: d.map: expected a duration, found a map" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(bad); i++) {
		v = 9;
		assert_int_equal(cfg_duration(c, d, bad[i].key, 60, 86400, &v, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].want);
		assert_int_equal(v, 9);
	}
	/* ranges that are not whole minutes print in seconds */
	assert_int_equal(cfg_duration(c, d, "small", 90, 3601, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:15: d.small: 59s is out of range (expected 90s..3601s)");
	assert_int_equal(cfg_duration(c, d, "absent", 1, 2, &v, err, sizeof(err)), 0);
	cfg_free(c);
}

static void test_size(void **state)
{
	struct cfg *c = mem_ok("z:\n"
			       "  plain: 65536\n"   /* 2 */
			       "  k: 64k\n"         /* 3 */
			       "  K: 64K\n"         /* 4 */
			       "  kib: 64KiB\n"     /* 5 */
			       "  m: 128M\n"        /* 6 */
			       "  mib: 128MiB\n"    /* 7 */
			       "  g: 1G\n"          /* 8 */
			       "  gib: 1GiB\n"      /* 9 */
			       "  spaced: 2 MiB\n"  /* 10 */
			       "  kb: 64kb\n"       /* 11 */
			       "  t: 1T\n"          /* 12 */
			       "  frac: 1.5G\n"     /* 13 */
			       "  ovf: 17179869184G\n" /* 14: 2^34 GiB = 2^64 */
			       "  small: 1k\n"      /* 15 */
			       "  seq: [1]\n");     /* 16 */
	const struct cfg_node *z = cfg_get(c->root, "z");
	char err[CFG_ERR_MAX];
	uint64_t v = 0;
	static const struct {
		const char *key;
		uint64_t want;
	} ok[] = { { "plain", 65536 },	       { "k", 65536 },	       { "K", 65536 },
		   { "kib", 65536 },	       { "m", 128ull << 20 }, { "mib", 128ull << 20 },
		   { "g", 1ull << 30 },	       { "gib", 1ull << 30 }, { "spaced", 2ull << 20 } };

	for (size_t i = 0; i < ONPATH_ARRAY_LEN(ok); i++) {
		assert_int_equal(cfg_size(c, z, ok[i].key, 65536, 1ull << 31, &v, err, sizeof(err)), 1);
		assert_int_equal(v, ok[i].want);
	}
	/* 2^34 GiB is one past UINT64_MAX: the multiplication is checked, not wrapped */
	struct cfg *e = mem_ok("fit: 17179869183GiB\n");
	assert_int_equal(cfg_size(e, e->root, "fit", 0, UINT64_MAX, &v, err, sizeof(err)), 1);
	assert_true(v == ((1ull << 34) - 1) << 30);
	cfg_free(e);
	assert_int_equal(cfg_size(c, z, "ovf", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:14: z.ovf: 17179869184G is out of range (expected 0..18446744073709551615)");

	static const struct {
		const char *key, *want;
	} bad[] = {
		{ "kb", "onpath.yaml:11: z.kb: '64kb' is not a size (expected 64KiB..2GiB, e.g. 65536, 64k, 64KiB, 128M, 1G)" },
		{ "t", "onpath.yaml:12: z.t: '1T' is not a size (expected 64KiB..2GiB, e.g. 65536, 64k, 64KiB, 128M, 1G)" },
		{ "frac", "onpath.yaml:13: z.frac: '1.5G' is not a size (expected 64KiB..2GiB, e.g. 65536, 64k, 64KiB, 128M, 1G)" },
		{ "ovf", "onpath.yaml:14: z.ovf: 17179869184G is out of range (expected 64KiB..2GiB)" },
		{ "small", "onpath.yaml:15: z.small: 1k is out of range (expected 64KiB..2GiB)" },
		{ "seq", "onpath.yaml:16: z.seq: expected a size, found a list" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(bad); i++) {
		v = 9;
		assert_int_equal(cfg_size(c, z, bad[i].key, 65536, 1ull << 31, &v, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].want);
		assert_int_equal(v, 9);
	}
	/* a range that is not a whole number of KiB prints in bytes */
	assert_int_equal(cfg_size(c, z, "small", 1500, 100000, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:15: z.small: 1k is out of range (expected 1500..100000)");
	cfg_free(c);
}

static void test_check_keys(void **state)
{
	struct cfg *c = mem_ok("flows:\n  max: 1\n  tcp_idel: 5m\nempty:\nlist: [a]\nscalar: 3\n");
	static const char *const known[] = { "max", "tcp_idle", "udp_idle", NULL };
	static const char *const top[] = { "flows", "empty", "list", "scalar", NULL };
	static const char *const none[] = { NULL };
	char err[CFG_ERR_MAX];

	assert_int_equal(cfg_check_keys(c, c->root, "the top level", top, err, sizeof(err)), 0);
	assert_int_equal(cfg_check_keys(c, cfg_get(c->root, "flows"), "flows", known, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:3: unknown key 'tcp_idel' in flows (known: max, tcp_idle, udp_idle)");
	assert_int_equal(cfg_check_keys(c, cfg_get(c->root, "flows"), "flows", none, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:2: unknown key 'max' in flows (known: none)");
	assert_int_equal(cfg_check_keys(c, c->root, "the top level", known, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:1: unknown key 'flows' in the top level (known: max, tcp_idle, udp_idle)");

	/* absent or empty sections are fine; lists and non-empty scalars are not sections */
	assert_int_equal(cfg_check_keys(c, NULL, "x", known, err, sizeof(err)), 0);
	assert_int_equal(cfg_check_keys(c, cfg_get(c->root, "empty"), "empty", known, err, sizeof(err)), 0);
	assert_int_equal(cfg_check_keys(c, cfg_get(c->root, "list"), "list", known, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:5: list: expected a map of settings, found a list");
	assert_int_equal(cfg_check_keys(c, cfg_get(c->root, "scalar"), "scalar", known, err, sizeof(err)), -1);
	assert_string_equal(err, "onpath.yaml:6: scalar: expected a map of settings, found a scalar");
	cfg_free(c);
}

static void test_errf(void **state)
{
	struct cfg *c = mem_ok("a:\n  b: 1\n");
	char err[CFG_ERR_MAX], tiny[12];

	cfg_errf(c, cfg_get(c->root, "a.b"), err, sizeof(err), "bad %s %d", "thing", 7);
	assert_string_equal(err, "onpath.yaml:2: bad thing 7");
	cfg_errf(c, NULL, err, sizeof(err), "whole file");
	assert_string_equal(err, "onpath.yaml: whole file");
	cfg_errf(NULL, NULL, err, sizeof(err), "no config");
	assert_string_equal(err, "config: no config");

	/* truncation is safe and terminated */
	memset(tiny, 'x', sizeof(tiny));
	cfg_errf(c, cfg_get(c->root, "a.b"), tiny, sizeof(tiny), "a long message");
	assert_string_equal(tiny, "onpath.yaml");
	memset(tiny, 'x', sizeof(tiny));
	cfg_errf(c, cfg_get(c->root, "a.b"), tiny, 3, "a long message");
	assert_string_equal(tiny, "on");
	cfg_errf(c, NULL, NULL, 0, "ignored");
	/* getters tolerate a NULL error buffer */
	uint64_t v;
	assert_int_equal(cfg_uint(c, c->root, "a.b", 5, 6, &v, NULL, 0), -1);
	cfg_free(c);

	/* load errors also truncate safely */
	struct cfg *d = NULL;
	assert_int_equal(cfg_load_string("a: *x", 5, "onpath.yaml", &d, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "onpath.yaml");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),     cmocka_unit_test(test_empty),
		cmocka_unit_test(test_missing_file),  cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_duplicate_keys), cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_bad_keys),      cmocka_unit_test(test_depth),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_documents),     cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_get),	      cmocka_unit_test(test_uint),
		cmocka_unit_test(test_bool),	      cmocka_unit_test(test_str),
		cmocka_unit_test(test_duration),      cmocka_unit_test(test_size),
		cmocka_unit_test(test_check_keys),    cmocka_unit_test(test_errf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
