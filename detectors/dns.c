/* dns.c - rogue DNS answers: spoofing races, unsolicited and mismatched answers, TXID
 * floods, answers from resolvers a client should not use or from the wrong MAC or hop
 * distance, public names answered with private addresses, and names whose answers move
 * to another network (RFC 1035 messages over UDP and TCP port 53, judged as struct
 * dns_ev; LLMNR, mDNS and NBT-NS are names.c's).
 *
 * Transactions. A query opens (or joins) a "socket" entry keyed by (VLAN, client,
 * client port, resolver, resolver port) that holds up to DNS_TX_PER_SOCK transactions
 * (ID + question). A response is matched on the socket, then the ID, then the
 * question:
 *   - first answer of a transaction: recorded (its MAC, IP TTL, rcode and first
 *     addresses kept for later evidence), then judged on its own (resolver, MAC, IP
 *     TTL, private address, ASN);
 *   - another answer whose records differ (order and TTLs ignored): dns.answer_race,
 *     the classic off-path/on-path spoofing race; a byte-identical duplicate is not;
 *   - socket known but no transaction with that ID/question: a guessed ID (counted
 *     towards dns.txid_flood; reported as dns.unsolicited_answer until the flood
 *     threshold is crossed, then folded into the flood alert);
 *   - no socket: dns.unsolicited_answer only when the answer cannot be an artefact of
 *     the capture: not in the first seconds after start (the query may predate the
 *     capture), not for a query the table expired or evicted (a "ghost" filter remembers
 *     them), and only for clients whose queries this sensor does see (a SPAN that only
 *     carries one direction would otherwise report every answer).
 * Entries expire transaction_timeout after their last packet; the table is bounded
 * (max_transactions sockets, oldest evicted and counted), so a flood makes the detector
 * forget, never grow.
 *
 * Baselines (saved and reloaded): per client the resolvers it uses (with RD queries:
 * recursive resolvers' own iterative queries are not stub traffic); per resolver the
 * source MACs and IP TTLs of its answers; per name the ASNs, countries and (without a
 * geo database) network prefixes its addresses came from. Each is a bounded LRU table.
 * A new value for something known alerts at once; only "a client uses a resolver never
 * seen" is muted during the cold-start learning window. A changed MAC or TTL becomes
 * the baseline after DNS_ADOPT_RUN consecutive answers (a replaced router), so a benign
 * change stops alerting while a spoofer interleaving with the real resolver never does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"
#include "detector.h"
#include "geo.h"
#include "lan.h"
#include "sig.h"
#include "table.h"

#define DNS_PORT 53

/* Defaults; every one is a key of detectors.dns (onpath.yaml.example). */
#define DNS_DEF_MAX_SOCKETS 65536u
#define DNS_DEF_TX_TIMEOUT_S 10u
#define DNS_DEF_GRACE_S 10u
#define DNS_DEF_CLIENT_WINDOW_S 600u
#define DNS_DEF_FLOOD_COUNT 20u
#define DNS_DEF_FLOOD_WINDOW_S 10u
#define DNS_DEF_TTL_TOLERANCE 2u
#define DNS_DEF_MAX_RESOLVERS 4096u
#define DNS_DEF_MAX_CLIENTS 65536u
#define DNS_DEF_MAX_NAMES 16384u

#define DNS_TX_PER_SOCK 2        /* transactions per socket (A + AAAA share one) */
#define DNS_TX_ADDRS 2           /* addresses of a first answer kept for race evidence */
#define DNS_GHOST_SETS 16384u    /* expired/evicted unanswered queries remembered: */
#define DNS_GHOST_WAYS 4u        /* hashes in sets of 4, oldest replaced (FIFO per set) */
#define DNS_TTL_MIN_SAMPLES 3u   /* answers before a resolver's IP TTL is judged */
#define DNS_ADOPT_RUN 64u        /* consecutive answers that make a new MAC/TTL the baseline */
#define DNS_RES_MACS 4           /* source MACs per resolver */
#define DNS_RES_TTLS 4           /* IP TTL values per resolver (more: unstable, not judged) */
#define DNS_CLIENT_RESOLVERS 4   /* resolvers per client (more: a resolver itself, not judged) */
#define DNS_NAME_HIST 4          /* ASNs / countries / prefixes remembered per name */
#define DNS_NAME_MIN_SEEN 2u     /* answers of a name before its history is judged */
#define DNS_ANSWER_ADDRS 8       /* addresses of one answer looked up */
#define DNS_MAX_CFG_LIST 256     /* entries of each configured list */
#define DNS_MAX_BOGONS 128       /* rows of bogon-networks.csv */
#define DNS_EV_RECORDS 8         /* records listed per answer in evidence */
#define DNS_FLOOD_TABLE 1024u    /* clients with a TXID-mismatch window open */
#define DNS_FLOOD_SAMPLES 8      /* ports / IDs kept as evidence of a flood */
#define DNS_FLOOD_SRCS 4         /* sources / MACs / TTLs kept as evidence */
#define DNS_MSG_NAME 96          /* bytes of a name quoted in a message */
#define DNS_EXPIRE_WORK 65536u   /* socket entries expired per tick at most */
#define DNS_LAN_ROLES 64

enum {
	T_UNEXPECTED_RESOLVER = 0,
	T_UNSOLICITED,
	T_RACE,
	T_TXID_FLOOD,
	T_TTL,
	T_PRIVATE,
	T_ASN_SHIFT,
};

static const struct alert_type dns_types[] = {
	[T_UNEXPECTED_RESOLVER] = { "dns.unexpected_resolver", 6, "T1557", "Adversary-in-the-Middle",
				    "DNS answers from a resolver that is not allowed or new for the client, or from a MAC that is not the resolver's" },
	[T_UNSOLICITED] = { "dns.unsolicited_answer", 5, "T1557", "Adversary-in-the-Middle",
			    "DNS answer with no matching query (unknown ID or question on a socket, or no query at all)" },
	[T_RACE] = { "dns.answer_race", 8, "T1557", "Adversary-in-the-Middle",
		     "Two or more answers to one DNS query whose records differ (spoofing race)" },
	[T_TXID_FLOOD] = { "dns.txid_flood", 8, "T1584.002", "Compromise Infrastructure: DNS Server",
			   "Many DNS answers with non-matching IDs toward one client in a short time (cache poisoning)" },
	[T_TTL] = { "dns.ttl_anomaly", 5, "T1557", "Adversary-in-the-Middle",
		    "A resolver's answers arrive with an IP TTL / hop limit outside its baseline" },
	[T_PRIVATE] = { "dns.private_answer", 6, "T1584.002", "Compromise Infrastructure: DNS Server",
			"A public name answered with a private, loopback, link-local or bogon address" },
	[T_ASN_SHIFT] = { "dns.asn_shift", 4, "T1584.002", "Compromise Infrastructure: DNS Server",
			  "A name's addresses moved to an ASN or country (or network) outside its history" },
};

/* Address categories of bogon-networks.csv. */
enum { CAT_NONE = 0, CAT_UNSPECIFIED, CAT_PRIVATE, CAT_LOOPBACK, CAT_LINK_LOCAL, CAT_BOGON };
static const char *const cat_names[] = { "public", "unspecified", "private", "loopback",
					 "link-local", "bogon" };

/* Names that are not public by definition (RFC 6761, 6762, 8375, 9476 and the suffixes
 * home routers and AD domains use), on top of the configured split-horizon domains. */
#define SUFFIX(x) { x, sizeof(x) - 1 }
static const struct {
	const char *s;
	size_t len;
} special_suffixes[] = {
	SUFFIX("local"), SUFFIX("localhost"), SUFFIX("localdomain"), SUFFIX("lan"), SUFFIX("home"),
	SUFFIX("home.arpa"), SUFFIX("internal"), SUFFIX("intranet"), SUFFIX("corp"),
	SUFFIX("private"), SUFFIX("test"), SUFFIX("invalid"), SUFFIX("example"),
	SUFFIX("example.com"), SUFFIX("example.net"), SUFFIX("example.org"), SUFFIX("arpa"),
	SUFFIX("onion"), SUFFIX("alt"),
};
#undef SUFFIX

struct bogon {
	struct det_cidr net;
	uint8_t cat;
};

/* ------------------------------------------------------------------ table records */

/* A (VLAN, address) key, zeroed before filling (det_tab compares bytes). */
struct ip_key {
	uint16_t vlan;
	uint8_t family;
	uint8_t pad;
	uint8_t ip[16];
};

/* A resolver as seen from one client network: its answers reach clients of different
 * segments through different routers and hop counts (a sensor on a router's trunk, a
 * multi-interface capture), so its MACs and TTLs are learned per client /24 (IPv4) or
 * /64 (IPv6). */
struct res_key {
	uint16_t vlan;
	uint8_t family;
	uint8_t pad;
	uint8_t ip[16];
	uint8_t client_net[8];
};

struct sock_key {
	uint64_t h; /* hash of (client, resolver) */
	uint16_t vlan, cport, rport, pad;
};

enum { TX_FREE = 0, TX_PENDING, TX_ANSWERED };

/* One transaction, and what its first answer said (kept compact, for the evidence of
 * a later race: the answering MAC and IP TTL, the rcode, the first addresses). */
struct tx {
	uint64_t qhash;
	uint64_t q_us, a_us;
	uint64_t ans_hash;
	uint16_t id;
	uint16_t qtype;
	uint16_t rcode;
	uint8_t state;
	uint8_t nans;
	uint8_t rd;
	uint8_t a_has_mac;
	uint8_t a_mac[6];
	uint8_t a_ip_ttl;
	uint8_t a_nrec;   /* records in the first answer (capped at 255) */
	uint8_t a_naddr;  /* of which kept below */
	uint32_t a_ttl[DNS_TX_ADDRS];
	struct op_addr a_addr[DNS_TX_ADDRS];
};

struct sock {
	struct op_addr client, resolver;
	uint64_t last_us;
	uint8_t client_mac[6];
	struct tx tx[DNS_TX_PER_SOCK];
};

struct client {
	uint64_t last_query_us;
	struct op_addr res[DNS_CLIENT_RESOLVERS];
	uint8_t nres;
	uint8_t many;  /* more resolvers than we keep: a resolver or a scanner */
};

struct resolver {
	uint8_t macs[DNS_RES_MACS][6];
	uint8_t nmac;
	uint8_t ttls[DNS_RES_TTLS];
	uint8_t nttl;
	uint8_t ttl_unstable;
	uint32_t samples;
	uint8_t cand_mac[6];
	uint8_t cand_ttl;
	uint32_t cand_mac_run, cand_ttl_run;
	uint64_t first_us, last_us;
};

