/* SPDX-License-Identifier: MIT */
/*
 * File identity on the host kernel, no DRM device: every method on pipes,
 * sockets, eventfds, regular files, dup()s, re-opens and SCM_RIGHTS copies;
 * SHWS_IDENTITY forcing each method; EMFILE; bad input.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <shws/file.h>
#include <shws/identity.h>

#include "identity_priv.h"
#include "test.h"

static const enum shws_identity_method methods[] = {
	SHWS_IDENTITY_METHOD_DUPFD_QUERY,
	SHWS_IDENTITY_METHOD_KCMP,
	SHWS_IDENTITY_METHOD_EPOLL,
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static bool kernel_at_least(int want_major, int want_minor)
{
	struct utsname u;
	int maj = 0, min = 0;

	CHECK_SYS(uname(&u));
	CHECK_INT(sscanf(u.release, "%d.%d", &maj, &min), ==, 2);
	return maj > want_major || (maj == want_major && min >= want_minor);
}

/* F_DUPFD_QUERY arrived in Linux 6.10; before, fcntl() rejects it (EINVAL)
 * and shws must answer UNKNOWN, never guess. kcmp and epoll work on every
 * kernel shws supports (CONFIG_KCMP is on in Debian's and this host's). */
static bool method_works(enum shws_identity_method m)
{
	return m != SHWS_IDENTITY_METHOD_DUPFD_QUERY || kernel_at_least(6, 10);
}

/* Expected answer of @m for a pair that is (or is not) the same file, for
 * files that support poll (everything here except regular files). */
static void expect_pair(int a, int b, bool same, const char *what)
{
	int want = same ? SHWS_IDENTITY_SAME : SHWS_IDENTITY_DIFFERENT;
	unsigned i;

	for (i = 0; i < N_METHODS; i++) {
		int want_m = method_works(methods[i]) ? want :
							SHWS_IDENTITY_UNKNOWN;
		int r = shws_identity_compare_method(methods[i], a, b);

		if (r != want_m)
			test_fail("%s: %s says %d, want %d", what,
				  shws_identity_method_name(methods[i]), r,
				  want_m);
		/* Symmetric. */
		CHECK_INT(shws_identity_compare_method(methods[i], b, a), ==,
			  want_m);
	}
	CHECK_INT(shws_identity_compare(a, b), ==, want);
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_NONE, a, b),
		  ==, SHWS_IDENTITY_UNKNOWN);
}

static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return (int)CHECK_SYS(open(path, flags | O_CLOEXEC));
}


static void test_probe(void)
{
	unsigned mask = shws_identity_methods();

	/* This test runs unsandboxed: the policy must not exclude anything
	 * and the epoll trick works on every kernel shws supports. */
	CHECK_INT(shws_identity_seccomp_active(), ==, 0);
	CHECK(mask & SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_EPOLL));
	CHECK(!(mask & SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_NONE)));
	if (kernel_at_least(6, 10)) {
		CHECK(mask & SHWS_IDENTITY_METHOD_BIT(
				     SHWS_IDENTITY_METHOD_DUPFD_QUERY));
		CHECK_INT(shws_identity_chosen_method(), ==,
			  SHWS_IDENTITY_METHOD_DUPFD_QUERY);
	}
	/* Exactly the methods this kernel has: the rest of this file expects
	 * each method's answer from method_works(). */
	CHECK(mask & SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_KCMP));
	CHECK_INT(!!(mask & SHWS_IDENTITY_METHOD_BIT(
				    SHWS_IDENTITY_METHOD_DUPFD_QUERY)),
		  ==, kernel_at_least(6, 10));
	CHECK(!strcmp(shws_identity_method_name(SHWS_IDENTITY_METHOD_KCMP),
		      "kcmp"));
	CHECK(!strcmp(shws_identity_method_name((enum shws_identity_method)9),
		      "invalid"));
	test_pass("probe");
}

static void test_pipes(void)
{
	int p[2], q[2], d, r;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_SYS(pipe2(q, O_CLOEXEC));
	d = (int)CHECK_SYS(dup(p[0]));
	expect_pair(p[0], d, true, "pipe dup");
	expect_pair(p[0], p[1], false, "pipe ends");
	expect_pair(p[0], q[0], false, "two pipes");
	CHECK_INT(shws_identity_compare(p[0], p[0]), ==, SHWS_IDENTITY_SAME);
	/* A re-open through /proc is a new description of the same pipe. */
	r = reopen(p[0], O_RDONLY | O_NONBLOCK);
	expect_pair(p[0], r, false, "pipe reopen");
	close(r);
	close(d);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	test_pass("pipes");
}

