#include "config.h"

/* spool.c - the bounded on-disk spool of the redis and syslog outputs (format and
 * layout in spool.h).
 *
 * Why this shape:
 *  - Append-only segments written with one writev per record: a crash of the sensor
 *    loses nothing the kernel accepted, and a crash of the machine at worst tears the
 *    last record, which the checksum finds at the next start (fsync policy decides how
 *    much the disk holds).
 *  - Two classes: the bound is kept by deleting the oldest informational segment, an
 *    unlink instead of rewriting a file, and alerts are never the ones to go.
 *  - The replay position is a small file rewritten in place after every consumed
 *    batch, so the next run does not send again what a previous one delivered (at
 *    most the last batch, if the sensor died between the server's acknowledgement and
 *    that write: consumers de-duplicate on event.id).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "output.h"
#include "spool.h"
#include "util.h"

#define SUM_SEED 0x6f6e706174687370ull /* "onpathsp"; changing it invalidates old spools */
#define READ_CHUNK (256u * 1024)
#define POS_LEN 72                     /* "%020 %020 %020 %08x\n" */
#define META_TOKEN_MAX 128             /* id, action, dataset in the payload prefix */
#define SPOOL_FILE_MODE 0640           /* alerts name hosts: not world-readable */
#define SPOOL_DIR_MODE 0750

static const char *const class_names[SPOOL_NCLASS] = { "alerts", "records" };

struct seg {
	uint64_t seq;
	uint64_t size;  /* bytes in the file */
	uint64_t nrec;  /* valid records in the file */
	bool damaged;   /* the start-up check reported damage in it */
};

struct sclass {
	struct seg *segs;    /* oldest first */
	size_t nseg, capseg;
	uint64_t bytes;      /* sum of segs[].size */
	uint64_t head_off;   /* bytes of segs[0] consumed (or skipped as damaged) */
	uint64_t head_done;  /* valid records of segs[0] consumed */
	uint32_t head_tag;   /* nonzero: replaces the tag of the record at head_off */
	uint64_t next_seq;
	int wfd;             /* O_APPEND descriptor of the last segment, or -1 */
	int rfd;             /* read descriptor of segs[0], or -1 */
	uint64_t rseq;
	int posfd;
	bool dirty;          /* appended since the last fsync */
};

/* A window on one segment file, for the start-up check and for peek. */
struct win {
	int fd;
	char *buf;           /* the spool's buffer */
	size_t cap, start, end;
	uint64_t foff;       /* file offset of buf[0] */
	uint64_t limit;      /* file size: never read past it */
};

struct spool {
	char dir[OUT_PATH_MAX];
	char name[SPOOL_NAME_MAX + 1];
	char base[OUT_PATH_MAX + SPOOL_NAME_MAX + 2];
	char label[320];
	uint64_t max_bytes, seg_max;
	enum out_fsync fsync;
	int lockfd;
	struct sclass c[SPOOL_NCLASS];

	char *rbuf;          /* read window; peeked records point into it */
	size_t rcap;
	char *wbuf;          /* payload being appended */
	size_t wcap;
	int peek_class;      /* -1: nothing peeked */
	size_t peek_n;
	uint64_t *peek_end;  /* file offset after each peeked record */
	size_t peek_cap;

	bool full;           /* inside a "spool full" episode (reported once) */
	bool full_alerts;    /* ... in which alerts were lost (reported once) */
	uint64_t full_lost0, full_dropped0;
	struct spool_stats st;
};

/* ---------------------------------------------------------------- helpers */

static char kind_char(enum out_kind k)
{
	switch (k) {
	case OUT_ALERT:
		return 'A';
	case OUT_INCIDENT:
		return 'I';
	case OUT_RECORD:
		return 'R';
	case OUT_STATS:
	default:
		return 'S';
	}
}

static int kind_from_char(char c, enum out_kind *k)
{
	switch (c) {
	case 'A':
		*k = OUT_ALERT;
		return 0;
	case 'I':
		*k = OUT_INCIDENT;
		return 0;
	case 'R':
		*k = OUT_RECORD;
		return 0;
	case 'S':
		*k = OUT_STATS;
		return 0;
	default:
		return -1;
	}
}

/* Alerts and incidents are what the sensor exists for; the rest may be dropped. */
static enum spool_class class_of(enum out_kind k)
{
	return k == OUT_ALERT || k == OUT_INCIDENT ? SPOOL_ALERTS : SPOOL_RECORDS;
}