struct name_key {
	uint64_t h;
};

struct namehist {
	uint32_t asns[DNS_NAME_HIST];
	char cc[DNS_NAME_HIST][2];
	uint32_t pfx[DNS_NAME_HIST];  /* hash of the /16 (IPv4) or /32 (IPv6) */
	uint8_t nasn, ncc, npfx;
	uint8_t next_asn, next_cc, next_pfx; /* FIFO replacement when full */
	uint32_t seen;
	uint64_t last_us;
};

struct flood {
	uint64_t start_us, last_us;
	uint32_t count, total;
	uint8_t alerted;
	uint8_t nports, nids, nsrcs, nmacs, nttls;
	uint16_t ports[DNS_FLOOD_SAMPLES];
	uint16_t ids[DNS_FLOOD_SAMPLES];
	struct op_addr srcs[DNS_FLOOD_SRCS];
	uint8_t macs[DNS_FLOOD_SRCS][6];
	uint8_t ttls[DNS_FLOOD_SRCS];
	char name[DNS_MSG_NAME];
};

struct dns_state {
	/* configuration */
	uint64_t tx_timeout_us, grace_us, client_window_us, flood_window_us;
	uint32_t flood_count;
	unsigned ttl_tol;
	struct op_addr allowed[DNS_MAX_CFG_LIST];
	size_t nallowed;
	uint8_t allowed_macs[DNS_MAX_CFG_LIST][6];
	size_t nallowed_macs;
	char *split[DNS_MAX_CFG_LIST]; /* lower-case suffixes, owned */
	size_t split_len[DNS_MAX_CFG_LIST];
	size_t nsplit;
	struct bogon bogons[DNS_MAX_BOGONS];
	size_t nbogons;
	/* The bogons by family (IPv4, IPv6) and first address byte: cand[cand_at[f][b] ..
	 * cand_at[f][b + 1]) are the rows whose network covers byte b, longest prefix
	 * first (file order among equals), so an answer is checked against one or two
	 * networks instead of every row (most first bytes have none). */
	uint16_t cand_at[2][257];
	uint8_t *cand; /* owned */
	struct geo *geo;

	/* tables */
	struct det_tab *socks, *clients, *resolvers, *names, *floods;
	uint64_t *ghost;      /* DNS_GHOST_SETS * DNS_GHOST_WAYS */
	uint8_t *ghost_next;  /* per set: the way to replace next */
	uint64_t last_evict_us; /* packet time the socket table last evicted (was full) */

	/* DHCP/RA-announced resolvers (det_lan), refreshed when their generation moves */
	bool lan_held;
	uint64_t lan_gen;
	struct op_addr lan_res[DNS_LAN_ROLES];
	size_t nlan_res;

	uint64_t first_us, mute_until_us;
	bool cold;

	struct {
		uint64_t queries, answers, matched, duplicates, races, mismatched, no_query,
			late, grace, one_way, evicted, blocked;
	} n;
};

/* ------------------------------------------------------------------ small helpers */

static void ip_key(struct ip_key *k, uint16_t vlan, const struct op_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->vlan = vlan;
	k->family = a->family;
	memcpy(k->ip, a->a, a->family == 4 ? 4 : 16);
}

static void res_key(struct res_key *k, uint16_t vlan, const struct op_addr *res,
		    const struct op_addr *client)
{
	memset(k, 0, sizeof(*k));
	k->vlan = vlan;
	k->family = res->family;
	memcpy(k->ip, res->a, res->family == 4 ? 4 : 16);
	memcpy(k->client_net, client->a, client->family == 4 ? 3 : 8);
}

/* "192.0.2.0/24" or "2001:db8:1:2::/64" for the client network of a key. */
static const char *client_net_str(const struct res_key *k, uint8_t cfamily, char out[OP_ADDR_STRLEN + 4])
{
	struct op_addr a;
	memset(&a, 0, sizeof(a));
	a.family = cfamily;
	memcpy(a.a, k->client_net, cfamily == 4 ? 3 : 8);
	char b[OP_ADDR_STRLEN];
	snprintf(out, OP_ADDR_STRLEN + 4, "%s/%u", util_addr_fmt(&a, b), cfamily == 4 ? 24u : 64u);
	return out;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t pair_hash(const struct op_addr *client, const struct op_addr *resolver)
{
	uint8_t b[34];
	b[0] = client->family;
	memcpy(&b[1], client->a, 16);
	b[17] = resolver->family;
	memcpy(&b[18], resolver->a, 16);
	if (client->family == 4)
		memset(&b[5], 0, 12);
	if (resolver->family == 4)
		memset(&b[22], 0, 12);
	return util_hash64(b, sizeof(b), 0x736f636bULL);
}

static uint64_t question_hash(const struct dns_msg *m)
{
	if (m->nq == 0)
		return 0x51;
	return mix(m->q[0].hash ^ ((uint64_t)m->q[0].type << 16 | (m->q[0].klass & 0x7fff)));
}

/* Order- and TTL-independent digest of what an answer says. */
static uint64_t answer_hash(const struct dns_msg *m)
{
	uint64_t sum = mix(0x616e73ULL + (m->rcode & 0xfff));
	for (unsigned i = 0; i < m->nan; i++) {
		const struct dns_rr *rr = &m->rr[i];
		sum += mix(rr->data_hash ^ rr->name_hash ^ ((uint64_t)rr->type << 48));
	}
	return sum + m->nan + ((uint64_t)m->dropped_rr << 32);
}

static bool mac_in(const uint8_t (*list)[6], size_t n, const uint8_t mac[6])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(list[i], mac, 6) == 0)
			return true;
	return false;
}

static bool addr_in(const struct op_addr *list, size_t n, const struct op_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (util_addr_eq(&list[i], a))
			return true;
	return false;
}

static const char *rcode_str(unsigned rc, char buf[16])
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };
	if (rc < ONPATH_ARRAY_LEN(names))
		return names[rc];
	snprintf(buf, 16, "RCODE%u", rc);
	return buf;
}

/* A name for a message: already escaped printable text (decode/dns.h), cut short. */
static const char *qname(const struct dns_msg *m)
{
	return m->nq ? dns_str(m, m->q[0].name) : "(no question)";
}

static const char *qtype(const struct dns_msg *m, char buf[DNS_TYPE_STRLEN])
{
	return m->nq ? dec_dns_type_str(m->q[0].type, buf) : "-";
}

/* One record as a zone-file style line: "name ttl TYPE data". */
static int rr_line(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t cap)
{
	char tb[DNS_TYPE_STRLEN];
	return snprintf(out, cap, "%s %u %s %s", dns_str(m, rr->name), rr->ttl,
			dec_dns_type_str(rr->type, tb), dns_str(m, rr->data));
}

/* ------------------------------------------------------------------ configuration */

static int cfg_allowed(void *ud, const struct cfg *c, const struct cfg_node *it, char *err,
		       size_t errlen)
{
	struct dns_state *s = ud;
	return det_cfg_addr(c, it, "detectors.dns.resolvers", &s->allowed[s->nallowed++], err,
			    errlen);
}

static int cfg_macs(void *ud, const struct cfg *c, const struct cfg_node *it, char *err,
		    size_t errlen)
{
	struct dns_state *s = ud;
	return det_cfg_mac(c, it, "detectors.dns.resolver_macs", s->allowed_macs[s->nallowed_macs++],
			   err, errlen);
}

static char *suffix_norm(const char *v)
{
	while (*v == '*' || *v == '.')
		v++;
	size_t n = strlen(v);
	while (n && v[n - 1] == '.')
		n--;
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = (v[i] >= 'A' && v[i] <= 'Z') ? (char)(v[i] + 32) : v[i];
	o[n] = '\0';
	return o;
}

static int cfg_split(void *ud, const struct cfg *c, const struct cfg_node *it, char *err,
		     size_t errlen)
{
	struct dns_state *s = ud;
	if (it->type != CFG_SCALAR || !it->value || !*it->value) {
		cfg_errf(c, it, err, errlen, "detectors.dns.private_domains: expected a domain name");
		return -1;
	}
	char *o = suffix_norm(it->value);
	if (!o) {
		cfg_errf(c, it, err, errlen, "out of memory");
		return -1;
	}
	if (!*o) {
		free(o);
		cfg_errf(c, it, err, errlen,
			 "detectors.dns.private_domains: '%.64s' names no domain (the root would allow every name)",
			 it->value);
		return -1;
	}
	s->split_len[s->nsplit] = strlen(o);
	s->split[s->nsplit++] = o;
	return 0;
}

static int load_bogon(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		      size_t errlen)
{
	struct dns_state *s = ud;
	static const char *const cats[] = { "", "unspecified", "private", "loopback",
					    "link-local", "bogon" };
	if (s->nbogons == DNS_MAX_BOGONS) {
		sig_errf(err, errlen, file, line, "more than %d networks", DNS_MAX_BOGONS);
		return -1;
	}
	struct bogon b;
	memset(&b, 0, sizeof(b));
	char buf[OP_ADDR_STRLEN + 8];
	util_strlcpy(buf, cols[0], sizeof(buf));
	char *slash = strchr(buf, '/'), *end = NULL;
	unsigned long bits = 0;
	if (slash) {
		*slash = '\0';
		bits = strtoul(slash + 1, &end, 10);
	}
	if (!slash || slash[1] < '0' || slash[1] > '9' || *end || strlen(cols[0]) >= sizeof(buf) ||
	    util_addr_parse(buf, &b.net.net) < 0 || bits > (b.net.net.family == 4 ? 32u : 128u)) {
		sig_errf(err, errlen, file, line, "'%.64s' is not a network (192.0.2.0/24)", cols[0]);
		return -1;
	}
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? (unsigned)bits - i * 8 : 0;
		b.net.net.a[i] &= (uint8_t)(keep ? 0xffu << (8 - keep) : 0);
	}
	b.net.bits = (uint8_t)bits;
	for (size_t i = 1; i < ONPATH_ARRAY_LEN(cats); i++)
		if (strcmp(cols[1], cats[i]) == 0)
			b.cat = (uint8_t)i;
	if (!b.cat) {
		sig_errf(err, errlen, file, line,
			 "category '%.32s' is not unspecified, private, loopback, link-local or bogon",
			 cols[1]);
		return -1;
	}
	s->bogons[s->nbogons++] = b;
	return 0;
}

