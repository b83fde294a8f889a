/* test_sig.c - unit tests for the signature CSV reader (monitor/sig.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "sig.h"
#include "tmpdir.h"

#define MAX_ROWS 8

/* What the callback saw: the fields of each record joined by '|', its line. */
struct seen {
	int n;
	int line[MAX_ROWS];
	char row[MAX_ROWS][128];
	int stop_at; /* a record on this line makes the callback refuse (0: never) */
};

static int row(void *ud, const char *file, int line, char **cols, int ncols, char *err,
	       size_t errlen)
{
	struct seen *s = ud;
	if (line == s->stop_at) {
		sig_errf(err, errlen, file, line, "refused '%s'", cols[0]);
		return -1;
	}
	if (s->n == MAX_ROWS)
		return 0;
	s->line[s->n] = line;
	char *o = s->row[s->n];
	o[0] = '\0';
	for (int i = 0; i < ncols; i++) {
		if (i)
			strncat(o, "|", sizeof(s->row[0]) - strlen(o) - 1);
		strncat(o, cols[i], sizeof(s->row[0]) - strlen(o) - 1);
	}
	s->n++;
	return 0;
}

static void put(const struct tmp *t, const char *name, const void *data, size_t len)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", t->dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

#define PUT(t, name, lit) put(t, name, lit, sizeof(lit) - 1)

/* Loads name with min_cols 2; returns sig_csv_load's result, err and seen filled. */
static int load(const struct tmp *t, const char *name, struct seen *s, char *err, size_t errlen)
{
	err[0] = '\0';
	return sig_csv_load(t->dir, name, 2, row, s, err, errlen);
}

/* err is "<dir>/<name>:<want>" */
static void assert_err(const struct tmp *t, const char *name, const char *err, const char *want)
{
	char full[256];
	snprintf(full, sizeof(full), "%s/%s:%s", t->dir, name, want);
	assert_string_equal(err, full);
}

static void test_good(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256];
	/* comments, a blank line, the header, records with spaces, tabs and CRLF, a
	 * comment between records, empty fields, the last line without its newline */
	PUT(t, "a.csv", "# source: test\n"
			"# licence: CC0\n"
			"\n"
			"name,value,note\n"
			" alpha , 1 ,x\r\n"
			"\tbeta,2\n"
			"  # not a record\n"
			",,\n"
			"gamma,3,last");
	assert_int_equal(load(t, "a.csv", &s, err, sizeof(err)), 4);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.row[0], "alpha|1|x");
	assert_int_equal(s.line[0], 5);
	assert_string_equal(s.row[1], "beta|2");
	assert_int_equal(s.line[1], 6);
	assert_string_equal(s.row[2], "||");
	assert_int_equal(s.line[2], 8);
	assert_string_equal(s.row[3], "gamma|3|last");
	assert_int_equal(s.line[3], 9);
}