static void test_sockets_eventfds(void)
{
	int s[2], e1, e2, d, passed;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	e1 = (int)CHECK_SYS(eventfd(0, EFD_CLOEXEC));
	e2 = (int)CHECK_SYS(eventfd(0, EFD_CLOEXEC));
	expect_pair(s[0], s[1], false, "socketpair ends");
	d = (int)CHECK_SYS(fcntl(s[0], F_DUPFD_CLOEXEC, 0));
	expect_pair(s[0], d, true, "socket dup");
	close(d);
	expect_pair(e1, e2, false, "two eventfds");
	d = (int)CHECK_SYS(dup(e1));
	expect_pair(e1, d, true, "eventfd dup");
	/* SCM_RIGHTS installs the same struct file under a new number. */
	passed = test_pass_fd_over(s[0], s[1], e1);
	CHECK_INT(passed, !=, e1);
	expect_pair(e1, passed, true, "eventfd via SCM_RIGHTS");
	expect_pair(e2, passed, false, "other eventfd via SCM_RIGHTS");
	close(passed);
	close(d);
	close(e1);
	close(e2);
	close(s[0]);
	close(s[1]);
	test_pass("sockets-eventfds-scm-rights");
}

/* Regular files do not support poll: the epoll trick cannot answer. */
static void test_regular_files(void)
{
	char tmpl[] = "/tmp/shws-identity-XXXXXX";
	int f = (int)CHECK_SYS(mkostemp(tmpl, O_CLOEXEC)), g, d;

	unlink(tmpl);
	g = reopen(f, O_RDWR);
	d = (int)CHECK_SYS(dup(f));
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, f, d),
		  ==, SHWS_IDENTITY_UNKNOWN);
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_KCMP, f, d),
		  ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_KCMP, f, g),
		  ==, SHWS_IDENTITY_DIFFERENT);
	/* Auto falls through to a method that can answer. */
	CHECK_INT(shws_identity_compare(f, d), ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare(f, g), ==, SHWS_IDENTITY_DIFFERENT);
	close(d);
	close(g);
	close(f);
	test_pass("regular-files");
}

static void test_bad_input(void)
{
	int p[2], o, od, closed;
	unsigned i;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	closed = (int)CHECK_SYS(dup(p[0]));
	close(closed);
	CHECK_INT(shws_identity_compare(-1, p[0]), ==, -EBADF);
	CHECK_INT(shws_identity_compare(p[0], -1), ==, -EBADF);
	CHECK_INT(shws_identity_compare(closed, p[0]), ==, -EBADF);
	CHECK_INT(shws_identity_compare(p[0], closed), ==, -EBADF);
	CHECK_INT(shws_identity_compare(closed, closed), ==, -EBADF);
	for (i = 0; i < N_METHODS; i++) {
		CHECK_INT(shws_identity_compare_method(methods[i], closed, p[0]),
			  ==, -EBADF);
		CHECK_INT(shws_identity_compare_method(methods[i], p[0], -5),
			  ==, -EBADF);
	}
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_NONE,
					       closed, p[0]), ==, -EBADF);
	CHECK_INT(shws_identity_compare_method((enum shws_identity_method)42,
					       p[0], p[0]), ==, -EINVAL);

	/* O_PATH: valid fds; epoll cannot register them (EBADF), which
	 * must come out as UNKNOWN, not as "bad fd". */
	o = (int)CHECK_SYS(open("/", O_PATH | O_CLOEXEC));
	od = (int)CHECK_SYS(dup(o));
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, o, od),
		  ==, SHWS_IDENTITY_UNKNOWN);
	CHECK_INT(shws_identity_compare(o, od), ==, SHWS_IDENTITY_SAME);
	close(od);
	close(o);
	close(p[0]);
	close(p[1]);
	test_pass("bad-input");
}

static void force(const char *value)
{
	if (value)
		setenv("SHWS_IDENTITY", value, 1);
	else
		unsetenv("SHWS_IDENTITY");
	shws_identity_reset();
}