/* Builds cand/cand_at from the loaded rows (see struct dns_state): a counting sort of
 * (family, first byte) pairs, filled in longest-prefix order. */
static int bogon_index(struct dns_state *s)
{
	uint8_t ord[DNS_MAX_BOGONS];
	for (size_t i = 0; i < s->nbogons; i++) {
		/* insertion sort, longest prefix first, stable */
		size_t j = i;
		while (j > 0 && s->bogons[ord[j - 1]].net.bits < s->bogons[i].net.bits) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = (uint8_t)i;
	}
	/* cnt[f * 256 + v]: rows covering first byte v of family f; a row of prefix
	 * length < 8 covers a run of first bytes. */
	uint16_t cnt[2 * 256], pos[2 * 256];
	memset(cnt, 0, sizeof(cnt));
	for (size_t i = 0; i < s->nbogons; i++) {
		const struct det_cidr *n = &s->bogons[i].net;
		unsigned f = n->net.family == 6, lo = n->net.a[0];
		unsigned span = n->bits >= 8 ? 1u : 1u << (8 - n->bits);
		for (unsigned v = lo; v < lo + span && v < 256; v++)
			cnt[f * 256 + v]++;
	}
	size_t total = 0;
	for (unsigned k = 0; k < 2 * 256; k++) {
		pos[k] = (uint16_t)total;
		s->cand_at[k / 256][k % 256] = (uint16_t)total;
		total += cnt[k];
		if (k == 255)
			s->cand_at[0][256] = (uint16_t)total;
	}
	s->cand_at[1][256] = (uint16_t)total;
	s->cand = malloc(total ? total : 1);
	if (!s->cand)
		return -1;
	for (size_t i = 0; i < s->nbogons; i++) {
		const struct det_cidr *n = &s->bogons[ord[i]].net;
		unsigned f = n->net.family == 6, lo = n->net.a[0];
		unsigned span = n->bits >= 8 ? 1u : 1u << (8 - n->bits);
		for (unsigned v = lo; v < lo + span && v < 256; v++)
			s->cand[pos[f * 256 + v]++] = ord[i];
	}
	return 0;
}

static void dns_fini(void *state);

static int dns_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = {
		"enabled", "resolvers", "resolver_macs", "private_domains", "max_transactions",
		"transaction_timeout", "startup_grace", "client_window", "txid_flood_count",
		"txid_flood_window", "ttl_tolerance", "max_resolvers", "max_clients", "max_names",
		NULL,
	};
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	if (cfg_check_keys(c, sec, "detectors.dns", keys, in->err, in->errlen) < 0)
		return -1;
	struct dns_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "dns: out of memory");
		return -1;
	}
	uint64_t max_socks = DNS_DEF_MAX_SOCKETS, tx_to = DNS_DEF_TX_TIMEOUT_S,
		 grace = DNS_DEF_GRACE_S, cwin = DNS_DEF_CLIENT_WINDOW_S,
		 fcount = DNS_DEF_FLOOD_COUNT, fwin = DNS_DEF_FLOOD_WINDOW_S,
		 tol = DNS_DEF_TTL_TOLERANCE, max_res = DNS_DEF_MAX_RESOLVERS,
		 max_cli = DNS_DEF_MAX_CLIENTS, max_names = DNS_DEF_MAX_NAMES;
	if (cfg_uint(c, sec, "max_transactions", 64, DET_TAB_MAX_CAP, &max_socks, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "transaction_timeout", 1, 300, &tx_to, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "startup_grace", 0, 3600, &grace, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "client_window", 1, 86400, &cwin, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "txid_flood_count", 2, 1000000, &fcount, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "txid_flood_window", 1, 3600, &fwin, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "ttl_tolerance", 0, 64, &tol, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_resolvers", 16, DET_TAB_MAX_CAP, &max_res, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_clients", 16, DET_TAB_MAX_CAP, &max_cli, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_names", 16, DET_TAB_MAX_CAP, &max_names, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "resolvers", DNS_MAX_CFG_LIST, cfg_allowed, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "resolver_macs", DNS_MAX_CFG_LIST, cfg_macs, s, in->err, in->errlen) < 0 ||
	    det_cfg_seq(c, sec, "private_domains", DNS_MAX_CFG_LIST, cfg_split, s, in->err, in->errlen) < 0)
		goto fail;
	s->tx_timeout_us = tx_to * 1000000u;
	s->grace_us = grace * 1000000u;
	s->client_window_us = cwin * 1000000u;
	s->flood_count = (uint32_t)fcount;
	s->flood_window_us = fwin * 1000000u;
	s->ttl_tol = (unsigned)tol;
	s->cold = in->cold_start;
	s->mute_until_us = in->learning_s * 1000000u; /* relative until the first packet */

	if (sig_csv_load(in->sig_dir, "bogon-networks.csv", 2, load_bogon, s, in->err, in->errlen) < 0)
		goto fail;
	if (bogon_index(s) < 0) {
		snprintf(in->err, in->errlen, "dns: out of memory");
		goto fail;
	}
	s->geo = geo_open_cfg(c, in->err, in->errlen);
	if (!s->geo)
		goto fail;
	s->socks = det_tab_new(max_socks, sizeof(struct sock_key), sizeof(struct sock));
	s->clients = det_tab_new(max_cli, sizeof(struct ip_key), sizeof(struct client));
	s->resolvers = det_tab_new(max_res, sizeof(struct res_key), sizeof(struct resolver));
	s->names = det_tab_new(max_names, sizeof(struct name_key), sizeof(struct namehist));
	s->floods = det_tab_new(DNS_FLOOD_TABLE, sizeof(struct ip_key), sizeof(struct flood));
	s->ghost = calloc((size_t)DNS_GHOST_SETS * DNS_GHOST_WAYS, sizeof(*s->ghost));
	s->ghost_next = calloc(DNS_GHOST_SETS, 1);
	if (!s->socks || !s->clients || !s->resolvers || !s->names || !s->floods ||
	    !s->ghost || !s->ghost_next) {
		snprintf(in->err, in->errlen, "dns: out of memory for %llu transactions",
			 (unsigned long long)max_socks);
		goto fail;
	}
	det_lan_acquire();
	s->lan_held = true;
	s->lan_gen = UINT64_MAX; /* refresh on first use */
	*state = s;
	return 0;
fail:
	dns_fini(s);
	return -1;
}

static void dns_fini(void *state)
{
	struct dns_state *s = state;
	if (!s)
		return;
	if (s->lan_held)
		det_lan_release();
	det_tab_free(s->socks);
	det_tab_free(s->clients);
	det_tab_free(s->resolvers);
	det_tab_free(s->names);
	det_tab_free(s->floods);
	free(s->ghost);
	free(s->ghost_next);
	for (size_t i = 0; i < s->nsplit; i++)
		free(s->split[i]);
	free(s->cand);
	geo_close(s->geo);
	free(s);
}

/* ------------------------------------------------------------------ time and tables */

static void start_clock(struct dns_state *s, uint64_t now)
{
	if (s->first_us)
		return;
	s->first_us = now ? now : 1;
	s->mute_until_us = s->cold ? s->first_us + s->mute_until_us : 0;
}

static uint64_t ghost_hash(const struct sock_key *k, uint16_t id)
{
	return mix(k->h ^ ((uint64_t)k->cport << 48) ^ ((uint64_t)k->rport << 32) ^
		   ((uint64_t)k->vlan << 16) ^ id) | 1u;
}

static void ghost_put(struct dns_state *s, uint64_t h)
{
	size_t set = h & (DNS_GHOST_SETS - 1);
	s->ghost[set * DNS_GHOST_WAYS + s->ghost_next[set]] = h;
	s->ghost_next[set] = (uint8_t)((s->ghost_next[set] + 1) % DNS_GHOST_WAYS);
}

static void ghost_add(struct dns_state *s, const struct sock_key *k, const struct sock *so)
{
	for (int i = 0; i < DNS_TX_PER_SOCK; i++)
		if (so->tx[i].state == TX_PENDING)
			ghost_put(s, ghost_hash(k, so->tx[i].id));
}

static bool ghost_has(const struct dns_state *s, const struct sock_key *k, uint16_t id)
{
	uint64_t h = ghost_hash(k, id);
	size_t set = h & (DNS_GHOST_SETS - 1);
	for (unsigned w = 0; w < DNS_GHOST_WAYS; w++)
		if (s->ghost[set * DNS_GHOST_WAYS + w] == h)
			return true;
	return false;
}

/* Drops the oldest socket, remembering its unanswered queries. */
static void sock_drop_oldest(struct dns_state *s)
{
	size_t pos = 0;
	const void *kp;
	struct sock *so = det_tab_next(s->socks, &pos, &kp);
	if (!so)
		return;
	struct sock_key k;
	memcpy(&k, kp, sizeof(k));
	ghost_add(s, &k, so);
	det_tab_del(s->socks, &k);
}

static void expire(struct dns_state *s, uint64_t now)
{
	for (unsigned n = 0; n < DNS_EXPIRE_WORK; n++) {
		size_t pos = 0;
		struct sock *so = det_tab_next(s->socks, &pos, NULL);
		if (!so || so->last_us + s->tx_timeout_us >= now)
			break;
		sock_drop_oldest(s);
	}
}

static void sock_key(struct sock_key *k, const struct ev_meta *m, bool response)
{
	memset(k, 0, sizeof(*k));
	const struct op_addr *client = response ? &m->dst : &m->src;
	const struct op_addr *res = response ? &m->src : &m->dst;
	k->h = pair_hash(client, res);
	k->vlan = m->vlan;
	k->cport = response ? m->dport : m->sport;
	k->rport = response ? m->sport : m->dport;
}

static void refresh_lan(struct dns_state *s)
{
	uint64_t g = det_lan_gen();
	if (g == s->lan_gen)
		return;
	struct det_lan_role roles[DNS_LAN_ROLES];
	size_t n = det_lan_roles(roles, DNS_LAN_ROLES);
	s->nlan_res = 0;
	for (size_t i = 0; i < n; i++)
		if (roles[i].roles & DET_ROLE_RESOLVER)
			s->lan_res[s->nlan_res++] = roles[i].ip;
	s->lan_gen = g;
}

/* ------------------------------------------------------------------ alerts */

static void set_ends(struct alert *a, const struct dns_ev *ev)
{
	const struct ev_meta *m = &ev->m;
	det_alert_from_meta(a, m);
}

