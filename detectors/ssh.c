/* ssh.c - SSH interception indicators (struct ssh_ev: banners, KEXINIT lists, the
 * server host key), judged against a per-server baseline (address and port).
 *
 *  - ssh.host_key_changed: the server presents a host key of a type it has presented
 *    before, with another fingerprint. An SSH man-in-the-middle (ssh-mitm, Ettercap's
 *    SSH dissector, a rogue jump host) must present its own key: this is what the
 *    client's "REMOTE HOST IDENTIFICATION HAS CHANGED" warning is about, seen from the
 *    network so that it counts even when users click through. A key of a type not seen
 *    before for the server is learnt quietly (a server offers ed25519, ECDSA and RSA
 *    keys; which one a client gets depends on the client's hostkey list).
 *  - ssh.downgrade: the server's identification says SSH-1 (protoversion 1.x other
 *    than the compatible 1.99) where it said 2.0 before (the Ettercap/dsniff SSH-1
 *    downgrade), or its KEXINIT no longer offers any strong algorithm in a category
 *    (key exchange, cipher, MAC, host key) where it used to: only weak ones such as
 *    diffie-hellman-group1-sha1, 3des-cbc, arcfour, hmac-md5 or ssh-dss are left.
 *
 * Nothing alerts for a server never seen before, so a cold start needs no learning
 * window here; a change against a learnt baseline alerts at once. Servers are keyed by
 * address and port, as clients key known_hosts by name: an address handed to another
 * machine (DHCP) or a load balancer in front of servers with different keys alerts
 * once per new key, which is then learnt (up to SSHD_KEYS per server).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/ssh.h"
#include "decode/x509.h"
#include "detector.h"
#include "lru.h"

#define SSHD_DEFAULT_SERVERS 10000u
#define SSHD_KEYS 4          /* host keys (of distinct types, or a change) per server */
#define SSHD_SW_MAX 48       /* server software kept for evidence */

enum { S_HOSTKEY = 0, S_DOWNGRADE };

static const struct alert_type ssh_types[] = {
	[S_HOSTKEY] = { "ssh.host_key_changed", 8, "T1557", "Adversary-in-the-Middle",
			"SSH server presented a different host key of a known type than in its baseline" },
	[S_DOWNGRADE] = { "ssh.downgrade", 7, "T1557", "Adversary-in-the-Middle",
			  "SSH server fell back to protocol 1 or to only weak algorithms against its baseline" },
};

/* Algorithm categories judged for weakening; bits in srv.strong. */
enum { C_KEX = 0, C_ENC, C_MAC, C_HOSTKEY, C_N };
static const char *const cat_names[C_N] = { "kex", "cipher", "mac", "hostkey" };

#define F_V2 0x01   /* an SSH-2 identification (2.0 or 1.99) was seen */

struct hk {
	char type[SSH_NAME_MAX + 1];
	char fp[SSH_FP_STRLEN];
	uint64_t first_us, last_us;
};

struct srv {
	uint8_t nkeys;
	uint8_t flags;
	uint8_t strong;             /* categories (1 << C_*) ever offered with a strong algorithm */
	struct hk keys[SSHD_KEYS];
	char software[SSHD_SW_MAX];
	char hassh_server[33];
	uint64_t first_us, last_us;
};

struct sshd_state {
	bool downgrade;
	struct det_lru *servers;    /* "[addr]:port" -> struct srv */
};

/* Weak per category (ssh-audit's "fail" set, RFC 9142 "MUST NOT"/"SHOULD NOT"). */
static const char *const weak_kex[] = { "diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1",
					"diffie-hellman-group-exchange-sha1", "rsa1024-sha1",
					"gss-group1-sha1-toWM5Slw5Ew8Mqkay+al2g==", NULL };
static const char *const weak_enc[] = { "3des-cbc", "arcfour", "arcfour128", "arcfour256", "blowfish-cbc",
					"cast128-cbc", "des-cbc", "des-cbc@ssh.com", "none", "idea-cbc",
					"rijndael-cbc@lysator.liu.se", NULL };
