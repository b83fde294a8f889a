#include "config.h"

/* incident.c - MITM incidents: the alerts of the other detectors, grouped into one
 * story per victim ("198.51.100.23 was ARP-poisoned by 02:..:66 at 10:02:11; at
 * 10:02:14 its DNS answers came from that MAC; at 10:02:15 its TLS was served by
 * mitmproxy") instead of unrelated lines.
 *
 * Design. This is a detector like the others (its own file, config section
 * detectors.incident, its alert type for --list-alerts and the docs) but it judges
 * alerts, not events, and never sees packet bytes. Alerts reach it through the alert
 * pipe's observer hook (monitor/alert.h, alert_pipe_set_observer): every alert the
 * pipe accepts passes through incident_alert() after de-duplication and before it is
 * serialised, so a member can be raised (severity, confidence) and tagged with its
 * incident (onpath.incident) on its way out. The detector attaches itself to the pipe
 * it is handed at its first on_tick: the sensor ticks at its first packet, before any
 * detector runs, so no alert is missed and the sensor needs no extra wiring (a
 * reloaded registry's instance takes over the same way; the old one's fini detaches
 * itself and closes its open incidents). Incident lines (event.kind "incident") go to the same outputs as
 * OUT_INCIDENT lines (redis: the onpath:incidents stream); every update rewrites the
 * whole incident under the same event.id, and the last one says state "closed".
 *
 * Correlation.
 *  - Phases: positioning (arp, ndp, dhcp, names: the attacker puts itself on the path)
 *    and manipulation (dns, issuer, tls, downgrade, starttls, http, ssh, tcp: it uses it).
 *  - Victim: the client. Alerts are oriented offender -> victim (ARP: claimed IP ->
 *    the host the forged frame was sent to; DNS: resolver -> client; TLS: server ->
 *    client), so the destination, unless the destination is the well-known-port side
 *    and the source is not. A positioning alert without a destination IP (a broadcast
 *    claim) opens a segment-wide incident keyed by the attacker's MAC, which a later
 *    manipulation alert sent from that MAC joins.
 *  - Attacker: the MAC in the evidence (attacker_mac; else eth_src when it differs
 *    from sender_mac - the NIC that sent a forged frame, not the owner it names; else
 *    new_mac, except for an ARP flip back to a previous MAC, which is as often the
 *    owner reclaiming its address) or the alert's source MAC, the rogue server's IP,
 *    the interception product.
 *  - An alert joins the victim's open incident while it is not quiet for quiet_s and
 *    younger than window_s; otherwise a new incident starts.
 *  - Cross-layer evidence: a member whose incident already holds the other phase is
 *    raised by INC_BOOST (confidence high). An incident with both phases is at least
 *    INC_BOTH_SEVERITY; one with manipulation only says "no positioning evidence on the
 *    local segment" (upstream interception or a sanctioned proxy); one whose TLS
 *    interception is sanctioned by configuration (issuer evidence sanctioned: true)
 *    and has no positioning is informational (INC_SANCTIONED_SEVERITY).
 *  - Members: alerts of at least min_severity (and sanctioned interception, which the
 *    issuer detector reports at low severity). An incident is published once it has
 *    members of two alert types, one member of at least INC_PUBLISH_SEVERITY, or a
 *    sanctioned one: a lone medium alert stays an alert.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detector.h"
#include "incident.h"
#include "../monitor/output.h"

#define INC_DEFAULT_WINDOW_S 3600u
#define INC_DEFAULT_QUIET_S 300u
#define INC_DEFAULT_MAX 256u
#define INC_MAX_LIMIT 4096u         /* open incidents (each ~6 KiB) */
#define INC_DEFAULT_MIN_SEVERITY 5
#define INC_MEMBERS_MAX 64          /* member ids kept per incident; more are counted */
#define INC_ATTACKERS_MAX 8
#define INC_TYPES_MAX 24            /* distinct alert types per incident */
#define INC_ATTACKER_LEN 64
#define INC_KEY_LEN 96
#define INC_PUBLISH_SEVERITY 7
#define INC_BOOST 2
#define INC_BOTH_SEVERITY 9
#define INC_SANCTIONED_SEVERITY 2
#define INC_MAX_WINDOW_S (7u * 86400u)

enum { PH_POS = 1, PH_MAN = 2 };