static void ev_query(struct alert *a, const struct dns_ev *ev)
{
	const struct dns_msg *m = ev->dns;
	char tb[DNS_TYPE_STRLEN];
	jw_obj_open(&a->ev, "query");
	if (m->nq) {
		jw_str(&a->ev, "name", dns_str(m, m->q[0].name));
		jw_str(&a->ev, "type", dec_dns_type_str(m->q[0].type, tb));
	}
	jw_uint(&a->ev, "id", m->id);
	jw_addr(&a->ev, "client", &ev->m.dst);
	jw_uint(&a->ev, "client_port", ev->m.dport);
	jw_addr(&a->ev, "resolver", &ev->m.src);
	jw_uint(&a->ev, "resolver_port", ev->m.sport);
	jw_str(&a->ev, "transport", ev->m.proto == 6 ? "tcp" : "udp");
	jw_obj_close(&a->ev);
}

/* The answer in ev as an evidence object (inside an open array or with a key). */
static void ev_answer(struct jw *w, const char *key, const struct dns_ev *ev)
{
	const struct dns_msg *m = ev->dns;
	char rb[16], line[DNS_NAME_TEXT_MAX * 2 + 64];
	jw_obj_open(w, key);
	jw_ts(w, "ts", ev->m.ts_us);
	jw_addr(w, "src_ip", &ev->m.src);
	if (ev->m.has_eth)
		jw_mac(w, "src_mac", ev->m.src_mac);
	jw_uint(w, "ip_ttl", ev->m.ip_ttl);
	jw_uint(w, "id", m->id);
	jw_str(w, "rcode", rcode_str(m->rcode, rb));
	jw_arr_open(w, "records");
	for (unsigned i = 0; i < m->nan && i < DNS_EV_RECORDS; i++) {
		rr_line(m, &m->rr[i], line, sizeof(line));
		jw_str(w, NULL, line);
	}
	jw_arr_close(w);
	if (m->nan > DNS_EV_RECORDS)
		jw_uint(w, "records_not_shown", m->nan - DNS_EV_RECORDS);
	jw_obj_close(w);
}

/* The first answer of t, as kept in the transaction. */
static void ev_stored(struct jw *w, const struct tx *t, const struct dns_ev *ev)
{
	char rb[16], ab[OP_ADDR_STRLEN], line[DNS_NAME_TEXT_MAX + 96];
	jw_obj_open(w, NULL);
	jw_ts(w, "ts", t->a_us);
	jw_addr(w, "src_ip", &ev->m.src);
	if (t->a_has_mac)
		jw_mac(w, "src_mac", t->a_mac);
	jw_uint(w, "ip_ttl", t->a_ip_ttl);
	jw_uint(w, "id", t->id);
	jw_str(w, "rcode", rcode_str(t->rcode, rb));
	jw_arr_open(w, "records");
	for (unsigned i = 0; i < t->a_naddr; i++) {
		snprintf(line, sizeof(line), "%s %u %s %s", qname(ev->dns), t->a_ttl[i],
			 t->a_addr[i].family == 4 ? "A" : "AAAA", util_addr_fmt(&t->a_addr[i], ab));
		jw_str(w, NULL, line);
	}
	jw_arr_close(w);
	if (t->a_nrec > t->a_naddr)
		jw_uint(w, "records_not_kept", t->a_nrec - t->a_naddr);
	jw_obj_close(w);
}

static void store_answer(struct tx *t, const struct dns_ev *ev)
{
	const struct dns_msg *m = ev->dns;
	t->a_has_mac = ev->m.has_eth;
	memcpy(t->a_mac, ev->m.src_mac, 6);
	t->a_ip_ttl = ev->m.ip_ttl;
	t->a_nrec = m->nan > UINT8_MAX ? UINT8_MAX : (uint8_t)m->nan;
	t->a_naddr = 0;
	for (unsigned i = 0; i < m->nan && t->a_naddr < DNS_TX_ADDRS; i++) {
		if (!m->rr[i].addr.family)
			continue;
		t->a_ttl[t->a_naddr] = m->rr[i].ttl;
		t->a_addr[t->a_naddr++] = m->rr[i].addr;
	}
}

/* A short human summary of the data of an answer: first addresses or first record. */
static void answer_brief(const struct dns_msg *m, char *out, size_t cap)
{
	char rb[16];
	size_t o = 0;
	out[0] = '\0';
	if (m->rcode) {
		snprintf(out, cap, "%s", rcode_str(m->rcode, rb));
		return;
	}
	for (unsigned i = 0; i < m->nan && o + 1 < cap; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->addr.family == 0 && i + 1 < m->nan)
			continue; /* CNAME chains: the addresses say more */
		int w = snprintf(out + o, cap - o, "%s%.60s", o ? "," : "", dns_str(m, rr->data));
		if (w < 0 || (size_t)w >= cap - o)
			break;
		o += (size_t)w;
	}
	if (!o)
		snprintf(out, cap, "no records");
}

/* ------------------------------------------------------------------ per-answer checks */

static bool allowed_mac(const struct dns_state *s, const uint8_t mac[6])
{
	return mac_in((const uint8_t (*)[6])s->allowed_macs, s->nallowed_macs, mac);
}

static void check_resolver(struct dns_state *s, const struct dns_ev *ev, bool rd,
			   struct alert_pipe *out)
{
	const struct ev_meta *m = &ev->m;
	char cip[OP_ADDR_STRLEN], rip[OP_ADDR_STRLEN], tb[DNS_TYPE_STRLEN];
	bool not_allowed = false, is_new = false;

	/* Both judgements only for stub traffic (RD set): a recursive resolver's own
	 * iterative queries go to every authoritative server on the Internet. */
	if (s->nallowed && rd) {
		refresh_lan(s);
		not_allowed = !addr_in(s->allowed, s->nallowed, &m->src) &&
			      !addr_in(s->lan_res, s->nlan_res, &m->src);
	}
	if (rd) {
		struct ip_key k;
		ip_key(&k, m->vlan, &m->dst);
		struct client *cl = det_tab_get(s->clients, &k);
		if (cl && !cl->many && !addr_in(cl->res, cl->nres, &m->src)) {
			if (cl->nres == DNS_CLIENT_RESOLVERS) {
				cl->many = 1;
			} else {
				if (cl->nres > 0)
					is_new = true;
				cl->res[cl->nres++] = m->src;
			}
		}
	}
	if (is_new && !not_allowed && s->mute_until_us && m->ts_us < s->mute_until_us)
		is_new = false; /* never seen before, during the cold-start learning window */
	if (!not_allowed && !is_new)
		return;

	struct alert a;
	alert_begin(&a, &dns_types[T_UNEXPECTED_RESOLVER], m->ts_us);
	set_ends(&a, ev);
	util_addr_fmt(&m->dst, cip);
	util_addr_fmt(&m->src, rip);
	if (not_allowed) {
		a.confidence = CONF_HIGH;
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s not_allowed", m->vlan, cip, rip);
		snprintf(a.message, sizeof(a.message),
			 "%s got a DNS answer for %.*s %s from %s, which is not an allowed resolver",
			 cip, DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb), rip);
		jw_str(&a.ev, "reason", "not_allowed");
	} else {
		/* Clients legitimately use several resolvers (DHCP, VPN, DoH fallbacks):
		 * informational, the context for other alerts on this client. */
		a.severity = 3;
		a.confidence = CONF_LOW;
		snprintf(a.key, sizeof(a.key), "vlan=%u %s %s new", m->vlan, cip, rip);
		snprintf(a.message, sizeof(a.message),
			 "%s got a DNS answer for %.*s %s from %s, a resolver it has not used before",
			 cip, DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb), rip);
		jw_str(&a.ev, "reason", "new_resolver");
		struct ip_key k;
		ip_key(&k, m->vlan, &m->dst);
		const struct client *cl = det_tab_peek(s->clients, &k);
		jw_arr_open(&a.ev, "known_resolvers");
		for (unsigned i = 0; cl && i + 1 < cl->nres; i++)
			jw_addr(&a.ev, NULL, &cl->res[i]);
		jw_arr_close(&a.ev);
	}
	ev_query(&a, ev);
	ev_answer(&a.ev, "answer", ev);
	alert_emit(out, &a);
}

