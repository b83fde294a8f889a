/* registry.c - the list of built-in detectors (by hand, no linker magic) and event
 * dispatch. Callbacks are gathered per event at init so dispatch is a short loop over
 * the detectors that asked for that event. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"

extern const struct detector det_arp;
extern const struct detector det_ndp;
extern const struct detector det_dhcp;
extern const struct detector det_issuer;
extern const struct detector det_tls;
extern const struct detector det_downgrade;
extern const struct detector det_dns;
extern const struct detector det_names;
extern const struct detector det_ssh;
extern const struct detector det_http;
extern const struct detector det_starttls;
extern const struct detector det_records;
extern const struct detector det_incident;
extern const struct detector det_fhrp;
extern const struct detector det_rewrite;

const struct detector *const det_builtin[] = {
	&det_arp,
	&det_ndp,
	&det_dhcp,
	&det_issuer,
	&det_tls,
	&det_downgrade,
	&det_dns,
	&det_names,
	&det_ssh,
	&det_http,
	&det_starttls,
	&det_records,
	&det_incident,
	&det_fhrp,
	&det_rewrite,
};
const size_t det_builtin_count = ONPATH_ARRAY_LEN(det_builtin);

struct det_slot {
	const struct detector *d;
	void *state;
};

#define NDET ONPATH_ARRAY_LEN(det_builtin)

struct det_registry {
	struct det_slot all[NDET];
	size_t nall;
	/* Per event, the detectors that asked for it, in registry order. */
	struct det_slot arp[NDET], ndp[NDET], dhcp[NDET], dns[NDET], tls[NDET], tick[NDET];
	struct det_slot starttls[NDET], http[NDET], ssh[NDET];
	size_t narp, nndp, ndhcp, ndns, ntls, ntick, nstarttls, nhttp, nssh;
	struct det_slot vrrp[NDET], rewrite[NDET];
	size_t nvrrp, nrewrite;
	pthread_mutex_t *lock; /* several capture workers: see det_registry_set_lock() */
};

void det_registry_set_lock(struct det_registry *r, pthread_mutex_t *mu)
{
	r->lock = mu;
}

/* Without workers there is no lock: a flag test (and the usual case). */
static inline void reg_lock(struct det_registry *r)
{
	if (__builtin_expect(r->lock != NULL, 0))
		pthread_mutex_lock(r->lock);
}

static inline void reg_unlock(struct det_registry *r)
{
	if (__builtin_expect(r->lock != NULL, 0))
		pthread_mutex_unlock(r->lock);
}

void det_registry_lock(struct det_registry *r)
{
	reg_lock(r);
}

void det_registry_unlock(struct det_registry *r)
{
	reg_unlock(r);
}

/* One event to the detectors that asked for it, under the workers' lock if any. */
#define DISPATCH(r, list, n, cb, ev, out)                                  \
	do {                                                               \
		reg_lock(r);                                               \
		for (size_t i_ = 0; i_ < (r)->n; i_++)                     \
			(r)->list[i_].d->cb((r)->list[i_].state, ev, out); \
		reg_unlock(r);                                             \
	} while (0)

struct det_registry *det_registry_new(const struct cfg *cfg, const char *sig_dir, char *err,
				      size_t errlen)
{
	return det_registry_new_state(cfg, sig_dir, NULL, 0, err, errlen);
}

struct det_registry *det_registry_new_state(const struct cfg *cfg, const char *sig_dir,
					    const json_t *saved, uint64_t learning_s, char *err,
					    size_t errlen)
{
	struct det_registry *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "detectors: out of memory");
		return NULL;
	}
	const struct cfg_node *dets = cfg ? cfg_get(cfg->root, "detectors") : NULL;
	if (dets) {
		/* Every section under detectors: must name a detector. */
		const char *names[ONPATH_ARRAY_LEN(det_builtin) + 1];
		for (size_t i = 0; i < det_builtin_count; i++)
			names[i] = det_builtin[i]->name;
		names[det_builtin_count] = NULL;
		if (cfg_check_keys(cfg, dets, "detectors", names, err, errlen) < 0)
			goto fail;
	}
	for (size_t i = 0; i < det_builtin_count; i++) {
		const struct detector *d = det_builtin[i];
		const struct cfg_node *sec = dets ? cfg_get(dets, d->name) : NULL;
		bool enabled = true;
		if (cfg_bool(cfg, sec, "enabled", &enabled, err, errlen) < 0)
			goto fail;
		if (!enabled)
			continue;
		const json_t *mine = saved ? json_object_get(saved, d->name) : NULL;
		struct det_init in = { cfg, sec, sig_dir, mine == NULL, learning_s, err, errlen };
		void *st = NULL;
		int rc = d->init ? d->init(&st, &in) : 0;
		if (rc < 0)
			goto fail;
		if (rc > 0)
			continue; /* idle with this config: no callbacks, no cost */
		struct det_slot s = { d, st };
		r->all[r->nall++] = s;
		if (mine && d->load && d->load(st, mine, err, errlen) < 0) {
			/* A damaged section must not stop the sensor: start this detector
			 * cold and say why once. */
			fprintf(stderr, "onpath: state for %s ignored: %s\n", d->name, err);
			err[0] = '\0';
		}
		if (d->on_arp)
			r->arp[r->narp++] = s;
		if (d->on_ndp)
			r->ndp[r->nndp++] = s;
		if (d->on_dhcp)
			r->dhcp[r->ndhcp++] = s;
		if (d->on_dns)
			r->dns[r->ndns++] = s;
		if (d->on_tls)
			r->tls[r->ntls++] = s;
		if (d->on_starttls)
			r->starttls[r->nstarttls++] = s;
		if (d->on_http)
			r->http[r->nhttp++] = s;
		if (d->on_ssh)
			r->ssh[r->nssh++] = s;
		if (d->on_vrrp)
			r->vrrp[r->nvrrp++] = s;
		if (d->on_rewrite)
			r->rewrite[r->nrewrite++] = s;
		if (d->on_tick)
			r->tick[r->ntick++] = s;
	}
	return r;
