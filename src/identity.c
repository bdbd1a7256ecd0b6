/* SPDX-License-Identifier: MIT */
/*
 * Kernel file identity. See include/shws/identity.h and docs/identity.md.
 *
 * State: the probe result and the policy are computed once, under
 * probe_lock, and then read without a lock (atomics). The only state that
 * changes afterwards is the sticky "seccomp seen" bit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <shws/identity.h>

#include "fd_kind.h"
#include "identity_priv.h"
#include "util.h"

#ifndef F_DUPFD_QUERY
#define F_DUPFD_QUERY 1027 /* include/uapi/linux/fcntl.h, Linux 6.10 */
#endif

#define RISKY_METHODS                                      \
	(SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_DUPFD_QUERY) | \
	 SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_KCMP))

/* A method answers 1 (same), 0 (different) or a negative errno. */
typedef int (*method_fn)(int a, int b);

static int by_dupfd_query(int a, int b)
{
	int r = fcntl(a, F_DUPFD_QUERY, b);

	/* Kernels before 6.10 reject the unknown command with EINVAL. */
	return r < 0 ? -errno : r == 1;
}

static int by_kcmp(int a, int b)
{
	pid_t pid = getpid();
	long r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);

	/* 1 and 2 both mean "different" (they only order the two files). */
	return r < 0 ? -errno : r == 0;
}

/*
 * epoll keys its items by (struct file, fd number). Register the file of
 * @a under a scratch fd number t, then point t at the file of @b and
 * register again: EEXIST iff it is the same struct file. A fresh epoll
 * instance each time, so no earlier item can match by accident.
 */
static int by_epoll(int a, int b)
{
	struct epoll_event ev = { .events = 0 };
	int ep, t, r;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	t = fcntl(a, F_DUPFD_CLOEXEC, 0);
	if (t < 0) {
		r = -errno;
		goto out_ep;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) < 0) {
		r = -errno;
		goto out_t;
	}
	if (dup3(b, t, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_t;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) == 0)
		r = 0;
	else
		r = errno == EEXIST ? 1 : -errno;
out_t:
	close(t);
out_ep:
	close(ep);
	return r;
}

static method_fn method_fns[] = {
	[SHWS_IDENTITY_METHOD_NONE] = NULL,
	[SHWS_IDENTITY_METHOD_DUPFD_QUERY] = by_dupfd_query,
	[SHWS_IDENTITY_METHOD_KCMP] = by_kcmp,
	[SHWS_IDENTITY_METHOD_EPOLL] = by_epoll,
};

static const char *const method_names[] = {
	[SHWS_IDENTITY_METHOD_NONE] = "none",
	[SHWS_IDENTITY_METHOD_DUPFD_QUERY] = "dupfd_query",
	[SHWS_IDENTITY_METHOD_KCMP] = "kcmp",
	[SHWS_IDENTITY_METHOD_EPOLL] = "epoll",
};

#define N_METHODS ((int)SHWS_ARRAY_SIZE(method_fns))

/* The policy: which methods shws_identity_compare() may use. */
enum policy { POLICY_AUTO = -1 }; /* else a forced enum shws_identity_method */

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool probed;
static int policy = POLICY_AUTO;
static atomic_uint works;           /* methods probed and working */
static atomic_bool seccomp_seen;    /* sticky: filters are never removed */

SHWS_EXPORT const char *shws_identity_method_name(enum shws_identity_method m)
{
	if ((int)m < 0 || (int)m >= N_METHODS)
		return "invalid";
	return method_names[m];
}

/* 1 if "Seccomp:\t2" (filter mode), 0 if another mode, -errno. */
static int read_seccomp_status(void)
{
	char buf[4096], *p;
	ssize_t n, len = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	p = strstr(buf, "\nSeccomp:");
	if (!p)
		return -ENOENT; /* kernel without CONFIG_SECCOMP */
	p += strlen("\nSeccomp:");
	return strtol(p, NULL, 10) == 2;
}