/* Source MAC and IP TTL of the resolver's answers against its baseline. */
static void check_path(struct dns_state *s, const struct dns_ev *ev, struct alert_pipe *out)
{
	const struct ev_meta *m = &ev->m;
	struct res_key k;
	bool created;
	res_key(&k, m->vlan, &m->src, &m->dst);
	struct resolver *r = det_tab_put(s->resolvers, &k, &created);
	char netb[OP_ADDR_STRLEN + 4];
	if (created)
		r->first_us = m->ts_us;
	r->last_us = m->ts_us;
	char rip[OP_ADDR_STRLEN], cip[OP_ADDR_STRLEN], mac[OP_MAC_STRLEN], tb[DNS_TYPE_STRLEN];

	if (m->has_eth && !allowed_mac(s, m->src_mac)) {
		if (r->nmac == 0) {
			memcpy(r->macs[r->nmac++], m->src_mac, 6);
		} else if (!mac_in((const uint8_t (*)[6])r->macs, r->nmac, m->src_mac)) {
			/* Adopt a MAC that alone answers for DNS_ADOPT_RUN answers in a row. */
			if (memcmp(r->cand_mac, m->src_mac, 6) == 0) {
				r->cand_mac_run++;
			} else {
				memcpy(r->cand_mac, m->src_mac, 6);
				r->cand_mac_run = 1;
			}
			if (r->cand_mac_run >= DNS_ADOPT_RUN) {
				memmove(r->macs[1], r->macs[0], (DNS_RES_MACS - 1) * 6);
				memcpy(r->macs[0], m->src_mac, 6);
				if (r->nmac < DNS_RES_MACS)
					r->nmac++;
				r->cand_mac_run = 0;
			} else {
				struct alert a;
				alert_begin(&a, &dns_types[T_UNEXPECTED_RESOLVER], m->ts_us);
				a.severity = 7;
				a.confidence = CONF_MEDIUM;
				set_ends(&a, ev);
				util_addr_fmt(&m->src, rip);
				util_addr_fmt(&m->dst, cip);
				util_mac_fmt(m->src_mac, mac);
				snprintf(a.key, sizeof(a.key), "vlan=%u %s mac %s", m->vlan, rip, mac);
				snprintf(a.message, sizeof(a.message),
					 "DNS answer for %.*s %s from resolver %s to %s was sent from %s, not from the MAC its answers come from",
					 DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb), rip, cip, mac);
				jw_str(&a.ev, "reason", "unknown_mac");
				jw_str(&a.ev, "client_net", client_net_str(&k, m->dst.family, netb));
				jw_mac(&a.ev, "new_mac", m->src_mac);
				jw_arr_open(&a.ev, "known_macs");
				for (unsigned i = 0; i < r->nmac; i++)
					jw_mac(&a.ev, NULL, r->macs[i]);
				jw_arr_close(&a.ev);
				ev_query(&a, ev);
				ev_answer(&a.ev, "answer", ev);
				alert_emit(out, &a);
			}
		} else if (r->cand_mac_run) {
			r->cand_mac_run = 0;
		}
	}

	/* IP TTL: a spoofer sits at another distance than the resolver. */
	uint8_t ttl = m->ip_ttl;
	bool known = false;
	for (unsigned i = 0; i < r->nttl; i++) {
		unsigned d = ttl > r->ttls[i] ? ttl - r->ttls[i] : r->ttls[i] - ttl;
		if (d <= s->ttl_tol)
			known = true;
	}
	r->samples++;
	if (known) {
		r->cand_ttl_run = 0;
		return;
	}
	if (r->samples <= DNS_TTL_MIN_SAMPLES || r->nttl == 0) {
		/* Still learning this resolver: paths settle in the first answers. */
		if (r->nttl < DNS_RES_TTLS)
			r->ttls[r->nttl++] = ttl;
		else
			r->ttl_unstable = 1;
		return;
	}
	if (r->ttl_unstable)
		return;
	if (r->cand_ttl == ttl) {
		r->cand_ttl_run++;
	} else {
		r->cand_ttl = ttl;
		r->cand_ttl_run = 1;
	}
	if (r->cand_ttl_run >= DNS_ADOPT_RUN) {
		if (r->nttl < DNS_RES_TTLS)
			r->ttls[r->nttl++] = ttl;
		else
			r->ttl_unstable = 1;
		r->cand_ttl_run = 0;
		return;
	}
	struct alert a;
	alert_begin(&a, &dns_types[T_TTL], m->ts_us);
	a.confidence = CONF_MEDIUM;
	set_ends(&a, ev);
	util_addr_fmt(&m->src, rip);
	util_addr_fmt(&m->dst, cip);
	/* Closer than the resolver ever was: typical of a spoofer on the LAN. */
	bool closer = true;
	for (unsigned i = 0; i < r->nttl; i++)
		if (ttl <= r->ttls[i])
			closer = false;
	if (closer)
		a.severity = 6;
	snprintf(a.key, sizeof(a.key), "vlan=%u %s ttl=%u", m->vlan, rip, ttl);
	snprintf(a.message, sizeof(a.message),
		 "DNS answer for %.*s %s from %s to %s arrived with IP TTL %u; this resolver's answers arrive with %u%s",
		 DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb), rip, cip, ttl, r->ttls[0],
		 r->nttl > 1 ? " (and others)" : "");
	jw_uint(&a.ev, "ip_ttl", ttl);
	jw_str(&a.ev, "client_net", client_net_str(&k, m->dst.family, netb));
	jw_arr_open(&a.ev, "baseline_ttls");
	for (unsigned i = 0; i < r->nttl; i++)
		jw_uint(&a.ev, NULL, r->ttls[i]);
	jw_arr_close(&a.ev);
	jw_uint(&a.ev, "tolerance", s->ttl_tol);
	jw_uint(&a.ev, "baseline_answers", r->samples - 1);
	jw_bool(&a.ev, "closer_than_baseline", closer);
	ev_query(&a, ev);
	ev_answer(&a.ev, "answer", ev);
	alert_emit(out, &a);
}

/* The category of the longest bogon prefix holding a (the first row among equals). */
static uint8_t addr_category(const struct dns_state *s, const struct op_addr *a)
{
	if (a->family != 4 && a->family != 6)
		return CAT_NONE;
	const uint16_t *at = s->cand_at[a->family == 6];
	for (unsigned i = at[a->a[0]]; i < at[a->a[0] + 1]; i++) {
		const struct bogon *b = &s->bogons[s->cand[i]];
		if (det_cidr_match(&b->net, a))
			return b->cat;
	}
	return CAT_NONE;
}

static bool has_suffix(const char *lname, size_t n, const char *suf, size_t l)
{
	if (n < l || (n > l && lname[n - l - 1] != '.'))
		return false;
	return memcmp(lname + n - l, suf, l) == 0;
}

/* True for names that may legitimately resolve to private addresses: single labels,
 * special-use and configured split-horizon suffixes. */
static bool name_is_private(const struct dns_state *s, const char *name, const char **why)
{
	char l[DNS_NAME_TEXT_MAX];
	size_t n = 0;
	for (; name[n] && n + 1 < sizeof(l); n++)
		l[n] = (name[n] >= 'A' && name[n] <= 'Z') ? (char)(name[n] + 32) : name[n];
	l[n] = '\0';
	if (n == 0 || !memchr(l, '.', n) || strcmp(l, ".") == 0) {
		*why = "single-label";
		return true;
	}
	for (size_t i = 0; i < s->nsplit; i++)
		if (has_suffix(l, n, s->split[i], s->split_len[i])) {
			*why = "private_domains";
			return true;
		}
	for (size_t i = 0; i < ONPATH_ARRAY_LEN(special_suffixes); i++)
		if (has_suffix(l, n, special_suffixes[i].s, special_suffixes[i].len)) {
			*why = "special-use";
			return true;
		}
	return false;
}

/* DNS blocklists answer 127.0.0.x for reversed-IP names ("2.0.0.127.zen.example"). */
static bool dnsbl_style(const char *name)
{
	int labels = 0;
	for (const char *p = name; *p; p++) {
		const char *e = strchr(p, '.');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > 3 || strspn(p, "0123456789") != n)
			break;
		if (++labels == 4)
			return true;
		if (!e)
			break;
		p = e;
	}
	return false;
}

static void check_private(struct dns_state *s, const struct dns_ev *ev, struct alert_pipe *out)
{
	const struct dns_msg *m = ev->dns;
	if (m->nq == 0 || m->rcode != 0)
		return;
	const char *name = dns_str(m, m->q[0].name), *why = NULL;
	const struct dns_rr *hit = NULL;
	uint8_t cat = CAT_NONE;
	for (unsigned i = 0; i < m->nan; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (rr->addr.family == 0)
			continue;
		uint8_t c = addr_category(s, &rr->addr);
		if (c == CAT_UNSPECIFIED) {
			s->n.blocked++; /* 0.0.0.0 / :: : a blocking resolver, not a hijack */
			return;
		}
		if (c > cat) {
			cat = c;
			hit = rr;
		}
	}
	if (!hit || name_is_private(s, name, &why))
		return;
	if (cat == CAT_LOOPBACK && dnsbl_style(name))
		return;

	char rip[OP_ADDR_STRLEN], cip[OP_ADDR_STRLEN], ab[OP_ADDR_STRLEN], tb[DNS_TYPE_STRLEN];
	struct alert a;
	alert_begin(&a, &dns_types[T_PRIVATE], ev->m.ts_us);
	a.confidence = CONF_MEDIUM;
	if (cat == CAT_LOOPBACK || cat == CAT_BOGON)
		a.severity = 5;
	set_ends(&a, ev);
	util_addr_fmt(&ev->m.src, rip);
	util_addr_fmt(&ev->m.dst, cip);
	util_addr_fmt(&hit->addr, ab);
	snprintf(a.key, sizeof(a.key), "vlan=%u %.96s %s", ev->m.vlan, name, ab);
	snprintf(a.message, sizeof(a.message),
		 "public name %.*s (%s) answered with %s address %s by %s to %s (DNS rebinding or hijack; add split-horizon domains to detectors.dns.private_domains)",
		 DNS_MSG_NAME, name, qtype(m, tb), cat_names[cat], ab, rip, cip);
	jw_addr(&a.ev, "address", &hit->addr);
	jw_str(&a.ev, "category", cat_names[cat]);
	ev_query(&a, ev);
	ev_answer(&a.ev, "answer", ev);
	alert_emit(out, &a);
}

static uint32_t prefix_hash(const struct op_addr *a)
{
	/* /16 for IPv4, /32 for IPv6: a coarse "same network" without a database. */
	uint64_t v = (uint64_t)a->family << 32 | (uint64_t)a->a[0] << 24 | (uint64_t)a->a[1] << 16;
	if (a->family == 6)
		v |= (uint64_t)a->a[2] << 8 | a->a[3];
	return (uint32_t)mix(v) | 1u;
}

static void hist_add_u32(uint32_t *arr, uint8_t *n, uint8_t *next, uint32_t v)
{
	for (unsigned i = 0; i < *n; i++)
		if (arr[i] == v)
			return;
	if (*n < DNS_NAME_HIST) {
		arr[(*n)++] = v;
	} else {
		arr[*next] = v;
		*next = (uint8_t)((*next + 1) % DNS_NAME_HIST);
	}
}

static bool hist_has_u32(const uint32_t *arr, uint8_t n, uint32_t v)
{
	for (unsigned i = 0; i < n; i++)
		if (arr[i] == v)
			return true;
	return false;
}

static bool hist_has_cc(const struct namehist *h, const char cc[2])
{
	for (unsigned i = 0; i < h->ncc; i++)
		if (memcmp(h->cc[i], cc, 2) == 0)
			return true;
	return false;
}

static void hist_add_cc(struct namehist *h, const char cc[2])
{
	if (hist_has_cc(h, cc))
		return;
	if (h->ncc < DNS_NAME_HIST) {
		memcpy(h->cc[h->ncc++], cc, 2);
	} else {
		memcpy(h->cc[h->next_cc], cc, 2);
		h->next_cc = (uint8_t)((h->next_cc + 1) % DNS_NAME_HIST);
	}
}

