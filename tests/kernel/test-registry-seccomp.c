/* SPDX-License-Identifier: MIT */
/*
 * The registry on real DRM fds under a seccomp filter that KILLs on kcmp()
 * and fcntl(F_DUPFD_QUERY): three openers of one description must still
 * share one shws_file (through the epoll method), different opens must
 * still get different files, and nothing may call the forbidden syscalls.
 * Once with the filter installed before shws's first use, once after shws
 * had probed and chosen kcmp (6.1) or F_DUPFD_QUERY (6.10+).
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <shws/file.h>
#include <shws/identity.h>

#include "kt.h"
#include "seccomp-kill.h"


static void sandboxed(void)
{
	int before, app, vk_fd, va_fd, other, r1, r2;
	struct shws_file *gl, *vk, *va, *fo, *f1, *f2;

	install_filter();
	before = test_fd_count();
	app = kt_open_driver("vgem", KT_PRIMARY);
	vk_fd = (int)CHECK_SYS(dup(app));
	va_fd = test_pass_fd(app);
	other = kt_open_driver("vgem", KT_PRIMARY);
	r1 = kt_open_driver("virtio_gpu", KT_RENDER);
	r2 = kt_open_driver("virtio_gpu", KT_RENDER);

	CHECK_OK(shws_file_open(app, 0, SHWS_API_GL, &gl));
	CHECK_OK(shws_file_open(vk_fd, 0, SHWS_API_VULKAN, &vk));
	CHECK_OK(shws_file_open(va_fd, 0, SHWS_API_VA, &va));
	CHECK_OK(shws_file_open(other, 0, SHWS_API_GL, &fo));
	CHECK_OK(shws_file_open(r1, 0, SHWS_API_GL, &f1));
	CHECK_OK(shws_file_open(r2, 0, SHWS_API_GL, &f2));
	CHECK(gl == vk && vk == va);
	CHECK(fo != gl && f1 != f2);
	CHECK(!shws_file_is_private(gl) && !shws_file_is_private(fo) &&
	      !shws_file_is_private(f2));
	CHECK_INT(shws_identity_seccomp_active(), ==, 1);
	CHECK_INT(shws_identity_chosen_method(), ==,
		  SHWS_IDENTITY_METHOD_EPOLL);

	shws_file_unref(f2, SHWS_API_GL);
	shws_file_unref(f1, SHWS_API_GL);
	shws_file_unref(fo, SHWS_API_GL);
	shws_file_unref(va, SHWS_API_VA);
	shws_file_unref(vk, SHWS_API_VULKAN);
	shws_file_unref(gl, SHWS_API_GL);
	close(r2);
	close(r1);
	close(other);
	close(va_fd);
	close(vk_fd);
	close(app);
	CHECK_INT(test_fd_count(), ==, before);
	exit(0);
}

static void raw_kcmp(void)
{
	pid_t pid = getpid();

	install_filter();
	syscall(SYS_kcmp, pid, pid, KCMP_FILE, 0, 0);
	exit(0);
}

static int in_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = (pid_t)CHECK_SYS(fork());
	if (pid == 0)
		fn();
	CHECK_SYS(waitpid(pid, &status, 0));
	return status;
}

static void expect_ok(int status, const char *what)
{
	if (WIFSIGNALED(status))
		test_fail("%s: killed by signal %d", what, WTERMSIG(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	int before = test_fd_count(), status, fd;
	struct shws_file *f;

	kt_banner("registry-seccomp");
	status = in_child(raw_kcmp);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
	test_pass("filter-kills");

	expect_ok(in_child(sandboxed), "filter before first use");
	test_pass("registry-under-filter");

	/* Probe unsandboxed, with a live file: the child inherits both. */
	fd = kt_open_driver("vgem", KT_PRIMARY);
	CHECK_OK(shws_file_open(fd, 0, SHWS_API_OTHER, &f));
	CHECK(shws_identity_chosen_method() != SHWS_IDENTITY_METHOD_EPOLL);
	expect_ok(in_child(sandboxed), "filter after probe");
	test_pass("registry-under-filter-after-probe");
	shws_file_unref(f, SHWS_API_OTHER);
	close(fd);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
