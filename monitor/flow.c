/* flow.c - the bounded bidirectional flow table: canonical keys, a keyed hash,
 * per-timeout-class LRU lists, idle expiry, and Community ID v1
 * (https://github.com/corelight/community-id-spec).
 *
 * Memory is one calloc'd pool of max_flows entries plus a power-of-two bucket array,
 * both allocated in flow_table_new(); nothing is allocated per packet. Entries are
 * linked by index (0 = none; pool[0] is never used, so following a link is one
 * indexed load) so the links are 4 bytes and the pool never moves.
 *
 * A table belongs to one capture worker (flows are spread over workers by
 * PACKET_FANOUT); it has no locks.
 *
 * flow_get() runs for nearly every packet, so its common case (a known TCP or UDP flow
 * over IPv4) is kept to about a hundred instructions: the key is built in registers,
 * hashed with four multiplies, compared in three words; the LRU list is touched once
 * per FLOW_LRU_GRAIN_US of the flow's packet time, and the TCP state only when a packet
 * carries SYN, FIN or RST. Creating, reusing and reclassifying flows are out of line.
 */
#include "config.h"

#include "flow.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

/* Largest max_flows accepted: 64 Mi entries (~10 GB of pool) is far past any single
 * worker's need and keeps indexes and the bucket count comfortably inside uint32. */
#define FLOW_MAX_FLOWS_LIMIT (1u << 26)

/* Buckets per flow: 2 keeps the average chain walked by a hit near 1.25 entries for
 * 4 bytes per bucket (2 MB at the default 262144 flows). */
#define FLOW_BUCKETS_PER_FLOW 2u

/* "1:" + base64 of a 20-byte SHA-1 (28 chars) + NUL. */
#define FLOW_CID_LEN 31u

/* The key is hashed and compared as five 64-bit words (its memory image), so it must be
 * exactly its fields: no padding that could hold garbage. */
_Static_assert(sizeof(struct flow_key) == 40, "struct flow_key must be 40 bytes, no padding");
/* flow_get() builds the key as these five words in registers (see key_words()). */
_Static_assert(offsetof(struct flow_key, b) == 16 && offsetof(struct flow_key, pa) == 32 &&
	       offsetof(struct flow_key, pb) == 34 && offsetof(struct flow_key, vlan) == 36 &&
	       offsetof(struct flow_key, family) == 38 && offsetof(struct flow_key, proto) == 39,
	       "struct flow_key layout changed: update key_words()");
#define KEY_WORDS 5
#define FLOW_HK_N 11 /* hash key: a0..a9, b (see flow_hash()) */

/* Timeout classes, one LRU list each. Within a class every flow has the same timeout,
 * so LRU order is expiry order and flow_expire() can stop at the first live flow.
 * With a single list a closed TCP flow (10 s) or a UDP flow (60 s) queued behind an
 * idle-but-open TCP flow (300 s) would outlive its timeout by minutes. */
enum flow_class {
	FC_TCP = 0,
	FC_TCP_CLOSED,
	FC_UDP,
	FC_OTHER,
	FC_N
};

struct flow_table {
	struct flow *pool;          /* 1 + max entries, calloc'd once; pool[0] unused */
	uint32_t *buckets;          /* pool index of the chain head, 0 = empty */
	unsigned shift;             /* 64 - log2(buckets): the bucket is hash >> shift */
	uint32_t max;
	uint32_t used;              /* pool entries ever handed out (high-water mark) */
	uint32_t free_head;         /* entries freed by expiry, chained through hnext */
	uint32_t lru_head[FC_N];    /* most recently used */
	uint32_t lru_tail[FC_N];    /* least recently used */
	uint64_t timeout_us[FC_N];
	uint64_t hk[FLOW_HK_N];     /* random per table: see flow_hash() */
	uint64_t hk_v4;             /* hk terms of the words that are zero in IPv4 keys */
	uint64_t new_key[KEY_WORDS]; /* the key of the packet being looked up, for flow_new() */
	unsigned expire_first;      /* class flow_expire() starts with, rotated per call */
	flow_free_fn on_free;
	void *ud;
	struct flow_stats st;
};

#define AT(t, i) (&(t)->pool[i])
#define IDX(t, f) ((uint32_t)((f) - (t)->pool))

void flow_cfg_defaults(struct flow_cfg *c)
{
	c->max_flows = FLOW_DEFAULT_MAX;
	c->tcp_idle_s = FLOW_DEFAULT_TCP_IDLE_S;
	c->tcp_closed_s = FLOW_DEFAULT_TCP_CLOSED_S;
	c->udp_idle_s = FLOW_DEFAULT_UDP_IDLE_S;
	c->other_idle_s = FLOW_DEFAULT_OTHER_IDLE_S;
}

/* ---------------------------------------------------------------- hashing */

