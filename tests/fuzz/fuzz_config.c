/* fuzz_config.c - fuzz target for the YAML configuration loader and its accessors
 * (monitor/config.c): load the input as a config, then call every getter on every node
 * with a few paths, checking that messages are bounded and name the file. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz.yaml"

/* A message must be terminated inside the buffer and start with the file name. */
static void check_msg(const char *err)
{
	if (!memchr(err, '\0', CFG_ERR_MAX))
		abort();
	if (strncmp(err, FUZZ_NAME, strlen(FUZZ_NAME)) != 0)
		abort();
}

static void check_rc(int rc, const char *err)
{
	if (rc < -1 || rc > 1)
		abort();
	if (rc < 0)
		check_msg(err);
}

static const char *const paths[] = { NULL, "", "a", "a.b", "max", "flows.max", "x.y.z", ".", "a..b" };
static const char *const known[] = { "a", "max", "flows", "interface", NULL };

static void probe(const struct cfg *c, const struct cfg_node *n, const char *path)
{
	char err[CFG_ERR_MAX];
	uint64_t u = 0;
	bool b = false;
	const char *s = NULL;
	int rc;

	err[0] = '\0';
	rc = cfg_uint(c, n, path, 1024, 16777216, &u, err, sizeof(err));
	check_rc(rc, err);
	if (rc == 1 && (u < 1024 || u > 16777216))
		abort();
	rc = cfg_uint(c, n, path, 0, UINT64_MAX, &u, err, sizeof(err));
	check_rc(rc, err);
	rc = cfg_bool(c, n, path, &b, err, sizeof(err));
	check_rc(rc, err);
	rc = cfg_str(c, n, path, &s, err, sizeof(err));
	check_rc(rc, err);
	if (rc == 1 && !s)
		abort();
	rc = cfg_duration(c, n, path, 60, 86400, &u, err, sizeof(err));
	check_rc(rc, err);
	if (rc == 1 && (u < 60 || u > 86400))
		abort();
	rc = cfg_duration(c, n, path, 0, UINT64_MAX, &u, err, sizeof(err));
	check_rc(rc, err);
	rc = cfg_size(c, n, path, 512, 1ull << 36, &u, err, sizeof(err));
	check_rc(rc, err);
	if (rc == 1 && (u < 512 || u > 1ull << 36))
		abort();
	rc = cfg_size(c, n, path, 0, UINT64_MAX, &u, err, sizeof(err));
	check_rc(rc, err);
	/* a small buffer exercises truncation */
	char tiny[8];
	(void)cfg_uint(c, n, path, 5, 6, &u, tiny, sizeof(tiny));
	if (!memchr(tiny, '\0', sizeof(tiny)) && cfg_get(n, path))
		abort();
}

static void walk(const struct cfg *c, const struct cfg_node *n, int depth)
{
	char err[CFG_ERR_MAX];

	/* CFG_MAX_DEPTH containers and the scalars inside the deepest one */
	if (n && depth > CFG_MAX_DEPTH + 1)
		abort(); /* the loader must have refused this */
	for (; n; n = n->next) {
		if ((n->type == CFG_SCALAR) != (n->value != NULL) || n->line < 1)
			abort();
		if (n->type == CFG_SCALAR && n->child)
			abort();
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			probe(c, n, paths[i]);
			(void)cfg_get(n, paths[i]);
		}
		if (n->key)
			probe(c, n, n->key); /* keys as paths: dots, empty, odd bytes */
		check_rc(cfg_check_keys(c, n, "section", known, err, sizeof(err)), err);
		check_rc(cfg_check_keys(c, n, NULL, known, err, sizeof(err)), err);
		cfg_errf(c, n, err, sizeof(err), "probe %d", n->line);
		check_msg(err);
		walk(c, n->child, depth + 1);
	}
}

/* Checks that every map member can be found by cfg_get under its key, and that keys are
 * unique within a map (the loader promises both). */
static void check_keys(const struct cfg_node *n)
{
	for (; n; n = n->next) {
		if (n->type == CFG_MAP) {
			for (const struct cfg_node *m = n->child; m; m = m->next) {
				if (!m->key)
					abort();
				for (const struct cfg_node *o = m->next; o; o = o->next)
					if (strcmp(m->key, o->key) == 0)
						abort();
				if (!strchr(m->key, '.') && m->key[0] && cfg_get(n, m->key) != m)
					abort();
			}
		} else {
			for (const struct cfg_node *m = n->child; m; m = m->next)
				if (m->key)
					abort();
		}
		check_keys(n->child);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c = NULL;
	char err[CFG_ERR_MAX];

	memset(err, 'x', sizeof(err));
	if (cfg_load_string((const char *)data, size, FUZZ_NAME, &c, err, sizeof(err)) < 0) {
		if (c)
			abort();
		check_msg(err);
		return 0;
	}
	if (!c)
		abort();
	if (c->root) {
		walk(c, c->root, 1);
		check_keys(c->root);
	}
	check_rc(cfg_check_keys(c, c->root, "the top level", known, err, sizeof(err)), err);
	cfg_free(c);
	return 0;
}
