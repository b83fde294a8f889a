/* incident.h - MITM incidents (detectors/incident.c): the entry points beyond the
 * struct detector, for the sensor and the tests. */
#ifndef ONPATH_DET_INCIDENT_H
#define ONPATH_DET_INCIDENT_H

#include <stdint.h>

struct alert_pipe;

/* Makes the incident detector's state (from its init) observe ap's alerts. The
 * detector does this by itself at its first on_tick; exposed for tests and for a
 * sensor that wants it before the first packet. Idempotent. */
void det_incident_attach(void *state, struct alert_pipe *ap);

struct det_incident_stats {
	uint64_t open, opened, closed, evicted, updates;
};
void det_incident_stats(void *state, struct det_incident_stats *st);

#endif
