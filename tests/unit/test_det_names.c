/* test_det_names.c - the names detector (detectors/names.c): LLMNR, mDNS and NBT-NS
 * answers built by hand (struct dns_msg filled field by field). A Responder-style host
 * answering for many names, for a name another host registered or announced, and for
 * wpad; legitimate hosts answering for themselves, group names, WINS answers and
 * configured responders stay silent. */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../detectors/detector.h"
#include "decode/dns.h"
#include "output.h"

#define T0 1700000000000000ull
#define SEC 1000000ull

struct fx {
	char path[64];
	struct out_mgr *out;
	struct alert_pipe *ap;
	struct cfg *cfg;
	struct det_registry *reg;
	size_t seen;
};

static struct dns_msg MSG;

static const char *sigdir(void)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");
	if (!top)
		return SRCSIGDIR;
	snprintf(buf, sizeof(buf), "%s/signatures", top);
	return buf;
}

static void fx_open(struct fx *f, const char *yaml, const json_t *saved)
{
	char err[512];
	strcpy(f->path, "/tmp/test_det_names.XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	char spec[128];
	snprintf(spec, sizeof(spec), "jsonl:%s", f->path);
	f->out = out_mgr_new(1024, false);
	assert_int_equal(out_mgr_add(f->out, spec, err, sizeof(err)), 0);
	assert_int_equal(out_mgr_start(f->out), 0);
	struct alert_pipe_cfg ac = { "test", NULL, 300, 65536, 1 };
	f->ap = alert_pipe_new(&ac, f->out);
	f->cfg = NULL;
	f->seen = 0;
	if (yaml && cfg_load_string(yaml, strlen(yaml), "t.yaml", &f->cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	f->reg = det_registry_new_state(f->cfg, sigdir(), saved, 0, err, sizeof(err));
	if (!f->reg)
		fail_msg("registry: %s", err);
}

static void fx_close(struct fx *f)
{
	det_registry_free(f->reg);
	alert_pipe_free(f->ap);
	out_mgr_free(f->out);
	cfg_free(f->cfg);
	unlink(f->path);
	f->reg = NULL;
}

static void reopen(struct fx *f, const char *yaml, const json_t *saved)
{
	fx_close(f);
	fx_open(f, yaml, saved);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	fx_open(f, NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->reg)
		fx_close(f);
	free(f);
	return 0;
}

static json_t *alerts(struct fx *f)
{
	alert_pipe_flush(f->ap);
	out_mgr_sync(f->out);
	json_t *arr = json_array();
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char *line = NULL;
	size_t cap = 0, n = 0;
	while (getline(&line, &cap, fp) > 0) {
		if (n++ < f->seen)
			continue;
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("invalid JSON line: %s: %s", e.text, line);
		if (json_is_true(json_object_get(json_object_get(j, "onpath"), "aggregate")))
			json_decref(j);
		else
			json_array_append_new(arr, j);
	}
	f->seen = n;
	free(line);
	fclose(fp);
	return arr;
}

static const char *action(json_t *a)
{
	return json_string_value(json_object_get(json_object_get(a, "event"), "action"));
}

static size_t count(json_t *arr, const char *act)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(action(json_array_get(arr, i)), act) == 0)
			n++;
	return n;
}

static json_t *first(json_t *arr, const char *act)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(action(json_array_get(arr, i)), act) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static json_t *evd(json_t *a, const char *k)
{
	return json_object_get(json_object_get(json_object_get(a, "onpath"), "evidence"), k);
}

static json_int_t sev(json_t *a)
{
	return json_integer_value(json_object_get(json_object_get(a, "event"), "severity"));
}

#define EXPECT(arr, act, n)                                                              \
	do {                                                                             \
		if (count(arr, act) != (size_t)(n)) {                                    \
			for (size_t i_ = 0; i_ < json_array_size(arr); i_++) {           \
				char *s_ = json_dumps(json_array_get(arr, i_), JSON_COMPACT); \
				fprintf(stderr, "  %s\n", s_);                           \
				free(s_);                                                \
			}                                                                \
			fail_msg("%s: %zu alerts, expected %d", act, count(arr, act), (int)(n)); \
		}                                                                        \
	} while (0)

/* ------------------------------------------------------------------ events */

/* Hosts: victim 192.0.2.20, real file server 192.0.2.30, Responder 192.0.2.66. */
#define VICTIM "192.0.2.20"
#define VICTIM_MAC "02:00:00:00:00:20"
#define SERVER "192.0.2.30"
#define SERVER_MAC "02:00:00:00:00:30"
#define EVIL "192.0.2.66"
#define EVIL_MAC "02:00:00:00:00:66"

/* NetBIOS first-level encoding of a name padded to 15 with suffix sfx. */
static void nb_encode(const char *name, uint8_t sfx, char out[33])
{
	uint8_t raw[16];
	memset(raw, ' ', 15);
	memcpy(raw, name, strlen(name));
	raw[15] = sfx;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (char)('A' + (raw[i] >> 4));
		out[2 * i + 1] = (char)('A' + (raw[i] & 15));
	}
	out[32] = '\0';
}

