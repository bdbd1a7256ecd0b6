/* SPDX-License-Identifier: MIT */
/*
 * fork(): the child shares the parent's open file descriptions, and so its
 * GEM handles; a GEM_CLOSE in the child kills the parent's buffer. shws in
 * the child starts with an empty registry, sees the parent's files as
 * inherited and abandons them (closes its own dups only), and gives a
 * private file for a description it shares with the parent. The child
 * uses shws (imports and releases the parent's buffer) and exits; the
 * parent's buffers must still be intact.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <shws/bo.h>
#include <shws/file.h>
#include <shws/identity.h>

#include "file_priv.h"
#include "kt.h"
#include "test.h"

#define SIZE KT_PATTERN_SIZE

/* The buffer behind @handle still holds @seed's pattern. */
static void check_buffer(int fd, uint32_t handle, uint32_t seed)
{
	struct drm_mode_map_dumb m = { .handle = handle };
	uint32_t *p;
	unsigned i;

	CHECK_SYS(drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m));
	p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, (off_t)m.offset);
	CHECK(p != MAP_FAILED);
	for (i = 0; i < SIZE / 4; i++)
		if (p[i] != seed + i)
			test_fail("buffer %u word %u: %#x, want %#x", handle,
				  i, p[i], seed + i);
	munmap(p, SIZE);
}

static struct shws_file *parent_file;
static int app_fd, buf1_fd;

static void child(void)
{
	struct shws_file *mine, *again;
	struct shws_bo *bo;
	int n = test_fd_count(), own = shws_file_fd(parent_file);

	CHECK(shws_file_inherited(parent_file));
	/* GEM work on the inherited file is refused. */
	CHECK_INT(shws_bo_import_dmabuf(parent_file, buf1_fd, SHWS_API_GL, &bo),
		  ==, -ECHILD);

	/* Empty registry: a new file. The description is the parent's, so
	 * it must be a private one: in a file on the shared description,
	 * importing the parent's buffer would return the parent's handle,
	 * and releasing it would GEM_CLOSE the parent's buffer. Without
	 * leave for a private file, the open fails and leaves nothing. */
	CHECK_INT(shws_file_open(app_fd, 0, SHWS_API_VULKAN, &mine), ==,
		  -ENOTUNIQ);
	CHECK_INT(test_fd_count(), ==, n);
	CHECK_OK(shws_file_open(app_fd, SHWS_FILE_PRIVATE_OK, SHWS_API_VULKAN,
				&mine));
	CHECK(mine != parent_file);
	CHECK(!shws_file_inherited(mine));
	CHECK(shws_file_is_private(mine));
	CHECK_INT(shws_identity_compare(shws_file_fd(mine), app_fd), ==,
		  SHWS_IDENTITY_DIFFERENT);
	CHECK_INT(test_fd_count(), ==, n + 1);
	CHECK_OK(shws_file_open(app_fd, SHWS_FILE_PRIVATE_OK, SHWS_API_VA, &again));
	CHECK(again != parent_file && shws_file_is_private(again));
	shws_file_unref(again, SHWS_API_VA);
	CHECK_INT(test_fd_count(), ==, n + 1);

	/* Use it: import the parent's buffer, then release it (GEM_CLOSE in
	 * the child's own description). */
	CHECK_OK(shws_bo_import_dmabuf(mine, buf1_fd, SHWS_API_VULKAN, &bo));
	CHECK_INT(shws_bo_handle(bo), >, 0);
	CHECK_OK(shws_bo_unref(bo, SHWS_API_VULKAN));

	/* Abandon the inherited file: only the child's dup goes. */
	shws_file_unref(parent_file, SHWS_API_GL);
	CHECK_INT(fcntl(own, F_GETFD), ==, -1);
	CHECK_INT(test_fd_count(), ==, n);
	shws_file_unref(mine, SHWS_API_VULKAN);
	CHECK_INT(test_fd_count(), ==, n - 1);
	exit(0);
}

static void run_child(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = (pid_t)CHECK_SYS(fork());
	if (pid == 0)
		child();
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A child that exits without cleaning anything up. */
static void run_lazy_child(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = (pid_t)CHECK_SYS(fork());
	if (pid == 0) {
		struct shws_file *f;

		CHECK_OK(shws_file_open(app_fd, SHWS_FILE_PRIVATE_OK,
					SHWS_API_GL, &f));
		CHECK(f != parent_file && shws_file_is_private(f));
		_exit(0);
	}
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	int before = test_fd_count();
	struct shws_file *f;
	uint32_t h1, h2;

	kt_banner("fork");
	app_fd = kt_open_driver("vgem", KT_PRIMARY);
	CHECK_OK(shws_file_open(app_fd, 0, SHWS_API_GL, &parent_file));
	CHECK(!shws_file_inherited(parent_file));
	h1 = kt_make_pattern(shws_file_fd(parent_file), 0x11110000);
	h2 = kt_make_pattern(shws_file_fd(parent_file), 0x22220000);
	CHECK_OK(drmPrimeHandleToFD(shws_file_fd(parent_file), h1,
				    DRM_CLOEXEC | DRM_RDWR, &buf1_fd));

	run_child();
	test_pass("child-uses-shws-and-exits");
	run_lazy_child();
	test_pass("child-exits-without-cleanup");

	/* The parent's registry, file, handles and contents are intact. */
	CHECK(!shws_file_inherited(parent_file));
	CHECK_INT(fcntl(shws_file_fd(parent_file), F_GETFD), ==, FD_CLOEXEC);
	CHECK_OK(shws_file_open(app_fd, 0, SHWS_API_VA, &f));
	CHECK(f == parent_file);
	shws_file_unref(f, SHWS_API_VA);
	check_buffer(shws_file_fd(parent_file), h1, 0x11110000);
	check_buffer(shws_file_fd(parent_file), h2, 0x22220000);
	CHECK_OK(drmCloseBufferHandle(shws_file_fd(parent_file), h2));
	CHECK_OK(drmCloseBufferHandle(shws_file_fd(parent_file), h1));
	test_pass("parent-buffers-intact");

	shws_file_unref(parent_file, SHWS_API_GL);
	close(buf1_fd);
	close(app_fd);
	CHECK_INT(test_fd_count(), ==, before);
	test_pass("no-fd-leak");
	return 0;
}
