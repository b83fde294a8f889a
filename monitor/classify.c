#include "config.h"

/* classify.c - nDPI 4.x (libndpi) behind classify.h. nDPI parses the packets itself
 * (it is the library trusted for "which protocol is this", as in ntopng); onpath keeps
 * copies of the first packets of the flows it inspects and hands them to nDPI only
 * when an alert wants its opinion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "classify.h"
#include "util.h"

struct cls {
	struct ndpi_detection_module_struct *mod;  /* NULL until the first look */
	struct cls_stats st;
};

struct kept {
	uint64_t ts_us;
	uint32_t off, len;
};

struct cls_flow {
	struct ndpi_flow_struct *nf;   /* NULL until the first look */
	ndpi_protocol proto;
	bool detected, done;           /* nDPI named it; nDPI wants nothing more */
	uint16_t n;                    /* packets kept (not yet given to nDPI) */
	uint16_t total;                /* packets ever kept */
	uint32_t len, cap;             /* bytes in buf */
	uint8_t *buf;
	struct kept k[CLS_MAX_PACKETS];
};

struct cls *cls_new(void)
{
	return calloc(1, sizeof(struct cls));
}

void cls_free(struct cls *c)
{
	if (!c)
		return;
	if (c->mod)
		ndpi_exit_detection_module(c->mod);
	free(c);
}

void cls_get_stats(const struct cls *c, struct cls_stats *st)
{
	*st = c->st;
}

struct cls_flow *cls_flow_new(struct cls *c)
{
	/* The per-flow state counts against the budget too: a flood of flows must not
	 * grow it past CLS_BUDGET. */
	if (c->st.bytes + sizeof(struct cls_flow) > CLS_BUDGET) {
		c->st.refused++;
		return NULL;
	}
	struct cls_flow *f = calloc(1, sizeof(struct cls_flow));
	if (f) {
		c->st.bytes += sizeof(*f);
		if (c->st.bytes > c->st.peak_bytes)
			c->st.peak_bytes = c->st.bytes;
	}
	return f;
}

static void drop_kept(struct cls *c, struct cls_flow *f)
{
	c->st.bytes -= f->cap;
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
	f->n = 0;
}

void cls_flow_free(struct cls *c, struct cls_flow *f)
{
	if (!f)
		return;
	drop_kept(c, f);
	if (f->nf)
		ndpi_free_flow(f->nf);
	c->st.bytes -= sizeof(*f);
	free(f);
}

bool cls_keep(struct cls *c, struct cls_flow *f, const uint8_t *l3, size_t len, uint64_t ts_us)
{
	if (f->done || !l3 || len == 0)
		return false;
	if (len > 65535)
		len = 65535; /* nDPI takes an unsigned short; the IP length bounds it anyway */
	if (f->total >= CLS_MAX_PACKETS || f->len + len > CLS_FLOW_BYTES) {
		c->st.refused++;
		return false;
	}
	if (f->len + len > f->cap) {
		uint32_t ncap = f->cap ? f->cap : 2048;
		while (ncap < f->len + len)
			ncap *= 2;
		if (ncap > CLS_FLOW_BYTES)
			ncap = CLS_FLOW_BYTES;
		if (c->st.bytes - f->cap + ncap > CLS_BUDGET) {
			c->st.refused++;
			return false;
		}
		uint8_t *nb = realloc(f->buf, ncap);
		if (!nb) {
			c->st.refused++;
			return false;
		}
		c->st.bytes += ncap - f->cap;
		if (c->st.bytes > c->st.peak_bytes)
			c->st.peak_bytes = c->st.bytes;
		f->buf = nb;
		f->cap = ncap;
	}
	memcpy(f->buf + f->len, l3, len);
	f->k[f->n] = (struct kept){ ts_us, f->len, (uint32_t)len };
	f->len += (uint32_t)len;
	f->n++;
	f->total++;
	c->st.kept++;
	return true;
}

static bool start(struct cls *c)
{
	NDPI_PROTOCOL_BITMASK all;

	if (c->mod || c->st.failed)
		return c->mod != NULL;
	c->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->mod) {
		c->st.failed = true;
		fprintf(stderr, "onpath: nDPI: cannot initialise the detection module; alerts go "
				"without nDPI evidence\n");
		return false;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->mod, &all);
	ndpi_finalize_initialization(c->mod);
	c->st.started = true;
	return true;
}

bool cls_look(struct cls *c, struct cls_flow *f, struct cls_info *info)
{
	info->proto[0] = '\0';
	info->risk = 0;
	if (!start(c))
		return false;
	if (!f->nf) {
		f->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
		if (!f->nf)
			return false;
		memset(f->nf, 0, SIZEOF_FLOW_STRUCT);
		c->st.looked++;
	}
	for (uint16_t i = 0; i < f->n && !f->done; i++) {
		const uint8_t *p = f->buf + f->k[i].off;
		unsigned short n = (unsigned short)f->k[i].len;
		uint64_t ms = f->k[i].ts_us / 1000;
		if (!f->detected) {
			f->proto = ndpi_detection_process_packet(c->mod, f->nf, p, n, ms);
			f->detected = f->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
				      f->proto.master_protocol != NDPI_PROTOCOL_UNKNOWN;
		} else {
			ndpi_process_extra_packet(c->mod, f->nf, p, n, ms);
		}
		c->st.ndpi_packets++;
		if (f->detected && !ndpi_extra_dissection_possible(c->mod, f->nf))
			f->done = true;
	}
	drop_kept(c, f);
	info->risk = f->nf->risk;
	if (f->detected)
		ndpi_protocol2name(c->mod, f->proto, info->proto, sizeof(info->proto));
	return info->proto[0] != '\0' || info->risk != 0;
}

const char *cls_risk_name(unsigned b)
{
	if (b == 0 || b >= NDPI_MAX_RISK)
		return NULL;
	return ndpi_risk2str((ndpi_risk_enum)b);
}
