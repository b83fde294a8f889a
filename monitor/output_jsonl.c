#include "config.h"

/* output_jsonl.c - JSON lines to stdout ("jsonl:-") or to a file ("jsonl:/path").
 *
 * Lines are gathered in a large buffer and written with write(2) in whole lines only,
 * so a shipper tailing the file (Filebeat, Fluent Bit, tail -f) never reads half an
 * alert between flushes, and O_APPEND keeps lines whole even when two processes share
 * the file. reopen() follows logrotate's rename-then-HUP: the next line goes to a new
 * file at the configured path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "output.h"

#define JSONL_BUF (256u * 1024)
/* 0640: alerts name hosts and carry evidence; readable by the log group, not all. */
#define JSONL_MODE 0640

struct jsonl {
	int fd;
	char *path;    /* NULL for stdout */
	char *buf;
	size_t len;
	bool failing;  /* an error was reported and none has succeeded since */
};

static int open_path(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, JSONL_MODE);
}

static int jsonl_open(struct output *o, const char *arg, char *err, size_t errlen)
{
	struct jsonl *j;

	if (arg[0] == '\0') {
		snprintf(err, errlen, "needs a file name or '-' for stdout");
		return -1;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->buf = malloc(JSONL_BUF)) == NULL) {
		free(j);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (strcmp(arg, "-") == 0) {
		/* Our own descriptor: closing it at the end leaves stdout to the rest. */
		j->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (j->fd < 0)
			snprintf(err, errlen, "stdout: %s", strerror(errno));
	} else {
		j->path = strdup(arg);
		j->fd = j->path != NULL ? open_path(arg) : -1;
		if (j->fd < 0)
			snprintf(err, errlen, "cannot open %s for appending: %s", arg,
				 j->path != NULL ? strerror(errno) : "out of memory");
	}
	if (j->fd < 0) {
		free(j->path);
		free(j->buf);
		free(j);
		return -1;
	}
	o->priv = j;
	return 0;
}

/* One report per run of failures (a full disk would otherwise print per line); the
 * output manager counts every failure. */
static void report(struct output *o, struct jsonl *j, const char *what, int e)
{
	if (j->failing)
		return;
	j->failing = true;
	fprintf(stderr, "onpath: output '%s': %s failed: %s (lines are lost; further errors "
		"are counted, not reported)\n", o->spec, what, strerror(e));
}

static int write_all(int fd, const struct iovec *iov_in, int cnt)
{
	struct iovec iov[2];
	ssize_t r;
	int i = 0;

	memcpy(iov, iov_in, (size_t)cnt * sizeof(*iov));
	while (i < cnt) {
		r = writev(fd, iov + i, cnt - i);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		while (i < cnt && (size_t)r >= iov[i].iov_len) {
			r -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < cnt) {
			iov[i].iov_base = (char *)iov[i].iov_base + r;
			iov[i].iov_len -= (size_t)r;
		}
	}
	return 0;
}

static int drain(struct output *o, struct jsonl *j)
{
	struct iovec v = { j->buf, j->len };

	if (j->len == 0)
		return 0;
	j->len = 0; /* on failure the buffer is lost, not retried forever */
	if (write_all(j->fd, &v, 1) != 0) {
		report(o, j, "write", errno);
		return -1;
	}
	j->failing = false;
	return 0;
}

static int jsonl_write(struct output *o, enum out_kind kind, const char *line, size_t len)
{
	struct jsonl *j = o->priv;
	struct iovec v[2];
	int rc = 0;

	if (kind == OUT_BASELINE)
		return 0; /* Redis only (output.h) */
	if (len + 1 <= JSONL_BUF - j->len) {
		memcpy(j->buf + j->len, line, len);
		j->buf[j->len + len] = '\n';
		j->len += len + 1;
		return 0;
	}
	if (drain(o, j) != 0)
		rc = -1;
	if (len + 1 <= JSONL_BUF) {
		memcpy(j->buf, line, len);
		j->buf[len] = '\n';
		j->len = len + 1;
		return rc;
	}
	/* Larger than the buffer: straight out, line and newline in one call. */
	v[0].iov_base = (void *)line;
	v[0].iov_len = len;
	v[1].iov_base = "\n";
	v[1].iov_len = 1;
	if (write_all(j->fd, v, 2) != 0) {
		report(o, j, "write", errno);
		return -1;
	}
	return rc;
}

static int jsonl_flush(struct output *o)
{
	return drain(o, o->priv);
}

static int jsonl_reopen(struct output *o)
{
	struct jsonl *j = o->priv;
	int rc = drain(o, j), fd;

	if (j->path == NULL)
		return rc;
	/* Open the new file before closing the old: if it cannot be opened (directory
	 * gone, disk full), alerts keep going to the old one rather than nowhere. */
	fd = open_path(j->path);
	if (fd < 0) {
		fprintf(stderr, "onpath: output '%s': reopen failed, still writing to the old "
			"file: %s\n", o->spec, strerror(errno));
		return -1;
	}
	close(j->fd);
	j->fd = fd;
	return rc;
}

static void jsonl_close(struct output *o)
{
	struct jsonl *j = o->priv;

	if (j == NULL)
		return;
	drain(o, j);
	close(j->fd);
	free(j->path);
	free(j->buf);
	free(j);
	o->priv = NULL;
}

const struct output_ops out_jsonl_ops = {
	.scheme = "jsonl",
	.open = jsonl_open,
	.write = jsonl_write,
	.flush = jsonl_flush,
	.reopen = jsonl_reopen,
	.close = jsonl_close,
};