static void test_env_override(void)
{
	int p[2], d;
	unsigned i;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	d = (int)CHECK_SYS(dup(p[0]));
	for (i = 0; i < N_METHODS; i++) {
		const char *name = shws_identity_method_name(methods[i]);

		force(name);
		if (!method_works(methods[i])) {
			/* Forced onto a method this kernel lacks: no method
			 * at all, so every answer is UNKNOWN. */
			CHECK_INT(shws_identity_chosen_method(), ==,
				  SHWS_IDENTITY_METHOD_NONE);
			CHECK_INT(shws_identity_methods(), ==, 0);
			CHECK_INT(shws_identity_compare(p[0], d), ==,
				  SHWS_IDENTITY_UNKNOWN);
			continue;
		}
		CHECK_INT(shws_identity_chosen_method(), ==, methods[i]);
		CHECK_INT(shws_identity_methods(), ==,
			  SHWS_IDENTITY_METHOD_BIT(methods[i]));
		CHECK_INT(shws_identity_compare(p[0], d), ==,
			  SHWS_IDENTITY_SAME);
		CHECK_INT(shws_identity_compare(p[0], p[1]), ==,
			  SHWS_IDENTITY_DIFFERENT);
	}
	force("none");
	CHECK_INT(shws_identity_chosen_method(), ==, SHWS_IDENTITY_METHOD_NONE);
	CHECK_INT(shws_identity_methods(), ==, 0);
	CHECK_INT(shws_identity_compare(p[0], d), ==, SHWS_IDENTITY_UNKNOWN);
	CHECK_INT(shws_identity_compare(p[0], p[1]), ==, SHWS_IDENTITY_UNKNOWN);
	CHECK_INT(shws_identity_compare(p[0], p[0]), ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare(p[0], -1), ==, -EBADF);

	/* Forcing epoll on regular files: UNKNOWN, never a guess. */
	force("epoll");
	{
		char tmpl[] = "/tmp/shws-identity-XXXXXX";
		int f = (int)CHECK_SYS(mkostemp(tmpl, O_CLOEXEC));
		int g = (int)CHECK_SYS(dup(f));

		unlink(tmpl);
		CHECK_INT(shws_identity_compare(f, g), ==,
			  SHWS_IDENTITY_UNKNOWN);
		close(g);
		close(f);
	}

	force("nonsense"); /* falls back to auto */
	CHECK_INT(shws_identity_chosen_method(), !=, SHWS_IDENTITY_METHOD_NONE);
	CHECK_INT(shws_identity_compare(p[0], d), ==, SHWS_IDENTITY_SAME);
	force("auto");
	CHECK_INT(shws_identity_compare(p[0], p[1]), ==,
		  SHWS_IDENTITY_DIFFERENT);
	force(NULL);
	close(d);
	close(p[0]);
	close(p[1]);
	test_pass("env-override");
}

/* Fills every free fd slot below a lowered RLIMIT_NOFILE. */
static int fill_fds(int *fillers, int max, struct rlimit *saved)
{
	struct rlimit lim;
	int n = 0, fd;

	CHECK_SYS(getrlimit(RLIMIT_NOFILE, saved));
	lim = *saved;
	lim.rlim_cur = 64;
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &lim));
	while (n < max && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fillers[n++] = fd;
	CHECK_INT(errno, ==, EMFILE);
	return n;
}

static void unfill_fds(int *fillers, int n, const struct rlimit *saved)
{
	while (n--)
		close(fillers[n]);
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, saved));
}

static void test_emfile(void)
{
	int p[2], d, fillers[64], n, r;
	struct rlimit saved;
	struct shws_file *file = NULL;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	d = (int)CHECK_SYS(dup(p[0]));

	force("epoll");
	CHECK_INT(shws_identity_methods(), ==,
		  SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_EPOLL));
	n = fill_fds(fillers, 64, &saved);
	CHECK_INT(shws_identity_compare(p[0], d), ==, SHWS_IDENTITY_UNKNOWN);
	CHECK_INT(shws_identity_compare(p[0], p[1]), ==, SHWS_IDENTITY_UNKNOWN);
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_EPOLL, p[0],
					       d), ==, SHWS_IDENTITY_UNKNOWN);
	/* F_DUPFD_QUERY needs no fd slot. */
	CHECK_INT(shws_identity_compare_method(SHWS_IDENTITY_METHOD_DUPFD_QUERY,
					       p[0], d), ==,
		  method_works(SHWS_IDENTITY_METHOD_DUPFD_QUERY) ?
			  SHWS_IDENTITY_SAME : SHWS_IDENTITY_UNKNOWN);
	/* Auto cannot even read /proc/self/status: it must not guess. */
	force(NULL);
	r = shws_identity_compare(p[0], p[1]);
	CHECK(r == SHWS_IDENTITY_DIFFERENT || r == SHWS_IDENTITY_UNKNOWN);
	r = shws_identity_compare(p[0], d);
	CHECK(r == SHWS_IDENTITY_SAME || r == SHWS_IDENTITY_UNKNOWN);
	/* Registering a file is impossible without a slot for the dup, but
	 * a pipe is rejected before that. */
	CHECK_INT(shws_file_open(p[0], 0, SHWS_API_GL, &file), ==, -ENOTTY);
	CHECK(file == NULL);
	unfill_fds(fillers, n, &saved);

	/* The failed probe was not cached: with slots free, answers again. */
	CHECK_INT(shws_identity_compare(p[0], d), ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare(p[0], p[1]), ==,
		  SHWS_IDENTITY_DIFFERENT);
	close(d);
	close(p[0]);
	close(p[1]);
	test_pass("emfile");
}

