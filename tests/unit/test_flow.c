/* test_flow.c - unit tests for the flow table (monitor/flow.c): canonical keys,
 * initiator rules, LRU eviction, idle expiry, Community ID v1 vectors.
 *
 * ONPATH_FLOW_BENCH=1 also runs a lookup micro-benchmark and prints ns/lookup.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

#include "flow.h"

#define SEC 1000000ull /* microseconds */

/* ---------------------------------------------------------------- helpers */

/* Records what the table hands back through on_free. */
struct freelog {
	uint64_t n;
	struct flow_key last;
	uint64_t last_first_us;
};

static void on_free_cb(struct flow *f, void *ud)
{
	struct freelog *l = ud;

	l->n++;
	l->last = f->key;
	l->last_first_us = f->first_us;
	/* app is owned by the sensor; tests that set it own a malloc'd block, so ASan
	 * reports a leak or double free if the table calls on_free wrongly. */
	free(f->app);
	f->app = NULL;
}

static void addr(struct op_addr *x, const char *s)
{
	memset(x, 0, sizeof *x);
	if (inet_pton(AF_INET, s, x->a) == 1) {
		x->family = 4;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, x->a), 1);
	x->family = 6;
}

static struct pkt ip_pkt(const char *src, const char *dst, uint8_t proto, uint64_t ts)
{
	struct pkt p;

	memset(&p, 0, sizeof p);
	p.ts_us = ts;
	p.caplen = p.wirelen = 60;
	p.flags = PKT_F_ETH | PKT_F_IP;
	addr(&p.src, src);
	addr(&p.dst, dst);
	p.ip_proto = proto;
	p.ip_ttl = 64;
	return p;
}

static struct pkt tcp(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t fl,
		      uint64_t ts)
{
	struct pkt p = ip_pkt(src, dst, IPPROTO_TCP, ts);

	p.flags |= PKT_F_TCP;
	p.sport = sp;
	p.dport = dp;
	p.tcp_flags = fl;
	return p;
}

static struct pkt udp(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint64_t ts)
{
	struct pkt p = ip_pkt(src, dst, IPPROTO_UDP, ts);

	p.flags |= PKT_F_UDP;
	p.sport = sp;
	p.dport = dp;
	return p;
}

static struct pkt icmp(const char *src, const char *dst, uint8_t type, uint8_t code, uint64_t ts)
{
	struct pkt p = ip_pkt(src, dst, strchr(src, ':') ? IPPROTO_ICMPV6 : IPPROTO_ICMP, ts);

	p.flags |= PKT_F_ICMP;
	p.icmp_type = type;
	p.icmp_code = code;
	return p;
}

/* CPU time of this thread: the machine is shared, and wall time would count the
 * time other processes ran. */
static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct flow_table *table(uint32_t max, struct freelog *log)
{
	struct flow_cfg c;
	struct flow_table *t;

	flow_cfg_defaults(&c);
	if (max)
		c.max_flows = max;
	t = flow_table_new(&c, log ? on_free_cb : NULL, log);
	assert_non_null(t);
	return t;
}

static struct flow *get(struct flow_table *t, const struct pkt *p, int *dir, int *created)
{
	int d = -1, c = -1;
	struct flow *f = flow_get(t, p, &d, &c);

	if (dir)
		*dir = d;
	if (created)
		*created = c;
	return f;
}

static struct flow_stats stats(struct flow_table *t)
{
	struct flow_stats s;

	flow_table_get_stats(t, &s);
	return s;
}

/* ---------------------------------------------------------------- keys and lookup */

static void test_both_directions(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(16, &log);
	struct pkt syn = tcp("192.0.2.10", 40000, "198.51.100.1", 443, TCP_SYN, 1 * SEC);
	struct pkt sa = tcp("198.51.100.1", 443, "192.0.2.10", 40000, TCP_SYN | TCP_ACK, 1 * SEC + 10);
	struct pkt ack = tcp("192.0.2.10", 40000, "198.51.100.1", 443, TCP_ACK, 1 * SEC + 20);
	struct flow *f, *g;
	int dir, created;

	(void)state;
	sa.wirelen = 74;
	f = get(t, &syn, &dir, &created);
	assert_non_null(f);
	assert_int_equal(created, 1);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	g = get(t, &sa, &dir, &created);
	assert_ptr_equal(f, g);
	assert_int_equal(created, 0);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	g = get(t, &ack, &dir, &created);
	assert_ptr_equal(f, g);
	assert_int_equal(dir, FLOW_DIR_ORIG);

	assert_int_equal(f->pkts[FLOW_DIR_ORIG], 2);
	assert_int_equal(f->pkts[FLOW_DIR_REPLY], 1);
	assert_int_equal(f->bytes[FLOW_DIR_ORIG], 120);
	assert_int_equal(f->bytes[FLOW_DIR_REPLY], 74);
	assert_int_equal(f->first_us, 1 * SEC);
	assert_int_equal(f->last_us, 1 * SEC + 20);
	assert_true(f->flags & FLOW_F_SYN_SEEN);
	assert_false(f->flags & FLOW_F_MIDSTREAM);
	/* Canonical order: 192.0.2.10 < 198.51.100.1. */
	assert_int_equal(f->key.family, 4);
	assert_int_equal(f->key.proto, IPPROTO_TCP);
	assert_memory_equal(f->key.a, syn.src.a, 4);
	assert_int_equal(f->key.pa, 40000);
	assert_int_equal(f->key.pb, 443);
	assert_int_equal(f->init_is_a, 1);
	assert_int_equal(stats(t).created, 1);
	assert_int_equal(stats(t).active, 1);
	flow_table_free(t);
	assert_int_equal(log.n, 1);
}