static void check_asn(struct dns_state *s, const struct dns_ev *ev, struct alert_pipe *out)
{
	const struct dns_msg *m = ev->dns;
	if (m->nq == 0 || m->rcode != 0)
		return;
	struct op_addr addrs[DNS_ANSWER_ADDRS];
	struct geo_info gi[DNS_ANSWER_ADDRS];
	uint32_t pfx[DNS_ANSWER_ADDRS];
	unsigned na = 0;
	for (unsigned i = 0; i < m->nan && na < DNS_ANSWER_ADDRS; i++)
		if (m->rr[i].addr.family && addr_category(s, &m->rr[i].addr) == CAT_NONE) {
			pfx[na] = prefix_hash(&m->rr[i].addr);
			addrs[na++] = m->rr[i].addr;
		}
	if (!na)
		return;

	bool use_asn = geo_has_asn(s->geo), use_cc = geo_has_country(s->geo);
	bool any_asn = false, any_cc = false, asn_known = false, cc_known = false, pfx_known = false;
	struct name_key k = { m->q[0].hash ^ ((uint64_t)m->q[0].type << 56) };
	bool created;
	struct namehist *h = det_tab_put(s->names, &k, &created);
	for (unsigned i = 0; i < na; i++) {
		if (use_asn || use_cc)
			geo_lookup(s->geo, &addrs[i], &gi[i]);
		else
			memset(&gi[i], 0, sizeof(gi[i]));
		if (gi[i].has_asn) {
			any_asn = true;
			asn_known |= hist_has_u32(h->asns, h->nasn, gi[i].asn);
		}
		if (gi[i].has_country) {
			any_cc = true;
			cc_known |= hist_has_cc(h, gi[i].country);
		}
		pfx_known |= hist_has_u32(h->pfx, h->npfx, pfx[i]);
	}
	/* Judge against a history built from earlier answers only. */
	bool judge = h->seen >= DNS_NAME_MIN_SEEN;
	bool asn_moved = judge && any_asn && h->nasn && !asn_known;
	bool cc_moved = judge && any_cc && h->ncc && !cc_known;
	bool pfx_moved = judge && !use_asn && !use_cc && h->npfx && !pfx_known;
	struct namehist before = *h;
	for (unsigned i = 0; i < na; i++) {
		if (gi[i].has_asn)
			hist_add_u32(h->asns, &h->nasn, &h->next_asn, gi[i].asn);
		if (gi[i].has_country)
			hist_add_cc(h, gi[i].country);
		hist_add_u32(h->pfx, &h->npfx, &h->next_pfx, pfx[i]);
	}
	h->seen++;
	h->last_us = ev->m.ts_us;
	if (!asn_moved && !cc_moved && !pfx_moved)
		return;

	char rip[OP_ADDR_STRLEN], ab[OP_ADDR_STRLEN], tb[DNS_TYPE_STRLEN];
	const char *name = dns_str(m, m->q[0].name);
	struct alert a;
	alert_begin(&a, &dns_types[T_ASN_SHIFT], ev->m.ts_us);
	set_ends(&a, ev);
	util_addr_fmt(&ev->m.src, rip);
	util_addr_fmt(&addrs[0], ab);
	if (pfx_moved) {
		a.severity = 3;
		a.confidence = CONF_LOW;
		snprintf(a.key, sizeof(a.key), "%.96s net", name);
		snprintf(a.message, sizeof(a.message),
			 "%.*s %s now resolves to %s (from %s), outside the networks it resolved to before (no ASN/country database configured: geoip.asn_db, geoip.country_db)",
			 DNS_MSG_NAME, name, qtype(m, tb), ab, rip);
	} else {
		a.severity = asn_moved && cc_moved ? 5 : 4;
		a.confidence = asn_moved && cc_moved ? CONF_MEDIUM : CONF_LOW;
		char what[96];
		if (gi[0].has_asn && gi[0].has_country)
			snprintf(what, sizeof(what), "AS%u, %s", gi[0].asn, gi[0].country);
		else if (gi[0].has_asn)
			snprintf(what, sizeof(what), "AS%u", gi[0].asn);
		else
			snprintf(what, sizeof(what), "%s", gi[0].country);
		snprintf(a.key, sizeof(a.key), "%.96s %s%s", name, asn_moved ? "asn" : "",
			 cc_moved ? "cc" : "");
		snprintf(a.message, sizeof(a.message),
			 "%.*s %s now resolves to %s (%s) from %s: %s outside the name's history",
			 DNS_MSG_NAME, name, qtype(m, tb), ab, what, rip,
			 asn_moved && cc_moved ? "ASN and country" : asn_moved ? "ASN" : "country");
	}
	jw_str(&a.ev, "geo", use_asn || use_cc ? geo_describe(s->geo)
					       : "no ASN/country database configured (geoip.asn_db, geoip.country_db)");
	jw_arr_open(&a.ev, "new_asns");
	for (unsigned i = 0; i < na; i++)
		if (gi[i].has_asn)
			jw_uint(&a.ev, NULL, gi[i].asn);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "new_countries");
	for (unsigned i = 0; i < na; i++)
		if (gi[i].has_country)
			jw_str(&a.ev, NULL, gi[i].country);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "new");
	for (unsigned i = 0; i < na; i++) {
		jw_obj_open(&a.ev, NULL);
		jw_addr(&a.ev, "ip", &addrs[i]);
		if (gi[i].has_asn) {
			jw_uint(&a.ev, "asn", gi[i].asn);
			if (gi[i].as_org[0])
				jw_str(&a.ev, "as_org", gi[i].as_org);
		}
		if (gi[i].has_country)
			jw_str(&a.ev, "country", gi[i].country);
		jw_obj_close(&a.ev);
	}
	jw_arr_close(&a.ev);
	jw_obj_open(&a.ev, "history");
	jw_uint(&a.ev, "answers", before.seen);
	jw_arr_open(&a.ev, "asns");
	for (unsigned i = 0; i < before.nasn; i++)
		jw_uint(&a.ev, NULL, before.asns[i]);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "countries");
	for (unsigned i = 0; i < before.ncc; i++)
		jw_strn(&a.ev, NULL, before.cc[i], 2);
	jw_arr_close(&a.ev);
	jw_uint(&a.ev, "networks", before.npfx);
	jw_obj_close(&a.ev);
	ev_query(&a, ev);
	ev_answer(&a.ev, "answer", ev);
	alert_emit(out, &a);
}

/* ------------------------------------------------------------------ unmatched answers */

static void flood_note(struct dns_state *s, const struct dns_ev *ev, struct flood *f)
{
	const struct ev_meta *m = &ev->m;
	bool seen = false;
	for (unsigned i = 0; i < f->nports; i++)
		seen |= f->ports[i] == m->dport;
	if (!seen && f->nports < DNS_FLOOD_SAMPLES)
		f->ports[f->nports++] = m->dport;
	if (f->nids < DNS_FLOOD_SAMPLES)
		f->ids[f->nids++] = ev->dns->id;
	if (!addr_in(f->srcs, f->nsrcs, &m->src) && f->nsrcs < DNS_FLOOD_SRCS)
		f->srcs[f->nsrcs++] = m->src;
	if (m->has_eth && !mac_in((const uint8_t (*)[6])f->macs, f->nmacs, m->src_mac) &&
	    f->nmacs < DNS_FLOOD_SRCS)
		memcpy(f->macs[f->nmacs++], m->src_mac, 6);
	seen = false;
	for (unsigned i = 0; i < f->nttls; i++)
		seen |= f->ttls[i] == m->ip_ttl;
	if (!seen && f->nttls < DNS_FLOOD_SRCS)
		f->ttls[f->nttls++] = m->ip_ttl;
	if (!f->name[0] && ev->dns->nq)
		snprintf(f->name, sizeof(f->name), "%s", qname(ev->dns));
	(void)s;
}

/* Counts an answer that matches no transaction toward a flood of its client. Returns
 * true when the client is flooded in this window (the caller then folds the answer
 * into the flood instead of reporting it alone). */
static bool flood_count(struct dns_state *s, const struct dns_ev *ev, struct alert_pipe *out)
{
	const struct ev_meta *m = &ev->m;
	struct ip_key k;
	bool created;
	ip_key(&k, m->vlan, &m->dst);
	struct flood *f = det_tab_put(s->floods, &k, &created);
	if (created || m->ts_us > f->start_us + s->flood_window_us || m->ts_us < f->start_us) {
		uint32_t total = created ? 0 : f->total;
		memset(f, 0, sizeof(*f));
		f->start_us = m->ts_us;
		f->total = total;
	}
	f->count++;
	f->total++;
	f->last_us = m->ts_us;
	flood_note(s, ev, f);
	if (f->count < s->flood_count)
		return false;
	if (f->alerted)
		return true;
	f->alerted = 1;

	char cip[OP_ADDR_STRLEN];
	struct alert a;
	alert_begin(&a, &dns_types[T_TXID_FLOOD], m->ts_us);
	a.confidence = CONF_HIGH;
	set_ends(&a, ev);
	util_addr_fmt(&m->dst, cip);
	snprintf(a.key, sizeof(a.key), "vlan=%u %s", m->vlan, cip);
	snprintf(a.message, sizeof(a.message),
		 "%u DNS answers matching no query reached %s within %llu s (%u port%s, first name %.*s): cache-poisoning attempt",
		 f->count, cip, (unsigned long long)((m->ts_us - f->start_us) / 1000000u),
		 f->nports, f->nports == 1 ? "" : "s", DNS_MSG_NAME, f->name[0] ? f->name : "-");
	jw_uint(&a.ev, "answers_in_window", f->count);
	jw_uint(&a.ev, "window_s", s->flood_window_us / 1000000u);
	jw_uint(&a.ev, "threshold", s->flood_count);
	jw_ts(&a.ev, "window_start", f->start_us);
	jw_str(&a.ev, "first_name", f->name);
	jw_arr_open(&a.ev, "client_ports");
	for (unsigned i = 0; i < f->nports; i++)
		jw_uint(&a.ev, NULL, f->ports[i]);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "ids");
	for (unsigned i = 0; i < f->nids; i++)
		jw_uint(&a.ev, NULL, f->ids[i]);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "src_ips");
	for (unsigned i = 0; i < f->nsrcs; i++)
		jw_addr(&a.ev, NULL, &f->srcs[i]);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "src_macs");
	for (unsigned i = 0; i < f->nmacs; i++)
		jw_mac(&a.ev, NULL, f->macs[i]);
	jw_arr_close(&a.ev);
	jw_arr_open(&a.ev, "ip_ttls");
	for (unsigned i = 0; i < f->nttls; i++)
		jw_uint(&a.ev, NULL, f->ttls[i]);
	jw_arr_close(&a.ev);
	ev_answer(&a.ev, "last_answer", ev);
	alert_emit(out, &a);
	return true;
}

