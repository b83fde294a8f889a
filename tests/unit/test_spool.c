#include "config.h"

/* test_spool.c - the on-disk spool: order and metadata across peek/consume and across
 * runs, the replay position, torn last records at every length, damage in the middle,
 * hostile segment files, the size bound and the drop policy (informational records go
 * first, alerts never; a spool full of alerts refuses and counts), the lock. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "output.h"
#include "tmpdir.h"
#include "spool.h"


static struct spool *open_spool(const char *dir, uint64_t max)
{
	struct spool_cfg cfg = { dir, "sensor-1.redis-test", max, OUT_FSYNC_NEVER, "test" };
	struct spool *s = NULL;
	char err[512];

	if (spool_open(&s, &cfg, err, sizeof(err)) != 0)
		fail_msg("spool_open: %s", err);
	return s;
}

static void seg_name(const char *dir, const char *cls, unsigned seq, char *out, size_t n)
{
	snprintf(out, n, "%s/sensor-1.redis-test.%s.%010u.spool", dir, cls, seq);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return -1;
	return sb.st_size;
}

/* Appends line i as an alert ({"n":i} with id "id-i", action "t.a", severity 1 + i % 10). */
static int put_alert(struct spool *s, unsigned i)
{
	struct out_meta m;
	char line[64];

	memset(&m, 0, sizeof(m));
	m.action = "t.a";
	m.severity = 1 + (int)(i % 10);
	snprintf(m.id, sizeof(m.id), "id-%u", i);
	snprintf(line, sizeof(line), "{\"n\":%u}", i);
	return spool_append(s, OUT_ALERT, 0, &m, line, strlen(line));
}

/* A record of about size bytes, with dataset "dns", numbered i. */
static int put_record(struct spool *s, unsigned i, size_t size)
{
	struct out_meta m;
	char *line = malloc(size + 64);
	int n, rc;

	assert_non_null(line);
	memset(&m, 0, sizeof(m));
	m.dataset = "dns";
	n = snprintf(line, size + 64, "{\"r\":%u,\"pad\":\"", i);
	while ((size_t)n < size)
		line[n++] = 'x';
	line[n++] = '"';
	line[n++] = '}';
	rc = spool_append(s, OUT_RECORD, 0, &m, line, (size_t)n);
	free(line);
	return rc;
}

/* Reads everything back, checking alerts come as {"n":first}..{"n":first+count-1}. */
static void drain_alerts(struct spool *s, unsigned first, unsigned count, size_t batch)
{
	struct spool_rec recs[64];
	unsigned next = first;
	char want[64];
	int n, i;

	assert_true(batch <= 64);
	while ((n = spool_peek(s, recs, batch, 1 << 20)) > 0) {
		for (i = 0; i < n; i++) {
			if (recs[i].kind != OUT_ALERT)
				break;
			snprintf(want, sizeof(want), "{\"n\":%u}", next);
			assert_string_equal(recs[i].line, want);
			assert_int_equal(recs[i].len, strlen(want));
			snprintf(want, sizeof(want), "id-%u", next);
			assert_string_equal(recs[i].meta.id, want);
			assert_string_equal(recs[i].meta.action, "t.a");
			assert_null(recs[i].meta.dataset);
			assert_int_equal(recs[i].meta.severity, 1 + (int)(next % 10));
			next++;
		}
		assert_int_equal(spool_consume(s, (size_t)i, 0), 0);
		if (i < n)
			break;
	}
	assert_true(n >= 0);
	assert_int_equal(next, first + count);
}

/* ---------------------------------------------------------------- tests */

static void test_order_and_meta(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	struct spool_stats st;
	char path[256];
	unsigned i;

	assert_true(spool_empty(s));
	for (i = 0; i < 5000; i++)
		assert_int_equal(put_alert(s, i), 0);
	assert_false(spool_empty(s));
	spool_get_stats(s, &st);
	assert_int_equal(st.alerts, 5000);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.appended, 5000);
	assert_true(st.bytes > 5000 * SPOOL_HDR_LEN);
	drain_alerts(s, 0, 5000, 37);
	assert_true(spool_empty(s));
	spool_get_stats(s, &st);
	assert_int_equal(st.replayed, 5000);
	assert_int_equal(st.bytes, 0);
	/* replayed segments are deleted */
	seg_name(t->dir, "alerts", 1, path, sizeof(path));
	assert_int_equal(file_size(path), -1);
	/* and the spool takes more afterwards */
	assert_int_equal(put_alert(s, 5000), 0);
	drain_alerts(s, 5000, 1, 8);
	spool_close(s);
}

