/* issuer.c - certificate-chain indicators of TLS interception (struct tls_ev with a
 * chain: TLS <= 1.2 and SSLv2, where the server's certificates travel in clear).
 *
 *  - issuer.untrusted_chain: the chain does not verify (X509_verify_cert at the packet
 *    time) to the trust store: the system CA bundle plus the enterprise CAs of
 *    tls.ca_files / --ca-file. An interception proxy whose CA the victim has not
 *    installed shows up here; so does a private PKI nobody declared.
 *  - issuer.interception_product: an issuer (or any CA of the chain, or an SPKI)
 *    matches signatures/interception-cas.csv (debugging proxies, AV HTTPS scanners,
 *    corporate proxies and firewalls, adware). A chain that verifies to a declared
 *    enterprise CA, or whose issuer is listed in detectors.issuer.sanctioned, is still
 *    reported but with sanctioned: true at low severity: the team sees its own
 *    inspection box, and an unsanctioned one stands out.
 *  - issuer.changed: for a name (SNI, else the first SAN, else the CN) the issuer or
 *    the leaf key is not one seen before (a short history per name, persisted). After
 *    a cold start, for the learning window, new values of a publicly trusted chain are
 *    learnt silently; a change to a chain that is not publicly trusted alerts at once.
 *  - issuer.pin_violation: a pinned name (detectors.issuer.pins, optionally Chromium's
 *    static pins from signatures/pins.csv) served a chain with no pinned SPKI.
 *  - issuer.no_sct: a leaf that verifies to a public root, issued after the date CT
 *    became mandatory in browsers, with no SCT (neither embedded nor in the TLS
 *    extension).
 *  - issuer.minted_recently: the leaf's notBefore is within minted_window of the packet
 *    time and its chain verifies to no anchor (interception proxies mint leaves on the
 *    fly; a declared enterprise CA doing so is the sanctioned case, not reported).
 *  - issuer.self_signed, issuer.expired (any certificate outside its validity at the
 *    packet time), issuer.name_mismatch (the SNI is not covered: X509_check_host),
 *    issuer.weak_key (RSA/DSA below min_rsa_bits, EC below 224 bits, MD5/SHA-1
 *    signature on the leaf).
 *
 * Time is packet time: verification uses X509_VERIFY_PARAM_set_time with the packet's
 * seconds, so a capture from 2016 is judged as a sensor in 2016 would have judged it
 * (an expired root is fine if it was valid then). A root removed from the bundle since
 * (StartCom, WoSign, DST Root CA X3...) makes old chains "untrusted" with today's
 * bundle: that is today's truth for a live sensor; to replay history faithfully, give
 * that era's roots with tls.ca_files and tls.system_roots: false (the golden tests do).
 *
 * Cost: verification results are cached by chain fingerprint (a bounded 4-way cache;
 * an entry holds only for the span of packet time between the validity boundaries of
 * its certificates, so the result is the one a fresh verification would give). The
 * system CA bundle is parsed on the first verification, not at init (~195M
 * instructions that a capture without TLS <= 1.2, or --check-config, never needs); the
 * configured CA files are parsed at init so a bad path fails at startup.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "decode/tls.h"
#include "decode/x509.h"
#include "detector.h"
#include "issuer.h"
#include "lru.h"
#include "sig.h"

#define ISSUER_MAX_CA_FILES 32      /* tls.ca_files + --ca-file */
#define ISSUER_MAX_SIGS 512          /* interception-cas.csv records */
#define ISSUER_MAX_SANCTIONED 64
#define ISSUER_MAX_PINS 4096
#define ISSUER_MAX_PIN_SPKIS 64      /* per pin */
#define ISSUER_HIST 4                /* issuers / keys remembered per name */
#define ISSUER_DEFAULT_NAMES 50000u
#define ISSUER_DEFAULT_CACHE 8192u
#define ISSUER_DEFAULT_MINTED_S (48u * 3600u)
#define ISSUER_DEFAULT_MIN_RSA 2048u
#define ISSUER_NAME_MAX 255
/* Chrome required CT for certificates issued from 2018-04-30 (the first whole day
 * after is used); older leaves legitimately carry no SCT. */
#define ISSUER_DEFAULT_NO_SCT_SINCE "2018-05-01"
/* A notBefore this far after the packet time still counts as "minted now" (clock skew
 * between the proxy and the capture). */
#define ISSUER_MINT_SKEW_S 3600

enum {
	T_UNTRUSTED = 0,
	T_PRODUCT,
	T_CHANGED,
	T_PIN,
	T_NO_SCT,
	T_MINTED,
	T_SELF_SIGNED,
	T_EXPIRED,
	T_NAME_MISMATCH,
	T_WEAK_KEY,
};

#define AITM "T1557", "Adversary-in-the-Middle"

static const struct alert_type issuer_types[] = {
	[T_UNTRUSTED] = { "issuer.untrusted_chain", 6, AITM,
			  "Server certificate chain does not verify to the trust store (system CAs + enterprise CAs)" },
	[T_PRODUCT] = { "issuer.interception_product", 8, AITM,
			"Certificate issued by a known TLS interception product or tool" },
	[T_CHANGED] = { "issuer.changed", 6, AITM,
			"Issuer or leaf key of a server name changed against its baseline" },
	[T_PIN] = { "issuer.pin_violation", 9, AITM,
		    "Pinned server name served a chain with none of its pinned keys" },
	[T_NO_SCT] = { "issuer.no_sct", 5, AITM,
		       "Publicly trusted leaf certificate without Certificate Transparency SCTs" },
	[T_MINTED] = { "issuer.minted_recently", 6, AITM,
		       "Leaf certificate minted just before use by an issuer that is not public" },
	[T_SELF_SIGNED] = { "issuer.self_signed", 5, AITM, "Server presented a self-signed certificate" },
	[T_EXPIRED] = { "issuer.expired", 5, AITM,
			"Certificate in the chain outside its validity period at the time it was seen" },
	[T_NAME_MISMATCH] = { "issuer.name_mismatch", 6, AITM,
			      "Server certificate does not cover the requested name (SNI)" },
	[T_WEAK_KEY] = { "issuer.weak_key", 3, AITM,
			 "Leaf certificate with a weak key or an MD5/SHA-1 signature" },
};

/* ---- --ca-file (the command line), added to tls.ca_files at every init ---- */

static const char *cli_ca_files[ISSUER_MAX_CA_FILES];
static size_t n_cli_ca_files;

int det_issuer_add_ca_file(const char *path)
{
	if (n_cli_ca_files == ISSUER_MAX_CA_FILES)
		return -1;
	cli_ca_files[n_cli_ca_files++] = path;
	return 0;
}

/* ---- state ---- */

enum anchor { ANCHOR_NONE = 0, ANCHOR_PUBLIC, ANCHOR_ENTERPRISE };

/* Verification flags (what OpenSSL complained about, by kind). */
#define VF_TIME (1u << 0)       /* expired / not yet valid */
#define VF_SELF_LEAF (1u << 1)  /* the leaf alone, self-signed, not trusted */
#define VF_UNTRUSTED (1u << 2)  /* no path to a trust anchor */
#define VF_SIG (1u << 3)        /* a signature does not verify */
#define VF_PURPOSE (1u << 4)    /* CA flags, path length, key usage, purpose */
#define VF_OTHER (1u << 5)
#define VF_NOT_TRUSTED (VF_SELF_LEAF | VF_UNTRUSTED | VF_SIG | VF_PURPOSE | VF_OTHER)

struct vres {
	uint32_t flags;
	int err, depth;          /* first error that is not about time (else 0) */
	int time_err, time_depth;
	uint8_t anchor;          /* enum anchor (when trusted, time aside) */
	char anchor_subject[160];
	uint8_t nspki;
	uint8_t spki[CERT_MAX_CHAIN + 2][32]; /* SPKIs of the chain OpenSSL built */
	int64_t lo, hi;          /* packet-time span over which this result holds */
};

/* A chain seen before: its verification, and what is the same for every handshake
 * that presents it (the interception-product match, the sanctioned test, the chain's
 * evidence JSON), so a busy server's chain costs a hash and a lookup. */
