/* fuzzenv.h - where the fuzz targets that load files find them and put theirs. */
#ifndef ONPATH_FUZZ_FUZZENV_H
#define ONPATH_FUZZ_FUZZENV_H

#include <stdlib.h>

#include "sig.h"

/* The real signature files: $ONPATH_SIGDIR, else the source tree's signatures/ (a
 * build), else the installed directory. */
static inline const char *fuzz_sigdir(void)
{
	const char *d = getenv("ONPATH_SIGDIR");
#ifdef SRCSIGDIR
	if (!d || !*d)
		d = SRCSIGDIR;
#endif
	if (!d || !*d)
		d = sig_default_dir();
	return d;
}

/* The directory temporary files go in: $TMPDIR or /tmp. */
static inline const char *fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	return base && *base ? base : "/tmp";
}

#endif
