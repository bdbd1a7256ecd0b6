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

#define test_pass(name) printf("PASS %s\n", name)

#endif