static void put_rr(const char *name, uint16_t type, const char *addr, uint16_t aux, int section)
{
	struct dns_msg *d = &MSG;
	struct dns_rr *rr = &d->rr[d->nrr++];
	memset(rr, 0, sizeof(*rr));
	rr->section = (uint8_t)section;
	rr->type = type;
	rr->klass = DNS_C_IN;
	rr->ttl = 30;
	rr->name = dec_dns_put(d, name, strlen(name));
	rr->name_hash = dec_dns_name_hash(name, strlen(name));
	rr->data = dec_dns_put(d, addr, strlen(addr));
	rr->aux = aux;
	rr->rdlen = type == DNS_T_NB ? 6 : type == DNS_T_A ? 4 : 16;
	assert_int_equal(util_addr_parse(addr, &rr->addr), 0);
	if (section == DNS_SEC_AN)
		d->nan++;
}

static void header(uint16_t id, bool qr, uint8_t opcode, uint16_t flags, const char *qname,
		   uint16_t qtype)
{
	struct dns_msg *d = &MSG;
	dec_dns_clear(d);
	d->id = id;
	d->qr = qr;
	d->opcode = opcode;
	d->flags = (uint16_t)((qr ? DNS_F_QR : 0) | flags | (opcode << 11));
	d->stage = DNS_STAGE_DONE;
	if (qname) {
		d->nq = d->qdcount = 1;
		d->q[0].name = dec_dns_put(d, qname, strlen(qname));
		d->q[0].hash = dec_dns_name_hash(qname, strlen(qname));
		d->q[0].type = qtype;
		d->q[0].klass = DNS_C_IN;
	}
}

static void dispatch(struct fx *f, uint64_t ts, const char *src, const char *src_mac, uint16_t sport,
		     const char *dst, const char *dst_mac, uint16_t dport)
{
	struct dns_ev ev;
	memset(&ev, 0, sizeof(ev));
	ev.m.ts_us = ts;
	ev.m.has_eth = true;
	assert_int_equal(util_mac_parse(src_mac, ev.m.src_mac), 0);
	assert_int_equal(util_mac_parse(dst_mac, ev.m.dst_mac), 0);
	assert_int_equal(util_addr_parse(src, &ev.m.src), 0);
	assert_int_equal(util_addr_parse(dst, &ev.m.dst), 0);
	ev.m.sport = sport;
	ev.m.dport = dport;
	ev.m.proto = 17;
	ev.m.ip_ttl = 128;
	ev.m.community_id = "";
	ev.dns = &MSG;
	det_dispatch_dns(f->reg, &ev, f->ap);
}

