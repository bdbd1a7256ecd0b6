/* SPDX-License-Identifier: MIT */
/* fd classification (src/fd_kind.h) without a DRM device: every fd that is
 * neither a dma-buf nor a sync_file is OTHER, whatever its filesystem
 * (pipefs, tmpfs, a regular file, the anon-inode files that are not
 * sync_files: epoll, eventfd, timerfd), a closed or negative fd is -EBADF,
 * and the answer does not change the fd table. The dma-buf and sync_file
 * kinds need a kernel with vgem: kernel-sync-file ("fd-kind"). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "fd_kind.h"
#include "test.h"

static void check_other(const char *what, int fd)
{
	struct stat st;
	bool own = true;
	int32_t status = 77;

	CHECK_INT(shws_fd_kind(fd), ==, SHWS_FD_OTHER);
	CHECK_INT(shws_fd_kind_sync_status(fd, &status), ==, SHWS_FD_OTHER);
	CHECK_INT(status, ==, 77); /* only a sync_file's is written */
	CHECK_SYS(fstat(fd, &st));
	CHECK_INT(shws_fd_kind_stat(fd, &st, &own), ==, SHWS_FD_OTHER);
	printf("%s: OTHER\n", what);
	close(fd);
}

int main(void)
{
	int before = test_fd_count(), p[2], fd;
	char path[] = "/tmp/shws-fd-kind-XXXXXX";
	struct stat st;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	close(p[1]);
	check_other("pipe", p[0]);
	check_other("memfd", CHECK_SYS(memfd_create("shws-fd-kind",
						       MFD_CLOEXEC)));
	fd = CHECK_SYS(mkostemp(path, O_CLOEXEC));
	CHECK_SYS(unlink(path));
	check_other("regular file", fd);
	check_other("/proc file",
		    CHECK_SYS(open("/proc/self/status", O_RDONLY | O_CLOEXEC)));
	check_other("/dev/null",
		    CHECK_SYS(open("/dev/null", O_RDONLY | O_CLOEXEC)));
	/* Anon-inode files, like sync_files: only SYNC_IOC_FILE_INFO tells
	 * them apart (epoll answers it EINVAL since 6.9, the others ENOTTY). */
	check_other("epoll", CHECK_SYS(epoll_create1(EPOLL_CLOEXEC)));
	check_other("eventfd", CHECK_SYS(eventfd(0, EFD_CLOEXEC)));
	check_other("timerfd", CHECK_SYS(timerfd_create(CLOCK_MONOTONIC,
							TFD_CLOEXEC)));
	test_pass("other");

	fd = CHECK_SYS(open("/dev/null", O_RDONLY | O_CLOEXEC));
	CHECK_SYS(fstat(fd, &st));
	close(fd);
	CHECK_INT(shws_fd_kind(fd), ==, -EBADF);
	CHECK_INT(shws_fd_kind_stat(fd, &st, NULL), ==, -EBADF);
	CHECK_INT(shws_fd_kind_sync_status(fd, NULL), ==, -EBADF);
	CHECK_INT(shws_fd_kind(-1), ==, -EBADF);
	CHECK_INT(shws_fd_kind(-2), ==, -EBADF);
	CHECK_INT(shws_fd_kind(1 << 30), ==, -EBADF);
	test_pass("closed-fd");

	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
