/* SPDX-License-Identifier: MIT */
/*
 * The classic bug (KERNEL-FACTS.md): two APIs import one dma-buf on one
 * file, get the same handle, the first GEM_CLOSE kills the other's buffer,
 * and the second close then kills whoever got the number next.
 *  - raw-ioctls: the kernel really behaves so (this test fails if it
 *    ever stops, and shows what shws exists for);
 *  - through-shws: the same scenario through shws does not break;
 *  - app-closes-fds: the caller's dma-buf and device fds may be closed right
 *    after import.
 */
#include "test-bo-common.h"

#define SEED_X 0x11110000u
#define SEED_C 0x22220000u

static void raw_ioctls(void)
{
	int e = kt_open_driver("vgem", KT_PRIMARY);
	int f = kt_open_driver("vgem", KT_PRIMARY);
	int x = bo_make_dmabuf(e, SEED_X), tmp;
	uint32_t ha, hb, hc;

	CHECK_SYS(drmPrimeFDToHandle(f, x, &ha)); /* "GL" */
	CHECK_SYS(drmPrimeFDToHandle(f, x, &hb)); /* "VA-API" */
	CHECK_INT(ha, ==, hb); /* the kernel keeps no count per import */

	CHECK_SYS(drmCloseBufferHandle(f, ha)); /* GL releases */
	/* VA-API's buffer is gone. */
	CHECK_INT(drmPrimeHandleToFD(f, hb, DRM_CLOEXEC | DRM_RDWR, &tmp), ==,
		  -1);
	CHECK_INT(errno, ==, ENOENT);

	hc = bo_dumb_create(f, BO_SIZE); /* someone creates a buffer */
	CHECK_INT(hc, ==, hb);           /* ... and gets the number back */
	CHECK_SYS(drmCloseBufferHandle(f, hb)); /* VA-API's cleanup */
	/* ... which killed the new buffer. */
	CHECK_INT(drmPrimeHandleToFD(f, hc, DRM_CLOEXEC | DRM_RDWR, &tmp), ==,
		  -1);
	CHECK_INT(errno, ==, ENOENT);

	close(x);
	close(f);
	close(e);
	test_pass("raw-ioctls");
}

static void through_shws(void)
{
	int e = kt_open_driver("vgem", KT_PRIMARY);
	int f = kt_open_driver("vgem", KT_PRIMARY);
	int x = bo_make_dmabuf(e, SEED_X);
	struct shws_file *gl_file, *va_file;
	struct shws_bo *gl, *va, *c;
	uint32_t hc;
	void *map;

	CHECK_OK(shws_file_open(f, 0, SHWS_API_GL, &gl_file));
	CHECK_OK(shws_file_open(f, 0, SHWS_API_VA, &va_file));
	CHECK(gl_file == va_file); /* one open file description, one table */

	CHECK_OK(shws_bo_import_dmabuf(gl_file, x, SHWS_API_GL, &gl));
	CHECK_OK(shws_bo_import_dmabuf(va_file, x, SHWS_API_VA, &va));
	CHECK(gl == va);
	CHECK_INT(shws_bo_api_refs(va, SHWS_API_GL), ==, 1);
	CHECK_INT(shws_bo_api_refs(va, SHWS_API_VA), ==, 1);
	CHECK_INT(shws_bo_size(va), ==, BO_SIZE);

	CHECK_OK(shws_bo_unref(gl, SHWS_API_GL)); /* GL releases */
	CHECK(bo_shws_matches(va, SEED_X));       /* VA-API's still works */
	CHECK(shws_bo_lookup(gl_file, shws_bo_handle(va), SHWS_API_GL) == va);
	CHECK_OK(shws_bo_unref(va, SHWS_API_GL));

	/* A buffer created now never aliases a live one. */
	hc = bo_dumb_create(f, BO_SIZE);
	CHECK_INT(hc, !=, shws_bo_handle(va));
	CHECK_OK(shws_bo_adopt(gl_file, shws_file_fd(gl_file), hc, BO_SIZE, SHWS_API_GL, &c));
	map = bo_dumb_map(f, hc, BO_SIZE);
	bo_fill(map, BO_SIZE, SEED_C);

	CHECK_OK(shws_bo_unref(va, SHWS_API_VA)); /* VA-API's cleanup */
	CHECK(bo_matches(map, BO_SIZE, SEED_C));   /* C is untouched */
	CHECK(bo_shws_matches(c, SEED_C));
	munmap(map, BO_SIZE);
	CHECK_OK(shws_bo_unref(c, SHWS_API_GL));

	shws_file_unref(va_file, SHWS_API_VA);
	shws_file_unref(gl_file, SHWS_API_GL);
	close(x);
	close(f);
	close(e);
	test_pass("through-shws");
}

static void app_closes_fds(void)
{
	int e = kt_open_driver("vgem", KT_PRIMARY);
	int f = kt_open_driver("vgem", KT_PRIMARY);
	int x = bo_make_dmabuf(e, SEED_X);
	struct shws_file *file;
	struct shws_bo *bo;

	CHECK_OK(shws_file_open(f, 0, SHWS_API_GL, &file));
	CHECK_OK(shws_bo_import_dmabuf(file, x, SHWS_API_GL, &bo));
	close(x); /* both borrowed: shws keeps its own dup of the device */
	close(f);
	close(e);
	CHECK(bo_shws_matches(bo, SEED_X));
	shws_file_unref(file, SHWS_API_GL); /* the bo keeps the file alive */
	CHECK(bo_shws_matches(bo, SEED_X));
	CHECK_OK(shws_bo_unref(bo, SHWS_API_GL));
	test_pass("app-closes-fds");
}

int main(void)
{
	int fds = test_fd_count(), bufs = kt_dmabuf_count();

	kt_banner("bo-classic");
	raw_ioctls();
	through_shws();
	app_closes_fds();
	CHECK_INT(test_fd_count(), ==, fds);
	CHECK_INT(kt_dmabuf_count(), ==, bufs);
	test_pass("no-leaks");
	return 0;
}