/* The key is chosen by whoever sends packets, so a fixed hash would let an attacker
 * fill one bucket and turn every lookup into a chain walk. Pair-multiply-shift
 * (Dietzfelbinger's multiply-shift over pairs of 32-bit characters, as in UMAC's NH;
 * Thorup, "High Speed Hashing for Integers and Strings", arXiv:1504.06804), keyed
 * randomly per table: with the ten 32-bit characters x0..x9 of the key and random
 * 64-bit a0..a9, b,
 *
 *     s = (sum over i of (a[2i] + x[2i+1]) * (a[2i+1] + x[2i]) + b) mod 2^64
 *
 * is universal up to its top 33 bits, so two distinct keys give the same s with
 * probability about 2^-32 over the table key, which the attacker never sees, whatever
 * keys they choose. The bucket is the top bits of a fixed bijective mix of s
 * (xorshift-multiply), not of s itself: the raw top bits, universal as they are,
 * cluster on structured key sets (runs of ports or addresses) for some table keys, at
 * up to three times the random chain length in tests; mixed, they behave like random
 * ones. Six 64-bit multiplies with the mix's; four for an IPv4 key, whose words 1 and
 * 3 and upper halves of words 0 and 2 are zero: their terms are folded into hk_v4 once
 * per table. */
static inline uint64_t hash_mix(uint64_t s)
{
	return (s ^ (s >> 32)) * 0x9e3779b97f4a7c15ull;
}

static inline uint64_t hk_pair(const uint64_t *a, uint64_t w)
{
	return (a[0] + (w >> 32)) * (a[1] + (uint32_t)w);
}

static inline uint64_t flow_hash(const struct flow_table *t, const uint64_t w[KEY_WORDS])
{
	const uint64_t *a = t->hk;

	return hash_mix(hk_pair(&a[0], w[0]) + hk_pair(&a[2], w[1]) + hk_pair(&a[4], w[2]) +
			hk_pair(&a[6], w[3]) + hk_pair(&a[8], w[4]) + a[10]);
}

/* flow_hash() of an IPv4 key on a little-endian host: word 0 is the address s, word 2
 * the address d, words 1 and 3 zero (see key_words()). */
static inline uint64_t flow_hash_v4(const struct flow_table *t, uint32_t s, uint32_t d,
				    uint64_t w4)
{
	const uint64_t *a = t->hk;

	return hash_mix(a[0] * (a[1] + s) + a[4] * (a[5] + d) + hk_pair(&a[8], w4) + t->hk_v4);
}

static inline size_t bucket_of(const struct flow_table *t, uint64_t h)
{
	return (size_t)(h >> t->shift);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The hash key only decides bucket placement: eviction and expiry follow packet
 * time, so results stay the same on every run whatever the key. getrandom(2), not
 * RAND_bytes(): the first RAND_bytes() of a process instantiates OpenSSL's DRBG
 * (some 8 million instructions), and a sensor that is not asked for a Community ID
 * never needs it. Up to 256 bytes getrandom() returns all of them once the kernel
 * pool is ready, and is not interrupted by signals. */
static void seed_hash(struct flow_table *t)
{
	struct timespec ts;
	uint64_t s;

	if (getrandom(t->hk, sizeof t->hk, 0) != (ssize_t)sizeof t->hk &&
	    RAND_bytes((unsigned char *)t->hk, (int)sizeof t->hk) != 1) {
		/* No entropy source (should not happen on Linux): a weaker per-run key
		 * still beats a constant one. */
		clock_gettime(CLOCK_REALTIME, &ts);
		s = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		s ^= (uint64_t)(uintptr_t)t;
		for (size_t i = 0; i < ONPATH_ARRAY_LEN(t->hk); i++)
			t->hk[i] = splitmix64(&s);
	}
	t->hk_v4 = t->hk[2] * t->hk[3] + t->hk[6] * t->hk[7] + t->hk[10];
}

/* ---------------------------------------------------------------- keys */

/* ICMP "ports" as Community ID v1 takes them from Zeek (ICMP4_counterpart and
 * ICMP6_counterpart; pycommunityid icmp.py/icmp6.py): a request/response type maps to
 * (type, counterpart type) and orders like TCP, so both directions share one key; any
 * other type is one-way: (type, code), sender first, never reordered. Returns the
 * counterpart, or -1 for a one-way type. */
static int icmp_counterpart(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP) {
		switch (type) {
		case 8: return 0;    /* echo */
		case 0: return 8;    /* echo reply */
		case 13: return 14;  /* timestamp */
		case 14: return 13;
		case 15: return 16;  /* information */
		case 16: return 15;
		case 10: return 9;   /* router solicitation */
		case 9: return 10;   /* router advertisement */
		case 17: return 18;  /* address mask */
		case 18: return 17;
		default: return -1;
		}
	}
	switch (type) {
	case 128: return 129;    /* echo request */
	case 129: return 128;
	case 130: return 131;    /* MLD query / report */
	case 131: return 130;
	case 133: return 134;    /* router solicitation / advertisement */
	case 134: return 133;
	case 135: return 136;    /* neighbor solicitation / advertisement */
	case 136: return 135;
	case 139: return 140;    /* node information query / reply ("who are you") */
	case 140: return 139;
	case 144: return 145;    /* home agent address discovery */
	case 145: return 144;
	default: return -1;
	}
}