static void seg_path(const struct spool *s, int cls, uint64_t seq, char *out, size_t n)
{
	snprintf(out, n, "%s.%s.%010" PRIu64 ".spool", s->base, class_names[cls], seq);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_hex(const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int d = hexval(p[i]);

		if (d < 0)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 0;
}

static uint64_t checksum(char kind, const char *p, size_t n)
{
	return util_hash64(p, n, SUM_SEED ^ (uint64_t)(unsigned char)kind);
}

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	char *nb;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int fsync_dir(const struct spool *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int mkdir_p(const char *dir)
{
	char tmp[OUT_PATH_MAX];
	size_t i, n = util_strlcpy(tmp, dir, sizeof(tmp));

	if (n >= sizeof(tmp) - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, SPOOL_DIR_MODE) != 0 && errno != EEXIST)
			return -1;
		tmp[i] = dir[i];
	}
	return 0;
}

/* ---------------------------------------------------------------- records */

enum { P_OK = 0, P_MORE, P_BAD };

/* Checks the record at b (avail bytes). P_OK sets *total (header + payload + newline)
 * and *plen; P_MORE says how many bytes would decide it (*total, when the header is
 * complete, else 0). */
static int parse_rec(const char *b, size_t avail, size_t *total, size_t *plen)
{
	static const char magic[] = "@1 ";
	uint64_t len, sum;
	size_t i;

	*total = 0;
	/* A wrong byte in what is there is BAD at once, even before the header is
	 * complete: a torn tail is recognised without reading past the file. */
	for (i = 0; i < avail && i < 3; i++)
		if (b[i] != magic[i])
			return P_BAD;
	if (avail > 3 && strchr("AIRS", b[3]) == NULL)
		return P_BAD;
	if (avail < SPOOL_HDR_LEN)
		return P_MORE;
	if (b[4] != ' ' || b[13] != ' ' || b[30] != ' ' || parse_hex(b + 5, 8, &len) != 0 ||
	    parse_hex(b + 14, 16, &sum) != 0 || len > SPOOL_MAX_RECORD || b[3] == '\0')
		return P_BAD;
	*total = SPOOL_HDR_LEN + (size_t)len + 1;
	if (avail < *total)
		return P_MORE;
	if (b[SPOOL_HDR_LEN + len] != '\n' || checksum(b[3], b + SPOOL_HDR_LEN, (size_t)len) != sum)
		return P_BAD;
	*plen = (size_t)len;
	return P_OK;
}

/* Splits a checked payload "<sev> <tag> <id> <action> <dataset> json" in place. */
static int split_payload(char *p, size_t len, char kindc, struct spool_rec *r)
{
	char *tok[5], *q = p, *end = p + len, *sp;
	unsigned long sev, tag;
	int i;

	memset(r, 0, sizeof(*r));
	if (kind_from_char(kindc, &r->kind) != 0)
		return -1;
	for (i = 0; i < 5; i++) {
		sp = memchr(q, ' ', (size_t)(end - q));
		if (sp == NULL || sp == q)
			return -1;
		*sp = '\0';
		tok[i] = q;
		q = sp + 1;
	}
	sev = strtoul(tok[0], &sp, 10);
	if (*sp != '\0' || sev > 10)
		return -1;
	r->meta.severity = (int)sev;
	tag = strtoul(tok[1], &sp, 16);
	if (*sp != '\0' || tag > UINT32_MAX)
		return -1;
	r->tag = (uint32_t)tag;
	if (strcmp(tok[2], "-") != 0)
		util_strlcpy(r->meta.id, tok[2], sizeof(r->meta.id));
	r->meta.action = strcmp(tok[3], "-") != 0 ? tok[3] : NULL;
	r->meta.dataset = strcmp(tok[4], "-") != 0 ? tok[4] : NULL;
	r->line = q;
	r->len = (size_t)(end - q);
	*end = '\0'; /* the newline: lines read back are NUL-terminated */
	return 0;
}

/* Appends a meta token: printable ASCII without spaces, "-" when empty. */
static size_t put_token(char *out, const char *t)
{
	size_t n = 0;

	if (t != NULL)
		for (; t[n] != '\0' && n < META_TOKEN_MAX; n++)
			out[n] = t[n] > ' ' && t[n] < 0x7f ? t[n] : '_';
	if (n == 0)
		out[n++] = '-';
	out[n++] = ' ';
	return n;
}

/* ---------------------------------------------------------------- windows */

static int win_open(struct spool *s, struct win *w, int fd, uint64_t off, uint64_t limit)
{
	w->fd = fd;
	w->buf = s->rbuf;
	w->cap = s->rcap;
	w->start = w->end = 0;
	w->foff = off;
	w->limit = limit;
	if (grow(&w->buf, &w->cap, READ_CHUNK) != 0)
		return -1;
	s->rbuf = w->buf;
	s->rcap = w->cap;
	return 0;
}

/* Makes at least need bytes available from w->start (fewer at the end of the file).
 * Returns the bytes available, or -1 on an I/O error. */
