/* workers.c - live capture on several threads (see workers.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "sensor.h"
#include "util.h"
#include "workers.h"

struct worker {
	struct workers *w;
	struct cap *cap;
	struct sensor *s;
	pthread_t tid;
	bool started;
};

struct workers {
	pthread_rwlock_t rw; /* readers: workers in a batch; writer: workers_pause() */
	atomic_bool stop;
	atomic_uint running;
	atomic_uint errors;
	size_t n;
	struct worker wk[];
};

static void on_packet(void *ud, int linktype, uint64_t ts_us, uint32_t caplen, uint32_t wirelen,
		      const uint8_t *data)
{
	sensor_packet(ud, linktype, ts_us, caplen, wirelen, data);
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	struct workers *w = k->w;
	char err[512];

	for (;;) {
		pthread_rwlock_rdlock(&w->rw);
		if (atomic_load(&w->stop)) {
			pthread_rwlock_unlock(&w->rw);
			break;
		}
		int n = cap_dispatch(k->cap, on_packet, k->s, err, sizeof(err));
		if (n == 0)
			sensor_idle(k->s, util_now_us()); /* a quiet second still closes windows */
		pthread_rwlock_unlock(&w->rw);
		if (n == 0)
			cap_wait(k->cap, CAP_DEFAULT_TIMEOUT_MS);
		if (n == -2 && !atomic_load(&w->stop)) {
			fprintf(stderr, "onpath: %s\n", err);
			atomic_fetch_add(&w->errors, 1);
			break;
		}
		if (n == -1)
			break;
	}
	sensor_thread_exit();
	atomic_fetch_sub(&w->running, 1);
	return NULL;
}

struct workers *workers_start(struct cap **caps, struct sensor **sensors, size_t n, char *err,
			      size_t errlen)
{
	struct workers *w = calloc(1, sizeof(*w) + n * sizeof(w->wk[0]));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Writer preference: a pause must not wait behind workers that keep re-entering. */
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	int rc = pthread_rwlock_init(&w->rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create the workers' lock: %s", strerror(rc));
		free(w);
		return NULL;
	}
	w->n = n;
	/* Signals stay with the main thread: the workers inherit a full mask. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (cap_set_nonblock(caps[i], err, errlen) < 0)
			rc = -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct worker *k = &w->wk[i];
		k->w = w;
		k->cap = caps[i];
		k->s = sensors[i];
		atomic_fetch_add(&w->running, 1);
		if ((rc = pthread_create(&k->tid, NULL, worker_main, k)) != 0) {
			atomic_fetch_sub(&w->running, 1);
			snprintf(err, errlen, "cannot start capture worker %zu: %s", i + 1, strerror(rc));
		} else {
			k->started = true;
#ifdef __GLIBC__
			char name[16]; /* for top -H, gdb and the live bench's per-worker CPU */
			snprintf(name, sizeof(name), "onpath-w%u", (unsigned)(i % 1000)); /* i < 64 */
			pthread_setname_np(k->tid, name);
#endif
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		(void)workers_stop(w);
		return NULL;
	}
	return w;
}

void workers_pause(struct workers *w)
{
	/* A worker holds the read side for one batch: at most CAP_BATCH packets, and it
	 * never waits for packets while holding it (cap_wait() is outside). */
	pthread_rwlock_wrlock(&w->rw);
}

void workers_resume(struct workers *w)
{
	pthread_rwlock_unlock(&w->rw);
}

bool workers_done(struct workers *w)
{
	return atomic_load(&w->running) == 0;
}

unsigned workers_stop(struct workers *w)
{
	if (!w)
		return 0;
	atomic_store(&w->stop, true); /* seen within CAP_DEFAULT_TIMEOUT_MS */
	for (size_t i = 0; i < w->n; i++)
		if (w->wk[i].started)
			pthread_join(w->wk[i].tid, NULL);
	unsigned errors = atomic_load(&w->errors);
	pthread_rwlock_destroy(&w->rw);
	free(w);
	return errors;
}
