/* detector.h - the one small interface every detector implements.
 *
 * A detector judges typed events, never packet bytes: parsers in monitor/decode/ turn
 * bytes into the events below. Each detector is one file exporting one
 * `const struct detector`, listed by hand in detectors/registry.c. It owns its state
 * (created by init from its config section, released by fini), the alert types it
 * raises (listed in types[] for --list-alerts and the docs), and its tests.
 */
#ifndef ONPATH_DETECTOR_H
#define ONPATH_DETECTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../monitor/alert.h"
#include "../monitor/cfg.h"
#include "../monitor/decode/decode.h"

/* What every event carries: when, where on the wire, between whom. */
struct ev_meta {
	uint64_t ts_us;          /* packet time */
	uint16_t vlan;           /* outer VLAN ID, 0 = untagged */
	bool has_eth;
	uint8_t src_mac[6], dst_mac[6];
	struct op_addr src, dst; /* family 0 for non-IP events (ARP) */
	uint16_t sport, dport;
	uint8_t proto;           /* IP protocol, 0 for non-IP */
	uint8_t ip_ttl;
	const char *community_id; /* "" when not a flow */
	/* nDPI's view of the flow (monitor/classify.h), asked for only when an alert is
	 * raised (det_alert_from_meta calls ndpi(ndpi_ctx)); NULL for events that belong
	 * to no inspected flow. Valid for the call. */
	const struct det_ndpi *(*ndpi)(void *ctx);
	void *ndpi_ctx;
};

/* nDPI's protocol name and risk names for a flow, rendered by the sensor. */
#define DET_NDPI_RISKS 8
struct det_ndpi {
	char proto[48];                          /* "TLS.Google"; "" = not known */
	const char *risks[DET_NDPI_RISKS];       /* static strings from nDPI */
	unsigned nrisks;
};

/* An ARP frame (RFC 826), Ethernet/IPv4. */
struct arp_ev {
	struct ev_meta m;
	struct arp_obs arp;
};

/* Parsed messages; their full definitions live with their parsers in monitor/decode/. */
struct ndp_msg;   /* decode/ndp.h: RS, RA, NS, NA, redirect (RFC 4861) */
struct dhcp_msg;  /* decode/dhcp.h: DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415) */
struct dns_msg;   /* decode/dns.h: DNS, mDNS, LLMNR, NBT-NS (RFC 1035, 6762, 4795, 1002) */
struct tls_hello; /* decode/tls.h: ClientHello / ServerHello (RFC 8446, 5246) */
struct cert_chain; /* decode/x509.h: the server's certificate chain */
struct starttls_msg; /* decode/lines.h: SMTP/IMAP/POP3/FTP/XMPP greetings, capabilities,
		      * STARTTLS requests and replies, clear-text credentials */
struct http_msg;  /* decode/http.h: an HTTP/1.x request or response head */
struct ssh_msg;   /* decode/ssh.h: SSH banner, KEXINIT lists, server host key */
struct vrrp_msg;  /* decode/vrrp.h: VRRP advertisements (RFC 3768, 5798) */

struct ndp_ev {
	struct ev_meta m;
	const struct ndp_msg *ndp;  /* borrowed for the call */
};

/* A VRRP advertisement (IP protocol 112); m.ip_ttl and m.dst say whether a router
 * would have accepted it (also in vrrp->ttl, vrrp->to_group). */
struct vrrp_ev {
	struct ev_meta m;
	const struct vrrp_msg *vrrp;  /* borrowed for the call */
};

struct dhcp_ev {
	struct ev_meta m;
	const struct dhcp_msg *dhcp;
};

struct dns_ev {
	struct ev_meta m;
	const struct dns_msg *dns;  /* over UDP, or one message of a TCP stream */
};

/* How a TLS handshake failed (tls_ev.fail). */
enum tls_fail {
	TLS_FAIL_NONE = 0,   /* not a failure event */
	TLS_FAIL_ALERT,      /* a fatal alert record before the handshake completed */
	TLS_FAIL_CLOSE,      /* FIN or RST after a ClientHello, no ServerHello */
};

/* TLS and line events come from stream consumers: m is oriented as the packet that
 * completed the message (src = its sender). */