/* Responses: when one is the first packet of a flow, its receiver asked. */
static bool icmp_is_reply(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == 0 || type == 14 || type == 16 || type == 18;
	return type == 129 || type == 140 || type == 145;
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* A key of a one-way ICMP type keeps the sender in a, as Community ID does. */
static bool key_is_oneway(const struct flow_key *k)
{
	int c;

	if (!is_icmp(k->proto) || k->pa > 255)
		return false;
	c = icmp_counterpart(k->proto, (uint8_t)k->pa);
	return c < 0 || k->pb != (uint16_t)c;
}

/* Unaligned native-order loads and byte order, for building key words. */
static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define KEY_BIG_ENDIAN 1
#define BE64(x) (x)
#define BE32(x) (x)
#else
#define KEY_BIG_ENDIAN 0
#define BE64(x) __builtin_bswap64(x)
#define BE32(x) __builtin_bswap32(x)
#endif

/* Word 4 of the key: pa, pb, vlan, family, proto as they lie in memory. */
static inline uint64_t key_tail(uint16_t pa, uint16_t pb, uint16_t vlan, uint8_t family,
				uint8_t proto)
{
#if KEY_BIG_ENDIAN
	return (uint64_t)pa << 48 | (uint64_t)pb << 32 | (uint64_t)vlan << 16 |
	       (uint64_t)family << 8 | proto;
#else
	return (uint64_t)pa | (uint64_t)pb << 16 | (uint64_t)vlan << 32 |
	       (uint64_t)family << 48 | (uint64_t)proto << 56;
#endif
}

/* Builds the canonical key of a packet as the five 64-bit words of its memory image
 * (struct flow_key); *src_is_a tells which endpoint sent it. False for anything that
 * is not a flow packet.
 *
 * Words in registers rather than a struct on the stack: writing a key field by field
 * and reading it back as words to hash and compare stalls store-to-load forwarding
 * on every packet. The key is written to memory only when a flow is created. */
static inline bool key_words(const struct pkt *p, uint64_t w[KEY_WORDS], bool *src_is_a)
{
	uint32_t fl = p->flags;
	uint64_t s0, s1, d0, d1;   /* native words (key image) */
	uint64_t so0, so1, do0, do1; /* big-endian values (address order) */
	uint16_t sp, dp, vlan;
	bool oneway = false, src_first;

	/* A later fragment has no transport header: its "ports" would be payload bytes. */
	if ((fl & (PKT_F_IP | PKT_F_LATER_FRAG)) != PKT_F_IP)
		return false;
	switch (p->ip_proto) {
	case IPPROTO_TCP:
		if (!(fl & PKT_F_TCP))
			return false;
		sp = p->sport;
		dp = p->dport;
		break;
	case IPPROTO_UDP:
		if (!(fl & PKT_F_UDP))
			return false;
		sp = p->sport;
		dp = p->dport;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int cp;

		if (!(fl & PKT_F_ICMP))
			return false;
		cp = icmp_counterpart(p->ip_proto, p->icmp_type);
		sp = p->icmp_type;
		if (cp < 0) {
			dp = p->icmp_code;
			oneway = true;
		} else {
			dp = (uint16_t)cp;
		}
		break;
	}
	default:
		return false;
	}

	if (p->src.family == 4 && p->dst.family == 4) {
		/* Only a[0..3]: the rest of the key stays zero whatever the decoder left
		 * in op_addr, so a sloppy decoder cannot split a flow. */
		uint32_t s = ld32(p->src.a), d = ld32(p->dst.a);

#if KEY_BIG_ENDIAN
		s0 = (uint64_t)s << 32;
		d0 = (uint64_t)d << 32;
#else
		s0 = s;
		d0 = d;
#endif
		s1 = d1 = 0;
		so0 = BE32(s);
		do0 = BE32(d);
		so1 = do1 = 0;
	} else if (p->src.family == 6 && p->dst.family == 6) {
		s0 = ld64(p->src.a);
		s1 = ld64(p->src.a + 8);
		d0 = ld64(p->dst.a);
		d1 = ld64(p->dst.a + 8);
		so0 = BE64(s0);
		so1 = BE64(s1);
		do0 = BE64(d0);
		do1 = BE64(d1);
	} else {
		return false;
	}

	/* Address bytes compared as big-endian numbers = memcmp order, then ports. */
	src_first = oneway || so0 < do0 ||
		    (so0 == do0 && (so1 < do1 || (so1 == do1 && sp <= dp)));
	*src_is_a = src_first;
	vlan = p->nvlan ? p->vlan[0] : 0;
	if (src_first) {
		w[0] = s0;
		w[1] = s1;
		w[2] = d0;
		w[3] = d1;
		w[4] = key_tail(sp, dp, vlan, p->src.family, p->ip_proto);
	} else {
		w[0] = d0;
		w[1] = d1;
		w[2] = s0;
		w[3] = s1;
		w[4] = key_tail(dp, sp, vlan, p->src.family, p->ip_proto);
	}
	return true;
}

/* Word 4 of a stored key (pa, pb, vlan, family, proto: offset 32, asserted above). */
static inline uint64_t key_word4(const struct flow_key *k)
{
	return ld64((const uint8_t *)&k->pa);
}

