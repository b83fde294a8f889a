/* util.c - small shared helpers: addresses, MACs, time, bounded strings, hashing. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "util.h"

void util_addr_set4(struct op_addr *x, const uint8_t v4[4])
{
	/* Zero the tail so util_addr_eq and util_hash64 over the whole struct agree for
	 * equal addresses. */
	memset(x, 0, sizeof(*x));
	x->family = 4;
	memcpy(x->a, v4, 4);
}

void util_addr_set6(struct op_addr *x, const uint8_t v6[16])
{
	memset(x, 0, sizeof(*x));
	x->family = 6;
	memcpy(x->a, v6, 16);
}

bool util_addr_eq(const struct op_addr *x, const struct op_addr *y)
{
	if (x->family != y->family)
		return false;
	/* Compare only the meaningful bytes: a hand-built v4 address may carry a dirty tail. */
	switch (x->family) {
	case 4:
		return memcmp(x->a, y->a, 4) == 0;
	case 6:
		return memcmp(x->a, y->a, 16) == 0;
	default:
		return true;
	}
}

char *util_addr_fmt(const struct op_addr *x, char out[OP_ADDR_STRLEN])
{
	out[0] = '\0';
	if (x->family == 4)
		inet_ntop(AF_INET, x->a, out, OP_ADDR_STRLEN);
	else if (x->family == 6)
		inet_ntop(AF_INET6, x->a, out, OP_ADDR_STRLEN);
	return out;
}

int util_addr_parse(const char *s, struct op_addr *x)
{
	uint8_t buf[16];

	if (!s)
		return -1;
	/* inet_pton(AF_INET) accepts only strict dotted-quad (no "1", no octal, no hex),
	 * which is what a config file or signature should contain. */
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, buf) != 1)
			return -1;
		util_addr_set6(x, buf);
	} else {
		if (inet_pton(AF_INET, s, buf) != 1)
			return -1;
		util_addr_set4(x, buf);
	}
	return 0;
}

char *util_mac_fmt(const uint8_t mac[6], char out[OP_MAC_STRLEN])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[mac[i] >> 4];
		out[i * 3 + 1] = hex[mac[i] & 0x0f];
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Accepts exactly six two-digit hex groups separated by ':' (or all by '-', the
 * Windows form), either case. Single-digit groups are refused so that a truncated
 * paste is an error rather than a different address. */
int util_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];
	char sep;

	if (!s || strlen(s) != OP_MAC_STRLEN - 1)
		return -1;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		if (i < 5 && s[i * 3 + 2] != sep)
			return -1;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, tmp, 6);
	return 0;
}

bool util_mac_is_zero(const uint8_t mac[6])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

bool util_mac_is_bcast(const uint8_t mac[6])
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

bool util_mac_is_mcast(const uint8_t mac[6])
{
	/* IEEE 802: the I/G bit is the least significant bit of the first octet. */
	return (mac[0] & 0x01) != 0;
}

