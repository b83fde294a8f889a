/* sig.c - signature data files (see sig.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sig.h"

#ifndef SIGDIR
#define SIGDIR "/usr/share/onpath/signatures"
#endif

void sig_errf(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

enum { LINE_OK, LINE_EOF, LINE_LONG, LINE_NUL };

/* Reads one line into buf (SIG_MAX_LINE + 1 bytes) without its '\n', NUL-terminated;
 * the last line may lack the '\n'. fgets() cannot tell a NUL byte from the end of the
 * line (the rest of such a line was taken for the next one, or dropped at the end of
 * the file), so the bytes are read one by one (unlocked: the stream is this call's
 * alone; a locked getc() per byte nearly doubled the cost of reading the signature files:
 * 9 M instructions at start-up, 4.8 M unlocked). */
static int read_line(FILE *f, char *buf)
{
	size_t n = 0;
	int ch;
	while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			return LINE_NUL;
		if (n == SIG_MAX_LINE)
			return LINE_LONG;
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	if (ch == EOF && ferror(f))
		return LINE_EOF; /* the caller reports the read error, not half a line */
	return ch == EOF && n == 0 ? LINE_EOF : LINE_OK;
}

int sig_csv_load(const char *dir, const char *name, int min_cols, sig_record_fn fn, void *ud,
		 char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char buf[SIG_MAX_LINE + 1];
	int line = 0, records = 0, header = 0, rc = 0, got;
	while ((got = read_line(f, buf)) != LINE_EOF) {
		line++;
		if (got == LINE_LONG) {
			sig_errf(err, errlen, path, line, "line longer than %d bytes", SIG_MAX_LINE);
			rc = -1;
			break;
		}
		if (got == LINE_NUL) {
			sig_errf(err, errlen, path, line, "NUL byte in line");
			rc = -1;
			break;
		}
		char *s = trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		char *cols[SIG_MAX_COLS];
		int nc = 0;
		for (char *tok = s;;) {
			char *comma = strchr(tok, ',');
			if (comma)
				*comma = '\0';
			if (nc == SIG_MAX_COLS) {
				sig_errf(err, errlen, path, line, "more than %d columns", SIG_MAX_COLS);
				rc = -1;
				goto out;
			}
			cols[nc++] = trim(tok);
			if (!comma)
				break;
			tok = comma + 1;
		}
		if (!header) {
			header = 1; /* column names */
			continue;
		}
		if (nc < min_cols) {
			sig_errf(err, errlen, path, line, "%d columns, expected at least %d", nc, min_cols);
			rc = -1;
			break;
		}
		if (fn(ud, path, line, cols, nc, err, errlen) < 0) {
			rc = -1;
			break;
		}
		records++;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
out:
	fclose(f);
	return rc < 0 ? -1 : records;
}

static int is_dir(const char *p)
{
	struct stat st;
	return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sig_default_dir(void)
{
	const char *env = getenv("ONPATH_SIGDIR");
	if (is_dir(env))
		return env;
	if (is_dir(SIGDIR))
		return SIGDIR;
#ifdef SRCSIGDIR
	if (is_dir(SRCSIGDIR))
		return SRCSIGDIR;
#endif
	return SIGDIR;
}