/* Exact key match, word by word: no libc call, no early-exit branches. */
static inline bool key_eq(const struct flow *f, const uint64_t w[KEY_WORDS])
{
	const struct flow_key *k = &f->key;

	return ((ld64(k->a) ^ w[0]) | (ld64(&k->a[8]) ^ w[1]) | (ld64(k->b) ^ w[2]) |
		(ld64(&k->b[8]) ^ w[3]) | (key_word4(k) ^ w[4])) == 0;
}

/* The same for an IPv4 key (w4 says family 4): words 1 and 3 of every IPv4 key are
 * zero (key_words() and the fast path in flow_get() both build them so), so a stored
 * key whose word 4 matches has them zero too. */
static inline bool key_eq_v4(const struct flow *f, uint64_t w0, uint64_t w2, uint64_t w4)
{
	return ((ld64(f->key.a) ^ w0) | (ld64(f->key.b) ^ w2) | (key_word4(&f->key) ^ w4)) == 0;
}

/* ---------------------------------------------------------------- lists */

static inline enum flow_class flow_class_of(const struct flow *f)
{
	switch (f->key.proto) {
	case IPPROTO_TCP:
		if ((f->flags & FLOW_F_RST) ||
		    (f->flags & (FLOW_F_FIN0 | FLOW_F_FIN1)) == (FLOW_F_FIN0 | FLOW_F_FIN1))
			return FC_TCP_CLOSED;
		return FC_TCP;
	case IPPROTO_UDP:
		return FC_UDP;
	default:
		return FC_OTHER;
	}
}

/* f->lru_class names the list holding f. */
static inline void lru_unlink(struct flow_table *t, struct flow *f)
{
	enum flow_class c = (enum flow_class)f->lru_class;

	if (f->lru_prev)
		AT(t, f->lru_prev)->lru_next = f->lru_next;
	else
		t->lru_head[c] = f->lru_next;
	if (f->lru_next)
		AT(t, f->lru_next)->lru_prev = f->lru_prev;
	else
		t->lru_tail[c] = f->lru_prev;
	f->lru_prev = f->lru_next = 0;
}

static inline void lru_push(struct flow_table *t, struct flow *f, enum flow_class c)
{
	uint32_t i = IDX(t, f);

	f->lru_class = (uint8_t)c;
	f->lru_prev = 0;
	f->lru_next = t->lru_head[c];
	if (t->lru_head[c])
		AT(t, t->lru_head[c])->lru_prev = i;
	else
		t->lru_tail[c] = i;
	t->lru_head[c] = i;
}

/* To the head of its own list (a packet in a new grain of time). */
static void lru_touch(struct flow_table *t, struct flow *f)
{
	enum flow_class c = (enum flow_class)f->lru_class;

	if (t->lru_head[c] != IDX(t, f)) {
		lru_unlink(t, f);
		lru_push(t, f, c);
	}
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
	uint32_t *pp = &t->buckets[bucket_of(t, f->hash)];
	uint32_t i = IDX(t, f);

	/* f is on this chain (table invariant), so the walk ends at it. */
	while (*pp != i)
		pp = &AT(t, *pp)->hnext;
	*pp = f->hnext;
	f->hnext = 0;
}

/* Takes f out of the table after its owner has released st[] and app. The entry
 * stays in the pool; the caller reuses it or puts it on the free list. */
static void flow_remove(struct flow_table *t, struct flow *f)
{
	if (t->on_free)
		t->on_free(f, t->ud);
	hash_unlink(t, f);
	lru_unlink(t, f);
	t->st.active--;
}

/* Frees the least recently used flow: the class tail with the oldest packet time. */
static struct flow *evict_lru(struct flow_table *t)
{
	struct flow *victim = NULL;

	for (int c = 0; c < FC_N; c++) {
		struct flow *f;

		if (!t->lru_tail[c])
			continue;
		f = AT(t, t->lru_tail[c]);
		if (!victim || f->last_us < victim->last_us)
			victim = f;
	}
	/* Only called when the pool is full, so some list is non-empty. */
	flow_remove(t, victim);
	t->st.evicted++;
	return victim;
}

/* ---------------------------------------------------------------- table */

struct flow_table *flow_table_new(const struct flow_cfg *cfg, flow_free_fn on_free, void *ud)
{
	struct flow_cfg def;
	struct flow_table *t;
	uint64_t nb = 2;
	unsigned bits = 1;