static const struct alert_type inc_types[] = {
	{ "incident.mitm", 7, "T1557", "Adversary-in-the-Middle",
	  "MITM incident: alerts of several layers grouped per victim (event.kind incident, updated in place)" },
};

struct member {
	char id[ALERT_ID_MAX];
	const struct alert_type *type;
	uint64_t ts_us;
	int severity;
};

struct incident {
	char id[ALERT_ID_MAX];
	char key[INC_KEY_LEN];
	struct alert_endpoint victim;     /* ip and/or mac; nothing set for segment-wide */
	bool segment;
	uint16_t vlan;
	uint64_t first_us, last_us, touched;
	uint8_t phases;
	int max_sev;
	enum alert_confidence conf;
	bool sanctioned, published;
	bool local_mac;                   /* a manipulation member named a LAN MAC (new_mac) */
	uint64_t revision, repeats, members_dropped;
	struct member m[INC_MEMBERS_MAX];
	size_t nm;
	const struct alert_type *types[INC_TYPES_MAX];
	size_t ntypes;
	char attackers[INC_ATTACKERS_MAX][INC_ATTACKER_LEN];
	size_t na;
};

struct inc_state {
	struct alert_pipe *ap;          /* attached pipe (borrowed), NULL until the first tick */
	uint64_t window_us, quiet_us;
	uint32_t max;
	int min_sev;
	struct incident **tab;          /* max slots, unordered */
	size_t n;
	uint64_t clock;                 /* LRU clock */
	struct incident *pending;       /* updated by the alert being written */
	struct jw w;
	uint64_t opened, closed, evicted, updates;
};

/* ---------------------------------------------------------------- helpers */

static int phase_of(const char *action)
{
	static const char *const pos[] = { "arp.", "ndp.", "dhcp.", "names." };
	static const char *const man[] = { "dns.", "issuer.", "tls.", "downgrade.", "starttls.",
					   "http.", "ssh.", "tcp." };
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(pos); i++)
		if (strncmp(action, pos[i], strlen(pos[i])) == 0)
			return PH_POS;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(man); i++)
		if (strncmp(action, man[i], strlen(man[i])) == 0)
			return PH_MAN;
	return 0;
}

/* What a family means for the victim, for the story in the message. */
static const char *phrase_of(const char *action)
{
	static const struct { const char *fam, *phrase; } ph[] = {
		{ "arp.", "ARP-poisoned" },        { "ndp.", "NDP-spoofed" },
		{ "dhcp.", "served by a rogue DHCP server" },
		{ "names.", "answered by a name poisoner" },
		{ "dns.", "DNS answers manipulated" },
		{ "issuer.", "TLS served by an intercepting chain" },
		{ "tls.", "TLS answered by a different server" },
		{ "downgrade.", "TLS downgraded" }, { "starttls.", "STARTTLS stripped" },
		{ "http.", "HTTPS stripped" },      { "ssh.", "SSH host key or algorithms changed" },
		{ "tcp.", "TCP data rewritten in the path" },
	};
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(ph); i++)
		if (strncmp(action, ph[i].fam, strlen(ph[i].fam)) == 0)
			return ph[i].phrase;
	return "alerted";
}

static bool ep_has_ip(const struct alert_endpoint *e)
{
	return e->ip.family == 4 || e->ip.family == 6;
}

/* A victim is one host: a broadcast or multicast destination (an RA to ff02::1, a
 * gratuitous ARP to everyone) makes the incident segment-wide instead. */
static bool unicast_ip(const struct alert_endpoint *e)
{
	if (e->ip.family == 4)
		return e->ip.a[0] < 224 && !(e->ip.a[0] == 0 && e->ip.a[1] == 0 && e->ip.a[2] == 0 && e->ip.a[3] == 0);
	if (e->ip.family == 6)
		return e->ip.a[0] != 0xff;
	return false;
}

static void add_attacker(struct incident *in, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	for (size_t i = 0; i < in->na; i++)
		if (strcmp(in->attackers[i], v) == 0)
			return;
	if (in->na < INC_ATTACKERS_MAX)
		util_strlcpy(in->attackers[in->na++], v, INC_ATTACKER_LEN);
}

static bool is_attacker(const struct incident *in, const char *v)
{
	for (size_t i = 0; i < in->na; i++)
		if (strcmp(in->attackers[i], v) == 0)
			return true;
	return false;
}