struct vcache_slot {
	uint8_t key[32];
	uint64_t used;
	bool valid;
	struct vres r;
	bool judged;                 /* the fields below are filled */
	const struct isig *prod;
	unsigned prod_at;
	bool sanc;
	char *chain_json;            /* owned: the "chain" evidence value */
	size_t chain_len;
};

enum sig_match { M_CN_EQ = 0, M_CN_PREFIX, M_O_EQ, M_DN_CONTAINS, M_SPKI };

struct isig {
	char id[48];
	uint8_t match;
	char pattern[160];
	uint8_t spki[32];
	char product[64];
	char category[32];
	char reference[160];
};

struct pin {
	char name[ISSUER_NAME_MAX + 1];
	bool subdomains;
	const char *source;       /* "config" or "chromium" */
	char pinset[48];
	uint16_t nspki;
	uint8_t spki[ISSUER_MAX_PIN_SPKIS][32];
};

struct nb_iss {
	uint64_t h;               /* hash of the issuer DN text */
	uint64_t first_us, last_us;
	uint8_t anchor;
	char dn[96];
};

struct nb_key {
	uint8_t spki[32];
	uint64_t first_us, last_us;
};

struct name_base {
	uint8_t niss, nkey;
	struct nb_iss iss[ISSUER_HIST];
	struct nb_key key[ISSUER_HIST];
};

struct issuer_state {
	/* config */
	bool verify;
	uint64_t minted_s;
	uint32_t min_rsa;
	int64_t no_sct_since;
	bool cold_start;
	uint64_t learning_us, first_us;
	/* trust: the store is filled on the first verification (trust_load), so a run
	 * that verifies no chain (no TLS <= 1.2, --check-config, verify: false) never
	 * parses the system bundle (~150 certificates, ~45 ms). The configured files are
	 * parsed at init (errors at startup) and kept in load order in extra. */
	X509_STORE *store;
	bool system_roots;           /* tls.system_roots */
	bool trust_loaded;
	STACK_OF(X509) *extra;       /* public_ca_files, ca_files, --ca-file, in order */
	STACK_OF(X509) *enterprise;
	X509_STORE_CTX *vctx;
	struct vcache_slot *vcache;
	size_t vcache_sets;
	uint64_t vtick;
	uint64_t verifications, cache_hits;
	/* data */
	struct isig *sigs;
	size_t nsigs;
	char sanctioned[ISSUER_MAX_SANCTIONED][160];
	size_t nsanctioned;
	struct pin *pins;
	size_t npins;
	struct det_lru *names;
};

/* ---- small helpers ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_hex32(const char *s, uint8_t out[32])
{
	size_t j = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == ':')
			continue;
		int v = hexval((unsigned char)s[i]);
		if (v < 0 || j >= 64)
			return -1;
		if (j % 2 == 0)
			out[j / 2] = (uint8_t)(v << 4);
		else
			out[j / 2] |= (uint8_t)v;
		j++;
	}
	return j == 64 ? 0 : -1;
}

/* "sha256/BASE64", "BASE64" (44 characters) or 64 hex digits. */
static int parse_spki(const char *s, uint8_t out[32])
{
	if (strncmp(s, "sha256/", 7) == 0)
		s += 7;
	size_t n = strlen(s);
	if (n == 64 || n == 95)
		return parse_hex32(s, out);
	if (n != 44)
		return -1;
	unsigned char buf[48];
	int l = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (l != 33 || s[43] != '=') /* 32 bytes + 1 of padding decoded as zero */
		return -1;
	memcpy(out, buf, 32);
	return 0;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int parse_date(const char *s, int64_t *out)
{
	int y, m, d;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*out = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400;
	return 0;
}

/* RFC 3339 text of a (possibly negative) Unix time. */
static void ts_text(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, 32, "%lld", (long long)t);
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (!n)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static bool ci_eqn(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* ---- configuration ---- */

static const struct cfg_node *seq_of(const struct cfg *c, const struct cfg_node *sec,
				     const char *key, char *err, size_t errlen, int *bad)
{
	const struct cfg_node *n = sec ? cfg_get(sec, key) : NULL;
	*bad = 0;
	if (n && n->type != CFG_SEQ) {
		cfg_errf(c, n, err, errlen, "%s: must be a list", key);
		*bad = 1;
		return NULL;
	}
	return n;
}

/* A relative ca_files path is taken relative to the configuration file's directory,
 * so a config and its CA files can travel together. */
static void resolve(const struct cfg *c, const char *p, char *out, size_t cap)
{
	if (p[0] == '/' || !c || !c->path || !strchr(c->path, '/')) {
		util_strlcpy(out, p, cap);
		return;
	}
	const char *slash = strrchr(c->path, '/');
	snprintf(out, cap, "%.*s/%s", (int)(slash - c->path), c->path, p);
}

/* Reads the PEM certificates of path into s->extra (added to the store by
 * trust_load); enterprise ones are also kept aside to tell an enterprise anchor from a
 * public one. */
static int load_ca_file(struct issuer_state *s, const char *key, const char *path, bool enterprise,
			char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "r");
	if (!b) {
		snprintf(err, errlen, "%s: %s: cannot open", key, path);
		return -1;
	}
	int n = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(s->extra, x)) {
			X509_free(x);
			continue;
		}
		n++;
		if (enterprise && X509_up_ref(x) && !sk_X509_push(s->enterprise, x))
			X509_free(x);
	}
	ERR_clear_error(); /* the PEM reader's "no start line" at the end of the file */
	BIO_free(b);
	if (n == 0) {
		snprintf(err, errlen, "%s: %s: no PEM certificate in it", key, path);
		return -1;
	}
	return 0;
}

static int load_ca_list(struct issuer_state *s, const struct cfg *c, const struct cfg_node *tls,
			const char *key, bool enterprise, char *err, size_t errlen)
{
	int bad;
	char full[32], path[4096];
	snprintf(full, sizeof(full), "tls.%s", key);
	const struct cfg_node *files = seq_of(c, tls, key, err, errlen, &bad);
	if (bad)
		return -1;
	for (const struct cfg_node *f = files ? files->child : NULL; f; f = f->next) {
		if (f->type != CFG_SCALAR || !f->value) {
			cfg_errf(c, f, err, errlen, "%s: each entry must be a file name", full);
			return -1;
		}
		resolve(c, f->value, path, sizeof(path));
		if (load_ca_file(s, full, path, enterprise, err, errlen) < 0) {
			char e2[512];
			util_strlcpy(e2, err, sizeof(e2));
			cfg_errf(c, f, err, errlen, "%s", e2);
			return -1;
		}
	}
	return 0;
}