static const char *const weak_mac[] = { "hmac-md5", "hmac-md5-96", "hmac-sha1-96", "hmac-md5-etm@openssh.com",
					"hmac-md5-96-etm@openssh.com", "hmac-sha1-96-etm@openssh.com", "umac-32@openssh.com",
					"none", NULL };
static const char *const weak_hostkey[] = { "ssh-dss", "ssh-rsa", "ssh-dss-cert-v01@openssh.com",
					    "ssh-rsa-cert-v01@openssh.com", "x509v3-sign-dss", NULL };

static bool in_set(const char *name, size_t l, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == l && memcmp(*set, name, l) == 0)
			return true;
	return false;
}

/* True when the list holds an algorithm outside the weak set. Pseudo-algorithms that
 * signal extensions (RFC 8308 ext-info-*, OpenSSH kex-strict-*) are not algorithms. */
static bool has_strong(const char *list, const char *const *weak)
{
	const char *p = list;
	while (*p) {
		size_t l = strcspn(p, ",");
		if (l && !in_set(p, l, weak) && strncmp(p, "ext-info-", 9) != 0 && strncmp(p, "kex-strict-", 11) != 0)
			return true;
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

static uint8_t strong_bits(const struct ssh_kexinit *k)
{
	uint8_t b = 0;
	if (has_strong(k->list[SSH_NL_KEX], weak_kex))
		b |= 1u << C_KEX;
	if (has_strong(k->list[SSH_NL_ENC_CS], weak_enc) || has_strong(k->list[SSH_NL_ENC_SC], weak_enc))
		b |= 1u << C_ENC;
	if (has_strong(k->list[SSH_NL_MAC_CS], weak_mac) || has_strong(k->list[SSH_NL_MAC_SC], weak_mac))
		b |= 1u << C_MAC;
	if (has_strong(k->list[SSH_NL_HOSTKEY], weak_hostkey))
		b |= 1u << C_HOSTKEY;
	return b;
}

static void server_key(const struct ssh_ev *ev, char *out, size_t cap)
{
	const struct op_addr *ip = ev->msg->from_server ? &ev->m.src : &ev->m.dst;
	uint16_t port = ev->msg->from_server ? ev->m.sport : ev->m.dport;
	char a[OP_ADDR_STRLEN];
	util_addr_fmt(ip, a);
	snprintf(out, cap, "[%s]:%u", a, port);
}

static void sshd_fini(void *state)
{
	struct sshd_state *s = state;
	if (!s)
		return;
	det_lru_free(s->servers);
	free(s);
}

static int sshd_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "max_servers", "downgrade", NULL };
	if (cfg_check_keys(in->cfg, in->section, "detectors.ssh", keys, in->err, in->errlen) < 0)
		return -1;
	uint64_t max = SSHD_DEFAULT_SERVERS;
	bool dg = true;
	if (cfg_uint(in->cfg, in->section, "max_servers", 16, DET_LRU_MAX_CAP, &max, in->err, in->errlen) < 0 ||
	    cfg_bool(in->cfg, in->section, "downgrade", &dg, in->err, in->errlen) < 0)
		return -1;
	struct sshd_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "ssh: out of memory");
		return -1;
	}
	s->downgrade = dg;
	dec_digest_init();
	s->servers = det_lru_new((size_t)max, sizeof(struct srv));
	if (!s->servers) {
		snprintf(in->err, in->errlen, "ssh: out of memory for %llu servers", (unsigned long long)max);
		sshd_fini(s);
		return -1;
	}
	*state = s;
	return 0;
}

static struct srv *server(struct sshd_state *s, const struct ssh_ev *ev, char *name, size_t cap)
{
	server_key(ev, name, cap);
	bool created;
	struct srv *b = det_lru_put(s->servers, name, &created);
	if (b && created)
		b->first_us = ev->m.ts_us;
	if (b)
		b->last_us = ev->m.ts_us;
	return b;
}

