#include "config.h"

/* out_redis_bench.c - the Redis output alone, for `make bench`: N alert lines (a real
 * alert's JSON, each with its own event.id) submitted to an output manager with one
 * redis:// output, timed until every line has been written and flushed (pipelined XADD
 * batches, replies checked). Prints "alerts=N seconds=S alerts_per_s=R".
 *
 *   out_redis_bench URL [N]        N defaults to 200000
 *
 * The whole pipeline's rate (detectors, JSON, de-duplication, incidents, output) is
 * measured separately by bench.sh with onpath on a capture of forged ARP replies. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

static const char alert_fmt[] =
	"{\"@timestamp\":\"2024-01-01T00:00:00.000000Z\",\"event\":{\"id\":\"%s\",\"kind\":\"alert\","
	"\"module\":\"onpath\",\"dataset\":\"arp\",\"action\":\"arp.ip_mac_changed\",\"severity\":8,"
	"\"risk_score\":80},\"observer\":{\"name\":\"bench\"},\"source\":{\"ip\":\"192.0.2.1\","
	"\"mac\":\"02:00:00:00:00:66\"},\"destination\":{\"ip\":\"192.0.2.23\",\"mac\":\"02:00:00:00:00:23\"},"
	"\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{\"id\":[\"T1557.002\"],"
	"\"name\":[\"ARP Cache Poisoning\"]}},\"onpath\":{\"confidence\":\"high\",\"count\":1,"
	"\"key\":\"vlan=0 192.0.2.1\",\"evidence\":{\"ip\":\"192.0.2.1\",\"old_mac\":\"02:00:00:00:00:01\","
	"\"new_mac\":\"02:00:00:00:00:66\",\"role\":\"gateway\",\"unsolicited\":true}},"
	"\"message\":\"192.0.2.1 (gateway) moved from 02:00:00:00:00:01 to 02:00:00:00:00:66\"}";

int main(int argc, char **argv)
{
	char err[512];
	unsigned long n = 200000;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: out_redis_bench URL [N]\n");
		return 2;
	}
	if (argc == 3)
		n = strtoul(argv[2], NULL, 10);
	struct out_mgr *m = out_mgr_new(65536, false);
	struct out_settings set;
	out_settings_defaults(&set);
	util_strlcpy(set.sensor_name, "bench", sizeof(set.sensor_name));
	util_strlcpy(set.spool_dir, "-", sizeof(set.spool_dir));
	out_mgr_set_settings(m, &set);
	if (!m || out_mgr_add(m, argv[1], err, sizeof(err)) < 0 || out_mgr_start(m) < 0) {
		fprintf(stderr, "out_redis_bench: %s\n", err);
		return 1;
	}
	double t0 = util_mono_s();
	for (unsigned long i = 0; i < n; i++) {
		struct out_meta meta;
		memset(&meta, 0, sizeof(meta));
		snprintf(meta.id, sizeof(meta.id), "%032lx-%016lx", i, i);
		meta.action = "arp.ip_mac_changed";
		meta.severity = 8;
		int len = snprintf(NULL, 0, alert_fmt, meta.id);
		char *line = malloc((size_t)len + 1);
		if (!line)
			return 1;
		snprintf(line, (size_t)len + 1, alert_fmt, meta.id);
		out_mgr_submit_meta(m, OUT_ALERT, line, (size_t)len, &meta);
	}
	out_mgr_sync(m);
	double dt = util_mono_s() - t0;
	struct out_health h;
	char spec[256];
	out_mgr_health(m, 0, &h, spec, sizeof(spec));
	out_mgr_free(m);
	printf("alerts=%lu seconds=%.3f alerts_per_s=%.0f lost=%" PRIu64 "\n", n, dt, (double)n / dt,
	       (uint64_t)h.lost);
	return 0;
}