	if (!cfg) {
		flow_cfg_defaults(&def);
		cfg = &def;
	}
	if (cfg->max_flows == 0 || cfg->max_flows > FLOW_MAX_FLOWS_LIMIT) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	while (nb < (uint64_t)cfg->max_flows * FLOW_BUCKETS_PER_FLOW) {
		nb <<= 1;
		bits++;
	}
	/* calloc: untouched pool pages stay unbacked until the table fills. */
	t->pool = calloc((size_t)cfg->max_flows + 1, sizeof *t->pool);
	t->buckets = calloc(nb, sizeof *t->buckets);
	if (!t->pool || !t->buckets) {
		free(t->pool);
		free(t->buckets);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->shift = 64 - bits;
	t->max = cfg->max_flows;
	t->timeout_us[FC_TCP] = (uint64_t)cfg->tcp_idle_s * 1000000u;
	t->timeout_us[FC_TCP_CLOSED] = (uint64_t)cfg->tcp_closed_s * 1000000u;
	t->timeout_us[FC_UDP] = (uint64_t)cfg->udp_idle_s * 1000000u;
	t->timeout_us[FC_OTHER] = (uint64_t)cfg->other_idle_s * 1000000u;
	t->on_free = on_free;
	t->ud = ud;
	seed_hash(t);
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	if (t->on_free) {
		for (int c = 0; c < FC_N; c++) {
			for (uint32_t i = t->lru_head[c], next; i; i = next) {
				next = AT(t, i)->lru_next;
				t->on_free(AT(t, i), t->ud);
			}
		}
	}
	free(t->pool);
	free(t->buckets);
	free(t);
}

void flow_table_get_stats(const struct flow_table *t, struct flow_stats *s)
{
	*s = t->st;
}

/* Who opened the flow, judged from its first packet. */
static bool sender_initiates(const struct pkt *p, uint32_t *flags)
{
	/* Servers listen on well-known ports; clients use ephemeral ones. Only for a
	 * first packet that tells nothing better. (Ports exist only for TCP and UDP:
	 * decode.h leaves them unset for ICMP.) */
	switch (p->ip_proto) {
	case IPPROTO_TCP:
		if (p->tcp_flags & TCP_SYN)
			return !(p->tcp_flags & TCP_ACK); /* SYN+ACK: the receiver sent the SYN */
		*flags |= FLOW_F_MIDSTREAM;
		return !(p->sport < 1024 && p->dport >= 1024);
	case IPPROTO_UDP:
		return !(p->sport < 1024 && p->dport >= 1024);
	default:
		return !icmp_is_reply(p->ip_proto, p->icmp_type);
	}
}

static void flow_init(struct flow *f, const uint64_t w[KEY_WORDS], uint64_t h,
		      const struct pkt *p, bool src_is_a)
{
	uint32_t flags = 0;
	bool snd = sender_initiates(p, &flags);

	memset(f, 0, sizeof *f);
	memcpy(&f->key, w, sizeof f->key);
	f->hash = h;
	f->first_us = f->last_us = p->ts_us;
	f->flags = flags;
	f->init_is_a = snd == src_is_a;
}

/* A fresh SYN on a closed connection is its 4-tuple being reopened (RFC 1122
 * 4.2.2.13 and RFC 6191 let a SYN reopen from TIME-WAIT; NATs reuse ports too): a
 * new connection with its own initiator and streams, not more of the old one. The
 * old one ends here, counted as expired since its closed timeout was cut short; the
 * entry keeps its place in the hash chain. */
static void __attribute__((noinline))
flow_reuse(struct flow_table *t, struct flow *f, const struct pkt *p, bool src_is_a)
{
	uint64_t w[KEY_WORDS];
	uint32_t hnext = f->hnext;

	memcpy(w, &f->key, sizeof w);
	if (t->on_free)
		t->on_free(f, t->ud);
	lru_unlink(t, f);
	flow_init(f, w, f->hash, p, src_is_a);
	f->hnext = hnext;
	lru_push(t, f, flow_class_of(f));
	t->st.expired++;
	t->st.created++;
}

/* A packet whose key is in no bucket: a new entry, from the free list, the pool, or
 * the least recently used flow. */
static struct flow *__attribute__((noinline))
flow_create(struct flow_table *t, const struct pkt *p, const uint64_t w[KEY_WORDS],
	    uint64_t h, bool src_is_a)
{
	struct flow *f;
	size_t b;

	if (t->free_head) {
		f = AT(t, t->free_head);
		t->free_head = f->hnext;
	} else if (t->used < t->max) {
		f = &t->pool[++t->used];
	} else {
		f = evict_lru(t);
	}
	flow_init(f, w, h, p, src_is_a);
	/* After the eviction, which may have edited this very chain. */
	b = bucket_of(t, h);
	f->hnext = t->buckets[b];
	t->buckets[b] = IDX(t, f);
	lru_push(t, f, flow_class_of(f));
	t->st.created++;
	if (++t->st.active > t->st.peak_active)
		t->st.peak_active = t->st.active;
	return f;
}

/* SYN, FIN or RST on a TCP flow: state flags, and the closed-flow list once both FINs
 * or an RST have been seen. */
static void tcp_state(struct flow_table *t, struct flow *f, uint8_t tf, int d)
{
	enum flow_class nc;

	if (tf & TCP_SYN)
		f->flags |= FLOW_F_SYN_SEEN;
	if (tf & TCP_FIN)
		f->flags |= d == FLOW_DIR_ORIG ? FLOW_F_FIN0 : FLOW_F_FIN1;
	if (tf & TCP_RST)
		f->flags |= FLOW_F_RST;
	nc = flow_class_of(f);
	if (nc != f->lru_class) {
		lru_unlink(t, f);
		lru_push(t, f, nc);
	}
}

/* The SYN, FIN and RST bits of a flow packet (p->ip_proto is the key's protocol, and a
 * TCP key needs PKT_F_TCP: key_words()). */
static inline uint8_t tcp_state_bits(const struct pkt *p)
{
	return p->ip_proto == IPPROTO_TCP ? p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST) : 0;
}