static void report_unsolicited(struct dns_state *s, const struct dns_ev *ev, const char *reason,
			       const struct sock *so, struct alert_pipe *out)
{
	char cip[OP_ADDR_STRLEN], rip[OP_ADDR_STRLEN], tb[DNS_TYPE_STRLEN];
	const struct ev_meta *m = &ev->m;
	struct alert a;
	alert_begin(&a, &dns_types[T_UNSOLICITED], m->ts_us);
	set_ends(&a, ev);
	util_addr_fmt(&m->dst, cip);
	util_addr_fmt(&m->src, rip);
	/* A wrong ID on a port that waits for an answer is a guess; an answer to a port
	 * that asked nothing is more often a capture that missed the query. */
	bool guessed = so != NULL;
	a.severity = guessed ? 6 : 3;
	a.confidence = guessed ? CONF_MEDIUM : CONF_LOW;
	snprintf(a.key, sizeof(a.key), "vlan=%u %s %s %s", m->vlan, cip, rip, reason);
	if (guessed)
		snprintf(a.message, sizeof(a.message),
			 "DNS answer from %s to %s:%u for %.*s %s carries ID %u, which matches none of the queries pending on that port (a guessed ID)",
			 rip, cip, m->dport, DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb),
			 ev->dns->id);
	else
		snprintf(a.message, sizeof(a.message),
			 "DNS answer from %s to %s:%u for %.*s %s without any query from that port",
			 rip, cip, m->dport, DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb));
	jw_str(&a.ev, "reason", reason);
	if (so) {
		jw_arr_open(&a.ev, "pending");
		for (int i = 0; i < DNS_TX_PER_SOCK; i++) {
			if (so->tx[i].state == TX_FREE)
				continue;
			jw_obj_open(&a.ev, NULL);
			jw_uint(&a.ev, "id", so->tx[i].id);
			jw_str(&a.ev, "type", dec_dns_type_str(so->tx[i].qtype, tb));
			jw_ts(&a.ev, "query_ts", so->tx[i].q_us);
			jw_bool(&a.ev, "answered", so->tx[i].state == TX_ANSWERED);
			jw_obj_close(&a.ev);
		}
		jw_arr_close(&a.ev);
	}
	ev_query(&a, ev);
	ev_answer(&a.ev, "answer", ev);
	alert_emit(out, &a);
}

static void report_race(struct dns_state *s, const struct dns_ev *ev, struct tx *t,
			struct alert_pipe *out)
{
	const struct ev_meta *m = &ev->m;
	char cip[OP_ADDR_STRLEN], rip[OP_ADDR_STRLEN], tb[DNS_TYPE_STRLEN], rb[16], now_b[160];
	char first_b[160] = "";
	struct alert a;
	alert_begin(&a, &dns_types[T_RACE], m->ts_us);
	set_ends(&a, ev);
	util_addr_fmt(&m->dst, cip);
	util_addr_fmt(&m->src, rip);
	bool diff_mac = t->a_has_mac && m->has_eth && memcmp(t->a_mac, m->src_mac, 6) != 0;
	bool diff_ttl = t->a_ip_ttl != m->ip_ttl;
	a.severity = diff_mac || diff_ttl ? 8 : 7;
	a.confidence = diff_mac || diff_ttl ? CONF_HIGH : CONF_MEDIUM;
	snprintf(a.key, sizeof(a.key), "vlan=%u %s %.96s %s", m->vlan, cip, qname(ev->dns),
		 qtype(ev->dns, tb));
	answer_brief(ev->dns, now_b, sizeof(now_b));
	if (t->rcode)
		snprintf(first_b, sizeof(first_b), "%s", rcode_str(t->rcode, rb));
	for (size_t i = 0, o = 0; !t->rcode && i < t->a_naddr; i++) {
		char ab[OP_ADDR_STRLEN];
		int w = snprintf(first_b + o, sizeof(first_b) - o, "%s%s", o ? "," : "",
				 util_addr_fmt(&t->a_addr[i], ab));
		if (w < 0 || (size_t)w >= sizeof(first_b) - o)
			break;
		o += (size_t)w;
	}
	if (!first_b[0])
		snprintf(first_b, sizeof(first_b), "%u record%s without addresses", t->a_nrec,
			 t->a_nrec == 1 ? "" : "s");
	snprintf(a.message, sizeof(a.message),
		 "%u different answers to %s:%u's query for %.*s %s (ID %u) from %s: first %.80s, now %.80s%s%s",
		 t->nans + 1, cip, m->dport, DNS_MSG_NAME, qname(ev->dns), qtype(ev->dns, tb), t->id,
		 rip, first_b, now_b, diff_mac ? "; sent from different MACs" : "",
		 diff_ttl ? "; with different IP TTLs" : "");
	jw_uint(&a.ev, "answers_seen", t->nans + 1u);
	jw_uint(&a.ev, "delay_us", m->ts_us >= t->a_us ? m->ts_us - t->a_us : 0);
	jw_bool(&a.ev, "different_macs", diff_mac);
	jw_bool(&a.ev, "different_ip_ttls", diff_ttl);
	ev_query(&a, ev);
	jw_arr_open(&a.ev, "answers");
	ev_stored(&a.ev, t, ev);
	ev_answer(&a.ev, NULL, ev);
	jw_arr_close(&a.ev);
	alert_emit(out, &a);
	s->n.races++;
}

/* ------------------------------------------------------------------ events */

static struct tx *find_tx(struct sock *so, uint16_t id, uint64_t qh, bool *qmismatch)
{
	*qmismatch = false;
	for (int i = 0; i < DNS_TX_PER_SOCK; i++) {
		struct tx *t = &so->tx[i];
		if (t->state == TX_FREE || t->id != id)
			continue;
		if (t->qhash == qh)
			return t;
		*qmismatch = true;
	}
	return NULL;
}

static void on_query(struct dns_state *s, const struct dns_ev *ev)
{
	const struct ev_meta *m = &ev->m;
	const struct dns_msg *d = ev->dns;
	struct sock_key k;
	sock_key(&k, m, false);
	s->n.queries++;
	/* Full: make room first, so the evicted socket's pending queries reach the ghost
	 * filter (det_tab_put would evict silently). One lookup instead of peek + put. */
	if (det_tab_count(s->socks) == det_tab_cap(s->socks)) {
		sock_drop_oldest(s);
		s->n.evicted++;
		s->last_evict_us = m->ts_us;
	}
	bool created;
	struct sock *so = det_tab_put(s->socks, &k, &created);
	if (!created && (!util_addr_eq(&so->client, &m->src) || !util_addr_eq(&so->resolver, &m->dst))) {
		/* A hash collision of two address pairs: the newer socket wins. */
		ghost_add(s, &k, so);
		memset(so, 0, sizeof(*so));
		created = true;
	}
	if (created) {
		so->client = m->src;
		so->resolver = m->dst;
	}
	so->last_us = m->ts_us;
	if (m->has_eth)
		memcpy(so->client_mac, m->src_mac, 6);

	uint64_t qh = question_hash(d);
	bool qm;
	struct tx *t = find_tx(so, d->id, qh, &qm);
	if (!t) {
		/* A free slot, else the oldest transaction makes room. */
		struct tx *old = &so->tx[0];
		for (int i = 0; i < DNS_TX_PER_SOCK; i++) {
			if (so->tx[i].state == TX_FREE) {
				old = &so->tx[i];
				break;
			}
			if (so->tx[i].q_us < old->q_us)
				old = &so->tx[i];
		}
		if (old->state == TX_PENDING)
			ghost_put(s, ghost_hash(&k, old->id));
		t = old;
		memset(t, 0, sizeof(*t));
		t->id = d->id;
		t->qhash = qh;
		t->qtype = d->nq ? d->q[0].type : 0;
		t->state = TX_PENDING;
		t->rd = (d->flags & DNS_F_RD) != 0;
	}
	t->q_us = m->ts_us; /* a retransmission restarts the wait */

	struct ip_key ck;
	ip_key(&ck, m->vlan, &m->src);
	struct client *cl = det_tab_put(s->clients, &ck, &created);
	cl->last_query_us = m->ts_us;
}

static void judge_answer(struct dns_state *s, const struct dns_ev *ev, bool rd,
			 struct alert_pipe *out)
{
	check_resolver(s, ev, rd, out);
	check_path(s, ev, out);
	check_private(s, ev, out);
	check_asn(s, ev, out);
}

static void on_answer(struct dns_state *s, const struct dns_ev *ev, struct alert_pipe *out)
{
	const struct ev_meta *m = &ev->m;
	const struct dns_msg *d = ev->dns;
	struct sock_key k;
	sock_key(&k, m, true);
	s->n.answers++;
	/* peek: the LRU order stays the order of queries, which is what expiry walks. */
	struct sock *so = det_tab_peek(s->socks, &k);
	if (so && (!util_addr_eq(&so->client, &m->dst) || !util_addr_eq(&so->resolver, &m->src)))
		so = NULL;
	if (so) {
		bool qm;
		uint64_t qh = question_hash(d);
		struct tx *t = find_tx(so, d->id, qh, &qm);
		if (t && t->q_us + s->tx_timeout_us < m->ts_us) {
			s->n.late++; /* an answer to a query older than the table window */
			return;
		}
		if (t) {
			uint64_t ah = answer_hash(d);
			if (t->state == TX_PENDING) {
				s->n.matched++;
				t->state = TX_ANSWERED;
				t->a_us = m->ts_us;
				t->ans_hash = ah;
				t->rcode = d->rcode;
				t->nans = 1;
				store_answer(t, ev);
				judge_answer(s, ev, t->rd, out);
				return;
			}
			if (ah == t->ans_hash) {
				s->n.duplicates++;
				return;
			}
			report_race(s, ev, t, out);
			if (t->nans < UINT8_MAX)
				t->nans++;
			judge_answer(s, ev, t->rd, out);
			return;
		}
		/* The socket is known and waits for other IDs (or questions): a guess. */
		s->n.mismatched++;
		if (!flood_count(s, ev, out))
			report_unsolicited(s, ev, qm ? "question_mismatch" : "txid_mismatch", so, out);
		return;
	}
	if (ghost_has(s, &k, d->id)) {
		s->n.late++; /* its query expired or was evicted from the table */
		return;
	}
	if (m->ts_us < s->first_us + s->grace_us) {
		s->n.grace++; /* the query may predate the capture */
		return;
	}
	if (s->last_evict_us && m->ts_us <= s->last_evict_us + s->tx_timeout_us) {
		/* The table was full recently: its query may have been evicted with no room
		 * left in the ghost filter. Absence proves nothing now. */
		s->n.late++;
		return;
	}
	struct ip_key ck;
	ip_key(&ck, m->vlan, &m->dst);
	const struct client *cl = det_tab_peek(s->clients, &ck);
	if (!cl || m->ts_us > cl->last_query_us + s->client_window_us) {
		s->n.one_way++; /* we do not see this client's queries at all */
		return;
	}
	s->n.no_query++;
	if (!flood_count(s, ev, out))
		report_unsolicited(s, ev, "no_query", NULL, out);
}