/* A file that is not a DRM node: documented errno, fd untouched. */
static void expect_not_device(int fd, int want, const char *what)
{
	struct shws_file *file = (struct shws_file *)&file;
	int flags = fcntl(fd, F_GETFL), fdflags = fcntl(fd, F_GETFD);
	int before = test_fd_count();
	int r = shws_file_open(fd, 0, SHWS_API_VA, &file);

	if (r != want)
		test_fail("shws_file_open(%s) = %d, 0, want %d", what, r, want);
	CHECK(file == (struct shws_file *)&file);
	CHECK_INT(test_fd_count(), ==, before);
	if (fd >= 0 && flags >= 0) {
		CHECK_INT(fcntl(fd, F_GETFL), ==, flags);
		CHECK_INT(fcntl(fd, F_GETFD), ==, fdflags);
	}
}

static void test_file_open_bad_input(void)
{
	char tmpl[] = "/tmp/shws-identity-XXXXXX";
	int p[2], s[2], f, o, n, closed;
	struct shws_file *file = NULL;
	uint64_t ino = 7;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	f = (int)CHECK_SYS(mkostemp(tmpl, O_CLOEXEC));
	unlink(tmpl);
	o = (int)CHECK_SYS(open("/dev/null", O_PATH | O_CLOEXEC));
	n = (int)CHECK_SYS(open("/dev/null", O_RDWR | O_CLOEXEC));
	closed = (int)CHECK_SYS(dup(n));
	close(closed);

	expect_not_device(-1, -EBADF, "-1");
	expect_not_device(closed, -EBADF, "closed fd");
	expect_not_device(p[0], -ENOTTY, "pipe");
	expect_not_device(s[0], -ENOTTY, "socket");
	expect_not_device(f, -ENOTTY, "regular file");
	expect_not_device(n, -ENOTTY, "/dev/null");
	expect_not_device(o, -EBADF, "O_PATH");
	CHECK_INT(shws_file_open(n, 0, (enum shws_api)17, &file), ==, -EINVAL);
	CHECK_INT(shws_file_open(n, 0, SHWS_API_GL, NULL), ==, -EINVAL);
	CHECK(file == NULL);

	CHECK_INT(shws_identity_same_device(p[0], n), ==, -ENOTTY);
	CHECK_INT(shws_identity_same_device(-1, n), ==, -EBADF);
	CHECK_INT(shws_identity_same_device(o, o), ==, -EBADF);
	CHECK_INT(shws_identity_dmabuf_ino(p[0], &ino), ==, -EINVAL);
	CHECK_INT(shws_identity_dmabuf_ino(f, &ino), ==, -EINVAL);
	CHECK_INT(shws_identity_dmabuf_ino(closed, &ino), ==, -EBADF);
	CHECK_INT(ino, ==, 7);

	/* NULL-safe unref and ref. */
	CHECK_INT(shws_file_unref(NULL, SHWS_API_GL), ==, 0);
	CHECK_INT(shws_file_ref(NULL, SHWS_API_GL), ==, -EINVAL);
	CHECK(!strcmp(shws_api_name(SHWS_API_VULKAN), "vulkan"));
	CHECK(!strcmp(shws_api_name((enum shws_api)99), "invalid"));
	CHECK(!strcmp(shws_node_type_name(SHWS_NODE_ACCEL), "accel"));

	close(n);
	close(o);
	close(f);
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
	test_pass("file-open-bad-input");
}

int main(void)
{
	int before;

	unsetenv("SHWS_IDENTITY");
	before = test_fd_count();
	test_probe();
	test_pipes();
	test_sockets_eventfds();
	test_regular_files();
	test_bad_input();
	test_env_override();
	test_emfile();
	test_file_open_bad_input();
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