/* Equal addresses: the ports decide the order. */
static void test_same_address(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt p1 = udp("127.0.0.1", 5000, "127.0.0.1", 53, 1);
	struct pkt p2 = udp("127.0.0.1", 53, "127.0.0.1", 5000, 2);
	struct flow *f;
	int dir;

	(void)state;
	f = get(t, &p1, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	assert_int_equal(f->key.pa, 53);
	assert_int_equal(f->key.pb, 5000);
	assert_ptr_equal(get(t, &p2, &dir, NULL), f);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	flow_table_free(t);
}

/* Protocols and packets that are not flows get no entry. */
static void test_non_flow_packets(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(16, &log);
	struct pkt p;
	int created = 7;

	(void)state;
	/* ARP */
	memset(&p, 0, sizeof p);
	p.flags = PKT_F_ETH | PKT_F_ARP;
	assert_null(flow_get(t, &p, NULL, &created));
	/* GRE (47): IP but no transport we track */
	p = ip_pkt("192.0.2.1", "192.0.2.2", 47, 1);
	assert_null(flow_get(t, &p, NULL, NULL));
	/* A later fragment: IP, no transport header */
	p = ip_pkt("192.0.2.1", "192.0.2.2", IPPROTO_UDP, 1);
	p.flags |= PKT_F_FRAG | PKT_F_LATER_FRAG;
	assert_null(flow_get(t, &p, NULL, NULL));
	/* Even if a decoder left the UDP flag on a later fragment */
	p.flags |= PKT_F_UDP;
	assert_null(flow_get(t, &p, NULL, NULL));
	/* TCP protocol number but the TCP header was not decoded (truncated) */
	p = ip_pkt("192.0.2.1", "192.0.2.2", IPPROTO_TCP, 1);
	assert_null(flow_get(t, &p, NULL, NULL));
	/* UDP flag with a protocol number that disagrees */
	p = ip_pkt("192.0.2.1", "192.0.2.2", IPPROTO_TCP, 1);
	p.flags |= PKT_F_UDP;
	assert_null(flow_get(t, &p, NULL, NULL));
	/* Mixed or missing address families */
	p = udp("192.0.2.1", 1, "2001:db8::1", 2, 1);
	assert_null(flow_get(t, &p, NULL, NULL));
	p = udp("192.0.2.1", 1, "192.0.2.2", 2, 1);
	p.src.family = p.dst.family = 0;
	assert_null(flow_get(t, &p, NULL, NULL));
	/* No IP flag at all */
	p = udp("192.0.2.1", 1, "192.0.2.2", 2, 1);
	p.flags &= ~PKT_F_IP;
	assert_null(flow_get(t, &p, NULL, NULL));
	/* The first fragment carries the header: it is a flow packet */
	p = udp("192.0.2.1", 1, "192.0.2.2", 2, 1);
	p.flags |= PKT_F_FRAG;
	assert_non_null(flow_get(t, &p, NULL, &created));
	assert_int_equal(created, 1);

	assert_int_equal(stats(t).created, 1);
	flow_table_free(t);
}

/* The outer VLAN is part of the key: overlapping address plans stay apart. */
static void test_vlan_separates(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt p = udp("10.0.0.1", 5000, "10.0.0.2", 53, 1);
	struct pkt q;
	struct flow *untagged, *v10, *v20;
	int created;

	(void)state;
	untagged = get(t, &p, NULL, &created);
	assert_int_equal(created, 1);
	p.nvlan = 1;
	p.vlan[0] = 10;
	v10 = get(t, &p, NULL, &created);
	assert_int_equal(created, 1);
	assert_ptr_not_equal(v10, untagged);
	assert_int_equal(v10->key.vlan, 10);
	p.vlan[0] = 20;
	v20 = get(t, &p, NULL, &created);
	assert_int_equal(created, 1);
	assert_ptr_not_equal(v20, v10);

	/* The reply on VLAN 10 finds VLAN 10's flow; an inner tag does not matter. */
	q = udp("10.0.0.2", 53, "10.0.0.1", 5000, 2);
	q.nvlan = 2;
	q.vlan[0] = 10;
	q.vlan[1] = 99;
	assert_ptr_equal(get(t, &q, NULL, &created), v10);
	assert_int_equal(created, 0);
	/* A stale vlan[0] with nvlan == 0 is untagged. */
	q.nvlan = 0;
	assert_ptr_equal(get(t, &q, NULL, &created), untagged);
	assert_int_equal(stats(t).active, 3);
	flow_table_free(t);
}

/* IPv4 10.0.0.1 and IPv6 a00:1:: have the same leading bytes: family keeps them apart. */
static void test_v4_v6(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt p4 = tcp("10.0.0.1", 1234, "10.0.0.2", 80, TCP_SYN, 1);
	struct pkt p6 = tcp("a00:1::", 1234, "a00:2::", 80, TCP_SYN, 2);
	struct pkt r6 = tcp("a00:2::", 80, "a00:1::", 1234, TCP_SYN | TCP_ACK, 3);
	struct flow *f4, *f6;
	int created, dir;

	(void)state;
	f4 = get(t, &p4, NULL, &created);
	f6 = get(t, &p6, NULL, &created);
	assert_int_equal(created, 1);
	assert_ptr_not_equal(f4, f6);
	assert_int_equal(f4->key.family, 4);
	assert_int_equal(f6->key.family, 6);
	assert_ptr_equal(get(t, &r6, &dir, &created), f6);
	assert_int_equal(dir, FLOW_DIR_REPLY);

	/* Garbage past the IPv4 bytes of op_addr must not split a flow. */
	p4.src.a[9] = 0x55;
	p4.dst.a[15] = 0xaa;
	assert_ptr_equal(get(t, &p4, NULL, &created), f4);
	assert_int_equal(created, 0);
	flow_table_free(t);
}

/* flow_get() builds TCP and UDP keys over IPv4 and IPv6 on fast paths of its own and
 * every other key in key_words(); the two must give the same key and hash, or a flow
 * would not be found when a packet of it took the other path. A transport flag that
 * does not go with the protocol number (here ICMP on TCP and UDP packets) sends a
 * packet down the general path without changing its key. */
static void test_fast_and_general_keys_agree(void **state)
{
	struct flow_table *t = table(4096, NULL);
	const char *const addrs[][2] = {
		{ "10.0.0.1", "10.0.0.2" }, { "198.51.100.7", "192.0.2.1" },
		{ "2001:db8::1", "2001:db8::2" }, { "2001:db8:ffff::9", "2001:db8::9" },
		{ "192.0.2.5", "192.0.2.5" }, { "fe80::1", "fe80::1" },
	};

	(void)state;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(addrs); i++) {
		for (unsigned n = 0; n < 64; n++) {
			uint16_t sp = (uint16_t)(1000 + n * 977), dp = (uint16_t)(n & 1 ? 443 : 1000 + n);
			struct pkt p = n & 2 ? udp(addrs[i][0], sp, addrs[i][1], dp, 1 + n)
					     : tcp(addrs[i][0], sp, addrs[i][1], dp, TCP_ACK, 1 + n);
			struct pkt q;
			struct flow *f, *g;
			int created, dir, gdir;

			p.nvlan = n & 4 ? 1 : 0;
			p.vlan[0] = 100;
			f = get(t, &p, &dir, &created);
			assert_non_null(f);
			assert_int_equal(created, 1);
			/* The same packet, then the reply, down the general path. */
			q = p;
			q.flags |= PKT_F_ICMP;
			g = get(t, &q, &gdir, &created);
			assert_ptr_equal(g, f);
			assert_int_equal(created, 0);
			assert_int_equal(gdir, dir);
			q.src = p.dst;
			q.dst = p.src;
			q.sport = p.dport;
			q.dport = p.sport;
			g = get(t, &q, &gdir, &created);
			assert_ptr_equal(g, f);
			assert_int_equal(created, 0);
			/* (A packet to itself, same port, is its own reply.) */
			if (memcmp(&p.src, &p.dst, sizeof p.src) != 0 || sp != dp)
				assert_int_equal(gdir, !dir);
		}
	}
	flow_table_free(t);
}

/* flow_bulk_tcp() finds the flow flow_get() made, in both directions, for IPv4 and
 * IPv6; accounts exactly as flow_get() does; and touches nothing when the flow is
 * unknown, not bulk, or of another protocol or VLAN. */
