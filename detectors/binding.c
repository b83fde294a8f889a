/* binding.c - address-to-MAC bindings with history (see binding.h). */
#include "config.h"

#include <string.h>

#include "binding.h"
#include "util.h"

void det_binding_start(struct det_binding *v, const uint8_t mac[6], uint64_t now)
{
	memcpy(v->mac, mac, 6);
	v->first_us = v->last_us = v->since_us = now;
}

int det_binding_prev_index(const struct det_binding *v, const uint8_t mac[6])
{
	for (int i = 0; i < v->nprev; i++)
		if (memcmp(v->prev[i], mac, 6) == 0)
			return i;
	return -1;
}

void det_binding_change(struct det_binding *v, const uint8_t mac[6], int idx, uint64_t now)
{
	uint8_t old[6];
	uint64_t old_last = v->last_us;
	memcpy(old, v->mac, 6);
	/* History: drop the returning MAC from it, push the one it replaces in front. */
	if (idx >= 0) {
		memmove(&v->prev[idx], &v->prev[idx + 1], (size_t)(v->nprev - idx - 1) * 6);
		memmove(&v->prev_last[idx], &v->prev_last[idx + 1],
			(size_t)(v->nprev - idx - 1) * sizeof(v->prev_last[0]));
		v->nprev--;
	}
	size_t keep = v->nprev < DET_BINDING_PREV ? v->nprev : DET_BINDING_PREV - 1;
	memmove(&v->prev[1], &v->prev[0], keep * 6);
	memmove(&v->prev_last[1], &v->prev_last[0], keep * sizeof(v->prev_last[0]));
	memcpy(v->prev[0], old, 6);
	v->prev_last[0] = old_last;
	v->nprev = (uint8_t)(keep + 1);
	memcpy(v->mac, mac, 6);
	v->since_us = v->last_us = now;
	v->changes++;
}

json_t *det_json_mac_str(const uint8_t mac[6])
{
	char b[OP_MAC_STRLEN];
	return json_string(util_mac_fmt(mac, b));
}

void det_binding_to_json(const struct det_binding *v, json_t *e)
{
	json_t *prev = json_array();
	json_object_set_new(e, "mac", det_json_mac_str(v->mac));
	json_object_set_new(e, "first", json_integer((json_int_t)v->first_us));
	json_object_set_new(e, "last", json_integer((json_int_t)v->last_us));
	json_object_set_new(e, "since", json_integer((json_int_t)v->since_us));
	json_object_set_new(e, "changes", json_integer(v->changes));
	for (size_t i = 0; i < v->nprev; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "mac", det_json_mac_str(v->prev[i]));
		json_object_set_new(p, "last", json_integer((json_int_t)v->prev_last[i]));
		json_array_append_new(prev, p);
	}
	json_object_set_new(e, "prev", prev);
}

int det_json_ts(const json_t *o, const char *k, uint64_t *v)
{
	const json_t *x = json_object_get(o, k);
	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

int det_json_mac(const json_t *o, const char *k, uint8_t mac[6])
{
	const char *t = json_string_value(json_object_get(o, k));
	return t && util_mac_parse(t, mac) == 0 ? 0 : -1;
}

int det_binding_from_json(const json_t *e, struct det_binding *v)
{
	const json_t *prev = json_object_get(e, "prev"), *p;
	uint64_t ch = 0;
	size_t j;
	memset(v, 0, sizeof(*v));
	if (det_json_mac(e, "mac", v->mac) < 0 || det_json_ts(e, "first", &v->first_us) < 0 ||
	    det_json_ts(e, "last", &v->last_us) < 0 || det_json_ts(e, "since", &v->since_us) < 0 ||
	    det_json_ts(e, "changes", &ch) < 0 || (prev && !json_is_array(prev)))
		return -1;
	v->changes = ch > UINT32_MAX ? UINT32_MAX : (uint32_t)ch;
	json_array_foreach(prev, j, p) {
		if (v->nprev == DET_BINDING_PREV)
			break;
		if (det_json_mac(p, "mac", v->prev[v->nprev]) < 0 || det_json_ts(p, "last", &v->prev_last[v->nprev]) < 0)
			return -1;
		v->nprev++;
	}
	return 0;
}
