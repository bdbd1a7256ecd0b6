/* SPDX-License-Identifier: MIT */
/*
 * Bad input gets a documented negative errno and leaks nothing: stale
 * handles, handle 0, double unref, foreign dma-bufs, fds that are not
 * dma-bufs, closed fds, bos used with a file of another device, and the
 * forked child that must never close the parent's handles.
 */
#include <sys/wait.h>

#include "test-bo-common.h"

#define SEED 0x66660000u

static int card, virtio;
static struct shws_file *file, *vfile;

static void stale_and_zero(void)
{
	uint32_t h = bo_dumb_create(card, BO_SIZE);
	struct shws_bo *bo;

	CHECK_INT(shws_bo_adopt(file, shws_file_fd(file), 0, BO_SIZE, SHWS_API_GL, &bo), ==,
		  -EINVAL);
	CHECK_INT(shws_bo_adopt(file, shws_file_fd(file), h, 0, SHWS_API_GL, &bo), ==, -EINVAL);
	CHECK_INT(shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_COUNT, &bo), ==,
		  -EINVAL);
	CHECK_INT(shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_GL, NULL), ==,
		  -EINVAL);
	CHECK_OK(shws_bo_adopt(file, shws_file_fd(file), h, BO_SIZE, SHWS_API_GL, &bo));
	/* Adopting it again merges; with another size it is refused. */
	CHECK_INT(shws_bo_adopt(file, shws_file_fd(file), h, 2 * BO_SIZE, SHWS_API_VA, &bo), ==,
		  -EEXIST);
	CHECK(!bo);
	bo = shws_bo_lookup(file, h, SHWS_API_GL);
	CHECK(bo);
	CHECK_INT(shws_bo_api_refs(bo, SHWS_API_VA), ==, 0);
	CHECK_INT(shws_bo_api_refs(bo, SHWS_API_GL), ==, 2);
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));

	CHECK(!shws_bo_lookup(file, h, SHWS_API_GL)); /* stale */
	CHECK(!shws_bo_lookup(file, 0, SHWS_API_GL));
	CHECK(!shws_bo_lookup(file, 1u << 30, SHWS_API_GL));
	CHECK(!shws_bo_lookup(file, h, (enum shws_api)99));
	/* shws closed it, once. */
	CHECK_INT(drmCloseBufferHandle(card, h), ==, -1);
	CHECK_INT(errno, ==, EINVAL);
	test_pass("stale-and-zero-handles");
}

static void double_unref(void)
{
	int x = bo_make_dmabuf(card, SEED);
	struct shws_bo *gl, *va;

	CHECK_OK(shws_bo_import_dmabuf(file, x, SHWS_API_GL, &gl));
	CHECK_OK(shws_bo_import_dmabuf(file, x, SHWS_API_VA, &va));
	CHECK_OK(shws_bo_unref(gl, SHWS_API_GL));
	CHECK_INT(shws_bo_unref(gl, SHWS_API_GL), ==, -EINVAL);
	CHECK_INT(shws_bo_unref(gl, (enum shws_api)-1), ==, -EINVAL);
	CHECK_OK(shws_bo_unref(NULL, SHWS_API_GL));
	CHECK(bo_shws_matches(va, SEED)); /* VA-API's buffer survived */
	CHECK_INT(shws_bo_api_refs(va, SHWS_API_VA), ==, 1);
	CHECK_OK(shws_bo_unref(va, SHWS_API_VA));
	close(x);
	test_pass("double-unref");
}

static void bad_fds(void)
{
	int p[2], x = bo_make_dmabuf(card, SEED), closed;
	struct shws_bo *bo = (struct shws_bo *)1;

	CHECK_SYS(pipe2(p, O_CLOEXEC));
	CHECK_INT(shws_bo_import_dmabuf(file, p[0], SHWS_API_GL, &bo), ==,
		  -EINVAL);
	CHECK(!bo);
	CHECK_INT(shws_bo_import_dmabuf(file, card, SHWS_API_GL, &bo), ==,
		  -EINVAL);
	CHECK_INT(shws_bo_import_dmabuf(file, -1, SHWS_API_GL, &bo), ==,
		  -EBADF);
	closed = CHECK_SYS(dup(p[1]));
	close(closed);
	CHECK_INT(shws_bo_import_dmabuf(file, closed, SHWS_API_GL, &bo), ==,
		  -EBADF);
	CHECK_INT(shws_bo_import_dmabuf(NULL, x, SHWS_API_GL, &bo), ==,
		  -EINVAL);
	CHECK_INT(shws_bo_import_dmabuf(file, x, SHWS_API_GL, NULL), ==,
		  -EINVAL);
	/* A vgem dma-buf cannot go into virtio_gpu on 6.1: the kernel's
	 * errno comes back. */
	CHECK_INT(shws_bo_import_dmabuf(vfile, x, SHWS_API_GL, &bo), ==,
		  -ENODEV);
	CHECK_INT(shws_bo_import_flink(file, 0, SHWS_API_GL, &bo), ==, -EINVAL);
	CHECK_INT(shws_bo_import_flink(file, 0x7fffff00, SHWS_API_GL, &bo), ==,
		  -ENOENT);
	close(p[0]);
	close(p[1]);
	close(x);
	test_pass("bad-fds-and-names");
}