static void test_bulk_path(void **state)
{
	const char *const addrs[][2] = {
		{ "198.51.100.7", "192.0.2.1" }, { "2001:db8:ffff::9", "2001:db8::9" },
		{ "192.0.2.5", "192.0.2.5" },
	};

	(void)state;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(addrs); i++) {
		struct flow_table *t = table(64, NULL), *u = table(64, NULL);
		struct pkt p = tcp(addrs[i][0], 40000, addrs[i][1], 443, TCP_ACK, 1000);
		struct dec_bulk k = { .family = p.src.family, .sport = 40000, .dport = 443 };
		struct dec_bulk r = { .family = p.src.family, .sport = 443, .dport = 40000 };
		struct flow *f, *g;
		int dir;

		memcpy(k.src, p.src.a, 16);
		memcpy(k.dst, p.dst.a, 16);
		memcpy(r.src, p.dst.a, 16);
		memcpy(r.dst, p.src.a, 16);
		assert_null(flow_bulk_tcp(t, &k, 1000, 60)); /* unknown */
		assert_int_equal(stats(t).created, 0);
		f = get(t, &p, NULL, NULL);
		g = get(u, &p, NULL, NULL);
		assert_null(flow_bulk_tcp(t, &k, 1001, 60)); /* not bulk yet */
		assert_int_equal(f->pkts[0] + f->pkts[1], 1);
		f->flags |= FLOW_F_BULK;
		g->flags |= FLOW_F_BULK;
		/* The same packets down both paths, times crossing LRU grains. */
		for (unsigned n = 0; n < 40; n++) {
			uint64_t ts = 2000 + (uint64_t)n * (FLOW_LRU_GRAIN_US / 3);
			struct pkt q = p;
			if (n & 1) {
				q.src = p.dst, q.dst = p.src, q.sport = p.dport, q.dport = p.sport;
			}
			q.ts_us = ts;
			q.wirelen = 100 + n;
			assert_ptr_equal(flow_bulk_tcp(t, n & 1 ? &r : &k, ts, 100 + n), f);
			assert_ptr_equal(get(u, &q, &dir, NULL), g);
		}
		assert_int_equal(f->pkts[0], g->pkts[0]);
		assert_int_equal(f->pkts[1], g->pkts[1]);
		assert_int_equal(f->bytes[0], g->bytes[0]);
		assert_int_equal(f->bytes[1], g->bytes[1]);
		assert_int_equal(f->last_us, g->last_us);
		/* Another port is another flow: nothing found, nothing made. */
		k.dport = 444;
		assert_null(flow_bulk_tcp(t, &k, 9000, 60));
		assert_int_equal(stats(t).created, 1);
		/* A tagged flow is not the untagged one the fast path looks for. */
		struct pkt v = tcp(addrs[i][0], 1, addrs[i][1], 2, TCP_ACK, 9000);
		v.nvlan = 1;
		v.vlan[0] = 7;
		get(t, &v, NULL, NULL)->flags |= FLOW_F_BULK;
		k.sport = 1;
		k.dport = 2;
		assert_null(flow_bulk_tcp(t, &k, 9001, 60));
		flow_table_free(t);
		flow_table_free(u);
	}
}

/* Each table has its own random hash key: an attacker who learns bucket collisions
 * against one run cannot reuse them. */
static void test_hash_seeded_per_table(void **state)
{
	struct flow_table *t1 = table(16, NULL), *t2 = table(16, NULL);
	struct pkt p = tcp("192.0.2.10", 40000, "198.51.100.1", 443, TCP_SYN, 1);
	struct flow *f1 = get(t1, &p, NULL, NULL), *f2 = get(t2, &p, NULL, NULL);

	(void)state;
	assert_memory_equal(&f1->key, &f2->key, sizeof f1->key);
	assert_int_not_equal(f1->hash, f2->hash);
	flow_table_free(t1);
	flow_table_free(t2);
}

/* ---------------------------------------------------------------- initiator rules */

static void check_endpoints(const struct flow *f, const char *o, uint16_t op, const char *r,
			    uint16_t rp)
{
	struct op_addr oa, ra, eo, er;
	uint16_t gop, grp;

	addr(&eo, o);
	addr(&er, r);
	flow_endpoints(f, &oa, &gop, &ra, &grp);
	assert_int_equal(oa.family, eo.family);
	assert_memory_equal(oa.a, eo.a, sizeof oa.a);
	assert_int_equal(gop, op);
	assert_int_equal(ra.family, er.family);
	assert_memory_equal(ra.a, er.a, sizeof ra.a);
	assert_int_equal(grp, rp);
}