SHWS_EXPORT int shws_identity_seccomp_active(void)
{
	int r;

	if (atomic_load(&seccomp_seen))
		return 1;
	r = read_seccomp_status();
	if (r == -ENOENT)
		r = 0; /* no seccomp support at all: no filter */
	if (r == 1)
		atomic_store(&seccomp_seen, true);
	return r;
}

static int parse_policy(const char *v)
{
	int m;

	if (!v || !*v || !strcmp(v, "auto"))
		return POLICY_AUTO;
	for (m = 0; m < N_METHODS; m++)
		if (!strcmp(v, method_names[m]))
			return m;
	shws_err("SHWS_IDENTITY=%s is not auto|dupfd_query|kcmp|epoll|none; "
		 "using auto", v);
	return POLICY_AUTO;
}

/* A method works if it answers "same" for a dup and "different" for the
 * other end of a pipe: probe with two *valid* fds, since a bad fd gives
 * EBADF on every kernel and so says nothing about support. */
static bool probe_method(int m, int p0, int p0dup, int p1)
{
	int same = method_fns[m](p0, p0dup);
	int diff = method_fns[m](p0, p1);
	bool ok = same == 1 && diff == 0;

	shws_dbg("identity probe %s: dup %d, other %d -> %s", method_names[m],
		 same, diff, ok ? "works" : "unusable");
	return ok;
}

static unsigned probe_mask(void)
{
	unsigned mask = 0;
	int p[2], d, m;

	if (policy == POLICY_AUTO && shws_identity_seccomp_active() != 0)
		mask = SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_EPOLL);
	else if (policy == POLICY_AUTO)
		mask = ~0u;
	else if (policy != SHWS_IDENTITY_METHOD_NONE)
		mask = SHWS_IDENTITY_METHOD_BIT(policy);
	if (!mask)
		return 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return ~0u; /* EMFILE: retry the probe on a later call */
	d = fcntl(p[0], F_DUPFD_CLOEXEC, 0);
	if (d < 0) {
		close(p[0]);
		close(p[1]);
		return ~0u;
	}
	for (m = 1; m < N_METHODS; m++)
		if (!(mask & SHWS_IDENTITY_METHOD_BIT(m)) ||
		    !probe_method(m, p[0], d, p[1]))
			mask &= ~SHWS_IDENTITY_METHOD_BIT(m);
	close(d);
	close(p[0]);
	close(p[1]);
	/* Bit 0 is METHOD_NONE, which is not a method. */
	return mask & ((1u << N_METHODS) - 1) & ~1u;
}

static void ensure_probed(void)
{
	unsigned mask;

	if (atomic_load_explicit(&probed, memory_order_acquire))
		return;
	pthread_mutex_lock(&probe_lock);
	if (!atomic_load(&probed)) {
		policy = parse_policy(getenv("SHWS_IDENTITY"));
		mask = probe_mask();
		if (mask != ~0u) {
			atomic_store(&works, mask);
			atomic_store_explicit(&probed, true,
					      memory_order_release);
			shws_info("identity: policy %s, methods 0x%x",
				  policy == POLICY_AUTO ?
					  "auto" : method_names[policy],
				  mask);
		}
	}
	pthread_mutex_unlock(&probe_lock);
}

void shws_identity_reset(void)
{
	pthread_mutex_lock(&probe_lock);
	atomic_store(&probed, false);
	atomic_store(&works, 0);
	atomic_store(&seccomp_seen, false);
	pthread_mutex_unlock(&probe_lock);
}

SHWS_EXPORT unsigned shws_identity_methods(void)
{
	ensure_probed();
	return atomic_load(&works);
}

/*
 * The methods the policy allows right now. In auto mode a seccomp filter
 * may have been installed since the probe (sandboxes typically engage
 * after the GPU driver initialised), so re-check before each risky use
 * until one is seen; after that only the epoll method is used.
 */