static void test_unconsumed_peek_is_read_again(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	struct spool_rec recs[8];
	unsigned i;

	for (i = 0; i < 10; i++)
		assert_int_equal(put_alert(s, i), 0);
	/* a failed delivery: peek without consume, twice */
	assert_int_equal(spool_peek(s, recs, 8, 1 << 20), 8);
	assert_int_equal(spool_peek(s, recs, 8, 1 << 20), 8);
	assert_string_equal(recs[0].line, "{\"n\":0}");
	/* partial delivery: 3 of 8 */
	assert_int_equal(spool_consume(s, 3, 0), 0);
	/* consuming without a peek, or more than peeked, is refused */
	assert_int_equal(spool_consume(s, 1, 0), -1);
	assert_int_equal(spool_peek(s, recs, 2, 1 << 20), 2);
	assert_int_equal(spool_consume(s, 3, 0), -1);
	assert_int_equal(spool_consume(s, 0, 0), 0);
	drain_alerts(s, 3, 7, 4);
	spool_close(s);
}

static void test_next_run_resumes(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	struct spool_stats st;
	struct spool_rec recs[16];
	unsigned i;

	for (i = 0; i < 100; i++)
		assert_int_equal(put_alert(s, i), 0);
	assert_int_equal(spool_peek(s, recs, 16, 1 << 20), 16);
	assert_int_equal(spool_consume(s, 16, 0), 0);
	spool_close(s);

	/* the next run starts after what was delivered, not from the start */
	s = open_spool(t->dir, 64u << 20);
	spool_get_stats(s, &st);
	assert_int_equal(st.alerts, 84);
	assert_int_equal(st.appended, 0);
	for (i = 100; i < 110; i++)
		assert_int_equal(put_alert(s, i), 0);
	drain_alerts(s, 16, 94, 64);
	spool_close(s);

	s = open_spool(t->dir, 64u << 20);
	assert_true(spool_empty(s));
	spool_close(s);
}

static void test_bad_position_replays_from_start(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	char path[256];
	unsigned i;
	FILE *f;

	for (i = 0; i < 20; i++)
		assert_int_equal(put_alert(s, i), 0);
	spool_close(s);
	/* a position in the middle of a record: at-least-once wins over at-most-once */
	snprintf(path, sizeof(path), "%s/sensor-1.redis-test.alerts.pos", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%020u %020u %020u %08x\n", 1u, 7u, 1u, 0u);
	fclose(f);
	s = open_spool(t->dir, 64u << 20);
	drain_alerts(s, 0, 20, 64);
	spool_close(s);
	/* and garbage in the position file is ignored the same way */
	s = open_spool(t->dir, 64u << 20);
	for (i = 0; i < 5; i++)
		assert_int_equal(put_alert(s, i), 0);
	spool_close(s);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "\x01garbage");
	fclose(f);
	s = open_spool(t->dir, 64u << 20);
	drain_alerts(s, 0, 5, 64);
	spool_close(s);
}

/* A crash while writing the last record, cut at every length: the records before it
 * are all kept, the torn one is skipped and cut off, and appends continue after. */
static void test_torn_last_record_every_length(void **state)
{
	struct tmp *t = *state;
	char path[256];
	off_t full, last;
	unsigned cut;

	seg_name(t->dir, "alerts", 1, path, sizeof(path));
	for (cut = 1;; cut++) {
		struct spool *s = open_spool(t->dir, 64u << 20);
		struct spool_stats st;
		int rc;

		assert_int_equal(put_alert(s, 0), 0);
		assert_int_equal(put_alert(s, 1), 0);
		last = file_size(path);
		assert_int_equal(put_alert(s, 2), 0);
		spool_close(s);
		full = file_size(path);
		if ((off_t)cut >= full - last)
			break;
		assert_int_equal(truncate(path, full - (off_t)cut), 0);

		s = open_spool(t->dir, 64u << 20);
		spool_get_stats(s, &st);
		assert_int_equal(st.alerts, 2);
		assert_int_equal(st.damaged, 1);
		assert_int_equal(file_size(path), last);
		assert_int_equal(put_alert(s, 2), 0);
		drain_alerts(s, 0, 3, 2);
		rc = spool_peek(s, NULL, 0, 0);
		assert_int_equal(rc, 0);
		spool_close(s);
	}
}

