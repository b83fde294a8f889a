/* common.c - small helpers shared by the detectors (see detector.h). */
#include "config.h"

#include <string.h>

#include "detector.h"
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

void det_alert_from_meta(struct alert *a, const struct ev_meta *m)
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
}