static unsigned allowed_methods(void)
{
	unsigned mask;

	ensure_probed();
	mask = atomic_load(&works);
	if (policy != POLICY_AUTO || !(mask & RISKY_METHODS))
		return mask;
	if (shws_identity_seccomp_active() != 0)
		mask &= ~RISKY_METHODS;
	return mask;
}

SHWS_EXPORT enum shws_identity_method shws_identity_chosen_method(void)
{
	unsigned mask = allowed_methods();
	int m;

	for (m = 1; m < N_METHODS; m++)
		if (mask & SHWS_IDENTITY_METHOD_BIT(m))
			return m;
	return SHWS_IDENTITY_METHOD_NONE;
}

unsigned shws_identity_allowed(void)
{
	return allowed_methods();
}

int shws_identity_kcmp_order(int a, int b)
{
	pid_t pid = getpid();
	long r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);

	return r < 0 ? -errno : (int)r;
}

static bool fd_valid(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* A method's failure says nothing about the pair, except EBADF from a
 * really closed fd (the epoll trick also gives EBADF for O_PATH fds). */
static int no_answer(int a, int b)
{
	if (!fd_valid(a) || !fd_valid(b))
		return -EBADF;
	return SHWS_IDENTITY_UNKNOWN;
}

static int run_method(int m, int a, int b)
{
	int r = method_fns[m](a, b);

	if (r >= 0)
		return r ? SHWS_IDENTITY_SAME : SHWS_IDENTITY_DIFFERENT;
	shws_dbg("identity %s(%d, %d) failed: %s", method_names[m], a, b,
		 strerror(-r));
	return r;
}

SHWS_EXPORT int shws_identity_compare_method(enum shws_identity_method method,
					     int fd_a, int fd_b)
{
	int r;

	if ((int)method < 0 || (int)method >= N_METHODS)
		return -EINVAL;
	if (fd_a < 0 || fd_b < 0)
		return -EBADF;
	if (method == SHWS_IDENTITY_METHOD_NONE)
		return no_answer(fd_a, fd_b);
	r = run_method(method, fd_a, fd_b);
	return r >= 0 ? r : no_answer(fd_a, fd_b);
}

int shws_identity_compare_mask(unsigned mask, int fd_a, int fd_b)
{
	int m, r;

	if (fd_a < 0 || fd_b < 0)
		return -EBADF;
	if (fd_a == fd_b)
		return fd_valid(fd_a) ? SHWS_IDENTITY_SAME : -EBADF;
	for (m = 1; m < N_METHODS; m++) {
		if (!(mask & SHWS_IDENTITY_METHOD_BIT(m)))
			continue;
		r = run_method(m, fd_a, fd_b);
		if (r >= 0)
			return r;
		if (r == -EBADF && no_answer(fd_a, fd_b) == -EBADF)
			return -EBADF;
	}
	return no_answer(fd_a, fd_b);
}

SHWS_EXPORT int shws_identity_compare(int fd_a, int fd_b)
{
	if (fd_a < 0 || fd_b < 0)
		return -EBADF;
	return shws_identity_compare_mask(allowed_methods(), fd_a, fd_b);
}

/* fd_kind.h recognises dma-bufs, and learns the dma-buf filesystem's
 * st_dev once, so a known dma-buf costs one fstat(). */
SHWS_EXPORT int shws_identity_dmabuf_ino(int fd, uint64_t *ino)
{
	bool own_inode = false;
	struct stat st;
	int kind;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -EBADF;
	kind = shws_fd_kind_stat(fd, &st, &own_inode);
	if (kind < 0)
		return kind;
	if (kind != SHWS_FD_DMABUF)
		return -EINVAL;
	/* Before 5.3 every anon-inode file shares one inode. */
	if (!own_inode)
		return -EOPNOTSUPP;
	*ino = st.st_ino;
	return 0;
}