/* host answers an LLMNR query of the victim for name with addr. */
static void llmnr_answer(struct fx *f, uint64_t ts, const char *host, const char *mac,
			 const char *name, const char *addr)
{
	header(0x1234, true, 0, 0, name, DNS_T_A);
	put_rr(name, DNS_T_A, addr, 0, DNS_SEC_AN);
	dispatch(f, ts, host, mac, 5355, VICTIM, VICTIM_MAC, 51000);
}

/* host answers an NBT-NS query for name<sfx> with addr (NB_FLAGS nbflags). */
static void nbns_answer(struct fx *f, uint64_t ts, const char *host, const char *mac,
			const char *name, uint8_t sfx, const char *addr, uint16_t nbflags, uint16_t id)
{
	char enc[33];
	nb_encode(name, sfx, enc);
	header(id, true, 0, DNS_F_AA, NULL, 0);
	put_rr(enc, DNS_T_NB, addr, nbflags, DNS_SEC_AN);
	dispatch(f, ts, host, mac, 137, VICTIM, VICTIM_MAC, 137);
}

/* ------------------------------------------------------------------ tests */

static void test_own_name_silent(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 20; i++) {
		llmnr_answer(f, T0 + (uint64_t)i * SEC, SERVER, SERVER_MAC, "filesrv", SERVER);
		nbns_answer(f, T0 + (uint64_t)i * SEC, SERVER, SERVER_MAC, "FILESRV", 0x20, SERVER, 0, 1);
		nbns_answer(f, T0 + (uint64_t)i * SEC, SERVER, SERVER_MAC, "FILESRV", 0x00, SERVER, 0, 2);
	}
	/* A group name (the workgroup) answered by several members is no claim. */
	nbns_answer(f, T0 + 30 * SEC, SERVER, SERVER_MAC, "WORKGROUP", 0x1e, SERVER, DNS_NB_GROUP, 3);
	nbns_answer(f, T0 + 30 * SEC, EVIL, EVIL_MAC, "WORKGROUP", 0x1e, EVIL, DNS_NB_GROUP, 4);
	json_t *arr = alerts(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

static void test_many_names(void **state)
{
	struct fx *f = *state;
	static const char *const asked[] = { "fileserv", "printr", "sharepoint2", "intranet-old" };
	for (int i = 0; i < 4; i++)
		llmnr_answer(f, T0 + (uint64_t)i * SEC, EVIL, EVIL_MAC, asked[i], EVIL);
	json_t *arr = alerts(f);
	EXPECT(arr, "names.poisoning", 1);
	json_t *a = first(arr, "names.poisoning");
	assert_string_equal(json_string_value(evd(a, "reason")), "many_names");
	assert_int_equal(json_integer_value(evd(a, "names_in_window")), 4);
	assert_int_equal(json_array_size(evd(a, "names")), 4);
	assert_string_equal(json_string_value(evd(a, "responder_mac")), EVIL_MAC);
	assert_true(json_is_true(evd(a, "answered_with_own_address")));
	assert_int_equal(sev(a), 6);
	json_t *tid = json_object_get(json_object_get(json_object_get(a, "threat"), "technique"), "id");
	assert_string_equal(json_string_value(json_array_get(tid, 0)), "T1557.001");
	json_decref(arr);
	/* Three names stay under the default threshold. */
	reopen(f, NULL, NULL);
	for (int i = 0; i < 3; i++)
		llmnr_answer(f, T0 + (uint64_t)i * SEC, EVIL, EVIL_MAC, asked[i], EVIL);
	arr = alerts(f);
	EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
	/* Allowed responders (a sleep proxy) are not judged. */
	reopen(f, "detectors:\n  names:\n    allowed_responders: [\"" EVIL_MAC "\", 192.0.2.99]\n", NULL);
	for (int i = 0; i < 4; i++)
		llmnr_answer(f, T0 + (uint64_t)i * SEC, EVIL, EVIL_MAC, asked[i], EVIL);
	arr = alerts(f);
	EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
}

/* The real server registers FILESRV; Responder then answers the victim's query for it. */
static void test_owned_by_other(void **state)
{
	struct fx *f = *state;
	char enc[33];
	nb_encode("FILESRV", 0x20, enc);
	header(0x0042, false, 5, DNS_F_RD | DNS_F_NBNS_B, enc, DNS_T_NB);
	put_rr(enc, DNS_T_NB, SERVER, 0, DNS_SEC_AR);
	dispatch(f, T0, SERVER, SERVER_MAC, 137, "192.0.2.255", "ff:ff:ff:ff:ff:ff", 137);
	nbns_answer(f, T0 + 60 * SEC, EVIL, EVIL_MAC, "FILESRV", 0x20, EVIL, 0, 7);
	json_t *arr = alerts(f);
	EXPECT(arr, "names.poisoning", 1);
	json_t *a = first(arr, "names.poisoning");
	assert_string_equal(json_string_value(evd(a, "reason")), "owned_by_other");
	assert_string_equal(json_string_value(evd(a, "name")), "FILESRV<20>");
	assert_string_equal(json_string_value(evd(a, "protocol")), "nbt-ns");
	json_t *o = evd(a, "owner");
	assert_string_equal(json_string_value(json_object_get(o, "ip")), SERVER);
	assert_string_equal(json_string_value(json_object_get(o, "mac")), SERVER_MAC);
	assert_string_equal(json_string_value(json_object_get(o, "how")), "registered/announced");
	assert_int_equal(sev(a), 7);
	json_decref(arr);
	/* The same name over LLMNR is the same name. */
	llmnr_answer(f, T0 + 61 * SEC, EVIL, EVIL_MAC, "FileSrv", EVIL);
	arr = alerts(f);
	EXPECT(arr, "names.poisoning", 1);
	assert_string_equal(json_string_value(evd(first(arr, "names.poisoning"), "protocol")), "llmnr");
	json_decref(arr);
	/* Once the owner has been silent for owner_ttl, another host may take the name. */
	reopen(f, "detectors:\n  names:\n    owner_ttl: 10m\n", NULL);
	llmnr_answer(f, T0, SERVER, SERVER_MAC, "filesrv", SERVER);
	llmnr_answer(f, T0 + 3600 * SEC, "192.0.2.31", "02:00:00:00:00:31", "filesrv", "192.0.2.31");
	arr = alerts(f);
	EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
}

/* An mDNS announcement claims alice.local; an answer giving another host's address for
 * it is poisoning. A DHCP renumbering of the owner itself is not. */
static void test_mdns(void **state)
{
	struct fx *f = *state;
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("alice.local", DNS_T_A, SERVER, 0, DNS_SEC_AN);
	put_rr("_services._dns-sd._udp.local", DNS_T_A, SERVER, 0, DNS_SEC_AR);
	dispatch(f, T0, SERVER, SERVER_MAC, 5353, "224.0.0.251", "01:00:5e:00:00:fb", 5353);
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("alice.local", DNS_T_A, "192.0.2.130", 0, DNS_SEC_AN);
	dispatch(f, T0 + 100 * SEC, "192.0.2.130", SERVER_MAC, 5353, "224.0.0.251", "01:00:5e:00:00:fb", 5353);
	json_t *arr = alerts(f);
	EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("alice.local", DNS_T_A, EVIL, 0, DNS_SEC_AN);
	dispatch(f, T0 + 200 * SEC, EVIL, EVIL_MAC, 5353, VICTIM, VICTIM_MAC, 5353);
	arr = alerts(f);
	EXPECT(arr, "names.poisoning", 1);
	assert_string_equal(json_string_value(evd(first(arr, "names.poisoning"), "protocol")), "mdns");
	json_decref(arr);
}

static void test_wpad(void **state)
{
	struct fx *f = *state;
	llmnr_answer(f, T0, EVIL, EVIL_MAC, "wpad", EVIL);
	nbns_answer(f, T0 + SEC, EVIL, EVIL_MAC, "WPAD", 0x00, EVIL, 0, 9);
	header(0, true, 0, DNS_F_AA, NULL, 0);
	put_rr("isatap.local", DNS_T_A, EVIL, 0, DNS_SEC_AN);
	dispatch(f, T0 + 2 * SEC, EVIL, EVIL_MAC, 5353, VICTIM, VICTIM_MAC, 5353);
	json_t *arr = alerts(f);
	/* One key per (responder, name): wpad over LLMNR and NBT-NS aggregate; isatap. */
	EXPECT(arr, "names.wpad", 2);
	json_t *w = first(arr, "names.wpad");
	assert_int_equal(sev(w), 7);
	assert_string_equal(json_string_value(evd(w, "name")), "wpad");
	assert_string_equal(json_string_value(json_array_get(evd(w, "answered_addresses"), 0)), EVIL);
	json_decref(arr);
	/* "wpadfoo" is not wpad. */
	llmnr_answer(f, T0 + 3 * SEC, SERVER, SERVER_MAC, "wpadfoo", SERVER);
	arr = alerts(f);
	EXPECT(arr, "names.wpad", 0);
	json_decref(arr);
}

/* NBT-NS answers to queries sent unicast to a name server (WINS) are the server's job. */
static void test_wins(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "HOSTA", "HOSTB", "HOSTC", "HOSTD", "HOSTE" };
	for (uint16_t i = 0; i < 5; i++) {
		char enc[33];
		nb_encode(names[i], 0x20, enc);
		header((uint16_t)(0x100 + i), false, 0, DNS_F_RD, enc, DNS_T_NB);
		dispatch(f, T0 + i * SEC, VICTIM, VICTIM_MAC, 137, "192.0.2.2", "02:00:00:00:00:02", 137);
		char addr[32];
		snprintf(addr, sizeof(addr), "192.0.2.%u", 100 + i);
		nbns_answer(f, T0 + i * SEC + 1000, "192.0.2.2", "02:00:00:00:00:02", names[i], 0x20, addr, 0,
			    (uint16_t)(0x100 + i));
	}
	json_t *arr = alerts(f);
	EXPECT(arr, "names.poisoning", 0);
	json_decref(arr);
}

