#include "config.h"

/* test_output_net.c - the network outputs without a server: syslog framing (RFC 5424
 * with octet counting over TCP, one datagram per alert over UDP, the local format),
 * hostile bytes that must never split a message, severity to PRI mapping, redis URL
 * parsing and password redaction, the outputs section of the config, the metrics
 * text and its label escaping. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "metrics.h"
#include "output.h"
#include "tmpdir.h"


static struct out_mgr *mgr(const char *spool_dir)
{
	struct out_mgr *m = out_mgr_new(64, false);
	struct out_settings set;

	assert_non_null(m);
	out_settings_defaults(&set);
	strcpy(set.sensor_name, "sensor 1");
	strcpy(set.spool_dir, spool_dir);
	out_mgr_set_settings(m, &set);
	return m;
}

static void submit(struct out_mgr *m, enum out_kind kind, const char *line, size_t len,
		   const char *action, int sev)
{
	struct out_meta meta;
	char *p = malloc(len + 1);

	assert_non_null(p);
	memcpy(p, line, len);
	p[len] = '\0';
	memset(&meta, 0, sizeof(meta));
	meta.action = action;
	meta.severity = sev;
	strcpy(meta.id, "id-1");
	assert_int_equal(out_mgr_submit_meta(m, kind, p, len, action ? &meta : NULL), 0);
}

/* A line with every byte a log parser fears, as it would look if something upstream
 * let them through (jw never does). */
static const char hostile[] = "{\"a\":\"x\ny\rz\0w\x1b[31m\x7f<script>\"}";
#define HOSTILE_LEN (sizeof(hostile) - 1)

static void check_escaped(const char *msg, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_true((unsigned char)msg[i] >= 0x20);
		assert_true((unsigned char)msg[i] != 0x7f);
	}
	assert_non_null(memmem(msg, n, "x\\u000ay\\u000dz\\u0000w\\u001b[31m\\u007f<script>", 44));
}

