#include "config.h"

/* test_output.c - the output queue and thread, and the jsonl output: order across
 * many lines and several producers, offline never drops, live drops and counts when
 * the thread is stalled, sync, logrotate's rename + reopen, spec errors. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
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
#include "util.h"

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/onpath-test-output-XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/alerts.jsonl", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static int submit_str(struct out_mgr *m, const char *s)
{
	return out_mgr_submit(m, OUT_ALERT, xstrdup(s), strlen(s));
}

/* Whole file content (caller frees), NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static struct out_mgr *jsonl_mgr(const char *path, size_t cap, bool live)
{
	struct out_mgr *m = out_mgr_new(cap, live);
	char spec[256], err[256];

	assert_non_null(m);
	snprintf(spec, sizeof(spec), "jsonl:%s", path);
	if (out_mgr_add(m, spec, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(out_mgr_count(m), 1);
	return m;
}

/* Checks the file holds exactly {"n":0} .. {"n":count-1}, one per line, in order. */
static void check_sequence(const char *path, unsigned count)
{
	char *buf = slurp(path, NULL), *p = buf, want[32];
	unsigned i;

	for (i = 0; i < count; i++) {
		int n = snprintf(want, sizeof(want), "{\"n\":%u}\n", i);

		if (strncmp(p, want, (size_t)n) != 0)
			fail_msg("line %u: expected %s", i, want);
		p += n;
	}
	assert_string_equal(p, "");
	free(buf);
}

static void test_order_100k(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = jsonl_mgr(t->path, 1024, false);
	struct out_stats st;
	char line[32];
	unsigned i;

	assert_int_equal(out_mgr_start(m), 0);
	for (i = 0; i < 100000; i++) {
		snprintf(line, sizeof(line), "{\"n\":%u}", i);
		assert_int_equal(submit_str(m, line), 0);
	}
	out_mgr_sync(m);
	/* sync means on disk, before free */
	check_sequence(t->path, 100000);
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.submitted, 100000);
	assert_int_equal(st.written, 100000);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.depth, 0);
	assert_true(st.peak_depth >= 1 && st.peak_depth <= 1024);
	out_mgr_free(m);
	check_sequence(t->path, 100000);
}

static void test_offline_tiny_queue_never_drops(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = jsonl_mgr(t->path, 2, false);
	struct out_stats st;
	char line[32];
	unsigned i;

	assert_int_equal(out_mgr_start(m), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(line, sizeof(line), "{\"n\":%u}", i);
		assert_int_equal(submit_str(m, line), 0);
	}
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.dropped, 0);
	assert_true(st.peak_depth <= 2);
	out_mgr_free(m);
	check_sequence(t->path, 20000);
}

/* Several producers: each one's lines stay in its own order, none is lost. */
struct producer {
	struct out_mgr *m;
	unsigned id, count;
	bool live;          /* a refused line is a drop (live manager), not an error */
	bool pause;         /* yield after each line */
	uint64_t accepted;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	char line[48];
	unsigned i;

	p->accepted = 0;
	for (i = 0; i < p->count; i++) {
		snprintf(line, sizeof(line), "{\"p\":%u,\"n\":%u}", p->id, i);
		if (out_mgr_submit(p->m, OUT_RECORD, strdup(line), strlen(line)) == 0)
			p->accepted++;
		else if (!p->live)
			return (void *)1;
		if (p->pause && i % 4 == 0)
			usleep(1);
	}
	return NULL;
}

static void test_many_producers(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = jsonl_mgr(t->path, 64, false);
	struct producer p[4];
	pthread_t th[4];
	unsigned next[4] = { 0 }, pid, n, lines = 0, i;
	char *buf, *line, *save = NULL;
	void *rv;

	assert_int_equal(out_mgr_start(m), 0);
	for (i = 0; i < 4; i++) {
		p[i].m = m;
		p[i].id = i;
		p[i].count = 10000;
		p[i].live = p[i].pause = false;
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
	out_mgr_free(m);

	buf = slurp(t->path, NULL);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(sscanf(line, "{\"p\":%u,\"n\":%u}", &pid, &n), 2);
		assert_true(pid < 4);
		assert_int_equal(n, next[pid]);
		next[pid]++;
		lines++;
	}
	assert_int_equal(lines, 40000);
	free(buf);
}

/* Live producers against a slow output: the ring fills and empties many times. Every
 * line is either written or counted as dropped, each producer's written lines keep
 * its order, and no producer ever waits (they drop instead). */