fail:
	det_registry_free(r);
	return NULL;
}

void det_registry_free(struct det_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nall; i++)
		if (r->all[i].d->fini)
			r->all[i].d->fini(r->all[i].state);
	free(r);
}

void det_dispatch_arp(struct det_registry *r, const struct arp_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, arp, narp, on_arp, ev, out);
}

void det_dispatch_ndp(struct det_registry *r, const struct ndp_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, ndp, nndp, on_ndp, ev, out);
}

void det_dispatch_dhcp(struct det_registry *r, const struct dhcp_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, dhcp, ndhcp, on_dhcp, ev, out);
}

void det_dispatch_dns(struct det_registry *r, const struct dns_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, dns, ndns, on_dns, ev, out);
}

void det_dispatch_tls(struct det_registry *r, const struct tls_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, tls, ntls, on_tls, ev, out);
}

void det_dispatch_starttls(struct det_registry *r, const struct starttls_ev *ev,
			   struct alert_pipe *out)
{
	DISPATCH(r, starttls, nstarttls, on_starttls, ev, out);
}

void det_dispatch_http(struct det_registry *r, const struct http_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, http, nhttp, on_http, ev, out);
}

void det_dispatch_ssh(struct det_registry *r, const struct ssh_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, ssh, nssh, on_ssh, ev, out);
}

void det_dispatch_vrrp(struct det_registry *r, const struct vrrp_ev *ev, struct alert_pipe *out)
{
	DISPATCH(r, vrrp, nvrrp, on_vrrp, ev, out);
}

void det_dispatch_rewrite(struct det_registry *r, const struct rewrite_ev *ev,
			  struct alert_pipe *out)
{
	DISPATCH(r, rewrite, nrewrite, on_rewrite, ev, out);
}

bool det_wants_rewrite(const struct det_registry *r)
{
	return r->nrewrite > 0;
}

bool det_wants_vrrp(const struct det_registry *r)
{
	return r->nvrrp > 0;
}

bool det_wants_ndp(const struct det_registry *r)
{
	return r->nndp > 0;
}

bool det_wants_dhcp(const struct det_registry *r)
{
	return r->ndhcp > 0;
}

bool det_wants_dns(const struct det_registry *r)
{
	return r->ndns > 0;
}

bool det_wants_tls(const struct det_registry *r)
{
	return r->ntls > 0;
}

bool det_wants_starttls(const struct det_registry *r)
{
	return r->nstarttls > 0;
}

bool det_wants_http(const struct det_registry *r)
{
	return r->nhttp > 0;
}

bool det_wants_ssh(const struct det_registry *r)
{
	return r->nssh > 0;
}

json_t *det_registry_save(struct det_registry *r)
{
	json_t *root = json_object();
	if (!root)
		return NULL;
	for (size_t i = 0; i < r->nall; i++) {
		const struct detector *d = r->all[i].d;
		if (!d->save)
			continue;
		json_t *v = d->save(r->all[i].state);
		if (v)
			json_object_set_new(root, d->name, v);
	}
	return root;
}

void det_dispatch_tick(struct det_registry *r, uint64_t now_us, struct alert_pipe *out)
{
	for (size_t i = 0; i < r->ntick; i++)
		r->tick[i].d->on_tick(r->tick[i].state, now_us, out);
}

size_t det_registry_active(const struct det_registry *r)
{
	return r->nall;
}

const struct alert_type *det_find_type(const char *action)
{
	for (size_t i = 0; i < det_builtin_count; i++)
		for (size_t j = 0; j < det_builtin[i]->ntypes; j++)
			if (strcmp(det_builtin[i]->types[j].action, action) == 0)
				return &det_builtin[i]->types[j];
	return NULL;
}