static int trust_init(struct issuer_state *s, const struct cfg *c, char *err, size_t errlen)
{
	static const char *const tls_keys[] = { "ca_files", "system_roots", "public_ca_files", NULL };
	const struct cfg_node *tls = c ? cfg_get(c->root, "tls") : NULL;
	if (cfg_check_keys(c, tls, "tls", tls_keys, err, errlen) < 0)
		return -1;
	s->system_roots = true;
	if (cfg_bool(c, tls, "system_roots", &s->system_roots, err, errlen) < 0)
		return -1;
	s->store = X509_STORE_new();
	s->extra = sk_X509_new_null();
	s->enterprise = sk_X509_new_null();
	s->vctx = X509_STORE_CTX_new();
	if (!s->store || !s->extra || !s->enterprise || !s->vctx) {
		snprintf(err, errlen, "issuer: out of memory");
		return -1;
	}
	/* public_ca_files: roots to count as public besides (or, with system_roots:
	 * false, instead of) the system bundle, e.g. the roots of a capture's era. */
	if (load_ca_list(s, c, tls, "public_ca_files", false, err, errlen) < 0 ||
	    load_ca_list(s, c, tls, "ca_files", true, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n_cli_ca_files; i++)
		if (load_ca_file(s, "--ca-file", cli_ca_files[i], true, err, errlen) < 0)
			return -1;
	return 0;
}

/* Fills the store before the first verification: the system bundle first, then the
 * configured files in the order given, exactly as an eager load at init would (the
 * order decides which of two same-subject CAs chain building meets first). Only out of
 * memory fails (OpenSSL ignores a missing default bundle); the next verification then
 * tries again. */
static bool trust_load(struct issuer_state *s)
{
	if (s->trust_loaded)
		return true;
	if (s->system_roots && !X509_STORE_set_default_paths(s->store))
		return false;
	/* A certificate the store refuses (a duplicate in old OpenSSL versions) is
	 * skipped, as the eager load did. */
	for (int i = 0; i < sk_X509_num(s->extra); i++)
		X509_STORE_add_cert(s->store, sk_X509_value(s->extra, i));
	ERR_clear_error();
	sk_X509_pop_free(s->extra, X509_free);
	s->extra = NULL;
	s->trust_loaded = true;
	return true;
}

static int load_sig(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		    size_t errlen)
{
	struct issuer_state *s = ud;
	static const char *const kinds[] = { "cn", "cn_prefix", "o", "dn_contains", "spki_sha256" };
	if (s->nsigs == ISSUER_MAX_SIGS) {
		sig_errf(err, errlen, file, line, "more than %d records", ISSUER_MAX_SIGS);
		return -1;
	}
	struct isig *g = &s->sigs[s->nsigs];
	memset(g, 0, sizeof(*g));
	int k = -1;
	for (int i = 0; i < 5; i++)
		if (strcmp(cols[1], kinds[i]) == 0)
			k = i;
	if (k < 0) {
		sig_errf(err, errlen, file, line,
			 "match '%s' is not one of cn, cn_prefix, o, dn_contains, spki_sha256", cols[1]);
		return -1;
	}
	if (!cols[2][0]) {
		sig_errf(err, errlen, file, line, "empty pattern");
		return -1;
	}
	if (k == M_SPKI && parse_spki(cols[2], g->spki) < 0) {
		sig_errf(err, errlen, file, line, "pattern '%s' is not a SHA-256 (hex or base64)", cols[2]);
		return -1;
	}
	g->match = (uint8_t)k;
	util_strlcpy(g->id, cols[0], sizeof(g->id));
	util_strlcpy(g->pattern, cols[2], sizeof(g->pattern));
	util_strlcpy(g->product, cols[3], sizeof(g->product));
	util_strlcpy(g->category, cols[4], sizeof(g->category));
	util_strlcpy(g->reference, ncols > 5 ? cols[5] : "", sizeof(g->reference));
	s->nsigs++;
	return 0;
}

static struct pin *pin_add(struct issuer_state *s, const char *name, bool subs, const char *src,
			   const char *pinset, char *err, size_t errlen)
{
	if (s->npins == ISSUER_MAX_PINS) {
		snprintf(err, errlen, "more than %d pinned names", ISSUER_MAX_PINS);
		return NULL;
	}
	if (!s->pins) {
		s->pins = calloc(ISSUER_MAX_PINS, sizeof(*s->pins));
		if (!s->pins) {
			snprintf(err, errlen, "issuer: out of memory");
			return NULL;
		}
	}
	struct pin *p = &s->pins[s->npins++];
	memset(p, 0, sizeof(*p));
	size_t n = util_strlcpy(p->name, name, sizeof(p->name));
	for (size_t i = 0; i < n; i++)
		p->name[i] = (char)tolower((unsigned char)p->name[i]);
	p->subdomains = subs;
	p->source = src;
	util_strlcpy(p->pinset, pinset, sizeof(p->pinset));
	return p;
}

/* signatures/pinsets.csv: pinset,spki_sha256 (one row per key). */
struct pinset_row {
	char name[48];
	uint8_t spki[32];
};
struct pinsets {
	struct pinset_row *rows;
	size_t n, cap;
};

static int load_pinset(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		       size_t errlen)
{
	struct pinsets *ps = ud;
	(void)ncols;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 256;
		if (cap > 65536) {
			sig_errf(err, errlen, file, line, "too many pinset keys");
			return -1;
		}
		struct pinset_row *r = realloc(ps->rows, cap * sizeof(*r));
		if (!r) {
			sig_errf(err, errlen, file, line, "out of memory");
			return -1;
		}
		ps->rows = r;
		ps->cap = cap;
	}
	struct pinset_row *r = &ps->rows[ps->n];
	util_strlcpy(r->name, cols[0], sizeof(r->name));
	if (parse_spki(cols[1], r->spki) < 0) {
		sig_errf(err, errlen, file, line, "'%s' is not a SHA-256 SPKI hash", cols[1]);
		return -1;
	}
	ps->n++;
	return 0;
}

struct pin_load {
	struct issuer_state *s;
	struct pinsets *ps;
};

/* signatures/pins.csv: name,include_subdomains,pinset. */
static int load_pin(void *ud, const char *file, int line, char **cols, int ncols, char *err,
		    size_t errlen)
{
	struct pin_load *pl = ud;
	(void)ncols;
	bool subs = strcmp(cols[1], "true") == 0;
	if (!subs && strcmp(cols[1], "false") != 0) {
		sig_errf(err, errlen, file, line, "include_subdomains must be true or false");
		return -1;
	}
	char e[256];
	struct pin *p = pin_add(pl->s, cols[0], subs, "chromium", cols[2], e, sizeof(e));
	if (!p) {
		sig_errf(err, errlen, file, line, "%s", e);
		return -1;
	}
	for (size_t i = 0; i < pl->ps->n; i++) {
		if (strcmp(pl->ps->rows[i].name, cols[2]) != 0)
			continue;
		if (p->nspki < ISSUER_MAX_PIN_SPKIS)
			memcpy(p->spki[p->nspki++], pl->ps->rows[i].spki, 32);
	}
	if (!p->nspki) {
		sig_errf(err, errlen, file, line, "pinset '%s' has no keys in pinsets.csv", cols[2]);
		return -1;
	}
	return 0;
}

static int cfg_pins(struct issuer_state *s, const struct cfg *c, const struct cfg_node *sec,
		    char *err, size_t errlen)
{
	int bad;
	const struct cfg_node *pins = seq_of(c, sec, "pins", err, errlen, &bad);
	if (bad)
		return -1;
	static const char *const keys[] = { "name", "include_subdomains", "spki", NULL };
	for (const struct cfg_node *p = pins ? pins->child : NULL; p; p = p->next) {
		if (p->type != CFG_MAP) {
			cfg_errf(c, p, err, errlen, "detectors.issuer.pins: each entry is a map (name, include_subdomains, spki)");
			return -1;
		}
		if (cfg_check_keys(c, p, "detectors.issuer.pins[]", keys, err, errlen) < 0)
			return -1;
		const char *name = NULL;
		bool subs = false;
		if (cfg_str(c, p, "name", &name, err, errlen) < 0 ||
		    cfg_bool(c, p, "include_subdomains", &subs, err, errlen) < 0)
			return -1;
		if (!name || !name[0]) {
			cfg_errf(c, p, err, errlen, "detectors.issuer.pins: entry without a name");
			return -1;
		}
		char e[256];
		struct pin *pn = pin_add(s, name, subs, "config", "config", e, sizeof(e));
		if (!pn) {
			cfg_errf(c, p, err, errlen, "%s", e);
			return -1;
		}
		const struct cfg_node *sp = seq_of(c, p, "spki", err, errlen, &bad);
		if (bad)
			return -1;
		for (const struct cfg_node *k = sp ? sp->child : NULL; k; k = k->next) {
			if (k->type != CFG_SCALAR || !k->value || pn->nspki == ISSUER_MAX_PIN_SPKIS ||
			    parse_spki(k->value, pn->spki[pn->nspki]) < 0) {
				cfg_errf(c, k, err, errlen,
					 "detectors.issuer.pins: spki must be a SHA-256 (sha256/BASE64 or hex), at most %d",
					 ISSUER_MAX_PIN_SPKIS);
				return -1;
			}
			pn->nspki++;
		}
		if (!pn->nspki) {
			cfg_errf(c, p, err, errlen, "detectors.issuer.pins: %s has no spki", name);
			return -1;
		}
	}
	return 0;
}