/* A damaged record between good ones (a flipped byte, a wrong length): skipped with a
 * message, the next ones kept. */
static void test_damage_in_the_middle(void **state)
{
	struct tmp *t = *state;
	struct spool_rec recs[8];
	struct spool_stats st;
	char path[256];
	off_t a, b;
	struct spool *s;
	unsigned k;
	int fd, n;

	seg_name(t->dir, "alerts", 1, path, sizeof(path));
	for (k = 0; k < 3; k++) {
		/* k = 0: a payload byte, 1: the checksum, 2: the length */
		static const off_t where[] = { SPOOL_HDR_LEN + 12, 20, 8 };
		char c;

		s = open_spool(t->dir, 64u << 20);
		assert_int_equal(put_alert(s, 0), 0);
		a = file_size(path);
		assert_int_equal(put_alert(s, 1), 0);
		b = file_size(path);
		assert_int_equal(put_alert(s, 2), 0);
		spool_close(s);
		assert_true(b > a);

		fd = open(path, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &c, 1, a + where[k]), 1);
		c = c == '7' ? '8' : '7';
		assert_int_equal(pwrite(fd, &c, 1, a + where[k]), 1);
		close(fd);

		s = open_spool(t->dir, 64u << 20);
		spool_get_stats(s, &st);
		assert_int_equal(st.alerts, 2);
		assert_int_equal(st.damaged, 1);
		n = spool_peek(s, recs, 8, 1 << 20);
		assert_int_equal(n, 1);
		assert_string_equal(recs[0].line, "{\"n\":0}");
		assert_int_equal(spool_consume(s, 1, 0), 0);
		n = spool_peek(s, recs, 8, 1 << 20);
		assert_int_equal(n, 1);
		assert_string_equal(recs[0].line, "{\"n\":2}");
		assert_int_equal(spool_consume(s, 1, 0), 0);
		assert_true(spool_empty(s));
		assert_int_equal(spool_peek(s, recs, 8, 1 << 20), 0);
		spool_close(s);
	}
}

/* Files that were never a spool: garbage, a header claiming 16 MB, NULs, a header
 * only. Nothing crashes, nothing bogus is replayed. */
static void test_hostile_segments(void **state)
{
	struct tmp *t = *state;
	static const char *const bodies[] = {
		"hello world\n",
		"@1 A ffffffff 0000000000000000 x\n",
		"@1 A 00ffffff 0000000000000000 x\n",
		"@1 A 00000001 0000000000000000 ",
		"@1 Z 00000001 0000000000000000 x\n",
		"@1 A 0000000g 0000000000000000 x\n",
		"@1 A 00000002 0000000000000000 xx",
		"\n\n\n@1 A 00000001",
		"",
	};
	struct spool_rec recs[4];
	struct spool_stats st;
	char path[256];
	size_t i;

	seg_name(t->dir, "alerts", 7, path, sizeof(path));
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct spool *s;
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(bodies[i], f);
		fputc(0, f);
		fclose(f);
		s = open_spool(t->dir, 64u << 20);
		spool_get_stats(s, &st);
		assert_int_equal(st.alerts, 0);
		assert_int_equal(spool_peek(s, recs, 4, 1 << 20), 0);
		/* a new alert after the junk is still delivered */
		assert_int_equal(put_alert(s, 9), 0);
		drain_alerts(s, 9, 1, 4);
		spool_close(s);
	}
}

/* Records go first, oldest first; alerts are never evicted; a spool full of alerts
 * refuses and counts; the bytes on disk never pass the bound. */
