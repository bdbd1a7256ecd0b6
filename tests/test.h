/* SPDX-License-Identifier: MIT */
/*
 * The tiny assertion kit every shws test uses. Assertions are real code, not
 * assert(): they fire in release builds too (NDEBUG changes nothing here).
 * A failing check prints where and why and exits 1. No test ever exits 77
 * (meson's "skip"): a test that cannot run fails.
 */
#ifndef SHWS_TEST_H
#define SHWS_TEST_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define test_fail(...)                                                    \
	do {                                                              \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		exit(1);                                                  \
	} while (0)

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond))                                              \
			test_fail("%s", #cond);                           \
	} while (0)

#define CHECK_INT(a, op, b)                                               \
	do {                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (!(a_ op b_))                                          \
			test_fail("%s %s %s (%lld vs %lld)", #a, #op, #b,  \
				  a_, b_);                                \
	} while (0)

/* A call that returns 0 or a negative errno must return 0. */
#define CHECK_OK(call)                                                    \
	do {                                                              \
		long long r_ = (long long)(call);                          \
		if (r_ != 0)                                              \
			test_fail("%s = %lld (%s)", #call, r_,             \
				  r_ < 0 ? strerror((int)-r_) : "not 0");  \
	} while (0)

/* A libc call that returns -1 and sets errno must not fail. */
#define CHECK_SYS(call)                                                   \
	({                                                                \
		long long r_ = (long long)(call);                          \
		if (r_ == -1)                                             \
			test_fail("%s: %s", #call, strerror(errno));       \
		r_;                                                       \
	})

/* Number of open fds, from /proc/self/fd, for leak checks. */
static inline int test_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		test_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/*
 * piglit's native protocol, spoken only when SHWS_PIGLIT=1 (the profile in
 * piglit-profiles/ sets it; meson and TAP output stay as they are otherwise):
 * each test_pass() also prints  PIGLIT: {"subtest": {"NAME": "pass"}}  and
 * the process's own exit prints  PIGLIT: {"result": "pass"}  or "fail".
 * piglit takes a test's result as the worst of its subtests, so a failing
 * exit after passed subtests also reports the subtest "check-failed" (exit
 * status 1, test_fail) or "nonzero-exit" as fail. on_exit() gives the exit
 * status; forked children that exit() report nothing (pid check).
 */
#include <unistd.h>

__attribute__((weak)) int shws_test_piglit_pid_;
__attribute__((weak)) int shws_test_piglit_subtests_;

static inline void test_piglit_str_(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static inline void test_piglit_subtest_(const char *name, const char *result)
{
	if (!shws_test_piglit_pid_ || shws_test_piglit_pid_ != getpid())
		return;
	printf("PIGLIT: {\"subtest\": {");
	test_piglit_str_(name);
	printf(": \"%s\"}}\n", result);
	shws_test_piglit_subtests_++;
	fflush(stdout);
}

static inline void test_piglit_exit_(int status, void *arg)
{
	(void)arg;
	if (!shws_test_piglit_pid_ || shws_test_piglit_pid_ != getpid())
		return;
	if (status != 0 && shws_test_piglit_subtests_)
		test_piglit_subtest_(status == 1 ? "check-failed" : "nonzero-exit",
				     "fail");
	printf("PIGLIT: {\"result\": \"%s\"}\n", status ? "fail" : "pass");
	fflush(stdout);
}

__attribute__((constructor)) static inline void test_piglit_init_(void)
{
	const char *v = getenv("SHWS_PIGLIT");

	/* Weak globals: one registration per process, however many files
	 * include this header. */
	if (!v || strcmp(v, "1") || shws_test_piglit_pid_)
		return;
	shws_test_piglit_pid_ = getpid();
	on_exit(test_piglit_exit_, NULL);
}

#define test_pass(name)                                                   \
	do {                                                              \
		printf("PASS %s\n", name);                                \
		test_piglit_subtest_(name, "pass");                       \
	} while (0)


/* Sends @fd from socket @tx to its connected peer @rx with SCM_RIGHTS and
 * returns what arrived: the same open file description under a new fd
 * number (CLOEXEC), owned by the caller. @fd, @tx and @rx stay open. */
static inline int test_pass_fd_over(int tx, int rx, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int got;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	CHECK_SYS(sendmsg(tx, &msg, 0));
	memset(cbuf, 0, sizeof(cbuf));
	CHECK_INT(CHECK_SYS(recvmsg(rx, &msg, MSG_CMSG_CLOEXEC)), ==, 1);
	c = CMSG_FIRSTHDR(&msg);
	CHECK(c && c->cmsg_type == SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(c), sizeof(int));
	return got;
}

/* test_pass_fd_over() through a socketpair of its own, closed again. */
static inline int test_pass_fd(int fd)
{
	int s[2], got;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	got = test_pass_fd_over(s[0], s[1], fd);
	close(s[0]);
	close(s[1]);
	return got;
}

#endif