static void test_save_load(void **state)
{
	struct fx *f = *state;
	llmnr_answer(f, T0, SERVER, SERVER_MAC, "filesrv", SERVER);
	json_t *saved = det_registry_save(f->reg);
	assert_non_null(json_object_get(saved, "names"));
	reopen(f, NULL, saved);
	json_decref(saved);
	llmnr_answer(f, T0 + 10 * SEC, EVIL, EVIL_MAC, "filesrv", EVIL);
	json_t *arr = alerts(f);
	EXPECT(arr, "names.poisoning", 1);
	json_decref(arr);
}

static void test_config_errors(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		{ "detectors:\n  names:\n    max_name: 3\n", "t.yaml:3: unknown key 'max_name'" },
		{ "detectors:\n  names:\n    max_names: 0\n", "t.yaml:3:" },
		{ "detectors:\n  names:\n    allowed_responders: [nope]\n", "t.yaml:3: detectors.names.allowed_responders" },
	};
	fx_close(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512];
		struct cfg *c = NULL;
		assert_int_equal(cfg_load_string(bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &c, err, sizeof(err)), 0);
		struct det_registry *r = det_registry_new(c, sigdir(), err, sizeof(err));
		if (r)
			fail_msg("accepted: %s", bad[i].yaml);
		if (!strstr(err, bad[i].want))
			fail_msg("error '%s' lacks '%s'", err, bad[i].want);
		cfg_free(c);
	}
	fx_open(f, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_name_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owned_by_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mdns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wpad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
