/* SPDX-License-Identifier: MIT */
/* sync_file / dma-buf sync / WSI argument checking without a DRM device:
 * every bad input gets its documented errno, outputs stay untouched on
 * failure, no foreign ioctl reaches a non-matching fd (a pipe would make
 * shws_sync_file_wait time out instead of saying EINVAL), no fd leaks.
 * SHWS_DMABUF_SYNC parsing runs in forked children, because the variable
 * is read once per process. */
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shws/shws.h>

#include "test.h"

#define UNTOUCHED 12345

/* Runs @fn in a child with SHWS_DMABUF_SYNC=@value and returns its
 * shws_dmabuf_sync_caps(-1) answer (as the exit status, +128). */
static int caps_in_child(const char *value)
{
	int status;
	pid_t pid = CHECK_SYS(fork());

	if (pid == 0) {
		if (value)
			setenv("SHWS_DMABUF_SYNC", value, 1);
		else
			unsetenv("SHWS_DMABUF_SYNC");
		_exit(shws_dmabuf_sync_caps(-1) + 128);
	}
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status));
	return WEXITSTATUS(status) - 128;
}

static void test_env(void)
{
	CHECK_INT(caps_in_child("fallback"), ==, 0);
	CHECK_INT(caps_in_child("ioctl"), ==,
		  SHWS_DMABUF_CAP_EXPORT_SYNC_FILE |
			  SHWS_DMABUF_CAP_IMPORT_SYNC_FILE);
	/* auto, and anything unknown, probe on the first dma-buf: none yet. */
	CHECK_INT(caps_in_child("auto"), ==, -ENODATA);
	CHECK_INT(caps_in_child("bogus"), ==, -ENODATA);
	CHECK_INT(caps_in_child(NULL), ==, -ENODATA);
	test_pass("env-SHWS_DMABUF_SYNC");
}

struct fds {
	int pipe_r, pipe_w, event, file, closed;
};