struct slow {
	unsigned next[4], lines;
	bool order_ok;
};

static struct slow slow;

static int slow_open(struct output *o, const char *arg, char *err, size_t errlen)
{
	o->priv = &slow;
	return 0;
}

static int slow_write(struct output *o, enum out_kind kind, const char *line, size_t len)
{
	struct slow *sl = o->priv;
	unsigned pid, n;

	if (sscanf(line, "{\"p\":%u,\"n\":%u}", &pid, &n) != 2 || pid >= 4 || n < sl->next[pid])
		sl->order_ok = false;
	else
		sl->next[pid] = n + 1;
	sl->lines++;
	if (sl->lines % 64 == 0)
		usleep(50); /* slower than the producers: the ring overflows */
	return 0;
}

static const struct output_ops slow_ops = {
	.scheme = "slow",
	.open = slow_open,
	.write = slow_write,
};

static void test_live_many_producers_account_for_every_line(void **state)
{
	struct out_mgr *m = out_mgr_new(16, true);
	struct producer p[4];
	pthread_t th[4];
	struct out_stats st;
	char err[128];
	unsigned i;
	void *rv;
	uint64_t ok = 0;

	assert_non_null(m);
	memset(&slow, 0, sizeof(slow));
	slow.order_ok = true;
	assert_int_equal(out_mgr_add_ops(m, &slow_ops, "", err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(m), 0);
	for (i = 0; i < 4; i++) {
		p[i].m = m;
		p[i].id = i;
		p[i].count = 20000;
		p[i].live = true;
		p[i].pause = false;
		p[i].accepted = 0;
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
		ok += p[i].accepted;
	}
	out_mgr_sync(m);
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.submitted, 80000);
	assert_int_equal(st.written, ok);
	assert_int_equal(st.written + st.dropped, 80000);
	assert_true(st.dropped > 0); /* the test did overflow the ring */
	assert_true(st.peak_depth <= 16);
	assert_int_equal(st.depth, 0);
	assert_int_equal(slow.lines, ok);
	assert_true(slow.order_ok);
	out_mgr_free(m);
}

/* Producers that submit one line at a time with pauses: the output thread goes to
 * sleep and is woken again thousands of times. A lost wake-up leaves a line in the
 * ring and out_mgr_sync waiting forever; the alarm turns that into a failure. */
static void test_sleep_and_wake(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = jsonl_mgr(t->path, 1024, false);
	struct producer p[4];
	pthread_t th[4];
	struct out_stats st;
	unsigned i;
	void *rv;

	alarm(120);
	assert_int_equal(out_mgr_start(m), 0);
	for (i = 0; i < 4; i++) {
		p[i].m = m;
		p[i].id = i;
		p[i].count = 5000;
		p[i].pause = true;
		p[i].live = false;
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
	out_mgr_sync(m);
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.written, 20000);
	assert_int_equal(st.depth, 0);
	alarm(0);
	out_mgr_free(m);
}

/* An output whose write blocks until the test lets it go: stalls the thread. */
struct gate {
	sem_t entered, open;
	char *seen[64];
	unsigned nseen;
};

static struct gate gate;

static int gate_open(struct output *o, const char *arg, char *err, size_t errlen)
{
	o->priv = &gate;
	return 0;
}

static int gate_write(struct output *o, enum out_kind kind, const char *line, size_t len)
{
	struct gate *g = o->priv;

	sem_post(&g->entered);
	while (sem_wait(&g->open) != 0 && errno == EINTR)
		;
	if (g->nseen < ONPATH_ARRAY_LEN(g->seen))
		g->seen[g->nseen++] = strndup(line, len);
	return 0;
}

static int gate_flush(struct output *o)
{
	return 0;
}

static void gate_close(struct output *o)
{
	struct gate *g = o->priv;
	unsigned i;

	for (i = 0; i < g->nseen; i++)
		free(g->seen[i]);
	g->nseen = 0;
}

static const struct output_ops gate_ops = {
	.scheme = "gate",
	.open = gate_open,
	.write = gate_write,
	.flush = gate_flush,
	.close = gate_close,
};