static void slot_reset(struct vcache_slot *e)
{
	free(e->chain_json);
	e->chain_json = NULL;
	e->chain_len = 0;
	e->judged = false;
}

static void issuer_fini(void *state)
{
	struct issuer_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; s->vcache && i < s->vcache_sets * 4; i++)
		slot_reset(&s->vcache[i]);
	X509_STORE_CTX_free(s->vctx);
	X509_STORE_free(s->store);
	sk_X509_pop_free(s->extra, X509_free);
	sk_X509_pop_free(s->enterprise, X509_free);
	free(s->vcache);
	free(s->sigs);
	free(s->pins);
	det_lru_free(s->names);
	free(s);
}

static int issuer_init(void **state, const struct det_init *in)
{
	static const char *const keys[] = { "enabled", "verify", "verify_cache", "max_names",
					    "minted_window", "min_rsa_bits", "no_sct_since",
					    "sanctioned", "pins", "chromium_pins", NULL };
	const struct cfg *c = in->cfg;
	const struct cfg_node *sec = in->section;
	if (cfg_check_keys(c, sec, "detectors.issuer", keys, in->err, in->errlen) < 0)
		return -1;
	struct issuer_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(in->err, in->errlen, "issuer: out of memory");
		return -1;
	}
	uint64_t cache = ISSUER_DEFAULT_CACHE, names = ISSUER_DEFAULT_NAMES, minrsa = ISSUER_DEFAULT_MIN_RSA;
	bool chromium = false;
	const char *since = ISSUER_DEFAULT_NO_SCT_SINCE;
	s->verify = true;
	s->minted_s = ISSUER_DEFAULT_MINTED_S;
	if (cfg_bool(c, sec, "verify", &s->verify, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "verify_cache", 16, 1u << 24, &cache, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "max_names", 16, DET_LRU_MAX_CAP, &names, in->err, in->errlen) < 0 ||
	    cfg_duration(c, sec, "minted_window", 0, 365u * 86400u, &s->minted_s, in->err, in->errlen) < 0 ||
	    cfg_uint(c, sec, "min_rsa_bits", 512, 16384, &minrsa, in->err, in->errlen) < 0 ||
	    cfg_str(c, sec, "no_sct_since", &since, in->err, in->errlen) < 0 ||
	    cfg_bool(c, sec, "chromium_pins", &chromium, in->err, in->errlen) < 0)
		goto fail;
	if (parse_date(since, &s->no_sct_since) < 0) {
		cfg_errf(c, sec ? cfg_get(sec, "no_sct_since") : NULL, in->err, in->errlen,
			 "detectors.issuer.no_sct_since: '%s' is not a date YYYY-MM-DD", since);
		goto fail;
	}
	s->min_rsa = (uint32_t)minrsa;
	s->cold_start = in->cold_start;
	s->learning_us = in->learning_s * 1000000u;

	int bad;
	const struct cfg_node *sa = seq_of(c, sec, "sanctioned", in->err, in->errlen, &bad);
	if (bad)
		goto fail;
	for (const struct cfg_node *n = sa ? sa->child : NULL; n; n = n->next) {
		if (n->type != CFG_SCALAR || !n->value || !n->value[0] ||
		    s->nsanctioned == ISSUER_MAX_SANCTIONED) {
			cfg_errf(c, n, in->err, in->errlen,
				 "detectors.issuer.sanctioned: entries are issuer DN substrings or spki:<sha256>, at most %d",
				 ISSUER_MAX_SANCTIONED);
			goto fail;
		}
		util_strlcpy(s->sanctioned[s->nsanctioned++], n->value, sizeof(s->sanctioned[0]));
	}

	s->vcache_sets = (size_t)(cache + 3) / 4;
	s->vcache = calloc(s->vcache_sets * 4, sizeof(*s->vcache));
	s->names = det_lru_new((size_t)names, sizeof(struct name_base));
	s->sigs = calloc(ISSUER_MAX_SIGS, sizeof(*s->sigs));
	if (!s->vcache || !s->names || !s->sigs) {
		snprintf(in->err, in->errlen, "issuer: out of memory for %llu names",
			 (unsigned long long)names);
		goto fail;
	}
	dec_digest_init(); /* chains are keyed by SHA-256: load it at startup */
	if (trust_init(s, c, in->err, in->errlen) < 0)
		goto fail;
	if (sig_csv_load(in->sig_dir, "interception-cas.csv", 5, load_sig, s, in->err, in->errlen) < 0)
		goto fail;
	if (cfg_pins(s, c, sec, in->err, in->errlen) < 0)
		goto fail;
	if (chromium) {
		struct pinsets ps = { NULL, 0, 0 };
		struct pin_load pl = { s, &ps };
		int r = sig_csv_load(in->sig_dir, "pinsets.csv", 2, load_pinset, &ps, in->err, in->errlen);
		if (r >= 0)
			r = sig_csv_load(in->sig_dir, "pins.csv", 3, load_pin, &pl, in->err, in->errlen);
		free(ps.rows);
		if (r < 0)
			goto fail;
	}
	*state = s;
	return 0;
fail:
	issuer_fini(s);
	return -1;
}

/* ---- verification ---- */

static int64_t x509_time(const ASN1_TIME *t, bool *ok)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		*ok = false;
		return 0;
	}
	*ok = true;
	return days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
			       (unsigned)tm.tm_mday) * 86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

/* Narrows [lo, hi) around t by one certificate's validity boundaries. */
static void span(struct vres *v, int64_t t, X509 *x)
{
	bool ok1, ok2;
	int64_t nb = x509_time(X509_get0_notBefore(x), &ok1);
	int64_t na = x509_time(X509_get0_notAfter(x), &ok2);
	int64_t b[2] = { nb, na + 1 };
	for (int i = 0; i < 2; i++) {
		if (!(i ? ok2 : ok1))
			continue;
		if (b[i] <= t && b[i] > v->lo)
			v->lo = b[i];
		if (b[i] > t && b[i] < v->hi)
			v->hi = b[i];
	}
}

static uint32_t err_kind(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return VF_TIME;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return VF_SELF_LEAF;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return VF_UNTRUSTED;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
		return VF_SIG;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_INVALID_EXTENSION:
	case X509_V_ERR_INVALID_NON_CA:
		return VF_PURPOSE;
	default:
		return VF_OTHER;
	}
}

/* Collects every complaint instead of stopping at the first, so one pass says both
 * "expired" and "untrusted". */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct vres *v = X509_STORE_CTX_get_app_data(ctx);
	if (ok || !v)
		return 1;
	int e = X509_STORE_CTX_get_error(ctx), d = X509_STORE_CTX_get_error_depth(ctx);
	uint32_t k = err_kind(e);
	v->flags |= k;
	if (k == VF_TIME) {
		if (!v->time_err) {
			v->time_err = e;
			v->time_depth = d;
		}
	} else if (!v->err) {
		v->err = e;
		v->depth = d;
	}
	return 1;
}

static void chain_key(const struct cert_chain *ch, uint8_t out[32])
{
	uint8_t buf[CERT_MAX_CHAIN * 32];
	for (unsigned i = 0; i < ch->n; i++)
		memcpy(buf + 32 * i, ch->c[i]->sha256, 32);
	dec_sha256(buf, 32u * ch->n, out);
}

static bool is_enterprise(const struct issuer_state *s, X509 *x)
{
	for (int i = 0; i < sk_X509_num(s->enterprise); i++)
		if (X509_cmp(sk_X509_value(s->enterprise, i), x) == 0)
			return true;
	return false;
}

