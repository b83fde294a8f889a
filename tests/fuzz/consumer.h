/* consumer.h - drives one stream consumer (monitor/app.h) from fuzz input the way the
 * sensor does: both directions of a TCP flow grow by segments, and on every growth the
 * consumer gets the whole contiguous prefix of that direction, each time from a heap
 * block of exactly that size (a read past it is an ASan report).
 *
 * Input: seg (segment size, 0 = a direction at once), flags (bit 0: the responder
 * speaks first; bit 1: FIN with each direction's last bytes; the other bits are the
 * caller's, e.g. for the ports), the initiator's byte count (2 bytes, big-endian), then
 * the initiator's bytes and the responder's. setup (may be NULL) shapes the flow. The
 * detectors are stubs in the caller (the ctx's registry is never dereferenced). */
#ifndef ONPATH_FUZZ_CONSUMER_H
#define ONPATH_FUZZ_CONSUMER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "app.h"
#include "flow.h"
#include "stream.h"

static inline void fuzz_consumer(const struct app_consumer *c, const uint8_t *data, size_t size,
				 void (*setup)(struct flow *f, unsigned flags))
{
	if (size < 4)
		return;
	size_t seg = data[0];
	unsigned flags = data[1];
	size_t la = (size_t)data[2] << 8 | data[3];
	const uint8_t *p = data + 4;
	size_t n = size - 4;
	if (la > n)
		la = n;
	const uint8_t *dir_data[2] = { p, p + la };
	size_t dir_len[2] = { la, n - la };
	size_t have[2] = { 0, 0 };
	uint64_t malformed = 0;
	struct ev_meta m;
	memset(&m, 0, sizeof(m));
	m.community_id = "";
	struct app_ctx ctx = { (struct det_registry *)&m, NULL, &m, &malformed };
	void *state = NULL;
	struct flow f;
	memset(&f, 0, sizeof(f));
	if (setup)
		setup(&f, flags);
	int turn = (flags & 1) ? 1 : 0;
	int done = 0;
	while (!done && (have[0] < dir_len[0] || have[1] < dir_len[1])) {
		int d = turn;
		if (have[d] == dir_len[d])
			d ^= 1;
		size_t step = seg ? seg : dir_len[d];
		if (step > dir_len[d] - have[d])
			step = dir_len[d] - have[d];
		have[d] += step;
		uint32_t sf = (have[d] == dir_len[d] && (flags & 2)) ? STREAM_F_FIN : 0;
		uint8_t *buf = malloc(have[d] ? have[d] : 1);
		if (!buf)
			break;
		memcpy(buf, dir_data[d], have[d]);
		if (c->on_data(&ctx, &state, &f, d, buf, have[d], sf) == APP_DONE)
			done = 1;
		free(buf);
		turn ^= 1;
	}
	c->free_state(state);
}

#endif