static void ev_client(struct alert *a, const struct ssh_ev *ev)
{
	jw_addr(&a->ev, "client", ev->msg->from_server ? &ev->m.dst : &ev->m.src);
	const struct ssh_banner *cb = &ev->msg->banner[0];
	if (cb->present)
		jw_str(&a->ev, "client_software", cb->software);
	const struct ssh_banner *sb = &ev->msg->banner[1];
	if (sb->present)
		jw_str(&a->ev, "server_software", sb->software);
}

static void judge_hostkey(struct sshd_state *s, const struct ssh_ev *ev, struct alert_pipe *out)
{
	const struct ssh_hostkey *h = &ev->msg->hostkey;
	char name[80];
	struct srv *b = server(s, ev, name, sizeof(name));
	if (!b)
		return;
	uint64_t ts = ev->m.ts_us;
	struct hk *same = NULL;
	for (int i = 0; i < b->nkeys; i++) {
		if (strcmp(b->keys[i].type, h->type) != 0)
			continue;
		if (strcmp(b->keys[i].fp, h->fp) == 0) {
			b->keys[i].last_us = ts;
			return;
		}
		if (!same || b->keys[i].last_us > same->last_us)
			same = &b->keys[i];
	}
	if (same) {
		struct alert a;
		alert_begin(&a, &ssh_types[S_HOSTKEY], ts);
		det_alert_from_meta(&a, &ev->m);
		a.confidence = CONF_HIGH;
		char first[OP_TS_STRLEN];
		snprintf(a.key, sizeof(a.key), "%.80s %s", name, h->fp);
		snprintf(a.message, sizeof(a.message),
			 "SSH server %s presented %s host key %s; it used %s since %s: an SSH man-in-the-middle presents its own key (or the server was rebuilt)",
			 name, h->type, h->fp, same->fp, util_ts_fmt(same->first_us, first));
		jw_str(&a.ev, "server", name);
		jw_str(&a.ev, "key_type", h->type);
		jw_str(&a.ev, "old_fingerprint", same->fp);
		jw_str(&a.ev, "new_fingerprint", h->fp);
		jw_str(&a.ev, "old_key_type", same->type);
		jw_str(&a.ev, "new_key_type", h->type);
		jw_ts(&a.ev, "first_seen", same->first_us);
		jw_ts(&a.ev, "last_seen", same->last_us);
		if (ev->msg->kex_alg[0])
			jw_str(&a.ev, "kex", ev->msg->kex_alg);
		ev_client(&a, ev);
		alert_emit(out, &a);
	}
	/* Learn it (a change too: the alert was the news; repeats are de-duplicated). */
	int slot = b->nkeys < SSHD_KEYS ? b->nkeys++ : 0;
	if (slot == 0 && b->nkeys == SSHD_KEYS)
		for (int i = 1; i < SSHD_KEYS; i++)
			if (b->keys[i].last_us < b->keys[slot].last_us)
				slot = i;
	struct hk *k = &b->keys[slot];
	util_strlcpy(k->type, h->type, sizeof(k->type));
	util_strlcpy(k->fp, h->fp, sizeof(k->fp));
	k->first_us = k->last_us = ts;
}

