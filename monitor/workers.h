/* workers.h - live capture on several threads (onpath -i IFACE --workers N).
 *
 * Each worker is one capture socket of a PACKET_FANOUT group (capture.h) feeding one
 * sensor worker (sensor_worker_new()); the kernel splits the interface's packets by
 * flow, so a flow's packets, both directions, reach one worker and its flow table.
 * The detectors they share run under the sensor's lock. The main thread keeps the
 * signals: it pauses the workers (all of them between two capture batches) to reload
 * the configuration or read the counters, and stops them at the end.
 */
#ifndef ONPATH_WORKERS_H
#define ONPATH_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

struct cap;
struct sensor;
struct workers;

/* One thread per (caps[i], sensors[i]), with every signal blocked. Both arrays stay
 * the caller's and must outlive workers_stop(). NULL with err on failure (no thread
 * left running). */
struct workers *workers_start(struct cap **caps, struct sensor **sensors, size_t n, char *err,
			      size_t errlen);
/* Waits until no worker is inside a capture batch and keeps them out until
 * workers_resume(): the sensors and their counters are then the caller's. */
void workers_pause(struct workers *w);
void workers_resume(struct workers *w);
/* True once every worker has ended on its own (a capture error, said on stderr). */
bool workers_done(struct workers *w);
/* Breaks every capture, joins the threads, frees w. Returns the read errors the
 * workers met (each said on stderr when it happened). */
unsigned workers_stop(struct workers *w);

#endif