static ssize_t win_fill(struct spool *s, struct win *w, size_t need)
{
	while (w->end - w->start < need && w->foff + w->end < w->limit) {
		uint64_t left = w->limit - (w->foff + w->end);
		size_t room;
		ssize_t r;

		if (w->start > 0 && w->end + need > w->cap) {
			memmove(w->buf, w->buf + w->start, w->end - w->start);
			w->foff += w->start;
			w->end -= w->start;
			w->start = 0;
		}
		if (w->start + need > w->cap) {
			if (grow(&w->buf, &w->cap, w->start + need) != 0)
				return -1;
			s->rbuf = w->buf;
			s->rcap = w->cap;
		}
		room = w->cap - w->end;
		if (room > left)
			room = (size_t)left;
		r = pread(w->fd, w->buf + w->end, room, (off_t)(w->foff + w->end));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) { /* shorter than we thought: someone truncated it */
			w->limit = w->foff + w->end;
			break;
		}
		w->end += (size_t)r;
	}
	return (ssize_t)(w->end - w->start);
}

/* Skips damaged bytes from w->start up to and including the next newline (records end
 * with one and no payload holds one). Returns 0, or -1 on an I/O error. */
static int win_resync(struct spool *s, struct win *w)
{
	for (;;) {
		char *nl;
		ssize_t av = win_fill(s, w, 1);

		if (av < 0)
			return -1;
		if (av == 0)
			return 0;
		nl = memchr(w->buf + w->start + 1, '\n', (size_t)av - 1);
		if (nl != NULL) {
			w->start = (size_t)(nl - w->buf) + 1;
			return 0;
		}
		w->start = w->end;
	}
}

/* ---------------------------------------------------------------- segments */

static int seg_push(struct sclass *c, uint64_t seq, uint64_t size, uint64_t nrec, bool damaged)
{
	if (c->nseg == c->capseg) {
		size_t ncap = c->capseg ? c->capseg * 2 : 16;
		struct seg *ns = realloc(c->segs, ncap * sizeof(*ns));

		if (ns == NULL)
			return -1;
		c->segs = ns;
		c->capseg = ncap;
	}
	c->segs[c->nseg].seq = seq;
	c->segs[c->nseg].size = size;
	c->segs[c->nseg].nrec = nrec;
	c->segs[c->nseg].damaged = damaged;
	c->nseg++;
	c->bytes += size;
	return 0;
}

static uint64_t pending_of(const struct sclass *c)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < c->nseg; i++)
		n += c->segs[i].nrec;
	return n - c->head_done;
}

static void write_pos(struct spool *s, int cls)
{
	struct sclass *c = &s->c[cls];
	char buf[POS_LEN + 1];

	if (c->posfd < 0)
		return;
	snprintf(buf, sizeof(buf), "%020" PRIu64 " %020" PRIu64 " %020" PRIu64 " %08" PRIx32 "\n",
		 c->nseg ? c->segs[0].seq : 0, c->head_off, c->head_done, c->head_tag);
	/* Same length every time: an in-place rewrite, never a half-old file. */
	if (pwrite(c->posfd, buf, POS_LEN, 0) == POS_LEN && s->fsync == OUT_FSYNC_ALWAYS)
		fdatasync(c->posfd);
}

static void update_stats(struct spool *s)
{
	s->st.bytes = s->c[SPOOL_ALERTS].bytes + s->c[SPOOL_RECORDS].bytes;
	s->st.alerts = pending_of(&s->c[SPOOL_ALERTS]);
	s->st.records = pending_of(&s->c[SPOOL_RECORDS]);
	if (s->full && s->st.alerts == 0 && s->st.records == 0) {
		s->full = false;
		fprintf(stderr, "onpath: %s: spool %s is empty again (while it was full: %" PRIu64
			" informational records dropped, %" PRIu64 " alerts lost)\n", s->label,
			s->base, s->st.dropped_records - s->full_dropped0,
			s->st.lost_alerts - s->full_lost0);
	}
}