static void test_live_drops_when_stalled(void **state)
{
	struct out_mgr *m = out_mgr_new(4, true);
	struct out_stats st;
	char err[128], line[16];
	unsigned i;

	assert_non_null(m);
	assert_int_equal(sem_init(&gate.entered, 0, 0), 0);
	assert_int_equal(sem_init(&gate.open, 0, 0), 0);
	gate.nseen = 0;
	assert_int_equal(out_mgr_add_ops(m, &gate_ops, "", err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(m), 0);

	/* line 0 is taken by the thread, which then blocks in write */
	assert_int_equal(submit_str(m, "0"), 0);
	assert_int_equal(sem_wait(&gate.entered), 0);
	/* 1..4 fill the queue; 5..9 are dropped at once, capture never waits */
	for (i = 1; i < 10; i++) {
		snprintf(line, sizeof(line), "%u", i);
		assert_int_equal(submit_str(m, line), i <= 4 ? 0 : -1);
	}
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.submitted, 10);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(st.depth, 4);
	assert_int_equal(st.peak_depth, 4);

	for (i = 0; i < 5; i++)
		sem_post(&gate.open);
	out_mgr_sync(m);
	assert_int_equal(gate.nseen, 5);
	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "%u", i);
		assert_string_equal(gate.seen[i], line);
	}
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.written, 5);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(st.depth, 0);
	out_mgr_free(m);
	sem_destroy(&gate.entered);
	sem_destroy(&gate.open);
}

static void test_reopen_after_rename(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m;
	char rotated[160], *a, *b;
	struct stat sb;

	umask(022);
	m = jsonl_mgr(t->path, 16, true);
	assert_int_equal(out_mgr_start(m), 0);
	assert_int_equal(submit_str(m, "{\"before\":1}"), 0);
	out_mgr_sync(m);

	/* logrotate: rename, then SIGHUP -> out_mgr_reopen */
	snprintf(rotated, sizeof(rotated), "%s.1", t->path);
	assert_int_equal(rename(t->path, rotated), 0);
	out_mgr_reopen(m);
	assert_int_equal(submit_str(m, "{\"after\":1}"), 0);
	out_mgr_sync(m);

	a = slurp(rotated, NULL);
	b = slurp(t->path, NULL);
	assert_string_equal(a, "{\"before\":1}\n");
	assert_string_equal(b, "{\"after\":1}\n");
	free(a);
	free(b);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);

	/* reopen without rotation: appends to the same file */
	out_mgr_reopen(m);
	assert_int_equal(submit_str(m, "{\"again\":1}"), 0);
	out_mgr_free(m);
	b = slurp(t->path, NULL);
	assert_string_equal(b, "{\"after\":1}\n{\"again\":1}\n");
	free(b);
	unlink(rotated);
}

static void test_appends_to_existing(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m;
	FILE *f = fopen(t->path, "w");
	char *b;

	assert_non_null(f);
	fputs("{\"old\":1}\n", f);
	fclose(f);
	m = jsonl_mgr(t->path, 16, false);
	assert_int_equal(out_mgr_start(m), 0);
	assert_int_equal(submit_str(m, "{\"new\":1}"), 0);
	out_mgr_free(m);
	b = slurp(t->path, NULL);
	assert_string_equal(b, "{\"old\":1}\n{\"new\":1}\n");
	free(b);
}

static void test_no_thread_writes_inline(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = jsonl_mgr(t->path, 2, false);
	char line[32];
	unsigned i;

	/* without out_mgr_start a full offline queue is drained by the submitter */
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "{\"n\":%u}", i);
		assert_int_equal(submit_str(m, line), 0);
	}
	out_mgr_sync(m);
	check_sequence(t->path, 100);
	out_mgr_free(m);
	check_sequence(t->path, 100);
}