static void do_verify(struct issuer_state *s, const struct cert_chain *ch, int64_t t, struct vres *v)
{
	memset(v, 0, sizeof(*v));
	v->lo = INT64_MIN;
	v->hi = INT64_MAX;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	for (unsigned i = 1; untrusted && i < ch->n; i++)
		if (ch->c[i]->x509)
			sk_X509_push(untrusted, ch->c[i]->x509);
	X509_STORE_CTX *ctx = s->vctx;
	if (!untrusted || !trust_load(s) ||
	    !X509_STORE_CTX_init(ctx, s->store, ch->c[0]->x509, untrusted)) {
		v->flags = VF_OTHER;
		v->err = X509_V_ERR_OUT_OF_MEM;
		sk_X509_free(untrusted);
		return;
	}
	X509_STORE_CTX_set_app_data(ctx, v);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, (time_t)t);
	/* An enterprise CA file may hold an intermediate or a server certificate:
	 * trust what was given, not only self-signed roots. */
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	int r = X509_verify_cert(ctx);
	if (r <= 0 && !v->flags) {
		v->flags = VF_OTHER;
		v->err = X509_STORE_CTX_get_error(ctx);
	}
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	int nb = built ? sk_X509_num(built) : 0;
	for (int i = 0; i < nb; i++) {
		X509 *x = sk_X509_value(built, i);
		span(v, t, x);
		if (v->nspki < ONPATH_ARRAY_LEN(v->spki)) {
			unsigned char *der = NULL;
			int l = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
			if (l > 0)
				dec_sha256(der, (size_t)l, v->spki[v->nspki++]);
			OPENSSL_free(der);
		}
	}
	for (unsigned i = 0; i < ch->n; i++)
		if (ch->c[i]->x509)
			span(v, t, ch->c[i]->x509);
	if (!(v->flags & VF_NOT_TRUSTED) && nb > 0) {
		X509 *top = sk_X509_value(built, nb - 1);
		v->anchor = is_enterprise(s, top) ? ANCHOR_ENTERPRISE : ANCHOR_PUBLIC;
		char buf[CERT_NAME_MAX];
		buf[0] = '\0';
		BIO *b = BIO_new(BIO_s_mem());
		if (b) {
			if (X509_NAME_print_ex(b, X509_get_subject_name(top), 0,
					       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
				int l = BIO_read(b, buf, (int)sizeof(buf) - 1);
				buf[l > 0 ? l : 0] = '\0';
			}
			BIO_free(b);
		}
		util_strlcpy(v->anchor_subject, buf, sizeof(v->anchor_subject));
	}
	X509_STORE_CTX_cleanup(ctx);
	sk_X509_free(untrusted);
}

static struct vcache_slot *verify(struct issuer_state *s, const struct cert_chain *ch, int64_t t)
{
	uint8_t key[32];
	chain_key(ch, key);
	uint32_t h = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	struct vcache_slot *set = &s->vcache[(h % s->vcache_sets) * 4];
	for (int w = 0; w < 4; w++) {
		struct vcache_slot *e = &set[w];
		if (e->valid && memcmp(e->key, key, 32) == 0 && t >= e->r.lo && t < e->r.hi) {
			e->used = ++s->vtick;
			s->cache_hits++;
			return e;
		}
	}
	int victim = 0;
	for (int w = 0; w < 4; w++) {
		if (set[w].valid && memcmp(set[w].key, key, 32) == 0) {
			victim = w; /* the same chain at another time: replace it */
			break;
		}
		if (set[w].used < set[victim].used)
			victim = w;
	}
	struct vcache_slot *e = &set[victim];
	s->verifications++;
	slot_reset(e);
	do_verify(s, ch, t, &e->r);
	memcpy(e->key, key, 32);
	e->valid = true;
	e->used = ++s->vtick;
	return e;
}

/* ---- matching ---- */

static bool sig_matches(const struct isig *g, const struct cert *c)
{
	bool ca = c->is_ca || c->self_issued;
	switch (g->match) {
	case M_CN_EQ:
		return ci_eqn(c->issuer_cn, c->issuer_cn_len, g->pattern) ||
		       (ca && ci_eqn(c->subject_cn, c->subject_cn_len, g->pattern));
	case M_CN_PREFIX: {
		size_t n = strlen(g->pattern);
		return (c->issuer_cn_len >= n && strncasecmp(c->issuer_cn, g->pattern, n) == 0) ||
		       (ca && c->subject_cn_len >= n && strncasecmp(c->subject_cn, g->pattern, n) == 0);
	}
	case M_O_EQ:
		return ci_eqn(c->issuer_o, c->issuer_o_len, g->pattern);
	case M_DN_CONTAINS:
		return ci_contains(c->issuer, g->pattern) || (ca && ci_contains(c->subject, g->pattern));
	case M_SPKI:
		return memcmp(c->spki_sha256, g->spki, 32) == 0;
	}
	return false;
}

static const struct isig *find_product(const struct issuer_state *s, const struct cert_chain *ch,
				       const struct vres *v, unsigned *at)
{
	for (size_t i = 0; i < s->nsigs; i++) {
		const struct isig *g = &s->sigs[i];
		for (unsigned j = 0; j < ch->n; j++) {
			if (ch->c[j]->x509 && sig_matches(g, ch->c[j])) {
				*at = j;
				return g;
			}
		}
		if (g->match == M_SPKI && v) {
			for (unsigned j = 0; j < v->nspki; j++) {
				if (memcmp(v->spki[j], g->spki, 32) == 0) {
					*at = ch->n ? ch->n - 1 : 0;
					return g;
				}
			}
		}
	}
	return NULL;
}

static bool sanctioned(const struct issuer_state *s, const struct cert_chain *ch, const struct vres *v)
{
	if (v && v->anchor == ANCHOR_ENTERPRISE)
		return true;
	for (size_t i = 0; i < s->nsanctioned; i++) {
		const char *p = s->sanctioned[i];
		uint8_t spki[32];
		bool is_spki = strncmp(p, "spki:", 5) == 0 && parse_spki(p + 5, spki) == 0;
		for (unsigned j = 0; j < ch->n; j++) {
			const struct cert *c = ch->c[j];
			if (is_spki ? memcmp(c->spki_sha256, spki, 32) == 0
				    : (ci_contains(c->issuer, p) || ci_contains(c->subject, p)))
				return true;
		}
	}
	return false;
}

static const struct pin *find_pin(const struct issuer_state *s, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < s->npins; i++) {
		const struct pin *p = &s->pins[i];
		size_t pl = strlen(p->name);
		if (n == pl && memcmp(name, p->name, n) == 0)
			return p;
		if (p->subdomains && n > pl + 1 && name[n - pl - 1] == '.' &&
		    memcmp(name + n - pl, p->name, pl) == 0)
			return p;
	}
	return NULL;
}

/* ---- evidence ---- */

static void ev_cert(struct jw *w, const struct cert *c, bool leaf)
{
	char t[32], hx[65];
	jw_obj_open(w, NULL);
	jw_str(w, "subject", c->subject);
	jw_str(w, "issuer", c->issuer);
	if (c->validity_ok) {
		ts_text(c->not_before, t);
		jw_str(w, "not_before", t);
		ts_text(c->not_after, t);
		jw_str(w, "not_after", t);
	}
	jw_str(w, "serial", c->serial);
	jw_str(w, "key", c->key_name);
	jw_int(w, "key_bits", c->key_bits);
	jw_str(w, "sig_alg", c->sig_alg);
	hex_of(c->sha256, 32, hx);
	jw_str(w, "sha256", hx);
	hex_of(c->sha1, 20, hx);
	jw_str(w, "sha1", hx);
	hex_of(c->spki_sha256, 32, hx);
	jw_str(w, "spki_sha256", hx);
	jw_bool(w, "sct", c->has_sct);
	if (c->self_issued)
		jw_bool(w, "self_signed", c->self_signed);
	if (leaf && c->nsans) {
		jw_arr_open(w, "sans");
		for (unsigned i = 0; i < c->nsans && i < 16; i++)
			jw_strn(w, NULL, dec_cert_san(c, i), c->san_len[i]);
		jw_arr_close(w);
	}
	if (c->parse_err)
		jw_str(w, "parse_error", "not DER X.509");
	jw_obj_close(w);
}

static void ev_chain(struct jw *w, const char *key, const struct cert_chain *ch)
{
	jw_arr_open(w, key);
	for (unsigned i = 0; i < ch->n; i++)
		ev_cert(w, ch->c[i], i == 0);
	jw_arr_close(w);
}