struct tls_ev {
	struct ev_meta m;
	const struct tls_hello *client; /* NULL until seen */
	const struct tls_hello *server; /* NULL until seen */
	const struct cert_chain *chain; /* NULL for TLS 1.3 (encrypted) or not seen */
	/* A failed handshake (for detectors/downgrade.c: version fallback). The stream
	 * consumer sends one failure event per flow when a fatal alert arrives before the
	 * handshake completed (before the Certificate of TLS <= 1.2, the ServerHello of
	 * TLS 1.3), or when either side closes (FIN or RST) after a ClientHello with no
	 * ServerHello. On it client, server and chain are NULL, so detectors judging the
	 * hellos see nothing new; the attempt's hellos are in failed_client/failed_server.
	 * m is the packet that ended it (the alert or the FIN/RST). */
	uint8_t fail;                   /* enum tls_fail; TLS_FAIL_NONE on other events */
	bool fail_by_server;            /* the alert or close came from the server's side */
	uint8_t alert_level, alert_desc; /* TLS_FAIL_ALERT: the alert (RFC 8446 6) */
	const struct tls_hello *failed_client; /* the attempt's ClientHello (set on failure) */
	const struct tls_hello *failed_server; /* its ServerHello, NULL when none came */
};

/* Line-protocol, HTTP and SSH events come from stream consumers too (m oriented as
 * for TLS: src = the sender of the message). */
struct starttls_ev {
	struct ev_meta m;
	const struct starttls_msg *msg;
};

struct http_ev {
	struct ev_meta m;
	const struct http_msg *msg;
};

struct ssh_ev {
	struct ev_meta m;
	const struct ssh_msg *msg;
};

/* A TCP segment whose bytes differ from an earlier copy of the same sequence numbers
 * in the same direction (monitor/stream.h stream_last_conflict()), while the flow's
 * handshakes are inspected. m is the later copy's packet; first_mac and first_ttl
 * are the Ethernet source and IP TTL of the packet that brought the first data of
 * this direction. The excerpts start context bytes before the first differing one. */
struct rewrite_ev {
	struct ev_meta m;
	uint8_t first_mac[6];
	uint8_t first_ttl;
	bool from_initiator;       /* the later copy travels initiator -> responder */
	uint32_t offset;           /* stream offset of the first differing byte */
	uint32_t context;          /* bytes of the excerpts before that byte */
	const uint8_t *kept;       /* what the sensor (and the first copy) has there */
	size_t kept_len;
	const uint8_t *seen;       /* what the later copy carries there */
	size_t seen_len;
};

/* What a detector gets at init. */
struct det_init {
	const struct cfg *cfg;         /* the whole config (may be NULL: defaults) */
	const struct cfg_node *section; /* its own section ("detectors.<name>"), may be NULL */
	const char *sig_dir;           /* signatures directory */
	/* True when no saved state was found for this detector: baselines start empty, and
	 * alerts whose only reason is "never seen before" are muted for learning_s seconds
	 * of packet time from the first packet (a change of something already known always
	 * alerts at once). */
	bool cold_start;
	uint64_t learning_s;
	char *err;                     /* "file:line: why" on failure */
	size_t errlen;
};

struct detector {
	const char *name;                     /* config section and --list-detectors name */
	const struct alert_type *types;       /* alert types it can raise */
	size_t ntypes;
	/* Returns 0 and sets *state, or -1 with in->err filled; or 1 when the config
	 * leaves it nothing to do (records all off): it is then not registered for any
	 * event and fini is not called (it must not keep anything). */
	int (*init)(void **state, const struct det_init *in);
	void (*fini)(void *state);
	/* Event callbacks; NULL when not wanted. */
	void (*on_arp)(void *state, const struct arp_ev *ev, struct alert_pipe *out);
	void (*on_ndp)(void *state, const struct ndp_ev *ev, struct alert_pipe *out);
	void (*on_dhcp)(void *state, const struct dhcp_ev *ev, struct alert_pipe *out);
	void (*on_dns)(void *state, const struct dns_ev *ev, struct alert_pipe *out);
	/* A handshake step: called when the ClientHello, the ServerHello or the chain
	 * arrives (fields seen so far are set). */
	void (*on_tls)(void *state, const struct tls_ev *ev, struct alert_pipe *out);
	void (*on_starttls)(void *state, const struct starttls_ev *ev, struct alert_pipe *out);
	void (*on_http)(void *state, const struct http_ev *ev, struct alert_pipe *out);
	void (*on_ssh)(void *state, const struct ssh_ev *ev, struct alert_pipe *out);
	void (*on_vrrp)(void *state, const struct vrrp_ev *ev, struct alert_pipe *out);
	void (*on_rewrite)(void *state, const struct rewrite_ev *ev, struct alert_pipe *out);
	/* Called about once a second of packet time. */
	void (*on_tick)(void *state, uint64_t now_us, struct alert_pipe *out);
	/* Baseline persistence (both NULL for a stateless detector). save returns a new
	 * JSON value the caller owns (NULL on error); load gets the value a previous run
	 * saved (borrowed) and returns 0, or -1 with err filled (the run then starts cold
	 * for this detector, and says so). */
	json_t *(*save)(void *state);
	int (*load)(void *state, const json_t *saved, char *err, size_t errlen);
};