static bool has_type(const struct incident *in, const struct alert_type *t)
{
	for (size_t i = 0; i < in->ntypes; i++)
		if (in->types[i] == t || strcmp(in->types[i]->action, t->action) == 0)
			return true;
	return false;
}

static int inc_severity(const struct incident *in)
{
	int sev = in->max_sev;
	if ((in->phases & (PH_POS | PH_MAN)) == (PH_POS | PH_MAN)) {
		sev = sev + 1 > INC_BOTH_SEVERITY ? sev + 1 : INC_BOTH_SEVERITY;
	} else if (in->sanctioned && !(in->phases & PH_POS)) {
		sev = INC_SANCTIONED_SEVERITY;
	}
	return sev < 1 ? 1 : sev > 10 ? 10 : sev;
}

static const char *assessment(const struct incident *in)
{
	if ((in->phases & (PH_POS | PH_MAN)) == (PH_POS | PH_MAN))
		return "positioning on the local segment followed by manipulation: an on-path attack from the local segment";
	if (in->phases & PH_POS)
		return "positioning on the local segment, no manipulation seen (yet)";
	if (in->sanctioned)
		return "sanctioned interception (declared in the configuration): informational";
	if (in->local_mac)
		return "manipulation sent from a local MAC that is not the server's, positioning not seen: look for ARP/NDP poisoning of the victim";
	return "manipulation with no positioning evidence on the local segment: likely upstream interception or a sanctioned proxy";
}

/* ---------------------------------------------------------------- output */

