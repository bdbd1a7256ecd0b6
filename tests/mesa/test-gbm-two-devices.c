/* SPDX-License-Identifier: MIT */
/*
 * The two-gbm-devices-one-file reproducer (Mesa's kms_swrast winsys).
 *
 * Two gbm devices are created on one DRM file description (the same fd, or
 * a dup of it). The first creates a buffer and exports it; the second
 * imports it, which on one description yields the same GEM handle, and
 * destroys its import. Unpatched Mesa counts references per winsys, so the
 * second device's DESTROY_DUMB kills the first device's buffer: its export
 * fails with ENOENT and its map returns NULL. With the shws series both
 * devices share one handle table and the buffer survives.
 *
 * The last two cases do the same with a dumb (cursor) buffer of the first
 * device, destroyed before or after the second device's import: gbm's dri
 * backend made it with CREATE_DUMB and freed it with DESTROY_DUMB, which
 * kills the import's handle too (patch 0003 routes it through shws).
 *
 * Exit status: 0 the buffer survived in every case; 3 the bug reproduced
 * (the first device's buffer died); 1 anything else went wrong (a setup
 * failure never counts as a reproduction).
 */
#include <errno.h>
#include <fcntl.h>
#include <gbm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>

#include "kt.h"

#define W 64
#define H 64
#define PATTERN 0xff336699u

static int write_pattern(struct gbm_bo *bo)
{
	uint32_t stride = 0;
	void *data = NULL;
	uint32_t *p = gbm_bo_map(bo, 0, 0, W, H, GBM_BO_TRANSFER_WRITE, &stride,
				 &data);

	if (!p)
		return -1;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			p[y * (stride / 4) + x] = PATTERN;
	gbm_bo_unmap(bo, data);
	return 0;
}

/* 0: readable with the pattern; -1: map failed; -2: wrong contents. */
static int check_pattern(struct gbm_bo *bo)
{
	uint32_t stride = 0;
	void *data = NULL;
	uint32_t *p = gbm_bo_map(bo, 0, 0, W, H, GBM_BO_TRANSFER_READ, &stride,
				 &data);
	int ret = 0;

	if (!p)
		return -1;
	for (int y = 0; y < H && !ret; y++)
		for (int x = 0; x < W && !ret; x++)
			if (p[y * (stride / 4) + x] != PATTERN)
				ret = -2;
	gbm_bo_unmap(bo, data);
	return ret;
}

/* Whether @bo survived what @when says: it must still export and map with
 * the pattern. Returns 1 (and says why) if it did not. */
static int died(const char *name, const char *when, struct gbm_bo *bo)
{
	int fd = gbm_bo_get_fd(bo), r, broken = 0;

	if (fd < 0) {
		printf("%s: BROKEN: export %s: %s\n", name, when, strerror(errno));
		broken = 1;
	} else {
		close(fd);
	}
	r = check_pattern(bo);
	if (r) {
		printf("%s: BROKEN: map %s: %s\n", name, when,
		       r == -1 ? "NULL" : "wrong contents");
		broken = 1;
	}
	return broken;
}

/* Returns 1 if the bug reproduced, 0 if the buffer survived. */
static int run_case(const char *name, int fd, int fd2)
{
	struct gbm_device *dev1 = gbm_create_device(fd);
	struct gbm_device *dev2 = gbm_create_device(fd2);
	struct gbm_bo *bo1, *bo2;
	struct gbm_import_fd_data imp;
	int dmabuf, broken;
	uint32_t h1, h2;

	CHECK(dev1 && dev2);
	bo1 = gbm_bo_create(dev1, W, H, GBM_FORMAT_XRGB8888,
			    GBM_BO_USE_RENDERING | GBM_BO_USE_SCANOUT |
				    GBM_BO_USE_LINEAR);
	if (!bo1)
		test_fail("%s: gbm_bo_create: %s", name, strerror(errno));
	CHECK_INT(write_pattern(bo1), ==, 0);
	dmabuf = gbm_bo_get_fd(bo1);
	CHECK_INT(dmabuf, >=, 0);

	imp = (struct gbm_import_fd_data){ .fd = dmabuf, .width = W, .height = H,
		.stride = gbm_bo_get_stride(bo1), .format = GBM_FORMAT_XRGB8888 };
	bo2 = gbm_bo_import(dev2, GBM_BO_IMPORT_FD, &imp, GBM_BO_USE_RENDERING);
	if (!bo2)
		test_fail("%s: gbm_bo_import: %s", name, strerror(errno));
	h1 = gbm_bo_get_handle(bo1).u32;
	h2 = gbm_bo_get_handle(bo2).u32;
	printf("%s: device 1 handle %u, device 2 import handle %u\n", name, h1, h2);
	/* One description, one handle: the precondition of the bug. */
	CHECK_INT(h1, ==, h2);
	CHECK_INT(check_pattern(bo2), ==, 0);

	gbm_bo_destroy(bo2);

	broken = died(name, "of device 1's buffer after device 2 destroyed its import",
		      bo1);
	if (!broken)
		printf("%s: OK: device 1's buffer survived (export and map)\n", name);

	gbm_bo_destroy(bo1);
	close(dmabuf);
	gbm_device_destroy(dev2);
	gbm_device_destroy(dev1);
	return broken;
}

