/* app.c - the stream consumers, listed by hand (see app.h). Order matters only for
 * the order in which consumers see the same bytes. */
#include "config.h"

#include <stddef.h>

#include "app.h"
#include "util.h"

extern const struct app_consumer app_dns_tcp;
extern const struct app_consumer app_tls;
extern const struct app_consumer app_lines;
extern const struct app_consumer app_ssh;
extern const struct app_consumer app_http;

const struct app_consumer *const app_consumers[] = {
	&app_dns_tcp,
	&app_tls,
	&app_lines,
	&app_ssh,
	&app_http,
	NULL, /* sentinel */
};
const size_t app_consumer_count = ONPATH_ARRAY_LEN(app_consumers) - 1;