static const char *anchor_str(uint8_t a)
{
	return a == ANCHOR_PUBLIC ? "public" : a == ANCHOR_ENTERPRISE ? "enterprise" : "none";
}

static void ev_verify(struct jw *w, const struct vres *v)
{
	if (!v) {
		jw_str(w, "verify", "disabled");
		return;
	}
	jw_str(w, "trust_anchor", anchor_str(v->anchor));
	if (v->anchor)
		jw_str(w, "anchor_subject", v->anchor_subject);
	if (v->err) {
		jw_str(w, "verify_error", X509_verify_cert_error_string(v->err));
		jw_int(w, "verify_error_depth", v->depth);
	}
	if (v->time_err) {
		jw_str(w, "validity_error", X509_verify_cert_error_string(v->time_err));
		jw_int(w, "validity_error_depth", v->time_depth);
	}
}

/* What every alert of a handshake shares. */
struct hs {
	const struct tls_ev *ev;
	const struct cert_chain *ch;
	const struct cert *leaf;
	const struct vres *v;
	char name[ISSUER_NAME_MAX + 1]; /* judged name, lowercase */
	char name_safe[ISSUER_NAME_MAX + 1];
	const char *name_from;          /* "sni", "san", "cn" or NULL */
	bool sni;
	char leaf_hex[17];
	const char *chain_json;         /* cached "chain" value, or NULL */
	size_t chain_len;
};

static void begin(struct alert *a, const struct hs *h, int type)
{
	const struct ev_meta *m = &h->ev->m;
	alert_begin(a, &issuer_types[type], m->ts_us);
	/* The sender of the chain (the server, or whatever answers for it) is the
	 * source; the client is the destination. */
	det_alert_from_meta(a, m);
	if (h->sni)
		jw_str(&a->ev, "sni", h->name);
	else if (h->name_from)
		jw_str(&a->ev, "name", h->name);
	if (h->ev->server) {
		jw_str(&a->ev, "ja3s", h->ev->server->ja3);
		jw_str(&a->ev, "ja4s", h->ev->server->ja4);
	}
	if (h->ev->client)
		jw_str(&a->ev, "ja4", h->ev->client->ja4);
}

static void finish(struct alert_pipe *out, struct alert *a, const struct hs *h, bool chain)
{
	if (chain) {
		ev_verify(&a->ev, h->v);
		if (h->chain_json)
			jw_raw(&a->ev, "chain", h->chain_json, h->chain_len);
		else
			ev_chain(&a->ev, "chain", h->ch);
		if (h->ch->total > h->ch->n)
			jw_uint(&a->ev, "chain_length", h->ch->total);
	}
	alert_emit(out, a);
}

/* ---- baselines ---- */

static uint64_t dn_hash(const char *dn)
{
	return util_hash64(dn, strlen(dn), 0x697373756572ull);
}

static void base_add_iss(struct name_base *b, uint64_t h, const char *dn, uint8_t anchor, uint64_t ts)
{
	int slot = b->niss < ISSUER_HIST ? b->niss++ : 0;
	if (slot == 0 && b->niss == ISSUER_HIST)
		for (int i = 1; i < ISSUER_HIST; i++)
			if (b->iss[i].last_us < b->iss[slot].last_us)
				slot = i;
	struct nb_iss *e = &b->iss[slot];
	e->h = h;
	e->first_us = e->last_us = ts;
	e->anchor = anchor;
	util_strlcpy(e->dn, dn, sizeof(e->dn));
}

static void base_add_key(struct name_base *b, const uint8_t spki[32], uint64_t ts)
{
	int slot = b->nkey < ISSUER_HIST ? b->nkey++ : 0;
	if (slot == 0 && b->nkey == ISSUER_HIST)
		for (int i = 1; i < ISSUER_HIST; i++)
			if (b->key[i].last_us < b->key[slot].last_us)
				slot = i;
	memcpy(b->key[slot].spki, spki, 32);
	b->key[slot].first_us = b->key[slot].last_us = ts;
}

static void judge_changed(struct issuer_state *s, const struct hs *h, struct alert_pipe *out)
{
	if (!h->name_from)
		return;
	const struct cert *leaf = h->leaf;
	uint64_t ts = h->ev->m.ts_us;
	uint64_t ih = dn_hash(leaf->issuer);
	uint8_t anchor = h->v ? h->v->anchor : ANCHOR_NONE;
	bool created;
	struct name_base *b = det_lru_put(s->names, h->name, &created);
	if (!b)
		return;
	if (created) {
		base_add_iss(b, ih, leaf->issuer, anchor, ts);
		base_add_key(b, leaf->spki_sha256, ts);
		return;
	}
	int iss_at = -1, key_at = -1;
	for (int i = 0; i < b->niss; i++)
		if (b->iss[i].h == ih)
			iss_at = i;
	for (int i = 0; i < b->nkey; i++)
		if (memcmp(b->key[i].spki, leaf->spki_sha256, 32) == 0)
			key_at = i;
	if (iss_at >= 0)
		b->iss[iss_at].last_us = ts;
	if (key_at >= 0)
		b->key[key_at].last_us = ts;
	if (iss_at >= 0 && key_at >= 0)
		return;
	bool old_public = false;
	for (int i = 0; i < b->niss; i++)
		if (b->iss[i].anchor == ANCHOR_PUBLIC)
			old_public = true;
	bool learning = s->cold_start && ts - s->first_us < s->learning_us;
	/* While the baseline forms, a publicly trusted newcomer is a second CA or a key
	 * rotation, learnt quietly; a chain that is not publicly trusted is never. */
	bool quiet = learning && anchor == ANCHOR_PUBLIC;
	if (!quiet) {
		struct alert a;
		begin(&a, h, T_CHANGED);
		char nm[80];
		det_printable(nm, sizeof(nm), h->name, strlen(h->name), '?');
		if (iss_at < 0) {
			/* A name that had a public issuer now served by one that is not: the
			 * shape of interception. Public to public is a CA switch. */
			if (old_public && anchor != ANCHOR_PUBLIC) {
				a.severity = 8;
				a.confidence = CONF_HIGH;
			} else if (anchor == ANCHOR_PUBLIC) {
				a.severity = 4;
				a.confidence = CONF_MEDIUM;
			} else {
				a.confidence = CONF_MEDIUM;
			}
			char o[80], n2[80];
			det_printable(o, sizeof(o), b->iss[0].dn, strlen(b->iss[0].dn), '?');
			det_printable(n2, sizeof(n2), leaf->issuer, strlen(leaf->issuer), '?');
			snprintf(a.message, sizeof(a.message),
				 "%s is now served by a certificate from %s (%s trust) instead of %s", nm, n2,
				 anchor_str(anchor), o);
		} else {
			a.severity = 3;
			a.confidence = CONF_LOW;
			snprintf(a.message, sizeof(a.message),
				 "%s presented a new leaf key from its usual issuer (key rotation or re-issue)", nm);
		}
		snprintf(a.key, sizeof(a.key), "%.100s %016llx %s", h->name, (unsigned long long)ih, h->leaf_hex);
		jw_str(&a.ev, "change", iss_at < 0 ? "issuer" : "key");
		jw_arr_open(&a.ev, "old_issuers");
		for (int i = 0; i < b->niss; i++) {
			jw_obj_open(&a.ev, NULL);
			jw_str(&a.ev, "issuer", b->iss[i].dn);
			jw_str(&a.ev, "trust", anchor_str(b->iss[i].anchor));
			jw_ts(&a.ev, "first_seen", b->iss[i].first_us);
			jw_ts(&a.ev, "last_seen", b->iss[i].last_us);
			jw_obj_close(&a.ev);
		}
		jw_arr_close(&a.ev);
		jw_arr_open(&a.ev, "old_spki_sha256");
		char hx[65];
		for (int i = 0; i < b->nkey; i++) {
			hex_of(b->key[i].spki, 32, hx);
			jw_str(&a.ev, NULL, hx);
		}
		jw_arr_close(&a.ev);
		jw_str(&a.ev, "new_issuer", leaf->issuer);
		hex_of(leaf->spki_sha256, 32, hx);
		jw_str(&a.ev, "new_spki_sha256", hx);
		finish(out, &a, h, true);
	}
	if (iss_at < 0)
		base_add_iss(b, ih, leaf->issuer, anchor, ts);
	if (key_at < 0)
		base_add_key(b, leaf->spki_sha256, ts);
}