static void test_bound_and_policy(void **state)
{
	struct tmp *t = *state;
	uint64_t max = SPOOL_MIN_BYTES;
	struct spool *s = open_spool(t->dir, max);
	struct spool_rec recs[64];
	struct spool_stats st;
	unsigned i, nrec = 0, nalert = 0, first_rec;
	int n, rc;

	/* fill with records only */
	for (i = 0; i < 2000; i++) {
		assert_int_equal(put_record(s, nrec++, 500), 0);
		spool_get_stats(s, &st);
		assert_true(st.bytes <= max);
	}
	assert_true(st.dropped_records > 0);
	assert_int_equal(st.records + st.dropped_records, 2000);
	assert_int_equal(st.lost_alerts, 0);

	/* alerts push records out, never the other way round */
	for (;;) {
		rc = put_alert(s, nalert);
		spool_get_stats(s, &st);
		assert_true(st.bytes <= max);
		if (rc != 0)
			break;
		nalert++;
	}
	assert_int_equal(rc, 1);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.dropped_records, 2000);
	assert_int_equal(st.alerts, nalert);
	assert_int_equal(st.lost_alerts, 1);
	/* a record does not fit either */
	assert_int_equal(put_record(s, nrec++, 100), 1);
	spool_get_stats(s, &st);
	assert_int_equal(st.dropped_records, 2001);
	assert_int_equal(st.lost_alerts, 1);

	/* every alert kept is there, in order, before anything else */
	drain_alerts(s, 0, nalert, 64);
	assert_true(spool_empty(s));

	/* records alone: the survivors are the newest ones, in order */
	for (i = 0; i < 2000; i++)
		assert_int_equal(put_record(s, nrec++, 500), 0);
	first_rec = nrec - 2000;
	n = spool_peek(s, recs, 64, 1 << 20);
	assert_true(n > 0);
	assert_int_equal(recs[0].kind, OUT_RECORD);
	assert_string_equal(recs[0].meta.dataset, "dns");
	{
		unsigned r0;

		assert_int_equal(sscanf(recs[0].line, "{\"r\":%u", &r0), 1);
		assert_true(r0 > first_rec);
		for (i = 1; i < (unsigned)n; i++) {
			unsigned ri;

			assert_int_equal(sscanf(recs[i].line, "{\"r\":%u", &ri), 1);
			assert_int_equal(ri, r0 + i);
		}
	}
	spool_close(s);
}

static void test_alerts_before_records(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	struct spool_rec recs[8];
	int n;

	assert_int_equal(put_record(s, 0, 10), 0);
	assert_int_equal(put_alert(s, 0), 0);
	assert_int_equal(put_record(s, 1, 10), 0);
	assert_int_equal(put_alert(s, 1), 0);
	n = spool_peek(s, recs, 8, 1 << 20);
	assert_int_equal(n, 2);
	assert_int_equal(recs[0].kind, OUT_ALERT);
	assert_int_equal(recs[1].kind, OUT_ALERT);
	assert_int_equal(spool_consume(s, 2, 0), 0);
	n = spool_peek(s, recs, 8, 1 << 20);
	assert_int_equal(n, 2);
	assert_int_equal(recs[0].kind, OUT_RECORD);
	assert_non_null(strstr(recs[1].line, "\"r\":1"));
	assert_int_equal(spool_consume(s, 2, 0), 0);
	assert_true(spool_empty(s));
	spool_close(s);
}

/* A newline inside a line cannot split a record; odd meta is made one token. */
static void test_newline_and_meta_tokens(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	struct spool_rec recs[2];
	struct out_meta m;

	memset(&m, 0, sizeof(m));
	m.action = "a b\nc";
	strcpy(m.id, "x y");
	m.severity = 77; /* out of range: unknown */
	assert_int_equal(spool_append(s, OUT_INCIDENT, 5, &m, "{\"a\":\n1}", 8), 0);
	assert_int_equal(spool_append(s, OUT_STATS, 0, NULL, "{}", 2), 0);
	spool_close(s);
	s = open_spool(t->dir, 64u << 20);
	assert_int_equal(spool_peek(s, recs, 2, 1 << 20), 1);
	assert_int_equal(recs[0].kind, OUT_INCIDENT);
	assert_int_equal(recs[0].tag, 5);
	assert_string_equal(recs[0].line, "{\"a\": 1}");
	assert_string_equal(recs[0].meta.action, "a_b_c");
	assert_string_equal(recs[0].meta.id, "x_y");
	assert_int_equal(recs[0].meta.severity, 0);
	assert_int_equal(spool_consume(s, 1, 0), 0);
	assert_int_equal(spool_peek(s, recs, 2, 1 << 20), 1);
	assert_int_equal(recs[0].kind, OUT_STATS);
	assert_string_equal(recs[0].line, "{}");
	assert_null(recs[0].meta.action);
	assert_string_equal(recs[0].meta.id, "");
	spool_close(s);
}