static void test_empty(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256];
	PUT(t, "empty.csv", "");
	assert_int_equal(load(t, "empty.csv", &s, err, sizeof(err)), 0);
	PUT(t, "hdr.csv", "# only a header\nname,value\n");
	assert_int_equal(load(t, "hdr.csv", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
}

static void test_missing(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256], want[256];
	assert_int_equal(load(t, "nope.csv", &s, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/nope.csv: No such file or directory", t->dir);
	assert_string_equal(err, want);
}

static void test_directory(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256], p[128], want[256];
	snprintf(p, sizeof(p), "%s/d.csv", t->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(load(t, "d.csv", &s, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/d.csv: read error", t->dir);
	assert_string_equal(err, want);
}

/* A NUL byte is refused on its own line; fgets() used to cut the line there and
 * report it as too long (or, on the last line, drop the rest silently). */
static void test_nul(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256];
	PUT(t, "n.csv", "name,value\na\0b,c\nd,e\n");
	assert_int_equal(load(t, "n.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "n.csv", err, "2: NUL byte in line");
	assert_int_equal(s.n, 0);

	PUT(t, "n2.csv", "name,value\nx,y\0zzz");
	assert_int_equal(load(t, "n2.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "n2.csv", err, "2: NUL byte in line");
	assert_int_equal(s.n, 0);

	PUT(t, "n3.csv", "# a comment\0 too\nname,value\n");
	assert_int_equal(load(t, "n3.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "n3.csv", err, "1: NUL byte in line");
}

static void test_long_line(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256];
	static char buf[3 * SIG_MAX_LINE];
	/* exactly SIG_MAX_LINE bytes (newline not counted), with and without a newline */
	size_t o = 0;
	o += (size_t)sprintf(buf, "name,value\na,");
	memset(buf + o, 'b', SIG_MAX_LINE - 2);
	o += SIG_MAX_LINE - 2;
	put(t, "max-last.csv", buf, o);
	assert_int_equal(load(t, "max-last.csv", &s, err, sizeof(err)), 1);
	buf[o++] = '\n';
	put(t, "max.csv", buf, o);
	assert_int_equal(load(t, "max.csv", &s, err, sizeof(err)), 1);
	assert_int_equal(s.n, 2);
	/* one byte more, before a newline, before a CRLF, and at the end of the file */
	o--;
	buf[o++] = 'b';
	put(t, "long-last.csv", buf, o);
	assert_int_equal(load(t, "long-last.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "long-last.csv", err, "2: line longer than 2048 bytes");
	buf[o - 1] = '\r';
	buf[o++] = '\n';
	memcpy(buf + o, "c,d\n", 4);
	put(t, "long-crlf.csv", buf, o + 4);
	assert_int_equal(load(t, "long-crlf.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "long-crlf.csv", err, "2: line longer than 2048 bytes");
	buf[o - 2] = 'b';
	buf[o - 1] = '\n';
	put(t, "long.csv", buf, o + 4);
	assert_int_equal(load(t, "long.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "long.csv", err, "2: line longer than 2048 bytes");
	assert_int_equal(s.n, 2); /* from the two files that loaded */
}

static void test_columns(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[256];
	PUT(t, "16.csv", "h\na,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n");
	assert_int_equal(load(t, "16.csv", &s, err, sizeof(err)), 1);
	assert_string_equal(s.row[0], "a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p");
	PUT(t, "17.csv", "h\na,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n");
	assert_int_equal(load(t, "17.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "17.csv", err, "2: more than 16 columns");
	/* the header counts too */
	PUT(t, "17h.csv", ",,,,,,,,,,,,,,,,\n");
	assert_int_equal(load(t, "17h.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "17h.csv", err, "1: more than 16 columns");
	PUT(t, "1.csv", "name,value\na,b\nonly\n");
	assert_int_equal(load(t, "1.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "1.csv", err, "3: 1 columns, expected at least 2");
}

static void test_callback_stops(void **state)
{
	struct tmp *t = *state;
	struct seen s = { .stop_at = 3 };
	char err[256];
	PUT(t, "s.csv", "name,value\na,1\nb,2\nc,3\n");
	assert_int_equal(load(t, "s.csv", &s, err, sizeof(err)), -1);
	assert_err(t, "s.csv", err, "3: refused 'b'");
	assert_int_equal(s.n, 1);
}

/* A message longer than the buffer is cut, still terminated. */
static void test_short_err(void **state)
{
	struct tmp *t = *state;
	struct seen s = { 0 };
	char err[12];
	memset(err, 'x', sizeof(err));
	PUT(t, "e.csv", "name,value\nonly\n");
	assert_int_equal(load(t, "e.csv", &s, err, sizeof(err)), -1);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	assert_int_equal(strncmp(err, t->dir, sizeof(err) - 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_empty, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_missing, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_directory, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_nul, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_long_line, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_columns, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_callback_stops, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_short_err, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