static void dns_on_dns(void *state, const struct dns_ev *ev, struct alert_pipe *out)
{
	struct dns_state *s = state;
	const struct dns_msg *d = ev->dns;
	const struct ev_meta *m = &ev->m;
	if (!d || !dec_dns_usable(d) || d->opcode != 0)
		return;
	start_clock(s, m->ts_us);
	if (!d->qr && m->dport == DNS_PORT)
		on_query(s, ev);
	else if (d->qr && m->sport == DNS_PORT)
		on_answer(s, ev, out);
}

static void dns_on_tick(void *state, uint64_t now_us, struct alert_pipe *out)
{
	struct dns_state *s = state;
	(void)out;
	start_clock(s, now_us);
	expire(s, now_us);
}

/* ------------------------------------------------------------------ baselines */

static void addr_to_json(json_t *o, const char *key, const struct op_addr *a)
{
	char b[OP_ADDR_STRLEN];
	json_object_set_new(o, key, json_string(util_addr_fmt(a, b)));
}

static json_t *dns_save(void *state)
{
	struct dns_state *s = state;
	json_t *root = json_object(), *res = json_array(), *cli = json_array(), *names = json_array();
	if (!root || !res || !cli || !names) {
		json_decref(root);
		json_decref(res);
		json_decref(cli);
		json_decref(names);
		return NULL;
	}
	size_t pos = 0;
	const void *kp;
	const struct resolver *r;
	while ((r = det_tab_next(s->resolvers, &pos, &kp))) {
		const struct res_key *k = kp;
		struct op_addr a;
		char netb[OP_ADDR_STRLEN + 4];
		memset(&a, 0, sizeof(a));
		a.family = k->family;
		memcpy(a.a, k->ip, 16);
		json_t *o = json_object(), *macs = json_array(), *ttls = json_array();
		addr_to_json(o, "ip", &a);
		json_object_set_new(o, "vlan", json_integer(k->vlan));
		json_object_set_new(o, "client_net", json_string(client_net_str(k, k->family, netb)));
		for (unsigned i = 0; i < r->nmac; i++) {
			char mb[OP_MAC_STRLEN];
			json_array_append_new(macs, json_string(util_mac_fmt(r->macs[i], mb)));
		}
		for (unsigned i = 0; i < r->nttl; i++)
			json_array_append_new(ttls, json_integer(r->ttls[i]));
		json_object_set_new(o, "macs", macs);
		json_object_set_new(o, "ttls", ttls);
		json_object_set_new(o, "answers", json_integer(r->samples));
		json_object_set_new(o, "ttl_unstable", json_boolean(r->ttl_unstable));
		json_array_append_new(res, o);
	}
	pos = 0;
	const struct client *c;
	while ((c = det_tab_next(s->clients, &pos, &kp))) {
		const struct ip_key *k = kp;
		if (!c->nres && !c->many)
			continue;
		struct op_addr a;
		memset(&a, 0, sizeof(a));
		a.family = k->family;
		memcpy(a.a, k->ip, 16);
		json_t *o = json_object(), *rl = json_array();
		addr_to_json(o, "ip", &a);
		json_object_set_new(o, "vlan", json_integer(k->vlan));
		for (unsigned i = 0; i < c->nres; i++) {
			char b[OP_ADDR_STRLEN];
			json_array_append_new(rl, json_string(util_addr_fmt(&c->res[i], b)));
		}
		json_object_set_new(o, "resolvers", rl);
		json_object_set_new(o, "many", json_boolean(c->many));
		json_array_append_new(cli, o);
	}
	pos = 0;
	const struct namehist *h;
	while ((h = det_tab_next(s->names, &pos, &kp))) {
		const struct name_key *k = kp;
		char hb[17];
		snprintf(hb, sizeof(hb), "%016llx", (unsigned long long)k->h);
		json_t *o = json_object(), *asns = json_array(), *ccs = json_array(), *pf = json_array();
		json_object_set_new(o, "h", json_string(hb));
		for (unsigned i = 0; i < h->nasn; i++)
			json_array_append_new(asns, json_integer(h->asns[i]));
		for (unsigned i = 0; i < h->ncc; i++)
			json_array_append_new(ccs, json_stringn(h->cc[i], 2));
		for (unsigned i = 0; i < h->npfx; i++)
			json_array_append_new(pf, json_integer(h->pfx[i]));
		json_object_set_new(o, "asns", asns);
		json_object_set_new(o, "countries", ccs);
		json_object_set_new(o, "nets", pf);
		json_object_set_new(o, "seen", json_integer(h->seen));
		json_array_append_new(names, o);
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "resolvers", res);
	json_object_set_new(root, "clients", cli);
	json_object_set_new(root, "names", names);
	return root;
}

static int load_ip(const json_t *o, uint16_t *vlan, struct op_addr *a)
{
	const char *ip = json_string_value(json_object_get(o, "ip"));
	json_int_t v = json_integer_value(json_object_get(o, "vlan"));
	if (!ip || util_addr_parse(ip, a) < 0 || v < 0 || v > 4095)
		return -1;
	*vlan = (uint16_t)v;
	return 0;
}

static int dns_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct dns_state *s = state;
	if (!json_is_object(saved) || json_integer_value(json_object_get(saved, "version")) != 1) {
		snprintf(err, errlen, "dns: state is not a version 1 object");
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(saved, "resolvers"), i, o) {
		struct op_addr a;
		uint16_t vlan;
		if (load_ip(o, &vlan, &a) < 0) {
			snprintf(err, errlen, "dns: resolvers[%zu]: bad ip or vlan", i);
			return -1;
		}
		struct op_addr net;
		const char *ns = json_string_value(json_object_get(o, "client_net"));
		char nb[OP_ADDR_STRLEN + 4];
		util_strlcpy(nb, ns ? ns : "", sizeof(nb));
		char *slash = strchr(nb, '/');
		if (slash)
			*slash = '\0';
		if (!ns || util_addr_parse(nb, &net) < 0 || net.family != a.family) {
			snprintf(err, errlen, "dns: resolvers[%zu]: bad client_net", i);
			return -1;
		}
		struct res_key k;
		res_key(&k, vlan, &a, &net);
		struct resolver *r = det_tab_put(s->resolvers, &k, NULL);
		memset(r, 0, sizeof(*r));
		size_t j;
		json_t *v;
		json_array_foreach(json_object_get(o, "macs"), j, v) {
			const char *ms = json_string_value(v);
			if (r->nmac < DNS_RES_MACS && ms && util_mac_parse(ms, r->macs[r->nmac]) == 0)
				r->nmac++;
		}
		json_array_foreach(json_object_get(o, "ttls"), j, v) {
			json_int_t t = json_integer_value(v);
			if (r->nttl < DNS_RES_TTLS && t > 0 && t < 256)
				r->ttls[r->nttl++] = (uint8_t)t;
		}
		json_int_t n = json_integer_value(json_object_get(o, "answers"));
		r->samples = n > 0 && n < UINT32_MAX ? (uint32_t)n : 0;
		r->ttl_unstable = json_is_true(json_object_get(o, "ttl_unstable"));
	}
	json_array_foreach(json_object_get(saved, "clients"), i, o) {
		struct op_addr a;
		uint16_t vlan;
		if (load_ip(o, &vlan, &a) < 0) {
			snprintf(err, errlen, "dns: clients[%zu]: bad ip or vlan", i);
			return -1;
		}
		struct ip_key k;
		ip_key(&k, vlan, &a);
		struct client *c = det_tab_put(s->clients, &k, NULL);
		memset(c, 0, sizeof(*c));
		size_t j;
		json_t *v;
		json_array_foreach(json_object_get(o, "resolvers"), j, v) {
			const char *rs = json_string_value(v);
			if (c->nres < DNS_CLIENT_RESOLVERS && rs && util_addr_parse(rs, &c->res[c->nres]) == 0)
				c->nres++;
		}
		c->many = json_is_true(json_object_get(o, "many"));
	}
	json_array_foreach(json_object_get(saved, "names"), i, o) {
		const char *hs = json_string_value(json_object_get(o, "h"));
		char *end;
		if (!hs || strlen(hs) != 16) {
			snprintf(err, errlen, "dns: names[%zu]: bad hash", i);
			return -1;
		}
		struct name_key k = { strtoull(hs, &end, 16) };
		if (*end) {
			snprintf(err, errlen, "dns: names[%zu]: bad hash", i);
			return -1;
		}
		struct namehist *h = det_tab_put(s->names, &k, NULL);
		memset(h, 0, sizeof(*h));
		size_t j;
		json_t *v;
		json_array_foreach(json_object_get(o, "asns"), j, v) {
			json_int_t n = json_integer_value(v);
			if (h->nasn < DNS_NAME_HIST && n > 0 && n <= UINT32_MAX)
				h->asns[h->nasn++] = (uint32_t)n;
		}
		json_array_foreach(json_object_get(o, "countries"), j, v) {
			const char *cc = json_string_value(v);
			if (h->ncc < DNS_NAME_HIST && cc && strlen(cc) == 2)
				memcpy(h->cc[h->ncc++], cc, 2);
		}
		json_array_foreach(json_object_get(o, "nets"), j, v) {
			json_int_t n = json_integer_value(v);
			if (h->npfx < DNS_NAME_HIST && n > 0 && n <= UINT32_MAX)
				h->pfx[h->npfx++] = (uint32_t)n;
		}
		json_int_t n = json_integer_value(json_object_get(o, "seen"));
		h->seen = n > 0 && n < UINT32_MAX ? (uint32_t)n : 0;
	}
	return 0;
}

const struct detector det_dns = {
	.name = "dns",
	.types = dns_types,
	.ntypes = ONPATH_ARRAY_LEN(dns_types),
	.init = dns_init,
	.fini = dns_fini,
	.on_dns = dns_on_dns,
	.on_tick = dns_on_tick,
	.save = dns_save,
	.load = dns_load,
};
