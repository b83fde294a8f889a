/* app.h - stream consumers: parsers of the first bytes of a TCP direction (TLS
 * handshakes, DNS over TCP, SMTP/IMAP/POP3/FTP/XMPP capability lines, HTTP heads, SSH
 * banners and key exchange).
 *
 * At flow creation the sensor asks every consumer whether it wants the flow (by port,
 * or for every TCP flow when the protocol may run on any port and the first bytes
 * decide). While a consumer wants a flow, the flow keeps a stream per direction; each
 * time the contiguous bytes of a direction grow, the consumer gets all of them (it
 * remembers how far it parsed in its per-flow state) and answers whether it wants
 * more. When no consumer wants the flow any longer its streams are freed and its
 * packets take the fast path (one hash lookup and a flag test).
 *
 * A consumer emits typed events to the detectors through app_ctx; it never sees the
 * detectors, and the detectors never see its bytes.
 */
#ifndef ONPATH_APP_H
#define ONPATH_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct det_registry;
struct alert_pipe;
struct ev_meta;

/* What a consumer gets on each call. */
struct app_ctx {
	struct det_registry *dets;   /* for det_dispatch_*() */
	struct alert_pipe *alerts;
	const struct ev_meta *m;     /* the packet that brought the new bytes */
	uint64_t *malformed;         /* counter to bump when the bytes are not the protocol */
};

enum app_verdict { APP_MORE = 0, APP_DONE = 1 };

#define APP_MAX_CONSUMERS 8

struct app_consumer {
	const char *name;
	/* At flow creation (TCP only): does this consumer want the flow? resp_port is the
	 * responder's port. */
	bool (*wants)(const struct flow *f, uint16_t resp_port);
	/* New contiguous bytes in direction dir (FLOW_DIR_ORIG = from the initiator):
	 * data/len is the whole contiguous prefix of that direction so far; sflags are
	 * the stream's STREAM_F_* flags (FIN, GAP, FULL tell the consumer no more will
	 * come). *state is this consumer's per-flow state (NULL at first; the consumer
	 * allocates it and frees it in free_state). */
	enum app_verdict (*on_data)(struct app_ctx *ctx, void **state, struct flow *f, int dir,
				    const uint8_t *data, size_t len, uint32_t sflags);
	void (*free_state)(void *state);
};

/* The consumers, by hand, in monitor/app.c. */
extern const struct app_consumer *const app_consumers[];
extern const size_t app_consumer_count;

#endif
