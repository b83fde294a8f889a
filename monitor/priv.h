/* priv.h - least privilege once the sensor has opened what needs root: the capture,
 * the outputs, the state, spool and signature files. */
#ifndef ONPATH_PRIV_H
#define ONPATH_PRIV_H

#include <stdbool.h>
#include <stddef.h>

struct priv_cfg {
	const char *user;   /* -u / sensor.user; NULL or "" = keep running as started */
	bool seccomp;       /* with a user: install the syscall allow-list (default on) */
};

/* Before priv_drop(): gives pc->user the file at path (a jsonl output, the state
 * file) or, with dir_contents, the directory and the regular files in it (the spool
 * directory, which is onpath's own), so the sensor can go on writing, rotating and
 * replaying them after the drop. A missing path is not an error; nothing is done
 * without a user. Returns 0 or -1 with err filled. */
int priv_chown_for(const struct priv_cfg *pc, const char *path, bool dir_contents, char *err,
		   size_t errlen);

/* Changes to pc->user with no capabilities (bounding set cleared, supplementary
 * groups dropped), sets no_new_privs, and installs the seccomp allow-list unless
 * pc->seccomp is false. Call before starting threads. Without a user: nothing.
 * Returns 0, or -1 with err saying why (the caller must then exit: never run on with
 * privileges the operator asked to drop). */
int priv_drop(const struct priv_cfg *pc, char *err, size_t errlen);

#endif