/* The SYN sender initiates, whichever endpoint sorts first. */
static void test_initiator_syn(void **state)
{
	struct flow_table *t = table(16, NULL);
	/* 203.0.113.9 sorts after 192.0.2.1, so the initiator is key endpoint b. */
	struct pkt syn = tcp("203.0.113.9", 51000, "192.0.2.1", 22, TCP_SYN, 1);
	struct pkt sa = tcp("192.0.2.1", 22, "203.0.113.9", 51000, TCP_SYN | TCP_ACK, 2);
	struct flow *f;
	int dir;

	(void)state;
	f = get(t, &syn, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	assert_int_equal(f->init_is_a, 0);
	assert_true(f->flags & FLOW_F_SYN_SEEN);
	assert_false(f->flags & FLOW_F_MIDSTREAM);
	check_endpoints(f, "203.0.113.9", 51000, "192.0.2.1", 22);
	get(t, &sa, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	/* NULL outputs are allowed. */
	flow_endpoints(f, NULL, NULL, NULL, NULL);
	flow_table_free(t);
}

/* SYN lost (or before the capture started): SYN+ACK first, its receiver initiated. */
static void test_initiator_synack_first(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt sa = tcp("192.0.2.1", 443, "192.0.2.200", 50000, TCP_SYN | TCP_ACK, 1);
	struct pkt ack = tcp("192.0.2.200", 50000, "192.0.2.1", 443, TCP_ACK, 2);
	struct flow *f;
	int dir;

	(void)state;
	f = get(t, &sa, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	assert_true(f->flags & FLOW_F_SYN_SEEN);
	assert_false(f->flags & FLOW_F_MIDSTREAM);
	check_endpoints(f, "192.0.2.200", 50000, "192.0.2.1", 443);
	assert_int_equal(f->pkts[FLOW_DIR_REPLY], 1);
	get(t, &ack, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	flow_table_free(t);
}

/* Mid-stream pickup: the first packet's sender, unless it goes from a well-known port
 * to an ephemeral one. */
static void test_initiator_midstream(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt from_server = tcp("192.0.2.1", 443, "192.0.2.200", 50000, TCP_ACK | TCP_PSH, 1);
	struct pkt from_client = tcp("192.0.2.201", 50001, "192.0.2.1", 443, TCP_ACK, 1);
	struct pkt high_high = tcp("192.0.2.1", 8080, "192.0.2.202", 50002, TCP_ACK, 1);
	struct pkt low_low = tcp("192.0.2.203", 513, "192.0.2.1", 22, TCP_ACK, 1);
	struct flow *f;
	int dir;

	(void)state;
	f = get(t, &from_server, &dir, NULL);
	assert_true(f->flags & FLOW_F_MIDSTREAM);
	assert_false(f->flags & FLOW_F_SYN_SEEN);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	check_endpoints(f, "192.0.2.200", 50000, "192.0.2.1", 443);

	f = get(t, &from_client, &dir, NULL);
	assert_true(f->flags & FLOW_F_MIDSTREAM);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	check_endpoints(f, "192.0.2.201", 50001, "192.0.2.1", 443);

	/* 8080 is not below 1024: no hint, the sender is taken. */
	f = get(t, &high_high, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	check_endpoints(f, "192.0.2.1", 8080, "192.0.2.202", 50002);

	/* Both privileged (rlogin-style 513 -> 22): the sender. */
	f = get(t, &low_low, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	check_endpoints(f, "192.0.2.203", 513, "192.0.2.1", 22);
	flow_table_free(t);
}

static void test_initiator_udp_icmp(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt resp = udp("192.0.2.53", 53, "192.0.2.10", 54585, 1);
	struct pkt query = udp("192.0.2.11", 54586, "192.0.2.53", 53, 1);
	struct pkt ntp = udp("192.0.2.12", 123, "192.0.2.123", 123, 1);
	struct pkt reply = icmp("192.0.2.1", "192.0.2.20", 0, 0, 1);
	struct pkt req = icmp("192.0.2.21", "192.0.2.1", 8, 0, 1);
	struct pkt er6 = icmp("fe80::2", "fe80::1", 129, 0, 1);
	struct flow *f;
	int dir;

	(void)state;
	f = get(t, &resp, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	assert_false(f->flags & FLOW_F_MIDSTREAM);
	check_endpoints(f, "192.0.2.10", 54585, "192.0.2.53", 53);

	f = get(t, &query, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	check_endpoints(f, "192.0.2.11", 54586, "192.0.2.53", 53);

	f = get(t, &ntp, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	check_endpoints(f, "192.0.2.12", 123, "192.0.2.123", 123);

	/* An echo reply seen first: like SYN+ACK, its receiver asked. The ports are the
	 * Community ID type mapping: (8, 0) from the requester. */
	f = get(t, &reply, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	check_endpoints(f, "192.0.2.20", 8, "192.0.2.1", 0);

	f = get(t, &req, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	check_endpoints(f, "192.0.2.21", 8, "192.0.2.1", 0);

	f = get(t, &er6, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	check_endpoints(f, "fe80::1", 128, "fe80::2", 129);
	flow_table_free(t);
}

/* Request/response ICMP types pair up; one-way types keep their direction. */
static void test_icmp_pairing(void **state)
{
	struct flow_table *t = table(64, NULL);
	struct pkt echo = icmp("192.0.2.89", "192.0.2.1", 8, 0, 1);
	struct pkt echo_r = icmp("192.0.2.1", "192.0.2.89", 0, 0, 2);
	struct pkt ts = icmp("192.0.2.89", "192.0.2.1", 13, 0, 1);
	struct pkt ts_r = icmp("192.0.2.1", "192.0.2.89", 14, 0, 2);
	struct pkt unr = icmp("192.0.2.89", "192.0.2.1", 3, 3, 1);
	struct pkt unr_back = icmp("192.0.2.1", "192.0.2.89", 3, 3, 2);
	struct pkt ns = icmp("fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, 1);
	struct pkt na = icmp("fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, 2);
	struct pkt e6 = icmp("2001:db8::2", "2001:db8::1", 128, 0, 1);
	struct pkt e6r = icmp("2001:db8::1", "2001:db8::2", 129, 0, 2);
	struct flow *f, *g;
	int dir, created;

	(void)state;
	f = get(t, &echo, &dir, NULL);
	assert_int_equal(f->key.proto, IPPROTO_ICMP);
	assert_ptr_equal(get(t, &echo_r, &dir, &created), f);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	assert_int_equal(created, 0);

	g = get(t, &ts, NULL, NULL);
	assert_ptr_not_equal(g, f);
	assert_ptr_equal(get(t, &ts_r, &dir, NULL), g);
	assert_int_equal(dir, FLOW_DIR_REPLY);

	/* Destination unreachable is one-way: (type, code), sender first. */
	f = get(t, &unr, &dir, NULL);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	assert_memory_equal(f->key.a, unr.src.a, 4);
	assert_int_equal(f->key.pa, 3);
	assert_int_equal(f->key.pb, 3);
	g = get(t, &unr_back, &dir, &created);
	assert_int_equal(created, 1);
	assert_ptr_not_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	assert_memory_equal(g->key.a, unr_back.src.a, 4);

	f = get(t, &ns, NULL, NULL);
	assert_int_equal(f->key.proto, IPPROTO_ICMPV6);
	assert_ptr_equal(get(t, &na, &dir, &created), f);
	assert_int_equal(created, 0);
	assert_int_equal(dir, FLOW_DIR_REPLY);

	f = get(t, &e6, NULL, NULL);
	assert_ptr_equal(get(t, &e6r, &dir, NULL), f);
	assert_int_equal(dir, FLOW_DIR_REPLY);
	assert_int_equal(stats(t).active, 6);
	flow_table_free(t);
}

/* ---------------------------------------------------------------- TCP state */

static void test_tcp_state_flags(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt p = tcp("192.0.2.10", 40000, "192.0.2.1", 80, TCP_SYN, 1);
	struct pkt r = tcp("192.0.2.1", 80, "192.0.2.10", 40000, TCP_FIN | TCP_ACK, 2);
	struct flow *f;

	(void)state;
	f = get(t, &p, NULL, NULL);
	get(t, &r, NULL, NULL);
	assert_true(f->flags & FLOW_F_FIN1);
	assert_false(f->flags & FLOW_F_FIN0);
	p.tcp_flags = TCP_FIN | TCP_ACK;
	get(t, &p, NULL, NULL);
	assert_true(f->flags & FLOW_F_FIN0);
	assert_false(f->flags & FLOW_F_RST);
	r.tcp_flags = TCP_RST;
	get(t, &r, NULL, NULL);
	assert_true(f->flags & FLOW_F_RST);
	flow_table_free(t);
}

/* A new SYN on a closed 4-tuple is a new connection: the old state is released. */
static void test_port_reuse_after_close(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(16, &log);
	struct pkt syn = tcp("192.0.2.10", 40000, "192.0.2.1", 80, TCP_SYN, 1 * SEC);
	struct pkt rst = tcp("192.0.2.1", 80, "192.0.2.10", 40000, TCP_RST | TCP_ACK, 2 * SEC);
	struct pkt syn2 = tcp("192.0.2.1", 80, "192.0.2.10", 40000, TCP_SYN, 3 * SEC);
	struct pkt late_rst = rst;
	struct flow *f, *g;
	int created, dir;

	(void)state;
	f = get(t, &syn, NULL, NULL);
	f->app = malloc(16);
	get(t, &rst, NULL, NULL);
	assert_true(f->flags & FLOW_F_RST);
	/* A retransmitted RST or a late ACK on the closed flow is still the old flow. */
	late_rst.ts_us = 2 * SEC + 1;
	assert_ptr_equal(get(t, &late_rst, NULL, &created), f);
	assert_int_equal(created, 0);
	assert_int_equal(log.n, 0);

	/* This time the other side opens (active open from port 80, as FTP data does). */
	g = get(t, &syn2, &dir, &created);
	assert_ptr_equal(g, f);
	assert_int_equal(created, 1);
	assert_int_equal(dir, FLOW_DIR_ORIG);
	assert_int_equal(log.n, 1);
	assert_null(g->app);
	assert_false(g->flags & FLOW_F_RST);
	assert_int_equal(g->first_us, 3 * SEC);
	assert_int_equal(g->pkts[0] + g->pkts[1], 1);
	check_endpoints(g, "192.0.2.1", 80, "192.0.2.10", 40000);
	assert_int_equal(stats(t).created, 2);
	assert_int_equal(stats(t).expired, 1);
	assert_int_equal(stats(t).active, 1);

	/* The reused entry is still findable and expires on the open-TCP timeout. */
	flow_expire(t, 3 * SEC + FLOW_DEFAULT_TCP_CLOSED_S * SEC + 1, 0);
	assert_int_equal(stats(t).active, 1);
	flow_table_free(t);
	assert_int_equal(log.n, 2);
}

/* ---------------------------------------------------------------- eviction */

static void test_lru_eviction(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(4, &log);
	struct pkt p[6];
	struct flow *f;
	struct flow_stats s;
	int created;

	(void)state;
	for (int i = 0; i < 6; i++) {
		char src[32];

		snprintf(src, sizeof src, "192.0.2.%d", 10 + i);
		p[i] = tcp(src, (uint16_t)(40000 + i), "198.51.100.1", 443, TCP_SYN,
			   (uint64_t)(i + 1) * SEC);
	}
	for (int i = 0; i < 4; i++) {
		assert_non_null(get(t, &p[i], NULL, &created));
		assert_int_equal(created, 1);
	}
	/* Touch flow 0 (now the most recent); flow 1 becomes the least recently used. */
	p[0].tcp_flags = TCP_ACK;
	p[0].ts_us = 5 * SEC;
	get(t, &p[0], NULL, &created);
	assert_int_equal(created, 0);
	assert_int_equal(log.n, 0);

	p[4].ts_us = 6 * SEC;
	f = get(t, &p[4], NULL, &created);
	assert_non_null(f);
	assert_int_equal(created, 1);
	assert_int_equal(log.n, 1);
	assert_memory_equal(log.last.a, p[1].src.a, 4);
	assert_int_equal(log.last.pa, 40001);
	s = stats(t);
	assert_int_equal(s.evicted, 1);
	assert_int_equal(s.active, 4);
	assert_int_equal(s.peak_active, 4);
	assert_int_equal(s.created, 5);

	/* Next victim: flow 2; flows 0, 3 and 4 are still there. */
	p[5].ts_us = 7 * SEC;
	get(t, &p[5], NULL, NULL);
	assert_memory_equal(log.last.a, p[2].src.a, 4);
	/* Touched again, each later than flow 5. (LRU order is packet-time order to
	 * FLOW_LRU_GRAIN_US: a packet that does not move a flow's time into a new grain
	 * leaves its place alone, see test_lru_grain.) */
	p[0].ts_us = 8 * SEC;
	get(t, &p[0], NULL, &created);
	assert_int_equal(created, 0);
	p[3].ts_us = 9 * SEC;
	get(t, &p[3], NULL, &created);
	assert_int_equal(created, 0);
	p[4].ts_us = 10 * SEC;
	get(t, &p[4], NULL, &created);
	assert_int_equal(created, 0);
	/* Flow 1 comes back as a new flow (evicting the LRU one, flow 5). */
	p[1].ts_us = 11 * SEC;
	get(t, &p[1], NULL, &created);
	assert_int_equal(created, 1);
	assert_memory_equal(log.last.a, p[5].src.a, 4);
	assert_int_equal(stats(t).evicted, 3);
	flow_table_free(t);
	assert_int_equal(log.n, 3 + 4);
}

/* Across protocols the least recently used flow goes first, whatever its class. */
static void test_lru_eviction_across_protocols(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(3, &log);
	struct pkt u = udp("192.0.2.1", 5000, "192.0.2.53", 53, 1 * SEC);
	struct pkt a = tcp("192.0.2.2", 40000, "192.0.2.80", 80, TCP_SYN, 2 * SEC);
	struct pkt i = icmp("192.0.2.3", "192.0.2.4", 8, 0, 3 * SEC);
	struct pkt n = tcp("192.0.2.5", 40001, "192.0.2.80", 80, TCP_SYN, 5 * SEC);

	(void)state;
	get(t, &u, NULL, NULL);
	get(t, &a, NULL, NULL);
	get(t, &i, NULL, NULL);
	u.ts_us = 4 * SEC;
	get(t, &u, NULL, NULL);      /* the UDP flow is now newer than the TCP one */
	get(t, &n, NULL, NULL);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.last.proto, IPPROTO_TCP);
	assert_memory_equal(log.last.a, a.src.a, 4);
	get(t, &a, NULL, NULL);      /* back: evicts the ICMP flow (t=3) */
	assert_int_equal(log.last.proto, IPPROTO_ICMP);
	flow_table_free(t);
}

/* The LRU position follows packet time to FLOW_LRU_GRAIN_US (flow.h): a packet in the
 * same grain as its flow's previous one moves last_us but not the list position, so
 * expiry may come up to one grain late, never early; a packet in a new grain moves the
 * flow to the head. */
static void test_lru_grain(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(64, &log);
	const uint64_t idle = FLOW_DEFAULT_UDP_IDLE_S * SEC;
	const uint64_t t0 = 1000 * FLOW_LRU_GRAIN_US; /* the start of a grain */
	const uint64_t t1 = 2000 * FLOW_LRU_GRAIN_US;
	struct pkt a = udp("192.0.2.1", 5000, "192.0.2.53", 53, t0);
	struct pkt b = udp("192.0.2.2", 5000, "192.0.2.53", 53, t0 + 1);
	struct pkt c = udp("192.0.2.3", 5000, "192.0.2.53", 53, t1);
	struct pkt d = udp("192.0.2.4", 5000, "192.0.2.53", 53, t1 + 1);
	struct flow *f;

	(void)state;
	get(t, &a, NULL, NULL);
	get(t, &b, NULL, NULL);
	/* a again, later in the same grain: its time moves, its place (behind b) not. */
	a.ts_us = t0 + FLOW_LRU_GRAIN_US / 2;
	f = get(t, &a, NULL, NULL);
	assert_int_equal(f->last_us, a.ts_us);

	/* b is past its timeout but the tail is a, which is not: b waits. */
	flow_expire(t, b.ts_us + idle + 1, 0);
	assert_int_equal(stats(t).active, 2);
	/* Never early: a stays at exactly its timeout. */
	flow_expire(t, a.ts_us + idle, 0);
	assert_int_equal(stats(t).active, 2);
	/* Just past it both go: b less than one grain late. */
	flow_expire(t, a.ts_us + idle + 1, 0);
	assert_int_equal(stats(t).active, 0);
	assert_int_equal(stats(t).expired, 2);
	assert_true(a.ts_us + idle + 1 - (b.ts_us + idle) < FLOW_LRU_GRAIN_US);

	/* c again in the next grain: to the head, so d expires on time and c stays. */
	get(t, &c, NULL, NULL);
	get(t, &d, NULL, NULL);
	c.ts_us = t1 + FLOW_LRU_GRAIN_US;
	get(t, &c, NULL, NULL);
	flow_expire(t, d.ts_us + idle + 1, 0);
	assert_int_equal(stats(t).active, 1);
	assert_memory_equal(log.last.a, d.src.a, 4);
	flow_expire(t, c.ts_us + idle + 1, 0);
	assert_int_equal(stats(t).active, 0);
	flow_table_free(t);
}

/* ---------------------------------------------------------------- expiry */

static void test_expire_per_protocol(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(64, &log);
	const uint64_t t0 = 1000 * SEC;
	struct pkt open_tcp = tcp("192.0.2.1", 40000, "192.0.2.80", 80, TCP_SYN, t0);
	struct pkt fin_tcp = tcp("192.0.2.2", 40000, "192.0.2.80", 80, TCP_SYN, t0 + 1);
	struct pkt rst_tcp = tcp("192.0.2.3", 40000, "192.0.2.80", 80, TCP_SYN, t0 + 2);
	struct pkt half_tcp = tcp("192.0.2.4", 40000, "192.0.2.80", 80, TCP_SYN, t0 + 3);
	struct pkt u = udp("192.0.2.5", 5000, "192.0.2.53", 53, t0 + 4);
	struct pkt ic = icmp("192.0.2.6", "192.0.2.7", 8, 0, t0 + 5);
	struct pkt p;
	struct flow_stats s;
	int created;

	(void)state;
	get(t, &open_tcp, NULL, NULL);
	get(t, &fin_tcp, NULL, NULL);
	p = tcp("192.0.2.2", 40000, "192.0.2.80", 80, TCP_FIN | TCP_ACK, t0 + 10);
	get(t, &p, NULL, NULL);
	p = tcp("192.0.2.80", 80, "192.0.2.2", 40000, TCP_FIN | TCP_ACK, t0 + 11);
	get(t, &p, NULL, NULL);
	get(t, &rst_tcp, NULL, NULL);
	p = tcp("192.0.2.80", 80, "192.0.2.3", 40000, TCP_RST, t0 + 12);
	get(t, &p, NULL, NULL);
	get(t, &half_tcp, NULL, NULL);
	p = tcp("192.0.2.4", 40000, "192.0.2.80", 80, TCP_FIN | TCP_ACK, t0 + 13);
	get(t, &p, NULL, NULL); /* FIN one way only: still open */
	get(t, &u, NULL, NULL);
	get(t, &ic, NULL, NULL);
	assert_int_equal(stats(t).active, 6);

	/* Exactly at the closed timeout nothing goes; just past it the closed TCP flows
	 * go, although older open flows were seen before them. */
	flow_expire(t, t0 + 11 + FLOW_DEFAULT_TCP_CLOSED_S * SEC, 0);
	assert_int_equal(stats(t).active, 6);
	flow_expire(t, t0 + 12 + FLOW_DEFAULT_TCP_CLOSED_S * SEC, 0);
	assert_int_equal(stats(t).active, 5);
	assert_memory_equal(log.last.a, fin_tcp.src.a, 4);
	flow_expire(t, t0 + 13 + FLOW_DEFAULT_TCP_CLOSED_S * SEC, 0);
	s = stats(t);
	assert_int_equal(s.active, 4);
	assert_int_equal(s.expired, 2);
	assert_int_equal(log.n, 2);

	/* ICMP at 30 s */
	flow_expire(t, t0 + 5 + FLOW_DEFAULT_OTHER_IDLE_S * SEC, 0);
	assert_int_equal(stats(t).active, 4);
	flow_expire(t, t0 + 6 + FLOW_DEFAULT_OTHER_IDLE_S * SEC, 0);
	assert_int_equal(stats(t).active, 3);
	assert_int_equal(log.last.proto, IPPROTO_ICMP);

	/* UDP at 60 s */
	flow_expire(t, t0 + 5 + FLOW_DEFAULT_UDP_IDLE_S * SEC, 0);
	assert_int_equal(stats(t).active, 2);
	assert_int_equal(log.last.proto, IPPROTO_UDP);

	/* Open TCP (and half-closed) at 300 s */
	flow_expire(t, t0 + 13 + FLOW_DEFAULT_TCP_IDLE_S * SEC - 1, 0);
	assert_int_equal(stats(t).active, 1);
	flow_expire(t, t0 + 14 + FLOW_DEFAULT_TCP_IDLE_S * SEC, 0);
	s = stats(t);
	assert_int_equal(s.active, 0);
	assert_int_equal(s.expired, 6);
	assert_int_equal(s.evicted, 0);
	assert_int_equal(log.n, 6);

	/* Expired entries are reused, and a packet after expiry starts a new flow. */
	open_tcp.ts_us = t0 + 1000 * SEC;
	get(t, &open_tcp, NULL, &created);
	assert_int_equal(created, 1);
	assert_int_equal(stats(t).active, 1);
	assert_int_equal(stats(t).peak_active, 6);
	flow_table_free(t);
}

/* Activity keeps a flow alive; an old timestamp does not move last_us back. */
static void test_expire_refresh(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt u = udp("192.0.2.5", 5000, "192.0.2.53", 53, 100 * SEC);
	struct flow *f;

	(void)state;
	f = get(t, &u, NULL, NULL);
	u.ts_us = 150 * SEC;
	get(t, &u, NULL, NULL);
	u.ts_us = 120 * SEC;
	get(t, &u, NULL, NULL);
	assert_int_equal(f->last_us, 150 * SEC);
	assert_int_equal(f->first_us, 100 * SEC);
	flow_expire(t, 200 * SEC, 0);
	assert_int_equal(stats(t).active, 1);
	flow_expire(t, 211 * SEC, 0);
	assert_int_equal(stats(t).active, 0);
	/* A packet time far behind last_us (clock step) expires nothing. */
	flow_expire(t, 1, 0);
	flow_table_free(t);
}

/* A crafted capture with timestamps near UINT64_MAX must not wrap the idle test. */
static void test_expire_huge_timestamps(void **state)
{
	struct flow_table *t = table(16, NULL);
	struct pkt u = udp("192.0.2.5", 5000, "192.0.2.53", 53, UINT64_MAX - 10);

	(void)state;
	get(t, &u, NULL, NULL);
	flow_expire(t, UINT64_MAX, 0);
	assert_int_equal(stats(t).active, 1);
	flow_table_free(t);
}

static void test_expire_max_work(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(64, &log);

	(void)state;
	for (int i = 0; i < 10; i++) {
		char src[32];
		struct pkt u;

		snprintf(src, sizeof src, "192.0.2.%d", i + 1);
		u = udp(src, 5000, "192.0.2.53", 53, (uint64_t)(i + 1) * SEC);
		get(t, &u, NULL, NULL);
	}
	flow_expire(t, 1000 * SEC, 3);
	assert_int_equal(stats(t).expired, 3);
	assert_int_equal(stats(t).active, 7);
	/* Oldest first */
	assert_int_equal(log.last.a[3], 3);
	flow_expire(t, 1000 * SEC, 1);
	assert_int_equal(stats(t).active, 6);
	/* A live flow examined at the tail also counts as work. */
	flow_expire(t, 1 * SEC, 1);
	assert_int_equal(stats(t).active, 6);
	flow_expire(t, 1000 * SEC, 0);
	assert_int_equal(stats(t).active, 0);
	assert_int_equal(stats(t).expired, 10);
	flow_table_free(t);
	assert_int_equal(log.n, 10);
}

/* ---------------------------------------------------------------- table lifecycle */

static void test_new_rejects_bad_cfg(void **state)
{
	struct flow_cfg c;
	struct flow_table *t;

	(void)state;
	flow_cfg_defaults(&c);
	assert_int_equal(c.max_flows, FLOW_DEFAULT_MAX);
	assert_int_equal(c.tcp_idle_s, FLOW_DEFAULT_TCP_IDLE_S);
	assert_int_equal(c.tcp_closed_s, FLOW_DEFAULT_TCP_CLOSED_S);
	assert_int_equal(c.udp_idle_s, FLOW_DEFAULT_UDP_IDLE_S);
	assert_int_equal(c.other_idle_s, FLOW_DEFAULT_OTHER_IDLE_S);
	c.max_flows = 0;
	assert_null(flow_table_new(&c, NULL, NULL));
	c.max_flows = UINT32_MAX;
	assert_null(flow_table_new(&c, NULL, NULL));
	/* NULL cfg: defaults */
	t = flow_table_new(NULL, NULL, NULL);
	assert_non_null(t);
	flow_table_free(t);
	flow_table_free(NULL);
}

/* flow_table_free hands every live flow to on_free (and ASan checks app is freed). */
static void test_free_releases_all(void **state)
{
	struct freelog log = {0};
	struct flow_table *t = table(8, &log);

	(void)state;
	for (int i = 0; i < 20; i++) {
		char src[32];
		struct pkt p;
		struct flow *f;
		int created;

		snprintf(src, sizeof src, "2001:db8::%x", i + 1);
		p = i % 2 ? udp(src, 5353, "ff02::fb", 5353, (uint64_t)i + 1)
			  : tcp(src, 40000, "2001:db8::ffff", 443, TCP_SYN, (uint64_t)i + 1);
		f = get(t, &p, NULL, &created);
		assert_int_equal(created, 1);
		f->app = malloc(32);
	}
	assert_int_equal(stats(t).active, 8);
	assert_int_equal(stats(t).evicted, 12);
	assert_int_equal(log.n, 12);
	flow_table_free(t);
	assert_int_equal(log.n, 20);
}

/* A flood of distinct SYNs (spoofed sources) through a default-size table: the table
 * stays at its cap, the oldest flows are evicted, and it is quick. */
static void test_synflood_1m(void **state)
{
	const uint32_t n = 1000000;
	struct freelog log = {0};
	struct flow_table *t = table(0, &log);
	struct pkt p = tcp("10.0.0.0", 1024, "192.0.2.1", 80, TCP_SYN, 1);
	struct flow_stats s;
	struct rusage ru;
	double secs;
	int created;

	(void)state;
	secs = cpu_ns();
	for (uint32_t i = 0; i < n; i++) {
		/* 10.x.y.z from i, source port from i too: all distinct */
		p.src.a[1] = (uint8_t)(i >> 16);
		p.src.a[2] = (uint8_t)(i >> 8);
		p.src.a[3] = (uint8_t)i;
		p.sport = (uint16_t)(1024 + (i % 60000));
		p.ts_us = 1000 * SEC + i;
		if (!flow_get(t, &p, NULL, &created) || !created)
			fail_msg("flow %u not created", i);
	}
	secs = (cpu_ns() - secs) / 1e9;
	s = stats(t);
	assert_int_equal(s.created, n);
	assert_int_equal(s.active, FLOW_DEFAULT_MAX);
	assert_int_equal(s.peak_active, FLOW_DEFAULT_MAX);
	assert_int_equal(s.evicted, n - FLOW_DEFAULT_MAX);
	assert_int_equal(s.expired, 0);
	assert_int_equal(log.n, n - FLOW_DEFAULT_MAX);

	/* The most recent flows are present, the first ones gone. */
	p.ts_us++;
	flow_get(t, &p, NULL, &created);
	assert_int_equal(created, 0);
	p.src.a[1] = p.src.a[2] = p.src.a[3] = 0;
	p.sport = 1024;
	flow_get(t, &p, NULL, &created);
	assert_int_equal(created, 1);

	getrusage(RUSAGE_SELF, &ru);
	print_message("synflood: %u SYN flows in %.3f s (%.0f ns/flow), table %zu bytes/flow, "
		      "peak RSS %ld MiB\n", n, secs, secs * 1e9 / n, sizeof(struct flow),
		      ru.ru_maxrss / 1024);
	/* The pool and buckets at the default cap must leave room for the rest of the
	 * sensor under the 256 MB budget. */
	assert_true((uint64_t)FLOW_DEFAULT_MAX * (sizeof(struct flow) + 2 * sizeof(uint32_t)) <
		    64ull << 20);
#if !defined(__SANITIZE_ADDRESS__)
#if defined(__has_feature)
#if !__has_feature(address_sanitizer)
	assert_true(ru.ru_maxrss < 128 * 1024);
#endif
#else
	assert_true(ru.ru_maxrss < 128 * 1024);
#endif
#endif
	/* Generous: well under a second on any machine this runs on, even with ASan. */
	assert_true(secs < 10.0);
	flow_table_free(t);
}

/* ---------------------------------------------------------------- Community ID */

struct cid_vector {
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport;   /* for ICMP: type and code as in the spec's tables */
	const char *seed0, *seed1;
};

/* Expected values: corelight/community-id-spec baseline/baseline_deflt.json (seed 0)
 * and corelight/pycommunityid tests/communityid_test.py (seed 0 and seed 1), the
 * spec's published test data. Not computed here. */
static const struct cid_vector cid_vectors[] = {
	{IPPROTO_TCP, "128.232.110.120", "66.35.250.204", 34855, 80,
	 "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
	{IPPROTO_TCP, "66.35.250.204", "128.232.110.120", 80, 34855,
	 "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
	{IPPROTO_TCP, "10.0.0.1", "10.0.0.2", 10, 11569,
	 "1:SXBGMX1lBOwhhoDrZynfROxnhnM=", "1:HmBRGR+fUyXF4t8WEtal7Y0gEAo="},
	{IPPROTO_TCP, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
	 "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", NULL},
	{IPPROTO_UDP, "192.168.1.52", "8.8.8.8", 54585, 53,
	 "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
	{IPPROTO_UDP, "8.8.8.8", "192.168.1.52", 53, 54585,
	 "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
	{IPPROTO_ICMP, "192.168.0.89", "192.168.0.1", 8, 0,
	 "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
	{IPPROTO_ICMP, "192.168.0.1", "192.168.0.89", 0, 0,
	 "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
	/* Type 20 is one-way: the code is hashed, no reordering. */
	{IPPROTO_ICMP, "192.168.0.89", "192.168.0.1", 20, 0,
	 "1:3o2RFccXzUgjl7zDpqmY7yJi8rI=", "1:lCXHHxavE1Vq3oX9NH5ladQg02o="},
	{IPPROTO_ICMP, "192.168.0.89", "192.168.0.1", 20, 1,
	 "1:tz/fHIDUHs19NkixVVoOZywde+I=", "1:Ie3wmFyxiEyikbsbcO03d2nh+PM="},
	{IPPROTO_ICMP, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=", NULL},
	{IPPROTO_ICMPV6, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0,
	 "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
	{IPPROTO_ICMPV6, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0,
	 "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
	/* NS the other way round is another flow */
	{IPPROTO_ICMPV6, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0,
	 "1:zavyT/cezQr1fmImYCwYnMXbgck=", NULL},
	{IPPROTO_ICMPV6, "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
	 "1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=", "1:OlOWx9psIbBFi7lOCw/4MhlKR9M="},
	{IPPROTO_ICMPV6, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 3, 0,
	 "1:/OGBt9BN1ofenrmSPWYicpij2Vc=", "1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE="},
	{IPPROTO_ICMPV6, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0,
	 "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", NULL},
	{IPPROTO_ICMPV6, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0,
	 "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", NULL},
	{IPPROTO_ICMPV6, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0,
	 "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=", NULL},
	{IPPROTO_ICMPV6, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0,
	 "1:pkvHqCL88/tg1k4cPigmZXUtL00=", NULL},
};

static struct pkt vector_pkt(const struct cid_vector *v)
{
	if (v->proto == IPPROTO_TCP)
		return tcp(v->saddr, v->sport, v->daddr, v->dport, TCP_SYN, 1);
	if (v->proto == IPPROTO_UDP)
		return udp(v->saddr, v->sport, v->daddr, v->dport, 1);
	return icmp(v->saddr, v->daddr, (uint8_t)v->sport, (uint8_t)v->dport, 1);
}

/* Through the table: the key flow_get() builds from a packet gives the published ID. */
static void test_community_id_vectors(void **state)
{
	char id[64];

	(void)state;
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(cid_vectors); i++) {
		const struct cid_vector *v = &cid_vectors[i];
		struct flow_table *t = table(4, NULL);
		struct pkt p = vector_pkt(v);
		struct flow *f = flow_get(t, &p, NULL, NULL);

		assert_non_null(f);
		assert_int_equal(flow_community_id(&f->key, 0, id, sizeof id), 0);
		if (strcmp(id, v->seed0) != 0)
			fail_msg("vector %zu (%s -> %s): got %s, want %s", i, v->saddr, v->daddr, id,
				 v->seed0);
		if (v->seed1) {
			assert_int_equal(flow_community_id(&f->key, 1, id, sizeof id), 0);
			if (strcmp(id, v->seed1) != 0)
				fail_msg("vector %zu seed 1: got %s, want %s", i, id, v->seed1);
		}
		flow_table_free(t);
	}
}

/* A key built by hand in the packet's own (non-canonical) order gives the same ID. */
static void test_community_id_hand_key(void **state)
{
	struct flow_key k;
	struct op_addr s, d;
	char id[31], rev[31];

	(void)state;
	memset(&k, 0, sizeof k);
	addr(&s, "66.35.250.204");
	addr(&d, "128.232.110.120");
	memcpy(k.a, s.a, 16);
	memcpy(k.b, d.a, 16);
	k.pa = 80;
	k.pb = 34855;
	k.family = 4;
	k.proto = IPPROTO_TCP;
	k.vlan = 42; /* not part of Community ID v1 */
	assert_int_equal(flow_community_id(&k, 0, id, sizeof id), 0);
	assert_string_equal(id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	/* Symmetric */
	memcpy(k.a, d.a, 16);
	memcpy(k.b, s.a, 16);
	k.pa = 34855;
	k.pb = 80;
	assert_int_equal(flow_community_id(&k, 0, rev, sizeof rev), 0);
	assert_string_equal(id, rev);
	/* The seed changes it */
	assert_int_equal(flow_community_id(&k, 4711, rev, sizeof rev), 0);
	assert_string_not_equal(id, rev);
	assert_int_equal(strlen(rev), 30);
	assert_int_equal(strncmp(rev, "1:", 2), 0);
	/* Too small a buffer, a key without a family */
	assert_int_equal(flow_community_id(&k, 0, id, 30), -1);
	k.family = 0;
	assert_int_equal(flow_community_id(&k, 0, id, sizeof id), -1);
}

/* ---------------------------------------------------------------- benchmark */

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

struct tuple {
	uint8_t src[4];
	uint16_t sport;
};

static double bench_run(struct flow_table *t, const struct tuple *tu, const uint32_t *order,
			size_t n, struct pkt *p)
{
	uint64_t sum = 0;
	double a = cpu_ns();

	for (size_t i = 0; i < n; i++) {
		const struct tuple *x = &tu[order[i]];
		struct flow *f;

		memcpy(p->src.a, x->src, 4);
		p->sport = x->sport;
		p->ts_us++;
		f = flow_get(t, p, NULL, NULL);
		sum += f->flags & FLOW_F_BULK;
	}
	if (sum == UINT64_MAX)
		print_message("impossible\n"); /* keeps the loop from being optimised away */
	return (cpu_ns() - a) / (double)n;
}

/* Latency of one dependent random load over 64 MB: what a lookup that misses every
 * cache pays per miss on this machine, to read the numbers below against. */
static double bench_miss_ns(void)
{
	const size_t n = (64u << 20) / 64;
	uint64_t *line = calloc(n, 64), rng = 42, k = 0;
	uint32_t *perm = calloc(n, sizeof *perm);
	double a;

	assert_non_null(line);
	assert_non_null(perm);
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(xorshift64(&rng) % (i + 1));
		uint32_t tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (size_t i = 0; i < n; i++)
		line[(size_t)perm[i] * 8] = perm[(i + 1) % n];
	a = cpu_ns();
	for (int i = 0; i < 2000000; i++)
		k = line[k * 8];
	a = (cpu_ns() - a) / 2000000.0;
	if (k == UINT64_MAX)
		print_message("impossible\n");
	free(line);
	free(perm);
	return a;
}

/* ONPATH_FLOW_BENCH=1: lookups of existing flows, 1M lookups over 100k flows in a
 * default-size table. The packet is hot in cache as it is in the sensor right after
 * decoding; only the 5-tuple changes. */
static void test_bench_lookup(void **state)
{
	const size_t nflows = 100000, nlook = 1000000, nsmall = 1000;
	const char *env = getenv("ONPATH_FLOW_BENCH");
	struct flow_table *t;
	struct tuple *tu;
	uint32_t *order;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct pkt p = tcp("10.0.0.0", 1, "192.0.2.1", 443, TCP_ACK, 1);
	double ns_rand, ns_burst, ns_small, ns_same, ns_miss;

	(void)state;
	if (!env || strcmp(env, "1") != 0) {
		skip();
		return;
	}
	t = table(0, NULL);
	tu = calloc(nflows, sizeof *tu);
	order = calloc(nlook, sizeof *order);
	assert_non_null(tu);
	assert_non_null(order);
	for (size_t i = 0; i < nflows; i++) {
		uint64_t r = xorshift64(&rng);

		tu[i].src[0] = 10;
		tu[i].src[1] = (uint8_t)(i >> 16);
		tu[i].src[2] = (uint8_t)(i >> 8);
		tu[i].src[3] = (uint8_t)i;
		tu[i].sport = (uint16_t)(1024 + r % 60000);
		memcpy(p.src.a, tu[i].src, 4);
		p.sport = tu[i].sport;
		flow_get(t, &p, NULL, NULL);
	}
	assert_int_equal(stats(t).active, nflows);

	/* A uniformly random flow per packet: every lookup misses the LRU head and the
	 * caches (15 MB of entries). The worst case: bound by memory latency. */
	for (size_t i = 0; i < nlook; i++)
		order[i] = (uint32_t)(xorshift64(&rng) % nflows);
	bench_run(t, tu, order, nlook, &p); /* warm-up */
	ns_rand = bench_run(t, tu, order, nlook, &p);

	/* Runs of 8 packets per flow, as bulk transfers arrive. */
	for (size_t i = 0; i < nlook; i += 8) {
		uint32_t f = (uint32_t)(xorshift64(&rng) % nflows);

		for (size_t j = i; j < i + 8 && j < nlook; j++)
			order[j] = f;
	}
	ns_burst = bench_run(t, tu, order, nlook, &p);

	/* Random over 1000 busy flows: the working set stays in cache. */
	for (size_t i = 0; i < nlook; i++)
		order[i] = (uint32_t)(xorshift64(&rng) % nsmall);
	bench_run(t, tu, order, nlook, &p);
	ns_small = bench_run(t, tu, order, nlook, &p);

	/* One flow: the compute cost of a lookup alone. */
	for (size_t i = 0; i < nlook; i++)
		order[i] = 7;
	ns_same = bench_run(t, tu, order, nlook, &p);

	assert_int_equal(stats(t).created, nflows);
	free(tu);
	free(order);
	flow_table_free(t);
	ns_miss = bench_miss_ns();
	print_message("flow_get bench (%zu lookups, ns/lookup, thread CPU time):\n"
		      "  %zu flows, uniformly random: %.1f\n"
		      "  %zu flows, runs of 8 packets: %.1f\n"
		      "  %zu of them, random:        %.1f\n"
		      "  one flow:                     %.1f\n"
		      "  (one random DRAM miss on this machine: %.1f ns)\n",
		      nlook, nflows, ns_rand, nflows, ns_burst, nsmall, ns_small, ns_same, ns_miss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_same_address),
		cmocka_unit_test(test_non_flow_packets),
		cmocka_unit_test(test_vlan_separates),
		cmocka_unit_test(test_v4_v6),
		cmocka_unit_test(test_fast_and_general_keys_agree),
		cmocka_unit_test(test_hash_seeded_per_table),
		cmocka_unit_test(test_bulk_path),
		cmocka_unit_test(test_initiator_syn),
		cmocka_unit_test(test_initiator_synack_first),
		cmocka_unit_test(test_initiator_midstream),
		cmocka_unit_test(test_initiator_udp_icmp),
		cmocka_unit_test(test_icmp_pairing),
		cmocka_unit_test(test_tcp_state_flags),
		cmocka_unit_test(test_port_reuse_after_close),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_lru_eviction_across_protocols),
		cmocka_unit_test(test_lru_grain),
		cmocka_unit_test(test_expire_per_protocol),
		cmocka_unit_test(test_expire_refresh),
		cmocka_unit_test(test_expire_huge_timestamps),
		cmocka_unit_test(test_expire_max_work),
		cmocka_unit_test(test_new_rejects_bad_cfg),
		cmocka_unit_test(test_free_releases_all),
		cmocka_unit_test(test_synflood_1m),
		cmocka_unit_test(test_community_id_vectors),
		cmocka_unit_test(test_community_id_hand_key),
		cmocka_unit_test(test_bench_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