/* The registry (detectors/registry.c). */
struct det_registry;

/* Every built-in detector, in dispatch order. */
extern const struct detector *const det_builtin[];
extern const size_t det_builtin_count;

/* Initialises every detector not disabled in the config ("detectors.<name>.enabled:
 * false"). Returns NULL with err filled on the first failure. */
struct det_registry *det_registry_new(const struct cfg *cfg, const char *sig_dir, char *err,
				      size_t errlen);
/* The same, with the saved state of a previous run (a JSON object keyed by detector
 * name; NULL = cold start for all) and the learning window for cold starts. */
struct det_registry *det_registry_new_state(const struct cfg *cfg, const char *sig_dir,
					    const json_t *saved, uint64_t learning_s, char *err,
					    size_t errlen);
/* Every stateful detector's baseline as one JSON object keyed by detector name (caller
 * owns), for monitor/state.c to write atomically. */
json_t *det_registry_save(struct det_registry *r);
void det_registry_free(struct det_registry *r);
/* Live capture with several workers (sensor.h): the detectors' state is shared, so
 * every det_dispatch_*() except det_dispatch_tick() holds mu while the detectors run
 * (NULL, the default: one thread, no locking). det_registry_lock()/unlock() take the
 * same lock around det_dispatch_tick(), det_registry_save() and the alert pipe's own
 * tick; they do nothing without a lock. */
void det_registry_set_lock(struct det_registry *r, pthread_mutex_t *mu);
void det_registry_lock(struct det_registry *r);
void det_registry_unlock(struct det_registry *r);
void det_dispatch_arp(struct det_registry *r, const struct arp_ev *ev, struct alert_pipe *out);
void det_dispatch_ndp(struct det_registry *r, const struct ndp_ev *ev, struct alert_pipe *out);
void det_dispatch_dhcp(struct det_registry *r, const struct dhcp_ev *ev, struct alert_pipe *out);
void det_dispatch_dns(struct det_registry *r, const struct dns_ev *ev, struct alert_pipe *out);
void det_dispatch_tls(struct det_registry *r, const struct tls_ev *ev, struct alert_pipe *out);
void det_dispatch_starttls(struct det_registry *r, const struct starttls_ev *ev,
			   struct alert_pipe *out);
void det_dispatch_http(struct det_registry *r, const struct http_ev *ev, struct alert_pipe *out);
void det_dispatch_ssh(struct det_registry *r, const struct ssh_ev *ev, struct alert_pipe *out);
void det_dispatch_vrrp(struct det_registry *r, const struct vrrp_ev *ev, struct alert_pipe *out);
void det_dispatch_rewrite(struct det_registry *r, const struct rewrite_ev *ev,
			  struct alert_pipe *out);
/* True when some detector wants this event (so the parser can be skipped otherwise). */
bool det_wants_ndp(const struct det_registry *r);
bool det_wants_dhcp(const struct det_registry *r);
bool det_wants_dns(const struct det_registry *r);
bool det_wants_tls(const struct det_registry *r);
bool det_wants_starttls(const struct det_registry *r);
bool det_wants_http(const struct det_registry *r);
bool det_wants_ssh(const struct det_registry *r);
bool det_wants_vrrp(const struct det_registry *r);
bool det_wants_rewrite(const struct det_registry *r);
void det_dispatch_tick(struct det_registry *r, uint64_t now_us, struct alert_pipe *out);
size_t det_registry_active(const struct det_registry *r);
/* Looks up an alert type by action across all built-in detectors (NULL if none). */
const struct alert_type *det_find_type(const char *action);

/* Helpers shared by detectors (detectors/common.c). */
/* Fills a's endpoints from the event's metadata: IPs; ports when m->proto carries them
 * (TCP, UDP, SCTP, DCCP); MACs when m->has_eth; transport, VLAN and community id. */
void det_alert_from_meta(struct alert *a, const struct ev_meta *m);
/* A printable-ASCII copy of n attacker-controlled bytes for an alert's plain-text
 * message (the JSON writer escapes the evidence; the message must not carry control
 * bytes): anything outside 0x20-0x7e becomes repl. Always NUL-terminated (cap > 0). */
void det_printable(char *dst, size_t cap, const void *src, size_t n, char repl);
/* The same without the alert-only enrichment (nDPI), with the given Community ID seed:
 * for records. */
void det_endpoints_from_meta(struct alert *a, const struct ev_meta *m, uint16_t seed);
/* The Community ID seed (sensor.community_id_seed) det_alert_from_meta uses. */
void det_set_community_seed(uint16_t seed);

#endif
