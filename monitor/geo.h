/* geo.h - optional geo/ASN enrichment through libmaxminddb (MaxMind DB format:
 * GeoLite2/GeoIP2 ASN, Country and City databases).
 *
 * Configuration (top-level section "geoip", every key optional):
 *   geoip:
 *     asn_db: /var/lib/GeoIP/GeoLite2-ASN.mmdb        # -> ASN number and organisation
 *     country_db: /var/lib/GeoIP/GeoLite2-Country.mmdb # -> ISO 3166 country code
 *     city_db: /var/lib/GeoIP/GeoLite2-City.mmdb       # -> city name (and the country
 *                                                       #    when country_db is absent)
 * A relative path is relative to the directory of the configuration file.
 * A file that cannot be opened, or holds another kind of database than its key says, is
 * a configuration error ("file:line: geoip.asn_db: ..."). With nothing configured
 * geo_open_cfg() still returns a handle whose lookups find nothing, so callers never
 * test for NULL; geo_has_asn()/geo_has_country() tell whether a judgement that needs
 * the data can be made (and alerts say so when it cannot).
 *
 * The databases are memory-mapped (MMDB_MODE_MMAP) and read-only: one handle may be
 * shared by every reader of one thread; lookups allocate nothing.
 */
#ifndef ONPATH_GEO_H
#define ONPATH_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "util.h"

#define GEO_CFG_SECTION "geoip"
#define GEO_ORG_MAX 96  /* autonomous_system_organization kept (bytes, NUL included) */
#define GEO_CITY_MAX 64 /* city.names.en kept */

struct geo;

/* What one lookup found. Strings are copied (bounded), NUL-terminated, and come from
 * the database file: write them through jw_str like any other outside text. */
struct geo_info {
	bool has_asn;
	uint32_t asn;
	char as_org[GEO_ORG_MAX];  /* "" when the database has none */
	bool has_country;
	char country[3];           /* ISO 3166-1 alpha-2, e.g. "GB" */
	bool has_city;
	char city[GEO_CITY_MAX];
};

/* Reads the "geoip" section of c (c may be NULL or have no such section) and opens the
 * configured databases. Returns a handle (caller frees with geo_close), or NULL with
 * err filled ("file:line: geoip.asn_db: ..."). */
struct geo *geo_open_cfg(const struct cfg *c, char *err, size_t errlen);
/* The same from paths (NULL = not configured); errors name the path. */
struct geo *geo_open_paths(const char *asn_db, const char *country_db, const char *city_db,
			   char *err, size_t errlen);
void geo_close(struct geo *g);

bool geo_has_asn(const struct geo *g);
bool geo_has_country(const struct geo *g);  /* country_db or city_db */

/* Looks a up in every open database. Returns true when anything was found (out's has_*
 * flags say what); false when nothing was (address not covered, no database, or a
 * lookup error, which is counted in geo_errors()). */
bool geo_lookup(const struct geo *g, const struct op_addr *a, struct geo_info *out);
uint64_t geo_errors(const struct geo *g);

/* A short description of what is open, for logs and evidence: "asn=GeoLite2-ASN
 * country=GeoLite2-Country" or "none". */
const char *geo_describe(const struct geo *g);

#endif