static void wrong_device(void)
{
	int x = bo_make_dmabuf(card, SEED), fd = -2;
	struct shws_bo *bo, *t;

	CHECK_OK(shws_bo_import_dmabuf(file, x, SHWS_API_GL, &bo));
	CHECK_INT(shws_bo_translate(bo, vfile, SHWS_API_GL, &t), ==, -EXDEV);
	CHECK_INT(shws_bo_translate(bo, NULL, SHWS_API_GL, &t), ==, -EINVAL);
	CHECK_INT(shws_bo_export_dmabuf(bo, NULL), ==, -EINVAL);
	CHECK_OK(shws_bo_export_dmabuf(bo, &fd));
	CHECK_INT(fcntl(fd, F_GETFD), ==, FD_CLOEXEC);
	CHECK_INT(fcntl(fd, F_GETFL) & O_ACCMODE, ==, O_RDWR);
	close(fd);
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	close(x);
	test_pass("wrong-device");
}

/* Files the child opens itself are its own: everything works there,
 * translation included. */
static void child_fresh_files(void)
{
	int c = kt_open_driver("vgem", KT_PRIMARY);
	int r = kt_open_driver("vgem", KT_RENDER);
	struct shws_file *fc, *fr;
	struct shws_bo *bo, *t;
	uint32_t h = bo_dumb_create(c, BO_SIZE);

	CHECK_OK(shws_file_open(c, 0, SHWS_API_GL, &fc));
	CHECK_OK(shws_file_open(r, 0, SHWS_API_GL, &fr));
	CHECK_OK(shws_bo_adopt(fc, shws_file_fd(fc), h, BO_SIZE, SHWS_API_GL, &bo));
	CHECK_OK(shws_bo_translate(bo, fr, SHWS_API_GL, &t));
	CHECK(shws_bo_file(t) == fr);
	CHECK_OK(shws_bo_unref(t, SHWS_API_GL));
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	CHECK_INT(drmCloseBufferHandle(c, h), ==, -1); /* shws closed it */
	shws_file_unref(fr, SHWS_API_GL);
	shws_file_unref(fc, SHWS_API_GL);
	close(r);
	close(c);
}

/* The child shares the drm_file: its GEM_CLOSE would kill the parent's
 * buffer (KERNEL-FACTS), so shws refuses ioctls there and never closes. */
static void fork_child(void)
{
	int x = bo_make_dmabuf(card, SEED), status, fd;
	struct shws_bo *bo;
	pid_t pid;

	CHECK_OK(shws_bo_import_dmabuf(file, x, SHWS_API_GL, &bo));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct shws_bo *b2;

		CHECK_INT(shws_bo_export_dmabuf(bo, &fd), ==, -ECHILD);
		CHECK_INT(shws_bo_import_dmabuf(file, x, SHWS_API_GL, &b2), ==,
			  -ECHILD);
		CHECK(!shws_bo_lookup(file, shws_bo_handle(bo), SHWS_API_GL));
		CHECK_OK(shws_bo_unref(bo, SHWS_API_GL)); /* the last one */
		child_fresh_files();
		_exit(0);
	}
	CHECK_SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(bo_shws_matches(bo, SEED)); /* the parent's handle lives */
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	close(x);
	test_pass("fork-child-never-closes");
}

int main(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();

	kt_banner("bo-badinput");
	card = kt_open_driver("vgem", KT_PRIMARY);
	virtio = kt_open_driver("virtio_gpu", KT_PRIMARY);
	CHECK_OK(shws_file_open(card, 0, SHWS_API_GL, &file));
	CHECK_OK(shws_file_open(virtio, 0, SHWS_API_GL, &vfile));
	stale_and_zero();
	double_unref();
	bad_fds();
	wrong_device();
	fork_child();
	CHECK_INT(shws_bo_dump(file, stdout), ==, 0);
	shws_file_unref(vfile, SHWS_API_GL);
	shws_file_unref(file, SHWS_API_GL);
	close(virtio);
	close(card);
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	test_pass("no-leaks");
	return 0;
}
