/* sig.h - reading signature data files (the CSV files in signatures/).
 *
 * Format (documented in signatures/README.md): UTF-8 text, '#' comment lines first
 * (source, licence, updated), then one header line naming the columns, then one record
 * per line, fields separated by ',' (no quoting: no field may contain a comma).
 * Errors are "file:line: why".
 */
#ifndef ONPATH_SIG_H
#define ONPATH_SIG_H

#include <stddef.h>

#define SIG_MAX_LINE 2048
#define SIG_MAX_COLS 16

/* Called per record with its fields (NUL-terminated, trimmed; borrowed for the call).
 * Return 0 to go on, -1 to stop with err filled (use sig_errf for the position). */
typedef int (*sig_record_fn)(void *ud, const char *file, int line, char **cols, int ncols,
			     char *err, size_t errlen);

/* Reads dir/name. min_cols: records with fewer columns are an error. Returns the number
 * of records, or -1 with err filled. */
int sig_csv_load(const char *dir, const char *name, int min_cols, sig_record_fn fn, void *ud,
		 char *err, size_t errlen);

void sig_errf(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The signatures directory to use: the configured one, else $ONPATH_SIGDIR, else the
 * installed one, else the source tree's (running from a build directory). */
const char *sig_default_dir(void);

#endif