static void test_two_outputs_and_big_lines(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = out_mgr_new(8, false);
	char spec[256], err[256], second[160], *big, *a, *b;
	size_t bign = 600 * 1024, alen, blen;

	assert_non_null(m);
	snprintf(second, sizeof(second), "%s/second.jsonl", t->dir);
	snprintf(spec, sizeof(spec), "jsonl:%s", t->path);
	assert_int_equal(out_mgr_add(m, spec, err, sizeof(err)), 0);
	snprintf(spec, sizeof(spec), "jsonl:%s", second);
	assert_int_equal(out_mgr_add(m, spec, err, sizeof(err)), 0);
	assert_int_equal(out_mgr_count(m), 2);
	assert_int_equal(out_mgr_start(m), 0);
	/* adding after start is refused: the thread owns the outputs */
	assert_int_equal(out_mgr_add(m, spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before"));

	/* a line larger than the output buffer, between two small ones */
	big = malloc(bign + 1);
	assert_non_null(big);
	memset(big, 'x', bign);
	big[0] = '"';
	big[bign - 1] = '"';
	big[bign] = '\0';
	assert_int_equal(submit_str(m, "1"), 0);
	assert_int_equal(submit_str(m, big), 0);
	assert_int_equal(submit_str(m, "2"), 0);
	out_mgr_free(m);

	a = slurp(t->path, &alen);
	b = slurp(second, &blen);
	assert_int_equal(alen, bign + 5);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_memory_equal(a, "1\n\"", 3);
	assert_memory_equal(a + 2 + bign, "\n2\n", 3);
	free(a);
	free(b);
	free(big);
}

static void test_stdout(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m;
	int saved = dup(STDOUT_FILENO), fd;
	char err[256], *b;

	fflush(stdout);
	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);

	m = out_mgr_new(0, false);
	assert_non_null(m);
	assert_int_equal(out_mgr_add(m, "jsonl:-", err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(m), 0);
	assert_int_equal(submit_str(m, "{\"to\":\"stdout\"}"), 0);
	out_mgr_reopen(m); /* nothing to reopen for stdout, must not fail or close it */
	assert_int_equal(submit_str(m, "{\"n\":2}"), 0);
	out_mgr_free(m);

	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	b = slurp(t->path, NULL);
	assert_string_equal(b, "{\"to\":\"stdout\"}\n{\"n\":2}\n");
	free(b);
}

static void test_bad_specs(void **state)
{
	struct out_mgr *m = out_mgr_new(16, false);
	char err[256], longspec[400];

	assert_non_null(m);
	assert_int_equal(out_mgr_add(m, "nope:x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nope:x"));
	assert_non_null(strstr(err, "jsonl"));

	assert_int_equal(out_mgr_add(m, "alerts.jsonl", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "alerts.jsonl"));
	assert_non_null(strstr(err, "scheme"));

	assert_int_equal(out_mgr_add(m, ":x", err, sizeof(err)), -1);
	assert_int_equal(out_mgr_add(m, "jsonl:", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "jsonl:"));
	/* the scheme is matched whole */
	assert_int_equal(out_mgr_add(m, "json:-", err, sizeof(err)), -1);
	assert_int_equal(out_mgr_add(m, "jsonlx:-", err, sizeof(err)), -1);

	memset(longspec, 'a', sizeof(longspec) - 1);
	memcpy(longspec, "jsonl:/", 7);
	longspec[sizeof(longspec) - 1] = '\0';
	assert_int_equal(out_mgr_add(m, longspec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer"));

	assert_int_equal(out_mgr_count(m), 0);
	out_mgr_free(m);
}

static void test_unwritable_path(void **state)
{
	struct tmp *t = *state;
	struct out_mgr *m = out_mgr_new(16, false);
	char err[256], spec[200];

	assert_non_null(m);
	snprintf(spec, sizeof(spec), "jsonl:%s/no/such/dir/a.jsonl", t->dir);
	assert_int_equal(out_mgr_add(m, spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, spec));
	assert_non_null(strstr(err, "No such file"));

	/* a directory (works as root too, where permissions do not stop us) */
	snprintf(spec, sizeof(spec), "jsonl:%s", t->dir);
	assert_int_equal(out_mgr_add(m, spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, t->dir));
	assert_int_equal(out_mgr_count(m), 0);
	out_mgr_free(m);
}

static void test_write_errors_counted(void **state)
{
	struct out_mgr *m = out_mgr_new(16, false);
	struct out_stats st;
	char err[256];
	int i;

	assert_non_null(m);
	if (access("/dev/full", W_OK) != 0) {
		out_mgr_free(m);
		skip();
	}
	assert_int_equal(out_mgr_add(m, "jsonl:/dev/full", err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(m), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(submit_str(m, "{\"x\":1}"), 0);
		out_mgr_sync(m); /* every flush fails with ENOSPC */
	}
	out_mgr_get_stats(m, &st);
	assert_int_equal(st.written, 3);
	assert_int_equal(st.errors, 3);
	out_mgr_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_100k, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_offline_tiny_queue_never_drops, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_many_producers, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_live_drops_when_stalled),
		cmocka_unit_test(test_live_many_producers_account_for_every_line),
		cmocka_unit_test_setup_teardown(test_sleep_and_wake, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_rename, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_appends_to_existing, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_no_thread_writes_inline, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_two_outputs_and_big_lines, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_stdout, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test_setup_teardown(test_unwritable_path, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_write_errors_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