/* ---- the judgment of one chain ---- */

static bool weak_key(const struct issuer_state *s, const struct cert *c, char *why, size_t cap)
{
	if ((c->key_type == CERT_KEY_RSA || c->key_type == CERT_KEY_DSA) && c->key_bits > 0 &&
	    (uint32_t)c->key_bits < s->min_rsa) {
		snprintf(why, cap, "%s key of %d bits", c->key_name, c->key_bits);
		return true;
	}
	if (c->key_type == CERT_KEY_EC && c->key_bits > 0 && c->key_bits < 224) {
		snprintf(why, cap, "%s key of %d bits", c->key_name, c->key_bits);
		return true;
	}
	if (c->sig_weak) {
		snprintf(why, cap, "signed with %s", c->sig_alg);
		return true;
	}
	return false;
}

/* A DNS-looking name (for the SAN/CN fallback: "AnyNet Relay" is no server name). */
static bool hostname_like(const char *s, size_t n)
{
	if (!n || !memchr(s, '.', n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == '*'))
			return false;
	}
	return true;
}

static void set_name(struct hs *h)
{
	const struct tls_hello *ch = h->ev->client;
	const struct cert *leaf = h->leaf;
	const char *src = NULL;
	size_t n = 0;
	if (ch && ch->sni_len && !memchr(ch->sni, 0, ch->sni_len)) {
		src = ch->sni;
		n = ch->sni_len;
		h->name_from = "sni";
		h->sni = true;
	} else if (leaf->nsans) {
		for (unsigned i = 0; i < leaf->nsans; i++) {
			const char *x = dec_cert_san(leaf, i);
			if (x[0] != '*' && hostname_like(x, leaf->san_len[i])) {
				src = x;
				n = leaf->san_len[i];
				h->name_from = "san";
				break;
			}
		}
	}
	if (!src && hostname_like(leaf->subject_cn, leaf->subject_cn_len)) {
		src = leaf->subject_cn;
		n = leaf->subject_cn_len;
		h->name_from = "cn";
	}
	if (!src)
		return;
	if (n > ISSUER_NAME_MAX)
		n = ISSUER_NAME_MAX;
	while (n && src[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		h->name[i] = (char)tolower((unsigned char)src[i]);
	h->name[n] = '\0';
	det_printable(h->name_safe, sizeof(h->name_safe), h->name, n, '?');
}

static bool name_covered(const struct cert *leaf, const char *name)
{
	unsigned char ip[16];
	if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
		return X509_check_ip_asc(leaf->x509, name, 0) == 1;
	return X509_check_host(leaf->x509, name, strlen(name), 0, NULL) == 1;
}

static void issuer_on_tls(void *state, const struct tls_ev *ev, struct alert_pipe *out)
{
	struct issuer_state *s = state;
	if (!s->first_us)
		s->first_us = ev->m.ts_us;
	const struct cert_chain *ch = ev->chain;
	if (!ch || !ch->n || !ch->c[0]->x509)
		return;
	struct hs h;
	memset(&h, 0, sizeof(h));
	h.ev = ev;
	h.ch = ch;
	h.leaf = ch->c[0];
	hex_of(h.leaf->sha256, 8, h.leaf_hex);
	set_name(&h);
	int64_t t = (int64_t)(ev->m.ts_us / 1000000u);
	struct vcache_slot *slot = s->verify ? verify(s, ch, t) : NULL;
	h.v = slot ? &slot->r : NULL;
	const struct vres *v = h.v;
	const char *nm = h.name_from ? h.name_safe : "(no name)";
	bool sanc;
	unsigned at = 0;
	const struct isig *g;
	if (slot && slot->judged) {
		sanc = slot->sanc;
		g = slot->prod;
		at = slot->prod_at;
	} else {
		sanc = sanctioned(s, ch, v);
		g = find_product(s, ch, v, &at);
		if (slot) {
			struct jw w;
			jw_init(&w);
			ev_chain(&w, NULL, ch);
			slot->chain_json = jw_take(&w, &slot->chain_len);
			jw_free(&w); /* jw_take re-initialised it */
			slot->sanc = sanc;
			slot->prod = g;
			slot->prod_at = at;
			slot->judged = true;
		}
	}
	if (slot && slot->chain_json) {
		h.chain_json = slot->chain_json;
		h.chain_len = slot->chain_len;
	}
	struct alert a;

	/* Interception products. */
	if (g) {
		begin(&a, &h, T_PRODUCT);
		a.confidence = CONF_HIGH;
		if (sanc)
			a.severity = 3;
		jw_str(&a.ev, "product", g->product);
		jw_str(&a.ev, "category", g->category);
		jw_str(&a.ev, "signature", g->id);
		jw_str(&a.ev, "rule", g->pattern);
		jw_str(&a.ev, "reference", g->reference);
		jw_bool(&a.ev, "sanctioned", sanc);
		jw_uint(&a.ev, "matched_depth", at);
		char iss[96];
		det_printable(iss, sizeof(iss), ch->c[at]->issuer, strlen(ch->c[at]->issuer), '?');
		snprintf(a.message, sizeof(a.message), "%s was served a certificate from %s (%s, %s)%s", nm,
			 iss, g->product, g->category, sanc ? "; sanctioned by configuration" : "");
		snprintf(a.key, sizeof(a.key), "%s %.100s", g->id, h.name);
		finish(out, &a, &h, true);
	}

	/* Trust. */
	if (v && (v->flags & (VF_UNTRUSTED | VF_SIG | VF_PURPOSE | VF_OTHER))) {
		begin(&a, &h, T_UNTRUSTED);
		a.confidence = CONF_MEDIUM;
		if (g && !sanc) {
			a.severity = 8;
			a.confidence = CONF_HIGH;
		} else if (v->flags & VF_SIG) {
			a.severity = 7; /* a signature that does not verify is forged or broken */
		}
		char iss[96];
		det_printable(iss, sizeof(iss), h.leaf->issuer, strlen(h.leaf->issuer), '?');
		snprintf(a.message, sizeof(a.message),
			 "certificate chain for %s (issuer %s) does not verify to the trust store: %s", nm, iss,
			 X509_verify_cert_error_string(v->err));
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	/* Self-signed: the leaf is its own issuer (and OpenSSL says so, or it is alone). */
	if (h.leaf->self_issued && (ch->n == 1 || (v && (v->flags & VF_SELF_LEAF)) || h.leaf->self_signed) &&
	    !(v && v->anchor)) {
		begin(&a, &h, T_SELF_SIGNED);
		a.confidence = CONF_HIGH;
		char sub[96];
		det_printable(sub, sizeof(sub), h.leaf->subject, strlen(h.leaf->subject), '?');
		snprintf(a.message, sizeof(a.message), "%s presented a self-signed certificate (%s)", nm, sub);
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	/* Validity at the packet time (with verification off: the leaf's dates). */
	bool expired = v ? (v->flags & VF_TIME) != 0
			 : (h.leaf->validity_ok && (t < h.leaf->not_before || t > h.leaf->not_after));
	if (expired) {
		begin(&a, &h, T_EXPIRED);
		a.confidence = CONF_HIGH;
		int depth = v ? v->time_depth : 0;
		const struct cert *c = depth >= 0 && (unsigned)depth < ch->n ? ch->c[depth] : h.leaf;
		char when[32];
		ts_text(t < c->not_before ? c->not_before : c->not_after, when);
		bool early = t < c->not_before;
		snprintf(a.message, sizeof(a.message), "certificate %u of the chain for %s %s %s", (unsigned)depth, nm,
			 early ? "is not valid before" : "expired on", when);
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	/* Name coverage, for the name the client asked for. */
	if (h.sni && !name_covered(h.leaf, h.name)) {
		begin(&a, &h, T_NAME_MISMATCH);
		a.confidence = CONF_HIGH;
		char cn[80];
		if (h.leaf->subject_cn_len)
			det_printable(cn, sizeof(cn), h.leaf->subject_cn, h.leaf->subject_cn_len, '?');
		else
			det_printable(cn, sizeof(cn), h.leaf->subject, strlen(h.leaf->subject), '?');
		snprintf(a.message, sizeof(a.message),
			 "client asked for %s but the certificate (%s%s, %u SANs) does not cover it", nm,
			 h.leaf->subject_cn_len ? "CN " : "", cn, (unsigned)h.leaf->nsans);
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	char why[96];
	if (weak_key(s, h.leaf, why, sizeof(why))) {
		begin(&a, &h, T_WEAK_KEY);
		a.confidence = CONF_HIGH;
		snprintf(a.message, sizeof(a.message), "leaf certificate of %s: %s", nm, why);
		jw_str(&a.ev, "weakness", why);
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	/* Pins. */
	if (s->npins && h.name_from) {
		const struct pin *p = find_pin(s, h.name);
		if (p) {
			bool hit = false;
			for (unsigned i = 0; i < ch->n && !hit; i++)
				for (unsigned k = 0; k < p->nspki && !hit; k++)
					hit = memcmp(ch->c[i]->spki_sha256, p->spki[k], 32) == 0;
			for (unsigned i = 0; v && i < v->nspki && !hit; i++)
				for (unsigned k = 0; k < p->nspki && !hit; k++)
					hit = memcmp(v->spki[i], p->spki[k], 32) == 0;
			if (!hit) {
				begin(&a, &h, T_PIN);
				a.confidence = CONF_HIGH;
				if (sanc)
					a.severity = 3;
				jw_str(&a.ev, "pinned_name", p->name);
				jw_bool(&a.ev, "include_subdomains", p->subdomains);
				jw_str(&a.ev, "pin_source", p->source);
				jw_str(&a.ev, "pinset", p->pinset);
				jw_bool(&a.ev, "sanctioned", sanc);
				jw_arr_open(&a.ev, "pinned_spki_sha256");
				char hx[65];
				for (unsigned k = 0; k < p->nspki && k < 16; k++) {
					hex_of(p->spki[k], 32, hx);
					jw_str(&a.ev, NULL, hx);
				}
				jw_arr_close(&a.ev);
				snprintf(a.message, sizeof(a.message),
					 "%s is pinned (%s) but its chain holds none of the %u pinned keys", nm,
					 p->pinset, (unsigned)p->nspki);
				snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
				finish(out, &a, &h, true);
			}
		}
	}

	/* CT: only public chains are subject to it. */
	if (v && v->anchor == ANCHOR_PUBLIC && !(v->flags & VF_TIME) && !h.leaf->has_sct &&
	    !(ev->server && ev->server->has_sct_ext) && h.leaf->validity_ok &&
	    h.leaf->not_before >= s->no_sct_since) {
		begin(&a, &h, T_NO_SCT);
		a.confidence = CONF_MEDIUM;
		snprintf(a.message, sizeof(a.message),
			 "publicly trusted certificate for %s carries no SCT (embedded or in the handshake)", nm);
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	/* A leaf minted moments ago by an issuer that is not public. */
	if (s->minted_s && h.leaf->validity_ok && !(v && v->anchor != ANCHOR_NONE) &&
	    h.leaf->not_before <= t + ISSUER_MINT_SKEW_S && t - h.leaf->not_before <= (int64_t)s->minted_s) {
		begin(&a, &h, T_MINTED);
		a.confidence = CONF_MEDIUM;
		if (g && !sanc)
			a.severity = 7;
		char when[32];
		ts_text(h.leaf->not_before, when);
		jw_int(&a.ev, "age_s", t - h.leaf->not_before);
		snprintf(a.message, sizeof(a.message),
			 "certificate for %s was issued at %s, %lld s before it was seen, by an issuer that is not public",
			 nm, when, (long long)(t - h.leaf->not_before));
		snprintf(a.key, sizeof(a.key), "%.100s %s", h.name, h.leaf_hex);
		finish(out, &a, &h, true);
	}

	judge_changed(s, &h, out);
}

/* ---- persistence ---- */

static void save_one(void *ud, const char *key, void *value)
{
	json_t *arr = ud;
	const struct name_base *b = value;
	json_t *o = json_object(), *is = json_array(), *ks = json_array();
	char hx[65];
	for (int i = 0; i < b->niss; i++) {
		char h[17];
		snprintf(h, sizeof(h), "%016llx", (unsigned long long)b->iss[i].h);
		json_array_append_new(is, json_pack("{s:s,s:s,s:i,s:I,s:I}", "h", h, "dn", b->iss[i].dn, "a",
						    (int)b->iss[i].anchor, "f", (json_int_t)b->iss[i].first_us,
						    "l", (json_int_t)b->iss[i].last_us));
	}
	for (int i = 0; i < b->nkey; i++) {
		hex_of(b->key[i].spki, 32, hx);
		json_array_append_new(ks, json_pack("{s:s,s:I,s:I}", "s", hx, "f",
						    (json_int_t)b->key[i].first_us, "l",
						    (json_int_t)b->key[i].last_us));
	}
	json_object_set_new(o, "n", json_string(key));
	json_object_set_new(o, "i", is);
	json_object_set_new(o, "k", ks);
	json_array_append_new(arr, o);
}

static json_t *issuer_save(void *state)
{
	struct issuer_state *s = state;
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	det_lru_each(s->names, save_one, arr);
	return json_pack("{s:i,s:o}", "version", 1, "names", arr);
}

static int issuer_load(void *state, const json_t *saved, char *err, size_t errlen)
{
	struct issuer_state *s = state;
	json_t *names = json_object_get(saved, "names");
	if (json_integer_value(json_object_get(saved, "version")) != 1 || !json_is_array(names)) {
		snprintf(err, errlen, "issuer: state is not version 1 with a names list");
		return -1;
	}
	size_t i;
	json_t *o;
	json_array_foreach(names, i, o) {
		const char *n = json_string_value(json_object_get(o, "n"));
		json_t *is = json_object_get(o, "i"), *ks = json_object_get(o, "k");
		if (!n || !json_is_array(is) || !json_is_array(ks)) {
			snprintf(err, errlen, "issuer: state entry %zu is malformed", i);
			return -1;
		}
		bool created;
		struct name_base *b = det_lru_put(s->names, n, &created);
		if (!b)
			continue;
		memset(b, 0, sizeof(*b));
		size_t j;
		json_t *e;
		json_array_foreach(is, j, e) {
			if (b->niss == ISSUER_HIST)
				break;
			const char *h = json_string_value(json_object_get(e, "h"));
			const char *dn = json_string_value(json_object_get(e, "dn"));
			if (!h || !dn)
				continue;
			struct nb_iss *x = &b->iss[b->niss++];
			x->h = strtoull(h, NULL, 16);
			util_strlcpy(x->dn, dn, sizeof(x->dn));
			x->anchor = (uint8_t)json_integer_value(json_object_get(e, "a"));
			x->first_us = (uint64_t)json_integer_value(json_object_get(e, "f"));
			x->last_us = (uint64_t)json_integer_value(json_object_get(e, "l"));
		}
		json_array_foreach(ks, j, e) {
			if (b->nkey == ISSUER_HIST)
				break;
			const char *hx = json_string_value(json_object_get(e, "s"));
			if (!hx || parse_hex32(hx, b->key[b->nkey].spki) < 0)
				continue;
			b->key[b->nkey].first_us = (uint64_t)json_integer_value(json_object_get(e, "f"));
			b->key[b->nkey].last_us = (uint64_t)json_integer_value(json_object_get(e, "l"));
			b->nkey++;
		}
	}
	s->cold_start = false;
	return 0;
}

const struct detector det_issuer = {
	.name = "issuer",
	.types = issuer_types,
	.ntypes = ONPATH_ARRAY_LEN(issuer_types),
	.init = issuer_init,
	.fini = issuer_fini,
	.on_tls = issuer_on_tls,
	.save = issuer_save,
	.load = issuer_load,
};
