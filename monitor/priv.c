#include "config.h"

/* priv.c - least privilege after start-up (see priv.h).
 *
 * Order matters: the user is looked up while NSS still works, then libcap-ng changes
 * the ids (setgroups, setresgid, setresuid) and clears every capability, the bounding
 * set included; then no_new_privs, then the seccomp filter. All of it before any
 * thread starts, so every thread inherits the result (the filter is also loaded with
 * TSYNC in case a library started one).
 *
 * The allow-list is what the steady state needs: reading the capture (poll, recvfrom,
 * the ring's mmap), writing outputs (files, Redis and syslog sockets, reconnects), the
 * spool and state files (open, rename, unlink, fsync), the metrics HTTP server (accept,
 * a thread per connection), SIGHUP reloads (reading config and signatures), timers and
 * memory. Anything else fails with EPERM; execve, execveat and ptrace end the process:
 * nothing in onpath runs a program or traces one, so either means the process is no
 * longer ours. Model: OpenSSH's sandbox-seccomp-filter.c (deny by default, a short
 * allow-list, a kill for what must never happen).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "priv.h"
#include "util.h"

/* Syscalls of the steady state, by name: libseccomp resolves them for the running
 * architecture and a name the architecture lacks is skipped. */
static const char *const allowed[] = {
	/* files and descriptors */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close",
	"fstat", "newfstatat", "stat", "lstat", "statx", "open", "openat", "fcntl", "ioctl",
	"dup", "dup2", "dup3", "pipe", "pipe2", "eventfd2", "rename", "renameat",
	"renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "fsync", "fdatasync",
	"ftruncate", "fallocate", "getdents64", "fchmod", "umask", "access", "faccessat",
	"faccessat2", "readlink", "readlinkat", "getcwd", "fadvise64", "flock",
	/* waiting and time */
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "nanosleep", "clock_nanosleep",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "timerfd_create",
	"timerfd_settime",
	/* memory and threads */
	"mmap", "munmap", "mremap", "mprotect", "brk", "madvise", "futex", "futex_waitv",
	"set_robust_list", "get_robust_list", "rseq", "clone", "clone3", "exit", "exit_group",
	"sched_yield", "sched_getaffinity", "set_tid_address", "membarrier", "prctl",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "tkill",
	"rt_sigtimedwait",
	/* sockets: outputs, reconnects, the metrics server, the capture */
	"socket", "connect", "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg",
	"recvmmsg", "getsockopt", "setsockopt", "getsockname", "getpeername", "bind",
	"listen", "accept", "accept4", "shutdown",
	/* who and what am I */
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "uname", "getrandom", "getrusage", "sysinfo",
	"prlimit64", "getrlimit", "getpriority",
};

/* What no code path of onpath does: reaching one is an attack, and the process ends. */
static const char *const fatal[] = { "execve", "execveat", "ptrace", "process_vm_writev" };

#if defined(__SANITIZE_ADDRESS__)
#define PRIV_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_SANITIZER 1
#endif
#endif
#ifndef PRIV_SANITIZER
#define PRIV_SANITIZER 0
#endif

static int add_rules(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action,
		     char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int rc = seccomp_rule_add(ctx, action, nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp: cannot add a rule for %s: %s", names[i],
				 strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static int install_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc;

	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot create a filter");
		return -1;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0 ||
	    add_rules(ctx, allowed, ONPATH_ARRAY_LEN(allowed), SCMP_ACT_ALLOW, err, errlen) < 0 ||
	    add_rules(ctx, fatal, ONPATH_ARRAY_LEN(fatal), SCMP_ACT_KILL_PROCESS, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "seccomp: cannot set up the filter");
		seccomp_release(ctx);
		return -1;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static int lookup(const char *user, struct passwd **pw, char *err, size_t errlen)
{
	errno = 0;
	*pw = getpwnam(user);
	if (!*pw) {
		snprintf(err, errlen, "user %s: %s", user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	if ((*pw)->pw_uid == 0) {
		snprintf(err, errlen, "user %s: has uid 0; give an unprivileged user", user);
		return -1;
	}
	return 0;
}

int priv_chown_for(const struct priv_cfg *pc, const char *path, bool dir_contents, char *err,
		   size_t errlen)
{
	struct passwd *pw;
	struct stat st;

	if (!pc->user || !pc->user[0] || !path || !path[0] || geteuid() != 0)
		return 0;
	if (lookup(pc->user, &pw, err, errlen) < 0)
		return -1;
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	/* Never through a symlink: the paths come from the config, the files may not. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode) && (st.st_mode & (S_ISVTX | S_IWOTH))) {
		/* A shared directory such as /tmp is nobody's to give away. */
		close(fd);
		return 0;
	}
	if (fchown(fd, uid, gid) < 0) {
		snprintf(err, errlen, "%s: cannot give it to %s: %s", path, pc->user, strerror(errno));
		close(fd);
		return -1;
	}
	if (dir_contents && S_ISDIR(st.st_mode)) {
		DIR *d = fdopendir(fd);
		struct dirent *e;
		if (!d) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		while ((e = readdir(d)) != NULL) {
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode) &&
			    fchownat(dirfd(d), e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
				snprintf(err, errlen, "%s/%s: cannot give it to %s: %s", path, e->d_name,
					 pc->user, strerror(errno));
				closedir(d);
				return -1;
			}
		}
		closedir(d);
		return 0;
	}
	close(fd);
	return 0;
}

int priv_drop(const struct priv_cfg *pc, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!pc->user || !pc->user[0])
		return 0;
	struct passwd *pw;
	if (lookup(pc->user, &pw, err, errlen) < 0)
		return -1;
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (getuid() == uid && geteuid() == uid) {
		/* Already that user (started by it): only capabilities to shed. */
	} else if (geteuid() != 0) {
		snprintf(err, errlen, "-u %s: only root can change to another user", pc->user);
		return -1;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	int rc = getuid() == uid ? capng_apply(CAPNG_SELECT_BOTH)
				 : capng_change_id((int)uid, (int)gid,
						   CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc < 0) {
		snprintf(err, errlen, "cannot change to user %s (uid %u): libcap-ng error %d", pc->user,
			 (unsigned)uid, rc);
		return -1;
	}
	/* Verify rather than trust: a half-done change must not run as root. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    setuid(0) == 0) {
		snprintf(err, errlen, "the change to user %s did not take", pc->user);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (!pc->seccomp)
		return 0;
	if (PRIV_SANITIZER) {
		/* LeakSanitizer stops the world at exit with ptrace. */
		fprintf(stderr, "onpath: seccomp filter not installed: sanitizer build\n");
		return 0;
	}
	return install_seccomp(err, errlen);
}