static struct fds open_fds(void)
{
	struct fds f;
	int p[2];

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	f.pipe_r = p[0];
	f.pipe_w = p[1];
	f.event = CHECK_SYS(eventfd(0, EFD_CLOEXEC));
	f.file = CHECK_SYS(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
	f.closed = CHECK_SYS(open("/dev/null", O_RDONLY | O_CLOEXEC));
	close(f.closed);
	return f;
}

static void close_fds(struct fds *f)
{
	close(f->pipe_r);
	close(f->pipe_w);
	close(f->event);
	close(f->file);
}

static void test_dmabuf_args(const struct fds *f)
{
	int out = UNTOUCHED;

	/* Flags first: no fd is looked at. */
	CHECK_INT(shws_dmabuf_export_sync_file(f->pipe_r, 0, &out), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(f->pipe_r, 4, &out), ==, -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(f->pipe_r, ~0u, &out), ==,
		  -EINVAL);
	CHECK_INT(shws_dmabuf_export_sync_file(f->pipe_r, SHWS_SYNC_READ, NULL),
		  ==, -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(f->pipe_r, 0, f->pipe_r), ==,
		  -EINVAL);
	CHECK_INT(shws_dmabuf_import_sync_file(f->pipe_r, 8, f->pipe_r), ==,
		  -EINVAL);
	test_pass("dmabuf-bad-flags");

	CHECK_INT(shws_dmabuf_export_sync_file(-1, SHWS_SYNC_READ, &out), ==,
		  -EBADF);
	CHECK_INT(shws_dmabuf_export_sync_file(f->closed, SHWS_SYNC_RW, &out),
		  ==, -EBADF);
	CHECK_INT(shws_dmabuf_import_sync_file(-1, SHWS_SYNC_WRITE, f->pipe_r),
		  ==, -EBADF);
	test_pass("dmabuf-bad-fd");

	CHECK_INT(shws_dmabuf_export_sync_file(f->pipe_r, SHWS_SYNC_READ, &out),
		  ==, -ENOTTY);
	CHECK_INT(shws_dmabuf_export_sync_file(f->event, SHWS_SYNC_WRITE, &out),
		  ==, -ENOTTY);
	CHECK_INT(shws_dmabuf_export_sync_file(f->file, SHWS_SYNC_RW, &out), ==,
		  -ENOTTY);
	CHECK_INT(shws_dmabuf_import_sync_file(f->pipe_r, SHWS_SYNC_READ,
					       f->pipe_r),
		  ==, -ENOTTY);
	CHECK_INT(out, ==, UNTOUCHED);
	test_pass("dmabuf-not-a-dmabuf");

	CHECK_INT(shws_dmabuf_sync_caps(-1), ==, -ENODATA);
	CHECK_INT(shws_dmabuf_sync_caps(f->pipe_r), ==, -ENOTTY);
	CHECK_INT(shws_dmabuf_sync_caps(f->closed), ==, -EBADF);
	/* None of that was a dma-buf, so nothing was probed. */
	CHECK_INT(shws_dmabuf_sync_caps(-1), ==, -ENODATA);
	test_pass("caps-need-a-dmabuf");
}

/* Some files answer an ioctl they do not know with EINVAL (epoll since
 * 6.9), which is what the caps probe reads as "present" on a dma-buf. So
 * the probe must never run on an fd not identified as a dma-buf. */
static void test_probe_needs_identification(void)
{
	struct dma_buf_export_sync_file arg = { 0, -1 };
	int ep = CHECK_SYS(epoll_create1(EPOLL_CLOEXEC));
	int r = ioctl(ep, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg);

	printf("raw EXPORT_SYNC_FILE(flags 0) on an epoll fd: %s\n",
	       r ? strerror(errno) : "0");
	CHECK_INT(shws_dmabuf_sync_caps(ep), ==, -ENOTTY);
	CHECK_INT(shws_dmabuf_sync_caps(-1), ==, -ENODATA);
	CHECK_INT(shws_sync_file_check(ep), ==, -EINVAL);
	close(ep);
	test_pass("probe-only-on-a-dmabuf");
}

static void test_sync_file_args(const struct fds *f)
{
	struct shws_sync_file_info info;
	struct shws_sync_fence_info fence;
	int out = UNTOUCHED;

	CHECK_INT(shws_sync_file_check(f->pipe_r), ==, -EINVAL);
	/* An eventfd is an anon-inode file too. */
	CHECK_INT(shws_sync_file_check(f->event), ==, -EINVAL);
	CHECK_INT(shws_sync_file_check(f->file), ==, -EINVAL);
	CHECK_INT(shws_sync_file_check(-1), ==, -EBADF);
	CHECK_INT(shws_sync_file_check(f->closed), ==, -EBADF);
	test_pass("sync-file-check");

	CHECK_INT(shws_sync_file_info(f->pipe_r, &info, NULL, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_info(f->event, &info, NULL, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_info(-1, &info, NULL, 0), ==, -EBADF);
	CHECK_INT(shws_sync_file_info(f->pipe_r, NULL, NULL, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_info(f->pipe_r, &info, NULL, 1), ==, -EINVAL);
	CHECK_INT(shws_sync_file_info(f->closed, &info, &fence, 1), ==, -EBADF);
	test_pass("info-bad-input");

	CHECK_INT(shws_sync_file_merge("x", f->pipe_r, f->pipe_r, &out), ==,
		  -EINVAL);
	CHECK_INT(shws_sync_file_merge("x", -1, f->pipe_r, &out), ==, -EBADF);
	CHECK_INT(shws_sync_file_merge(NULL, f->closed, f->closed, &out), ==,
		  -EBADF);
	CHECK_INT(shws_sync_file_merge("x", f->pipe_r, f->pipe_r, NULL), ==,
		  -EINVAL);
	CHECK_INT(out, ==, UNTOUCHED);
	test_pass("merge-bad-input");

	/* An empty pipe would never be readable: EINVAL, not ETIME. */
	CHECK_INT(shws_sync_file_wait(f->pipe_r, 0), ==, -EINVAL);
	CHECK_INT(shws_sync_file_wait(f->pipe_r, -1), ==, -EINVAL);
	CHECK_INT(shws_sync_file_wait(f->event, 10), ==, -EINVAL);
	CHECK_INT(shws_sync_file_wait(-1, 0), ==, -EBADF);
	CHECK_INT(shws_sync_file_wait(f->closed, 0), ==, -EBADF);
	test_pass("wait-bad-input");
}

static void test_syncobj_args(const struct fds *f)
{
	int out = UNTOUCHED;

	/* DRM_IOCTL_GET_CAP on a pipe: the pipe says ENOTTY. */
	CHECK_INT(shws_syncobj_import_sync_file(f->pipe_r, 1, f->pipe_r), ==,
		  -ENOTTY);
	CHECK_INT(shws_syncobj_export_sync_file(f->pipe_r, 1, &out), ==,
		  -ENOTTY);
	CHECK_INT(shws_syncobj_import_sync_file(-1, 1, f->pipe_r), ==, -EBADF);
	CHECK_INT(shws_syncobj_export_sync_file(f->closed, 1, &out), ==, -EBADF);
	CHECK_INT(shws_syncobj_export_sync_file(f->pipe_r, 1, NULL), ==,
		  -EINVAL);
	CHECK_INT(out, ==, UNTOUCHED);
	test_pass("syncobj-bad-input");
}

static void test_wsi_args(const struct fds *f)
{
	int out = UNTOUCHED;

	/* Flags first, as for the dma-buf calls: no fd is looked at. */
	CHECK_INT(shws_wsi_acquire(f->pipe_r, 0, &out), ==, -EINVAL);
	CHECK_INT(shws_wsi_acquire(-1, 4, &out), ==, -EINVAL);
	CHECK_INT(shws_wsi_acquire(f->closed, ~0u, &out), ==, -EINVAL);
	CHECK_INT(shws_wsi_acquire(f->pipe_r, SHWS_SYNC_WRITE, &out), ==,
		  -ENOTTY);
	CHECK_INT(shws_wsi_acquire(f->event, SHWS_SYNC_READ, &out), ==,
		  -ENOTTY);
	CHECK_INT(shws_wsi_acquire(-1, SHWS_SYNC_WRITE, &out), ==, -EBADF);
	CHECK_INT(shws_wsi_acquire(f->closed, SHWS_SYNC_READ, &out), ==,
		  -EBADF);
	CHECK_INT(shws_wsi_acquire(f->pipe_r, SHWS_SYNC_RW, NULL), ==,
		  -EINVAL);
	CHECK_INT(out, ==, UNTOUCHED);
	/* The dma-buf is checked even when there is no fence to attach. */
	CHECK_INT(shws_wsi_release(f->pipe_r, -1), ==, -ENOTTY);
	CHECK_INT(shws_wsi_release(-1, -1), ==, -EBADF);
	CHECK_INT(shws_wsi_release(f->file, f->pipe_r), ==, -ENOTTY);
	test_pass("wsi-bad-input");
}

int main(void)
{
	int before;
	struct fds f;

	unsetenv("SHWS_DMABUF_SYNC");
	test_env();

	before = test_fd_count();
	f = open_fds();
	test_dmabuf_args(&f);
	test_probe_needs_identification();
	test_sync_file_args(&f);
	test_syncobj_args(&f);
	test_wsi_args(&f);
	close_fds(&f);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