char *util_ts_fmt(uint64_t ts_us, char out[OP_TS_STRLEN])
{
	time_t secs = (time_t)(ts_us / 1000000u);
	unsigned usec = (unsigned)(ts_us % 1000000u);
	struct tm tm;
	int n;

	/* A 64-bit time_t covers every uint64_t microsecond value (year < 600000); a 32-bit
	 * one or an out-of-range year makes gmtime_r fail and we print the epoch rather than
	 * garbage. */
	if ((uint64_t)secs != ts_us / 1000000u || !gmtime_r(&secs, &tm)) {
		secs = 0;
		gmtime_r(&secs, &tm);
	}
	n = snprintf(out, OP_TS_STRLEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	if (n < 0 || n >= OP_TS_STRLEN)
		out[0] = '\0';
	return out;
}

uint64_t util_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double util_mono_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t util_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n;

	if (cap == 0)
		return 0;
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/* ---------------------------------------------------------------- hashing
 * A wyhash-style construction (Wang Yi, public domain): 64x64->128 multiply and fold.
 * Fast on short keys (flow tuples, MACs, names), good avalanche, seeded so that a
 * table's layout cannot be predicted by whoever sends the packets (hash flooding).
 * Not cryptographic. Words are read in host byte order: values are only ever compared
 * within one process. */

static const uint64_t WY_P0 = 0xa0761d6478bd642full;
static const uint64_t WY_P1 = 0xe7037ed1a0b428dbull;
static const uint64_t WY_P2 = 0x8ebc6af09c88c6e3ull;
static const uint64_t WY_P3 = 0x589965cc75374cc3ull;

static uint64_t wy_mix(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
	uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
	uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
	uint64_t t = rl + (rm0 << 32), c = t < rl;
	uint64_t lo = t + (rm1 << 32);
	c += lo < t;
	uint64_t hi = rh + (rm0 >> 32) + (rm1 >> 32) + c;
	return lo ^ hi;
#endif
}

static uint64_t wy_r8(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t wy_r4(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

uint64_t util_hash64(const void *key, size_t len, uint64_t seed)
{
	const uint8_t *p = key;
	uint64_t a, b;
	/* Plain wyhash XORs each data word with a public constant before multiplying: a
	 * key word equal to that constant zeroes the product and the seed drops out, so
	 * an attacker could build keys that collide under every seed. Folding a
	 * seed-derived secret into that operand too leaves no value known to zero it. */
	uint64_t sk = wy_mix(seed ^ WY_P2, WY_P3);

	seed ^= wy_mix(seed ^ WY_P0, WY_P1);
	if (len <= 16) {
		if (len >= 4) {
			/* Two overlapping 4-byte reads from each end cover 4..16 bytes. */
			size_t k = (len >> 3) << 2;
			a = wy_r4(p) << 32 | wy_r4(p + k);
			b = wy_r4(p + len - 4) << 32 | wy_r4(p + len - 4 - k);
		} else if (len > 0) {
			a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t i = len;
		if (i > 48) {
			uint64_t s1 = seed, s2 = seed;
			do {
				seed = wy_mix(wy_r8(p) ^ WY_P1 ^ sk, wy_r8(p + 8) ^ seed);
				s1 = wy_mix(wy_r8(p + 16) ^ WY_P2 ^ sk, wy_r8(p + 24) ^ s1);
				s2 = wy_mix(wy_r8(p + 32) ^ WY_P3 ^ sk, wy_r8(p + 40) ^ s2);
				p += 48;
				i -= 48;
			} while (i > 48);
			seed ^= s1 ^ s2;
		}
		while (i > 16) {
			seed = wy_mix(wy_r8(p) ^ WY_P1 ^ sk, wy_r8(p + 8) ^ seed);
			p += 16;
			i -= 16;
		}
		/* The last 16 bytes of the key (overlapping what was mixed when i < 16). */
		a = wy_r8(p + i - 16);
		b = wy_r8(p + i - 8);
	}
	a ^= WY_P1 ^ sk;
	b ^= seed;
#ifdef __SIZEOF_INT128__
	{
		unsigned __int128 r = (unsigned __int128)a * b;
		a = (uint64_t)r;
		b = (uint64_t)(r >> 64);
	}
#else
	{
		uint64_t m = wy_mix(a, b);
		a ^= m;
		b = m;
	}
#endif
	return wy_mix(a ^ WY_P0 ^ (uint64_t)len, b ^ WY_P1);
}

long util_peak_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
#ifdef __APPLE__
	return ru.ru_maxrss / 1024; /* bytes on macOS, KiB on Linux and the BSDs */
#else
	return ru.ru_maxrss;
#endif
}

static inline int util_lower_(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool util_icontains(const uint8_t *p, size_t n, const char *needle)
{
	size_t l = strlen(needle);
	if (l == 0 || l > n)
		return false;
	/* A needle that starts with a non-letter ("<form", "; secure") has one first byte:
	 * memchr finds its candidates a vector at a time (response bodies are scanned). */
	int c0 = (unsigned char)needle[0];
	bool one_case = util_lower_(c0) == c0 && !(c0 >= 'a' && c0 <= 'z');
	for (size_t i = 0; i + l <= n; i++) {
		if (one_case) {
			const uint8_t *q = memchr(p + i, c0, n - l + 1 - i);
			if (!q)
				return false;
			i = (size_t)(q - p);
		} else if (util_lower_(p[i]) != c0) {
			continue;
		}
		size_t k = 1;
		while (k < l && util_lower_(p[i + k]) == (unsigned char)needle[k])
			k++;
		if (k == l)
			return true;
	}
	return false;
}