static ssize_t recv_wait(int fd, char *buf, size_t cap)
{
	struct pollfd pf = { fd, POLLIN, 0 };

	if (poll(&pf, 1, 5000) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

static void test_syslog_local(void **state)
{
	struct tmp *t = *state;
	struct sockaddr_un sa;
	struct out_mgr *m;
	char spec[200], err[512], buf[4096], spool[128];
	ssize_t n;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", t->dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(spool, sizeof(spool), "%s/spool", t->dir);
	m = mgr(spool);
	snprintf(spec, sizeof(spec), "syslog:%s?facility=local3&app=op%%20x", sa.sun_path);
	if (out_mgr_add(m, spec, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	submit(m, OUT_ALERT, hostile, HOSTILE_LEN, "t.x", 9);
	submit(m, OUT_ALERT, "{}", 2, "t.y", 3);
	submit(m, OUT_RECORD, "{}", 2, NULL, 0);
	out_mgr_sync(m);

	n = recv_wait(fd, buf, sizeof(buf));
	assert_true(n > 0);
	/* <local3*8 + crit>Mmm dd hh:mm:ss APP[PID]: MSG */
	assert_memory_equal(buf, "<154>", 5);
	assert_non_null(memmem(buf, (size_t)n, "op%20x[", 7));
	check_escaped(buf, (size_t)n);
	n = recv_wait(fd, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf, "<157>", 5); /* severity 3: notice */
	assert_memory_equal(buf + n - 4, ": {}", 4);
	n = recv_wait(fd, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf, "<158>", 5); /* a record: info */
	out_mgr_free(m);
	close(fd);
}

static void test_syslog_tcp_octet_counting(void **state)
{
	struct tmp *t = *state;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct out_mgr *m;
	char spec[128], err[512], buf[8192], spool[128];
	size_t have = 0;
	int lfd, fd;
	unsigned len;
	char *sp, *msg;
	ssize_t n;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spool, sizeof(spool), "%s/spool", t->dir);
	m = mgr(spool);
	snprintf(spec, sizeof(spec), "syslog+tcp://127.0.0.1:%u?hostname=h%%20st",
		 (unsigned)ntohs(sa.sin_port));
	if (out_mgr_add(m, spec, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	submit(m, OUT_ALERT, hostile, HOSTILE_LEN, "arp.ip_mac changed", 7);
	submit(m, OUT_ALERT, "{\"b\":1}", 7, NULL, 0); /* no meta: parsed, and not JSON */
	out_mgr_sync(m);
	while (have < 2 || memchr(buf, ' ', have) == NULL) {
		n = recv_wait(fd, buf + have, sizeof(buf) - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
	/* LEN SP <PRI>1 TS HOST APP PROCID MSGID - MSG */
	assert_int_equal(sscanf(buf, "%u ", &len), 1);
	sp = memchr(buf, ' ', have);
	msg = sp + 1;
	while ((size_t)(msg - buf) + len > have) {
		n = recv_wait(fd, buf + have, sizeof(buf) - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
	assert_memory_equal(msg, "<131>1 ", 7); /* local0 (16) * 8 + err (3) */
	/* hostname from the parameter, printable only; MSGID without the space */
	assert_non_null(memmem(msg, len, " h%20st onpath ", 15));
	assert_non_null(memmem(msg, len, " arp.ip_mac_changed - {", 23));
	check_escaped(msg, len);
	/* the second frame follows at once */
	msg += len;
	while (memchr(msg, ' ', have - (size_t)(msg - buf)) == NULL || have - (size_t)(msg - buf) < 40) {
		n = recv_wait(fd, buf + have, sizeof(buf) - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
	assert_int_equal(sscanf(msg, "%u ", &len), 1);
	msg = (char *)memchr(msg, ' ', have - (size_t)(msg - buf)) + 1;
	assert_memory_equal(msg, "<134>1 ", 7); /* unknown severity: info */
	assert_non_null(memmem(msg, len, " - - {\"b\":1}", 12)); /* no MSGID: "-" */
	out_mgr_free(m);
	close(fd);
	close(lfd);
}

static void test_syslog_udp(void **state)
{
	struct tmp *t = *state;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct out_mgr *m;
	char spec[128], err[512], spool[128], *big;
	static char buf[70000];
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spool, sizeof(spool), "%s/spool", t->dir);
	m = mgr(spool);
	snprintf(spec, sizeof(spec), "syslog+udp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	if (out_mgr_add(m, spec, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* too big for a datagram: refused and counted, never cut into broken JSON */
	big = malloc(66000);
	assert_non_null(big);
	memset(big, 'a', 66000);
	big[0] = '{';
	submit(m, OUT_ALERT, big, 66000, "t.big", 5);
	free(big);
	submit(m, OUT_ALERT, hostile, HOSTILE_LEN, "t.x", 10);
	out_mgr_sync(m);
	n = recv_wait(fd, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf, "<130>1 ", 7);
	/* hostname: the sensor name made printable */
	assert_non_null(memmem(buf, (size_t)n, " sensor_1 onpath ", 17));
	check_escaped(buf, (size_t)n);
	{
		struct out_health h;

		assert_int_equal(out_mgr_health(m, 0, &h, NULL, 0), 0);
		assert_int_equal(h.lost, 1);
	}
	out_mgr_free(m);
	close(fd);
}

static void test_syslog_spec_errors(void **state)
{
	struct tmp *t = *state;
	static const char *const bad[] = {
		"syslog:relative/path", "syslog+udp:host", "syslog+udp://", "syslog+tcp://h:0",
		"syslog+tcp://h:70000", "syslog+tcp://[::1", "syslog+udp://h:514?facility=nope",
		"syslog+udp://h:514?what=1", "syslog+udp://h:514?facility",
	};
	char err[512], spool[128];
	size_t i;

	snprintf(spool, sizeof(spool), "%s/spool", t->dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct out_mgr *m = mgr(spool);

		if (out_mgr_add(m, bad[i], err, sizeof(err)) == 0)
			fail_msg("accepted %s", bad[i]);
		out_mgr_free(m);
	}
	assert_int_equal(out_syslog_facility("LOCAL7"), 23);
	assert_int_equal(out_syslog_facility("daemon"), 3);
	assert_int_equal(out_syslog_facility("local8"), -1);
}

static void test_redis_spec(void **state)
{
	struct tmp *t = *state;
	static const char *const bad[] = {
		"redis:host:6379", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
		"redis://h:6379/x", "redis://h:6379/99999", "redis://[::1:6379", "redis://h?nokey",
		"redis://h?batch=0", "redis://h?records=maybe",
		"redis://h?connect_timeout=5y", "redis://h?unknown=1", "redis://u:p%zz@h",
		"redis+unix://relative", "redis+unix://user@x/sock", "rediss://h:6379",
	};
	char err[512], spool[128], spec[256];
	struct out_health h;
	struct out_mgr *m;
	size_t i;

	snprintf(spool, sizeof(spool), "%s/spool", t->dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = mgr(spool);
		if (out_mgr_add(m, bad[i], err, sizeof(err)) == 0)
			fail_msg("accepted %s", bad[i]);
		out_mgr_free(m);
	}
	/* TLS: says what to do instead */
	m = mgr(spool);
	assert_int_equal(out_mgr_add(m, "rediss://u:secret@h:6380/0", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stunnel"));
	assert_null(strstr(err, "secret"));
	out_mgr_free(m);
	/* a bad URL with a password never echoes it */
	m = mgr(spool);
	assert_int_equal(out_mgr_add(m, "redis://u:secret@h:99999/0", err, sizeof(err)), -1);
	assert_null(strstr(err, "secret"));
	out_mgr_free(m);

	/* nobody listens on port 1: the output opens anyway (the spool keeps alerts),
	 * is down, and its name has no password; percent-escapes decode */
	m = mgr(spool);
	if (out_mgr_add(m, "redis://al%40ce:s%3Acret@127.0.0.1:1/2?stream=x%3Ay&list=l",
			err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(out_mgr_health(m, 0, &h, spec, sizeof(spec)), 0);
	assert_string_equal(spec, "redis://al@ce:***@127.0.0.1:1/2");
	assert_int_equal(h.state, OUT_ST_DOWN);
	submit(m, OUT_ALERT, "{}", 2, "t.a", 5);
	out_mgr_sync(m);
	assert_int_equal(out_mgr_health(m, 0, &h, NULL, 0), 0);
	assert_int_equal(h.spool_alerts, 1);
	assert_int_equal(h.lost, 0);
	out_mgr_free(m);

	/* without a spool an alert Redis cannot take is lost, and counted */
	m = mgr("-");
	if (out_mgr_add(m, "redis+unix:///nonexistent/redis.sock?db=1", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	submit(m, OUT_ALERT, "{}", 2, "t.a", 5);
	out_mgr_sync(m);
	assert_int_equal(out_mgr_health(m, 0, &h, spec, sizeof(spec)), 0);
	assert_string_equal(spec, "redis+unix:///nonexistent/redis.sock?db=1");
	assert_int_equal(h.lost, 1);
	out_mgr_free(m);
}

static void test_parse_helpers(void **state)
{
	uint32_t ms;
	bool b;

	assert_int_equal(out_parse_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(out_parse_ms("5", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(out_parse_ms("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(out_parse_ms("", &ms), -1);
	assert_int_equal(out_parse_ms("-1s", &ms), -1);
	assert_int_equal(out_parse_ms("1h", &ms), -1);
	assert_int_equal(out_parse_ms("99999999999999999999s", &ms), -1);
	assert_int_equal(out_parse_ms("1441m", &ms), -1);
	assert_int_equal(out_parse_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(out_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(out_parse_bool("2", &b), -1);
}

static void test_config(void **state)
{
	static const char good[] =
		"outputs:\n"
		"  targets: [\"jsonl:-\", \"redis://127.0.0.1:6379/0\"]\n"
		"  spool_dir: /var/spool/x\n"
		"  spool_max: 64M\n"
		"  spool_fsync: always\n"
		"  metrics: 127.0.0.1:9187\n"
		"  redis:\n"
		"    prefix: \"site1:\"\n"
		"    stream: site1:alerts\n"
		"    stream_maxlen: 5000\n"
		"    list: logstash\n"
		"    list_maxlen: 100\n"
		"    channel: live\n"
		"    records: yes\n"
		"    records_maxlen: 7\n"
		"    heartbeat: 1m\n"
		"    connect_timeout: 250ms\n"
		"    command_timeout: 3s\n"
		"    batch: 64\n"
		"    backoff_max: 10s\n"
		"    username: sensor\n"
		"    password: pw\n"
		"  syslog:\n"
		"    facility: auth\n"
		"    app_name: op\n"
		"    hostname: h1\n";
	static const char *const bad[] = {
		"outputs: 3\n", "outputs:\n  nope: 1\n", "outputs:\n  spool_fsync: sometimes\n",
		"outputs:\n  spool_max: 1k\n", "outputs:\n  redis: [1]\n",
		"outputs:\n  redis:\n    batch: 0\n", "outputs:\n  redis:\n    connect_timeout: soon\n",
		"outputs:\n  redis:\n    colour: red\n", "outputs:\n  syslog:\n    facility: local9\n",
		"outputs:\n  targets: jsonl:-\n", "outputs:\n  - [a]\n",
	};
	struct out_config oc;
	struct cfg *c = NULL;
	char err[512];
	size_t i;

	assert_int_equal(out_cfg_load(&oc, NULL, err, sizeof(err)), 0);
	assert_int_equal(oc.nspecs, 0);
	assert_int_equal(oc.set.spool_max, OUT_DEFAULT_SPOOL_MAX);

	{
		static const char list[] = "outputs:\n  - jsonl:-\n  - syslog\n";

		assert_int_equal(cfg_load_string(list, sizeof(list) - 1, "t.yaml", &c, err,
						 sizeof(err)), 0);
	}
	assert_int_equal(out_cfg_load(&oc, c, err, sizeof(err)), 0);
	assert_int_equal(oc.nspecs, 2);
	assert_string_equal(oc.specs[1], "syslog");
	cfg_free(c);

	if (cfg_load_string(good, sizeof(good) - 1, "t.yaml", &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (out_cfg_load(&oc, c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(oc.nspecs, 2);
	assert_string_equal(oc.set.spool_dir, "/var/spool/x");
	assert_int_equal(oc.set.spool_max, 64u << 20);
	assert_int_equal(oc.set.spool_fsync, OUT_FSYNC_ALWAYS);
	assert_string_equal(oc.metrics, "127.0.0.1:9187");
	assert_string_equal(oc.set.redis.prefix, "site1:");
	assert_string_equal(oc.set.redis.stream, "site1:alerts");
	assert_int_equal(oc.set.redis.stream_maxlen, 5000);
	assert_string_equal(oc.set.redis.list, "logstash");
	assert_int_equal(oc.set.redis.list_maxlen, 100);
	assert_string_equal(oc.set.redis.channel, "live");
	assert_true(oc.set.redis.records);
	assert_int_equal(oc.set.redis.records_maxlen, 7);
	assert_int_equal(oc.set.redis.heartbeat_s, 60);
	assert_int_equal(oc.set.redis.connect_timeout_ms, 250);
	assert_int_equal(oc.set.redis.command_timeout_ms, 3000);
	assert_int_equal(oc.set.redis.batch, 64);
	assert_int_equal(oc.set.redis.backoff_max_s, 10);
	assert_string_equal(oc.set.redis.username, "sensor");
	assert_string_equal(oc.set.redis.password, "pw");
	assert_int_equal(oc.set.syslog.facility, 4);
	assert_string_equal(oc.set.syslog.app_name, "op");
	assert_string_equal(oc.set.syslog.hostname, "h1");
	cfg_free(c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		assert_int_equal(cfg_load_string(bad[i], strlen(bad[i]), "t.yaml", &c, err, sizeof(err)), 0);
		err[0] = '\0';
		if (out_cfg_load(&oc, c, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", bad[i]);
		/* errors name the file and line */
		assert_non_null(strstr(err, "t.yaml:"));
		cfg_free(c);
	}
}

static void test_metrics_text(void **state)
{
	struct tmp *t = *state;
	static struct metrics_sensor ms;
	struct out_mgr *m;
	char spec[128], err[512], *text;
	size_t len;

	m = mgr("-");
	snprintf(spec, sizeof(spec), "jsonl:%s/a.jsonl", t->dir);
	assert_int_equal(out_mgr_add(m, spec, err, sizeof(err)), 0);
	memset(&ms, 0, sizeof(ms));
	ms.packets = 42;
	ms.live = true;
	ms.pcap_dropped = 3;
	ms.ntypes = 2;
	strcpy(ms.types[0].action, "arp.x");
	ms.types[0].written = 5;
	strcpy(ms.types[1].action, "evil\"\\\n}");
	ms.types[1].written = 1;
	metrics_publish(&ms);
	text = metrics_render(m, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "\nonpath_packets_total 42\n"));
	assert_non_null(strstr(text, "\nonpath_pcap_dropped_total 3\n"));
	assert_non_null(strstr(text, "onpath_alerts_total{action=\"arp.x\"} 5\n"));
	/* label escaping: the name cannot end the label or the line */
	assert_non_null(strstr(text, "onpath_alerts_total{action=\"evil\\\"\\\\\\n}\"} 1\n"));
	assert_non_null(strstr(text, "onpath_output_up{output=\"jsonl:"));
	assert_non_null(strstr(text, "# TYPE onpath_output_queue_depth gauge\n"));
	free(text);

	/* the HTTP side: a listener on a free loopback port, then stopped */
	assert_int_equal(metrics_start("127.0.0.1:0", m, err, sizeof(err)), 0);
	assert_true(metrics_port() > 0);
	assert_int_equal(metrics_start("127.0.0.1:0", m, err, sizeof(err)), -1);
	metrics_stop();
	assert_int_equal(metrics_port(), 0);
	assert_int_equal(metrics_start("localhost:80", m, err, sizeof(err)), -1);
	assert_int_equal(metrics_start("127.0.0.1:99999", m, err, sizeof(err)), -1);
	assert_int_equal(metrics_start("[::1", m, err, sizeof(err)), -1);
	out_mgr_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syslog_local, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_syslog_tcp_octet_counting, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_syslog_udp, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_syslog_spec_errors, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_redis_spec, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test(test_config),
		cmocka_unit_test_setup_teardown(test_metrics_text, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