/* The list work a packet may need after its counters: moving its flow to the head of
 * its list (touch) and the TCP state. Out of line, and the last thing the callers do,
 * so that they need no stack frame for it. */
static struct flow *__attribute__((noinline))
flow_after(struct flow_table *t, struct flow *f, bool touch, uint8_t tf, int d)
{
	if (touch)
		lru_touch(t, f);
	if (tf)
		tcp_state(t, f, tf, d);
	return f;
}

/* What every packet does once its flow is found or made: direction, counters, the
 * caller's out parameters, then flow_after() when there is list work. */
static inline struct flow *flow_account(struct flow_table *t, struct flow *f, uint32_t wirelen,
					uint8_t tf, bool src_is_a, bool touch, int isnew, int *dir,
					int *created)
{
	size_t d = (size_t)(src_is_a ^ f->init_is_a); /* FLOW_DIR_ORIG: sender initiated */

	f->pkts[d]++;
	f->bytes[d] += wirelen;
	if (dir)
		*dir = (int)d;
	if (created)
		*created = isnew;
	if (touch || tf)
		return flow_after(t, f, touch, tf, (int)d);
	return f;
}

/* A packet at ts_us on a flow already in the table: last_us moves forward (max, not
 * assignment: merged capture queues can deliver a slightly older timestamp, and last_us
 * must not move backwards). True when the packet crossed a grain (FLOW_LRU_GRAIN_US):
 * the list position follows once per grain, so bulk data costs no list surgery and LRU
 * order stays packet-time order to the grain. */
static inline bool flow_advance(struct flow *f, uint64_t ts_us)
{
	uint64_t last = f->last_us, now = ts_us > last ? ts_us : last;

	f->last_us = now;
	return ((now ^ last) >> FLOW_LRU_GRAIN_SHIFT) != 0;
}

/* A new flow for the key staged in t->new_key (see flow_get()). The key is copied out
 * first: an eviction calls on_free, which must not find the staging area in use. */
static struct flow *__attribute__((noinline))
flow_new(struct flow_table *t, const struct pkt *p, uint64_t h, bool src_is_a, int *dir,
	 int *created)
{
	uint64_t w[KEY_WORDS];
	struct flow *f;

	memcpy(w, t->new_key, sizeof w);
	f = flow_create(t, p, w, h, src_is_a);

	return flow_account(t, f, p->wirelen, tcp_state_bits(p), src_is_a, false, 1, dir, created);
}

static struct flow *__attribute__((noinline))
flow_reopen(struct flow_table *t, struct flow *f, const struct pkt *p, bool src_is_a,
	    int *dir, int *created)
{
	flow_reuse(t, f, p, src_is_a);
	return flow_account(t, f, p->wirelen, tcp_state_bits(p), src_is_a, false, 1, dir, created);
}