/* Removes the oldest segment of a class (replayed, or evicted to make room). */
static void seg_retire(struct spool *s, int cls)
{
	struct sclass *c = &s->c[cls];
	char path[sizeof(s->base) + 64];

	if (c->nseg == 0)
		return;
	seg_path(s, cls, c->segs[0].seq, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		fprintf(stderr, "onpath: %s: cannot remove spool segment %s: %s\n", s->label, path,
			strerror(errno));
	if (c->rfd >= 0 && c->rseq == c->segs[0].seq) {
		close(c->rfd);
		c->rfd = -1;
	}
	if (c->nseg == 1 && c->wfd >= 0) {
		close(c->wfd);
		c->wfd = -1;
	}
	c->bytes -= c->segs[0].size;
	memmove(c->segs, c->segs + 1, (c->nseg - 1) * sizeof(*c->segs));
	c->nseg--;
	c->head_off = 0;
	c->head_done = 0;
	c->head_tag = 0;
	if (s->peek_class == cls)
		s->peek_n = 0;
	write_pos(s, cls);
}

static int seg_new(struct spool *s, int cls)
{
	struct sclass *c = &s->c[cls];
	char path[sizeof(s->base) + 64];
	int fd;

	if (c->nseg >= SPOOL_MAX_SEGMENTS) {
		errno = ENOSPC;
		return -1;
	}
	seg_path(s, cls, c->next_seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOCTTY,
		  SPOOL_FILE_MODE);
	if (fd < 0)
		return -1;
	if (seg_push(c, c->next_seq, 0, 0, false) != 0) {
		close(fd);
		unlink(path);
		errno = ENOMEM;
		return -1;
	}
	c->next_seq++;
	if (c->wfd >= 0)
		close(c->wfd);
	c->wfd = fd;
	/* The name must survive a power loss too, or the data is unreachable. */
	if (s->fsync != OUT_FSYNC_NEVER)
		fsync_dir(s);
	if (c->nseg == 1)
		write_pos(s, cls);
	return 0;
}

/* ---------------------------------------------------------------- open */

static void report(const struct spool *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(const struct spool *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "onpath: %s: ", s->label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Checks every record of a segment. A bad stretch that runs to the end of the file is
 * a torn last write: the file is cut before it, so appends continue cleanly. A bad
 * stretch followed by good records is skipped (here and by peek). When pos_off is a
 * record boundary, *pos_rec receives the number of records before it. */
static int seg_check(struct spool *s, int cls, struct seg *g, uint64_t pos_off,
		     uint64_t *pos_rec, bool *pos_ok)
{
	char path[sizeof(s->base) + 64];
	struct win w;
	struct stat sb;
	uint64_t bad_at = 0;
	bool in_bad = false;
	int fd, rc = 0;

	seg_path(s, cls, g->seq, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	g->size = (uint64_t)sb.st_size;
	g->nrec = 0;
	if (win_open(s, &w, fd, 0, g->size) != 0) {
		close(fd);
		return -1;
	}
	*pos_ok = pos_off == 0;
	*pos_rec = 0;
	for (;;) {
		size_t total, plen;
		uint64_t here = w.foff + w.start;
		ssize_t av = win_fill(s, &w, SPOOL_HDR_LEN);
		int p;

		if (av < 0) {
			rc = -1;
			break;
		}
		if (av == 0)
			break;
		p = parse_rec(w.buf + w.start, (size_t)av, &total, &plen);
		if (p == P_MORE && total > 0) {
			if ((av = win_fill(s, &w, total)) < 0) {
				rc = -1;
				break;
			}
			p = parse_rec(w.buf + w.start, (size_t)av, &total, &plen);
		}
		if (p == P_OK) {
			if (in_bad) {
				report(s, "spool %s: damaged data at offset %" PRIu64 " (%" PRIu64
				       " bytes) skipped; the records after it are kept", path,
				       bad_at, here - bad_at);
				s->st.damaged++;
				g->damaged = true;
				in_bad = false;
			}
			if (here == pos_off) {
				*pos_ok = true;
				*pos_rec = g->nrec;
			}
			g->nrec++;
			w.start += total;
			continue;
		}
		/* BAD, or the file ends inside what the header announces (a torn write, or
		 * a damaged length field with good records after it): look for the next
		 * record; if there is none, the stretch is a torn tail. */
		if (!in_bad)
			bad_at = here;
		in_bad = true;
		if (win_resync(s, &w) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && !in_bad && pos_off == g->size) {
		*pos_ok = true;
		*pos_rec = g->nrec;
	}
	if (rc == 0 && in_bad) {
		report(s, "spool %s: torn record at offset %" PRIu64 " (%" PRIu64 " bytes to the "
		       "end of the file) skipped: the sensor stopped while writing it", path, bad_at,
		       g->size - bad_at);
		s->st.damaged++;
		if (ftruncate(fd, (off_t)bad_at) != 0) {
			rc = -1;
		} else {
			g->size = bad_at;
			if (pos_off == bad_at) {
				*pos_ok = true;
				*pos_rec = g->nrec;
			}
		}
	}
	close(fd);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segment numbers of one class in the directory, oldest first (caller frees). */
static int list_segments(struct spool *s, int cls, uint64_t **out, size_t *n,
			 char *err, size_t errlen)
{
	char prefix[SPOOL_NAME_MAX + 32];
	size_t plen, cap = 0;
	uint64_t *v = NULL;
	struct dirent *de;
	DIR *d;

	*n = 0;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s.%s.", s->name, class_names[cls]);
	d = opendir(s->dir);
	if (d == NULL) {
		snprintf(err, errlen, "spool directory %s: %s", s->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const char *rest = de->d_name + plen;
		uint64_t seq = 0;
		size_t i;

		if (strncmp(de->d_name, prefix, plen) != 0 || strlen(rest) != 10 + 6 ||
		    strcmp(rest + 10, ".spool") != 0)
			continue;
		for (i = 0; i < 10 && rest[i] >= '0' && rest[i] <= '9'; i++)
			seq = seq * 10 + (uint64_t)(rest[i] - '0');
		if (i != 10)
			continue;
		if (*n >= SPOOL_MAX_SEGMENTS) {
			snprintf(err, errlen, "spool %s: more than %d %s segments; remove old ones "
				 "or raise the spool size", s->base, SPOOL_MAX_SEGMENTS, class_names[cls]);
			free(v);
			closedir(d);
			return -1;
		}
		if (*n == cap) {
			uint64_t *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			v = nv;
		}
		v[(*n)++] = seq;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_u64);
	*out = v;
	return 0;
}

static void read_pos(int fd, uint64_t *seq, uint64_t *off, uint32_t *tag)
{
	char buf[POS_LEN + 1];
	unsigned long long a, b, c;
	unsigned t;

	*seq = *off = 0;
	*tag = 0;
	if (pread(fd, buf, POS_LEN, 0) != POS_LEN)
		return;
	buf[POS_LEN] = '\0';
	if (sscanf(buf, "%20llu %20llu %20llu %8x", &a, &b, &c, &t) != 4)
		return;
	*seq = a;
	*off = b;
	*tag = t;
}

static int open_class(struct spool *s, int cls, char *err, size_t errlen)
{
	struct sclass *c = &s->c[cls];
	char path[sizeof(s->base) + 64];
	uint64_t *seqs = NULL, pseq, poff;
	uint32_t ptag;
	size_t n, i;

	c->wfd = c->rfd = c->posfd = -1;
	c->next_seq = 1;
	snprintf(path, sizeof(path), "%s.%s.pos", s->base, class_names[cls]);
	c->posfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, SPOOL_FILE_MODE);
	if (c->posfd < 0) {
		snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
		return -1;
	}
	read_pos(c->posfd, &pseq, &poff, &ptag);
	if (list_segments(s, cls, &seqs, &n, err, errlen) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct seg g = { seqs[i], 0, 0, false };
		uint64_t prec = 0;
		bool pos_ok = false;
		bool head = c->nseg == 0;

		seg_path(s, cls, g.seq, path, sizeof(path));
		if (seg_check(s, cls, &g, head && g.seq == pseq ? poff : 0, &prec, &pos_ok) != 0) {
			snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
			free(seqs);
			return -1;
		}
		c->next_seq = g.seq + 1;
		if (g.nrec == 0 || (head && g.seq == pseq && pos_ok && prec == g.nrec)) {
			/* Nothing left to send in it. */
			unlink(path);
			continue;
		}
		if (seg_push(c, g.seq, g.size, g.nrec, g.damaged) != 0) {
			snprintf(err, errlen, "out of memory");
			free(seqs);
			return -1;
		}
		if (head && g.seq == pseq && (poff > 0 || ptag != 0)) {
			if (pos_ok) {
				c->head_off = poff;
				c->head_done = prec;
				c->head_tag = ptag;
			} else {
				report(s, "spool %s: saved replay position %" PRIu64 " is not a record "
				       "boundary; replaying the segment from its start (consumers "
				       "drop repeats by event.id)", path, poff);
			}
		}
	}
	free(seqs);
	if (c->nseg > 0 && c->segs[c->nseg - 1].size < s->seg_max) {
		seg_path(s, cls, c->segs[c->nseg - 1].seq, path, sizeof(path));
		c->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
		if (c->wfd < 0) {
			snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
			return -1;
		}
	}
	write_pos(s, cls);
	return 0;
}

int spool_open(struct spool **out, const struct spool_cfg *cfg, char *err, size_t errlen)
{
	struct spool *s;
	char path[sizeof(s->base) + 16];
	size_t i;
	int cls;

	*out = NULL;
	if (cfg->dir == NULL || cfg->dir[0] == '\0' || cfg->name == NULL || cfg->name[0] == '\0') {
		snprintf(err, errlen, "spool needs a directory and a name");
		return -1;
	}
	if (strlen(cfg->dir) >= OUT_PATH_MAX - 1) {
		snprintf(err, errlen, "spool directory name longer than %d bytes", OUT_PATH_MAX - 2);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->lockfd = -1;
	s->peek_class = -1;
	for (cls = 0; cls < SPOOL_NCLASS; cls++)
		s->c[cls].wfd = s->c[cls].rfd = s->c[cls].posfd = -1;
	util_strlcpy(s->dir, cfg->dir, sizeof(s->dir));
	for (i = 0; cfg->name[i] != '\0' && i < SPOOL_NAME_MAX; i++) {
		char ch = cfg->name[i];

		s->name[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ? ch : '_';
	}
	if (s->name[0] == '.') /* never a hidden file, never ".." */
		s->name[0] = '_';
	snprintf(s->base, sizeof(s->base), "%s/%s", s->dir, s->name);
	util_strlcpy(s->label, cfg->label != NULL ? cfg->label : "spool", sizeof(s->label));
	s->max_bytes = cfg->max_bytes < SPOOL_MIN_BYTES ? SPOOL_MIN_BYTES : cfg->max_bytes;
	s->seg_max = s->max_bytes / SPOOL_SEGMENT_DIV;
	if (s->seg_max < SPOOL_MIN_SEGMENT)
		s->seg_max = SPOOL_MIN_SEGMENT;
	if (s->seg_max > SPOOL_MAX_SEGMENT)
		s->seg_max = SPOOL_MAX_SEGMENT;
	s->fsync = cfg->fsync;

	if (mkdir_p(s->dir) != 0) {
		snprintf(err, errlen, "cannot create spool directory %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s.lock", s->base);
	s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, SPOOL_FILE_MODE);
	if (s->lockfd < 0) {
		snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Two sensors appending to one spool would interleave and replay each other's
	 * alerts: one owner at a time. */
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "spool %s is in use by another onpath process (give each "
			 "sensor its own --name or --spool-dir)", path);
		goto fail;
	}
	for (cls = 0; cls < SPOOL_NCLASS; cls++)
		if (open_class(s, cls, err, errlen) != 0)
			goto fail;
	update_stats(s);
	if (s->st.alerts > 0 || s->st.records > 0)
		report(s, "spool %s holds %" PRIu64 " alerts and %" PRIu64 " records from an "
		       "earlier run (%" PRIu64 " bytes); they are sent first", s->base,
		       s->st.alerts, s->st.records, s->st.bytes);
	*out = s;
	return 0;
fail:
	spool_close(s);
	return -1;
}

void spool_close(struct spool *s)
{
	int cls;

	if (s == NULL)
		return;
	for (cls = 0; cls < SPOOL_NCLASS; cls++) {
		struct sclass *c = &s->c[cls];

		if (c->wfd >= 0) {
			if (c->dirty && s->fsync != OUT_FSYNC_NEVER)
				fdatasync(c->wfd);
			close(c->wfd);
		}
		if (c->rfd >= 0)
			close(c->rfd);
		if (c->posfd >= 0) {
			if (s->fsync != OUT_FSYNC_NEVER)
				fdatasync(c->posfd);
			close(c->posfd);
		}
		free(c->segs);
	}
	if (s->lockfd >= 0)
		close(s->lockfd); /* releases the flock */
	free(s->rbuf);
	free(s->wbuf);
	free(s->peek_end);
	free(s);
}

/* ---------------------------------------------------------------- append */

/* Reports entering a "full" episode, and alerts starting to be lost in it: once each,
 * before the counters move (the summary at the end subtracts the values saved here). */
static void note_full(struct spool *s, bool alert)
{
	if (!s->full) {
		s->full = true;
		s->full_alerts = false;
		s->full_lost0 = s->st.lost_alerts;
		s->full_dropped0 = s->st.dropped_records;
		report(s, "spool %s is full (%" PRIu64 " of %" PRIu64 " bytes): the oldest "
		       "informational records are dropped to keep the alerts; drops are counted "
		       "(metrics, heartbeat) and summed up when the spool is empty again", s->base,
		       s->st.bytes, s->max_bytes);
	}
	if (alert && !s->full_alerts) {
		s->full_alerts = true;
		report(s, "spool %s is full of alerts (%" PRIu64 " bytes): ALERTS ARE NOW LOST "
		       "until the server takes the spool; raise spool_max or bring the server back",
		       s->base, s->st.bytes);
	}
}

/* Evicts the oldest informational segments until need more bytes fit. */
static int make_room(struct spool *s, uint64_t need)
{
	struct sclass *r = &s->c[SPOOL_RECORDS];

	while (s->c[SPOOL_ALERTS].bytes + r->bytes + need > s->max_bytes && r->nseg > 0) {
		uint64_t lost = r->segs[0].nrec - r->head_done;

		if (lost > 0)
			note_full(s, false);
		s->st.dropped_records += lost;
		seg_retire(s, SPOOL_RECORDS);
	}
	return s->c[SPOOL_ALERTS].bytes + r->bytes + need > s->max_bytes ? -1 : 0;
}

int spool_append(struct spool *s, enum out_kind kind, uint32_t tag, const struct out_meta *meta,
		 const char *line, size_t len)
{
	enum spool_class cls = class_of(kind);
	struct sclass *c = &s->c[cls];
	char hdr[SPOOL_HDR_LEN + 1], kc = kind_char(kind);
	size_t plen, off = 0, need_buf = 8 + 10 + 3 * (META_TOKEN_MAX + 1) + len;
	struct iovec iov[3];
	uint64_t need;
	struct seg *g;
	size_t done = 0, total;
	ssize_t w;
	int iovcnt = 3, k;

	if (grow(&s->wbuf, &s->wcap, need_buf) != 0) {
		errno = ENOMEM;
		return -1;
	}
	off = (size_t)snprintf(s->wbuf, 18, "%d %" PRIx32 " ",
			       meta != NULL && meta->severity > 0 && meta->severity <= 10 ?
			       meta->severity : 0, tag);
	off += put_token(s->wbuf + off, meta != NULL ? meta->id : NULL);
	off += put_token(s->wbuf + off, meta != NULL ? meta->action : NULL);
	off += put_token(s->wbuf + off, meta != NULL ? meta->dataset : NULL);
	/* A line holding a newline would end the record early; JSON from jw never does,
	 * and a stray one is made inert rather than trusted. */
	memcpy(s->wbuf + off, line, len);
	for (k = 0; (size_t)k < len; k++)
		if (s->wbuf[off + (size_t)k] == '\n')
			s->wbuf[off + (size_t)k] = ' ';
	plen = off + len;
	need = SPOOL_HDR_LEN + plen + 1;
	if (plen > SPOOL_MAX_RECORD || make_room(s, need) != 0 ||
	    ((c->nseg == 0 || c->wfd < 0 || c->segs[c->nseg - 1].size >= s->seg_max) &&
	     c->nseg >= SPOOL_MAX_SEGMENTS)) {
		note_full(s, cls == SPOOL_ALERTS);
		if (cls == SPOOL_ALERTS)
			s->st.lost_alerts++;
		else
			s->st.dropped_records++;
		update_stats(s);
		return 1;
	}
	if ((c->nseg == 0 || c->wfd < 0 || c->segs[c->nseg - 1].size >= s->seg_max) &&
	    seg_new(s, cls) != 0)
		return -1;
	g = &c->segs[c->nseg - 1];
	snprintf(hdr, sizeof(hdr), "@1 %c %08zx %016" PRIx64 " ", kc, plen,
		 checksum(kc, s->wbuf, plen));
	iov[0].iov_base = hdr;
	iov[0].iov_len = SPOOL_HDR_LEN;
	iov[1].iov_base = s->wbuf;
	iov[1].iov_len = plen;
	iov[2].iov_base = "\n";
	iov[2].iov_len = 1;
	total = (size_t)need;
	k = 0;
	while (done < total) {
		w = writev(c->wfd, iov + k, iovcnt - k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			/* Leave no half record behind: the next append would follow it. If it
			 * cannot be cut, the segment is closed with it at its end, where a
			 * torn tail is expected and skipped. */
			if (done > 0 && ftruncate(c->wfd, (off_t)g->size) != 0) {
				g->size += done;
				c->bytes += done;
				close(c->wfd);
				c->wfd = -1;
			}
			errno = e;
			return -1;
		}
		done += (size_t)w;
		while (k < iovcnt && (size_t)w >= iov[k].iov_len) {
			w -= (ssize_t)iov[k].iov_len;
			k++;
		}
		if (k < iovcnt) {
			iov[k].iov_base = (char *)iov[k].iov_base + w;
			iov[k].iov_len -= (size_t)w;
		}
	}
	g->size += need;
	g->nrec++;
	c->bytes += need;
	c->dirty = true;
	s->st.appended++;
	if (s->fsync == OUT_FSYNC_ALWAYS) {
		fdatasync(c->wfd);
		c->dirty = false;
	}
	update_stats(s);
	return 0;
}

int spool_sync(struct spool *s)
{
	int cls, rc = 0;

	if (s->fsync == OUT_FSYNC_NEVER)
		return 0;
	for (cls = 0; cls < SPOOL_NCLASS; cls++) {
		struct sclass *c = &s->c[cls];

		if (c->dirty && c->wfd >= 0 && fdatasync(c->wfd) != 0)
			rc = -1;
		c->dirty = false;
	}
	return rc;
}

/* ---------------------------------------------------------------- replay */

bool spool_empty(const struct spool *s)
{
	return s->st.alerts == 0 && s->st.records == 0;
}

/* Reads the next records of one class into recs. The window is filled once before
 * the first record is handed out and never moved after, so every record returned
 * stays where it was read. */
static int peek_class(struct spool *s, int cls, struct spool_rec *recs, size_t max,
		      size_t max_bytes)
{
	struct sclass *c = &s->c[cls];
	char path[sizeof(s->base) + 64];

	while (c->nseg > 0) {
		struct seg *g = &c->segs[0];
		size_t n = 0, bytes = 0;
		uint64_t want;
		struct win w;

		if (c->head_off >= g->size || c->head_done >= g->nrec) {
			seg_retire(s, cls); /* replayed (or only damage left) */
			continue;
		}
		if (c->rfd < 0 || c->rseq != g->seq) {
			if (c->rfd >= 0)
				close(c->rfd);
			seg_path(s, cls, g->seq, path, sizeof(path));
			c->rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (c->rfd < 0)
				return -1;
			c->rseq = g->seq;
		}
		if (win_open(s, &w, c->rfd, c->head_off, g->size) != 0)
			return -1;
		want = g->size - c->head_off;
		if (want > (max_bytes > READ_CHUNK ? max_bytes : READ_CHUNK))
			want = max_bytes > READ_CHUNK ? max_bytes : READ_CHUNK;
		if (win_fill(s, &w, (size_t)want) < 0)
			return -1;
		while (n < max && (n == 0 || bytes < max_bytes)) {
			size_t av = w.end - w.start, total, plen;
			int p;

			if (av == 0) {
				ssize_t more;

				if (n > 0)
					break;
				if ((more = win_fill(s, &w, SPOOL_HDR_LEN)) < 0)
					return -1;
				if (more == 0)
					break; /* end of the segment */
				continue;
			}
			p = parse_rec(w.buf + w.start, av, &total, &plen);
			if (p == P_MORE) {
				ssize_t more;

				if (n > 0)
					break; /* read it next time, with a fresh window */
				if ((more = win_fill(s, &w, total > 0 ? total : SPOOL_HDR_LEN)) < 0)
					return -1;
				if ((size_t)more > av)
					continue;
				/* the file ends inside it: damage, below */
			}
			if (p == P_OK && split_payload(w.buf + w.start + SPOOL_HDR_LEN, plen,
						       w.buf[w.start + 3], &recs[n]) == 0) {
				if (s->peek_cap <= n) {
					size_t ncap = s->peek_cap ? s->peek_cap * 2 : 256;
					uint64_t *pe;

					while (ncap <= n)
						ncap *= 2;
					pe = realloc(s->peek_end, ncap * sizeof(*pe));
					if (pe == NULL)
						return -1;
					s->peek_end = pe;
					s->peek_cap = ncap;
				}
				if (w.foff + w.start == c->head_off && c->head_tag != 0)
					recs[n].tag = c->head_tag;
				w.start += total;
				s->peek_end[n++] = w.foff + w.start;
				bytes += total;
				continue;
			}
			if (n > 0)
				break; /* hand out the good ones; the next peek skips the rest */
			/* Damage: reported by the start-up check already, or new (the file
			 * changed under us). Skip to the next record, as consumed. */
			if (!g->damaged) {
				report(s, "spool %s.%s.%010" PRIu64 ".spool: damaged record at offset %"
				       PRIu64 " skipped", s->base, class_names[cls], g->seq,
				       w.foff + w.start);
				s->st.damaged++;
			}
			if (win_resync(s, &w) != 0)
				return -1;
			c->head_off = w.foff + w.start;
			c->head_tag = 0;
		}
		if (n > 0) {
			s->peek_class = cls;
			s->peek_n = n;
			return (int)n;
		}
		/* Nothing readable was left in this segment. */
		c->head_off = g->size;
		c->head_done = g->nrec;
	}
	return 0;
}

int spool_peek(struct spool *s, struct spool_rec *recs, size_t max, size_t max_bytes)
{
	int cls, n;

	s->peek_class = -1;
	s->peek_n = 0;
	if (max == 0)
		return 0;
	for (cls = 0; cls < SPOOL_NCLASS; cls++) {
		n = peek_class(s, cls, recs, max, max_bytes);
		if (n != 0) {
			update_stats(s);
			return n;
		}
	}
	update_stats(s);
	return 0;
}

int spool_consume(struct spool *s, size_t n, uint32_t next_tag)
{
	struct sclass *c;
	int cls = s->peek_class;

	if (n == 0 && next_tag == 0)
		return 0;
	if (cls < 0 || n > s->peek_n || (next_tag != 0 && n >= s->peek_n)) {
		errno = EINVAL;
		return -1;
	}
	c = &s->c[cls];
	if (n > 0) {
		c->head_off = s->peek_end[n - 1];
		c->head_done += n;
		c->head_tag = 0;
		s->st.replayed += n;
	}
	if (next_tag != 0)
		c->head_tag = next_tag;
	s->peek_class = -1;
	s->peek_n = 0;
	if (c->head_done >= c->segs[0].nrec && c->head_off >= c->segs[0].size)
		seg_retire(s, cls); /* writes the position */
	else
		write_pos(s, cls);
	update_stats(s);
	return 0;
}

void spool_get_stats(const struct spool *s, struct spool_stats *st)
{
	*st = s->st;
}

const char *spool_base(const struct spool *s)
{
	return s->base;
}

void spool_publish_health(struct spool *sp, struct out_health *h)
{
	struct spool_stats st;

	spool_get_stats(sp, &st);
	out_health_set(&h->spool_bytes, st.bytes);
	out_health_set(&h->spool_alerts, st.alerts);
	out_health_set(&h->spool_records, st.records);
	out_health_set(&h->spool_dropped, st.dropped_records);
	out_health_set(&h->spooled, st.appended);
	out_health_set(&h->replayed, st.replayed);
}
