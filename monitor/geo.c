/* geo.c - libmaxminddb lookups of ASN, country and city for an address (see geo.h).
 *
 * The MaxMind DB format and its lookups are libmaxminddb's: this file only opens the
 * files, checks that each holds the kind of data its key promises (database_type in the
 * metadata), and copies the few fields we use into bounded buffers.
 */
#include "config.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "geo.h"

enum { GEO_ASN = 0, GEO_COUNTRY, GEO_CITY, GEO_NDB };

static const char *const geo_keys[GEO_NDB] = { "asn_db", "country_db", "city_db" };
/* A database_type must contain this to be accepted for the key (GeoLite2-ASN,
 * GeoIP2-ISP carries ASNs too; GeoIP2-Country/Enterprise/City carry countries). */
static const char *const geo_kinds[GEO_NDB][3] = {
	{ "ASN", "ISP", NULL },
	{ "Country", "City", "Enterprise" },
	{ "City", "Enterprise", NULL },
};

struct geo {
	MMDB_s db[GEO_NDB];
	bool open[GEO_NDB];
	uint64_t errors;
	char desc[160];
};

static bool kind_ok(int which, const char *type)
{
	for (int i = 0; i < 3 && geo_kinds[which][i]; i++)
		if (type && strstr(type, geo_kinds[which][i]))
			return true;
	return false;
}

/* Opens one database; on failure err says why (without position: the caller adds it). */
static int open_one(struct geo *g, int which, const char *path, char *err, size_t errlen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db[which]);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, MMDB_strerror(rc));
		return -1;
	}
	const char *type = g->db[which].metadata.database_type;
	if (!kind_ok(which, type)) {
		snprintf(err, errlen, "%s: a %s database, not one with %s data", path,
			 type ? type : "(untyped)",
			 which == GEO_ASN ? "ASN" : which == GEO_COUNTRY ? "country" : "city");
		MMDB_close(&g->db[which]);
		return -1;
	}
	g->open[which] = true;
	return 0;
}

static void describe(struct geo *g)
{
	size_t o = 0;
	g->desc[0] = '\0';
	for (int i = 0; i < GEO_NDB; i++) {
		if (!g->open[i])
			continue;
		int w = snprintf(g->desc + o, sizeof(g->desc) - o, "%s%.*s=%.40s", o ? " " : "",
				 (int)(strlen(geo_keys[i]) - 3), geo_keys[i],
				 g->db[i].metadata.database_type);
		if (w < 0 || (size_t)w >= sizeof(g->desc) - o)
			break;
		o += (size_t)w;
	}
	if (!o)
		snprintf(g->desc, sizeof(g->desc), "none");
}

/* Opens every configured path; errors name the config position when sec is given. */
static struct geo *open_all(const char *const paths[GEO_NDB], const struct cfg *c,
			    const struct cfg_node *sec, char *err, size_t errlen)
{
	struct geo *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "geoip: out of memory");
		return NULL;
	}
	for (int i = 0; i < GEO_NDB; i++) {
		if (!paths[i] || !*paths[i])
			continue;
		char why[512];
		if (open_one(g, i, paths[i], why, sizeof(why)) < 0) {
			if (sec)
				cfg_errf(c, cfg_get(sec, geo_keys[i]), err, errlen, "%s.%s: %s",
					 GEO_CFG_SECTION, geo_keys[i], why);
			else
				snprintf(err, errlen, "%s.%s: %s", GEO_CFG_SECTION, geo_keys[i],
					 why);
			geo_close(g);
			return NULL;
		}
	}
	describe(g);
	return g;
}

struct geo *geo_open_paths(const char *asn_db, const char *country_db, const char *city_db,
			   char *err, size_t errlen)
{
	const char *const paths[GEO_NDB] = { asn_db, country_db, city_db };
	return open_all(paths, NULL, NULL, err, errlen);
}

struct geo *geo_open_cfg(const struct cfg *c, char *err, size_t errlen)
{
	static const char *const known[] = { "asn_db", "country_db", "city_db", NULL };
	const struct cfg_node *sec = (c && c->root) ? cfg_get(c->root, GEO_CFG_SECTION) : NULL;
	const char *paths[GEO_NDB] = { NULL, NULL, NULL };