/*
 * The same with a dumb buffer of the first device (a cursor: ARGB8888,
 * GBM_BO_USE_CURSOR | GBM_BO_USE_WRITE, which gbm's dri backend makes with
 * CREATE_DUMB and used to end with DESTROY_DUMB). gbm cannot export a dumb
 * buffer, so the test exports its handle with PRIME, as a compositor
 * handing its cursor to another API would. @creator_first: destroy the
 * dumb buffer first and check the import, else the other way round.
 * Returns 1 if the bug reproduced, 0 if the survivor survived.
 */
static int run_dumb_case(const char *name, int fd, int fd2, bool creator_first)
{
	static uint32_t pixels[W * H];
	struct gbm_device *dev1 = gbm_create_device(fd);
	struct gbm_device *dev2 = gbm_create_device(fd2);
	struct gbm_import_fd_data imp;
	struct gbm_bo *bo1, *bo2;
	int dmabuf, again, broken = 0;
	uint32_t h1;

	CHECK(dev1 && dev2);
	bo1 = gbm_bo_create(dev1, W, H, GBM_FORMAT_ARGB8888,
			    GBM_BO_USE_CURSOR | GBM_BO_USE_WRITE);
	if (!bo1)
		test_fail("%s: gbm_bo_create (cursor): %s", name, strerror(errno));
	for (int i = 0; i < W * H; i++)
		pixels[i] = PATTERN;
	CHECK_INT(gbm_bo_get_stride(bo1), ==, W * 4);
	CHECK_INT(gbm_bo_write(bo1, pixels, sizeof(pixels)), ==, 0);
	h1 = gbm_bo_get_handle(bo1).u32;
	CHECK_SYS(drmPrimeHandleToFD(fd, h1, DRM_CLOEXEC | DRM_RDWR, &dmabuf));

	imp = (struct gbm_import_fd_data){ .fd = dmabuf, .width = W, .height = H,
		.stride = W * 4, .format = GBM_FORMAT_ARGB8888 };
	bo2 = gbm_bo_import(dev2, GBM_BO_IMPORT_FD, &imp, GBM_BO_USE_RENDERING);
	if (!bo2)
		test_fail("%s: gbm_bo_import: %s", name, strerror(errno));
	printf("%s: device 1 dumb handle %u, device 2 import handle %u\n", name,
	       h1, gbm_bo_get_handle(bo2).u32);
	CHECK_INT(gbm_bo_get_handle(bo2).u32, ==, h1);
	CHECK_INT(check_pattern(bo2), ==, 0);

	if (creator_first) {
		gbm_bo_destroy(bo1);
		broken = died(name, "of the import after the dumb buffer's destroy",
			      bo2);
		gbm_bo_destroy(bo2);
	} else {
		gbm_bo_destroy(bo2);
		if (drmPrimeHandleToFD(fd, h1, DRM_CLOEXEC, &again)) {
			printf("%s: BROKEN: dumb buffer export after the import's destroy: %s\n",
			       name, strerror(errno));
			broken = 1;
		} else {
			close(again);
		}
		gbm_bo_destroy(bo1);
	}
	if (!broken)
		printf("%s: OK: the other device's buffer survived\n", name);
	close(dmabuf);
	gbm_device_destroy(dev2);
	gbm_device_destroy(dev1);
	return broken;
}

int main(void)
{
	int fds0 = test_fd_count();
	int fd, fd2, broken = 0;

	kt_banner("mesa-gbm-two-devices");
	/* kms_swrast needs dumb buffers: virtio_gpu's primary node. */
	fd = kt_open_driver("virtio_gpu", KT_PRIMARY);
	broken |= run_case("same fd", fd, fd);
	fd2 = CHECK_SYS(fcntl(fd, F_DUPFD_CLOEXEC, 0));
	broken |= run_case("dup fd", fd, fd2);
	broken |= run_dumb_case("cursor, import destroyed first", fd, fd2, false);
	broken |= run_dumb_case("cursor, dumb buffer destroyed first", fd, fd2,
				true);
	close(fd2);
	close(fd);
	CHECK_INT(test_fd_count(), ==, fds0);
	if (broken) {
		printf("RESULT: BROKEN (the second gbm device destroyed the first's buffer)\n");
		return 3;
	}
	printf("RESULT: OK\n");
	return 0;
}
