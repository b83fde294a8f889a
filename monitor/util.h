/* util.h - small shared helpers: addresses, MACs, time, bounded strings. */
#ifndef ONPATH_UTIL_H
#define ONPATH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ONPATH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An IPv4 or IPv6 address. IPv4 is stored in a[0..3]; the rest is zero. */
struct op_addr {
	uint8_t family; /* 0 (none), 4 or 6 */
	uint8_t a[16];
};

#define OP_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define OP_MAC_STRLEN 18  /* "xx:xx:xx:xx:xx:xx" + NUL */
#define OP_TS_STRLEN 32   /* "2026-11-21T16:20:00.123456Z" + NUL */

void util_addr_set4(struct op_addr *x, const uint8_t v4[4]);
void util_addr_set6(struct op_addr *x, const uint8_t v6[16]);
bool util_addr_eq(const struct op_addr *x, const struct op_addr *y);
/* Writes the usual text form ("" for family 0); returns out. */
char *util_addr_fmt(const struct op_addr *x, char out[OP_ADDR_STRLEN]);
/* Parses dotted-quad or IPv6 text; returns 0 on success, -1 on error. */
int util_addr_parse(const char *s, struct op_addr *x);

char *util_mac_fmt(const uint8_t mac[6], char out[OP_MAC_STRLEN]);
int util_mac_parse(const char *s, uint8_t mac[6]);
bool util_mac_is_zero(const uint8_t mac[6]);
bool util_mac_is_bcast(const uint8_t mac[6]);
bool util_mac_is_mcast(const uint8_t mac[6]); /* group bit set (includes broadcast) */

/* Microseconds since the epoch, formatted as RFC 3339 UTC with microseconds. */
char *util_ts_fmt(uint64_t ts_us, char out[OP_TS_STRLEN]);
/* Wall-clock microseconds (CLOCK_REALTIME) and monotonic seconds. */
uint64_t util_now_us(void);
double util_mono_s(void);

/* Copies at most cap-1 bytes and NUL-terminates (cap > 0); returns strlen(dst). */
size_t util_strlcpy(char *dst, const char *src, size_t cap);

/* 64-bit hash of bytes (fast, non-cryptographic, seeded) for in-memory tables. */
uint64_t util_hash64(const void *p, size_t n, uint64_t seed);

/* True when needle (lower case, non-empty) occurs in p/n, ASCII case ignored. */
bool util_icontains(const uint8_t *p, size_t n, const char *needle);

/* Peak resident set size of this process in KiB (from getrusage). */
long util_peak_rss_kib(void);

#endif
