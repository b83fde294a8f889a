/* tmpdir.h - cmocka setup/teardown giving each test a fresh temporary directory
 * (struct tmp in *state), removed with its contents afterwards. */
#ifndef ONPATH_TEST_TMPDIR_H
#define ONPATH_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tmp {
	char dir[64];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/onpath-test-XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

#endif
