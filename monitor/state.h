/* state.h - the state file: every detector's baseline in one JSON document, written
 * atomically (temp file in the same directory, fsync, rename) so a crash leaves either
 * the old or the new file, never half of one; read at start so a restart does not
 * re-learn (and a restart during an attack does not learn the attacker as normal). */
#ifndef ONPATH_STATE_H
#define ONPATH_STATE_H

#include <stddef.h>

#include <jansson.h>

#define STATE_MAX_BYTES (256u * 1024u * 1024u)

/* Reads path. A missing file is not an error: *out = NULL (cold start). A file that
 * is not a JSON object is: err names the file, line and column. */
int state_read(const char *path, json_t **out, char *err, size_t errlen);
/* Writes root to path atomically (mode 0600). Returns 0 or -1 with err filled. */
int state_write(const char *path, const json_t *root, char *err, size_t errlen);

#endif
