/* cfg.h - the YAML configuration (libyaml) as a tree with line numbers, and typed
 * accessors whose errors name the file and line ("onpath.yaml:12: flows.max: must be
 * a number between 1024 and 16777216").
 *
 * Each module reads its own section and rejects keys it does not know, so a typo is an
 * error at --check-config time, not a silently ignored setting.
 */
#ifndef ONPATH_CFG_H
#define ONPATH_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cfg_type { CFG_SCALAR = 0, CFG_MAP, CFG_SEQ };

struct cfg_node {
	enum cfg_type type;
	char *key;              /* member name inside a map, else NULL */
	char *value;            /* scalar text, else NULL */
	int line;               /* 1-based line of the node in the file */
	struct cfg_node *child; /* first member / element */
	struct cfg_node *next;  /* next sibling */
};

struct cfg {
	char *path;             /* file name used in messages */
	struct cfg_node *root;  /* NULL for an empty document */
};

#define CFG_ERR_MAX 512
#define CFG_MAX_DEPTH 32
#define CFG_MAX_NODES 100000

/* Loads a file (or text, named name in messages). Returns 0, or -1 with err
 * "file:line: why". */
int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen);
int cfg_load_string(const char *text, size_t len, const char *name, struct cfg **out,
		    char *err, size_t errlen);
void cfg_free(struct cfg *c);

/* Child of a map by name (NULL if n is not a map or has no such member). A dotted path
 * ("flows.max") walks nested maps. */
const struct cfg_node *cfg_get(const struct cfg_node *n, const char *path);

/* Typed getters: return 0 when absent (*v unchanged), 1 when set, -1 on a bad value
 * (err filled with "file:line: path: why"). */
int cfg_uint(const struct cfg *c, const struct cfg_node *sec, const char *path, uint64_t min,
	     uint64_t max, uint64_t *v, char *err, size_t errlen);
int cfg_bool(const struct cfg *c, const struct cfg_node *sec, const char *path, bool *v,
	     char *err, size_t errlen);
/* Borrowed string (valid while c lives). */
int cfg_str(const struct cfg *c, const struct cfg_node *sec, const char *path, const char **v,
	    char *err, size_t errlen);
/* Durations: "300", "300s", "5m", "2h", "1d" -> seconds. */
int cfg_duration(const struct cfg *c, const struct cfg_node *sec, const char *path,
		 uint64_t min_s, uint64_t max_s, uint64_t *v, char *err, size_t errlen);
/* Sizes: "64", "64k", "64KiB", "128M", "1G" -> bytes. */
int cfg_size(const struct cfg *c, const struct cfg_node *sec, const char *path, uint64_t min,
	     uint64_t max, uint64_t *v, char *err, size_t errlen);

/* Fails with "file:line: unknown key 'x' in section (known: a, b, c)" when the map sec
 * has a member not in the NULL-terminated list. sec may be NULL (absent). */
int cfg_check_keys(const struct cfg *c, const struct cfg_node *sec, const char *section,
		   const char *const *known, char *err, size_t errlen);

/* Formats "file:line: " + message into err. */
void cfg_errf(const struct cfg *c, const struct cfg_node *n, char *err, size_t errlen,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
