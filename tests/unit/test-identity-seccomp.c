/* SPDX-License-Identifier: MIT */
/*
 * A real seccomp filter that KILLs the process on kcmp() and on
 * fcntl(F_DUPFD_QUERY), as the sandboxes that killed Mesa did: shws must
 * notice the filter and still answer correctly through the epoll method.
 * Each scenario runs in its own child, since a filter cannot be removed.
 */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shws/identity.h>

#include "identity_priv.h"
#include "seccomp-kill.h"
#include "test.h"


/* Runs @fn in a child; returns its wait status. */
static int in_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = (pid_t)CHECK_SYS(fork());
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	CHECK_SYS(waitpid(pid, &status, 0));
	return status;
}

static void expect_exit_ok(int status, const char *what)
{
	if (WIFSIGNALED(status))
		test_fail("%s: child killed by signal %d", what,
			  WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		test_fail("%s: child failed", what);
}

static void expect_sigsys(int status, const char *what)
{
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		test_fail("%s: child not killed by SIGSYS (status 0x%x)", what,
			  status);
}

static void child_raw_kcmp(void)
{
	pid_t pid = getpid();

	install_filter();
	syscall(SYS_kcmp, pid, pid, KCMP_FILE, 0, 0);
}

static void child_raw_dupfd_query(void)
{
	install_filter();
	CHECK_SYS(fcntl(0, F_GETFD)); /* other fcntl commands still work */
	fcntl(0, F_DUPFD_QUERY, 1);
}

/* The filter really kills in KILL mode, or the rest would prove nothing. */
static void test_filter_kills(void)
{
	expect_sigsys(in_child(child_raw_kcmp), "raw kcmp");
	expect_sigsys(in_child(child_raw_dupfd_query), "raw F_DUPFD_QUERY");
	test_pass("filter-kills");
}

/* Right answers for dups, SCM-less copies and distinct files. */
static void check_answers(void)
{
	int p[2], s[2], e, d1, d2, d3;
	int before = test_fd_count();

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	e = (int)CHECK_SYS(eventfd(0, EFD_CLOEXEC));
	d1 = (int)CHECK_SYS(dup(p[0]));
	d2 = (int)CHECK_SYS(dup(s[1]));
	d3 = (int)CHECK_SYS(dup(e));
	CHECK_INT(shws_identity_compare(p[0], d1), ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare(s[1], d2), ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare(d3, e), ==, SHWS_IDENTITY_SAME);
	CHECK_INT(shws_identity_compare(p[0], p[1]), ==,
		  SHWS_IDENTITY_DIFFERENT);
	CHECK_INT(shws_identity_compare(s[0], d2), ==,
		  SHWS_IDENTITY_DIFFERENT);
	CHECK_INT(shws_identity_compare(e, d1), ==, SHWS_IDENTITY_DIFFERENT);
	CHECK_INT(shws_identity_compare(e, -1), ==, -EBADF);
	close(d1);
	close(d2);
	close(d3);
	close(e);
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
	CHECK_INT(test_fd_count(), ==, before);
}

/* Filter first, shws second: the probe must not touch kcmp/F_DUPFD_QUERY. */
static void child_fresh(void)
{
	shws_identity_reset();
	install_filter();
	CHECK_INT(shws_identity_seccomp_active(), ==, 1);
	CHECK_INT(shws_identity_methods(), ==,
		  SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_EPOLL));
	CHECK_INT(shws_identity_chosen_method(), ==,
		  SHWS_IDENTITY_METHOD_EPOLL);
	check_answers();
}

/* shws probed before the sandbox engaged (the browser GPU-process case):
 * it must notice the filter before its next risky call. */
static void child_after_probe(void)
{
	/* A risky method was probed working before the filter (kcmp on
	 * every kernel here, F_DUPFD_QUERY too from 6.10). */
	CHECK(shws_identity_methods() &
	      (SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_DUPFD_QUERY) |
	       SHWS_IDENTITY_METHOD_BIT(SHWS_IDENTITY_METHOD_KCMP)));
	install_filter();
	check_answers();
	CHECK_INT(shws_identity_chosen_method(), ==,
		  SHWS_IDENTITY_METHOD_EPOLL);
}

/* SHWS_IDENTITY is an override: forcing kcmp under a filter that kills
 * on kcmp must really use kcmp (and so die). */
static void child_forced_kcmp(void)
{
	int p[2];

	setenv("SHWS_IDENTITY", "kcmp", 1);
	shws_identity_reset();
	CHECK_SYS(pipe2(p, O_CLOEXEC));
	install_filter();
	shws_identity_compare(p[0], p[1]);
}

static void child_forced_epoll(void)
{
	setenv("SHWS_IDENTITY", "epoll", 1);
	shws_identity_reset();
	install_filter();
	CHECK_INT(shws_identity_chosen_method(), ==,
		  SHWS_IDENTITY_METHOD_EPOLL);
	check_answers();
}

int main(void)
{
	int before = test_fd_count();

	unsetenv("SHWS_IDENTITY");
	CHECK_INT(shws_identity_seccomp_active(), ==, 0);
	test_filter_kills();

	expect_exit_ok(in_child(child_fresh), "filter before first use");
	test_pass("seccomp-kill-before-probe");

	/* Probe here, in the parent, unsandboxed: the child inherits it. */
	CHECK(shws_identity_chosen_method() != SHWS_IDENTITY_METHOD_EPOLL);
	expect_exit_ok(in_child(child_after_probe), "filter after probe");
	test_pass("seccomp-kill-after-probe");

	expect_sigsys(in_child(child_forced_kcmp), "SHWS_IDENTITY=kcmp");
	expect_exit_ok(in_child(child_forced_epoll), "SHWS_IDENTITY=epoll");
	test_pass("seccomp-env-override");

	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