/* A line delivered in part keeps only what it is still owed, also across runs. */
static void test_partial_delivery_retag(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 64u << 20);
	struct spool_rec recs[4];
	unsigned i;

	for (i = 0; i < 3; i++)
		assert_int_equal(spool_append(s, OUT_ALERT, 7, NULL, "{}", 2), 0);
	assert_int_equal(spool_peek(s, recs, 4, 1 << 20), 3);
	assert_int_equal(recs[0].tag, 7);
	/* the first went everywhere, the second only in part */
	assert_int_equal(spool_consume(s, 1, 2), 0);
	assert_int_equal(spool_peek(s, recs, 4, 1 << 20), 2);
	assert_int_equal(recs[0].tag, 2);
	assert_int_equal(recs[1].tag, 7);
	/* a retag must leave a record to retag */
	assert_int_equal(spool_consume(s, 2, 1), -1);
	spool_close(s);

	s = open_spool(t->dir, 64u << 20);
	assert_int_equal(spool_peek(s, recs, 4, 1 << 20), 2);
	assert_int_equal(recs[0].tag, 2);
	assert_int_equal(spool_consume(s, 0, 4), 0);
	assert_int_equal(spool_peek(s, recs, 4, 1 << 20), 2);
	assert_int_equal(recs[0].tag, 4);
	assert_int_equal(spool_consume(s, 1, 0), 0);
	assert_int_equal(spool_peek(s, recs, 4, 1 << 20), 1);
	assert_int_equal(recs[0].tag, 7);
	assert_int_equal(spool_consume(s, 1, 0), 0);
	assert_true(spool_empty(s));
	spool_close(s);
}

static void test_one_owner(void **state)
{
	struct tmp *t = *state;
	struct spool_cfg cfg = { t->dir, "sensor-1.redis-test", 1 << 20, OUT_FSYNC_BATCH, "test" };
	struct spool *a = open_spool(t->dir, 1 << 20), *b = NULL;
	char err[512];

	assert_int_equal(spool_open(&b, &cfg, err, sizeof(err)), -1);
	assert_null(b);
	assert_non_null(strstr(err, "in use"));
	spool_close(a);
	assert_int_equal(spool_open(&b, &cfg, err, sizeof(err)), 0);
	assert_int_equal(put_alert(b, 0), 0);
	assert_int_equal(spool_sync(b), 0);
	spool_close(b);
}

static void test_open_errors(void **state)
{
	struct tmp *t = *state;
	struct spool_cfg cfg = { "", "x", 1 << 20, OUT_FSYNC_NEVER, "test" };
	struct spool *s = NULL;
	char err[512], dir[128];
	FILE *f;

	assert_int_equal(spool_open(&s, &cfg, err, sizeof(err)), -1);
	cfg.dir = t->dir;
	cfg.name = "";
	assert_int_equal(spool_open(&s, &cfg, err, sizeof(err)), -1);
	/* the directory is a file */
	snprintf(dir, sizeof(dir), "%s/file", t->dir);
	f = fopen(dir, "w");
	assert_non_null(f);
	fclose(f);
	cfg.dir = dir;
	cfg.name = "x";
	assert_int_equal(spool_open(&s, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, dir));
	/* a missing directory is created, names are made safe */
	snprintf(dir, sizeof(dir), "%s/a/b", t->dir);
	cfg.dir = dir;
	cfg.name = "../evil name";
	assert_int_equal(spool_open(&s, &cfg, err, sizeof(err)), 0);
	assert_int_equal(put_alert(s, 0), 0);
	assert_non_null(strstr(spool_base(s), "/a/b/_._evil_name"));
	spool_close(s);
}

/* Segments rotate at max/16 and are deleted one by one as they are replayed. */
static void test_segments_rotate(void **state)
{
	struct tmp *t = *state;
	struct spool *s = open_spool(t->dir, 16u << 20);
	struct spool_stats st;
	char path[256];
	unsigned i;

	for (i = 0; i < 30000; i++)
		assert_int_equal(put_alert(s, i), 0);
	seg_name(t->dir, "alerts", 2, path, sizeof(path));
	assert_true(file_size(path) > 0);
	seg_name(t->dir, "alerts", 1, path, sizeof(path));
	assert_true(file_size(path) >= (off_t)((16u << 20) / SPOOL_SEGMENT_DIV));
	spool_close(s);
	s = open_spool(t->dir, 16u << 20);
	drain_alerts(s, 0, 30000, 64);
	spool_get_stats(s, &st);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(file_size(path), -1);
	spool_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_meta, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_unconsumed_peek_is_read_again, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_next_run_resumes, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bad_position_replays_from_start, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_record_every_length, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_damage_in_the_middle, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_segments, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bound_and_policy, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_alerts_before_records, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_newline_and_meta_tokens, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_partial_delivery_retag, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_one_owner, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_segments_rotate, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