static void judge_banner(struct sshd_state *s, const struct ssh_ev *ev, struct alert_pipe *out)
{
	const struct ssh_banner *sb = &ev->msg->banner[1];
	char name[80];
	struct srv *b = server(s, ev, name, sizeof(name));
	if (!b)
		return;
	bool v1 = strncmp(sb->proto, "1.", 2) == 0 && strcmp(sb->proto, "1.99") != 0;
	if (v1 && (b->flags & F_V2) && s->downgrade) {
		struct alert a;
		alert_begin(&a, &ssh_types[S_DOWNGRADE], ev->m.ts_us);
		a.severity = 8;
		det_alert_from_meta(&a, &ev->m);
		a.confidence = CONF_HIGH;
		char sw[64], proto[SSH_PROTO_MAX + 1];
		det_printable(sw, sizeof(sw), sb->software, strlen(sb->software), '?');
		det_printable(proto, sizeof(proto), sb->proto, strlen(sb->proto), '?');
		snprintf(a.key, sizeof(a.key), "%.80s protocol %s", name, proto);
		snprintf(a.message, sizeof(a.message),
			 "SSH server %s announced protocol %s (%s) where it spoke SSH-2 before: SSH-1 downgrade, its sessions can be decrypted by whoever sits in between",
			 name, proto, sw);
		jw_str(&a.ev, "server", name);
		jw_str(&a.ev, "downgrade", "protocol");
		jw_str(&a.ev, "old_protocol", "2.0");
		jw_str(&a.ev, "new_protocol", sb->proto);
		jw_str(&a.ev, "old_software", b->software);
		jw_ts(&a.ev, "first_seen", b->first_us);
		ev_client(&a, ev);
		alert_emit(out, &a);
	}
	if (!v1)
		b->flags |= F_V2;
	util_strlcpy(b->software, sb->software, sizeof(b->software));
}

static void judge_kexinit(struct sshd_state *s, const struct ssh_ev *ev, struct alert_pipe *out)
{
	const struct ssh_kexinit *k = &ev->msg->kex[1];
	char name[80];
	struct srv *b = server(s, ev, name, sizeof(name));
	if (!b)
		return;
	uint8_t now = strong_bits(k);
	uint8_t lost = (uint8_t)(b->strong & ~now);
	if (lost && s->downgrade) {
		struct alert a;
		alert_begin(&a, &ssh_types[S_DOWNGRADE], ev->m.ts_us);
		det_alert_from_meta(&a, &ev->m);
		a.confidence = CONF_MEDIUM;
		char cats[64] = "";
		for (int c = 0; c < C_N; c++)
			if (lost & (1u << c))
				snprintf(cats + strlen(cats), sizeof(cats) - strlen(cats), "%s%s", cats[0] ? "," : "",
					 cat_names[c]);
		snprintf(a.key, sizeof(a.key), "%.80s algorithms %s", name, cats);
		snprintf(a.message, sizeof(a.message),
			 "SSH server %s now offers only weak algorithms for %s, where it offered strong ones before: algorithm downgrade by someone in between (or a misconfiguration)",
			 name, cats);
		jw_str(&a.ev, "server", name);
		jw_str(&a.ev, "downgrade", "algorithms");
		jw_arr_open(&a.ev, "weakened");
		for (int c = 0; c < C_N; c++)
			if (lost & (1u << c))
				jw_str(&a.ev, NULL, cat_names[c]);
		jw_arr_close(&a.ev);
		jw_str(&a.ev, "kex_algorithms", k->list[SSH_NL_KEX]);
		jw_str(&a.ev, "ciphers", k->list[SSH_NL_ENC_SC]);
		jw_str(&a.ev, "macs", k->list[SSH_NL_MAC_SC]);
		jw_str(&a.ev, "hostkey_algorithms", k->list[SSH_NL_HOSTKEY]);
		jw_str(&a.ev, "old_hassh_server", b->hassh_server);
		jw_str(&a.ev, "new_hassh_server", k->hassh);
		jw_ts(&a.ev, "first_seen", b->first_us);
		ev_client(&a, ev);
		alert_emit(out, &a);
	}
	/* The baseline keeps what the server could do: a weakened offer does not erase it. */
	b->strong |= now;
	util_strlcpy(b->hassh_server, k->hassh, sizeof(b->hassh_server));
}