static void hhmmss(uint64_t ts_us, char out[16])
{
	time_t t = (time_t)(ts_us / 1000000u);
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		snprintf(out, 16, "?");
	else
		snprintf(out, 16, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void victim_str(const struct incident *in, char *buf, size_t cap)
{
	char a[OP_ADDR_STRLEN], m[OP_MAC_STRLEN];
	if (in->segment)
		snprintf(buf, cap, "hosts on the segment");
	else if (ep_has_ip(&in->victim))
		snprintf(buf, cap, "%s", util_addr_fmt(&in->victim.ip, a));
	else if (in->victim.has_mac)
		snprintf(buf, cap, "%s", util_mac_fmt(in->victim.mac, m));
	else
		snprintf(buf, cap, "?");
}

/* "172.16.0.107: at 03:39:37 ARP-poisoned (arp.ip_mac_changed); at 03:39:43 DNS
 * answers manipulated (dns.unexpected_resolver); attacker 00:25:..". One clause per
 * family (arp, dns, issuer, ...) in the order the families were first seen, with the
 * time of its first member and its alert types. */
static void story(const struct incident *in, char *msg, size_t cap)
{
	char v[OP_ADDR_STRLEN + 32], t[16], by[INC_ATTACKER_LEN];
	size_t off, fl, fl2;
	int n;

#define STORY_ADV(n)                                                                    \
	do {                                                                            \
		if ((n) > 0)                                                            \
			off = (size_t)(n) >= cap - off ? cap - 1 : off + (size_t)(n);    \
	} while (0)
	victim_str(in, v, sizeof(v));
	off = 0;
	n = snprintf(msg, cap, "%s:", v);
	STORY_ADV(n);
	for (size_t i = 0; i < in->ntypes && off + 1 < cap; i++) {
		const char *act = in->types[i]->action, *dot = strchr(act, '.');
		bool seen = false;
		uint64_t ts = in->last_us;

		fl = dot != NULL ? (size_t)(dot - act) + 1 : strlen(act);
		for (size_t k = 0; k < i && !seen; k++)
			seen = strncmp(in->types[k]->action, act, fl) == 0;
		if (seen)
			continue; /* its family's clause is written */
		for (size_t j = 0; j < in->nm; j++)
			if (strncmp(in->m[j].type->action, act, fl) == 0) {
				ts = in->m[j].ts_us;
				break;
			}
		hhmmss(ts, t);
		n = snprintf(msg + off, cap - off, "%s at %s %s (%s", i ? ";" : "", t, phrase_of(act), act);
		STORY_ADV(n);
		for (size_t k = i + 1; k < in->ntypes && off + 1 < cap; k++) {
			fl2 = strlen(in->types[k]->action);
			if (fl2 >= fl && strncmp(in->types[k]->action, act, fl) == 0) {
				n = snprintf(msg + off, cap - off, ", %s", in->types[k]->action);
				STORY_ADV(n);
			}
		}
		if (off + 1 < cap) {
			n = snprintf(msg + off, cap - off, ")");
			STORY_ADV(n);
		}
	}
	for (size_t i = 0; i < in->na && off + 1 < cap; i++) {
		/* attacker-controlled (a product name from a certificate) */
		det_printable(by, sizeof(by), in->attackers[i], strlen(in->attackers[i]), '?');
		n = snprintf(msg + off, cap - off, "%s%s", i ? ", " : in->na > 1 ? "; attackers " : "; attacker ", by);
		STORY_ADV(n);
	}
	if (off + 1 < cap)
		snprintf(msg + off, cap - off, " - %s", assessment(in));
#undef STORY_ADV
}

static void emit(struct inc_state *s, struct incident *in, bool closed)
{
	struct jw *w = &s->w;
	struct out_meta meta;
	char msg[ALERT_MSG_MAX];
	int sev = inc_severity(in);
	size_t len;
	char *line;

	if (s->ap == NULL || !in->published)
		return;
	in->revision++;
	jw_reset(w);
	jw_obj_open(w, NULL);
	jw_ts(w, "@timestamp", in->last_us);
	jw_obj_open(w, "event");
	jw_str(w, "id", in->id);
	jw_str(w, "kind", "incident");
	jw_str(w, "module", "onpath");
	jw_str(w, "dataset", "incident");
	jw_str(w, "action", inc_types[0].action);
	jw_int(w, "severity", sev);
	jw_int(w, "risk_score", sev * 10);
	jw_ts(w, "start", in->first_us);
	jw_ts(w, "end", in->last_us);
	jw_ts(w, "created", util_now_us());
	jw_obj_close(w);
	jw_obj_open(w, "observer");
	jw_str(w, "name", alert_pipe_sensor_name(s->ap));
	jw_obj_close(w);
	if (!in->segment) {
		jw_obj_open(w, "destination");
		if (ep_has_ip(&in->victim))
			jw_addr(w, "ip", &in->victim.ip);
		if (in->victim.has_mac)
			jw_mac(w, "mac", in->victim.mac);
		jw_obj_close(w);
	}
	if (in->vlan) {
		jw_obj_open(w, "network");
		jw_obj_open(w, "vlan");
		jw_uint(w, "id", in->vlan);
		jw_obj_close(w);
		jw_obj_close(w);
	}
	jw_obj_open(w, "threat");
	jw_str(w, "framework", "MITRE ATT&CK");
	jw_obj_open(w, "technique");
	/* ECS arrays, one entry per distinct technique of the members */
	jw_arr_open(w, "id");
	for (size_t i = 0; i < in->ntypes; i++) {
		const char *id = in->types[i]->technique_id;
		bool dup = id == NULL;
		for (size_t j = 0; j < i && !dup; j++)
			dup = in->types[j]->technique_id != NULL && strcmp(in->types[j]->technique_id, id) == 0;
		if (!dup)
			jw_str(w, NULL, id);
	}
	jw_arr_close(w);
	jw_arr_open(w, "name");
	for (size_t i = 0; i < in->ntypes; i++) {
		const char *id = in->types[i]->technique_id;
		bool dup = id == NULL;
		for (size_t j = 0; j < i && !dup; j++)
			dup = in->types[j]->technique_id != NULL && strcmp(in->types[j]->technique_id, id) == 0;
		if (!dup)
			jw_str(w, NULL, in->types[i]->technique_name ? in->types[i]->technique_name : "");
	}
	jw_arr_close(w);
	jw_obj_close(w);
	jw_obj_close(w);

	jw_obj_open(w, "onpath");
	jw_str(w, "confidence", alert_confidence_str(in->conf));
	jw_uint(w, "count", in->nm + in->members_dropped);
	jw_ts(w, "first_seen", in->first_us);
	jw_ts(w, "last_seen", in->last_us);
	jw_obj_open(w, "incident");
	jw_str(w, "state", closed ? "closed" : "open");
	jw_uint(w, "revision", in->revision);
	jw_bool(w, "segment_wide", in->segment);
	jw_arr_open(w, "phases");
	if (in->phases & PH_POS)
		jw_str(w, NULL, "positioning");
	if (in->phases & PH_MAN)
		jw_str(w, NULL, "manipulation");
	jw_arr_close(w);
	jw_bool(w, "local_positioning", (in->phases & PH_POS) != 0);
	jw_bool(w, "sanctioned", in->sanctioned);
	jw_str(w, "assessment", assessment(in));
	jw_arr_open(w, "attackers");
	for (size_t i = 0; i < in->na; i++)
		jw_str(w, NULL, in->attackers[i]);
	jw_arr_close(w);
	jw_arr_open(w, "actions");
	for (size_t i = 0; i < in->ntypes; i++)
		jw_str(w, NULL, in->types[i]->action);
	jw_arr_close(w);
	jw_arr_open(w, "members");
	for (size_t i = 0; i < in->nm; i++) {
		jw_obj_open(w, NULL);
		jw_str(w, "id", in->m[i].id);
		jw_str(w, "action", in->m[i].type->action);
		jw_ts(w, "ts", in->m[i].ts_us);
		jw_int(w, "severity", in->m[i].severity);
		jw_str(w, "phase", phase_of(in->m[i].type->action) == PH_POS ? "positioning" : "manipulation");
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_uint(w, "member_count", in->nm + in->members_dropped);
	jw_uint(w, "members_dropped", in->members_dropped);
	jw_uint(w, "repeats", in->repeats);
	jw_obj_close(w);
	jw_obj_close(w);
	story(in, msg, sizeof(msg));
	jw_str(w, "message", msg);
	jw_obj_close(w);

	if (w->err != 0 || (line = malloc(w->len + 1)) == NULL)
		return;
	len = w->len;
	memcpy(line, w->buf, len + 1);
	memset(&meta, 0, sizeof(meta));
	meta.action = inc_types[0].action;
	meta.dataset = "incident";
	meta.severity = sev;
	util_strlcpy(meta.id, in->id, sizeof(meta.id));
	s->updates++;
	alert_pipe_submit(s->ap, OUT_INCIDENT, line, len, &meta);
}

/* ---------------------------------------------------------------- table */

static void close_at(struct inc_state *s, size_t i)
{
	struct incident *in = s->tab[i];
	if (s->pending == in)
		s->pending = NULL;
	emit(s, in, true);
	s->closed++;
	free(in);
	s->tab[i] = s->tab[--s->n];
}

static struct incident *find(struct inc_state *s, const char *key, uint64_t ts)
{
	for (size_t i = 0; i < s->n; i++) {
		struct incident *in = s->tab[i];
		if (strcmp(in->key, key) != 0)
			continue;
		/* quiet too long or open too long: the next alert starts a new story */
		if ((ts >= in->last_us && ts - in->last_us >= s->quiet_us) ||
		    (ts >= in->first_us && ts - in->first_us >= s->window_us)) {
			close_at(s, i);
			return NULL;
		}
		return in;
	}
	return NULL;
}

static struct incident *create(struct inc_state *s, const char *key, uint64_t ts)
{
	struct incident *in;

	if (s->n >= s->max) {
		/* a flood of victims makes the sensor forget the least recently touched
		 * incident (closing it), never grow */
		size_t old = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->tab[i]->touched < s->tab[old]->touched)
				old = i;
		s->evicted++;
		close_at(s, old);
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	util_strlcpy(in->key, key, sizeof(in->key));
	alert_pipe_new_id(s->ap, in->id, sizeof(in->id));
	in->first_us = in->last_us = ts;
	s->tab[s->n++] = in;
	s->opened++;
	return in;
}

/* ---------------------------------------------------------------- observer */

/* Evidence fields the correlation needs; the detectors' evidence is closed JSON by
 * now (alert_emit closed it), read back with jansson. */
struct ev_fields {
	/* The attacker's MAC: the evidence's attacker_mac, else the Ethernet source of a
	 * forged frame (eth_src: the NIC that really sent it, whatever the ARP payload
	 * claims), else the MAC an address moved to (new_mac). */
	char new_mac[OP_MAC_STRLEN];
	char product[INC_ATTACKER_LEN];
	bool sanctioned;
	bool ambiguous;   /* an ARP flip back: the alert's own MACs do not say who */
};

/* An address flipping back to a MAC it had (arp.flip_flop, reused_old_mac) names the
 * returning MAC, which is as often the owner reclaiming it as the poisoner: only a
 * frame's own sender (eth_src) or an explicit attacker_mac says who. */
static bool arp_flip_back(const struct alert *a)
{
	const char *act = a->type != NULL ? a->type->action : "";
	return strcmp(act, "arp.flip_flop") == 0 || strcmp(act, "arp.reused_old_mac") == 0;
}

static void read_evidence(const struct alert *a, struct ev_fields *f)
{
	bool ambiguous = arp_flip_back(a);
	json_t *j, *v;

	memset(f, 0, sizeof(*f));
	f->ambiguous = ambiguous;
	if (a->ev.buf == NULL || a->ev.len == 0 || a->ev.err != 0 || a->ev.depth != 0)
		return;
	j = json_loadb(a->ev.buf, a->ev.len, 0, NULL);
	if (j == NULL)
		return;
	json_t *es = json_object_get(j, "eth_src"), *sm = json_object_get(j, "sender_mac");
	/* eth_src names the attacker only when the frame came from another NIC than the
	 * one its ARP payload names (forged); otherwise it is just the sender. */
	bool forged = json_is_string(es) && json_is_string(sm) &&
		      strcmp(json_string_value(es), json_string_value(sm)) != 0;
	if (((v = json_object_get(j, "attacker_mac")) != NULL && json_is_string(v)) ||
	    (forged && (v = es) != NULL) ||
	    (!ambiguous && (v = json_object_get(j, "new_mac")) != NULL && json_is_string(v)))
		util_strlcpy(f->new_mac, json_string_value(v), sizeof(f->new_mac));
	if ((v = json_object_get(j, "product")) != NULL && json_is_string(v))
		util_strlcpy(f->product, json_string_value(v), sizeof(f->product));
	f->sanctioned = json_is_true(json_object_get(j, "sanctioned"));
	json_decref(j);
}

static void incident_alert(void *ud, struct alert *a, const char *id)
{
	struct inc_state *s = ud;
	const struct alert_endpoint *victim, *offender;
	char key[INC_KEY_LEN], seg[INC_KEY_LEN], buf[INC_ATTACKER_LEN + 16];
	char ip[OP_ADDR_STRLEN], mac[OP_MAC_STRLEN], offender_mac[OP_MAC_STRLEN];
	struct ev_fields f;
	struct incident *in;
	int ph, other;

	if (a->type == NULL || a->type->action == NULL)
		return;
	ph = phase_of(a->type->action);
	if (ph == 0)
		return;
	if (id != NULL) {
		read_evidence(a, &f);
	} else {
		memset(&f, 0, sizeof(f));
		f.ambiguous = arp_flip_back(a);
	}
	/* Sanctioned interception is reported at low severity by the issuer detector;
	 * it still makes its (informational) incident, so the team sees its own
	 * inspection box as one story and a real attack beside it stands out. */
	if (a->severity < s->min_sev && !f.sanctioned)
		return;
	other = ph == PH_POS ? PH_MAN : PH_POS;

	victim = &a->dst;
	offender = &a->src;
	/* the client is the victim: swap when the destination is the server side */
	if (ph == PH_MAN && a->dst.has_port && a->src.has_port && a->dst.port < 1024 &&
	    a->src.port >= 1024) {
		victim = &a->src;
		offender = &a->dst;
	}
	/* The L2 sender of a positioning frame is the attacker; the L2 sender of a
	 * manipulated answer is the next hop, which is the attacker only when a
	 * positioning alert named it (checked below), else the gateway. */
	offender_mac[0] = '\0';
	if (offender->has_mac)
		util_mac_fmt(offender->mac, offender_mac);
	if (f.new_mac[0] == '\0' && ph == PH_POS && !f.ambiguous)
		util_strlcpy(f.new_mac, offender_mac, sizeof(f.new_mac));

	seg[0] = '\0';
	if (f.new_mac[0] != '\0' || offender_mac[0] != '\0')
		snprintf(seg, sizeof(seg), "v%u seg %s", (unsigned)a->vlan,
			 f.new_mac[0] != '\0' ? f.new_mac : offender_mac);
	if (unicast_ip(victim))
		snprintf(key, sizeof(key), "v%u %s", (unsigned)a->vlan, util_addr_fmt(&victim->ip, ip));
	else if (ph == PH_POS && seg[0] != '\0')
		util_strlcpy(key, seg, sizeof(key));
	else if (victim->has_mac && !util_mac_is_mcast(victim->mac))
		snprintf(key, sizeof(key), "v%u %s", (unsigned)a->vlan, util_mac_fmt(victim->mac, mac));
	else
		return;

	in = find(s, key, a->ts_us);
	/* a manipulation alert sent from the MAC of a segment-wide positioning joins it */
	if (in == NULL && ph == PH_MAN && seg[0] != '\0')
		in = find(s, seg, a->ts_us);
	if (in == NULL) {
		if (id == NULL)
			return; /* a repeat of an alert that made no incident */
		if (f.ambiguous && f.new_mac[0] == '\0')
			return; /* an owner reclaiming its address opens no story of its own */
		in = create(s, key, a->ts_us);
		if (in == NULL)
			return;
		in->vlan = a->vlan;
		in->segment = strcmp(key, seg) == 0;
		if (!in->segment) {
			if (unicast_ip(victim))
				in->victim.ip = victim->ip;
			in->victim.has_mac = victim->has_mac;
			memcpy(in->victim.mac, victim->mac, 6);
		}
	}
	in->touched = ++s->clock;
	if (a->ts_us > in->last_us)
		in->last_us = a->ts_us;
	if (a->ts_us < in->first_us)
		in->first_us = a->ts_us;

	/* Cross-layer evidence: the other phase already seen for this victim makes
	 * this member likelier to be what it looks like. */
	if (in->phases & other) {
		a->severity = a->severity + INC_BOOST > 10 ? 10 : a->severity + INC_BOOST;
		a->confidence = CONF_HIGH;
	}

	if (id == NULL) {
		in->repeats++;
	} else {
		uint8_t before = in->phases;
		int sev_before = in->max_sev;
		bool newtype = !has_type(in, a->type);
		if (in->nm < INC_MEMBERS_MAX) {
			struct member *m = &in->m[in->nm++];
			util_strlcpy(m->id, id, sizeof(m->id));
			m->type = a->type;
			m->ts_us = a->ts_us;
			m->severity = a->severity;
		} else {
			in->members_dropped++;
		}
		if (newtype && in->ntypes < INC_TYPES_MAX)
			in->types[in->ntypes++] = a->type;
		in->phases |= (uint8_t)ph;
		if (a->severity > in->max_sev)
			in->max_sev = a->severity;
		if (a->confidence > in->conf)
			in->conf = a->confidence;
		if ((in->phases & (PH_POS | PH_MAN)) == (PH_POS | PH_MAN))
			in->conf = CONF_HIGH;
		if (f.sanctioned)
			in->sanctioned = true;
		if (ph == PH_MAN && f.new_mac[0] != '\0')
			in->local_mac = true;
		if (f.new_mac[0] != '\0')
			add_attacker(in, f.new_mac);
		else if (offender_mac[0] != '\0' && is_attacker(in, offender_mac))
			add_attacker(in, offender_mac); /* served through the attacker's MAC */
		/* a rogue server's address (DHCP, router, name responder) */
		if (ph == PH_POS && strncmp(a->type->action, "arp.", 4) != 0 && ep_has_ip(offender)) {
			snprintf(buf, sizeof(buf), "%s", util_addr_fmt(&offender->ip, ip));
			add_attacker(in, buf);
		}
		if (f.product[0] != '\0')
			add_attacker(in, f.product);
		if (!in->published)
			in->published = in->ntypes >= 2 || in->max_sev >= INC_PUBLISH_SEVERITY ||
					in->sanctioned;
		/* Past INC_MEMBERS_MAX a flood only counts; the closing line has the total. */
		if (in->published && (in->members_dropped == 0 || in->phases != before ||
				      in->max_sev != sev_before || newtype))
			s->pending = in;
	}
	if (in->published)
		util_strlcpy(a->incident, in->id, sizeof(a->incident));
}

static void incident_written(void *ud)
{
	struct inc_state *s = ud;
	if (s->pending != NULL) {
		emit(s, s->pending, false);
		s->pending = NULL;
	}
}

static void incident_tick(void *ud, uint64_t now_us)
{
	struct inc_state *s = ud;
	for (size_t i = 0; i < s->n;) {
		struct incident *in = s->tab[i];
		if ((now_us >= in->last_us && now_us - in->last_us >= s->quiet_us) ||
		    (now_us >= in->first_us && now_us - in->first_us >= s->window_us))
			close_at(s, i); /* moves the last slot into i */
		else
			i++;
	}
}

static void incident_flush(void *ud)
{
	struct inc_state *s = ud;
	/* oldest first, so the closing lines come in the order the stories began */
	while (s->n > 0) {
		size_t old = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->tab[i]->first_us < s->tab[old]->first_us ||
			    (s->tab[i]->first_us == s->tab[old]->first_us &&
			     strcmp(s->tab[i]->id, s->tab[old]->id) < 0))
				old = i;
		close_at(s, old);
	}
}

static const struct alert_observer inc_observer = {
	incident_alert, incident_written, incident_tick, incident_flush,
};

/* ---------------------------------------------------------------- detector */

void det_incident_attach(void *state, struct alert_pipe *ap)
{
	struct inc_state *s = state;
	if (s == NULL || s->ap == ap)
		return;
	if (s->ap != NULL)
		alert_pipe_set_observer(s->ap, NULL, s);
	s->ap = ap;
	alert_pipe_set_observer(ap, &inc_observer, s);
}

static void inc_on_tick(void *state, uint64_t now_us, struct alert_pipe *out)
{
	(void)now_us;
	det_incident_attach(state, out);
}

static int inc_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "window", "quiet", "max_incidents",
					    "min_severity", NULL };
	const struct cfg_node *sec = in->section;
	uint64_t window = INC_DEFAULT_WINDOW_S, quiet = INC_DEFAULT_QUIET_S;
	uint64_t max = INC_DEFAULT_MAX, minsev = INC_DEFAULT_MIN_SEVERITY;
	struct inc_state *s;

	if (cfg_check_keys(in->cfg, sec, "detectors.incident", keys, in->err, in->errlen) < 0 ||
	    cfg_duration(in->cfg, sec, "window", 1, INC_MAX_WINDOW_S, &window, in->err, in->errlen) < 0 ||
	    cfg_duration(in->cfg, sec, "quiet", 1, INC_MAX_WINDOW_S, &quiet, in->err, in->errlen) < 0 ||
	    cfg_uint(in->cfg, sec, "max_incidents", 1, INC_MAX_LIMIT, &max, in->err, in->errlen) < 0 ||
	    cfg_uint(in->cfg, sec, "min_severity", 1, 10, &minsev, in->err, in->errlen) < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s != NULL)
		s->tab = calloc((size_t)max, sizeof(*s->tab));
	if (s == NULL || s->tab == NULL) {
		free(s);
		snprintf(in->err, in->errlen, "detectors.incident: out of memory");
		return -1;
	}
	s->window_us = window * 1000000u;
	s->quiet_us = quiet * 1000000u;
	s->max = (uint32_t)max;
	s->min_sev = (int)minsev;
	jw_init(&s->w);
	*state = s;
	return 0;
}

static void inc_fini(void *state)
{
	struct inc_state *s = state;
	if (s == NULL)
		return;
	/* Detached first (under the pipe's lock): no callback runs into this state any
	 * more. Then open incidents close (a reload; at the end of a run
	 * alert_pipe_flush has closed them already). The pipe must outlive the
	 * registry, as in sensor_free. */
	if (s->ap != NULL) {
		alert_pipe_set_observer(s->ap, NULL, s);
		incident_flush(s);
	}
	for (size_t i = 0; i < s->n; i++)
		free(s->tab[i]);
	free(s->tab);
	jw_free(&s->w);
	free(s);
}

void det_incident_stats(void *state, struct det_incident_stats *st)
{
	const struct inc_state *s = state;
	memset(st, 0, sizeof(*st));
	if (s == NULL)
		return;
	st->open = s->n;
	st->opened = s->opened;
	st->closed = s->closed;
	st->evicted = s->evicted;
	st->updates = s->updates;
}

const struct detector det_incident = {
	.name = "incident",
	.types = inc_types,
	.ntypes = ONPATH_ARRAY_LEN(inc_types),
	.init = inc_init,
	.fini = inc_fini,
	.on_tick = inc_on_tick,
};
