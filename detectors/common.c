/* common.c - small helpers shared by the detectors (see detector.h). */
#include "config.h"

#include <string.h>

#include "detector.h"
#include "../monitor/flow.h"
#include "../monitor/util.h"

/* IP protocols whose header starts with a source and a destination port. */
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_DCCP 33
#define IPPROTO_NUM_SCTP 132

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_NUM_TCP || proto == IPPROTO_NUM_UDP || proto == IPPROTO_NUM_DCCP ||
	       proto == IPPROTO_NUM_SCTP;
}

void det_printable(char *dst, size_t cap, const void *src, size_t n, char repl)
{
	const unsigned char *s = src;
	size_t o = 0;
	for (; o < n && o + 1 < cap; o++)
		dst[o] = s[o] >= 0x20 && s[o] < 0x7f ? (char)s[o] : repl;
	dst[o] = '\0';
}

/* sensor.community_id_seed, set by the sensor (det_set_community_seed). */
static uint16_t community_seed;

void det_set_community_seed(uint16_t seed)
{
	community_seed = seed;
}

void det_endpoints_from_meta(struct alert *a, const struct ev_meta *m, uint16_t seed)
{
	a->src.ip = m->src;
	a->dst.ip = m->dst;
	if (has_ports(m->proto)) {
		a->src.port = m->sport;
		a->dst.port = m->dport;
		a->src.has_port = a->dst.has_port = true;
	}
	if (m->has_eth) {
		memcpy(a->src.mac, m->src_mac, 6);
		memcpy(a->dst.mac, m->dst_mac, 6);
		a->src.has_mac = a->dst.has_mac = true;
	}
	a->transport = m->proto;
	a->vlan = m->vlan;
	if (m->community_id != NULL && m->community_id[0] != '\0')
		util_strlcpy(a->community_id, m->community_id, sizeof(a->community_id));
	/* The flow's Community ID, for pivoting to Zeek, Suricata and the pcap: computed
	 * here, per alert or record, rather than per event. */
	if (a->community_id[0] == '\0' && has_ports(m->proto) &&
	    (m->src.family == 4 || m->src.family == 6) && m->src.family == m->dst.family) {
		struct flow_key k;
		memset(&k, 0, sizeof(k));
		memcpy(k.a, m->src.a, sizeof(k.a));
		memcpy(k.b, m->dst.a, sizeof(k.b));
		k.pa = m->sport;
		k.pb = m->dport;
		k.vlan = m->vlan;
		k.family = m->src.family;
		k.proto = m->proto;
		if (flow_community_id(&k, seed, a->community_id, sizeof(a->community_id)) < 0)
			a->community_id[0] = '\0';
	}
}

void det_alert_from_meta(struct alert *a, const struct ev_meta *m)
{
	det_endpoints_from_meta(a, m, community_seed);
	const struct det_ndpi *nd = m->ndpi != NULL ? m->ndpi(m->ndpi_ctx) : NULL;
	if (nd != NULL) {
		util_strlcpy(a->ndpi_proto, nd->proto, sizeof(a->ndpi_proto));
		a->nndpi_risks = nd->nrisks < ALERT_NDPI_RISKS ? nd->nrisks : ALERT_NDPI_RISKS;
		for (unsigned i = 0; i < a->nndpi_risks; i++)
			a->ndpi_risks[i] = nd->risks[i];
	}
}