	if (cfg_check_keys(c, sec, GEO_CFG_SECTION, known, err, errlen) < 0)
		return NULL;
	char full[GEO_NDB][4096];
	for (int i = 0; i < GEO_NDB; i++) {
		if (cfg_str(c, sec, geo_keys[i], &paths[i], err, errlen) < 0)
			return NULL;
		/* A relative path is relative to the configuration file, like the file's
		 * other references, not to whatever directory the sensor started in. */
		const char *slash = c && c->path ? strrchr(c->path, '/') : NULL;
		if (paths[i] && paths[i][0] && paths[i][0] != '/' && slash) {
			int n = snprintf(full[i], sizeof(full[i]), "%.*s/%s", (int)(slash - c->path),
					 c->path, paths[i]);
			if (n < 0 || (size_t)n >= sizeof(full[i])) {
				cfg_errf(c, cfg_get(sec, geo_keys[i]), err, errlen, "%s.%s: path too long",
					 GEO_CFG_SECTION, geo_keys[i]);
				return NULL;
			}
			paths[i] = full[i];
		}
	}
	return open_all(paths, c, sec, err, errlen);
}

void geo_close(struct geo *g)
{
	if (!g)
		return;
	for (int i = 0; i < GEO_NDB; i++)
		if (g->open[i])
			MMDB_close(&g->db[i]);
	free(g);
}

bool geo_has_asn(const struct geo *g)
{
	return g && g->open[GEO_ASN];
}

bool geo_has_country(const struct geo *g)
{
	return g && (g->open[GEO_COUNTRY] || g->open[GEO_CITY]);
}

uint64_t geo_errors(const struct geo *g)
{
	return g ? g->errors : 0;
}

const char *geo_describe(const struct geo *g)
{
	return g ? g->desc : "none";
}

/* Copies a UTF-8 string value (not NUL-terminated in the database) into dst. */
static void copy_str(const MMDB_entry_data_s *d, char *dst, size_t cap)
{
	size_t n = d->data_size < cap - 1 ? d->data_size : cap - 1;
	memcpy(dst, d->utf8_string, n);
	dst[n] = '\0';
}

/* Runs one lookup; returns the entry through res, false when not found or on error. */
static bool lookup(struct geo *g, int which, const struct op_addr *a, MMDB_lookup_result_s *res)
{
	struct sockaddr_storage ss;
	int mmdb = MMDB_SUCCESS;
	memset(&ss, 0, sizeof(ss));
	if (a->family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->a, 4);
	} else if (a->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->a, 16);
	} else {
		return false;
	}
	*res = MMDB_lookup_sockaddr(&g->db[which], (const struct sockaddr *)&ss, &mmdb);
	if (mmdb != MMDB_SUCCESS) {
		/* An IPv6 address in an IPv4-only database is "not found", not an error. */
		if (mmdb != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			g->errors++;
		return false;
	}
	return res->found_entry;
}

static bool get_str(MMDB_entry_s *e, char *dst, size_t cap, const char *const *path)
{
	MMDB_entry_data_s d;
	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return false;
	copy_str(&d, dst, cap);
	return true;
}

bool geo_lookup(const struct geo *gc, const struct op_addr *a, struct geo_info *out)
{
	/* Lookups only count errors: the handle is otherwise read-only. */
	struct geo *g = (struct geo *)gc;
	MMDB_lookup_result_s res;
	memset(out, 0, sizeof(*out));
	if (!g)
		return false;
	if (g->open[GEO_ASN] && lookup(g, GEO_ASN, a, &res)) {
		MMDB_entry_data_s d;
		static const char *const num[] = { "autonomous_system_number", NULL };
		static const char *const org[] = { "autonomous_system_organization", NULL };
		if (MMDB_aget_value(&res.entry, &d, num) == MMDB_SUCCESS && d.has_data &&
		    d.type == MMDB_DATA_TYPE_UINT32) {
			out->has_asn = true;
			out->asn = d.uint32;
			get_str(&res.entry, out->as_org, sizeof(out->as_org), org);
		}
	}
	static const char *const iso[] = { "country", "iso_code", NULL };
	static const char *const city[] = { "city", "names", "en", NULL };
	if (g->open[GEO_COUNTRY] && lookup(g, GEO_COUNTRY, a, &res))
		out->has_country = get_str(&res.entry, out->country, sizeof(out->country), iso);
	if (g->open[GEO_CITY] && lookup(g, GEO_CITY, a, &res)) {
		if (!out->has_country)
			out->has_country =
				get_str(&res.entry, out->country, sizeof(out->country), iso);
		out->has_city = get_str(&res.entry, out->city, sizeof(out->city), city);
	}
	return out->has_asn || out->has_country || out->has_city;
}