/* A packet of the flow f already in the table. */
static inline struct flow *flow_found(struct flow_table *t, struct flow *f, const struct pkt *p,
				      bool src_is_a, int *dir, int *created)
{
	if (__builtin_expect(f->lru_class == FC_TCP_CLOSED, 0) &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return flow_reopen(t, f, p, src_is_a, dir, created);
	return flow_account(t, f, p->wirelen, tcp_state_bits(p), src_is_a, flow_advance(f, p->ts_us),
			    0, dir, created);
}

/* key_words() for TCP or UDP over IPv6 (the caller has checked flags and families),
 * without the protocol switch. */
static inline bool key_v6(uint64_t s0, uint64_t s1, uint64_t d0, uint64_t d1, uint16_t sp,
			  uint16_t dp, uint16_t vlan, uint8_t proto, uint64_t w[KEY_WORDS])
{
	uint64_t so0 = BE64(s0), so1 = BE64(s1), do0 = BE64(d0), do1 = BE64(d1);
	/* Address bytes compared as big-endian numbers = memcmp order, then ports. */
	bool src_first = so0 < do0 ||
			 (so0 == do0 && (so1 < do1 || (so1 == do1 && sp <= dp)));

	w[0] = src_first ? s0 : d0;
	w[1] = src_first ? s1 : d1;
	w[2] = src_first ? d0 : s0;
	w[3] = src_first ? d1 : s1;
	w[4] = src_first ? key_tail(sp, dp, vlan, 6, proto) : key_tail(dp, sp, vlan, 6, proto);
	return src_first;
}

static inline void key_words_v6(const struct pkt *p, uint64_t w[KEY_WORDS], bool *src_is_a)
{
	*src_is_a = key_v6(ld64(p->src.a), ld64(&p->src.a[8]), ld64(p->dst.a), ld64(&p->dst.a[8]),
			   p->sport, p->dport, p->nvlan ? p->vlan[0] : 0, p->ip_proto, w);
}

/* TCP or UDP over IPv6 (the caller has checked flags and families). */
static struct flow *__attribute__((noinline))
flow_get_v6(struct flow_table *t, const struct pkt *p, int *dir, int *created)
{
	uint64_t w[KEY_WORDS], h;
	struct flow *f;
	bool src_is_a;

	key_words_v6(p, w, &src_is_a);
	h = flow_hash(t, w);
	for (uint32_t i = t->buckets[bucket_of(t, h)]; i; i = f->hnext) {
		f = AT(t, i);
		if (key_eq(f, w))
			return flow_found(t, f, p, src_is_a, dir, created);
	}
	memcpy(t->new_key, w, sizeof w);
	return flow_new(t, p, h, src_is_a, dir, created);
}

/* Every other packet: ICMP, and what is no flow at all. */
static struct flow *__attribute__((noinline))
flow_get_other(struct flow_table *t, const struct pkt *p, int *dir, int *created)
{
	uint64_t *w = t->new_key, h;
	struct flow *f;
	bool src_is_a;

	if (!key_words(p, w, &src_is_a))
		return NULL;
	h = flow_hash(t, w);
	/* The key words are compared directly: comparing the stored hash first would
	 * touch another cache line of the entry for nothing. */
	for (uint32_t i = t->buckets[bucket_of(t, h)]; i; i = f->hnext) {
		f = AT(t, i);
		if (key_eq(f, w))
			return flow_found(t, f, p, src_is_a, dir, created);
	}
	return flow_new(t, p, h, src_is_a, dir, created);
}

/* The key of an IPv4 TCP/UDP packet from s:sp to da:dp (address bytes as loaded by
 * ld32): words 0 and 2 and word 4; returns src_is_a. */
static inline bool key_v4(uint32_t s, uint32_t da, uint16_t sp, uint16_t dp, uint16_t vlan,
			  uint8_t proto, uint32_t *ka, uint32_t *kb, uint64_t *w4)
{
	/* Address bytes as a big-endian number = memcmp order, then the port. */
	bool src_is_a = BE32(s) < BE32(da) || (s == da && sp <= dp);
	uint32_t ports = (uint32_t)sp | (uint32_t)dp << 16;

	*ka = src_is_a ? s : da;
	*kb = src_is_a ? da : s;
	if (!src_is_a)
		ports = ports >> 16 | ports << 16;
	*w4 = key_tail(0, 0, vlan, 4, proto) | ports;
	return src_is_a;
}

/* flow_found() for a bulk packet without SYN, FIN or RST: no reopening, no TCP state.
 * NULL when the flow is not bulk (nothing changed). */
static inline struct flow *bulk_found(struct flow_table *t, struct flow *f, bool src_is_a,
				      uint64_t ts_us, uint32_t wirelen)
{
	if (!(f->flags & FLOW_F_BULK))
		return NULL;
	return flow_account(t, f, wirelen, 0, src_is_a, flow_advance(f, ts_us), 0, NULL, NULL);
}

struct flow *flow_bulk_tcp(struct flow_table *t, const struct dec_bulk *k, uint64_t ts_us,
			   uint32_t wirelen)
{
	uint64_t w[KEY_WORDS], w4, h;
	uint32_t ka, kb;
	struct flow *f;
	bool src_is_a;

	if (KEY_BIG_ENDIAN)
		return NULL;
	if (k->family == 4) {
		src_is_a = key_v4(ld32(k->src), ld32(k->dst), k->sport, k->dport, 0, IPPROTO_TCP,
				  &ka, &kb, &w4);
		h = flow_hash_v4(t, ka, kb, w4);
		for (uint32_t i = t->buckets[bucket_of(t, h)]; i; i = f->hnext) {
			f = AT(t, i);
			if (key_eq_v4(f, ka, kb, w4))
				return bulk_found(t, f, src_is_a, ts_us, wirelen);
		}
		return NULL;
	}
	src_is_a = key_v6(ld64(k->src), ld64(&k->src[8]), ld64(k->dst), ld64(&k->dst[8]), k->sport,
			  k->dport, 0, IPPROTO_TCP, w);
	h = flow_hash(t, w);
	for (uint32_t i = t->buckets[bucket_of(t, h)]; i; i = f->hnext) {
		f = AT(t, i);
		if (key_eq(f, w))
			return bulk_found(t, f, src_is_a, ts_us, wirelen);
	}
	return NULL;
}

/* The common case, TCP or UDP over IPv4 with its transport header, is handled here
 * with the key in registers: the key words are those key_words() builds (words 1 and
 * 3 zero), without its protocol switch. Every call out of this function is its last
 * act, a jump: none needs a frame or the key kept across it. */
struct flow *flow_get(struct flow_table *t, const struct pkt *p, int *dir, int *created)
{
	uint32_t fl = p->flags, sel, s, da, ka, kb;
	uint8_t proto = p->ip_proto;
	uint64_t w4, h;
	struct flow *f;
	bool src_is_a;
	uint16_t sp, dp, vlan;

	/* IP, not a later fragment, and the transport flag that goes with the protocol
	 * number: two compares of (flags, protocol) at once. */
	sel = (fl & (PKT_F_IP | PKT_F_LATER_FRAG | PKT_F_TCP | PKT_F_UDP | PKT_F_ICMP)) |
	      (uint32_t)proto << 16;
	if (sel != (PKT_F_IP | PKT_F_TCP | (uint32_t)IPPROTO_TCP << 16) &&
	    sel != (PKT_F_IP | PKT_F_UDP | (uint32_t)IPPROTO_UDP << 16))
		return flow_get_other(t, p, dir, created);
	if (KEY_BIG_ENDIAN || p->src.family != 4 || p->dst.family != 4) {
		if (p->src.family == 6 && p->dst.family == 6)
			return flow_get_v6(t, p, dir, created);
		return flow_get_other(t, p, dir, created);
	}

	s = ld32(p->src.a);
	da = ld32(p->dst.a);
	sp = p->sport;
	dp = p->dport;
	vlan = p->nvlan ? p->vlan[0] : 0;
	src_is_a = key_v4(s, da, sp, dp, vlan, proto, &ka, &kb, &w4);
	h = flow_hash_v4(t, ka, kb, w4);
	for (uint32_t i = t->buckets[bucket_of(t, h)]; i; i = f->hnext) {
		f = AT(t, i);
		if (key_eq_v4(f, ka, kb, w4))
			return flow_found(t, f, p, src_is_a, dir, created);
	}
	t->new_key[0] = ka;
	t->new_key[1] = 0;
	t->new_key[2] = kb;
	t->new_key[3] = 0;
	t->new_key[4] = w4;
	return flow_new(t, p, h, src_is_a, dir, created);
}

void flow_expire(struct flow_table *t, uint64_t now_us, size_t max_work)
{
	size_t work = 0;

	for (int n = 0; n < FC_N; n++) {
		/* Rotating the first class keeps one class with a long backlog from taking
		 * every call's budget. */
		enum flow_class c = (enum flow_class)((t->expire_first + (unsigned)n) % FC_N);

		while (t->lru_tail[c]) {
			struct flow *f = AT(t, t->lru_tail[c]);

			if (max_work && work >= max_work)
				goto out;
			work++;
			/* Subtraction form: last_us comes from packet timestamps, which a crafted
			 * capture can set near UINT64_MAX; last_us + timeout would wrap. The
			 * list is in last_us order to FLOW_LRU_GRAIN_US, so stopping at the
			 * first live flow leaves none more than a grain past its timeout. */
			if (now_us <= f->last_us || now_us - f->last_us <= t->timeout_us[c])
				break;
			flow_remove(t, f);
			f->hnext = t->free_head;
			t->free_head = IDX(t, f);
			t->st.expired++;
		}
	}
out:
	t->expire_first = (t->expire_first + 1) % FC_N;
}

/* ---------------------------------------------------------------- reporting */

int flow_community_id(const struct flow_key *k, uint16_t seed, char *out, size_t cap)
{
	/* seed(2) saddr(16) daddr(16) proto(1) pad(1) sport(2) dport(2) */
	uint8_t buf[40], md[EVP_MAX_MD_SIZE];
	const uint8_t *sa = k->a, *da = k->b;
	uint16_t sp = k->pa, dp = k->pb;
	unsigned int mdlen = 0;
	size_t alen, n = 0;

	if (cap < FLOW_CID_LEN)
		return -1;
	if (k->family == 4)
		alen = 4;
	else if (k->family == 6)
		alen = 16;
	else
		return -1;
	/* Keys from flow_get() are already ordered; ordering again here makes the
	 * function right for a key built by hand in either direction. */
	if (!key_is_oneway(k)) {
		int c = memcmp(sa, da, alen);

		if (c > 0 || (c == 0 && sp > dp)) {
			sa = k->b;
			da = k->a;
			sp = k->pb;
			dp = k->pa;
		}
	}
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, sa, alen);
	n += alen;
	memcpy(buf + n, da, alen);
	n += alen;
	buf[n++] = k->proto;
	buf[n++] = 0;
	/* The spec hashes ports for TCP, UDP, SCTP and the ICMPs only. */
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP || k->proto == IPPROTO_SCTP ||
	    is_icmp(k->proto)) {
		buf[n++] = (uint8_t)(sp >> 8);
		buf[n++] = (uint8_t)sp;
		buf[n++] = (uint8_t)(dp >> 8);
		buf[n++] = (uint8_t)dp;
	}
	if (EVP_Digest(buf, n, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		return -1;
	out[0] = '1';
	out[1] = ':';
	EVP_EncodeBlock((unsigned char *)out + 2, md, (int)mdlen);
	return 0;
}

void flow_endpoints(const struct flow *f, struct op_addr *orig, uint16_t *orig_port,
		    struct op_addr *resp, uint16_t *resp_port)
{
	const struct flow_key *k = &f->key;
	bool a_orig = f->init_is_a != 0;

	if (orig) {
		orig->family = k->family;
		memcpy(orig->a, a_orig ? k->a : k->b, sizeof orig->a);
	}
	if (resp) {
		resp->family = k->family;
		memcpy(resp->a, a_orig ? k->b : k->a, sizeof resp->a);
	}
	if (orig_port)
		*orig_port = a_orig ? k->pa : k->pb;
	if (resp_port)
		*resp_port = a_orig ? k->pb : k->pa;
}