static void sshd_on_ssh(void *state, const struct ssh_ev *ev, struct alert_pipe *out)
{
	struct sshd_state *s = state;
	const struct ssh_msg *m = ev->msg;
	if (!m || !m->from_server)
		return;
	switch (m->step) {
	case SSH_STEP_BANNER:
		if (m->banner[1].present)
			judge_banner(s, ev, out);
		break;
	case SSH_STEP_KEXINIT:
		if (m->kex[1].present)
			judge_kexinit(s, ev, out);
		break;
	case SSH_STEP_HOSTKEY:
		if (m->hostkey.present)
			judge_hostkey(s, ev, out);
		break;
	default:
		break;
	}
}

/* ---- persistence ---- */

static void save_srv(void *ud, const char *key, void *value)
{
	json_t *arr = ud;
	const struct srv *b = value;
	json_t *keys = json_array();
	for (int i = 0; i < b->nkeys; i++)
		json_array_append_new(keys, json_pack("{s:s,s:s,s:I,s:I}", "t", b->keys[i].type, "fp", b->keys[i].fp,
						      "f", (json_int_t)b->keys[i].first_us, "l",
						      (json_int_t)b->keys[i].last_us));
	json_array_append_new(arr, json_pack("{s:s,s:i,s:i,s:s,s:s,s:I,s:I,s:o}", "k", key, "flags", b->flags,
					     "strong", b->strong, "sw", b->software, "hassh", b->hassh_server,
					     "f", (json_int_t)b->first_us, "l", (json_int_t)b->last_us, "keys", keys));
}

static json_t *sshd_save(void *state)
{
	struct sshd_state *s = state;
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	det_lru_each(s->servers, save_srv, arr);
	return json_pack("{s:i,s:o}", "version", 1, "servers", arr);
}

static int sshd_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct sshd_state *s = state;
	json_t *arr = json_object_get(saved, "servers");
	if (json_integer_value(json_object_get(saved, "version")) != 1 || !json_is_array(arr)) {
		snprintf(err, errlen, "ssh: state is not version 1 with a servers list");
		return -1;
	}
	size_t i, j;
	json_t *o, *e;
	json_array_foreach(arr, i, o) {
		const char *k = json_string_value(json_object_get(o, "k"));
		json_t *keys = json_object_get(o, "keys");
		bool created;
		struct srv *b = k && json_is_array(keys) ? det_lru_put(s->servers, k, &created) : NULL;
		if (!b)
			continue;
		memset(b, 0, sizeof(*b));
		b->flags = (uint8_t)json_integer_value(json_object_get(o, "flags"));
		b->strong = (uint8_t)json_integer_value(json_object_get(o, "strong"));
		const char *sw = json_string_value(json_object_get(o, "sw"));
		const char *hs = json_string_value(json_object_get(o, "hassh"));
		util_strlcpy(b->software, sw ? sw : "", sizeof(b->software));
		util_strlcpy(b->hassh_server, hs ? hs : "", sizeof(b->hassh_server));
		b->first_us = (uint64_t)json_integer_value(json_object_get(o, "f"));
		b->last_us = (uint64_t)json_integer_value(json_object_get(o, "l"));
		json_array_foreach(keys, j, e) {
			const char *t = json_string_value(json_object_get(e, "t"));
			const char *fp = json_string_value(json_object_get(e, "fp"));
			if (!t || !fp || b->nkeys == SSHD_KEYS)
				continue;
			struct hk *h = &b->keys[b->nkeys++];
			util_strlcpy(h->type, t, sizeof(h->type));
			util_strlcpy(h->fp, fp, sizeof(h->fp));
			h->first_us = (uint64_t)json_integer_value(json_object_get(e, "f"));
			h->last_us = (uint64_t)json_integer_value(json_object_get(e, "l"));
		}
	}
	return 0;
}

const struct detector det_ssh = {
	.name = "ssh",
	.types = ssh_types,
	.ntypes = ONPATH_ARRAY_LEN(ssh_types),
	.init = sshd_init,
	.fini = sshd_fini,
	.on_ssh = sshd_on_ssh,
	.save = sshd_save,
	.load = sshd_load,
};
