#include "config.h"

/* test_geo.c - geo/ASN enrichment (monitor/geo.c) on MaxMind's test databases
 * (../shared/data/maxmind-test, from maxmind/MaxMind-DB test-data: see its SOURCE.md).
 * Facts used, from the databases' JSON sources:
 *   ASN:     1.128.0.0/11 -> AS1221 "Telstra Pty Ltd"; 89.160.20.112 -> AS29518 "Bredband2 AB"
 *   Country: 2.125.160.216/29 -> GB; 89.160.20.112 -> SE; 2001:218::/32 -> JP
 *   City:    81.2.69.142 -> London, GB
 * The directory is $MAXMIND_TEST_DIR, else $top_srcdir/../shared/data/maxmind-test; the
 * tests are skipped when it is missing. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "geo.h"

static char dir[4096];

static const char *db(const char *file)
{
	static char p[4][4200];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, file);
	return p[i];
}

static int find_dir(void **state)
{
	(void)state;
	const char *env = getenv("MAXMIND_TEST_DIR"), *top = getenv("top_srcdir");
	if (env)
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/data/maxmind-test", top ? top : SRCSIGDIR "/..");
	return 0;
}

static void need_dir(void)
{
	if (access(db("GeoLite2-ASN-Test.mmdb"), R_OK) != 0)
		skip();
}

static struct geo *open_yaml(const char *yaml, char *err, size_t errlen)
{
	struct cfg *c = NULL;
	if (cfg_load_string(yaml, strlen(yaml), "test.yaml", &c, err, errlen) < 0)
		fail_msg("config: %s", err);
	struct geo *g = geo_open_cfg(c, err, errlen);
	cfg_free(c);
	return g;
}

static struct op_addr ip(const char *s)
{
	struct op_addr a;
	assert_int_equal(util_addr_parse(s, &a), 0);
	return a;
}

static void test_lookups(void **state)
{
	(void)state;
	need_dir();
	char err[512], yaml[16384];
	snprintf(yaml, sizeof(yaml), "geoip:\n  asn_db: %s\n  country_db: %s\n  city_db: %s\n",
		 db("GeoLite2-ASN-Test.mmdb"), db("GeoLite2-Country-Test.mmdb"),
		 db("GeoLite2-City-Test.mmdb"));
	struct geo *g = open_yaml(yaml, err, sizeof(err));
	if (!g)
		fail_msg("%s", err);
	assert_true(geo_has_asn(g));
	assert_true(geo_has_country(g));
	assert_non_null(strstr(geo_describe(g), "asn=GeoLite2-ASN"));

	struct geo_info gi;
	struct op_addr a = ip("1.128.0.1");
	assert_true(geo_lookup(g, &a, &gi));
	assert_true(gi.has_asn);
	assert_int_equal(gi.asn, 1221);
	assert_string_equal(gi.as_org, "Telstra Pty Ltd");
	assert_false(gi.has_country);

	a = ip("89.160.20.112");
	assert_true(geo_lookup(g, &a, &gi));
	assert_int_equal(gi.asn, 29518);
	assert_true(gi.has_country);
	assert_string_equal(gi.country, "SE");

	a = ip("2.125.160.216");
	assert_true(geo_lookup(g, &a, &gi));
	assert_false(gi.has_asn);
	assert_string_equal(gi.country, "GB");

	a = ip("81.2.69.142");
	assert_true(geo_lookup(g, &a, &gi));
	assert_true(gi.has_city);
	assert_string_equal(gi.city, "London");

	a = ip("2001:218::1");
	assert_true(geo_lookup(g, &a, &gi));
	assert_string_equal(gi.country, "JP");

	/* Documentation addresses are in no database. */
	a = ip("192.0.2.1");
	assert_false(geo_lookup(g, &a, &gi));
	a = ip("2001:db8::1");
	assert_false(geo_lookup(g, &a, &gi));
	struct op_addr none;
	memset(&none, 0, sizeof(none));
	assert_false(geo_lookup(g, &none, &gi));
	assert_int_equal(geo_errors(g), 0);
	geo_close(g);
}

/* Only a city database: it answers the country too. */
static void test_city_gives_country(void **state)
{
	(void)state;
	need_dir();
	char err[512];
	struct geo *g = geo_open_paths(NULL, NULL, db("GeoLite2-City-Test.mmdb"), err, sizeof(err));
	assert_non_null(g);
	assert_false(geo_has_asn(g));
	assert_true(geo_has_country(g));
	struct geo_info gi;
	struct op_addr a = ip("81.2.69.142");
	assert_true(geo_lookup(g, &a, &gi));
	assert_string_equal(gi.country, "GB");
	geo_close(g);
}

static void test_nothing_configured(void **state)
{
	(void)state;
	char err[512];
	struct geo *g = geo_open_cfg(NULL, err, sizeof(err));
	assert_non_null(g);
	assert_false(geo_has_asn(g));
	assert_false(geo_has_country(g));
	assert_string_equal(geo_describe(g), "none");
	struct geo_info gi;
	struct op_addr a = ip("1.128.0.1");
	assert_false(geo_lookup(g, &a, &gi));
	geo_close(g);
	g = open_yaml("sensor:\n  name: x\n", err, sizeof(err));
	assert_non_null(g);
	geo_close(g);
	/* NULL handles are safe. */
	assert_false(geo_has_asn(NULL));
	assert_false(geo_lookup(NULL, &a, &gi));
	assert_string_equal(geo_describe(NULL), "none");
	geo_close(NULL);
}

static void test_errors(void **state)
{
	(void)state;
	need_dir();
	char err[512], yaml[8192];
	/* The deliberately broken database: file:line names the key. */
	snprintf(yaml, sizeof(yaml), "geoip:\n  asn_db: %s\n",
		 db("GeoIP2-City-Test-Invalid-Node-Count.mmdb"));
	assert_null(open_yaml(yaml, err, sizeof(err)));
	assert_non_null(strstr(err, "test.yaml:2: geoip.asn_db: "));
	assert_non_null(strstr(err, "invalid metadata"));
	/* An ASN database given as the country database. */
	snprintf(yaml, sizeof(yaml), "geoip:\n  city_db: %s\n  country_db: %s\n",
		 db("GeoLite2-City-Test.mmdb"), db("GeoLite2-ASN-Test.mmdb"));
	assert_null(open_yaml(yaml, err, sizeof(err)));
	assert_non_null(strstr(err, "test.yaml:3: geoip.country_db: "));
	assert_non_null(strstr(err, "GeoLite2-ASN database, not one with country data"));
	/* A missing file. */
	assert_null(open_yaml("geoip:\n  asn_db: /nonexistent/x.mmdb\n", err, sizeof(err)));
	assert_non_null(strstr(err, "test.yaml:2: geoip.asn_db: /nonexistent/x.mmdb: "));
	/* An unknown key and a non-scalar value. */
	assert_null(open_yaml("geoip:\n  asn: x\n", err, sizeof(err)));
	assert_non_null(strstr(err, "test.yaml:2: unknown key 'asn'"));
	assert_null(open_yaml("geoip:\n  asn_db: [a, b]\n", err, sizeof(err)));
	assert_non_null(strstr(err, "test.yaml:2:"));
	assert_null(geo_open_paths(db("GeoLite2-Country-Test.mmdb"), NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "geoip.asn_db: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_city_gives_country),
		cmocka_unit_test(test_nothing_configured),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, find_dir, NULL);
}
